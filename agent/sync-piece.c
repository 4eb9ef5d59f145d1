/* sync-piece.c - a big file brought back in pieces (sync-piece.h). */
#include "sync-piece.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "sync-back.h"
#include "sync-scan.h"
#include "xmalloc.h"

char *
sync_piece_version(long long size, long long mtime_ns, unsigned long long ino)
{
	return xasprintf("%lld-%lld-%llu", size, mtime_ns, ino);
}

/* Where have (may be NULL) says the local side got to in version of
 * path: its offset, or 0 (another file or version: from the start). */
static long long
sync_piece_from(const cJSON *have, const char *path, const char *version, long long size)
{
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(have, "path"),
		    *v = cJSON_GetObjectItemCaseSensitive(have, "version"),
		    *o = cJSON_GetObjectItemCaseSensitive(have, "offset");

	if (!cJSON_IsString(p) || !cJSON_IsString(v) || !cJSON_IsNumber(o) ||
	    strcmp(p->valuestring, path) != 0 || strcmp(v->valuestring, version) != 0 ||
	    o->valuedouble < 0 || o->valuedouble >= (double)size)
		return 0;
	return (long long)o->valuedouble;
}

size_t
sync_piece_pick(const struct sync_entry *const *bigs, size_t n, const cJSON *have)
{
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(have, "path"),
		    *v = cJSON_GetObjectItemCaseSensitive(have, "version");
	char *version;
	size_t i;
	int same;

	if (!cJSON_IsString(p) || !cJSON_IsString(v))
		return 0;
	for (i = 0; i < n && strcmp(bigs[i]->path, p->valuestring) < 0; i++)
		;
	if (i < n && strcmp(bigs[i]->path, p->valuestring) == 0) {
		version =
		    sync_piece_version(bigs[i]->size, bigs[i]->mtime_ns, bigs[i]->ino);
		same = strcmp(version, v->valuestring) == 0;
		free(version);
		if (same)
			return i;
		i++; /* (changed, or failed there: to the back) */
	}
	return i < n ? i : 0;
}

/* len bytes at off of fd into buf. 0, or -1 (a read error, or the file
 * shorter now). */
static int
sync_piece_read(int fd, unsigned char *buf, size_t len, long long off)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = pread(fd, buf + got, len - got, (off_t)(off + (long long)got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

int
sync_piece_next(int root, const struct sync_entry *e, const cJSON *have, size_t room,
    cJSON **piece, struct sync_entry *done)
{
	struct stat sb, sb2;
	unsigned char *buf = NULL;
	char *version = NULL, *b64;
	long long off;
	size_t len, b64len;
	int fd, rc = 0;

	*piece = NULL;
	memset(done, 0, sizeof *done);
	if ((fd = openat(root, e->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return 0;
	/* (the scan's version only: its hash is the one the last piece
	 * names) */
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size != e->size ||
	    sync_time_ns(&sb.st_mtim) != e->mtime_ns || sb.st_ino != e->ino)
		goto out;
	version = sync_piece_version(e->size, e->mtime_ns, e->ino);
	off = sync_piece_from(have, e->path, version, e->size);
	if (room > SYNC_BACK_MAX_BYTES) /* (never more than one answer holds) */
		room = SYNC_BACK_MAX_BYTES;
	len = (size_t)(e->size - off) < room ? (size_t)(e->size - off) : room;
	buf = xmalloc(len + 1);
	if (sync_piece_read(fd, buf, len, off) != 0 || fstat(fd, &sb2) != 0 ||
	    sb2.st_size != sb.st_size || sync_time_ns(&sb2.st_mtim) != e->mtime_ns)
		goto out; /* (written meanwhile: the next scan's) */
	*piece = cJSON_CreateObject();
	cJSON_AddStringToObject(*piece, "path", e->path);
	cJSON_AddStringToObject(*piece, "version", version);
	cJSON_AddNumberToObject(*piece, "offset", (double)off);
	cJSON_AddNumberToObject(*piece, "size", (double)e->size);
	cJSON_AddNumberToObject(*piece, "mode", sb.st_mode & 0777);
	b64len = sodium_base64_encoded_len(len, sodium_base64_VARIANT_ORIGINAL);
	b64 = xmalloc(b64len);
	sodium_bin2base64(b64, b64len, buf, len, sodium_base64_VARIANT_ORIGINAL);
	cJSON_AddStringToObject(*piece, "data", b64);
	free(b64);
	cJSON_AddBoolToObject(*piece, "last", off + (long long)len == e->size);
	if (off + (long long)len == e->size) {
		cJSON_AddStringToObject(*piece, "hash", e->hash);
		*done = *e;
		done->path = xstrdup(e->path);
		done->link = NULL;
		done->mode = sb.st_mode & 0777;
	}
	rc = 1;
out:
	close(fd);
	free(buf);
	free(version);
	return rc;
}
