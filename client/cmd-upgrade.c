/* cmd-upgrade.c - `rdev upgrade TARGET`: devcontainer-lock.json made anew
 * from the Features' tags (the "upgrade" operation, agent/op-upgrade.c, on
 * TARGET's backend, where the workspace is), as the reference CLI's
 * `devcontainer upgrade`. */
#include "client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "progress.h"

/* upgrade's own options; the rest are the workspace's (agent_cmd_args). */
struct cmd_upgrade_opts {
	const char *feature;
	const char *target_version;
	int dry_run;
};

/* Take upgrade's own options out of argv (NULL-terminated; *argc shrinks).
 * 0, or -1 with *msg saying what is wrong. */
static int
cmd_upgrade_take(int *argc, char **argv, struct cmd_upgrade_opts *o, const char **msg)
{
	int i, start, r = 0;

	memset(o, 0, sizeof *o);
	for (i = 1; i < *argc; i++) {
		start = i;
		if (strcmp(argv[i], "--dry-run") == 0)
			o->dry_run = 1;
		else if ((r = agent_cmd_option(
			      *argc, argv, &i, "--feature", &o->feature)) == 0 &&
		    (r = agent_cmd_option(
			 *argc, argv, &i, "--target-version", &o->target_version)) == 0)
			continue;
		if (r < 0) {
			*msg = strcmp(argv[start], "--feature") == 0
			    ? "--feature needs a value"
			    : "--target-version needs a value";
			return -1;
		}
		/* argv[start..i] go, the NULL after the last one moves too */
		memmove(argv + start, argv + i + 1, (size_t)(*argc - i) * sizeof *argv);
		*argc -= i + 1 - start;
		i = start - 1;
	}
	if ((o->feature == NULL) != (o->target_version == NULL)) {
		*msg = "--feature and --target-version go together";
		return -1;
	}
	return 0;
}

static int
cmd_upgrade_exec(int argc, char **argv)
{
	struct progress progress = { .fn = agent_cmd_progress_stderr };
	struct client_target ct;
	struct cmd_upgrade_opts o;
	struct agent_cmd_args a;
	const cJSON *text;
	cJSON *req, *res = NULL;
	const char *msg = NULL;
	char *cause = NULL;
	int rc;

	if ((rc = client_target_open(
		 "upgrade", argc, argv, CLIENT_TARGET_SEND_LOCAL, &ct)) != CMD_EXIT_OK)
		goto out;
	if (cmd_upgrade_take(&ct.argc, ct.argv, &o, &msg) != 0) {
		rc = cmd_usage_error(&client_program, &cmd_upgrade_entry, "%s", msg);
		goto out;
	}
	/* The host's devcontainer.json would change and the next upload
	 * would put the local one back. */
	if (o.feature != NULL && client_lockfile_wanted(&ct)) {
		fprintf(stderr,
		    "rdev: upgrade: --feature would edit the host's copy of "
		    "devcontainer.json, which the next upload of %s replaces: "
		    "change the Feature's version in %s%s%s here, then run "
		    "`rdev upgrade %s`\n",
		    ct.src.text, ct.src.path, ct.lock_sent.config != NULL ? "/" : "",
		    ct.lock_sent.config != NULL ? ct.lock_sent.config
						: " (its devcontainer.json)",
		    ct.typed);
		rc = CMD_EXIT_USAGE;
		goto out;
	}
	if ((rc = agent_cmd_args_parse(&client_program, &cmd_upgrade_entry, ct.argc,
		 ct.argv, AGENT_ARG_FOLDER, &a)) != 0)
		goto out;
	req = agent_cmd_args_request(client_program.name, "upgrade", &a);
	agent_cmd_args_clear(&a);
	if (o.dry_run)
		cJSON_AddTrueToObject(req, "dryRun");
	else if (client_lockfile_wanted(&ct))
		cJSON_AddTrueToObject(req, "includeLockfile");
	if (o.feature != NULL)
		cJSON_AddStringToObject(req, "feature", o.feature);
	if (o.target_version != NULL)
		cJSON_AddStringToObject(req, "targetVersion", o.target_version);
	if (ct.be.call(ct.be.ctx, req, &progress, &res, &cause) != 0) {
		fprintf(stderr, "rdev: upgrade: %s\n", cause);
		free(cause);
		rc = CMD_EXIT_FAILURE;
		goto out;
	}
	text = cJSON_GetObjectItemCaseSensitive(res, "text");
	if (o.dry_run && cJSON_IsString(text))
		fputs(text->valuestring, stdout);
	if (client_lockfile_copy(&ct,
		cJSON_GetObjectItemCaseSensitive(res, "workspaceLockfile"), &progress,
		&cause) < 0) {
		client_lockfile_warn("upgrade", &progress, cause);
		cause = NULL;
	}
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
