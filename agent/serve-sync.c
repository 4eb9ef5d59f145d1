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
#include "error.h"
#include "log.h"
#include "source-root.h"
#include "sync-blocks.h"
#include "sync-prune.h"
#include "sync-pull.h"
#include "sync-recv.h"
#include "sync-send.h"
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

/* A whole sync (a start, or a resume) is a cheap moment to remove the
 * sync state of workspaces whose folder is gone (sync-prune.h); name's is
 * kept (the caller holds its lock). */
static void
serve_sync_prune(const char *name)
{
	char *cause = NULL, *state = agent_state_dir(&cause), *root, *dir;

	if (state == NULL || (root = source_root_dir(&cause)) == NULL) {
		log_debug("serve: sync: no pruning: %s", cause);
		free(cause);
		free(state);
		return;
	}
	dir = xasprintf("%s/sync", state);
	sync_prune(state, dir, root, name);
	free(dir);
	free(root);
	free(state);
}

/* The most manifest text a sync may stream ("filesBytes"). */
#define SERVE_SYNC_MANIFEST_MAX (512u << 20)
/* Room left in the sync answer past what it holds before its "blocks":
 * the key, the frame's JSON framing, with a margin. */
#define SERVE_SYNC_SLACK 4096

/* The next frame on channel ch from the router (in holds what was read and
 * not decoded; f's payload is in it until the next call): 1, 0 when the
 * router is gone, -1 with *cause. Frames of other channels are dropped. */
static int
serve_sync_next(struct serve_job *j, uint32_t ch, struct buf *in, size_t *used,
    struct proto_frame *f, char **cause)
{
	unsigned char *p;
	ssize_t n;
	int d;

	buf_consume(in, *used);
	*used = 0;
	for (;;) {
		while (
		    (d = proto_decode(buf_data(in), buf_len(in), f, used, cause)) == 1) {
			if (f->channel == ch)
				return 1;
			buf_consume(in, *used);
			*used = 0;
		}
		if (d < 0)
			return -1;
		p = buf_reserve(in, SERVE_READ_SIZE);
		n = read(j->sock, p, SERVE_READ_SIZE);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 0; /* the router is gone */
		buf_commit(in, (size_t)n);
	}
}

/* A manifest streamed after the request ("filesBytes": len bytes of JSON
 * as DATA on ch) into *files (new). 0, or -1 with *cause. */
static int
serve_sync_read_manifest(struct serve_job *j, uint32_t ch, const cJSON *bytes,
    struct buf *in, cJSON **files, char **cause)
{
	struct buf *text = buf_new();
	struct proto_frame f;
	size_t used = 0, len;
	int rc;

	*files = NULL;
	if (!cJSON_IsNumber(bytes) || !(bytes->valuedouble >= 2) ||
	    bytes->valuedouble > SERVE_SYNC_MANIFEST_MAX) {
		buf_free(text);
		return error_set(
		    cause, "\"filesBytes\": expected 2 to %u", SERVE_SYNC_MANIFEST_MAX);
	}
	len = (size_t)bytes->valuedouble;
	while (buf_len(text) < len &&
	    (rc = serve_sync_next(j, ch, in, &used, &f, cause)) == 1) {
		if (f.type != PROTO_DATA || f.len > len - buf_len(text))
			break;
		buf_append(text, f.payload, f.len);
	}
	buf_consume(in, used);
	if (buf_len(text) == len)
		*files = cJSON_ParseWithLength((const char *)buf_data(text), len);
	buf_free(text);
	if (*files == NULL && (cause == NULL || *cause == NULL))
		error_set(cause, "the streamed manifest is not %zu bytes of JSON", len);
	return *files != NULL ? 0 : -1;
}

/* need (paths) as indexes in want, the manifest's order (sorted, as the
 * client sends it): what a streamed manifest is answered with, a fraction
 * of its size. New array. */
static cJSON *
serve_sync_need_indexes(const struct sync_scan *want, const cJSON *need)
{
	cJSON *out = cJSON_CreateArray();
	const struct sync_entry *e;
	const cJSON *p;

	cJSON_ArrayForEach(p, need) {
		if ((e = sync_scan_find(want, cJSON_GetStringValue(p))) != NULL)
			cJSON_AddItemToArray(
			    out, cJSON_CreateNumber((double)(e - want->v)));
	}
	return out;
}

/* Read the router's frames for the stream until its EOF (1), a CLOSE or the
 * router's end (0: given up), or an error (-1 with *cause). */
static int
serve_sync_stream(
    struct serve_job *j, uint32_t ch, struct buf *in, struct sync_recv *r, char **cause)
{
	struct proto_frame f;
	size_t used = 0;
	int rc;

	while ((rc = serve_sync_next(j, ch, in, &used, &f, cause)) == 1) {
		if (f.type == PROTO_DATA &&
		    sync_recv_feed(r, f.payload, f.len, cause) != 0)
			return -1;
		if (f.type == PROTO_EOF)
			return 1;
		if (f.type == PROTO_CLOSE)
			return 0;
	}
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
	const cJSON *bytes = cJSON_GetObjectItemCaseSensitive(j->req, "filesBytes");
	struct sync_recv *r = NULL;
	struct buf *in = buf_new();
	char *folder = NULL, *index = NULL, *cause = NULL, **del = NULL, *printed;
	size_t ndel = 0, used;
	cJSON *need = NULL, *msg, *result = NULL, *streamed = NULL, *msg_need;
	int rc, lock = -1;

	/* (read first: the client sends it right after the request) */
	if (bytes != NULL &&
	    serve_sync_read_manifest(j, ch, bytes, in, &streamed, &cause) != 0) {
		serve_job_error(j, cause, CMD_EXIT_FAILURE);
		goto out;
	}
	folder =
	    source_root_folder(cJSON_IsString(name) ? name->valuestring : NULL, &cause);
	if (folder == NULL ||
	    (index = serve_sync_index_path(name->valuestring, &cause)) == NULL ||
	    (lock = serve_sync_lock(name->valuestring, &cause)) < 0 ||
	    sync_scan_from_manifest(streamed != NULL
		    ? streamed
		    : cJSON_GetObjectItemCaseSensitive(j->req, "files"),
		&want, &cause) != 0 ||
	    (delete != NULL && sync_paths_from_json(delete, &del, &ndel, &cause) != 0) ||
	    /* (a two-way sync's last pull, applied: into the index first, so
	     * that what it brought is not taken for a host change) */
	    (sync_pull_ack(folder, index,
		 cJSON_GetStringValue(
		     cJSON_GetObjectItemCaseSensitive(j->req, "pullAck"))),
		0) ||
	    sync_recv_open(folder, index, want, &r, &need, &cause) != 0) {
		serve_job_error(j, cause, CMD_EXIT_FAILURE);
		goto out;
	}
	if (delete == NULL)
		serve_sync_prune(name->valuestring);
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j->req, "keepHostChanges")))
		sync_recv_keep_host_changes(r);
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j->req, "entryErrors")))
		sync_recv_entry_errors(r);
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
	if (streamed != NULL) {
		msg_need = serve_sync_need_indexes(want, need);
		cJSON_Delete(need);
		need = msg_need;
	}
	cJSON_AddItemToObject(result, "need", need);
	/* Large files the host has: their block hashes, for a delta. */
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j->req, "deltas"))) {
		cJSON_AddNumberToObject(result, "blockSize", SYNC_BLOCKS_SIZE);
		/* The answer must fit one message: the hashes get what the rest
		 * (mostly need) leaves, less some slack for "blocks" itself. */
		printed = cJSON_PrintUnformatted(msg);
		used = strlen(printed) + SERVE_SYNC_SLACK;
		free(printed);
		cJSON_AddItemToObject(result, "blocks",
		    sync_recv_blocks(
			r, used < PROTO_MAX_PAYLOAD ? PROTO_MAX_PAYLOAD - used : 0));
	}
	result = NULL;
	serve_job_send(j, PROTO_CONTROL, 0, msg);
	cJSON_Delete(msg);
	rc = serve_sync_stream(j, ch, in, r, &cause);
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
		if (sync_recv_host_write_failed(r))
			cJSON_AddStringToObject(
			    msg, "errorCode", SYNC_ERR_HOST_WRITE_FAILED);
	}
	serve_job_send(j, PROTO_CLOSE, ch, msg);
	cJSON_Delete(msg);
	serve_sync_linger(j);
out:
	buf_free(in);
	cJSON_Delete(streamed);
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
