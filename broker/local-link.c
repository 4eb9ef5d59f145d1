/* local-link.c - a connection to a local host's forward, carried by plain
 * TCP to the container (local-internal.h): straight to the container's
 * address when the server listens there, else through the container's relay
 * (its header, then its status byte); when that address does not answer
 * (Docker Desktop), through a Docker exec (local-exec.c) for this and every
 * later connection of the forward; bytes copied both ways with at most
 * FORWARD_CONN_BUFFER held per direction (the side producing more is not
 * read meanwhile), half closes passed on. */
#include "local-internal.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "clock.h"
#include "log.h"
#include "sock-drain.h"
#include "xmalloc.h"

#define LOCAL_CONNECT_TIMEOUT_S 10
/* A container's address on the host's bridge answers a connect (SYN-ACK or
 * reset) in well under a millisecond; one that has not in this time may
 * be a stopped container's, which answers nothing. */
#define LOCAL_LINK_PROBE_MS 200

static const char *
local_link_state_name(enum local_link_state s)
{
	switch (s) {
	case LOCAL_LINK_RESOLVING: return "resolving";
	case LOCAL_LINK_CONNECTING: return "connecting";
	case LOCAL_LINK_RELAY: return "relay";
	case LOCAL_LINK_OPEN: return "open";
	case LOCAL_LINK_DEAD: return "dead";
	}
	return "?";
}

/* May a link go from one state to the other (local_link_state's table)? */
static int
local_link_may(enum local_link_state from, enum local_link_state to)
{
	switch (from) {
	case LOCAL_LINK_RESOLVING:
		return to == LOCAL_LINK_CONNECTING || to == LOCAL_LINK_DEAD;
	case LOCAL_LINK_CONNECTING: return 1;
	case LOCAL_LINK_RELAY: return to == LOCAL_LINK_OPEN || to == LOCAL_LINK_DEAD;
	case LOCAL_LINK_OPEN: return to == LOCAL_LINK_DEAD;
	case LOCAL_LINK_DEAD: return 0;
	}
	return 0;
}

static void
local_link_set_state(struct local_link *l, enum local_link_state to)
{
	if (l->state == to && to != LOCAL_LINK_CONNECTING)
		return;
	if (!local_link_may(l->state, to))
		fatal("%s: link %u: %s -> %s is not a transition", LOCAL_HOST_LABEL,
		    l->id, local_link_state_name(l->state), local_link_state_name(to));
	log_debug("%s: link %u: %s -> %s", LOCAL_HOST_LABEL, l->id,
	    local_link_state_name(l->state), local_link_state_name(to));
	l->state = to;
}

void
local_link_kill(struct local_link *l)
{
	if (l->state == LOCAL_LINK_DEAD)
		return;
	local_link_set_state(l, LOCAL_LINK_DEAD);
	bufferevent_disable(l->cli, EV_READ | EV_WRITE);
	if (l->up != NULL)
		bufferevent_disable(l->up, EV_READ | EV_WRITE);
	local_host_reap_soon(l->lh);
}

void
local_link_free(struct local_link *l)
{
	LIST_REMOVE(l, entry);
	if (l->f != NULL)
		l->f->fw.active--;
	if (l->probe != NULL)
		event_free(l->probe);
	if (l->rst_timer != NULL)
		event_free(l->rst_timer);
	free(l->up_address);
	bufferevent_free(l->cli);
	if (l->up != NULL)
		bufferevent_free(l->up);
	free(l);
}

size_t
local_link_buffered(const struct local_link *l)
{
	size_t n = evbuffer_get_length(bufferevent_get_input(l->cli)) +
	    evbuffer_get_length(bufferevent_get_output(l->cli));

	if (l->up != NULL)
		n += evbuffer_get_length(bufferevent_get_input(l->up)) +
		    evbuffer_get_length(bufferevent_get_output(l->up));
	return n;
}

static void
local_link_nodelay(struct bufferevent *bev)
{
	int one = 1;

	setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* --- moving bytes --------------------------------------------------------- */

/* A reset passed on (sock-drain.h): to l->rst_to, once its socket has sent
 * what it holds; before that (rst_to NULL: a client's reset, whose bytes
 * before it local_link_move has not all put in the server's socket), to the
 * server, should those bytes stop going. Looked at now and each
 * SOCK_DRAIN_POLL_MS; a reset's close ends l. */
static void
local_link_reset_watch(evutil_socket_t fd, short what, void *arg)
{
	struct local_link *l = arg;
	struct timeval tv = { 0, SOCK_DRAIN_POLL_MS * 1000 };
	struct bufferevent *to = l->rst_to != NULL ? l->rst_to : l->up;
	size_t held = 0;
	enum sock_drain_result step;

	(void)fd;
	(void)what;
	if (l->state == LOCAL_LINK_DEAD)
		return;
	if (l->rst_to == NULL)
		held = sock_drain_unread(bufferevent_getfd(l->cli)) +
		    evbuffer_get_length(bufferevent_get_input(l->cli)) +
		    (l->up != NULL ? evbuffer_get_length(bufferevent_get_output(l->up))
				   : 0);
	step = sock_drain_step(
	    &l->rst_drain, to != NULL ? bufferevent_getfd(to) : -1, held, clock_now_ms());
	/* (no server socket yet: its connect comes, and the reset after it) */
	if (step == SOCK_DRAIN_WAIT || to == NULL) {
		if (l->rst_timer == NULL &&
		    (l->rst_timer =
			    evtimer_new(l->lh->base, local_link_reset_watch, l)) == NULL)
			fatal("evtimer_new failed");
		evtimer_add(l->rst_timer, &tv);
		return;
	}
	if (step == SOCK_DRAIN_STALLED)
		log_debug("%s: link %u: the %s did not take the %zu bytes before "
			  "its reset in time: reset",
		    LOCAL_HOST_LABEL, l->id, to == l->cli ? "client" : "server",
		    l->rst_drain.last_left);
	else
		log_debug("%s: link %u: reset, as its %s did", LOCAL_HOST_LABEL, l->id,
		    to == l->cli ? "server" : "client");
	sock_drain_reset_at_close(bufferevent_getfd(to));
	local_link_kill(l);
}

/* Move what from holds into to's output, as far as to's bound allows; stop
 * reading from while to is full (its write callback reads again). When
 * from's sender has ended and all is passed on, shut to's write side, or
 * with a reset (from_rst) reset it once its socket sent it all. */
static void
local_link_move(struct local_link *l, struct bufferevent *from, struct bufferevent *to,
    int from_eof, int from_rst, int *to_shut)
{
	struct evbuffer *out = bufferevent_get_output(to);
	size_t have = evbuffer_get_length(out);

	if (have < FORWARD_CONN_BUFFER)
		evbuffer_remove_buffer(
		    bufferevent_get_input(from), out, FORWARD_CONN_BUFFER - have);
	if (evbuffer_get_length(out) >= FORWARD_CONN_BUFFER)
		bufferevent_disable(from, EV_READ);
	else if (!from_eof)
		bufferevent_enable(from, EV_READ);
	if (from_eof && !*to_shut &&
	    evbuffer_get_length(bufferevent_get_input(from)) == 0 &&
	    evbuffer_get_length(out) == 0) {
		*to_shut = 1;
		if (!from_rst) {
			shutdown(bufferevent_getfd(to), SHUT_WR);
			return;
		}
		/* (what the other way holds is moot: its reader reset) */
		bufferevent_disable(l->cli, EV_READ | EV_WRITE);
		bufferevent_disable(l->up, EV_READ | EV_WRITE);
		l->rst_to = to;
		l->rst_drain = (struct sock_drain){ 0 };
		local_link_reset_watch(-1, 0, l);
	}
}

/* The client reset l: its bytes before the reset go on
 * (local_link_reset_watch bounds the wait), the server's are dropped. A
 * reset taken by a write (eof 0) leaves the bytes before it in the client's
 * socket, then its EOF (local_link_on_cli_event): they are read as the
 * server's side takes them, as before the reset (read at once, they were
 * up to the socket's receive buffer, tcp_rmem's max, held per link). */
static void
local_link_client_reset(struct local_link *l, int eof)
{
	l->cli_rst = 1;
	l->cli_eof = l->cli_eof || eof; /* (a half close before: all read) */
	l->rst_drain = (struct sock_drain){ 0 };
	local_link_reset_watch(-1, 0, l);
}

/* Move both ways; end l once both directions have ended. */
static void
local_link_pump(struct local_link *l)
{
	if (l->state == LOCAL_LINK_DEAD || l->up == NULL || l->rst_to != NULL)
		return; /* (dead, or its reset waits: local_link_reset_watch) */
	if (l->state == LOCAL_LINK_OPEN || l->state == LOCAL_LINK_RELAY)
		local_link_move(l, l->cli, l->up, l->cli_eof, l->cli_rst, &l->up_shut);
	if (l->state == LOCAL_LINK_OPEN && l->rst_to == NULL && l->cli_rst) {
		/* (the client reset: the server's bytes have no reader, and are
		 * dropped, so that a server that writes as it reads still reads
		 * the client's bytes before the reset) */
		evbuffer_drain(bufferevent_get_input(l->up),
		    evbuffer_get_length(bufferevent_get_input(l->up)));
		evbuffer_drain(bufferevent_get_output(l->cli),
		    evbuffer_get_length(bufferevent_get_output(l->cli)));
		if (!l->up_eof)
			bufferevent_enable(l->up, EV_READ);
	} else if (l->state == LOCAL_LINK_OPEN && l->rst_to == NULL)
		local_link_move(l, l->up, l->cli, l->up_eof, l->up_rst, &l->cli_shut);
	if (l->state == LOCAL_LINK_DEAD || l->rst_to != NULL)
		return;
	if (l->up_shut && l->cli_shut)
		local_link_kill(l);
}

static void
local_link_on_read(struct bufferevent *bev, void *arg)
{
	struct local_link *l = arg;
	unsigned char status;

	if (l->state == LOCAL_LINK_DEAD)
		return;
	if (bev == l->up && l->state == LOCAL_LINK_RELAY) {
		/* The relay's answer: 0 connected, else refused. */
		if (bufferevent_read(bev, &status, 1) != 1)
			return;
		if (!forward_relay_status_ok(status)) {
			forward_not_relay(&l->f->fw, NULL, l->port);
			local_link_kill(l);
			return;
		}
		if (status != 0) {
			/* (--list's lastError and the log say why: the
			 * client saw only its connection closed) */
			forward_connection_failed(&l->f->fw, LOCAL_HOST_LABEL,
			    forward_relay_status_error(status), NULL);
			local_link_kill(l);
			return;
		}
		forward_connection_ok(&l->f->fw, NULL);
		bufferevent_set_timeouts(bev, NULL, NULL); /* (the status byte's) */
		local_link_set_state(l, LOCAL_LINK_OPEN);
	}
	local_link_pump(l);
}

static void
local_link_on_write(struct bufferevent *bev, void *arg)
{
	(void)bev;
	local_link_pump(arg);
}

static void local_link_connect(struct local_link *l);
static void local_link_connect_target(struct local_link *l);
static void local_link_connect_exec(struct local_link *l);

/* Did the container side's connect go unanswered (no route, no reply in
 * time) rather than refused? Docker Desktop's container addresses are not
 * routable from the host: the way in is then a Docker exec. */
static int
local_link_unanswered(short what, int err)
{
	return (what & BEV_EVENT_TIMEOUT) != 0 || err == EHOSTUNREACH ||
	    err == ENETUNREACH || err == ETIMEDOUT;
}

/* The client's socket ended or failed. */
static void
local_link_on_cli_event(struct bufferevent *bev, short what, void *arg)
{
	struct local_link *l = arg;
	int err = EVUTIL_SOCKET_ERROR();

	(void)bev;
	if (l->state == LOCAL_LINK_DEAD)
		return;
	if (l->cli_rst && !l->cli_eof && (what & BEV_EVENT_READING)) {
		/* the end of the bytes before the reset (EOF: its error
		 * was taken by a write) */
		l->cli_eof = 1;
		local_link_pump(l);
		return;
	}
	if (l->cli_rst)
		return; /* (the client's reset: its socket's later errors) */
	if (l->up_rst) {
		/* The server reset: the client's half close changes nothing,
		 * but a client gone (a write or read that failed) takes no more
		 * of the bytes before the reset: nothing else would end l. */
		if ((what & BEV_EVENT_ERROR) || (what & BEV_EVENT_WRITING))
			local_link_kill(l);
		return;
	}
	if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR)) {
		l->cli_eof = 1; /* half close: the reply may still come */
		local_link_pump(l);
		return;
	}
	if ((what & BEV_EVENT_ERROR) &&
	    (l->state == LOCAL_LINK_OPEN || l->state == LOCAL_LINK_RELAY) &&
	    (err == ECONNRESET || ((what & BEV_EVENT_WRITING) && err == EPIPE))) {
		/* its bytes before the reset go on, then a reset; a write of
		 * the server's bytes may meet it first (EPIPE: once a call took
		 * it), and took the error: the socket still holds the client's
		 * bytes before it, then its EOF (a read meets the error only
		 * after them) */
		local_link_client_reset(l, !(what & BEV_EVENT_WRITING));
		if (l->state != LOCAL_LINK_DEAD)
			local_link_pump(l);
		return;
	}
	local_link_kill(l);
}

/* The container side connected, ended or failed. */
static void
local_link_on_up_event(struct bufferevent *bev, short what, void *arg)
{
	struct local_link *l = arg;
	struct forward *fw = &l->f->fw;
	unsigned char hdr[FORWARD_RELAY_HEADER_MAX];
	int err = EVUTIL_SOCKET_ERROR(); /* a failed connect's */

	(void)bev;
	if (l->state == LOCAL_LINK_DEAD)
		return;
	if ((what & BEV_EVENT_CONNECTED) != 0) {
		l->probing = 0; /* (whatever the agent says now: it answered) */
		if (l->probe != NULL)
			evtimer_del(l->probe);
		local_link_nodelay(l->up);
		bufferevent_set_timeouts(l->up, NULL, NULL);
		bufferevent_enable(l->up, EV_READ);
		if (l->direct || fw->service != NULL) {
			fw->direct++;
			forward_connection_ok(fw, NULL);
			local_link_set_state(l, LOCAL_LINK_OPEN);
		} else {
			struct timeval status = { forward_relay_status_ms() / 1000,
				(forward_relay_status_ms() % 1000) * 1000 };

			/* ahead of what the client sent meanwhile */
			bufferevent_write(l->up, hdr,
			    forward_relay_header(fw->token, 'C', fw->port, hdr));
			/* (a program that took the relay's port and says
			 * nothing would hold the connection forever) */
			bufferevent_set_timeouts(l->up, &status, NULL);
			fw->relayed++;
			local_link_set_state(l, LOCAL_LINK_RELAY);
		}
		local_link_pump(l);
		return;
	}
	if (l->state == LOCAL_LINK_OPEN && l->up_rst)
		return; /* (the server's reset: its socket's later errors) */
	if (l->state == LOCAL_LINK_OPEN && l->cli_rst) {
		/* The client reset: the server's half close changes nothing,
		 * a server gone takes no more of its bytes (as above) */
		if ((what & BEV_EVENT_ERROR) || (what & BEV_EVENT_WRITING))
			local_link_kill(l);
		return;
	}
	if (l->state == LOCAL_LINK_OPEN && (what & BEV_EVENT_EOF) &&
	    !(what & BEV_EVENT_ERROR)) {
		l->up_eof = 1;
		local_link_pump(l);
		return;
	}
	if (l->state == LOCAL_LINK_OPEN && (what & BEV_EVENT_READING) &&
	    err == ECONNRESET) {
		/* the server reset: its bytes before it go on, then a reset */
		l->up_eof = l->up_rst = 1;
		local_link_pump(l);
		return;
	}
	if (l->state != LOCAL_LINK_CONNECTING) {
		/* a reset, or the relay closed before its byte: no relay
		 * closes so (a wrong token aside, and ours is its own) */
		if (l->state == LOCAL_LINK_RELAY && (what & BEV_EVENT_TIMEOUT) != 0)
			forward_relay_silent(fw, NULL, l->port);
		else if (l->state == LOCAL_LINK_RELAY)
			forward_not_relay(fw, NULL, l->port);
		local_link_kill(l);
		return;
	}
	bufferevent_free(l->up);
	l->up = NULL;
	/* A target the agent gave before this connection came (fresh, so not
	 * checked) may be a container's that stopped since: its address
	 * answers nothing. Ask the agent first; only an address it gave for
	 * this connection that does not answer means Docker Desktop (else one
	 * connection after a `docker stop` sent the forward through Docker
	 * execs for good). */
	if (local_link_unanswered(what, err) && !l->retried &&
	    fw->checked_ms < l->born_ms) {
		log_info("%s: forward %d: %s does not answer (%s); asking the agent "
			 "again",
		    LOCAL_HOST_LABEL, fw->local_port, fw->address,
		    (what & BEV_EVENT_TIMEOUT) ? "timed out" : strerror(err));
		fw->have_target = 0;
		l->retried = 1;
		local_link_connect(l);
		return;
	}
	if (local_link_unanswered(what, err)) {
		log_info("%s: forward %d: %s does not answer (%s): its connections go "
			 "through a Docker exec",
		    LOCAL_HOST_LABEL, fw->local_port, fw->address,
		    (what & BEV_EVENT_TIMEOUT) ? "timed out" : strerror(err));
		l->f->via_exec = 1;
		local_link_connect_exec(l);
		return;
	}
	if (l->direct) {
		/* Not listening there (127.0.0.1 only, or not yet): the relay. */
		fw->direct_retry_ms = clock_now_ms() + FORWARD_DIRECT_RETRY_MS;
		local_link_connect(l);
		return;
	}
	log_info("%s: forward %d: cannot reach %s:%d%s", LOCAL_HOST_LABEL, fw->local_port,
	    fw->address, fw->target_port, l->retried ? "" : "; asking the agent again");
	fw->have_target = 0; /* container restarted, relay gone: ask again */
	if (l->retried) {
		/* (the agent's target, asked again, not reached either:
		 * --list's lastError and the log say so) */
		char *text =
		    xasprintf("cannot reach %s:%d (%s)", fw->address, fw->target_port,
			(what & BEV_EVENT_TIMEOUT) ? "timed out"
			    : err != 0		   ? strerror(err)
						   : "closed");

		forward_connection_failed(fw, LOCAL_HOST_LABEL, text, NULL);
		free(text);
		local_link_kill(l);
		return;
	}
	l->retried = 1;
	local_link_connect(l);
}

int
local_link_addr(const char *address, int port, struct sockaddr_storage *ss, int *len)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof *ss);
	if (inet_pton(AF_INET, address, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		*len = sizeof *sin;
		return 0;
	}
	if (inet_pton(AF_INET6, address, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		*len = sizeof *sin6;
		return 0;
	}
	return -1;
}

/* Connect l the way its forward's connections go now: direct when due,
 * else the relay (or the service); without a target, or with one to check
 * (forward_target_wait), wait for the agent's answer (asked once for all
 * of the forward's connections; for a check, at most
 * forward_check_bound). */
static void
local_link_connect(struct local_link *l)
{
	if (forward_target_wait(&l->f->fw, clock_now_ms()) != 0) {
		/* (local_forward_resolved, or the check's bound, goes on) */
		local_link_set_state(l, LOCAL_LINK_RESOLVING);
		local_forward_resolve(l->f);
		return;
	}
	local_link_connect_target(l);
}

/* l's connect has not been answered in LOCAL_LINK_PROBE_MS: ask the agent
 * whether the container runs, beside the connect, instead of after it
 * fails (an ARP timeout, seconds, for a stopped container's address; the
 * client waited that long for a refusal). The answer ends or redirects
 * the connect (local_link_checked); a running container at the same
 * address lets it go on. */
static void
local_link_on_probe(evutil_socket_t fd, short what, void *arg)
{
	struct local_link *l = arg;
	struct forward *fw = &l->f->fw;

	(void)fd;
	(void)what;
	if (l->state != LOCAL_LINK_CONNECTING || l->up == NULL || l->probing ||
	    fw->checked_ms >= l->born_ms)
		return;
	log_info("%s: forward %d: %s has not answered in %d ms: asking the agent "
		 "whether its container runs",
	    LOCAL_HOST_LABEL, fw->local_port, l->up_address, LOCAL_LINK_PROBE_MS);
	l->probing = 1;
	local_forward_resolve(l->f);
}

void
local_link_checked(struct local_link *l, int failed)
{
	struct forward *fw = &l->f->fw;

	l->probing = 0;
	if (failed) {
		/* (the forward's lastError says why) */
		local_link_kill(l);
		return;
	}
	if (!fw->have_target || fw->address == NULL || l->up_address == NULL ||
	    strcmp(fw->address, l->up_address) == 0)
		return;
	/* recreated meanwhile: its new address */
	log_info("%s: forward %d: the container is at %s now", LOCAL_HOST_LABEL,
	    fw->local_port, fw->address);
	bufferevent_free(l->up);
	l->up = NULL;
	local_link_connect_target(l);
}

/* Connect l to the target its forward has, checked or not. */
static void
local_link_connect_target(struct local_link *l)
{
	struct timeval probe = { 0, LOCAL_LINK_PROBE_MS * 1000 };
	struct forward *fw = &l->f->fw;
	struct timeval timeout = { LOCAL_CONNECT_TIMEOUT_S, 0 };
	struct sockaddr_storage ss;
	int len, port;

	if (l->f->via_exec || local_exec_forced()) {
		local_link_connect_exec(l);
		return;
	}
	l->direct = forward_direct_due(fw);
	port = l->direct ? fw->port : fw->target_port;
	l->port = port;
	if (local_link_addr(fw->address, port, &ss, &len) != 0) {
		log_warn("%s: forward %d: the container address %s is not an IP "
			 "address",
		    LOCAL_HOST_LABEL, fw->local_port, fw->address);
		local_link_kill(l);
		return;
	}
	local_link_set_state(l, LOCAL_LINK_CONNECTING);
	l->up = bufferevent_socket_new(l->lh->base, -1, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(
	    l->up, local_link_on_read, local_link_on_write, local_link_on_up_event, l);
	bufferevent_setwatermark(l->up, EV_READ, 0, FORWARD_CONN_BUFFER);
	bufferevent_set_timeouts(l->up, NULL, &timeout);
	free(l->up_address);
	l->up_address = xstrdup(fw->address);
	l->probing = 0;
	if (fw->checked_ms < l->born_ms) {
		if (l->probe == NULL &&
		    (l->probe = evtimer_new(l->lh->base, local_link_on_probe, l)) == NULL)
			fatal("%s: cannot make a timer", LOCAL_HOST_LABEL);
		evtimer_add(l->probe, &probe);
	}
	/* (a refusal may be reported at once: the event callback goes on) */
	if (bufferevent_socket_connect(l->up, (struct sockaddr *)&ss, len) != 0 &&
	    l->up != NULL && l->state == LOCAL_LINK_CONNECTING)
		local_link_on_up_event(l->up, BEV_EVENT_ERROR, l);
}

/* Carry l through `rdev-agent connect` (local-exec.c): a socket to the
 * agent, which reaches the server on the container's loopback (for a
 * Compose service, the service container's) through a Docker exec. Open at
 * once; what the server says to a refusal is the end of that socket. */
static void
local_link_connect_exec(struct local_link *l)
{
	struct forward *fw = &l->f->fw;
	char *cause = NULL;
	int fd;

	local_link_set_state(l, LOCAL_LINK_CONNECTING);
	if (local_exec_open(l->lh, fw->container_id, fw->port, &fd, &cause) != 0) {
		log_warn("%s: forward %d: through a Docker exec: %s", LOCAL_HOST_LABEL,
		    fw->local_port, cause);
		free(cause);
		local_link_kill(l);
		return;
	}
	l->up = bufferevent_socket_new(l->lh->base, fd, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(
	    l->up, local_link_on_read, local_link_on_write, local_link_on_up_event, l);
	bufferevent_setwatermark(l->up, EV_READ, 0, FORWARD_CONN_BUFFER);
	bufferevent_enable(l->up, EV_READ);
	fw->via_exec++;
	local_link_set_state(l, LOCAL_LINK_OPEN);
	local_link_pump(l);
}

void
local_link_resolved(struct local_link *l, int ok)
{
	if (!ok) {
		local_link_kill(l); /* the client sees its connection closed */
		return;
	}
	local_link_connect_target(l);
}

void
local_link_new(struct local_forward *f, int fd)
{
	struct local_host *lh = f->lh;
	struct local_link *l = xcalloc(1, sizeof *l);

	l->id = ++lh->link_seq;
	l->born_ms = clock_now_ms();
	l->lh = lh;
	l->f = f;
	l->state = LOCAL_LINK_CONNECTING;
	l->cli = bufferevent_socket_new(lh->base, fd, BEV_OPT_CLOSE_ON_FREE);
	local_link_nodelay(l->cli);
	bufferevent_setcb(
	    l->cli, local_link_on_read, local_link_on_write, local_link_on_cli_event, l);
	/* the client's bytes wait (bounded) while the container side opens */
	bufferevent_setwatermark(l->cli, EV_READ, 0, FORWARD_CONN_BUFFER);
	bufferevent_enable(l->cli, EV_READ);
	LIST_INSERT_HEAD(&lh->links, l, entry);
	f->fw.connections++;
	f->fw.active++;
	local_link_connect(l);
}
