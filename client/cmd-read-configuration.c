/* cmd-read-configuration.c - `rdev read-configuration`: print a workspace's
 * configuration as JSON. Local targets: common/cmd-read-configuration.c does
 * the work here; remote ones: the host's agent does it (remote.h). */
#include "client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "remote.h"
#include "target.h"

static int
client_rc_remote(const char *target_text, int argc, char **argv)
{
	const struct cmd_entry *e = cmd_lookup(&client_program, "read-configuration");
	struct remote_opts ro = { 0, 1, NULL };
	const char *config = NULL;
	const cJSON *w;
	cJSON *req, *res = NULL, *warnings;
	struct target t;
	struct remote *r;
	char *cause = NULL, *text;
	int merged = 0, i, rc;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--include-merged-configuration") == 0)
			merged = 1;
		else if (strcmp(argv[i], "--accept-new-host-key") == 0)
			ro.accept_new_host_key = 1;
		else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			config = argv[++i];
		else if (strncmp(argv[i], "--config=", 9) == 0)
			config = argv[i] + 9;
		else if (strcmp(argv[i], "--workspace-folder") == 0 && i + 1 < argc)
			i++;
		else if (argv[i] != target_text)
			return cmd_usage_error(&client_program, e,
			    "%s is not available with a "
			    "remote target",
			    argv[i]);
	}
	if (target_parse(target_text, &t, &cause) != 0) {
		fprintf(stderr, "rdev: read-configuration: %s\n", cause);
		free(cause);
		return CMD_EXIT_USAGE;
	}
	r = remote_new(&t, &ro);
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "op", "read-configuration");
	cJSON_AddStringToObject(req, "workspace", t.path);
	if (config != NULL)
		cJSON_AddStringToObject(req, "config", config);
	cJSON_AddBoolToObject(req, "includeMerged", merged);
	rc = remote_request(r, req, NULL, &res, NULL, &cause);
	remote_free(r);
	target_clear(&t);
	if (rc != 0) {
		fprintf(stderr, "rdev: read-configuration: %s\n", cause);
		free(cause);
		return CMD_EXIT_FAILURE;
	}
	warnings = cJSON_DetachItemFromObjectCaseSensitive(res, "warnings");
	cJSON_ArrayForEach(w, warnings) {
		if (cJSON_IsString(w))
			fprintf(stderr, "%s\n", w->valuestring);
	}
	cJSON_Delete(warnings);
	text = cJSON_PrintUnformatted(res);
	printf("%s\n", text);
	free(text);
	cJSON_Delete(res);
	return CMD_EXIT_OK;
}

int
cmd_read_configuration_exec(int argc, char **argv)
{
	const char *target = NULL;
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--workspace-folder") == 0 && i + 1 < argc) {
			target = argv[++i];
			continue;
		}
		if (strcmp(argv[i], "--config") == 0) {
			i++;
			continue;
		}
		if (argv[i][0] != '-' && target == NULL)
			target = argv[i];
	}
	if (target != NULL && target_is_remote(target))
		return client_rc_remote(target, argc, argv);
	return cmd_read_configuration(&client_program, argc, argv);
}
