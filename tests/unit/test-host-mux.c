/* test-host-mux.c - the broker's side of an early stream of the agent
 * session (broker/host-mux.c, host_mux_open_early; docs/PROTOCOL.md "Early
 * data"): its open queued at once, DATA behind it within PROTO_EARLY_DATA
 * before the answer, the answer's window counting what went, a refusal
 * seen; none at all from an agent that did not offer it. A session with no
 * SSH under it: what the broker queues for the agent is read from mux_out,
 * the agent's frames given to host_mux_input. */
#include "test.h"

#include <sys/ioctl.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "buf.h"
#include "byte-order.h"
#include "clock.h"
#include "host-internal.h"
#include "host-session.h"
#include "proto.h"

/* A session whose agent listens and offers early data (offer). */
static void
mux_init(struct host_session *h, int offer)
{
	static int channel; /* (agent_ch is only compared with NULL here) */

	memset(h, 0, sizeof *h);
	h->label = (char *)"test";
	LIST_INIT(&h->mux_chans);
	LIST_INIT(&h->calls);
	LIST_INIT(&h->links);
	h->mux_in = buf_new();
	h->mux_out = buf_new();
	h->agent_state = HOST_AGENT_LISTENING;
	h->agent_ch = (ssh_channel)&channel;
	h->mux_early = offer;
}

static void
mux_free(struct host_session *h)
{
	while (!LIST_EMPTY(&h->mux_chans))
		host_mux_close(LIST_FIRST(&h->mux_chans));
	buf_free(h->mux_in);
	buf_free(h->mux_out);
}

/* The agent's frame type on channel ch, payload text. */
static void
mux_from_agent(
    struct host_session *h, enum proto_type type, uint32_t ch, const char *text)
{
	struct buf *b = buf_new();

	proto_encode(b, type, ch, text, strlen(text));
	host_mux_input(h, buf_data(b), buf_len(b));
	buf_free(b);
}

/* Decode what the broker queued for the agent: the frames' types in order
 * (types, at most max), and the DATA bytes on ch (*data). How many frames. */
static int
mux_queued(struct host_session *h, uint32_t ch, int *types, int max, size_t *data,
    char *open, size_t osize)
{
	const unsigned char *p = buf_data(h->mux_out);
	size_t len = buf_len(h->mux_out), used;
	struct proto_frame f;
	char *why = NULL;
	int n = 0;

	*data = 0;
	while (len > 0) {
		ASSERT_INT_EQ(proto_decode(p, len, &f, &used, &why), 1);
		if (n < max)
			types[n] = f.type;
		n++;
		if (f.type == PROTO_DATA && f.channel == ch)
			*data += f.len;
		if (f.type == PROTO_CONTROL && open != NULL)
			snprintf(
			    open, osize, "%.*s", (int)f.len, (const char *)f.payload);
		p += used;
		len -= used;
	}
	buf_reset(h->mux_out);
	return n;
}

TEST(early_open_then_data_then_answer)
{
	struct host_session h;
	struct host_mux_chan *c;
	static unsigned char big[PROTO_EARLY_DATA + 5000];
	char open[256] = "", answer[128];
	int types[8], n;
	size_t data;

	mux_init(&h, 1);
	c = host_mux_open_early(&h, "agent", NULL, 0, 1000);
	ASSERT_NOT_NULL(c);
	ASSERT_INT_EQ(c->state, HOST_MUX_OPENING);
	/* the first write: as far as the early credit goes */
	ASSERT_INT_EQ(host_mux_write(c, big, sizeof big), PROTO_EARLY_DATA);
	ASSERT_INT_EQ(host_mux_write(c, big, sizeof big), 0);
	ASSERT_FALSE(host_mux_writable(c));
	n = mux_queued(&h, c->id, types, 8, &data, open, sizeof open);
	ASSERT_TRUE(n >= 3);
	/* our HELLO, the open, then the DATA behind it */
	ASSERT_INT_EQ(types[0], PROTO_HELLO);
	ASSERT_INT_EQ(types[1], PROTO_CONTROL);
	ASSERT_INT_EQ(types[2], PROTO_DATA);
	ASSERT_STR_CONTAINS(open, "\"op\":\"open\"");
	ASSERT_STR_CONTAINS(open, "\"connect\":\"agent\"");
	ASSERT_STR_CONTAINS(open, "\"window\":1000");
	ASSERT_INT_EQ(data, PROTO_EARLY_DATA);
	/* the answer grants its window, of which the early bytes are used */
	snprintf(
	    answer, sizeof answer, "{\"id\":%u,\"ok\":true,\"window\":1048576}", c->id);
	mux_from_agent(&h, PROTO_CONTROL, 0, answer);
	ASSERT_INT_EQ(c->state, HOST_MUX_OPEN);
	ASSERT_INT_EQ(c->credit, 1048576 - PROTO_EARLY_DATA);
	ASSERT_INT_EQ(host_mux_write(c, big, sizeof big), sizeof big);
	mux_free(&h);
}

/* An answer that grants less than went early leaves no credit (and does
 * not wrap it); a refused open fails the stream, which sends no more. */
TEST(early_answer_smaller_than_sent_and_refused)
{
	struct host_session h;
	struct host_mux_chan *a, *b;
	char answer[160];

	mux_init(&h, 1);
	a = host_mux_open_early(&h, "agent", NULL, 0, 1000);
	b = host_mux_open_early(&h, "agent", NULL, 0, 1000);
	ASSERT_INT_EQ(host_mux_write(a, "0123456789", 10), 10);
	ASSERT_INT_EQ(host_mux_write(b, "0123456789", 10), 10);
	snprintf(answer, sizeof answer, "{\"id\":%u,\"ok\":true,\"window\":4}", a->id);
	mux_from_agent(&h, PROTO_CONTROL, 0, answer);
	ASSERT_INT_EQ(a->state, HOST_MUX_OPEN);
	ASSERT_INT_EQ(a->credit, 0);
	ASSERT_INT_EQ(host_mux_write(a, "x", 1), 0);
	snprintf(answer, sizeof answer,
	    "{\"id\":%u,\"ok\":false,\"error\":\"no agent today\",\"refused\":false}",
	    b->id);
	mux_from_agent(&h, PROTO_CONTROL, 0, answer);
	ASSERT_INT_EQ(b->state, HOST_MUX_FAILED);
	ASSERT_STR_EQ(b->error, "no agent today");
	ASSERT_INT_EQ(host_mux_write(b, "x", 1), 0);
	ASSERT_FALSE(h.mux_broken);
	mux_free(&h);
}

/* The agent grants n more bytes on stream ch. */
static void
mux_grant(struct host_session *h, uint32_t ch, uint32_t n)
{
	struct buf *b = buf_new();
	unsigned char w[4];

	be_put_u32(w, n);
	proto_encode(b, PROTO_WINDOW, ch, w, sizeof w);
	host_mux_input(h, buf_data(b), buf_len(b));
	buf_free(b);
}

/* Bytes waiting in socket fd. */
static int
mux_socket_holds(int fd)
{
	int n = -1;

	ASSERT_INT_EQ(ioctl(fd, FIONREAD, &n), 0);
	return n;
}

/* A link on a stream of h (connect: "agent" or "tcp") that the agent
 * opened without credit: open, h's out buffer empty, the other end of its
 * client socket in *peer. */
static struct host_link *
mux_open_link(struct host_session *h, const char *connect, int *peer)
{
	struct host_mux_chan *c;
	struct host_link *l;
	char answer[128];
	int sv[2];

	ASSERT_INT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	*peer = sv[1];
	c = host_mux_open_early(h, connect, "10.0.0.1", 80, 1000);
	ASSERT_NOT_NULL(c);
	l = host_link_new(h, sv[0], NULL, HOST_LINK_BUFFER);
	host_link_attach_mux(l, c);
	host_link_set_state(l, HOST_LINK_OPENING);
	snprintf(answer, sizeof answer, "{\"id\":%u,\"ok\":true,\"window\":0}", c->id);
	mux_from_agent(h, PROTO_CONTROL, 0, answer);
	ASSERT_INT_EQ(c->state, HOST_MUX_OPEN);
	host_link_set_state(l, HOST_LINK_OPEN);
	buf_reset(h->mux_out);
	return l;
}

/* A forwarded connection's stream that takes nothing now (no credit, or the
 * session's out buffer full) leaves its client's bytes in the client's
 * socket: none copied into the link's buffer (from which they would be
 * copied into a frame again), and they go straight into a frame once the
 * agent grants more. */
TEST(a_stream_that_takes_nothing_leaves_the_bytes_in_the_socket)
{
	struct host_session h;
	struct host_mux_chan *c;
	struct host_link *l;
	static unsigned char big[100000];
	int peer, types[8];
	size_t data;

	mux_init(&h, 1);
	l = mux_open_link(&h, "tcp", &peer);
	c = l->mx;

	/* no credit: the client's bytes stay where they are */
	ASSERT_INT_EQ(write(peer, big, sizeof big), sizeof big);
	ASSERT_TRUE(host_link_client_waits(l));
	host_link_read_client(l);
	ASSERT_INT_EQ(buf_len(l->to_ch), 0);
	ASSERT_INT_EQ(buf_len(h.mux_out), 0);
	ASSERT_INT_EQ(mux_socket_holds(l->fd), sizeof big);

	/* credit: read straight into DATA frames, as far as it goes */
	mux_grant(&h, c->id, 70000);
	ASSERT_INT_EQ(c->credit, 70000);
	ASSERT_FALSE(host_link_client_waits(l));
	host_link_read_client(l);
	ASSERT_INT_EQ(buf_len(l->to_ch), 0);
	mux_queued(&h, c->id, types, 8, &data, NULL, 0);
	ASSERT_INT_EQ(data, 70000);
	ASSERT_INT_EQ(mux_socket_holds(l->fd), sizeof big - 70000);

	/* credit, but the session's out buffer full: the same */
	mux_grant(&h, c->id, 70000);
	buf_reserve(h.mux_out, 1u << 20);
	buf_commit(h.mux_out, 1u << 20);
	ASSERT_TRUE(host_link_client_waits(l));
	host_link_read_client(l);
	ASSERT_INT_EQ(buf_len(l->to_ch), 0);
	ASSERT_INT_EQ(mux_socket_holds(l->fd), sizeof big - 70000);

	close(peer);
	host_link_kill(l);
	host_drop_dead_links(&h);
	mux_free(&h);
}

/* The watch leaves a stalled stream's client socket alone (a socket with
 * bytes in it, level-triggered, would wake every pass while its callback
 * reads nothing: the loop spins), and a grant that comes while the loop
 * waits has the next pass read it again, straight into frames. */
TEST(the_watch_drops_a_stalled_stream_socket_until_a_grant)
{
	struct host_session h;
	struct host_mux_chan *c;
	struct host_link *l;
	static unsigned char big[100000];
	int peer, types[8];
	size_t data;

	mux_init(&h, 1);
	ASSERT_INT_EQ(pipe(h.wake), 0);
	ASSERT_INT_EQ(host_watch_init(&h, NULL), 0);
	l = mux_open_link(&h, "tcp", &peer);
	c = l->mx;

	/* no credit, bytes waiting: the socket is not watched for them (only
	 * for news, edge-triggered) */
	ASSERT_INT_EQ(write(peer, big, sizeof big), sizeof big);
	ASSERT_INT_EQ(host_watch_pass(&h, 0), 0);
	ASSERT_INT_NE(l->ev_what & EV_ET, 0);
	ASSERT_INT_EQ(mux_socket_holds(l->fd), sizeof big);

	/* the grant (as if read off the SSH socket while the loop waited):
	 * the next pass watches the socket again and its bytes go into
	 * frames */
	mux_grant(&h, c->id, 70000);
	buf_reset(h.mux_out);
	ASSERT_INT_EQ(host_watch_pass(&h, 1000), 0);
	ASSERT_INT_NE(l->ev_what & EV_READ, 0);
	ASSERT_INT_EQ(l->ev_what & EV_ET, 0);
	mux_queued(&h, c->id, types, 8, &data, NULL, 0);
	ASSERT_INT_EQ(data, 70000);
	ASSERT_INT_EQ(buf_len(l->to_ch), 0);

	/* out of credit again: dropped again */
	ASSERT_INT_EQ(host_watch_pass(&h, 0), 0);
	ASSERT_INT_NE(l->ev_what & EV_ET, 0);
	ASSERT_INT_EQ(mux_socket_holds(l->fd), sizeof big - 70000);

	close(peer);
	host_link_kill(l);
	host_drop_dead_links(&h);
	host_watch_free(&h);
	close(h.wake[0]);
	close(h.wake[1]);
	mux_free(&h);
}

/* A watched session with a link on a stream (connect: "agent" or "tcp")
 * that the agent opened without credit, its client's end in *peer, and
 * bytes from the client waiting in the socket. */
static struct host_link *
mux_stalled_link(struct host_session *h, const char *connect, int *peer)
{
	static unsigned char some[5000];
	struct host_link *l;

	mux_init(h, 1);
	ASSERT_INT_EQ(pipe(h->wake), 0);
	ASSERT_INT_EQ(host_watch_init(h, NULL), 0);
	l = mux_open_link(h, connect, peer);
	ASSERT_INT_EQ(write(*peer, some, sizeof some), sizeof some);
	ASSERT_INT_EQ(host_watch_pass(h, 0), 0);
	ASSERT_INT_EQ(l->state, HOST_LINK_OPEN);
	return l;
}

static void
mux_stalled_free(struct host_session *h, struct host_link *l)
{
	host_link_kill(l);
	host_drop_dead_links(h);
	host_watch_free(h);
	close(h->wake[0]);
	close(h->wake[1]);
	mux_free(h);
}

/* A stalled stream's client that goes is noticed at once, not once the
 * stream moves again (its target may never read): a reset ends any link,
 * an agent link's client that exits ends its link, and the loop does not
 * spin on the socket meanwhile. */
TEST(a_stalled_stream_notices_its_client_gone)
{
	struct host_session h;
	struct host_link *l;
	long long t0;
	int peer;

	/* an `rdev` client of the agent exits, its bytes unread */
	l = mux_stalled_link(&h, "agent", &peer);
	ASSERT_INT_EQ(host_watch_pass(&h, 0), 0); /* (nothing new: no wake) */
	ASSERT_INT_EQ(l->state, HOST_LINK_OPEN);
	close(peer);
	ASSERT_INT_EQ(host_watch_pass(&h, 1000), 0);
	ASSERT_TRUE(host_link_dead(l));
	mux_stalled_free(&h, l);

	/* a forwarded connection's client resets (it closed with bytes of
	 * ours unread: ECONNRESET here) */
	l = mux_stalled_link(&h, "tcp", &peer);
	ASSERT_INT_EQ(write(l->fd, "x", 1), 1);
	close(peer);
	ASSERT_INT_EQ(host_watch_pass(&h, 1000), 0);
	ASSERT_TRUE(host_link_dead(l));
	mux_stalled_free(&h, l);

	/* a connection's end behind bytes not read yet: they go first (the
	 * link stays until the stream takes them), and the socket, readable
	 * all along, does not wake the loop again */
	l = mux_stalled_link(&h, "tcp", &peer);
	ASSERT_INT_EQ(shutdown(peer, SHUT_WR), 0);
	ASSERT_INT_EQ(host_watch_pass(&h, 1000), 0);
	ASSERT_INT_EQ(l->state, HOST_LINK_OPEN);
	t0 = clock_now_ms();
	ASSERT_INT_EQ(host_watch_pass(&h, 300), 0);
	ASSERT_TRUE(clock_now_ms() - t0 >= 250);
	ASSERT_INT_EQ(l->state, HOST_LINK_OPEN);
	mux_grant(&h, LIST_FIRST(&h.mux_chans)->id, 70000);
	buf_reset(h.mux_out);
	ASSERT_INT_EQ(host_watch_pass(&h, 1000), 0);
	ASSERT_INT_EQ(buf_len(h.mux_out) > 5000, 1);
	ASSERT_INT_EQ(host_watch_pass(&h, 1000), 0); /* (then its end) */
	ASSERT_TRUE(host_link_dead(l)); /* (no forward here: no half close) */
	close(peer);
	mux_stalled_free(&h, l);
}

/* A forwarded connection's client resets while its bytes wait for credit:
 * the link stays for them (CLOSE "reset" once they went), read from the
 * client's socket as the stream takes them (not all at once: up to the
 * socket's receive buffer, tens of MB, per link), and what the server
 * still sends is dropped but given back as credit, so that the agent keeps
 * reading the server (one that writes as it reads would otherwise stop
 * reading, and the client's bytes would not go). */
TEST(a_client_reset_drops_the_servers_bytes_but_grants_them_again)
{
	static struct host_forward fwd;
	struct host_session h;
	struct host_link *l;
	struct host_mux_chan *c;
	char chunk[401];
	int peer, types[16], n, windows = 0;
	uint32_t id;
	size_t data;

	l = mux_stalled_link(&h, "tcp", &peer);
	memset(&fwd, 0, sizeof fwd);
	l->fwd = &fwd;
	fwd.fw.active = 1;
	c = LIST_FIRST(&h.mux_chans);
	ASSERT_INT_EQ(write(l->fd, "x", 1), 1);
	close(peer); /* (a reset: it closed with a byte of ours unread) */
	ASSERT_INT_EQ(host_watch_pass(&h, 1000), 0);
	ASSERT_FALSE(host_link_dead(l));
	ASSERT_TRUE(l->cli_rst);
	ASSERT_INT_EQ(buf_len(l->to_ch), 0);
	ASSERT_INT_EQ(mux_socket_holds(l->fd), 5000);
	/* the server sends its window's worth (1000) and more as granted */
	memset(chunk, 'y', sizeof chunk - 1);
	chunk[sizeof chunk - 1] = '\0';
	buf_reset(h.mux_out);
	for (int i = 0; i < 2; i++) {
		mux_from_agent(&h, PROTO_DATA, c->id, chunk);
		host_link_pump(&h, l);
	}
	ASSERT_FALSE(host_link_dead(l));
	ASSERT_INT_EQ(buf_len(l->to_cli), 0);
	n = mux_queued(&h, c->id, types, 16, &data, NULL, 0);
	for (int i = 0; i < n && i < 16; i++)
		windows += types[i] == PROTO_WINDOW;
	ASSERT_TRUE(windows >= 1); /* (one each quarter of the window) */
	/* credit for 2000: as much is read of the socket, no more */
	mux_grant(&h, c->id, 2000);
	ASSERT_INT_EQ(host_watch_pass(&h, 1000), 0);
	host_link_pump(&h, l);
	ASSERT_FALSE(host_link_dead(l));
	ASSERT_INT_EQ(mux_socket_holds(l->fd), 3000);
	ASSERT_INT_EQ(mux_queued(&h, c->id, types, 16, &data, NULL, 0) >= 1, 1);
	ASSERT_INT_EQ(data, 2000);
	ASSERT_TRUE(c->reset_out);
	/* the rest: then the link ends with its stream's CLOSE */
	id = c->id;
	mux_grant(&h, c->id, 70000);
	ASSERT_INT_EQ(host_watch_pass(&h, 1000), 0);
	host_link_pump(&h, l);
	ASSERT_TRUE(host_link_dead(l));
	host_drop_dead_links(&h);
	n = mux_queued(&h, id, types, 16, &data, NULL, 0);
	ASSERT_INT_EQ(data, 3000);
	ASSERT_INT_EQ(types[n - 1], PROTO_CLOSE); /* (with reset_out: "reset") */
	host_watch_free(&h);
	close(h.wake[0]);
	close(h.wake[1]);
	mux_free(&h);
}

/* No early stream from an agent that did not offer it (an older one), none
 * while no agent listens or its session broke; a stream opened the usual
 * way sends nothing before its answer. */
TEST(no_early_stream_unless_offered)
{
	struct host_session h;
	struct host_mux_chan *c;
	int types[4];
	size_t data;

	mux_init(&h, 0);
	ASSERT_NULL(host_mux_open_early(&h, "agent", NULL, 0, 1000));
	h.mux_early = 1;
	h.agent_state = HOST_AGENT_STARTING;
	ASSERT_NULL(host_mux_open_early(&h, "agent", NULL, 0, 1000));
	h.agent_state = HOST_AGENT_LISTENING;
	h.mux_broken = 1;
	ASSERT_NULL(host_mux_open_early(&h, "agent", NULL, 0, 1000));
	h.mux_broken = 0;
	ASSERT_INT_EQ(mux_queued(&h, 1, types, 4, &data, NULL, 0), 0);
	/* (host_mux_step would send its open: what it does with no SSH
	 * session under it is not this test's) */
	c = host_mux_open(&h, "agent", NULL, 0, 1000);
	ASSERT_INT_EQ(host_mux_write(c, "x", 1), 0);
	c->state = HOST_MUX_OPENING;
	ASSERT_INT_EQ(host_mux_write(c, "x", 1), 0);
	ASSERT_FALSE(host_mux_writable(c));
	mux_free(&h);
}

/* A call's done (host_call_done_fn): what it was told. */
struct mux_call_seen {
	int runs;
	enum host_call_end how;
	char error[256];
};

static void
mux_call_done(struct host_session *h, void *arg, const cJSON *result, const char *error,
    enum host_call_end how)
{
	struct mux_call_seen *s = arg;

	(void)h;
	(void)result;
	s->runs++;
	s->how = how;
	snprintf(s->error, sizeof s->error, "%s", error != NULL ? error : "");
}

/* The agent's child's bytes on stream ch: its HELLO, then (answer) an ok. */
static void
mux_call_answer(struct host_session *h, uint32_t ch, int answer)
{
	struct buf *b = buf_new(), *f = buf_new();
	cJSON *hello = proto_hello_new("rdev-agent test"), *ok = cJSON_CreateObject();

	proto_encode_json(b, PROTO_HELLO, 0, hello, NULL);
	cJSON_AddNumberToObject(ok, "id", 1);
	cJSON_AddTrueToObject(ok, "ok");
	cJSON_AddObjectToObject(ok, "result");
	if (answer)
		proto_encode_json(b, PROTO_CONTROL, 0, ok, NULL);
	proto_encode(f, PROTO_DATA, ch, buf_data(b), buf_len(b));
	host_mux_input(h, buf_data(f), buf_len(f));
	cJSON_Delete(hello);
	cJSON_Delete(ok);
	buf_free(b);
	buf_free(f);
}

/* A call whose early stream's open was answered, then whose agent ended
 * before the call's answer, its HELLO in (the child serving it outlives the listening
 * agent, but its answer went through it): asked again of the next agent,
 * once, as one whose open had no answer yet, not failed ("the agent ended
 * without an answer": a socket channel's call got its answer then). */
TEST(early_call_answered_open_then_agent_ended_asks_again)
{
	static int ssh_dummy, ev_dummy; /* (never used: no failure reaches them) */
	struct host_session h;
	struct mux_call_seen seen = { 0 };
	struct host_mux_chan *s;
	cJSON *req = cJSON_CreateObject();
	char answer[128];
	uint32_t first;

	mux_init(&h, 1);
	h.ssh = (struct rdev_ssh *)&ssh_dummy;
	h.ev = (ssh_event)&ev_dummy;
	cJSON_AddStringToObject(req, "op", "relay");
	cJSON_AddStringToObject(req, "workspace", "/ws");
	ASSERT_NOT_NULL(
	    host_agent_call_start(&h, req, HOST_CALL_IDEMPOTENT, mux_call_done, &seen));
	ASSERT_NOT_NULL(s = LIST_FIRST(&h.mux_chans));
	ASSERT_TRUE(s->early);
	first = s->id;
	snprintf(
	    answer, sizeof answer, "{\"id\":%u,\"ok\":true,\"window\":1048576}", first);
	mux_from_agent(&h, PROTO_CONTROL, 0, answer);
	ASSERT_INT_EQ(s->state, HOST_MUX_OPEN);
	/* the child's HELLO comes (it sends it first), then the agent ends */
	mux_call_answer(&h, first, 0);
	host_agent_calls_progress(&h);
	ASSERT_INT_EQ(seen.runs, 0);
	/* (a failure now would be told as the session's end, with no SSH
	 * session to look at) */
	h.calls_ended = "the test's session ends";
	host_mux_reset(&h, "the agent ended");
	host_agent_calls_progress(&h);
	ASSERT_INT_EQ(seen.runs, 0);
	/* the next agent listens: the request goes again, behind a new open */
	buf_reset(h.mux_out);
	host_agent_calls_progress(&h);
	ASSERT_NOT_NULL(s = LIST_FIRST(&h.mux_chans));
	ASSERT_INT_NE(s->id, first);
	ASSERT_TRUE(s->early);
	ASSERT_TRUE(buf_len(h.mux_out) > 0);
	snprintf(
	    answer, sizeof answer, "{\"id\":%u,\"ok\":true,\"window\":1048576}", s->id);
	mux_from_agent(&h, PROTO_CONTROL, 0, answer);
	mux_call_answer(&h, s->id, 1);
	host_agent_calls_progress(&h);
	ASSERT_INT_EQ(seen.runs, 1);
	ASSERT_STR_EQ(seen.error, "");
	ASSERT_INT_EQ(seen.how, HOST_CALL_ANSWERED);
	ASSERT_TRUE(LIST_EMPTY(&h.calls));
	cJSON_Delete(req);
	mux_free(&h);
}

/* The same loss for a call without HOST_CALL_IDEMPOTENT: its request may
 * have run, so it is not sent to the next agent (twice, it could run twice)
 * but fails, naming the call and saying so. */
TEST(early_call_not_idempotent_agent_ended_fails_not_resent)
{
	static int ssh_dummy, ev_dummy; /* (never used: no failure reaches them) */
	struct host_session h;
	struct mux_call_seen seen = { 0 };
	struct host_mux_chan *s;
	cJSON *req = cJSON_CreateObject();
	char answer[128];
	uint32_t first;

	mux_init(&h, 1);
	h.ssh = (struct rdev_ssh *)&ssh_dummy;
	h.ev = (ssh_event)&ev_dummy;
	cJSON_AddStringToObject(req, "op", "make-once");
	ASSERT_NOT_NULL(host_agent_call_start(&h, req, 0, mux_call_done, &seen));
	ASSERT_NOT_NULL(s = LIST_FIRST(&h.mux_chans));
	ASSERT_TRUE(s->early);
	first = s->id;
	snprintf(
	    answer, sizeof answer, "{\"id\":%u,\"ok\":true,\"window\":1048576}", first);
	mux_from_agent(&h, PROTO_CONTROL, 0, answer);
	mux_call_answer(&h, first, 0);
	host_agent_calls_progress(&h);
	ASSERT_INT_EQ(seen.runs, 0);
	h.calls_ended = "the test's session ends";
	host_mux_reset(&h, "the agent ended");
	buf_reset(h.mux_out);
	host_agent_calls_progress(&h);
	host_agent_calls_progress(&h);
	ASSERT_INT_EQ(seen.runs, 1);
	ASSERT_STR_CONTAINS(seen.error, "call \"make-once\"");
	ASSERT_STR_CONTAINS(seen.error, "may or may not have run");
	/* nothing went to a next agent */
	ASSERT_INT_EQ(buf_len(h.mux_out), 0);
	ASSERT_TRUE(LIST_EMPTY(&h.mux_chans) || LIST_FIRST(&h.mux_chans)->id == first);
	ASSERT_TRUE(LIST_EMPTY(&h.calls));
	cJSON_Delete(req);
	mux_free(&h);
}

/* A stream's CLOSE with "reset" (its server reset the connection) is seen
 * as such, one without it is not; our CLOSE says "reset" when the owner's
 * client reset (reset_out), and nothing otherwise (an older agent reads
 * none: it closes, as for any). */
TEST(a_close_says_reset_both_ways)
{
	struct host_session h;
	struct host_mux_chan *c, *d;
	struct proto_frame f;
	char answer[128];
	size_t used;
	char *why = NULL;

	mux_init(&h, 1);
	c = host_mux_open_early(&h, "tcp", "10.0.0.1", 80, 1000);
	d = host_mux_open_early(&h, "tcp", "10.0.0.1", 81, 1000);
	snprintf(answer, sizeof answer, "{\"id\":%u,\"ok\":true,\"window\":0}", c->id);
	mux_from_agent(&h, PROTO_CONTROL, 0, answer);
	snprintf(answer, sizeof answer, "{\"id\":%u,\"ok\":true,\"window\":0}", d->id);
	mux_from_agent(&h, PROTO_CONTROL, 0, answer);
	mux_from_agent(&h, PROTO_CLOSE, c->id,
	    "{\"error\":\"Connection reset by peer\",\"reset\":true}");
	mux_from_agent(&h, PROTO_CLOSE, d->id, "{\"error\":\"No route to host\"}");
	ASSERT_TRUE(c->closed_in && c->reset_in);
	ASSERT_TRUE(d->closed_in && !d->reset_in);
	host_mux_close(c);
	host_mux_close(d);

	/* ours */
	c = host_mux_open_early(&h, "tcp", "10.0.0.1", 82, 1000);
	d = host_mux_open_early(&h, "tcp", "10.0.0.1", 83, 1000);
	buf_reset(h.mux_out);
	c->reset_out = 1;
	host_mux_close(c);
	ASSERT_INT_EQ(
	    proto_decode(buf_data(h.mux_out), buf_len(h.mux_out), &f, &used, &why), 1);
	ASSERT_INT_EQ(f.type, PROTO_CLOSE);
	ASSERT_INT_EQ(f.len, strlen("{\"reset\":true}"));
	ASSERT_INT_EQ(memcmp(f.payload, "{\"reset\":true}", f.len), 0);
	buf_reset(h.mux_out);
	host_mux_close(d);
	ASSERT_INT_EQ(
	    proto_decode(buf_data(h.mux_out), buf_len(h.mux_out), &f, &used, &why), 1);
	ASSERT_INT_EQ(f.type, PROTO_CLOSE);
	ASSERT_INT_EQ(f.len, 0);
	mux_free(&h);
}

/* A client that half closes, then resets, behind bytes the stalled stream
 * has not taken: over TCP the reset in CLOSE_WAIT makes SO_ERROR EPIPE, not
 * ECONNRESET; it is a reset all the same (the link was killed, the bytes
 * thrown away and a plain CLOSE sent), and the bytes stay in the socket
 * for the stream to take. */
TEST(a_half_close_then_reset_keeps_the_bytes)
{
	static struct host_forward fwd;
	static unsigned char some[5000];
	struct host_session h;
	struct host_link *l;
	struct host_mux_chan *c;
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof a;
	struct linger lg = { 1, 0 };
	char answer[128];
	int lfd, peer, fd;

	mux_init(&h, 1);
	ASSERT_INT_EQ(pipe(h.wake), 0);
	ASSERT_INT_EQ(host_watch_init(&h, NULL), 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	ASSERT_INT_EQ(bind(lfd, (struct sockaddr *)&a, sizeof a), 0);
	ASSERT_INT_EQ(listen(lfd, 1), 0);
	ASSERT_INT_EQ(getsockname(lfd, (struct sockaddr *)&a, &alen), 0);
	peer = socket(AF_INET, SOCK_STREAM, 0);
	ASSERT_INT_EQ(connect(peer, (struct sockaddr *)&a, sizeof a), 0);
	fd = accept(lfd, NULL, NULL);
	close(lfd);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	c = host_mux_open_early(&h, "tcp", "10.0.0.1", 80, 1000);
	l = host_link_new(&h, fd, NULL, HOST_LINK_BUFFER);
	host_link_attach_mux(l, c);
	host_link_set_state(l, HOST_LINK_OPENING);
	snprintf(answer, sizeof answer, "{\"id\":%u,\"ok\":true,\"window\":0}", c->id);
	mux_from_agent(&h, PROTO_CONTROL, 0, answer);
	host_link_set_state(l, HOST_LINK_OPEN);
	buf_reset(h.mux_out);
	memset(&fwd, 0, sizeof fwd);
	l->fwd = &fwd;
	fwd.fw.active = 1;
	ASSERT_INT_EQ(write(peer, some, sizeof some), sizeof some);
	ASSERT_INT_EQ(host_watch_pass(&h, 0), 0);
	ASSERT_INT_EQ(shutdown(peer, SHUT_WR), 0);
	ASSERT_INT_EQ(host_watch_pass(&h, 300), 0);
	ASSERT_FALSE(host_link_dead(l));
	setsockopt(peer, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	close(peer);
	ASSERT_INT_EQ(host_watch_pass(&h, 1000), 0);
	ASSERT_FALSE(host_link_dead(l));
	ASSERT_TRUE(l->cli_rst);
	ASSERT_INT_EQ(mux_socket_holds(fd), (int)sizeof some);
	mux_stalled_free(&h, l);
}
