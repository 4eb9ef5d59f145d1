/* test-ssh-config.c - unit tests for broker/ssh-config.c (pure parsing) */
#include "test.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ssh-config.h"
#include "xmalloc.h"

static const struct ssh_config_ctx ctx = { "buildbox", NULL, "me", "/home/me" };

/* Parse text for ctx into h, expecting success. */
static void
parse(struct ssh_config_host *h, const char *text, const struct ssh_config_ctx *c)
{
	char *cause = NULL;

	ssh_config_host_init(h);
	if (ssh_config_host_parse(h, text, "cfg", c, &cause) != 0)
		TEST_FAIL("parse failed: %s", cause);
}

TEST(first_value_wins_identity_files_accumulate)
{
	struct ssh_config_host h;

	parse(&h,
	    "Host buildbox\n"
	    "  IdentityFile ~/.ssh/a\n"
	    "  IdentitiesOnly=yes\n"
	    "  ServerAliveInterval 10\n"
	    "Host *\n"
	    "  IdentityFile \"%d/keys/%h_%r\"\n"
	    "  IdentityFile ~/.ssh/a\n"
	    "  IdentitiesOnly no\n"
	    "  ServerAliveInterval 99\n"
	    "  ServerAliveCountMax 5\n"
	    "  BatchMode yes\n",
	    &ctx);
	ASSERT_INT_EQ(h.n_identity_files, 2);
	ASSERT_STR_EQ(h.identity_files[0], "/home/me/.ssh/a");
	ASSERT_STR_EQ(h.identity_files[1], "/home/me/keys/buildbox_me");
	ASSERT_INT_EQ(h.identities_only, 1);
	ASSERT_INT_EQ(h.server_alive_interval, 10);
	ASSERT_INT_EQ(h.server_alive_count_max, 5);
	ASSERT_INT_EQ(h.batch_mode, 1);
	ASSERT_INT_EQ(h.n_notes, 0);
	ssh_config_host_clear(&h);
}

TEST(host_patterns_and_negation)
{
	struct ssh_config_host h;

	parse(&h,
	    "Host build* !buildbox\n  BatchMode yes\n"
	    "Host other\n  BatchMode yes\n"
	    "Host b?ildbox\n  ConnectTimeout 7\n",
	    &ctx);
	ASSERT_INT_EQ(h.batch_mode, 0);
	ASSERT_INT_EQ(h.connect_timeout, 7);
	ssh_config_host_clear(&h);
}

/* HostName, User, Port and the libssh options come from this parser alone,
 * with the same Host selection: `Host * !x3` does not apply to x3 (libssh
 * 0.10's parser applied it). */
TEST(destination_and_libssh_lines)
{
	const struct ssh_config_ctx x3 = { "x3", NULL, "me", "/home/me" };
	struct ssh_config_host h;

	parse(&h,
	    "Host * !x3\n  HostName a.example\n  Port 2201\n  User ua\n"
	    "  Ciphers aes128-ctr\n"
	    "Host x1 x3\n  HostName b.example\n  Port=2202\n  User ub\n"
	    "  ProxyJump jump:2222\n  Ciphers aes256-ctr\n"
	    "Host *\n  Port 22\n  ProxyCommand nc %h %p\n  MACs hmac-sha2-256\n",
	    &x3);
	ASSERT_STR_EQ(h.hostname, "b.example");
	ASSERT_STR_EQ(h.user, "ub");
	ASSERT_INT_EQ(h.port, 2202);
	ASSERT_STR_EQ(h.proxy, "ProxyJump jump:2222");
	ASSERT_INT_EQ(h.n_libssh_lines, 3);
	ASSERT_STR_EQ(h.libssh_lines[0], "ProxyJump jump:2222");
	ASSERT_STR_EQ(h.libssh_lines[1], "Ciphers aes256-ctr");
	ASSERT_STR_EQ(h.libssh_lines[2], "MACs hmac-sha2-256");
	ssh_config_host_clear(&h);
	parse(&h, "Host x1\n  Port 2\nHost *\n  Port 3\n", &x3);
	ASSERT_INT_EQ(h.port, 3);
	ASSERT_NULL(h.proxy);
	ssh_config_host_clear(&h);
}

TEST(match_criteria)
{
	struct ssh_config_host h;

	parse(&h,
	    "HostName 10.0.0.5\n"
	    "Match host 10.0.0.* user me\n  ConnectTimeout 3\n"
	    "Match originalhost buildbox !localuser root\n  BatchMode yes\n"
	    "Match exec \"true\"\n  IdentitiesOnly yes\n",
	    &ctx);
	ASSERT_STR_EQ(h.hostname, "10.0.0.5");
	ASSERT_INT_EQ(h.connect_timeout, 3);
	ASSERT_INT_EQ(h.batch_mode, 1);
	ASSERT_INT_EQ(h.identities_only, 0);
	ASSERT_INT_EQ(h.n_notes, 1);
	ASSERT_STR_CONTAINS(h.notes[0], "cfg:6: Match exec is not evaluated");
	ssh_config_host_clear(&h);
}

TEST(unsupported_options_give_notes_for_this_host_only)
{
	struct ssh_config_host h;

	parse(&h,
	    "# comment\n"
	    "Host buildbox\n"
	    "  ForwardAgent yes\n"
	    "  LocalForward 8080 localhost:80\n"
	    "  SendEnv LANG\n"
	    "  ControlMaster auto\n"
	    "  HostName x\n  Port 2\n  ProxyJump j\n"
	    "  StrictHostKeyChecking accept-new\n"
	    "  FrobnicateWidgets yes\n"
	    "  IdentityFile ~/.ssh/%C\n"
	    "Host elsewhere\n  CertificateFile /c\n",
	    &ctx);
	ASSERT_INT_EQ(h.n_notes, 5);
	ASSERT_STR_EQ(h.notes[0],
	    "cfg:3: ForwardAgent is not supported by rdev "
	    "(libssh 0.10) and is ignored");
	ASSERT_STR_CONTAINS(h.notes[1], "cfg:4: LocalForward is not supported");
	ASSERT_STR_CONTAINS(h.notes[2],
	    "cfg:10: StrictHostKeyChecking accept-new "
	    "is not honoured");
	ASSERT_INT_EQ(h.strict_host_key_checking_off, 1);
	ASSERT_STR_CONTAINS(h.notes[3], "cfg:11: FrobnicateWidgets is not supported");
	ASSERT_STR_CONTAINS(h.notes[4], "cfg:12: IdentityFile ~/.ssh/%C: unknown");
	ASSERT_INT_EQ(h.n_identity_files, 0);
	ssh_config_host_clear(&h);
}

TEST(malformed_lines)
{
	struct ssh_config_host h;
	char *cause = NULL;

	ssh_config_host_init(&h);
	ASSERT_INT_EQ(ssh_config_host_parse(&h,
			  "Host x\nHost buildbox\n"
			  "ServerAliveInterval soon\n",
			  "cfg", &ctx, &cause),
	    -1);
	ASSERT_STR_EQ(cause, "cfg:3: ServerAliveInterval must be a number of seconds");
	free(cause);
	ssh_config_host_clear(&h);
	ssh_config_host_init(&h);
	ASSERT_INT_EQ(ssh_config_host_parse(
			  &h, "IdentityFile \"unterminated\n", "cfg", &ctx, &cause),
	    -1);
	ASSERT_STR_CONTAINS(cause, "cfg:1: unbalanced quote");
	free(cause);
	ssh_config_host_clear(&h);
}

TEST(expand_tokens)
{
	struct ssh_config_ctx c = { "box", "root", "me", "/home/me" };
	char *s;

	s = ssh_config_expand("~/%u/%r/%h/%%/%d", &c, "10.1.1.1");
	ASSERT_STR_EQ(s, "/home/me/me/root/10.1.1.1/%//home/me");
	free(s);
	ASSERT_NULL(ssh_config_expand("%C", &c, NULL));
	s = ssh_config_expand("~other/x", &c, NULL);
	ASSERT_STR_EQ(s, "~other/x");
	free(s);
}

TEST(identity_agent)
{
	struct ssh_config_host h;

	parse(&h,
	    "Host buildbox\n  IdentityAgent ~/.ssh/%h.sock\nHost *\n"
	    "  IdentityAgent none\n",
	    &ctx);
	ASSERT_STR_EQ(h.identity_agent, "/home/me/.ssh/buildbox.sock");
	ssh_config_host_clear(&h);
	/* SSH_AUTH_SOCK: the environment's (the client's), as if unset; first wins */
	parse(&h, "IdentityAgent SSH_AUTH_SOCK\nIdentityAgent /x.sock\n", &ctx);
	ASSERT_NULL(h.identity_agent);
	ASSERT_INT_EQ(h.n_notes, 0);
	ssh_config_host_clear(&h);
	parse(&h, "IdentityAgent none\n", &ctx);
	ASSERT_STR_EQ(h.identity_agent, "none");
	ssh_config_host_clear(&h);
	parse(&h, "IdentityAgent $OTHER\n", &ctx);
	ASSERT_NULL(h.identity_agent);
	ASSERT_INT_EQ(h.n_notes, 1);
	ssh_config_host_clear(&h);
}

TEST(include_globs_under_dot_ssh_and_depth)
{
	char home[] = "/tmp/rdev-test-sshcfg-XXXXXX", *dot, *top, *cause = NULL;
	struct ssh_config_ctx c = { "buildbox", NULL, "me", NULL };
	struct ssh_config_host h;

	ASSERT_NOT_NULL(mkdtemp(home));
	c.home = home;
	dot = xasprintf("%s/.ssh", home);
	ASSERT_INT_EQ(mkdir(dot, 0700), 0);
	/* a relative Include is under ~/.ssh; its globs are followed in order,
	 * and the included lines come first (first value wins) */
	test_write_file(dot, "inc-1.conf", "Host buildbox\n  User from-inc\n");
	test_write_file(
	    dot, "inc-2.conf", "Host buildbox\n  User from-inc-2\n  HostName 10.0.0.2\n");
	test_write_file(dot, "config", "Include inc-*.conf\nHost *\n  User later\n");
	top = xasprintf("%s/config", dot);
	ssh_config_host_init(&h);
	ASSERT_INT_EQ(ssh_config_host_read(&h, top, &c, &cause), 0);
	ASSERT_STR_EQ(h.user, "from-inc");
	ASSERT_STR_EQ(h.hostname, "10.0.0.2");
	ssh_config_host_clear(&h);
	/* a file including itself ends in an error, not a loop */
	test_write_file(dot, "config", "Include config\n");
	ssh_config_host_init(&h);
	ASSERT_INT_EQ(ssh_config_host_read(&h, top, &c, &cause), -1);
	ASSERT_STR_CONTAINS(cause, "Include nested too deeply");
	free(cause);
	ssh_config_host_clear(&h);
	free(top);
	test_rm_rf(home);
	free(dot);
}

TEST(harmless_values_give_no_note)
{
	struct ssh_config_host h;

	/* what a Host * block or a distribution's crypto policy says, with
	 * values that change nothing for rdev */
	parse(&h,
	    "Host *\n"
	    "  ForwardAgent no\n  CheckHostIP yes\n  AddressFamily any\n"
	    "  HostbasedAuthentication false\n  GSSAPITrustDNS False\n"
	    "  VerifyHostKeyDNS no\n  GSSAPIKexAlgorithms gss-curve25519-sha256-\n"
	    "  CASignatureAlgorithms ssh-ed25519,rsa-sha2-512\n"
	    "  HostbasedAcceptedAlgorithms ssh-ed25519\n"
	    "  RequiredRSASize 2048\n  RequiredRSASize 4096\n",
	    &ctx);
	ASSERT_INT_EQ(h.n_notes, 0);
	ASSERT_INT_EQ(h.required_rsa_size, 2048);
	ssh_config_host_clear(&h);
	/* the same keywords with values that would change what happens */
	parse(&h,
	    "Host *\n"
	    "  ForwardAgent yes\n  AddressFamily inet\n"
	    "  VerifyHostKeyDNS yes\n  HostbasedAuthentication true\n",
	    &ctx);
	ASSERT_INT_EQ(h.n_notes, 4);
	ASSERT_STR_CONTAINS(h.notes[3], "cfg:5: HostbasedAuthentication is not");
	ASSERT_STR_CONTAINS(h.notes[0], "cfg:2: ForwardAgent is not supported");
	ASSERT_STR_CONTAINS(h.notes[1], "cfg:3: AddressFamily is not supported");
	ASSERT_STR_CONTAINS(h.notes[2], "cfg:4: VerifyHostKeyDNS is not supported");
	ssh_config_host_clear(&h);
}

TEST(preferred_authentications_gives_the_order)
{
	struct ssh_config_host h;

	/* unset: rdev's own order (auth_order_set 0) */
	parse(&h, "Host *\n  User u\n", &ctx);
	ASSERT_INT_EQ(h.auth_order_set, 0);
	ssh_config_host_clear(&h);
	/* the methods rdev does, in the listed order, once each; the others
	 * (which rdev never tries) left out; first line wins */
	parse(&h,
	    "Host *\n"
	    "  PreferredAuthentications gssapi-with-mic,password,publickey,"
	    "password\n"
	    "  PreferredAuthentications keyboard-interactive\n",
	    &ctx);
	ASSERT_INT_EQ(h.n_notes, 0);
	ASSERT_INT_EQ(h.auth_order_set, 1);
	ASSERT_INT_EQ(h.n_auth_order, 2);
	ASSERT_INT_EQ(h.auth_order[0], SSH_CONFIG_AUTH_PASSWORD);
	ASSERT_INT_EQ(h.auth_order[1], SSH_CONFIG_AUTH_PUBLICKEY);
	ssh_config_host_clear(&h);
	/* publickey alone: no keyboard-interactive, no password */
	parse(&h, "PreferredAuthentications publickey\n", &ctx);
	ASSERT_INT_EQ(h.n_auth_order, 1);
	ASSERT_INT_EQ(h.auth_order[0], SSH_CONFIG_AUTH_PUBLICKEY);
	ssh_config_host_clear(&h);
	/* an OTP first */
	parse(&h, "PreferredAuthentications keyboard-interactive,publickey\n", &ctx);
	ASSERT_INT_EQ(h.n_auth_order, 2);
	ASSERT_INT_EQ(h.auth_order[0], SSH_CONFIG_AUTH_KBDINT);
	ASSERT_INT_EQ(h.auth_order[1], SSH_CONFIG_AUTH_PUBLICKEY);
	ssh_config_host_clear(&h);
	/* nothing rdev does: said */
	parse(&h, "PreferredAuthentications gssapi-with-mic,hostbased\n", &ctx);
	ASSERT_INT_EQ(h.auth_order_set, 1);
	ASSERT_INT_EQ(h.n_auth_order, 0);
	ASSERT_INT_EQ(h.n_notes, 1);
	ASSERT_STR_CONTAINS(h.notes[0],
	    "cfg:1: PreferredAuthentications "
	    "gssapi-with-mic,hostbased lists none");
	ssh_config_host_clear(&h);
}

TEST(ignore_unknown_silences_the_listed_keywords_after_it)
{
	struct ssh_config_host h;

	parse(&h,
	    "UseKeychain yes\n"
	    "Host *\n  IgnoreUnknown UseKeychain,Frob*\n  IgnoreUnknown Other\n"
	    "  UseKeychain yes\n  FrobnicateWidgets 1\n  Other 2\n",
	    &ctx);
	/* before IgnoreUnknown: a note (as OpenSSH, the order counts); the
	 * second IgnoreUnknown is not the one (first value wins) */
	ASSERT_INT_EQ(h.n_notes, 2);
	ASSERT_STR_CONTAINS(h.notes[0], "cfg:1: UseKeychain is not supported");
	ASSERT_STR_CONTAINS(h.notes[1], "cfg:7: Other is not supported");
	ssh_config_host_clear(&h);
}

TEST(ignore_unknown_never_silences_what_openssh_knows)
{
	struct ssh_config_host h;

	/* as OpenSSH: IgnoreUnknown covers only keywords ssh does not know;
	 * LocalForward, ForwardAgent, DynamicForward are ssh's own */
	parse(&h,
	    "Host *\n  IgnoreUnknown *\n  LocalForward 1 a:1\n"
	    "  ForwardAgent yes\n  DynamicForward 1080\n  UseKeychain yes\n",
	    &ctx);
	ASSERT_INT_EQ(h.n_notes, 3);
	ASSERT_STR_CONTAINS(h.notes[0], "cfg:3: LocalForward is not supported");
	ASSERT_STR_CONTAINS(h.notes[1], "cfg:4: ForwardAgent is not supported");
	ASSERT_STR_CONTAINS(h.notes[2], "cfg:5: DynamicForward is not supported");
	ssh_config_host_clear(&h);
}

TEST(match_stops_at_the_first_criterion_that_fails)
{
	struct ssh_config_host h;

	/* host fails: exec is not reached, so nothing to say about it */
	parse(&h, "Match host other exec \"test -f /x\"\n  BatchMode yes\n", &ctx);
	ASSERT_INT_EQ(h.n_notes, 0);
	ASSERT_INT_EQ(h.batch_mode, 0);
	ssh_config_host_clear(&h);
	parse(&h, "Match !host buildbox exec true\n  BatchMode yes\n", &ctx);
	ASSERT_INT_EQ(h.n_notes, 0);
	ssh_config_host_clear(&h);
	/* host matches: exec is reached, not evaluated, said */
	parse(&h, "Match host buildbox exec true\n  BatchMode yes\n", &ctx);
	ASSERT_INT_EQ(h.n_notes, 1);
	ASSERT_STR_CONTAINS(h.notes[0], "cfg:1: Match exec is not evaluated");
	ASSERT_INT_EQ(h.batch_mode, 0);
	ssh_config_host_clear(&h);
}

TEST(system_file_notes_are_kept_apart)
{
	char dir[] = "/tmp/rdev-test-sshsys-XXXXXX", *user, *sys, *cause = NULL;
	struct ssh_config_host h;

	ASSERT_NOT_NULL(mkdtemp(dir));
	test_write_file(dir, "user", "Host buildbox\n  LocalForward 1 a:1\n");
	test_write_file(dir, "sys", "Host *\n  ForwardAgent yes\n");
	user = xasprintf("%s/user", dir);
	sys = xasprintf("%s/sys", dir);
	ssh_config_host_init(&h);
	ASSERT_INT_EQ(ssh_config_host_read(&h, user, &ctx, &cause), 0);
	ASSERT_INT_EQ(ssh_config_host_read_system(&h, sys, &ctx, &cause), 0);
	ASSERT_INT_EQ(h.n_notes, 1);
	ASSERT_STR_CONTAINS(h.notes[0], "user:2: LocalForward is not supported");
	ASSERT_INT_EQ(h.n_system_notes, 1);
	ASSERT_STR_CONTAINS(h.system_notes[0], "sys:2: ForwardAgent is not supported");
	ssh_config_host_clear(&h);
	unlink(user);
	unlink(sys);
	rmdir(dir);
	free(user);
	free(sys);
}

/* What a read looked at (ssh_config_files) tells a change of any file or
 * Include match apart from none: an edit, a file replaced by another, an
 * Include matching one more file, a file that appears where none was. */
TEST(files_read_tell_when_the_config_changed)
{
	char home[] = "/tmp/rdev-test-sshcfg-XXXXXX", *dot, *top, *cause = NULL, *p;
	struct ssh_config_ctx c = { "buildbox", NULL, "me", NULL };
	struct ssh_config_files f;
	struct ssh_config_host h;
	struct timespec times[2];
	struct stat sb;
	FILE *fp;

	ASSERT_NOT_NULL(mkdtemp(home));
	c.home = home;
	dot = xasprintf("%s/.ssh", home);
	ASSERT_INT_EQ(mkdir(dot, 0700), 0);
	test_write_file(dot, "a.conf", "Host buildbox\n  User a\n");
	test_write_file(dot, "config", "Include *.conf ~/.ssh/missing\n");
	top = xasprintf("%s/config", dot);
	/* (config's mtime ahead of the clock, as from a server whose clock
	 * is: racy however long this test stalls) */
	clock_gettime(CLOCK_REALTIME, &times[0]);
	times[0].tv_sec += 60;
	times[1] = times[0];
	ASSERT_INT_EQ(utimensat(AT_FDCWD, top, times, 0), 0);
#define READ() \
	do { \
		ssh_config_files_clear(&f); \
		ssh_config_host_clear(&h); \
		ssh_config_host_init(&h); \
		ASSERT_INT_EQ( \
		    ssh_config_host_read_files(&h, top, &c, 0, &f, &cause), 0); \
	} while (0)
	ssh_config_files_init(&f);
	ssh_config_host_init(&h);
	READ();
	/* config, a.conf; two patterns, one matching nothing */
	ASSERT_INT_EQ(f.n_files, 2);
	ASSERT_INT_EQ(f.n_globs, 2);
	ASSERT_INT_EQ(f.globs[1].matches_len, 0);
	ASSERT_INT_EQ(f.racy, 1);
	ASSERT_INT_EQ(ssh_config_files_unchanged(&f), 1);
	/* an edit of an included file */
	test_write_file(
	    dot, "a.conf", "Host buildbox\n  User a-longer\n  HostName 10.0.0.1\n");
	ASSERT_INT_EQ(ssh_config_files_unchanged(&f), 0);
	READ();
	ASSERT_STR_EQ(h.user, "a-longer");
	ASSERT_INT_EQ(ssh_config_files_unchanged(&f), 1);
	/* an edit in place, the same size (same device, inode and size): only
	 * the mtime (set apart from the read's, as a fast edit in the same
	 * clock tick would not be) and the ctime tell it */
	ASSERT_INT_EQ(strcmp(f.files[1].path + strlen(f.files[1].path) - 6, "a.conf"), 0);
	ASSERT_NOT_NULL(fp = fopen(f.files[1].path, "r+"));
	ASSERT_TRUE(
	    fputs("Host buildbox\n  User a-longer\n  HostName 10.0.0.2\n", fp) >= 0);
	ASSERT_INT_EQ(fclose(fp), 0);
	times[0] = f.files[1].mtime;
	times[0].tv_sec -= 10;
	times[1] = times[0];
	ASSERT_INT_EQ(utimensat(AT_FDCWD, f.files[1].path, times, 0), 0);
	ASSERT_INT_EQ(stat(f.files[1].path, &sb), 0);
	ASSERT_TRUE(sb.st_ino == f.files[1].ino);
	ASSERT_TRUE(sb.st_size == f.files[1].size);
	ASSERT_INT_EQ(ssh_config_files_unchanged(&f), 0);
	READ();
	ASSERT_STR_EQ(h.hostname, "10.0.0.2");
	ASSERT_INT_EQ(ssh_config_files_unchanged(&f), 1);
	/* one more file the Include matches */
	test_write_file(dot, "b.conf", "\n");
	ASSERT_INT_EQ(ssh_config_files_unchanged(&f), 0);
	READ();
	/* the file that was missing appears */
	test_write_file(dot, "missing", "\n");
	ASSERT_INT_EQ(ssh_config_files_unchanged(&f), 0);
	READ();
	ASSERT_INT_EQ(ssh_config_files_unchanged(&f), 1);
	/* a file replaced by another of the same size (an editor's rename) */
	test_write_file(
	    dot, "new", "Host buildbox\n  User a-LONGER\n  HostName 10.0.0.2\n");
	p = xasprintf("%s/new", dot);
	ASSERT_INT_EQ(rename(p, f.files[1].path), 0);
	free(p);
	ASSERT_INT_EQ(ssh_config_files_unchanged(&f), 0);
	READ();
	ASSERT_STR_EQ(h.user, "a-LONGER");
	/* the top file removed: recorded as not there, it may come back */
	unlink(top);
	ASSERT_INT_EQ(ssh_config_files_unchanged(&f), 0);
	READ();
	ASSERT_INT_EQ(f.n_files, 1);
	ASSERT_INT_EQ(f.files[0].exists, 0);
	ASSERT_INT_EQ(ssh_config_files_unchanged(&f), 1);
	test_write_file(dot, "config", "\n");
	ASSERT_INT_EQ(ssh_config_files_unchanged(&f), 0);
#undef READ
	ssh_config_files_clear(&f);
	ssh_config_host_clear(&h);
	free(top);
	test_rm_rf(home);
	free(dot);
}
