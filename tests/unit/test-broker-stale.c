/* test-broker-stale.c - unit tests for common/broker-stale.c */
#include "test.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "broker-stale.h"
#include "xmalloc.h"

/* A stat with only the device and inode set. */
static struct stat
st(dev_t dev, ino_t ino)
{
	struct stat s;

	memset(&s, 0, sizeof s);
	s.st_dev = dev;
	s.st_ino = ino;
	return s;
}

TEST(same_file_is_current)
{
	struct stat a = st(1, 42), b = st(1, 42);

	ASSERT_INT_EQ(
	    broker_stale_judge("/usr/bin/rdev-broker", &a, "/usr/bin/rdev-broker", &b),
	    BROKER_STALE_CURRENT);
}

TEST(replaced_file_is_older)
{
	struct stat a = st(1, 42), b = st(1, 43), c = st(2, 42);

	ASSERT_INT_EQ(
	    broker_stale_judge("/usr/bin/rdev-broker", &a, "/usr/bin/rdev-broker", &b),
	    BROKER_STALE_OLDER);
	ASSERT_INT_EQ(
	    broker_stale_judge("/usr/bin/rdev-broker", &a, "/usr/bin/rdev-broker", &c),
	    BROKER_STALE_OLDER);
}

TEST(deleted_link_is_older)
{
	struct stat a = st(1, 42);

	/* (a rebuild in place unlinks the old file: the link says so, and the
	 * path may not exist at all for a moment) */
	ASSERT_INT_EQ(broker_stale_judge("/opt/x/bin/rdev-broker (deleted)", &a,
			  "/opt/x/bin/rdev-broker", NULL),
	    BROKER_STALE_OLDER);
	ASSERT_INT_EQ(broker_stale_judge("/opt/x/bin/rdev-broker (deleted)", NULL,
			  "/opt/x/bin/rdev-broker", &a),
	    BROKER_STALE_OLDER);
}

TEST(another_path_is_other)
{
	struct stat a = st(1, 42), b = st(1, 43);

	ASSERT_INT_EQ(broker_stale_judge(
			  "/usr/bin/rdev-broker", &a, "/usr/local/bin/rdev-broker", &b),
	    BROKER_STALE_OTHER);
	ASSERT_INT_EQ(broker_stale_judge("/usr/bin/rdev-broker (deleted)", &a,
			  "/usr/local/bin/rdev-broker", &b),
	    BROKER_STALE_OTHER);
	/* a prefix of ours, or ours a prefix of it, is another path */
	ASSERT_INT_EQ(
	    broker_stale_judge("/usr/bin/rdev-broker2", &a, "/usr/bin/rdev-broker", &b),
	    BROKER_STALE_OTHER);
	ASSERT_INT_EQ(
	    broker_stale_judge("/usr/bin/rdev-broker", &a, "/usr/bin/rdev-broker2", &b),
	    BROKER_STALE_OTHER);
	/* no sibling found: a bare name (a PATH search) is nobody's path */
	ASSERT_INT_EQ(broker_stale_judge("/usr/bin/rdev-broker", &a, "rdev-broker", &b),
	    BROKER_STALE_OTHER);
}

TEST(unknown_stats_are_current)
{
	ASSERT_INT_EQ(broker_stale_judge(
			  "/usr/bin/rdev-broker", NULL, "/usr/bin/rdev-broker", NULL),
	    BROKER_STALE_CURRENT);
}

/* Copy file from to to; 0 or -1. */
static int
copy_file(const char *from, const char *to)
{
	FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
	char block[65536];
	size_t k;
	int rc = in != NULL && out != NULL ? 0 : -1;

	while (rc == 0 && (k = fread(block, 1, sizeof block, in)) > 0)
		if (fwrite(block, 1, k, out) != k)
			rc = -1;
	if (in != NULL)
		fclose(in);
	if (out != NULL && fclose(out) != 0)
		rc = -1;
	if (rc == 0)
		rc = chmod(to, 0755);
	return rc;
}

/* The real thing: a process running a copy of sleep(1) at dir/prog, judged
 * against that path, after the file was replaced (cp + mv, as a package
 * upgrade does), and against another path. dir is in the working directory
 * (the build's: /tmp may be noexec); the child is killed before the
 * asserts, so a failure leaves no process behind. */
TEST(check_of_a_running_program)
{
	char cwd[4096], *dir, *prog, *next, *exe = NULL, *exe_older = NULL;
	enum broker_stale current = -1, other = -1, older = -1, gone = -1;
	int copied = -1, renamed = -1, status, i;
	pid_t pid;

	ASSERT_NOT_NULL(getcwd(cwd, sizeof cwd));
	dir = xasprintf("%s/test-broker-stale.XXXXXX", cwd);
	ASSERT_NOT_NULL(mkdtemp(dir));
	prog = xasprintf("%s/prog", dir);
	next = xasprintf("%s/prog.new", dir);
	ASSERT_INT_EQ(copy_file("/bin/sleep", prog), 0);
	if ((pid = fork()) == 0) {
		execl(prog, "sleep", "30", (char *)NULL);
		_exit(127);
	}
	ASSERT_TRUE(pid > 0);
	/* (until the child has exec'd: its exe is then prog) */
	for (i = 0; i < 500; i++) {
		free(exe);
		broker_stale_check(pid, prog, &exe);
		if (exe != NULL && strcmp(exe, prog) == 0)
			break;
		usleep(10 * 1000);
	}
	if (exe != NULL && strcmp(exe, prog) == 0) {
		current = broker_stale_check(pid, prog, NULL);
		other = broker_stale_check(pid, "/bin/sleep", NULL);
		if ((copied = copy_file("/bin/sleep", next)) == 0)
			renamed = rename(next, prog);
		older = broker_stale_check(pid, prog, &exe_older);
	}
	kill(pid, SIGKILL);
	ASSERT_INT_EQ((int)waitpid(pid, &status, 0), (int)pid);
	/* no such process (any more): nothing known */
	gone = broker_stale_check(pid, prog, NULL);
	unlink(next);
	ASSERT_STR_EQ(exe, prog);
	ASSERT_INT_EQ(current, BROKER_STALE_CURRENT);
	ASSERT_INT_EQ(other, BROKER_STALE_OTHER);
	ASSERT_INT_EQ(copied, 0);
	ASSERT_INT_EQ(renamed, 0);
	ASSERT_INT_EQ(older, BROKER_STALE_OLDER);
	/* (the path without " (deleted)") */
	ASSERT_STR_EQ(exe_older, prog);
	ASSERT_INT_EQ(gone, BROKER_STALE_CURRENT);
	free(exe);
	exe = NULL;
	ASSERT_INT_EQ(broker_stale_check(-1, prog, &exe), BROKER_STALE_CURRENT);
	ASSERT_NULL(exe);
	ASSERT_INT_EQ(unlink(prog), 0);
	ASSERT_INT_EQ(rmdir(dir), 0);
	free(exe_older);
	free(next);
	free(prog);
	free(dir);
}

TEST(pid_file_parse)
{
	pid_t pid = 0;
	int systemd = -1;

	ASSERT_INT_EQ(broker_stale_pid_parse("1234\n", &pid, &systemd), 0);
	ASSERT_INT_EQ(pid, 1234);
	ASSERT_INT_EQ(systemd, 0);
	ASSERT_INT_EQ(broker_stale_pid_parse("77 systemd\n", &pid, &systemd), 0);
	ASSERT_INT_EQ(pid, 77);
	ASSERT_INT_EQ(systemd, 1);
	/* (no newline: still a pid) */
	ASSERT_INT_EQ(broker_stale_pid_parse("5", &pid, &systemd), 0);
	ASSERT_INT_EQ(pid, 5);
	ASSERT_INT_EQ(systemd, 0);
	ASSERT_INT_EQ(broker_stale_pid_parse("", &pid, &systemd), -1);
	ASSERT_INT_EQ(broker_stale_pid_parse("\n", &pid, &systemd), -1);
	ASSERT_INT_EQ(broker_stale_pid_parse("0\n", &pid, &systemd), -1);
	ASSERT_INT_EQ(broker_stale_pid_parse("-3\n", &pid, &systemd), -1);
	ASSERT_INT_EQ(broker_stale_pid_parse("12x\n", &pid, &systemd), -1);
	ASSERT_INT_EQ(broker_stale_pid_parse("12 other\n", &pid, &systemd), -1);
	ASSERT_INT_EQ(broker_stale_pid_parse("12 systemdx\n", &pid, &systemd), -1);
	ASSERT_INT_EQ(broker_stale_pid_parse("99999999999999\n", &pid, &systemd), -1);
	ASSERT_INT_EQ(broker_stale_pid_parse("12\n13\n", &pid, &systemd), -1);
}
