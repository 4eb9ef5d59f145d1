/* pool-probe.c - asking a pool's hosts for their facts, all at once
 * (pool-probe.h). */
#include "pool-probe.h"

#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "atomic-file.h"
#include "broker-client.h"
#include "buf.h"
#include "error.h"
#include "pool-file.h"
#include "remote.h"
#include "xmalloc.h"

/* One host being probed. */
struct pool_probe_child {
	pid_t pid; /* 0 once reaped */
	int fd;	   /* the read end of its pipe; -1 once at its end */
	struct buf *out;
};

int
pool_probe_target(const char *name, const char *path, struct target *t, char **cause)
{
	char *text = xasprintf("%s:~", name);
	int rc = target_parse(text, t, cause);

	free(text);
	if (rc != 0)
		return -1;
	if (t->kind != TARGET_SSH) {
		target_clear(t);
		return error_set(cause, "pool host '%s': not an SSH host", name);
	}
	free(t->path);
	t->path = xstrdup(path);
	return 0;
}

/* In the child: ask name's agent for "info" and write the answer (or
 * {"error":...}) to fd. Never returns. */
static void __attribute__((noreturn))
pool_probe_child_run(const char *name, int accept_new_host_key, int fd)
{
	struct remote_opts ro = { .quiet = 1, .batch = 1 };
	struct target t;
	struct remote *r = NULL;
	cJSON *req, *result = NULL, *out;
	char *cause = NULL, *text;

	ro.accept_new_host_key = accept_new_host_key;
	if (pool_probe_target(name, "~", &t, &cause) == 0) {
		r = remote_new(&t, &ro);
		req = cJSON_CreateObject();
		cJSON_AddStringToObject(req, "op", "info");
		remote_request(r, req, NULL, &result, NULL, &cause);
	}
	if (result != NULL)
		out = result;
	else {
		out = cJSON_CreateObject();
		cJSON_AddStringToObject(
		    out, "error", cause != NULL ? cause : "no answer");
	}
	text = cJSON_PrintUnformatted(out);
	fd_write_all(fd, text, strlen(text));
	/* _exit: the parent owns stdio's buffers; no leak check of a child
	 * whose memory dies with it. */
	_exit(0);
}

/* Start the probe of name; c->pid 0 when the fork failed. */
static void
pool_probe_start(struct pool_probe_child *c, const char *name, int accept_new)
{
	int fds[2];

	c->pid = 0;
	c->fd = -1;
	c->out = buf_new();
	if (pipe2(fds, O_CLOEXEC) != 0)
		return;
	fflush(stdout);
	fflush(stderr);
	if ((c->pid = fork()) == 0) {
		close(fds[0]);
		pool_probe_child_run(name, accept_new, fds[1]);
	}
	close(fds[1]);
	if (c->pid < 0) {
		c->pid = 0;
		close(fds[0]);
		return;
	}
	c->fd = fds[0];
}

/* Milliseconds on the monotonic clock. */
static long long
pool_probe_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read what the children write until each is at its end or the deadline. */
static void
pool_probe_gather(struct pool_probe_child *c, int n, int timeout_ms)
{
	struct pollfd *pfd = xcalloc((size_t)n, sizeof *pfd);
	long long deadline = pool_probe_now_ms() + timeout_ms, left;
	char chunk[4096];
	ssize_t got;
	int i, open_fds;

	for (;;) {
		open_fds = 0;
		for (i = 0; i < n; i++) {
			pfd[i].fd = c[i].fd;
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
			open_fds += c[i].fd >= 0;
		}
		if (open_fds == 0 || (left = deadline - pool_probe_now_ms()) <= 0)
			break;
		if (poll(pfd, (nfds_t)n, (int)left) < 0 && errno != EINTR)
			break;
		for (i = 0; i < n; i++) {
			if (c[i].fd < 0 || pfd[i].revents == 0)
				continue;
			got = read(c[i].fd, chunk, sizeof chunk);
			if (got > 0)
				buf_append(c[i].out, chunk, (size_t)got);
			else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
				close(c[i].fd);
				c[i].fd = -1;
			}
		}
	}
	free(pfd);
}

/* The row of entry e from its child's answer (text, NULL: none in time). */
static cJSON *
pool_probe_row(const cJSON *e, const char *text, int finished)
{
	cJSON *row = cJSON_CreateObject(),
	      *facts = text != NULL ? cJSON_Parse(text) : NULL;
	cJSON *item;
	const char *err;

	cJSON_AddStringToObject(row, "name", pool_entry_name(e));
	cJSON_AddStringToObject(row, "pool", pool_entry_pool(e));
	cJSON_AddItemToObject(row, "labels",
	    cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(e, "labels"), 1));
	if (!cJSON_IsObject(facts) ||
	    cJSON_GetObjectItemCaseSensitive(facts, "error") != NULL) {
		err = cJSON_GetStringValue(
		    cJSON_GetObjectItemCaseSensitive(facts, "error"));
		cJSON_AddStringToObject(row, "state", "down");
		cJSON_AddStringToObject(row, "error",
		    err != NULL	   ? err
			: finished ? "the probe ended without an answer"
				   : "timeout");
		cJSON_Delete(facts);
		return row;
	}
	cJSON_AddStringToObject(row, "state", "up");
	while ((item = facts->child) != NULL) {
		cJSON_DetachItemViaPointer(facts, item);
		if (cJSON_GetObjectItemCaseSensitive(row, item->string) == NULL)
			cJSON_AddItemToObject(row, item->string, item);
		else
			cJSON_Delete(item);
	}
	cJSON_Delete(facts);
	return row;
}

cJSON *
pool_probe(const cJSON *entries, int timeout_ms, int accept_new_host_key)
{
	int n = cJSON_GetArraySize(entries), i = 0, status;
	struct pool_probe_child *c = xcalloc((size_t)(n > 0 ? n : 1), sizeof *c);
	cJSON *rows = cJSON_CreateArray();
	const cJSON *e;
	char *cause = NULL, *text;

	/* One broker for all: started here, not raced for by n children. */
	if (n > 0 && broker_client_start(&cause) != 0)
		free(cause);
	cJSON_ArrayForEach(e, entries)
		pool_probe_start(&c[i++], pool_entry_name(e), accept_new_host_key);
	pool_probe_gather(c, n, timeout_ms);
	i = 0;
	cJSON_ArrayForEach(e, entries) {
		int finished = c[i].fd < 0 && c[i].pid != 0;

		if (c[i].fd >= 0) {
			kill(c[i].pid, SIGKILL);
			close(c[i].fd);
		}
		if (c[i].pid != 0)
			while (waitpid(c[i].pid, &status, 0) < 0 && errno == EINTR)
				;
		text = finished
		    ? xstrndup((const char *)buf_data(c[i].out), buf_len(c[i].out))
		    : NULL;
		cJSON_AddItemToArray(rows, pool_probe_row(e, text, finished));
		free(text);
		buf_free(c[i].out);
		i++;
	}
	free(c);
	return rows;
}
