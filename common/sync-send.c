/* sync-send.c - the sending side of the "sync" request (sync-send.h). */
#include "sync-send.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "atomic-file.h"
#include "buf.h"
#include "error.h"
#include "json-get.h"
#include "proto-conn.h"
#include "proto.h"
#include "sync-blocks.h"
#include "sync-cover.h"
#include "sync-scan.h"
#include "tar-stream.h"
#include "xmalloc.h"

#define SYNC_SEND_CHANNEL 1
/* DATA frames of this much tar; written out once this much is queued. */
#define SYNC_SEND_CHUNK (256u << 10)
#define SYNC_SEND_FLUSH (1u << 20)

/* The tar stream on its way: whole chunks become DATA frames. */
struct sync_send_stream {
	struct proto_conn *c;
	struct buf *tar;
};

static int
sync_send_stream_emit(struct sync_send_stream *s, int all, char **cause)
{
	while (buf_len(s->tar) >= SYNC_SEND_CHUNK || (all && buf_len(s->tar) > 0)) {
		size_t n =
		    buf_len(s->tar) < SYNC_SEND_CHUNK ? buf_len(s->tar) : SYNC_SEND_CHUNK;

		proto_conn_queue(
		    s->c, PROTO_DATA, SYNC_SEND_CHANNEL, buf_data(s->tar), n);
		buf_consume(s->tar, n);
	}
	if (proto_conn_pending_out(s->c) >= SYNC_SEND_FLUSH || all)
		return proto_conn_flush(s->c, cause);
	return 0;
}

/* One file's header and bytes: as many as fstat said when it was opened
 * (a file that shrinks meanwhile is padded with zeros, one that grows is
 * cut; the next sync sends it again). A file gone meanwhile is left out
 * (the agent counts it as missing). Returns the bytes, or -1 with *cause. */
static long long
sync_send_stream_file(
    struct sync_send_stream *s, int root, const struct sync_entry *e, char **cause)
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
		want = left < SYNC_SEND_CHUNK ? (size_t)left : SYNC_SEND_CHUNK;
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
		if (sync_send_stream_emit(s, 0, cause) != 0) {
			close(fd);
			return -1;
		}
	}
	close(fd);
	buf_append(s->tar, (const unsigned char[TAR_BLOCK]){ 0 }, tar_pad_len(size));
	return (long long)size;
}

/* The host's block hashes for one needed file (the answer's "blocks"). */
struct sync_send_blocks {
	unsigned char *hashes; /* n * SYNC_BLOCKS_HASH bytes */
	size_t n;
	unsigned long long size; /* the host file's */
	size_t block;
};

/* n bytes at off of fd into p; zeros past the end of the file (one that
 * shrank meanwhile: the host's check fails, the file goes whole next). */
static void
sync_send_pread(int fd, unsigned char *p, size_t n, unsigned long long off)
{
	size_t have = fd_pread_full(fd, p, n, (off_t)off);

	memset(p + have, 0, n - have);
}

/* Which of the file's blocks the host has (new: free it), and the whole
 * hash the host checks: the scan's (e->hash) while the file's size and
 * mtime are the scan's, else hashed here too (a file still being written:
 * what is read now). One read of the file. */
static long *
sync_send_delta_plan(int fd, const struct sync_entry *e, const struct stat *sb,
    const struct sync_send_blocks *hb, struct sync_blocks_delta *d, size_t *matched)
{
	unsigned long long size = (unsigned long long)sb->st_size;
	size_t n = sync_blocks_count(size, hb->block), len, hlen;
	long *match = xcalloc(n + 1, sizeof *match);
	unsigned char *p = xmalloc(hb->block), h[SYNC_BLOCKS_HASH];
	crypto_generichash_state whole;
	int rehash = sb->st_size != e->size ||
	    sync_time_ns(&sb->st_mtim) != e->mtime_ns ||
	    sodium_hex2bin(d->hash, sizeof d->hash, e->hash, strlen(e->hash), NULL, &hlen,
		NULL) != 0 ||
	    hlen != sizeof d->hash;

	*matched = 0;
	d->block = hb->block;
	d->size = size;
	crypto_generichash_init(&whole, NULL, 0, SYNC_BLOCKS_HASH);
	for (size_t k = 0; k < n; k++) {
		len = sync_blocks_len(size, hb->block, k);
		sync_send_pread(fd, p, len, (unsigned long long)k * hb->block);
		if (rehash)
			crypto_generichash_update(&whole, p, len);
		sync_blocks_hash(p, len, h);
		match[k] =
		    sync_blocks_match(hb->hashes, hb->n, hb->size, hb->block, k, len, h);
		*matched += match[k] >= 0;
	}
	if (rehash)
		crypto_generichash_final(&whole, d->hash, sizeof d->hash);
	free(p);
	return match;
}

/* One file as a delta against the host's blocks (sync-blocks.h): read once
 * to hash its blocks, then again for the bytes of those the host lacks (a
 * file changed between the two fails the host's check, and is sent whole
 * next). Returns the body's bytes, -2 when no block matched (the caller
 * sends it whole), or -1 with *cause. */
static long long
sync_send_stream_delta(struct sync_send_stream *s, int root, const struct sync_entry *e,
    const struct sync_send_blocks *hb, char **cause)
{
	struct sync_blocks_delta d;
	unsigned long long body, size;
	struct stat sb;
	size_t matched, len;
	long *match;
	char *pax;
	int fd = openat(root, e->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		if (fd >= 0)
			close(fd);
		return -2; /* (gone: as for a whole file) */
	}
	size = (unsigned long long)sb.st_size;
	match = sync_send_delta_plan(fd, e, &sb, hb, &d, &matched);
	if (matched == 0) {
		free(match);
		close(fd);
		return -2;
	}
	body = sync_blocks_body_len(match, size, hb->block);
	pax = sync_blocks_delta_format(&d);
	tar_write_header_pax(s->tar, 'f', e->path, sb.st_mode & 0777, body,
	    sb.st_mtim.tv_sec, NULL, SYNC_BLOCKS_PAX, pax);
	free(pax);
	for (size_t k = 0; k < sync_blocks_count(size, hb->block); k++) {
		sync_blocks_put_op(s->tar, match[k]);
		if (match[k] < 0) {
			len = sync_blocks_len(size, hb->block, k);
			sync_send_pread(fd, buf_reserve(s->tar, len), len,
			    (unsigned long long)k * hb->block);
			buf_commit(s->tar, len);
		}
		if (sync_send_stream_emit(s, 0, cause) != 0) {
			free(match);
			close(fd);
			return -1;
		}
	}
	free(match);
	close(fd);
	buf_append(s->tar, (const unsigned char[TAR_BLOCK]){ 0 }, tar_pad_len(body));
	return (long long)body;
}

/* The CLOSE that ends the sync: its result, or its error (and *host_write
 * set when its errorCode says a write on the host failed). */
static int
sync_send_stream_close(
    struct proto_conn *c, cJSON **result, int *host_write, char **cause)
{
	struct proto_frame f;
	const cJSON *err;
	const char *code;
	cJSON *m;
	int r;

	*host_write = 0;
	for (;;) {
		if ((r = proto_conn_wait(c, &f, -1, cause)) <= 0)
			return -1;
		if (f.type == PROTO_FATAL) {
			/* (the broker's, for a host it lost: its error, not
			 * the frame's JSON) */
			if ((m = proto_frame_json(&f, cause)) == NULL)
				return -1;
			err = cJSON_GetObjectItemCaseSensitive(m, "error");
			error_set(cause, "%s",
			    cJSON_IsString(err) ? err->valuestring
						: "the peer ended the sync");
			cJSON_Delete(m);
			return -1;
		}
		if (f.type != PROTO_CLOSE || f.channel != SYNC_SEND_CHANNEL)
			continue;
		if ((m = proto_frame_json(&f, cause)) == NULL)
			return -1;
		err = cJSON_GetObjectItemCaseSensitive(m, "error");
		if (cJSON_IsString(err)) {
			code = json_get_string(m, "errorCode");
			*host_write =
			    code != NULL && strcmp(code, SYNC_ERR_HOST_WRITE_FAILED) == 0;
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

/* The largest host file size an answer's blocks may claim. */
#define SYNC_SEND_BLOCKS_SIZE_MAX 4503599627370496.0 /* 2^52 */

/* The answer's "blocks" (docs/PROTOCOL.md, "Deltas"), by position in its
 * need list of nneed entries (new: sync_send_blocks_free); those without
 * are zeros. Malformed items are left out: those files go whole. */
static struct sync_send_blocks *
sync_send_blocks_parse(const cJSON *answer, size_t nneed)
{
	struct sync_send_blocks *v = xcalloc(nneed + 1, sizeof *v);
	const cJSON *bs = cJSON_GetObjectItemCaseSensitive(answer, "blockSize"), *b;
	const char *h;
	size_t len;

	if (!cJSON_IsNumber(bs) || bs->valuedouble < 4096 ||
	    bs->valuedouble > (16u << 20))
		return v;
	cJSON_ArrayForEach(b, cJSON_GetObjectItemCaseSensitive(answer, "blocks")) {
		double k =
		    cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(b, "need"));
		double size =
		    cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(b, "size"));
		struct sync_send_blocks *x;

		size_t n;

		h = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(b, "hashes"));
		/* (a size past 2^52 is no file's, and no double's integer) */
		if (!(k >= 0 && k < (double)nneed) ||
		    !(size >= 0 && size <= SYNC_SEND_BLOCKS_SIZE_MAX) || h == NULL)
			continue;
		/* The hashes' length checked before their room is taken: a
		 * size the hashes do not match is a malformed item, not an
		 * allocation of what it claims. */
		n = sync_blocks_count((unsigned long long)size, (size_t)bs->valuedouble);
		if (strlen(h) !=
		    sodium_base64_encoded_len(
			n * SYNC_BLOCKS_HASH, sodium_base64_VARIANT_ORIGINAL) -
			1)
			continue;
		x = &v[(size_t)k];
		free(x->hashes);
		x->block = (size_t)bs->valuedouble;
		x->size = (unsigned long long)size;
		x->n = n;
		x->hashes = xcalloc(x->n + 1, SYNC_BLOCKS_HASH);
		if (sodium_base642bin(x->hashes, x->n * SYNC_BLOCKS_HASH, h, strlen(h),
			NULL, &len, NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
		    len != x->n * SYNC_BLOCKS_HASH) {
			free(x->hashes);
			x->hashes = NULL;
		}
	}
	return v;
}

static void
sync_send_blocks_free(struct sync_send_blocks *v, size_t n)
{
	for (size_t i = 0; v != NULL && i < n; i++)
		free(v[i].hashes);
	free(v);
}

/* Send what the agent asked for (the answer's need, with its blocks), then
 * the end, then wait for its outcome. */
static int
sync_send_stream_send(struct proto_conn *c, const char *path,
    const struct sync_scan *scan, const cJSON *answer, struct sync_send_stats *st,
    cJSON **result, char **cause)
{
	struct sync_send_stream s = { c, buf_new() };
	const cJSON *need = cJSON_GetObjectItemCaseSensitive(answer, "need"), *p;
	size_t nneed = (size_t)cJSON_GetArraySize(need), pos = 0;
	struct sync_send_blocks *blocks = sync_send_blocks_parse(answer, nneed);
	const struct sync_entry *e;
	long long n;
	int root = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = -1;

	if (root < 0) {
		buf_free(s.tar);
		sync_send_blocks_free(blocks, nneed);
		return error_set_errno(cause, errno, "%s", path);
	}
	cJSON_ArrayForEach(p, need) {
		/* a path, or (for a streamed manifest) its index in it */
		if (cJSON_IsNumber(p) && p->valuedouble >= 0 &&
		    p->valuedouble < (double)scan->n)
			e = &scan->v[(size_t)p->valuedouble];
		else if (cJSON_IsString(p))
			e = sync_scan_find(scan, p->valuestring);
		else
			e = NULL;
		pos++;
		if (e == NULL) {
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
		n = blocks[pos - 1].hashes != NULL
		    ? sync_send_stream_delta(&s, root, e, &blocks[pos - 1], cause)
		    : -2;
		if (n == -2)
			n = sync_send_stream_file(&s, root, e, cause);
		if (n < 0)
			goto out;
		st->sent++;
		st->sent_bytes += n;
	}
	tar_write_end(s.tar);
	if (sync_send_stream_emit(&s, 1, cause) != 0)
		goto out;
	proto_conn_queue(c, PROTO_EOF, SYNC_SEND_CHANNEL, NULL, 0);
	if (proto_conn_flush(c, cause) != 0)
		goto out;
	rc = sync_send_stream_close(c, result, &st->host_write_failed, cause);
out:
	close(root);
	buf_free(s.tar);
	sync_send_blocks_free(blocks, nneed);
	return rc;
}

/* The most manifest text that goes inline in the request (one message, at
 * most PROTO_MAX_PAYLOAD with the rest of it); a longer one is streamed
 * after it. $RDEV_SYNC_INLINE_MAX lowers it (tests: a small folder streamed). */
static size_t
sync_send_manifest_inline_max(void)
{
	const char *v = getenv("RDEV_SYNC_INLINE_MAX");
	size_t max = PROTO_MAX_PAYLOAD - (64u << 10); /* room for the rest */
	char *end;
	unsigned long long n;

	if (v != NULL && *v != '\0') {
		n = strtoull(v, &end, 10);
		if (*end == '\0' && n < max)
			max = (size_t)n;
	}
	return max;
}

/* Put the manifest text into req: inline ("files") when it is small
 * enough, else its length ("filesBytes") with the text left in *stream
 * (new) for sync_send_manifest_stream, after the request. */
static void
sync_send_manifest_put(cJSON *req, const struct sync_scan *scan, char **stream)
{
	cJSON *files = sync_scan_manifest(scan, 0);
	char *text;

	/* (printed once: the text goes into req as it is) */
	*stream = NULL;
	text = cJSON_PrintUnformatted(files);
	cJSON_Delete(files);
	if (strlen(text) <= sync_send_manifest_inline_max()) {
		cJSON_AddRawToObject(req, "files", text);
		free(text);
		return;
	}
	cJSON_AddNumberToObject(req, "filesBytes", (double)strlen(text));
	*stream = text;
}

/* A manifest too long for one message, as DATA on the request's channel. */
static int
sync_send_manifest_stream(struct proto_conn *c, const char *text, char **cause)
{
	size_t len = strlen(text), n;

	for (size_t off = 0; off < len; off += n) {
		n = len - off < SYNC_SEND_CHUNK ? len - off : SYNC_SEND_CHUNK;
		proto_conn_queue(c, PROTO_DATA, SYNC_SEND_CHANNEL, text + off, n);
		if (proto_conn_pending_out(c) >= SYNC_SEND_FLUSH &&
		    proto_conn_flush(c, cause) != 0)
			return -1;
	}
	return proto_conn_flush(c, cause);
}

/* The agent's count name and its paths (names) into *count and paths
 * (when not NULL). */
static void
sync_send_count_paths(const cJSON *result, const char *name, const char *names,
    long long *count, cJSON *paths)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(result, name), *p;

	if (!cJSON_IsNumber(n) || n->valuedouble <= 0)
		return;
	*count += (long long)n->valuedouble;
	if (paths == NULL)
		return;
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(result, names))
		if (cJSON_IsString(p))
			cJSON_AddItemToArray(paths, cJSON_CreateString(p->valuestring));
}

/* Two-way: the agent's "keptAs" (docs/PROTOCOL.md, "sync"), host entries
 * of its "hostChanged" kept under a conflict name, into st as conflicts:
 * counted in st->kept, appended to st->kept_as, taken out of
 * st->host_changed and st->host_changed_paths (appended from start on by
 * this result). */
static void
sync_send_kept_as(const cJSON *result, struct sync_send_stats *st, int start)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(result, "keptAsCount");
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(result, "keptAs"), *k, *p;
	const char *path, *as;
	long long count, named = 0;
	int i;

	if (!st->keep_host_changes || !cJSON_IsNumber(n) || n->valuedouble <= 0)
		return;
	count = (long long)n->valuedouble;
	if (count > st->host_changed)
		count = st->host_changed; /* (a malformed answer: never below 0) */
	st->kept += count;
	st->host_changed -= count;
	cJSON_ArrayForEach(k, list) {
		path = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(k, "path"));
		as = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(k, "as"));
		if (path == NULL || as == NULL)
			continue;
		if (named++ >= count)
			break; /* (a malformed answer: no more named than counted) */
		if (st->kept_as != NULL) {
			cJSON *o = cJSON_CreateObject();

			cJSON_AddStringToObject(o, "path", path);
			cJSON_AddStringToObject(o, "as", as);
			cJSON_AddItemToArray(st->kept_as, o);
		}
		/* (named as a conflict: not as a replaced host change too) */
		for (i = start; st->host_changed_paths != NULL &&
		     (p = cJSON_GetArrayItem(st->host_changed_paths, i)) != NULL;
		     i++)
			if (strcmp(p->valuestring, path) == 0) {
				cJSON_DeleteItemFromArray(st->host_changed_paths, i);
				break;
			}
	}
}

/* The agent's "hostChanged" (of which, two-way, "keptAs" are conflicts)
 * and "hostKept" counts and paths (docs/PROTOCOL.md, "sync") into st. */
static void
sync_send_host_changes(const cJSON *result, struct sync_send_stats *st)
{
	int start = st->host_changed_paths != NULL
	    ? cJSON_GetArraySize(st->host_changed_paths)
	    : 0;

	sync_send_count_paths(result, "hostChanged", "hostChangedPaths",
	    &st->host_changed, st->host_changed_paths);
	sync_send_kept_as(result, st, start);
	sync_send_count_paths(
	    result, "hostKept", "hostKeptPaths", &st->host_kept, st->host_kept_paths);
}

/* The agent's "failed" entries and "failedCount" (docs/PROTOCOL.md,
 * "sync") into st, when it asked for them. */
static void
sync_send_note_failed(const cJSON *result, struct sync_send_stats *st)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(result, "failedCount"), *f;
	const char *path, *error;
	cJSON *o;

	if (st->failed == NULL || !cJSON_IsNumber(n) || n->valuedouble <= 0)
		return;
	st->failed_count += (long long)n->valuedouble;
	cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(result, "failed")) {
		path = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "path"));
		error =
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "error"));
		if (path == NULL || !sync_path_ok(path))
			continue;
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "path", path);
		cJSON_AddStringToObject(o, "error", error != NULL ? error : "failed");
		cJSON_AddItemToArray(st->failed, o);
	}
}

/* Is an element of cover (n) under path (not path itself)? */
static int
sync_send_cover_below(char *const *cover, size_t n, const char *path)
{
	size_t len = strlen(path);

	for (size_t i = 0; i < n; i++)
		if (strncmp(cover[i], path, len) == 0 && cover[i][len] == '/')
			return 1;
	return 0;
}

/* Append path to st->failed_under: one the agent named only by a folder. */
static void
sync_send_add_under(struct sync_send_stats *st, const char *path)
{
	size_t n = st->nfailed_under;

	/* (doubling at each power of two) */
	if ((n & (n - 1)) == 0)
		st->failed_under = xreallocarray(
		    st->failed_under, n == 0 ? 1 : 2 * n, sizeof *st->failed_under);
	st->failed_under[st->nfailed_under++] = xstrdup(path);
}

int
sync_send_note_under(const cJSON *result, const struct sync_scan *scan, char *const *del,
    size_t ndel, struct sync_send_stats *st)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(result, "failedUnder"), *p;
	const struct sync_entry *e;
	char **cover;
	size_t n = 0;

	if (st->failed == NULL || !cJSON_IsArray(a) || cJSON_GetArraySize(a) == 0)
		return 0;
	cover = xcalloc((size_t)cJSON_GetArraySize(a) + 1, sizeof *cover);
	cJSON_ArrayForEach(p, a) {
		if (!cJSON_IsString(p) || !sync_path_ok(p->valuestring)) {
			sync_paths_free(cover, n);
			return 0; /* (no cover: the whole folder goes again) */
		}
		cover[n++] = xstrdup(p->valuestring);
	}
	qsort(cover, n, sizeof *cover, sync_path_cmp);
	if (st->failed_under_first == NULL) {
		st->failed_under_first = xstrdup(cover[0]);
		e = sync_scan_find(scan, cover[0]);
		st->failed_under_type = e != NULL ? e->type : 0;
	}
	for (size_t i = 0; i < scan->n; i++)
		if (sync_cover_has(cover, n, scan->v[i].path))
			sync_send_add_under(st, scan->v[i].path);
	/* (a deletion of a folder holding one goes again too: the agent
	 * deletes what is under a deleted path) */
	for (size_t i = 0; del != NULL && i < ndel; i++)
		if (sync_cover_has(cover, n, del[i]) ||
		    sync_send_cover_below(cover, n, del[i]))
			sync_send_add_under(st, del[i]);
	/* A whole send's deletions are the agent's to find (what its index
	 * has and the manifest lacks): an element gone here goes again as a
	 * deletion (of all under it); under one still here they are not
	 * named (st->failed_unnamed). */
	for (size_t i = 0; del == NULL && i < n; i++) {
		if (sync_scan_find(scan, cover[i]) == NULL)
			sync_send_add_under(st, cover[i]);
		else
			st->failed_unnamed = 1;
	}
	sync_paths_free(cover, n);
	return 1;
}

void
sync_send_failed_free(struct sync_send_stats *st)
{
	cJSON_Delete(st->failed);
	st->failed = NULL;
	sync_paths_free(st->failed_under, st->nfailed_under);
	st->failed_under = NULL;
	st->nfailed_under = 0;
	free(st->failed_under_first);
	st->failed_under_first = NULL;
}

char **
sync_send_failed_paths(const struct sync_send_stats *st, size_t *n)
{
	int len = cJSON_GetArraySize(st->failed);
	char **v =
	    xcalloc((size_t)(len > 0 ? len : 0) + st->nfailed_under + 1, sizeof *v);
	const cJSON *f;
	size_t k = 0;

	cJSON_ArrayForEach(f, st->failed)
		v[k++] = xstrdup(
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "path")));
	for (size_t i = 0; i < st->nfailed_under; i++)
		v[k++] = xstrdup(st->failed_under[i]);
	if (k > 0)
		qsort(v, k, sizeof *v, sync_path_cmp);
	*n = 0;
	for (size_t i = 0; i < k; i++) {
		if (*n > 0 && strcmp(v[*n - 1], v[i]) == 0)
			free(v[i]);
		else
			v[(*n)++] = v[i];
	}
	return v;
}

char *
sync_send_failed_text(const struct sync_send_stats *st)
{
	const cJSON *first = cJSON_GetArrayItem(st->failed, 0);
	const char *under = st->failed_under_first;
	char *error, *text;

	if (st->failed_count <= 0)
		return NULL;
	if (first != NULL)
		error = xstrdup(cJSON_GetStringValue(
		    cJSON_GetObjectItemCaseSensitive(first, "error")));
	else if (st->nfailed_under > 0)
		error = xasprintf(
		    "'%s': could not land on the host (not listed)", st->failed_under[0]);
	else
		return NULL;
	if (st->failed_count == 1)
		return error;
	/* (a folder here, or one not here: what is under it; a file the
	 * agent named alone: that one) */
	if (under != NULL && (st->failed_under_type == 'd' || st->failed_under_type == 0))
		text = xasprintf("%s (and %lld more entries that could not land "
				 "on the host, some of them under '%s/')",
		    error, st->failed_count - 1, under);
	else if (under != NULL)
		text = xasprintf("%s (and %lld more entries that could not land "
				 "on the host, e.g. '%s')",
		    error, st->failed_count - 1, under);
	else
		text = xasprintf("%s (and %lld more entries that could not land "
				 "on the host)",
		    error, st->failed_count - 1);
	free(error);
	return text;
}

/* May the agent send block hashes (docs/PROTOCOL.md, "Deltas")? Yes,
 * unless $RDEV_SYNC_DELTAS is 0 (benches: the same build sends whole). */
static int
sync_send_deltas_wanted(void)
{
	const char *v = getenv("RDEV_SYNC_DELTAS");

	return v == NULL || strcmp(v, "0") != 0;
}

/* One "sync" request and its stream (sync_send's arguments; deltas: say
 * we take block hashes). 0 with *result (new) and *folder (new, unless
 * folder is NULL), or -1 with *cause. */
static int
sync_send_once(struct proto_conn *c, int id, const char *root, const char *name,
    const struct sync_scan *scan, char *const *del, size_t ndel, int deltas,
    char **folder, struct sync_send_stats *st, cJSON **result, char **cause)
{
	cJSON *req, *answer = NULL, *dl;
	const cJSON *d, *f;
	char *stream = NULL;
	long long count;
	int listed, rc = -1;

	*result = NULL;
	req = cJSON_CreateObject();
	cJSON_AddNumberToObject(req, "id", id);
	cJSON_AddStringToObject(req, "op", "sync");
	cJSON_AddStringToObject(req, "name", name);
	cJSON_AddNumberToObject(req, "channel", SYNC_SEND_CHANNEL);
	sync_send_manifest_put(req, scan, &stream);
	if (deltas)
		cJSON_AddTrueToObject(req, "deltas");
	if (st->keep_host_changes)
		cJSON_AddTrueToObject(req, "keepHostChanges");
	if (st->failed != NULL)
		cJSON_AddTrueToObject(req, "entryErrors");
	if (st->pull_ack != NULL)
		cJSON_AddStringToObject(req, "pullAck", st->pull_ack);
	if (del != NULL) {
		dl = cJSON_AddArrayToObject(req, "delete");
		for (size_t i = 0; i < ndel; i++)
			cJSON_AddItemToArray(dl, cJSON_CreateString(del[i]));
	}
	if (proto_conn_send_request(c, req, cause) != 0 ||
	    (stream != NULL && sync_send_manifest_stream(c, stream, cause) != 0) ||
	    proto_conn_response(c, id, NULL, NULL, -1, NULL, &answer, NULL, cause) != 0)
		goto out;
	f = cJSON_GetObjectItemCaseSensitive(answer, "folder");
	if (!cJSON_IsString(f)) {
		error_set(cause, "the agent's sync answer has no folder");
		goto out;
	}
	if (sync_send_stream_send(c, root, scan, answer, st, result, cause) != 0)
		goto out;
	d = cJSON_GetObjectItemCaseSensitive(*result, "deleted");
	st->deleted +=
	    cJSON_IsNumber(d) && d->valuedouble > 0 ? (long long)d->valuedouble : 0;
	sync_send_host_changes(*result, st);
	count = st->failed_count;
	listed = cJSON_GetArraySize(st->failed);
	sync_send_note_failed(*result, st);
	/* (this response's count against what it listed: in a batch of two
	 * requests, the other's cover does not hide it) */
	if (sync_send_note_under(*result, scan, del, ndel, st) == 0 &&
	    st->failed_count - count > cJSON_GetArraySize(st->failed) - listed)
		st->failed_uncovered = 1;
	if (folder != NULL && *folder == NULL)
		*folder = xstrdup(f->valuestring);
	rc = 0;
out:
	free(stream);
	cJSON_Delete(answer);
	return rc;
}

/* The files of scan the agent named in "deltaFailed" (their host copy
 * changed while their delta came), or NULL when none: a scan whose
 * entries are borrowed from scan (free its v only). */
static struct sync_scan *
sync_send_failed(const struct sync_scan *scan, const cJSON *result)
{
	const cJSON *p;
	const struct sync_entry *e;
	struct sync_scan *sub;
	int n =
	    cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(result, "deltaFailed"));

	if (n <= 0)
		return NULL;
	sub = xcalloc(1, sizeof *sub);
	sub->v = xcalloc((size_t)n, sizeof *sub->v);
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(result, "deltaFailed"))
		if (cJSON_IsString(p) &&
		    (e = sync_scan_find(scan, p->valuestring)) != NULL &&
		    (sub->n == 0 || strcmp(sub->v[sub->n - 1].path, e->path) < 0))
			sub->v[sub->n++] = *e;
	return sub;
}

int
sync_send(struct proto_conn *c, int id, const char *root, const char *name,
    const struct sync_scan *scan, char *const *del, size_t ndel, char **folder,
    struct sync_send_stats *st, char **cause)
{
	static char *const none[1] = { NULL };
	struct sync_scan *again;
	cJSON *result = NULL;
	int rc;

	if (folder != NULL)
		*folder = NULL;
	rc = sync_send_once(c, id, root, name, scan, del, ndel, sync_send_deltas_wanted(),
	    folder, st, &result, cause);
	/* Files whose host copy changed while their delta came (nothing of
	 * them was written) go again, whole, as a batch of just them: the
	 * same id, the first request being over. */
	if (rc == 0 && (again = sync_send_failed(scan, result)) != NULL) {
		cJSON_Delete(result);
		result = NULL;
		if (again->n > 0) {
			const char *ack = st->pull_ack; /* (committed by the first) */
			long long sent = st->sent;

			st->pull_ack = NULL;
			rc = sync_send_once(c, id, root, name, again, none, 0, 0, folder,
			    st, &result, cause);
			st->pull_ack = ack;
			/* (the files were counted as sent once, as deltas; their
			 * bytes count both times: both went) */
			st->sent = sent;
		}
		free(again->v);
		free(again);
	}
	if (rc != 0 && folder != NULL) {
		free(*folder);
		*folder = NULL;
	}
	cJSON_Delete(result);
	return rc;
}
