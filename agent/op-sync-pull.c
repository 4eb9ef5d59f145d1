/* op-sync-pull.c - the "sync-pull" operation: a two-way sync's changes made
 * in the host's copy of workspace "name" since the last sync (sync-pull.h;
 * docs/PROTOCOL.md, "sync-pull"). "flags": the sync's SYNC_SCAN_* (which
 * ignore files apply); "ack": the previous answer's "pullId", applied;
 * "ackExcept": that answer applied but for the paths of "notApplied";
 * "ignoredHere": paths the local side ignores (sync_pull_request). */
#include "agent-ops.h"

#include <stdlib.h>

#include "agent-state.h"
#include "error.h"
#include "source-root.h"
#include "sync-pull.h"
#include "xmalloc.h"

static int
op_sync_pull_run(const struct agent_op_req *r, cJSON **result, char **cause)
{
	const char *name = agent_op_req_string(r, "name");
	const cJSON *flags = cJSON_GetObjectItemCaseSensitive(r->json, "flags");
	const char *ack = NULL;
	struct sync_pull_opts o;
	char *folder = NULL, *state = NULL, *index = NULL, *key = NULL;
	int lock = -1, rc = -1;

	*result = NULL;
	if ((folder = source_root_folder(name, cause)) == NULL ||
	    (state = agent_state_dir(cause)) == NULL)
		goto out;
	/* (the lock of serve-sync.c: one sync of a workspace at a time) */
	key = xasprintf("sync-%s", name);
	if ((lock = agent_lock_acquire(state, key, NULL, NULL, cause)) < 0)
		goto out;
	sync_pull_request(r->json, &ack, &o);
	index = xasprintf("%s/sync/%s.json", state, name);
	rc = sync_pull_changes(folder, index,
	    cJSON_IsNumber(flags) ? (unsigned)flags->valueint : 0, ack, &o, result,
	    cause);
out:
	if (lock >= 0)
		agent_lock_release(lock);
	free(folder);
	free(state);
	free(index);
	free(key);
	return rc;
}

const struct agent_op agent_op_sync_pull = { "sync-pull", 0, op_sync_pull_run,
	"a two-way sync: what changed in the host's copy of a workspace since the "
	"last sync, with the files' bytes" };
