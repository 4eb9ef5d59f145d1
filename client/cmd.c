/* cmd.c - the rdev client's command table. Each command is
 * one cmd-<name>.c with its entry; docs/DEVELOPING.md says how to add one. */
#include "client.h"

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

const struct cmd_program client_program = {
	"rdev",
	"Work inside dev containers on remote Docker hosts over SSH.",
	client_commands,
	client_complete_operand,
	client_broker_check,
};
