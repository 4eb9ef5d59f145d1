/* host-forward.c - a host session's port forwards: local listeners, where
 * their connections go (straight to the container or through its relay),
 * and the "forward" and "unforward" requests (host-internal.h). */
#include "host-internal.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sodium.h>

#include "buf.h"
#include "clock.h"
#include "error.h"
#include "forward.h"
#include "log.h"
#include "xmalloc.h"

#define HOST_FORWARD_BUFFER (256u << 10)
#define HOST_DIRECT_RETRY_MS 5000

/* Decode the relay's token: exactly len * 2 hex digits and nothing else
 * (sscanf's "%2x" let spaces, signs, "0x" and a lone digit through: " f0b"
 * was f0 0b, "-10b" ff 0b). sodium_hex2bin stops at the first other
 * character; the count and end checks make that a failure in every
 * libsodium version. 0, or -1 (out then undefined). */
static int
host_forward_hex_decode(const char *hex, unsigned char *out, size_t len)
{
	const char *end = NULL;
	size_t got = 0;

	if (hex == NULL || strlen(hex) != len * 2 ||
	    sodium_hex2bin(out, len, hex, len * 2, NULL, &got, &end) != 0)
		return -1;
	return got == len && end == hex + len * 2 ? 0 : -1;
}

int
host_forward_parse_relay(const cJSON *res, int service, char **address, int *port,
    unsigned char token[HOST_RELAY_TOKEN_LEN])
{
	const cJSON *addr = cJSON_GetObjectItemCaseSensitive(res, "address");
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(res, "port");
	const cJSON *tok = cJSON_GetObjectItemCaseSensitive(res, "token");

	*address = NULL;
	if (!cJSON_IsString(addr) || addr->valuestring[0] == '\0')
		return -1;
	if (!service &&
	    (!cJSON_IsNumber(p) || p->valuedouble < 1 || p->valuedouble > 65535 ||
		p->valuedouble != (int)p->valuedouble ||
		host_forward_hex_decode(cJSON_IsString(tok) ? tok->valuestring : NULL,
		    token, HOST_RELAY_TOKEN_LEN) != 0))
		return -1;
	*address = xstrdup(addr->valuestring);
	*port = service ? 0 : (int)p->valuedouble;
	return 0;
}

/* Take the agent's relay answer for f. 0, or -1 with *cause. */
static int
host_forward_take_target(
    struct host_session *h, struct host_forward *f, const cJSON *res, char **cause)
{
	char *address;
	int port;

	if (host_forward_parse_relay(
		res, f->service != NULL, &address, &port, f->token) != 0)
		return error_set(
		    cause, "%s: the agent's relay answer is incomplete", h->label);
	free(f->address);
	f->address = address;
	f->target_port = f->service == NULL ? port : f->port;
	f->have_target = 1;
	f->direct_retry_ms = 0;
	return 0;
}

static int host_forward_open_next(struct host_session *h, struct host_link *l);

/* Add error to the parked answers of f's workspace (the first error of each,
 * as a failed resolve used to stop the request's others). */
static void
host_forward_park_error(struct host_session *h, struct host_forward *f, const char *error)
{
	cJSON *res, *errors;
	struct host_job *j;

	TAILQ_FOREACH(j, &h->parked, entry) {
		const char *ws = host_json_str(j->req, "workspace");

		if (ws == NULL || strcmp(ws, f->workspace) != 0 ||
		    cJSON_IsTrue(
			cJSON_GetObjectItemCaseSensitive(j->resp, "resolveFailed")))
			continue;
		res = cJSON_GetObjectItemCaseSensitive(j->resp, "result");
		errors = cJSON_GetObjectItemCaseSensitive(res, "errors");
		cJSON_AddItemToArray(errors, cJSON_CreateString(error));
		cJSON_AddTrueToObject(j->resp, "resolveFailed");
	}
}

/* The agent's answer to f's relay request (host_call_done_fn). */
static void
host_forward_resolved(
    struct host_session *h, void *arg, const cJSON *result, const char *error)
{
	struct host_forward *f = arg;
	struct host_link *l;
	char *cause = NULL;

	f->resolving = NULL;
	if (error != NULL)
		cause = xstrdup(error);
	else
		host_forward_take_target(h, f, result, &cause);
	if (cause != NULL) {
		if (f->fd4 >= 0 || f->fd6 >= 0)
			log_warn("forward %d: %s", f->local_port, cause);
		else
			log_info(
			    "%s: auto-forward %s: %s", h->label, f->workspace, cause);
		host_forward_park_error(h, f, cause);
	}
	LIST_FOREACH(l, &h->links, entry) {
		if (l->fwd != f || l->state != HOST_LINK_RESOLVING)
			continue;
		if (cause != NULL || host_forward_open_next(h, l) != 0)
			host_link_kill(l); /* the client sees its connection closed */
	}
	free(cause);
	host_forward_parked_check(h);
}

void
host_forward_resolve_start(struct host_session *h, struct host_forward *f)
{
	cJSON *req;

	if (f->resolving != NULL)
		return;
	req = cJSON_CreateObject();
	cJSON_AddNumberToObject(req, "id", 1);
	cJSON_AddStringToObject(req, "op", "relay");
	cJSON_AddStringToObject(req, "workspace", f->workspace);
	if (f->config != NULL)
		cJSON_AddStringToObject(req, "config", f->config);
	if (f->service != NULL)
		cJSON_AddStringToObject(req, "service", f->service);
	f->resolving = host_agent_call_start(h, req, host_forward_resolved, f);
	cJSON_Delete(req);
}

ssh_channel
host_open_forward(struct host_session *h, const char *address, int port, int from_port)
{
	ssh_channel ch = ssh_channel_new(rdev_ssh_session(h->ssh));

	if (ch != NULL &&
	    ssh_channel_open_forward(ch, address, port, "127.0.0.1", from_port) == SSH_OK)
		return ch;
	if (ch != NULL)
		ssh_channel_free(ch);
	return NULL;
}

/* The direct-tcpip open of l's channel, sent or (again) asked about without
 * waiting: SSH_OK open, SSH_AGAIN not answered yet, SSH_ERROR refused or
 * not sent. */
static int
host_open_nowait(struct host_session *h, struct host_link *l)
{
	ssh_session ss = rdev_ssh_session(h->ssh);
	int rc;

	ssh_set_blocking(ss, 0);
	rc = ssh_channel_open_forward(l->ch, l->open_address, l->open_port, "127.0.0.1",
	    l->fwd != NULL ? l->fwd->local_port : 0);
	ssh_set_blocking(ss, 1);
	return rc;
}

/* Send the open of a channel for l: to the container address itself
 * (direct) or to the relay / the service; or when f has no target, wait for
 * it (the agent is asked, once for all of f's connections). 0, or -1 when
 * the open cannot be sent. */
static int
host_forward_open_start(struct host_session *h, struct host_link *l, int direct)
{
	struct host_forward *f = l->fwd;
	ssh_channel ch;

	if (!f->have_target) {
		/* host_forward_resolved goes on */
		host_link_set_state(l, HOST_LINK_RESOLVING);
		host_forward_resolve_start(h, f);
		return 0;
	}
	if ((ch = ssh_channel_new(rdev_ssh_session(h->ssh))) == NULL)
		return -1;
	host_link_attach(l, ch);
	free(l->open_address);
	l->open_address = xstrdup(f->address);
	l->open_port = direct ? f->port : f->target_port;
	l->open_direct = direct;
	host_link_set_state(l, HOST_LINK_OPENING);
	/* Answered already (open, or refused: then the next way is tried) or
	 * not: host_forward_open_progress takes it from here. */
	if (host_open_nowait(h, l) != SSH_AGAIN)
		host_forward_open_progress(h, l);
	return 0;
}

/* Open l's channel the way f's connections go now: direct when due (a
 * server on the container address), else the relay (or the service). */
static int
host_forward_open_next(struct host_session *h, struct host_link *l)
{
	struct host_forward *f = l->fwd;

	return host_forward_open_start(
	    h, l, f->service == NULL && clock_now_ms() >= f->direct_retry_ms);
}

void
host_forward_open_progress(struct host_session *h, struct host_link *l)
{
	struct host_forward *f = l->fwd;
	int rc = host_open_nowait(h, l);

	if (rc == SSH_AGAIN)
		return;
	if (rc == SSH_OK) {
		if (host_link_dead(l) || f == NULL) {
			/* dropped meanwhile: closed with the link */
			host_link_set_state(l, HOST_LINK_DEAD);
			return;
		}
		if (l->open_direct || f->service != NULL) {
			pthread_mutex_lock(&h->lock);
			f->direct++;
			pthread_mutex_unlock(&h->lock);
			host_link_set_state(l, HOST_LINK_OPEN);
			return;
		}
		{
			unsigned char hdr[8 + 32 + 3];
			struct buf *b = buf_new();

			memcpy(hdr, HOST_RELAY_MAGIC, 8);
			memcpy(hdr + 8, f->token, 32);
			hdr[40] = 'C';
			hdr[41] = (unsigned char)(f->port >> 8);
			hdr[42] = (unsigned char)(f->port & 0xff);
			/* before what the client sent while its target was
			 * asked for */
			buf_append(b, hdr, sizeof hdr);
			buf_append(b, buf_data(l->to_ch), buf_len(l->to_ch));
			buf_free(l->to_ch);
			l->to_ch = b;
		}
		host_link_set_state(l, HOST_LINK_RELAY);
		pthread_mutex_lock(&h->lock);
		f->relayed++;
		pthread_mutex_unlock(&h->lock);
		return;
	}
	host_link_detach(l);
	if (host_link_dead(l) || f == NULL) {
		host_link_set_state(l, HOST_LINK_DEAD);
		return;
	}
	if (l->open_direct) {
		/* Not listening there (127.0.0.1 only, or not yet): the relay. */
		f->direct_retry_ms = clock_now_ms() + HOST_DIRECT_RETRY_MS;
		if (host_forward_open_start(h, l, 0) == 0)
			return;
	} else {
		log_info("%s: forward %d: cannot reach %s:%d (%s)%s", h->label,
		    f->local_port, l->open_address, l->open_port,
		    ssh_get_error(rdev_ssh_session(h->ssh)),
		    l->open_retried ? "" : "; asking the agent again");
		f->have_target = 0; /* container restarted, relay gone: ask again */
		if (!l->open_retried) {
			l->open_retried = 1;
			if (host_forward_open_next(h, l) == 0)
				return;
		}
	}
	/* the client sees its connection closed */
	host_link_set_state(l, HOST_LINK_DEAD);
}

void
host_forward_accept(
    struct host_session *h, struct host_forward *f, int lfd, int connected)
{
	struct host_link *l;
	int fd, one = 1;

	while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		if (!connected) {
			/* A closed connection, not a hang, while the host is away. */
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		l = host_link_new(h, fd, NULL, HOST_FORWARD_BUFFER);
		l->fwd = f;
		pthread_mutex_lock(&h->lock);
		f->connections++;
		f->active++;
		pthread_mutex_unlock(&h->lock);
		if (host_forward_open_next(h, l) != 0)
			host_link_kill(l);
	}
}

void
host_forward_free(struct host_forward *f)
{
	host_agent_call_forget(f->resolving);
	host_watch_forward_clear(f);
	if (f->fd4 >= 0)
		close(f->fd4);
	if (f->fd6 >= 0)
		close(f->fd6);
	free(f->workspace);
	free(f->config);
	free(f->service);
	free(f->label);
	free(f->auto_action);
	free(f->address);
	sodium_memzero(f->token, sizeof f->token);
	free(f);
}

/* Drop forwards marked gone (and their connections). */
static void
host_forward_reap(struct host_session *h)
{
	struct host_forward *f, *next;
	struct host_link *l;
	int any = 0;

	LIST_FOREACH(f, &h->forwards, entry)
		any |= f->gone;
	if (!any)
		return;
	LIST_FOREACH(l, &h->links, entry) {
		if (l->fwd != NULL && l->fwd->gone) {
			host_link_kill(l);
			if (l->state == HOST_LINK_DYING) {
				/* it outlives f until its open is answered */
				pthread_mutex_lock(&h->lock);
				l->fwd->active--;
				pthread_mutex_unlock(&h->lock);
				l->fwd = NULL;
			}
		}
	}
	host_drop_dead_links(h);
	pthread_mutex_lock(&h->lock);
	for (f = LIST_FIRST(&h->forwards); f != NULL; f = next) {
		next = LIST_NEXT(f, entry);
		if (f->gone) {
			LIST_REMOVE(f, entry);
			host_forward_free(f);
		}
	}
	pthread_mutex_unlock(&h->lock);
	host_forward_parked_check(h); /* a resolve it waited for is gone */
}

cJSON *
host_forward_json(const struct host_forward *f)
{
	cJSON *o = cJSON_CreateObject();
	char *spec = forward_spec_string(f->local_port, f->service, f->port);

	cJSON_AddStringToObject(o, "spec", spec);
	free(spec);
	cJSON_AddNumberToObject(o, "local", f->local_port);
	cJSON_AddNumberToObject(o, "port", f->port);
	if (f->service != NULL)
		cJSON_AddStringToObject(o, "service", f->service);
	else
		cJSON_AddNullToObject(o, "service");
	cJSON_AddStringToObject(o, "workspace", f->workspace);
	if (f->label != NULL)
		cJSON_AddStringToObject(o, "label", f->label);
	cJSON_AddStringToObject(o, "listen", f->fd6 >= 0 ? "127.0.0.1,::1" : "127.0.0.1");
	if (f->auto_action != NULL) {
		cJSON_AddStringToObject(o, "onAutoForward", f->auto_action);
		if (strcmp(f->auto_action, "openBrowser") == 0 ||
		    strcmp(f->auto_action, "openBrowserOnce") == 0) {
			char *url = xasprintf("http://localhost:%d/", f->local_port);

			cJSON_AddStringToObject(o, "url", url);
			free(url);
		}
	}
	cJSON_AddNumberToObject(o, "connections", (double)f->connections);
	cJSON_AddNumberToObject(o, "direct", (double)f->direct);
	cJSON_AddNumberToObject(o, "relayed", (double)f->relayed);
	cJSON_AddNumberToObject(o, "active", f->active);
	return o;
}

int
host_forward_same(
    const struct host_forward *f, const char *ws, const char *service, int port)
{
	return !f->gone && strcmp(f->workspace, ws) == 0 && f->port == port &&
	    ((f->service == NULL && service == NULL) ||
		(f->service != NULL && service != NULL &&
		    strcmp(f->service, service) == 0));
}

/* The forward of ws to [service:]port (at local, or any local port when 0),
 * made if there is none yet. NULL with *cause when no local port can be had. */
struct host_forward *
host_forward_make(struct host_session *h, const char *ws, const char *config,
    const char *service, int port, int local, int exact, const char *label, char **cause)
{
	struct host_forward *f;
	int bound, fd4, fd6;

	LIST_FOREACH(f, &h->forwards, entry) {
		if (host_forward_same(f, ws, service, port) &&
		    (local == 0 || local == f->local_port))
			return f;
	}
	if (forward_listen(local != 0 ? local : port, exact, &fd4, &fd6, &bound, cause) !=
	    0) {
		error_prefix(cause, "port %d%s%s", port,
		    service != NULL ? " of service " : "",
		    service != NULL ? service : "");
		return NULL;
	}
	f = xcalloc(1, sizeof *f);
	f->workspace = xstrdup(ws);
	f->config = config != NULL ? xstrdup(config) : NULL;
	f->service = service != NULL ? xstrdup(service) : NULL;
	f->port = port;
	f->local_port = bound;
	f->label = label != NULL ? xstrdup(label) : NULL;
	f->fd4 = fd4;
	f->fd6 = fd6;
	pthread_mutex_lock(&h->lock);
	LIST_INSERT_HEAD(&h->forwards, f, entry);
	pthread_mutex_unlock(&h->lock);
	log_info("%s: forwarding 127.0.0.1:%d -> %s:%d", h->label, bound,
	    service != NULL ? service : "container", port);
	return f;
}

/* A "forward" request: {"workspace","config","forwards":[{"local","port",
 * "service","requireLocal","label"}]} -> {"forwards":[...],"errors":[...]}. */
void
host_forward_add(struct host_session *h, struct host_job *j)
{
	const char *ws = host_json_str(j->req, "workspace");
	const char *config = host_json_str(j->req, "config");
	const cJSON *e, *list = cJSON_GetObjectItemCaseSensitive(j->req, "forwards");
	cJSON *resp = cJSON_CreateObject(), *res, *done, *errors;
	struct host_forward *f;
	char *cause = NULL;

	cJSON_AddNumberToObject(resp, "id", j->request_id);
	cJSON_AddBoolToObject(resp, "ok", 1);
	res = cJSON_AddObjectToObject(resp, "result");
	done = cJSON_AddArrayToObject(res, "forwards");
	errors = cJSON_AddArrayToObject(res, "errors");
	cJSON_ArrayForEach(e, list) {
		const cJSON *lp = cJSON_GetObjectItemCaseSensitive(e, "local");
		const cJSON *pp = cJSON_GetObjectItemCaseSensitive(e, "port");
		const char *service = host_json_str(e, "service"),
			   *label = host_json_str(e, "label");
		int require =
		    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "requireLocal"));
		int local = cJSON_IsNumber(lp) ? lp->valueint : 0;

		if (ws == NULL || !cJSON_IsNumber(pp)) {
			cJSON_AddItemToArray(errors,
			    cJSON_CreateString("a forward needs a "
					       "workspace and a port"));
			continue;
		}
		if ((f = host_forward_make(h, ws, config, service, pp->valueint, local,
			 require || local != 0, label, &cause)) == NULL) {
			cJSON_AddItemToArray(errors, cJSON_CreateString(cause));
			free(cause);
			cause = NULL;
			continue;
		}
		f->require_local |= require;
		cJSON_AddItemToArray(done, host_forward_json(f));
	}
	/* Start the relay now, so that a problem shows in `up`'s output and the
	 * first connection does not wait for it; the answer waits for that
	 * (parked), the host's other links do not. Offline (reconnecting): at
	 * the first connection. */
	LIST_FOREACH(f, &h->forwards, entry) {
		if (h->ev != NULL && !f->have_target && !f->gone && ws != NULL &&
		    strcmp(f->workspace, ws) == 0)
			host_forward_resolve_start(h, f);
	}
	if (ws != NULL &&
	    cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(j->req, "auto")))
		host_auto_add(
		    h, ws, config, cJSON_GetObjectItemCaseSensitive(j->req, "auto"));
	host_state_save(h);
	j->resp = resp;
	TAILQ_INSERT_HEAD(&h->parked, j, entry);
	host_forward_parked_check(h);
}

/* Is a forward of ws being resolved? */
static int
host_forward_resolving(struct host_session *h, const char *ws)
{
	struct host_forward *f;

	LIST_FOREACH(f, &h->forwards, entry) {
		if (f->resolving != NULL && !f->gone && ws != NULL &&
		    strcmp(f->workspace, ws) == 0)
			return 1;
	}
	return 0;
}

void
host_forward_parked_check(struct host_session *h)
{
	struct host_job *j, *next;

	for (j = TAILQ_FIRST(&h->parked); j != NULL; j = next) {
		next = TAILQ_NEXT(j, entry);
		if (host_forward_resolving(h, host_json_str(j->req, "workspace")))
			continue;
		TAILQ_REMOVE(&h->parked, j, entry);
		cJSON_DeleteItemFromObjectCaseSensitive(j->resp, "resolveFailed");
		host_send_json(j->fd, PROTO_CONTROL, j->resp);
		cJSON_Delete(j->resp);
		close(j->fd);
		cJSON_Delete(j->req);
		free(j);
	}
}

/* "unforward": {"workspace"?, "local"?} (neither: all) -> {"stopped":N}. */
void
host_forward_remove(struct host_session *h, struct host_job *j)
{
	const char *ws = host_json_str(j->req, "workspace");
	const cJSON *lp = cJSON_GetObjectItemCaseSensitive(j->req, "local");
	cJSON *resp = cJSON_CreateObject(), *res;
	struct host_forward *f;
	int n = 0;

	LIST_FOREACH(f, &h->forwards, entry) {
		if (f->gone || (ws != NULL && strcmp(f->workspace, ws) != 0) ||
		    (cJSON_IsNumber(lp) && lp->valueint != f->local_port))
			continue;
		pthread_mutex_lock(&h->lock);
		f->gone = 1;
		pthread_mutex_unlock(&h->lock);
		n++;
	}
	if (!cJSON_IsNumber(lp))
		host_auto_remove(h, ws);
	host_forward_reap(h);
	n += host_state_forget_errors(h, ws, cJSON_IsNumber(lp) ? lp->valueint : 0);
	host_state_save(h);
	cJSON_AddNumberToObject(resp, "id", j->request_id);
	cJSON_AddBoolToObject(resp, "ok", 1);
	res = cJSON_AddObjectToObject(resp, "result");
	cJSON_AddNumberToObject(res, "stopped", n);
	host_send_json(j->fd, PROTO_CONTROL, resp);
	cJSON_Delete(resp);
}
