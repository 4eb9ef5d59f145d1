/* docker-exec.c - execs through the Docker Engine API: run one to its end
 * (output demultiplexed as it arrives, stdin written meanwhile), capture its
 * output, or hand its hijacked connection to a caller who pumps it; resize,
 * inspect, exit code (docker.h). */
#include "docker-internal.h"

#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "docker-http.h"
#include "docker-stream.h"
#include "error.h"
#include "log.h"
#include "secrets.h"
#include "xmalloc.h"

/* The API version of an exec whose TTY gets its size from the start
 * (ConsoleSize in exec create and start came with 1.42, Docker 23.0). */
#define DOCKER_CONSOLE_SIZE_API "/v1.42"
/* Bound on a "systemerr" message in an exec stream. */
#define DOCKER_MAX_SYSERR 4096

/* An exec's output, while it runs. */
struct docker_exec_run {
	struct docker_stream *demux;
	docker_output_cb cb;
	void *cb_arg;
	struct buf *syserr; /* messages from the daemon (stream type 3) */
};

/* Demultiplex a piece of the hijacked stream and pass it on. */
static int
docker_exec_output(
    struct docker_exec_run *run, const unsigned char *data, size_t len, char **cause)
{
	const unsigned char *payload;
	size_t used, plen;
	int stream, rc;

	while ((rc = docker_stream_feed(run->demux, data, len, &used, &stream, &payload,
		    &plen, cause)) == 1) {
		data += used;
		len -= used;
		if (stream == DOCKER_STREAM_SYSTEMERR) {
			if (buf_len(run->syserr) + plen <= DOCKER_MAX_SYSERR)
				buf_append(run->syserr, payload, plen);
		} else if ((stream == DOCKER_STREAM_STDOUT ||
			       stream == DOCKER_STREAM_STDERR) &&
		    run->cb != NULL)
			run->cb(run->cb_arg, stream, payload, plen);
	}
	return rc;
}

/* Is the exec's TTY to be sized from the start (ConsoleSize, API 1.42)? */
static int
docker_exec_sized(const struct docker_exec_opts *opts)
{
	return opts->tty && opts->rows > 0 && opts->cols > 0;
}

/* Create the exec instance; *exec_id gets its id. */
static int
docker_exec_create(struct docker *d, const char *container,
    const struct docker_exec_opts *opts, char **exec_id, char **cause)
{
	cJSON *body, *cmd, *env, *r, *jid, *size;
	const char *const *p;
	char *enc, *path;
	int rc;

	*exec_id = NULL;
	if (opts->argv == NULL || opts->argv[0] == NULL)
		return error_set(cause, "docker: exec with an empty command");
	if (docker_exec_sized(opts) && !docker_api_at_least(d, 1, 42))
		return error_set(cause,
		    "docker: the daemon takes no exec console size "
		    "(API 1.42 needed)");
	if ((body = cJSON_CreateObject()) == NULL)
		fatal("cJSON: out of memory");
	cJSON_AddBoolToObject(
	    body, "AttachStdin", opts->stdin_data != NULL || opts->attach_stdin);
	cJSON_AddBoolToObject(body, "AttachStdout", 1);
	cJSON_AddBoolToObject(body, "AttachStderr", 1);
	cJSON_AddBoolToObject(body, "Tty", opts->tty != 0);
	cmd = cJSON_AddArrayToObject(body, "Cmd");
	for (p = opts->argv; *p != NULL; p++)
		cJSON_AddItemToArray(cmd, cJSON_CreateString(*p));
	if (opts->env != NULL) {
		env = cJSON_AddArrayToObject(body, "Env");
		for (p = opts->env; *p != NULL; p++)
			cJSON_AddItemToArray(env, cJSON_CreateString(*p));
	}
	if (opts->user != NULL)
		cJSON_AddStringToObject(body, "User", opts->user);
	if (opts->workdir != NULL)
		cJSON_AddStringToObject(body, "WorkingDir", opts->workdir);
	if (docker_exec_sized(opts)) {
		size = cJSON_AddArrayToObject(body, "ConsoleSize");
		cJSON_AddItemToArray(size, cJSON_CreateNumber(opts->rows));
		cJSON_AddItemToArray(size, cJSON_CreateNumber(opts->cols));
	}
	enc = docker_urlencode(container, "");
	path = xasprintf("/containers/%s/exec", enc);
	rc = docker_call_at(d, docker_exec_sized(opts) ? DOCKER_CONSOLE_SIZE_API : NULL,
	    "POST", path, body, DOCKER_TIMEOUT_S * 1000, NULL, NULL, &r, cause);
	free(path);
	free(enc);
	/* The environment may hold secrets (secrets.h). */
	secrets_json_wipe(cJSON_GetObjectItemCaseSensitive(body, "Env"));
	cJSON_Delete(body);
	if (rc != 0)
		return -1;
	jid = cJSON_GetObjectItemCaseSensitive(r, "Id");
	if (!cJSON_IsString(jid) || *jid->valuestring == '\0') {
		cJSON_Delete(r);
		return error_set(cause, "docker: exec create gave no Id");
	}
	*exec_id = xstrdup(jid->valuestring);
	cJSON_Delete(r);
	return 0;
}

/* How long an exec with output_held may be silent before we look whether
 * its process has ended. */
#define DOCKER_EXEC_HELD_MS 1000
/* Once it has: how long the stream may stay silent before its output is
 * taken as held by a process left behind. The daemon may still have the
 * last of what the process wrote to pass on, then closes the stream at
 * once when nothing else holds it: those bytes must not be lost. */
#define DOCKER_EXEC_DRAIN_MS 200

/* Has exec_id's process ended (its inspect says it is not running)? An
 * inspect that fails says no: the stream is then waited for. */
static int
docker_exec_ended(struct docker *d, const char *exec_id)
{
	char *path = xasprintf("/exec/%s/json", exec_id), *why = NULL;
	cJSON *r = NULL;
	int ended = 0;

	if (docker_call(
		d, "GET", path, NULL, DOCKER_TIMEOUT_S * 1000, NULL, NULL, &r, &why) == 0)
		ended = cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(r, "Running"));
	free(why);
	free(path);
	cJSON_Delete(r);
	return ended;
}

/* Start the exec on a hijacked connection and pump stdin and output until
 * the daemon closes the stream (or, with output_held, the process has
 * ended). */
static int
docker_exec_start(struct docker *d, const char *exec_id,
    const struct docker_exec_opts *opts, struct docker_exec_run *run, char **cause)
{
	static const char body[] = "{\"Detach\":false,\"Tty\":false}";
	struct docker_conn *c;
	struct docker_http *h;
	struct buf *errbody = NULL;
	const unsigned char *in = opts->stdin_data;
	size_t in_off = 0;
	int fd, rc = -1, writing, status, ev, ended = 0;
	char *path;
	ssize_t n;
	cJSON *r;

	if (docker_connect(d, &fd, cause) != 0)
		return -1;
	c = xcalloc(1, sizeof *c);
	c->d = d;
	c->fd = fd;
	h = docker_http_new("POST", DOCKER_HTTP_MAX_BODY);
	path = xasprintf("%s/exec/%s/start", d->api_prefix, exec_id);
	if (docker_conn_send(c, "POST", path, "application/json", body, strlen(body), 1,
		DOCKER_TIMEOUT_S * 1000, cause) != 0)
		goto out;
	if (docker_conn_response(c, h, 1, DOCKER_TIMEOUT_S * 1000, NULL, NULL, cause) !=
	    0)
		goto out;
	status = docker_http_status(h);
	log_debug("docker: POST %s -> %d", path, status);
	if (status != 101 && status != 200) {
		errbody = buf_new();
		if (docker_conn_response(c, h, 0, DOCKER_TIMEOUT_S * 1000,
			docker_body_collect, errbody, cause) != 0)
			goto out;
		r = docker_body_json(errbody);
		docker_error(status, r, cause);
		cJSON_Delete(r);
		goto out;
	}

	/* From here on the connection carries the multiplexed stream (after a
	 * 200 without upgrade too: the daemon hijacks it all the same). */
	if (docker_exec_output(run, c->rbuf + c->roff, c->rlen - c->roff, cause) != 0)
		goto out;
	c->roff = c->rlen = 0;
	writing = in != NULL;
	if (writing && opts->stdin_len == 0) {
		shutdown(fd, SHUT_WR);
		writing = 0;
	}
	if (opts->output_held != NULL)
		*opts->output_held = 0;
	for (;;) {
		ev = docker_poll(fd, POLLIN | (writing ? POLLOUT : 0),
		    opts->output_held == NULL ? -1
			: ended		      ? DOCKER_EXEC_DRAIN_MS
					      : DOCKER_EXEC_HELD_MS);
		/* (ended, and silent since: held by a process it left) */
		if (ev == 0 && ended) {
			*opts->output_held = 1;
			log_debug("docker: exec %.12s: ended, its output still held "
				  "open: not waited for",
			    exec_id);
			break;
		}
		/* (silent for a while: has the process itself ended? Then
		 * what it wrote last may still be on its way: read on) */
		if (ev == 0 && docker_exec_ended(d, exec_id))
			ended = 1;
		if (ev == 0)
			continue;
		if (ev < 0) {
			error_set_errno(
			    cause, errno, "docker at %s: poll", d->socket_path);
			goto out;
		}
		if (writing && (ev & (POLLOUT | POLLERR | POLLHUP))) {
			n = send(fd, in + in_off, opts->stdin_len - in_off,
			    MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n < 0 && errno != EINTR && errno != EAGAIN &&
			    errno != EWOULDBLOCK) {
				/* The process is gone and the daemon stopped reading:
				 * not an error, its output and exit code tell. */
				log_debug("docker: exec %.12s: stdin: %s", exec_id,
				    strerror(errno));
				writing = 0;
			} else if (n > 0) {
				in_off += (size_t)n;
				if (in_off == opts->stdin_len) {
					shutdown(fd, SHUT_WR);
					writing = 0;
				}
			}
		}
		if (ev & (POLLIN | POLLERR | POLLHUP)) {
			n = recv(fd, c->rbuf, sizeof c->rbuf, MSG_DONTWAIT);
			if (n < 0) {
				if (errno == EINTR || errno == EAGAIN ||
				    errno == EWOULDBLOCK)
					continue;
				error_set_errno(cause, errno, "docker at %s: exec stream",
				    d->socket_path);
				goto out;
			}
			if (n == 0)
				break;
			if (docker_exec_output(run, c->rbuf, (size_t)n, cause) != 0)
				goto out;
		}
	}
	if ((opts->output_held == NULL || !*opts->output_held) &&
	    docker_stream_eof(run->demux, cause) != 0)
		goto out;
	if (buf_len(run->syserr) > 0) {
		error_set(cause, "docker: %.*s", (int)buf_len(run->syserr),
		    (const char *)buf_data(run->syserr));
		goto out;
	}
	rc = 0;
out:
	buf_free(errbody);
	free(path);
	docker_http_free(h);
	close(fd);
	free(c);
	return rc;
}

/* Ask for the exit code of a finished exec. The daemon records it before
 * closing the stream, but allow it a moment anyway. */
static int
docker_exec_exit_code(struct docker *d, const char *exec_id, int *exit_code, char **cause)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	cJSON *r, *running, *code;
	char *path;
	int tries;

	path = xasprintf("/exec/%s/json", exec_id);
	for (tries = 0;; tries++) {
		if (docker_call(d, "GET", path, NULL, DOCKER_TIMEOUT_S * 1000, NULL, NULL,
			&r, cause) != 0) {
			free(path);
			return -1;
		}
		running = cJSON_GetObjectItemCaseSensitive(r, "Running");
		code = cJSON_GetObjectItemCaseSensitive(r, "ExitCode");
		if (!cJSON_IsTrue(running) && cJSON_IsNumber(code)) {
			*exit_code = code->valueint;
			cJSON_Delete(r);
			free(path);
			return 0;
		}
		cJSON_Delete(r);
		if (tries == 250) {
			free(path);
			return error_set(cause,
			    "docker: exec %.12s: no exit code after its output "
			    "ended",
			    exec_id);
		}
		nanosleep(&ts, NULL);
	}
}

int
docker_exec(struct docker *d, const char *container, const struct docker_exec_opts *opts,
    docker_output_cb cb, void *cb_arg, int *exit_code, char **cause)
{
	struct docker_exec_run run;
	char *exec_id;
	int rc;

	*exit_code = -1;
	if (docker_exec_create(d, container, opts, &exec_id, cause) != 0)
		return -1;
	run.demux = docker_stream_new(DOCKER_STREAM_MAX_FRAME);
	run.cb = cb;
	run.cb_arg = cb_arg;
	run.syserr = buf_new();
	rc = docker_exec_start(d, exec_id, opts, &run, cause);
	if (rc == 0)
		rc = docker_exec_exit_code(d, exec_id, exit_code, cause);
	docker_stream_free(run.demux);
	buf_free(run.syserr);
	free(exec_id);
	return rc;
}

/* Output collected by docker_exec_capture_len(). */
struct docker_capture {
	struct buf *out;
	struct buf *err;
	int overflow;
};

static void
docker_capture_cb(void *arg, int stream, const void *data, size_t len)
{
	struct docker_capture *cap = arg;
	struct buf *b = stream == DOCKER_STREAM_STDOUT ? cap->out : cap->err;

	if (b == NULL)
		return;
	if (buf_len(b) + len > DOCKER_MAX_CAPTURE) {
		cap->overflow = 1;
		return;
	}
	buf_append(b, data, len);
}

int
docker_exec_capture_len(struct docker *d, const char *container,
    const struct docker_exec_opts *opts, char **out, size_t *out_len, char **err,
    size_t *err_len, int *exit_code, char **cause)
{
	struct docker_capture cap = { NULL, NULL, 0 };
	int rc;

	if (out != NULL) {
		*out = NULL;
		cap.out = buf_new();
	}
	if (err != NULL) {
		*err = NULL;
		cap.err = buf_new();
	}
	if (out_len != NULL)
		*out_len = 0;
	if (err_len != NULL)
		*err_len = 0;
	rc = docker_exec(d, container, opts, docker_capture_cb, &cap, exit_code, cause);
	if (rc == 0 && cap.overflow)
		rc = error_set(cause, "docker: output of %s exceeds %d bytes",
		    opts->argv[0], DOCKER_MAX_CAPTURE);
	if (rc == 0) {
		if (out != NULL)
			*out = buf_take_string(cap.out, out_len);
		if (err != NULL)
			*err = buf_take_string(cap.err, err_len);
	}
	buf_free(cap.out);
	buf_free(cap.err);
	return rc;
}

int
docker_exec_capture(struct docker *d, const char *container,
    const struct docker_exec_opts *opts, char **out, char **err, int *exit_code,
    char **cause)
{
	return docker_exec_capture_len(
	    d, container, opts, out, NULL, err, NULL, exit_code, cause);
}

int
docker_exec_attach(struct docker *d, const char *container,
    const struct docker_exec_opts *opts, char **exec_id, int *fd, struct buf **early,
    char **cause)
{
	struct docker_conn *c = NULL;
	struct docker_http *h = NULL;
	struct buf *errbody = NULL;
	char *path = NULL, *body = NULL;
	int cfd = -1, status;
	cJSON *r;

	*fd = -1;
	*early = NULL;
	if (docker_exec_create(d, container, opts, exec_id, cause) != 0)
		return -1;
	if (docker_connect(d, &cfd, cause) != 0)
		goto fail;
	c = xcalloc(1, sizeof *c);
	c->d = d;
	c->fd = cfd;
	h = docker_http_new("POST", DOCKER_HTTP_MAX_BODY);
	if (docker_exec_sized(opts)) {
		path = xasprintf("%s/exec/%s/start", DOCKER_CONSOLE_SIZE_API, *exec_id);
		body =
		    xasprintf("{\"Detach\":false,\"Tty\":true,\"ConsoleSize\":[%u,%u]}",
			opts->rows, opts->cols);
	} else {
		path = xasprintf("%s/exec/%s/start", d->api_prefix, *exec_id);
		body = xstrdup(opts->tty ? "{\"Detach\":false,\"Tty\":true}"
					 : "{\"Detach\":false,\"Tty\":false}");
	}
	if (docker_conn_send(c, "POST", path, "application/json", body, strlen(body), 1,
		DOCKER_TIMEOUT_S * 1000, cause) != 0 ||
	    docker_conn_response(c, h, 1, DOCKER_TIMEOUT_S * 1000, NULL, NULL, cause) !=
		0)
		goto fail;
	status = docker_http_status(h);
	if (status != 101 && status != 200) {
		errbody = buf_new();
		if (docker_conn_response(c, h, 0, DOCKER_TIMEOUT_S * 1000,
			docker_body_collect, errbody, cause) == 0) {
			r = docker_body_json(errbody);
			docker_error(status, r, cause);
			cJSON_Delete(r);
		}
		goto fail;
	}
	*early = buf_new();
	buf_append(*early, c->rbuf + c->roff, c->rlen - c->roff);
	*fd = cfd;
	free(body);
	free(path);
	free(c);
	docker_http_free(h);
	return 0;
fail:
	buf_free(errbody);
	free(body);
	free(path);
	free(c);
	docker_http_free(h);
	if (cfd >= 0)
		close(cfd);
	free(*exec_id);
	*exec_id = NULL;
	return -1;
}

int
docker_exec_resize(
    struct docker *d, const char *exec_id, unsigned rows, unsigned cols, char **cause)
{
	char *path = xasprintf("/exec/%s/resize?h=%u&w=%u", exec_id, rows, cols);
	int rc;

	rc = docker_call(
	    d, "POST", path, NULL, DOCKER_TIMEOUT_S * 1000, NULL, NULL, NULL, cause);
	free(path);
	return rc;
}

int
docker_exec_inspect(struct docker *d, const char *exec_id, cJSON **info, char **cause)
{
	char *enc = docker_urlencode(exec_id, ""), *path;
	int rc;

	*info = NULL;
	if (*exec_id == '\0') {
		free(enc);
		return error_set(cause, "docker: empty exec id");
	}
	path = xasprintf("/exec/%s/json", enc);
	rc = docker_inspect(d, path, info, cause);
	free(path);
	free(enc);
	return rc;
}

int
docker_exec_exit(struct docker *d, const char *exec_id, int *exit_code, char **cause)
{
	return docker_exec_exit_code(d, exec_id, exit_code, cause);
}
