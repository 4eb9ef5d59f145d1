/* jsonc.h - JSON with comments (devcontainer.json's dialect) into cJSON.
 *
 * Accepts // and block comments wherever whitespace may appear, trailing
 * commas in objects and arrays, and a leading UTF-8 BOM (as VS Code does).
 * Rejects invalid UTF-8, NUL bytes, an empty file (also one holding only
 * whitespace and comments), nesting deeper than JSONC_MAX_DEPTH, "\u0000" and
 * lone surrogates in strings, and anything else that is not JSON (single
 * quotes, unquoted names, leading zeros, '+', hex, NaN, Infinity, ...).
 *
 * Errors read "NAME:LINE:COL: MESSAGE", e.g.
 *   devcontainer.json:12:5: expected ',' or '}' after property "image"
 *   devcontainer.json:3:1: unexpected end of file, expected '}' to close the
 *       object opened at 1:1
 * Lines and columns count from 1; columns count characters (UTF-8 code
 * points, a tab is one), not bytes; CR, LF and CRLF each end a line.
 *
 * Duplicate names in an object keep the last value, at the position of the
 * first (as JSON.parse and VS Code do); the document lists them
 * (jsonc_doc_duplicates()), for a caller to warn that the first is dropped.
 *
 * The parsed tree remembers where each value (and each object member's name)
 * started, so later stages (validation) can point at the line of a bad
 * property.
 *
 * Pure: no I/O, no globals.
 */
#ifndef RDEV_JSONC_H
#define RDEV_JSONC_H

#include <stddef.h>

#include <cjson/cJSON.h>

#define JSONC_MAX_DEPTH 512

struct jsonc_doc;

/* Parse len bytes of text (need not be NUL-terminated; NULL is allowed when
 * len is 0). name is used in error messages (usually the file's path; NULL
 * means "<input>"). Returns a document the caller frees with jsonc_doc_free(),
 * or NULL with *cause set (the caller frees *cause). The top-level value may be
 * of any type; callers that need an object check
 * cJSON_IsObject(jsonc_doc_root()). */
struct jsonc_doc *jsonc_parse(
    const char *name, const char *text, size_t len, char **cause);
/* Free the document and its tree; jsonc_doc_free(NULL) is a no-op. */
void jsonc_doc_free(struct jsonc_doc *doc);

/* The root value; owned by the document, valid until jsonc_doc_free(). The
 * caller may modify the tree: nodes it adds are unknown to jsonc_doc_locate(),
 * but positions are keyed by address, so a node allocated where a parsed node
 * the caller freed used to be would inherit that node's position. */
cJSON *jsonc_doc_root(const struct jsonc_doc *doc);
/* The name given to jsonc_parse(); owned by the document. */
const char *jsonc_doc_name(const struct jsonc_doc *doc);
/* Where a value of this document's tree started (for an object member: its
 * value, not its name). Returns 0 and sets *line and *col, or -1 if node is
 * not part of the tree (e.g. added later). */
int jsonc_doc_locate(
    const struct jsonc_doc *doc, const cJSON *node, unsigned *line, unsigned *col);
/* Where the name of an object member started (its opening quote). Returns 0
 * and sets *line and *col, or -1 if node is not an object member parsed from
 * this document (the root, an array element, or a node added later). */
int jsonc_doc_locate_key(
    const struct jsonc_doc *doc, const cJSON *node, unsigned *line, unsigned *col);

/* A member name given twice in one object: the earlier member, whose name
 * is at line:col, was dropped for the later one, at later_line:later_col. */
struct jsonc_duplicate {
	char *name;
	unsigned line, col;
	unsigned later_line, later_col;
};
/* At most this many duplicates are listed (the first met). */
#define JSONC_MAX_DUPLICATES 32
/* The duplicates found, in the order met; *n is set to their number. Owned
 * by the document, valid until jsonc_doc_free(). */
const struct jsonc_duplicate *jsonc_doc_duplicates(
    const struct jsonc_doc *doc, size_t *n);

#endif
