/* sync-pull.c - what changed in the host's copy since the last sync
 * (sync-pull.h). */
#include "sync-pull.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "error.h"
#include "sync-index.h"
#include "sync-scan.h"
#include "xmalloc.h"

/* A sync's temporary file (sync-recv.c), never reported. */
static int
sync_pull_is_tmp(const char *path)
{
	const char *leaf = strrchr(path, '/');

	leaf = leaf == NULL ? path : leaf + 1;
	return strncmp(leaf, ".rdev-sync-", 11) == 0;
}

/* Do a (index) and b (host) differ in what a sync carries? */
static int
sync_pull_differ(const struct sync_entry *a, const struct sync_entry *b)
{
	if (a->type != b->type)
		return 1;
	if (a->type == 'l')
		return strcmp(a->link, b->link) != 0;
	if (a->type == 'd')
		return 0;
	return strcmp(a->hash, b->hash) != 0 || a->mode != b->mode;
}

/* Read file e (under root) whole into *data (new) and set e's hash, size,
 * mtime and inode from what was read: what the host has now, which may
 * differ from the scan's. 0, or -1 with errno. */
static int
sync_pull_read(int root, struct sync_entry *e, unsigned char **data)
{
	unsigned char h[SYNC_HASH_HEX / 2];
	struct stat sb;
	size_t len = 0;
	ssize_t n;
	int fd = openat(root, e->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), saved;

	*data = NULL;
	if (fd < 0)
		return -1;
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    sb.st_size > SYNC_BACK_MAX_BYTES) {
		saved = !S_ISREG(sb.st_mode) ? ENOENT : EFBIG;
		close(fd);
		errno = saved;
		return -1;
	}
	*data = xmalloc((size_t)sb.st_size + 1);
	while (len < (size_t)sb.st_size &&
	    (n = read(fd, *data + len, (size_t)sb.st_size - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			saved = errno;
			close(fd);
			free(*data);
			*data = NULL;
			errno = saved;
			return -1;
		}
		len += (size_t)n;
	}
	close(fd);
	crypto_generichash(h, sizeof h, *data, len, NULL, 0);
	sodium_bin2hex(e->hash, sizeof e->hash, h, sizeof h);
	e->size = (long long)len;
	e->mode = sb.st_mode & 0777;
	e->mtime_ns = (long long)sb.st_mtim.tv_sec * 1000000000LL + sb.st_mtim.tv_nsec;
	e->ino = sb.st_ino;
	return 0;
}

/* What the walk of sync_pull_changes gathers. */
struct sync_pull {
	int root;
	struct sync_scan *put;	/* for the index (with stat) */
	struct sync_scan *show; /* of put, what the answer names (borrowed) */
	char **drop;
	size_t ndrop;
	cJSON *data, *too_large;
	size_t bytes;
	int more;
};

/* Host entry e (borrowed) is new or changed: into p (a file with its
 * bytes, while the answer has room). */
static void
sync_pull_put(struct sync_pull *p, const struct sync_entry *e)
{
	struct sync_entry c = *e;
	unsigned char *data = NULL;
	char *b64;
	size_t b64len;
	int shown = 1;

	if (c.type == 'f') {
		if (p->bytes > 0 && p->bytes + (size_t)c.size > SYNC_BACK_MAX_BYTES) {
			p->more = 1; /* (the next answer's) */
			return;
		}
		if (sync_pull_read(p->root, &c, &data) != 0) {
			if (errno != EFBIG)
				return; /* gone meanwhile: the next scan's */
			cJSON_AddItemToArray(p->too_large, cJSON_CreateString(c.path));
			shown = 0; /* (in the index: reported once) */
		} else {
			b64len = sodium_base64_encoded_len(
			    (size_t)c.size, sodium_base64_VARIANT_ORIGINAL);
			b64 = xmalloc(b64len);
			sodium_bin2base64(b64, b64len, data, (size_t)c.size,
			    sodium_base64_VARIANT_ORIGINAL);
			cJSON_AddItemToArray(p->data, cJSON_CreateString(b64));
			free(b64);
			free(data);
			p->bytes += (size_t)c.size;
		}
	}
	c.path = xstrdup(c.path);
	c.link = c.link != NULL ? xstrdup(c.link) : NULL;
	p->put->v[p->put->n] = c;
	if (shown)
		p->show->v[p->show->n++] = c;
	p->put->n++;
}

int
sync_pull_changes(const char *folder, const char *index_path, unsigned flags,
    cJSON **result, char **cause)
{
	struct sync_pull p = { .root = -1 };
	struct sync_scan *old = NULL, *now = NULL, *base = NULL;
	struct sync_ignore *ig = NULL;
	struct sync_index ix, ix2;
	struct stat sb;
	size_t i = 0, k = 0;
	cJSON *put;
	int c, rc = -1;

	*result = NULL;
	sync_index_load(index_path, &ix, &old);
	if (sync_scan_ignore(
		folder, flags & (SYNC_SCAN_GIT | SYNC_SCAN_GITIGNORE), &ig, cause) != 0 ||
	    sync_scan(folder, ig, old, &now, cause) != 0)
		goto out;
	if ((p.root = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		error_set_errno(cause, errno, "%s", folder);
		goto out;
	}
	p.put = xcalloc(1, sizeof *p.put);
	p.put->v = xcalloc(now->n + 1, sizeof *p.put->v);
	p.show = xcalloc(1, sizeof *p.show);
	p.show->v = xcalloc(now->n + 1, sizeof *p.show->v);
	p.drop = xcalloc(old->n + 1, sizeof *p.drop);
	p.data = cJSON_CreateArray();
	p.too_large = cJSON_CreateArray();
	while (i < now->n || k < old->n) {
		c = i == now->n	  ? 1
		    : k == old->n ? -1
				  : strcmp(now->v[i].path, old->v[k].path);
		if (c < 0 && !sync_pull_is_tmp(now->v[i].path))
			sync_pull_put(&p, &now->v[i]);
		else if (c == 0 && sync_pull_differ(&old->v[k], &now->v[i]))
			sync_pull_put(&p, &now->v[i]);
		else if (c > 0 &&
		    fstatat(p.root, old->v[k].path, &sb, AT_SYMLINK_NOFOLLOW) != 0 &&
		    errno == ENOENT) /* (there but left out now: not a delete) */
			p.drop[p.ndrop++] = old->v[k].path;
		i += c <= 0;
		k += c >= 0;
	}
	*result = cJSON_CreateObject();
	put = sync_scan_manifest(p.show, 0);
	cJSON_AddItemToObject(*result, "put", put);
	cJSON_AddItemToObject(*result, "data", p.data);
	p.data = NULL;
	cJSON_AddItemToObject(*result, "drop",
	    cJSON_CreateStringArray((const char *const *)p.drop, (int)p.ndrop));
	cJSON_AddItemToObject(*result, "tooLarge", p.too_large);
	p.too_large = NULL;
	cJSON_AddBoolToObject(*result, "more", p.more);
	/* Into the index: reported once. */
	if (p.put->n > 0 || p.ndrop > 0) {
		sync_index_load(index_path, &ix2, &base);
		sync_scan_apply(&base, p.put, p.drop, p.ndrop);
		p.put = NULL;
		sync_index_save(index_path, folder, &ix, old, base, 0);
	}
	rc = 0;
out:
	if (p.root >= 0)
		close(p.root);
	sync_scan_free(p.put);
	if (p.show != NULL)
		free(p.show->v); /* (its entries are put's) */
	free(p.show);
	free(p.drop); /* (borrowed from old) */
	cJSON_Delete(p.data);
	cJSON_Delete(p.too_large);
	sync_scan_free(base);
	sync_scan_free(now);
	sync_scan_free(old);
	sync_ignore_free(ig);
	return rc;
}
