/* agent.h - rdev-agent, the program on each Docker host. */
#ifndef RDEV_AGENT_H
#define RDEV_AGENT_H

#include "cmd.h"

/* agent.c */
extern const struct cmd_program agent_program;

#endif
