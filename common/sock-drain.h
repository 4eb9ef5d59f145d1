/* sock-drain.h - a TCP reset passed on once the socket has sent what it
 * holds. A reset (a close with SO_LINGER 0) throws away what its socket has
 * not sent yet, so a connection reset at one end is reset at the other only
 * after the bytes before the reset left: the wait counts the bytes still to
 * go (the caller's own, plus the socket's send queue), looked at each
 * SOCK_DRAIN_POLL_MS by the caller, and gives up once they have not gone
 * down for SOCK_DRAIN_STALL_MS (a peer that does not read is not kept).
 *
 * No clock, no event loop, no allocation, libc only: the agent's streams
 * (serve-mux.c), the broker's links (host-link.c, local-link.c) and the
 * container relay, built apart with musl (relay-pipe.c), share it. */
#ifndef RDEV_SOCK_DRAIN_H
#define RDEV_SOCK_DRAIN_H

#include <stddef.h>

/* How often a caller looks (nothing announces that a send queue emptied),
 * and how long bytes that do not go down are waited for. */
#define SOCK_DRAIN_POLL_MS 10
#define SOCK_DRAIN_STALL_MS 2000

enum sock_drain_result {
	SOCK_DRAIN_DONE,    /* nothing left: reset now */
	SOCK_DRAIN_WAIT,    /* bytes left, still going (or not for long): look again */
	SOCK_DRAIN_STALLED, /* bytes left that stopped going down: reset anyway */
};

/* One wait. Zeroed, it has not started: its first step starts it (its
 * stall time counts from then). */
struct sock_drain {
	size_t last_left;   /* bytes left at the last step; 0: not started */
	long long deadline; /* stalled from then (ms), unless they go down first */
};

/* The bytes fd's kernel send queue holds that its peer has not acknowledged
 * (SIOCOUTQ); 0 for fd < 0, or when it cannot say (not a socket). */
size_t sock_drain_unsent(int fd);

/* The bytes fd's kernel receive queue holds that were not read (SIOCINQ):
 * after a peer's reset, what it sent before, still readable; 0 for fd < 0,
 * or when it cannot say. */
size_t sock_drain_unread(int fd);

/* One look at d, at now (ms, a monotonic clock): held (the caller's bytes
 * that still go to fd, or to whatever it waits for) plus what fd's send
 * queue holds (none for fd < 0). Bytes that went down put the stall off. */
enum sock_drain_result sock_drain_step(
    struct sock_drain *d, int fd, size_t held, long long now);

/* Make fd's close a TCP reset (SO_LINGER 0) rather than a FIN. 0, or -1 with
 * errno. */
int sock_drain_reset_at_close(int fd);

#endif
