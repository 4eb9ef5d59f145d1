/* test-ssh-config-text.c - unit tests for client/ssh-config-text.c (the
 * Host block file `rdev ssh-config --write` keeps). */
#include "test.h"

#include <stdlib.h>

#include "ssh-config-text.h"

TEST(escape_doubles_percent)
{
	char *s = ssh_config_text_escape("/home/u/100%/rdev ssh-proxy 'h:~/a%b'");

	ASSERT_STR_EQ(s, "/home/u/100%%/rdev ssh-proxy 'h:~/a%%b'");
	free(s);
}

TEST(alias_is_rdev_basename_with_pattern_characters_replaced)
{
	char *a = ssh_config_text_alias("/src/my app*1");
	char *b = ssh_config_text_alias("~/src/app/");
	char *c = ssh_config_text_alias("app");

	ASSERT_STR_EQ(a, "rdev-my_app_1");
	ASSERT_STR_EQ(b, "rdev-app");
	ASSERT_STR_EQ(c, "rdev-app");
	free(a);
	free(b);
	free(c);
}

TEST(replace_drops_the_alias_block_and_keeps_the_others)
{
	const char *old = "# mine\nHost a\n    User x\nHost b\n    User y\nMatch all\n"
			  "    User z\n";
	char *s = ssh_config_text_replace(old, "b", "Host b\n    User new\n");

	ASSERT_STR_EQ(s,
	    "# mine\nHost a\n    User x\nMatch all\n    User z\nHost b\n"
	    "    User new\n");
	free(s);
}

TEST(replace_does_not_take_an_alias_that_only_starts_the_same)
{
	char *s = ssh_config_text_replace("Host bb\n    User y", "b", "Host b\n");

	ASSERT_STR_EQ(s, "Host bb\n    User y\nHost b\n");
	free(s);
}

TEST(replace_into_an_empty_file)
{
	char *s = ssh_config_text_replace("", "b", "Host b\n");

	ASSERT_STR_EQ(s, "Host b\n");
	free(s);
}

TEST(includes_finds_an_include_line_only)
{
	ASSERT_INT_EQ(
	    ssh_config_text_includes("Include rdev.config\n", "rdev.config"), 1);
	ASSERT_INT_EQ(
	    ssh_config_text_includes("  include ~/.ssh/rdev.config\n", "rdev.config"), 1);
	ASSERT_INT_EQ(
	    ssh_config_text_includes("# Include rdev.config\nHost x\n", "rdev.config"),
	    0);
	ASSERT_INT_EQ(ssh_config_text_includes("Host rdev.config\n", "rdev.config"), 0);
	ASSERT_INT_EQ(ssh_config_text_includes("", "rdev.config"), 0);
}
