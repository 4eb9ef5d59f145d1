/* cmd-upgrade.c - `rdev upgrade TARGET`: devcontainer-lock.json made anew
 * from the Features' tags (the "upgrade" operation, agent/op-upgrade.c, on
 * TARGET's backend, where the workspace is), as the reference CLI's
 * `devcontainer upgrade`. */
#include "client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "progress.h"

/* What the command line asks for. */
struct cmd_upgrade_args {
	const char *folder;
	const char *config_file;
	const char *feature;
	const char *target_version;
	int dry_run;
};

/* Option argv[*i] with its value into *a: 1 taken, 0 not one of these, -1
 * with *msg. */
static int
cmd_upgrade_value(
    int argc, char **argv, int *i, struct cmd_upgrade_args *a, const char **msg)
{
	static const char *const names[] = { "--workspace-folder", "--config",
		"--feature", "--target-version", NULL };
	const char **slots[] = { &a->folder, &a->config_file, &a->feature,
		&a->target_version };
	const char *v = NULL;
	int k, r = 0;

	for (k = 0; names[k] != NULL; k++)
		if ((r = agent_cmd_option(argc, argv, i, names[k], &v)) != 0)
			break;
	if (names[k] == NULL)
		return 0;
	if (r < 0 || *v == '\0') {
		*msg = names[k];
		return -1;
	}
	if (k == 0 && a->folder != NULL) {
		*msg = NULL;
		return -1;
	}
	*slots[k] = v;
	return 1;
}

/* Parse argv into *a. 0, or CMD_EXIT_USAGE after printing why. */
static int
cmd_upgrade_parse(int argc, char **argv, struct cmd_upgrade_args *a)
{
	const char *msg = NULL;
	int i, r;

	memset(a, 0, sizeof *a);
	for (i = 1; i < argc; i++) {
		if (strncmp(argv[i], "--", 2) == 0 &&
		    (r = cmd_upgrade_value(argc, argv, &i, a, &msg)) != 0) {
			if (r < 0 && msg == NULL)
				return cmd_usage_error(&client_program,
				    &cmd_upgrade_entry,
				    "one workspace only (a TARGET or "
				    "--workspace-folder)");
			if (r < 0)
				return cmd_usage_error(&client_program,
				    &cmd_upgrade_entry, "%s needs a value", msg);
		} else if (strcmp(argv[i], "--dry-run") == 0)
			a->dry_run = 1;
		else if (argv[i][0] == '-' && argv[i][1] != '\0')
			return cmd_usage_error(&client_program, &cmd_upgrade_entry,
			    "unknown option %s", argv[i]);
		else if (a->folder == NULL)
			a->folder = argv[i];
		else
			return cmd_usage_error(&client_program, &cmd_upgrade_entry,
			    "one workspace only (got %s)", argv[i]);
	}
	if (a->folder == NULL)
		a->folder = ".";
	return 0;
}

static int
cmd_upgrade_exec(int argc, char **argv)
{
	struct progress progress = { .fn = agent_cmd_progress_stderr };
	struct client_target ct;
	struct cmd_upgrade_args a;
	const cJSON *text;
	cJSON *req, *res = NULL;
	char *cause = NULL;
	int rc;

	if ((rc = client_target_open("upgrade", argc, argv, 0, &ct)) != CMD_EXIT_OK)
		goto out;
	if ((rc = cmd_upgrade_parse(ct.argc, ct.argv, &a)) != 0)
		goto out;
	req = agent_cmd_request(client_program.name, "upgrade", a.folder, a.config_file);
	if (a.dry_run)
		cJSON_AddTrueToObject(req, "dryRun");
	if (a.feature != NULL)
		cJSON_AddStringToObject(req, "feature", a.feature);
	if (a.target_version != NULL)
		cJSON_AddStringToObject(req, "targetVersion", a.target_version);
	if (ct.be.call(ct.be.ctx, req, &progress, &res, &cause) != 0) {
		fprintf(stderr, "rdev: upgrade: %s\n", cause);
		free(cause);
		rc = CMD_EXIT_FAILURE;
		goto out;
	}
	text = cJSON_GetObjectItemCaseSensitive(res, "text");
	if (a.dry_run && cJSON_IsString(text))
		fputs(text->valuestring, stdout);
	rc = CMD_EXIT_OK;
out:
	cJSON_Delete(res);
	client_target_close(&ct);
	return rc;
}

const struct cmd_entry cmd_upgrade_entry = { "upgrade",
	"TARGET [--config FILE] [--workspace-folder PATH] [--dry-run] "
	"[--feature ID --target-version VERSION]",
	"write devcontainer-lock.json anew from the Features' tags",
	"Resolves the OCI and tarball Features of TARGET's devcontainer.json again\n"
	"by their tags (\"ghcr.io/devcontainers/features/node:1\": the newest 1.x\n"
	"the registry has), not by the digests devcontainer-lock.json pins, and\n"
	"writes the lockfile of what they resolve to beside devcontainer.json, on\n"
	"the host where the workspace is; as the reference CLI's `devcontainer\n"
	"upgrade`. The next up installs the new versions (with --rebuild when the\n"
	"container exists). Builds nothing; needs no Docker.\n"
	"\n"
	"options (the reference CLI's):\n"
	"  --config FILE   use FILE instead of discovering devcontainer.json\n"
	"  --workspace-folder PATH\n"
	"                  the workspace, instead of the TARGET argument\n"
	"  --dry-run       print the lockfile on stdout instead of writing it\n"
	"  --feature ID --target-version VERSION\n"
	"                  first change the version of Feature ID (any version of\n"
	"                  it) in devcontainer.json to VERSION (x, x.y or x.y.z),\n"
	"                  then write the lockfile (devcontainer.json is changed\n"
	"                  with --dry-run too, as the reference's is)\n"
	"\n" CLIENT_TARGET_HELP,
	cmd_upgrade_exec };
