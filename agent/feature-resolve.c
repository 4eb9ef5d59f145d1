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
#include "log.h"
#include "xmalloc.h"

/* Nested dependsOn deeper than this is a mistake, not a configuration. */
#define FEATURE_RESOLVE_MAX 64

/* One resolution: the set growing, and where relative ids start. */
struct feature_resolve_ctx {
	struct feature_set *fs;
	char *config_dir;
	char *devcontainer_dir; /* <workspace>/.devcontainer: local ones' home */
	cJSON *lock;		/* devcontainer-lock.json's tree, or NULL when none */
	/* installsAfter/override entries resolved this run, by id as written
	 * (each is fetched, and warned about, once per up: official
	 * Features name the same ones), and the registries found unreachable
	 * this run (a later entry on one is not tried: each try would cost
	 * a full timeout). */
	struct feature_resolve_memo {
		char *id;
		struct feature_after out;
	} * memo;
	size_t nmemo;
	char **down;
	size_t ndown;
};

static int
feature_resolve_is_local(const char *id)
{
	return strncmp(id, "./", 2) == 0 || strncmp(id, "../", 3) == 0;
}

/* A Feature that is not a local folder (an OCI reference, a tarball URL),
 * fetched into the agent's cache (feature-fetch.h) at the digest the
 * lockfile pins, if it does: its folder (new string), or NULL with *cause
 * (and *unreachable, when not NULL, set as feature_fetched's); what the
 * lockfile would pin into *fetched when not NULL. */
static char *
feature_resolve_fetch(const struct feature_resolve_ctx *c, const char *id,
    struct feature_fetched *fetched, int *unreachable, char **cause)
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
	else if (unreachable != NULL)
		*unreachable = out.unreachable;
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
		return feature_resolve_fetch(c, id, fetched, NULL, cause);
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
 * for ghcr.io/x/z:1), a tarball's URL (normalised). New string, or NULL with
 * *cause. */
static char *
feature_resolve_key(const struct feature_resolve_ctx *c, const char *id, char **cause)
{
	struct feature_ref ref;
	char *key;

	if (feature_resolve_is_local(id))
		return feature_resolve_dir(c, id, NULL, cause);
	if (feature_ref_parse(id, &ref, cause) != 0)
		return NULL;
	key = xstrdup(ref.resource);
	feature_ref_clear(&ref);
	return key;
}

/* The ids a Feature answers to, as the reference's featureIdAliases: its
 * currentId (its id when it has none), then its legacyIds. New array of
 * strings borrowed from fj. */
static const char **
feature_resolve_ids(const struct feature_json *fj, size_t *nids)
{
	const cJSON *root = feature_json_root(fj), *e;
	const cJSON *cur = cJSON_GetObjectItemCaseSensitive(root, "currentId");
	const cJSON *legacy = cJSON_GetObjectItemCaseSensitive(root, "legacyIds");
	const char **ids = xcalloc((size_t)cJSON_GetArraySize(legacy) + 1, sizeof *ids);

	*nids = 0;
	ids[(*nids)++] = cJSON_IsString(cur) && cur->valuestring[0] != '\0'
	    ? cur->valuestring
	    : feature_json_id(fj);
	cJSON_ArrayForEach(e, legacy) {
		if (cJSON_IsString(e))
			ids[(*nids)++] = e->valuestring;
	}
	return ids;
}

static void
feature_resolve_after_clear(struct feature_after *a)
{
	free(a->key);
	for (size_t i = 0; i < a->naliases; i++)
		free(a->aliases[i]);
	free(a->aliases);
	memset(a, 0, sizeof *a);
}

/* *to: a copy of *from. */
static void
feature_resolve_after_copy(struct feature_after *to, const struct feature_after *from)
{
	memset(to, 0, sizeof *to);
	to->key = from->key != NULL ? xstrdup(from->key) : NULL;
	if (from->naliases == 0)
		return; /* (nothing allocated: a NULL key's is not cleared) */
	to->aliases = xcalloc(from->naliases, sizeof *to->aliases);
	for (size_t i = 0; i < from->naliases; i++)
		to->aliases[to->naliases++] = xstrdup(from->aliases[i]);
}

/* Whether registry was found unreachable this run. */
static int
feature_resolve_is_down(const struct feature_resolve_ctx *c, const char *registry)
{
	for (size_t i = 0; i < c->ndown; i++) {
		if (strcmp(c->down[i], registry) == 0)
			return 1;
	}
	return 0;
}

/* out's aliases: ids (n of them) as "<ns>/<id>", ns "registry/namespace". */
static void
feature_resolve_aliases(
    struct feature_after *out, const char *ns, const char **ids, size_t n)
{
	out->aliases = xcalloc(n, sizeof *out->aliases);
	for (size_t i = 0; i < n; i++)
		out->aliases[out->naliases++] = xasprintf("%s/%s", ns, ids[i]);
}

/* Does the OCI entry ref name Feature f as written, a match the reference
 * could make if it could fetch the entry? 2: the same registry/path (f's
 * key: a match whatever the entry's metadata says); 1: f's namespace and one
 * of f's ids (its currentId, legacyIds: the entry may be an old name of it,
 * a match that depends on the metadata); 0: no. */
static int
feature_resolve_names(const struct feature *f, const struct feature_ref *ref)
{
	/* The namespaces as written (the keys') and, for the entry, as
	 * fetched (a devcontainers-contrib one is devcontainers-extra): the
	 * reference matches the entry's ids under the latter against the
	 * Feature's key. */
	size_t keyns = (size_t)(strrchr(f->key, '/') - f->key);
	size_t refns = (size_t)(strrchr(ref->resource, '/') - ref->resource);
	size_t reglen = strlen(ref->registry);
	size_t pathns = strlen(ref->path) - strlen(ref->name) - 1;
	int same_ns;

	if (f->ref == NULL || f->ref->kind != FEATURE_REF_OCI)
		return 0;
	if (strcmp(f->key, ref->resource) == 0)
		return 2;
	same_ns = (keyns == refns && strncmp(f->key, ref->resource, keyns) == 0) ||
	    (keyns == reglen + 1 + pathns &&
		strncmp(f->key, ref->registry, reglen) == 0 && f->key[reglen] == '/' &&
		strncmp(f->key + reglen + 1, ref->path, pathns) == 0);
	for (size_t i = 0; same_ns && i < f->nids; i++) {
		if (strcmp(ref->name, f->ids[i]) == 0)
			return 1;
	}
	return 0;
}

/* The Feature of the set that the OCI entry id (ref) is certain to be
 * without fetching it: the same registry/path at the same tag (or at the
 * digest the Feature was fetched at), the lockfile pinning the entry to
 * nothing or that digest. Fetching it would get the Feature's own
 * manifest, already fetched this run. NULL when none is. */
static const struct feature *
feature_resolve_same(
    const struct feature_resolve_ctx *c, const char *id, const struct feature_ref *ref)
{
	struct feature_lock_entry lock = { 0 };
	const struct feature *f, *found = NULL;
	char *ignore = NULL;

	for (size_t i = 0; i < c->fs->n && found == NULL; i++) {
		f = &c->fs->v[i];
		if (f->ref == NULL || f->ref->kind != FEATURE_REF_OCI ||
		    strcmp(f->key, ref->resource) != 0 || f->integrity == NULL)
			continue;
		if (ref->digest != NULL
			? strcmp(ref->digest, f->integrity) == 0
			: f->ref->digest == NULL && strcmp(ref->tag, f->ref->tag) == 0)
			found = f;
	}
	if (found == NULL)
		return NULL;
	if (feature_lock_get(c->lock, id, &lock, &ignore) < 0 ||
	    (lock.integrity != NULL && strcmp(lock.integrity, found->integrity) != 0))
		found = NULL;
	free(ignore);
	feature_lock_entry_clear(&lock);
	return found;
}

/* Whether the untagged (latest) OCI entry id (ref) is certain to order as
 * a key alone, whatever its metadata: a Feature of the set is at its
 * registry/path (at another tag), no other Feature of the set is in its
 * registry/namespace, and the lockfile pins nothing for it. Fetching it
 * would only add its metadata's ids as aliases ("registry/namespace/ID"),
 * and an alias matches a Feature by key: none there could match but the
 * one its key matches already. (The reference fetches it, and would fail
 * if the registry has no latest tag: rdev does not ask.) */
static int
feature_resolve_latest_same(
    const struct feature_resolve_ctx *c, const char *id, const struct feature_ref *ref)
{
	struct feature_lock_entry lock = { 0 };
	const char *slash = strrchr(ref->resource, '/');
	size_t nslen = slash != NULL ? (size_t)(slash - ref->resource) : 0;
	char *ignore = NULL;
	int found = 0, pinned;

	if (ref->digest != NULL || ref->tag == NULL || strcmp(ref->tag, "latest") != 0 ||
	    slash == NULL)
		return 0;
	for (size_t i = 0; i < c->fs->n; i++) {
		const struct feature *f = &c->fs->v[i];

		if (f->ref == NULL || f->ref->kind != FEATURE_REF_OCI)
			continue;
		if (strcmp(f->key, ref->resource) == 0)
			found = 1;
		else if (strncmp(f->key, ref->resource, nslen + 1) == 0)
			return 0; /* (an alias of the entry could be its key) */
	}
	if (!found)
		return 0;
	pinned =
	    feature_lock_get(c->lock, id, &lock, &ignore) != 0 || lock.integrity != NULL;
	free(ignore);
	feature_lock_entry_clear(&lock);
	return !pinned;
}

/* An entry that could not be fetched (*why says why; unreachable: its
 * registry could not be reached): taken for the Feature of the set at its
 * registry/path (into *out), or ignored when it names no Feature of the set
 * (it orders nothing here): 1 then, *why freed. 0: the reference's
 * fallback (*why kept). written: the entry as written (a short deprecated
 * id is said so too). */
static int
feature_resolve_unfetched(const struct feature_resolve_ctx *c, const char *written,
    const char *id, const struct feature_ref *ref, int unreachable, char **why,
    struct feature_after *out)
{
	const struct feature *same = NULL;
	char *said;
	int named = 0;

	for (size_t i = 0; i < c->fs->n && named < 2; i++) {
		int n = feature_resolve_names(&c->fs->v[i], ref);

		if (n > named) {
			named = n;
			same = &c->fs->v[i];
		}
	}
	if (!unreachable || named == 1)
		return 0;
	said = written != id ? xasprintf("'%s': ", written) : xstrdup("");
	if (named == 2) {
		log_warn("%s%s; taken for Feature '%s' (the same registry/path), "
			 "with its ids: the entry's tag could not be read",
		    said, *why, same->id);
		out->key = xstrdup(same->key);
		feature_resolve_aliases(out, same->oci_ns, same->ids, same->nids);
	} else
		log_warn("%s%s; ignored: it names no Feature of this configuration, so "
			 "it orders nothing here (the reference CLI would fail)",
		    said, *why);
	free(said);
	free(*why);
	*why = NULL;
	return 1;
}

/* An OCI installsAfter or overrideFeatureInstallOrder entry, fetched as the
 * reference fetches it (its processFeature(): at the digest the lockfile
 * pins, if it does): *out gets its key and the keys of its ids. An entry
 * that is a Feature of the set for certain (feature_resolve_same()) is not
 * fetched: that Feature's ids are its. When it cannot be fetched (or does
 * not parse), the reference falls back to taking it for a GitHub release
 * Feature: an owner/repo/id one is then nothing to wait for (*out empty),
 * anything else fails ("could not be processed"): 0, or -1 with *cause.
 * Unlike the reference, an entry whose registry cannot be reached (no
 * definite answer) and that names no Feature of the set as written is
 * nothing to wait for either: it could order nothing that is there, and
 * official Features name ghcr.io ones in installsAfter, which would make
 * every up need the network. One that is a Feature's key (registry/path)
 * at another tag is that Feature's (the key match does not depend on the
 * entry's metadata), with that Feature's ids for the entry's (they could
 * differ at the other tag: said). One that names a Feature only by one of
 * its ids (a legacyId) fails as in the reference: whether it matches is
 * the entry's metadata's to say. */
static int
feature_resolve_soft_oci(struct feature_resolve_ctx *c, const char *written,
    const char *id, struct feature_after *out, char **cause)
{
	struct feature_ref ref;
	struct feature_json *fj = NULL;
	const struct feature *same = NULL;
	char *folder = NULL, *path, *text = NULL, *why = NULL, *ns;
	const char **ids;
	size_t nids;
	int unreachable = 0, taken;

	if (feature_ref_parse(id, &ref, &why) != 0)
		goto fallback;
	if (ref.kind == FEATURE_REF_OCI &&
	    (same = feature_resolve_same(c, id, &ref)) != NULL) {
		log_debug("installsAfter/override '%s': Feature '%s' (not fetched again)",
		    id, same->id);
		out->key = xstrdup(ref.resource);
		feature_resolve_aliases(out, same->oci_ns, same->ids, same->nids);
		feature_ref_clear(&ref);
		return 0;
	}
	if (ref.kind == FEATURE_REF_OCI && feature_resolve_latest_same(c, id, &ref)) {
		log_debug("installsAfter/override '%s': the Feature at its registry/path "
			  "(not fetched: its metadata could add nothing here)",
		    id);
		out->key = xstrdup(ref.resource);
		feature_ref_clear(&ref);
		return 0;
	}
	if (ref.kind == FEATURE_REF_OCI && feature_resolve_is_down(c, ref.registry)) {
		unreachable = 1;
		why = xasprintf("Feature '%s': registry %s could not be reached (above)",
		    id, ref.registry);
	} else if ((folder = feature_resolve_fetch(c, id, NULL, &unreachable, &why)) ==
		NULL &&
	    unreachable && ref.kind == FEATURE_REF_OCI) {
		c->down = xreallocarray(c->down, c->ndown + 1, sizeof *c->down);
		c->down[c->ndown++] = xstrdup(ref.registry);
	}
	if (folder == NULL) {
		taken = feature_resolve_unfetched(
		    c, written, id, &ref, unreachable, &why, out);
		feature_ref_clear(&ref);
		if (taken)
			return 0;
		goto fallback;
	}
	path = xasprintf("%s/devcontainer-feature.json", folder);
	if ((text = config_read_text(path, cause)) != NULL)
		fj = feature_json_parse(path, text, strlen(text), cause);
	free(text);
	free(path);
	free(folder);
	if (fj == NULL) {
		feature_ref_clear(&ref);
		return -1;
	}
	out->key = xstrdup(ref.resource);
	ids = feature_resolve_ids(fj, &nids);
	ns = xasprintf("%s/%.*s", ref.registry,
	    (int)(strlen(ref.path) - strlen(ref.name) - 1), ref.path);
	feature_resolve_aliases(out, ns, ids, nids);
	free(ns);
	free(ids);
	feature_json_free(fj);
	feature_ref_clear(&ref);
	return 0;
fallback:
	if (!feature_ref_github_form(id)) {
		*cause = why;
		return -1;
	}
	/* why names the Feature */
	log_warn("%s; nothing to wait for (the reference takes an owner/repo/id it "
		 "cannot fetch for a GitHub release Feature)",
	    why);
	free(why);
	return 0;
}

/* An installsAfter or overrideFeatureInstallOrder entry resolved into *out
 * (zeroed; out->key NULL: nothing to wait for, a local folder that is not
 * there or a GitHub release Feature), or -1 with *cause when the entry is
 * one the reference refuses too (it fails "could not be processed"): an id
 * that does not parse (a short "fish", an absolute path), a local folder
 * outside .devcontainer, an OCI Feature that cannot be fetched. */
static int
feature_resolve_soft_key1(struct feature_resolve_ctx *c, const char *id,
    struct feature_after *out, char **cause)
{
	char *ignore = NULL, *compat;
	int rc;

	memset(out, 0, sizeof *out);
	/* The reference maps a short deprecated id here too. */
	if ((compat = feature_ref_backcompat(id)) != NULL) {
		rc = feature_resolve_soft_oci(c, id, compat, out, cause);
		free(compat);
		return rc;
	}
	if (id[0] == '/')
		return error_set(cause,
		    "'%s' is an absolute path (a local Feature is ./NAME in the "
		    ".devcontainer folder, as the reference CLI requires)",
		    id);
	if (feature_resolve_is_local(id)) {
		if (feature_resolve_inside(c, id, cause) != 0)
			return -1;
		out->key = feature_resolve_dir(c, id, NULL, &ignore);
		free(ignore);
		return 0;
	}
	/* The reference does not fetch a tarball to wait for: its URL is
	 * enough. */
	if (strncmp(id, "https://", 8) == 0 || strncmp(id, "http://", 7) == 0 ||
	    strchr(id, '/') == NULL) {
		out->key = feature_resolve_key(c, id, cause);
		return out->key == NULL ? -1 : 0;
	}
	return feature_resolve_soft_oci(c, id, id, out, cause);
}

/* feature_resolve_soft_key1(), once per id (as written) per run: a later
 * one gets the first's result, without fetching or warning again. (An
 * error ends the run: not remembered.) */
static int
feature_resolve_soft_key(struct feature_resolve_ctx *c, const char *id,
    struct feature_after *out, char **cause)
{
	for (size_t i = 0; i < c->nmemo; i++) {
		if (strcmp(c->memo[i].id, id) == 0) {
			feature_resolve_after_copy(out, &c->memo[i].out);
			return 0;
		}
	}
	if (feature_resolve_soft_key1(c, id, out, cause) != 0)
		return -1;
	c->memo = xreallocarray(c->memo, c->nmemo + 1, sizeof *c->memo);
	c->memo[c->nmemo].id = xstrdup(id);
	feature_resolve_after_copy(&c->memo[c->nmemo++].out, out);
	return 0;
}

/* Resolve installsAfter ids to keys; a missing local folder is nothing to
 * wait for, an entry that cannot be honoured an error naming the Feature. */
static int
feature_resolve_after(struct feature_resolve_ctx *c, struct feature *f, char **cause)
{
	const cJSON *a, *e;
	struct feature_after after;

	a = cJSON_GetObjectItemCaseSensitive(feature_json_root(f->json), "installsAfter");
	cJSON_ArrayForEach(e, a) {
		if (!cJSON_IsString(e))
			continue; /* feature_json_parse refused it */
		if (feature_resolve_soft_key(c, e->valuestring, &after, cause) != 0)
			return error_prefix(cause,
			    "Feature \"%s\": \"installsAfter\" \"%s\" cannot be honoured",
			    f->id, e->valuestring);
		if (after.key == NULL)
			continue;
		f->after = xreallocarray(f->after, f->nafter + 1, sizeof *f->after);
		f->after[f->nafter++] = after;
	}
	return 0;
}

static int feature_resolve_add(struct feature_resolve_ctx *, const char *, const cJSON *,
    const char *, int, size_t *, char **);

/* Add Feature id (fetched as fid: feature_ref_backcompat()) with its given
 * value (where names it in messages) and, recursively, what it depends on;
 * *index gets its place in the set (an equal Feature already there is that
 * one). */
static int
feature_resolve_add_as(struct feature_resolve_ctx *c, const char *id, const char *fid,
    const cJSON *given, const char *where, int depth, size_t *index, char **cause)
{
	struct feature_set *fs = c->fs;
	struct feature_fetched fetched;
	struct feature_json *fj = NULL;
	struct config_warnings warnings = { 0 };
	const cJSON *deps, *d;
	cJSON *options = NULL;
	char *dir, *dwhere;
	size_t i, dep = 0;

	if (depth > FEATURE_RESOLVE_MAX)
		return error_set(cause, "%s: dependsOn nested over %d deep", where,
		    FEATURE_RESOLVE_MAX);
	if ((dir = feature_resolve_dir(c, fid, &fetched, cause)) == NULL)
		return error_prefix(cause, "%s", where);
	if ((fj = feature_resolve_read(id, dir, cause)) == NULL ||
	    (options = feature_json_options(fj, given, where, &warnings, cause)) ==
		NULL) {
		config_warnings_clear(&warnings);
		feature_json_free(fj);
		feature_fetched_clear(&fetched);
		free(dir);
		return -1;
	}
	for (i = 0; i < warnings.count; i++)
		log_warn("%s", warnings.items[i]);
	config_warnings_clear(&warnings);
	/* One folder with equal option values is installed once; the
	 * reference compares the values as written, so {} and the defaults
	 * written out are two installs there (docs/STATUS.md, deliberate
	 * differences). The first one's value as written is the one sorted. */
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
	if ((fs->v[i].given = cJSON_Duplicate(given, 1)) == NULL)
		fatal("out of memory");
	fs->v[i].resolved = fetched.resolved;
	fs->v[i].integrity = fetched.digest;
	fs->v[i].manifest = fetched.manifest;
	fetched.resolved = fetched.digest = fetched.manifest = NULL;
	feature_fetched_clear(&fetched);
	if (feature_resolve_is_local(fid))
		fs->v[i].key = xstrdup(fs->v[i].dir);
	else {
		/* fetched: it parses */
		fs->v[i].ref = xcalloc(1, sizeof *fs->v[i].ref);
		if (feature_ref_parse(fid, fs->v[i].ref, cause) != 0)
			fatal("Feature \"%s\" fetched but does not parse", fid);
		fs->v[i].key = xstrdup(fs->v[i].ref->resource);
		if (fs->v[i].ref->kind == FEATURE_REF_OCI) {
			fs->v[i].oci_ns = xasprintf("%s/%.*s", fs->v[i].ref->registry,
			    (int)(strlen(fs->v[i].ref->path) -
				strlen(fs->v[i].ref->name) - 1),
			    fs->v[i].ref->path);
			fs->v[i].ids = feature_resolve_ids(fj, &fs->v[i].nids);
		}
	}
	fs->v[i].where = xstrdup(where);
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

/* feature_resolve_add_as() of id, or of what the reference's
 * getBackwardCompatibleFeatureId() makes of a short deprecated id ("node":
 * ghcr.io/devcontainers/features/node:1), said as it says it; id stays the
 * Feature's id as written (labels, lockfile, messages). */
static int
feature_resolve_add(struct feature_resolve_ctx *c, const char *id, const cJSON *given,
    const char *where, int depth, size_t *index, char **cause)
{
	char *compat = feature_ref_backcompat(id);
	int rc;

	if (compat != NULL)
		log_warn("%s: the deprecated Feature '%s' is %s, as the reference CLI "
			 "maps it",
		    where, id, compat);
	rc = feature_resolve_add_as(
	    c, id, compat != NULL ? compat : id, given, where, depth, index, cause);
	free(compat);
	return rc;
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
	struct feature_order_soft **soft = xcalloc(fs->n + 1, sizeof *soft);
	struct feature_after key;
	const char **keys = NULL;
	const cJSON *e;
	char *where;
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
			nodes[i].oci_ids = fs->v[i].ids;
			nodes[i].noci_ids = fs->v[i].nids;
		}
		nodes[i].options = fs->v[i].given;
		nodes[i].depends = fs->v[i].depends;
		nodes[i].ndepends = fs->v[i].ndepends;
		soft[i] = xcalloc(fs->v[i].nafter + 1, sizeof *soft[i]);
		for (size_t a = 0; a < fs->v[i].nafter; a++) {
			soft[i][a].key = fs->v[i].after[a].key;
			soft[i][a].aliases =
			    (const char *const *)fs->v[i].after[a].aliases;
			soft[i][a].naliases = fs->v[i].after[a].naliases;
		}
		nodes[i].after = soft[i];
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
		/* By key alone: the reference gives an override no aliases. */
		if (key.key != NULL)
			keys[nkeys++] = key.key;
		key.key = NULL;
		feature_resolve_after_clear(&key);
	}
	if (rc == 0) {
		feature_order_override(nodes, fs->n, keys, nkeys);
		fs->order = xcalloc(fs->n + 1, sizeof *fs->order);
		rc = feature_order_sort(nodes, fs->n, fs->order, cause);
	}
	for (size_t i = 0; i < nkeys; i++)
		free((char *)keys[i]);
	free(keys);
	for (size_t i = 0; i < fs->n; i++)
		free(soft[i]);
	free(soft);
	free(nodes);
	return rc;
}

struct feature_set *
feature_resolve(
    const struct config *cfg, const cJSON *additional, int no_lock, char **cause)
{
	const cJSON *obj = config_get_object(cfg), *f;
	const cJSON *config_features = cJSON_GetObjectItemCaseSensitive(obj, "features");
	cJSON *user, *folded;
	struct feature_resolve_ctx c;
	char *file = xstrdup(config_get_file(cfg)), *where, *lock_path;
	size_t index;
	int rc = 0;

	memset(&c, 0, sizeof c);
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
	/* As the reference's userFeaturesToArray: after the configuration's,
	 * those it does not name (the same id as written: the configuration's
	 * value wins whole, its options are not merged); then its
	 * updateDeprecatedFeaturesIntoOptions. */
	user = cJSON_Duplicate(config_features, 1);
	if (user == NULL)
		user = cJSON_CreateObject();
	cJSON_ArrayForEach(f, additional) {
		if (cJSON_GetObjectItemCaseSensitive(config_features, f->string) == NULL)
			cJSON_AddItemToObject(user, f->string, cJSON_Duplicate(f, 1));
	}
	cJSON_ArrayForEach(f, user) {
		if (feature_ref_folded_into(f->string) != NULL)
			log_warn("%s: the deprecated Feature '%s' is now part of '%s': "
				 "installed as its option, as the reference CLI does",
			    config_get_file(cfg), f->string,
			    feature_ref_folded_into(f->string));
	}
	folded = feature_ref_fold_deprecated(user);
	cJSON_ArrayForEach(f, folded) {
		if (cJSON_GetObjectItemCaseSensitive(config_features, f->string) != NULL)
			where = feature_resolve_where(cfg, f->string);
		else if (cJSON_GetObjectItemCaseSensitive(additional, f->string) != NULL)
			where = xasprintf("--additional-features: \"%s\"", f->string);
		else
			where = xasprintf("%s: \"features\": \"%s\" (for a deprecated "
					  "Feature, as the reference CLI adds it)",
			    config_get_file(cfg), f->string);
		rc = feature_resolve_add(&c, f->string, f, where, 0, &index, cause);
		free(where);
		if (rc != 0)
			break;
	}
	cJSON_Delete(folded);
	cJSON_Delete(user);
	/* installsAfter once the set is whole: whether an entry names a
	 * Feature of it decides what an unreachable registry costs
	 * (feature_resolve_soft_oci()). */
	for (size_t i = 0; rc == 0 && i < c.fs->n; i++) {
		if ((rc = feature_resolve_after(&c, &c.fs->v[i], cause)) != 0)
			error_prefix(cause, "%s", c.fs->v[i].where);
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
	for (size_t i = 0; i < c.nmemo; i++) {
		free(c.memo[i].id);
		feature_resolve_after_clear(&c.memo[i].out);
	}
	free(c.memo);
	for (size_t i = 0; i < c.ndown; i++)
		free(c.down[i]);
	free(c.down);
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
		cJSON_Delete(fs->v[i].given);
		free(fs->v[i].depends);
		for (size_t j = 0; j < fs->v[i].nafter; j++)
			feature_resolve_after_clear(&fs->v[i].after[j]);
		free(fs->v[i].after);
		free(fs->v[i].ids);
		free(fs->v[i].resolved);
		free(fs->v[i].integrity);
		free(fs->v[i].manifest);
		free(fs->v[i].where);
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
