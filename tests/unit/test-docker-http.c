/* test-docker-http.c - the incremental HTTP/1.1 response parser. */
#include "test.h"

#include "buf.h"
#include "docker-http.h"

/* What parsing a whole response gave. */
struct result {
	int rc; /* 0 ok (END or upgraded headers), -1 error, 1 incomplete */
	int status;
	int upgraded;
	int headers_events;
	int end_events;
	char *body; /* NUL-terminated copy */
	size_t body_len;
	size_t consumed; /* bytes consumed when END/upgrade happened */
	char *cause;
	char *content_type;
	char *reason;
};

static void
result_clear(struct result *r)
{
	free(r->body);
	free(r->cause);
	free(r->content_type);
	free(r->reason);
	memset(r, 0, sizeof *r);
}

/* Feed data in pieces (cut at the given offsets, sorted, plus the end),
 * then signal EOF if eof and nothing ended the response. */
static void
parse_cuts(const char *method, const void *data, size_t len, const size_t *cuts,
    size_t ncuts, size_t max_body, int eof, struct result *r)
{
	struct docker_http *h = docker_http_new(method, max_body);
	struct docker_http_event ev;
	struct buf *body = buf_new();
	const unsigned char *p = data;
	size_t start = 0, end, off, used, i;
	int rc, done = 0;
	const char *ct;

	memset(r, 0, sizeof *r);
	r->rc = 1;
	for (i = 0; i <= ncuts && !done; i++) {
		end = i < ncuts ? cuts[i] : len;
		off = start;
		for (;;) {
			rc = docker_http_feed(
			    h, p + off, end - off, &used, &ev, &r->cause);
			if (used > end - off)
				TEST_FAIL("used %zu > %zu", used, end - off);
			off += used;
			if (rc < 0) {
				r->rc = -1;
				done = 1;
				break;
			}
			if (rc == 0) {
				if (off != end && !docker_http_upgraded(h))
					TEST_FAIL("feed returned 0 with %zu bytes left",
					    end - off);
				break;
			}
			if (ev.type == DOCKER_HTTP_HEADERS) {
				r->headers_events++;
				if (docker_http_upgraded(h)) {
					r->rc = 0;
					r->consumed = off;
					done = 1;
					break;
				}
			} else if (ev.type == DOCKER_HTTP_BODY) {
				if (ev.len == 0)
					TEST_FAIL("empty body event");
				if (ev.data != p + off - ev.len)
					TEST_FAIL(
					    "body event does not point into the input");
				buf_append(body, ev.data, ev.len);
			} else {
				r->end_events++;
				r->rc = 0;
				r->consumed = off;
				done = 1;
				break;
			}
		}
		start = end;
	}
	if (!done && eof) {
		rc = docker_http_eof(h, &ev, &r->cause);
		if (rc < 0)
			r->rc = -1;
		else {
			if (ev.type != DOCKER_HTTP_END)
				TEST_FAIL("eof gave no END event");
			r->end_events++;
			r->rc = 0;
			r->consumed = len;
		}
	}
	r->status = docker_http_status(h);
	r->upgraded = docker_http_upgraded(h);
	r->reason = strdup(docker_http_reason(h));
	if ((ct = docker_http_header(h, "content-type")) != NULL)
		r->content_type = strdup(ct);
	r->body = buf_take_string(body, &r->body_len);
	buf_free(body);
	docker_http_free(h);
}

static void
parse_whole(
    const char *method, const char *data, size_t max_body, int eof, struct result *r)
{
	parse_cuts(method, data, strlen(data), NULL, 0, max_body, eof, r);
}

/* parse_whole() that must fail with a cause containing want. */
static void
parse_fails(
    const char *method, const char *data, size_t max_body, int eof, const char *want)
{
	struct result r;

	parse_whole(method, data, max_body, eof, &r);
	ASSERT_INT_EQ(r.rc, -1);
	ASSERT_STR_CONTAINS(r.cause, want);
	result_clear(&r);
}

/* Parse data cut in two at every offset and one byte at a time; each way
 * must give want_body and want_status (and, if want_cause, an error). */
static void
check_every_split(const char *data, size_t len, int eof, int want_rc, int want_status,
    const char *want_body, size_t want_consumed, const char *want_cause)
{
	struct result r;
	size_t k, *cuts;

	for (k = 0; k <= len + 1; k++) {
		if (k <= len)
			parse_cuts(
			    "GET", data, len, &k, 1, DOCKER_HTTP_MAX_BODY, eof, &r);
		else {
			/* One byte at a time. */
			size_t i;

			cuts = malloc(len * sizeof *cuts);
			for (i = 0; i < len; i++)
				cuts[i] = i;
			parse_cuts(
			    "GET", data, len, cuts, len, DOCKER_HTTP_MAX_BODY, eof, &r);
			free(cuts);
		}
		if (r.rc != want_rc) {
			fprintf(stderr, "  split at %zu: rc %d (%s)\n", k, r.rc,
			    r.cause ? r.cause : "");
			result_clear(&r);
			TEST_FAIL("rc differs");
		}
		if (want_rc == 0) {
			if (r.status != want_status || strcmp(r.body, want_body) != 0 ||
			    r.consumed != want_consumed) {
				fprintf(stderr,
				    "  split at %zu: status %d body \"%s\" consumed "
				    "%zu\n",
				    k, r.status, r.body, r.consumed);
				result_clear(&r);
				TEST_FAIL("result differs");
			}
		} else if (want_cause != NULL &&
		    (r.cause == NULL || strstr(r.cause, want_cause) == NULL)) {
			fprintf(stderr, "  split at %zu: cause \"%s\"\n", k,
			    r.cause ? r.cause : "");
			result_clear(&r);
			TEST_FAIL("cause differs");
		}
		result_clear(&r);
	}
}

TEST(content_length)
{
	static const char resp[] = "HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\n"
				   "Content-Type: application/json\r\nContent-Length: "
				   "13\r\n\r\n{\"a\":\"hello\"}";
	struct result r;

	parse_whole("GET", resp, DOCKER_HTTP_MAX_BODY, 0, &r);
	ASSERT_INT_EQ(r.rc, 0);
	ASSERT_INT_EQ(r.status, 200);
	ASSERT_STR_EQ(r.reason, "OK");
	ASSERT_STR_EQ(r.content_type, "application/json");
	ASSERT_STR_EQ(r.body, "{\"a\":\"hello\"}");
	ASSERT_INT_EQ(r.headers_events, 1);
	ASSERT_INT_EQ(r.end_events, 1);
	ASSERT_INT_EQ(r.consumed, strlen(resp));
	result_clear(&r);
}

TEST(content_length_every_split)
{
	static const char resp[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 26\r\n\r\n"
				   "{\"message\":\"no such x\"}\n\r\n";

	check_every_split(resp, strlen(resp), 0, 0, 404,
	    "{\"message\":\"no such x\"}\n\r\n", strlen(resp), NULL);
}

TEST(content_length_leaves_following_bytes)
{
	static const char resp[] =
	    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOKHTTP/1.1 500";
	struct result r;

	parse_whole("GET", resp, DOCKER_HTTP_MAX_BODY, 0, &r);
	ASSERT_INT_EQ(r.rc, 0);
	ASSERT_STR_EQ(r.body, "OK");
	ASSERT_INT_EQ(r.consumed, strlen(resp) - strlen("HTTP/1.1 500"));
	result_clear(&r);
}

TEST(content_length_zero)
{
	struct result r;

	parse_whole("POST", "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n",
	    DOCKER_HTTP_MAX_BODY, 0, &r);
	ASSERT_INT_EQ(r.rc, 0);
	ASSERT_INT_EQ(r.status, 201);
	ASSERT_INT_EQ(r.body_len, 0);
	ASSERT_INT_EQ(r.end_events, 1);
	result_clear(&r);
}

TEST(chunked_with_extensions_and_trailers)
{
	static const char resp[] =
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "5;name=val\r\nhello\r\n6 ; x=\"y\"\r\n world\r\nA\r\n0123456789\r\n"
	    "0;last\r\nX-Trailer: yes\r\nX-Other: 1\r\n\r\nNEXT";

	check_every_split(resp, strlen(resp), 0, 0, 200, "hello world0123456789",
	    strlen(resp) - 4, NULL);
}

TEST(chunked_docker_style)
{
	/* What dockerd sends for a pull: JSON lines in chunks. */
	static const char resp[] =
	    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"
	    "2a\r\n{\"status\":\"Pulling from library/debian\"}\r\n\r\n"
	    "19\r\n{\"error\":\"no such host\"}\n\r\n0\r\n\r\n";

	check_every_split(resp, strlen(resp), 0, 0, 200,
	    "{\"status\":\"Pulling from "
	    "library/debian\"}\r\n{\"error\":\"no such host\"}\n",
	    strlen(resp), NULL);
}

TEST(chunked_uppercase_hex_and_bare_lf)
{
	struct result r;

	parse_whole("GET",
	    "HTTP/1.1 200 OK\nTransfer-Encoding: Chunked\n\n"
	    "1F\n0123456789abcdef0123456789abcde\n0\n\n",
	    DOCKER_HTTP_MAX_BODY, 0, &r);
	ASSERT_INT_EQ(r.rc, 0);
	ASSERT_STR_EQ(r.body, "0123456789abcdef0123456789abcde");
	result_clear(&r);
}

TEST(transfer_encoding_wins_over_content_length)
{
	struct result r;

	parse_whole("GET",
	    "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
	    DOCKER_HTTP_MAX_BODY, 0, &r);
	ASSERT_INT_EQ(r.rc, 0);
	ASSERT_STR_EQ(r.body, "abc");
	result_clear(&r);
}

TEST(body_until_close)
{
	static const char resp[] =
	    "HTTP/1.1 200 OK\r\nContent-Type: "
	    "application/vnd.docker.raw-stream\r\n\r\nraw bytes\r\n\x01\x02";

	check_every_split(
	    resp, strlen(resp), 1, 0, 200, "raw bytes\r\n\x01\x02", strlen(resp), NULL);
}

TEST(body_until_close_with_other_coding)
{
	struct result r;

	parse_whole("GET",
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 1\r\n"
	    "\r\nabc",
	    DOCKER_HTTP_MAX_BODY, 1, &r);
	ASSERT_INT_EQ(r.rc, 0);
	ASSERT_STR_EQ(r.body, "abc");
	result_clear(&r);
}

TEST(truncated_body_is_an_error)
{
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc";

	check_every_split(
	    resp, strlen(resp), 1, -1, 0, NULL, 0, "middle of the HTTP response body");
}

TEST(truncated_chunked_is_an_error)
{
	static const char resp[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
				   "3\r\nabc\r\n";

	check_every_split(
	    resp, strlen(resp), 1, -1, 0, NULL, 0, "middle of the HTTP response body");
}

TEST(truncated_header_is_an_error)
{
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Le";

	check_every_split(resp, strlen(resp), 1, -1, 0, NULL, 0, "header");
}

TEST(eof_before_anything)
{
	parse_fails("GET", "", DOCKER_HTTP_MAX_BODY, 1, "closed before an HTTP response");
}

TEST(no_body_statuses)
{
	struct result r;

	parse_whole("POST", "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nNEXT!",
	    DOCKER_HTTP_MAX_BODY, 0, &r);
	ASSERT_INT_EQ(r.rc, 0);
	ASSERT_INT_EQ(r.status, 204);
	ASSERT_INT_EQ(r.body_len, 0);
	ASSERT_INT_EQ(
	    r.consumed, strlen("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n"));
	result_clear(&r);

	parse_whole(
	    "POST", "HTTP/1.1 304 Not Modified\r\n\r\n", DOCKER_HTTP_MAX_BODY, 0, &r);
	ASSERT_INT_EQ(r.rc, 0);
	ASSERT_INT_EQ(r.status, 304);
	ASSERT_INT_EQ(r.end_events, 1);
	result_clear(&r);

	parse_whole("HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n",
	    DOCKER_HTTP_MAX_BODY, 0, &r);
	ASSERT_INT_EQ(r.rc, 0);
	ASSERT_INT_EQ(r.end_events, 1);
	ASSERT_INT_EQ(r.body_len, 0);
	result_clear(&r);
}

TEST(interim_1xx_is_skipped)
{
	static const char resp[] = "HTTP/1.1 100 Continue\r\nX-A: 1\r\n\r\n"
				   "HTTP/1.1 102 Processing\r\n\r\n"
				   "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";
	struct result r;

	check_every_split(resp, strlen(resp), 0, 0, 200, "hi", strlen(resp), NULL);
	parse_whole("GET", resp, DOCKER_HTTP_MAX_BODY, 0, &r);
	ASSERT_INT_EQ(r.headers_events, 1);
	ASSERT_STR_EQ(r.reason, "OK");
	result_clear(&r);
}

TEST(upgrade_101)
{
	static const char resp[] = "HTTP/1.1 101 UPGRADED\r\nContent-Type: "
				   "application/vnd.docker.raw-stream\r\nConnection: "
				   "Upgrade\r\nUpgrade: tcp\r\n\r\n"
				   "\x01\0\0\0\0\0\0\x03out";
	size_t hdr = strlen("HTTP/1.1 101 UPGRADED\r\nContent-Type: "
			    "application/vnd.docker.raw-stream\r\nConnection: "
			    "Upgrade\r\nUpgrade: tcp\r\n\r\n");
	struct docker_http *h;
	struct docker_http_event ev;
	size_t used, k;
	struct result r;
	char *cause = NULL;

	for (k = 0; k <= sizeof resp - 1; k++) {
		parse_cuts(
		    "POST", resp, sizeof resp - 1, &k, 1, DOCKER_HTTP_MAX_BODY, 0, &r);
		ASSERT_INT_EQ(r.rc, 0);
		ASSERT_INT_EQ(r.status, 101);
		ASSERT_TRUE(r.upgraded);
		ASSERT_INT_EQ(r.consumed, hdr);
		ASSERT_INT_EQ(r.body_len, 0);
		ASSERT_STR_EQ(r.content_type, "application/vnd.docker.raw-stream");
		result_clear(&r);
	}

	/* Afterwards the parser consumes nothing; EOF is fine. */
	h = docker_http_new("POST", 0);
	ASSERT_INT_EQ(docker_http_feed(h, resp, sizeof resp - 1, &used, &ev, &cause), 1);
	ASSERT_INT_EQ(ev.type, DOCKER_HTTP_HEADERS);
	ASSERT_INT_EQ(used, hdr);
	ASSERT_INT_EQ(
	    docker_http_feed(h, resp + used, sizeof resp - 1 - used, &used, &ev, &cause),
	    0);
	ASSERT_INT_EQ(used, 0);
	ASSERT_INT_EQ(docker_http_eof(h, &ev, &cause), 1);
	ASSERT_TRUE(docker_http_upgraded(h));
	docker_http_free(h);
}

TEST(header_lookup)
{
	struct docker_http *h = docker_http_new("GET", 0);
	struct docker_http_event ev;
	static const char resp[] = "HTTP/1.0 200 Fine Thanks\r\nX-Empty:\r\n"
				   "X-Spaces: \t a b \t\r\nx-dup: 1\r\nX-Dup: 2\r\n\r\n";
	size_t used;
	char *cause = NULL;

	ASSERT_INT_EQ(docker_http_status(h), 0);
	ASSERT_STR_EQ(docker_http_reason(h), "");
	ASSERT_NULL(docker_http_header(h, "X-Empty"));
	ASSERT_INT_EQ(docker_http_feed(h, resp, strlen(resp), &used, &ev, &cause), 1);
	ASSERT_INT_EQ(ev.type, DOCKER_HTTP_HEADERS);
	ASSERT_STR_EQ(docker_http_reason(h), "Fine Thanks");
	ASSERT_STR_EQ(docker_http_header(h, "x-empty"), "");
	ASSERT_STR_EQ(docker_http_header(h, "X-SPACES"), "a b");
	ASSERT_STR_EQ(docker_http_header(h, "X-Dup"), "1");
	ASSERT_NULL(docker_http_header(h, "Content-Length"));
	docker_http_free(h);
}

TEST(status_line_without_reason)
{
	struct result r;

	parse_whole("GET", "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n",
	    DOCKER_HTTP_MAX_BODY, 0, &r);
	ASSERT_INT_EQ(r.rc, 0);
	ASSERT_INT_EQ(r.status, 200);
	ASSERT_STR_EQ(r.reason, "");
	result_clear(&r);
}

TEST(malformed_status_lines)
{
	static const char *bad[] = {
		"HTTP/2 200 OK\r\n\r\n",
		"HTTP/2.0 200 OK\r\n\r\n",
		"http/1.1 200 OK\r\n\r\n",
		"ICY 200 OK\r\n\r\n",
		"HTTP/1.1 20 OK\r\n\r\n",
		"HTTP/1.1 2000 OK\r\n\r\n",
		"HTTP/1.1 200OK\r\n\r\n",
		"HTTP/1.1 099 Low\r\n\r\n",
		"HTTP/1.1  200 OK\r\n\r\n",
		"HTTP/1.x 200 OK\r\n\r\n",
		"HTTP/1.1 2a0 OK\r\n\r\n",
		"HTTP/1.1 200 O\x01K\r\n\r\n",
		"HTTP/1.1 200 OK\r\r\n\r\n",
		"\r\nHTTP/1.1 200 OK\r\n\r\n",
		"HTTP/1.1\r\n\r\n",
		NULL,
	};
	struct result r;
	int i;

	for (i = 0; bad[i] != NULL; i++) {
		parse_whole("GET", bad[i], DOCKER_HTTP_MAX_BODY, 1, &r);
		if (r.rc != -1 || r.cause == NULL)
			TEST_FAIL("accepted \"%s\"", bad[i]);
		if (strstr(r.cause, "status") == NULL &&
		    strstr(r.cause, "reason") == NULL)
			TEST_FAIL("cause \"%s\" for \"%s\"", r.cause, bad[i]);
		result_clear(&r);
	}
	/* A NUL in the status line. */
	parse_cuts("GET", "HTTP/1.1 200 O\0K\r\n\r\n", 20, NULL, 0, 0, 1, &r);
	ASSERT_INT_EQ(r.rc, -1);
	result_clear(&r);
}

TEST(malformed_headers)
{
	static const char *bad[] = {
		"HTTP/1.1 200 OK\r\nNo-Colon\r\n\r\n",
		"HTTP/1.1 200 OK\r\nSpace Before: x\r\n\r\n",
		"HTTP/1.1 200 OK\r\nName : x\r\n\r\n",
		"HTTP/1.1 200 OK\r\n: empty name\r\n\r\n",
		"HTTP/1.1 200 OK\r\nA: b\r\n folded\r\n\r\n",
		"HTTP/1.1 200 OK\r\nA: b\x7f\r\n\r\n",
		"HTTP/1.1 200 OK\r\nA: b\rc\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 1 2\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999999\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
		NULL,
	};
	struct result r;
	int i;

	for (i = 0; bad[i] != NULL; i++) {
		parse_whole("GET", bad[i], 0, 1, &r);
		if (r.rc != -1 || r.cause == NULL)
			TEST_FAIL("accepted \"%s\"", bad[i]);
		result_clear(&r);
	}
	/* The same Content-Length twice is fine. */
	parse_whole("GET",
	    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab", 0, 0,
	    &r);
	ASSERT_INT_EQ(r.rc, 0);
	ASSERT_STR_EQ(r.body, "ab");
	result_clear(&r);
	/* A NUL in a header field. */
	parse_cuts("GET", "HTTP/1.1 200 OK\r\nA: \0\r\n\r\n", 24, NULL, 0, 0, 1, &r);
	ASSERT_INT_EQ(r.rc, -1);
	ASSERT_STR_CONTAINS(r.cause, "NUL");
	result_clear(&r);
}

TEST(malformed_chunks)
{
	static const char *bad[] = {
		"zz\r\nabc\r\n0\r\n\r\n",
		"\r\nabc\r\n0\r\n\r\n",
		"3\r\nabcX\r\n0\r\n\r\n",
		"3\r\nabc\r\r\n0\r\n\r\n",
		"3 x\r\nabc\r\n0\r\n\r\n",
		"-3\r\nabc\r\n0\r\n\r\n",
		"10000000000000000\r\n",
		"fffffffffffffffff\r\n",
		"3;\x01\r\nabc\r\n0\r\n\r\n",
		"3\r\nabc\r\n0\r\nbad trailer\r\n\r\n",
		NULL,
	};
	char resp[256];
	struct result r;
	int i;

	for (i = 0; bad[i] != NULL; i++) {
		snprintf(resp, sizeof resp,
		    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%s", bad[i]);
		parse_whole("GET", resp, 0, 1, &r);
		if (r.rc != -1 || r.cause == NULL)
			TEST_FAIL("accepted \"%s\"", bad[i]);
		result_clear(&r);
	}
}

TEST(oversize_header)
{
	struct buf *b = buf_new();
	struct result r;
	size_t i;
	char *s;

	/* Just under the limit is fine. */
	buf_appendf(b, "HTTP/1.1 200 OK\r\n");
	for (i = 0; buf_len(b) < DOCKER_HTTP_MAX_HEADER - 200; i++)
		buf_appendf(b, "X-Header-%05zu: %0100d\r\n", i, 0);
	buf_appendf(b, "Content-Length: 0\r\n\r\n");
	s = buf_take_string(b, NULL);
	parse_whole("GET", s, 0, 0, &r);
	ASSERT_INT_EQ(r.rc, 0);
	result_clear(&r);
	free(s);

	/* One long line over the limit. */
	buf_appendf(b, "HTTP/1.1 200 OK\r\nX-Big: ");
	for (i = 0; i < DOCKER_HTTP_MAX_HEADER; i++)
		buf_append(b, "a", 1);
	buf_appendf(b, "\r\n\r\n");
	s = buf_take_string(b, NULL);
	parse_fails("GET", s, 0, 1, "header too large");
	free(s);

	/* Many lines over the limit together, and without any newline. */
	buf_appendf(b, "HTTP/1.1 200 OK\r\n");
	for (i = 0; buf_len(b) < DOCKER_HTTP_MAX_HEADER + 100; i++)
		buf_appendf(b, "X-Header-%05zu: %0100d\r\n", i, 0);
	s = buf_take_string(b, NULL);
	parse_fails("GET", s, 0, 1, "header too large");
	free(s);
	for (i = 0; i < DOCKER_HTTP_MAX_HEADER + 1; i++)
		buf_append(b, "H", 1);
	s = buf_take_string(b, NULL);
	parse_fails("GET", s, 0, 1, "header too large");
	free(s);
	buf_free(b);
}

TEST(oversize_trailer_and_chunk_line)
{
	struct buf *b = buf_new();
	size_t i;
	char *s;

	buf_appendf(b, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n");
	for (i = 0; i < 1000; i++)
		buf_appendf(b, "X-Trailer-%05zu: %0100d\r\n", i, 0);
	buf_appendf(b, "\r\n");
	s = buf_take_string(b, NULL);
	parse_fails("GET", s, 0, 1, "trailer section too large");
	free(s);

	buf_appendf(b, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;");
	for (i = 0; i < 5000; i++)
		buf_append(b, "e", 1);
	s = buf_take_string(b, NULL);
	parse_fails("GET", s, 0, 1, "chunk-size line too long");
	free(s);
	buf_free(b);
}

TEST(body_limit)
{
	struct result r;

	parse_fails("GET", "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world", 10,
	    0, "exceeds the limit");

	parse_whole(
	    "GET", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhelloworld", 10, 0, &r);
	ASSERT_INT_EQ(r.rc, 0);
	result_clear(&r);

	parse_whole("GET",
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
	    10, 0, &r);
	ASSERT_INT_EQ(r.rc, -1);
	ASSERT_STR_CONTAINS(r.cause, "exceeds the limit");
	ASSERT_STR_EQ(r.body, "hello");
	result_clear(&r);

	parse_fails(
	    "GET", "HTTP/1.1 200 OK\r\n\r\nhello world", 10, 1, "exceeds the limit");

	/* A huge Content-Length fails at once, before any body arrives. */
	parse_fails("GET", "HTTP/1.1 200 OK\r\nContent-Length: 1000000000000\r\n\r\n",
	    DOCKER_HTTP_MAX_BODY, 0, "exceeds the limit");
}

TEST(used_after_error)
{
	struct docker_http *h = docker_http_new("GET", 0);
	struct docker_http_event ev;
	char *cause = NULL;
	size_t used;

	ASSERT_INT_EQ(docker_http_feed(h, "garbage\r\n", 9, &used, &ev, &cause), -1);
	ASSERT_NOT_NULL(cause);
	free(cause);
	cause = NULL;
	ASSERT_INT_EQ(
	    docker_http_feed(h, "HTTP/1.1 200 OK\r\n", 17, &used, &ev, &cause), -1);
	ASSERT_INT_EQ(used, 0);
	free(cause);
	cause = NULL;
	ASSERT_INT_EQ(docker_http_eof(h, &ev, &cause), -1);
	free(cause);
	docker_http_free(h);
	docker_http_free(NULL);
}
