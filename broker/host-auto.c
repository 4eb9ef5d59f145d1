/* host-auto.c - auto-forward: new listening ports in a watched container
 * are forwarded as its portsAttributes say (host-internal.h). */
#include "host-internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "clock.h"
#include "forward.h"
#include "json-get.h"
#include "log.h"
#include "xmalloc.h"

static char *host_auto_listing_end(struct host_session *h, struct host_auto *a);

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

/* Bring a's auto-forwards of was (the container it followed before the
 * request now taken) up to date: moved (moved) to the one it follows now,
 * each with a warning, or given its new attributes; one whose port the
 * new attributes say to ignore is stopped. */
static void
host_auto_move(
    struct host_session *h, struct host_auto *a, const struct forward_key *was, int moved)
{
	struct host_forward *f;
	int stopped = 0, rc;

	LIST_FOREACH(f, &h->forwards, entry) {
		if (!forward_auto_follows(was, &f->fw))
			continue;
		pthread_mutex_lock(&h->lock); /* (status reads them) */
		if ((rc = forward_auto_move(&a->fa, &a->relay->fw, &f->fw)) < 0) {
			f->fw.gone = 1;
			stopped = 1;
		}
		pthread_mutex_unlock(&h->lock);
		forward_auto_move_warn(h->label, &f->fw, a->fa.workspace, moved, rc);
	}
	if (stopped)
		host_forward_reap(h);
}

void
host_auto_request(struct host_session *h, const cJSON *req, const cJSON *attrs)
{
	const char *ws = json_get_string(req, "workspace");
	struct forward_key was;
	struct host_auto *a;
	int moved;

	LIST_FOREACH(a, &h->autos, entry) {
		if (strcmp(a->fa.workspace, ws) == 0)
			break;
	}
	if (a == NULL) {
		a = host_auto_add(h, ws, json_get_string(req, "config"), attrs);
		forward_auto_take_request(&a->fa, &a->relay->fw, req);
		return;
	}
	/* the old container's listing in flight would be taken as the new
	 * one's (its ports seen, forwarded there) */
	if ((moved = forward_auto_retarget(&a->fa, &a->relay->fw, req, attrs, &was)))
		free(host_auto_listing_end(h, a));
	host_auto_move(h, a, &was, moved);
	forward_key_clear(&was);
}

#define HOST_AUTO_LISTING_MS 2000
#define HOST_AUTO_LISTING_MAX 65536 /* (a listing is a few lines) */

static size_t
host_auto_gather_data(void *arg, const unsigned char *data, size_t len)
{
	struct host_auto *a = arg;

	if (buf_len(a->list_buf) < HOST_AUTO_LISTING_MAX)
		buf_append(a->list_buf, data, len);
	host_mux_consumed(a->list_mx, len);
	return len;
}

static void
host_auto_gather_eof(void *arg)
{
	((struct host_auto *)arg)->list_eof = 1;
}

/* Is a listing of a's under way (its channel or stream open or opening)? */
static int
host_auto_listing_busy(const struct host_auto *a)
{
	return a->list_ch != NULL || a->list_mx != NULL;
}

/* A listing's channel whose open was sent and not answered. */
struct host_auto_orphan {
	LIST_ENTRY(host_auto_orphan) entry;
	ssh_channel ch;
	char *address; /* (the open is asked about with its arguments) */
	int port;
	long long deadline; /* never answered by then: freed unclosed */
};

/* How long an orphan's open may go unanswered (sshd's connect to a
 * container that is gone can take minutes). */
#define HOST_AUTO_ORPHAN_MS 120000

static void
host_auto_orphan_free(struct host_auto_orphan *o)
{
	LIST_REMOVE(o, entry);
	free(o->address);
	free(o);
}

/* Close the orphans whose opens have been answered. */
static void
host_auto_orphans_step(struct host_session *h)
{
	struct host_auto_orphan *o, *next;
	int rc;

	for (o = LIST_FIRST(&h->auto_orphans); o != NULL; o = next) {
		next = LIST_NEXT(o, entry);
		rc = host_open_forward_nowait(h, o->ch, o->address, o->port, 0);
		if (rc == SSH_AGAIN && clock_now_ms() < o->deadline)
			continue;
		if (rc == SSH_OK)
			ssh_channel_close(o->ch);
		ssh_channel_free(o->ch);
		host_auto_orphan_free(o);
	}
}

/* End a's listing under way: its channel or stream closed (a channel
 * still opening is closed once its open is answered); the listing (a new
 * string) when the relay answered it whole, else NULL (also when its end
 * was a failure on the way: a part of a listing is no listing, and says
 * nothing of the relay). */
static char *
host_auto_listing_end(struct host_session *h, struct host_auto *a)
{
	struct host_auto_orphan *o;
	char *out = NULL;

	if (a->list_ch != NULL && a->list_open) {
		ssh_channel_close(a->list_ch);
		ssh_channel_free(a->list_ch);
	} else if (a->list_ch != NULL) {
		o = xcalloc(1, sizeof *o);
		o->ch = a->list_ch;
		o->address = xstrdup(a->relay->fw.address);
		o->port = a->relay->fw.target_port;
		o->deadline = clock_now_ms() + HOST_AUTO_ORPHAN_MS;
		LIST_INSERT_HEAD(&h->auto_orphans, o, entry);
	}
	a->list_ch = NULL;
	if (a->list_mx != NULL) {
		host_mux_close(a->list_mx);
		a->list_mx = NULL;
	}
	if (a->list_sent && a->list_eof && !a->list_failed)
		out = buf_take_string(a->list_buf, NULL);
	buf_free(a->list_buf);
	a->list_buf = NULL;
	a->list_open = a->list_sent = a->list_eof = a->list_failed = 0;
	return out;
}

static void
host_auto_free(struct host_session *h, struct host_auto *a)
{
	free(host_auto_listing_end(h, a));
	forward_auto_clear(&a->fa);
	host_forward_free(a->relay);
	free(a);
}

/* The 'L' header for a's relay. */
static size_t
host_auto_listing_header(const struct host_auto *a, unsigned char *hdr)
{
	return forward_relay_header(a->relay->fw.token, 'L', 0, hdr);
}

/* Start the listing over a stream of the agent session (TCP forwarding is
 * off); not while the agent is starting (the next tick). */
static void
host_auto_listing_start_mux(struct host_session *h, struct host_auto *a)
{
	if (h->agent_state != HOST_AGENT_LISTENING)
		return;
	a->list_mx = host_mux_open(
	    h, "tcp", a->relay->fw.address, a->relay->fw.target_port, 65536);
	host_mux_set_owner(a->list_mx, host_auto_gather_data, host_auto_gather_eof, a);
	a->list_buf = buf_new();
	a->list_port = a->relay->fw.target_port;
	a->list_deadline = clock_now_ms() + HOST_AUTO_LISTING_MS;
}

/* Ask the relay for its listing ("PORT ADDRESS" lines): the open is sent,
 * the rest comes in host_auto_listing_step. */
static void
host_auto_listing_start(struct host_session *h, struct host_auto *a)
{
	if (!a->relay->fw.have_target) {
		/* asked without waiting: the next tick lists */
		host_forward_resolve_start(h, a->relay);
		return;
	}
	if (h->tcp_denied) {
		host_auto_listing_start_mux(h, a);
		return;
	}
	if ((a->list_ch = ssh_channel_new(rdev_ssh_session(h->ssh))) == NULL)
		return;
	a->list_buf = buf_new();
	a->list_port = a->relay->fw.target_port;
	a->list_deadline = clock_now_ms() + HOST_AUTO_LISTING_MS;
}

/* The direct-tcpip channel's part of a step: its open asked about without
 * waiting, the header sent, what came read. */
static void
host_auto_listing_step_channel(struct host_session *h, struct host_auto *a)
{
	unsigned char hdr[FORWARD_RELAY_HEADER_MAX];
	char tmp[4096];
	size_t len;
	int rc, n;

	if (!a->list_open) {
		rc = host_open_forward_nowait(
		    h, a->list_ch, a->relay->fw.address, a->relay->fw.target_port, 0);
		if (rc == SSH_AGAIN)
			return;
		if (rc != SSH_OK) {
			ssh_channel_free(a->list_ch);
			a->list_ch = NULL;
			free(host_auto_listing_end(h, a));
			if (host_forward_check_denied(h, 0)) /* (found out now) */
				host_auto_listing_start_mux(h, a);
			else /* restarted container: ask again */
				a->relay->fw.have_target = 0;
			return;
		}
		host_set_forwarding(h, &h->tcp_forwarding, "allowed");
		a->list_open = 1;
	}
	if (!a->list_sent) {
		len = host_auto_listing_header(a, hdr);
		if (ssh_channel_write(a->list_ch, hdr, (uint32_t)len) != (int)len) {
			a->list_eof = 1; /* (nothing will come: ended unsent) */
			return;
		}
		a->list_sent = 1;
		/* (the relay's time counts from its header: a slow open is
		 * not its silence) */
		a->list_deadline = clock_now_ms() + HOST_AUTO_LISTING_MS;
	}
	while ((n = ssh_channel_read_nonblocking(a->list_ch, tmp, sizeof tmp, 0)) > 0) {
		if (buf_len(a->list_buf) < HOST_AUTO_LISTING_MAX)
			buf_append(a->list_buf, tmp, (size_t)n);
	}
	/* (libssh says SSH_ERROR of a channel the peer closed too: that is
	 * the relay's end) */
	if (n == SSH_ERROR)
		a->list_failed = !ssh_channel_is_closed(a->list_ch);
	if (n == SSH_ERROR || ssh_channel_is_eof(a->list_ch) ||
	    ssh_channel_is_closed(a->list_ch))
		a->list_eof = 1;
}

/* The stream's part of a step: the header sent once it is open. */
static void
host_auto_listing_step_mux(struct host_auto *a)
{
	unsigned char hdr[FORWARD_RELAY_HEADER_MAX];
	size_t len;

	if (a->list_mx->state == HOST_MUX_FAILED) {
		if (!a->list_sent)
			a->relay->fw.have_target = 0; /* restarted container */
		a->list_failed = a->list_sent; /* (the agent's end, not the relay's) */
		a->list_eof = 1;
		return;
	}
	if (a->list_sent || a->list_mx->state != HOST_MUX_OPEN)
		return;
	len = host_auto_listing_header(a, hdr);
	if (host_mux_write(a->list_mx, hdr, len) == len) {
		a->list_sent = 1;
		a->list_deadline = clock_now_ms() + HOST_AUTO_LISTING_MS;
	}
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
	pthread_mutex_lock(&sc->h->lock); /* (status reads it: on h->forwards) */
	f->fw.auto_action = xstrdup(p->action);
	pthread_mutex_unlock(&sc->h->lock);
	forward_take_fields_of(&f->fw, &sc->a->relay->fw, &sc->h->lock);
	f->fw.require_local = p->require_local;
	log_info("%s: auto-forwarded 127.0.0.1:%d -> container port %d (%s)",
	    sc->h->label, f->fw.local_port, p->port, p->action);
}

/* One step of a's listing under way; once it has ended (answered, failed
 * or out of time), the ports it lists are forwarded as the watch says. */
static void
host_auto_listing_step(struct host_session *h, struct host_auto *a)
{
	struct host_auto_scan sc = { h, a };
	char *list, *cut;
	int rc;

	if (a->list_ch != NULL)
		host_auto_listing_step_channel(h, a);
	else if (a->list_mx != NULL)
		host_auto_listing_step_mux(a);
	if (!host_auto_listing_busy(a))
		return; /* (ended in the step: another start, or none) */
	if (!a->list_eof && clock_now_ms() < a->list_deadline)
		return;
	if (a->list_sent && !a->list_eof && a->relay->fw.have_target &&
	    a->relay->fw.target_port == a->list_port) {
		/* The header went and nothing came in time: a program that took
		 * the relay's port and says nothing would hold the watch's
		 * target for ever. Not notRelay: the agent's probe tells a slow
		 * relay (kept) from a silent program (replaced), as the local
		 * engine's timeout does (local_auto_on_event). */
		log_warn("%s: auto-forward %s: the relay at port %d did not list "
			 "its ports in %d ms: asking the agent again",
		    h->label, a->fa.workspace, a->list_port, HOST_AUTO_LISTING_MS);
		a->relay->fw.have_target = 0;
	}
	if ((list = host_auto_listing_end(h, a)) == NULL)
		return;
	/* (a listing cut at the cap keeps its whole lines) */
	if (strlen(list) >= HOST_AUTO_LISTING_MAX && (cut = strrchr(list, '\n')) != NULL)
		cut[1] = '\0';
	rc = forward_auto_take_listing(
	    &a->fa, list, h->label, host_auto_exists, host_auto_forward, &sc);
	if (rc == FORWARD_AUTO_NOT_LISTING)
		forward_not_relay(&a->relay->fw, NULL, a->list_port);
	else if (rc)
		host_state_save(h);
	free(list);
}

/* Start the listings of the watched workspaces that are due, and take the
 * ones under way a step further. */
void
host_auto_tick(struct host_session *h)
{
	struct host_auto *a;

	host_auto_orphans_step(h);
	LIST_FOREACH(a, &h->autos, entry) {
		if (!host_auto_listing_busy(a) && clock_now_ms() >= a->fa.next_ms) {
			host_auto_listing_start(h, a);
			a->fa.next_ms = clock_now_ms() + 1000;
		}
		if (host_auto_listing_busy(a))
			host_auto_listing_step(h, a);
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
			host_auto_free(h, a);
		}
	}
}

void
host_auto_end_listings(struct host_session *h)
{
	struct host_auto *a;

	LIST_FOREACH(a, &h->autos, entry) {
		if (a->list_ch != NULL) { /* (the session is gone or going) */
			ssh_channel_free(a->list_ch);
			a->list_ch = NULL;
		}
		free(host_auto_listing_end(h, a));
	}
	while (!LIST_EMPTY(&h->auto_orphans)) {
		ssh_channel_free(LIST_FIRST(&h->auto_orphans)->ch);
		host_auto_orphan_free(LIST_FIRST(&h->auto_orphans));
	}
}
