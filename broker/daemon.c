/* daemon.c - the broker daemon (daemon.h). */
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <libssh/libssh.h>

#include "agent-install.h"
#include "atomic-file.h"
#include "broker-client.h"
#include "clock.h"
#include "broker-probe.h"
#include "broker-stale.h"
#include "broker-state.h"
#include "broker-sync.h"
#include "buf.h"
#include "error.h"
#include "forward.h"
#include "host-probe.h"
#include "host-session.h"
#include "local-host.h"
#include "json-get.h"
#include "log.h"
#include "proto.h"
#include "proto-conn.h"
#include "runtime-dir.h"
#include "xmalloc.h"

struct broker_host {
	char *key;
	struct host_session *session;
	LIST_ENTRY(broker_host) entry;
};

struct broker {
	struct event_base *base;
	struct broker_daemon_opts opts;
	char *socket_path;
	char *pid_path; /* RUNTIME/broker.pid (broker-stale.h) */
	time_t started;
	/* The current bundle: one reference the slot's, one more each host
	 * session's that installed it (a replaced bundle is freed with the
	 * last). bundle is this thread's own reference to the one it last
	 * saw current: a host session that finds the slot's stale (an upgrade
	 * in place no command has loaded yet) reads it again and makes that
	 * one current (agent_bundle_slot_take_fresh), which
	 * broker_bundle_ready then takes here; NULL: bundle_error says why. */
	struct agent_bundle_slot *bundles;
	struct agent_bundle *bundle;
	char *bundle_error;
	/* A changed bundle that could not be read is tried again from then on
	 * (each try reads and hashes it whole), the old one serving meanwhile */
	long long bundle_retry_ms;
	cJSON *unrestored;	/* saved host entries waiting for a bundle */
	const char *agent_path; /* $RDEV_BROKER_AGENT_PATH (tests) */
	LIST_HEAD(, broker_host) hosts;
	/* ended, their threads still finishing (a ProxyCommand's end): joined
	 * once finished, so the loop never waits on one */
	LIST_HEAD(, broker_host) ending;
	LIST_HEAD(, broker_conn) conns; /* freed at stop if still here */
	struct broker_state *saved;	/* the forwards and watches, saved */
	struct local_host *local;	/* forwards on this machine's engine */
	struct broker_probes probes;	/* "pool-probe" requests being answered */
	struct broker_syncs *syncs;	/* live syncs (`up --sync`) */
	int forget;			/* stop: and forget what is saved */
	/* the sessions' keys, read again only when the ssh config changed */
	struct rdev_ssh_dest_cache *dest_keys;
};

/* A client connection until it is handed to a host session. */
struct broker_conn {
	struct broker *b;
	int fd;
	struct event *ev;
	struct buf *in;
	int hello;
	LIST_ENTRY(broker_conn) entry;
};

static void
broker_conn_free(struct broker_conn *c, int close_fd)
{
	LIST_REMOVE(c, entry);
	if (c->ev != NULL)
		event_free(c->ev);
	if (close_fd)
		close(c->fd);
	buf_free(c->in);
	free(c);
}

static void
broker_conn_send(struct broker_conn *c, enum proto_type type, const cJSON *o)
{
	struct buf *out = buf_new();

	if (proto_encode_json(out, type, 0, o, NULL) == 0 &&
	    send(c->fd, buf_data(out), buf_len(out), MSG_NOSIGNAL) < 0)
		log_debug("client: send: %s", strerror(errno));
	buf_free(out);
}

static void
broker_conn_reply(struct broker_conn *c, int id, cJSON *result, const char *error)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "id", id);
	cJSON_AddBoolToObject(o, "ok", error == NULL);
	if (error != NULL)
		cJSON_AddStringToObject(o, "error", error);
	else
		cJSON_AddItemToObject(
		    o, "result", result != NULL ? result : cJSON_CreateObject());
	broker_conn_send(c, PROTO_CONTROL, o);
	cJSON_Delete(o);
}

/* --- host sessions ------------------------------------------------------ */

static void
broker_host_free(struct broker_host *h)
{
	LIST_REMOVE(h, entry);
	host_session_free(h->session);
	free(h->key);
	free(h);
}

static void broker_hand_moved(struct broker *b, cJSON *moved);

/* Free the sessions that have ended; the forwards of one the ssh config
 * took elsewhere go to the new destination's session (broker_hand_moved),
 * once its own listeners are closed. */
static void
broker_reap(struct broker *b)
{
	struct broker_host *h, *next;
	cJSON *moved;

	for (h = LIST_FIRST(&b->hosts); h != NULL; h = next) {
		next = LIST_NEXT(h, entry);
		if (!host_session_ended(h->session))
			continue;
		LIST_REMOVE(h, entry);
		LIST_INSERT_HEAD(&b->ending, h, entry);
	}
	for (h = LIST_FIRST(&b->ending); h != NULL; h = next) {
		next = LIST_NEXT(h, entry);
		if (!host_session_finished(h->session))
			continue;
		moved = host_session_take_moved(h->session);
		broker_host_free(h);
		if (moved != NULL)
			broker_hand_moved(b, moved);
	}
}

/* The session parameters named by o (a request, or a saved host entry:
 * the same members); its strings are borrowed from o. */
static void
broker_host_params(struct broker *b, const cJSON *o, struct host_session_params *p)
{
	const cJSON *port = cJSON_GetObjectItemCaseSensitive(o, "port");

	memset(p, 0, sizeof *p);
	p->ssh.host = json_get_string(o, "host");
	p->ssh.user = json_get_string(o, "user");
	p->ssh.port = cJSON_IsNumber(port) ? port->valueint : 0;
	p->ssh.ssh_config_file = json_get_string(o, "sshConfig");
	p->ssh.known_hosts_file = json_get_string(o, "knownHosts");
	p->ssh.accept_new_host_key =
	    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "acceptNewHostKey"));
	/* The client's ssh-agent: the broker's own environment may have none,
	 * or one from a login that has ended. */
	p->ssh.auth_sock = json_get_string(o, "authSock");
	if (p->ssh.auth_sock != NULL && p->ssh.auth_sock[0] != '/')
		p->ssh.auth_sock = NULL;
	p->bundles = b->bundles;
	p->idle_timeout_s = b->opts.idle_timeout_s;
	p->agent_path = b->agent_path;
	p->saved = b->saved;
}

static void
broker_host_add(struct broker *b, const struct host_session_params *p, const char *key)
{
	struct broker_host *h = xcalloc(1, sizeof *h);

	h->key = xstrdup(key);
	h->session = host_session_new(p);
	LIST_INSERT_HEAD(&b->hosts, h, entry);
}

/* The local host, with the rdev-agent of the bundle (or the one named for
 * tests) to ask where its forwards go. */
static void
broker_local_new(struct broker *b)
{
	char *agent = NULL;

	if (b->bundle != NULL)
		agent = xasprintf("%s/rdev-agent", agent_bundle_dir(b->bundle));
	else if (b->agent_path != NULL)
		agent = xstrdup(b->agent_path);
	b->local = local_host_new(b->base, agent, b->bundle_error, b->saved);
	free(agent);
}

/* Start a session for saved host entry e, which re-creates its forwards
 * and watches (host-session.h). */
static void
broker_restore_host(struct broker *b, const cJSON *e)
{
	struct host_session_params p;
	char *key;

	broker_host_params(b, e, &p);
	p.restore = e;
	key = host_session_key(b->dest_keys, &p.ssh);
	p.ssh.dest_key = key;
	rdev_ssh_dest_cache_who(b->dest_keys, &p.ssh.dest_local_user, &p.ssh.dest_home);
	broker_host_add(b, &p, key);
	free(key);
}

/* The saved entry of a session the ssh config took elsewhere (moved,
 * taken): its forwards and watches are the user's, made for a workspace,
 * so they go where the alias goes now: restored in a new session for the
 * new destination, or, when a session for it is already there (a command
 * made it meanwhile, with its own forwards), stopped and listed in its
 * status with why. */
static void
broker_hand_moved(struct broker *b, cJSON *moved)
{
	struct host_session_params p;
	struct broker_host *h;
	char *key;
	const char *host = json_get_string(moved, "host");

	broker_host_params(b, moved, &p);
	key = host_session_key(b->dest_keys, &p.ssh);
	LIST_FOREACH(h, &b->hosts, entry) {
		if (strcmp(h->key, key) == 0)
			break;
	}
	if (h == NULL) {
		log_info("host %s: the ssh config took it elsewhere: its forwards "
			 "and watches go to a new session",
		    host != NULL ? host : "?");
		broker_restore_host(b, moved);
	} else {
		log_warn("host %s: the ssh config took it elsewhere, where a session "
			 "is already open: its forwards are stopped",
		    host != NULL ? host : "?");
		host_session_note_unmoved(h->session, moved,
		    "the ssh config took its host elsewhere, where a session was already "
		    "open; forward it again");
	}
	free(key);
	cJSON_Delete(moved);
}

/* Restore the saved host entries kept while there was no bundle (now there
 * is), before any request can make a session of their host. */
static void
broker_restore_waiting(struct broker *b)
{
	const cJSON *e;

	if (b->unrestored == NULL)
		return;
	log_info(
	    "restoring the saved forwards of %d hosts (the agent bundle is here now)",
	    cJSON_GetArraySize(b->unrestored));
	cJSON_ArrayForEach(e, b->unrestored)
		broker_restore_host(b, e);
	cJSON_Delete(b->unrestored);
	b->unrestored = NULL;
}

/* Is there an agent for new sessions? The bundle is (re)loaded here, when
 * needed: it may have been missing when the broker started (a package
 * upgrade's window, a build dir being rebuilt) and be back, or have been
 * replaced by a newer one since it was read. 0, or -1 with *cause naming
 * the path and the fix. */
static int
broker_bundle_ready(struct broker *b, char **cause)
{
	struct agent_bundle *nb;
	char *err = NULL, *agent;

	if (b->agent_path != NULL)
		return 0;
	/* (read again by a host session about to install, meanwhile:
	 * agent_bundle_slot_take_fresh) */
	nb = b->bundle != NULL ? agent_bundle_slot_take(b->bundles) : NULL;
	if (nb != NULL && nb != b->bundle) {
		log_info("agent bundle %s: replaced, now version %s (read by a "
			 "host session)",
		    agent_bundle_dir(nb), agent_bundle_version(nb));
		agent_bundle_free(b->bundle);
		b->bundle = nb;
	} else
		agent_bundle_free(nb);
	if (b->bundle != NULL && !agent_bundle_stale(b->bundle))
		return 0;
	if (b->bundle != NULL && clock_now_ms() < b->bundle_retry_ms)
		return 0;
	if ((nb = agent_bundle_find(&err)) == NULL) {
		if (b->bundle != NULL) {
			/* being replaced (an upgrade's window): the one read
			 * serves until the new one can be read whole, tried
			 * again every 5 s */
			log_info("agent bundle %s changed, not read (the one read "
				 "before serves): %s",
			    agent_bundle_dir(b->bundle), err);
			free(err);
			b->bundle_retry_ms = clock_now_ms() + 5000;
			return 0;
		}
		if (b->bundle_error == NULL || strcmp(err, b->bundle_error) != 0) {
			log_warn("%s", err);
			free(b->bundle_error);
			b->bundle_error = err;
			if (b->local != NULL)
				local_host_set_agent(b->local, NULL, b->bundle_error);
		} else
			free(err);
		return error_set(cause, "%s; " BROKER_BUNDLE_FIX, b->bundle_error);
	}
	if (b->bundle != NULL) {
		log_info("agent bundle %s: replaced, now version %s",
		    agent_bundle_dir(nb), agent_bundle_version(nb));
	} else if (b->bundle_error != NULL)
		log_info("agent bundle %s: loaded, version %s", agent_bundle_dir(nb),
		    agent_bundle_version(nb));
	/* (the one replaced: freed now, or by the last session that
	 * installed it) */
	agent_bundle_slot_set(b->bundles, agent_bundle_ref(nb));
	agent_bundle_free(b->bundle);
	b->bundle = nb;
	free(b->bundle_error);
	b->bundle_error = NULL;
	if (b->local != NULL) {
		agent = xasprintf("%s/rdev-agent", agent_bundle_dir(nb));
		local_host_set_agent(b->local, agent, NULL);
		free(agent);
	}
	broker_restore_waiting(b);
	return 0;
}

/* Start a session for every saved host entry; without an agent bundle an
 * entry waits (listed with the error in status, still saved) until one is
 * loaded. */
static void
broker_restore(struct broker *b)
{
	cJSON *hosts = broker_state_snapshot(b->saved);
	const cJSON *e;
	char *cause = NULL;
	int ready = broker_bundle_ready(b, &cause) == 0;

	cJSON_ArrayForEach(e, hosts) {
		if (local_host_is_for(e)) {
			local_host_restore(b->local, e);
			continue;
		}
		if (ready) {
			broker_restore_host(b, e);
			continue;
		}
		log_warn("host %s: saved forwards not restored yet: %s",
		    json_get_string(e, "host"), b->bundle_error);
		if (b->unrestored == NULL)
			b->unrestored = cJSON_CreateArray();
		cJSON_AddItemToArray(b->unrestored, cJSON_Duplicate(e, 1));
	}
	free(cause);
	cJSON_Delete(hosts);
}

/* The host of saved host entry e as its forwards are labelled while they
 * wait for a bundle: [USER@]HOST as a session not connected yet names it
 * (host_session_new), and :PORT when the entry names a port (a connected
 * session's label, USER@HOST:PORT, has it always). The caller's to free. */
static char *
broker_entry_label(const cJSON *e)
{
	const char *user = json_get_string(e, "user");
	long port;

	if (json_get_int(e, "port", 1, 65535, &port) == 0)
		return xasprintf("%s%s%s:%ld", user != NULL ? user : "",
		    user != NULL ? "@" : "", json_get_string(e, "host"), port);
	return xasprintf("%s%s%s", user != NULL ? user : "", user != NULL ? "@" : "",
	    json_get_string(e, "host"));
}

/* The forwards of the saved host entries that wait for a bundle, as status
 * lists them (with their "host" and "error"), added to forwards. */
static void
broker_status_unrestored(struct broker *b, cJSON *forwards)
{
	const cJSON *e, *fw;
	cJSON *o;
	char *host, *cause;

	if (b->unrestored == NULL)
		return;
	cause = xasprintf(
	    "%s; " BROKER_BUNDLE_FIX ", and then restores this forward", b->bundle_error);
	cJSON_ArrayForEach(e, b->unrestored) {
		host = broker_entry_label(e);
		cJSON_ArrayForEach(fw, cJSON_GetObjectItemCaseSensitive(e, "forwards")) {
			o = forward_restore_error(fw, cause);
			cJSON_AddStringToObject(o, "host", host);
			cJSON_AddItemToArray(forwards, o);
		}
		free(host);
	}
	free(cause);
}

/* Hand fd (made blocking: the host session sets what it needs itself, at
 * once) with request id to the session of the host req names (made when
 * there is none); job is the request for the session (NULL: an agent
 * client). 0 when handed over, else -1 with *cause (fd is the caller's,
 * blocking). connect_timeout_s: a new session's SSH connect bound (0: the
 * ssh_config's ConnectTimeout, else the default). user_client: a user's
 * rdev (a prompt may go to it), not the broker's own probe or sync. */
static int
broker_host_submit(struct broker *b, const cJSON *req, int connect_timeout_s, int fd,
    int id, const cJSON *job, int user_client, char **cause)
{
	struct host_session_params p;
	struct broker_host *h;
	char *key, *who_user, *who_home;
	const char *u, *d;
	int attempt;

	broker_host_params(b, req, &p);
	p.ssh.connect_timeout_s = connect_timeout_s;
	if (p.ssh.host == NULL)
		return error_set(cause, "no host given");
	if (broker_bundle_ready(b, cause) != 0)
		return -1;
	broker_host_params(b, req, &p); /* (its bundle: maybe just loaded) */
	p.ssh.connect_timeout_s = connect_timeout_s;
	broker_reap(b);
	key = host_session_key(b->dest_keys, &p.ssh);
	/* (copies: the reap below may use the cache, which frees its own) */
	rdev_ssh_dest_cache_who(b->dest_keys, &u, &d);
	who_user = xstrdup(u);
	who_home = xstrdup(d);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	for (attempt = 0; attempt < 2; attempt++) {
		LIST_FOREACH(h, &b->hosts, entry) {
			if (strcmp(h->key, key) == 0)
				break;
		}
		if (h == NULL) {
			p.ssh.dest_key = key;
			p.ssh.dest_local_user = who_user;
			p.ssh.dest_home = who_home;
			broker_host_add(b, &p, key);
			h = LIST_FIRST(&b->hosts);
		}
		host_session_set_auth_sock(h->session, p.ssh.auth_sock);
		if (host_session_submit(h->session, fd, id, job,
			(p.ssh.accept_new_host_key ? HOST_SUBMIT_ACCEPT_NEW_KEY : 0) |
			    (user_client ? HOST_SUBMIT_CAN_PROMPT : 0)) == 0) {
			free(key);
			free(who_user);
			free(who_home);
			return 0;
		}
		broker_reap(b); /* it just ended: make a new one */
	}
	free(key);
	free(who_user);
	free(who_home);
	return error_set(cause, "could not start a host session");
}

/* A request for a host ("agent", "forward", "unforward"): hand the
 * connection to the host's session. Returns 1 if the connection was handed
 * over, 0 if answered here. */
static int
broker_op_host(struct broker_conn *c, int id, const cJSON *req, int is_agent)
{
	char *cause = NULL;

	if (broker_host_submit(
		c->b, req, 0, c->fd, id, is_agent ? NULL : req, 1, &cause) == 0)
		return 1;
	fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
	broker_conn_reply(c, id, NULL, cause);
	free(cause);
	return 0;
}

/* Stop the forward at local port local of a saved host entry waiting for a
 * bundle (status lists it with its error): it is forgotten, from the entry
 * and from the saved file, as a restored one's stop would. Returns 1 if
 * answered here (a forward was there), 0 if there is none. */
static int
broker_unforward_unrestored(struct broker_conn *c, int id, long local)
{
	struct broker *b = c->b;
	cJSON *e, *fws, *fw, *req, *resp, *saved;
	char *host, *name, *err, *cause = NULL, *cause2 = NULL;
	const char *shown;
	long port;
	int i;

	cJSON_ArrayForEach(e, b->unrestored) {
		fws = cJSON_GetObjectItemCaseSensitive(e, "forwards");
		for (i = 0; (fw = cJSON_GetArrayItem(fws, i)) != NULL; i++) {
			if (json_get_int(fw, "local", 1, 65535, &port) == 0 &&
			    port == local)
				break;
		}
		if (fw == NULL)
			continue;
		host = broker_entry_label(e);
		/* (named as --list names it: an uploaded workspace as the user
		 * typed it, "HOST: /home/me/app", not by the host's copy) */
		shown = json_get_string(fw, "shown");
		name = shown != NULL
		    ? xstrdup(shown)
		    : xasprintf("%s on %s", json_get_string(fw, "workspace"), host);
		/* (saved first: a forward forgotten here but still in the
		 * file would come back at the broker's restart) */
		saved = cJSON_Duplicate(e, 1);
		cJSON_DeleteItemFromArray(
		    cJSON_GetObjectItemCaseSensitive(saved, "forwards"), i);
		/* (an entry left with no forwards and no watches is removed) */
		if (broker_state_put(b->saved, saved, &cause) != 0) {
			err = xasprintf("cannot forget the saved forward at "
					"localhost:%ld of %s: %s",
			    local, name, cause);
			log_warn("%s", err);
			/* (the store keeps the entry put in memory: the one
			 * still waiting, as before) */
			if (broker_state_put(b->saved, cJSON_Duplicate(e, 1), &cause2) !=
			    0)
				free(cause2);
			broker_conn_reply(c, id, NULL, err);
			free(err);
			free(cause);
			free(host);
			free(name);
			return 1;
		}
		req = cJSON_CreateObject();
		cJSON_AddStringToObject(req, "target",
		    shown != NULL ? shown : json_get_string(fw, "workspace"));
		if (shown == NULL)
			cJSON_AddStringToObject(req, "targetHost", host);
		cJSON_AddBoolToObject(req, "notRestored", 1);
		log_info("stop of local port %ld: the saved forward of %s, "
			 "waiting for the agent bundle",
		    local, name);
		cJSON_DeleteItemFromArray(fws, i);
		if (cJSON_GetArraySize(fws) == 0 &&
		    cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(e, "autos")) == 0)
			cJSON_DetachItemViaPointer(b->unrestored, e);
		else
			e = NULL;
		cJSON_Delete(e);
		if (cJSON_GetArraySize(b->unrestored) == 0) {
			cJSON_Delete(b->unrestored);
			b->unrestored = NULL;
		}
		resp = forward_stopped_answer(id, 1, req);
		broker_conn_send(c, PROTO_CONTROL, resp);
		cJSON_Delete(resp);
		cJSON_Delete(req);
		free(host);
		free(name);
		return 1;
	}
	return 0;
}

/* The "shown" name (the workspace as the user named it: forward.h) of
 * ws's forward at local in the status st, as --list shows it; NULL when it
 * has none. Borrowed from st. */
static const char *
broker_forward_shown(const cJSON *st, long local, const char *ws)
{
	const cJSON *f;
	const char *w;
	long at;

	cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(st, "forwards")) {
		w = json_get_string(f, "workspace");
		if (json_get_int(f, "local", 1, 65535, &at) == 0 && at == local &&
		    w != NULL && strcmp(w, ws) == 0)
			return json_get_string(f, "shown");
	}
	return NULL;
}

/* An "unforward" of a local port on whichever target has it ("anyTarget":
 * `rdev forward --stop PORT` with no TARGET): handed to that host's
 * session (or the local host) as the unforward of that port in its
 * workspace, with the "target" its answer names. Returns 2 if the
 * connection was handed over, 1 if answered here. */
static int
broker_op_unforward_port(struct broker_conn *c, int id, const cJSON *req)
{
	struct broker_host *h;
	cJSON *sts, *st, *job;
	const char *ws, *host, *shown;
	char *target, *err;
	long local;
	int rc = 1, at, not_restored;

	if (json_get_int(req, "local", 1, 65535, &local) != 0) {
		broker_conn_reply(c, id, NULL, "\"anyTarget\" needs a \"local\" port");
		return 1;
	}
	broker_reap(c->b);
	sts = cJSON_CreateArray();
	LIST_FOREACH(h, &c->b->hosts, entry)
		cJSON_AddItemToArray(sts, host_session_status(h->session));
	if ((st = local_host_status(c->b->local)) != NULL)
		cJSON_AddItemToArray(sts, st);
	if ((ws = forward_status_pick(sts, (int)local, &at, &not_restored)) == NULL) {
		cJSON_Delete(sts);
		if (broker_unforward_unrestored(c, id, local))
			return 1;
		err = xasprintf("no forward at local port %ld", local);
		broker_conn_reply(c, id, NULL, err);
		free(err);
		return 1;
	}
	st = cJSON_GetArrayItem(sts, at);
	LIST_FOREACH(h, &c->b->hosts, entry) {
		if (at-- == 0)
			break;
	}
	/* (a host and a workspace apart: "user@host:PORT:/ws" would read as
	 * a TARGET, and is not one; an uploaded workspace as --list names
	 * it, "HOST: /home/me/app", which names its host) */
	host = h != NULL ? json_get_string(st, "host") : NULL;
	if ((shown = broker_forward_shown(st, local, ws)) != NULL)
		host = NULL;
	target = host != NULL ? xasprintf("%s on %s", ws, host) : xstrdup(ws);
	job = cJSON_CreateObject();
	cJSON_AddNumberToObject(job, "id", id);
	cJSON_AddStringToObject(job, "op", "unforward");
	cJSON_AddStringToObject(job, "workspace", ws);
	cJSON_AddNumberToObject(job, "local", (double)local);
	cJSON_AddStringToObject(job, "target", shown != NULL ? shown : ws);
	if (host != NULL)
		cJSON_AddStringToObject(job, "targetHost", host);
	if (not_restored)
		cJSON_AddBoolToObject(job, "notRestored", 1);
	log_info("stop of local port %ld: the %sforward of %s", local,
	    not_restored ? "saved (not restored) " : "", target);
	if (h == NULL) {
		local_host_request(c->b->local, c->fd, id, job);
		rc = 2;
	} else {
		fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) & ~O_NONBLOCK);
		if (host_session_submit(h->session, c->fd, id, job, 0) == 0)
			rc = 2;
		else {
			fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
			broker_conn_reply(
			    c, id, NULL, "the host session ended; try again");
		}
	}
	cJSON_Delete(job);
	cJSON_Delete(sts);
	free(target);
	return rc;
}

/* `rdev doctor`'s "probe" of a host (host-probe.h): answered by a thread of
 * its own, which takes the connection. Returns 2 (handed over), or 1 if
 * answered here. */
static int
broker_op_probe(struct broker_conn *c, int id, const cJSON *req)
{
	struct host_session_params p;

	broker_host_params(c->b, req, &p);
	if (p.ssh.host == NULL) {
		broker_conn_reply(c, id, NULL, "no host given");
		return 1;
	}
	fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) & ~O_NONBLOCK);
	host_probe_start(c->fd, id, &p.ssh);
	return 2;
}

/* broker_probe_submit_fn: one host of a probe, as an "info" job. */
static int
broker_probe_host(
    void *arg, const cJSON *host, int connect_timeout_s, int fd, char **cause)
{
	struct broker *b = arg;
	cJSON *job = cJSON_CreateObject();
	int rc;

	cJSON_AddNumberToObject(job, "id", 1); /* (the agent's request id) */
	cJSON_AddStringToObject(job, "op", "info");
	rc = broker_host_submit(b, host, connect_timeout_s, fd, 1, job, 0, cause);
	cJSON_Delete(job);
	return rc;
}

/* broker_sync_submit_fn: a sync's connection to its host's agent. */
static int
broker_sync_submit(void *arg, const cJSON *host, int fd, int id, char **cause)
{
	return broker_host_submit(arg, host, 0, fd, id, NULL, 0, cause);
}

/* "sync-start", "sync-stop", "sync-status" (broker-sync.h): answered here. */
static void
broker_op_sync(struct broker_conn *c, int id, const char *op, const cJSON *req)
{
	cJSON *result = NULL;
	char *cause = NULL;

	if (strcmp(op, "sync-start") == 0) {
		if (broker_syncs_start(c->b->syncs, req, &result, &cause) != 0) {
			broker_conn_reply(c, id, NULL, cause);
			free(cause);
			return;
		}
	} else if (strcmp(op, "sync-stop") == 0)
		broker_syncs_stop(c->b->syncs, req, &result);
	else {
		result = cJSON_CreateObject();
		cJSON_AddItemToObject(
		    result, "sync", broker_syncs_status(c->b->syncs, req));
	}
	broker_conn_reply(c, id, result, NULL);
}

/* Add a session's status st (taken) to sessions, its forwards (with their
 * "host") to forwards. */
static void
broker_status_add(cJSON *sessions, cJSON *forwards, cJSON *st)
{
	cJSON *list = cJSON_DetachItemFromObjectCaseSensitive(st, "forwards"), *f;
	const cJSON *host = cJSON_GetObjectItemCaseSensitive(st, "host");

	cJSON_AddNumberToObject(st, "forwards", cJSON_GetArraySize(list));
	while ((f = cJSON_DetachItemFromArray(list, 0)) != NULL) {
		cJSON_AddStringToObject(f, "host", host->valuestring);
		cJSON_AddItemToArray(forwards, f);
	}
	cJSON_Delete(list);
	cJSON_AddItemToArray(sessions, st);
}

static cJSON *
broker_status(struct broker *b)
{
	cJSON *o = cJSON_CreateObject(), *arr, *fw, *st, *ab;
	struct broker_host *h;
	char *cause = NULL;
	int ready;

	broker_reap(b);
	cJSON_AddNumberToObject(o, "pid", getpid());
	cJSON_AddStringToObject(o, "socket", b->socket_path);
	cJSON_AddNumberToObject(o, "uptimeSeconds", (double)(time(NULL) - b->started));
	cJSON_AddStringToObject(o, "software", "rdev-broker " RDEV_VERSION);
	arr = cJSON_AddArrayToObject(o, "sessions");
	fw = cJSON_AddArrayToObject(o, "forwards");
	/* (first: a bundle loaded now restores the waiting forwards, which
	 * the lists below then show) */
	ready = broker_bundle_ready(b, &cause);
	LIST_FOREACH(h, &b->hosts, entry)
		broker_status_add(arr, fw, host_session_status(h->session));
	if ((st = local_host_status(b->local)) != NULL)
		broker_status_add(arr, fw, st);
	if (ready != 0) {
		cJSON_AddStringToObject(o, "agentBundleError", b->bundle_error);
		free(cause);
	} else if (b->bundle != NULL) {
		ab = cJSON_AddObjectToObject(o, "agentBundle");
		cJSON_AddStringToObject(ab, "dir", agent_bundle_dir(b->bundle));
		cJSON_AddStringToObject(ab, "version", agent_bundle_version(b->bundle));
		cJSON_AddStringToObject(ab, "hash", agent_bundle_hash(b->bundle));
	}
	broker_status_unrestored(b, fw);
	cJSON_AddItemToObject(o, "syncs", broker_syncs_status(b->syncs, NULL));
	return o;
}

/* --- client connections ------------------------------------------------- */

/* Handle one frame. Returns 1 to keep the connection, 0 to close it, 2 if it
 * was handed over. */
static int
broker_conn_frame(struct broker_conn *c, const struct proto_frame *f)
{
	cJSON *msg, *hello;
	const cJSON *id, *op;
	char *cause = NULL;
	uint32_t version;
	int rc = 1;

	if ((msg = proto_frame_json(f, &cause)) == NULL) {
		log_warn("client: %s", cause);
		free(cause);
		return 0;
	}
	if (!c->hello) {
		if (f->type != PROTO_HELLO ||
		    proto_hello_negotiate(msg, &version, &cause) != 0) {
			cJSON *fatal = cJSON_CreateObject();

			cJSON_AddStringToObject(
			    fatal, "error", cause != NULL ? cause : "expected HELLO");
			broker_conn_send(c, PROTO_FATAL, fatal);
			cJSON_Delete(fatal);
			free(cause);
			cJSON_Delete(msg);
			return 0;
		}
		hello = proto_hello_new("rdev-broker " RDEV_VERSION);
		broker_conn_send(c, PROTO_HELLO, hello);
		cJSON_Delete(hello);
		c->hello = 1;
		cJSON_Delete(msg);
		return 1;
	}
	id = cJSON_GetObjectItemCaseSensitive(msg, "id");
	op = cJSON_GetObjectItemCaseSensitive(msg, "op");
	if (f->type != PROTO_CONTROL || !cJSON_IsNumber(id) || !cJSON_IsString(op)) {
		broker_conn_reply(c, cJSON_IsNumber(id) ? id->valueint : 0, NULL,
		    "expected a request {\"id\":N,\"op\":...}");
	} else if (strcmp(op->valuestring, "agent") == 0) {
		rc = broker_op_host(c, id->valueint, msg, 1) ? 2 : 1;
	} else if (strcmp(op->valuestring, "unforward") == 0 &&
	    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(msg, "anyTarget"))) {
		rc = broker_op_unforward_port(c, id->valueint, msg);
	} else if ((strcmp(op->valuestring, "forward") == 0 ||
		       strcmp(op->valuestring, "unforward") == 0) &&
	    local_host_is_for(msg)) {
		/* this machine's engine: answered on this thread, no SSH */
		local_host_request(c->b->local, c->fd, id->valueint, msg);
		rc = 2;
	} else if (strcmp(op->valuestring, "connect") == 0 && local_host_is_for(msg)) {
		broker_conn_reply(c, id->valueint, NULL,
		    "connect is for a host's containers, not this machine's engine");
	} else if (strcmp(op->valuestring, "forward") == 0 ||
	    strcmp(op->valuestring, "unforward") == 0 ||
	    strcmp(op->valuestring, "connect") == 0) {
		rc = broker_op_host(c, id->valueint, msg, 0) ? 2 : 1;
	} else if (strcmp(op->valuestring, "pool-probe") == 0) {
		/* answered by the probe, when its hosts have answered */
		broker_probe_start(c->b->base, &c->b->probes, c->fd, id->valueint, msg,
		    broker_probe_host, c->b);
		rc = 2;
	} else if (strcmp(op->valuestring, "sync-start") == 0 ||
	    strcmp(op->valuestring, "sync-stop") == 0 ||
	    strcmp(op->valuestring, "sync-status") == 0) {
		broker_op_sync(c, id->valueint, op->valuestring, msg);
	} else if (strcmp(op->valuestring, "status") == 0) {
		broker_conn_reply(c, id->valueint, broker_status(c->b), NULL);
	} else if (strcmp(op->valuestring, "probe") == 0) {
		rc = broker_op_probe(c, id->valueint, msg);
	} else if (strcmp(op->valuestring, "stop") == 0) {
		c->b->forget =
		    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(msg, "forget"));
		log_info("stop requested%s",
		    c->b->forget ? " (forget the saved forwards)" : "");
		broker_conn_reply(c, id->valueint, NULL, NULL);
		event_base_loopexit(c->b->base, NULL);
		rc = 0; /* closed now, not left open (and allocated) at the exit */
	} else {
		char *err = xasprintf("unknown operation \"%s\"", op->valuestring);

		broker_conn_reply(c, id->valueint, NULL, err);
		free(err);
	}
	cJSON_Delete(msg);
	return rc;
}

static void
broker_conn_on_read(evutil_socket_t fd, short what, void *arg)
{
	struct broker_conn *c = arg;
	unsigned char tmp[16384];
	struct proto_frame f;
	size_t used;
	char *cause = NULL;
	ssize_t n;
	int rc;

	n = read(fd, tmp, sizeof tmp);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		broker_conn_free(c, 1);
		return;
	}
	buf_append(c->in, tmp, (size_t)n);
	for (;;) {
		rc = proto_decode(buf_data(c->in), buf_len(c->in), &f, &used, &cause);
		if (rc < 0) {
			log_warn("client: %s", cause);
			free(cause);
			broker_conn_free(c, 1);
			return;
		}
		if (rc == 0)
			return;
		rc = broker_conn_frame(c, &f);
		buf_consume(c->in, used);
		if (rc == 0) {
			broker_conn_free(c, 1);
			return;
		}
		if (rc == 2) {
			/* The host session owns the fd now (made blocking before the
			 * hand-over: the session may already have changed it). */
			broker_conn_free(c, 0);
			return;
		}
	}
}

static void
broker_on_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct broker *b = arg;
	struct broker_conn *c;
	struct ucred cred;
	socklen_t len = sizeof cred;
	int fd;

	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
	    cred.uid != geteuid()) {
		log_warn("refused a connection from uid %d (pid %d)", (int)cred.uid,
		    (int)cred.pid);
		close(fd);
		return;
	}
	c = xcalloc(1, sizeof *c);
	c->b = b;
	c->fd = fd;
	c->in = buf_new();
	LIST_INSERT_HEAD(&b->conns, c, entry);
	c->ev = event_new(b->base, fd, EV_READ | EV_PERSIST, broker_conn_on_read, c);
	event_add(c->ev, NULL);
}

static void
broker_on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct broker *b = arg;

	log_info("signal %d: stopping", (int)sig);
	event_base_loopexit(b->base, NULL);
}

static void
broker_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct broker *b = arg;
	char *cause = NULL;

	broker_reap(b);
	local_host_tick(b->local);
	if (b->unrestored != NULL)
		broker_bundle_ready(b, &cause); /* restores them once it can */
	free(cause);
}

/* --- start -------------------------------------------------------------- */

/* Another process holds the lock: a broker running, starting or exiting
 * (killed, its socket file left behind). Wait until its socket answers a
 * HELLO (1), or until the lock is free and now ours (0: start a new one);
 * -1 if neither happens within 10 s. A connection alone is not an answer:
 * a killed broker's listener takes connections until its exit closes it
 * (a loaded machine may take a while to run that exit), and a start that
 * took one for a running broker started none (`kill -9` then `rdev-broker
 * start`: no broker, 5 tries in 30 here). Its connection then ends
 * unanswered, and the lock soon comes free. */
static int
broker_wait_other(int lock_fd, const char *path)
{
	struct sockaddr_un sa;
	struct proto_conn *c = NULL;
	struct pollfd p;
	char *cause = NULL, b;
	int i, fd, rc = -1;
	ssize_t n;

	if (broker_socket_addr(&sa, path, &cause) != 0) {
		free(cause);
		return -1;
	}
	for (i = 0; i < 200; i++) {
		if (flock(lock_fd, LOCK_EX | LOCK_NB) == 0) {
			rc = 0;
			break;
		}
		if (c == NULL &&
		    (fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0) {
			if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
				close(fd);
			else {
				c = proto_conn_new(fd, "the broker");
				/* (a new connection's buffer takes it: no wait) */
				if (proto_conn_send_hello(
					c, "rdev-broker " RDEV_VERSION, &cause) != 0) {
					free(cause);
					cause = NULL;
					proto_conn_free(c);
					c = NULL;
				}
			}
		}
		if (c == NULL) {
			usleep(50 * 1000);
			continue;
		}
		/* (its HELLO back: running; the end of the connection: it was
		 * exiting, and the lock is looked at again) */
		p = (struct pollfd){ .fd = proto_conn_fd(c), .events = POLLIN };
		if (poll(&p, 1, 50) != 1)
			continue;
		n = recv(p.fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
		if (n == 1) {
			rc = 1;
			break;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		proto_conn_free(c);
		c = NULL;
	}
	proto_conn_free(c);
	return rc;
}

/* Bind the socket and listen on it (before the fork: a client that comes
 * while the broker starts waits in the backlog, never refused). */
static int
broker_bind(const char *path, char **cause)
{
	struct sockaddr_un sa;
	int fd;

	if (broker_socket_addr(&sa, path, cause) != 0)
		return -1;
	/* We hold the lock, so a socket file left here is stale. */
	unlink(path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0)
		return error_set_errno(cause, errno, "socket");
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || chmod(path, 0600) != 0 ||
	    listen(fd, 128) != 0) {
		error_set_errno(cause, errno, "%s", path);
		close(fd);
		return -1;
	}
	return fd;
}

static void
broker_serve(struct broker *b, int lfd)
{
	struct event *accept_ev, *sigterm, *sigint, *timer;
	struct timeval tick = { 5, 0 };
	struct broker_host *h;
	char *cause = NULL;

	accept_ev = event_new(b->base, lfd, EV_READ | EV_PERSIST, broker_on_accept, b);
	sigterm = evsignal_new(b->base, SIGTERM, broker_on_signal, b);
	sigint = evsignal_new(b->base, SIGINT, broker_on_signal, b);
	timer = event_new(b->base, -1, EV_PERSIST, broker_on_timer, b);
	event_add(accept_ev, NULL);
	event_add(sigterm, NULL);
	event_add(sigint, NULL);
	event_add(timer, &tick);
	log_info("listening on %s (pid %d)", b->socket_path, (int)getpid());
	event_base_dispatch(b->base);

	/* Stop: no new clients, then end every session. */
	close(lfd);
	while (!LIST_EMPTY(&b->conns))
		broker_conn_free(LIST_FIRST(&b->conns), 1);
	broker_probe_free_all(&b->probes);
	LIST_FOREACH(h, &b->hosts, entry)
		host_session_stop(h->session);
	while (!LIST_EMPTY(&b->hosts))
		broker_host_free(LIST_FIRST(&b->hosts));
	while (!LIST_EMPTY(&b->ending))
		broker_host_free(LIST_FIRST(&b->ending));
	/* (after the sessions: their ends wake the syncs' batches) */
	if (b->forget)
		broker_syncs_forget(b->syncs);
	broker_syncs_free(b->syncs);
	b->syncs = NULL;
	local_host_free(b->local);
	b->local = NULL;
	/* Not saved on the way out (the sessions' threads save only changes
	 * they make): the next broker restores what we had. */
	if (b->forget && broker_state_clear(b->saved, &cause) != 0) {
		log_warn("%s", cause);
		free(cause);
	}
	/* Last: `rdev-broker stop` waits for this. */
	unlink(b->pid_path);
	unlink(b->socket_path);
	event_free(accept_ev);
	event_free(sigterm);
	event_free(sigint);
	event_free(timer);
	log_info("stopped");
}

/* The paths broker_daemon_start() works out, freed on each of its ways out. */
static void
broker_daemon_paths_free(
    struct broker *b, char *lock_path, char *log_path, char *state_path, char *sync_path)
{
	free(lock_path);
	free(log_path);
	free(state_path);
	free(sync_path);
	free(b->socket_path);
	b->socket_path = NULL;
	free(b->pid_path);
	b->pid_path = NULL;
}

/* Write our pid file (broker-stale.h): the process that serves, after the
 * fork. A failure is only logged: the file is a hint for rdev. */
static void
broker_pid_write(const struct broker *b, int foreground)
{
	char *text, *cause = NULL;

	/* (the unit says so itself: INVOCATION_ID reaches every process of
	 * any service, a terminal's shell included) */
	const char *unit = getenv("RDEV_BROKER_UNIT");

	text = xasprintf("%ld%s\n", (long)getpid(),
	    foreground && unit != NULL && strcmp(unit, "1") == 0 ? " " BROKER_PID_SYSTEMD
								 : "");
	if (atomic_file_write(b->pid_path, text, strlen(text), 0600, &cause) != 0) {
		log_warn("%s", cause);
		free(cause);
	}
	free(text);
}

int
broker_daemon_start(const struct broker_daemon_opts *o, int *already, char **cause)
{
	struct broker b;
	char *lock_path = NULL, *log_path = NULL, *state_path = NULL, *warning, ready;
	char *sync_path = NULL;
	int lock_fd = -1, lfd = -1, pipefd[2] = { -1, -1 }, logfd;
	const char *env;
	pid_t pid;

	*already = 0;
	memset(&b, 0, sizeof b);
	LIST_INIT(&b.hosts);
	LIST_INIT(&b.ending);
	LIST_INIT(&b.conns);
	LIST_INIT(&b.probes);
	b.opts = *o;
	if ((lock_path = runtime_dir_file(BROKER_LOCK_NAME, cause)) == NULL)
		return -1;
	/* One after the other: they share cause, and a second error_set()
	 * would lose the first message without freeing it. */
	if ((b.socket_path = runtime_dir_file(BROKER_SOCKET_NAME, cause)) == NULL ||
	    (log_path = runtime_dir_file(BROKER_LOG_NAME, cause)) == NULL ||
	    (state_path = runtime_dir_file(BROKER_STATE_NAME, cause)) == NULL ||
	    (sync_path = runtime_dir_file(BROKER_SYNC_STATE_NAME, cause)) == NULL ||
	    (b.pid_path = runtime_dir_file(BROKER_PID_NAME, cause)) == NULL)
		goto fail;
	lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lock_fd < 0) {
		error_set_errno(cause, errno, "%s", lock_path);
		goto fail;
	}
	if (flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno != EWOULDBLOCK) {
			error_set_errno(cause, errno, "%s", lock_path);
			goto fail;
		}
		switch (broker_wait_other(lock_fd, b.socket_path)) {
		case 1:
			*already = 1;
			close(lock_fd);
			broker_daemon_paths_free(
			    &b, lock_path, log_path, state_path, sync_path);
			return 0;
		case -1:
			error_set(cause, "a broker holds %s but does not answer on %s",
			    lock_path, b.socket_path);
			goto fail;
		}
	}
	if ((lfd = broker_bind(b.socket_path, cause)) < 0)
		goto fail;
	if (!o->foreground) {
		if (pipe2(pipefd, O_CLOEXEC) != 0) {
			error_set_errno(cause, errno, "pipe");
			goto fail;
		}
		if ((pid = fork()) < 0) {
			error_set_errno(cause, errno, "fork");
			goto fail;
		}
		if (pid > 0) {
			/* The parent: wait until the child is set up. */
			close(pipefd[1]);
			close(lfd);
			close(lock_fd);
			if (read(pipefd[0], &ready, 1) != 1) {
				error_set(cause,
				    "the broker exited while starting (see %s)",
				    log_path);
				close(pipefd[0]);
				broker_daemon_paths_free(
				    &b, lock_path, log_path, state_path, sync_path);
				return -1;
			}
			close(pipefd[0]);
			broker_daemon_paths_free(
			    &b, lock_path, log_path, state_path, sync_path);
			return 0;
		}
		close(pipefd[0]);
		setsid();
		if (chdir("/") != 0) {
			/* harmless */
		}
		logfd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		int nullfd = open("/dev/null", O_RDWR);
		dup2(nullfd, 0);
		dup2(nullfd, 1);
		dup2(logfd >= 0 ? logfd : nullfd, 2);
		if (nullfd > 2)
			close(nullfd);
		if (logfd > 2)
			close(logfd);
	}
	signal(SIGPIPE, SIG_IGN);
	ssh_init();
	b.started = time(NULL);
	b.base = event_base_new();
	b.dest_keys = rdev_ssh_dest_cache_new();
	env = getenv("RDEV_BROKER_AGENT_PATH");
	b.agent_path = env != NULL && *env == '/' ? env : NULL;
	b.bundles = agent_bundle_slot_new();
	if (b.agent_path == NULL &&
	    (b.bundle = agent_bundle_find(&b.bundle_error)) == NULL)
		log_warn("%s", b.bundle_error); /* (tried again when needed) */
	agent_bundle_slot_set(b.bundles, agent_bundle_ref(b.bundle));
	b.saved = broker_state_open(state_path, &warning);
	if (warning != NULL) {
		log_warn("%s", warning);
		free(warning);
	}
	broker_local_new(&b);
	broker_restore(&b);
	b.syncs = broker_syncs_new(b.base, sync_path, broker_sync_submit, &b);
	broker_syncs_restore(b.syncs);
	broker_pid_write(&b, o->foreground);
	if (pipefd[1] >= 0) {
		if (write(pipefd[1], "r", 1) != 1) {
			/* the parent is gone; serve anyway */
		}
		close(pipefd[1]);
	}
	broker_serve(&b, lfd);
	broker_state_free(b.saved);
	event_base_free(b.base);
	rdev_ssh_dest_cache_free(b.dest_keys);
	agent_bundle_slot_free(b.bundles); /* (the sessions are freed) */
	agent_bundle_free(b.bundle);
	free(b.bundle_error);
	cJSON_Delete(b.unrestored);
	close(lock_fd);
	broker_daemon_paths_free(&b, lock_path, log_path, state_path, sync_path);
	ssh_finalize();
	if (!o->foreground)
		exit(0);
	return 0;
fail:
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	if (lfd >= 0)
		close(lfd);
	if (lock_fd >= 0)
		close(lock_fd);
	broker_daemon_paths_free(&b, lock_path, log_path, state_path, sync_path);
	return -1;
}
