/* agent-ops.h - the agent's operations as functions that return JSON, shared
 * by the command line (cmd-*.c, which prints) and `serve` (serve-job.c, which
 * sends protocol frames). Each returns 0 with a new cJSON object in *result
 * (the caller frees it with cJSON_Delete()) or -1 with *cause (the caller
 * frees it). Nothing here prints; progress goes through struct progress.
 * up_cmd is the command a message tells the user to run when the workspace
 * has no container ("run `rdev up buildbox:~/app` first"): the command as the
 * user would type it where they are (agent_up_command() makes the default).
 */
#ifndef RDEV_AGENT_OPS_H
#define RDEV_AGENT_OPS_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "up.h"

struct buf;
struct docker;

/* up: the CLI's --json result, {"outcome":"success","containerId":...}. */
int agent_op_up(const struct up_opts *opts, cJSON **result, char **cause);
/* stop: {"outcome":"success","stopped":N}; no container is N = 0. */
int agent_op_stop(
    const char *folder, const char *config_file, cJSON **result, char **cause);
/* down: {"outcome":"success","removed":N}; volumes: also the volumes. */
int agent_op_down(const char *folder, const char *config_file, int volumes,
    cJSON **result, char **cause);
/* ls: an array of {"containerId","state","image","workspace","configFile",
 * "owner","composeProject","created"}, one per dev container on this host. */
int agent_op_ls(cJSON **result, char **cause);
/* "PROG up FOLDER [--config FILE]", for up_cmd; the caller frees. */
char *agent_up_command(
    const char *prog_name, const char *folder, const char *config_file);
/* The workspace's container and the agent's state directory, where its
 * background lifecycle log (lifecycle_log_path()) and record are: both new
 * strings; -1 with *cause "no dev container for PATH (run `UP_CMD` first)"
 * when there is none. */
int agent_op_logs_locate(const char *folder, const char *config_file, const char *up_cmd,
    char **state_dir, char **container_id, char **cause);
/* logs: {"containerId":...,"log":TEXT,"truncated":BOOL,"offset":END,"size":N,
 * "background":lifecycle_bg_status_json()}. TEXT is the last max_bytes of
 * the log when offset < 0, else at most max_bytes from byte offset on ("" when
 * there is none yet); END is the offset just after TEXT, N the log's size.
 * The background state is read before the log: when it is not "running" and
 * END reaches N, the log is complete. */
int agent_op_logs(const char *folder, const char *config_file, const char *up_cmd,
    size_t max_bytes, long long offset, cJSON **result, char **cause);
/* The command that follows the background steps, from up_cmd: "PROG up
 * REST" gives "PROG logs -f REST". New string. */
char *agent_logs_follow_command(const char *up_cmd);
/* info: {"cpus":N,"memoryBytes":N,"diskFreeBytes":N (of /),"dockerVersion":S,
 * "devContainersRunning":N,"software":"rdev-agent 0.1.0"}. */
int agent_op_info(cJSON **result, char **cause);
/* read-configuration: the CLI's JSON (common/cmd-read-configuration.c, run
 * as `self read-configuration` so both print exactly the same), plus
 * "warnings": the lines the command printed on stderr. self is this
 * program's path ("/proc/self/exe"). */
int agent_op_read_configuration(const char *self, const char *folder,
    const char *config_file, int merged, cJSON **result, char **cause);

#endif
