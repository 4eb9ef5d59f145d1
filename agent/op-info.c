/* op-info.c - the "info" operation: this host's facts for placement and
 * `rdev hosts ls` (docs/PROTOCOL.md, "info"): what it offers ("cpus",
 * "memory", "storage", "gpus": the policy's capacity where it declares one,
 * else what the host has, also given as "actual"), "load" (1 minute),
 * "environments" (its running dev containers) and "reserved" (what their
 * hostRequirements hold), "hostId", the policy's limits, and Docker's
 * version, with "dockerError" when Docker cannot be reached (not a failure:
 * the facts are still worth having; "dockerProblem" says which kind:
 * "permission", "down" or "other"; "dockerHost": DOCKER_HOST, when set: the
 * daemon asked is its, a unix:// socket, or none, rdev using no other). For `rdev doctor`
 * also the user it runs as, the host's clock ("time", ms since the epoch) and Docker's
 * root folder with the space free there. A malformed policy file is a failure: the host
 * cannot admit anything until it is fixed. */
#include "agent-ops.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "docker.h"
#include "host-policy.h"
#include "host-usage.h"
#include "xmalloc.h"

/* What kind of trouble a Docker connection error is (agent/docker-conn.c's
 * messages). */
static const char *
op_info_docker_problem(const char *derr)
{
	if (strstr(derr, "permission denied") != NULL)
		return "permission";
	if (strstr(derr, "is the Docker daemon running") != NULL)
		return "down";
	return "other";
}

void
op_info_cache_clear(struct op_info_cache *c)
{
	free(c->version);
	free(c->root_dir);
	memset(c, 0, sizeof *c);
}

/* Docker's version and root folder into c (fresh ones when c has none or
 * they are older than OP_INFO_CACHE_MS). 0, or -1 with *derr. */
static int
op_info_docker_static(struct docker *d, struct op_info_cache *c, char **derr)
{
	cJSON *version = NULL, *info = NULL;
	const cJSON *v;
	int status;

	if (c->version != NULL && c->root_dir != NULL &&
	    clock_now_ms() - c->at_ms < OP_INFO_CACHE_MS)
		return 0;
	op_info_cache_clear(c);
	if (docker_request(d, "GET", "/version", NULL, &status, &version, derr) != 0)
		return -1;
	if (status == 200 &&
	    cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(version, "Version")))
		c->version = xstrdup(v->valuestring);
	cJSON_Delete(version);
	if (docker_request(d, "GET", "/info", NULL, &status, &info, derr) != 0)
		return -1;
	if (status == 200 &&
	    cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(info, "DockerRootDir")))
		c->root_dir = xstrdup(v->valuestring);
	cJSON_Delete(info);
	c->at_ms = clock_now_ms();
	return 0;
}

/* Docker's version and this host's facts with its environments into o (or
 * "dockerError"); the version and root folder from c when it has them. */
static void
op_info_docker(
    cJSON *o, const struct host_policy *p, struct op_info_cache *c, int timeout_ms)
{
	struct docker *d = docker_new(NULL);
	struct host_usage u;
	cJSON *facts, *item;
	char *derr = NULL;
	double free_bytes;
	int have_usage = 0;

	docker_set_deadline(d, timeout_ms); /* all requests together */
	if (op_info_docker_static(d, c, &derr) == 0 &&
	    host_usage_read(d, p, &u, &derr) == 0)
		have_usage = 1;
	if (derr != NULL)
		op_info_cache_clear(c); /* the daemon may be another one next time */
	if (c->version != NULL)
		cJSON_AddStringToObject(o, "dockerVersion", c->version);
	else
		cJSON_AddNullToObject(o, "dockerVersion");
	if (c->root_dir != NULL) {
		cJSON_AddStringToObject(o, "dockerRootDir", c->root_dir);
		if ((free_bytes = host_usage_disk_free(c->root_dir)) >= 0)
			cJSON_AddNumberToObject(o, "dockerRootFree", free_bytes);
	}
	facts = host_usage_facts(p, have_usage ? &u : NULL);
	if (have_usage) {
		char uid[32];

		/* (this agent's user: the one placement asks for) */
		snprintf(uid, sizeof uid, "%u", (unsigned)getuid());
		cJSON_AddNumberToObject(
		    facts, "userEnvironments", host_usage_owned(&u, uid));
	}
	while ((item = facts->child) != NULL)
		cJSON_AddItemToObject(
		    o, item->string, cJSON_DetachItemViaPointer(facts, item));
	cJSON_Delete(facts);
	if (have_usage)
		host_usage_clear(&u);
	if (derr != NULL) {
		const char *env = docker_host_env(d);

		cJSON_AddStringToObject(o, "dockerError", derr);
		cJSON_AddStringToObject(o, "dockerProblem", op_info_docker_problem(derr));
		/* (set by the account's shell startup files: the daemon may well
		 * run, on its usual socket, while this one names another) */
		if (env != NULL)
			cJSON_AddStringToObject(o, "dockerHost", env);
	}
	free(derr);
	docker_free(d);
}

int
op_info_collect(
    struct op_info_cache *cache, int docker_timeout_ms, cJSON **result, char **cause)
{
	struct passwd *pw = getpwuid(getuid());
	struct op_info_cache none = { 0 };
	struct host_policy p;
	struct timespec ts;
	cJSON *o;

	if (host_policy_load(&p, cause) != 0)
		return -1;
	if ((o = cJSON_CreateObject()) == NULL)
		fatal("out of memory");

	cJSON_AddStringToObject(o, "software", "rdev-agent " RDEV_VERSION);
	if (pw != NULL)
		cJSON_AddStringToObject(o, "user", pw->pw_name);
	clock_gettime(CLOCK_REALTIME, &ts);
	cJSON_AddNumberToObject(
	    o, "time", (double)ts.tv_sec * 1000 + (double)(ts.tv_nsec / 1000000));
	op_info_docker(o, &p, cache != NULL ? cache : &none, docker_timeout_ms);
	op_info_cache_clear(&none);
	host_policy_clear(&p);
	*result = o;
	return 0;
}

static int
op_info_run(const struct agent_op_req *r, cJSON **result, char **cause)
{
	(void)r;
	return op_info_collect(NULL, 0, result, cause);
}

const struct agent_op agent_op_info = { "info", 0, op_info_run,
	"this host's capacity and environments" };
