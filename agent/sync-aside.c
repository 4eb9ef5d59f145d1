/* sync-aside.c - host entries the local side of a two-way sync leaves out
 * (sync-aside.h). */
#include "sync-aside.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "atomic-file.h"
#include "log.h"
#include "proto.h"
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
sync_manifest_read(const char *path, size_t max)
{
	char *text = NULL, *cause = NULL;
	struct sync_scan *s = NULL;
	cJSON *j = NULL;
	size_t len;

	if (file_read_all(path, max, &text, &len, &cause) == 0) {
		j = cJSON_Parse(text);
		free(text);
		if (j != NULL && sync_scan_from_manifest(j, &s, &cause) != 0) {
			sync_scan_free(s); /* (damaged: none) */
			s = NULL;
		}
		cJSON_Delete(j);
	}
	free(cause);
	return s;
}

void
sync_manifest_write(const char *path, const struct sync_scan *s)
{
	char *text, *cause = NULL;
	cJSON *m;

	if (s == NULL || s->n == 0) {
		unlink(path);
		return;
	}
	m = sync_scan_manifest(s, 1);
	text = cJSON_PrintUnformatted(m);
	cJSON_Delete(m);
	if (atomic_file_write(path, text, strlen(text), 0600, &cause) != 0)
		log_warn("sync-pull: %s", cause); /* (hashed, or reported, again) */
	free(cause);
	free(text);
}

struct sync_scan *
sync_aside_load(const char *index_path)
{
	char *path = xasprintf("%s.aside", index_path);
	struct sync_scan *aside = sync_manifest_read(path, (size_t)PROTO_MAX_PAYLOAD * 4);

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
		free(e->path);
		free(e->link);
	}
	if (n == aside->n)
		return 0;
	aside->n = n;
	return 1;
}

void
sync_aside_save(const char *index_path, const struct sync_scan *aside)
{
	char *path = xasprintf("%s.aside", index_path);

	sync_manifest_write(path, aside);
	free(path);
}
