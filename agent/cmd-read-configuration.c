/* cmd-read-configuration.c - `read-configuration PATH [--config FILE]
 * [--include-merged-configuration] [--include-features-configuration]
 * [--mount-workspace-git-root true|false]`: print
 * the workspace's configuration as one line of JSON in the shape of the
 * reference CLI's `devcontainer read-configuration` (the "read-configuration"
 * operation, op-read-configuration.c, through a backend); its warnings go to
 * stderr as "PROG: warning: ...", an error as "PROG: FILE:LINE:COL: ..." (exit
 * 1). Shared by rdev-agent and rdev. */
#include "agent-cmds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "xmalloc.h"

struct cmd_read_configuration_args {
	const char *folder;
	const char *config_file;
	const char *override_config; /* --override-config, or NULL */
	cJSON *additional_features;  /* --additional-features, or NULL */
	int merged;
	int features;			      /* --include-features-configuration */
	enum workspace_git_root git_root;     /* --mount-workspace-git-root */
	enum workspace_common_dir common_dir; /* --mount-git-worktree-common-dir */
	cJSON *id_labels;		      /* --id-label's, or NULL */
};

/* Parse argv; returns 0 or an exit code (after printing a usage error). */
static int
cmd_read_configuration_parse(const struct cmd_program *prog,
    const struct cmd_entry *entry, int argc, char **argv,
    struct cmd_read_configuration_args *a)
{
	const char *v, *msg;
	char *error = NULL;
	int i, r, b;

	memset(a, 0, sizeof *a);
	for (i = 1; i < argc; i++) {
		if ((r = agent_cmd_option(argc, argv, &i, "--override-config", &v)) !=
		    0) {
			if (r < 0)
				return cmd_usage_error(
				    prog, entry, "--override-config needs an argument");
			if (*v == '\0')
				return cmd_usage_error(prog, entry,
				    AGENT_CMD_EMPTY("--override-config", "file"));
			a->override_config = v;
			continue;
		}
		if ((r = agent_cmd_option(argc, argv, &i, "--additional-features", &v)) !=
		    0) {
			if (r < 0)
				return cmd_usage_error(prog, entry,
				    "--additional-features needs an argument");
			cJSON_Delete(a->additional_features);
			if ((a->additional_features =
				    agent_cmd_features_arg(v, &error)) == NULL) {
				r = cmd_usage_error(prog, entry, "%s", error);
				free(error);
				return r;
			}
			continue;
		}
		if ((r = agent_cmd_option(argc, argv, &i, "--id-label", &v)) != 0) {
			if (r < 0 || !agent_cmd_id_label_ok(v))
				return cmd_usage_error(
				    prog, entry, "--id-label must be NAME=VALUE");
			if (a->id_labels == NULL)
				a->id_labels = cJSON_CreateArray();
			cJSON_AddItemToArray(a->id_labels, cJSON_CreateString(v));
		} else if ((r = agent_cmd_bool_option(argc, argv, &i,
				agent_cmd_bool_options[AGENT_BOOL_INCLUDE_MERGED], &b,
				&msg)) != 0) {
			if (r < 0)
				return cmd_usage_error(prog, entry,
				    "--include-merged-configuration %s", msg);
			a->merged = b;
		} else if ((r = agent_cmd_bool_option(argc, argv, &i,
				agent_cmd_bool_options[AGENT_BOOL_INCLUDE_FEATURES], &b,
				&msg)) != 0) {
			if (r < 0)
				return cmd_usage_error(prog, entry,
				    "--include-features-configuration %s", msg);
			a->features = b;
		} else if ((r = agent_cmd_bool_option(argc, argv, &i,
				agent_cmd_bool_options[AGENT_BOOL_GIT_ROOT], &b, &msg)) !=
		    0) {
			if (r < 0)
				return cmd_usage_error(
				    prog, entry, "--mount-workspace-git-root %s", msg);
			a->git_root = b ? WORKSPACE_GIT_ROOT_MOUNTED
					: WORKSPACE_GIT_ROOT_NOT_MOUNTED;
		} else if ((r = agent_cmd_bool_option(argc, argv, &i,
				agent_cmd_bool_options[AGENT_BOOL_COMMON_DIR], &b,
				&msg)) != 0) {
			if (r < 0)
				return cmd_usage_error(prog, entry,
				    "--mount-git-worktree-common-dir %s", msg);
			a->common_dir = b ? WORKSPACE_COMMON_DIR_MOUNTED
					  : WORKSPACE_COMMON_DIR_NOT_MOUNTED;
		} else if (strcmp(argv[i], "--config") == 0 ||
		    strcmp(argv[i], "--workspace-folder") == 0) {
			if (i + 1 == argc)
				return cmd_usage_error(
				    prog, entry, "%s needs an argument", argv[i]);
			if (argv[i][2] == 'c' && *argv[i + 1] == '\0')
				return cmd_usage_error(
				    prog, entry, AGENT_CMD_EMPTY("--config", "file"));
			if (argv[i][2] == 'c')
				a->config_file = argv[++i];
			else if (a->folder != NULL)
				return cmd_usage_error(
				    prog, entry, "only one workspace folder");
			else
				a->folder = argv[++i];
		} else if (strncmp(argv[i], "--config=", 9) == 0) {
			if (argv[i][9] == '\0')
				return cmd_usage_error(
				    prog, entry, AGENT_CMD_EMPTY("--config", "file"));
			a->config_file = argv[i] + 9;
		} else if (strncmp(argv[i], "--", 2) == 0 &&
		    (r = agent_cmd_default_only(
			 argc, argv, &i, AGENT_REF_READ_CONFIGURATION, &error)) != 0) {
			if (r < 0) {
				r = cmd_usage_error(prog, entry, "%s", error);
				free(error);
				return r;
			}
		} else if (argv[i][0] == '-' && argv[i][1] != '\0')
			return cmd_usage_error(prog, entry, "unknown option %s", argv[i]);
		else if (a->folder != NULL)
			return cmd_usage_error(prog, entry, "only one PATH");
		else
			a->folder = argv[i];
	}
	if (a->folder != NULL && *a->folder == '\0')
		return cmd_usage_error(prog, entry, AGENT_CMD_EMPTY_FOLDER);
	if (a->folder == NULL)
		a->folder = ".";
	return 0;
}

int
agent_cmd_read_configuration_check(
    const struct cmd_program *prog, const struct cmd_entry *entry, int argc, char **argv)
{
	struct cmd_read_configuration_args a;
	int rc = cmd_read_configuration_parse(prog, entry, argc, argv, &a);

	cJSON_Delete(a.id_labels);
	cJSON_Delete(a.additional_features);
	return rc;
}

int
agent_cmd_read_configuration(const struct agent_backend *be,
    const struct cmd_program *prog, const struct cmd_entry *entry, int argc, char **argv)
{
	struct cmd_read_configuration_args a;
	cJSON *req, *res = NULL, *warnings;
	const cJSON *w;
	char *cause = NULL, *text;
	int rc;

	if ((rc = cmd_read_configuration_parse(prog, entry, argc, argv, &a)) != 0) {
		cJSON_Delete(a.id_labels);
		cJSON_Delete(a.additional_features);
		return rc;
	}
	req =
	    agent_cmd_request(prog->name, "read-configuration", a.folder, a.config_file);
	if (a.id_labels != NULL)
		cJSON_AddItemToObject(req, "idLabels", a.id_labels);
	cJSON_AddBoolToObject(req, "includeMerged", a.merged);
	if (a.features)
		cJSON_AddTrueToObject(req, "includeFeatures");
	workspace_git_root_add(req, a.git_root);
	workspace_common_dir_add(req, a.common_dir);
	if (a.override_config != NULL)
		cJSON_AddStringToObject(req, "overrideConfig", a.override_config);
	if (a.additional_features != NULL)
		cJSON_AddItemToObject(req, "additionalFeatures", a.additional_features);
	if (be->call(be->ctx, req, NULL, &res, &cause) != 0) {
		fprintf(stderr, "%s: %s: %s\n", prog->name, entry->name, cause);
		free(cause);
		cJSON_Delete(res);
		return CMD_EXIT_FAILURE;
	}
	warnings = cJSON_DetachItemFromObjectCaseSensitive(res, "warnings");
	cJSON_ArrayForEach(w, warnings) {
		if (cJSON_IsString(w))
			log_warn("%s", w->valuestring);
	}
	cJSON_Delete(warnings);
	if ((text = cJSON_PrintUnformatted(res)) == NULL)
		fatal("out of memory");
	printf("%s\n", text);
	free(text);
	cJSON_Delete(res);
	return fflush(stdout) == 0 ? CMD_EXIT_OK : CMD_EXIT_FAILURE;
}
