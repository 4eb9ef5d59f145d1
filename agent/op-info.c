/* op-info.c - the "info" operation: this host's facts for placement and
 * `rdev hosts ls` (docs/PROTOCOL.md, "info"): what it offers ("cpus",
 * "memory", "storage", "gpus": the policy's capacity where it declares one,
 * else what the host has, also given as "actual"), "load" (1 minute),
 * "environments" (its running dev containers) and "reserved" (what their
 * hostRequirements hold), "hostId", the policy's limits, and Docker's
 * version, with "dockerError" when Docker cannot be reached (not a failure:
 * the facts are still worth having). A malformed policy file is a failure:
 * the host cannot admit anything until it is fixed. */
#include "agent-ops.h"

#include <sys/statvfs.h>

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "docker.h"
#include "host-policy.h"
#include "host-usage.h"
#include "xmalloc.h"

/* Free bytes of the file system holding path, or of its nearest existing
 * parent (the workspace root may not exist yet). -1 when unknown. */
static double
op_info_disk_free(const char *path)
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
op_info_gpus(void)
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
op_info_actual(const struct host_policy *p)
{
	cJSON *a = cJSON_CreateObject();
	long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
	double disk = op_info_disk_free(p->workspace_root);

	if (a == NULL)
		fatal("out of memory");
	cJSON_AddNumberToObject(a, "cpus", (double)sysconf(_SC_NPROCESSORS_ONLN));
	cJSON_AddNumberToObject(
	    a, "memory", pages > 0 && psize > 0 ? (double)pages * (double)psize : 0);
	cJSON_AddNumberToObject(a, "storage", disk >= 0 ? disk : 0);
	cJSON_AddNumberToObject(a, "gpus", op_info_gpus());
	return a;
}

/* o[key] = the declared amount, else the actual one. */
static void
op_info_offer(cJSON *o, const cJSON *actual, const char *key, double declared)
{
	cJSON_AddNumberToObject(o, key,
	    declared >= 0
		? declared
		: cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(actual, key)));
}

/* Docker's part: "dockerVersion", "environments", "reserved" (or
 * "dockerError"). */
static void
op_info_docker(cJSON *o, const struct host_policy *p)
{
	struct docker *d = docker_new(NULL);
	struct host_usage u;
	cJSON *version = NULL, *reserved;
	const cJSON *v;
	char *derr = NULL;
	int status;

	if (docker_request(d, "GET", "/version", NULL, &status, &version, &derr) == 0 &&
	    status == 200 &&
	    cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(version, "Version")))
		cJSON_AddStringToObject(o, "dockerVersion", v->valuestring);
	else
		cJSON_AddNullToObject(o, "dockerVersion");
	if (derr == NULL && host_usage_read(d, p, &u, &derr) == 0) {
		cJSON_AddNumberToObject(o, "environments", u.environments);
		reserved = cJSON_AddObjectToObject(o, "reserved");
		cJSON_AddNumberToObject(reserved, "cpus", u.cpus);
		cJSON_AddNumberToObject(reserved, "memory", u.memory);
		cJSON_AddNumberToObject(reserved, "storage", u.storage);
		host_usage_clear(&u);
	} else {
		cJSON_AddNullToObject(o, "environments");
		cJSON_AddNullToObject(o, "reserved");
	}
	if (derr != NULL)
		cJSON_AddStringToObject(o, "dockerError", derr);
	free(derr);
	cJSON_Delete(version);
	docker_free(d);
}

static int
op_info_run(const struct agent_op_req *r, cJSON **result, char **cause)
{
	struct host_policy p;
	cJSON *o, *actual;
	double load[3];

	(void)r;
	if (host_policy_load(&p, cause) != 0)
		return -1;
	if ((o = cJSON_CreateObject()) == NULL)
		fatal("out of memory");
	cJSON_AddStringToObject(o, "software", "rdev-agent " RDEV_VERSION);
	cJSON_AddStringToObject(o, "hostId", p.host_id);
	actual = op_info_actual(&p);
	op_info_offer(o, actual, "cpus", p.cpus);
	op_info_offer(o, actual, "memory", p.memory);
	op_info_offer(o, actual, "storage", p.storage);
	op_info_offer(o, actual, "gpus", p.gpus);
	cJSON_AddItemToObject(o, "actual", actual);
	if (getloadavg(load, 1) == 1)
		cJSON_AddNumberToObject(o, "load", load[0]);
	else
		cJSON_AddNullToObject(o, "load");
	cJSON_AddStringToObject(o, "workspaceRoot", p.workspace_root);
	if (p.max_envs_per_user > 0)
		cJSON_AddNumberToObject(
		    o, "maxEnvironmentsPerUser", (double)p.max_envs_per_user);
	op_info_docker(o, &p);
	host_policy_clear(&p);
	*result = o;
	return 0;
}

const struct agent_op agent_op_info = { "info", 0, op_info_run,
	"this host's capacity and environments" };
