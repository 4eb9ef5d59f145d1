/* test-image-ref.c - unit tests for common/image-ref.c */
#include "test.h"

#include "image-ref.h"

/* A name Docker takes, and the parts it finds in it. */
static const struct image_ref_ok {
	const char *name, *in;
	size_t domain, name_len, tag, digest;
} image_ref_oks[] = {
	{ "plain", "app", 0, 3, 0, 0 },
	{ "tagged", "app:1.2-rc_3", 0, 3, 8, 0 },
	{ "path", "team/app", 0, 8, 0, 0 },
	{ "separators", "x/a.b_c__d-e---f", 0, 16, 0, 0 },
	{ "port_like_registry", "app:1/x", 5, 7, 0, 0 },
	{ "registry_port_tag", "reg.example:5000/team/app:v1", 16, 25, 2, 0 },
	{ "localhost", "localhost/app", 9, 13, 0, 0 },
	{ "localhost_port", "localhost:5000/app", 14, 18, 0, 0 },
	{ "upper_registry", "MyReg/app", 5, 9, 0, 0 },
	{ "ipv6_registry", "[::1]:5000/app", 10, 14, 0, 0 },
	{ "upper_tag", "app:Latest", 0, 3, 6, 0 },
	{ "digest", "app@sha256:0123456789abcdef0123456789abcdef", 0, 3, 0, 39 },
	{ "tag_and_digest", "r.io/a:1@sha256:0123456789abcdef0123456789abcdef", 4, 6, 1,
	    39 },
	{ "no_tag_registry_port_only", "localhost:5000", 0, 9, 4, 0 },
	{ "tag_128",
	    "a:"
	    "0123456789012345678901234567890123456789012345678901234567890123"
	    "4567890123456789012345678901234567890123456789012345678901234567",
	    0, 1, 128, 0 },
	{ "ipv6_upper_hex", "[FE80::1]/app", 9, 13, 0, 0 },
	{ "image_id_tagged",
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef:v1", 0, 64,
	    2, 0 },
};

static void
image_ref_ok_check(const void *arg)
{
	const struct image_ref_ok *c = arg;
	struct image_ref r;
	const char *why = NULL;

	if (image_ref_parse(c->in, &r, &why) != 0)
		TEST_FAIL("%s: %s", c->in, why);
	ASSERT_INT_EQ(r.domain_len, c->domain);
	ASSERT_INT_EQ(r.name_len, c->name_len);
	ASSERT_INT_EQ(r.tag_len, c->tag);
	ASSERT_INT_EQ(r.digest_len, c->digest);
}
TEST_CASES(image_ref_ok_check, image_ref_oks)

/* A name Docker refuses, and what is said. */
static const struct image_ref_bad {
	const char *name, *in, *why;
} image_ref_bads[] = {
	{ "upper_repo_tagged", "Bad:Name", "must be lowercase" },
	{ "upper_path", "team/App", "must be lowercase" },
	{ "upper_after_registry", "reg.io/Team/app", "must be lowercase" },
	{ "empty", "", "empty name" },
	{ "empty_repo", ":1", "empty repository" },
	{ "empty_tag", "app:", "invalid tag" },
	{ "tag_dot_first", "app:.1", "invalid tag" },
	{ "tag_129",
	    "a:"
	    "0123456789012345678901234567890123456789012345678901234567890123"
	    "45678901234567890123456789012345678901234567890123456789012345678",
	    "invalid tag" },
	{ "tag_plus", "app:1+x", "invalid tag" },
	{ "registry_underscore", "a_b.io/x", "invalid registry" },
	{ "space", "my app", "invalid reference" },
	{ "double_slash", "a//b", "invalid reference" },
	{ "trailing_slash", "a/", "invalid reference" },
	{ "leading_sep", "-app", "invalid reference" },
	{ "trailing_sep", "app.", "invalid reference" },
	{ "triple_underscore", "a___b", "invalid reference" },
	{ "bad_port", "reg.io:50x0/app", "invalid registry" },
	{ "registry_dash_end", "reg-.io/app", "invalid registry" },
	{ "short_digest", "app@sha256:abc", "invalid digest" },
	{ "digest_no_algo", "app@:0123456789abcdef0123456789abcdef", "invalid digest" },
	{ "image_id", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	    "64-byte" },
	{ "ipv6_zone", "[fe80::1%eth0]:5000/app", "invalid registry" },
	{ "ipv6_v4_mapped", "[::ffff:1.2.3.4]/app", "invalid registry" },
	{ "ipv6_not_hex", "[::g]/app", "invalid registry" },
};

static void
image_ref_bad_check(const void *arg)
{
	const struct image_ref_bad *c = arg;
	struct image_ref r;
	const char *why = NULL;

	if (image_ref_parse(c->in, &r, &why) == 0)
		TEST_FAIL("%s: parsed", c->in);
	ASSERT_STR_CONTAINS(why, c->why);
}
TEST_CASES(image_ref_bad_check, image_ref_bads)

/* s: prefix then n bytes of 'a' (caller's buffer of 300). */
static char *
image_ref_long(char *buf, const char *prefix, size_t n)
{
	size_t p = strlen(prefix);

	memcpy(buf, prefix, p);
	memset(buf + p, 'a', n);
	buf[p + n] = '\0';
	return buf;
}

/* 255 is checked on the name Docker normalises to: "a..." is
 * "docker.io/library/a...", 18 more bytes. */
TEST(long_name)
{
	char name[300];
	struct image_ref r;
	const char *why = NULL;

	ASSERT_INT_EQ(image_ref_parse(image_ref_long(name, "", 237), &r, &why), 0);
	ASSERT_INT_EQ(image_ref_parse(image_ref_long(name, "", 238), &r, &why), -1);
	ASSERT_STR_CONTAINS(why, "255");
	ASSERT_STR_CONTAINS(why, "docker.io/library/");
	ASSERT_INT_EQ(image_ref_parse(image_ref_long(name, "", 250), &r, &why), -1);
	/* the tag is not counted */
	ASSERT_INT_EQ(
	    image_ref_parse(strcat(image_ref_long(name, "", 237), ":v1"), &r, &why), 0);
	/* team/...: docker.io/ only (10) */
	ASSERT_INT_EQ(image_ref_parse(image_ref_long(name, "t/", 243), &r, &why), 0);
	ASSERT_INT_EQ(image_ref_parse(image_ref_long(name, "t/", 244), &r, &why), -1);
	/* docker.io/a...: library/ added (8) */
	ASSERT_INT_EQ(
	    image_ref_parse(image_ref_long(name, "docker.io/", 237), &r, &why), 0);
	ASSERT_INT_EQ(
	    image_ref_parse(image_ref_long(name, "docker.io/", 238), &r, &why), -1);
	/* index.docker.io/t/a...: counted as docker.io/t/a... */
	ASSERT_INT_EQ(
	    image_ref_parse(image_ref_long(name, "index.docker.io/t/", 243), &r, &why),
	    0);
	/* another registry: the name as typed */
	ASSERT_INT_EQ(image_ref_parse(image_ref_long(name, "r.io/", 250), &r, &why), 0);
	ASSERT_INT_EQ(image_ref_parse(image_ref_long(name, "r.io/", 251), &r, &why), -1);
	ASSERT_STR_CONTAINS(why, "255");
}
