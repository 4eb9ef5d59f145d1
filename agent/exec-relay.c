/* exec-relay.c - a command started through the container's rdev-relay
 * (exec-relay.h). */
#include "exec-relay.h"

#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "byte-order.h"
#include "clock.h"
#include "env-probe.h"
#include "error.h"
#include "fd-wait.h"
#include "relay-install.h"
#include "xmalloc.h"

#define EXEC_RELAY_HDR 8
/* Docker's PATH when the image sets none (as the daemon's exec has it). */
#define EXEC_RELAY_DEFAULT_PATH \
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static void
exec_relay_field(struct buf *b, char tag, const char *text)
{
	buf_append(b, &tag, 1);
	buf_append(b, text, strlen(text) + 1);
}

void
exec_relay_encode(struct buf *out, const struct exec_relay_req *r)
{
	struct buf *b = buf_new();
	unsigned char len[4];
	char num[16];

	for (size_t i = 0; r->argv[i] != NULL; i++)
		exec_relay_field(b, 'a', r->argv[i]);
	for (size_t i = 0; r->env != NULL && r->env[i] != NULL; i++)
		exec_relay_field(b, 'e', r->env[i]);
	if (r->user != NULL)
		exec_relay_field(b, 'u', r->user);
	if (r->workdir != NULL)
		exec_relay_field(b, 'w', r->workdir);
	if (r->tty) {
		exec_relay_field(b, 't', "");
		if (r->rows > 0 && r->cols > 0 && r->rows <= 65535 && r->cols <= 65535) {
			snprintf(num, sizeof num, "%u", r->rows);
			exec_relay_field(b, 'r', num);
			snprintf(num, sizeof num, "%u", r->cols);
			exec_relay_field(b, 'c', num);
		}
	}
	be_put_u32(len, (uint32_t)buf_len(b));
	buf_append(out, len, sizeof len);
	buf_append(out, buf_data(b), buf_len(b));
	buf_free(b);
}

void
exec_relay_frame(struct buf *out, int type, const void *data, size_t len)
{
	unsigned char h[EXEC_RELAY_HDR] = { (unsigned char)type, 0, 0, 0, 0, 0, 0, 0 };

	be_put_u32(h + 4, (uint32_t)len);
	buf_append(out, h, sizeof h);
	if (len > 0)
		buf_append(out, data, len);
}

/* Set NAME=VALUE in env (n entries, room for one more): replace in place or
 * append. Takes kv. */
static void
exec_relay_env_set(char **env, size_t *n, char *kv)
{
	size_t len = strcspn(kv, "=");

	for (size_t i = 0; i < *n; i++)
		if (strncmp(env[i], kv, len) == 0 && env[i][len] == '=') {
			free(env[i]);
			env[i] = kv;
			return;
		}
	env[(*n)++] = kv;
}

static int
exec_relay_env_listed(char *const *names, const char *kv)
{
	size_t len = strcspn(kv, "=");

	for (size_t i = 0; names != NULL && names[i] != NULL; i++)
		if (strlen(names[i]) == len && strncmp(names[i], kv, len) == 0)
			return 1;
	return 0;
}

char **
exec_relay_env(const cJSON *container, int tty, char *const *exec_env, char *const *unset)
{
	const cJSON *config = cJSON_GetObjectItemCaseSensitive(container, "Config");
	const cJSON *cenv = cJSON_GetObjectItemCaseSensitive(config, "Env");
	const cJSON *host = cJSON_GetObjectItemCaseSensitive(config, "Hostname");
	const cJSON *e;
	size_t cap = 4, n = 0, k = 0;
	char **env, **out;

	cJSON_ArrayForEach(e, cenv)
		cap++;
	for (size_t i = 0; exec_env != NULL && exec_env[i] != NULL; i++)
		cap++;
	env = xcalloc(cap, sizeof *env);
	env[n++] = xstrdup(EXEC_RELAY_DEFAULT_PATH);
	if (cJSON_IsString(host) && *host->valuestring != '\0')
		env[n++] = xasprintf("HOSTNAME=%s", host->valuestring);
	if (tty)
		env[n++] = xstrdup("TERM=xterm");
	cJSON_ArrayForEach(e, cenv)
		if (cJSON_IsString(e) && strchr(e->valuestring, '=') != NULL &&
		    *e->valuestring != '=')
			exec_relay_env_set(env, &n, xstrdup(e->valuestring));
	for (size_t i = 0; exec_env != NULL && exec_env[i] != NULL; i++)
		if (strchr(exec_env[i], '=') != NULL && *exec_env[i] != '=')
			exec_relay_env_set(env, &n, xstrdup(exec_env[i]));
	out = xcalloc(n + 1, sizeof *out);
	for (size_t i = 0; i < n; i++) {
		if (exec_relay_env_listed(unset, env[i]))
			free(env[i]);
		else
			out[k++] = env[i];
	}
	out[k] = NULL;
	free(env);
	return out;
}

static int
exec_relay_send_all(int fd, const unsigned char *p, size_t len, int64_t deadline)
{
	ssize_t n;

	while (len > 0) {
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (fd_wait(fd, POLLOUT, deadline) != 0)
				return -1;
			continue;
		}
		return -1;
	}
	return 0;
}

int
exec_relay_open(const char *address, int port, const char *token,
    const struct exec_relay_req *r, int timeout_ms, int *fdp, struct buf *early,
    char **cause)
{
	int64_t deadline = clock_now_ms() + timeout_ms;
	struct buf *req = buf_new();
	unsigned char in[4096];
	const unsigned char *h;
	ssize_t n;
	size_t len;
	int fd = -1, rc = 1;

	*fdp = -1;
	if (relay_install_connect(address, port, token, 'X', deadline, &fd, cause) != 0)
		goto out;
	exec_relay_encode(req, r);
	if (exec_relay_send_all(fd, buf_data(req), buf_len(req), deadline) != 0) {
		error_set(cause, "relay at %s:%d: the exec request was not taken",
		    address, port);
		goto out;
	}
	/* The first frame: STARTED, or MESSAGE and EXIT (a start failure). */
	for (;;) {
		if (buf_len(early) >= EXEC_RELAY_HDR) {
			h = buf_data(early);
			len = be_get_u32(h + 4);
			if (h[0] != EXEC_RELAY_STARTED) {
				rc = 0; /* frames of a start failure */
				break;
			}
			if (buf_len(early) >= EXEC_RELAY_HDR + len) {
				buf_consume(early, EXEC_RELAY_HDR + len);
				rc = 0;
				break;
			}
		}
		n = recv(fd, in, sizeof in, 0);
		if (n > 0) {
			buf_append(early, in, (size_t)n);
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (fd_wait(fd, POLLIN, deadline) == 0)
				continue;
			/* It may have started the command: no second try. */
			error_set(cause, "relay at %s:%d: no answer to the exec request",
			    address, port);
			rc = -1;
		} else if (n == 0)
			error_set(cause,
			    "relay at %s:%d: closed without starting the command "
			    "(an rdev-relay without exec, or out of processes)",
			    address, port);
		else
			error_set_errno(cause, errno, "relay at %s:%d", address, port);
		break;
	}
	if (rc == 0) {
		*fdp = fd;
		fd = -1;
	} else
		buf_reset(early);
out:
	if (fd >= 0)
		close(fd);
	buf_free(req);
	return rc;
}
