/* fuzz-agent-mux.c - fuzz both ends of the agent session's streams with the
 * frames the other end sends (docs/PROTOCOL.md, "Streams of the agent
 * session"): the agent's side (agent/serve-mux.c, serve_mux_input: HELLO,
 * CONTROL "open", DATA, EOF, CLOSE, WINDOW from the broker) and the broker's
 * (broker/host-mux.c, host_mux_input: the agent's answers to opens, DATA
 * as it comes, EOF, CLOSE, WINDOW, FATAL). Nothing touches a network: the
 * agent's streams connect to /dev/null, a socket whose peer closed (port
 * 11) or are refused, the broker's streams
 * are owned by callbacks here.
 *
 * Input: one byte of settings (bit 0: the broker's side, else the agent's;
 * bit 1: a valid HELLO goes first (the agent's side), so that mutations
 * reach the stream frames; bits 2-3: how much the broker's owners take; bit 4,
 * the agent's side: through pipes and serve_mux_poll, as `serve --listen`
 * runs it, instead of serve_mux_input alone: its reads, its writes into a
 * pipe the driver empties after each pass, the streams' polls), four
 * bytes of chunk sizes (used in turn; 0 feeds an empty chunk, 255 all that is
 * left; all four 0: one chunk), then the bytes, fed in those chunks so that
 * frames are split anywhere. The broker's odd streams are opened early
 * (host_mux_open_early: DATA sent behind the open, before its answer, which
 * then grants its window less what went). Checked besides the sanitizers:
 * every stream keeps to its window (what the broker holds for a stream, what
 * it has not granted again), no stream sends DATA before its answer beyond
 * the early credit (PROTO_EARLY_DATA; none at all unless opened early), and
 * what either side queues for the other is frames.
 */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "fuzz.h"
#include "host-internal.h"
#include "log.h"
#include "proto.h"
#include "serve-mux.h"

#define FUZZ_SETTINGS 5
#define FUZZ_CHANS 4

/* Every byte of out decodes as whole frames. */
static void
fuzz_check_frames(const struct buf *out)
{
	const unsigned char *p = buf_data(out);
	size_t len = buf_len(out), used;
	struct proto_frame f;
	char *why = NULL;

	while (len > 0) {
		if (proto_decode(p, len, &f, &used, &why) != 1)
			abort();
		p += used;
		len -= used;
	}
}

/* The next chunk's size from the four in the settings. */
static size_t
fuzz_chunk_len(const uint8_t *sizes, size_t *turn, size_t left)
{
	size_t n;

	if (sizes[0] == 0 && sizes[1] == 0 && sizes[2] == 0 && sizes[3] == 0)
		return left;
	n = sizes[(*turn)++ % 4];
	return n == 255 || n > left ? left : n;
}

/* --- the agent's side --------------------------------------------------- */

static int fuzz_agent_calls;

static int
fuzz_agent_conn(void *arg, char **cause)
{
	(void)arg;
	if (fuzz_agent_calls++ % 3 == 2) {
		*cause = strdup("no agent for you");
		return -1;
	}
	return open("/dev/null", O_RDWR | O_CLOEXEC);
}

static int
fuzz_connect(const char *address, int port, int *err)
{
	int sv[2];

	(void)address;
	if (port == 11) {
		/* a socket whose server is gone (closed at once): a stream that
		 * opens, reads its end, fails its writes (a reset's drain) */
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
			sv) != 0) {
			*err = EMFILE;
			return -1;
		}
		close(sv[1]);
		return sv[0];
	}
	switch (port % 3) {
	case 0: *err = ECONNREFUSED; return -1;
	case 1: *err = EHOSTUNREACH; return -1;
	default: return open("/dev/null", O_RDWR | O_CLOEXEC);
	}
}

static void
fuzz_agent_side(int hello, const uint8_t *sizes, const uint8_t *data, size_t size)
{
	struct serve_mux *m = serve_mux_new(-1, -1, 1, fuzz_agent_conn, NULL);
	struct buf *first = buf_new();
	cJSON *hi = proto_hello_new("fuzz");
	size_t turn = 0, n;

	serve_mux_set_connect(m, fuzz_connect);
	fuzz_agent_calls = 0;
	if (hello) {
		proto_encode_json(first, PROTO_HELLO, 0, hi, NULL);
		if (serve_mux_input(m, buf_data(first), buf_len(first)) != 0)
			abort(); /* our own HELLO is the protocol */
	}
	while (size > 0) {
		n = fuzz_chunk_len(sizes, &turn, size);
		if (serve_mux_input(m, data, n) != 0)
			break;
		data += n;
		size -= n;
	}
	fuzz_check_frames(serve_mux_output(m));
	cJSON_Delete(hi);
	buf_free(first);
	serve_mux_free(m);
}

/* Empty the pipe from the mux into got. */
static void
fuzz_pipe_drain(int fd, struct buf *got)
{
	unsigned char tmp[65536];
	ssize_t n;

	while ((n = read(fd, tmp, sizeof tmp)) > 0)
		buf_append(got, tmp, (size_t)n);
}

/* The agent's side as `serve --listen` runs it: the chunks written into
 * its stdin pipe, a pass of serve_mux_poll (no wait) after each, and its
 * stdout pipe emptied after each pass; then the end of its input. What it
 * wrote and what it still holds are whole frames. A few passes per chunk
 * at most: the streams' fds are /dev/null, always ready. */
static void
fuzz_agent_poll(int hello, const uint8_t *sizes, const uint8_t *data, size_t size)
{
	struct serve_mux *m;
	struct buf *first = buf_new(), *got = buf_new();
	cJSON *hi = proto_hello_new("fuzz");
	int in[2], out[2], live = 1, i;
	size_t turn = 0, n;
	ssize_t w;

	if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC | O_NONBLOCK) != 0)
		abort();
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	m = serve_mux_new(in[0], out[1], 1, fuzz_agent_conn, NULL);
	serve_mux_set_connect(m, fuzz_connect);
	fuzz_agent_calls = 0;
	if (hello) {
		proto_encode_json(first, PROTO_HELLO, 0, hi, NULL);
		if (write(in[1], buf_data(first), buf_len(first)) !=
		    (ssize_t)buf_len(first))
			abort();
	}
	while (size > 0 && live) {
		n = fuzz_chunk_len(sizes, &turn, size);
		/* (a chunk the pipe cannot take at once goes as it takes it) */
		for (i = 0; n > 0 && live && i < 64; i++) {
			if ((w = write(in[1], data, n)) > 0) {
				data += w;
				size -= (size_t)w;
				n -= (size_t)w;
			}
			live = serve_mux_poll(m, NULL, 0, 0);
			fuzz_pipe_drain(out[0], got);
		}
		if (n > 0)
			break;
		if (live)
			live = serve_mux_poll(m, NULL, 0, 0);
		fuzz_pipe_drain(out[0], got);
	}
	close(in[1]);
	for (i = 0; live && i < 16; i++) {
		live = serve_mux_poll(m, NULL, 0, 0);
		fuzz_pipe_drain(out[0], got);
	}
	if (live) /* (its input ended: it must have seen so) */
		abort();
	buf_append(got, buf_data(serve_mux_output(m)), buf_len(serve_mux_output(m)));
	fuzz_check_frames(got);
	serve_mux_free(m);
	close(in[0]);
	close(out[0]);
	close(out[1]);
	cJSON_Delete(hi);
	buf_free(first);
	buf_free(got);
}

/* --- the broker's side -------------------------------------------------- */

struct fuzz_owner {
	struct host_mux_chan *c;
	int take; /* 0: all, 1: half, 2: nothing, 3: all, not delivered */
	int eofs; /* (EOF then CLOSE: twice) */
};

static size_t
fuzz_owner_data(void *arg, const unsigned char *data, size_t len)
{
	struct fuzz_owner *o = arg;
	size_t took = o->take == 1 ? len / 2 : o->take == 2 ? 0 : len;

	(void)data;
	if (o->take != 3)
		host_mux_consumed(o->c, took); /* delivered at once */
	return took;
}

static void
fuzz_owner_eof(void *arg)
{
	struct fuzz_owner *o = arg;

	o->eofs++;
}

/* Send what c takes of a large write: within the early credit while its
 * open is unanswered (nothing unless opened early). */
static void
fuzz_broker_send(struct host_mux_chan *c)
{
	static unsigned char big[PROTO_EARLY_DATA + 1000];
	enum host_mux_state was = c->state;
	size_t n = host_mux_write(c, big, sizeof big);

	if (was == HOST_MUX_OPENING &&
	    (!c->early ? n != 0 : c->early_sent > PROTO_EARLY_DATA))
		abort();
}

static void
fuzz_broker_side(int take, const uint8_t *sizes, const uint8_t *data, size_t size)
{
	static const uint32_t windows[FUZZ_CHANS] = { 0, 1, 65536,
		HOST_MUX_FORWARD_WINDOW };
	struct host_session h;
	struct fuzz_owner owners[FUZZ_CHANS];
	size_t turn = 0, n, i;

	memset(&h, 0, sizeof h);
	h.label = (char *)"fuzz";
	LIST_INIT(&h.mux_chans);
	h.mux_in = buf_new();
	h.mux_out = buf_new();
	for (i = 0; i < FUZZ_CHANS; i++) {
		owners[i].c = host_mux_open(&h, "tcp", "127.0.0.1", 80, windows[i]);
		/* (what host_mux_step does once it sent the open, or
		 * host_mux_open_early, with a little sent behind it) */
		owners[i].c->state = HOST_MUX_OPENING;
		if (i % 2 == 1) {
			owners[i].c->early = 1;
			owners[i].c->credit = PROTO_EARLY_DATA;
			host_mux_write(owners[i].c, "HELLO+request", i == 1 ? 13 : 0);
		}
		owners[i].take = (take + (int)i) % 4;
		owners[i].eofs = 0;
		/* the last one has no owner: what comes is held */
		if (i + 1 < FUZZ_CHANS)
			host_mux_set_owner(
			    owners[i].c, fuzz_owner_data, fuzz_owner_eof, &owners[i]);
	}
	while (size > 0 && !h.mux_broken) {
		n = fuzz_chunk_len(sizes, &turn, size);
		host_mux_input(&h, data, n);
		data += n;
		size -= n;
		for (i = 0; i < FUZZ_CHANS; i++) {
			if (owners[i].c->unacked > owners[i].c->window ||
			    buf_len(owners[i].c->held) > owners[i].c->window)
				abort();
		}
	}
	for (i = 0; i < FUZZ_CHANS; i++)
		fuzz_broker_send(owners[i].c);
	fuzz_check_frames(h.mux_out);
	for (i = 0; i < FUZZ_CHANS; i++)
		host_mux_close(owners[i].c);
	buf_free(h.mux_in);
	buf_free(h.mux_out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < FUZZ_SETTINGS)
		return 0;
	log_set_level(LOG_ERROR);
	if (data[0] & 1)
		fuzz_broker_side((data[0] >> 2) & 3, data + 1, data + FUZZ_SETTINGS,
		    size - FUZZ_SETTINGS);
	else if (data[0] & 0x10)
		fuzz_agent_poll(
		    data[0] & 2, data + 1, data + FUZZ_SETTINGS, size - FUZZ_SETTINGS);
	else
		fuzz_agent_side(
		    data[0] & 2, data + 1, data + FUZZ_SETTINGS, size - FUZZ_SETTINGS);
	return 0;
}
