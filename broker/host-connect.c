/* host-connect.c - the "connect" request of a host session (host-internal.h;
 * docs/PROTOCOL.md): the client's own connection to the broker becomes a
 * forwarded connection to a port of the workspace's container, routed as a
 * forward's connections are (host-forward.c: straight to the container's
 * address when the server listens there, else through the container's
 * relay; over a stream of the agent session where sshd forbids
 * direct-tcpip), and the request is answered once it is open:
 * {"route":"direct"|"relay"}, then the bytes are the server's. What
 * `rdev ssh-proxy` carries its direct-tcpip channels on.
 *
 * Each (workspace, config, id labels, port) with connections has one
 * forward with no listener on h->connects (status shows its counts, as
 * "connects"), freed HOST_CONNECT_IDLE_MS after its last connection (serial
 * channels, as scp, git or repeated `ssh -W` open, would otherwise each pay
 * a relay op, and to a server on the container's 127.0.0.1 a refused direct
 * open: direct_retry_ms goes with the entry); its target is kept and
 * checked as a forward's is (forward_target_fresh: the container may have
 * been recreated meanwhile, and its old address given to another).
 */
#include "host-internal.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "log.h"
#include "xmalloc.h"

/* The forward without listener of ws to port, made if there is none. */
static struct host_forward *
host_connect_forward(struct host_session *h, const cJSON *req, const char *ws, int port)
{
	struct host_forward *f;
	struct forward_key k;

	forward_key_of_request(&k, req);
	LIST_FOREACH(f, &h->connects, entry) {
		if (forward_same(&f->fw, ws, NULL, port) && forward_of(&f->fw, &k))
			break;
	}
	forward_key_clear(&k);
	if (f != NULL) {
		f->idle_ms = 0;
		return f;
	}
	f = xcalloc(1, sizeof *f);
	forward_init(&f->fw, ws, json_get_string(req, "config"));
	f->fw.port = port;
	forward_take_request_fields(&f->fw, req, &h->lock);
	f->owner = h;
	f->connect = 1;
	pthread_mutex_lock(&h->lock);
	LIST_INSERT_HEAD(&h->connects, f, entry);
	pthread_mutex_unlock(&h->lock);
	return f;
}

void
host_connect_add(struct host_session *h, struct host_job *j)
{
	const char *ws = json_get_string(j->req, "workspace");
	const cJSON *pj = cJSON_GetObjectItemCaseSensitive(j->req, "containerPort");
	struct host_forward *f;
	struct host_link *l;

	if (ws == NULL || !cJSON_IsNumber(pj) || pj->valueint < 1 ||
	    pj->valueint > 65535) {
		host_send_error(
		    j->fd, j->request_id, "connect needs workspace and containerPort");
		close(j->fd);
	} else {
		f = host_connect_forward(h, j->req, ws, pj->valueint);
		l = host_forward_link(h, f, j->fd);
		l->request_id = j->request_id;
		l->connect = 1;
		if (host_forward_open_next(h, l) != 0)
			host_link_kill(l);
	}
	cJSON_Delete(j->req);
	free(j);
}

void
host_connect_answer(struct host_link *l, const char *route, const char *error)
{
	struct buf *b;
	cJSON *o;

	if (!l->connect)
		return;
	l->connect = 0;
	if (error != NULL) {
		log_info(
		    "%s: connect to port %d: %s", l->h->label, l->fwd->fw.port, error);
		if (l->fd >= 0)
			host_send_error(l->fd, l->request_id, error);
		return;
	}
	log_debug("%s: connect to port %d: %s", l->h->label, l->fwd->fw.port, route);
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "id", l->request_id);
	cJSON_AddBoolToObject(o, "ok", 1);
	cJSON_AddStringToObject(cJSON_AddObjectToObject(o, "result"), "route", route);
	/* ahead of the server's bytes, also of those that came while the link
	 * was held for its target's check (host_link's hold: a server that
	 * speaks first, as sshd does) */
	b = buf_new();
	proto_encode_json(b, PROTO_CONTROL, 0, o, NULL);
	cJSON_Delete(o);
	buf_append(b, buf_data(l->to_cli), buf_len(l->to_cli));
	buf_free(l->to_cli);
	l->to_cli = b;
}

cJSON *
host_connects_json(struct host_session *h)
{
	cJSON *a = cJSON_CreateArray(), *o;
	struct host_forward *f;

	LIST_FOREACH(f, &h->connects, entry) {
		o = forward_json(&f->fw);
		cJSON_DeleteItemFromObjectCaseSensitive(o, "local");
		cJSON_DeleteItemFromObjectCaseSensitive(o, "listen");
		cJSON_DeleteItemFromObjectCaseSensitive(o, "spec");
		cJSON_AddItemToArray(a, o);
	}
	return a;
}

void
host_connect_release(struct host_forward *f)
{
	if (f->connect && f->fw.active == 0)
		f->idle_ms = clock_now_ms();
}

int
host_connect_expired(const struct host_forward *f, long long now, int idle_ms)
{
	/* (a check in flight is kept to its answer: a parked "forward"
	 * answer may wait for it, and freeing f forgets the call) */
	return f->fw.active == 0 && f->idle_ms != 0 && f->resolving == NULL &&
	    now - f->idle_ms >= idle_ms;
}

void
host_connects_sweep(struct host_session *h)
{
	struct host_forward *f, *next;
	long long now = clock_now_ms();
	int freed = 0;

	for (f = LIST_FIRST(&h->connects); f != NULL; f = next) {
		next = LIST_NEXT(f, entry);
		if (!host_connect_expired(f, now, h->connect_idle_ms))
			continue;
		pthread_mutex_lock(&h->lock); /* (status reads the list) */
		LIST_REMOVE(f, entry);
		pthread_mutex_unlock(&h->lock);
		host_forward_free(f);
		freed = 1;
	}
	if (freed)
		host_forward_parked_check(h); /* nothing waits for what went */
}

void
host_connects_free(struct host_session *h)
{
	struct host_forward *f;

	while ((f = LIST_FIRST(&h->connects)) != NULL) {
		LIST_REMOVE(f, entry);
		host_forward_free(f);
	}
}
