/* fuzz-config-merge.c - fuzz the metadata label parser and the merge.
 *
 * The input is split at the first NUL byte: the part before is a
 * devcontainer.metadata label value, the part after a devcontainer.json
 * (JSONC). Both are parsed; when both parse, they are merged, and the merged
 * configuration and the new label are built and re-parsed.
 */
#include <stdlib.h>
#include <string.h>

#include "config-merge.h"
#include "fuzz.h"
#include "jsonc.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t label_len = nul != NULL ? (size_t)(nul - data) : size;
	char *label = malloc(label_len + 1), *cause = NULL, *text;
	struct jsonc_doc *doc = NULL;
	cJSON *entries, *merged, *back;

	memcpy(label, data, label_len);
	label[label_len] = '\0';
	entries = config_metadata_parse(label, &cause);
	free(cause);
	cause = NULL;
	if (nul != NULL)
		doc = jsonc_parse("devcontainer.json", (const char *)nul + 1,
		    size - label_len - 1, &cause);
	free(cause);
	cause = NULL;
	if (entries != NULL) {
		const cJSON *config = doc != NULL && cJSON_IsObject(jsonc_doc_root(doc))
		    ? jsonc_doc_root(doc)
		    : NULL;
		merged = config_merge(entries, config);
		cJSON_Delete(merged);
		merged = config_merge_entries(entries, config);
		cJSON_Delete(merged);
		text = config_metadata_label(entries, config);
		back = config_metadata_parse(text, &cause);
		if (back == NULL)
			abort(); /* what we write must read back */
		cJSON_Delete(back);
		free(text);
		free(cause);
		cJSON_Delete(entries);
	}
	jsonc_doc_free(doc);
	free(label);
	return 0;
}
