/* agent-cmds.h - commands that act on the dev containers of this host,
 * shared by rdev-agent and by rdev for local targets. Each takes the calling
 * program's table entry (for usage messages) and argv with argv[0] the command
 * name, and returns the exit code (cmd.h).
 */
#ifndef RDEV_AGENT_CMDS_H
#define RDEV_AGENT_CMDS_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "cmd.h"

struct up_opts;

/* Where the workspace commands' operations run: in this process (the local
 * backend: agent-ops.h) or on a remote host's agent (the client's remote
 * backend, over the broker). Each returns what agent-ops.h's function of the
 * same name returns; ctx is the backend's own. The commands print the same
 * output from either. */
struct agent_backend {
	int (*up)(void *ctx, const struct up_opts *opts, cJSON **result, char **cause);
	int (*stop)(void *ctx, const char *folder, const char *config_file,
	    cJSON **result, char **cause);
	int (*down)(void *ctx, const char *folder, const char *config_file, int volumes,
	    cJSON **result, char **cause);
	int (*ls)(void *ctx, cJSON **result, char **cause);
	/* NULL: the command reads the log file itself (local). offset < 0:
	 * the last max_bytes, else from offset on (agent_op_logs()). */
	int (*logs)(void *ctx, const char *folder, const char *config_file,
	    size_t max_bytes, long long offset, cJSON **result, char **cause);
	void *ctx;
};
/* backend.c: agent-ops.h in this process. */
extern const struct agent_backend agent_backend_local;

#define AGENT_CMD_UP_HELP \
	"Creates the workspace's dev container, or reuses it (starting it when\n" \
	"stopped), and runs the lifecycle commands, every one before it returns\n" \
	"(their output is progress). Progress goes to stderr; the last line on\n" \
	"stdout is JSON: {\"outcome\":\"success\",\"containerId\":...,\n" \
	"\"remoteUser\":...,\"remoteWorkspaceFolder\":...}.\n" \
	"\n" \
	"options:\n" \
	"  --config FILE   use FILE instead of discovering devcontainer.json\n" \
	"  --rebuild       rebuild the image (no cache) and recreate the container\n" \
	"  --recreate      remove the container and create it anew\n" \
	"  --skip-non-blocking-commands\n" \
	"                  return after the waitFor step (default\n" \
	"                  updateContentCommand); the later ones continue in the\n" \
	"                  background (`logs -f` follows them to their end)\n" \
	"  --skip-post-create\n" \
	"                  run none of onCreateCommand, updateContentCommand,\n" \
	"                  postCreateCommand, postStartCommand, postAttachCommand\n" \
	"  --skip-post-attach\n" \
	"                  do not run postAttachCommand\n" \
	"  --json          no progress output (warnings still go to stderr), only\n" \
	"                  the JSON result\n"

#define AGENT_CMD_LOGS_HELP \
	"The output of the lifecycle steps that `up --skip-non-blocking-commands`\n" \
	"left to the background.\n" \
	"\n" \
	"options:\n" \
	"  -f, --follow    print it as it grows and end when the background steps\n" \
	"                  have: exit 0, or 1 when one failed (its message on stderr)\n" \
	"  --json          " \
	"{\"containerId\",\"log\",\"truncated\",\"offset\",\"size\",\n" \
	"                  " \
	"\"background\":{\"state\":\"none|running|done|failed\",...}}\n"

/* Arguments of the workspace commands: [PATH] [--config FILE] and, where
 * allowed, --json, --volumes, -f/--follow, and [--] COMMAND... */
struct agent_cmd_args {
	const char *folder;	 /* default "." */
	const char *config_file; /* NULL: discover */
	int json;
	int volumes;
	int follow;
	char **command; /* borrowed from argv; NULL if none */
	int ncommand;
};
#define AGENT_ARG_FOLDER 0x01
#define AGENT_ARG_JSON 0x02
#define AGENT_ARG_VOLUMES 0x04
#define AGENT_ARG_FOLLOW 0x08
#define AGENT_ARG_COMMAND 0x10

/* cmd-args.c: 0, or CMD_EXIT_USAGE after printing the usage error. */
int agent_cmd_args_parse(const struct cmd_program *prog, const struct cmd_entry *entry,
    int argc, char **argv, unsigned allowed, struct agent_cmd_args *a);

/* cmd-up.c */
int agent_cmd_up_on(const struct agent_backend *be, const struct cmd_program *prog,
    const struct cmd_entry *entry, int argc, char **argv);
int agent_cmd_up(
    const struct cmd_program *prog, const struct cmd_entry *entry, int argc, char **argv);

/* cmd-exec.c: exit status: the command's, or AGENT_EXIT_EXEC_FAILED when it
 * could not be run (as docker exec's 125). */
#define AGENT_EXIT_EXEC_FAILED 125
int agent_cmd_exec(
    const struct cmd_program *prog, const struct cmd_entry *entry, int argc, char **argv);
/* cmd-stop.c: stop the workspace's container(s); a missing one is a no-op. */
int agent_cmd_stop_on(const struct agent_backend *be, const struct cmd_program *prog,
    const struct cmd_entry *entry, int argc, char **argv);
int agent_cmd_stop(
    const struct cmd_program *prog, const struct cmd_entry *entry, int argc, char **argv);
/* cmd-down.c: remove them (--volumes: and their volumes); missing: no-op. */
int agent_cmd_down_on(const struct agent_backend *be, const struct cmd_program *prog,
    const struct cmd_entry *entry, int argc, char **argv);
int agent_cmd_down(
    const struct cmd_program *prog, const struct cmd_entry *entry, int argc, char **argv);
/* cmd-ls.c: the dev containers on this host. */
int agent_cmd_ls_on(const struct agent_backend *be, const struct cmd_program *prog,
    const struct cmd_entry *entry, int argc, char **argv);
int agent_cmd_ls(
    const struct cmd_program *prog, const struct cmd_entry *entry, int argc, char **argv);
/* cmd-logs.c: the background lifecycle log of the workspace's container. */
int agent_cmd_logs_on(const struct agent_backend *be, const struct cmd_program *prog,
    const struct cmd_entry *entry, int argc, char **argv);
int agent_cmd_logs(
    const struct cmd_program *prog, const struct cmd_entry *entry, int argc, char **argv);

#endif
