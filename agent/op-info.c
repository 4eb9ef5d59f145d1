/* op-info.c - the "info" operation: this host's facts, {"cpus":N,
 * "memoryBytes":N,"diskFreeBytes":N (of /),"load1":X,"dockerVersion":S,
 * "devContainersRunning":N,"software":"rdev-agent 0.1.0"}, with "dockerError"
 * when Docker cannot be reached (not a failure: the facts are still worth
 * having). */
#include "agent-ops.h"

#include <sys/statvfs.h>

#include <stdlib.h>
#include <unistd.h>

#include "docker.h"
#include "xmalloc.h"

static int
op_info_run(const struct agent_op_req *r, cJSON **result, char **cause)
{
	const char *labels[] = { "devcontainer.local_folder", NULL };
	struct docker *d = docker_new(NULL);
	struct statvfs sv;
	cJSON *o = cJSON_CreateObject(), *version = NULL, *list = NULL;
	const cJSON *v;
	char *derr = NULL;
	double load[3];
	long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
	int status;

	if (o == NULL)
		fatal("out of memory");
	cJSON_AddStringToObject(o, "software", "rdev-agent " RDEV_VERSION);
	cJSON_AddNumberToObject(o, "cpus", (double)sysconf(_SC_NPROCESSORS_ONLN));
	cJSON_AddNumberToObject(
	    o, "memoryBytes", pages > 0 && psize > 0 ? (double)pages * (double)psize : 0);
	if (statvfs("/", &sv) == 0)
		cJSON_AddNumberToObject(
		    o, "diskFreeBytes", (double)sv.f_bavail * (double)sv.f_frsize);
	else
		cJSON_AddNullToObject(o, "diskFreeBytes");
	if (getloadavg(load, 1) == 1)
		cJSON_AddNumberToObject(o, "load1", load[0]);
	/* Docker trouble is reported in the answer, not as a failure: the host
	 * facts are still worth having (the broker shows why it is unusable). */
	if (docker_request(d, "GET", "/version", NULL, &status, &version, &derr) == 0 &&
	    status == 200 &&
	    cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(version, "Version")))
		cJSON_AddStringToObject(o, "dockerVersion", v->valuestring);
	else
		cJSON_AddNullToObject(o, "dockerVersion");
	if (derr == NULL && docker_container_list(d, labels, 0, &list, &derr) == 0)
		cJSON_AddNumberToObject(
		    o, "devContainersRunning", cJSON_GetArraySize(list));
	else
		cJSON_AddNullToObject(o, "devContainersRunning");
	if (derr != NULL)
		cJSON_AddStringToObject(o, "dockerError", derr);
	free(derr);
	cJSON_Delete(version);
	cJSON_Delete(list);
	docker_free(d);
	(void)cause;
	*result = o;
	return 0;
}

const struct agent_op agent_op_info = { "info", 0, op_info_run,
	"this host's capacity and environments" };
