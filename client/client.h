/* client.h - the rdev command-line client. */
#ifndef RDEV_CLIENT_H
#define RDEV_CLIENT_H

#include "cmd.h"
#include "cmd-read-configuration.h"

/* cmd.c */
extern const struct cmd_program client_program;

/* cmd-read-configuration.c */
int cmd_read_configuration_exec(int argc, char **argv);

#endif
