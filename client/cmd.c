/* cmd.c - the rdev client's command table. */
#include "client.h"

#include <signal.h>

static const struct cmd_entry client_commands[] = {
	{ "up", "TARGET [--rebuild] [--recreate]",
	  "create or resume the dev container for TARGET and forward its ports",
	  "TARGET is [user@]host[:port]:path, ssh://user@host:port/path or a local path.\n",
	  NULL },
	{ "exec", "TARGET [--] COMMAND [ARGS...]",
	  "run a command in the dev container; exits with its status", NULL, NULL },
	{ "shell", "TARGET", "open an interactive shell in the dev container", NULL, NULL },
	{ "forward", "TARGET SPEC... | --list | --stop SPEC",
	  "forward ports (3000, 8080:3000, 5432:db:5432) to localhost", NULL, NULL },
	{ "ls", "", "list your dev containers and forwards", NULL, NULL },
	{ "status", "TARGET", "show the state of one dev container", NULL, NULL },
	{ "logs", "TARGET", "show the lifecycle log of a dev container", NULL, NULL },
	{ "stop", "TARGET", "stop the dev container (keeps it)", NULL, NULL },
	{ "down", "TARGET [--volumes]", "remove the dev container", NULL, NULL },
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
