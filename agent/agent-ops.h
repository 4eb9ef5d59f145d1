/* agent-ops.h - the agent's operations: one table (agent-ops.c), one row per
 * operation, each row's handler in its own op-<name>.c. `rdev-agent serve`
 * answers a request by its row (serve-peer.c checks the name, serve-job.c
 * runs the handler in a worker); the local backend (backend.c) runs the same
 * handler in-process, so a local target and a remote one are served the same
 * way. A request is the JSON object docs/PROTOCOL.md describes:
 * {"op":NAME, "workspace":FOLDER, "config":FILE, "hint":UP_CMD, ...}.
 *
 * A handler returns 0 with a new cJSON value in *result (the caller frees
 * it) or -1 with *cause (the caller frees it); a handler whose failure a
 * peer may act on returns one of the AGENT_OP_ERR_* codes below instead of
 * -1 (serve sends its "errorCode", docs/PROTOCOL.md). Nothing here prints;
 * progress goes through the request's struct progress.
 *
 * Adding an operation: write op-<name>.c with its handler and its row
 * (`const struct agent_op agent_op_<name>`), declare the row below and list
 * it in agent-ops.c. docs/DEVELOPING.md has the whole recipe.
 */
#ifndef RDEV_AGENT_OPS_H
#define RDEV_AGENT_OPS_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "feature-lock.h"
#include "progress.h"

/* One request as a handler sees it. */
struct agent_op_req {
	const cJSON *json;		 /* the request as sent (borrowed) */
	const char *workspace;		 /* "workspace", a leading ~ made $HOME;
					    NULL for an op without AGENT_OP_WORKSPACE */
	const char *config;		 /* "config", or NULL */
	const char *prog_name;		 /* who serves it: "rdev-agent", "rdev" */
	const struct progress *progress; /* never NULL (may discard) */
	const cJSON *id_labels; /* "idLabels" (checked: ["NAME=VALUE", ...]), or NULL */
};

/* One progress line before a stop of ids may wait long (more than one
 * running, or a grace over Docker's 10 s): "stopping N containers (up to T
 * s: ...)", T the longest grace of those running (op-stop.c; down too).
 * Returns each one's grace, for docker_containers_stop (inspected once:
 * new array, caller frees), or NULL when the inspects failed (the stop
 * then inspects each itself). */
struct docker;
int *agent_op_stop_progress(const struct progress *p, struct docker *d, char *const *ids);
struct workspace;
/* For stop and down: wait, as up does, for the workspace's lock
 * (agent_lock_acquire's, held by an up or run-user-commands still at work
 * on it), so that they act on what it made, not on half of it. ws is open
 * (workspace_open_tolerant) and, when we had to wait, opened again once
 * the lock is had (*config_error with it). The wait says so on r's
 * progress (AGENT_LOCK_WAIT_LINE); a signal (^C, a cancel) ends it. Not
 * waited for: a background run of the container's lifecycle steps (it
 * keeps the lock until they end, maybe never: they fail as the container
 * goes), nor anything when the configuration does not load (no key).
 * *lock is the lock's fd (agent_lock_release) or -1. 0, or -1 with
 * *cause. */
int agent_op_workspace_lock(const struct agent_op_req *r, struct docker *d,
    struct workspace *ws, char **config_error, int *lock, char **cause);
/* The request's "workspace" with a leading "~" made $HOME. New string, or
 * NULL with *cause when there is none. */
char *agent_op_workspace(const cJSON *json, char **cause);
/* The request's "idLabels" into *labels (borrowed; NULL when absent). 0, or
 * -1 with *cause when it is not an array of "NAME=VALUE". */
int agent_op_id_labels(const cJSON *json, const cJSON **labels, char **cause);
/* The request's string field name, or NULL. */
const char *agent_op_req_string(const struct agent_op_req *r, const char *name);
/* The request's boolean field name (absent: 0). */
int agent_op_req_bool(const struct agent_op_req *r, const char *name);
/* Is the request's field name an array of strings, or absent? */
int agent_op_req_strings(const struct agent_op_req *r, const char *name);
/* The request's "logFormat" ("text", "json" or absent) as p->json. 0, or -1
 * with *cause for another value. */
int agent_op_req_log_format(
    const struct agent_op_req *r, struct progress *p, char **cause);
/* The request's "noLockfile" and "frozenLockfile" (up, build) as an enum
 * feature_lock_mode (feature-lock.h) in *mode. 0, or -1 with *cause when
 * both are true. */
int agent_op_req_lockfile(
    const struct agent_op_req *r, enum feature_lock_mode *mode, char **cause);
/* The request's "additionalFeatures" (--additional-features) into *features
 * (borrowed; NULL when absent). 0, or -1 with *cause when it is not an
 * object. */
int agent_op_req_features(
    const struct agent_op_req *r, const cJSON **features, char **cause);
/* The command a "no container" message tells the user to run: the request's
 * "hint" (the client knows what its user typed, e.g. `rdev up buildbox:~/app`),
 * else "PROG up FOLDER [--config FILE]". New string. */
char *agent_op_req_up_cmd(const struct agent_op_req *r, const char *prog);

/* Failures told apart on the wire ("errorCode"): definitive for the
 * workspace as it is now (its folder does not exist, or no container carries
 * its id labels), its container stopped (an `up` or a start may come), and
 * its container another user's (owner.h: definitive for this user). */
#define AGENT_OP_ERR_NO_WORKSPACE (-2)
#define AGENT_OP_ERR_NOT_RUNNING (-3)
#define AGENT_OP_ERR_NOT_OWNER (-4)
/* An up the host's admission refused (admission.h): nothing was made or
 * started, another host may take it (a pool's client says so). */
#define AGENT_OP_ERR_ADMISSION_REFUSED (-5)
/* The "errorCode" of a handler's return value rc: "no-workspace",
 * "not-running", "not-owner", "admission-refused", or NULL (none: any other
 * failure). Static string. */
const char *agent_op_error_code(int rc);

#define AGENT_OP_WORKSPACE 0x01 /* "workspace" is required */
#define AGENT_OP_STREAM 0x02	/* answered on a channel (exec): serve only */

struct agent_op {
	const char *name;
	unsigned flags;
	/* NULL for AGENT_OP_STREAM rows (serve-job.c streams them). */
	int (*run)(const struct agent_op_req *r, cJSON **result, char **cause);
	const char *summary; /* one line for `rdev-agent serve --help` */
};

/* The table: every row, NULL-terminated (agent-ops.c). */
extern const struct agent_op *const agent_ops[];
/* The row named name, or NULL. */
const struct agent_op *agent_op_find(const char *name);
/* Run request json (borrowed) by its row, in this process: the local
 * backend's way. The handler's return (0, -1 or an AGENT_OP_ERR_*); an
 * unknown op, a stream op or a missing workspace is -1 with *cause. On
 * failure *result may still be set: the op's details of the error (up's
 * containerId and description), which the error answer carries as its
 * "result"; the caller frees it either way. */
int agent_op_call(const cJSON *json, const char *prog_name, const struct progress *p,
    cJSON **result, char **cause);

struct up_opts;
/* op-up.c: the request's fields that up and run-user-commands share (docs/
 * PROTOCOL.md: the workspace, noGitRoot, skipNonBlockingCommands,
 * skipPostAttach, idLabels, the dotfiles, remoteEnv, logFormat, secrets)
 * into opts, its progress r's. opts->secrets is new (the caller frees it);
 * the request's secrets are wiped: from here on the values live there
 * only. 0, or -1 with *cause naming the field. */
int op_up_steps_opts(const struct agent_op_req *r, struct up_opts *opts, char **cause);

/* The rows (op-<name>.c). */
extern const struct agent_op agent_op_info;		  /* host facts */
extern const struct agent_op agent_op_read_configuration; /* the configuration */
extern const struct agent_op agent_op_up;		  /* create or resume */
extern const struct agent_op agent_op_build;		  /* the image, no container */
/* the lifecycle steps not run yet */
extern const struct agent_op agent_op_run_user_commands;
extern const struct agent_op agent_op_upgrade;	     /* devcontainer-lock.json anew */
extern const struct agent_op agent_op_stop;	     /* stop, keep */
extern const struct agent_op agent_op_down;	     /* remove */
extern const struct agent_op agent_op_ls;	     /* the dev containers */
extern const struct agent_op agent_op_logs;	     /* background log */
extern const struct agent_op agent_op_status;	     /* one environment's state */
extern const struct agent_op agent_op_exec;	     /* a command (stream) */
extern const struct agent_op agent_op_relay;	     /* the port relay */
extern const struct agent_op agent_op_sync;	     /* upload a folder (stream) */
extern const struct agent_op agent_op_sync_pull;     /* the host's changes */
extern const struct agent_op agent_op_clone;	     /* clone or fetch a git URL */
extern const struct agent_op agent_op_source_folder; /* a source's folder */

/* Docker's facts that change only with the daemon (its version, its root
 * folder), kept by the long-lived agent between "info" answers
 * (serve-listen.c) for at most OP_INFO_CACHE_MS, and dropped whenever a
 * Docker request fails. Plain data: zeroed is empty; op_info_cache_clear
 * frees what it holds. */
#define OP_INFO_CACHE_MS 30000
struct op_info_cache {
	char *version;	/* NULL: not known */
	char *root_dir; /* NULL: not known */
	long long at_ms;
};
/* The "info" answer (op-info.c) into *result (new), with cache (NULL:
 * none) saving the Docker requests it can, none of which waits for Docker
 * longer than docker_timeout_ms (0: Docker's usual timeouts). 0, or -1 with
 * *cause (a malformed policy). */
int op_info_collect(
    struct op_info_cache *cache, int docker_timeout_ms, cJSON **result, char **cause);
void op_info_cache_clear(struct op_info_cache *c);

/* Helpers the rows share. */

/* "PROG up FOLDER [--config FILE]", each word quoted for a POSIX shell
 * when it needs it (a hint to paste); the caller frees. */
char *agent_up_command(
    const char *prog_name, const char *folder, const char *config_file);
/* The same with a target of several words (NULL-terminated: `HOST: SOURCE`
 * as typed). */
char *agent_up_command_words(
    const char *prog_name, const char *const *target, const char *config_file);
/* The command that follows the background steps, from up_cmd: "PROG up
 * REST" gives "PROG logs -f REST". New string. */
char *agent_logs_follow_command(const char *up_cmd);
/* {"outcome":"success", key: n}. */
cJSON *agent_op_outcome(const char *key, int n);
/* Add a warning (fmt, ...) to result's "warnings". */
void agent_op_warning(cJSON *result, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Add to result's "warnings" that the configuration could not be read
 * (config_error: its message) and the container was found by its labels;
 * also (may be NULL): what was left undone for that. */
void agent_op_config_warning(cJSON *result, const char *config_error, const char *also);

#endif
