/* local-auto.c - auto-forward for the local host (local-internal.h): every
 * second each watched container's relay is asked for its listening ports
 * (an 'L' connection, on the broker's event base, not waited for), and the
 * new ones are forwarded as portsAttributes say (forward_auto_take_listing,
 * shared with the SSH hosts). */
#include "local-internal.h"

#include <sys/socket.h>

#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "clock.h"
#include "json-get.h"
#include "log.h"
#include "xmalloc.h"

#define LOCAL_AUTO_LISTING_MAX (256 * 1024)
#define LOCAL_AUTO_TIMEOUT_S 2

static void
local_auto_listing_end(struct local_auto *a)
{
	if (a->listing != NULL) {
		bufferevent_free(a->listing);
		a->listing = NULL;
	}
}

static void
local_auto_free(struct local_auto *a)
{
	local_auto_listing_end(a);
	local_forward_free(a->relay);
	forward_auto_clear(&a->fa);
	free(a);
}

static int
local_auto_exists(void *arg, int port)
{
	struct local_auto *a = arg;
	struct local_forward *f;

	LIST_FOREACH(f, &a->lh->forwards, entry) {
		if (forward_same(&f->fw, a->fa.workspace, NULL, port))
			return 1;
	}
	return 0;
}

static void
local_auto_forward(void *arg, const struct forward_auto_port *p)
{
	struct local_auto *a = arg;
	struct forward_spec s;
	struct forward *fw;
	char *cause = NULL;

	memset(&s, 0, sizeof s);
	s.port = p->port;
	s.label = (char *)p->label;
	s.require_local = p->require_local;
	fw = local_forward_make(
	    a->lh, a->fa.workspace, a->fa.config, &s, p->require_local, &cause);
	if (fw == NULL) {
		log_warn("%s: auto-forward: %s", LOCAL_HOST_LABEL, cause);
		free(cause);
		return;
	}
	free(fw->auto_action);
	fw->auto_action = xstrdup(p->action);
	forward_take_fields_of(fw, &a->relay->fw, NULL);
	fw->require_local = p->require_local;
	log_info("%s: auto-forwarded 127.0.0.1:%d -> container port %d (%s)",
	    LOCAL_HOST_LABEL, fw->local_port, p->port, p->action);
}

/* The listing ended (EOF: complete) or failed. */
static void
local_auto_on_event(struct bufferevent *bev, short what, void *arg)
{
	struct local_auto *a = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t len = evbuffer_get_length(in);
	char *list;
	int rc;

	if ((what & BEV_EVENT_CONNECTED) != 0) {
		bufferevent_enable(bev, EV_READ);
		return;
	}
	if ((what & BEV_EVENT_EOF) == 0 || (what & BEV_EVENT_ERROR) != 0) {
		/* refused, reset or timed out: a restarted container? Ask again. */
		log_info("%s: auto-forward %s: the relay did not list its ports",
		    LOCAL_HOST_LABEL, a->fa.workspace);
		a->relay->fw.have_target = 0;
		local_auto_listing_end(a);
		return;
	}
	list = xmalloc(len + 1);
	evbuffer_remove(in, list, len);
	list[len] = '\0';
	local_auto_listing_end(a);
	rc = forward_auto_take_listing(
	    &a->fa, list, LOCAL_HOST_LABEL, local_auto_exists, local_auto_forward, a);
	if (rc == FORWARD_AUTO_NOT_LISTING)
		forward_not_relay(&a->relay->fw, NULL, a->listing_port);
	else if (rc)
		local_host_save(a->lh);
	free(list);
}

static void
local_auto_on_read(struct bufferevent *bev, void *arg)
{
	(void)arg;
	if (evbuffer_get_length(bufferevent_get_input(bev)) > LOCAL_AUTO_LISTING_MAX)
		bufferevent_disable(bev, EV_READ); /* the timeout ends it */
}

/* Ask a's relay for its listing, unless one is in flight (or its target
 * is being asked for). */
static void
local_auto_list(struct local_auto *a)
{
	struct timeval timeout = { LOCAL_AUTO_TIMEOUT_S, 0 };
	unsigned char hdr[FORWARD_RELAY_HEADER_MAX];
	struct forward *fw = &a->relay->fw;
	struct sockaddr_storage ss;
	int len;

	if (a->listing != NULL)
		return;
	if (!fw->have_target) {
		local_forward_resolve(a->relay); /* the next tick lists */
		return;
	}
	if (local_link_addr(fw->address, fw->target_port, &ss, &len) != 0) {
		fw->have_target = 0;
		return;
	}
	a->listing_port = fw->target_port;
	a->listing = bufferevent_socket_new(a->lh->base, -1, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(a->listing, local_auto_on_read, NULL, local_auto_on_event, a);
	bufferevent_set_timeouts(a->listing, &timeout, &timeout);
	bufferevent_write(a->listing, hdr, forward_relay_header(fw->token, 'L', 0, hdr));
	if (bufferevent_socket_connect(a->listing, (struct sockaddr *)&ss, len) != 0 &&
	    a->listing != NULL)
		local_auto_on_event(a->listing, BEV_EVENT_ERROR, a);
}

static void
local_auto_on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct local_host *lh = arg;
	struct local_auto *a;

	(void)fd;
	(void)what;
	LIST_FOREACH(a, &lh->autos, entry)
		local_auto_list(a);
}

struct local_auto *
local_auto_add(struct local_host *lh, const char *ws, const char *config,
    const cJSON *attrs, const cJSON *from)
{
	struct timeval second = { 1, 0 };
	struct local_auto *a;

	LIST_FOREACH(a, &lh->autos, entry) {
		if (strcmp(a->fa.workspace, ws) == 0) {
			/* (it now lists the request's container) */
			forward_auto_take_request(&a->fa, &a->relay->fw, from);
			return a;
		}
	}
	a = xcalloc(1, sizeof *a);
	a->lh = lh;
	forward_auto_init(&a->fa, ws, config, attrs);
	a->relay = xcalloc(1, sizeof *a->relay);
	a->relay->lh = lh;
	forward_init(&a->relay->fw, ws, config);
	forward_auto_take_request(&a->fa, &a->relay->fw, from);
	LIST_INSERT_HEAD(&lh->autos, a, entry);
	if (lh->auto_ev == NULL) {
		lh->auto_ev = event_new(lh->base, -1, EV_PERSIST, local_auto_on_tick, lh);
		if (lh->auto_ev == NULL || event_add(lh->auto_ev, &second) != 0)
			fatal(
			    "%s: cannot start the auto-forward timer", LOCAL_HOST_LABEL);
	}
	local_forward_resolve(a->relay); /* the relay is started now */
	log_info("%s: watching %s for new ports", LOCAL_HOST_LABEL, ws);
	return a;
}

/* Bring a's auto-forwards of was (the container it followed before the
 * request now taken) up to date: moved (moved) to the one it follows now,
 * each with a warning, or given its new attributes; one whose port the
 * new attributes say to ignore is stopped. */
static void
local_auto_move(struct local_auto *a, const struct forward_key *was, int moved)
{
	struct local_forward *f;
	int rc;

	LIST_FOREACH(f, &a->lh->forwards, entry) {
		if (!forward_auto_follows(was, &f->fw))
			continue;
		rc = forward_auto_move(&a->fa, &a->relay->fw, &f->fw);
		forward_auto_move_warn(
		    LOCAL_HOST_LABEL, &f->fw, a->fa.workspace, moved, rc);
		if (rc < 0)
			local_forward_stop(f);
	}
}

void
local_auto_request(struct local_host *lh, const cJSON *req, const cJSON *attrs)
{
	const char *ws = json_get_string(req, "workspace");
	struct forward_key was;
	struct local_auto *a;
	int moved;

	LIST_FOREACH(a, &lh->autos, entry) {
		if (strcmp(a->fa.workspace, ws) == 0)
			break;
	}
	if (a == NULL) {
		local_auto_add(lh, ws, json_get_string(req, "config"), attrs, req);
		return;
	}
	moved = forward_auto_retarget(&a->fa, &a->relay->fw, req, attrs, &was);
	/* the old container's listing in flight would be taken as the new
	 * one's (its ports seen, forwarded there) */
	if (moved)
		local_auto_listing_end(a);
	local_auto_move(a, &was, moved);
	forward_key_clear(&was);
	if (moved)
		local_forward_resolve(a->relay); /* (the new container's relay) */
}

void
local_auto_remove(struct local_host *lh, const char *ws)
{
	struct local_auto *a, *next;

	for (a = LIST_FIRST(&lh->autos); a != NULL; a = next) {
		next = LIST_NEXT(a, entry);
		if (ws == NULL || strcmp(a->fa.workspace, ws) == 0) {
			LIST_REMOVE(a, entry);
			local_auto_free(a);
		}
	}
	if (LIST_EMPTY(&lh->autos) && lh->auto_ev != NULL) {
		event_free(lh->auto_ev);
		lh->auto_ev = NULL;
	}
}

void
local_auto_save(struct local_host *lh, cJSON *list)
{
	struct local_auto *a;

	LIST_FOREACH(a, &lh->autos, entry)
		cJSON_AddItemToArray(
		    list, forward_auto_saved_json(&a->fa, &a->relay->fw));
}

void
local_auto_restore(struct local_host *lh, const cJSON *list)
{
	const cJSON *e, *ws, *config;
	struct local_auto *a;

	cJSON_ArrayForEach(e, list) {
		ws = cJSON_GetObjectItemCaseSensitive(e, "workspace");
		config = cJSON_GetObjectItemCaseSensitive(e, "config");
		if (!cJSON_IsString(ws))
			continue;
		a = local_auto_add(lh, ws->valuestring,
		    cJSON_IsString(config) ? config->valuestring : NULL,
		    cJSON_GetObjectItemCaseSensitive(e, "attributes"), e);
		forward_auto_restore_seen(&a->fa, e);
	}
}
