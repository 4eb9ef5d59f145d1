/* pool-probe.c - asking a pool's hosts for their facts, all at once
 * (pool-probe.h). */
#include "pool-probe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "error.h"
#include "pool-file.h"
#include "remote.h"
#include "xmalloc.h"

int
pool_probe_timeout_ms(void)
{
	return clock_env_ms("RDEV_POOL_PROBE_TIMEOUT_MS", POOL_PROBE_TIMEOUT_MS);
}

int
pool_probe_target(const char *name, const char *path, struct target *t, char **cause)
{
	char *text = xasprintf("%s:~", name);
	int rc = target_parse(text, t, cause);

	free(text);
	if (rc != 0)
		return -1;
	if (t->kind != TARGET_SSH) {
		target_clear(t);
		return error_set(cause, "pool host '%s': not an SSH host", name);
	}
	free(t->path);
	t->path = xstrdup(path);
	return 0;
}

/* The row of entry e from its answer in the broker's probe ({"info":...}
 * or {"error":...}; NULL: none, error says why). */
static cJSON *
pool_probe_row(const cJSON *e, const cJSON *answer, const char *error)
{
	cJSON *row = cJSON_CreateObject(), *item;
	const cJSON *facts = cJSON_GetObjectItemCaseSensitive(answer, "info");
	const char *err =
	    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(answer, "error"));

	cJSON_AddStringToObject(row, "name", pool_entry_name(e));
	cJSON_AddStringToObject(row, "pool", pool_entry_pool(e));
	cJSON_AddItemToObject(row, "labels",
	    cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(e, "labels"), 1));
	if (!cJSON_IsObject(facts)) {
		cJSON_AddStringToObject(row, "state", "down");
		cJSON_AddStringToObject(row, "error",
		    err != NULL		? err
			: error != NULL ? error
					: "no answer");
		cJSON_AddItemToObject(row, "errorKind",
		    cJSON_Duplicate(
			cJSON_GetObjectItemCaseSensitive(answer, "errorKind"), 1));
		return row;
	}
	cJSON_AddStringToObject(row, "state", "up");
	cJSON_ArrayForEach(item, facts) {
		if (cJSON_GetObjectItemCaseSensitive(row, item->string) == NULL)
			cJSON_AddItemToObject(
			    row, item->string, cJSON_Duplicate(item, 1));
	}
	return row;
}

cJSON *
pool_probe(const cJSON *entries, int timeout_ms, int accept_new_host_key)
{
	struct remote_opts ro = { .quiet = 1, .silent = 1, .batch = 1 };
	cJSON *rows = cJSON_CreateArray(), *fields, *hosts, *result = NULL;
	const cJSON *e, *answers;
	struct remote *r;
	struct target t;
	char *cause = NULL, *error = NULL;
	int i = 0;

	if (cJSON_GetArraySize(entries) == 0)
		return rows;
	ro.accept_new_host_key = accept_new_host_key;
	fields = cJSON_CreateObject();
	hosts = cJSON_AddArrayToObject(fields, "hosts");
	cJSON_AddNumberToObject(fields, "timeoutMs", timeout_ms);
	cJSON_ArrayForEach(e, entries) {
		if (pool_probe_target(pool_entry_name(e), "~", &t, &cause) != 0) {
			/* (no such host: the broker says so) */
			free(cause);
			cause = NULL;
			cJSON_AddItemToArray(hosts, cJSON_CreateObject());
			continue;
		}
		r = remote_new(&t, &ro);
		cJSON_AddItemToArray(hosts, remote_host_json(r));
		remote_free(r);
		target_clear(&t);
	}
	/* One request: the broker asks every agent over the sessions it
	 * holds, and answers by the deadline (broker/broker-probe.h). */
	if (remote_broker_call(NULL, "pool-probe", fields, &result, &cause) != 0) {
		/* (a refusal at the handshake names the broker already) */
		error = strncmp(cause, "the broker", 10) == 0
		    ? xstrdup(cause)
		    : xasprintf("the broker: %s", cause);
		free(cause);
	}
	answers = cJSON_GetObjectItemCaseSensitive(result, "hosts");
	cJSON_ArrayForEach(e, entries) {
		cJSON_AddItemToArray(
		    rows, pool_probe_row(e, cJSON_GetArrayItem(answers, i++), error));
	}
	cJSON_Delete(result);
	free(error);
	return rows;
}
