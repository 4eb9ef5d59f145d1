/* fuzz-compose-yaml.c - fuzz the YAML reader (agent/compose-yaml.c) and the
 * override's JSON printer (compose_override_print()).
 *
 * Every input must either fail with a "fuzz:LINE:COL: ..." message or parse
 * into a tree that compose_override_print() prints as text which both cJSON
 * and the YAML reader read back as the same tree (what Compose relies on
 * when it reads rdev's JSON override as YAML).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "compose-override.h"
#include "compose-yaml.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cJSON *tree, *json, *again;
	char *cause = NULL, *text;

	tree = compose_yaml_parse("fuzz", (const char *)data, size, &cause);
	if (tree == NULL) {
		fuzz_check_cause(cause);
		free(cause);
		return 0;
	}
	text = compose_override_print(tree);
	if ((json = cJSON_Parse(text)) == NULL || !cJSON_Compare(tree, json, 1)) {
		fprintf(stderr, "cJSON reads \"%s\" as another tree\n", text);
		abort();
	}
	if ((again = compose_yaml_parse("again", text, strlen(text), &cause)) == NULL) {
		fprintf(stderr, "re-parse of \"%s\" failed: %s\n", text, cause);
		abort();
	}
	if (!cJSON_Compare(tree, again, 1)) {
		fprintf(stderr, "re-parse of \"%s\" differs\n", text);
		abort();
	}
	cJSON_Delete(again);
	cJSON_Delete(json);
	free(text);
	cJSON_Delete(tree);
	return 0;
}
