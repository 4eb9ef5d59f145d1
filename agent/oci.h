/* oci.h - the parts of Feature fetching that speak HTTP: a small libcurl
 * client (http-get.c), the OCI distribution API's pull side with its
 * bearer-token flow (oci-auth.c, oci-client.c) and the registry credentials
 * found as the reference CLI finds them (oci-cred.c, oci-cred-find.c). Used
 * by feature-fetch.c; the pure parts are public for the unit tests and the
 * fuzz target. */
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
 * bytes fails. 0 with *resp filled (any status), -1 with *cause for
 * transport errors ("cannot connect to localhost:5000: ...": the server
 * could not be reached or the exchange broke), or -2 with *cause for a body
 * over max (an answer, too large) or when libcurl cannot be loaded (the
 * server was not tried). Free *resp with http_response_clear. */
int http_get(const char *url, const char *const *headers, int head, size_t max,
    struct http_response *resp, char **cause);
/* GET a Feature tarball (its install.sh runs as root): as http_get, but
 * from an https:// url only redirects to https:// are followed (one to
 * http:// is -2 with *cause: an answer, refused), and from a plain http:// url (a
 * loopback host, the one http:// the resolver takes) none: a redirect is its 3xx answer,
 * so the bytes never cross a network in plain text. */
int http_get_tarball(
    const char *url, size_t max, struct http_response *resp, char **cause);
/* POST form (application/x-www-form-urlencoded, encoded by the caller; not
 * copied) to url, otherwise as http_get. */
int http_post_form(const char *url, const char *const *headers, const char *form,
    size_t max, struct http_response *resp, char **cause);
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
/* The token in a token endpoint's JSON reply ("token", else
 * "access_token"), new string, or NULL. */
char *oci_auth_token_parse(const char *json, size_t len);

/* oci-cred.c */
/* Credentials for one registry. The reference CLI (0.89.0, getCredential
 * in its httpOci.ts) looks, in this order, at:
 *   1. $DEVCONTAINERS_OCI_AUTH: "registry|user|password,..." (exact match);
 *   2. Docker's config.json ($DOCKER_CONFIG, else ~/.docker): the helper
 *      credHelpers[registry] names, else the credsStore helper (a helper is
 *      `docker-credential-NAME get` with the registry on stdin), then the
 *      "auths" entry (its identitytoken, else its auth);
 *   3. when config.json names no credentials at all (or does not exist),
 *      the platform's default helper: on Linux "pass" if the program pass
 *      is on PATH, else "secret";
 *   4. $GITHUB_TOKEN, for ghcr.io only (unless $GITHUB_HOST names another
 *      host than github.com).
 * A helper that is missing, fails or has nothing goes on to the next place
 * (anonymous in the end), as the reference does. A helper's answer whose
 * Username is "<token>" is an identity token, which the token endpoint
 * takes in a refresh_token grant (a POST), not in Basic. */
enum oci_cred_kind {
	OCI_CRED_NONE,	   /* anonymous */
	OCI_CRED_BASIC,	   /* secret: base64 "user:password" */
	OCI_CRED_IDENTITY, /* secret: an identity (refresh) token */
};

struct oci_cred {
	enum oci_cred_kind kind;
	char *secret; /* wiped by oci_cred_clear */
	/* BASIC, IDENTITY: where they came from ("docker-credential-pass
	 * (credsStore in /home/u/.docker/config.json)"); NONE: every place
	 * looked at and what it said, "; "-separated, for an error. Never
	 * holds a secret. */
	char *where;
};

/* What oci_cred_lookup reads (oci_cred_find fills it from this machine). */
struct oci_cred_sources {
	const char *oci_auth;	  /* $DEVCONTAINERS_OCI_AUTH, or NULL */
	const char *config_path;  /* Docker's config.json, for messages */
	const char *config_text;  /* its text, or NULL: */
	const char *config_error; /* why it could not be read (NULL: it does
				   * not exist) */
	const char *github_token; /* $GITHUB_TOKEN, or NULL */
	const char *github_host;  /* $GITHUB_HOST, or NULL */
	int pass_on_path;	  /* the program pass is on $PATH */
	/* Ask `docker-credential-<name> get` for registry: 1 with *out filled
	 * (kind and secret), 0 (none: not installed, nothing stored) or -1
	 * (failed) with *why, a phrase after the helper's name ("is not
	 * installed", "failed for REG: exited with status 1: ..."). */
	int (*helper)(void *arg, const char *name, const char *registry,
	    struct oci_cred *out, char **why);
	void *helper_arg;
};

/* Find registry's credentials in s in the order above. Always fills *out
 * (free with oci_cred_clear); OCI_CRED_NONE when there are none. */
void oci_cred_lookup(
    const struct oci_cred_sources *s, const char *registry, struct oci_cred *out);
void oci_cred_clear(struct oci_cred *c);
/* The base64 "user:password" of registry's entry in a DEVCONTAINERS_OCI_AUTH
 * value, new string (a secret), or NULL when it has none. */
char *oci_cred_env_entry(const char *value, const char *registry);
/* A credential helper's answer to `get` ({"ServerURL":..., "Username":...,
 * "Secret":...}): 1 with *out (BASIC, or IDENTITY for Username "<token>"),
 * 0 when it is empty, -1 with *cause (which never quotes it). */
int oci_cred_helper_parse(
    const char *text, size_t len, struct oci_cred *out, char **cause);

/* oci-cred-find.c */
/* How long a credential helper may take (a keyring may wait for an unlock
 * nobody will give on a remote host). */
#define OCI_CRED_HELPER_TIMEOUT_MS 30000
/* oci_cred_lookup with this process's environment, the config.json at
 * config_path (NULL: $DOCKER_CONFIG/config.json, else
 * ~/.docker/config.json) and the helpers on $PATH. Notes at debug level
 * (log.h), a warning for a helper that fails. */
void oci_cred_find(const char *config_path, const char *registry, struct oci_cred *out);

/* oci-client.c */
/* One registry session: the repository, the credentials (looked up at the
 * first challenge) and the Authorization header it earned, reused for the
 * blob after the manifest. */
struct oci_client {
	const char *feature;	   /* the Feature id, for messages (borrowed) */
	const char *base_url;	   /* "<scheme>://<registry>/v2/<path>" (borrowed) */
	const char *registry;	   /* (borrowed) */
	const char *docker_config; /* config.json's path or NULL (borrowed) */
	int cred_asked;		   /* cred has been looked up */
	struct oci_cred cred;
	char *refused;	     /* what became of our credentials, when the token
			      * endpoint would not take them, or NULL */
	char *authorization; /* "Authorization: ..." header, or NULL */
	/* A request failed without a definite answer: a transport error (DNS,
	 * connection, TLS, timeout) or a 5xx, from the registry or its token
	 * endpoint; a 404 or 401/403 is an answer and leaves it 0. */
	int unreachable;
};

/* Start a session (no network yet); docker_config as for oci_cred_find. */
void oci_client_init(struct oci_client *c, const char *feature, const char *registry,
    const char *base_url, const char *docker_config);
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
