/* sync-delta.c - one batch of a live sync (sync-delta.h). */
#include "sync-delta.h"

#include <stdlib.h>
#include <string.h>

#include "path.h"
#include "xmalloc.h"

int
sync_delta_under(const char *path, char *const *roots, size_t n)
{
	const char *slash = path;
	char *prefix;
	int hit;

	if (n > 0 && *roots[0] == '\0')
		return 1; /* ("" sorts first) */
	for (;;) {
		slash = strchr(slash, '/');
		prefix =
		    slash == NULL ? (char *)path : xstrndup(path, (size_t)(slash - path));
		hit = n > 0 &&
		    bsearch(&prefix, roots, n, sizeof *roots, sync_path_cmp) != NULL;
		if (slash != NULL)
			free(prefix);
		if (hit || slash == NULL)
			return hit;
		slash++;
	}
}

/* Does the host need e again, having been sent old? */
static int
sync_delta_differs(const struct sync_entry *old, const struct sync_entry *e)
{
	if (old->type != e->type || old->mode != e->mode)
		return 1;
	if (e->type == 'f')
		return strcmp(old->hash, e->hash) != 0;
	if (e->type == 'l')
		return strcmp(old->link, e->link) != 0;
	return 0;
}

/* Sort fresh and drop entries listed twice (overlapping roots). */
static void
sync_delta_dedup(struct sync_scan *fresh)
{
	size_t i, n = 0;

	if (fresh->n > 0)
		qsort(fresh->v, fresh->n, sizeof *fresh->v, sync_entry_cmp);
	for (i = 0; i < fresh->n; i++) {
		if (n > 0 && strcmp(fresh->v[n - 1].path, fresh->v[i].path) == 0) {
			sync_entry_clear(&fresh->v[i]);
			continue;
		}
		fresh->v[n++] = fresh->v[i];
	}
	fresh->n = n;
}

static void
sync_delta_add_change(
    struct sync_delta *d, enum sync_change_kind kind, const struct sync_entry *e)
{
	struct sync_change *c;

	d->v = xreallocarray(d->v, d->n + 1, sizeof *d->v);
	c = &d->v[d->n++];
	c->kind = kind;
	c->type = e->type;
	c->path = xstrdup(e->path);
	c->from = NULL;
}

/* The change of kind at path, or NULL. */
static struct sync_change *
sync_delta_find_change(struct sync_delta *d, enum sync_change_kind kind, const char *path)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].kind == kind && strcmp(d->v[i].path, path) == 0)
			return &d->v[i];
	return NULL;
}

/* Fold a deletion of m->from and a creation of m->to into one rename (and,
 * for a folder, the changes under both into it). */
static void
sync_delta_fold_move(struct sync_delta *d, const struct sync_move *m)
{
	struct sync_change *del = sync_delta_find_change(d, SYNC_CHANGE_DELETED, m->from);
	struct sync_change *cre = sync_delta_find_change(d, SYNC_CHANGE_CREATED, m->to);
	size_t i, n = 0;

	if (del == NULL || cre == NULL || del->type != cre->type)
		return;
	cre->kind = SYNC_CHANGE_RENAMED;
	cre->from = xstrdup(m->from);
	for (i = 0; i < d->n; i++) {
		struct sync_change *c = &d->v[i];
		int folded = c != cre &&
		    ((c->kind == SYNC_CHANGE_DELETED && path_within(c->path, m->from)) ||
			(c->kind == SYNC_CHANGE_CREATED && path_within(c->path, m->to)));

		if (folded) {
			free(c->path);
			free(c->from);
			continue;
		}
		d->v[n++] = *c;
	}
	d->n = n;
}

static int
sync_delta_change_cmp(const void *a, const void *b)
{
	return strcmp(
	    ((const struct sync_change *)a)->path, ((const struct sync_change *)b)->path);
}

struct sync_delta *
sync_delta_new(struct sync_scan **state, char *const *roots, size_t n,
    struct sync_scan *fresh, const struct sync_move *moves, size_t nm)
{
	struct sync_delta *d = xcalloc(1, sizeof *d);
	struct sync_scan *old = *state, *next = xcalloc(1, sizeof *next);
	char **r = xcalloc(n + 1, sizeof *r);
	const struct sync_entry *o;
	size_t i, j, k, nchanged = 0;

	if (n > 0) {
		memcpy(r, roots, n * sizeof *r);
		qsort(r, n, sizeof *r, sync_path_cmp);
	}
	sync_delta_dedup(fresh);
	d->changed = xcalloc(1, sizeof *d->changed);
	d->changed->v = xcalloc(fresh->n + 1, sizeof *d->changed->v);
	d->del = xcalloc(old->n + 1, sizeof *d->del);

	for (i = 0; i < fresh->n; i++) {
		const struct sync_entry *e = &fresh->v[i];

		o = sync_scan_find(old, e->path);
		if (o != NULL && !sync_delta_differs(o, e))
			continue;
		sync_delta_add_change(
		    d, o == NULL ? SYNC_CHANGE_CREATED : SYNC_CHANGE_MODIFIED, e);
		sync_entry_copy(&d->changed->v[nchanged++], e);
		if (e->type == 'f')
			d->changed->bytes += e->size;
	}
	d->changed->n = nchanged;

	/* The next state: old's entries outside the roots, and fresh's. */
	next->v = xcalloc(old->n + fresh->n + 1, sizeof *next->v);
	for (i = j = k = 0; i < old->n || j < fresh->n;) {
		struct sync_entry *a = i < old->n ? &old->v[i] : NULL;

		if (a != NULL && sync_delta_under(a->path, r, n)) {
			if (sync_scan_find(fresh, a->path) == NULL) {
				sync_delta_add_change(d, SYNC_CHANGE_DELETED, a);
				d->del[d->ndel++] = xstrdup(a->path);
			}
			sync_entry_clear(a);
			i++;
			continue;
		}
		if (a != NULL &&
		    (j == fresh->n || strcmp(a->path, fresh->v[j].path) < 0)) {
			next->v[k++] = *a;
			i++;
		} else
			next->v[k++] = fresh->v[j++];
	}
	next->n = k;
	for (i = 0; i < next->n; i++)
		if (next->v[i].type == 'f')
			next->bytes += next->v[i].size;
	sync_scan_bad_clear(old);
	sync_scan_bad_clear(fresh);
	free(old->v);
	free(old);
	free(fresh->v);
	free(fresh);
	free(r);
	*state = next;

	for (i = 0; i < nm; i++)
		sync_delta_fold_move(d, &moves[i]);
	if (d->n > 0)
		qsort(d->v, d->n, sizeof *d->v, sync_delta_change_cmp);
	return d;
}

/* Is path one of d's deletions? */
static int
sync_delta_deletes(const struct sync_delta *d, const char *path)
{
	return d->ndel > 0 &&
	    bsearch(&path, d->del, d->ndel, sizeof *d->del, sync_path_cmp) != NULL;
}

size_t
sync_delta_resend(
    struct sync_delta *d, const struct sync_scan *state, char *const *paths, size_t n)
{
	struct sync_scan *c = d->changed;
	const struct sync_entry *e;
	size_t added = 0, ndel = d->ndel;

	if (n == 0)
		return 0;
	c->v = xreallocarray(c->v, c->n + n + 1, sizeof *c->v);
	d->del = xreallocarray(d->del, d->ndel + n + 1, sizeof *d->del);
	for (size_t i = 0; i < n; i++) {
		if ((e = sync_scan_find(state, paths[i])) == NULL) {
			/* (gone here: its deletion, again if it went before) */
			if (!sync_delta_deletes(d, paths[i]))
				d->del[ndel++] = xstrdup(paths[i]);
			continue;
		}
		if (sync_scan_find(c, paths[i]) != NULL)
			continue;
		sync_entry_copy(&c->v[c->n + added], e);
		if (e->type == 'f')
			c->bytes += e->size;
		added++;
	}
	c->n += added;
	if (added > 0)
		qsort(c->v, c->n, sizeof *c->v, sync_entry_cmp);
	if (ndel > d->ndel) {
		d->ndel = ndel;
		qsort(d->del, d->ndel, sizeof *d->del, sync_path_cmp);
	}
	d->del[d->ndel] = NULL;
	return added;
}

char **
sync_delta_retry_keep(const struct sync_delta *d, char *const *old, size_t nold,
    char **failed, size_t nf, size_t *n)
{
	char **v = xcalloc(nold + nf + 1, sizeof *v);
	size_t i = 0, k = 0;

	for (size_t o = 0; o < nold; o++) {
		if (sync_scan_find(d->changed, old[o]) != NULL ||
		    sync_delta_deletes(d, old[o]))
			continue; /* (carried: its outcome is in failed) */
		while (i < nf && strcmp(failed[i], old[o]) < 0)
			v[k++] = failed[i++];
		if (i < nf && strcmp(failed[i], old[o]) == 0)
			continue; /* (once) */
		v[k++] = xstrdup(old[o]);
	}
	while (i < nf)
		v[k++] = failed[i++];
	free(failed);
	*n = k;
	return v;
}

void
sync_delta_free(struct sync_delta *d)
{
	if (d == NULL)
		return;
	sync_scan_free(d->changed);
	sync_paths_free(d->del, d->ndel);
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].path);
		free(d->v[i].from);
	}
	free(d->v);
	free(d);
}

const char *
sync_change_kind_name(enum sync_change_kind k)
{
	switch (k) {
	case SYNC_CHANGE_CREATED: return "created";
	case SYNC_CHANGE_MODIFIED: return "modified";
	case SYNC_CHANGE_DELETED: return "deleted";
	case SYNC_CHANGE_RENAMED: return "renamed";
	}
	return "changed";
}
