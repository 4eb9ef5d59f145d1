/* host-usage.h - what the running dev containers of this host hold: how
 * many there are, per owner, and the cpus, memory and storage their
 * hostRequirements reserve (labels dev.rdev.cpus, dev.rdev.memory,
 * dev.rdev.storage, set when a container is made: labels.c). A container is
 * this host's when its dev.rdev.host label is the policy's hostId; one
 * without that label (made by the reference CLI, or before rdev had it)
 * counts on a host that declares no hostId. */
#ifndef RDEV_HOST_USAGE_H
#define RDEV_HOST_USAGE_H

#include <cjson/cJSON.h>

struct docker;
struct host_policy;

#define HOST_USAGE_CPUS_LABEL "dev.rdev.cpus"
#define HOST_USAGE_MEMORY_LABEL "dev.rdev.memory"
#define HOST_USAGE_STORAGE_LABEL "dev.rdev.storage"

struct host_usage {
	int environments; /* running dev containers of this host */
	double cpus;	  /* reserved by them */
	double memory;	  /* bytes */
	double storage;	  /* bytes */
	cJSON *owners;	  /* {OWNER_UID: running count}; owned */
};

/* Count this host's running dev containers into *u (need not be
 * initialised). 0, or -1 with *cause (Docker unusable). */
int host_usage_read(
    struct docker *d, const struct host_policy *p, struct host_usage *u, char **cause);
/* Bytes free to the user under path, or its nearest existing parent; -1
 * when unknown. */
double host_usage_disk_free(const char *path);
/* The CPUs this process may run on: those online, within its affinity
 * and its cgroup's CPU quota (cgroup v2 cpu.max or v1 cpu.cfs_quota_us /
 * cpu.cfs_period_us, as a container sees its own). At least 1. */
int host_usage_cpus(void);
/* The whole CPUs of a cgroup CPU quota of quota us per period us ("max"
 * or a negative quota: none, 0; under one CPU: 1). */
int host_usage_quota_cpus(const char *quota, const char *period);
/* How many of them owner_uid has. */
int host_usage_owned(const struct host_usage *u, const char *owner_uid);
void host_usage_clear(struct host_usage *u);
/* This host's facts as the "info" operation gives them (docs/PROTOCOL.md):
 * "hostId", what it offers ("cpus", "memory", "storage" free under the
 * workspace root, "gpus": the policy's capacity where declared, else what
 * it has, also as "actual"), "load", "workspaceRoot",
 * "maxEnvironmentsPerUser" (when set), "environments" and "reserved" from u
 * (null when u is NULL: Docker unusable). New object. */
cJSON *host_usage_facts(const struct host_policy *p, const struct host_usage *u);

#endif
