/* docker-stream.h - demultiplexer for Docker's attach/exec stream (pure).
 *
 * Without a TTY, Docker multiplexes a process's output on one connection as
 * frames: an 8-byte header [stream type, 0, 0, 0, payload size as a 32-bit
 * big-endian integer] and then the payload. Stream types are 0 (stdin,
 * written back by some daemons), 1 (stdout), 2 (stderr) and 3 (a message from
 * the daemon itself, "systemerr"). The demultiplexer takes bytes as they
 * arrive and hands back payload pieces as they arrive, without waiting for a
 * whole frame and without copying.
 *
 * docker_stream_new() pairs with docker_stream_free(); docker_stream_free(NULL)
 * is a no-op.
 */
#ifndef RDEV_DOCKER_STREAM_H
#define RDEV_DOCKER_STREAM_H

#include <stddef.h>

#define DOCKER_STREAM_HEADER_SIZE 8
/* The frame bound the Docker client uses (the daemon writes at most 32 KiB). */
#define DOCKER_STREAM_MAX_FRAME (16 * 1024 * 1024)

enum docker_stream_type {
	DOCKER_STREAM_STDIN = 0,
	DOCKER_STREAM_STDOUT = 1,
	DOCKER_STREAM_STDERR = 2,
	DOCKER_STREAM_SYSTEMERR = 3,
};

struct docker_stream;

/* A demultiplexer rejecting frames with a payload over max_frame bytes. */
struct docker_stream *docker_stream_new(size_t max_frame);
void docker_stream_free(struct docker_stream *s);
/* Accept stream types up to max_type (other protocols in the same frames,
 * such as rdev-relay's exec; exec-relay.h). */
void docker_stream_allow_types(struct docker_stream *s, int max_type);

/* Demultiplex from data[0..len). Returns 1 with a non-empty piece of a frame's
 * payload in *payload (*payload_len bytes) (borrowed: points into data) and its
 * stream type in *stream; 0 when all the input was consumed without
 * completing a piece (feed more); -1 on a malformed header (unknown stream
 * type, non-zero padding) or an oversize frame, with a message in *cause
 * (the caller frees it); the demultiplexer is then unusable. *used always
 * gets the number of bytes consumed; feed data + *used again after a piece.
 * Empty frames produce no piece. */
int docker_stream_feed(struct docker_stream *s, const void *data, size_t len,
    size_t *used, int *stream, const unsigned char **payload, size_t *payload_len,
    char **cause);
/* The stream ended. Returns 0 if it ended between frames, -1 with *cause
 * if in the middle of a header or payload. */
int docker_stream_eof(const struct docker_stream *s, char **cause);

#endif
