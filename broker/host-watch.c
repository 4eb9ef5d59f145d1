/* host-watch.c - the host thread's event loop: libevent drives the wake
 * pipe, the SSH socket, the links' client sockets and the forwards'
 * listeners (host-internal.h). The serve loop (host-session.c) runs one pass
 * at a time and does its round of work (jobs, pumps, checks, keepalive)
 * between passes; libssh's channel callbacks move channel data inside the
 * SSH socket's callback. One base per host thread, never shared. */
#include "host-internal.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <unistd.h>

#include <event2/event.h>

#include "buf.h"
#include "clock.h"
#include "error.h"
#include "log.h"

#define HOST_DRAIN_ROUNDS 64 /* socket reads (4 KiB each, libssh) per wake */
#define HOST_SSH_READ 4096   /* what libssh reads of the socket per call */

static void
host_watch_on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct host_session *h = arg;

	(void)fd;
	/* The round after the pass reads the pipe and takes the jobs. */
	if (what & EV_READ)
		h->woken = 1;
}

static void
host_watch_on_ssh(evutil_socket_t fd, short what, void *arg)
{
	struct host_session *h = arg;
	int queued = 0;

	if (what & EV_READ)
		h->last_rx = clock_now_ms(); /* (writable says nothing of the peer) */
	/* libssh reads 4 KiB per call: take what the socket holds (and writes
	 * what it holds when the socket is writable). What is queued is asked
	 * once per 4 KiB taken at most, not found by one more poll (two, with
	 * the writability libssh asks for after each write) that finds
	 * nothing: system calls cost microseconds in a VM, on each message. */
	for (int i = 0; i < HOST_DRAIN_ROUNDS && h->ev != NULL; i++) {
		if (ssh_event_dopoll(h->ev, 0) != SSH_OK)
			break;
		queued -= HOST_SSH_READ;
		if (queued <= 0 && (ioctl(fd, FIONREAD, &queued) != 0 || queued <= 0))
			break;
	}
}

static void
host_watch_on_link(evutil_socket_t fd, short what, void *arg)
{
	struct host_link *l = arg;

	(void)fd;
	if (what & EV_WRITE)
		l->cli_blocked = 0;
	if (what & (EV_READ | EV_CLOSED))
		host_link_read_client_on(l, (what & EV_CLOSED) != 0);
}

static void
host_watch_on_listener(evutil_socket_t fd, short what, void *arg)
{
	struct host_forward *f = arg;

	(void)what;
	host_forward_accept(f->owner, f, (int)fd, f->owner->serving);
}

int
host_watch_init(struct host_session *h, char **cause)
{
	if ((h->base = event_base_new()) == NULL)
		return error_set(cause, "%s: cannot make an event base", h->label);
	h->wake_ev =
	    event_new(h->base, h->wake[0], EV_READ | EV_PERSIST, host_watch_on_wake, h);
	h->timer_ev = evtimer_new(h->base, host_watch_on_wake, h);
	if (h->wake_ev == NULL || h->timer_ev == NULL ||
	    event_add(h->wake_ev, NULL) != 0) {
		host_watch_free(h);
		return error_set(cause, "%s: cannot watch the wake pipe", h->label);
	}
	return 0;
}

void
host_watch_link_clear(struct host_link *l)
{
	if (l->ev != NULL)
		event_free(l->ev);
	l->ev = NULL;
	l->ev_what = 0;
}

void
host_watch_forward_clear(struct host_forward *f)
{
	if (f->ev4 != NULL)
		event_free(f->ev4);
	if (f->ev6 != NULL)
		event_free(f->ev6);
	f->ev4 = f->ev6 = NULL;
}

void
host_watch_free(struct host_session *h)
{
	struct host_link *l;
	struct host_forward *f;

	LIST_FOREACH(l, &h->links, entry)
		host_watch_link_clear(l);
	LIST_FOREACH(f, &h->forwards, entry)
		host_watch_forward_clear(f);
	host_watch_ssh(h, -1);
	if (h->wake_ev != NULL)
		event_free(h->wake_ev);
	if (h->timer_ev != NULL)
		event_free(h->timer_ev);
	h->wake_ev = h->timer_ev = NULL;
	if (h->base != NULL)
		event_base_free(h->base);
	h->base = NULL;
}

void
host_watch_ssh(struct host_session *h, int fd)
{
	if (h->ssh_ev != NULL)
		event_free(h->ssh_ev);
	h->ssh_ev = NULL;
	if (fd < 0 || h->base == NULL)
		return;
	h->ssh_ev = event_new(h->base, fd, EV_READ | EV_PERSIST, host_watch_on_ssh, h);
	if (h->ssh_ev != NULL && event_add(h->ssh_ev, NULL) != 0) {
		event_free(h->ssh_ev);
		h->ssh_ev = NULL;
	}
	if (h->ssh_ev == NULL)
		log_error("%s: cannot watch the SSH socket", h->label);
}

/* What l's client socket is waited for now (see host_link's fields): its
 * bytes while there is room for them and its stream of the agent session
 * takes them, writability while it is full; while the stream takes
 * nothing (host_link_client_waits), only news on it, edge-triggered (new
 * bytes, its peer's end, an error: level-triggered, the bytes left in it
 * would wake every pass), so that a client gone is noticed;
 * nothing while its channel opens or its target is being asked for with a
 * full buffer. */
static short
host_watch_link_wants(const struct host_link *l)
{
	short want = 0;

	if (l->fd < 0)
		return 0;
	switch (l->state) {
	case HOST_LINK_OPENING:
	case HOST_LINK_DYING:
	case HOST_LINK_DEAD: return 0;
	case HOST_LINK_RESOLVING:
		if (buf_len(l->to_ch) >= l->cap)
			return 0;
		break;
	default: break;
	}
	if (l->up == HOST_LINK_UP_OPEN && buf_len(l->to_ch) < l->cap &&
	    host_link_client_waits(l))
		want |= EV_READ | EV_CLOSED | EV_ET;
	else if (l->up == HOST_LINK_UP_OPEN && buf_len(l->to_ch) < l->cap)
		want |= EV_READ;
	if (l->cli_blocked)
		want |= EV_WRITE;
	return want;
}

static void
host_watch_link_update(struct host_session *h, struct host_link *l)
{
	short want = host_watch_link_wants(l);

	if (want == l->ev_what && (want == 0 || l->ev != NULL))
		return;
	if (l->ev == NULL)
		l->ev =
		    event_new(h->base, l->fd, want | EV_PERSIST, host_watch_on_link, l);
	else {
		event_del(l->ev);
		event_assign(
		    l->ev, h->base, l->fd, want | EV_PERSIST, host_watch_on_link, l);
	}
	l->ev_what = want;
	if (want != 0 && (l->ev == NULL || event_add(l->ev, NULL) != 0)) {
		log_error("%s: cannot watch a client socket: dropping it", h->label);
		host_link_kill(l);
	}
}

static struct event *
host_watch_listener(struct host_session *h, struct host_forward *f, int fd)
{
	struct event *ev;

	if (fd < 0)
		return NULL;
	ev = event_new(h->base, fd, EV_READ | EV_PERSIST, host_watch_on_listener, f);
	if (ev != NULL && event_add(ev, NULL) != 0) {
		event_free(ev);
		ev = NULL;
	}
	if (ev == NULL)
		log_error("%s: cannot watch the listener of localhost:%d", h->label,
		    f->fw.local_port);
	return ev;
}

/* The SSH socket is waited for writability only while libssh holds output
 * (a level-triggered EV_WRITE would wake every pass). */
static void
host_watch_ssh_update(struct host_session *h)
{
	short want = EV_READ | EV_PERSIST | (h->ssh_out ? EV_WRITE : 0);
	evutil_socket_t fd;

	if (h->ssh_ev == NULL || event_get_events(h->ssh_ev) == want)
		return;
	fd = event_get_fd(h->ssh_ev);
	event_del(h->ssh_ev);
	if (event_assign(h->ssh_ev, h->base, fd, want, host_watch_on_ssh, h) != 0 ||
	    event_add(h->ssh_ev, NULL) != 0)
		log_error("%s: cannot watch the SSH socket", h->label);
}

int
host_watch_pass(struct host_session *h, long long timeout_ms)
{
	struct host_link *l;
	struct host_forward *f;
	struct timeval tv;
	int rc;

	host_watch_ssh_update(h);

	LIST_FOREACH(l, &h->links, entry)
		host_watch_link_update(h, l);
	LIST_FOREACH(f, &h->forwards, entry) {
		f->owner = h;
		if (f->ev4 == NULL && f->fw.fd4 >= 0)
			f->ev4 = host_watch_listener(h, f, f->fw.fd4);
		if (f->ev6 == NULL && f->fw.fd6 >= 0)
			f->ev6 = host_watch_listener(h, f, f->fw.fd6);
	}
	/* EVLOOP_ONCE in both: with EVLOOP_NONBLOCK alone libevent loops until
	 * nothing is ready, and a level-triggered event (a writable socket)
	 * keeps it going for ever. */
	if (timeout_ms <= 0)
		return event_base_loop(h->base, EVLOOP_ONCE | EVLOOP_NONBLOCK) < 0 ? -1
										   : 0;
	/* The timer wakes the pass if nothing else does. */
	tv.tv_sec = (time_t)(timeout_ms / 1000);
	tv.tv_usec = (suseconds_t)(timeout_ms % 1000) * 1000;
	if (evtimer_add(h->timer_ev, &tv) != 0)
		return -1;
	rc = event_base_loop(h->base, EVLOOP_ONCE);
	evtimer_del(h->timer_ev);
	return rc < 0 ? -1 : 0;
}
