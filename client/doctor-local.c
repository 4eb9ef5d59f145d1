/* doctor-local.c - `rdev doctor` with no argument: this machine's checks
 * (the broker, the local Docker engine, ~/.config/rdev's files, the pool's
 * hosts: asked all at once, each within DOCTOR_PROBE_TIMEOUT_MS). */
#include "doctor.h"

#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic-file.h"
#include "broker-client.h"
#include "client.h"
#include "error.h"
#include "docker.h"
#include "json-get.h"
#include "pool-file.h"
#include "pool-probe.h"
#include "xmalloc.h"

/* Is a broker running, and of our version? */
static void
doctor_local_broker(struct doctor_report *r)
{
	struct proto_conn *c;
	cJSON *req, *st = NULL;
	const cJSON *sw, *pid;
	int n;
	const char *err;
	char *cause = NULL;
	int not_running = 0;
	char *exe, *fix, *fix_text;
	pid_t stale_pid;

	if (broker_client_connect(0, "rdev " RDEV_VERSION, &c, &not_running, &cause) !=
	    0) {
		if (not_running)
			doctor_add(r, "broker", DOCTOR_OK, NULL,
			    "not running (rdev starts it when a command needs it)");
		else
			doctor_add(r, "broker", DOCTOR_FAIL,
			    "rdev-broker stop, then any rdev command starts a new one",
			    "does not answer: %s", cause);
		free(cause);
		return;
	}
	req = cJSON_CreateObject();
	cJSON_AddNumberToObject(req, "id", 1);
	cJSON_AddStringToObject(req, "op", "status");
	if (proto_conn_request(c, req, NULL, NULL, &st, NULL, &cause) != 0) {
		doctor_add(r, "broker", DOCTOR_FAIL,
		    "rdev-broker stop, then any rdev command starts a new one",
		    "no status: %s", cause);
		free(cause);
		cJSON_Delete(st);
		proto_conn_free(c);
		return;
	}
	proto_conn_free(c);
	n = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(st, "sessions"));
	sw = cJSON_GetObjectItemCaseSensitive(st, "software");
	pid = cJSON_GetObjectItemCaseSensitive(st, "pid");
	if (cJSON_IsString(sw) &&
	    strcmp(sw->valuestring, "rdev-broker " RDEV_VERSION) == 0 &&
	    client_broker_stale(&stale_pid, &exe, &fix)) {
		/* Our version's number, but a build since replaced (a rebuild,
		 * an upgrade in place): what every other command warns of. */
		fix_text = xasprintf("%s: it " CLIENT_BROKER_STALE_FIX, fix);
		doctor_add(r, "broker", DOCTOR_WARN, fix_text,
		    "running (pid %d, %s, %d session%s), an older build of %s",
		    cJSON_IsNumber(pid) ? pid->valueint : (int)stale_pid, sw->valuestring,
		    n, n == 1 ? "" : "s", exe);
		free(fix_text);
		free(exe);
		free(fix);
	} else if (cJSON_IsString(sw) &&
	    strcmp(sw->valuestring, "rdev-broker " RDEV_VERSION) == 0)
		doctor_add(r, "broker", DOCTOR_OK, NULL,
		    "running (pid %d, %s, %d session%s)",
		    cJSON_IsNumber(pid) ? pid->valueint : 0, sw->valuestring, n,
		    n == 1 ? "" : "s");
	else
		doctor_add(r, "broker", DOCTOR_WARN,
		    "rdev-broker stop (forwards are saved); the next rdev command "
		    "starts this version's",
		    "running %s, but this rdev is " RDEV_VERSION,
		    cJSON_IsString(sw) ? sw->valuestring : "(unknown version)");
	if ((err = json_get_string(st, "agentBundleError")) != NULL)
		doctor_add(r, "agent bundle", DOCTOR_FAIL, BROKER_BUNDLE_FIX,
		    "the broker has none, so no host works: %s", err);
	cJSON_Delete(st);
}

/* This machine's Docker engine, for local workspaces. */
static void
doctor_local_docker(struct doctor_report *r)
{
	struct docker *d = docker_new(NULL);
	char *version = NULL, *cause = NULL;

	if (docker_ping(d, &version, &cause) == 0)
		doctor_add(r, "local docker", DOCTOR_OK, NULL, "API %s at %s", version,
		    docker_socket_path(d));
	else if (strstr(cause, "permission denied") != NULL)
		doctor_add(r, "local docker", DOCTOR_WARN,
		    "sudo usermod -aG docker $USER, then log in again (needed for "
		    "local workspaces only)",
		    "%s", cause);
	else
		doctor_add(r, "local docker", DOCTOR_OK, NULL,
		    "none here (needed for local workspaces only): %s", cause);
	free(version);
	free(cause);
	docker_free(d);
}

/* A JSON file of the config folder, parsed (hosts.json as the pool reads
 * it): new, or NULL with *cause naming it. */
static cJSON *
doctor_local_json(const char *path, const char *name, char **cause)
{
	cJSON *j;
	char *text;
	size_t len;

	if (strcmp(name, "hosts.json") == 0)
		return pool_file_read(path, "user", cause);
	if (file_read_all(path, 16 << 20, &text, &len, cause) != 0)
		return NULL;
	if ((j = cJSON_Parse(text)) == NULL)
		error_set(cause, "%s: not valid JSON", path);
	free(text);
	return j;
}

/* Each file of ~/.config/rdev: readable, and JSON that parses where it is
 * JSON. */
static void
doctor_local_config(struct doctor_report *r)
{
	char *path, *cause = NULL, *dir, *file;
	struct dirent *e;
	cJSON *j;
	DIR *dp;
	size_t len;
	int n = 0;

	if ((path = pool_file_path(&cause)) == NULL) {
		doctor_add(r, "config", DOCTOR_WARN, NULL, "%s", cause);
		free(cause);
		return;
	}
	dir = xstrdup(dirname(path));
	if ((dp = opendir(dir)) == NULL) {
		if (errno == ENOENT)
			doctor_add(r, "config", DOCTOR_OK, NULL, "%s: none yet", dir);
		else
			doctor_add(r, "config", DOCTOR_FAIL,
			    "chmod 700 the folder (it is yours)", "%s: %s", dir,
			    strerror(errno));
		free(dir);
		free(path);
		return;
	}
	while ((e = readdir(dp)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		file = xasprintf("%s/%s", dir, e->d_name);
		n++;
		if (access(file, R_OK) != 0)
			doctor_add(r, "config", DOCTOR_FAIL, "chmod 600 it (it is yours)",
			    "%s: %s", file, strerror(errno));
		else if ((len = strlen(e->d_name)) > 5 &&
		    strcmp(e->d_name + len - 5, ".json") == 0) {
			if ((j = doctor_local_json(file, e->d_name, &cause)) != NULL)
				doctor_add(
				    r, "config", DOCTOR_OK, NULL, "%s: readable", file);
			else
				doctor_add(r, "config", DOCTOR_FAIL,
				    "correct or remove it", "%s", cause);
			cJSON_Delete(j);
			free(cause);
			cause = NULL;
		} else
			doctor_add(r, "config", DOCTOR_OK, NULL, "%s: readable", file);
		free(file);
	}
	closedir(dp);
	if (n == 0)
		doctor_add(r, "config", DOCTOR_OK, NULL, "%s: empty", dir);
	free(dir);
	free(path);
}

/* Every pool host at once: up (with its agent) or not. */
static void
doctor_local_pool(struct doctor_report *r)
{
	cJSON *entries, *res;
	const cJSON *e;
	char *cause = NULL, *name, *fix, *q;

	if ((entries = pool_load(&cause)) == NULL) {
		doctor_add(r, "pool", DOCTOR_FAIL, "correct the file (rdev hosts add/rm)",
		    "%s", cause);
		free(cause);
		return;
	}
	if (cJSON_GetArraySize(entries) == 0) {
		doctor_add(r, "pool", DOCTOR_OK, NULL, "no pool hosts (rdev hosts add)");
		cJSON_Delete(entries);
		return;
	}
	res = pool_probe(entries, DOCTOR_PROBE_TIMEOUT_MS, 0);
	cJSON_ArrayForEach(e, res) {
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(e, "name");
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(e, "pool");
		const cJSON *s = cJSON_GetObjectItemCaseSensitive(e, "state");
		const cJSON *err = cJSON_GetObjectItemCaseSensitive(e, "error");

		name =
		    xasprintf("pool host %s", cJSON_IsString(n) ? n->valuestring : "?");
		if (cJSON_IsString(s) && strcmp(s->valuestring, "up") == 0)
			doctor_add(r, name, DOCTOR_OK, NULL, "up (pool %s)",
			    cJSON_IsString(p) ? p->valuestring : "?");
		else {
			q = doctor_quote(cJSON_IsString(n) ? n->valuestring : "HOST");
			fix = xasprintf("rdev doctor %s says why", q);
			free(q);
			doctor_add(r, name, DOCTOR_WARN, fix, "down (pool %s): %s",
			    cJSON_IsString(p) ? p->valuestring : "?",
			    cJSON_IsString(err) ? err->valuestring : "no answer");
			free(fix);
		}
		free(name);
	}
	cJSON_Delete(res);
	cJSON_Delete(entries);
}

void
doctor_local(struct doctor_report *r)
{
	doctor_local_broker(r);
	doctor_local_docker(r);
	doctor_local_config(r);
	doctor_local_pool(r);
}
