/* relay-exec.c - an exec session inside the dev container (relay-exec.h):
 * reading and parsing its request, and the byte queues, frames and ending
 * the session's files share (relay-exec-internal.h). Who the command runs
 * as: relay-exec-user.c; starting it: relay-exec-command.c; its frames
 * while it runs: relay-exec-pump.c. */
#include "relay-exec-internal.h"

/* (header-only, no dependency: the relay links nothing of common/) */
#include "../common/byte-order.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int x_sigchld_w = -1;

static void
x_on_sigchld(int sig)
{
	int e = errno;

	(void)sig;
	if (x_sigchld_w >= 0)
		(void)!write(x_sigchld_w, "c", 1);
	errno = e;
}

int64_t
x_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void *
x_alloc(size_t n)
{
	void *p = malloc(n == 0 ? 1 : n);

	if (p == NULL)
		_exit(X_EXIT_START_FAILED);
	return p;
}

void
xq_reserve(struct xq *q, size_t n)
{
	if (q->off > 0 && q->off == q->len)
		q->off = q->len = 0;
	if (q->len + n <= q->cap)
		return;
	if (q->off > 0) {
		memmove(q->p, q->p + q->off, q->len - q->off);
		q->len -= q->off;
		q->off = 0;
		if (q->len + n <= q->cap)
			return;
	}
	while (q->cap < q->len + n)
		q->cap = q->cap == 0 ? 65536 : q->cap * 2;
	q->p = realloc(q->p, q->cap);
	if (q->p == NULL)
		_exit(X_EXIT_START_FAILED);
}

size_t
xq_size(const struct xq *q)
{
	return q->len - q->off;
}

void
xq_frame(struct xq *q, int type, const void *data, size_t len)
{
	unsigned char *h;

	xq_reserve(q, X_HDR + len);
	h = q->p + q->len;
	h[0] = (unsigned char)type;
	h[1] = h[2] = h[3] = 0;
	h[4] = (unsigned char)(len >> 24);
	h[5] = (unsigned char)(len >> 16);
	h[6] = (unsigned char)(len >> 8);
	h[7] = (unsigned char)len;
	if (len > 0)
		memcpy(h + X_HDR, data, len);
	q->len += X_HDR + len;
}

/* Write out as much of q to fd as it takes now: 0, or -1 when fd is gone. */
int
xq_flush(struct xq *q, int fd, int is_sock)
{
	ssize_t n;

	while (xq_size(q) > 0) {
		n = is_sock ? send(fd, q->p + q->off, xq_size(q), MSG_NOSIGNAL)
			    : write(fd, q->p + q->off, xq_size(q));
		if (n > 0) {
			q->off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		return -1;
	}
	return 0;
}

/* Send everything in q, waiting for the socket (the end of a session). */
void
xq_drain_blocking(struct xq *q, int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };

	while (xq_size(q) > 0) {
		if (xq_flush(q, fd, 1) != 0)
			return;
		if (xq_size(q) > 0 && poll(&p, 1, X_REQUEST_TIMEOUT_MS) <= 0 &&
		    errno != EINTR)
			return;
	}
}

/* The end of a session: no more frames, and what the agent still sends is
 * read and dropped until it closes (bounded), so that the close is no reset
 * that could destroy the last frames on their way. */
void __attribute__((noreturn)) x_close_exit(int sock, int status)
{
	struct pollfd p = { .fd = sock, .events = POLLIN };
	int64_t deadline = x_now_ms() + X_HANGUP_GRACE_MS;
	char drain[4096];
	ssize_t n;

	shutdown(sock, SHUT_WR);
	while (x_now_ms() < deadline) {
		if (poll(&p, 1, (int)(deadline - x_now_ms())) <= 0)
			break;
		n = recv(sock, drain, sizeof drain, MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
			break;
	}
	_exit(status);
}

/* Tell the agent why the command did not start, and end with status. */
void
x_fail(int sock, int status, const char *fmt, ...)
{
	struct xq q = { 0 };
	char msg[1024];
	unsigned char st[4];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof msg - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n > sizeof msg - 2)
		n = (int)sizeof msg - 2;
	msg[n++] = '\n';
	xq_frame(&q, RELAY_X_MESSAGE, msg, (size_t)n);
	be_put_u32(st, (uint32_t)status);
	xq_frame(&q, RELAY_X_EXIT, st, sizeof st);
	xq_drain_blocking(&q, sock);
	x_close_exit(sock, status);
}

/* Read exactly len bytes within the request's deadline: 0 or -1. */
static int
x_read_full(int fd, void *buf, size_t len, int64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	unsigned char *b = buf;
	ssize_t n;
	int64_t left;

	while (len > 0) {
		left = deadline - x_now_ms();
		if (left <= 0)
			return -1;
		if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
			return -1;
		n = recv(fd, b, len, MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
			continue;
		if (n <= 0)
			return -1;
		b += n;
		len -= (size_t)n;
	}
	return 0;
}

int
relay_exec_dimension(const char *s, unsigned short *v)
{
	unsigned long n = 0;

	if (*s == '\0' || strlen(s) > 5)
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		n = n * 10 + (unsigned long)(*s - '0');
	}
	if (n == 0 || n > 65535)
		return -1;
	*v = (unsigned short)n;
	return 0;
}

/* Fields "<tag><text>\0" (relay-exec.h, PROTOCOL.md). 0 or -1. */
static int
x_parse(char *p, size_t len, struct xreq *r)
{
	char *end = p + len, *f, *v;
	size_t nfields = 0;

	if (len == 0 || p[len - 1] != '\0')
		return -1;
	for (f = p; f < end; f += strlen(f) + 1)
		nfields++;
	r->argv = x_alloc((nfields + 1) * sizeof *r->argv);
	r->env = x_alloc((nfields + 2) * sizeof *r->env);
	r->grace_ms = X_HANGUP_GRACE_MS;
	for (f = p; f < end; f += strlen(f) + 1) {
		v = f + 1;
		switch (*f) {
		case 'a': r->argv[r->nargv++] = v; break;
		case 'e':
			if (strchr(v, '=') == NULL || *v == '=')
				return -1;
			r->env[r->nenv++] = v;
			break;
		case 'u': r->user = v; break;
		case 'w': r->workdir = v; break;
		case 't': r->tty = 1; break;
		case 'r':
			if (relay_exec_dimension(v, &r->rows) != 0)
				return -1;
			break;
		case 'c':
			if (relay_exec_dimension(v, &r->cols) != 0)
				return -1;
			break;
		case 'g':
			r->grace_ms = atoi(v);
			if (r->grace_ms < 0 || r->grace_ms > 60000)
				return -1;
			break;
		default: return -1; /* a field this relay does not know */
		}
	}
	r->argv[r->nargv] = NULL;
	r->env[r->nenv] = NULL;
	return r->nargv > 0 && *r->argv[0] != '\0' ? 0 : -1;
}

void
relay_exec_session(int fd, const struct rlimit *nofile)
{
	struct xsess s;
	struct xreq r;
	struct sigaction sa;
	unsigned char lenb[4];
	uint32_t len;
	char *req;
	int sp[2];
	int64_t deadline = x_now_ms() + X_REQUEST_TIMEOUT_MS;

	memset(&s, 0, sizeof s);
	memset(&r, 0, sizeof r);
	s.sock = fd;
	s.nofile = *nofile;
	s.in_w = s.out_r = s.err_r = s.tty_master = -1;
	if (x_read_full(fd, lenb, 4, deadline) != 0)
		_exit(0);
	len = be_get_u32(lenb);
	if (len == 0 || len > X_REQUEST_MAX)
		x_fail(fd, X_EXIT_START_FAILED,
		    "rdev-relay: the exec request is %u bytes", len);
	req = x_alloc(len);
	if (x_read_full(fd, req, len, deadline) != 0)
		_exit(0);
	if (x_parse(req, len, &r) != 0)
		x_fail(fd, X_EXIT_START_FAILED, "rdev-relay: malformed exec request");
	if (pipe2(sp, O_CLOEXEC | O_NONBLOCK) != 0)
		x_fail(fd, X_EXIT_START_FAILED, "pipe: %s", strerror(errno));
	s.sigchld_r = sp[0];
	x_sigchld_w = sp[1];
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = x_on_sigchld;
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	x_start(&s, &r);
	x_loop(&s, r.grace_ms);
}
