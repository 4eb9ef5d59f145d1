/* op-build.c - the "build" operation: the image of the workspace's dev
 * container, with its devcontainer.metadata label, and no container
 * (up_build(), up.h). Answers the reference CLI's
 * {"outcome":"success","imageName":[...]}. The request's fields are
 * docs/PROTOCOL.md's ("build"). */
#include "agent-ops.h"

#include <string.h>

#include "error.h"
#include "up.h"

/* Is v an array of non-empty strings (or absent)? */
static int
op_build_names(const cJSON *v)
{
	const cJSON *e;

	if (v == NULL)
		return 1;
	if (!cJSON_IsArray(v))
		return 0;
	cJSON_ArrayForEach(e, v)
		if (!cJSON_IsString(e) || *e->valuestring == '\0')
			return 0;
	return 1;
}

static int
op_build_run(const struct agent_op_req *r, cJSON **result, char **cause)
{
	const cJSON *names = cJSON_GetObjectItemCaseSensitive(r->json, "imageNames");
	const char *log_format = agent_op_req_string(r, "logFormat");
	struct up_opts opts = { 0 };

	*result = NULL;
	opts.workspace_folder = r->workspace;
	opts.config_file = r->config;
	opts.build_no_cache = agent_op_req_bool(r, "noCache");
	opts.cache_from = cJSON_GetObjectItemCaseSensitive(r->json, "cacheFrom");
	opts.progress = *r->progress;
	if (!op_build_names(names) || !op_build_names(opts.cache_from))
		return error_set(cause,
		    "\"imageNames\" and \"cacheFrom\": expected arrays of "
		    "non-empty strings");
	if (log_format != NULL && strcmp(log_format, "json") != 0 &&
	    strcmp(log_format, "text") != 0)
		return error_set(cause, "\"logFormat\": expected \"text\" or \"json\"");
	opts.progress.json = log_format != NULL && strcmp(log_format, "json") == 0;
	return up_build(&opts, names, result, cause);
}

const struct agent_op agent_op_build = { "build", AGENT_OP_WORKSPACE, op_build_run,
	"build the dev container's image (with its metadata label), no container" };
