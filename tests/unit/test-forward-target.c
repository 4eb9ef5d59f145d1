/* test-forward-target.c - unit tests for broker/forward.c's target: what
 * the relay request asks, how an answer (a new target, or "unchanged") is
 * taken, when a target is checked before a connection uses it, how long
 * a connection waits for that check, which container a forward is of, and
 * which checks a parked "forward" answer waits for; and a connect's forward
 * (broker/host-connect.c): which request it serves, when it is freed. */
#include "test.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "forward.h"
#include "host-internal.h"
#include "json-get.h"
#include "xmalloc.h"

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
	ASSERT_TRUE(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req, "checkOnly")));
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

/* Something else than the relay answered at the relay's port (it was
 * killed, another program took the port): the target goes, the next ask is
 * a full one naming that port, and the new relay's answer ends that. */
TEST(not_the_relay_asks_in_full_naming_the_port)
{
	struct forward fw;
	cJSON *req, *res = relay_answer("c1", "172.17.0.2", 40001);
	char want[128];

	ASSERT_TRUE(forward_relay_status_ok(0));
	ASSERT_TRUE(forward_relay_status_ok(2));
	ASSERT_FALSE(forward_relay_status_ok('H'));
	/* (2 is any other error, the relay's connect timeout too: named as
	 * the relay has it, in whole seconds) */
	ASSERT_STR_EQ(forward_relay_status_error(1),
	    "nothing listens on that port in the container");
	snprintf(want, sizeof want,
	    "the relay could not connect to that port in the container (an "
	    "error, or not accepted in %d s)",
	    RELAY_CONNECT_TIMEOUT_MS / 1000);
	ASSERT_STR_EQ(forward_relay_status_error(2), want);
	forward_with_stale_target(&fw);
	/* a connection made to an older relay (another port, or another
	 * address) changes nothing: the relay taken since is not the one it
	 * met */
	forward_not_relay(&fw, "172.17.0.2", 39999);
	forward_not_relay(&fw, "172.17.0.9", 40000);
	ASSERT_TRUE(fw.have_target);
	ASSERT_INT_EQ(fw.not_relay, 0);
	forward_not_relay(&fw, "172.17.0.2", 40000);
	ASSERT_FALSE(forward_target_fresh(&fw));
	req = forward_relay_request(&fw);
	ASSERT_NULL(json_get_string(req, "containerId"));
	ASSERT_INT_EQ(cJSON_GetObjectItemCaseSensitive(req, "notRelay")->valueint, 40000);
	cJSON_Delete(req);
	ASSERT_INT_EQ(forward_take_target(&fw, res), 0);
	ASSERT_INT_EQ(fw.target_port, 40001);
	req = forward_relay_request(&fw);
	ASSERT_NULL(cJSON_GetObjectItemCaseSensitive(req, "notRelay"));
	cJSON_Delete(req);
	cJSON_Delete(res);
	forward_clear(&fw);
}

/* No status byte in time: the target goes (the next ask is a full one), but
 * not as notRelay: the agent's probe tells a slow relay (kept) from a
 * silent program (replaced). A connection to an older target changes
 * nothing. */
TEST(a_silent_relay_drops_the_target_without_not_relay)
{
	struct forward fw;
	cJSON *req;

	forward_with_stale_target(&fw);
	forward_relay_silent(&fw, "172.17.0.2", 39999);
	forward_relay_silent(&fw, "172.17.0.9", 40000);
	ASSERT_TRUE(fw.have_target);
	forward_relay_silent(&fw, "172.17.0.2", 40000);
	ASSERT_FALSE(fw.have_target);
	ASSERT_INT_EQ(fw.not_relay, 0);
	req = forward_relay_request(&fw);
	ASSERT_NULL(json_get_string(req, "containerId"));
	ASSERT_NULL(cJSON_GetObjectItemCaseSensitive(req, "notRelay"));
	cJSON_Delete(req);
	forward_clear(&fw);
}

/* The status byte's bound takes a test setting as clock_env_ms reads one:
 * a whole number of ms, else the default (atoi took "2s" for 2 ms). */
TEST(the_relay_status_bound_takes_whole_ms_only)
{
	unsetenv("RDEV_FORWARD_RELAY_STATUS_MS");
	ASSERT_INT_EQ(forward_relay_status_ms(), FORWARD_RELAY_STATUS_MS);
	setenv("RDEV_FORWARD_RELAY_STATUS_MS", "8000", 1);
	ASSERT_INT_EQ(forward_relay_status_ms(), 8000);
	setenv("RDEV_FORWARD_RELAY_STATUS_MS", "2s", 1);
	ASSERT_INT_EQ(forward_relay_status_ms(), FORWARD_RELAY_STATUS_MS);
	unsetenv("RDEV_FORWARD_RELAY_STATUS_MS");
}

/* RDEV_FORWARD_TARGET_CHECK_MS (tests: an idle of less than a second makes
 * a target due) is what freshness and the wait for a check go by. */
TEST(the_target_check_interval_takes_its_test_setting)
{
	struct forward fw;
	cJSON *res = relay_answer("c1", "172.17.0.2", 40000);
	long long t;

	unsetenv("RDEV_FORWARD_TARGET_CHECK_MS");
	ASSERT_INT_EQ(forward_target_check_ms(), FORWARD_TARGET_CHECK_MS);
	forward_init(&fw, "/home/u/ws", NULL);
	ASSERT_INT_EQ(forward_take_target(&fw, res), 0);
	/* 500 ms old: fresh by the default (half a second of margin for a
	 * loaded machine between here and the clock's read) */
	t = clock_now_ms();
	fw.checked_ms = t - 500;
	ASSERT_TRUE(forward_target_fresh(&fw));
	ASSERT_TRUE(forward_target_wait(&fw, t) == 0);
	setenv("RDEV_FORWARD_TARGET_CHECK_MS", "300", 1);
	ASSERT_INT_EQ(forward_target_check_ms(), 300);
	ASSERT_FALSE(forward_target_fresh(&fw));
	ASSERT_TRUE(forward_target_wait(&fw, t) == FORWARD_CHECK_WAIT_MS);
	setenv("RDEV_FORWARD_TARGET_CHECK_MS", "0.3s", 1);
	ASSERT_INT_EQ(forward_target_check_ms(), FORWARD_TARGET_CHECK_MS);
	unsetenv("RDEV_FORWARD_TARGET_CHECK_MS");
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
	long long now;

	forward_with_stale_target(&fw);
	/* (one time for the ask and the wait: read twice, a loaded machine
	 * may put the 250 ms bound between them) */
	now = clock_now_ms();
	forward_asked(&fw, now);
	ASSERT_TRUE(forward_target_wait(&fw, now) > 0);
	forward_answered(&fw, now, 1);
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

/* fw takes the answer same twice, the second no new target (target_seq
 * kept), then other, a new one. */
static void
take_same_then_other(struct forward *fw, const cJSON *same, const cJSON *other)
{
	unsigned seq;

	ASSERT_INT_EQ(forward_take_target(fw, same), 0);
	seq = fw->target_seq;
	ASSERT_INT_EQ(forward_take_target(fw, same), 0);
	ASSERT_INT_EQ(fw->target_seq, seq);
	ASSERT_INT_EQ(forward_take_target(fw, other), 0);
	ASSERT_TRUE(fw->target_seq != seq);
}

/* A full answer naming the target the forward has (a Compose service's
 * check always gets one: it is never asked with "unchanged") is no new
 * target: the connections opened to it are not moved (host-forward.c
 * reopened a service's connection whose open was slow at each answer,
 * every forward_check_bound); another address, relay port or token is. */
TEST(the_same_target_answered_again_is_no_new_one)
{
	struct forward fw;
	cJSON *a = relay_answer("c1", "172.17.0.2", 40000);
	cJSON *b = relay_answer("c1", "172.17.0.2", 40001);
	cJSON *db = relay_answer("s1", "172.18.0.5", 0);
	cJSON *db2 = relay_answer("s2", "172.18.0.6", 0);

	forward_init(&fw, "/home/u/ws", NULL);
	fw.port = 3000;
	take_same_then_other(&fw, a, b); /* another relay */
	forward_clear(&fw);

	forward_init(&fw, "/home/u/ws", NULL);
	fw.service = strdup("db");
	fw.port = 5432;
	take_same_then_other(&fw, db, db2); /* another container */
	cJSON_Delete(a);
	cJSON_Delete(b);
	cJSON_Delete(db);
	cJSON_Delete(db2);
	forward_clear(&fw);
}

/* A relay request of fw goes now and ends with res or error (how): want. */
static void
assert_check_ends(struct forward *fw, const cJSON *res, const char *error,
    enum forward_failure how, enum forward_answer want)
{
	forward_asked(fw, clock_now_ms());
	ASSERT_INT_EQ(
	    forward_check_take(fw, res, error, how, clock_now_ms(), NULL), want);
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
	ASSERT_INT_EQ(forward_check_take(
			  &fw, same, NULL, FORWARD_FAILED_NONE, clock_now_ms(), NULL),
	    FORWARD_ANSWER_AGAIN);
	ASSERT_FALSE(forward_target_fresh(&fw));
	/* nor does its error ("no container", during the recreate) */
	forward_asked(&fw, clock_now_ms());
	ASSERT_INT_EQ(forward_check_wanted(&fw, 1), 0);
	ASSERT_INT_EQ(forward_check_take(&fw, NULL, "no container",
			  FORWARD_FAILED_REFUSED, clock_now_ms(), NULL),
	    FORWARD_ANSWER_AGAIN);
	ASSERT_TRUE(fw.have_target);
	/* the check sent after the request decides */
	assert_check_ends(&fw, same, NULL, FORWARD_FAILED_NONE, FORWARD_ANSWER_TARGET);
	ASSERT_TRUE(forward_target_fresh(&fw));
	/* with none in flight, the request's own check is sent at once */
	ASSERT_INT_EQ(forward_check_wanted(&fw, 0), 1);
	ASSERT_FALSE(forward_target_fresh(&fw));
	cJSON_Delete(same);
	forward_clear(&fw);
}

/* The check finds the target stale ("changed": the agent says so before it
 * starts the relay in the new container, which may take seconds): the
 * target is dropped at once, so no connection goes to the old container
 * while the full answer is awaited (forward_target_wait says to wait for
 * it, with no bound), and a request's check stays the request's. */
TEST(changed_drops_the_target_and_asks_in_full)
{
	struct forward fw;
	cJSON *changed = cJSON_CreateObject(), *req, *res;

	cJSON_AddStringToObject(changed, "containerId", "c2");
	cJSON_AddBoolToObject(changed, "changed", 1);
	forward_with_stale_target(&fw);
	ASSERT_INT_EQ(forward_check_wanted(&fw, 0), 1); /* a "forward" request's */
	assert_check_ends(&fw, changed, NULL, FORWARD_FAILED_NONE, FORWARD_ANSWER_AGAIN);
	ASSERT_FALSE(fw.have_target);
	ASSERT_TRUE(forward_target_wait(&fw, clock_now_ms() + 60000) < 0);
	ASSERT_INT_EQ(forward_check_source(&fw), FORWARD_ERROR_CHECK);
	req = forward_relay_request(&fw);
	ASSERT_NULL(json_get_string(req, "containerId"));
	ASSERT_NULL(cJSON_GetObjectItemCaseSensitive(req, "checkOnly"));
	cJSON_Delete(req);
	res = relay_answer("c2", "172.17.0.9", 40001);
	assert_check_ends(&fw, res, NULL, FORWARD_FAILED_NONE, FORWARD_ANSWER_TARGET);
	ASSERT_STR_EQ(fw.address, "172.17.0.9");
	ASSERT_TRUE(forward_target_fresh(&fw));
	cJSON_Delete(res);
	cJSON_Delete(changed);
	forward_clear(&fw);
}

TEST(a_check_that_fails_on_the_way_keeps_the_target)
{
	struct forward fw;

	forward_with_stale_target(&fw);
	forward_asked(&fw, clock_now_ms());
	/* the agent cannot start, the channel open fails...: the target */
	ASSERT_INT_EQ(forward_check_take(&fw, NULL, "no agent", FORWARD_FAILED_ON_THE_WAY,
			  clock_now_ms(), NULL),
	    FORWARD_ANSWER_CACHED);
	ASSERT_TRUE(fw.have_target);
	ASSERT_STR_EQ(fw.address, "172.17.0.2");
	ASSERT_FALSE(forward_target_fresh(&fw)); /* still due for a check */
	/* the agent's own error: the connections are closed */
	assert_check_ends(
	    &fw, NULL, "no container", FORWARD_FAILED_REFUSED, FORWARD_ANSWER_FAILED);
	/* no target: nowhere to go */
	fw.have_target = 0;
	assert_check_ends(
	    &fw, NULL, "no agent", FORWARD_FAILED_ON_THE_WAY, FORWARD_ANSWER_FAILED);
	forward_clear(&fw);
}

/* fw's check ends with error (how, at now) told to its request
 * (FORWARD_ANSWER_UNCHECKED), whose warning says want. */
static void
assert_unchecked_says(struct forward *fw, const char *error, enum forward_failure how,
    long long now, const char *want)
{
	char *w = NULL;

	ASSERT_INT_EQ(
	    forward_check_take(fw, NULL, error, how, now, &w), FORWARD_ANSWER_UNCHECKED);
	ASSERT_NOT_NULL(w);
	ASSERT_STR_CONTAINS(w, want);
	free(w);
}

TEST(a_request_s_check_failing_on_the_way_is_sent_again_then_warned_of)
{
	struct forward fw;
	cJSON *same = unchanged_answer("c1");

	forward_with_stale_target(&fw);
	ASSERT_INT_EQ(forward_check_wanted(&fw, 0), 1);
	assert_check_ends(
	    &fw, NULL, "no agent", FORWARD_FAILED_ON_THE_WAY, FORWARD_ANSWER_RETRY);
	forward_asked(&fw, clock_now_ms());
	assert_unchecked_says(&fw, "channel refused", FORWARD_FAILED_ON_THE_WAY,
	    clock_now_ms(), "(channel refused, twice)");
	ASSERT_TRUE(fw.have_target); /* the connections go to it */
	ASSERT_FALSE(forward_target_fresh(&fw));
	/* a connection's own check after it: no retry, no warning */
	assert_check_ends(
	    &fw, NULL, "no agent", FORWARD_FAILED_ON_THE_WAY, FORWARD_ANSWER_CACHED);
	/* a retry that is answered decides */
	ASSERT_INT_EQ(forward_check_wanted(&fw, 0), 1);
	assert_check_ends(
	    &fw, NULL, "no agent", FORWARD_FAILED_ON_THE_WAY, FORWARD_ANSWER_RETRY);
	assert_check_ends(&fw, same, NULL, FORWARD_FAILED_NONE, FORWARD_ANSWER_TARGET);
	/* the agent's own error is not retried */
	ASSERT_INT_EQ(forward_check_wanted(&fw, 0), 1);
	assert_check_ends(
	    &fw, NULL, "no container", FORWARD_FAILED_REFUSED, FORWARD_ANSWER_FAILED);
	/* with no target: retried, then failed */
	fw.have_target = 0;
	ASSERT_INT_EQ(forward_check_wanted(&fw, 0), 1);
	assert_check_ends(
	    &fw, NULL, "no agent", FORWARD_FAILED_ON_THE_WAY, FORWARD_ANSWER_RETRY);
	assert_check_ends(
	    &fw, NULL, "no agent", FORWARD_FAILED_ON_THE_WAY, FORWARD_ANSWER_FAILED);
	cJSON_Delete(same);
	forward_clear(&fw);
}

TEST(a_request_s_check_failing_at_the_call_deadline_is_not_sent_again)
{
	struct forward fw;

	forward_with_stale_target(&fw);
	ASSERT_INT_EQ(forward_check_wanted(&fw, 0), 1);
	forward_asked(&fw, 1000);
	/* a stopped agent, a stuck login shell: the 60 s deadline */
	assert_unchecked_says(
	    &fw, "did not answer", FORWARD_FAILED_ON_THE_WAY, 61000, "(did not answer)");
	/* just under the bound: sent once more, then warned of twice */
	ASSERT_INT_EQ(forward_check_wanted(&fw, 0), 1);
	forward_asked(&fw, 1000);
	ASSERT_INT_EQ(forward_check_take(&fw, NULL, "no agent", FORWARD_FAILED_ON_THE_WAY,
			  1000 + FORWARD_RETRY_FAST_MS - 1, NULL),
	    FORWARD_ANSWER_RETRY);
	forward_asked(&fw, 20000);
	assert_unchecked_says(
	    &fw, "no agent", FORWARD_FAILED_ON_THE_WAY, 20100, "(no agent, twice)");
	/* with no target: failed at once, not after another minute */
	fw.have_target = 0;
	ASSERT_INT_EQ(forward_check_wanted(&fw, 0), 1);
	forward_asked(&fw, 1000);
	ASSERT_INT_EQ(forward_check_take(&fw, NULL, "did not answer",
			  FORWARD_FAILED_ON_THE_WAY, 61000, NULL),
	    FORWARD_ANSWER_FAILED);
	forward_clear(&fw);
}

TEST(a_request_s_check_failing_as_the_session_ends_is_not_sent_again)
{
	struct forward fw;

	forward_with_stale_target(&fw);
	ASSERT_INT_EQ(forward_check_wanted(&fw, 0), 1);
	forward_asked(&fw, clock_now_ms());
	assert_unchecked_says(
	    &fw, "lost", FORWARD_FAILED_ENDING, clock_now_ms(), "(lost)");
	forward_clear(&fw);
}

TEST(the_warning_names_the_forward_the_cause_and_the_address)
{
	struct forward fw;
	char *w;

	forward_with_stale_target(&fw);
	w = forward_check_warning(&fw, "no agent", 1);
	ASSERT_STR_CONTAINS(w, "connections to container port 3000 (ssh-proxy)");
	ASSERT_STR_CONTAINS(w, "no agent");
	ASSERT_STR_CONTAINS(w, "172.17.0.2");
	free(w);
	fw.fd4 = open("/dev/null", O_RDONLY); /* a listener (closed by clear) */
	fw.local_port = 3001;
	w = forward_check_warning(&fw, "no agent", 1);
	ASSERT_STR_CONTAINS(w, "forward localhost:3001 -> container port 3000");
	free(w);
	forward_clear(&fw);
}

TEST(a_request_whose_look_timed_out_is_not_checked_now_but_at_its_first_connection)
{
	struct forward fw;
	cJSON *res = relay_answer("c1", "172.17.0.2", 40000);
	char *w;

	/* a target checked just now: not fresh any more, the warning names
	 * the address its connections go to meanwhile */
	forward_init(&fw, "/home/u/ws", NULL);
	fw.port = 3000;
	ASSERT_INT_EQ(forward_take_target(&fw, res), 0);
	ASSERT_TRUE(forward_target_fresh(&fw));
	w = forward_check_skipped(&fw, "timed out");
	ASSERT_FALSE(forward_target_fresh(&fw));
	ASSERT_INT_EQ(fw.request_send, 0);
	ASSERT_STR_CONTAINS(w, "not checked (timed out)");
	ASSERT_STR_CONTAINS(w, "172.17.0.2");
	free(w);
	forward_clear(&fw);
	/* no target yet: the first connection asks */
	forward_init(&fw, "/home/u/ws", NULL);
	fw.port = 3000;
	fw.fd4 = open("/dev/null", O_RDONLY); /* a listener (closed by clear) */
	fw.local_port = 3001;
	w = forward_check_skipped(&fw, "timed out");
	ASSERT_STR_CONTAINS(w, "forward localhost:3001 -> container port 3000");
	ASSERT_STR_CONTAINS(
	    w, "not checked (timed out): the first connection looks it up");
	free(w);
	forward_clear(&fw);
	cJSON_Delete(res);
}

TEST(waiting_connections_wait_on_only_for_an_answer_they_need)
{
	struct forward fw;

	forward_with_stale_target(&fw);
	/* sent once more with a target: they go to it meanwhile */
	ASSERT_FALSE(forward_check_links_wait(&fw, FORWARD_ANSWER_RETRY));
	ASSERT_FALSE(forward_check_links_wait(&fw, FORWARD_ANSWER_CACHED));
	ASSERT_TRUE(forward_check_links_wait(&fw, FORWARD_ANSWER_AGAIN));
	/* with none: the next answer */
	fw.have_target = 0;
	ASSERT_TRUE(forward_check_links_wait(&fw, FORWARD_ANSWER_RETRY));
	ASSERT_FALSE(forward_check_links_wait(&fw, FORWARD_ANSWER_FAILED));
	forward_clear(&fw);
}

/* forward_id_labels_same of two label lists in JSON (NULL: none). */
static int
labels_same(const char *a, const char *b)
{
	cJSON *ja = a != NULL ? cJSON_Parse(a) : NULL,
	      *jb = b != NULL ? cJSON_Parse(b) : NULL;
	int same = forward_id_labels_same(ja, jb);

	cJSON_Delete(ja);
	cJSON_Delete(jb);
	return same;
}

/* Do config paths a and b (NULL: the default) have the same key? */
static int
config_same(const char *a, const char *b)
{
	char *ka = forward_config_key(NULL, a), *kb = forward_config_key(NULL, b);
	int same = ka == NULL || kb == NULL ? ka == kb : strcmp(ka, kb) == 0;

	free(ka);
	free(kb);
	return same;
}

TEST(config_paths_compare_normalised_and_id_labels_as_a_set)
{
	char *k;

	ASSERT_TRUE(config_same(NULL, NULL));
	ASSERT_FALSE(config_same(NULL, "/w/.devcontainer.json"));
	ASSERT_TRUE(
	    config_same("/w/.devcontainer/../.devcontainer//a/./devcontainer.json",
		"/w/.devcontainer/a/devcontainer.json"));
	ASSERT_TRUE(config_same("./x/c.json", "x//c.json"));
	/* (relative to a folder the broker does not know: its parent's x is
	 * not its x) */
	ASSERT_FALSE(config_same("../x/c.json", "x/c.json"));
	ASSERT_TRUE(config_same("a/../../x/c.json", "../x/./c.json"));
	ASSERT_TRUE(config_same("/../x/c.json", "/x/c.json"));
	ASSERT_FALSE(config_same("x/c.json", "/x/c.json"));
	ASSERT_FALSE(config_same("/w/a.json", "/w/b.json"));
	/* a relative one stays relative */
	k = forward_config_key(NULL, "./x/../y//c.json");
	ASSERT_STR_EQ(k, "y/c.json");
	free(k);
	k = forward_config_key(NULL, "/w/./c.json/");
	ASSERT_STR_EQ(k, "/w/c.json");
	free(k);
	ASSERT_TRUE(labels_same(NULL, NULL));
	ASSERT_TRUE(labels_same("[\"a=1\",\"b=2\"]", "[\"b=2\",\"a=1\"]"));
	ASSERT_FALSE(labels_same("[\"a=1\",\"b=2\"]", "[\"a=1\"]"));
	ASSERT_FALSE(labels_same("[\"a=1\"]", "[\"a=1\",\"b=2\"]"));
	ASSERT_FALSE(labels_same("[\"a=1\"]", NULL));
	ASSERT_TRUE(labels_same("[\"a=1\"]", "[\"a=1\",\"a=1\"]"));
}

/* Is fw of the container req names (forward_of its key)? */
static int
of_request(const struct forward *fw, const cJSON *req)
{
	struct forward_key k;
	int of;

	forward_key_of_request(&k, req);
	of = forward_of(fw, &k);
	forward_key_clear(&k);
	return of;
}

/* A request {"workspace":ws,"config":config,"idLabels":ids (JSON)}. */
static cJSON *
request(const char *ws, const char *config, const char *ids)
{
	cJSON *r = cJSON_CreateObject();

	cJSON_AddStringToObject(r, "workspace", ws);
	if (config != NULL)
		cJSON_AddStringToObject(r, "config", config);
	if (ids != NULL)
		cJSON_AddItemToObject(r, "idLabels", cJSON_Parse(ids));
	return r;
}

TEST(a_connect_serves_the_requests_of_its_container)
{
	struct host_forward f;
	cJSON *mine =
	    request("/w", "/w/.devcontainer/a/devcontainer.json", "[\"x=1\",\"y=2\"]");
	cJSON *same =
	    request("/w", "/w/.devcontainer/./a/devcontainer.json", "[\"y=2\",\"x=1\"]");
	cJSON *other_config =
	    request("/w", "/w/.devcontainer/b/devcontainer.json", "[\"x=1\",\"y=2\"]");
	cJSON *other_ids =
	    request("/w", "/w/.devcontainer/a/devcontainer.json", "[\"x=1\"]");
	cJSON *other_ws =
	    request("/v", "/w/.devcontainer/a/devcontainer.json", "[\"x=1\",\"y=2\"]");

	memset(&f, 0, sizeof f);
	forward_init(&f.fw, "/w", json_get_string(mine, "config"));
	forward_take_request_fields(&f.fw, mine, NULL);
	ASSERT_TRUE(of_request(&f.fw, mine));
	ASSERT_TRUE(of_request(&f.fw, same));
	ASSERT_FALSE(of_request(&f.fw, other_config));
	ASSERT_FALSE(of_request(&f.fw, other_ids));
	ASSERT_FALSE(of_request(&f.fw, other_ws));
	forward_clear(&f.fw);
	cJSON_Delete(mine);
	cJSON_Delete(same);
	cJSON_Delete(other_config);
	cJSON_Delete(other_ids);
	cJSON_Delete(other_ws);
}

/* fw's forward_json: its "lastError" and "lastErrorFrom" ("-" when
 * absent), as "ERROR/FROM". New string. */
static char *
last_error_of(const struct forward *fw)
{
	cJSON *o = forward_json(fw);
	const char *e = json_get_string(o, "lastError");
	const char *from = json_get_string(o, "lastErrorFrom");
	char *s = xasprintf("%s/%s", e != NULL ? e : "-", from != NULL ? from : "-");

	cJSON_Delete(o);
	return s;
}

TEST(a_last_error_says_what_met_it_and_goes_with_its_container)
{
	struct host_forward f;
	cJSON *mine = request("/w", "/w/a.json", NULL);
	cJSON *same = request("/w", "/w/./a.json", NULL);
	cJSON *other = request("/w", "/w/b.json", NULL);
	char *s;

	memset(&f, 0, sizeof f);
	forward_init(&f.fw, "/w", "/w/a.json");
	f.fw.port = 3000;
	forward_take_request_fields(&f.fw, mine, NULL);
	/* a connection's look-up, then a "forward" request's check */
	ASSERT_INT_EQ(forward_check_source(&f.fw), FORWARD_ERROR_CONNECTION);
	ASSERT_TRUE(forward_check_wanted(&f.fw, 0));
	ASSERT_INT_EQ(forward_check_source(&f.fw), FORWARD_ERROR_CHECK);
	forward_set_last_error(&f.fw, "not running", FORWARD_ERROR_CHECK, NULL);
	ASSERT_STR_EQ(s = last_error_of(&f.fw), "not running/check");
	free(s);
	forward_set_last_error(&f.fw, "gone", FORWARD_ERROR_CONNECTION, NULL);
	ASSERT_STR_EQ(s = last_error_of(&f.fw), "gone/connection");
	free(s);
	/* the same container: kept until an answer gives a target */
	forward_take_request_fields(&f.fw, same, NULL);
	ASSERT_STR_EQ(s = last_error_of(&f.fw), "gone/connection");
	free(s);
	/* another container (up --config, a recreate with other labels): the
	 * old one's error is not the forward's any more */
	forward_take_request_fields(&f.fw, other, NULL);
	ASSERT_STR_EQ(s = last_error_of(&f.fw), "-/-");
	free(s);
	forward_clear(&f.fw);
	cJSON_Delete(mine);
	cJSON_Delete(same);
	cJSON_Delete(other);
}

/* A connection that met nothing listening (the relay's status 1) is the
 * forward's lastError, met by a connection, until one gets through; a
 * connect's forward (no listener: its client is answered) keeps none, and
 * a connection that gets through leaves another kind of error alone. */
TEST(a_connection_s_failure_is_the_last_error_until_one_gets_through)
{
	struct forward fw;
	char *s;

	forward_init(&fw, "/w", NULL);
	fw.port = 3000;
	fw.local_port = 13000;
	fw.fd4 = 1000; /* (a listener, never used: not closed below) */
	forward_connection_failed(&fw, "h", forward_relay_status_error(1), NULL);
	ASSERT_STR_EQ(s = last_error_of(&fw),
	    "nothing listens on that port in the container/connection");
	free(s);
	/* (told apart from a look-up's error, shown alike) */
	ASSERT_INT_EQ(fw.last_error_from, FORWARD_ERROR_CONNECTION_FAILED);
	/* the same again (logged at info level): kept */
	forward_connection_failed(&fw, "h", forward_relay_status_error(1), NULL);
	ASSERT_STR_EQ(s = last_error_of(&fw),
	    "nothing listens on that port in the container/connection");
	free(s);
	/* a check's answer that confirms the target, late: still kept */
	forward_check_answered(&fw, NULL, FORWARD_ERROR_CHECK, NULL);
	ASSERT_STR_EQ(s = last_error_of(&fw),
	    "nothing listens on that port in the container/connection");
	free(s);
	/* a check that fails says so */
	forward_check_answered(&fw, "gone", FORWARD_ERROR_CHECK, NULL);
	ASSERT_STR_EQ(s = last_error_of(&fw), "gone/check");
	free(s);
	forward_check_answered(&fw, NULL, FORWARD_ERROR_CHECK, NULL);
	ASSERT_STR_EQ(s = last_error_of(&fw), "-/-");
	free(s);
	forward_connection_failed(&fw, "h", forward_relay_status_error(1), NULL);
	forward_connection_ok(&fw, NULL);
	ASSERT_STR_EQ(s = last_error_of(&fw), "-/-");
	free(s);
	forward_set_last_error(&fw, "not running", FORWARD_ERROR_CHECK, NULL);
	forward_connection_ok(&fw, NULL);
	ASSERT_STR_EQ(s = last_error_of(&fw), "not running/check");
	free(s);
	/* a connection's look-up that failed is not a failed connection: a
	 * confirmed target clears it */
	forward_set_last_error(&fw, "gone", FORWARD_ERROR_CONNECTION, NULL);
	forward_check_answered(&fw, NULL, FORWARD_ERROR_CHECK, NULL);
	ASSERT_STR_EQ(s = last_error_of(&fw), "-/-");
	free(s);
	fw.fd4 = -1;
	forward_set_last_error(&fw, NULL, FORWARD_ERROR_CONNECTION, NULL);
	forward_connection_failed(&fw, "h", forward_relay_status_error(1), NULL);
	ASSERT_STR_EQ(s = last_error_of(&fw), "-/-");
	free(s);
	forward_clear(&fw);
}

TEST(a_connect_with_a_check_in_flight_outlives_its_idle_time)
{
	struct host_forward f;

	memset(&f, 0, sizeof f);
	f.connect = 1;
	f.idle_ms = 1000;
	ASSERT_FALSE(host_connect_expired(
	    &f, 1000 + HOST_CONNECT_IDLE_MS - 1, HOST_CONNECT_IDLE_MS));
	ASSERT_TRUE(
	    host_connect_expired(&f, 1000 + HOST_CONNECT_IDLE_MS, HOST_CONNECT_IDLE_MS));
	f.resolving = (struct host_call *)&f; /* a check in flight */
	ASSERT_FALSE(host_connect_expired(
	    &f, 1000 + HOST_CONNECT_IDLE_MS * 10, HOST_CONNECT_IDLE_MS));
	f.resolving = NULL;
	f.fw.active = 1;
	ASSERT_FALSE(host_connect_expired(
	    &f, 1000 + HOST_CONNECT_IDLE_MS * 10, HOST_CONNECT_IDLE_MS));
	f.fw.active = 0;
	f.idle_ms = 0; /* in use */
	ASSERT_FALSE(host_connect_expired(
	    &f, 1000 + HOST_CONNECT_IDLE_MS * 10, HOST_CONNECT_IDLE_MS));
}

/* The forward checked (in flight) in parked_waiting: a parked answer waits
 * while it is its container's. */
static const struct forward *checking;

static int
parked_waiting(void *arg, const struct forward_parked *p)
{
	(void)arg;
	return checking != NULL && forward_parked_for(p, checking);
}

/* What came on fd (the answer's bytes), as a string; "" when none yet. */
static char *
answer_read(int fd)
{
	char *b = calloc(1, 4096);
	ssize_t n = recv(fd, b, 4095, MSG_DONTWAIT);
	ssize_t i;

	for (i = 0; i < n; i++) /* (the framing's bytes) */
		if (b[i] == '\0')
			b[i] = ' ';
	return b;
}

TEST(a_parked_answer_waits_for_its_own_container_s_checks_only)
{
	struct forward_parked_list list = TAILQ_HEAD_INITIALIZER(list);
	struct forward mine, other;
	cJSON *req_a = request("/w", "/w/a.json", "[\"x=1\",\"y=2\"]");
	cJSON *req_b = request("/w", "/w/b.json", NULL);
	cJSON *req_mine = request("/w", "/w//a.json", "[\"y=2\",\"x=1\"]");
	cJSON *done, *errors;
	int a[2], b[2];
	char *got;

	ASSERT_INT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, a), 0);
	ASSERT_INT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, b), 0);
	forward_init(&mine, "/w", NULL);
	forward_take_request_fields(&mine, req_mine, NULL); /* (its labels reordered) */
	forward_init(&other, "/w", "/w/./b.json");
	forward_park(&list, a[0], req_a, forward_answer_new(1, &done, &errors));
	forward_park(&list, b[0], req_b, forward_answer_new(2, &done, &errors));
	ASSERT_TRUE(forward_parked_for(TAILQ_FIRST(&list), &mine));
	ASSERT_FALSE(forward_parked_for(TAILQ_FIRST(&list), &other));
	ASSERT_TRUE(forward_parked_for(TAILQ_LAST(&list, forward_parked_list), &other));
	/* other's check fails: a warning for b's request only */
	forward_parked_warning(&list, &other, "W-other");
	forward_parked_error(&list, &other, "E-other");
	/* mine is being checked: a's answer waits, b's goes */
	checking = &mine;
	forward_parked_answer(&list, parked_waiting, NULL);
	got = answer_read(a[1]);
	ASSERT_STR_EQ(got, "");
	free(got);
	got = answer_read(b[1]);
	ASSERT_STR_CONTAINS(got, "W-other");
	ASSERT_STR_CONTAINS(got, "E-other");
	free(got);
	checking = NULL;
	forward_parked_answer(&list, parked_waiting, NULL);
	ASSERT_TRUE(TAILQ_EMPTY(&list));
	got = answer_read(a[1]);
	ASSERT_STR_CONTAINS(got, "\"forwards\"");
	ASSERT_TRUE(strstr(got, "W-other") == NULL);
	ASSERT_TRUE(strstr(got, "warnings") == NULL);
	free(got);
	close(a[1]);
	close(b[1]);
	forward_clear(&mine);
	forward_clear(&other);
	cJSON_Delete(req_a);
	cJSON_Delete(req_b);
	cJSON_Delete(req_mine);
}

/* A failed target's error in a parked answer: named by its forward's
 * port, once however often that target fails while the answer waits; the
 * auto-forward watch's relay (no local port) as the watch, not as
 * "localhost:0 -> container port 0". */
TEST(a_parked_answer_s_target_errors_name_their_forward_once)
{
	struct forward_parked_list list = TAILQ_HEAD_INITIALIZER(list);
	struct forward fw, relay, older;
	cJSON *req = request("/w", NULL, NULL), *done, *errors, *got, *warnings;
	char *text;
	int sv[2];

	ASSERT_INT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	forward_init(&fw, "/w", NULL);
	fw.local_port = 8001;
	fw.port = 3000;
	fw.service = strdup("db");
	forward_init(&relay, "/w", NULL); /* (local_port 0, port 0) */
	/* (a forward of the workspace the request did not ask for) */
	forward_init(&older, "/w", NULL);
	older.local_port = 9000;
	older.port = 3000;
	forward_park(&list, sv[0], req, forward_answer_new(1, &done, &errors));
	cJSON_AddItemToArray(done, forward_json(&fw));
	forward_parked_error(&list, &fw, "E1");
	forward_parked_error(&list, &fw, "E1"); /* (checked again meanwhile) */
	forward_parked_error(&list, &relay, "E2");
	forward_parked_error(&list, &older, "E3");
	forward_parked_error(&list, &older, "E3");
	checking = NULL;
	forward_parked_answer(&list, parked_waiting, NULL);
	text = answer_read(sv[1]);
	got = cJSON_Parse(strchr(text, '{'));
	ASSERT_NOT_NULL(got);
	errors = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(got, "result"), "errors");
	ASSERT_INT_EQ(cJSON_GetArraySize(errors), 2);
	ASSERT_STR_EQ(
	    cJSON_GetArrayItem(errors, 0)->valuestring, "localhost:8001 -> db:3000: E1");
	ASSERT_STR_EQ(
	    cJSON_GetArrayItem(errors, 1)->valuestring, "the auto-forward watch: E2");
	/* the request's own forward is marked; the older one's failure is a
	 * warning, once: not this request's failure */
	ASSERT_STR_EQ(
	    json_get_string(
		cJSON_GetArrayItem(
		    cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(got, "result"), "forwards"),
		    0),
		"error"),
	    "localhost:8001 -> db:3000: E1");
	warnings = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(got, "result"), "warnings");
	ASSERT_INT_EQ(cJSON_GetArraySize(warnings), 1);
	ASSERT_STR_CONTAINS(cJSON_GetArrayItem(warnings, 0)->valuestring,
	    "localhost:9000 -> container port 3000: E3 (an earlier forward");
	cJSON_Delete(got);
	free(text);
	close(sv[1]);
	forward_clear(&fw);
	forward_clear(&relay);
	forward_clear(&older);
	cJSON_Delete(req);
}

/* A host session as far as its calls and forwards' answers need one. */
static struct host_session *
session_without_ssh(void)
{
	struct host_session *h = calloc(1, sizeof *h);

	h->label = strdup("hostx");
	LIST_INIT(&h->calls);
	TAILQ_INIT(&h->parked);
	forward_order_init(&h->order);
	LIST_INIT(&h->links);
	LIST_INIT(&h->forwards);
	LIST_INIT(&h->connects);
	LIST_INIT(&h->autos);
	return h;
}

/* A stand-in host session (session_without_ssh) with a forward f of a
 * stale target and a "forward" request of its workspace parked on sv[0]
 * (its client at sv[1]). */
struct parked_check {
	struct host_session *h;
	struct host_forward f;
	cJSON *req;
	int sv[2];
};

static void
parked_check_start(struct parked_check *r)
{
	cJSON *done, *errors;

	r->h = session_without_ssh();
	r->req = request("/home/u/ws", NULL, NULL);
	ASSERT_INT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, r->sv), 0);
	memset(&r->f, 0, sizeof r->f);
	forward_with_stale_target(&r->f.fw);
	forward_park(
	    &r->h->parked, r->sv[0], r->req, forward_answer_new(1, &done, &errors));
}

/* The checks have ended (none is sent again), the parked request was
 * answered with want in it; r is freed. */
static void
parked_check_finish(struct parked_check *r, const char *want)
{
	char *got;

	ASSERT_NULL(r->f.resolving);
	ASSERT_TRUE(LIST_EMPTY(&r->h->calls));
	ASSERT_TRUE(TAILQ_EMPTY(&r->h->parked));
	got = answer_read(r->sv[1]);
	ASSERT_STR_CONTAINS(got, want);
	free(got);
	close(r->sv[1]);
	forward_clear(&r->f.fw);
	cJSON_Delete(r->req);
	free(r->h->label);
	free(r->h);
}

TEST(the_end_of_a_session_ends_a_request_s_check_once_with_its_cause)
{
	struct parked_check r;

	parked_check_start(&r);
	/* a connection's check in flight (it fails at once here: no session),
	 * then the request's, which follows its answer */
	host_forward_resolve_start(r.h, &r.f);
	ASSERT_NOT_NULL(r.f.resolving);
	ASSERT_INT_EQ(forward_check_wanted(&r.f.fw, 1), 0);
	/* serving when the session ends: the check sent after the first
	 * answer fails with the session's cause (opening a channel on this
	 * stand-in session would crash), and is not sent again */
	r.h->ev = (ssh_event)r.h;
	r.h->ssh = (struct rdev_ssh *)r.h;
	host_agent_calls_end(r.h, "the connection to the host was lost");
	/* the next serve calls the agent again */
	host_agent_calls_reopen(r.h);
	ASSERT_NULL(r.h->calls_ended);
	parked_check_finish(&r,
	    "the target was not checked (hostx: the connection "
	    "to the host was lost)");
}

TEST(a_request_s_check_failing_with_no_connection_is_not_sent_again)
{
	struct parked_check r;

	parked_check_start(&r);
	/* the request's check, on a session whose connection is gone (fast:
	 * it fails at once; sent again, it would fail the same) */
	ASSERT_INT_EQ(forward_check_wanted(&r.f.fw, 0), 1);
	host_forward_resolve_start(r.h, &r.f);
	ASSERT_NOT_NULL(r.f.resolving);
	ASSERT_INT_EQ(host_agent_calls_progress(r.h), 0);
	parked_check_finish(&r, "the target was not checked (hostx: not connected)");
}

TEST(a_watch_s_new_container_drops_its_relay_s_target)
{
	struct forward_auto a;
	struct forward relay, fw;
	cJSON *same = request("/home/u/ws", NULL, NULL);
	cJSON *other = request("/home/u/ws", "/home/u/ws/b.json", "[\"x=1\"]");
	cJSON *res = relay_answer("c1", "172.17.0.2", 40000), *req;

	forward_auto_init(&a, "/home/u/ws", NULL, NULL);
	forward_with_stale_target(&relay);
	/* the same container: the target stays */
	forward_auto_take_request(&a, &relay, same);
	ASSERT_TRUE(relay.have_target);
	/* another config and id labels: the target goes (asked for in full),
	 * and the watch's new auto-forwards take them */
	forward_auto_take_request(&a, &relay, other);
	ASSERT_FALSE(relay.have_target);
	req = forward_relay_request(&relay);
	ASSERT_NULL(json_get_string(req, "containerId"));
	cJSON_Delete(req);
	ASSERT_STR_EQ(a.config, "/home/u/ws/b.json");
	forward_init(&fw, "/home/u/ws", a.config);
	forward_take_fields_of(&fw, &relay, NULL);
	ASSERT_STR_EQ(fw.config, "/home/u/ws/b.json");
	ASSERT_TRUE(forward_id_labels_same(fw.id_labels, relay.id_labels));
	forward_clear(&fw);
	/* a relay request in flight (asked with the old ones): another after it */
	ASSERT_INT_EQ(forward_take_target(&relay, res), 0);
	forward_asked(&relay, clock_now_ms());
	forward_auto_take_request(&a, &relay, same);
	ASSERT_FALSE(relay.have_target);
	ASSERT_INT_EQ(forward_check_take(
			  &relay, res, NULL, FORWARD_FAILED_NONE, clock_now_ms(), NULL),
	    FORWARD_ANSWER_AGAIN);
	ASSERT_NULL(a.config);
	forward_auto_clear(&a);
	forward_clear(&relay);
	cJSON_Delete(same);
	cJSON_Delete(other);
	cJSON_Delete(res);
}

/* A "forward" request as the client sends it: forwards (JSON text) and
 * auto. */
static cJSON *
forward_request(const char *forwards, int with_auto)
{
	cJSON *req = cJSON_CreateObject();
	cJSON *ids = cJSON_CreateArray();

	cJSON_AddStringToObject(req, "op", "forward");
	cJSON_AddStringToObject(req, "workspace", "~/missing");
	cJSON_AddStringToObject(req, "config", "~/missing/c.json");
	cJSON_AddStringToObject(req, "hint", "rdev up h:~/missing");
	cJSON_AddItemToArray(ids, cJSON_CreateString("a=b"));
	cJSON_AddItemToObject(req, "idLabels", ids);
	cJSON_AddItemToObject(req, "forwards", cJSON_Parse(forwards));
	if (with_auto)
		cJSON_AddItemToObject(req, "auto", cJSON_CreateObject());
	return req;
}

TEST(only_a_request_that_adds_is_looked_at_before)
{
	cJSON *req = forward_request("[]", 0);

	/* `up`'s check of its targets alone: nothing to refuse */
	ASSERT_FALSE(forward_request_adds(req));
	cJSON_Delete(req);
	req = forward_request("[]", 1);
	ASSERT_TRUE(forward_request_adds(req));
	cJSON_Delete(req);
	req = forward_request("[{\"port\":80}]", 0);
	ASSERT_TRUE(forward_request_adds(req));
	cJSON_Delete(req);
}

TEST(the_look_before_asks_for_the_request_s_container_only)
{
	cJSON *req = forward_request("[{\"port\":80,\"service\":\"db\"}]", 0);
	cJSON *r = forward_resolve_request(req);

	ASSERT_STR_EQ(json_get_string(r, "op"), "relay");
	ASSERT_STR_EQ(json_get_string(r, "workspace"), "~/missing");
	ASSERT_STR_EQ(json_get_string(r, "config"), "~/missing/c.json");
	ASSERT_STR_EQ(json_get_string(r, "hint"), "rdev up h:~/missing");
	ASSERT_TRUE(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "resolveOnly")));
	ASSERT_TRUE(
	    forward_id_labels_same(cJSON_GetObjectItemCaseSensitive(r, "idLabels"),
		cJSON_GetObjectItemCaseSensitive(req, "idLabels")));
	/* the dev container's, not a service's; no target to confirm */
	ASSERT_NULL(json_get_string(r, "service"));
	ASSERT_NULL(json_get_string(r, "containerId"));
	cJSON_Delete(r);
	cJSON_Delete(req);
}

/* forward_request_take_attributes() of `rdev forward PORT`: a look with
 * "ports" gives the label and requireLocalPort and no warning; none (a
 * failed or timed-out look, none made: the host away, an agent without
 * "ports") leaves the entries as typed and the answer says why; a request
 * without "attributes" is told nothing. */
TEST(port_attributes_not_read_are_warned_of_with_their_reason)
{
	static const char *const why[] = { "h: the dev container c of /w is not running",
		"h is away: not connected now", NULL };
	cJSON *req, *look, *resp, *done, *errors, *w;

	req = forward_request("[{\"port\":3000}]", 0);
	cJSON_AddBoolToObject(req, "attributes", 1);
	look = cJSON_Parse("{\"ports\":{\"portsAttributes\":{\"3000\":"
			   "{\"label\":\"web\",\"requireLocalPort\":true}}}}");
	forward_request_take_attributes(req, look, NULL);
	resp = forward_answer_new(1, &done, &errors);
	forward_answer_notes(resp, req);
	ASSERT_NULL(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(resp, "result"), "warnings"));
	ASSERT_STR_EQ(
	    json_get_string(
		cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(req, "forwards"), 0),
		"label"),
	    "web");
	cJSON_Delete(resp);
	cJSON_Delete(req);
	for (int i = 0; i < 3; i++) {
		req = forward_request("[{\"port\":3000}]", 0);
		cJSON_AddBoolToObject(req, "attributes", 1);
		forward_request_take_attributes(req,
		    why[i] != NULL ? NULL : cJSON_GetObjectItemCaseSensitive(look, "x"),
		    why[i]);
		ASSERT_NULL(json_get_string(
		    cJSON_GetArrayItem(
			cJSON_GetObjectItemCaseSensitive(req, "forwards"), 0),
		    "label"));
		resp = forward_answer_new(1, &done, &errors);
		forward_answer_notes(resp, req);
		w = cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(resp, "result"), "warnings");
		ASSERT_INT_EQ(cJSON_GetArraySize(w), 1);
		if (why[i] != NULL) {
			char *want = xasprintf(
			    "port attributes not read (%s): forwarded as typed", why[i]);

			ASSERT_STR_EQ(cJSON_GetArrayItem(w, 0)->valuestring, want);
			free(want);
		} else
			ASSERT_TRUE(
			    strstr(cJSON_GetArrayItem(w, 0)->valuestring,
				"port attributes not read (the agent gave none") != NULL);
		cJSON_Delete(resp);
		cJSON_Delete(req);
	}
	req = forward_request("[{\"port\":3000}]", 0);
	forward_request_take_attributes(req, NULL, "h is away: not connected now");
	resp = forward_answer_new(1, &done, &errors);
	forward_answer_notes(resp, req);
	ASSERT_NULL(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(resp, "result"), "warnings"));
	cJSON_Delete(resp);
	cJSON_Delete(req);
	cJSON_Delete(look);
}

TEST(a_refusal_names_what_was_not_made)
{
	cJSON *req = forward_request("[{\"port\":80,\"local\":30778}]", 0);
	char *m = forward_refused_message(req, "h: no dev container for /w");

	ASSERT_STR_EQ(m, "h: no dev container for /w: not forwarded: port 30778:80");
	free(m);
	cJSON_Delete(req);
	req = forward_request(
	    "[{\"port\":3000},{\"port\":5432,\"service\":\"db\"},{\"nope\":1}]", 1);
	m = forward_refused_message(req, "h: gone");
	ASSERT_STR_EQ(m,
	    "h: gone: not forwarded: ports 3000, db:5432; no "
	    "auto-forward watch started");
	free(m);
	cJSON_Delete(req);
	req = forward_request("[]", 1);
	m = forward_refused_message(req, "h: gone");
	ASSERT_STR_EQ(m, "h: gone: no auto-forward watch started");
	free(m);
	cJSON_Delete(req);
}

TEST(a_stopped_container_s_warning_names_the_port)
{
	struct forward fw;
	char *w;

	forward_init(&fw, "/w", NULL);
	fw.port = 80;
	fw.local_port = 30779;
	w = forward_stopped_warning(&fw, "h: the dev container abc of /w is not running");
	ASSERT_STR_EQ(w,
	    "localhost:30779 -> container port 80: container stopped; the "
	    "forward answers once it runs (h: the dev container abc of /w "
	    "is not running)");
	free(w);
	fw.local_port = 0; /* an --auto watch's relay */
	w = forward_stopped_warning(&fw, "h: stopped");
	ASSERT_STR_EQ(w,
	    "the auto-forward watch: container stopped; its new ports are "
	    "forwarded once it runs (h: stopped)");
	free(w);
	forward_clear(&fw);
}

TEST(a_request_whose_look_timed_out_waits_for_no_check_in_flight)
{
	struct forward_parked_list list = TAILQ_HEAD_INITIALIZER(list);
	struct forward fw;
	cJSON *req = request("/home/u/ws", NULL, NULL);
	cJSON *same = unchanged_answer("c1");
	cJSON *done, *errors;
	int sv[2];
	char *got, *w;

	ASSERT_INT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	forward_with_stale_target(&fw);
	forward_asked(&fw, clock_now_ms()); /* a connection's check, in flight */
	forward_park(&list, sv[0], req, forward_answer_new(1, &done, &errors))
	    ->unchecked = 1;
	w = forward_check_skipped(&fw, "timed out");
	forward_parked_warning(&list, &fw, w);
	free(w);
	/* fw's check is in flight: the request's answer goes all the same */
	checking = &fw;
	forward_parked_answer(&list, parked_waiting, NULL);
	checking = NULL;
	ASSERT_TRUE(TAILQ_EMPTY(&list));
	got = answer_read(sv[1]);
	ASSERT_STR_CONTAINS(got, "not checked (timed out)");
	free(got);
	/* the answer in flight was asked before the request: one more follows */
	ASSERT_INT_EQ(fw.check_again, 1);
	ASSERT_INT_EQ(forward_check_take(
			  &fw, same, NULL, FORWARD_FAILED_NONE, clock_now_ms(), NULL),
	    FORWARD_ANSWER_AGAIN);
	ASSERT_FALSE(forward_target_fresh(&fw));
	/* with none in flight, nothing follows */
	w = forward_check_skipped(&fw, "timed out");
	free(w);
	ASSERT_INT_EQ(fw.check_again, 0);
	close(sv[1]);
	cJSON_Delete(same);
	cJSON_Delete(req);
	forward_clear(&fw);
}

TEST(a_stop_with_no_target_takes_a_live_forward_before_a_restore_error)
{
	/* host A: a saved forward not restored at 3000; host B: a live one at
	 * 3000; the local target: a live one at 4000, a restore error at 5000 */
	cJSON *sts = cJSON_Parse(
	    "[{\"host\":\"a\",\"forwards\":[{\"local\":3000,\"workspace\":\"/wa\","
	    "\"error\":\"not restored: 127.0.0.1:3000 is not free\"}]},"
	    "{\"host\":\"b\",\"forwards\":[{\"local\":3001,\"workspace\":\"/wx\"},"
	    "{\"local\":3000,\"workspace\":\"/wb\",\"error\":null}]},"
	    "{\"host\":\"local\",\"forwards\":[{\"local\":5000,\"workspace\":\"/wl\","
	    "\"error\":\"not restored\"},{\"local\":4000,\"workspace\":\"/wl\"}]}]");
	int at = -1, not_restored = -1;

	ASSERT_TRUE(sts != NULL);
	ASSERT_STR_EQ(forward_status_pick(sts, 3000, &at, &not_restored), "/wb");
	ASSERT_INT_EQ(at, 1);
	ASSERT_INT_EQ(not_restored, 0);
	ASSERT_STR_EQ(forward_status_pick(sts, 4000, &at, &not_restored), "/wl");
	ASSERT_INT_EQ(at, 2);
	ASSERT_INT_EQ(not_restored, 0);
	/* none live there: the restore error's, said to be one */
	ASSERT_STR_EQ(forward_status_pick(sts, 5000, &at, &not_restored), "/wl");
	ASSERT_INT_EQ(at, 2);
	ASSERT_INT_EQ(not_restored, 1);
	/* B's live one gone: A's restore error */
	cJSON_DeleteItemFromArray(
	    cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(sts, 1), "forwards"), 1);
	ASSERT_STR_EQ(forward_status_pick(sts, 3000, &at, &not_restored), "/wa");
	ASSERT_INT_EQ(at, 0);
	ASSERT_INT_EQ(not_restored, 1);
	ASSERT_TRUE(forward_status_pick(sts, 6000, &at, &not_restored) == NULL);
	cJSON_Delete(sts);
}
