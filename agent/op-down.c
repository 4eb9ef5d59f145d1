/* op-down.c - the "down" operation: remove the workspace's container(s)
 * and what Compose made for the project ("volumes": true, their volumes too,
 * and the named volumes of the configuration's mounts that no other
 * container uses). A dev container without Compose goes with its anonymous
 * volumes always (Docker's v=1 never removes a named one): nothing could
 * find them after it; Compose services' are kept, as `docker compose down`
 * keeps them. Answers {"outcome":"success","removed":N}; no container
 * is N = 0. With "volumes", also "removedVolumes" (names) and "keptVolumes"
 * ([{"name","reason"}]: used by another container, or Docker's refusal);
 * a Compose project's volumes are among "removedVolumes", found by its name
 * when a plain down removed its containers before. With no container a
 * warning says what only the container knew and so was not looked for. */
#include "agent-ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent-state.h"
#include "atomic-file.h"
#include "buf.h"
#include "compose.h"
#include "config-subst.h"
#include "compose-override.h"
#include "config.h"
#include "container-removed.h"
#include "docker.h"
#include "owner.h"
#include "error.h"
#include "log.h"
#include "mount-spec.h"
#include "up.h"
#include "workspace.h"
#include "xmalloc.h"

/* Remove what Compose made for the project besides containers (volumes:
 * its volumes too, their names added to removed when not NULL, those Docker
 * refuses, one a container uses, to kept as {"name","reason"}). */
static int
op_down_compose_rest(struct docker *d, const char *project, int volumes, cJSON *removed,
    cJSON *kept, char **cause)
{
	char *filter =
	    xasprintf("{\"label\":[\"com.docker.compose.project=%s\"]}", project);
	char *esc = NULL, *path;
	cJSON *list = NULL, *e, *vols;
	int status, rc = 0;
	const char *kinds[] = { "networks", "volumes" };

	/* The project name is [a-z0-9_-]; the filter only needs URL escaping of
	 * JSON punctuation. */
	esc = xmalloc(strlen(filter) * 3 + 1);
	{
		char *o = esc;
		for (const char *p = filter; *p != '\0'; p++) {
			if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ||
			    *p == '.')
				*o++ = *p;
			else
				o += sprintf(o, "%%%02X", (unsigned char)*p);
		}
		*o = '\0';
	}
	for (int k = 0; k < (volumes ? 2 : 1) && rc == 0; k++) {
		path = xasprintf("/%s?filters=%s", kinds[k], esc);
		list = NULL;
		rc = docker_request(d, "GET", path, NULL, &status, &list, cause);
		free(path);
		if (rc != 0)
			break;
		vols = k == 1 ? cJSON_GetObjectItemCaseSensitive(list, "Volumes") : list;
		cJSON_ArrayForEach(e, vols) {
			const cJSON *name =
			    cJSON_GetObjectItemCaseSensitive(e, k == 0 ? "Id" : "Name");
			cJSON *resp = NULL;
			if (!cJSON_IsString(name))
				continue;
			path = xasprintf("/%s/%s", kinds[k], name->valuestring);
			rc = docker_request(
			    d, "DELETE", path, NULL, &status, &resp, cause);
			free(path);
			if (rc == 0 && k == 1 && removed != NULL) {
				/* (Docker refuses one a container uses: kept) */
				if (status >= 200 && status < 300)
					cJSON_AddItemToArray(removed,
					    cJSON_CreateString(name->valuestring));
				else if (kept != NULL) {
					const char *m = cJSON_GetStringValue(
					    cJSON_GetObjectItemCaseSensitive(
						resp, "message"));
					char *why = m != NULL
					    ? xstrdup(m)
					    : xasprintf("Docker answered %d", status);
					cJSON *o = cJSON_CreateObject();
					cJSON_AddStringToObject(
					    o, "name", name->valuestring);
					cJSON_AddStringToObject(o, "reason", why);
					cJSON_AddItemToArray(kept, o);
					free(why);
				}
			}
			cJSON_Delete(resp);
			if (rc != 0)
				break;
		}
		cJSON_Delete(list);
	}
	free(esc);
	free(filter);
	return rc;
}

/* Add the named volumes of mounts (a "mounts" array) to names, each once:
 * for a Compose project's workspace (project not NULL) as Compose names
 * those the override declares (PROJECT_NAME, an external one as it is: a
 * plain NAME is another's volume), else as the mount gives it. */
static void
op_down_mount_volumes(const cJSON *mounts, const char *project, cJSON *names)
{
	const cJSON *m, *type, *source, *n;
	cJSON *api;
	char *name;
	int seen;

	cJSON_ArrayForEach(m, mounts) {
		if ((api = mount_spec_to_api(m, NULL)) == NULL)
			continue;
		type = cJSON_GetObjectItemCaseSensitive(api, "Type");
		source = cJSON_GetObjectItemCaseSensitive(api, "Source");
		name = NULL;
		if (cJSON_IsString(type) && strcmp(type->valuestring, "volume") == 0 &&
		    cJSON_IsString(source) && *source->valuestring != '\0')
			name = project != NULL ? compose_override_volume_name(m, project)
					       : xstrdup(source->valuestring);
		if (name != NULL) {
			seen = 0;
			cJSON_ArrayForEach(n, names)
				seen |= strcmp(n->valuestring, name) == 0;
			if (!seen)
				cJSON_AddItemToArray(names, cJSON_CreateString(name));
			free(name);
		}
		cJSON_Delete(api);
	}
}

/* The named volumes of the configuration's mounts: those the container was
 * made with (its metadata label, with the image's mounts) and those the
 * configuration has now. A new array of strings. */
static cJSON *
op_down_volume_names(const struct workspace *ws)
{
	cJSON *names = cJSON_CreateArray(), *merged = NULL;
	char *cause = NULL;

	/* A configuration that does not load names no mounts: its volumes stay
	 * (the caller's warning says so). */
	if (ws->cfg == NULL)
		return names;
	if (ws->container != NULL) {
		if (up_merged_for_container(ws->cfg, ws->container, &merged, &cause) == 0)
			op_down_mount_volumes(
			    cJSON_GetObjectItemCaseSensitive(merged, "mounts"),
			    ws->compose_project, names);
		else {
			log_warn("down: container %.12s: %s", workspace_container_id(ws),
			    cause);
			free(cause);
		}
		cJSON_Delete(merged);
	}
	op_down_mount_volumes(
	    cJSON_GetObjectItemCaseSensitive(config_get_object(ws->cfg), "mounts"),
	    ws->compose_project, names);
	return names;
}

/* A container of a list answer by name ("/name" without the slash), else
 * by id. Borrowed. */
static const char *
op_down_container_name(const cJSON *c)
{
	const cJSON *name =
	    cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(c, "Names"), 0);
	const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "Id"));

	if (cJSON_IsString(name))
		return name->valuestring + (name->valuestring[0] == '/');
	return id != NULL ? id : "?";
}

/* Why volume name must stay: *why gets "used by containers a, b" (new
 * string), or NULL when no container, running or not, mounts it. */
static int
op_down_volume_users(struct docker *d, const char *name, char **why, char **cause)
{
	const char *values[] = { name, NULL };
	const cJSON *c;
	cJSON *list = NULL;
	struct buf *b;

	*why = NULL;
	if (docker_container_list_by(d, "volume", values, 1, &list, cause) != 0)
		return -1;
	if (cJSON_GetArraySize(list) > 0) {
		b = buf_new();
		buf_appendf(
		    b, "used by container%s", cJSON_GetArraySize(list) > 1 ? "s" : "");
		cJSON_ArrayForEach(c, list)
			buf_appendf(b, "%s %s", c == list->child ? "" : ",",
			    op_down_container_name(c));
		*why = buf_take_string(b, NULL);
		buf_free(b);
	}
	cJSON_Delete(list);
	return 0;
}

/* Remove the volumes named in names that no container uses (the removed
 * ones into removed); the others into kept as {"name","reason"}. */
static void
op_down_volumes(struct docker *d, const cJSON *names, cJSON *removed, cJSON *kept)
{
	const cJSON *n;
	char *why, *cause = NULL;
	cJSON *k;
	int gone;

	cJSON_ArrayForEach(n, names) {
		if (op_down_volume_users(d, n->valuestring, &why, &cause) == 0 &&
		    why == NULL &&
		    docker_volume_remove(d, n->valuestring, &gone, &cause) == 0) {
			if (gone)
				cJSON_AddItemToArray(
				    removed, cJSON_CreateString(n->valuestring));
			continue;
		}
		k = cJSON_CreateObject();
		cJSON_AddStringToObject(k, "name", n->valuestring);
		cJSON_AddStringToObject(k, "reason", why != NULL ? why : cause);
		cJSON_AddItemToArray(kept, k);
		free(why);
		free(cause);
		cause = NULL;
	}
}

/* STATE/KIND/NAME: compose-down/PROJECT, the workspace folder whose plain
 * down left the Compose project's volumes (a project name is [a-z0-9_-]);
 * down-left/DEVCONTAINERID, the folder whose plain down left volumes only
 * its container knew (op_down_left_unknown). New string, or NULL when the
 * state directory cannot be had. */
static char *
op_down_record_path(const char *kind, const char *name)
{
	char *cause = NULL, *dir = agent_state_dir(&cause), *path = NULL;

	if (dir == NULL) {
		log_warn("down: %s", cause);
		free(cause);
		return NULL;
	}
	path = xasprintf("%s/%s", dir, kind);
	if (agent_state_mkdir_parents(path, 0700, &cause) != 0) {
		log_warn("down: %s", cause);
		free(cause);
		free(path);
		path = NULL;
	} else {
		free(path);
		path = xasprintf("%s/%s/%s", dir, kind, name);
	}
	free(dir);
	return path;
}

/* A plain down of folder's Compose project (kind "compose-down", name the
 * project) or of a container that had volumes only it knew ("down-left",
 * its devcontainerId): record that they are folder's, for a later down
 * --volumes without the container. */
static void
op_down_record(const char *kind, const char *name, const char *folder)
{
	char *path = op_down_record_path(kind, name), *cause = NULL;

	if (path != NULL &&
	    atomic_file_write(path, folder, strlen(folder), 0600, &cause) != 0) {
		log_warn("down: %s", cause);
		free(cause);
	}
	free(path);
}

/* Did a plain down of folder leave the volumes of KIND/NAME
 * (op_down_record)? The record is removed when it did (they go now, or are
 * warned of). Without it the project may be another workspace's of the
 * same name: its volumes stay. */
static int
op_down_recorded(const char *kind, const char *name, const char *folder)
{
	char *path = op_down_record_path(kind, name), text[4097];
	size_t n = 0;
	FILE *f;
	int same = 0;

	if (path != NULL && (f = fopen(path, "r")) != NULL) {
		n = fread(text, 1, sizeof text - 1, f);
		fclose(f);
		text[n] = '\0';
		same = strcmp(text, folder) == 0;
		if (same)
			unlink(path);
	}
	free(path);
	return same;
}

/* The devcontainerId of ws's configuration (the key of its down-left
 * record), or NULL when it does not load. New string. */
static char *
op_down_left_key(const struct workspace *ws)
{
	if (ws->cfg == NULL)
		return NULL;
	return config_devcontainer_id(
	    config_get_local_folder(ws->cfg), config_get_source_file(ws->cfg));
}

/* Is name one Docker made up for an anonymous volume: 64 hex digits (the
 * inspect of a container does not say otherwise which of its volumes were
 * named; a name so chosen by hand is not worth the difference)? */
static int
op_down_anonymous(const char *name)
{
	size_t n = strspn(name, "0123456789abcdef");

	return n == 64 && name[n] == '\0';
}

/* Does ws's container mount a volume that a down --volumes without it
 * could not find: not named by devcontainer.json's mounts, nor its Compose
 * project's (PROJECT_...)? One of Features' or the image's mounts, or
 * runArgs', or an anonymous one of a Compose service (a plain down removes
 * a dev container's without Compose with it). */
static int
op_down_left_unknown(const struct workspace *ws)
{
	cJSON *names = cJSON_CreateArray();
	const cJSON *m, *n;
	const char *type, *name;
	size_t plen = ws->compose_project != NULL ? strlen(ws->compose_project) : 0;
	int unknown = 0, seen;

	/* (as the mounts give them: a project's are skipped below) */
	op_down_mount_volumes(
	    cJSON_GetObjectItemCaseSensitive(config_get_object(ws->cfg), "mounts"), NULL,
	    names);
	cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(ws->container, "Mounts")) {
		type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "Type"));
		name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "Name"));
		if (type == NULL || strcmp(type, "volume") != 0 || name == NULL)
			continue;
		if (plen > 0 && strncmp(name, ws->compose_project, plen) == 0 &&
		    name[plen] == '_')
			continue;
		if (ws->compose_project == NULL && op_down_anonymous(name))
			continue;
		seen = 0;
		cJSON_ArrayForEach(n, names)
			seen |= strcmp(n->valuestring, name) == 0;
		unknown |= !seen;
	}
	cJSON_Delete(names);
	return unknown;
}

/* down --volumes with no container: the volumes only it named (those of
 * Features' and the image's mounts, from its metadata label, and its
 * anonymous ones) cannot be found: a warning in result says so. */
static void
op_down_unknown_warning(cJSON *result)
{
	agent_op_warning(result, "%s",
	    "no dev container: only the named volumes of devcontainer.json's "
	    "mounts (and a Compose project's volumes) were looked for; those "
	    "of Features' or the image's mounts and anonymous volumes are "
	    "known only to the container (see `docker volume ls`)");
}

static int
op_down_run(const struct agent_op_req *r, cJSON **result, char **cause)
{
	struct workspace ws;
	struct docker *d = docker_new(NULL);
	char **ids = NULL, *config_error = NULL, *project = NULL, *key = NULL;
	const char *folder;
	char *path;
	cJSON *names = NULL, *removed, *kept, *out = NULL;
	char *why = NULL;
	int rc = -1, n = 0, volumes = agent_op_req_bool(r, "volumes");
	int stopped, already, shared, *graces = NULL, rrc, lock = -1;
	size_t done, i;
	char *stop_error = NULL;

	*result = NULL;
	/* (after an up at work on it: what it made goes too) */
	if (workspace_open_tolerant(r->workspace, r->config, r->id_labels, d, &ws,
		&config_error, cause) != 0 ||
	    agent_op_workspace_lock(r, d, &ws, &config_error, &lock, cause) != 0 ||
	    owner_check(ws.container, cause) != 0 ||
	    workspace_all_containers(&ws, d, 0, &ids, cause) != 0)
		goto out;
	/* (its project's volumes outlive its containers) */
	if (volumes)
		workspace_left_name(&ws, d);
	/* (a project shared with another workspace's dev container keeps all
	 * but this workspace's own dev container: the last one to go takes
	 * its services, networks and volumes) */
	shared = ws.shared_with != NULL;
	/* Read before the container goes: it knows the mounts it was made with
	 * (shared or not: the volumes of this workspace's own dev container's
	 * mounts are its own; one another container uses is kept) */
	if (volumes)
		names = op_down_volume_names(&ws);
	/* (a plain down that leaves volumes a later down --volumes cannot
	 * find says so to it; one with the container needs no record) */
	key = op_down_left_key(&ws);
	if (key != NULL && ws.container != NULL && !volumes && op_down_left_unknown(&ws))
		op_down_record("down-left", key, config_get_local_folder(ws.cfg));
	else if (key != NULL && ws.container != NULL && volumes &&
	    (path = op_down_record_path("down-left", key)) != NULL) {
		unlink(path);
		free(path);
	}
	/* A Compose project is stopped first, as `docker-compose down` does:
	 * each service gets its stop_grace_period (a database flushes), up to
	 * DOCKER_STOP_PARALLEL at once; the removal kills what did not stop. */
	if (ws.compose_project != NULL)
		graces = agent_op_stop_progress(r->progress, d, ids);
	if (ws.compose_project != NULL &&
	    docker_containers_stop(d, ids, graces, &stopped, &already, &why) != 0) {
		log_warn("down: %s", why);
		stop_error = why;
		why = NULL;
	}
	/* (one gone since it was listed, by hand or its AutoRemove after the
	 * stop, is removed all the same: not down's failure; v=1: its anonymous
	 * volumes, never a named one; a Compose project's only with --volumes,
	 * as docker compose down) */
	rrc = docker_containers_remove(
	    d, ids, 1, volumes || ws.compose_project == NULL, &done, cause);
	for (i = 0; i < done; i++, n++)
		container_removed(ids[i]);
	if (rrc != 0)
		goto out;
	out = agent_op_outcome("removed", n);
	if (stop_error != NULL)
		agent_op_warning(out,
		    "not all containers stopped in their grace period (the "
		    "removal killed them): %s",
		    stop_error);
	if (shared) {
		cJSON_AddStringToObject(out, "keptFor", ws.shared_with);
		agent_op_warning(out,
		    "Compose project %s also holds the dev container of workspace "
		    "%s: kept for it: %s, and the project's networks%s (only this "
		    "workspace's own dev container is removed; the last workspace "
		    "to go takes the project)",
		    ws.compose_project, ws.shared_with, ws.shared_kept,
		    volumes ? " and volumes" : "");
	}
	if (ws.left_error != NULL)
		agent_op_warning(out,
		    "what is left of the Compose project (another service, a "
		    "dev container removed by hand; its networks%s) was not "
		    "looked for: %s",
		    volumes ? ", volumes" : "", ws.left_error);
	removed = volumes ? cJSON_AddArrayToObject(out, "removedVolumes") : NULL;
	kept = volumes ? cJSON_AddArrayToObject(out, "keptVolumes") : NULL;
	/* A Compose project whose containers a plain down of this workspace
	 * removed still has its volumes, found by the project's name as up
	 * gives it; only when that down recorded them as this workspace's:
	 * another workspace's project may have the same name (two folders
	 * named app: app_devcontainer), and its volumes are not ours. */
	if (volumes && ws.compose_project == NULL && ws.left_project != NULL) {
		project = xstrdup(ws.left_project);
		if (!op_down_recorded(
			"compose-down", project, config_get_local_folder(ws.cfg)))
			agent_op_warning(out,
			    "the volumes of Compose project %s were kept: no plain "
			    "down of this workspace left them (the project may be "
			    "another workspace's of the same name; see `docker "
			    "volume ls --filter label=com.docker.compose.project=%s`)",
			    project, project);
		else {
			ws.compose_project = project;
			project = NULL;
		}
	}
	if (ws.compose_project != NULL && !shared &&
	    op_down_compose_rest(d, ws.compose_project, volumes, removed, kept, cause) !=
		0)
		goto out;
	/* (a plain down keeps the project's volumes: they are this
	 * workspace's, for a down --volumes after it; without the dev
	 * container, what was left of the project was found by its
	 * configuration: its folder) */
	if (!shared && !volumes && ws.compose_project != NULL &&
	    (folder = ws.container != NULL
		    ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
			  cJSON_GetObjectItemCaseSensitive(
			      cJSON_GetObjectItemCaseSensitive(ws.container, "Config"),
			      "Labels"),
			  "devcontainer.local_folder"))
		    : config_get_local_folder(ws.cfg)) != NULL)
		op_down_record("compose-down", ws.compose_project, folder);
	/* (and down --volumes with its containers: its volumes go now, a
	 * record left by an earlier plain down with them) */
	else if (!shared && volumes && ws.compose_project != NULL &&
	    ws.container != NULL &&
	    (path = op_down_record_path("compose-down", ws.compose_project)) != NULL) {
		unlink(path);
		free(path);
	}
	if (volumes)
		op_down_volumes(d, names, removed, kept);
	/* Without the container its metadata is gone: what it alone knew
	 * stays, said so (docker volume ls still lists them), when a plain
	 * down left such volumes (or the configuration does not load, and
	 * so cannot say) */
	if (volumes && ws.container == NULL && !shared &&
	    (key == NULL ||
		op_down_recorded("down-left", key, config_get_local_folder(ws.cfg))))
		op_down_unknown_warning(out);
	*result = out;
	out = NULL;
	if (config_error != NULL)
		agent_op_config_warning(*result, config_error,
		    volumes ? "the named volumes of its mounts were kept" : NULL);
	rc = 0;
out:
	agent_lock_release(lock);
	cJSON_Delete(out);
	free(graces);
	free(stop_error);
	free(project);
	free(key);
	free(config_error);
	cJSON_Delete(names);
	workspace_ids_free(ids);
	workspace_clear(&ws);
	docker_free(d);
	return rc;
}

const struct agent_op agent_op_down = { "down", AGENT_OP_WORKSPACE, op_down_run,
	"remove the dev container (\"volumes\": and its volumes)" };
