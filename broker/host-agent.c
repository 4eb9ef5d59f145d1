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
#include "shell-quote.h"
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

	snprintf(line, sizeof line, "%.*s", (int)(len < sizeof line - 1 ? len :
	    sizeof line - 1), (const char *)data);
	line[strcspn(line, "\n")] = '\0';
	log_info("%s: agent: %s", h->label, line);
}

/* --- the agent's control channel ---------------------------------------- */

static int
host_agent_on_data(ssh_session session, ssh_channel channel, void *data, uint32_t len,
    int is_stderr, void *userdata)
{
	struct host_session *h = userdata;

	(void)session;
	(void)channel;
	if (is_stderr)  /* the agent's, and the connections' it serves */
		host_log_agent_stderr(h, data, len);
	return (int)len;  /* nothing else is said on stdout after "listening" */
}

static void
host_agent_on_eof(ssh_session session, ssh_channel channel, void *userdata)
{
	struct host_session *h = userdata;

	(void)session;
	(void)channel;
	h->agent_gone = 1;
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


/* Read the agent's HELLO and "listening" event from ch. 0 with *socket and
 * *pid, or -1 with *cause. */
static int
host_agent_wait_listening(struct host_session *h, ssh_channel ch, char **socket,
    long *pid, char **cause)
{
	long long deadline = clock_now_ms() + HOST_AGENT_START_MS;
	struct buf *in = buf_new();
	unsigned char tmp[4096];
	struct proto_frame f;
	const cJSON *v, *p;
	uint32_t version;
	size_t used;
	cJSON *msg;
	int rc = -1, r, n, got_hello = 0;
	long long left;

	for (;;) {
		while ((r = proto_decode(buf_data(in), buf_len(in), &f, &used, cause)) == 1) {
			msg = proto_frame_json(&f, NULL);
			buf_consume(in, used);
			if (msg == NULL)
				continue;
			if (f.type == PROTO_HELLO && !got_hello) {
				got_hello = 1;
				if (proto_hello_negotiate(msg, &version, cause) != 0) {
					cJSON_Delete(msg);
					goto out;
				}
			} else if (f.type == PROTO_FATAL) {
				v = cJSON_GetObjectItemCaseSensitive(msg, "error");
				error_set(cause, "agent: %s", cJSON_IsString(v) ? v->valuestring :
				    "fatal error");
				cJSON_Delete(msg);
				goto out;
			} else if (f.type == PROTO_CONTROL) {
				v = cJSON_GetObjectItemCaseSensitive(msg, "socket");
				p = cJSON_GetObjectItemCaseSensitive(msg, "pid");
				if (cJSON_IsString(v) && v->valuestring[0] == '/') {
					*socket = xstrdup(v->valuestring);
					*pid = cJSON_IsNumber(p) ? (long)p->valuedouble : 0;
					rc = 0;
					cJSON_Delete(msg);
					goto out;
				}
			}
			cJSON_Delete(msg);
		}
		if (r < 0)
			goto out;
		left = deadline - clock_now_ms();
		if (left <= 0) {
			error_set(cause, "the agent did not start listening within %d s",
			    HOST_AGENT_START_MS / 1000);
			goto out;
		}
		n = ssh_channel_read_timeout(ch, tmp, sizeof tmp, 0, (int)left);
		if (n == 0 && ssh_channel_is_eof(ch)) {
			/* it ended: its stderr says why */
			n = ssh_channel_read_nonblocking(ch, tmp, sizeof tmp - 1, 1);
			tmp[n > 0 ? n : 0] = '\0';
			tmp[strcspn((char *)tmp, "\n")] = '\0';
			error_set(cause, "the agent ended at start%s%s", n > 0 ? ": " : "",
			    n > 0 ? (char *)tmp : " (no message)");
			goto out;
		}
		if (n < 0) {
			error_set(cause, "reading from the agent: %s",
			    ssh_get_error(rdev_ssh_session(h->ssh)));
			goto out;
		}
		buf_append(in, tmp, (size_t)n);
	}
out:
	buf_free(in);
	return rc;
}

/* Before an agent starts again (it died, or the session reconnected), its
 * install is checked against the bundle once more (the first start follows
 * agent_install_ensure's own check) and installed again if it changed. */
static int
host_agent_reverify(struct host_session *h, char **cause)
{
	ssh_session ss = rdev_ssh_session(h->ssh);
	char *why = NULL, *path = NULL;
	int rc = 0;

	if (h->ev != NULL)
		ssh_event_remove_session(h->ev, ss);
	if (agent_install_verify(h->ssh, h->bundle, h->agent_path, &why) != 0) {
		log_warn("%s; installing it again", why);
		free(why);
		if (agent_install_ensure(h->ssh, h->bundle, &path, NULL, NULL, cause) == 0) {
			free(h->agent_path);
			h->agent_path = path;
		} else
			rc = -1;
	}
	if (h->ev != NULL)
		ssh_event_add_session(h->ev, ss);
	return rc;
}

int
host_agent_start(struct host_session *h, char **cause)
{
	ssh_session ss = rdev_ssh_session(h->ssh);
	unsigned char raw[8];
	char id[sizeof raw * 2 + 1], *cmd, *why = NULL;
	const char *argv[] = { NULL, "serve", "--listen", id, NULL };
	ssh_channel ch;
	long pid = 0;

	host_agent_stop(h);
	if (h->fixed_agent == NULL && h->agent_starts > 0 &&
	    host_agent_reverify(h, cause) != 0)
		return -1;
	argv[0] = h->agent_path;  /* (the reverify may have replaced it) */
	randombytes_buf(raw, sizeof raw);
	sodium_bin2hex(id, sizeof id, raw, sizeof raw);
	ch = ssh_channel_new(ss);
	cmd = shell_quote_argv(argv, SHELL_QUOTE_ALWAYS);
	if (ch == NULL || ssh_channel_open_session(ch) != SSH_OK ||
	    ssh_channel_request_exec(ch, cmd) != SSH_OK) {
		error_set(cause, "%s: cannot start the agent: %s", h->label, ssh_get_error(ss));
		goto fail;
	}
	if (host_agent_wait_listening(h, ch, &h->agent_socket, &pid, &why) != 0) {
		error_set(cause, "%s: cannot start the agent (%s): %s", h->label,
		    h->agent_path, why);
		free(why);
		goto fail;
	}
	free(cmd);
	h->agent_ch = ch;
	h->agent_gone = 0;
	h->agent_started_ms = clock_now_ms();
	ssh_callbacks_init(&h->agent_cb);
	h->agent_cb.userdata = h;
	h->agent_cb.channel_data_function = host_agent_on_data;
	h->agent_cb.channel_eof_function = host_agent_on_eof;
	h->agent_cb.channel_close_function = host_agent_on_eof;
	h->agent_cb.channel_exit_status_function = host_agent_on_exit;
	h->agent_cb.channel_exit_signal_function = host_agent_on_signal;
	ssh_set_channel_callbacks(ch, &h->agent_cb);
	pthread_mutex_lock(&h->lock);
	h->agent_pid = pid;
	h->agent_starts++;
	pthread_mutex_unlock(&h->lock);
	log_info("%s: agent %ld listening on %s", h->label, pid, h->agent_socket);
	return 0;
fail:
	free(cmd);
	if (ch != NULL) {
		if (ssh_channel_is_open(ch))
			ssh_channel_close(ch);
		ssh_channel_free(ch);
	}
	return -1;
}

void
host_agent_stop(struct host_session *h)
{
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
	h->agent_gone = 0;
	pthread_mutex_lock(&h->lock);
	h->agent_pid = 0;
	pthread_mutex_unlock(&h->lock);
}

void
host_agent_check(struct host_session *h)
{
	char *cause = NULL;
	long pid;

	if (!h->agent_gone)
		return;
	pthread_mutex_lock(&h->lock);
	pid = h->agent_pid;
	pthread_mutex_unlock(&h->lock);
	host_agent_stop(h);
	if (clock_now_ms() - h->agent_started_ms < HOST_AGENT_RESTART_MIN_MS) {
		/* One that dies right after its start would die again: no loop of
		 * login shells; the next command that needs it starts it. */
		log_warn("%s: the agent (pid %ld) ended soon after it started; the next "
		    "command starts a new one", h->label, pid);
		return;
	}
	log_warn("%s: the agent (pid %ld) ended; starting a new one", h->label, pid);
	if (host_agent_start(h, &cause) != 0) {
		/* the next client tries again */
		log_warn("%s", cause);
		free(cause);
	}
}

/* --- channels to it ----------------------------------------------------- */

/* Did sshd refuse the open as administratively prohibited (forwarding off)?
 * libssh 0.10 keeps the reason code only in its message. */
static int
host_open_prohibited(ssh_session ss)
{
	const char *e = ssh_get_error(ss);

	return e != NULL && strstr(e, "error (1)") != NULL;
}

/* A direct-streamlocal channel to the agent's socket, or NULL (*prohibited
 * set when sshd forbids them). */
static ssh_channel
host_agent_open_streamlocal(struct host_session *h, int *prohibited, char **why)
{
	ssh_session ss = rdev_ssh_session(h->ssh);
	ssh_channel ch = ssh_channel_new(ss);

	*prohibited = 0;
	if (ch == NULL)
		return NULL;
	if (ssh_channel_open_forward_unix(ch, h->agent_socket, "127.0.0.1", 0) == SSH_OK)
		return ch;
	*prohibited = host_open_prohibited(ss);
	free(*why);
	*why = xstrdup(ssh_get_error(ss));
	log_info("%s: agent socket %s: %s", h->label, h->agent_socket, *why);
	ssh_channel_free(ch);
	return NULL;
}

/* A `rdev-agent serve` exec channel (the login shell runs each time). */
static ssh_channel
host_agent_open_exec(struct host_session *h, char **cause)
{
	ssh_session ss = rdev_ssh_session(h->ssh);
	const char *argv[] = { h->agent_path, "serve", NULL };
	ssh_channel ch = ssh_channel_new(ss);
	char *cmd;

	if (ch == NULL || ssh_channel_open_session(ch) != SSH_OK) {
		error_set(cause, "%s: cannot open a channel: %s", h->label, ssh_get_error(ss));
		goto fail;
	}
	cmd = shell_quote_argv(argv, SHELL_QUOTE_ALWAYS);
	if (ssh_channel_request_exec(ch, cmd) != SSH_OK) {
		free(cmd);
		error_set(cause, "%s: cannot run the agent: %s", h->label, ssh_get_error(ss));
		goto fail;
	}
	free(cmd);
	return ch;
fail:
	if (ch != NULL)
		ssh_channel_free(ch);
	return NULL;
}

/* A direct-streamlocal open was refused: does sshd forbid them (then every
 * request goes over an exec channel from now on: h->streamlocal_denied)?
 * Refused as prohibited, or although the agent has just said it listens
 * (fresh) and its channel is still open: sshd does not forward to sockets
 * (OpenSSH answers "open failed" then, as for a missing one). */
static int
host_agent_refused(struct host_session *h, int prohibited, int fresh, const char *why)
{
	if (!prohibited && !(fresh && !h->agent_gone && h->agent_ch != NULL &&
	    ssh_channel_is_open(h->agent_ch) && !ssh_channel_is_eof(h->agent_ch)))
		return 0;
	log_warn("%s: sshd refuses to forward to the agent's socket (%s; "
	    "AllowStreamLocalForwarding?): each request starts its own agent "
	    "through the login shell (slower)", h->label, why);
	h->streamlocal_denied = 1;
	pthread_mutex_lock(&h->lock);
	h->agent_transport = "exec";
	pthread_mutex_unlock(&h->lock);
	host_agent_stop(h);
	return 1;
}

ssh_channel
host_agent_open(struct host_session *h, char **cause)
{
	ssh_channel ch = NULL;
	char *why = NULL;
	int attempt, prohibited = 0, fresh;

	for (attempt = 0; attempt < 2 && !h->streamlocal_denied; attempt++) {
		fresh = 0;
		if (h->agent_ch == NULL || h->agent_gone) {
			if (h->agent_gone || attempt > 0)
				log_info("%s: starting the agent again", h->label);
			if (host_agent_start(h, cause) != 0) {
				free(why);
				return NULL;
			}
			fresh = 1;
		}
		if ((ch = host_agent_open_streamlocal(h, &prohibited, &why)) != NULL)
			goto opened;
		if (host_agent_refused(h, prohibited, fresh, why))
			break;
		/* Not there: it ended and we have not heard yet. */
		host_agent_stop(h);
	}
	if (!h->streamlocal_denied) {
		error_set(cause, "%s: cannot reach the agent's socket: %s", h->label,
		    why != NULL ? why : "no agent");
		free(why);
		return NULL;
	}
	if ((ch = host_agent_open_exec(h, cause)) == NULL) {
		free(why);
		return NULL;
	}
opened:
	free(why);
	pthread_mutex_lock(&h->lock);
	h->agent_opens++;
	pthread_mutex_unlock(&h->lock);
	return ch;
}

/* --- requests from the broker itself (asynchronous) ---------------------- */

/* How long a request may take in all (open, the relay's start...). */
#define HOST_CALL_TIMEOUT_MS 60000
/* The most an answer may be. */
#define HOST_CALL_MAX_ANSWER (1u << 20)

/* One request to the agent: its channel's open is sent without waiting, the
 * request written once it is open, the answer gathered by the channel's
 * callbacks; done runs on the host thread when it is in, has failed or its
 * time is up. On h->calls; freed there once done. */
struct host_call {
	struct host_session *h;
	ssh_channel ch;
	struct ssh_channel_callbacks_struct cb;  /* userdata: this call */
	cJSON *req;
	char *socket;        /* where the open goes (the call is repeated) */
	struct buf *in;      /* the agent's bytes, not decoded yet */
	int opening;         /* the open is sent, its answer not in yet */
	int fresh;           /* the agent was started for this call */
	int retried;         /* its socket was refused once, agent restarted */
	int got_hello;
	int eof;             /* the channel ended */
	int finished;        /* result / error are final */
	cJSON *result;
	char *error;
	long long deadline;
	host_call_done_fn done;  /* NULL: forgotten by whoever asked */
	void *arg;
	struct host_call *next;
};

static int
host_call_on_data(ssh_session session, ssh_channel channel, void *data, uint32_t len,
    int is_stderr, void *userdata)
{
	struct host_call *c = userdata;

	(void)session;
	(void)channel;
	c->h->kicked = 1;
	if (is_stderr)  /* an exec channel's agent (streamlocal_denied) */
		host_log_agent_stderr(c->h, data, len);
	else if (buf_len(c->in) + len <= HOST_CALL_MAX_ANSWER)
		buf_append(c->in, data, len);
	else
		c->eof = 1;  /* too much: the decode fails on what is there */
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

static void
host_call_drop_channel(struct host_call *c)
{
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
	c->opening = 0;
}

static void
host_call_fail(struct host_call *c, char *error)
{
	if (c->finished) {
		free(error);
		return;
	}
	c->error = error;
	c->finished = 1;
	c->h->kicked = 1;  /* done runs in this round */
}

static void
host_call_attach(struct host_call *c, ssh_channel ch)
{
	c->ch = ch;
	ssh_set_channel_callbacks(ch, &c->cb);
}

/* The channel is open: count it, write the HELLO and the request. */
static void
host_call_send(struct host_call *c)
{
	struct host_session *h = c->h;
	struct buf *out = buf_new();
	unsigned char tmp[4096];
	char *why = NULL;
	cJSON *hello;
	int n;

	hello = proto_hello_new("rdev-broker " RDEV_VERSION);
	proto_encode_json(out, PROTO_HELLO, 0, hello, NULL);
	cJSON_Delete(hello);
	if (proto_encode_json(out, PROTO_CONTROL, 0, c->req, &why) != 0)
		host_call_fail(c, why);
	else if (ssh_channel_write(c->ch, buf_data(out), (uint32_t)buf_len(out)) !=
	    (int)buf_len(out))
		host_call_fail(c, xasprintf("%s: writing to the agent: %s", h->label,
		    ssh_get_error(rdev_ssh_session(h->ssh))));
	buf_free(out);
	/* what came before the callbacks were set (an exec channel's open is
	 * waited for) */
	while (c->ch != NULL && (n = ssh_channel_read_nonblocking(c->ch, tmp, sizeof tmp,
	    0)) > 0)
		buf_append(c->in, tmp, (size_t)n);
}

static void host_call_open_step(struct host_call *c);

/* Start c's channel: a direct-streamlocal open to the agent's socket, sent
 * without waiting (the agent started first if none runs: that start waits),
 * or where sshd forbids those, an exec channel (its open waited for; the
 * agent's login shell is not). */
static void
host_call_begin(struct host_call *c)
{
	struct host_session *h = c->h;
	ssh_channel ch;
	char *cause = NULL;

	if (h->streamlocal_denied) {
		if ((ch = host_agent_open(h, &cause)) == NULL) {
			host_call_fail(c, cause);
			return;
		}
		host_call_attach(c, ch);
		host_call_send(c);
		return;
	}
	if (h->agent_ch == NULL || h->agent_gone) {
		if (h->agent_gone || c->retried)
			log_info("%s: starting the agent again", h->label);
		if (host_agent_start(h, &cause) != 0) {
			host_call_fail(c, cause);
			return;
		}
		c->fresh = 1;
	}
	if ((ch = ssh_channel_new(rdev_ssh_session(h->ssh))) == NULL) {
		host_call_fail(c, xasprintf("%s: cannot open a channel: %s", h->label,
		    ssh_get_error(rdev_ssh_session(h->ssh))));
		return;
	}
	host_call_attach(c, ch);
	free(c->socket);
	c->socket = xstrdup(h->agent_socket);
	c->opening = 1;
	host_call_open_step(c);
}

/* Send the open, or ask whether its answer came (libssh repeats the call
 * until it has), without waiting; then the request, or the next way. */
static void
host_call_open_step(struct host_call *c)
{
	struct host_session *h = c->h;
	ssh_session ss = rdev_ssh_session(h->ssh);
	char *why;
	int rc, prohibited;

	ssh_set_blocking(ss, 0);
	rc = ssh_channel_open_forward_unix(c->ch, c->socket, "127.0.0.1", 0);
	ssh_set_blocking(ss, 1);
	if (rc == SSH_AGAIN)
		return;
	c->opening = 0;
	if (rc == SSH_OK) {
		pthread_mutex_lock(&h->lock);
		h->agent_opens++;
		pthread_mutex_unlock(&h->lock);
		host_call_send(c);
		return;
	}
	prohibited = host_open_prohibited(ss);
	why = xstrdup(ssh_get_error(ss));
	log_info("%s: agent socket %s: %s", h->label, c->socket, why);
	host_call_drop_channel(c);
	if (host_agent_refused(h, prohibited, c->fresh, why) || !c->retried) {
		/* an exec channel from now on; or the agent ended and we have not
		 * heard yet: a new one */
		if (!h->streamlocal_denied)
			host_agent_stop(h);
		c->retried = 1;
		c->fresh = 0;
		host_call_begin(c);
	} else
		host_call_fail(c, xasprintf("%s: cannot reach the agent's socket: %s",
		    h->label, why));
	free(why);
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

	while ((r = proto_decode(buf_data(c->in), buf_len(c->in), &f, &used, &why)) == 1) {
		msg = proto_frame_json(&f, NULL);
		buf_consume(c->in, used);
		if (msg == NULL)
			continue;
		if (f.type == PROTO_HELLO && !c->got_hello) {
			c->got_hello = 1;
			if (proto_hello_negotiate(msg, &version, &why) != 0) {
				cJSON_Delete(msg);
				host_call_fail(c, why);
				return;
			}
		} else if (f.type == PROTO_FATAL) {
			v = cJSON_GetObjectItemCaseSensitive(msg, "error");
			host_call_fail(c, xasprintf("%s: agent: %s", h->label,
			    cJSON_IsString(v) ? v->valuestring : "fatal error"));
			cJSON_Delete(msg);
			return;
		} else if (f.type == PROTO_CONTROL &&
		    cJSON_GetObjectItemCaseSensitive(msg, "ok") != NULL) {
			v = cJSON_GetObjectItemCaseSensitive(msg, "error");
			if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(msg, "ok"))) {
				c->result = cJSON_DetachItemFromObjectCaseSensitive(msg,
				    "result");
				c->finished = 1;
			} else
				host_call_fail(c, xasprintf("%s: %s", h->label,
				    cJSON_IsString(v) ? v->valuestring : "failed"));
			cJSON_Delete(msg);
			return;
		}
		cJSON_Delete(msg);
	}
	if (r < 0)
		host_call_fail(c, why);
	else if (c->eof)
		host_call_fail(c, xasprintf("%s: the agent ended without an answer",
		    h->label));
}

struct host_call *
host_agent_call_start(struct host_session *h, const cJSON *req, host_call_done_fn done,
    void *arg)
{
	struct host_call *c = xcalloc(1, sizeof *c);

	c->h = h;
	c->req = cJSON_Duplicate(req, 1);
	c->in = buf_new();
	c->done = done;
	c->arg = arg;
	c->deadline = clock_now_ms() + HOST_CALL_TIMEOUT_MS;
	ssh_callbacks_init(&c->cb);
	c->cb.userdata = c;
	c->cb.channel_data_function = host_call_on_data;
	c->cb.channel_eof_function = host_call_on_eof;
	c->cb.channel_close_function = host_call_on_eof;
	c->next = h->calls;
	h->calls = c;
	if (h->ev == NULL || h->ssh == NULL)
		host_call_fail(c, xasprintf("%s: not connected", h->label));
	else
		host_call_begin(c);
	h->kicked = 1;
	return c;
}

void
host_agent_call_forget(struct host_call *c)
{
	if (c != NULL) {
		c->done = NULL;
		c->arg = NULL;
	}
}

/* Take c off h->calls, run its done and free it. */
static void
host_call_finish(struct host_session *h, struct host_call *c)
{
	struct host_call **cp;

	for (cp = &h->calls; *cp != c; cp = &(*cp)->next)
		;
	*cp = c->next;
	host_call_drop_channel(c);
	if (c->done != NULL)
		c->done(h, c->arg, c->result, c->error);
	cJSON_Delete(c->result);
	cJSON_Delete(c->req);
	free(c->socket);
	buf_free(c->in);
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
	for (c = h->calls; c != NULL; c = c->next) {
		if (!c->finished && c->opening)
			host_call_open_step(c);
		if (!c->finished && !c->opening && c->ch != NULL)
			host_call_read(c);
		if (!c->finished && now >= c->deadline)
			host_call_fail(c, xasprintf("%s: the agent did not answer within %d s",
			    h->label, HOST_CALL_TIMEOUT_MS / 1000));
		if (c->finished) {
			/* done may start calls of its own: from the top again */
			host_call_finish(h, c);
			goto again;
		}
	}
	for (c = h->calls; c != NULL; c = c->next) {
		if (c->opening) {
			opening++;
			if (ssh_channel_is_open(c->ch))
				h->kicked = 1;  /* the answer came inside another call */
		}
	}
	return opening;
}

void
host_agent_calls_end(struct host_session *h, const char *why)
{
	struct host_call *c;

	while ((c = h->calls) != NULL) {
		if (!c->finished) {
			c->finished = 1;
			c->error = xasprintf("%s: %s", h->label, why);
		}
		host_call_finish(h, c);
	}
}
