/* docker.c - a small blocking client for the Docker Engine API (see docker.h). */
#include "docker.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "docker-http.h"
#include "docker-stream.h"
#include "error.h"
#include "log.h"
#include "xmalloc.h"

/* The API version rdev is written and tested against (Docker Engine 20.10). */
#define DOCKER_API_MAJOR 1
#define DOCKER_API_MINOR 41
/* Bound on one line of a pull's progress stream and on captured output. */
#define DOCKER_MAX_LINE (1024 * 1024)
#define DOCKER_MAX_CAPTURE (64 * 1024 * 1024)
/* The API version of an exec whose TTY gets its size from the start
 * (ConsoleSize in exec create and start came with 1.42, Docker 23.0). */
#define DOCKER_CONSOLE_SIZE_API "/v1.42"
/* Bound on a "systemerr" message in an exec stream. */
#define DOCKER_MAX_SYSERR 4096

struct docker {
	char *socket_path; /* NULL when bad_host is set */
	char *bad_host;	   /* why DOCKER_HOST cannot be used */
	char *api_prefix;  /* "/v1.41" once assumed or negotiated */
	int api_checked;   /* the daemon accepted api_prefix (or it was negotiated) */
	/* The newest API version the daemon announced (its Api-Version header,
	 * sent with every answer), 0.0 until an answer came. */
	int daemon_major, daemon_minor;
};

/* One connection to the daemon, with its read buffer. */
struct docker_conn {
	struct docker *d;
	int fd;
	unsigned char rbuf[64 * 1024];
	size_t roff, rlen; /* unread bytes are rbuf[roff..rlen) */
	int eof;
};

/* What a simple request brings back. */
struct docker_response {
	int status;
	struct buf *body;
	char *api_version; /* the Api-Version header, if any */
};

typedef int (*docker_body_cb)(void *arg, const unsigned char *data, size_t len,
			      char **cause);

static int docker_parse_version(const char *s, int *major, int *minor);

struct docker *
docker_new(const char *socket_path)
{
	struct docker *d = xcalloc(1, sizeof *d);
	const char *host;

	if (socket_path != NULL)
		d->socket_path = xstrdup(socket_path);
	else if ((host = getenv("DOCKER_HOST")) != NULL && *host != '\0') {
		if (strncmp(host, "unix://", 7) == 0 && host[7] != '\0')
			d->socket_path = xstrdup(host + 7);
		else
			d->bad_host = xasprintf(
			    "DOCKER_HOST=%s: only unix:// sockets are supported", host);
	} else
		d->socket_path = xstrdup(DOCKER_DEFAULT_SOCKET);
	return d;
}

void
docker_free(struct docker *d)
{
	if (d == NULL)
		return;
	free(d->socket_path);
	free(d->bad_host);
	free(d->api_prefix);
	free(d);
}

const char *
docker_socket_path(const struct docker *d)
{
	return d->socket_path;
}

/* Percent-encode s, keeping unreserved characters and those in keep. */
static char *
docker_urlencode(const char *s, const char *keep)
{
	static const char hex[] = "0123456789ABCDEF";
	struct buf *b = buf_new();
	unsigned char c;
	char *out;

	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("-._~", c) != NULL ||
		    strchr(keep, c) != NULL)
			buf_append(b, &c, 1);
		else
			buf_appendf(b, "%%%c%c", hex[c >> 4], hex[c & 15]);
	}
	out = buf_take_string(b, NULL);
	buf_free(b);
	return out;
}

/* Connect to the daemon's socket. */
static int
docker_connect(struct docker *d, int *fd, char **cause)
{
	struct sockaddr_un sun;
	int s, saved;

	*fd = -1;
	if (d->bad_host != NULL)
		return error_set(cause, "%s", d->bad_host);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(d->socket_path) >= sizeof sun.sun_path)
		return error_set(cause, "docker socket path too long: %s",
				 d->socket_path);
	strcpy(sun.sun_path, d->socket_path);
	if ((s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return error_set_errno(cause, errno, "socket");
	while (connect(s, (struct sockaddr *)&sun, sizeof sun) < 0) {
		if (errno == EINTR)
			continue;
		saved = errno;
		close(s);
		switch (saved) {
		case EACCES:
		case EPERM:
			return error_set(
			    cause,
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
		default:
			return error_set_errno(cause, saved,
					       "cannot connect to Docker at %s",
					       d->socket_path);
		}
	}
	*fd = s;
	return 0;
}

/* Wait for events on fd, up to timeout_ms (negative: forever). Returns the
 * revents, 0 on timeout, -1 on error (errno set). */
static int
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

/* Write all of data, waiting at most timeout_ms for each bit of progress. */
static int
docker_conn_write(struct docker_conn *c, const void *data, size_t len, int timeout_ms,
		  char **cause)
{
	const unsigned char *p = data;
	ssize_t n;
	int ev;

	while (len > 0) {
		ev = docker_poll(c->fd, POLLOUT, timeout_ms);
		if (ev < 0)
			return error_set_errno(cause, errno, "docker at %s: poll",
					       c->d->socket_path);
		if (ev == 0)
			return error_set(
			    cause, "docker at %s: not accepting a request within %d s",
			    c->d->socket_path, timeout_ms / 1000);
		n = send(c->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
				continue;
			return error_set_errno(cause, errno, "docker at %s: write",
					       c->d->socket_path);
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
		ev = docker_poll(c->fd, POLLIN, timeout_ms);
		if (ev < 0)
			return error_set_errno(cause, errno, "docker at %s: poll",
					       c->d->socket_path);
		if (ev == 0)
			return error_set(cause, "docker at %s: no response within %d s",
					 c->d->socket_path, timeout_ms / 1000);
		n = recv(c->fd, c->rbuf, sizeof c->rbuf, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
				continue;
			return error_set_errno(cause, errno, "docker at %s: read",
					       c->d->socket_path);
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
static int
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
static int
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
			rc = docker_http_feed(h, c->rbuf + c->roff, c->rlen - c->roff,
					      &used, &ev, cause);
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
static int
docker_body_collect(void *arg, const unsigned char *data, size_t len, char **cause)
{
	buf_append(arg, data, len);
	return 0;
}

/* Collect an error body of a stream response (whose parser is unbounded). */
static int
docker_body_collect_small(void *arg, const unsigned char *data, size_t len, char **cause)
{
	if (buf_len(arg) + len > DOCKER_MAX_LINE)
		return error_set(cause, "docker: error response over %d bytes",
				 DOCKER_MAX_LINE);
	buf_append(arg, data, len);
	return 0;
}

/* Do one simple request on full_path (with any version prefix), with a body
 * as for docker_conn_send(), and collect the whole response. resp->body is
 * allocated here; free with docker_response_clear(). */
static int
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
	if (docker_conn_response(c, h, 0, timeout_ms, docker_body_collect, resp->body,
				 cause) != 0)
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

static void
docker_response_clear(struct docker_response *resp)
{
	buf_free(resp->body);
	free(resp->api_version);
	memset(resp, 0, sizeof *resp);
}

/* Parse "MAJOR.MINOR". */
static int
docker_parse_version(const char *s, int *major, int *minor)
{
	char *end;
	long a, b;

	if (s == NULL)
		return -1;
	a = strtol(s, &end, 10);
	if (end == s || *end != '.' || a < 0 || a > 1000)
		return -1;
	s = end + 1;
	b = strtol(s, &end, 10);
	if (end == s || *end != '\0' || b < 0 || b > 100000)
		return -1;
	*major = (int)a;
	*minor = (int)b;
	return 0;
}

/* Pick the API version with GET /version (see docker.h). */
static int
docker_negotiate_version(struct docker *d, char **cause)
{
	struct docker_response resp;
	cJSON *v = NULL, *api, *min;
	int maj, mnr, min_maj, min_mnr, rc = -1;

	free(d->api_prefix);
	d->api_prefix = NULL;
	d->api_checked = 0;
	if (docker_do(d, "GET", "/version", NULL, NULL, 0, DOCKER_TIMEOUT_S * 1000, &resp,
		      cause) != 0) {
		docker_response_clear(&resp);
		return -1;
	}
	if (resp.status != 200) {
		error_set(cause, "docker at %s: GET /version answered HTTP %d",
			  d->socket_path, resp.status);
		goto out;
	}
	v = cJSON_ParseWithLength((const char *)buf_data(resp.body), buf_len(resp.body));
	api = cJSON_GetObjectItemCaseSensitive(v, "ApiVersion");
	min = cJSON_GetObjectItemCaseSensitive(v, "MinAPIVersion");
	if (!cJSON_IsString(api) ||
	    docker_parse_version(api->valuestring, &maj, &mnr) != 0) {
		error_set(cause, "docker at %s: GET /version gave no API version",
			  d->socket_path);
		goto out;
	}
	if (maj < DOCKER_API_MAJOR ||
	    (maj == DOCKER_API_MAJOR && mnr < DOCKER_API_MINOR)) {
		error_set(cause,
			  "docker at %s: API version %d.%d is too old (rdev needs %d.%d, "
			  "Docker Engine 20.10 or newer)",
			  d->socket_path, maj, mnr, DOCKER_API_MAJOR, DOCKER_API_MINOR);
		goto out;
	}
	maj = DOCKER_API_MAJOR;
	mnr = DOCKER_API_MINOR;
	if (cJSON_IsString(min) &&
	    docker_parse_version(min->valuestring, &min_maj, &min_mnr) == 0 &&
	    (min_maj > maj || (min_maj == maj && min_mnr > mnr))) {
		maj = min_maj;
		mnr = min_mnr;
	}
	d->api_prefix = xasprintf("/v%d.%d", maj, mnr);
	d->api_checked = 1;
	log_debug("docker at %s: using API %s", d->socket_path, d->api_prefix + 2);
	rc = 0;
out:
	cJSON_Delete(v);
	docker_response_clear(&resp);
	return rc;
}

/* The API version for a simple request: 1.41 is assumed without asking, as
 * GET /version is slow (the daemon asks containerd and runc for their
 * versions: about 40 ms, more than all the other requests of a warm `up`).
 * A daemon that does not speak 1.41 rejects the first request with a 400
 * before doing anything; docker_request_body() then negotiates and sends
 * it again. */
static void
docker_assume_version(struct docker *d)
{
	if (d->api_prefix == NULL)
		d->api_prefix = xasprintf("/v%d.%d", DOCKER_API_MAJOR, DOCKER_API_MINOR);
}

/* The API version for a streamed request (a pull, an exec's output), which
 * cannot simply be sent again: negotiated unless a simple request has
 * already shown that the daemon accepts it. */
static int
docker_negotiate(struct docker *d, char **cause)
{
	if (d->api_prefix != NULL && d->api_checked)
		return 0;
	return docker_negotiate_version(d, cause);
}

/* Is resp the daemon's refusal of the API version in the path? Docker
 * answers 400 "client version 1.41 is too new. Maximum supported API version
 * is ..." or "... is too old. Minimum supported API version is ...". */
static int
docker_version_refused(const struct docker_response *resp)
{
	const char *body = (const char *)buf_data(resp->body);
	size_t len = buf_len(resp->body);

	if (resp->status != 400 || body == NULL)
		return 0;
	return memmem(body, len, "client version", 14) != NULL ||
	    memmem(body, len, "API version", 11) != NULL;
}

/* Turn a response body into JSON (see docker_request()). */
static cJSON *
docker_body_json(struct buf *body)
{
	cJSON *j;
	char *s;

	if (buf_len(body) == 0)
		return NULL;
	j = cJSON_ParseWithLength((const char *)buf_data(body), buf_len(body));
	if (j != NULL)
		return j;
	s = buf_take_string(body, NULL);
	j = cJSON_CreateString(s);
	free(s);
	if (j == NULL)
		fatal("cJSON_CreateString: out of memory");
	return j;
}

/* Refuse a method, path or content type that would not make a well-formed
 * request (or would smuggle headers into it). */
static int
docker_check_request(const char *method, const char *path, const char *content_type,
		     char **cause)
{
	const char *p;

	if (*method == '\0' ||
	    method[strspn(method, "ABCDEFGHIJKLMNOPQRSTUVWXYZ")] != '\0')
		return error_set(cause, "docker: bad HTTP method \"%s\"", method);
	if (path[0] != '/')
		return error_set(cause, "docker: bad API path \"%s\"", path);
	for (p = path; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
			return error_set(
			    cause, "docker: bad API path \"%s\" (unencoded characters)",
			    path);
	if (content_type == NULL)
		return 0;
	for (p = content_type; *p != '\0'; p++)
		if ((unsigned char)*p < ' ' || (unsigned char)*p >= 0x7f)
			break;
	if (*content_type == '\0' || *p != '\0')
		return error_set(cause, "docker: bad content type \"%s\"", content_type);
	return 0;
}

/* One simple request on path (without the version prefix) with a body as
 * for docker_conn_send(), under the assumed API version, negotiated and sent
 * again if the daemon refuses it (see docker_assume_version()); or, with
 * prefix ("/v1.42") not NULL, under that version, for a request that needs
 * it (the caller knows from docker_api_at_least() that the daemon speaks
 * it). resp as for docker_do(), cleared whatever the result. */
static int
docker_request_body(struct docker *d, const char *prefix, const char *method,
		    const char *path, const char *content_type, const void *body,
		    size_t body_len, int timeout_ms, struct docker_response *resp,
		    char **cause)
{
	char *full;
	int rc;

	memset(resp, 0, sizeof *resp);
	if (docker_check_request(method, path, body != NULL ? content_type : NULL,
				 cause) != 0)
		return -1;
	if (prefix != NULL) {
		full = xasprintf("%s%s", prefix, path);
		rc = docker_do(d, method, full, content_type, body, body_len, timeout_ms,
			       resp, cause);
		if (rc != 0)
			docker_response_clear(resp);
		free(full);
		return rc;
	}
	docker_assume_version(d);
	full = xasprintf("%s%s", d->api_prefix, path);
	rc = docker_do(d, method, full, content_type, body, body_len, timeout_ms, resp,
		       cause);
	if (rc == 0 && !d->api_checked && docker_version_refused(resp)) {
		log_debug("docker at %s: API %s refused, negotiating", d->socket_path,
			  d->api_prefix + 2);
		docker_response_clear(resp);
		free(full);
		if (docker_negotiate_version(d, cause) != 0)
			return -1;
		full = xasprintf("%s%s", d->api_prefix, path);
		rc = docker_do(d, method, full, content_type, body, body_len, timeout_ms,
			       resp, cause);
	}
	if (rc == 0)
		d->api_checked = 1;
	else
		docker_response_clear(resp);
	free(full);
	return rc;
}

/* docker_request() with an inactivity timeout, under prefix as for
 * docker_request_body(). */
static int
docker_request_timeout(struct docker *d, const char *prefix, const char *method,
		       const char *path, const cJSON *body, int timeout_ms, int *status,
		       cJSON **response, char **cause)
{
	struct docker_response resp;
	char *text = NULL;
	int rc;

	*status = 0;
	*response = NULL;
	if (body != NULL && (text = cJSON_PrintUnformatted(body)) == NULL)
		fatal("cJSON_PrintUnformatted: out of memory");
	rc = docker_request_body(d, prefix, method, path, "application/json", text,
				 text != NULL ? strlen(text) : 0, timeout_ms, &resp,
				 cause);
	if (rc == 0) {
		*status = resp.status;
		*response = docker_body_json(resp.body);
	}
	docker_response_clear(&resp);
	cJSON_free(text);
	return rc;
}

int
docker_request(struct docker *d, const char *method, const char *path, const cJSON *body,
	       int *status, cJSON **response, char **cause)
{
	return docker_request_timeout(d, NULL, method, path, body, DOCKER_TIMEOUT_S * 1000,
				      status, response, cause);
}

int
docker_request_raw(struct docker *d, const char *method, const char *path,
		   const char *content_type, const void *body, size_t body_len,
		   int *status, char **response, size_t *response_len, char **cause)
{
	struct docker_response resp;
	int rc;

	*status = 0;
	*response = NULL;
	if (response_len != NULL)
		*response_len = 0;
	rc = docker_request_body(d, NULL, method, path, content_type, body, body_len,
				 DOCKER_TIMEOUT_S * 1000, &resp, cause);
	if (rc == 0) {
		*status = resp.status;
		*response = buf_take_string(resp.body, response_len);
	}
	docker_response_clear(&resp);
	return rc;
}

/* The error for a non-2xx answer: the daemon's message if it gave one. */
static int
docker_error(int status, const cJSON *response, char **cause)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(response, "message");
	const char *text = NULL;
	size_t n;

	if (cJSON_IsString(m) && *m->valuestring != '\0')
		text = m->valuestring;
	else if (cJSON_IsString(response) && *response->valuestring != '\0')
		text = response->valuestring;
	if (text == NULL)
		return error_set(cause, "docker: HTTP %d", status);
	n = strlen(text);
	while (n > 0 &&
	       (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' '))
		n--;
	return error_set(cause, "docker: %.*s", (int)n, text);
}

/* A request whose success is a 2xx (or one of the extra statuses in ok,
 * 0-terminated), under prefix as for docker_request_body(). *response (may
 * be NULL) gets the body on success. */
static int
docker_call_at(struct docker *d, const char *prefix, const char *method,
	       const char *path, const cJSON *body, int timeout_ms, const int *ok,
	       int *status, cJSON **response, char **cause)
{
	cJSON *r;
	int st, good;

	if (response != NULL)
		*response = NULL;
	if (docker_request_timeout(d, prefix, method, path, body, timeout_ms, &st, &r,
				   cause) != 0)
		return -1;
	if (status != NULL)
		*status = st;
	good = st >= 200 && st <= 299;
	for (; !good && ok != NULL && *ok != 0; ok++)
		good = st == *ok;
	if (!good) {
		docker_error(st, r, cause);
		cJSON_Delete(r);
		return -1;
	}
	if (response != NULL)
		*response = r;
	else
		cJSON_Delete(r);
	return 0;
}

/* docker_call_at() under the handle's API version. */
static int
docker_call(struct docker *d, const char *method, const char *path, const cJSON *body,
	    int timeout_ms, const int *ok, int *status, cJSON **response, char **cause)
{
	return docker_call_at(d, NULL, method, path, body, timeout_ms, ok, status,
			      response, cause);
}

int
docker_api_at_least(const struct docker *d, int major, int minor)
{
	return d->daemon_major > major ||
	    (d->daemon_major == major && d->daemon_minor >= minor);
}

int
docker_ping(struct docker *d, char **api_version, char **cause)
{
	struct docker_response resp;
	cJSON *r;
	int rc = -1;

	if (api_version != NULL)
		*api_version = NULL;
	if (docker_do(d, "GET", "/_ping", NULL, NULL, 0, DOCKER_TIMEOUT_S * 1000, &resp,
		      cause) != 0)
		goto out;
	if (resp.status != 200) {
		r = docker_body_json(resp.body);
		docker_error(resp.status, r, cause);
		cJSON_Delete(r);
		goto out;
	}
	if (api_version != NULL && resp.api_version != NULL)
		*api_version = xstrdup(resp.api_version);
	rc = 0;
out:
	docker_response_clear(&resp);
	return rc;
}

int
docker_container_list(struct docker *d, const char *const *labels, int all, cJSON **list,
		      char **cause)
{
	cJSON *filters = NULL, *arr;
	char *text, *enc, *path;
	int rc;

	*list = NULL;
	if (labels != NULL && labels[0] != NULL) {
		filters = cJSON_CreateObject();
		arr = cJSON_AddArrayToObject(filters, "label");
		if (filters == NULL || arr == NULL)
			fatal("cJSON: out of memory");
		for (; *labels != NULL; labels++)
			cJSON_AddItemToArray(arr, cJSON_CreateString(*labels));
		if ((text = cJSON_PrintUnformatted(filters)) == NULL)
			fatal("cJSON: out of memory");
		enc = docker_urlencode(text, "");
		path = xasprintf("/containers/json?all=%d&filters=%s", all ? 1 : 0, enc);
		cJSON_free(text);
		free(enc);
		cJSON_Delete(filters);
	} else
		path = xasprintf("/containers/json?all=%d", all ? 1 : 0);
	rc = docker_call(d, "GET", path, NULL, DOCKER_TIMEOUT_S * 1000, NULL, NULL, list,
			 cause);
	free(path);
	if (rc == 0 && !cJSON_IsArray(*list)) {
		cJSON_Delete(*list);
		*list = NULL;
		return error_set(cause, "docker: container list is not a JSON array");
	}
	return rc;
}

/* GET an inspect path; 404 is "not found", not an error. */
static int
docker_inspect(struct docker *d, const char *path, cJSON **info, char **cause)
{
	static const int ok[] = {404, 0};
	cJSON *r;
	int status;

	*info = NULL;
	if (docker_call(d, "GET", path, NULL, DOCKER_TIMEOUT_S * 1000, ok, &status, &r,
			cause) != 0)
		return -1;
	if (status == 404) {
		cJSON_Delete(r);
		return 0;
	}
	if (!cJSON_IsObject(r)) {
		cJSON_Delete(r);
		return error_set(cause, "docker: %s did not answer a JSON object", path);
	}
	*info = r;
	return 0;
}

int
docker_container_inspect(struct docker *d, const char *id_or_name, cJSON **info,
			 char **cause)
{
	char *enc = docker_urlencode(id_or_name, ""), *path;
	int rc;

	*info = NULL;
	if (*id_or_name == '\0') {
		free(enc);
		return error_set(cause, "docker: empty container name");
	}
	path = xasprintf("/containers/%s/json", enc);
	rc = docker_inspect(d, path, info, cause);
	free(path);
	free(enc);
	return rc;
}

int
docker_image_inspect(struct docker *d, const char *image, cJSON **info, char **cause)
{
	char *enc = docker_urlencode(image, "/:@"), *path;
	int rc;

	*info = NULL;
	if (*image == '\0') {
		free(enc);
		return error_set(cause, "docker: empty image name");
	}
	path = xasprintf("/images/%s/json", enc);
	rc = docker_inspect(d, path, info, cause);
	free(path);
	free(enc);
	return rc;
}

/* State of a pull's progress stream. */
struct docker_pull {
	struct buf *line;
	char *error; /* the first {"error": ...} */
};

/* Look at one progress line. */
static void
docker_pull_line(struct docker_pull *p, const char *s, size_t len)
{
	cJSON *j, *e, *detail;

	if (p->error != NULL || len == 0)
		return;
	if ((j = cJSON_ParseWithLength(s, len)) == NULL)
		return; /* progress we cannot read is no reason to fail */
	e = cJSON_GetObjectItemCaseSensitive(j, "error");
	detail = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(j, "errorDetail"), "message");
	if (cJSON_IsString(e))
		p->error = xstrdup(e->valuestring);
	else if (cJSON_IsString(detail))
		p->error = xstrdup(detail->valuestring);
	cJSON_Delete(j);
}

/* Split a pull's body into lines. */
static int
docker_pull_body(void *arg, const unsigned char *data, size_t len, char **cause)
{
	struct docker_pull *p = arg;
	const unsigned char *nl;
	size_t n;

	while (len > 0) {
		nl = memchr(data, '\n', len);
		n = nl != NULL ? (size_t)(nl - data) : len;
		if (buf_len(p->line) + n > DOCKER_MAX_LINE)
			return error_set(cause,
					 "docker: pull progress line over %d bytes",
					 DOCKER_MAX_LINE);
		buf_append(p->line, data, n);
		if (nl == NULL)
			break;
		docker_pull_line(p, (const char *)buf_data(p->line), buf_len(p->line));
		buf_reset(p->line);
		data += n + 1;
		len -= n + 1;
	}
	return 0;
}

int
docker_image_pull(struct docker *d, const char *image, char **cause)
{
	struct docker_pull p = {NULL, NULL};
	struct docker_conn *c = NULL;
	struct docker_http *h = NULL;
	const char *slash, *at, *colon;
	char *name, *tag, *ename, *etag, *path;
	struct buf *errbody = NULL;
	cJSON *r;
	int fd = -1, rc = -1, timeout = DOCKER_PULL_TIMEOUT_S * 1000;

	if (*image == '\0')
		return error_set(cause, "docker: empty image name");
	/* Split name and tag (or digest); a colon before the last slash is a
	 * registry port. */
	slash = strrchr(image, '/');
	at = strchr(image, '@');
	colon = strrchr(slash != NULL ? slash : image, ':');
	if (at != NULL) {
		name = xstrndup(image, (size_t)(at - image));
		tag = xstrdup(at + 1);
	} else if (colon != NULL) {
		name = xstrndup(image, (size_t)(colon - image));
		tag = xstrdup(colon + 1);
	} else {
		name = xstrdup(image);
		tag = xstrdup("latest");
	}
	ename = docker_urlencode(name, "");
	etag = docker_urlencode(tag, "");
	path = NULL;
	if (docker_negotiate(d, cause) != 0)
		goto out;
	path =
	    xasprintf("%s/images/create?fromImage=%s&tag=%s", d->api_prefix, ename, etag);
	if (docker_connect(d, &fd, cause) != 0)
		goto out;
	c = xcalloc(1, sizeof *c);
	c->d = d;
	c->fd = fd;
	h = docker_http_new("POST", 0);
	if (docker_conn_send(c, "POST", path, NULL, NULL, 0, 0, timeout, cause) != 0)
		goto out;
	if (docker_conn_response(c, h, 1, timeout, NULL, NULL, cause) != 0)
		goto out;
	log_debug("docker: POST %s -> %d", path, docker_http_status(h));
	if (docker_http_status(h) < 200 || docker_http_status(h) > 299) {
		errbody = buf_new();
		if (docker_conn_response(c, h, 0, DOCKER_TIMEOUT_S * 1000,
					 docker_body_collect_small, errbody, cause) != 0)
			goto out;
		r = docker_body_json(errbody);
		docker_error(docker_http_status(h), r, cause);
		cJSON_Delete(r);
		goto out;
	}
	p.line = buf_new();
	if (docker_conn_response(c, h, 0, timeout, docker_pull_body, &p, cause) != 0)
		goto out;
	docker_pull_line(&p, (const char *)buf_data(p.line), buf_len(p.line));
	if (p.error != NULL) {
		error_set(cause, "docker: %s", p.error);
		goto out;
	}
	rc = 0;
out:
	if (fd != -1)
		close(fd);
	free(c);
	docker_http_free(h);
	buf_free(errbody);
	buf_free(p.line);
	free(p.error);
	free(path);
	free(ename);
	free(etag);
	free(name);
	free(tag);
	return rc;
}

int
docker_container_create(struct docker *d, const char *name, const cJSON *create_body,
			char **id, char **cause)
{
	cJSON *r, *jid;
	char *enc, *path;
	int rc;

	*id = NULL;
	if (name != NULL) {
		enc = docker_urlencode(name, "");
		path = xasprintf("/containers/create?name=%s", enc);
		free(enc);
	} else
		path = xstrdup("/containers/create");
	rc = docker_call(d, "POST", path, create_body, DOCKER_TIMEOUT_S * 1000, NULL,
			 NULL, &r, cause);
	free(path);
	if (rc != 0)
		return -1;
	jid = cJSON_GetObjectItemCaseSensitive(r, "Id");
	if (!cJSON_IsString(jid) || *jid->valuestring == '\0') {
		cJSON_Delete(r);
		return error_set(cause, "docker: container create gave no Id");
	}
	*id = xstrdup(jid->valuestring);
	cJSON_Delete(r);
	return 0;
}

/* POST /containers/{id}/ACTION[?query]; 304 (nothing to do) is success. */
static int
docker_container_action(struct docker *d, const char *id, const char *action,
			const char *query, int timeout_ms, char **cause)
{
	static const int ok[] = {304, 0};
	char *enc = docker_urlencode(id, ""), *path;
	int rc;

	path = xasprintf("/containers/%s/%s%s", enc, action, query);
	rc = docker_call(d, "POST", path, NULL, timeout_ms, ok, NULL, NULL, cause);
	free(path);
	free(enc);
	return rc;
}

int
docker_container_start(struct docker *d, const char *id, char **cause)
{
	return docker_container_action(d, id, "start", "", DOCKER_TIMEOUT_S * 1000,
				       cause);
}

int
docker_container_stop(struct docker *d, const char *id, int timeout_s, char **cause)
{
	char query[32] = "";
	int wait_s = DOCKER_TIMEOUT_S;

	if (timeout_s >= 0) {
		snprintf(query, sizeof query, "?t=%d", timeout_s);
		/* The daemon answers after the grace period at worst. */
		if (timeout_s < 24 * 3600)
			wait_s += timeout_s;
		else
			wait_s = -1;
	} else
		wait_s += 3600; /* the container's StopTimeout; unknown here */
	return docker_container_action(d, id, "stop", query,
				       wait_s < 0 ? -1 : wait_s * 1000, cause);
}

int
docker_container_remove(struct docker *d, const char *id, int force, int volumes,
			char **cause)
{
	char *enc = docker_urlencode(id, ""), *path;
	int rc;

	path = xasprintf("/containers/%s?force=%d&v=%d", enc, force ? 1 : 0,
			 volumes ? 1 : 0);
	rc = docker_call(d, "DELETE", path, NULL, DOCKER_TIMEOUT_S * 1000, NULL, NULL,
			 NULL, cause);
	free(path);
	free(enc);
	return rc;
}

/* An exec's output, while it runs. */
struct docker_exec_run {
	struct docker_stream *demux;
	docker_output_cb cb;
	void *cb_arg;
	struct buf *syserr; /* messages from the daemon (stream type 3) */
};

/* Demultiplex a piece of the hijacked stream and pass it on. */
static int
docker_exec_output(struct docker_exec_run *run, const unsigned char *data, size_t len,
		   char **cause)
{
	const unsigned char *payload;
	size_t used, plen;
	int stream, rc;

	while ((rc = docker_stream_feed(run->demux, data, len, &used, &stream, &payload,
					&plen, cause)) == 1) {
		data += used;
		len -= used;
		if (stream == DOCKER_STREAM_SYSTEMERR) {
			if (buf_len(run->syserr) + plen <= DOCKER_MAX_SYSERR)
				buf_append(run->syserr, payload, plen);
		} else if ((stream == DOCKER_STREAM_STDOUT ||
			    stream == DOCKER_STREAM_STDERR) &&
			   run->cb != NULL)
			run->cb(run->cb_arg, stream, payload, plen);
	}
	return rc;
}

/* Is the exec's TTY to be sized from the start (ConsoleSize, API 1.42)? */
static int
docker_exec_sized(const struct docker_exec_opts *opts)
{
	return opts->tty && opts->rows > 0 && opts->cols > 0;
}

/* Create the exec instance; *exec_id gets its id. */
static int
docker_exec_create(struct docker *d, const char *container,
		   const struct docker_exec_opts *opts, char **exec_id, char **cause)
{
	cJSON *body, *cmd, *env, *r, *jid, *size;
	const char *const *p;
	char *enc, *path;
	int rc;

	*exec_id = NULL;
	if (opts->argv == NULL || opts->argv[0] == NULL)
		return error_set(cause, "docker: exec with an empty command");
	if (docker_exec_sized(opts) && !docker_api_at_least(d, 1, 42))
		return error_set(cause, "docker: the daemon takes no exec console size "
				 "(API 1.42 needed)");
	if ((body = cJSON_CreateObject()) == NULL)
		fatal("cJSON: out of memory");
	cJSON_AddBoolToObject(body, "AttachStdin",
			      opts->stdin_data != NULL || opts->attach_stdin);
	cJSON_AddBoolToObject(body, "AttachStdout", 1);
	cJSON_AddBoolToObject(body, "AttachStderr", 1);
	cJSON_AddBoolToObject(body, "Tty", opts->tty != 0);
	cmd = cJSON_AddArrayToObject(body, "Cmd");
	for (p = opts->argv; *p != NULL; p++)
		cJSON_AddItemToArray(cmd, cJSON_CreateString(*p));
	if (opts->env != NULL) {
		env = cJSON_AddArrayToObject(body, "Env");
		for (p = opts->env; *p != NULL; p++)
			cJSON_AddItemToArray(env, cJSON_CreateString(*p));
	}
	if (opts->user != NULL)
		cJSON_AddStringToObject(body, "User", opts->user);
	if (opts->workdir != NULL)
		cJSON_AddStringToObject(body, "WorkingDir", opts->workdir);
	if (docker_exec_sized(opts)) {
		size = cJSON_AddArrayToObject(body, "ConsoleSize");
		cJSON_AddItemToArray(size, cJSON_CreateNumber(opts->rows));
		cJSON_AddItemToArray(size, cJSON_CreateNumber(opts->cols));
	}
	enc = docker_urlencode(container, "");
	path = xasprintf("/containers/%s/exec", enc);
	rc = docker_call_at(d, docker_exec_sized(opts) ? DOCKER_CONSOLE_SIZE_API : NULL,
			    "POST", path, body, DOCKER_TIMEOUT_S * 1000, NULL, NULL, &r,
			    cause);
	free(path);
	free(enc);
	cJSON_Delete(body);
	if (rc != 0)
		return -1;
	jid = cJSON_GetObjectItemCaseSensitive(r, "Id");
	if (!cJSON_IsString(jid) || *jid->valuestring == '\0') {
		cJSON_Delete(r);
		return error_set(cause, "docker: exec create gave no Id");
	}
	*exec_id = xstrdup(jid->valuestring);
	cJSON_Delete(r);
	return 0;
}

/* Start the exec on a hijacked connection and pump stdin and output until
 * the daemon closes the stream. */
static int
docker_exec_start(struct docker *d, const char *exec_id,
		  const struct docker_exec_opts *opts, struct docker_exec_run *run,
		  char **cause)
{
	static const char body[] = "{\"Detach\":false,\"Tty\":false}";
	struct docker_conn *c;
	struct docker_http *h;
	struct buf *errbody = NULL;
	const unsigned char *in = opts->stdin_data;
	size_t in_off = 0;
	int fd, rc = -1, writing, status, ev;
	char *path;
	ssize_t n;
	cJSON *r;

	if (docker_connect(d, &fd, cause) != 0)
		return -1;
	c = xcalloc(1, sizeof *c);
	c->d = d;
	c->fd = fd;
	h = docker_http_new("POST", DOCKER_HTTP_MAX_BODY);
	path = xasprintf("%s/exec/%s/start", d->api_prefix, exec_id);
	if (docker_conn_send(c, "POST", path, "application/json", body, strlen(body), 1,
			     DOCKER_TIMEOUT_S * 1000, cause) != 0)
		goto out;
	if (docker_conn_response(c, h, 1, DOCKER_TIMEOUT_S * 1000, NULL, NULL, cause) !=
	    0)
		goto out;
	status = docker_http_status(h);
	log_debug("docker: POST %s -> %d", path, status);
	if (status != 101 && status != 200) {
		errbody = buf_new();
		if (docker_conn_response(c, h, 0, DOCKER_TIMEOUT_S * 1000,
					 docker_body_collect, errbody, cause) != 0)
			goto out;
		r = docker_body_json(errbody);
		docker_error(status, r, cause);
		cJSON_Delete(r);
		goto out;
	}

	/* From here on the connection carries the multiplexed stream (after a
	 * 200 without upgrade too: the daemon hijacks it all the same). */
	if (docker_exec_output(run, c->rbuf + c->roff, c->rlen - c->roff, cause) != 0)
		goto out;
	c->roff = c->rlen = 0;
	writing = in != NULL;
	if (writing && opts->stdin_len == 0) {
		shutdown(fd, SHUT_WR);
		writing = 0;
	}
	for (;;) {
		ev = docker_poll(fd, POLLIN | (writing ? POLLOUT : 0), -1);
		if (ev < 0) {
			error_set_errno(cause, errno, "docker at %s: poll",
					d->socket_path);
			goto out;
		}
		if (writing && (ev & (POLLOUT | POLLERR | POLLHUP))) {
			n = send(fd, in + in_off, opts->stdin_len - in_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n < 0 && errno != EINTR && errno != EAGAIN &&
			    errno != EWOULDBLOCK) {
				/* The process is gone and the daemon stopped reading:
				 * not an error, its output and exit code tell. */
				log_debug("docker: exec %.12s: stdin: %s", exec_id,
					  strerror(errno));
				writing = 0;
			} else if (n > 0) {
				in_off += (size_t)n;
				if (in_off == opts->stdin_len) {
					shutdown(fd, SHUT_WR);
					writing = 0;
				}
			}
		}
		if (ev & (POLLIN | POLLERR | POLLHUP)) {
			n = recv(fd, c->rbuf, sizeof c->rbuf, MSG_DONTWAIT);
			if (n < 0) {
				if (errno == EINTR || errno == EAGAIN ||
				    errno == EWOULDBLOCK)
					continue;
				error_set_errno(cause, errno, "docker at %s: exec stream",
						d->socket_path);
				goto out;
			}
			if (n == 0)
				break;
			if (docker_exec_output(run, c->rbuf, (size_t)n, cause) != 0)
				goto out;
		}
	}
	if (docker_stream_eof(run->demux, cause) != 0)
		goto out;
	if (buf_len(run->syserr) > 0) {
		error_set(cause, "docker: %.*s", (int)buf_len(run->syserr),
			  (const char *)buf_data(run->syserr));
		goto out;
	}
	rc = 0;
out:
	buf_free(errbody);
	free(path);
	docker_http_free(h);
	close(fd);
	free(c);
	return rc;
}

/* Ask for the exit code of a finished exec. The daemon records it before
 * closing the stream, but allow it a moment anyway. */
static int
docker_exec_exit_code(struct docker *d, const char *exec_id, int *exit_code, char **cause)
{
	struct timespec ts = {0, 20 * 1000 * 1000};
	cJSON *r, *running, *code;
	char *path;
	int tries;

	path = xasprintf("/exec/%s/json", exec_id);
	for (tries = 0;; tries++) {
		if (docker_call(d, "GET", path, NULL, DOCKER_TIMEOUT_S * 1000, NULL, NULL,
				&r, cause) != 0) {
			free(path);
			return -1;
		}
		running = cJSON_GetObjectItemCaseSensitive(r, "Running");
		code = cJSON_GetObjectItemCaseSensitive(r, "ExitCode");
		if (!cJSON_IsTrue(running) && cJSON_IsNumber(code)) {
			*exit_code = code->valueint;
			cJSON_Delete(r);
			free(path);
			return 0;
		}
		cJSON_Delete(r);
		if (tries == 250) {
			free(path);
			return error_set(
			    cause,
			    "docker: exec %.12s: no exit code after its output "
			    "ended",
			    exec_id);
		}
		nanosleep(&ts, NULL);
	}
}

int
docker_exec(struct docker *d, const char *container, const struct docker_exec_opts *opts,
	    docker_output_cb cb, void *cb_arg, int *exit_code, char **cause)
{
	struct docker_exec_run run;
	char *exec_id;
	int rc;

	*exit_code = -1;
	if (docker_exec_create(d, container, opts, &exec_id, cause) != 0)
		return -1;
	run.demux = docker_stream_new(DOCKER_STREAM_MAX_FRAME);
	run.cb = cb;
	run.cb_arg = cb_arg;
	run.syserr = buf_new();
	rc = docker_exec_start(d, exec_id, opts, &run, cause);
	if (rc == 0)
		rc = docker_exec_exit_code(d, exec_id, exit_code, cause);
	docker_stream_free(run.demux);
	buf_free(run.syserr);
	free(exec_id);
	return rc;
}

/* Output collected by docker_exec_capture_len(). */
struct docker_capture {
	struct buf *out;
	struct buf *err;
	int overflow;
};

static void
docker_capture_cb(void *arg, int stream, const void *data, size_t len)
{
	struct docker_capture *cap = arg;
	struct buf *b = stream == DOCKER_STREAM_STDOUT ? cap->out : cap->err;

	if (b == NULL)
		return;
	if (buf_len(b) + len > DOCKER_MAX_CAPTURE) {
		cap->overflow = 1;
		return;
	}
	buf_append(b, data, len);
}

int
docker_exec_capture_len(struct docker *d, const char *container,
			const struct docker_exec_opts *opts, char **out, size_t *out_len,
			char **err, size_t *err_len, int *exit_code, char **cause)
{
	struct docker_capture cap = {NULL, NULL, 0};
	int rc;

	if (out != NULL) {
		*out = NULL;
		cap.out = buf_new();
	}
	if (err != NULL) {
		*err = NULL;
		cap.err = buf_new();
	}
	if (out_len != NULL)
		*out_len = 0;
	if (err_len != NULL)
		*err_len = 0;
	rc = docker_exec(d, container, opts, docker_capture_cb, &cap, exit_code, cause);
	if (rc == 0 && cap.overflow)
		rc = error_set(cause, "docker: output of %s exceeds %d bytes",
			       opts->argv[0], DOCKER_MAX_CAPTURE);
	if (rc == 0) {
		if (out != NULL)
			*out = buf_take_string(cap.out, out_len);
		if (err != NULL)
			*err = buf_take_string(cap.err, err_len);
	}
	buf_free(cap.out);
	buf_free(cap.err);
	return rc;
}

int
docker_exec_capture(struct docker *d, const char *container,
		    const struct docker_exec_opts *opts, char **out, char **err,
		    int *exit_code, char **cause)
{
	return docker_exec_capture_len(d, container, opts, out, NULL, err, NULL,
				       exit_code, cause);
}

int
docker_exec_attach(struct docker *d, const char *container,
		   const struct docker_exec_opts *opts, char **exec_id, int *fd,
		   struct buf **early, char **cause)
{
	struct docker_conn *c = NULL;
	struct docker_http *h = NULL;
	struct buf *errbody = NULL;
	char *path = NULL, *body = NULL;
	int cfd = -1, status;
	cJSON *r;

	*fd = -1;
	*early = NULL;
	if (docker_exec_create(d, container, opts, exec_id, cause) != 0)
		return -1;
	if (docker_connect(d, &cfd, cause) != 0)
		goto fail;
	c = xcalloc(1, sizeof *c);
	c->d = d;
	c->fd = cfd;
	h = docker_http_new("POST", DOCKER_HTTP_MAX_BODY);
	if (docker_exec_sized(opts)) {
		path = xasprintf("%s/exec/%s/start", DOCKER_CONSOLE_SIZE_API, *exec_id);
		body = xasprintf("{\"Detach\":false,\"Tty\":true,\"ConsoleSize\":[%u,%u]}",
				 opts->rows, opts->cols);
	} else {
		path = xasprintf("%s/exec/%s/start", d->api_prefix, *exec_id);
		body = xstrdup(opts->tty ? "{\"Detach\":false,\"Tty\":true}" :
					   "{\"Detach\":false,\"Tty\":false}");
	}
	if (docker_conn_send(c, "POST", path, "application/json", body, strlen(body), 1,
			     DOCKER_TIMEOUT_S * 1000, cause) != 0 ||
	    docker_conn_response(c, h, 1, DOCKER_TIMEOUT_S * 1000, NULL, NULL, cause) != 0)
		goto fail;
	status = docker_http_status(h);
	if (status != 101 && status != 200) {
		errbody = buf_new();
		if (docker_conn_response(c, h, 0, DOCKER_TIMEOUT_S * 1000,
					 docker_body_collect, errbody, cause) == 0) {
			r = docker_body_json(errbody);
			docker_error(status, r, cause);
			cJSON_Delete(r);
		}
		goto fail;
	}
	*early = buf_new();
	buf_append(*early, c->rbuf + c->roff, c->rlen - c->roff);
	*fd = cfd;
	free(body);
	free(path);
	free(c);
	docker_http_free(h);
	return 0;
fail:
	buf_free(errbody);
	free(body);
	free(path);
	free(c);
	docker_http_free(h);
	if (cfd >= 0)
		close(cfd);
	free(*exec_id);
	*exec_id = NULL;
	return -1;
}

int
docker_exec_resize(struct docker *d, const char *exec_id, unsigned rows, unsigned cols,
		   char **cause)
{
	char *path = xasprintf("/exec/%s/resize?h=%u&w=%u", exec_id, rows, cols);
	int rc;

	rc = docker_call(d, "POST", path, NULL, DOCKER_TIMEOUT_S * 1000, NULL, NULL, NULL,
			 cause);
	free(path);
	return rc;
}

int
docker_exec_inspect(struct docker *d, const char *exec_id, cJSON **info, char **cause)
{
	char *enc = docker_urlencode(exec_id, ""), *path;
	int rc;

	*info = NULL;
	if (*exec_id == '\0') {
		free(enc);
		return error_set(cause, "docker: empty exec id");
	}
	path = xasprintf("/exec/%s/json", enc);
	rc = docker_inspect(d, path, info, cause);
	free(path);
	free(enc);
	return rc;
}

int
docker_exec_exit(struct docker *d, const char *exec_id, int *exit_code, char **cause)
{
	return docker_exec_exit_code(d, exec_id, exit_code, cause);
}
