/* op-stop.c - the "stop" operation: stop the workspace's container(s) and
 * keep them. Answers {"outcome":"success","stopped":N,"alreadyStopped":M}:
 * N stopped by this call, M that were stopped before it; no container is
 * both 0. */
#include "agent-ops.h"

#include <stdlib.h>

#include "agent-state.h"
#include "docker.h"
#include "owner.h"
#include "workspace.h"
#include "xmalloc.h"

int *
agent_op_stop_progress(const struct progress *p, struct docker *d, char *const *ids)
{
	char *why = NULL;
	int running, max_s, *graces;
	size_t n = 0;

	while (ids[n] != NULL)
		n++;
	graces = xcalloc(n + 1, sizeof *graces);
	if (docker_containers_grace(d, ids, graces, &running, &max_s, &why) != 0) {
		free(why); /* (only the line is lost: the stop says what fails) */
		free(graces);
		return NULL;
	}
	if (max_s < 0)
		progress_line(p,
		    "stopping %d container%s (no time limit: a "
		    "StopTimeout of -1 waits for it to exit)",
		    running, running == 1 ? "" : "s");
	else if (running > DOCKER_STOP_PARALLEL)
		progress_line(p,
		    "stopping %d containers (up to %d s: their "
		    "stop_grace_period, %d at a time)",
		    running, docker_containers_stop_bound(running, max_s),
		    DOCKER_STOP_PARALLEL);
	else if (running > 1 || max_s > 10)
		progress_line(p, "stopping %d container%s (up to %d s: %s)", running,
		    running == 1 ? "" : "s", max_s,
		    running == 1 ? "its grace period" : "their stop_grace_period");
	return graces;
}

static int
op_stop_run(const struct agent_op_req *r, cJSON **result, char **cause)
{
	struct workspace ws;
	struct docker *d = docker_new(NULL);
	char **ids = NULL, *config_error = NULL;
	int rc = -1, n = 0, already = 0, *graces = NULL, lock = -1;

	*result = NULL;
	/* (after an up at work on it: what it made goes too) */
	if (workspace_open_tolerant(r->workspace, r->config, r->id_labels, d, &ws,
		&config_error, cause) != 0 ||
	    agent_op_workspace_lock(r, d, &ws, &config_error, &lock, cause) != 0 ||
	    owner_check(ws.container, cause) != 0 ||
	    workspace_all_containers(&ws, d, 1, &ids, cause) != 0)
		goto out;
	graces = agent_op_stop_progress(r->progress, d, ids);
	/* (each container's StopTimeout, Compose's stop_grace_period, as
	 * `docker-compose stop` waits; inspected once, for the line above) */
	if (docker_containers_stop(d, ids, graces, &n, &already, cause) != 0)
		goto out;
	*result = agent_op_outcome("stopped", n);
	cJSON_AddNumberToObject(*result, "alreadyStopped", already);
	if (config_error != NULL)
		agent_op_config_warning(*result, config_error, NULL);
	if (ws.left_error != NULL)
		agent_op_warning(*result,
		    "what is left of the Compose project (another service, a "
		    "dev container removed by hand) was not looked for: %s",
		    ws.left_error);
	if (ws.shared_with != NULL) {
		cJSON_AddStringToObject(*result, "keptFor", ws.shared_with);
		agent_op_warning(*result,
		    "Compose project %s also holds the running dev container of "
		    "workspace %s: kept running for it: %s (only this workspace's "
		    "own dev container is stopped; the stop of the last running "
		    "workspace stops them)",
		    ws.compose_project, ws.shared_with, ws.shared_kept);
	}
	rc = 0;
out:
	agent_lock_release(lock);
	free(graces);
	free(config_error);
	workspace_ids_free(ids);
	workspace_clear(&ws);
	docker_free(d);
	return rc;
}

const struct agent_op agent_op_stop = { "stop", AGENT_OP_WORKSPACE, op_stop_run,
	"stop the dev container (keeps it)" };
