/* pool-file.c - the host pools' files (pool-file.h). */
#include "pool-file.h"

#include <sys/stat.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic-file.h"
#include "error.h"
#include "jsonc.h"
#include "xmalloc.h"

#define POOL_FILE_MAX_BYTES (4 * 1024 * 1024)

char *
pool_file_path(char **cause)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");

	if (xdg != NULL && *xdg == '/')
		return xasprintf("%s/rdev/hosts.json", xdg);
	if (home == NULL || *home == '\0') {
		error_set(
		    cause, "cannot find the pool file: set HOME or XDG_CONFIG_HOME");
		return NULL;
	}
	return xasprintf("%s/.config/rdev/hosts.json", home);
}

int
pool_name_valid(const char *text)
{
	if (*text == '\0')
		return 0;
	for (; *text != '\0'; text++) {
		if (!((*text >= 'a' && *text <= 'z') || (*text >= 'A' && *text <= 'Z') ||
			(*text >= '0' && *text <= '9') || strchr("._-", *text) != NULL))
			return 0;
	}
	return 1;
}

const char *
pool_entry_name(const cJSON *e)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "name"));
}

const char *
pool_entry_pool(const cJSON *e)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "pool"));
}

/* One entry of a file, checked, as a new object (with "source"); NULL with
 * *cause. */
static cJSON *
pool_file_entry(const cJSON *e, const char *path, const char *source, char **cause)
{
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(e, "name");
	const cJSON *pool = cJSON_GetObjectItemCaseSensitive(e, "pool");
	const cJSON *labels = cJSON_GetObjectItemCaseSensitive(e, "labels"), *l;
	cJSON *out;

	if (!cJSON_IsObject(e) || !cJSON_IsString(name) || *name->valuestring == '\0') {
		error_set(cause, "%s: each host needs a \"name\" (a string)", path);
		return NULL;
	}
	if (pool != NULL &&
	    (!cJSON_IsString(pool) || !pool_name_valid(pool->valuestring))) {
		error_set(cause, "%s: host %s: bad \"pool\"", path, name->valuestring);
		return NULL;
	}
	if (labels != NULL && !cJSON_IsObject(labels)) {
		error_set(cause, "%s: host %s: \"labels\": expected an object", path,
		    name->valuestring);
		return NULL;
	}
	cJSON_ArrayForEach(l, labels) {
		if (!cJSON_IsString(l)) {
			error_set(cause, "%s: host %s: label \"%s\": expected a string",
			    path, name->valuestring, l->string);
			return NULL;
		}
	}
	out = cJSON_CreateObject();
	cJSON_AddStringToObject(out, "name", name->valuestring);
	cJSON_AddStringToObject(
	    out, "pool", pool != NULL ? pool->valuestring : POOL_DEFAULT);
	cJSON_AddItemToObject(out, "labels",
	    labels != NULL ? cJSON_Duplicate(labels, 1) : cJSON_CreateObject());
	cJSON_AddStringToObject(out, "source", source);
	return out;
}

cJSON *
pool_file_read(const char *path, const char *source, char **cause)
{
	struct jsonc_doc *doc = NULL;
	char *data = NULL;
	const cJSON *hosts, *e;
	cJSON *out = NULL, *entry;
	size_t len;

	if (access(path, F_OK) != 0 && errno == ENOENT)
		return cJSON_CreateArray();
	if (file_read_all(path, POOL_FILE_MAX_BYTES, &data, &len, cause) != 0)
		return NULL;
	if ((doc = jsonc_parse(path, data, len, cause)) == NULL)
		goto out;
	hosts = cJSON_GetObjectItemCaseSensitive(jsonc_doc_root(doc), "hosts");
	if (!cJSON_IsArray(hosts)) {
		error_set(cause, "%s: expected {\"hosts\":[...]}", path);
		goto out;
	}
	out = cJSON_CreateArray();
	cJSON_ArrayForEach(e, hosts) {
		if ((entry = pool_file_entry(e, path, source, cause)) == NULL) {
			cJSON_Delete(out);
			out = NULL;
			goto out;
		}
		if (pool_entry_find(
			out, pool_entry_name(entry), pool_entry_pool(entry)) == NULL)
			cJSON_AddItemToArray(out, entry);
		else
			cJSON_Delete(entry);
	}
out:
	jsonc_doc_free(doc);
	free(data);
	return out;
}

int
pool_file_write(const char *path, const cJSON *entries, char **cause)
{
	cJSON *root = cJSON_CreateObject(), *hosts, *copy;
	const cJSON *e;
	char *dir = xstrdup(path), *slash, *text;
	int rc = -1;

	hosts = cJSON_AddArrayToObject(root, "hosts");
	cJSON_ArrayForEach(e, entries) {
		copy = cJSON_Duplicate(e, 1);
		cJSON_DeleteItemFromObjectCaseSensitive(copy, "source");
		cJSON_AddItemToArray(hosts, copy);
	}
	/* mkdir -p of the file's folder: ~/.config may not exist yet. */
	for (slash = strchr(dir + 1, '/'); slash != NULL;
	     slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
			error_set_errno(cause, errno, "cannot create %s", dir);
			goto out;
		}
		*slash = '/';
	}
	if ((text = cJSON_Print(root)) == NULL)
		fatal("out of memory");
	rc = atomic_file_write(path, text, strlen(text), 0600, cause);
	free(text);
out:
	free(dir);
	cJSON_Delete(root);
	return rc;
}

cJSON *
pool_load(char **cause)
{
	const char *team = getenv(POOL_TEAM_FILE_ENV);
	char *path;
	cJSON *all, *more, *e;

	if ((path = pool_file_path(cause)) == NULL)
		return NULL;
	all = pool_file_read(path, "user", cause);
	free(path);
	if (all == NULL || team == NULL || *team == '\0')
		return all;
	if ((more = pool_file_read(team, "team", cause)) == NULL) {
		cJSON_Delete(all);
		return NULL;
	}
	while ((e = more->child) != NULL) {
		cJSON_DetachItemViaPointer(more, e);
		if (pool_entry_find(all, pool_entry_name(e), pool_entry_pool(e)) == NULL)
			cJSON_AddItemToArray(all, e);
		else
			cJSON_Delete(e);
	}
	cJSON_Delete(more);
	return all;
}

const cJSON *
pool_entry_find(const cJSON *entries, const char *name, const char *pool)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, entries) {
		if (strcmp(pool_entry_name(e), name) == 0 &&
		    strcmp(pool_entry_pool(e), pool) == 0)
			return e;
	}
	return NULL;
}

int
pool_entry_add(cJSON *entries, const char *name, const char *pool, cJSON *labels)
{
	cJSON *e = cJSON_CreateObject(), *was;

	for (was = entries->child; was != NULL; was = was->next)
		if (strcmp(pool_entry_name(was), name) == 0 &&
		    strcmp(pool_entry_pool(was), pool) == 0)
			break;
	/* (added again without --label: the labels it had stay) */
	if (labels == NULL && was != NULL &&
	    cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(was, "labels")))
		labels =
		    cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(was, "labels"), 1);
	cJSON_AddStringToObject(e, "name", name);
	cJSON_AddStringToObject(e, "pool", pool);
	cJSON_AddItemToObject(
	    e, "labels", labels != NULL ? labels : cJSON_CreateObject());
	cJSON_AddStringToObject(e, "source", "user");
	/* Replaced where it was: its place in the pool (placement's last
	 * tie-break) stays. */
	if (was != NULL) {
		cJSON_ReplaceItemViaPointer(entries, was, e);
		return 1;
	}
	cJSON_AddItemToArray(entries, e);
	return 0;
}

int
pool_entry_remove(cJSON *entries, const char *name, const char *pool)
{
	cJSON *e;

	for (e = entries->child; e != NULL; e = e->next) {
		if (strcmp(pool_entry_name(e), name) == 0 &&
		    strcmp(pool_entry_pool(e), pool) == 0) {
			cJSON_Delete(cJSON_DetachItemViaPointer(entries, e));
			return 1;
		}
	}
	return 0;
}

cJSON *
pool_members(const cJSON *entries, const char *pool)
{
	cJSON *out = cJSON_CreateArray();
	const cJSON *e;

	cJSON_ArrayForEach(e, entries) {
		if (pool == NULL || strcmp(pool_entry_pool(e), pool) == 0)
			cJSON_AddItemToArray(out, cJSON_Duplicate(e, 1));
	}
	return out;
}
