/* sync-pace.c - a two-way sync's pause between idle pulls (sync-pace.h). */
#include "sync-pace.h"

long long
sync_pace_pause_ms(long long base_ms, long long pull_ms, int more)
{
	long long pause;

	if (more || pull_ms <= 0)
		return base_ms;
	/* (the product overflows never: pull_ms is capped first) */
	pause = (pull_ms > SYNC_PACE_MAX_MS ? SYNC_PACE_MAX_MS : pull_ms) * SYNC_PACE_K;
	if (pause > SYNC_PACE_MAX_MS)
		pause = SYNC_PACE_MAX_MS;
	return pause > base_ms ? pause : base_ms;
}
