/* fuzz-run-args.c - fuzz runArgs translation and mount parsing.
 *
 * If the input parses as JSON (cJSON_ParseWithLength) it is used as runArgs
 * on a body that already has fields (as the agent's has), and each element
 * (or the value itself) goes through mount_spec_to_api and mount_spec_target
 * (and a string through mount_string_target: the same target).
 * Whatever the input, its bytes up to the first NUL are also used as a
 * --mount string and a size, and its lines as a runArgs list, so the
 * fuzzer reaches the option parsers without having to write JSON.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fuzz.h"
#include "mount-spec.h"
#include "mount-string.h"
#include "run-args.h"

static const char fuzz_body[] =
    "{\"Image\":\"img\",\"Env\":[\"A=1\"],\"Labels\":{\"l\":\"1\"},"
    "\"HostConfig\":{\"CapAdd\":[\"sys_ptrace\"],\"Mounts\":[],\"Ulimits\":["
    "{\"Name\":\"nofile\",\"Hard\":1,\"Soft\":1}],\"PortBindings\":{}}}";

/* Apply args to a fresh body and check the contract of run_args_apply. */
static void
fuzz_apply(const cJSON *args)
{
	cJSON *body = cJSON_Parse(fuzz_body);
	char *name = (char *)1, **warnings = (char **)1, *cause = NULL, *text;
	size_t i;

	if (body == NULL)
		abort();
	if (run_args_apply(args, body, &name, &warnings, &cause) == 0) {
		if (cause != NULL || !cJSON_IsObject(body))
			abort();
		for (i = 0; warnings != NULL && warnings[i] != NULL; i++)
			if (*warnings[i] == '\0')
				abort();
		/* The body must still print and parse (the agent sends it). */
		if ((text = cJSON_PrintUnformatted(body)) == NULL)
			abort();
		cJSON_Delete(cJSON_Parse(text));
		free(text);
		free(name);
		run_args_warnings_free(warnings);
	} else {
		if (cause == NULL || name != NULL || warnings != NULL)
			abort();
		free(cause);
	}
	cJSON_Delete(body);
}

static void
fuzz_mount(const cJSON *m)
{
	char *cause = NULL, *target;
	cJSON *api;

	api = mount_spec_to_api(m, &cause);
	if ((api == NULL) == (cause == NULL))
		abort();
	target = mount_spec_target(m);
	if (api != NULL) {
		/* A mount that translates has a target, and the same one. */
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(api, "Target");

		if (!cJSON_IsString(t) || target == NULL ||
		    strcmp(t->valuestring, target) != 0)
			abort();
		/* ... which the config checks read too (mount-string.h). */
		if (cJSON_IsString(m)) {
			char *st = mount_string_target(m->valuestring);

			if (st == NULL || strcmp(st, target) != 0)
				abort();
			free(st);
		}
	}
	free(target);
	cJSON_Delete(api);
	free(cause);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cJSON *json, *lines, *e;
	char *text, *line, *next, *cause = NULL;
	int64_t bytes;

	json = cJSON_ParseWithLength((const char *)data, size);
	if (json != NULL) {
		fuzz_apply(json);
		if (cJSON_IsArray(json)) {
			cJSON_ArrayForEach(e, json)
				fuzz_mount(e);
		} else
			fuzz_mount(json);
		cJSON_Delete(json);
	}

	text = malloc(size + 1);
	if (text == NULL)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	fuzz_apply(NULL);
	json = cJSON_CreateString(text);
	fuzz_mount(json);
	cJSON_Delete(json);
	if (mount_spec_parse_bytes(text, &bytes, &cause) == 0) {
		if (bytes < 0 || cause != NULL)
			abort();
	} else
		free(cause);

	lines = cJSON_CreateArray();
	for (line = text; line != NULL; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		cJSON_AddItemToArray(lines, cJSON_CreateString(line));
	}
	fuzz_apply(lines);
	cJSON_Delete(lines);
	free(text);
	return 0;
}
