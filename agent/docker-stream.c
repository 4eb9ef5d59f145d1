/* docker-stream.c - demultiplexer for Docker's attach/exec stream (see docker-stream.h).
 */
#include "docker-stream.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "xmalloc.h"

struct docker_stream {
	size_t max_frame;
	unsigned char header[DOCKER_STREAM_HEADER_SIZE];
	size_t have;	  /* header bytes collected */
	size_t remaining; /* payload bytes still to come of the current frame */
	int type;	  /* stream type of the current frame */
	int max_type;	  /* the highest stream type accepted */
	int failed;
};

struct docker_stream *
docker_stream_new(size_t max_frame)
{
	struct docker_stream *s = xcalloc(1, sizeof *s);

	s->max_frame = max_frame;
	s->max_type = DOCKER_STREAM_SYSTEMERR;
	return s;
}

void
docker_stream_allow_types(struct docker_stream *s, int max_type)
{
	s->max_type = max_type;
}

void
docker_stream_free(struct docker_stream *s)
{
	free(s);
}

/* A header is complete: check it and start its frame. */
static int
docker_stream_header(struct docker_stream *s, char **cause)
{
	const unsigned char *h = s->header;
	uint32_t size;

	if (h[0] > s->max_type) {
		s->failed = 1;
		return error_set(cause, "docker stream: unknown stream type %u", h[0]);
	}
	if (h[1] != 0 || h[2] != 0 || h[3] != 0) {
		s->failed = 1;
		return error_set(cause, "docker stream: malformed frame header");
	}
	size = (uint32_t)h[4] << 24 | (uint32_t)h[5] << 16 | (uint32_t)h[6] << 8 | h[7];
	if (size > s->max_frame) {
		s->failed = 1;
		return error_set(cause,
		    "docker stream: frame of %lu bytes exceeds the limit of %zu",
		    (unsigned long)size, s->max_frame);
	}
	s->type = h[0];
	s->remaining = size;
	s->have = 0;
	return 0;
}

int
docker_stream_feed(struct docker_stream *s, const void *data, size_t len, size_t *used,
    int *stream, const unsigned char **payload, size_t *payload_len, char **cause)
{
	const unsigned char *p = data;
	size_t n;

	*used = 0;
	if (s->failed)
		return error_set(cause, "docker stream: used after an error");
	for (;;) {
		if (s->remaining > 0) {
			if (*used == len)
				return 0;
			n = len - *used < s->remaining ? len - *used : s->remaining;
			*stream = s->type;
			*payload = p + *used;
			*payload_len = n;
			s->remaining -= n;
			*used += n;
			return 1;
		}
		if (*used == len)
			return 0;
		n = DOCKER_STREAM_HEADER_SIZE - s->have;
		if (n > len - *used)
			n = len - *used;
		memcpy(s->header + s->have, p + *used, n);
		s->have += n;
		*used += n;
		if (s->have == DOCKER_STREAM_HEADER_SIZE &&
		    docker_stream_header(s, cause) != 0)
			return -1;
	}
}

int
docker_stream_eof(const struct docker_stream *s, char **cause)
{
	if (s->failed)
		return error_set(cause, "docker stream: used after an error");
	if (s->have != 0 || s->remaining != 0)
		return error_set(cause, "docker stream: ended in the middle of a frame");
	return 0;
}
