/* host-usage.c - what this host's running dev containers hold
 * (host-usage.h). */
#include "host-usage.h"

#include <sys/statvfs.h>

#include <dirent.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config-merge.h"
#include "docker.h"
#include "host-policy.h"
#include "xmalloc.h"

int
host_usage_quota_cpus(const char *quota, const char *period)
{
	char *end;
	long long q, p;

	if (quota == NULL || period == NULL)
		return 0;
	q = strtoll(quota, &end, 10);
	if (end == quota || q <= 0) /* ("max", or -1 in cgroup v1: none) */
		return 0;
	p = strtoll(period, &end, 10);
	if (end == period || p <= 0)
		return 0;
	return q / p < 1 ? 1 : q / p > INT_MAX ? INT_MAX : (int)(q / p);
}

/* The whole CPUs of this process's cgroup's quota (cgroup v2 cpu.max or
 * v1 cpu.cfs_quota_us / cpu.cfs_period_us, as a container sees its own),
 * 0 for none. */
static int
host_usage_cgroup_cpus(void)
{
	char line[128] = "", v1[64] = "", *sp;
	FILE *f;
	int n = 0;

	if ((f = fopen("/sys/fs/cgroup/cpu.max", "r")) != NULL) {
		if (fgets(line, sizeof line, f) != NULL &&
		    (sp = strchr(line, ' ')) != NULL) {
			*sp++ = '\0';
			n = host_usage_quota_cpus(line, sp);
		}
		fclose(f);
		return n;
	}
	if ((f = fopen("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", "r")) != NULL) {
		if (fgets(line, sizeof line, f) == NULL)
			line[0] = '\0';
		fclose(f);
		if ((f = fopen("/sys/fs/cgroup/cpu/cpu.cfs_period_us", "r")) != NULL) {
			if (fgets(v1, sizeof v1, f) != NULL)
				n = host_usage_quota_cpus(line, v1);
			fclose(f);
		}
	}
	return n;
}

/* The CPUs this process may run on (its affinity, within those online, and
 * its cgroup's quota: a container held to one CPU's time on two spends
 * that time spinning, and is throttled). */
int
host_usage_cpus(void)
{
	cpu_set_t set;
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	int n = online > 0 ? (int)online : 1, q;

	if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) < n)
		n = CPU_COUNT(&set);
	if ((q = host_usage_cgroup_cpus()) > 0 && q < n)
		n = q;
	return n;
}

/* A label of a container list entry, or NULL. */
static const char *
host_usage_label(const cJSON *c, const char *name)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(c, "Labels"), name));
}

/* A label holding a number of bytes or cpus; 0 when absent or malformed. */
static double
host_usage_amount(const cJSON *c, const char *name)
{
	const char *v = host_usage_label(c, name);
	char *end;
	double d;

	if (v == NULL)
		return 0;
	d = strtod(v, &end);
	return end != v && *end == '\0' && d > 0 ? d : 0;
}

/* Free bytes of the file system holding path, or of its nearest existing
 * parent (the workspace root may not exist yet). -1 when unknown. */
double
host_usage_disk_free(const char *path)
{
	char *p = xstrdup(path), *slash;
	struct statvfs sv;
	double free_bytes = -1;

	for (;;) {
		if (statvfs(*p != '\0' ? p : "/", &sv) == 0) {
			free_bytes = (double)sv.f_bavail * (double)sv.f_frsize;
			break;
		}
		if ((slash = strrchr(p, '/')) == NULL || *p == '\0')
			break;
		*slash = '\0';
	}
	free(p);
	return free_bytes;
}

/* NVIDIA devices (/dev/nvidia0, /dev/nvidia1, ...): the GPUs a container
 * could be given. */
static int
host_usage_gpus(void)
{
	DIR *dir = opendir("/dev");
	struct dirent *e;
	int n = 0;

	if (dir == NULL)
		return 0;
	while ((e = readdir(dir)) != NULL) {
		if (strncmp(e->d_name, "nvidia", 6) == 0 && e->d_name[6] >= '0' &&
		    e->d_name[6] <= '9' &&
		    strspn(e->d_name + 6, "0123456789") == strlen(e->d_name + 6))
			n++;
	}
	closedir(dir);
	return n;
}

/* What the host has: {"cpus","memory","storage","gpus"}. */
static cJSON *
host_usage_actual(const struct host_policy *p)
{
	cJSON *a = cJSON_CreateObject();
	long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
	double disk = host_usage_disk_free(p->workspace_root);

	if (a == NULL)
		fatal("out of memory");
	cJSON_AddNumberToObject(a, "cpus", (double)sysconf(_SC_NPROCESSORS_ONLN));
	cJSON_AddNumberToObject(
	    a, "memory", pages > 0 && psize > 0 ? (double)pages * (double)psize : 0);
	cJSON_AddNumberToObject(a, "storage", disk >= 0 ? disk : 0);
	cJSON_AddNumberToObject(a, "gpus", host_usage_gpus());
	return a;
}

/* o[key] = the declared amount, else the actual one. */
static void
host_usage_offer(cJSON *o, const cJSON *actual, const char *key, double declared)
{
	cJSON_AddNumberToObject(o, key,
	    declared >= 0
		? declared
		: cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(actual, key)));
}

int
host_usage_read(
    struct docker *d, const struct host_policy *p, struct host_usage *u, char **cause)
{
	const char *labels[] = { CONFIG_METADATA_LABEL, NULL }, *host, *owner;
	const int unlabelled_ours = !p->host_id_declared;
	cJSON *list = NULL, *n;
	const cJSON *c;

	memset(u, 0, sizeof *u);
	if (docker_container_list(d, labels, 0, &list, cause) != 0)
		return -1;
	u->owners = cJSON_CreateObject();
	cJSON_ArrayForEach(c, list) {
		host = host_usage_label(c, HOST_POLICY_HOST_LABEL);
		if (host != NULL ? strcmp(host, p->host_id) != 0 : !unlabelled_ours)
			continue;
		u->environments++;
		u->cpus += host_usage_amount(c, HOST_USAGE_CPUS_LABEL);
		u->memory += host_usage_amount(c, HOST_USAGE_MEMORY_LABEL);
		u->storage += host_usage_amount(c, HOST_USAGE_STORAGE_LABEL);
		if ((owner = host_usage_label(c, "dev.rdev.owner_uid")) == NULL)
			continue;
		if ((n = cJSON_GetObjectItemCaseSensitive(u->owners, owner)) != NULL)
			cJSON_SetNumberValue(n, n->valuedouble + 1);
		else
			cJSON_AddNumberToObject(u->owners, owner, 1);
	}
	cJSON_Delete(list);
	return 0;
}

int
host_usage_owned(const struct host_usage *u, const char *owner_uid)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(u->owners, owner_uid);

	return cJSON_IsNumber(n) ? n->valueint : 0;
}

void
host_usage_clear(struct host_usage *u)
{
	cJSON_Delete(u->owners);
	memset(u, 0, sizeof *u);
}

cJSON *
host_usage_facts(const struct host_policy *p, const struct host_usage *u)
{
	cJSON *o = cJSON_CreateObject(), *actual, *reserved;
	double load[3];

	if (o == NULL)
		fatal("out of memory");
	cJSON_AddStringToObject(o, "hostId", p->host_id);
	actual = host_usage_actual(p);
	host_usage_offer(o, actual, "cpus", p->cpus);
	host_usage_offer(o, actual, "memory", p->memory);
	host_usage_offer(o, actual, "storage", p->storage);
	host_usage_offer(o, actual, "gpus", p->gpus);
	cJSON_AddItemToObject(o, "actual", actual);
	if (getloadavg(load, 1) == 1)
		cJSON_AddNumberToObject(o, "load", load[0]);
	else
		cJSON_AddNullToObject(o, "load");
	cJSON_AddStringToObject(o, "workspaceRoot", p->workspace_root);
	if (p->max_envs_per_user > 0)
		cJSON_AddNumberToObject(
		    o, "maxEnvironmentsPerUser", (double)p->max_envs_per_user);
	if (u == NULL) {
		cJSON_AddNullToObject(o, "environments");
		cJSON_AddNullToObject(o, "reserved");
		return o;
	}
	cJSON_AddNumberToObject(o, "environments", u->environments);
	reserved = cJSON_AddObjectToObject(o, "reserved");
	cJSON_AddNumberToObject(reserved, "cpus", u->cpus);
	cJSON_AddNumberToObject(reserved, "memory", u->memory);
	cJSON_AddNumberToObject(reserved, "storage", u->storage);
	return o;
}
