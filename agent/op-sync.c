/* op-sync.c - the sync operation's row; it streams, so serve-sync.c runs it. */
#include "agent-ops.h"

const struct agent_op agent_op_sync = { "sync", AGENT_OP_STREAM, NULL,
	"upload a folder into the workspace root (tar on channel \"channel\")" };
