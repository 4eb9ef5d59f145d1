/* op-exec.c - the "exec" operation's row: a command in the workspace's
 * container, streamed on the request's channel (serve-job.c pumps it; the
 * local backend runs it on this terminal: backend.c). */
#include "agent-ops.h"

const struct agent_op agent_op_exec = { "exec", AGENT_OP_WORKSPACE | AGENT_OP_STREAM,
	NULL, "run a command in the dev container on channel \"channel\"" };
