/* chan-window.c - receive window sizes for the channels the broker reads
 * (chan-window.h). */
#include "chan-window.h"

void
chan_window_init(struct chan_window *w)
{
	w->size = CHAN_WINDOW_START;
	w->since_grant = 0;
	w->since_grow = 0;
}

void
chan_window_delivered(struct chan_window *w, size_t n, int keeping_up)
{
	w->since_grant += n;
	/* A client that falls behind once starts the count again: the window
	 * grows for a path that is long, not for a reader that is slow. */
	w->since_grow = keeping_up ? w->since_grow + n : 0;
}

uint32_t
chan_window_due(struct chan_window *w)
{
	if (w->since_grant < w->size / 2)
		return 0;
	if (w->since_grow >= w->size && w->size < CHAN_WINDOW_MAX) {
		w->size = w->size > CHAN_WINDOW_MAX / 2 ? CHAN_WINDOW_MAX : w->size * 2;
		w->since_grow = 0;
	}
	w->since_grant = 0;
	return w->size;
}
