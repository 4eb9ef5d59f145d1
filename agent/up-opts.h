/* up-opts.h - what `up` is asked to do (struct up_opts): the options of
 * up_run() (up.h) and of the Compose path (compose.h), apart so that compose.c
 * does not depend on up.c. */
#ifndef RDEV_UP_OPTS_H
#define RDEV_UP_OPTS_H

#include <cjson/cJSON.h>

#include "feature-lock.h"
#include "progress.h"
#include "workspace.h"

struct secrets;
struct host_policy;

struct up_opts {
	const char *workspace_folder; /* required */
	const char *config_file;      /* --config; NULL: discover */
	int rebuild;		      /* rebuild the image without cache, recreate */
	/* --mount-workspace-git-root: false mounts the workspace folder
	 * itself, not its git work tree (config_load_opts' no_git_root); not
	 * given, a container reused keeps what it was made with. */
	enum workspace_git_root git_root;
	/* --mount-git-worktree-common-dir (config_load_opts'
	 * git_worktree_common_dir); not given: as a reused container's up. */
	enum workspace_common_dir common_dir;
	int recreate; /* remove the container and create it anew */
	/* The reference CLI's lifecycle flags (lifecycle.h's LIFECYCLE_SKIP_*):
	 * return after waitFor, the rest in the background; run none of the
	 * five in-container steps; do not run postAttachCommand. */
	int skip_non_blocking;
	int skip_post_create;
	int skip_post_attach;
	/* run-user-commands' --prebuild and --stop-for-personalization
	 * (LIFECYCLE_PREBUILD, LIFECYCLE_STOP_FOR_PERSONALIZATION) */
	int prebuild;
	int stop_for_personalization;
	/* run-user-commands: skip_non_blocking drops the later steps, as the
	 * reference's does, instead of running them in the background as up's
	 * (LIFECYCLE_NO_BACKGROUND) */
	int no_background;
	/* The caller forwards the ports (the remote client): agent_op_up adds
	 * "ports" to the result for it; else forwardPorts are warned about as
	 * not forwarded. */
	int include_ports;
	/* The caller copies devcontainer-lock.json into the folder it
	 * uploaded (docs/PROTOCOL.md, "includeLockfile"): up_result's
	 * lockfile and build's answer carry it, and the agent prints no
	 * "Wrote" line of its own. */
	int include_lockfile;
	/* The reference CLI's other flags (docs/CLI.md, `up`), as the request
	 * carries them (docs/PROTOCOL.md); each NULL or 0 when not given: */
	const cJSON *remote_env;     /* --remote-env: {NAME: VALUE} */
	struct secrets *secrets;     /* --secrets-file (owned by the caller) */
	const cJSON *mounts;	     /* --mount: [{type,source,target,external}] */
	const char *override_config; /* --override-config FILE */
	const cJSON *id_labels;	     /* --id-label: ["NAME=VALUE", ...] */
	int build_no_cache;	     /* --build-no-cache */
	const cJSON *cache_from;     /* --cache-from: [IMAGE, ...] */
	/* devcontainer-lock.json: --no-lockfile, --frozen-lockfile. */
	enum feature_lock_mode lockfile;
	/* --additional-features: {ID: VALUE} as "features" (up and build). */
	const cJSON *additional_features;
	/* --dotfiles-repository, --dotfiles-install-command,
	 * --dotfiles-target-path (lifecycle.h's dotfiles step). */
	const char *dotfiles_repository;
	const char *dotfiles_install_command;
	const char *dotfiles_target_path;
	/* This host's hostId (host-policy.h) for a new container's
	 * dev.rdev.host label; NULL: none. */
	const char *host_id;
	/* This host's policy (host-policy.h): a new container is admitted by
	 * it (admission.h); NULL: no admission (tests, builds). */
	const struct host_policy *policy;
	/* Who asked, for the dev.rdev.owner_client label (owner.h); NULL: this
	 * process's user@host. */
	const char *client;
	/* The policy's limitContainers: a new container gets --cpus and
	 * --memory from its hostRequirements. */
	int limit_containers;
	/* What the user sees while it works (progress.json: --log-format
	 * json; progress.mask: the secrets). */
	struct progress progress;
};

#endif
