/* op-status.c - the "status" operation: the state of one workspace's dev
 * container. Answers {"state":"running"|"stopped"|"absent", and when not
 * absent "containerId","image","created","started" (RFC 3339, as Docker
 * says), "composeProject" (or null), "steps":[{"name":"onCreateCommand",
 * "state":"done"|"running"|"failed"|"not run"|"not recorded"|"no command"
 * [,"error":MSG when failed]}, ... the steps in order] (only while it runs:
 * the record is inside the container), "background":
 * lifecycle_bg_status_json()}. A step is "done" when its marker says it ran
 * for this container (postStartCommand: for this start), "running" as the
 * background run says, "failed" as the container's lifecycle record says
 * (the background run's, or `up`'s own when a step failed in it), and the
 * steps after a failed one "not run"; postAttachCommand leaves no marker (it
 * runs at every attach): "not recorded" unless a record has it; a step the
 * merged configuration has no command for is "no command". */
#include "agent-ops.h"

#include <stdlib.h>
#include <string.h>

#include "agent-state.h"
#include "docker.h"
#include "error.h"
#include "lifecycle.h"
#include "owner.h"
#include "up.h"
#include "workspace.h"
#include "xmalloc.h"

/* Is name in the NULL-terminated list (may be NULL)? Its index, else -1. */
static int
op_status_index(char *const *list, const char *name)
{
	for (int i = 0; list != NULL && list[i] != NULL; i++)
		if (strcmp(list[i], name) == 0)
			return i;
	return -1;
}

/* One step's state from the merged configuration (has it a command?), its
 * marker and the background run. The dotfiles step has no command in the
 * configuration (up's options ask for it, and nothing keeps them): "no
 * command" unless its marker or the background run says more. */
static const char *
op_status_step(enum lifecycle_step step, const cJSON *merged, int done,
    const struct lifecycle_bg_status *bg)
{
	int left = op_status_index(bg->left, lifecycle_step_name(step));
	int failed =
	    bg->failed != NULL && strcmp(bg->failed, lifecycle_step_name(step)) == 0;

	if (step == LIFECYCLE_DOTFILES
		? !done && left < 0 && !failed
		: cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
		      merged, lifecycle_step_merged_key(step))) == 0)
		return "no command";
	if (done)
		return "done";
	if (left >= 0 && bg->state == LIFECYCLE_BG_RUNNING)
		return left == 0 ? "running" : "not run";
	if (failed)
		return "failed";
	/* a step after the one that failed did not run this time either */
	if (step == LIFECYCLE_POST_ATTACH && bg->failed == NULL)
		return "not recorded";
	return "not run";
}

static cJSON *
op_status_steps(struct docker *d, const struct workspace *ws, const char *created,
    const char *started, const struct lifecycle_bg_status *bg, char **cause)
{
	int done[LIFECYCLE_NSTEPS];
	cJSON *steps, *s, *merged = NULL;
	const char *state;
	char *user = NULL;

	if (up_merged_for_container(ws->cfg, ws->container, &merged, cause) != 0 ||
	    (user = up_remote_user(merged, ws->container)) == NULL ||
	    lifecycle_markers_read(d, workspace_container_id(ws), user, created, started,
		done, cause) != 0) {
		free(user);
		cJSON_Delete(merged);
		return NULL;
	}
	free(user);
	steps = cJSON_CreateArray();
	for (int i = 0; i < LIFECYCLE_NSTEPS; i++) {
		s = cJSON_CreateObject();
		cJSON_AddStringToObject(
		    s, "name", lifecycle_step_name((enum lifecycle_step)i));
		state = op_status_step((enum lifecycle_step)i, merged, done[i], bg);
		cJSON_AddStringToObject(s, "state", state);
		if (strcmp(state, "failed") == 0 && bg->error != NULL)
			cJSON_AddStringToObject(s, "error", bg->error);
		cJSON_AddItemToArray(steps, s);
	}
	cJSON_Delete(merged);
	return steps;
}

static const char *
op_status_string(const cJSON *obj, const char *a, const char *b)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, a);

	if (b != NULL)
		v = cJSON_GetObjectItemCaseSensitive(v, b);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int
op_status_run(const struct agent_op_req *r, cJSON **result, char **cause)
{
	struct lifecycle_bg_status bg = { 0 };
	struct workspace ws;
	struct docker *d = docker_new(NULL);
	const char *id, *created, *started, *state;
	char *state_dir = NULL, *config_error = NULL;
	cJSON *o = NULL, *steps;
	int running, rc = -1;

	*result = NULL;
	/* As stop and down find it: a container whose folder was deleted, or
	 * whose configuration does not load, is still there to report (without
	 * its steps, which need the configuration), with a warning. */
	if (workspace_open_tolerant(
		r->workspace, r->config, r->id_labels, d, &ws, &config_error, cause) != 0)
		goto out;
	o = cJSON_CreateObject();
	if (ws.container == NULL) {
		cJSON_AddStringToObject(o, "state", "absent");
		goto done;
	}
	/* (its background record is in that user's state directory, not
	 * here: "none" would be wrong, as logs says) */
	if (owner_check(ws.container, cause) != 0)
		goto out;
	id = workspace_container_id(&ws);
	/* (ls's words: State.Running is true for a paused container too) */
	state = op_status_string(ws.container, "State", "Status");
	state = workspace_state_word(state != NULL ? state : "");
	running = strcmp(state, "running") == 0;
	created = op_status_string(ws.container, "Created", NULL);
	started = op_status_string(ws.container, "State", "StartedAt");
	cJSON_AddStringToObject(o, "state", state);
	cJSON_AddStringToObject(o, "containerId", id);
	cJSON_AddStringToObject(
	    o, "image", op_status_string(ws.container, "Config", "Image"));
	cJSON_AddStringToObject(o, "created", created != NULL ? created : "");
	cJSON_AddStringToObject(o, "started", started != NULL ? started : "");
	if (ws.compose_project != NULL)
		cJSON_AddStringToObject(o, "composeProject", ws.compose_project);
	else
		cJSON_AddNullToObject(o, "composeProject");
	if ((state_dir = agent_state_dir(cause)) == NULL ||
	    lifecycle_bg_status_read(state_dir, id, &bg, cause) != 0)
		goto out;
	if (running && ws.cfg != NULL) {
		if ((steps = op_status_steps(d, &ws, created, started, &bg, cause)) ==
		    NULL)
			goto out;
		cJSON_AddItemToObject(o, "steps", steps);
	}
	cJSON_AddItemToObject(o, "background", lifecycle_bg_status_json(&bg));
	if (config_error != NULL)
		agent_op_config_warning(
		    o, config_error, "its lifecycle steps are not shown");
done:
	*result = o;
	o = NULL;
	rc = 0;
out:
	cJSON_Delete(o);
	lifecycle_bg_status_clear(&bg);
	free(state_dir);
	free(config_error);
	workspace_clear(&ws);
	docker_free(d);
	return rc;
}

const struct agent_op agent_op_status = { "status", AGENT_OP_WORKSPACE, op_status_run,
	"the state of the workspace's dev container and its lifecycle steps" };
