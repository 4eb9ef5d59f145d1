/* sync-back.c - a two-way sync's changes from the host, applied locally
 * (sync-back.h). */
#include "sync-back.h"
#include "sync-back-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "error.h"
#include "proto-conn.h"
#include "sync-ignore.h"
#include "sync-scan.h"
#include "xmalloc.h"

/* The folder that holds rel under b's root, opened with O_NOFOLLOW on each
 * component (made when missing if create): a descriptor to close (or
 * b->root, not), and *leaf; -1 with errno (ENOTDIR or ELOOP: a component is
 * not a folder, or a symlink, never followed out of the root). */
int
sync_back_parent_at(struct sync_back *b, const char *rel, int create, const char **leaf)
{
	const char *slash = strrchr(rel, '/'), *p, *end;
	int fd = b->root, next;

	*leaf = slash == NULL ? rel : slash + 1;
	for (p = rel; slash != NULL && p < slash; p = end + 1) {
		char *name;

		end = memchr(p, '/', (size_t)(slash - p));
		end = end == NULL ? slash : end;
		name = xstrndup(p, (size_t)(end - p));
		if (create && mkdirat(fd, name, 0755) != 0 && errno != EEXIST)
			next = -1;
		else
			next = openat(
			    fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		free(name);
		if (fd != b->root)
			close(fd);
		if (next < 0)
			return -1;
		fd = next;
	}
	return fd;
}

static int
sync_back_parent(struct sync_back *b, const char *rel, const char **leaf)
{
	return sync_back_parent_at(b, rel, 1, leaf);
}

void
sync_back_close(const struct sync_back *b, int fd)
{
	if (fd >= 0 && fd != b->root)
		close(fd);
}

/* Does the local entry at rel match e: the same type and content (a file
 * whose size, mtime and inode differ is hashed), and for a file the same
 * mode when with_mode? Gone matches NULL. */
static int
sync_back_match(
    struct sync_back *b, const char *rel, const struct sync_entry *e, int with_mode)
{
	char target[4097], hash[SYNC_HASH_HEX + 1];
	const char *leaf;
	struct stat sb;
	ssize_t n;
	int fd, dfd = sync_back_parent_at(b, rel, 0, &leaf), rc = 0;

	if (dfd < 0) /* (a folder on the way gone, or not a folder here) */
		return e == NULL && errno == ENOENT;
	if (fstatat(dfd, leaf, &sb, AT_SYMLINK_NOFOLLOW) != 0)
		rc = e == NULL && errno == ENOENT;
	else if (e == NULL)
		rc = 0;
	else if (e->type == 'd')
		rc = S_ISDIR(sb.st_mode);
	else if (e->type == 'l') {
		if (S_ISLNK(sb.st_mode) &&
		    (n = readlinkat(dfd, leaf, target, sizeof target - 1)) >= 0) {
			target[n] = '\0';
			rc = strcmp(target, e->link) == 0;
		}
	} else if (!S_ISREG(sb.st_mode) || sb.st_size != e->size ||
	    (with_mode && (sb.st_mode & 0777) != e->mode))
		rc = 0;
	else if (sync_time_ns(&sb.st_mtim) == e->mtime_ns && sb.st_ino == e->ino)
		rc = 1;
	else if ((fd = openat(dfd, leaf, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) >= 0) {
		n = sync_hash_fd(fd, hash);
		close(fd);
		rc = n == 0 && strcmp(hash, e->hash) == 0;
	}
	sync_back_close(b, dfd);
	return rc;
}

/* Does the local entry at rel match e, a file's mode too (a chmod is a
 * change: docs/SYNC.md, "modified (content and mode)")? */
static int
sync_back_matches(struct sync_back *b, const char *rel, const struct sync_entry *e)
{
	return sync_back_match(b, rel, e, 1);
}

/* Write e (its bytes by) at rel: a temporary name in the folder, renamed
 * over rel. 0, 1 (check: rel no longer matches was, a change here: not
 * written), or -1 with *cause. */
static int
sync_back_write(struct sync_back *b, const char *rel, const struct sync_entry *e,
    const struct sync_back_bytes *by, int check, const struct sync_entry *was,
    char **cause)
{
	const char *leaf;
	char *tmp;
	size_t off = 0;
	ssize_t n;
	int dfd = sync_back_parent(b, rel, &leaf), fd = -1, rc = -1;

	if (dfd < 0)
		return error_set_errno(cause, errno, "%s/%s", b->rootpath, rel);
	tmp = by->tmp != NULL
	    ? xstrdup(by->tmp)
	    : xasprintf(SYNC_BACK_TMP "%ld-%u", (long)getpid(), b->seq++);
	if (by->tmp != NULL) { /* (our pieces' file: not a link put there) */
		if ((fd = openat(dfd, tmp, O_WRONLY | O_NOFOLLOW | O_CLOEXEC)) >= 0) {
			rc = fchmod(fd, e->mode);
			close(fd);
		}
	} else if (e->type == 'l')
		rc = symlinkat(e->link, dfd, tmp);
	else if ((fd = openat(
		      dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, e->mode)) >= 0) {
		while (
		    off < by->len && (n = write(fd, by->data + off, by->len - off)) > 0)
			off += (size_t)n;
		rc = off == by->len && fchmod(fd, e->mode) == 0 ? 0 : -1;
		rc = close(fd) != 0 ? -1 : rc;
	}
	/* (checked again just before the rename: an editor's save meanwhile
	 * is a conflict, not overwritten) */
	if (rc == 0 && check && !sync_back_matches(b, rel, was)) {
		if (by->tmp == NULL)
			unlinkat(dfd, tmp, 0);
		sync_back_close(b, dfd);
		free(tmp);
		return 1;
	}
	if (rc == 0 && (rc = renameat(dfd, tmp, dfd, leaf)) == 0) {
		sync_back_close(b, dfd);
		free(tmp);
		return 0;
	}
	error_set_errno(cause, errno, "%s/%s", b->rootpath, rel);
	if (by->tmp == NULL)
		unlinkat(dfd, tmp, 0);
	sync_back_close(b, dfd);
	free(tmp);
	return -1;
}

/* rel's entry as on disk now (e's type, the local stat's mode, mtime and
 * inode: as the local scan will see it) into b->put: sent says so from
 * here on. */
static void
sync_back_record(struct sync_back *b, const char *rel, const struct sync_entry *e)
{
	struct sync_entry *p = &b->put->v[b->put->n++];
	const char *leaf;
	struct stat sb;
	int dfd = sync_back_parent_at(b, rel, 0, &leaf);

	*p = *e;
	p->path = xstrdup(rel);
	p->link = e->link != NULL ? xstrdup(e->link) : NULL;
	if (dfd >= 0 && fstatat(dfd, leaf, &sb, AT_SYMLINK_NOFOLLOW) == 0) {
		p->mode = sb.st_mode & 0777;
		if (e->type == 'f') {
			p->mtime_ns = sync_time_ns(&sb.st_mtim);
			p->ino = sb.st_ino;
		}
	}
	sync_back_close(b, dfd);
}

static void
sync_back_line(struct sync_back *b, char *line)
{
	if (b->st->lines != NULL)
		cJSON_AddItemToArray(b->st->lines, cJSON_CreateString(line));
	free(line);
}

char *
sync_back_conflict_name(int dfd, const char *rel)
{
	char stamp[32], *name = NULL;
	const char *leaf = strrchr(rel, '/');
	time_t now = time(NULL);
	struct tm tm;
	struct stat sb;
	size_t keep = strlen(rel);

	/* A long name is cut (not inside a UTF-8 character) so that the
	 * conflict name stays within NAME_MAX. */
	leaf = leaf == NULL ? rel : leaf + 1;
	if (strlen(leaf) > SYNC_BACK_CONFLICT_LEAF_MAX) {
		keep = (size_t)(leaf - rel) + SYNC_BACK_CONFLICT_LEAF_MAX;
		while (keep > 0 && ((unsigned char)rel[keep] & 0xc0) == 0x80)
			keep--;
	}
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
	for (int i = 1;; i++) {
		free(name);
		name = i == 1
		    ? xasprintf("%.*s" SYNC_BACK_CONFLICT "%s", (int)keep, rel, stamp)
		    : xasprintf(
			  "%.*s" SYNC_BACK_CONFLICT "%s-%d", (int)keep, rel, stamp, i);
		if (fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW) != 0)
			return name;
	}
}

/* The host's version of rel (a file changed on both sides) saved as
 * rel.rdev-conflict-TIME. 0, or -1 with *cause. */
static int
sync_back_conflict(struct sync_back *b, const char *rel, const struct sync_entry *e,
    const struct sync_back_bytes *by, char **cause)
{
	char *name = sync_back_conflict_name(b->root, rel);

	if (sync_back_write(b, name, e, by, 0, NULL, cause) != 0) {
		free(name);
		return -1;
	}
	b->st->conflicts++;
	sync_back_line(b, xasprintf(SYNC_BACK_CONFLICT_FMT, rel, name));
	free(b->st->last_conflict);
	b->st->last_conflict = name;
	return 0;
}

/* Is rel left out by ig (itself or a folder on its way)? */
int
sync_back_ignored(const struct sync_ignore *ig, const char *rel, int is_dir)
{
	char *p = xstrdup(rel), *s;
	int out = 0;

	if (ig == NULL) {
		free(p);
		return 0;
	}
	for (s = p; !out && (s = strchr(s, '/')) != NULL; *s++ = '/') {
		*s = '\0';
		out = sync_ignore_match(ig, p, 1);
	}
	out = out || sync_ignore_match(ig, rel, is_dir);
	free(p);
	return out;
}

/* Make way for e at its path when the local entry (which matches the sent
 * state) is of the other kind, folder or not: a rename cannot replace a
 * folder, a mkdir cannot replace a file. 0 (done, or nothing to do), 1 (a
 * folder holding entries made here: kept), 2 (removed), or -1 with
 * errno. */
static int
sync_back_clear(struct sync_back *b, const struct sync_entry *e)
{
	const char *leaf;
	struct stat sb;
	int dfd = sync_back_parent_at(b, e->path, 0, &leaf), rc = 0;

	if (dfd < 0)
		return errno == ENOENT ? 0 : -1;
	if (fstatat(dfd, leaf, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISDIR(sb.st_mode) != (e->type == 'd')) {
		if (unlinkat(dfd, leaf, S_ISDIR(sb.st_mode) ? AT_REMOVEDIR : 0) == 0)
			rc = 2;
		else
			rc = errno == ENOTEMPTY || errno == EEXIST ? 1 : -1;
	}
	sync_back_close(b, dfd);
	return rc;
}

/* e meets a local change: the local version is kept; a file's host version
 * saved as a conflict file, a folder or symlink told and counted. 0, or -1
 * with *cause. */
static int
sync_back_kept(struct sync_back *b, const struct sync_entry *e,
    const struct sync_back_bytes *by, char **cause)
{
	if (e->type == 'f')
		return sync_back_conflict(b, e->path, e, by, cause);
	b->st->conflicts++;
	sync_back_line(b,
	    xasprintf("conflict %s: the local version kept, the host's "
		      "%s not applied",
		e->path, e->type == 'd' ? "folder" : "symlink"));
	return 0;
}

/* Is rel one of the entries that could not land on the host (b->retry)? */
static int
sync_back_is_retry(const struct sync_back *b, const char *rel)
{
	return b->nretry > 0 &&
	    bsearch(&rel, b->retry, b->nretry, sizeof *b->retry, sync_path_cmp) != NULL;
}

/* What both sides last agreed on at rel: its entry in sent, or NULL when
 * none, or when it could not land on the host (sent has what was sent,
 * not what the host has: taking it as agreed would replace or delete the
 * local version unseen). */
static const struct sync_entry *
sync_back_was(const struct sync_back *b, const char *rel)
{
	return sync_back_is_retry(b, rel) ? NULL : sync_scan_find(b->sent, rel);
}

/* Host file e has the local file's bytes in another mode (a chmod in the
 * container): the local file takes e's mode when its own is still the one
 * last synced (was), else (chmod-ed here too) it keeps its own, told as a
 * conflict, and sent says e's mode so that the next batch sends the local
 * one. 0, or -1 with *cause. */
static int
sync_back_mode(struct sync_back *b, const struct sync_entry *e,
    const struct sync_entry *was, char **cause)
{
	const char *leaf;
	struct stat sb;
	int dfd = sync_back_parent(b, e->path, &leaf), fd = -1, rc = -1;

	/* (opened without following: fchmodat would follow a symlink swapped
	 * in since) */
	if (dfd >= 0 &&
	    (fd = openat(dfd, leaf, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) >= 0 &&
	    fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode))
		rc = 0;
	if (rc == 0 && was != NULL && was->type == 'f' &&
	    (sb.st_mode & 0777) == was->mode && (rc = fchmod(fd, e->mode)) == 0) {
		sync_back_record(b, e->path, e);
		b->st->pulled++;
		sync_back_line(b, xasprintf("pulled %s", e->path));
	} else if (rc == 0) {
		sync_back_record(b, e->path, e);
		b->put->v[b->put->n - 1].mode = e->mode;
		b->st->conflicts++;
		b->st->mode_kept++;
		sync_back_line(b,
		    xasprintf("conflict %s: the local mode %04o kept, the host's "
			      "%04o not applied",
			e->path, (unsigned)(sb.st_mode & 0777), e->mode));
	}
	if (rc != 0)
		error_set_errno(cause, errno, "%s/%s", b->rootpath, e->path);
	if (fd >= 0)
		close(fd);
	sync_back_close(b, dfd);
	return rc;
}

/* Apply one put entry e with its bytes (files). 0, or -1 with *cause. */
int
sync_back_put(struct sync_back *b, const struct sync_entry *e,
    const struct sync_back_bytes *by, char **cause)
{
	const struct sync_entry *was = sync_back_was(b, e->path);
	const char *leaf;
	struct stat sb;
	int dfd, rc = 0;

	if (sync_back_matches(b, e->path, e)) {
		sync_back_record(b, e->path, e); /* (the same on both sides) */
		return 0;
	}
	if (e->type == 'f' && sync_back_match(b, e->path, e, 0))
		return sync_back_mode(b, e, was, cause);
	if (!sync_back_matches(b, e->path, was) || /* changed here too */
	    ((rc = sync_back_clear(b, e)) != 0 && rc != 2)) {
		if (rc < 0)
			return error_set_errno(
			    cause, errno, "%s/%s", b->rootpath, e->path);
		return sync_back_kept(b, e, by, cause);
	}
	if (e->type == 'd') {
		if ((dfd = sync_back_parent(b, e->path, &leaf)) < 0 ||
		    (mkdirat(dfd, leaf, e->mode | 0700) != 0 &&
			(errno != EEXIST ||
			    fstatat(dfd, leaf, &sb, AT_SYMLINK_NOFOLLOW) != 0 ||
			    !S_ISDIR(sb.st_mode) || (errno = ENOTDIR) == 0))) {
			sync_back_close(b, dfd);
			return error_set_errno(
			    cause, errno, "%s/%s", b->rootpath, e->path);
		}
		sync_back_close(b, dfd);
	} else if ((rc = sync_back_write(
			b, e->path, e, by, 1, rc == 2 ? NULL : was, cause)) != 0)
		return rc < 0 ? -1 : sync_back_kept(b, e, by, cause);
	sync_back_record(b, e->path, e);
	b->st->pulled++;
	sync_back_line(b, xasprintf("pulled %s", e->path));
	return 0;
}

void
sync_back_not_applied(struct sync_back *b, const char *path)
{
	b->st->partial = 1;
	if (b->st->not_applied == NULL)
		b->st->not_applied = cJSON_CreateArray();
	cJSON_AddItemToArray(b->st->not_applied, cJSON_CreateString(path));
}

void
sync_back_ignored_here(struct sync_back *b, const char *path)
{
	if (!b->aside) {
		sync_back_not_applied(b, path);
		return;
	}
	b->st->partial = 1; /* (a whole "ack" would index it) */
	if (b->st->not_applied == NULL)
		b->st->not_applied = cJSON_CreateArray();
	if (b->st->ignored_here == NULL)
		b->st->ignored_here = cJSON_CreateArray();
	cJSON_AddItemToArray(b->st->ignored_here, cJSON_CreateString(path));
}

/* One line for the paths of this answer ignored here (told once: the
 * agent does not report them again until they change). */
static void
sync_back_ignored_line(struct sync_back *b)
{
	const cJSON *first =
	    cJSON_IsArray(b->st->ignored_here) ? b->st->ignored_here->child : NULL;
	int n = cJSON_GetArraySize(b->st->ignored_here);

	if (first == NULL)
		return;
	if (n == 1)
		sync_back_line(b,
		    xasprintf("ignored here %s: left on the host", first->valuestring));
	else
		sync_back_line(b,
		    xasprintf("ignored here: %d paths left on the host (%s, ...)", n,
			first->valuestring));
}

void
sync_back_answered(
    struct sync_back_pull *pull, const cJSON *answer, struct sync_back_stats *st)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(answer, "pullId");

	if (st->ignored_here != NULL) {
		cJSON_Delete(pull->ignored_here);
		pull->ignored_here = st->ignored_here;
		st->ignored_here = NULL;
	}
	if (!cJSON_IsString(id))
		return;
	if (!st->partial)
		pull->ack = xstrdup(id->valuestring);
	else if (st->not_applied != NULL &&
	    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(answer, "notApplied"))) {
		pull->ack_some = xstrdup(id->valuestring);
		pull->not_applied = st->not_applied;
		st->not_applied = NULL;
	}
}

void
sync_back_failed(struct sync_back *b, const char *path, char *cause)
{
	if (cause == NULL)
		cause = xasprintf("%s/%s: not written here", b->rootpath, path);
	b->st->failed++;
	free(b->st->failed_text);
	b->st->failed_text = cause;
}

/* Delete rel (the host deleted it) unless changed here since; 1 when
 * deleted (or gone already), else 0. */
static int
sync_back_drop(struct sync_back *b, const char *rel)
{
	const struct sync_entry *was = sync_back_was(b, rel);
	const char *leaf;
	int dfd, rc;

	if (was == NULL && sync_back_is_retry(b, rel))
		return sync_back_matches(b, rel, NULL); /* (kept: it goes again) */
	if (was == NULL || !sync_back_matches(b, rel, was))
		return was == NULL || sync_back_matches(b, rel, NULL);
	/* (changed here: the local version stays, and goes back) */
	if ((dfd = sync_back_parent_at(b, rel, 0, &leaf)) < 0)
		return 0;
	rc = unlinkat(dfd, leaf, was->type == 'd' ? AT_REMOVEDIR : 0) == 0;
	sync_back_close(b, dfd);
	if (!rc)
		return 0; /* (a folder with files made here: kept) */
	b->st->removed++;
	sync_back_line(b, xasprintf("removed %s", rel));
	return 1;
}

int
sync_back_decode(const char *b64, unsigned char **out, size_t *len)
{
	size_t n = strlen(b64);

	*out = xmalloc(n + 1);
	return sodium_base642bin(
	    *out, n + 1, b64, n, NULL, len, NULL, sodium_base64_VARIANT_ORIGINAL);
}

/* Apply an answer of sync-pull. 0, or -1 with *cause. */
static int
sync_back_apply(struct sync_back *b, const cJSON *answer, const struct sync_ignore *ig,
    char ***drop, size_t *ndrop, char **cause)
{
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(answer, "data"), *d;
	struct sync_scan *put = NULL;
	unsigned char *bytes;
	size_t len, i, n;
	int rc = 0;

	if (sync_scan_from_manifest(
		cJSON_GetObjectItemCaseSensitive(answer, "put"), &put, cause) != 0 ||
	    sync_paths_from_json(cJSON_GetObjectItemCaseSensitive(answer, "drop"), drop,
		ndrop, cause) != 0) {
		sync_scan_free(put);
		return -1;
	}
	/* Drops first (a folder replaced by a file on the host: its children
	 * go before the file takes its place), children before their folders;
	 * only what was deleted stays in
	 * drop (for sent: a delete not applied here is not undone later). */
	/* (walked downwards, so kept entries are packed at the top, where
	 * every slot has been read: packed from index 0 they overwrote entries
	 * not read yet, one freed twice, whenever two or more were deleted) */
	for (i = *ndrop, n = *ndrop; i-- > 0;) {
		char *rel = (*drop)[i];

		if (!sync_back_ignored(ig, rel, 0) && sync_back_drop(b, rel))
			(*drop)[--n] = rel;
		else
			free(rel);
	}
	memmove(*drop, *drop + n, (*ndrop - n) * sizeof **drop);
	for (i = *ndrop - n; i < *ndrop; i++)
		(*drop)[i] = NULL;
	*ndrop -= n;
	b->put->v = xcalloc(put->n + 2, sizeof *b->put->v); /* (and a piece's) */
	d = cJSON_IsArray(data) ? data->child : NULL;
	for (i = 0; rc == 0 && i < put->n; i++) {
		const struct sync_entry *e = &put->v[i];

		bytes = NULL;
		len = 0;
		if (e->type == 'f') {
			if (!cJSON_IsString(d)) {
				rc = error_set(
				    cause, "sync-pull: no bytes for '%s'", e->path);
				break;
			}
			if (sync_back_decode(d->valuestring, &bytes, &len) != 0 ||
			    (long long)len != e->size)
				rc = error_set(
				    cause, "sync-pull: bad bytes for '%s'", e->path);
			d = d->next;
		}
		if (rc == 0 && sync_back_ignored(ig, e->path, e->type == 'd'))
			/* (ignored here: not indexed by the agent, or a whole
			 * resend without it would delete the host's file) */
			sync_back_ignored_here(b, e->path);
		else if (rc == 0) {
			struct sync_back_bytes by = { bytes, len, NULL };
			char *why = NULL;

			/* (a local write error is this file's: the others go
			 * on, the answer is not acknowledged, it comes again) */
			if (sync_back_put(b, e, &by, &why) != 0) {
				sync_back_failed(b, e->path, why);
				sync_back_not_applied(b, e->path);
			}
		}
		free(bytes);
	}
	sync_scan_free(put);
	return rc;
}

int
sync_back_answer(const char *root, const cJSON *answer, const struct sync_ignore *ig,
    struct sync_scan **sent, struct sync_back_pull *pull, struct sync_back_stats *st,
    char **cause)
{
	const cJSON *piece = cJSON_GetObjectItemCaseSensitive(answer, "piece"),
		    *big = cJSON_GetObjectItemCaseSensitive(answer, "tooLarge"),
		    *mib = cJSON_GetObjectItemCaseSensitive(answer, "maxFileMiB"),
		    *aside_failed =
			cJSON_GetObjectItemCaseSensitive(answer, "asideFailed");
	struct sync_back b = { .rootpath = root, .sent = *sent, .st = st };
	long long failed = st->failed;
	char **drop = NULL;
	size_t ndrop = 0;
	int rc;

	if (pull != NULL) {
		b.retry = pull->retry;
		b.nretry = pull->nretry;
	}
	st->more = 0;
	st->partial = 0;
	cJSON_Delete(st->not_applied);
	st->not_applied = NULL;
	cJSON_Delete(st->ignored_here);
	st->ignored_here = NULL;
	b.aside = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(answer, "ignoredHere"));
	if (cJSON_IsString(aside_failed)) {
		free(st->aside_failed);
		st->aside_failed = xstrdup(aside_failed->valuestring);
	}
	if ((b.root = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return error_set_errno(cause, errno, "%s", root);
	b.put = xcalloc(1, sizeof *b.put);
	rc = sync_back_apply(&b, answer, ig, &drop, &ndrop, cause);
	st->more = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(answer, "more"));
	if (rc == 0 && piece != NULL)
		rc = sync_back_piece(&b, pull, piece, ig, cause);
	else if (pull != NULL && !st->more) /* (no longer coming) */
		sync_back_piece_drop(pull, b.root);
	if (st->failed > failed)
		st->more = 0; /* (tried again at the next pull, not at once) */
	sync_back_ignored_line(&b);
	/* What was applied is in sent, even when a later entry failed; in path
	 * order, as sync_scan_apply needs: a last piece's file comes after the
	 * answer's other puts, whatever its path. */
	qsort(b.put->v, b.put->n, sizeof *b.put->v, sync_entry_cmp);
	if (ndrop > 0)
		qsort(drop, ndrop, sizeof *drop, sync_path_cmp);
	sync_scan_apply(sent, b.put, drop, ndrop);
	/* (each answer lists them all) */
	if (cJSON_GetArraySize(big) > st->too_large)
		st->too_large = cJSON_GetArraySize(big);
	if (st->too_large_path == NULL && cJSON_IsArray(big) &&
	    cJSON_IsString(big->child))
		st->too_large_path = xstrdup(big->child->valuestring);
	/* (an agent without pieces sends nothing: its limit is one answer's) */
	st->too_large_mib =
	    cJSON_IsNumber(mib) ? (unsigned)mib->valuedouble : SYNC_BACK_MAX_MIB;
	for (size_t i = 0; i < ndrop; i++)
		free(drop[i]);
	free(drop);
	close(b.root);
	return rc;
}

cJSON *
sync_back_request(struct sync_back_pull *pull, int id, const char *name, unsigned flags,
    const struct sync_ignore *ig)
{
	char tag[SYNC_IGNORE_TAG_HEX + 1];
	cJSON *req = cJSON_CreateObject();

	cJSON_AddNumberToObject(req, "id", id);
	cJSON_AddStringToObject(req, "op", "sync-pull");
	cJSON_AddStringToObject(req, "name", name);
	cJSON_AddNumberToObject(
	    req, "flags", flags & (SYNC_SCAN_GIT | SYNC_SCAN_GITIGNORE));
	if (pull->ack != NULL)
		cJSON_AddStringToObject(req, "ack", pull->ack);
	else if (pull->ack_some != NULL) {
		/* (a key an agent without per-file acks does not know: it
		 * commits nothing then, and reports the answer again) */
		cJSON_AddStringToObject(req, "ackExcept", pull->ack_some);
		cJSON_AddItemToObject(req, "notApplied", pull->not_applied);
		pull->not_applied = NULL;
	}
	free(pull->ack_some);
	pull->ack_some = NULL;
	cJSON_Delete(pull->not_applied);
	pull->not_applied = NULL;
	/* (an agent without pieces ignores both: big files stay there) */
	cJSON_AddBoolToObject(req, "pieces", 1);
	if (pull->piece_path != NULL) {
		cJSON *have = cJSON_AddObjectToObject(req, "piece");

		cJSON_AddStringToObject(have, "path", pull->piece_path);
		cJSON_AddStringToObject(have, "version", pull->piece_version);
		cJSON_AddNumberToObject(have, "offset", (double)pull->piece_off);
	}
	/* (an agent without them ignores the key: reported again there) */
	if (pull->ignored_here != NULL)
		cJSON_AddItemToObject(req, "ignoredHere", pull->ignored_here);
	pull->ignored_here = NULL;
	sync_ignore_tag(ig, tag);
	cJSON_AddStringToObject(req, "ignoreTag", tag);
	free(pull->ack);
	pull->ack = NULL; /* (sent once) */
	return req;
}

int
sync_back(struct proto_conn *c, int id, const char *root, const char *name,
    unsigned flags, const struct sync_ignore *ig, struct sync_scan **sent,
    struct sync_back_pull *pull, struct sync_back_stats *st, char **cause)
{
	cJSON *req = sync_back_request(pull, id, name, flags, ig), *answer = NULL;
	int rc;

	st->more = 0;
	if (proto_conn_request(c, req, NULL, NULL, &answer, NULL, cause) != 0) {
		cJSON_Delete(answer);
		if (*cause == NULL || strstr(*cause, "unknown op") == NULL)
			return -1;
		free(*cause);
		*cause = xstrdup("two-way sync: the host's agent is too old (no "
				 "\"sync-pull\"): upgrade it (`rdev up` installs "
				 "this version's agent)");
		return -2;
	}
	rc = sync_back_answer(root, answer, ig, sent, pull, st, cause);
	if (rc == 0)
		sync_back_answered(pull, answer, st);
	cJSON_Delete(answer);
	return rc;
}

char *
sync_back_too_large_text(const struct sync_back_stats *st)
{
	if (st->too_large == 1 && st->too_large_path != NULL)
		return xasprintf("%s: too large for two-way sync (over %u MiB), left "
				 "on the host",
		    st->too_large_path, st->too_large_mib);
	return xasprintf("%lld files too large for two-way sync (over %u MiB) left "
			 "on the host (%s, ...)",
	    st->too_large, st->too_large_mib,
	    st->too_large_path != NULL ? st->too_large_path : "?");
}

int
sync_back_failed_news(const struct sync_back_stats *st, char **told)
{
	if (st->failed_text == NULL) {
		free(*told);
		*told = NULL;
		return 0;
	}
	if (*told != NULL && strcmp(*told, st->failed_text) == 0)
		return 0;
	free(*told);
	*told = xstrdup(st->failed_text);
	return 1;
}

int
sync_back_aside_failed_news(const struct sync_back_stats *st, int *told, char **text)
{
	int news = st->aside_failed != NULL && !*told;

	*told = st->aside_failed != NULL; /* (it fails at each pull while it lasts) */
	*text = news ? xasprintf("the host could not keep what is ignored here aside "
				 "(%s): told at every pull",
			   st->aside_failed)
		     : NULL;
	return news;
}

void
sync_back_stats_clear(struct sync_back_stats *st)
{
	free(st->last_conflict);
	free(st->too_large_path);
	free(st->failed_text);
	free(st->aside_failed);
	cJSON_Delete(st->lines);
	cJSON_Delete(st->not_applied);
	cJSON_Delete(st->ignored_here);
	memset(st, 0, sizeof *st);
}

void
sync_back_pull_clear(struct sync_back_pull *pull, const char *root)
{
	int fd = root != NULL && pull->piece_tmp != NULL
	    ? open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
	    : -1;

	sync_back_piece_drop(pull, fd);
	if (fd >= 0)
		close(fd);
	free(pull->ack);
	free(pull->ack_some);
	cJSON_Delete(pull->not_applied);
	cJSON_Delete(pull->ignored_here);
	memset(pull, 0, sizeof *pull);
}
