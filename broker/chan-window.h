/* chan-window.h - how large a receive window rdev keeps on a channel it
 * reads (host-link.c), and when to top it up. Pure: no libssh, no I/O.
 *
 * The peer may send as much as the window allows before our WINDOW_ADJUST
 * comes back, so one channel carries at most window / RTT (docs/SSH-WINDOWS.md).
 * libssh 0.10 keeps every channel at 1.28 MB and tops it up only once it is
 * below half of that: 640 KB per round trip, 16 MB/s at 40 ms. Here a window
 * starts at that size and doubles, up to CHAN_WINDOW_MAX, each time a whole
 * window's worth was delivered with the client keeping up (the link's buffer
 * never filled: a bulk transfer to a fast reader); it is topped up to its size
 * each time half of it was delivered. Bytes that wait for a slow client are
 * not delivered, so they earn no new window: what the broker holds for a
 * channel stays below its window plus the link's buffer.
 *
 * Ownership: a plain struct inside its link. */
#ifndef RDEV_CHAN_WINDOW_H
#define RDEV_CHAN_WINDOW_H

#include <stddef.h>
#include <stdint.h>

#define CHAN_WINDOW_START 1280000u /* libssh 0.10's own (channels.c WINDOWBASE) */
#define CHAN_WINDOW_MAX (8u << 20)

struct chan_window {
	uint32_t size;	      /* what the channel is topped up to */
	uint64_t since_grant; /* delivered since the last top-up */
	uint64_t since_grow;  /* delivered at this size, the client keeping up */
};

void chan_window_init(struct chan_window *w);
/* n bytes of the channel's data were delivered to the client; keeping_up:
 * no data waited for room (the link's buffer is not full). */
void chan_window_delivered(struct chan_window *w, size_t n, int keeping_up);
/* The size to top the window up to now (the caller asks libssh for it), or
 * 0 when no top-up is due. Counts the top-up as done. */
uint32_t chan_window_due(struct chan_window *w);

#endif
