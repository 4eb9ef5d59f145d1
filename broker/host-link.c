/* host-link.c - clients spliced to SSH channels: a channel to the host's
 * agent for rdev clients, a direct-tcpip channel for forwarded connections
 * (host-internal.h). */
#include "host-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "atomic-file.h"
#include "buf.h"
#include "clock.h"
#include "log.h"
#include "proto.h"
#include "sock-drain.h"
#include "xmalloc.h"

/* How long a lost session waits for its clients to take their FATAL frame
 * (all of them together). */
#define HOST_LINK_LOST_FLUSH_MS 1000
/* How long a forwarded connection whose far side was lost (the agent
 * carrying it died) has to read what the broker holds for it before its
 * reset (host_link_cut): a client that stopped reading does not keep it. */
#define HOST_LINK_CUT_FLUSH_MS 2000
/* The most of an agent link's bytes kept until the agent's first byte
 * (host_link's unheard), to be sent again to a new agent. */
#define HOST_LINK_UNHEARD_MAX 65536

static void host_link_open_failed(struct host_link *, const char *);
static int host_link_reopen(struct host_session *, struct host_link *);

static const char *
host_link_state_name(enum host_link_state s)
{
	switch (s) {
	case HOST_LINK_NEW: return "new";
	case HOST_LINK_RESOLVING: return "resolving";
	case HOST_LINK_OPENING: return "opening";
	case HOST_LINK_RELAY: return "relay";
	case HOST_LINK_OPEN: return "open";
	case HOST_LINK_DYING: return "dying";
	case HOST_LINK_DEAD: return "dead";
	}
	return "?";
}

static const char *
host_link_up_name(enum host_link_up s)
{
	switch (s) {
	case HOST_LINK_UP_OPEN: return "open";
	case HOST_LINK_UP_EOF: return "eof";
	case HOST_LINK_UP_CLOSED: return "closed";
	}
	return "?";
}

static const char *
host_link_down_name(enum host_link_down s)
{
	switch (s) {
	case HOST_LINK_DOWN_OPEN: return "open";
	case HOST_LINK_DOWN_EOF: return "eof";
	case HOST_LINK_DOWN_DRAIN: return "drain";
	case HOST_LINK_DOWN_CLOSED: return "closed";
	}
	return "?";
}

/* May l go from its state to the other (host_link_state's table)? */
static int
host_link_may(const struct host_link *l, enum host_link_state to)
{
	switch (l->state) {
	case HOST_LINK_NEW:
		return to == HOST_LINK_RESOLVING || to == HOST_LINK_OPENING ||
		    to == HOST_LINK_OPEN || to == HOST_LINK_DEAD;
	case HOST_LINK_RESOLVING: return to == HOST_LINK_OPENING || to == HOST_LINK_DEAD;
	case HOST_LINK_OPENING: return to != HOST_LINK_NEW;
	case HOST_LINK_RELAY: return to == HOST_LINK_OPEN || to == HOST_LINK_DEAD;
	case HOST_LINK_OPEN:
		/* (back to opening: an agent link opened again, once,
		 * host_link_reopen; never a forwarded connection) */
		return to == HOST_LINK_DEAD ||
		    (to == HOST_LINK_OPENING && l->fwd == NULL && l->reopened);
	case HOST_LINK_DYING: return to == HOST_LINK_DEAD;
	case HOST_LINK_DEAD: return 0;
	}
	return 0;
}

void
host_link_set_state(struct host_link *l, enum host_link_state to)
{
	if (l->state == to)
		return;
	if (!host_link_may(l, to))
		fatal("%s: link %u: %s -> %s is not a transition", l->h->label, l->id,
		    host_link_state_name(l->state), host_link_state_name(to));
	log_debug("%s: link %u: %s -> %s", l->h->label, l->id,
	    host_link_state_name(l->state), host_link_state_name(to));
	l->state = to;
}

void
host_link_kill(struct host_link *l)
{
	switch (l->state) {
	case HOST_LINK_OPENING: host_link_set_state(l, HOST_LINK_DYING); break;
	case HOST_LINK_DYING:
	case HOST_LINK_DEAD: break;
	default: host_link_set_state(l, HOST_LINK_DEAD); break;
	}
}

int
host_link_dead(const struct host_link *l)
{
	return l->state == HOST_LINK_DYING || l->state == HOST_LINK_DEAD;
}

int
host_link_opening(const struct host_link *l)
{
	return l->state == HOST_LINK_OPENING || l->state == HOST_LINK_DYING;
}

/* The client -> channel direction goes one step on (host_link_up). */
static void
host_link_set_up(struct host_link *l, enum host_link_up to)
{
	if (to != l->up + 1)
		fatal("%s: link %u: client -> channel: %s -> %s is not a transition",
		    l->h->label, l->id, host_link_up_name(l->up), host_link_up_name(to));
	log_debug("%s: link %u: client -> channel: %s -> %s", l->h->label, l->id,
	    host_link_up_name(l->up), host_link_up_name(to));
	l->up = to;
}

/* The channel -> client direction goes one step on (host_link_down). */
static void
host_link_set_down(struct host_link *l, enum host_link_down to)
{
	if (to != l->down + 1)
		fatal("%s: link %u: channel -> client: %s -> %s is not a transition",
		    l->h->label, l->id, host_link_down_name(l->down),
		    host_link_down_name(to));
	log_debug("%s: link %u: channel -> client: %s -> %s", l->h->label, l->id,
	    host_link_down_name(l->down), host_link_down_name(to));
	l->down = to;
}

/* The channel's EOF or close came (or its read failed). */
static void
host_link_remote_eof(struct host_link *l)
{
	if (l->down == HOST_LINK_DOWN_OPEN)
		host_link_set_down(l, HOST_LINK_DOWN_EOF);
}

/* How l's far side ended, decided here alone: whole (the server's close or
 * half close came through: 1) or not, also while it is open (0); cut by a
 * loss (host_link_cut: the agent carrying it died, its channel's read
 * failed) is never whole, whatever its down state says. (cut_ms, the reset
 * of a cut forwarded connection, is set only with eof_failed.) */
static int
host_link_ended_whole(const struct host_link *l)
{
	return l->down >= HOST_LINK_DOWN_EOF && !l->eof_failed;
}

/* l's far side was lost, not ended by the server (the agent carrying it
 * died, its channel's read failed): a forwarded connection's client gets
 * what to_cli holds for HOST_LINK_CUT_FLUSH_MS at most, then a reset. */
static void
host_link_cut(struct host_link *l)
{
	l->eof_failed = 1;
	if (l->fwd != NULL && l->cut_ms == 0) {
		log_debug("%s: link %u: its far side was lost: a reset after what "
			  "is held (%zu bytes)",
		    l->h->label, l->id, buf_len(l->to_cli));
		l->cut_ms = clock_now_ms() + HOST_LINK_CUT_FLUSH_MS;
	}
	host_link_remote_eof(l);
}

/* End a forwarded connection with a TCP reset rather than a FIN: its
 * client must not take a cut stream for a whole one (curl of a body
 * without Content-Length, a raw TCP reader). The reset goes at the close
 * (SO_LINGER 0), which throws away what the socket did not send yet. */
static void
host_link_reset(struct host_link *l)
{
	/* (a "connect" not answered yet is answered at the free, on this
	 * socket: its client reads the error, which a reset would drop) */
	if (l->fd >= 0 && !l->connect && sock_drain_reset_at_close(l->fd) != 0)
		log_debug(
		    "%s: link %u: SO_LINGER: %s", l->h->label, l->id, strerror(errno));
	host_link_kill(l);
}

/* Is it time for l's reset (a forwarded connection whose far side was
 * lost, host_link_cut, or reset by its server, reset_end)? Once its client
 * has had what the broker held and its socket sent it all (the reset
 * throws away what the socket holds), or a cut one's time is up, or the
 * socket's bytes stopped draining (sock-drain.h: a client that does not
 * read is not kept). */
static int
host_link_reset_due(struct host_link *l)
{
	long long now;

	if (l->cut_ms == 0 && !l->reset_end)
		return 0;
	now = clock_now_ms();
	if (l->cut_ms != 0 && now >= l->cut_ms) {
		if (buf_len(l->to_cli) > 0)
			log_debug("%s: link %u: the client did not take %zu bytes "
				  "in time: reset",
			    l->h->label, l->id, buf_len(l->to_cli));
		return 1;
	}
	if (l->down < HOST_LINK_DOWN_DRAIN || buf_len(l->to_cli) > 0)
		return 0;
	switch (sock_drain_step(&l->rst_drain, l->fd, 0, now)) {
	case SOCK_DRAIN_DONE: return 1;
	case SOCK_DRAIN_WAIT: return 0; /* (host_links_check looks again soon) */
	case SOCK_DRAIN_STALLED: break;
	}
	log_debug("%s: link %u: the client did not take %zu bytes in time: reset",
	    l->h->label, l->id, l->rst_drain.last_left);
	return 1;
}

void
host_link_detach(struct host_link *l)
{
	host_mux_close(l->mx);
	l->mx = NULL;
	l->mx_agent = 0;
	if (l->ch == NULL)
		return;
	/* libssh keeps a freed channel until the peer's close comes, and would
	 * still run its callbacks on l. */
	ssh_remove_channel_callbacks(l->ch, &l->cb);
	if (ssh_channel_is_open(l->ch)) {
		ssh_channel_send_eof(l->ch);
		ssh_channel_close(l->ch);
	}
	ssh_channel_free(l->ch);
	l->ch = NULL;
}

void
host_link_replace_channel(struct host_link *l)
{
	host_link_detach(l);
	buf_reset(l->to_cli);
	l->down = HOST_LINK_DOWN_OPEN; /* (a new channel: nothing ended yet) */
	l->backlog = 0;
	l->eof_failed = 0;
	l->cut_ms = 0;
	l->reset_end = 0;
	l->rst_drain = (struct sock_drain){ 0 };
	chan_window_init(&l->win, clock_now_us());
}

void
host_link_orphan_open(struct host_link *l)
{
	struct host_link *g;

	if (l->ch == NULL)
		return;
	g = host_link_new(l->h, -1, NULL, 0);
	g->open_address = xstrdup(l->open_address);
	g->open_port = l->open_port;
	ssh_remove_channel_callbacks(l->ch, &l->cb);
	host_link_attach(g, l->ch);
	l->ch = NULL;
	host_link_set_state(g, HOST_LINK_OPENING);
	host_link_kill(g);
}

int
host_link_held(const struct host_link *l)
{
	if (l->state != HOST_LINK_OPENING || l->hold != HOST_LINK_HOLD_WAIT)
		return 0;
	return l->mx != NULL ? l->mx->state == HOST_MUX_OPEN
			     : l->ch != NULL && ssh_channel_is_open(l->ch);
}

static void
host_link_free(struct host_link *l)
{
	/* a "connect" that ended before it was open: say so */
	host_connect_answer(l, NULL, "cannot reach that port of the container");
	if (l->fwd != NULL) {
		/* the status thread reads it */
		pthread_mutex_lock(&l->h->lock);
		l->fwd->fw.active--;
		pthread_mutex_unlock(&l->h->lock);
		host_connect_release(l->fwd);
		l->fwd = NULL;
	}
	host_link_detach(l);
	if (l->agent_open != NULL) {
		host_agent_opener_clear(l->agent_open);
		free(l->agent_open);
	}
	host_watch_link_clear(l);
	if (l->fd >= 0)
		close(l->fd);
	buf_free(l->unheard);
	buf_free(l->to_ch);
	buf_free(l->to_cli);
	free(l->open_address);
	free(l);
}

/* Follow the agent's frames through bytes bound for an agent link's client
 * (host_link_end_agent needs to know whether a frame is cut). */
static void
host_link_track_frames(struct host_link *l, const unsigned char *data, size_t len)
{
	size_t take;

	if (l->fwd != NULL)
		return;
	while (len > 0) {
		if (l->frame_left > 0) {
			take = len < l->frame_left ? len : l->frame_left;
			l->frame_left -= (uint32_t)take;
		} else {
			take = PROTO_HEADER_SIZE - l->frame_hdr_have;
			if (take > len)
				take = len;
			memcpy(l->frame_hdr + l->frame_hdr_have, data, take);
			l->frame_hdr_have += take;
			if (l->frame_hdr_have == PROTO_HEADER_SIZE) {
				l->frame_left = (uint32_t)l->frame_hdr[0] << 24 |
				    (uint32_t)l->frame_hdr[1] << 16 |
				    (uint32_t)l->frame_hdr[2] << 8 | l->frame_hdr[3];
				l->frame_hdr_have = 0;
			}
		}
		data += take;
		len -= take;
	}
}

/* Queue FATAL {"error":text,"host":LABEL} for an agent link's client, when
 * the stream is between frames (else it sees a cut frame and the end). The
 * "host" member says that the text names the host already. */
static void
host_link_queue_fatal(struct host_link *l, const char *text)
{
	struct buf *b;
	cJSON *o;

	if (l->frame_left > 0 || l->frame_hdr_have > 0)
		return;
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "error", text);
	cJSON_AddStringToObject(o, "host", l->h->label);
	b = buf_new();
	if (proto_encode_json(b, PROTO_FATAL, 0, o, NULL) == 0)
		buf_append(l->to_cli, buf_data(b), buf_len(b));
	buf_free(b);
	cJSON_Delete(o);
}

/* The agent's side of an agent link ended while its client was still
 * there: the agent process serving it died (a client's own end closes the
 * link first), or the SSH session did, seen first by this link's read.
 * Tell the client why. */
static void
host_link_end_agent(struct host_link *l)
{
	char *text;

	if (!ssh_is_connected(rdev_ssh_session(l->h->ssh)))
		text = xasprintf(
		    "lost the SSH connection to %s: %s", l->h->label, HOST_LOST_CLOSED);
	else
		text = xasprintf("the agent on %s ended unexpectedly (killed, or it "
				 "crashed); the next command starts a new one",
		    l->h->label);
	host_link_queue_fatal(l, text);
	free(text);
}

/* Send what l's client has not had yet, waiting for room until deadline:
 * the link goes right after (its session is lost). */
static void
host_link_flush_client(struct host_link *l, long long deadline_ms)
{
	struct pollfd pfd = { .fd = l->fd, .events = POLLOUT };
	long long left;
	ssize_t w;

	while (buf_len(l->to_cli) > 0) {
		w = send(l->fd, buf_data(l->to_cli), buf_len(l->to_cli), MSG_NOSIGNAL);
		if (w > 0) {
			buf_consume(l->to_cli, (size_t)w);
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) &&
		    (left = deadline_ms - clock_now_ms()) > 0 &&
		    poll(&pfd, 1, (int)left) > 0)
			continue;
		return; /* (the client went, or reads too slowly to wait for) */
	}
}

void
host_links_lost(struct host_session *h, const char *why)
{
	long long deadline = clock_now_ms() + HOST_LINK_LOST_FLUSH_MS;
	struct host_link *l;
	char *text = xasprintf("lost the SSH connection to %s: %s", h->label, why);

	LIST_FOREACH(l, &h->links, entry) {
		if (l->fd < 0)
			continue;
		if (l->fwd != NULL) {
			/* (its bytes, then the reset of host_close_all_links's
			 * close) */
			host_link_flush_client(l, deadline);
			/* Unless the server's own end had come (a close, a half
			 * close: its stream whole) and all of it is in the
			 * socket, nothing of the client's left behind: that
			 * close is a FIN after what the socket holds, which a
			 * reset would throw away (a slow reader of a whole
			 * stream lost its tail and saw an error). */
			if (host_link_ended_whole(l) && !l->backlog &&
			    buf_len(l->to_cli) == 0 && buf_len(l->to_ch) == 0)
				continue;
			host_link_reset(l);
		} else if (l->state == HOST_LINK_OPENING)
			host_link_open_failed(l, text);
		else if (l->state == HOST_LINK_OPEN) {
			/* A link in DRAIN has its end queued already (its read
			 * met the loss first) but may wait on a slow client:
			 * flush it too, or the close throws the frame away. */
			if (l->down < HOST_LINK_DOWN_DRAIN)
				host_link_queue_fatal(l, text);
			host_link_flush_client(l, deadline);
		}
	}
	free(text);
}

/* Are the bytes kept for a link (unheard) no more than its client's HELLO,
 * whole or in part? Then no request went: the agent reads nothing before
 * its own HELLO, but an agent that passes a connection on (to a child
 * that outlives it) might have passed on more than it answered, so a
 * client that spoke before hearing the agent's HELLO (none in this tree:
 * docs/PROTOCOL.md forbids it) is not opened again. */
static int
host_link_unheard_is_hello(const struct buf *b)
{
	struct proto_frame f;
	char *cause = NULL;
	int rc = proto_decode_header(buf_data(b), buf_len(b), &f, &cause);

	free(cause);
	if (rc <= 0)
		return rc == 0; /* (no whole header yet: no request either) */
	return f.type == PROTO_HELLO && f.channel == 0 &&
	    buf_len(b) <= PROTO_HEADER_SIZE + (size_t)f.len;
}

/* len bytes of l's client went to the agent: kept while it has said
 * nothing (host_link_reopen sends them again), up to HOST_LINK_UNHEARD_MAX. */
static void
host_link_keep_sent(struct host_link *l, const void *data, size_t len)
{
	if (l->unheard == NULL)
		return;
	if (buf_len(l->unheard) + len > HOST_LINK_UNHEARD_MAX) {
		log_debug("%s: link %u: more than %d bytes sent before the agent's "
			  "first: not opened again if it ends",
		    l->h->label, l->id, HOST_LINK_UNHEARD_MAX);
		buf_free(l->unheard);
		l->unheard = NULL;
		return;
	}
	buf_append(l->unheard, data, len);
}

/* --- channel callbacks (run inside any libssh call of this thread: they
 * only fill buffers and set flags) ------------------------------------- */

/* Take channel bytes for l: the relay's status byte first, then as much as
 * to_cli has room for. The number of bytes taken. */
static size_t
host_link_take(struct host_link *l, const unsigned char *data, size_t len)
{
	size_t used = 0, room;

	if (host_link_dead(l))
		return len; /* being dropped: discard */
	if (l->unheard != NULL && len > 0) {
		/* the agent serves it: its request may run from now on */
		buf_free(l->unheard);
		l->unheard = NULL;
	}
	if (l->state == HOST_LINK_RELAY && len > 0) {
		/* The relay's answer: 0 connected, else refused. */
		used = 1;
		if (!forward_relay_status_ok(data[0])) {
			forward_not_relay(&l->fwd->fw, l->open_address, l->open_port);
			host_link_set_state(l, HOST_LINK_DEAD);
			return len;
		}
		if (data[0] != 0) {
			/* (--list's lastError and the log say why: the
			 * client saw only its connection closed) */
			forward_connection_failed(&l->fwd->fw, l->h->label,
			    forward_relay_status_error(data[0]), &l->h->lock);
			host_connect_answer(l, NULL, forward_relay_status_error(data[0]));
			host_link_set_state(l, HOST_LINK_DEAD);
			return len;
		}
		forward_connection_ok(&l->fwd->fw, &l->h->lock);
		host_connect_answer(l, "relay", NULL);
		host_link_set_state(l, HOST_LINK_OPEN);
	}
	room = buf_len(l->to_cli) < l->cap ? l->cap - buf_len(l->to_cli) : 0;
	if (room > len - used)
		room = len - used;
	buf_append(l->to_cli, data + used, room);
	host_link_track_frames(l, data + used, room);
	used += room;
	l->backlog = used < len;
	return used;
}

static int
host_link_on_data(ssh_session session, ssh_channel channel, void *data, uint32_t len,
    int is_stderr, void *userdata)
{
	struct host_link *l = userdata;

	(void)session;
	(void)channel;
	l->h->kicked = 1;
	if (is_stderr) {
		/* an exec channel's agent: log lines only */
		host_log_agent_stderr(l->h, data, len);
		return (int)len;
	}
	return (int)host_link_take(l, data, len);
}

static void
host_link_on_eof(ssh_session session, ssh_channel channel, void *userdata)
{
	struct host_link *l = userdata;

	(void)session;
	(void)channel;
	host_link_remote_eof(l);
	l->h->kicked = 1;
}

/* A stream's bytes (host_mux_data_fn): as a channel's, all kept (the
 * window it gave the agent is its room). */
static size_t
host_link_mux_data(void *arg, const unsigned char *data, size_t len)
{
	struct host_link *l = arg;
	size_t used = host_link_take(l, data, len);

	if (used < len && !host_link_dead(l)) {
		buf_append(l->to_cli, data + used, len - used);
		host_link_track_frames(l, data + used, len - used);
	}
	l->backlog = 0;
	return len;
}

static void
host_link_mux_eof(void *arg)
{
	struct host_link *l = arg;

	if (l->mx != NULL && l->mx->state == HOST_MUX_FAILED)
		host_link_cut(l); /* (the agent ended, not the stream) */
	else if (l->mx != NULL && l->mx->reset_in && l->fwd != NULL) {
		/* the server reset it: the client's end is a reset too, after
		 * the bytes before it (host_link_reset_due); not whole */
		log_debug("%s: link %u: the server reset it: a reset after what "
			  "is held (%zu bytes)",
		    l->h->label, l->id, buf_len(l->to_cli));
		l->reset_end = 1;
		l->eof_failed = 1;
		host_link_remote_eof(l);
	} else
		host_link_remote_eof(l);
	l->h->kicked = 1;
}

void
host_link_attach_mux(struct host_link *l, struct host_mux_chan *c)
{
	l->mx = c;
	l->mx_agent = c->connect != NULL && strcmp(c->connect, "agent") == 0;
	host_mux_set_owner(c, host_link_mux_data, host_link_mux_eof, l);
}

/* Has l's channel (or stream) ended on the host's side? */
static int
host_link_chan_closed(const struct host_link *l)
{
	return l->mx != NULL ? l->mx->closed_in || l->mx->state == HOST_MUX_FAILED
			     : ssh_channel_is_closed(l->ch);
}

/* May our EOF still go on l's channel (or stream)? */
static int
host_link_chan_open(const struct host_link *l)
{
	return l->mx != NULL ? l->mx->state == HOST_MUX_OPEN && !l->mx->closed_in
			     : ssh_channel_is_open(l->ch);
}

/* A new link for client fd on channel ch (opened, or about to be: callbacks
 * are set at once), at the head of h's list. */
struct host_link *
host_link_new(struct host_session *h, int fd, ssh_channel ch, size_t cap)
{
	struct host_link *l = xcalloc(1, sizeof *l);

	l->id = ++h->link_seq;
	l->fd = fd;
	l->h = h;
	l->to_ch = buf_new();
	l->to_cli = buf_new();
	l->cap = cap;
	chan_window_init(&l->win, clock_now_us());
	ssh_callbacks_init(&l->cb);
	l->cb.userdata = l;
	l->cb.channel_data_function = host_link_on_data;
	l->cb.channel_eof_function = host_link_on_eof;
	l->cb.channel_close_function = host_link_on_eof;
	if (ch != NULL) {
		host_link_attach(l, ch);
		host_link_set_state(l, HOST_LINK_OPEN);
	}
	if (fd >= 0)
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	LIST_INSERT_HEAD(&h->links, l, entry);
	return l;
}

void
host_link_attach(struct host_link *l, ssh_channel ch)
{
	l->ch = ch;
	/* Data that came with the open is in libssh's buffer, not seen by a
	 * callback: pull it. */
	l->backlog = 1;
	ssh_set_channel_callbacks(ch, &l->cb);
}

/* The open of agent link l failed (why): its client is told, with the
 * answer to its request, or, once the link was opened again (the client
 * had its answer and speaks to the agent), with a FATAL frame after what
 * it has not had yet. */
static void
host_link_open_failed(struct host_link *l, const char *why)
{
	char *text;

	if (!l->reopened) {
		host_send_error(l->fd, l->request_id, why);
		return;
	}
	text = xasprintf("the agent on %s ended before it served this command, "
			 "and a new one could not be reached: %s",
	    l->h->label, why);
	host_link_queue_fatal(l, text);
	free(text);
	/* (a few bytes the client waits for: its socket has room) */
	fd_write_all_wait(l->fd, buf_data(l->to_cli), buf_len(l->to_cli));
	buf_reset(l->to_cli);
}

/* Agent link l's channel ended (all of it read) before the agent sent it a
 * byte: every connection the agent serves sends HELLO before it reads
 * (agent/serve.c), so it was queued on the socket of an agent that ended
 * (killed, or crashed) before it took it, and nothing of its client's ran.
 * It is opened again, once, as the next command would open it (a new agent
 * is started), and what the client had sent goes again; its client does
 * not notice. Returns 1 when so. */
static int
host_link_reopen(struct host_session *h, struct host_link *l)
{
	struct buf *again = l->unheard;

	if (l->fwd != NULL || again == NULL || l->reopened || host_link_dead(l) ||
	    l->fd < 0 || l->up != HOST_LINK_UP_OPEN ||
	    !ssh_is_connected(rdev_ssh_session(h->ssh)))
		return 0;
	if (!host_link_unheard_is_hello(again)) {
		log_debug("%s: link %u: its client sent more than its HELLO before "
			  "the agent's: not opened again",
		    h->label, l->id);
		return 0;
	}
	log_warn("%s: link %u: the agent ended before it served this client (no "
		 "byte from it): opened again on a new agent, with the %zu bytes "
		 "it was sent",
	    h->label, l->id, buf_len(again));
	host_link_detach(l);
	l->down = HOST_LINK_DOWN_OPEN; /* (a new channel: nothing ended yet) */
	l->backlog = 0;
	l->eof_failed = 0;
	chan_window_init(&l->win, clock_now_us());
	l->unheard = NULL;
	buf_append(again, buf_data(l->to_ch), buf_len(l->to_ch));
	buf_free(l->to_ch);
	l->to_ch = again;
	l->reopened = 1;
	l->agent_open = xcalloc(1, sizeof *l->agent_open);
	host_link_set_state(l, HOST_LINK_OPENING);
	host_link_open_progress(h, l);
	return 1;
}

/* A client of the agent: its link waits (its bytes stay in its socket)
 * while the channel to the agent opens, without waiting for it. */
void
host_link_open(struct host_session *h, struct host_job *j)
{
	struct host_link *l = host_link_new(h, j->fd, NULL, HOST_LINK_BUFFER);

	l->agent_open = xcalloc(1, sizeof *l->agent_open);
	l->request_id = j->request_id;
	host_link_set_state(l, HOST_LINK_OPENING);
	free(j);
	host_link_open_progress(h, l);
}

void
host_link_open_progress(struct host_session *h, struct host_link *l)
{
	ssh_channel ch = NULL;
	struct host_mux_chan *mx = NULL;
	char *msg = NULL;
	cJSON *o, *res;
	int rc = host_agent_opener_step(h, l->agent_open, &ch, &mx, &msg), dying;

	dying = l->state == HOST_LINK_DYING;
	if (rc == 0 && !(dying && !host_agent_opener_pending(l->agent_open)))
		return; /* (a dying one goes once no open is in flight) */
	host_agent_opener_clear(l->agent_open);
	free(l->agent_open);
	l->agent_open = NULL;
	if (rc < 0) {
		log_warn("%s", msg);
		if (!dying)
			host_link_open_failed(l, msg);
		free(msg);
		host_link_set_state(l, HOST_LINK_DEAD);
		return;
	}
	if (dying) {
		if (ch != NULL) {
			ssh_channel_close(ch);
			ssh_channel_free(ch);
		}
		host_mux_close(mx);
		host_link_set_state(l, HOST_LINK_DEAD);
		return;
	}
	if (!l->reopened) {
		o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "id", l->request_id);
		cJSON_AddBoolToObject(o, "ok", 1);
		res = cJSON_AddObjectToObject(o, "result");
		cJSON_AddStringToObject(res, "host", h->label);
		cJSON_AddStringToObject(res, "agent", h->agent_path);
		/* ahead of anything the agent says */
		proto_encode_json(l->to_cli, PROTO_CONTROL, 0, o, NULL);
		cJSON_Delete(o);
		l->unheard = buf_new(); /* (until the agent's first byte) */
	}
	if (mx != NULL)
		host_link_attach_mux(l, mx);
	else
		host_link_attach(l, ch);
	host_link_set_state(l, HOST_LINK_OPEN);
}

/* Grow the SSH channel's receive window as chan-window.h says, while
 * libssh holds none of its data (what waits there earns no window). The
 * first goes in the pump right after the open (host_session's loop:
 * open progress, then each link's pump), with the relay's answer still
 * awaited too: the peer has CHAN_WINDOW_START before the server's first
 * byte, as `ssh -L` gives it, not libssh's 64 KB open. */
static void
host_link_top_up(struct host_session *h, struct host_link *l)
{
	const void *err;
	size_t err_len;
	uint32_t size;

	/* (a stream of the agent session has its own credits: host-mux.c) */
	if (l->ch == NULL ||
	    (l->state != HOST_LINK_OPEN && l->state != HOST_LINK_RELAY) || l->backlog ||
	    l->down != HOST_LINK_DOWN_OPEN ||
	    (size = chan_window_due(&l->win, buf_len(l->to_cli), clock_now_us())) == 0)
		return;
	if (size != l->win_logged) {
		if (l->win.measured == 0) /* (nothing judged yet) */
			log_debug("%s: link %u: receive window %u bytes (at the open)",
			    h->label, l->id, size);
		else
			log_debug("%s: link %u: receive window %u bytes (judged at %llu "
				  "bytes/s, against %llu)",
			    h->label, l->id, size, (unsigned long long)l->win.measured,
			    (unsigned long long)l->win.rate);
		l->win_logged = size;
	}
	if (rdev_ssh_channel_window(h->ssh, l->ch, size, &err, &err_len) != 0) {
		log_warn("%s: link %u: window adjust: %s", h->label, l->id,
		    ssh_get_error(rdev_ssh_session(h->ssh)));
		host_link_kill(l);
	} else if (err_len > 0)
		host_log_agent_stderr(h, err, err_len);
}

/* libssh holds none of the link's data now: n, what its poll or read of
 * the channel said, is 0 (nothing), SSH_EOF or an error. */
static void
host_link_backlog_gone(struct host_session *h, struct host_link *l, int n)
{
	l->backlog = 0;
	if (n == SSH_EOF)
		host_link_remote_eof(l);
	else if (n < 0) {
		log_warn("%s: channel read: %s", h->label,
		    ssh_get_error(rdev_ssh_session(h->ssh)));
		/* (libssh also says so of a channel the peer closed: that is
		 * the peer's end, unless the session itself is gone) */
		if (!ssh_channel_is_closed(l->ch) ||
		    !ssh_is_connected(rdev_ssh_session(h->ssh)))
			host_link_cut(l);
		else
			host_link_remote_eof(l);
	}
}

/* The server's bytes for a client that reset: dropped, and granted to the
 * agent again as if the client took them, so that it keeps reading the
 * server (one that writes as it reads would stop reading once its writes
 * stalled, and the client's bytes before its reset would not go). */
static void
host_link_drop_to_cli(struct host_link *l)
{
	if (l->mx != NULL)
		host_mux_consumed(l->mx, buf_len(l->to_cli));
	buf_reset(l->to_cli);
}

/* l's client reset its connection: a forwarded connection's stream says so
 * in its CLOSE, and the agent resets the server's connection too, once the
 * bytes the client sent before reached the server (a direct-tcpip channel
 * cannot say it: its close is a close). Those the broker holds, and those
 * still in the client's socket, go first (host_link_pump, cli_rst): the
 * link stays for them (1), else it is to be killed now (0).
 *
 * The socket's bytes are read as the stream takes them, as before the
 * reset (at most l->cap held): Linux keeps what came before a reset
 * readable, then reads EOF (once its error was taken, as here by a send,
 * or SO_ERROR; a read takes it only after the bytes). Read at once, they
 * were up to the socket's receive buffer (tcp_rmem's max, 32 MB) held per
 * link. */
static int
host_link_client_reset(struct host_link *l)
{
	if (l->fwd == NULL || l->mx == NULL || host_link_dead(l))
		return 0;
	l->mx->reset_out = 1;
	if (l->cli_rst)
		return 1;
	log_debug("%s: link %u: the client reset it: so is its stream, after the "
		  "%zu bytes held and the %zu its socket holds",
	    l->h->label, l->id, buf_len(l->to_ch),
	    l->up == HOST_LINK_UP_OPEN ? sock_drain_unread(l->fd) : 0);
	l->cli_rst = 1;
	l->cli_blocked = 0;
	l->cli_rst_drain = (struct sock_drain){ 0 };
	/* (no one takes the server's bytes now) */
	host_link_drop_to_cli(l);
	return 1;
}

/* A client's reset (cli_rst) after host_link_pump moved what it could of
 * to_ch: the link ends (its stream's CLOSE "reset") once to_ch and what the
 * client's socket still holds (read as the stream takes it, as any
 * client's) went, or stopped going (sock-drain.h), or the stream ended.
 * (No byte comes after a reset: a socket that holds none is done.) */
static void
host_link_client_reset_step(struct host_link *l)
{
	size_t left = buf_len(l->to_ch) +
	    (l->up == HOST_LINK_UP_OPEN ? sock_drain_unread(l->fd) : 0);
	enum sock_drain_result step =
	    sock_drain_step(&l->cli_rst_drain, -1, left, clock_now_ms());

	host_link_drop_to_cli(l);
	if (step == SOCK_DRAIN_WAIT && l->mx != NULL && l->mx->state != HOST_MUX_FAILED &&
	    !l->mx->closed_in)
		return;
	if (left > 0)
		log_debug("%s: link %u: the server did not take %zu bytes of the "
			  "client's before its reset in time",
		    l->h->label, l->id, left);
	host_link_kill(l);
}

/* Move bytes between the client, the link's buffers and the channel. Calls
 * into libssh only when there is something to move. */
void
host_link_pump(struct host_session *h, struct host_link *l)
{
	unsigned char tmp[65536];
	uint32_t win;
	size_t len, used, drain = 0;
	int n;

	if (host_link_opening(l) || (l->ch == NULL && l->mx == NULL))
		return; /* nothing moves before the channel is open */
	if (l->state == HOST_LINK_RELAY && clock_now_ms() >= l->relay_deadline) {
		/* (the session's loop wakes at least once a second) */
		forward_relay_silent(&l->fwd->fw, l->open_address, l->open_port);
		host_connect_answer(l, NULL, "cannot reach that port of the container");
		host_link_set_state(l, HOST_LINK_DEAD);
		return;
	}
	/* client -> stream, as far as its credit allows */
	while (l->mx != NULL && (len = buf_len(l->to_ch)) > 0 && !host_link_dead(l)) {
		if ((used = host_mux_write(l->mx, buf_data(l->to_ch), len)) == 0)
			break;
		host_link_keep_sent(l, buf_data(l->to_ch), used);
		buf_consume(l->to_ch, used);
	}
	/* client -> channel, as far as the peer's window allows */
	while (l->ch != NULL && (len = buf_len(l->to_ch)) > 0 && !host_link_dead(l)) {
		win = ssh_channel_window_size(l->ch);
		if (win == 0)
			break;
		/* All the window takes at once: libssh cuts it into packets and
		 * flushes once, not once per 32 KiB. */
		if (len > win)
			len = win;
		n = ssh_channel_write(l->ch, buf_data(l->to_ch), (uint32_t)len);
		if (n == SSH_ERROR) {
			log_warn("%s: channel write: %s", h->label,
			    ssh_get_error(rdev_ssh_session(h->ssh)));
			/* An agent link's client is told why before its end
			 * (the link cut under an upload fails here first, the
			 * socket's error before the keepalive's loss): closed
			 * with nothing to read, its write said "writing to the
			 * broker: Broken pipe". */
			if (l->fwd == NULL && l->down < HOST_LINK_DOWN_DRAIN) {
				long long now = clock_now_ms();

				if (h->write_failed_flush_until <= now)
					h->write_failed_flush_until =
					    now + HOST_LINK_LOST_FLUSH_MS;
				host_link_end_agent(l);
				host_link_flush_client(l, h->write_failed_flush_until);
			}
			host_link_kill(l);
			break;
		}
		if (n <= 0)
			break;
		host_link_keep_sent(l, buf_data(l->to_ch), (size_t)n);
		buf_consume(l->to_ch, (size_t)n);
	}
	/* What libssh kept for want of room, now that there may be room: ALL
	 * it holds, whatever room is left. libssh 0.10 tops the channel's
	 * window up to 1.28 MB after every read that finds it below half
	 * (ssh_channel_read_timeout), however much it holds unread: reading
	 * only the room a slow client made, each read let the agent send up to
	 * 1.28 MB more, its buffer grew by that much, and past 256 MiB
	 * (BUFFER_SIZE_MAX) libssh threw the whole buffer away with the packet
	 * that did not fit (channel_default_bufferize): hundreds of MB cut out
	 * of the middle of a stream, a frame's header then read in the middle
	 * of another. Emptied at each read, libssh holds at most the window
	 * it gave since, and to_cli at most that over its bound. */
	while (!host_link_dead(l) && l->ch != NULL && l->backlog &&
	    (drain > 0 || buf_len(l->to_cli) < l->cap)) {
		if (drain == 0) {
			/* (may read the socket: the callback then takes room;
			 * nothing held, an EOF or an error is the read's answer
			 * too, which would only poll the socket again) */
			if ((n = ssh_channel_poll(l->ch, 0)) <= 0) {
				host_link_backlog_gone(h, l, n);
				break;
			}
			drain = (size_t)n;
		}
		n = ssh_channel_read_nonblocking(
		    l->ch, tmp, (uint32_t)(drain < sizeof tmp ? drain : sizeof tmp), 0);
		if (n <= 0) {
			host_link_backlog_gone(h, l, n);
			break;
		}
		/* libssh may have read the socket inside this call, and the data
		 * callback then took room first: keep the rest anyway (to_cli
		 * then holds at most the drain more than its bound). */
		used = host_link_take(l, tmp, (size_t)n);
		if (used < (size_t)n && !host_link_dead(l)) {
			buf_append(l->to_cli, tmp + used, (size_t)n - used);
			host_link_track_frames(l, tmp + used, (size_t)n - used);
		}
		l->backlog = 1;
		drain = (size_t)n < drain ? drain - (size_t)n : 0;
	}
	if (l->cli_rst && !host_link_dead(l)) {
		host_link_client_reset_step(l);
		return;
	}
	if (l->down == HOST_LINK_DOWN_EOF && !l->backlog) {
		if (host_link_reopen(h, l))
			return;
		host_link_set_down(l, HOST_LINK_DOWN_DRAIN);
		if (l->fwd == NULL && !host_link_dead(l))
			host_link_end_agent(l);
	}
	/* client buffer -> client */
	while (!host_link_dead(l) && !l->cli_blocked && buf_len(l->to_cli) > 0) {
		ssize_t w =
		    send(l->fd, buf_data(l->to_cli), buf_len(l->to_cli), MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			l->cli_blocked = 1;
			break;
		}
		if (w < 0) {
			/* the client is gone; a reset (EPIPE: one taken
			 * before) is passed on */
			if ((errno != ECONNRESET && errno != EPIPE) ||
			    !host_link_client_reset(l))
				host_link_kill(l);
			return; /* (a reset's bytes go at the next pump) */
		}
		buf_consume(l->to_cli, (size_t)w);
		if (l->mx != NULL)
			host_mux_consumed(l->mx, (size_t)w);
		chan_window_delivered(&l->win, (size_t)w, clock_now_us());
	}
	host_link_top_up(h, l);
	if (!host_link_dead(l) && host_link_reset_due(l)) {
		host_link_reset(l);
		return;
	}
	/* (one whose reset waits for its socket to drain: no FIN before it) */
	if (l->down >= HOST_LINK_DOWN_DRAIN && buf_len(l->to_cli) == 0 &&
	    l->cut_ms == 0 && !l->reset_end) {
		if (l->fwd == NULL)
			host_link_kill(l);
		else {
			/* Half close towards the client; done once both are. */
			if (l->down == HOST_LINK_DOWN_DRAIN) {
				/* a connect's relay that closed without its
				 * status byte: the answer before the EOF */
				host_connect_answer(
				    l, NULL, "cannot reach that port of the container");
				/* (no relay closes so: it died, or that port
				 * is another program's now; not when the end was
				 * the agent's or the channel's failure) */
				if (l->state == HOST_LINK_RELAY &&
				    host_link_ended_whole(l))
					forward_not_relay(
					    &l->fwd->fw, l->open_address, l->open_port);
				shutdown(l->fd, SHUT_WR);
				host_link_set_down(l, HOST_LINK_DOWN_CLOSED);
			}
			if (l->up != HOST_LINK_UP_OPEN || host_link_chan_closed(l))
				host_link_kill(l);
		}
	}
	if (l->fwd != NULL && l->up == HOST_LINK_UP_EOF && buf_len(l->to_ch) == 0 &&
	    !host_link_dead(l) && l->down < HOST_LINK_DOWN_DRAIN &&
	    host_link_chan_open(l) && l->state != HOST_LINK_RELAY) {
		/* the client's EOF goes on once its data has */
		if (l->mx != NULL)
			host_mux_send_eof(l->mx);
		else
			ssh_channel_send_eof(l->ch);
		host_link_set_up(l, HOST_LINK_UP_CLOSED);
	}
}

int
host_link_client_waits(const struct host_link *l)
{
	/* A stream without credit or room: its client's socket holds the
	 * bytes (the client's own flow control) rather than l->to_ch, from
	 * which they would be copied into a frame again (a third of an
	 * upload's bytes went so); the watch leaves the socket until the
	 * stream takes more. */
	return l->mx != NULL && buf_len(l->to_ch) == 0 && host_mux_full(l->mx);
}

/* A stalled stream's client socket woke the watch (edge-triggered: new
 * bytes, its peer's end (closed), or an error): the bytes stay where they
 * are, but a client that is gone ends the link now rather than once the
 * stream moves again (its target may never read: the stream and the
 * container-side connection would stay open). A reset ends it; so does the
 * end of an agent link's client, whose unread bytes are moot (no one
 * answers a client that left); a forwarded connection's end behind unread
 * bytes waits for them to be read (they are delivered first), and its end
 * with none is its half close. */
static void
host_link_check_client(struct host_link *l, int closed)
{
	int err = 0;
	socklen_t len = sizeof err;
	unsigned char c;
	ssize_t n;

	if (getsockopt(l->fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err != 0) {
		log_debug(
		    "%s: link %u: client socket: %s", l->h->label, l->id, strerror(err));
		if ((err != ECONNRESET && err != EPIPE) || !host_link_client_reset(l))
			host_link_kill(l);
		return;
	}
	if (closed && l->mx_agent) {
		log_debug("%s: link %u: the client left with its stream stalled",
		    l->h->label, l->id);
		host_link_kill(l);
		return;
	}
	while ((n = recv(l->fd, &c, 1, MSG_PEEK)) < 0 && errno == EINTR)
		;
	if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)))
		return;
	if (n == 0 && l->fwd != NULL)
		host_link_set_up(l, HOST_LINK_UP_EOF); /* half close */
	else
		host_link_kill(l);
}

/* The client sent something (or went away). */
void
host_link_read_client(struct host_link *l)
{
	host_link_read_client_on(l, 0);
}

void
host_link_read_client_on(struct host_link *l, int closed)
{
	unsigned char tmp[65536];
	size_t want;
	ssize_t n;

	while (l->up == HOST_LINK_UP_OPEN && buf_len(l->to_ch) < l->cap) {
		/* a stream of the agent session with credit: straight into a
		 * frame (nothing of the client's waits before it), unless its
		 * bytes are kept until the agent speaks */
		if (l->mx != NULL && buf_len(l->to_ch) == 0 && l->unheard == NULL &&
		    host_mux_writable(l->mx))
			n = host_mux_read(l->mx, l->fd, &want);
		else if (host_link_client_waits(l)) {
			host_link_check_client(l, closed);
			return;
		} else if ((n = read(l->fd, tmp, want = sizeof tmp)) > 0)
			buf_append(l->to_ch, tmp, (size_t)n);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n == 0 && l->fwd != NULL) {
			/* half close: the reply may still come */
			host_link_set_up(l, HOST_LINK_UP_EOF);
			return;
		}
		if (n <= 0) {
			/* the client ended: the channel goes too */
			if (n == 0 || errno != ECONNRESET || !host_link_client_reset(l))
				host_link_kill(l);
			return;
		}
		/* A short read emptied the socket: no read that fails with
		 * EAGAIN per message (more, or the end, wakes us again). */
		if ((size_t)n < want)
			return;
	}
}

void
host_drop_dead_links(struct host_session *h)
{
	struct host_link *l, *next;

	for (l = LIST_FIRST(&h->links); l != NULL; l = next) {
		next = LIST_NEXT(l, entry);
		if (l->state == HOST_LINK_DYING) {
			/* An open cannot be taken back: the link goes once its answer
			 * is in (then its channel is closed); the client goes now. */
			if (l->fd >= 0) {
				close(l->fd);
				l->fd = -1;
			}
		} else if (l->state == HOST_LINK_DEAD) {
			LIST_REMOVE(l, entry);
			host_link_free(l);
		}
	}
}

void
host_close_all_links(struct host_session *h)
{
	struct host_link *l;

	/* (not dying: the session goes too, and with it the opens) */
	LIST_FOREACH(l, &h->links, entry)
		host_link_set_state(l, HOST_LINK_DEAD);
	host_drop_dead_links(h);
	/* The count status shows is made by each pass of the session's loop,
	 * which a lost session leaves for its reconnect: it would show the
	 * clients of the session before it, gone now, until it is back. */
	pthread_mutex_lock(&h->lock);
	h->nclients = 0;
	h->buffered = 0;
	pthread_mutex_unlock(&h->lock);
}

/* What libssh read inside a later link's call, with no callback for it: a
 * window adjust for a link whose data waited for one, the answer to an
 * open. Sets h->kicked for such work; the number of links still opening. */
int
host_links_check(struct host_session *h)
{
	struct host_link *l;
	int opening = 0;

	LIST_FOREACH(l, &h->links, entry) {
		/* an agent link's channel is its opener's while in flight; one
		 * that waits for an agent start is not polled (callbacks come) */
		ssh_channel in_flight = l->agent_open != NULL ? l->agent_open->ch : l->ch;
		struct host_mux_chan *mx =
		    l->agent_open != NULL ? l->agent_open->mx : l->mx;

		if (host_link_held(l))
			continue; /* the check's answer kicks */
		if (host_link_opening(l) && mx != NULL) {
			/* answered by a frame, which kicks; the open is sent by
			 * host_mux_step */
			if (mx->state != HOST_MUX_WAITING &&
			    mx->state != HOST_MUX_OPENING)
				h->kicked = 1;
		} else if (host_link_opening(l) && in_flight != NULL) {
			/* (a dying one with no client, as an open handed on by
			 * host_link_orphan_open, waits for its answer to close
			 * its channel: nobody waits, and an address nobody has
			 * answers only at the connect's timeout, tens of
			 * seconds: the loop's wake-up, at least once a second,
			 * finds it) */
			if (!(host_link_dead(l) && l->fd < 0))
				opening++;
			if (ssh_channel_is_open(in_flight))
				h->kicked = 1;
		} else if (l->mx != NULL && buf_len(l->to_ch) > 0 &&
		    host_mux_writable(l->mx))
			h->kicked = 1;
		else if (l->ch != NULL && buf_len(l->to_ch) > 0 &&
		    ssh_channel_window_size(l->ch) > 0)
			h->kicked = 1;
		else if ((l->rst_drain.last_left != 0 || l->cli_rst) &&
		    !host_link_dead(l))
			/* its reset waits for the client's socket to send what
			 * it holds, which nothing announces: looked at again in
			 * the poll of links opening */
			opening++;
		else if (l->ch != NULL && !host_link_dead(l) && l->backlog &&
		    buf_len(l->to_cli) < l->cap)
			/* libssh holds data and the client took what we had (or a
			 * callback left some): pull it now, not at the next wake-up */
			h->kicked = 1;
	}
	return opening;
}
