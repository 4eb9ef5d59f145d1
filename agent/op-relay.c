/* op-relay.c - the "relay" operation, asked by the broker for `rdev
 * forward`: make sure the port relay runs in the workspace's container (or
 * Compose "service"'s) and answer how to reach it (relay-install.h). */
#include "agent-ops.h"

#include <sys/socket.h>

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "error.h"
#include "relay-install.h"
#include "xmalloc.h"

/* How long the reach check waits for a connect (a black-holed address
 * answers nothing: this is what `up` waits then). */
#define OP_RELAY_REACH_MS 2000

/* Can this host open a TCP connection to address:port (numeric)? A refusal
 * counts: something answered there. 0, or -1 with *cause ("connect to
 * ADDR: Network is unreachable": port is rdev's relay's, not the user's). */
static int
op_relay_reach(const char *address, int port, char **cause)
{
	struct addrinfo hints = { 0 }, *ai = NULL;
	struct pollfd pfd;
	char serv[16];
	int fd, err = 0, rc;
	socklen_t len = sizeof err;

	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(serv, sizeof serv, "%d", port);
	if ((rc = getaddrinfo(address, serv, &hints, &ai)) != 0)
		return error_set(cause, "%s: %s", address, gai_strerror(rc));
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		freeaddrinfo(ai);
		return error_set_errno(cause, errno, "socket");
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0)
		err = errno;
	freeaddrinfo(ai);
	if (err == EINPROGRESS) {
		pfd.fd = fd;
		pfd.events = POLLOUT;
		do
			rc = poll(&pfd, 1, OP_RELAY_REACH_MS);
		while (rc < 0 && errno == EINTR);
		if (rc == 0)
			err = ETIMEDOUT;
		else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
			err = errno;
	}
	close(fd);
	if (err == 0 || err == ECONNREFUSED)
		return 0;
	return error_set(cause, "connect to %s: %s", address, strerror(err));
}

/* A "reach" request (the broker's check for a "forward" request of an SSH
 * host, where sshd connects to the container's address, or of a connection
 * not answered in time): say in result's "unreachable" when this host
 * cannot connect to the container's address (rootless Docker, Docker in a
 * VM: the address is not routed here), since every connection of the
 * forward would then fail, or "reachable" when it can. A Compose service's
 * answer has no port (no relay there): reachPort, the user's port, then. */
static void
op_relay_check_reach(
    const struct agent_op_req *r, const char *known_address, cJSON *result)
{
	const char *address =
	    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(result, "address"));
	const cJSON *port = cJSON_GetObjectItemCaseSensitive(result, "port");
	char *cause = NULL;

	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(result, "changed")))
		return; /* (a new container: the check that follows asks) */
	if (address == NULL)
		address = known_address;
	if (!cJSON_IsNumber(port))
		port = cJSON_GetObjectItemCaseSensitive(r->json, "reachPort");
	if (address == NULL || !cJSON_IsNumber(port) || port->valueint < 1 ||
	    port->valueint > 65535)
		return;
	if (op_relay_reach(address, port->valueint, &cause) != 0) {
		cJSON_AddStringToObject(result, "unreachable", cause);
		free(cause);
	} else {
		/* (the broker sends a forward that went through Docker execs
		 * the usual way again) */
		cJSON_AddBoolToObject(result, "reachable", 1);
	}
}

/* A look ("resolveOnly") with "includePorts": the workspace's ports as
 * read-configuration's "ports" gives them (its portsAttributes for the
 * broker's `rdev forward PORT` forwards) into result; none when they
 * cannot be read (the forwards are made without attributes). */
static void
op_relay_add_ports(const struct agent_op_req *r, cJSON *result)
{
	cJSON *json = cJSON_Duplicate(r->json, 1), *res = NULL, *ports;
	struct agent_op_req look = *r;
	char *cause = NULL;

	cJSON_DeleteItemFromObjectCaseSensitive(json, "includePorts");
	cJSON_AddBoolToObject(json, "includePorts", 1);
	look.json = json;
	if (agent_op_read_configuration.run(&look, &res, &cause) == 0 &&
	    (ports = cJSON_DetachItemFromObjectCaseSensitive(res, "ports")) != NULL)
		cJSON_AddItemToObject(result, "ports", ports);
	free(cause);
	cJSON_Delete(res);
	cJSON_Delete(json);
}

static int
op_relay_run(const struct agent_op_req *r, cJSON **result, char **cause)
{
	char *up_cmd = agent_op_req_up_cmd(r, "rdev");
	struct relay_known known = { agent_op_req_string(r, "containerId"),
		agent_op_req_string(r, "address"), agent_op_req_bool(r, "checkOnly") };
	const cJSON *not_relay = cJSON_GetObjectItemCaseSensitive(r->json, "notRelay");
	int rc;

	/* (a broker's check of the target it has: forward_relay_request;
	 * "resolveOnly": its look at the container before it makes a
	 * request's forwards) */
	rc = relay_install_ensure(up_cmd, r->workspace, r->config, r->id_labels,
	    agent_op_req_string(r, "service"), known.container_id != NULL ? &known : NULL,
	    cJSON_IsNumber(not_relay) ? not_relay->valueint : 0,
	    agent_op_req_bool(r, "resolveOnly"), result, cause);
	free(up_cmd);
	if (rc == 0 && *result != NULL && agent_op_req_bool(r, "reach") &&
	    !agent_op_req_bool(r, "resolveOnly"))
		op_relay_check_reach(r, known.address, *result);
	if (rc == 0 && *result != NULL && agent_op_req_bool(r, "resolveOnly") &&
	    agent_op_req_bool(r, "includePorts"))
		op_relay_add_ports(r, *result);
	return rc == RELAY_INSTALL_ABSENT   ? AGENT_OP_ERR_NO_WORKSPACE
	    : rc == RELAY_INSTALL_STOPPED   ? AGENT_OP_ERR_NOT_RUNNING
	    : rc == RELAY_INSTALL_NOT_OWNER ? AGENT_OP_ERR_NOT_OWNER
	    : rc != 0			    ? -1
					    : 0;
}

const struct agent_op agent_op_relay = { "relay", AGENT_OP_WORKSPACE, op_relay_run,
	"start the port relay in the container (for `rdev forward`)" };
