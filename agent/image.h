/* image.h - getting the image a dev container runs: pull a named image, or
 * build the configuration's Dockerfile, and stamp the merged metadata into a
 * built image's devcontainer.metadata label.
 *
 * Builds go through the docker CLI (argv arrays, no shell); queries through
 * the Engine API (docker.h).
 */
#ifndef RDEV_IMAGE_H
#define RDEV_IMAGE_H

#include <cjson/cJSON.h>

#include "progress.h"

struct docker;
struct config;

/* Inspect image, pulling it first when it is not present locally. *inspect
 * gets the inspect object (caller frees). A failed pull is an error naming
 * the image with Docker's message. */
int image_ensure(struct docker *d, const char *image, const struct progress *p,
    cJSON **inspect, char **cause);

/* The repository of the images rdev builds for cfg: derived from the
 * workspace (rdev-<basename>-<devcontainerId>). Caller frees. */
char *image_build_repo(const struct config *cfg);
/* The tag rdev gives the image it builds for cfg: image_build_repo() and
 * the configuration hash. Caller frees. */
char *image_build_tag(const struct config *cfg, const char *config_hash);

/* docker build for a Dockerfile configuration (build.dockerfile/dockerFile,
 * build.context/context relative to the devcontainer.json's folder, without
 * one the Dockerfile's folder as the reference's, build.args, build.target,
 * build.options), tagged tag, as the reference builds it without BuildKit:
 * no_cache (--rebuild, --build-no-cache) adds
 * --no-cache; otherwise cache_from (--cache-from: an array of images, may
 * be NULL) and then build.cacheFrom give --cache-from. The builds here run
 * again once when Docker's build cache lost an image during the first
 * (build-run.h). */
int image_build_dockerfile(const struct config *cfg, const char *tag, int no_cache,
    const cJSON *cache_from, const struct progress *p, char **cause);

/* docker build of the folder dir with the Dockerfile text dockerfile
 * (given on stdin), tagged tag; no_cache adds --no-cache. The build's
 * output goes to p; a failure is "WHAT: docker ...:" and its last lines. */
int image_build_context(const char *dir, const char *dockerfile, const char *tag,
    int no_cache, const struct progress *p, const char *what, char **cause);

/* Give image from (a tag or an id) the devcontainer.metadata label
 * label_value, as a one-line build FROM it tagged each of tags
 * (NULL-terminated, at least one; from itself keeps its tag when it is
 * one of them). The same from and label give the same image again (the
 * build's cache). The build's output is not shown; p gets only the line
 * of a build run again (build-run.h). */
int image_set_metadata_label(const char *from, const char *const *tags,
    const char *label_value, const struct progress *p, char **cause);

/* The devcontainer.metadata entries of an inspected image or container (its
 * Config.Labels), parsed; an empty array when there is no label. Caller
 * frees; NULL with *cause for a malformed label. */
cJSON *image_metadata_entries(const cJSON *inspect, char **cause);

/* The Dockerfile and context of a Dockerfile configuration (obj,
 * devcontainer.json's object), as the reference picks them: the legacy
 * top-level "dockerFile" and "context" when "dockerFile" is there, else
 * "build"."dockerfile" and "build"."context" (one set, never mixed); each
 * borrowed, NULL when not a string. *legacy (may be NULL) says which. */
void image_dockerfile_keys(
    const cJSON *obj, const char **dockerfile, const char **context, int *legacy);

/* A label of an inspected image or container; borrowed, NULL if none. */
const char *image_label(const cJSON *inspect, const char *name);

/* The images a container replaced by `up --rebuild` or `--recreate` was
 * made from: its image and, for a Dockerfile configuration, the image now
 * under build_tag (the tag it was built as; may be NULL), and the images
 * under rdev's own tags of the workspace its image was built on: own_repo
 * (may be NULL) is the workspace's Features repository (feature-install.h),
 * whose images, and the UID-sync images built on them, are tagged by what
 * they were built from, so a rebuild from a changed base leaves the old
 * ones under their tags. Read before the rebuild moves the tags. A new
 * array of image ids (strings), children before parents; the caller frees
 * it with cJSON_Delete(). */
cJSON *image_replaced_find(struct docker *d, const cJSON *container,
    const char *build_tag, const char *own_repo);
/* Once the new container runs: remove those of ids that the rebuild left
 * dangling (no tag any more), or only under rdev's own tags (own_repo, as
 * above), and no container uses, with their untagged parents, as `docker
 * rmi` does. Says on p what it removed, and which dangling one it kept
 * because a container uses it; an image others build on stays quietly.
 * Nothing here fails the up. */
void image_replaced_remove(
    struct docker *d, const cJSON *ids, const char *own_repo, const struct progress *p);

#endif
