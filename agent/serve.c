/* serve.c - `rdev-agent serve`: route protocol frames between the peer and
 * one worker process per request (serve.h, docs/PROTOCOL.md). */
#include "serve.h"

#include <sys/prctl.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent-cmds.h"
#include "agent-exec.h"
#include "agent-ops.h"
#include "atomic-file.h"
#include "buf.h"
#include "clock.h"
#include "docker.h"
#include "error.h"
#include "exec-signal.h"
#include "log.h"
#include "proto.h"
#include "relay-install.h"
#include "serve-listen.h"
#include "xmalloc.h"

#define SERVE_SOFTWARE "rdev-agent " RDEV_VERSION
/* Stop reading workers while this much waits for the peer, and stop reading
 * the peer while this much waits for one worker. */
#define SERVE_HIGH_WATER (4u << 20)
#define SERVE_READ_SIZE 65536
#define SERVE_LOG_MAX (4u << 20)
/* When the peer is gone: how long an exec's processes get between SIGHUP and
 * SIGKILL, and how long the router then waits for its exec workers. */
#define SERVE_HANGUP_GRACE_MS 2000
#define SERVE_EXEC_WAIT_MS 10000
/* A cancelled operation's process group gets SIGINT, then SIGKILL this much
 * later; what is left of it is given up on a little after that. */
#define SERVE_CANCEL_GRACE_MS 5000
#define SERVE_CANCEL_GIVE_UP_MS 1000
/* How often the router looks whether a cancelled group is gone. */
#define SERVE_CANCEL_TICK_MS 100
/* What a cancelled operation answers: as a CLI killed by ^C. */
#define SERVE_CANCEL_STATUS 130

enum serve_kind { SERVE_OP, SERVE_EXEC };

/* One request being worked on by a child process. */
struct serve_worker {
	TAILQ_ENTRY(serve_worker) entry;
	enum serve_kind kind;
	double id;         /* the request's id */
	char *op;
	uint32_t channel;  /* exec: stdout/stdin on channel, stderr on channel + 1 */
	pid_t pid;
	int fd;            /* our end of the socketpair; -1 once closed */
	int answered;      /* its final response went to the peer */
	int closed;        /* exec: its CLOSE went to the peer */
	int reaped;
	int status;        /* wait status, once reaped */
	int cancelled;     /* op: SIGINT went to its process group */
	int killed;        /* op: and then SIGKILL */
	long long kill_at; /* op, cancelled: when SIGKILL goes (clock_now_ms) */
	double *signals;   /* exec: ids of signal requests it has not answered */
	size_t nsignals;
	struct buf *in;    /* bytes from the worker, not yet a whole frame */
	struct buf *out;   /* frames for the worker */
};
TAILQ_HEAD(serve_workers, serve_worker);

struct serve {
	const struct serve_opts *opts;
	struct buf *in;    /* bytes from the peer, not yet a whole frame */
	struct buf *out;   /* frames for the peer */
	struct serve_workers workers;
	uint32_t version;  /* negotiated; 0 before the handshake */
	int in_eof;
	int fatal;         /* a FATAL is queued: flush it and stop */
};

/* The SIGCHLD self-pipe: the handler can only write a byte. */
static int serve_sigpipe[2] = { -1, -1 };

static void
serve_on_sigchld(int sig)
{
	int saved = errno;

	(void)sig;
	if (serve_sigpipe[1] >= 0 && write(serve_sigpipe[1], "", 1) < 0) {
		/* full: a wake-up is already pending */
	}
	errno = saved;
}

/* SIGTERM came (serve_opts.end_on_term): end as when the peer goes. */
static volatile sig_atomic_t serve_terminated;

static void
serve_on_sigterm(int sig)
{
	serve_terminated = 1;
	serve_on_sigchld(sig);
}

static void
serve_on_ignored(int sig)
{
	(void)sig;
}

static void
serve_set_nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* Queue one JSON frame; a message too big for a frame becomes an error. */
static void
serve_queue_json(struct buf *out, enum proto_type type, uint32_t channel, cJSON *obj)
{
	char *cause = NULL;

	if (proto_encode_json(out, type, channel, obj, &cause) != 0) {
		log_warn("serve: %s", cause);
		free(cause);
	}
}

/* A response {"id":id,"ok":false,"error":msg[,"exitStatus":status]}. */
static cJSON *
serve_error_response(const cJSON *id, const char *msg, int status)
{
	cJSON *r = cJSON_CreateObject();

	if (r == NULL)
		fatal("out of memory");
	if (id != NULL)
		cJSON_AddItemToObject(r, "id", cJSON_Duplicate(id, 1));
	else
		cJSON_AddNullToObject(r, "id");
	cJSON_AddBoolToObject(r, "ok", 0);
	cJSON_AddStringToObject(r, "error", msg);
	if (status >= 0)
		cJSON_AddNumberToObject(r, "exitStatus", status);
	return r;
}

static void
serve_reply_error(struct buf *out, const cJSON *id, const char *msg, int status)
{
	cJSON *r = serve_error_response(id, msg, status);

	serve_queue_json(out, PROTO_CONTROL, 0, r);
	cJSON_Delete(r);
}

static void
serve_reply_result(struct buf *out, const cJSON *id, cJSON *result)
{
	cJSON *r = cJSON_CreateObject();

	if (r == NULL)
		fatal("out of memory");
	cJSON_AddItemToObject(r, "id", cJSON_Duplicate(id, 1));
	cJSON_AddBoolToObject(r, "ok", 1);
	cJSON_AddItemToObject(r, "result", result);
	serve_queue_json(out, PROTO_CONTROL, 0, r);
	cJSON_Delete(r);
}

/* Queue FATAL {"error":msg}; the loop flushes it and ends with exit code 1. */
static void
serve_fatal(struct serve *s, const char *msg)
{
	cJSON *o = cJSON_CreateObject();

	log_error("serve: %s", msg);
	cJSON_AddStringToObject(o, "error", msg);
	serve_queue_json(s->out, PROTO_FATAL, 0, o);
	cJSON_Delete(o);
	s->fatal = 1;
}

/* ---- Workers: run in the child process. ------------------------------- */

struct serve_job {
	int sock;          /* to the router */
	const cJSON *req;
	const cJSON *id;
	const char *self;
};

static void
serve_job_send(struct serve_job *j, enum proto_type type, uint32_t channel, cJSON *obj)
{
	struct buf *b = buf_new();

	serve_queue_json(b, type, channel, obj);
	/* A router gone away is not our problem: the work goes on. */
	fd_write_all(j->sock, buf_data(b), buf_len(b));
	buf_free(b);
}

static void
serve_job_send_raw(struct serve_job *j, enum proto_type type, uint32_t channel,
    const void *data, size_t len)
{
	struct buf *b = buf_new();

	proto_encode(b, type, channel, data, len);
	fd_write_all(j->sock, buf_data(b), buf_len(b));
	buf_free(b);
}

static void
serve_job_result(struct serve_job *j, cJSON *result)
{
	struct buf *b = buf_new();

	serve_reply_result(b, j->id, result);
	fd_write_all(j->sock, buf_data(b), buf_len(b));
	buf_free(b);
}

static void
serve_job_error(struct serve_job *j, const char *msg, int status)
{
	cJSON *r = serve_error_response(j->id, msg, status);

	serve_job_send(j, PROTO_CONTROL, 0, r);
	cJSON_Delete(r);
}

static const char *
serve_req_string(const cJSON *req, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int
serve_req_bool(const cJSON *req, const char *name)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req, name));
}

/* The request's workspace folder with a leading "~" made $HOME. New string,
 * or NULL with *cause. */
static char *
serve_req_workspace(const cJSON *req, char **cause)
{
	const char *w = serve_req_string(req, "workspace"), *home = getenv("HOME");

	if (w == NULL || *w == '\0') {
		error_set(cause, "\"workspace\" (a folder on this host) is required");
		return NULL;
	}
	if (w[0] == '~' && (w[1] == '/' || w[1] == '\0') && home != NULL)
		return xasprintf("%s%s", home, w + 1);
	return xstrdup(w);
}

/* The command a "no container" message tells the user to run: the request's
 * "hint" (the client knows what its user typed, e.g. `rdev up buildbox:~/app`),
 * else "PROG up FOLDER". New string. */
static char *
serve_req_up_cmd(const cJSON *req, const char *prog, const char *folder,
    const char *config)
{
	const char *hint = serve_req_string(req, "hint");

	if (hint != NULL && *hint != '\0')
		return xstrdup(hint);
	return agent_up_command(prog, folder, config);
}

/* Progress from up: one event per chunk. */
static void
serve_job_progress(void *arg, const char *data, size_t len)
{
	struct serve_job *j = arg;
	cJSON *ev = cJSON_CreateObject();
	char *text;

	cJSON_AddItemToObject(ev, "id", cJSON_Duplicate(j->id, 1));
	cJSON_AddStringToObject(ev, "event", "progress");
	text = xmalloc(len + 1);
	memcpy(text, data, len);
	text[len] = '\0';
	cJSON_AddStringToObject(ev, "text", text);
	free(text);
	serve_job_send(j, PROTO_CONTROL, 0, ev);
	cJSON_Delete(ev);
}

/* Pass the exec's output to the router: stdout on channel, stderr on
 * channel + 1 (a TTY has only one stream). */
static int
serve_exec_output(struct serve_job *j, uint32_t ch, struct agent_exec *x,
    const unsigned char *data, size_t len, char **cause)
{
	const unsigned char *payload;
	size_t used, plen;
	int stream, rc;

	while ((rc = agent_exec_output(x, data, len, &used, &stream, &payload, &plen,
	    cause)) == 1) {
		data += used;
		len -= used;
		serve_job_send_raw(j, PROTO_DATA, stream == 1 ? ch : ch + 1, payload, plen);
	}
	return rc;
}

/* A request the router passed on to this exec: resize (answered by the
 * router) or signal (answered here, once sent or queued). */
static void
serve_exec_control(struct serve_job *j, struct agent_exec *x, struct buf *pending,
    const cJSON *msg)
{
	const cJSON *rows = cJSON_GetObjectItemCaseSensitive(msg, "rows");
	const cJSON *cols = cJSON_GetObjectItemCaseSensitive(msg, "cols");
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(msg, "id");
	const char *op = serve_req_string(msg, "op");
	struct serve_job sj = *j;
	char *cause = NULL, *m;

	if (op == NULL || strcmp(op, "signal") != 0) {
		if (cJSON_IsNumber(rows) && cJSON_IsNumber(cols) && rows->valueint > 0 &&
		    cols->valueint > 0)
			agent_exec_resize(x, pending, (unsigned)rows->valueint,
			    (unsigned)cols->valueint);
		return;
	}
	sj.id = id;
	if (agent_exec_signal(x, pending, serve_req_string(msg, "signal"), &cause) == 0) {
		serve_job_result(&sj, cJSON_CreateObject());
		return;
	}
	m = xasprintf("signal: %s", cause);
	log_warn("serve: exec: %s", m);
	serve_job_error(&sj, m, -1);
	free(m);
	free(cause);
}

/* Pump frames from the router (stdin, its end, resizes, a CLOSE) to the exec
 * and its output back, until the output ends. Returns 0, 1 if the router or
 * the peer gave up on the exec, or -1 with *cause. */
static int
serve_exec_pump(struct serve_job *j, uint32_t ch, struct agent_exec *x, char **cause)
{
	struct buf *in = buf_new(), *pending = buf_new();
	struct proto_frame f;
	struct pollfd pfd[2];
	unsigned char *p, data[SERVE_READ_SIZE];
	size_t used;
	cJSON *msg;
	ssize_t n;
	int rc = -1, stdin_eof = 0, shut_pending = 0, r;

	serve_set_nonblock(x->fd);
	if (serve_exec_output(j, ch, x, buf_data(x->early), buf_len(x->early), cause) != 0)
		goto out;
	for (;;) {
		if (shut_pending && buf_len(pending) == 0) {
			shutdown(x->fd, SHUT_WR);
			shut_pending = 0;
		}
		/* Always polled: a router gone away shows as POLLHUP. */
		pfd[0] = (struct pollfd){ .fd = j->sock,
		    .events = buf_len(pending) < SERVE_HIGH_WATER ? POLLIN : 0 };
		pfd[1] = (struct pollfd){ .fd = x->fd,
		    .events = POLLIN | (buf_len(pending) > 0 ? POLLOUT : 0) };
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			error_set_errno(cause, errno, "poll");
			goto out;
		}
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			p = buf_reserve(in, SERVE_READ_SIZE);
			n = read(j->sock, p, SERVE_READ_SIZE);
			if (n <= 0 && !(n < 0 && (errno == EINTR || errno == EAGAIN))) {
				rc = 1; /* the router is gone */
				goto out;
			}
			if (n > 0)
				buf_commit(in, (size_t)n);
			while ((r = proto_decode(buf_data(in), buf_len(in), &f, &used,
			    cause)) == 1) {
				if (f.type == PROTO_DATA && !stdin_eof)
					agent_exec_input(x, pending, f.payload, f.len);
				else if (f.type == PROTO_EOF && !stdin_eof) {
					stdin_eof = 1;
					shut_pending = agent_exec_input_end(x, pending);
				} else if (f.type == PROTO_CLOSE) {
					rc = 1;
					goto out;
				} else if (f.type == PROTO_CONTROL &&
				    (msg = proto_frame_json(&f, NULL)) != NULL) {
					serve_exec_control(j, x, pending, msg);
					cJSON_Delete(msg);
				}
				buf_consume(in, used);
			}
			if (r < 0)
				goto out;
		}
		if (buf_len(pending) > 0 && (pfd[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
			n = send(x->fd, buf_data(pending), buf_len(pending), MSG_NOSIGNAL);
			if (n > 0)
				buf_consume(pending, (size_t)n);
			else if (n < 0 && errno != EINTR && errno != EAGAIN) {
				/* The command stopped reading: drop the rest. */
				buf_reset(pending);
				stdin_eof = 1;
				shut_pending = 0;
			}
		}
		if (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			n = read(x->fd, data, sizeof data);
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n <= 0)
				break;
			if (serve_exec_output(j, ch, x, data, (size_t)n, cause) != 0)
				goto out;
		}
	}
	rc = agent_exec_output_end(x, cause);
out:
	buf_free(in);
	buf_free(pending);
	return rc;
}

/* exec: start the command, answer with the channel, pump, CLOSE with the
 * exit status. */
static int
serve_job_exec(struct serve_job *j, const char *folder, const char *config)
{
	const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(j->req, "command"), *e;
	const cJSON *rows = cJSON_GetObjectItemCaseSensitive(j->req, "rows");
	const cJSON *cols = cJSON_GetObjectItemCaseSensitive(j->req, "cols");
	uint32_t ch = (uint32_t)cJSON_GetObjectItemCaseSensitive(j->req, "channel")->valuedouble;
	struct agent_exec *x = NULL;
	char **argv, *cause = NULL, *up_cmd;
	int argc = 0, tty = serve_req_bool(j->req, "tty"), rc, status;
	unsigned size_rows = 0, size_cols = 0;
	cJSON *r, *close_msg;

	argv = xcalloc((size_t)cJSON_GetArraySize(cmd) + 1, sizeof *argv);
	cJSON_ArrayForEach(e, cmd)
		argv[argc++] = e->valuestring;
	if (tty && cJSON_IsNumber(rows) && cJSON_IsNumber(cols) && rows->valuedouble >= 1 &&
	    rows->valuedouble <= 65535 && cols->valuedouble >= 1 && cols->valuedouble <= 65535) {
		size_rows = (unsigned)rows->valuedouble;
		size_cols = (unsigned)cols->valuedouble;
	}
	up_cmd = serve_req_up_cmd(j->req, "rdev-agent", folder, config);
	rc = agent_exec_start(up_cmd, folder, config, argv, argc, tty,
	    serve_req_string(j->req, "term"), size_rows, size_cols, &x, &cause);
	free(up_cmd);
	free(argv);
	if (rc != 0) {
		serve_job_error(j, cause, AGENT_EXIT_EXEC_FAILED);
		free(cause);
		return 1;
	}
	r = cJSON_CreateObject();
	cJSON_AddItemToObject(r, "id", cJSON_Duplicate(j->id, 1));
	cJSON_AddBoolToObject(r, "ok", 1);
	cJSON_AddNumberToObject(r, "channel", ch);
	if (x->notice != NULL)
		cJSON_AddItemToArray(cJSON_AddArrayToObject(r, "warnings"),
		    cJSON_CreateString(x->notice));
	serve_job_send(j, PROTO_CONTROL, 0, r);
	cJSON_Delete(r);
	rc = serve_exec_pump(j, ch, x, &cause);
	if (rc == 1 && agent_exec_hangup(x, SERVE_HANGUP_GRACE_MS, &cause) != 0) {
		log_warn("serve: exec: hangup: %s", cause);
		free(cause);
		cause = NULL;
	}
	close_msg = cJSON_CreateObject();
	if (rc == 1)
		cJSON_AddStringToObject(close_msg, "error", "closed by the peer");
	else if (rc == 0 && agent_exec_exit(x, &status, &cause) == 0)
		cJSON_AddNumberToObject(close_msg, "status", status);
	else {
		cJSON_AddStringToObject(close_msg, "error", cause);
		cJSON_AddNumberToObject(close_msg, "status", AGENT_EXIT_EXEC_FAILED);
	}
	serve_job_send(j, PROTO_CLOSE, ch, close_msg);
	cJSON_Delete(close_msg);
	free(cause);
	agent_exec_free(x);
	return 0;
}

/* Run one request in the worker process; the answer goes to j->sock. */
static void
serve_job_run(struct serve_job *j, const char *op)
{
	struct up_opts uo = { 0 };
	const cJSON *mb, *off;
	char *folder = NULL, *cause = NULL;
	const char *config = serve_req_string(j->req, "config");
	char *up_cmd = NULL;
	cJSON *result = NULL;
	int rc = -1;

	if (strcmp(op, "info") == 0)
		rc = agent_op_info(&result, &cause);
	else if (strcmp(op, "ls") == 0)
		rc = agent_op_ls(&result, &cause);
	else if ((folder = serve_req_workspace(j->req, &cause)) == NULL) {
		serve_job_error(j, cause, strcmp(op, "exec") == 0 ?
		    AGENT_EXIT_EXEC_FAILED : CMD_EXIT_FAILURE);
		free(cause);
		return;
	} else if (strcmp(op, "exec") == 0) {
		serve_job_exec(j, folder, config);
		free(folder);
		return;
	} else if (strcmp(op, "up") == 0) {
		uo.workspace_folder = folder;
		uo.config_file = config;
		uo.rebuild = serve_req_bool(j->req, "rebuild");
		uo.recreate = serve_req_bool(j->req, "recreate");
		uo.skip_non_blocking = serve_req_bool(j->req, "skipNonBlockingCommands");
		uo.skip_post_create = serve_req_bool(j->req, "skipPostCreate");
		uo.skip_post_attach = serve_req_bool(j->req, "skipPostAttach");
		uo.include_ports = serve_req_bool(j->req, "includePorts");
		uo.progress.fn = serve_job_progress;
		uo.progress.arg = j;
		rc = agent_op_up(&uo, &result, &cause);
	} else if (strcmp(op, "stop") == 0)
		rc = agent_op_stop(folder, config, &result, &cause);
	else if (strcmp(op, "down") == 0)
		rc = agent_op_down(folder, config, serve_req_bool(j->req, "volumes"), &result,
		    &cause);
	else if (strcmp(op, "logs") == 0) {
		mb = cJSON_GetObjectItemCaseSensitive(j->req, "maxBytes");
		up_cmd = serve_req_up_cmd(j->req, "rdev-agent", folder, config);
		off = cJSON_GetObjectItemCaseSensitive(j->req, "offset");
		rc = agent_op_logs(folder, config, up_cmd, cJSON_IsNumber(mb) &&
		    mb->valuedouble > 0 && mb->valuedouble < SERVE_LOG_MAX ?
		    (size_t)mb->valuedouble : SERVE_LOG_MAX, cJSON_IsNumber(off) &&
		    off->valuedouble >= 0 && off->valuedouble < 9e15 ?
		    (long long)off->valuedouble : -1, &result, &cause);
	} else if (strcmp(op, "relay") == 0) {
		/* asked by the broker for `rdev forward` */
		up_cmd = serve_req_up_cmd(j->req, "rdev", folder, config);
		rc = relay_install_ensure(up_cmd, folder, config,
		    serve_req_string(j->req, "service"), &result, &cause);
	}
	else if (strcmp(op, "read-configuration") == 0)
		rc = agent_op_read_configuration(j->self, folder, config,
		    serve_req_bool(j->req, "includeMerged"), &result, &cause);
	else
		fatal("serve: no worker for op %s", op);
	if (rc == 0)
		serve_job_result(j, result);
	else
		serve_job_error(j, cause, CMD_EXIT_FAILURE);
	free(cause);
	free(up_cmd);
	free(folder);
}

/* ---- The router: runs in the serve process. --------------------------- */

static const char *const serve_worker_ops[] = {
	"info", "read-configuration", "up", "stop", "down", "ls", "logs", "exec", "relay",
	NULL
};

static void
serve_worker_free(struct serve_worker *w)
{
	if (w == NULL)
		return;
	if (w->fd >= 0)
		close(w->fd);
	buf_free(w->in);
	buf_free(w->out);
	free(w->signals);
	free(w->op);
	free(w);
}

static struct serve_worker *
serve_find_id(struct serve *s, double id)
{
	struct serve_worker *w;
	size_t i;

	TAILQ_FOREACH(w, &s->workers, entry) {
		if (w->id == id && !w->answered)
			return w;
		for (i = 0; i < w->nsignals; i++)
			if (w->signals[i] == id)
				return w;
	}
	return NULL;
}

/* The live exec worker whose channel pair holds ch. */
static struct serve_worker *
serve_find_channel(struct serve *s, uint32_t ch)
{
	struct serve_worker *w;

	TAILQ_FOREACH(w, &s->workers, entry)
		if (w->kind == SERVE_EXEC && !w->closed &&
		    (ch == w->channel || ch == w->channel + 1))
			return w;
	return NULL;
}

/* Fork the worker for req. The child never returns. */
static void
serve_spawn(struct serve *s, cJSON *req, const cJSON *id, const char *op,
    enum serve_kind kind, uint32_t channel)
{
	struct serve_worker *w, *o;
	struct serve_job j;
	struct sigaction sa;
	int sv[2], null;
	pid_t pid, router = getpid();

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		serve_reply_error(s->out, id, strerror(errno), kind == SERVE_EXEC ?
		    AGENT_EXIT_EXEC_FAILED : CMD_EXIT_FAILURE);
		return;
	}
	if ((pid = fork()) < 0) {
		close(sv[0]);
		close(sv[1]);
		serve_reply_error(s->out, id, strerror(errno), kind == SERVE_EXEC ?
		    AGENT_EXIT_EXEC_FAILED : CMD_EXIT_FAILURE);
		return;
	}
	if (pid == 0) {
		/* The worker keeps nothing of the router: not the peer's stream
		 * (stray output must never corrupt it), not other workers. */
		signal(SIGCHLD, SIG_DFL);
		if (kind == SERVE_EXEC) {
			/* A terminal's hangup or ^C that ends the router must
			 * not end an exec worker before it has hung up its
			 * command: it notices the router's end by itself. A
			 * handler, not SIG_IGN, which programs would inherit. */
			memset(&sa, 0, sizeof sa);
			sa.sa_handler = serve_on_ignored;
			sa.sa_flags = SA_RESTART;
			sigemptyset(&sa.sa_mask);
			sigaction(SIGHUP, &sa, NULL);
			sigaction(SIGINT, &sa, NULL);
		} else {
			/* An operation is cancelled as a local one is by ^C:
			 * SIGINT to its process group (serve_cancel), which
			 * must not be ignored even if serve's was. A router
			 * that dies without cancelling (killed) cancels too. */
			setpgid(0, 0);
			signal(SIGINT, SIG_DFL);
			signal(SIGTERM, SIG_DFL);
			if (prctl(PR_SET_PDEATHSIG, SIGINT) == 0 && getppid() != router)
				_exit(0); /* the router is gone already */
		}
		close(sv[0]);
		close(serve_sigpipe[0]);
		close(serve_sigpipe[1]);
		TAILQ_FOREACH(o, &s->workers, entry)
			if (o->fd >= 0)
				close(o->fd);
		if ((null = open("/dev/null", O_RDWR)) >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			if (null > 2)
				close(null);
		}
		if (s->opts->in_fd > 2)
			close(s->opts->in_fd);
		if (s->opts->out_fd > 2)
			close(s->opts->out_fd);
		j.sock = sv[1];
		j.req = req;
		j.id = id;
		j.self = s->opts->self;
		serve_job_run(&j, op);
		fflush(stderr);
		_exit(0);
	}
	close(sv[1]);
	/* Also here, so that a cancel right away finds the group. */
	if (kind == SERVE_OP)
		setpgid(pid, pid);
	serve_set_nonblock(sv[0]);
	w = xcalloc(1, sizeof *w);
	w->kind = kind;
	w->id = id->valuedouble;
	w->op = xstrdup(op);
	w->channel = channel;
	w->pid = pid;
	w->fd = sv[0];
	w->in = buf_new();
	w->out = buf_new();
	TAILQ_INSERT_TAIL(&s->workers, w, entry);
	log_debug("serve: request %.0f (%s): worker %ld", w->id, op, (long)pid);
}

/* Cancel operation w as ^C cancels a local one: SIGINT to its process group
 * (the worker and what it started), SIGKILL SERVE_CANCEL_GRACE_MS later if
 * anything is left (serve_cancel_tick). The worker dies before it records a
 * lifecycle step as done; its docker connections close, and the lifecycle
 * watchdog in the container ends the step's processes. */
static void
serve_cancel(struct serve_worker *w, const char *why)
{
	if (w->kind != SERVE_OP || w->cancelled)
		return;
	w->cancelled = 1;
	w->kill_at = clock_now_ms() + SERVE_CANCEL_GRACE_MS;
	log_info("serve: request %.0f (%s): cancelled (%s): SIGINT to worker %ld",
	    w->id, w->op, why, (long)w->pid);
	if (kill(-w->pid, SIGINT) != 0 && errno != ESRCH)
		log_warn("serve: request %.0f: kill: %s", w->id, strerror(errno));
}

/* Is a cancelled worker done with: reaped, and its process group empty (or
 * given up on)? */
static int
serve_cancel_done(const struct serve_worker *w, long long now)
{
	if (!w->reaped)
		return 0;
	if (kill(-w->pid, 0) != 0 && errno == ESRCH)
		return 1;
	return now >= w->kill_at + SERVE_CANCEL_GIVE_UP_MS;
}

/* Send SIGKILL to cancelled groups whose grace is over. Returns the poll
 * timeout the router needs for its cancels: -1 if there are none. */
static int
serve_cancel_tick(struct serve *s)
{
	struct serve_worker *w;
	long long now = clock_now_ms();
	int timeout = -1;

	TAILQ_FOREACH(w, &s->workers, entry) {
		if (!w->cancelled)
			continue;
		if (!w->killed && now >= w->kill_at) {
			w->killed = 1;
			log_warn("serve: request %.0f (%s): still running %d ms after "
			    "SIGINT: SIGKILL", w->id, w->op, SERVE_CANCEL_GRACE_MS);
			kill(-w->pid, SIGKILL);
		}
		timeout = SERVE_CANCEL_TICK_MS;
	}
	return timeout;
}

/* cancel: {"op":"cancel","request":M} cancels running operation M (see
 * serve_cancel), which then answers "cancelled"; answered {} at once. */
static void
serve_cancel_request(struct serve *s, const cJSON *req, const cJSON *id)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(req, "request");
	struct serve_worker *w, *found = NULL;
	char *msg;

	if (!cJSON_IsNumber(m)) {
		serve_reply_error(s->out, id, "cancel: \"request\" (the id of a running "
		    "request) is required", -1);
		return;
	}
	TAILQ_FOREACH(w, &s->workers, entry)
		if (w->id == m->valuedouble &&
		    (!w->answered || (w->kind == SERVE_EXEC && !w->closed)))
			found = w;
	if (found == NULL) {
		msg = xasprintf("cancel: no request %.0f is running", m->valuedouble);
		serve_reply_error(s->out, id, msg, -1);
		free(msg);
		return;
	}
	if (found->kind == SERVE_EXEC) {
		msg = xasprintf("cancel: request %.0f is an exec: send it a signal or "
		    "close its channel", m->valuedouble);
		serve_reply_error(s->out, id, msg, -1);
		free(msg);
		return;
	}
	serve_cancel(found, "cancel request");
	serve_reply_result(s->out, id, cJSON_CreateObject());
}

/* Answer version in the router itself. */
static void
serve_version(struct serve *s, const cJSON *id)
{
	cJSON *r = cJSON_CreateObject();

	cJSON_AddStringToObject(r, "software", SERVE_SOFTWARE);
	cJSON_AddStringToObject(r, "version", RDEV_VERSION);
	cJSON_AddNumberToObject(r, "protocol", s->version);
	serve_reply_result(s->out, id, r);
}

/* resize: {"op":"resize","channel":C,"rows":R,"cols":C} goes to the exec. */
static void
serve_resize(struct serve *s, const cJSON *req, const cJSON *id)
{
	const cJSON *ch = cJSON_GetObjectItemCaseSensitive(req, "channel");
	struct serve_worker *w = NULL;
	cJSON *r;

	if (cJSON_IsNumber(ch))
		w = serve_find_channel(s, (uint32_t)ch->valuedouble);
	if (w == NULL || w->channel != (uint32_t)ch->valuedouble) {
		serve_reply_error(s->out, id, "resize: no exec on that channel", -1);
		return;
	}
	serve_queue_json(w->out, PROTO_CONTROL, w->channel, (cJSON *)req);
	r = cJSON_CreateObject();
	serve_reply_result(s->out, id, r);
}

/* signal: {"op":"signal","channel":C,"signal":"INT"} goes to the exec's
 * worker, which answers once it has sent it (exec-signal.h). */
static void
serve_signal(struct serve *s, const cJSON *req, const cJSON *id)
{
	const cJSON *ch = cJSON_GetObjectItemCaseSensitive(req, "channel");
	const cJSON *sig = cJSON_GetObjectItemCaseSensitive(req, "signal");
	struct serve_worker *w = NULL;
	char *msg;

	if (cJSON_IsNumber(ch))
		w = serve_find_channel(s, (uint32_t)ch->valuedouble);
	if (w == NULL || w->channel != (uint32_t)ch->valuedouble || w->fd < 0) {
		serve_reply_error(s->out, id, "signal: no exec on that channel", -1);
		return;
	}
	if (!cJSON_IsString(sig) || exec_signal_number(sig->valuestring) < 0) {
		msg = xasprintf("signal: \"signal\" must be one of INT, TERM, HUP, KILL, "
		    "QUIT, USR1, USR2, WINCH");
		serve_reply_error(s->out, id, msg, -1);
		free(msg);
		return;
	}
	w->signals = xreallocarray(w->signals, w->nsignals + 1, sizeof *w->signals);
	w->signals[w->nsignals++] = id->valuedouble;
	serve_queue_json(w->out, PROTO_CONTROL, w->channel, (cJSON *)req);
}

/* A CONTROL frame from the peer: one request. */
static void
serve_request(struct serve *s, const struct proto_frame *f)
{
	const cJSON *id, *op, *ch, *cmd, *e;
	char *cause = NULL, *msg;
	cJSON *req;
	double c;
	int i;

	if ((req = proto_frame_json(f, &cause)) == NULL) {
		serve_reply_error(s->out, NULL, cause, -1);
		free(cause);
		return;
	}
	id = cJSON_GetObjectItemCaseSensitive(req, "id");
	op = cJSON_GetObjectItemCaseSensitive(req, "op");
	if (!cJSON_IsNumber(id) || !isfinite(id->valuedouble)) {
		serve_reply_error(s->out, NULL, "request without a numeric \"id\"", -1);
		goto out;
	}
	if (!cJSON_IsString(op)) {
		serve_reply_error(s->out, id, "request without an \"op\"", -1);
		goto out;
	}
	if (serve_find_id(s, id->valuedouble) != NULL) {
		msg = xasprintf("request id %.0f is still in use", id->valuedouble);
		serve_reply_error(s->out, id, msg, -1);
		free(msg);
		goto out;
	}
	if (strcmp(op->valuestring, "version") == 0) {
		serve_version(s, id);
		goto out;
	}
	if (strcmp(op->valuestring, "resize") == 0) {
		serve_resize(s, req, id);
		goto out;
	}
	if (strcmp(op->valuestring, "signal") == 0) {
		serve_signal(s, req, id);
		goto out;
	}
	if (strcmp(op->valuestring, "cancel") == 0) {
		serve_cancel_request(s, req, id);
		goto out;
	}
	for (i = 0; serve_worker_ops[i] != NULL; i++)
		if (strcmp(op->valuestring, serve_worker_ops[i]) == 0)
			break;
	if (serve_worker_ops[i] == NULL) {
		msg = xasprintf("unknown operation \"%s\"", op->valuestring);
		serve_reply_error(s->out, id, msg, -1);
		free(msg);
		goto out;
	}
	if (strcmp(op->valuestring, "exec") != 0) {
		serve_spawn(s, req, id, op->valuestring, SERVE_OP, 0);
		goto out;
	}
	/* exec: check what the router relies on before starting it. */
	ch = cJSON_GetObjectItemCaseSensitive(req, "channel");
	cmd = cJSON_GetObjectItemCaseSensitive(req, "command");
	c = cJSON_IsNumber(ch) ? ch->valuedouble : 0;
	if (c < 1 || c >= UINT32_MAX || c != floor(c)) {
		serve_reply_error(s->out, id, "exec: \"channel\" must be an integer from 1 "
		    "to 4294967294", AGENT_EXIT_EXEC_FAILED);
		goto out;
	}
	if (serve_find_channel(s, (uint32_t)c) != NULL ||
	    serve_find_channel(s, (uint32_t)c + 1) != NULL) {
		msg = xasprintf("exec: channel %.0f or %.0f is in use", c, c + 1);
		serve_reply_error(s->out, id, msg, AGENT_EXIT_EXEC_FAILED);
		free(msg);
		goto out;
	}
	if (!cJSON_IsArray(cmd) || cJSON_GetArraySize(cmd) == 0) {
		serve_reply_error(s->out, id, "exec: \"command\" must be a non-empty array",
		    AGENT_EXIT_EXEC_FAILED);
		goto out;
	}
	cJSON_ArrayForEach(e, cmd) {
		if (!cJSON_IsString(e)) {
			serve_reply_error(s->out, id, "exec: \"command\" must hold strings",
			    AGENT_EXIT_EXEC_FAILED);
			goto out;
		}
	}
	serve_spawn(s, req, id, "exec", SERVE_EXEC, (uint32_t)c);
out:
	cJSON_Delete(req);
}

/* One frame from the peer. */
static void
serve_peer_frame(struct serve *s, const struct proto_frame *f)
{
	struct serve_worker *w;
	char *cause = NULL, *msg;
	cJSON *hello;

	if (s->version == 0) {
		if (f->type != PROTO_HELLO) {
			msg = xasprintf("expected HELLO first, got %s",
			    proto_type_name(f->type));
			serve_fatal(s, msg);
			free(msg);
			return;
		}
		if ((hello = proto_frame_json(f, &cause)) == NULL ||
		    proto_hello_negotiate(hello, &s->version, &cause) != 0) {
			serve_fatal(s, cause);
			free(cause);
		}
		cJSON_Delete(hello);
		return;
	}
	switch (f->type) {
	case PROTO_HELLO:
		serve_fatal(s, "HELLO after the handshake");
		return;
	case PROTO_FATAL:
		log_error("serve: the peer ended the session: %.*s", (int)f->len,
		    (const char *)f->payload);
		s->fatal = 1;
		return;
	case PROTO_CONTROL:
		if (f->channel == 0) {
			serve_request(s, f);
			return;
		}
		/* FALLTHROUGH */
	default:
		/* Channel traffic goes to the exec owning the channel; traffic for
		 * a channel already closed is dropped (it crossed our CLOSE). */
		if ((w = serve_find_channel(s, f->channel)) != NULL && w->fd >= 0 &&
		    f->channel == w->channel)
			proto_encode(w->out, f->type, f->channel, f->payload, f->len);
		else
			log_debug("serve: %s on channel %u dropped",
			    proto_type_name(f->type), f->channel);
	}
}

/* A response m from w: its own final one, or a signal request's. */
static void
serve_worker_answered(struct serve_worker *w, const cJSON *m)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(m, "id");
	size_t i;

	if (!w->answered) {
		w->answered = 1;
		return;
	}
	for (i = 0; cJSON_IsNumber(id) && i < w->nsignals; i++) {
		if (w->signals[i] == id->valuedouble) {
			w->signals[i] = w->signals[--w->nsignals];
			return;
		}
	}
}

/* Forward the whole frames that came from w, noting its final answer. */
static void
serve_worker_frames(struct serve *s, struct serve_worker *w)
{
	struct proto_frame f;
	size_t used;
	char *cause = NULL;
	cJSON *m;
	int r;

	while ((r = proto_decode(buf_data(w->in), buf_len(w->in), &f, &used, &cause)) == 1) {
		if (f.type == PROTO_CONTROL && f.channel == 0 &&
		    (!w->answered || w->nsignals > 0) &&
		    (m = proto_frame_json(&f, NULL)) != NULL) {
			if (cJSON_GetObjectItemCaseSensitive(m, "ok") != NULL)
				serve_worker_answered(w, m);
			cJSON_Delete(m);
		} else if (f.type == PROTO_CLOSE && f.channel == w->channel)
			w->closed = 1;
		buf_append(s->out, buf_data(w->in), used);
		buf_consume(w->in, used);
	}
	if (r < 0) {
		/* Our own child wrote garbage: a bug; drop the worker's stream. */
		log_error("serve: worker %ld: %s", (long)w->pid, cause);
		free(cause);
		close(w->fd);
		w->fd = -1;
	}
}

/* Read what w has sent; all of it when drain (the worker has exited). */
static void
serve_worker_read(struct serve *s, struct serve_worker *w, int drain)
{
	unsigned char *p;
	ssize_t n;

	while (w->fd >= 0) {
		p = buf_reserve(w->in, SERVE_READ_SIZE);
		n = read(w->fd, p, SERVE_READ_SIZE);
		if (n > 0) {
			buf_commit(w->in, (size_t)n);
			serve_worker_frames(s, w);
			if (!drain)
				return;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		/* EOF or error: the worker (and whatever it forked) is done. */
		close(w->fd);
		w->fd = -1;
	}
}

/* After the worker has exited: answer for it if it could not, then forget
 * it. */
static void
serve_worker_finish(struct serve *s, struct serve_worker *w)
{
	char *msg;
	cJSON *o, *idj;
	size_t i;

	serve_worker_read(s, w, 1);
	if (w->cancelled)
		msg = xstrdup("cancelled");
	else if (WIFSIGNALED(w->status))
		msg = xasprintf("%s: the agent's worker was killed by signal %d",
		    w->op, WTERMSIG(w->status));
	else
		msg = xasprintf("%s: the agent's worker exited with status %d before "
		    "answering", w->op, WEXITSTATUS(w->status));
	if (!w->answered) {
		idj = cJSON_CreateNumber(w->id);
		serve_reply_error(s->out, idj, msg, w->kind == SERVE_EXEC ?
		    AGENT_EXIT_EXEC_FAILED : w->cancelled ? SERVE_CANCEL_STATUS :
		    CMD_EXIT_FAILURE);
		cJSON_Delete(idj);
	} else if (w->kind == SERVE_EXEC && !w->closed) {
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "error", msg);
		cJSON_AddNumberToObject(o, "status", AGENT_EXIT_EXEC_FAILED);
		serve_queue_json(s->out, PROTO_CLOSE, w->channel, o);
		cJSON_Delete(o);
	}
	free(msg);
	/* Signals it never got to: the exec did not start, or has ended. */
	for (i = 0; i < w->nsignals; i++) {
		idj = cJSON_CreateNumber(w->signals[i]);
		serve_reply_error(s->out, idj, "signal: the command has ended", -1);
		cJSON_Delete(idj);
	}
	TAILQ_REMOVE(&s->workers, w, entry);
	serve_worker_free(w);
}

/* Finish the workers that have exited; a cancelled one once its process
 * group is gone too, so that its "cancelled" means nothing of it runs. */
static void
serve_finish_exited(struct serve *s)
{
	struct serve_worker *w, *next;
	long long now = clock_now_ms();

	for (w = TAILQ_FIRST(&s->workers); w != NULL; w = next) {
		next = TAILQ_NEXT(w, entry);
		if (w->reaped && (!w->cancelled || serve_cancel_done(w, now)))
			serve_worker_finish(s, w);
	}
}

static void
serve_reap(struct serve *s)
{
	struct serve_worker *w;
	int status;
	pid_t pid;
	char c[64];

	while (read(serve_sigpipe[0], c, sizeof c) > 0)
		continue;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		TAILQ_FOREACH(w, &s->workers, entry) {
			if (w->pid == pid) {
				w->reaped = 1;
				w->status = status;
			}
		}
	}
	serve_finish_exited(s);
}

/* Read from the peer and act on each whole frame. */
static void
serve_peer_read(struct serve *s)
{
	struct proto_frame f;
	unsigned char *p;
	size_t used;
	ssize_t n;
	char *cause = NULL;
	int r;

	p = buf_reserve(s->in, SERVE_READ_SIZE);
	n = read(s->opts->in_fd, p, SERVE_READ_SIZE);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		s->in_eof = 1;
		return;
	}
	buf_commit(s->in, (size_t)n);
	while (!s->fatal &&
	    (r = proto_decode(buf_data(s->in), buf_len(s->in), &f, &used, &cause)) != 0) {
		if (r < 0) {
			serve_fatal(s, cause);
			free(cause);
			return;
		}
		serve_peer_frame(s, &f);
		buf_consume(s->in, used);
	}
}

/* Write what we can of out to fd; -1 when the fd is broken. */
static int
serve_flush(int fd, struct buf *out)
{
	ssize_t n;

	while (buf_len(out) > 0) {
		n = write(fd, buf_data(out), buf_len(out));
		if (n > 0)
			buf_consume(out, (size_t)n);
		else if (n < 0 && errno == EINTR)
			continue;
		else if (n < 0 && errno == EAGAIN)
			return 0;
		else
			return -1;
	}
	return 0;
}

/* Block (up to a few seconds) until out has gone, for the last words. */
static void
serve_flush_final(int fd, struct buf *out)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	int tries = 50;

	while (buf_len(out) > 0 && tries-- > 0) {
		if (serve_flush(fd, out) != 0)
			return;
		if (buf_len(out) > 0)
			poll(&pfd, 1, 100);
	}
}

/* The peer is gone. Each worker sees its socket close: an exec worker hangs
 * up its command (SIGHUP, then SIGKILL) and exits; each running operation is
 * cancelled (serve_cancel: SIGINT, SIGKILL 5 s later). We wait for both, a
 * bounded time. */
static void
serve_end_workers(struct serve *s)
{
	struct serve_worker *w, *next;
	struct pollfd pfd = { .fd = serve_sigpipe[0], .events = POLLIN };
	long long now, deadline = clock_now_ms() + SERVE_EXEC_WAIT_MS;
	int left, status;
	char c[64];

	TAILQ_FOREACH(w, &s->workers, entry) {
		if (w->fd >= 0)
			close(w->fd);
		w->fd = -1;
		if (w->kind == SERVE_OP && !w->reaped)
			serve_cancel(w, "the peer is gone");
	}
	for (;;) {
		serve_cancel_tick(s);
		now = clock_now_ms();
		left = 0;
		TAILQ_FOREACH(w, &s->workers, entry) {
			if (!w->reaped && waitpid(w->pid, &status, WNOHANG) != 0)
				w->reaped = 1;
			if (w->kind == SERVE_EXEC ? !w->reaped :
			    w->cancelled && !serve_cancel_done(w, now))
				left++;
		}
		if (left == 0 || now >= deadline)
			break;
		poll(&pfd, 1, SERVE_CANCEL_TICK_MS);
		while (read(serve_sigpipe[0], c, sizeof c) > 0)
			continue;
	}
	for (w = TAILQ_FIRST(&s->workers); w != NULL; w = next) {
		next = TAILQ_NEXT(w, entry);
		if (w->kind == SERVE_EXEC && !w->reaped) {
			log_warn("serve: exec worker %ld did not end: killed", (long)w->pid);
			kill(w->pid, SIGKILL);
			waitpid(w->pid, &status, 0);
		} else if (w->kind == SERVE_OP && !w->reaped) {
			log_warn("serve: request %.0f (%s): worker %ld did not end: killed",
			    w->id, w->op, (long)w->pid);
			kill(-w->pid, SIGKILL);
			waitpid(w->pid, &status, 0);
		}
		TAILQ_REMOVE(&s->workers, w, entry);
		serve_worker_free(w);
	}
}

int
serve_run(const struct serve_opts *opts)
{
	struct serve s;
	struct serve_worker *w;
	struct sigaction sa, old_sa, old_term;
	struct pollfd *pfd = NULL;
	size_t npfd, i, busy;
	int timeout, in_flags = fcntl(opts->in_fd, F_GETFL), out_flags = fcntl(opts->out_fd, F_GETFL);
	int rc = 0;
	cJSON *hello;

	memset(&s, 0, sizeof s);
	s.opts = opts;
	s.in = buf_new();
	s.out = buf_new();
	TAILQ_INIT(&s.workers);
	if (pipe2(serve_sigpipe, O_CLOEXEC | O_NONBLOCK) != 0)
		fatal("serve: pipe: %s", strerror(errno));
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = serve_on_sigchld;
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, &old_sa);
	serve_terminated = 0;
	if (opts->end_on_term) {
		sa.sa_handler = serve_on_sigterm;
		sigaction(SIGTERM, &sa, &old_term);
	}
	serve_set_nonblock(opts->in_fd);
	serve_set_nonblock(opts->out_fd);

	hello = proto_hello_new(SERVE_SOFTWARE);
	serve_queue_json(s.out, PROTO_HELLO, 0, hello);
	cJSON_Delete(hello);

	while (!s.in_eof && !s.fatal && !serve_terminated) {
		npfd = 0;
		TAILQ_FOREACH(w, &s.workers, entry)
			npfd++;
		pfd = xreallocarray(pfd, npfd + 3, sizeof *pfd);
		busy = 0;
		TAILQ_FOREACH(w, &s.workers, entry)
			if (buf_len(w->out) >= SERVE_HIGH_WATER)
				busy = 1;
		pfd[0] = (struct pollfd){ .fd = serve_sigpipe[0], .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = busy ? -1 : opts->in_fd, .events = POLLIN };
		pfd[2] = (struct pollfd){ .fd = buf_len(s.out) > 0 ? opts->out_fd : -1,
		    .events = POLLOUT };
		i = 3;
		TAILQ_FOREACH(w, &s.workers, entry) {
			pfd[i].fd = w->fd;
			pfd[i].events = (buf_len(s.out) < SERVE_HIGH_WATER ? POLLIN : 0) |
			    (buf_len(w->out) > 0 ? POLLOUT : 0);
			pfd[i].revents = 0;
			i++;
		}
		timeout = serve_cancel_tick(&s);
		if (poll(pfd, npfd + 3, timeout) < 0) {
			if (errno == EINTR)
				continue;
			fatal("serve: poll: %s", strerror(errno));
		}
		if (pfd[2].revents != 0 && serve_flush(opts->out_fd, s.out) != 0) {
			log_info("serve: the peer is gone (write failed)");
			break;
		}
		if (pfd[1].revents != 0)
			serve_peer_read(&s);
		i = 3;
		TAILQ_FOREACH(w, &s.workers, entry) {
			if (i >= npfd + 3)
				break; /* added during this pass */
			if (pfd[i].fd == w->fd && w->fd >= 0) {
				if (pfd[i].revents & POLLOUT && serve_flush(w->fd, w->out) != 0)
					buf_reset(w->out); /* the worker is gone */
				if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
					serve_worker_read(&s, w, 0);
			}
			i++;
		}
		if (pfd[0].revents != 0)
			serve_reap(&s);
		else if (timeout >= 0)
			serve_finish_exited(&s);
		serve_flush(opts->out_fd, s.out);
	}
	if (s.fatal)
		rc = 1;
	serve_flush_final(opts->out_fd, s.out);

	serve_end_workers(&s);
	sigaction(SIGCHLD, &old_sa, NULL);
	if (opts->end_on_term)
		sigaction(SIGTERM, &old_term, NULL);
	close(serve_sigpipe[0]);
	close(serve_sigpipe[1]);
	serve_sigpipe[0] = serve_sigpipe[1] = -1;
	fcntl(opts->in_fd, F_SETFL, in_flags);
	fcntl(opts->out_fd, F_SETFL, out_flags);
	free(pfd);
	buf_free(s.in);
	buf_free(s.out);
	return rc;
}

int
serve_cmd(int argc, char **argv)
{
	struct serve_opts o = { 0, 1, "/proc/self/exe", 0 };

	if (argc == 3 && strcmp(argv[1], "--listen") == 0)
		return serve_listen_run(argv[2]);
	if (argc > 1) {
		fprintf(stderr, "rdev-agent: serve: unexpected argument %s\n", argv[1]);
		return CMD_EXIT_USAGE;
	}
	return serve_run(&o);
}
