/* sync-back-piece.c - a two-way sync's big file, brought back in pieces
 * (sync-back.h): each piece written at its offset in a temporary file
 * beside the file, renamed into place at the last one when whole and its
 * hash the one the host scanned. */
#include "sync-back-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "error.h"
#include "xmalloc.h"

void
sync_back_piece_drop(struct sync_back_pull *pull, int root)
{
	if (pull == NULL)
		return;
	if (pull->piece_tmp != NULL && root >= 0)
		unlinkat(root, pull->piece_tmp, 0);
	free(pull->piece_path);
	free(pull->piece_version);
	free(pull->piece_tmp);
	pull->piece_path = pull->piece_version = pull->piece_tmp = NULL;
	pull->piece_off = 0;
}

/* Big file path not taken now (its temporary file removed): pull names it
 * with no version, so that the agent goes on with the next big file
 * (sync_piece_pick) and this one comes after them. Its path as kept in
 * pull (path may have been the dropped one). */
static const char *
sync_back_piece_skip(struct sync_back_pull *pull, int root, const char *path)
{
	char *keep = xstrdup(path);

	sync_back_piece_drop(pull, root);
	pull->piece_path = keep;
	pull->piece_version = xstrdup("");
	return keep;
}

/* sync_back_piece_skip, the answer not acknowledged (or the agent would
 * index the file): it comes again. */
static void
sync_back_piece_later(struct sync_back *b, struct sync_back_pull *pull, const char *path)
{
	sync_back_not_applied(b, sync_back_piece_skip(pull, b->root, path));
}

/* Big file path failed here (why: cause, taken): sync_back_piece_later,
 * and counted. */
static void
sync_back_piece_fail(
    struct sync_back *b, struct sync_back_pull *pull, const char *path, char *cause)
{
	sync_back_piece_later(b, pull, path);
	sync_back_failed(b, pull->piece_path, cause);
}

/* A new, empty temporary file for pull's big file at path (its folders
 * made): pull holds it from offset 0 of version. 0, or -1 with *cause. */
static int
sync_back_piece_begin(struct sync_back *b, struct sync_back_pull *pull, const char *path,
    const char *version, char **cause)
{
	const char *leaf;
	char *name;
	int dfd = sync_back_parent_at(b, path, 1, &leaf), fd;

	if (dfd < 0)
		return error_set_errno(cause, errno, "%s/%s", b->rootpath, path);
	name = xasprintf(SYNC_BACK_TMP "%ld-p%08x", (long)getpid(), randombytes_random());
	fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	sync_back_close(b, dfd);
	if (fd < 0) {
		error_set_errno(cause, errno, "%s/%s", b->rootpath, path);
		free(name);
		return -1;
	}
	close(fd);
	pull->piece_path = xstrdup(path);
	pull->piece_version = xstrdup(version);
	pull->piece_tmp = xasprintf("%.*s%s", (int)(leaf - path), path, name);
	pull->piece_off = 0;
	free(name);
	return 0;
}

/* Write len bytes of data at pull's offset in its temporary file; hash it
 * whole into hex when last. 0, or -1 with errno. */
static int
sync_back_piece_write(struct sync_back *b, struct sync_back_pull *pull,
    const unsigned char *data, size_t len, int last, char *hex)
{
	const char *leaf;
	size_t off = 0;
	ssize_t n;
	int dfd = sync_back_parent_at(b, pull->piece_tmp, 0, &leaf), fd, rc = 0;

	if (dfd < 0)
		return -1;
	fd = openat(dfd, leaf, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	sync_back_close(b, dfd);
	if (fd < 0)
		return -1;
	while (rc == 0 && off < len) {
		n = pwrite(
		    fd, data + off, len - off, (off_t)pull->piece_off + (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		rc = n <= 0 ? -1 : 0;
		off += n > 0 ? (size_t)n : 0;
	}
	if (rc == 0 && last)
		rc = lseek(fd, 0, SEEK_SET) != 0 ? -1 : sync_hash_fd(fd, hex);
	if (close(fd) != 0)
		rc = -1;
	if (rc == 0)
		pull->piece_off += (long long)len;
	return rc;
}

/* A piece's fields; 0, or -1 (malformed). */
struct sync_back_piece_msg {
	const char *path, *version, *data, *hash;
	long long offset, size;
	unsigned mode;
	int last;
};

static int
sync_back_piece_parse(const cJSON *j, struct sync_back_piece_msg *m)
{
	const cJSON *path = cJSON_GetObjectItemCaseSensitive(j, "path"),
		    *version = cJSON_GetObjectItemCaseSensitive(j, "version"),
		    *data = cJSON_GetObjectItemCaseSensitive(j, "data"),
		    *hash = cJSON_GetObjectItemCaseSensitive(j, "hash"),
		    *offset = cJSON_GetObjectItemCaseSensitive(j, "offset"),
		    *size = cJSON_GetObjectItemCaseSensitive(j, "size"),
		    *mode = cJSON_GetObjectItemCaseSensitive(j, "mode");

	if (!cJSON_IsString(path) || !sync_path_ok(path->valuestring) ||
	    !cJSON_IsString(version) || !cJSON_IsString(data) ||
	    !cJSON_IsNumber(offset) || !cJSON_IsNumber(size) || !cJSON_IsNumber(mode) ||
	    offset->valuedouble < 0 || size->valuedouble < offset->valuedouble ||
	    size->valuedouble > 0x1p52) /* (exact as a double, and as a long long) */
		return -1;
	m->path = path->valuestring;
	m->version = version->valuestring;
	m->data = data->valuestring;
	m->offset = (long long)offset->valuedouble;
	m->size = (long long)size->valuedouble;
	m->mode = (unsigned)mode->valueint & 0777;
	m->last = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "last"));
	m->hash = cJSON_IsString(hash) && strlen(hash->valuestring) == SYNC_HASH_HEX
	    ? hash->valuestring
	    : NULL;
	return m->last && m->hash == NULL ? -1 : 0;
}

/* The whole file in pull's temporary file (hash hex, the host's), applied
 * as the host's entry m. 0, or -1 with *cause. */
static int
sync_back_piece_done(struct sync_back *b, struct sync_back_pull *pull,
    const struct sync_back_piece_msg *m, const char *hex, char **cause)
{
	struct sync_entry e = {
		.path = (char *)m->path, .type = 'f', .mode = m->mode, .size = m->size
	};
	struct sync_back_bytes by = { NULL, 0, strrchr(pull->piece_tmp, '/') };

	/* (not the host's bytes: another version's pieces mixed in, or
	 * changed here; begun again, after the other big files) */
	if (strcmp(hex, m->hash) != 0) {
		sync_back_piece_later(b, pull, m->path);
		return 0;
	}
	memcpy(e.hash, m->hash, sizeof e.hash);
	by.tmp = by.tmp == NULL ? pull->piece_tmp : by.tmp + 1;
	if (sync_back_put(b, &e, &by, cause) != 0) {
		sync_back_piece_fail(b, pull, m->path, *cause);
		*cause = NULL;
		return 0;
	}
	sync_back_piece_drop(pull, b->root); /* (what was not renamed) */
	return 0;
}

int
sync_back_piece(struct sync_back *b, struct sync_back_pull *pull, const cJSON *piece,
    const struct sync_ignore *ig, char **cause)
{
	struct sync_back_piece_msg m;
	char hex[SYNC_HASH_HEX + 1], *why = NULL;
	unsigned char *data = NULL;
	size_t len = 0;
	int rc = 0;

	if (sync_back_piece_parse(piece, &m) != 0)
		return error_set(cause, "sync-pull: a malformed piece");
	/* (ignored here: the agent must not index it, or a whole resend
	 * without it would delete the host's file; it goes to the back, and
	 * to an agent that takes "ignoredHere", aside) */
	if (pull != NULL && sync_back_ignored(ig, m.path, 0)) {
		sync_back_ignored_here(b, sync_back_piece_skip(pull, b->root, m.path));
		return 0;
	}
	if (pull == NULL) { /* (not taken) */
		sync_back_not_applied(b, m.path);
		return 0;
	}
	/* (another file, version or offset: what was written is no use; a
	 * piece not from 0 is left, the next request asks from 0) */
	if (pull->piece_path == NULL || strcmp(pull->piece_path, m.path) != 0 ||
	    strcmp(pull->piece_version, m.version) != 0 || pull->piece_off != m.offset) {
		sync_back_piece_drop(pull, b->root);
		if (m.offset != 0) {
			sync_back_not_applied(b, m.path); /* (not taken) */
			return 0;
		}
		if (sync_back_piece_begin(b, pull, m.path, m.version, &why) != 0) {
			sync_back_piece_fail(b, pull, m.path, why);
			return 0;
		}
	}
	if (sync_back_decode(m.data, &data, &len) != 0 ||
	    m.offset + (long long)len > m.size ||
	    (m.offset + (long long)len == m.size) != m.last)
		rc = error_set(cause, "sync-pull: bad bytes for '%s'", m.path);
	else if (sync_back_piece_write(b, pull, data, len, m.last, hex) != 0) {
		error_set_errno(&why, errno, "%s/%s", b->rootpath, m.path);
		sync_back_piece_fail(b, pull, m.path, why);
		free(data);
		return 0;
	}
	free(data);
	if (rc != 0) {
		sync_back_piece_drop(pull, b->root);
		return rc;
	}
	return m.last ? sync_back_piece_done(b, pull, &m, hex, cause) : 0;
}
