/* cmd-shell.c - `rdev shell TARGET`: the remote user's shell in the dev
 * container, run as `exec` runs a command. */
#include "client.h"

/* shell's arguments into *a: 0, or CMD_EXIT_USAGE after printing why. */
static int
cmd_shell_parse(const struct cmd_program *prog, const struct cmd_entry *entry, int argc,
    char **argv, struct agent_cmd_args *a)
{
	return agent_cmd_args_parse(prog, entry, argc, argv,
	    AGENT_ARG_FOLDER | AGENT_ARG_ID_LABEL | AGENT_ARG_GIT_ROOT, a);
}

static int
cmd_shell_exec(int argc, char **argv)
{
	static const struct client_target_hook hook = { .parse = cmd_shell_parse,
		.entry = &cmd_shell_entry };
	static char *const shell_cmd[] = { (char *)"/bin/sh", (char *)"-c",
		(char *)CLIENT_SHELL_SCRIPT, NULL };
	struct client_target ct;
	struct agent_cmd_args a;
	struct agent_exec_req req = { 0 };
	int rc;

	if ((rc = client_target_open_hook("shell", argc, argv,
		 CLIENT_TARGET_QUIET | CLIENT_TARGET_EXEC, &hook, &ct)) == CMD_EXIT_OK) {
		if (cmd_shell_parse(
			&client_program, &cmd_shell_entry, ct.argc, ct.argv, &a) != 0)
			rc = CMD_EXIT_USAGE;
		else {
			req.folder = a.folder;
			req.config_file = a.config_file;
			req.id_labels = a.id_labels;
			req.git_root = a.git_root;
			req.common_dir = a.common_dir;
			req.command = shell_cmd;
			req.ncommand = 3;
			req.verb = "shell";
			rc = ct.be.exec(ct.be.ctx, client_program.name, &req);
			agent_cmd_args_clear(&a);
		}
	}
	client_target_close(&ct);
	return rc;
}

const struct cmd_entry cmd_shell_entry = { "shell",
	"TARGET " AGENT_CMD_WORKSPACE_USAGE
	" [--mount-workspace-git-root true|false] " AGENT_CMD_ID_LABEL_USAGE,
	"open an interactive shell in the dev container",
	"Runs the remote user's shell (from the container's /etc/passwd, else\n"
	"/bin/sh) as `exec` would: with a TTY when stdin and stdout are both\n"
	"terminals, else on raw byte streams (`rdev shell ws < script > log`).\n"
	"Exit status: the shell's, or 125 when rdev itself failed (the\n"
	"container or host not reached, the connection "
	"broke).\n\noptions:\n" AGENT_CMD_WORKSPACE_HELP AGENT_CMD_GIT_ROOT_HELP
	    AGENT_CMD_ID_LABEL_HELP "\n" CLIENT_TARGET_HELP,
	cmd_shell_exec };
