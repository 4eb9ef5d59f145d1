/* test-sync-watch.c - unit tests for common/sync-watch.c (inotify on a
 * temporary folder): changed paths gathered, a new folder watched as it
 * appears, a move paired, ignored paths dropped, a change to .rdevignore (or
 * a folder that comes with one) a full rescan. */
#include "test.h"

#include "sync-watch.h"

#include <poll.h>
#include <stdlib.h>
#include <string.h>

/* Read events until none came for 100 ms. */
static void
drain(struct sync_watch *w)
{
	struct pollfd p = { sync_watch_fd(w), POLLIN, 0 };
	char *cause = NULL;

	while (poll(&p, 1, 100) > 0)
		if (sync_watch_read(w, &cause) < 0)
			TEST_FAIL("read: %s", cause);
}

static int
has_root(const struct sync_watch_batch *b, const char *path)
{
	for (size_t i = 0; i < b->nroots; i++)
		if (strcmp(b->roots[i], path) == 0)
			return 1;
	return 0;
}

TEST(changes_new_folders_moves_and_ignored_paths)
{
	struct sync_ignore *ig = sync_ignore_new();
	struct sync_watch *w = NULL;
	struct sync_watch_batch b;
	char *cause = NULL;

	sync_ignore_add(ig, "*.log\n", 6);
	ASSERT_INT_EQ(system("rm -rf rdev-test-watch && mkdir -p rdev-test-watch/a"), 0);
	ASSERT_INT_EQ(sync_watch_new("rdev-test-watch", ig, &w, &cause), 0);
	ASSERT_INT_EQ(sync_watch_count(w), 2);
	ASSERT_FALSE(sync_watch_pending(w));

	ASSERT_INT_EQ(system("cd rdev-test-watch && echo x >a/f && echo y >n.log && "
			     "mkdir -p new/deep"),
	    0);
	drain(w);
	/* a file in the new folder, once it is watched */
	ASSERT_INT_EQ(system("echo z >rdev-test-watch/new/deep/g"), 0);
	drain(w);
	ASSERT_TRUE(sync_watch_pending(w));
	sync_watch_take(w, &b);
	ASSERT_FALSE(b.all);
	ASSERT_TRUE(has_root(&b, "a/f"));
	ASSERT_TRUE(has_root(&b, "new"));
	ASSERT_FALSE(has_root(&b, "new/deep/g")); /* under "new" */
	ASSERT_FALSE(has_root(&b, "n.log"));	  /* ignored */
	ASSERT_INT_EQ(sync_watch_count(w), 4);
	sync_watch_batch_clear(&b);

	ASSERT_INT_EQ(system("mv rdev-test-watch/a/f rdev-test-watch/moved"), 0);
	drain(w);
	sync_watch_take(w, &b);
	ASSERT_INT_EQ(b.nmoves, 1);
	ASSERT_STR_EQ(b.moves[0].from, "a/f");
	ASSERT_STR_EQ(b.moves[0].to, "moved");
	sync_watch_batch_clear(&b);

	ASSERT_INT_EQ(system("echo '*.tmp' >rdev-test-watch/.rdevignore"), 0);
	drain(w);
	sync_watch_take(w, &b);
	ASSERT_TRUE(b.all);
	ASSERT_TRUE(b.ignore_changed);
	sync_watch_batch_clear(&b);

	/* A folder that comes with an ignore file in it (moved in whole, or
	 * made and filled before its watch): no event tells of the file. */
	ASSERT_INT_EQ(
	    system("rm -rf rdev-test-watch-in && mkdir -p rdev-test-watch-in/c && "
		   "echo '*' >rdev-test-watch-in/c/.rdevignore && "
		   "mv rdev-test-watch-in rdev-test-watch/came"),
	    0);
	drain(w);
	sync_watch_take(w, &b);
	ASSERT_TRUE(b.all);
	ASSERT_TRUE(b.ignore_changed);
	sync_watch_batch_clear(&b);

	sync_watch_free(w);
	sync_ignore_free(ig);
	ASSERT_INT_EQ(system("rm -rf rdev-test-watch"), 0);
}

/* The root is watched or the watch fails: -2 when it is not there or not a
 * folder, a symbolic link to one among them (never followed: it watched no
 * folder, and said 0). */
TEST(a_root_that_is_no_folder_is_refused)
{
	struct sync_watch *w = NULL;
	char *cause = NULL;

	ASSERT_INT_EQ(system("rm -rf rdev-test-watch-root rdev-test-watch-link && "
			     "mkdir rdev-test-watch-root && "
			     "ln -s rdev-test-watch-root rdev-test-watch-link"),
	    0);
	ASSERT_INT_EQ(sync_watch_new("rdev-test-watch-link", NULL, &w, &cause), -2);
	ASSERT_NULL(w);
	ASSERT_STR_CONTAINS(cause, "rdev-test-watch-link: not a folder");
	free(cause);
	cause = NULL;
	ASSERT_INT_EQ(sync_watch_new("rdev-test-watch-none", NULL, &w, &cause), -2);
	ASSERT_STR_CONTAINS(cause, "rdev-test-watch-none: no such folder");
	free(cause);
	cause = NULL;
	ASSERT_INT_EQ(sync_watch_new("rdev-test-watch-root", NULL, &w, &cause), 0);
	ASSERT_INT_EQ(sync_watch_count(w), 1);
	sync_watch_free(w);
	ASSERT_INT_EQ(system("rm -rf rdev-test-watch-root rdev-test-watch-link"), 0);
}
