/* op-logs.c - the "logs" operation: the background lifecycle log of the
 * workspace's container. Answers {"containerId":...,"log":TEXT,"truncated":
 * BOOL,"offset":END,"size":N,"background":lifecycle_bg_status_json()}. TEXT
 * is the last "maxBytes" (at most OP_LOGS_MAX) of the log without "offset",
 * else at most that many from byte "offset" on ("" when there is none yet);
 * END is the offset just after TEXT, N the log's size. The background state
 * is read before the log: when it is not "running" and END reaches N, the
 * log is complete. */
#include "agent-ops.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "agent-state.h"
#include "buf.h"
#include "docker.h"
#include "error.h"
#include "lifecycle.h"
#include "owner.h"
#include "workspace.h"
#include "xmalloc.h"

/* The most one answer carries (a frame holds 16 MB). */
#define OP_LOGS_MAX (4u << 20)

/* r's workspace's container and the agent's state directory, where its
 * background lifecycle log (lifecycle_log_path()) and record are: both new
 * strings; -1 with *cause "no dev container for PATH (run `UP_CMD` first)"
 * when there is none, or owner_check()'s when it is another user's (its log
 * is in that user's state directory, not here: an empty answer would say
 * "none yet"). */
static int
op_logs_locate(const struct agent_op_req *r, const char *up_cmd, char **state_dir,
    char **container_id, char **cause)
{
	struct workspace ws;
	struct docker *d = docker_new(NULL);
	int rc = -1;

	*state_dir = *container_id = NULL;
	if (workspace_open_existing(r->workspace, r->config, r->id_labels,
		WORKSPACE_GIT_ROOT_AS_MADE, WORKSPACE_COMMON_DIR_AS_MADE, up_cmd, d, &ws,
		cause) != 0 ||
	    owner_check(ws.container, cause) != 0)
		goto out;
	if ((*state_dir = agent_state_dir(cause)) == NULL)
		goto out;
	*container_id = xstrdup(workspace_container_id(&ws));
	rc = 0;
out:
	workspace_clear(&ws);
	docker_free(d);
	return rc;
}

/* Read at most max bytes of fd from start on into b. */
static int
op_logs_read(
    int fd, off_t start, size_t max, struct buf *b, const char *path, char **cause)
{
	unsigned char *p;
	size_t want;
	ssize_t n;

	while (buf_len(b) < max) {
		want = max - buf_len(b) < 65536 ? max - buf_len(b) : 65536;
		p = buf_reserve(b, want);
		n = pread(fd, p, want, start + (off_t)buf_len(b));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return error_set_errno(cause, errno, "%s", path);
		if (n == 0)
			break;
		buf_commit(b, (size_t)n);
	}
	return 0;
}

static int
op_logs_run(const struct agent_op_req *r, cJSON **result, char **cause)
{
	struct lifecycle_bg_status st = { 0 };
	char *state = NULL, *id = NULL, *path = NULL, *text;
	struct buf *b = buf_new();
	off_t size = 0, start = 0;
	int fd = -1, rc = -1;
	const cJSON *mb = cJSON_GetObjectItemCaseSensitive(r->json, "maxBytes");
	const cJSON *off = cJSON_GetObjectItemCaseSensitive(r->json, "offset");
	size_t max_bytes =
	    cJSON_IsNumber(mb) && mb->valuedouble > 0 && mb->valuedouble < OP_LOGS_MAX
	    ? (size_t)mb->valuedouble
	    : OP_LOGS_MAX;
	long long offset =
	    cJSON_IsNumber(off) && off->valuedouble >= 0 && off->valuedouble < 9e15
	    ? (long long)off->valuedouble
	    : -1;
	char *up_cmd = agent_op_req_up_cmd(r, r->prog_name);

	*result = NULL;
	if (op_logs_locate(r, up_cmd, &state, &id, cause) != 0)
		goto out;
	/* First: a run that is over has written all of its log. */
	if (lifecycle_bg_status_read(state, id, &st, cause) != 0)
		goto out;
	path = lifecycle_log_path(state, id);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 && errno != ENOENT) {
		error_set_errno(cause, errno, "%s", path);
		goto out;
	}
	if (fd >= 0) {
		if ((size = lseek(fd, 0, SEEK_END)) < 0)
			size = 0;
		if (offset < 0)
			start = (size_t)size > max_bytes ? size - (off_t)max_bytes : 0;
		else
			start = offset < (long long)size ? (off_t)offset : size;
		if (op_logs_read(fd, start, max_bytes, b, path, cause) != 0)
			goto out;
	}
	if (start + (off_t)buf_len(b) > size)
		size = start + (off_t)buf_len(b); /* it grew meanwhile */
	*result = cJSON_CreateObject();
	cJSON_AddStringToObject(*result, "containerId", id);
	cJSON_AddNumberToObject(*result, "offset", (double)(start + (off_t)buf_len(b)));
	cJSON_AddNumberToObject(*result, "size", (double)size);
	text = buf_take_string(b, NULL);
	cJSON_AddStringToObject(*result, "log", text);
	free(text);
	cJSON_AddBoolToObject(*result, "truncated", offset < 0 && start > 0);
	cJSON_AddItemToObject(*result, "background", lifecycle_bg_status_json(&st));
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	lifecycle_bg_status_clear(&st);
	buf_free(b);
	free(path);
	free(state);
	free(id);
	free(up_cmd);
	return rc;
}

const struct agent_op agent_op_logs = { "logs", AGENT_OP_WORKSPACE, op_logs_run,
	"the background lifecycle log (from \"offset\", at most \"maxBytes\")" };
