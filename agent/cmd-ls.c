/* cmd-ls.c - `ls [--all]`: the caller's dev containers on this host
 * (--all: everyone's, with an OWNER column), with their state, workspace,
 * image and age (--json: an array of objects). */
#include "agent-cmds.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "agent-ops.h"
#include "quote.h"
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

void
agent_cmd_ls_print(const cJSON *list, int all, int hosts)
{
	struct quote_kept k = { 0 };
	const cJSON *c, *created;
	const char *owner, *ws;
	char age[32];

	if (hosts)
		printf("%-16s  ", "HOST");
	printf("%-12s  %-8s  %-5s  ", "CONTAINER", "STATE", "AGE");
	if (all)
		printf("%-12s  ", "OWNER");
	printf("%-30s  %s\n", "IMAGE", "WORKSPACE");
	cJSON_ArrayForEach(c, list) {
		created = cJSON_GetObjectItemCaseSensitive(c, "created");
		cmd_ls_age(
		    cJSON_IsNumber(created) ? created->valuedouble : 0, age, sizeof age);
		if (hosts)
			printf("%-16s  ", quote_shown(&k, cmd_ls_string(c, "host")));
		printf("%-12.12s  %-8s  %-5s  ",
		    quote_shown(&k, cmd_ls_string(c, "containerId")),
		    quote_shown(&k, cmd_ls_string(c, "state")), age);
		owner = cmd_ls_string(c, "owner");
		if (all)
			printf(
			    "%-12.12s  ", *owner != '\0' ? quote_shown(&k, owner) : "?");
		/* (one `up --id-label` made has no folder label) */
		ws = cmd_ls_string(c, "workspace");
		printf("%-30.30s  %s\n", quote_shown(&k, cmd_ls_string(c, "image")),
		    *ws != '\0' ? quote_shown(&k, ws) : "(made with --id-label)");
	}
	quote_kept_free(&k);
}

int
agent_cmd_ls(const struct agent_backend *be, const struct cmd_program *prog,
    const struct cmd_entry *entry, int argc, char **argv)
{
	struct agent_cmd_args a;
	cJSON *list = NULL, *req;
	char *cause = NULL, *text;

	if (agent_cmd_args_parse(
		prog, entry, argc, argv, AGENT_ARG_JSON | AGENT_ARG_ALL, &a) != 0)
		return CMD_EXIT_USAGE;
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "op", "ls");
	if (a.all)
		cJSON_AddBoolToObject(req, "all", 1);
	if (be->call(be->ctx, req, NULL, &list, &cause) != 0) {
		fprintf(stderr, "%s: ls: %s\n", prog->name, cause);
		free(cause);
		cJSON_Delete(list);
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
	agent_cmd_ls_print(list, a.all, 0);
	cJSON_Delete(list);
	return CMD_EXIT_OK;
}
