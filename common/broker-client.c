/* broker-client.c - connecting to the broker (broker-client.h). */
#include "broker-client.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "clock.h"
#include "error.h"
#include "runtime-dir.h"
#include "spawn.h"
#include "xmalloc.h"

char *
broker_client_sibling(const char *name)
{
	char self[PATH_MAX], *slash, *path;
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);

	if (n > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL) {
			*slash = '\0';
			path = xasprintf("%s/%s", self, name);
			if (access(path, X_OK) == 0)
				return path;
			free(path);
		}
	}
	return xstrdup(name);
}

int
broker_socket_addr(struct sockaddr_un *sa, const char *path, char **cause)
{
	memset(sa, 0, sizeof *sa);
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sa->sun_path)
		return error_set(cause, "%s: path too long for a socket", path);
	strcpy(sa->sun_path, path);
	return 0;
}

/* The pause between connects to a socket whose backlog is full. */
#define BROKER_CLIENT_DIAL_PAUSE_MS 50

/* 0 connected (*fd), 1 nobody listens, -1 other error. A deadline
 * (clock_now_ms; 0: none) bounds the connect too: a stopped broker's
 * listen backlog fills, and a blocking connect to it then waits for ever
 * (on Linux a non-blocking one to a full AF_UNIX backlog fails EAGAIN, not
 * EINPROGRESS, and the socket may try again). */
static int
broker_client_dial(const char *path, long long deadline, int *fd, char **cause)
{
	struct sockaddr_un sa;
	long long left;
	int s, e;

	if (broker_socket_addr(&sa, path, cause) != 0)
		return -1;
	if ((s = socket(AF_UNIX,
		 SOCK_STREAM | SOCK_CLOEXEC | (deadline > 0 ? SOCK_NONBLOCK : 0), 0)) < 0)
		return error_set_errno(cause, errno, "socket");
	while (connect(s, (struct sockaddr *)&sa, sizeof sa) != 0) {
		e = errno;
		if (deadline > 0 && (e == EAGAIN || e == EINTR) &&
		    (left = deadline - clock_now_ms()) > 0) {
			poll(NULL, 0,
			    left < BROKER_CLIENT_DIAL_PAUSE_MS
				? (int)left
				: BROKER_CLIENT_DIAL_PAUSE_MS);
			continue;
		}
		close(s);
		if (e == ENOENT || e == ECONNREFUSED)
			return 1;
		if (e == EAGAIN && deadline > 0)
			return error_set(cause,
			    "the broker did not answer in time (its socket %s "
			    "takes no more connections)",
			    path);
		return error_set_errno(cause, e, "%s", path);
	}
	/* (the connection's reads and writes poll: blocking as before) */
	if (deadline > 0 && fcntl(s, F_SETFL, fcntl(s, F_GETFL) & ~O_NONBLOCK) != 0) {
		e = errno;
		close(s);
		return error_set_errno(cause, e, "fcntl");
	}
	*fd = s;
	return 0;
}

int
broker_client_start(char **cause)
{
	char *prog = broker_client_sibling("rdev-broker");
	const char *argv[] = { prog, "start", NULL };
	struct spawn_result r;
	int rc;

	rc = spawn_run(argv, NULL, &r, cause);
	if (rc == 0 && spawn_result_status(&r) != 0) {
		char *tail = spawn_result_tail(&r, 3);

		error_set(cause, "could not start the broker (%s start, exit %d): %s",
		    prog, spawn_result_status(&r), tail);
		free(tail);
		rc = -1;
	}
	spawn_result_free(&r);
	free(prog);
	return rc;
}

int
broker_client_wait_gone(int timeout_ms, void (*slow)(void *), void *arg, char **cause)
{
	char *path;
	int i;

	if ((path = runtime_dir_file(BROKER_SOCKET_NAME, cause)) == NULL)
		return -1;
	for (i = 0; i < timeout_ms / 50 && access(path, F_OK) == 0; i++) {
		if (i == 2000 / 50 && slow != NULL)
			slow(arg);
		usleep(50 * 1000);
	}
	if (access(path, F_OK) == 0) {
		error_set(cause,
		    "still stopping after %d s (its socket %s is still there)",
		    timeout_ms / 1000, path);
		free(path);
		return -1;
	}
	free(path);
	return 0;
}

/* Whether deadline (clock_now_ms; 0: none) has passed: then 1 and *cause
 * says so (a `rdev-broker start`, up to ~10 s while an old broker exits,
 * is not begun after it). */
static int
broker_client_past(long long deadline, char **cause)
{
	if (deadline <= 0 || clock_now_ms() < deadline)
		return 0;
	error_set(cause, "the broker did not answer in time");
	return 1;
}

/* One try: 0 connected, -1 failed, -2 failed because the broker closed or
 * reset the connection before its HELLO. */
static int
broker_client_connect_once(int autostart, const char *software, long long deadline,
    struct proto_conn **c, int *not_running, char **cause)
{
	char *path;
	uint32_t version;
	int fd = -1, rc;

	/* (a look that starts nothing makes no runtime folder: none there,
	 * no broker runs) */
	if (!autostart && runtime_dir_missing()) {
		if (not_running != NULL)
			*not_running = 1;
		return error_set(cause, "no broker is running (no runtime folder)");
	}
	if ((path = runtime_dir_file(BROKER_SOCKET_NAME, cause)) == NULL)
		return -1;
	rc = broker_client_dial(path, deadline, &fd, cause);
	if (rc == 1 && autostart) {
		if (broker_client_past(deadline, cause) ||
		    broker_client_start(cause) != 0) {
			free(path);
			return -1;
		}
		rc = broker_client_dial(path, deadline, &fd, cause);
	}
	if (rc == 1) {
		if (not_running != NULL)
			*not_running = 1;
		error_set(cause, "no broker is running (socket %s)", path);
	}
	free(path);
	if (rc != 0)
		return -1;
	*c = proto_conn_new(fd, "the broker");
	proto_conn_set_deadline(*c, deadline);
	if (proto_conn_handshake(*c, software, &version, cause) != 0) {
		rc = proto_conn_peer_gone(*c) ? -2 : -1;
		proto_conn_free(*c);
		*c = NULL;
		return rc;
	}
	return 0;
}

int
broker_client_connect_nowait(const char *software, struct proto_conn **c, char **cause)
{
	char *path;
	int fd = -1, rc;

	if ((path = runtime_dir_file(BROKER_SOCKET_NAME, cause)) == NULL)
		return -1;
	/* (a 1 ms deadline: a full backlog, a stopped broker's, fails at once;
	 * a blocking connect held the caller, the proxy's loop, for ever) */
	if ((rc = broker_client_dial(path, clock_now_ms() + 1, &fd, cause)) == 1)
		error_set(cause, "no broker is running (socket %s)", path);
	free(path);
	if (rc != 0)
		return -1;
	*c = proto_conn_new(fd, "the broker");
	/* (a new connection's socket buffer takes it whole: no wait) */
	if (proto_conn_send_hello(*c, software, cause) != 0) {
		proto_conn_free(*c);
		*c = NULL;
		return -1;
	}
	return 0;
}

int
broker_client_connect(int autostart, const char *software, struct proto_conn **c,
    int *not_running, char **cause)
{
	return broker_client_connect_by(autostart, software, 0, c, not_running, cause);
}

int
broker_client_connect_by(int autostart, const char *software, long long deadline,
    struct proto_conn **c, int *not_running, char **cause)
{
	int rc;

	if (not_running != NULL)
		*not_running = 0;
	rc = broker_client_connect_once(
	    autostart, software, deadline, c, not_running, cause);
	if (rc != -2 || !autostart)
		return rc == 0 ? 0 : -1;
	/* A broker that is exiting (killed: the socket still took the
	 * connection), or a socket left by one whose listener is no broker:
	 * start one (which waits for an exiting broker, and replaces a socket
	 * whose owner no longer holds the lock) and try once more. */
	if (deadline > 0 && clock_now_ms() >= deadline)
		return -1; /* (*cause: why this try failed) */
	free(*cause);
	*cause = NULL;
	if (broker_client_start(cause) != 0)
		return -1;
	return broker_client_connect_once(
		   autostart, software, deadline, c, not_running, cause) == 0
	    ? 0
	    : -1;
}
