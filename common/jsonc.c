/* jsonc.c - a recursive-descent JSONC parser building a cJSON tree: values,
 * objects (a duplicate name keeps the last value, at the first one's place),
 * arrays, and jsonc_parse().
 *
 * Recursion is bounded by JSONC_MAX_DEPTH, checked before descending. The
 * tokens come from jsonc-token.c; whitespace, comments, columns and error
 * messages from jsonc-scan.c; the document and its positions are
 * jsonc-doc.c's.
 */
#include "jsonc-internal.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

/* The names of one object being parsed, for finding duplicates; built only
 * once an object has KEYSET_MIN members (smaller ones are scanned). */
#define KEYSET_MIN 16
struct keyset {
	cJSON **slots;
	size_t mask;
	size_t count;
};

static int jsonc_value(struct parser *, unsigned, const struct value_ctx *, cJSON **);

/* Duplicate-name detection. */

static uint64_t
jsonc_key_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ull;
	}
	return h;
}

static size_t
jsonc_keyset_slot(const struct keyset *ks, const char *key)
{
	size_t i = (size_t)jsonc_key_hash(key) & ks->mask;

	while (ks->slots[i] != NULL && strcmp(ks->slots[i]->string, key) != 0)
		i = (i + 1) & ks->mask;
	return i;
}

static void
jsonc_keyset_insert(struct keyset *ks, cJSON *item)
{
	cJSON **old = ks->slots;
	size_t oldsize = old == NULL ? 0 : ks->mask + 1, size, i;

	if (old == NULL || (ks->count + 1) * 2 > oldsize) {
		size = oldsize == 0 ? 4 * KEYSET_MIN : oldsize * 2;
		ks->slots = xcalloc(size, sizeof *ks->slots);
		ks->mask = size - 1;
		for (i = 0; i < oldsize; i++) {
			if (old[i] != NULL)
				ks->slots[jsonc_keyset_slot(ks, old[i]->string)] = old[i];
		}
		free(old);
	}
	ks->slots[jsonc_keyset_slot(ks, item->string)] = item;
	ks->count++;
}

/* Put item where old is in obj's member list; old goes to the graveyard. */
static void
jsonc_replace_member(struct parser *p, cJSON *obj, cJSON *old, cJSON *item)
{
	item->next = old->next;
	item->prev = old->prev;
	if (obj->child == old) {
		obj->child = item;
		if (item->prev == old) /* old was the only member */
			item->prev = item;
	} else
		item->prev->next = item;
	if (item->next != NULL)
		item->next->prev = item;
	else
		obj->child->prev = item; /* the first member's prev is the last */
	old->prev = NULL;
	old->next = p->graveyard;
	p->graveyard = old;
}

/* Free the replaced members, forgetting their positions if indexed. */
static void
jsonc_bury(struct parser *p, struct jsonc_doc *doc)
{
	cJSON *dead;

	while ((dead = p->graveyard) != NULL) {
		p->graveyard = dead->next;
		dead->next = NULL;
		if (doc != NULL)
			jsonc_pos_remove_tree(doc, dead);
		cJSON_Delete(dead);
	}
}

/* List in the document that old's member was dropped for a later one whose
 * name is at kline:kcol (the first JSONC_MAX_DUPLICATES only: the search
 * for old's place is linear). */
static void
jsonc_note_duplicate(struct parser *p, const cJSON *old, unsigned kline, unsigned kcol)
{
	struct jsonc_duplicate *d;
	size_t i;

	if (p->doc->ndups >= JSONC_MAX_DUPLICATES)
		return;
	d = &p->doc->dups[p->doc->ndups++];
	d->name = xstrdup(old->string);
	d->line = d->col = 0;
	for (i = p->vec_len; i > 0; i--) {
		if (p->vec[i - 1].node == old) {
			d->line = p->vec[i - 1].kline;
			d->col = p->vec[i - 1].kcol;
			break;
		}
	}
	d->later_line = kline;
	d->later_col = kcol;
}

/* Append item (whose ->string is set, its name at kline:kcol) to obj, or
 * replace an earlier member of the same name, keeping the first one's
 * place. */
static void
jsonc_object_add(struct parser *p, cJSON *obj, struct keyset *ks, size_t *count,
    cJSON *item, unsigned kline, unsigned kcol)
{
	cJSON *old = NULL, *c;
	size_t slot = 0;

	if (ks->slots != NULL) {
		slot = jsonc_keyset_slot(ks, item->string);
		old = ks->slots[slot];
	} else {
		for (c = obj->child; c != NULL; c = c->next) {
			if (strcmp(c->string, item->string) == 0) {
				old = c;
				break;
			}
		}
	}
	if (old != NULL) {
		jsonc_note_duplicate(p, old, kline, kcol);
		jsonc_replace_member(p, obj, old, item);
		if (ks->slots != NULL)
			ks->slots[slot] = item;
		return;
	}
	if (!cJSON_AddItemToArray(obj, item))
		fatal("jsonc: cannot add member");
	(*count)++;
	if (ks->slots != NULL)
		jsonc_keyset_insert(ks, item);
	else if (*count >= KEYSET_MIN) {
		for (c = obj->child; c != NULL; c = c->next)
			jsonc_keyset_insert(ks, c);
	}
}

/* Containers. */

/* An end of file inside a container. */
static int
jsonc_eof_in(struct parser *p, int object, unsigned oline, unsigned ocol)
{
	return jsonc_error(p,
	    "unexpected end of file, expected '%c' to close "
	    "the %s opened at %u:%u",
	    object ? '}' : ']', object ? "object" : "array", oline, ocol);
}

/* Parse an object at p->pos ('{') holding depth levels including itself. */
static int
jsonc_object(struct parser *p, unsigned depth, cJSON *obj)
{
	unsigned oline = p->line, ocol = jsonc_col(p);
	struct keyset ks = { NULL, 0, 0 };
	struct value_ctx ctx;
	size_t count = 0, klen;
	char *key = NULL;
	cJSON *item;

	p->pos++;
	for (;;) {
		/* A name or '}' (after '{' or ','). */
		if (jsonc_skip(p) != 0)
			goto fail;
		if (p->pos >= p->len) {
			jsonc_eof_in(p, 1, oline, ocol);
			goto fail;
		}
		if (p->s[p->pos] == '}') {
			p->pos++;
			break;
		}
		if (p->s[p->pos] != '"') {
			if (jsonc_bad_byte(p) == 0)
				jsonc_error(
				    p, "expected a property name in double quotes");
			goto fail;
		}
		ctx.kline = p->line;
		ctx.kcol = jsonc_col(p);
		if (jsonc_string(p) != 0)
			goto fail;
		klen = p->scratch_len;
		if ((key = cJSON_malloc(klen + 1)) == NULL)
			fatal("jsonc: out of memory");
		memcpy(key, p->scratch, klen + 1);
		ctx.key = key;

		if (jsonc_skip(p) != 0)
			goto fail;
		if (p->pos >= p->len) {
			jsonc_eof_in(p, 1, oline, ocol);
			goto fail;
		}
		if (p->s[p->pos] != ':') {
			if (jsonc_bad_byte(p) == 0)
				jsonc_error_key(
				    p, "expected ':' after property name", key);
			goto fail;
		}
		p->pos++;
		if (jsonc_skip(p) != 0)
			goto fail;
		if (p->pos >= p->len) {
			jsonc_eof_in(p, 1, oline, ocol);
			goto fail;
		}
		if (jsonc_value(p, depth, &ctx, &item) != 0)
			goto fail;
		item->string = key;
		key = NULL;
		jsonc_object_add(p, obj, &ks, &count, item, ctx.kline, ctx.kcol);

		/* ',' or '}' after a member. */
		if (jsonc_skip(p) != 0)
			goto fail;
		if (p->pos >= p->len) {
			jsonc_eof_in(p, 1, oline, ocol);
			goto fail;
		}
		if (p->s[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (p->s[p->pos] == '}') {
			p->pos++;
			break;
		}
		if (jsonc_bad_byte(p) == 0) {
			jsonc_error_key(
			    p, "expected ',' or '}' after property", item->string);
		}
		goto fail;
	}
	free(ks.slots);
	return 0;

fail:
	cJSON_free(key);
	free(ks.slots);
	return -1;
}

/* Parse an array at p->pos ('[') holding depth levels including itself. */
static int
jsonc_array(struct parser *p, unsigned depth, cJSON *arr)
{
	unsigned oline = p->line, ocol = jsonc_col(p);
	struct value_ctx ctx = { NULL, 0, 0 };
	cJSON *item;

	p->pos++;
	for (;;) {
		/* A value or ']' (after '[' or ','). */
		if (jsonc_skip(p) != 0)
			return -1;
		if (p->pos >= p->len)
			return jsonc_eof_in(p, 0, oline, ocol);
		if (p->s[p->pos] == ']') {
			p->pos++;
			return 0;
		}
		if (jsonc_value(p, depth, &ctx, &item) != 0)
			return -1;
		if (!cJSON_AddItemToArray(arr, item))
			fatal("jsonc: cannot add element");

		/* ',' or ']' after an element. */
		if (jsonc_skip(p) != 0)
			return -1;
		if (p->pos >= p->len)
			return jsonc_eof_in(p, 0, oline, ocol);
		if (p->s[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (p->s[p->pos] == ']') {
			p->pos++;
			return 0;
		}
		if (jsonc_bad_byte(p) == 0)
			jsonc_error(p, "expected ',' or ']' after an array element");
		return -1;
	}
}

/* Parse the value at p->pos (not at end of file) inside depth containers.
 * On success *out is the new node, its position recorded; on failure nothing
 * is left allocated but the position table (freed with the document). */
static int
jsonc_value(struct parser *p, unsigned depth, const struct value_ctx *ctx, cJSON **out)
{
	unsigned line = p->line, col = jsonc_col(p);
	unsigned kline = ctx != NULL ? ctx->kline : 0;
	unsigned kcol = ctx != NULL ? ctx->kcol : 0;
	unsigned char c = p->s[p->pos];
	cJSON *node = NULL;
	int r;

	*out = NULL;
	if (c == '{' || c == '[') {
		if (depth >= JSONC_MAX_DEPTH) {
			return jsonc_error(
			    p, "nesting deeper than %d levels", JSONC_MAX_DEPTH);
		}
		node = c == '{' ? cJSON_CreateObject() : cJSON_CreateArray();
		if (node == NULL)
			fatal("jsonc: out of memory");
		jsonc_pos_add(p, node, line, col, kline, kcol);
		if (c == '{')
			r = jsonc_object(p, depth + 1, node);
		else
			r = jsonc_array(p, depth + 1, node);
		if (r != 0) {
			cJSON_Delete(node);
			return -1;
		}
		*out = node;
		return 0;
	}
	if (c == '"') {
		if (jsonc_string(p) != 0)
			return -1;
		if ((node = cJSON_CreateString(p->scratch)) == NULL)
			fatal("jsonc: out of memory");
	} else if (c == '-' || c == '+' || c == '.' || (c >= '0' && c <= '9')) {
		if (jsonc_number(p, &node) != 0)
			return -1;
	} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	    c == '$') {
		if (jsonc_word(p, ctx, &node) != 0)
			return -1;
	} else
		return jsonc_unexpected(p, ctx);
	jsonc_pos_add(p, node, line, col, kline, kcol);
	*out = node;
	return 0;
}

/* Public interface. */

struct jsonc_doc *
jsonc_parse(const char *name, const char *text, size_t len, char **cause)
{
	struct jsonc_doc *doc;
	struct parser p;

	doc = xcalloc(1, sizeof *doc);
	doc->name = xstrdup(name != NULL ? name : "<input>");

	memset(&p, 0, sizeof p);
	p.s = (const unsigned char *)(text != NULL ? text : "");
	p.len = text != NULL ? len : 0;
	p.line = 1;
	p.doc = doc;
	p.cause = cause;

	if (p.len >= UINT_MAX) {
		jsonc_error(&p, "file too large (%zu bytes)", p.len);
		goto fail;
	}
	if (p.len >= 2 &&
	    ((p.s[0] == 0xFF && p.s[1] == 0xFE) || (p.s[0] == 0xFE && p.s[1] == 0xFF))) {
		jsonc_error(&p, "file is encoded as UTF-16, expected UTF-8");
		goto fail;
	}
	if (p.len >= 3 && p.s[0] == 0xEF && p.s[1] == 0xBB && p.s[2] == 0xBF)
		p.pos = p.line_start = 3;

	if (jsonc_skip(&p) != 0)
		goto fail;
	if (p.pos >= p.len) {
		jsonc_error(&p, "empty file");
		goto fail;
	}
	if (jsonc_value(&p, 0, NULL, &doc->root) != 0)
		goto fail;
	if (jsonc_skip(&p) != 0)
		goto fail;
	if (p.pos < p.len) {
		if (p.s[p.pos] == '\0')
			jsonc_error(&p, "unexpected NUL byte");
		else
			jsonc_error(&p, "unexpected text after the top-level value");
		goto fail;
	}
	jsonc_pos_index(doc, p.vec, p.vec_len);
	jsonc_bury(&p, doc);
	free(p.vec);
	free(p.scratch);
	return doc;

fail:
	jsonc_bury(&p, NULL);
	free(p.vec);
	free(p.scratch);
	jsonc_doc_free(doc);
	return NULL;
}
