/* cmd-upgrade.c - `rdev upgrade TARGET`: devcontainer-lock.json made anew
 * from the Features' tags (the "upgrade" operation, agent/op-upgrade.c, on
 * TARGET's backend, where the workspace is), as the reference CLI's
 * `devcontainer upgrade`; with HOST: ./app, --feature's edit is made in
 * ./app before the upload. */
#include "client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "atomic-file.h"
#include "config.h"
#include "feature-fetch.h"
#include "jsonc.h"
#include "progress.h"
#include "xmalloc.h"

/* upgrade's own options; the rest are the workspace's (agent_cmd_args). */
struct cmd_upgrade_opts {
	const char *feature;
	const char *target_version;
	int dry_run;
	const struct progress *progress;
	int edited_here; /* --feature done in the local folder before its upload */
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

/* HOST: SOURCE (a local folder), before its upload: --feature's edit of
 * devcontainer.json made in the folder, where the developer keeps it, as
 * the agent makes it in the host's copy (agent/op-upgrade.c, the same
 * feature_ref_retarget(): comments kept), atomically, mode kept; the host's
 * copy then comes with it. Not with --dry-run, which edits nothing here (the
 * agent edits the host's copy, as the reference's dry run does its own). A
 * client_target_hook's before_send. */
static int
cmd_upgrade_retarget_local(struct client_target *ct, int argc, char **argv, void *arg)
{
	struct cmd_upgrade_opts *o = arg;
	const char *key;
	char *file, *shown, *text = NULL, *edited = NULL, *cause = NULL;
	struct jsonc_doc *doc = NULL;
	struct stat st;
	size_t n;
	int rc = CMD_EXIT_FAILURE;

	(void)argc;
	(void)argv;
	/* (a usage error was found before anything is edited: the hook's
	 * check, cmd_upgrade_parse) */
	if (o->feature == NULL || o->dry_run || !client_lockfile_wanted(ct))
		return CMD_EXIT_OK;
	/* (the agent's check, which then sees no version) */
	if (feature_ref_version_check(o->target_version, &cause) != 0) {
		fprintf(stderr, "rdev: upgrade: %s\n", cause);
		free(cause);
		return CMD_EXIT_FAILURE;
	}
	if (ct->lock_sent.config == NULL) {
		fprintf(stderr,
		    "rdev: upgrade: --feature: no devcontainer.json in %s to edit "
		    "(a --config outside the folder?)\n",
		    ct->src.text);
		return CMD_EXIT_USAGE;
	}
	file = xasprintf("%s/%s", ct->src.path, ct->lock_sent.config);
	/* the folder as typed, as lockfile-copy.c shows it */
	n = strlen(ct->src.text);
	while (n > 1 && ct->src.text[n - 1] == '/')
		n--;
	shown = xasprintf("%.*s/%s", (int)n, ct->src.text, ct->lock_sent.config);
	/* (a symlink is not replaced by a file of the edit, nor is what it
	 * points at edited: as a symlinked lockfile, lockfile-copy.c) */
	if (lstat(file, &st) == 0 && S_ISLNK(st.st_mode)) {
		cause = xasprintf("--feature: %s is a symlink: change the Feature's "
				  "version in what it points at by hand, then run "
				  "`rdev upgrade %s`",
		    shown, ct->typed_q);
		goto out;
	}
	if ((text = config_read_text(file, &cause)) == NULL ||
	    (doc = jsonc_parse(shown, text, strlen(text), &cause)) == NULL)
		goto out;
	progress_line(o->progress, "Updating '%s' to '%s' in devcontainer.json",
	    o->feature, o->target_version);
	edited = feature_ref_retarget(text,
	    cJSON_GetObjectItemCaseSensitive(jsonc_doc_root(doc), "features"), o->feature,
	    o->target_version, &key);
	if (edited == NULL)
		progress_line(o->progress, "%s: no Feature '%s' in \"features\"", shown,
		    o->feature);
	else if (strcmp(edited, text) != 0) {
		progress_line(o->progress, "Updating config file: '%s'", shown);
		if (stat(file, &st) != 0)
			st.st_mode = 0644;
		if (atomic_file_write(
			file, edited, strlen(edited), st.st_mode & 07777, &cause) != 0)
			goto out;
	}
	o->edited_here = 1;
	rc = CMD_EXIT_OK;
out:
	if (cause != NULL)
		fprintf(stderr, "rdev: upgrade: %s\n", cause);
	free(cause);
	jsonc_doc_free(doc);
	free(edited);
	free(text);
	free(shown);
	free(file);
	return rc;
}

/* upgrade's arguments into *a: 0, or CMD_EXIT_USAGE after printing why;
 * also the hook's check, before a remote TARGET's upload or its edit here
 * (client_target_hook): the same parse as after it. */
static int
cmd_upgrade_parse(const struct cmd_program *prog, const struct cmd_entry *entry, int argc,
    char **argv, struct agent_cmd_args *a)
{
	return agent_cmd_args_parse(prog, entry, argc, argv, AGENT_ARG_FOLDER, a);
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
	struct client_target_hook hook = { .parse = cmd_upgrade_parse,
		.entry = &cmd_upgrade_entry,
		.before_send = cmd_upgrade_retarget_local,
		.arg = &o };
	int rc;

	/* (taken before the upload, which the hook's edit precedes) */
	if (cmd_upgrade_take(&argc, argv, &o, &msg) != 0) {
		memset(&ct, 0, sizeof ct);
		rc = cmd_usage_error(&client_program, &cmd_upgrade_entry, "%s", msg);
		goto out;
	}
	o.progress = &progress;
	if ((rc = client_target_open_hook("upgrade", argc, argv,
		 CLIENT_TARGET_SEND_LOCAL | CLIENT_TARGET_SEND_HOLD, &hook, &ct)) !=
	    CMD_EXIT_OK)
		goto out;
	if ((rc = cmd_upgrade_parse(
		 &client_program, &cmd_upgrade_entry, ct.argc, ct.argv, &a)) != 0)
		goto out;
	req = agent_cmd_args_request(client_program.name, "upgrade", &a);
	agent_cmd_args_clear(&a);
	if (o.dry_run)
		cJSON_AddTrueToObject(req, "dryRun");
	else if (client_lockfile_wanted(&ct))
		cJSON_AddTrueToObject(req, "includeLockfile");
	/* (made in the local folder already: the host's copy has it) */
	if (o.feature != NULL && !o.edited_here) {
		cJSON_AddStringToObject(req, "feature", o.feature);
		cJSON_AddStringToObject(req, "targetVersion", o.target_version);
	}
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
	"                  with --dry-run too, as the reference's is; with\n"
	"                  HOST: ./app, the local ./app's devcontainer.json,\n"
	"                  before the upload, and not with --dry-run)\n"
	"\n" CLIENT_TARGET_HELP,
	cmd_upgrade_exec };
