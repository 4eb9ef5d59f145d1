/* agent.c - rdev-agent's command table and entry point. */
#include "agent.h"
#include "agent-cmds.h"
#include "serve.h"

#include <signal.h>

#define AGENT_CMD_WRAPPER(fn, name, impl) \
	static int fn(int argc, char **argv) \
	{ \
		return impl( \
		    &agent_program, cmd_lookup(&agent_program, name), argc, argv); \
	}
static int agent_up_exec(int, char **);
static int agent_exec_exec(int, char **);
static int agent_stop_exec(int, char **);
static int agent_down_exec(int, char **);
static int agent_ls_exec(int, char **);
static int agent_logs_exec(int, char **);

static const struct cmd_entry agent_commands[] = {
	{ "up",
	    "[PATH] [--config FILE] [--rebuild] [--recreate] "
	    "[--skip-non-blocking-commands] "
	    "[--skip-post-create] [--skip-post-attach] [--json]",
	    "create or resume the dev container for the workspace at PATH",
	    AGENT_CMD_UP_HELP, agent_up_exec },
	{ "read-configuration", "PATH [--config FILE] [--include-merged-configuration]",
	    "print the workspace's configuration as JSON", CMD_READ_CONFIGURATION_HELP,
	    agent_read_configuration_exec },
	{ "exec", "[PATH] [--config FILE] [--] COMMAND [ARGS...]",
	    "run a command in the dev container; exits with its status",
	    "Runs as the remote user, with the remote environment, in the workspace\n"
	    "folder. A TTY when stdin is a terminal. Exit status: the command's, or\n"
	    "125 when it could not be run.\n",
	    agent_exec_exec },
	{ "stop", "[PATH] [--config FILE] [--json]", "stop the dev container (keeps it)",
	    NULL, agent_stop_exec },
	{ "down", "[PATH] [--config FILE] [--volumes] [--json]",
	    "remove the dev container (--volumes: and its volumes)",
	    "A workspace without a container is a no-op (exit 0).\n", agent_down_exec },
	{ "ls", "[--json]", "list the dev containers on this host", NULL, agent_ls_exec },
	{ "logs", "[PATH] [--config FILE] [-f | --json]",
	    "show the background lifecycle log of the dev container", AGENT_CMD_LOGS_HELP,
	    agent_logs_exec },
	{ "serve", "[--listen ID]", "speak the rdev protocol (used by the broker)",
	    "Sends HELLO, then answers requests (version, info, read-configuration,\n"
	    "up, stop, down, ls, logs, exec) until stdin ends; see docs/PROTOCOL.md.\n"
	    "Meant to run over an SSH exec channel: ssh HOST rdev-agent serve.\n"
	    "\n"
	    "--listen ID: be the host's long-lived agent instead: listen on the unix\n"
	    "socket ~/.rdev/run/agent-ID.sock (ID: 8-32 hex digits), serve each\n"
	    "connection as above, say where on stdout, and stop listening when stdin\n"
	    "ends.\n",
	    serve_cmd },
	{ "info", "", "print this host's capacity and environments as JSON", NULL, NULL },
};

const struct cmd_program agent_program = {
	"rdev-agent",
	"The rdev agent: runs dev containers on this Docker host.",
	agent_commands,
	sizeof agent_commands / sizeof agent_commands[0],
};

AGENT_CMD_WRAPPER(agent_up_exec, "up", agent_cmd_up)
AGENT_CMD_WRAPPER(agent_exec_exec, "exec", agent_cmd_exec)
AGENT_CMD_WRAPPER(agent_stop_exec, "stop", agent_cmd_stop)
AGENT_CMD_WRAPPER(agent_down_exec, "down", agent_cmd_down)
AGENT_CMD_WRAPPER(agent_ls_exec, "ls", agent_cmd_ls)
AGENT_CMD_WRAPPER(agent_logs_exec, "logs", agent_cmd_logs)

int
main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	return cmd_main(&agent_program, argc, argv);
}
