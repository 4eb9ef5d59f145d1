/* docker.h - a small blocking client for the Docker Engine API.
 *
 * rdev-agent queries and drives containers through the Engine API on the
 * daemon's unix socket: structured answers, no process per call. (Image
 * builds and compose go through the docker CLI elsewhere.) Each request uses
 * its own connection ("Connection: close"), which keeps the code simple and
 * costs little on a local socket.
 *
 * API version: requests are sent with API 1.41 (Docker Engine 20.10, what
 * rdev is tested against) without asking first; a daemon that refuses 1.41
 * answers 400, and rdev then asks GET /version and speaks the daemon's
 * minimum version if it no longer accepts 1.41, or refuses a daemon older
 * than 1.41 with a message saying so. Streamed requests (pull, exec output)
 * cannot be resent, so they negotiate first unless a request has already
 * succeeded.
 *
 * Timeouts: simple requests fail after DOCKER_TIMEOUT_S seconds without a
 * byte from the daemon (an inactivity timeout, not a deadline); a stop adds
 * its own grace period to that; a pull allows DOCKER_PULL_TIMEOUT_S of
 * silence; a running exec has no timeout at all (a build step may be silent
 * for as long as it likes).
 *
 * Bounds: a response header may hold 64 KiB, a response body 64 MiB (more
 * is an error, as is anything malformed); a pull's progress stream is read
 * line by line and may be of any length, its lines up to 1 MiB.
 *
 * Errors: every function returns 0 on success or -1 with a message in
 * *cause (the caller frees it; cause may be NULL). Messages from the daemon
 * are passed on as "docker: <the daemon's message>"; connection problems
 * name the socket ("permission denied on /var/run/docker.sock (is the user in
 * group docker?)").
 *
 * Ownership: docker_new() pairs with docker_free(); docker_free(NULL) is a
 * no-op. Every char * or cJSON * stored through an out parameter is newly
 * allocated and owned by the caller (free() or cJSON_Delete()); on failure
 * out parameters are left NULL. Arguments are borrowed for the call only.
 * A struct docker is not thread-safe; use one per thread.
 */
#ifndef RDEV_DOCKER_H
#define RDEV_DOCKER_H

#include <stddef.h>

#include <cjson/cJSON.h>

#define DOCKER_DEFAULT_SOCKET "/var/run/docker.sock"
#define DOCKER_TIMEOUT_S 60
#define DOCKER_PULL_TIMEOUT_S 600

struct docker;

/* A client for the daemon at socket_path, or, when socket_path is NULL, at
 * the unix:// path in DOCKER_HOST, or else at /var/run/docker.sock. Nothing
 * is connected yet; a DOCKER_HOST that is not unix:// (tcp://, ssh://) makes
 * every request fail with a message saying only unix sockets are supported. */
struct docker *docker_new(const char *socket_path);
void docker_free(struct docker *d);
/* Every request d makes from now on, all of them together, ends within ms
 * (0: no deadline, each request's own timeout, DOCKER_TIMEOUT_S and
 * longer): for callers that must not stall on a hung or slow dockerd, such
 * as the listening agent answering "info". A request cut short fails with a
 * message naming the budget. (The connect itself is not bounded: a daemon
 * whose accept backlog is full could still hold it.) */
void docker_set_deadline(struct docker *d, int ms);
/* The socket path in use (borrowed, valid until docker_free()); NULL if
 * DOCKER_HOST named something other than a unix socket. */
const char *docker_socket_path(const struct docker *d);
/* The DOCKER_HOST d was made from (its socket, or why none: tcp://), or
 * NULL (a socket_path given, or DOCKER_HOST unset: the default socket);
 * borrowed, valid until docker_free(). */
const char *docker_host_env(const struct docker *d);

/* Low level: send METHOD on PATH (the API path with its query, without the
 * version prefix, e.g. "/containers/json?all=1"), with body (NULL for none)
 * as JSON. Returns 0 with the HTTP status in *status and the parsed body in
 * *response: NULL for an empty body, a cJSON string holding the text for a
 * body that is not JSON. A non-2xx status is NOT an error here. Returns -1
 * with *cause when the daemon could not be reached or answered garbage. */
int docker_request(struct docker *d, const char *method, const char *path,
    const cJSON *body, int *status, cJSON **response, char **cause);
/* Low level, for bodies that are not JSON (the archive endpoints carry
 * tar): as docker_request(), with body_len bytes of body sent as
 * content_type (body NULL: no body, content_type ignored, may be NULL).
 * Returns 0 with the HTTP status in *status and the response body exactly as
 * received in *response (*response_len bytes, plus a NUL not counted; never
 * NULL on success, caller frees; response_len may be NULL). A non-2xx status
 * is NOT an error here. Same bounds and timeout as docker_request(). */
int docker_request_raw(struct docker *d, const char *method, const char *path,
    const char *content_type, const void *body, size_t body_len, int *status,
    char **response, size_t *response_len, char **cause);

/* Has the daemon announced (in the Api-Version header of an answer on this
 * handle) that it speaks API major.minor or newer? 0 before any answer. No
 * request of its own: rdev speaks 1.41 (above), and this says when a request
 * may use a newer version for a newer feature. */
int docker_api_at_least(const struct docker *d, int major, int minor);

/* GET /_ping; *api_version (may be NULL) gets the daemon's newest API
 * version from the Api-Version header. */
int docker_ping(struct docker *d, char **api_version, char **cause);

/* Containers (running, or all if all) carrying every one of the labels,
 * each "key=value" or "key" (any value); labels is NULL-terminated and may
 * be NULL (no filter). *list gets the daemon's JSON array. */
int docker_container_list(
    struct docker *d, const char *const *labels, int all, cJSON **list, char **cause);
/* Containers (running, or all if all) matching the filter key ("label",
 * "volume", "ancestor", ...) with values (NULL-terminated; NULL or empty: no
 * filter), as the daemon reads a filter: a container needs every label, but
 * any one of the volumes. *list gets the daemon's JSON array. */
int docker_container_list_by(struct docker *d, const char *key, const char *const *values,
    int all, cJSON **list, char **cause);
/* GET /containers/{id}/json. A container that does not exist is not an
 * error: 0 with *info NULL. */
int docker_container_inspect(
    struct docker *d, const char *id_or_name, cJSON **info, char **cause);
/* The last lines of a container's output as `docker logs --tail LINES`
 * shows it (stdout and stderr interleaved; tty: the container has a
 * terminal, Config.Tty, and its log is not in frames), at most the last max
 * bytes of them: *text, a new string (caller frees; a NUL in the output
 * ends it early). 0, or -1 with *cause. */
int docker_container_log_tail(struct docker *d, const char *id, int tty, int lines,
    size_t max, char **text, char **cause);
/* Is the container of an inspect object (docker_container_inspect()'s)
 * running (State.Running)? NULL: no. */
int docker_container_running(const cJSON *inspect);
/* GET /images/{name}/json. An image that does not exist locally is not an
 * error: 0 with *info NULL. */
int docker_image_inspect(struct docker *d, const char *image, cJSON **info, char **cause);
/* DELETE /images/{image}, not forced: as `docker rmi`, its untagged parents
 * go too. *removed is 0 when there is no such image (not an error); an image
 * a container uses or another image builds on is an error (the daemon's
 * "conflict: unable to delete ..."). */
int docker_image_remove(struct docker *d, const char *image, int *removed, char **cause);
/* Pull image ("name", "name:tag" or "name@digest"; no tag means "latest")
 * and wait for the pull to end. The daemon's progress stream is read line by
 * line; an {"error": ...} line fails the pull with that message. Registry
 * credentials are not sent (public or pre-authenticated registries only). */
int docker_image_pull(struct docker *d, const char *image, char **cause);

/* POST /containers/create[?name=NAME] with create_body (the Engine API's
 * container config: Image, Cmd, Labels, HostConfig, ...). *id gets the new
 * container's id. name may be NULL. */
int docker_container_create(struct docker *d, const char *name, const cJSON *create_body,
    char **id, char **cause);
/* Start a container; one already running is a success. */
int docker_container_start(struct docker *d, const char *id, char **cause);
/* Stop a container, killing it after timeout_s seconds (negative: the
 * container's own grace, docker_container_grace()'s, passed explicitly so
 * that a hung daemon is given up on DOCKER_TIMEOUT_S after it; a grace of -1,
 * or of a day or more, is waited for without limit): 0 stopped, 1
 * it was stopped already (Docker's 304), -1 with *cause. */
/* The grace period a stop gives container id (its Config.StopTimeout,
 * which Compose sets from stop_grace_period, as it is; -1 when negative:
 * Docker waits forever; 10 s when it has none) in *grace_s, and whether it
 * runs. A container not there: 0 and 0. 0, or -1 with *cause. */
int docker_container_grace(
    struct docker *d, const char *id, int *grace_s, int *running, char **cause);
/* Of ids (NULL-terminated; borrowed): each one's grace into graces[i]
 * (when not NULL: as many as ids; 0 for one not there), how many run, and
 * the longest grace of those (docker_container_grace()): what a stop of them
 * all at once may take (-1: no limit, one waits forever; with more than
 * DOCKER_STOP_PARALLEL running, docker_containers_stop_bound()). 0, or -1
 * with *cause. */
int docker_containers_grace(struct docker *d, char *const *ids, int *graces, int *running,
    int *max_s, char **cause);
int docker_container_stop(struct docker *d, const char *id, int timeout_s, char **cause);
/* At most this many containers of docker_containers_stop are stopped at
 * once (each a thread and a connection to the daemon: 32 threads cost
 * ~1.4 ms and ~0.4 MB more than one), so a typical project is one batch;
 * docs/CLI.md gives the number. */
#define DOCKER_STOP_PARALLEL 32
/* How long docker_containers_stop of running containers whose longest
 * grace is max_s may take, at most: the stops are a pool of
 * DOCKER_STOP_PARALLEL workers each taking the next, so the j-th starts by
 * floor(j / DOCKER_STOP_PARALLEL) graces, and all are done within
 * ceil(running / DOCKER_STOP_PARALLEL) x max_s (max_s when one batch; -1
 * when max_s is: no limit). Pure. */
int docker_containers_stop_bound(int running, int max_s);
/* Stop the containers of ids (NULL-terminated; borrowed) at once, at most
 * DOCKER_STOP_PARALLEL at a time, each on its own connection to d's socket,
 * as docker_container_stop does: each with its grace graces[i]
 * (docker_containers_grace()'s), or graces NULL: each container's own
 * StopTimeout (which Compose sets from stop_grace_period), inspected first;
 * in turn when no thread can be had. *stopped and *already count those
 * stopped now and before; one gone since it was listed (404) counts as
 * stopped before (it was not this call that stopped it). All are waited for; one or more
 * failing: -1 with *cause (new string) naming each that failed. */
int docker_containers_stop(struct docker *d, char *const *ids, const int *graces,
    int *stopped, int *already, char **cause);
/* Remove a container (force: even if running; volumes: with its anonymous
 * volumes). A container that does not exist is an error ("docker: No such
 * container: ..."). */
int docker_container_remove(
    struct docker *d, const char *id, int force, int volumes, char **cause);
/* The same, but a container that is not there (any more) is no error:
 * *removed says whether it was. */
int docker_container_remove_if_there(
    struct docker *d, const char *id, int force, int volumes, int *removed, char **cause);
/* Remove the containers of ids (NULL-terminated; borrowed) in turn, as
 * docker_container_remove_if_there: one gone since it was listed (404) is
 * removed all the same. *done: how many of ids, from the first, are gone
 * (all of them, or those before the one that failed). 0, or -1 with *cause
 * at the first that fails. */
int docker_containers_remove(struct docker *d, char *const *ids, int force, int volumes,
    size_t *done, char **cause);

/* DELETE /volumes/{name}. *removed is 0 when there is no such volume (not
 * an error); one a container uses is an error ("docker: remove NAME: volume
 * is in use - [...]"). */
int docker_volume_remove(struct docker *d, const char *name, int *removed, char **cause);

/* What to run with docker_exec(). argv is NULL-terminated and not empty;
 * user ("name", "uid", "uid:gid"), env ("K=V", NULL-terminated) and workdir
 * may be NULL (the container's defaults). With stdin_data non-NULL the
 * process's stdin is those stdin_len bytes then end-of-file; with it NULL,
 * stdin is not attached (reads see end-of-file at once). No TTY. */
struct docker_exec_opts {
	const char *const *argv;
	const char *user;
	const char *const *env;
	const char *workdir;
	const void *stdin_data;
	size_t stdin_len;
	/* tty: for docker_exec_attach() only, a TTY (the stream is then raw,
	 * not multiplexed). attach_stdin: attach stdin; with docker_exec() and
	 * no stdin_data it is held open, unwritten, until the process ends, so
	 * the process sees end-of-file only if we go away. */
	int tty;
	int attach_stdin;
	/* rows, cols: with tty and both > 0, the TTY's size from the start
	 * (ConsoleSize), so that the command's first read sees it; needs a
	 * daemon with API 1.42 (docker_api_at_least(d, 1, 42)), else the exec
	 * fails. 0: the daemon's default (0x0 until docker_exec_resize()). */
	unsigned rows, cols;
	/* output_held: with docker_exec(), not NULL: once the process has
	 * exited while something it left (a `server &`) still holds its output,
	 * which the daemon then waits for (about 2 s) before it ends the
	 * stream, the stream is not waited for, and *output_held is set to 1
	 * (else 0). Looked at after 1 s without output, then each second. */
	int *output_held;
};

/* Output from a running exec: stream 1 is stdout, 2 stderr; data is
 * borrowed for the call. Called as the output arrives, in order. */
typedef void (*docker_output_cb)(void *arg, int stream, const void *data, size_t len);

/* Run a command in a running container and wait for it to end: create the
 * exec instance, start it on a hijacked connection, write the stdin (if any)
 * while passing output to cb as it arrives, half-close, read to the end,
 * then ask for the exit code. cb may be NULL (output discarded). Returns 0
 * with the command's exit status in *exit_code, or -1 with *cause. As with
 * docker exec, a command that cannot be run is not an error here: it gives
 * 126 or 127, with the daemon's explanation ("OCI runtime exec failed: ...")
 * on stdout. The stdin is written while output is read, so neither side
 * can block the other; if the command exits without reading all of it, the
 * rest is dropped. */
int docker_exec(struct docker *d, const char *container,
    const struct docker_exec_opts *opts, docker_output_cb cb, void *cb_arg,
    int *exit_code, char **cause);
/* docker_exec() collecting stdout in *out and stderr in *err (each may be
 * NULL to discard it): NUL-terminated, allocated, caller frees; each is
 * bounded to 64 MiB, beyond which the exec fails. The output may hold NUL
 * bytes; *out_len and *err_len, when not NULL, get the exact lengths. */
int docker_exec_capture(struct docker *d, const char *container,
    const struct docker_exec_opts *opts, char **out, char **err, int *exit_code,
    char **cause);
int docker_exec_capture_len(struct docker *d, const char *container,
    const struct docker_exec_opts *opts, char **out, size_t *out_len, char **err,
    size_t *err_len, int *exit_code, char **cause);

/* Interactive exec: create the exec and start it on a hijacked connection,
 * then hand that connection to the caller, who pumps it (stdin to it; from
 * it, the output: raw with opts->tty, else Docker's multiplexed frames, see
 * docker-stream.h). *fd gets the connection (caller closes), *exec_id the
 * exec's id (caller frees), and *early (caller frees with buf_free) the
 * output bytes that arrived with the response headers. Then
 * docker_exec_exit() gives the exit code once the stream has ended. */
struct buf;
int docker_exec_attach(struct docker *d, const char *container,
    const struct docker_exec_opts *opts, char **exec_id, int *fd, struct buf **early,
    char **cause);
/* Resize an exec's TTY. */
int docker_exec_resize(
    struct docker *d, const char *exec_id, unsigned rows, unsigned cols, char **cause);
/* GET /exec/{id}/json: the daemon's view of an exec ("Running", "Pid" on
 * the daemon's host, "ContainerID", "ProcessConfig" with "tty" and "user").
 * An exec that does not exist is not an error: 0 with *info NULL. */
int docker_exec_inspect(
    struct docker *d, const char *exec_id, cJSON **info, char **cause);
/* The exit code of an exec whose stream has ended. */
int docker_exec_exit(struct docker *d, const char *exec_id, int *exit_code, char **cause);

#endif
