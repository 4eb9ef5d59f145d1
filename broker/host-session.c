/* host-session.c - one host's SSH session: the thread that takes the
 * broker's jobs, connects, serves links and forwards, ends when idle and
 * reconnects when lost, and the broker's side of it (host-session.h). The
 * pieces it drives: host-internal.h. */
#include "host-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "agent-install.h"
#include "buf.h"
#include "clock.h"
#include "error.h"
#include "log.h"
#include "xmalloc.h"

/* Longest wait while a channel open is unanswered: a refusal that libssh
 * read inside another call shows nowhere else. */
#define HOST_OPEN_POLL_MS 5

char *
host_session_key(struct rdev_ssh_dest_cache *c, const struct ssh_target_opts *o)
{
	return rdev_ssh_destination_cached(c, o);
}

/* --- the session's state, failing the waiting jobs ---------------------- */

static const char *
host_state_name(enum host_state s)
{
	switch (s) {
	case HOST_CONNECTING: return "connecting";
	case HOST_CONNECTED: return "connected";
	case HOST_LOST: return "lost";
	case HOST_RECONNECTING: return "reconnecting";
	case HOST_FAILED: return "failed";
	case HOST_CLOSED: return "closed";
	}
	return "?";
}

/* May a session go from one state to the other (host_state's table)? */
static int
host_state_may(enum host_state from, enum host_state to)
{
	switch (from) {
	case HOST_CONNECTING:
		return to == HOST_CONNECTED || to == HOST_RECONNECTING ||
		    to == HOST_FAILED;
	case HOST_CONNECTED: return to == HOST_LOST || to == HOST_CLOSED;
	case HOST_LOST: return to == HOST_RECONNECTING;
	case HOST_RECONNECTING: /* (failed: the config took it elsewhere) */
		return to == HOST_RECONNECTING || to == HOST_CONNECTED ||
		    to == HOST_FAILED;
	case HOST_FAILED:
	case HOST_CLOSED: return 0;
	}
	return 0;
}

/* Change the session's state, with the lock held (status reads it). */
static void
host_state_change(struct host_session *h, enum host_state state)
{
	if (!host_state_may(h->state, state))
		fatal("%s: %s -> %s is not a transition", h->label,
		    host_state_name(h->state), host_state_name(state));
	if (h->state != state)
		log_debug("%s: %s -> %s", h->label, host_state_name(h->state),
		    host_state_name(state));
	h->state = state;
}

/* Change the session's state and what it says (error, copied; NULL:
 * nothing). */
static void
host_set_state(struct host_session *h, enum host_state state, const char *error)
{
	pthread_mutex_lock(&h->lock);
	host_state_change(h, state);
	free(h->error);
	h->error = error != NULL ? xstrdup(error) : NULL;
	pthread_mutex_unlock(&h->lock);
}

/* Answer a job (on no list) with error (of the connect failure fail: NULL,
 * none; host_send_failure), close and free it. */
static void
host_fail_job(
    struct host_job *j, const char *error, const struct ssh_connect_report *fail)
{
	host_send_failure(j->fd, j->request_id, error, fail);
	close(j->fd);
	cJSON_Delete(j->req);
	free(j);
}

/* Answer a list of jobs with error and close them; the list is left empty. */
static void
host_fail_job_list(
    struct host_jobs *list, const char *error, const struct ssh_connect_report *fail)
{
	struct host_job *j;

	while ((j = TAILQ_FIRST(list)) != NULL) {
		TAILQ_REMOVE(list, j, entry);
		host_fail_job(j, error, fail);
	}
}

/* Answer every waiting client with error (fail: as host_fail_job) and close
 * them. */
static void
host_fail_jobs(
    struct host_session *h, const char *error, const struct ssh_connect_report *fail)
{
	struct host_jobs jobs = TAILQ_HEAD_INITIALIZER(jobs);

	pthread_mutex_lock(&h->lock);
	TAILQ_CONCAT(&jobs, &h->jobs, entry);
	pthread_mutex_unlock(&h->lock);
	host_fail_job_list(&jobs, error, fail);
}

/* --- connect and install ------------------------------------------------ */

/* Does a queued client ask to record an unknown host key? */
static int
host_jobs_accept_new(struct host_session *h)
{
	struct host_job *j;
	int accept = 0;

	pthread_mutex_lock(&h->lock);
	TAILQ_FOREACH(j, &h->jobs, entry)
		accept |= j->accept_new_host_key;
	pthread_mutex_unlock(&h->lock);
	return accept;
}

/* Connect with the ssh-agent socket a client gave last (opts.auth_sock),
 * recording an unknown host key only when a client waiting for this attempt
 * asked to (never in a reconnect nobody asked for). */
static struct rdev_ssh *
host_ssh_connect(struct host_session *h, char **cause)
{
	struct rdev_ssh *s;

	pthread_mutex_lock(&h->lock);
	if (h->auth_sock != NULL &&
	    (h->opt_auth_sock == NULL || strcmp(h->auth_sock, h->opt_auth_sock) != 0)) {
		free(h->opt_auth_sock);
		h->opt_auth_sock = xstrdup(h->auth_sock);
	}
	pthread_mutex_unlock(&h->lock);
	h->opts.auth_sock = h->opt_auth_sock;
	h->opts.report = &h->connect_report;
	h->opts.accept_new_host_key = h->attempt_accepted_new = host_jobs_accept_new(h);
	s = rdev_ssh_connect(&h->opts, cause);
	h->opts.accept_new_host_key = 0;
	return s;
}

char *
host_lost_now(struct host_session *h, const char *doing)
{
	ssh_session ss = h->ssh != NULL ? rdev_ssh_session(h->ssh) : NULL;

	if (ss == NULL || ssh_is_connected(ss))
		return NULL;
	return xasprintf("lost the SSH connection to %s: %s (while %s)", h->label,
	    ssh_get_error(ss), doing);
}

int
host_install_current(struct host_session *h, char **agent_path,
    void (*progress)(void *arg, const char *line), char **cause)
{
	struct agent_bundle *b;
	char *path = NULL, *err = NULL, *lost;
	int again = 0;

	for (;;) {
		if ((b = agent_bundle_slot_take_fresh(h->bundles)) == NULL) {
			free(err);
			return error_set(cause, "%s: no agent bundle", h->label);
		}
		if (agent_install_ensure(h->ssh, b, &path, progress, h, &err) == 0)
			break;
		if (again || !agent_bundle_stale(b)) {
			agent_bundle_free(b);
			/* The link cut under the upload: told as every loss
			 * is, not as its exec channel's read failing ("u@h:22:
			 * reading from sh: Socket error: disconnected"). */
			if ((lost = host_lost_now(h, "installing the agent")) != NULL) {
				free(err);
				err = lost;
			}
			if (err == NULL)
				return error_set(cause, "%s: install failed", h->label);
			if (cause != NULL)
				*cause = err; /* (handed over, not copied) */
			else
				free(err);
			return -1;
		}
		agent_bundle_free(b);
		log_info("%s: the agent bundle changed during its install (%s): "
			 "installing the new one",
		    h->label, err != NULL ? err : "no reason given");
		free(err);
		err = NULL;
		again = 1;
	}
	free(err);
	free(*agent_path);
	*agent_path = path;
	agent_bundle_free(h->bundle);
	h->bundle = b;
	return 0;
}

/* Make sure the agent is on the host (h->agent_path, of h->bundle). The
 * bundle is the current one now, not the one current when the session was
 * made: a package upgrade since has put the new bundle's files where the old
 * one's were, and they would fail the old one's hashes. */
static int
host_install(struct host_session *h, char **cause)
{
	if (h->fixed_agent != NULL) {
		h->agent_path = xstrdup(h->fixed_agent);
		return 0;
	}
	return host_install_current(h, &h->agent_path, host_progress_all, cause);
}

/* h->ssh has just connected: the session's name as the connect made it
 * (user@host:port, status and logs), and what the connect noticed (ssh
 * config options not honoured, ...) to the log and to the waiting clients,
 * which print them even when they print no progress (client/remote.c): once
 * a session is opened, not for each command that reuses it. */
static void
host_connected(struct host_session *h)
{
	const char *const *notes;
	size_t i, n;

	pthread_mutex_lock(&h->lock);
	free(h->label);
	h->label = xstrdup(rdev_ssh_host_label(h->ssh));
	pthread_mutex_unlock(&h->lock);
	notes = rdev_ssh_notes(h->ssh, &n);
	for (i = 0; i < n; i++) {
		char *line = xasprintf("warning: %s", notes[i]);

		log_warn("%s: ssh config: %s", h->label, notes[i]);
		host_progress_all(h, line);
		free(line);
	}
	/* the system file's: the admin's choice, which the user may not
	 * change; every command saying so would be noise */
	notes = rdev_ssh_system_notes(h->ssh, &n);
	for (i = 0; i < n; i++)
		log_warn("%s: ssh config (system file): %s", h->label, notes[i]);
}

static int
host_connect(struct host_session *h, char **cause)
{
	host_progress_all(h, "connecting to host");
	h->ssh = host_ssh_connect(h, cause);
	if (h->ssh == NULL)
		return -1;
	host_connected(h);
	if (host_install(h, cause) != 0)
		return -1;
	/* The one agent of this session: the login shell runs here, once. */
	return host_agent_start(h, cause);
}

/* host_call_done_fn of an "info" job: its answer to its fd, then the job
 * is done. */
static void
host_info_done(struct host_session *h, void *arg, const cJSON *result, const char *error,
    enum host_call_end how)
{
	struct host_job *j = arg;
	cJSON *o;

	(void)how;
	if (error != NULL)
		host_send_error(j->fd, j->request_id, error);
	else {
		o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "id", j->request_id);
		cJSON_AddBoolToObject(o, "ok", 1);
		cJSON_AddItemToObject(o, "result",
		    result != NULL ? cJSON_Duplicate(result, 1) : cJSON_CreateObject());
		host_send_json(j->fd, PROTO_CONTROL, o);
		cJSON_Delete(o);
	}
	close(j->fd);
	cJSON_Delete(j->req);
	free(j);
}

/* Does j need a connected session: an "info" job (the broker's probe: the
 * agent's answer) or a "connect"? (Forward changes work offline.) */
static int
host_job_needs_session(const struct host_job *j)
{
	const char *op = j->req != NULL ? json_get_string(j->req, "op") : NULL;

	return op != NULL && (strcmp(op, "info") == 0 || strcmp(op, "connect") == 0);
}

/* Run a queued job: an agent client (spliced), the broker's "info" for a
 * probe, or a forward request. */
static void
host_run_job(struct host_session *h, struct host_job *j)
{
	const char *op = j->req != NULL ? json_get_string(j->req, "op") : NULL;

	if (op == NULL) {
		host_link_open(h, j);
		return;
	}
	if (strcmp(op, "info") == 0) {
		host_agent_call_start(h, j->req, HOST_CALL_IDEMPOTENT, host_info_done, j);
		return;
	}
	if (strcmp(op, "connect") == 0) {
		host_connect_add(h, j); /* answered once open */
		return;
	}
	host_forward_job(h, j); /* forward, unforward */
}

/* --- the thread --------------------------------------------------------- */

/* Empty the wake pipe (its bytes only wake the thread) when the last pass
 * saw it readable: not a read that fails per round (a system call costs
 * microseconds in a VM, and a round per forwarded message is common). The
 * jobs themselves are taken from the list each round. */
static void
host_drain_wake(struct host_session *h)
{
	char c[64];

	if (!h->woken)
		return;
	h->woken = 0;
	while (read(h->wake[0], c, sizeof c) > 0)
		;
}

/* Take the waiting jobs into jobs (empty before). Returns 1 if asked to
 * stop. */
static int
host_take_jobs(struct host_session *h, struct host_jobs *jobs)
{
	int stop;

	host_drain_wake(h);
	pthread_mutex_lock(&h->lock);
	TAILQ_CONCAT(jobs, &h->jobs, entry);
	stop = h->stop;
	pthread_mutex_unlock(&h->lock);
	return stop;
}

/* Count the links and their buffered bytes (for status); end the thread if
 * idle with nothing queued. Returns 1 if it ends. */
static int
host_maybe_end_idle(struct host_session *h)
{
	struct host_link *l;
	int end = 0;

	pthread_mutex_lock(&h->lock);
	h->nclients = 0;
	h->buffered = 0;
	LIST_FOREACH(l, &h->links, entry) {
		/* (a clientless one, an open handed over to be closed once
		 * answered, host_link_orphan_open, is nobody's) */
		if (l->fd >= 0 || !host_link_dead(l))
			h->nclients++;
		h->buffered += buf_len(l->to_ch) + buf_len(l->to_cli);
	}
	if (h->buffered > h->buffered_peak)
		h->buffered_peak = h->buffered;
	if (h->nclients > 0 || !TAILQ_EMPTY(&h->jobs) || !LIST_EMPTY(&h->forwards) ||
	    !LIST_EMPTY(&h->autos) || !TAILQ_EMPTY(&h->parked) || !LIST_EMPTY(&h->calls))
		h->idle_since = time(NULL);
	else if (time(NULL) - h->idle_since >= h->idle_timeout_s) {
		h->ended = 1;
		end = 1;
	}
	pthread_mutex_unlock(&h->lock);
	return end;
}

enum host_end { HOST_END_STOP, HOST_END_IDLE, HOST_END_LOST };

/* Keep why the connection was lost (copied; NULL: a reconnect, no loss). */
static void
host_set_lost(struct host_session *h, const char *why)
{
	free(h->lost);
	h->lost = why != NULL ? xstrdup(why) : NULL;
}

/* An SSH error message (cause) without the session's "host NAME (ADDRESS)"
 * prefix: the reason alone, for a message that names the host itself. A
 * pointer into cause. */
static const char *
host_lost_reason(const struct host_session *h, const char *cause)
{
	const char *prefix = h->ssh != NULL ? rdev_ssh_prefix(h->ssh) : NULL;
	size_t n = prefix != NULL ? strlen(prefix) : 0;

	if (n == 0)
		return cause;
	if (strncmp(cause, prefix, n) == 0 && strncmp(cause + n, ": ", 2) == 0)
		return cause + n + 2;
	return cause;
}

/* What a client failed while the session is down is told: after a loss,
 * the loss first (its request came after it, or before its link opened: it
 * is as lost as the links, though the next attempt's connect is what
 * failed it), then what failed now: the reconnect's failure (reconnecting)
 * or why the session ended. New string. */
static char *
host_down_cause(const struct host_session *h, const char *cause, int reconnecting)
{
	if (h->lost == NULL)
		return xstrdup(cause);
	return xasprintf("lost the SSH connection to %s: %s; %s%s", h->label, h->lost,
	    reconnecting ? "reconnecting: " : "", host_lost_reason(h, cause));
}

static enum host_end
host_serve(struct host_session *h)
{
	int ssh_fd = ssh_get_fd(rdev_ssh_session(h->ssh));
	long long keepalive_ms, wait_ms, check_ms;
	struct host_link *l;
	struct host_jobs jobs = TAILQ_HEAD_INITIALIZER(jobs);
	struct host_job *j;
	int opening = 0, calls_opening, rc;
	enum host_end end = HOST_END_STOP;
	char *cause = NULL;
	ssh_event ev = ssh_event_new();

	/* Lets us process what the server sends while no channel is read
	 * (keepalive requests, window adjusts): ssh_event_dopoll. */
	ssh_event_add_session(ev, rdev_ssh_session(h->ssh));
	h->ev = ev;
	host_agent_calls_reopen(h);
	h->last_rx = clock_now_ms();
	h->serving = 1;
	host_watch_ssh(h, ssh_fd);
	keepalive_ms = (long long)rdev_ssh_keepalive_interval(h->ssh) * 1000;
	for (;;) {
		if (host_take_jobs(h, &jobs)) {
			host_fail_job_list(&jobs, "the broker is stopping", NULL);
			break;
		}
		host_agent_check(h);
		while ((j = TAILQ_FIRST(&jobs)) != NULL) {
			TAILQ_REMOVE(&jobs, j, entry);
			host_run_job(h, j);
		}
		h->kicked = 0;
		calls_opening = host_agent_calls_progress(h);
		LIST_FOREACH(l, &h->links, entry) {
			if (host_link_opening(l) && l->agent_open != NULL)
				host_link_open_progress(h, l);
			else if (host_link_opening(l))
				host_forward_open_progress(h, l);
		}
		LIST_FOREACH(l, &h->links, entry)
			host_link_pump(h, l);
		check_ms = host_forward_waits_step(h);
		host_drop_dead_links(h);
		host_connects_sweep(h);
		host_auto_tick(h);
		opening = host_links_check(h) + calls_opening + host_agent_start_step(h) +
		    host_mux_step(h);
		if (host_maybe_end_idle(h)) {
			log_info(
			    "%s: idle for %d s, closing", h->label, h->idle_timeout_s);
			end = HOST_END_IDLE;
			break;
		}
		if (!rdev_ssh_keepalive_pending(h->ssh) &&
		    clock_now_ms() - h->last_rx >= keepalive_ms &&
		    rdev_ssh_peer_acking(h->ssh))
			h->last_rx = clock_now_ms();
		/* Sent, then asked about on each round: the links go on while
		 * it is answered (a wait would hold them a round trip). */
		if (rdev_ssh_keepalive_pending(h->ssh) ||
		    clock_now_ms() - h->last_rx >= keepalive_ms) {
			rc = rdev_ssh_keepalive_step(h->ssh, clock_now_ms(), &cause);
			if (rc < 0) {
				log_warn("%s", cause);
				host_set_state(h, HOST_LOST, cause);
				/* (sshd killed: whether this step or the check
				 * below meets it first is timing; one reason) */
				host_set_lost(h,
				    ssh_is_connected(rdev_ssh_session(h->ssh))
					? host_lost_reason(h, cause)
					: HOST_LOST_CLOSED);
				host_links_lost(h, h->lost);
				free(cause);
				host_close_all_links(h);
				end = HOST_END_LOST;
				break;
			}
			if (rc > 0) {
				h->last_rx = clock_now_ms();
				continue; /* it may have read channel data */
			}
		}
		if (!ssh_is_connected(rdev_ssh_session(h->ssh))) {
			host_set_state(h, HOST_LOST, "the connection was closed");
			log_warn("%s: connection closed", h->label);
			host_set_lost(h, HOST_LOST_CLOSED);
			host_links_lost(h, HOST_LOST_CLOSED);
			host_close_all_links(h);
			end = HOST_END_LOST;
			break;
		}

		/* What libssh queued in this round (window adjusts made while
		 * reading a link's backlog, ...) goes now: the peer may be
		 * waiting for it, and nothing else would send it before the
		 * socket has data to read. */
		h->ssh_out = rdev_ssh_flush(h->ssh) == 1;

		/* Channel data reaches the links through callbacks, in whatever
		 * libssh call reads it; one that ran since the pump means work
		 * before any wait (kicked). Wake for the keepalive on time: a
		 * silent host is dropped within interval x count of its last
		 * word. */
		wait_ms = rdev_ssh_keepalive_pending(h->ssh)
		    ? 1000 /* (the answer wakes it; the deadline is checked) */
		    : h->last_rx + keepalive_ms - clock_now_ms();
		wait_ms = wait_ms < 0 ? 0 : wait_ms > 1000 ? 1000 : wait_ms;
		if (check_ms >= 0 && check_ms < wait_ms)
			wait_ms = check_ms; /* a bounded wait for a check ends */
		if (host_watch_pass(h,
			h->kicked	  ? 0
			    : opening > 0 ? HOST_OPEN_POLL_MS
					  : wait_ms) != 0) {
			log_error("%s: the event loop failed", h->label);
			break;
		}
	}
	/* The broker's requests to the agent fail (forward requests waiting
	 * for them are answered), then the links go. */
	host_agent_calls_end(h,
	    end == HOST_END_LOST ? "the connection to the host was "
				   "lost"
				 : "the host session is ending");
	host_forward_parked_check(h);
	host_close_all_links(h);
	host_auto_end_listings(h);
	host_agent_stop(h);
	host_watch_ssh(h, -1);
	h->serving = 0;
	ssh_event_remove_session(ev, rdev_ssh_session(h->ssh));
	ssh_event_free(ev);
	h->ev = NULL;
	return end;
}

/* Put the jobs of list back at the head of h->jobs, in order, before
 * those that came meanwhile; list is left empty. */
static void
host_jobs_put_back(struct host_session *h, struct host_jobs *list)
{
	pthread_mutex_lock(&h->lock);
	TAILQ_CONCAT(list, &h->jobs, entry);
	TAILQ_CONCAT(&h->jobs, list, entry);
	pthread_mutex_unlock(&h->lock);
}

/* While not connected: run the queued jobs that work offline (forward
 * changes); the others stay queued, in order, for the next connect attempt
 * (its progress and prompts reach them there). 1 if a client waits, 0 if
 * none, -1 when asked to stop (every job failed). */
static int
host_offline_jobs(struct host_session *h)
{
	struct host_jobs jobs = TAILQ_HEAD_INITIALIZER(jobs);
	struct host_jobs wait = TAILQ_HEAD_INITIALIZER(wait);
	struct host_job *j;
	int waiting;

	if (host_take_jobs(h, &jobs)) {
		host_fail_job_list(&jobs, "the broker is stopping", NULL);
		return -1;
	}
	while ((j = TAILQ_FIRST(&jobs)) != NULL) {
		TAILQ_REMOVE(&jobs, j, entry);
		if (j->req != NULL && !host_job_needs_session(j))
			host_run_job(h, j);
		else
			TAILQ_INSERT_TAIL(&wait, j, entry);
	}
	waiting = !TAILQ_EMPTY(&wait);
	host_jobs_put_back(h, &wait);
	return waiting;
}

/* Has the broker asked the thread to stop? */
static int
host_stopping(struct host_session *h)
{
	int stop;

	pthread_mutex_lock(&h->lock);
	stop = h->stop;
	pthread_mutex_unlock(&h->lock);
	return stop;
}

/* rdev_ssh_connect's wait (ssh_target_opts.wait): while the connect waits
 * for a host (up to ConnectTimeout for one that drops our packets), the
 * thread still hears the broker. A stop abandons the connect at once
 * (`rdev-broker stop` joins this thread); during a reconnect the forward
 * requests, which work offline, are answered meanwhile (the refuser, which
 * closes what connects to the listeners, is restarted around them: they
 * add and close listeners). Clients that need the session stay queued and
 * get this attempt's outcome. */
static int
host_connect_wait(void *arg, int fd, short events, int ms)
{
	struct host_session *h = arg;
	struct pollfd p[2] = {
		{ .fd = h->wake[0], .events = POLLIN },
		{ .fd = fd, .events = events },
	};
	int stop;

	if (poll(p, fd >= 0 ? 2 : 1, ms) > 0 && (p[0].revents & POLLIN))
		h->woken = 1;
	if (h->refuser != NULL && h->woken) {
		host_refuser_stop(h->refuser);
		stop = host_offline_jobs(h) < 0;
		if (!stop)
			host_refuser_start(h, h->refuser);
		return stop ? -1 : 0;
	}
	host_drain_wake(h); /* (the jobs stay on the list) */
	if (!host_stopping(h))
		return 0;
	/* (told why, not the abandoned connect's "connect abandoned") */
	host_fail_jobs(h, "the broker is stopping", NULL);
	return -1;
}

/* The last connect attempt failed with cause: the waiting clients are
 * told, but one that asked to accept an unknown host key, when the attempt
 * did not and failed on exactly that, stays queued for an attempt that
 * does. 1 if any stays. */
static int
host_jobs_attempt_failed(struct host_session *h, const char *cause)
{
	struct host_jobs jobs = TAILQ_HEAD_INITIALIZER(jobs);
	struct host_jobs retry = TAILQ_HEAD_INITIALIZER(retry);
	struct host_job *j;
	int key_unknown = !h->attempt_accepted_new &&
	    h->connect_report.fail == SSH_FAIL_HOSTKEY &&
	    h->connect_report.hostkey == SSH_HOSTKEY_UNKNOWN;
	char *told = host_down_cause(h, cause, 1);
	int kept;

	pthread_mutex_lock(&h->lock);
	TAILQ_CONCAT(&jobs, &h->jobs, entry);
	pthread_mutex_unlock(&h->lock);
	while ((j = TAILQ_FIRST(&jobs)) != NULL) {
		TAILQ_REMOVE(&jobs, j, entry);
		if (key_unknown && j->accept_new_host_key)
			TAILQ_INSERT_TAIL(&retry, j, entry);
		else
			host_fail_job(j, told, &h->connect_report);
	}
	free(told);
	kept = !TAILQ_EMPTY(&retry);
	host_jobs_put_back(h, &retry);
	return kept;
}

/* The session is lost but forwards remain: keep their listeners (closing
 * what connects meanwhile) and reconnect with capped exponential backoff and
 * jitter. A client that asks for the host meanwhile makes the next attempt
 * now and gets its outcome (with its --accept-new-host-key), but not within
 * HOST_RETRY_GAP_MS of a failed one: it gets that one's cause (clients that
 * keep coming, a sync's retries, must not hammer a host that is down).
 * first_cause: the failed first connect's (a restored session), or NULL. 0
 * when connected again, -1 when asked to stop, 1 when the ssh config now
 * takes the alias elsewhere (SSH_FAIL_MOVED: the session ends). */
static int
host_reconnect(struct host_session *h, const char *first_cause)
{
	long long delay = 1000, until, last_end = clock_now_ms();
	struct host_forward *f;
	struct host_auto *a;
	struct host_refuser refuser;
	char *cause = NULL, *state;
	char *last_cause = first_cause != NULL ? xstrdup(first_cause) : NULL;
	int attempt = 0, waiting;

	for (;;) {
		until =
		    clock_now_ms() + delay + randombytes_uniform((uint32_t)delay / 2 + 1);
		for (;;) {
			if ((waiting = host_offline_jobs(h)) < 0) {
				free(last_cause);
				return -1;
			}
			/* (one kept to accept an unknown key: an attempt now) */
			if (waiting && last_cause != NULL &&
			    clock_now_ms() - last_end < HOST_RETRY_GAP_MS)
				waiting = host_jobs_attempt_failed(h, last_cause);
			if (waiting || clock_now_ms() >= until)
				break;
			/* (not serving: the listeners' connections are closed) */
			if (host_watch_pass(h, until - clock_now_ms()) != 0)
				break;
		}
		attempt++;
		if (waiting)
			host_progress_all(h, "connecting to host (reconnecting)");
		rdev_ssh_free(h->ssh);
		h->ssh = NULL; /* (the offline jobs run during the connect) */
		host_refuser_start(h, &refuser);
		h->refuser = &refuser;
		h->ssh = host_ssh_connect(h, &cause);
		h->refuser = NULL;
		host_refuser_stop(&refuser);
		if (h->ssh == NULL && host_stopping(h)) {
			/* (abandoned: no failed attempt to report) */
			host_fail_jobs(h, "the broker is stopping", NULL);
			free(cause);
			free(last_cause);
			return -1;
		}
		if (h->ssh != NULL)
			host_connected(h);
		/* A restored session that never connected has no agent yet. */
		if (h->ssh != NULL &&
		    (h->agent_path != NULL || host_install(h, &cause) == 0)) {
			LIST_FOREACH(f, &h->forwards, entry)
				f->fw.have_target = 0;
			LIST_FOREACH(f, &h->connects, entry)
				f->fw.have_target = 0;
			LIST_FOREACH(a, &h->autos, entry)
				a->relay->fw.have_target = 0;
			host_set_state(h, HOST_CONNECTED, NULL);
			host_set_lost(h, NULL);
			log_info("%s: reconnected after %d attempts", h->label, attempt);
			free(last_cause);
			return 0;
		}
		if (h->connect_report.fail == SSH_FAIL_MOVED) {
			/* Final: retrying would fail the same way for ever, the
			 * listeners held (the new session could not bind them). */
			log_warn("%s: %s", h->label, cause);
			host_jobs_attempt_failed(h, cause);
			free(cause);
			free(last_cause);
			return 1;
		}
		state = xasprintf("reconnect attempt %d failed: %s", attempt, cause);
		log_warn("%s: %s", h->label, state);
		host_set_state(h, HOST_RECONNECTING, state);
		free(state);
		/* (one kept to accept the unknown key makes the next at once) */
		host_jobs_attempt_failed(h, cause);
		free(last_cause);
		last_cause = cause;
		cause = NULL;
		last_end = clock_now_ms();
		delay = delay * 2 > 30000 ? 30000 : delay * 2;
	}
}

/* The thread's last step: what is left (the SSH session, a ProxyCommand's
 * end, which may take its SIGTERM grace) is done, so the broker's loop can
 * join the thread without waiting. */
static void *
host_session_finish(struct host_session *h)
{
	pthread_mutex_lock(&h->lock);
	h->finished = 1;
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

/* The session cannot go on: say why (cause is taken), fail the waiting
 * jobs and end the thread. */
static void *
host_session_failed(struct host_session *h, char *cause)
{
	log_warn("%s", cause);
	host_set_state(h, HOST_FAILED, cause);
	pthread_mutex_lock(&h->lock);
	h->ended = 1;
	pthread_mutex_unlock(&h->lock);
	host_fail_jobs(h, cause, &h->connect_report);
	free(cause);
	host_watch_free(h);
	return host_session_finish(h);
}

/* The ssh config took the alias elsewhere: the session's forwards and
 * watches are kept for the broker (h->moved), which hands them to the new
 * destination's session once this one is freed (its listeners closed). */
static void
host_session_moved(struct host_session *h)
{
	cJSON *e = host_state_entry(h);
	char *why =
	    xasprintf("the ssh config now takes %s elsewhere: this session "
		      "ended, its %d forwards go to the new destination's session",
		h->opts.host,
		cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(e, "forwards")));

	log_warn("%s: %s", h->label, why);
	host_set_state(h, HOST_FAILED, why);
	free(why);
	pthread_mutex_lock(&h->lock);
	h->moved = e;
	pthread_mutex_unlock(&h->lock);
}

static void *
host_session_main(void *arg)
{
	struct host_session *h = arg;
	char *cause = NULL;
	int connected = 1, rc = 0;

	if (host_watch_init(h, &cause) != 0)
		return host_session_failed(h, cause);

	/* Wait for the first client (submit comes right after new); a restored
	 * session connects at once, for its forwards and watches. */
	for (;;) {
		pthread_mutex_lock(&h->lock);
		if (!TAILQ_EMPTY(&h->jobs) || h->stop || h->restored) {
			pthread_mutex_unlock(&h->lock);
			break;
		}
		pthread_mutex_unlock(&h->lock);
		host_watch_pass(h, 1000);
		host_drain_wake(h);
	}
	if (host_connect(h, &cause) == 0) {
		host_set_state(h, HOST_CONNECTED, NULL);
		log_info("%s: connected, agent %s", h->label, h->agent_path);
	} else if (host_stopping(h)) {
		/* (abandoned for a stop, as in host_reconnect: no failed
		 * connect to report, no reconnect to start) */
		free(cause);
		host_fail_jobs(h, "the broker is stopping", NULL);
		connected = 0;
	} else if (!LIST_EMPTY(&h->forwards) || !LIST_EMPTY(&h->autos)) {
		/* Restored forwards keep their listeners: retry as after a loss. */
		log_warn("%s", cause);
		host_set_state(h, HOST_RECONNECTING, cause);
		host_jobs_attempt_failed(h, cause);
		rc = host_reconnect(h, cause);
		connected = rc == 0;
		free(cause);
	} else
		return host_session_failed(h, cause);
	while (connected && host_serve(h) == HOST_END_LOST && !LIST_EMPTY(&h->forwards)) {
		host_set_state(h, HOST_RECONNECTING, "the connection was lost");
		if ((rc = host_reconnect(h, NULL)) != 0)
			break;
	}
	if (rc == 1)
		host_session_moved(h);
	pthread_mutex_lock(&h->lock);
	h->ended = 1;
	if (h->state == HOST_CONNECTED)
		host_state_change(h, HOST_CLOSED);
	pthread_mutex_unlock(&h->lock);
	/* Clients that came while we were ending (after a loss: told it, as
	 * the links were; no forwards, so no reconnect failed them). */
	if (h->lost != NULL) {
		char *told = host_down_cause(h, "the host session ended; try again", 0);

		host_fail_jobs(h, told, NULL);
		free(told);
	} else
		host_fail_jobs(h, "the host session ended; try again", NULL);
	rdev_ssh_free(h->ssh);
	h->ssh = NULL;
	host_watch_free(h);
	return host_session_finish(h);
}

/* --- the broker's side -------------------------------------------------- */

static char *
host_strdup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

struct host_session *
host_session_new(const struct host_session_params *p)
{
	struct host_session *h = xcalloc(1, sizeof *h);

	pthread_mutex_init(&h->lock, NULL);
	TAILQ_INIT(&h->jobs);
	TAILQ_INIT(&h->parked);
	forward_order_init(&h->order);
	LIST_INIT(&h->calls);
	LIST_INIT(&h->links);
	LIST_INIT(&h->forwards);
	LIST_INIT(&h->connects);
	LIST_INIT(&h->autos);
	LIST_INIT(&h->mux_chans);
	h->mux_in = buf_new();
	h->mux_out = buf_new();
	if (pipe2(h->wake, O_NONBLOCK | O_CLOEXEC) != 0)
		fatal("pipe: %s", strerror(errno));
	h->opts = p->ssh;
	h->opts.host = h->opt_host = xstrdup(p->ssh.host);
	h->opts.user = h->opt_user = host_strdup_or_null(p->ssh.user);
	h->opts.ssh_config_file = h->opt_config =
	    host_strdup_or_null(p->ssh.ssh_config_file);
	h->opts.known_hosts_file = h->opt_known =
	    host_strdup_or_null(p->ssh.known_hosts_file);
	h->opts.dest_key = h->opt_dest_key = host_strdup_or_null(p->ssh.dest_key);
	h->opts.dest_local_user = h->opt_dest_user =
	    host_strdup_or_null(p->ssh.dest_local_user);
	h->opts.dest_home = h->opt_dest_home = host_strdup_or_null(p->ssh.dest_home);
	/* (the key's first line: user@hostname:port) */
	if (h->opt_dest_key != NULL && strncmp(h->opt_dest_key, "unresolved\n", 11) != 0)
		h->destination =
		    xstrndup(h->opt_dest_key, strcspn(h->opt_dest_key, "\n"));
	h->opts.auth_sock = NULL;
	h->auth_sock = host_strdup_or_null(p->ssh.auth_sock);
	/* A daemon has no terminal: prompts go to the client (host_ask). */
	h->opts.ask = host_ask;
	h->opts.ask_arg = h;
	h->opts.wait = host_connect_wait;
	h->opts.wait_arg = h;
	rdev_ssh_abort_init(&h->connect_abort);
	h->opts.abort = &h->connect_abort;
	h->bundles = p->bundles;
	h->idle_timeout_s = p->idle_timeout_s;
	h->connect_idle_ms =
	    clock_env_ms("RDEV_HOST_CONNECT_IDLE_MS", HOST_CONNECT_IDLE_MS);
	h->fixed_agent = host_strdup_or_null(p->agent_path);
	h->saved = p->saved;
	h->label = xasprintf("%s%s%s", p->ssh.user != NULL ? p->ssh.user : "",
	    p->ssh.user != NULL ? "@" : "", p->ssh.host);
	h->state = HOST_CONNECTING;
	h->agent_transport = "streamlocal";
	h->tcp_forwarding = h->streamlocal_forwarding = "untried";
	if (getenv("RDEV_FORWARD_VIA") != NULL &&
	    strcmp(getenv("RDEV_FORWARD_VIA"), "session") == 0) {
		/* (a benchmark's and test's knob: as if sshd refused TCP
		 * forwarding, without asking it) */
		h->tcp_denied = 1;
		h->tcp_forwarding = "not used (RDEV_FORWARD_VIA=session)";
	}
	h->idle_since = time(NULL);
	if (p->restore != NULL) {
		/* Before the thread starts (it owns them from then on): the ports
		 * listen again before the broker says it is ready. */
		h->restored = 1;
		h->restore = cJSON_Duplicate(p->restore, 1);
		host_state_restore(h);
	}
	if (pthread_create(&h->thread, NULL, host_session_main, h) != 0)
		fatal("pthread_create: %s", strerror(errno));
	return h;
}

static void
host_wake(struct host_session *h)
{
	if (write(h->wake[1], "x", 1) < 0) {
		/* full pipe: the thread is awake anyway */
	}
}

void
host_session_set_auth_sock(struct host_session *h, const char *auth_sock)
{
	if (auth_sock == NULL)
		return;
	pthread_mutex_lock(&h->lock);
	free(h->auth_sock);
	h->auth_sock = xstrdup(auth_sock);
	pthread_mutex_unlock(&h->lock);
}

int
host_session_submit(
    struct host_session *h, int fd, int request_id, const cJSON *req, unsigned flags)
{
	struct host_job *j;

	pthread_mutex_lock(&h->lock);
	if (h->ended || h->stop) {
		pthread_mutex_unlock(&h->lock);
		return -1;
	}
	j = xcalloc(1, sizeof *j);
	j->fd = fd;
	j->request_id = request_id;
	j->req = req != NULL ? cJSON_Duplicate(req, 1) : NULL;
	j->accept_new_host_key = (flags & HOST_SUBMIT_ACCEPT_NEW_KEY) != 0;
	j->can_prompt = (flags & HOST_SUBMIT_CAN_PROMPT) != 0;
	TAILQ_INSERT_TAIL(&h->jobs, j, entry);
	h->idle_since = time(NULL);
	pthread_mutex_unlock(&h->lock);
	host_wake(h);
	return 0;
}

int
host_session_ended(struct host_session *h)
{
	int ended;

	pthread_mutex_lock(&h->lock);
	ended = h->ended;
	pthread_mutex_unlock(&h->lock);
	return ended;
}

int
host_session_finished(struct host_session *h)
{
	int finished;

	pthread_mutex_lock(&h->lock);
	finished = h->finished;
	pthread_mutex_unlock(&h->lock);
	return finished;
}

cJSON *
host_session_take_moved(struct host_session *h)
{
	cJSON *e;

	pthread_mutex_lock(&h->lock);
	e = h->moved;
	h->moved = NULL;
	pthread_mutex_unlock(&h->lock);
	return e;
}

void
host_session_note_unmoved(struct host_session *h, const cJSON *moved, const char *cause)
{
	const cJSON *fw;

	pthread_mutex_lock(&h->lock);
	cJSON_ArrayForEach(fw, cJSON_GetObjectItemCaseSensitive(moved, "forwards")) {
		if (h->restore_errors == NULL)
			h->restore_errors = cJSON_CreateArray();
		cJSON_AddItemToArray(h->restore_errors, forward_restore_error(fw, cause));
	}
	pthread_mutex_unlock(&h->lock);
}

void
host_session_stop(struct host_session *h)
{
	pthread_mutex_lock(&h->lock);
	h->stop = 1;
	pthread_mutex_unlock(&h->lock);
	host_wake(h);
	/* A connect that blocks (authentication) or waits on a ProxyCommand
	 * that never answers nor ends is abandoned: its socket shut down, the
	 * command's process group killed (a connected session is not one) */
	rdev_ssh_abort(&h->connect_abort);
}

void
host_session_free(struct host_session *h)
{
	struct host_forward *f;
	struct host_job *j;

	if (h == NULL)
		return;
	host_session_stop(h);
	pthread_join(h->thread, NULL);
	host_fail_jobs(h, "the broker is stopping", NULL);
	/* (none: they wait only for a look in flight, ended with host_serve) */
	while ((j = forward_order_take_held(&h->order)) != NULL)
		host_fail_job(j, "the broker is stopping", NULL);
	host_forward_parked_check(h); /* none: host_serve's end answered them */
	host_auto_remove(h, NULL);
	while ((f = LIST_FIRST(&h->forwards)) != NULL) {
		LIST_REMOVE(f, entry);
		host_forward_free(f);
	}
	host_connects_free(h);
	while (!LIST_EMPTY(&h->mux_chans)) /* (their owners are gone) */
		host_mux_close(LIST_FIRST(&h->mux_chans));
	buf_free(h->mux_in);
	buf_free(h->mux_out);
	close(h->wake[0]);
	close(h->wake[1]);
	rdev_ssh_abort_destroy(&h->connect_abort);
	pthread_mutex_destroy(&h->lock);
	free(h->opt_host);
	free(h->opt_user);
	free(h->opt_config);
	free(h->opt_known);
	free(h->opt_dest_key);
	free(h->opt_dest_user);
	free(h->opt_dest_home);
	free(h->destination);
	free(h->opt_auth_sock);
	free(h->auth_sock);
	free(h->fixed_agent);
	free(h->agent_path);
	agent_bundle_free(h->bundle);
	free(h->agent_start_error);
	free(h->label);
	free(h->error);
	free(h->lost);
	cJSON_Delete(h->restore);
	cJSON_Delete(h->restore_errors);
	cJSON_Delete(h->moved);
	free(h);
}

cJSON *
host_session_status(struct host_session *h)
{
	cJSON *o = cJSON_CreateObject(), *fw, *ag, *fwd;
	struct host_forward *f;

	pthread_mutex_lock(&h->lock);
	cJSON_AddStringToObject(o, "host", h->label);
	if (h->destination != NULL)
		cJSON_AddStringToObject(o, "destination", h->destination);
	else
		cJSON_AddNullToObject(o, "destination");
	cJSON_AddStringToObject(o, "state", host_state_name(h->state));
	cJSON_AddNumberToObject(o, "clients", h->nclients);
	cJSON_AddNumberToObject(o, "buffered", (double)h->buffered);
	cJSON_AddNumberToObject(o, "bufferedPeak", (double)h->buffered_peak);
	cJSON_AddNumberToObject(
	    o, "idleSeconds", h->nclients > 0 ? 0 : (double)(time(NULL) - h->idle_since));
	if (h->error != NULL)
		cJSON_AddStringToObject(o, "error", h->error);
	else
		cJSON_AddNullToObject(o, "error");
	ag = cJSON_AddObjectToObject(o, "agent");
	if (h->agent_pid > 0)
		cJSON_AddNumberToObject(ag, "pid", (double)h->agent_pid);
	else
		cJSON_AddNullToObject(ag, "pid");
	cJSON_AddNumberToObject(ag, "starts", h->agent_starts);
	cJSON_AddBoolToObject(ag, "starting", h->agent_state == HOST_AGENT_STARTING);
	cJSON_AddStringToObject(ag, "state", host_agent_state_label(h));
	cJSON_AddNumberToObject(ag, "channels", h->agent_opens);
	cJSON_AddStringToObject(ag, "transport", h->agent_transport);
	fwd = cJSON_AddObjectToObject(o, "forwarding");
	cJSON_AddStringToObject(fwd, "tcp", h->tcp_forwarding);
	cJSON_AddStringToObject(fwd, "streamlocal", h->streamlocal_forwarding);
	fw = cJSON_AddArrayToObject(o, "forwards");
	LIST_FOREACH(f, &h->forwards, entry) {
		if (!f->fw.gone)
			cJSON_AddItemToArray(fw, forward_json(&f->fw));
	}
	cJSON_AddItemToObject(o, "connects", host_connects_json(h));
	for (const cJSON *e = h->restore_errors != NULL ? h->restore_errors->child : NULL;
	     e != NULL; e = e->next)
		cJSON_AddItemToArray(fw, cJSON_Duplicate(e, 1));
	pthread_mutex_unlock(&h->lock);
	return o;
}
