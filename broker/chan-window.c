/* chan-window.c - receive window sizes for the channels the broker reads
 * (chan-window.h). */
#include "chan-window.h"

void
chan_window_init(struct chan_window *w, long long now_us)
{
	w->size = w->before = CHAN_WINDOW_START;
	w->settled = 0;
	w->since_grant = 0;
	w->since_grow = 0;
	w->grow_us = now_us;
	w->rate = w->measured = 0;
	w->warm = 0;
}

void
chan_window_delivered(struct chan_window *w, size_t n, long long now_us)
{
	w->since_grant += n;
	/* The count's clock starts with its first bytes, not with the channel's
	 * open (a request's round trip is not a rate). */
	if (w->since_grow == 0)
		w->grow_us = now_us;
	w->since_grow += n;
}

/* Enough was delivered at this size: double the
 * window if the last doubling paid (or a settled window is due to try again),
 * else go back to the size before and settle. */
static void
chan_window_judge(struct chan_window *w, long long now_us)
{
	long long us = now_us - w->grow_us;
	uint64_t rate = w->since_grow * 1000000u / (uint64_t)(us > 0 ? us : 1);

	w->measured = rate;
	if (!w->warm) {
		/* the first windows carry the connection's start (TCP's slow
		 * start, the server's first write): not the size's rate */
		w->warm = 1;
		w->since_grow = 0;
		return;
	}
	if (!w->settled && w->rate != 0 &&
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
	w->since_grow = 0;
	w->grow_us = now_us;
}

uint32_t
chan_window_due(struct chan_window *w, long long now_us)
{
	uint64_t judge_at = (uint64_t)w->size *
	    (w->settled ? CHAN_WINDOW_RETRY_WINDOWS : CHAN_WINDOW_JUDGE_WINDOWS);

	if (w->since_grant < w->size / CHAN_WINDOW_TOPUP_PARTS)
		return 0;
	if (w->since_grow >= judge_at)
		chan_window_judge(w, now_us);
	w->since_grant = 0;
	return w->size;
}
