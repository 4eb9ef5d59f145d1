/* cmd-build.c - `rdev build TARGET`: build the image of TARGET's dev
 * container, with its devcontainer.metadata label, and no container (the
 * "build" operation, agent/op-build.c, on TARGET's backend), as the
 * reference CLI's `devcontainer build`; the next `up` runs that image. */
#include "client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image-ref.h"
#include "progress-view.h"
#include "progress.h"

/* What the command line asks for. */
struct cmd_build_args {
	const char *folder;
	const char *config_file;
	int no_cache;
	int no_lockfile, frozen_lockfile;
	int log_json;
	cJSON *image_names, *cache_from; /* NULL: none given */
	cJSON *additional_features;	 /* NULL: none given */
	char *error;			 /* a usage error's message made here */
};

static void
cmd_build_args_clear(struct cmd_build_args *a)
{
	cJSON_Delete(a->image_names);
	cJSON_Delete(a->cache_from);
	cJSON_Delete(a->additional_features);
	free(a->error);
}

/* Option argv[*i] with its value into *a: 1 taken, 0 not one of these, -1
 * with *msg. */
static int
cmd_build_value(int argc, char **argv, int *i, struct cmd_build_args *a, const char **msg)
{
	static const char *const names[] = { "--workspace-folder", "--config",
		"--image-name", "--cache-from", "--log-format", "--additional-features",
		NULL };
	const char *v = NULL;
	int k, r = 0;

	for (k = 0; names[k] != NULL; k++)
		if ((r = agent_cmd_option(argc, argv, i, names[k], &v)) != 0)
			break;
	if (names[k] == NULL)
		return 0;
	*msg = names[k];
	if (r < 0 || *v == '\0')
		return -1;
	if (k == 0) {
		if (a->folder != NULL) {
			*msg = "one workspace only (a TARGET or --workspace-folder)";
			return -1;
		}
		a->folder = v;
	} else if (k == 1)
		a->config_file = v;
	else if (k == 2) {
		/* Checked before the build, which Docker would otherwise run
		 * whole before refusing the name in its tag. */
		free(a->error);
		if ((a->error = image_ref_tag_check("--image-name", v)) != NULL) {
			*msg = a->error;
			return -1;
		}
		agent_cmd_list_add(&a->image_names, cJSON_CreateString(v));
	} else if (k == 3)
		agent_cmd_list_add(&a->cache_from, cJSON_CreateString(v));
	else if (k == 5) {
		cJSON_Delete(a->additional_features);
		a->additional_features = agent_cmd_features_arg(v, &a->error);
		if (a->additional_features == NULL) {
			*msg = a->error;
			return -1;
		}
	} else if (strcmp(v, "text") == 0 || strcmp(v, "json") == 0)
		a->log_json = strcmp(v, "json") == 0;
	else {
		*msg = "--log-format must be text or json";
		return -1;
	}
	return 1;
}

/* Parse argv into *a (cleared with cmd_build_args_clear() either way). 0,
 * or CMD_EXIT_USAGE after printing why; warn: print the deprecated flags'
 * warnings too (once: not for cmd_build_check). */
static int
cmd_build_parse(int argc, char **argv, struct cmd_build_args *a, int warn)
{
	const char *msg = NULL, *warning;
	int i, r;

	memset(a, 0, sizeof *a);
	for (i = 1; i < argc; i++) {
		if (strncmp(argv[i], "--", 2) == 0 &&
		    (r = cmd_build_value(argc, argv, &i, a, &msg)) != 0) {
			if (r < 0 && strncmp(msg, "--", 2) == 0 &&
			    strchr(msg, ' ') == NULL)
				return cmd_usage_error(&client_program, &cmd_build_entry,
				    "%s needs a value", msg);
			if (r < 0)
				return cmd_usage_error(
				    &client_program, &cmd_build_entry, "%s", msg);
		} else if (strcmp(argv[i], "--no-cache") == 0)
			a->no_cache = 1;
		else if ((r = agent_cmd_lockfile_arg(argc, argv, &i, &a->no_lockfile,
			      &a->frozen_lockfile, &warning)) != 0) {
			if (r < 0)
				return cmd_usage_error(
				    &client_program, &cmd_build_entry, "%s", warning);
			if (warning != NULL && warn)
				fprintf(stderr, "%s\n", warning);
		} else if (strncmp(argv[i], "--", 2) == 0 &&
		    (r = agent_cmd_default_only(
			 argc, argv, &i, AGENT_REF_BUILD, &a->error)) != 0) {
			if (r < 0)
				return cmd_usage_error(
				    &client_program, &cmd_build_entry, "%s", a->error);
		} else if (argv[i][0] == '-' && argv[i][1] != '\0')
			return cmd_usage_error(&client_program, &cmd_build_entry,
			    "unknown option %s", argv[i]);
		else if (a->folder == NULL)
			a->folder = argv[i];
		else
			return cmd_usage_error(&client_program, &cmd_build_entry,
			    "one workspace only (got %s)", argv[i]);
	}
	if (a->no_lockfile && a->frozen_lockfile)
		return cmd_usage_error(
		    &client_program, &cmd_build_entry, AGENT_CMD_LOCKFILE_BOTH);
	if (a->folder != NULL && *a->folder == '\0')
		return cmd_usage_error(
		    &client_program, &cmd_build_entry, AGENT_CMD_EMPTY_FOLDER);
	if (a->folder == NULL)
		a->folder = ".";
	return 0;
}

/* build's usage errors, before a remote TARGET's upload
 * (client_target_hook). */
static int
cmd_build_check(int argc, char **argv, void *arg)
{
	struct cmd_build_args a;
	int rc = cmd_build_parse(argc, argv, &a, 0);

	(void)arg;
	cmd_build_args_clear(&a);
	return rc == 0 ? CMD_EXIT_OK : rc;
}

static int
cmd_build_exec(int argc, char **argv)
{
	static const struct client_target_hook hook = { .check = cmd_build_check };
	struct progress progress = { .fn = agent_cmd_progress_stderr };
	struct progress_view *view = NULL;
	struct client_target ct;
	struct cmd_build_args a = { 0 };
	cJSON *req, *res = NULL, *lockfile;
	char *cause = NULL, *text;
	int rc;

	if ((rc = client_target_open_hook("build", argc, argv,
		 CLIENT_TARGET_SEND_LOCAL | CLIENT_TARGET_SEND_HOLD, &hook, &ct)) !=
	    CMD_EXIT_OK)
		goto out;
	if ((rc = cmd_build_parse(ct.argc, ct.argv, &a, 1)) != 0)
		goto out;
	req = agent_cmd_request(client_program.name, "build", a.folder, a.config_file);
	if (a.no_cache)
		cJSON_AddTrueToObject(req, "noCache");
	if (a.no_lockfile)
		cJSON_AddTrueToObject(req, "noLockfile");
	if (a.frozen_lockfile)
		cJSON_AddTrueToObject(req, "frozenLockfile");
	if (client_lockfile_wanted(&ct))
		cJSON_AddTrueToObject(req, "includeLockfile");
	if (a.log_json)
		cJSON_AddStringToObject(req, "logFormat", "json");
	else if (progress_view_wanted(stderr)) {
		view = progress_view_new(stderr);
		progress.fn = progress_view_sink;
		progress.arg = view;
		cJSON_AddStringToObject(req, "logFormat", "json");
	}
	/* Handed over to the request. */
	if (a.image_names != NULL)
		cJSON_AddItemToObject(req, "imageNames", a.image_names);
	if (a.cache_from != NULL)
		cJSON_AddItemToObject(req, "cacheFrom", a.cache_from);
	if (a.additional_features != NULL)
		cJSON_AddItemToObject(req, "additionalFeatures", a.additional_features);
	a.image_names = a.cache_from = a.additional_features = NULL;
	rc = ct.be.call(ct.be.ctx, req, &progress, &res, &cause);
	progress_view_end(view, rc != 0, rc != 0 ? cause : NULL);
	if (rc != 0) {
		rc = agent_cmd_failed(&client_program, "build", a.log_json, cause);
		goto out;
	}
	lockfile = cJSON_DetachItemFromObjectCaseSensitive(res, "workspaceLockfile");
	/* (after the view ended: a line of its own) */
	progress.fn = agent_cmd_progress_stderr;
	progress.json = a.log_json;
	if (client_lockfile_copy(&ct, lockfile, &progress, &cause) < 0) {
		client_lockfile_warn("build", &progress, cause);
		cause = NULL;
	}
	cJSON_Delete(lockfile);
	text = cJSON_PrintUnformatted(res);
	printf("%s\n", text);
	free(text);
	rc = CMD_EXIT_OK;
out:
	cJSON_Delete(res);
	cmd_build_args_clear(&a);
	client_target_close(&ct);
	return rc;
}

const struct cmd_entry cmd_build_entry = { "build",
	"TARGET [--config FILE] [--workspace-folder PATH] [--image-name NAME]... "
	"[--no-cache] [--cache-from IMAGE]... [--no-lockfile | --frozen-lockfile] "
	"[--additional-features JSON] "
	"[--log-format text|json]",
	"build the dev container's image, without a container",
	"Builds the image `up` would create TARGET's dev container from, with its\n"
	"devcontainer.metadata label, as the reference CLI's `devcontainer build`:\n"
	"a Dockerfile is built as up builds it (the next up finds the image and\n"
	"its build is all cache); an image is pulled (when missing), a Docker\n"
	"Compose service's image built (or pulled), and either gets the label in\n"
	"an image of its own (up puts it on the container instead). Dev\n"
	"Container Features are installed as up installs them, and\n"
	"devcontainer-lock.json written as up writes it. Progress goes to\n"
	"stderr; stdout gets one JSON line:\n"
	"{\"outcome\":\"success\",\"imageName\":[NAME...]} (the --image-name\n"
	"names, else rdev's own tag), or {\"outcome\":\"error\",\"message\":...}.\n"
	"\n"
	"options (the reference CLI's):\n"
	"  --config FILE   use FILE instead of discovering devcontainer.json\n"
	"  --workspace-folder PATH\n"
	"                  the workspace, instead of the TARGET argument\n"
	"  --image-name NAME\n"
	"                  tag the image NAME too (repeatable)\n"
	"  --no-cache      build with --no-cache\n"
	"  --cache-from IMAGE\n"
	"                  also use IMAGE as a build cache "
	"(repeatable)\n" AGENT_CMD_LOCKFILE_HELP "  --additional-features JSON\n"
	"                  install these Features too, as `up` does\n"
	"  --log-format text|json\n"
	"                  json: progress as the reference's JSON log lines\n"
	"--oci-auth-hardening, --log-level and --push take only the reference's\n"
	"defaults (false, info, false); any other value is a usage error that\n"
	"says what to use instead.\n"
	"\n" CLIENT_TARGET_HELP,
	cmd_build_exec };
