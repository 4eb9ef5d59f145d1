/* workspace.c - from a workspace folder to its dev container(s). */
#include "workspace.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compose.h"
#include "config-discover.h"
#include "config.h"
#include "docker.h"
#include "error.h"
#include "image.h"
#include "labels.h"
#include "log.h"
#include "mount-stale.h"
#include "owner.h"
#include "path.h"
#include "shell-quote.h"
#include "up.h"
#include "xmalloc.h"

#define WORKSPACE_COMPOSE_PROJECT_LABEL "com.docker.compose.project"

static const char *
workspace_json_string(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* workspace_find_labelled()'s choice: running ones only, this user's only
 * (owner_is()). */
#define WORKSPACE_FIND_RUNNING 0x1
#define WORKSPACE_FIND_OWN 0x2

/* The container carrying labels (NAME=VALUE, NULL-terminated), as
 * workspace_find_container() says, of those flags choose; *count (may be
 * NULL): how many do. */
static int
workspace_find_labelled(struct docker *d, char *const *labels, unsigned flags,
    cJSON **container, int *count, char **cause)
{
	int running_only = (flags & WORKSPACE_FIND_RUNNING) != 0;
	cJSON *list = NULL, *c;
	const char *id, *state;
	int rc, n = 0;

	*container = NULL;
	rc = docker_container_list(d, (const char *const *)labels, 1, &list, cause);
	if (rc != 0)
		return -1;
	cJSON_ArrayForEach(c, list) {
		state = workspace_json_string(c, "State");
		id = workspace_json_string(c, "Id");
		if (id == NULL || (state != NULL && strcmp(state, "removing") == 0) ||
		    (running_only && (state == NULL || strcmp(state, "running") != 0)) ||
		    ((flags & WORKSPACE_FIND_OWN) &&
			!owner_is(
			    cJSON_GetObjectItemCaseSensitive(c, "Labels"), getuid())))
			continue;
		if (n++ == 0)
			rc = docker_container_inspect(d, id, container, cause);
		if (count == NULL || rc != 0)
			break;
	}
	cJSON_Delete(list);
	if (count != NULL)
		*count = n;
	return rc;
}

int
workspace_find_container(
    struct docker *d, const struct config *cfg, cJSON **container, char **cause)
{
	return workspace_find_labelled(
	    d, config_get_id_labels(cfg), 0, container, NULL, cause);
}

/* ws->compose_project from ws->container's label. */
static void
workspace_note_project(struct workspace *ws)
{
	const char *project;

	if (ws->container != NULL &&
	    (project = image_label(ws->container, WORKSPACE_COMPOSE_PROJECT_LABEL)) !=
		NULL)
		ws->compose_project = xstrdup(project);
}

enum workspace_git_root
workspace_git_root_of(const cJSON *no_git_root)
{
	if (!cJSON_IsBool(no_git_root))
		return WORKSPACE_GIT_ROOT_AS_MADE;
	return cJSON_IsTrue(no_git_root) ? WORKSPACE_GIT_ROOT_NOT_MOUNTED
					 : WORKSPACE_GIT_ROOT_MOUNTED;
}

void
workspace_git_root_add(cJSON *req, enum workspace_git_root git_root)
{
	if (git_root != WORKSPACE_GIT_ROOT_AS_MADE)
		cJSON_AddBoolToObject(
		    req, "noGitRoot", git_root == WORKSPACE_GIT_ROOT_NOT_MOUNTED);
}

int
workspace_no_git_root(enum workspace_git_root git_root, const cJSON *container)
{
	if (git_root != WORKSPACE_GIT_ROOT_AS_MADE)
		return git_root == WORKSPACE_GIT_ROOT_NOT_MOUNTED;
	return container != NULL && labels_no_git_root(container);
}

enum workspace_common_dir
workspace_common_dir_of(const cJSON *v)
{
	if (!cJSON_IsBool(v))
		return WORKSPACE_COMMON_DIR_AS_MADE;
	return cJSON_IsTrue(v) ? WORKSPACE_COMMON_DIR_MOUNTED
			       : WORKSPACE_COMMON_DIR_NOT_MOUNTED;
}

void
workspace_common_dir_add(cJSON *req, enum workspace_common_dir common_dir)
{
	if (common_dir != WORKSPACE_COMMON_DIR_AS_MADE)
		cJSON_AddBoolToObject(req, "gitWorktreeCommonDir",
		    common_dir == WORKSPACE_COMMON_DIR_MOUNTED);
}

int
workspace_mount_as_made(enum workspace_git_root git_root,
    enum workspace_common_dir common_dir, const cJSON *container,
    struct config_load_opts *lo)
{
	int no_git_root = workspace_no_git_root(git_root, container), common;

	if (common_dir != WORKSPACE_COMMON_DIR_AS_MADE)
		common = common_dir == WORKSPACE_COMMON_DIR_MOUNTED;
	else
		common = container != NULL && labels_common_dir(container);
	if (no_git_root == lo->no_git_root && common == lo->git_worktree_common_dir)
		return 0;
	lo->no_git_root = no_git_root;
	lo->git_worktree_common_dir = common;
	return 1;
}

/* workspace_open() with --mount-workspace-git-root as git_root. The
 * configuration is loaded again when the container found says its up did
 * not mount the git root: the id labels that find it do not depend on that
 * choice, only the workspace folder and mount do. */
static int
workspace_open_git(const char *folder, const char *config_file, const cJSON *id_labels,
    enum workspace_git_root git_root, enum workspace_common_dir common_dir,
    struct docker *d, struct workspace *ws, char **cause)
{
	struct config_load_opts lo = { 0 };

	memset(ws, 0, sizeof *ws);
	lo.workspace_folder = folder;
	lo.config_file = config_file;
	lo.id_labels = id_labels;
	lo.no_git_root = git_root == WORKSPACE_GIT_ROOT_NOT_MOUNTED;
	lo.git_worktree_common_dir = common_dir == WORKSPACE_COMMON_DIR_MOUNTED;
	if ((ws->cfg = config_load(&lo, cause)) == NULL)
		return -1;
	if (workspace_find_container(d, ws->cfg, &ws->container, cause) != 0)
		return -1;
	if (workspace_mount_as_made(git_root, common_dir, ws->container, &lo)) {
		config_free(ws->cfg);
		if ((ws->cfg = config_load(&lo, cause)) == NULL) {
			/* (a tolerant caller looks the container up again) */
			cJSON_Delete(ws->container);
			ws->container = NULL;
			return -1;
		}
	}
	workspace_note_project(ws);
	return 0;
}

int
workspace_open(const char *folder, const char *config_file, const cJSON *id_labels,
    struct docker *d, struct workspace *ws, char **cause)
{
	return workspace_open_git(folder, config_file, id_labels,
	    WORKSPACE_GIT_ROOT_AS_MADE, WORKSPACE_COMMON_DIR_AS_MADE, d, ws, cause);
}

int
workspace_open_tolerant(const char *folder, const char *config_file,
    const cJSON *id_labels, struct docker *d, struct workspace *ws, char **config_error,
    char **cause)
{
	return workspace_open_tolerant_pick(
	    folder, config_file, id_labels, 0, d, ws, config_error, cause);
}

int
workspace_open_tolerant_pick(const char *folder, const char *config_file,
    const cJSON *id_labels, int pick_running, struct docker *d, struct workspace *ws,
    char **config_error, char **cause)
{
	struct config_load_opts lo = { 0 };
	char **labels, *load_error = NULL, *why;
	cJSON *own_c = NULL, *run_c = NULL;
	int rc, bare = 0, n, running = 0, own = 0;

	*config_error = NULL;
	if (workspace_open(folder, config_file, id_labels, d, ws, &load_error) == 0)
		return 0;
	/* Failed after the configuration loaded (Docker): that is the error. */
	if (ws->cfg != NULL) {
		*cause = load_error;
		return -1;
	}
	lo.workspace_folder = folder;
	lo.config_file = config_file;
	lo.id_labels = id_labels;
	if ((labels = config_load_id_labels(&lo, cause)) == NULL) {
		/* The folder is gone (deleted on the host) or holds no
		 * configuration any more: the labels it had still name its
		 * container, which must stay stoppable and removable. */
		free(*cause);
		*cause = NULL;
		if ((labels = config_bare_id_labels(&lo)) == NULL) {
			*cause = load_error;
			return -1;
		}
		bare = 1;
	}
	rc = workspace_find_labelled(d, labels, 0, &ws->container, &n, cause);
	/* (several, one of them running: that one, for a command that runs
	 * in it; of the user's own when there are any: another user's running
	 * one does not win over the user's stopped one) */
	if (rc == 0 && bare && n > 1 && pick_running) {
		rc = workspace_find_labelled(
		    d, labels, WORKSPACE_FIND_OWN, &own_c, &own, cause);
		if (rc == 0 && own > 0) {
			n = own;
			cJSON_Delete(ws->container);
			ws->container = own_c;
		} else
			cJSON_Delete(own_c);
		if (rc == 0 && n > 1) {
			rc = workspace_find_labelled(d, labels,
			    WORKSPACE_FIND_RUNNING | (own > 0 ? WORKSPACE_FIND_OWN : 0),
			    &run_c, &running, cause);
			/* (none or several running: the first stays, for the
			 * "several" error below) */
			if (rc == 0 && running == 1) {
				n = 1;
				cJSON_Delete(ws->container);
				ws->container = run_c;
			} else
				cJSON_Delete(run_c);
		}
	}
	config_id_labels_free(labels);
	if (rc != 0) {
		free(load_error);
		return -1;
	}
	/* No container either (a --config typo, or none was ever made): the
	 * configuration's error is the answer, not "nothing to do". */
	if (ws->container == NULL) {
		*cause = load_error;
		return -1;
	}
	/* The folder's label alone names several (one per configuration file,
	 * as `--config` made them): none is taken for the others. */
	if (bare && n > 1) {
		why = xasprintf("%s (%d dev containers carry the folder's label%s: "
				"name one with --config)",
		    load_error, n,
		    pick_running ? (running == 0 ? ", none running" : ", several running")
				 : "");
		free(load_error);
		cJSON_Delete(ws->container);
		ws->container = NULL;
		*cause = why;
		return -1;
	}
	workspace_note_project(ws);
	*config_error = load_error;
	return 0;
}

int
workspace_folder_container(const char *folder, const cJSON *id_labels, struct docker *d,
    cJSON **container, char **cause)
{
	struct config_load_opts lo = { 0 };
	char **labels;
	int rc;

	*container = NULL;
	lo.workspace_folder = folder;
	lo.id_labels = id_labels;
	if ((labels = config_folder_id_labels(&lo, cause)) == NULL)
		return -1;
	rc = workspace_find_labelled(d, labels, 0, container, NULL, cause);
	config_id_labels_free(labels);
	return rc;
}

int
workspace_list_id_labelled(struct docker *d, cJSON **list, char **cause)
{
	/* (labels_make() writes both on every dev container, and nothing
	 * else: a Compose project's other services carry neither) */
	const char *labels[] = { OWNER_UID_LABEL, "dev.rdev.devcontainer_id", NULL };
	cJSON *c, *next;

	*list = NULL;
	if (docker_container_list(d, labels, 1, list, cause) != 0)
		return -1;
	for (c = (*list)->child; c != NULL; c = next) {
		next = c->next;
		if (cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(c, "Labels"),
			"devcontainer.local_folder") != NULL)
			cJSON_Delete(cJSON_DetachItemViaPointer(*list, c));
	}
	return 0;
}

/* Does the container c (a listing's entry) bind-mount folder, or its git
 * root (git_root, may be NULL), as up mounts a workspace folder? */
static int
workspace_mounts_folder(const cJSON *c, const char *folder, const char *git_root)
{
	const cJSON *m;
	const char *source, *dest;

	cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(c, "Mounts")) {
		if (mount_bind_of(m, folder, &source, &dest) ||
		    (git_root != NULL && mount_bind_of(m, git_root, &source, &dest)))
			return 1;
	}
	return 0;
}

/* The --id-label words up gave container c (a listing's entry), as a
 * command line takes them ("--id-label a=b --id-label c=d"), or NULL when
 * they cannot be told (labels_id_labels_of()). New string. */
static char *
workspace_id_label_words(struct docker *d, const cJSON *c)
{
	const char *image = workspace_json_string(c, "ImageID");
	cJSON *info = NULL;
	char **labels, *why = NULL, *line = NULL;
	const char **words;
	size_t n = 0, k;

	if (image != NULL && docker_image_inspect(d, image, &info, &why) != 0) {
		free(why);
		info = NULL;
	}
	labels = labels_id_labels_of(cJSON_GetObjectItemCaseSensitive(c, "Labels"),
	    cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(info, "Config"), "Labels"));
	cJSON_Delete(info);
	if (labels == NULL)
		return NULL;
	while (labels[n] != NULL)
		n++;
	words = xcalloc(2 * n + 1, sizeof *words);
	for (k = 0; k < n; k++) {
		words[2 * k] = "--id-label";
		words[2 * k + 1] = labels[k];
	}
	line = shell_quote_argv(words, SHELL_QUOTE_HINT);
	free(words);
	config_id_labels_free(labels);
	return line;
}

/* The id of this user's container `up --id-label` made for folder (one that
 * bind-mounts it, or its git root, as up mounts a workspace folder), or
 * NULL; *words: its --id-label words (workspace_id_label_words()), or NULL.
 * New strings. */
static char *
workspace_id_labelled_of(struct docker *d, const char *folder, char **words)
{
	cJSON *list = NULL, *c;
	const char *id;
	char *why = NULL, *found = NULL, *git_root;

	*words = NULL;
	if (workspace_list_id_labelled(d, &list, &why) != 0) {
		free(why);
		return NULL;
	}
	git_root = config_discover_git_root(folder);
	cJSON_ArrayForEach(c, list) {
		id = workspace_json_string(c, "Id");
		/* (another user's is not theirs to name: ls and status skip it) */
		if (id == NULL ||
		    !owner_is(cJSON_GetObjectItemCaseSensitive(c, "Labels"), getuid()) ||
		    !workspace_mounts_folder(c, folder, git_root))
			continue;
		found = xstrdup(id);
		*words = workspace_id_label_words(d, c);
		break;
	}
	free(git_root);
	cJSON_Delete(list);
	return found;
}

int
workspace_open_existing(const char *folder, const char *config_file,
    const cJSON *id_labels, enum workspace_git_root git_root,
    enum workspace_common_dir common_dir, const char *up_cmd, struct docker *d,
    struct workspace *ws, char **cause)
{
	char *id, *words;

	if (workspace_open_git(
		folder, config_file, id_labels, git_root, common_dir, d, ws, cause) != 0)
		return -1;
	if (ws->container == NULL) {
		/* (`up --id-label` made one here: another up makes a second) */
		if (!config_id_labels_given(ws->cfg) &&
		    (id = workspace_id_labelled_of(
			 d, config_get_local_folder(ws->cfg), &words)) != NULL) {
			if (words != NULL)
				error_set(cause,
				    "no dev container for %s by its folder: container "
				    "%.12s, which mounts it, was made with --id-label: "
				    "give its labels as its up had them (%s)",
				    folder, id, words);
			else
				error_set(cause,
				    "no dev container for %s by its folder: container "
				    "%.12s, which mounts it, was made with --id-label: "
				    "give the --id-label its up was given",
				    folder, id);
			free(words);
			free(id);
			return -1;
		}
		return error_set(
		    cause, "no dev container for %s (run `%s` first)", folder, up_cmd);
	}
	return 0;
}

void
workspace_clear(struct workspace *ws)
{
	config_free(ws->cfg);
	cJSON_Delete(ws->container);
	free(ws->compose_project);
	free(ws->left_project);
	free(ws->left_error);
	free(ws->shared_with);
	free(ws->shared_kept);
	memset(ws, 0, sizeof *ws);
}

const char *
workspace_container_id(const struct workspace *ws)
{
	return workspace_json_string(ws->container, "Id");
}

void
workspace_ids_free(char **ids)
{
	xstrv_free(ids);
}

/* Can a Compose workspace without its dev container have nothing left of
 * its project? 1 when no Compose container on the host is the workspace's
 * (owner_list_any_of_folder(): by its folder, or its compose files'
 * directory, named without running Compose), in one listing: then the
 * project name need not be had (`docker compose config`, ~0.5 s), for no
 * project of that name can be all this workspace's and not empty. 0 when
 * one may be, or the listing fails (looked for as before). */
static int
workspace_left_none(struct workspace *ws, struct docker *d)
{
	const char *labels[] = { WORKSPACE_COMPOSE_PROJECT_LABEL, NULL };
	char *dir = compose_project_dir_of(ws->cfg), *why = NULL;
	cJSON *list = NULL;
	int none = 0;

	if (docker_container_list(d, labels, 1, &list, &why) == 0)
		none = !owner_list_any_of_folder(
		    list, config_get_local_folder(ws->cfg), dir);
	else
		log_debug("%s: %s", config_get_local_folder(ws->cfg), why);
	free(why);
	free(dir);
	cJSON_Delete(list);
	return none;
}

/* A Compose workspace without its dev container: the project its
 * configuration names, when containers of it are left (another service, a
 * dev container removed by hand) and all of them are this workspace's
 * (owner_list_other_folder()), in ws->compose_project, so that stop and down
 * reach them (and their owner check). A configuration that does not load
 * leaves none: nothing to find; neither does a host with no Compose
 * container of this workspace (workspace_left_none()), without the name. One
 * whose project name cannot be had (`docker compose config` fails) neither,
 * with why in ws->left_error; the name, when had, is kept in
 * ws->left_project. */
static void
workspace_left_project(struct workspace *ws, struct docker *d)
{
	char *project = NULL, *dir = NULL, *why = NULL, *label;
	const char *labels[2];
	cJSON *list = NULL;

	if (ws->container != NULL || ws->compose_project != NULL || ws->cfg == NULL ||
	    config_get_kind(ws->cfg) != CONFIG_KIND_COMPOSE || workspace_left_none(ws, d))
		return;
	if (compose_project_name(ws->cfg, d, &project, &dir, &ws->left_error) != 0)
		return;
	ws->left_project = xstrdup(project);
	label = xasprintf(WORKSPACE_COMPOSE_PROJECT_LABEL "=%s", project);
	labels[0] = label;
	labels[1] = NULL;
	if (docker_container_list(d, labels, 1, &list, &why) == 0 &&
	    cJSON_GetArraySize(list) > 0 &&
	    owner_list_other_folder(list, config_get_local_folder(ws->cfg), dir, NULL) ==
		NULL) {
		ws->compose_project = project;
		project = NULL;
	}
	free(why);
	free(label);
	free(project);
	free(dir);
	cJSON_Delete(list);
}

void
workspace_left_name(struct workspace *ws, struct docker *d)
{
	if (ws->container != NULL || ws->compose_project != NULL ||
	    ws->left_project != NULL || ws->left_error != NULL || ws->cfg == NULL ||
	    config_get_kind(ws->cfg) != CONFIG_KIND_COMPOSE)
		return;
	compose_project_name(ws->cfg, d, &ws->left_project, NULL, &ws->left_error);
}

/* Add name to ws->shared_kept's list ("db, app"). */
static void
workspace_kept_add(struct workspace *ws, const char *name)
{
	char *s;

	if (ws->shared_kept == NULL) {
		ws->shared_kept = xstrdup(name);
		return;
	}
	s = xasprintf("%s, %s", ws->shared_kept, name);
	free(ws->shared_kept);
	ws->shared_kept = s;
}

int
workspace_all_containers(
    struct workspace *ws, struct docker *d, int running_others, char ***ids, char **cause)
{
	char *label, **out, *kept;
	const char *labels[2], *folder, *other, *id, *service, *mine, *state, *file;
	cJSON *list = NULL, *c, *labels_of;
	size_t n = 0;

	*ids = out = xcalloc(2, sizeof *out);
	workspace_left_project(ws, d);
	if (ws->container == NULL && ws->compose_project == NULL)
		return 0;
	if (ws->compose_project == NULL) {
		out[0] = xstrdup(workspace_container_id(ws));
		return 0;
	}
	label = xasprintf(WORKSPACE_COMPOSE_PROJECT_LABEL "=%s", ws->compose_project);
	labels[0] = label;
	labels[1] = NULL;
	if (docker_container_list(d, labels, 1, &list, cause) != 0) {
		free(label);
		return -1;
	}
	free(label);
	/* (the project's name is the folder's: another user's folder of the
	 * same name makes the same one) */
	if (owner_check_list(list, cause) != 0) {
		cJSON_Delete(list);
		return -1;
	}
	/* (a dev container of another workspace whose configuration names the
	 * same compose files is that workspace's: not stopped nor removed; and
	 * while it exists (for a stop: while it runs), neither is the rest of
	 * the project it runs with, its services, networks and volumes: this
	 * workspace's own dev container alone goes. A stop does not keep the
	 * services for a stopped one: the last running workspace's stop would
	 * keep them for a workspace stopped before it, and they would never
	 * stop) */
	folder = ws->cfg != NULL
	    ? config_get_local_folder(ws->cfg)
	    : image_label(ws->container, "devcontainer.local_folder");
	file = ws->cfg != NULL ? config_get_file(ws->cfg)
			       : image_label(ws->container, "devcontainer.config_file");
	cJSON_ArrayForEach(c, list) {
		labels_of = cJSON_GetObjectItemCaseSensitive(c, "Labels");
		state =
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "State"));
		if (running_others &&
		    strcmp(workspace_state_word(state != NULL ? state : ""), "stopped") ==
			0)
			continue;
		if ((other = owner_other_dev_folder(labels_of, folder, file)) != NULL) {
			ws->shared_with = xstrdup(other);
			break;
		}
	}
	out = xreallocarray(out, (size_t)cJSON_GetArraySize(list) + 1, sizeof *out);
	cJSON_ArrayForEach(c, list) {
		labels_of = cJSON_GetObjectItemCaseSensitive(c, "Labels");
		if ((id = workspace_json_string(c, "Id")) == NULL)
			continue;
		service = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
		    labels_of, "com.docker.compose.service"));
		state =
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "State"));
		if ((other = owner_other_dev_folder(labels_of, folder, file)) != NULL) {
			if (ws->shared_with != NULL &&
			    !(running_others &&
				strcmp(workspace_state_word(state != NULL ? state : ""),
				    "stopped") == 0)) {
				kept = strcmp(other, ws->shared_with) == 0
				    ? xasprintf("%s (its dev container)",
					  service != NULL ? service : id)
				    : xasprintf("%s (the dev container of %s)",
					  service != NULL ? service : id, other);
				workspace_kept_add(ws, kept);
				free(kept);
			}
			continue;
		}
		mine = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
		    labels_of, "devcontainer.local_folder"));
		if (ws->shared_with == NULL || (mine != NULL && *mine != '\0'))
			out[n++] = xstrdup(id);
		else
			workspace_kept_add(ws, service != NULL ? service : id);
	}
	out[n] = NULL;
	*ids = out;
	cJSON_Delete(list);
	return 0;
}

const char *
workspace_state_word(const char *docker_state)
{
	static const char *const kept[] = { "running", "paused", "restarting", NULL };
	static const char *const stopped[] = { "", "created", "exited", "dead",
		"removing", NULL };

	for (const char *const *w = kept; *w != NULL; w++)
		if (strcmp(docker_state, *w) == 0)
			return *w;
	for (const char *const *w = stopped; *w != NULL; w++)
		if (strcmp(docker_state, *w) == 0)
			return "stopped";
	return docker_state;
}
