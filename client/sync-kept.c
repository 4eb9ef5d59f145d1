/* sync-kept.c - the broker's sync of a HOST: SOURCE target's local folder
 * (client.h; broker/broker-sync.h does the work): the "sync-start",
 * "sync-stop" and "sync-status" requests. */
#include "client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pool-file.h"
#include "quote.h"
#include "remote.h"
#include "sync-scan.h"
#include "xmalloc.h"

/* {"name":N} plus what names the sync on the broker's side. New. */
static cJSON *
sync_kept_fields(struct client_target *ct)
{
	cJSON *f = cJSON_CreateObject();

	cJSON_AddStringToObject(f, "name", ct->src.name);
	return f;
}

int
sync_kept_start(struct client_target *ct, unsigned scan_flags, char **cause)
{
	cJSON *f = sync_kept_fields(ct), *res = NULL;
	int rc;

	cJSON_AddStringToObject(f, "path", ct->src.path);
	cJSON_AddNumberToObject(f, "flags", scan_flags);
	cJSON_AddStringToObject(f, "label", remote_host(ct->remote));
	rc = remote_broker_call(ct->remote, "sync-start", f, &res, cause);
	cJSON_Delete(res);
	return rc;
}

int
sync_kept_stop_name(struct remote *r, const char *name, char **cause)
{
	cJSON *f = cJSON_CreateObject(), *res = NULL;
	int rc;

	cJSON_AddStringToObject(f, "name", name);
	if (remote_broker_call(r, "sync-stop", f, &res, cause) != 0)
		return -1;
	rc = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(res, "stopped"));
	cJSON_Delete(res);
	return rc;
}

int
sync_kept_stop(struct client_target *ct, char **cause)
{
	return sync_kept_stop_name(ct->remote, ct->src.name, cause);
}

char *
sync_kept_stop_pool_others(struct client_target *ct)
{
	cJSON *all, *members;
	const cJSON *e;
	struct remote *r;
	char *cause = NULL, *stopped = NULL;
	const char *name;

	if (ct->pool_host == NULL || (all = pool_load(&cause)) == NULL) {
		free(cause);
		return NULL;
	}
	members = pool_members(all, ct->pool_name);
	cJSON_ArrayForEach(e, members) {
		name = pool_entry_name(e);
		if (strcmp(name, ct->pool_host) == 0 ||
		    (r = client_pool_remote(name, &cause)) == NULL) {
			free(cause);
			cause = NULL;
			continue;
		}
		if (sync_kept_stop_name(r, ct->src.name, &cause) == 1 && stopped == NULL)
			stopped = xstrdup(name);
		free(cause);
		cause = NULL;
		remote_free(r);
	}
	cJSON_Delete(members);
	cJSON_Delete(all);
	return stopped;
}

cJSON *
sync_kept_status(struct client_target *ct)
{
	cJSON *res = NULL, *st;
	char *cause = NULL;

	if (ct->remote == NULL || ct->src.kind != SOURCE_LOCAL ||
	    remote_broker_call(
		ct->remote, "sync-status", sync_kept_fields(ct), &res, &cause) != 0) {
		free(cause);
		return cJSON_CreateNull();
	}
	st = cJSON_DetachItemFromObjectCaseSensitive(res, "sync");
	cJSON_Delete(res);
	return st != NULL ? st : cJSON_CreateNull();
}

static double
sync_kept_number(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* "s" when n things are more (or fewer) than one: "1 file", "2 files". */
static const char *
sync_kept_plural(double n)
{
	return n == 1 ? "" : "s";
}

void
sync_kept_print(FILE *out, const cJSON *st)
{
	const char *state =
	    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(st, "state"));
	const char *path =
	    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(st, "path"));
	const char *last =
	    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(st, "lastChange"));
	const char *err =
	    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(st, "lastError"));
	const char *host_last =
	    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(st, "lastHostChanged"));
	const char *conflict =
	    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(st, "lastConflict"));
	const char *kept_last =
	    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(st, "lastHostKept"));

	struct quote_kept k = { 0 };

	if (!cJSON_IsObject(st))
		return;
	/* (the folder's and its files' names: quoted when they hold a line
	 * break, quote_shown()) */
	fprintf(out, "sync        %s %s (kept by the broker)\n",
	    state != NULL ? state : "?", path != NULL ? quote_shown(&k, path) : "?");
	fprintf(out,
	    "  sent      %.0f file%s (%.0f byte%s), %.0f deleted, in %.0f batch%s\n",
	    sync_kept_number(st, "sent"), sync_kept_plural(sync_kept_number(st, "sent")),
	    sync_kept_number(st, "sentBytes"),
	    sync_kept_plural(sync_kept_number(st, "sentBytes")),
	    sync_kept_number(st, "deleted"), sync_kept_number(st, "batches"),
	    sync_kept_number(st, "batches") == 1 ? "" : "es");
	fprintf(out, "  last      %s\n", last != NULL ? last : "no change yet");
	if (sync_kept_number(st, "hostChanged") > 0)
		fprintf(out,
		    "  replaced  %.0f file%s changed on the host (the last: %s)\n",
		    sync_kept_number(st, "hostChanged"),
		    sync_kept_plural(sync_kept_number(st, "hostChanged")),
		    host_last != NULL ? quote_shown(&k, host_last) : "?");
	if (sync_kept_number(st, "hostKept") > 0)
		fprintf(out,
		    "  kept      %.0f entr%s deleted here, changed on the host (the "
		    "last: %s)\n",
		    sync_kept_number(st, "hostKept"),
		    sync_kept_number(st, "hostKept") == 1 ? "y" : "ies",
		    kept_last != NULL ? quote_shown(&k, kept_last) : "?");
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(st, "twoWay")))
		fprintf(out, "  back      %.0f file%s from the host, %.0f deleted here\n",
		    sync_kept_number(st, "pulled"),
		    sync_kept_plural(sync_kept_number(st, "pulled")),
		    sync_kept_number(st, "removedHere"));
	if (sync_kept_number(st, "conflicts") > 0)
		fprintf(out, "  conflicts %.0f (the last: %s)\n",
		    sync_kept_number(st, "conflicts"),
		    conflict != NULL ? quote_shown(&k, conflict) : "?");
	if (err != NULL)
		fprintf(out, "  error     %s\n", quote_shown(&k, err));
	quote_kept_free(&k);
}
