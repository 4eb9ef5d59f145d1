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

/* A channel as the link opens it: the first top-up goes at once, before
 * any data (host_link_top_up in the pump after the open), for the whole
 * starting size. */
static void
chan_window_open(struct chan_window *w, long long now_us)
{
	chan_window_init(w, now_us);
	ASSERT_INT_EQ(chan_window_due(w, 0, now_us), CHAN_WINDOW_START);
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
		if ((due = chan_window_due(w, 0, p->now_us)) > 0) {
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

	chan_window_open(&w, p.now_us);
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

TEST(grants_openssh_size_at_the_open_then_tops_up_at_an_eighth)
{
	struct path p = { 1000000, 40000, 0, 0, 0 };
	struct chan_window w;
	uint32_t last = 0;

	chan_window_init(&w, p.now_us);
	ASSERT_INT_EQ(w.size, CHAN_WINDOW_START);
	/* OpenSSH's 64 x 32 KiB and the eighth not yet topped up */
	ASSERT_INT_EQ(CHAN_WINDOW_START, 2097152 + 262144);
	/* the open announced libssh's 64,000 bytes: the first call, before
	 * any data was delivered, tops it up to the whole size at once ... */
	ASSERT_INT_EQ(chan_window_due(&w, 0, p.now_us), CHAN_WINDOW_START);
	/* ... and only that one: then once an eighth (294,912 bytes, nine
	 * packets) was delivered */
	ASSERT_INT_EQ(chan_window_due(&w, 0, p.now_us), 0);
	ASSERT_INT_EQ(deliver(&w, &p, 8 * 32768, &last), 0);
	ASSERT_INT_EQ(deliver(&w, &p, 32768, &last), 1);
	ASSERT_INT_EQ(last, CHAN_WINDOW_START);
	/* a new channel (host_link_replace_channel) gets it again */
	chan_window_init(&w, p.now_us);
	ASSERT_INT_EQ(chan_window_due(&w, 0, p.now_us), CHAN_WINDOW_START);
}

TEST(grows_while_the_window_is_the_limit_until_the_cap)
{
	/* 100 MB at 40 ms to a fast reader: the window reaches the cap, and
	 * stays */
	ASSERT_INT_EQ(size_after(100000000, 40, 0), CHAN_WINDOW_MAX);
	/* within the first ~22 MB already (two windows at each size, two more
	 * at the start, and after the doubling the old size's worth, in
	 * flight on the old credit: 4.72 + 4.72 + 2.36 + 9.44 MB = 21.2 MB,
	 * the warm span from the first packet,
	 * each judgement at the next top-up, an eighth of a window on) */
	ASSERT_INT_EQ(size_after(22500000, 40, 0), CHAN_WINDOW_MAX);
	/* doubling: 10.0 MB delivered -> 4.5 MiB, 21.9 MB -> 8 MiB (the cap,
	 * less than 9 MiB) */
	ASSERT_INT_EQ(size_after(9000000, 40, 0), CHAN_WINDOW_START);
	ASSERT_INT_EQ(size_after(10500000, 40, 0), 2 * CHAN_WINDOW_START);
	ASSERT_INT_EQ(size_after(20500000, 40, 0), 2 * CHAN_WINDOW_START);
	ASSERT_INT_EQ(size_after(100000000, 80, 500), CHAN_WINDOW_MAX);
}

TEST(a_short_path_keeps_the_first_window)
{
	struct path p;
	int ms;

	/* At 0 ms the machine is the limit: the doubling to 4.5 MiB carries
	 * no faster, so the window goes back to 2.25 MiB, and tries 4.5 MiB
	 * again now and then (after 16 windows), never more; at 1 ms and
	 * 300 MB/s 2.25 MiB a round trip is more than the path needs, too. */
	for (ms = 0; ms <= 1; ms++) {
		size_on(100000000, ms, 300, &p);
		ASSERT_INT_EQ(p.largest, 2 * CHAN_WINDOW_START);
		ASSERT_TRUE(p.at_start >= 70000000);
	}
}

TEST(growth_stops_where_it_stops_paying)
{
	struct path p;

	/* 40 ms, a machine that carries 100 MB/s: 2.25 MiB/40 ms = 59 MB/s,
	 * 4.5 MiB -> 100 (1.7x, kept), 8 MiB -> 100 (no more): back to
	 * 4.5 MiB (at 90 MB: a retry, 16 windows on, would be at 100) */
	ASSERT_INT_EQ(size_after(90000000, 40, 100), 2 * CHAN_WINDOW_START);
	/* 40 ms, 50 MB/s: 2.25 MiB carries it already (59 MB/s a round
	 * trip), 4.5 MiB -> 50 (1x): back to 2.25 MiB ... */
	ASSERT_INT_EQ(size_on(90000000, 40, 50, &p), CHAN_WINDOW_START);
	ASSERT_TRUE(p.at_start >= 60000000);
	/* ... and tries 4.5 MiB again now and then, never 8 MiB */
	size_on(300000000, 40, 50, &p);
	ASSERT_INT_EQ(p.largest, 2 * CHAN_WINDOW_START);
	/* 80 ms, 50 MB/s: 2.25 MiB carries 29, 4.5 MiB 50 (1.7x, kept),
	 * 8 MiB no more: back to 4.5 MiB */
	ASSERT_INT_EQ(size_after(90000000, 80, 50), 2 * CHAN_WINDOW_START);
}

TEST(a_slow_client_earns_no_growth)
{
	struct path p;

	/* A client that takes 5 MB/s at 40 ms: the first doubling does not
	 * pay, the window goes back to 2.25 MiB and tries 4.5 MiB now and
	 * then (16 windows on: at 90 MB it is back) */
	ASSERT_INT_EQ(size_on(90000000, 40, 5, &p), CHAN_WINDOW_START);
	ASSERT_INT_EQ(p.largest, 2 * CHAN_WINDOW_START);
	ASSERT_TRUE(p.at_start >= 60000000);
	size_on(100000000, 40, 5, &p);
	ASSERT_TRUE(p.at_start >= 70000000);
}

TEST(top_ups_are_one_per_eighth_of_a_window)
{
	struct path p = { 1000000, 80000, 0, 0, 0 };
	struct chan_window w;
	uint32_t last = 0;
	int n;

	chan_window_open(&w, p.now_us);
	deliver(&w, &p, 30000000, &last); /* at the cap */
	ASSERT_INT_EQ(w.size, CHAN_WINDOW_MAX);
	n = deliver(&w, &p, 40u << 20, &last);
	/* 40 MiB at 1 MiB per top-up: the peer is never left with half */
	ASSERT_INT_EQ(n, 40);
	ASSERT_INT_EQ(last, CHAN_WINDOW_MAX);
}

/* A channel over a link as it runs: the peer sends 32 KiB packets at bw
 * bytes/s while it has credit, each arrives half a round trip later; the
 * broker's top-ups reach the peer half a round trip after they were made.
 * So the bytes come in bursts, a window's worth a round trip. The peer's
 * credit at the open is what libssh 0.10's open announced (CHAN_WINDOW_OPEN,
 * 64,000 bytes), and libssh itself tops it up to 1.28 MB when a packet
 * leaves it with less than 640,000 (channels.c channel_rcv_data, counting
 * what it holds); the link's first top-up is made at the open, before the
 * server's first byte, which goes start_us after the open (0: at once; a
 * forward's download: half a round trip, its request behind the top-up).
 * The client takes the bytes at once, except that every pause_every bytes
 * it pauses for pause_us (what came meanwhile waits in the link, and libssh
 * holds what the link's 256 KiB cannot: no top-ups then). With ssh set, the
 * receiver is OpenSSH's instead (`ssh -L`, channels.c): 2 MiB announced at
 * the open, topped up by what was consumed once that is more than three
 * packets or the window is below half. */
#define LINK_PKT 32768
#define LINK_Q 1024
#define LINK_BUFFER 262144 /* a forward's to_cli */
#define LIBSSH_BASE 1280000u
#define SSH_WINDOW 2097152u
struct link {
	long long rtt_us, now_us, wire_free, pause_until, start_us;
	uint64_t bw, credit, local, got, sent, held, pause_every, next_pause;
	uint64_t consumed; /* (ssh) delivered, not yet granted back */
	long long pause_us;
	long long data_t[LINK_Q], adj_t[LINK_Q];
	uint32_t adj_n[LINK_Q];
	int dh, dt, ah, at;
	int ssh;
	int judged; /* judgements seen */
	int off;    /* of them, rates off by more than 10 % */
	uint32_t largest;
};

static void
link_judged(struct link *k, const struct chan_window *w, uint32_t size_was)
{
	/* what size_was carries at most: a window per round trip, or bw */
	uint64_t can = (uint64_t)size_was * 1000000u / (uint64_t)k->rtt_us;

	if (can > k->bw)
		can = k->bw;
	k->judged++;
	if (k->pause_every == 0 &&
	    (w->measured * 10 < can * 9 || w->measured * 10 > can * 11))
		k->off++;
}

/* The receiver's window goes to size: an adjust for the difference. */
static void
link_grant(struct link *k, uint64_t size)
{
	if (size <= k->local)
		return;
	k->adj_t[k->at] = k->now_us + k->rtt_us / 2;
	k->adj_n[k->at] = (uint32_t)(size - k->local);
	k->at = (k->at + 1) % LINK_Q;
	k->local = size;
}

static void
link_deliver(struct link *k, struct chan_window *w)
{
	uint32_t was = w->size;
	int warm = w->warm;
	uint64_t measured = w->measured;

	if (k->ssh) {
		k->consumed += k->held;
		k->held = 0;
		if (k->consumed > 0 &&
		    (SSH_WINDOW - k->local > 3 * LINK_PKT || k->local < SSH_WINDOW / 2)) {
			link_grant(k, k->local + k->consumed);
			k->consumed = 0;
		}
		return;
	}
	chan_window_delivered(w, k->held, k->now_us);
	k->held = 0;
	link_grant(k, chan_window_due(w, 0, k->now_us));
	if (w->warm && warm && (w->size != was || w->measured != measured))
		link_judged(k, w, was);
	if (w->size > k->largest)
		k->largest = w->size;
}

static void
link_run(struct link *k, struct chan_window *w, uint64_t total)
{
	k->now_us = k->wire_free = 1000000;
	k->credit = k->local = k->ssh ? SSH_WINDOW : CHAN_WINDOW_OPEN;
	k->next_pause = k->pause_every;
	chan_window_init(w, k->now_us);
	if (!k->ssh) /* the pump after the open */
		link_grant(k, chan_window_due(w, 0, k->now_us));
	k->wire_free += k->start_us;
	while (k->got < total) {
		long long t_send = -1, t = -1;
		int ev = 0;

		if (k->credit >= LINK_PKT && k->sent < total)
			t_send = k->wire_free > k->now_us ? k->wire_free : k->now_us;
		if (t_send >= 0)
			t = t_send, ev = 1;
		if (k->dh != k->dt && (t < 0 || k->data_t[k->dh] < t))
			t = k->data_t[k->dh], ev = 2;
		if (k->ah != k->at && (t < 0 || k->adj_t[k->ah] < t))
			t = k->adj_t[k->ah], ev = 3;
		if (k->held > 0 && (t < 0 || k->pause_until < t))
			t = k->pause_until, ev = 4;
		k->now_us = t;
		if (ev == 1) {
			k->credit -= LINK_PKT;
			k->sent += LINK_PKT;
			k->wire_free = t + (long long)(LINK_PKT * 1000000ull / k->bw);
			k->data_t[k->dt] = k->wire_free + k->rtt_us / 2;
			k->dt = (k->dt + 1) % LINK_Q;
		} else if (ev == 2) {
			k->dh = (k->dh + 1) % LINK_Q;
			k->got += LINK_PKT;
			k->local -= LINK_PKT;
			k->held += LINK_PKT;
			/* libssh's own top-up, of what it holds (the link's
			 * buffer takes LINK_BUFFER) */
			if (!k->ssh &&
			    k->local +
				    (k->held > LINK_BUFFER ? k->held - LINK_BUFFER : 0) <
				LIBSSH_BASE / 2)
				link_grant(k, LIBSSH_BASE);
			if (k->pause_every != 0 && k->got >= k->next_pause) {
				k->next_pause += k->pause_every;
				k->pause_until = t + k->pause_us;
			}
			if (t < k->pause_until) {
				if (!k->ssh &&
				    k->held <= LINK_BUFFER) /* no more: libssh holds it */
					chan_window_due(w, k->held, t);
				continue;
			}
			link_deliver(k, w);
		} else if (ev == 3) {
			k->credit += k->adj_n[k->ah];
			k->ah = (k->ah + 1) % LINK_Q;
		} else
			link_deliver(k, w);
	}
}

/* The time to receive total bytes over k's link (by rdev, or by ssh). */
static long long
link_time(int ssh, int rtt_ms, int bw_mbs, uint64_t total)
{
	struct link k = { .rtt_us = rtt_ms * 1000,
		.bw = (uint64_t)bw_mbs * 1000000,
		.start_us = rtt_ms * 1000 / 2,
		.ssh = ssh };
	struct chan_window w;

	link_run(&k, &w, total);
	return k.now_us - 1000000;
}

TEST(never_slower_than_ssh_at_any_size)
{
	/* A download's first bytes over a link: OpenSSH's client gives sshd
	 * 2 MiB at the open; libssh's open gives 64 KB, and alone it then
	 * grows to 1.28 MB a round trip (at 80 ms: 2 MiB arrived after three
	 * round trips, not one; 20 MB took 0.93x ssh's rate). With the top-up
	 * at the open sshd has 2 MiB before the request comes (it goes behind
	 * the top-up), so every size arrives no later than through ssh (the
	 * doublings then make large ones faster). */
	static const uint64_t sizes[] = { 32768, 262144, 1u << 20, 2u << 20, 4u << 20,
		8u << 20, 20000000, 100000000 };
	static const int rtt_ms[] = { 20, 80 };
	size_t i, j;

	for (i = 0; i < 2; i++)
		for (j = 0; j < sizeof sizes / sizeof sizes[0]; j++) {
			long long rdev = link_time(0, rtt_ms[i], 1000, sizes[j]);
			long long ssh = link_time(1, rtt_ms[i], 1000, sizes[j]);

			if (rdev > ssh)
				fprintf(stderr,
				    "%d ms, %llu bytes: rdev %lld us, ssh %lld us\n",
				    rtt_ms[i], (unsigned long long)sizes[j], rdev, ssh);
			ASSERT_TRUE(rdev <= ssh);
		}
	/* the first 2 MiB in one round trip after the request: the server's
	 * first byte leaves half a round trip after the open (start_us), the
	 * 64 packets arrive half a round trip later, the last 2.1 ms after the
	 * first at 1 GB/s (82,048 us; a top-up that reached sshd half a round trip
	 * late, 122 ms, passed the old bound of 40 + 80 + 2.2 ms) */
	ASSERT_TRUE(link_time(0, 80, 1000, 2u << 20) <= 40000 + 40000 + 2200);
}

TEST(judges_each_size_at_the_rate_it_carries)
{
	/* Over a link whose bytes come in bursts, each size's rate is what it
	 * carries (a window per round trip, or the link's rate): within 10 %.
	 * Counted from the first bytes delivered after a judgement, a span
	 * left out the gap before its first burst (and in a doubling's first
	 * round trip, on the old credit): 2.56 MB at 80 ms was judged at
	 * 22 MB/s where it carries 32, 1.35x 1.28 MB's 16, near the 1.25x that
	 * settles a window back. */
	static const int rtt_ms[] = { 20, 40, 80 };
	static const int bw_mbs[] = { 150, 300, 1000 };
	size_t i, j;

	for (i = 0; i < 3; i++)
		for (j = 0; j < 3; j++) {
			struct link k = { .rtt_us = rtt_ms[i] * 1000,
				.bw = (uint64_t)bw_mbs[j] * 1000000 };
			struct chan_window w;

			link_run(&k, &w, 100000000);
			ASSERT_TRUE(k.judged >= 3);
			ASSERT_INT_EQ(k.off, 0);
			if (rtt_ms[i] >= 40)
				ASSERT_INT_EQ(w.size, CHAN_WINDOW_MAX);
		}
}

TEST(a_clients_pauses_do_not_count_as_rate)
{
	/* At 80 ms a client that pauses 10-60 ms every 3 MB: the bytes that
	 * came meanwhile are delivered at once after the pause, and the
	 * top-ups wait. Judged on received bytes over the span's time, the
	 * window still grows to the cap (the path is the limit, the pauses
	 * cost little). */
	static const int pause_ms[] = { 10, 30, 60 };
	size_t i;

	for (i = 0; i < 3; i++) {
		struct link k = { .rtt_us = 80000,
			.bw = 300000000,
			.pause_every = 3000000,
			.pause_us = pause_ms[i] * 1000 };
		struct chan_window w;

		link_run(&k, &w, 100000000);
		ASSERT_INT_EQ(w.size, CHAN_WINDOW_MAX);
	}
}
