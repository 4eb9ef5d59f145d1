/* proto-conn.c - a protocol stream over one fd (proto-conn.h). */
#include "proto-conn.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sodium.h>

#include "atomic-file.h"
#include "buf.h"
#include "clock.h"
#include "error.h"
#include "secrets.h"
#include "xmalloc.h"

struct proto_conn {
	int fd;
	char *name;
	struct buf *in;
	size_t in_off;	 /* bytes of in already handed out */
	struct buf *out; /* what is not written yet (consumed as written, so
			    the buffer compacts while a slow peer keeps part
			    of it queued: it no longer grows for as long as
			    it never empties) */
	int (*prompt)(void *arg, const char *text, int echo, char **answer);
	void *prompt_arg;
	int peer_gone;	    /* end of stream, or reset */
	int fatal_named;    /* a FATAL came whose error names its host ("host") */
	int idle_ms;	    /* > 0: a wait or a flush with nothing moving gives up */
	long long deadline; /* > 0: a wait or a flush gives up then (clock_now_ms) */
	int deadline_met;   /* a wait or a flush gave up at the deadline */
};

void
proto_conn_set_deadline(struct proto_conn *c, long long at)
{
	c->deadline = at;
	c->deadline_met = 0;
}

int
proto_conn_deadline_met(const struct proto_conn *c)
{
	return c->deadline_met;
}

/* How long a poll may wait: timeout_ms (< 0: forever) cut to what is left
 * of c's deadline (0 once it has passed). */
static int
proto_conn_poll_ms(const struct proto_conn *c, long long timeout_ms)
{
	long long left;

	if (c->deadline <= 0)
		return (int)timeout_ms;
	if ((left = c->deadline - clock_now_ms()) < 0)
		left = 0;
	return (int)(timeout_ms < 0 || timeout_ms > left ? left : timeout_ms);
}

/* Whether c's deadline has passed (then recorded: proto_conn_deadline_met). */
static int
proto_conn_past_deadline(struct proto_conn *c)
{
	if (c->deadline > 0 && clock_now_ms() >= c->deadline)
		c->deadline_met = 1;
	return c->deadline_met;
}

void
proto_conn_set_idle(struct proto_conn *c, int ms)
{
	c->idle_ms = ms;
}

/* The error of a wait that saw nothing move for c->idle_ms. */
static int
proto_conn_idle_error(struct proto_conn *c, const char *what, char **cause)
{
	char idle[32];

	clock_ms_text(c->idle_ms, idle, sizeof idle);
	return error_set(cause, "%s %s for %s", c->name, what, idle);
}

void
proto_conn_set_prompt(struct proto_conn *c,
    int (*fn)(void *arg, const char *text, int echo, char **answer), void *arg)
{
	c->prompt = fn;
	c->prompt_arg = arg;
}

/* Answer a prompt event of request id. */
static int
proto_conn_answer_prompt(struct proto_conn *c, double id, const cJSON *msg, char **cause)
{
	const cJSON *text = cJSON_GetObjectItemCaseSensitive(msg, "text");
	cJSON *reply = cJSON_CreateObject();
	char *answer = NULL;
	int rc;

	cJSON_AddStringToObject(reply, "op", "answer");
	cJSON_AddNumberToObject(reply, "id", id);
	if (c->prompt != NULL && cJSON_IsString(text) &&
	    c->prompt(c->prompt_arg, text->valuestring,
		cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(msg, "echo")),
		&answer) == 0) {
		cJSON_AddStringToObject(reply, "text", answer);
		sodium_memzero(answer, strlen(answer));
		free(answer);
	} else
		cJSON_AddBoolToObject(reply, "cancel", 1);
	rc = proto_conn_queue_json(c, PROTO_CONTROL, 0, reply, cause);
	/* the answer may be a passphrase: wipe the JSON text too */
	cJSON *t = cJSON_GetObjectItemCaseSensitive(reply, "text");
	if (cJSON_IsString(t))
		sodium_memzero(t->valuestring, strlen(t->valuestring));
	cJSON_Delete(reply);
	if (rc != 0)
		return -1;
	return proto_conn_flush(c, cause);
}

struct proto_conn *
proto_conn_new(int fd, const char *name)
{
	struct proto_conn *c = xcalloc(1, sizeof *c);

	c->fd = fd;
	c->name = xstrdup(name);
	c->in = buf_new();
	c->out = buf_new();
	return c;
}

void
proto_conn_free(struct proto_conn *c)
{
	if (c == NULL)
		return;
	if (c->fd >= 0)
		close(c->fd);
	free(c->name);
	buf_free(c->in);
	buf_free(c->out);
	free(c);
}

int
proto_conn_fatal_named(const struct proto_conn *c)
{
	return c->fatal_named;
}

int
proto_conn_fd(const struct proto_conn *c)
{
	return c->fd;
}

int
proto_conn_peer_gone(const struct proto_conn *c)
{
	return c->peer_gone;
}

size_t
proto_conn_pending_out(const struct proto_conn *c)
{
	return buf_len(c->out);
}

void
proto_conn_queue(struct proto_conn *c, enum proto_type type, uint32_t channel,
    const void *payload, size_t len)
{
	proto_encode(c->out, type, channel, payload, len);
}

int
proto_conn_queue_json(struct proto_conn *c, enum proto_type type, uint32_t channel,
    const cJSON *obj, char **cause)
{
	return proto_encode_json(c->out, type, channel, obj, cause);
}

int
proto_conn_write_some(struct proto_conn *c, char **cause)
{
	ssize_t n;

	while (proto_conn_pending_out(c) > 0) {
		n = send(
		    c->fd, buf_data(c->out), proto_conn_pending_out(c), MSG_NOSIGNAL);
		if (n < 0 && errno == ENOTSOCK)
			n = write(c->fd, buf_data(c->out), proto_conn_pending_out(c));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			c->peer_gone |= fd_write_reader_gone(errno);
			return error_set_errno(cause, errno, "writing to %s", c->name);
		}
		buf_consume(c->out, (size_t)n);
	}
	return 0;
}

static void proto_conn_left_fatal(struct proto_conn *c, char **cause);

int
proto_conn_flush(struct proto_conn *c, char **cause)
{
	struct pollfd p;
	int n;

	for (;;) {
		if (proto_conn_write_some(c, cause) != 0) {
			/* (an upload's stream, cut by the broker when the
			 * host was lost: its FATAL says why, not EPIPE or
			 * ECONNRESET, whatever the write met) */
			proto_conn_left_fatal(c, cause);
			return -1;
		}
		if (proto_conn_pending_out(c) == 0)
			return 0;
		if (proto_conn_past_deadline(c))
			return error_set(cause, "%s took nothing in time", c->name);
		p = (struct pollfd){ .fd = c->fd, .events = POLLOUT };
		n = poll(&p, 1, proto_conn_poll_ms(c, c->idle_ms > 0 ? c->idle_ms : -1));
		if (n < 0 && errno != EINTR)
			return error_set_errno(cause, errno, "poll");
		if (n == 0 && !proto_conn_past_deadline(c))
			return proto_conn_idle_error(c, "took nothing", cause);
	}
}

int
proto_conn_read_some(struct proto_conn *c, char **cause)
{
	unsigned char tmp[65536];
	ssize_t n;

	if (c->in_off > 0 && c->in_off == buf_len(c->in)) {
		buf_reset(c->in);
		c->in_off = 0;
	}
	for (;;) {
		n = read(c->fd, tmp, sizeof tmp);
		if (n < 0 && errno == EINTR)
			continue;
		break;
	}
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 1;
		c->peer_gone |= errno == ECONNRESET;
		return error_set_errno(cause, errno, "reading from %s", c->name);
	}
	if (n == 0) {
		c->peer_gone = 1;
		return 0;
	}
	buf_append(c->in, tmp, (size_t)n);
	return 1;
}

int
proto_conn_next(struct proto_conn *c, struct proto_frame *f, char **cause)
{
	size_t used;
	int rc;

	rc = proto_decode((const unsigned char *)buf_data(c->in) + c->in_off,
	    buf_len(c->in) - c->in_off, f, &used, cause);
	if (rc < 0)
		return error_prefix(cause, "%s", c->name);
	if (rc == 1)
		c->in_off += used;
	else if (c->in_off > 0) {
		/* Keep the partial frame at the start of the buffer. */
		buf_consume(c->in, c->in_off);
		c->in_off = 0;
	}
	return rc;
}

void
proto_conn_take_input(struct proto_conn *c, struct buf *out)
{
	buf_append(out, (const unsigned char *)buf_data(c->in) + c->in_off,
	    buf_len(c->in) - c->in_off);
	buf_reset(c->in);
	c->in_off = 0;
}

/* How often a wait with a stop flag looks at it: a signal that comes between
 * the look and poll() does not interrupt poll(). */
#define PROTO_CONN_STOP_POLL_MS 100

/* proto_conn_wait until deadline (clock_now_ms; timeout_ms < 0: none,
 * else what the message says), also ending (-2) once stop (if not NULL) is
 * non-zero. */
static int
proto_conn_wait_until(struct proto_conn *c, struct proto_frame *f, long long deadline,
    int timeout_ms, const volatile sig_atomic_t *stop, char **cause)
{
	long long left, idle_at = c->idle_ms > 0 ? clock_now_ms() + c->idle_ms : -1;
	struct pollfd p;
	int rc;

	for (;;) {
		if ((rc = proto_conn_next(c, f, cause)) != 0)
			return rc;
		if (proto_conn_flush(c, cause) != 0)
			return -1;
		if (stop != NULL && *stop)
			return -2;
		left = timeout_ms < 0 ? -1 : deadline - clock_now_ms();
		if (timeout_ms >= 0 && left <= 0) {
			char wait[32];

			clock_ms_text(timeout_ms, wait, sizeof wait);
			return error_set(
			    cause, "%s did not answer within %s", c->name, wait);
		}
		if (idle_at >= 0) {
			long long idle = idle_at - clock_now_ms();

			if (idle <= 0)
				return proto_conn_idle_error(c, "sent nothing", cause);
			if (left < 0 || left > idle)
				left = idle;
		}
		if (proto_conn_past_deadline(c))
			return error_set(cause, "%s did not answer in time", c->name);
		if (stop != NULL && (left < 0 || left > PROTO_CONN_STOP_POLL_MS))
			left = PROTO_CONN_STOP_POLL_MS;
		p = (struct pollfd){ .fd = c->fd, .events = POLLIN };
		if (poll(&p, 1, proto_conn_poll_ms(c, left)) < 0) {
			if (errno == EINTR)
				continue;
			return error_set_errno(cause, errno, "poll");
		}
		if (p.revents == 0)
			continue;
		rc = proto_conn_read_some(c, cause);
		if (rc < 0)
			return -1;
		if (idle_at >= 0)
			idle_at = clock_now_ms() + c->idle_ms;
		if (rc == 0) {
			if (buf_len(c->in) > c->in_off)
				return error_set(cause,
				    "%s closed the connection in the "
				    "middle of a message",
				    c->name);
			error_set(cause, "%s closed the connection", c->name);
			return 0;
		}
	}
}

int
proto_conn_wait(struct proto_conn *c, struct proto_frame *f, int timeout_ms, char **cause)
{
	return proto_conn_wait_until(
	    c, f, clock_now_ms() + timeout_ms, timeout_ms, NULL, cause);
}

int
proto_conn_send_hello(struct proto_conn *c, const char *software, char **cause)
{
	cJSON *hello = proto_hello_new(software);
	int rc;

	rc = proto_conn_queue_json(c, PROTO_HELLO, 0, hello, cause);
	cJSON_Delete(hello);
	if (rc != 0 || proto_conn_flush(c, cause) != 0)
		return -1;
	return 0;
}

int
proto_conn_check_hello(const struct proto_conn *c, const struct proto_frame *f,
    uint32_t *version, char **cause)
{
	cJSON *peer;
	const cJSON *err;
	int rc;

	if ((peer = proto_frame_json(f, cause)) == NULL)
		return error_prefix(cause, "%s: bad HELLO", c->name);
	if (f->type == PROTO_FATAL) {
		/* Named: the broker refuses a client's HELLO before it sends
		 * its own, in words of its own ("this rdev speaks ..."); not
		 * one whose "host" says it names its host (the broker's, for an
		 * agent connection whose agent could not be reached again). */
		err = cJSON_GetObjectItemCaseSensitive(peer, "error");
		if (cJSON_IsString(err) &&
		    cJSON_IsString(cJSON_GetObjectItemCaseSensitive(peer, "host")))
			error_set(cause, "%s", err->valuestring);
		else
			error_set(cause, "%s: %s", c->name,
			    cJSON_IsString(err) ? err->valuestring
						: "refused the session");
		cJSON_Delete(peer);
		return -1;
	}
	if (f->type != PROTO_HELLO) {
		cJSON_Delete(peer);
		return error_set(cause, "%s: expected HELLO, got %s", c->name,
		    proto_type_name(f->type));
	}
	rc = proto_hello_negotiate(peer, version, cause);
	cJSON_Delete(peer);
	return rc;
}

int
proto_conn_handshake(
    struct proto_conn *c, const char *software, uint32_t *version, char **cause)
{
	struct proto_frame f;

	if (proto_conn_send_hello(c, software, cause) != 0)
		return -1;
	if (proto_conn_wait(c, &f, 30000, cause) != 1)
		return -1;
	return proto_conn_check_hello(c, &f, version, cause);
}

/* A write found c's peer gone: the FATAL it sent before it closed (the
 * broker's "the agent on HOST ended unexpectedly ..." to a client between
 * two requests, `rdev logs -f`'s; "lost the SSH connection to HOST ..." to
 * one in the middle of an upload), read now, replaces *cause ("writing to
 * the broker: Broken pipe"), as a wait for an answer would have shown it. */
static void
proto_conn_left_fatal(struct proto_conn *c, char **cause)
{
	struct pollfd p = { .fd = c->fd, .events = POLLIN };
	struct proto_frame f;
	const cJSON *v;
	char *ignored = NULL;
	cJSON *msg;
	int rc;

	for (;;) {
		if ((rc = proto_conn_next(c, &f, &ignored)) < 0)
			break;
		if (rc == 1) {
			if (f.type != PROTO_FATAL)
				continue;
			if ((msg = proto_frame_json(&f, &ignored)) == NULL)
				break;
			v = cJSON_GetObjectItemCaseSensitive(msg, "error");
			if (cJSON_IsString(v) && cause != NULL) {
				free(*cause);
				error_set(cause, "%s", v->valuestring);
				c->fatal_named = cJSON_IsString(
				    cJSON_GetObjectItemCaseSensitive(msg, "host"));
			}
			cJSON_Delete(msg);
			break;
		}
		/* (what came before the peer's end is there now: no wait) */
		if (poll(&p, 1, 0) <= 0 || proto_conn_read_some(c, &ignored) <= 0)
			break;
	}
	free(ignored);
}

int
proto_conn_send_request(struct proto_conn *c, cJSON *request, char **cause)
{
	int rc = proto_conn_queue_json(c, PROTO_CONTROL, 0, request, cause);

	secrets_request_wipe(request);
	cJSON_Delete(request);
	c->fatal_named = 0;
	if (rc != 0)
		return -1;
	return proto_conn_flush(c, cause) != 0 ? -1 : 0;
}

/* A failure's "errorCode" into its details *result (made when it has
 * none), where the caller reads it beside up's containerId. */
static void
proto_conn_error_code(const cJSON *msg, cJSON **result)
{
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(msg, "errorCode");

	if (!cJSON_IsString(code))
		return;
	if (*result == NULL)
		*result = cJSON_CreateObject();
	cJSON_DeleteItemFromObjectCaseSensitive(*result, "errorCode");
	cJSON_AddStringToObject(*result, "errorCode", code->valuestring);
}

int
proto_conn_response(struct proto_conn *c, double want,
    void (*on_progress)(void *arg, const char *text), void *arg, int timeout_ms,
    const volatile sig_atomic_t *stop, cJSON **result, int *exit_status, char **cause)
{
	long long deadline = clock_now_ms() + timeout_ms;
	const cJSON *id, *v, *ev;
	struct proto_frame f;
	cJSON *msg;
	int rc;

	*result = NULL;
	if (exit_status != NULL)
		*exit_status = 1;
	c->fatal_named = 0; /* (this wait's, not an earlier one's) */
	for (;;) {
		if ((rc = proto_conn_wait_until(
			 c, &f, deadline, timeout_ms, stop, cause)) != 1)
			return rc == -2 ? -2 : -1;
		if (f.type == PROTO_FATAL || f.type == PROTO_CONTROL) {
			if ((msg = proto_frame_json(&f, cause)) == NULL)
				return error_prefix(cause, "%s", c->name);
		} else
			return error_set(cause, "%s: unexpected %s frame", c->name,
			    proto_type_name(f.type));
		if (f.type == PROTO_FATAL) {
			v = cJSON_GetObjectItemCaseSensitive(msg, "error");
			error_set(cause, "%s",
			    cJSON_IsString(v) ? v->valuestring
					      : "the peer ended the session");
			c->fatal_named = cJSON_IsString(v) &&
			    cJSON_IsString(cJSON_GetObjectItemCaseSensitive(msg, "host"));
			cJSON_Delete(msg);
			return -1;
		}
		id = cJSON_GetObjectItemCaseSensitive(msg, "id");
		if (!cJSON_IsNumber(id) || id->valuedouble != want) {
			cJSON_Delete(msg);
			continue; /* not ours (another request's event or answer) */
		}
		ev = cJSON_GetObjectItemCaseSensitive(msg, "event");
		if (cJSON_IsString(ev) && strcmp(ev->valuestring, "prompt") == 0) {
			rc = proto_conn_answer_prompt(c, want, msg, cause);
			cJSON_Delete(msg);
			if (rc != 0)
				return -1;
			continue;
		}
		if (cJSON_IsString(ev)) {
			v = cJSON_GetObjectItemCaseSensitive(msg, "text");
			if (strcmp(ev->valuestring, "progress") == 0 &&
			    cJSON_IsString(v) && on_progress != NULL)
				on_progress(arg, v->valuestring);
			cJSON_Delete(msg);
			continue;
		}
		v = cJSON_GetObjectItemCaseSensitive(msg, "ok");
		if (cJSON_IsTrue(v)) {
			*result = cJSON_DetachItemFromObjectCaseSensitive(msg, "result");
			cJSON_Delete(msg);
			return 0;
		}
		v = cJSON_GetObjectItemCaseSensitive(msg, "exitStatus");
		if (cJSON_IsNumber(v) && exit_status != NULL)
			*exit_status = v->valueint;
		/* (an op's details of its error: up's containerId) */
		if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(msg, "result")))
			*result = cJSON_DetachItemFromObjectCaseSensitive(msg, "result");
		proto_conn_error_code(msg, result);
		v = cJSON_GetObjectItemCaseSensitive(msg, "error");
		error_set(cause, "%s", cJSON_IsString(v) ? v->valuestring : "failed");
		cJSON_Delete(msg);
		return -1;
	}
}

int
proto_conn_request(struct proto_conn *c, cJSON *request,
    void (*on_progress)(void *arg, const char *text), void *arg, cJSON **result,
    int *exit_status, char **cause)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(request, "id");
	double want = cJSON_IsNumber(id) ? id->valuedouble : -1;

	*result = NULL;
	if (exit_status != NULL)
		*exit_status = 1;
	if (proto_conn_send_request(c, request, cause) != 0)
		return -1;
	return proto_conn_response(
	    c, want, on_progress, arg, -1, NULL, result, exit_status, cause);
}
