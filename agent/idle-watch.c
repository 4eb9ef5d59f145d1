/* idle-watch.c - stopping a dev container nobody uses (idle-watch.h). */
#include "idle-watch.h"

#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent-state.h"
#include "atomic-file.h"
#include "broker-client.h"
#include "docker.h"
#include "error.h"
#include "log.h"
#include "relay-install.h"
#include "xmalloc.h"

/* How often the watch looks, at most. */
#define IDLE_WATCH_TICK_S 5

long
idle_watch_parse_duration(const char *text)
{
	char *end;
	long n;

	if (*text < '0' || *text > '9')
		return -1;
	errno = 0;
	n = strtol(text, &end, 10);
	if (errno != 0 || n <= 0 || n > 366L * 24 * 3600)
		return -1;
	if (strcmp(end, "") == 0 || strcmp(end, "s") == 0)
		return n;
	if (strcmp(end, "m") == 0)
		return n * 60;
	if (strcmp(end, "h") == 0)
		return n * 3600;
	if (strcmp(end, "d") == 0)
		return n * 86400;
	return -1;
}

/* STATE/idle/<id>.SUFFIX (new), making STATE/idle; NULL with *cause. */
static char *
idle_watch_path(const char *id, const char *suffix, char **cause)
{
	char *state = agent_state_dir(cause), *dir, *path;

	if (state == NULL)
		return NULL;
	dir = xasprintf("%s/idle", state);
	free(state);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		error_set_errno(cause, errno, "cannot create %s", dir);
		free(dir);
		return NULL;
	}
	path = xasprintf("%s/%s.%s", dir, id, suffix);
	free(dir);
	return path;
}

void
idle_watch_removed(const char *id)
{
	static const char *const suffixes[] = { "json", "lock" };
	char *state = agent_state_dir(NULL), *path;

	if (state == NULL)
		return;
	for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
		path = xasprintf("%s/idle/%s.%s", state, id, suffixes[i]);
		if (unlink(path) != 0 && errno != ENOENT)
			log_warn("%s: %s", path, strerror(errno));
		free(path);
	}
	free(state);
}

/* The limit armed for id (seconds; 0: none). */
static long
idle_watch_limit(const char *id)
{
	char *cause = NULL, *path = idle_watch_path(id, "json", &cause), *data = NULL;
	size_t len;
	cJSON *o;
	long limit = 0;

	if (path != NULL && file_read_all(path, 4096, &data, &len, &cause) == 0 &&
	    (o = cJSON_Parse(data)) != NULL) {
		if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(o, "seconds")))
			limit = (long)cJSON_GetObjectItemCaseSensitive(o, "seconds")
				    ->valuedouble;
		cJSON_Delete(o);
	}
	free(cause);
	free(data);
	free(path);
	return limit;
}

int
idle_watch_arm(const char *id, long seconds, char **cause)
{
	char *path = idle_watch_path(id, "json", cause), *text, *prog;
	pid_t pid;
	int status, rc;

	if (path == NULL)
		return -1;
	text = xasprintf("{\"seconds\":%ld}\n", seconds);
	rc = atomic_file_write(path, text, strlen(text), 0600, cause);
	free(text);
	free(path);
	if (rc != 0 || seconds == 0)
		return rc;
	/* Detached twice over: nobody's child, in a session of its own, so
	 * the agent's end (and its process group's signals) leave it be. */
	prog = broker_client_sibling("rdev-agent");
	fflush(NULL);
	if ((pid = fork()) < 0) {
		free(prog);
		return error_set_errno(cause, errno, "fork");
	}
	if (pid == 0) {
		int fd = open("/dev/null", O_RDWR);

		setsid();
		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
		}
		if (fork() == 0) {
			execlp(prog, prog, "idle-watch", id, (char *)NULL);
			_exit(127);
		}
		_exit(0);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	free(prog);
	return 0;
}

int
idle_watch_rearm(const char *id, char **cause)
{
	long limit = idle_watch_limit(id);

	return limit > 0 ? idle_watch_arm(id, limit, cause) : 0;
}

/* Established TCP connections in the network namespace of process pid
 * (its /proc/PID/net/tcp and tcp6: state 01). */
static int
idle_watch_connections(long pid)
{
	const char *files[] = { "tcp", "tcp6" };
	char path[64], line[512], st[8];
	FILE *f;
	int n = 0;

	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		snprintf(path, sizeof path, "/proc/%ld/net/%s", pid, files[i]);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		while (fgets(line, sizeof line, f) != NULL) {
			/* "  0: LOCAL REMOTE ST ..." */
			if (sscanf(line, "%*s %*s %*s %7s", st) == 1 &&
			    strcmp(st, "01") == 0)
				n++;
		}
		fclose(f);
	}
	return n;
}

/* Is exec (its inspect) the container's relay server? It runs for as long
 * as the container does, and is no use of it: what it serves comes as
 * connections. */
static int
idle_watch_relay_server(const cJSON *exec)
{
	const cJSON *pc = cJSON_GetObjectItemCaseSensitive(exec, "ProcessConfig");
	const char *entry =
	    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(pc, "entrypoint"));
	const cJSON *args = cJSON_GetObjectItemCaseSensitive(pc, "arguments");
	const char *first = cJSON_GetStringValue(cJSON_GetArrayItem(args, 0));

	return entry != NULL && strcmp(entry, RELAY_INSTALL_PATH) == 0 && first != NULL &&
	    strcmp(first, "--port-file") == 0;
}

/* Is the container (its inspect) in use: a running exec, or a connection? */
static int
idle_watch_in_use(struct docker *d, const cJSON *c)
{
	const cJSON *execs = cJSON_GetObjectItemCaseSensitive(c, "ExecIDs"), *e;
	const cJSON *pid = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(c, "State"), "Pid");
	cJSON *info;
	char *cause = NULL;
	int running;

	cJSON_ArrayForEach(e, execs) {
		info = NULL;
		if (cJSON_IsString(e) &&
		    docker_exec_inspect(d, e->valuestring, &info, &cause) == 0 &&
		    info != NULL) {
			running = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
				      info, "Running")) &&
			    !idle_watch_relay_server(info);
			cJSON_Delete(info);
			if (running)
				return 1;
		}
		free(cause);
		cause = NULL;
	}
	return cJSON_IsNumber(pid) && pid->valuedouble > 0 &&
	    idle_watch_connections((long)pid->valuedouble) > 0;
}

/* The watch of id, with its lock held; returns when it ends. */
static void
idle_watch_loop(const char *id)
{
	struct docker *d = docker_new(NULL);
	time_t last_use = time(NULL), now;
	cJSON *c = NULL;
	char *cause = NULL;
	long limit, tick;

	for (;;) {
		if ((limit = idle_watch_limit(id)) <= 0)
			break;
		c = NULL;
		if (docker_container_inspect(d, id, &c, &cause) != 0 || c == NULL ||
		    !docker_container_running(c))
			break;
		now = time(NULL);
		if (idle_watch_in_use(d, c))
			last_use = now;
		else if (now - last_use >= limit) {
			log_info("container %.12s: unused for %ld s, stopping it", id,
			    (long)(now - last_use));
			if (docker_container_stop(d, id, -1, &cause) < 0)
				log_warn("container %.12s: %s", id, cause);
			break;
		}
		cJSON_Delete(c);
		c = NULL;
		tick = limit / 4 > IDLE_WATCH_TICK_S ? IDLE_WATCH_TICK_S
		    : limit / 4 > 0		     ? limit / 4
						     : 1;
		sleep((unsigned)tick);
	}
	cJSON_Delete(c);
	free(cause);
	docker_free(d);
}

int
idle_watch_cmd(int argc, char **argv)
{
	char *cause = NULL, *path;
	int fd;

	if (argc != 2 || strspn(argv[1], "0123456789abcdef") != strlen(argv[1]) ||
	    strlen(argv[1]) < 12) {
		fprintf(stderr, "rdev-agent: idle-watch: expected a container id\n");
		return 2;
	}
	if ((path = idle_watch_path(argv[1], "lock", &cause)) == NULL) {
		fprintf(stderr, "rdev-agent: idle-watch: %s\n", cause);
		free(cause);
		return 1;
	}
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	free(path);
	/* One watch per container: another has the lock, and rereads the
	 * limit we may have changed. */
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) != 0)
		return 0;
	idle_watch_loop(argv[1]);
	close(fd);
	return 0;
}
