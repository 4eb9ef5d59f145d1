/* test-sync-ignore.c - unit tests for common/sync-ignore.c (.rdevignore). */
#include "test.h"

#include "sync-ignore.h"

#include <string.h>

static struct sync_ignore *
ig_of(const char *text)
{
	struct sync_ignore *ig = sync_ignore_new();

	sync_ignore_add(ig, text, strlen(text));
	return ig;
}

TEST(globs)
{
	ASSERT_TRUE(sync_ignore_glob("*.o", "a.o"));
	ASSERT_FALSE(sync_ignore_glob("*.o", "d/a.o"));
	ASSERT_TRUE(sync_ignore_glob("a?c", "abc"));
	ASSERT_FALSE(sync_ignore_glob("a?c", "a/c"));
	ASSERT_TRUE(sync_ignore_glob("[a-c]x", "bx"));
	ASSERT_FALSE(sync_ignore_glob("[!a-c]x", "bx"));
	ASSERT_TRUE(sync_ignore_glob("**/x", "x"));
	ASSERT_TRUE(sync_ignore_glob("**/x", "a/b/x"));
	ASSERT_TRUE(sync_ignore_glob("a/**", "a/b/c"));
	ASSERT_TRUE(sync_ignore_glob("a/**/b", "a/b"));
	ASSERT_TRUE(sync_ignore_glob("a/**/b", "a/x/y/b"));
	ASSERT_FALSE(sync_ignore_glob("a/**/b", "a/x/y/c"));
	ASSERT_TRUE(sync_ignore_glob("\\*x", "*x"));
	ASSERT_FALSE(sync_ignore_glob("\\*x", "ax"));
	ASSERT_TRUE(sync_ignore_glob("[x", "[x"));
}

TEST(gitignore_rules)
{
	struct sync_ignore *ig = ig_of("# comment\n\nnode_modules/\n*.log\n!keep.log\n"
				       "/build\ndocs/*.pdf\n\\#hash\ntrail \n");

	ASSERT_TRUE(sync_ignore_match(ig, "node_modules", 1));
	ASSERT_TRUE(sync_ignore_match(ig, "a/node_modules", 1));
	ASSERT_FALSE(sync_ignore_match(ig, "node_modules", 0)); /* a file */
	ASSERT_TRUE(sync_ignore_match(ig, "x/y.log", 0));
	ASSERT_FALSE(sync_ignore_match(ig, "x/keep.log", 0));
	ASSERT_TRUE(sync_ignore_match(ig, "build", 1));
	ASSERT_FALSE(sync_ignore_match(ig, "src/build", 1));
	ASSERT_TRUE(sync_ignore_match(ig, "docs/a.pdf", 0));
	ASSERT_FALSE(sync_ignore_match(ig, "x/docs/a.pdf", 0));
	ASSERT_TRUE(sync_ignore_match(ig, "#hash", 0));
	ASSERT_FALSE(sync_ignore_match(ig, "comment", 0));
	ASSERT_TRUE(sync_ignore_match(ig, "trail", 0));
	sync_ignore_free(ig);
	sync_ignore_free(NULL);
}
