/* cmd-stop.c - `stop PATH`: stop the workspace's container(s), keep them. */
#include "agent-cmds.h"

#include <stdio.h>
#include <stdlib.h>

#include "agent-ops.h"
#include "progress.h"
#include "json-get.h"
#include "xmalloc.h"

/* The --json line: outcome, stopped, alreadyStopped, keptFor (a shared
 * Compose project's other workspace, when the answer has it) and the
 * answer's warnings. */
static void
agent_cmd_stop_json(const cJSON *res, long n, long already)
{
	const char *kept_for =
	    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(res, "keptFor"));
	cJSON *out = cJSON_CreateObject();

	cJSON_AddStringToObject(out, "outcome", "success");
	cJSON_AddNumberToObject(out, "stopped", (double)n);
	cJSON_AddNumberToObject(out, "alreadyStopped", (double)already);
	if (kept_for != NULL)
		cJSON_AddStringToObject(out, "keptFor", kept_for);
	agent_cmd_print_json(out, res);
}

/* Say what stop did, on stderr (stdout stays for --json). */
static void
agent_cmd_stop_say(const struct cmd_program *prog, const char *shown, long n,
    long already, const char *kept_for)
{
	if (progress_quiet())
		return; /* -q: errors only */
	if (n == 0 && already == 0 && kept_for != NULL)
		fprintf(stderr,
		    "%s: nothing of %s was stopped: its Compose project is kept "
		    "for workspace %s\n",
		    prog->name, shown, kept_for);
	else if (n == 0 && already == 0)
		fprintf(stderr, "%s: no dev container for %s; nothing to stop\n",
		    prog->name, shown);
	else if (n == 0 && already == 1)
		fprintf(stderr,
		    "%s: the dev container for %s was stopped already (kept: `%s "
		    "up` starts it again)\n",
		    prog->name, shown, prog->name);
	else if (n == 0)
		fprintf(stderr, "%s: the %ld containers for %s were stopped already\n",
		    prog->name, already, shown);
	else if (n == 1 && already == 0) /* (as down says what it removed) */
		fprintf(stderr,
		    "%s: the dev container for %s is stopped (kept: `%s up` starts "
		    "it again)\n",
		    prog->name, shown, prog->name);
	else if (already == 0)
		fprintf(stderr, "%s: the %ld containers for %s are stopped\n", prog->name,
		    n, shown);
	else
		fprintf(stderr,
		    "%s: the %ld containers for %s are stopped (%ld of them were "
		    "already)\n",
		    prog->name, n + already, shown, already);
}

/* stop's arguments into *a: 0, or CMD_EXIT_USAGE after printing why. */
int
agent_cmd_stop_parse(const struct cmd_program *prog, const struct cmd_entry *entry,
    int argc, char **argv, struct agent_cmd_args *a)
{
	return agent_cmd_args_parse(prog, entry, argc, argv,
	    AGENT_ARG_FOLDER | AGENT_ARG_JSON | AGENT_ARG_ID_LABEL, a);
}

int
agent_cmd_stop(const struct agent_backend *be, const struct cmd_program *prog,
    const struct cmd_entry *entry, int argc, char **argv)
{
	/* (a stop that may wait long says so first) */
	struct progress progress = { .fn = agent_cmd_progress_stderr };
	struct agent_cmd_args a;
	cJSON *res = NULL;
	char *cause = NULL;
	long n, already;
	int rc;

	if (agent_cmd_stop_parse(prog, entry, argc, argv, &a) != 0)
		return CMD_EXIT_USAGE;
	rc = be->call(be->ctx, agent_cmd_args_request(prog->name, "stop", &a), &progress,
	    &res, &cause);
	agent_cmd_args_clear(&a);
	if (rc != 0) {
		progress_quiet_show();
		fprintf(stderr, "%s: stop: %s\n", prog->name, cause);
		free(cause);
		cJSON_Delete(res);
		return CMD_EXIT_FAILURE;
	}
	if (json_get_int(res, "stopped", 0, 1000000, &n) != 0) {
		fprintf(stderr, "%s: stop: the answer has no \"stopped\" count\n",
		    prog->name);
		cJSON_Delete(res);
		return CMD_EXIT_FAILURE;
	}
	/* (an agent before it counted those in "stopped") */
	if (json_get_int(res, "alreadyStopped", 0, 1000000, &already) != 0)
		already = 0;
	agent_cmd_print_warnings(prog, "stop", res);
	if (a.json)
		agent_cmd_stop_json(res, n, already);
	else
		agent_cmd_stop_say(prog, be->shown != NULL ? be->shown : a.folder, n,
		    already,
		    cJSON_GetStringValue(
			cJSON_GetObjectItemCaseSensitive(res, "keptFor")));
	cJSON_Delete(res);
	return CMD_EXIT_OK;
}
