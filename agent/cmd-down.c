/* cmd-down.c - `down PATH [--volumes]`: remove the workspace's container(s).
 * Named volumes are kept unless --volumes; for Compose the project's networks
 * go too. A workspace with no container is a clean no-op. */
#include "agent-cmds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "docker.h"
#include "workspace.h"
#include "xmalloc.h"

/* Remove what Compose made for the project besides containers. */
static int
cmd_down_compose_rest(struct docker *d, const char *project, int volumes, char **cause)
{
	char *filter = xasprintf("{\"label\":[\"com.docker.compose.project=%s\"]}", project);
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
			    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.')
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
			const cJSON *name = cJSON_GetObjectItemCaseSensitive(e,
			    k == 0 ? "Id" : "Name");
			cJSON *resp = NULL;
			if (!cJSON_IsString(name))
				continue;
			path = xasprintf("/%s/%s", kinds[k], name->valuestring);
			rc = docker_request(d, "DELETE", path, NULL, &status, &resp, cause);
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

int
agent_cmd_down(const struct cmd_program *prog, const struct cmd_entry *entry, int argc,
    char **argv)
{
	struct agent_cmd_args a;
	struct workspace ws;
	struct docker *d;
	char *cause = NULL, **ids = NULL;
	int rc = CMD_EXIT_FAILURE, n = 0;

	if (agent_cmd_args_parse(prog, entry, argc, argv,
	    AGENT_ARG_FOLDER | AGENT_ARG_JSON | AGENT_ARG_VOLUMES, &a) != 0)
		return CMD_EXIT_USAGE;
	d = docker_new(NULL);
	if (workspace_open(a.folder, a.config_file, d, &ws, &cause) != 0 ||
	    workspace_all_containers(&ws, d, &ids, &cause) != 0)
		goto out;
	for (char **id = ids; *id != NULL; id++, n++)
		if (docker_container_remove(d, *id, 1, a.volumes, &cause) != 0)
			goto out;
	if (ws.compose_project != NULL &&
	    cmd_down_compose_rest(d, ws.compose_project, a.volumes, &cause) != 0)
		goto out;
	if (a.json)
		printf("{\"outcome\":\"success\",\"removed\":%d}\n", n);
	else if (n == 0)
		fprintf(stderr, "%s: no dev container for %s; nothing to remove\n",
		    prog->name, a.folder);
	rc = CMD_EXIT_OK;
out:
	if (cause != NULL)
		fprintf(stderr, "%s: down: %s\n", prog->name, cause);
	free(cause);
	workspace_ids_free(ids);
	workspace_clear(&ws);
	docker_free(d);
	return rc;
}
