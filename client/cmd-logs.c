/* cmd-logs.c - `rdev logs TARGET [-f]`: the background lifecycle log (the
 * shared command, agent-cmds.h, on TARGET's backend). */
#include "client.h"

static int
cmd_logs_exec(int argc, char **argv)
{
	static const struct client_target_hook hook = { .parse = agent_cmd_logs_parse,
		.entry = &cmd_logs_entry };
	struct client_target ct;
	int rc;

	if ((rc = client_target_open_hook("logs", argc, argv, 0, &hook, &ct)) ==
	    CMD_EXIT_OK)
		rc = agent_cmd_logs(
		    &ct.be, &client_program, &cmd_logs_entry, ct.argc, ct.argv);
	client_target_close(&ct);
	return rc;
}

const struct cmd_entry cmd_logs_entry = { "logs",
	"TARGET " AGENT_CMD_WORKSPACE_USAGE " [-f | --json] " AGENT_CMD_ID_LABEL_USAGE,
	"show the background lifecycle log of a dev container",
	AGENT_CMD_LOGS_HELP "\n" CLIENT_TARGET_HELP, cmd_logs_exec };
