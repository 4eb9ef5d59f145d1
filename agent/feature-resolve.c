/* feature-resolve.c - find, read, check and order a configuration's
 * Features (see feature-resolve.h). */
#include "feature-resolve.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent-state.h"
#include "config-discover.h"
#include "config.h"
#include "error.h"
#include "feature-fetch.h"
#include "feature-json.h"
#include "feature-lock.h"
#include "feature-order.h"
#include "xmalloc.h"

/* Nested dependsOn deeper than this is a mistake, not a configuration. */
#define FEATURE_RESOLVE_MAX 64

/* One resolution: the set growing, and where relative ids start. */
struct feature_resolve_ctx {
	struct feature_set *fs;
	char *config_dir;
	char *devcontainer_dir; /* <workspace>/.devcontainer: local ones' home */
	cJSON *lock;		/* devcontainer-lock.json's tree, or NULL when none */
};

static int
feature_resolve_is_local(const char *id)
{
	return strncmp(id, "./", 2) == 0 || strncmp(id, "../", 3) == 0;
}

/* A Feature that is not a local folder (an OCI reference, a tarball URL),
 * fetched into the agent's cache (feature-fetch.h) at the digest the
 * lockfile pins, if it does: its folder (new string), or NULL with *cause;
 * what the lockfile would pin into *fetched when not NULL. */
static char *
feature_resolve_fetch(const struct feature_resolve_ctx *c, const char *id,
    struct feature_fetched *fetched, char **cause)
{
	struct feature_fetch_opts opts = { 0 };
	struct feature_lock_entry lock = { 0 };
	struct feature_fetched out = { 0 };
	char *state, *cache, *folder = NULL;

	if ((state = agent_state_dir(cause)) == NULL)
		return NULL;
	cache = xasprintf("%s/features", state);
	free(state);
	if (feature_lock_get(c->lock, id, &lock, cause) < 0) {
		free(cache);
		return NULL;
	}
	opts.cache_dir = cache;
	opts.integrity = lock.integrity;
	if (feature_fetch(id, &opts, &out, cause) == 0)
		folder = xstrdup(out.folder);
	if (folder != NULL && fetched != NULL) {
		*fetched = out;
		memset(&out, 0, sizeof out);
	}
	feature_fetched_clear(&out);
	feature_lock_entry_clear(&lock);
	free(cache);
	return folder;
}

/* A local Feature must be in the workspace's .devcontainer folder, as the
 * reference requires: path.relative(<workspace>/.devcontainer,
 * path.join(<config folder>, id)) must not contain "..", a substring test
 * (a folder named "a..b" is refused too). Lexical, as path.join is. 0, or
 * -1 with *cause. */
static int
feature_resolve_inside(const struct feature_resolve_ctx *c, const char *id, char **cause)
{
	char *path = config_discover_resolve(c->config_dir, id, NULL);
	size_t n = strlen(c->devcontainer_dir);
	int rc = 0;

	if (path == NULL || strncmp(path, c->devcontainer_dir, n) != 0 ||
	    (path[n] != '\0' && path[n] != '/') || strstr(path + n, "..") != NULL)
		rc = error_set(cause,
		    "%s is not inside %s (a local Feature must be in the "
		    ".devcontainer folder, as the reference CLI requires)",
		    path != NULL ? path : id, c->devcontainer_dir);
	free(path);
	return rc;
}

/* The folder of Feature id: local ones below the config folder, others
 * fetched (*fetched, when not NULL, gets what the lockfile would pin;
 * zeroed for a local one). New string, or NULL with *cause. */
static char *
feature_resolve_dir(const struct feature_resolve_ctx *c, const char *id,
    struct feature_fetched *fetched, char **cause)
{
	char *path, real[PATH_MAX];
	struct stat st;

	if (fetched != NULL)
		memset(fetched, 0, sizeof *fetched);
	if (!feature_resolve_is_local(id))
		return feature_resolve_fetch(c, id, fetched, cause);
	if (feature_resolve_inside(c, id, cause) != 0)
		return NULL;
	path = xasprintf("%s/%s", c->config_dir, id);
	if (realpath(path, real) == NULL || stat(real, &st) != 0 ||
	    !S_ISDIR(st.st_mode)) {
		error_set(cause, "Feature \"%s\": %s is not a folder", id, path);
		free(path);
		return NULL;
	}
	free(path);
	return xstrdup(real);
}

/* Read and check dir's devcontainer-feature.json and look for install.sh. */
static struct feature_json *
feature_resolve_read(const char *id, const char *dir, char **cause)
{
	char *path = xasprintf("%s/devcontainer-feature.json", dir), *text, *sh;
	struct feature_json *fj = NULL;

	if ((text = config_read_text(path, cause)) == NULL) {
		error_prefix(cause, "Feature \"%s\"", id);
		goto out;
	}
	if ((fj = feature_json_parse(path, text, strlen(text), cause)) == NULL)
		goto out;
	sh = xasprintf("%s/install.sh", dir);
	if (access(sh, R_OK) != 0) {
		error_set(cause, "Feature \"%s\": %s: %s (every Feature has one)", id, sh,
		    strerror(errno));
		feature_json_free(fj);
		fj = NULL;
	}
	free(sh);
out:
	free(text);
	free(path);
	return fj;
}

/* The key (struct feature) of Feature id: a local one's folder, an OCI
 * one's "registry/namespace/id" (the reference's featureRef.resource: its
 * tag or digest does not matter, ghcr.io/x/y installsAfter ghcr.io/x/z waits
 * for ghcr.io/x/z:1), a tarball's URL. New string, or NULL with *cause. */
static char *
feature_resolve_key(const struct feature_resolve_ctx *c, const char *id, char **cause)
{
	struct feature_ref ref;
	char *key;

	if (feature_resolve_is_local(id))
		return feature_resolve_dir(c, id, NULL, cause);
	if (feature_ref_parse(id, &ref, cause) != 0)
		return NULL;
	key = ref.kind == FEATURE_REF_OCI ? xasprintf("%s/%s", ref.registry, ref.path)
					  : xstrdup(ref.url);
	feature_ref_clear(&ref);
	return key;
}

/* The key of an installsAfter or overrideFeatureInstallOrder entry: 0 with
 * *key (NULL for a local folder that is not there: nothing to wait for), or
 * -1 with *cause when the entry is one the reference refuses too (it fails
 * "could not be processed"): an id that does not parse (a short "node", an
 * absolute path) or a local folder outside .devcontainer. */
static int
feature_resolve_soft_key(
    const struct feature_resolve_ctx *c, const char *id, char **key, char **cause)
{
	char *ignore = NULL;

	*key = NULL;
	if (id[0] == '/')
		return error_set(cause,
		    "'%s' is an absolute path (a local Feature is ./NAME in the "
		    ".devcontainer folder, as the reference CLI requires)",
		    id);
	if (feature_resolve_is_local(id)) {
		if (feature_resolve_inside(c, id, cause) != 0)
			return -1;
		*key = feature_resolve_dir(c, id, NULL, &ignore);
		free(ignore);
		return 0;
	}
	*key = feature_resolve_key(c, id, cause);
	return *key == NULL ? -1 : 0;
}

/* Resolve installsAfter ids to keys; a missing local folder is nothing to
 * wait for, an entry that cannot be honoured an error naming the Feature. */
static int
feature_resolve_after(
    const struct feature_resolve_ctx *c, struct feature *f, char **cause)
{
	const cJSON *a, *e;
	char *dir;

	a = cJSON_GetObjectItemCaseSensitive(feature_json_root(f->json), "installsAfter");
	cJSON_ArrayForEach(e, a) {
		if (!cJSON_IsString(e))
			continue; /* feature_json_parse refused it */
		if (feature_resolve_soft_key(c, e->valuestring, &dir, cause) != 0)
			return error_prefix(cause,
			    "Feature \"%s\": \"installsAfter\" \"%s\" cannot be honoured",
			    f->id, e->valuestring);
		if (dir == NULL)
			continue;
		f->after = xreallocarray(f->after, f->nafter + 1, sizeof *f->after);
		f->after[f->nafter++] = dir;
	}
	return 0;
}

/* Add Feature id with its given value (where names it in messages) and,
 * recursively, what it depends on; *index gets its place in the set (an
 * equal Feature already there is that one). */
static int
feature_resolve_add(struct feature_resolve_ctx *c, const char *id, const cJSON *given,
    const char *where, int depth, size_t *index, char **cause)
{
	struct feature_set *fs = c->fs;
	struct feature_fetched fetched;
	struct feature_json *fj = NULL;
	const cJSON *deps, *d;
	cJSON *options = NULL;
	char *dir, *dwhere;
	size_t i, dep = 0;

	if (depth > FEATURE_RESOLVE_MAX)
		return error_set(cause, "%s: dependsOn nested over %d deep", where,
		    FEATURE_RESOLVE_MAX);
	if ((dir = feature_resolve_dir(c, id, &fetched, cause)) == NULL)
		return error_prefix(cause, "%s", where);
	if ((fj = feature_resolve_read(id, dir, cause)) == NULL ||
	    (options = feature_json_options(fj, given, where, cause)) == NULL) {
		feature_json_free(fj);
		feature_fetched_clear(&fetched);
		free(dir);
		return -1;
	}
	for (i = 0; i < fs->n; i++) {
		if (strcmp(fs->v[i].dir, dir) == 0 &&
		    feature_json_options_compare(fs->v[i].options, options) == 0) {
			*index = i;
			feature_json_free(fj);
			cJSON_Delete(options);
			feature_fetched_clear(&fetched);
			free(dir);
			return 0;
		}
	}
	fs->v = xreallocarray(fs->v, fs->n + 1, sizeof *fs->v);
	*index = i = fs->n++;
	memset(&fs->v[i], 0, sizeof fs->v[i]);
	fs->v[i].id = xstrdup(id);
	fs->v[i].dir = dir;
	fs->v[i].json = fj;
	fs->v[i].options = options;
	fs->v[i].resolved = fetched.resolved;
	fs->v[i].integrity = fetched.digest;
	fetched.resolved = fetched.digest = NULL;
	feature_fetched_clear(&fetched);
	if (feature_resolve_is_local(id))
		fs->v[i].key = xstrdup(fs->v[i].dir);
	else {
		/* fetched: it parses */
		fs->v[i].ref = xcalloc(1, sizeof *fs->v[i].ref);
		if (feature_ref_parse(id, fs->v[i].ref, cause) != 0)
			fatal("Feature \"%s\" fetched but does not parse", id);
		fs->v[i].key = feature_resolve_key(c, id, cause);
		if (fs->v[i].ref->kind == FEATURE_REF_OCI)
			fs->v[i].oci_ns = xasprintf("%s/%.*s", fs->v[i].ref->registry,
			    (int)(strlen(fs->v[i].ref->path) -
				strlen(fs->v[i].ref->name) - 1),
			    fs->v[i].ref->path);
	}
	if (feature_resolve_after(c, &fs->v[i], cause) != 0)
		return error_prefix(cause, "%s", where);
	deps = cJSON_GetObjectItemCaseSensitive(feature_json_root(fj), "dependsOn");
	cJSON_ArrayForEach(d, deps) {
		dwhere = xasprintf("Feature \"%s\": \"dependsOn\".\"%s\"", id, d->string);
		if (feature_resolve_add(
			c, d->string, d, dwhere, depth + 1, &dep, cause) != 0) {
			free(dwhere);
			return -1;
		}
		free(dwhere);
		/* fs->v may have moved */
		fs->v[i].depends = xreallocarray(
		    fs->v[i].depends, fs->v[i].ndepends + 1, sizeof *fs->v[i].depends);
		fs->v[i].depends[fs->v[i].ndepends++] = dep;
	}
	return 0;
}

/* "FILE:LINE:COL: \"features\".\"ID\"" for a Feature of devcontainer.json.
 * New string. */
static char *
feature_resolve_where(const struct config *cfg, const char *id)
{
	const struct jsonc_doc *doc = config_get_doc(cfg);
	const cJSON *f =
	    cJSON_GetObjectItemCaseSensitive(jsonc_doc_root(doc), "features");
	const cJSON *node = cJSON_GetObjectItemCaseSensitive(f, id);
	unsigned line, col;

	if (node != NULL && jsonc_doc_locate_key(doc, node, &line, &col) == 0)
		return xasprintf(
		    "%s:%u:%u: \"features\".\"%s\"", jsonc_doc_name(doc), line, col, id);
	return xasprintf("%s: \"features\".\"%s\"", jsonc_doc_name(doc), id);
}

/* "FILE:LINE:COL" of entry index (id) of devcontainer.json's
 * overrideFeatureInstallOrder, or "FILE" when it is not there as written
 * (the configuration's object is not the document's tree). New string. */
static char *
feature_resolve_override_where(const struct config *cfg, int index, const char *id)
{
	const struct jsonc_doc *doc = config_get_doc(cfg);
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(
	    jsonc_doc_root(doc), "overrideFeatureInstallOrder");
	const cJSON *e = cJSON_GetArrayItem(a, index);
	unsigned line, col;

	if (cJSON_IsString(e) && strcmp(e->valuestring, id) == 0 &&
	    jsonc_doc_locate(doc, e, &line, &col) == 0)
		return xasprintf("%s:%u:%u", jsonc_doc_name(doc), line, col);
	return xstrdup(jsonc_doc_name(doc));
}

/* Order the set (fs->order) as the reference does. */
static int
feature_resolve_order(struct feature_resolve_ctx *c, const struct config *cfg,
    const cJSON *override, char **cause)
{
	struct feature_set *fs = c->fs;
	struct feature_order_node *nodes = xcalloc(fs->n, sizeof *nodes);
	const char **keys = NULL;
	const cJSON *e;
	char *key, *where;
	size_t nkeys = 0;
	int rc, index;

	for (size_t i = 0; i < fs->n; i++) {
		const struct feature_ref *ref = fs->v[i].ref;

		nodes[i].id = fs->v[i].id;
		nodes[i].key = fs->v[i].key;
		nodes[i].kind = ref == NULL	   ? FEATURE_ORDER_LOCAL
		    : ref->kind == FEATURE_REF_OCI ? FEATURE_ORDER_OCI
						   : FEATURE_ORDER_TARBALL;
		if (nodes[i].kind == FEATURE_ORDER_OCI) {
			nodes[i].oci_ns = fs->v[i].oci_ns;
			nodes[i].oci_name = ref->name;
			nodes[i].oci_tag = ref->tag;
			nodes[i].oci_digest = fs->v[i].integrity;
		}
		nodes[i].options = fs->v[i].options;
		nodes[i].depends = fs->v[i].depends;
		nodes[i].ndepends = fs->v[i].ndepends;
		nodes[i].after = (const char *const *)fs->v[i].after;
		nodes[i].nafter = fs->v[i].nafter;
	}
	keys = xcalloc((size_t)cJSON_GetArraySize(override) + 1, sizeof *keys);
	rc = 0;
	index = -1;
	cJSON_ArrayForEach(e, override) {
		index++;
		if (!cJSON_IsString(e))
			continue; /* config validation refused it */
		if (feature_resolve_soft_key(c, e->valuestring, &key, cause) != 0) {
			where =
			    feature_resolve_override_where(cfg, index, e->valuestring);
			error_prefix(cause,
			    "%s: \"overrideFeatureInstallOrder\" \"%s\" cannot be "
			    "honoured",
			    where, e->valuestring);
			free(where);
			rc = -1;
			break;
		}
		if (key != NULL)
			keys[nkeys++] = key;
	}
	if (rc == 0) {
		feature_order_override(nodes, fs->n, keys, nkeys);
		fs->order = xcalloc(fs->n + 1, sizeof *fs->order);
		rc = feature_order_sort(nodes, fs->n, fs->order, cause);
	}
	for (size_t i = 0; i < nkeys; i++)
		free((char *)keys[i]);
	free(keys);
	free(nodes);
	return rc;
}

struct feature_set *
feature_resolve(
    const struct config *cfg, const cJSON *additional, int no_lock, char **cause)
{
	const cJSON *obj = config_get_object(cfg), *f;
	struct feature_resolve_ctx c;
	char *file = xstrdup(config_get_file(cfg)), *where, *lock_path;
	size_t index;
	int rc = 0;

	c.fs = xcalloc(1, sizeof *c.fs);
	lock_path = feature_lock_path(config_get_file(cfg));
	c.lock = NULL;
	if (!no_lock && feature_lock_read(lock_path, &c.lock, cause) != 0) {
		free(lock_path);
		free(file);
		feature_set_free(c.fs);
		return NULL;
	}
	free(lock_path);
	c.config_dir = xstrdup(dirname(file));
	free(file);
	c.devcontainer_dir = xasprintf("%s/.devcontainer",
	    strcmp(config_get_local_folder(cfg), "/") == 0
		? ""
		: config_get_local_folder(cfg));
	cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(obj, "features")) {
		where = feature_resolve_where(cfg, f->string);
		rc = feature_resolve_add(&c, f->string, f, where, 0, &index, cause);
		free(where);
		if (rc != 0)
			break;
	}
	/* As the reference's userFeaturesToArray: after the configuration's,
	 * those it does not name (the same id as written: the configuration's
	 * value wins whole, its options are not merged). */
	cJSON_ArrayForEach(f, additional) {
		if (rc != 0)
			break;
		if (cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(obj, "features"), f->string) !=
		    NULL)
			continue;
		where = xasprintf("--additional-features: \"%s\"", f->string);
		rc = feature_resolve_add(&c, f->string, f, where, 0, &index, cause);
		free(where);
		if (rc != 0)
			break;
	}
	/* Without Features the reference reads no overrideFeatureInstallOrder
	 * (userFeaturesToArray() gives none): not an error then. */
	if (rc == 0)
		rc = feature_resolve_order(&c, cfg,
		    c.fs->n == 0 ? NULL
				 : cJSON_GetObjectItemCaseSensitive(
				       obj, "overrideFeatureInstallOrder"),
		    cause);
	free(c.config_dir);
	free(c.devcontainer_dir);
	cJSON_Delete(c.lock);
	if (rc != 0) {
		feature_set_free(c.fs);
		return NULL;
	}
	return c.fs;
}

void
feature_set_free(struct feature_set *fs)
{
	if (fs == NULL)
		return;
	for (size_t i = 0; i < fs->n; i++) {
		free(fs->v[i].id);
		free(fs->v[i].dir);
		feature_json_free(fs->v[i].json);
		cJSON_Delete(fs->v[i].options);
		free(fs->v[i].depends);
		for (size_t j = 0; j < fs->v[i].nafter; j++)
			free(fs->v[i].after[j]);
		free(fs->v[i].after);
		free(fs->v[i].resolved);
		free(fs->v[i].integrity);
		free(fs->v[i].key);
		if (fs->v[i].ref != NULL)
			feature_ref_clear(fs->v[i].ref);
		free(fs->v[i].ref);
		free(fs->v[i].oci_ns);
	}
	free(fs->v);
	free(fs->order);
	free(fs);
}
