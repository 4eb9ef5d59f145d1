/* cmd-exec.c - `rdev exec TARGET [--] COMMAND...`: run a command in the dev
 * container (the shared command, agent-cmds.h, on TARGET's backend). */
#include "client.h"

static int
cmd_exec_exec(int argc, char **argv)
{
	static const struct client_target_hook hook = { .parse = agent_cmd_exec_parse,
		.entry = &cmd_exec_entry };
	struct client_target ct;
	int rc;

	if ((rc = client_target_open_hook("exec", argc, argv,
		 CLIENT_TARGET_QUIET | CLIENT_TARGET_COMMAND | CLIENT_TARGET_EXEC, &hook,
		 &ct)) == CMD_EXIT_OK)
		rc = agent_cmd_exec(
		    &ct.be, &client_program, &cmd_exec_entry, ct.argc, ct.argv);
	client_target_close(&ct);
	return rc;
}

const struct cmd_entry cmd_exec_entry = { "exec", "TARGET " AGENT_CMD_EXEC_USAGE,
	"run a command in the dev container; exits with its status",
	"Runs as the remote user, with the remote environment, in the workspace\n"
	"folder. A TTY when stdin and stdout are both terminals (TERM and the\n"
	"window size are passed on); otherwise (`> file`, `| cmd`) stdin, stdout\n"
	"and stderr are raw byte streams, byte-exact and kept apart.\n"
	"Ctrl-C, and SIGINT, SIGQUIT, SIGTERM and SIGHUP sent to rdev, are passed\n"
	"to the command (a third one gives up on it; one rdev was started\n"
	"ignoring, as under nohup, stays ignored). Exit status: the\n"
	"command's (128+N when killed by signal N); 126 when it is not\n"
	"executable, 127 when it is not found (as a shell's and docker exec's);\n"
	"125 when rdev itself failed (the container or host not reached, the\n"
	"connection broke); 2 for a usage error. Without TARGET the command\n"
	"goes after -- (`rdev exec -- ls -d /`): a first word that is no folder\n"
	"here, or is followed by an option, is refused with that hint.\n"
	"A devcontainer.json that does not load: the running container found\n"
	"by its labels runs the command with its recorded configuration (a\n"
	"warning says so).\n\n" AGENT_CMD_EXEC_OPTIONS "\n" CLIENT_TARGET_HELP,
	cmd_exec_exec };
