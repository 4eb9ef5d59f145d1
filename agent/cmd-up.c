/* cmd-up.c - `up PATH`: parse, build the "up" request, run it through a
 * backend (agent-cmds.h: this host or a remote agent) and print the result;
 * shared by rdev-agent and rdev. */
#include "agent-cmds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent-ops.h"
#include "progress.h"
#include "up.h"
#include "error.h"
#include "xmalloc.h"

static void
cmd_up_progress(void *arg, const char *data, size_t len)
{
	if (fwrite(data, 1, len, stderr) != len) {
		/* progress is best effort */
	}
}

/* --json: the warnings only. up sends each as one "warning: ..." line of
 * its own (progress_line(), one event when remote). */
static void
cmd_up_warnings(void *arg, const char *data, size_t len)
{
	if (len > 9 && strncmp(data, "warning: ", 9) == 0)
		cmd_up_progress(arg, data, len);
}

int
agent_cmd_up(const struct agent_backend *be, const struct cmd_program *prog,
    const struct cmd_entry *entry, int argc, char **argv, cJSON **ports)
{
	struct up_opts opts = { 0 };
	struct progress progress;
	char *cause = NULL, *text;
	cJSON *json, *req;
	int i, quiet = 0;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--rebuild") == 0)
			opts.rebuild = 1;
		else if (strcmp(argv[i], "--recreate") == 0)
			opts.recreate = 1;
		else if (strcmp(argv[i], "--skip-non-blocking-commands") == 0)
			opts.skip_non_blocking = 1;
		else if (strcmp(argv[i], "--skip-post-create") == 0)
			opts.skip_post_create = 1;
		else if (strcmp(argv[i], "--skip-post-attach") == 0)
			opts.skip_post_attach = 1;
		else if (strcmp(argv[i], "--json") == 0)
			quiet = 1;
		else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			opts.config_file = argv[++i];
		else if (strncmp(argv[i], "--config=", 9) == 0)
			opts.config_file = argv[i] + 9;
		else if (argv[i][0] == '-' && argv[i][1] != '\0')
			return cmd_usage_error(prog, entry, "unknown option %s", argv[i]);
		else if (opts.workspace_folder == NULL)
			opts.workspace_folder = argv[i];
		else
			return cmd_usage_error(
			    prog, entry, "one workspace only (got %s)", argv[i]);
	}
	if (opts.workspace_folder == NULL)
		opts.workspace_folder = ".";
	progress.fn = quiet ? cmd_up_warnings : cmd_up_progress;
	progress.arg = NULL;
	req =
	    agent_cmd_request(prog->name, "up", opts.workspace_folder, opts.config_file);
	cJSON_AddBoolToObject(req, "rebuild", opts.rebuild);
	cJSON_AddBoolToObject(req, "recreate", opts.recreate);
	cJSON_AddBoolToObject(req, "skipNonBlockingCommands", opts.skip_non_blocking);
	cJSON_AddBoolToObject(req, "skipPostCreate", opts.skip_post_create);
	cJSON_AddBoolToObject(req, "skipPostAttach", opts.skip_post_attach);
	cJSON_AddBoolToObject(req, "includePorts", ports != NULL);
	if (ports != NULL)
		*ports = NULL;
	if (be->call(be->ctx, req, &progress, &json, &cause) != 0) {
		fprintf(stderr, "%s: up: %s\n", prog->name, cause);
		json = cJSON_CreateObject();
		cJSON_AddStringToObject(json, "outcome", "error");
		cJSON_AddStringToObject(json, "message", cause);
		text = cJSON_PrintUnformatted(json);
		printf("%s\n", text);
		free(text);
		cJSON_Delete(json);
		free(cause);
		return CMD_EXIT_FAILURE;
	}
	/* Kept for the forwardPorts step, not printed with the result. */
	if (ports != NULL)
		*ports = cJSON_DetachItemFromObjectCaseSensitive(json, "ports");
	text = cJSON_PrintUnformatted(json);
	printf("%s\n", text);
	free(text);
	cJSON_Delete(json);
	return CMD_EXIT_OK;
}
