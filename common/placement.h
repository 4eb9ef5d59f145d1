/* placement.h - choosing a pool host for a configuration (pure: no I/O).
 *
 * A host is described as `rdev hosts ls --json` prints it: {"name","state":
 * "up"|"down","error","cpus","memory","storage","gpus","load","reserved":
 * {"cpus","memory","storage"},...}: what the host offers (its policy's
 * capacity, or what it has) and what its running environments reserve.
 *
 * A host fits when it is up and what it offers minus what is reserved
 * covers each of the requirements (cpus, memory, storage; a GPU when "gpu"
 * is required), and the user is below the host's maxEnvironmentsPerUser
 * ("userEnvironments": the running dev containers of the user the host's
 * agent runs as). Among those that fit the least loaded wins: the fewest
 * reserved cpus relative to its cpus, then the lowest 1-minute load, then
 * the first in the pool.
 */
#ifndef RDEV_PLACEMENT_H
#define RDEV_PLACEMENT_H

#include <cjson/cJSON.h>

enum placement_gpu {
	PLACEMENT_GPU_NO = 0,	/* absent or false */
	PLACEMENT_GPU_REQUIRED, /* true, or an object ({cores, memory}) */
	PLACEMENT_GPU_OPTIONAL, /* "optional": never filters */
};

struct placement_req {
	double cpus;	/* 0: none */
	double memory;	/* bytes; 0: none */
	double storage; /* bytes; 0: none */
	enum placement_gpu gpu;
};

/* The requirements of a hostRequirements object (as devcontainer.json or
 * the merged configuration writes it; NULL: none) into *req. Sizes as the
 * spec writes them ("8gb"), or merged decimal strings of bytes. */
void placement_req_from_json(const cJSON *host_requirements, struct placement_req *req);

/* Why host does not fit req: a new string ("needs 64 cpus, has 4",
 * "unreachable (timeout)"), or NULL when it fits. */
char *placement_misfit(const cJSON *host, const struct placement_req *req);

/* The index in hosts of the host to use, or -1 when none fits; then
 * *reasons (when not NULL) gets a new array of strings, one per host,
 * "NAME: why". */
int placement_choose(
    const cJSON *hosts, const struct placement_req *req, cJSON **reasons);

/* bytes as a short text for people ("8 GiB", "512 MiB", "1.5 GiB") into buf. */
void placement_size_text(double bytes, char *buf, size_t len);

#endif
