/* test-proto-conn.c - unit tests for common/proto-conn.c: frames through a
 * socketpair, a request's progress and answer, an error answer, a peer gone. */
#include "test.h"

#include <sys/socket.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "proto-conn.h"

static void
pair(struct proto_conn **a, struct proto_conn **b)
{
	int sv[2];

	ASSERT_INT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	*a = proto_conn_new(sv[0], "peer a");
	*b = proto_conn_new(sv[1], "peer b");
}

/* Queue text as a CONTROL frame on c and write it. */
static void
send_json(struct proto_conn *c, const char *text)
{
	cJSON *o = cJSON_Parse(text);
	char *cause = NULL;

	ASSERT_NOT_NULL(o);
	ASSERT_INT_EQ(proto_conn_queue_json(c, PROTO_CONTROL, 0, o, &cause), 0);
	cJSON_Delete(o);
	if (proto_conn_flush(c, &cause) != 0)
		TEST_FAIL("flush: %s", cause);
}

TEST(frames_round_trip)
{
	struct proto_conn *a, *b;
	struct proto_frame f;
	char *cause = NULL;

	pair(&a, &b);
	send_json(a, "{\"x\":1}");
	proto_conn_queue(a, PROTO_DATA, 7, "abc", 3);
	ASSERT_INT_EQ(proto_conn_flush(a, &cause), 0);
	ASSERT_INT_EQ((int)proto_conn_pending_out(a), 0);
	ASSERT_INT_EQ(proto_conn_wait(b, &f, 2000, &cause), 1);
	ASSERT_INT_EQ(f.type, PROTO_CONTROL);
	ASSERT_INT_EQ((int)f.len, 7);
	ASSERT_MEM_EQ(f.payload, "{\"x\":1}", 7);
	ASSERT_INT_EQ(proto_conn_wait(b, &f, 2000, &cause), 1);
	ASSERT_INT_EQ(f.type, PROTO_DATA);
	ASSERT_INT_EQ((int)f.channel, 7);
	ASSERT_MEM_EQ(f.payload, "abc", 3);
	proto_conn_free(a);
	proto_conn_free(b);
}

static void
on_progress(void *arg, const char *text)
{
	char **seen = arg;

	free(*seen);
	*seen = strdup(text);
}

TEST(request_gets_progress_then_its_answer)
{
	struct proto_conn *a, *b;
	cJSON *req = cJSON_Parse("{\"id\":1,\"op\":\"up\"}"), *res = NULL;
	char *cause = NULL, *seen = NULL;

	pair(&a, &b);
	/* The answers wait in the socket before the request is even sent; one
	 * for another request is skipped. */
	send_json(b, "{\"id\":9,\"ok\":true,\"result\":{\"other\":1}}");
	send_json(b, "{\"id\":1,\"event\":\"progress\",\"text\":\"building\"}");
	send_json(b, "{\"id\":1,\"ok\":true,\"result\":{\"containerId\":\"c1\"}}");
	if (proto_conn_request(a, req, on_progress, &seen, &res, NULL, &cause) != 0)
		TEST_FAIL("request: %s", cause);
	ASSERT_STR_EQ(seen, "building");
	ASSERT_STR_EQ(
	    cJSON_GetObjectItemCaseSensitive(res, "containerId")->valuestring, "c1");
	cJSON_Delete(res);
	free(seen);
	proto_conn_free(a);
	proto_conn_free(b);
}

TEST(error_answer_is_the_cause_and_status)
{
	struct proto_conn *a, *b;
	cJSON *req = cJSON_Parse("{\"id\":2,\"op\":\"stop\"}"), *res = NULL;
	char *cause = NULL;
	int status = 0;

	pair(&a, &b);
	send_json(
	    b, "{\"id\":2,\"ok\":false,\"error\":\"no dev container\",\"exitStatus\":7}");
	ASSERT_INT_EQ(proto_conn_request(a, req, NULL, NULL, &res, &status, &cause), -1);
	ASSERT_STR_CONTAINS(cause, "no dev container");
	ASSERT_INT_EQ(status, 7);
	ASSERT_NULL(res);
	free(cause);
	proto_conn_free(a);
	proto_conn_free(b);
}

/* A failure's details ("result" beside "error": up's containerId) reach the
 * caller with the cause. */
TEST(error_answer_hands_over_its_result)
{
	struct proto_conn *a, *b;
	cJSON *req = cJSON_Parse("{\"id\":3,\"op\":\"up\"}"), *res = NULL;
	char *cause = NULL;

	pair(&a, &b);
	send_json(b,
	    "{\"id\":3,\"ok\":false,\"error\":\"onCreateCommand failed\","
	    "\"exitStatus\":1,\"result\":{\"containerId\":\"c3\"}}");
	ASSERT_INT_EQ(proto_conn_request(a, req, NULL, NULL, &res, NULL, &cause), -1);
	ASSERT_STR_CONTAINS(cause, "onCreateCommand failed");
	ASSERT_NOT_NULL(res);
	ASSERT_STR_EQ(
	    cJSON_GetObjectItemCaseSensitive(res, "containerId")->valuestring, "c3");
	cJSON_Delete(res);
	free(cause);
	proto_conn_free(a);
	proto_conn_free(b);
}

/* A failure's "errorCode" reaches the caller in the details, beside up's
 * containerId or alone (the pool's client tells an admission's refusal by
 * it). */
TEST(error_answer_hands_over_its_code)
{
	struct proto_conn *a, *b;
	cJSON *req = cJSON_Parse("{\"id\":4,\"op\":\"up\"}"), *res = NULL;
	char *cause = NULL;

	pair(&a, &b);
	send_json(b,
	    "{\"id\":4,\"ok\":false,\"error\":\"no room for this dev container "
	    "here\",\"errorCode\":\"admission-refused\",\"result\":{"
	    "\"description\":\"An error occurred setting up the container.\"}}");
	ASSERT_INT_EQ(proto_conn_request(a, req, NULL, NULL, &res, NULL, &cause), -1);
	ASSERT_STR_EQ(
	    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(res, "errorCode")),
	    "admission-refused");
	ASSERT_NOT_NULL(cJSON_GetObjectItemCaseSensitive(res, "description"));
	cJSON_Delete(res);
	free(cause);
	res = NULL;
	cause = NULL;
	req = cJSON_Parse("{\"id\":5,\"op\":\"relay\"}");
	send_json(b,
	    "{\"id\":5,\"ok\":false,\"error\":\"not yours\","
	    "\"errorCode\":\"not-owner\"}");
	ASSERT_INT_EQ(proto_conn_request(a, req, NULL, NULL, &res, NULL, &cause), -1);
	ASSERT_STR_EQ(
	    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(res, "errorCode")),
	    "not-owner");
	cJSON_Delete(res);
	free(cause);
	proto_conn_free(a);
	proto_conn_free(b);
}

TEST(peer_gone_is_said)
{
	struct proto_conn *a, *b;
	struct proto_frame f;
	char *cause = NULL;

	pair(&a, &b);
	proto_conn_free(b);
	ASSERT_INT_EQ(proto_conn_wait(a, &f, 2000, &cause), 0);
	ASSERT_STR_CONTAINS(cause, "peer a");
	ASSERT_TRUE(proto_conn_peer_gone(a));
	ASSERT_FALSE(proto_conn_deadline_met(a));
	free(cause);
	proto_conn_free(a);
}

TEST(garbage_is_an_error_not_a_crash)
{
	struct proto_conn *a, *b;
	struct proto_frame f;
	char *cause = NULL;
	const char junk[] = "this is not a frame header at all............";

	pair(&a, &b);
	ASSERT_INT_EQ((int)write(proto_conn_fd(b), junk, sizeof junk), (int)sizeof junk);
	ASSERT_INT_EQ(proto_conn_wait(a, &f, 2000, &cause), -1);
	ASSERT_NOT_NULL(cause);
	free(cause);
	proto_conn_free(a);
	proto_conn_free(b);
}

/* A FATAL ends the wait with its error; one with "host" says so, for a
 * caller that would put the host's name before it again. */
TEST(fatal_is_the_cause_and_says_if_it_names_the_host)
{
	static const char *const fatal[] = {
		"{\"error\":\"lost the SSH connection to u@h:22: "
		"closed\",\"host\":\"u@h:22\"}",
		"{\"error\":\"agent stopped\"}",
	};
	struct proto_conn *a, *b;
	cJSON *req, *res = NULL, *o;
	char *cause = NULL;
	int i;

	for (i = 0; i < 2; i++) {
		pair(&a, &b);
		o = cJSON_Parse(fatal[i]);
		ASSERT_INT_EQ(proto_conn_queue_json(b, PROTO_FATAL, 0, o, &cause), 0);
		cJSON_Delete(o);
		ASSERT_INT_EQ(proto_conn_flush(b, &cause), 0);
		req = cJSON_Parse("{\"id\":3,\"op\":\"up\"}");
		ASSERT_INT_EQ(
		    proto_conn_request(a, req, NULL, NULL, &res, NULL, &cause), -1);
		ASSERT_STR_EQ(cause,
		    i == 0 ? "lost the SSH connection to u@h:22: closed"
			   : "agent stopped");
		ASSERT_INT_EQ(proto_conn_fatal_named(a), i == 0);
		ASSERT_NULL(res);
		free(cause);
		cause = NULL;
		proto_conn_free(a);
		proto_conn_free(b);
	}
}

/* A FATAL the peer sent and closed after, between two requests (the broker
 * to `rdev logs -f` when the agent ended while it slept): the next request's
 * write finds the peer gone, and its error is the FATAL's, not "writing to
 * ...: Broken pipe". Something else before it is passed over; with no FATAL
 * the write's error stays. */
TEST(fatal_left_before_the_peer_closed_is_the_cause_of_a_failed_send)
{
	struct proto_conn *a, *b;
	cJSON *req, *res = NULL, *o;
	char *cause = NULL;
	int i;

	for (i = 0; i < 2; i++) {
		pair(&a, &b);
		send_json(b, "{\"id\":1,\"event\":\"progress\",\"text\":\"x\"}");
		if (i == 0) {
			o = cJSON_Parse("{\"error\":\"the agent on u@h:22 ended "
					"unexpectedly\",\"host\":\"u@h:22\"}");
			ASSERT_INT_EQ(
			    proto_conn_queue_json(b, PROTO_FATAL, 0, o, &cause), 0);
			cJSON_Delete(o);
			ASSERT_INT_EQ(proto_conn_flush(b, &cause), 0);
		}
		proto_conn_free(b);
		req = cJSON_Parse("{\"id\":3,\"op\":\"logs\"}");
		ASSERT_INT_EQ(
		    proto_conn_request(a, req, NULL, NULL, &res, NULL, &cause), -1);
		ASSERT_TRUE(proto_conn_peer_gone(a));
		if (i == 0) {
			ASSERT_STR_EQ(cause, "the agent on u@h:22 ended unexpectedly");
			ASSERT_INT_EQ(proto_conn_fatal_named(a), 1);
		} else {
			ASSERT_STR_CONTAINS(cause, "writing to peer a");
			ASSERT_INT_EQ(proto_conn_fatal_named(a), 0);
		}
		ASSERT_NULL(res);
		free(cause);
		cause = NULL;
		proto_conn_free(a);
	}
}

/* The same for a stream's flush, not a request's: the broker tells a client
 * uploading a folder (DATA frames, `rdev sync`) that it lost the host, and
 * closes; the blocked flush's error was "writing to the broker: Broken
 * pipe". */
TEST(fatal_left_before_the_peer_closed_is_the_cause_of_a_failed_flush)
{
	static unsigned char chunk[256 << 10];
	struct proto_conn *a, *b;
	char *cause = NULL;
	cJSON *o;

	pair(&a, &b);
	o = cJSON_Parse("{\"error\":\"lost the SSH connection to u@h:22: no "
			"answer to keepalive\",\"host\":\"u@h:22\"}");
	ASSERT_INT_EQ(proto_conn_queue_json(b, PROTO_FATAL, 0, o, &cause), 0);
	cJSON_Delete(o);
	ASSERT_INT_EQ(proto_conn_flush(b, &cause), 0);
	proto_conn_free(b);
	for (int i = 0; i < 8; i++)
		proto_conn_queue(a, PROTO_DATA, 1, chunk, sizeof chunk);
	ASSERT_INT_EQ(proto_conn_flush(a, &cause), -1);
	ASSERT_TRUE(proto_conn_peer_gone(a));
	ASSERT_STR_EQ(cause, "lost the SSH connection to u@h:22: no answer to keepalive");
	ASSERT_INT_EQ(proto_conn_fatal_named(a), 1);
	free(cause);
	proto_conn_free(a);
}

/* A FATAL in answer to our HELLO (a version the peer refuses) is the peer's
 * text after the connection's name, once: the broker refuses before it sends
 * its HELLO, in its own words, so the name says who refused. One whose
 * "host" says it names its host (the broker's, when an agent connection's
 * agent ended before it spoke and a new one could not be reached) is its
 * text alone. */
TEST(fatal_at_hello_names_the_peer_once)
{
	static const char *const fatal[] = {
		"{\"error\":\"protocol version mismatch: this rdev speaks 1..3, "
		"rdev 9.0 speaks 9..9; install matching versions\"}",
		"{}",
		"{\"error\":\"the agent on u@h:22 ended before it served this "
		"command, and a new one could not be reached: x\",\"host\":\"u@h:22\"}",
	};
	struct proto_conn *a, *b;
	uint32_t version = 0;
	char *cause = NULL;
	cJSON *o;
	int i;

	for (i = 0; i < 3; i++) {
		pair(&a, &b);
		o = cJSON_Parse(fatal[i]);
		ASSERT_INT_EQ(proto_conn_queue_json(b, PROTO_FATAL, 0, o, &cause), 0);
		cJSON_Delete(o);
		ASSERT_INT_EQ(proto_conn_flush(b, &cause), 0);
		ASSERT_INT_EQ(proto_conn_handshake(a, "rdev 0.1", &version, &cause), -1);
		ASSERT_STR_EQ(cause,
		    i == 0	 ? "peer a: protocol version mismatch: this rdev speaks "
				   "1..3, rdev 9.0 speaks 9..9; install matching versions"
			: i == 1 ? "peer a: refused the session"
				 : "the agent on u@h:22 ended before it served this "
				   "command, and a new one could not be reached: x");
		free(cause);
		cause = NULL;
		proto_conn_free(a);
		proto_conn_free(b);
	}
}

/* A peer that takes the connection and never answers (a stopped broker):
 * a handshake (its own wait 30 s) and a request (none) give up at the
 * deadline, and say so by proto_conn_deadline_met (what `rdev ls @POOL`
 * words its own way), and a connection without one is not cut by it. */
TEST(deadline_bounds_a_silent_peer)
{
	struct proto_conn *a, *b;
	uint32_t version = 0;
	cJSON *req, *result = NULL;
	char *cause = NULL;
	long long t0;

	pair(&a, &b);
	t0 = clock_now_ms();
	proto_conn_set_deadline(a, t0 + 200);
	ASSERT_FALSE(proto_conn_deadline_met(a));
	ASSERT_INT_EQ(proto_conn_handshake(a, "rdev 0.1", &version, &cause), -1);
	ASSERT_STR_EQ(cause, "peer a did not answer in time");
	ASSERT_TRUE(proto_conn_deadline_met(a));
	ASSERT_TRUE(clock_now_ms() - t0 < 5000);
	free(cause);
	cause = NULL;
	t0 = clock_now_ms();
	proto_conn_set_deadline(a, t0 + 200);
	req = cJSON_Parse("{\"id\":1,\"op\":\"x\"}");
	ASSERT_FALSE(proto_conn_deadline_met(a)); /* (a new deadline clears it) */
	ASSERT_INT_EQ(proto_conn_request(a, req, NULL, NULL, &result, NULL, &cause), -1);
	ASSERT_STR_EQ(cause, "peer a did not answer in time");
	ASSERT_TRUE(proto_conn_deadline_met(a));
	ASSERT_TRUE(clock_now_ms() - t0 >= 190 && clock_now_ms() - t0 < 5000);
	free(cause);
	cause = NULL;
	/* (cleared: a wait's own timeout again) */
	proto_conn_set_deadline(a, 0);
	ASSERT_INT_EQ(proto_conn_wait(a, &(struct proto_frame){ 0 }, 100, &cause), -1);
	ASSERT_STR_CONTAINS(cause, "did not answer within");
	ASSERT_FALSE(proto_conn_deadline_met(a)); /* (its own timeout: no deadline) */
	free(cause);
	proto_conn_free(a);
	proto_conn_free(b);
}
