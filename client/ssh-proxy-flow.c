/* ssh-proxy-flow.c - the bytes of `rdev ssh-proxy`'s channels and their
 * flow control (ssh-proxy-internal.h; docs/SSH-PROXY.md, "Flow control").
 *
 * Client to container: the agent takes a command's stdin no faster than the
 * command reads it, so past SSH_PROXY_IN_MAX queued for the agent a
 * channel's bytes stay in libssh, whose window then stops the client, and
 * are pulled once the queue has drained to half (all at once: a read of
 * part of them grows the window past the rest, ssh_proxy_flow_take). Each
 * exec's stdin is paced too ("stdinWindow", the agent's WINDOW frames): no
 * more is sent than the agent granted, so it holds little for a command
 * that does not read.
 *
 * Container to client: each exec's output is paced by credit (its
 * request's "window", WINDOW frames granted as the client's window takes
 * the bytes), so a client that stops reading one channel stalls that
 * channel only; with an agent that does not pace (no "window" in its
 * answer) the agent is not read while those channels' buffers hold
 * SSH_PROXY_OUT_MAX.
 */
#include "ssh-proxy-internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "byte-order.h"
#include "log.h"
#include "proto-conn.h"
#include "xmalloc.h"

#define SSH_PROXY_WRITE_CHUNK 32768
/* The most client bytes per DATA frame to the agent. */
#define SSH_PROXY_IN_FRAME 65536
/* A direct-tcpip's most per write (libssh cuts it into packets). */
#define SSH_PROXY_TCP_WRITE (256u << 10)

size_t
ssh_proxy_flow_send_in(struct ssh_proxy_chan *pc, const void *data, size_t len)
{
	size_t off, n;

	if (pc->in_paced && len > pc->in_credit)
		len = pc->in_credit;
	if (len == 0)
		return 0;
	/* (in frames of at most 64 KiB, as libssh's reads gave them: the
	 * agent passes each on as one chunk) */
	for (off = 0; off < len; off += n) {
		n = len - off < SSH_PROXY_IN_FRAME ? len - off : SSH_PROXY_IN_FRAME;
		proto_conn_queue(
		    pc->p->c, PROTO_DATA, pc->agent_ch, (const char *)data + off, n);
	}
	if (pc->in_paced)
		pc->in_credit -= (uint32_t)len;
	return len;
}

int
ssh_proxy_flow_on_data(
    ssh_session s, ssh_channel ch, void *data, uint32_t len, int is_stderr, void *arg)
{
	struct ssh_proxy_chan *pc = arg;
	size_t n;

	if (pc->tcp != NULL)
		return ssh_proxy_tcp_on_data(pc, data, len);
	if (ssh_proxy_chan_live(pc)) {
		/* The agent takes stdin no faster than the command reads it:
		 * beyond its stdin credit or SSH_PROXY_IN_MAX queued, leave the
		 * bytes in libssh, whose window then stops the client
		 * (ssh_proxy_flow_pull takes them later). */
		if (pc->in_held || proto_conn_pending_out(pc->p->c) >= SSH_PROXY_IN_MAX) {
			pc->in_held = 1;
			return 0;
		}
		if ((n = ssh_proxy_flow_send_in(pc, data, len)) < len)
			pc->in_held = 1;
		return (int)n;
	} else if (pc->state == SSH_PROXY_CHAN_OPEN &&
	    (pc->forward_port > 0 || pc->held)) {
		/* Before the exec starts (the relay or the agent socket not
		 * there yet) as much waits here, the rest in libssh. */
		if (pc->in_held || buf_len(pc->in) >= SSH_PROXY_IN_MAX) {
			pc->in_held = 1;
			return 0;
		}
		buf_append(pc->in, data, len);
	}
	return (int)len;
}

void
ssh_proxy_flow_on_eof(ssh_session s, ssh_channel ch, void *arg)
{
	struct ssh_proxy_chan *pc = arg;

	if (pc->tcp != NULL || pc->state == SSH_PROXY_CHAN_OPEN || pc->in_held) {
		pc->in_eof = 1; /* sent after the bytes before it */
		return;
	}
	/* With a TTY the agent takes no end of stdin (the terminal's ^D is). */
	if (!pc->tty && ssh_proxy_chan_live(pc))
		proto_conn_queue(pc->p->c, PROTO_EOF, pc->agent_ch, NULL, 0);
}

int
ssh_proxy_flow_take(struct ssh_proxy_chan *pc)
{
	unsigned char *tmp;
	int avail, n;

	if ((avail = ssh_channel_poll(pc->ch, 0)) <= 0)
		return 0;
	/* (a copy: the read may handle packets, whose callback could append
	 * to pc->in under a pointer into it) */
	tmp = xmalloc((size_t)avail);
	n = ssh_channel_read_nonblocking(pc->ch, tmp, (uint32_t)avail, 0);
	if (n > 0)
		buf_append(pc->in, tmp, (size_t)n);
	free(tmp);
	return n > 0 ? n : 0;
}

/* Take the client's bytes a held channel left in libssh while the agent's
 * queue has room (all of them at once: ssh_proxy_flow_take), then the EOF
 * that came after them. */
void
ssh_proxy_flow_pull(struct ssh_proxy_chan *pc)
{
	struct ssh_proxy *p = pc->p;

	if (pc->tcp != NULL || !pc->in_held || !ssh_proxy_chan_live(pc) ||
	    proto_conn_pending_out(p->c) >= SSH_PROXY_IN_MAX / 2 ||
	    (pc->in_paced && pc->in_credit == 0))
		return;
	/* (the bytes from before the exec started, or a read's unsent rest,
	 * first) */
	buf_consume(
	    pc->in, ssh_proxy_flow_send_in(pc, buf_data(pc->in), buf_len(pc->in)));
	if (buf_len(pc->in) > 0)
		return;
	/* in_held stays set while libssh is read: the read can handle new
	 * packets, which call ssh_proxy_flow_on_data, and that callback must
	 * leave them in libssh then (a callback that sent some took the credit
	 * this read was sized for, and the read's bytes were dropped). */
	while (proto_conn_pending_out(p->c) < SSH_PROXY_IN_MAX &&
	    (!pc->in_paced || pc->in_credit > 0)) {
		if (ssh_proxy_flow_take(pc) == 0) { /* (libssh holds none now) */
			pc->in_held = 0;
			break;
		}
		/* (what the credit does not cover waits in pc->in, sent first
		 * next time) */
		buf_consume(pc->in,
		    ssh_proxy_flow_send_in(pc, buf_data(pc->in), buf_len(pc->in)));
		if (buf_len(pc->in) > 0)
			return;
	}
	if (!pc->in_held && pc->in_eof && !pc->tty && ssh_proxy_chan_live(pc)) {
		pc->in_eof = 0;
		proto_conn_queue(p->c, PROTO_EOF, pc->agent_ch, NULL, 0);
	}
}

void
ssh_proxy_flow_frame(struct ssh_proxy_chan *pc, int stream, const struct proto_frame *f)
{
	if (f->type == PROTO_EOF) {
		if (stream == 1)
			pc->out_eof = 1;
		return;
	}
	if (f->type == PROTO_WINDOW) {
		/* stdin the command took: credit for more */
		if (stream != 1 || !pc->in_paced || f->len != 4)
			return;
		if (be_get_u32(f->payload) > SSH_PROXY_STDIN_WINDOW - pc->in_credit) {
			free(pc->p->error);
			pc->p->error =
			    xstrdup("the agent granted more stdin than was sent");
			return;
		}
		pc->in_credit += be_get_u32(f->payload);
		return;
	}
	pc->received += f->len;
	if (pc->client_closed)
		return;
	if (stream == 1 && pc->forward_port > 0)
		ssh_proxy_relay_output(pc, f->payload, f->len);
	else if (stream == 2 && pc->forward_port > 0)
		/* (a forwarded connection has no stderr) */
		log_info("ssh-proxy: port %d: %.*s", pc->forward_port, (int)f->len,
		    (const char *)f->payload);
	else
		buf_append(stream == 1 ? pc->out : pc->err, f->payload, f->len);
}

int
ssh_proxy_flow_room(struct ssh_proxy *p)
{
	struct ssh_proxy_chan *pc;
	size_t held = 0, paced = 0;
	int starved = 0;

	LIST_FOREACH(pc, &p->chans, entry) {
		if (pc->tcp != NULL)
			continue; /* (bounded on its own, fed by the broker) */
		if (pc->window > 0)
			paced += buf_len(pc->out) + buf_len(pc->err);
		else
			held += buf_len(pc->out) + buf_len(pc->err);
		starved |= pc->in_paced && pc->in_credit == 0 && pc->in_held;
	}
	/* A channel waiting for stdin credit needs the agent's frames read: its
	 * grant may be behind the paced output of channels whose readers wait
	 * for their writes to finish (paced output stays bounded by each
	 * channel's window). */
	return held < SSH_PROXY_OUT_MAX && (paced < SSH_PROXY_PACED_MAX || starved);
}

/* Give the agent credit for the output this channel no longer holds (sent
 * to the client, or dropped when the client closed it), in quarters of the
 * window: what is in flight plus what waits here stays within the window. */
static void
ssh_proxy_flow_grant(struct ssh_proxy_chan *pc)
{
	size_t held = buf_len(pc->out) + buf_len(pc->err);
	uint64_t target;
	unsigned char w[4];

	if (pc->window == 0 || pc->agent_closed)
		return;
	target = (pc->received > held ? pc->received - held : 0) + pc->window;
	if (target < pc->granted + pc->window / 4)
		return;
	be_put_u32(w, (uint32_t)(target - pc->granted));
	proto_conn_queue(pc->p->c, PROTO_WINDOW, pc->agent_ch, w, sizeof w);
	pc->granted = target;
}

int
ssh_proxy_flow_flush(struct ssh_proxy_chan *pc)
{
	unsigned char chunk[SSH_PROXY_WRITE_CHUNK];
	struct buf *b;
	size_t len;
	int n, stream;

	for (stream = 1; stream <= 2; stream++) {
		b = stream == 1 ? pc->out : pc->err;
		if (stream == 2 && pc->forward_port > 0) {
			/* A direct-tcpip channel's stderr (the relay's, the
			 * exec's warnings): ssh drops a channel's extended data
			 * but shows a ProxyCommand's stderr. */
			fwrite(buf_data(b), 1, buf_len(b), stderr);
			buf_reset(b);
			continue;
		}
		while ((len = buf_len(b)) > 0 && !pc->client_closed) {
			if (pc->tcp != NULL && stream == 1) {
				/* From the buffer itself: a direct-tcpip's out is
				 * only appended to by its fd's callback, which
				 * leaves it alone while this write runs. */
				if (len > SSH_PROXY_TCP_WRITE)
					len = SSH_PROXY_TCP_WRITE;
				pc->tcp_flushing = 1;
				n = ssh_channel_write(pc->ch, buf_data(b), len);
				pc->tcp_flushing = 0;
			} else {
				if (len > SSH_PROXY_WRITE_CHUNK)
					len = SSH_PROXY_WRITE_CHUNK;
				/* A copy: a write that waits for the client's
				 * window polls the event's fds, the agent's too,
				 * whose frames append to b (a realloc under
				 * libssh's feet: the proxy crashed after 160 MB of
				 * a 1 GB ssh -L). */
				memcpy(chunk, buf_data(b), len);
				n = stream == 1
				    ? ssh_channel_write(pc->ch, chunk, len)
				    : ssh_channel_write_stderr(pc->ch, chunk, len);
			}
			if (n == SSH_ERROR)
				return -1;
			if (n <= 0)
				break;
			buf_consume(b, (size_t)n);
		}
		if (pc->client_closed)
			buf_reset(b);
	}
	ssh_proxy_flow_grant(pc);
	if (buf_len(pc->out) > 0 || buf_len(pc->err) > 0)
		return 0;
	if (pc->out_eof && !pc->eof_sent && !pc->client_closed) {
		ssh_channel_send_eof(pc->ch);
		pc->eof_sent = 1;
	}
	if (pc->state == SSH_PROXY_CHAN_EXITED)
		ssh_proxy_chan_end(pc);
	return 0;
}
