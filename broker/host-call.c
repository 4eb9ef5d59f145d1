/* host-call.c - the broker's own requests to the host's agent (relay
 * lookups, auto-forward listings), asynchronous, from a host session's
 * thread (host-internal.h): the channel is opened with host_agent_opener,
 * the request written once it is open, the answer gathered by the
 * channel's callbacks. Where the agent session takes DATA right behind a
 * stream's open (PROTO_FEATURE_EARLY_DATA), the call is a stream of it
 * whose open and request go together: one round trip, not two. */
#include "host-internal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "clock.h"
#include "error.h"
#include "json-get.h"
#include "log.h"
#include "proto.h"
#include "xmalloc.h"

/* --- requests from the broker itself (asynchronous) ---------------------- */

/* How long a request may take in all (open, the relay's start...). */
#define HOST_CALL_TIMEOUT_MS 60000
/* The most an answer may be. */
#define HOST_CALL_MAX_ANSWER (1u << 20)

/* A call's life (host_call_set_state): opening (its channel, the agent
 * started first if none runs) -> asking (the request is written, the answer
 * awaited) -> done (result or error final: done runs and the call is freed
 * in this round). Either of the first two may go to done at once. Asking
 * goes back to opening once: a request sent behind a stream's open whose
 * agent ended before it answered (unnoticed when it was sent: the old way
 * found the socket refused and tried a new agent) is sent again, to the
 * agent started next. */
enum host_call_state { HOST_CALL_OPENING, HOST_CALL_ASKING, HOST_CALL_DONE };

/* One request to the agent: its channel's open is sent without waiting, the
 * request written once it is open, the answer gathered by the channel's
 * callbacks; done runs on the host thread when it is in, has failed or its
 * time is up. On h->calls; freed there once done. */
struct host_call {
	unsigned id; /* for the log: the session's calls are numbered from 1 */
	enum host_call_state state;
	struct host_session *h;
	ssh_channel ch;
	struct ssh_channel_callbacks_struct cb; /* userdata: this call */
	struct host_mux_chan *mx; /* instead of ch: a stream of the agent session */
	uint32_t session_id;	  /* instead of both: asked on the agent session itself
				     (host_mux_request), this its id there */
	cJSON *req;
	struct host_agent_opener open;
	struct buf *out; /* a stream's: the HELLO and request it has not taken */
	struct buf *in;	 /* the agent's bytes, not decoded yet */
	int got_hello;
	int eof;	/* the channel ended */
	int idempotent; /* HOST_CALL_IDEMPOTENT: may be sent again */
	int resent;	/* sent again after its agent ended (once) */
	cJSON *result;
	char *error;
	/* how it failed, as far as known where it failed (host_call_end_of
	 * says what done is told) */
	enum host_call_end how;
	long long deadline;
	int timeout_ms;		/* what deadline is from the start */
	host_call_done_fn done; /* NULL: forgotten by whoever asked */
	void *arg;
	LIST_ENTRY(host_call) entry; /* on h->calls */
};

/* The op of c's request, for messages. */
static const char *
host_call_op(const struct host_call *c)
{
	const char *op = json_get_string(c->req, "op");

	return op != NULL ? op : "?";
}

static const char *
host_call_state_name(enum host_call_state s)
{
	switch (s) {
	case HOST_CALL_OPENING: return "opening";
	case HOST_CALL_ASKING: return "asking";
	case HOST_CALL_DONE: return "done";
	}
	return "?";
}

/* Move c on to state to: forward (opening -> asking -> done, or opening ->
 * done), or asking -> opening once (resent); anything else is a broken
 * invariant. */
static void
host_call_set_state(struct host_call *c, enum host_call_state to)
{
	if (to <= c->state &&
	    !(c->state == HOST_CALL_ASKING && to == HOST_CALL_OPENING && !c->resent))
		fatal("%s: call %u: %s -> %s is not a transition", c->h->label, c->id,
		    host_call_state_name(c->state), host_call_state_name(to));
	log_debug("%s: call %u: %s -> %s", c->h->label, c->id,
	    host_call_state_name(c->state), host_call_state_name(to));
	c->state = to;
}

static int
host_call_on_data(ssh_session session, ssh_channel channel, void *data, uint32_t len,
    int is_stderr, void *userdata)
{
	struct host_call *c = userdata;

	(void)session;
	(void)channel;
	c->h->kicked = 1;
	if (is_stderr) /* an exec channel's agent (streamlocal_denied) */
		host_log_agent_stderr(c->h, data, len);
	else if (buf_len(c->in) + len <= HOST_CALL_MAX_ANSWER)
		buf_append(c->in, data, len);
	else
		c->eof = 1; /* too much: the decode fails on what is there */
	return (int)len;
}

static void
host_call_on_eof(ssh_session session, ssh_channel channel, void *userdata)
{
	struct host_call *c = userdata;

	(void)session;
	(void)channel;
	c->eof = 1;
	c->h->kicked = 1;
}

/* A stream's bytes (host_mux_data_fn): gathered, and granted again at once
 * (the answer's bound is checked here, as for a channel). */
static size_t
host_call_mux_data(void *arg, const unsigned char *data, size_t len)
{
	struct host_call *c = arg;

	host_call_on_data(NULL, NULL, (void *)data, (uint32_t)len, 0, c);
	host_mux_consumed(c->mx, len);
	return len;
}

static void
host_call_mux_eof(void *arg)
{
	host_call_on_eof(NULL, NULL, arg);
}

static void
host_call_drop_channel(struct host_call *c)
{
	host_mux_close(c->mx);
	c->mx = NULL;
	if (c->ch == NULL)
		return;
	/* libssh keeps a freed channel until the peer's close comes, and
	 * would still run its callbacks on c */
	ssh_remove_channel_callbacks(c->ch, &c->cb);
	if (ssh_channel_is_open(c->ch)) {
		ssh_channel_send_eof(c->ch);
		ssh_channel_close(c->ch);
	}
	ssh_channel_free(c->ch);
	c->ch = NULL;
}

/* c failed (how) with error (taken): done runs in this round. */
static void
host_call_fail(struct host_call *c, enum host_call_end how, char *error)
{
	if (c->state == HOST_CALL_DONE) {
		free(error);
		return;
	}
	c->error = error;
	c->how = how;
	host_call_set_state(c, HOST_CALL_DONE);
	c->h->kicked = 1; /* done runs in this round */
}

static void
host_call_attach(struct host_call *c, ssh_channel ch)
{
	c->ch = ch;
	ssh_set_channel_callbacks(ch, &c->cb);
}

/* A stream's HELLO and request, as far as it takes them now (its credit,
 * the session's out buffer); the rest goes in a later round. */
static void
host_call_push(struct host_call *c)
{
	if (c->mx != NULL && buf_len(c->out) > 0)
		buf_consume(
		    c->out, host_mux_write(c->mx, buf_data(c->out), buf_len(c->out)));
}

/* The channel is open (or a stream's open sent, early): write the HELLO
 * and the request. */
static void
host_call_send(struct host_call *c)
{
	struct host_session *h = c->h;
	struct buf *out = c->out;
	unsigned char tmp[4096];
	char *why = NULL;
	cJSON *hello;
	int n;

	hello = proto_hello_new("rdev-broker " RDEV_VERSION);
	proto_encode_json(out, PROTO_HELLO, 0, hello, NULL);
	cJSON_Delete(hello);
	if (proto_encode_json(out, PROTO_CONTROL, 0, c->req, &why) != 0)
		host_call_fail(c, HOST_CALL_FAILED, why);
	else if (c->mx != NULL)
		host_call_push(c);
	else if (ssh_channel_write(c->ch, buf_data(out), (uint32_t)buf_len(out)) !=
	    (int)buf_len(out))
		host_call_fail(c, HOST_CALL_FAILED,
		    xasprintf("%s: writing to the agent: %s", h->label,
			ssh_get_error(rdev_ssh_session(h->ssh))));
	if (c->mx == NULL)
		buf_reset(out);
	/* what came before the callbacks were set (an exec channel's open is
	 * waited for) */
	while (c->ch != NULL &&
	    (n = ssh_channel_read_nonblocking(c->ch, tmp, sizeof tmp, 0)) > 0)
		buf_append(c->in, tmp, (size_t)n);
}

/* Can c be asked on the agent session itself? An "info" (the broker's probe
 * of many hosts at once) while the agent listens: the agent answers it in
 * its own process, with no channel to open and no process to start. */
static int
host_call_on_session(const struct host_call *c)
{
	const char *op =
	    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c->req, "op"));

	return op != NULL && strcmp(op, "info") == 0 &&
	    c->h->agent_state == HOST_AGENT_LISTENING && c->h->agent_ch != NULL &&
	    !c->h->mux_broken;
}

/* Ask c on a stream of the agent session whose open goes with the request
 * (the agent listens and takes early data; no open of c's is in flight):
 * 1, or 0 when c must open first. */
static int
host_call_early(struct host_call *c)
{
	struct host_session *h = c->h;
	struct host_mux_chan *mx;

	if (c->open.ch != NULL || c->open.mx != NULL ||
	    (mx = host_mux_open_early(h, "agent", NULL, 0, HOST_LINK_BUFFER)) == NULL)
		return 0;
	/* (an opener that waited for the agent's start has no open to drop) */
	host_agent_opener_clear(&c->open);
	log_debug("%s: call %u: stream %u, the request behind its open", h->label, c->id,
	    mx->id);
	pthread_mutex_lock(&h->lock);
	h->agent_opens++;
	pthread_mutex_unlock(&h->lock);
	c->mx = mx;
	host_mux_set_owner(mx, host_call_mux_data, host_call_mux_eof, c);
	host_call_set_state(c, HOST_CALL_ASKING);
	host_call_send(c);
	return 1;
}

/* Go on opening c's channel (the agent started first if none runs), then
 * write the request. */
static void
host_call_open_step(struct host_call *c)
{
	ssh_channel ch = NULL;
	struct host_mux_chan *mx = NULL;
	char *cause = NULL;
	int rc;

	if (c->open.ch == NULL && c->open.mx == NULL && c->open.start_seq == 0 &&
	    host_call_on_session(c)) {
		c->session_id = host_mux_request(c->h, c->req);
		host_call_set_state(c, HOST_CALL_ASKING);
		return;
	}
	if (host_call_early(c))
		return;
	rc = host_agent_opener_step(c->h, &c->open, &ch, &mx, &cause);

	if (rc == 0)
		return;
	if (rc < 0) {
		host_call_fail(c, HOST_CALL_FAILED, cause);
		return;
	}
	if (mx != NULL) {
		c->mx = mx;
		host_mux_set_owner(mx, host_call_mux_data, host_call_mux_eof, c);
	} else
		host_call_attach(c, ch);
	host_call_set_state(c, HOST_CALL_ASKING);
	host_call_send(c);
}

/* The kind of the agent's ok:false answer msg by its "errorCode" (an
 * unknown code, or none from an older agent: a refusal as any other). */
static enum host_call_end
host_call_refusal(const cJSON *msg)
{
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(msg, "errorCode");

	/* (another user's container: as definitive, and nothing of the
	 * request is made either) */
	if (cJSON_IsString(code) &&
	    (strcmp(code->valuestring, "no-workspace") == 0 ||
		strcmp(code->valuestring, "not-owner") == 0))
		return HOST_CALL_NO_WORKSPACE;
	if (cJSON_IsString(code) && strcmp(code->valuestring, "not-running") == 0)
		return HOST_CALL_NOT_RUNNING;
	return HOST_CALL_REFUSED;
}

/* Decode what the agent said: final once its answer (or an error) is in. */
static void
host_call_read(struct host_call *c)
{
	struct host_session *h = c->h;
	struct proto_frame f;
	const cJSON *v;
	char *why = NULL;
	uint32_t version;
	size_t used;
	cJSON *msg;
	int r;

	while (
	    (r = proto_decode(buf_data(c->in), buf_len(c->in), &f, &used, &why)) == 1) {
		msg = proto_frame_json(&f, NULL);
		buf_consume(c->in, used);
		if (msg == NULL)
			continue;
		if (f.type == PROTO_HELLO && !c->got_hello) {
			c->got_hello = 1;
			if (proto_hello_negotiate(msg, &version, &why) != 0) {
				cJSON_Delete(msg);
				host_call_fail(c, HOST_CALL_FAILED, why);
				return;
			}
		} else if (f.type == PROTO_FATAL) {
			v = cJSON_GetObjectItemCaseSensitive(msg, "error");
			host_call_fail(c, HOST_CALL_FAILED,
			    xasprintf("%s: agent: %s", h->label,
				cJSON_IsString(v) ? v->valuestring : "fatal error"));
			cJSON_Delete(msg);
			return;
		} else if (f.type == PROTO_CONTROL &&
		    cJSON_GetObjectItemCaseSensitive(msg, "ok") != NULL) {
			v = cJSON_GetObjectItemCaseSensitive(msg, "error");
			if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(msg, "ok"))) {
				c->result = cJSON_DetachItemFromObjectCaseSensitive(
				    msg, "result");
				host_call_set_state(c, HOST_CALL_DONE);
			} else
				host_call_fail(c, host_call_refusal(msg),
				    xasprintf("%s: %s", h->label,
					cJSON_IsString(v) ? v->valuestring : "failed"));
			cJSON_Delete(msg);
			return;
		}
		cJSON_Delete(msg);
	}
	if (r < 0)
		host_call_fail(c, HOST_CALL_FAILED, why);
	else if (c->mx != NULL && c->mx->state == HOST_MUX_FAILED && c->mx->lost &&
	    c->mx->early && !c->resent && !c->idempotent)
		/* the request went behind the open and its agent ended before
		 * the answer: it may have run, and asked again it would run
		 * twice (only HOST_CALL_IDEMPOTENT calls are) */
		host_call_fail(c, HOST_CALL_FAILED,
		    xasprintf("%s: call \"%s\": the agent ended before it answered; it "
			      "may or may not have run (not sent again)",
			h->label, host_call_op(c)));
	else if (c->mx != NULL && c->mx->state == HOST_MUX_FAILED && c->mx->lost &&
	    c->mx->early && !c->resent) {
		/* its agent ended before the answer: once more, to the next.
		 * Also once its open was answered (the stream's end then set
		 * eof, the child's HELLO may be in): the child serving it
		 * outlives the listening agent, as one serving a socket
		 * connection does, but its answer went through the agent that
		 * ended (a socket channel's would have come); the request is
		 * asked again, as a refused socket's was (relay lookups make
		 * sure of a relay: asked twice, the same) */
		log_info("%s: call %u: the agent ended before it answered; asking "
			 "again",
		    h->label, c->id);
		host_mux_close(c->mx);
		c->mx = NULL;
		buf_reset(c->out);
		host_call_set_state(c, HOST_CALL_OPENING);
		c->resent = 1;
		c->eof = 0;
		c->got_hello = 0;
		buf_reset(c->in);
		h->kicked = 1;
	} else if (c->eof)
		host_call_fail(c, HOST_CALL_FAILED,
		    xasprintf("%s: the agent ended without an answer", h->label));
	else if (c->mx != NULL && c->mx->state == HOST_MUX_FAILED)
		/* (an early open refused, or the agent gone before its answer) */
		host_call_fail(c, HOST_CALL_FAILED,
		    xasprintf("%s: cannot reach the agent: %s", h->label,
			c->mx->error != NULL ? c->mx->error : "stream refused"));
	else
		host_call_push(c);
}

struct host_call *
host_agent_call_start(struct host_session *h, const cJSON *req, unsigned flags,
    host_call_done_fn done, void *arg)
{
	struct host_call *c = xcalloc(1, sizeof *c);

	c->idempotent = (flags & HOST_CALL_IDEMPOTENT) != 0;

	c->id = ++h->call_seq;
	c->state = HOST_CALL_OPENING;
	c->h = h;
	c->req = cJSON_Duplicate(req, 1);
	c->in = buf_new();
	c->out = buf_new();
	c->done = done;
	c->arg = arg;
	c->timeout_ms = HOST_CALL_TIMEOUT_MS;
	c->deadline = clock_now_ms() + c->timeout_ms;
	ssh_callbacks_init(&c->cb);
	c->cb.userdata = c;
	c->cb.channel_data_function = host_call_on_data;
	c->cb.channel_eof_function = host_call_on_eof;
	c->cb.channel_close_function = host_call_on_eof;
	LIST_INSERT_HEAD(&h->calls, c, entry);
	if (h->calls_ended != NULL) /* (no agent started on a dead session) */
		host_call_fail(
		    c, HOST_CALL_ENDING, xasprintf("%s: %s", h->label, h->calls_ended));
	else if (h->ev == NULL || h->ssh == NULL)
		host_call_fail(
		    c, HOST_CALL_GONE, xasprintf("%s: not connected", h->label));
	else
		host_call_open_step(c);
	h->kicked = 1;
	return c;
}

void
host_agent_call_deadline(struct host_call *c, int timeout_ms)
{
	c->timeout_ms = timeout_ms;
	c->deadline = clock_now_ms() + timeout_ms;
}

void
host_agent_call_forget(struct host_call *c)
{
	if (c != NULL) {
		c->done = NULL;
		c->arg = NULL;
	}
}

/* How c ended, as its done is told: a failure on the way while the
 * session is ending, or after its connection went (before the loop saw
 * it: the failure may be that), is the session's end, not the call's. */
static enum host_call_end
host_call_end_of(const struct host_call *c)
{
	struct host_session *h = c->h;

	if (c->error == NULL)
		return HOST_CALL_ANSWERED;
	if (c->how == HOST_CALL_REFUSED || c->how == HOST_CALL_NO_WORKSPACE ||
	    c->how == HOST_CALL_NOT_RUNNING)
		return c->how;
	/* (an error with no kind set is a failure, never "answered") */
	if (h->calls_ended != NULL)
		return HOST_CALL_ENDING;
	if (h->ssh == NULL || !ssh_is_connected(rdev_ssh_session(h->ssh)))
		return HOST_CALL_GONE;
	return c->how == HOST_CALL_ANSWERED ? HOST_CALL_FAILED : c->how;
}

/* Take c off h->calls, run its done and free it. */
static void
host_call_finish(struct host_session *h, struct host_call *c)
{
	LIST_REMOVE(c, entry);
	host_call_drop_channel(c);
	host_agent_opener_clear(&c->open);
	if (c->done != NULL)
		c->done(h, c->arg, c->result, c->error, host_call_end_of(c));
	cJSON_Delete(c->result);
	cJSON_Delete(c->req);
	buf_free(c->in);
	buf_free(c->out);
	free(c->error);
	free(c);
}

int
host_agent_calls_progress(struct host_session *h)
{
	struct host_call *c;
	long long now = clock_now_ms();
	int opening = 0;

again:
	LIST_FOREACH(c, &h->calls, entry) {
		if (c->state == HOST_CALL_OPENING)
			host_call_open_step(c);
		if (c->state == HOST_CALL_ASKING && (c->ch != NULL || c->mx != NULL))
			host_call_read(c);
		if (c->state != HOST_CALL_DONE && now >= c->deadline) {
			char wait[32];

			clock_ms_text(c->timeout_ms, wait, sizeof wait);
			host_call_fail(c, HOST_CALL_TIMED_OUT,
			    xasprintf("%s: the agent did not answer within %s", h->label,
				wait));
		}
		if (c->state == HOST_CALL_DONE) {
			/* done may start calls of its own: from the top again */
			host_call_finish(h, c);
			goto again;
		}
	}
	LIST_FOREACH(c, &h->calls, entry) {
		if (c->state == HOST_CALL_OPENING && c->open.ch != NULL) {
			opening++;
			if (ssh_channel_is_open(c->open.ch))
				h->kicked = 1; /* the answer came inside another call */
		}
	}
	return opening;
}

void
host_agent_call_answer(struct host_session *h, uint32_t id, const cJSON *msg)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(msg, "error");
	struct host_call *c;

	LIST_FOREACH(c, &h->calls, entry) {
		if (c->session_id != id || c->state != HOST_CALL_ASKING)
			continue;
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(msg, "ok"))) {
			c->result = cJSON_Duplicate(
			    cJSON_GetObjectItemCaseSensitive(msg, "result"), 1);
			host_call_set_state(c, HOST_CALL_DONE);
			h->kicked = 1;
		} else
			host_call_fail(c, host_call_refusal(msg),
			    xasprintf("%s: %s", h->label,
				cJSON_IsString(v) ? v->valuestring : "failed"));
		return;
	}
}

void
host_agent_calls_session_lost(struct host_session *h, const char *why)
{
	struct host_call *c;

	LIST_FOREACH(c, &h->calls, entry) {
		if (c->session_id != 0 && c->state == HOST_CALL_ASKING)
			host_call_fail(
			    c, HOST_CALL_FAILED, xasprintf("%s: %s", h->label, why));
	}
}

void
host_agent_calls_end(struct host_session *h, const char *why)
{
	struct host_call *c;

	h->calls_ended = why;
	while ((c = LIST_FIRST(&h->calls)) != NULL) {
		if (c->state != HOST_CALL_DONE) {
			c->error = xasprintf("%s: %s", h->label, why);
			c->how = HOST_CALL_ENDING;
			host_call_set_state(c, HOST_CALL_DONE);
		}
		host_call_finish(h, c);
	}
}

void
host_agent_calls_reopen(struct host_session *h)
{
	h->calls_ended = NULL;
}
