/* backend.c - the local backend of the workspace commands (agent-cmds.h):
 * each request runs by the table of agent-ops.h in this process, exec on
 * this host's Docker. */
#include "agent-cmds.h"

#include "agent-ops.h"
#include "secrets.h"

static int
backend_local_call(
    void *ctx, cJSON *req, const struct progress *p, cJSON **result, char **cause)
{
	int rc = agent_op_call(req, "rdev", p, result, cause);
	const char *code = agent_op_error_code(rc);

	secrets_request_wipe(req);
	cJSON_Delete(req);
	/* (into the details, as a remote agent's answer gives it:
	 * proto_conn_response) */
	if (code != NULL) {
		if (*result == NULL)
			*result = cJSON_CreateObject();
		cJSON_AddStringToObject(*result, "errorCode", code);
	}
	return rc != 0 ? -1 : 0;
}

static int
backend_local_exec(void *ctx, const char *prog_name, const struct agent_exec_req *req)
{
	return agent_exec_local(prog_name, req);
}

const struct agent_backend agent_backend_local = {
	.call = backend_local_call,
	.exec = backend_local_exec,
};
