/* host-state.c - a host session's saved forwards and watches: the entry it
 * saves (broker-state.h) whenever they change, and their re-creation in a
 * new broker (host-internal.h). */
#include "host-internal.h"

#include <stdlib.h>
#include <string.h>

#include "broker-state.h"
#include "forward-spec.h"
#include "log.h"
#include "xmalloc.h"

static void
host_state_add_string(cJSON *o, const char *name, const char *value)
{
	if (value != NULL)
		cJSON_AddStringToObject(o, name, value);
}

/* f as a saved forward. */
static cJSON *
host_state_forward(const struct host_forward *f)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "workspace", f->workspace);
	host_state_add_string(o, "config", f->config);
	host_state_add_string(o, "service", f->service);
	cJSON_AddNumberToObject(o, "port", f->port);
	cJSON_AddNumberToObject(o, "local", f->local_port);
	if (f->require_local)
		cJSON_AddBoolToObject(o, "requireLocal", 1);
	host_state_add_string(o, "label", f->label);
	host_state_add_string(o, "onAutoForward", f->auto_action);
	return o;
}

/* a as a saved watch. */
static cJSON *
host_state_auto(const struct host_auto *a)
{
	cJSON *o = cJSON_CreateObject(), *seen;

	cJSON_AddStringToObject(o, "workspace", a->workspace);
	host_state_add_string(o, "config", a->config);
	if (cJSON_IsObject(a->attrs))
		cJSON_AddItemToObject(o, "attributes", cJSON_Duplicate(a->attrs, 1));
	seen = cJSON_AddArrayToObject(o, "seen");
	for (size_t i = 0; i < a->ndone; i++)
		cJSON_AddItemToArray(seen, cJSON_CreateNumber(a->done[i]));
	return o;
}

/* The session's host entry: its parameters, forwards and watches. */
static cJSON *
host_state_entry(struct host_session *h)
{
	cJSON *e = cJSON_CreateObject(), *fw, *au;
	struct host_forward *f;
	struct host_auto *a;

	cJSON_AddStringToObject(e, "host", h->opts.host);
	host_state_add_string(e, "user", h->opts.user);
	if (h->opts.port != 0)
		cJSON_AddNumberToObject(e, "port", h->opts.port);
	host_state_add_string(e, "sshConfig", h->opts.ssh_config_file);
	host_state_add_string(e, "knownHosts", h->opts.known_hosts_file);
	fw = cJSON_AddArrayToObject(e, "forwards");
	LIST_FOREACH(f, &h->forwards, entry) {
		if (!f->gone)
			cJSON_AddItemToArray(fw, host_state_forward(f));
	}
	au = cJSON_AddArrayToObject(e, "autos");
	LIST_FOREACH(a, &h->autos, entry)
		cJSON_AddItemToArray(au, host_state_auto(a));
	return e;
}

void
host_state_save(struct host_session *h)
{
	char *cause = NULL;

	if (h->saved == NULL)
		return;
	if (broker_state_put(h->saved, host_state_entry(h), &cause) != 0) {
		log_warn("%s: saving the forwards: %s", h->label, cause);
		free(cause);
	}
}

/* Keep saved forward e, not re-created for cause, for status. */
static void
host_state_add_error(struct host_session *h, const cJSON *e, const char *cause)
{
	const char *service = host_json_str(e, "service");
	int port = cJSON_GetObjectItemCaseSensitive(e, "port")->valueint;
	int local = cJSON_GetObjectItemCaseSensitive(e, "local")->valueint;
	cJSON *o = cJSON_CreateObject();
	char *spec = forward_spec_string(local, service, port), *error;

	cJSON_AddStringToObject(o, "spec", spec);
	free(spec);
	cJSON_AddNumberToObject(o, "local", local);
	cJSON_AddNumberToObject(o, "port", port);
	if (service != NULL)
		cJSON_AddStringToObject(o, "service", service);
	else
		cJSON_AddNullToObject(o, "service");
	cJSON_AddStringToObject(o, "workspace", host_json_str(e, "workspace"));
	host_state_add_string(o, "label", host_json_str(e, "label"));
	error = xasprintf("not restored: %s", cause);
	cJSON_AddStringToObject(o, "error", error);
	free(error);
	pthread_mutex_lock(&h->lock);
	if (h->restore_errors == NULL)
		h->restore_errors = cJSON_CreateArray();
	cJSON_AddItemToArray(h->restore_errors, o);
	pthread_mutex_unlock(&h->lock);
}

int
host_state_forget_errors(struct host_session *h, const char *ws, int local)
{
	const cJSON *o;
	int i = 0, n = 0;

	pthread_mutex_lock(&h->lock);
	while ((o = cJSON_GetArrayItem(h->restore_errors, i)) != NULL) {
		if ((ws == NULL || strcmp(host_json_str(o, "workspace"), ws) == 0) &&
		    (local == 0 ||
			cJSON_GetObjectItemCaseSensitive(o, "local")->valueint ==
			    local)) {
			cJSON_DeleteItemFromArray(h->restore_errors, i);
			n++;
		} else
			i++;
	}
	pthread_mutex_unlock(&h->lock);
	return n;
}

void
host_state_restore(struct host_session *h)
{
	const cJSON *list, *e, *seen, *p, *attrs;
	struct host_forward *f;
	struct host_auto *a;
	char *cause = NULL;
	int i, failed = 0;

	/* Backwards: each is put at the head of the list, as it was made. */
	list = cJSON_GetObjectItemCaseSensitive(h->restore, "forwards");
	for (i = cJSON_GetArraySize(list) - 1; i >= 0; i--) {
		e = cJSON_GetArrayItem(list, i);
		f = host_forward_make(h, host_json_str(e, "workspace"),
		    host_json_str(e, "config"), host_json_str(e, "service"),
		    cJSON_GetObjectItemCaseSensitive(e, "port")->valueint,
		    cJSON_GetObjectItemCaseSensitive(e, "local")->valueint, 1,
		    host_json_str(e, "label"), &cause);
		if (f == NULL) {
			log_warn("%s: saved forward of %s not restored: %s", h->label,
			    host_json_str(e, "workspace"), cause);
			host_state_add_error(h, e, cause);
			free(cause);
			cause = NULL;
			failed = 1;
			continue;
		}
		f->require_local =
		    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "requireLocal"));
		if (host_json_str(e, "onAutoForward") != NULL && f->auto_action == NULL)
			f->auto_action = xstrdup(host_json_str(e, "onAutoForward"));
	}
	list = cJSON_GetObjectItemCaseSensitive(h->restore, "autos");
	for (i = cJSON_GetArraySize(list) - 1; i >= 0; i--) {
		e = cJSON_GetArrayItem(list, i);
		attrs = cJSON_GetObjectItemCaseSensitive(e, "attributes");
		a = host_auto_add(
		    h, host_json_str(e, "workspace"), host_json_str(e, "config"), attrs);
		seen = cJSON_GetObjectItemCaseSensitive(e, "seen");
		cJSON_ArrayForEach(p, seen)
			host_auto_mark(a, p->valueint);
	}
	log_info("%s: restored %d forwards and %d watches", h->label,
	    cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(h->restore, "forwards")) -
		(h->restore_errors != NULL ? cJSON_GetArraySize(h->restore_errors) : 0),
	    cJSON_GetArraySize(list));
	cJSON_Delete(h->restore);
	h->restore = NULL;
	if (failed)
		host_state_save(h); /* what was left out is not saved again */
}
