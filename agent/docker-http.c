/* docker-http.c - incremental parser for HTTP/1.1 responses (see docker-http.h). */
#include "docker-http.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "error.h"
#include "xmalloc.h"

/* Bound on one chunk-size line (the size and any extensions). */
#define DOCKER_HTTP_MAX_CHUNK_LINE 4096

enum docker_http_state {
	DOCKER_HTTP_ST_STATUS,	   /* reading the status line */
	DOCKER_HTTP_ST_HEADER,	   /* reading header lines */
	DOCKER_HTTP_ST_LENGTH,	   /* body of known length: remaining bytes */
	DOCKER_HTTP_ST_CLOSE,	   /* body ends when the connection closes */
	DOCKER_HTTP_ST_CHUNK_SIZE, /* reading a chunk-size line */
	DOCKER_HTTP_ST_CHUNK_DATA, /* chunk data: remaining bytes */
	DOCKER_HTTP_ST_CHUNK_END,  /* the CRLF after chunk data */
	DOCKER_HTTP_ST_TRAILER,	   /* trailer lines after the last chunk */
	DOCKER_HTTP_ST_END,	   /* complete; DOCKER_HTTP_END not yet reported */
	DOCKER_HTTP_ST_DONE,	   /* complete and reported */
	DOCKER_HTTP_ST_UPGRADED,   /* 101: the bytes are no longer HTTP */
	DOCKER_HTTP_ST_ERROR,
};

struct docker_http {
	enum docker_http_state state;
	int head;	     /* response to HEAD: never a body */
	size_t max_body;     /* 0: unbounded */
	size_t body_total;   /* decoded body bytes so far */
	size_t remaining;    /* ST_LENGTH, ST_CHUNK_DATA */
	size_t header_bytes; /* status and header (or trailer) bytes so far */

	struct buf *line; /* the line being read */
	size_t line_len;  /* complete line: its length without CR LF */

	int status;
	char *reason;
	char **names;
	char **values;
	size_t nheaders;
};

struct docker_http *
docker_http_new(const char *method, size_t max_body)
{
	struct docker_http *h = xcalloc(1, sizeof *h);

	h->state = DOCKER_HTTP_ST_STATUS;
	h->head = method != NULL && strcmp(method, "HEAD") == 0;
	h->max_body = max_body;
	h->line = buf_new();
	h->reason = xstrdup("");
	return h;
}

/* Forget the headers of an interim (1xx) response or of the final one. */
static void
docker_http_clear_headers(struct docker_http *h)
{
	size_t i;

	for (i = 0; i < h->nheaders; i++) {
		free(h->names[i]);
		free(h->values[i]);
	}
	free(h->names);
	free(h->values);
	h->names = h->values = NULL;
	h->nheaders = 0;
}

void
docker_http_free(struct docker_http *h)
{
	if (h == NULL)
		return;
	docker_http_clear_headers(h);
	buf_free(h->line);
	free(h->reason);
	free(h);
}

int
docker_http_status(const struct docker_http *h)
{
	return h->status;
}

const char *
docker_http_reason(const struct docker_http *h)
{
	return h->reason;
}

int
docker_http_upgraded(const struct docker_http *h)
{
	return h->state == DOCKER_HTTP_ST_UPGRADED;
}

const char *
docker_http_header(const struct docker_http *h, const char *name)
{
	size_t i;

	for (i = 0; i < h->nheaders; i++)
		if (strcasecmp(h->names[i], name) == 0)
			return h->values[i];
	return NULL;
}

/* Enter the error state with a message. */
static int
docker_http_fail(struct docker_http *h, char **cause, const char *fmt, const char *arg)
{
	h->state = DOCKER_HTTP_ST_ERROR;
	return error_set(cause, fmt, arg);
}

/* Is c an RFC 9110 token character? */
static int
docker_http_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* May c appear in a field value or reason phrase (visible, space, tab,
 * obs-text)? */
static int
docker_http_vchar(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* Accumulate input into h->line up to and including a LF. Returns 1 with the
 * line complete (LF and an optional CR before it replaced by a NUL; its length
 * in h->line_len), 0 if the input ran out first, -1 if the line would push
 * *budget past limit. *used gets the bytes taken. */
static int
docker_http_line(struct docker_http *h, const unsigned char *data, size_t len,
    size_t *used, size_t *budget, size_t limit)
{
	const unsigned char *lf = memchr(data, '\n', len);
	size_t take = lf != NULL ? (size_t)(lf - data) + 1 : len, n;
	unsigned char *p;

	*used = 0;
	if (take > limit - *budget)
		return -1;
	*budget += take;
	buf_append(h->line, data, take);
	*used = take;
	if (lf == NULL)
		return 0;
	p = (unsigned char *)buf_data(h->line); /* our own buffer */
	n = buf_len(h->line) - 1;
	if (n > 0 && p[n - 1] == '\r')
		n--;
	p[n] = '\0';
	h->line_len = n;
	return 1;
}

/* Parse "HTTP/1.x SSS reason". */
static int
docker_http_parse_status(struct docker_http *h, const char *s, size_t n, char **cause)
{
	size_t i;

	if (n != strlen(s) || n < 12)
		return docker_http_fail(h, cause, "malformed HTTP status line%s", "");
	if (strncmp(s, "HTTP/1.", 7) != 0 || s[7] < '0' || s[7] > '9' || s[8] != ' ')
		return docker_http_fail(
		    h, cause, "malformed HTTP status line (not HTTP/1.x)%s", "");
	if (s[9] < '1' || s[9] > '9' || s[10] < '0' || s[10] > '9' || s[11] < '0' ||
	    s[11] > '9')
		return docker_http_fail(h, cause, "malformed HTTP status code%s", "");
	if (s[12] != '\0' && s[12] != ' ')
		return docker_http_fail(h, cause, "malformed HTTP status code%s", "");
	for (i = 13; i < n; i++)
		if (!docker_http_vchar((unsigned char)s[i]))
			return docker_http_fail(
			    h, cause, "malformed HTTP reason phrase%s", "");
	h->status = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
	free(h->reason);
	h->reason = xstrdup(n > 13 ? s + 13 : "");
	return 0;
}

/* Split "Name: value" into its trimmed parts (allocated) or fail. */
static int
docker_http_parse_field(struct docker_http *h, const char *s, size_t n, char **name,
    char **value, char **cause)
{
	size_t i, start, end;

	if (n != strlen(s))
		return docker_http_fail(
		    h, cause, "malformed HTTP header field (NUL byte)%s", "");
	if (s[0] == ' ' || s[0] == '\t')
		return docker_http_fail(
		    h, cause, "malformed HTTP header field (line folding)%s", "");
	for (i = 0; i < n && docker_http_tchar((unsigned char)s[i]); i++)
		;
	if (i == 0 || i == n || s[i] != ':')
		return docker_http_fail(h, cause, "malformed HTTP header field%s", "");
	for (start = i + 1; start < n && (s[start] == ' ' || s[start] == '\t'); start++)
		;
	for (end = n; end > start && (s[end - 1] == ' ' || s[end - 1] == '\t'); end--)
		;
	for (i = start; i < end; i++)
		if (!docker_http_vchar((unsigned char)s[i]))
			return docker_http_fail(
			    h, cause, "malformed HTTP header value%s", "");
	if (name != NULL) {
		*name = xstrndup(s, strcspn(s, ":"));
		*value = xstrndup(s + start, end - start);
	}
	return 0;
}

/* Parse a Content-Length value: digits only, no overflow. */
static int
docker_http_parse_length(const char *s, size_t *out)
{
	size_t v = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (v > (SIZE_MAX - 9) / 10)
			return -1;
		v = v * 10 + (size_t)(*s - '0');
	}
	*out = v;
	return 0;
}

/* Is the final transfer coding of the Transfer-Encoding fields "chunked"? */
static int
docker_http_te_chunked(const struct docker_http *h)
{
	const char *last = NULL, *p, *start, *end;
	size_t i;

	for (i = 0; i < h->nheaders; i++)
		if (strcasecmp(h->names[i], "Transfer-Encoding") == 0)
			last = h->values[i];
	if (last == NULL)
		return 0;
	p = strrchr(last, ',');
	start = p != NULL ? p + 1 : last;
	while (*start == ' ' || *start == '\t')
		start++;
	end = start + strcspn(start, " \t;");
	return (size_t)(end - start) == 7 && strncasecmp(start, "chunked", 7) == 0;
}

/* The headers are complete: decide how the body is delimited. Returns 1
 * when a DOCKER_HTTP_HEADERS event is due, 0 after an interim response, -1
 * on error. */
static int
docker_http_headers_done(struct docker_http *h, char **cause)
{
	size_t i, len = 0, v;
	int have_len = 0;

	if (h->status >= 100 && h->status < 200 && h->status != 101) {
		/* Interim response: forget it, read the next status line. */
		docker_http_clear_headers(h);
		h->status = 0;
		free(h->reason);
		h->reason = xstrdup("");
		h->header_bytes = 0;
		h->state = DOCKER_HTTP_ST_STATUS;
		return 0;
	}
	if (h->status == 101) {
		h->state = DOCKER_HTTP_ST_UPGRADED;
		return 1;
	}
	if (h->head || h->status == 204 || h->status == 304) {
		h->state = DOCKER_HTTP_ST_END;
		return 1;
	}
	if (docker_http_header(h, "Transfer-Encoding") != NULL) {
		/* Content-Length is ignored when Transfer-Encoding is present. */
		h->state = docker_http_te_chunked(h) ? DOCKER_HTTP_ST_CHUNK_SIZE
						     : DOCKER_HTTP_ST_CLOSE;
		return 1;
	}
	for (i = 0; i < h->nheaders; i++) {
		if (strcasecmp(h->names[i], "Content-Length") != 0)
			continue;
		if (docker_http_parse_length(h->values[i], &v) != 0)
			return docker_http_fail(
			    h, cause, "invalid HTTP Content-Length \"%s\"", h->values[i]);
		if (have_len && v != len)
			return docker_http_fail(
			    h, cause, "conflicting HTTP Content-Length fields%s", "");
		len = v;
		have_len = 1;
	}
	if (!have_len) {
		h->state = DOCKER_HTTP_ST_CLOSE;
		return 1;
	}
	if (h->max_body != 0 && len > h->max_body) {
		h->state = DOCKER_HTTP_ST_ERROR;
		return error_set(cause,
		    "HTTP response body of %zu bytes exceeds the limit of %zu", len,
		    h->max_body);
	}
	h->remaining = len;
	h->state = len == 0 ? DOCKER_HTTP_ST_END : DOCKER_HTTP_ST_LENGTH;
	return 1;
}

/* Parse a chunk-size line: hex size, optional whitespace, optional ";ext". */
static int
docker_http_parse_chunk_size(struct docker_http *h, const char *s, size_t n, char **cause)
{
	size_t i, v = 0;
	int d;

	if (n != strlen(s))
		return docker_http_fail(h, cause, "malformed HTTP chunk size%s", "");
	for (i = 0; i < n; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			d = s[i] - '0';
		else if (s[i] >= 'a' && s[i] <= 'f')
			d = s[i] - 'a' + 10;
		else if (s[i] >= 'A' && s[i] <= 'F')
			d = s[i] - 'A' + 10;
		else
			break;
		if (v > (SIZE_MAX >> 4))
			return docker_http_fail(
			    h, cause, "HTTP chunk size too large%s", "");
		v = (v << 4) | (size_t)d;
	}
	if (i == 0)
		return docker_http_fail(h, cause, "malformed HTTP chunk size%s", "");
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i < n && s[i] != ';')
		return docker_http_fail(h, cause, "malformed HTTP chunk size%s", "");
	for (; i < n; i++)
		if (!docker_http_vchar((unsigned char)s[i]))
			return docker_http_fail(
			    h, cause, "malformed HTTP chunk extension%s", "");
	if (h->max_body != 0 && v > h->max_body - h->body_total) {
		h->state = DOCKER_HTTP_ST_ERROR;
		return error_set(cause,
		    "HTTP response body exceeds the limit of %zu bytes", h->max_body);
	}
	if (v == 0) {
		h->header_bytes = 0; /* the trailer budget */
		h->state = DOCKER_HTTP_ST_TRAILER;
	} else {
		h->remaining = v;
		h->state = DOCKER_HTTP_ST_CHUNK_DATA;
	}
	return 0;
}

/* Hand out up to want bytes of body from the input. */
static int
docker_http_body(struct docker_http *h, const unsigned char *data, size_t len,
    size_t want, size_t *used, struct docker_http_event *ev, char **cause)
{
	size_t n = len < want ? len : want;

	if (h->max_body != 0 && n > h->max_body - h->body_total) {
		h->state = DOCKER_HTTP_ST_ERROR;
		return error_set(cause,
		    "HTTP response body exceeds the limit of %zu bytes", h->max_body);
	}
	h->body_total += n;
	*used += n;
	ev->type = DOCKER_HTTP_BODY;
	ev->data = data;
	ev->len = n;
	return 1;
}

int
docker_http_feed(struct docker_http *h, const void *data, size_t len, size_t *used,
    struct docker_http_event *ev, char **cause)
{
	const unsigned char *p = data;
	const char *s;
	size_t n, took;
	char *name, *value;
	int rc;

	*used = 0;
	memset(ev, 0, sizeof *ev);
	for (;;) {
		switch (h->state) {
		case DOCKER_HTTP_ST_ERROR:
			return error_set(cause, "HTTP parser used after an error");
		case DOCKER_HTTP_ST_DONE:
		case DOCKER_HTTP_ST_UPGRADED: return 0;
		case DOCKER_HTTP_ST_END:
			h->state = DOCKER_HTTP_ST_DONE;
			ev->type = DOCKER_HTTP_END;
			return 1;
		case DOCKER_HTTP_ST_LENGTH:
		case DOCKER_HTTP_ST_CHUNK_DATA:
			if (*used == len)
				return 0;
			rc = docker_http_body(
			    h, p + *used, len - *used, h->remaining, used, ev, cause);
			if (rc == 1) {
				h->remaining -= ev->len;
				if (h->remaining == 0)
					h->state = h->state == DOCKER_HTTP_ST_LENGTH
					    ? DOCKER_HTTP_ST_END
					    : DOCKER_HTTP_ST_CHUNK_END;
			}
			return rc;
		case DOCKER_HTTP_ST_CLOSE:
			if (*used == len)
				return 0;
			return docker_http_body(
			    h, p + *used, len - *used, len - *used, used, ev, cause);
		case DOCKER_HTTP_ST_STATUS:
		case DOCKER_HTTP_ST_HEADER:
		case DOCKER_HTTP_ST_TRAILER:
		case DOCKER_HTTP_ST_CHUNK_SIZE:
		case DOCKER_HTTP_ST_CHUNK_END: break;
		}

		/* The line-oriented states. */
		if (*used == len)
			return 0;
		if (h->state == DOCKER_HTTP_ST_CHUNK_SIZE) {
			size_t budget = buf_len(h->line);

			rc = docker_http_line(h, p + *used, len - *used, &took, &budget,
			    DOCKER_HTTP_MAX_CHUNK_LINE);
		} else if (h->state == DOCKER_HTTP_ST_CHUNK_END) {
			size_t budget = buf_len(h->line);

			rc = docker_http_line(
			    h, p + *used, len - *used, &took, &budget, 2);
		} else
			rc = docker_http_line(h, p + *used, len - *used, &took,
			    &h->header_bytes, DOCKER_HTTP_MAX_HEADER);
		*used += took;
		if (rc < 0) {
			switch (h->state) {
			case DOCKER_HTTP_ST_CHUNK_SIZE:
				return docker_http_fail(
				    h, cause, "HTTP chunk-size line too long%s", "");
			case DOCKER_HTTP_ST_CHUNK_END:
				return docker_http_fail(h, cause,
				    "malformed HTTP chunk (no CRLF after the data)%s",
				    "");
			case DOCKER_HTTP_ST_TRAILER:
				return docker_http_fail(
				    h, cause, "HTTP trailer section too large%s", "");
			default:
				return docker_http_fail(
				    h, cause, "HTTP response header too large%s", "");
			}
		}
		if (rc == 0)
			return 0;
		s = (const char *)buf_data(h->line);
		n = h->line_len;

		switch (h->state) {
		case DOCKER_HTTP_ST_STATUS:
			if (docker_http_parse_status(h, s, n, cause) != 0)
				return -1;
			h->state = DOCKER_HTTP_ST_HEADER;
			break;
		case DOCKER_HTTP_ST_HEADER:
			if (n == 0) {
				buf_reset(h->line);
				rc = docker_http_headers_done(h, cause);
				if (rc < 0)
					return -1;
				if (rc == 1) {
					ev->type = DOCKER_HTTP_HEADERS;
					return 1;
				}
				continue;
			}
			if (docker_http_parse_field(h, s, n, &name, &value, cause) != 0)
				return -1;
			h->names =
			    xreallocarray(h->names, h->nheaders + 1, sizeof *h->names);
			h->values =
			    xreallocarray(h->values, h->nheaders + 1, sizeof *h->values);
			h->names[h->nheaders] = name;
			h->values[h->nheaders] = value;
			h->nheaders++;
			break;
		case DOCKER_HTTP_ST_TRAILER:
			if (n == 0) {
				h->state = DOCKER_HTTP_ST_END;
				break;
			}
			if (docker_http_parse_field(h, s, n, NULL, NULL, cause) != 0)
				return -1;
			break;
		case DOCKER_HTTP_ST_CHUNK_SIZE:
			if (docker_http_parse_chunk_size(h, s, n, cause) != 0)
				return -1;
			break;
		case DOCKER_HTTP_ST_CHUNK_END:
			if (n != 0)
				return docker_http_fail(h, cause,
				    "malformed HTTP chunk (no CRLF after the data)%s",
				    "");
			h->state = DOCKER_HTTP_ST_CHUNK_SIZE;
			break;
		default: fatal("docker_http_feed: bad state %d", (int)h->state);
		}
		buf_reset(h->line);
	}
}

int
docker_http_eof(struct docker_http *h, struct docker_http_event *ev, char **cause)
{
	memset(ev, 0, sizeof *ev);
	switch (h->state) {
	case DOCKER_HTTP_ST_CLOSE:
	case DOCKER_HTTP_ST_END:
	case DOCKER_HTTP_ST_DONE:
	case DOCKER_HTTP_ST_UPGRADED:
		if (h->state != DOCKER_HTTP_ST_UPGRADED)
			h->state = DOCKER_HTTP_ST_DONE;
		ev->type = DOCKER_HTTP_END;
		return 1;
	case DOCKER_HTTP_ST_STATUS:
		if (h->header_bytes == 0)
			return docker_http_fail(
			    h, cause, "connection closed before an HTTP response%s", "");
		/* FALLTHROUGH */
	case DOCKER_HTTP_ST_HEADER:
		return docker_http_fail(h, cause,
		    "connection closed in the middle of the HTTP response header%s", "");
	case DOCKER_HTTP_ST_ERROR:
		return error_set(cause, "HTTP parser used after an error");
	default:
		return docker_http_fail(h, cause,
		    "connection closed in the middle of the HTTP response body%s", "");
	}
}
