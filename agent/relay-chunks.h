/* relay-chunks.h - reading what `rdev-relay --connect PORT` writes on its
 * stdout (relay/relay-stdio.c, docs/PROTOCOL.md "The container relay"): one
 * status byte (0 connected, 1 refused, 2 another error), then chunks of a
 * u32 big-endian length and that many bytes of the server's output, an empty
 * chunk being the server's end of sending (its half close).
 *
 * Pure: no I/O. A struct relay_chunks is plain data the caller embeds,
 * zeroed to start.
 */
#ifndef RDEV_RELAY_CHUNKS_H
#define RDEV_RELAY_CHUNKS_H

#include <stddef.h>

/* A chunk's most bytes (the relay's reads are at most 64 KiB). */
#define RELAY_CHUNKS_MAX (1u << 20)

struct relay_chunks {
	int have_status;
	unsigned char status;
	unsigned char hdr[4];
	size_t hlen; /* bytes of the current chunk's length read */
	size_t left; /* bytes of the current chunk still to come */
	int ended;   /* the empty chunk came */
};

enum relay_chunks_what {
	RELAY_CHUNKS_MORE = 0,	 /* everything fed was consumed */
	RELAY_CHUNKS_STATUS = 1, /* the status byte: c->status */
	RELAY_CHUNKS_DATA = 2,	 /* a piece of the server's output */
	RELAY_CHUNKS_END = 3,	 /* the server ended its sending */
	RELAY_CHUNKS_BAD = -1,	 /* bytes after the end, or a chunk too large */
};

/* Read from data (len bytes): what came first, with *used the bytes
 * consumed; for RELAY_CHUNKS_DATA, *piece (borrowed from data) and *plen.
 * Call again with the rest until RELAY_CHUNKS_MORE. */
enum relay_chunks_what relay_chunks_feed(struct relay_chunks *c,
    const unsigned char *data, size_t len, size_t *used, const unsigned char **piece,
    size_t *plen);

#endif
