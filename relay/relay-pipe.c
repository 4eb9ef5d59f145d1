/* relay-pipe.c - the bytes of a connected 'C' connection of rdev-relay, both
 * ways: splice() through a pipe per direction, or recv/send through a
 * bounded buffer when out of descriptors (relay.h, struct dir). */
#include <sys/epoll.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/sock-drain.h"
#include "relay.h"

static unsigned char relay_scratch[RELAY_BUF];

/* The moves of a direction (relay.h, enum relay_dir_state): its end is read
 * (a found reset makes it one), then passed on; dropped (its reader reset)
 * from wherever it is. */
static const unsigned char relay_dir_may[RELAY_DIR_N][RELAY_DIR_N] = {
	[RELAY_DIR_OPEN] = { [RELAY_DIR_OPEN_RST] = 1,
	    [RELAY_DIR_EOF] = 1,
	    [RELAY_DIR_RST] = 1,
	    [RELAY_DIR_DONE] = 1 },
	[RELAY_DIR_OPEN_RST] = { [RELAY_DIR_RST] = 1, [RELAY_DIR_DONE] = 1 },
	[RELAY_DIR_EOF] = { [RELAY_DIR_RST] = 1, [RELAY_DIR_DONE] = 1 },
	[RELAY_DIR_RST] = { [RELAY_DIR_DONE] = 1 },
};

static const char *relay_dir_names[RELAY_DIR_N] = { "open", "open, reset ahead", "eof",
	"reset", "done" };

/* Move c's direction from to `to`; a move the table does not allow is a
 * broken invariant. */
static void
relay_pipe_dir_set(struct conn *c, int from, enum relay_dir_state to)
{
	struct dir *d = &c->dir[from];
	char msg[80];

	if (!relay_dir_may[d->state][to]) {
		snprintf(msg, sizeof msg, "connection direction %d: %s -> %s", from,
		    relay_dir_names[d->state], relay_dir_names[to]);
		relay_die(msg);
	}
	d->state = to;
}

/* Whether d still reads its source. */
static int
relay_dir_reading(const struct dir *d)
{
	return d->state == RELAY_DIR_OPEN || d->state == RELAY_DIR_OPEN_RST;
}

/* Recompute the epoll interest of both sockets of a piped connection. */
static void
relay_pipe_update(struct conn *c)
{
	unsigned m[2] = { 0, 0 };

	for (int from = 0; from < 2; from++) {
		struct dir *d = &c->dir[from];
		if (relay_dir_reading(d) &&
		    (d->pipe[0] >= 0 ? d->len < RELAY_BUF && !d->full : d->len == 0))
			m[from] |= EPOLLIN;
		if (d->len > 0)
			m[1 - from] |= EPOLLOUT;
	}
	/* A socket neither read nor written is still watched for its errors,
	 * edge-triggered (once, not for as long as it is hung up): its peer's
	 * reset is found there (relay_pipe_sock_error), which no read (its
	 * direction full or ended) and no write would find. */
	relay_watch(c, 0, m[0] != 0 ? m[0] : EPOLLET);
	relay_watch(c, 1, m[1] != 0 ? m[1] : EPOLLET);
}

/* The moves of a connection's reset (relay.h, enum relay_rst): a reset
 * found waits for what its side sent (pending), one whose bytes are all
 * written for the other side's socket alone (drain). A
 * drain starts again when the other side's reset, read in the same pass
 * of events, finishes too: the later one's socket is waited for. */
static const unsigned char relay_rst_may[RELAY_RST_N][RELAY_RST_N] = {
	[RELAY_RST_NONE] = { [RELAY_RST_PENDING] = 1, [RELAY_RST_DRAIN] = 1 },
	[RELAY_RST_PENDING] = { [RELAY_RST_DRAIN] = 1 },
	[RELAY_RST_DRAIN] = { [RELAY_RST_DRAIN] = 1 },
};

static const char *relay_rst_names[RELAY_RST_N] = { "none", "pending", "drain" };

/* Move c's reset to `to`, the bytes going to side (rst_side); a move the
 * table does not allow is a broken invariant. Its wait starts afresh, on
 * RELAY_DL_RESET; a drain unwatches both sockets (the one to send takes
 * nothing more, the reset side's is moot) and is looked at at once. */
static void
relay_pipe_rst_set(struct conn *c, enum relay_rst to, int side)
{
	char msg[80];

	if (!relay_rst_may[c->rst][to]) {
		snprintf(msg, sizeof msg, "connection reset: %s -> %s",
		    relay_rst_names[c->rst], relay_rst_names[to]);
		relay_die(msg);
	}
	c->rst = to;
	c->rst_side = side;
	c->rst_drain = (struct sock_drain){ 0 };
	relay_deadline_unlink(c);
	if (to == RELAY_RST_DRAIN) {
		relay_watch(c, 0, 0);
		relay_watch(c, 1, 0);
		relay_pipe_reset_check(c);
	} else
		relay_deadline_add(c, RELAY_DL_RESET, SOCK_DRAIN_POLL_MS);
}

/* Direction from read its source's end: a reset (rst), or end-of-file,
 * which is a reset too when one was found before (RELAY_DIR_OPEN_RST). A
 * reset read while bytes of its side may still be held for the other is
 * bounded from then (RELAY_RST_PENDING): a reader that stops would else hold
 * the pair for good. */
static void
relay_pipe_dir_end(struct conn *c, int from, int rst)
{
	enum relay_dir_state to = rst || c->dir[from].state == RELAY_DIR_OPEN_RST
	    ? RELAY_DIR_RST
	    : RELAY_DIR_EOF;

	relay_pipe_dir_set(c, from, to);
	if (to == RELAY_DIR_RST && c->rst == RELAY_RST_NONE)
		relay_pipe_rst_set(c, RELAY_RST_PENDING, 1 - from);
}

/* A write to side s failed with errno. EPIPE or ECONNRESET: s's peer reset
 * the connection, as reading s would have told had nothing been on its way
 * to s. Then it is that reset: what s sent before it still goes to the other
 * side, read and written as the rest was, then the reset (relay_pipe_flush),
 * while what was on its way to s is moot. (Reset at once, the other side's
 * socket threw away what it held: bytes its sender counted as delivered.)
 * 0, or -1 for another error (reset at once). */
static int
relay_pipe_write_failed(struct conn *c, int s)
{
	struct dir *to_s = &c->dir[1 - s], *from_s = &c->dir[s];

	if (errno != EPIPE && errno != ECONNRESET)
		return -1;
	free(to_s->pend);
	to_s->pend = NULL;
	to_s->off = to_s->len = 0;
	to_s->full = 0;
	if (to_s->state != RELAY_DIR_DONE)
		relay_pipe_dir_set(c, 1 - s, RELAY_DIR_DONE);
	/* (its end, read or still to come, is this reset) */
	if (from_s->state == RELAY_DIR_OPEN)
		relay_pipe_dir_set(c, s, RELAY_DIR_OPEN_RST);
	else if (from_s->state == RELAY_DIR_EOF)
		relay_pipe_dir_set(c, s, RELAY_DIR_RST);
	/* (done: s had closed, so only rst_side's socket holds its bytes; a
	 * reset already pending for the other side stays so: both sides have
	 * reset, both directions are done, and the pair closes at once) */
	if (c->rst == RELAY_RST_NONE)
		relay_pipe_rst_set(c,
		    from_s->state == RELAY_DIR_DONE ? RELAY_RST_DRAIN : RELAY_RST_PENDING,
		    1 - s);
	return 0;
}

/* Write what direction `from` holds; 0, or -1 on a write error other than
 * the reader's reset (relay_pipe_write_failed). */
static int
relay_pipe_flush(struct conn *c, int from)
{
	struct dir *d = &c->dir[from];
	ssize_t n;

	while (d->len > 0 && d->pipe[0] >= 0) {
		n = splice(d->pipe[0], NULL, c->fd[1 - from], NULL, d->len,
		    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n < 0)
			return relay_pipe_write_failed(c, 1 - from);
		if (n == 0)
			return -1;
		d->len -= (size_t)n;
		d->full = 0;
	}
	while (d->len > 0) {
		n = send(c->fd[1 - from], d->pend + d->off, d->len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n < 0)
			return relay_pipe_write_failed(c, 1 - from);
		d->off += (size_t)n;
		d->len -= (size_t)n;
	}
	free(d->pend);
	d->pend = NULL;
	d->off = 0;
	if (d->state == RELAY_DIR_RST) {
		/* A reset passed on as one, once the socket has sent what came
		 * before it (relay_pipe_reset_check): a reader then sees an
		 * error, not the end of a whole stream. What the other way
		 * holds is moot (its reader reset). */
		relay_pipe_dir_set(c, from, RELAY_DIR_DONE);
		relay_pipe_rst_set(c, RELAY_RST_DRAIN, 1 - from);
	} else if (d->state == RELAY_DIR_EOF) {
		shutdown(c->fd[1 - from], SHUT_WR);
		relay_pipe_dir_set(c, from, RELAY_DIR_DONE);
	}
	return 0;
}

void
relay_pipe_reset_check(struct conn *c)
{
	int s = 1 - c->rst_side;
	size_t held = 0;

	if (c->dead)
		return;
	/* (a reset still to read on s: what s sent, held here or still in its
	 * socket, counts; all of it gone to rst_side, the reset may go) */
	if (c->rst == RELAY_RST_PENDING)
		held = c->dir[s].len + sock_drain_unread(c->fd[s]);
	if (sock_drain_step(&c->rst_drain, c->fd[c->rst_side], held, relay_now_ms()) !=
	    SOCK_DRAIN_WAIT) {
		relay_conn_close(c, 1);
		return;
	}
	relay_deadline_add(c, RELAY_DL_RESET, SOCK_DRAIN_POLL_MS);
}

/* Move bytes from fd[from] to fd[1-from] until the source has nothing more
 * or the destination is full (then keep at most RELAY_BUF of it). */
static int
relay_pipe_pump(struct conn *c, int from)
{
	struct dir *d = &c->dir[from];
	ssize_t n, w;

	if (d->pipe[0] < 0 && !d->nosplice && relay_dir_reading(d) &&
	    pipe2(d->pipe, O_NONBLOCK | O_CLOEXEC) < 0) {
		d->pipe[0] = d->pipe[1] = -1;
		d->nosplice = 1;
	}
	for (int rounds = 0;
	     rounds < 16 && d->pipe[0] >= 0 && relay_dir_reading(d) && d->len < RELAY_BUF;
	     rounds++) {
		n = splice(c->fd[from], NULL, d->pipe[1], NULL, RELAY_BUF - d->len,
		    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			/* The socket is empty, or the pipe's slots are: only
			 * the latter can happen while it holds bytes. */
			if (d->len > 0)
				d->full = 1;
			break;
		}
		if (n < 0 && errno != ECONNRESET)
			return -1;
		if (n <= 0) {
			/* (a reset after the last bytes, as a server that
			 * closes with unread input sends: the bytes read
			 * before it still go on, then the reset:
			 * tests/e2e/relay.sh) */
			relay_pipe_dir_end(c, from, n < 0);
			break;
		}
		int drained = (size_t)n < RELAY_BUF - d->len; /* most likely */
		d->len += (size_t)n;
		if (relay_pipe_flush(c, from) != 0)
			return -1;
		if (drained)
			break;
	}
	for (int rounds = 0;
	     d->pipe[0] < 0 && rounds < 16 && relay_dir_reading(d) && d->len == 0;
	     rounds++) {
		n = recv(c->fd[from], relay_scratch, sizeof relay_scratch, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0 && errno != ECONNRESET)
			return -1;
		if (n <= 0) { /* (a reset: as above) */
			relay_pipe_dir_end(c, from, n < 0);
			break;
		}
		w = send(c->fd[1 - from], relay_scratch, (size_t)n, MSG_NOSIGNAL);
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			w = 0;
		if (w < 0)
			return relay_pipe_write_failed(c, 1 - from);
		if (w < n) {
			d->pend = malloc((size_t)(n - w));
			if (d->pend == NULL)
				return -1;
			memcpy(d->pend, relay_scratch + w, (size_t)(n - w));
			d->off = 0;
			d->len = (size_t)(n - w);
		}
		if (n < (ssize_t)sizeof relay_scratch)
			break;
	}
	return relay_pipe_flush(c, from);
}

/* side's socket reported an error (EPOLLERR) that reading it did not take:
 * its peer's reset is that side's reset, as a failed write finds it
 * (relay_pipe_write_failed). (Taking the error ends reads of the socket
 * with end-of-file: its direction then knows it as the reset.) 0, or -1 for
 * another error (reset at once). */
static int
relay_pipe_sock_error(struct conn *c, int side)
{
	socklen_t len = sizeof(int);
	int err = 0;

	if (getsockopt(c->fd[side], SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err == 0)
		return 0;
	errno = err;
	return relay_pipe_write_failed(c, side);
}

void
relay_pipe_event(struct conn *c, int side, unsigned events)
{
	/* side's readability feeds dir[side]; its writability drains dir[1-side]. */
	if ((events & EPOLLOUT) && relay_pipe_flush(c, 1 - side) != 0)
		goto reset;
	/* (not once a reset waits: its socket is to take nothing more) */
	if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && c->rst != RELAY_RST_DRAIN &&
	    relay_pipe_pump(c, side) != 0)
		goto reset;
	if ((events & EPOLLERR) && !c->dead && c->rst != RELAY_RST_DRAIN &&
	    relay_pipe_sock_error(c, side) != 0)
		goto reset;
	if (c->dead || c->rst == RELAY_RST_DRAIN)
		return; /* (closed, or its reset waits: relay_pipe_reset_check) */
	if (c->dir[0].state == RELAY_DIR_DONE && c->dir[1].state == RELAY_DIR_DONE) {
		relay_conn_close(c, 0);
		return;
	}
	relay_pipe_update(c);
	return;
reset:
	relay_conn_close(c, 1);
}

/* The target connected: answer 0 and start piping. */
void
relay_pipe_start(struct conn *c)
{
	unsigned char ok = REPLY_CONNECTED;

	relay_deadline_unlink(c); /* (the connect's) */
	relay_set_nodelay(c->fd[1]);
	c->state = CONN_PIPE;
	/* (a client that reset while the connect went on: what it sent
	 * before still goes to the target, then the reset) */
	if (send(c->fd[0], &ok, 1, MSG_NOSIGNAL) != 1 &&
	    relay_pipe_write_failed(c, 0) != 0) {
		relay_conn_close(c, 1);
		return;
	}
	relay_pipe_update(c);
}
