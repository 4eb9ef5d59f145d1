/* exec-relay.h - start a command in a dev container through its rdev-relay
 * (an 'X' connection, relay/relay-exec.h) instead of a Docker exec.
 *
 * A Docker exec costs runc entering the container (about 100 ms here); the
 * relay already runs in the container's namespaces, cgroup and security
 * profile, so it forks the command in a few milliseconds. The command gets
 * what `docker exec` gives it: the user and groups from the container's
 * /etc/passwd and /etc/group, a new session, the environment composed as
 * Docker composes it (exec_relay_env), a TTY with the client's size from the
 * start. Wire format: docs/PROTOCOL.md, "The container relay".
 *
 * Pure parts (request and frame encoding, the environment) are separate from
 * exec_relay_open(), which connects.
 */
#ifndef RDEV_EXEC_RELAY_H
#define RDEV_EXEC_RELAY_H

#include <stddef.h>

#include <cjson/cJSON.h>

struct buf;

/* Frame types, as relay/relay-exec.h has them. */
enum {
	EXEC_RELAY_STDIN = 0,
	EXEC_RELAY_STDOUT = 1,
	EXEC_RELAY_STDERR = 2,
	EXEC_RELAY_MESSAGE = 3,
	EXEC_RELAY_EXIT = 4,
	EXEC_RELAY_RESIZE = 5,
	EXEC_RELAY_SIGNAL = 6,
	EXEC_RELAY_STARTED = 7,
};
#define EXEC_RELAY_MAX_TYPE 7

struct exec_relay_req {
	char *const *argv; /* NULL-terminated, non-empty */
	char *const *env;  /* NULL-terminated: the whole environment */
	const char *user;  /* as Docker takes it: name, uid, name:group, uid:gid */
	const char *workdir;
	int tty;
	unsigned rows, cols; /* the TTY's size; 0: unknown */
};

/* The request's bytes after the 'X' header: u32 length, then the fields.
 * Appended to out. Pure. */
void exec_relay_encode(struct buf *out, const struct exec_relay_req *r);
/* One agent -> relay frame appended to out. Pure. */
void exec_relay_frame(struct buf *out, int type, const void *data, size_t len);

/* The environment Docker gives an exec in container (an inspect): PATH (the
 * image's, or Docker's default), HOSTNAME, TERM=xterm with a TTY, the
 * container's Config.Env, then exec_env (each replacing a variable of the
 * same name in place), without the names in unset (may be NULL). HOME is
 * left to the relay (the user's home from /etc/passwd). New array
 * (env_free). Pure. */
char **exec_relay_env(
    const cJSON *container, int tty, char *const *exec_env, char *const *unset);

/* Connect to the relay at address:port (token: 64 hex), send the request and
 * wait for its first frame. 0 with *fd (non-blocking; the caller closes it)
 * and in early what came after the STARTED frame; 1 when the relay did not
 * start anything (unreachable, refused, closed at once: use a Docker exec),
 * with *cause saying why; -1 and *cause when it may have started it but did
 * not say so in time. A start failure (user or folder unknown, command not
 * found) is 0: its message and status are in early, as frames. */
int exec_relay_open(const char *address, int port, const char *token,
    const struct exec_relay_req *r, int timeout_ms, int *fd, struct buf *early,
    char **cause);

#endif
