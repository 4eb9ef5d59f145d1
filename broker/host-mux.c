/* host-mux.c - streams of the agent session: byte streams carried on the
 * long-lived agent's own exec channel, for hosts whose sshd forwards
 * nothing (AllowTcpForwarding / AllowStreamLocalForwarding no) and allows
 * one session channel (host-internal.h; the agent's side is
 * agent/serve-mux.h, the frames docs/PROTOCOL.md). */
#include "host-internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "byte-order.h"
#include "error.h"
#include "log.h"
#include "xmalloc.h"

/* Frames for the agent waiting in h->mux_out before streams stop adding:
 * a link's client's bytes then stay in its socket (host_link_client_waits;
 * only what its link read before the stream opened waits in the link). */
#define HOST_MUX_OUT_MAX (512u << 10)
/* The most one DATA frame carries. */
#define HOST_MUX_CHUNK 65536u

static const char *
host_mux_state_name(enum host_mux_state s)
{
	switch (s) {
	case HOST_MUX_WAITING: return "waiting";
	case HOST_MUX_OPENING: return "opening";
	case HOST_MUX_OPEN: return "open";
	case HOST_MUX_FAILED: return "failed";
	}
	return "?";
}

/* opening and open may fail; waiting -> opening -> open; nothing else. */
static void
host_mux_set_state(struct host_mux_chan *c, enum host_mux_state to)
{
	int ok = (to == HOST_MUX_OPENING && c->state == HOST_MUX_WAITING) ||
	    (to == HOST_MUX_OPEN && c->state == HOST_MUX_OPENING) ||
	    (to == HOST_MUX_FAILED && c->state != HOST_MUX_FAILED);

	if (!ok)
		fatal("%s: stream %u: %s -> %s is not a transition", c->h->label, c->id,
		    host_mux_state_name(c->state), host_mux_state_name(to));
	log_debug("%s: stream %u: %s -> %s", c->h->label, c->id,
	    host_mux_state_name(c->state), host_mux_state_name(to));
	c->state = to;
}

static struct host_mux_chan *
host_mux_find(struct host_session *h, uint32_t id)
{
	struct host_mux_chan *c;

	LIST_FOREACH(c, &h->mux_chans, entry) {
		if (c->id == id)
			return c;
	}
	return NULL;
}

/* c failed: its open was refused (its owner sees the state), or the agent
 * ended while it was open (its owner hears the end). */
static void
host_mux_fail(struct host_mux_chan *c, const char *error, int refused)
{
	int was_open = c->state == HOST_MUX_OPEN;

	if (c->error == NULL && error != NULL)
		c->error = xstrdup(error);
	c->refused = refused;
	if (c->state != HOST_MUX_FAILED)
		host_mux_set_state(c, HOST_MUX_FAILED);
	c->h->kicked = 1;
	if (!was_open || c->eof_in)
		return;
	c->eof_in = 1;
	if (c->on_eof != NULL)
		c->on_eof(c->arg);
}

struct host_mux_chan *
host_mux_open(struct host_session *h, const char *connect, const char *address, int port,
    uint32_t window)
{
	struct host_mux_chan *c = xcalloc(1, sizeof *c);

	c->h = h;
	c->id = ++h->mux_seq;
	if (c->id == 0)
		c->id = ++h->mux_seq;
	c->state = HOST_MUX_WAITING;
	c->connect = xstrdup(connect);
	c->address = address != NULL ? xstrdup(address) : NULL;
	c->port = port;
	c->window = window;
	c->held = buf_new();
	LIST_INSERT_HEAD(&h->mux_chans, c, entry);
	h->kicked = 1; /* host_mux_step sends it */
	return c;
}

void
host_mux_set_owner(
    struct host_mux_chan *c, host_mux_data_fn on_data, host_mux_eof_fn on_eof, void *arg)
{
	size_t used;

	c->on_data = on_data;
	c->on_eof = on_eof;
	c->arg = arg;
	if (on_data != NULL && buf_len(c->held) > 0) {
		used = on_data(arg, buf_data(c->held), buf_len(c->held));
		buf_consume(c->held, used);
	}
	if (c->eof_in && on_eof != NULL)
		on_eof(arg);
}

/* May c's DATA go to the agent now (credit aside)? Once open, or right
 * behind an early open (its open is ahead of it in mux_out). */
static int
host_mux_sending(const struct host_mux_chan *c)
{
	return !c->eof_out &&
	    (c->state == HOST_MUX_OPEN || (c->state == HOST_MUX_OPENING && c->early));
}

/* n bytes of c's DATA were queued: they use its credit (and before the
 * answer, the early credit the answer accounts for). */
static void
host_mux_sent(struct host_mux_chan *c, size_t n)
{
	c->credit -= (uint32_t)n;
	if (c->state == HOST_MUX_OPENING)
		c->early_sent += (uint32_t)n;
}

size_t
host_mux_write(struct host_mux_chan *c, const void *data, size_t len)
{
	struct host_session *h = c->h;
	size_t done = 0, n;

	if (!host_mux_sending(c))
		return 0;
	while (done < len && c->credit > 0 && buf_len(h->mux_out) < HOST_MUX_OUT_MAX) {
		n = len - done;
		if (n > c->credit)
			n = c->credit;
		if (n > HOST_MUX_CHUNK)
			n = HOST_MUX_CHUNK;
		proto_encode(h->mux_out, PROTO_DATA, c->id, (const char *)data + done, n);
		host_mux_sent(c, n);
		done += n;
	}
	if (done > 0)
		h->kicked = 1; /* host_mux_step writes it */
	return done;
}

int
host_mux_writable(const struct host_mux_chan *c)
{
	return host_mux_sending(c) && c->credit > 0 &&
	    buf_len(c->h->mux_out) < HOST_MUX_OUT_MAX;
}

int
host_mux_full(const struct host_mux_chan *c)
{
	return host_mux_sending(c) && !host_mux_writable(c);
}

ssize_t
host_mux_read(struct host_mux_chan *c, int fd, size_t *asked)
{
	struct buf *out = c->h->mux_out;
	size_t want = c->credit < HOST_MUX_CHUNK ? c->credit : HOST_MUX_CHUNK;
	unsigned char *p = buf_reserve(out, PROTO_HEADER_SIZE + want);
	ssize_t n = read(fd, p + PROTO_HEADER_SIZE, want);

	*asked = want;

	/* (the header is written once the length is known) */
	if (n <= 0)
		return n;
	proto_put_header(p, PROTO_DATA, c->id, (uint32_t)n);
	buf_commit(out, PROTO_HEADER_SIZE + (size_t)n);
	host_mux_sent(c, (size_t)n);
	c->h->kicked = 1;
	return n;
}

void
host_mux_consumed(struct host_mux_chan *c, size_t n)
{
	unsigned char w[4];

	c->consumed += n;
	if (c->consumed > c->unacked)
		c->consumed = c->unacked; /* (bytes of the owner's own) */
	if (c->consumed == 0 || c->state != HOST_MUX_OPEN || c->eof_in)
		return;
	/* In quarters of the window: no deadlock (a sender out of credit has
	 * sent a whole window, all of it consumed once the owner drained), and
	 * no WINDOW frame per small message (an extra SSH packet each way). */
	if (c->consumed >= c->window / 4) {
		be_put_u32(w, c->consumed);
		proto_encode(c->h->mux_out, PROTO_WINDOW, c->id, w, sizeof w);
		c->unacked -= c->consumed;
		c->consumed = 0;
		c->h->kicked = 1;
	}
}

void
host_mux_send_eof(struct host_mux_chan *c)
{
	if (!host_mux_sending(c))
		return;
	c->eof_out = 1;
	proto_encode(c->h->mux_out, PROTO_EOF, c->id, NULL, 0);
	c->h->kicked = 1;
}

void
host_mux_close(struct host_mux_chan *c)
{
	if (c == NULL)
		return;
	/* an open in flight or open: the agent drops the stream (its answer
	 * to an open in flight is then ignored here) */
	if ((c->state == HOST_MUX_OPENING || c->state == HOST_MUX_OPEN) &&
	    !c->closed_in && c->reset_out) {
		/* (an older agent reads no payload: it closes, as for any) */
		static const char rst[] = "{\"reset\":true}";

		proto_encode(c->h->mux_out, PROTO_CLOSE, c->id, rst, sizeof rst - 1);
	} else if ((c->state == HOST_MUX_OPENING || c->state == HOST_MUX_OPEN) &&
	    !c->closed_in)
		proto_encode(c->h->mux_out, PROTO_CLOSE, c->id, NULL, 0);
	LIST_REMOVE(c, entry);
	buf_free(c->held);
	free(c->connect);
	free(c->address);
	free(c->error);
	free(c);
}

/* The agent's answer to an open. */
static void
host_mux_answer(struct host_session *h, const cJSON *msg)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(msg, "id");
	const cJSON *win = cJSON_GetObjectItemCaseSensitive(msg, "window");
	const cJSON *err = cJSON_GetObjectItemCaseSensitive(msg, "error");
	struct host_mux_chan *c;

	/* (a number out of uint32_t's range is converted to none: undefined) */
	if (!cJSON_IsNumber(id) || !(id->valuedouble >= 1) ||
	    id->valuedouble > 4294967295.0)
		return;
	if ((c = host_mux_find(h, (uint32_t)id->valuedouble)) == NULL) {
		/* not a stream's: a request's on the session (host_mux_request) */
		host_agent_call_answer(h, (uint32_t)id->valuedouble, msg);
		return;
	}
	if (c->state != HOST_MUX_OPENING)
		return;
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(msg, "ok")) &&
	    cJSON_IsNumber(win) && win->valuedouble >= 0 &&
	    win->valuedouble <= 4294967295.0) {
		/* (what went behind an early open is counted in the window
		 * the answer grants: an agent that offers early data grants
		 * more than PROTO_EARLY_DATA) */
		c->credit = (uint32_t)win->valuedouble > c->early_sent
		    ? (uint32_t)win->valuedouble - c->early_sent
		    : 0;
		host_mux_set_state(c, HOST_MUX_OPEN);
		h->kicked = 1;
		return;
	}
	host_mux_fail(c, cJSON_IsString(err) ? err->valuestring : "refused by the agent",
	    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(msg, "refused")));
}

/* One frame from the agent. 0, or -1 when the stream of frames is broken. */
static int
host_mux_frame(struct host_session *h, const struct proto_frame *f)
{
	struct host_mux_chan *c;
	const cJSON *v;
	cJSON *msg;

	if (f->type == PROTO_CONTROL || f->type == PROTO_FATAL) {
		if ((msg = proto_frame_json(f, NULL)) == NULL)
			return f->type == PROTO_FATAL ? -1 : 0;
		if (f->type == PROTO_FATAL) {
			v = cJSON_GetObjectItemCaseSensitive(msg, "error");
			log_warn("%s: agent: %s", h->label,
			    cJSON_IsString(v) ? v->valuestring : "fatal error");
			cJSON_Delete(msg);
			return -1;
		}
		host_mux_answer(h, msg);
		cJSON_Delete(msg);
		return 0;
	}
	if ((c = host_mux_find(h, f->channel)) == NULL || c->state != HOST_MUX_OPEN)
		return 0; /* closed here meanwhile */
	switch (f->type) {
	case PROTO_EOF:
		c->eof_in = 1;
		if (c->on_eof != NULL)
			c->on_eof(c->arg);
		h->kicked = 1;
		break;
	case PROTO_CLOSE:
		c->closed_in = 1;
		msg = proto_frame_json(f, NULL);
		v = msg != NULL ? cJSON_GetObjectItemCaseSensitive(msg, "error") : NULL;
		if (cJSON_IsString(v))
			log_info("%s: stream %u: %s", h->label, c->id, v->valuestring);
		c->reset_in = msg != NULL &&
		    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(msg, "reset"));
		cJSON_Delete(msg);
		c->eof_in = 1;
		if (c->on_eof != NULL)
			c->on_eof(c->arg);
		h->kicked = 1;
		break;
	case PROTO_WINDOW:
		if (f->len == 4 && be_get_u32(f->payload) > UINT32_MAX - c->credit) {
			/* (it would wrap: the stream stalled for good) */
			log_warn("%s: stream %u: the agent granted more than 4 GiB",
			    h->label, c->id);
			return -1;
		}
		if (f->len == 4)
			c->credit += be_get_u32(f->payload);
		h->kicked = 1;
		break;
	default: break;
	}
	return 0;
}

/* A DATA frame's header came: check it against its stream's window. The
 * stream its bytes go to (NULL: dropped, the stream is closed here), or -1
 * through *broken. */
static struct host_mux_chan *
host_mux_data_begin(struct host_session *h, uint32_t ch, uint32_t len, int *broken)
{
	struct host_mux_chan *c = host_mux_find(h, ch);

	if (c == NULL || c->state != HOST_MUX_OPEN)
		return NULL; /* closed here meanwhile */
	if (c->eof_in || c->unacked + len > c->window) {
		log_warn("%s: stream %u: the agent sent more than its window", h->label,
		    c->id);
		*broken = 1;
		return NULL;
	}
	c->unacked += len;
	return c;
}

/* Bytes of a DATA frame for c, as they come. */
static void
host_mux_data(struct host_mux_chan *c, const unsigned char *data, size_t len)
{
	size_t used = 0;

	if (c->on_data != NULL)
		used = c->on_data(c->arg, data, len);
	/* (an owner takes all: its window is its room) */
	buf_append(c->held, data + used, len - used);
	c->h->kicked = 1;
}

void
host_mux_input(struct host_session *h, const void *data, size_t len)
{
	const unsigned char *p = data;
	struct host_mux_chan *c;
	struct proto_frame f;
	size_t take, used;
	char *why = NULL;
	int broken = 0;

	/* DATA payload goes to its stream as it comes (no copy, no wait for
	 * the whole frame); the other frames are gathered and decoded. */
	while (len > 0 && !h->mux_broken && !broken) {
		if (!h->mux_in_frame) {
			take = PROTO_HEADER_SIZE - h->mux_hdr_have;
			take = take < len ? take : len;
			memcpy(h->mux_hdr + h->mux_hdr_have, p, take);
			h->mux_hdr_have += take;
			p += take;
			len -= take;
			if (h->mux_hdr_have < PROTO_HEADER_SIZE)
				break;
			h->mux_hdr_have = 0;
			/* (the header alone: -1 when it is not a frame's) */
			if (proto_decode_header(h->mux_hdr, PROTO_HEADER_SIZE, &f, &why) <
			    0) {
				broken = 1;
				break;
			}
			h->mux_in_frame = 1;
			h->mux_left = (uint32_t)f.len;
			h->mux_type = f.type;
			h->mux_chan = f.channel;
			buf_reset(h->mux_in);
			if (h->mux_type == PROTO_DATA)
				host_mux_data_begin(h, h->mux_chan, h->mux_left, &broken);
			else
				buf_append(h->mux_in, h->mux_hdr, PROTO_HEADER_SIZE);
			if (broken)
				break; /* (not one byte past the window is delivered) */
		}
		take = h->mux_left < len ? h->mux_left : len;
		if (h->mux_type == PROTO_DATA) {
			/* (looked up again: an owner may close streams) */
			if (take > 0 && (c = host_mux_find(h, h->mux_chan)) != NULL &&
			    c->state == HOST_MUX_OPEN)
				host_mux_data(c, p, take);
		} else
			buf_append(h->mux_in, p, take);
		p += take;
		len -= take;
		h->mux_left -= (uint32_t)take;
		if (h->mux_left > 0)
			break;
		h->mux_in_frame = 0;
		if (h->mux_type != PROTO_DATA &&
		    (proto_decode(
			 buf_data(h->mux_in), buf_len(h->mux_in), &f, &used, &why) != 1 ||
			host_mux_frame(h, &f) != 0))
			broken = 1;
	}
	if (!broken)
		return;
	/* host_agent_check stops this agent, and its streams fail */
	log_warn("%s: the agent's session broke%s%s", h->label, why != NULL ? ": " : "",
	    why != NULL ? why : "");
	free(why);
	h->mux_broken = 1;
	h->kicked = 1;
}

/* Send HELLO on the agent session if it has not gone yet. */
static void
host_mux_hello(struct host_session *h)
{
	cJSON *o;

	if (h->mux_hello)
		return;
	o = proto_hello_new("rdev-broker " RDEV_VERSION);
	proto_encode_json(h->mux_out, PROTO_HELLO, 0, o, NULL);
	cJSON_Delete(o);
	h->mux_hello = 1;
}

/* Queue c's open (our HELLO first if it has not gone): opening. */
static void
host_mux_send_open(struct host_session *h, struct host_mux_chan *c)
{
	cJSON *o = cJSON_CreateObject();

	host_mux_hello(h);
	cJSON_AddNumberToObject(o, "id", c->id);
	cJSON_AddStringToObject(o, "op", "open");
	cJSON_AddStringToObject(o, "connect", c->connect);
	if (c->address != NULL) {
		/* (an "exec" stream's address is the container's id) */
		cJSON_AddStringToObject(o,
		    strcmp(c->connect, "exec") == 0 ? "containerId" : "address",
		    c->address);
		cJSON_AddNumberToObject(o, "port", c->port);
	}
	cJSON_AddNumberToObject(o, "window", c->window);
	proto_encode_json(h->mux_out, PROTO_CONTROL, 0, o, NULL);
	cJSON_Delete(o);
	host_mux_set_state(c, HOST_MUX_OPENING);
	h->kicked = 1; /* host_mux_step writes it */
}

struct host_mux_chan *
host_mux_open_early(struct host_session *h, const char *connect, const char *address,
    int port, uint32_t window)
{
	struct host_mux_chan *c;

	if (!h->mux_early || h->agent_state != HOST_AGENT_LISTENING ||
	    h->agent_ch == NULL || h->mux_broken)
		return NULL;
	c = host_mux_open(h, connect, address, port, window);
	c->early = 1;
	c->credit = PROTO_EARLY_DATA;
	host_mux_send_open(h, c);
	return c;
}

uint32_t
host_mux_request(struct host_session *h, const cJSON *req)
{
	uint32_t id = ++h->mux_seq;
	cJSON *o = cJSON_Duplicate(req, 1);

	if (id == 0)
		id = ++h->mux_seq;
	host_mux_hello(h);
	cJSON_DeleteItemFromObjectCaseSensitive(o, "id");
	cJSON_AddNumberToObject(o, "id", id);
	proto_encode_json(h->mux_out, PROTO_CONTROL, 0, o, NULL);
	cJSON_Delete(o);
	h->kicked = 1; /* host_mux_step writes it */
	return id;
}

void
host_mux_reset(struct host_session *h, const char *why)
{
	struct host_mux_chan *c;

	LIST_FOREACH(c, &h->mux_chans, entry) {
		if (c->state == HOST_MUX_OPENING || c->state == HOST_MUX_OPEN) {
			c->lost = 1;
			host_mux_fail(c, why, 0);
		}
	}
	host_agent_calls_session_lost(h, why);
	buf_reset(h->mux_in);
	buf_reset(h->mux_out);
	h->mux_hdr_have = 0;
	h->mux_in_frame = 0;
	h->mux_hello = 0;
	h->mux_broken = 0;
}

int
host_mux_step(struct host_session *h)
{
	struct host_mux_chan *c;
	ssh_session ss = rdev_ssh_session(h->ssh);
	uint32_t win;
	size_t len;
	int n, opening = 0;

	LIST_FOREACH(c, &h->mux_chans, entry) {
		if (c->state == HOST_MUX_OPENING)
			opening++;
		if (c->state != HOST_MUX_WAITING)
			continue;
		if (h->agent_state == HOST_AGENT_NONE) {
			if (c->start_seq != 0 && c->start_seq == h->agent_start_seq) {
				/* the start it waited for failed */
				host_mux_fail(c,
				    h->agent_start_error != NULL
					? h->agent_start_error
					: "the agent did not start",
				    0);
				continue;
			}
			host_agent_start_begin(h, NULL);
			c->start_seq = h->agent_start_seq;
		}
		if (h->agent_state != HOST_AGENT_LISTENING)
			continue;
		host_mux_send_open(h, c);
		opening++;
	}
	/* what waits for the agent, as far as its channel's window goes */
	while ((len = buf_len(h->mux_out)) > 0 &&
	    h->agent_state == HOST_AGENT_LISTENING && h->agent_ch != NULL) {
		if ((win = ssh_channel_window_size(h->agent_ch)) == 0)
			break;
		if (len > win)
			len = win;
		n = ssh_channel_write(h->agent_ch, buf_data(h->mux_out), (uint32_t)len);
		if (n == SSH_ERROR) {
			log_warn(
			    "%s: writing to the agent: %s", h->label, ssh_get_error(ss));
			h->mux_broken = 1;
			break;
		}
		if (n <= 0)
			break;
		buf_consume(h->mux_out, (size_t)n);
	}
	if (buf_len(h->mux_out) > 0 && h->agent_ch != NULL &&
	    ssh_channel_window_size(h->agent_ch) > 0)
		h->kicked = 1;
	return opening;
}
