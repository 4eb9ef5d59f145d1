/* docker-conn.c - one connection to the Docker daemon's socket: connect,
 * send a request, read its response through the HTTP parser (docker-http.h),
 * and a simple request done whole (docker-internal.h). */
#include "docker-internal.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "docker-http.h"
#include "error.h"
#include "log.h"
#include "xmalloc.h"

/* How long a connect may wait for a daemon that does not accept (its
 * listen backlog full: hung or swamped), when no deadline is shorter. */
#define DOCKER_CONNECT_WAIT_MS 30000

/* Bound connect(2) on s: a Unix socket's connect waits for room in the
 * listen backlog for up to its send timeout (forever by default). The
 * docker's deadline, if sooner, is the bound. */
static void
docker_connect_bound(const struct docker *d, int s)
{
	long long ms = DOCKER_CONNECT_WAIT_MS, left;
	struct timeval tv;

	if (d->deadline_ms != 0) {
		left = d->deadline_ms - clock_now_ms();
		if (left < ms)
			ms = left > 1 ? left : 1;
	}
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	(void)setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

/* Connect to the daemon's socket, within DOCKER_CONNECT_WAIT_MS or the
 * deadline. */
int
docker_connect(struct docker *d, int *fd, char **cause)
{
	struct sockaddr_un sun;
	struct timeval none = { 0, 0 };
	int s, saved;

	*fd = -1;
	if (d->bad_host != NULL)
		return error_set(cause, "%s", d->bad_host);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(d->socket_path) >= sizeof sun.sun_path)
		return error_set(
		    cause, "docker socket path too long: %s", d->socket_path);
	strcpy(sun.sun_path, d->socket_path);
	if ((s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return error_set_errno(cause, errno, "socket");
	docker_connect_bound(d, s);
	while (connect(s, (struct sockaddr *)&sun, sizeof sun) < 0) {
		if (errno == EINTR)
			continue;
		saved = errno;
		close(s);
		switch (saved) {
		case EACCES:
		case EPERM:
			return error_set(cause,
			    "permission denied on %s (is the user in group docker?)",
			    d->socket_path);
		case ENOENT:
			return error_set(cause,
			    "cannot connect to Docker: %s does not exist "
			    "(is the Docker daemon running?)",
			    d->socket_path);
		case ECONNREFUSED:
			return error_set(cause,
			    "cannot connect to Docker at %s: connection "
			    "refused (is the Docker daemon "
			    "running?)",
			    d->socket_path);
		case EAGAIN:
			return error_set(cause,
			    "cannot connect to Docker at %s: the daemon "
			    "accepts no connection (hung or overloaded?)",
			    d->socket_path);
		default:
			return error_set_errno(cause, saved,
			    "cannot connect to Docker at %s", d->socket_path);
		}
	}
	(void)setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &none, sizeof none);
	*fd = s;
	return 0;
}

/* Wait for events on fd, up to timeout_ms (negative: forever). Returns the
 * revents, 0 on timeout, -1 on error (errno set). */
int
docker_poll(int fd, short events, int timeout_ms)
{
	struct pollfd pfd;
	long long start = clock_now_ms(), elapsed;
	int left = timeout_ms, n;

	for (;;) {
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		n = poll(&pfd, 1, left);
		if (n > 0)
			return pfd.revents;
		if (n == 0)
			return 0;
		if (errno != EINTR)
			return -1;
		if (timeout_ms >= 0) {
			elapsed = clock_now_ms() - start;
			if (elapsed >= timeout_ms)
				return 0;
			left = timeout_ms - (int)elapsed;
		}
	}
}

/* How long one wait of c may last: timeout_ms (negative: forever), or less
 * when what is left of its docker's deadline is shorter (0 once it has
 * passed). */
static int
docker_conn_wait_limit(const struct docker_conn *c, int timeout_ms)
{
	long long left;

	if (c->d->deadline_ms == 0)
		return timeout_ms;
	left = c->d->deadline_ms - clock_now_ms();
	if (left < 0)
		left = 0;
	return timeout_ms >= 0 && timeout_ms < left ? timeout_ms : (int)left;
}

/* The error for a wait of c that ended with nothing: what did not happen,
 * within the deadline's budget or within timeout_ms. Returns -1. */
static int
docker_conn_timed_out(
    const struct docker_conn *c, const char *what, int timeout_ms, char **cause)
{
	char wait[32];

	if (c->d->deadline_ms != 0 && clock_now_ms() >= c->d->deadline_ms)
		return error_set(cause, "docker at %s: %s within the %d ms allowed",
		    c->d->socket_path, what, c->d->budget_ms);
	clock_ms_text(timeout_ms, wait, sizeof wait);
	return error_set(
	    cause, "docker at %s: %s within %s", c->d->socket_path, what, wait);
}

/* Write all of data, waiting at most timeout_ms for each bit of progress. */
static int
docker_conn_write(
    struct docker_conn *c, const void *data, size_t len, int timeout_ms, char **cause)
{
	const unsigned char *p = data;
	ssize_t n;
	int ev;

	while (len > 0) {
		ev = docker_poll(c->fd, POLLOUT, docker_conn_wait_limit(c, timeout_ms));
		if (ev < 0)
			return error_set_errno(
			    cause, errno, "docker at %s: poll", c->d->socket_path);
		if (ev == 0)
			return docker_conn_timed_out(
			    c, "not accepting a request", timeout_ms, cause);
		n = send(c->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
				continue;
			return error_set_errno(
			    cause, errno, "docker at %s: write", c->d->socket_path);
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read what is available into the (empty) read buffer, waiting at most
 * timeout_ms. Returns 1 with data, 0 at end of file, -1 on error. */
static int
docker_conn_fill(struct docker_conn *c, int timeout_ms, char **cause)
{
	ssize_t n;
	int ev;

	c->roff = c->rlen = 0;
	for (;;) {
		ev = docker_poll(c->fd, POLLIN, docker_conn_wait_limit(c, timeout_ms));
		if (ev < 0)
			return error_set_errno(
			    cause, errno, "docker at %s: poll", c->d->socket_path);
		if (ev == 0)
			return docker_conn_timed_out(c, "no response", timeout_ms, cause);
		n = recv(c->fd, c->rbuf, sizeof c->rbuf, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
				continue;
			return error_set_errno(
			    cause, errno, "docker at %s: read", c->d->socket_path);
		}
		if (n == 0) {
			c->eof = 1;
			return 0;
		}
		c->rlen = (size_t)n;
		return 1;
	}
}

/* Send a request line, headers and body (body_len bytes of content_type;
 * body NULL: none). upgrade asks for a hijacked connection (exec start);
 * otherwise the daemon closes after answering. */
int
docker_conn_send(struct docker_conn *c, const char *method, const char *path,
    const char *content_type, const void *body, size_t body_len, int upgrade,
    int timeout_ms, char **cause)
{
	struct buf *b = buf_new();
	int rc;

	buf_appendf(b, "%s %s HTTP/1.1\r\nHost: docker\r\nUser-Agent: rdev-agent/%s\r\n",
	    method, path, RDEV_VERSION);
	if (body != NULL)
		buf_appendf(b, "Content-Type: %s\r\nContent-Length: %zu\r\n",
		    content_type, body_len);
	else if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		buf_appendf(b, "Content-Length: 0\r\n");
	if (upgrade)
		buf_appendf(b, "Connection: Upgrade\r\nUpgrade: tcp\r\n");
	else
		buf_appendf(b, "Connection: close\r\n");
	buf_appendf(b, "\r\n");
	if (body != NULL)
		buf_append(b, body, body_len);
	rc = docker_conn_write(c, buf_data(b), buf_len(b), timeout_ms, cause);
	buf_free(b);
	return rc;
}

/* Read a response: until its headers if stop_at_headers, else to its end,
 * passing body pieces to cb. Bytes read beyond stay in c->rbuf. */
int
docker_conn_response(struct docker_conn *c, struct docker_http *h, int stop_at_headers,
    int timeout_ms, docker_body_cb cb, void *arg, char **cause)
{
	struct docker_http_event ev;
	size_t used;
	int rc;

	for (;;) {
		if (c->roff == c->rlen && !c->eof) {
			if (docker_conn_fill(c, timeout_ms, cause) < 0)
				return -1;
		}
		if (c->roff == c->rlen && c->eof)
			rc = docker_http_eof(h, &ev, cause);
		else {
			rc = docker_http_feed(
			    h, c->rbuf + c->roff, c->rlen - c->roff, &used, &ev, cause);
			c->roff += used;
		}
		if (rc < 0)
			return error_prefix(cause, "docker at %s", c->d->socket_path);
		if (rc == 0) {
			if (c->eof || docker_http_upgraded(h))
				fatal("docker_conn_response: parser stalled");
			continue;
		}
		switch (ev.type) {
		case DOCKER_HTTP_HEADERS:
			if (stop_at_headers || docker_http_upgraded(h))
				return 0;
			break;
		case DOCKER_HTTP_BODY:
			if (cb != NULL && cb(arg, ev.data, ev.len, cause) != 0)
				return -1;
			break;
		case DOCKER_HTTP_END: return 0;
		}
	}
}

/* Collect a body into a buf (the parser bounds its size). */
int
docker_body_collect(void *arg, const unsigned char *data, size_t len, char **cause)
{
	buf_append(arg, data, len);
	return 0;
}

/* Collect an error body of a stream response (whose parser is unbounded). */
int
docker_body_collect_small(void *arg, const unsigned char *data, size_t len, char **cause)
{
	if (buf_len(arg) + len > DOCKER_MAX_LINE)
		return error_set(
		    cause, "docker: error response over %d bytes", DOCKER_MAX_LINE);
	buf_append(arg, data, len);
	return 0;
}

/* Do one simple request on full_path (with any version prefix), with a body
 * as for docker_conn_send(), and collect the whole response. resp->body is
 * allocated here; free with docker_response_clear(). */
int
docker_do(struct docker *d, const char *method, const char *full_path,
    const char *content_type, const void *body, size_t body_len, int timeout_ms,
    struct docker_response *resp, char **cause)
{
	struct docker_conn *c;
	struct docker_http *h;
	const char *v;
	int fd, rc = -1, maj, mnr;

	memset(resp, 0, sizeof *resp);
	resp->body = buf_new();
	if (docker_connect(d, &fd, cause) != 0)
		return -1;
	c = xcalloc(1, sizeof *c);
	c->d = d;
	c->fd = fd;
	h = docker_http_new(method, DOCKER_HTTP_MAX_BODY);
	if (docker_conn_send(c, method, full_path, content_type, body, body_len, 0,
		timeout_ms, cause) != 0)
		goto out;
	if (docker_conn_response(
		c, h, 0, timeout_ms, docker_body_collect, resp->body, cause) != 0)
		goto out;
	resp->status = docker_http_status(h);
	if ((v = docker_http_header(h, "Api-Version")) != NULL) {
		resp->api_version = xstrdup(v);
		if (docker_parse_version(v, &maj, &mnr) == 0) {
			d->daemon_major = maj;
			d->daemon_minor = mnr;
		}
	}
	log_debug("docker: %s %s -> %d", method, full_path, resp->status);
	rc = 0;
out:
	docker_http_free(h);
	close(fd);
	free(c);
	return rc;
}

void
docker_response_clear(struct docker_response *resp)
{
	buf_free(resp->body);
	free(resp->api_version);
	memset(resp, 0, sizeof *resp);
}
