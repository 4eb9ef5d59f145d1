/* sync-aside.c - host entries the local side of a two-way sync leaves out
 * (sync-aside.h). */
#include "sync-aside.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "log.h"
#include "sync-index.h"
#include "xmalloc.h"

int
sync_aside_read(const char *index_path, char **tag, struct sync_scan **out, char **cause)
{
	char *path = xasprintf("%s.aside", index_path);
	/* (as big as the index may be: past a cap, all would come again) */
	struct sync_scan *aside =
	    sync_index_manifest_read(path, SYNC_INDEX_MAX, tag, cause);

	free(path);
	*out = NULL;
	if (*cause != NULL)
		return -1;
	if (aside == NULL) {
		aside = xcalloc(1, sizeof *aside);
		aside->v = xcalloc(1, sizeof *aside->v);
	}
	*out = aside;
	return 0;
}

struct sync_scan *
sync_aside_load(const char *index_path, char **tag)
{
	struct sync_scan *aside;
	char *cause = NULL;

	if (sync_aside_read(index_path, tag, &aside, &cause) == 0)
		return aside;
	log_warn("sync: %s (what was kept aside is reported again)", cause);
	free(cause);
	aside = xcalloc(1, sizeof *aside);
	aside->v = xcalloc(1, sizeof *aside->v);
	return aside;
}

int
sync_aside_maybe(const char *index_path)
{
	char *path = xasprintf("%s.aside", index_path);
	int absent = access(path, F_OK) != 0 && errno == ENOENT;

	free(path);
	return !absent;
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
	int rc = sync_index_manifest_write(path, aside, tag, cause);

	free(path);
	return rc;
}
