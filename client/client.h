/* client.h - the rdev command-line client. */
#ifndef RDEV_CLIENT_H
#define RDEV_CLIENT_H

#include "cmd.h"

/* cmd.c */
extern const struct cmd_program client_program;

#endif
