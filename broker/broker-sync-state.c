/* broker-sync-state.c - the live syncs saved, and resumed by a new broker
 * (broker-sync-internal.h). */
#include "broker-sync-internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "atomic-file.h"
#include "json-get.h"
#include "log.h"
#include "sync-scan.h"
#include "xmalloc.h"

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

	/* (a broker killed while it wrote one: no other writes them now) */
	broker_sync_sent_sweep(ss, 0);
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
	struct broker_sync *s;

	if (unlink(ss->state_path) != 0 && errno != ENOENT)
		log_warn("%s: %s", ss->state_path, strerror(errno));
	/* (and again as each is freed, after its batch) */
	LIST_FOREACH(s, &ss->syncs, entry)
		s->forget_sent = 1;
	LIST_FOREACH(s, &ss->dying, entry)
		s->forget_sent = 1;
	broker_sync_sent_sweep(ss, 1);
}

void
broker_sync_sent_sweep(const struct broker_syncs *ss, int all)
{
	const char *slash = strrchr(ss->state_path, '/');
	char *dir = slash == NULL
	    ? xstrdup(".")
	    : xasprintf("%.*s", (int)(slash - ss->state_path), ss->state_path);
	struct dirent *de;
	DIR *d = opendir(dir);

	if (d == NULL) {
		if (errno != ENOENT)
			log_warn("%s: %s", dir, strerror(errno));
		free(dir);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "sync-sent-", 10) != 0 ||
		    (!all && strstr(de->d_name, ".json.tmp.") == NULL))
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) != 0 && errno != ENOENT)
			log_warn("%s/%s: %s", dir, de->d_name, strerror(errno));
	}
	closedir(d);
	free(dir);
}

/* The file of s's sent state: STATE_DIR/sync-sent-HASH.json, HASH of its
 * key (the host and the workspace). New. */
static char *
broker_sync_sent_path(const struct broker_sync *s)
{
	unsigned char h[16];
	char hex[sizeof h * 2 + 1];
	const char *slash = strrchr(s->ss->state_path, '/');
	int dirlen = slash == NULL ? 1 : (int)(slash - s->ss->state_path);

	crypto_generichash(
	    h, sizeof h, (const unsigned char *)s->key, strlen(s->key), NULL, 0);
	sodium_bin2hex(hex, sizeof hex, h, sizeof h);
	return xasprintf("%.*s/sync-sent-%s.json", dirlen,
	    slash == NULL ? "." : s->ss->state_path, hex);
}

int
broker_sync_sent_save(const struct broker_sync *s)
{
	struct sync_scan agreed = { 0 };
	char *path = broker_sync_sent_path(s), *text, *cause = NULL;
	int rc = 0;
	cJSON *o;

	/* (a stale one would mislead; without the host index's name, one
	 * could not be checked against it: see sync_back_pull's index_id) */
	if (s->sent->n > BROKER_SYNC_SENT_MAX || s->pull.index_id == NULL) {
		broker_sync_sent_forget(s);
		free(path);
		return 0;
	}
	/* (what could not land is not agreed: left out, a conflict when
	 * the host changed it) */
	agreed.v = xcalloc(s->sent->n + 1, sizeof *agreed.v);
	for (size_t i = 0; i < s->sent->n; i++) {
		const char *p = s->sent->v[i].path;

		if (s->nretry == 0 ||
		    bsearch(&p, s->retry, s->nretry, sizeof *s->retry, sync_path_cmp) ==
			NULL)
			agreed.v[agreed.n++] = s->sent->v[i]; /* (borrowed) */
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "key", s->key);
	cJSON_AddStringToObject(o, "index", s->pull.index_id);
	cJSON_AddItemToObject(o, "sent", sync_scan_manifest(&agreed, 1));
	free(agreed.v);
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (strlen(text) > BROKER_SYNC_SENT_MAX_BYTES) {
		/* (the load reads no more: one that could not be read back
		 * would mislead as a stale one would) */
		broker_sync_sent_forget(s);
	} else if (atomic_file_write(path, text, strlen(text), 0600, &cause) != 0) {
		log_warn("sync %s -> %s: %s", s->path, s->label, cause);
		free(cause);
		rc = -1;
	}
	free(text);
	free(path);
	return rc;
}

void
broker_sync_sent_load(struct broker_sync *s)
{
	char *path = broker_sync_sent_path(s), *text = NULL, *cause = NULL;
	struct sync_scan *sent = NULL;
	const char *key, *index;
	struct stat sb;
	size_t len;
	cJSON *o;

	if (file_read_all(path, BROKER_SYNC_SENT_MAX_BYTES, &text, &len, &cause) != 0) {
		/* (none: every host change a conflict; told unless there is
		 * none, e.g. too large, EACCES, EISDIR) */
		if (stat(path, &sb) == 0 || errno != ENOENT)
			log_warn("sync %s -> %s: %s: every host change a conflict",
			    s->path, s->label, cause);
		free(cause);
		free(path);
		return;
	}
	o = cJSON_ParseWithLength(text, len);
	key = json_get_string(o, "key");
	index = json_get_string(o, "index");
	if (key == NULL || strcmp(key, s->key) != 0 || index == NULL ||
	    sync_scan_from_manifest(
		cJSON_GetObjectItemCaseSensitive(o, "sent"), &sent, &cause) != 0) {
		log_warn("sync %s -> %s: %s: not read (%s): every host change a "
			 "conflict",
		    s->path, s->label, path, cause != NULL ? cause : "damaged");
		free(cause);
	} else {
		sync_scan_free(s->sent);
		s->sent = sent;
		/* (the first pull checks the host's index is this one) */
		free(s->pull.index_id);
		s->pull.index_id = xstrdup(index);
	}
	cJSON_Delete(o);
	free(text);
	free(path);
}

void
broker_sync_sent_forget(const struct broker_sync *s)
{
	char *path = broker_sync_sent_path(s);

	if (unlink(path) != 0 && errno != ENOENT)
		log_warn("%s: %s", path, strerror(errno));
	free(path);
}
