/* local-agent.c - the local host's rdev-agent: `rdev-agent serve` as a
 * child of the broker, its stdin and stdout one end of a socketpair,
 * speaking the protocol of docs/PROTOCOL.md (HELLO, then requests with
 * their ids, answered in the order they finish), and the broker's
 * requests to it (local-internal.h). Started at the first request, again
 * after it ended; it ends when the broker closes its end (or dies). */
#include "local-internal.h"

#include <sys/wait.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "buf.h"
#include "clock.h"
#include "json-get.h"
#include "log.h"
#include "proto.h"
#include "spawn.h"
#include "xmalloc.h"

#define LOCAL_CALL_TIMEOUT_S 60
#define LOCAL_AGENT_MAX_INPUT (1u << 20) /* more without a whole frame: broken */
#define LOCAL_AGENT_MAX_ZOMBIES 8

/* One request to the agent; on the agent's list until its done has run. */
struct local_call {
	int id;
	struct local_host *lh;
	struct event *timer; /* its deadline, or its end made due */
	int ended;	     /* result or error is final: done runs in the next pass */
	cJSON *result;
	char *error;
	enum local_call_end how; /* with an error: how it failed */
	int timeout_ms;		 /* its deadline, from the start */
	local_call_done_fn done;
	void *arg;
	LIST_ENTRY(local_call) entry;
};

/* The agent child and what is asked of it. */
struct local_agent {
	pid_t pid;		 /* 0: none runs */
	struct bufferevent *bev; /* our end of its stdin/stdout */
	int hello;		 /* its HELLO came */
	unsigned starts;
	unsigned calls;
	int next_id;
	pid_t zombies[LOCAL_AGENT_MAX_ZOMBIES]; /* ended children not reaped yet */
	LIST_HEAD(, local_call) pending;
};

/* The kind of the agent's ok:false answer msg by its "errorCode" (an
 * unknown code, or none: a refusal as any other). */
static enum local_call_end
local_call_refusal(const cJSON *msg)
{
	const char *code = json_get_string(msg, "errorCode");

	/* (another user's container: as definitive, and nothing of the
	 * request is made either) */
	if (code != NULL &&
	    (strcmp(code, "no-workspace") == 0 || strcmp(code, "not-owner") == 0))
		return LOCAL_CALL_NO_WORKSPACE;
	if (code != NULL && strcmp(code, "not-running") == 0)
		return LOCAL_CALL_NOT_RUNNING;
	return LOCAL_CALL_REFUSED;
}

static struct local_agent *
local_agent_get(struct local_host *lh)
{
	if (lh->agent == NULL) {
		lh->agent = xcalloc(1, sizeof *lh->agent);
		LIST_INIT(&lh->agent->pending);
		lh->agent->next_id = 1;
	}
	return lh->agent;
}

/* Take c off the list, run its done (unless forgotten), free it. */
static void
local_call_finish(struct local_call *c)
{
	LIST_REMOVE(c, entry);
	event_free(c->timer);
	if (c->done != NULL)
		c->done(c->arg, c->error == NULL ? c->result : NULL, c->error,
		    c->error == NULL ? LOCAL_CALL_ANSWERED : c->how);
	cJSON_Delete(c->result);
	free(c->error);
	free(c);
}

/* The deadline came, or c's end was made due (local_call_end). */
static void
local_call_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct local_call *c = arg;

	(void)fd;
	(void)what;
	if (!c->ended) {
		c->how = LOCAL_CALL_TIMED_OUT;
		char wait[32];

		clock_ms_text(c->timeout_ms, wait, sizeof wait);
		c->error = xasprintf("the local agent did not answer within %s", wait);
	}
	local_call_finish(c);
}

/* End c with error (taken; NULL: its result is in), from the loop's next
 * pass. */
static void
local_call_end(struct local_call *c, char *error)
{
	struct timeval now = { 0, 0 };

	if (c->ended) {
		free(error);
		return;
	}
	c->ended = 1;
	c->error = error;
	evtimer_add(c->timer, &now);
}

/* The agent can no longer be used: fail every call with why, drop the
 * connection (the child ends at the end of its stdin) and remember the
 * child for the reap. */
static void
local_agent_lost(struct local_host *lh, const char *why)
{
	struct local_agent *a = lh->agent;
	struct local_call *c;
	int i;

	log_warn("%s: the local agent: %s", LOCAL_HOST_LABEL, why);
	LIST_FOREACH(c, &a->pending, entry)
		local_call_end(c, xasprintf("the local agent: %s", why));
	if (a->bev != NULL) {
		bufferevent_free(a->bev);
		a->bev = NULL;
	}
	for (i = 0; a->pid > 0 && i < LOCAL_AGENT_MAX_ZOMBIES; i++) {
		if (a->zombies[i] == 0) {
			a->zombies[i] = a->pid;
			break;
		}
	}
	a->pid = 0;
	a->hello = 0;
	local_agent_reap(lh);
}

/* One frame from the agent. 0, or -1 when the agent is no longer usable
 * (*why set). */
static int
local_agent_frame(struct local_host *lh, const struct proto_frame *f, char **why)
{
	struct local_agent *a = lh->agent;
	const cJSON *id, *err;
	struct local_call *c;
	uint32_t version;
	cJSON *msg;

	if ((msg = proto_frame_json(f, why)) == NULL)
		return f->type == PROTO_CONTROL || f->type == PROTO_HELLO ? -1 : 0;
	if (!a->hello) {
		a->hello = 1;
		if (f->type != PROTO_HELLO ||
		    proto_hello_negotiate(msg, &version, why) != 0) {
			if (*why == NULL)
				*why = xstrdup("it did not start with HELLO");
			cJSON_Delete(msg);
			return -1;
		}
	} else if (f->type == PROTO_FATAL) {
		err = cJSON_GetObjectItemCaseSensitive(msg, "error");
		*why = xstrdup(cJSON_IsString(err) ? err->valuestring : "fatal error");
		cJSON_Delete(msg);
		return -1;
	} else if (f->type == PROTO_CONTROL &&
	    cJSON_GetObjectItemCaseSensitive(msg, "ok") != NULL &&
	    cJSON_IsNumber(id = cJSON_GetObjectItemCaseSensitive(msg, "id"))) {
		LIST_FOREACH(c, &a->pending, entry) {
			if (c->id != id->valueint || c->ended)
				continue;
			err = cJSON_GetObjectItemCaseSensitive(msg, "error");
			if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(msg, "ok"))) {
				c->result = cJSON_DetachItemFromObjectCaseSensitive(
				    msg, "result");
				if (c->result == NULL)
					c->result = cJSON_CreateObject();
				local_call_end(c, NULL);
			} else {
				c->how = local_call_refusal(msg);
				local_call_end(c,
				    xstrdup(cJSON_IsString(err) ? err->valuestring
								: "failed"));
			}
			break;
		}
	}
	cJSON_Delete(msg); /* progress events and the like: not needed */
	return 0;
}

static void
local_agent_on_read(struct bufferevent *bev, void *arg)
{
	struct local_host *lh = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct proto_frame f;
	char *why = NULL;
	size_t used, len;
	int r;

	for (;;) {
		len = evbuffer_get_length(in);
		r = proto_decode(evbuffer_pullup(in, -1), len, &f, &used, &why);
		if (r == 0 && len > LOCAL_AGENT_MAX_INPUT)
			why = xstrdup("its answer is too large");
		if (r < 0 || why != NULL)
			break;
		if (r == 0)
			return;
		r = local_agent_frame(lh, &f, &why);
		evbuffer_drain(in, used);
		if (r != 0)
			break;
	}
	local_agent_lost(lh, why != NULL ? why : "a broken frame");
	free(why);
}

static void
local_agent_on_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	local_agent_lost(arg,
	    (what & BEV_EVENT_EOF) ? "it ended (killed, or it crashed)"
				   : "its connection failed");
}

/* Start the agent child. 0, or -1 with *cause. */
static int
local_agent_start(struct local_host *lh, char **cause)
{
	struct local_agent *a = local_agent_get(lh);
	const char *argv[] = { lh->agent_path, "serve", NULL };
	struct buf *out;
	cJSON *hello;
	int pid, fd;

	if (lh->agent_path == NULL) {
		*cause = xstrdup(
		    lh->agent_error != NULL ? lh->agent_error : "no rdev-agent to run");
		return -1;
	}
	if (spawn_socketpair(argv, 0, &pid, &fd, cause) != 0)
		return -1;
	evutil_make_socket_nonblocking(fd);
	a->bev = bufferevent_socket_new(lh->base, fd, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(a->bev, local_agent_on_read, NULL, local_agent_on_event, lh);
	bufferevent_enable(a->bev, EV_READ | EV_WRITE);
	a->pid = pid;
	a->hello = 0;
	a->starts++;
	out = buf_new();
	hello = proto_hello_new("rdev-broker " RDEV_VERSION);
	proto_encode_json(out, PROTO_HELLO, 0, hello, NULL);
	cJSON_Delete(hello);
	bufferevent_write(a->bev, buf_data(out), buf_len(out));
	buf_free(out);
	log_info("%s: started the local agent %s (pid %d)", LOCAL_HOST_LABEL,
	    lh->agent_path, (int)pid);
	return 0;
}

struct local_call *
local_agent_call(
    struct local_host *lh, const cJSON *req, local_call_done_fn done, void *arg)
{
	struct local_agent *a = local_agent_get(lh);
	struct local_call *c = xcalloc(1, sizeof *c);
	struct timeval deadline = { LOCAL_CALL_TIMEOUT_S, 0 };
	char *cause = NULL;
	struct buf *out;
	cJSON *copy;

	c->lh = lh;
	c->id = a->next_id++;
	c->done = done;
	c->arg = arg;
	c->how = LOCAL_CALL_FAILED; /* (until it says otherwise) */
	c->timeout_ms = LOCAL_CALL_TIMEOUT_S * 1000;
	c->timer = evtimer_new(lh->base, local_call_on_timer, c);
	LIST_INSERT_HEAD(&a->pending, c, entry);
	evtimer_add(c->timer, &deadline);
	if (a->bev == NULL && local_agent_start(lh, &cause) != 0) {
		local_call_end(c, cause);
		return c;
	}
	a->calls++;
	copy = cJSON_Duplicate(req, 1);
	cJSON_DeleteItemFromObjectCaseSensitive(copy, "id");
	cJSON_AddNumberToObject(copy, "id", c->id);
	out = buf_new();
	if (proto_encode_json(out, PROTO_CONTROL, 0, copy, &cause) != 0)
		local_call_end(c, cause);
	else
		bufferevent_write(a->bev, buf_data(out), buf_len(out));
	buf_free(out);
	cJSON_Delete(copy);
	return c;
}

void
local_agent_call_deadline(struct local_call *c, int timeout_ms)
{
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };

	if (c->ended) /* (its timer makes its end due now) */
		return;
	c->timeout_ms = timeout_ms;
	evtimer_add(c->timer, &tv);
}

void
local_agent_forget(struct local_call *c)
{
	if (c != NULL) {
		c->done = NULL;
		c->arg = NULL;
	}
}

cJSON *
local_agent_status(struct local_host *lh)
{
	struct local_agent *a = local_agent_get(lh);
	cJSON *o = cJSON_CreateObject();

	if (a->pid > 0)
		cJSON_AddNumberToObject(o, "pid", (double)a->pid);
	else
		cJSON_AddNullToObject(o, "pid");
	cJSON_AddNumberToObject(o, "starts", a->starts);
	cJSON_AddBoolToObject(o, "starting", a->pid > 0 && !a->hello);
	cJSON_AddStringToObject(o, "state", a->pid > 0 ? "listening" : "none");
	cJSON_AddNumberToObject(o, "channels", a->calls);
	cJSON_AddStringToObject(o, "transport", "local");
	return o;
}

void
local_agent_reap(struct local_host *lh)
{
	struct local_agent *a = lh->agent;
	int i;

	for (i = 0; a != NULL && i < LOCAL_AGENT_MAX_ZOMBIES; i++) {
		if (a->zombies[i] > 0 && waitpid(a->zombies[i], NULL, WNOHANG) != 0)
			a->zombies[i] = 0;
	}
}

void
local_agent_free(struct local_host *lh)
{
	struct local_agent *a = lh->agent;
	struct local_call *c;

	if (a == NULL)
		return;
	if (a->bev != NULL || a->pid > 0)
		local_agent_lost(lh, "the broker is stopping");
	while ((c = LIST_FIRST(&a->pending)) != NULL) {
		c->done = NULL; /* the host is going: nobody to tell */
		local_call_finish(c);
	}
	free(a);
	lh->agent = NULL;
}
