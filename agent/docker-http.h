/* docker-http.h - incremental parser for HTTP/1.1 responses (pure, no I/O).
 *
 * The Docker client feeds it whatever bytes the socket gave it; the parser
 * hands back one event at a time: the headers (status line and header fields
 * complete), pieces of the decoded body, and the end of the message. It
 * understands Content-Length, chunked transfer-encoding (with chunk
 * extensions and trailers, both ignored), bodies delimited by the connection
 * closing, bodiless statuses (1xx, 204, 304, HEAD), interim 1xx responses
 * (skipped) and 101 Switching Protocols (after which the bytes are no longer
 * HTTP and belong to the caller).
 *
 * Nothing from the wire is trusted: the status line and header fields
 * together may not exceed DOCKER_HTTP_MAX_HEADER bytes, chunk-size lines
 * and trailers are bounded too, and the decoded body may not exceed the
 * max_body given to docker_http_new().
 *
 * docker_http_new() pairs with docker_http_free(); docker_http_free(NULL) is
 * a no-op. One parser parses one response.
 */
#ifndef RDEV_DOCKER_HTTP_H
#define RDEV_DOCKER_HTTP_H

#include <stddef.h>

/* Bound on the status line plus all header lines (and, separately, on all
 * trailer lines) of one response. */
#define DOCKER_HTTP_MAX_HEADER (64 * 1024)
/* The default body bound used by the Docker client. */
#define DOCKER_HTTP_MAX_BODY (64 * 1024 * 1024)

struct docker_http;

enum docker_http_event_type {
	/* The final status line and headers are complete: docker_http_status(),
	 * docker_http_header() now answer. After a 101 the parser is
	 * docker_http_upgraded() and every byte after *used is the caller's. */
	DOCKER_HTTP_HEADERS,
	/* A piece of the decoded body, in data/len. */
	DOCKER_HTTP_BODY,
	/* The response is complete; bytes after *used are not part of it. */
	DOCKER_HTTP_END,
};

struct docker_http_event {
	enum docker_http_event_type type;
	/* DOCKER_HTTP_BODY only: points into the data passed to
	 * docker_http_feed() (borrowed, valid as long as that data is). */
	const unsigned char *data;
	size_t len;
};

/* A parser for the response to a request with this method (a response to
 * HEAD has no body whatever its headers say). max_body bounds the decoded
 * body in bytes; 0 means unbounded (for streams processed piece by piece). */
struct docker_http *docker_http_new(const char *method, size_t max_body);
void docker_http_free(struct docker_http *h);

/* Parse from data[0..len). Returns 1 with one event in *ev, 0 when all of
 * the input was consumed without completing an event (feed more), or -1 on a
 * malformed or oversize response with a message in *cause (the caller frees
 * it); the parser is then unusable. *used always gets the number of bytes
 * consumed; the caller feeds the rest (data + *used) again after handling an
 * event. After DOCKER_HTTP_END, or DOCKER_HTTP_HEADERS of a 101, further
 * calls return 0 and consume nothing. */
int docker_http_feed(struct docker_http *h, const void *data, size_t len, size_t *used,
    struct docker_http_event *ev, char **cause);
/* The peer closed the connection. Returns 1 with a DOCKER_HTTP_END event if
 * that properly ends the response (a body delimited by the close, or the
 * response already ended), or -1 with *cause if the response was cut short. */
int docker_http_eof(struct docker_http *h, struct docker_http_event *ev, char **cause);

/* After DOCKER_HTTP_HEADERS: the status code (100..999), the reason phrase
 * (borrowed, valid until docker_http_free()), whether the connection was
 * upgraded (status 101). Before the headers, status is 0 and reason "". */
int docker_http_status(const struct docker_http *h);
const char *docker_http_reason(const struct docker_http *h);
int docker_http_upgraded(const struct docker_http *h);
/* The value of the first header field with this name (case-insensitive),
 * with surrounding whitespace removed, or NULL. Borrowed, valid until
 * docker_http_free(). */
const char *docker_http_header(const struct docker_http *h, const char *name);

#endif
