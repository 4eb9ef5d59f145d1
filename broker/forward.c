/* forward.c - a port forward's data as both kinds of host keep it, show it
 * and save it, and the relay's answer and header (forward.h). */
#include "forward.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "atomic-file.h"
#include "buf.h"
#include "clock.h"
#include "config-discover.h"
#include "error.h"
#include "json-get.h"
#include "log.h"
#include "proto.h"
#include "xmalloc.h"

static char *
forward_strdup(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

static void
forward_add_string(cJSON *o, const char *name, const char *value)
{
	if (value != NULL)
		cJSON_AddStringToObject(o, name, value);
}

void
forward_init(struct forward *fw, const char *ws, const char *config)
{
	memset(fw, 0, sizeof *fw);
	fw->workspace = xstrdup(ws);
	fw->config = forward_strdup(config);
	fw->config_key = forward_config_key(ws, config);
	fw->fd4 = fw->fd6 = -1;
}

void
forward_set_id_labels(struct forward *fw, const cJSON *id_labels)
{
	cJSON_Delete(fw->id_labels);
	fw->id_labels = cJSON_IsArray(id_labels) ? cJSON_Duplicate(id_labels, 1) : NULL;
}

/* Are two config keys (forward_config_key; NULL: the default) the same? */
static int
forward_config_keys_same(const char *a, const char *b)
{
	return a == NULL || b == NULL ? a == b : strcmp(a, b) == 0;
}

static void forward_set_string_locked(
    char **slot, const char *value, pthread_mutex_t *lock);

/* Are a and b (either may be NULL) the same string? */
static int
forward_strings_same(const char *a, const char *b)
{
	return a == NULL || b == NULL ? a == b : strcmp(a, b) == 0;
}

/* fw's container is now the one config and id_labels name (with hint):
 * when that is another, its target is dropped, a relay request in flight
 * (asked with the old ones) followed by another, and the old container's
 * last_error cleared (under lock, when there is one). */
static void
forward_set_container(struct forward *fw, const char *config, const cJSON *id_labels,
    const char *hint, const char *shown, pthread_mutex_t *lock)
{
	char *key = forward_config_key(fw->workspace, config);

	if (!forward_config_keys_same(fw->config_key, key) ||
	    !forward_id_labels_same(fw->id_labels, id_labels)) {
		fw->have_target = 0;
		fw->checked_ms = 0;
		if (fw->asked_ms != 0)
			fw->check_again = 1;
		/* (a stale "not running" of the old one was listed after a
		 * recreate; only this thread writes it: read without lock) */
		if (fw->last_error != NULL)
			forward_set_last_error(fw, NULL, FORWARD_ERROR_CONNECTION, lock);
		/* (the new container's first failure is warned of again) */
		free(fw->warned);
		fw->warned = NULL;
	}
	free(fw->config);
	fw->config = forward_strdup(config);
	free(fw->config_key);
	fw->config_key = key;
	forward_set_id_labels(fw, id_labels);
	free(fw->hint);
	fw->hint = forward_strdup(hint);
	if (!forward_strings_same(fw->shown, shown))
		forward_set_string_locked(&fw->shown, shown, lock);
}

void
forward_take_request_fields(struct forward *fw, const cJSON *from, pthread_mutex_t *lock)
{
	/* (a forward there already now goes to the request's container) */
	forward_set_container(fw, json_get_string(from, "config"),
	    cJSON_GetObjectItemCaseSensitive(from, "idLabels"),
	    json_get_string(from, "hint"), json_get_string(from, "shown"), lock);
}

void
forward_take_fields_of(
    struct forward *fw, const struct forward *from, pthread_mutex_t *lock)
{
	forward_set_container(
	    fw, from->config, from->id_labels, from->hint, from->shown, lock);
}

/* What names fw's workspace to the agent, into o: "workspace", "config",
 * "idLabels", "hint" (the up command its "no dev container" message names)
 * and "service". */
static void
forward_add_workspace(cJSON *o, const struct forward *fw)
{
	cJSON_AddStringToObject(o, "workspace", fw->workspace);
	forward_add_string(o, "config", fw->config);
	if (fw->id_labels != NULL)
		cJSON_AddItemToObject(o, "idLabels", cJSON_Duplicate(fw->id_labels, 1));
	forward_add_string(o, "hint", fw->hint);
	forward_add_string(o, "service", fw->service);
}

cJSON *
forward_relay_request(const struct forward *fw)
{
	cJSON *req = cJSON_CreateObject();

	cJSON_AddStringToObject(req, "op", "relay");
	forward_add_workspace(req, fw);
	if (fw->have_target && fw->service == NULL && fw->container_id != NULL) {
		cJSON_AddStringToObject(req, "containerId", fw->container_id);
		cJSON_AddStringToObject(req, "address", fw->address);
		/* (a target that does not hold is said at once, before the
		 * relay's start in the new container: forward_take_target) */
		cJSON_AddBoolToObject(req, "checkOnly", 1);
	}
	if (fw->not_relay != 0)
		cJSON_AddNumberToObject(req, "notRelay", fw->not_relay);
	return req;
}

int
forward_relay_status_ok(unsigned char status)
{
	return status <= 2;
}

const char *
forward_relay_status_error(unsigned char status)
{
	/* (2 is any other error, a connect the relay gave up after
	 * RELAY_CONNECT_TIMEOUT_MS too: a server whose accept queue stays
	 * full; the relay does not say which) */
	return status == 1
	    ? "nothing listens on that port in the container"
	    : "the relay could not connect to that port in the container (an "
	      "error, or not accepted in " RELAY_CONNECT_TIMEOUT_TEXT ")";
}

/* Is address (NULL: not known) and port fw's relay target now? A
 * connection made to an older target says nothing of the relay since
 * taken. */
static int
forward_relay_is_target(const struct forward *fw, const char *address, int port)
{
	return fw->service == NULL && fw->have_target && port == fw->target_port &&
	    (address == NULL || fw->address == NULL || strcmp(address, fw->address) == 0);
}

void
forward_not_relay(struct forward *fw, const char *address, int port)
{
	if (!forward_relay_is_target(fw, address, port))
		return;
	log_warn("forward %d of %s: %s:%d answers, but not as the container's relay "
		 "(gone, and its port taken?): asking the agent for a new one",
	    fw->port, fw->workspace, fw->address, fw->target_port);
	fw->not_relay = fw->target_port;
	fw->have_target = 0;
}

int
forward_relay_status_ms(void)
{
	return clock_env_ms("RDEV_FORWARD_RELAY_STATUS_MS", FORWARD_RELAY_STATUS_MS);
}

int
forward_precheck_ms(void)
{
	return clock_env_ms("RDEV_FORWARD_PRECHECK_MS", FORWARD_PRECHECK_MS);
}

int
forward_target_check_ms(void)
{
	return clock_env_ms("RDEV_FORWARD_TARGET_CHECK_MS", FORWARD_TARGET_CHECK_MS);
}

void
forward_relay_silent(struct forward *fw, const char *address, int port)
{
	const char *at = address != NULL ? address : fw->address;

	log_warn("forward %d of %s: no answer from the relay at %s:%d in %d ms "
		 "(its own connect gives up sooner): closing the connection, "
		 "asking the agent again",
	    fw->port, fw->workspace, at != NULL ? at : "?", port,
	    forward_relay_status_ms());
	/* Not notRelay: a live relay may be slow (a loaded machine), and the
	 * agent's probe tells it from a silent program (which never answers
	 * the probe's 'L': then a new relay) without replacing it. */
	if (forward_relay_is_target(fw, address, port))
		fw->have_target = 0;
}

int
forward_open(struct forward *fw, const char *ws, const char *config,
    const struct forward_spec *s, int exact, char **cause)
{
	int fd4, fd6, bound;

	if (forward_listen(s->local_port != 0 ? s->local_port : s->port, exact, &fd4,
		&fd6, &bound, cause) != 0) {
		error_prefix(cause, "port %d%s%s", s->port,
		    s->service != NULL ? " of service " : "",
		    s->service != NULL ? s->service : "");
		return -1;
	}
	forward_init(fw, ws, config);
	fw->service = forward_strdup(s->service);
	fw->port = s->port;
	fw->local_port = bound;
	fw->label = forward_strdup(s->label);
	fw->fd4 = fd4;
	fw->fd6 = fd6;
	return 0;
}

/* *slot becomes a copy of value (NULL: none), under lock when there is
 * one (forward_json reads such strings on the status thread); the old one
 * is freed. */
static void
forward_set_string_locked(char **slot, const char *value, pthread_mutex_t *lock)
{
	char *old, *copy = value != NULL ? xstrdup(value) : NULL;

	if (lock != NULL)
		pthread_mutex_lock(lock);
	old = *slot;
	*slot = copy;
	if (lock != NULL)
		pthread_mutex_unlock(lock);
	free(old);
}

void
forward_set_last_error(struct forward *fw, const char *cause,
    enum forward_error_from from, pthread_mutex_t *lock)
{
	/* (the two together: status never shows one's text with the
	 * other's source) */
	if (lock != NULL)
		pthread_mutex_lock(lock);
	fw->last_error_from = from;
	forward_set_string_locked(&fw->last_error, cause, NULL);
	if (lock != NULL)
		pthread_mutex_unlock(lock);
}

void
forward_check_answered(struct forward *fw, const char *cause,
    enum forward_error_from from, pthread_mutex_t *lock)
{
	/* (a target confirmed says nothing of the connection that failed:
	 * only one that gets through clears it) */
	if (cause == NULL && fw->last_error != NULL &&
	    fw->last_error_from == FORWARD_ERROR_CONNECTION_FAILED)
		return;
	forward_set_last_error(fw, cause, from, lock);
}

void
forward_connection_failed(
    struct forward *fw, const char *label, const char *why, pthread_mutex_t *lock)
{
	int again = fw->warned != NULL && strcmp(fw->warned, why) == 0;

	if (fw->fd4 < 0 && fw->fd6 < 0) {
		log_info("%s: connect to port %d of %s: %s", label, fw->port,
		    fw->workspace, why);
		return;
	}
	if (again)
		log_info(
		    "forward %d (%s, port %d): %s", fw->local_port, label, fw->port, why);
	else {
		log_warn("forward %d (%s, port %d): a connection failed: %s",
		    fw->local_port, label, fw->port, why);
		free(fw->warned);
		fw->warned = xstrdup(why);
	}
	forward_set_last_error(fw, why, FORWARD_ERROR_CONNECTION_FAILED, lock);
}

void
forward_connection_ok(struct forward *fw, pthread_mutex_t *lock)
{
	free(fw->warned);
	fw->warned = NULL;
	if (fw->last_error != NULL &&
	    fw->last_error_from == FORWARD_ERROR_CONNECTION_FAILED)
		forward_set_last_error(fw, NULL, FORWARD_ERROR_CONNECTION, lock);
}

void
forward_clear(struct forward *fw)
{
	if (fw->fd4 >= 0)
		close(fw->fd4);
	if (fw->fd6 >= 0)
		close(fw->fd6);
	free(fw->workspace);
	free(fw->config);
	free(fw->config_key);
	cJSON_Delete(fw->id_labels);
	free(fw->hint);
	free(fw->shown);
	free(fw->service);
	free(fw->label);
	free(fw->auto_action);
	free(fw->last_error);
	free(fw->warned);
	free(fw->address);
	free(fw->container_id);
	sodium_memzero(fw->token, sizeof fw->token);
	memset(fw, 0, sizeof *fw);
	fw->fd4 = fw->fd6 = -1;
}

/* The folder of workspace ws as config_discover_normal gives it, with "~" and
 * "~/x" as the relative "" and "x": the agent makes them its home's
 * (agent_op_workspace), the folder it runs in, against which it resolves
 * a relative workspace or --config too. New string. */
static char *
forward_workspace_folder(const char *ws)
{
	if (ws[0] == '~' && (ws[1] == '\0' || ws[1] == '/')) {
		for (ws++; *ws == '/'; ws++)
			;
	}
	return config_discover_normal(ws);
}

char *
forward_config_key(const char *ws, const char *config)
{
	char *key, *folder, *deflt;

	if (config == NULL)
		return NULL;
	key = config_discover_normal(config);
	if (ws == NULL)
		return key;
	/* (discovery takes .devcontainer/devcontainer.json whenever it is
	 * there, and it is when named; .devcontainer.json only when that one is
	 * not, which the broker cannot see on a host: it stays another key, at
	 * worst a move to the same container) */
	folder = forward_workspace_folder(ws);
	deflt = xasprintf("%s%s" FORWARD_DEFAULT_CONFIG, folder,
	    folder[0] == '\0' || strcmp(folder, "/") == 0 ? "" : "/");
	if (strcmp(key, deflt) == 0) {
		free(key);
		key = NULL;
	}
	free(deflt);
	free(folder);
	return key;
}

/* Is every string of a in b? */
static int
forward_labels_within(const cJSON *a, const cJSON *b)
{
	const cJSON *e, *f;
	int found;

	cJSON_ArrayForEach(e, a) {
		found = 0;
		cJSON_ArrayForEach(f, b) {
			if (cJSON_Compare(e, f, 1)) {
				found = 1;
				break;
			}
		}
		if (!found)
			return 0;
	}
	return 1;
}

int
forward_id_labels_same(const cJSON *a, const cJSON *b)
{
	if (!cJSON_IsArray(a))
		a = NULL;
	if (!cJSON_IsArray(b))
		b = NULL;
	if (a == NULL || b == NULL)
		return a == b;
	return forward_labels_within(a, b) && forward_labels_within(b, a);
}

void
forward_key_of_request(struct forward_key *k, const cJSON *req)
{
	const char *ws = json_get_string(req, "workspace");
	const cJSON *ids = cJSON_GetObjectItemCaseSensitive(req, "idLabels");

	k->workspace = forward_strdup(ws);
	k->config_key = forward_config_key(ws, json_get_string(req, "config"));
	k->id_labels = cJSON_IsArray(ids) ? cJSON_Duplicate(ids, 1) : NULL;
}

void
forward_key_of(struct forward_key *k, const struct forward *fw)
{
	k->workspace = xstrdup(fw->workspace);
	k->config_key = forward_strdup(fw->config_key);
	k->id_labels = fw->id_labels != NULL ? cJSON_Duplicate(fw->id_labels, 1) : NULL;
}

void
forward_key_clear(struct forward_key *k)
{
	free(k->workspace);
	free(k->config_key);
	cJSON_Delete(k->id_labels);
	memset(k, 0, sizeof *k);
}

int
forward_of(const struct forward *fw, const struct forward_key *k)
{
	return k->workspace != NULL && strcmp(fw->workspace, k->workspace) == 0 &&
	    forward_config_keys_same(fw->config_key, k->config_key) &&
	    forward_id_labels_same(fw->id_labels, k->id_labels);
}

int
forward_same(const struct forward *fw, const char *ws, const char *service, int port)
{
	return !fw->gone && strcmp(fw->workspace, ws) == 0 && fw->port == port &&
	    ((fw->service == NULL && service == NULL) ||
		(fw->service != NULL && service != NULL &&
		    strcmp(fw->service, service) == 0));
}

int
forward_stopped_by(const struct forward *fw, const char *ws, int local)
{
	return !fw->gone && (ws == NULL || strcmp(fw->workspace, ws) == 0) &&
	    (local == 0 || local == fw->local_port);
}

/* The members a listed forward and a restore error share. */
static cJSON *
forward_json_head(int local, const char *service, int port, const char *ws)
{
	cJSON *o = cJSON_CreateObject();
	char *spec = forward_spec_string(local, service, port);

	cJSON_AddStringToObject(o, "spec", spec);
	free(spec);
	cJSON_AddNumberToObject(o, "local", local);
	cJSON_AddNumberToObject(o, "port", port);
	if (service != NULL)
		cJSON_AddStringToObject(o, "service", service);
	else
		cJSON_AddNullToObject(o, "service");
	cJSON_AddStringToObject(o, "workspace", ws);
	return o;
}

cJSON *
forward_json(const struct forward *fw)
{
	cJSON *o =
	    forward_json_head(fw->local_port, fw->service, fw->port, fw->workspace);

	forward_add_string(o, "label", fw->label);
	forward_add_string(o, "shown", fw->shown);
	cJSON_AddStringToObject(
	    o, "listen", fw->fd6 >= 0 ? "127.0.0.1,::1" : "127.0.0.1");
	if (fw->auto_action != NULL) {
		cJSON_AddStringToObject(o, "onAutoForward", fw->auto_action);
		if (strcmp(fw->auto_action, "openBrowser") == 0 ||
		    strcmp(fw->auto_action, "openBrowserOnce") == 0) {
			char *url = xasprintf("http://localhost:%d/", fw->local_port);

			cJSON_AddStringToObject(o, "url", url);
			free(url);
		}
	}
	forward_add_string(o, "lastError", fw->last_error);
	if (fw->last_error != NULL)
		cJSON_AddStringToObject(o, "lastErrorFrom",
		    fw->last_error_from == FORWARD_ERROR_CHECK ? "check" : "connection");
	cJSON_AddNumberToObject(o, "connections", (double)fw->connections);
	cJSON_AddNumberToObject(o, "direct", (double)fw->direct);
	cJSON_AddNumberToObject(o, "relayed", (double)fw->relayed);
	cJSON_AddNumberToObject(o, "viaExec", (double)fw->via_exec);
	cJSON_AddNumberToObject(o, "active", fw->active);
	return o;
}

cJSON *
forward_saved_json(const struct forward *fw)
{
	cJSON *o = cJSON_CreateObject();

	forward_add_workspace(o, fw);
	forward_add_string(o, "shown", fw->shown);
	cJSON_AddNumberToObject(o, "port", fw->port);
	cJSON_AddNumberToObject(o, "local", fw->local_port);
	if (fw->require_local)
		cJSON_AddBoolToObject(o, "requireLocal", 1);
	forward_add_string(o, "label", fw->label);
	forward_add_string(o, "onAutoForward", fw->auto_action);
	return o;
}

/* --- the relay ------------------------------------------------------------ */

/* Decode the relay's token: exactly len * 2 hex digits and nothing else
 * (sscanf's "%2x" let spaces, signs, "0x" and a lone digit through: " f0b"
 * was f0 0b, "-10b" ff 0b). sodium_hex2bin stops at the first other
 * character; the count and end checks make that a failure in every
 * libsodium version. 0, or -1 (out then undefined). */
static int
forward_hex_decode(const char *hex, unsigned char *out, size_t len)
{
	const char *end = NULL;
	size_t got = 0;

	if (hex == NULL || strlen(hex) != len * 2 ||
	    sodium_hex2bin(out, len, hex, len * 2, NULL, &got, &end) != 0)
		return -1;
	return got == len && end == hex + len * 2 ? 0 : -1;
}

int
forward_relay_parse(const cJSON *res, int service, char **address, int *port,
    unsigned char token[FORWARD_RELAY_TOKEN_LEN])
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
		forward_hex_decode(cJSON_IsString(tok) ? tok->valuestring : NULL, token,
		    FORWARD_RELAY_TOKEN_LEN) != 0))
		return -1;
	*address = xstrdup(addr->valuestring);
	*port = service ? 0 : (int)p->valuedouble;
	return 0;
}

int
forward_take_target(struct forward *fw, const cJSON *res)
{
	unsigned char token[FORWARD_RELAY_TOKEN_LEN] = { 0 };
	const cJSON *cid;
	char *address;
	int port, same;

	cid = cJSON_GetObjectItemCaseSensitive(res, "containerId");
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(res, "changed"))) {
		/* The check found the target stale (another container, or the
		 * relay gone with a restart): it is dropped, so that no
		 * connection goes there while the agent starts the relay in
		 * full (seconds, maybe: longer than forward_check_bound); the
		 * caller asks again in full. */
		if (fw->have_target && cJSON_IsString(cid))
			log_info("forward %d of %s: the check finds its target stale "
				 "(the container is %.12s now): asking for the new "
				 "one",
			    fw->port, fw->workspace, cid->valuestring);
		fw->have_target = 0;
		return FORWARD_TARGET_DROPPED;
	}
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(res, "unchanged"))) {
		/* A connection refused while the check was in flight dropped
		 * the target (its relay is gone): the answer confirms nothing,
		 * and the caller asks again in full. */
		if (!fw->have_target && fw->container_id != NULL)
			return FORWARD_TARGET_DROPPED;
		if (!fw->have_target || fw->container_id == NULL ||
		    !cJSON_IsString(cid) ||
		    strcmp(cid->valuestring, fw->container_id) != 0)
			return -1;
		fw->checked_ms = clock_now_ms();
		return 0;
	}
	if (forward_relay_parse(res, fw->service != NULL, &address, &port, token) != 0)
		return -1;
	if (fw->container_id != NULL && cJSON_IsString(cid) &&
	    strcmp(cid->valuestring, fw->container_id) != 0)
		log_info("forward %d of %s: the container is now %.12s (was %.12s)",
		    fw->port, fw->workspace, cid->valuestring, fw->container_id);
	/* The target it has, answered again (a Compose service's always is:
	 * it is never asked with "unchanged"): the connections opened to it
	 * went to this one, and are not moved (host-forward.c reopened each,
	 * every forward_check_bound, while a service's open went unanswered). */
	same = fw->have_target && fw->address != NULL &&
	    strcmp(fw->address, address) == 0 &&
	    fw->target_port == (fw->service == NULL ? port : fw->port) &&
	    (fw->service != NULL || sodium_memcmp(fw->token, token, sizeof token) == 0) &&
	    (fw->container_id == NULL ? !cJSON_IsString(cid)
				      : cJSON_IsString(cid) &&
			strcmp(cid->valuestring, fw->container_id) == 0);
	free(fw->address);
	fw->address = address;
	free(fw->container_id);
	fw->container_id = cJSON_IsString(cid) ? xstrdup(cid->valuestring) : NULL;
	memcpy(fw->token, token, sizeof token);
	sodium_memzero(token, sizeof token);
	fw->target_port = fw->service == NULL ? port : fw->port;
	fw->have_target = 1;
	if (!same)
		fw->target_seq++;
	fw->not_relay = 0;
	fw->checked_ms = clock_now_ms();
	fw->direct_retry_ms = 0;
	return 0;
}

/* A target is the container it was asked for, and may have stopped being
 * the workspace's (`rdev up --recreate`, `down` + `up`, `docker rm`): its
 * address then leads nowhere, or to another container that got that
 * address, and the wrong one answers. A connection that fails asks again
 * (have_target 0), which mends the first case only; the second needs the
 * agent's word. Asking before every connection would be exact, but costs
 * each one an agent call (a channel open and a Docker lookup: 2 round
 * trips to the host, about the whole setup time of a forwarded connection
 * on a LAN); so the agent is asked when the target is older than
 * FORWARD_TARGET_CHECK_MS, and only to confirm the container's id and
 * address (the relay is left alone), the connections of that moment
 * held for the one answer (their channels opened beside it: host_link's
 * hold). A recreate takes seconds (remove, create,
 * start, lifecycle), so a target used across it was asked for before it
 * began: a connection later than the check interval after the old
 * container went reaches the new one; a burst (a page's connections) pays
 * one check. */
int
forward_target_fresh(const struct forward *fw)
{
	return fw->have_target &&
	    clock_now_ms() - fw->checked_ms < forward_target_check_ms();
}

/* The wait for a check is bounded: an agent that is stopped, stuck or
 * slow (a host under load, the session being restarted) must not stop a
 * forward that has somewhere to go, as it did not before targets were
 * checked. An agent that answers, answers in about the time it took last:
 * the bound is a few times that (a host under load answers slower, and is
 * waited for longer), at least FORWARD_CHECK_WAIT_MS (a check took
 * 37-107 ms on the test rig at a load of 15, 2 cores) and at most
 * FORWARD_CHECK_WAIT_MAX_MS. Right after `up --recreate` it took 1.8 s
 * there: `up` itself has the broker check the workspace's targets first
 * (an empty "forward" request), so that is not left to this bound.
 * Past it, the target the forward has is the best guess, and the one check
 * in flight serves every connection until its answer. A target the agent
 * finds stale is no guess: it says so before it starts the relay in the
 * new container ("changed": forward_take_target drops the target), and the
 * connections wait for that start, which may take longer than the bound. */
long long
forward_check_bound(const struct forward *fw)
{
	long long b = fw->answer_ms * FORWARD_CHECK_WAIT_FACTOR;

	return b < FORWARD_CHECK_WAIT_MS    ? FORWARD_CHECK_WAIT_MS
	    : b > FORWARD_CHECK_WAIT_MAX_MS ? FORWARD_CHECK_WAIT_MAX_MS
					    : b;
}

long long
forward_target_wait(const struct forward *fw, long long now)
{
	long long left;

	if (!fw->have_target)
		return -1;
	if (now - fw->checked_ms < forward_target_check_ms())
		return 0;
	if (fw->asked_ms == 0)
		return forward_check_bound(fw);
	left = fw->asked_ms + forward_check_bound(fw) - now;
	return left > 0 ? left : 0;
}

void
forward_asked(struct forward *fw, long long now)
{
	fw->asked_ms = now > 0 ? now : 1;
}

void
forward_answered(struct forward *fw, long long now, int answered)
{
	if (answered && fw->asked_ms != 0)
		fw->answer_ms = now - fw->asked_ms;
	fw->asked_ms = 0;
}

size_t
forward_relay_header(const unsigned char token[FORWARD_RELAY_TOKEN_LEN], char cmd,
    int port, unsigned char out[FORWARD_RELAY_HEADER_MAX])
{
	size_t n = 8 + FORWARD_RELAY_TOKEN_LEN;

	memcpy(out, FORWARD_RELAY_MAGIC, 8);
	memcpy(out + 8, token, FORWARD_RELAY_TOKEN_LEN);
	out[n++] = (unsigned char)cmd;
	if (cmd == 'C') {
		out[n++] = (unsigned char)(port >> 8);
		out[n++] = (unsigned char)(port & 0xff);
	}
	return n;
}

int
forward_direct_due(const struct forward *fw)
{
	return fw->service == NULL && clock_now_ms() >= fw->direct_retry_ms;
}

/* --- requests and restores ------------------------------------------------- */

int
forward_request_adds(const cJSON *req)
{
	return cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(req, "forwards")) >
	    0 ||
	    cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(req, "auto"));
}

int
forward_requests_overlap(const cJSON *a, const cJSON *b)
{
	const char *wa = json_get_string(a, "workspace");
	const char *wb = json_get_string(b, "workspace");

	return wa == NULL || wb == NULL || strcmp(wa, wb) == 0;
}

int
forward_request_is_forward(const cJSON *req)
{
	const char *op = json_get_string(req, "op");

	return op != NULL && strcmp(op, "forward") == 0;
}

cJSON *
forward_resolve_request(const cJSON *req)
{
	cJSON *r = cJSON_CreateObject();
	const cJSON *ids = cJSON_GetObjectItemCaseSensitive(req, "idLabels");

	cJSON_AddStringToObject(r, "op", "relay");
	forward_add_string(r, "workspace", json_get_string(req, "workspace"));
	forward_add_string(r, "config", json_get_string(req, "config"));
	if (cJSON_IsArray(ids))
		cJSON_AddItemToObject(r, "idLabels", cJSON_Duplicate(ids, 1));
	forward_add_string(r, "hint", json_get_string(req, "hint"));
	/* (an older agent does not know it, and starts the relay: the same
	 * answer as far as this look goes) */
	cJSON_AddBoolToObject(r, "resolveOnly", 1);
	/* (`rdev forward PORT`: its ports' attributes, from the same look) */
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req, "attributes")))
		cJSON_AddBoolToObject(r, "includePorts", 1);
	return r;
}

void
forward_request_take_attributes(cJSON *req, const cJSON *look, const char *error)
{
	const cJSON *ports = cJSON_GetObjectItemCaseSensitive(look, "ports");
	const cJSON *port, *local;
	struct forward_port_attrs pa;
	cJSON *e;

	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req, "attributes")))
		return;
	if (error != NULL || !cJSON_IsObject(ports)) {
		/* (told: a label or requireLocalPort silently left out reads
		 * as applied) */
		cJSON_DeleteItemFromObjectCaseSensitive(req, FORWARD_ATTRIBUTES_UNREAD);
		cJSON_AddStringToObject(req, FORWARD_ATTRIBUTES_UNREAD,
		    error != NULL ? error
				  : "the agent gave none: an older rdev-agent, or the "
				    "configuration could not be read");
		return;
	}
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(req, "forwards")) {
		port = cJSON_GetObjectItemCaseSensitive(e, "port");
		local = cJSON_GetObjectItemCaseSensitive(e, "local");
		if (!cJSON_IsNumber(port))
			continue;
		forward_port_attributes(
		    cJSON_GetObjectItemCaseSensitive(ports, "portsAttributes"),
		    cJSON_GetObjectItemCaseSensitive(ports, "otherPortsAttributes"),
		    port->valueint, &pa);
		if (pa.label != NULL && !cJSON_HasObjectItem(e, "label"))
			cJSON_AddStringToObject(e, "label", pa.label);
		/* (a LOCAL given is exact already) */
		if (pa.require_local_port == 1 && !cJSON_IsNumber(local) &&
		    !cJSON_HasObjectItem(e, "requireLocal"))
			cJSON_AddBoolToObject(e, "requireLocal", 1);
	}
}

/* A spec as the user types it: "[LOCAL:][SERVICE:]PORT" (local 0: none).
 * New string. */
static char *
forward_typed_spec(int local, const char *service, int port)
{
	if (local != 0)
		return forward_spec_string(local, service, port);
	return service != NULL ? xasprintf("%s:%d", service, port)
			       : xasprintf("%d", port);
}

/* s + t (s freed, NULL: ""). New string. */
static char *
forward_append(char *s, const char *t)
{
	char *out = xasprintf("%s%s", s != NULL ? s : "", t);

	free(s);
	return out;
}

void
forward_request_drop_services(cJSON *req, const cJSON *look, const char *label)
{
	cJSON *list = cJSON_GetObjectItemCaseSensitive(req, "forwards"), *e, *next;
	cJSON *refused;
	const char *ws = json_get_string(req, "workspace"), *service;
	char *spec, *text;

	/* (an agent before "compose" says nothing: the forwards are made,
	 * and their connections get its error, as before) */
	if (!cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(look, "compose")))
		return;
	for (e = list != NULL ? list->child : NULL; e != NULL; e = next) {
		const cJSON *lp = cJSON_GetObjectItemCaseSensitive(e, "local");
		const cJSON *pp = cJSON_GetObjectItemCaseSensitive(e, "port");

		next = e->next;
		service = json_get_string(e, "service");
		if (service == NULL || !cJSON_IsNumber(pp))
			continue;
		spec = forward_typed_spec(
		    cJSON_IsNumber(lp) ? lp->valueint : 0, service, pp->valueint);
		text = xasprintf("%s: %s is not a Compose workspace (no service "
				 "\"%s\"): not forwarded: port %s",
		    label, ws != NULL ? ws : "the workspace", service, spec);
		refused = cJSON_GetObjectItemCaseSensitive(req, "refused");
		if (refused == NULL)
			refused = cJSON_AddArrayToObject(req, "refused");
		cJSON_AddItemToArray(refused, cJSON_CreateString(text));
		free(text);
		free(spec);
		cJSON_Delete(cJSON_DetachItemViaPointer(list, e));
	}
}

char *
forward_refused_message(const cJSON *req, const char *error)
{
	const cJSON *e;
	char *specs = NULL, *spec, *out;
	int n = 0,
	    with_auto = cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(req, "auto"));

	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(req, "forwards")) {
		const cJSON *lp = cJSON_GetObjectItemCaseSensitive(e, "local");
		const cJSON *pp = cJSON_GetObjectItemCaseSensitive(e, "port");

		if (!cJSON_IsNumber(pp))
			continue;
		spec = forward_typed_spec(cJSON_IsNumber(lp) ? lp->valueint : 0,
		    json_get_string(e, "service"), pp->valueint);
		if (n++ > 0)
			specs = forward_append(specs, ", ");
		specs = forward_append(specs, spec);
		free(spec);
	}
	if (n > 0)
		out = xasprintf("%s: not forwarded: port%s %s%s",
		    error != NULL ? error : "the workspace is not there",
		    n > 1 ? "s" : "", specs,
		    with_auto ? "; no auto-forward watch started" : "");
	else
		out = xasprintf("%s%s",
		    error != NULL ? error : "the workspace is not there",
		    with_auto ? ": no auto-forward watch started" : "");
	free(specs);
	return out;
}

char *
forward_stopped_warning(const struct forward *fw, const char *cause)
{
	char *spec, *w;

	if (fw->local_port == 0) /* an --auto watch's relay: no listener */
		return xasprintf("the auto-forward watch: container stopped; its new "
				 "ports are forwarded once it runs (%s)",
		    cause);
	spec = forward_typed_spec(0, fw->service, fw->port);
	w = xasprintf("localhost:%d -> %s%s: container stopped; the forward answers "
		      "once it runs (%s)",
	    fw->local_port, fw->service != NULL ? "" : "container port ", spec, cause);
	free(spec);
	return w;
}

cJSON *
forward_answer_new(int id, cJSON **done, cJSON **errors)
{
	cJSON *resp = cJSON_CreateObject(), *res;

	cJSON_AddNumberToObject(resp, "id", id);
	cJSON_AddBoolToObject(resp, "ok", 1);
	res = cJSON_AddObjectToObject(resp, "result");
	*done = cJSON_AddArrayToObject(res, "forwards");
	*errors = cJSON_AddArrayToObject(res, "errors");
	return resp;
}

void
forward_answer_notes(cJSON *resp, const cJSON *req)
{
	const char *why = json_get_string(req, FORWARD_ATTRIBUTES_UNREAD);
	cJSON *res = cJSON_GetObjectItemCaseSensitive(resp, "result"), *a;
	char *text;

	if (why == NULL ||
	    !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req, "attributes")))
		return;
	if ((a = cJSON_GetObjectItemCaseSensitive(res, "warnings")) == NULL)
		a = cJSON_AddArrayToObject(res, "warnings");
	text = xasprintf("port attributes not read (%s): forwarded as typed", why);
	cJSON_AddItemToArray(a, cJSON_CreateString(text));
	free(text);
}

struct forward_parked *
forward_park(struct forward_parked_list *list, int fd, const cJSON *req, cJSON *resp)
{
	struct forward_parked *p = xcalloc(1, sizeof *p);

	p->fd = fd;
	forward_key_of_request(&p->key, req);
	p->resp = resp;
	TAILQ_INSERT_TAIL(list, p, entry);
	return p;
}

int
forward_parked_for(const struct forward_parked *p, const struct forward *fw)
{
	return forward_of(fw, &p->key); /* (none with no workspace) */
}

/* Add text to the array name of p's answer's result (made when needed). */
static void
forward_parked_add(struct forward_parked *p, const char *name, const char *text)
{
	cJSON *res = cJSON_GetObjectItemCaseSensitive(p->resp, "result");
	cJSON *a = cJSON_GetObjectItemCaseSensitive(res, name);

	if (a == NULL)
		a = cJSON_AddArrayToObject(res, name);
	cJSON_AddItemToArray(a, cJSON_CreateString(text));
}

/* Mark fw's entry in the "forwards" of p's answer with error. */
static int
forward_parked_mark(struct forward_parked *p, const struct forward *fw, const char *error)
{
	cJSON *res = cJSON_GetObjectItemCaseSensitive(p->resp, "result"), *e;
	long local, port;
	int found = 0;

	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(res, "forwards")) {
		if (json_get_int(e, "local", 0, 65535, &local) != 0 ||
		    json_get_int(e, "port", 1, 65535, &port) != 0 ||
		    local != fw->local_port || port != fw->port)
			continue;
		found = 1;
		if (!cJSON_HasObjectItem(e, "error"))
			cJSON_AddStringToObject(e, "error", error);
	}
	return found;
}

/* Has the array name of p's answer's result text already? */
static int
forward_parked_has(const struct forward_parked *p, const char *name, const char *text)
{
	const cJSON *e;

	cJSON_ArrayForEach(e,
	    cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(p->resp, "result"), name)) {
		if (cJSON_IsString(e) && strcmp(e->valuestring, text) == 0)
			return 1;
	}
	return 0;
}

void
forward_parked_error(
    struct forward_parked_list *list, const struct forward *fw, const char *error)
{
	struct forward_parked *p;
	/* (an --auto watch's relay has no listener: the watch's error) */
	char *text = fw->local_port == 0
	    ? xasprintf("the auto-forward watch: %s", error)
	    : xasprintf("localhost:%d -> %s%s%d: %s", fw->local_port,
		  fw->service != NULL ? fw->service : "container port ",
		  fw->service != NULL ? ":" : "", fw->port, error);

	char *earlier = xasprintf("%s (an earlier forward of this workspace: it "
				  "stays and is tried again at each connection)",
	    text);

	TAILQ_FOREACH(p, list, entry) {
		/* (once: a target checked again while p waits, by a later
		 * request, may fail again) */
		if (!forward_parked_for(p, fw) || forward_parked_has(p, "errors", text) ||
		    forward_parked_has(p, "warnings", earlier))
			continue;
		/* (a forward of the workspace that p's request did not ask
		 * for: told, not p's failure) */
		if (forward_parked_mark(p, fw, text) || fw->local_port == 0)
			forward_parked_add(p, "errors", text);
		else
			forward_parked_add(p, "warnings", earlier);
	}
	free(earlier);
	free(text);
}

void
forward_parked_warning(
    struct forward_parked_list *list, const struct forward *fw, const char *warning)
{
	struct forward_parked *p;

	TAILQ_FOREACH(p, list, entry) {
		if (forward_parked_for(p, fw))
			forward_parked_add(p, "warnings", warning);
	}
}

void
forward_refuse(int fd, int id, const cJSON *req, const char *label, const char *error)
{
	char *msg = forward_refused_message(req, error);
	cJSON *resp = cJSON_CreateObject();

	log_info("%s: forward request refused: %s", label, msg);
	cJSON_AddNumberToObject(resp, "id", id);
	cJSON_AddBoolToObject(resp, "ok", 0);
	cJSON_AddStringToObject(resp, "error", msg);
	forward_answer_send(fd, resp); /* (closes it) */
	cJSON_Delete(resp);
	free(msg);
}

void
forward_answer_send(int fd, const cJSON *resp)
{
	struct buf *b = buf_new();

	/* a small answer: written at once, whatever the fd's mode was */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	if (proto_encode_json(b, PROTO_CONTROL, 0, resp, NULL) == 0 &&
	    fd_write_all(fd, buf_data(b), buf_len(b)) != 0)
		log_debug("a client left before its forward answer");
	buf_free(b);
	close(fd);
}

void
forward_parked_answer(struct forward_parked_list *list,
    int (*waiting)(void *arg, const struct forward_parked *p), void *arg)
{
	struct forward_parked *p, *next;

	for (p = TAILQ_FIRST(list); p != NULL; p = next) {
		next = TAILQ_NEXT(p, entry);
		if (!p->unchecked && waiting != NULL && waiting(arg, p))
			continue;
		TAILQ_REMOVE(list, p, entry);
		forward_answer_send(p->fd, p->resp);
		cJSON_Delete(p->resp);
		forward_key_clear(&p->key);
		free(p);
	}
}

const char *
forward_status_pick(const cJSON *statuses, int local, int *index, int *not_restored)
{
	const cJSON *st, *f;
	const char *ws;
	long at;
	int pass, i;

	for (pass = 0; pass < 2; pass++) {
		i = 0;
		cJSON_ArrayForEach(st, statuses) {
			cJSON_ArrayForEach(
			    f, cJSON_GetObjectItemCaseSensitive(st, "forwards")) {
				ws = json_get_string(f, "workspace");
				if (json_get_int(f, "local", 1, 65535, &at) != 0 ||
				    at != local || ws == NULL ||
				    cJSON_IsString(cJSON_GetObjectItemCaseSensitive(
					f, "error")) != pass)
					continue;
				*index = i;
				*not_restored = pass;
				return ws;
			}
			i++;
		}
	}
	return NULL;
}

cJSON *
forward_stopped_answer(int id, int n, const cJSON *req)
{
	cJSON *resp = cJSON_CreateObject(), *res;
	const char *target = json_get_string(req, "target");

	cJSON_AddNumberToObject(resp, "id", id);
	cJSON_AddBoolToObject(resp, "ok", 1);
	res = cJSON_AddObjectToObject(resp, "result");
	cJSON_AddNumberToObject(res, "stopped", n);
	if (target != NULL)
		cJSON_AddStringToObject(res, "target", target);
	if (json_get_string(req, "targetHost") != NULL)
		cJSON_AddStringToObject(
		    res, "targetHost", json_get_string(req, "targetHost"));
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req, "notRestored")))
		cJSON_AddBoolToObject(res, "notRestored", 1);
	return resp;
}

/* Set fw's onAutoForward to action (copied; NULL: none), under lock
 * when there is one: forward_json shows it, and an SSH host's status reads
 * its forwards on another thread (host-internal.h). */
static void
forward_set_auto_action(struct forward *fw, const char *action, pthread_mutex_t *lock)
{
	forward_set_string_locked(&fw->auto_action, action, lock);
}

/* Does list hold, besides entry self, a spec of spec s's target (service
 * and port) with its own local port? */
static int
forward_request_has_exact(
    const cJSON *list, const cJSON *self, const struct forward_spec *s)
{
	const cJSON *e, *lp, *pp;
	const char *svc;

	cJSON_ArrayForEach(e, list) {
		lp = cJSON_GetObjectItemCaseSensitive(e, "local");
		pp = cJSON_GetObjectItemCaseSensitive(e, "port");
		svc = json_get_string(e, "service");
		if (e != self && cJSON_IsNumber(lp) && lp->valueint != 0 &&
		    cJSON_IsNumber(pp) && pp->valueint == s->port &&
		    (svc == NULL) == (s->service == NULL) &&
		    (svc == NULL || strcmp(svc, s->service) == 0))
			return 1;
	}
	return 0;
}

/* Are a request entry's port pp (1-65535) or local port lp (absent, or
 * 0-65535) not ports? Then *error is the entry's error (a new item). */
static int
forward_request_bad_ports(const cJSON *pp, const cJSON *lp, cJSON **error)
{
	char *text;

	if (pp->valuedouble >= 1 && pp->valuedouble <= 65535 &&
	    pp->valuedouble == (double)pp->valueint &&
	    (lp == NULL ||
		(cJSON_IsNumber(lp) && lp->valuedouble >= 0 && lp->valuedouble <= 65535 &&
		    lp->valuedouble == (double)lp->valueint)))
		return 0;
	if (pp->valuedouble < 1 || pp->valuedouble > 65535 ||
	    pp->valuedouble != (double)pp->valueint)
		text = xasprintf(
		    "container port %g is not a port (1-65535)", pp->valuedouble);
	else
		text = xstrdup("the local port is not a port (1-65535)");
	*error = cJSON_CreateString(text);
	free(text);
	return 1;
}

/* The passes of forward_request_make, in the order they bind. */
enum forward_make_pass {
	FORWARD_PASS_EXACT, /* requireLocalPort or a local port given */
	FORWARD_PASS_OWN,   /* the others, at their own number only */
	FORWARD_PASS_SEARCH /* those whose number was taken: the next free */
};

void
forward_request_make(const cJSON *req, forward_make_fn make, void *arg,
    pthread_mutex_t *lock, cJSON *done, cJSON *errors)
{
	const char *ws = json_get_string(req, "workspace");
	const char *config = json_get_string(req, "config");
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(req, "forwards"), *e;
	int i, n = cJSON_GetArraySize(list), pass, exact;
	struct forward_spec s;
	struct forward *fw;
	char *cause = NULL;
	cJSON **made, **failed;

	/* The ports that must be exact are bound first, then every other at
	 * its own number, then the rest search: else forwardPorts [3000, 3001]
	 * with 3000 taken here gave container 3000 the local 3001, and 3001's
	 * requireLocalPort failed on a port rdev itself had just taken (or,
	 * without it, went to 3002). The answer keeps the request's order. */
	/* (taken out by forward_request_drop_services) */
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(req, "refused")) {
		if (cJSON_IsString(e))
			cJSON_AddItemToArray(errors, cJSON_CreateString(e->valuestring));
	}
	made = xcalloc((size_t)n + 1, sizeof *made);
	failed = xcalloc((size_t)n + 1, sizeof *failed);
	for (pass = FORWARD_PASS_EXACT; pass <= FORWARD_PASS_SEARCH; pass++) {
		i = -1;
		cJSON_ArrayForEach(e, list) {
			const cJSON *lp = cJSON_GetObjectItemCaseSensitive(e, "local");
			const cJSON *pp = cJSON_GetObjectItemCaseSensitive(e, "port");

			i++;
			if (made[i] != NULL || failed[i] != NULL)
				continue;
			if (ws == NULL || !cJSON_IsNumber(pp)) {
				failed[i] = cJSON_CreateString(
				    "a forward needs a workspace and a port");
				continue;
			}
			/* (container port 0 was listened for on a random port,
			 * to nothing: an image label's forwardPorts, say, that
			 * config validation does not see) */
			if (forward_request_bad_ports(pp, lp, &failed[i]))
				continue;
			memset(&s, 0, sizeof s);
			s.local_port = cJSON_IsNumber(lp) ? lp->valueint : 0;
			s.port = pp->valueint;
			s.service = (char *)json_get_string(e, "service");
			s.label = (char *)json_get_string(e, "label");
			s.require_local = cJSON_IsTrue(
			    cJSON_GetObjectItemCaseSensitive(e, "requireLocal"));
			exact = s.require_local || s.local_port != 0;
			if (exact != (pass == FORWARD_PASS_EXACT))
				continue;
			/* (a requireLocalPort is the port's own number: a forward
			 * of it kept at another local port, made before the
			 * attribute or by an older rdev, does not meet it) */
			if (s.require_local && s.local_port == 0)
				s.local_port = s.port;
			/* ("3000" beside "8080:3000": a forward of its own from
			 * 3000 up, not the one the exact pass made at 8080) */
			if (!exact && forward_request_has_exact(list, e, &s))
				s.local_port = s.port;
			fw = make(
			    arg, ws, config, &s, pass != FORWARD_PASS_SEARCH, &cause);
			if (fw == NULL) {
				/* (its own number taken: the search pass tries) */
				if (pass != FORWARD_PASS_OWN)
					failed[i] = cJSON_CreateString(cause);
				free(cause);
				cause = NULL;
				continue;
			}
			fw->require_local |= s.require_local;
			/* asked for: the user's now, not a watch's to move
			 * (forward_auto_follows) */
			forward_set_auto_action(fw, NULL, lock);
			forward_take_request_fields(fw, req, lock);
			made[i] = forward_json(fw);
			/* (an existing forward's, from before the check this
			 * request makes: that check's failure is the answer's
			 * error or warning, and a stale one said "its last
			 * connection failed" after the `up` that mended it) */
			cJSON_DeleteItemFromObjectCaseSensitive(made[i], "lastError");
			cJSON_DeleteItemFromObjectCaseSensitive(made[i], "lastErrorFrom");
		}
	}
	for (i = 0; i < n; i++) {
		if (made[i] != NULL)
			cJSON_AddItemToArray(done, made[i]);
		if (failed[i] != NULL)
			cJSON_AddItemToArray(errors, failed[i]);
	}
	free(made);
	free(failed);
}

cJSON *
forward_restore_error(const cJSON *saved, const char *cause)
{
	cJSON *o;
	char *text;

	o = forward_json_head(cJSON_GetObjectItemCaseSensitive(saved, "local")->valueint,
	    json_get_string(saved, "service"),
	    cJSON_GetObjectItemCaseSensitive(saved, "port")->valueint,
	    json_get_string(saved, "workspace"));
	forward_add_string(o, "label", json_get_string(saved, "label"));
	text = xasprintf("not restored: %s", cause);
	cJSON_AddStringToObject(o, "error", text);
	free(text);
	return o;
}

int
forward_restore(const cJSON *list, const char *label, forward_make_fn make, void *arg,
    pthread_mutex_t *lock, cJSON **errors)
{
	const cJSON *e;
	struct forward_spec s;
	struct forward *fw;
	char *cause = NULL;
	cJSON *o;
	int i, failed = 0;

	for (i = cJSON_GetArraySize(list) - 1; i >= 0; i--) {
		e = cJSON_GetArrayItem(list, i);
		memset(&s, 0, sizeof s);
		s.port = cJSON_GetObjectItemCaseSensitive(e, "port")->valueint;
		s.local_port = cJSON_GetObjectItemCaseSensitive(e, "local")->valueint;
		s.service = (char *)json_get_string(e, "service");
		s.label = (char *)json_get_string(e, "label");
		fw = make(arg, json_get_string(e, "workspace"),
		    json_get_string(e, "config"), &s, 1, &cause);
		if (fw != NULL) {
			fw->require_local = cJSON_IsTrue(
			    cJSON_GetObjectItemCaseSensitive(e, "requireLocal"));
			forward_take_request_fields(fw, e, lock);
			if (json_get_string(e, "onAutoForward") != NULL &&
			    fw->auto_action == NULL)
				forward_set_auto_action(
				    fw, json_get_string(e, "onAutoForward"), lock);
			continue;
		}
		log_warn("%s: saved forward of %s not restored: %s", label,
		    json_get_string(e, "workspace"), cause);
		o = forward_restore_error(e, cause);
		free(cause);
		cause = NULL;
		if (*errors == NULL)
			*errors = cJSON_CreateArray();
		cJSON_AddItemToArray(*errors, o);
		failed++;
	}
	return failed;
}

int
forward_errors_forget(cJSON *errors, const char *ws, int local)
{
	const cJSON *o;
	int i = 0, n = 0;

	while ((o = cJSON_GetArrayItem(errors, i)) != NULL) {
		if ((ws == NULL || strcmp(json_get_string(o, "workspace"), ws) == 0) &&
		    (local == 0 ||
			cJSON_GetObjectItemCaseSensitive(o, "local")->valueint ==
			    local)) {
			cJSON_DeleteItemFromArray(errors, i);
			n++;
		} else
			i++;
	}
	return n;
}

int
forward_reuse_rank(
    const struct forward *fw, const char *ws, const char *service, int port, int local)
{
	if (!forward_same(fw, ws, service, port))
		return 0;
	if (fw->local_port == (local != 0 ? local : port))
		return 2;
	return local == 0;
}
