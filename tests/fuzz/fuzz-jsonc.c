/* fuzz-jsonc.c - fuzz the JSONC parser (common/jsonc*.c).
 *
 * Every input must either fail with a "fuzz:LINE:COL: ..." message or parse
 * into a tree whose every node has a position; a parsed tree printed by cJSON
 * must parse again, into an equal tree (unless it holds a number cJSON prints
 * as null).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fuzz.h"
#include "jsonc.h"

/* Check that every node below node has a position; return 1 if a number in
 * it is not finite (cJSON prints those as null). */
static int
check_tree(const struct jsonc_doc *doc, const cJSON *node, int member)
{
	const cJSON *c;
	unsigned line, col;
	int nonfinite = 0;

	if (jsonc_doc_locate(doc, node, &line, &col) != 0 || line == 0 || col == 0)
		abort();
	if ((jsonc_doc_locate_key(doc, node, &line, &col) == 0) != member)
		abort();
	if (cJSON_IsNumber(node) && !isfinite(node->valuedouble))
		nonfinite = 1;
	for (c = node->child; c != NULL; c = c->next)
		nonfinite |= check_tree(doc, c, cJSON_IsObject(node));
	return nonfinite;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jsonc_doc *doc, *again;
	char *cause = NULL, *text;
	int nonfinite;

	doc = jsonc_parse("fuzz", (const char *)data, size, &cause);
	if (doc == NULL) {
		fuzz_check_cause(cause);
		free(cause);
		return 0;
	}
	nonfinite = check_tree(doc, jsonc_doc_root(doc), 0);

	text = cJSON_PrintUnformatted(jsonc_doc_root(doc));
	if (text == NULL)
		abort();
	again = jsonc_parse("fuzz", text, strlen(text), &cause);
	if (again == NULL) {
		fprintf(stderr, "re-parse of \"%s\" failed: %s\n", text, cause);
		abort();
	}
	if (!nonfinite && !cJSON_Compare(jsonc_doc_root(doc), jsonc_doc_root(again), 1)) {
		fprintf(stderr, "re-parse of \"%s\" differs\n", text);
		abort();
	}
	jsonc_doc_free(again);
	cJSON_free(text);
	jsonc_doc_free(doc);
	return 0;
}
