/* op-down.c - the "down" operation: remove the workspace's container(s)
 * and what Compose made for the project ("volumes": true, their volumes too).
 * Answers {"outcome":"success","removed":N}; no container is N = 0. */
#include "agent-ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "docker.h"
#include "workspace.h"
#include "xmalloc.h"

/* Remove what Compose made for the project besides containers. */
static int
op_down_compose_rest(struct docker *d, const char *project, int volumes, char **cause)
{
	char *filter =
	    xasprintf("{\"label\":[\"com.docker.compose.project=%s\"]}", project);
	char *esc = NULL, *path;
	cJSON *list = NULL, *e, *vols;
	int status, rc = 0;
	const char *kinds[] = { "networks", "volumes" };

	/* The project name is [a-z0-9_-]; the filter only needs URL escaping of
	 * JSON punctuation. */
	esc = xmalloc(strlen(filter) * 3 + 1);
	{
		char *o = esc;
		for (const char *p = filter; *p != '\0'; p++) {
			if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ||
			    *p == '.')
				*o++ = *p;
			else
				o += sprintf(o, "%%%02X", (unsigned char)*p);
		}
		*o = '\0';
	}
	for (int k = 0; k < (volumes ? 2 : 1) && rc == 0; k++) {
		path = xasprintf("/%s?filters=%s", kinds[k], esc);
		list = NULL;
		rc = docker_request(d, "GET", path, NULL, &status, &list, cause);
		free(path);
		if (rc != 0)
			break;
		vols = k == 1 ? cJSON_GetObjectItemCaseSensitive(list, "Volumes") : list;
		cJSON_ArrayForEach(e, vols) {
			const cJSON *name =
			    cJSON_GetObjectItemCaseSensitive(e, k == 0 ? "Id" : "Name");
			cJSON *resp = NULL;
			if (!cJSON_IsString(name))
				continue;
			path = xasprintf("/%s/%s", kinds[k], name->valuestring);
			rc = docker_request(
			    d, "DELETE", path, NULL, &status, &resp, cause);
			free(path);
			cJSON_Delete(resp);
			if (rc != 0)
				break;
		}
		cJSON_Delete(list);
	}
	free(esc);
	free(filter);
	return rc;
}

static int
op_down_run(const struct agent_op_req *r, cJSON **result, char **cause)
{
	struct workspace ws;
	struct docker *d = docker_new(NULL);
	char **ids = NULL;
	int rc = -1, n = 0, volumes = agent_op_req_bool(r, "volumes");

	*result = NULL;
	if (workspace_open(r->workspace, r->config, d, &ws, cause) != 0 ||
	    workspace_all_containers(&ws, d, &ids, cause) != 0)
		goto out;
	for (char **id = ids; *id != NULL; id++, n++)
		if (docker_container_remove(d, *id, 1, volumes, cause) != 0)
			goto out;
	if (ws.compose_project != NULL &&
	    op_down_compose_rest(d, ws.compose_project, volumes, cause) != 0)
		goto out;
	*result = agent_op_outcome("removed", n);
	rc = 0;
out:
	workspace_ids_free(ids);
	workspace_clear(&ws);
	docker_free(d);
	return rc;
}

const struct agent_op agent_op_down = { "down", AGENT_OP_WORKSPACE, op_down_run,
	"remove the dev container (\"volumes\": and its volumes)" };
