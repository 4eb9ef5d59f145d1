/* test-atomic-file.c - unit tests for common/atomic-file.c */
#include "test.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic-file.h"
#include "xmalloc.h"

static char *
make_tempdir(void)
{
	char *dir = xstrdup("/tmp/rdev-test-atomic-XXXXXX");

	if (mkdtemp(dir) == NULL)
		abort();
	return dir;
}

static int
count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void
remove_tree(const char *dir, const char *file)
{
	char *p = xasprintf("%s/%s", dir, file);

	unlink(p);
	free(p);
	rmdir(dir);
}

TEST(writes_replaces_and_sets_mode)
{
	char *dir = make_tempdir(), *path = xasprintf("%s/state.json", dir);
	char *data = NULL, *cause = NULL;
	struct stat st;
	size_t len;

	ASSERT_INT_EQ(atomic_file_write(path, "first", 5, 0600, &cause), 0);
	ASSERT_INT_EQ(atomic_file_write(path, "second!", 7, 0640, &cause), 0);
	ASSERT_INT_EQ(file_read_all(path, 1 << 20, &data, &len, &cause), 0);
	ASSERT_STR_EQ(data, "second!");
	ASSERT_INT_EQ(len, 7);
	ASSERT_INT_EQ(stat(path, &st), 0);
	ASSERT_INT_EQ(st.st_mode & 0777, 0640);
	/* no temporary files left behind */
	ASSERT_INT_EQ(count_entries(dir), 1);
	free(data);
	remove_tree(dir, "state.json");
	free(path);
	free(dir);
}

TEST(failure_leaves_target_untouched_and_no_temp)
{
	char *dir = make_tempdir(), *path = xasprintf("%s/missing-dir/state.json", dir);
	char *cause = NULL;

	ASSERT_INT_EQ(atomic_file_write(path, "x", 1, 0600, &cause), -1);
	ASSERT_STR_CONTAINS(cause, "missing-dir/state.json");
	ASSERT_INT_EQ(count_entries(dir), 0);
	free(cause);
	rmdir(dir);
	free(path);
	free(dir);
}

TEST(read_all_rejects_oversize_and_missing)
{
	char *dir = make_tempdir(), *path = xasprintf("%s/big", dir);
	char *data = NULL, *cause = NULL;

	ASSERT_INT_EQ(atomic_file_write(path, "0123456789", 10, 0600, NULL), 0);
	ASSERT_INT_EQ(file_read_all(path, 5, &data, NULL, &cause), -1);
	ASSERT_STR_CONTAINS(cause, "larger than 5 bytes");
	free(cause);
	cause = NULL;
	ASSERT_INT_EQ(file_read_all("/nonexistent/rdev", 5, &data, NULL, &cause), -1);
	ASSERT_STR_CONTAINS(cause, "/nonexistent/rdev: No such file");
	free(cause);
	remove_tree(dir, "big");
	free(path);
	free(dir);
}

/* A write whose reader went away (a pipe, a socket) is told apart from any
 * other failed write (a full disk) by one predicate: exec and logs -f end
 * with 141 on the first, 125 on the second. */
TEST(write_reader_gone_tells_a_closed_reader_from_a_full_disk)
{
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;
	int p[2], sp[2], full;

	ASSERT_INT_EQ(sigaction(SIGPIPE, &ign, &old), 0);
	ASSERT_INT_EQ(pipe(p), 0);
	close(p[0]);
	ASSERT_INT_EQ(fd_write_all_wait(p[1], "x", 1), -1);
	ASSERT_INT_EQ(errno, EPIPE);
	ASSERT_TRUE(fd_write_reader_gone(errno));
	close(p[1]);
	ASSERT_INT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	close(sp[1]);
	ASSERT_INT_EQ(fd_write_all(sp[0], "x", 1), -1);
	ASSERT_TRUE(fd_write_reader_gone(errno));
	close(sp[0]);
	ASSERT_TRUE(fd_write_reader_gone(ECONNRESET));
	full = open("/dev/full", O_WRONLY);
	ASSERT_TRUE(full >= 0);
	ASSERT_INT_EQ(fd_write_all_wait(full, "x", 1), -1);
	ASSERT_INT_EQ(errno, ENOSPC);
	ASSERT_TRUE(!fd_write_reader_gone(errno));
	close(full);
	ASSERT_TRUE(!fd_write_reader_gone(EIO));
	ASSERT_TRUE(!fd_write_reader_gone(EAGAIN));
	ASSERT_INT_EQ(sigaction(SIGPIPE, &old, NULL), 0);
}
