/* test-feature-ref.c - Feature ids to download (agent/feature-ref.c). */
#include "test.h"

#include "feature-fetch.h"

#define H64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

TEST(oci_tag_defaults_to_latest)
{
	struct feature_ref r;
	char *cause = NULL;

	ASSERT_INT_EQ(
	    feature_ref_parse("ghcr.io/devcontainers/features/node", &r, &cause), 0);
	ASSERT_INT_EQ(r.kind, FEATURE_REF_OCI);
	ASSERT_STR_EQ(r.registry, "ghcr.io");
	ASSERT_STR_EQ(r.path, "devcontainers/features/node");
	ASSERT_STR_EQ(r.name, "node");
	ASSERT_STR_EQ(r.tag, "latest");
	ASSERT_NULL(r.digest);
	ASSERT_STR_EQ(r.url, "https://ghcr.io/v2/devcontainers/features/node");
	feature_ref_clear(&r);
}

TEST(oci_tag_and_case)
{
	struct feature_ref r;

	ASSERT_INT_EQ(
	    feature_ref_parse("GHCR.io/Devcontainers/features/Node:1.2", &r, NULL), 0);
	ASSERT_STR_EQ(r.id, "ghcr.io/devcontainers/features/node:1.2");
	ASSERT_STR_EQ(r.path, "devcontainers/features/node");
	ASSERT_STR_EQ(r.tag, "1.2");
	feature_ref_clear(&r);
}

TEST(oci_digest_and_localhost_port)
{
	struct feature_ref r;

	ASSERT_INT_EQ(
	    feature_ref_parse("localhost:5000/a/b-c/d_e@sha256:" H64, &r, NULL), 0);
	ASSERT_STR_EQ(r.registry, "localhost:5000");
	ASSERT_STR_EQ(r.path, "a/b-c/d_e");
	ASSERT_STR_EQ(r.digest, "sha256:" H64);
	ASSERT_NULL(r.tag);
	ASSERT_STR_EQ(r.url, "http://localhost:5000/v2/a/b-c/d_e");
	feature_ref_clear(&r);
}

TEST(tarball_url)
{
	struct feature_ref r;

	ASSERT_INT_EQ(
	    feature_ref_parse(
		"https://example.com/x/devcontainer-feature-hello.tgz", &r, NULL),
	    0);
	ASSERT_INT_EQ(r.kind, FEATURE_REF_TARBALL);
	ASSERT_STR_EQ(r.name, "hello");
	ASSERT_STR_EQ(r.url, "https://example.com/x/devcontainer-feature-hello.tgz");
	feature_ref_clear(&r);
	ASSERT_INT_EQ(
	    feature_ref_parse(
		"http://127.0.0.1:8000/devcontainer-feature-a.b.tgz?x=1", &r, NULL),
	    0);
	ASSERT_STR_EQ(r.name, "a.b");
	feature_ref_clear(&r);
}

TEST(local_ids)
{
	ASSERT_TRUE(feature_ref_is_local("./x"));
	ASSERT_TRUE(feature_ref_is_local("../x"));
	ASSERT_TRUE(feature_ref_is_local("/abs"));
	ASSERT_FALSE(feature_ref_is_local("ghcr.io/a/b"));
	ASSERT_FALSE(feature_ref_is_local(".x"));
}

static void
expect_bad(const char *id, const char *msg)
{
	struct feature_ref r;
	char *cause = NULL;

	if (feature_ref_parse(id, &r, &cause) == 0) {
		feature_ref_clear(&r);
		TEST_FAIL("'%s' parsed, want an error", id);
	}
	ASSERT_NOT_NULL(cause);
	if (strstr(cause, msg) == NULL)
		TEST_FAIL("'%s': %s, want it to say '%s'", id, cause, msg);
	free(cause);
}

TEST(malformed_ids)
{
	expect_bad("node", "is not a local folder");
	expect_bad("ghcr.io/node", "is not a local folder");
	expect_bad("devcontainers/features/node", "not a registry host name");
	expect_bad("ghcr.io/a/b:", "invalid tag");
	expect_bad("ghcr.io/a/b:-x", "invalid tag");
	expect_bad("ghcr.io/a/b@sha256:abc", "digest");
	expect_bad("ghcr.io/a/b@md5:" H64, "digest");
	expect_bad("ghcr.io/a//b", "invalid repository path");
	expect_bad("ghcr.io/a/b c", "invalid repository path");
	expect_bad("ghcr.io:x/a/b", "not a registry host name");
	expect_bad("./local", "local folder");
	expect_bad("https://example.com/feature.tgz", "devcontainer-feature-NAME.tgz");
	expect_bad("https://example.com/devcontainer-feature-.tgz",
	    "devcontainer-feature-NAME.tgz");
	expect_bad("https:///devcontainer-feature-x.tgz", "no host");
	expect_bad(
	    "https://example.com/a b/devcontainer-feature-x.tgz", "invalid character");
}

TEST(hostile_paths)
{
	expect_bad("ghcr.io/../../etc/passwd", "invalid repository path");
	expect_bad("ghcr.io/a/../b", "invalid repository path");
	expect_bad("ghcr.io/a/./b", "invalid repository path");
	expect_bad("ghcr.io/a/b%2f..", "invalid repository path");
	expect_bad("ghcr.io/a/b\n", "invalid repository path");
	expect_bad("evil.com@ghcr.io/a/b", "digest");
	expect_bad("ghcr.io/a/b?x=1", "invalid repository path");
	expect_bad(
	    "https://example.com/devcontainer-feature-x.tgz#\n", "invalid character");
}

TEST(digest_valid)
{
	ASSERT_TRUE(feature_ref_digest_valid("sha256:" H64));
	ASSERT_FALSE(feature_ref_digest_valid("sha256:" H64 "0"));
	ASSERT_FALSE(feature_ref_digest_valid(
	    "sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef"));
	ASSERT_FALSE(feature_ref_digest_valid("sha512:" H64));
}

/* The reference's upgrade (its /[:@][^/]*$/): the version after the last
 * '/' goes, a registry's port stays. */
TEST(unversioned)
{
	static const char *const cases[][2] = {
		{ "ghcr.io/devcontainers/features/node:1",
		    "ghcr.io/devcontainers/features/node" },
		{ "localhost:5000/ns/hello:1.2.3", "localhost:5000/ns/hello" },
		{ "localhost:5000/ns/hello", "localhost:5000/ns/hello" },
		{ "r/ns/x@sha256:" H64, "r/ns/x" },
		{ "node:1", "node" },
		{ "node", "node" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *got = feature_ref_unversioned(cases[i][0]);
		ASSERT_STR_EQ(got, cases[i][1]);
		free(got);
	}
}

/* --feature ID --target-version V: the first id naming the same Feature is
 * replaced everywhere in the text (comments too, as the reference's
 * String.replace with a global pattern); no such id: NULL. */
TEST(retarget_rewrites_first_matching_id)
{
	const char *text = "{ // r:5000/ns/a:1 was here\n"
			   "  \"features\": { \"r:5000/ns/b:1\": {},\n"
			   "    \"r:5000/ns/a:1\": { \"x\": 1 },\n"
			   "    \"r:5000/ns/a:2\": {} } }\n";
	cJSON *features = cJSON_Parse(
	    "{\"r:5000/ns/b:1\":{},\"r:5000/ns/a:1\":{\"x\":1},\"r:5000/ns/a:2\":{}}");
	const char *key;
	char *got = feature_ref_retarget(text, features, "r:5000/ns/a", "3.1", &key);

	ASSERT_STR_EQ(key, "r:5000/ns/a:1");
	ASSERT_STR_EQ(got,
	    "{ // r:5000/ns/a:3.1 was here\n"
	    "  \"features\": { \"r:5000/ns/b:1\": {},\n"
	    "    \"r:5000/ns/a:3.1\": { \"x\": 1 },\n"
	    "    \"r:5000/ns/a:2\": {} } }\n");
	free(got);
	ASSERT_NULL(feature_ref_retarget(text, features, "r:5000/ns/c:1", "3", &key));
	ASSERT_NULL(key);
	cJSON_Delete(features);
}

/* --target-version: x, x.y or x.y.z, else the reference's message (the
 * agent's check, and the client's before it edits a local folder's file). */
TEST(version_check_takes_x_xy_xyz)
{
	char *cause = NULL;

	ASSERT_INT_EQ(feature_ref_version_check("1", &cause), 0);
	ASSERT_INT_EQ(feature_ref_version_check("1.20", &cause), 0);
	ASSERT_INT_EQ(feature_ref_version_check("1.2.3", &cause), 0);
	ASSERT_INT_EQ(feature_ref_version_check("1.2.3.4", &cause), -1);
	free(cause);
	cause = NULL;
	ASSERT_INT_EQ(feature_ref_version_check("1.x", &cause), -1);
	ASSERT_STR_EQ(cause,
	    "Invalid version '1.x'.  Must be in the form of 'x', 'x.y', or 'x.y.z'");
	free(cause);
}

/* The reference's getRef() fetches devcontainers-contrib from
 * devcontainers-extra (any registry, the path's first part only) but keeps
 * its resource as written. */
TEST(oci_contrib_redirected_to_extra)
{
	struct feature_ref r;

	ASSERT_INT_EQ(
	    feature_ref_parse("ghcr.io/devcontainers-contrib/features/Bun:1", &r, NULL),
	    0);
	ASSERT_STR_EQ(r.path, "devcontainers-extra/features/bun");
	ASSERT_STR_EQ(r.url, "https://ghcr.io/v2/devcontainers-extra/features/bun");
	ASSERT_STR_EQ(r.resource, "ghcr.io/devcontainers-contrib/features/bun");
	ASSERT_STR_EQ(r.id, "ghcr.io/devcontainers-contrib/features/bun:1");
	feature_ref_clear(&r);
	ASSERT_INT_EQ(
	    feature_ref_parse("localhost:5000/devcontainers-contrib/x", &r, NULL), 0);
	ASSERT_STR_EQ(r.path, "devcontainers-extra/x");
	feature_ref_clear(&r);
	ASSERT_INT_EQ(
	    feature_ref_parse("ghcr.io/me/devcontainers-contrib/x", &r, NULL), 0);
	ASSERT_STR_EQ(r.path, "me/devcontainers-contrib/x");
	ASSERT_STR_EQ(r.resource, "ghcr.io/me/devcontainers-contrib/x");
	feature_ref_clear(&r);
}

/* Tarball URLs as new URL().toString() writes them (what the reference
 * compares, orders and pins). */
TEST(tarball_url_normalised)
{
	struct feature_ref r;
	char *u;

	ASSERT_INT_EQ(feature_ref_parse("https://Example.COM:443/a/./b/../"
					"devcontainer-feature-x.tgz?v=1",
			  &r, NULL),
	    0);
	ASSERT_STR_EQ(r.url, "https://example.com/a/devcontainer-feature-x.tgz?v=1");
	ASSERT_STR_EQ(r.resource, r.url);
	ASSERT_STR_EQ(
	    r.id, "https://Example.COM:443/a/./b/../devcontainer-feature-x.tgz?v=1");
	ASSERT_STR_EQ(r.name, "x");
	feature_ref_clear(&r);
	u = feature_ref_url_normalise("http://h:80/x");
	ASSERT_STR_EQ(u, "http://h/x");
	free(u);
	u = feature_ref_url_normalise("http://U:P@H:0443/%2E/a/%2e%2E/b/.");
	ASSERT_STR_EQ(u, "http://U:P@h:443/b/");
	free(u);
	u = feature_ref_url_normalise("https://h:8443/a/..");
	ASSERT_STR_EQ(u, "https://h:8443/");
	free(u);
	u = feature_ref_url_normalise("https://[::1]:443/a//b");
	ASSERT_STR_EQ(u, "https://[::1]/a//b");
	free(u);
	/* The name is read from the normalised path. */
	ASSERT_INT_EQ(
	    feature_ref_parse("https://h/devcontainer-feature-x.tgz/..", &r, NULL), -1);
}

/* Odd authorities: what new URL() refuses is refused (a port that is not a
 * number up to 65535 used to become another port: "h:abc" was ":5451"; an
 * empty host); userinfo is percent-encoded as it writes it ('@' inside was
 * kept, a URL curl reads otherwise); hosts it would write otherwise
 * (percent-encoded, IPv4 not a.b.c.d, IPv6 not shortest) are refused, not
 * keyed differently. Expected values are node's new URL().toString(). */
TEST(tarball_url_odd_authorities)
{
	static const char *const bad[] = { "http://h:abc/devcontainer-feature-x.tgz",
		"http://h:65536/devcontainer-feature-x.tgz",
		"http://h:99999999999999999999999/devcontainer-feature-x.tgz",
		"http://@/devcontainer-feature-x.tgz",
		"http://u:p@:80/devcontainer-feature-x.tgz",
		"http://h%41st/devcontainer-feature-x.tgz",
		"http://0x7f.1/devcontainer-feature-x.tgz",
		"http://127.00.0.1/devcontainer-feature-x.tgz",
		"http://[0:0::1]/devcontainer-feature-x.tgz",
		"http://[::ffff:1.2.3.4]/devcontainer-feature-x.tgz",
		"http://[::1/devcontainer-feature-x.tgz",
		"http://q@c:d:e[::ABC.DY:0080/devcontainer-feature-x.tgz" };
	static const char *const good[][2] = {
		{ "https://h:065535/devcontainer-feature-x.tgz",
		    "https://h:65535/devcontainer-feature-x.tgz" },
		{ "https://a@b@H/devcontainer-feature-x.tgz",
		    "https://a%40b@h/devcontainer-feature-x.tgz" },
		{ "https://a;b=c[d]:x:y@h/devcontainer-feature-x.tgz",
		    "https://a%3Bb%3Dc%5Bd%5D:x%3Ay@h/devcontainer-feature-x.tgz" },
		{ "https://%7e:@h/devcontainer-feature-x.tgz",
		    "https://%7e@h/devcontainer-feature-x.tgz" },
		{ "https://:@h/devcontainer-feature-x.tgz",
		    "https://h/devcontainer-feature-x.tgz" },
		{ "https://[::ABCD]:0443/devcontainer-feature-x.tgz",
		    "https://[::abcd]/devcontainer-feature-x.tgz" },
		{ "https://127.0.0.1:8080/devcontainer-feature-x.tgz",
		    "https://127.0.0.1:8080/devcontainer-feature-x.tgz" },
		{ "https://h.1a/../../devcontainer-feature-x.tgz",
		    "https://h.1a/devcontainer-feature-x.tgz" },
	};
	struct feature_ref r;
	char *cause = NULL;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ASSERT_INT_EQ(feature_ref_parse(bad[i], &r, &cause), -1);
		ASSERT_STR_CONTAINS(cause, bad[i]);
		free(cause);
		cause = NULL;
	}
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		if (feature_ref_parse(good[i][0], &r, &cause) != 0)
			TEST_FAIL("%s", cause);
		ASSERT_STR_EQ(r.url, good[i][1]);
		feature_ref_clear(&r);
	}
}

/* Plain http:// runs a stranger's install.sh as root: https:// only (the
 * spec's "direct HTTPS tarball", the reference's only form), but for this
 * machine's loopback, which the reference speaks plain HTTP to as well. */
TEST(tarball_url_http_loopback_only)
{
	static const char *const bad[] = {
		"http://example.com/devcontainer-feature-x.tgz",
		"http://10.0.0.1:8000/devcontainer-feature-x.tgz",
		"http://127.evil.example/devcontainer-feature-x.tgz",
		"http://localhost.example/devcontainer-feature-x.tgz",
		"http://[::2]/devcontainer-feature-x.tgz"
	};
	static const char *const good[] = {
		"https://example.com/devcontainer-feature-x.tgz",
		"http://localhost:8000/devcontainer-feature-x.tgz",
		"http://LOCALHOST/devcontainer-feature-x.tgz",
		"http://127.0.0.1/devcontainer-feature-x.tgz",
		"http://127.1.2.3:9/devcontainer-feature-x.tgz",
		"http://[::1]:8000/devcontainer-feature-x.tgz"
	};
	struct feature_ref r;
	char *cause = NULL;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ASSERT_INT_EQ(feature_ref_parse(bad[i], &r, &cause), -1);
		ASSERT_STR_CONTAINS(cause, bad[i]);
		ASSERT_STR_CONTAINS(cause, "must be https://");
		free(cause);
		cause = NULL;
	}
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		if (feature_ref_parse(good[i], &r, &cause) != 0)
			TEST_FAIL("%s: %s", good[i], cause);
		feature_ref_clear(&r);
	}
}

/* What the reference takes for a GitHub release Feature when it cannot
 * fetch it from a registry. */
TEST(github_release_form)
{
	ASSERT_INT_EQ(feature_ref_github_form("owner/repo/feat"), 1);
	ASSERT_INT_EQ(feature_ref_github_form("localhost:5000/ns/x"), 1);
	ASSERT_INT_EQ(feature_ref_github_form("owner/repo/feat@v1.2"), 1);
	ASSERT_INT_EQ(feature_ref_github_form("localhost:5000/ns/x:1"), 0);
	ASSERT_INT_EQ(feature_ref_github_form("ghcr.io/a/features/x"), 0);
	ASSERT_INT_EQ(feature_ref_github_form("a//x"), 0);
	ASSERT_INT_EQ(feature_ref_github_form("a/b/x@1@2"), 0);
	ASSERT_INT_EQ(feature_ref_github_form("a/b/"), 0);
	ASSERT_INT_EQ(feature_ref_github_form("node"), 0);
}

/* The reference's getBackwardCompatibleFeatureId(). */
TEST(short_deprecated_ids_mapped)
{
	char *s;

	s = feature_ref_backcompat("node");
	ASSERT_STR_EQ(s, "ghcr.io/devcontainers/features/node:1");
	free(s);
	s = feature_ref_backcompat("golang");
	ASSERT_STR_EQ(s, "ghcr.io/devcontainers/features/go:1");
	free(s);
	s = feature_ref_backcompat("common");
	ASSERT_STR_EQ(s, "ghcr.io/devcontainers/features/common-utils:1");
	free(s);
	s = feature_ref_backcompat("kubectl-helm-minikube");
	ASSERT_STR_EQ(s, "ghcr.io/devcontainers/features/kubectl-helm-minikube:1");
	free(s);
	ASSERT_NULL(feature_ref_backcompat("fish"));
	ASSERT_NULL(feature_ref_backcompat("maven")); /* folded into java */
	ASSERT_NULL(feature_ref_backcompat("Node"));
	ASSERT_NULL(feature_ref_backcompat("./node"));
}

/* The reference's updateDeprecatedFeaturesIntoOptions(). */
static char *
fold_text(const char *json)
{
	cJSON *in = cJSON_Parse(json), *out = feature_ref_fold_deprecated(in);
	char *s = cJSON_PrintUnformatted(out);

	cJSON_Delete(in);
	cJSON_Delete(out);
	return s;
}

TEST(deprecated_features_folded_into_options)
{
	char *s;

	/* None there: a new java:1 after the others; maven then joins it. */
	s = fold_text("{\"gradle\":true,\"./a\":{},\"maven\":{}}");
	ASSERT_STR_EQ(s,
	    "{\"./a\":{},\"ghcr.io/devcontainers/features/java:1\":"
	    "{\"installGradle\":true,\"installMaven\":true}}");
	free(s);
	/* An existing java keeps its place; a string is its version. */
	s = fold_text("{\"jupyterlab\":true,\"ghcr.io/devcontainers/features/python:1\":"
		      "\"3.12\",\"ghcr.io/devcontainers/features/java\":{\"x\":\"1\"},"
		      "\"maven\":true}");
	ASSERT_STR_EQ(s,
	    "{\"ghcr.io/devcontainers/features/python:1\":{\"version\":\"3.12\","
	    "\"installJupyterlab\":true},\"ghcr.io/devcontainers/features/java\":"
	    "{\"x\":\"1\",\"installMaven\":true}}");
	free(s);
	/* The short "java" counts; an option already there is replaced. */
	s = fold_text("{\"java\":{\"installGradle\":false},\"gradle\":true}");
	ASSERT_STR_EQ(s, "{\"java\":{\"installGradle\":true}}");
	free(s);
	s = fold_text("{\"ghcr.io/devcontainers/features/javax:1\":{},\"gradle\":1}");
	ASSERT_STR_EQ(s,
	    "{\"ghcr.io/devcontainers/features/javax:1\":{},"
	    "\"ghcr.io/devcontainers/features/java:1\":{\"installGradle\":true}}");
	free(s);
	ASSERT_STR_EQ(feature_ref_folded_into("maven"), "java");
	ASSERT_NULL(feature_ref_folded_into("java"));
}
