/* cmd.c - the rdev client's command table. Each command is
 * one cmd-<name>.c with its entry; docs/DEVELOPING.md says how to add one. */
#include "client.h"

#include <string.h>

#include "progress.h"

static const struct cmd_entry *const client_commands[] = {
	&cmd_up_entry,
	&cmd_build_entry,
	&cmd_upgrade_entry,
	&cmd_exec_entry,
	&cmd_shell_entry,
	&cmd_forward_entry,
	&cmd_ls_entry,
	&cmd_status_entry,
	&cmd_logs_entry,
	&cmd_stop_entry,
	&cmd_down_entry,
	&cmd_read_configuration_entry,
	&cmd_run_user_commands_entry,
	&cmd_hosts_entry,
	&cmd_sync_entry,
	&cmd_ssh_config_entry,
	&cmd_ssh_proxy_entry,
	&cmd_doctor_entry,
	NULL,
};

/* The exit statuses of docs/CLI.md's table besides 0, 1, 2 and 69. */
static const char *const client_exit_status[] = {
	"N",
	"exec, shell: the command's own status (128+N when killed by signal N)",
	"125",
	"exec, shell: rdev's own failure, before or under the command (the "
	"container or host not reached, the connection broke); logs: its output "
	"could not be written",
	"126",
	"exec: the command could not be started (not executable, its folder or user)",
	"127",
	"exec: the command was not found",
	"141",
	"exec, shell, logs: rdev's output is a pipe nobody reads any more "
	"(128+SIGPIPE)",
	"0, 1, 2",
	"doctor: every check ok, a warning and no failure, a failure",
	NULL,
};

/* -q: what a failed command held (progress.h) and did not show with its
 * error is shown at its exit, after it, rather than lost: a command shows
 * them before its error where it prints it (forward's, up's); this is for
 * an error path that does not. exec's and shell's status is the command's
 * own: theirs show what they hold at their own failures. */
static void
client_after_exec(const char *command, int rc)
{
	if (rc != CMD_EXIT_OK && strcmp(command, "exec") != 0 &&
	    strcmp(command, "shell") != 0)
		progress_quiet_show();
}

const struct cmd_program client_program = {
	"rdev",
	"Work inside dev containers on remote Docker hosts over SSH.",
	client_commands,
	client_complete_operand,
	client_broker_check,
	client_exit_status,
	client_after_exec,
};
