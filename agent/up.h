/* up.h - `up`: turn a workspace into a running, ready dev container.
 *
 * The pipeline (for users: docs/CLI.md, `up`; the op: docs/PROTOCOL.md):
 * load the configuration; refuse what up cannot honour yet and warn about
 * what it leaves aside (config_validate_up()); take the workspace's lock;
 * find the workspace's container by its labels; if there is none (or
 * --rebuild/--recreate): run initializeCommand on this host, get the image
 * (pull, or docker build + metadata label), merge its metadata, build the
 * UID-sync image when wanted, create and start the container; if there is one,
 * start it when stopped. Then the in-container lifecycle steps, all of them
 * before up returns (as the reference CLI); with skip_non_blocking those up
 * to waitFor, and the rest continue in a detached background process that
 * logs to the container's log (`rdev logs -f`) and records its progress
 * (lifecycle.h, "The background run").
 */
#ifndef RDEV_UP_H
#define RDEV_UP_H

#include <cjson/cJSON.h>

#include "progress.h"
#include "up-opts.h"

struct up_result {
	char *outcome;	    /* "success", or "error" when up_run() failed */
	char *container_id; /* failed: NULL when there was no container yet */
	/* failed: the reference's "description" ("onCreateCommand from
	 * devcontainer.json failed.", "An error occurred setting up the
	 * container."); else NULL */
	char *description;
	/* failed: the host's admission refused the container (admission.h);
	 * the op's answer has "errorCode":"admission-refused" */
	int refused;
	char *remote_user;
	char *remote_workspace_folder;
	char *compose_project; /* Compose only, else NULL */
	int created;	       /* 1 if this up created the container */
	int started;	       /* 1 if this up started it */
	char **warnings;       /* NULL-terminated or NULL */
	/* The merged configuration's forwardPorts, portsAttributes and
	 * otherPortsAttributes (those it has), for the client that forwards
	 * them: saves it a read-configuration request. */
	cJSON *ports;
	/* With opts->include_lockfile, when up wrote (or found already so)
	 * devcontainer-lock.json: feature_lock_answer()'s object, else NULL. */
	cJSON *lockfile;
};

/* Bring the workspace's dev container up. 0 and *res filled, or -1 with
 * *cause: "postCreateCommand failed: `make` exited with status 2",
 * "devcontainer.json:3:12: ...", "docker: ..." and *res the failure's
 * outcome, description and container id (when known); either way free *res
 * with up_result_free(). */
int up_run(const struct up_opts *opts, struct up_result *res, char **cause);
void up_result_free(struct up_result *res);
/* The reference CLI's final line: {"outcome":"success","containerId":...,
 * "remoteUser":...,"remoteWorkspaceFolder":...}. New object, caller frees. */
cJSON *up_result_json(const struct up_result *res);
/* A failed up_run()'s details for its error answer: {"description":...,
 * "containerId":...} (the id when there was a container). New object,
 * caller frees. */
cJSON *up_result_error_json(const struct up_result *res);

/* `build`: the image up would create the container from, with its
 * devcontainer.metadata label, and no container, as the reference CLI's
 * build: a Dockerfile built as up builds it (the same tag, the same steps:
 * the next up's build is all cache and gives this image), an image pulled,
 * a Compose service's image built; the last two get the label in an image
 * of their own (up puts it on the container). opts: workspace_folder,
 * config_file, build_no_cache, cache_from, progress. image_names (an array
 * of strings, or NULL) tag the result too. *result is the reference's
 * answer, {"outcome":"success","imageName":[...]} (the names given, else
 * rdev's tag; caller frees), or -1 with *cause ("Features are not supported
 * yet", docker's message). */
int up_build(
    const struct up_opts *opts, const cJSON *image_names, cJSON **result, char **cause);

/* `run-user-commands`: the lifecycle steps of the workspace's running dev
 * container (opts: workspace_folder, config_file, id_labels, git_root, the
 * lifecycle flags, remote_env, secrets, dotfiles_*, progress), as up runs
 * them on a container it reuses (its markers say which ran), nothing
 * created or started. up_cmd: what a "no container" message tells to run.
 * 0 with *result the reference's word for where it stopped ("done",
 * "skipNonBlocking", "prebuild", "stopForPersonalization"; static), or -1
 * with *cause and *description (new, or NULL) the reference's for a failed
 * step ("postCreateCommand from devcontainer.json failed."). */
int up_user_commands(const struct up_opts *opts, const char *up_cmd, const char **result,
    char **description, char **cause);

struct config;
struct docker;
/* What a command in an existing container needs when its configuration does
 * not load (found by its labels: workspace_open_tolerant()): the container's
 * recorded configuration (its devcontainer.metadata label: remoteUser,
 * remoteEnv, userEnvProbe and the lifecycle commands as at its up, the
 * configuration's own entry last), substituted as up did, into *merged, and
 * (metadata not NULL) those entries into *metadata, the first *nmetadata
 * the image's and its Features' (as up_merged_for_container_meta()); the
 * workspace folder into *workdir: where the container's bind mount holding
 * folder (its devcontainer.local_folder label, else folder) puts it (a
 * workspaceFolder below that mount is known only from the configuration).
 * All new (caller frees). 0, or -1 with *cause. */
int up_merged_recorded(const char *folder, const cJSON *container, cJSON **merged,
    cJSON **metadata, int *nmetadata, char **workdir, char **cause);
/* The merged configuration of an existing container: its devcontainer.metadata
 * label plus what cfg may still change (remoteUser, userEnvProbe, remoteEnv),
 * as the reference CLI does. New object (caller frees) or -1 with *cause. */
int up_merged_for_container(
    const struct config *cfg, const cJSON *container, cJSON **merged, char **cause);
/* The user processes run as: remoteUser, containerUser, the container's user,
 * or root. New string. */
char *up_remote_user(const cJSON *merged, const cJSON *container);
/* The environment of the remote user's processes, as the reference's
 * probeRemoteEnv() makes it: the probed user env (cached per container start
 * in state_dir), then cli_remote_env (--remote-env: {NAME: VALUE}, may be
 * NULL), then the merged remoteEnv; *unset lists variables remoteEnv
 * removes. Free both with env_free(). current: container is an inspect just
 * taken (its State.StartedAt is this start's); else the container is
 * inspected again. */
int up_remote_env(struct docker *d, const char *state_dir, const cJSON *container,
    int current, const cJSON *merged, const cJSON *cli_remote_env,
    const char *remote_user, char ***env, char ***unset, char **cause);

#endif
