/* agent.c - rdev-agent's command table and entry point. */
#include "agent.h"
#include "idle-watch.h"
#include "agent-cmds.h"
#include "serve.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "read-configuration.h"

/* rdev-agent's workspace commands: the shared ones (agent-cmds.h) on the
 * local backend. */
#define AGENT_CMD_WRAPPER(fn, name, impl) \
	static int fn(int argc, char **argv) \
	{ \
		return impl(&agent_backend_local, &agent_program, \
		    cmd_lookup(&agent_program, name), argc, argv); \
	}
static int agent_up_exec(int, char **);
static int agent_read_configuration_exec(int, char **);
static int agent_exec_exec(int, char **);
static int agent_stop_exec(int, char **);
static int agent_down_exec(int, char **);
static int agent_ls_exec(int, char **);
static int agent_logs_exec(int, char **);
static int agent_info_exec(int, char **);

static const struct cmd_entry agent_commands[] = {
	{ "up", "[PATH] " AGENT_CMD_UP_USAGE,
	    "create or resume the dev container for the workspace at PATH",
	    AGENT_CMD_UP_HELP, agent_up_exec },
	{ "read-configuration",
	    "PATH [--config FILE] [--override-config FILE] "
	    "[--additional-features JSON] "
	    "[--include-merged-configuration] [--include-features-configuration] "
	    "[--mount-workspace-git-root true|false] " AGENT_CMD_ID_LABEL_USAGE,
	    "print the workspace's configuration as JSON", CMD_READ_CONFIGURATION_HELP,
	    agent_read_configuration_exec },
	{ "exec", "[PATH] " AGENT_CMD_EXEC_USAGE,
	    "run a command in the dev container; exits with its status",
	    "Runs as the remote user, with the remote environment, in the workspace\n"
	    "folder. A TTY when stdin and stdout are both terminals. Exit status:\n"
	    "the command's, or 125 when it could not be run.\n\n" AGENT_CMD_EXEC_OPTIONS,
	    agent_exec_exec },
	{ "stop", "[PATH] [--config FILE] [--json] " AGENT_CMD_ID_LABEL_USAGE,
	    "stop the dev container (keeps it)",
	    AGENT_CMD_BROKEN_CONFIG_HELP "options:\n" AGENT_CMD_ID_LABEL_HELP,
	    agent_stop_exec },
	{ "down", "[PATH] [--config FILE] [--volumes] [--json] " AGENT_CMD_ID_LABEL_USAGE,
	    "remove the dev container (--volumes: and its volumes)",
	    "A workspace without a container is a no-op (exit "
	    "0).\n" AGENT_CMD_BROKEN_CONFIG_HELP "options:\n" AGENT_CMD_ID_LABEL_HELP,
	    agent_down_exec },
	{ "ls", "[--all] [--json]", "list your dev containers on this host",
	    "Your dev containers: those whose owner label names your user, or, made\n"
	    "by another tool, whose workspace folder you own.\n\n"
	    "options:\n"
	    "  --all   everyone's, with their owner\n"
	    "  --json  an array of objects\n",
	    agent_ls_exec },
	{ "logs", "[PATH] [--config FILE] [-f | --json] " AGENT_CMD_ID_LABEL_USAGE,
	    "show the background lifecycle log of the dev container", AGENT_CMD_LOGS_HELP,
	    agent_logs_exec },
	{ "serve", "[--listen ID]", "speak the rdev protocol (used by the broker)",
	    "Sends HELLO, then answers requests until stdin ends: version, resize,\n"
	    "signal, cancel and the operations " AGENT_SERVE_OPS "\n"
	    "(docs/PROTOCOL.md).\n"
	    "Meant to run over an SSH exec channel: ssh HOST rdev-agent serve.\n"
	    "\n"
	    "--listen ID: be the host's long-lived agent instead: listen on the unix\n"
	    "socket ~/.rdev/run/agent-ID.sock (ID: 8-32 hex digits), serve each\n"
	    "connection as above, say where on stdout, and stop listening when stdin\n"
	    "ends.\n",
	    serve_cmd },
	{ "info", "", "print this host's capacity and environments as JSON", NULL,
	    agent_info_exec },
	{ "connect", "[--status] CONTAINER PORT",
	    "carry one connection to PORT in the container (used by the broker)",
	    "Connects stdin and stdout to PORT on the container's loopback through\n"
	    "a Docker exec of its rdev-relay (`/.rdev-relay --connect PORT`), for\n"
	    "forwards whose container address does not answer (Docker Desktop).\n"
	    "Half closes are passed on both ways; exit 1 with a message when\n"
	    "nothing listens there. --status: stdout starts with a byte, 0 once\n"
	    "connected, else 1 (nothing listens) or 2 and the reason.\n",
	    agent_cmd_connect },
	{ "idle-watch", "CONTAINER",
	    "stop the container once unused (started by up --idle-stop)",
	    "Watches the container every few seconds and stops it once no exec has\n"
	    "run in it and no TCP connection has been open in its network\n"
	    "namespace for the idle limit `up` armed; ends when the container stops\n"
	    "or goes. One per container.\n",
	    idle_watch_cmd },
};

_Static_assert(sizeof agent_commands / sizeof agent_commands[0] == 11,
    "agent_command_list lists every entry");
static const struct cmd_entry *const agent_command_list[] = {
	&agent_commands[0],
	&agent_commands[1],
	&agent_commands[2],
	&agent_commands[3],
	&agent_commands[4],
	&agent_commands[5],
	&agent_commands[6],
	&agent_commands[7],
	&agent_commands[8],
	&agent_commands[9],
	&agent_commands[10],
	NULL,
};

static const char *const agent_exit_status[] = { "N",
	"exec: the command's own status (128+N when killed by signal N)", NULL };

const struct cmd_program agent_program = {
	"rdev-agent",
	"The rdev agent: runs dev containers on this Docker host.",
	agent_command_list,
	NULL,
	NULL,
	agent_exit_status,
	NULL,
};

static int
agent_cmd_up_here(const struct agent_backend *be, const struct cmd_program *prog,
    const struct cmd_entry *entry, int argc, char **argv)
{
	return agent_cmd_up(be, prog, entry, argc, argv, NULL, NULL, NULL);
}

/* `info`: the "info" operation's answer. */
static int
agent_info_exec(int argc, char **argv)
{
	cJSON *req = cJSON_CreateObject(), *res = NULL;
	char *cause = NULL, *text;

	if (argc > 1)
		return cmd_usage_error(&agent_program, cmd_lookup(&agent_program, "info"),
		    "unexpected argument %s", argv[1]);
	cJSON_AddStringToObject(req, "op", "info");
	if (agent_backend_local.call(NULL, req, NULL, &res, &cause) != 0) {
		fprintf(stderr, "rdev-agent: info: %s\n", cause);
		free(cause);
		cJSON_Delete(res);
		return CMD_EXIT_FAILURE;
	}
	text = cJSON_PrintUnformatted(res);
	printf("%s\n", text);
	free(text);
	cJSON_Delete(res);
	return CMD_EXIT_OK;
}

AGENT_CMD_WRAPPER(agent_up_exec, "up", agent_cmd_up_here)
AGENT_CMD_WRAPPER(
    agent_read_configuration_exec, "read-configuration", agent_cmd_read_configuration)
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
