/* test-sync-pace.c - unit tests for common/sync-pace.c: a two-way sync's
 * pause between idle pulls grows with the pull's cost (the agent busy at
 * most 1 / (1 + K) of the time), is never below the interval asked for,
 * is capped (a host change still comes back), and is the interval when
 * the agent has more to send. */
#include "test.h"

#include "sync-pace.h"

TEST(a_quick_pull_waits_the_interval)
{
	ASSERT_INT_EQ(sync_pace_pause_ms(1000, 0, 0), 1000);
	ASSERT_INT_EQ(sync_pace_pause_ms(1000, 131, 0), 1000);
	ASSERT_INT_EQ(sync_pace_pause_ms(1000, 250, 0), 1000);
	/* (a longer interval asked for is kept) */
	ASSERT_INT_EQ(sync_pace_pause_ms(5000, 1000, 0), 5000);
}

TEST(a_slow_pull_waits_k_times_its_duration)
{
	/* 100,000 files: a 3 s pull, then 12 s idle: 20 % busy */
	ASSERT_INT_EQ(sync_pace_pause_ms(1000, 3000, 0), 3000 * SYNC_PACE_K);
	ASSERT_INT_EQ(sync_pace_pause_ms(1000, 251, 0), 251 * SYNC_PACE_K);
	ASSERT_INT_EQ(SYNC_PACE_K, 4);
}

TEST(the_pause_is_capped)
{
	ASSERT_INT_EQ(sync_pace_pause_ms(1000, 7500, 0), SYNC_PACE_MAX_MS);
	ASSERT_INT_EQ(sync_pace_pause_ms(1000, 600000, 0), SYNC_PACE_MAX_MS);
	ASSERT_INT_EQ(sync_pace_pause_ms(1000, 1LL << 60, 0), SYNC_PACE_MAX_MS);
	/* (an interval asked for above the cap wins) */
	ASSERT_INT_EQ(sync_pace_pause_ms(60000, 20000, 0), 60000);
}

TEST(more_to_come_waits_only_the_interval)
{
	ASSERT_INT_EQ(sync_pace_pause_ms(1000, 5000, 1), 1000);
}
