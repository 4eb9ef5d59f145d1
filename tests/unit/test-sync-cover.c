/* test-sync-cover.c - unit tests for common/sync-cover.c: many paths (the
 * entries that could not land past those the agent lists) become a
 * bounded list of folders that covers every one of them; a path that is
 * not one of them is covered only when the bounds force a folder holding
 * it and two or more of them (the deepest such folders first); when only
 * the root would do, there is no cover. */
#include "test.h"

#include <stdio.h>

#include "sync-cover.h"
#include "sync-scan.h"
#include "xmalloc.h"

/* Every one of paths (n) is covered by cover (nc). */
static void
check_covers(char *const *paths, size_t n, char *const *cover, size_t nc)
{
	for (size_t i = 0; i < n; i++)
		if (!sync_cover_has(cover, nc, paths[i])) {
			fprintf(stderr, "not covered: %s\n", paths[i]);
			ASSERT_TRUE(0);
		}
}

TEST(few_paths_are_their_own_cover)
{
	char *paths[] = { "src/b.c", "a.txt", "src/a.c", "src/a.c" };
	char **c;
	size_t n;

	ASSERT_INT_EQ(sync_cover(paths, 4, 10, 1024, &c, &n), 0);
	ASSERT_INT_EQ((int)n, 3);
	ASSERT_STR_EQ(c[0], "a.txt");
	ASSERT_STR_EQ(c[1], "src/a.c");
	ASSERT_STR_EQ(c[2], "src/b.c");
	ASSERT_NULL(c[3]);
	/* (exact: a landed sibling is not covered) */
	ASSERT_FALSE(sync_cover_has(c, n, "src/c.c"));
	ASSERT_FALSE(sync_cover_has(c, n, "src"));
	ASSERT_FALSE(sync_cover_has(c, n, "src/a.cc"));
	ASSERT_TRUE(sync_cover_has(c, n, "src/a.c"));
	sync_paths_free(c, n);
}

TEST(a_folder_covers_what_is_under_it)
{
	char *paths[] = { "gen/x", "gen", "gen/sub/y", "gen-2" };
	char **c;
	size_t n;

	ASSERT_INT_EQ(sync_cover(paths, 4, 10, 1024, &c, &n), 0);
	ASSERT_INT_EQ((int)n, 2);
	ASSERT_STR_EQ(c[0], "gen");
	ASSERT_STR_EQ(c[1], "gen-2");
	ASSERT_TRUE(sync_cover_has(c, n, "gen/sub/y/z"));
	ASSERT_FALSE(sync_cover_has(c, n, "gen.c"));
	sync_paths_free(c, n);
}

/* The case the cover is for: a root-made node_modules of thousands of
 * files, and a few failures elsewhere, in at most 8 elements. */
TEST(thousands_under_one_folder_become_it)
{
	char **paths = xcalloc(5003, sizeof *paths), **c;
	size_t n, k = 0;

	for (int p = 0; p < 50; p++)
		for (int f = 0; f < 100; f++)
			paths[k++] = xasprintf("node_modules/pkg%02d/lib/f%03d.js", p, f);
	paths[k++] = xstrdup("src/gen/a.h");
	paths[k++] = xstrdup("docs/x.md");
	paths[k++] = xstrdup("node_modules-old/y");
	ASSERT_INT_EQ(sync_cover(paths, k, 8, 4096, &c, &n), 0);
	ASSERT_TRUE(n <= 8);
	check_covers(paths, k, c, n);
	/* (node_modules lifted: the few elsewhere stay exact) */
	ASSERT_TRUE(sync_cover_has(c, n, "node_modules/other/landed.js"));
	ASSERT_TRUE(sync_cover_has(c, n, "src/gen/a.h"));
	ASSERT_FALSE(sync_cover_has(c, n, "src/gen/b.h"));
	ASSERT_FALSE(sync_cover_has(c, n, "src/main.c"));
	ASSERT_FALSE(sync_cover_has(c, n, "docs/y.md"));
	ASSERT_FALSE(sync_cover_has(c, n, "node_modules-old/z"));
	ASSERT_FALSE(sync_cover_has(c, n, "README"));
	sync_paths_free(c, n);
	sync_paths_free(paths, k);
}

/* The deepest folders are lifted first: with room for 52, each package's
 * lib is named, not node_modules (its other files are not covered). */
TEST(the_deepest_folders_lift_first)
{
	char **paths = xcalloc(1001, sizeof *paths), **c;
	size_t n, k = 0;

	for (int p = 0; p < 50; p++)
		for (int f = 0; f < 20; f++)
			paths[k++] = xasprintf("node_modules/pkg%02d/lib/f%03d.js", p, f);
	ASSERT_INT_EQ(sync_cover(paths, k, 52, 1 << 20, &c, &n), 0);
	ASSERT_INT_EQ((int)n, 50);
	ASSERT_STR_EQ(c[0], "node_modules/pkg00/lib");
	check_covers(paths, k, c, n);
	ASSERT_FALSE(sync_cover_has(c, n, "node_modules/pkg00/package.json"));
	ASSERT_FALSE(sync_cover_has(c, n, "node_modules/.bin/x"));
	sync_paths_free(c, n);
	/* (room for fewer: node_modules) */
	ASSERT_INT_EQ(sync_cover(paths, k, 10, 1 << 20, &c, &n), 0);
	ASSERT_INT_EQ((int)n, 1);
	ASSERT_STR_EQ(c[0], "node_modules");
	sync_paths_free(c, n);
	sync_paths_free(paths, k);
}

TEST(the_byte_bound_lifts_too)
{
	char *paths[] = { "very/long/folder/name/one/a", "very/long/folder/name/one/b",
		"very/long/folder/name/two/c" };
	char **c;
	size_t n;

	ASSERT_INT_EQ(sync_cover(paths, 3, 10, 60, &c, &n), 0);
	ASSERT_INT_EQ((int)n, 2);
	ASSERT_STR_EQ(c[0], "very/long/folder/name/one");
	ASSERT_STR_EQ(c[1], "very/long/folder/name/two/c");
	sync_paths_free(c, n);
	ASSERT_INT_EQ(sync_cover(paths, 3, 10, 30, &c, &n), 0);
	ASSERT_INT_EQ((int)n, 1);
	ASSERT_STR_EQ(c[0], "very/long/folder/name");
	sync_paths_free(c, n);
}

/* Only the root would do: no cover (the caller falls back to a whole
 * resend), never "" nor a partial one. */
TEST(no_cover_when_only_the_root_would_do)
{
	char *top[] = { "a", "b", "c/x", "d/y" };
	char *one[] = { "a/very/long/path" };
	char **c = (char **)1;
	size_t n = 7;

	ASSERT_INT_EQ(sync_cover(top, 4, 3, 1024, &c, &n), -1);
	ASSERT_NULL(c);
	ASSERT_INT_EQ((int)n, 0);
	ASSERT_INT_EQ(sync_cover(one, 1, 3, 5, &c, &n), -1);
	ASSERT_INT_EQ(sync_cover(top, 0, 3, 1024, &c, &n), -1);
	/* (the bound met exactly is fine) */
	ASSERT_INT_EQ(sync_cover(top, 4, 4, 1024, &c, &n), 0);
	ASSERT_INT_EQ((int)n, 4);
	sync_paths_free(c, n);
}
