/* sync-ignore.c - .rdevignore patterns (sync-ignore.h). */
#include "sync-ignore.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "xmalloc.h"

struct sync_ignore_pat {
	char *glob; /* without '!', leading '/', trailing '/' */
	int negate;
	int dir_only;
	int anchored; /* matched against the whole path, else the last name */
	char *base;   /* the folder of the file it came from ("" at the top) */
};

struct sync_ignore {
	struct sync_ignore_pat *pats;
	size_t n;
};

struct sync_ignore *
sync_ignore_new(void)
{
	return xcalloc(1, sizeof(struct sync_ignore));
}

void
sync_ignore_free(struct sync_ignore *ig)
{
	if (ig == NULL)
		return;
	for (size_t i = 0; i < ig->n; i++) {
		free(ig->pats[i].glob);
		free(ig->pats[i].base);
	}
	free(ig->pats);
	free(ig);
}

/* One line (len bytes, no newline) of base's file into ig. */
static void
sync_ignore_line(struct sync_ignore *ig, const char *base, const char *s, size_t len)
{
	struct sync_ignore_pat p = { 0 };

	if (len > 0 && s[len - 1] == '\r')
		len--;
	/* Trailing spaces go, unless the last one is escaped. */
	while (len > 0 && s[len - 1] == ' ' && !(len > 1 && s[len - 2] == '\\'))
		len--;
	if (len == 0 || s[0] == '#')
		return;
	if (s[0] == '!') {
		p.negate = 1;
		s++;
		len--;
	}
	if (len > 0 && s[len - 1] == '/') {
		p.dir_only = 1;
		len--;
	}
	if (len == 0)
		return;
	if (memchr(s, '/', len) != NULL)
		p.anchored = 1;
	if (s[0] == '/') {
		s++;
		len--;
	}
	if (len == 0)
		return;
	p.glob = xstrndup(s, len);
	p.base = xstrdup(base);
	ig->pats = xreallocarray(ig->pats, ig->n + 1, sizeof *ig->pats);
	ig->pats[ig->n++] = p;
}

void
sync_ignore_add(struct sync_ignore *ig, const char *text, size_t len)
{
	sync_ignore_add_under(ig, "", text, len);
}

void
sync_ignore_add_under(
    struct sync_ignore *ig, const char *base, const char *text, size_t len)
{
	const char *end = text + len, *nl;

	while (text < end) {
		nl = memchr(text, '\n', (size_t)(end - text));
		if (nl == NULL)
			nl = end;
		sync_ignore_line(ig, base, text, (size_t)(nl - text));
		text = nl + 1;
	}
}

/* Match a "[...]" class at *pp against c; advances *pp past it. -1 if the
 * class is not closed (then '[' is a literal). */
static int
sync_ignore_class(const char **pp, char c)
{
	const char *p = *pp + 1;
	int neg = 0, hit = 0;

	if (*p == '!' || *p == '^') {
		neg = 1;
		p++;
	}
	if (*p == ']') {
		hit |= c == ']';
		p++;
	}
	while (*p != '\0' && *p != ']') {
		char lo = *p, hi;

		if (lo == '\\' && p[1] != '\0')
			lo = *++p;
		hi = lo;
		if (p[1] == '-' && p[2] != '\0' && p[2] != ']') {
			hi = p[2];
			p += 2;
		}
		if (c >= lo && c <= hi)
			hit = 1;
		p++;
	}
	if (*p != ']')
		return -1;
	*pp = p + 1;
	return (hit ^ neg) && c != '/';
}

int
sync_ignore_glob(const char *p, const char *s)
{
	while (*p != '\0') {
		if (p[0] == '*' && p[1] == '*' && (p[2] == '/' || p[2] == '\0')) {
			if (p[2] == '\0')
				return 1;
			/* "**" + "/": zero or more whole components */
			if (sync_ignore_glob(p + 3, s))
				return 1;
			for (const char *t = s; *t != '\0'; t++)
				if (*t == '/' && sync_ignore_glob(p + 3, t + 1))
					return 1;
			return 0;
		}
		switch (*p) {
		case '*':
			while (*p == '*')
				p++;
			for (const char *t = s;; t++) {
				if (sync_ignore_glob(p, t))
					return 1;
				if (*t == '\0' || *t == '/')
					return 0;
			}
		case '?':
			if (*s == '\0' || *s == '/')
				return 0;
			p++;
			s++;
			break;
		case '[': {
			const char *q = p;
			int r;

			if (*s == '\0')
				return 0;
			r = sync_ignore_class(&q, *s);
			if (r < 0) {
				if (*s != '[')
					return 0;
				p++;
				s++;
				break;
			}
			if (!r)
				return 0;
			p = q;
			s++;
			break;
		}
		case '\\':
			if (p[1] != '\0')
				p++;
			/* FALLTHROUGH */
		default:
			if (*p != *s)
				return 0;
			p++;
			s++;
		}
	}
	return *s == '\0';
}

int
sync_ignore_decide(const struct sync_ignore *ig, const char *path, int is_dir)
{
	const char *name = strrchr(path, '/'), *rel;
	size_t blen;
	int decided = -1;

	name = name == NULL ? path : name + 1;
	for (size_t i = 0; i < ig->n; i++) {
		const struct sync_ignore_pat *p = &ig->pats[i];

		if (p->dir_only && !is_dir)
			continue;
		/* A nested file's patterns see only the paths under its folder,
		 * relative to it. */
		rel = path;
		if ((blen = strlen(p->base)) > 0) {
			if (strncmp(path, p->base, blen) != 0 || path[blen] != '/')
				continue;
			rel = path + blen + 1;
		}
		if (sync_ignore_glob(p->glob, p->anchored ? rel : name))
			decided = !p->negate;
	}
	return decided;
}

int
sync_ignore_match(const struct sync_ignore *ig, const char *path, int is_dir)
{
	return sync_ignore_decide(ig, path, is_dir) == 1;
}

void
sync_ignore_append(struct sync_ignore *ig, struct sync_ignore *more)
{
	if (more->n > 0) {
		ig->pats = xreallocarray(ig->pats, ig->n + more->n, sizeof *ig->pats);
		memcpy(ig->pats + ig->n, more->pats, more->n * sizeof *more->pats);
		ig->n += more->n;
	}
	free(more->pats);
	free(more);
}

/* The order of a tag's patterns: by folder, then as read (a folder's own
 * order is its weight; the folders' order is the walk's). */
static int
sync_ignore_tag_cmp(const void *a, const void *b)
{
	const struct sync_ignore_pat *const *pa = a, *const *pb = b;
	int c = strcmp((*pa)->base, (*pb)->base);

	return c != 0 ? c : (*pa > *pb) - (*pa < *pb);
}

void
sync_ignore_tag(const struct sync_ignore *ig, char *hex)
{
	size_t n = ig != NULL ? ig->n : 0;
	const struct sync_ignore_pat **v = xcalloc(n + 1, sizeof *v);
	unsigned char h[SYNC_IGNORE_TAG_HEX / 2];
	crypto_generichash_state st;

	for (size_t i = 0; i < n; i++)
		v[i] = &ig->pats[i];
	qsort(v, n, sizeof *v, sync_ignore_tag_cmp);
	crypto_generichash_init(&st, NULL, 0, sizeof h);
	for (size_t i = 0; i < n; i++) {
		const unsigned char flags[3] = { (unsigned char)v[i]->negate,
			(unsigned char)v[i]->dir_only, (unsigned char)v[i]->anchored };

		/* (each string with its NUL: no two lists hash alike) */
		crypto_generichash_update(
		    &st, (const unsigned char *)v[i]->base, strlen(v[i]->base) + 1);
		crypto_generichash_update(
		    &st, (const unsigned char *)v[i]->glob, strlen(v[i]->glob) + 1);
		crypto_generichash_update(&st, flags, sizeof flags);
	}
	crypto_generichash_final(&st, h, sizeof h);
	sodium_bin2hex(hex, SYNC_IGNORE_TAG_HEX + 1, h, sizeof h);
	free(v);
}
