/* cmd.c - the rdev client's command table. */
#include "client.h"
#include "agent-cmds.h"

#include <signal.h>

#define CLIENT_TARGET_HELP \
	"TARGET is a workspace folder: a local path, [user@]host[:port]:path or\n" \
	"ssh://[user@]host[:port]/path (~ is the remote user's home; a relative\n" \
	"path is relative to it). host may be an alias from ~/.ssh/config;\n" \
	"$RDEV_SSH_CONFIG names another config file (as ssh -F), $RDEV_KNOWN_HOSTS\n" \
	"another known_hosts file. Remote targets go through the broker\n" \
	"(rdev-broker), started on demand, which keeps one SSH session per host.\n" \
	"  --accept-new-host-key   trust and record the key of a host never seen\n" \
	"                          before (a changed key is always refused)\n"

static const struct cmd_entry client_commands[] = {
	{ "up",
	    "TARGET [--config FILE] [--rebuild] [--recreate] "
	    "[--skip-non-blocking-commands] "
	    "[--skip-post-create] [--skip-post-attach] [--json]",
	    "create or resume the dev container for TARGET",
	    CLIENT_TARGET_HELP
	    "\n" AGENT_CMD_UP_HELP
	    "  --auto-forward  (remote targets) also forward ports the container\n"
	    "                  starts listening on later (see `rdev forward --auto`)\n",
	    client_up_exec },
	{ "exec", "TARGET [--config FILE] [--] COMMAND [ARGS...]",
	    "run a command in the dev container; exits with its status",
	    "Runs as the remote user, with the remote environment, in the workspace\n"
	    "folder. A TTY when stdin is a terminal (TERM and the window size are\n"
	    "passed on); otherwise stdin, stdout and stderr are raw byte streams.\n"
	    "Ctrl-C, SIGTERM and SIGHUP are passed to the command. Exit status: the\n"
	    "command's (128+N when killed by signal N), or 125 when it could not be\n"
	    "run or the connection broke.\n\n" CLIENT_TARGET_HELP,
	    client_exec_exec },
	{ "shell", "TARGET [--config FILE]",
	    "open an interactive shell in the dev container",
	    "Runs the remote user's shell (from the container's /etc/passwd, else\n"
	    "/bin/sh) as `exec` would. Exit status: the shell's.\n\n" CLIENT_TARGET_HELP,
	    client_shell_exec },
	{ "forward",
	    "TARGET SPEC... | TARGET --auto | TARGET --stop SPEC | TARGET --stop-all | "
	    "--list [--json]",
	    "forward ports (3000, 8080:3000, 5432:db:5432) to localhost",
	    "SPEC: PORT (local PORT, or the next free one, -> container PORT),\n"
	    "LOCAL:PORT (LOCAL must be free), SERVICE:PORT or LOCAL:SERVICE:PORT (a\n"
	    "Compose service). Local listeners are on 127.0.0.1 and ::1. A server bound\n"
	    "to 127.0.0.1 inside the container is reached too (through a small relay\n"
	    "the agent starts in the container). Forwards live in the broker: they\n"
	    "outlast this command, survive a dropped connection (the broker\n"
	    "reconnects) and a restarted broker (they are saved); they end with\n"
	    "`rdev down`, --stop or `rdev-broker stop --forget`.\n"
	    "--stop takes the local port as listed. --auto: watch the container for\n"
	    "new listening TCP ports (every second) and forward them as\n"
	    "portsAttributes' onAutoForward says (ignore: not; openBrowser: the URL is\n"
	    "listed; notify, silent: forwarded and listed).\n\n" CLIENT_TARGET_HELP,
	    client_forward_exec },
	{ "ls", "[TARGET] [--json]", "list your dev containers and forwards",
	    "Without TARGET: the dev containers of this machine's Docker. With a\n"
	    "remote TARGET (host:path, the path is ignored): those of that host.\n",
	    client_ls_exec },
	{ "status", "TARGET", "show the state of one dev container", NULL, NULL },
	{ "logs", "TARGET [--config FILE] [-f | --json]",
	    "show the background lifecycle log of a dev container", AGENT_CMD_LOGS_HELP,
	    client_logs_exec },
	{ "stop", "TARGET [--config FILE] [--json]", "stop the dev container (keeps it)",
	    NULL, client_stop_exec },
	{ "down", "TARGET [--config FILE] [--volumes] [--json]",
	    "remove the dev container (--volumes: and its volumes)",
	    "A workspace without a container is a no-op (exit 0).\n", client_down_exec },
	{ "read-configuration", "TARGET [--config FILE] [--include-merged-configuration]",
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
