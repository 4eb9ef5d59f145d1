/* test-oci-cred.c - where a registry's credentials come from
 * (agent/oci-cred.c): DEVCONTAINERS_OCI_AUTH, a credential helper's answer,
 * and the reference CLI's lookup order, with helpers played by a fake that
 * records who was asked. */
#include "test.h"

#include "buf.h"
#include "oci.h"
#include "xmalloc.h"

#define REG "localhost:5000"
#define CFG "/c/config.json"

TEST(env_entry)
{
	char *b;

	b = oci_cred_env_entry("ghcr.io|a|b," REG "|rig|rig", REG);
	ASSERT_STR_EQ(b, "cmlnOnJpZw==");
	free(b);
	/* the registry matches whole: not a prefix, not a longer name */
	ASSERT_NULL(oci_cred_env_entry(REG "1|u|p,localhost|u|p", REG));
	ASSERT_NULL(oci_cred_env_entry("", REG));
	ASSERT_NULL(oci_cred_env_entry(REG, REG));
	/* the first entry wins; a '|' in a password is kept */
	b = oci_cred_env_entry(REG "|u|p|q," REG "|x|y", REG);
	ASSERT_STR_EQ(b, "dTpwfHE=");
	free(b);
	/* no password: an empty one */
	b = oci_cred_env_entry("a|b|c," REG "|u", REG);
	ASSERT_STR_EQ(b, "dTo=");
	free(b);
}

TEST(helper_answer)
{
	const char *basic =
	    "{\"ServerURL\":\"" REG "\",\"Username\":\"u\",\"Secret\":\"p\"}\n";
	const char *token = "{\"Username\":\"<token>\",\"Secret\":\"rt\"}";
	struct oci_cred c;
	char *cause = NULL;

	ASSERT_INT_EQ(oci_cred_helper_parse(basic, strlen(basic), &c, &cause), 1);
	ASSERT_INT_EQ(c.kind, OCI_CRED_BASIC);
	ASSERT_STR_EQ(c.secret, "dTpw");
	oci_cred_clear(&c);
	ASSERT_NULL(c.secret);
	/* Docker's identity-token convention */
	ASSERT_INT_EQ(oci_cred_helper_parse(token, strlen(token), &c, &cause), 1);
	ASSERT_INT_EQ(c.kind, OCI_CRED_IDENTITY);
	ASSERT_STR_EQ(c.secret, "rt");
	oci_cred_clear(&c);
	/* nothing said: no credentials */
	ASSERT_INT_EQ(oci_cred_helper_parse(" \n", 2, &c, &cause), 0);
	ASSERT_INT_EQ(c.kind, OCI_CRED_NONE);
	ASSERT_INT_EQ(oci_cred_helper_parse("", 0, &c, &cause), 0);
}

TEST(helper_answer_malformed_never_quoted)
{
	const char *bad[] = { "{\"Username\":\"u\",\"Secret\":\"hunter2\"", "hunter2",
		"[\"hunter2\"]", "{\"Username\":\"hunter2\"}",
		"{\"Username\":7,\"Secret\":\"hunter2\"}" };
	struct oci_cred c;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char *cause = NULL;

		ASSERT_INT_EQ(
		    oci_cred_helper_parse(bad[i], strlen(bad[i]), &c, &cause), -1);
		ASSERT_NOT_NULL(cause);
		ASSERT_STR_CONTAINS(cause, "answer");
		if (strstr(cause, "hunter2") != NULL)
			TEST_FAIL("the message quotes the answer: %s", cause);
		ASSERT_NULL(c.secret);
		free(cause);
	}
}

/* The fake helpers: "good" (u:p), "tok" (an identity token), "none"
 * (nothing stored), "gone" (not installed), "bad" (fails); each call is
 * recorded as "name " in asked. */
struct fake {
	struct buf *asked;
};

static int
fake_helper(
    void *arg, const char *name, const char *registry, struct oci_cred *out, char **why)
{
	struct fake *f = arg;

	buf_appendf(f->asked, "%s ", name);
	if (strcmp(name, "good") == 0) {
		out->kind = OCI_CRED_BASIC;
		out->secret = strdup("dTpw");
		return 1;
	}
	if (strcmp(name, "tok") == 0) {
		out->kind = OCI_CRED_IDENTITY;
		out->secret = strdup("rt");
		return 1;
	}
	if (strcmp(name, "bad") == 0) {
		*why = xasprintf(
		    "failed for %s: exited with status 3: keychain locked", registry);
		return -1;
	}
	*why = strcmp(name, "none") == 0
	    ? xasprintf("has no credentials for %s", registry)
	    : xstrdup("is not installed (not on PATH)");
	return 0;
}

/* Look REG up with config text cfg (NULL: no file) and the fake helpers;
 * *asked gets who was asked (new string). */
static void
lookup(const char *oci_auth, const char *cfg, int pass, struct oci_cred *c, char **asked)
{
	struct fake f = { buf_new() };
	struct oci_cred_sources s = { 0 };

	s.oci_auth = oci_auth;
	s.config_path = CFG;
	s.config_text = cfg;
	s.pass_on_path = pass;
	s.helper = fake_helper;
	s.helper_arg = &f;
	oci_cred_lookup(&s, REG, c);
	*asked = buf_take_string(f.asked, NULL);
	buf_free(f.asked);
}

TEST(order_env_first)
{
	struct oci_cred c;
	char *asked;

	lookup("other|a|b," REG "|rig|rig", "{\"credHelpers\":{\"" REG "\":\"good\"}}", 0,
	    &c, &asked);
	ASSERT_INT_EQ(c.kind, OCI_CRED_BASIC);
	ASSERT_STR_EQ(c.secret, "cmlnOnJpZw==");
	ASSERT_STR_EQ(c.where, "DEVCONTAINERS_OCI_AUTH");
	ASSERT_STR_EQ(asked, "");
	oci_cred_clear(&c);
	free(asked);
	/* set, but not for this registry: config.json next */
	lookup("other|a|b", "{\"credHelpers\":{\"" REG "\":\"good\"}}", 0, &c, &asked);
	ASSERT_STR_EQ(c.secret, "dTpw");
	ASSERT_STR_EQ(c.where, "docker-credential-good (credHelpers in " CFG ")");
	ASSERT_STR_EQ(asked, "good ");
	oci_cred_clear(&c);
	free(asked);
}

TEST(order_cred_helpers_then_creds_store_then_auths)
{
	struct oci_cred c;
	char *asked;

	/* credHelpers for another registry: credsStore */
	lookup(NULL, "{\"credHelpers\":{\"ghcr.io\":\"bad\"},\"credsStore\":\"tok\"}", 0,
	    &c, &asked);
	ASSERT_INT_EQ(c.kind, OCI_CRED_IDENTITY);
	ASSERT_STR_EQ(c.secret, "rt");
	ASSERT_STR_EQ(c.where, "docker-credential-tok (credsStore in " CFG ")");
	ASSERT_STR_EQ(asked, "tok ");
	oci_cred_clear(&c);
	free(asked);
	/* credHelpers names one with nothing: credsStore is not asked (the
	 * reference's else-if), auths is read */
	lookup(NULL,
	    "{\"credHelpers\":{\"" REG "\":\"none\"},\"credsStore\":\"good\","
	    "\"auths\":{\"" REG "\":{\"auth\":\"YTpi\"}}}",
	    0, &c, &asked);
	ASSERT_INT_EQ(c.kind, OCI_CRED_BASIC);
	ASSERT_STR_EQ(c.secret, "YTpi");
	ASSERT_STR_EQ(c.where, "the \"auths\" entry in " CFG);
	ASSERT_STR_EQ(asked, "none ");
	oci_cred_clear(&c);
	free(asked);
	/* a failing credsStore, then auths' identity token (before its auth);
	 * old clients' URL keys match */
	lookup(NULL,
	    "{\"credsStore\":\"bad\",\"auths\":{\"https://" REG
	    "/v1/\":{\"auth\":\"YTpi\",\"identitytoken\":\"idt\"}}}",
	    0, &c, &asked);
	ASSERT_INT_EQ(c.kind, OCI_CRED_IDENTITY);
	ASSERT_STR_EQ(c.secret, "idt");
	ASSERT_STR_EQ(c.where, "the identity token in " CFG);
	oci_cred_clear(&c);
	free(asked);
}

TEST(none_says_where_it_looked)
{
	struct oci_cred c;
	char *asked;

	/* A failing helper and an auths entry with nothing in it (what docker
	 * login leaves beside a credsStore): anonymous; config.json names
	 * credentials, so no default helper. */
	lookup(
	    NULL, "{\"credsStore\":\"bad\",\"auths\":{\"" REG "\":{}}}", 1, &c, &asked);
	ASSERT_INT_EQ(c.kind, OCI_CRED_NONE);
	ASSERT_NULL(c.secret);
	ASSERT_STR_EQ(c.where,
	    "DEVCONTAINERS_OCI_AUTH is not set; docker-credential-bad (credsStore "
	    "in " CFG ") failed for " REG ": exited with status 3: keychain locked");
	ASSERT_STR_EQ(asked, "bad ");
	oci_cred_clear(&c);
	free(asked);
	/* only other registries' auths */
	lookup(NULL, "{\"auths\":{\"ghcr.io\":{\"auth\":\"YTpi\"}}}", 1, &c, &asked);
	ASSERT_INT_EQ(c.kind, OCI_CRED_NONE);
	ASSERT_STR_CONTAINS(c.where, CFG " has no credentials for " REG);
	ASSERT_STR_EQ(asked, "");
	oci_cred_clear(&c);
	free(asked);
}

TEST(default_helper_only_when_nothing_configured)
{
	struct oci_cred c;
	char *asked;

	lookup(NULL, NULL, 1, &c, &asked);
	ASSERT_STR_EQ(asked, "pass ");
	ASSERT_INT_EQ(c.kind, OCI_CRED_NONE);
	ASSERT_STR_CONTAINS(c.where, CFG " does not exist");
	ASSERT_STR_CONTAINS(
	    c.where, "docker-credential-pass (the default helper) is not installed");
	oci_cred_clear(&c);
	free(asked);
	/* without the program pass on PATH: "secret" (the reference's name) */
	lookup(
	    NULL, "{\"auths\":{},\"credHelpers\":{},\"credsStore\":\"\"}", 0, &c, &asked);
	ASSERT_STR_EQ(asked, "secret ");
	oci_cred_clear(&c);
	free(asked);
	/* anything configured, even for other registries: no default helper */
	lookup(NULL, "{\"credHelpers\":{\"ghcr.io\":\"good\"}}", 0, &c, &asked);
	ASSERT_STR_EQ(asked, "");
	ASSERT_INT_EQ(c.kind, OCI_CRED_NONE);
	oci_cred_clear(&c);
	free(asked);
}

TEST(unreadable_or_invalid_config)
{
	struct oci_cred_sources s = { 0 };
	struct fake f = { buf_new() };
	struct oci_cred c;
	char *asked;

	/* not JSON: no default helper (the reference gives up on config.json) */
	lookup(NULL, "{\"credsStore\": ", 1, &c, &asked);
	ASSERT_STR_EQ(asked, "");
	ASSERT_INT_EQ(c.kind, OCI_CRED_NONE);
	ASSERT_STR_CONTAINS(c.where, CFG ":1:");
	oci_cred_clear(&c);
	free(asked);
	s.config_path = CFG;
	s.config_error = "Permission denied";
	s.pass_on_path = 1;
	s.helper = fake_helper;
	s.helper_arg = &f;
	oci_cred_lookup(&s, REG, &c);
	ASSERT_INT_EQ(buf_len(f.asked), 0);
	ASSERT_STR_CONTAINS(c.where, CFG ": Permission denied");
	oci_cred_clear(&c);
	buf_free(f.asked);
}

TEST(helper_names_are_not_paths)
{
	struct oci_cred c;
	char *asked;

	lookup(NULL, "{\"credHelpers\":{\"" REG "\":\"../../bin/x\"}}", 0, &c, &asked);
	ASSERT_STR_EQ(asked, "");
	ASSERT_STR_CONTAINS(c.where, "not a credential helper's name");
	oci_cred_clear(&c);
	free(asked);
}

TEST(github_token_for_ghcr_only)
{
	struct oci_cred_sources s = { 0 };
	struct oci_cred c;

	s.config_path = CFG;
	s.github_token = "ghp_x";
	oci_cred_lookup(&s, "ghcr.io", &c);
	ASSERT_INT_EQ(c.kind, OCI_CRED_BASIC);
	ASSERT_STR_EQ(c.secret, "VVNFUk5BTUU6Z2hwX3g=");
	ASSERT_STR_EQ(c.where, "GITHUB_TOKEN");
	oci_cred_clear(&c);
	/* config.json first */
	s.config_text = "{\"auths\":{\"ghcr.io\":{\"auth\":\"YTpi\"}}}";
	oci_cred_lookup(&s, "ghcr.io", &c);
	ASSERT_STR_EQ(c.secret, "YTpi");
	oci_cred_clear(&c);
	s.config_text = NULL;
	oci_cred_lookup(&s, REG, &c);
	ASSERT_INT_EQ(c.kind, OCI_CRED_NONE);
	oci_cred_clear(&c);
	s.github_host = "github.com";
	oci_cred_lookup(&s, "ghcr.io", &c);
	ASSERT_INT_EQ(c.kind, OCI_CRED_BASIC);
	oci_cred_clear(&c);
	s.github_host = "github.example.com";
	oci_cred_lookup(&s, "ghcr.io", &c);
	ASSERT_INT_EQ(c.kind, OCI_CRED_NONE);
	ASSERT_STR_CONTAINS(c.where, "GITHUB_HOST is github.example.com");
	oci_cred_clear(&c);
}
