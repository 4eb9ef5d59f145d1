/* config.h - loading a workspace's dev container configuration.
 *
 * The pipeline: find the file (config-discover), read it, parse it (jsonc),
 * validate it (config-validate), move the legacy extensions/settings/devPort
 * into customizations.vscode as the reference CLI does, work out the
 * workspace folder and mount, and substitute the local variables
 * (config-subst). What comes out is what the reference CLI prints as
 * "configuration" and "workspace" in `devcontainer read-configuration`.
 *
 * Image metadata is not read here (that needs Docker); merge it with
 * config-merge.h, substituting it with config_get_subst_ctx() first.
 *
 * Reads files; no other I/O. The process environment is read only through
 * the env lookup given in the options (default: the process environment).
 */
#ifndef RDEV_CONFIG_H
#define RDEV_CONFIG_H

#include <cjson/cJSON.h>

#include "config-subst.h"
#include "config-validate.h"
#include "jsonc.h"

struct config_load_opts {
	const char *workspace_folder; /* required; relative paths: to cwd */
	const char *config_file;      /* --config: overrides discovery; relative to cwd */
	config_env_lookup local_env;  /* ${localEnv:}; NULL: the process environment */
	void *local_env_arg;
	/* Mount the workspace folder itself rather than its git work tree (the
	 * reference CLI's --mount-workspace-git-root=false). */
	int no_git_root;
	/* --mount-git-worktree-common-dir: when the mounted git root is a work
	 * tree made with relative paths (its .git a file "gitdir: RELATIVE"),
	 * mount it below /workspaces as its path from the folder holding the
	 * common dir, and that common dir beside it (config_get_worktree_mount()),
	 * as the reference does; no effect with no_git_root. */
	int git_worktree_common_dir;
	/* Leave ${devcontainerId} as written (config_get_object() and the
	 * substitution context), as the reference's read-configuration does
	 * until a container exists; config_get_devcontainer_id() still has it. */
	int keep_devcontainer_id;
	/* --override-config: read the configuration from this file (relative:
	 * to cwd) instead. The configuration file stays the one found (or
	 * config_file; or <folder>/.devcontainer/devcontainer.json when there
	 * is none): its path labels the container and relative paths in the
	 * configuration are taken from its folder, as the reference does. */
	const char *override_config;
	/* --id-label: "NAME=VALUE" strings (an array; NULL: the default
	 * devcontainer.local_folder and devcontainer.config_file). */
	const cJSON *id_labels;
};

struct config;

/* Load and check the configuration. Returns a new config (free with
 * config_free()) or NULL with *cause set (caller frees), e.g.
 * "/w/.devcontainer/devcontainer.json:7:19: \"forwardPorts\"[2]: expected a
 * number or \"host:port\" string, got object". */
struct config *config_load(const struct config_load_opts *opts, char **cause);
void config_free(struct config *cfg);
/* The id labels config_load() would give opts' workspace (see
 * config_get_id_labels()), found without reading the configuration: for the
 * commands that must still find a container whose devcontainer.json no
 * longer loads (stop, down). The workspace folder must exist, and the
 * configuration file must be found as config_load() finds it (else:
 * config_bare_id_labels()). New
 * NULL-terminated array (free with config_id_labels_free()) or NULL with
 * *cause. */
char **config_load_id_labels(const struct config_load_opts *opts, char **cause);
/* The id labels of opts' workspace as far as they are known without the
 * disk: opts' id_labels when given, else devcontainer.local_folder=<folder>
 * (the absolute path, as config_load() labels it), and
 * devcontainer.config_file=<--config> when opts names one. For stop and down
 * of a workspace whose folder was deleted, or whose configuration file is
 * gone. New NULL-terminated array (config_id_labels_free()), or NULL when the
 * current directory cannot be read for a relative path. */
char **config_bare_id_labels(const struct config_load_opts *opts);
void config_id_labels_free(char **labels);
/* The labels that say a container is opts' workspace folder's whatever its
 * configuration (opts' id_labels when given, else
 * devcontainer.local_folder=<folder> alone): for a workspace whose
 * configuration cannot be found. The folder must exist. New
 * NULL-terminated array (config_id_labels_free()) or NULL with *cause. */
char **config_folder_id_labels(const struct config_load_opts *opts, char **cause);

/* Accessors. Returned pointers are owned by cfg and valid until config_free(). */
/* The absolute path of the devcontainer.json. */
const char *config_get_file(const struct config *cfg);
/* The absolute workspace folder on this host ("local" in the spec). */
const char *config_get_local_folder(const struct config *cfg);
/* The configuration: validated, legacy properties moved, variables
 * substituted (except ${containerEnv:...}). No defaults are added. */
const cJSON *config_get_object(const struct config *cfg);
/* The same before substitution. */
const cJSON *config_get_raw(const struct config *cfg);
/* The parsed file, to locate values for messages. */
const struct jsonc_doc *config_get_doc(const struct config *cfg);
enum config_kind config_get_kind(const struct config *cfg);
/* The reference CLI's devcontainerId (52 base-32 digits), from the id
 * labels. */
const char *config_get_devcontainer_id(const struct config *cfg);
/* The labels that identify the workspace's container: "NAME=VALUE",
 * NULL-terminated; devcontainer.local_folder=<folder> and
 * devcontainer.config_file=<file> unless --id-label gave others. */
char *const *config_get_id_labels(const struct config *cfg);
/* Were the id labels given (--id-label) rather than the defaults? */
int config_id_labels_given(const struct config *cfg);
/* The file the configuration was read from: --override-config's, else
 * config_get_file(). */
const char *config_get_source_file(const struct config *cfg);
/* Warnings for the user, "FILE:LINE:COL: unknown property \"foo\"". */
const struct config_warnings *config_get_warnings(const struct config *cfg);
/* The substitution context of the first (local) pass, for image metadata. */
const struct config_subst_ctx *config_get_subst_ctx(const struct config *cfg);
/* The container's workspace folder: workspaceFolder, or the default
 * (/workspaces/<basename of the mounted folder>[/<subfolder>] for image and
 * Dockerfile, "/" for Compose). */
const char *config_get_workspace_folder(const struct config *cfg);
/* The workspace mount (a --mount string): workspaceMount, or the default bind
 * mount for image and Dockerfile; NULL for Compose unless set. */
const char *config_get_workspace_mount(const struct config *cfg);
/* The mount of a work tree's git common dir (a --mount string), as
 * config_load_opts' git_worktree_common_dir makes it, or NULL. Borrowed. */
const char *config_get_worktree_mount(const struct config *cfg);

/* The reference CLI's "workspace" object: {"workspaceFolder", "workspaceMount"}
 * as it prints them (keys whose value is unset are left out). New object;
 * the caller frees it with cJSON_Delete(). */
cJSON *config_workspace_json(const struct config *cfg);

/* Effective values of properties with defaults, read from obj (the
 * configuration or a merged configuration; NULL: all unset). */
/* overrideCommand: true for image and Dockerfile, false for Compose. */
int config_override_command(enum config_kind kind, const cJSON *obj);
/* updateRemoteUserUID: true. */
int config_update_remote_user_uid(const cJSON *obj);
/* waitFor: "updateContentCommand". Borrowed from obj or static. */
const char *config_wait_for(const cJSON *obj);
/* shutdownAction: "stopContainer" (image, Dockerfile) or "stopCompose". */
const char *config_shutdown_action(enum config_kind kind, const cJSON *obj);

/* The default workspaceFolder and workspaceMount for image and Dockerfile
 * configurations: the host folder mounted is mount_folder (the workspace
 * folder or its git root), at /workspaces/<basename>; the workspace folder is
 * the local folder's place below it. Both new strings, caller frees. */
char *config_default_workspace_folder(const char *mount_folder, const char *local_folder);
char *config_default_workspace_mount(const char *mount_folder);

/* Move the legacy top-level extensions, settings and devPort into
 * customizations.vscode, as the reference CLI's updateFromOldProperties does.
 * Modifies config (an object) in place. */
void config_update_legacy(cJSON *config);

/* Read a whole text file (at most 16 MiB). Returns a NUL-terminated string
 * the caller frees, or NULL with *cause set ("PATH: No such file ..."). */
char *config_read_text(const char *path, char **cause);

/* The image a Dockerfile build starts from, found as the reference CLI's
 * findBaseImage() does: the FROM of the target stage (or of the last stage
 * when target is NULL), following "FROM <stage>" to the stage it names, with
 * $VAR, ${VAR}, ${VAR:-word} and ${VAR:+word} taken from the ARGs before the
 * first FROM (build_args, an object of strings, overriding their defaults).
 * One instruction per line (no continuation lines), as in the reference.
 * Returns a new string (caller frees) or NULL when there is none. Pure. */
char *config_dockerfile_base_image(
    const char *text, const cJSON *build_args, const char *target);

#endif
