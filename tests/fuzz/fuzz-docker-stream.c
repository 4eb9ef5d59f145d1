/* fuzz-docker-stream.c - fuzz the demultiplexer of Docker's attach/exec
 * stream (agent/docker-stream.c) against a reference decoder.
 *
 * Input: one byte of settings (bits 0-2 the frame limit, bits 3-4 the highest
 * stream type accepted), four bytes of chunk sizes (used in turn; 255 is "all
 * that is left", 0 an empty feed; all four 0: one chunk), then the stream.
 * The stream is fed in those chunks, so headers and payloads are split
 * anywhere, and what comes out (each payload byte with its stream type, where
 * it stopped and why) must be what a plain decoder of the whole input says.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "docker-stream.h"
#include "fuzz.h"

#define FUZZ_SETTINGS 5 /* the settings byte and four chunk sizes */

static const size_t fuzz_limits[8] = { 0, 1, 7, 64, 4096, DOCKER_STREAM_MAX_FRAME,
	UINT32_MAX, SIZE_MAX };
static const int fuzz_types[4] = { -1, 0, 7, 255 }; /* -1: the default (3) */

enum fuzz_end {
	FUZZ_END_CLEAN,	    /* between frames */
	FUZZ_END_MID_FRAME, /* in a header or payload */
	FUZZ_END_ERROR,	    /* a bad header */
};

/* What a demultiplexer made of a stream: the payload bytes, each with its
 * stream type, how the stream ended, and how many bytes were consumed. */
struct fuzz_result {
	unsigned char *bytes;
	unsigned char *types;
	size_t len;
	size_t consumed;
	enum fuzz_end end;
};

static void
fuzz_result_init(struct fuzz_result *r, size_t size)
{
	r->bytes = malloc(size + 1);
	r->types = malloc(size + 1);
	if (r->bytes == NULL || r->types == NULL)
		abort();
	r->len = r->consumed = 0;
	r->end = FUZZ_END_CLEAN;
}

static void
fuzz_result_free(struct fuzz_result *r)
{
	free(r->bytes);
	free(r->types);
}

static void
fuzz_result_add(struct fuzz_result *r, int type, const unsigned char *p, size_t n)
{
	memcpy(r->bytes + r->len, p, n);
	memset(r->types + r->len, type, n);
	r->len += n;
}

/* The whole stream at once, as docker-stream.h describes the framing. */
static void
fuzz_reference(
    const uint8_t *data, size_t size, size_t limit, int max_type, struct fuzz_result *r)
{
	const uint8_t *h;
	uint32_t len;
	size_t pos = 0, take;

	while (pos < size) {
		if (size - pos < DOCKER_STREAM_HEADER_SIZE) {
			r->end = FUZZ_END_MID_FRAME;
			pos = size;
			break;
		}
		h = data + pos;
		pos += DOCKER_STREAM_HEADER_SIZE;
		len = (uint32_t)h[4] << 24 | (uint32_t)h[5] << 16 | (uint32_t)h[6] << 8 |
		    h[7];
		if (h[0] > max_type || h[1] != 0 || h[2] != 0 || h[3] != 0 ||
		    len > limit) {
			r->end = FUZZ_END_ERROR;
			break;
		}
		take = size - pos < len ? size - pos : len;
		fuzz_result_add(r, h[0], data + pos, take);
		pos += take;
		if (take < len)
			r->end = FUZZ_END_MID_FRAME;
	}
	r->consumed = pos;
}

/* Feed one chunk; returns -1 once the demultiplexer has failed. */
static int
fuzz_chunk(struct docker_stream *s, const uint8_t *chunk, size_t n, size_t limit,
    struct fuzz_result *r)
{
	const unsigned char *payload;
	size_t off = 0, used, plen;
	char *cause = NULL;
	int rc, stream;

	for (;;) {
		rc = docker_stream_feed(
		    s, chunk + off, n - off, &used, &stream, &payload, &plen, &cause);
		if (used > n - off)
			abort();
		off += used;
		r->consumed += used;
		if (rc < 0) {
			if (cause == NULL)
				abort();
			free(cause);
			return -1;
		}
		if (cause != NULL)
			abort();
		if (rc == 0) {
			if (off != n)
				abort();
			return 0;
		}
		if (rc != 1 || plen == 0 || plen > limit || payload + plen != chunk + off)
			abort();
		fuzz_result_add(r, stream, payload, plen);
	}
}

/* The stream in the chunks the settings give. */
static void
fuzz_chunked(const uint8_t *data, size_t size, const uint8_t *sizes, size_t limit,
    int max_type, struct fuzz_result *r)
{
	struct docker_stream *s = docker_stream_new(limit);
	const unsigned char *payload;
	size_t pos = 0, n, used, plen;
	char *cause = NULL;
	int all_zero, stream, i = 0;

	if (max_type >= 0)
		docker_stream_allow_types(s, max_type);
	all_zero = sizes[0] == 0 && sizes[1] == 0 && sizes[2] == 0 && sizes[3] == 0;
	for (;;) {
		n = all_zero || sizes[i] == 255 ? size - pos : sizes[i];
		if (n > size - pos)
			n = size - pos;
		i = (i + 1) % 4;
		if (fuzz_chunk(s, data + pos, n, limit, r) != 0) {
			r->end = FUZZ_END_ERROR;
			/* Unusable from now on, and says so. */
			if (docker_stream_feed(s, data, size, &used, &stream, &payload,
				&plen, &cause) != -1 ||
			    used != 0 || cause == NULL)
				abort();
			free(cause);
			cause = NULL;
			break;
		}
		pos += n;
		if (pos == size)
			break;
	}
	if (docker_stream_eof(s, &cause) == 0) {
		if (r->end != FUZZ_END_CLEAN || cause != NULL)
			abort();
	} else {
		if (cause == NULL)
			abort();
		if (r->end == FUZZ_END_CLEAN)
			r->end = FUZZ_END_MID_FRAME;
		free(cause);
	}
	docker_stream_free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_result want, got;
	size_t limit;
	int max_type;

	if (size < FUZZ_SETTINGS)
		return 0;
	limit = fuzz_limits[data[0] & 7];
	max_type = fuzz_types[(data[0] >> 3) & 3];
	fuzz_result_init(&want, size);
	fuzz_result_init(&got, size);
	fuzz_reference(data + FUZZ_SETTINGS, size - FUZZ_SETTINGS, limit,
	    max_type < 0 ? DOCKER_STREAM_SYSTEMERR : max_type, &want);
	fuzz_chunked(
	    data + FUZZ_SETTINGS, size - FUZZ_SETTINGS, data + 1, limit, max_type, &got);
	if (got.end != want.end || got.consumed != want.consumed || got.len != want.len ||
	    memcmp(got.bytes, want.bytes, got.len) != 0 ||
	    memcmp(got.types, want.types, got.len) != 0)
		abort();
	fuzz_result_free(&want);
	fuzz_result_free(&got);
	return 0;
}
