/* broker-sync-state.c - the live syncs saved, and resumed by a new broker
 * (broker-sync-internal.h). */
#include "broker-sync-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic-file.h"
#include "log.h"

void
broker_syncs_save(struct broker_syncs *ss)
{
	cJSON *o = cJSON_CreateObject(), *a, *e;
	struct broker_sync *s;
	char *text, *cause = NULL;

	cJSON_AddNumberToObject(o, "version", 1);
	a = cJSON_AddArrayToObject(o, "syncs");
	LIST_FOREACH(s, &ss->syncs, entry) {
		e = cJSON_CreateObject();
		cJSON_AddItemToObject(e, "host", cJSON_Duplicate(s->host, 1));
		cJSON_AddStringToObject(e, "path", s->path);
		cJSON_AddStringToObject(e, "name", s->name);
		cJSON_AddNumberToObject(e, "flags", s->flags);
		cJSON_AddStringToObject(e, "label", s->label);
		cJSON_AddItemToArray(a, e);
	}
	if (cJSON_GetArraySize(a) == 0) {
		if (unlink(ss->state_path) != 0 && errno != ENOENT)
			log_warn("%s: %s", ss->state_path, strerror(errno));
		cJSON_Delete(o);
		return;
	}
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (atomic_file_write(ss->state_path, text, strlen(text), 0600, &cause) != 0) {
		log_warn("%s", cause);
		free(cause);
	}
	free(text);
}

void
broker_syncs_restore(struct broker_syncs *ss)
{
	char *text = NULL, *cause = NULL;
	struct broker_sync *s;
	const cJSON *e, *h;
	cJSON *o, *req;
	size_t len;

	if (file_read_all(ss->state_path, 16u << 20, &text, &len, &cause) != 0) {
		free(cause); /* (none saved) */
		return;
	}
	o = cJSON_ParseWithLength(text, len);
	free(text);
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(o, "syncs")) {
		/* (a request again: the host's members, then the sync's) */
		h = cJSON_GetObjectItemCaseSensitive(e, "host");
		req = cJSON_IsObject(h) ? cJSON_Duplicate(h, 1) : cJSON_CreateObject();
		for (const cJSON *m = e->child; m != NULL; m = m->next)
			if (strcmp(m->string, "host") != 0)
				cJSON_AddItemToObject(
				    req, m->string, cJSON_Duplicate(m, 1));
		if (broker_sync_new(ss, req, 1, &s, &cause) != 0) {
			log_warn("saved sync not resumed: %s", cause);
			free(cause);
			cause = NULL;
		} else
			broker_sync_add(ss, s);
		cJSON_Delete(req);
	}
	if (o == NULL)
		log_warn("%s: not JSON: ignored", ss->state_path);
	cJSON_Delete(o);
}

void
broker_syncs_forget(struct broker_syncs *ss)
{
	if (unlink(ss->state_path) != 0 && errno != ENOENT)
		log_warn("%s: %s", ss->state_path, strerror(errno));
}
