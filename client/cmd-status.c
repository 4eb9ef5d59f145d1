/* cmd-status.c - `rdev status TARGET [--json]`: the state of one dev
 * container (the "status" operation, agent/op-status.c, on TARGET's backend),
 * its host and its forwards from the broker. */
#include "client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quote.h"
#include "remote.h"

static const char *
cmd_status_string(const cJSON *o, const char *name, const char *none)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) ? v->valuestring : none;
}

void
client_status_print(const cJSON *st, const char *folder)
{
	struct quote_kept k = { 0 };
	const cJSON *steps = cJSON_GetObjectItemCaseSensitive(st, "steps"), *s;
	const cJSON *bg = cJSON_GetObjectItemCaseSensitive(st, "background");
	const cJSON *fw = cJSON_GetObjectItemCaseSensitive(st, "forwards");
	const char *state = cmd_status_string(st, "state", "?");
	const char *bgstate = cmd_status_string(bg, "state", "none");

	/* (the names are the user's: quoted when they hold a line break) */
	printf("workspace   %s\n", quote_shown(&k, folder));
	printf("host        %s\n",
	    quote_shown(&k, cmd_status_string(st, "host", "this machine")));
	printf("state       %s\n", quote_shown(&k, state));
	if (strcmp(state, "absent") == 0) {
		quote_kept_free(&k);
		return;
	}
	printf("container   %.12s\n",
	    quote_shown(&k, cmd_status_string(st, "containerId", "")));
	printf("image       %s\n", quote_shown(&k, cmd_status_string(st, "image", "")));
	printf("created     %s\n", cmd_status_string(st, "created", ""));
	printf("started     %s\n", cmd_status_string(st, "started", ""));
	if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(st, "composeProject")))
		printf("compose     %s\n",
		    quote_shown(&k, cmd_status_string(st, "composeProject", "")));
	if (steps != NULL) {
		printf("lifecycle\n");
		cJSON_ArrayForEach(s, steps)
			printf("  %-22s %s\n", cmd_status_string(s, "name", "?"),
			    cmd_status_string(s, "state", "?"));
		/* a step that failed in `up` itself; the background run's
		 * failure has its own line below */
		cJSON_ArrayForEach(s, steps)
			if (strcmp(bgstate, "failed") != 0 &&
			    cmd_status_string(s, "error", NULL) != NULL)
				printf("error       %s\n",
				    cmd_status_string(s, "error", ""));
	} else if (strcmp(state, "running") == 0) /* (its configuration: warned of) */
		printf("lifecycle   (unknown: the configuration does not load)\n");
	else
		printf("lifecycle   (recorded in the container: start it to see)\n");
	if (strcmp(bgstate, "failed") == 0)
		printf("background  failed: %s\n", cmd_status_string(bg, "error", ""));
	else
		printf("background  %s\n", bgstate);
	if (cJSON_GetArraySize(fw) > 0) {
		printf("forwards\n");
		client_forward_print_table(stdout, fw, 0);
	}
	sync_kept_print(stdout, cJSON_GetObjectItemCaseSensitive(st, "sync"));
	quote_kept_free(&k);
}

/* status's arguments into *a: 0, or CMD_EXIT_USAGE after printing why. */
static int
cmd_status_parse(const struct cmd_program *prog, const struct cmd_entry *entry, int argc,
    char **argv, struct agent_cmd_args *a)
{
	return agent_cmd_args_parse(prog, entry, argc, argv,
	    AGENT_ARG_FOLDER | AGENT_ARG_JSON | AGENT_ARG_ID_LABEL, a);
}

static int
cmd_status_exec(int argc, char **argv)
{
	static const struct client_target_hook hook = { .parse = cmd_status_parse,
		.entry = &cmd_status_entry };
	struct client_target ct;
	struct agent_cmd_args a;
	cJSON *res = NULL, *fw;
	char *cause = NULL, *text;
	int rc;

	if ((rc = client_target_open_hook(
		 "status", argc, argv, CLIENT_TARGET_QUIET, &hook, &ct)) != CMD_EXIT_OK)
		goto out;
	if (cmd_status_parse(&client_program, &cmd_status_entry, ct.argc, ct.argv, &a) !=
	    0) {
		rc = CMD_EXIT_USAGE;
		goto out;
	}
	rc = ct.be.call(ct.be.ctx,
	    agent_cmd_args_request(client_program.name, "status", &a), NULL, &res,
	    &cause);
	agent_cmd_args_clear(&a);
	if (rc != 0) {
		fprintf(stderr, "rdev: status: %s\n", cause);
		rc = CMD_EXIT_FAILURE;
		goto out;
	}
	agent_cmd_print_warnings(&client_program, "status", res);
	if (ct.remote != NULL) {
		cJSON_AddStringToObject(res, "host", remote_host(ct.remote));
		if ((fw = client_forward_list_workspace(ct.remote, ct.t.path)) == NULL)
			fw = cJSON_CreateArray();
		cJSON_AddItemToObject(res, "forwards", fw);
		cJSON_AddItemToObject(res, "sync", sync_kept_status(&ct));
	} else {
		cJSON_AddNullToObject(res, "host");
		/* the broker's local host, when a broker runs */
		if (ct.local_folder == NULL ||
		    (fw = client_forward_list_workspace(NULL, ct.local_folder)) == NULL)
			fw = cJSON_CreateArray();
		cJSON_AddItemToObject(res, "forwards", fw);
	}
	if (a.json) {
		text = cJSON_PrintUnformatted(res);
		printf("%s\n", text);
		free(text);
	} else
		client_status_print(res, a.folder);
	rc = CMD_EXIT_OK;
out:
	free(cause);
	cJSON_Delete(res);
	client_target_close(&ct);
	return rc;
}

const struct cmd_entry cmd_status_entry = { "status",
	"TARGET " AGENT_CMD_WORKSPACE_USAGE " [--json] " AGENT_CMD_ID_LABEL_USAGE,
	"show the state of one dev container",
	"Prints the container's state (running, paused, restarting, stopped or\n"
	"absent, as `ls` names them: exit 0 for each), id, image, created and\n"
	"started times, each lifecycle step's state (done, running, failed, not\n"
	"run, no command; postAttachCommand, which\n"
	"runs at every attach, is \"not recorded\" unless the background run has\n"
	"it; \"failed\" whether the step failed in `up` or in the background run,\n"
	"with its error after the table, and the later steps \"not run\"), the\n"
	"background run's state, the host and the forwards; for HOST:\n"
	"SOURCE, the sync the broker keeps (`rdev up --sync`): watching, sending,\n"
	"queued, away (the folder went: resumed when it is back) or error, files\n"
	"and bytes sent (and brought back, with --two-way), conflicts, the last\n"
	"change and the last error.\n"
	"A container whose workspace folder was deleted, or whose configuration\n"
	"does not load, is found by its labels and shown without its lifecycle\n"
	"steps, with a warning.\n"
	"\n"
	"options:\n" AGENT_CMD_WORKSPACE_HELP
	"  --json   {\"state\",\"containerId\",\"image\",\"created\",\"started\",\n"
	"           \"composeProject\",\"steps\":[{\"name\",\"state\"[,\"error\"]}],\n"
	"           "
	"\"background\",\"host\",\"forwards\",\"sync\"}\n" AGENT_CMD_ID_LABEL_HELP
	"\n" CLIENT_TARGET_HELP,
	cmd_status_exec };
