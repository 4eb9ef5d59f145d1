/* sync-recv.c - the host's side of a sync (sync-recv.h). */
#include "sync-recv.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "agent-state.h"
#include "atomic-file.h"
#include "error.h"
#include "log.h"
#include "quote.h"
#include "shell-quote.h"
#include "sync-aside.h"
#include "sync-back.h"
#include "sync-blocks.h"
#include "sync-cover.h"
#include "sync-delta.h"
#include "sync-index.h"
#include "sync-scan.h"
#include "sync-send.h"
#include "tar-stream.h"
#include "xmalloc.h"

/* At most this many paths of files changed on the host are named. */
#define SYNC_RECV_REPORT_MAX 20
/* At most this many entries that could not land are listed with their
 * errors (the sender sends the rest again whole). */
#define SYNC_RECV_FAILED_MAX 1000
/* ... and at most about this many bytes of them (paths and errors: 1,000
 * of 4 KiB paths would be 8 MiB in the result, past what one message
 * carries beside the rest). */
#define SYNC_RECV_FAILED_MAX_BYTES (256u << 10)
/* Past those listed, the rest are named by at most this many folders
 * ("failedUnder", sync-cover.h) of at most this many bytes in all. */
#define SYNC_RECV_FAILED_UNDER_MAX 64
#define SYNC_RECV_FAILED_UNDER_MAX_BYTES (16u << 10)
/* At most this much JSON of block hashes in one answer (which must fit
 * one message, PROTO_MAX_PAYLOAD, with its need list: the caller gives
 * what is left, sync_recv_blocks): 48 GiB of large files at 128 KiB
 * blocks; those past it are sent whole. */
#define SYNC_RECV_BLOCKS_MAX (8u << 20)

/* What the host has for one entry of want, once known. */
struct sync_host {
	int valid; /* on disk as want says (kept or received) */
	int needed;
	/* A file the index says a sync wrote, changed on the host since (its
	 * content is neither what was written nor what comes now). */
	int changed_on_host;
	/* A file the index lacks, its bytes other than what comes: one kept
	 * aside (aside: the client left it out, never had it, sync-aside.h),
	 * or made on both sides. */
	int untracked, aside;
	/* The host's entry in the way was kept as its conflict name (reported
	 * one way too: a folder the host made, sync_recv_in_the_way). */
	int kept;
	/* Once what came replaced it: the name the host's version was kept
	 * under, beside it (new; "keptAs"), else NULL. */
	char *kept_as;
	char hash[SYNC_HASH_HEX + 1];
	long long size, mtime_ns;
	unsigned long long ino;
	/* Block hashes were offered (sync_recv_blocks) of the host file as it
	 * was then; a delta against it failed (the file changed meanwhile). */
	int offered, delta_failed;
	long long b_size, b_mtime_ns;
	unsigned long long b_ino;
	/* It could not land (sync_recv_entry_errors): why (new), else NULL. */
	char *error;
};

struct sync_recv {
	int root; /* the folder, opened */
	char *folder;
	char *index_path;
	const struct sync_scan *want;
	struct sync_scan *old;	 /* the index as read (never NULL) */
	struct sync_index ix;	 /* and what its save needs of it */
	struct sync_scan *aside; /* a two-way pull's entries kept aside, read
				    when first needed (NULL until then) */
	int partial;		 /* a batch: want is only what changed */
	int keep;		 /* two-way: keep host changes as conflict files */
	int started;		 /* the manifest's folders made (sync_recv_start) */
	int entry_errors;	 /* an entry that cannot land fails alone */
	size_t failed;		 /* entries that could not land */
	size_t failed_max;	 /* of those, listed at most (sync_recv_entry_errors) */
	/* Deletions that could not land (EACCES...): their paths and why
	 * (path order once sync_recv_delete is done); they stay in the index,
	 * and with entry errors are among the failed. */
	char **del_failed, **del_failed_why;
	size_t ndel_failed;
	int skip;   /* the rest of the stream's file is dropped */
	char **del; /* partial: what the client deleted (sorted) */
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
	unsigned long long cur_wire; /* the entry's bytes in the stream */
	crypto_generichash_state cur_hash;
	/* The file being written is a delta (sync-blocks.h) against cur_old;
	 * cur_failed: the host file is no longer the one whose blocks were
	 * offered (the rest of the entry is skipped, the file not written). */
	struct sync_blocks_apply *cur_apply;
	struct sync_blocks_delta cur_delta;
	int cur_old, cur_failed;
	unsigned char *block; /* a host block read for a copy */
	size_t delta_failed;
	unsigned tmp_seq;
	size_t received, deleted;
	unsigned long long bytes;
	/* One way: entries the client deleted that the host changed since
	 * (kept there, sync_recv_delete): how many, and the last
	 * SYNC_RECV_REPORT_MAX noted, a ring at host_kept % SYNC_RECV_REPORT_MAX
	 * (each new): noted in reverse path order, they are the first in path
	 * order. */
	size_t host_kept;
	char *host_kept_paths[SYNC_RECV_REPORT_MAX];
	/* One way: of those, the files, with their stat and hash, for the
	 * entries kept aside (sync_recv_keep_aside); reverse path order.
	 * Room for kept_cap (grown by doubling, not a realloc per file). */
	struct sync_scan kept_files;
	size_t kept_cap;
	/* The last error sync_recv_denied made was the host's disk or quota
	 * full (cleared when an entry error is kept for the result instead):
	 * sync_recv_host_write_failed. */
	int host_write_failed;
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

/* The deepest folder on path's way (relative to r->root; path's last
 * component left out) that exists, found with O_NOFOLLOW on each
 * component as sync_recv_parent walks (a symlink on the way, put there by
 * the container, is not followed out of the folder): its path (new; "."
 * for the root) and stat into *sb. NULL when none could be stat'ed. */
static char *
sync_recv_deepest(struct sync_recv *r, const char *path, struct stat *sb)
{
	char *dir = xstrdup(path), *slash = strrchr(dir, '/'), *p, *name;
	char *found = NULL;
	int fd = r->root, next;
	struct stat here;

	if (fstat(r->root, sb) == 0)
		found = xstrdup(".");
	if (slash == NULL) {
		free(dir);
		return found;
	}
	*slash = '\0';
	for (p = dir; p != NULL;) {
		name = p;
		if ((p = strchr(p, '/')) != NULL)
			*p = '\0';
		if (fstatat(fd, name, &here, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISDIR(here.st_mode))
			break;
		*sb = here;
		free(found);
		found = xstrndup(dir, (size_t)(name + strlen(name) - dir));
		next = openat(fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd != r->root)
			close(fd);
		fd = next;
		if (fd < 0)
			break;
		if (p != NULL)
			*p++ = '/';
	}
	if (fd >= 0 && fd != r->root)
		close(fd);
	free(dir);
	return found;
}

/* Set *cause for path (relative), which failed with err: "'PATH': ERROR";
 * a full disk or quota (ENOSPC, EDQUOT) names the whole path on the host and
 * says it is the host's ("cannot write /home/u/app/x: No space left on
 * device (the host's disk is full)": a bare "'x': No space ..." reads as
 * this side's; the answer's errorCode "host-write-failed" says so, and the
 * client puts "on HOST:" before it: sync_recv_host_write_failed);
 * when the host refused it (EACCES, EPERM) and the deepest folder of its
 * path that exists (where it, or a folder on its way, was to be made) is
 * another user's, the message names that folder, its owner (root, when the
 * container made it) and what to do: rdev does not take it back itself.
 * The command it suggests quotes the path for a shell (the container
 * names it: pasted unquoted, a name such as "$(...)" would run). Returns
 * -1. */
static int
sync_recv_denied(struct sync_recv *r, const char *path, int err, char **cause)
{
	char *dir = NULL, *owner, *full, *quoted;
	const char *argv[2];
	struct stat sb;

	r->host_write_failed = err == ENOSPC || err == EDQUOT;
	if (r->host_write_failed)
		return error_set(cause, "cannot write %s/%s: %s (%s)", r->folder, path,
		    strerror(err),
		    err == ENOSPC ? "the host's disk is full"
				  : "the user's disk quota on the host is used up");
	if (err == EACCES || err == EPERM)
		dir = sync_recv_deepest(r, path, &sb);
	if (dir == NULL || sb.st_uid == geteuid()) {
		free(dir);
		return error_set_errno(cause, err, "'%s'", path);
	}
	owner = sb.st_uid == 0 ? xstrdup("root (made in the container as root?)")
			       : xasprintf("uid %u", (unsigned)sb.st_uid);
	full = strcmp(dir, ".") == 0 ? xstrdup(r->folder)
				     : xasprintf("%s/%s", r->folder, dir);
	argv[0] = full;
	argv[1] = NULL;
	quoted = shell_quote_argv(argv, SHELL_QUOTE_ALWAYS);
	error_set(cause,
	    "'%s': %s: the host folder '%s' belongs to %s, not to this user "
	    "(uid %u): give it back as root (`sudo chown -R %u:%u %s` on the "
	    "host, or chown it in the container as root), or run the container's "
	    "commands as your user (remoteUser, updateRemoteUserUID)",
	    path, strerror(err), dir, owner, (unsigned)geteuid(), (unsigned)geteuid(),
	    (unsigned)getegid(), quoted);
	free(quoted);
	free(full);
	free(owner);
	free(dir);
	return -1;
}

/* Want entry i cannot land (*cause says why; taken). With entry errors
 * (sync_recv_entry_errors) it fails alone: noted for the result's
 * "failed", nothing of it written, the index keeps what it had for it, and
 * the stream goes on (0). Else the stream ends with *cause (-1). */
static int
sync_recv_entry_failed(struct sync_recv *r, size_t i, char **cause)
{
	struct sync_host *h = &r->host[i];

	if (!r->entry_errors)
		return -1;
	/* (kept for the result: not what ends the stream) */
	r->host_write_failed = 0;
	if (r->failed == 0) /* (the rest counted at the end: no flood) */
		log_warn("sync: %s: %s (the other entries go on)", r->folder,
		    cause != NULL && *cause != NULL ? *cause : "failed");
	free(h->error);
	h->error = cause != NULL && *cause != NULL
	    ? *cause
	    : xasprintf("'%s': failed", r->want->v[i].path);
	if (cause != NULL)
		*cause = NULL;
	h->needed = 0;
	h->valid = 0;
	r->failed++;
	return 0;
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

/* ---- The plan ------------------------------------------------------------ */

/* The entry kept aside for path (a file), or NULL. */
static const struct sync_entry *
sync_recv_aside(struct sync_recv *r, const char *path)
{
	const struct sync_entry *a;

	if (r->aside == NULL)
		r->aside = sync_aside_load(r->index_path, NULL);
	a = sync_scan_find(r->aside, path);
	return a != NULL && a->type == 'f' ? a : NULL;
}

/* Is the host's file for h one the client has not got, that its version
 * replaces (kept as a conflict file in a two-way sync, and named in
 * "hostChanged")? One changed since a sync wrote it; or one the index
 * lacks whose bytes differ from what comes: kept aside (the client left it
 * out), or, two-way, any (made on both sides: never lost). */
static int
sync_recv_host_changed(const struct sync_recv *r, const struct sync_host *h)
{
	return h->changed_on_host || (h->untracked && (h->aside || r->keep));
}

/* Is want entry i already on the host? Fills r->host[i]. */
static int
sync_recv_check(struct sync_recv *r, size_t i)
{
	const struct sync_entry *e = &r->want->v[i], *o, *known;
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
	/* (what the index lacks: known, when kept aside, for its hash) */
	known = o != NULL ? o : sync_recv_aside(r, e->path);
	h->aside = o == NULL && known != NULL;
	/* Hashed when it may be what comes, or to tell whether a file a sync
	 * wrote was changed on the host since. */
	if (sb.st_size != e->size && o == NULL) {
		h->untracked = 1;
		return 0;
	}
	h->size = sb.st_size;
	h->mtime_ns = sync_time_ns(&sb.st_mtim);
	h->ino = sb.st_ino;
	if (known != NULL && known->size == h->size && known->mtime_ns == h->mtime_ns &&
	    known->ino == h->ino)
		memcpy(h->hash, known->hash, sizeof h->hash);
	else {
		fd = openat(dfd, leaf, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			h->untracked = o == NULL; /* (unread: kept, to be safe) */
			return 0;
		}
		if (sync_hash_fd(fd, h->hash) != 0)
			h->hash[0] = '\0';
		close(fd);
	}
	/* (a mode other than the one a sync wrote is a host change too: a
	 * chmod in the container, replaced by the client's mode, told) */
	if (strcmp(h->hash, e->hash) != 0) {
		h->changed_on_host = o != NULL && h->hash[0] != '\0' &&
		    (strcmp(h->hash, o->hash) != 0 || (sb.st_mode & 0777) != o->mode);
		h->untracked = o == NULL; /* (unread too: kept, to be safe) */
		return 0;
	}
	/* (never through a symlink the container swapped in meanwhile) */
	if ((sb.st_mode & 0777) != e->mode) {
		h->changed_on_host = o != NULL && (sb.st_mode & 0777) != o->mode;
		/* (refused, a file root made in the container: not there as
		 * want says, so it is received whole, and its write fails or
		 * lands with the reason, never taken as landed in the old
		 * mode) */
		if (fchmodat(dfd, leaf, e->mode, AT_SYMLINK_NOFOLLOW) != 0)
			return 0;
	}
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
	r->pdir = r->cur_fd = r->cur_dir = r->cur_old = -1;
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

		if (e->type != 'd' && !sync_recv_check(r, i)) {
			r->host[i].needed = 1;
			cJSON_AddItemToArray(*need, cJSON_CreateString(e->path));
		}
	}
	*out = r;
	return 0;
}

/* All len bytes at off of fd into p: 0, or -1 (an error, or the end of
 * the file first). */
static int
sync_recv_pread(int fd, unsigned char *p, size_t len, off_t off)
{
	return fd_pread_full(fd, p, len, off) == len ? 0 : -1;
}

/* Open leaf of dfd for reading if it is a regular file (not a symlink):
 * its type is checked before the open, since opening a device node can
 * have side effects, and the file opened must be the one checked. The fd
 * with *sb, or -1. */
static int
sync_recv_open_regular(int dfd, const char *leaf, struct stat *sb)
{
	struct stat lsb;
	int fd;

	if (fstatat(dfd, leaf, &lsb, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(lsb.st_mode))
		return -1;
	/* (O_NONBLOCK: a FIFO put there meanwhile is not waited on) */
	fd = openat(dfd, leaf, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, sb) != 0 || !S_ISREG(sb->st_mode) || sb->st_ino != lsb.st_ino ||
	    sb->st_dev != lsb.st_dev) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The block hashes of the host file fd (of size bytes) into *out (a new
 * base64 string). 0, or -1 (a read failed). */
static int
sync_recv_hash_blocks(struct sync_recv *r, int fd, unsigned long long size, char **out)
{
	size_t n = sync_blocks_count(size, SYNC_BLOCKS_SIZE), len, b64len;
	unsigned char *h = xcalloc(n + 1, SYNC_BLOCKS_HASH);

	if (r->block == NULL)
		r->block = xmalloc(SYNC_BLOCKS_SIZE);
	for (size_t k = 0; k < n; k++) {
		len = sync_blocks_len(size, SYNC_BLOCKS_SIZE, k);
		if (sync_recv_pread(fd, r->block, len, (off_t)k * SYNC_BLOCKS_SIZE) !=
		    0) {
			free(h);
			return -1;
		}
		sync_blocks_hash(r->block, len, h + k * SYNC_BLOCKS_HASH);
	}
	b64len = sodium_base64_encoded_len(
	    n * SYNC_BLOCKS_HASH, sodium_base64_VARIANT_ORIGINAL);
	*out = xmalloc(b64len);
	sodium_bin2base64(
	    *out, b64len, h, n * SYNC_BLOCKS_HASH, sodium_base64_VARIANT_ORIGINAL);
	free(h);
	return 0;
}

/* The JSON a blocks entry takes besides its hashes: {"need":K,"size":N,
 * "hashes":""}, and its comma (K and N printed as doubles, <= 24 each). */
#define SYNC_RECV_BLOCKS_ENTRY 96

size_t
sync_recv_blocks_len(unsigned long long size)
{
	return sodium_base64_encoded_len(
		   sync_blocks_count(size, SYNC_BLOCKS_SIZE) * SYNC_BLOCKS_HASH,
		   sodium_base64_VARIANT_ORIGINAL) -
	    1 + SYNC_RECV_BLOCKS_ENTRY;
}

cJSON *
sync_recv_blocks(struct sync_recv *r, size_t max)
{
	cJSON *out = cJSON_CreateArray(), *o;
	size_t pos = 0, total = 2 /* [] */, len;
	const char *leaf;
	struct stat sb;
	char *b64;
	int dfd, fd;

	if (max > SYNC_RECV_BLOCKS_MAX)
		max = SYNC_RECV_BLOCKS_MAX;
	for (size_t i = 0; i < r->want->n; i++) {
		struct sync_host *h = &r->host[i];

		if (!h->needed)
			continue;
		pos++;
		if (r->want->v[i].type != 'f' ||
		    (dfd = sync_recv_parent(r, r->want->v[i].path, 0, &leaf)) < 0 ||
		    (fd = sync_recv_open_regular(dfd, leaf, &sb)) < 0)
			continue;
		if (sb.st_size < SYNC_BLOCKS_MIN) {
			close(fd);
			continue;
		}
		/* Whether its hashes fit is known from its size: a file whose
		 * hashes would not is sent whole, and not read. */
		len = sync_recv_blocks_len((unsigned long long)sb.st_size);
		if (len > max || total > max - len ||
		    sync_recv_hash_blocks(r, fd, (unsigned long long)sb.st_size, &b64) !=
			0) {
			close(fd);
			continue;
		}
		close(fd);
		h->offered = 1;
		h->b_size = sb.st_size;
		h->b_mtime_ns = sync_time_ns(&sb.st_mtim);
		h->b_ino = sb.st_ino;
		total += len;
		o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "need", (double)(pos - 1));
		cJSON_AddNumberToObject(o, "size", (double)sb.st_size);
		cJSON_AddStringToObject(o, "hashes", b64);
		cJSON_AddItemToArray(out, o);
		free(b64);
	}
	return out;
}

/* ---- What the host has in an entry's way ---------------------------------- */

/* The path of name, a sibling of path (both relative to the root). New. */
static char *
sync_recv_sibling(const char *path, const char *name)
{
	const char *slash = strrchr(path, '/');

	return slash == NULL ? xstrdup(name)
			     : xasprintf("%.*s/%s", (int)(slash - path), path, name);
}

/* A file's entry (its path left to the caller) from its stat and hash. */
static void
sync_recv_file_entry(struct sync_entry *e, const struct stat *sb, const char *hash)
{
	e->type = 'f';
	e->mode = sb->st_mode & 0777;
	e->size = sb->st_size;
	e->mtime_ns = sync_time_ns(&sb->st_mtim);
	e->ino = sb->st_ino;
	memcpy(e->hash, hash, sizeof e->hash);
}

/* Is the host's entry leaf of dfd (path) what the index says a sync wrote
 * there: of the same type and content (a file whose size, mtime or inode
 * differ is hashed), a folder with everything under it so? A folder the
 * index lacks is only when empty (nothing in it to lose). A file hashed
 * and found changed fills *hashed (may be NULL; path not set) with the
 * stat and hash read, so that keeping it does not read it again; else
 * *hashed is untouched. */
static int
sync_recv_synced(struct sync_recv *r, int dfd, const char *leaf, const char *path,
    struct sync_entry *hashed)
{
	const struct sync_entry *o = sync_scan_find(r->old, path);
	char target[4097], hash[SYNC_HASH_HEX + 1];
	struct dirent *de;
	struct stat sb;
	ssize_t n;
	DIR *d;
	int fd, ok;

	if (fstatat(dfd, leaf, &sb, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT && o == NULL;
	if (S_ISDIR(sb.st_mode)) {
		if (o != NULL && o->type != 'd')
			return 0;
		fd = openat(dfd, leaf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || (d = fdopendir(fd)) == NULL) {
			if (fd >= 0)
				close(fd);
			return 0;
		}
		ok = 1;
		while (ok && (de = readdir(d)) != NULL) {
			char *sub;

			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			sub = xasprintf("%s/%s", path, de->d_name);
			ok = o != NULL &&
			    sync_recv_synced(r, dirfd(d), de->d_name, sub, NULL);
			free(sub);
		}
		closedir(d);
		return ok;
	}
	if (o == NULL)
		return 0;
	if (o->type == 'l') {
		if (!S_ISLNK(sb.st_mode) ||
		    (n = readlinkat(dfd, leaf, target, sizeof target - 1)) < 0)
			return 0;
		target[n] = '\0';
		return strcmp(target, o->link) == 0;
	}
	if (o->type != 'f' || !S_ISREG(sb.st_mode) || sb.st_size != o->size)
		return 0;
	if (sync_time_ns(&sb.st_mtim) == o->mtime_ns && sb.st_ino == o->ino)
		return 1;
	if ((fd = sync_recv_open_regular(dfd, leaf, &sb)) < 0)
		return 0;
	ok = sync_hash_fd(fd, hash) == 0;
	close(fd);
	if (ok && strcmp(hash, o->hash) == 0)
		return 1;
	if (ok && hashed != NULL)
		sync_recv_file_entry(hashed, &sb, hash);
	return 0;
}

/* Is anything under the folder path kept aside (sync-aside.h)? */
static int
sync_recv_aside_under(struct sync_recv *r, const char *path)
{
	size_t len = strlen(path);

	if (r->aside == NULL)
		r->aside = sync_aside_load(r->index_path, NULL);
	for (size_t k = 0; k < r->aside->n; k++)
		if (strncmp(r->aside->v[k].path, path, len) == 0 &&
		    r->aside->v[k].path[len] == '/')
			return 1;
	return 0;
}

/* Keep the host's entry leaf of dfd (path) under a free conflict name
 * (sync_back_conflict_name): a file linked, so that it stays in place
 * until what comes is renamed over it, unless move; else (a folder, or a
 * link the kernel refuses: protected_hardlinks and a file of another
 * user) moved there, never over anything. 0 with *kept (new: the name, in
 * dfd) and *moved, or -1 with *cause (nothing changed). */
static int
sync_recv_keep_as(int dfd, const char *leaf, const char *path, int move, char **kept,
    int *moved, char **cause)
{
	static const char tag[] = ".rdev-conflict-";
	char *at, *stamp = NULL;
	int err;

	*kept = sync_back_conflict_name(dfd, leaf);
	*moved = 0;
	if (!move && linkat(dfd, leaf, dfd, *kept, 0) == 0)
		return 0;
	if (renameat2(dfd, leaf, dfd, *kept, RENAME_NOREPLACE) == 0) {
		*moved = 1;
		return 0;
	}
	err = errno;
	if (err == ENOENT) { /* (gone meanwhile: nothing to keep) */
		free(*kept);
		*kept = NULL;
		return 0;
	}
	/* (the name's stamp left out: the message is the same at each try,
	 * so it is told once, not at each retry) */
	at = sync_recv_sibling(path, *kept);
	for (char *p = at; (p = strstr(p, tag)) != NULL; p++)
		stamp = p + strlen(tag);
	if (stamp != NULL && *stamp != '\0') {
		stamp[0] = '*';
		stamp[1] = '\0';
	}
	error_set_errno(cause, err, "'%s': keeping the host's version as %s", path, at);
	free(at);
	free(*kept);
	*kept = NULL;
	return -1;
}

/* What comes for path failed after the host's version was kept as kept
 * (in dfd; moved: no longer at leaf; may be NULL: nothing kept): a link is
 * removed (the host's is still in place), a moved entry goes back, never
 * over what is at leaf now; if it cannot, it stays where it is and *cause
 * (the failure) says so. kept is freed. */
static void
sync_recv_unkeep(const struct sync_recv *r, int dfd, char *kept, int moved,
    const char *leaf, const char *path, char **cause)
{
	char *at, *was;
	int err;

	if (kept == NULL)
		return;
	if (!moved)
		unlinkat(dfd, kept, 0); /* (no spare copy pulled back later) */
	else if (renameat2(dfd, kept, dfd, leaf, RENAME_NOREPLACE) != 0) {
		err = errno;
		at = sync_recv_sibling(path, kept);
		log_warn("sync: %s: '%s': the host's version left as '%s': %s", r->folder,
		    path, at, strerror(err));
		if (cause != NULL && *cause != NULL) {
			was = *cause;
			*cause =
			    xasprintf("%s (the host's version is now '%s')", was, at);
			free(was);
		}
		free(at);
	}
	free(kept);
}

/* What came for want entry i replaced the host's version, which was kept
 * under kept (in its folder; taken, may be NULL: nothing kept): noted for
 * the result's "keptAs". */
static void
sync_recv_kept(struct sync_recv *r, size_t i, char *kept)
{
	struct sync_host *h = &r->host[i];

	free(h->kept_as);
	h->kept_as = kept != NULL ? sync_recv_sibling(r->want->v[i].path, kept) : NULL;
	free(kept);
}

/* The host's entry at leaf of dfd, where want entry i goes, when of
 * another kind (a regular file where a folder or symlink comes; a folder
 * where a file or symlink comes) or a symlink (where anything comes): one
 * not as the last sync left it (changed, made on the host, or holding
 * what the index lacks) is noted in r->host[i] (reported as a file's,
 * sync_recv_host_changed) and, two-way or when kept aside, kept as its
 * conflict name (sync_recv_keep_as) before anything replaces it; a
 * folder so is kept one way too. (A folder moved so: r->pdir, the folder
 * of i, is not inside it.) 0 with *kept (new, or NULL: nothing kept) and
 * *moved, or -1 with *cause (nothing changed). */
static int
sync_recv_in_the_way(struct sync_recv *r, size_t i, int dfd, const char *leaf,
    char **kept, int *moved, char **cause)
{
	const struct sync_entry *e = &r->want->v[i];
	struct sync_host *h = &r->host[i];
	struct stat sb;
	int dir, lnk;

	*kept = NULL;
	*moved = 0;
	if (fstatat(dfd, leaf, &sb, AT_SYMLINK_NOFOLLOW) != 0)
		return 0;
	dir = S_ISDIR(sb.st_mode);
	lnk = S_ISLNK(sb.st_mode);
	/* (a file over a file is sync_recv_check's; a FIFO or such: replaced) */
	if (dir ? e->type == 'd' : !lnk && (!S_ISREG(sb.st_mode) || e->type == 'f'))
		return 0;
	if (sync_recv_synced(r, dfd, leaf, e->path, NULL))
		return 0;
	if (sync_scan_find(r->old, e->path) != NULL)
		h->changed_on_host = 1;
	else
		h->untracked = 1;
	/* (what the client left out is kept one way too: in a folder a sync
	 * made, as well) */
	h->aside = dir ? sync_recv_aside_under(r, e->path)
		       : h->untracked && sync_recv_aside(r, e->path) != NULL;
	/* A folder is kept one way too: what the host made in it (build
	 * output) may be much, and not ours to delete (root's, made in the
	 * container: every batch would fail on it). */
	if (!dir && !((r->keep || h->aside) && sync_recv_host_changed(r, h)))
		return 0;
	/* (a folder comes: the file moved, as a link would be unlinked; a
	 * symlink is moved, never followed) */
	if (sync_recv_keep_as(dfd, leaf, e->path, dir || lnk || e->type == 'd', kept,
		moved, cause) != 0)
		return -1;
	h->kept = *kept != NULL; /* (gone meanwhile: nothing kept, nothing told) */
	return 0;
}

/* Make want entry i a folder (replacing what is there, a file kept as
 * sync_recv_in_the_way says). 0, or -1 with *cause. */
static int
sync_recv_dir(struct sync_recv *r, size_t i, char **cause)
{
	const struct sync_entry *e = &r->want->v[i];
	const char *leaf;
	struct stat sb;
	char *kept = NULL;
	int moved = 0, err, dfd = sync_recv_parent(r, e->path, 1, &leaf);

	if (dfd < 0)
		return sync_recv_denied(r, e->path, errno, cause);
	if (fstatat(dfd, leaf, &sb, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISDIR(sb.st_mode))
			return 0;
		if (sync_recv_in_the_way(r, i, dfd, leaf, &kept, &moved, cause) != 0)
			return -1;
		if (kept == NULL)
			unlinkat(dfd, leaf, 0);
	}
	/* (a folder there now is one; anything else could not be removed) */
	if (mkdirat(dfd, leaf, e->mode | 0700) != 0 &&
	    ((err = errno) != EEXIST ||
		fstatat(dfd, leaf, &sb, AT_SYMLINK_NOFOLLOW) != 0 ||
		!S_ISDIR(sb.st_mode))) {
		if (err == EEXIST)
			error_set(cause,
			    "'%s': the host's entry there is not a folder and could "
			    "not be removed",
			    e->path);
		else
			sync_recv_denied(r, e->path, err, cause);
		sync_recv_unkeep(r, dfd, kept, moved, leaf, e->path, cause);
		return -1;
	}
	sync_recv_kept(r, i, kept);
	return 0;
}

/* Make the manifest's folders, once, before the stream's first entry (not
 * at open: a host file in a folder's way is kept two-way, which is said
 * after). 0, or -1 with *cause. */
static int
sync_recv_start(struct sync_recv *r, char **cause)
{
	if (r->started)
		return 0;
	r->started = 1;
	for (size_t i = 0; i < r->want->n; i++) {
		if (r->want->v[i].type != 'd')
			continue;
		if (sync_recv_dir(r, i, cause) != 0) {
			if (sync_recv_entry_failed(r, i, cause) == 0)
				continue;
			return error_prefix(cause, "%s", r->folder);
		}
		r->host[i].valid = 1;
	}
	return 0;
}

/* ---- The stream ----------------------------------------------------------- */

/* The want index of an entry the stream brings, checked. */
static long
sync_recv_wanted(struct sync_recv *r, const struct tar_entry *t, char **cause)
{
	const struct sync_entry *e;

	char *quoted;

	if (!sync_path_ok(t->path)) {
		/* (a peer's bytes: a line break or an ESC in them would split
		 * the log's line or drive the terminal that shows the error) */
		quoted = quote_string(t->path, 256);
		error_set(cause,
		    "%s: not a path a sync carries (absolute, '..' or empty "
		    "components, a control character, over 4095 bytes): refused",
		    quoted);
		free(quoted);
		return -1;
	}
	e = sync_scan_find(r->want, t->path);
	/* (a path sync_path_ok let through: quoted all the same, as the
	 * refused one, its length cut) */
	if (e == NULL || !r->host[e - r->want->v].needed) {
		quoted = quote_string(t->path, 256);
		error_set(cause, "%s: not asked for: refused", quoted);
		free(quoted);
		return -1;
	}
	if (e->type != t->type ||
	    (e->type == 'l' && strcmp(e->link, t->link != NULL ? t->link : "") != 0)) {
		quoted = quote_string(t->path, 256);
		error_set(cause, "%s: not the entry announced", quoted);
		free(quoted);
		return -1;
	}
	return (long)(e - r->want->v);
}

/* Bytes of the file being written, in order. */
static int
sync_recv_write(struct sync_recv *r, const unsigned char *p, size_t len, char **cause)
{
	if (fd_write_all(r->cur_fd, p, len) != 0)
		return sync_recv_denied(r, r->want->v[r->cur].path, errno, cause);
	crypto_generichash_update(&r->cur_hash, p, len);
	r->cur_size += len;
	return 0;
}

/* A delta's copy: the host's block j, from the file whose blocks were
 * offered. One shorter than it was (changed meanwhile) fails the entry. */
static int
sync_recv_delta_copy(void *arg, size_t j, size_t len, char **cause)
{
	struct sync_recv *r = arg;

	if (r->cur_failed)
		return 0;
	if (sync_recv_pread(
		r->cur_old, r->block, len, (off_t)j * (off_t)r->cur_delta.block) != 0) {
		r->cur_failed = 1;
		return 0;
	}
	return sync_recv_write(r, r->block, len, cause);
}

static int
sync_recv_delta_literal(void *arg, const unsigned char *p, size_t len, char **cause)
{
	struct sync_recv *r = arg;

	return r->cur_failed ? 0 : sync_recv_write(r, p, len, cause);
}

static const struct sync_blocks_cbs sync_recv_delta_cbs = {
	sync_recv_delta_copy,
	sync_recv_delta_literal,
};

/* The file being written comes as a delta (t->delta, sync-blocks.h)
 * against the host file whose blocks were offered: open that file; one
 * that is no longer it (size, mtime, inode) fails the entry at its end. */
static int
sync_recv_delta_start(struct sync_recv *r, const struct tar_entry *t, char **cause)
{
	struct sync_host *h = &r->host[r->cur];
	const char *path = r->want->v[r->cur].path;
	struct stat sb;

	if (!h->offered)
		return error_set(
		    cause, "'%s': a delta, but no blocks were offered", path);
	if (sync_blocks_delta_parse(t->delta, &r->cur_delta) != 0 ||
	    r->cur_delta.block != SYNC_BLOCKS_SIZE)
		return error_set(cause, "'%s': bad delta record", path);
	r->cur_old = sync_recv_open_regular(r->cur_dir, r->cur_leaf, &sb);
	r->cur_failed = r->cur_old < 0 || sb.st_size != h->b_size ||
	    sb.st_ino != h->b_ino || sync_time_ns(&sb.st_mtim) != h->b_mtime_ns;
	r->cur_apply = sync_blocks_apply_new(
	    &r->cur_delta, (unsigned long long)h->b_size, &sync_recv_delta_cbs, r);
	return 0;
}

static void sync_recv_drop_current(struct sync_recv *r);

/* sync_recv_entry_failed for entry i, whose tar entry t begins: a file's
 * bytes, still to come, are dropped. */
static int
sync_recv_entry_skip(
    struct sync_recv *r, size_t i, const struct tar_entry *t, char **cause)
{
	if (sync_recv_entry_failed(r, i, cause) != 0)
		return -1;
	r->skip = t->type == 'f';
	return 0;
}

static int
sync_recv_on_entry(void *arg, const struct tar_entry *t, char **cause)
{
	struct sync_recv *r = arg;
	const struct sync_entry *e;
	long i = sync_recv_wanted(r, t, cause);
	char *tmp, *kept = NULL;
	int dfd, moved = 0;

	if (i < 0)
		return -1;
	e = &r->want->v[i];
	if ((dfd = sync_recv_parent(r, e->path, 1, &r->cur_leaf)) < 0) {
		if (errno == ELOOP || errno == ENOTDIR)
			error_set_errno(cause, errno,
			    "'%s': its folder is not one inside the workspace (a "
			    "symlink or a file on the way): refused",
			    e->path);
		else
			sync_recv_denied(r, e->path, errno, cause);
		return sync_recv_entry_skip(r, (size_t)i, t, cause);
	}
	if (e->type == 'l') {
		tmp = sync_recv_tmp_name(r);
		if (symlinkat(t->link, dfd, tmp) != 0) {
			sync_recv_denied(r, e->path, errno, cause);
			free(tmp);
			return sync_recv_entry_failed(r, (size_t)i, cause);
		}
		if (sync_recv_in_the_way(
			r, (size_t)i, dfd, r->cur_leaf, &kept, &moved, cause) != 0) {
			unlinkat(dfd, tmp, 0);
			free(tmp);
			return sync_recv_entry_failed(r, (size_t)i, cause);
		}
		if (sync_recv_replace(dfd, tmp, r->cur_leaf) != 0) {
			sync_recv_denied(r, e->path, errno, cause);
			sync_recv_unkeep(
			    r, dfd, kept, moved, r->cur_leaf, e->path, cause);
			unlinkat(dfd, tmp, 0);
			free(tmp);
			return sync_recv_entry_failed(r, (size_t)i, cause);
		}
		sync_recv_kept(r, (size_t)i, kept);
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
	if (r->cur_dir < 0 || r->cur_fd < 0) {
		sync_recv_denied(r, e->path, errno, cause);
		sync_recv_drop_current(r);
		return sync_recv_entry_skip(r, (size_t)i, t, cause);
	}
	r->cur = i;
	r->cur_mode = t->mode & 0777;
	r->cur_size = 0;
	r->cur_wire = t->size;
	r->cur_leaf = strrchr(e->path, '/') ? strrchr(e->path, '/') + 1 : e->path;
	crypto_generichash_init(&r->cur_hash, NULL, 0, SYNC_HASH_HEX / 2);
	if (t->delta != NULL)
		return sync_recv_delta_start(r, t, cause);
	return 0;
}

static int
sync_recv_on_data(void *arg, const unsigned char *p, size_t len, char **cause)
{
	struct sync_recv *r = arg;
	size_t i;

	if (r->skip)
		return 0;
	if (r->cur_apply == NULL) {
		if (sync_recv_write(r, p, len, cause) == 0)
			return 0;
		/* (a full disk, a file-size limit: this file fails) */
		i = (size_t)r->cur;
		sync_recv_drop_current(r);
		if (sync_recv_entry_failed(r, i, cause) != 0)
			return -1;
		r->skip = 1;
		return 0;
	}
	if (r->cur_failed)
		return 0;
	return sync_blocks_apply_feed(r->cur_apply, p, len, cause);
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
	if (r->cur_old >= 0)
		close(r->cur_old);
	sync_blocks_apply_free(r->cur_apply);
	r->cur_apply = NULL;
	r->cur_failed = 0;
	free(r->cur_tmp);
	r->cur_tmp = NULL;
	r->cur_fd = r->cur_dir = r->cur_old = -1;
	r->cur = -1;
}

/* At a delta's end: did it make the file the sender has? No (the host
 * file changed since its blocks were offered, or the sender's while it
 * was read): the entry is dropped, nothing of it written, and named in
 * "deltaFailed" so that the sender sends it whole. -1 with *cause for a
 * malformed body. */
static int
sync_recv_delta_check(struct sync_recv *r, const unsigned char *hash, char **cause)
{
	if (!r->cur_failed && sync_blocks_apply_finish(r->cur_apply, cause) != 0)
		return error_prefix(cause, "'%s'", r->want->v[r->cur].path);
	if (!r->cur_failed && r->cur_size == r->cur_delta.size &&
	    memcmp(hash, r->cur_delta.hash, SYNC_BLOCKS_HASH) == 0)
		return 0;
	log_info("sync: %s: '%s': the delta does not make the file (changed "
		 "meanwhile): sent whole next",
	    r->folder, r->want->v[r->cur].path);
	r->host[r->cur].delta_failed = 1;
	r->host[r->cur].needed = 0;
	r->delta_failed++;
	sync_recv_drop_current(r);
	return 1;
}

static int
sync_recv_on_entry_end(void *arg, char **cause)
{
	struct sync_recv *r = arg;
	struct sync_host *h;
	unsigned char bin[SYNC_HASH_HEX / 2];
	struct stat sb;
	const char *path;
	char *kept = NULL;
	int rc, moved = 0;
	size_t i;

	if (r->skip) {
		r->skip = 0; /* (a file that failed: its bytes dropped) */
		return 0;
	}
	if (r->cur < 0)
		return 0; /* not a file */
	i = (size_t)r->cur;
	h = &r->host[r->cur];
	path = r->want->v[r->cur].path;
	crypto_generichash_final(&r->cur_hash, bin, sizeof bin);
	if (r->cur_apply != NULL && (rc = sync_recv_delta_check(r, bin, cause)) != 0)
		return rc < 0 ? -1 : 0;
	if (fchmod(r->cur_fd, r->cur_mode) != 0 || fstat(r->cur_fd, &sb) != 0) {
		sync_recv_denied(r, path, errno, cause);
		sync_recv_drop_current(r);
		return sync_recv_entry_failed(r, i, cause);
	}
	/* The host's version kept first (two-way, or one kept aside, whatever
	 * this upload says; a folder as sync_recv_in_the_way says); if it
	 * cannot be, nothing replaces it. */
	if ((r->keep || h->aside) && sync_recv_host_changed(r, h))
		rc = sync_recv_keep_as(
		    r->cur_dir, r->cur_leaf, path, 0, &kept, &moved, cause);
	else
		rc = sync_recv_in_the_way(
		    r, (size_t)r->cur, r->cur_dir, r->cur_leaf, &kept, &moved, cause);
	if (rc != 0) {
		sync_recv_drop_current(r);
		return sync_recv_entry_failed(r, i, cause);
	}
	if (sync_recv_replace(r->cur_dir, r->cur_tmp, r->cur_leaf) != 0) {
		sync_recv_denied(r, path, errno, cause);
		sync_recv_unkeep(r, r->cur_dir, kept, moved, r->cur_leaf, path, cause);
		sync_recv_drop_current(r);
		return sync_recv_entry_failed(r, i, cause);
	}
	sync_recv_kept(r, i, kept);
	r->dirty = 1;
	sodium_bin2hex(h->hash, sizeof h->hash, bin, sizeof bin);
	h->size = sb.st_size;
	h->mtime_ns = sync_time_ns(&sb.st_mtim);
	h->ino = sb.st_ino;
	h->valid = 1;
	h->needed = 0;
	r->received++;
	r->bytes += r->cur_wire;
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
	if (sync_recv_start(r, cause) != 0)
		return -1;
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

int
sync_recv_host_write_failed(const struct sync_recv *r)
{
	return r->host_write_failed;
}

void
sync_recv_entry_errors(struct sync_recv *r)
{
	const char *v = getenv("RDEV_SYNC_FAILED_MAX");
	long n = v != NULL ? strtol(v, NULL, 10) : 0;

	r->entry_errors = 1;
	/* (tests list fewer: $RDEV_SYNC_FAILED_MAX, at least 1; never more) */
	r->failed_max =
	    n >= 1 && n < SYNC_RECV_FAILED_MAX ? (size_t)n : SYNC_RECV_FAILED_MAX;
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

/* Is path a deletion that could not land (sync_recv_delete_failed)? */
static int
sync_recv_is_delete_failed(const struct sync_recv *r, const char *path)
{
	return r->ndel_failed > 0 &&
	    bsearch(&path, r->del_failed, r->ndel_failed, sizeof *r->del_failed,
		sync_path_cmp) != NULL;
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
			if (!r->finished || !sync_recv_gone(r, r->old->v[k].path) ||
			    sync_recv_is_delete_failed(r, r->old->v[k].path))
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

/* Note path (an entry the client deleted) as kept on the host, changed
 * there since a sync wrote it: one way, it is reported ("hostKept"); two
 * way, the next pull brings it back and says so. */
static void
sync_recv_note_kept(struct sync_recv *r, const char *path)
{
	char **slot = &r->host_kept_paths[r->host_kept % SYNC_RECV_REPORT_MAX];

	if (r->keep)
		return;
	free(*slot); /* (NULL until the ring is full) */
	*slot = xstrdup(path);
	r->host_kept++;
}

/* Flag in under (one per old entry) the folders of old entry path that
 * the index has: something under them is kept and named, so they are not
 * (sync_recv_delete). A folder already flagged has its own flagged. */
static void
sync_recv_flag_folders(const struct sync_recv *r, const char *path, unsigned char *under)
{
	const struct sync_entry *d;
	char *p = xstrdup(path), *slash;

	while ((slash = strrchr(p, '/')) != NULL) {
		*slash = '\0';
		if ((d = sync_scan_find(r->old, p)) == NULL)
			continue;
		if (under[d - r->old->v])
			break;
		under[d - r->old->v] = 1;
	}
	free(p);
}

/* One way: the host's file at leaf in dfd (path), kept though the client
 * deleted it, into r->kept_files with its stat and hash: those of hashed
 * when sync_recv_synced read them (type 'f'), else read now (not when it
 * cannot be read: then it is not protected later, as any build output). */
static void
sync_recv_keep_aside(struct sync_recv *r, int dfd, const char *leaf, const char *path,
    const struct sync_entry *hashed)
{
	struct sync_entry e = { 0 };
	char hash[SYNC_HASH_HEX + 1];
	struct stat sb;
	int fd, rc;

	if (r->keep)
		return;
	if (hashed->type == 'f')
		e = *hashed;
	else {
		if ((fd = sync_recv_open_regular(dfd, leaf, &sb)) < 0)
			return;
		rc = sync_hash_fd(fd, hash);
		close(fd);
		if (rc != 0)
			return;
		sync_recv_file_entry(&e, &sb, hash);
	}
	e.path = xstrdup(path);
	if (r->kept_files.n == r->kept_cap) {
		r->kept_cap = r->kept_cap == 0 ? 16 : r->kept_cap * 2;
		r->kept_files.v =
		    xreallocarray(r->kept_files.v, r->kept_cap, sizeof *r->kept_files.v);
	}
	r->kept_files.v[r->kept_files.n++] = e;
}

/* Is the entry at leaf in dfd still the one before stated (the same inode,
 * size, mtime and ctime: not written, chmod-ed, re-pointed or replaced
 * since)? Asked right before it is deleted, so that a write during the
 * check (the hash of a big file) keeps it. 1 yes, 0 no, -1 gone. */
static int
sync_recv_unchanged_since(int dfd, const char *leaf, const struct stat *before)
{
	struct stat now;

	if (fstatat(dfd, leaf, &now, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT ? -1 : 0;
	return now.st_ino == before->st_ino && now.st_dev == before->st_dev &&
	    now.st_size == before->st_size &&
	    sync_time_ns(&now.st_mtim) == sync_time_ns(&before->st_mtim) &&
	    sync_time_ns(&now.st_ctim) == sync_time_ns(&before->st_ctim);
}

/* Deleting path (relative) failed with err: noted (sync_recv_save keeps it
 * in the index: it is still to delete), and with entry errors reported
 * among the failed, named as sync_recv_denied names it. */
static void
sync_recv_delete_failed(struct sync_recv *r, const char *path, int err)
{
	char *cause = NULL;

	if (err == ENOENT)
		return; /* (gone meanwhile: nothing to delete) */
	sync_recv_denied(r, path, err, &cause);
	r->host_write_failed = 0; /* (noted, never the stream's end) */
	r->del_failed =
	    xreallocarray(r->del_failed, r->ndel_failed + 1, sizeof *r->del_failed);
	r->del_failed_why = xreallocarray(
	    r->del_failed_why, r->ndel_failed + 1, sizeof *r->del_failed_why);
	r->del_failed[r->ndel_failed] = xstrdup(path);
	r->del_failed_why[r->ndel_failed++] = cause;
	if (r->entry_errors) {
		if (r->failed == 0) /* (the rest counted at the end) */
			log_warn("sync: %s: %s (not deleted; the other entries go "
				 "on)",
			    r->folder, cause);
		r->failed++;
	}
}

/* Delete what an earlier sync wrote and want no longer lists (children
 * before their folders: the reverse of path order). What the host changed
 * since stays (sync_recv_note_kept): a file or symlink that is not what the
 * index says (sync_recv_synced: a file whose size, mtime or inode differ is
 * hashed), an entry of another kind, a folder holding anything else (build
 * output, a file kept so). A kept folder is named only when nothing under
 * it is (a changed file names itself, not each folder above it; host-made
 * files the index never had name their folder). Like every entry the client
 * deleted, it leaves the index (sync_recv_save), so it is then a host-made
 * entry that a later batch neither deletes nor reports again. (A write
 * between the check and the unlink is lost: the entry is stated again right
 * before the unlink, so the window is that stat and the unlink, whatever the
 * check took.) */
static void
sync_recv_delete(struct sync_recv *r)
{
	unsigned char *under = xcalloc(r->old->n + 1, 1);
	struct sync_entry hashed;
	const char *leaf;
	struct stat sb;
	size_t i;
	int dfd, same;

	for (i = r->old->n; i-- > 0;) {
		const struct sync_entry *o = &r->old->v[i];

		memset(&hashed, 0, sizeof hashed); /* (none: type '\0') */
		if (sync_scan_find(r->want, o->path) != NULL ||
		    !sync_recv_gone(r, o->path))
			continue;
		if ((dfd = sync_recv_parent(r, o->path, 0, &leaf)) < 0 ||
		    fstatat(dfd, leaf, &sb, AT_SYMLINK_NOFOLLOW) != 0) {
			/* (gone, or a folder on its way no longer one: nothing
			 * to delete; else, a folder it cannot enter (EACCES):
			 * failed, still to delete, never dropped unsaid) */
			if (errno != ENOENT && errno != ELOOP && errno != ENOTDIR)
				sync_recv_delete_failed(r, o->path, errno);
			continue;
		}
		if (o->type == 'd' && S_ISDIR(sb.st_mode)) {
			if (unlinkat(dfd, leaf, AT_REMOVEDIR) == 0) {
				r->deleted++;
				continue;
			}
			if (errno != ENOTEMPTY && errno != EEXIST) {
				/* (EACCES, EBUSY...: failed, still to delete) */
				sync_recv_delete_failed(r, o->path, errno);
				continue;
			}
		} else if (o->type != 'd' &&
		    sync_recv_synced(r, dfd, leaf, o->path, &hashed) &&
		    (same = sync_recv_unchanged_since(dfd, leaf, &sb)) != 0) {
			if (same == 1 && unlinkat(dfd, leaf, 0) == 0)
				r->deleted++;
			else if (same == 1)
				sync_recv_delete_failed(r, o->path, errno);
			continue; /* (-1: gone meanwhile, nothing to keep) */
		}
		if (o->type == 'f')
			sync_recv_keep_aside(r, dfd, leaf, o->path, &hashed);
		if (under[i])
			continue; /* (what is under it is named) */
		sync_recv_flag_folders(r, o->path, under);
		sync_recv_note_kept(r, o->path);
	}
	free(under);
	/* (met in the reverse of path order: path order, for bsearch) */
	for (i = 0; i < r->ndel_failed / 2; i++) {
		char *p = r->del_failed[i], *w = r->del_failed_why[i];
		size_t j = r->ndel_failed - 1 - i;

		r->del_failed[i] = r->del_failed[j];
		r->del_failed_why[i] = r->del_failed_why[j];
		r->del_failed[j] = p;
		r->del_failed_why[j] = w;
	}
}

/* Did this sync touch the aside, so that sync_recv_save_aside must read
 * and write it: a file kept aside (r->kept_files), or a path put in place
 * that the aside holds? The aside as the batch consulted it (r->aside)
 * says so without a read (it is the file as it is: the workspace's sync
 * lock, serve-sync.c, keeps sync-pull out for the whole batch); else one
 * access() says whether there is an aside at all (usually not: nothing to
 * read). */
static int
sync_recv_aside_touched(struct sync_recv *r)
{
	if (r->kept_files.n > 0)
		return 1;
	if (r->aside == NULL) {
		if (!sync_aside_maybe(r->index_path))
			return 0;
		r->aside = sync_aside_load(r->index_path, NULL);
	}
	for (size_t i = 0; i < r->want->n; i++)
		if (r->host[i].valid &&
		    sync_scan_find(r->aside, r->want->v[i].path) != NULL)
			return 1;
	return 0;
}

/* The files sync_recv_delete kept one way go aside (sync-aside.h, under no
 * tag: a two-way pull reports all it kept aside again) beside what is
 * there, so that a local file sent there later keeps the host's version as
 * its conflict name and names it in "hostChanged" (as one kept aside),
 * instead of replacing it as build output. And every path this sync put in
 * place as the client has it (any kind) leaves the aside: else later build
 * output there would be taken for the one kept (a false conflict); a whole
 * sync so also clears what a sync cut short left. A file that cannot be
 * read or saved is logged: the host's version is then unprotected, not lost
 * now (never saved over what could not be read). A sync that touched
 * nothing of the aside (sync_recv_aside_touched: usually there is none,
 * which a stat tells) neither reads it again nor writes it. */
static void
sync_recv_save_aside(struct sync_recv *r)
{
	struct sync_scan *aside, *put;
	char **drop, *tag = NULL, *cause = NULL;
	size_t i, n = r->kept_files.n, ndrop = 0;

	if (!sync_recv_aside_touched(r))
		return;
	if (sync_aside_read(r->index_path, &tag, &aside, &cause) != 0) {
		log_warn("sync: %s: %s (what was kept on the host is not kept aside)",
		    r->folder, cause);
		free(cause);
		return;
	}
	drop = xcalloc(r->want->n + 1, sizeof *drop);
	for (i = 0; i < r->want->n; i++) /* (in path order, borrowed) */
		if (r->host[i].valid && sync_scan_find(aside, r->want->v[i].path) != NULL)
			drop[ndrop++] = r->want->v[i].path;
	if (n == 0 && ndrop == 0) {
		sync_scan_free(aside);
		free(drop);
		free(tag);
		return;
	}
	put = xcalloc(1, sizeof *put);
	put->v = xcalloc(n + 1, sizeof *put->v);
	for (i = 0; i < n; i++) /* (into path order) */
		put->v[i] = r->kept_files.v[n - 1 - i];
	put->n = n;
	r->kept_files.n = 0;
	if (n > 0) { /* (kept under no tag) */
		free(tag);
		tag = NULL;
	}
	sync_scan_apply(&aside, put, drop, ndrop);
	if (sync_aside_save(r->index_path, aside, tag, &cause) != 0) {
		log_warn("sync: %s: what was kept on the host is not kept aside: %s",
		    r->folder, cause);
		free(cause);
	}
	sync_scan_free(aside);
	free(drop);
	free(tag);
}

/* Into result: "hostKept", how many entries the client deleted were kept
 * on the host because changed there since (sync_recv_delete: a folder
 * only when nothing under it is named), and
 * "hostKeptPaths", the first SYNC_RECV_REPORT_MAX of them. */
static void
sync_recv_report_host_kept(const struct sync_recv *r, cJSON *result)
{
	size_t n = r->host_kept, k;
	cJSON *paths;

	if (n == 0)
		return;
	paths = cJSON_AddArrayToObject(result, "hostKeptPaths");
	/* (noted in reverse path order: the last noted, newest first, are
	 * the first in path order) */
	for (k = 0; k < n && k < SYNC_RECV_REPORT_MAX; k++)
		cJSON_AddItemToArray(paths,
		    cJSON_CreateString(
			r->host_kept_paths[(n - 1 - k) % SYNC_RECV_REPORT_MAX]));
	cJSON_AddNumberToObject(result, "hostKept", (double)r->host_kept);
}

/* Into result: "hostChanged", how many files changed on the host since a
 * sync wrote them (or host entries kept as their conflict name) were
 * replaced by the client's version, and "hostChangedPaths", the first
 * SYNC_RECV_REPORT_MAX of them (so that no change is overwritten
 * silently: docs/SYNC.md); of those, the ones whose host version was kept
 * under a conflict name, "keptAsCount" and "keptAs", the first
 * SYNC_RECV_REPORT_MAX as {"path","as"} (a two-way sync tells them as
 * conflicts, as its pulls do). */
static void
sync_recv_report_host_changes(const struct sync_recv *r, cJSON *result)
{
	cJSON *paths = NULL, *kept = NULL, *o;
	size_t i, n = 0, nkept = 0;

	for (i = 0; i < r->want->n; i++) {
		const struct sync_host *h = &r->host[i];

		if (!(sync_recv_host_changed(r, h) || h->kept) || !h->valid)
			continue;
		if (paths == NULL)
			paths = cJSON_AddArrayToObject(result, "hostChangedPaths");
		if (n++ < SYNC_RECV_REPORT_MAX)
			cJSON_AddItemToArray(
			    paths, cJSON_CreateString(r->want->v[i].path));
		if (h->kept_as == NULL)
			continue;
		if (kept == NULL)
			kept = cJSON_AddArrayToObject(result, "keptAs");
		if (nkept++ < SYNC_RECV_REPORT_MAX) {
			o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "path", r->want->v[i].path);
			cJSON_AddStringToObject(o, "as", h->kept_as);
			cJSON_AddItemToArray(kept, o);
		}
	}
	if (n > 0)
		cJSON_AddNumberToObject(result, "hostChanged", (double)n);
	if (nkept > 0)
		cJSON_AddNumberToObject(result, "keptAsCount", (double)nkept);
}

/* Into result: "failedCount", how many entries could not land
 * (sync_recv_entry_failed), and "failed", the first r->failed_max
 * (SYNC_RECV_FAILED_MAX) of them in path order (fewer past
 * SYNC_RECV_FAILED_MAX_BYTES), [{"path","error"}], when there are any,
 * deletions last; and when that list is cut, "failedUnder", a bounded
 * cover of the rest (sync-cover.h: folders, or paths, with every unlisted
 * one at or under one of them), so that the sender need not send the
 * whole folder again; none when only the root would cover them. The log,
 * which named the first, says how many more (one line, not one per entry
 * at each retry). */
static void
sync_recv_report_failed(const struct sync_recv *r, cJSON *result)
{
	cJSON *a, *o;
	size_t n = 0, bytes = 0, max = r->failed_max, nrest = 0, ncover, i, k;
	char **rest, **cover;

	if (r->failed == 0)
		return;
	if (r->failed > 1)
		log_warn("sync: %s: and %zu more entries could not land", r->folder,
		    r->failed - 1);
	rest = xcalloc(r->failed + 1, sizeof *rest);
	a = cJSON_AddArrayToObject(result, "failed");
	for (i = 0; i < r->want->n; i++) {
		if (r->host[i].error == NULL)
			continue;
		bytes += strlen(r->want->v[i].path) + strlen(r->host[i].error) + 32;
		if (n >= max || (n > 0 && bytes > SYNC_RECV_FAILED_MAX_BYTES)) {
			rest[nrest++] = r->want->v[i].path; /* (borrowed) */
			continue;
		}
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "path", r->want->v[i].path);
		cJSON_AddStringToObject(o, "error", r->host[i].error);
		cJSON_AddItemToArray(a, o);
		n++;
	}
	for (i = 0; r->entry_errors && i < r->ndel_failed; i++) {
		bytes += strlen(r->del_failed[i]) + strlen(r->del_failed_why[i]) + 32;
		if (n >= max || (n > 0 && bytes > SYNC_RECV_FAILED_MAX_BYTES)) {
			rest[nrest++] = r->del_failed[i];
			continue;
		}
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "path", r->del_failed[i]);
		cJSON_AddStringToObject(o, "error", r->del_failed_why[i]);
		cJSON_AddItemToArray(a, o);
		n++;
	}
	cJSON_AddNumberToObject(result, "failedCount", (double)r->failed);
	if (nrest > 0 &&
	    sync_cover(rest, nrest, SYNC_RECV_FAILED_UNDER_MAX,
		SYNC_RECV_FAILED_UNDER_MAX_BYTES, &cover, &ncover) == 0) {
		a = cJSON_AddArrayToObject(result, "failedUnder");
		for (k = 0; k < ncover; k++)
			cJSON_AddItemToArray(a, cJSON_CreateString(cover[k]));
		sync_paths_free(cover, ncover);
	}
	free(rest);
}

/* Into result: "deltaFailed", the files whose delta did not make the
 * sender's file (sync_recv_delta_check), when there are any. */
static void
sync_recv_report_delta_failed(const struct sync_recv *r, cJSON *result)
{
	cJSON *paths;

	if (r->delta_failed == 0)
		return;
	paths = cJSON_AddArrayToObject(result, "deltaFailed");
	for (size_t i = 0; i < r->want->n; i++)
		if (r->host[i].delta_failed)
			cJSON_AddItemToArray(
			    paths, cJSON_CreateString(r->want->v[i].path));
}

int
sync_recv_finish(struct sync_recv *r, cJSON **result, char **cause)
{
	size_t i, missing = 0;

	*result = NULL;
	if (sync_recv_start(r, cause) != 0 ||
	    (r->tar != NULL && tar_reader_finish(r->tar, cause) != 0))
		return -1;
	for (i = 0; i < r->want->n; i++)
		missing += r->host[i].needed;
	if (r->tar == NULL && missing > 0)
		return error_set(cause, "the stream ended before any entry came");
	sync_recv_delete(r);
	sync_recv_save_aside(r);
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
	sync_recv_report_host_kept(r, *result);
	sync_recv_report_delta_failed(r, *result);
	sync_recv_report_failed(r, *result);
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
	sync_scan_free(r->aside);
	for (size_t i = 0; i < r->kept_files.n; i++)
		sync_entry_clear(&r->kept_files.v[i]);
	free(r->kept_files.v);
	for (size_t i = 0; i < r->ndel; i++)
		free(r->del[i]);
	free(r->del);
	for (size_t i = 0; i < r->ndel_failed; i++) {
		free(r->del_failed[i]);
		free(r->del_failed_why[i]);
	}
	free(r->del_failed);
	free(r->del_failed_why);
	for (size_t i = 0; i < SYNC_RECV_REPORT_MAX; i++)
		free(r->host_kept_paths[i]); /* (NULL when not used) */
	free(r->pdir_path);
	free(r->block);
	for (size_t i = 0; i < r->want->n; i++) {
		free(r->host[i].error);
		free(r->host[i].kept_as);
	}
	free(r->host);
	free(r->folder);
	free(r->index_path);
	free(r);
}
