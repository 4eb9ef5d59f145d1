/* agent-cmds.h - the workspace commands (parse argv, build a request, run it
 * through a backend, print), shared by rdev-agent (on the local backend) and
 * rdev (local or remote: client/cmd-<name>.c picks the backend). Each takes
 * the calling program's table entry (for usage messages) and argv with
 * argv[0] the command name, and returns the exit code (cmd.h).
 */
#ifndef RDEV_AGENT_CMDS_H
#define RDEV_AGENT_CMDS_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "cmd.h"
#include "workspace.h"

struct progress;
struct secrets;

/* What `exec` (and `shell`) run: command in folder's dev container, with
 * the reference's --remote-env and --secrets-file (secrets.h) on top of the
 * remote environment. All borrowed. */
struct agent_exec_req {
	const char *folder;
	const char *config_file; /* NULL: discover */
	char *const *command;
	int ncommand;
	const cJSON *remote_env;       /* {NAME: VALUE}, or NULL */
	const struct secrets *secrets; /* or NULL */
	const cJSON *id_labels;	       /* ["NAME=VALUE", ...] (--id-label), or NULL */
	/* --mount-workspace-git-root as given: where the command starts (the
	 * workspace folder); not given, as the container's up made it. */
	enum workspace_git_root git_root;
	enum workspace_common_dir common_dir; /* --mount-git-worktree-common-dir */
	const char *verb; /* how errors name the command ("shell"); NULL: "exec" */
};
#define AGENT_EXEC_VERB(req) ((req)->verb != NULL ? (req)->verb : "exec")

/* Where the workspace commands' operations run: in this process (the local
 * backend, backend.c: the table of agent-ops.h) or on a remote host's agent
 * (the client's remote backend, over the broker). The commands build the
 * same requests and print the same output from either. */
struct agent_backend {
	/* Run request req (consumed: {"op":NAME,...}, agent-ops.h) and return
	 * its result; progress to p (may be NULL). 0, or -1 with *cause; either
	 * way the caller frees *result (on failure the error's details, up's
	 * containerId and description, and the answer's "errorCode" when it
	 * has one, docs/PROTOCOL.md; or NULL). */
	int (*call)(void *ctx, cJSON *req, const struct progress *p, cJSON **result,
	    char **cause);
	/* Run command in the workspace's container, streamed to and from this
	 * process's stdin, stdout and stderr (a TTY when stdin is one): its exit
	 * status, or AGENT_EXIT_EXEC_FAILED after printing why on stderr as
	 * "PROG: VERB: ..." (AGENT_EXEC_VERB). */
	int (*exec)(void *ctx, const char *prog_name, const struct agent_exec_req *req);
	void *ctx;
	/* How messages name the workspace: the target as the user typed it
	 * (`HOST:PATH`, `HOST: SOURCE`), borrowed; NULL: the folder given. */
	const char *shown;
};
/* backend.c: agent-ops.h in this process. */
extern const struct agent_backend agent_backend_local;

/* A request for op on folder: {"op","workspace","config" (when given),
 * "hint":"PROG up FOLDER [--config FILE]"}. New object (cmd-args.c). */
cJSON *agent_cmd_request(
    const char *prog_name, const char *op, const char *folder, const char *config_file);

/* up's options after TARGET or PATH, for its usage line. */
#define AGENT_CMD_UP_USAGE \
	"[--config FILE] [--rebuild] [--recreate | --remove-existing-container] " \
	"[--mount-workspace-git-root true|false] [--mount-git-worktree-common-dir] " \
	"[--skip-non-blocking-commands] " \
	"[--skip-post-create] [--skip-post-attach] [--secrets-file FILE] " \
	"[--remote-env NAME=VALUE]... [--mount MOUNT]... [--override-config FILE] " \
	"[--workspace-folder PATH] [--id-label NAME=VALUE]... [--build-no-cache] " \
	"[--cache-from IMAGE]... [--no-lockfile | --frozen-lockfile] " \
	"[--additional-features JSON] " \
	"[--dotfiles-repository URL [--dotfiles-install-command FILE] " \
	"[--dotfiles-target-path PATH]] [--idle-stop DURATION] [--log-format " \
	"text|json] " \
	"[--include-configuration] [--include-merged-configuration] [--json]"

/* What up's and build's --help say of the lockfile flags. */
#define AGENT_CMD_LOCKFILE_HELP \
	"  --no-lockfile   neither read nor write devcontainer-lock.json (the\n" \
	"                  Features' tags are resolved afresh); by default an\n" \
	"                  image built with Features writes it beside\n" \
	"                  devcontainer.json, pinning their digests\n" \
	"  --frozen-lockfile\n" \
	"                  fail, building nothing, unless devcontainer-lock.json\n" \
	"                  exists and holds what would be written\n" \
	"                  (--experimental-lockfile, the default now, and\n" \
	"                  --experimental-frozen-lockfile: the reference's\n" \
	"                  deprecated forms, taken with its warning)\n"

#define AGENT_CMD_UP_HELP \
	"Creates the workspace's dev container, or reuses it (starting it when\n" \
	"stopped), and runs the lifecycle commands, every one before it returns\n" \
	"(their output is progress). Progress goes to stderr; the last line on\n" \
	"stdout is JSON: {\"outcome\":\"success\",\"containerId\":...,\n" \
	"\"remoteUser\":...,\"remoteWorkspaceFolder\":...}; on failure (exit 1)\n" \
	"{\"outcome\":\"error\",\"message\":...,\"description\":...,\n" \
	"\"containerId\":...}, containerId once the container exists (it is\n" \
	"left as it is: running, or stopped if it stopped or would not start).\n" \
	"\n" \
	"options (the reference CLI's, `devcontainer up`, where it has them):\n" \
	"  --config FILE   use FILE instead of discovering devcontainer.json\n" \
	"  --workspace-folder PATH\n" \
	"                  the workspace, instead of the TARGET argument\n" \
	"  --override-config FILE\n" \
	"                  read the configuration from FILE instead (a path where\n" \
	"                  the workspace is, as --config); the workspace's\n" \
	"                  devcontainer.json (which need not exist) still names it\n" \
	"  --rebuild       rebuild the image (no cache) and recreate the container\n" \
	"                  (the old one is removed only once the new image is\n" \
	"                  built: a build that fails keeps it)\n" \
	"  --idle-stop DURATION\n" \
	"                  stop the container once nothing has used it (no exec,\n" \
	"                  shell or forwarded connection) for DURATION (90s, 15m,\n" \
	"                  2h; the host policy's idleStop is the default and most);\n" \
	"                  the next up resumes it\n" \
	"  --recreate      create the container anew (the old one is removed\n" \
	"                  once its successor's image is ready)\n" \
	"  --remove-existing-container\n" \
	"                  the reference's name of --recreate (it removes the old\n" \
	"                  container before the build: rdev keeps it until the\n" \
	"                  new image is ready)\n" \
	"  --mount-workspace-git-root true|false\n" \
	"                  true (the default): mount the git work tree holding the\n" \
	"                  workspace and open the workspace inside it; false (or\n" \
	"                  --no-mount-workspace-git-root): mount the workspace\n" \
	"                  folder itself at /workspaces/NAME (give the same to\n" \
	"                  read-configuration)\n" \
	"  --mount-git-worktree-common-dir\n" \
	"                  for a git work tree made with relative paths (`git\n" \
	"                  worktree add --relative-paths`): mount it at\n" \
	"                  /workspaces/ and its path below the folder holding the\n" \
	"                  repository's common git dir, and that dir beside it, so\n" \
	"                  that git works inside (kept on the container, as\n" \
	"                  --mount-workspace-git-root false is)\n" \
	"  --build-no-cache\n" \
	"                  build the image with --no-cache (when there is no\n" \
	"                  container yet)\n" \
	"  --cache-from IMAGE\n" \
	"                  also use IMAGE as a build cache " \
	"(repeatable)\n" AGENT_CMD_LOCKFILE_HELP "  --additional-features JSON\n" \
	"                  install these Features too: an object as\n" \
	"                  devcontainer.json's \"features\", after its own; an id\n" \
	"                  it has keeps its value (options are not merged)\n" \
	"  --dotfiles-repository URL\n" \
	"                  after postCreateCommand, once per container, clone URL\n" \
	"                  (owner/repo: https://github.com/owner/repo.git) with the\n" \
	"                  container's git as the remote user and run its install\n" \
	"                  script (none: link its dotfiles into ~); a failure fails " \
	"up\n" \
	"  --dotfiles-install-command FILE\n" \
	"                  run FILE of the repository instead of the first found of\n" \
	"                  install.sh, install, bootstrap.sh, bootstrap,\n" \
	"                  script/bootstrap, setup.sh, setup, script/setup\n" \
	"  --dotfiles-target-path PATH\n" \
	"                  clone into PATH (default ~/dotfiles)\n" \
	"  --id-label NAME=VALUE\n" \
	"                  label the container with these instead of\n" \
	"                  devcontainer.local_folder and devcontainer.config_file,\n" \
	"                  and find it by them (repeatable; give the same to the\n" \
	"                  next up)\n" \
	"  --mount type=bind|volume,source=SRC,target=DST[,external=true|false]\n" \
	"                  mount this too (repeatable)\n" \
	"  --remote-env NAME=VALUE\n" \
	"                  set NAME for the lifecycle commands (repeatable;\n" \
	"                  devcontainer.json's remoteEnv wins)\n" \
	"  --secrets-file FILE\n" \
	"                  a JSON object of strings, read here: each becomes an\n" \
	"                  environment variable of the lifecycle commands; never\n" \
	"                  stored, shown as ******** in all output\n" \
	"  --skip-non-blocking-commands\n" \
	"                  return after the waitFor step (default\n" \
	"                  updateContentCommand); the later ones continue in the\n" \
	"                  background (`logs -f` follows them to their end)\n" \
	"  --skip-post-create\n" \
	"                  run none of onCreateCommand, updateContentCommand,\n" \
	"                  postCreateCommand, postStartCommand, postAttachCommand\n" \
	"                  and do not install the dotfiles\n" \
	"  --skip-post-attach\n" \
	"                  do not run postAttachCommand\n" \
	"  --log-format text|json\n" \
	"                  json: progress as the reference's JSON log lines\n" \
	"                  ({\"type\":\"text\"|\"raw\"|\"progress\",...}, one a line)\n" \
	"  --include-configuration, --include-merged-configuration\n" \
	"                  add \"configuration\" and \"mergedConfiguration\" to the\n" \
	"                  JSON result, as `read-configuration` prints them once\n" \
	"                  the container is up\n" \
	"  --json          no progress output (warnings still go to stderr), only\n" \
	"                  the JSON result\n" \
	"--log-level, --default-user-env-probe, --update-remote-user-uid-default,\n" \
	"--oci-auth-hardening, --workspace-mount-consistency,\n" \
	"--expect-existing-container and --prebuild take only the reference's\n" \
	"defaults (info, loginInteractiveShell, on, false, cached, false, false);\n" \
	"any other value is a usage error that says what to use instead.\n"

/* The workspace commands' --id-label (exec, shell, stop, down, logs,
 * status, read-configuration): find the container as `up --id-label` made
 * it. */
#define AGENT_CMD_ID_LABEL_USAGE "[--id-label NAME=VALUE]..."
#define AGENT_CMD_ID_LABEL_HELP \
	"  --id-label NAME=VALUE\n" \
	"                  find the container by these labels (repeatable) instead\n" \
	"                  of the workspace folder's, as `up --id-label` made it\n"

/* exec's and shell's --mount-workspace-git-root, as the reference's exec. */
#define AGENT_CMD_GIT_ROOT_HELP \
	"  --mount-workspace-git-root true|false\n" \
	"                  false: start in the workspace folder of an `up\n" \
	"                  --mount-workspace-git-root false` (/workspaces/NAME,\n" \
	"                  not /workspaces/GITROOT/...), as the reference's exec;\n" \
	"                  not given: as the container's up made it\n" \
	"  --mount-git-worktree-common-dir true|false\n" \
	"                  as up's: start where such an up put the work tree;\n" \
	"                  not given: as the container's up made it\n"

/* The workspace commands' --config and --workspace-folder (status, logs,
 * stop, down, shell): what --help says of them. */
#define AGENT_CMD_WORKSPACE_USAGE "[--config FILE] [--workspace-folder PATH]"
#define AGENT_CMD_WORKSPACE_HELP \
	"  --config FILE   use FILE instead of discovering devcontainer.json\n" \
	"  --workspace-folder PATH\n" \
	"                  the workspace, instead of the TARGET argument\n"

/* What stop's and down's --help say of a configuration that does not load. */
#define AGENT_CMD_BROKEN_CONFIG_HELP \
	"A devcontainer.json that no longer loads (malformed, a wrong type) does\n" \
	"not stop it: the container is found by the labels the file would give,\n" \
	"and a warning names the file's error. Nor does a workspace folder\n" \
	"deleted since, or one whose devcontainer.json was deleted: the container\n" \
	"is found by the folder's label (and --config's, when given).\n\n"

/* exec's options after TARGET or PATH, and what --help says of them. */
#define AGENT_CMD_EXEC_USAGE \
	"[--config FILE] [--workspace-folder PATH] [--remote-env NAME=VALUE]... " \
	"[--secrets-file FILE] [--mount-workspace-git-root " \
	"true|false] [--mount-git-worktree-common-dir " \
	"true|false] " AGENT_CMD_ID_LABEL_USAGE " [--] COMMAND [ARGS...]"
#define AGENT_CMD_EXEC_OPTIONS \
	"options:\n" AGENT_CMD_WORKSPACE_HELP "  --remote-env NAME=VALUE\n" \
	"                  set NAME for the command (repeatable; devcontainer.json's\n" \
	"                  remoteEnv wins), as the reference's exec does\n" \
	"  --secrets-file FILE\n" \
	"                  a JSON object of strings, read here: each becomes an\n" \
	"                  environment variable of the command, as for up's\n" \
	"                  lifecycle commands (the reference's exec has no such\n" \
	"                  option); never stored, masked in rdev's messages (not\n" \
	"                  in the command's own output)\n" AGENT_CMD_GIT_ROOT_HELP \
	    AGENT_CMD_ID_LABEL_HELP \
	"--oci-auth-hardening, --log-level and --log-format take only the\n" \
	"reference's defaults (false, info, text); any other value is a usage\n" \
	"error that says what to use instead.\n"

#define AGENT_CMD_LOGS_HELP \
	"The output of the lifecycle steps that `up --skip-non-blocking-commands`\n" \
	"left to the background.\n" \
	"\n" \
	"options:\n" AGENT_CMD_WORKSPACE_HELP \
	"  -f, --follow    print it as it grows and end when the background steps\n" \
	"                  have: exit 0, or 1 when one failed (its message on stderr)\n" \
	"  --json          " \
	"{\"containerId\",\"log\",\"truncated\",\"offset\",\"size\",\n" \
	"                  " \
	"\"background\":{\"state\":\"none|running|done|failed\",...}}" \
	"\n" AGENT_CMD_ID_LABEL_HELP

/* Arguments of the workspace commands: [PATH] or --workspace-folder PATH,
 * [--config FILE] and, where allowed, --json, --volumes, -f/--follow, --all,
 * exec's --remote-env NAME=VALUE and --secrets-file FILE, and [--]
 * COMMAND... Options that take a value take it as the next argument or
 * after '=' (--config=FILE), as the reference CLI's do. */
struct agent_cmd_args {
	const char *folder;	 /* default "." */
	const char *config_file; /* NULL: discover */
	int json;
	int volumes;
	int follow;
	int all;
	char **command; /* borrowed from argv; NULL if none */
	int ncommand;
	const char *secrets_file;	  /* --secrets-file, or NULL */
	cJSON *remote_env;		  /* --remote-env: {NAME: VALUE}, or NULL */
	cJSON *id_labels;		  /* --id-label: ["NAME=VALUE", ...], or NULL */
	enum workspace_git_root git_root; /* --mount-workspace-git-root */
	enum workspace_common_dir common_dir; /* --mount-git-worktree-common-dir */
	/* With AGENT_ARG_COMMAND: argv's index of the folder when it was given
	 * as a word and no "--" followed it (`exec echo hi`: maybe a command
	 * meant, agent_cmd_dashdash_hint()); else 0. */
	int folder_i;
};
#define AGENT_ARG_FOLDER 0x01
#define AGENT_ARG_JSON 0x02
#define AGENT_ARG_VOLUMES 0x04
#define AGENT_ARG_FOLLOW 0x08
#define AGENT_ARG_COMMAND 0x10
#define AGENT_ARG_ALL 0x20
#define AGENT_ARG_EXEC_ENV 0x40	 /* --remote-env, --secrets-file */
#define AGENT_ARG_ID_LABEL 0x80	 /* --id-label: find the container by these */
#define AGENT_ARG_GIT_ROOT 0x100 /* --mount-workspace-git-root true|false */
/* the reference exec's options rdev takes at their default only
 * (agent_cmd_default_only(), AGENT_REF_EXEC) */
#define AGENT_ARG_REF_EXEC 0x200

/* cmd-args.c: 0, or CMD_EXIT_USAGE after printing the usage error. */
int agent_cmd_args_parse(const struct cmd_program *prog, const struct cmd_entry *entry,
    int argc, char **argv, unsigned allowed, struct agent_cmd_args *a);
/* Free what parsing allocated (remote_env, id_labels). */
void agent_cmd_args_clear(struct agent_cmd_args *a);
/* A command's parse of argv (argv[0] its name) into *a: 0 (the caller
 * clears *a with agent_cmd_args_clear()), or CMD_EXIT_USAGE after printing
 * why (*a cleared). prog and entry are for usage messages. */
typedef int agent_cmd_parse_fn(const struct cmd_program *prog,
    const struct cmd_entry *entry, int argc, char **argv, struct agent_cmd_args *a);
/* The usage errors alone of the command whose parse is parse, as it finds
 * them (printed, CMD_EXIT_USAGE; else 0): before anything is sent or
 * connected (the client's remote targets, client_target_hook). */
int agent_cmd_check_with(agent_cmd_parse_fn *parse, const struct cmd_program *prog,
    const struct cmd_entry *entry, int argc, char **argv);
/* The "warnings" of an answer (strings), one "PROG: VERB: warning: TEXT"
 * line each on stderr. */
void agent_cmd_print_warnings(
    const struct cmd_program *prog, const char *verb, const cJSON *answer);
/* Copy the answer's "warnings" (strings) into out, for a --json line; none:
 * nothing added. */
void agent_cmd_json_warnings(cJSON *out, const cJSON *answer);
/* A command's --json line: out with the answer's warnings added, one line
 * on stdout; out is freed. */
void agent_cmd_print_json(cJSON *out, const cJSON *answer);
/* The request for op on a's workspace (agent_cmd_request), with its
 * --id-label's ("idLabels"). */
cJSON *agent_cmd_args_request(
    const char *prog_name, const char *op, const struct agent_cmd_args *a);
/* Is s an --id-label value (the reference's /.+=.+/: an '=' with something
 * on both sides)? */
int agent_cmd_id_label_ok(const char *s);
/* --additional-features ARG: a new object (a copy of ARG's, JSONC), or NULL
 * with *error (freed first, then new: the caller frees it) naming the option
 * and where ARG is not an object. */
cJSON *agent_cmd_features_arg(const char *arg, char **error);
/* The reference's lockfile flags of up and build: is argv[*i]
 * --no-lockfile (*no_lockfile), --frozen-lockfile (*frozen), booleans as
 * agent_cmd_bool_option() reads them (*i past a "true" or "false" value),
 * or one of their deprecated forms, --experimental-lockfile (the default
 * now) and --experimental-frozen-lockfile (then *warning is the
 * reference's line for stderr, static; else NULL)? 1 taken, 0 not one of
 * them, -1 a value neither true nor false (*warning: the usage error,
 * static). Both set is the caller's usage error, AGENT_CMD_LOCKFILE_BOTH. */
int agent_cmd_lockfile_arg(
    int argc, char **argv, int *i, int *no_lockfile, int *frozen, const char **warning);
#define AGENT_CMD_LOCKFILE_BOTH \
	"--no-lockfile and --frozen-lockfile are mutually exclusive"
/* The usage error of an empty workspace argument (TARGET or
 * --workspace-folder ""): never read as the current folder. */
#define AGENT_CMD_EMPTY_FOLDER \
	"the workspace is empty (\"\"): name a folder (. for this one)"
/* The usage error of an empty path option (--config "", a script's unset
 * "$CFG"): a path "" would be read as the current folder ("Is a
 * directory"). opt and what (what it names: "file") are string literals. */
#define AGENT_CMD_EMPTY(opt, what) opt " is empty (\"\"): name a " what
/* Is arg an option that takes its value as the next argument ("--config")?
 * For finding TARGET among a command's arguments. */
int agent_cmd_option_takes_value(const char *arg);
/* How many arguments after argv[i] are its value: 1 for an option that
 * takes one (agent_cmd_option_takes_value()) and for one of the
 * reference's booleans that rdev takes followed by "true" or "false"
 * (agent_cmd_bool_option()), else 0. For finding TARGET. */
int agent_cmd_option_skip(int argc, char **argv, int i);
/* The reference CLI's boolean options that rdev takes (yargs booleans: the
 * bare flag is true, and a "true" or "false" after it is its value), as
 * indexes of agent_cmd_bool_options[]: one table for finding TARGET
 * (agent_cmd_option_skip()) and for up's parse of them. */
enum agent_cmd_bool {
	AGENT_BOOL_GIT_ROOT,		     /* --mount-workspace-git-root */
	AGENT_BOOL_REMOVE_EXISTING,	     /* --remove-existing-container */
	AGENT_BOOL_INCLUDE_CONFIG,	     /* --include-configuration */
	AGENT_BOOL_INCLUDE_MERGED,	     /* --include-merged-configuration */
	AGENT_BOOL_COMMON_DIR,		     /* --mount-git-worktree-common-dir */
	AGENT_BOOL_SKIP_NON_BLOCKING,	     /* --skip-non-blocking-commands */
	AGENT_BOOL_SKIP_POST_CREATE,	     /* --skip-post-create */
	AGENT_BOOL_SKIP_POST_ATTACH,	     /* --skip-post-attach */
	AGENT_BOOL_PREBUILD,		     /* --prebuild (run-user-commands) */
	AGENT_BOOL_STOP_FOR_PERSONALIZATION, /* --stop-for-personalization */
	AGENT_BOOL_BUILD_NO_CACHE,	     /* --build-no-cache (up) */
	AGENT_BOOL_NO_LOCKFILE,		     /* --no-lockfile (up, build) */
	AGENT_BOOL_FROZEN_LOCKFILE,	     /* --frozen-lockfile (up, build) */
	AGENT_BOOL_INCLUDE_FEATURES,	     /* --include-features-configuration */
	AGENT_BOOL_COUNT
};
/* Their names, by enum agent_cmd_bool. */
extern const char *const agent_cmd_bool_options[AGENT_BOOL_COUNT];
/* Is argv[*i] the reference's boolean option name ("--include-configuration")
 * as yargs takes it: NAME alone (true), NAME true|false (*i is advanced),
 * NAME=true|false, or --no-NAME (false)? 0 no; 1 yes, *value is 0 or 1; -1
 * it is, with a value neither true nor false (*msg: static text for after
 * the option's name). */
int agent_cmd_bool_option(
    int argc, char **argv, int *i, const char *name, int *value, const char **msg);
/* The reference's commands, for agent_cmd_default_only(). */
#define AGENT_REF_UP 0x1u
#define AGENT_REF_EXEC 0x2u
#define AGENT_REF_READ_CONFIGURATION 0x4u
#define AGENT_REF_BUILD 0x8u
#define AGENT_REF_RUN_USER_COMMANDS 0x10u
/* Is argv[*i] one of the reference's options of its command cmd
 * (AGENT_REF_*) that rdev takes at the reference's default only
 * (--oci-auth-hardening false, --log-level info, ...: what rdev does
 * anyway)? One table for every command. 0 no; 1 yes, at that default (*i
 * past its value); -1 it is, with another value: *msg (new string, the
 * caller frees it; a previous *msg is not freed) says "NAME must be one of
 * ..." for a value the reference does not take either, else names the
 * option, the value rdev takes and what to use instead, so it is never
 * ignored. */
int agent_cmd_default_only(int argc, char **argv, int *i, unsigned cmd, char **msg);
/* The reference CLI's options that up and run-user-commands share, as
 * parsed: one parser and one request for both (agent_cmd_steps_*()). */
#define AGENT_CMD_NDOTFILES 3
struct agent_cmd_steps_args {
	const char *folder; /* TARGET or --workspace-folder; "." when neither */
	const char *config_file;
	const char *secrets_file;
	/* --dotfiles-repository, -install-command, -target-path; NULL: not given */
	const char *dotfiles[AGENT_CMD_NDOTFILES];
	int skip_non_blocking, skip_post_attach;
	enum workspace_git_root git_root; /* --mount-workspace-git-root */
	int quiet;			  /* --json */
	int log_json;			  /* --log-format json */
	cJSON *remote_env, *id_labels;	  /* NULL: none given */
	char *error;			  /* a usage error's message made here */
};
void agent_cmd_steps_clear(struct agent_cmd_steps_args *a);
/* Take value v of the option name ("--config") into *a: 1 taken, 0 not one
 * of the shared ones, -1 with *msg (static, or a->error: valid until the
 * next call or agent_cmd_steps_clear()) for the usage error. (Their
 * options rdev takes at the default only are agent_cmd_default_only()'s.) */
int agent_cmd_steps_value(
    struct agent_cmd_steps_args *a, const char *name, const char *v, const char **msg);
/* The shared boolean k (agent_cmd_bool_option()'s value v) into *a: 1
 * taken, 0 not a shared one. */
int agent_cmd_steps_bool(struct agent_cmd_steps_args *a, enum agent_cmd_bool k, int v);
/* A positional argument (TARGET) into *a: 0, or -1 with *msg (a->error:
 * one workspace only). */
int agent_cmd_steps_folder(
    struct agent_cmd_steps_args *a, const char *arg, const char **msg);
/* The checks once the command line is read (and the default folder "."):
 * NULL, or the usage error's message (static, or a->error). */
const char *agent_cmd_steps_check(struct agent_cmd_steps_args *a);
/* Add *a's fields to req (its lists are handed over to req). */
void agent_cmd_steps_request(cJSON *req, struct agent_cmd_steps_args *a);
/* Is argv[*i] option name ("--mount")? 0 no; 1 yes, *value is its value
 * ("--mount=V", or the next argument: *i is advanced); -1 it is, but the
 * value is missing. */
int agent_cmd_option(int argc, char **argv, int *i, const char *name, const char **value);
/* The failure of a command that answers in JSON (up, build), as the
 * reference CLI's: "PROG: OP: CAUSE" on stderr (one JSON log line when
 * log_json: --log-format json) and {"outcome":"error","message":CAUSE} on
 * stdout. Frees cause; returns CMD_EXIT_FAILURE. */
int agent_cmd_failed(
    const struct cmd_program *prog, const char *op, int log_json, char *cause);
/* agent_cmd_failed() with details' members (borrowed; NULL: none) after
 * "message": up's "description" and "containerId", as the reference's. */
int agent_cmd_failed_details(const struct cmd_program *prog, const char *op, int log_json,
    char *cause, const cJSON *details);
/* How much of text (the lines -q held back, progress_quiet_take()) to show
 * before message (an error's): its length less the lines at its end that
 * message repeats (a failed build's error carries the build's last lines;
 * a failed step's, its last line alone), each looked up alone. */
size_t agent_cmd_kept_to_show(const char *message, const char *text);
/* A struct progress sink that writes to stderr (arg unused): without
 * terminal escape sequences (a build's colours) unless stderr is a
 * terminal that shows them (TERM set, not "dumb"). JSON log lines carry
 * none raw: their escapes are kept, as JSON escapes. */
void agent_cmd_progress_stderr(void *arg, const char *data, size_t len);
/* The struct progress sink of a command's --json (up, run-user-commands):
 * agent_cmd_progress_stderr() of the warnings ("warning: ..." lines, or
 * JSON log lines whose text is one) and the workspace lock's wait line
 * (AGENT_LOCK_WAIT_LINE) only; each line is looked at alone. arg unused. */
void agent_cmd_progress_warnings(void *arg, const char *data, size_t len);
/* Append item (consumed) to the array *list, created when NULL: a
 * repeatable option's values. */
void agent_cmd_list_add(cJSON **list, cJSON *item);
/* Add "NAME=VALUE" (--remote-env) to the object remote_env; a name given
 * again replaces its value. -1 when arg has no name before an '='. */
int agent_cmd_remote_env_add(cJSON *remote_env, const char *arg);

/* The commands: each parses argv (argv[0] its name), runs through be and
 * prints; returns the exit code. prog and entry are for usage messages.
 * cmd-up.c: ports, when not NULL, gets the "ports" of the answer (the merged
 * forwardPorts and portsAttributes: the remote client forwards them), NULL
 * when there are none; lockfile, when not NULL, asks for the lockfile
 * ("includeLockfile") and gets the answer's "workspaceLockfile" (the client
 * copies it into the folder it uploaded), NULL when there is none. Both are
 * new (detached from the answer): the caller frees them with cJSON_Delete().
 * Neither is printed. result, when not NULL, gets the success result
 * instead of printing it (the caller frees it; NULL on failure, whose
 * result is printed): the client prints it once the forwards and the sync
 * are made, or the failure of those (agent_cmd_up_failed_after()). */
int agent_cmd_up(const struct agent_backend *be, const struct cmd_program *prog,
    const struct cmd_entry *entry, int argc, char **argv, cJSON **ports, cJSON **lockfile,
    cJSON **result);
/* up's failure after the container is up (result: agent_cmd_up()'s): the
 * line on stderr (as a JSON log line with log_json) and up's error result
 * with the container's id, as a failed lifecycle step's; cause is
 * consumed. Returns CMD_EXIT_FAILURE. */
int agent_cmd_up_failed_after(
    const struct cmd_program *prog, int log_json, char *cause, const cJSON *result);
/* up's usage errors alone, as the command finds them (printed,
 * CMD_EXIT_USAGE; else 0), before anything is sent or connected: the
 * client's remote targets (client_target_hook's check). */
int agent_cmd_up_check(
    const struct cmd_program *prog, const struct cmd_entry *entry, int argc, char **argv);
/* The same for read-configuration. */
int agent_cmd_read_configuration_check(
    const struct cmd_program *prog, const struct cmd_entry *entry, int argc, char **argv);
/* The argument parses of the commands whose arguments are a struct
 * agent_cmd_args (agent_cmd_parse_fn), for agent_cmd_check_with(). */
int agent_cmd_exec_parse(const struct cmd_program *prog, const struct cmd_entry *entry,
    int argc, char **argv, struct agent_cmd_args *a);
int agent_cmd_stop_parse(const struct cmd_program *prog, const struct cmd_entry *entry,
    int argc, char **argv, struct agent_cmd_args *a);
int agent_cmd_down_parse(const struct cmd_program *prog, const struct cmd_entry *entry,
    int argc, char **argv, struct agent_cmd_args *a);
int agent_cmd_logs_parse(const struct cmd_program *prog, const struct cmd_entry *entry,
    int argc, char **argv, struct agent_cmd_args *a);
/* cmd-exec.c: was argv's word folder_i (agent_cmd_args' folder_i; 0: none),
 * taken for the folder, a command meant (`exec echo hi`)? 1 when no `--`
 * follows it, it has no '/' (`./app` is a folder meant: its own error) and
 * no such file is here; else 0. */
int agent_cmd_command_meant(int argc, char **argv, int folder_i);
/* cmd-exec.c: "did you mean `PROG NAME [OPTIONS] -- WORDS`?" for argv whose
 * word folder_i (agent_cmd_args' folder_i) was taken for the folder: the
 * words from it on as the command (shell-quoted as needed). New string. */
char *agent_cmd_dashdash_hint(const struct cmd_program *prog,
    const struct cmd_entry *entry, int argc, char **argv, int folder_i);
/* cmd-exec.c: exit status: the command's, or AGENT_EXIT_EXEC_FAILED when it
 * could not be run (as docker exec's 125). */
#define AGENT_EXIT_EXEC_FAILED 125
int agent_cmd_exec(const struct agent_backend *be, const struct cmd_program *prog,
    const struct cmd_entry *entry, int argc, char **argv);
/* Whether exec and shell give the command a TTY: only when stdin and stdout
 * are both terminals, as the reference's `process.stdin.isTTY &&
 * process.stdout.isTTY` (a TTY turns \n into \r\n and mixes stderr into
 * stdout: `exec ws -- tar c . > x.tar` typed at a prompt made a broken file). */
int agent_exec_tty(void);
/* The local backend's exec: on this host's Docker. */
int agent_exec_local(const char *prog_name, const struct agent_exec_req *req);
/* cmd-stop.c: stop the workspace's container(s); a missing one is a no-op. */
int agent_cmd_stop(const struct agent_backend *be, const struct cmd_program *prog,
    const struct cmd_entry *entry, int argc, char **argv);
/* cmd-down.c: remove them (--volumes: and their volumes); missing: no-op. */
int agent_cmd_down(const struct agent_backend *be, const struct cmd_program *prog,
    const struct cmd_entry *entry, int argc, char **argv);
/* cmd-ls.c: the caller's dev containers on this host (--all: everyone's). */
/* The table of list (ls' result, borrowed); with all, an OWNER column ("?"
 * for a container without the owner label); with hosts, a HOST column first
 * (each object's "host": a pool's listing). Names are the user's (a
 * folder's, an image's): one with a line break or an escape is shown quoted
 * (quote_shown()). */
void agent_cmd_ls_print(const cJSON *list, int all, int hosts);
int agent_cmd_ls(const struct agent_backend *be, const struct cmd_program *prog,
    const struct cmd_entry *entry, int argc, char **argv);
/* cmd-logs.c: the background lifecycle log of the workspace's container. */
int agent_cmd_logs(const struct agent_backend *be, const struct cmd_program *prog,
    const struct cmd_entry *entry, int argc, char **argv);
/* cmd-read-configuration.c: the configuration as JSON. */
int agent_cmd_read_configuration(const struct agent_backend *be,
    const struct cmd_program *prog, const struct cmd_entry *entry, int argc, char **argv);

#endif
