/* chan-window.h - how large a receive window rdev keeps on a channel it
 * reads (host-link.c), and when to top it up. Pure: no libssh, no I/O; the
 * caller passes the time.
 *
 * The peer may send as much as the window allows before our WINDOW_ADJUST
 * comes back, so one channel carries at most window / RTT (docs/SSH-WINDOWS.md).
 * libssh 0.10 opens every channel with 64,000 bytes, keeps it at 1.28 MB and
 * tops it up only once it is below half of that: 640 KB per round trip,
 * 16 MB/s at 40 ms. Here a window starts at OpenSSH's 2 MiB and an eighth
 * (CHAN_WINDOW_START), granted at once when the channel opens (the first
 * chan_window_due: before any data, so the peer has at least what `ssh -L`
 * gives sshd, from its first byte), and
 * doubles, up to CHAN_WINDOW_MAX, each time two windows' worth were
 * received and the last doubling paid:
 * those came at least 1.25 times as fast as at half the size (the first
 * doubling is always tried, after two windows' worth that are not judged:
 * a connection's start is not a rate). When they did not (a short path, or a client
 * slower than the path: the window was not the limit), the window goes back
 * to the size before and stays there, trying again after 16 windows' worth:
 * a channel's window is what its path needs, not the most it may have (at
 * 0 ms an 8 MiB window made some downloads several times slower,
 * docs/SSH-WINDOWS.md). A rate is of bytes received from the peer
 * (delivered plus what the link holds) over a span whose clock runs from
 * one judgement to the next, in whole windows: over a real link the bytes
 * come in bursts, a window's worth a round trip, and a clock that started
 * at the first byte after a judgement left out the gap before it (up to 2x
 * too fast). After a doubling the clock starts once the old size's worth
 * has come (in flight on the old credit: timed with it, 2.56 MB at 80 ms
 * looked 1.35x 1.28 MB, not 2x, near the 1.25x that settles a window
 * back; docs/SSH-WINDOWS.md, "The rate check that settled low"). It is
 * topped up to its size each time an eighth of it was delivered
 * (CHAN_WINDOW_TOPUP_PARTS): topped up only at half, the
 * peer sent half a window, waited for the adjust a round trip, and about
 * half the window was in flight (docs/SSH-WINDOWS.md, "Where the rest of
 * the window went"). Bytes that wait for a slow client are not delivered, so
 * they earn no new window from here: what the broker holds for a channel
 * stays below its window plus the link's buffer, plus the 1.28 MB libssh
 * 0.10 grants itself at a read (host_link_pump).
 *
 * Ownership: a plain struct inside its link. */
#ifndef RDEV_CHAN_WINDOW_H
#define RDEV_CHAN_WINDOW_H

#include <stddef.h>
#include <stdint.h>

/* What libssh 0.10's channel opens announce (channels.c
 * CHANNEL_INITIAL_WINDOW): the peer's credit until the first top-up. */
#define CHAN_WINDOW_OPEN 64000u
/* OpenSSH's CHAN_TCP_WINDOW_DEFAULT and CHAN_SES_WINDOW_DEFAULT (64 x
 * 32 KiB): what `ssh -L` announces at the open; libssh 0.10's own is
 * 1.28 MB (channels.c WINDOWBASE), 0.11's 2 MiB. */
#define CHAN_WINDOW_OPENSSH 2097152u
/* A window starts at OpenSSH's plus an eighth: OpenSSH tops up every
 * four packets (128 KiB), rdev every eighth of the window, so with the
 * same size the peer would have up to 128 KiB less credit than with
 * `ssh -L` (at 20 ms a 4 MiB download came 0.1 ms later); with an
 * eighth more it never has less: 7/8 x 2.25 MiB = 1.97 MiB against
 * 2 MiB - 128 KiB = 1.88. */
#define CHAN_WINDOW_START (CHAN_WINDOW_OPENSSH / 8 * 9)
#define CHAN_WINDOW_MAX (8u << 20)
/* The window is topped up each time 1/this of it was delivered, so what
 * the peer may send never falls below 7/8 of it less what is in flight
 * (libssh 0.10 tops up at half; OpenSSH after three packets). */
#define CHAN_WINDOW_TOPUP_PARTS 8
/* A doubled window must carry this much faster (in 1/4: 5/4 = 1.25x) to be
 * kept: a window-bound channel goes nearly 2x, a CPU-bound one about 1x. */
#define CHAN_WINDOW_GAIN_QUARTERS 5
/* A size's rate is taken over this many of its windows (the first round
 * trip after a change still runs on the old credit, and a busy machine's
 * pauses weigh less over more) ... */
#define CHAN_WINDOW_JUDGE_WINDOWS 2
/* ... and a settled window tries doubling again after this many (a
 * judgement the machine's load got wrong is not for ever). */
#define CHAN_WINDOW_RETRY_WINDOWS 16

struct chan_window {
	uint32_t size;	      /* what the channel is topped up to */
	uint32_t before;      /* its size before the last doubling */
	int granted;	      /* the first top-up (at the open) was given */
	int warm;	      /* the first two windows were let pass */
	int settled;	      /* a doubling did not pay (or the cap): stay */
	int clock;	      /* the span's clock runs (from clock_at, grow_us) */
	uint64_t since_grant; /* delivered since the last top-up */
	uint64_t delivered;   /* delivered in all */
	uint64_t clock_from;  /* until this is received, the clock waits */
	uint64_t clock_at;    /* received when the clock started */
	long long grow_us;    /* when it started */
	uint64_t rate;	      /* bytes/s at the size before (0: none yet) */
	uint64_t measured;    /* bytes/s in the last judgement (for logs) */
};

/* now_us: a monotonic time in microseconds (clock_now_us). */
void chan_window_init(struct chan_window *w, long long now_us);
/* n bytes of the channel's data were delivered to the client. */
void chan_window_delivered(struct chan_window *w, size_t n, long long now_us);
/* The size to top the window up to now (the caller asks libssh for it), or
 * 0 when no top-up is due: the first call always gets the size (called as
 * the channel opens, it raises the open's CHAN_WINDOW_OPEN to
 * CHAN_WINDOW_START before any data), then once an eighth of it was
 * delivered. Counts the top-up as done. held: the channel's
 * bytes received and not yet delivered (the link's buffer; called while
 * libssh holds none of them). */
uint32_t chan_window_due(struct chan_window *w, size_t held, long long now_us);

#endif
