/* cmd-down.c - `rdev down TARGET`: remove the dev container (the shared
 * command, agent-cmds.h, on TARGET's backend), then stop the workspace's
 * forwards in the broker. */
#include "client.h"

#include <stdio.h>
#include <stdlib.h>

#include "progress.h"

static int
cmd_down_exec(int argc, char **argv)
{
	static const struct client_target_hook hook = { .parse = agent_cmd_down_parse,
		.entry = &cmd_down_entry };
	struct client_target ct;
	char *cause = NULL;
	int rc;

	if ((rc = client_target_open_hook("down", argc, argv, 0, &hook, &ct)) ==
	    CMD_EXIT_OK)
		rc = agent_cmd_down(
		    &ct.be, &client_program, &cmd_down_entry, ct.argc, ct.argv);
	if (rc == CMD_EXIT_OK && (ct.remote != NULL || ct.local_folder != NULL))
		client_unforward_workspace(
		    ct.remote, ct.remote != NULL ? ct.t.path : ct.local_folder);
	/* and the folder's sync, if the broker keeps one */
	if (rc == CMD_EXIT_OK && ct.remote != NULL && ct.src.kind == SOURCE_LOCAL &&
	    sync_kept_stop(&ct, &cause) < 0) {
		/* (a warning: -q holds it) */
		progress_stderr_line(client_log_json(ct.argc, ct.argv),
		    "rdev: down: warning: the sync goes on: %s", cause);
		free(cause);
	}
	client_target_close(&ct);
	return rc;
}

const struct cmd_entry cmd_down_entry = { "down",
	"TARGET " AGENT_CMD_WORKSPACE_USAGE
	" [--volumes] [--json] " AGENT_CMD_ID_LABEL_USAGE,
	"remove the dev container (--volumes: and its volumes)",
	"A workspace without a container is a no-op (exit "
	"0).\n" AGENT_CMD_BROKEN_CONFIG_HELP "options:\n" AGENT_CMD_WORKSPACE_HELP
	"  --volumes       remove the named volumes of the configuration's mounts\n"
	"                  (unless another container uses one) and a Compose\n"
	"                  project's; after a plain down, those that can be found\n"
	"                  without the container (a warning says what cannot,\n"
	"                  when the container had volumes only it knew)\n"
	"  --json          one line on stdout: {\"outcome\":\"success\",\"removed\":N\n"
	"                  "
	"[,\"removedVolumes\",\"keptVolumes\"]}\n" AGENT_CMD_ID_LABEL_HELP
	"\n" CLIENT_TARGET_HELP,
	cmd_down_exec };
