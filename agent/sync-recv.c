/* sync-recv.c - the host's side of a sync (sync-recv.h). */
#include "sync-recv.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "agent-state.h"
#include "atomic-file.h"
#include "error.h"
#include "log.h"
#include "sync-back.h"
#include "sync-delta.h"
#include "sync-index.h"
#include "tar-stream.h"
#include "xmalloc.h"

/* At most this many paths of files changed on the host are named. */
#define SYNC_RECV_REPORT_MAX 20

/* What the host has for one entry of want, once known. */
struct sync_host {
	int valid; /* on disk as want says (kept or received) */
	int needed;
	/* A file the index says a sync wrote, changed on the host since (its
	 * content is neither what was written nor what comes now). */
	int changed_on_host;
	char hash[SYNC_HASH_HEX + 1];
	long long size, mtime_ns;
	unsigned long long ino;
};

struct sync_recv {
	int root; /* the folder, opened */
	char *folder;
	char *index_path;
	const struct sync_scan *want;
	struct sync_scan *old; /* the index as read (never NULL) */
	struct sync_index ix;  /* and what its save needs of it */
	int partial;	       /* a batch: want is only what changed */
	int keep;	       /* two-way: keep host changes as conflict files */
	char **del;	       /* partial: what the client deleted (sorted) */
	size_t ndel;
	struct sync_host *host; /* parallel to want->v */
	struct tar_reader *tar;
	int finished;
	/* The last parent folder opened (most entries share one). */
	char *pdir_path;
	int pdir;
	/* Entries were written since the last syncfs: the index may say they
	 * are there only once they are on disk. */
	int dirty;
	/* The file being written. */
	long cur; /* index in want, -1 when none */
	int cur_fd;
	int cur_dir;
	char *cur_tmp;
	const char *cur_leaf;
	unsigned cur_mode;
	unsigned long long cur_size;
	crypto_generichash_state cur_hash;
	unsigned tmp_seq;
	size_t received, deleted;
	unsigned long long bytes;
};

/* ---- Paths under the root, never through a symlink ----------------------- */

/* Everything written under the root on disk, when something was: one
 * syncfs(2) of its file system rather than an fsync per file and folder
 * (one each made bench/sync.sh's 100 MB of 1,200 files take 5.0 s, not
 * 2.3 s), before the index says the files are there. A crash before it
 * leaves the old index, which the next sync does not trust for files whose
 * inode or size changed. */
static void
sync_recv_sync(struct sync_recv *r)
{
	if (r->dirty && syncfs(r->root) != 0)
		log_warn("sync: %s: syncfs: %s", r->folder, strerror(errno));
	r->dirty = 0;
}

/* The folder that holds path (relative), opened from the root with
 * O_NOFOLLOW on every component; with create, missing folders are made.
 * Returns a descriptor borrowed from r (valid until the next call), with
 * *leaf the last component of path; -1 with errno. */
static int
sync_recv_parent(struct sync_recv *r, const char *path, int create, const char **leaf)
{
	const char *slash = strrchr(path, '/'), *p, *end;
	size_t plen = slash == NULL ? 0 : (size_t)(slash - path);
	int fd, next;

	*leaf = slash == NULL ? path : slash + 1;
	if (plen == 0)
		return r->root;
	if (r->pdir >= 0 && strlen(r->pdir_path) == plen &&
	    memcmp(r->pdir_path, path, plen) == 0)
		return r->pdir;
	if (r->pdir >= 0)
		close(r->pdir);
	r->pdir = -1;
	free(r->pdir_path);
	r->pdir_path = NULL;
	fd = r->root;
	for (p = path; p < path + plen; p = end + 1) {
		char *name;

		end = memchr(p, '/', (size_t)(path + plen - p));
		if (end == NULL)
			end = path + plen;
		name = xstrndup(p, (size_t)(end - p));
		next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0 && errno == ENOENT && create &&
		    (mkdirat(fd, name, 0755) == 0 || errno == EEXIST))
			next = openat(
			    fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		free(name);
		if (fd != r->root) {
			int saved = errno;

			close(fd);
			errno = saved;
		}
		if (next < 0)
			return -1;
		fd = next;
	}
	r->pdir = fd;
	r->pdir_path = xstrndup(path, plen);
	return fd;
}

/* Remove name in dfd and everything under it, never following a link. */
static int
sync_recv_remove_tree(int dfd, const char *name)
{
	struct dirent *de;
	struct stat sb;
	DIR *d;
	int fd;

	if (fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(sb.st_mode))
		return unlinkat(dfd, name, 0);
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			sync_recv_remove_tree(dirfd(d), de->d_name);
	closedir(d);
	return unlinkat(dfd, name, AT_REMOVEDIR);
}

/* Put tmp (in dfd) in leaf's place, replacing a folder there if need be. */
static int
sync_recv_replace(int dfd, const char *tmp, const char *leaf)
{
	struct stat sb;

	if (fstatat(dfd, leaf, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(sb.st_mode))
		sync_recv_remove_tree(dfd, leaf);
	return renameat(dfd, tmp, dfd, leaf);
}

/* A new temporary name in the folder (the pid keeps two agents apart). */
static char *
sync_recv_tmp_name(struct sync_recv *r)
{
	return xasprintf(".rdev-sync-%ld-%u", (long)getpid(), r->tmp_seq++);
}

/* Make want entry e a folder (replacing a file or link there). */
static int
sync_recv_dir(struct sync_recv *r, const struct sync_entry *e, char **cause)
{
	const char *leaf;
	struct stat sb;
	int dfd = sync_recv_parent(r, e->path, 1, &leaf);

	if (dfd < 0)
		return error_set_errno(cause, errno, "'%s'", e->path);
	if (fstatat(dfd, leaf, &sb, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISDIR(sb.st_mode))
			return 0;
		unlinkat(dfd, leaf, 0);
	}
	if (mkdirat(dfd, leaf, e->mode | 0700) != 0 && errno != EEXIST)
		return error_set_errno(cause, errno, "'%s'", e->path);
	return 0;
}

/* ---- The plan ------------------------------------------------------------ */

/* Is want entry i already on the host? Fills r->host[i]. */
static int
sync_recv_check(struct sync_recv *r, size_t i)
{
	const struct sync_entry *e = &r->want->v[i], *o;
	struct sync_host *h = &r->host[i];
	char target[4097];
	const char *leaf;
	struct stat sb;
	ssize_t n;
	int dfd = sync_recv_parent(r, e->path, 0, &leaf), fd;

	if (dfd < 0 || fstatat(dfd, leaf, &sb, AT_SYMLINK_NOFOLLOW) != 0)
		return 0;
	if (e->type == 'l') {
		if (!S_ISLNK(sb.st_mode) ||
		    (n = readlinkat(dfd, leaf, target, sizeof target - 1)) < 0)
			return 0;
		target[n] = '\0';
		return h->valid = strcmp(target, e->link) == 0;
	}
	if (!S_ISREG(sb.st_mode))
		return 0;
	o = sync_scan_find(r->old, e->path);
	if (o != NULL && o->type != 'f')
		o = NULL;
	/* Hashed when it may be what comes, or to tell whether a file a sync
	 * wrote was changed on the host since. */
	if (sb.st_size != e->size && o == NULL)
		return 0;
	h->size = sb.st_size;
	h->mtime_ns = (long long)sb.st_mtim.tv_sec * 1000000000LL + sb.st_mtim.tv_nsec;
	h->ino = sb.st_ino;
	if (o != NULL && o->size == h->size && o->mtime_ns == h->mtime_ns &&
	    o->ino == h->ino)
		memcpy(h->hash, o->hash, sizeof h->hash);
	else {
		fd = openat(dfd, leaf, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return 0;
		if (sync_hash_fd(fd, h->hash) != 0)
			h->hash[0] = '\0';
		close(fd);
	}
	if (strcmp(h->hash, e->hash) != 0) {
		h->changed_on_host =
		    o != NULL && h->hash[0] != '\0' && strcmp(h->hash, o->hash) != 0;
		return 0;
	}
	if ((sb.st_mode & 0777) != e->mode)
		fchmodat(dfd, leaf, e->mode, 0);
	return h->valid = 1;
}

int
sync_recv_open(const char *folder, const char *index_path, const struct sync_scan *want,
    struct sync_recv **out, cJSON **need, char **cause)
{
	struct sync_recv *r;
	size_t i;

	*out = NULL;
	*need = NULL;
	if (agent_state_mkdir_parents(folder, 0755, cause) != 0)
		return -1;
	r = xcalloc(1, sizeof *r);
	r->pdir = r->cur_fd = r->cur_dir = -1;
	r->cur = -1;
	r->want = want;
	r->folder = xstrdup(folder);
	r->index_path = xstrdup(index_path);
	r->host = xcalloc(want->n + 1, sizeof *r->host);
	r->root = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (r->root < 0) {
		error_set_errno(cause, errno, "%s", folder);
		r->finished = 1; /* nothing to save */
		sync_recv_free(r);
		return -1;
	}
	sync_index_load(r->index_path, &r->ix, &r->old);
	*need = cJSON_CreateArray();
	for (i = 0; i < want->n; i++) {
		const struct sync_entry *e = &want->v[i];

		if (e->type == 'd') {
			if (sync_recv_dir(r, e, cause) != 0) {
				cJSON_Delete(*need);
				*need = NULL;
				sync_recv_free(r);
				return error_prefix(cause, "%s", folder);
			}
			r->host[i].valid = 1;
		} else if (!sync_recv_check(r, i)) {
			r->host[i].needed = 1;
			cJSON_AddItemToArray(*need, cJSON_CreateString(e->path));
		}
	}
	*out = r;
	return 0;
}

/* ---- The stream ----------------------------------------------------------- */

/* The want index of an entry the stream brings, checked. */
static long
sync_recv_wanted(struct sync_recv *r, const struct tar_entry *t, char **cause)
{
	const struct sync_entry *e;

	if (!sync_path_ok(t->path))
		return error_set(cause,
		    "'%s': not a path inside the workspace (absolute, '..' or "
		    "empty components): refused",
		    t->path);
	e = sync_scan_find(r->want, t->path);
	if (e == NULL || !r->host[e - r->want->v].needed)
		return error_set(cause, "'%s': not asked for: refused", t->path);
	if (e->type != t->type ||
	    (e->type == 'l' && strcmp(e->link, t->link != NULL ? t->link : "") != 0))
		return error_set(cause, "'%s': not the entry announced", t->path);
	return (long)(e - r->want->v);
}

static int
sync_recv_on_entry(void *arg, const struct tar_entry *t, char **cause)
{
	struct sync_recv *r = arg;
	const struct sync_entry *e;
	long i = sync_recv_wanted(r, t, cause);
	char *tmp;
	int dfd;

	if (i < 0)
		return -1;
	e = &r->want->v[i];
	if ((dfd = sync_recv_parent(r, e->path, 1, &r->cur_leaf)) < 0)
		return error_set_errno(cause, errno,
		    "'%s': its folder is not one inside the workspace (a symlink "
		    "or a file on the way): refused",
		    e->path);
	if (e->type == 'l') {
		tmp = sync_recv_tmp_name(r);
		if (symlinkat(t->link, dfd, tmp) != 0 ||
		    sync_recv_replace(dfd, tmp, r->cur_leaf) != 0) {
			error_set_errno(cause, errno, "'%s'", e->path);
			unlinkat(dfd, tmp, 0);
			free(tmp);
			return -1;
		}
		free(tmp);
		r->dirty = 1;
		r->host[i].valid = 1;
		r->host[i].needed = 0;
		r->received++;
		return 0;
	}
	/* A file: written under a temporary name, renamed at its end. */
	r->cur_dir = dup(dfd);
	r->cur_tmp = sync_recv_tmp_name(r);
	r->cur_fd = openat(r->cur_dir, r->cur_tmp,
	    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (r->cur_dir < 0 || r->cur_fd < 0)
		return error_set_errno(cause, errno, "'%s'", e->path);
	r->cur = i;
	r->cur_mode = t->mode & 0777;
	r->cur_size = 0;
	r->cur_leaf = strrchr(e->path, '/') ? strrchr(e->path, '/') + 1 : e->path;
	crypto_generichash_init(&r->cur_hash, NULL, 0, SYNC_HASH_HEX / 2);
	return 0;
}

static int
sync_recv_on_data(void *arg, const unsigned char *p, size_t len, char **cause)
{
	struct sync_recv *r = arg;

	if (fd_write_all(r->cur_fd, p, len) != 0)
		return error_set_errno(cause, errno, "'%s'", r->want->v[r->cur].path);
	crypto_generichash_update(&r->cur_hash, p, len);
	r->cur_size += len;
	return 0;
}

/* Drop the file being written (not renamed yet). */
static void
sync_recv_drop_current(struct sync_recv *r)
{
	if (r->cur_fd >= 0)
		close(r->cur_fd);
	if (r->cur_tmp != NULL && r->cur_dir >= 0)
		unlinkat(r->cur_dir, r->cur_tmp, 0);
	if (r->cur_dir >= 0)
		close(r->cur_dir);
	free(r->cur_tmp);
	r->cur_tmp = NULL;
	r->cur_fd = r->cur_dir = -1;
	r->cur = -1;
}

static int
sync_recv_on_entry_end(void *arg, char **cause)
{
	struct sync_recv *r = arg;
	struct sync_host *h;
	unsigned char bin[SYNC_HASH_HEX / 2];
	struct stat sb;

	if (r->cur < 0)
		return 0; /* not a file */
	h = &r->host[r->cur];
	if (r->keep && h->changed_on_host) {
		char *name = sync_back_conflict_name(r->cur_dir, r->cur_leaf);

		if (linkat(r->cur_dir, r->cur_leaf, r->cur_dir, name, 0) != 0)
			log_warn("sync: %s: keeping the host's '%s' as %s: %s", r->folder,
			    r->want->v[r->cur].path, name, strerror(errno));
		free(name);
	}
	if (fchmod(r->cur_fd, r->cur_mode) != 0 || fstat(r->cur_fd, &sb) != 0 ||
	    sync_recv_replace(r->cur_dir, r->cur_tmp, r->cur_leaf) != 0) {
		error_set_errno(cause, errno, "'%s'", r->want->v[r->cur].path);
		sync_recv_drop_current(r);
		return -1;
	}
	r->dirty = 1;
	crypto_generichash_final(&r->cur_hash, bin, sizeof bin);
	sodium_bin2hex(h->hash, sizeof h->hash, bin, sizeof bin);
	h->size = sb.st_size;
	h->mtime_ns = (long long)sb.st_mtim.tv_sec * 1000000000LL + sb.st_mtim.tv_nsec;
	h->ino = sb.st_ino;
	h->valid = 1;
	h->needed = 0;
	r->received++;
	r->bytes += r->cur_size;
	free(r->cur_tmp);
	r->cur_tmp = NULL; /* renamed: nothing to remove */
	sync_recv_drop_current(r);
	return 0;
}

static const struct tar_reader_cbs sync_recv_cbs = {
	sync_recv_on_entry,
	sync_recv_on_data,
	sync_recv_on_entry_end,
};

int
sync_recv_feed(struct sync_recv *r, const void *p, size_t len, char **cause)
{
	if (r->tar == NULL)
		r->tar = tar_reader_new(&sync_recv_cbs, r);
	return tar_reader_feed(r->tar, p, len, cause);
}

/* ---- The end --------------------------------------------------------------- */

void
sync_recv_keep_host_changes(struct sync_recv *r)
{
	r->keep = 1;
}

void
sync_recv_partial(struct sync_recv *r, char **del, size_t ndel)
{
	r->partial = 1;
	r->del = del;
	r->ndel = ndel;
	if (r->ndel > 0)
		qsort(r->del, r->ndel, sizeof *r->del, sync_path_cmp);
}

/* May an old index entry not in want go (deleted on the host, and out of
 * the index)? A whole sync: all may. A batch: those the client deleted,
 * and what is under them. */
static int
sync_recv_gone(const struct sync_recv *r, const char *path)
{
	return !r->partial || sync_delta_under(path, r->del, r->ndel);
}

/* Write the index: want's entries on disk, and (unless finished, or in a
 * batch not deleted) the old entries want no longer has (still to be
 * deleted). want and old are both in path order: one merge of the two
 * keeps that order. */
static void
sync_recv_save(struct sync_recv *r)
{
	struct sync_scan idx = { 0 };
	size_t i = 0, k = 0, n = 0;
	int c;

	idx.v = xcalloc(r->want->n + r->old->n + 1, sizeof *idx.v);
	while (i < r->want->n || k < r->old->n) {
		c = i == r->want->n  ? 1
		    : k == r->old->n ? -1
				     : strcmp(r->want->v[i].path, r->old->v[k].path);
		if (c > 0) { /* only in the old index */
			if (!r->finished || !sync_recv_gone(r, r->old->v[k].path))
				idx.v[n++] = r->old->v[k];
			k++;
			continue;
		}
		if (!r->host[i].valid) {
			/* Not written (gone on the client meanwhile): what an
			 * earlier sync wrote there is still ours to delete. */
			if (c == 0)
				idx.v[n++] = r->old->v[k];
		} else {
			idx.v[n] = r->want->v[i];
			if (idx.v[n].type == 'f') {
				memcpy(
				    idx.v[n].hash, r->host[i].hash, sizeof idx.v[n].hash);
				idx.v[n].size = r->host[i].size;
				idx.v[n].mtime_ns = r->host[i].mtime_ns;
				idx.v[n].ino = r->host[i].ino;
			}
			n++;
		}
		i++;
		k += c == 0;
	}
	idx.n = n;
	if (sync_index_same(&idx, r->old)) {
		free(idx.v); /* nothing changed: no write (and no fsync) */
		return;
	}
	/* What the index says is there is on disk first. */
	sync_recv_sync(r);
	/* A batch's few entries go to the journal; a whole sync rewrites it. */
	sync_index_save(r->index_path, r->folder, &r->ix, r->old, &idx, !r->partial);
	free(idx.v); /* (the entries are borrowed) */
}

/* Delete what an earlier sync wrote and want no longer lists (children
 * before their folders: the reverse of path order). */
static void
sync_recv_delete(struct sync_recv *r)
{
	const char *leaf;
	struct stat sb;
	size_t i;
	int dfd;

	for (i = r->old->n; i-- > 0;) {
		const struct sync_entry *o = &r->old->v[i];

		if (sync_scan_find(r->want, o->path) != NULL ||
		    !sync_recv_gone(r, o->path))
			continue;
		if ((dfd = sync_recv_parent(r, o->path, 0, &leaf)) < 0 ||
		    fstatat(dfd, leaf, &sb, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if (r->keep && o->type == 'f' && S_ISREG(sb.st_mode) &&
		    (sb.st_size != o->size ||
			(long long)sb.st_mtim.tv_sec * 1000000000LL +
				sb.st_mtim.tv_nsec !=
			    o->mtime_ns))
			continue; /* two-way: changed on the host since, kept (the
				     next pull reports it) */
		if (o->type == 'd' && S_ISDIR(sb.st_mode)) {
			if (unlinkat(dfd, leaf, AT_REMOVEDIR) == 0)
				r->deleted++;
		} else if ((o->type == 'f' && S_ISREG(sb.st_mode)) ||
		    (o->type == 'l' && S_ISLNK(sb.st_mode))) {
			if (unlinkat(dfd, leaf, 0) == 0)
				r->deleted++;
		}
	}
}

/* Into result: "hostChanged", how many files changed on the host since a
 * sync wrote them were replaced by the client's version, and
 * "hostChangedPaths", the first SYNC_RECV_REPORT_MAX of them (so that no
 * change is overwritten silently: docs/SYNC.md). */
static void
sync_recv_report_host_changes(const struct sync_recv *r, cJSON *result)
{
	cJSON *paths = NULL;
	size_t i, n = 0;

	for (i = 0; i < r->want->n; i++) {
		if (!r->host[i].changed_on_host || !r->host[i].valid)
			continue;
		if (paths == NULL)
			paths = cJSON_AddArrayToObject(result, "hostChangedPaths");
		if (n++ < SYNC_RECV_REPORT_MAX)
			cJSON_AddItemToArray(
			    paths, cJSON_CreateString(r->want->v[i].path));
	}
	if (n > 0)
		cJSON_AddNumberToObject(result, "hostChanged", (double)n);
}

int
sync_recv_finish(struct sync_recv *r, cJSON **result, char **cause)
{
	size_t i, missing = 0;

	*result = NULL;
	if (r->tar != NULL && tar_reader_finish(r->tar, cause) != 0)
		return -1;
	for (i = 0; i < r->want->n; i++)
		missing += r->host[i].needed;
	if (r->tar == NULL && missing > 0)
		return error_set(cause, "the stream ended before any entry came");
	sync_recv_delete(r);
	r->finished = 1;
	sync_recv_save(r);
	*result = cJSON_CreateObject();
	cJSON_AddStringToObject(*result, "folder", r->folder);
	cJSON_AddNumberToObject(*result, "files", (double)r->want->n);
	cJSON_AddNumberToObject(*result, "received", (double)r->received);
	cJSON_AddNumberToObject(*result, "bytes", (double)r->bytes);
	cJSON_AddNumberToObject(*result, "deleted", (double)r->deleted);
	/* Asked for but not sent: gone on the client meanwhile. */
	cJSON_AddNumberToObject(*result, "missing", (double)missing);
	sync_recv_report_host_changes(r, *result);
	return 0;
}

void
sync_recv_free(struct sync_recv *r)
{
	if (r == NULL)
		return;
	sync_recv_drop_current(r);
	if (!r->finished)
		sync_recv_save(r);
	tar_reader_free(r->tar);
	if (r->pdir >= 0)
		close(r->pdir);
	if (r->root >= 0)
		close(r->root);
	sync_scan_free(r->old);
	for (size_t i = 0; i < r->ndel; i++)
		free(r->del[i]);
	free(r->del);
	free(r->pdir_path);
	free(r->host);
	free(r->folder);
	free(r->index_path);
	free(r);
}
