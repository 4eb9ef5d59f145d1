/* cmd-run-user-commands.c - `rdev run-user-commands TARGET`: run the
 * lifecycle steps of TARGET's running dev container that have not run in it
 * yet (the agent's "run-user-commands" operation, on TARGET's backend), as
 * the reference CLI's `devcontainer run-user-commands` after `up
 * --skip-post-create` in a prebuild. Prints the reference's
 * {"outcome":"success","result":"done"}, or its error object (exit 1). */
#include "client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "progress.h"
#include "secrets.h"
#include "xmalloc.h"

/* What the command line asks for, before it becomes the request. */
struct cmd_ruc_args {
	struct agent_cmd_steps_args s; /* the options up has too */
	int prebuild, stop_for_personalization;
	enum workspace_common_dir common_dir; /* --mount-git-worktree-common-dir */
};

/* The reference's options (0.89.0) that rdev does not take, and why: each
 * is a usage error naming it, never ignored in silence. */
static const struct {
	const char *option, *why;
} cmd_ruc_refused[] = {
	{ "--container-id",
	    "rdev finds the container by its workspace (TARGET, --id-label)" },
	{ "--override-config", "not taken by run-user-commands yet" },
	{ "--user-data-folder", "rdev keeps its state in the agent's folder" },
	{ "--docker-path", "the agent talks to the Docker socket itself" },
	{ "--docker-compose-path", "the agent finds docker compose itself" },
	{ "--container-data-folder", "rdev keeps its markers in the container" },
	{ "--container-system-data-folder", "rdev keeps its markers in the container" },
	{ "--container-session-data-folder",
	    "rdev caches the probed environment in the agent's folder" },
	{ "--terminal-columns", "the steps' output is not a terminal" },
	{ "--terminal-rows", "the steps' output is not a terminal" },
	{ "--oci-auth-hardening", "run-user-commands fetches no Features" },
	{ "--allow-cross-origin-auth-host", "run-user-commands fetches no Features" },
};

static void
cmd_ruc_args_clear(struct cmd_ruc_args *a)
{
	agent_cmd_steps_clear(&a->s);
	memset(a, 0, sizeof *a);
}

/* A refused option at arg ("--container-id", "--container-id=X"): its
 * table index, or -1. */
static int
cmd_ruc_refused_at(const char *arg)
{
	size_t n = strcspn(arg, "=");

	for (size_t k = 0; k < sizeof cmd_ruc_refused / sizeof cmd_ruc_refused[0]; k++)
		if (strlen(cmd_ruc_refused[k].option) == n &&
		    strncmp(cmd_ruc_refused[k].option, arg, n) == 0)
			return (int)k;
	return -1;
}

/* One option with a value at argv[*i] into *a (up's parse of them,
 * agent_cmd_steps_value()): 1 taken, 0 not one of these, or CMD_EXIT_USAGE
 * after printing why. */
static int
cmd_ruc_value(const struct cmd_program *prog, const struct cmd_entry *entry, int argc,
    char **argv, int *i, struct cmd_ruc_args *a)
{
	static const char *const names[] = { "--config", "--workspace-folder",
		"--secrets-file", "--remote-env", "--id-label", "--log-format",
		"--dotfiles-repository", "--dotfiles-install-command",
		"--dotfiles-target-path", NULL };
	const char *const *o;
	const char *v = NULL, *msg = NULL;
	int r = 0;

	for (o = names; *o != NULL; o++)
		if ((r = agent_cmd_option(argc, argv, i, *o, &v)) != 0)
			break;
	if (*o == NULL)
		return 0;
	if (r < 0)
		return cmd_usage_error(prog, entry, "%s needs a value", *o);
	if (agent_cmd_steps_value(&a->s, *o, v, &msg) < 0)
		return cmd_usage_error(prog, entry, "%s", msg);
	return 1;
}

/* The reference's boolean options run-user-commands takes (yargs': NAME,
 * NAME true|false, NAME=true|false, --no-NAME; agent_cmd_bool_options[], so
 * a value is never taken for TARGET). 0 not one of them, 1 taken, -1 with
 * *msg the option's name. */
static int
cmd_ruc_bool(int argc, char **argv, int *i, struct cmd_ruc_args *a, const char **msg)
{
	static const enum agent_cmd_bool taken[] = { AGENT_BOOL_GIT_ROOT,
		AGENT_BOOL_COMMON_DIR, AGENT_BOOL_SKIP_NON_BLOCKING, AGENT_BOOL_PREBUILD,
		AGENT_BOOL_STOP_FOR_PERSONALIZATION, AGENT_BOOL_SKIP_POST_ATTACH };
	int r = 0, v = 0;
	size_t k;

	for (k = 0; k < sizeof taken / sizeof taken[0]; k++)
		if ((r = agent_cmd_bool_option(
			 argc, argv, i, agent_cmd_bool_options[taken[k]], &v, msg)) != 0)
			break;
	if (r <= 0) {
		if (r < 0)
			*msg = agent_cmd_bool_options[taken[k]];
		return r;
	}
	if (taken[k] == AGENT_BOOL_PREBUILD)
		a->prebuild = v;
	else if (taken[k] == AGENT_BOOL_STOP_FOR_PERSONALIZATION)
		a->stop_for_personalization = v;
	else if (taken[k] == AGENT_BOOL_COMMON_DIR)
		a->common_dir =
		    v ? WORKSPACE_COMMON_DIR_MOUNTED : WORKSPACE_COMMON_DIR_NOT_MOUNTED;
	else
		agent_cmd_steps_bool(&a->s, taken[k], v);
	return 1;
}

/* Parse argv into *a (cleared with cmd_ruc_args_clear() either way). 0, or
 * CMD_EXIT_USAGE after printing why. */
static int
cmd_ruc_parse(const struct cmd_program *prog, const struct cmd_entry *entry, int argc,
    char **argv, struct cmd_ruc_args *a)
{
	const char *msg = NULL;
	int i, k, r;

	memset(a, 0, sizeof *a);
	for (i = 1; i < argc; i++) {
		if ((k = cmd_ruc_refused_at(argv[i])) >= 0)
			return cmd_usage_error(prog, entry,
			    "%s (the reference CLI's) is not taken: %s",
			    cmd_ruc_refused[k].option, cmd_ruc_refused[k].why);
		if ((r = cmd_ruc_value(prog, entry, argc, argv, &i, a)) != 0) {
			if (r != 1)
				return r;
		} else if ((r = cmd_ruc_bool(argc, argv, &i, a, &msg)) != 0) {
			if (r < 0)
				return cmd_usage_error(
				    prog, entry, "%s takes true or false", msg);
		} else if (strcmp(argv[i], "--json") == 0)
			a->s.quiet = 1;
		else if (strncmp(argv[i], "--", 2) == 0 &&
		    (r = agent_cmd_default_only(argc, argv, &i,
			 AGENT_REF_RUN_USER_COMMANDS, &a->s.error)) != 0) {
			if (r < 0)
				return cmd_usage_error(prog, entry, "%s", a->s.error);
		} else if (argv[i][0] == '-' && argv[i][1] != '\0')
			return cmd_usage_error(prog, entry, "unknown option %s", argv[i]);
		else if (agent_cmd_steps_folder(&a->s, argv[i], &msg) != 0)
			return cmd_usage_error(prog, entry, "%s", msg);
	}
	if ((msg = agent_cmd_steps_check(&a->s)) != NULL)
		return cmd_usage_error(prog, entry, "%s", msg);
	return 0;
}

/* The request for *a (its lists handed over). New object. */
static cJSON *
cmd_ruc_request(struct cmd_ruc_args *a)
{
	cJSON *req = agent_cmd_request(
	    client_program.name, "run-user-commands", a->s.folder, a->s.config_file);

	cJSON_AddBoolToObject(req, "prebuild", a->prebuild);
	cJSON_AddBoolToObject(req, "stopForPersonalization", a->stop_for_personalization);
	agent_cmd_steps_request(req, &a->s);
	workspace_common_dir_add(req, a->common_dir);
	return req;
}

/* Usage errors, before a remote TARGET's host is reached (client_target_hook). */
static int
cmd_ruc_check(int argc, char **argv, void *arg)
{
	struct cmd_ruc_args a;
	int rc;

	(void)arg;
	rc = cmd_ruc_parse(&client_program, &cmd_run_user_commands_entry, argc, argv, &a);
	cmd_ruc_args_clear(&a);
	return rc == 0 ? CMD_EXIT_OK : rc;
}

/* Run it through be, print the reference's result; the exit code. */
static int
cmd_ruc_run(const struct agent_backend *be, int argc, char **argv)
{
	struct cmd_ruc_args a;
	struct secrets *secrets = NULL;
	struct progress progress = { .fn = agent_cmd_progress_stderr };
	cJSON *req, *json = NULL, *details;
	char *cause = NULL, *text;
	int rc;

	if ((rc = cmd_ruc_parse(
		 &client_program, &cmd_run_user_commands_entry, argc, argv, &a)) != 0) {
		cmd_ruc_args_clear(&a);
		return rc;
	}
	/* Read here, where the user is: the values travel in the request. */
	if (a.s.secrets_file != NULL &&
	    secrets_read_file(a.s.secrets_file, &secrets, &cause) != 0) {
		rc = agent_cmd_failed(
		    &client_program, "run-user-commands", a.s.log_json, cause);
		cmd_ruc_args_clear(&a);
		return rc;
	}
	/* --json: the result alone on stdout, and of the steps' output the
	 * warnings and the lock's wait line only (as up's) */
	if (a.s.quiet)
		progress.fn = agent_cmd_progress_warnings;
	req = cmd_ruc_request(&a);
	if (secrets != NULL)
		cJSON_AddItemToObject(req, "secrets", secrets_to_json(secrets));
	rc = be->call(be->ctx, req, &progress, &json, &cause);
	if (rc != 0) {
		details = cJSON_IsObject(json) ? cJSON_Duplicate(json, 1)
					       : cJSON_CreateObject();
		if (!cJSON_HasObjectItem(details, "description"))
			cJSON_AddStringToObject(details, "description",
			    "An error occurred running user commands in the "
			    "container.");
		secrets_mask_inplace(secrets, &cause);
		rc = agent_cmd_failed_details(
		    &client_program, "run-user-commands", a.s.log_json, cause, details);
		cJSON_Delete(details);
	} else {
		text = cJSON_PrintUnformatted(json);
		printf("%s\n", text);
		free(text);
		rc = CMD_EXIT_OK;
	}
	cJSON_Delete(json);
	secrets_free(secrets);
	cmd_ruc_args_clear(&a);
	return rc;
}

static int
cmd_run_user_commands_exec(int argc, char **argv)
{
	static const struct client_target_hook hook = { .check = cmd_ruc_check };
	struct client_target ct;
	int rc;

	/* (first: a refused option's value is never taken for TARGET; the
	 * rest is checked once the target's own words, HOST: SOURCE, --host
	 * and --accept-new-host-key, are taken out) */
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if ((rc = cmd_ruc_refused_at(argv[i])) >= 0)
			return cmd_usage_error(&client_program,
			    &cmd_run_user_commands_entry,
			    "%s (the reference CLI's) is not taken: %s",
			    cmd_ruc_refused[rc].option, cmd_ruc_refused[rc].why);
	if ((rc = client_target_open_hook("run-user-commands", argc, argv,
		 CLIENT_TARGET_QUIET, &hook, &ct)) == CMD_EXIT_OK)
		rc = cmd_ruc_run(&ct.be, ct.argc, ct.argv);
	client_target_close(&ct);
	return rc;
}

const struct cmd_entry cmd_run_user_commands_entry = { "run-user-commands",
	"TARGET [--config FILE] [--workspace-folder PATH] "
	"[--skip-non-blocking-commands] [--prebuild] [--stop-for-personalization] "
	"[--skip-post-attach] [--remote-env NAME=VALUE]... [--secrets-file FILE] "
	"[--dotfiles-repository URL [--dotfiles-install-command FILE] "
	"[--dotfiles-target-path PATH]] [--mount-workspace-git-root true|false] "
	"[--mount-git-worktree-common-dir true|false] [--log-format text|json] "
	"[--json] " AGENT_CMD_ID_LABEL_USAGE,
	"run the lifecycle steps of the running dev container not run yet",
	"Runs onCreateCommand, updateContentCommand, postCreateCommand, the\n"
	"dotfiles, postStartCommand and postAttachCommand in TARGET's running dev\n"
	"container, as `up` does on a container it reuses: a step its marker says\n"
	"ran in this container (postStartCommand: since it started; rdev's or the\n"
	"reference CLI's markers) is skipped, postAttachCommand runs every time.\n"
	"Nothing is created or started (the prebuild flow: `up --skip-post-create`,\n"
	"then run-user-commands). The steps' output goes to stderr; the last line\n"
	"on stdout is the reference's {\"outcome\":\"success\",\"result\":\"done\"}\n"
	"(result: where it stopped, done, skipNonBlocking, prebuild or\n"
	"stopForPersonalization); a step that fails ends it with exit 1 and\n"
	"{\"outcome\":\"error\",\"message\":...,\"description\":...}, the message\n"
	"naming the step.\n"
	"\n"
	"options (the reference CLI's, `devcontainer "
	"run-user-commands`):\n" AGENT_CMD_WORKSPACE_HELP
	"  --skip-non-blocking-commands\n"
	"                  stop after the waitFor step (default\n"
	"                  updateContentCommand): the later ones are not run, as\n"
	"                  the reference's (a later call runs them; up's run in\n"
	"                  the background)\n"
	"  --prebuild      run onCreateCommand and updateContentCommand only, the\n"
	"                  latter again even when it ran before\n"
	"  --stop-for-personalization\n"
	"                  stop after postCreateCommand and the dotfiles (no\n"
	"                  postStartCommand, no postAttachCommand)\n"
	"  --skip-post-attach\n"
	"                  do not run postAttachCommand\n"
	"  --remote-env NAME=VALUE\n"
	"                  set NAME for the steps (repeatable; devcontainer.json's\n"
	"                  remoteEnv wins)\n"
	"  --secrets-file FILE\n"
	"                  a JSON object of strings, read here: each becomes an\n"
	"                  environment variable of the steps; masked in output\n"
	"  --dotfiles-repository URL, --dotfiles-install-command FILE,\n"
	"  --dotfiles-target-path PATH\n"
	"                  the dotfiles step, as up's (once per container)\n"
	"  --mount-workspace-git-root true|false,\n"
	"  --mount-git-worktree-common-dir true|false\n"
	"                  as the container's up was given (not given: as made)\n"
	"  --log-format text|json\n"
	"                  json: progress as the reference's JSON log lines\n"
	"  --json          no progress output (its warnings and the lock's\n"
	"                  wait line apart), only the JSON "
	"result\n" AGENT_CMD_ID_LABEL_HELP
	"The boolean options take true or false as the reference's do\n"
	"(--prebuild false, --skip-post-attach=true, --no-prebuild).\n"
	"--log-level and --default-user-env-probe take only the reference's\n"
	"defaults (info, loginInteractiveShell). The reference's --container-id,\n"
	"--override-config, --user-data-folder, --docker-path,\n"
	"--docker-compose-path, --container-data-folder,\n"
	"--container-system-data-folder, --container-session-data-folder,\n"
	"--terminal-columns, --terminal-rows,\n"
	"--oci-auth-hardening and --allow-cross-origin-auth-host are usage errors\n"
	"(exit 2) that say why.\n\n" CLIENT_TARGET_HELP,
	cmd_run_user_commands_exec };
