/* host-agent.c - the host's long-lived agent and the channels to it, from a
 * host session's thread (host-internal.h). */
#include "host-internal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "agent-install.h"
#include "buf.h"
#include "clock.h"
#include "error.h"
#include "log.h"
#include "xmalloc.h"

/* How long the agent may take to listen: the user's login shell runs first
 * (a slow ~/.bashrc), then the agent's own start. */
#define HOST_AGENT_START_MS 60000
/* An agent that ends sooner than this after its start is not started again
 * at once, only when a command needs one. */
#define HOST_AGENT_RESTART_MIN_MS 5000

void
host_log_agent_stderr(struct host_session *h, const void *data, size_t len)
{
	char line[1024];

	snprintf(line, sizeof line, "%.*s",
	    (int)(len < sizeof line - 1 ? len : sizeof line - 1), (const char *)data);
	line[strcspn(line, "\n")] = '\0';
	log_info("%s: agent: %s", h->label, line);
}

/* --- its state ------------------------------------------------------------ */

static const char *
host_agent_state_name(enum host_agent_state s)
{
	switch (s) {
	case HOST_AGENT_NONE: return "none";
	case HOST_AGENT_STARTING: return "starting";
	case HOST_AGENT_LISTENING: return "listening";
	case HOST_AGENT_GONE: return "gone";
	}
	return "?";
}

/* May the agent's state go from -> to (host-internal.h lists them)? */
static int
host_agent_may(enum host_agent_state from, enum host_agent_state to)
{
	switch (from) {
	case HOST_AGENT_NONE: return to == HOST_AGENT_STARTING;
	case HOST_AGENT_STARTING:
		return to == HOST_AGENT_LISTENING || to == HOST_AGENT_NONE;
	case HOST_AGENT_LISTENING: return to == HOST_AGENT_GONE || to == HOST_AGENT_NONE;
	case HOST_AGENT_GONE: return to == HOST_AGENT_NONE;
	}
	return 0;
}

static void
host_agent_set_state(struct host_session *h, enum host_agent_state to)
{
	if (h->agent_state == to)
		return;
	if (!host_agent_may(h->agent_state, to))
		fatal("%s: agent: %s -> %s is not a transition", h->label,
		    host_agent_state_name(h->agent_state), host_agent_state_name(to));
	log_debug("%s: agent: %s -> %s", h->label, host_agent_state_name(h->agent_state),
	    host_agent_state_name(to));
	pthread_mutex_lock(&h->lock);
	h->agent_state = to;
	pthread_mutex_unlock(&h->lock);
}

const char *
host_agent_state_label(const struct host_session *h)
{
	return host_agent_state_name(h->agent_state);
}

/* --- the agent's control channel ---------------------------------------- */

static int
host_agent_on_data(ssh_session session, ssh_channel channel, void *data, uint32_t len,
    int is_stderr, void *userdata)
{
	struct host_session *h = userdata;

	(void)session;
	(void)channel;
	if (is_stderr) /* the agent's, and the connections' it serves */
		host_log_agent_stderr(h, data, len);
	else if (h->agent_state == HOST_AGENT_LISTENING)
		host_mux_input(h, data, len); /* its streams' frames */
	return (int)len;
}

static void
host_agent_on_eof(ssh_session session, ssh_channel channel, void *userdata)
{
	struct host_session *h = userdata;

	(void)session;
	(void)channel;
	if (h->agent_state == HOST_AGENT_LISTENING) /* (eof, close, exit: any first) */
		host_agent_set_state(h, HOST_AGENT_GONE);
	h->kicked = 1;
}

/* The agent exited (sshd reports it when it reaps the process, even while
 * connections it served, which outlive it, still hold the channel's
 * stderr open). */
static void
host_agent_on_exit(ssh_session session, ssh_channel channel, int status, void *userdata)
{
	host_agent_on_eof(session, channel, userdata);
	(void)status;
}

static void
host_agent_on_signal(ssh_session session, ssh_channel channel, const char *signal,
    int core, const char *errmsg, const char *lang, void *userdata)
{
	host_agent_on_eof(session, channel, userdata);
	(void)signal;
	(void)core;
	(void)errmsg;
	(void)lang;
}

/* --- starting it, without waiting ---------------------------------------- */

/* The start in progress (h->starting): `rdev-agent serve --listen` on an
 * exec channel through the login shell (after the install's check, when it
 * is a new agent process of an installed bundle), until its "listening"
 * event. */
struct host_agent_start {
	ssh_channel ch;
	struct ssh_channel_callbacks_struct cb; /* userdata: the session */
	enum { START_OPEN, START_EXEC, START_LISTEN } step;
	char *cmd;
	int verify;	 /* the install is checked first */
	struct buf *out; /* its stdout: HELLO, then the "listening" event */
	char err[512];	 /* its stderr's first line */
	int got_hello;
	int early;  /* its HELLO offers early data (PROTO_FEATURE_EARLY_DATA) */
	int closed; /* the channel ended (its exit status is in) */
	int status; /* exit status, -1 unknown */
	long long deadline;
	/* the open was refused as sshd's sessions were all taken (a closed
	 * one's slot is freed a moment later): tried again at retry_ms */
	int open_tries;
	long long retry_ms;
};

static int
host_start_on_data(ssh_session session, ssh_channel channel, void *data, uint32_t len,
    int is_stderr, void *userdata)
{
	struct host_session *h = userdata;
	struct host_agent_start *st = h->starting;
	size_t have;

	(void)session;
	(void)channel;
	h->kicked = 1;
	if (st == NULL)
		return (int)len;
	if (!is_stderr) {
		if (buf_len(st->out) < 65536)
			buf_append(st->out, data, len);
		return (int)len;
	}
	host_log_agent_stderr(h, data, len);
	if ((have = strlen(st->err)) == 0 || st->err[have - 1] != '\n') {
		snprintf(st->err + have, sizeof st->err - have, "%.*s", (int)len,
		    (const char *)data);
	}
	return (int)len;
}

static void
host_start_on_close(ssh_session session, ssh_channel channel, void *userdata)
{
	struct host_session *h = userdata;

	(void)session;
	(void)channel;
	if (h->starting != NULL)
		h->starting->closed = 1;
	h->kicked = 1;
}

static void
host_start_on_exit(ssh_session session, ssh_channel channel, int status, void *userdata)
{
	struct host_session *h = userdata;

	(void)session;
	(void)channel;
	if (h->starting != NULL)
		h->starting->status = status;
	h->kicked = 1;
}

static void
host_start_free(struct host_session *h)
{
	struct host_agent_start *st = h->starting;

	if (st == NULL)
		return;
	if (h->agent_state == HOST_AGENT_STARTING) /* (not taken) */
		host_agent_set_state(h, HOST_AGENT_NONE);
	if (st->ch != NULL) {
		ssh_remove_channel_callbacks(st->ch, &st->cb);
		if (ssh_channel_is_open(st->ch))
			ssh_channel_close(st->ch);
		ssh_channel_free(st->ch);
	}
	free(st->cmd);
	buf_free(st->out);
	free(st);
	h->starting = NULL;
}

/* Why the agent could not start, libssh's error (new string): the loss as
 * clients are told it when the connection is gone (host_lost_now). */
static char *
host_agent_start_error(struct host_session *h)
{
	char *lost = host_lost_now(h, "starting the agent");

	return lost != NULL ? lost
			    : xasprintf("%s: cannot start the agent: %s", h->label,
				  ssh_get_error(rdev_ssh_session(h->ssh)));
}

/* The start ended: error NULL (listening) or why not (taken). */
static void
host_start_end(struct host_session *h, char *error)
{
	free(h->agent_start_error);
	h->agent_start_error = error;
	if (error != NULL)
		log_warn("%s", error);
	host_start_free(h);
	h->kicked = 1; /* the callers waiting for it go on in this round */
}

/* Begin a start (with the install's check first when verify). 0, or -1
 * with *cause (also kept in h->agent_start_error, for those waiting). */
static int
host_start_begin(struct host_session *h, int verify, char **cause)
{
	struct host_agent_start *st;
	unsigned char raw[8];
	char id[sizeof raw * 2 + 1];

	if (h->agent_state == HOST_AGENT_STARTING)
		return 0;
	host_agent_stop(h);
	st = xcalloc(1, sizeof *st);
	randombytes_buf(raw, sizeof raw);
	sodium_bin2hex(id, sizeof id, raw, sizeof raw);
	st->verify = verify;
	st->cmd = agent_install_serve_command(h->bundle, h->agent_path, id, verify);
	st->out = buf_new();
	st->status = -1;
	st->deadline = clock_now_ms() + HOST_AGENT_START_MS;
	ssh_callbacks_init(&st->cb);
	st->cb.userdata = h;
	st->cb.channel_data_function = host_start_on_data;
	st->cb.channel_close_function = host_start_on_close;
	st->cb.channel_exit_status_function = host_start_on_exit;
	h->starting = st;
	host_agent_set_state(h, HOST_AGENT_STARTING);
	h->agent_start_seq++;
	free(h->agent_start_error);
	h->agent_start_error = NULL;
	if ((st->ch = ssh_channel_new(rdev_ssh_session(h->ssh))) == NULL) {
		host_start_end(h, host_agent_start_error(h));
		return error_set(cause, "%s", h->agent_start_error);
	}
	host_agent_start_step(h);
	return 0;
}

int
host_agent_start_begin(struct host_session *h, char **cause)
{
	/* a new process of an installed bundle: its install is checked first */
	return host_start_begin(h, h->fixed_agent == NULL && h->agent_starts > 0, cause);
}

/* The agent said it listens: it is the host's agent from now on. */
static void
host_start_take(struct host_session *h, const char *socket, long pid)
{
	struct host_agent_start *st = h->starting;

	ssh_remove_channel_callbacks(st->ch, &st->cb);
	h->agent_ch = st->ch;
	st->ch = NULL;
	h->agent_socket = xstrdup(socket);
	h->mux_early = st->early;
	host_agent_set_state(h, HOST_AGENT_LISTENING);
	h->agent_started_ms = clock_now_ms();
	ssh_callbacks_init(&h->agent_cb);
	h->agent_cb.userdata = h;
	h->agent_cb.channel_data_function = host_agent_on_data;
	h->agent_cb.channel_eof_function = host_agent_on_eof;
	h->agent_cb.channel_close_function = host_agent_on_eof;
	h->agent_cb.channel_exit_status_function = host_agent_on_exit;
	h->agent_cb.channel_exit_signal_function = host_agent_on_signal;
	ssh_set_channel_callbacks(h->agent_ch, &h->agent_cb);
	pthread_mutex_lock(&h->lock);
	h->agent_pid = pid;
	h->agent_starts++;
	pthread_mutex_unlock(&h->lock);
	log_info("%s: agent %ld listening on %s%s", h->label, pid, h->agent_socket,
	    h->mux_early ? "" : " (an agent without early data: calls open first)");
	host_start_end(h, NULL);
}

/* Read the agent's HELLO and "listening" event: 1 when taken or failed
 * (the start ended), 0 while more is to come. */
static int
host_start_read(struct host_session *h)
{
	struct host_agent_start *st = h->starting;
	struct proto_frame f;
	const cJSON *v, *p;
	uint32_t version;
	char *why = NULL;
	size_t used;
	cJSON *msg;
	int r, framed = 0;

	while ((r = proto_decode(buf_data(st->out), buf_len(st->out), &f, &used, &why)) ==
	    1) {
		msg = proto_frame_json(&f, NULL);
		buf_consume(st->out, used);
		if (msg == NULL)
			continue;
		if (f.type == PROTO_HELLO && !st->got_hello) {
			st->got_hello = 1;
			st->early =
			    proto_hello_has_feature(msg, PROTO_FEATURE_EARLY_DATA);
			if (proto_hello_negotiate(msg, &version, &why) != 0)
				r = framed = -1;
		} else if (f.type == PROTO_FATAL) {
			v = cJSON_GetObjectItemCaseSensitive(msg, "error");
			why = xasprintf("agent: %s",
			    cJSON_IsString(v) ? v->valuestring : "fatal error");
			r = framed = -1;
		} else if (f.type == PROTO_CONTROL) {
			v = cJSON_GetObjectItemCaseSensitive(msg, "socket");
			p = cJSON_GetObjectItemCaseSensitive(msg, "pid");
			if (cJSON_IsString(v) && v->valuestring[0] == '/') {
				host_start_take(h, v->valuestring,
				    cJSON_IsNumber(p) ? (long)p->valuedouble : 0);
				cJSON_Delete(msg);
				return 1;
			}
		}
		cJSON_Delete(msg);
		if (r < 0)
			break;
	}
	if (r < 0) {
		/* Bytes before the agent's HELLO that are no frame: the login
		 * shell's start-up files printed them (the agent writes only
		 * frames to stdout). */
		host_start_end(h,
		    xasprintf("%s: cannot start the agent (%s): %s%s", h->label,
			h->agent_path, why,
			st->got_hello || framed
			    ? ""
			    : " (~/.bashrc or the login files print to "
			      "stdout for non-interactive shells: "
			      "guard them with `[[ $- == *i* ]]` / "
			      "`case $- in *i*)`)"));
		free(why);
		return 1;
	}
	return 0;
}

/* The start's channel ended before the agent listened: why, and when the
 * install's check failed, install it again (rare: the one wait left on
 * the host thread) and start once more. */
static void
host_start_ended(struct host_session *h)
{
	struct host_agent_start *st = h->starting;
	char *cause = NULL;
	ssh_session ss = rdev_ssh_session(h->ssh);

	st->err[strcspn(st->err, "\n")] = '\0';
	if (!(st->verify && st->status == 2)) {
		host_start_end(h,
		    xasprintf("%s: cannot start the agent (%s): the agent "
			      "ended at start%s%s",
			h->label, h->agent_path,
			st->err[0] != '\0' ? ": " : " (no message)", st->err));
		return;
	}
	log_warn("host %s: rdev-agent %s at %s was changed or damaged after it was "
		 "installed: %s; installing it again",
	    h->label, agent_bundle_version(h->bundle), h->agent_path, st->err);
	host_start_free(h);
	if (h->ev != NULL)
		ssh_event_remove_session(h->ev, ss);
	/* (the current bundle, as at a first install: host_install) */
	host_install_current(h, &h->agent_path, NULL, &cause);
	if (h->ev != NULL)
		ssh_event_add_session(h->ev, ss);
	if (cause != NULL) {
		/* (the start those waiting hold failed: they fail with this) */
		free(h->agent_start_error);
		h->agent_start_error = cause;
		log_warn("%s", cause);
		return;
	}
	/* a fresh install: no check before this start */
	host_start_begin(h, 0, NULL);
}

int
host_agent_start_step(struct host_session *h)
{
	struct host_agent_start *st = h->starting;
	ssh_session ss = rdev_ssh_session(h->ssh);
	int rc;

	if (st == NULL)
		return 0;
	if (st->step == START_OPEN) {
		if (clock_now_ms() < st->retry_ms)
			goto pending;
		ssh_set_blocking(ss, 0);
		rc = ssh_channel_open_session(st->ch);
		ssh_set_blocking(ss, 1);
		if (rc == SSH_AGAIN)
			goto pending;
		if (rc != SSH_OK && ssh_get_error_code(ss) == SSH_REQUEST_DENIED &&
		    st->open_tries++ < RDEV_SSH_OPEN_RETRIES) {
			/* (rdev_ssh_open_session's wait, without waiting) */
			ssh_channel_free(st->ch);
			if ((st->ch = ssh_channel_new(ss)) == NULL)
				goto failed;
			st->retry_ms = clock_now_ms() + RDEV_SSH_OPEN_RETRY_MS;
			goto pending;
		}
		if (rc != SSH_OK)
			goto failed;
		ssh_set_channel_callbacks(st->ch, &st->cb);
		st->step = START_EXEC;
	}
	if (st->step == START_EXEC) {
		ssh_set_blocking(ss, 0);
		rc = ssh_channel_request_exec(st->ch, st->cmd);
		ssh_set_blocking(ss, 1);
		if (rc == SSH_AGAIN)
			goto pending;
		if (rc != SSH_OK)
			goto failed;
		st->step = START_LISTEN;
	}
	if (host_start_read(h))
		return 0;
	if (st->closed || ssh_channel_is_closed(st->ch)) {
		host_start_ended(h);
		return 0;
	}
pending:
	if (clock_now_ms() >= st->deadline) {
		host_start_end(h,
		    xasprintf("%s: cannot start the agent (%s): it did not "
			      "start listening within %d s",
			h->label, h->agent_path, HOST_AGENT_START_MS / 1000));
		return 0;
	}
	/* the open and the exec request are answered with no callback */
	return st->step != START_LISTEN;
failed:
	host_start_end(h, host_agent_start_error(h));
	return 0;
}

int
host_agent_start(struct host_session *h, char **cause)
{
	ssh_session ss = rdev_ssh_session(h->ssh);
	ssh_event ev = NULL;

	if (host_agent_start_begin(h, cause) != 0)
		return -1;
	if (h->ev == NULL) {
		ev = ssh_event_new();
		ssh_event_add_session(ev, ss);
	}
	while (h->agent_state == HOST_AGENT_STARTING) {
		if (ssh_event_dopoll(ev != NULL ? ev : h->ev, 100) == SSH_ERROR &&
		    !ssh_is_connected(ss)) {
			host_start_end(h, host_agent_start_error(h));
			break;
		}
		host_agent_start_step(h);
	}
	if (ev != NULL) {
		ssh_event_remove_session(ev, ss);
		ssh_event_free(ev);
	}
	if (h->agent_state == HOST_AGENT_LISTENING)
		return 0;
	return error_set(cause, "%s",
	    h->agent_start_error != NULL ? h->agent_start_error
					 : "cannot start the agent");
}

void
host_agent_stop(struct host_session *h)
{
	host_start_free(h);
	if (h->agent_ch != NULL)
		host_mux_reset(h, "the agent ended");
	if (h->agent_ch != NULL) {
		ssh_remove_channel_callbacks(h->agent_ch, &h->agent_cb);
		if (ssh_channel_is_open(h->agent_ch)) {
			ssh_channel_send_eof(h->agent_ch);
			ssh_channel_close(h->agent_ch);
		}
		ssh_channel_free(h->agent_ch);
		h->agent_ch = NULL;
	}
	free(h->agent_socket);
	h->agent_socket = NULL;
	h->mux_early = 0;
	host_agent_set_state(h, HOST_AGENT_NONE);
	pthread_mutex_lock(&h->lock);
	h->agent_pid = 0;
	pthread_mutex_unlock(&h->lock);
}

void
host_agent_check(struct host_session *h)
{
	long pid;

	host_agent_start_step(h);
	if (h->mux_broken && h->agent_state == HOST_AGENT_LISTENING)
		host_agent_set_state(h, HOST_AGENT_GONE); /* its session is unusable */
	if (h->agent_state != HOST_AGENT_GONE)
		return;
	pthread_mutex_lock(&h->lock);
	pid = h->agent_pid;
	pthread_mutex_unlock(&h->lock);
	host_agent_stop(h);
	if (clock_now_ms() - h->agent_started_ms < HOST_AGENT_RESTART_MIN_MS) {
		/* One that dies right after its start would die again: no loop of
		 * login shells; the next command that needs it starts it. */
		log_warn("%s: the agent (pid %ld) ended soon after it started; the next "
			 "command starts a new one",
		    h->label, pid);
		return;
	}
	log_warn("%s: the agent (pid %ld) ended; starting a new one", h->label, pid);
	host_agent_start_begin(h, NULL); /* (a failure is logged) */
}

int
host_open_prohibited(struct host_session *h)
{
	/* libssh 0.10 keeps the reason code only in its message */
	const char *e = ssh_get_error(rdev_ssh_session(h->ssh));

	return e != NULL && strstr(e, "error (1)") != NULL;
}

void
host_set_forwarding(struct host_session *h, const char **which, const char *to)
{
	if (*which == to)
		return;
	pthread_mutex_lock(&h->lock);
	*which = to;
	pthread_mutex_unlock(&h->lock);
}

/* A direct-streamlocal open was refused: does sshd forbid them (then every
 * client reaches the agent over a stream of its own channel from now on:
 * h->streamlocal_denied)? Refused as prohibited, or although the agent has
 * just said it listens (fresh), or none was ever opened in this session, and
 * its channel is still open: sshd does not forward to sockets (OpenSSH
 * answers "open failed" then, as for a missing one). */
static int
host_agent_refused(struct host_session *h, int prohibited, int fresh, const char *why)
{
	fresh |= strcmp(h->streamlocal_forwarding, "untried") == 0;
	if (!prohibited &&
	    !(fresh && h->agent_state == HOST_AGENT_LISTENING &&
		ssh_channel_is_open(h->agent_ch) && !ssh_channel_is_eof(h->agent_ch)))
		return 0;
	log_warn("%s: sshd refuses to forward to the agent's socket (%s; "
		 "AllowStreamLocalForwarding?): clients reach the agent over its own "
		 "channel",
	    h->label, why);
	h->streamlocal_denied = 1;
	pthread_mutex_lock(&h->lock);
	h->agent_transport = "session";
	pthread_mutex_unlock(&h->lock);
	host_set_forwarding(h, &h->streamlocal_forwarding, "denied");
	return 1;
}

/* --- opening a channel to it, without waiting ------------------------------ */

void
host_agent_opener_clear(struct host_agent_opener *o)
{
	host_mux_close(o->mx);
	if (o->ch != NULL) {
		if (ssh_channel_is_open(o->ch))
			ssh_channel_close(o->ch);
		ssh_channel_free(o->ch);
	}
	free(o->socket);
	memset(o, 0, sizeof *o);
}

int
host_agent_opener_pending(const struct host_agent_opener *o)
{
	return o->ch != NULL || (o->mx != NULL && o->mx->state == HOST_MUX_OPENING);
}

/* The open of o->ch failed: refused as prohibited (stream-local forwarding
 * off: exec channels from now on), or the agent ended and we have not
 * heard yet (a new one, once). Returns 0 to go on, -1 with *cause. */
static int
host_opener_refused(struct host_session *h, struct host_agent_opener *o, char **cause)
{
	ssh_session ss = rdev_ssh_session(h->ssh);
	int prohibited = host_open_prohibited(h);
	char *why = xstrdup(ssh_get_error(ss));

	log_info("%s: agent socket %s: %s", h->label, o->socket, why);
	ssh_channel_free(o->ch);
	o->ch = NULL;
	if (host_agent_refused(h, prohibited, o->fresh, why)) {
		o->step = HOST_OPEN_AGENT; /* a stream, once it listens */
	} else if (!o->retried) {
		if (h->agent_state != HOST_AGENT_STARTING)
			host_agent_stop(h);
		o->retried = 1;
		o->fresh = 0;
		o->start_seq = 0;
		o->step = HOST_OPEN_AGENT;
	} else {
		error_set(
		    cause, "%s: cannot reach the agent's socket: %s", h->label, why);
		free(why);
		return -1;
	}
	free(why);
	return 0;
}

int
host_agent_opener_step(struct host_session *h, struct host_agent_opener *o,
    ssh_channel *out, struct host_mux_chan **mx_out, char **cause)
{
	ssh_session ss = rdev_ssh_session(h->ssh);
	int rc;

	for (;;) {
		switch (o->step) {
		case HOST_OPEN_AGENT:
			if (h->agent_state == HOST_AGENT_LISTENING) {
				free(o->socket);
				o->socket = xstrdup(h->agent_socket);
				o->step = h->streamlocal_denied ? HOST_OPEN_MUX
								: HOST_OPEN_STREAMLOCAL;
				continue;
			}
			if (h->agent_state != HOST_AGENT_STARTING && o->start_seq != 0 &&
			    o->start_seq == h->agent_start_seq) {
				/* the start it waited for failed (or that agent is gone)
				 */
				error_set(cause, "%s",
				    h->agent_start_error != NULL
					? h->agent_start_error
					: "the agent ended right after it "
					  "started");
				host_agent_opener_clear(o);
				return -1;
			}
			if (h->agent_state != HOST_AGENT_STARTING) {
				if (h->agent_state == HOST_AGENT_GONE || o->retried)
					log_info(
					    "%s: starting the agent again", h->label);
				host_agent_start_begin(h, NULL);
			}
			o->start_seq = h->agent_start_seq;
			o->fresh = 1;
			if (h->agent_state == HOST_AGENT_STARTING)
				return 0;
			continue; /* it ended at once */
		case HOST_OPEN_STREAMLOCAL:
			if (o->ch == NULL && (o->ch = ssh_channel_new(ss)) == NULL)
				goto no_channel;
			ssh_set_blocking(ss, 0);
			rc = ssh_channel_open_forward_unix(
			    o->ch, o->socket, "127.0.0.1", 0);
			ssh_set_blocking(ss, 1);
			if (rc == SSH_AGAIN)
				return 0;
			if (rc == SSH_OK) {
				host_set_forwarding(
				    h, &h->streamlocal_forwarding, "allowed");
				goto opened;
			}
			if (host_opener_refused(h, o, cause) != 0) {
				host_agent_opener_clear(o);
				return -1;
			}
			continue;
		case HOST_OPEN_MUX:
			/* a stream of the agent session: a new agent connection */
			if (o->mx == NULL)
				o->mx =
				    host_mux_open(h, "agent", NULL, 0, HOST_LINK_BUFFER);
			if (o->mx->state == HOST_MUX_WAITING ||
			    o->mx->state == HOST_MUX_OPENING)
				return 0;
			if (o->mx->state == HOST_MUX_OPEN)
				goto opened;
			if (o->mx->lost && !o->retried) {
				/* The agent ended before it answered: nothing was
				 * served on it; a new one, once (as for a refused
				 * socket). */
				log_warn("%s: the agent ended before it answered a "
					 "stream's open: starting a new one",
				    h->label);
				host_mux_close(o->mx);
				o->mx = NULL;
				o->retried = 1;
				o->fresh = 0;
				o->start_seq = 0;
				o->step = HOST_OPEN_AGENT;
				continue;
			}
			error_set(cause, "%s: cannot reach the agent: %s", h->label,
			    o->mx->error != NULL ? o->mx->error : "stream refused");
			host_agent_opener_clear(o);
			return -1;
		}
	}
no_channel:
	error_set(cause, "%s: cannot open a channel: %s", h->label, ssh_get_error(ss));
	host_agent_opener_clear(o);
	return -1;
opened:
	*out = o->ch;
	*mx_out = o->mx;
	o->ch = NULL;
	o->mx = NULL;
	host_agent_opener_clear(o);
	pthread_mutex_lock(&h->lock);
	h->agent_opens++;
	pthread_mutex_unlock(&h->lock);
	return 1;
}
