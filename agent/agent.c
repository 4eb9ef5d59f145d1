/* agent.c - rdev-agent's command table and entry point. */
#include "agent.h"

#include <signal.h>

static const struct cmd_entry agent_commands[] = {
	{ "up", "PATH [--rebuild] [--recreate]",
	  "create or resume the dev container for the workspace at PATH", NULL, NULL },
	{ "read-configuration",
	  "PATH [--config FILE] [--include-merged-configuration]",
	  "print the workspace's configuration as JSON",
	  CMD_READ_CONFIGURATION_HELP, agent_read_configuration_exec },
	{ "serve", "", "speak the rdev protocol on stdin/stdout (used by the broker)",
	  NULL, NULL },
	{ "info", "", "print this host's capacity and environments as JSON", NULL, NULL },
};

const struct cmd_program agent_program = {
	"rdev-agent",
	"The rdev agent: runs dev containers on this Docker host.",
	agent_commands,
	sizeof agent_commands / sizeof agent_commands[0],
};

int
main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	return cmd_main(&agent_program, argc, argv);
}
