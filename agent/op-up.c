/* op-up.c - the "up" operation: create or resume the workspace's dev
 * container and run its lifecycle steps (up.h). Answers the CLI's --json
 * result, {"outcome":"success","containerId":...}, with "ports" (the merged
 * forwardPorts and portsAttributes) when "includePorts" is true; on
 * failure, with the error, {"description":...[,"containerId":...]}, the
 * reference's fields of its error result besides the message. The
 * request's fields are docs/PROTOCOL.md's ("up"). */
#include "agent-ops.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "admission.h"
#include "host-policy.h"
#include "idle-watch.h"
#include "secrets.h"
#include "up.h"

/* Is v an array of the --mount objects the client sends (or absent)? */
static int
op_up_mounts(const cJSON *v)
{
	const cJSON *e, *type, *source, *target;

	if (v == NULL)
		return 1;
	if (!cJSON_IsArray(v))
		return 0;
	cJSON_ArrayForEach(e, v) {
		type = cJSON_GetObjectItemCaseSensitive(e, "type");
		source = cJSON_GetObjectItemCaseSensitive(e, "source");
		target = cJSON_GetObjectItemCaseSensitive(e, "target");
		if (!cJSON_IsString(type) || !cJSON_IsString(source) ||
		    !cJSON_IsString(target) || *source->valuestring == '\0' ||
		    *target->valuestring == '\0' ||
		    (strcmp(type->valuestring, "bind") != 0 &&
			strcmp(type->valuestring, "volume") != 0))
			return 0;
	}
	return 1;
}

int
op_up_steps_opts(const struct agent_op_req *r, struct up_opts *opts, char **cause)
{
	const cJSON *remote_env = cJSON_GetObjectItemCaseSensitive(r->json, "remoteEnv");
	struct secrets *check = NULL;

	opts->workspace_folder = r->workspace;
	opts->config_file = r->config;
	opts->git_root =
	    workspace_git_root_of(cJSON_GetObjectItemCaseSensitive(r->json, "noGitRoot"));
	opts->skip_non_blocking = agent_op_req_bool(r, "skipNonBlockingCommands");
	opts->skip_post_attach = agent_op_req_bool(r, "skipPostAttach");
	opts->id_labels = r->id_labels;
	opts->dotfiles_repository = agent_op_req_string(r, "dotfilesRepository");
	opts->dotfiles_install_command = agent_op_req_string(r, "dotfilesInstallCommand");
	opts->dotfiles_target_path = agent_op_req_string(r, "dotfilesTargetPath");
	opts->progress = *r->progress;
	if (remote_env != NULL && secrets_from_json(remote_env, &check, NULL) != 0)
		return error_set(cause, "\"remoteEnv\": expected an object of strings");
	secrets_free(check);
	opts->remote_env = remote_env;
	if (agent_op_req_log_format(r, &opts->progress, cause) != 0)
		return -1;
	if (secrets_from_json(cJSON_GetObjectItemCaseSensitive(r->json, "secrets"),
		&opts->secrets, cause) != 0)
		return -1;
	/* From here on the values live in opts->secrets only: the background
	 * process up may fork keeps no other copy of them. */
	secrets_request_wipe((cJSON *)r->json);
	return 0;
}

/* up's own flags from the request into opts, then the shared ones
 * (op_up_steps_opts(): opts->secrets is new, the caller frees it). 0, or
 * -1 with *cause naming the field. */
static int
op_up_flags(const struct agent_op_req *r, struct up_opts *opts, char **cause)
{
	opts->mounts = cJSON_GetObjectItemCaseSensitive(r->json, "mounts");
	opts->cache_from = cJSON_GetObjectItemCaseSensitive(r->json, "cacheFrom");
	opts->override_config = agent_op_req_string(r, "overrideConfig");
	opts->build_no_cache = agent_op_req_bool(r, "buildNoCache");
	opts->rebuild = agent_op_req_bool(r, "rebuild");
	opts->recreate = agent_op_req_bool(r, "recreate");
	opts->common_dir = workspace_common_dir_of(
	    cJSON_GetObjectItemCaseSensitive(r->json, "gitWorktreeCommonDir"));
	opts->skip_post_create = agent_op_req_bool(r, "skipPostCreate");
	opts->include_ports = agent_op_req_bool(r, "includePorts");
	opts->include_lockfile = agent_op_req_bool(r, "includeLockfile");
	if (agent_op_req_features(r, &opts->additional_features, cause) != 0)
		return -1;
	if (!op_up_mounts(opts->mounts))
		return error_set(cause,
		    "\"mounts\": expected an array of "
		    "{\"type\":\"bind\"|\"volume\",\"source\",\"target\"}");
	if (!agent_op_req_strings(r, "cacheFrom"))
		return error_set(cause, "\"cacheFrom\": expected an array of strings");
	if (agent_op_req_lockfile(r, &opts->lockfile, cause) != 0)
		return -1;
	return op_up_steps_opts(r, opts, cause);
}

/* The request's "idleStop" (seconds), or 0. */
static long
op_up_idle_stop(const struct agent_op_req *r)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(r->json, "idleStop");

	return cJSON_IsNumber(v) && v->valuedouble >= 1 ? (long)v->valuedouble : 0;
}

static int
op_up_run(const struct agent_op_req *r, cJSON **result, char **cause)
{
	struct up_opts opts = { 0 };
	struct host_policy policy;
	struct up_result res;
	char *ignore = NULL;
	long idle;
	int rc = -1;

	*result = NULL;
	if (host_policy_load(&policy, cause) != 0)
		return -1;
	opts.host_id = policy.host_id;
	opts.limit_containers = policy.limit_containers;
	opts.policy = &policy;
	opts.client = agent_op_req_string(r, "client");
	if (admission_user(&policy, cause) != 0)
		goto out;
	if (op_up_flags(r, &opts, cause) != 0)
		goto out;
	opts.progress.mask = opts.secrets;
	if (up_run(&opts, &res, cause) != 0) {
		secrets_mask_inplace(opts.secrets, cause);
		*result = up_result_error_json(&res);
		if (res.refused)
			rc = AGENT_OP_ERR_ADMISSION_REFUSED;
		up_result_free(&res);
		goto out;
	}
	idle = host_policy_idle_stop(&policy, op_up_idle_stop(r));
	if (idle > 0 && idle < op_up_idle_stop(r))
		progress_line(r->progress,
		    "warning: --idle-stop %lds is more than this host's policy allows "
		    "(idleStop %lds): the container is stopped after %lds unused",
		    op_up_idle_stop(r), idle, idle);
	if (res.container_id != NULL &&
	    (idle > 0 ? idle_watch_arm(res.container_id, idle, &ignore)
		      : idle_watch_rearm(res.container_id, &ignore)) != 0) {
		/* The container is up all the same: say so, not fail. */
		progress_line(r->progress, "warning: idle stop: %s", ignore);
		free(ignore);
	}
	*result = up_result_json(&res);
	if (opts.include_ports && res.ports != NULL) {
		cJSON_AddItemToObject(*result, "ports", res.ports);
		res.ports = NULL;
	}
	if (res.lockfile != NULL) {
		cJSON_AddItemToObject(*result, "workspaceLockfile", res.lockfile);
		res.lockfile = NULL;
	}
	up_result_free(&res);
	rc = 0;
out:
	secrets_free(opts.secrets);
	host_policy_clear(&policy);
	return rc;
}

const struct agent_op agent_op_up = { "up", AGENT_OP_WORKSPACE, op_up_run,
	"create or resume the dev container, run its lifecycle steps" };
