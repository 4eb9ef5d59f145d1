/* fuzz-broker-state.c - fuzz the broker's state file check
 * (broker/broker-state.c).
 *
 * Every input must either fail with a message or give host entries whose
 * members are what host-state.c and daemon.c read without checking again
 * (a host name; per forward a workspace, port and local port in range; per
 * watch a workspace); printed again as a state file, they must pass again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "broker-state.h"
#include "fuzz.h"

static void
check_entries(const cJSON *hosts)
{
	const cJSON *h, *e, *v;

	cJSON_ArrayForEach(h, hosts) {
		if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(h, "host")))
			abort();
		cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(h, "forwards")) {
			if (!cJSON_IsString(
				cJSON_GetObjectItemCaseSensitive(e, "workspace")))
				abort();
			v = cJSON_GetObjectItemCaseSensitive(e, "port");
			if (!cJSON_IsNumber(v) || v->valueint < 1 || v->valueint > 65535)
				abort();
			v = cJSON_GetObjectItemCaseSensitive(e, "local");
			if (!cJSON_IsNumber(v) || v->valueint < 1 || v->valueint > 65535)
				abort();
		}
		cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(h, "autos")) {
			if (!cJSON_IsString(
				cJSON_GetObjectItemCaseSensitive(e, "workspace")))
				abort();
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cJSON *hosts, *top, *again;
	char *cause = NULL, *text;

	hosts = broker_state_parse((const char *)data, size, &cause, NULL);
	if (hosts == NULL) {
		if (cause == NULL || *cause == '\0')
			abort();
		free(cause);
		return 0;
	}
	check_entries(hosts);
	top = cJSON_CreateObject();
	cJSON_AddNumberToObject(top, "version", BROKER_STATE_VERSION);
	cJSON_AddItemToObject(top, "hosts", hosts);
	if ((text = cJSON_PrintUnformatted(top)) == NULL)
		abort();
	if ((again = broker_state_parse(text, strlen(text), &cause, NULL)) == NULL) {
		fprintf(stderr, "re-parse of \"%s\" failed: %s\n", text, cause);
		abort();
	}
	cJSON_Delete(again);
	cJSON_free(text);
	cJSON_Delete(top);
	return 0;
}
