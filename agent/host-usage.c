/* host-usage.c - what this host's running dev containers hold
 * (host-usage.h). */
#include "host-usage.h"

#include <stdlib.h>
#include <string.h>

#include "config-merge.h"
#include "docker.h"
#include "host-policy.h"
#include "xmalloc.h"

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
