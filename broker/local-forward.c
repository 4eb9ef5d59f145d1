/* local-forward.c - the broker's local host (local-host.h): its forwards,
 * the "forward" and "unforward" requests, where the forwards go (the local
 * agent's "relay" answer), saving and restoring them, and status
 * (local-internal.h). */
#include "local-internal.h"

#include <sys/socket.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "broker-state.h"
#include "clock.h"
#include "json-get.h"
#include "log.h"
#include "xmalloc.h"

int
local_host_is_for(const cJSON *o)
{
	const char *engine = json_get_string(o, "engine");

	return engine != NULL && strcmp(engine, "local") == 0;
}

/* --- saving ------------------------------------------------------------- */

void
local_host_save(struct local_host *lh)
{
	struct local_forward *f;
	cJSON *e, *fw;
	char *cause = NULL;

	if (lh->saved == NULL)
		return;
	e = cJSON_CreateObject();
	cJSON_AddStringToObject(e, "host", LOCAL_HOST_LABEL);
	cJSON_AddStringToObject(e, "engine", "local");
	fw = cJSON_AddArrayToObject(e, "forwards");
	LIST_FOREACH(f, &lh->forwards, entry) {
		if (!f->fw.gone)
			cJSON_AddItemToArray(fw, forward_saved_json(&f->fw));
	}
	local_auto_save(lh, cJSON_AddArrayToObject(e, "autos"));
	if (broker_state_put(lh->saved, e, &cause) != 0) {
		log_warn("%s: saving the forwards: %s", LOCAL_HOST_LABEL, cause);
		free(cause);
	}
}

/* --- forwards ----------------------------------------------------------- */

static void
local_forward_on_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct local_forward *f = arg;
	int fd;

	(void)what;
	while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0)
		local_link_new(f, fd);
}

static struct event *
local_forward_watch(struct local_forward *f, int fd)
{
	struct event *ev;

	if (fd < 0)
		return NULL;
	ev = event_new(f->lh->base, fd, EV_READ | EV_PERSIST, local_forward_on_accept, f);
	if (ev == NULL || event_add(ev, NULL) != 0)
		fatal("%s: cannot watch the listener of localhost:%d", LOCAL_HOST_LABEL,
		    f->fw.local_port);
	return ev;
}

void
local_forward_free(struct local_forward *f)
{
	local_agent_forget(f->resolving);
	if (f->check_timer != NULL)
		event_free(f->check_timer);
	if (f->ev4 != NULL)
		event_free(f->ev4);
	if (f->ev6 != NULL)
		event_free(f->ev6);
	forward_clear(&f->fw);
	free(f);
}

struct forward *
local_forward_make(void *arg, const char *ws, const char *config,
    const struct forward_spec *s, int exact, char **cause)
{
	struct local_host *lh = arg;
	struct local_forward *f, *best = NULL;
	int rank, best_rank = 0;

	/* (`forward WS 8000` with 8000 and 9100:8000 there: the one at 8000) */
	LIST_FOREACH(f, &lh->forwards, entry) {
		if ((rank = forward_reuse_rank(
			 &f->fw, ws, s->service, s->port, s->local_port)) > best_rank) {
			best = f;
			best_rank = rank;
		}
	}
	if (best != NULL)
		return &best->fw;
	f = xcalloc(1, sizeof *f);
	if (forward_open(&f->fw, ws, config, s, exact, cause) != 0) {
		free(f);
		return NULL;
	}
	f->lh = lh;
	f->ev4 = local_forward_watch(f, f->fw.fd4);
	f->ev6 = local_forward_watch(f, f->fw.fd6);
	LIST_INSERT_HEAD(&lh->forwards, f, entry);
	log_info("%s: forwarding 127.0.0.1:%d -> %s:%d", LOCAL_HOST_LABEL,
	    f->fw.local_port, s->service != NULL ? s->service : "container", s->port);
	return &f->fw;
}

/* Is a forward of parked answer p's container being resolved (arg: the
 * local host)? */
static int
local_forward_resolving(void *arg, const struct forward_parked *p)
{
	struct local_host *lh = arg;
	struct local_forward *f;

	LIST_FOREACH(f, &lh->forwards, entry) {
		if (f->resolving != NULL && !f->fw.gone && forward_parked_for(p, &f->fw))
			return 1;
	}
	return 0;
}

/* Answer the parked requests whose resolves have all ended. */
static void
local_parked_check(struct local_host *lh)
{
	forward_parked_answer(&lh->parked, local_forward_resolving, lh);
}

/* The links of f that waited forward_check_bound for its target's check
 * go to the target it has; the timer is set again for those that came
 * later. */
static void
local_forward_wait_done(evutil_socket_t fd, short what, void *arg)
{
	struct local_forward *f = arg;
	struct local_link *l, *next;
	long long now = clock_now_ms(), wait, later = -1;

	(void)fd;
	(void)what;
	for (l = LIST_FIRST(&f->lh->links); l != NULL; l = next) {
		next = LIST_NEXT(l, entry);
		if (l->f != f || l->state != LOCAL_LINK_RESOLVING ||
		    (wait = forward_target_wait(&f->fw, now)) < 0)
			continue;
		if (wait > 0) {
			later = wait;
			continue;
		}
		forward_check_log_late(&f->fw, LOCAL_HOST_LABEL);
		local_link_resolved(l, 1);
	}
	if (later > 0) {
		struct timeval tv = { later / 1000, (later % 1000) * 1000 };

		evtimer_add(f->check_timer, &tv);
	}
}

/* A check of f's target went: its waiting links go on at most
 * forward_check_bound on. */
static void
local_forward_wait_arm(struct local_forward *f)
{
	long long b = forward_check_bound(&f->fw);
	struct timeval tv = { b / 1000, (b % 1000) * 1000 };

	if (!f->fw.have_target)
		return; /* (no target: the answer is waited for) */
	if (f->check_timer == NULL &&
	    (f->check_timer = evtimer_new(f->lh->base, local_forward_wait_done, f)) ==
		NULL)
		fatal("%s: cannot make a timer", LOCAL_HOST_LABEL);
	evtimer_add(f->check_timer, &tv);
}

/* The agent's answer to f's relay request (local_call_done_fn). */
static void
local_forward_resolved(
    void *arg, const cJSON *result, const char *error, enum local_call_end how)
{
	struct local_forward *f = arg;
	struct local_host *lh = f->lh;
	struct local_link *l, *next;
	enum forward_answer a;
	enum forward_error_from from;
	char *cause = NULL;

	f->resolving = NULL;
	/* (a check's failure is no connection's: --list says which) */
	from = forward_check_source(&f->fw);
	a = forward_check_end(&f->fw, &lh->parked, LOCAL_HOST_LABEL, result, error,
	    error == NULL ? FORWARD_FAILED_NONE
		: how == LOCAL_CALL_FAILED || how == LOCAL_CALL_TIMED_OUT
		? FORWARD_FAILED_ON_THE_WAY
		: FORWARD_FAILED_REFUSED,
	    clock_now_ms());
	if (a == FORWARD_ANSWER_AGAIN || a == FORWARD_ANSWER_RETRY)
		local_forward_resolve(f);
	if (a == FORWARD_ANSWER_AGAIN)
		return; /* the links (and parked answers) wait for the next answer */
	if (a == FORWARD_ANSWER_FAILED)
		cause = error != NULL
		    ? xasprintf("%s: %s", LOCAL_HOST_LABEL, error)
		    : xasprintf(
			  "%s: the agent's relay answer is incomplete", LOCAL_HOST_LABEL);
	/* (shown by --list: a forward listed that does not answer says why) */
	if (a == FORWARD_ANSWER_TARGET || a == FORWARD_ANSWER_FAILED)
		forward_check_answered(&f->fw, cause, from, NULL);
	if (cause != NULL) {
		log_warn("forward %d: %s", f->fw.local_port, cause);
		/* (stopped: not the forward's failure; it answers once the
		 * container runs) */
		if (how == LOCAL_CALL_NOT_RUNNING) {
			char *w = forward_stopped_warning(&f->fw, cause);

			forward_parked_warning(&lh->parked, &f->fw, w);
			free(w);
		} else
			forward_parked_error(&lh->parked, &f->fw, cause);
	}
	for (l = LIST_FIRST(&lh->links); l != NULL; l = next) {
		next = LIST_NEXT(l, entry);
		if (l->f == f && l->state == LOCAL_LINK_RESOLVING &&
		    !forward_check_links_wait(&f->fw, a))
			local_link_resolved(l, cause == NULL);
		else if (l->f == f && l->state == LOCAL_LINK_CONNECTING && l->probing)
			local_link_checked(l, a == FORWARD_ANSWER_FAILED);
	}
	free(cause);
	local_parked_check(lh);
}

void
local_forward_resolve(struct local_forward *f)
{
	cJSON *req;

	if (f->resolving != NULL)
		return;
	req = forward_relay_request(&f->fw);
	f->resolving = local_agent_call(f->lh, req, local_forward_resolved, f);
	forward_asked(&f->fw, clock_now_ms());
	local_forward_wait_arm(f);
	cJSON_Delete(req);
}

/* --- requests ----------------------------------------------------------- */

/* "forward": answered once the resolves it started have ended. unchecked
 * (not NULL: why, the look at its workspace that timed out): no resolve is
 * started, the forwards are made with a warning (a second call would wait
 * its 60 s as well). */
static void
local_host_forward(
    struct local_host *lh, int fd, int id, const cJSON *req, const char *unchecked)
{
	const char *ws = json_get_string(req, "workspace");
	struct local_forward *f;
	struct forward_key k;
	cJSON *done, *errors, *resp = forward_answer_new(id, &done, &errors);

	forward_answer_notes(resp, req);
	/* (one thread: status reads the forwards on it too) */
	forward_request_make(req, local_forward_make, lh, NULL, done, errors);
	/* (before the checks: the auto-forwards a watch moves are the
	 * request's container's then) */
	if (ws != NULL && cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(req, "auto")))
		local_auto_request(
		    lh, req, cJSON_GetObjectItemCaseSensitive(req, "auto"));
	/* The relay is started now (or the target checked, whatever its age:
	 * `up` may have made a new container), so that a problem shows in `up`'s output
	 * and the first connection does not wait for it. */
	/* (first: the warnings go to it; unchecked, it waits for no check in
	 * flight: that would hold it up to a call's 60 s on the agent that
	 * just did not answer) */
	forward_park(&lh->parked, fd, req, resp)->unchecked = unchecked != NULL;
	forward_key_of_request(&k, req);
	LIST_FOREACH(f, &lh->forwards, entry) {
		if (f->fw.gone || !forward_of(&f->fw, &k))
			continue;
		if (unchecked != NULL) {
			char *w = forward_check_skipped(&f->fw, unchecked);

			log_warn("%s: %s", LOCAL_HOST_LABEL, w);
			forward_parked_warning(&lh->parked, &f->fw, w);
			free(w);
		} else if (forward_check_wanted(&f->fw, f->resolving != NULL))
			local_forward_resolve(f);
	}
	forward_key_clear(&k);
	if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(req, "forwards")) > 0 ||
	    cJSON_GetObjectItemCaseSensitive(req, "auto") != NULL)
		local_host_save(lh); /* (not for up's check of the targets alone) */
	local_parked_check(lh);
}

void
local_forward_stop(struct local_forward *f)
{
	struct local_link *l;

	f->fw.gone = 1;
	log_info(
	    "%s: stopped forwarding 127.0.0.1:%d", LOCAL_HOST_LABEL, f->fw.local_port);
	/* the port is free when the answer comes */
	if (f->ev4 != NULL)
		event_del(f->ev4);
	if (f->ev6 != NULL)
		event_del(f->ev6);
	if (f->fw.fd4 >= 0)
		close(f->fw.fd4);
	if (f->fw.fd6 >= 0)
		close(f->fw.fd6);
	f->fw.fd4 = f->fw.fd6 = -1;
	LIST_FOREACH(l, &f->lh->links, entry) {
		if (l->f == f)
			local_link_kill(l);
	}
	local_host_reap_soon(f->lh);
}

/* "unforward": {"workspace"?, "local"?} (neither: all) -> {"stopped":N}. */
static void
local_host_unforward(struct local_host *lh, int fd, int id, const cJSON *req)
{
	const char *ws = json_get_string(req, "workspace");
	const cJSON *lp = cJSON_GetObjectItemCaseSensitive(req, "local");
	int local = cJSON_IsNumber(lp) ? lp->valueint : 0, n = 0;
	struct local_forward *f;
	cJSON *resp;

	LIST_FOREACH(f, &lh->forwards, entry) {
		if (!forward_stopped_by(&f->fw, ws, local))
			continue;
		local_forward_stop(f);
		n++;
	}
	local_host_reap_soon(lh);
	if (local == 0)
		local_auto_remove(lh, ws);
	n += forward_errors_forget(lh->restore_errors, ws, local);
	local_host_save(lh);
	resp = forward_stopped_answer(id, n, req);
	forward_answer_send(fd, resp);
	cJSON_Delete(resp);
	local_parked_check(lh); /* a resolve it waited for is gone */
}

/* A precheck (or held request) of req from fd, on no list yet. */
static struct local_precheck *
local_precheck_new(struct local_host *lh, int fd, int id, const cJSON *req)
{
	struct local_precheck *pc = xcalloc(1, sizeof *pc);

	pc->lh = lh;
	pc->fd = fd;
	pc->id = id;
	pc->req = cJSON_Duplicate(req, 1);
	return pc;
}

/* Free pc (its call forgotten), taken off list by the caller. */
static void
local_precheck_free(struct local_precheck *pc)
{
	local_agent_forget(pc->call);
	cJSON_Delete(pc->req);
	free(pc);
}

static void local_host_run(struct local_host *lh, int fd, int id, const cJSON *req);

/* Run the held requests that need not wait any more, in the order they
 * came. */
static void
local_host_release(struct local_host *lh)
{
	struct local_precheck *pc;

	while ((pc = forward_order_next(&lh->order)) != NULL) {
		local_host_run(lh, pc->fd, pc->id, pc->req);
		local_precheck_free(pc);
	}
}

/* The agent's look at pc's workspace (local_call_done_fn): a workspace that
 * is not there refuses the request whole, nothing made; any other answer
 * lets it go on as before (host-forward.c's host_forward_resolved_first). */
static void
local_forward_prechecked(
    void *arg, const cJSON *result, const char *error, enum local_call_end how)
{
	struct local_precheck *pc = arg;
	struct local_host *lh = pc->lh;
	char *cause;

	pc->call = NULL;
	forward_order_look_end(&lh->order, &pc->order);
	if (how == LOCAL_CALL_ANSWERED)
		forward_request_drop_services(pc->req, result, LOCAL_HOST_LABEL);
	if (how != LOCAL_CALL_NO_WORKSPACE)
		forward_request_take_attributes(pc->req,
		    how == LOCAL_CALL_ANSWERED ? result : NULL,
		    how == LOCAL_CALL_ANSWERED ? NULL
			: error != NULL	       ? error
					       : "the look at the workspace failed");
	if (how != LOCAL_CALL_NO_WORKSPACE)
		local_host_forward(lh, pc->fd, pc->id, pc->req,
		    how == LOCAL_CALL_TIMED_OUT ? error : NULL);
	else {
		cause = xasprintf("%s: %s", LOCAL_HOST_LABEL, error);
		forward_refuse(pc->fd, pc->id, pc->req, LOCAL_HOST_LABEL, cause);
		free(cause);
	}
	local_precheck_free(pc);
	local_host_release(lh);
}

void
local_host_request(struct local_host *lh, int fd, int id, const cJSON *req)
{
	const char *ws = json_get_string(req, "workspace");
	struct local_precheck *pc;

	if (!forward_order_must_wait(&lh->order, req)) {
		local_host_run(lh, fd, id, req);
		return;
	}
	/* (an unforward run now would miss what the earlier request makes
	 * once its look ends: Ctrl-C then --stop left it listening) */
	log_info("%s: %s request of %s waits for the look at its workspace in "
		 "flight",
	    LOCAL_HOST_LABEL, json_get_string(req, "op"),
	    ws != NULL ? ws : "every workspace");
	pc = local_precheck_new(lh, fd, id, req);
	forward_order_hold(&lh->order, &pc->order, pc->req, pc);
}

/* Run a forward/unforward request now (req borrowed, fd answered). */
static void
local_host_run(struct local_host *lh, int fd, int id, const cJSON *req)
{
	const char *op = json_get_string(req, "op");
	struct local_precheck *pc;
	cJSON *look;

	if (op == NULL || strcmp(op, "forward") != 0) {
		local_host_unforward(lh, fd, id, req);
		return;
	}
	/* (`up`'s check of its targets alone adds nothing to refuse) */
	if (!forward_request_adds(req) || json_get_string(req, "workspace") == NULL) {
		local_host_forward(lh, fd, id, req, NULL);
		return;
	}
	pc = local_precheck_new(lh, fd, id, req);
	forward_order_look(&lh->order, &pc->order, pc->req, pc);
	look = forward_resolve_request(req);
	pc->call = local_agent_call(lh, look, local_forward_prechecked, pc);
	local_agent_call_deadline(pc->call, forward_precheck_ms());
	cJSON_Delete(look);
}

/* --- the host ----------------------------------------------------------- */

/* Free dead links and gone forwards (a forward's links first). */
static void
local_host_on_reap(evutil_socket_t fd, short what, void *arg)
{
	struct local_host *lh = arg;
	struct local_forward *f, *fnext;
	struct local_link *l, *lnext;

	(void)fd;
	(void)what;
	for (l = LIST_FIRST(&lh->links); l != NULL; l = lnext) {
		lnext = LIST_NEXT(l, entry);
		if (l->state == LOCAL_LINK_DEAD)
			local_link_free(l);
	}
	for (f = LIST_FIRST(&lh->forwards); f != NULL; f = fnext) {
		fnext = LIST_NEXT(f, entry);
		if (f->fw.gone) {
			LIST_REMOVE(f, entry);
			local_forward_free(f);
		}
	}
}

void
local_host_reap_soon(struct local_host *lh)
{
	event_active(lh->reap_ev, 0, 0);
}

struct local_host *
local_host_new(struct event_base *base, const char *agent, const char *agent_error,
    struct broker_state *saved)
{
	struct local_host *lh = xcalloc(1, sizeof *lh);

	lh->base = base;
	lh->agent_path = agent != NULL ? xstrdup(agent) : NULL;
	lh->agent_error = agent_error != NULL ? xstrdup(agent_error) : NULL;
	lh->saved = saved;
	LIST_INIT(&lh->forwards);
	LIST_INIT(&lh->links);
	LIST_INIT(&lh->autos);
	forward_order_init(&lh->order);
	TAILQ_INIT(&lh->parked);
	lh->reap_ev = event_new(base, -1, 0, local_host_on_reap, lh);
	return lh;
}

void
local_host_set_agent(struct local_host *lh, const char *agent, const char *agent_error)
{
	free(lh->agent_path);
	free(lh->agent_error);
	lh->agent_path = agent != NULL ? xstrdup(agent) : NULL;
	lh->agent_error = agent_error != NULL ? xstrdup(agent_error) : NULL;
}

void
local_host_free(struct local_host *lh)
{
	struct local_forward *f;
	struct local_link *l;
	struct local_precheck *pc;

	if (lh == NULL)
		return;
	while ((l = LIST_FIRST(&lh->links)) != NULL)
		local_link_free(l);
	/* (their resolves end with the agent: answered as they are) */
	forward_parked_answer(&lh->parked, NULL, NULL);
	while ((pc = forward_order_take_held(&lh->order)) != NULL ||
	    (pc = forward_order_take_look(&lh->order)) != NULL) {
		close(pc->fd); /* the client sees it end */
		local_precheck_free(pc);
	}
	while ((f = LIST_FIRST(&lh->forwards)) != NULL) {
		LIST_REMOVE(f, entry);
		local_forward_free(f);
	}
	local_auto_remove(lh, NULL);
	local_agent_free(lh);
	event_free(lh->reap_ev);
	cJSON_Delete(lh->restore_errors);
	free(lh->agent_path);
	free(lh->agent_error);
	free(lh);
}

void
local_host_restore(struct local_host *lh, const cJSON *entry)
{
	int failed = forward_restore(cJSON_GetObjectItemCaseSensitive(entry, "forwards"),
	    LOCAL_HOST_LABEL, local_forward_make, lh, NULL, &lh->restore_errors);

	log_info("%s: restored %d forwards", LOCAL_HOST_LABEL,
	    cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(entry, "forwards")) -
		failed);
	local_auto_restore(lh, cJSON_GetObjectItemCaseSensitive(entry, "autos"));
	if (failed)
		local_host_save(lh); /* what was left out is not saved again */
}

cJSON *
local_host_status(struct local_host *lh)
{
	struct local_forward *f;
	struct local_link *l;
	cJSON *o, *fw;
	size_t buffered = 0;
	int clients = 0;

	if (LIST_EMPTY(&lh->forwards) && cJSON_GetArraySize(lh->restore_errors) == 0)
		return NULL;
	LIST_FOREACH(l, &lh->links, entry) {
		clients++;
		buffered += local_link_buffered(l);
	}
	if (buffered > lh->buffered_peak)
		lh->buffered_peak = buffered;
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "host", LOCAL_HOST_LABEL);
	cJSON_AddStringToObject(o, "state", "connected");
	cJSON_AddNumberToObject(o, "clients", clients);
	cJSON_AddNumberToObject(o, "buffered", (double)buffered);
	cJSON_AddNumberToObject(o, "bufferedPeak", (double)lh->buffered_peak);
	cJSON_AddNumberToObject(o, "idleSeconds", 0);
	cJSON_AddNullToObject(o, "error");
	cJSON_AddItemToObject(o, "agent", local_agent_status(lh));
	fw = cJSON_AddArrayToObject(o, "forwards");
	LIST_FOREACH(f, &lh->forwards, entry) {
		if (!f->fw.gone)
			cJSON_AddItemToArray(fw, forward_json(&f->fw));
	}
	for (const cJSON *e = lh->restore_errors != NULL ? lh->restore_errors->child
							 : NULL;
	     e != NULL; e = e->next)
		cJSON_AddItemToArray(fw, cJSON_Duplicate(e, 1));
	return o;
}

void
local_host_tick(struct local_host *lh)
{
	local_agent_reap(lh);
}
