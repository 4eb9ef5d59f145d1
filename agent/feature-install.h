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

struct feature_set;

/* Who the Features are installed for: the containerUser and remoteUser of
 * the merged metadata (each falling back as the reference's does), and the
 * base image's USER to restore afterwards (NULL or "": root). */
struct feature_install_users {
	const char *container_user;
	const char *remote_user;
	const char *image_user;
};

/* Build tag from base_image with fs's Features installed (fs->n > 0);
 * no_cache: --no-cache. 0, or -1 with *cause (the build's last lines name
 * the Feature whose install.sh failed). Nothing is left but what Docker's
 * build cache keeps. */
int feature_install_build(const struct feature_set *fs, const char *base_image,
    const struct feature_install_users *users, const char *tag, int no_cache,
    const struct progress *p, char **cause);

/* Append the entry each Feature adds to the devcontainer.metadata label, in
 * install order, to entries (an array), as the reference writes them
 * ({"id": the id as written, then its picked properties}). */
void feature_install_metadata(const struct feature_set *fs, cJSON *entries);

/* The Dockerfile feature_install_build() uses (exposed for tests). New
 * string, caller frees. */
char *feature_install_dockerfile(const struct feature_set *fs, const char *base_image,
    const struct feature_install_users *users);

#endif
