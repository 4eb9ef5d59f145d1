/* test-clock.c - unit tests for common/clock.c */
#include "test.h"

#include <stdlib.h>
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

/* A test setting of a product wait: the value when a whole positive number
 * of ms, the default for anything else (a typo must not make it 0). */
TEST(env_ms_takes_a_positive_number_else_the_default)
{
	unsetenv("RDEV_TEST_CLOCK_MS");
	ASSERT_INT_EQ(clock_env_ms("RDEV_TEST_CLOCK_MS", 5000), 5000);
	setenv("RDEV_TEST_CLOCK_MS", "1500", 1);
	ASSERT_INT_EQ(clock_env_ms("RDEV_TEST_CLOCK_MS", 5000), 1500);
	setenv("RDEV_TEST_CLOCK_MS", "", 1);
	ASSERT_INT_EQ(clock_env_ms("RDEV_TEST_CLOCK_MS", 5000), 5000);
	setenv("RDEV_TEST_CLOCK_MS", "0", 1);
	ASSERT_INT_EQ(clock_env_ms("RDEV_TEST_CLOCK_MS", 5000), 5000);
	setenv("RDEV_TEST_CLOCK_MS", "-3", 1);
	ASSERT_INT_EQ(clock_env_ms("RDEV_TEST_CLOCK_MS", 5000), 5000);
	setenv("RDEV_TEST_CLOCK_MS", "2s", 1);
	ASSERT_INT_EQ(clock_env_ms("RDEV_TEST_CLOCK_MS", 5000), 5000);
	setenv("RDEV_TEST_CLOCK_MS", "99999999999", 1);
	ASSERT_INT_EQ(clock_env_ms("RDEV_TEST_CLOCK_MS", 5000), 5000);
	unsetenv("RDEV_TEST_CLOCK_MS");
}

/* A wait as messages say it: a test setting of 4500 ms must not read "4 s". */
TEST(ms_text_says_tenths_and_milliseconds)
{
	static const struct {
		int ms;
		const char *text;
	} cases[] = {
		{ 5000, "5 s" },
		{ 4500, "4.5 s" },
		{ 1050, "1 s" },
		{ 999, "999 ms" },
		{ 60000, "60 s" },
	};
	char buf[32];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		clock_ms_text(cases[i].ms, buf, sizeof buf);
		ASSERT_STR_EQ(buf, cases[i].text);
	}
}
