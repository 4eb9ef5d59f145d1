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
#include "docker-stream.h"
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
docker_container_log_tail(struct docker *d, const char *id, int tty, int lines,
    size_t max, char **text, char **cause)
{
	char *enc = docker_urlencode(id, ""), *path, *body = NULL;
	struct docker_stream *ds = NULL;
	const unsigned char *piece;
	size_t len = 0, used, piece_len, off;
	struct buf *out = buf_new();
	int status, stream, r, rc = -1;

	*text = NULL;
	path = xasprintf("/containers/%s/logs?stdout=1&stderr=1&tail=%d", enc, lines);
	if (docker_request_raw(
		d, "GET", path, NULL, NULL, 0, &status, &body, &len, cause) != 0)
		goto out;
	if (status / 100 != 2) {
		error_set(cause, "docker: the container's log: HTTP %d", status);
		goto out;
	}
	if (tty)
		buf_append(out, body, len);
	else {
		/* (stdout and stderr in frames: each frame's payload, in order) */
		ds = docker_stream_new(DOCKER_STREAM_MAX_FRAME);
		for (off = 0; off < len; off += used) {
			r = docker_stream_feed(ds, body + off, len - off, &used, &stream,
			    &piece, &piece_len, cause);
			if (r < 0)
				goto out;
			if (r == 0)
				break;
			buf_append(out, piece, piece_len);
		}
	}
	off = buf_len(out) > max ? buf_len(out) - max : 0;
	*text = xstrndup((const char *)buf_data(out) + off, buf_len(out) - off);
	rc = 0;
out:
	docker_stream_free(ds);
	buf_free(out);
	free(body);
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

/* POST /containers/{id}/ACTION[?query]; 304 (nothing to do) is success,
 * and with gone_ok a 404 (no such container). 0, 1 for 304, 2 for 404, or
 * -1 with *cause. */
static int
docker_container_action(struct docker *d, const char *id, const char *action,
    const char *query, int timeout_ms, int gone_ok, char **cause)
{
	static const int ok[] = { 304, 0 }, ok_gone[] = { 304, 404, 0 };
	char *enc = docker_urlencode(id, ""), *path;
	int rc, status = 0;

	path = xasprintf("/containers/%s/%s%s", enc, action, query);
	rc = docker_call(d, "POST", path, NULL, timeout_ms, gone_ok ? ok_gone : ok,
	    &status, NULL, cause);
	free(path);
	free(enc);
	/* (304 Not Modified: it was started, or stopped, already) */
	return rc != 0 ? -1 : status == 304 ? 1 : status == 404 ? 2 : 0;
}

int
docker_container_start(struct docker *d, const char *id, char **cause)
{
	return docker_container_action(
		   d, id, "start", "", DOCKER_TIMEOUT_S * 1000, 0, cause) < 0
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
docker_containers_grace(struct docker *d, char *const *ids, int *graces, int *running,
    int *max_s, char **cause)
{
	int grace, on;
	size_t i;

	*running = *max_s = 0;
	for (i = 0; ids[i] != NULL; i++) {
		if (docker_container_grace(d, ids[i], &grace, &on, cause) != 0)
			return -1;
		if (graces != NULL)
			graces[i] = grace;
		*running += on;
		if (on && *max_s >= 0 && (grace < 0 || grace > *max_s))
			*max_s = grace;
	}
	return 0;
}

/* Stop id with its grace known (grace_s; -1: Docker waits forever): as
 * docker_container_stop, and with gone_ok 2 for a container not there. */
static int
docker_container_stop_within(
    struct docker *d, const char *id, int grace_s, int gone_ok, char **cause)
{
	char query[32] = "";
	int wait_s = DOCKER_TIMEOUT_S;

	/* (a StopTimeout of -1 is passed as it is: Docker waits forever, as
	 * `docker stop` of it does) */
	snprintf(query, sizeof query, "?t=%d", grace_s);
	/* The daemon answers after the grace period at worst; when that is
	 * forever (or a day or more), the wait has no limit either. */
	if (grace_s >= 0 && grace_s < 24 * 3600)
		wait_s += grace_s;
	else
		wait_s = -1;
	return docker_container_action(
	    d, id, "stop", query, wait_s < 0 ? -1 : wait_s * 1000, gone_ok, cause);
}

int
docker_container_stop(struct docker *d, const char *id, int timeout_s, char **cause)
{
	int running;

	/* The container's own grace, asked for explicitly: the daemon then
	 * answers within it, and a hung one is given up on after
	 * DOCKER_TIMEOUT_S more, not an hour (it was not known here). */
	if (timeout_s < 0 &&
	    docker_container_grace(d, id, &timeout_s, &running, cause) != 0)
		return -1;
	return docker_container_stop_within(d, id, timeout_s, 0, cause);
}

int
docker_containers_stop_bound(int running, int max_s)
{
	int batches;

	if (max_s < 0)
		return -1;
	batches = running <= DOCKER_STOP_PARALLEL
	    ? 1
	    : (running + DOCKER_STOP_PARALLEL - 1) / DOCKER_STOP_PARALLEL;
	return batches * max_s;
}

/* The jobs of docker_containers_stop: each container stopped on its own
 * connection, by at most DOCKER_STOP_PARALLEL threads taking the next
 * one in turn. */
struct docker_stop_jobs {
	const char *socket;
	char *const *ids;
	const int *graces; /* NULL: each container's own, inspected */
	size_t n, next;
	pthread_mutex_t lock;
	int *st;
	char **causes;
};

static void *
docker_stop_jobs_run(void *arg)
{
	struct docker_stop_jobs *jobs = arg;
	struct docker *d;
	int grace, running;
	size_t i;

	for (;;) {
		pthread_mutex_lock(&jobs->lock);
		i = jobs->next < jobs->n ? jobs->next++ : jobs->n;
		pthread_mutex_unlock(&jobs->lock);
		if (i == jobs->n)
			return NULL;
		d = docker_new(jobs->socket);
		if (jobs->graces != NULL)
			grace = jobs->graces[i];
		else if (docker_container_grace(
			     d, jobs->ids[i], &grace, &running, &jobs->causes[i]) != 0) {
			jobs->st[i] = -1;
			docker_free(d);
			continue;
		}
		/* (gone since it was listed: 2, already stopped) */
		jobs->st[i] = docker_container_stop_within(
		    d, jobs->ids[i], grace, 1, &jobs->causes[i]);
		docker_free(d);
	}
}

int
docker_containers_stop(struct docker *d, char *const *ids, const int *graces,
    int *stopped, int *already, char **cause)
{
	struct docker_stop_jobs jobs = { 0 };
	pthread_t threads[DOCKER_STOP_PARALLEL - 1];
	size_t n = 0, i, nthreads = 0;
	struct buf *b = NULL;

	*stopped = *already = 0;
	while (ids[n] != NULL)
		n++;
	if (n == 0)
		return 0;
	jobs.socket = docker_socket_path(d);
	jobs.ids = ids;
	jobs.graces = graces;
	jobs.n = n;
	jobs.st = xcalloc(n, sizeof *jobs.st);
	jobs.causes = xcalloc(n, sizeof *jobs.causes);
	pthread_mutex_init(&jobs.lock, NULL);
	/* Each waits out its own grace period: in turn, a project of three
	 * would take three of them; all at once, a project of 200 services
	 * would make 200 threads and connections (at most
	 * DOCKER_STOP_PARALLEL: docker_containers_stop_bound()). This thread is one of
	 * the workers (no thread to be had: it stops them all, in turn). */
	while (nthreads + 1 < n && nthreads < DOCKER_STOP_PARALLEL - 1 &&
	    pthread_create(&threads[nthreads], NULL, docker_stop_jobs_run, &jobs) == 0)
		nthreads++;
	docker_stop_jobs_run(&jobs);
	for (i = 0; i < nthreads; i++)
		pthread_join(threads[i], NULL);
	pthread_mutex_destroy(&jobs.lock);
	for (i = 0; i < n; i++) {
		if (jobs.st[i] == 0)
			(*stopped)++;
		else if (jobs.st[i] == 1 || jobs.st[i] == 2)
			(*already)++; /* (2: gone since it was listed) */
		else {
			if (b == NULL)
				b = buf_new();
			else
				buf_appendf(b, "; ");
			buf_appendf(b, "container %.12s: %s", ids[i], jobs.causes[i]);
		}
		free(jobs.causes[i]);
	}
	free(jobs.causes);
	free(jobs.st);
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
docker_containers_remove(struct docker *d, char *const *ids, int force, int volumes,
    size_t *done, char **cause)
{
	int removed;

	for (*done = 0; ids[*done] != NULL; (*done)++)
		if (docker_container_remove_if_there(
			d, ids[*done], force, volumes, &removed, cause) != 0)
			return -1;
	return 0;
}

int
docker_volume_remove(struct docker *d, const char *name, int *removed, char **cause)
{
	return docker_delete(d, "volume", name, "", removed, cause);
}
