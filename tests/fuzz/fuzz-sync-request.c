/* fuzz-sync-request.c - fuzz what the agent reads of a sync request from the
 * client (agent/serve-sync.c): the manifest ("files", common/sync-scan.c)
 * and a live sync's "delete" list.
 *
 * Whatever comes, each accepted path must be one a sync may name
 * (sync_path_ok), the manifest must come out in path order without
 * duplicates, and a refusal must say why and leave nothing behind.
 */
#include <string.h>

#include <cjson/cJSON.h>

#include "fuzz.h"
#include "sync-scan.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cJSON *req = cJSON_ParseWithLength((const char *)data, size);
	struct sync_scan *s = NULL;
	char **del = NULL, *cause = NULL;
	size_t n = 0;

	if (sync_scan_from_manifest(
		cJSON_GetObjectItemCaseSensitive(req, "files"), &s, &cause) == 0) {
		for (size_t i = 0; i < s->n; i++)
			if (!sync_path_ok(s->v[i].path) ||
			    (i > 0 && strcmp(s->v[i - 1].path, s->v[i].path) >= 0))
				abort();
		sync_scan_free(s);
	} else if (cause == NULL || s != NULL)
		abort();
	free(cause);
	cause = NULL;
	if (sync_paths_from_json(
		cJSON_GetObjectItemCaseSensitive(req, "delete"), &del, &n, &cause) == 0) {
		for (size_t i = 0; i < n; i++) {
			if (!sync_path_ok(del[i]))
				abort();
			free(del[i]);
		}
		free(del);
	} else if (cause == NULL || del != NULL)
		abort();
	free(cause);
	cJSON_Delete(req);
	return 0;
}
