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
	forward_auto_clear(&a->fa);
	host_forward_free(a->relay);
	free(a);
}

struct host_auto *
host_auto_add(
    struct host_session *h, const char *ws, const char *config, const cJSON *attrs)
{
	struct host_auto *a;

	LIST_FOREACH(a, &h->autos, entry) {
		if (strcmp(a->fa.workspace, ws) == 0)
			return a;
	}
	a = xcalloc(1, sizeof *a);
	forward_auto_init(&a->fa, ws, config, attrs);
	a->relay = xcalloc(1, sizeof *a->relay);
	forward_init(&a->relay->fw, ws, config);
	LIST_INSERT_HEAD(&h->autos, a, entry);
	log_info("%s: watching %s for new ports", h->label, ws);
	return a;
}

/* What a listing over a stream gathers (host_mux_data_fn's arg). */
struct host_auto_gather {
	struct buf *b;
	struct host_mux_chan *mx;
	int eof;
};

static size_t
host_auto_gather_data(void *arg, const unsigned char *data, size_t len)
{
	struct host_auto_gather *g = arg;

	if (buf_len(g->b) < 65536) /* (a listing is a few lines) */
		buf_append(g->b, data, len);
	host_mux_consumed(g->mx, len);
	return len;
}

static void
host_auto_gather_eof(void *arg)
{
	((struct host_auto_gather *)arg)->eof = 1;
}

/* The relay's listing through a stream of the agent session (TCP
 * forwarding is off): as a channel's read, it waits (up to 2 s), serving
 * the session's other streams' bytes meanwhile. A new string, or NULL. */
static char *
host_auto_listing_mux(
    struct host_session *h, struct host_auto *a, const unsigned char *hdr, size_t len)
{
	struct host_auto_gather g = { buf_new(), NULL, 0 };
	long long deadline = clock_now_ms() + 2000;
	int sent = 0;
	char *out;

	if (h->agent_state != HOST_AGENT_LISTENING) {
		buf_free(g.b);
		return NULL; /* the next tick, once it listens */
	}
	g.mx = host_mux_open(
	    h, "tcp", a->relay->fw.address, a->relay->fw.target_port, 65536);
	host_mux_set_owner(g.mx, host_auto_gather_data, host_auto_gather_eof, &g);
	while (!g.eof && g.mx->state != HOST_MUX_FAILED && clock_now_ms() < deadline &&
	    h->ev != NULL) {
		if (!sent && g.mx->state == HOST_MUX_OPEN &&
		    host_mux_write(g.mx, hdr, len) == len)
			sent = 1;
		host_mux_step(h);
		if (g.eof)
			break;
		ssh_event_dopoll(h->ev, 50);
	}
	if (g.mx->state == HOST_MUX_FAILED && !sent)
		a->relay->fw.have_target = 0; /* restarted container: ask again */
	host_mux_close(g.mx);
	out = g.eof && sent ? buf_take_string(g.b, NULL) : NULL;
	buf_free(g.b);
	return out;
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
	len = forward_relay_header(a->relay->fw.token, 'L', 0, hdr);
	if (h->tcp_denied)
		return host_auto_listing_mux(h, a, hdr, len);
	ch = host_open_forward(h, a->relay->fw.address, a->relay->fw.target_port, 0);
	if (ch == NULL) {
		if (h->tcp_denied) /* (found out now) */
			return host_auto_listing_mux(h, a, hdr, len);
		a->relay->fw.have_target = 0; /* restarted container: ask again */
		return NULL;
	}
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

/* What forward_auto_take_listing asks of a host session (arg). */
struct host_auto_scan {
	struct host_session *h;
	struct host_auto *a;
};

static int
host_auto_exists(void *arg, int port)
{
	struct host_auto_scan *sc = arg;
	struct host_forward *f;

	LIST_FOREACH(f, &sc->h->forwards, entry) {
		if (forward_same(&f->fw, sc->a->fa.workspace, NULL, port))
			return 1;
	}
	return 0;
}

static void
host_auto_forward(void *arg, const struct forward_auto_port *p)
{
	struct host_auto_scan *sc = arg;
	struct host_forward *f;
	char *cause = NULL;

	f = host_forward_make(sc->h, sc->a->fa.workspace, sc->a->fa.config, NULL, p->port,
	    0, p->require_local, p->label, &cause);
	if (f == NULL) {
		log_warn("%s: auto-forward: %s", sc->h->label, cause);
		free(cause);
		return;
	}
	f->fw.auto_action = xstrdup(p->action);
	forward_take_fields_of(&f->fw, &sc->a->relay->fw);
	f->fw.require_local = p->require_local;
	log_info("%s: auto-forwarded 127.0.0.1:%d -> container port %d (%s)",
	    sc->h->label, f->fw.local_port, p->port, p->action);
}

static void
host_auto_scan(struct host_session *h, struct host_auto *a)
{
	struct host_auto_scan sc = { h, a };
	char *list;

	if ((list = host_auto_listing(h, a)) == NULL)
		return;
	if (forward_auto_take_listing(
		&a->fa, list, h->label, host_auto_exists, host_auto_forward, &sc))
		host_state_save(h);
	free(list);
}

/* Scan the watched workspaces that are due. */
void
host_auto_tick(struct host_session *h)
{
	long long now = clock_now_ms();
	struct host_auto *a;

	LIST_FOREACH(a, &h->autos, entry) {
		if (now < a->fa.next_ms)
			continue;
		host_auto_scan(h, a);
		a->fa.next_ms = clock_now_ms() + 1000;
	}
}

/* Stop watching ws (NULL: all). */
void
host_auto_remove(struct host_session *h, const char *ws)
{
	struct host_auto *a, *next;

	for (a = LIST_FIRST(&h->autos); a != NULL; a = next) {
		next = LIST_NEXT(a, entry);
		if (ws == NULL || strcmp(a->fa.workspace, ws) == 0) {
			LIST_REMOVE(a, entry);
			host_auto_free(a);
		}
	}
}
