/* op-relay.c - the "relay" operation, asked by the broker for `rdev
 * forward`: make sure the port relay runs in the workspace's container (or
 * Compose "service"'s) and answer how to reach it (relay-install.h). */
#include "agent-ops.h"

#include <stdlib.h>

#include <cjson/cJSON.h>

#include "relay-install.h"

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
