/* test-chan-window.c - unit tests for broker/chan-window.c */
#include "test.h"

#include "chan-window.h"

/* A path as the window sees it: each 32 KiB packet takes the time the
 * slower of two limits allows: the window (at most the window per round
 * trip, rtt_us) or the rest of the machine (max_rate bytes/s; 0: none). */
struct path {
	long long now_us;
	long long rtt_us;
	uint64_t max_rate;
	uint32_t largest;  /* the largest window seen */
	uint64_t at_start; /* bytes delivered at CHAN_WINDOW_START */
};

static void
path_step(struct path *p, const struct chan_window *w, size_t k)
{
	uint64_t rate =
	    p->rtt_us > 0 ? (uint64_t)w->size * 1000000u / (uint64_t)p->rtt_us : 0;

	if (p->max_rate != 0 && (rate == 0 || p->max_rate < rate))
		rate = p->max_rate;
	p->now_us += rate != 0 ? (long long)(k * 1000000u / rate) : 1;
	if (w->size > p->largest)
		p->largest = w->size;
	if (w->size == CHAN_WINDOW_START)
		p->at_start += k;
}

/* Deliver n bytes over p in 32 KiB packets (as sshd sends them), topping
 * up as the link does; the number of top-ups. */
static int
deliver(struct chan_window *w, struct path *p, size_t n, uint32_t *last)
{
	int topups = 0;
	uint32_t due;

	while (n > 0) {
		size_t k = n < 32768 ? n : 32768;
		path_step(p, w, k);
		chan_window_delivered(w, k, p->now_us);
		n -= k;
		if ((due = chan_window_due(w, p->now_us)) > 0) {
			topups++;
			*last = due;
		}
	}
	return topups;
}

/* The window's size after n bytes delivered to a fresh channel over a path
 * of rtt_ms whose machine carries at most max_mbs MB/s (0: no limit); *pp
 * (if not NULL) gets the path. */
static uint32_t
size_on(size_t n, int rtt_ms, int max_mbs, struct path *pp)
{
	struct path p = { 1000000, (long long)rtt_ms * 1000, (uint64_t)max_mbs * 1000000,
		0, 0 };
	struct chan_window w;
	uint32_t last = 0;

	chan_window_init(&w, p.now_us);
	deliver(&w, &p, n, &last);
	if (pp != NULL)
		*pp = p;
	return w.size;
}

static uint32_t
size_after(size_t n, int rtt_ms, int max_mbs)
{
	return size_on(n, rtt_ms, max_mbs, NULL);
}

TEST(starts_at_libssh_size_and_tops_up_at_an_eighth)
{
	struct path p = { 1000000, 40000, 0, 0, 0 };
	struct chan_window w;
	uint32_t last = 0;

	chan_window_init(&w, p.now_us);
	ASSERT_INT_EQ(w.size, CHAN_WINDOW_START);
	ASSERT_INT_EQ(chan_window_due(&w, p.now_us), 0);
	/* less than an eighth (160,000 bytes): nothing due */
	ASSERT_INT_EQ(deliver(&w, &p, 4 * 32768, &last), 0);
	ASSERT_INT_EQ(deliver(&w, &p, 32768, &last), 1);
	ASSERT_INT_EQ(last, CHAN_WINDOW_START);
}

TEST(grows_while_the_window_is_the_limit_until_the_cap)
{
	/* 100 MB at 40 ms to a fast reader: the window reaches the cap, and
	 * stays */
	ASSERT_INT_EQ(size_after(100000000, 40, 0), CHAN_WINDOW_MAX);
	/* within the first ~21 MB already (two windows at each size, and two
	 * more at the start: 2.56 + 2.56 + 5.12 + 10.24 MB) */
	ASSERT_INT_EQ(size_after(21000000, 40, 0), CHAN_WINDOW_MAX);
	/* doubling: 5.12 MB delivered -> 2.56, 10.24 MB -> 5.12 */
	ASSERT_INT_EQ(size_after(5000000, 40, 0), CHAN_WINDOW_START);
	ASSERT_INT_EQ(size_after(6000000, 40, 0), 2 * CHAN_WINDOW_START);
	ASSERT_INT_EQ(size_after(11000000, 40, 0), 4 * CHAN_WINDOW_START);
	ASSERT_INT_EQ(size_after(100000000, 80, 500), CHAN_WINDOW_MAX);
}

TEST(a_short_path_keeps_the_first_window)
{
	struct path p;
	int ms;

	/* At 0 ms the machine is the limit: the doubling to 2.56 MB carries
	 * no faster, so the window goes back to 1.28 MB, and tries 2.56 again
	 * now and then (after 16 windows), never more; at 1 ms and 300 MB/s
	 * 1.28 MB a round trip is more than the path needs, too. */
	for (ms = 0; ms <= 1; ms++) {
		size_on(100000000, ms, 300, &p);
		ASSERT_INT_EQ(p.largest, 2 * CHAN_WINDOW_START);
		ASSERT_TRUE(p.at_start >= 70000000);
	}
}

TEST(growth_stops_where_it_stops_paying)
{
	struct path p;

	/* 40 ms, a machine that carries 100 MB/s: 1.28 MB/40 ms = 32 MB/s,
	 * 2.56 -> 64, 5.12 -> 100 (1.56x, kept), 8 MiB -> 100 (no more):
	 * back to 5.12 MB */
	ASSERT_INT_EQ(size_after(100000000, 40, 100), 4 * CHAN_WINDOW_START);
	/* 40 ms, 50 MB/s: 32 -> 50 (1.56x, kept) -> 50: back to 2.56 MB */
	ASSERT_INT_EQ(size_after(100000000, 40, 50), 2 * CHAN_WINDOW_START);
	/* ... and tries 5.12 MB again now and then, never 8 MiB */
	size_on(300000000, 40, 50, &p);
	ASSERT_INT_EQ(p.largest, 4 * CHAN_WINDOW_START);
}

TEST(a_slow_client_earns_no_growth)
{
	struct path p;

	/* A client that takes 5 MB/s at 40 ms: the first doubling does not
	 * pay, the window goes back to 1.28 MB and tries 2.56 now and then */
	ASSERT_INT_EQ(size_on(100000000, 40, 5, &p), CHAN_WINDOW_START);
	ASSERT_INT_EQ(p.largest, 2 * CHAN_WINDOW_START);
	ASSERT_TRUE(p.at_start >= 70000000);
}

TEST(top_ups_are_one_per_eighth_of_a_window)
{
	struct path p = { 1000000, 80000, 0, 0, 0 };
	struct chan_window w;
	uint32_t last = 0;
	int n;

	chan_window_init(&w, p.now_us);
	deliver(&w, &p, 30000000, &last); /* at the cap */
	ASSERT_INT_EQ(w.size, CHAN_WINDOW_MAX);
	n = deliver(&w, &p, 40u << 20, &last);
	/* 40 MiB at 1 MiB per top-up: the peer is never left with half */
	ASSERT_INT_EQ(n, 40);
	ASSERT_INT_EQ(last, CHAN_WINDOW_MAX);
}
