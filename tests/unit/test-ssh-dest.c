/* test-ssh-dest.c - unit tests for the broker's session key
 * (rdev_ssh_destination, broker/ssh-session.c): what the ssh config
 * resolves a target to, read from real files. */
#include "test.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "ssh-config.h"
#include "ssh-session.h"
#include "xmalloc.h"

/* A private folder for a test's config files; the caller frees the name
 * and removes the folder (test_dest_rm). */
static char *
test_dest_dir(void)
{
	char *dir = xstrdup("/tmp/rdev-test-sshdest-XXXXXX");

	ASSERT_NOT_NULL(mkdtemp(dir));
	return dir;
}

/* Remove dir and the files named in it. */
static void
test_dest_rm(char *dir, const char *const *names)
{
	char *p;

	for (; *names != NULL; names++) {
		p = xasprintf("%s/%s", dir, *names);
		unlink(p);
		free(p);
	}
	rmdir(dir);
	free(dir);
}

/* The key of host through the config file dir/config. The caller frees. */
static char *
test_dest_key(const char *dir, const char *host)
{
	struct ssh_target_opts o;
	char *cfg = xasprintf("%s/config", dir), *key;

	memset(&o, 0, sizeof o);
	o.host = host;
	o.ssh_config_file = cfg;
	key = rdev_ssh_destination(&o);
	free(cfg);
	return key;
}

/* How we authenticate is how we get there: a session opened with one
 * PreferredAuthentications (or RequiredRSASize) is not the one a changed
 * config asks for. */
TEST(preferred_authentications_and_rsa_size_are_in_the_key)
{
	static const char *const names[] = { "config", NULL };
	char *dir = test_dest_dir(), *a, *b, *c, *d;

	test_write_file(dir, "config", "Host sp\n  HostName h1\n");
	a = test_dest_key(dir, "sp");
	test_write_file(dir, "config",
	    "Host sp\n  HostName h1\n  PreferredAuthentications password\n");
	b = test_dest_key(dir, "sp");
	test_write_file(dir, "config",
	    "Host sp\n  HostName h1\n  PreferredAuthentications publickey,password\n");
	c = test_dest_key(dir, "sp");
	test_write_file(
	    dir, "config", "Host sp\n  HostName h1\n  RequiredRSASize 4096\n");
	d = test_dest_key(dir, "sp");
	ASSERT_TRUE(strncmp(a, "unresolved", 10) != 0);
	ASSERT_TRUE(strcmp(a, b) != 0);
	ASSERT_TRUE(strcmp(b, c) != 0);
	ASSERT_TRUE(strcmp(a, c) != 0);
	ASSERT_TRUE(strcmp(a, d) != 0);
	/* (the same config, the same key) */
	test_write_file(dir, "config", "Host sp\n  HostName h1\n");
	free(b);
	b = test_dest_key(dir, "sp");
	ASSERT_STR_EQ(b, a);
	free(a);
	free(b);
	free(c);
	free(d);
	test_dest_rm(dir, names);
}

/* In a child with a mount namespace of its own, /etc/passwd replaced by
 * one whose entry for us is over 4 KiB (a long GECOS field, as some
 * directories fill): the key names us, not "unknown". Needs root (to
 * unshare and bind-mount): otherwise it says so and passes. */
TEST(a_long_password_entry_still_names_the_local_user)
{
	static const char *const names[] = { "config", "passwd", NULL };
	struct passwd *pw = getpwuid(getuid());
	char *dir = test_dest_dir(), *fake, *line, *want, *gecos;
	int status;
	pid_t pid;

	ASSERT_NOT_NULL(pw);
	gecos = xmalloc(6001);
	memset(gecos, 'x', 6000);
	gecos[6000] = '\0';
	line = xasprintf("%s:x:%u:%u:%s:%s:/bin/sh\n", pw->pw_name, (unsigned)pw->pw_uid,
	    (unsigned)pw->pw_gid, gecos, pw->pw_dir);
	test_write_file(dir, "passwd", line);
	test_write_file(dir, "config", "Host sp\n  HostName h1\n");
	fake = xasprintf("%s/passwd", dir);
	want = xasprintf("%s@h1:22\n", pw->pw_name);
	fflush(NULL);
	if ((pid = fork()) == 0) {
		char *key;

		if (unshare(CLONE_NEWNS) != 0 ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
		    mount(fake, "/etc/passwd", NULL, MS_BIND, NULL) != 0) {
			fprintf(stderr, "  (no mount namespace: %s; not tested)\n",
			    strerror(errno));
			_exit(0);
		}
		key = test_dest_key(dir, "sp");
		if (strncmp(key, want, strlen(want)) != 0) {
			fprintf(stderr, "  key \"%.40s...\", want it to start \"%s\"\n",
			    key, want);
			_exit(1);
		}
		_exit(0);
	}
	ASSERT_TRUE(pid > 0);
	ASSERT_INT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_INT_EQ(WEXITSTATUS(status), 0);
	free(gecos);
	free(line);
	free(fake);
	free(want);
	test_dest_rm(dir, names);
}

/* The key of host through dir/config, from the cache c at now_ms. */
static char *
test_dest_cached_at(
    struct rdev_ssh_dest_cache *c, const char *dir, const char *host, long long now_ms)
{
	struct ssh_target_opts o;
	char *cfg = xasprintf("%s/config", dir), *key;

	memset(&o, 0, sizeof o);
	o.host = host;
	o.ssh_config_file = cfg;
	key = rdev_ssh_destination_cached_at(c, &o, now_ms);
	free(cfg);
	return key;
}

/* The key of host through dir/config, from the cache c now. */
static char *
test_dest_cached(struct rdev_ssh_dest_cache *c, const char *dir, const char *host)
{
	return test_dest_cached_at(c, dir, host, clock_now_ms());
}

/* In a child with a mount namespace of its own, run fn(dir) with
 * /etc/passwd replaced by dir/passwd (holding passwd_text); its exit
 * status is the test's. Needs root (to unshare and bind-mount): otherwise
 * it says so and passes. before(dir, arg) runs in the child first, with
 * the real /etc/passwd. */
static void
test_dest_with_passwd(const char *dir, const char *passwd_text,
    void (*before)(const char *, void *), int (*fn)(const char *, void *), void *arg)
{
	char *fake;
	int status;
	pid_t pid;

	test_write_file(dir, "passwd", passwd_text);
	fake = xasprintf("%s/passwd", dir);
	fflush(NULL);
	if ((pid = fork()) == 0) {
		if (before != NULL)
			before(dir, arg);
		if (unshare(CLONE_NEWNS) != 0 ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
		    mount(fake, "/etc/passwd", NULL, MS_BIND, NULL) != 0) {
			fprintf(stderr, "  (no mount namespace: %s; not tested)\n",
			    strerror(errno));
			_exit(0);
		}
		_exit(fn(dir, arg));
	}
	ASSERT_TRUE(pid > 0);
	ASSERT_INT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_INT_EQ(WEXITSTATUS(status), 0);
	free(fake);
}

static char *test_dest_cached(
    struct rdev_ssh_dest_cache *c, const char *dir, const char *host);

/* (test_dest_with_passwd's before: the key of "sp" from the cache arg,
 * read as the user the real password entry names) */
static void
test_dest_key_before(const char *dir, void *arg)
{
	free(test_dest_cached(arg, dir, "sp"));
}

/* (test_dest_with_passwd's fn: connect to "sp" with the key the cache arg
 * made before the rename; 1 when the connect says it moved) */
static int
test_dest_connect_renamed(const char *dir, void *arg)
{
	struct rdev_ssh_dest_cache *c = arg;
	struct ssh_connect_report report;
	struct ssh_target_opts o;
	struct rdev_ssh *s;
	char *cfg = xasprintf("%s/config", dir), *key, *now, *cause = NULL;
	int rc = 0;

	/* (the rename shows: read now, the key is another user's) */
	memset(&o, 0, sizeof o);
	o.host = "sp";
	o.ssh_config_file = cfg;
	now = rdev_ssh_destination(&o);
	if (strncmp(now, "renamed@", 8) != 0) {
		fprintf(
		    stderr, "  key read now \"%.40s\": the rename did not show\n", now);
		rc = 1;
	}
	/* the cache keeps the user it looked up, and its key */
	key = test_dest_cached(c, dir, "sp");
	if (strncmp(key, "renamed@", 8) == 0) {
		fprintf(stderr, "  the cache's key \"%.40s\" names the new name\n", key);
		rc = 1;
	}
	o.dest_key = key;
	rdev_ssh_dest_cache_who(c, &o.dest_local_user, &o.dest_home);
	o.batch = 1;
	o.connect_timeout_s = 5;
	o.report = &report;
	if ((s = rdev_ssh_connect(&o, &cause)) != NULL) {
		fprintf(stderr, "  connected to 127.0.0.1:1?\n");
		rdev_ssh_free(s);
		rc = 1;
	} else if (report.fail == SSH_FAIL_MOVED) {
		fprintf(stderr, "  the connect says it moved: %s\n", cause);
		rc = 1;
	}
	free(cause);
	free(key);
	free(now);
	free(cfg);
	return rc;
}

/* A user renamed while the broker runs (here: /etc/passwd names our uid
 * "renamed" after the key was made) is not a move: the connect reads the
 * config as the user its key was read as, so it goes on (and is refused,
 * port 1), not "the ssh config now takes it elsewhere". */
TEST(a_user_renamed_after_the_key_is_not_a_move)
{
	static const char *const names[] = { "config", "passwd", NULL };
	struct passwd *pw = getpwuid(getuid());
	struct rdev_ssh_dest_cache *c = rdev_ssh_dest_cache_new();
	char *dir = test_dest_dir(), *line;

	ASSERT_NOT_NULL(pw);
	ASSERT_TRUE(strcmp(pw->pw_name, "renamed") != 0);
	test_write_file(dir, "config", "Host sp\n  HostName 127.0.0.1\n  Port 1\n");
	line = xasprintf("renamed:x:%u:%u::%s:/bin/sh\n", (unsigned)pw->pw_uid,
	    (unsigned)pw->pw_gid, pw->pw_dir);
	test_dest_with_passwd(
	    dir, line, test_dest_key_before, test_dest_connect_renamed, c);
	free(line);
	rdev_ssh_dest_cache_free(c);
	test_dest_rm(dir, names);
}

/* A uid that the test's password file does not name. */
#define TEST_DEST_NO_UID 54321

/* (test_dest_with_passwd's fn: keys from the cache arg, at times of its
 * own, while the uid has no entry and after one appears; 1 unless it was
 * looked up once and named "unknown" until RDEV_SSH_PW_RETRY_MS had passed,
 * then looked up again and named) */
static int
test_dest_no_entry(const char *dir, void *arg)
{
	struct rdev_ssh_dest_cache *c = arg;
	char *pw = xasprintf("%s/passwd", dir), *a, *b, *later;
	FILE *f;
	int rc = 0;

	/* (root is named without /etc/passwd by nss-systemd: another uid,
	 * which may write the file, so that its entry appears later) */
	if (chmod(pw, 0666) != 0 ||
	    setresuid(TEST_DEST_NO_UID, TEST_DEST_NO_UID, TEST_DEST_NO_UID) != 0) {
		fprintf(stderr, "  chmod, setresuid: %s\n", strerror(errno));
		return 1;
	}
	a = test_dest_cached_at(c, dir, "sp", 1000);
	if ((f = fopen(pw, "a")) == NULL ||
	    fprintf(f, "back:x:%u:%u::/:/bin/sh\n", TEST_DEST_NO_UID, TEST_DEST_NO_UID) <
		0 ||
	    fclose(f) != 0) {
		fprintf(stderr, "  %s: %s\n", pw, strerror(errno));
		return 1;
	}
	b = test_dest_cached_at(c, dir, "sp", 1000 + RDEV_SSH_PW_RETRY_MS - 1);
	if (strncmp(a, "unknown@", 8) != 0 || strcmp(a, b) != 0) {
		fprintf(stderr, "  keys \"%.40s\", \"%.40s\"\n", a, b);
		rc = 1;
	}
	if (rdev_ssh_dest_cache_lookups(c) != 1) {
		fprintf(stderr, "  looked up %lu times, want once\n",
		    rdev_ssh_dest_cache_lookups(c));
		rc = 1;
	}
	/* the interval passed: looked up again, the new entry found */
	later = test_dest_cached_at(c, dir, "sp", 1000 + RDEV_SSH_PW_RETRY_MS);
	if (strncmp(later, "back@", 5) != 0 || rdev_ssh_dest_cache_lookups(c) != 2) {
		fprintf(stderr, "  after the interval: key \"%.40s\", %lu look-ups\n",
		    later, rdev_ssh_dest_cache_lookups(c));
		rc = 1;
	}
	free(a);
	free(b);
	free(later);
	free(pw);
	return rc;
}

/* A uid without a password entry is "unknown", and that is kept (for
 * RDEV_SSH_PW_RETRY_MS): not an NSS look-up per request; then it is looked
 * up again (an entry that appeared is used). */
TEST(a_uid_without_a_password_entry_is_not_looked_up_per_request)
{
	static const char *const names[] = { "config", "passwd", NULL };
	struct rdev_ssh_dest_cache *c = rdev_ssh_dest_cache_new();
	char *dir = test_dest_dir(), *line;

	test_write_file(dir, "config", "Host sp\n  HostName h1\n");
	ASSERT_INT_EQ(chmod(dir, 0755), 0); /* (read as that uid) */
	line = xasprintf(
	    "someone:x:%u:%u::/:/bin/sh\n", TEST_DEST_NO_UID + 1, TEST_DEST_NO_UID + 1);
	test_dest_with_passwd(dir, line, NULL, test_dest_no_entry, c);
	free(line);
	rdev_ssh_dest_cache_free(c);
	test_dest_rm(dir, names);
}

/* Keys come from the cache, without a read, while the files and who reads
 * them are the same; an Include that matches a new file, a file changed
 * within SSH_CONFIG_RACY_S of its read, another $HOME each read again. */
TEST(the_cache_reads_again_only_when_something_changed)
{
	static const char *const names[] = { "config", "a.conf", "0.conf", NULL };
	struct rdev_ssh_dest_cache *c = rdev_ssh_dest_cache_new();
	struct timespec settle = { SSH_CONFIG_RACY_S, 100 * 1000 * 1000 };
	char *dir = test_dest_dir(), *text, *k1, *k2, *home = NULL, host[32], *p;
	char *sub, *sub_cfg;
	struct timespec times[2];
	const char *env;
	int i;

	text = xasprintf("Include %s/*.conf\nHost other\n  HostName o\n", dir);
	test_write_file(dir, "config", text);
	test_write_file(dir, "a.conf", "Host sp\n  HostName h1\n");
	/* (a folder named as the config file: unreadable, for root too) */
	sub = xasprintf("%s/sub", dir);
	ASSERT_INT_EQ(mkdir(sub, 0700), 0);
	sub_cfg = xasprintf("%s/config", sub);
	ASSERT_INT_EQ(mkdir(sub_cfg, 0700), 0);
	/* (files written now are racy: settled first) */
	nanosleep(&settle, NULL);
	k1 = test_dest_cached(c, dir, "sp");
	ASSERT_INT_EQ(rdev_ssh_dest_cache_reads(c), 1);
	ASSERT_STR_CONTAINS(k1, "@h1:22\n");
	k2 = test_dest_cached(c, dir, "sp");
	ASSERT_INT_EQ(rdev_ssh_dest_cache_reads(c), 1);
	ASSERT_STR_EQ(k2, k1);
	free(k2);
	/* another target is another entry */
	k2 = test_dest_cached(c, dir, "other");
	ASSERT_INT_EQ(rdev_ssh_dest_cache_reads(c), 2);
	ASSERT_STR_CONTAINS(k2, "@o:22\n");
	free(k2);
	k2 = test_dest_cached(c, dir, "sp");
	ASSERT_INT_EQ(rdev_ssh_dest_cache_reads(c), 2);
	ASSERT_STR_EQ(k2, k1);
	free(k2);
	/* another $HOME (%d, ~) is another reader */
	env = getenv("HOME");
	home = env != NULL ? xstrdup(env) : NULL;
	setenv("HOME", dir, 1);
	k2 = test_dest_cached(c, dir, "sp");
	ASSERT_INT_EQ(rdev_ssh_dest_cache_reads(c), 3);
	free(k2);
	if (home != NULL)
		setenv("HOME", home, 1);
	else
		unsetenv("HOME");
	k2 = test_dest_cached(c, dir, "sp");
	ASSERT_INT_EQ(rdev_ssh_dest_cache_reads(c), 3);
	free(k2);
	/* RDEV_SSH_DEST_CACHE_MAX targets are kept, the least recently used
	 * dropped */
	for (i = 0; i < RDEV_SSH_DEST_CACHE_MAX; i++) {
		snprintf(host, sizeof host, "h%d", i);
		free(test_dest_cached(c, dir, host));
	}
	ASSERT_INT_EQ(rdev_ssh_dest_cache_reads(c), 3 + RDEV_SSH_DEST_CACHE_MAX);
	/* h0, the oldest, used again: h1 is now the least recently used, and
	 * a new target drops it, not h0 (as a FIFO would) */
	free(test_dest_cached(c, dir, "h0"));
	ASSERT_INT_EQ(rdev_ssh_dest_cache_reads(c), 3 + RDEV_SSH_DEST_CACHE_MAX);
	free(test_dest_cached(c, dir, "sp"));
	ASSERT_INT_EQ(rdev_ssh_dest_cache_reads(c), 4 + RDEV_SSH_DEST_CACHE_MAX);
	free(test_dest_cached(c, dir, "h0"));
	ASSERT_INT_EQ(rdev_ssh_dest_cache_reads(c), 4 + RDEV_SSH_DEST_CACHE_MAX);
	free(test_dest_cached(c, dir, "h1"));
	ASSERT_INT_EQ(rdev_ssh_dest_cache_reads(c), 5 + RDEV_SSH_DEST_CACHE_MAX);
	/* a file the Include now matches, first: sp goes elsewhere at once */
	test_write_file(dir, "0.conf", "Host sp\n  HostName h0\n");
	/* (its mtime ahead of the clock, as from a server whose clock is: racy
	 * however long this test waits) */
	p = xasprintf("%s/0.conf", dir);
	clock_gettime(CLOCK_REALTIME, &times[0]);
	times[0].tv_sec += 60;
	times[1] = times[0];
	ASSERT_INT_EQ(utimensat(AT_FDCWD, p, times, 0), 0);
	free(p);
	k2 = test_dest_cached(c, dir, "sp");
	ASSERT_INT_EQ(rdev_ssh_dest_cache_reads(c), 6 + RDEV_SSH_DEST_CACHE_MAX);
	ASSERT_STR_CONTAINS(k2, "@h0:22\n");
	free(k2);
	/* (and it is racy: an edit in the same tick would not show) */
	k2 = test_dest_cached(c, dir, "sp");
	ASSERT_INT_EQ(rdev_ssh_dest_cache_reads(c), 7 + RDEV_SSH_DEST_CACHE_MAX);
	free(k2);
	/* an unreadable config is never kept: sub/config, a folder (EISDIR,
	 * for root too; a missing file is no error) settled since, is read
	 * again each time */
	for (i = 0; i < 2; i++) {
		k2 = test_dest_cached(c, sub, "sp");
		ASSERT_INT_EQ(strncmp(k2, "unresolved\n", 11), 0);
		ASSERT_INT_EQ(rdev_ssh_dest_cache_reads(c),
		    (unsigned long)(8 + i) + RDEV_SSH_DEST_CACHE_MAX);
		free(k2);
	}
	rmdir(sub_cfg);
	rmdir(sub);
	free(sub_cfg);
	free(sub);
	free(k1);
	free(home);
	free(text);
	rdev_ssh_dest_cache_free(c);
	test_dest_rm(dir, names);
}
