/* container-removed.c - drop a removed container's files from the agent's
 * state folder. */
#include "container-removed.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent-state.h"
#include "env-probe.h"
#include "idle-watch.h"
#include "lifecycle.h"
#include "log.h"

void
container_removed(const char *container_id)
{
	char *state_dir, *path;

	lifecycle_bg_removed(container_id);
	idle_watch_removed(container_id);
	if ((state_dir = agent_state_dir(NULL)) == NULL)
		return;
	path = env_probe_cache_path(state_dir, container_id);
	if (unlink(path) != 0 && errno != ENOENT)
		log_warn("%s: %s", path, strerror(errno));
	free(path);
	free(state_dir);
}
