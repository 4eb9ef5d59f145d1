/* container-spec.h - the Docker Engine API ContainerCreate body for a dev
 * container, built from the merged configuration.
 *
 * It does what the reference CLI's `docker run` command line does (its
 * spawnDevContainer): workspace mount, mounts, labels, containerEnv,
 * containerUser, init, privileged, capAdd, securityOpt, appPort published on
 * 127.0.0.1, runArgs applied last, and the entrypoint wrapper that runs the
 * metadata entrypoints and keeps the container alive when overrideCommand is
 * true (or runs the image's own entrypoint and command when it is false).
 *
 * Pure: no I/O.
 */
#ifndef RDEV_CONTAINER_SPEC_H
#define RDEV_CONTAINER_SPEC_H

#include <cjson/cJSON.h>

#include "run-args.h"

struct container_spec_input {
	const char *image;	     /* image to run */
	const cJSON *merged;	     /* merged configuration (config-merge.h) */
	const cJSON *config;	     /* the configuration (for runArgs, appPort) */
	const char *workspace_mount; /* --mount string; NULL: none */
	const char *worktree_mount;  /* the git common dir's, after it; or NULL */
	int override_command;	     /* config_override_command() */
	const cJSON *image_config; /* the image's inspect "Config" (Entrypoint, Cmd); may
				      be NULL */
	const cJSON *labels;	   /* object of string labels to set */
	/* The reference's --mount: [{"type","source","target","external"}]
	 * mounted after the merged mounts ("external" is for Compose only);
	 * may be NULL. */
	const cJSON *extra_mounts;
	/* How runArgs' --env-file files are read (run-args.h); NULL: such an
	 * option is refused. */
	const struct run_args_files *env_files;
};

/* A new create body (caller frees with cJSON_Delete), or NULL with *cause set
 * naming the property ("mounts[1]: ...", "runArgs[0]: ..."). *name gets the
 * container name from runArgs --name (NULL if none; caller frees) and
 * *warnings gets warnings (NULL-terminated, free with
 * container_spec_warnings_free(); may be NULL). */
cJSON *container_spec_create_body(
    const struct container_spec_input *in, char **name, char ***warnings, char **cause);

/* Check what of the configuration itself (config: substituted, not merged)
 * container_spec_create_body() would refuse: its mounts, appPort and
 * runArgs, so that up refuses them before building or pulling anything.
 * runArgs' --env-file files are read through files (NULL: not read, taken
 * as empty). 0, or -1 with *cause set as container_spec_create_body() sets
 * it, *property the property ("mounts", "appPort", "runArgs"; static) and
 * *index the element at fault (-1: the property as a whole). */
int container_spec_check(const cJSON *config, const struct run_args_files *files,
    const char **property, int *index, char **cause);

/* The host policy's limitContainers (host-policy.h): the container may use
 * at most the cpus and memory of merged's hostRequirements (HostConfig
 * NanoCpus and Memory, as `docker run --cpus --memory`); nothing for those
 * it does not give. */
void container_spec_limit(cJSON *body, const cJSON *merged);
void container_spec_warnings_free(char **warnings);

/* The shell script the entrypoint runs (the reference CLI's, byte for byte):
 * "echo Container started", a TERM trap, each entrypoint, exec "$@", then a
 * sleep loop. New string, caller frees. */
char *container_spec_entrypoint_script(const cJSON *entrypoints);

#endif
