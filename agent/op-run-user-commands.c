/* op-run-user-commands.c - the "run-user-commands" operation: the lifecycle
 * steps of the workspace's running dev container that have not run in it
 * yet, as up runs them on a container it reuses (up_user_commands(), up.h:
 * the same runner, the same markers), nothing created or started. Answers
 * the reference CLI's {"outcome":"success","result":"done"} ("result":
 * where it stopped: "done", "skipNonBlocking", "prebuild",
 * "stopForPersonalization"); on failure, with the error,
 * {"description":...}, the reference's field of its error result besides
 * the message. The request's fields are docs/PROTOCOL.md's
 * ("run-user-commands"). */
#include "agent-ops.h"

#include <stdlib.h>

#include "error.h"
#include "secrets.h"
#include "up.h"

static int
op_run_user_commands_run(const struct agent_op_req *r, cJSON **result, char **cause)
{
	struct up_opts opts = { 0 };
	const char *word;
	char *description = NULL, *up_cmd = NULL;
	int rc = -1;

	*result = NULL;
	if (op_up_steps_opts(r, &opts, cause) != 0)
		goto out;
	opts.common_dir = workspace_common_dir_of(
	    cJSON_GetObjectItemCaseSensitive(r->json, "gitWorktreeCommonDir"));
	opts.prebuild = agent_op_req_bool(r, "prebuild");
	opts.stop_for_personalization = agent_op_req_bool(r, "stopForPersonalization");
	/* (skipNonBlockingCommands stops after waitFor: a prebuild's later
	 * call runs the rest) */
	opts.no_background = 1;
	opts.progress.mask = opts.secrets;
	up_cmd = agent_op_req_up_cmd(r, r->prog_name);
	if (up_user_commands(&opts, up_cmd, &word, &description, cause) != 0) {
		secrets_mask_inplace(opts.secrets, cause);
		*result = cJSON_CreateObject();
		cJSON_AddStringToObject(*result, "description",
		    description != NULL
			? description
			: "An error occurred running user commands in the "
			  "container.");
		goto out;
	}
	*result = cJSON_CreateObject();
	cJSON_AddStringToObject(*result, "outcome", "success");
	cJSON_AddStringToObject(*result, "result", word);
	rc = 0;
out:
	free(description);
	free(up_cmd);
	secrets_free(opts.secrets);
	return rc;
}

const struct agent_op agent_op_run_user_commands = { "run-user-commands",
	AGENT_OP_WORKSPACE, op_run_user_commands_run,
	"run the lifecycle steps of the running dev container not run yet" };
