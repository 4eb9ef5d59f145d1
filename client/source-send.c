/* source-send.c - a SOURCE's workspace on a remote host (source-send.h). */
#include "source-send.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent-state.h"
#include "atomic-file.h"
#include "buf.h"
#include "clock.h"
#include "error.h"
#include "progress.h"
#include "proto.h"
#include "remote.h"
#include "sync-scan.h"
#include "tar-stream.h"
#include "xmalloc.h"

#define SOURCE_SEND_CHANNEL 1
/* DATA frames of this much tar; written out once this much is queued. */
#define SOURCE_SEND_CHUNK (256u << 10)
#define SOURCE_SEND_FLUSH (1u << 20)

static void
source_send_stderr(void *arg, const char *data, size_t len)
{
	(void)arg;
	if (fwrite(data, 1, len, stderr) != len) {
		/* best effort */
	}
}

/* The tar stream on its way: whole chunks become DATA frames. */
struct source_stream {
	struct proto_conn *c;
	struct buf *tar;
};

static int
source_stream_emit(struct source_stream *s, int all, char **cause)
{
	while (buf_len(s->tar) >= SOURCE_SEND_CHUNK || (all && buf_len(s->tar) > 0)) {
		size_t n = buf_len(s->tar) < SOURCE_SEND_CHUNK ? buf_len(s->tar)
							       : SOURCE_SEND_CHUNK;

		proto_conn_queue(
		    s->c, PROTO_DATA, SOURCE_SEND_CHANNEL, buf_data(s->tar), n);
		buf_consume(s->tar, n);
	}
	if (proto_conn_pending_out(s->c) >= SOURCE_SEND_FLUSH || all)
		return proto_conn_flush(s->c, cause);
	return 0;
}

/* One file's header and bytes: as many as fstat said when it was opened
 * (a file that shrinks meanwhile is padded with zeros, one that grows is
 * cut; the next sync sends it again). A file gone meanwhile is left out
 * (the agent counts it as missing). Returns the bytes, or -1 with *cause. */
static long long
source_stream_file(
    struct source_stream *s, int root, const struct sync_entry *e, char **cause)
{
	unsigned long long left, size;
	struct stat sb;
	unsigned char *p;
	ssize_t n;
	size_t want;
	int fd = openat(root, e->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	size = left = (unsigned long long)sb.st_size;
	tar_write_header(
	    s->tar, 'f', e->path, sb.st_mode & 0777, size, sb.st_mtim.tv_sec, NULL);
	while (left > 0) {
		want = left < SOURCE_SEND_CHUNK ? (size_t)left : SOURCE_SEND_CHUNK;
		p = buf_reserve(s->tar, want);
		n = read(fd, p, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			memset(p, 0, want);
			n = (ssize_t)want;
		}
		buf_commit(s->tar, (size_t)n);
		left -= (unsigned long long)n;
		if (source_stream_emit(s, 0, cause) != 0) {
			close(fd);
			return -1;
		}
	}
	close(fd);
	buf_append(s->tar, (const unsigned char[TAR_BLOCK]){ 0 }, tar_pad_len(size));
	return (long long)size;
}

/* The CLOSE that ends the sync: its result, or its error. */
static int
source_stream_close(struct proto_conn *c, cJSON **result, char **cause)
{
	struct proto_frame f;
	const cJSON *err;
	cJSON *m;
	int r;

	for (;;) {
		if ((r = proto_conn_wait(c, &f, -1, cause)) <= 0)
			return -1;
		if (f.type == PROTO_FATAL)
			return error_set(
			    cause, "%.*s", (int)f.len, (const char *)f.payload);
		if (f.type != PROTO_CLOSE || f.channel != SOURCE_SEND_CHANNEL)
			continue;
		if ((m = proto_frame_json(&f, cause)) == NULL)
			return -1;
		err = cJSON_GetObjectItemCaseSensitive(m, "error");
		if (cJSON_IsString(err)) {
			error_set(cause, "%s", err->valuestring);
			cJSON_Delete(m);
			return -1;
		}
		*result = cJSON_DetachItemFromObjectCaseSensitive(m, "result");
		cJSON_Delete(m);
		return *result != NULL ? 0
				       : error_set(cause, "sync ended without a result");
	}
}

/* Send what the agent asked for (need), then the end, then wait for its
 * outcome. */
static int
source_stream_send(struct proto_conn *c, const struct source *src,
    const struct sync_scan *scan, const cJSON *need, struct source_send_stats *st,
    cJSON **result, char **cause)
{
	struct source_stream s = { c, buf_new() };
	const struct sync_entry *e;
	const cJSON *p;
	long long n;
	int root = open(src->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = -1;

	if (root < 0) {
		buf_free(s.tar);
		return error_set_errno(cause, errno, "%s", src->path);
	}
	cJSON_ArrayForEach(p, need) {
		if (!cJSON_IsString(p) ||
		    (e = sync_scan_find(scan, p->valuestring)) == NULL) {
			error_set(cause, "the agent asked for what was not offered");
			goto out;
		}
		if (e->type == 'l') {
			tar_write_header(s.tar, 'l', e->path, 0777, 0, 0, e->link);
			st->sent++;
			continue;
		}
		if (e->type != 'f')
			continue;
		if ((n = source_stream_file(&s, root, e, cause)) < 0)
			goto out;
		st->sent++;
		st->sent_bytes += n;
	}
	tar_write_end(s.tar);
	if (source_stream_emit(&s, 1, cause) != 0)
		goto out;
	proto_conn_queue(c, PROTO_EOF, SOURCE_SEND_CHANNEL, NULL, 0);
	if (proto_conn_flush(c, cause) != 0)
		goto out;
	rc = source_stream_close(c, result, cause);
out:
	close(root);
	buf_free(s.tar);
	return rc;
}

/* obj.name when it is a string, else NULL (borrowed). */
static const char *
source_json_string(const cJSON *obj, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The client's cache of a folder's hashes: STATE/sources/NAME.json, the
 * last scan with each file's size, mtime and inode, so that the next scan
 * reads only files that changed. New string, or NULL when there is no state
 * folder. */
static char *
source_cache_path(const struct source *src)
{
	char *cause = NULL, *dir = agent_state_dir(&cause), *path;

	free(cause);
	if (dir == NULL)
		return NULL;
	path = xasprintf("%s/sources/%s.json", dir, src->name);
	free(dir);
	return path;
}

/* The cached scan of src, or NULL (none, or unreadable: then every file is
 * hashed, as the first time). */
static struct sync_scan *
source_cache_load(const char *path)
{
	struct sync_scan *prev = NULL;
	char *text = NULL;
	size_t len;
	cJSON *j;

	if (path == NULL || file_read_all(path, 256u << 20, &text, &len, NULL) != 0)
		return NULL;
	j = cJSON_ParseWithLength(text, len);
	free(text);
	if (sync_scan_from_manifest(j, &prev, NULL) != 0)
		prev = NULL;
	cJSON_Delete(j);
	return prev;
}

/* Save scan as the cache (best effort: a cache that cannot be written only
 * costs the next scan time). */
static void
source_cache_save(const char *path, const struct sync_scan *scan)
{
	cJSON *j;
	char *text, *dir, *slash;

	if (path == NULL)
		return;
	dir = xstrdup(path);
	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	j = sync_scan_manifest(scan, 1);
	text = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	if (agent_state_mkdir_parents(dir, 0700, NULL) == 0)
		atomic_file_write(path, text, strlen(text), 0600, NULL);
	free(text);
	free(dir);
}

/* The manifest goes to the agent in one message, of at most
 * PROTO_MAX_PAYLOAD bytes: a folder whose list is longer is refused here,
 * saying so in the user's terms, not as a frame the encoder refuses. 0, or
 * -1 with *cause. */
static int
source_manifest_check(const cJSON *req, const struct source *src,
    const struct sync_scan *scan, char **cause)
{
	char *text = cJSON_PrintUnformatted(req);
	size_t len = strlen(text);

	free(text);
	if (len <= PROTO_MAX_PAYLOAD)
		return 0;
	return error_set(cause,
	    "%s: the folder's list of %zu entries takes %zu bytes, more than the "
	    "%u MiB rdev sends in one message: leave folders out with .rdevignore "
	    "(node_modules/, build output), or use a git URL",
	    src->path, scan->n, len, PROTO_MAX_PAYLOAD >> 20);
}

/* The "sync" request for scan (del NULL: the whole folder; else a batch
 * of a live sync, del the paths deleted), then the entries the agent asks
 * for. */
static int
source_send_request(struct remote *r, const struct source *src,
    const struct sync_scan *scan, char *const *del, size_t ndel, char **folder,
    struct source_send_stats *st, char **cause)
{
	cJSON *req, *answer = NULL, *result = NULL, *dl;
	const cJSON *d;
	const char *f;
	int id, rc = -1;

	if (remote_connect(r, cause) != 0)
		return -1;
	req = cJSON_CreateObject();
	cJSON_AddNumberToObject(req, "id", id = remote_next_id(r));
	cJSON_AddStringToObject(req, "op", "sync");
	cJSON_AddStringToObject(req, "name", src->name);
	cJSON_AddNumberToObject(req, "channel", SOURCE_SEND_CHANNEL);
	cJSON_AddItemToObject(req, "files", sync_scan_manifest(scan, 0));
	if (del != NULL) {
		dl = cJSON_AddArrayToObject(req, "delete");
		for (size_t i = 0; i < ndel; i++)
			cJSON_AddItemToArray(dl, cJSON_CreateString(del[i]));
	}
	if (source_manifest_check(req, src, scan, cause) != 0) {
		cJSON_Delete(req);
		goto out;
	}
	if (proto_conn_send_request(remote_conn(r), req, cause) != 0 ||
	    proto_conn_response(
		remote_conn(r), id, NULL, NULL, -1, NULL, &answer, NULL, cause) != 0)
		goto out;
	if ((f = source_json_string(answer, "folder")) == NULL) {
		error_set(cause, "the agent's sync answer has no folder");
		goto out;
	}
	if (folder != NULL)
		*folder = xstrdup(f);
	if (source_stream_send(remote_conn(r), src, scan,
		cJSON_GetObjectItemCaseSensitive(answer, "need"), st, &result,
		cause) != 0) {
		if (folder != NULL) {
			free(*folder);
			*folder = NULL;
		}
		goto out;
	}
	d = cJSON_GetObjectItemCaseSensitive(result, "deleted");
	st->deleted +=
	    cJSON_IsNumber(d) && d->valuedouble > 0 ? (long long)d->valuedouble : 0;
	rc = 0;
out:
	cJSON_Delete(answer);
	cJSON_Delete(result);
	return rc;
}

/* Upload a local folder (the "sync" request). */
static int
source_send_upload(struct remote *r, const struct source *src,
    const struct source_send_opts *o, char **folder, struct source_send_stats *st,
    char **cause)
{
	struct sync_ignore *ig = NULL;
	struct sync_scan *scan = NULL, *prev;
	char *cache = source_cache_path(src);
	int rc = -1;

	prev = source_cache_load(cache);
	if (sync_scan_ignore(src->path, o->scan_flags, &ig, cause) != 0 ||
	    sync_scan(src->path, ig, prev, &scan, cause) != 0)
		goto out;
	st->files = (long long)scan->n;
	st->skipped = (long long)scan->skipped;
	if (source_send_request(r, src, scan, NULL, 0, folder, st, cause) != 0)
		goto out;
	/* (unchanged when every hash was lent and no entry came or went) */
	if (prev == NULL || scan->hashed > 0 || prev->n != scan->n)
		source_cache_save(cache, scan);
	if (o->scan != NULL) {
		*o->scan = scan;
		scan = NULL;
	}
	rc = 0;
out:
	free(cache);
	sync_scan_free(prev);
	sync_scan_free(scan);
	sync_ignore_free(ig);
	return rc;
}

int
source_send_full(struct remote *r, const struct source *s, const struct sync_scan *scan,
    struct source_send_stats *st, char **cause)
{
	memset(st, 0, sizeof *st);
	st->files = (long long)scan->n;
	st->skipped = (long long)scan->skipped;
	return source_send_request(r, s, scan, NULL, 0, NULL, st, cause);
}

int
source_send_batch(struct remote *r, const struct source *s,
    const struct sync_scan *changed, char *const *del, size_t ndel,
    struct source_send_stats *st, char **cause)
{
	static char *const none[1] = { NULL };

	memset(st, 0, sizeof *st);
	st->files = (long long)changed->n;
	return source_send_request(
	    r, s, changed, del != NULL ? del : none, ndel, NULL, st, cause);
}

/* Clone or fetch a git URL on the host (the "clone" request). */
static int
source_send_clone(
    struct remote *r, const struct source *src, int quiet, char **folder, char **cause)
{
	struct progress p = { .fn = source_send_stderr };
	const cJSON *w;
	cJSON *req = cJSON_CreateObject(), *res = NULL;
	const char *f;

	cJSON_AddStringToObject(req, "op", "clone");
	cJSON_AddStringToObject(req, "name", src->name);
	cJSON_AddStringToObject(req, "url", src->url);
	if (remote_request(r, req, quiet ? NULL : &p, &res, NULL, cause) != 0)
		return -1;
	if ((f = source_json_string(res, "folder")) == NULL) {
		cJSON_Delete(res);
		return error_set(cause, "the agent's clone answer has no folder");
	}
	*folder = xstrdup(f);
	cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(res, "warnings"))
		if (cJSON_IsString(w))
			fprintf(stderr, "rdev: warning: %s\n", w->valuestring);
	cJSON_Delete(res);
	return 0;
}

int
source_send(struct remote *r, const struct source *s, const struct source_send_opts *o,
    char **folder, struct source_send_stats *st, char **cause)
{
	struct source_send_stats own = { 0 };
	int quiet = o->quiet;
	long long t0 = clock_now_ms();
	int rc;

	*folder = NULL;
	if (st == NULL)
		st = &own;
	memset(st, 0, sizeof *st);
	if (s->kind == SOURCE_GIT)
		rc = source_send_clone(r, s, quiet, folder, cause);
	else
		rc = source_send_upload(r, s, o, folder, st, cause);
	st->seconds = (double)(clock_now_ms() - t0) / 1000.0;
	if (rc != 0)
		return error_prefix(cause, "%s", s->text);
	if (!quiet && s->kind == SOURCE_LOCAL)
		fprintf(stderr,
		    "rdev: %s -> %s:%s: %lld of %lld entries sent (%lld bytes), "
		    "%lld deleted, in %.2f s\n",
		    s->text, remote_host(r), *folder, st->sent, st->files, st->sent_bytes,
		    st->deleted, st->seconds);
	return 0;
}

int
source_folder(
    struct remote *r, const struct source *s, char **folder, int *exists, char **cause)
{
	cJSON *req = cJSON_CreateObject(), *res = NULL;
	const char *f;

	cJSON_AddStringToObject(req, "op", "source-folder");
	cJSON_AddStringToObject(req, "name", s->name);
	if (remote_request(r, req, NULL, &res, NULL, cause) != 0)
		return -1;
	if ((f = source_json_string(res, "folder")) == NULL) {
		cJSON_Delete(res);
		return error_set(cause, "the agent's source-folder answer has no folder");
	}
	*folder = xstrdup(f);
	*exists = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(res, "exists"));
	cJSON_Delete(res);
	return 0;
}

cJSON *
source_send_stats_json(const struct source_send_stats *st, const char *folder)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "folder", folder);
	cJSON_AddNumberToObject(o, "files", (double)st->files);
	cJSON_AddNumberToObject(o, "sent", (double)st->sent);
	cJSON_AddNumberToObject(o, "sentBytes", (double)st->sent_bytes);
	cJSON_AddNumberToObject(o, "deleted", (double)st->deleted);
	cJSON_AddNumberToObject(o, "skipped", (double)st->skipped);
	cJSON_AddNumberToObject(o, "seconds", st->seconds);
	return o;
}
