/* test-target.c - unit tests for common/target.c */
#include "test.h"

#include "target.h"

#include <stdlib.h>
#include <string.h>

TEST(local_and_remote_forms)
{
	ASSERT_FALSE(target_is_remote("."));
	ASSERT_FALSE(target_is_remote("./app"));
	ASSERT_FALSE(target_is_remote("/abs/path:with-colon"));
	ASSERT_FALSE(target_is_remote("app"));
	ASSERT_TRUE(target_is_remote("buildbox:~/src/app"));
	ASSERT_TRUE(target_is_remote("me@buildbox:2222:/src"));
	ASSERT_TRUE(target_is_remote("ssh://me@buildbox:22/src"));
	ASSERT_TRUE(target_is_remote("@team"));
}

TEST(existing_local_folder_with_colon_is_local)
{
	ASSERT_FALSE(target_is_remote("/tmp"));
	ASSERT_INT_EQ(system("mkdir -p rdev-test-a:b"), 0);
	ASSERT_FALSE(target_is_remote("rdev-test-a:b"));
	ASSERT_INT_EQ(system("rmdir rdev-test-a:b"), 0);
}

/* Parse text, expecting success; the fields are checked by the caller. */
static void
parse_ok(const char *text, struct target *t)
{
	char *cause = NULL;

	if (target_parse(text, t, &cause) != 0)
		TEST_FAIL("target_parse(\"%s\") failed: %s", text, cause);
}

/* Parse text, expecting success with these fields (NULL: none). */
static void
parse_is(const char *text, enum target_kind kind, const char *user, const char *host,
    int port, const char *path)
{
	struct target t;

	TEST_CASE_NAME("%s", text);
	parse_ok(text, &t);
	ASSERT_INT_EQ(t.kind, kind);
	if (user != NULL)
		ASSERT_STR_EQ(t.user, user);
	else
		ASSERT_NULL(t.user);
	if (host != NULL)
		ASSERT_STR_EQ(t.host, host);
	else
		ASSERT_NULL(t.host);
	ASSERT_INT_EQ(t.port, port);
	if (path != NULL)
		ASSERT_STR_EQ(t.path, path);
	else
		ASSERT_NULL(t.path);
	target_clear(&t);
	TEST_CASE_NAME("%s", "");
}

/* Parse text, expecting failure with a message containing want. */
static void
parse_fails(const char *text, const char *want)
{
	struct target t;
	char *cause = NULL;

	if (target_parse(text, &t, &cause) == 0) {
		target_clear(&t);
		TEST_FAIL("target_parse(\"%s\") succeeded, want an error", text);
	}
	ASSERT_NULL(t.host);
	ASSERT_NULL(t.path);
	ASSERT_STR_CONTAINS(cause, want);
	free(cause);
}

TEST(parse_scp_forms)
{
	parse_is("buildbox:~/src/app", TARGET_SSH, NULL, "buildbox", 0, "~/src/app");
	parse_is("me@build-box.example.com:2222:/srv/app", TARGET_SSH, "me",
	    "build-box.example.com", 2222, "/srv/app");
	parse_is("box:~", TARGET_SSH, NULL, "box", 0, "~");
	/* a colon further on belongs to the path */
	parse_is("box:src/a:b", TARGET_SSH, NULL, "box", 0, "src/a:b");
	/* digits not followed by ':' are a path, not a port */
	parse_is("box:2222", TARGET_SSH, NULL, "box", 0, "2222");
	parse_is("box:~/12:x", TARGET_SSH, NULL, "box", 0, "~/12:x");
	/* '@' in the path is the path's */
	parse_is("me@box:a@b", TARGET_SSH, "me", "box", 0, "a@b");
}

TEST(parse_ipv6)
{
	parse_is("[::1]:2222:/src", TARGET_SSH, NULL, "::1", 2222, "/src");
	parse_is("me@[fe80::1%eth0]:src", TARGET_SSH, "me", "fe80::1%eth0", 0, "src");
	parse_is(
	    "ssh://me@[2001:db8::2]:22/~/x", TARGET_SSH, "me", "2001:db8::2", 22, "~/x");

	parse_fails("[::1:/src", "missing ']'");
	parse_fails("[::1]x:/src", "unexpected text after");
	parse_fails("[beef]:/src", "only for IPv6");
	parse_fails("[box]:/src", "bad IPv6");
	parse_fails("[::1;rm]:/src", "bad IPv6");
	parse_fails("::1:/src", "empty host");
}

TEST(parse_url_forms)
{
	parse_is("ssh://me@buildbox:2200/src/app", TARGET_SSH, "me", "buildbox", 2200,
	    "/src/app");
	parse_is("ssh://buildbox/~", TARGET_SSH, NULL, "buildbox", 0, "~");
	parse_is("ssh://buildbox/my%20app", TARGET_SSH, NULL, "buildbox", 0, "/my app");

	parse_fails("ssh://buildbox", "no path");
	parse_fails("ssh:///src", "empty host");
	parse_fails("ssh://me@:22/src", "empty host");
	parse_fails("ssh://@box/src", "empty user");
	parse_fails("ssh://box:0/src", "1 to 65535");
	parse_fails("ssh://box:65536/src", "1 to 65535");
	parse_fails("ssh://box:99999999999999999999/src", "1 to 65535");
	parse_fails("ssh://box:/src", "empty port");
	parse_fails("ssh://box:22x/src", "must be a number");
	parse_fails("ssh://box/a%00b", "bad % escape");
	parse_fails("ssh://box/a%0ab", "control character");
	parse_fails("ssh://box/a%zz", "bad % escape");
	parse_fails("ssh://box/a%4", "bad % escape");
	parse_fails("ssh://box/x?y", "not allowed");
}

TEST(parse_local_and_pool)
{
	struct target t;

	parse_is("./app", TARGET_LOCAL, NULL, NULL, 0, "./app");
	parse_is(
	    "/abs/path:with-colon", TARGET_LOCAL, NULL, NULL, 0, "/abs/path:with-colon");

	parse_ok("@team", &t);
	ASSERT_INT_EQ(t.kind, TARGET_POOL);
	ASSERT_STR_EQ(t.pool, "team");
	target_clear(&t);

	parse_fails("@", "empty pool");
	parse_fails("@te am", "pool name");
	parse_fails("", "empty target");
}

TEST(parse_hostile_input)
{
	parse_fails(":/src", "empty host");
	parse_fails("me@:/src", "empty host");
	parse_fails("@box:/src", "pool name");
	parse_fails("-oProxyCommand=sh:/src", "may not start with '-'");
	parse_fails("-x@box:/src", "may not start with '-'");
	parse_fails("ssh://-oProxyCommand=x/src", "may not start with '-'");
	parse_fails("box;rm -rf:/src", "bad character in host");
	parse_fails("b$(id)x:/src", "bad character in host");
	parse_fails("m'e@box:/src", "bad character in user");
	parse_fails("box:/src\nrm", "control character");
	parse_fails("box:/src\x1b[2J", "control character");
	parse_fails("box:~root/x", "not ~user");
	parse_fails("box:0:/src", "1 to 65535");
	parse_fails("box:70000:/src", "1 to 65535");
}

TEST(clear_is_idempotent)
{
	struct target t;

	memset(&t, 0, sizeof t);
	target_clear(&t);
	parse_ok("me@box:2:/x", &t);
	target_clear(&t);
	target_clear(&t);
	ASSERT_NULL(t.user);
}

TEST(host_alone_takes_a_source)
{
	parse_is("box:", TARGET_HOST, NULL, "box", 0, NULL);
	parse_is("me@box:2222:", TARGET_HOST, "me", "box", 2222, NULL);
	parse_fails("-x:", "may not start with '-'");
}

TEST(a_url_is_not_a_target)
{
	parse_fails("https://github.com/org/app.git",
	    "rdev up HOST: https://github.com/org/app.git");
	parse_fails("file:///srv/app.git", "is a URL, not a place");
	parse_fails("git+ssh://host/app.git", "is a URL, not a place");
	/* ssh:// stays a remote folder */
	struct target t;

	parse_ok("ssh://box/~/app", &t);
	ASSERT_INT_EQ(t.kind, TARGET_SSH);
	target_clear(&t);
}
