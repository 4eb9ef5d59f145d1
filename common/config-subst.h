/* config-subst.h - devcontainer.json variable substitution and devcontainerId.
 *
 * Matches @devcontainers/cli 0.89.0 (src/spec-common/variableSubstitution.ts):
 *
 * - A variable is "${" up to the first "}" with no line break (\n, \r, U+2028,
 *   U+2029) in between; its text is split at every ':' into NAME:ARG0:ARG1:...
 *   "${a${b}" is the variable "a${b"; "${" without a closing "}" stays as is.
 * - ${localEnv:VAR}, ${env:VAR} (alias), ${containerEnv:VAR}: the variable's
 *   value if set (even if empty), else ARG1 as default if given, else "". The
 *   default ends at the next ':' (${localEnv:X:a:b} gives "a" when X is unset).
 *   With no VAR at all (${localEnv}) the reference fails; see config_subst_checked().
 * - ${localWorkspaceFolder}, ${localWorkspaceFolderBasename},
 *   ${containerWorkspaceFolder}, ${containerWorkspaceFolderBasename}: basenames
 *   as node's path.posix.basename ("/a/b/" gives "b", "/" gives "").
 * - ${devcontainerId} (any ARGs ignored).
 * - Anything else, and a variable whose value is not known (NULL in the
 *   context), is left exactly as written.
 * - Only string values are substituted: object keys, numbers, booleans and
 *   null are copied unchanged. A substituted value is not substituted again by
 *   the same pass.
 *
 * Like the reference, substitution runs in passes, each over the result of the
 * one before: (1) local variables, (2) ${devcontainerId} if the context has
 * an id, (3) ${containerEnv:...} if the context has a container environment.
 * So a local variable whose value contains "${containerEnv:X}" gets X from the
 * container.
 *
 * Pure: no I/O, no globals (config_env_lookup_process reads the environment).
 */
#ifndef RDEV_CONFIG_SUBST_H
#define RDEV_CONFIG_SUBST_H

#include <cjson/cJSON.h>

/* Looks up a variable; returns NULL when unset. Borrowed result, valid at
 * least until the substitution call returns. */
typedef const char *(*config_env_lookup)(void *arg, const char *name);

struct config_subst_ctx {
	const char *local_workspace_folder; /* absolute path on the workspace host */
	/* Raw (unsubstituted) workspaceFolder, or NULL: variable left as written.
	 * Like the reference, it is itself substituted (pass 1) before use, with
	 * ${containerWorkspaceFolder} inside it standing for the raw value. */
	const char *container_workspace_folder;
	const char *devcontainer_id; /* may be NULL (or ""): left as written */
	config_env_lookup local_env; /* ${localEnv:}/${env:}; NULL: all unset */
	void *local_env_arg;
	/* NULL in the first pass: ${containerEnv:...} left as written. */
	config_env_lookup container_env;
	void *container_env_arg;
};

/* A deep copy of value with every string substituted (object keys are not,
 * as in the reference). Caller frees with cJSON_Delete. A variable the
 * reference rejects (${localEnv}, ${env}, ${containerEnv} without a name) is
 * left as written; use config_subst_checked() to get the reference's error. */
cJSON *config_subst(const cJSON *value, const struct config_subst_ctx *ctx);
/* As config_subst(), but returns NULL and sets *cause (caller frees) when a
 * string holds a variable the reference rejects, e.g.
 * "'${localEnv}' can not be resolved because no environment variable name is
 * given" (the caller may prefix the config file's name). */
cJSON *config_subst_checked(
    const cJSON *value, const struct config_subst_ctx *ctx, char **cause);
/* Only the reference's container pass (containerSubstitute): resolves
 * ${containerEnv:...} and nothing else. For a second pass over the result of
 * a first config_subst() without re-running the local pass on values that
 * came from variables. Returns NULL with *cause set as config_subst_checked().
 * Caller frees with cJSON_Delete. */
cJSON *config_subst_container(const cJSON *value, config_env_lookup container_env,
    void *container_env_arg, char **cause);
/* The reference's passes that need a container, over the result of a
 * config_subst() whose context had no id: ${devcontainerId} (when
 * devcontainer_id is not NULL: beforeContainerSubstitute()), then
 * ${containerEnv:...} (when container_env is not NULL: containerSubstitute()).
 * NULL with *cause set as config_subst_checked(). Caller frees with
 * cJSON_Delete. */
cJSON *config_subst_late(const cJSON *value, const char *devcontainer_id,
    config_env_lookup container_env, void *container_env_arg, char **cause);
/* One string, as config_subst(); caller frees. */
char *config_subst_string(const char *s, const struct config_subst_ctx *ctx);
/* The reference CLI's devcontainerId for this workspace folder and config file
 * path (both as the reference labels the container: absolute, normalized, e.g.
 * "/home/me/proj" and "/home/me/proj/.devcontainer/devcontainer.json"): the
 * sha256 of the JSON {"devcontainer.config_file":...,"devcontainer.local_folder":...}
 * as a base-32 number (0-9a-v), zero-padded to 52 characters. Caller frees. */
char *config_devcontainer_id(const char *local_workspace_folder, const char *config_file);
/* The same for any id labels ("NAME=VALUE", NULL-terminated; the reference's
 * --id-label), as its devcontainerIdForLabels() hashes them: names sorted, a
 * name given twice with its last value. Caller frees. */
char *config_devcontainer_id_labels(char *const *labels);
/* Convenience lookup over the process environment (arg unused). */
const char *config_env_lookup_process(void *arg, const char *name);

#endif
