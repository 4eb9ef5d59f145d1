/* cmd-workspace.c - the client's workspace commands (up, exec, stop, down,
 * ls, logs). A local TARGET runs the agent's implementation in this process;
 * a remote one goes through the broker (not built yet: exit 69). */
#include "client.h"

#include <stdio.h>
#include <string.h>

#include "agent-cmds.h"
#include "target.h"

/* The TARGET: the first argument that is not an option (nor an option's
 * value), before any "--". NULL if none. */
static const char *
client_target(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return NULL;
		if (strcmp(argv[i], "--config") == 0) {
			i++;
			continue;
		}
		if (argv[i][0] != '-')
			return argv[i];
	}
	return NULL;
}

static int
client_workspace_cmd(const char *name,
    int (*impl)(const struct cmd_program *, const struct cmd_entry *, int, char **),
    int argc, char **argv)
{
	const char *target = client_target(argc, argv);

	if (target != NULL && target_is_remote(target)) {
		fprintf(stderr, "rdev: %s: remote targets (%s) are not available in this "
		    "build yet\n", name, target);
		return CMD_EXIT_UNAVAILABLE;
	}
	return impl(&client_program, cmd_lookup(&client_program, name), argc, argv);
}

int
client_up_exec(int argc, char **argv)
{
	return client_workspace_cmd("up", agent_cmd_up, argc, argv);
}

int
client_exec_exec(int argc, char **argv)
{
	return client_workspace_cmd("exec", agent_cmd_exec, argc, argv);
}

int
client_stop_exec(int argc, char **argv)
{
	return client_workspace_cmd("stop", agent_cmd_stop, argc, argv);
}

int
client_down_exec(int argc, char **argv)
{
	return client_workspace_cmd("down", agent_cmd_down, argc, argv);
}

int
client_ls_exec(int argc, char **argv)
{
	return client_workspace_cmd("ls", agent_cmd_ls, argc, argv);
}

int
client_logs_exec(int argc, char **argv)
{
	return client_workspace_cmd("logs", agent_cmd_logs, argc, argv);
}
