/* serve-sync.c - `rdev-agent serve`: the sync request in its worker process
 * (docs/PROTOCOL.md, "sync"): the answer names what must come, the tar
 * stream comes as DATA on the request's channel, and a CLOSE ends it with
 * the outcome. The work is sync-recv.h's. */
#include "serve-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "agent-cmds.h"
#include "agent-state.h"
#include "buf.h"
#include "log.h"
#include "source-root.h"
#include "sync-recv.h"
#include "xmalloc.h"

/* STATE/sync/NAME.json. New string, or NULL with *cause. */
static char *
serve_sync_index_path(const char *name, char **cause)
{
	char *state = agent_state_dir(cause), *path;

	if (state == NULL)
		return NULL;
	path = xasprintf("%s/sync/%s.json", state, name);
	free(state);
	return path;
}

/* One sync of a workspace at a time (two clients, or a client's second
 * upload while the first still runs): the index is read, then written. The
 * lock's fd, or -1 with *cause. */
static int
serve_sync_lock(const char *name, char **cause)
{
	char *state = agent_state_dir(cause), *key;
	int fd;

	if (state == NULL)
		return -1;
	key = xasprintf("sync-%s", name);
	fd = agent_lock_acquire(state, key, NULL, NULL, cause);
	free(key);
	free(state);
	return fd;
}

/* Read the router's frames for the stream until its EOF (1), a CLOSE or the
 * router's end (0: given up), or an error (-1 with *cause). */
static int
serve_sync_stream(struct serve_job *j, uint32_t ch, struct sync_recv *r, char **cause)
{
	struct buf *in = buf_new();
	struct proto_frame f;
	unsigned char *p;
	size_t used;
	ssize_t n;
	int rc = 0, d;

	for (;;) {
		p = buf_reserve(in, SERVE_READ_SIZE);
		n = read(j->sock, p, SERVE_READ_SIZE);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* the router is gone */
		buf_commit(in, (size_t)n);
		while ((d = proto_decode(buf_data(in), buf_len(in), &f, &used, cause)) ==
		    1) {
			if (f.channel == ch && f.type == PROTO_DATA &&
			    sync_recv_feed(r, f.payload, f.len, cause) != 0)
				rc = -1;
			else if (f.channel == ch && f.type == PROTO_EOF)
				rc = 1;
			else if (f.channel == ch && f.type == PROTO_CLOSE)
				rc = 0;
			else {
				buf_consume(in, used);
				continue;
			}
			buf_consume(in, used);
			if (rc != 0 || f.type == PROTO_CLOSE)
				goto out;
		}
		if (d < 0) {
			rc = -1;
			break;
		}
	}
out:
	buf_free(in);
	return rc;
}

/* Wait for the router to have read our last frames: closing the socket with
 * the peer's bytes still unread in it would reset the router's end, and
 * with it the CLOSE not read yet. So: no more from us, then read (and drop)
 * until the router, having read our end, closes its end. */
static void
serve_sync_linger(struct serve_job *j)
{
	char b[SERVE_READ_SIZE];
	ssize_t n;

	shutdown(j->sock, SHUT_WR);
	while ((n = read(j->sock, b, sizeof b)) != 0)
		if (n < 0 && errno != EINTR)
			break;
}

void
serve_job_sync(struct serve_job *j)
{
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(j->req, "name");
	uint32_t ch =
	    (uint32_t)cJSON_GetObjectItemCaseSensitive(j->req, "channel")->valuedouble;
	struct sync_scan *want = NULL;
	const cJSON *delete = cJSON_GetObjectItemCaseSensitive(j->req, "delete");
	struct sync_recv *r = NULL;
	char *folder = NULL, *index = NULL, *cause = NULL, **del = NULL;
	size_t ndel = 0;
	cJSON *need = NULL, *msg, *result = NULL;
	int rc, lock = -1;

	folder =
	    source_root_folder(cJSON_IsString(name) ? name->valuestring : NULL, &cause);
	if (folder == NULL ||
	    (index = serve_sync_index_path(name->valuestring, &cause)) == NULL ||
	    (lock = serve_sync_lock(name->valuestring, &cause)) < 0 ||
	    sync_scan_from_manifest(
		cJSON_GetObjectItemCaseSensitive(j->req, "files"), &want, &cause) != 0 ||
	    (delete != NULL && sync_paths_from_json(delete, &del, &ndel, &cause) != 0) ||
	    sync_recv_open(folder, index, want, &r, &need, &cause) != 0) {
		serve_job_error(j, cause, CMD_EXIT_FAILURE);
		goto out;
	}
	/* A live sync's batch: only what changed, and what was deleted. */
	if (delete != NULL) {
		sync_recv_partial(r, del, ndel);
		del = NULL;
		ndel = 0;
	}
	msg = cJSON_CreateObject();
	cJSON_AddItemToObject(msg, "id", cJSON_Duplicate(j->id, 1));
	cJSON_AddBoolToObject(msg, "ok", 1);
	cJSON_AddNumberToObject(msg, "channel", ch);
	result = cJSON_AddObjectToObject(msg, "result");
	cJSON_AddStringToObject(result, "folder", folder);
	cJSON_AddItemToObject(result, "need", need);
	result = NULL;
	serve_job_send(j, PROTO_CONTROL, 0, msg);
	cJSON_Delete(msg);
	rc = serve_sync_stream(j, ch, r, &cause);
	msg = cJSON_CreateObject();
	if (rc == 1 && sync_recv_finish(r, &result, &cause) == 0) {
		cJSON_AddNumberToObject(msg, "status", 0);
		cJSON_AddItemToObject(msg, "result", result);
	} else if (rc == 0)
		cJSON_AddStringToObject(msg, "error", "closed by the peer");
	else {
		log_warn("serve: sync %s: %s", folder, cause);
		cJSON_AddStringToObject(msg, "error", cause);
		cJSON_AddNumberToObject(msg, "status", CMD_EXIT_FAILURE);
	}
	serve_job_send(j, PROTO_CLOSE, ch, msg);
	cJSON_Delete(msg);
	serve_sync_linger(j);
out:
	for (size_t i = 0; i < ndel; i++)
		free(del[i]);
	free(del);
	sync_recv_free(r);
	if (lock >= 0)
		agent_lock_release(lock);
	sync_scan_free(want);
	free(folder);
	free(index);
	free(cause);
}
