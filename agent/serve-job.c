/* serve-job.c - `rdev-agent serve`: one request (a job) run in its worker
 * process, which answers the router over a socketpair; exec starts the
 * command and pumps its channels (serve-internal.h, docs/PROTOCOL.md). */
#include "serve-internal.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent-cmds.h"
#include "agent-exec.h"
#include "agent-ops.h"
#include "atomic-file.h"
#include "buf.h"
#include "byte-order.h"
#include "error.h"
#include "exec-signal.h"
#include "log.h"
#include "secrets.h"
#include "xmalloc.h"

void
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

void
serve_job_error(struct serve_job *j, const char *msg, int status)
{
	cJSON *r = serve_error_response(j->id, msg, status);

	serve_job_send(j, PROTO_CONTROL, 0, r);
	cJSON_Delete(r);
}

/* An op's failure, with its "errorCode" (code; NULL: none) and its details
 * as "result" (taken over; NULL: none). */
static void
serve_job_error_code(
    struct serve_job *j, const char *msg, const char *code, cJSON *details)
{
	cJSON *r = serve_error_response(j->id, msg, CMD_EXIT_FAILURE);

	if (code != NULL)
		cJSON_AddStringToObject(r, "errorCode", code);
	if (details != NULL)
		cJSON_AddItemToObject(r, "result", details);
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

/* The router's side of an exec's pump: frames on the job's socket. */
struct serve_exec_side {
	struct serve_job *j;
	uint32_t ch;
	struct buf *in;	     /* bytes from the router, not yet a whole frame */
	int credited;	     /* the request gave a "window": output is paced */
	uint32_t credit;     /* ... bytes of output the peer takes now */
	uint32_t in_window;  /* the peer paces stdin ("stdinWindow"), else 0 */
	uint32_t in_unacked; /* ... stdin bytes taken and not granted again */
};

/* The most output an exec with a "window" may have in flight. */
#define SERVE_EXEC_WINDOW_MAX (64u << 20)
/* The most stdin an exec with a "stdinWindow" may have in flight: what is
 * held for the command then stays within it, and (with the frames' headers)
 * below the router's mark at which it stops reading the peer. */
#define SERVE_EXEC_STDIN_WINDOW_MAX (SERVE_HIGH_WATER / 2)

/* How much more output the peer takes (agent_exec_client.room). */
static size_t
serve_exec_room(void *arg)
{
	const struct serve_exec_side *e = arg;

	return e->credited ? e->credit : SIZE_MAX;
}

/* Pass the exec's output to the router: stdout on channel, stderr on
 * channel + 1 (a TTY has only one stream). */
static int
serve_exec_output(void *arg, int stream, const unsigned char *data, size_t len)
{
	struct serve_exec_side *e = arg;

	serve_job_send_raw(e->j, PROTO_DATA, stream == 1 ? e->ch : e->ch + 1, data, len);
	if (e->credited)
		e->credit -= len <= e->credit ? (uint32_t)len : e->credit;
	return 0;
}

/* A request the router passed on to this exec: resize (answered by the
 * router) or signal (answered here, once sent or queued). */
static void
serve_exec_control(
    struct serve_job *j, struct agent_exec *x, struct buf *pending, const cJSON *msg)
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

/* Grant the peer the stdin the command has taken (what no longer waits in
 * p->out, all of which is counted as stdin), in quarters of the window. */
static void
serve_exec_tick(void *arg, struct agent_exec_pump *p)
{
	struct serve_exec_side *e = arg;
	uint32_t taken;
	unsigned char w[4];

	if (e->in_window == 0 || e->in_unacked <= buf_len(p->out))
		return;
	taken = e->in_unacked - (uint32_t)buf_len(p->out);
	if (taken < e->in_window / 4)
		return;
	be_put_u32(w, taken);
	serve_job_send_raw(e->j, PROTO_WINDOW, e->ch, w, sizeof w);
	e->in_unacked -= taken;
}

/* Always polled: a router gone away shows as POLLHUP. Read always when the
 * peer paces stdin (what it sends is bounded by the window); else while
 * little input is queued for the command, and always while the output
 * waits for credit: the WINDOW that lets a command blocked on its output go
 * on (and so read its input again) comes in this way too. */
static void
serve_exec_poll(void *arg, const struct agent_exec_pump *p, struct pollfd *pfd)
{
	struct serve_exec_side *e = arg;

	*pfd = (struct pollfd){ .fd = e->j->sock,
		.events = e->in_window > 0 || buf_len(p->out) < SERVE_HIGH_WATER ||
			(e->credited && e->credit == 0)
		    ? POLLIN
		    : 0 };
}

/* Frames from the router: stdin, its end, resizes and signals, a CLOSE. */
static int
serve_exec_input(void *arg, struct agent_exec_pump *p, char **cause)
{
	struct serve_exec_side *e = arg;
	struct proto_frame f;
	unsigned char *b;
	size_t used;
	cJSON *msg;
	ssize_t n;
	int r;

	b = buf_reserve(e->in, SERVE_READ_SIZE);
	n = read(e->j->sock, b, SERVE_READ_SIZE);
	if (n <= 0 && !(n < 0 && (errno == EINTR || errno == EAGAIN)))
		return 1; /* the router is gone */
	if (n > 0)
		buf_commit(e->in, (size_t)n);
	while (
	    (r = proto_decode(buf_data(e->in), buf_len(e->in), &f, &used, cause)) == 1) {
		if (f.type == PROTO_DATA && e->in_window > 0 &&
		    f.len > e->in_window - e->in_unacked) {
			error_set(cause, "the peer sent more stdin than its window");
			return -1;
		}
		if (f.type == PROTO_DATA)
			e->in_unacked += e->in_window > 0 ? f.len : 0;
		if (f.type == PROTO_DATA && !p->input_done)
			agent_exec_input(p->x, p->out, f.payload, f.len);
		else if (f.type == PROTO_EOF && !p->input_done)
			agent_exec_pump_input_end(p);
		else if (f.type == PROTO_CLOSE)
			return 1;
		else if (f.type == PROTO_WINDOW && e->credited && f.len == 4) {
			if (be_get_u32(f.payload) > UINT32_MAX - e->credit) {
				error_set(cause,
				    "the peer granted more than 4 GiB "
				    "of output at once");
				return -1;
			}
			e->credit += be_get_u32(f.payload);
		} else if (f.type == PROTO_CONTROL &&
		    (msg = proto_frame_json(&f, NULL)) != NULL) {
			serve_exec_control(e->j, p->x, p->out, msg);
			cJSON_Delete(msg);
		}
		buf_consume(e->in, used);
	}
	return r < 0 ? -1 : 0;
}

/* Pump frames from the router to the exec and its output back, until the
 * output ends. Returns 0, 1 if the router or the peer gave up on the exec,
 * or -1 with *cause. */
static int
serve_exec_pump(struct serve_job *j, uint32_t ch, uint32_t window, uint32_t in_window,
    struct agent_exec *x, char **cause)
{
	struct serve_exec_side e = { j, ch, buf_new(), window > 0, window, in_window, 0 };
	const struct agent_exec_client c = { serve_exec_tick, serve_exec_poll,
		serve_exec_input, serve_exec_output, &e, serve_exec_room, NULL };
	int rc;

	rc = agent_exec_pump_run(x, &c, cause);
	buf_free(e.in);
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
	const cJSON *win = cJSON_GetObjectItemCaseSensitive(j->req, "window");
	const cJSON *inwin = cJSON_GetObjectItemCaseSensitive(j->req, "stdinWindow");
	uint32_t ch =
	    (uint32_t)cJSON_GetObjectItemCaseSensitive(j->req, "channel")->valuedouble;
	/* "window": output paced by the peer's WINDOW frames (docs/PROTOCOL.md);
	 * a value out of range is taken as no window. */
	uint32_t window = cJSON_IsNumber(win) && win->valuedouble >= 1 &&
		win->valuedouble <= SERVE_EXEC_WINDOW_MAX
	    ? (uint32_t)win->valuedouble
	    : 0;
	/* "stdinWindow": the peer paces stdin by our WINDOW frames; likewise */
	uint32_t in_window = cJSON_IsNumber(inwin) && inwin->valuedouble >= 1 &&
		inwin->valuedouble <= SERVE_EXEC_STDIN_WINDOW_MAX
	    ? (uint32_t)inwin->valuedouble
	    : 0;
	struct agent_exec *x = NULL;
	struct agent_exec_req req = { 0 };
	struct secrets *secrets = NULL;
	char **argv, *cause = NULL, *why = NULL, *up_cmd;
	int argc = 0, tty = serve_req_bool(j->req, "tty"), rc, status, signo, core;
	unsigned size_rows = 0, size_cols = 0;
	cJSON *r, *close_msg, *warnings;

	if (secrets_from_json(cJSON_GetObjectItemCaseSensitive(j->req, "secrets"),
		&secrets, &cause) != 0) {
		serve_job_error(j, cause, AGENT_EXIT_EXEC_FAILED);
		free(cause);
		return 1;
	}
	argv = xcalloc((size_t)cJSON_GetArraySize(cmd) + 1, sizeof *argv);
	cJSON_ArrayForEach(e, cmd)
		argv[argc++] = e->valuestring;
	if (tty && cJSON_IsNumber(rows) && cJSON_IsNumber(cols) &&
	    rows->valuedouble >= 1 && rows->valuedouble <= 65535 &&
	    cols->valuedouble >= 1 && cols->valuedouble <= 65535) {
		size_rows = (unsigned)rows->valuedouble;
		size_cols = (unsigned)cols->valuedouble;
	}
	up_cmd = agent_op_req_up_cmd(
	    &(struct agent_op_req){ j->req, folder, config, "rdev-agent", NULL, NULL },
	    "rdev-agent");
	req.folder = folder;
	req.config_file = config;
	req.command = argv;
	req.ncommand = argc;
	req.remote_env = cJSON_GetObjectItemCaseSensitive(j->req, "remoteEnv");
	req.git_root =
	    workspace_git_root_of(cJSON_GetObjectItemCaseSensitive(j->req, "noGitRoot"));
	req.common_dir = workspace_common_dir_of(
	    cJSON_GetObjectItemCaseSensitive(j->req, "gitWorktreeCommonDir"));
	if (agent_op_id_labels(j->req, &req.id_labels, &cause) != 0) {
		serve_job_error(j, cause, AGENT_EXIT_EXEC_FAILED);
		secrets_free(secrets);
		free(cause);
		free(up_cmd);
		free(argv);
		return 1;
	}
	req.secrets = secrets;
	rc = agent_exec_start(up_cmd, &req, tty, serve_req_string(j->req, "term"),
	    size_rows, size_cols, &x, &cause);
	free(up_cmd);
	free(argv);
	if (rc != 0) {
		secrets_mask_inplace(secrets, &cause);
		serve_job_error(j, cause, AGENT_EXIT_EXEC_FAILED);
		secrets_free(secrets);
		free(cause);
		return 1;
	}
	r = cJSON_CreateObject();
	cJSON_AddItemToObject(r, "id", cJSON_Duplicate(j->id, 1));
	cJSON_AddBoolToObject(r, "ok", 1);
	cJSON_AddNumberToObject(r, "channel", ch);
	if (window > 0)
		cJSON_AddNumberToObject(r, "window", window);
	if (in_window > 0)
		cJSON_AddNumberToObject(r, "stdinWindow", in_window);
	if (x->warning != NULL || x->notice != NULL) {
		warnings = cJSON_AddArrayToObject(r, "warnings");
		if (x->warning != NULL)
			cJSON_AddItemToArray(warnings, cJSON_CreateString(x->warning));
		if (x->notice != NULL)
			cJSON_AddItemToArray(warnings, cJSON_CreateString(x->notice));
	}
	serve_job_send(j, PROTO_CONTROL, 0, r);
	cJSON_Delete(r);
	rc = serve_exec_pump(j, ch, window, in_window, x, &cause);
	/* (the peer gone, or broke the protocol: the command is hung up, not
	 * left running detached) */
	if (rc != 0 && agent_exec_hangup(x, SERVE_HANGUP_GRACE_MS, &why) != 0) {
		log_warn("serve: exec: hangup: %s", why);
		free(why);
	}
	close_msg = cJSON_CreateObject();
	if (rc == 1)
		cJSON_AddStringToObject(close_msg, "error", "closed by the peer");
	else if (rc == 0 && agent_exec_exit(x, &status, &cause) == 0) {
		cJSON_AddNumberToObject(close_msg, "status", status);
		if ((signo = agent_exec_exit_signal(x, &core)) != 0) {
			cJSON_AddStringToObject(
			    close_msg, "signal", exec_signal_exit_name(signo));
			cJSON_AddBoolToObject(close_msg, "coreDumped", core);
		}
	} else {
		secrets_mask_inplace(secrets, &cause);
		cJSON_AddStringToObject(close_msg, "error", cause);
		cJSON_AddNumberToObject(close_msg, "status", AGENT_EXIT_EXEC_FAILED);
	}
	serve_job_send(j, PROTO_CLOSE, ch, close_msg);
	cJSON_Delete(close_msg);
	free(cause);
	agent_exec_free(x);
	secrets_free(secrets);
	return 0;
}

/* Run one request in the worker process by its row (agent-ops.h); the
 * answer goes to j->sock. */
void
serve_job_run(struct serve_job *j, const char *op)
{
	const struct agent_op *row = agent_op_find(op);
	const struct progress progress = { .fn = serve_job_progress, .arg = j };
	char *folder = NULL, *cause = NULL;
	cJSON *result = NULL;
	int rc;

	if (row == NULL)
		fatal("serve: no worker for op %s", op);
	if (row == &agent_op_sync) {
		serve_job_sync(j);
		return;
	}
	if (row->flags & AGENT_OP_STREAM) {
		if ((folder = agent_op_workspace(j->req, &cause)) == NULL)
			serve_job_error(j, cause, AGENT_EXIT_EXEC_FAILED);
		else
			serve_job_exec(j, folder, serve_req_string(j->req, "config"));
		free(cause);
		free(folder);
		return;
	}
	rc = agent_op_call(j->req, "rdev-agent", &progress, &result, &cause);
	if (rc == 0)
		serve_job_result(j, result);
	else
		serve_job_error_code(j, cause, agent_op_error_code(rc), result);
	free(cause);
}
