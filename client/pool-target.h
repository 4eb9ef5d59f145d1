/* pool-target.h - `@POOL SOURCE`: which host of the pool a workspace lives
 * on.
 *
 * `rdev up @POOL SOURCE` probes the pool's hosts (pool-probe.h), keeps
 * those whose capacity minus what is reserved covers the configuration's
 * hostRequirements and takes the least loaded (placement.h); `--host NAME`
 * names the entry instead. The choice is remembered per (pool, source) in
 * placements.json in the state directory (agent-state.h) when `up` runs there
 * (pool_target_remember; put back when the agent answers that it made no
 * container), so every later
 * command with `@POOL SOURCE` goes to the same host.
 *
 * SOURCE is what `HOST: SOURCE` takes (source.h): a local folder, uploaded
 * to the chosen host, or a git URL, cloned there; once resolved, the target
 * is that host alone (TARGET_HOST) and the SOURCE goes through the same
 * path as with a host named by hand (client_target_open). The choice is
 * remembered by the SOURCE's identity: the absolute folder (symlinks
 * resolved: `./app` typed from anywhere) or the URL. The hostRequirements
 * placement filters by are a local folder's devcontainer.json's own
 * (without the image's metadata); a git URL's configuration exists only in
 * the clone on the host, so placement ranks the hosts alone and the chosen
 * host's agent checks them at `up` (admission, agent/admission.h).
 */
#ifndef RDEV_POOL_TARGET_H
#define RDEV_POOL_TARGET_H

#include <cjson/cJSON.h>

#include "target.h"

struct pool_target_req {
	const char *cmd;    /* the command, for messages ("up") */
	const char *pool;   /* without '@' */
	const char *source; /* as typed: a local folder or a git URL */
	const char *config; /* --config, or NULL */
	const char *host;   /* --host, or NULL */
	int place;	    /* choose a host (up); else the remembered one */
	int accept_new_host_key;
};

/* Resolve req to the chosen host: *t the host alone (TARGET_HOST, path
 * NULL: the SOURCE follows), *entry the pool entry's name (new string). 0,
 * or an exit code (cmd.h's CMD_EXIT_*) after printing why on stderr ("rdev:
 * up: no host of @team fits:" and a line per host). */
int pool_target_resolve(
    const struct pool_target_req *req, struct target *t, char **entry);

/* Remember host for (pool, source as typed) in placements.json (host NULL:
 * forget it). `up` remembers its host before it runs (an `up` cut off, its
 * container made, is still found) and puts back what was remembered before
 * when the agent answers a failure with no container there (a refused `up`
 * does not lose where the workspace's container is). 0, or -1 with *cause. */
int pool_target_remember(
    const char *pool, const char *source, const char *host, char **cause);

/* The remembered host of (pool, source): a new string, or NULL. source is
 * the key (the absolute folder or the URL: pool_target_remember's). */
char *pool_target_remembered(const char *pool, const char *source);
/* pool_target_remembered for source as typed (`./app`). */
char *pool_target_remembered_typed(const char *pool, const char *source);

#endif
