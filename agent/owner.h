/* owner.h - whose a dev container is. The owner is the host login user
 * rdev ran as when it made the container (label dev.rdev.owner_uid, with
 * dev.rdev.owner_name), or, for a container without the label (another tool
 * made it), the owner of its workspace folder. dev.rdev.owner_client names
 * who asked for it: the local user@machine of the client (informative; the
 * host user is what is checked).
 *
 * The agent refuses exec, shell, logs, status, forward (the relay operation,
 * which `rdev forward` and ssh-proxy's connections go by), stop, down and up
 * on a container whose owner is another user, and read-configuration
 * substitutes no ${containerEnv:...} from it: several people may log in to
 * one Docker host, and Docker's socket lets each touch everything. For Compose, every
 * container of the project is checked (up, stop, down): two users' folders of the same
 * name make the same project name. Every service of a project rdev brings up
 * gets the owner labels; a container without them (another tool's, or a
 * service's made by an older rdev) is its folder owner's: devcontainer.
 * local_folder's, else its Compose project directory's.
 */
#ifndef RDEV_OWNER_H
#define RDEV_OWNER_H

#include <sys/types.h>

#include <cjson/cJSON.h>

#define OWNER_UID_LABEL "dev.rdev.owner_uid"
#define OWNER_NAME_LABEL "dev.rdev.owner_name"
#define OWNER_CLIENT_LABEL "dev.rdev.owner_client"
/* Compose's label of a service container's project directory. */
#define OWNER_COMPOSE_DIR_LABEL "com.docker.compose.project.working_dir"

/* Is the container with these labels (an object of strings; a container
 * list entry's "Labels" or an inspect's Config.Labels) uid's? */
int owner_is(const cJSON *labels, uid_t uid);
/* May this process's user use and change the container (its inspect)? 0,
 * or -1 with *cause ("the dev container of FOLDER belongs to NAME (uid N),
 * not to you (ME): ..."). NULL inspect: 0. */
int owner_check(const cJSON *inspect, char **cause);
/* owner_check() of each entry of a container list (docker_container_list();
 * its "Labels"): 0, or -1 with the first other user's *cause, which names a
 * container that is not a dev container by its name, service and project
 * ("container P-db-1 (service db of Compose project P) belongs to NAME ...",
 * "... has no owner labels (...), and its folder (or Compose project
 * directory) DIR cannot be read (ERROR): ...", "... is not an absolute
 * path: ..." or "... is not yours (ME) but uid N's: ..."). */
int owner_check_list(const cJSON *list, char **cause);
/* The owner of the first container of list (a listing's entries) that is
 * not this user's (owner_is()), as a refusal names it: "NAME (uid N)" or
 * the uid alone, by its owner labels, else (none: an older rdev's, another
 * tool's) by the owner of its folder (devcontainer.local_folder, else its
 * Compose project directory); one whose folder cannot be read (gone, or
 * not searchable) is skipped: not known to be another user's. NULL when
 * none is known to be another user's. New string. */
char *owner_list_other_user(const cJSON *list);
/* The folder of the first container of list (a Compose project's,
 * docker_container_list()'s) that is not workspace folder's, or NULL when all
 * are. *is_folder (may be NULL) says what it is: 1, a workspace folder (the
 * container's devcontainer.local_folder, or, for another service, that of a
 * dev container of list with its project directory); 0, the Compose project
 * directory of a service whose dev container is not in list (or ""). Whose: one whose
 * Compose project directory is project_dir (the directory of the first compose file, or
 * NULL: the same compose files, which several workspaces may name on purpose) is; else a
 * dev container by its devcontainer.local_folder, which must be folder; another service
 * (no such label) by its Compose project directory, which must be in folder. Paths are
 * compared as written, then as the files they name (another spelling of the folder, a
 * symlink, is it). "" for a container that names no folder; every container is another's
 * when folder is NULL. A project's name is its folder's name: another folder of the same
 * name (/x/app, /y/app: app_devcontainer) makes the same one, and its containers are not
 * this workspace's to take, stop or remove. Borrowed from list. */
const char *owner_list_other_folder(
    const cJSON *list, const char *folder, const char *project_dir, int *is_folder);
/* The workspace folder of the dev container with these labels (an object
 * of strings: a listing entry's "Labels", an inspect's Config.Labels) when
 * it is not folder (compared as owner_list_other_folder() does); when it is
 * but its devcontainer.config_file is not config_file (NULL: not known; the
 * same folder's .devcontainer/front/ and .devcontainer/back/ are two
 * workspaces, as their id labels say), that configuration file; NULL when it
 * is this workspace's, or the container names no folder (or, in folder, no
 * configuration file). Whatever the project, a dev container is its own
 * workspace's alone: two configurations naming the same compose files and
 * service share the container, which one must not take, stop or remove for
 * the other. Borrowed from labels. */
const char *owner_other_dev_folder(
    const cJSON *labels, const char *folder, const char *config_file);
/* Is any container of list workspace folder's, by the same tests as
 * owner_list_other_folder()'s? 1 or 0. */
int owner_list_any_of_folder(
    const cJSON *list, const char *folder, const char *project_dir);
/* Who is asking, for OWNER_CLIENT_LABEL when the request does not say:
 * this process's user@host. New string. */
char *owner_client_default(void);

#endif
