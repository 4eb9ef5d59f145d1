/* op-ls.c - the "ls" operation: the caller's dev containers on this host
 * ("all": true, everyone's), an array of {"containerId","state","image",
 * "workspace" ("" for one `up --id-label` made),"configFile","owner","composeProject"
 * (null when none, as status'),"created" (seconds since the epoch, as Docker lists it)}.
 * The caller is this agent's user: a container is theirs when its dev.rdev.owner_uid
 * label says so, or, without the label (another tool made it), when they
 * own its workspace folder. */
#include "agent-ops.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "docker.h"
#include "owner.h"
#include "workspace.h"

static const char *
op_ls_label(const cJSON *c, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(c, "Labels"), name);

	return cJSON_IsString(v) ? v->valuestring : "";
}

static const char *
op_ls_string(const cJSON *c, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, name);

	return cJSON_IsString(v) ? v->valuestring : "";
}

static int
op_ls_run(const struct agent_op_req *r, cJSON **result, char **cause)
{
	const char *labels[] = { "devcontainer.local_folder", NULL };
	struct docker *d = docker_new(NULL);
	cJSON *list = NULL, *labelled = NULL, *c, *out, *o;
	const cJSON *created;
	int all = agent_op_req_bool(r, "all");

	*result = NULL;
	if (docker_container_list(d, labels, 1, &list, cause) != 0 ||
	    workspace_list_id_labelled(d, &labelled, cause) != 0) {
		cJSON_Delete(list);
		docker_free(d);
		return -1;
	}
	/* (and those `up --id-label` made: no folder label, theirs instead) */
	while ((c = cJSON_DetachItemFromArray(labelled, 0)) != NULL)
		cJSON_AddItemToArray(list, c);
	cJSON_Delete(labelled);
	out = cJSON_CreateArray();
	cJSON_ArrayForEach(c, list) {
		if (!all &&
		    !owner_is(cJSON_GetObjectItemCaseSensitive(c, "Labels"), getuid()))
			continue;
		created = cJSON_GetObjectItemCaseSensitive(c, "Created");
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "containerId", op_ls_string(c, "Id"));
		cJSON_AddStringToObject(
		    o, "state", workspace_state_word(op_ls_string(c, "State")));
		cJSON_AddStringToObject(o, "image", op_ls_string(c, "Image"));
		cJSON_AddStringToObject(
		    o, "workspace", op_ls_label(c, "devcontainer.local_folder"));
		cJSON_AddStringToObject(
		    o, "configFile", op_ls_label(c, "devcontainer.config_file"));
		cJSON_AddStringToObject(
		    o, "owner", op_ls_label(c, "dev.rdev.owner_name"));
		/* (null without one, as status says it: one field, one shape) */
		if (*op_ls_label(c, "com.docker.compose.project") != '\0')
			cJSON_AddStringToObject(o, "composeProject",
			    op_ls_label(c, "com.docker.compose.project"));
		else
			cJSON_AddNullToObject(o, "composeProject");
		cJSON_AddNumberToObject(
		    o, "created", cJSON_IsNumber(created) ? created->valuedouble : 0);
		cJSON_AddItemToArray(out, o);
	}
	cJSON_Delete(list);
	docker_free(d);
	*result = out;
	return 0;
}

const struct agent_op agent_op_ls = { "ls", 0, op_ls_run,
	"list your dev containers on this host (\"all\": everyone's)" };
