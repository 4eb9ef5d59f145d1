/* sync-pace.h - how long a two-way sync waits, while nothing changes on
 * either side, before it asks the host for its changes again (docs/SYNC.md,
 * "Two-way"). Shared by the broker's kept sync and `rdev sync --watch`.
 * Pure: durations in, a pause out. */
#ifndef RDEV_SYNC_PACE_H
#define RDEV_SYNC_PACE_H

/* The pause is this many times the last pull's duration (when longer than
 * the interval asked for): the agent's scan then runs at most
 * 1 / (1 + SYNC_PACE_K) of the time, 20 % of one core (its worker is one
 * thread) whatever the tree's size. 4 rather than more so that a host
 * change on a big tree still comes back in seconds (a 3 s pull of 100,000
 * files: a 12 s pause). */
#define SYNC_PACE_K 4
/* The longest pause: a host change comes back within this plus one pull,
 * however slow the pull (a huge tree, a loaded host). */
#define SYNC_PACE_MAX_MS 30000

/* The pause from the end of a pull that took pull_ms (the last
 * "sync-pull" request's, to its answer applied) to the start of the next
 * idle one: base_ms (the interval asked for), or SYNC_PACE_K times pull_ms
 * when that is longer, at most SYNC_PACE_MAX_MS (never below base_ms).
 * more: the agent has more to send, so base_ms (the time went on moving
 * files, not on scanning, and the rest should follow). */
long long sync_pace_pause_ms(long long base_ms, long long pull_ms, int more);

#endif
