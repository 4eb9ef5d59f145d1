/* relay-install.c - put rdev-relay into a dev container and keep it running
 * (relay-install.h): the binary, the state directory's record of it, the
 * upload and the start. The archives are written and read in
 * relay-install-tar.c, the relay is talked to in relay-install-connect.c. */
#include "relay-install.h"

#include <sys/stat.h>

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "agent-state.h"
#include "atomic-file.h"
#include "clock.h"
#include "docker.h"
#include "error.h"
#include "log.h"
#include "owner.h"
#include "workspace.h"
#include "xmalloc.h"

#define RELAY_BINARY_NAME "rdev-relay"
#define RELAY_BINARY_MAX (16 * 1024 * 1024)
#define RELAY_PROBE_TIMEOUT_MS 2000
#define RELAY_START_TIMEOUT_MS 5000

/* The relay binary that ships with this agent, and its hash. */
struct relay_binary {
	char *path;
	char *data;
	size_t len;
	char hash[crypto_generichash_BYTES * 2 + 1];
};

/* What the state directory remembers about the relay in one container. */
struct relay_state {
	int port;
	char token[RELAY_INSTALL_TOKEN_HEX + 1];
	char hash[crypto_generichash_BYTES * 2 + 1];
	char started[64]; /* the container's State.StartedAt then ("": unknown) */
};

/* ---- archive requests ------------------------------------------------- */

/* The daemon's message in an error body ({"message":...}), or the status. */
static int
relay_docker_error(
    const char *what, int status, const char *body, size_t len, char **cause)
{
	cJSON *j = cJSON_ParseWithLength(body, len);
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "message");

	if (cJSON_IsString(m))
		error_set(cause, "%s: docker: %s", what, m->valuestring);
	else
		error_set(cause, "%s: docker answered HTTP %d", what, status);
	cJSON_Delete(j);
	return -1;
}

/* ---- the binary, the state file ---------------------------------------- */

static void
relay_binary_clear(struct relay_binary *bin)
{
	free(bin->path);
	free(bin->data);
	memset(bin, 0, sizeof *bin);
}

/* Load dirname(/proc/self/exe)/rdev-relay and hash it. */
static int
relay_binary_load(struct relay_binary *bin, char **cause)
{
	char self[PATH_MAX];
	unsigned char hash[crypto_generichash_BYTES];
	ssize_t n;

	memset(bin, 0, sizeof *bin);
	if ((n = readlink("/proc/self/exe", self, sizeof self - 1)) < 0)
		return error_set_errno(cause, errno, "cannot read /proc/self/exe");
	self[n] = '\0';
	bin->path = xasprintf("%s/%s", dirname(self), RELAY_BINARY_NAME);
	if (file_read_all(bin->path, RELAY_BINARY_MAX, &bin->data, &bin->len, NULL) !=
	    0) {
		error_set(cause,
		    "relay binary missing: %s (rdev-relay ships next to "
		    "rdev-agent; reinstall the agent bundle)",
		    bin->path);
		relay_binary_clear(bin);
		return -1;
	}
	crypto_generichash(
	    hash, sizeof hash, (const unsigned char *)bin->data, bin->len, NULL, 0);
	sodium_bin2hex(bin->hash, sizeof bin->hash, hash, sizeof hash);
	return 0;
}

static char *
relay_state_path(const char *state_dir, const char *cid)
{
	return xasprintf("%s/relay/%s.json", state_dir, cid);
}

/* Read the remembered relay of a container: 0 if there is a usable entry. */
static int
relay_state_read(const char *state_dir, const char *cid, struct relay_state *st)
{
	char *path = relay_state_path(state_dir, cid), *text = NULL;
	size_t len;
	cJSON *j = NULL;
	const cJSON *port, *token, *hash, *started;
	int rc = -1;

	memset(st, 0, sizeof *st);
	if (file_read_all(path, 65536, &text, &len, NULL) != 0)
		goto out;
	j = cJSON_Parse(text);
	port = cJSON_GetObjectItemCaseSensitive(j, "port");
	token = cJSON_GetObjectItemCaseSensitive(j, "token");
	hash = cJSON_GetObjectItemCaseSensitive(j, "hash");
	started = cJSON_GetObjectItemCaseSensitive(j, "started");
	if (!cJSON_IsNumber(port) || port->valueint <= 0 || port->valueint > 65535 ||
	    !cJSON_IsString(token) ||
	    strlen(token->valuestring) != RELAY_INSTALL_TOKEN_HEX ||
	    !cJSON_IsString(hash) || strlen(hash->valuestring) >= sizeof st->hash)
		goto out;
	st->port = port->valueint;
	strcpy(st->token, token->valuestring);
	strcpy(st->hash, hash->valuestring);
	if (cJSON_IsString(started) && strlen(started->valuestring) < sizeof st->started)
		strcpy(st->started, started->valuestring);
	rc = 0;
out:
	cJSON_Delete(j);
	if (text != NULL)
		sodium_memzero(text, strlen(text));
	free(text);
	free(path);
	return rc;
}

/* Create state_dir/relay if need be. */
static int
relay_state_mkdir(const char *state_dir, char **cause)
{
	char *dir = xasprintf("%s/relay", state_dir);

	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		error_set_errno(cause, errno, "cannot create %s", dir);
		free(dir);
		return -1;
	}
	free(dir);
	return 0;
}

static int
relay_state_write(
    const char *state_dir, const char *cid, const struct relay_state *st, char **cause)
{
	char *path, *text;
	int rc;

	if (relay_state_mkdir(state_dir, cause) != 0)
		return -1;
	path = relay_state_path(state_dir, cid);
	text = xasprintf(
	    "{\"port\":%d,\"token\":\"%s\",\"hash\":\"%s\",\"started\":\"%s\"}\n",
	    st->port, st->token, st->hash, st->started);
	rc = atomic_file_write(path, text, strlen(text), 0600, cause);
	sodium_memzero(text, strlen(text));
	free(text);
	free(path);
	return rc;
}

/* relay/<container id>.bin holds the hash of the binary last copied into
 * the container (by the relay op or for a TTY exec): the file stays in the
 * container's filesystem across restarts, and a new container has a new id. */
static char *
relay_copied_path(const char *state_dir, const char *cid)
{
	return xasprintf("%s/relay/%s.bin", state_dir, cid);
}

/* Is the binary with hash in the container, by the record? */
static int
relay_copied(const char *state_dir, const char *cid, const char *hash)
{
	char *path = relay_copied_path(state_dir, cid), *text = NULL;
	size_t len;
	int yes;

	yes = file_read_all(path, 1024, &text, &len, NULL) == 0 &&
	    len == strlen(hash) + 1 && strncmp(text, hash, strlen(hash)) == 0 &&
	    text[len - 1] == '\n';
	free(text);
	free(path);
	return yes;
}

static int
relay_copied_write(const char *state_dir, const char *cid, const char *hash, char **cause)
{
	char *path, *text;
	int rc;

	if (relay_state_mkdir(state_dir, cause) != 0)
		return -1;
	path = relay_copied_path(state_dir, cid);
	text = xasprintf("%s\n", hash);
	rc = atomic_file_write(path, text, strlen(text), 0600, cause);
	free(text);
	free(path);
	return rc;
}

/* ---- starting the relay -------------------------------------------------- */

/* Is the container on the host's network (its addresses the host's)? */
static int
relay_host_network(const cJSON *info)
{
	const cJSON *mode = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(info, "HostConfig"), "NetworkMode");

	return cJSON_IsString(mode) && strcmp(mode->valuestring, "host") == 0;
}

/* The container's address for the broker: "127.0.0.1" with the host's
 * network, else its IP on its first network that has one (prefer_net: a
 * network to take first when the container is on it). New string or NULL. */
static char *
relay_container_address(const cJSON *info, const cJSON *prefer)
{
	const cJSON *nets = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(info, "NetworkSettings"), "Networks");
	const cJSON *n, *ip, *pn;

	if (relay_host_network(info))
		return xstrdup("127.0.0.1");
	cJSON_ArrayForEach(pn, prefer) {
		n = cJSON_GetObjectItemCaseSensitive(nets, pn->string);
		ip = cJSON_GetObjectItemCaseSensitive(n, "IPAddress");
		if (cJSON_IsString(ip) && ip->valuestring[0] != '\0')
			return xstrdup(ip->valuestring);
	}
	cJSON_ArrayForEach(n, nets) {
		ip = cJSON_GetObjectItemCaseSensitive(n, "IPAddress");
		if (cJSON_IsString(ip) && ip->valuestring[0] != '\0')
			return xstrdup(ip->valuestring);
	}
	return NULL;
}

/* How many "container:ID" network modes are followed (Compose's
 * network_mode service:X, whose container may share another's in turn). */
#define RELAY_NETWORK_HOPS 4

/* relay_container_address for a container that may share another's network
 * ("container:ID": no address of its own; it is reached at the owner's).
 * New string, or NULL with *cause naming the container as what ("the dev
 * container X", "service S (container X)"), and, when it shares another's
 * network, that owner and what became of it. */
static char *
relay_address(struct docker *d, const cJSON *info, const cJSON *prefer, const char *what,
    char **cause)
{
	const cJSON *mode, *name;
	cJSON *owner = NULL, *next;
	char *address = NULL, *err = NULL, *first = NULL;
	const char *id, *oname;
	int hop;

	for (hop = 0;; hop++) {
		mode = cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(info, "HostConfig"), "NetworkMode");
		if (!cJSON_IsString(mode) ||
		    strncmp(mode->valuestring, "container:", 10) != 0)
			break;
		id = mode->valuestring + 10;
		if (first == NULL)
			first = xstrdup(id);
		if (hop == RELAY_NETWORK_HOPS) {
			error_set(cause,
			    "%s shares container %.12s's network (network_mode), "
			    "which shares another's in turn, more than %d deep",
			    what, first, RELAY_NETWORK_HOPS);
			goto out;
		}
		next = NULL;
		if (docker_container_inspect(d, id, &next, &err) != 0) {
			error_set(cause,
			    "%s shares container %.12s's network (network_mode), "
			    "%s%.12s cannot be inspected: %s",
			    what, first, hop > 0 ? "which shares container " : "which",
			    hop > 0 ? id : "", err);
			goto out;
		}
		if (next == NULL) {
			/* (Docker cannot start this one again either) */
			error_set(cause,
			    "%s shares container %.12s's network (network_mode), "
			    "%s%.12s is gone: this container must be made again "
			    "(rdev up --remove-existing-container)",
			    what, first, hop > 0 ? "which shares container " : "which",
			    hop > 0 ? id : "");
			goto out;
		}
		cJSON_Delete(owner);
		info = owner = next;
	}
	if ((address = relay_container_address(info, prefer)) != NULL)
		goto out;
	if (owner == NULL)
		error_set(cause, "%s has no IP address", what);
	else if (!docker_container_running(owner)) {
		name = cJSON_GetObjectItemCaseSensitive(owner, "Name");
		oname = cJSON_IsString(name) && *name->valuestring != '\0'
		    ? name->valuestring + (*name->valuestring == '/')
		    : first;
		/* (restarted, the owner has a new network namespace; a
		 * container on its old one keeps it, with only lo) */
		error_set(cause,
		    "%s shares container %s's network (network_mode), which is "
		    "not running: start it, then restart this container (docker "
		    "start %s; docker restart)",
		    what, oname, oname);
	} else
		error_set(cause,
		    "%s shares container %.12s's network (network_mode), which "
		    "has no IP address",
		    what, first);
out:
	cJSON_Delete(owner);
	free(first);
	free(err);
	return address;
}

/* Upload the binary, with (with_port_file) an empty port file (so the new
 * port is the first thing that appears in it), and record it. Archive
 * extraction replaces a file (unlink, create), so a running relay or exec
 * of the old one is not disturbed. */
static int
relay_upload(struct docker *d, const char *state_dir, const char *cid,
    const struct relay_binary *bin, int with_port_file, char **cause)
{
	const char *names[] = { RELAY_INSTALL_PATH + 1, RELAY_INSTALL_PORT_FILE + 1 };
	const void *data[] = { bin->data, "" };
	size_t lens[] = { bin->len, 0 };
	unsigned modes[] = { 0755, 0644 };
	unsigned char *tar;
	size_t tar_len, resp_len;
	char *path = xasprintf("/containers/%s/archive?path=/", cid), *resp = NULL;
	int status, rc;

	relay_install_tar(
	    with_port_file ? 2 : 1, names, data, lens, modes, &tar, &tar_len);
	rc = docker_request_raw(d, "PUT", path, "application/x-tar", tar, tar_len,
	    &status, &resp, &resp_len, cause);
	if (rc == 0 && status != 200)
		rc = relay_docker_error("cannot copy rdev-relay into the container",
		    status, resp, resp_len, cause);
	if (rc == 0)
		rc = relay_copied_write(state_dir, cid, bin->hash, cause);
	free(resp);
	free(tar);
	free(path);
	return rc;
}

/* The port in the container's port file: 0 with *port (0 when the file is
 * still empty), -1 on an error. */
static int
relay_read_port(struct docker *d, const char *cid, int *port, char **cause)
{
	char *path =
	    xasprintf("/containers/%s/archive?path=%s", cid, RELAY_INSTALL_PORT_FILE);
	char *resp = NULL, *text = NULL, *end;
	size_t resp_len, len;
	long v;
	int status, rc = -1;

	*port = 0;
	if (docker_request_raw(
		d, "GET", path, NULL, NULL, 0, &status, &resp, &resp_len, cause) != 0)
		goto out;
	if (status == 404) {
		rc = 0;
		goto out;
	}
	if (status != 200) {
		relay_docker_error("cannot read " RELAY_INSTALL_PORT_FILE, status, resp,
		    resp_len, cause);
		goto out;
	}
	if (relay_install_untar_first(
		(const unsigned char *)resp, resp_len, &text, &len, cause) != 0)
		goto out;
	v = strtol(text, &end, 10);
	if (end != text && *end == '\n' && v > 0 && v <= 65535)
		*port = (int)v;
	rc = 0;
out:
	free(text);
	free(resp);
	free(path);
	return rc;
}

/* The open-files soft limit the container was given (HostConfig.Ulimits
 * nofile, runArgs --ulimit), or -1 when it was given none: the relay's
 * --nofile, the first of its sources (relay/rdev-relay.c,
 * relay_command_nofile, says the order and why). */
static long long
relay_nofile_soft(const cJSON *info)
{
	const cJSON *u, *name, *soft;

	cJSON_ArrayForEach(u,
	    cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(info, "HostConfig"), "Ulimits")) {
		name = cJSON_GetObjectItemCaseSensitive(u, "Name");
		soft = cJSON_GetObjectItemCaseSensitive(u, "Soft");
		if (cJSON_IsString(name) && strcmp(name->valuestring, "nofile") == 0 &&
		    cJSON_IsNumber(soft) && soft->valuedouble >= 0)
			return (long long)soft->valuedouble;
	}
	return -1;
}

/* Start the relay with a detached exec as 0:0; loopback: listening on the
 * loopback addresses only (a container on the host's network, whose
 * addresses are the Docker host's); nofile: the container's open-files
 * soft limit (-1: none given; relay_nofile_soft). */
static int
relay_exec(struct docker *d, const char *cid, const char *token, int loopback,
    long long nofile, char **cause)
{
	cJSON *body = cJSON_CreateObject(), *cmd, *env, *resp = NULL;
	const cJSON *id;
	char *envv = xasprintf("RDEV_RELAY_TOKEN=%s", token), *path = NULL;
	int status, rc = -1;

	cmd = cJSON_AddArrayToObject(body, "Cmd");
	cJSON_AddItemToArray(cmd, cJSON_CreateString(RELAY_INSTALL_PATH));
	cJSON_AddItemToArray(cmd, cJSON_CreateString("--port-file"));
	cJSON_AddItemToArray(cmd, cJSON_CreateString(RELAY_INSTALL_PORT_FILE));
	if (loopback)
		cJSON_AddItemToArray(cmd, cJSON_CreateString("--loopback"));
	if (nofile >= 0) {
		char *v = xasprintf("%lld", nofile);

		cJSON_AddItemToArray(cmd, cJSON_CreateString("--nofile"));
		cJSON_AddItemToArray(cmd, cJSON_CreateString(v));
		free(v);
	}
	env = cJSON_AddArrayToObject(body, "Env");
	cJSON_AddItemToArray(env, cJSON_CreateString(envv));
	/* Numeric: a FROM scratch image has no /etc/passwd to find "root" in. */
	cJSON_AddStringToObject(body, "User", "0:0");
	cJSON_AddStringToObject(body, "WorkingDir", "/");
	cJSON_AddBoolToObject(body, "AttachStdin", 0);
	cJSON_AddBoolToObject(body, "AttachStdout", 0);
	cJSON_AddBoolToObject(body, "AttachStderr", 0);
	path = xasprintf("/containers/%s/exec", cid);
	if (docker_request(d, "POST", path, body, &status, &resp, cause) != 0)
		goto out;
	id = cJSON_GetObjectItemCaseSensitive(resp, "Id");
	if (status != 201 || !cJSON_IsString(id)) {
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(resp, "message");
		error_set(cause, "cannot start rdev-relay: docker: %s",
		    cJSON_IsString(m) ? m->valuestring : "exec create failed");
		goto out;
	}
	free(path);
	path = xasprintf("/exec/%s/start", id->valuestring);
	cJSON_Delete(body);
	body = cJSON_CreateObject();
	cJSON_AddBoolToObject(body, "Detach", 1);
	cJSON_AddBoolToObject(body, "Tty", 0);
	cJSON_Delete(resp);
	resp = NULL;
	if (docker_request(d, "POST", path, body, &status, &resp, cause) != 0)
		goto out;
	if (status != 200 && status != 204) {
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(resp, "message");
		error_set(cause, "cannot start rdev-relay: docker: %s",
		    cJSON_IsString(m) ? m->valuestring : "exec start failed");
		goto out;
	}
	rc = 0;
out:
	sodium_memzero(envv, strlen(envv));
	free(envv);
	/* The request body held the token too. */
	cJSON_Delete(body);
	cJSON_Delete(resp);
	free(path);
	return rc;
}

/* Copy the binary in, start a relay with a new token, wait for its port. */
static int
relay_start(struct docker *d, const char *state_dir, const char *cid,
    const cJSON *container, const struct relay_binary *bin, struct relay_state *st,
    char **cause)
{
	unsigned char raw[RELAY_INSTALL_TOKEN_HEX / 2];
	int64_t deadline;
	int port = 0;

	randombytes_buf(raw, sizeof raw);
	sodium_bin2hex(st->token, sizeof st->token, raw, sizeof raw);
	sodium_memzero(raw, sizeof raw);
	strcpy(st->hash, bin->hash);
	if (relay_upload(d, state_dir, cid, bin, 1, cause) != 0 ||
	    relay_exec(d, cid, st->token, relay_host_network(container),
		relay_nofile_soft(container), cause) != 0)
		return -1;
	deadline = clock_now_ms() + RELAY_START_TIMEOUT_MS;
	for (;;) {
		if (relay_read_port(d, cid, &port, cause) != 0)
			return -1;
		if (port != 0)
			break;
		if (clock_now_ms() >= deadline)
			return error_set(cause,
			    "rdev-relay did not start in container %.12s "
			    "(no port in %s after %d s)",
			    cid, RELAY_INSTALL_PORT_FILE, RELAY_START_TIMEOUT_MS / 1000);
		usleep(20 * 1000);
	}
	st->port = port;
	log_debug("relay: container %.12s: started on port %d", cid, port);
	return 0;
}

/* ---- the operation ------------------------------------------------------- */

static cJSON *
relay_result(const char *cid, const char *address, const struct relay_state *st)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL)
		fatal("out of memory");
	cJSON_AddStringToObject(o, "containerId", cid);
	cJSON_AddStringToObject(o, "address", address);
	if (st != NULL) {
		cJSON_AddNumberToObject(o, "port", st->port);
		cJSON_AddStringToObject(o, "token", st->token);
	} else {
		cJSON_AddNullToObject(o, "port");
		cJSON_AddNullToObject(o, "token");
	}
	return o;
}

/* The Compose service's container and its address on the project network. */
static int
relay_service(struct docker *d, const struct workspace *ws, const char *folder,
    const char *service, cJSON **result, char **cause)
{
	char *lp, *ls, *address = NULL, *what;
	const char *labels[3];
	cJSON *list = NULL, *info = NULL;
	const cJSON *c, *id, *prefer;
	int rc = -1;

	if (ws->compose_project == NULL)
		return error_set(cause,
		    "%s is not a Compose workspace (no service \"%s\")", folder, service);
	lp = xasprintf("com.docker.compose.project=%s", ws->compose_project);
	ls = xasprintf("com.docker.compose.service=%s", service);
	labels[0] = lp;
	labels[1] = ls;
	labels[2] = NULL;
	if (docker_container_list(d, labels, 0, &list, cause) != 0)
		goto out;
	c = cJSON_GetArrayItem(list, 0);
	id = cJSON_GetObjectItemCaseSensitive(c, "Id");
	if (!cJSON_IsString(id)) {
		error_set(cause,
		    "no running container for service \"%s\" of Compose "
		    "project %s (is it in the Compose files, and started: "
		    "runServices?)",
		    service, ws->compose_project);
		goto out;
	}
	if (owner_check_list(list, cause) != 0) {
		rc = RELAY_INSTALL_NOT_OWNER;
		goto out;
	}
	if (docker_container_inspect(d, id->valuestring, &info, cause) != 0)
		goto out;
	/* The networks of the dev container come first: the project's. */
	prefer = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(ws->container, "NetworkSettings"),
	    "Networks");
	if (info == NULL) {
		error_set(cause, "service \"%s\" (container %.12s) is gone", service,
		    id->valuestring);
		goto out;
	}
	what = xasprintf("service \"%s\" (container %.12s)", service, id->valuestring);
	address = relay_address(d, info, prefer, what, cause);
	free(what);
	if (address == NULL)
		goto out;
	*result = relay_result(id->valuestring, address, NULL);
	rc = 0;
out:
	free(address);
	cJSON_Delete(info);
	cJSON_Delete(list);
	free(lp);
	free(ls);
	return rc;
}

int
relay_install_endpoint(struct docker *d, const cJSON *container, int trust_state,
    int not_relay, struct relay_endpoint *ep, char **cause)
{
	struct relay_binary bin = { 0 };
	struct relay_state st;
	const cJSON *idj = cJSON_GetObjectItemCaseSensitive(container, "Id"), *started;
	char *state_dir = NULL, *key = NULL, *err = NULL, *what;
	const char *cid = cJSON_IsString(idj) ? idj->valuestring : "";
	int lock = -1, rc = -1;

	memset(ep, 0, sizeof *ep);
	memset(&st, 0, sizeof st);
	what = xasprintf("the dev container %.12s", cid);
	ep->address = relay_address(d, container, NULL, what, cause);
	free(what);
	if (ep->address == NULL)
		goto out;
	if (relay_binary_load(&bin, cause) != 0 ||
	    (state_dir = agent_state_dir(cause)) == NULL)
		goto out;
	started = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(container, "State"), "StartedAt");
	/* Trusted only for this start of the container: a restarted one has
	 * no relay, maybe another address (a connect there can take seconds). */
	if (trust_state && relay_state_read(state_dir, cid, &st) == 0 &&
	    st.port != not_relay && strcmp(st.hash, bin.hash) == 0 &&
	    cJSON_IsString(started) && st.started[0] != '\0' &&
	    strcmp(st.started, started->valuestring) == 0)
		goto found;
	key = xasprintf("relay-%s", cid);
	if ((lock = agent_lock_acquire(state_dir, key, NULL, NULL, cause)) < 0)
		goto out;
	if (relay_state_read(state_dir, cid, &st) == 0) {
		if (strcmp(st.hash, bin.hash) != 0)
			log_info(
			    "relay: container %.12s: rdev-relay changed, replacing it",
			    cid);
		else if (st.port == not_relay)
			/* (the relay died and another program took its port:
			 * a probe it answers, even by closing, proves nothing) */
			log_info("relay: container %.12s: port %d answers, but not as "
				 "its relay; starting a new one",
			    cid, st.port);
		else if (relay_install_probe(ep->address, st.port, st.token,
			     RELAY_PROBE_TIMEOUT_MS, NULL, &err) == 0)
			goto record;
		else {
			log_info(
			    "relay: container %.12s: %s; starting a new one", cid, err);
			free(err);
			err = NULL;
		}
	}
	if (relay_start(d, state_dir, cid, container, &bin, &st, cause) != 0)
		goto out;
	st.started[0] = '\0';
record:
	/* (A relay that answered is recorded again only if the start differs.) */
	if (cJSON_IsString(started) && strlen(started->valuestring) < sizeof st.started &&
	    strcmp(st.started, started->valuestring) != 0) {
		strcpy(st.started, started->valuestring);
		if (relay_state_write(state_dir, cid, &st, cause) != 0)
			goto out;
	} else if (st.started[0] == '\0' &&
	    relay_state_write(state_dir, cid, &st, cause) != 0)
		goto out;
found:
	ep->port = st.port;
	memcpy(ep->token, st.token, sizeof ep->token);
	rc = 0;
out:
	if (lock >= 0)
		agent_lock_release(lock);
	if (rc != 0)
		relay_endpoint_clear(ep);
	sodium_memzero(&st, sizeof st);
	free(key);
	free(state_dir);
	relay_binary_clear(&bin);
	return rc;
}

void
relay_endpoint_clear(struct relay_endpoint *ep)
{
	free(ep->address);
	sodium_memzero(ep, sizeof *ep);
}

int
relay_install_unchanged(struct docker *d, const cJSON *container, const char *cid,
    const struct relay_known *known)
{
	const cJSON *started = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(container, "State"), "StartedAt");
	struct relay_state st;
	char *address, *state_dir;
	int same;

	if (known->container_id == NULL || known->address == NULL ||
	    strcmp(cid, known->container_id) != 0 || !cJSON_IsString(started))
		return 0;
	address = relay_address(d, container, NULL, "", NULL);
	same = address != NULL && strcmp(address, known->address) == 0;
	free(address);
	if (!same || (state_dir = agent_state_dir(NULL)) == NULL)
		return 0;
	/* A stop and start keeps the id (and often the address) but ends the
	 * relay: the known target holds only if the relay was recorded for
	 * this start (as relay_install_endpoint trusts it). */
	same = relay_state_read(state_dir, cid, &st) == 0 && st.started[0] != '\0' &&
	    strcmp(st.started, started->valuestring) == 0;
	sodium_memzero(&st, sizeof st);
	free(state_dir);
	return same;
}

/* Is there no container of folder whatever its configuration (one that
 * did not load)? A failure to ask Docker is not a no. */
static int
relay_install_none_of(const char *folder, const cJSON *id_labels, struct docker *d)
{
	cJSON *container = NULL;
	char *cause = NULL;
	int none;

	if (workspace_folder_container(folder, id_labels, d, &container, &cause) != 0) {
		log_debug("relay: containers of %s: %s", folder, cause);
		free(cause);
		return 0;
	}
	none = container == NULL;
	cJSON_Delete(container);
	return none;
}

int
relay_install_ensure(const char *up_cmd, const char *folder, const char *config_file,
    const cJSON *id_labels, const char *service, const struct relay_known *known,
    int not_relay, int resolve_only, cJSON **result, char **cause)
{
	struct workspace ws;
	struct docker *d = docker_new(NULL);
	struct relay_endpoint ep;
	struct relay_state st;
	struct stat sb;
	const char *cid;
	int rc = -1;

	*result = NULL;
	memset(&ep, 0, sizeof ep);
	memset(&ws, 0, sizeof ws);
	/* (told apart from a configuration that cannot be read, which may be
	 * one being edited: only a folder that is not there is definitive) */
	if (stat(folder, &sb) != 0 && (errno == ENOENT || errno == ENOTDIR)) {
		error_set(cause, "the workspace folder %s does not exist", folder);
		rc = RELAY_INSTALL_ABSENT;
		goto out;
	}
	if (workspace_open(folder, config_file, id_labels, d, &ws, cause) != 0) {
		/* a configuration not found or unreadable: definitive only
		 * when no container of the folder is there either */
		if (ws.cfg == NULL && relay_install_none_of(folder, id_labels, d)) {
			error_prefix(cause, "no dev container for %s", folder);
			rc = RELAY_INSTALL_ABSENT;
		}
		goto out;
	}
	if (ws.container == NULL) {
		error_set(
		    cause, "no dev container for %s (run `%s` first)", folder, up_cmd);
		rc = RELAY_INSTALL_ABSENT;
		goto out;
	}
	/* (a forward reaches servers the owner bound to the container's
	 * loopback only, as exec would: the same refusal) */
	if (owner_check(ws.container, cause) != 0) {
		rc = RELAY_INSTALL_NOT_OWNER;
		goto out;
	}
	cid = workspace_container_id(&ws);
	if (!docker_container_running(ws.container)) {
		error_set(cause,
		    "the dev container %.12s of %s is not running (run `%s`)", cid,
		    folder, up_cmd);
		rc = RELAY_INSTALL_STOPPED;
		goto out;
	}
	if (resolve_only) {
		*result = cJSON_CreateObject();
		cJSON_AddStringToObject(*result, "containerId", cid);
		cJSON_AddBoolToObject(*result, "running", 1);
		/* (the broker refuses a "SERVICE:PORT" of any other workspace
		 * at once: its forward could never answer) */
		cJSON_AddBoolToObject(*result, "compose", ws.compose_project != NULL);
		rc = 0;
		goto out;
	}
	if (service != NULL) {
		rc = relay_service(d, &ws, folder, service, result, cause);
		goto out;
	}
	if (known != NULL && not_relay == 0 &&
	    relay_install_unchanged(d, ws.container, cid, known)) {
		*result = cJSON_CreateObject();
		cJSON_AddStringToObject(*result, "containerId", cid);
		cJSON_AddBoolToObject(*result, "unchanged", 1);
		rc = 0;
		goto out;
	}
	if (known != NULL && known->check_only) {
		/* (the relay's start below may take seconds: the broker's
		 * connections wait for it rather than go to the old target
		 * once their bound for a check passed) */
		*result = cJSON_CreateObject();
		cJSON_AddStringToObject(*result, "containerId", cid);
		cJSON_AddBoolToObject(*result, "changed", 1);
		rc = 0;
		goto out;
	}
	if (relay_install_endpoint(d, ws.container, 0, not_relay, &ep, cause) != 0)
		goto out;
	memset(&st, 0, sizeof st);
	st.port = ep.port;
	memcpy(st.token, ep.token, sizeof st.token);
	*result = relay_result(cid, ep.address, &st);
	sodium_memzero(&st, sizeof st);
	rc = 0;
out:
	relay_endpoint_clear(&ep);
	workspace_clear(&ws);
	docker_free(d);
	return rc;
}

int
relay_install_binary(struct docker *d, const char *cid, char **cause)
{
	struct relay_binary bin = { 0 };
	char *state_dir = NULL, *key = NULL;
	int lock = -1, rc = -1;

	if (relay_binary_load(&bin, cause) != 0 ||
	    (state_dir = agent_state_dir(cause)) == NULL)
		goto out;
	if (relay_copied(state_dir, cid, bin.hash)) {
		rc = 0;
		goto out;
	}
	key = xasprintf("relay-%s", cid);
	if ((lock = agent_lock_acquire(state_dir, key, NULL, NULL, cause)) < 0)
		goto out;
	/* Another process may have copied it while we waited. */
	if (relay_copied(state_dir, cid, bin.hash))
		rc = 0;
	else {
		log_debug("relay: container %.12s: copying rdev-relay in", cid);
		rc = relay_upload(d, state_dir, cid, &bin, 0, cause);
	}
out:
	if (lock >= 0)
		agent_lock_release(lock);
	free(key);
	free(state_dir);
	relay_binary_clear(&bin);
	return rc;
}
