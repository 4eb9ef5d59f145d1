/* test-forward-target.c - unit tests for broker/forward.c's target: what
 * the relay request asks, how an answer (a new target, or "unchanged") is
 * taken, when a target is checked before a connection uses it, and how long
 * a connection waits for that check. */
#include "test.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "forward.h"
#include "json-get.h"

#define TOKEN_HEX "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

/* The agent's relay answer for container cid at address, relay port. */
static cJSON *
relay_answer(const char *cid, const char *address, int port)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "containerId", cid);
	cJSON_AddStringToObject(o, "address", address);
	cJSON_AddNumberToObject(o, "port", port);
	cJSON_AddStringToObject(o, "token", TOKEN_HEX);
	return o;
}

static cJSON *
unchanged_answer(const char *cid)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "containerId", cid);
	cJSON_AddBoolToObject(o, "unchanged", 1);
	return o;
}

/* fw with the target of container c1 (172.17.0.2, relay port 40000),
 * asked for a second ago: due for a check. */
static void
forward_with_stale_target(struct forward *fw)
{
	cJSON *res = relay_answer("c1", "172.17.0.2", 40000);

	forward_init(fw, "/home/u/ws", NULL);
	fw->port = 3000;
	ASSERT_INT_EQ(forward_take_target(fw, res), 0);
	ASSERT_TRUE(forward_target_fresh(fw));
	fw->checked_ms -= FORWARD_TARGET_CHECK_MS; /* as if a second went by */
	cJSON_Delete(res);
}

TEST(no_target_asks_in_full)
{
	struct forward fw;
	cJSON *req;

	forward_init(&fw, "/home/u/ws", NULL);
	ASSERT_FALSE(forward_target_fresh(&fw));
	req = forward_relay_request(&fw);
	ASSERT_STR_EQ(json_get_string(req, "op"), "relay");
	ASSERT_NULL(json_get_string(req, "containerId"));
	cJSON_Delete(req);
	forward_clear(&fw);
}

TEST(a_stale_target_is_checked_by_id_and_address)
{
	struct forward fw;
	cJSON *req;

	forward_with_stale_target(&fw);
	ASSERT_FALSE(forward_target_fresh(&fw));
	req = forward_relay_request(&fw);
	ASSERT_STR_EQ(json_get_string(req, "containerId"), "c1");
	ASSERT_STR_EQ(json_get_string(req, "address"), "172.17.0.2");
	cJSON_Delete(req);
	forward_clear(&fw);
}

TEST(unchanged_keeps_the_target_and_makes_it_fresh)
{
	struct forward fw;
	cJSON *same = unchanged_answer("c1");

	forward_with_stale_target(&fw);
	ASSERT_INT_EQ(forward_take_target(&fw, same), 0);
	ASSERT_TRUE(forward_target_fresh(&fw));
	ASSERT_STR_EQ(fw.address, "172.17.0.2");
	ASSERT_INT_EQ(fw.target_port, 40000);
	cJSON_Delete(same);
	forward_clear(&fw);
}

TEST(unchanged_for_another_container_or_a_dropped_target_is_refused)
{
	struct forward fw;
	cJSON *res = relay_answer("c1", "172.17.0.2", 40000),
	      *other = unchanged_answer("c2");

	forward_init(&fw, "/home/u/ws", NULL);
	ASSERT_INT_NE(forward_take_target(&fw, other), 0); /* no target yet */
	ASSERT_INT_EQ(forward_take_target(&fw, res), 0);
	ASSERT_INT_NE(forward_take_target(&fw, other), 0);
	fw.have_target = 0; /* a failed connection dropped it meanwhile */
	cJSON_Delete(other);
	other = unchanged_answer("c1");
	ASSERT_INT_EQ(forward_take_target(&fw, other), FORWARD_TARGET_DROPPED);
	ASSERT_FALSE(forward_target_fresh(&fw));
	cJSON_Delete(other);
	other = forward_relay_request(&fw); /* the next ask is a full one */
	ASSERT_NULL(json_get_string(other, "containerId"));
	cJSON_Delete(other);
	cJSON_Delete(res);
	forward_clear(&fw);
}

TEST(a_check_is_waited_for_a_bounded_time)
{
	struct forward fw;
	long long t0;

	forward_init(&fw, "/home/u/ws", NULL);
	ASSERT_TRUE(forward_target_wait(&fw, 1000) < 0); /* no target: the answer */
	forward_clear(&fw);
	forward_with_stale_target(&fw);
	t0 = fw.checked_ms + FORWARD_TARGET_CHECK_MS;
	/* due, none in flight: the caller asks, and waits the bound at most */
	ASSERT_TRUE(forward_target_wait(&fw, t0) == FORWARD_CHECK_WAIT_MS);
	forward_asked(&fw, t0);
	ASSERT_TRUE(forward_target_wait(&fw, t0 + 100) == FORWARD_CHECK_WAIT_MS - 100);
	/* the agent has not answered within the bound: the target it has,
	 * at once for every later connection while the check is in flight */
	ASSERT_TRUE(forward_target_wait(&fw, t0 + FORWARD_CHECK_WAIT_MS) == 0);
	ASSERT_TRUE(forward_target_wait(&fw, t0 + 60000) == 0);
	/* a connection refused meanwhile dropped it: the answer is waited for */
	fw.have_target = 0;
	ASSERT_TRUE(forward_target_wait(&fw, t0 + 60000) < 0);
	fw.have_target = 1;
	/* the check ended (an error: the target stays due): a new check */
	forward_answered(&fw, t0 + 60000, 0);
	ASSERT_TRUE(forward_target_wait(&fw, t0 + 60000) == FORWARD_CHECK_WAIT_MS);
	forward_clear(&fw);
}

TEST(the_bound_follows_the_agent_s_last_answer)
{
	struct forward fw;

	forward_init(&fw, "/home/u/ws", NULL);
	ASSERT_TRUE(forward_check_bound(&fw) == FORWARD_CHECK_WAIT_MS);
	forward_asked(&fw, 1000);
	forward_answered(&fw, 1200, 1); /* a host under load: 200 ms */
	ASSERT_TRUE(forward_check_bound(&fw) == 200 * FORWARD_CHECK_WAIT_FACTOR);
	forward_asked(&fw, 2000);
	forward_answered(&fw, 62000, 0); /* an error (the call's 60 s): not counted */
	ASSERT_TRUE(forward_check_bound(&fw) == 200 * FORWARD_CHECK_WAIT_FACTOR);
	forward_asked(&fw, 70000);
	forward_answered(&fw, 100000, 1); /* a stopped agent's late answer */
	ASSERT_TRUE(forward_check_bound(&fw) == FORWARD_CHECK_WAIT_MAX_MS);
	forward_asked(&fw, 200000);
	forward_answered(&fw, 200010, 1);
	ASSERT_TRUE(forward_check_bound(&fw) == FORWARD_CHECK_WAIT_MS);
	forward_clear(&fw);
}

TEST(an_answered_check_makes_the_target_fresh)
{
	struct forward fw;
	cJSON *same = unchanged_answer("c1");

	forward_with_stale_target(&fw);
	forward_asked(&fw, clock_now_ms());
	ASSERT_TRUE(forward_target_wait(&fw, clock_now_ms()) > 0);
	forward_answered(&fw, clock_now_ms(), 1);
	ASSERT_INT_EQ(forward_take_target(&fw, same), 0);
	ASSERT_TRUE(forward_target_wait(&fw, clock_now_ms()) == 0);
	cJSON_Delete(same);
	forward_clear(&fw);
}

TEST(a_new_container_replaces_the_target)
{
	struct forward fw;
	cJSON *a = relay_answer("c1", "172.17.0.2", 40000);
	cJSON *b = relay_answer("c2", "172.17.0.3", 40001);

	forward_init(&fw, "/home/u/ws", NULL);
	ASSERT_INT_EQ(forward_take_target(&fw, a), 0);
	ASSERT_INT_EQ(forward_take_target(&fw, b), 0);
	ASSERT_STR_EQ(fw.container_id, "c2");
	ASSERT_STR_EQ(fw.address, "172.17.0.3");
	ASSERT_INT_EQ(fw.target_port, 40001);
	cJSON_Delete(a);
	cJSON_Delete(b);
	forward_clear(&fw);
}

TEST(a_forward_request_during_a_check_asks_once_more)
{
	struct forward fw;
	cJSON *same = unchanged_answer("c1");

	forward_with_stale_target(&fw);
	forward_asked(&fw, clock_now_ms()); /* a connection's check, in flight */
	/* `up --recreate` ends; its "forward" request finds the check */
	ASSERT_INT_EQ(forward_check_wanted(&fw, 1), 0);
	/* the old check's answer (for the old container) decides nothing */
	ASSERT_INT_EQ(forward_answer_take(&fw, same, NULL, 0, clock_now_ms()),
	    FORWARD_ANSWER_AGAIN);
	ASSERT_FALSE(forward_target_fresh(&fw));
	/* nor does its error ("no container", during the recreate) */
	forward_asked(&fw, clock_now_ms());
	ASSERT_INT_EQ(forward_check_wanted(&fw, 1), 0);
	ASSERT_INT_EQ(forward_answer_take(&fw, NULL, "no container", 1, clock_now_ms()),
	    FORWARD_ANSWER_AGAIN);
	ASSERT_TRUE(fw.have_target);
	/* the check sent after the request decides */
	forward_asked(&fw, clock_now_ms());
	ASSERT_INT_EQ(forward_answer_take(&fw, same, NULL, 0, clock_now_ms()),
	    FORWARD_ANSWER_TARGET);
	ASSERT_TRUE(forward_target_fresh(&fw));
	/* with none in flight, the request's own check is sent at once */
	ASSERT_INT_EQ(forward_check_wanted(&fw, 0), 1);
	ASSERT_FALSE(forward_target_fresh(&fw));
	cJSON_Delete(same);
	forward_clear(&fw);
}

TEST(a_check_that_fails_on_the_way_keeps_the_target)
{
	struct forward fw;

	forward_with_stale_target(&fw);
	forward_asked(&fw, clock_now_ms());
	/* the agent cannot start, the channel open fails...: the target */
	ASSERT_INT_EQ(forward_answer_take(&fw, NULL, "no agent", 0, clock_now_ms()),
	    FORWARD_ANSWER_CACHED);
	ASSERT_TRUE(fw.have_target);
	ASSERT_STR_EQ(fw.address, "172.17.0.2");
	ASSERT_FALSE(forward_target_fresh(&fw)); /* still due for a check */
	/* the agent's own error: the connections are closed */
	forward_asked(&fw, clock_now_ms());
	ASSERT_INT_EQ(forward_answer_take(&fw, NULL, "no container", 1, clock_now_ms()),
	    FORWARD_ANSWER_FAILED);
	/* no target: nowhere to go */
	fw.have_target = 0;
	forward_asked(&fw, clock_now_ms());
	ASSERT_INT_EQ(forward_answer_take(&fw, NULL, "no agent", 0, clock_now_ms()),
	    FORWARD_ANSWER_FAILED);
	forward_clear(&fw);
}
