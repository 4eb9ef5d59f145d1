/* client.h - the rdev command-line client. */
#ifndef RDEV_CLIENT_H
#define RDEV_CLIENT_H

#include <stdio.h>

#include "cmd.h"
#include "cmd-read-configuration.h"

/* cmd.c */
extern const struct cmd_program client_program;

/* cmd-read-configuration.c */
int cmd_read_configuration_exec(int argc, char **argv);

/* cmd-forward.c */
struct remote;
int client_forward_exec(int argc, char **argv);
/* After a remote `up`: forward the workspace's forwardPorts (with
 * portsAttributes) through the broker; prints the table unless quiet. With
 * auto_forward the broker also watches the container for new listening ports
 * and forwards them as portsAttributes' onAutoForward says.
 * 0, or 1 if any failed (printed). */
int client_forward_ports(struct remote *r, const char *workspace, const char *config,
    int quiet, int auto_forward);
/* The broker's forwards as a table (nothing when none, or no broker). */
void client_forward_print_all(FILE *out);
/* After a remote `down`: stop the workspace's forwards. */
int client_unforward_workspace(struct remote *r, const char *workspace);

/* cmd-workspace.c */
int client_up_exec(int argc, char **argv);
int client_exec_exec(int argc, char **argv);
int client_shell_exec(int argc, char **argv);
int client_stop_exec(int argc, char **argv);
int client_down_exec(int argc, char **argv);
int client_ls_exec(int argc, char **argv);
int client_logs_exec(int argc, char **argv);

#endif
