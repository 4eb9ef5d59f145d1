/* fuzz-docker-http.c - fuzz the HTTP response parser and the exec stream
 * demultiplexer: a response as the daemon would send it, fed in pieces
 * whose sizes come from the input, then whatever follows an upgrade (or a
 * raw-stream 200) through the demultiplexer, as the Docker client does. */
#include <stdlib.h>
#include <string.h>

#include "docker-http.h"
#include "docker-stream.h"
#include "fuzz.h"

/* Feed everything after the headers to the demultiplexer in pieces. */
static void
fuzz_stream(const uint8_t *data, size_t size, size_t step)
{
	struct docker_stream *s = docker_stream_new(4096);
	const unsigned char *payload;
	size_t off = 0, end, used, plen;
	char *cause = NULL;
	int rc, stream;

	while (off < size) {
		end = size - off > step ? off + step : size;
		while (off < end) {
			rc = docker_stream_feed(s, data + off, end - off, &used, &stream,
			    &payload, &plen, &cause);
			if (used > end - off)
				abort();
			off += used;
			if (rc < 0)
				goto out;
			if (rc == 0) {
				if (off != end)
					abort();
				break;
			}
			if (plen == 0 || plen > 4096 || stream < 0 || stream > 3 ||
			    payload + plen != data + off)
				abort();
		}
	}
	if (docker_stream_eof(s, &cause) != 0) {
		free(cause);
		cause = NULL;
	}
out:
	free(cause);
	docker_stream_free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct docker_http *h;
	struct docker_http_event ev;
	size_t off = 0, end, used, step, body = 0, max_body;
	char *cause = NULL;
	int rc, headers = 0, status, exec;

	if (size < 1)
		return 0;
	/* The first byte picks the piece size, the body bound, the method and
	 * whether this is an exec start (where a 200 is a raw stream too). */
	step = (size_t)(data[0] & 0x1f) + 1;
	if (step == 32)
		step = size;
	max_body = data[0] & 0x20 ? 64 : 0;
	h = docker_http_new(data[0] & 0x40 ? "HEAD" : "POST", max_body);
	exec = (data[0] & 0x80) != 0;
	data++;
	size--;

	while (off < size) {
		end = size - off > step ? off + step : size;
		while (off < end) {
			rc = docker_http_feed(
			    h, data + off, end - off, &used, &ev, &cause);
			if (used > end - off)
				abort();
			off += used;
			if (rc < 0)
				goto out;
			if (rc == 0) {
				if (off != end && !docker_http_upgraded(h))
					abort();
				if (off != end)
					goto upgraded;
				break;
			}
			switch (ev.type) {
			case DOCKER_HTTP_HEADERS:
				headers++;
				status = docker_http_status(h);
				if (headers != 1 || status < 100 || status > 999)
					abort();
				(void)docker_http_header(h, "Content-Type");
				(void)docker_http_reason(h);
				if (docker_http_upgraded(h) || (exec && status == 200))
					goto upgraded;
				break;
			case DOCKER_HTTP_BODY:
				if (ev.len == 0 || ev.data + ev.len != data + off)
					abort();
				body += ev.len;
				if (max_body != 0 && body > max_body)
					abort();
				break;
			case DOCKER_HTTP_END: goto out;
			}
		}
	}
	if (docker_http_eof(h, &ev, &cause) == 1 && ev.type != DOCKER_HTTP_END)
		abort();
	goto out;

upgraded:
	/* As the client does after a 101 or a 200 to exec start. */
	fuzz_stream(data + off, size - off, step);
out:
	free(cause);
	docker_http_free(h);
	return 0;
}
