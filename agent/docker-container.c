/* docker-container.c - containers through the Docker Engine API: list,
 * inspect, create, start, stop, remove; and the removal of a volume
 * (docker.h). */
#include "docker-internal.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "xmalloc.h"

int
docker_container_list_by(struct docker *d, const char *key, const char *const *values,
    int all, cJSON **list, char **cause)
{
	cJSON *filters = NULL, *arr;
	char *text, *enc, *path;
	int rc;

	*list = NULL;
	if (values != NULL && values[0] != NULL) {
		filters = cJSON_CreateObject();
		arr = cJSON_AddArrayToObject(filters, key);
		if (filters == NULL || arr == NULL)
			fatal("cJSON: out of memory");
		for (; *values != NULL; values++)
			cJSON_AddItemToArray(arr, cJSON_CreateString(*values));
		if ((text = cJSON_PrintUnformatted(filters)) == NULL)
			fatal("cJSON: out of memory");
		enc = docker_urlencode(text, "");
		path = xasprintf("/containers/json?all=%d&filters=%s", all ? 1 : 0, enc);
		cJSON_free(text);
		free(enc);
		cJSON_Delete(filters);
	} else
		path = xasprintf("/containers/json?all=%d", all ? 1 : 0);
	rc = docker_call(
	    d, "GET", path, NULL, DOCKER_TIMEOUT_S * 1000, NULL, NULL, list, cause);
	free(path);
	if (rc == 0 && !cJSON_IsArray(*list)) {
		cJSON_Delete(*list);
		*list = NULL;
		return error_set(cause, "docker: container list is not a JSON array");
	}
	return rc;
}

int
docker_container_list(
    struct docker *d, const char *const *labels, int all, cJSON **list, char **cause)
{
	return docker_container_list_by(d, "label", labels, all, list, cause);
}

int
docker_container_running(const cJSON *inspect)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(inspect, "State"), "Running"));
}

int
docker_container_inspect(
    struct docker *d, const char *id_or_name, cJSON **info, char **cause)
{
	char *enc = docker_urlencode(id_or_name, ""), *path;
	int rc;

	*info = NULL;
	if (*id_or_name == '\0') {
		free(enc);
		return error_set(cause, "docker: empty container name");
	}
	path = xasprintf("/containers/%s/json", enc);
	rc = docker_inspect(d, path, info, cause);
	free(path);
	free(enc);
	return rc;
}

int
docker_container_create(
    struct docker *d, const char *name, const cJSON *create_body, char **id, char **cause)
{
	cJSON *r, *jid;
	char *enc, *path;
	int rc;

	*id = NULL;
	if (name != NULL) {
		enc = docker_urlencode(name, "");
		path = xasprintf("/containers/create?name=%s", enc);
		free(enc);
	} else
		path = xstrdup("/containers/create");
	rc = docker_call(
	    d, "POST", path, create_body, DOCKER_TIMEOUT_S * 1000, NULL, NULL, &r, cause);
	free(path);
	if (rc != 0)
		return -1;
	jid = cJSON_GetObjectItemCaseSensitive(r, "Id");
	if (!cJSON_IsString(jid) || *jid->valuestring == '\0') {
		cJSON_Delete(r);
		return error_set(cause, "docker: container create gave no Id");
	}
	*id = xstrdup(jid->valuestring);
	cJSON_Delete(r);
	return 0;
}

/* POST /containers/{id}/ACTION[?query]; 304 (nothing to do) is success. */
static int
docker_container_action(struct docker *d, const char *id, const char *action,
    const char *query, int timeout_ms, char **cause)
{
	static const int ok[] = { 304, 0 };
	char *enc = docker_urlencode(id, ""), *path;
	int rc, status = 0;

	path = xasprintf("/containers/%s/%s%s", enc, action, query);
	rc = docker_call(d, "POST", path, NULL, timeout_ms, ok, &status, NULL, cause);
	free(path);
	free(enc);
	/* (304 Not Modified: it was started, or stopped, already) */
	return rc != 0 ? -1 : status == 304 ? 1 : 0;
}

int
docker_container_start(struct docker *d, const char *id, char **cause)
{
	return docker_container_action(
		   d, id, "start", "", DOCKER_TIMEOUT_S * 1000, cause) < 0
	    ? -1
	    : 0;
}

/* Docker's grace when a container sets none (its StopTimeout absent). */
#define DOCKER_STOP_GRACE_DEFAULT_S 10

int
docker_container_grace(
    struct docker *d, const char *id, int *grace_s, int *running, char **cause)
{
	cJSON *info, *t;

	*grace_s = 0;
	*running = 0;
	if (docker_container_inspect(d, id, &info, cause) != 0)
		return -1;
	if (info == NULL)
		return 0;
	t = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(info, "Config"), "StopTimeout");
	/* (as it is: negative, Docker waits forever; very long, that long) */
	*grace_s = !cJSON_IsNumber(t)	   ? DOCKER_STOP_GRACE_DEFAULT_S
	    : t->valuedouble < 0	   ? -1
	    : t->valuedouble > INT_MAX / 2 ? INT_MAX / 2
					   : (int)t->valuedouble;
	*running = docker_container_running(info);
	cJSON_Delete(info);
	return 0;
}

int
docker_containers_grace(
    struct docker *d, char *const *ids, int *running, int *max_s, char **cause)
{
	int grace, on;

	*running = *max_s = 0;
	for (; *ids != NULL; ids++) {
		if (docker_container_grace(d, *ids, &grace, &on, cause) != 0)
			return -1;
		*running += on;
		if (on && *max_s >= 0 && (grace < 0 || grace > *max_s))
			*max_s = grace;
	}
	return 0;
}

int
docker_container_stop(struct docker *d, const char *id, int timeout_s, char **cause)
{
	char query[32] = "";
	int wait_s = DOCKER_TIMEOUT_S, running;

	/* The container's own grace, asked for explicitly: the daemon then
	 * answers within it, and a hung one is given up on after
	 * DOCKER_TIMEOUT_S more, not an hour (it was not known here). */
	if (timeout_s < 0 &&
	    docker_container_grace(d, id, &timeout_s, &running, cause) != 0)
		return -1;
	/* (a StopTimeout of -1 is passed as it is: Docker waits forever, as
	 * `docker stop` of it does) */
	snprintf(query, sizeof query, "?t=%d", timeout_s);
	/* The daemon answers after the grace period at worst; when that is
	 * forever (or a day or more), the wait has no limit either. */
	if (timeout_s >= 0 && timeout_s < 24 * 3600)
		wait_s += timeout_s;
	else
		wait_s = -1;
	return docker_container_action(
	    d, id, "stop", query, wait_s < 0 ? -1 : wait_s * 1000, cause);
}

/* One container of docker_containers_stop, stopped on its own connection. */
struct docker_stop_job {
	const char *socket;
	const char *id;
	int timeout_s;
	int st;
	char *cause;
};

static void *
docker_stop_job_run(void *arg)
{
	struct docker_stop_job *job = arg;
	struct docker *d = docker_new(job->socket);

	job->st = docker_container_stop(d, job->id, job->timeout_s, &job->cause);
	docker_free(d);
	return NULL;
}

int
docker_containers_stop(struct docker *d, char *const *ids, int timeout_s, int *stopped,
    int *already, char **cause)
{
	struct docker_stop_job *jobs;
	pthread_t *threads;
	char *joined;
	struct buf *b = NULL;
	size_t n = 0, i;

	*stopped = *already = 0;
	while (ids[n] != NULL)
		n++;
	if (n == 0)
		return 0;
	jobs = xcalloc(n, sizeof *jobs);
	threads = xcalloc(n, sizeof *threads);
	joined = xcalloc(n, sizeof *joined);
	/* Each waits out its own grace period: in turn, a project of three
	 * would take three of them. */
	for (i = 0; i < n; i++) {
		jobs[i].socket = docker_socket_path(d);
		jobs[i].id = ids[i];
		jobs[i].timeout_s = timeout_s;
		/* (no thread to be had: this one stops it, in turn) */
		if (n == 1 ||
		    pthread_create(&threads[i], NULL, docker_stop_job_run, &jobs[i]) !=
			0) {
			docker_stop_job_run(&jobs[i]);
			joined[i] = 1;
		}
	}
	for (i = 0; i < n; i++) {
		if (!joined[i])
			pthread_join(threads[i], NULL);
		if (jobs[i].st == 0)
			(*stopped)++;
		else if (jobs[i].st == 1)
			(*already)++;
		else {
			if (b == NULL)
				b = buf_new();
			else
				buf_appendf(b, "; ");
			buf_appendf(b, "container %.12s: %s", jobs[i].id, jobs[i].cause);
		}
		free(jobs[i].cause);
	}
	free(threads);
	free(joined);
	free(jobs);
	if (b == NULL)
		return 0;
	if (cause != NULL)
		*cause = buf_take_string(b, NULL);
	buf_free(b);
	return -1;
}

/* DELETE the container; ok: the statuses besides 2xx that are no error. */
static int
docker_container_delete(struct docker *d, const char *id, int force, int volumes,
    const int *ok, int *status, char **cause)
{
	char *enc = docker_urlencode(id, ""), *path;
	int rc;

	path = xasprintf(
	    "/containers/%s?force=%d&v=%d", enc, force ? 1 : 0, volumes ? 1 : 0);
	rc = docker_call(
	    d, "DELETE", path, NULL, DOCKER_TIMEOUT_S * 1000, ok, status, NULL, cause);
	free(path);
	free(enc);
	return rc;
}

int
docker_container_remove(
    struct docker *d, const char *id, int force, int volumes, char **cause)
{
	return docker_container_delete(d, id, force, volumes, NULL, NULL, cause);
}

int
docker_container_remove_if_there(
    struct docker *d, const char *id, int force, int volumes, int *removed, char **cause)
{
	static const int ok[] = { 404, 0 };
	int status = 0, rc;

	*removed = 0;
	rc = docker_container_delete(d, id, force, volumes, ok, &status, cause);
	if (rc == 0)
		*removed = status != 404;
	return rc;
}

int
docker_volume_remove(struct docker *d, const char *name, int *removed, char **cause)
{
	return docker_delete(d, "volume", name, "", removed, cause);
}
