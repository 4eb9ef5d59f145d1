/* agent.h - rdev-agent, the program on each Docker host. */
#ifndef RDEV_AGENT_H
#define RDEV_AGENT_H

#include "cmd.h"
#include "cmd-read-configuration.h"

/* agent.c */
extern const struct cmd_program agent_program;

/* cmd-read-configuration.c */
int agent_read_configuration_exec(int argc, char **argv);

#endif
