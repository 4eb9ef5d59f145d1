/* cmd-down.c - `down PATH [--volumes]`: remove the workspace's container(s).
 * Named volumes are kept unless --volumes: then those the configuration's
 * mounts name go too, unless another container uses them (each one kept is
 * named on stderr, with why); for Compose the project's networks go too. A
 * workspace with no container is a clean no-op. */
#include "agent-cmds.h"

#include <stdio.h>
#include <stdlib.h>

#include "agent-ops.h"
#include "json-get.h"
#include "progress.h"
#include "xmalloc.h"

/* Say which named volumes down kept, and why: "PROG: kept volume NAME:
 * REASON" on stderr. */
static void
agent_cmd_down_kept(const struct cmd_program *prog, const cJSON *res)
{
	const cJSON *k, *name, *reason;

	cJSON_ArrayForEach(k, cJSON_GetObjectItemCaseSensitive(res, "keptVolumes")) {
		name = cJSON_GetObjectItemCaseSensitive(k, "name");
		reason = cJSON_GetObjectItemCaseSensitive(k, "reason");
		if (cJSON_IsString(name))
			fprintf(stderr, "%s: kept volume %s: %s\n", prog->name,
			    name->valuestring,
			    cJSON_IsString(reason) ? reason->valuestring : "?");
	}
}

/* Say what down did, on stderr (stdout stays for --json): the containers
 * and volumes removed, or that there was nothing to remove. */
static void
agent_cmd_down_say(
    const struct cmd_program *prog, const char *folder, const cJSON *res, long n)
{
	const cJSON *e;
	const char *kept_for;
	int volumes = 0;

	if (progress_quiet())
		return; /* -q: errors only */
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(res, "removedVolumes"))
		if (cJSON_IsString(e)) {
			fprintf(stderr, "%s: removed volume %s\n", prog->name,
			    e->valuestring);
			volumes++;
		}
	if (n == 1)
		fprintf(
		    stderr, "%s: removed the dev container for %s\n", prog->name, folder);
	else if (n > 1)
		fprintf(
		    stderr, "%s: removed %ld containers for %s\n", prog->name, n, folder);
	else if (volumes == 0 &&
	    (kept_for = cJSON_GetStringValue(
		 cJSON_GetObjectItemCaseSensitive(res, "keptFor"))) != NULL)
		fprintf(stderr,
		    "%s: nothing of %s was removed: its Compose project is kept "
		    "for workspace %s\n",
		    prog->name, folder, kept_for);
	else if (volumes == 0)
		fprintf(stderr, "%s: no dev container for %s; nothing to remove\n",
		    prog->name, folder);
}

/* The --json line: outcome, removed, keptFor (a shared Compose project's
 * other workspace) and, with --volumes, the volumes (strings only: the
 * answer is the agent's). */
static void
agent_cmd_down_json(const cJSON *res, long n)
{
	const cJSON *removed = cJSON_GetObjectItemCaseSensitive(res, "removedVolumes");
	const cJSON *kept = cJSON_GetObjectItemCaseSensitive(res, "keptVolumes");
	const char *kept_for =
	    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(res, "keptFor"));
	const cJSON *e, *name, *reason;
	cJSON *out = cJSON_CreateObject(), *list, *k;

	cJSON_AddStringToObject(out, "outcome", "success");
	cJSON_AddNumberToObject(out, "removed", (double)n);
	if (kept_for != NULL)
		cJSON_AddStringToObject(out, "keptFor", kept_for);
	if (removed != NULL) {
		list = cJSON_AddArrayToObject(out, "removedVolumes");
		cJSON_ArrayForEach(e, removed)
			if (cJSON_IsString(e))
				cJSON_AddItemToArray(
				    list, cJSON_CreateString(e->valuestring));
	}
	if (kept != NULL) {
		list = cJSON_AddArrayToObject(out, "keptVolumes");
		cJSON_ArrayForEach(e, kept) {
			name = cJSON_GetObjectItemCaseSensitive(e, "name");
			reason = cJSON_GetObjectItemCaseSensitive(e, "reason");
			if (!cJSON_IsString(name) || !cJSON_IsString(reason))
				continue;
			k = cJSON_CreateObject();
			cJSON_AddStringToObject(k, "name", name->valuestring);
			cJSON_AddStringToObject(k, "reason", reason->valuestring);
			cJSON_AddItemToArray(list, k);
		}
	}
	agent_cmd_print_json(out, res);
}

/* down's arguments into *a: 0, or CMD_EXIT_USAGE after printing why. */
int
agent_cmd_down_parse(const struct cmd_program *prog, const struct cmd_entry *entry,
    int argc, char **argv, struct agent_cmd_args *a)
{
	return agent_cmd_args_parse(prog, entry, argc, argv,
	    AGENT_ARG_FOLDER | AGENT_ARG_JSON | AGENT_ARG_VOLUMES | AGENT_ARG_ID_LABEL,
	    a);
}

int
agent_cmd_down(const struct agent_backend *be, const struct cmd_program *prog,
    const struct cmd_entry *entry, int argc, char **argv)
{
	/* (a stop that may wait long says so first) */
	struct progress progress = { .fn = agent_cmd_progress_stderr };
	struct agent_cmd_args a;
	cJSON *res = NULL, *req;
	char *cause = NULL;
	long n;

	if (agent_cmd_down_parse(prog, entry, argc, argv, &a) != 0)
		return CMD_EXIT_USAGE;
	req = agent_cmd_args_request(prog->name, "down", &a);
	agent_cmd_args_clear(&a);
	cJSON_AddBoolToObject(req, "volumes", a.volumes);
	if (be->call(be->ctx, req, &progress, &res, &cause) != 0) {
		progress_quiet_show();
		fprintf(stderr, "%s: down: %s\n", prog->name, cause);
		free(cause);
		cJSON_Delete(res);
		return CMD_EXIT_FAILURE;
	}
	if (json_get_int(res, "removed", 0, 1000000, &n) != 0) {
		fprintf(stderr, "%s: down: the answer has no \"removed\" count\n",
		    prog->name);
		cJSON_Delete(res);
		return CMD_EXIT_FAILURE;
	}
	agent_cmd_print_warnings(prog, "down", res);
	if (a.json)
		agent_cmd_down_json(res, n);
	else
		agent_cmd_down_say(
		    prog, be->shown != NULL ? be->shown : a.folder, res, n);
	agent_cmd_down_kept(prog, res);
	cJSON_Delete(res);
	return CMD_EXIT_OK;
}
