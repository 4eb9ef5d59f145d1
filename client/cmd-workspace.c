/* cmd-workspace.c - the client's workspace commands (up, exec, shell, stop,
 * down, ls, logs, read-configuration). A local TARGET runs the agent's
 * implementation in this process; a remote one runs the same command with a
 * backend that sends each operation to the host's agent through the broker
 * (remote.h), so both print the same output. */
#include "client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent-cmds.h"
#include "remote.h"
#include "target.h"
#include "xmalloc.h"

/* Index of the TARGET: the first argument that is not an option (nor an
 * option's value), before any "--". -1 if none. */
static int
client_target_index(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return -1;
		if (strcmp(argv[i], "--config") == 0) {
			i++;
			continue;
		}
		if (argv[i][0] != '-')
			return i;
	}
	return -1;
}

/* Take the client-only options out of argv (before "--"). */
static int
client_take_flag(int *argc, char **argv, const char *flag)
{
	int i, found = 0;

	for (i = 1; i < *argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], flag) == 0) {
			memmove(
			    argv + i, argv + i + 1, (size_t)(*argc - i) * sizeof *argv);
			(*argc)--;
			i--;
			found = 1;
		}
	}
	return found;
}

/* A remote TARGET in argv: parse it into *t and return 1 (argv is not
 * changed); 0 when local (or none); -1 after printing a bad target, -2 for a
 * pool. */
static int
client_remote_target(const char *name, int argc, char **argv, struct target *t)
{
	int i = client_target_index(argc, argv);
	char *cause = NULL;

	if (i < 0 || !target_is_remote(argv[i]))
		return 0;
	if (target_parse(argv[i], t, &cause) != 0) {
		fprintf(stderr, "rdev: %s: %s\n", name, cause);
		free(cause);
		return -1;
	}
	if (t->kind == TARGET_POOL) {
		fprintf(stderr,
		    "rdev: %s: host pools (%s) are not available in this build "
		    "yet\n",
		    name, argv[i]);
		target_clear(t);
		return -2;
	}
	return 1;
}

/* A copy of argv for the command on the remote side: the target's entry is
 * t's path (borrowed from t), and gone for ls, which takes no folder. The
 * array is the caller's to free; argv is left as it was. */
static char **
client_remote_argv(const char *name, int *argc, char **argv, const struct target *t)
{
	char **args = xcalloc((size_t)*argc + 1, sizeof *args);
	int i = client_target_index(*argc, argv), n = 0;

	for (int k = 0; k < *argc; k++) {
		if (k != i)
			args[n++] = argv[k];
		else if (strcmp(name, "ls") != 0)
			args[n++] = t->path;
	}
	*argc = n;
	return args;
}

/* The --config value in argv, or NULL. */
static const char *
client_config_arg(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			return argv[i + 1];
		if (strncmp(argv[i], "--config=", 9) == 0)
			return argv[i] + 9;
	}
	return NULL;
}

typedef int (*client_cmd_on)(const struct agent_backend *, const struct cmd_program *,
    const struct cmd_entry *, int, char **);

static int
client_workspace_cmd(const char *name, client_cmd_on impl, int argc, char **argv)
{
	const struct cmd_entry *entry = cmd_lookup(&client_program, name);
	struct remote_opts ro = { 0, 0, NULL };
	struct agent_backend be;
	struct target t;
	struct remote *r;
	char **args;
	int rc, auto_forward;

	memset(&t, 0, sizeof t);
	ro.accept_new_host_key = client_take_flag(&argc, argv, "--accept-new-host-key");
	ro.quiet = strcmp(name, "ls") == 0;
	auto_forward =
	    strcmp(name, "up") == 0 && client_take_flag(&argc, argv, "--auto-forward");
	switch (client_remote_target(name, argc, argv, &t)) {
	case 0:
		if (auto_forward)
			fprintf(stderr,
			    "warning: --auto-forward: not done: rdev "
			    "forwards ports for remote targets only yet; from this "
			    "machine, reach them at the container's address\n");
		return impl(&agent_backend_local, &client_program, entry, argc, argv);
	case 1: break;
	case -2: return CMD_EXIT_UNAVAILABLE;
	default: return CMD_EXIT_USAGE;
	}
	for (int i = 1; i < argc; i++)
		ro.quiet |= strcmp(argv[i], "--json") == 0;
	ro.target = argv[client_target_index(argc, argv)];
	r = remote_new(&t, &ro);
	remote_backend(r, &be);
	args = client_remote_argv(name, &argc, argv, &t);
	rc = impl(&be, &client_program, entry, argc, args);
	if (rc == CMD_EXIT_OK && strcmp(name, "up") == 0 &&
	    client_forward_ports(
		r, t.path, client_config_arg(argc, args), ro.quiet, auto_forward) != 0)
		rc = CMD_EXIT_FAILURE;
	if (rc == CMD_EXIT_OK && strcmp(name, "down") == 0)
		client_unforward_workspace(r, t.path);
	free(args);
	remote_free(r);
	target_clear(&t);
	return rc;
}

int
client_up_exec(int argc, char **argv)
{
	return client_workspace_cmd("up", agent_cmd_up_on, argc, argv);
}

int
client_stop_exec(int argc, char **argv)
{
	return client_workspace_cmd("stop", agent_cmd_stop_on, argc, argv);
}

int
client_down_exec(int argc, char **argv)
{
	return client_workspace_cmd("down", agent_cmd_down_on, argc, argv);
}

int
client_ls_exec(int argc, char **argv)
{
	int rc, json = 0;

	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		json |= strcmp(argv[i], "--json") == 0;
	rc = client_workspace_cmd("ls", agent_cmd_ls_on, argc, argv);
	if (rc == CMD_EXIT_OK && !json)
		client_forward_print_all(stdout);
	return rc;
}

int
client_logs_exec(int argc, char **argv)
{
	return client_workspace_cmd("logs", agent_cmd_logs_on, argc, argv);
}

/* exec (and shell, which is exec of the user's shell). */
static int
client_exec_common(
    const char *name, int argc, char **argv, char *const *shell_cmd, int nshell)
{
	const struct cmd_entry *entry = cmd_lookup(&client_program, name);
	struct remote_opts ro = { 0, 1, NULL };
	struct agent_cmd_args a;
	struct target t;
	struct remote *r;
	char **local_argv;
	int rc, i, n;

	memset(&t, 0, sizeof t);
	ro.accept_new_host_key = client_take_flag(&argc, argv, "--accept-new-host-key");
	rc = client_remote_target(name, argc, argv, &t);
	if (rc == -2)
		return CMD_EXIT_UNAVAILABLE;
	if (rc < 0)
		return CMD_EXIT_USAGE;
	if (agent_cmd_args_parse(&client_program, entry, argc, argv,
		AGENT_ARG_FOLDER | (shell_cmd == NULL ? AGENT_ARG_COMMAND : 0),
		&a) != 0) {
		target_clear(&t);
		return CMD_EXIT_USAGE;
	}
	if (shell_cmd != NULL) {
		a.command = (char **)shell_cmd;
		a.ncommand = nshell;
	}
	if (a.ncommand == 0) {
		target_clear(&t);
		return cmd_usage_error(&client_program, entry, "no command given");
	}
	if (rc == 1) {
		ro.target = argv[client_target_index(argc, argv)];
		r = remote_new(&t, &ro);
		/* a.folder is the target as written: the host's folder is t's path */
		rc = remote_exec(r, "rdev", t.path, a.config_file, a.command, a.ncommand);
		remote_free(r);
		target_clear(&t);
		return rc;
	}
	/* Local: `exec FOLDER [--config F] -- COMMAND...` in this process. */
	local_argv = xcalloc((size_t)a.ncommand + 6, sizeof *local_argv);
	n = 0;
	local_argv[n++] = (char *)"exec";
	local_argv[n++] = (char *)a.folder;
	if (a.config_file != NULL) {
		local_argv[n++] = (char *)"--config";
		local_argv[n++] = (char *)a.config_file;
	}
	local_argv[n++] = (char *)"--";
	for (i = 0; i < a.ncommand; i++)
		local_argv[n++] = a.command[i];
	rc = agent_cmd_exec(&client_program, entry, n, local_argv);
	free(local_argv);
	return rc;
}

int
client_exec_exec(int argc, char **argv)
{
	return client_exec_common("exec", argc, argv, NULL, 0);
}

/* The remote user's login shell from the container's passwd, else /bin/sh;
 * run interactively (not as a login shell, which would reset the remote
 * environment rdev set up). */
#define CLIENT_SHELL_SCRIPT \
	"u=$(id -un 2>/dev/null); s=; " \
	"[ -n \"$u\" ] && s=$(grep \"^$u:\" /etc/passwd 2>/dev/null | cut -d: -f7); " \
	"[ -n \"$s\" ] && [ -x \"$s\" ] || s=/bin/sh; exec \"$s\""

int
client_shell_exec(int argc, char **argv)
{
	static char *const shell_cmd[] = { (char *)"/bin/sh", (char *)"-c",
		(char *)CLIENT_SHELL_SCRIPT, NULL };

	return client_exec_common("shell", argc, argv, shell_cmd, 3);
}
