/* feature-install.h - an image with a configuration's Features installed.
 *
 * Built FROM the base image (the configuration's image, the Dockerfile's
 * result or the Compose service's image) as the reference CLI builds it
 * without BuildKit (containerFeaturesConfiguration.ts, getFeatureLayers):
 * the builtin env file (_CONTAINER_USER, _REMOTE_USER and their homes),
 * then per Feature in install order its containerEnv as ENV, its folder
 * copied in (with its options as devcontainer-features.env, sanitised
 * upper-case names) and its install.sh run as root through a wrapper that
 * sources both env files: one COPY and one RUN per Feature, so a changed
 * Feature rebuilds from its own layer on and the build cache keeps the
 * ones before it. Unlike the reference, the Features' folders are a plain
 * build context (no content image) and the final USER is the base image's.
 */
#ifndef RDEV_FEATURE_INSTALL_H
#define RDEV_FEATURE_INSTALL_H

#include <cjson/cJSON.h>

#include "progress.h"

struct config;
struct docker;
struct feature_set;

/* Who the Features are installed for: the containerUser and remoteUser of
 * the merged metadata (each falling back as the reference's does), and the
 * base image's USER to restore afterwards (NULL or "": root). */
struct feature_install_users {
	const char *container_user;
	const char *remote_user;
	const char *image_user;
};

/* What feature_install_build() builds from and with. */
struct feature_install_base {
	const char *image; /* the base image, as named */
	const char *id;	   /* its image id (what the name pointed to) */
	const struct feature_install_users *users;
	const char *repo; /* the built image's repository: REPO:<digest> */
	int no_cache;	  /* --no-cache (--rebuild, --build-no-cache) */
};

/* Build the image with fs's Features installed (fs->n > 0) on base, tagged
 * *tag (new string: base->repo, a colon and the first 12 hex digits of a
 * SHA-256 of everything the build reads: the Dockerfile, the base image's
 * id and the build context's tree). When an image of that tag exists and
 * base->no_cache is not set, nothing is built (the same inputs made it):
 * a new container from a warm cache costs no build. 0, or -1 with *cause
 * (the build's last lines name the Feature whose install.sh failed).
 * Nothing is left but what Docker keeps. */
int feature_install_build(const struct feature_set *fs,
    const struct feature_install_base *base, struct docker *d, const struct progress *p,
    char **tag, char **cause);

/* The repository of cfg's images with Features: image_build_repo() and
 * "-features". New string. */
char *feature_install_repo(const struct config *cfg);

/* Install fs's Features (fs->n > 0) on the image *name, inspected as
 * *inspect, whose devcontainer.metadata entries are entries, with
 * feature_install_build() into feature_install_repo(cfg); no_cache:
 * --no-cache. They are installed for the containerUser and remoteUser of
 * entries merged with cfg, else (containerUser) service_user, a Compose
 * service's user: (may be NULL), else the image's USER, as the reference's
 * findContainerUsers. On success *name and *inspect are the new image's
 * (the old ones freed) and entries has the Features' entries appended
 * (feature_install_metadata()); -1 with *cause leaves them as they were. */
int feature_install_image(const struct feature_set *fs, const struct config *cfg,
    const char *service_user, struct docker *d, int no_cache, const struct progress *p,
    char **name, cJSON **inspect, cJSON *entries, char **cause);

/* Append the entry each Feature adds to the devcontainer.metadata label, in
 * install order, to entries (an array), as the reference writes them
 * ({"id": the id as written, then its picked properties}). */
void feature_install_metadata(const struct feature_set *fs, cJSON *entries);

/* The Dockerfile feature_install_build() uses (exposed for tests). New
 * string, caller frees. */
char *feature_install_dockerfile(const struct feature_set *fs, const char *base_image,
    const struct feature_install_users *users);

#endif
