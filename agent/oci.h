/* oci.h - the parts of Feature fetching that speak HTTP: a small libcurl
 * client (http-get.c) and the OCI distribution API's pull side with its
 * bearer-token flow and Docker's stored credentials (oci-auth.c,
 * oci-client.c). Used by feature-fetch.c; the pure parsers are public for
 * the unit tests and the fuzz target. */
#ifndef RDEV_OCI_H
#define RDEV_OCI_H

#include <stddef.h>

#include "buf.h"

/* http-get.c */
struct http_response {
	long status;		/* HTTP status of the last response */
	struct buf *body;	/* the body (buf_free) */
	char *www_authenticate; /* its WWW-Authenticate header, or NULL */
	char *content_digest;	/* its Docker-Content-Digest header, or NULL */
};

/* GET (or HEAD when head is set) url with the extra header lines headers
 * (NULL-terminated, may be NULL), following redirects (curl drops an
 * Authorization header when a redirect leaves the host). A body over max
 * bytes fails. 0 with *resp filled (any status), or -1 with *cause for
 * transport errors ("cannot connect to localhost:5000: ..."). Free *resp with
 * http_response_clear. */
int http_get(const char *url, const char *const *headers, int head, size_t max,
    struct http_response *resp, char **cause);
void http_response_clear(struct http_response *resp);
/* s percent-encoded for a query string ("" for NULL), new string. */
char *http_escape(const char *s);

/* oci-auth.c */
/* A WWW-Authenticate challenge, parsed. */
struct oci_challenge {
	char *scheme;  /* "Bearer", "Basic" (as sent) */
	char *realm;   /* may be NULL */
	char *service; /* may be NULL */
	char *scope;   /* may be NULL */
};

/* Parse a WWW-Authenticate value `Scheme k="v", k=v, ...` (the first
 * challenge). 0 or -1 with *cause. Free with oci_challenge_clear. */
int oci_challenge_parse(const char *header, struct oci_challenge *c, char **cause);
void oci_challenge_clear(struct oci_challenge *c);
/* The base64 "user:password" Docker's config.json (text) holds for registry
 * under "auths" (keys "registry", "https://registry", ".../v1/" all match),
 * as a new string; NULL when none or unreadable. */
char *oci_auth_config_lookup(const char *config_json, const char *registry);
/* The same from the file at path (NULL: $DOCKER_CONFIG/config.json, else
 * ~/.docker/config.json). */
char *oci_auth_config_file(const char *path, const char *registry);
/* The token in a token endpoint's JSON reply ("token", else
 * "access_token"), new string, or NULL. */
char *oci_auth_token_parse(const char *json, size_t len);

/* oci-client.c */
/* One registry session: the repository and the Authorization header it
 * earned, reused for the blob after the manifest. */
struct oci_client {
	const char *feature;  /* the Feature id, for messages (borrowed) */
	const char *base_url; /* "<scheme>://<registry>/v2/<path>" (borrowed) */
	const char *registry; /* (borrowed) */
	char *basic;	      /* base64 user:pass from config.json, or NULL */
	char *authorization;  /* "Authorization: ..." header, or NULL */
};

/* Start a session (no network yet); basic may be NULL (it is taken). */
void oci_client_init(struct oci_client *c, const char *feature, const char *registry,
    const char *base_url, char *basic);
void oci_client_clear(struct oci_client *c);
/* GET the manifest for reference (a tag or digest), doing the token dance on
 * a 401. *body is the manifest (buf_free), *digest its sha256 (new string).
 * 0 or -1 with *cause ("...: no tag 1.2 in localhost:5000/x/y"). */
int oci_client_manifest(struct oci_client *c, const char *reference, struct buf **body,
    char **digest, char **cause);
/* GET the blob digest and check it against digest. *body: buf_free. */
int oci_client_blob(
    struct oci_client *c, const char *digest, struct buf **body, char **cause);
/* The digest of the Feature layer in a manifest's JSON (the one layer of
 * media type FEATURE_OCI_LAYER_TYPE), new string, or NULL with *cause. */
char *oci_manifest_layer(const char *json, size_t len, char **cause);
/* "sha256:<hex>" of data, new string. */
char *oci_digest_of(const void *data, size_t len);
/* 0 if data's sha256 is digest, else -1 with *cause saying both. */
int oci_digest_verify(const void *data, size_t len, const char *digest, char **cause);

#endif
