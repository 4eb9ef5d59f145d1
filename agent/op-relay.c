/* op-relay.c - the "relay" operation, asked by the broker for `rdev
 * forward`: make sure the port relay runs in the workspace's container (or
 * Compose "service"'s) and answer how to reach it (relay-install.h). */
#include "agent-ops.h"

#include <stdlib.h>

#include <cjson/cJSON.h>

#include "relay-install.h"

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
	return rc == RELAY_INSTALL_ABSENT   ? AGENT_OP_ERR_NO_WORKSPACE
	    : rc == RELAY_INSTALL_STOPPED   ? AGENT_OP_ERR_NOT_RUNNING
	    : rc == RELAY_INSTALL_NOT_OWNER ? AGENT_OP_ERR_NOT_OWNER
	    : rc != 0			    ? -1
					    : 0;
}

const struct agent_op agent_op_relay = { "relay", AGENT_OP_WORKSPACE, op_relay_run,
	"start the port relay in the container (for `rdev forward`)" };
