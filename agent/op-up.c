/* op-up.c - the "up" operation: create or resume the workspace's dev
 * container and run its lifecycle steps (up.h). Answers the CLI's --json
 * result, {"outcome":"success","containerId":...}, with "ports" (the merged
 * forwardPorts and portsAttributes) when "includePorts" is true. */
#include "agent-ops.h"

#include "up.h"

static int
op_up_run(const struct agent_op_req *r, cJSON **result, char **cause)
{
	struct up_opts opts = { 0 };
	struct up_result res;

	opts.workspace_folder = r->workspace;
	opts.config_file = r->config;
	opts.rebuild = agent_op_req_bool(r, "rebuild");
	opts.recreate = agent_op_req_bool(r, "recreate");
	opts.skip_non_blocking = agent_op_req_bool(r, "skipNonBlockingCommands");
	opts.skip_post_create = agent_op_req_bool(r, "skipPostCreate");
	opts.skip_post_attach = agent_op_req_bool(r, "skipPostAttach");
	opts.include_ports = agent_op_req_bool(r, "includePorts");
	opts.progress = *r->progress;
	*result = NULL;
	if (up_run(&opts, &res, cause) != 0)
		return -1;
	*result = up_result_json(&res);
	if (opts.include_ports && res.ports != NULL) {
		cJSON_AddItemToObject(*result, "ports", res.ports);
		res.ports = NULL;
	}
	up_result_free(&res);
	return 0;
}

const struct agent_op agent_op_up = { "up", AGENT_OP_WORKSPACE, op_up_run,
	"create or resume the dev container, run its lifecycle steps" };
