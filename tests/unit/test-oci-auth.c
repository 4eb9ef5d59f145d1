/* test-oci-auth.c - registry challenges, tokens (agent/oci-auth.c) and
 * manifest/digest checks (agent/oci-client.c). Credentials:
 * test-oci-cred.c. */
#include "test.h"

#include "feature-fetch.h"
#include "oci.h"

TEST(challenge_bearer)
{
	struct oci_challenge c;

	ASSERT_INT_EQ(
	    oci_challenge_parse("Bearer realm=\"https://ghcr.io/token\","
				"service=\"ghcr.io\",scope=\"repository:a/b:pull\"",
		&c, NULL),
	    0);
	ASSERT_STR_EQ(c.scheme, "Bearer");
	ASSERT_STR_EQ(c.realm, "https://ghcr.io/token");
	ASSERT_STR_EQ(c.service, "ghcr.io");
	ASSERT_STR_EQ(c.scope, "repository:a/b:pull");
	oci_challenge_clear(&c);
}

TEST(challenge_spaces_escapes_and_tokens)
{
	struct oci_challenge c;

	ASSERT_INT_EQ(oci_challenge_parse("  bearer  Realm = \"x\"", &c, NULL), 0);
	/* "Realm = ..." is not key=value: the challenge stops there. */
	ASSERT_STR_EQ(c.scheme, "bearer");
	ASSERT_NULL(c.realm);
	oci_challenge_clear(&c);
	ASSERT_INT_EQ(oci_challenge_parse(
			  "Bearer realm=\"a\\\"b\", service=svc, foo=\"bar\"", &c, NULL),
	    0);
	ASSERT_STR_EQ(c.realm, "a\"b");
	ASSERT_STR_EQ(c.service, "svc");
	ASSERT_NULL(c.scope);
	oci_challenge_clear(&c);
	ASSERT_INT_EQ(oci_challenge_parse("Basic realm=\"Registry\"", &c, NULL), 0);
	ASSERT_STR_EQ(c.scheme, "Basic");
	oci_challenge_clear(&c);
}

TEST(challenge_malformed)
{
	struct oci_challenge c;
	char *cause = NULL;

	ASSERT_INT_EQ(oci_challenge_parse("", &c, &cause), -1);
	ASSERT_STR_CONTAINS(cause, "malformed WWW-Authenticate");
	free(cause);
	cause = NULL;
	ASSERT_INT_EQ(oci_challenge_parse("Bearer realm=\"unterminated", &c, &cause), -1);
	free(cause);
	ASSERT_INT_EQ(oci_challenge_parse("=x", &c, NULL), -1);
}

TEST(token_reply)
{
	char *t;

	t = oci_auth_token_parse("{\"token\":\"abc\"}", 15);
	ASSERT_STR_EQ(t, "abc");
	free(t);
	t = oci_auth_token_parse("{\"token\":\"\",\"access_token\":\"xyz\"}", 34);
	ASSERT_STR_EQ(t, "xyz");
	free(t);
	ASSERT_NULL(oci_auth_token_parse("{}", 2));
	ASSERT_NULL(oci_auth_token_parse("{\"token\":1}", 11));
}

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"

static char *
layer_of(const char *json, char **cause)
{
	return oci_manifest_layer(json, strlen(json), cause);
}

TEST(manifest_layer_selection)
{
	char *cause = NULL, *d;

	d = layer_of(
	    "{\"schemaVersion\":2,\"layers\":[{\"mediaType\":\"application/vnd.oci.image."
	    "layer.v1.tar\",\"digest\":\"" D1
	    "\"},{\"mediaType\":\"" FEATURE_OCI_LAYER_TYPE "\",\"digest\":\"" D2 "\"}]}",
	    &cause);
	ASSERT_STR_EQ(d, D2);
	free(d);
	ASSERT_NULL(layer_of("{\"manifests\":[]}", &cause));
	ASSERT_STR_CONTAINS(cause, "image index");
	free(cause);
	ASSERT_NULL(layer_of(
	    "{\"layers\":[{\"mediaType\":\"x\",\"digest\":\"" D1 "\"}]}", &cause));
	ASSERT_STR_CONTAINS(cause, "no layer of media type");
	free(cause);
	ASSERT_NULL(layer_of(
	    "{\"layers\":[{\"mediaType\":\"" FEATURE_OCI_LAYER_TYPE "\",\"digest\":\"" D1
	    "\"},{\"mediaType\":\"" FEATURE_OCI_LAYER_TYPE "\",\"digest\":\"" D2 "\"}]}",
	    &cause));
	ASSERT_STR_CONTAINS(cause, "more than one");
	free(cause);
	ASSERT_NULL(layer_of("{\"layers\":[{\"mediaType\":\"" FEATURE_OCI_LAYER_TYPE
			     "\",\"digest\":\"sha256:../../x\"}]}",
	    &cause));
	ASSERT_STR_CONTAINS(cause, "no sha256 digest");
	free(cause);
	ASSERT_NULL(layer_of("[", &cause));
	free(cause);
}

TEST(digest_verify)
{
	char *d = oci_digest_of("abc", 3), *cause = NULL;

	ASSERT_STR_EQ(
	    d, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	ASSERT_INT_EQ(oci_digest_verify("abc", 3, d, &cause), 0);
	ASSERT_INT_EQ(oci_digest_verify("abd", 3, d, &cause), -1);
	ASSERT_STR_CONTAINS(cause, "digest mismatch: expected sha256:ba7816bf");
	free(cause);
	free(d);
}
