/* backend.c - the local backend of the workspace commands (agent-cmds.h):
 * agent-ops.h in this process. */
#include "agent-cmds.h"

#include "agent-ops.h"

static int
backend_local_up(void *ctx, const struct up_opts *opts, cJSON **result, char **cause)
{
	return agent_op_up(opts, result, cause);
}

static int
backend_local_stop(
    void *ctx, const char *folder, const char *config_file, cJSON **result, char **cause)
{
	return agent_op_stop(folder, config_file, result, cause);
}

static int
backend_local_down(void *ctx, const char *folder, const char *config_file, int volumes,
    cJSON **result, char **cause)
{
	return agent_op_down(folder, config_file, volumes, result, cause);
}

static int
backend_local_ls(void *ctx, cJSON **result, char **cause)
{
	return agent_op_ls(result, cause);
}

const struct agent_backend agent_backend_local = {
	backend_local_up,
	backend_local_stop,
	backend_local_down,
	backend_local_ls,
	NULL,
	NULL,
};
