/* workspace.h - from a workspace folder to its dev container(s).
 *
 * The configuration gives the id labels (devcontainer.local_folder,
 * devcontainer.config_file); Docker gives the container carrying them. For a
 * Compose workspace the other containers of its project come along
 * (com.docker.compose.project).
 */
#ifndef RDEV_WORKSPACE_H
#define RDEV_WORKSPACE_H

#include <cjson/cJSON.h>

struct config;
struct config_load_opts;
struct docker;

/* --mount-workspace-git-root as a command gives it. Not given, a workspace
 * with a container takes what its up did (LABELS_NO_GIT_ROOT): a later
 * plain exec, shell, ssh-proxy or up must start in the folder that
 * container has. A request's "noGitRoot" carries it: true NOT_MOUNTED,
 * false MOUNTED, absent AS_MADE (workspace_git_root_of()). */
enum workspace_git_root {
	WORKSPACE_GIT_ROOT_AS_MADE = 0, /* not given: as the container was made */
	WORKSPACE_GIT_ROOT_MOUNTED,	/* true: the git work tree is mounted */
	WORKSPACE_GIT_ROOT_NOT_MOUNTED, /* false: the folder itself */
};

/* The choice a request's "noGitRoot" member (may be NULL) carries. */
enum workspace_git_root workspace_git_root_of(const cJSON *no_git_root);
/* Add "noGitRoot" to req for git_root (nothing when AS_MADE). */
void workspace_git_root_add(cJSON *req, enum workspace_git_root git_root);
/* Is the git root left unmounted, for a workspace whose container (its
 * inspect; NULL: none) is container: git_root when given, else what the
 * container's LABELS_NO_GIT_ROOT says (mounted when it has none). */
int workspace_no_git_root(enum workspace_git_root git_root, const cJSON *container);

/* --mount-git-worktree-common-dir as a command gives it, kept as
 * LABELS_COMMON_DIR as --mount-workspace-git-root is kept (a request's
 * "gitWorktreeCommonDir": true MOUNTED, false NOT_MOUNTED, absent AS_MADE). */
enum workspace_common_dir {
	WORKSPACE_COMMON_DIR_AS_MADE = 0,
	WORKSPACE_COMMON_DIR_MOUNTED,
	WORKSPACE_COMMON_DIR_NOT_MOUNTED,
};

/* The choice a request's "gitWorktreeCommonDir" member (may be NULL) carries. */
enum workspace_common_dir workspace_common_dir_of(const cJSON *v);
/* Add "gitWorktreeCommonDir" to req for common_dir (nothing when AS_MADE). */
void workspace_common_dir_add(cJSON *req, enum workspace_common_dir common_dir);
/* Set lo's no_git_root and git_worktree_common_dir to the choices as given,
 * a choice not given as container's labels say (container NULL: the
 * defaults, git root mounted, no common dir). 1 when lo changed (load the
 * configuration again: the id labels that found container do not depend on
 * either), else 0. */
int workspace_mount_as_made(enum workspace_git_root git_root,
    enum workspace_common_dir common_dir, const cJSON *container,
    struct config_load_opts *lo);

struct workspace {
	struct config *cfg;    /* NULL after workspace_open_tolerant()'s fallback */
	cJSON *container;      /* inspect of the dev container; NULL if none */
	char *compose_project; /* its Compose project, or NULL */
	/* Without the dev container (workspace_all_containers()), for a
	 * Compose configuration: the project name it gives, whether what is
	 * left of that project was taken as this workspace's or not; or why it
	 * could not be had (`docker compose config` failed: a broken compose
	 * file, no Compose), for a warning. NULL when not looked for. */
	char *left_project;
	char *left_error;
	/* A Compose project that also holds another workspace's dev container
	 * (workspace_all_containers()): that workspace's folder, and the
	 * services kept for it ("db, app"); NULL when the project is this
	 * workspace's alone. Stop and down then act on this workspace's own
	 * dev container only: the last workspace to go takes the project. */
	char *shared_with;
	char *shared_kept;
};

/* Load the configuration of folder (config_file: --config or NULL) and find
 * its container by its id labels (id_labels: --id-label's ["NAME=VALUE",
 * ...], which replace the default ones, or NULL); the workspace folder is
 * the one that container was made with (WORKSPACE_GIT_ROOT_AS_MADE). 0 (ws->container may
 * be NULL: no container) or -1 with *cause. Clear with workspace_clear(). */
int workspace_open(const char *folder, const char *config_file, const cJSON *id_labels,
    struct docker *d, struct workspace *ws, char **cause);
/* workspace_open() for the commands that must still reach a container whose
 * devcontainer.json no longer loads (stop, down): when the configuration
 * cannot be read or fails its checks, the container is found by the id
 * labels the configuration would give (the folder deleted, or no
 * configuration file found in it: by the folder's label, and --config's,
 * config_bare_id_labels()); then ws->cfg is NULL and *config_error says why the
 * configuration could not be read (new string, for a warning; else NULL).
 * -1 with *cause (the configuration's own error when the labels cannot be
 * had either, or no container carries them). */
int workspace_open_tolerant(const char *folder, const char *config_file,
    const cJSON *id_labels, struct docker *d, struct workspace *ws, char **config_error,
    char **cause);
/* workspace_open_tolerant(), and when the folder's label alone names
 * several containers and pick_running: this user's own (owner_is()) when
 * there are any, and of those (else of all) the one running when exactly
 * one is (exec, run-user-commands: a command runs in it; stop and down take
 * none for another). Another user's running container does not win over
 * the user's own stopped one. */
int workspace_open_tolerant_pick(const char *folder, const char *config_file,
    const cJSON *id_labels, int pick_running, struct docker *d, struct workspace *ws,
    char **config_error, char **cause);
void workspace_clear(struct workspace *ws);
/* The container of folder whatever its configuration (one that cannot be
 * found or read: config_folder_id_labels()), as workspace_find_container()
 * finds it: 0 with *container (caller frees) or NULL, or -1 with *cause. */
int workspace_folder_container(const char *folder, const cJSON *id_labels,
    struct docker *d, cJSON **container, char **cause);
/* The container of cfg's workspace, found by its id labels in any state but
 * "removing", as the reference's findDevContainer() does: 0 with *container
 * its inspect (caller frees) or NULL when there is none, or -1 with *cause. */
int workspace_find_container(
    struct docker *d, const struct config *cfg, cJSON **container, char **cause);
/* The dev containers `up --id-label` made (rdev's labels, none of
 * devcontainer.local_folder), in any state, as Docker lists them, into
 * *list (caller frees with cJSON_Delete). 0, or -1 with *cause. */
int workspace_list_id_labelled(struct docker *d, cJSON **list, char **cause);
/* workspace_open() for a command that needs the container: no container is
 * -1 with *cause "no dev container for FOLDER (run `UP_CMD` first)", or,
 * when a container `up --id-label` made mounts the folder and no
 * --id-label was given, saying to give exec the one its up had.
 * git_root, common_dir: --mount-workspace-git-root and
 * --mount-git-worktree-common-dir as given (the workspace folder is then
 * the one such an up made). */
int workspace_open_existing(const char *folder, const char *config_file,
    const cJSON *id_labels, enum workspace_git_root git_root,
    enum workspace_common_dir common_dir, const char *up_cmd, struct docker *d,
    struct workspace *ws, char **cause);
/* The container's id (borrowed), or NULL. */
const char *workspace_container_id(const struct workspace *ws);
/* Ids of all containers of ws: the dev container and, for Compose, the rest of
 * its project; a Compose workspace without its dev container, the containers
 * left of the project its configuration names (found by the project's label,
 * when each is this workspace's, not another folder's of the same name;
 * ws->compose_project is set to it then; ws->left_project or ws->left_error
 * are set whenever the name was looked for: not when no Compose container on
 * the host is this workspace's, see workspace_left_name()). New NULL-terminated array
 * (free each and the array); empty when there is none. When the project holds another
 * workspace's dev container (in any state), only this workspace's own dev container
 * (if any), with ws->shared_with and ws->shared_kept set; with running_others
 * (for a stop), only when that dev container is running, paused or restarting
 * (a stopped one keeps nothing running). -1 with owner_check()'s *cause when
 * one of the project's is another user's (owner_check_list()). */
int workspace_all_containers(struct workspace *ws, struct docker *d, int running_others,
    char ***ids, char **cause);
void workspace_ids_free(char **ids);
/* ws->left_project (or ws->left_error) of a Compose workspace without its
 * dev container, when workspace_all_containers() did not look for it (no
 * container of the workspace is left): for down --volumes, whose project's
 * volumes outlive its containers. */
void workspace_left_name(struct workspace *ws, struct docker *d);
/* The state of a container as rdev names it everywhere (ls, status; docs/
 * CLI.md), from Docker's word (a list's "State", an inspect's
 * State.Status): "running", "paused", "restarting", or "stopped" for
 * created, exited, dead and removing; another word (a later Docker's) as it
 * is, "" as "stopped". Static or docker_state itself. */
const char *workspace_state_word(const char *docker_state);

#endif
