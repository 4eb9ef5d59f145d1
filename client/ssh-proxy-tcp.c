/* ssh-proxy-tcp.c - direct-tcpip channels of `rdev ssh-proxy` to a port of
 * the container, carried by the broker (ssh-proxy-internal.h): each on a
 * connection of its own to the broker, whose "connect" request routes it
 * as `rdev forward` routes a forwarded connection (straight to the
 * container's address when the server listens there, else through the
 * container's relay; docs/PROTOCOL.md) and answers once it is open. After
 * the answer the connection carries the server's bytes both ways, with no
 * Docker exec and no agent process in the way.
 *
 * Flow control: at most SSH_PROXY_TCP_BUFFER waits here per direction; past
 * it the broker's socket is not read (its buffers then stop the server), or
 * the client's bytes stay in libssh (whose window then stops the client), so
 * one slow reader stalls its own channel only.
 *
 * A broker that does not know "connect" (older) answers "unknown
 * operation": the channel then goes the relay's way (ssh-proxy-relay.c).
 */
#include "ssh-proxy-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "broker-client.h"
#include "buf-io.h"
#include "buf.h"
#include "clock.h"
#include "log.h"
#include "proto-conn.h"
#include "xmalloc.h"

/* The most read from the broker at once. */
#define SSH_PROXY_TCP_READ (256u << 10)

int
ssh_proxy_tcp_start(struct ssh_proxy_chan *pc)
{
	struct ssh_proxy *p = pc->p;
	struct proto_conn *c;
	cJSON *req, *item;
	char *cause = NULL;
	int id;

	if (p->o->host == NULL)
		return -1;
	/* (the broker runs: this proxy reaches the agent through it; its HELLO
	 * is read with the answer, not waited for in libssh's callback, where
	 * a stuck broker would stop every channel) */
	if (broker_client_connect_nowait("rdev " RDEV_VERSION, &c, &cause) != 0) {
		log_info(
		    "ssh-proxy: port %d: %s; through the relay", pc->forward_port, cause);
		free(cause);
		return -1;
	}
	req = ssh_proxy_workspace_op(p, "connect", &id);
	cJSON_ArrayForEach(item, p->o->host) {
		if (cJSON_GetObjectItemCaseSensitive(req, item->string) == NULL)
			cJSON_AddItemToObject(
			    req, item->string, cJSON_Duplicate(item, 1));
	}
	cJSON_AddNumberToObject(req, "containerPort", pc->forward_port);
	if (proto_conn_queue_json(c, PROTO_CONTROL, 0, req, &cause) != 0 ||
	    proto_conn_flush(c, &cause) != 0) {
		log_info(
		    "ssh-proxy: port %d: %s; through the relay", pc->forward_port, cause);
		free(cause);
		cJSON_Delete(req);
		proto_conn_free(c);
		return -1;
	}
	cJSON_Delete(req);
	fcntl(proto_conn_fd(c), F_SETFL, fcntl(proto_conn_fd(c), F_GETFL) | O_NONBLOCK);
	pc->tcp = c;
	pc->tcp_hello_by = clock_now_ms() + p->relink_ms;
	/* (no exec: nothing of the agent's to wait for at the end) */
	pc->agent_closed = 1;
	return 0;
}

static void ssh_proxy_tcp_end(struct ssh_proxy_chan *);

/* Stop watching pc's connection and close it (not from its fd's callback). */
static void
ssh_proxy_tcp_close(struct ssh_proxy_chan *pc)
{
	if (pc->tcp == NULL)
		return;
	if (pc->tcp_events != 0)
		ssh_event_remove_fd(pc->p->ev, proto_conn_fd(pc->tcp));
	pc->tcp_events = 0;
	proto_conn_free(pc->tcp);
	pc->tcp = NULL;
}

void
ssh_proxy_tcp_free(struct ssh_proxy_chan *pc)
{
	ssh_proxy_tcp_close(pc);
	free(pc->tcp_error);
	pc->tcp_error = NULL;
}

/* Leave what = SSH_PROXY_TCP_* (and the reason why, for FAILED) to
 * ssh_proxy_tcp_step: called from the fd's callback, where the fd cannot be
 * removed from libssh's event. */
static void
ssh_proxy_tcp_defer(struct ssh_proxy_chan *pc, int what, const char *why)
{
	pc->tcp_pending = what;
	if (why != NULL && pc->tcp_error == NULL)
		pc->tcp_error = xstrdup(why);
}

/* Do what the fd's callback left (ssh_proxy_tcp_defer). */
static void
ssh_proxy_tcp_do_pending(struct ssh_proxy_chan *pc)
{
	int what = pc->tcp_pending;

	pc->tcp_pending = SSH_PROXY_TCP_NONE;
	switch (what) {
	case SSH_PROXY_TCP_END: ssh_proxy_tcp_end(pc); break;
	case SSH_PROXY_TCP_FAILED:
		ssh_proxy_tcp_close(pc);
		ssh_proxy_chan_failed(pc,
		    pc->tcp_error != NULL ? pc->tcp_error : "cannot connect",
		    SSH_PROXY_EXIT_FAILED);
		break;
	case SSH_PROXY_TCP_FALLBACK:
		ssh_proxy_tcp_close(pc);
		pc->agent_closed = 0;
		ssh_proxy_relay_open(pc);
		break;
	}
	free(pc->tcp_error);
	pc->tcp_error = NULL;
}

/* The channel's connection ends (both ways done, or broken): the channel
 * ends once what was read is sent. */
static void
ssh_proxy_tcp_end(struct ssh_proxy_chan *pc)
{
	char *why;

	if (pc->tcp_cut == ECONNRESET) {
		/* (the broker resets it for a server's reset as for a loss of
		 * the host or its agent, which this end cannot tell apart: not a
		 * failure of the proxy, which a server's own reset is not; a
		 * lost host ends ssh's session anyway) */
		ssh_proxy_port_say(pc,
		    "the connection was reset by the server "
		    "(or its host/agent went away)");
	} else if (pc->tcp_cut != 0) {
		why = xasprintf("the connection was cut (%s)", strerror(pc->tcp_cut));
		ssh_proxy_port_failed(pc, why);
		free(why);
	}
	pc->tcp_cut = 0;
	pc->out_eof = 1;
	ssh_proxy_tcp_close(pc);
	if (pc->state < SSH_PROXY_CHAN_EXITED)
		ssh_proxy_chan_set_state(pc, SSH_PROXY_CHAN_EXITED);
}

/* The broker's answer msg to the connect request. */
static void
ssh_proxy_tcp_answer(struct ssh_proxy_chan *pc, const cJSON *msg)
{
	const char *error, *route;

	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(msg, "ok"))) {
		route = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(msg, "result"), "route"));
		log_info("ssh-proxy: port %d: connected (%s, through the broker)",
		    pc->forward_port, route != NULL ? route : "?");
		pc->tcp_open = 1;
		ssh_proxy_chan_set_state(pc, SSH_PROXY_CHAN_RUNNING);
		/* the server's first bytes, read with the answer */
		proto_conn_take_input(pc->tcp, pc->out);
		return;
	}
	error = ssh_proxy_answer_error(msg, "cannot connect");
	if (strncmp(error, "unknown operation", 17) == 0)
		ssh_proxy_tcp_defer(pc, SSH_PROXY_TCP_FALLBACK, NULL); /* older broker */
	else
		ssh_proxy_tcp_defer(pc, SSH_PROXY_TCP_FAILED, error);
}

/* Read the broker's frames until its answer. */
static void
ssh_proxy_tcp_read_answer(struct ssh_proxy_chan *pc)
{
	struct proto_frame f;
	char *cause = NULL, *why = NULL;
	uint32_t version;
	cJSON *msg;
	int rc = proto_conn_read_some(pc->tcp, &cause);

	while (!pc->tcp_open && pc->tcp_pending == SSH_PROXY_TCP_NONE &&
	    proto_conn_next(pc->tcp, &f, NULL) == 1) {
		if (!pc->tcp_hello) {
			if (proto_conn_check_hello(pc->tcp, &f, &version, &why) != 0) {
				log_info("ssh-proxy: port %d: %s; through the relay",
				    pc->forward_port, why);
				free(why);
				ssh_proxy_tcp_defer(pc, SSH_PROXY_TCP_FALLBACK, NULL);
			}
			pc->tcp_hello = 1;
			continue;
		}
		if (f.type != PROTO_CONTROL || (msg = proto_frame_json(&f, NULL)) == NULL)
			continue;
		/* (progress events have no "ok") */
		if (cJSON_GetObjectItemCaseSensitive(msg, "ok") != NULL)
			ssh_proxy_tcp_answer(pc, msg);
		cJSON_Delete(msg);
	}
	if (!pc->tcp_open && pc->tcp_pending == SSH_PROXY_TCP_NONE && rc <= 0)
		ssh_proxy_tcp_defer(pc, SSH_PROXY_TCP_FAILED,
		    cause != NULL ? cause : "the broker closed the connection");
	free(cause);
}

static int
ssh_proxy_tcp_on_fd(socket_t fd, int revents, void *arg)
{
	struct ssh_proxy_chan *pc = arg;
	size_t want;
	ssize_t n;

	/* (only flags and buffers here: libssh still uses the fd's poll handle
	 * after this returns, and may run this inside ssh_proxy_tcp_step's calls,
	 * or inside the write of out: then out is not touched, the fd stays
	 * readable for the next pass) */
	if (pc->tcp == NULL || pc->tcp_pending != SSH_PROXY_TCP_NONE || pc->tcp_flushing)
		return 0;
	if (!pc->tcp_open) {
		ssh_proxy_tcp_read_answer(pc);
		return 0;
	}
	if (!(revents & (POLLIN | POLLHUP | POLLERR)))
		return 0;
	/* Straight into out, and no read after a short one (the socket is
	 * drained then: a read for EAGAIN would be one syscall more per pass). */
	while (!pc->out_eof && buf_len(pc->out) < SSH_PROXY_TCP_BUFFER) {
		want = SSH_PROXY_TCP_BUFFER - buf_len(pc->out);
		if (want > SSH_PROXY_TCP_READ)
			want = SSH_PROXY_TCP_READ;
		n = read(fd, buf_reserve(pc->out, want), want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0) {
			/* a reset: the broker lost the far side (the agent,
			 * the host), or the server reset it: the stream is cut,
			 * which ssh -W's reader must not take for its end */
			pc->tcp_cut = errno;
			ssh_proxy_tcp_defer(pc, SSH_PROXY_TCP_END, NULL);
			break;
		}
		if (n == 0) {
			/* the server's half close: EOF on the channel once out
			 * is sent; the client may still send */
			pc->out_eof = 1;
			break;
		}
		buf_commit(pc->out, (size_t)n);
		if ((size_t)n < want)
			break;
	}
	return 0;
}

int
ssh_proxy_tcp_on_data(struct ssh_proxy_chan *pc, const void *data, size_t len)
{
	if (pc->in_held || buf_len(pc->in) >= SSH_PROXY_TCP_BUFFER) {
		pc->in_held = 1; /* (in libssh: ssh_proxy_tcp_step pulls it) */
		return 0;
	}
	buf_append(pc->in, data, len);
	return (int)len;
}

/* Write the client's bytes to the broker; 0, or -1 when the broker's side
 * no longer takes them (the server closed). */
static int
ssh_proxy_tcp_write(struct ssh_proxy_chan *pc)
{
	return buf_io_flush(pc->in, proto_conn_fd(pc->tcp), 1, NULL);
}

void
ssh_proxy_tcp_watch(struct ssh_proxy_chan *pc)
{
	short events = 0;
	int fd;

	if (pc->tcp == NULL)
		return;
	fd = proto_conn_fd(pc->tcp);
	/* (pending: nothing more to read, ssh_proxy_tcp_step ends it) */
	if (pc->tcp_pending != SSH_PROXY_TCP_NONE)
		events = 0;
	else if (!pc->tcp_open ||
	    (!pc->out_eof && buf_len(pc->out) < SSH_PROXY_TCP_BUFFER))
		events |= POLLIN;
	if (pc->tcp_pending == SSH_PROXY_TCP_NONE && pc->tcp_open && buf_len(pc->in) > 0)
		events |= POLLOUT;
	if (events == pc->tcp_events)
		return;
	if (pc->tcp_events != 0)
		ssh_event_remove_fd(pc->p->ev, fd);
	if (events != 0 &&
	    ssh_event_add_fd(pc->p->ev, fd, events, ssh_proxy_tcp_on_fd, pc) != SSH_OK)
		fatal("ssh_event_add_fd");
	pc->tcp_events = events;
}

void
ssh_proxy_tcp_step(struct ssh_proxy_chan *pc)
{
	if (pc->tcp == NULL)
		return;
	if (pc->client_closed) {
		ssh_proxy_tcp_close(pc);
		return;
	}
	/* (a broker answers its HELLO at once: one that does not is stopped or
	 * hung, and the channel is refused, not left waiting for ever; its
	 * answer to the connect may take long, the new container's relay) */
	if (!pc->tcp_hello && pc->tcp_pending == SSH_PROXY_TCP_NONE &&
	    clock_now_ms() >= pc->tcp_hello_by) {
		char within[32], *why;

		clock_ms_text(pc->p->relink_ms, within, sizeof within);
		why = xasprintf("the broker did not answer within %s (stopped? "
				"see `rdev-broker status`)",
		    within);
		ssh_proxy_tcp_defer(pc, SSH_PROXY_TCP_FAILED, why);
		free(why);
	}
	if (pc->tcp_pending != SSH_PROXY_TCP_NONE) {
		ssh_proxy_tcp_do_pending(pc);
		return;
	}
	if (pc->tcp_open) {
		/* what libssh held for want of room, now that there is some */
		while (pc->in_held && buf_len(pc->in) < SSH_PROXY_TCP_BUFFER / 2)
			if (ssh_proxy_flow_take(pc) == 0)
				pc->in_held = 0;
		/* (libssh's reads above may have run the fd's callback) */
		if (pc->client_closed || pc->tcp_pending != SSH_PROXY_TCP_NONE) {
			ssh_proxy_tcp_step(pc);
			return;
		}
		if (ssh_proxy_tcp_write(pc) != 0) {
			/* the server's side is gone: so is the channel */
			ssh_proxy_tcp_end(pc);
			return;
		}
		if (pc->in_eof && !pc->in_held && buf_len(pc->in) == 0 &&
		    !pc->tcp_eof_sent) {
			/* the client's half close, after its bytes */
			shutdown(proto_conn_fd(pc->tcp), SHUT_WR);
			pc->tcp_eof_sent = 1;
		}
		if (pc->out_eof && pc->tcp_eof_sent)
			ssh_proxy_tcp_end(pc); /* both ways done */
	}
}
