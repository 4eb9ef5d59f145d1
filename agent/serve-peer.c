/* serve-peer.c - `rdev-agent serve`: the peer's frames: the handshake, its
 * requests (version, resize, signal and cancel answered by the router, the
 * others handed to a worker), channel traffic for the execs
 * (serve-internal.h, docs/PROTOCOL.md). */
#include "serve-internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent-cmds.h"
#include "buf.h"
#include "exec-signal.h"
#include "agent-ops.h"
#include "log.h"
#include "secrets.h"
#include "xmalloc.h"

/* cancel: {"op":"cancel","request":M} cancels running operation M (see
 * serve_cancel), which then answers "cancelled"; answered {} at once. */
static void
serve_cancel_request(struct serve *s, const cJSON *req, const cJSON *id)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(req, "request");
	struct serve_worker *w, *found = NULL;
	char *msg;

	if (!cJSON_IsNumber(m)) {
		serve_reply_error(s->out, id,
		    "cancel: \"request\" (the id of a running "
		    "request) is required",
		    -1);
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
				"close its channel",
		    m->valuedouble);
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
	const struct agent_op *row;
	double c;

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
	if ((row = agent_op_find(op->valuestring)) == NULL) {
		msg = xasprintf("unknown operation \"%s\"", op->valuestring);
		serve_reply_error(s->out, id, msg, -1);
		free(msg);
		goto out;
	}
	if (!(row->flags & AGENT_OP_STREAM)) {
		serve_spawn(s, req, id, op->valuestring, SERVE_OP, 0);
		goto out;
	}
	/* exec, sync: check what the router relies on before starting it. */
	ch = cJSON_GetObjectItemCaseSensitive(req, "channel");
	cmd = cJSON_GetObjectItemCaseSensitive(req, "command");
	c = cJSON_IsNumber(ch) ? ch->valuedouble : 0;
	if (c < 1 || c >= UINT32_MAX || c != floor(c)) {
		msg = xasprintf("%s: \"channel\" must be an integer from 1 to "
				"4294967294",
		    row->name);
		serve_reply_error(s->out, id, msg, AGENT_EXIT_EXEC_FAILED);
		free(msg);
		goto out;
	}
	if (serve_find_channel(s, (uint32_t)c) != NULL ||
	    serve_find_channel(s, (uint32_t)c + 1) != NULL) {
		msg =
		    xasprintf("%s: channel %.0f or %.0f is in use", row->name, c, c + 1);
		serve_reply_error(s->out, id, msg, AGENT_EXIT_EXEC_FAILED);
		free(msg);
		goto out;
	}
	if (row == &agent_op_sync) {
		serve_spawn(s, req, id, row->name, SERVE_EXEC, (uint32_t)c);
		goto out;
	}
	if (!cJSON_IsArray(cmd) || cJSON_GetArraySize(cmd) == 0) {
		serve_reply_error(s->out, id,
		    "exec: \"command\" must be a non-empty array",
		    AGENT_EXIT_EXEC_FAILED);
		goto out;
	}
	cJSON_ArrayForEach(e, cmd) {
		if (!cJSON_IsString(e)) {
			serve_reply_error(s->out, id,
			    "exec: \"command\" must hold strings",
			    AGENT_EXIT_EXEC_FAILED);
			goto out;
		}
	}
	serve_spawn(s, req, id, "exec", SERVE_EXEC, (uint32_t)c);
out:
	secrets_request_wipe(req);
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
			msg = xasprintf(
			    "expected HELLO first, got %s", proto_type_name(f->type));
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
	case PROTO_HELLO: serve_fatal(s, "HELLO after the handshake"); return;
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

/* Read from the peer and act on each whole frame. */
void
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
