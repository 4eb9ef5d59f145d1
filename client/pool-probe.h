/* pool-probe.h - asking a pool's hosts for their facts, all at once.
 *
 * One "pool-probe" request to the broker (broker/broker-probe.h): the broker
 * asks each entry's agent for "info" (docs/PROTOCOL.md) over the session it
 * holds for that host, all at once, and answers by the deadline, so a host
 * that accepts TCP and never speaks SSH costs no more than timeout_ms in
 * all: the hosts not answered by then are "down" with error "timeout". SSH
 * never prompts here (a host that needs a passphrase the ssh-agent lacks is
 * down, with the reason).
 */
#ifndef RDEV_POOL_PROBE_H
#define RDEV_POOL_PROBE_H

#include <cjson/cJSON.h>

#include "target.h"

/* The per-host probe deadline. */
#define POOL_PROBE_TIMEOUT_MS 5000

/* POOL_PROBE_TIMEOUT_MS, or $RDEV_POOL_PROBE_TIMEOUT_MS when a positive
 * number of ms (tests: a hung host given up sooner). */
int pool_probe_timeout_ms(void);

/* One object per entry of entries (pool-file.h's), in their order, as
 * `rdev hosts ls --json` prints them: the entry's "name", "pool", "labels",
 * "state" ("up"/"down"), "error" when down, and the agent's facts ("cpus",
 * "memory", "storage", "gpus", "load", "environments", "reserved", "hostId",
 * ...) when up. New array; never NULL. */
cJSON *pool_probe(const cJSON *entries, int timeout_ms, int accept_new_host_key);

/* entry name ([user@]host[:port] or an ssh_config alias) as a remote target
 * whose path is path. 0, or -1 with *cause; *t cleared either way first. */
int pool_probe_target(const char *name, const char *path, struct target *t, char **cause);

#endif
