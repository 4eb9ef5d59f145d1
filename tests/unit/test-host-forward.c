/* test-host-forward.c - the broker's forwarded connections on a host
 * session (broker/host-forward.c): an open not answered in time asks the
 * agent whether the container runs, unless the target it went to was
 * confirmed since. A session with no SSH under it: a call asked of the
 * agent shows in call_seq. */
#include "test.h"

#include <string.h>

#include "clock.h"
#include "host-internal.h"
#include "xmalloc.h"

/* A forwarded connection's link of f whose open went at open_ms to f's
 * target, due for its probe. */
static struct host_link *
fwd_slow_link(struct host_session *h, struct host_forward *f, long long open_ms)
{
	struct host_link *l = host_link_new(h, -1, NULL, HOST_LINK_BUFFER);

	l->fwd = f;
	host_link_set_state(l, HOST_LINK_OPENING);
	l->open_address = xstrdup("10.0.0.2");
	l->open_port = 80;
	l->open_target_seq = f->fw.target_seq;
	l->open_ms = open_ms;
	l->probe_ms = 1; /* (long past) */
	return l;
}

/* Connections opened at once to a target that answers late: one that finds
 * the target confirmed since its open went does not ask the agent again
 * (30 of them made 12 calls). */
TEST(a_slow_open_confirmed_since_asks_nothing)
{
	struct host_session h;
	struct host_forward f;
	struct host_link *l;
	long long now = clock_now_ms();

	memset(&h, 0, sizeof h);
	h.label = (char *)"test";
	LIST_INIT(&h.links);
	LIST_INIT(&h.calls);
	LIST_INIT(&h.mux_chans);
	memset(&f, 0, sizeof f);
	f.fw.port = 8080;
	f.fw.have_target = 1;
	f.fw.target_seq = 3;
	f.fw.checked_ms = now;

	l = fwd_slow_link(&h, &f, now - 100);
	host_forward_waits_step(&h);
	ASSERT_INT_EQ(h.call_seq, 0);
	ASSERT_FALSE(l->probing);
	ASSERT_INT_EQ(l->probe_ms, 0);
	ASSERT_INT_EQ(l->state, HOST_LINK_OPENING);

	host_link_set_state(l, HOST_LINK_DEAD);
	host_drop_dead_links(&h);
}
