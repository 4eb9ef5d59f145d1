/* sync-cover.c - a bounded cover of many paths by folders (sync-cover.h). */
#include "sync-cover.h"

#include <stdlib.h>
#include <string.h>

#include "sync-scan.h"
#include "xmalloc.h"

/* Order paths as a tree walk does: a folder, then what is under it, then
 * its next sibling ('/' below every other byte), so that a folder and all
 * under it are one run ("a", "a/x", "a-b"; strcmp puts "a-b" between). */
static int
sync_cover_tree_cmp(const void *pa, const void *pb)
{
	const unsigned char *a = *(const unsigned char *const *)pa;
	const unsigned char *b = *(const unsigned char *const *)pb;
	int ka, kb;

	for (;; a++, b++) {
		ka = *a == '/' ? 1 : *a == '\0' ? 0 : *a + 1;
		kb = *b == '/' ? 1 : *b == '\0' ? 0 : *b + 1;
		if (ka != kb || ka == 0)
			return ka - kb;
	}
}

/* The length of the deepest folder holding both a and b, or a or b when
 * one holds the other (0: only the root does). */
static size_t
sync_cover_common(const char *a, const char *b)
{
	size_t last = 0;

	for (size_t i = 0;; i++) {
		int enda = a[i] == '\0' || a[i] == '/';
		int endb = b[i] == '\0' || b[i] == '/';

		if (enda && endb) {
			last = i;
			if (a[i] == '\0' || b[i] == '\0')
				return last;
		} else if (a[i] != b[i])
			return last;
	}
}

/* How many components the first len bytes of p are (0: the root). */
static size_t
sync_cover_depth(const char *p, size_t len)
{
	size_t d = len > 0;

	for (size_t i = 0; i < len; i++)
		d += p[i] == '/';
	return d;
}

/* Is p c, or under it? */
static int
sync_cover_under(const char *p, const char *c)
{
	size_t len = strlen(c);

	return strncmp(p, c, len) == 0 && (p[len] == '\0' || p[len] == '/');
}

/* One lift of v (*m elements, tree order, none under another): every run
 * of two or more under one folder at the deepest depth any run has becomes
 * that folder. 0, or -1 when only the root holds two (nothing changed). */
static int
sync_cover_lift(char **v, size_t *m)
{
	size_t deepest = 0, d, i, j, k = 0, len;

	for (i = 0; i + 1 < *m; i++) {
		d = sync_cover_depth(v[i], sync_cover_common(v[i], v[i + 1]));
		if (d > deepest)
			deepest = d;
	}
	if (deepest == 0)
		return -1;
	for (i = 0; i < *m; i = j + 1) {
		j = i;
		while (j + 1 < *m &&
		    sync_cover_depth(v[j], sync_cover_common(v[j], v[j + 1])) == deepest)
			j++;
		if (j > i) {
			len = sync_cover_common(v[i], v[i + 1]);
			v[i][len] = '\0'; /* (the folder: a prefix of v[i]) */
			for (size_t x = i + 1; x <= j; x++)
				free(v[x]);
		}
		v[k++] = v[i];
	}
	*m = k;
	return 0;
}

/* The bytes v's m elements take (each with a separator). */
static size_t
sync_cover_bytes(char *const *v, size_t m)
{
	size_t b = 0;

	for (size_t i = 0; i < m; i++)
		b += strlen(v[i]) + 1;
	return b;
}

int
sync_cover(
    char *const *paths, size_t n, size_t max, size_t max_bytes, char ***out, size_t *nout)
{
	char **v;
	size_t m = 0;

	*out = NULL;
	*nout = 0;
	if (n == 0 || max == 0)
		return -1;
	v = xcalloc(n + 1, sizeof *v);
	for (size_t i = 0; i < n; i++)
		v[i] = xstrdup(paths[i]);
	qsort(v, n, sizeof *v, sync_cover_tree_cmp);
	/* (exact first: drop what an earlier one covers, duplicates too) */
	for (size_t i = 0; i < n; i++) {
		if (m > 0 && sync_cover_under(v[i], v[m - 1]))
			free(v[i]);
		else
			v[m++] = v[i];
	}
	while (m > max || sync_cover_bytes(v, m) > max_bytes) {
		if (sync_cover_lift(v, &m) != 0) {
			sync_paths_free(v, m);
			return -1;
		}
	}
	v[m] = NULL;
	qsort(v, m, sizeof *v, sync_path_cmp);
	*out = v;
	*nout = m;
	return 0;
}

int
sync_cover_has(char *const *cover, size_t n, const char *path)
{
	char *p = xstrdup(path), *slash;
	const char *key = p;
	int found = 0;

	/* (path itself, then each folder above it) */
	for (;;) {
		if (n > 0 &&
		    bsearch(&key, cover, n, sizeof *cover, sync_path_cmp) != NULL) {
			found = 1;
			break;
		}
		if ((slash = strrchr(p, '/')) == NULL)
			break;
		*slash = '\0';
	}
	free(p);
	return found;
}
