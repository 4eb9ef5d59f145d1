/* broker-sync-status.c - the status JSON of the live syncs (broker-sync-internal.h). */
#include "broker-sync-internal.h"

#include <stdlib.h>
#include <string.h>

const char *
broker_sync_state_name(enum broker_sync_state st)
{
	switch (st) {
	case BROKER_SYNC_SENDING: return "sending";
	case BROKER_SYNC_WATCHING: return "watching";
	case BROKER_SYNC_QUEUED: return "queued";
	case BROKER_SYNC_AWAY: return "away";
	case BROKER_SYNC_ERROR: return "error";
	}
	return "?";
}

static cJSON *
broker_sync_json(const struct broker_sync *s)
{
	cJSON *o = cJSON_CreateObject();
	char when[32];
	struct tm tm;

	cJSON_AddStringToObject(o, "host", s->label);
	cJSON_AddStringToObject(o, "path", s->path);
	cJSON_AddStringToObject(o, "name", s->name);
	cJSON_AddStringToObject(o, "state", broker_sync_state_name(s->state));
	/* (the scan state is the batch's thread's while it runs, and the
	 * watch too while it sets it up) */
	if (!s->working || !s->job.setup)
		cJSON_AddNumberToObject(
		    o, "folders", s->w != NULL ? (double)sync_watch_count(s->w) : 0);
	if (!s->working)
		cJSON_AddNumberToObject(o, "files", (double)s->sent->n);
	cJSON_AddNumberToObject(o, "sent", (double)s->files_sent);
	cJSON_AddNumberToObject(o, "sentBytes", (double)s->bytes_sent);
	cJSON_AddNumberToObject(o, "deleted", (double)s->deleted);
	cJSON_AddNumberToObject(o, "batches", (double)s->batches);
	cJSON_AddNumberToObject(o, "hostChanged", (double)s->host_changed);
	if (s->host_changed_last != NULL)
		cJSON_AddStringToObject(o, "lastHostChanged", s->host_changed_last);
	else
		cJSON_AddNullToObject(o, "lastHostChanged");
	cJSON_AddNumberToObject(o, "hostKept", (double)s->host_kept);
	if (s->host_kept_last != NULL)
		cJSON_AddStringToObject(o, "lastHostKept", s->host_kept_last);
	else
		cJSON_AddNullToObject(o, "lastHostKept");
	cJSON_AddBoolToObject(o, "twoWay", (s->flags & SYNC_SCAN_TWO_WAY) != 0);
	if (s->flags & SYNC_SCAN_TWO_WAY) {
		cJSON_AddNumberToObject(o, "pulled", (double)s->pulled);
		cJSON_AddNumberToObject(o, "removedHere", (double)s->removed);
		cJSON_AddNumberToObject(o, "conflicts", (double)s->conflicts);
		if (s->conflict_last != NULL)
			cJSON_AddStringToObject(o, "lastConflict", s->conflict_last);
		else
			cJSON_AddNullToObject(o, "lastConflict");
	}
	if (s->last_change != 0 && gmtime_r(&s->last_change, &tm) != NULL &&
	    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm) > 0)
		cJSON_AddStringToObject(o, "lastChange", when);
	else
		cJSON_AddNullToObject(o, "lastChange");
	if (s->error != NULL)
		cJSON_AddStringToObject(o, "lastError", s->error);
	else
		cJSON_AddNullToObject(o, "lastError");
	return o;
}

cJSON *
broker_syncs_status(struct broker_syncs *ss, const cJSON *req)
{
	struct broker_sync *s;
	cJSON *o;
	char *key;

	if (req == NULL) {
		o = cJSON_CreateArray();
		LIST_FOREACH(s, &ss->syncs, entry)
			cJSON_AddItemToArray(o, broker_sync_json(s));
		return o;
	}
	key = broker_sync_key(req);
	s = broker_sync_find(ss, key);
	free(key);
	return s != NULL ? broker_sync_json(s) : cJSON_CreateNull();
}
