/* feature-config.c - a resolved Feature set as the reference CLI's
 * read-configuration prints it ("featuresConfiguration"): its FeatureSet
 * objects, one per Feature in install order (feature-resolve.h). */
#include "feature-resolve.h"

#include <stdlib.h>
#include <string.h>

#include "feature-fetch.h"
#include "feature-json.h"
#include "xmalloc.h"

/* The reference's featureRef of an OCI id (its getRef()): the parts of
 * ref, members it leaves undefined (tag or digest) left out. New object. */
static cJSON *
feature_config_ref(const struct feature_ref *ref)
{
	const char *slash = strrchr(ref->path, '/');
	cJSON *o = cJSON_CreateObject();
	char *owner = xstrndup(ref->path, strcspn(ref->path, "/"));
	char *ns = xstrndup(ref->path, slash != NULL ? (size_t)(slash - ref->path) : 0);

	cJSON_AddStringToObject(
	    o, "scheme", strncmp(ref->url, "http://", 7) == 0 ? "http" : "https");
	cJSON_AddStringToObject(o, "id", ref->name);
	cJSON_AddStringToObject(o, "owner", owner);
	cJSON_AddStringToObject(o, "namespace", ns);
	cJSON_AddStringToObject(o, "registry", ref->registry);
	cJSON_AddStringToObject(o, "resource", ref->resource);
	cJSON_AddStringToObject(o, "path", ref->path);
	cJSON_AddStringToObject(
	    o, "version", ref->digest != NULL ? ref->digest : ref->tag);
	if (ref->tag != NULL)
		cJSON_AddStringToObject(o, "tag", ref->tag);
	if (ref->digest != NULL)
		cJSON_AddStringToObject(o, "digest", ref->digest);
	free(owner);
	free(ns);
	return o;
}

/* Node's path.dirname (posix): p less its last component and the slashes
 * before it, trailing slashes ignored; "." when p has no '/', "/" for "/x".
 * New string. */
static char *
feature_config_dirname(const char *p)
{
	size_t n = strlen(p);

	while (n > 1 && p[n - 1] == '/')
		n--;
	while (n > 0 && p[n - 1] != '/')
		n--;
	if (n == 0)
		return xstrdup(".");
	while (n > 1 && p[n - 1] == '/')
		n--;
	/* path.dirname("//x") is "//"; join normalises it to "/" anyway */
	return xstrndup(p, n);
}

/* Node's path.join(path.dirname(config_file), id), the reference's
 * resolvedFilePath: "." and empty segments dropped, ".." taking the one
 * before (kept at the start of a relative path, dropped at the root), a
 * trailing '/' kept, "." for nothing; no symbolic link followed (f->dir is
 * the real path). */
char *
feature_config_local_path(const char *config_file, const char *id)
{
	char *dir = feature_config_dirname(config_file);
	char *joined = *id == '\0' ? xstrdup(dir) : xasprintf("%s/%s", dir, id);
	size_t len = strlen(joined), n = 0, back;
	int absolute = joined[0] == '/', trailing = joined[len - 1] == '/';
	char *out = xmalloc(len + 3), *seg, *rest = joined;

	while ((seg = strsep(&rest, "/")) != NULL) {
		if (*seg == '\0' || strcmp(seg, ".") == 0)
			continue;
		if (strcmp(seg, "..") == 0) {
			for (back = n; back > 0 && out[back - 1] != '/'; back--)
				;
			if (n > 0 && strcmp(out + back, "..") != 0) {
				n = back > 0 ? back - 1 : 0;
				out[n] = '\0';
				continue;
			}
			if (absolute)
				continue;
		}
		if (n > 0)
			out[n++] = '/';
		memcpy(out + n, seg, strlen(seg) + 1);
		n += strlen(seg);
	}
	out[n] = '\0';
	if (n == 0)
		strcpy(out, absolute ? "/" : trailing ? "./" : ".");
	else {
		if (absolute) {
			memmove(out + 1, out, n + 1);
			out[0] = '/';
			n++;
		}
		if (trailing)
			strcpy(out + n, "/");
	}
	free(joined);
	free(dir);
	return out;
}

/* f's sourceInformation: "file-path", "oci" or "direct-tarball", as the
 * reference writes each. New object. */
static cJSON *
feature_config_source(const struct feature *f, const char *config_file)
{
	cJSON *o = cJSON_CreateObject(), *manifest;
	char *without;
	size_t cut;

	if (f->ref == NULL) {
		cJSON_AddStringToObject(o, "type", "file-path");
		without = feature_config_local_path(config_file, f->id);
		cJSON_AddStringToObject(o, "resolvedFilePath", without);
		free(without);
		cJSON_AddStringToObject(o, "userFeatureId", f->id);
	} else if (f->ref->kind == FEATURE_REF_TARBALL) {
		cJSON_AddStringToObject(o, "type", "direct-tarball");
		cJSON_AddStringToObject(o, "tarballUri", f->ref->url);
		cJSON_AddStringToObject(o, "userFeatureId", f->id);
	} else {
		cJSON_AddStringToObject(o, "type", "oci");
		if (f->manifest != NULL && (manifest = cJSON_Parse(f->manifest)) != NULL)
			cJSON_AddItemToObject(o, "manifest", manifest);
		if (f->integrity != NULL)
			cJSON_AddStringToObject(o, "manifestDigest", f->integrity);
		cJSON_AddItemToObject(o, "featureRef", feature_config_ref(f->ref));
		cJSON_AddStringToObject(o, "userFeatureId", f->id);
		/* the id less the reference's /[:@][^/]*$/ */
		cut = strlen(f->id);
		for (size_t i = cut; i > 0 && f->id[i - 1] != '/'; i--)
			if (f->id[i - 1] == ':' || f->id[i - 1] == '@')
				cut = i - 1;
		without = xstrndup(f->id, cut);
		cJSON_AddStringToObject(o, "userFeatureIdWithoutVersion", without);
		free(without);
	}
	return o;
}

/* The Feature's own id as the reference names it in its set: the OCI or
 * tarball id's last part, a local folder's name. New string. */
static char *
feature_config_id(const struct feature *f)
{
	const char *slash;
	size_t n;

	if (f->ref != NULL)
		return xstrdup(f->ref->name);
	n = strlen(f->id);
	while (n > 1 && f->id[n - 1] == '/')
		n--;
	for (slash = f->id + n; slash > f->id && slash[-1] != '/'; slash--)
		;
	return xstrndup(slash, (size_t)(f->id + n - slash));
}

/* f, the k-th to install, as the reference lists it in its set: what it
 * starts from (id, a local one's name: its id as written, value,
 * included), the keys of its devcontainer-feature.json over those, then
 * consecutiveId (numbered in install order, as the reference fetches them).
 * Its cachePath (the reference's own copy) rdev has not. New object. */
static cJSON *
feature_config_feature(const struct feature *f, size_t k)
{
	cJSON *o = cJSON_CreateObject(), *e;
	char *id = feature_config_id(f), *consecutive;

	cJSON_AddStringToObject(o, "id", id);
	if (f->ref == NULL)
		cJSON_AddStringToObject(o, "name", f->id);
	cJSON_AddItemToObject(o, "value", cJSON_Duplicate(f->given, 1));
	cJSON_AddTrueToObject(o, "included");
	cJSON_ArrayForEach(e, feature_json_root(f->json)) {
		cJSON_DeleteItemFromObjectCaseSensitive(o, e->string);
		cJSON_AddItemToObject(o, e->string, cJSON_Duplicate(e, 1));
	}
	consecutive = xasprintf("%s_%zu", id, k);
	cJSON_DeleteItemFromObjectCaseSensitive(o, "consecutiveId");
	cJSON_AddStringToObject(o, "consecutiveId", consecutive);
	free(consecutive);
	free(id);
	return o;
}

cJSON *
feature_config_json(const struct feature_set *fs, const char *config_file)
{
	cJSON *out, *sets, *set, *list, *feature;
	const struct feature *f;
	size_t k;

	if (fs == NULL || fs->n == 0)
		return NULL;
	out = cJSON_CreateObject();
	sets = cJSON_AddArrayToObject(out, "featureSets");
	for (k = 0; k < fs->n; k++) {
		f = &fs->v[fs->order[k]];
		set = cJSON_CreateObject();
		cJSON_AddItemToObject(
		    set, "sourceInformation", feature_config_source(f, config_file));
		feature = feature_config_feature(f, k);
		list = cJSON_AddArrayToObject(set, "features");
		cJSON_AddItemToArray(list, feature);
		cJSON_AddStringToObject(set, "internalVersion", "2");
		if (f->ref != NULL && f->integrity != NULL)
			cJSON_AddStringToObject(set, "computedDigest", f->integrity);
		cJSON_AddItemToArray(sets, set);
	}
	return out;
}
