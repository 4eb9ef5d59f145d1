/* feature-fetch.c - the resolver's seam for Features that are not local
 * folders (feature-fetch.h): parse, look in the cache, download, verify,
 * extract, cache. */
#include "feature-fetch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent-state.h"
#include "error.h"
#include "oci.h"
#include "xmalloc.h"

/* The cache entry for digest: <cache_dir>/sha256-<hex>. New string. */
static char *
feature_fetch_entry(const char *cache_dir, const char *digest)
{
	return xasprintf("%s/sha256-%s", cache_dir, digest + 7);
}

static int
feature_fetch_is_dir(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Extract an archive into the cache as entry: into a fresh temporary
 * directory beside it, then renamed into place. When another process got
 * there first, its entry (identical: same digest) is kept. */
static int
feature_fetch_store(
    const char *cache_dir, const char *entry, const struct buf *archive, char **cause)
{
	char *tmp = xasprintf("%s/.tmp.XXXXXX", cache_dir);
	int rc = 0;

	if (mkdtemp(tmp) == NULL) {
		error_set_errno(
		    cause, errno, "cannot create a directory in %s", cache_dir);
		free(tmp);
		return -1;
	}
	chmod(tmp, 0755);
	if (feature_tar_extract(buf_data(archive), buf_len(archive), tmp, cause) != 0)
		rc = -1;
	else if (rename(tmp, entry) != 0) {
		if (!feature_fetch_is_dir(entry))
			rc =
			    error_set_errno(cause, errno, "cannot rename into %s", entry);
	}
	if (rc != 0 || feature_fetch_is_dir(tmp))
		feature_tar_remove_tree(tmp);
	free(tmp);
	return rc;
}

/* A tarball URL: download, verify against the pinned digest if any, store. */
static int
feature_fetch_tarball(const struct feature_ref *ref,
    const struct feature_fetch_opts *opts, struct feature_fetched *out, char **cause)
{
	struct http_response resp;
	char *entry;
	int rc = -1;

	if ((rc = http_get_tarball(ref->url, FEATURE_FETCH_BLOB_MAX, &resp, cause)) !=
	    0) {
		out->unreachable = rc == -1;
		return -1;
	}
	rc = -1;
	if (resp.status >= 300 && resp.status < 400) {
		error_set(cause,
		    "download failed: HTTP %ld (a redirect from a plain http:// URL is "
		    "not followed)",
		    resp.status);
		goto out;
	}
	if (resp.status != 200) {
		out->unreachable = resp.status >= 500;
		error_set(cause, "download failed: HTTP %ld", resp.status);
		goto out;
	}
	out->digest = oci_digest_of(buf_data(resp.body), buf_len(resp.body));
	if (opts->integrity != NULL && strcmp(opts->integrity, out->digest) != 0) {
		error_set(cause,
		    "digest mismatch: devcontainer-lock.json pins %s, the download is %s",
		    opts->integrity, out->digest);
		goto out;
	}
	entry = feature_fetch_entry(opts->cache_dir, out->digest);
	if (feature_fetch_is_dir(entry) ||
	    feature_fetch_store(opts->cache_dir, entry, resp.body, cause) == 0) {
		out->folder = entry;
		rc = 0;
	} else
		free(entry);
out:
	http_response_clear(&resp);
	return rc;
}

/* An OCI reference: manifest (by the pinned digest when there is one, so it
 * cannot move under us), its Feature layer, store keyed by manifest digest. */
static int
feature_fetch_oci(const struct feature_ref *ref, const struct feature_fetch_opts *opts,
    struct feature_fetched *out, char **cause)
{
	struct oci_client c;
	struct buf *manifest = NULL, *layer = NULL;
	const char *want = ref->digest != NULL ? ref->digest : opts->integrity;
	char *entry = NULL;
	int rc = -1;

	oci_client_init(&c, ref->id, ref->registry, ref->url, opts->docker_config);
	if (oci_client_manifest(
		&c, want != NULL ? want : ref->tag, &manifest, &out->digest, cause) != 0)
		goto out;
	if (ref->digest != NULL && opts->integrity != NULL &&
	    strcmp(ref->digest, opts->integrity) != 0) {
		error_set(cause,
		    "digest mismatch: the id pins %s, devcontainer-lock.json %s",
		    ref->digest, opts->integrity);
		goto out;
	}
	if ((out->layer_digest = oci_manifest_layer(
		 (const char *)buf_data(manifest), buf_len(manifest), cause)) == NULL) {
		error_prefix(cause, "registry %s", ref->registry);
		goto out;
	}
	out->manifest = xstrndup((const char *)buf_data(manifest), buf_len(manifest));
	entry = feature_fetch_entry(opts->cache_dir, out->digest);
	if (feature_fetch_is_dir(entry))
		out->cached = 1;
	else if (oci_client_blob(&c, out->layer_digest, &layer, cause) != 0 ||
	    feature_fetch_store(opts->cache_dir, entry, layer, cause) != 0)
		goto out;
	out->folder = entry;
	entry = NULL;
	rc = 0;
out:
	out->unreachable = rc != 0 && c.unreachable;
	free(entry);
	buf_free(manifest);
	buf_free(layer);
	oci_client_clear(&c);
	return rc;
}

int
feature_fetch(const char *id, const struct feature_fetch_opts *opts,
    struct feature_fetched *out, char **cause)
{
	struct feature_ref ref;
	const char *pinned;
	char *entry;
	int rc;

	memset(out, 0, sizeof *out);
	if (feature_ref_parse(id, &ref, cause) != 0)
		return -1;
	if (opts->integrity != NULL && !feature_ref_digest_valid(opts->integrity)) {
		error_set(cause,
		    "Feature '%s': devcontainer-lock.json integrity '%s' is not a sha256 "
		    "digest",
		    id, opts->integrity);
		feature_ref_clear(&ref);
		return -1;
	}
	if (agent_state_mkdir_parents(opts->cache_dir, 0700, cause) != 0) {
		feature_ref_clear(&ref);
		return error_prefix(cause, "Feature '%s': cache", id);
	}
	pinned = ref.digest != NULL ? ref.digest : opts->integrity;
	entry = pinned != NULL ? feature_fetch_entry(opts->cache_dir, pinned) : NULL;
	if (entry != NULL && feature_fetch_is_dir(entry)) {
		/* Pinned and cached: verified when it was stored, no request. */
		out->folder = entry;
		out->digest = xstrdup(pinned);
		out->cached = 1;
		rc = 0;
	} else {
		free(entry);
		rc = ref.kind == FEATURE_REF_OCI
		    ? feature_fetch_oci(&ref, opts, out, cause)
		    : feature_fetch_tarball(&ref, opts, out, cause);
		if (rc != 0)
			error_prefix(cause, "Feature '%s'", id);
	}
	if (rc == 0) {
		if (out->layer_digest == NULL && ref.kind == FEATURE_REF_TARBALL)
			out->layer_digest = xstrdup(out->digest);
		out->resolved = ref.kind == FEATURE_REF_OCI
		    ? xasprintf("%s/%s@%s", ref.registry, ref.path, out->digest)
		    : xstrdup(ref.url);
	} else {
		int unreachable = out->unreachable;

		feature_fetched_clear(out);
		out->unreachable = unreachable;
	}
	feature_ref_clear(&ref);
	return rc;
}

void
feature_fetched_clear(struct feature_fetched *f)
{
	free(f->folder);
	free(f->digest);
	free(f->layer_digest);
	free(f->resolved);
	free(f->manifest);
	memset(f, 0, sizeof *f);
}
