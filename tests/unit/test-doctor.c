/* test-doctor.c - unit tests for client/doctor-judge.c and
 * client/doctor-report.c: facts into checks, their fixes, output and exit
 * codes. */
#include "test.h"

#include <stdlib.h>

#include "doctor.h"
#include "xmalloc.h"

/* The check named name in r, or a failed test. */
static const struct doctor_check *
find(const struct doctor_report *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (strcmp(r->checks[i].name, name) == 0)
			return &r->checks[i];
	TEST_FAIL("no check named %s", name);
	return NULL;
}

static cJSON *
parse(const char *text)
{
	cJSON *j = cJSON_Parse(text);

	ASSERT_NOT_NULL(j);
	return j;
}

TEST(refused_port_fails_with_the_port_in_the_fix)
{
	struct doctor_report r;
	cJSON *p =
	    parse("{\"reached\":\"connect\",\"hostname\":\"10.0.0.5\",\"port\":2222,"
		  "\"errorKind\":\"refused\",\"error\":\"host b (10.0.0.5:2222): cannot "
		  "connect: Connection "
		  "refused\"}");

	doctor_report_init(&r);
	ASSERT_INT_EQ(doctor_judge_probe(&r, "b", p), 0);
	ASSERT_INT_EQ(r.n, 1);
	ASSERT_INT_EQ(find(&r, "ssh")->status, DOCTOR_FAIL);
	ASSERT_STR_CONTAINS(
	    find(&r, "ssh")->detail, "TCP: connection to 10.0.0.5 port 2222 refused");
	ASSERT_STR_CONTAINS(find(&r, "ssh")->fix, "listening on port 2222");
	ASSERT_INT_EQ(doctor_report_exit(&r), DOCTOR_EXIT_FAIL);
	doctor_report_clear(&r);
	cJSON_Delete(p);
}

TEST(unresolved_name_is_dns)
{
	struct doctor_report r;
	cJSON *p = parse("{\"reached\":\"connect\",\"hostname\":\"nosuch\",\"port\":22,"
			 "\"errorKind\":\"dns\",\"error\":\"Failed to resolve hostname "
			 "nosuch (Name or service not known)\"}");

	doctor_report_init(&r);
	doctor_judge_probe(&r, "nosuch", p);
	ASSERT_STR_CONTAINS(find(&r, "ssh")->detail, "DNS: cannot resolve nosuch");
	doctor_report_clear(&r);
	cJSON_Delete(p);
}

/* The kind the broker recorded decides, not the message's words. */
TEST(connect_failure_judged_by_its_kind)
{
	struct doctor_report r;
	cJSON *p = parse("{\"reached\":\"connect\",\"hostname\":\"h\",\"port\":22,"
			 "\"errorKind\":\"timeout\",\"error\":\"refused? no\"}");

	doctor_report_init(&r);
	doctor_judge_probe(&r, "h", p);
	ASSERT_STR_CONTAINS(find(&r, "ssh")->detail, "TCP: no answer from h port 22");
	doctor_report_clear(&r);
	cJSON_Delete(p);
	p = parse("{\"reached\":\"connect\",\"hostname\":\"h\",\"port\":22,"
		  "\"errorKind\":\"refused\",\"error\":\"Timeout? no\"}");
	doctor_report_init(&r);
	doctor_judge_probe(&r, "h", p);
	ASSERT_STR_CONTAINS(find(&r, "ssh")->detail, "port 22 refused");
	doctor_report_clear(&r);
	cJSON_Delete(p);
}

/* A TCP port that answers and an sshd that does not (stopped, hung): no SSH
 * handshake, not "no answer" and a firewall; the bound named. */
TEST(handshake_timeout_is_not_a_tcp_timeout)
{
	struct doctor_report r;
	cJSON *p = parse("{\"reached\":\"connect\",\"hostname\":\"h\",\"port\":22,"
			 "\"connectTimeoutS\":10,\"errorKind\":\"handshake-timeout\","
			 "\"error\":\"no SSH banner\"}");

	doctor_report_init(&r);
	doctor_judge_probe(&r, "h", p);
	ASSERT_STR_CONTAINS(find(&r, "ssh")->detail,
	    "no SSH handshake: h port 22 accepted the TCP connection but did not "
	    "speak SSH within 10 s (rdev doctor's connect timeout)");
	ASSERT_STR_CONTAINS(find(&r, "ssh")->fix, "sshd on h hung");
	ASSERT_TRUE(strstr(find(&r, "ssh")->fix, "firewall") == NULL);
	doctor_report_clear(&r);
	cJSON_Delete(p);
}

/* The same through a ProxyCommand/ProxyJump: no TCP connect was ours, so
 * not "accepted the TCP connection": the proxy connected, SSH did not come. */
TEST(handshake_timeout_through_a_proxy)
{
	struct doctor_report r;
	cJSON *p =
	    parse("{\"reached\":\"connect\",\"hostname\":\"h\",\"port\":22,"
		  "\"proxied\":true,\"connectTimeoutS\":10,"
		  "\"errorKind\":\"handshake-timeout\",\"error\":\"no SSH banner\"}");

	doctor_report_init(&r);
	doctor_judge_probe(&r, "b", p);
	ASSERT_STR_CONTAINS(find(&r, "ssh")->detail,
	    "no SSH handshake: the proxy command for b ran, but no SSH from h "
	    "port 22 came through it within 10 s");
	ASSERT_TRUE(strstr(find(&r, "ssh")->detail, "TCP") == NULL);
	ASSERT_STR_CONTAINS(find(&r, "ssh")->fix, "ProxyCommand or ProxyJump");
	doctor_report_clear(&r);
	cJSON_Delete(p);
}

TEST(changed_host_key_names_file_and_removal)
{
	struct doctor_report r;
	cJSON *p =
	    parse("{\"reached\":\"hostkey\",\"hostname\":\"127.0.0.1\",\"port\":2022,"
		  "\"banner\":\"SSH-2.0-x\",\"connectMs\":3,\"hostKey\":\"changed\","
		  "\"hostKeyFile\":\"/home/u/.ssh/known_hosts:7\","
		  "\"fingerprint\":\"ED25519 SHA256:abc\",\"error\":\"x\"}");

	doctor_report_init(&r);
	ASSERT_INT_EQ(doctor_judge_probe(&r, "b", p), 0);
	ASSERT_INT_EQ(find(&r, "ssh")->status, DOCTOR_OK);
	ASSERT_INT_EQ(find(&r, "host key")->status, DOCTOR_FAIL);
	ASSERT_STR_CONTAINS(find(&r, "host key")->detail, "CHANGED");
	ASSERT_STR_CONTAINS(find(&r, "host key")->detail, "/home/u/.ssh/known_hosts:7");
	ASSERT_STR_CONTAINS(find(&r, "host key")->fix,
	    "ssh-keygen -f /home/u/.ssh/known_hosts -R '[127.0.0.1]:2022'");
	doctor_report_clear(&r);
	cJSON_Delete(p);
}

/* A fix is a command to paste: words with a space or a quote come quoted
 * for a shell, as `rdev up`'s hints do (SHELL_QUOTE_HINT). */
TEST(fix_commands_quote_paths_and_names)
{
	struct doctor_report r;
	cJSON *p =
	    parse("{\"reached\":\"hostkey\",\"hostname\":\"h\",\"port\":22,"
		  "\"banner\":\"SSH-2.0-x\",\"connectMs\":3,\"hostKey\":\"changed\","
		  "\"hostKeyFile\":\"/home/u v/it's known:7\","
		  "\"fingerprint\":\"f\",\"error\":\"x\"}");

	doctor_report_init(&r);
	ASSERT_INT_EQ(doctor_judge_probe(&r, "my box", p), 0);
	ASSERT_STR_CONTAINS(find(&r, "host key")->fix,
	    "ssh-keygen -f '/home/u v/it'\\''s known' -R h, then rdev doctor "
	    "'my box' --accept-new-host-key");
	doctor_report_clear(&r);
	cJSON_Delete(p);
	p = parse("{\"reached\":\"hostkey\",\"hostname\":\"h\",\"port\":22,"
		  "\"banner\":\"SSH-2.0-x\",\"connectMs\":3,\"hostKey\":\"unknown\","
		  "\"hostKeyFile\":\"/k:1\",\"fingerprint\":\"f\",\"error\":\"x\"}");
	doctor_report_init(&r);
	doctor_judge_probe(&r, "~me/x y", p);
	ASSERT_STR_CONTAINS(
	    find(&r, "host key")->fix, "rdev doctor '~me/x y' --accept-new-host-key");
	doctor_report_clear(&r);
	cJSON_Delete(p);
	p = parse("{\"reached\":\"connect\",\"hostname\":\"a b\",\"port\":22,"
		  "\"errorKind\":\"timeout\",\"error\":\"x\"}");
	doctor_report_init(&r);
	doctor_judge_probe(&r, "c d", p);
	ASSERT_STR_CONTAINS(find(&r, "ssh")->fix, "nc -vz 'a b' 22");
	doctor_report_clear(&r);
	cJSON_Delete(p);
}

TEST(locked_down_probe_warns_with_fixes)
{
	struct doctor_report r;
	cJSON *p =
	    parse("{\"reached\":\"done\",\"hostname\":\"h\",\"port\":22,\"user\":\"u\","
		  "\"banner\":\"SSH-2.0-x\",\"connectMs\":3,\"hostKey\":\"known\","
		  "\"hostKeyFile\":\"k:1\",\"fingerprint\":\"f\",\"auth\":\"none\","
		  "\"authMs\":1,\"shellMs\":1900,\"agentsInstalled\":[],"
		  "\"sftp\":\"missing\",\"tcpForwarding\":\"denied\"}");

	doctor_report_init(&r);
	ASSERT_INT_EQ(doctor_judge_probe(&r, "h", p), 1);
	ASSERT_INT_EQ(find(&r, "sftp")->status, DOCTOR_WARN);
	ASSERT_STR_CONTAINS(find(&r, "sftp")->fix, "Subsystem sftp");
	ASSERT_INT_EQ(find(&r, "tcp forwarding")->status, DOCTOR_WARN);
	ASSERT_STR_CONTAINS(find(&r, "tcp forwarding")->fix, "AllowTcpForwarding");
	ASSERT_INT_EQ(find(&r, "login shell")->status, DOCTOR_WARN);
	ASSERT_STR_CONTAINS(find(&r, "login shell")->detail, "1900 ms");
	ASSERT_INT_EQ(doctor_report_exit(&r), DOCTOR_EXIT_WARN);
	doctor_report_clear(&r);
	cJSON_Delete(p);
}

TEST(docker_permission_names_the_user)
{
	struct doctor_report r;
	cJSON *i =
	    parse("{\"software\":\"rdev-agent 9.9\",\"user\":\"bob\",\"time\":100000,"
		  "\"dockerError\":\"permission denied on /var/run/docker.sock (is "
		  "the user in group docker?)\",\"dockerProblem\":\"permission\","
		  "\"workspaceRoot\":\"/w\",\"actual\":{\"storage\":2147483648}}");

	doctor_report_init(&r);
	cJSON *before = parse("[\"9.8-aa\",\"9.9-bb\"]");

	doctor_judge_info(&r, "b", i, 90000, "9.9", before);
	ASSERT_INT_EQ(find(&r, "docker")->status, DOCTOR_FAIL);
	ASSERT_STR_CONTAINS(find(&r, "docker")->fix, "sudo usermod -aG docker bob");
	ASSERT_INT_EQ(find(&r, "agent version")->status, DOCTOR_OK);
	ASSERT_STR_CONTAINS(
	    find(&r, "agent version")->detail, "(installed before: 9.8-aa, 9.9-bb)");
	ASSERT_INT_EQ(find(&r, "disk (workspaces)")->status, DOCTOR_WARN);
	ASSERT_STR_CONTAINS(
	    find(&r, "disk (workspaces)")->detail, "2.0 GiB free under /w");
	ASSERT_INT_EQ(find(&r, "clock")->status, DOCTOR_WARN);
	ASSERT_STR_CONTAINS(find(&r, "clock")->detail, "10.0 s ahead of");
	doctor_report_clear(&r);
	cJSON_Delete(before);
	cJSON_Delete(i);
}

TEST(json_and_text_output)
{
	struct doctor_report r;
	cJSON *o;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	doctor_report_init(&r);
	doctor_add(&r, "a", DOCTOR_OK, "never shown", "fine %d", 1);
	doctor_add(&r, "bb", DOCTOR_WARN, "do this", "odd");
	ASSERT_INT_EQ(doctor_report_exit(&r), DOCTOR_EXIT_WARN);
	doctor_report_print(&r, f);
	fclose(f);
	ASSERT_STR_EQ(text, "ok    a   fine 1\nwarn  bb  odd; fix: do this\n");
	o = doctor_report_json(&r, "h");
	ASSERT_STR_EQ(cJSON_GetStringValue(cJSON_GetObjectItem(o, "status")), "warn");
	ASSERT_TRUE(cJSON_IsNull(cJSON_GetObjectItem(
	    cJSON_GetArrayItem(cJSON_GetObjectItem(o, "checks"), 0), "fix")));
	ASSERT_STR_EQ(
	    cJSON_GetStringValue(cJSON_GetObjectItem(
		cJSON_GetArrayItem(cJSON_GetObjectItem(o, "checks"), 1), "fix")),
	    "do this");
	cJSON_Delete(o);
	free(text);
	doctor_report_clear(&r);
}

TEST(docker_down_and_version_mismatch)
{
	struct doctor_report r;
	cJSON *i =
	    parse("{\"software\":\"rdev-agent 0.0.9\",\"user\":\"bob\",\"time\":100000,"
		  "\"dockerError\":\"cannot connect to Docker: /var/run/docker.sock "
		  "does not exist (is the Docker daemon running?)\","
		  "\"dockerProblem\":\"down\",\"workspaceRoot\":\"/w\","
		  "\"actual\":{\"storage\":1e12}}");

	doctor_report_init(&r);
	doctor_judge_info(&r, "b", i, 100500, "0.1.0", NULL);
	ASSERT_INT_EQ(find(&r, "docker")->status, DOCTOR_FAIL);
	ASSERT_STR_CONTAINS(find(&r, "docker")->fix, "start Docker on b");
	ASSERT_INT_EQ(find(&r, "agent version")->status, DOCTOR_WARN);
	ASSERT_STR_CONTAINS(find(&r, "agent version")->detail, "but this rdev is 0.1.0");
	ASSERT_INT_EQ(find(&r, "disk (workspaces)")->status, DOCTOR_OK);
	ASSERT_INT_EQ(find(&r, "clock")->status, DOCTOR_OK);
	doctor_report_clear(&r);
	cJSON_Delete(i);
}

/* The agent's DOCKER_HOST named, not assumed the mistake: the socket
 * tried is its (rootless Docker's, perhaps: how to start that too). */
TEST(docker_host_set)
{
	struct doctor_report r;
	cJSON *i =
	    parse("{\"software\":\"rdev-agent 0.1.0\",\"user\":\"bob\",\"time\":100000,"
		  "\"dockerError\":\"cannot connect to Docker: /tmp/x.sock does not "
		  "exist (is the Docker daemon running?)\",\"dockerProblem\":\"down\","
		  "\"dockerHost\":\"unix:///tmp/x.sock\",\"workspaceRoot\":\"/w\","
		  "\"actual\":{\"storage\":1e12}}");

	doctor_report_init(&r);
	doctor_judge_info(&r, "b", i, 100500, "0.1.0", NULL);
	ASSERT_INT_EQ(find(&r, "docker")->status, DOCTOR_FAIL);
	ASSERT_STR_CONTAINS(find(&r, "docker")->fix,
	    "the socket tried is DOCKER_HOST's, unix:///tmp/x.sock, set for bob on b");
	ASSERT_STR_CONTAINS(find(&r, "docker")->fix,
	    "if that is rootless Docker, start it (systemctl --user start docker; "
	    "and loginctl enable-linger bob");
	ASSERT_STR_CONTAINS(find(&r, "docker")->fix, "else unset it or point it");
	doctor_report_clear(&r);
	cJSON_Delete(i);
}

/* Another kind of failure with DOCKER_HOST set stays what it is (a
 * timeout, an API error): not blamed on DOCKER_HOST, which is named. */
TEST(docker_host_set_other_problem)
{
	struct doctor_report r;
	cJSON *i = parse(
	    "{\"software\":\"rdev-agent 0.1.0\",\"user\":\"bob\",\"time\":100000,"
	    "\"dockerError\":\"Docker did not answer within 3000 ms\","
	    "\"dockerProblem\":\"other\",\"dockerHost\":\"unix:///run/user/1000/"
	    "docker.sock\",\"workspaceRoot\":\"/w\",\"actual\":{\"storage\":1e12}}");
	const char *fix;

	doctor_report_init(&r);
	doctor_judge_info(&r, "b", i, 100500, "0.1.0", NULL);
	ASSERT_INT_EQ(find(&r, "docker")->status, DOCTOR_FAIL);
	fix = find(&r, "docker")->fix;
	ASSERT_STR_CONTAINS(fix, "check Docker on b as bob (docker info)");
	ASSERT_STR_CONTAINS(
	    fix, "DOCKER_HOST is set there: unix:///run/user/1000/docker.sock");
	ASSERT_TRUE(strstr(fix, "unset it") == NULL);
	doctor_report_clear(&r);
	cJSON_Delete(i);
}

TEST(session_over_the_agent_stream)
{
	struct doctor_report r;
	cJSON *s =
	    parse("{\"host\":\"u@h:22\",\"state\":\"connected\",\"agent\":{\"pid\":42,"
		  "\"state\":\"listening\",\"transport\":\"session\"},"
		  "\"forwarding\":{\"tcp\":\"denied\",\"streamlocal\":\"denied\"}}");

	doctor_report_init(&r);
	doctor_judge_session(&r, s);
	ASSERT_INT_EQ(find(&r, "agent")->status, DOCTOR_OK);
	ASSERT_STR_CONTAINS(find(&r, "agent")->detail, "pid 42");
	ASSERT_STR_CONTAINS(
	    find(&r, "agent")->detail, "over streams of its session channel");
	ASSERT_INT_EQ(find(&r, "stream-local forwarding")->status, DOCTOR_WARN);
	ASSERT_STR_CONTAINS(
	    find(&r, "stream-local forwarding")->fix, "AllowStreamLocalForwarding");
	doctor_report_clear(&r);
	cJSON_Delete(s);
}

TEST(system_ssh_config_notes_are_info_not_a_warning)
{
	struct doctor_report r;
	cJSON *p =
	    parse("{\"reached\":\"done\",\"hostname\":\"h\",\"port\":22,\"user\":\"u\","
		  "\"banner\":\"SSH-2.0-x\",\"connectMs\":3,\"hostKey\":\"known\","
		  "\"hostKeyFile\":\"k:1\",\"fingerprint\":\"f\",\"auth\":\"none\","
		  "\"authMs\":1,\"shellMs\":10,\"agentsInstalled\":[],"
		  "\"sftp\":\"available\",\"tcpForwarding\":\"allowed\","
		  "\"sshConfigSystemNotes\":[\"/etc/ssh/ssh_config:3: X is not "
		  "supported by rdev (libssh 0.10) and is ignored\"]}");
	cJSON *j;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	doctor_report_init(&r);
	doctor_judge_probe(&r, "h", p);
	ASSERT_INT_EQ(find(&r, "ssh config")->status, DOCTOR_INFO);
	ASSERT_STR_CONTAINS(find(&r, "ssh config")->detail, "/etc/ssh/ssh_config:3: X");
	ASSERT_INT_EQ(doctor_report_exit(&r), DOCTOR_EXIT_OK);
	f = open_memstream(&text, &len);
	doctor_report_print(&r, f);
	fclose(f);
	ASSERT_STR_CONTAINS(text, "info  ssh config");
	free(text);
	j = doctor_report_json(&r, "h");
	ASSERT_STR_EQ(cJSON_GetObjectItem(j, "status")->valuestring, "ok");
	cJSON_Delete(j);
	doctor_report_clear(&r);
	cJSON_Delete(p);
}

TEST(login_shell_files_by_shell_and_a_command_that_did_not_run)
{
	static const char *const head =
	    "{\"reached\":\"done\",\"hostname\":\"h\",\"port\":22,\"user\":\"u\","
	    "\"banner\":\"SSH-2.0-x\",\"connectMs\":3,\"hostKey\":\"known\","
	    "\"hostKeyFile\":\"k:1\",\"fingerprint\":\"f\",\"auth\":\"none\","
	    "\"authMs\":1,\"shellMs\":10,\"agentsInstalled\":[],";
	static const struct {
		const char *tail, *want;
	} cases[] = {
		{ "\"shell\":\"/bin/bash\",\"shellStdout\":\"hi\"}",
		    "~/.bashrc (or /etc/bash.bashrc) on h print to stdout" },
		{ "\"shell\":\"/usr/bin/zsh\",\"shellStdout\":\"hi\"}",
		    "~/.zshenv on h print to stdout" },
		{ "\"shell\":\"/bin/fish\",\"shellStdout\":\"hi\"}",
		    "the shell's startup files on h print to stdout" },
		{ "\"shellStdout\":\"hi\"}",
		    "the shell's startup files on h print to stdout" },
		{ "\"shellNotRun\":1}",
		    "the command did not run on h (exit 1): a forced command "
		    "(ForceCommand / authorized_keys command=) or a non-shell login "
		    "shell?" },
		/* nologin prints instead: shown, not blamed on the start-up
		 * files */
		{ "\"shell\":\"/bin/bash\",\"shellNotRun\":1,"
		  "\"shellNotRunStdout\":\"This account is currently not "
		  "available.\"}",
		    "the command did not run on h (exit 1; it printed \"This account "
		    "is currently not available.\" instead): a forced command" },
	};
	struct doctor_report r;
	char *text;
	cJSON *p;
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		text = xasprintf("%s%s", head, cases[i].tail);
		p = parse(text);
		doctor_report_init(&r);
		/* no agent checks after it: none could start */
		ASSERT_INT_EQ(doctor_judge_probe(&r, "h", p), 0);
		ASSERT_INT_EQ(find(&r, "login shell")->status, DOCTOR_FAIL);
		ASSERT_STR_CONTAINS(find(&r, "login shell")->detail, cases[i].want);
		doctor_report_clear(&r);
		cJSON_Delete(p);
		free(text);
	}
}
