/* cmd-stop.c - `rdev stop TARGET`: stop the dev container, keep it (the
 * shared command, agent-cmds.h, on TARGET's backend). */
#include "client.h"

static int
cmd_stop_exec(int argc, char **argv)
{
	static const struct client_target_hook hook = { .parse = agent_cmd_stop_parse,
		.entry = &cmd_stop_entry };
	struct client_target ct;
	int rc;

	if ((rc = client_target_open_hook("stop", argc, argv, 0, &hook, &ct)) ==
	    CMD_EXIT_OK)
		rc = agent_cmd_stop(
		    &ct.be, &client_program, &cmd_stop_entry, ct.argc, ct.argv);
	client_target_close(&ct);
	return rc;
}

const struct cmd_entry cmd_stop_entry = { "stop",
	"TARGET " AGENT_CMD_WORKSPACE_USAGE " [--json] " AGENT_CMD_ID_LABEL_USAGE,
	"stop the dev container (keeps it)",
	AGENT_CMD_BROKEN_CONFIG_HELP
	"options:\n" AGENT_CMD_WORKSPACE_HELP
	"  --json          one line on stdout: {\"outcome\":\"success\",\"stopped\":N,\n"
	"                  \"alreadyStopped\":M} (N stopped now, M were "
	"already)\n" AGENT_CMD_ID_LABEL_HELP "\n" CLIENT_TARGET_HELP,
	cmd_stop_exec };
