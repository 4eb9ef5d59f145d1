/* test-path.c - unit tests for common/path.c */
#include "test.h"

#include "path.h"

static const struct within_case {
	const char *name, *path, *dir;
	int want;
} withins[] = {
	{ "within_itself", "/x/app", "/x/app", 1 },
	{ "within_below", "/x/app/.devcontainer", "/x/app", 1 },
	{ "within_not_a_sibling_of_the_same_prefix", "/x/app2", "/x/app", 0 },
	{ "within_not_above", "/x", "/x/app", 0 },
	{ "within_dir_trailing_slash", "/x/app/db", "/x/app/", 1 },
	{ "within_root_holds_absolute", "/x", "/", 1 },
	{ "within_relative_below", "a/b", "a", 1 },
	{ "within_relative_sibling", "ab", "a", 0 },
};

static void
within_check(const void *arg)
{
	const struct within_case *c = arg;

	ASSERT_INT_EQ(path_within(c->path, c->dir), c->want);
}
TEST_CASES(within_check, withins)
