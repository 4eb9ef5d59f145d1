/* host-policy.c - this host's policy file (host-policy.h). */
#include "host-policy.h"

#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic-file.h"
#include "config-merge.h"
#include "error.h"
#include "idle-watch.h"
#include "json-get.h"
#include "jsonc.h"
#include "xmalloc.h"

/* A policy file is small: a larger one is a mistake. */
#define HOST_POLICY_MAX_BYTES (1024 * 1024)

/* The agent user's home: $HOME, else the password database. New, or NULL. */
static char *
host_policy_home(void)
{
	const char *h = getenv("HOME");
	struct passwd *pw;

	if (h != NULL && *h == '/')
		return xstrdup(h);
	if ((pw = getpwuid(getuid())) != NULL && pw->pw_dir != NULL)
		return xstrdup(pw->pw_dir);
	return NULL;
}

/* path with a leading "~" or "~/" made the home. New, or NULL with *cause. */
static char *
host_policy_expand(const char *path, char **cause)
{
	char *home, *out;

	if (path[0] != '~')
		return xstrdup(path);
	if (path[1] != '\0' && path[1] != '/') {
		error_set(cause, "\"%s\": only ~ and ~/ are understood", path);
		return NULL;
	}
	if ((home = host_policy_home()) == NULL) {
		error_set(cause, "cannot find the home folder (set HOME)");
		return NULL;
	}
	out = xasprintf("%s%s", home, path + 1);
	free(home);
	return out;
}

/* /etc/machine-id's first line, else the host name. New string. */
static char *
host_policy_machine_id(void)
{
	char *data = NULL, *cause = NULL, name[256];
	size_t len;

	if (file_read_all("/etc/machine-id", 4096, &data, &len, &cause) == 0) {
		data[strcspn(data, "\r\n")] = '\0';
		if (*data != '\0')
			return data;
	}
	free(data);
	free(cause);
	if (gethostname(name, sizeof name) == 0) {
		name[sizeof name - 1] = '\0';
		return xstrdup(name);
	}
	return xstrdup("unknown");
}

/* A capacity entry: a number (cpus, gpus) or a size (memory, storage). */
static int
host_policy_amount(const cJSON *cap, const char *key, int size, double *out,
    const char *path, char **cause)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(cap, key);

	*out = -1;
	if (v == NULL)
		return 0;
	if (cJSON_IsNumber(v) && v->valuedouble >= 0) {
		*out = v->valuedouble;
		return 0;
	}
	if (size && cJSON_IsString(v) && config_merge_parse_bytes(v) > 0) {
		*out = config_merge_parse_bytes(v);
		return 0;
	}
	return error_set(cause, "%s: \"capacity\".\"%s\": expected %s, got %s", path, key,
	    size ? "a size (\"8gb\", \"512mb\") or a number of bytes" : "a number",
	    json_type_name(v));
}

/* The parsed policy object root into *p. */
static int
host_policy_parse(struct host_policy *p, const cJSON *root, char **cause)
{
	const char *path = p->path;
	const cJSON *v, *cap, *u;

	if (!cJSON_IsObject(root))
		return error_set(cause, "%s: expected a JSON object", path);
	if ((v = cJSON_GetObjectItemCaseSensitive(root, "hostId")) != NULL) {
		if (!cJSON_IsString(v) || *v->valuestring == '\0')
			return error_set(
			    cause, "%s: \"hostId\": expected a non-empty string", path);
		free(p->host_id);
		p->host_id = xstrdup(v->valuestring);
		p->host_id_declared = 1;
	}
	if ((cap = cJSON_GetObjectItemCaseSensitive(root, "capacity")) != NULL) {
		if (!cJSON_IsObject(cap))
			return error_set(
			    cause, "%s: \"capacity\": expected an object", path);
		if (host_policy_amount(cap, "cpus", 0, &p->cpus, path, cause) != 0 ||
		    host_policy_amount(cap, "memory", 1, &p->memory, path, cause) != 0 ||
		    host_policy_amount(cap, "storage", 1, &p->storage, path, cause) !=
			0 ||
		    host_policy_amount(cap, "gpus", 0, &p->gpus, path, cause) != 0)
			return -1;
	}
	if (cJSON_GetObjectItemCaseSensitive(root, "maxEnvironmentsPerUser") != NULL &&
	    json_get_int(
		root, "maxEnvironmentsPerUser", 0, 1000000, &p->max_envs_per_user) != 0)
		return error_set(cause,
		    "%s: \"maxEnvironmentsPerUser\": expected a whole number >= 0", path);
	if ((v = cJSON_GetObjectItemCaseSensitive(root, "allowedUsers")) != NULL) {
		if (!cJSON_IsArray(v))
			return error_set(cause,
			    "%s: \"allowedUsers\": expected an array of user names",
			    path);
		cJSON_ArrayForEach(u, v) {
			if (!cJSON_IsString(u))
				return error_set(cause,
				    "%s: \"allowedUsers\": expected an array of user "
				    "names",
				    path);
		}
		p->allowed_users = cJSON_Duplicate(v, 1);
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(root, "workspaceRoot")) != NULL) {
		if (!cJSON_IsString(v) ||
		    (v->valuestring[0] != '/' && v->valuestring[0] != '~'))
			return error_set(cause,
			    "%s: \"workspaceRoot\": expected an absolute path (or ~/...)",
			    path);
		free(p->workspace_root);
		if ((p->workspace_root = host_policy_expand(v->valuestring, cause)) ==
		    NULL)
			return error_prefix(cause, "%s: \"workspaceRoot\"", path);
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(root, "idleStop")) != NULL) {
		p->idle_stop = cJSON_IsNumber(v) && v->valuedouble >= 1
		    ? (long)v->valuedouble
		    : cJSON_IsString(v) ? idle_watch_parse_duration(v->valuestring)
					: -1;
		if (p->idle_stop <= 0)
			return error_set(cause,
			    "%s: \"idleStop\": expected a duration (\"30m\", \"2h\") or "
			    "seconds",
			    path);
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(root, "limitContainers")) != NULL) {
		if (!cJSON_IsBool(v))
			return error_set(cause,
			    "%s: \"limitContainers\": expected true or false", path);
		p->limit_containers = cJSON_IsTrue(v);
	}
	return 0;
}

int
host_policy_load(struct host_policy *p, char **cause)
{
	const char *env = getenv(HOST_POLICY_ENV);
	const char *path = env != NULL && *env != '\0' ? env : HOST_POLICY_DEFAULT_PATH;
	struct jsonc_doc *doc = NULL;
	char *data = NULL, *err = NULL;
	size_t len;

	memset(p, 0, sizeof *p);
	p->cpus = p->memory = p->storage = p->gpus = -1;
	p->host_id = host_policy_machine_id();
	if ((p->workspace_root = host_policy_expand("~/rdev/workspaces", cause)) == NULL)
		goto fail;
	if (access(path, F_OK) != 0 && errno == ENOENT)
		return 0;
	p->path = xstrdup(path);
	if (file_read_all(path, HOST_POLICY_MAX_BYTES, &data, &len, &err) != 0) {
		error_set(cause, "host policy %s", err);
		free(err);
		goto fail;
	}
	if ((doc = jsonc_parse(path, data, len, cause)) == NULL)
		goto fail;
	if (host_policy_parse(p, jsonc_doc_root(doc), cause) != 0)
		goto fail;
	jsonc_doc_free(doc);
	free(data);
	return 0;

fail:
	jsonc_doc_free(doc);
	free(data);
	host_policy_clear(p);
	return -1;
}

void
host_policy_clear(struct host_policy *p)
{
	free(p->path);
	free(p->host_id);
	free(p->workspace_root);
	cJSON_Delete(p->allowed_users);
	memset(p, 0, sizeof *p);
}

long
host_policy_idle_stop(const struct host_policy *p, long asked)
{
	if (p->idle_stop > 0 && (asked <= 0 || asked > p->idle_stop))
		return p->idle_stop;
	return asked > 0 ? asked : 0;
}

int
host_policy_allows_user(const struct host_policy *p, const char *user)
{
	const cJSON *u;

	if (p->allowed_users == NULL)
		return 1;
	cJSON_ArrayForEach(u, p->allowed_users) {
		if (strcmp(u->valuestring, user) == 0)
			return 1;
	}
	return 0;
}

char *
host_policy_workspace_root(char **cause)
{
	struct host_policy p;
	char *root;

	if (host_policy_load(&p, cause) != 0)
		return NULL;
	root = p.workspace_root;
	p.workspace_root = NULL;
	host_policy_clear(&p);
	return root;
}
