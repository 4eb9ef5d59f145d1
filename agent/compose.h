/* compose.h - dev containers from Docker Compose (dockerComposeFile + service).
 *
 * docker compose (v2 plugin) is preferred, docker-compose (v1) supported, both
 * through their CLIs with argv arrays (which one a host has, and its version,
 * is remembered between ups: compose-cli-cache.h), as the reference CLI
 * (0.89.0, dockerCompose.ts) drives them:
 *   compose config                 (v2: --profile '*' --format json; v1: YAML)
 *   compose -p P -f ... [-f BUILD] build [--no-cache] [runServices + service]
 *   compose -p P -f ... -f OVERRIDE up -d [--no-recreate] [runServices + service]
 * The project name P is the reference's (compose-naming.h); the service's
 * container is found by the labels com.docker.compose.project=P and
 * com.docker.compose.service=S (never by name: v1 and v2 name containers
 * differently), and P can be read back from that label. The override
 * (compose-override.h: entrypoint wrapper, labels incl. the metadata label,
 * containerEnv, mounts, UID-sync image) is written atomically,
 * 0600, at a stable path: <agent state dir>/compose/<devcontainerId>/
 * docker-compose.rdev.json (JSON, which Compose reads as YAML); BUILD, the
 * build's --cache-from, as docker-compose.rdev-build.json beside it. v1's YAML
 * and the compose files' own "name" and "version" are read with libyaml
 * (compose-yaml.h).
 *
 * Features (feature-install.h) are installed on the service's image, as
 * the image or Dockerfile's result is for the other kinds of configuration
 * ("rdev-<folder>-<id>-features:<digest>"), and the override gives the
 * service that image (or the UID-sync image built on it), with the
 * Features' metadata entries in the merge and the label. The reference
 * builds them into the service's own build instead (docs/CONFORMANCE.md,
 * C6).
 *
 * A running container is reused; a stopped one is started with
 * `up -d --no-recreate` (no build, no Features, no UID sync: the container
 * keeps its image, as the reference's); with rebuild or recreate the
 * service's container is removed first (only that one, as the reference's
 * --remove-existing-container), so `up -d` creates it anew. The image
 * metadata comes from the service's image: its image: (pulled if missing) or
 * the image Compose built (<project>_<service> before Compose 2.8.0,
 * <project>-<service> since). The merged configuration is always read back
 * from the container's devcontainer.metadata label plus the updateable
 * properties (remoteUser, userEnvProbe, remoteEnv), as the reference's
 * getImageMetadataFromContainer does.
 */
#ifndef RDEV_COMPOSE_H
#define RDEV_COMPOSE_H

#include <cjson/cJSON.h>

#include "progress.h"

/* The label Compose gives each container of a project: its name. */
#define COMPOSE_LABEL_PROJECT "com.docker.compose.project"

struct config;
struct docker;
struct feature_set;
struct up_opts;
/* Bring the Compose project of cfg up so that its `service` container runs,
 * creating or reusing it, with features (cfg's, resolved; none: n is 0)
 * installed on the service's image for a new container
 * (feature-install.h), as opts say (up.h): rebuild builds the images
 * without cache and recreates the service's container, recreate recreates
 * it; build_no_cache builds without cache; cache_from is given to the
 * service's build (an override file of its own); mounts are added to the
 * service's volumes; progress goes to opts->progress. On success *container
 * gets the service container's inspect object, *merged the merged
 * configuration (image metadata + cfg; caller frees both) and *created 1 if
 * the container was created by this call (0 when an existing one was reused
 * or started). -1 with *cause on failure: a compose command's failure names
 * the command, its exit status and the last lines of its output;
 * ADMISSION_REFUSED (admission.h) with *cause when the host refused it. Expects
 * the workspace lock to be held (up.c). lock_text: as feature_lock_apply()'s
 * text (may be NULL), when the Features are built for a new container. */
int compose_up(const struct config *cfg, struct docker *d, const char *config_hash,
    const struct feature_set *features, const struct up_opts *opts, cJSON **container,
    cJSON **merged, int *created, char **lock_text, char **cause);

/* The image of cfg's service as `build` makes it, without a container:
 * `compose build` of the service (opts: build_no_cache, cache_from), then
 * its image (Compose's name for what it built, or its image:, pulled when
 * missing). *image (new string), *inspect and *service_user (the service's
 * user:, which Features fall back to; new string or NULL), all the
 * caller's, or -1 with *cause. Expects the workspace lock to be held. */
int compose_build_image(const struct config *cfg, struct docker *d,
    const struct up_opts *opts, char **image, cJSON **inspect, char **service_user,
    char **cause);

/* The project name of cfg's Compose configuration, as compose_up() names
 * it, without a container (`compose config` only): *project (new string)
 * and, when project_dir is not NULL, its directory (the first compose
 * file's, as Compose labels its containers; new string), or -1 with
 * *cause. For stop and down after the container is gone. */
int compose_project_name(const struct config *cfg, struct docker *d, char **project,
    char **project_dir, char **cause);
/* The project directory of cfg's Compose configuration (the first compose
 * file's, as compose_project_name() gives it) from devcontainer.json and
 * the files' paths alone, without running Compose: new string, or NULL
 * when the files cannot be named. */
char *compose_project_dir_of(const struct config *cfg);

#endif
