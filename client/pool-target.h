/* pool-target.h - `@POOL SOURCE`: which host of the pool a workspace lives
 * on.
 *
 * `rdev up @POOL SOURCE` probes the pool's hosts (pool-probe.h), keeps
 * those whose capacity minus what is reserved covers the configuration's
 * hostRequirements and takes the least loaded (placement.h); `--host NAME`
 * names the entry instead. The choice is remembered per (pool, source) in
 * placements.json in the state directory (agent-state.h), so every later
 * command with `@POOL SOURCE` goes to the same host.
 *
 * Interim, until SOURCE can be a local folder sent to the host or a git URL
 * cloned there: SOURCE is the workspace's folder on the host, as in
 * HOST:PATH; the hostRequirements are read from that path on this machine
 * when it is a folder here too (the devcontainer.json's own, without the
 * image's metadata), else there are none.
 */
#ifndef RDEV_POOL_TARGET_H
#define RDEV_POOL_TARGET_H

#include <cjson/cJSON.h>

#include "target.h"

struct pool_target_req {
	const char *cmd;    /* the command, for messages ("up") */
	const char *pool;   /* without '@' */
	const char *source; /* as typed */
	const char *config; /* --config, or NULL */
	const char *host;   /* --host, or NULL */
	int place;	    /* choose a host (up); else the remembered one */
	int accept_new_host_key;
};

/* Resolve req to the chosen host: *t the SSH target (its path the
 * workspace on that host), *entry the pool entry's name (new string). 0,
 * or an exit code (cmd.h's CMD_EXIT_*) after printing why on stderr ("rdev:
 * up: no host of @team fits:" and a line per host). */
int pool_target_resolve(
    const struct pool_target_req *req, struct target *t, char **entry);

/* The remembered host of (pool, source): a new string, or NULL. */
char *pool_target_remembered(const char *pool, const char *source);

#endif
