/* jsonc.c - a recursive-descent JSONC parser building a cJSON tree.
 *
 * The scanner keeps the current line and enough bookkeeping to compute the
 * column of the current byte in characters in O(1): the number of UTF-8
 * continuation bytes seen since the line began (they only occur inside
 * strings and comments, which are validated as they are scanned).
 *
 * Positions live in an open-addressing hash table keyed by node pointer (see
 * jsonc_doc_locate()). Recursion is bounded by JSONC_MAX_DEPTH, checked
 * before descending.
 */
#include "jsonc.h"

#include <limits.h>
#include <locale.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error.h"
#include "xmalloc.h"

/* Error paths and rare cases: out of line, off the recursion's stack. */
#define JSONC_COLD __attribute__((noinline, cold))

/* One remembered position. kline is 0 when the node is not an object member. */
struct jsonc_pos {
	const cJSON *node;
	unsigned line;
	unsigned col;
	unsigned kline;
	unsigned kcol;
};

struct jsonc_doc {
	char *name;
	cJSON *root;
	struct jsonc_pos *pos; /* hash table, NULL node = empty slot */
	size_t pos_mask;       /* size - 1, size a power of two */
};

/* The names of one object being parsed, for finding duplicates; built only
 * once an object has KEYSET_MIN members (smaller ones are scanned). */
#define KEYSET_MIN 16
struct keyset {
	cJSON **slots;
	size_t mask;
	size_t count;
};

/* Where a value is being parsed, for error messages and key positions. */
struct value_ctx {
	const char *key; /* member name, or NULL in an array */
	unsigned kline;
	unsigned kcol;
};

struct parser {
	const unsigned char *s;
	size_t len;
	size_t pos;

	unsigned line;
	size_t line_start; /* byte offset where the current line began */
	size_t cont;	   /* continuation bytes seen in the whole text */
	size_t line_cont;  /* ... as of line_start */

	char *scratch; /* decoded string, NUL-terminated */
	size_t scratch_len;
	size_t scratch_size;

	/* Positions in creation order, indexed into doc->pos at the end. */
	struct jsonc_pos *vec;
	size_t vec_len;
	size_t vec_size;
	/* Members replaced by a later duplicate, linked by ->next. They are
	 * freed only after parsing so that no address is reused while vec is
	 * being filled (every node in vec is distinct). */
	cJSON *graveyard;

	struct jsonc_doc *doc;
	char **cause;
};

static int jsonc_value(struct parser *, unsigned, const struct value_ctx *, cJSON **);

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
static void
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
static void
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
static void
jsonc_pos_remove_tree(struct jsonc_doc *doc, const cJSON *node)
{
	const cJSON *c;

	for (c = node->child; c != NULL; c = c->next)
		jsonc_pos_remove_tree(doc, c);
	jsonc_pos_remove(doc, node);
}

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

/* Append item (whose ->string is set) to obj, or replace an earlier member of
 * the same name, keeping the first one's place. */
static void
jsonc_object_add(struct parser *p, cJSON *obj, struct keyset *ks, size_t *count,
		 cJSON *item)
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

/* Scanner. */

static unsigned
jsonc_col(const struct parser *p)
{
	return (unsigned)(p->pos - p->line_start - (p->cont - p->line_cont) + 1);
}

/* A line ended; the next one starts at byte offset start. */
static void
jsonc_newline(struct parser *p, size_t start)
{
	p->line++;
	p->line_start = start;
	p->line_cont = p->cont;
}

/* Format an error at line:col. Always returns -1. */
static int __attribute__((format(printf, 4, 5)))
jsonc_error_at(struct parser *p, unsigned line, unsigned col, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	error_set(p->cause, "%s:%u:%u: %s", p->doc->name, line, col, msg);
	free(msg);
	return -1;
}

#define jsonc_error(p, ...) jsonc_error_at((p), (p)->line, jsonc_col(p), __VA_ARGS__)

/* Outcome of checking one UTF-8 sequence. */
enum utf8_status {
	UTF8_OK,
	UTF8_BAD_LEAD, /* a byte that cannot start a character */
	UTF8_BAD_CONT, /* a lead byte not followed as it must be */
	UTF8_TRUNCATED /* the text ends inside the sequence */
};

/* Check the UTF-8 sequence at s (avail bytes left, s[0] >= 0x80). Sets *n to
 * its length (for UTF8_BAD_CONT and UTF8_TRUNCATED: the bytes that were
 * looked at) and *cp to the code point. Rejects overlong forms, surrogates
 * and code points above U+10FFFF. */
static enum utf8_status
jsonc_utf8(const unsigned char *s, size_t avail, size_t *n, unsigned *cp)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xBF;
	size_t need, i;

	if (c >= 0xC2 && c <= 0xDF) {
		need = 2;
		*cp = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		need = 3;
		*cp = c & 0x0F;
		if (c == 0xE0)
			lo = 0xA0; /* overlong */
		else if (c == 0xED)
			hi = 0x9F; /* surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 4;
		*cp = c & 0x07;
		if (c == 0xF0)
			lo = 0x90; /* overlong */
		else if (c == 0xF4)
			hi = 0x8F; /* above U+10FFFF */
	} else {
		*n = 1;
		return UTF8_BAD_LEAD;
	}
	for (i = 1; i < need; i++) {
		if (i >= avail) {
			*n = i;
			return UTF8_TRUNCATED;
		}
		if (s[i] < lo || s[i] > hi) {
			*n = i + 1;
			return UTF8_BAD_CONT;
		}
		lo = 0x80;
		hi = 0xBF;
		*cp = (*cp << 6) | (s[i] & 0x3F);
	}
	*n = need;
	return UTF8_OK;
}

/* Report a bad UTF-8 sequence at the current position. */
static int
jsonc_utf8_error(struct parser *p, enum utf8_status st, size_t n)
{
	const unsigned char *s = p->s + p->pos;
	char bytes[32];
	size_t i, off = 0;

	if (st == UTF8_BAD_LEAD)
		return jsonc_error(p, "invalid UTF-8 byte 0x%02x", s[0]);
	for (i = 0; i < n && i < 4; i++) {
		off += (size_t)snprintf(bytes + off, sizeof bytes - off, "%s0x%02x",
					i == 0 ? "" : " ", s[i]);
	}
	if (st == UTF8_TRUNCATED)
		return jsonc_error(p, "truncated UTF-8 sequence %s at end of file",
				   bytes);
	return jsonc_error(p, "invalid UTF-8 sequence %s", bytes);
}

/* Step over a non-ASCII character in a string or comment, counting its
 * continuation bytes; on invalid UTF-8 set the error and return -1. */
static int
jsonc_skip_utf8(struct parser *p, unsigned *cp)
{
	enum utf8_status st;
	size_t n;
	unsigned dummy;

	st = jsonc_utf8(p->s + p->pos, p->len - p->pos, &n, cp != NULL ? cp : &dummy);
	if (st != UTF8_OK)
		return jsonc_utf8_error(p, st, n);
	p->pos += n;
	p->cont += n - 1;
	return 0;
}

/* Skip a // comment; p->pos is at its first '/'. The line break is left. */
static int
jsonc_line_comment(struct parser *p)
{
	unsigned char c;

	p->pos += 2;
	while (p->pos < p->len) {
		c = p->s[p->pos];
		if (c == '\n' || c == '\r')
			break;
		if (c == '\0')
			return jsonc_error(p, "unexpected NUL byte");
		if (c < 0x80)
			p->pos++;
		else if (jsonc_skip_utf8(p, NULL) != 0)
			return -1;
	}
	return 0;
}

/* Skip a block comment; p->pos is at its '/'. */
static int
jsonc_block_comment(struct parser *p)
{
	unsigned line = p->line, col = jsonc_col(p);
	unsigned char c;

	p->pos += 2;
	for (;;) {
		if (p->pos >= p->len) {
			return jsonc_error_at(p, line, col, "unterminated /* comment");
		}
		c = p->s[p->pos];
		if (c == '*' && p->pos + 1 < p->len && p->s[p->pos + 1] == '/') {
			p->pos += 2;
			return 0;
		}
		if (c == '\n') {
			p->pos++;
			jsonc_newline(p, p->pos);
		} else if (c == '\r') {
			p->pos++;
			if (p->pos < p->len && p->s[p->pos] == '\n')
				p->pos++;
			jsonc_newline(p, p->pos);
		} else if (c == '\0')
			return jsonc_error(p, "unexpected NUL byte");
		else if (c < 0x80)
			p->pos++;
		else if (jsonc_skip_utf8(p, NULL) != 0)
			return -1;
	}
}

/* Skip whitespace and comments. Stops at anything else, including a '/' that
 * does not start a comment (the caller reports it). */
static int
jsonc_skip(struct parser *p)
{
	unsigned char c;

	while (p->pos < p->len) {
		c = p->s[p->pos];
		switch (c) {
		case ' ':
		case '\t': p->pos++; break;
		case '\n':
			p->pos++;
			jsonc_newline(p, p->pos);
			break;
		case '\r':
			p->pos++;
			if (p->pos < p->len && p->s[p->pos] == '\n')
				p->pos++;
			jsonc_newline(p, p->pos);
			break;
		case '/':
			if (p->pos + 1 >= p->len)
				return 0;
			if (p->s[p->pos + 1] == '/') {
				if (jsonc_line_comment(p) != 0)
					return -1;
			} else if (p->s[p->pos + 1] == '*') {
				if (jsonc_block_comment(p) != 0)
					return -1;
			} else
				return 0;
			break;
		default: return 0;
		}
	}
	return 0;
}

/* If the byte at p->pos is one that is wrong anywhere (NUL, invalid UTF-8),
 * report it and return -1; else return 0. */
static int
jsonc_bad_byte(struct parser *p)
{
	enum utf8_status st;
	unsigned cp;
	size_t n;

	if (p->s[p->pos] == '\0')
		return jsonc_error(p, "unexpected NUL byte");
	if (p->s[p->pos] < 0x80)
		return 0;
	st = jsonc_utf8(p->s + p->pos, p->len - p->pos, &n, &cp);
	if (st != UTF8_OK)
		return jsonc_utf8_error(p, st, n);
	return 0;
}

/* Describe the character at p->pos (not NUL, valid UTF-8) for a message. */
static void
jsonc_describe(const struct parser *p, char *out, size_t size)
{
	unsigned char c = p->s[p->pos];
	unsigned cp = 0;
	size_t n;

	if (c == '\'')
		snprintf(out, size, "\"'\"");
	else if (c > 0x20 && c < 0x7F)
		snprintf(out, size, "'%c'", c);
	else if (c < 0x80)
		snprintf(out, size, "control character U+%04X", c);
	else {
		(void)jsonc_utf8(p->s + p->pos, p->len - p->pos, &n, &cp);
		snprintf(out, size, "character U+%04X", cp);
	}
}

/* Quote s for a message: escape quotes, backslashes and control characters,
 * and cut it (at a character boundary) if long. */
static void
jsonc_quote(const char *s, char *out, size_t size)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t o = 0, i = 0, limit = size - 8;

	out[o++] = '"';
	while (u[i] != '\0') {
		if (o >= limit - 6) {
			/* Do not cut a character in two. */
			while (i > 0 && (u[i] & 0xC0) == 0x80) {
				i--;
				o--;
			}
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (u[i] == '"' || u[i] == '\\') {
			out[o++] = '\\';
			out[o++] = (char)u[i];
		} else if (u[i] < 0x20 || u[i] == 0x7F)
			o += (size_t)snprintf(out + o, size - o, "\\u%04x", u[i]);
		else
			out[o++] = (char)u[i];
		i++;
	}
	out[o++] = '"';
	out[o] = '\0';
}

/* Strings. */

static void
jsonc_scratch_add(struct parser *p, const void *data, size_t len)
{
	size_t want = p->scratch_len + len + 1;

	if (want > p->scratch_size) {
		size_t size = p->scratch_size == 0 ? 256 : p->scratch_size;

		while (size < want) {
			if (size > SIZE_MAX / 2)
				fatal("jsonc: string too long");
			size *= 2;
		}
		p->scratch = xreallocarray(p->scratch, 1, size);
		p->scratch_size = size;
	}
	memcpy(p->scratch + p->scratch_len, data, len);
	p->scratch_len += len;
	p->scratch[p->scratch_len] = '\0';
}

static void
jsonc_scratch_add_cp(struct parser *p, unsigned cp)
{
	unsigned char b[4];
	size_t n;

	if (cp < 0x80) {
		b[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (unsigned char)(0xC0 | (cp >> 6));
		b[1] = (unsigned char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (unsigned char)(0xE0 | (cp >> 12));
		b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		b[2] = (unsigned char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		b[0] = (unsigned char)(0xF0 | (cp >> 18));
		b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
		b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		b[3] = (unsigned char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	jsonc_scratch_add(p, b, n);
}

/* Read 4 hex digits at offset at; -1 if there are not 4. */
static long
jsonc_hex4(const struct parser *p, size_t at)
{
	long v = 0;
	size_t i;
	unsigned char c;

	if (at > p->len || p->len - at < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		c = p->s[at + i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

/* Decode the escape at p->pos (a backslash) into the scratch buffer. */
static int
jsonc_escape(struct parser *p, unsigned sline, unsigned scol)
{
	unsigned char e;
	long hi, lo;

	if (p->pos + 1 >= p->len)
		return jsonc_error_at(p, sline, scol, "unterminated string");
	e = p->s[p->pos + 1];
	switch (e) {
	case '"':
	case '\\':
	case '/': jsonc_scratch_add(p, &e, 1); break;
	case 'b': jsonc_scratch_add(p, "\b", 1); break;
	case 'f': jsonc_scratch_add(p, "\f", 1); break;
	case 'n': jsonc_scratch_add(p, "\n", 1); break;
	case 'r': jsonc_scratch_add(p, "\r", 1); break;
	case 't': jsonc_scratch_add(p, "\t", 1); break;
	case 'u':
		if ((hi = jsonc_hex4(p, p->pos + 2)) < 0) {
			return jsonc_error(
			    p, "invalid \\u escape in string, expected 4 hex digits");
		}
		if (hi == 0) {
			return jsonc_error(p, "\\u0000 (NUL) is not allowed in strings");
		}
		if (hi >= 0xDC00 && hi <= 0xDFFF) {
			return jsonc_error(p, "lone surrogate \\u%04lX in string", hi);
		}
		if (hi >= 0xD800 && hi <= 0xDBFF) {
			lo = -1;
			if (p->pos + 7 < p->len && p->s[p->pos + 6] == '\\' &&
			    p->s[p->pos + 7] == 'u')
				lo = jsonc_hex4(p, p->pos + 8);
			if (lo < 0xDC00 || lo > 0xDFFF) {
				return jsonc_error(p, "lone surrogate \\u%04lX in string",
						   hi);
			}
			jsonc_scratch_add_cp(p, 0x10000 +
						    (((unsigned)hi - 0xD800) << 10) +
						    ((unsigned)lo - 0xDC00));
			p->pos += 12;
			return 0;
		}
		jsonc_scratch_add_cp(p, (unsigned)hi);
		p->pos += 6;
		return 0;
	default:
		if (e > 0x20 && e < 0x7F)
			return jsonc_error(p, "invalid escape \\%c in string", e);
		return jsonc_error(p, "invalid escape in string");
	}
	p->pos += 2;
	return 0;
}

/* Decode the string at p->pos (its opening quote) into p->scratch. */
static int
jsonc_string(struct parser *p)
{
	unsigned sline = p->line, scol = jsonc_col(p);
	const unsigned char *s = p->s;
	size_t run;
	unsigned char c;

	p->scratch_len = 0;
	jsonc_scratch_add(p, "", 0);
	p->pos++;
	for (;;) {
		run = p->pos;
		while (p->pos < p->len) {
			c = s[p->pos];
			if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\')
				break;
			p->pos++;
		}
		if (p->pos > run)
			jsonc_scratch_add(p, s + run, p->pos - run);
		if (p->pos >= p->len)
			return jsonc_error_at(p, sline, scol, "unterminated string");
		c = s[p->pos];
		if (c == '"') {
			p->pos++;
			return 0;
		}
		if (c == '\\') {
			if (jsonc_escape(p, sline, scol) != 0)
				return -1;
		} else if (c >= 0x80) {
			run = p->pos;
			if (jsonc_skip_utf8(p, NULL) != 0)
				return -1;
			jsonc_scratch_add(p, s + run, p->pos - run);
		} else if (c == '\n' || c == '\r')
			return jsonc_error_at(p, sline, scol, "unterminated string");
		else if (c == '\0')
			return jsonc_error(p, "unexpected NUL byte");
		else {
			return jsonc_error(
			    p, "unescaped control character U+%04X in string", c);
		}
	}
}

/* Numbers and words. */

static int
jsonc_is_word_char(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z') || c == '_' || c == '$' || c == '.' || c == '+' ||
	       c == '-';
}

/* Length of the number at s (JSON grammar) if it is exactly n bytes, else 0. */
static int
jsonc_number_ok(const unsigned char *s, size_t n, int *integer)
{
	size_t i = 0;

	*integer = 1;
	if (i < n && s[i] == '-')
		i++;
	if (i >= n || s[i] < '0' || s[i] > '9')
		return 0;
	if (s[i] == '0')
		i++;
	else {
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	if (i < n && s[i] == '.') {
		*integer = 0;
		i++;
		if (i >= n || s[i] < '0' || s[i] > '9')
			return 0;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		*integer = 0;
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= n || s[i] < '0' || s[i] > '9')
			return 0;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	return i == n;
}

/* Convert a valid JSON number of n bytes. */
static double
jsonc_number_value(const unsigned char *s, size_t n, int integer)
{
	char small[64], *buf;
	const char *point;
	double v;
	size_t i, digits;

	digits = n - (s[0] == '-');
	if (integer && digits <= 15) {
		/* Exact in a double; skip strtod. */
		v = 0;
		for (i = n - digits; i < n; i++)
			v = v * 10 + (s[i] - '0');
		return s[0] == '-' ? -v : v;
	}
	buf = n < sizeof small ? small : xmalloc(n + 1);
	memcpy(buf, s, n);
	buf[n] = '\0';
	/* strtod() follows the locale's decimal point. */
	point = localeconv()->decimal_point;
	if (point != NULL && point[0] != '\0' && point[0] != '.' && point[1] == '\0') {
		for (i = 0; i < n; i++) {
			if (buf[i] == '.')
				buf[i] = point[0];
		}
	}
	v = strtod(buf, NULL);
	if (buf != small)
		free(buf);
	return v;
}

static int __attribute__((noinline)) jsonc_number(struct parser *p, cJSON **out)
{
	const unsigned char *s = p->s + p->pos;
	size_t n = 0;
	int integer;
	const char *why = "";

	while (p->pos + n < p->len && jsonc_is_word_char(s[n]))
		n++;
	if (!jsonc_number_ok(s, n, &integer)) {
		if (s[0] == '+')
			why = " (a leading '+' is not allowed)";
		else if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
			why = " (hexadecimal is not allowed)";
		else if ((n > 1 && s[0] == '0' && s[1] >= '0' && s[1] <= '9') ||
			 (n > 2 && s[0] == '-' && s[1] == '0' && s[2] >= '0' &&
			  s[2] <= '9'))
			why = " (leading zeros are not allowed)";
		if (n > 40)
			return jsonc_error(p, "invalid number %.40s...%s", s, why);
		return jsonc_error(p, "invalid number %.*s%s", (int)n, s, why);
	}
	if ((*out = cJSON_CreateNumber(jsonc_number_value(s, n, integer))) == NULL)
		fatal("jsonc: out of memory");
	p->pos += n;
	return 0;
}

/* The "for property ..." / "in the array" part of a message. */
static void
jsonc_where(const struct value_ctx *ctx, char *out, size_t size)
{
	char q[96];

	if (ctx == NULL)
		out[0] = '\0';
	else if (ctx->key == NULL)
		snprintf(out, size, " in the array");
	else {
		jsonc_quote(ctx->key, q, sizeof q);
		snprintf(out, size, " for property %s", q);
	}
}

/* true, false, null, or a word that is not a value. */
static int __attribute__((noinline))
jsonc_word(struct parser *p, const struct value_ctx *ctx, cJSON **out)
{
	const char *s = (const char *)p->s + p->pos;
	const char *hint = " (strings need double quotes)";
	char where[128];
	size_t n = 0;

	while (p->pos + n < p->len && jsonc_is_word_char(p->s[p->pos + n]))
		n++;
	if (n == 4 && memcmp(s, "true", 4) == 0)
		*out = cJSON_CreateTrue();
	else if (n == 5 && memcmp(s, "false", 5) == 0)
		*out = cJSON_CreateFalse();
	else if (n == 4 && memcmp(s, "null", 4) == 0)
		*out = cJSON_CreateNull();
	else {
		if ((n == 4 && (strncasecmp(s, "true", 4) == 0 ||
				strncasecmp(s, "null", 4) == 0)) ||
		    (n == 5 && strncasecmp(s, "false", 5) == 0))
			hint = " (true, false and null are lowercase)";
		else if ((n == 3 && memcmp(s, "NaN", 3) == 0) ||
			 (n == 8 && memcmp(s, "Infinity", 8) == 0) ||
			 (n == 9 && memcmp(s, "undefined", 9) == 0))
			hint = " (not allowed in JSON)";
		jsonc_where(ctx, where, sizeof where);
		if (n > 40) {
			return jsonc_error(p, "expected a value%s, found %.40s...%s",
					   where, s, hint);
		}
		return jsonc_error(p, "expected a value%s, found %.*s%s", where, (int)n,
				   s, hint);
	}
	if (*out == NULL)
		fatal("jsonc: out of memory");
	p->pos += n;
	return 0;
}

/* Report "MESSAGE \"KEY\"" at the current position. Kept out of line, like
 * the other error paths, so the recursion's stack frames stay small. */
static int JSONC_COLD
jsonc_error_key(struct parser *p, const char *msg, const char *key)
{
	char q[96];

	jsonc_quote(key, q, sizeof q);
	return jsonc_error(p, "%s %s", msg, q);
}

/* Report the character at p->pos where a value should be. */
static int JSONC_COLD
jsonc_unexpected(struct parser *p, const struct value_ctx *ctx)
{
	char what[64], where[128];

	if (jsonc_bad_byte(p) != 0)
		return -1;
	jsonc_describe(p, what, sizeof what);
	jsonc_where(ctx, where, sizeof where);
	return jsonc_error(p, "expected a value%s, found %s%s", where, what,
			   p->s[p->pos] == '\'' ? " (strings need double quotes)" : "");
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
	struct keyset ks = {NULL, 0, 0};
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
				jsonc_error(p,
					    "expected a property name in double quotes");
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
				jsonc_error_key(p, "expected ':' after property name",
						key);
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
		jsonc_object_add(p, obj, &ks, &count, item);

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
			jsonc_error_key(p, "expected ',' or '}' after property",
					item->string);
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
	struct value_ctx ctx = {NULL, 0, 0};
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
			return jsonc_error(p, "nesting deeper than %d levels",
					   JSONC_MAX_DEPTH);
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

void
jsonc_doc_free(struct jsonc_doc *doc)
{
	if (doc == NULL)
		return;
	cJSON_Delete(doc->root);
	free(doc->pos);
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
jsonc_doc_locate(const struct jsonc_doc *doc, const cJSON *node, unsigned *line,
		 unsigned *col)
{
	const struct jsonc_pos *e = jsonc_doc_find(doc, node);

	if (e == NULL)
		return -1;
	*line = e->line;
	*col = e->col;
	return 0;
}

int
jsonc_doc_locate_key(const struct jsonc_doc *doc, const cJSON *node, unsigned *line,
		     unsigned *col)
{
	const struct jsonc_pos *e = jsonc_doc_find(doc, node);

	if (e == NULL || e->kline == 0)
		return -1;
	*line = e->kline;
	*col = e->kcol;
	return 0;
}
