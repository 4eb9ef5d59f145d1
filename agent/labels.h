/* labels.h - the labels every dev container carries (labels.c), made the
 * same way by `up` for an image or Dockerfile (up.c) and for Compose
 * (compose.c). */
#ifndef RDEV_LABELS_H
#define RDEV_LABELS_H

#include <cjson/cJSON.h>

#include "progress.h"

struct config;
struct up_opts;

/* The label holding the hash of the configuration a container was made from. */
#define LABELS_CONFIG_HASH "dev.rdev.config_hash"

/* The label holding what the image and its Features give for forwardPorts,
 * portsAttributes and otherPortsAttributes (config_merge_ports_of_entries(),
 * as written, before substitution): with it the forwards of a reused
 * container tell the configuration's ports and keys from the image's
 * (config_merge_ports()). Containers made before rdev wrote it have none. */
#define LABELS_IMAGE_PORTS "dev.rdev.image_ports_attributes"

/* The label holding how many of the container's devcontainer.metadata
 * entries are the image's and its Features' (a decimal count): the rest,
 * at most one last entry, is the configuration's as it was made
 * (config_metadata_label()). Containers made before rdev wrote it have
 * none (labels_image_entry_count()). */
#define LABELS_IMAGE_ENTRIES "dev.rdev.image_metadata_entries"

/* The label of a container made by `up --mount-workspace-git-root false`
 * ("false"; none otherwise): its workspace folder is the folder itself, not
 * where it lies in its git work tree, and later commands that do not say
 * otherwise use that one (workspace.h's WORKSPACE_GIT_ROOT_AS_MADE). */
#define LABELS_NO_GIT_ROOT "dev.rdev.mount-workspace-git-root"
/* The label of a container made by `up --mount-git-worktree-common-dir`
 * ("true"; "false" otherwise): later commands that do not say otherwise
 * use its workspace folder (workspace.h's WORKSPACE_COMMON_DIR_AS_MADE). */
#define LABELS_COMMON_DIR "dev.rdev.mount-git-worktree-common-dir"

/* The id labels (config_get_id_labels(): --id-label's replace the default
 * two), the metadata label (metadata_label: the JSON text of the merged
 * metadata entries), LABELS_IMAGE_PORTS of image_entries (the image's and
 * Features' metadata entries, as written; may be NULL), LABELS_IMAGE_ENTRIES
 * (their count), and
 * dev.rdev.{owner_uid,owner_name,config_hash,version,devcontainer_id}. New
 * object of strings, caller frees. */
cJSON *labels_make(const struct config *cfg, const char *config_hash,
    const char *metadata_label, const cJSON *image_entries);

/* How many of entries (container's devcontainer.metadata entries, as
 * image_metadata_entries() gives them) are the image's and its Features':
 * its LABELS_IMAGE_ENTRIES when it has one (at most the entries' count),
 * else all but a last entry without an "id" (a Feature's has one), which a
 * configuration with none of the properties the label takes did not write:
 * then an image's last entry without an "id" is not counted. */
int labels_image_entry_count(const cJSON *container, const cJSON *entries);

/* The parsed LABELS_IMAGE_PORTS of container (its inspect), as written; NULL
 * when it has none or it is not a JSON object (then what the configuration
 * had at creation is not known). Caller frees with cJSON_Delete. */
cJSON *labels_image_ports(const cJSON *container);

/* A container label's value (raw, taken: freed here) substituted by every
 * pass the reference runs with a container: the local variables, the
 * devcontainerId and ${containerEnv:...} from container_env (its Config.Env
 * as env_from_json() gives it), then the container pass once more (the
 * reference runs it twice). NULL with *cause for a variable the reference
 * rejects (config_subst_checked()). Caller frees with cJSON_Delete. */
cJSON *labels_subst(
    const struct config *cfg, cJSON *raw, char **container_env, char **cause);

/* labels_image_ports() of container substituted with labels_subst(), into
 * *ports (NULL when the container has no such label); what `up` and
 * read-configuration both forward from. 0, or -1 with *cause. */
int labels_image_ports_subst(const struct config *cfg, const cJSON *container,
    char **container_env, cJSON **ports, char **cause);

/* The ports rdev forwards for a container (config_merge_ports()), as
 * read-configuration's "ports" gives them: image_raw (LABELS_IMAGE_PORTS as
 * written: labels_image_ports(), or config_merge_ports_of_entries() of a
 * container about to be made; NULL when not known) substituted with
 * labels_subst(), and the forwardPorts, portsAttributes and
 * otherPortsAttributes of merged and of cfg's configuration, each with
 * ${containerEnv:...} from container_env (may be NULL). Only those
 * properties are substituted: a variable the reference rejects elsewhere
 * fails the step that uses it, not the forwards. Into *ports (caller frees
 * with cJSON_Delete); 0, or -1 with *cause naming the file or the image's
 * metadata and the property. */
int labels_ports(const struct config *cfg, const cJSON *image_raw, const cJSON *merged,
    char **container_env, cJSON **ports, char **cause);

/* labels_ports() of a container about to be made from the image's and
 * Features' metadata entries (as written; may be NULL) and merged, without
 * its environment: 0, or -1 with *cause for a variable the reference
 * rejects in the ports. Called before the container is created, since a bad
 * variable in its frozen label would fail every later up. */
int labels_ports_check(
    const struct config *cfg, const cJSON *entries, const cJSON *merged, char **cause);

/* The labels of where a container lives and who asked for it: the host's
 * hostId (host-usage.h; none when opts->host_id is NULL), the client
 * (owner.h's OWNER_CLIENT_LABEL: opts->client, else this process's
 * user@host) and, from the merged configuration's hostRequirements
 * (config_merge()'s form), the cpus, memory and storage it holds. */
void labels_add_placement(cJSON *labels, const struct up_opts *opts, const cJSON *merged);

/* LABELS_NO_GIT_ROOT on labels of the container about to be made: "false"
 * when it does not mount its git root (no_git_root), else "true"; and
 * LABELS_COMMON_DIR "true" or "false" for common_dir (both always
 * written, so that a label its image carries does not decide). */
void labels_add_git_root(cJSON *labels, int no_git_root, int common_dir);

/* Was container (its inspect) made without its git root mounted
 * (LABELS_NO_GIT_ROOT "false")? */
int labels_no_git_root(const cJSON *container);
/* The --id-label NAME=VALUE words `up --id-label` gave the container whose
 * labels (an object of strings: a listing's "Labels") are labels, found as
 * its dev.rdev.devcontainer_id (their hash) says: of its labels, those not
 * rdev's own (dev.rdev.*, devcontainer.metadata, com.docker.compose.*), less
 * those its image carries with the same value (image_labels, may be NULL),
 * or all of them. New NULL-terminated array (config_id_labels_free()), or
 * NULL when neither hashes to that id. Pure. */
char **labels_id_labels_of(const cJSON *labels, const cJSON *image_labels);
/* Was container made with --mount-git-worktree-common-dir
 * (LABELS_COMMON_DIR "true")? */
int labels_common_dir(const cJSON *container);

/* Say on p, when container (its inspect) was made from another
 * configuration than config_hash, that it is used as it is. */
void labels_note_changed(
    const cJSON *container, const char *config_hash, const struct progress *p);

#endif
