/* cmd-ls.c - `ls`: the dev containers on this host, with their state,
 * workspace, image and age (--json: an array of objects). */
#include "agent-cmds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "docker.h"
#include "xmalloc.h"

static const char *
ls_label(const cJSON *c, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(c, "Labels"), name);

	return cJSON_IsString(v) ? v->valuestring : "";
}

static const char *
ls_string(const cJSON *c, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, name);

	return cJSON_IsString(v) ? v->valuestring : "";
}

/* "3m", "2h", "5d" since a Unix time. */
static void
ls_age(double created, char *out, size_t len)
{
	double s = difftime(time(NULL), (time_t)created);

	if (s < 120)
		snprintf(out, len, "%.0fs", s);
	else if (s < 7200)
		snprintf(out, len, "%.0fm", s / 60);
	else if (s < 172800)
		snprintf(out, len, "%.0fh", s / 3600);
	else
		snprintf(out, len, "%.0fd", s / 86400);
}

int
agent_cmd_ls(const struct cmd_program *prog, const struct cmd_entry *entry, int argc,
    char **argv)
{
	const char *labels[] = { "devcontainer.local_folder", NULL };
	struct agent_cmd_args a;
	struct docker *d;
	cJSON *list = NULL, *c, *out, *o;
	char *cause = NULL, *text, age[32];
	const cJSON *created;

	if (agent_cmd_args_parse(prog, entry, argc, argv, AGENT_ARG_JSON, &a) != 0)
		return CMD_EXIT_USAGE;
	d = docker_new(NULL);
	if (docker_container_list(d, labels, 1, &list, &cause) != 0) {
		fprintf(stderr, "%s: ls: %s\n", prog->name, cause);
		free(cause);
		docker_free(d);
		return CMD_EXIT_FAILURE;
	}
	out = cJSON_CreateArray();
	if (!a.json)
		printf("%-12s  %-8s  %-5s  %-30s  %s\n", "CONTAINER", "STATE", "AGE", "IMAGE",
		    "WORKSPACE");
	cJSON_ArrayForEach(c, list) {
		created = cJSON_GetObjectItemCaseSensitive(c, "Created");
		ls_age(cJSON_IsNumber(created) ? created->valuedouble : 0, age, sizeof age);
		if (a.json) {
			o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "containerId", ls_string(c, "Id"));
			cJSON_AddStringToObject(o, "state", ls_string(c, "State"));
			cJSON_AddStringToObject(o, "image", ls_string(c, "Image"));
			cJSON_AddStringToObject(o, "workspace",
			    ls_label(c, "devcontainer.local_folder"));
			cJSON_AddStringToObject(o, "configFile",
			    ls_label(c, "devcontainer.config_file"));
			cJSON_AddStringToObject(o, "owner", ls_label(c, "dev.rdev.owner_name"));
			cJSON_AddStringToObject(o, "composeProject",
			    ls_label(c, "com.docker.compose.project"));
			cJSON_AddNumberToObject(o, "created",
			    cJSON_IsNumber(created) ? created->valuedouble : 0);
			cJSON_AddItemToArray(out, o);
		} else
			printf("%-12.12s  %-8s  %-5s  %-30.30s  %s\n", ls_string(c, "Id"),
			    ls_string(c, "State"), age, ls_string(c, "Image"),
			    ls_label(c, "devcontainer.local_folder"));
	}
	if (a.json) {
		text = cJSON_PrintUnformatted(out);
		printf("%s\n", text);
		free(text);
	}
	cJSON_Delete(out);
	cJSON_Delete(list);
	docker_free(d);
	return CMD_EXIT_OK;
}
