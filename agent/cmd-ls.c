/* cmd-ls.c - `ls`: the dev containers on this host, with their state,
 * workspace, image and age (--json: an array of objects). */
#include "agent-cmds.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "agent-ops.h"
#include "xmalloc.h"

static const char *
cmd_ls_string(const cJSON *c, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, name);

	return cJSON_IsString(v) ? v->valuestring : "";
}

/* "3m", "2h", "5d" since a Unix time. */
static void
cmd_ls_age(double created, char *out, size_t len)
{
	double s;

	/* The agent's number: anything (a broken agent's answer must not
	 * overflow the conversion). */
	if (!(created >= 0 && created < 1e15)) {
		snprintf(out, len, "?");
		return;
	}
	s = difftime(time(NULL), (time_t)created);

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
agent_cmd_ls(const struct agent_backend *be, const struct cmd_program *prog,
    const struct cmd_entry *entry, int argc, char **argv)
{
	struct agent_cmd_args a;
	cJSON *list, *c, *req;
	char *cause = NULL, *text, age[32];
	const cJSON *created;

	if (agent_cmd_args_parse(prog, entry, argc, argv, AGENT_ARG_JSON, &a) != 0)
		return CMD_EXIT_USAGE;
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "op", "ls");
	if (be->call(be->ctx, req, NULL, &list, &cause) != 0) {
		fprintf(stderr, "%s: ls: %s\n", prog->name, cause);
		free(cause);
		return CMD_EXIT_FAILURE;
	}
	if (a.json) {
		if ((text = cJSON_PrintUnformatted(list)) == NULL)
			fatal("out of memory");
		printf("%s\n", text);
		free(text);
		cJSON_Delete(list);
		return CMD_EXIT_OK;
	}
	printf("%-12s  %-8s  %-5s  %-30s  %s\n", "CONTAINER", "STATE", "AGE", "IMAGE",
	    "WORKSPACE");
	cJSON_ArrayForEach(c, list) {
		created = cJSON_GetObjectItemCaseSensitive(c, "created");
		cmd_ls_age(
		    cJSON_IsNumber(created) ? created->valuedouble : 0, age, sizeof age);
		printf("%-12.12s  %-8s  %-5s  %-30.30s  %s\n",
		    cmd_ls_string(c, "containerId"), cmd_ls_string(c, "state"), age,
		    cmd_ls_string(c, "image"), cmd_ls_string(c, "workspace"));
	}
	cJSON_Delete(list);
	return CMD_EXIT_OK;
}
