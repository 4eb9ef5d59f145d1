/* host-auto.c - auto-forward: new listening ports in a watched container
 * are forwarded as its portsAttributes say (host-internal.h). */
#include "host-internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "clock.h"
#include "forward.h"
#include "log.h"
#include "xmalloc.h"

static void
host_auto_free(struct host_auto *a)
{
	free(a->workspace);
	free(a->config);
	cJSON_Delete(a->attrs);
	host_forward_free(a->relay);
	free(a->done);
	free(a);
}

struct host_auto *
host_auto_add(
    struct host_session *h, const char *ws, const char *config, const cJSON *attrs)
{
	struct host_auto *a;

	LIST_FOREACH(a, &h->autos, entry) {
		if (strcmp(a->workspace, ws) == 0)
			return a;
	}
	a = xcalloc(1, sizeof *a);
	a->workspace = xstrdup(ws);
	a->config = config != NULL ? xstrdup(config) : NULL;
	a->attrs = cJSON_Duplicate(attrs, 1);
	a->relay = xcalloc(1, sizeof *a->relay);
	forward_init(&a->relay->fw, ws, config);
	LIST_INSERT_HEAD(&h->autos, a, entry);
	log_info("%s: watching %s for new ports", h->label, ws);
	return a;
}

static int
host_auto_done(struct host_auto *a, int port)
{
	for (size_t i = 0; i < a->ndone; i++) {
		if (a->done[i] == port)
			return 1;
	}
	return 0;
}

void
host_auto_mark(struct host_auto *a, int port)
{
	a->done = xreallocarray(a->done, a->ndone + 1, sizeof *a->done);
	a->done[a->ndone++] = port;
}

/* Ask the relay for its listing ("PORT ADDRESS" lines); a new string. */
static char *
host_auto_listing(struct host_session *h, struct host_auto *a)
{
	unsigned char hdr[FORWARD_RELAY_HEADER_MAX], tmp[4096];
	struct buf *b;
	ssh_channel ch;
	size_t len;
	char *out;
	int n;

	if (!a->relay->fw.have_target) {
		/* asked without waiting: the next tick lists */
		host_forward_resolve_start(h, a->relay);
		return NULL;
	}
	ch = host_open_forward(h, a->relay->fw.address, a->relay->fw.target_port, 0);
	if (ch == NULL) {
		a->relay->fw.have_target = 0; /* restarted container: ask again */
		return NULL;
	}
	len = forward_relay_header(a->relay->fw.token, 'L', 0, hdr);
	b = buf_new();
	if (ssh_channel_write(ch, hdr, (uint32_t)len) == (int)len) {
		while ((n = ssh_channel_read_timeout(ch, tmp, sizeof tmp, 0, 2000)) > 0)
			buf_append(b, tmp, (size_t)n);
	}
	ssh_channel_close(ch);
	ssh_channel_free(ch);
	out = buf_take_string(b, NULL);
	buf_free(b);
	return out;
}

static void
host_auto_scan(struct host_session *h, struct host_auto *a)
{
	const cJSON *attrs, *v;
	struct host_forward *f;
	char *list, *line, *save = NULL, *cause = NULL;
	const char *action, *label;
	int port, changed = 0;

	if ((list = host_auto_listing(h, a)) == NULL)
		return;
	for (line = strtok_r(list, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "%d", &port) != 1 || port < 1 || port > 65535 ||
		    host_auto_done(a, port))
			continue;
		LIST_FOREACH(f, &h->forwards, entry) {
			if (forward_same(&f->fw, a->workspace, NULL, port))
				break;
		}
		host_auto_mark(a, port);
		changed = 1;
		if (f != NULL)
			continue; /* forwarded already (forwardPorts, rdev forward) */
		attrs = forward_port_attributes(
		    cJSON_GetObjectItemCaseSensitive(a->attrs, "portsAttributes"),
		    cJSON_GetObjectItemCaseSensitive(a->attrs, "otherPortsAttributes"),
		    port);
		v = cJSON_GetObjectItemCaseSensitive(attrs, "onAutoForward");
		action = cJSON_IsString(v) ? v->valuestring : "notify";
		if (strcmp(action, "ignore") == 0) {
			log_info("%s: port %d of %s: onAutoForward is ignore", h->label,
			    port, a->workspace);
			continue;
		}
		v = cJSON_GetObjectItemCaseSensitive(attrs, "label");
		label = cJSON_IsString(v) ? v->valuestring : NULL;
		f = host_forward_make(h, a->workspace, a->config, NULL, port, 0,
		    cJSON_IsTrue(
			cJSON_GetObjectItemCaseSensitive(attrs, "requireLocalPort")),
		    label, &cause);
		if (f == NULL) {
			log_warn("%s: auto-forward: %s", h->label, cause);
			free(cause);
			cause = NULL;
			continue;
		}
		f->fw.auto_action = xstrdup(action);
		forward_set_id_labels(&f->fw, a->relay->fw.id_labels);
		f->fw.require_local = cJSON_IsTrue(
		    cJSON_GetObjectItemCaseSensitive(attrs, "requireLocalPort"));
		log_info("%s: auto-forwarded 127.0.0.1:%d -> container port %d (%s)",
		    h->label, f->fw.local_port, port, action);
	}
	free(list);
	if (changed)
		host_state_save(h);
}

/* Scan the watched workspaces that are due. */
void
host_auto_tick(struct host_session *h)
{
	long long now = clock_now_ms();
	struct host_auto *a;

	LIST_FOREACH(a, &h->autos, entry) {
		if (now < a->next_ms)
			continue;
		host_auto_scan(h, a);
		a->next_ms = clock_now_ms() + 1000;
	}
}

/* Stop watching ws (NULL: all). */
void
host_auto_remove(struct host_session *h, const char *ws)
{
	struct host_auto *a, *next;

	for (a = LIST_FIRST(&h->autos); a != NULL; a = next) {
		next = LIST_NEXT(a, entry);
		if (ws == NULL || strcmp(a->workspace, ws) == 0) {
			LIST_REMOVE(a, entry);
			host_auto_free(a);
		}
	}
}
