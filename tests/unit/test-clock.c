/* test-clock.c - unit tests for common/clock.c */
#include "test.h"

#include <time.h>

#include "clock.h"

TEST(never_goes_back_and_counts_milliseconds)
{
	struct timespec nap = { 0, 30 * 1000000L };
	long long a, b, c;

	a = clock_now_ms();
	b = clock_now_ms();
	ASSERT_TRUE(b >= a);
	nanosleep(&nap, NULL);
	c = clock_now_ms();
	/* 30 ms asleep: at least 30 ms on, and not seconds (not µs or s units) */
	ASSERT_TRUE(c - b >= 30);
	ASSERT_TRUE(c - b < 5000);
}
