/* jsonc-doc.c - a parsed JSONC document: its tree, its name, and where each
 * node started.
 *
 * Positions live in an open-addressing hash table keyed by node pointer (see
 * jsonc_doc_locate()), built once at the end of a parse from the positions
 * the parser gathered.
 */
#include "jsonc-internal.h"

#include <stdint.h>
#include <stdlib.h>

#include "xmalloc.h"

/* Position table. */

static size_t
jsonc_pos_home(const struct jsonc_doc *doc, const cJSON *node)
{
	uint64_t h = (uint64_t)(uintptr_t)node;

	/* malloc'd addresses share their low bits: mix well (murmur3 fmix64). */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return (size_t)h & doc->pos_mask;
}

/* Index of node's slot, or of the empty slot where it would go. */
static size_t
jsonc_pos_slot(const struct jsonc_doc *doc, const cJSON *node)
{
	size_t i = jsonc_pos_home(doc, node);

	while (doc->pos[i].node != NULL && doc->pos[i].node != node)
		i = (i + 1) & doc->pos_mask;
	return i;
}

/* Remember where node (and, for a member, its name) started. Appending to
 * an array while parsing and hashing once at the end, into a table of the
 * right size, is much faster for big files than a growing hash table. */
void
jsonc_pos_add(struct parser *p, const cJSON *node, unsigned line, unsigned col,
    unsigned kline, unsigned kcol)
{
	struct jsonc_pos *e;

	if (p->vec_len == p->vec_size) {
		p->vec_size = p->vec_size == 0 ? 256 : p->vec_size * 2;
		p->vec = xreallocarray(p->vec, p->vec_size, sizeof *p->vec);
	}
	e = &p->vec[p->vec_len++];
	e->node = node;
	e->line = line;
	e->col = col;
	e->kline = kline;
	e->kcol = kcol;
}

/* Build the document's table from the positions gathered while parsing. */
void
jsonc_pos_index(struct jsonc_doc *doc, const struct jsonc_pos *vec, size_t n)
{
	size_t size = 16, i;

	/* Keep the load factor under 0.7. */
	while (size / 10 * 7 < n) {
		if (size > SIZE_MAX / 4 / sizeof *vec)
			fatal("jsonc: position table too large");
		size *= 2;
	}
	doc->pos = xcalloc(size, sizeof *doc->pos);
	doc->pos_mask = size - 1;
	/* The table is far bigger than the caches: fetch ahead. */
	for (i = 0; i < n; i++) {
		if (i + 16 < n) {
			__builtin_prefetch(
			    &doc->pos[jsonc_pos_home(doc, vec[i + 16].node)], 1);
		}
		doc->pos[jsonc_pos_slot(doc, vec[i].node)] = vec[i];
	}
}

/* Forget node, shifting later entries of its probe run back (no tombstones). */
static void
jsonc_pos_remove(struct jsonc_doc *doc, const cJSON *node)
{
	size_t i, j, k;

	if (doc->pos == NULL)
		return;
	i = jsonc_pos_slot(doc, node);
	if (doc->pos[i].node == NULL)
		return;
	j = i;
	for (;;) {
		j = (j + 1) & doc->pos_mask;
		if (doc->pos[j].node == NULL)
			break;
		k = jsonc_pos_home(doc, doc->pos[j].node);
		/* The entry at j may move to i unless its home lies in (i, j]. */
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		doc->pos[i] = doc->pos[j];
		i = j;
	}
	doc->pos[i].node = NULL;
}

/* Forget a whole subtree (about to be freed). Depth is bounded by the
 * parser's nesting limit. */
void
jsonc_pos_remove_tree(struct jsonc_doc *doc, const cJSON *node)
{
	const cJSON *c;

	for (c = node->child; c != NULL; c = c->next)
		jsonc_pos_remove_tree(doc, c);
	jsonc_pos_remove(doc, node);
}

void
jsonc_doc_free(struct jsonc_doc *doc)
{
	if (doc == NULL)
		return;
	cJSON_Delete(doc->root);
	free(doc->pos);
	for (size_t i = 0; i < doc->ndups; i++)
		free(doc->dups[i].name);
	free(doc->name);
	free(doc);
}

cJSON *
jsonc_doc_root(const struct jsonc_doc *doc)
{
	return doc->root;
}

const char *
jsonc_doc_name(const struct jsonc_doc *doc)
{
	return doc->name;
}

/* The position entry of node, or NULL. */
static const struct jsonc_pos *
jsonc_doc_find(const struct jsonc_doc *doc, const cJSON *node)
{
	size_t i;

	if (doc == NULL || node == NULL || doc->pos == NULL)
		return NULL;
	i = jsonc_pos_slot(doc, node);
	return doc->pos[i].node == NULL ? NULL : &doc->pos[i];
}

int
jsonc_doc_locate(
    const struct jsonc_doc *doc, const cJSON *node, unsigned *line, unsigned *col)
{
	const struct jsonc_pos *e = jsonc_doc_find(doc, node);

	if (e == NULL)
		return -1;
	*line = e->line;
	*col = e->col;
	return 0;
}

int
jsonc_doc_locate_key(
    const struct jsonc_doc *doc, const cJSON *node, unsigned *line, unsigned *col)
{
	const struct jsonc_pos *e = jsonc_doc_find(doc, node);

	if (e == NULL || e->kline == 0)
		return -1;
	*line = e->kline;
	*col = e->kcol;
	return 0;
}

const struct jsonc_duplicate *
jsonc_doc_duplicates(const struct jsonc_doc *doc, size_t *n)
{
	*n = doc->ndups;
	return doc->dups;
}
