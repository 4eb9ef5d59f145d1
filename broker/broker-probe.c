/* broker-probe.c - many hosts' agents asked for "info" at once by the
 * broker itself (broker-probe.h). */
#include "broker-probe.h"

#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "buf.h"
#include "log.h"
#include "proto-conn.h"
#include "proto.h"
#include "xmalloc.h"

/* The longest a probe may be given, and what it gets when it asks for none. */
#define BROKER_PROBE_MAX_MS 60000
#define BROKER_PROBE_DEFAULT_MS 5000

/* One host of a probe: our end of its socketpair until its answer is in. */
struct broker_probe_slot {
	struct broker_probe *p;
	struct proto_conn *conn; /* NULL once answered (or never submitted) */
	struct event *ev;
	cJSON *answer; /* {"info":...} or {"error":...}; NULL: none yet */
};

struct broker_probe {
	int fd; /* the client's */
	int id;
	struct event_base *base;
	struct event *timer;
	struct event *finish; /* answers, then frees, after the loop pass */
	struct broker_probe_slot *slots;
	int n, pending;
	LIST_ENTRY(broker_probe) entry;
};

static void
broker_probe_slot_close(struct broker_probe_slot *s)
{
	if (s->ev != NULL)
		event_free(s->ev);
	s->ev = NULL;
	proto_conn_free(s->conn);
	s->conn = NULL;
}

static void
broker_probe_free(struct broker_probe *p)
{
	for (int i = 0; i < p->n; i++) {
		broker_probe_slot_close(&p->slots[i]);
		cJSON_Delete(p->slots[i].answer);
	}
	free(p->slots);
	if (p->timer != NULL)
		event_free(p->timer);
	if (p->finish != NULL)
		event_free(p->finish);
	if (p->fd >= 0)
		close(p->fd);
	LIST_REMOVE(p, entry);
	free(p);
}

/* The answer to the client: every host's, in order ("timeout" for those
 * still out); then the probe is freed. */
static void
broker_probe_on_finish(evutil_socket_t fd, short what, void *arg)
{
	struct broker_probe *p = arg;
	cJSON *o = cJSON_CreateObject(), *result = cJSON_CreateObject(), *hosts, *a;
	struct buf *out = buf_new();

	hosts = cJSON_AddArrayToObject(result, "hosts");
	for (int i = 0; i < p->n; i++) {
		a = p->slots[i].answer;
		p->slots[i].answer = NULL;
		if (a == NULL) {
			a = cJSON_CreateObject();
			cJSON_AddStringToObject(a, "error", "timeout");
			cJSON_AddStringToObject(a, "errorKind", "timeout");
		}
		cJSON_AddItemToArray(hosts, a);
	}
	cJSON_AddNumberToObject(o, "id", p->id);
	cJSON_AddBoolToObject(o, "ok", 1);
	cJSON_AddItemToObject(o, "result", result);
	if (proto_encode_json(out, PROTO_CONTROL, 0, o, NULL) == 0 &&
	    send(p->fd, buf_data(out), buf_len(out), MSG_NOSIGNAL) < 0)
		log_debug("probe: send: %s", strerror(errno));
	buf_free(out);
	cJSON_Delete(o);
	broker_probe_free(p);
}

/* Answer after this loop pass (never from inside a slot's callback, whose
 * event is freed with the probe). */
static void
broker_probe_finish_soon(struct broker_probe *p)
{
	if (!event_pending(p->finish, EV_TIMEOUT, NULL))
		event_active(p->finish, EV_TIMEOUT, 0);
}

/* Slot s's answer is answer (taken): its socketpair closed. */
static void
broker_probe_slot_done(struct broker_probe_slot *s, cJSON *answer)
{
	if (s->answer != NULL) {
		cJSON_Delete(answer);
		return;
	}
	s->answer = answer;
	broker_probe_slot_close(s);
	if (--s->p->pending == 0)
		broker_probe_finish_soon(s->p);
}

const char *
broker_probe_handshake_words(int proxied, int banner_came)
{
	if (banner_came)
		return proxied ? "no SSH handshake: through the proxy command the "
				 "SSH banner came, the key exchange did not end"
			       : "no SSH handshake: the SSH banner came, the key "
				 "exchange did not end";
	return proxied ? "no SSH handshake: the proxy command ran, no SSH came "
			 "through it"
		       : "no SSH handshake: the TCP port answers, SSH does not";
}

/* Slot s failed: error, and failure (NULL: none), the session's failed
 * response, whose "errorKind" is the kind of connect failure the host's
 * session recorded (host_send_failure). A TCP connect that timed out is the
 * same finding as the probe's own deadline: "timeout"; one that connected
 * and heard no SSH (a stopped or hung sshd) is said so, by what the
 * handshake got to ("proxied", "banner"), in words that fit after the
 * host's name (placement, `hosts ls`). */
static void
broker_probe_slot_error(
    struct broker_probe_slot *s, const char *error, const cJSON *failure)
{
	cJSON *a = cJSON_CreateObject();
	const char *kind =
	    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(failure, "errorKind"));

	if (kind != NULL && strcmp(kind, "timeout") == 0)
		error = "timeout";
	else if (kind != NULL && strcmp(kind, "handshake-timeout") == 0)
		error = broker_probe_handshake_words(
		    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(failure, "proxied")),
		    cJSON_IsString(cJSON_GetObjectItemCaseSensitive(failure, "banner")));
	cJSON_AddStringToObject(a, "error", error);
	if (kind != NULL)
		cJSON_AddStringToObject(a, "errorKind", kind);
	broker_probe_slot_done(s, a);
}

/* One frame from the session: progress is dropped, a prompt is an error
 * (a probe never prompts), the answer ends the slot. 1: go on. */
static int
broker_probe_slot_frame(struct broker_probe_slot *s, const struct proto_frame *f)
{
	cJSON *msg = f->type == PROTO_CONTROL ? proto_frame_json(f, NULL) : NULL;
	cJSON *a, *result;
	const char *ev, *err;

	if (msg == NULL)
		return 1;
	ev = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(msg, "event"));
	if (ev != NULL) {
		if (strcmp(ev, "prompt") == 0) {
			broker_probe_slot_error(s,
			    "asks for a passphrase or password (a probe does not "
			    "prompt: add the key to ssh-agent, or run a command on "
			    "the host once)",
			    NULL);
			cJSON_Delete(msg);
			return 0;
		}
		cJSON_Delete(msg);
		return 1;
	}
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(msg, "ok")) &&
	    cJSON_IsObject(result = cJSON_GetObjectItemCaseSensitive(msg, "result"))) {
		a = cJSON_CreateObject();
		cJSON_AddItemToObject(a, "info", cJSON_DetachItemViaPointer(msg, result));
		broker_probe_slot_done(s, a);
	} else {
		err =
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(msg, "error"));
		broker_probe_slot_error(s, err != NULL ? err : "no answer", msg);
	}
	cJSON_Delete(msg);
	return 0;
}

static void
broker_probe_slot_on_read(evutil_socket_t fd, short what, void *arg)
{
	struct broker_probe_slot *s = arg;
	struct proto_frame f;
	char *cause = NULL;
	int rc;

	if ((rc = proto_conn_read_some(s->conn, &cause)) == 0) {
		broker_probe_slot_error(
		    s, "the host's session ended without an answer", NULL);
		return;
	}
	while (rc > 0 && (rc = proto_conn_next(s->conn, &f, &cause)) == 1) {
		if (broker_probe_slot_frame(s, &f) == 0)
			return;
	}
	if (rc < 0) {
		broker_probe_slot_error(s, cause, NULL);
		free(cause);
	}
}

static void
broker_probe_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct broker_probe *p = arg;

	/* The sessions still working go on (their answers are dropped with
	 * the socketpairs); the client gets "timeout" for them. */
	broker_probe_finish_soon(p);
}

/* Submit host i of the probe; its slot answered at once when it cannot
 * be. */
static void
broker_probe_submit(struct broker_probe *p, int i, const cJSON *host, int timeout_ms,
    broker_probe_submit_fn submit, void *arg)
{
	struct broker_probe_slot *s = &p->slots[i];
	char *cause = NULL;
	int sv[2];

	s->p = p;
	if (!cJSON_IsObject(host)) {
		broker_probe_slot_error(s, "not a host", NULL);
		return;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		broker_probe_slot_error(s, strerror(errno), NULL);
		return;
	}
	/* The session's end stays blocking (host-session.h). Its connect
	 * gives up half a second before the deadline, so that what it found
	 * (no TCP, or TCP and no SSH) is the answer, not the deadline's bare
	 * "timeout". */
	if (submit(arg, host, timeout_ms > 1500 ? (timeout_ms - 500) / 1000 : 1, sv[1],
		&cause) != 0) {
		close(sv[0]);
		close(sv[1]);
		broker_probe_slot_error(s, cause != NULL ? cause : "not submitted", NULL);
		free(cause);
		return;
	}
	fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
	s->conn = proto_conn_new(sv[0], "the host's session");
	s->ev =
	    event_new(p->base, sv[0], EV_READ | EV_PERSIST, broker_probe_slot_on_read, s);
	event_add(s->ev, NULL);
}

void
broker_probe_start(struct event_base *base, struct broker_probes *list, int fd, int id,
    const cJSON *req, broker_probe_submit_fn submit, void *arg)
{
	struct broker_probe *p = xcalloc(1, sizeof *p);
	const cJSON *hosts = cJSON_GetObjectItemCaseSensitive(req, "hosts");
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(req, "timeoutMs");
	int timeout_ms = BROKER_PROBE_DEFAULT_MS, i = 0;
	const cJSON *h;
	struct timeval tv;

	if (cJSON_IsNumber(t) && t->valuedouble >= 1 &&
	    t->valuedouble <= BROKER_PROBE_MAX_MS)
		timeout_ms = (int)t->valuedouble;
	p->fd = fd;
	p->id = id;
	p->base = base;
	p->n = cJSON_IsArray(hosts) ? cJSON_GetArraySize(hosts) : 0;
	p->pending = p->n;
	p->slots = xcalloc((size_t)(p->n > 0 ? p->n : 1), sizeof *p->slots);
	LIST_INSERT_HEAD(list, p, entry);
	p->finish = event_new(base, -1, 0, broker_probe_on_finish, p);
	p->timer = evtimer_new(base, broker_probe_on_timer, p);
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	evtimer_add(p->timer, &tv);
	cJSON_ArrayForEach(h, hosts)
		broker_probe_submit(p, i++, h, timeout_ms, submit, arg);
	if (p->n == 0)
		broker_probe_finish_soon(p);
}

void
broker_probe_free_all(struct broker_probes *list)
{
	struct broker_probe *p;

	while ((p = LIST_FIRST(list)) != NULL)
		broker_probe_free(p);
}
