/* host-policy.h - this host's policy for rdev (what it offers to placement,
 * who may use it, limits), read from $RDEV_AGENT_POLICY when that is set in
 * the agent's environment, else /etc/rdev/agent.json. No file means no
 * limits. The file is a JSON object (comments and trailing commas allowed):
 *
 *   "hostId"                 the name this host's containers are counted
 *                            under (label dev.rdev.host); default the
 *                            machine id (/etc/machine-id). Several test
 *                            hosts on one Docker engine differ by it.
 *   "capacity"               {"cpus","memory","storage","gpus"}: what the
 *                            host offers to placement, above or below what
 *                            it has; what is left out, it offers what it has.
 *                            Sizes as the spec writes them ("8gb", "512mb")
 *                            or a number of bytes.
 *   "maxEnvironmentsPerUser" running dev containers one owner may have here
 *   "allowedUsers"           login names allowed to create containers here
 *   "workspaceRoot"          where workspaces sent to this host live
 *                            (default ~/rdev/workspaces; "~/" is the agent
 *                            user's home)
 *   "limitContainers"        true: containers get --cpus/--memory from
 *                            their hostRequirements
 *   "idleStop"               a duration ("30m", or seconds): containers
 *                            unused that long are stopped (idle-watch.h);
 *                            `up --idle-stop` may ask for less, not more
 *
 * Ownership: a struct host_policy owns its strings and its allowed_users
 * array; host_policy_clear() frees them.
 */
#ifndef RDEV_HOST_POLICY_H
#define RDEV_HOST_POLICY_H

#include <cjson/cJSON.h>

/* The environment variable naming the policy file (tests, private hosts). */
#define HOST_POLICY_ENV "RDEV_AGENT_POLICY"
#define HOST_POLICY_DEFAULT_PATH "/etc/rdev/agent.json"
/* The label each container gets: the hostId of the host that made it. */
#define HOST_POLICY_HOST_LABEL "dev.rdev.host"

struct host_policy {
	char *path;	      /* the file read; NULL when there was none */
	char *host_id;	      /* never NULL after a successful load */
	int host_id_declared; /* host_id is the file's, not the machine id */
	char *workspace_root; /* absolute; never NULL after a successful load */
	/* Declared capacity, each < 0 when not declared. */
	double cpus;
	double memory;	/* bytes */
	double storage; /* bytes */
	double gpus;
	long max_envs_per_user; /* 0: no limit */
	cJSON *allowed_users;	/* array of strings; NULL: everyone */
	int limit_containers;
	long idle_stop; /* seconds; 0: none */
};

/* Read the policy (see above) into *p (need not be initialised). 0, or -1
 * with *cause naming the file and the property ("/etc/rdev/agent.json:
 * \"capacity\".\"cpus\": expected a number"); *p is then cleared. */
int host_policy_load(struct host_policy *p, char **cause);
/* Free what *p owns and zero it; safe on a zeroed struct. */
void host_policy_clear(struct host_policy *p);
/* The idle limit of a new `up`: asked (seconds, 0: not asked) within the
 * policy's idleStop (its default, and its most). 0: none. */
long host_policy_idle_stop(const struct host_policy *p, long asked);
/* May login name user create containers here? */
int host_policy_allows_user(const struct host_policy *p, const char *user);

/* The folder under which workspaces sent to this host live: the policy's
 * workspaceRoot, else ~/rdev/workspaces. The one place that says where
 * (uploads and clones of pool sources go there; "storage" is the free disk
 * under it). New absolute path (the caller frees) or NULL with *cause. */
char *host_policy_workspace_root(char **cause);

#endif
