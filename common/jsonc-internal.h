/* jsonc-internal.h - the JSONC parser's state, shared by its modules:
 * jsonc.c (values, objects, arrays, jsonc_parse()), jsonc-token.c (strings,
 * numbers, words), jsonc-scan.c (columns, whitespace, comments, UTF-8,
 * errors) and jsonc-doc.c (the document and its position table).
 *
 * All of it works on one struct parser, owned by jsonc_parse() for one parse;
 * the document it fills is returned to jsonc_parse()'s caller.
 */
#ifndef RDEV_JSONC_INTERNAL_H
#define RDEV_JSONC_INTERNAL_H

#include <stddef.h>

#include "jsonc.h"

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
	struct jsonc_duplicate dups[JSONC_MAX_DUPLICATES];
	size_t ndups;
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

/* jsonc-doc.c */
/* Remember where node (and, for a member, its name) started, in p->vec. */
void jsonc_pos_add(struct parser *p, const cJSON *node, unsigned line, unsigned col,
    unsigned kline, unsigned kcol);
/* Build the document's table from the positions gathered while parsing. */
void jsonc_pos_index(struct jsonc_doc *doc, const struct jsonc_pos *vec, size_t n);
/* Forget a whole subtree (about to be freed). */
void jsonc_pos_remove_tree(struct jsonc_doc *doc, const cJSON *node);

/* jsonc-scan.c */
/* The column (in characters, from 1) of the byte at p->pos. */
unsigned jsonc_col(const struct parser *p);
/* Set *p->cause to "NAME:LINE:COL: MESSAGE". Always returns -1. */
int jsonc_error_at(struct parser *p, unsigned line, unsigned col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* jsonc_error_at() at the current position. */
#define jsonc_error(p, ...) jsonc_error_at((p), (p)->line, jsonc_col(p), __VA_ARGS__)
/* Step over the non-ASCII character at p->pos (its code point in *cp if cp
 * is not NULL); on invalid UTF-8 set the error and return -1. */
int jsonc_skip_utf8(struct parser *p, unsigned *cp);
/* Skip whitespace and comments; -1 with the error set on a bad one. */
int jsonc_skip(struct parser *p);
/* -1 with the error set if the byte at p->pos is wrong anywhere (NUL,
 * invalid UTF-8), else 0. */
int jsonc_bad_byte(struct parser *p);
/* Describe the character at p->pos (not NUL, valid UTF-8) for a message. */
void jsonc_describe(const struct parser *p, char *out, size_t size);
/* Quote s for a message (quote_string()), cut to fit out if long. */
void jsonc_quote(const char *s, char *out, size_t size);

/* jsonc-token.c */
/* Decode the string at p->pos (its opening quote) into p->scratch. */
int jsonc_string(struct parser *p);
/* The number at p->pos as a new node in *out. */
int jsonc_number(struct parser *p, cJSON **out);
/* true, false or null at p->pos as a new node in *out, or an error naming
 * the word found (ctx says where, for the message; may be NULL). */
int jsonc_word(struct parser *p, const struct value_ctx *ctx, cJSON **out);
/* Report "MESSAGE \"KEY\"" at the current position; returns -1. */
int jsonc_error_key(struct parser *p, const char *msg, const char *key);
/* Report the character at p->pos where a value should be; returns -1. */
int jsonc_unexpected(struct parser *p, const struct value_ctx *ctx);

#endif
