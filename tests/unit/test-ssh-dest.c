/* test-ssh-dest.c - unit tests for the broker's session key
 * (rdev_ssh_destination, broker/ssh-session.c): what the ssh config
 * resolves a target to, read from real files. */
#include "test.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <pwd.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
