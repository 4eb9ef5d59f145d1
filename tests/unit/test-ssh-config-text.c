/* test-ssh-config-text.c - unit tests for client/ssh-config-text.c (the
 * Host block file `rdev ssh-config --write` keeps). */
#include "test.h"

#include <stdlib.h>
#include <string.h>

#include "ssh-config-text.h"
#include "xmalloc.h"

TEST(escape_doubles_percent)
{
	char *s = ssh_config_text_escape("/home/u/100%/rdev ssh-proxy 'h:~/a%b'");

	ASSERT_STR_EQ(s, "/home/u/100%%/rdev ssh-proxy 'h:~/a%%b'");
	free(s);
}

TEST(alias_is_rdev_basename_with_pattern_characters_replaced)
{
	char *a = ssh_config_text_alias("/src/my app*1", "x");
	char *b = ssh_config_text_alias("~/src/app/", "x");
	char *c = ssh_config_text_alias("app", "x");
	char *h = ssh_config_text_hash("x");
	char *want = NULL;

	ASSERT_INT_EQ((int)strlen(h), 6);
	want = xasprintf("rdev-my_app_1-%s", h);
	ASSERT_STR_EQ(a, want);
	ASSERT_STR_EQ(b, "rdev-app");
	ASSERT_STR_EQ(c, "rdev-app");
	free(a);
	free(b);
	free(c);
	free(h);
	free(want);
}

/* Names that sanitise alike (non-ASCII bytes, a space and _) get apart. */
TEST(alias_of_replaced_names_differs_by_workspace)
{
	char *a = ssh_config_text_alias(
	    "/home/u/w\xc3\xa9", " ssh-proxy h:~/w\xc3\xa9 --fdpass");
	char *b = ssh_config_text_alias(
	    "/home/u/w\xc3\xbc", " ssh-proxy h:~/w\xc3\xbc --fdpass");
	char *c =
	    ssh_config_text_alias("/home/u/my ws", " ssh-proxy 'h:~/my ws' --fdpass");
	char *d = ssh_config_text_alias("/home/u/my_ws", " ssh-proxy h:~/my_ws --fdpass");

	ASSERT_TRUE(strncmp(a, "rdev-w__-", 9) == 0);
	ASSERT_TRUE(strcmp(a, b) != 0);
	ASSERT_TRUE(strncmp(c, "rdev-my_ws-", 11) == 0);
	ASSERT_STR_EQ(d, "rdev-my_ws");
	free(a);
	free(b);
	free(c);
	free(d);
}

TEST(proxy_of_a_block_and_same_workspace)
{
	const char *text = "Host a\n    ProxyCommand /x/rdev ssh-proxy h:~/a --fdpass\n"
			   "Host rdev-app\n    User z\n"
			   "\tproxycommand /y/rdev ssh-proxy h:~/app --fdpass\r\n"
			   "Host b\n";
	char *p = ssh_config_text_proxy(text, "rdev-app");

	ASSERT_STR_EQ(p, "/y/rdev ssh-proxy h:~/app --fdpass");
	ASSERT_TRUE(ssh_config_text_proxy(text, "b") == NULL);
	ASSERT_TRUE(ssh_config_text_proxy(text, "rdev") == NULL);
	ASSERT_TRUE(ssh_config_text_same_proxy(p, "/z/rdev ssh-proxy h:~/app --fdpass"));
	ASSERT_FALSE(
	    ssh_config_text_same_proxy(p, "/y/rdev ssh-proxy /srv/app --fdpass"));
	free(p);
}

/* A block written before --fdpass (or with options in another order) is
 * the same workspace; target, source, --config and labels tell them apart,
 * quoted words whole. */
TEST(same_workspace_is_target_source_config_labels)
{
	char *id;

	ASSERT_TRUE(ssh_config_text_same_proxy(
	    "/x/rdev ssh-proxy h:~/app", "/y/rdev ssh-proxy h:~/app --fdpass"));
	ASSERT_TRUE(ssh_config_text_same_proxy("/x/rdev ssh-proxy h: ./a --config c.json",
	    "/x/rdev ssh-proxy h: ./a --config c.json --fdpass"));
	ASSERT_FALSE(ssh_config_text_same_proxy(
	    "/x/rdev ssh-proxy h: ./a --fdpass", "/x/rdev ssh-proxy h: ./b --fdpass"));
	ASSERT_FALSE(ssh_config_text_same_proxy("/x/rdev ssh-proxy h:~/app --fdpass",
	    "/x/rdev ssh-proxy h:~/app --config c.json --fdpass"));
	ASSERT_FALSE(ssh_config_text_same_proxy(
	    "/x/rdev ssh-proxy h:~/app --id-label a=1 --fdpass",
	    "/x/rdev ssh-proxy h:~/app --id-label a=2 --fdpass"));
	/* (a quoted word holding " --fdpass" is the workspace's) */
	ASSERT_FALSE(ssh_config_text_same_proxy(
	    "/x/rdev ssh-proxy 'h:~/my --fdpass' --fdpass", "/x/rdev ssh-proxy h:~/my"));
	id = ssh_config_text_identity(
	    "/x/rdev ssh-proxy 'h:~/my ws' --id-label a=1 --fdpass");
	ASSERT_STR_EQ(id, "'h:~/my ws' --id-label a=1");
	free(id);
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
