/* serve-mux.c - streams of the agent session over the long-lived agent's
 * stdin/stdout (serve-mux.h). */
#include "serve-mux.h"

#include <sys/ioctl.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf-io.h"
#include "buf.h"
#include "byte-order.h"
#include "clock.h"
#include "log.h"
#include "proto.h"
#include "sock-drain.h"
#include "xmalloc.h"

/* A TCP connect that takes longer fails (as the relay's does). */
#define SERVE_MUX_CONNECT_MS 10000
/* How long an "exec" stream waits for its status byte (a Docker exec, the
 * relay's copy into the container maybe, then its connect). */
#define SERVE_MUX_EXEC_MS 30000
/* At most that many reads a pass of what the server sends it meanwhile. */
#define SERVE_MUX_DRAIN_READS 16
/* Bytes for the broker waiting in out before no socket is read. */
#define SERVE_MUX_OUT_MAX (1u << 20)
/* The most one DATA frame carries. */
#define SERVE_MUX_CHUNK (256u << 10)
#define SERVE_MUX_PIPE_SIZE (1 << 20)
/* The most one read of the broker's frames takes: what the pipe holds, so
 * that a full pipe is emptied in one call. */
#define SERVE_MUX_READ SERVE_MUX_PIPE_SIZE
/* DATA frames (and pieces of one) of one read passed to a socket in one
 * sendmsg, from where they were read: a 1 MiB read of full frames (64 KiB
 * and a header) holds at most 15 whole ones and a piece at each end. Smaller
 * frames, or several full reads joined (serve_mux_read_input), may need
 * more: what does not fit is copied to the stream's buffer. */
#define SERVE_MUX_IOV 32
/* A tcp stream whose last read took at least this much is a bulk one: its
 * next bytes are spliced into the pipe (serve_mux_sock_splice); below, the
 * usual read (a small message: no FIONREAD first). */
#define SERVE_MUX_SPLICE_MIN (32u << 10)
/* The busy poll (serve_mux_spin_wanted): after a pass that sent at most
 * SERVE_MUX_SPIN_SMALL bytes to streams' sockets (a request: its answer
 * usually follows within tens of microseconds), the next poll is tried
 * with no timeout for up to SERVE_MUX_SPIN_US (serve-mux.h) before the
 * loop sleeps. */
#define SERVE_MUX_SPIN_SMALL 4096

/* (the broker counts on these windows in the DATA it sends behind an open) */
_Static_assert(
    SERVE_MUX_WINDOW >= PROTO_EARLY_DATA && SERVE_MUX_TCP_WINDOW >= PROTO_EARLY_DATA,
    "a stream's window holds the early data");

enum serve_mux_stream_state { SERVE_MUX_CONNECTING, SERVE_MUX_OPEN };

struct serve_mux_stream {
	uint32_t id;
	enum serve_mux_stream_state state;
	int fd;
	char *where;	     /* "address:port" or "agent", for messages */
	struct buf *to_sock; /* the broker's bytes, not yet written */
	/* ... and before them, this read's DATA, still in m->in */
	struct iovec iov[SERVE_MUX_IOV];
	int niov;
	size_t pending;	    /* bytes in iov */
	uint32_t window;    /* ours: what we take at most */
	uint32_t credit;    /* bytes the broker still takes */
	uint32_t written;   /* written to the socket, not yet granted again */
	int in_eof;	    /* the broker's EOF came */
	int wr_shut;	    /* and the socket's write side is shut */
	int rd_eof;	    /* the socket ended: EOF sent */
	int rst;	    /* the server reset it: CLOSE "reset" at the end */
	int closing;	    /* the broker's client reset it: drained, then reset */
	int tcp;	    /* a "tcp" stream */
	int exec;	    /* an "exec" stream: connecting until its status byte */
	int bulk;	    /* its last read was large: splice the next */
	size_t sent;	    /* bytes this pass wrote to the socket */
	int spin_watch;	    /* the last pass wrote to it: its answer is a hit */
	long long deadline; /* of the connect */
	struct pollfd *pfd; /* its entry in this poll, or NULL */
	/* closing: the wait for its socket to send what it holds before the
	 * reset (serve_mux_stream_drain) */
	struct sock_drain drain;
	LIST_ENTRY(serve_mux_stream) entry;
};
LIST_HEAD(serve_mux_streams, serve_mux_stream);

struct serve_mux {
	int in_fd, out_fd;
	struct buf *in, *out;
	int got_hello;
	int ended;
	serve_mux_agent_fn agent;
	void *agent_arg;
	serve_mux_info_fn info;
	void *info_arg;
	serve_mux_connect_fn connect;
	serve_mux_exec_fn exec; /* NULL: no "exec" streams */
	void *exec_arg;
	struct serve_mux_streams streams;
	uint32_t data_id;   /* the DATA frame under way: its stream */
	uint32_t data_left; /* and its bytes still to come */
	struct pollfd *pfds;
	size_t npfds;
	/* out_fd took less than was offered: full until poll says POLLOUT */
	int out_full;
	int out_pipe; /* out_fd is a pipe: splice(2) into it */
	int broken;   /* a spliced frame could not be completed */
	/* a private pipe: a frame gathered before it goes; -1 until the first
	 * bulk stream needs it (serve_mux_priv_open) */
	int priv[2];
	size_t priv_left; /* bytes of frames in priv, ahead of out */
	struct serve_mux_spin spin;
	int spin_armed; /* the last pass sent a request: spin first */
};

static int serve_mux_connect(const char *address, int port, int *err);

void
serve_mux_spin_init(struct serve_mux_spin *sp, int cpus)
{
	memset(sp, 0, sizeof *sp);
	/* (with one CPU the answer cannot come while we spin: it waits for it) */
	sp->on = cpus > 1;
	sp->score = SERVE_MUX_SPIN_START;
	sp->us = SERVE_MUX_SPIN_US;
}

int
serve_mux_spin_wanted(struct serve_mux_spin *sp)
{
	if (!sp->on)
		return 0;
	if (sp->score >= SERVE_MUX_SPIN_MIN)
		return 1;
	if (++sp->skipped < SERVE_MUX_SPIN_RETRY)
		return 0;
	sp->skipped = 0;
	return 1;
}

void
serve_mux_spin_cut(struct serve_mux_spin *sp)
{
	sp->spins++;
	sp->cut++;
}

void
serve_mux_spin_result(struct serve_mux_spin *sp, int hit)
{
	sp->spins++;
	if (hit) {
		sp->hits++;
		/* (a retry that caught its answer: back on) */
		sp->score = sp->score < SERVE_MUX_SPIN_MIN ? SERVE_MUX_SPIN_START
		    : sp->score < SERVE_MUX_SPIN_MAX	   ? sp->score + 1
							   : sp->score;
	} else
		sp->score = sp->score > 2 ? sp->score - 2 : 0;
}

const struct serve_mux_spin *
serve_mux_spin_policy(const struct serve_mux *m)
{
	return &m->spin;
}

void
serve_mux_set_spin_cpus(struct serve_mux *m, int cpus)
{
	serve_mux_spin_init(&m->spin, cpus);
}

void
serve_mux_set_spin_us(struct serve_mux *m, long long us)
{
	m->spin.us = us;
}

struct serve_mux *
serve_mux_new(int in_fd, int out_fd, int cpus, serve_mux_agent_fn agent, void *arg)
{
	struct serve_mux *m = xcalloc(1, sizeof *m);
	struct stat st;

	m->in_fd = in_fd;
	m->out_fd = out_fd;
	m->in = buf_new();
	m->out = buf_new();
	m->agent = agent;
	m->agent_arg = arg;
	m->connect = serve_mux_connect;
	LIST_INIT(&m->streams);
	fcntl(in_fd, F_SETFL, fcntl(in_fd, F_GETFL) | O_NONBLOCK);
	fcntl(out_fd, F_SETFL, fcntl(out_fd, F_GETFL) | O_NONBLOCK);
	/* Pipes to sshd: 1 MiB (the default most an unprivileged process may
	 * ask for), fewer wake-ups for both; a socket or a refusal: as is. */
	fcntl(in_fd, F_SETPIPE_SZ, SERVE_MUX_PIPE_SIZE);
	fcntl(out_fd, F_SETPIPE_SZ, SERVE_MUX_PIPE_SIZE);
	m->out_pipe = fstat(out_fd, &st) == 0 && S_ISFIFO(st.st_mode) &&
	    getenv("RDEV_AGENT_NO_SPLICE") == NULL;
	m->priv[0] = m->priv[1] = -1;
	/* (RDEV_AGENT_NO_SPIN: for measurements, as RDEV_AGENT_NO_SPLICE) */
	serve_mux_spin_init(&m->spin, getenv("RDEV_AGENT_NO_SPIN") != NULL ? 1 : cpus);
	return m;
}

/* The private pipe, made when the first bulk stream is spliced: an agent
 * that carries no download keeps its 1 MiB of pipe pages (counted against
 * the user's pipe-user-pages-soft) to itself. 0, or -1 when there is none
 * (then splice is off for good: the frames copied as before). */
static int
serve_mux_priv_open(struct serve_mux *m)
{
	if (m->priv[0] >= 0)
		return 0;
	if (pipe2(m->priv, O_NONBLOCK | O_CLOEXEC) != 0) {
		log_debug("listen: no splice: no private pipe: %s", strerror(errno));
		m->priv[0] = m->priv[1] = -1;
		m->out_pipe = 0;
		return -1;
	}
	/* (a private pipe too small for a whole frame, the user over
	 * pipe-user-pages-soft: no splice, the frames copied as before) */
	if (fcntl(m->priv[1], F_SETPIPE_SZ, SERVE_MUX_PIPE_SIZE) <
	    (int)(PROTO_HEADER_SIZE + SERVE_MUX_CHUNK)) {
		log_debug("listen: no splice: the private pipe is not %d bytes: %s",
		    SERVE_MUX_PIPE_SIZE, strerror(errno));
		close(m->priv[0]);
		close(m->priv[1]);
		m->priv[0] = m->priv[1] = -1;
		m->out_pipe = 0;
		return -1;
	}
	return 0;
}

void
serve_mux_set_exec(struct serve_mux *m, serve_mux_exec_fn fn, void *arg)
{
	m->exec = fn;
	m->exec_arg = arg;
}

void
serve_mux_set_connect(struct serve_mux *m, serve_mux_connect_fn fn)
{
	m->connect = fn;
}

void
serve_mux_set_info(struct serve_mux *m, serve_mux_info_fn fn, void *arg)
{
	m->info = fn;
	m->info_arg = arg;
}

void
serve_mux_hello_features(cJSON *hello)
{
	/* (serve_mux_open makes the stream before the next frame is read, and
	 * every window it answers is more than PROTO_EARLY_DATA) */
	proto_hello_add_feature(hello, PROTO_FEATURE_EARLY_DATA);
}

static void
serve_mux_stream_free(struct serve_mux_stream *s)
{
	LIST_REMOVE(s, entry);
	if (s->fd >= 0)
		close(s->fd);
	buf_free(s->to_sock);
	free(s->where);
	free(s);
}

void
serve_mux_free(struct serve_mux *m)
{
	if (m == NULL)
		return;
	log_debug("listen: %lu spins after a request, %lu caught the answer, %lu "
		  "ended by other work",
	    m->spin.spins, m->spin.hits, m->spin.cut);
	while (!LIST_EMPTY(&m->streams)) {
		struct serve_mux_stream *s = LIST_FIRST(&m->streams);

		/* (one that drains before its reset is reset now: its server
		 * must not take what it got for a whole stream) */
		if (s->closing)
			sock_drain_reset_at_close(s->fd);
		serve_mux_stream_free(s);
	}
	buf_free(m->in);
	buf_free(m->out);
	if (m->priv[0] >= 0) {
		close(m->priv[0]);
		close(m->priv[1]);
	}
	free(m->pfds);
	free(m);
}

void
serve_mux_close_in_child(struct serve_mux *m)
{
	struct serve_mux_stream *s;

	LIST_FOREACH(s, &m->streams, entry) {
		if (s->fd >= 0)
			close(s->fd);
	}
	if (m->priv[0] >= 0) {
		close(m->priv[0]);
		close(m->priv[1]);
	}
}

static struct serve_mux_stream *
serve_mux_find(struct serve_mux *m, uint32_t id)
{
	struct serve_mux_stream *s;

	/* (one that drains before its reset is the broker's no more) */
	LIST_FOREACH(s, &m->streams, entry) {
		if (s->id == id && !s->closing)
			return s;
	}
	return NULL;
}

/* Queue a JSON frame for the broker. */
static void
serve_mux_send_json(struct serve_mux *m, enum proto_type type, uint32_t ch, cJSON *o)
{
	proto_encode_json(m->out, type, ch, o, NULL);
	cJSON_Delete(o);
}

/* Answer stream id's open: ok with our window, or error (refused: nothing
 * listens there). */
static void
serve_mux_answer(
    struct serve_mux *m, uint32_t id, uint32_t window, const char *error, int refused)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "id", id);
	cJSON_AddBoolToObject(o, "ok", error == NULL);
	if (error == NULL)
		cJSON_AddNumberToObject(o, "window", window);
	else {
		cJSON_AddStringToObject(o, "error", error);
		cJSON_AddBoolToObject(o, "refused", refused);
	}
	serve_mux_send_json(m, PROTO_CONTROL, 0, o);
}

/* An "info" request {"id":N,"op":"info"}: answered here, in this process
 * (no connection, no child: the broker's probe of many hosts at once), or
 * refused when nobody answers them. */
static void
serve_mux_info(struct serve_mux *m, const cJSON *req)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(req, "id");
	cJSON *o, *result = NULL;
	char *cause = NULL;

	if (!cJSON_IsNumber(id))
		return; /* (malformed: ignored, as such opens are) */
	o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "id", cJSON_Duplicate(id, 1));
	if (m->info != NULL && m->info(m->info_arg, &result, &cause) == 0) {
		cJSON_AddBoolToObject(o, "ok", 1);
		cJSON_AddItemToObject(o, "result", result);
	} else {
		cJSON_AddBoolToObject(o, "ok", 0);
		cJSON_AddStringToObject(
		    o, "error", cause != NULL ? cause : "info: not answered here");
	}
	free(cause);
	serve_mux_send_json(m, PROTO_CONTROL, 0, o);
}

/* The stream is done with: CLOSE to the broker (with why, if it broke), and
 * it goes. */
static void
serve_mux_stream_end(struct serve_mux *m, struct serve_mux_stream *s, const char *why)
{
	cJSON *o = cJSON_CreateObject();

	if (why != NULL) {
		log_debug("listen: stream %u (%s): %s", s->id, s->where, why);
		cJSON_AddStringToObject(o, "error", why);
	}
	/* (its DATA before this: the broker passes it on, then resets its
	 * client's socket where an older one closed it; PROTOCOL.md) */
	if (s->rst)
		cJSON_AddBoolToObject(o, "reset", 1);
	serve_mux_send_json(m, PROTO_CLOSE, s->id, o);
	serve_mux_stream_free(s);
}

/* A write to s's socket failed with err. A reset by the server
 * (ECONNRESET, or EPIPE once a call took that error) leaves what it sent
 * before readable: the broker's bytes for it are dropped from now on, and
 * the stream ends with CLOSE {"reset":true} once the socket is read to its
 * end. Any other error ends it now. 0 while it goes on, -1 when it ended
 * (freed). */
static int
serve_mux_write_failed(struct serve_mux *m, struct serve_mux_stream *s, int err)
{
	if (s->closing) {
		/* (the broker forgot it: no CLOSE; nothing more goes) */
		log_debug("listen: stream %u (%s): before its reset: %s", s->id, s->where,
		    strerror(err));
		serve_mux_stream_free(s);
		return -1;
	}
	if (!s->tcp || (err != ECONNRESET && err != EPIPE)) {
		serve_mux_stream_end(m, s, strerror(err));
		return -1;
	}
	if (!s->rst)
		log_debug("listen: stream %u (%s): reset by the server (a write: %s)",
		    s->id, s->where, strerror(err));
	s->rst = 1;
	s->wr_shut = 1;
	buf_reset(s->to_sock);
	return 0;
}

/* The broker's CLOSE for s, {"reset":true} when its client reset its
 * connection: then so is the socket (SO_LINGER 0), so that the server
 * reads an error rather than the end of a whole stream, but only once the
 * bytes its client sent before the reset reached the server (a reset
 * throws away what a socket did not send): s stays, the broker's no more,
 * until they did (serve_mux_stream_drain). */
static void
serve_mux_stream_closed(struct serve_mux_stream *s, const struct proto_frame *f)
{
	cJSON *msg = f->len > 0 ? proto_frame_json(f, NULL) : NULL;
	int reset = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(msg, "reset"));

	cJSON_Delete(msg);
	if (reset && s->tcp && !s->rst && s->state == SERVE_MUX_OPEN) {
		log_debug("listen: stream %u (%s): reset by the broker's client: "
			  "a reset once its bytes are sent",
		    s->id, s->where);
		s->closing = 1;
		s->drain = (struct sock_drain){ 0 };
		return;
	}
	serve_mux_stream_free(s);
}

/* A stream that drains before its reset (closing), after the poll (re: its
 * events): its bytes to the socket, then the reset once the socket sent
 * them all, or once they stopped going down for a while (sock-drain.h).
 * What the server sends is read and dropped (no one takes it). -1 when s
 * went (freed), 0 while it drains. */
static int
serve_mux_stream_drain(struct serve_mux_stream *s, short re, long long now)
{
	unsigned char tmp[16384];
	size_t n = 0;
	ssize_t r;
	int reads = 0;
	enum sock_drain_result step;

	/* (a bounded number a pass: a server that writes as fast as this
	 * reads would hold the loop, and the other streams wait) */
	while (!s->rd_eof && (re & (POLLIN | POLLHUP | POLLERR)) != 0 &&
	    reads++ < SERVE_MUX_DRAIN_READS) {
		r = read(s->fd, tmp, sizeof tmp);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (r < 0) {
			/* (the server reset it too, or it broke: nothing goes) */
			log_debug("listen: stream %u (%s): before its reset: %s", s->id,
			    s->where, strerror(errno));
			serve_mux_stream_free(s);
			return -1;
		}
		if (r == 0)
			s->rd_eof = 1;
	}
	if (buf_io_flush(s->to_sock, s->fd, 1, &n) != 0) {
		log_debug("listen: stream %u (%s): before its reset: %s", s->id, s->where,
		    strerror(errno));
		serve_mux_stream_free(s);
		return -1;
	}
	step = sock_drain_step(&s->drain, s->fd, buf_len(s->to_sock), now);
	if (step == SOCK_DRAIN_WAIT)
		return 0;
	if (step == SOCK_DRAIN_STALLED)
		log_debug("listen: stream %u (%s): the server did not take %zu "
			  "bytes in time: reset",
		    s->id, s->where, s->drain.last_left);
	else
		log_debug(
		    "listen: stream %u (%s): its bytes sent: reset", s->id, s->where);
	sock_drain_reset_at_close(s->fd);
	serve_mux_stream_free(s);
	return -1;
}

/* Start a nonblocking TCP connect to address:port (numeric); the fd, or -1
 * with *err (an errno) when it failed at once. */
static int
serve_mux_connect(const char *address, int port, int *err)
{
	struct addrinfo hints, *ai = NULL;
	char service[16];
	int fd, one = 1, rc;

	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	snprintf(service, sizeof service, "%d", port);
	if (getaddrinfo(address, service, &hints, &ai) != 0 || ai == NULL) {
		*err = EINVAL;
		return -1;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*err = errno;
		freeaddrinfo(ai);
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	if (rc != 0 && errno != EINPROGRESS) {
		*err = errno;
		close(fd);
		return -1;
	}
	return fd;
}

/* An "open" request: the stream is made (connecting, or open at once for
 * an agent) or refused with an answer. */
/* Is id a Docker container id (12 to 64 lowercase hex digits, as
 * idle-watch takes)? An "exec" stream's id becomes a Docker API path and a
 * lock's name: "../x" or "a/b" must not reach either. */
static int
serve_mux_container_id_ok(const char *id)
{
	size_t n = strlen(id);

	return n >= 12 && n <= 64 && strspn(id, "0123456789abcdef") == n;
}

static void
serve_mux_open(struct serve_mux *m, const cJSON *req)
{
	const cJSON *idv = cJSON_GetObjectItemCaseSensitive(req, "id");
	const cJSON *conn = cJSON_GetObjectItemCaseSensitive(req, "connect");
	const cJSON *addr = cJSON_GetObjectItemCaseSensitive(req, "address");
	const cJSON *port = cJSON_GetObjectItemCaseSensitive(req, "port");
	const cJSON *win = cJSON_GetObjectItemCaseSensitive(req, "window");
	const cJSON *cid = cJSON_GetObjectItemCaseSensitive(req, "containerId");
	struct serve_mux_stream *s;
	char *cause = NULL, *msg;
	uint32_t id;
	int fd, err = 0;

	if (!cJSON_IsNumber(idv) || idv->valuedouble < 1 ||
	    idv->valuedouble > 4294967295.0)
		return;
	id = (uint32_t)idv->valuedouble;
	if (serve_mux_find(m, id) != NULL || !cJSON_IsString(conn) ||
	    !cJSON_IsNumber(win) || win->valuedouble < 0 ||
	    win->valuedouble > 4294967295.0) {
		serve_mux_answer(m, id, 0, "bad open request", 0);
		return;
	}
	if (strcmp(conn->valuestring, "agent") == 0) {
		if ((fd = m->agent(m->agent_arg, &cause)) < 0) {
			serve_mux_answer(m, id, 0, cause, 0);
			free(cause);
			return;
		}
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	} else if (strcmp(conn->valuestring, "tcp") == 0 && cJSON_IsString(addr) &&
	    cJSON_IsNumber(port) && port->valueint > 0 && port->valueint < 65536) {
		if ((fd = m->connect(addr->valuestring, port->valueint, &err)) < 0) {
			msg = xasprintf("connect %s:%d: %s", addr->valuestring,
			    port->valueint, strerror(err));
			serve_mux_answer(m, id, 0, msg, err == ECONNREFUSED);
			free(msg);
			return;
		}
	} else if (strcmp(conn->valuestring, "exec") == 0 && m->exec != NULL &&
	    cJSON_IsString(cid) && serve_mux_container_id_ok(cid->valuestring) &&
	    cJSON_IsNumber(port) && port->valueint > 0 && port->valueint < 65536) {
		if ((fd = m->exec(
			 m->exec_arg, cid->valuestring, port->valueint, &cause)) < 0) {
			serve_mux_answer(m, id, 0, cause, 0);
			free(cause);
			return;
		}
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	} else {
		serve_mux_answer(m, id, 0, "bad open request", 0);
		return;
	}
	s = xcalloc(1, sizeof *s);
	s->id = id;
	s->fd = fd;
	s->to_sock = buf_new();
	s->credit = (uint32_t)win->valuedouble;
	if (strcmp(conn->valuestring, "agent") == 0) {
		s->where = xstrdup("agent");
		s->window = SERVE_MUX_WINDOW;
		s->state = SERVE_MUX_OPEN;
		serve_mux_answer(m, id, s->window, NULL, 0);
	} else if (strcmp(conn->valuestring, "exec") == 0) {
		/* (answered once `rdev-agent connect --status` says the relay
		 * connected, or why not: a port where nothing listens is a
		 * refusal the broker shows, not a clean close) */
		s->window = SERVE_MUX_TCP_WINDOW;
		s->exec = 1;
		s->where = xasprintf("exec %.12s:%d", cid->valuestring, port->valueint);
		s->state = SERVE_MUX_CONNECTING;
		s->deadline = clock_now_ms() + SERVE_MUX_EXEC_MS;
	} else {
		s->window = SERVE_MUX_TCP_WINDOW;
		s->tcp = 1;
		s->where = xasprintf("%s:%d", addr->valuestring, port->valueint);
		s->state = SERVE_MUX_CONNECTING;
		s->deadline = clock_now_ms() + SERVE_MUX_CONNECT_MS;
	}
	LIST_INSERT_HEAD(&m->streams, s, entry);
}

/* A DATA frame's bytes for s: kept where they are (m->in) for one sendmsg
 * after this read's frames (serve_mux_settle), unless bytes wait already. */
static void
serve_mux_take(struct serve_mux_stream *s, const unsigned char *data, size_t len)
{
	if (len == 0 || s->rst)
		return; /* (none, or for a socket reset: dropped) */
	if (s->state == SERVE_MUX_OPEN && buf_len(s->to_sock) == 0 &&
	    s->niov < SERVE_MUX_IOV) {
		s->iov[s->niov++] = (struct iovec){ (void *)data, len };
		s->pending += len;
		return;
	}
	buf_append(s->to_sock, data, len);
}

/* After a read's frames: each stream's DATA still in m->in to its socket
 * (send_now; else, and what the socket does not take, to its buffer, ahead
 * of what waits there). */
static void
serve_mux_settle(struct serve_mux *m, int send_now)
{
	struct serve_mux_stream *s, *next;
	struct msghdr mh;
	struct buf *rest;
	size_t skip;
	ssize_t n;

	for (s = LIST_FIRST(&m->streams); s != NULL; s = next) {
		next = LIST_NEXT(s, entry);
		if (s->niov == 0)
			continue;
		n = 0;
		if (send_now) {
			memset(&mh, 0, sizeof mh);
			mh.msg_iov = s->iov;
			mh.msg_iovlen = (size_t)s->niov;
			n = sendmsg(s->fd, &mh, MSG_NOSIGNAL);
			if (n < 0 && errno != EINTR && errno != EAGAIN &&
			    errno != EWOULDBLOCK) {
				if (serve_mux_write_failed(m, s, errno) == 0) {
					s->niov = 0; /* (dropped) */
					s->pending = 0;
				}
				continue;
			}
			n = n < 0 ? 0 : n;
			s->written += (uint32_t)n;
			s->sent += (size_t)n;
		}
		/* (the common case, all sent: no buffer touched) */
		rest = (size_t)n == s->pending || buf_len(s->to_sock) == 0 ? s->to_sock
									   : buf_new();
		skip = (size_t)n;
		for (int i = 0; i < s->niov && (size_t)n < s->pending; i++) {
			if (skip >= s->iov[i].iov_len) {
				skip -= s->iov[i].iov_len;
				continue;
			}
			buf_append(rest, (unsigned char *)s->iov[i].iov_base + skip,
			    s->iov[i].iov_len - skip);
			skip = 0;
		}
		if (rest != s->to_sock) {
			buf_append(rest, buf_data(s->to_sock), buf_len(s->to_sock));
			buf_free(s->to_sock);
			s->to_sock = rest;
		}
		s->niov = 0;
		s->pending = 0;
	}
}

/* One frame from the broker. 0, or -1 when the stream of frames is broken. */
static int
serve_mux_frame(struct serve_mux *m, const struct proto_frame *f)
{
	struct serve_mux_stream *s;
	cJSON *msg;
	uint32_t version;
	const char *op;
	char *why = NULL;

	if (!m->got_hello) {
		if (f->type != PROTO_HELLO || (msg = proto_frame_json(f, &why)) == NULL) {
			log_warn("listen: the broker's first frame is not HELLO");
			free(why);
			return -1;
		}
		if (proto_hello_negotiate(msg, &version, &why) != 0) {
			log_warn("listen: %s", why);
			free(why);
			cJSON_Delete(msg);
			return -1;
		}
		cJSON_Delete(msg);
		m->got_hello = 1;
		return 0;
	}
	if (f->type == PROTO_CONTROL) {
		if ((msg = proto_frame_json(f, NULL)) == NULL)
			return 0;
		op = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(msg, "op"));
		if (op != NULL && strcmp(op, "open") == 0)
			serve_mux_open(m, msg);
		else if (op != NULL && strcmp(op, "info") == 0)
			serve_mux_info(m, msg);
		cJSON_Delete(msg);
		return 0;
	}
	if ((s = serve_mux_find(m, f->channel)) == NULL)
		return 0; /* a stream we ended: what was under way is dropped */
	switch (f->type) {
	case PROTO_EOF: s->in_eof = 1; break;
	case PROTO_CLOSE: serve_mux_stream_closed(s, f); break;
	case PROTO_WINDOW:
		if (f->len != 4)
			break;
		if (be_get_u32(f->payload) > UINT32_MAX - s->credit) {
			/* (it would wrap: a stream stalled for good) */
			serve_mux_stream_end(
			    m, s, "the broker granted more than 4 GiB at once");
			break;
		}
		s->credit += be_get_u32(f->payload);
		break;
	default: break;
	}
	return 0;
}

/* A DATA frame's header: len bytes for stream id follow (serve_mux_data);
 * more than the stream's window ends it. */
static void
serve_mux_data_begin(struct serve_mux *m, uint32_t id, uint32_t len)
{
	struct serve_mux_stream *s = serve_mux_find(m, id);

	m->data_id = id;
	m->data_left = len;
	if (s != NULL &&
	    (s->in_eof || s->pending + buf_len(s->to_sock) + len > s->window))
		serve_mux_stream_end(m, s, "the broker sent more than its window");
}

/* Bytes of the DATA frame under way, as they come; how many were its. */
static size_t
serve_mux_data(struct serve_mux *m, const unsigned char *data, size_t len)
{
	struct serve_mux_stream *s = serve_mux_find(m, m->data_id);
	size_t take = len < m->data_left ? len : m->data_left;

	/* (none: a stream we ended, what was under way is dropped) */
	if (s != NULL)
		serve_mux_take(s, data, take);
	m->data_left -= (uint32_t)take;
	return take;
}

/* Act on the frames in m->in, their DATA sent at once (send_now) or kept.
 * DATA goes on as it comes, a frame's first part without waiting for the
 * rest: so m->in is mostly empty after a read, and the next read lands at
 * its start, in warm memory, with nothing moved there first. 0, or -1
 * when the frames are not the protocol. */
static int
serve_mux_decode(struct serve_mux *m, int send_now)
{
	struct proto_frame f;
	const unsigned char *p;
	size_t used;
	char *why = NULL;
	int r = 0;

	while (buf_len(m->in) > 0) {
		p = buf_data(m->in);
		if (m->data_left > 0) {
			buf_consume(m->in, serve_mux_data(m, p, buf_len(m->in)));
			continue;
		}
		if ((r = proto_decode_header(p, buf_len(m->in), &f, &why)) < 0)
			break;
		/* (a DATA frame's payload is taken as it comes) */
		if (r == 1 && m->got_hello && f.type == PROTO_DATA) {
			serve_mux_data_begin(m, f.channel, (uint32_t)f.len);
			buf_consume(m->in, PROTO_HEADER_SIZE);
			continue;
		}
		if (r == 0 || (r = proto_decode(p, buf_len(m->in), &f, &used, &why)) == 0)
			break;
		if (serve_mux_frame(m, &f) != 0) {
			serve_mux_settle(m, 0);
			return -1;
		}
		buf_consume(m->in, used);
	}
	/* (m->in's consumed bytes stay where they are until its next read) */
	serve_mux_settle(m, send_now);
	if (r < 0) {
		log_warn("listen: from the broker: %s", why);
		free(why);
		return -1;
	}
	return 0;
}

const struct buf *
serve_mux_output(const struct serve_mux *m)
{
	return m->out;
}

int
serve_mux_input(struct serve_mux *m, const void *data, size_t len)
{
	buf_append(m->in, data, len);
	return serve_mux_decode(m, 0);
}

/* Read what the broker sent and act on its frames. 0, or -1 at its end. */
static int
serve_mux_read_input(struct serve_mux *m)
{
	unsigned char *p;
	ssize_t n;
	int ended = 0;

	for (;;) {
		p = buf_reserve(m->in, SERVE_MUX_READ);
		n = read(m->in_fd, p, SERVE_MUX_READ);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			ended = 1;
			break;
		}
		buf_commit(m->in, (size_t)n);
		if (n < SERVE_MUX_READ)
			break;
	}
	/* (the frames read before the end are still acted on) */
	if (serve_mux_decode(m, 1) != 0 || ended)
		return -1;
	return 0;
}

/* An "exec" stream's status byte came, or its end, or the deadline
 * (timed_out): answer the open, with the reason `rdev-agent connect
 * --status` wrote after a failure's byte. 0, or -1 when it failed (s
 * freed). */
static int
serve_mux_exec_status(struct serve_mux *m, struct serve_mux_stream *s, int timed_out)
{
	char b[512], *msg;
	ssize_t n = -1;

	if (!timed_out)
		n = read(s->fd, b, 1);
	if (n < 0 && !timed_out && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n == 1 && b[0] == 0) {
		s->state = SERVE_MUX_OPEN;
		serve_mux_answer(m, s->id, s->window, NULL, 0);
		return 0;
	}
	if (n == 1) {
		int refused = b[0] == 1;
		ssize_t k = read(s->fd, b, sizeof b - 1);

		b[k > 0 ? k : 0] = '\0';
		msg = xasprintf("%s: %s", s->where, k > 0 ? b : "failed");
		serve_mux_answer(m, s->id, 0, msg, refused);
	} else {
		msg = xasprintf("%s: %s", s->where,
		    timed_out ? "no answer in time" : "the exec ended");
		serve_mux_answer(m, s->id, 0, msg, 0);
	}
	free(msg);
	serve_mux_stream_free(s);
	return -1;
}

/* A connect in progress finished (or timed out): answer the open. 0, or -1
 * when it failed (s freed). */
static int
serve_mux_connected(struct serve_mux *m, struct serve_mux_stream *s, int timed_out)
{
	int err = 0;
	socklen_t len = sizeof err;
	char *msg;

	if (timed_out)
		err = ETIMEDOUT;
	else if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
		err = errno;
	if (err == 0) {
		s->state = SERVE_MUX_OPEN;
		serve_mux_answer(m, s->id, s->window, NULL, 0);
		return 0;
	}
	msg = xasprintf("connect %s: %s", s->where, strerror(err));
	serve_mux_answer(m, s->id, 0, msg, err == ECONNREFUSED);
	free(msg);
	serve_mux_stream_free(s);
	return -1;
}

/* What one write or splice of want bytes into out_fd did, told its result
 * n: 1 when n bytes went (a short one marks the pipe full: sshd has not
 * caught up), 0 when none went but the loop may go on (EINTR, or the pipe
 * full and so marked), -1 when out_fd broke (errno says why: EIO for no
 * progress and no error, which would spin). */
static int
serve_mux_out_step(struct serve_mux *m, ssize_t n, size_t want)
{
	if (n < 0 && errno == EINTR)
		return 0;
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		m->out_full = 1;
		return 0;
	}
	if (n <= 0) {
		if (n == 0)
			errno = EIO;
		return -1;
	}
	if ((size_t)n < want)
		m->out_full = 1;
	return 1;
}

/* The private pipe's frames into sshd's pipe, as far as it takes them. 0,
 * or -1 when it broke (m->broken). */
static int
serve_mux_priv_flush(struct serve_mux *m)
{
	ssize_t n;
	int r;

	while (m->priv_left > 0 && !m->out_full) {
		n = splice(m->priv[0], NULL, m->out_fd, NULL, m->priv_left,
		    SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
		if ((r = serve_mux_out_step(m, n, m->priv_left)) < 0) {
			m->broken = 1;
			return -1;
		}
		if (r > 0)
			m->priv_left -= (size_t)n;
	}
	return 0;
}

/* A bulk tcp stream's bytes spliced from its socket into the pipe, behind
 * their frame's header: no copy through the agent. Only with nothing of
 * ours waiting in out (the frames keep their order) and the pipe not known
 * full; the length is what the socket holds (FIONREAD), and what a short
 * splice left is read into out as usual (the socket still holds it). 1
 * when a frame went, 2 when the socket is empty, 0 when nothing was tried
 * (read as usual). */
static int
serve_mux_sock_splice(struct serve_mux *m, struct serve_mux_stream *s)
{
	unsigned char hdr[PROTO_HEADER_SIZE], *p;
	size_t want, done = 0;
	int avail = 0;
	ssize_t n;

	if (!m->out_pipe || !s->tcp || !s->bulk || m->out_full || m->priv_left > 0 ||
	    buf_len(m->out) > 0)
		return 0;
	if (ioctl(s->fd, FIONREAD, &avail) != 0)
		return 0;
	/* (none: the read says whether it ended) */
	if ((size_t)avail < SERVE_MUX_SPLICE_MIN) {
		s->bulk = 0;
		return 0;
	}
	if (serve_mux_priv_open(m) != 0)
		return 0;
	want = (size_t)avail < SERVE_MUX_CHUNK ? (size_t)avail : SERVE_MUX_CHUNK;
	if (want > s->credit)
		want = s->credit;
	/* header and payload gathered in the private pipe (empty), then moved
	 * into sshd's in one splice: one wake-up of sshd per frame */
	proto_put_header(hdr, PROTO_DATA, s->id, (uint32_t)want);
	if (write(m->priv[1], hdr, sizeof hdr) != (ssize_t)sizeof hdr)
		return 0;
	while (done < want) {
		n = splice(s->fd, NULL, m->priv[1], NULL, want - done,
		    SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	s->credit -= (uint32_t)want;
	m->priv_left = sizeof hdr + want;
	if (done < want) {
		/* the private pipe took no more: the rest (the socket still
		 * holds it) waits in out, behind the private pipe */
		p = buf_reserve(m->out, want - done);
		while (done < want) {
			n = read(s->fd, p, want - done);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				log_warn(
				    "listen: stream %u (%s): spliced frame cut short",
				    s->id, s->where);
				m->broken = 1;
				return 2;
			}
			buf_commit(m->out, (size_t)n);
			p += n;
			done += (size_t)n;
		}
		m->priv_left -= buf_len(m->out);
	}
	return serve_mux_priv_flush(m) == 0 && !m->out_full ? 1 : 2;
}

/* The socket's bytes to the broker, as far as its credit and out's room
 * go. 0, or -1 when s ended (freed). */
static int
serve_mux_sock_read(struct serve_mux *m, struct serve_mux_stream *s)
{
	unsigned char *p;
	size_t want;
	ssize_t n;
	int r;

	while (!s->rd_eof && s->credit > 0 && buf_len(m->out) < SERVE_MUX_OUT_MAX) {
		if ((r = serve_mux_sock_splice(m, s)) == 2)
			return 0;
		if (r == 1)
			continue;
		want = s->credit < SERVE_MUX_CHUNK ? s->credit : SERVE_MUX_CHUNK;
		/* read straight behind a header made afterwards */
		p = buf_reserve(m->out, PROTO_HEADER_SIZE + want);
		n = read(s->fd, p + PROTO_HEADER_SIZE, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n < 0) {
			s->rst = s->rst || (s->tcp && errno == ECONNRESET);
			serve_mux_stream_end(m, s, strerror(errno));
			return -1;
		}
		if (n == 0 && s->rst) {
			/* (a write met the reset first, and took its error: the
			 * read then ends as if closed) */
			serve_mux_stream_end(m, s, strerror(ECONNRESET));
			return -1;
		}
		if (n == 0) {
			s->rd_eof = 1;
			proto_encode(m->out, PROTO_EOF, s->id, NULL, 0);
			break;
		}
		proto_put_header(p, PROTO_DATA, s->id, (uint32_t)n);
		buf_commit(m->out, PROTO_HEADER_SIZE + (size_t)n);
		s->credit -= (uint32_t)n;
		s->bulk = (size_t)n >= SERVE_MUX_SPLICE_MIN;
		if ((size_t)n < want)
			return 0;
	}
	return 0;
}

/* The broker's bytes to the socket; the room made is granted again. 0, or
 * -1 when s ended (freed). */
static int
serve_mux_sock_write(struct serve_mux *m, struct serve_mux_stream *s)
{
	unsigned char w[4];
	size_t n = 0;
	int rc = buf_io_flush(s->to_sock, s->fd, 1, &n);

	s->written += (uint32_t)n;
	s->sent += n;
	if (rc != 0 && serve_mux_write_failed(m, s, errno) != 0)
		return -1;
	/* Grant in quarters of the window (as the broker does: no frame per
	 * small message). */
	if (s->written >= s->window / 4) {
		be_put_u32(w, s->written);
		proto_encode(m->out, PROTO_WINDOW, s->id, w, sizeof w);
		s->written = 0;
	}
	if (s->in_eof && !s->wr_shut && buf_len(s->to_sock) == 0) {
		shutdown(s->fd, SHUT_WR);
		s->wr_shut = 1;
	}
	if (s->rd_eof && s->wr_shut) {
		serve_mux_stream_end(m, s, NULL);
		return -1;
	}
	return 0;
}

/* out to the broker, as far as the pipe takes it. 0, or -1 when it broke.
 * One write per pass: a short one means the pipe is full (its reader,
 * sshd, has not caught up), so no write is tried again, here or in the next
 * passes that sockets wake, until poll says the pipe has room (a download
 * found it full a third of the time: each a write failing with EAGAIN). */
static int
serve_mux_flush(struct serve_mux *m)
{
	ssize_t n;
	int r;

	if (serve_mux_priv_flush(m) != 0)
		return -1;
	while (m->priv_left == 0 && buf_len(m->out) > 0 && !m->out_full) {
		n = write(m->out_fd, buf_data(m->out), buf_len(m->out));
		if ((r = serve_mux_out_step(m, n, buf_len(m->out))) < 0)
			return -1;
		if (r > 0)
			buf_consume(m->out, (size_t)n);
	}
	return 0;
}

/* Whether the poll found an answer: a socket that the armed pass wrote to
 * (its request's) readable, ended or failed. */
static int
serve_mux_spin_answered(const struct serve_mux *m)
{
	const struct serve_mux_stream *s;

	LIST_FOREACH(s, &m->streams, entry) {
		if (s->spin_watch && s->pfd != NULL &&
		    (s->pfd->revents & (POLLIN | POLLHUP | POLLERR)) != 0)
			return 1;
	}
	return 0;
}

/* poll(2) of m->pfds[0..n): after a request went out (armed), and while the
 * policy wants it, first without a timeout for up to SERVE_MUX_SPIN_US, so
 * that an answer that comes that soon is served without this process
 * sleeping and being woken (on a guest whose idle CPU halts, a wake-up of
 * tens of microseconds). Only an answer scores a hit: anything else ready
 * (the broker's next frame, another stream's bytes, room in the pipe) or a
 * signal ends the spin, to be served at once, and scores nothing, since it
 * says nothing of how soon answers come. */
static int
serve_mux_wait(struct serve_mux *m, nfds_t n, int timeout_ms, int armed)
{
	long long start;
	int r;

	if (armed && timeout_ms != 0 && serve_mux_spin_wanted(&m->spin)) {
		start = clock_now_us();
		do {
			if ((r = poll(m->pfds, n, 0)) != 0)
				break;
		} while (clock_now_us() - start < m->spin.us);
		if (r == 0)
			serve_mux_spin_result(&m->spin, 0);
		else if (r > 0 && serve_mux_spin_answered(m))
			serve_mux_spin_result(&m->spin, 1);
		else
			serve_mux_spin_cut(&m->spin);
		if (r != 0)
			return r;
	}
	return poll(m->pfds, n, timeout_ms);
}

/* Serve one stream after the poll (re: its events). 0, or -1 when s ended
 * (freed). */
static int
serve_mux_stream_run(
    struct serve_mux *m, struct serve_mux_stream *s, short re, long long now)
{
	if (s->state == SERVE_MUX_CONNECTING && s->exec) {
		if (re != 0 || now >= s->deadline)
			return serve_mux_exec_status(m, s, re == 0);
		return 0;
	}
	if (s->state == SERVE_MUX_CONNECTING) {
		if (re != 0)
			return serve_mux_connected(m, s, 0);
		if (now >= s->deadline)
			return serve_mux_connected(m, s, 1);
		return 0;
	}
	if ((re & (POLLIN | POLLHUP | POLLERR)) != 0 && serve_mux_sock_read(m, s) != 0)
		return -1;
	return serve_mux_sock_write(m, s);
}

int
serve_mux_poll(struct serve_mux *m, struct pollfd *extra, size_t nextra, int timeout_ms)
{
	struct serve_mux_stream *s, *next;
	size_t n = 0, cap = nextra + 2, i;
	long long now = clock_now_ms(), wait;
	size_t sent = 0;
	int armed = m->spin_armed;
	short re;

	if (m->ended)
		return 0;
	/* (this pass's own, whatever ends it: an EINTR's return spins no
	 * more) */
	m->spin_armed = 0;
	LIST_FOREACH(s, &m->streams, entry)
		cap++;
	if (cap > m->npfds) {
		m->pfds = xreallocarray(m->pfds, cap, sizeof *m->pfds);
		m->npfds = cap;
	}
	m->pfds[n++] = (struct pollfd){ .fd = m->in_fd, .events = POLLIN };
	m->pfds[n++] =
	    (struct pollfd){ .fd =
				 buf_len(m->out) > 0 || m->priv_left > 0 ? m->out_fd : -1,
		    .events = POLLOUT };
	LIST_FOREACH(s, &m->streams, entry) {
		short ev = 0;

		if (s->closing) {
			ev = s->rd_eof ? 0 : POLLIN;
			if (buf_len(s->to_sock) > 0)
				ev |= POLLOUT;
			else if (timeout_ms < 0 || timeout_ms > SOCK_DRAIN_POLL_MS)
				/* (its socket's queue: nothing says it emptied) */
				timeout_ms = SOCK_DRAIN_POLL_MS;
			/* (nor past the deadline of its reset; a fresh wait's
			 * first look, which starts it, at once) */
			wait = s->drain.deadline - now;
			if (timeout_ms < 0 || wait < timeout_ms)
				timeout_ms = wait < 0 ? 0 : (int)wait;
		} else if (s->state == SERVE_MUX_CONNECTING) {
			ev = s->exec ? POLLIN : POLLOUT;
			wait = s->deadline - now;
			if (timeout_ms < 0 || wait < timeout_ms)
				timeout_ms = wait < 0 ? 0 : (int)wait;
		} else {
			if (!s->rd_eof && s->credit > 0 &&
			    buf_len(m->out) < SERVE_MUX_OUT_MAX)
				ev |= POLLIN;
			if (buf_len(s->to_sock) > 0)
				ev |= POLLOUT;
		}
		s->pfd = &m->pfds[n];
		m->pfds[n++] =
		    (struct pollfd){ .fd = ev != 0 ? s->fd : -1, .events = ev };
	}
	for (i = 0; i < nextra; i++)
		m->pfds[n++] = extra[i];
	if (serve_mux_wait(m, (nfds_t)n, timeout_ms, armed) < 0) {
		if (errno == EINTR)
			return 1;
		fatal("listen: poll: %s", strerror(errno));
	}
	for (i = 0; i < nextra; i++)
		extra[i].revents = m->pfds[n - nextra + i].revents;
	now = clock_now_ms();
	if (m->pfds[1].revents != 0)
		m->out_full = 0; /* (room, or an error the next write reports) */
	if (m->pfds[0].revents != 0 && serve_mux_read_input(m) != 0) {
		m->ended = 1;
		return 0;
	}
	/* Each stream served, and what this pass wrote to its socket (here or
	 * as the broker's frames came) counted for the spin: a stream that
	 * ended in it takes no answer. (Streams opened by this pass's frames
	 * have no entry yet.) */
	for (s = LIST_FIRST(&m->streams); s != NULL; s = next) {
		next = LIST_NEXT(s, entry);
		if (s->pfd != NULL) {
			re = s->pfd->revents;
			s->pfd = NULL;
			if (s->closing ? serve_mux_stream_drain(s, re, now) != 0
				       : serve_mux_stream_run(m, s, re, now) != 0)
				continue;
		}
		sent += s->sent;
		s->spin_watch = s->sent > 0;
		s->sent = 0;
	}
	if (m->broken || serve_mux_flush(m) != 0) {
		m->ended = 1;
		return 0;
	}
	m->spin_armed = sent > 0 && sent <= SERVE_MUX_SPIN_SMALL;
	return 1;
}
