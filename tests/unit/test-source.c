/* test-source.c - unit tests for common/source.c (SOURCE -> host folder). */
#include "test.h"

#include "source.h"

#include <stdlib.h>
#include <string.h>

TEST(url_forms_are_git)
{
	ASSERT_TRUE(source_is_url("https://github.com/org/app.git"));
	ASSERT_TRUE(source_is_url("ssh://git@host:22/org/app.git"));
	ASSERT_TRUE(source_is_url("file:///srv/app.git"));
	ASSERT_TRUE(source_is_url("git://host/app"));
	ASSERT_TRUE(source_is_url("git@github.com:org/app.git"));
	ASSERT_FALSE(source_is_url("./a:b"));
	ASSERT_FALSE(source_is_url("/srv/a:b"));
	ASSERT_FALSE(source_is_url("app"));
	ASSERT_FALSE(source_is_url("host:"));
}

TEST(git_names_are_stable_and_distinct)
{
	struct source a, b, c;
	char *cause = NULL;

	ASSERT_INT_EQ(
	    source_parse("https://github.com/org/app.git", "u@m", &a, &cause), 0);
	ASSERT_INT_EQ(a.kind, SOURCE_GIT);
	ASSERT_STR_EQ(a.url, "https://github.com/org/app.git");
	ASSERT_INT_EQ(strncmp(a.name, "app-", 4), 0);
	ASSERT_INT_EQ(strlen(a.name), 4 + 12);
	ASSERT_TRUE(source_name_ok(a.name));
	ASSERT_INT_EQ(
	    source_parse("https://github.com/org/app.git", "u@m", &b, &cause), 0);
	ASSERT_STR_EQ(b.name, a.name);
	source_clear(&b);
	/* another user or machine, another folder */
	ASSERT_INT_EQ(
	    source_parse("https://github.com/org/app.git", "v@m", &b, &cause), 0);
	ASSERT_TRUE(strcmp(b.name, a.name) != 0);
	source_clear(&b);
	/* scp form, trailing slash, odd characters */
	ASSERT_INT_EQ(source_parse("git@host:org/my app/", "u@m", &c, &cause), 0);
	ASSERT_INT_EQ(c.kind, SOURCE_GIT);
	ASSERT_INT_EQ(strncmp(c.name, "my_app-", 7), 0);
	source_clear(&c);
	ASSERT_INT_EQ(source_parse("https://host/", "u@m", &c, &cause), 0);
	ASSERT_INT_EQ(strncmp(c.name, "host-", 5), 0);
	source_clear(&c);
	source_clear(&a);
}

TEST(local_folders)
{
	struct source a, b;
	char *cause = NULL;

	ASSERT_INT_EQ(system("rm -rf rdev-test-src && mkdir -p rdev-test-src/x:y "
			     "rdev-test-src/app && ln -sf app rdev-test-src/alias"),
	    0);
	ASSERT_INT_EQ(source_parse("rdev-test-src/app", "u@m", &a, &cause), 0);
	ASSERT_INT_EQ(a.kind, SOURCE_LOCAL);
	ASSERT_TRUE(a.path[0] == '/');
	ASSERT_INT_EQ(strncmp(a.name, "app-", 4), 0);
	/* through a symlink: the same folder, the same name */
	ASSERT_INT_EQ(source_parse("rdev-test-src/alias/", "u@m", &b, &cause), 0);
	ASSERT_STR_EQ(b.name, a.name);
	source_clear(&b);
	source_clear(&a);
	/* "x:y" exists here: a folder, not a git URL (git's rule) */
	ASSERT_INT_EQ(source_parse("rdev-test-src/x:y", "u@m", &a, &cause), 0);
	ASSERT_INT_EQ(a.kind, SOURCE_LOCAL);
	source_clear(&a);
	ASSERT_INT_EQ(source_parse("rdev-test-src/none", "u@m", &a, &cause), -1);
	ASSERT_STR_CONTAINS(cause, "no such folder");
	free(cause);
	cause = NULL;
	ASSERT_INT_EQ(source_parse("a\nb", "u@m", &a, &cause), -1);
	free(cause);
	ASSERT_INT_EQ(system("rm -rf rdev-test-src"), 0);
}

TEST(names_the_agent_takes)
{
	ASSERT_TRUE(source_name_ok("app-0123456789ab"));
	ASSERT_FALSE(source_name_ok(""));
	ASSERT_FALSE(source_name_ok("."));
	ASSERT_FALSE(source_name_ok(".."));
	ASSERT_FALSE(source_name_ok("a/b"));
	ASSERT_FALSE(source_name_ok("a b"));
}
