/* feature-fetch.h - Dev Container Features that are not local folders: OCI
 * references and tarball URLs made into a local folder in a cache on the
 * Docker host, at the digests devcontainer-lock.json pins
 * (feature-lock.h) when it does.
 *
 * The seam the Feature resolver calls is feature_fetch(): give it a Feature id
 * as devcontainer.json spells it, get back the folder holding the Feature's
 * devcontainer-feature.json and install.sh. Everything else here is its parts,
 * public so that they are tested alone (tests/unit/test-feature-*.c).
 *
 * Cache (opts->cache_dir, e.g. <agent state dir>/features): one directory per
 * verified download, named after the digest that the lockfile pins:
 *   sha256-<hex>/  the extracted Feature; <hex> is the manifest digest of an
 *                  OCI Feature (what the reference's lockfile calls its
 *                  integrity and its `resolved` reference names) or the
 *                  tarball's own digest for a tarball URL.
 * Entries are made by extracting into a temporary directory beside them and
 * renaming it into place, so a reader sees a whole Feature or none; they are
 * never changed after that.
 *
 * Network policy: a Feature whose digest is known before asking (an OCI id
 * with @sha256:..., or an integrity from devcontainer-lock.json) and is in the
 * cache costs no request at all. An OCI tag is resolved again each time (one
 * manifest GET, plus a token request where the registry wants one), as the
 * reference does, since tags move; the layer is downloaded only when that
 * manifest's digest is not cached. A tarball URL without a pinned digest is
 * downloaded each time (the URL names no version) and cached by its digest.
 */
#ifndef RDEV_FEATURE_FETCH_H
#define RDEV_FEATURE_FETCH_H

#include <stddef.h>

#include <cjson/cJSON.h>

/* The layer media type of a Feature in an OCI registry (the spec's
 * "Feature distribution"). */
#define FEATURE_OCI_LAYER_TYPE "application/vnd.devcontainers.layer.v1+tar"
/* Largest manifest and largest layer or tarball we download. */
#define FEATURE_FETCH_MANIFEST_MAX (4u << 20)
#define FEATURE_FETCH_BLOB_MAX (256u << 20)

/* feature-ref.c */
enum feature_ref_kind {
	FEATURE_REF_OCI,
	FEATURE_REF_TARBALL,
};

/* A parsed non-local Feature id; every string is owned by the struct
 * (feature_ref_clear). */
struct feature_ref {
	enum feature_ref_kind kind;
	char *id;	/* as given (OCI ids lower-cased, as the reference does) */
	char *name;	/* the Feature's own id: "node" */
	char *registry; /* OCI: "ghcr.io", "localhost:5000" */
	char *path;	/* OCI: "devcontainers/features/node" */
	char *tag;	/* OCI: the tag ("latest" when none), NULL with a digest */
	char *digest;	/* OCI: "sha256:<64 hex>" or NULL */
	char *url;	/* tarball: the URL as the reference's new URL().toString()
			 * gives it (feature_ref_url_normalise()); OCI:
			 * "<scheme>://<registry>/v2/<path>" */
	/* OCI: "registry/path" as written (lower-cased), the reference's
	 * featureRef.resource, which keeps a "devcontainers-contrib" that path
	 * says as "devcontainers-extra"; tarball: = url. */
	char *resource;
};

/* Is id a local Feature (./x, ../x or /x), which is not fetched? */
int feature_ref_is_local(const char *id);
/* Parse an OCI reference registry/namespace/name[:tag|@sha256:hex] or a
 * tarball URL https://.../devcontainer-feature-NAME.tgz (http:// too). 0 with
 * *ref filled (free with feature_ref_clear), or -1 with *cause naming id.
 * As the reference's getRef(), an OCI path whose first part is
 * "devcontainers-contrib" is fetched from "devcontainers-extra" (the
 * collection moved; ref->path and url say so, ref->resource does not). */
int feature_ref_parse(const char *id, struct feature_ref *ref, char **cause);
void feature_ref_clear(struct feature_ref *ref);
/* A tarball URL as WHATWG's URL serialiser (the reference's new
 * URL(id).toString()) writes it, for the URLs feature_ref_parse() takes:
 * scheme and host lower-cased, the scheme's default port dropped (a port
 * with leading zeros written as a number), "." and ".." path segments
 * (also as %2e) resolved. New string. */
char *feature_ref_url_normalise(const char *url);
/* Would the reference, failing to fetch id as an OCI Feature, take it for
 * a GitHub release Feature (owner/repo/id[@version]: three non-empty
 * parts, the last of [A-Za-z0-9_-])? It then gets no error, and such a
 * Feature is never one a configuration installs (rdev fetches none). */
int feature_ref_github_form(const char *id);
/* The reference's getBackwardCompatibleFeatureId(): a short id of a
 * Feature that moved from microsoft/vscode-dev-containers ("node",
 * "docker-in-docker", ...; "golang" and "common" renamed "go" and
 * "common-utils") as "ghcr.io/devcontainers/features/ID:1" (a new string),
 * or NULL for any other id. */
char *feature_ref_backcompat(const char *id);
/* The Feature a deprecated id was folded into by the reference
 * (updateDeprecatedFeaturesIntoOptions): "gradle" and "maven" give "java",
 * "jupyterlab" "python"; NULL for any other id. Static string. */
const char *feature_ref_folded_into(const char *id);
/* The reference's updateDeprecatedFeaturesIntoOptions() of the
 * configuration's Features (an object, ids in order): each gradle, maven
 * or jupyterlab is dropped, and its option (installGradle, installMaven,
 * installJupyterlab: true) is added to the first Feature named java (or
 * python), ghcr.io/devcontainers/features/java or ...java:TAG (a string
 * value becomes its "version" option, a boolean no options), or, when
 * there is none, to a new ghcr.io/devcontainers/features/java:1 after the
 * others. A new object (caller frees with cJSON_Delete). */
cJSON *feature_ref_fold_deprecated(const cJSON *features);
/* Is s "sha256:" and 64 lower-case hex digits? */
int feature_ref_digest_valid(const char *s);
/* id without its version, as the reference's upgrade compares ids: less the
 * first ':' or '@' after the last '/' and what follows ("reg:5000/ns/x:1"
 * gives "reg:5000/ns/x"). New string. */
char *feature_ref_unversioned(const char *id);
/* The reference's `upgrade --feature ID --target-version V` edit of a
 * devcontainer.json's text: the first id of the object features that names
 * the same Feature as feature (feature_ref_unversioned()) is *key, and every
 * occurrence of it in text becomes "ID-WITHOUT-VERSION:V" (the reference
 * replaces a regular expression made of the id: the same but that its '.'
 * matches any character). New string, or NULL (*key NULL) when no id
 * matches. */
char *feature_ref_retarget(const char *text, const cJSON *features, const char *feature,
    const char *version, const char **key);
/* Is version one that `upgrade --target-version` takes ('x', 'x.y' or
 * 'x.y.z', the reference's check)? 0, or -1 with *cause (its message). */
int feature_ref_version_check(const char *version, char **cause);

/* feature-fetch.c */
struct feature_fetch_opts {
	const char *cache_dir; /* required; created if missing */
	/* The digest devcontainer-lock.json pins for this id ("integrity"), or
	 * NULL: the download must have it, and a cached one is used as it is. */
	const char *integrity;
	/* Docker's config.json for registry credentials (oci.h, struct
	 * oci_cred: its credHelpers, credsStore, auths); NULL:
	 * $DOCKER_CONFIG/config.json, else ~/.docker/config.json. */
	const char *docker_config;
};

/* What feature_fetch() gives back; every string owned by the struct
 * (feature_fetched_clear). */
struct feature_fetched {
	char *folder;	    /* the Feature's folder in the cache */
	char *digest;	    /* the lockfile's "integrity": sha256:... */
	char *layer_digest; /* OCI: the layer's digest (NULL when a pinned digest
			     * came from the cache); tarball: = digest */
	char *resolved; /* the lockfile's "resolved": registry/path@digest, or the URL */
	/* OCI: the manifest as the registry sent it (read-configuration's
	 * featuresConfiguration shows it); NULL when none was asked for (a
	 * pinned digest found in the cache) and for a tarball. */
	char *manifest;
	int cached; /* 1: taken from the cache */
	/* When feature_fetch() fails (everything else cleared): 1 when no
	 * definite answer came (the registry or server could not be reached:
	 * DNS, connection, TLS, timeout, or a 5xx), 0 when it answered (404,
	 * 401/403, a bad manifest, a digest mismatch) or nothing was asked. */
	int unreachable;
};

/* Make the non-local Feature id a folder in opts->cache_dir: parse it,
 * download (verifying every digest), extract safely and cache. 0 with *out
 * filled, or -1 with *cause naming the Feature (and the registry or digest at
 * fault). Safe to call from several processes at once: entries appear by
 * rename. */
int feature_fetch(const char *id, const struct feature_fetch_opts *opts,
    struct feature_fetched *out, char **cause);
void feature_fetched_clear(struct feature_fetched *f);

/* feature-tar.c */
/* Extract a tar archive (gzip-compressed or not) into the existing empty
 * directory dir. Regular files and directories only; refused with *cause:
 * absolute names, "..", symbolic and hard links, devices, anything that
 * would land outside dir. Returns 0 or -1 with *cause (dir may then hold a
 * part of the archive: the caller removes it). */
int feature_tar_extract(const void *data, size_t len, const char *dir, char **cause);
/* Remove a directory tree we made (no symlinks followed). 0 or -1. */
int feature_tar_remove_tree(const char *dir);

#endif
