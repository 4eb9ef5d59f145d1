/* up-internal.h - what up.c (`up` and `build`: up.h) shares with
 * up-lifecycle.c (its lifecycle step).
 *
 * Ownership: a struct up_state owns its configuration, Docker client, lock,
 * container inspect, merged configuration, Features and strings
 * (up_state_clear in up.c); opts and p are the caller's. */
#ifndef RDEV_UP_INTERNAL_H
#define RDEV_UP_INTERNAL_H

#include <cjson/cJSON.h>

#include "lifecycle.h"
#include "up-opts.h"

struct config;
struct docker;
struct feature_set;
struct progress;

/* Everything one `up` works with; freed by up_state_clear(). */
struct up_state {
	const struct up_opts *opts;
	const struct progress *p;
	struct config *cfg; /* NULL: it does not load (run-user-commands) */
	/* With cfg NULL: the workspace folder in the container
	 * (up_merged_recorded()); else NULL */
	char *workdir;
	int no_git_root; /* cfg loaded without the git root mounted */
	int common_dir;	 /* cfg loaded with --mount-git-worktree-common-dir */
	struct docker *docker;
	char *state_dir;
	char *config_hash;
	int lock_fd;
	cJSON *container;	      /* inspect of the workspace's container */
	cJSON *merged;		      /* merged configuration */
	struct feature_set *features; /* the configuration's, resolved */
	char *remote_user;	      /* NULL: the container's user */
	char *lock_text;	      /* opts->include_lockfile: the lockfile written */
	int lock_unreported;	      /* ... and its "Wrote" line left to the answer */
	/* the entries merged was made of, the first nmetadata the image's
	 * and the Features' (lifecycle_ctx's) */
	cJSON *metadata;
	int nmetadata;
	/* up_lifecycle_run() or up_lifecycle_initialize() failed: the
	 * reference's description of the failed step ("onCreateCommand from
	 * devcontainer.json failed."), or NULL */
	char *failed_description;
	/* The host's admission refused the new or restarted container
	 * (ADMISSION_REFUSED): nothing was made or started. */
	int refused;
};

/* up.c */
/* up_merged_for_container(), and into *metadata (when not NULL; new) the
 * entries it merged, the first *nmetadata of them the image's and the
 * Features' (the label's last is the configuration's own, as
 * config_metadata_label() wrote it), for the lifecycle steps' errors. */
int up_merged_for_container_meta(const struct config *cfg, const cJSON *container,
    cJSON **merged, cJSON **metadata, int *nmetadata, char **cause);
/* obj's string at path1 (and path2 under it, when not NULL), or NULL. */
const char *up_json_string(const cJSON *obj, const char *path1, const char *path2);

/* up-lifecycle.c */
/* Run s's lifecycle commands in its container as its remote user, with the
 * remote environment (and the secrets); s->container must be a current
 * inspect (up_check_running() makes it one). The steps up does not wait for
 * (--skip-non-blocking-commands) continue in a detached process. 0, or -1
 * with *cause. */
int up_lifecycle_run(struct up_state *s, char **cause);
/* Run s's initializeCommand on this host, its output and its commands as
 * progress. 0, or -1 with *cause. */
int up_lifecycle_initialize(struct up_state *s, char **cause);

#endif
