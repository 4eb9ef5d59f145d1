/* test-ssh-session.c - the SSH layer against real sshd hosts from the rig.
 *
 * Starts its own rig host (ss<pid>, rig.h) and stops it at exit, also when a
 * test fails; fails, not skips, when sshd cannot be started. An ssh-agent
 * started here is killed by its recorded pid.
 */
#include "test.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include "clock.h"
#include "rig.h"

static pid_t agent_pid;

static void
kill_agent(void)
{
	if (agent_pid > 0)
		kill(agent_pid, SIGTERM);
}

/* Read a file into a new string, or NULL (works for /proc files too). */
static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *s = NULL;
	size_t len = 0, cap = 0, n;

	if (f == NULL)
		return NULL;
	do {
		if (cap - len < 4096) {
			cap = cap * 2 + 8192;
			s = realloc(s, cap);
		}
		n = fread(s + len, 1, cap - len - 1, f);
		len += n;
	} while (n > 0);
	s[len] = '\0';
	fclose(f);
	return s;
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		TEST_FAIL("cannot write %s", path);
	fputs(text, f);
	fclose(f);
}

static int
host_port(void)
{
	char path[600], *s;
	int port;

	snprintf(path, sizeof path, "%s/port", rig.host_dir);
	s = slurp(path);
	port = s != NULL ? atoi(s) : 0;
	free(s);
	return port;
}

/* Connect expecting failure; returns the message (caller frees). */
static char *
connect_fails(const struct ssh_target_opts *o)
{
	struct rdev_ssh *s;
	char *cause = NULL;

	s = rdev_ssh_connect(o, &cause);
	if (s != NULL) {
		rdev_ssh_free(s);
		TEST_FAIL("connect succeeded, want a failure");
	}
	ASSERT_NOT_NULL(cause);
	return cause;
}

/* Run argv; returns the exit status, output in *out (caller frees). */
static int
run(struct rdev_ssh *s, const char *const *argv, const void *in, size_t in_len,
    char **out, size_t *out_len)
{
	char *cause = NULL, *err = NULL;
	int status = -1;

	if (rdev_ssh_run(s, argv, in, in_len, out, out_len, &err, &status, &cause) != 0)
		TEST_FAIL("run %s failed: %s", argv[0], cause);
	free(err);
	return status;
}

/* The SHA256 fingerprint of the host's key, as ssh-keygen -l prints it. */
static char *
host_fingerprint(void)
{
	char *line, *sp, *fp;

	line = rig_sh_out("ssh-keygen -lf %s/ssh_host_ed25519_key.pub", rig.host_dir);
	if ((sp = strchr(line, ' ')) == NULL || strchr(sp + 1, ' ') == NULL)
		TEST_FAIL("ssh-keygen -l failed");
	sp++;
	*strchr(sp, ' ') = '\0';
	fp = strdup(sp);
	free(line);
	return fp;
}

TEST(connect_with_rig_config_and_run)
{
	struct ssh_target_opts o;
	struct rdev_ssh *s;
	const char *id[] = { "id", "-un", NULL };
	const char *pr[] = { "printf", "%s|", "a b", "it's", "$HOME", "`x`", NULL };
	char want[4096], label[512], *out = NULL;
	size_t n = 0;

	rig_host_start("ss");
	o = rig_ssh_opts();
	s = rig_connect(&o);
	snprintf(label, sizeof label, "rdev-%s@%s:%d", rig.host, rig.host, host_port());
	ASSERT_STR_EQ(rdev_ssh_host_label(s), label);
	rdev_ssh_notes(s, &n);
	ASSERT_INT_EQ(n, 0);
	ASSERT_INT_EQ(run(s, id, NULL, 0, &out, NULL), 0);
	snprintf(want, sizeof want, "rdev-%s\n", rig.host);
	ASSERT_STR_EQ(out, want);
	free(out);
	/* arguments reach the program exactly, whatever they contain */
	ASSERT_INT_EQ(run(s, pr, NULL, 0, &out, NULL), 0);
	ASSERT_STR_EQ(out, "a b|it's|$HOME|`x`|");
	free(out);
	rdev_ssh_free(s);
}

TEST(exit_status_and_signal)
{
	struct ssh_target_opts o;
	struct rdev_ssh *s;
	const char *e3[] = { "sh", "-c", "exit 3", NULL };
	const char *kill_self[] = { "sh", "-c", "kill -TERM $$", NULL };
	const char *err_argv[] = { "sh", "-c", "echo oops >&2; exit 1", NULL };
	char *out = NULL, *err = NULL, *cause = NULL;
	int status = -1;

	rig_host_start("ss");
	o = rig_ssh_opts();
	s = rig_connect(&o);
	ASSERT_INT_EQ(run(s, e3, NULL, 0, &out, NULL), 3);
	free(out);
	ASSERT_INT_EQ(run(s, kill_self, NULL, 0, &out, NULL), 128 + SIGTERM);
	free(out);
	ASSERT_INT_EQ(
	    rdev_ssh_run(s, err_argv, NULL, 0, &out, NULL, &err, &status, &cause), 0);
	ASSERT_INT_EQ(status, 1);
	ASSERT_STR_EQ(out, "");
	ASSERT_STR_EQ(err, "oops\n");
	free(out);
	free(err);
	rdev_ssh_free(s);
}

TEST(binary_stdin_round_trip)
{
	struct ssh_target_opts o;
	struct rdev_ssh *s;
	const char *cat[] = { "cat", NULL };
	size_t len = 1024 * 1024, i, got = 0;
	unsigned char *data = malloc(len);
	char *out = NULL;
	unsigned int x = 12345;

	for (i = 0; i < len; i++) {
		x = x * 1103515245 + 12345;
		data[i] = (unsigned char)(x >> 16);
	}
	data[0] = 0;
	rig_host_start("ss");
	o = rig_ssh_opts();
	s = rig_connect(&o);
	ASSERT_INT_EQ(run(s, cat, data, len, &out, &got), 0);
	ASSERT_INT_EQ(got, len);
	ASSERT_MEM_EQ(out, data, len);
	free(out);
	free(data);
	rdev_ssh_free(s);
}

TEST(unknown_host_refused_then_accepted)
{
	struct ssh_target_opts o;
	struct rdev_ssh *s;
	char kh[512], *msg, *fp, *text, *pub, want[4096];

	rig_host_start("ss");
	snprintf(kh, sizeof kh, "%s/known_hosts_empty", rig.tmp);
	write_file(kh, "");
	o = rig_ssh_opts();
	o.known_hosts_file = kh;
	fp = host_fingerprint();
	msg = connect_fails(&o);
	snprintf(want, sizeof want,
	    "host %s (127.0.0.1:%d): unknown host key, "
	    "ED25519 fingerprint %s;",
	    rig.host, host_port(), fp);
	ASSERT_STR_CONTAINS(msg, want);
	ASSERT_STR_CONTAINS(msg, "run again with --accept-new-host-key");
	ASSERT_STR_CONTAINS(msg, kh);
	free(msg);
	text = slurp(kh);
	ASSERT_STR_EQ(text, "");
	free(text);

	o.accept_new_host_key = 1;
	s = rig_connect(&o);
	rdev_ssh_free(s);
	text = slurp(kh);
	snprintf(want, sizeof want, "%s/ssh_host_ed25519_key.pub", rig.host_dir);
	pub = slurp(want);
	*strrchr(pub, ' ') = '\0'; /* drop the comment */
	ASSERT_STR_CONTAINS(text, pub);
	snprintf(want, sizeof want, "[127.0.0.1]:%d ssh-ed25519 ", host_port());
	ASSERT_STR_CONTAINS(text, want);
	free(text);
	free(pub);

	o.accept_new_host_key = 0;
	s = rig_connect(&o);
	rdev_ssh_free(s);
	free(fp);
}

TEST(changed_host_key_always_refused)
{
	struct ssh_target_opts o;
	char kh[512], key[512], cmd[4096], line[4096], *other, *msg, *fp, *before, *after;

	rig_host_start("ss");
	snprintf(key, sizeof key, "%s/other_key", rig.tmp);
	rig_sh("ssh-keygen -q -t ed25519 -N '' -f %s", key);
	snprintf(cmd, sizeof cmd, "%s.pub", key);
	other = slurp(cmd);
	ASSERT_NOT_NULL(other);
	*strrchr(other, ' ') = '\0';
	snprintf(kh, sizeof kh, "%s/known_hosts_changed", rig.tmp);
	snprintf(line, sizeof line, "# comment\n[127.0.0.1]:%d %s\n", host_port(), other);
	write_file(kh, line);
	free(other);

	o = rig_ssh_opts();
	o.known_hosts_file = kh;
	o.accept_new_host_key = 1; /* never overrides a changed key */
	fp = host_fingerprint();
	msg = connect_fails(&o);
	ASSERT_STR_CONTAINS(msg, "WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!");
	ASSERT_STR_CONTAINS(msg, fp);
	snprintf(cmd, sizeof cmd, "Offending ED25519 key in %s:2", kh);
	ASSERT_STR_CONTAINS(msg, cmd);
	snprintf(
	    cmd, sizeof cmd, "ssh-keygen -f '%s' -R '[127.0.0.1]:%d'", kh, host_port());
	ASSERT_STR_CONTAINS(msg, cmd);
	free(msg);
	before = strdup(line);
	after = slurp(kh);
	ASSERT_STR_EQ(after, before);
	free(before);
	free(after);
	free(fp);
}

TEST(wrong_identity_names_methods)
{
	struct ssh_target_opts o;
	char key[512], cfg[512], text[4096], want[4096], *msg;

	rig_host_start("ss");
	snprintf(key, sizeof key, "%s/wrong_key", rig.tmp);
	rig_sh("rm -f %s %s.pub; ssh-keygen -q -t ed25519 -N '' -f %s", key, key, key);
	snprintf(cfg, sizeof cfg, "%s/wrong_config", rig.tmp);
	snprintf(text, sizeof text,
	    "Host %s\n  HostName 127.0.0.1\n  Port %d\n"
	    "  User rdev-%s\n  IdentityFile %s\n  IdentityFile %s/missing_key\n"
	    "  IdentitiesOnly yes\n  UserKnownHostsFile %s/known_hosts\n"
	    "  ForwardAgent yes\n",
	    rig.host, host_port(), rig.host, key, rig.tmp, rig.host_dir);
	write_file(cfg, text);
	o = rig_ssh_opts();
	o.ssh_config_file = cfg;
	msg = connect_fails(&o);
	snprintf(want, sizeof want, "authentication failed as user rdev-%s", rig.host);
	ASSERT_STR_CONTAINS(msg, want);
	ASSERT_STR_CONTAINS(msg,
	    "tried: publickey (agent: not used "
	    "(IdentitiesOnly yes); files: ");
	snprintf(want, sizeof want, "%s (not accepted), %s/missing_key (missing)", key,
	    rig.tmp);
	ASSERT_STR_CONTAINS(msg, want);
	ASSERT_STR_CONTAINS(msg, "server allows: publickey");
	free(msg);
}

TEST(unsupported_options_are_reported)
{
	struct ssh_target_opts o;
	struct rdev_ssh *s;
	const char *const *notes;
	char cfg[512], text[4096], want[4096];
	size_t n;

	rig_host_start("ss");
	snprintf(cfg, sizeof cfg, "%s/notes_config", rig.tmp);
	snprintf(text, sizeof text,
	    "Host %s\n  HostName 127.0.0.1\n  Port %d\n"
	    "  User rdev-%s\n  IdentityFile %s/run/keys/id_ed25519\n"
	    "  UserKnownHostsFile %s/known_hosts\n  ForwardAgent yes\n"
	    "  StrictHostKeyChecking no\n  SendEnv LANG\nHost other\n"
	    "  CertificateFile /x\n",
	    rig.host, host_port(), rig.host, rig.dir, rig.host_dir);
	write_file(cfg, text);
	o = rig_ssh_opts();
	o.ssh_config_file = cfg;
	s = rig_connect(&o);
	notes = rdev_ssh_notes(s, &n);
	ASSERT_INT_EQ(n, 2);
	snprintf(want, sizeof want, "%s:7: ForwardAgent is not supported", cfg);
	ASSERT_STR_CONTAINS(notes[0], want);
	ASSERT_STR_CONTAINS(notes[1], "StrictHostKeyChecking no is not honoured");
	rdev_ssh_free(s);
}

TEST(connection_refused_is_clear)
{
	struct ssh_target_opts o;
	struct sockaddr_in sin;
	socklen_t slen = sizeof sin;
	char want[4096], *msg;
	int fd, port;

	/* a port held, without a listener, until the connect is done (closed
	 * at once, another program could take it meanwhile, or the connect
	 * pick it as its own local port and reach itself) */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ASSERT_INT_EQ(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	ASSERT_INT_EQ(getsockname(fd, (struct sockaddr *)&sin, &slen), 0);
	port = ntohs(sin.sin_port);

	memset(&o, 0, sizeof o);
	o.host = "127.0.0.1";
	o.port = port;
	o.ssh_config_file = "/dev/null";
	o.known_hosts_file = "/dev/null";
	o.batch = 1;
	msg = connect_fails(&o);
	close(fd);
	snprintf(want, sizeof want,
	    "host 127.0.0.1 (127.0.0.1:%d): cannot "
	    "connect: ",
	    port);
	ASSERT_STR_CONTAINS(msg, want);
	ASSERT_STR_CONTAINS(msg, "Connection refused");
	free(msg);
}

/* The parent of pid, from /proc/PID/stat; 0 if unknown. */
static pid_t
parent_of(pid_t pid)
{
	char path[64], *s, *p;
	long ppid = 0;

	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if ((s = slurp(path)) == NULL)
		return 0;
	/* "pid (comm) state ppid ..." and comm may hold spaces */
	if ((p = strrchr(s, ')')) != NULL)
		sscanf(p + 1, " %*c %ld", &ppid);
	free(s);
	return (pid_t)ppid;
}

/* The pids of the sshd processes below the listener (the sessions'). */
static int
session_pids(pid_t *pids, int max)
{
	char path[600], *s;
	struct dirent *de;
	pid_t listener, pid, pp;
	DIR *d;
	int n = 0, i, changed = 1;

	snprintf(path, sizeof path, "%s/sshd.pid", rig.host_dir);
	if ((s = slurp(path)) == NULL)
		return 0;
	listener = (pid_t)atol(s);
	free(s);
	while (changed) {
		changed = 0;
		if ((d = opendir("/proc")) == NULL)
			return n;
		while ((de = readdir(d)) != NULL && n < max) {
			pid = (pid_t)atol(de->d_name);
			if (pid <= 0)
				continue;
			for (i = 0; i < n && pids[i] != pid; i++)
				;
			if (i < n)
				continue;
			pp = parent_of(pid);
			for (i = 0; i < n && pids[i] != pp; i++)
				;
			if (pp == listener || (pp != 0 && i < n)) {
				pids[n++] = pid;
				changed = 1;
			}
		}
		closedir(d);
	}
	return n;
}

/* rdev_ssh_keepalive_step until the answer (the broker steps it in its
 * loop): 0 if the peer answered, -1 with *cause if it did not. */
static int
keepalive_until_answer(struct rdev_ssh *s, char **cause)
{
	struct pollfd pfd;
	int rc;

	while ((rc = rdev_ssh_keepalive_step(s, clock_now_ms(), cause)) == 0) {
		pfd = (struct pollfd){ .fd = ssh_get_fd(rdev_ssh_session(s)),
			.events = POLLIN };
		poll(&pfd, 1, 50);
	}
	return rc > 0 ? 0 : -1;
}

TEST(keepalive_detects_a_hung_peer)
{
	struct ssh_target_opts o;
	struct rdev_ssh *s;
	char *cause = NULL;
	pid_t pids[32];
	socklen_t len = sizeof(int);
	long long t0, waited;
	struct pollfd pfd;
	int idle = 0, n, i, k, rc, pending, attempt;

	rig_host_start("ss");
	o = rig_ssh_opts();
	o.keepalive_interval_s = 1;
	s = rig_connect(&o);
	ASSERT_INT_EQ(rdev_ssh_keepalive_interval(s), 1);
	ASSERT_INT_EQ(getsockopt(ssh_get_fd(rdev_ssh_session(s)), IPPROTO_TCP,
			  TCP_KEEPIDLE, &idle, &len),
	    0);
	ASSERT_INT_EQ(idle, 1);
	ASSERT_INT_EQ(keepalive_until_answer(s, &cause), 0);

	n = session_pids(pids, 32);
	ASSERT_TRUE(n > 0);
	/*
	 * Freeze this session's sshd processes: the peer stops answering. The
	 * keepalive is sent without waiting for the answer: the session's
	 * other channels go on meanwhile (a wait held them for a round trip;
	 * here, the peer frozen, it would last until the timeout, 2 s). The
	 * step's time is the best of up to three rounds, each answered once
	 * the peer thaws, so that a loaded machine that stalled this process
	 * in one of them does not fail it, while a step that waited would
	 * wait in each.
	 */
	for (attempt = 1;; attempt++) {
		for (i = 0; i < n; i++)
			kill(pids[i], SIGSTOP);
		t0 = clock_now_ms();
		rc = rdev_ssh_keepalive_step(s, t0, &cause);
		waited = clock_now_ms() - t0;
		pending = rdev_ssh_keepalive_pending(s);
		if (waited < 500 || attempt == 3 || rc != 0)
			break;
		for (i = 0; i < n; i++)
			kill(pids[i], SIGCONT);
		fprintf(stderr, "  (the keepalive's step took %lld ms: again)\n", waited);
		/* The peer thawed answers; stepped at t0, so that a stall of
		 * this process past the deadline does not count as its silence. */
		for (k = 0; (rc = rdev_ssh_keepalive_step(s, t0, &cause)) == 0 && k < 200;
		     k++) {
			pfd = (struct pollfd){ .fd = ssh_get_fd(rdev_ssh_session(s)),
				.events = POLLIN };
			poll(&pfd, 1, 50);
		}
		ASSERT_INT_EQ(rc, 1);
	}
	if (rc == 0)
		rc = keepalive_until_answer(s, &cause);
	for (i = 0; i < n; i++)
		kill(pids[i], SIGCONT);
	ASSERT_TRUE(waited < 500); /* (the wait would be 2 s) */
	ASSERT_TRUE(pending);
	ASSERT_INT_EQ(rc, -1);
	ASSERT_STR_CONTAINS(cause, "no answer to keepalive");
	free(cause);
	rdev_ssh_free(s);
}

TEST(agent_authentication)
{
	struct ssh_target_opts o;
	struct rdev_ssh *s;
	const char *id[] = { "id", "-un", NULL };
	char sock[512], cfg[512], text[4096], cmd[4096], *out = NULL, *p;
	FILE *f;

	rig_host_start("ss");
	rig.at_exit = kill_agent;
	snprintf(sock, sizeof sock, "%s/agent.sock", rig.tmp);
	snprintf(cmd, sizeof cmd, "ssh-agent -s -a %s", sock);
	if ((f = popen(cmd, "r")) == NULL)
		TEST_FAIL("cannot run ssh-agent");
	while (fgets(text, sizeof text, f) != NULL) {
		if ((p = strstr(text, "SSH_AGENT_PID=")) != NULL)
			agent_pid = (pid_t)atol(p + 14);
	}
	ASSERT_INT_EQ(pclose(f), 0);
	ASSERT_TRUE(agent_pid > 0);
	rig_sh("SSH_AUTH_SOCK=%s ssh-add -q %s/run/keys/id_ed25519", sock, rig.dir);

	snprintf(cfg, sizeof cfg, "%s/agent_config", rig.tmp);
	snprintf(text, sizeof text,
	    "Host %s\n  HostName 127.0.0.1\n  Port %d\n"
	    "  User rdev-%s\n  IdentityFile %s/no_such_key\n"
	    "  UserKnownHostsFile %s/known_hosts\n",
	    rig.host, host_port(), rig.host, rig.tmp, rig.host_dir);
	write_file(cfg, text);
	o = rig_ssh_opts();
	o.ssh_config_file = cfg;

	setenv("SSH_AUTH_SOCK", sock, 1);
	s = rdev_ssh_connect(&o, &p);
	unsetenv("SSH_AUTH_SOCK");
	if (s == NULL)
		TEST_FAIL("agent connect failed: %s", p);
	ASSERT_INT_EQ(run(s, id, NULL, 0, &out, NULL), 0);
	snprintf(text, sizeof text, "rdev-%s\n", rig.host);
	ASSERT_STR_EQ(out, text);
	free(out);
	rdev_ssh_free(s);

	/* the same without the agent fails, and says why */
	p = connect_fails(&o);
	ASSERT_STR_CONTAINS(p, "agent: none (SSH_AUTH_SOCK unset)");
	ASSERT_STR_CONTAINS(p, "no_such_key (missing)");
	free(p);
}
