/* agent.h - rdev-agent, the program on each Docker host. */
#ifndef RDEV_AGENT_H
#define RDEV_AGENT_H

#include "cmd.h"

/* agent.c */
extern const struct cmd_program agent_program;

/* cmd-connect.c */
/* `rdev-agent connect CONTAINER PORT`: the command's exit code. */
int agent_cmd_connect(int argc, char **argv);

/* The operations `serve` answers, for its help: every row of agent_ops[]
 * (agent-ops.h; test-agent-ops checks the list). */
#define AGENT_SERVE_OPS \
	"info, read-configuration, up, build, run-user-commands, upgrade,\n" \
	"stop, down, ls, logs, status, exec (on a channel), relay,\n" \
	"sync (on a channel), sync-pull, clone and source-folder"

#endif
