/* agent-exec.c - a command started in a dev container for `exec`, through
 * the container's relay or a Docker exec (agent-exec.h). */
#include "agent-exec.h"

#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "agent-cmds.h"
#include "agent-ops.h"
#include "agent-state.h"
#include "buf.h"
#include "byte-order.h"
#include "config.h"
#include "docker-stream.h"
#include "docker.h"
#include "env-probe.h"
#include "error.h"
#include "exec-relay.h"
#include "exec-signal.h"
#include "lifecycle.h"
#include "log.h"
#include "owner.h"
#include "relay-install.h"
#include "secrets.h"
#include "up.h"
#include "workspace.h"
#include "xmalloc.h"

/* How long the relay may take to say it started the command. */
#define AGENT_EXEC_RELAY_TIMEOUT_MS 5000
/* How much of the exec's output the pump reads at a time. */
#define AGENT_EXEC_READ_SIZE 65536
/* How often a container is asked whether it stopped under a relay's exec. */
#define AGENT_EXEC_GONE_POLL_MS 100
/* How many reads agent_exec_ended() makes at most. */
#define AGENT_EXEC_ENDED_READS 16

/* ---- through a Docker exec ------------------------------------------------ */

/* argv for the exec: COMMAND, behind `env -u NAME...` when remoteEnv removes
 * variables, behind `/.rdev-relay --winsize ROWS COLS` when size is not NULL
 * (the two numbers). New array of borrowed strings (free the array only). */
static const char **
agent_exec_argv(char *const *command, int ncommand, char *const *unset, char *const *size)
{
	size_t nunset = 0, i = 0;
	const char **argv;

	while (unset != NULL && unset[nunset] != NULL)
		nunset++;
	argv = xcalloc((size_t)ncommand + 2 * nunset + 6, sizeof *argv);
	if (size != NULL) {
		argv[i++] = RELAY_INSTALL_PATH;
		argv[i++] = "--winsize";
		argv[i++] = size[0];
		argv[i++] = size[1];
	}
	if (nunset > 0) {
		argv[i++] = "env";
		for (size_t k = 0; k < nunset; k++) {
			argv[i++] = "-u";
			argv[i++] = unset[k];
		}
	}
	for (int k = 0; k < ncommand; k++)
		argv[i++] = command[k];
	argv[i] = NULL;
	return argv;
}

/* How a TTY exec gets its size before the command's first read (see
 * docs/PROTOCOL.md, "exec and its channels"): with the exec itself when the
 * daemon speaks API 1.42 (ConsoleSize); else through `/.rdev-relay
 * --winsize`, which sets it and then becomes the command; else (no relay in
 * the container: say, a read-only filesystem) by a resize right after the
 * start, which a fast command may miss. */
enum agent_exec_sizing {
	AGENT_EXEC_SIZE_NONE,	 /* no TTY, or no size given */
	AGENT_EXEC_SIZE_CONSOLE, /* ConsoleSize */
	AGENT_EXEC_SIZE_WRAPPER, /* /.rdev-relay --winsize */
	AGENT_EXEC_SIZE_RESIZE,	 /* docker_exec_resize() after the start */
};

static enum agent_exec_sizing
agent_exec_sizing(
    struct docker *d, const char *cid, int tty, unsigned rows, unsigned cols)
{
	char *cause = NULL;

	if (!tty || rows == 0 || cols == 0 || rows > 65535 || cols > 65535)
		return AGENT_EXEC_SIZE_NONE;
	/* workspace_open() has had an answer from the daemon: its version is known. */
	if (docker_api_at_least(d, 1, 42))
		return AGENT_EXEC_SIZE_CONSOLE;
	if (relay_install_binary(d, cid, &cause) == 0)
		return AGENT_EXEC_SIZE_WRAPPER;
	log_warn(
	    "exec: container %.12s: the TTY is sized after the start: %s", cid, cause);
	free(cause);
	return AGENT_EXEC_SIZE_RESIZE;
}

/* With a TTY, TERM is the caller's. New environment (env_free). */
static char **
agent_exec_env(char *const *env, int tty, const char *term)
{
	char **out = env_dup(env);
	size_t n = 0;

	if (!tty || term == NULL)
		return out;
	while (out[n] != NULL)
		n++;
	out = xreallocarray(out, n + 2, sizeof *out);
	out[n] = xasprintf("TERM=%s", term);
	out[n + 1] = NULL;
	return out;
}

/* What both transports need: the container, the user, the environment. */
struct agent_exec_plan {
	const cJSON *container;
	const char *cid;
	const char *user;
	const char *workdir;
	char **env;   /* the remote env, TERM added for a TTY */
	char **unset; /* names remoteEnv removes */
	char *const *command;
	int ncommand;
	int tty;
	unsigned rows, cols;
};

static int
agent_exec_docker(struct agent_exec *x, const struct agent_exec_plan *p, char **cause)
{
	struct docker_exec_opts opts = { 0 };
	char *size[2] = { NULL, NULL };
	const char **xargv;
	enum agent_exec_sizing sizing;
	int rc;

	sizing = agent_exec_sizing(x->docker, p->cid, p->tty, p->rows, p->cols);
	if (sizing == AGENT_EXEC_SIZE_WRAPPER) {
		size[0] = xasprintf("%u", p->rows);
		size[1] = xasprintf("%u", p->cols);
	}
	xargv = agent_exec_argv(p->command, p->ncommand, p->unset,
	    sizing == AGENT_EXEC_SIZE_WRAPPER ? size : NULL);
	if (sizing == AGENT_EXEC_SIZE_CONSOLE) {
		opts.rows = p->rows;
		opts.cols = p->cols;
	}
	opts.argv = xargv;
	opts.user = p->user;
	opts.env = (const char *const *)p->env;
	opts.workdir = p->workdir;
	opts.tty = p->tty;
	opts.attach_stdin = 1;
	rc = docker_exec_attach(
	    x->docker, p->cid, &opts, &x->exec_id, &x->fd, &x->early, cause);
	if (rc == 0 && sizing == AGENT_EXEC_SIZE_RESIZE)
		docker_exec_resize(x->docker, x->exec_id, p->rows, p->cols, NULL);
	if (rc == 0 && !p->tty)
		x->demux = docker_stream_new(DOCKER_STREAM_MAX_FRAME);
	free(xargv);
	free(size[0]);
	free(size[1]);
	return rc;
}

/* ---- through the container's relay ---------------------------------------- */

/* 0 started (or failed to start, with the relay's frames in x->early), 1 the
 * relay could not serve (use a Docker exec; why is logged), -1 *cause. */
static int
agent_exec_relay(struct agent_exec *x, const struct agent_exec_plan *p, char **cause)
{
	struct relay_endpoint ep;
	struct exec_relay_req req = { 0 };
	char **env, *why = NULL;
	const char *via = getenv("RDEV_EXEC_VIA");
	char **argv;
	int rc = 1;

	if (via != NULL && strcmp(via, "docker") == 0)
		return 1;
	argv = xcalloc((size_t)p->ncommand + 1, sizeof *argv);
	for (int i = 0; i < p->ncommand; i++)
		argv[i] = p->command[i];
	env = exec_relay_env(p->container, p->tty, p->env, p->unset);
	req.argv = argv;
	req.env = env;
	req.user = p->user;
	req.workdir = p->workdir;
	req.tty = p->tty;
	req.rows = p->rows;
	req.cols = p->cols;
	x->early = buf_new();
	/* The recorded relay first; if it is gone (a restart), a checked or
	 * new one. */
	for (int trust = 1; trust >= 0 && rc == 1; trust--) {
		free(why);
		why = NULL;
		if (relay_install_endpoint(
			x->docker, p->container, trust, 0, &ep, &why) != 0)
			break;
		rc = exec_relay_open(ep.address, ep.port, ep.token, &req,
		    AGENT_EXEC_RELAY_TIMEOUT_MS, &x->fd, x->early, trust ? &why : cause);
		relay_endpoint_clear(&ep);
	}
	if (rc == 1) {
		log_info("exec: container %.12s: through a Docker exec: %s", p->cid,
		    why != NULL ? why : "the relay cannot serve");
		buf_free(x->early);
		x->early = NULL;
	} else if (rc == 0) {
		x->via_relay = 1;
		x->demux = docker_stream_new(DOCKER_STREAM_MAX_FRAME);
		docker_stream_allow_types(x->demux, EXEC_RELAY_MAX_TYPE);
	}
	free(why);
	secrets_env_free(env);
	free(argv);
	return rc;
}

/* ---- the exec -------------------------------------------------------------- */

/* The background steps still running, if any: a file read, no Docker call. */
static char *
agent_exec_notice(const char *state_dir, const char *cid, const char *up_cmd)
{
	char *follow = agent_logs_follow_command(up_cmd);
	char *notice = lifecycle_bg_notice(state_dir, cid, follow);

	free(follow);
	return notice;
}

/* Find req's container into *ws: as up made it, or, when the configuration
 * does not load (an edit half-written, a bad value, several
 * configurations), by its labels as stop and status find it, with
 * *config_error the configuration's error (else NULL). 0, or -1 with
 * *cause. */
static int
agent_exec_open(const char *up_cmd, const struct agent_exec_req *req, struct docker *d,
    struct workspace *ws, char **config_error, char **cause)
{
	*config_error = NULL;
	if (workspace_open_existing(req->folder, req->config_file, req->id_labels,
		req->git_root, req->common_dir, up_cmd, d, ws, cause) == 0)
		return 0;
	/* (loaded: no container, or Docker failed; that is the answer) */
	if (ws->cfg != NULL)
		return -1;
	workspace_clear(ws);
	free(*cause);
	*cause = NULL;
	return workspace_open_tolerant_pick(
	    req->folder, req->config_file, req->id_labels, 1, d, ws, config_error, cause);
}

int
agent_exec_start(const char *up_cmd, const struct agent_exec_req *req, int tty,
    const char *term, unsigned rows, unsigned cols, struct agent_exec **xp, char **cause)
{
	struct agent_exec *x = xcalloc(1, sizeof *x);
	struct agent_exec_plan p = { 0 };
	struct workspace ws;
	cJSON *merged = NULL;
	char *state = NULL, *user = NULL, *config_error = NULL, *workdir = NULL, *why;
	char **env = NULL;
	int rc = -1, r;

	*xp = NULL;
	memset(&ws, 0, sizeof ws);
	x->fd = -1;
	x->tty = tty;
	x->docker = docker_new(NULL);
	if (agent_exec_open(up_cmd, req, x->docker, &ws, &config_error, cause) != 0 ||
	    owner_check(ws.container, cause) != 0)
		goto out;
	if (!docker_container_running(ws.container)) {
		error_set(cause, "the dev container of %s is not running (run `%s`)",
		    req->folder, up_cmd);
		goto out;
	}
	if ((state = agent_state_dir(cause)) == NULL)
		goto out;
	if (ws.cfg != NULL) {
		if (up_merged_for_container(ws.cfg, ws.container, &merged, cause) != 0)
			goto out;
		workdir = xstrdup(config_get_workspace_folder(ws.cfg));
	} else if (up_merged_recorded(req->folder, ws.container, &merged, NULL, NULL,
		       &workdir, cause) != 0) {
		why = xasprintf(
		    "%s (the configuration does not load, and %s)", config_error, *cause);
		free(*cause);
		*cause = why;
		goto out;
	}
	if (config_error != NULL)
		x->warning = xasprintf("%s: warning: %s (the configuration does not "
				       "load: using the running container's "
				       "recorded configuration)",
		    AGENT_EXEC_VERB(req), config_error);
	user = up_remote_user(merged, ws.container);
	/* ws.container: inspected by workspace_open just now */
	if (up_remote_env(x->docker, state, ws.container, 1, merged, req->remote_env,
		user, &env, &p.unset, cause) != 0)
		goto out;
	secrets_env_apply(req->secrets, &env, p.unset);
	p.container = ws.container;
	p.cid = workspace_container_id(&ws);
	x->notice = agent_exec_notice(state, p.cid, up_cmd);
	p.user = user;
	p.workdir = workdir;
	p.env = agent_exec_env(env, tty, term);
	p.command = req->command;
	p.ncommand = req->ncommand;
	p.tty = tty;
	p.rows = rows;
	p.cols = cols;
	if ((r = agent_exec_relay(x, &p, cause)) < 0 ||
	    (r == 1 && agent_exec_docker(x, &p, cause) != 0))
		goto out;
	x->container_id = xstrdup(p.cid);
	*xp = x;
	x = NULL;
	rc = 0;
out:
	agent_exec_free(x);
	secrets_env_free(env);
	env_free(p.unset);
	secrets_env_free(p.env);
	cJSON_Delete(merged);
	free(state);
	free(user);
	free(config_error);
	free(workdir);
	workspace_clear(&ws);
	return rc;
}

/* A relay's MESSAGE (why the command did not start) goes to the TTY's
 * output stream, which the client's terminal shows raw: its lines end in
 * "\n" (as on stderr without a TTY), which there only moves down a line and
 * leaves the prompt after it mid-line. Each "\n" not after a "\r" becomes
 * "\r\n", as a TTY's output processing (and Docker's own start failure,
 * written into the stream with "\r\n") would have it; a piece may end
 * between the "\r" and the "\n" (x->message_cr). *payload then borrows
 * x->message. */
static void
agent_exec_message_crlf(
    struct agent_exec *x, const unsigned char **payload, size_t *payload_len)
{
	const unsigned char *p = *payload;
	size_t i, from = 0;

	if (x->message == NULL)
		x->message = buf_new();
	buf_reset(x->message);
	for (i = 0; i < *payload_len; i++) {
		if (p[i] != '\n' || (i > 0 ? p[i - 1] == '\r' : x->message_cr))
			continue;
		buf_append(x->message, p + from, i - from);
		buf_append(x->message, "\r", 1);
		from = i;
	}
	buf_append(x->message, p + from, *payload_len - from);
	if (*payload_len > 0)
		x->message_cr = p[*payload_len - 1] == '\r';
	*payload = buf_data(x->message);
	*payload_len = buf_len(x->message);
}

int
agent_exec_output(struct agent_exec *x, const unsigned char *data, size_t len,
    size_t *used, int *stream, const unsigned char **payload, size_t *payload_len,
    char **cause)
{
	size_t n, total = 0;
	int rc;

	if (x->demux == NULL) {
		*used = len;
		*stream = 1;
		*payload = data;
		*payload_len = len;
		return len > 0 ? 1 : 0;
	}
	for (;;) {
		rc = docker_stream_feed(x->demux, data + total, len - total, &n, stream,
		    payload, payload_len, cause);
		total += n;
		*used = total;
		if (rc != 1)
			return rc;
		switch (*stream) {
		case DOCKER_STREAM_STDOUT:
		case DOCKER_STREAM_STDERR: break;
		case DOCKER_STREAM_SYSTEMERR: /* = EXEC_RELAY_MESSAGE */
			*stream = DOCKER_STREAM_STDERR;
			if (x->tty)
				agent_exec_message_crlf(x, payload, payload_len);
			break;
		case EXEC_RELAY_EXIT:
			for (size_t i = 0;
			     i < *payload_len && x->exit_len < sizeof x->exit_bytes; i++)
				x->exit_bytes[x->exit_len++] = (*payload)[i];
			continue;
		default: continue; /* stdin echoed back by a daemon; STARTED */
		}
		if (x->tty)
			*stream = DOCKER_STREAM_STDOUT;
		return 1;
	}
}

int
agent_exec_output_end(struct agent_exec *x, char **cause)
{
	return x->demux != NULL ? docker_stream_eof(x->demux, cause) : 0;
}

void
agent_exec_input(struct agent_exec *x, struct buf *out, const void *data, size_t len)
{
	if (len == 0)
		return;
	if (x->via_relay)
		exec_relay_frame(out, EXEC_RELAY_STDIN, data, len);
	else
		buf_append(out, data, len);
}

int
agent_exec_input_end(struct agent_exec *x, struct buf *out)
{
	if (x->tty)
		return 0;
	if (x->via_relay) {
		exec_relay_frame(out, EXEC_RELAY_STDIN, NULL, 0);
		return 0;
	}
	return 1;
}

void
agent_exec_resize(struct agent_exec *x, struct buf *out, unsigned rows, unsigned cols)
{
	unsigned char sz[4];

	if (!x->tty || rows == 0 || cols == 0 || rows > 65535 || cols > 65535)
		return;
	if (!x->via_relay) {
		docker_exec_resize(x->docker, x->exec_id, rows, cols, NULL);
		return;
	}
	be_put_u16(sz, (uint16_t)rows);
	be_put_u16(sz + 2, (uint16_t)cols);
	exec_relay_frame(out, EXEC_RELAY_RESIZE, sz, sizeof sz);
}

int
agent_exec_signal(struct agent_exec *x, struct buf *out, const char *name, char **cause)
{
	int sig = exec_signal_number(name);
	unsigned char b;

	if (!x->via_relay)
		return exec_signal_send(x->docker, x->exec_id, name, cause);
	if (sig <= 0 || sig > 255)
		return error_set(
		    cause, "unknown signal %s", name != NULL ? name : "(none)");
	b = (unsigned char)sig;
	exec_relay_frame(out, EXEC_RELAY_SIGNAL, &b, 1);
	return 0;
}

int
agent_exec_hangup(struct agent_exec *x, int grace_ms, char **cause)
{
	/* The relay hangs up when the connection closes (relay-exec.h). A
	 * Docker exec does not, but its output unread on the attach holds up
	 * the exec that signals it (seen with `yes`): closed first too. */
	if (x->fd >= 0) {
		close(x->fd);
		x->fd = -1;
	}
	if (!x->via_relay)
		return exec_signal_hangup(x->docker, x->exec_id, grace_ms, cause);
	return 0;
}

/* The relay's connection ended without the command's status: the relay was
 * killed, most often with its container (rdev stop, docker stop or rm, the
 * container's main process ending); say so when the container shows it.
 * Docker marks the container stopped a moment after its processes die:
 * asked again for up to a second while it still runs. */
static int
agent_exec_no_status(struct agent_exec *x, char **cause)
{
	const struct timespec pause = { 0, AGENT_EXEC_GONE_POLL_MS * 1000000L };
	const char *why = "was it killed?";
	cJSON *info = NULL;
	char *ignore = NULL;

	for (int i = 0; x->container_id != NULL && i < 1000 / AGENT_EXEC_GONE_POLL_MS;
	     i++) {
		if (docker_container_inspect(
			x->docker, x->container_id, &info, &ignore) != 0)
			break;
		if (info == NULL) {
			why = "the dev container was removed under the command";
			break;
		}
		if (!docker_container_running(info)) {
			why = "the dev container stopped under the command";
			break;
		}
		cJSON_Delete(info);
		info = NULL;
		nanosleep(&pause, NULL);
	}
	cJSON_Delete(info);
	free(ignore);
	return error_set(cause,
	    "the container's relay ended the exec without its exit status (%s)", why);
}

int
agent_exec_exit(struct agent_exec *x, int *status, char **cause)
{
	if (!x->via_relay)
		return docker_exec_exit(x->docker, x->exec_id, status, cause);
	if (x->exit_len != 4 && x->exit_len != 6)
		return agent_exec_no_status(x, cause);
	*status = (int)be_get_u32(x->exit_bytes);
	return 0;
}

int
agent_exec_exit_signal(const struct agent_exec *x, int *core)
{
	*core = 0;
	if (!x->via_relay || x->exit_len != 6)
		return 0;
	*core = x->exit_bytes[5] != 0;
	return x->exit_bytes[4];
}

void
agent_exec_free(struct agent_exec *x)
{
	if (x == NULL)
		return;
	if (x->fd >= 0)
		close(x->fd);
	docker_stream_free(x->demux);
	buf_free(x->early);
	buf_free(x->message);
	free(x->exec_id);
	free(x->container_id);
	free(x->warning);
	free(x->notice);
	docker_free(x->docker);
	free(x);
}

/* ---- the pump -------------------------------------------------------------- */

/* Cut output from x into pieces for the client. 0; 1 when the client gave
 * up; -1 with *cause. */
static int
agent_exec_pump_output(const struct agent_exec_client *c, struct agent_exec *x,
    const unsigned char *data, size_t len, char **cause)
{
	const unsigned char *payload;
	size_t used, plen;
	int stream, rc;

	while ((rc = agent_exec_output(
		    x, data, len, &used, &stream, &payload, &plen, cause)) == 1) {
		data += used;
		len -= used;
		if (c->output(c->arg, stream, payload, plen) != 0) {
			/* The rest is cut all the same (output dropped): the
			 * relay's EXIT frame may be in it (agent_exec_ended). */
			while (agent_exec_output(x, data, len, &used, &stream, &payload,
				   &plen, NULL) == 1) {
				data += used;
				len -= used;
			}
			return 1;
		}
	}
	return rc;
}

int
agent_exec_ended(struct agent_exec *x)
{
	unsigned char data[AGENT_EXEC_READ_SIZE], *p;
	const unsigned char *payload;
	size_t used, plen, len;
	int stream;
	ssize_t n;

	/* (bounded: a command that writes on refills the socket as it is read) */
	for (int i = 0; i < AGENT_EXEC_ENDED_READS && x->fd >= 0; i++) {
		if (x->via_relay && (x->exit_len == 4 || x->exit_len == 6))
			break;
		n = read(x->fd, data, sizeof data);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			return !x->via_relay || x->exit_len == 4 || x->exit_len == 6;
		if (n < 0)
			return 0; /* (EAGAIN: nothing more has come) */
		for (p = data, len = (size_t)n;
		     agent_exec_output(
			 x, p, len, &used, &stream, &payload, &plen, NULL) == 1;) {
			p += used;
			len -= used;
		}
	}
	return x->via_relay && (x->exit_len == 4 || x->exit_len == 6);
}

void
agent_exec_pump_input_end(struct agent_exec_pump *p)
{
	p->input_done = 1;
	p->shut_pending = agent_exec_input_end(p->x, p->out);
}

/* The connection is non-blocking and the client polls its input only while
 * little is queued for the exec, so a command that writes while we write
 * never deadlocks. */
int
agent_exec_pump_run(struct agent_exec *x, const struct agent_exec_client *c, char **cause)
{
	struct agent_exec_pump p = { x, buf_new(), 0, 0 };
	unsigned char data[AGENT_EXEC_READ_SIZE];
	struct pollfd pfd[2];
	size_t room;
	ssize_t n;
	int rc = -1, r;

	fcntl(x->fd, F_SETFL, fcntl(x->fd, F_GETFL) | O_NONBLOCK);
	if ((r = agent_exec_pump_output(
		 c, x, buf_data(x->early), buf_len(x->early), cause)) != 0) {
		rc = r;
		goto out;
	}
	for (;;) {
		if (c->tick != NULL)
			c->tick(c->arg, &p);
		if (p.shut_pending && buf_len(p.out) == 0) {
			shutdown(x->fd, SHUT_WR);
			p.shut_pending = 0;
		}
		c->poll(c->arg, &p, &pfd[0]);
		room = c->room != NULL ? c->room(c->arg) : sizeof data;
		if (room > sizeof data)
			room = sizeof data;
		pfd[1] = (struct pollfd){ .fd = x->fd,
			.events = (room > 0 ? POLLIN : 0) |
			    (buf_len(p.out) > 0 ? POLLOUT : 0) };
		if (pfd[1].events == 0)
			pfd[1].fd = -1; /* (a hang-up would wake us for nothing) */
		if ((c->poll_mask != NULL ? ppoll(pfd, 2, NULL, c->poll_mask)
					  : poll(pfd, 2, -1)) < 0) {
			if (errno == EINTR)
				continue;
			error_set_errno(cause, errno, "poll");
			goto out;
		}
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			if ((r = c->input(c->arg, &p, cause)) != 0) {
				rc = r;
				goto out;
			}
		}
		if (buf_len(p.out) > 0 &&
		    (pfd[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
			n = send(x->fd, buf_data(p.out), buf_len(p.out), MSG_NOSIGNAL);
			if (n > 0)
				buf_consume(p.out, (size_t)n);
			else if (n < 0 && errno != EINTR && errno != EAGAIN) {
				/* The command stopped reading: drop the rest. */
				buf_reset(p.out);
				p.input_done = 1;
				p.shut_pending = 0;
			}
		}
		if (room > 0 && (pfd[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			/* At most room: each byte read is at most one of output. */
			n = read(x->fd, data, room);
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n <= 0)
				break;
			if ((r = agent_exec_pump_output(c, x, data, (size_t)n, cause)) !=
			    0) {
				rc = r;
				goto out;
			}
		}
	}
	rc = agent_exec_output_end(x, cause);
out:
	buf_free(p.out);
	return rc;
}
