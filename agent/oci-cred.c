/* oci-cred.c - which credentials a registry gets, in the reference CLI's
 * order (oci.h, oci_cred_lookup): DEVCONTAINERS_OCI_AUTH, Docker's
 * config.json (credHelpers, credsStore, auths), the platform's default
 * credential helper, GITHUB_TOKEN. Pure: what it reads comes in a struct
 * oci_cred_sources, helpers are run through its callback (oci-cred-find.c
 * gives the real ones). */
#include "oci.h"

#include <cjson/cJSON.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error.h"
#include "jsonc.h"
#include "secrets.h"
#include "xmalloc.h"

void
oci_cred_clear(struct oci_cred *c)
{
	if (c->secret != NULL) {
		sodium_memzero(c->secret, strlen(c->secret));
		free(c->secret);
	}
	free(c->where);
	memset(c, 0, sizeof *c);
}

/* base64 of "user:password", as a Basic Authorization carries it. New
 * string (a secret); the joined text is wiped. */
static char *
oci_cred_basic(const char *user, size_t ulen, const char *password, size_t plen)
{
	size_t n = ulen + 1 + plen, blen;
	char *plain = xmalloc(n + 1), *out;

	memcpy(plain, user, ulen);
	plain[ulen] = ':';
	memcpy(plain + ulen + 1, password, plen);
	blen = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
	out = xmalloc(blen);
	sodium_bin2base64(
	    out, blen, (const unsigned char *)plain, n, sodium_base64_VARIANT_ORIGINAL);
	sodium_memzero(plain, n);
	free(plain);
	return out;
}

char *
oci_cred_env_entry(const char *value, const char *registry)
{
	size_t rlen = strlen(registry);
	const char *e, *end, *bar, *user, *pass;

	/* "registry|user|password,registry|user|password": the first entry
	 * whose registry is this one, exactly (the reference's find()). */
	for (e = value; e != NULL && *e != '\0'; e = *end == ',' ? end + 1 : end) {
		end = e + strcspn(e, ",");
		bar = memchr(e, '|', (size_t)(end - e));
		if (bar == NULL || (size_t)(bar - e) != rlen ||
		    strncmp(e, registry, rlen) != 0)
			continue;
		user = bar + 1;
		/* A missing password is empty; a '|' in one is kept (the
		 * reference would cut the password there). */
		if ((pass = memchr(user, '|', (size_t)(end - user))) == NULL)
			return oci_cred_basic(user, (size_t)(end - user), "", 0);
		return oci_cred_basic(
		    user, (size_t)(pass - user), pass + 1, (size_t)(end - pass - 1));
	}
	return NULL;
}

int
oci_cred_helper_parse(const char *text, size_t len, struct oci_cred *out, char **cause)
{
	cJSON *doc, *user, *secret;
	size_t i;
	int rc = -1;

	memset(out, 0, sizeof *out);
	for (i = 0; i < len && strchr(" \t\r\n", text[i]) != NULL; i++)
		;
	if (i == len)
		return 0; /* nothing: no credentials (as the reference) */
	/* No parser message: it could quote the secret. */
	doc = cJSON_ParseWithLength(text, len);
	user = cJSON_GetObjectItemCaseSensitive(doc, "Username");
	secret = cJSON_GetObjectItemCaseSensitive(doc, "Secret");
	if (!cJSON_IsObject(doc))
		error_set(cause, "its answer is not a JSON object");
	else if (!cJSON_IsString(secret) || secret->valuestring[0] == '\0')
		error_set(cause, "its answer has no \"Secret\"");
	else if (user != NULL && !cJSON_IsString(user))
		error_set(cause, "its answer's \"Username\" is not a string");
	else if (user != NULL && strcmp(user->valuestring, "<token>") == 0) {
		/* Docker's convention for an identity token: the token
		 * endpoint's refresh_token grant takes it, not Basic. */
		out->kind = OCI_CRED_IDENTITY;
		out->secret = xstrdup(secret->valuestring);
		rc = 1;
	} else {
		const char *u = user != NULL ? user->valuestring : "";

		out->kind = OCI_CRED_BASIC;
		out->secret = oci_cred_basic(
		    u, strlen(u), secret->valuestring, strlen(secret->valuestring));
		rc = 1;
	}
	secrets_json_wipe(doc);
	cJSON_Delete(doc);
	return rc;
}

/* The notes of where the lookup has been, ready for one more
 * ("; "-separated). */
static struct buf *
oci_cred_next(struct buf *notes)
{
	if (buf_len(notes) > 0)
		buf_append(notes, "; ", 2);
	return notes;
}

/* Ask helper name (labelled by role in messages) for registry's
 * credentials: 1 with *out filled, else 0 with a note of why not. */
static int
oci_cred_ask(const struct oci_cred_sources *s, const char *name, const char *role,
    const char *registry, struct oci_cred *out, struct buf *notes)
{
	char *who = xasprintf("docker-credential-%s (%s)", name, role), *why = NULL;
	int rc;

	if (name[0] == '\0' || strchr(name, '/') != NULL) {
		buf_appendf(
		    oci_cred_next(notes), "%s: not a credential helper's name", who);
		free(who);
		return 0;
	}
	rc = s->helper != NULL ? s->helper(s->helper_arg, name, registry, out, &why) : 0;
	if (rc == 1) {
		out->where = who;
		free(why);
		return 1;
	}
	oci_cred_clear(out);
	buf_appendf(
	    oci_cred_next(notes), "%s %s", who, why != NULL ? why : "gave nothing");
	free(who);
	free(why);
	return 0;
}

/* Does a config.json "auths" key name registry? Docker writes bare hosts,
 * and old clients URLs like https://index.docker.io/v1/ (the reference
 * matches the bare host only). */
static int
oci_cred_auths_key_matches(const char *key, const char *registry)
{
	size_t n;

	if (strncmp(key, "https://", 8) == 0)
		key += 8;
	else if (strncmp(key, "http://", 7) == 0)
		key += 7;
	n = strcspn(key, "/");
	return n == strlen(registry) && strncasecmp(key, registry, n) == 0;
}

/* registry's "auths" entry: its identitytoken, else its auth. 1 or 0. An
 * entry with neither (what `docker login` leaves beside a credsStore) is no
 * entry (the reference would stop there, leaving GITHUB_TOKEN unread). */
static int
oci_cred_from_auths(
    const cJSON *auths, const char *registry, const char *path, struct oci_cred *out)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, auths) {
		cJSON *tok = cJSON_GetObjectItemCaseSensitive(e, "identitytoken");
		cJSON *auth = cJSON_GetObjectItemCaseSensitive(e, "auth");

		if (e->string == NULL || !oci_cred_auths_key_matches(e->string, registry))
			continue;
		if (cJSON_IsString(tok) && tok->valuestring[0] != '\0') {
			out->kind = OCI_CRED_IDENTITY;
			out->secret = xstrdup(tok->valuestring);
			out->where = xasprintf("the identity token in %s", path);
			return 1;
		}
		if (cJSON_IsString(auth) && auth->valuestring[0] != '\0') {
			out->kind = OCI_CRED_BASIC;
			out->secret = xstrdup(auth->valuestring);
			out->where = xasprintf("the \"auths\" entry in %s", path);
			return 1;
		}
	}
	return 0;
}

static int
oci_cred_nonempty_object(const cJSON *o)
{
	return cJSON_IsObject(o) && o->child != NULL;
}

/* config.json's root: the helper credHelpers[registry] names, else the
 * credsStore helper, then the "auths" entry. 1 with *out, or 0; *any says
 * whether it names credentials at all (for any registry). */
static int
oci_cred_from_config(const struct oci_cred_sources *s, const cJSON *root,
    const char *registry, struct oci_cred *out, struct buf *notes, int *any)
{
	const cJSON *helpers = cJSON_GetObjectItemCaseSensitive(root, "credHelpers");
	const cJSON *store = cJSON_GetObjectItemCaseSensitive(root, "credsStore");
	const cJSON *auths = cJSON_GetObjectItemCaseSensitive(root, "auths");
	const cJSON *h = cJSON_GetObjectItemCaseSensitive(helpers, registry);
	char *role;
	int rc;

	if (!cJSON_IsString(store) || store->valuestring[0] == '\0')
		store = NULL;
	if (!cJSON_IsString(h) || h->valuestring[0] == '\0')
		h = NULL;
	*any = oci_cred_nonempty_object(helpers) || store != NULL ||
	    oci_cred_nonempty_object(auths);
	if (h != NULL || store != NULL) {
		role = xasprintf(
		    "%s in %s", h != NULL ? "credHelpers" : "credsStore", s->config_path);
		rc = oci_cred_ask(
		    s, (h != NULL ? h : store)->valuestring, role, registry, out, notes);
		free(role);
		if (rc != 0)
			return 1;
	}
	if (oci_cred_from_auths(auths, registry, s->config_path, out))
		return 1;
	if (h == NULL && store == NULL)
		buf_appendf(oci_cred_next(notes), "%s has no credentials for %s",
		    s->config_path, registry);
	return 0;
}

/* Docker's credentials: config.json's (oci_cred_from_config); when it names
 * none at all (or does not exist), the default helper. 1 with *out, or 0. */
static int
oci_cred_from_docker(const struct oci_cred_sources *s, const char *registry,
    struct oci_cred *out, struct buf *notes)
{
	struct jsonc_doc *doc;
	cJSON *root;
	char *cause = NULL;
	int any = 0, rc;

	if (s->config_error != NULL) {
		/* (the reference gives up on Docker's credentials then) */
		buf_appendf(
		    oci_cred_next(notes), "%s: %s", s->config_path, s->config_error);
		return 0;
	}
	if (s->config_text == NULL)
		buf_appendf(oci_cred_next(notes), "%s does not exist", s->config_path);
	else {
		doc = jsonc_parse(
		    s->config_path, s->config_text, strlen(s->config_text), &cause);
		root = doc != NULL ? jsonc_doc_root(doc) : NULL;
		if (!cJSON_IsObject(root)) {
			if (cause != NULL)
				buf_appendf(oci_cred_next(notes), "%s", cause);
			else
				buf_appendf(oci_cred_next(notes),
				    "%s is not a JSON object", s->config_path);
			/* (the reference gives up on Docker's credentials, as
			 * for an unreadable file: no default helper) */
			rc = 0;
			any = 1;
		} else
			rc = oci_cred_from_config(s, root, registry, out, notes, &any);
		free(cause);
		secrets_json_wipe(root);
		jsonc_doc_free(doc);
		if (rc != 0 || any)
			return rc;
	}
	/* Nothing configured: the platform's default helper, as Docker would
	 * (on Linux the reference asks "pass" when the program pass is on PATH,
	 * else "secret", which is not the name of Docker's secretservice
	 * helper: a quirk kept, it only costs a PATH lookup). */
	return oci_cred_ask(s, s->pass_on_path ? "pass" : "secret", "the default helper",
	    registry, out, notes);
}

void
oci_cred_lookup(
    const struct oci_cred_sources *s, const char *registry, struct oci_cred *out)
{
	struct buf *notes = buf_new();
	char *basic;

	memset(out, 0, sizeof *out);
	if (s->oci_auth != NULL && s->oci_auth[0] != '\0') {
		if ((basic = oci_cred_env_entry(s->oci_auth, registry)) != NULL) {
			out->kind = OCI_CRED_BASIC;
			out->secret = basic;
			out->where = xstrdup("DEVCONTAINERS_OCI_AUTH");
			goto done;
		}
		buf_appendf(oci_cred_next(notes),
		    "DEVCONTAINERS_OCI_AUTH has no entry for %s", registry);
	} else
		buf_appendf(oci_cred_next(notes), "DEVCONTAINERS_OCI_AUTH is not set");
	if (oci_cred_from_docker(s, registry, out, notes))
		goto done;
	if (strcmp(registry, "ghcr.io") == 0) {
		if (s->github_token == NULL || s->github_token[0] == '\0')
			buf_appendf(oci_cred_next(notes), "GITHUB_TOKEN is not set");
		else if (s->github_host != NULL && s->github_host[0] != '\0' &&
		    strcmp(s->github_host, "github.com") != 0)
			buf_appendf(oci_cred_next(notes),
			    "GITHUB_TOKEN is not used: GITHUB_HOST is %s, not github.com",
			    s->github_host);
		else {
			out->kind = OCI_CRED_BASIC;
			out->secret = oci_cred_basic(
			    "USERNAME", 8, s->github_token, strlen(s->github_token));
			out->where = xstrdup("GITHUB_TOKEN");
			goto done;
		}
	}
	out->kind = OCI_CRED_NONE;
	out->where = buf_take_string(notes, NULL);
done:
	buf_free(notes);
}
