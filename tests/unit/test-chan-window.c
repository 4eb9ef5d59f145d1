/* test-chan-window.c - unit tests for broker/chan-window.c */
#include "test.h"

#include "chan-window.h"

/* Deliver n bytes in 32 KiB packets (as sshd sends them), topping up as
 * the link does; the number of top-ups. */
static int
deliver(struct chan_window *w, size_t n, int keeping_up, uint32_t *last)
{
	int topups = 0;
	uint32_t due;

	while (n > 0) {
		size_t k = n < 32768 ? n : 32768;
		chan_window_delivered(w, k, keeping_up);
		n -= k;
		if ((due = chan_window_due(w)) > 0) {
			topups++;
			*last = due;
		}
	}
	return topups;
}

/* The window's size after n bytes delivered to a fresh channel. */
static uint32_t
size_after(size_t n, int keeping_up)
{
	struct chan_window w;
	uint32_t last = 0;

	chan_window_init(&w);
	deliver(&w, n, keeping_up, &last);
	return w.size;
}

TEST(starts_at_libssh_size_and_tops_up_at_half)
{
	struct chan_window w;
	uint32_t last = 0;

	chan_window_init(&w);
	ASSERT_INT_EQ(w.size, CHAN_WINDOW_START);
	ASSERT_INT_EQ(chan_window_due(&w), 0);
	/* less than half: nothing due */
	ASSERT_INT_EQ(deliver(&w, CHAN_WINDOW_START / 2 - 32768, 0, &last), 0);
	ASSERT_INT_EQ(deliver(&w, 32768, 0, &last), 1);
	ASSERT_INT_EQ(last, CHAN_WINDOW_START);
}

TEST(grows_for_a_client_that_keeps_up_until_the_cap)
{
	/* 100 MB to a fast reader: the window reaches the cap, and stays */
	ASSERT_INT_EQ(size_after(100000000, 1), CHAN_WINDOW_MAX);
	/* within the first ~20 MB already (1.28 + 2.56 + 5.12 + 10.24 MB) */
	ASSERT_INT_EQ(size_after(20000000, 1), CHAN_WINDOW_MAX);
	/* doubling: 1.28 MB delivered -> 2.56, 3.84 MB -> 5.12 */
	ASSERT_INT_EQ(size_after(5000000, 1), 4 * CHAN_WINDOW_START);
}

TEST(a_slow_client_earns_no_growth)
{
	struct chan_window w;
	uint32_t last = 0;
	int i;

	ASSERT_INT_EQ(size_after(100000000, 0), CHAN_WINDOW_START);
	/* falling behind now and then restarts the count: 1 MB kept up with,
	 * then one packet behind, a hundred times */
	chan_window_init(&w);
	for (i = 0; i < 100; i++) {
		deliver(&w, 1000000, 1, &last);
		deliver(&w, 32768, 0, &last);
	}
	ASSERT_INT_EQ(w.size, CHAN_WINDOW_START);
}

TEST(top_ups_are_one_per_half_window)
{
	struct chan_window w;
	uint32_t last = 0;
	int n;

	chan_window_init(&w);
	deliver(&w, 30000000, 1, &last); /* at the cap */
	n = deliver(&w, 40u << 20, 1, &last);
	/* 40 MiB at 4 MiB per top-up */
	ASSERT_INT_EQ(n, 10);
}
