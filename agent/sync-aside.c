/* sync-aside.c - host entries the local side of a two-way sync leaves out
 * (sync-aside.h). */
#include "sync-aside.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "atomic-file.h"
#include "error.h"
#include "log.h"
#include "sync-index.h"
#include "xmalloc.h"

int
sync_entry_differ(const struct sync_entry *a, const struct sync_entry *b)
{
	if (a->type != b->type)
		return 1;
	if (a->type == 'l')
		return strcmp(a->link, b->link) != 0;
	if (a->type == 'd')
		return 0;
	return strcmp(a->hash, b->hash) != 0 || a->mode != b->mode;
}

int
sync_entry_same(const struct sync_entry *a, const struct sync_entry *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return !sync_entry_differ(a, b);
}

struct sync_scan *
sync_manifest_read(const char *path, size_t max, char **tag, char **cause)
{
	struct sync_scan *s = NULL;
	const cJSON *m, *t;
	char *text = NULL;
	cJSON *j;
	size_t len;

	if (tag != NULL)
		*tag = NULL;
	if (file_read_all(path, max, &text, &len, cause) != 0) {
		if (access(path, F_OK) != 0 && errno == ENOENT) {
			free(*cause); /* (none) */
			*cause = NULL;
		}
		return NULL;
	}
	j = cJSON_ParseWithLength(text, len);
	free(text);
	m = cJSON_IsObject(j) ? cJSON_GetObjectItemCaseSensitive(j, "files") : j;
	t = cJSON_IsObject(j) ? cJSON_GetObjectItemCaseSensitive(j, "tag") : NULL;
	if (sync_scan_from_manifest(m, &s, cause) != 0)
		error_prefix(cause, "%s", path);
	else if (tag != NULL && cJSON_IsString(t))
		*tag = xstrdup(t->valuestring);
	cJSON_Delete(j);
	return s;
}

int
sync_manifest_write(
    const char *path, const struct sync_scan *s, const char *tag, char **cause)
{
	char *text;
	cJSON *m;
	int rc;

	if ((s == NULL || s->n == 0) && tag == NULL) {
		if (unlink(path) != 0 && errno != ENOENT)
			return error_set_errno(cause, errno, "%s", path);
		return 0;
	}
	m = s != NULL ? sync_scan_manifest(s, 1) : cJSON_CreateArray();
	if (tag != NULL) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "tag", tag);
		cJSON_AddItemToObject(o, "files", m);
		m = o;
	}
	text = cJSON_PrintUnformatted(m);
	cJSON_Delete(m);
	rc = atomic_file_write(path, text, strlen(text), 0600, cause);
	free(text);
	return rc;
}

struct sync_scan *
sync_aside_load(const char *index_path, char **tag)
{
	char *path = xasprintf("%s.aside", index_path), *cause = NULL;
	/* (as big as the index may be: past a cap, all would come again) */
	struct sync_scan *aside = sync_manifest_read(path, SYNC_INDEX_MAX, tag, &cause);

	if (cause != NULL)
		log_warn("sync-pull: %s (what was kept aside is reported again)", cause);
	free(cause);
	free(path);
	if (aside == NULL) {
		aside = xcalloc(1, sizeof *aside);
		aside->v = xcalloc(1, sizeof *aside->v);
	}
	return aside;
}

int
sync_aside_prune(struct sync_scan *aside, const struct sync_scan *now)
{
	size_t i, n = 0;

	for (i = 0; i < aside->n; i++) {
		struct sync_entry *e = &aside->v[i];

		if (sync_entry_same(e, sync_scan_find(now, e->path))) {
			aside->v[n++] = *e;
			continue;
		}
		sync_entry_clear(e);
	}
	if (n == aside->n)
		return 0;
	aside->n = n;
	return 1;
}

int
sync_aside_save(
    const char *index_path, const struct sync_scan *aside, const char *tag, char **cause)
{
	char *path = xasprintf("%s.aside", index_path);
	int rc = sync_manifest_write(path, aside, tag, cause);

	free(path);
	return rc;
}
