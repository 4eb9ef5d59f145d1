/* cmd-read-configuration.c - `rdev read-configuration TARGET`: print a
 * workspace's configuration as JSON (the shared command, agent-cmds.h, on
 * TARGET's backend: this machine or the host's agent). */
#include "client.h"

#include "read-configuration.h"

/* read-configuration's usage errors, before a remote TARGET's host is reached
 * (client_target_hook). */
static int
cmd_read_configuration_check(int argc, char **argv, void *arg)
{
	(void)arg;
	return agent_cmd_read_configuration_check(
		   &client_program, &cmd_read_configuration_entry, argc, argv) == 0
	    ? CMD_EXIT_OK
	    : CMD_EXIT_USAGE;
}

static int
cmd_read_configuration_exec(int argc, char **argv)
{
	static const struct client_target_hook hook = {
		.check = cmd_read_configuration_check
	};
	struct client_target ct;
	int rc;

	if ((rc = client_target_open_hook("read-configuration", argc, argv,
		 CLIENT_TARGET_QUIET, &hook, &ct)) == CMD_EXIT_OK)
		rc = agent_cmd_read_configuration(&ct.be, &client_program,
		    &cmd_read_configuration_entry, ct.argc, ct.argv);
	client_target_close(&ct);
	return rc;
}

const struct cmd_entry cmd_read_configuration_entry = { "read-configuration",
	"TARGET [--config FILE] [--workspace-folder PATH] [--override-config FILE] "
	"[--additional-features JSON] "
	"[--include-merged-configuration] [--include-features-configuration] "
	"[--mount-workspace-git-root true|false] " AGENT_CMD_ID_LABEL_USAGE,
	"print the configuration as JSON",
	CMD_READ_CONFIGURATION_HELP "\n" CLIENT_TARGET_HELP,
	cmd_read_configuration_exec };
