/* chan-window.c - receive window sizes for the channels the broker reads
 * (chan-window.h). */
#include "chan-window.h"

void
chan_window_init(struct chan_window *w, long long now_us)
{
	w->size = w->before = CHAN_WINDOW_START;
	w->settled = 0;
	w->granted = 0;
	w->warm = 0;
	w->clock = 0;
	w->since_grant = 0;
	w->delivered = 0;
	w->clock_from = w->clock_at = 0;
	w->grow_us = now_us;
	w->rate = w->measured = 0;
}

void
chan_window_delivered(struct chan_window *w, size_t n, long long now_us)
{
	(void)now_us;
	w->since_grant += n;
	w->delivered += n;
}

/* Enough was received at this size: double the window if the last doubling
 * paid (or a settled window is due to try again), else go back to the size
 * before and settle. received: the count now. */
static void
chan_window_judge(struct chan_window *w, uint64_t received, long long now_us)
{
	long long us = now_us - w->grow_us;
	uint64_t rate = (received - w->clock_at) * 1000000u / (uint64_t)(us > 0 ? us : 1);
	uint32_t was = w->size;

	w->measured = rate;
	if (!w->warm) {
		/* the first windows carry the connection's start (TCP's slow
		 * start, the server's first write): not the size's rate */
		w->warm = 1;
	} else if (!w->settled && w->rate != 0 &&
	    rate * 4 < w->rate * CHAN_WINDOW_GAIN_QUARTERS) {
		w->size = w->before;
		w->settled = 1;
	} else if (w->size < CHAN_WINDOW_MAX) {
		w->before = w->size;
		w->size = w->size > CHAN_WINDOW_MAX / 2 ? CHAN_WINDOW_MAX : w->size * 2;
		w->rate = rate;
		w->settled = 0;
	} else
		w->settled = 1;
	/* The next span: from now, but after a doubling only once the old
	 * size's worth has come (it was in flight on the old credit: the new
	 * size does not carry it yet). A span is whole windows: the peer's
	 * bytes come in bursts, a window's worth a round trip, and a span of
	 * one and a half would hold one gap for two bursts. */
	w->clock = 0;
	w->clock_from = received + (w->size > was ? was : 0);
}

uint32_t
chan_window_due(struct chan_window *w, size_t held, long long now_us)
{
	uint64_t received = w->delivered + held;
	uint64_t judge_at = (uint64_t)w->size *
	    (w->settled ? CHAN_WINDOW_RETRY_WINDOWS : CHAN_WINDOW_JUDGE_WINDOWS);

	/* The clock starts here, not at a delivery: a span is received bytes
	 * over the time they took, a client's pause included (the first
	 * span's clock, the connection's start, is not judged). */
	if (!w->clock && received >= w->clock_from && received > 0) {
		w->clock = 1;
		w->clock_at = received;
		w->grow_us = now_us;
	}
	if (!w->granted) {
		/* the open announced libssh's CHAN_WINDOW_OPEN: the size now,
		 * not after an eighth of it (64 KB the first round trip, then
		 * 1.28 MB a round trip when libssh grew it itself) */
		w->granted = 1;
		w->since_grant = 0;
		return w->size;
	}
	if (w->since_grant < w->size / CHAN_WINDOW_TOPUP_PARTS)
		return 0;
	if (w->clock && received - w->clock_at >= judge_at)
		chan_window_judge(w, received, now_us);
	w->since_grant = 0;
	return w->size;
}
