/* fuzz-feature.c - fuzz what rdev reads of a Dev Container Feature from the
 * network or a Feature's folder: the registry's WWW-Authenticate challenge,
 * its token answer and its manifest (agent/oci-auth.c, oci-client.c), a
 * Docker config.json's credentials, and devcontainer-feature.json
 * (common/feature-json.c) with its options' values and their env file.
 *
 * The first byte picks the parser; the rest is its input. Any answer is
 * fine; a crash or a sanitizer report is not. A manifest's layer, when one
 * is taken, must be a "sha256:" digest of 64 hex digits; a parse error of
 * devcontainer-feature.json must read "fuzz:LINE:COL: ..." or name the file.
 * A Feature id (agent/feature-ref.c) is parsed, normalised as a tarball URL,
 * mapped as a deprecated id, and, as a "features" object, folded.
 */
#include <stdlib.h>
#include <string.h>

#include "feature-fetch.h"
#include "feature-json.h"
#include "fuzz.h"
#include "oci.h"
#include "xmalloc.h"

static void
check_digest(const char *d)
{
	if (strncmp(d, "sha256:", 7) != 0 || strlen(d) != 7 + 64 ||
	    strspn(d + 7, "0123456789abcdef") != 64)
		abort();
}

static void
fuzz_feature_json(const char *text, size_t len)
{
	struct feature_json *fj;
	char *cause = NULL, *env;
	cJSON *given, *opts;

	if ((fj = feature_json_parse("fuzz", text, len, &cause)) == NULL) {
		if (cause == NULL || strncmp(cause, "fuzz", 4) != 0)
			abort();
		free(cause);
		return;
	}
	if (feature_json_id(fj) == NULL)
		abort();
	/* its defaults, then a value given for each declared option */
	given = cJSON_CreateObject();
	for (const cJSON *o =
		 cJSON_GetObjectItemCaseSensitive(feature_json_root(fj), "options")
		 ? cJSON_GetObjectItemCaseSensitive(feature_json_root(fj), "options")
		       ->child
		 : NULL;
	     o != NULL; o = o->next)
		cJSON_AddStringToObject(given, o->string, "x");
	for (int i = 0; i < 2; i++) {
		opts = feature_json_options(
		    fj, i == 0 ? NULL : given, "where", NULL, &cause);
		if (opts == NULL) {
			if (cause == NULL)
				abort();
			free(cause);
			cause = NULL;
			continue;
		}
		env = feature_json_env_file(opts);
		free(env);
		cJSON_Delete(opts);
	}
	cJSON_Delete(given);
	feature_json_free(fj);
}

/* text as a Feature id, and as a devcontainer.json "features" object. */
static void
fuzz_feature_ref(const char *text)
{
	struct feature_ref ref;
	char *cause = NULL, *s;
	cJSON *in, *out;

	if (feature_ref_parse(text, &ref, &cause) == 0) {
		if (ref.resource == NULL || ref.url == NULL || ref.name == NULL)
			abort();
		/* a normalised URL is its own normal form */
		if (ref.kind == FEATURE_REF_TARBALL) {
			s = feature_ref_url_normalise(ref.url);
			if (strcmp(s, ref.url) != 0)
				abort();
			free(s);
		}
		feature_ref_clear(&ref);
	} else if (cause == NULL)
		abort();
	free(cause);
	if (strncmp(text, "https://", 8) == 0 || strncmp(text, "http://", 7) == 0) {
		s = feature_ref_url_normalise(text);
		if (strncmp(s, "http", 4) != 0)
			abort();
		free(s);
	}
	(void)feature_ref_github_form(text);
	free(feature_ref_backcompat(text));
	if ((in = cJSON_Parse(text)) != NULL && cJSON_IsObject(in)) {
		out = feature_ref_fold_deprecated(in);
		for (const cJSON *e = out->child; e != NULL; e = e->next)
			if (e->string == NULL ||
			    feature_ref_folded_into(e->string) != NULL)
				abort();
		cJSON_Delete(out);
	}
	cJSON_Delete(in);
}

/* A credential helper that answers what text holds. */
static int
fuzz_feature_helper(
    void *arg, const char *name, const char *registry, struct oci_cred *out, char **why)
{
	char *cause = NULL;
	int rc;

	(void)name;
	(void)registry;
	rc = oci_cred_helper_parse(arg, strlen(arg), out, &cause);
	if (rc < 0 && cause == NULL)
		abort();
	*why = cause;
	return rc;
}

/* text as config.json, as DEVCONTAINERS_OCI_AUTH and as a helper's answer. */
static void
fuzz_feature_cred(const char *text)
{
	struct oci_cred_sources s = { 0 };
	struct oci_cred c;

	s.oci_auth = text;
	s.config_path = "config.json";
	s.config_text = text;
	s.helper = fuzz_feature_helper;
	s.helper_arg = (void *)text;
	oci_cred_lookup(&s, "localhost:5000", &c);
	if (c.where == NULL || (c.kind != OCI_CRED_NONE) != (c.secret != NULL))
		abort();
	oci_cred_clear(&c);
	s.oci_auth = NULL;
	oci_cred_lookup(&s, "localhost:5000", &c);
	oci_cred_clear(&c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct oci_challenge ch;
	char *text, *cause = NULL, *s;

	if (size < 1)
		return 0;
	text = xstrndup((const char *)data + 1, size - 1);
	/* 'R' (82, which % 5 would make a manifest): a Feature id */
	if (data[0] == 'R') {
		fuzz_feature_ref(text);
		free(text);
		return 0;
	}
	switch (data[0] % 5) {
	case 0:
		if (oci_challenge_parse(text, &ch, &cause) == 0) {
			if (ch.scheme == NULL)
				abort();
			oci_challenge_clear(&ch);
		} else if (cause == NULL)
			abort();
		break;
	case 1: free(oci_auth_token_parse(text, strlen(text))); break;
	case 2:
		if ((s = oci_manifest_layer(text, strlen(text), &cause)) != NULL) {
			check_digest(s);
			free(s);
		} else if (cause == NULL)
			abort();
		break;
	case 3: fuzz_feature_cred(text); break;
	case 4: fuzz_feature_json(text, strlen(text)); break;
	}
	free(cause);
	free(text);
	return 0;
}
