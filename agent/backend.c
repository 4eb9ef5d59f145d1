/* backend.c - the local backend of the workspace commands (agent-cmds.h):
 * each request runs by the table of agent-ops.h in this process, exec on
 * this host's Docker. */
#include "agent-cmds.h"

#include "agent-ops.h"

static int
backend_local_call(
    void *ctx, cJSON *req, const struct progress *p, cJSON **result, char **cause)
{
	int rc = agent_op_call(req, "rdev", p, result, cause);

	cJSON_Delete(req);
	return rc;
}

static int
backend_local_exec(void *ctx, const char *prog_name, const char *folder,
    const char *config_file, char *const *command, int ncommand)
{
	return agent_exec_local(prog_name, folder, config_file, command, ncommand);
}

const struct agent_backend agent_backend_local = {
	backend_local_call,
	backend_local_exec,
	NULL,
};
