/* op-build.c - the "build" operation: the image of the workspace's dev
 * container, with its devcontainer.metadata label, and no container
 * (up_build(), up.h). Answers the reference CLI's
 * {"outcome":"success","imageName":[...]}. The request's fields are
 * docs/PROTOCOL.md's ("build"). */
#include "agent-ops.h"

#include "error.h"
#include "image-ref.h"
#include "up.h"

static int
op_build_run(const struct agent_op_req *r, cJSON **result, char **cause)
{
	const cJSON *names = cJSON_GetObjectItemCaseSensitive(r->json, "imageNames"), *e;
	struct up_opts opts = { 0 };

	*result = NULL;
	opts.workspace_folder = r->workspace;
	opts.config_file = r->config;
	opts.build_no_cache = agent_op_req_bool(r, "noCache");
	opts.include_lockfile = agent_op_req_bool(r, "includeLockfile");
	opts.cache_from = cJSON_GetObjectItemCaseSensitive(r->json, "cacheFrom");
	opts.progress = *r->progress;
	if (!agent_op_req_strings(r, "imageNames") ||
	    !agent_op_req_strings(r, "cacheFrom"))
		return error_set(cause,
		    "\"imageNames\" and \"cacheFrom\": expected arrays of strings");
	cJSON_ArrayForEach(e, names)
		if ((*cause = image_ref_tag_check("--image-name", e->valuestring)) !=
		    NULL)
			return -1;
	if (agent_op_req_log_format(r, &opts.progress, cause) != 0 ||
	    agent_op_req_lockfile(r, &opts.lockfile, cause) != 0 ||
	    agent_op_req_features(r, &opts.additional_features, cause) != 0)
		return -1;
	return up_build(&opts, names, result, cause);
}

const struct agent_op agent_op_build = { "build", AGENT_OP_WORKSPACE, op_build_run,
	"build the dev container's image (with its metadata label), no container" };
