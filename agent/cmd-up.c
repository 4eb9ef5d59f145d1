/* cmd-up.c - `up PATH`: parse, build the "up" request, run it through a
 * backend (agent-cmds.h: this host or a remote agent) and print the result;
 * shared by rdev-agent and rdev. */
#include "agent-cmds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent-ops.h"
#include "progress-view.h"
#include "progress.h"
#include "secrets.h"
#include "idle-watch.h"
#include "up.h"
#include "error.h"
#include "xmalloc.h"

/* What the command line asks for, before it becomes the request. */
struct cmd_up_args {
	struct agent_cmd_steps_args s; /* the options run-user-commands has too */
	const char *override_config;
	int rebuild, recreate, skip_post_create;
	int build_no_cache;
	enum workspace_common_dir common_dir; /* --mount-git-worktree-common-dir */
	/* --include-configuration, --include-merged-configuration */
	int include_config, include_merged;
	long idle_stop; /* --idle-stop, seconds; 0: not given */
	int no_lockfile, frozen_lockfile;
	cJSON *mounts, *cache_from; /* NULL: none given */
	cJSON *additional_features; /* NULL: none given */
	char *error;		    /* a usage error's message made here */
};

static void
cmd_up_args_clear(struct cmd_up_args *a)
{
	agent_cmd_steps_clear(&a->s);
	cJSON_Delete(a->mounts);
	cJSON_Delete(a->cache_from);
	cJSON_Delete(a->additional_features);
	free(a->error);
}

/* s as the reference's --mount takes it:
 * type=(bind|volume),source=S,target=T[,external=(true|false)], S and T
 * without commas. {"type","source","target","external"}, or NULL. */
static cJSON *
cmd_up_mount(const char *s)
{
	static const char *const keys[] = { "type=", "source=", "target=", "external=" };
	char *copy = xstrdup(s), *rest = copy, *field, *vals[4] = { NULL };
	size_t k = 0;
	cJSON *m = NULL;

	while ((field = strsep(&rest, ",")) != NULL) {
		if (k == 4 || strncmp(field, keys[k], strlen(keys[k])) != 0)
			goto out;
		vals[k] = field + strlen(keys[k]);
		k++;
	}
	if (k < 3 || (strcmp(vals[0], "bind") != 0 && strcmp(vals[0], "volume") != 0) ||
	    *vals[1] == '\0' || *vals[2] == '\0' ||
	    (k == 4 && strcmp(vals[3], "true") != 0 && strcmp(vals[3], "false") != 0))
		goto out;
	m = cJSON_CreateObject();
	cJSON_AddStringToObject(m, "type", vals[0]);
	cJSON_AddStringToObject(m, "source", vals[1]);
	cJSON_AddStringToObject(m, "target", vals[2]);
	cJSON_AddBoolToObject(m, "external", k == 4 && strcmp(vals[3], "true") == 0);
out:
	free(copy);
	return m;
}

/* The options of up that take a value. */
static const char *const cmd_up_value_options[] = {
	"--config",
	"--workspace-folder",
	"--secrets-file",
	"--override-config",
	"--remote-env",
	"--mount",
	"--id-label",
	"--cache-from",
	"--log-format",
	"--additional-features",
	"--dotfiles-repository",
	"--dotfiles-install-command",
	"--dotfiles-target-path",
	"--idle-stop",
	NULL,
};

/* The reference's boolean options up takes (agent_cmd_bool_options[]), and
 * where each goes in *a (--remove-existing-container is --recreate). 0 not
 * one of them, 1 taken, -1 with *msg. */
static int
cmd_up_bool(int argc, char **argv, int *i, struct cmd_up_args *a, const char **msg)
{
	enum agent_cmd_bool k;
	int r = 0, v = 0;

	for (k = 0; k < AGENT_BOOL_COUNT; k++)
		if (k != AGENT_BOOL_PREBUILD &&
		    k != AGENT_BOOL_STOP_FOR_PERSONALIZATION &&
		    k != AGENT_BOOL_NO_LOCKFILE && k != AGENT_BOOL_FROZEN_LOCKFILE &&
		    k != AGENT_BOOL_INCLUDE_FEATURES &&
		    (r = agent_cmd_bool_option(
			 argc, argv, i, agent_cmd_bool_options[k], &v, msg)) != 0)
			break;
	if (r <= 0) {
		if (r < 0)
			*msg = agent_cmd_bool_options[k];
		return r;
	}
	if (agent_cmd_steps_bool(&a->s, k, v))
		return 1;
	switch (k) {
	case AGENT_BOOL_REMOVE_EXISTING: a->recreate |= v; break;
	case AGENT_BOOL_INCLUDE_CONFIG: a->include_config = v; break;
	case AGENT_BOOL_INCLUDE_MERGED: a->include_merged = v; break;
	case AGENT_BOOL_COMMON_DIR:
		a->common_dir =
		    v ? WORKSPACE_COMMON_DIR_MOUNTED : WORKSPACE_COMMON_DIR_NOT_MOUNTED;
		break;
	case AGENT_BOOL_SKIP_POST_CREATE: a->skip_post_create = v; break;
	case AGENT_BOOL_BUILD_NO_CACHE: a->build_no_cache = v; break;
	default: break;
	}
	return 1;
}

/* Take value v of option name into *a. 0, or -1 with *msg. */
static int
cmd_up_take(struct cmd_up_args *a, const char *name, const char *v, const char **msg)
{
	cJSON *m;
	int r;

	if ((r = agent_cmd_steps_value(&a->s, name, v, msg)) != 0)
		return r < 0 ? -1 : 0;
	if (strcmp(name, "--override-config") == 0) {
		if (*v == '\0')
			return *msg = AGENT_CMD_EMPTY("--override-config", "file"), -1;
		a->override_config = v;
	} else if (strcmp(name, "--idle-stop") == 0) {
		if ((a->idle_stop = idle_watch_parse_duration(v)) < 0)
			return *msg = "--idle-stop needs a duration (90s, 15m, 2h, 1d)",
			       -1;
	} else if (strcmp(name, "--mount") == 0) {
		if ((m = cmd_up_mount(v)) == NULL)
			return *msg =
				   "--mount must be type=<bind|volume>,source=<source>,"
				   "target=<target>[,external=<true|false>]",
			       -1;
		agent_cmd_list_add(&a->mounts, m);
	} else if (strcmp(name, "--cache-from") == 0)
		agent_cmd_list_add(&a->cache_from, cJSON_CreateString(v));
	else if (strcmp(name, "--additional-features") == 0) {
		cJSON_Delete(a->additional_features);
		if ((a->additional_features = agent_cmd_features_arg(v, &a->error)) ==
		    NULL)
			return *msg = a->error, -1;
	}
	return 0;
}

/* One option with a value at argv[*i]: 1 taken (*i past its value), 0 not
 * one of up's, -1 with *msg for the usage error. */
static int
cmd_up_value(int argc, char **argv, int *i, struct cmd_up_args *a, const char **msg)
{
	const char *const *o;
	const char *v = NULL;
	int r = 0;

	for (o = cmd_up_value_options; *o != NULL; o++)
		if ((r = agent_cmd_option(argc, argv, i, *o, &v)) != 0)
			break;
	if (*o == NULL)
		return 0;
	if (r < 0) {
		*msg = *o;
		return -2;
	}
	return cmd_up_take(a, *o, v, msg) == 0 ? 1 : -1;
}

/* Parse argv into *a (cleared with cmd_up_args_clear() either way). 0, or
 * CMD_EXIT_USAGE after printing why; warn: print the deprecated flags'
 * warnings too (once per command: not for agent_cmd_up_check). */
static int
cmd_up_parse(const struct cmd_program *prog, const struct cmd_entry *entry, int argc,
    char **argv, struct cmd_up_args *a, int warn)
{
	const char *msg = NULL, *warning, *deprecated[2] = { NULL, NULL };
	int i, r;

	memset(a, 0, sizeof *a);
	for (i = 1; i < argc; i++) {
		if (strncmp(argv[i], "--", 2) == 0 &&
		    (r = cmd_up_value(argc, argv, &i, a, &msg)) != 0) {
			if (r == -2)
				return cmd_usage_error(
				    prog, entry, "%s needs a value", msg);
			if (r < 0)
				return cmd_usage_error(prog, entry, "%s", msg);
		} else if (strncmp(argv[i], "--", 2) == 0 &&
		    (r = cmd_up_bool(argc, argv, &i, a, &msg)) != 0) {
			if (r < 0)
				return cmd_usage_error(
				    prog, entry, "%s takes true or false", msg);
		} else if (strcmp(argv[i], "--rebuild") == 0)
			a->rebuild = 1;
		else if (strcmp(argv[i], "--recreate") == 0)
			a->recreate = 1;
		else if (strcmp(argv[i], "--json") == 0)
			a->s.quiet = 1;
		else if ((r = agent_cmd_lockfile_arg(argc, argv, &i, &a->no_lockfile,
			      &a->frozen_lockfile, &warning)) != 0) {
			if (r < 0)
				return cmd_usage_error(prog, entry, "%s", warning);
			/* (said after the loop: --log-format may come later) */
			if (warning != NULL && deprecated[0] != warning)
				deprecated[deprecated[0] == NULL ? 0 : 1] = warning;
		} else if (strncmp(argv[i], "--", 2) == 0 &&
		    (r = agent_cmd_default_only(
			 argc, argv, &i, AGENT_REF_UP, &a->error)) != 0) {
			if (r < 0)
				return cmd_usage_error(prog, entry, "%s", a->error);
		} else if (argv[i][0] == '-' && argv[i][1] != '\0')
			return cmd_usage_error(prog, entry, "unknown option %s", argv[i]);
		else if (agent_cmd_steps_folder(&a->s, argv[i], &msg) != 0)
			return cmd_usage_error(prog, entry, "%s", msg);
	}
	/* (-q holds them; a JSON log line with --log-format json) */
	for (i = 0; i < 2 && warn && deprecated[i] != NULL; i++)
		progress_stderr_line(a->s.log_json, "%s", deprecated[i]);
	if (a->no_lockfile && a->frozen_lockfile)
		return cmd_usage_error(prog, entry, AGENT_CMD_LOCKFILE_BOTH);
	if ((msg = agent_cmd_steps_check(&a->s)) != NULL)
		return cmd_usage_error(prog, entry, "%s", msg);
	return 0;
}

/* Add to req what is given of the reference's flags. */
static void
cmd_up_request_fields(cJSON *req, struct cmd_up_args *a)
{
	cJSON_AddBoolToObject(req, "rebuild", a->rebuild);
	cJSON_AddBoolToObject(req, "recreate", a->recreate);
	cJSON_AddBoolToObject(req, "skipPostCreate", a->skip_post_create);
	if (a->build_no_cache)
		cJSON_AddTrueToObject(req, "buildNoCache");
	workspace_common_dir_add(req, a->common_dir);
	if (a->idle_stop > 0)
		cJSON_AddNumberToObject(req, "idleStop", (double)a->idle_stop);
	if (a->no_lockfile)
		cJSON_AddTrueToObject(req, "noLockfile");
	if (a->frozen_lockfile)
		cJSON_AddTrueToObject(req, "frozenLockfile");
	if (a->override_config != NULL)
		cJSON_AddStringToObject(req, "overrideConfig", a->override_config);
	/* Handed over to the request. */
	agent_cmd_steps_request(req, &a->s);
	if (a->mounts != NULL)
		cJSON_AddItemToObject(req, "mounts", a->mounts);
	if (a->cache_from != NULL)
		cJSON_AddItemToObject(req, "cacheFrom", a->cache_from);
	if (a->additional_features != NULL)
		cJSON_AddItemToObject(req, "additionalFeatures", a->additional_features);
	a->mounts = a->cache_from = NULL;
	a->additional_features = NULL;
}

/* The read-configuration request whose answer gives up's result its
 * "configuration" (--include-configuration) and "mergedConfiguration"
 * (--include-merged-configuration), made once the container is up: then
 * substituted with the container's values and merged from its metadata
 * label, as the reference's up gives them. New object (the caller frees),
 * or NULL when neither is asked for. Call before cmd_up_request_fields(). */
static cJSON *
cmd_up_config_request(const char *prog_name, const struct cmd_up_args *a)
{
	cJSON *req;

	if (!a->include_config && !a->include_merged)
		return NULL;
	req = agent_cmd_request(
	    prog_name, "read-configuration", a->s.folder, a->s.config_file);
	if (a->s.id_labels != NULL)
		cJSON_AddItemToObject(
		    req, "idLabels", cJSON_Duplicate(a->s.id_labels, 1));
	cJSON_AddBoolToObject(req, "includeMerged", a->include_merged);
	workspace_git_root_add(req, a->s.git_root);
	workspace_common_dir_add(req, a->common_dir);
	if (a->override_config != NULL)
		cJSON_AddStringToObject(req, "overrideConfig", a->override_config);
	if (a->additional_features != NULL)
		cJSON_AddItemToObject(req, "additionalFeatures",
		    cJSON_Duplicate(a->additional_features, 1));
	return req;
}

/* Add to up's result json what --include-configuration and
 * --include-merged-configuration ask for: the answer of creq (consumed;
 * NULL: nothing asked). The container is up either way: a read-back that
 * fails (the devcontainer.json changed meanwhile and no longer loads) is a
 * warning on stderr, and up's result goes out without those members. */
static void
cmd_up_include_config(const struct cmd_program *prog, const struct agent_backend *be,
    const struct cmd_up_args *a, cJSON *creq, cJSON *json)
{
	cJSON *res = NULL, *item;
	char *cause = NULL;

	if (creq == NULL)
		return;
	if (be->call(be->ctx, creq, NULL, &res, &cause) == 0) {
		if (a->include_config &&
		    (item = cJSON_DetachItemFromObjectCaseSensitive(
			 res, "configuration")) != NULL)
			cJSON_AddItemToObject(json, "configuration", item);
		if (a->include_merged &&
		    (item = cJSON_DetachItemFromObjectCaseSensitive(
			 res, "mergedConfiguration")) != NULL)
			cJSON_AddItemToObject(json, "mergedConfiguration", item);
	} else /* (-q holds it, as up's other warnings) */
		progress_stderr_line(a->s.log_json,
		    "%s: up: warning: %s: the configuration could not be read back "
		    "once the container was up (left out of the result): %s",
		    prog->name,
		    a->include_config ? "--include-configuration"
				      : "--include-merged-configuration",
		    cause != NULL ? cause : "unknown error");
	free(cause);
	cJSON_Delete(res);
}

/* The failure of up: agent_cmd_failed(), its secrets masked, with the
 * reference's "description" and, once the container exists, its
 * "containerId" (details: the agent's, or NULL when it said none). */
static int
cmd_up_failed(const struct cmd_program *prog, const struct cmd_up_args *a,
    const struct secrets *secrets, char *cause, const cJSON *details)
{
	cJSON *d =
	    cJSON_IsObject(details) ? cJSON_Duplicate(details, 1) : cJSON_CreateObject();
	int rc;

	if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(d, "description")))
		cJSON_AddStringToObject(
		    d, "description", "An error occurred setting up the container.");
	secrets_mask_inplace(secrets, &cause);
	rc = agent_cmd_failed_details(prog, "up", a->s.log_json, cause, d);
	cJSON_Delete(d);
	return rc;
}

int
agent_cmd_up_failed_after(
    const struct cmd_program *prog, int log_json, char *cause, const cJSON *result)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(result, "containerId");
	cJSON *d = cJSON_CreateObject();
	int rc;

	cJSON_AddStringToObject(
	    d, "description", "An error occurred setting up the container.");
	if (cJSON_IsString(id))
		cJSON_AddStringToObject(d, "containerId", id->valuestring);
	rc = agent_cmd_failed_details(prog, "up", log_json, cause, d);
	cJSON_Delete(d);
	return rc;
}

int
agent_cmd_up_check(
    const struct cmd_program *prog, const struct cmd_entry *entry, int argc, char **argv)
{
	struct cmd_up_args a;
	int rc = cmd_up_parse(prog, entry, argc, argv, &a, 0);

	cmd_up_args_clear(&a);
	return rc;
}

int
agent_cmd_up(const struct agent_backend *be, const struct cmd_program *prog,
    const struct cmd_entry *entry, int argc, char **argv, cJSON **ports, cJSON **lockfile,
    cJSON **result)
{
	struct cmd_up_args a;
	struct secrets *secrets = NULL;
	struct progress progress = { 0 };
	struct progress_view *view = NULL;
	char *cause = NULL, *text;
	cJSON *json = NULL, *req, *creq = NULL;
	int rc;

	if (ports != NULL)
		*ports = NULL;
	if (lockfile != NULL)
		*lockfile = NULL;
	if (result != NULL)
		*result = NULL;
	if ((rc = cmd_up_parse(prog, entry, argc, argv, &a, 1)) != 0) {
		cmd_up_args_clear(&a);
		return rc;
	}
	/* Read here, where the user is: the values travel in the request. */
	if (a.s.secrets_file != NULL &&
	    secrets_read_file(a.s.secrets_file, &secrets, &cause) != 0) {
		rc = cmd_up_failed(prog, &a, NULL, cause, NULL);
		cmd_up_args_clear(&a);
		return rc;
	}
	progress.fn = a.s.quiet ? agent_cmd_progress_warnings : agent_cmd_progress_stderr;
	progress.arg = NULL;
	creq = cmd_up_config_request(prog->name, &a);
	req = agent_cmd_request(prog->name, "up", a.s.folder, a.s.config_file);
	cmd_up_request_fields(req, &a);
	if (!a.s.quiet && !a.s.log_json && progress_view_wanted(stderr)) {
		view = progress_view_new(stderr);
		progress.fn = progress_view_sink;
		progress.arg = view;
		cJSON_AddStringToObject(req, "logFormat", "json");
	}
	if (secrets != NULL)
		cJSON_AddItemToObject(req, "secrets", secrets_to_json(secrets));
	cJSON_AddBoolToObject(req, "includePorts", ports != NULL);
	if (lockfile != NULL)
		cJSON_AddTrueToObject(req, "includeLockfile");
	rc = be->call(be->ctx, req, &progress, &json, &cause);
	progress_view_end(view, rc != 0, rc != 0 ? cause : NULL);
	if (rc != 0) {
		rc = cmd_up_failed(prog, &a, secrets, cause, json);
		cJSON_Delete(json);
		goto out;
	}
	/* Kept for the forwardPorts step, not printed with the result. */
	if (ports != NULL)
		*ports = cJSON_DetachItemFromObjectCaseSensitive(json, "ports");
	if (lockfile != NULL)
		*lockfile =
		    cJSON_DetachItemFromObjectCaseSensitive(json, "workspaceLockfile");
	cmd_up_include_config(prog, be, &a, creq, json);
	creq = NULL;
	if (result != NULL)
		*result = json;
	else {
		text = cJSON_PrintUnformatted(json);
		printf("%s\n", text);
		free(text);
		cJSON_Delete(json);
	}
	rc = CMD_EXIT_OK;
out:
	cJSON_Delete(creq);
	secrets_free(secrets);
	cmd_up_args_clear(&a);
	return rc;
}
