/* cmd.c - the rdev client's command table. */
#include "client.h"
#include "agent-cmds.h"

#include <signal.h>

static const struct cmd_entry client_commands[] = {
	{ "up", "TARGET [--config FILE] [--rebuild] [--recreate] [--json]",
	  "create or resume the dev container for TARGET",
	  "TARGET is a local path ([user@]host[:port]:path and ssh://user@host:port/path\n"
	  "are not available in this build yet).\n\n" AGENT_CMD_UP_HELP, client_up_exec },
	{ "exec", "TARGET [--config FILE] [--] COMMAND [ARGS...]",
	  "run a command in the dev container; exits with its status",
	  "Runs as the remote user, with the remote environment, in the workspace\n"
	  "folder. A TTY when stdin is a terminal. Exit status: the command's, or\n"
	  "125 when it could not be run.\n", client_exec_exec },
	{ "shell", "TARGET", "open an interactive shell in the dev container", NULL, NULL },
	{ "forward", "TARGET SPEC... | --list | --stop SPEC",
	  "forward ports (3000, 8080:3000, 5432:db:5432) to localhost", NULL, NULL },
	{ "ls", "[--json]", "list your dev containers and forwards", NULL, client_ls_exec },
	{ "status", "TARGET", "show the state of one dev container", NULL, NULL },
	{ "logs", "TARGET [--config FILE] [-f | --json]",
	  "show the background lifecycle log of a dev container", NULL, client_logs_exec },
	{ "stop", "TARGET [--config FILE] [--json]", "stop the dev container (keeps it)",
	  NULL, client_stop_exec },
	{ "down", "TARGET [--config FILE] [--volumes] [--json]",
	  "remove the dev container (--volumes: and its volumes)",
	  "A workspace without a container is a no-op (exit 0).\n", client_down_exec },
	{ "read-configuration",
	  "TARGET [--config FILE] [--include-merged-configuration]",
	  "print the configuration as JSON", CMD_READ_CONFIGURATION_HELP,
	  cmd_read_configuration_exec },
	{ "hosts", "add|rm|ls ...", "manage the team's host pool", NULL, NULL },
};

const struct cmd_program client_program = {
	"rdev",
	"Work inside dev containers on remote Docker hosts over SSH.",
	client_commands,
	sizeof client_commands / sizeof client_commands[0],
};

int
main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	return cmd_main(&client_program, argc, argv);
}
