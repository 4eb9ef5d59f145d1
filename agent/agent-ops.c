/* agent-ops.c - the agent's operations as functions returning JSON, shared by
 * the command line and `serve` (agent-ops.h). */
#include "agent-ops.h"

#include <sys/statvfs.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent-state.h"
#include "buf.h"
#include "config.h"
#include "docker.h"
#include "env-probe.h"
#include "error.h"
#include "lifecycle.h"
#include "log.h"
#include "relay-install.h"
#include "spawn.h"
#include "workspace.h"
#include "xmalloc.h"

int
agent_op_up(const struct up_opts *opts, cJSON **result, char **cause)
{
	struct up_result res;

	*result = NULL;
	if (up_run(opts, &res, cause) != 0)
		return -1;
	*result = up_result_json(&res);
	if (opts->include_ports && res.ports != NULL) {
		cJSON_AddItemToObject(*result, "ports", res.ports);
		res.ports = NULL;
	}
	up_result_free(&res);
	return 0;
}

/* {"outcome":"success", key: n}. */
static cJSON *
agent_op_outcome(const char *key, int n)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL)
		fatal("out of memory");
	cJSON_AddStringToObject(o, "outcome", "success");
	cJSON_AddNumberToObject(o, key, n);
	return o;
}

int
agent_op_stop(const char *folder, const char *config_file, cJSON **result, char **cause)
{
	struct workspace ws;
	struct docker *d = docker_new(NULL);
	char **ids = NULL;
	int rc = -1, n = 0;

	*result = NULL;
	if (workspace_open(folder, config_file, d, &ws, cause) != 0 ||
	    workspace_all_containers(&ws, d, &ids, cause) != 0)
		goto out;
	for (char **id = ids; *id != NULL; id++, n++)
		if (docker_container_stop(d, *id, 10, cause) != 0)
			goto out;
	*result = agent_op_outcome("stopped", n);
	rc = 0;
out:
	workspace_ids_free(ids);
	workspace_clear(&ws);
	docker_free(d);
	return rc;
}

/* Remove what Compose made for the project besides containers. */
static int
agent_op_down_compose_rest(
    struct docker *d, const char *project, int volumes, char **cause)
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

int
agent_op_down(const char *folder, const char *config_file, int volumes, cJSON **result,
    char **cause)
{
	struct workspace ws;
	struct docker *d = docker_new(NULL);
	char **ids = NULL;
	int rc = -1, n = 0;

	*result = NULL;
	if (workspace_open(folder, config_file, d, &ws, cause) != 0 ||
	    workspace_all_containers(&ws, d, &ids, cause) != 0)
		goto out;
	for (char **id = ids; *id != NULL; id++, n++)
		if (docker_container_remove(d, *id, 1, volumes, cause) != 0)
			goto out;
	if (ws.compose_project != NULL &&
	    agent_op_down_compose_rest(d, ws.compose_project, volumes, cause) != 0)
		goto out;
	*result = agent_op_outcome("removed", n);
	rc = 0;
out:
	workspace_ids_free(ids);
	workspace_clear(&ws);
	docker_free(d);
	return rc;
}

static const char *
agent_op_label(const cJSON *c, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(c, "Labels"), name);

	return cJSON_IsString(v) ? v->valuestring : "";
}

static const char *
agent_op_string(const cJSON *c, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, name);

	return cJSON_IsString(v) ? v->valuestring : "";
}

int
agent_op_ls(cJSON **result, char **cause)
{
	const char *labels[] = { "devcontainer.local_folder", NULL };
	struct docker *d = docker_new(NULL);
	cJSON *list = NULL, *c, *out, *o;
	const cJSON *created;

	*result = NULL;
	if (docker_container_list(d, labels, 1, &list, cause) != 0) {
		docker_free(d);
		return -1;
	}
	out = cJSON_CreateArray();
	cJSON_ArrayForEach(c, list) {
		created = cJSON_GetObjectItemCaseSensitive(c, "Created");
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "containerId", agent_op_string(c, "Id"));
		cJSON_AddStringToObject(o, "state", agent_op_string(c, "State"));
		cJSON_AddStringToObject(o, "image", agent_op_string(c, "Image"));
		cJSON_AddStringToObject(
		    o, "workspace", agent_op_label(c, "devcontainer.local_folder"));
		cJSON_AddStringToObject(
		    o, "configFile", agent_op_label(c, "devcontainer.config_file"));
		cJSON_AddStringToObject(
		    o, "owner", agent_op_label(c, "dev.rdev.owner_name"));
		cJSON_AddStringToObject(
		    o, "composeProject", agent_op_label(c, "com.docker.compose.project"));
		cJSON_AddNumberToObject(
		    o, "created", cJSON_IsNumber(created) ? created->valuedouble : 0);
		cJSON_AddItemToArray(out, o);
	}
	cJSON_Delete(list);
	docker_free(d);
	*result = out;
	return 0;
}

char *
agent_up_command(const char *prog_name, const char *folder, const char *config_file)
{
	return xasprintf("%s up %s%s%s", prog_name, folder,
	    config_file != NULL ? " --config " : "",
	    config_file != NULL ? config_file : "");
}

char *
agent_logs_follow_command(const char *up_cmd)
{
	const char *up = strstr(up_cmd, " up ");

	if (up == NULL)
		return xstrdup("rdev logs -f");
	return xasprintf("%.*s logs -f %s", (int)(up - up_cmd), up_cmd, up + 4);
}

int
agent_op_logs_locate(const char *folder, const char *config_file, const char *up_cmd,
    char **state_dir, char **container_id, char **cause)
{
	struct workspace ws;
	struct docker *d = docker_new(NULL);
	int rc = -1;

	*state_dir = *container_id = NULL;
	if (workspace_open(folder, config_file, d, &ws, cause) != 0)
		goto out;
	if (ws.container == NULL) {
		error_set(
		    cause, "no dev container for %s (run `%s` first)", folder, up_cmd);
		goto out;
	}
	if ((*state_dir = agent_state_dir(cause)) == NULL)
		goto out;
	*container_id = xstrdup(workspace_container_id(&ws));
	rc = 0;
out:
	workspace_clear(&ws);
	docker_free(d);
	return rc;
}

/* Read at most max bytes of fd from start on into b. */
static int
agent_op_logs_read(
    int fd, off_t start, size_t max, struct buf *b, const char *path, char **cause)
{
	unsigned char *p;
	size_t want;
	ssize_t n;

	while (buf_len(b) < max) {
		want = max - buf_len(b) < 65536 ? max - buf_len(b) : 65536;
		p = buf_reserve(b, want);
		n = pread(fd, p, want, start + (off_t)buf_len(b));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return error_set_errno(cause, errno, "%s", path);
		if (n == 0)
			break;
		buf_commit(b, (size_t)n);
	}
	return 0;
}

int
agent_op_logs(const char *folder, const char *config_file, const char *up_cmd,
    size_t max_bytes, long long offset, cJSON **result, char **cause)
{
	struct lifecycle_bg_status st = { 0 };
	char *state = NULL, *id = NULL, *path = NULL, *text;
	struct buf *b = buf_new();
	off_t size = 0, start = 0;
	int fd = -1, rc = -1;

	*result = NULL;
	if (agent_op_logs_locate(folder, config_file, up_cmd, &state, &id, cause) != 0)
		goto out;
	/* First: a run that is over has written all of its log. */
	if (lifecycle_bg_status_read(state, id, &st, cause) != 0)
		goto out;
	path = lifecycle_log_path(state, id);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 && errno != ENOENT) {
		error_set_errno(cause, errno, "%s", path);
		goto out;
	}
	if (fd >= 0) {
		if ((size = lseek(fd, 0, SEEK_END)) < 0)
			size = 0;
		if (offset < 0)
			start = (size_t)size > max_bytes ? size - (off_t)max_bytes : 0;
		else
			start = offset < (long long)size ? (off_t)offset : size;
		if (agent_op_logs_read(fd, start, max_bytes, b, path, cause) != 0)
			goto out;
	}
	if (start + (off_t)buf_len(b) > size)
		size = start + (off_t)buf_len(b); /* it grew meanwhile */
	*result = cJSON_CreateObject();
	cJSON_AddStringToObject(*result, "containerId", id);
	cJSON_AddNumberToObject(*result, "offset", (double)(start + (off_t)buf_len(b)));
	cJSON_AddNumberToObject(*result, "size", (double)size);
	text = buf_take_string(b, NULL);
	cJSON_AddStringToObject(*result, "log", text);
	free(text);
	cJSON_AddBoolToObject(*result, "truncated", offset < 0 && start > 0);
	cJSON_AddItemToObject(*result, "background", lifecycle_bg_status_json(&st));
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	lifecycle_bg_status_clear(&st);
	buf_free(b);
	free(path);
	free(state);
	free(id);
	return rc;
}

int
agent_op_info(cJSON **result, char **cause)
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

int
agent_op_read_configuration(const char *self, const char *folder, const char *config_file,
    int merged, cJSON **result, char **cause)
{
	const char *argv[8];
	struct spawn_result res;
	cJSON *warnings;
	char *line, *save = NULL, *desc;
	int i = 0;

	*result = NULL;
	argv[i++] = self;
	argv[i++] = "read-configuration";
	argv[i++] = folder;
	if (config_file != NULL) {
		argv[i++] = "--config";
		argv[i++] = config_file;
	}
	if (merged)
		argv[i++] = "--include-merged-configuration";
	argv[i] = NULL;
	if (spawn_run(argv, NULL, &res, cause) != 0)
		return -1;
	if (spawn_result_status(&res) != 0) {
		/* The command's own message: "rdev-agent: FILE:L:C: ..." */
		line = res.err_len > 0 ? strtok_r(res.err, "\n", &save) : NULL;
		if (line != NULL && strncmp(line, "rdev-agent: ", 12) == 0)
			line += 12;
		desc = spawn_result_describe(&res);
		if (line != NULL)
			error_set(cause, "%s", line);
		else
			error_set(cause, "read-configuration %s", desc);
		free(desc);
		spawn_result_free(&res);
		return -1;
	}
	if ((*result = cJSON_Parse(res.out)) == NULL || !cJSON_IsObject(*result)) {
		cJSON_Delete(*result);
		*result = NULL;
		spawn_result_free(&res);
		return error_set(cause, "read-configuration printed no JSON object");
	}
	warnings = cJSON_AddArrayToObject(*result, "warnings");
	for (line = res.err_len > 0 ? strtok_r(res.err, "\n", &save) : NULL; line != NULL;
	     line = strtok_r(NULL, "\n", &save))
		cJSON_AddItemToArray(warnings, cJSON_CreateString(line));
	spawn_result_free(&res);
	return 0;
}
