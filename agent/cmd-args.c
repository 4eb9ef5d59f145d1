/* cmd-args.c - the arguments and the request the workspace commands share
 * (agent-cmds.h). */
#include "agent-cmds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent-ops.h"
#include "agent-state.h"
#include "jsonc.h"
#include "progress.h"
#include "quote.h"
#include "xmalloc.h"

/* The options that take a value, as the reference CLI's: "--name VALUE" or
 * "--name=VALUE". */
static const char *const agent_cmd_value_options[] = {
	"--config",
	"--workspace-folder",
	"--secrets-file",
	"--remote-env",
	"--mount",
	"--override-config",
	"--id-label",
	"--cache-from",
	"--log-format",
	"--image-name",
	"--feature",
	"--target-version",
	"--additional-features",
	"--dotfiles-repository",
	"--dotfiles-install-command",
	"--dotfiles-target-path",
	"--idle-stop",
	NULL,
};

const char *const agent_cmd_bool_options[AGENT_BOOL_COUNT] = {
	[AGENT_BOOL_GIT_ROOT] = "--mount-workspace-git-root",
	[AGENT_BOOL_REMOVE_EXISTING] = "--remove-existing-container",
	[AGENT_BOOL_INCLUDE_CONFIG] = "--include-configuration",
	[AGENT_BOOL_INCLUDE_MERGED] = "--include-merged-configuration",
	[AGENT_BOOL_COMMON_DIR] = "--mount-git-worktree-common-dir",
	[AGENT_BOOL_SKIP_NON_BLOCKING] = "--skip-non-blocking-commands",
	[AGENT_BOOL_SKIP_POST_CREATE] = "--skip-post-create",
	[AGENT_BOOL_SKIP_POST_ATTACH] = "--skip-post-attach",
	[AGENT_BOOL_PREBUILD] = "--prebuild",
	[AGENT_BOOL_STOP_FOR_PERSONALIZATION] = "--stop-for-personalization",
	[AGENT_BOOL_BUILD_NO_CACHE] = "--build-no-cache",
	[AGENT_BOOL_NO_LOCKFILE] = "--no-lockfile",
	[AGENT_BOOL_FROZEN_LOCKFILE] = "--frozen-lockfile",
	[AGENT_BOOL_INCLUDE_FEATURES] = "--include-features-configuration",
};

/* The reference's options that rdev takes at their default only (see
 * agent_cmd_default_only()), one table for every command: choices NULL for
 * a boolean, else the values the reference takes ("a, b, c"); value the
 * reference's default, which is what rdev does; instead what to use for
 * another value; cmds the AGENT_REF_* commands of the reference that have
 * it and rdev takes at its default only. */
static const struct {
	const char *option, *choices, *value, *instead;
	unsigned cmds;
} agent_cmd_defaults[] = {
	{ "--oci-auth-hardening", NULL, "false",
	    "rdev always sends registry credentials to a token endpoint only over "
	    "HTTPS or on localhost, and has no other hardening to turn on",
	    AGENT_REF_UP | AGENT_REF_EXEC | AGENT_REF_READ_CONFIGURATION |
		AGENT_REF_BUILD },
	{ "--log-level", "info, debug, trace", "info",
	    "-v (debug) or -vv before the command raise rdev's own log level",
	    AGENT_REF_UP | AGENT_REF_RUN_USER_COMMANDS | AGENT_REF_EXEC |
		AGENT_REF_READ_CONFIGURATION | AGENT_REF_BUILD },
	{ "--log-format", "text, json", "text",
	    "rdev prints no progress log here (`up` and `build` take json)",
	    AGENT_REF_EXEC | AGENT_REF_READ_CONFIGURATION },
	{ "--default-user-env-probe",
	    "none, loginInteractiveShell, interactiveShell, loginShell",
	    "loginInteractiveShell", "set \"userEnvProbe\" in devcontainer.json",
	    AGENT_REF_UP | AGENT_REF_RUN_USER_COMMANDS },
	{ "--update-remote-user-uid-default", "never, on, off", "on",
	    "set \"updateRemoteUserUID\": false in devcontainer.json", AGENT_REF_UP },
	{ "--workspace-mount-consistency", "consistent, cached, delegated", "cached",
	    "set \"workspaceMount\" in devcontainer.json (the reference adds the "
	    "consistency only on macOS and Windows)",
	    AGENT_REF_UP },
	{ "--expect-existing-container", NULL, "false",
	    "`rdev status` says whether the dev container exists", AGENT_REF_UP },
	{ "--prebuild", NULL, "false",
	    "rdev has no prebuild mode; `rdev build` makes the image", AGENT_REF_UP },
	{ "--push", NULL, "false",
	    "push the --image-name tags with `docker push` after the build",
	    AGENT_REF_BUILD },
};
#define AGENT_CMD_NDEFAULTS (sizeof agent_cmd_defaults / sizeof agent_cmd_defaults[0])

int
agent_cmd_option_takes_value(const char *arg)
{
	for (const char *const *o = agent_cmd_value_options; *o != NULL; o++)
		if (strcmp(arg, *o) == 0)
			return 1;
	for (size_t k = 0; k < AGENT_CMD_NDEFAULTS; k++)
		if (agent_cmd_defaults[k].choices != NULL &&
		    strcmp(arg, agent_cmd_defaults[k].option) == 0)
			return 1;
	return 0;
}

/* Is v one of choices ("a, b, c")? */
static int
agent_cmd_choice(const char *choices, const char *v)
{
	size_t n = strlen(v);

	for (const char *c = choices; *c != '\0'; c += strcspn(c, ",") + 1) {
		c += strspn(c, " ");
		if (n > 0 && strncmp(c, v, n) == 0 && (c[n] == ',' || c[n] == '\0'))
			return 1;
		if (c[strcspn(c, ",")] == '\0')
			break;
	}
	return 0;
}

int
agent_cmd_default_only(int argc, char **argv, int *i, unsigned cmd, char **msg)
{
	const char *v = NULL, *m = NULL;
	int r, b;

	for (size_t k = 0; k < AGENT_CMD_NDEFAULTS; k++) {
		if (!(agent_cmd_defaults[k].cmds & cmd))
			continue;
		if (agent_cmd_defaults[k].choices == NULL) {
			r = agent_cmd_bool_option(
			    argc, argv, i, agent_cmd_defaults[k].option, &b, &m);
			v = r > 0 ? (b ? "true" : "false") : NULL;
		} else
			r = agent_cmd_option(
			    argc, argv, i, agent_cmd_defaults[k].option, &v);
		if (r == 0)
			continue;
		if (r < 0) {
			*msg = xasprintf("%s %s", agent_cmd_defaults[k].option,
			    m != NULL ? m : "needs a value");
			return -1;
		}
		if (strcmp(v, agent_cmd_defaults[k].value) == 0)
			return 1;
		if (agent_cmd_defaults[k].choices != NULL &&
		    !agent_cmd_choice(agent_cmd_defaults[k].choices, v))
			*msg = xasprintf("%s must be one of %s",
			    agent_cmd_defaults[k].option, agent_cmd_defaults[k].choices);
		else
			*msg = xasprintf("%s %s: rdev takes only %s (the default): %s",
			    agent_cmd_defaults[k].option, v, agent_cmd_defaults[k].value,
			    agent_cmd_defaults[k].instead);
		return -1;
	}
	return 0;
}

int
agent_cmd_option_skip(int argc, char **argv, int i)
{
	if (agent_cmd_option_takes_value(argv[i]))
		return 1;
	if (i + 1 >= argc ||
	    (strcmp(argv[i + 1], "true") != 0 && strcmp(argv[i + 1], "false") != 0))
		return 0;
	for (size_t k = 0; k < AGENT_BOOL_COUNT; k++)
		if (strcmp(argv[i], agent_cmd_bool_options[k]) == 0)
			return 1;
	for (size_t k = 0; k < AGENT_CMD_NDEFAULTS; k++)
		if (strcmp(argv[i], agent_cmd_defaults[k].option) == 0)
			return 1;
	return 0;
}

int
agent_cmd_bool_option(
    int argc, char **argv, int *i, const char *name, int *value, const char **msg)
{
	size_t n = strlen(name);
	const char *v;

	/* yargs' negation: --no-NAME is NAME false */
	if (strncmp(argv[*i], "--no-", 5) == 0 && strcmp(argv[*i] + 5, name + 2) == 0) {
		*value = 0;
		return 1;
	}
	if (strncmp(argv[*i], name, n) != 0 ||
	    (argv[*i][n] != '\0' && argv[*i][n] != '='))
		return 0;
	if (argv[*i][n] == '=')
		v = argv[*i] + n + 1;
	else if (*i + 1 < argc &&
	    (strcmp(argv[*i + 1], "true") == 0 || strcmp(argv[*i + 1], "false") == 0))
		v = argv[++*i];
	else
		v = "true";
	if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0) {
		*msg = "takes true or false";
		return -1;
	}
	*value = strcmp(v, "true") == 0;
	return 1;
}

/* The --dotfiles-* options and their request fields (dotfiles[], in this
 * order). */
static const struct {
	const char *option, *field;
} agent_cmd_dotfiles[AGENT_CMD_NDOTFILES] = {
	{ "--dotfiles-repository", "dotfilesRepository" },
	{ "--dotfiles-install-command", "dotfilesInstallCommand" },
	{ "--dotfiles-target-path", "dotfilesTargetPath" },
};

/* The shared options that name a path (or a repository): "" is a usage
 * error (AGENT_CMD_EMPTY), never the current folder. */
static const struct {
	const char *option, *error;
} agent_cmd_paths[] = {
	{ "--config", AGENT_CMD_EMPTY("--config", "file") },
	{ "--secrets-file", AGENT_CMD_EMPTY("--secrets-file", "file") },
	{ "--dotfiles-repository",
	    AGENT_CMD_EMPTY("--dotfiles-repository", "repository") },
	{ "--dotfiles-install-command",
	    AGENT_CMD_EMPTY("--dotfiles-install-command", "file") },
	{ "--dotfiles-target-path", AGENT_CMD_EMPTY("--dotfiles-target-path", "folder") },
};

void
agent_cmd_steps_clear(struct agent_cmd_steps_args *a)
{
	cJSON_Delete(a->remote_env);
	cJSON_Delete(a->id_labels);
	free(a->error);
	memset(a, 0, sizeof *a);
}

int
agent_cmd_steps_value(
    struct agent_cmd_steps_args *a, const char *name, const char *v, const char **msg)
{
	size_t k;

	for (k = 0; k < sizeof agent_cmd_paths / sizeof agent_cmd_paths[0]; k++)
		if (*v == '\0' && strcmp(name, agent_cmd_paths[k].option) == 0)
			return *msg = agent_cmd_paths[k].error, -1;
	for (k = 0; k < AGENT_CMD_NDOTFILES; k++)
		if (strcmp(name, agent_cmd_dotfiles[k].option) == 0) {
			a->dotfiles[k] = v;
			return 1;
		}
	if (strcmp(name, "--config") == 0)
		a->config_file = v;
	else if (strcmp(name, "--workspace-folder") == 0) {
		if (a->folder != NULL)
			return *msg =
				   "one workspace only (a TARGET or --workspace-folder)",
			       -1;
		a->folder = v;
	} else if (strcmp(name, "--secrets-file") == 0)
		a->secrets_file = v;
	else if (strcmp(name, "--remote-env") == 0) {
		if (a->remote_env == NULL)
			a->remote_env = cJSON_CreateObject();
		if (agent_cmd_remote_env_add(a->remote_env, v) != 0)
			return *msg = "--remote-env must be NAME=VALUE", -1;
	} else if (strcmp(name, "--id-label") == 0) {
		if (!agent_cmd_id_label_ok(v))
			return *msg = "--id-label must be NAME=VALUE", -1;
		agent_cmd_list_add(&a->id_labels, cJSON_CreateString(v));
	} else if (strcmp(name, "--log-format") == 0) {
		if (strcmp(v, "text") != 0 && strcmp(v, "json") != 0)
			return *msg = "--log-format must be text or json", -1;
		a->log_json = strcmp(v, "json") == 0;
	} else
		return 0;
	return 1;
}

int
agent_cmd_steps_bool(struct agent_cmd_steps_args *a, enum agent_cmd_bool k, int v)
{
	switch (k) {
	case AGENT_BOOL_GIT_ROOT:
		a->git_root =
		    v ? WORKSPACE_GIT_ROOT_MOUNTED : WORKSPACE_GIT_ROOT_NOT_MOUNTED;
		return 1;
	case AGENT_BOOL_SKIP_NON_BLOCKING: a->skip_non_blocking = v; return 1;
	case AGENT_BOOL_SKIP_POST_ATTACH: a->skip_post_attach = v; return 1;
	default: return 0;
	}
}

int
agent_cmd_steps_folder(struct agent_cmd_steps_args *a, const char *arg, const char **msg)
{
	if (a->folder != NULL) {
		free(a->error);
		a->error = xasprintf("one workspace only (got %s)", arg);
		*msg = a->error;
		return -1;
	}
	a->folder = arg;
	return 0;
}

const char *
agent_cmd_steps_check(struct agent_cmd_steps_args *a)
{
	/* (--json won, and the JSON log asked for was not shown) */
	if (a->quiet && a->log_json)
		return "--json (no progress) and --log-format json (progress as JSON "
		       "lines) are mutually exclusive";
	/* (they only say how to install a repository: alone they would be
	 * ignored in silence) */
	for (size_t k = 1; k < AGENT_CMD_NDOTFILES; k++)
		if (a->dotfiles[k] != NULL && a->dotfiles[0] == NULL) {
			free(a->error);
			a->error = xasprintf("%s needs --dotfiles-repository",
			    agent_cmd_dotfiles[k].option);
			return a->error;
		}
	if (a->folder != NULL && *a->folder == '\0')
		return AGENT_CMD_EMPTY_FOLDER;
	if (a->folder == NULL)
		a->folder = ".";
	return NULL;
}

void
agent_cmd_steps_request(cJSON *req, struct agent_cmd_steps_args *a)
{
	cJSON_AddBoolToObject(req, "skipNonBlockingCommands", a->skip_non_blocking);
	cJSON_AddBoolToObject(req, "skipPostAttach", a->skip_post_attach);
	workspace_git_root_add(req, a->git_root);
	if (a->log_json)
		cJSON_AddStringToObject(req, "logFormat", "json");
	for (size_t k = 0; k < AGENT_CMD_NDOTFILES; k++)
		if (a->dotfiles[k] != NULL)
			cJSON_AddStringToObject(
			    req, agent_cmd_dotfiles[k].field, a->dotfiles[k]);
	if (a->remote_env != NULL)
		cJSON_AddItemToObject(req, "remoteEnv", a->remote_env);
	if (a->id_labels != NULL)
		cJSON_AddItemToObject(req, "idLabels", a->id_labels);
	a->remote_env = a->id_labels = NULL;
}

int
agent_cmd_option(int argc, char **argv, int *i, const char *name, const char **value)
{
	size_t n = strlen(name);

	if (strncmp(argv[*i], name, n) != 0)
		return 0;
	if (argv[*i][n] == '=') {
		*value = argv[*i] + n + 1;
		return 1;
	}
	if (argv[*i][n] != '\0')
		return 0;
	if (*i + 1 >= argc)
		return -1;
	*value = argv[++*i];
	return 1;
}

int
agent_cmd_remote_env_add(cJSON *remote_env, const char *arg)
{
	const char *eq = strchr(arg, '=');
	char *name;

	/* The reference's /.+=.*\/: a name before the first '=' (an '=' at the
	 * start would make the name begin there, which no variable can). */
	if (eq == NULL || eq == arg)
		return -1;
	name = xstrndup(arg, (size_t)(eq - arg));
	/* A name given twice: the last value, as the reference's envListToObj. */
	cJSON_DeleteItemFromObjectCaseSensitive(remote_env, name);
	cJSON_AddStringToObject(remote_env, name, eq + 1);
	free(name);
	return 0;
}

int
agent_cmd_lockfile_arg(
    int argc, char **argv, int *i, int *no_lockfile, int *frozen, const char **warning)
{
	const char *arg = argv[*i], *msg = NULL;
	int r;

	*warning = NULL;
	if ((r = agent_cmd_bool_option(argc, argv, i,
		 agent_cmd_bool_options[AGENT_BOOL_NO_LOCKFILE], no_lockfile, &msg)) !=
	    0) {
		if (r < 0)
			*warning = "--no-lockfile takes true or false";
		return r;
	}
	if ((r = agent_cmd_bool_option(argc, argv, i,
		 agent_cmd_bool_options[AGENT_BOOL_FROZEN_LOCKFILE], frozen, &msg)) !=
	    0) {
		if (r < 0)
			*warning = "--frozen-lockfile takes true or false";
		return r;
	}
	if (strcmp(arg, "--experimental-lockfile") == 0)
		*warning = "Warning: --experimental-lockfile is deprecated. "
			   "Lockfiles are now enabled by default.";
	else if (strcmp(arg, "--experimental-frozen-lockfile") == 0) {
		*warning = "Warning: --experimental-frozen-lockfile is "
			   "deprecated. Use --frozen-lockfile instead.";
		*frozen = 1;
	} else
		return 0;
	return 1;
}

cJSON *
agent_cmd_features_arg(const char *arg, char **error)
{
	struct jsonc_doc *doc;
	char *cause = NULL;
	cJSON *v = NULL;

	free(*error);
	*error = NULL;
	if ((doc = jsonc_parse("--additional-features", arg, strlen(arg), &cause)) ==
	    NULL) {
		*error = xasprintf("%s (expected a JSON object as devcontainer.json's "
				   "\"features\")",
		    cause);
		free(cause);
		return NULL;
	}
	if (cJSON_IsObject(jsonc_doc_root(doc)))
		v = cJSON_Duplicate(jsonc_doc_root(doc), 1);
	else
		*error = xstrdup("--additional-features: expected a JSON object as "
				 "devcontainer.json's \"features\" ({\"ID\": "
				 "OPTIONS, ...})");
	jsonc_doc_free(doc);
	return v;
}

void
agent_cmd_args_clear(struct agent_cmd_args *a)
{
	cJSON_Delete(a->remote_env);
	a->remote_env = NULL;
	cJSON_Delete(a->id_labels);
	a->id_labels = NULL;
}

int
agent_cmd_id_label_ok(const char *s)
{
	const char *eq = strchr(s + (*s != '\0'), '=');

	for (; eq != NULL; eq = strchr(eq + 1, '='))
		if (eq[1] != '\0')
			return 1;
	return 0;
}

/* Message of a bad option value, in *msg (static or from argv). */
static int
agent_cmd_args_bad(const char **msg, const char *text)
{
	*msg = text;
	return -1;
}

/* An option with a value at argv[*i] that a allows: 1 taken (*i past its
 * value), 0 not one of them, -1 with *msg. */
static int
agent_cmd_args_value(int argc, char **argv, int *i, unsigned allowed,
    struct agent_cmd_args *a, const char **msg)
{
	const char *v;
	int r;

	if ((allowed & AGENT_ARG_FOLDER) &&
	    (r = agent_cmd_option(argc, argv, i, "--config", &v)) != 0) {
		if (r < 0)
			return agent_cmd_args_bad(msg, "--config needs a FILE");
		if (*v == '\0')
			return agent_cmd_args_bad(
			    msg, AGENT_CMD_EMPTY("--config", "file"));
		a->config_file = v;
		return 1;
	}
	if ((allowed & AGENT_ARG_FOLDER) &&
	    (r = agent_cmd_option(argc, argv, i, "--workspace-folder", &v)) != 0) {
		if (r < 0)
			return agent_cmd_args_bad(msg, "--workspace-folder needs a PATH");
		if (a->folder != NULL)
			return agent_cmd_args_bad(msg,
			    "one workspace only (a TARGET or "
			    "--workspace-folder)");
		a->folder = v;
		return 1;
	}
	if ((allowed & AGENT_ARG_ID_LABEL) &&
	    (r = agent_cmd_option(argc, argv, i, "--id-label", &v)) != 0) {
		if (r < 0 || !agent_cmd_id_label_ok(v))
			return agent_cmd_args_bad(msg, "--id-label must be NAME=VALUE");
		if (a->id_labels == NULL)
			a->id_labels = cJSON_CreateArray();
		cJSON_AddItemToArray(a->id_labels, cJSON_CreateString(v));
		return 1;
	}
	if (!(allowed & AGENT_ARG_EXEC_ENV))
		return 0;
	if ((r = agent_cmd_option(argc, argv, i, "--secrets-file", &v)) != 0) {
		if (r < 0)
			return agent_cmd_args_bad(msg, "--secrets-file needs a FILE");
		if (*v == '\0')
			return agent_cmd_args_bad(
			    msg, AGENT_CMD_EMPTY("--secrets-file", "file"));
		a->secrets_file = v;
		return 1;
	}
	if ((r = agent_cmd_option(argc, argv, i, "--remote-env", &v)) != 0) {
		if (a->remote_env == NULL)
			a->remote_env = cJSON_CreateObject();
		if (r < 0 || agent_cmd_remote_env_add(a->remote_env, v) != 0)
			return agent_cmd_args_bad(msg, "--remote-env must be NAME=VALUE");
		return 1;
	}
	return 0;
}

int
agent_cmd_args_parse(const struct cmd_program *prog, const struct cmd_entry *entry,
    int argc, char **argv, unsigned allowed, struct agent_cmd_args *a)
{
	const char *v = NULL;
	char *msg = NULL;
	int i, r, git_root;

	memset(a, 0, sizeof *a);
	for (i = 1; i < argc; i++) {
		const char *s = argv[i];

		if (s[0] == '-' && s[1] == '-' &&
		    (r = agent_cmd_args_value(argc, argv, &i, allowed, a, &v)) != 0) {
			if (r < 0) {
				agent_cmd_args_clear(a);
				return cmd_usage_error(prog, entry, "%s", v);
			}
		} else if ((allowed & AGENT_ARG_GIT_ROOT) && s[0] == '-' &&
		    (r = agent_cmd_bool_option(argc, argv, &i,
			 agent_cmd_bool_options[AGENT_BOOL_GIT_ROOT], &git_root, &v)) !=
			0) {
			if (r < 0) {
				agent_cmd_args_clear(a);
				return cmd_usage_error(
				    prog, entry, "--mount-workspace-git-root %s", v);
			}
			a->git_root = git_root ? WORKSPACE_GIT_ROOT_MOUNTED
					       : WORKSPACE_GIT_ROOT_NOT_MOUNTED;
		} else if ((allowed & AGENT_ARG_GIT_ROOT) && s[0] == '-' &&
		    (r = agent_cmd_bool_option(argc, argv, &i,
			 agent_cmd_bool_options[AGENT_BOOL_COMMON_DIR], &git_root, &v)) !=
			0) {
			if (r < 0) {
				agent_cmd_args_clear(a);
				return cmd_usage_error(
				    prog, entry, "--mount-git-worktree-common-dir %s", v);
			}
			a->common_dir = git_root ? WORKSPACE_COMMON_DIR_MOUNTED
						 : WORKSPACE_COMMON_DIR_NOT_MOUNTED;
		} else if (strcmp(s, "--json") == 0 && (allowed & AGENT_ARG_JSON))
			a->json = 1;
		else if (strcmp(s, "--volumes") == 0 && (allowed & AGENT_ARG_VOLUMES))
			a->volumes = 1;
		else if (strcmp(s, "--all") == 0 && (allowed & AGENT_ARG_ALL))
			a->all = 1;
		else if ((strcmp(s, "-f") == 0 || strcmp(s, "--follow") == 0) &&
		    (allowed & AGENT_ARG_FOLLOW))
			a->follow = 1;
		else if (strcmp(s, "--") == 0 && (allowed & AGENT_ARG_COMMAND)) {
			a->folder_i = 0;
			a->command = argv + i + 1;
			a->ncommand = argc - i - 1;
			break;
		} else if ((allowed & AGENT_ARG_REF_EXEC) && s[0] == '-' && s[1] == '-' &&
		    (r = agent_cmd_default_only(argc, argv, &i, AGENT_REF_EXEC, &msg)) !=
			0) {
			if (r < 0) {
				agent_cmd_args_clear(a);
				r = cmd_usage_error(prog, entry, "%s", msg);
				free(msg);
				return r;
			}
		} else if (s[0] == '-' && s[1] != '\0') {
			agent_cmd_args_clear(a);
			/* (`exec ls -d /`: the command's option; not `exec
			 * ./proj --bogus -- true`, a folder and a typo) */
			if (!(allowed & AGENT_ARG_COMMAND) ||
			    !agent_cmd_command_meant(argc, argv, a->folder_i))
				return cmd_usage_error(
				    prog, entry, "unknown option %s", s);
			msg =
			    agent_cmd_dashdash_hint(prog, entry, argc, argv, a->folder_i);
			r = cmd_usage_error(prog, entry, "unknown option %s: %s", s, msg);
			free(msg);
			return r;
		} else if (a->folder == NULL && (allowed & AGENT_ARG_FOLDER)) {
			a->folder = s;
			a->folder_i = i;
		} else if (allowed & AGENT_ARG_COMMAND) {
			a->command = argv + i;
			a->ncommand = argc - i;
			break;
		} else {
			agent_cmd_args_clear(a);
			return cmd_usage_error(prog, entry, "unexpected argument %s", s);
		}
	}
	/* ("$WS" of a script whose WS is unset: not this folder) */
	if (a->folder != NULL && *a->folder == '\0') {
		agent_cmd_args_clear(a);
		return cmd_usage_error(prog, entry, AGENT_CMD_EMPTY_FOLDER);
	}
	if (a->folder == NULL && (allowed & AGENT_ARG_FOLDER))
		a->folder = ".";
	return 0;
}

int
agent_cmd_check_with(agent_cmd_parse_fn *parse, const struct cmd_program *prog,
    const struct cmd_entry *entry, int argc, char **argv)
{
	struct agent_cmd_args a;

	if (parse(prog, entry, argc, argv, &a) != 0)
		return CMD_EXIT_USAGE;
	agent_cmd_args_clear(&a);
	return 0;
}

cJSON *
agent_cmd_request(
    const char *prog_name, const char *op, const char *folder, const char *config_file)
{
	cJSON *req = cJSON_CreateObject();
	char *hint = agent_up_command(prog_name, folder, config_file);

	if (req == NULL)
		fatal("out of memory");
	cJSON_AddStringToObject(req, "op", op);
	cJSON_AddStringToObject(req, "workspace", folder);
	if (config_file != NULL)
		cJSON_AddStringToObject(req, "config", config_file);
	cJSON_AddStringToObject(req, "hint", hint);
	free(hint);
	return req;
}

cJSON *
agent_cmd_args_request(
    const char *prog_name, const char *op, const struct agent_cmd_args *a)
{
	cJSON *req = agent_cmd_request(prog_name, op, a->folder, a->config_file);

	if (a->id_labels != NULL)
		cJSON_AddItemToObject(req, "idLabels", cJSON_Duplicate(a->id_labels, 1));
	return req;
}

/* Whether stderr shows escape sequences as a terminal does: else (a file,
 * a pipe, a CI log, TERM=dumb) the progress written there goes without
 * them. Asked once. */
static int
agent_cmd_stderr_renders_escapes(void)
{
	static int renders = -1;
	const char *term;

	if (renders < 0) {
		term = getenv("TERM");
		renders = isatty(STDERR_FILENO) && term != NULL && *term != '\0' &&
		    strcmp(term, "dumb") != 0;
	}
	return renders;
}

/* Write progress to stderr, without escapes where they are not rendered. */
static void
agent_cmd_stderr_write(const char *data, size_t len)
{
	/* (one stream per process: a build's colour escape cut between two
	 * chunks is still taken out whole) */
	static struct quote_ansi ansi;
	char buf[4096];
	size_t n, k;

	if (agent_cmd_stderr_renders_escapes()) {
		if (fwrite(data, 1, len, stderr) != len) {
			/* progress is best effort */
		}
		return;
	}
	for (; len > 0; data += n, len -= n) {
		n = len < sizeof buf ? len : sizeof buf;
		k = quote_ansi_strip(&ansi, data, n, buf);
		if (fwrite(buf, 1, k, stderr) != k) {
			/* progress is best effort */
		}
	}
}

/* Whether data (one line, n bytes) is the workspace lock's wait line. */
static int
agent_cmd_is_lock_wait(const char *data, size_t n)
{
	static const char lock_wait[] = AGENT_LOCK_WAIT_LINE;

	return n >= sizeof lock_wait - 1 &&
	    strncmp(data, lock_wait, sizeof lock_wait - 1) == 0;
}

void
agent_cmd_progress_stderr(void *arg, const char *data, size_t len)
{
	const char *nl;
	size_t n;

	(void)arg;
	if (!progress_quiet()) {
		agent_cmd_stderr_write(data, len);
		return;
	}
	/* -q: held, shown with an error; but a wait on another's lock is
	 * said, as the user must know why nothing happens */
	while (len > 0) {
		nl = memchr(data, '\n', len);
		n = nl != NULL ? (size_t)(nl - data) + 1 : len;
		if (agent_cmd_is_lock_wait(data, n))
			agent_cmd_stderr_write(data, n);
		else
			progress_quiet_keep(data, n);
		data += n;
		len -= n;
	}
}

void
agent_cmd_progress_warnings(void *arg, const char *data, size_t len)
{
	static const char json_warning[] = "\"text\":\"warning: ";
	const char *nl;
	size_t n;

	while (len > 0) {
		nl = memchr(data, '\n', len);
		n = nl != NULL ? (size_t)(nl - data) + 1 : len;
		if ((n > 9 && strncmp(data, "warning: ", 9) == 0) ||
		    agent_cmd_is_lock_wait(data, n) ||
		    (data[0] == '{' &&
			memmem(data, n, json_warning, sizeof json_warning - 1) != NULL))
			agent_cmd_progress_stderr(arg, data, n);
		data += n;
		len -= n;
	}
}

void
agent_cmd_list_add(cJSON **list, cJSON *item)
{
	if (*list == NULL)
		*list = cJSON_CreateArray();
	cJSON_AddItemToArray(*list, item);
}

int
agent_cmd_failed(
    const struct cmd_program *prog, const char *op, int log_json, char *cause)
{
	return agent_cmd_failed_details(prog, op, log_json, cause, NULL);
}

/* Whether one of message's lines is line, or ends with ": " and line (a
 * failed step's "... exited with status 4: LAST-LINE"). */
static int
agent_cmd_message_holds_line(const char *message, const char *line)
{
	size_t n = strlen(line), k;
	const char *m = message, *end;

	for (; *m != '\0'; m = *end == '\0' ? end : end + 1) {
		end = m + strcspn(m, "\n");
		k = (size_t)(end - m);
		if (k == n && strncmp(m, line, n) == 0)
			return 1;
		if (k >= n + 2 && strncmp(end - n, line, n) == 0 &&
		    strncmp(end - n - 2, ": ", 2) == 0)
			return 1;
	}
	return 0;
}

size_t
agent_cmd_kept_to_show(const char *message, const char *text)
{
	size_t end = strlen(text), start, len;
	char *line;
	int held;

	for (;;) {
		while (end > 0 && (text[end - 1] == '\n' || text[end - 1] == '\r'))
			end--;
		for (start = end; start > 0 && text[start - 1] != '\n'; start--)
			;
		if ((len = end - start) == 0)
			break;
		line = xstrndup(text + start, len);
		held = agent_cmd_message_holds_line(message, line);
		free(line);
		if (!held)
			break;
		end = start;
	}
	return end > 0 ? end + 1 : 0; /* (with its '\n') */
}

int
agent_cmd_failed_details(const struct cmd_program *prog, const char *op, int log_json,
    char *cause, const cJSON *details)
{
	struct progress p = { .fn = agent_cmd_progress_stderr };
	const cJSON *e;
	cJSON *json;
	char *text, *msg, *kept;

	/* -q: the output held back ends with what led to the error */
	if ((kept = progress_quiet_take()) != NULL) {
		agent_cmd_stderr_write(kept, agent_cmd_kept_to_show(cause, kept));
		free(kept);
	}
	msg = xasprintf("%s: %s: %s", prog->name, op, cause);
	if (log_json)
		progress_json_text(&p, msg);
	else
		fprintf(stderr, "%s\n", msg);
	free(msg);
	json = cJSON_CreateObject();
	cJSON_AddStringToObject(json, "outcome", "error");
	cJSON_AddStringToObject(json, "message", cause);
	cJSON_ArrayForEach(e, details)
		if (e->string != NULL && !cJSON_HasObjectItem(json, e->string))
			cJSON_AddItemToObject(json, e->string, cJSON_Duplicate(e, 1));
	text = cJSON_PrintUnformatted(json);
	printf("%s\n", text);
	free(text);
	cJSON_Delete(json);
	free(cause);
	return CMD_EXIT_FAILURE;
}

void
agent_cmd_print_warnings(
    const struct cmd_program *prog, const char *verb, const cJSON *answer)
{
	const cJSON *w;

	if (progress_quiet())
		return; /* -q: errors only */
	cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(answer, "warnings"))
		if (cJSON_IsString(w))
			fprintf(stderr, "%s: %s: warning: %s\n", prog->name, verb,
			    w->valuestring);
}

void
agent_cmd_json_warnings(cJSON *out, const cJSON *answer)
{
	const cJSON *w, *warnings = cJSON_GetObjectItemCaseSensitive(answer, "warnings");
	cJSON *list;

	if (cJSON_GetArraySize(warnings) == 0)
		return;
	list = cJSON_AddArrayToObject(out, "warnings");
	cJSON_ArrayForEach(w, warnings)
		if (cJSON_IsString(w))
			cJSON_AddItemToArray(list, cJSON_CreateString(w->valuestring));
}

void
agent_cmd_print_json(cJSON *out, const cJSON *answer)
{
	char *text;

	agent_cmd_json_warnings(out, answer);
	if ((text = cJSON_PrintUnformatted(out)) == NULL)
		fatal("out of memory");
	printf("%s\n", text);
	free(text);
	cJSON_Delete(out);
}
