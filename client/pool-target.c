/* pool-target.c - `@POOL SOURCE`: which host of the pool a workspace lives
 * on (pool-target.h). */
#include "pool-target.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent-ops.h"
#include "agent-state.h"
#include "atomic-file.h"
#include "cmd.h"
#include "config-discover.h"
#include "error.h"
#include "jsonc.h"
#include "log.h"
#include "placement.h"
#include "pool-file.h"
#include "pool-probe.h"
#include "shell-quote.h"
#include "source.h"
#include "xmalloc.h"

#define POOL_TARGET_FILE "placements.json"
#define POOL_TARGET_MAX_BYTES (4 * 1024 * 1024)

/* The placements file's entries ({"pool","source","host"}): a new array
 * (empty when there is none or it cannot be read). */
static cJSON *
pool_target_read(const char *path)
{
	char *data = NULL, *cause = NULL;
	size_t len;
	cJSON *root, *list;

	if (file_read_all(path, POOL_TARGET_MAX_BYTES, &data, &len, &cause) != 0) {
		free(cause);
		return cJSON_CreateArray();
	}
	root = cJSON_ParseWithLength(data, len);
	free(data);
	list = cJSON_DetachItemFromObjectCaseSensitive(root, "placements");
	cJSON_Delete(root);
	if (!cJSON_IsArray(list)) {
		cJSON_Delete(list);
		return cJSON_CreateArray();
	}
	return list;
}

/* An entry's string field, or "". */
static const char *
pool_target_field(const cJSON *e, const char *key)
{
	const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, key));

	return v != NULL ? v : "";
}

/* The path of placements.json (new), or NULL with *cause. */
static char *
pool_target_path(char **cause)
{
	char *dir = agent_state_dir(cause), *path;

	if (dir == NULL)
		return NULL;
	path = xasprintf("%s/%s", dir, POOL_TARGET_FILE);
	free(dir);
	return path;
}

char *
pool_target_remembered(const char *pool, const char *source)
{
	char *cause = NULL, *path = pool_target_path(&cause), *host = NULL;
	cJSON *list;
	const cJSON *e;

	free(cause);
	if (path == NULL)
		return NULL;
	list = pool_target_read(path);
	cJSON_ArrayForEach(e, list) {
		if (strcmp(pool_target_field(e, "pool"), pool) == 0 &&
		    strcmp(pool_target_field(e, "source"), source) == 0)
			host = xstrdup(pool_target_field(e, "host"));
	}
	cJSON_Delete(list);
	free(path);
	return host;
}

/* Remember host for (pool, source) (NULL: forget it), under the state
 * directory's lock so that two commands at once both keep theirs. 0, or -1
 * with *cause. */
static int
pool_target_remember_key(
    const char *pool, const char *source, const char *host, char **cause)
{
	char *dir = agent_state_dir(cause), *path, *text;
	cJSON *list, *root, *e, *next;
	int lock, rc;

	if (dir == NULL)
		return -1;
	if ((lock = agent_lock_acquire(dir, "placements", NULL, NULL, cause)) < 0) {
		free(dir);
		return -1;
	}
	path = xasprintf("%s/%s", dir, POOL_TARGET_FILE);
	list = pool_target_read(path);
	for (e = list->child; e != NULL; e = next) {
		next = e->next;
		if (strcmp(pool_target_field(e, "pool"), pool) == 0 &&
		    strcmp(pool_target_field(e, "source"), source) == 0)
			cJSON_Delete(cJSON_DetachItemViaPointer(list, e));
	}
	if (host != NULL) {
		e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "pool", pool);
		cJSON_AddStringToObject(e, "source", source);
		cJSON_AddStringToObject(e, "host", host);
		cJSON_AddItemToArray(list, e);
	}
	root = cJSON_CreateObject();
	cJSON_AddItemToObject(root, "placements", list);
	text = cJSON_Print(root);
	rc = atomic_file_write(path, text, strlen(text), 0600, cause);
	free(text);
	cJSON_Delete(root);
	agent_lock_release(lock);
	free(path);
	free(dir);
	return rc;
}

/* The hostRequirements of the configuration in the local folder source
 * (pool-target.h) into *pr. 0, or -1 with *cause (a devcontainer.json that
 * cannot be found or read). */
static int
pool_target_requirements(
    const char *source, const char *config, struct placement_req *pr, char **cause)
{
	struct jsonc_doc *doc = NULL;
	char *file = NULL, *data = NULL, *folder;
	size_t len;
	int rc = -1;

	memset(pr, 0, sizeof *pr);
	if ((folder = config_discover_resolve(NULL, source, cause)) == NULL)
		return -1;
	if (config != NULL)
		file = config_discover_resolve(folder, config, cause);
	else if (config_discover(folder, &file, cause) != 0)
		file = NULL;
	free(folder);
	if (file == NULL)
		return -1;
	if (file_read_all(file, POOL_TARGET_MAX_BYTES, &data, &len, cause) == 0 &&
	    (doc = jsonc_parse(file, data, len, cause)) != NULL) {
		placement_req_from_json(cJSON_GetObjectItemCaseSensitive(
					    jsonc_doc_root(doc), "hostRequirements"),
		    pr);
		rc = 0;
	}
	jsonc_doc_free(doc);
	free(data);
	free(file);
	return rc;
}

/* Say on stderr which host of the probed hosts placement chose (best) and
 * why, and each host it skipped with why (down, or too small): the host is
 * otherwise only in the result's "host" and the upload line. */
static void
pool_target_say_placed(const struct pool_target_req *req, const cJSON *hosts,
    const struct placement_req *pr, int best)
{
	const cJSON *h;
	char *skipped = xstrdup(""), *why, *more;
	int n = 0, fit = 0;

	cJSON_ArrayForEach(h, hosts) {
		n++;
		if ((why = placement_misfit(h, pr)) == NULL) {
			fit++;
			continue;
		}
		more = xasprintf("%s; %s: %s", skipped, pool_entry_name(h), why);
		free(skipped);
		skipped = more;
		free(why);
	}
	fprintf(stderr, "rdev: %s: @%s: placed on %s (%s%s)\n", req->cmd, req->pool,
	    pool_entry_name(cJSON_GetArrayItem(hosts, best)),
	    n == 1	   ? "the pool's only host"
		: fit == 1 ? "the only one of the pool's hosts that fits"
			   : "the least loaded of the hosts that fit",
	    skipped);
	free(skipped);
}

/* Probe members and choose one: its index, or -1 after printing why. A git
 * URL's requirements are unknown here (its configuration is on the host
 * once cloned): placement ranks the hosts alone, and the chosen host's
 * agent checks them at `up` (admission). */
static int
pool_target_place(const struct pool_target_req *req, int local, const cJSON *members)
{
	struct placement_req pr = { 0 };
	cJSON *hosts, *reasons = NULL;
	const cJSON *r;
	char *cause = NULL;
	int best;

	if (local &&
	    pool_target_requirements(req->source, req->config, &pr, &cause) != 0) {
		fprintf(stderr, "rdev: %s: %s\n", req->cmd, cause);
		free(cause);
		return -1;
	}
	hosts = pool_probe(members, pool_probe_timeout_ms(), req->accept_new_host_key);
	best = placement_choose(hosts, &pr, &reasons);
	if (best < 0) {
		fprintf(stderr, "rdev: %s: no host of @%s fits:\n", req->cmd, req->pool);
		cJSON_ArrayForEach(r, reasons)
			fprintf(stderr, "  %s\n", r->valuestring);
	} else if (log_get_level() > LOG_ERROR)
		pool_target_say_placed(req, hosts, &pr, best);
	cJSON_Delete(reasons);
	cJSON_Delete(hosts);
	return best;
}

/* `rdev CMD HOST: SOURCE`, shell-quoted where needed: how to reach the
 * container of a workspace on a host its pool no longer sends it to. New
 * string. */
static char *
pool_target_host_hint(const char *cmd, const char *host, const char *source)
{
	char *h = xasprintf("%s:", host), *q;
	const char *words[] = { "rdev", cmd, h, source, NULL };

	q = shell_quote_argv(words, SHELL_QUOTE_HINT);
	free(h);
	return q;
}

/* up places (pool, source) on host while it was placed on old, whose
 * container (if it is still there) is not moved nor removed: say so, with
 * how to remove it. in_pool: old is still a host of the pool (up --host
 * chose another), else it was removed from it. */
static void
pool_target_warn_moved(
    const struct pool_target_req *req, const char *old, const char *host, int in_pool)
{
	char *down = pool_target_host_hint("down", old, req->source);

	fprintf(stderr,
	    "rdev: %s: warning: @%s %s was placed on %s%s; placing it on %s "
	    "makes a second environment: the one on %s, if it is still there, "
	    "keeps running (remove it with `%s`)\n",
	    req->cmd, req->pool, req->source, old,
	    in_pool ? "" : ", which is no longer in the pool", host, old, down);
	free(down);
}

/* pool_target_resolve with req->source the SOURCE's identity (an absolute
 * folder when local, else the URL). */
static int
pool_target_resolve_key(
    const struct pool_target_req *req, int local, struct target *t, char **entry)
{
	cJSON *all, *members = NULL;
	char *cause = NULL, *host = NULL, *old = NULL;
	int rc = CMD_EXIT_FAILURE, i;

	if ((all = pool_load(&cause)) == NULL) {
		fprintf(stderr, "rdev: %s: %s\n", req->cmd, cause);
		free(cause);
		return CMD_EXIT_FAILURE;
	}
	members = pool_members(all, req->pool);
	if (cJSON_GetArraySize(members) == 0) {
		fprintf(stderr,
		    "rdev: %s: pool %s has no hosts (add one with `rdev hosts add "
		    "--pool %s HOST`)\n",
		    req->cmd, req->pool, req->pool);
		goto out;
	}
	if (req->host != NULL) {
		if (pool_entry_find(members, req->host, req->pool) == NULL) {
			fprintf(stderr, "rdev: %s: %s is not a host of @%s\n", req->cmd,
			    req->host, req->pool);
			goto out;
		}
		host = xstrdup(req->host);
		old = req->place ? pool_target_remembered(req->pool, req->source) : NULL;
		if (old != NULL && strcmp(old, host) != 0)
			pool_target_warn_moved(req, old, host,
			    pool_entry_find(members, old, req->pool) != NULL);
	} else if (!req->place) {
		host = pool_target_remembered(req->pool, req->source);
		if (host == NULL) {
			char *pool = xasprintf("@%s", req->pool);
			char *up = agent_up_command_words("rdev",
			    (const char *const[]){ pool, req->source, NULL }, NULL);

			fprintf(stderr,
			    "rdev: %s: @%s %s has no host yet (run `%s` first)\n",
			    req->cmd, req->pool, req->source, up);
			free(up);
			free(pool);
			goto out;
		}
		if (pool_entry_find(members, host, req->pool) == NULL) {
			char *here = pool_target_host_hint(req->cmd, host, req->source);
			char *down = pool_target_host_hint("down", host, req->source);

			fprintf(stderr,
			    "rdev: %s: @%s %s was placed on %s, which is no longer "
			    "in the pool (its container there, if any: `%s`%s%s; "
			    "`rdev up @%s %s` places it anew)\n",
			    req->cmd, req->pool, req->source, host, here,
			    strcmp(req->cmd, "down") != 0 ? ", removed by " : "",
			    strcmp(req->cmd, "down") != 0 ? down : "", req->pool,
			    req->source);
			free(here);
			free(down);
			goto out;
		}
	} else {
		host = pool_target_remembered(req->pool, req->source);
		/* Back to the host it was placed on, while it is in the pool:
		 * the workspace's container is there. */
		if (host == NULL || pool_entry_find(members, host, req->pool) == NULL) {
			old = host;
			host = NULL;
			if ((i = pool_target_place(req, local, members)) < 0)
				goto out;
			host = xstrdup(pool_entry_name(cJSON_GetArrayItem(members, i)));
			if (old != NULL)
				pool_target_warn_moved(req, old, host, 0);
		}
	}
	/* The SOURCE goes to the host as in `HOST: SOURCE` (source.h): the
	 * target is the host alone. */
	if (pool_probe_target(host, "~", t, &cause) != 0) {
		fprintf(stderr, "rdev: %s: %s\n", req->cmd, cause);
		goto out;
	}
	t->kind = TARGET_HOST;
	free(t->path);
	t->path = NULL;
	*entry = host;
	host = NULL;
	rc = CMD_EXIT_OK;
out:
	free(cause);
	free(host);
	free(old);
	cJSON_Delete(members);
	cJSON_Delete(all);
	return rc;
}

int
pool_target_resolve(const struct pool_target_req *req, struct target *t, char **entry)
{
	struct pool_target_req r = *req;
	struct source src;
	char *cause = NULL;
	int rc;

	memset(t, 0, sizeof *t);
	*entry = NULL;
	if (source_parse(req->source, NULL, &src, &cause) != 0) {
		fprintf(stderr, "rdev: %s: %s\n", req->cmd, cause);
		free(cause);
		return CMD_EXIT_USAGE;
	}
	r.source = src.kind == SOURCE_LOCAL ? src.path : src.url;
	rc = pool_target_resolve_key(&r, src.kind == SOURCE_LOCAL, t, entry);
	source_clear(&src);
	return rc;
}

char *
pool_target_remembered_typed(const char *pool, const char *source)
{
	struct source src;
	char *cause = NULL, *host;

	if (source_parse(source, NULL, &src, &cause) != 0) {
		free(cause);
		return NULL;
	}
	host =
	    pool_target_remembered(pool, src.kind == SOURCE_LOCAL ? src.path : src.url);
	source_clear(&src);
	return host;
}

int
pool_target_remember(const char *pool, const char *source, const char *host, char **cause)
{
	struct source src;
	int rc;

	if (source_parse(source, NULL, &src, cause) != 0)
		return -1;
	rc = pool_target_remember_key(
	    pool, src.kind == SOURCE_LOCAL ? src.path : src.url, host, cause);
	source_clear(&src);
	return rc;
}
