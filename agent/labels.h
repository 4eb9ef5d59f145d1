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

/* The id labels (config_get_id_labels(): --id-label's replace the default
 * two), the metadata label (metadata_label: the JSON text of the merged
 * metadata entries), and dev.rdev.{owner_uid,owner_name,config_hash,version,
 * devcontainer_id}. New object of strings, caller frees. */
cJSON *labels_make(
    const struct config *cfg, const char *config_hash, const char *metadata_label);

/* The labels of where a container lives and who asked for it: the host's
 * hostId (host-usage.h; none when opts->host_id is NULL), the client
 * (owner.h's OWNER_CLIENT_LABEL: opts->client, else this process's
 * user@host) and, from the merged configuration's hostRequirements
 * (config_merge()'s form), the cpus, memory and storage it holds. */
void labels_add_placement(cJSON *labels, const struct up_opts *opts, const cJSON *merged);

/* Say on p, when container (its inspect) was made from another
 * configuration than config_hash, that it is used as it is. */
void labels_note_changed(
    const cJSON *container, const char *config_hash, const struct progress *p);

#endif
