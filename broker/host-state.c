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

cJSON *
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
		if (!f->fw.gone)
			cJSON_AddItemToArray(fw, forward_saved_json(&f->fw));
	}
	au = cJSON_AddArrayToObject(e, "autos");
	LIST_FOREACH(a, &h->autos, entry)
		cJSON_AddItemToArray(au, forward_auto_saved_json(&a->fa, &a->relay->fw));
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

int
host_state_forget_errors(struct host_session *h, const char *ws, int local)
{
	int n;

	pthread_mutex_lock(&h->lock);
	n = forward_errors_forget(h->restore_errors, ws, local);
	pthread_mutex_unlock(&h->lock);
	return n;
}

void
host_state_restore(struct host_session *h)
{
	const cJSON *list, *e, *attrs;
	struct host_auto *a;
	cJSON *errors = NULL;
	int i, failed;

	failed = forward_restore(cJSON_GetObjectItemCaseSensitive(h->restore, "forwards"),
	    h->label, host_forward_make_fn, h, &h->lock, &errors);
	pthread_mutex_lock(&h->lock); /* status reads them */
	h->restore_errors = errors;
	pthread_mutex_unlock(&h->lock);
	list = cJSON_GetObjectItemCaseSensitive(h->restore, "autos");
	for (i = cJSON_GetArraySize(list) - 1; i >= 0; i--) {
		e = cJSON_GetArrayItem(list, i);
		attrs = cJSON_GetObjectItemCaseSensitive(e, "attributes");
		a = host_auto_add(h, json_get_string(e, "workspace"),
		    json_get_string(e, "config"), attrs);
		forward_auto_take_request(&a->fa, &a->relay->fw, e);
		forward_auto_restore_seen(&a->fa, e);
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
