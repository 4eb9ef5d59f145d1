/* jsonc.h - JSON with comments (devcontainer.json's dialect) into cJSON.
 *
 * Accepts // and block comments, trailing commas in objects and arrays, and a
 * leading UTF-8 BOM. Rejects invalid UTF-8, an empty file, nesting deeper than
 * JSONC_MAX_DEPTH and anything else that is not JSON, with an error of the
 * form "NAME:LINE:COL: expected ',' or '}' after property \"image\"" (lines
 * and columns count from 1; columns count characters, not bytes).
 *
 * The parsed tree remembers where each value started, so later stages
 * (validation) can point at the line of a bad property.
 *
 * Pure: no I/O.
 */
#ifndef RDEV_JSONC_H
#define RDEV_JSONC_H

#include <stddef.h>

#include <cjson/cJSON.h>

#define JSONC_MAX_DEPTH 512

struct jsonc_doc;

/* Parse len bytes of text (need not be NUL-terminated). name is used in error
 * messages (usually the file's path). Returns a document the caller frees with
 * jsonc_doc_free(), or NULL with *cause set. The top-level value may be of any
 * type; callers that need an object check cJSON_IsObject(jsonc_doc_root()). */
struct jsonc_doc *jsonc_parse(const char *name, const char *text, size_t len,
    char **cause);
void jsonc_doc_free(struct jsonc_doc *doc);

/* The root value; owned by the document, valid until jsonc_doc_free(). */
cJSON *jsonc_doc_root(const struct jsonc_doc *doc);
/* The name given to jsonc_parse(); owned by the document. */
const char *jsonc_doc_name(const struct jsonc_doc *doc);
/* Where a value of this document's tree started. Returns 0 and sets *line and
 * *col, or -1 if node is not part of the tree (e.g. added later). */
int jsonc_doc_locate(const struct jsonc_doc *doc, const cJSON *node,
    unsigned *line, unsigned *col);

#endif
