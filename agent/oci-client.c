/* oci-client.c - the pull side of the OCI distribution API for Features
 * (oci.h): manifest, then blob, with the bearer-token flow on a 401
 * (anonymous, or with the credentials oci-cred.c finds); every digest
 * checked. */
#include "oci.h"

#include <cjson/cJSON.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error.h"
#include "feature-fetch.h"
#include "log.h"
#include "xmalloc.h"

#define OCI_MANIFEST_ACCEPT "Accept: application/vnd.oci.image.manifest.v1+json"

char *
oci_digest_of(const void *data, size_t len)
{
	unsigned char h[crypto_hash_sha256_BYTES];
	char hex[2 * sizeof h + 1];

	crypto_hash_sha256(h, data, len);
	sodium_bin2hex(hex, sizeof hex, h, sizeof h);
	return xasprintf("sha256:%s", hex);
}

int
oci_digest_verify(const void *data, size_t len, const char *digest, char **cause)
{
	char *got = oci_digest_of(data, len);
	int rc = 0;

	if (strcmp(got, digest) != 0)
		rc =
		    error_set(cause, "digest mismatch: expected %s, got %s", digest, got);
	free(got);
	return rc;
}

char *
oci_manifest_layer(const char *json, size_t len, char **cause)
{
	cJSON *doc = cJSON_ParseWithLength(json, len), *layers, *l, *found = NULL;
	char *out = NULL;

	if (!cJSON_IsObject(doc)) {
		error_set(cause, "manifest is not a JSON object");
		goto done;
	}
	layers = cJSON_GetObjectItemCaseSensitive(doc, "layers");
	if (!cJSON_IsArray(layers)) {
		error_set(cause,
		    "manifest has no layers (is it an image index, not a Feature?)");
		goto done;
	}
	cJSON_ArrayForEach(l, layers) {
		cJSON *mt = cJSON_GetObjectItemCaseSensitive(l, "mediaType");
		if (cJSON_IsString(mt) &&
		    strcmp(mt->valuestring, FEATURE_OCI_LAYER_TYPE) == 0) {
			if (found != NULL) {
				error_set(cause, "manifest has more than one %s layer",
				    FEATURE_OCI_LAYER_TYPE);
				goto done;
			}
			found = l;
		}
	}
	if (found == NULL) {
		error_set(cause,
		    "manifest has no layer of media type %s (not a Feature?)",
		    FEATURE_OCI_LAYER_TYPE);
		goto done;
	}
	l = cJSON_GetObjectItemCaseSensitive(found, "digest");
	if (!cJSON_IsString(l) || !feature_ref_digest_valid(l->valuestring)) {
		error_set(cause, "manifest's Feature layer has no sha256 digest");
		goto done;
	}
	out = xstrdup(l->valuestring);
done:
	cJSON_Delete(doc);
	return out;
}

void
oci_client_init(struct oci_client *c, const char *feature, const char *registry,
    const char *base_url, const char *docker_config)
{
	memset(c, 0, sizeof *c);
	c->feature = feature;
	c->registry = registry;
	c->base_url = base_url;
	c->docker_config = docker_config;
}

/* Secrets are wiped before they are freed. */
static void
oci_client_wipe(char **s)
{
	if (*s != NULL) {
		sodium_memzero(*s, strlen(*s));
		free(*s);
		*s = NULL;
	}
}

void
oci_client_clear(struct oci_client *c)
{
	oci_cred_clear(&c->cred);
	free(c->refused);
	c->refused = NULL;
	oci_client_wipe(&c->authorization);
}

/* The registry's credentials, looked up once, when it first asks. */
static const struct oci_cred *
oci_client_cred(struct oci_client *c)
{
	if (!c->cred_asked) {
		oci_cred_find(c->docker_config, c->registry, &c->cred);
		c->cred_asked = 1;
	}
	return &c->cred;
}

/* What our credentials were, for an error saying the registry refused:
 * "; <what>" (new string; "" when none were asked for). */
static char *
oci_client_cred_said(const struct oci_client *c)
{
	if (!c->cred_asked)
		return xstrdup("");
	if (c->refused != NULL)
		return xasprintf("; %s", c->refused);
	if (c->cred.kind != OCI_CRED_NONE)
		return xasprintf("; with the credentials from %s", c->cred.where);
	return xasprintf("; no credentials for %s (%s); log in on the Docker host "
			 "(`docker login %s`) or set DEVCONTAINERS_OCI_AUTH",
	    c->registry, c->cred.where, c->registry);
}

/* Ask the token endpoint of challenge ch: with our credentials (Basic, or
 * the refresh_token grant for an identity token, a POST as the reference
 * sends it) when cred is not NULL, else anonymously. 0 with *resp (any
 * status; wipe its body), or http_get()'s -1 or -2. */
static int
oci_client_token_request(const struct oci_challenge *ch, const struct oci_cred *cred,
    struct http_response *resp, char **cause)
{
	const char *hdrs[2] = { NULL, NULL };
	char *service = http_escape(ch->service), *scope = http_escape(ch->scope);
	char *url = NULL, *form = NULL, *tok = NULL, *basic = NULL;
	int rc;

	if (cred != NULL && cred->kind == OCI_CRED_IDENTITY) {
		tok = http_escape(cred->secret);
		form = xasprintf("client_id=devcontainer&grant_type=refresh_token&"
				 "service=%s&scope=%s&refresh_token=%s",
		    service, scope, tok);
		rc = http_post_form(ch->realm, NULL, form, 1u << 20, resp, cause);
		oci_client_wipe(&tok);
		oci_client_wipe(&form);
	} else {
		if (cred != NULL) {
			basic = xasprintf("Authorization: Basic %s", cred->secret);
			hdrs[0] = basic;
		}
		url = xasprintf("%s%sservice=%s&scope=%s", ch->realm,
		    strchr(ch->realm, '?') ? "&" : "?", service, scope);
		rc = http_get(url, hdrs, 0, 1u << 20, resp, cause);
		oci_client_wipe(&basic);
		free(url);
	}
	free(service);
	free(scope);
	return rc;
}

/* May credentials go to this token realm? Over HTTPS, or to this machine
 * (where plain HTTP is what a local registry speaks). */
static int
oci_client_realm_trusted(const char *realm)
{
	if (strncmp(realm, "https://", 8) == 0)
		return 1;
	return strncmp(realm, "http://localhost", 16) == 0 &&
	    strchr(":/", realm[16]) != NULL; /* (also the NUL) */
}

/* A bearer token for challenge ch: with our credentials when we have some
 * and the realm may have them (HTTPS, or this machine), and, when it
 * refuses those (401, 403), anonymously, as the reference does. 0 with
 * c->authorization set, or -1. */
static int
oci_client_bearer(struct oci_client *c, const struct oci_challenge *ch, char **cause)
{
	const struct oci_cred *cred = oci_client_cred(c);
	struct http_response resp;
	char *token, *said;
	int rc = -1;

	if (cred->kind != OCI_CRED_NONE && !oci_client_realm_trusted(ch->realm)) {
		free(c->refused);
		c->refused = xasprintf("the credentials from %s were not sent to "
				       "%s (not HTTPS)",
		    cred->where, ch->realm);
		cred = NULL;
	} else if (cred->kind == OCI_CRED_NONE)
		cred = NULL;
	if ((rc = oci_client_token_request(ch, cred, &resp, cause)) != 0) {
		c->unreachable |= rc == -1;
		return error_prefix(cause, "registry %s: token", c->registry);
	}
	rc = -1;
	if (cred != NULL && (resp.status == 401 || resp.status == 403)) {
		free(c->refused);
		c->refused = xasprintf("the token endpoint refused the credentials "
				       "from %s (HTTP %ld)",
		    cred->where, resp.status);
		log_warn("registry %s: %s; trying anonymously", c->registry, c->refused);
		buf_wipe(resp.body);
		http_response_clear(&resp);
		if ((rc = oci_client_token_request(ch, NULL, &resp, cause)) != 0) {
			c->unreachable |= rc == -1;
			return error_prefix(cause, "registry %s: token", c->registry);
		}
		rc = -1;
	}
	c->unreachable |= resp.status >= 500;
	if (resp.status != 200) {
		said = oci_client_cred_said(c);
		error_set(cause, "registry %s: token request refused (HTTP %ld)%s",
		    c->registry, resp.status, said);
		free(said);
	} else if ((token = oci_auth_token_parse(
			(const char *)buf_data(resp.body), buf_len(resp.body))) == NULL) {
		error_set(
		    cause, "registry %s: token endpoint gave no token", c->registry);
	} else {
		c->authorization = xasprintf("Authorization: Bearer %s", token);
		oci_client_wipe(&token);
		rc = 0;
	}
	buf_wipe(resp.body);
	http_response_clear(&resp);
	return rc;
}

/* Answer a 401's challenge: a bearer token from its realm, or Basic with
 * our credentials. 0 with c->authorization set, or -1. */
static int
oci_client_authorize(struct oci_client *c, const char *www_authenticate, char **cause)
{
	const struct oci_cred *cred;
	struct oci_challenge ch;
	char *said;
	int rc = -1;

	if (www_authenticate == NULL)
		return error_set(
		    cause, "registry %s answered 401 without a challenge", c->registry);
	if (oci_challenge_parse(www_authenticate, &ch, cause) != 0)
		return error_prefix(cause, "registry %s", c->registry);
	if (strcasecmp(ch.scheme, "Basic") == 0) {
		cred = oci_client_cred(c);
		if (cred->kind == OCI_CRED_BASIC) {
			c->authorization =
			    xasprintf("Authorization: Basic %s", cred->secret);
			rc = 0;
		} else if (cred->kind == OCI_CRED_IDENTITY)
			error_set(cause,
			    "registry %s wants a password (Basic), not the identity "
			    "token from %s",
			    c->registry, cred->where);
		else {
			said = oci_client_cred_said(c);
			error_set(
			    cause, "registry %s wants a login%s", c->registry, said);
			free(said);
		}
	} else if (strcasecmp(ch.scheme, "Bearer") != 0 || ch.realm == NULL)
		error_set(cause, "registry %s: unsupported authentication %s",
		    c->registry, ch.scheme);
	else
		rc = oci_client_bearer(c, &ch, cause);
	oci_challenge_clear(&ch);
	return rc;
}

/* GET url with our Authorization; on a 401 authorize once and retry. */
static int
oci_client_get(struct oci_client *c, const char *url, const char *accept, size_t max,
    struct http_response *resp, char **cause)
{
	for (int attempt = 0;; attempt++) {
		const char *hdrs[3] = { accept, NULL, NULL };
		hdrs[accept != NULL ? 1 : 0] = c->authorization;
		int rc = http_get(url, hdrs, 0, max, resp, cause);

		if (rc != 0) {
			c->unreachable |= rc == -1;
			return -1;
		}
		c->unreachable |= resp->status >= 500;
		if (resp->status != 401 || attempt > 0)
			return 0;
		if (c->authorization != NULL) {
			/* A token that no longer does: forget it, ask again. */
			oci_client_wipe(&c->authorization);
		}
		if (oci_client_authorize(c, resp->www_authenticate, cause) != 0) {
			http_response_clear(resp);
			return -1;
		}
		http_response_clear(resp);
	}
}

int
oci_client_manifest(struct oci_client *c, const char *reference, struct buf **body,
    char **digest, char **cause)
{
	struct http_response resp;
	char *url = xasprintf("%s/manifests/%s", c->base_url, reference);
	int rc = -1;

	*body = NULL;
	*digest = NULL;
	if (oci_client_get(c, url, OCI_MANIFEST_ACCEPT, FEATURE_FETCH_MANIFEST_MAX, &resp,
		cause) != 0) {
		free(url);
		return -1;
	}
	if (resp.status == 404)
		error_set(cause, "%s not found in registry %s (no such tag or digest)",
		    reference, c->registry);
	else if (resp.status == 401 || resp.status == 403) {
		char *said = oci_client_cred_said(c);

		error_set(cause, "registry %s refused access (HTTP %ld)%s", c->registry,
		    resp.status, said);
		free(said);
	} else if (resp.status != 200)
		error_set(cause, "registry %s: manifest %s: HTTP %ld", c->registry,
		    reference, resp.status);
	else {
		*digest = oci_digest_of(buf_data(resp.body), buf_len(resp.body));
		if (strncmp(reference, "sha256:", 7) == 0 &&
		    strcmp(*digest, reference) != 0) {
			error_set(cause,
			    "registry %s: manifest digest mismatch: expected %s, got %s",
			    c->registry, reference, *digest);
			free(*digest);
			*digest = NULL;
		} else {
			*body = resp.body;
			resp.body = NULL;
			rc = 0;
		}
	}
	http_response_clear(&resp);
	free(url);
	return rc;
}

int
oci_client_blob(struct oci_client *c, const char *digest, struct buf **body, char **cause)
{
	struct http_response resp;
	char *url = xasprintf("%s/blobs/%s", c->base_url, digest);
	int rc = -1;

	*body = NULL;
	if (oci_client_get(c, url, NULL, FEATURE_FETCH_BLOB_MAX, &resp, cause) != 0) {
		free(url);
		return -1;
	}
	if (resp.status != 200)
		error_set(cause, "registry %s: layer %s: HTTP %ld", c->registry, digest,
		    resp.status);
	else if (oci_digest_verify(
		     buf_data(resp.body), buf_len(resp.body), digest, cause) != 0)
		error_prefix(cause, "registry %s: layer", c->registry);
	else {
		*body = resp.body;
		resp.body = NULL;
		rc = 0;
	}
	http_response_clear(&resp);
	free(url);
	return rc;
}
