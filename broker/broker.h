/* broker.h - rdev-broker, the per-user daemon holding SSH sessions and forwards. */
#ifndef RDEV_BROKER_H
#define RDEV_BROKER_H

#include "cmd.h"

/* `rdev-broker status` when no broker runs (as LSB init scripts' status). */
#define BROKER_EXIT_NOT_RUNNING 3

/* broker.c */
extern const struct cmd_program broker_program;

/* cmd-broker.c */
int broker_cmd_start(int argc, char **argv);
int broker_cmd_status(int argc, char **argv);
int broker_cmd_stop(int argc, char **argv);
int broker_cmd_restart(int argc, char **argv);

#endif
