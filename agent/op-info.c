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

#include <stdlib.h>

#include "docker.h"
#include "host-policy.h"
#include "host-usage.h"
#include "xmalloc.h"

/* Docker's version and this host's facts with its environments into o (or
 * "dockerError"). */
static void
op_info_docker(cJSON *o, const struct host_policy *p)
{
	struct docker *d = docker_new(NULL);
	struct host_usage u;
	cJSON *version = NULL, *facts, *item;
	const cJSON *v;
	char *derr = NULL;
	int status, have_usage = 0;

	if (docker_request(d, "GET", "/version", NULL, &status, &version, &derr) == 0 &&
	    status == 200 &&
	    cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(version, "Version")))
		cJSON_AddStringToObject(o, "dockerVersion", v->valuestring);
	else
		cJSON_AddNullToObject(o, "dockerVersion");
	if (derr == NULL && host_usage_read(d, p, &u, &derr) == 0)
		have_usage = 1;
	facts = host_usage_facts(p, have_usage ? &u : NULL);
	while ((item = facts->child) != NULL)
		cJSON_AddItemToObject(
		    o, item->string, cJSON_DetachItemViaPointer(facts, item));
	cJSON_Delete(facts);
	if (have_usage)
		host_usage_clear(&u);
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
	cJSON *o;

	(void)r;
	if (host_policy_load(&p, cause) != 0)
		return -1;
	if ((o = cJSON_CreateObject()) == NULL)
		fatal("out of memory");
	cJSON_AddStringToObject(o, "software", "rdev-agent " RDEV_VERSION);
	op_info_docker(o, &p);
	host_policy_clear(&p);
	*result = o;
	return 0;
}

const struct agent_op agent_op_info = { "info", 0, op_info_run,
	"this host's capacity and environments" };
