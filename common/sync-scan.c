/* sync-scan.c - a folder's entries and their hashes (sync-scan.h). */
#include "sync-scan.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "atomic-file.h"
#include "buf.h"
#include "error.h"
#include "quote.h"
#include "xmalloc.h"

#define SYNC_IGNORE_MAX (1u << 20)
#define SYNC_READ_SIZE (256u << 10)
#define SYNC_PATH_MAX 4095
/* A manifest's sizes and mtimes (seconds) at most: 256 TiB (so that the sum
 * of a manifest's sizes cannot overflow), and 9.3e9 s (past what a wrapped
 * sync_time_ns, 63 bits of nanoseconds and a sign, gives either way). */
#define SYNC_SIZE_MAX 281474976710656.0
#define SYNC_MTIME_MAX 9.3e9

int
sync_path_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
sync_entry_cmp(const void *a, const void *b)
{
	return strcmp(
	    ((const struct sync_entry *)a)->path, ((const struct sync_entry *)b)->path);
}

static int sync_path_inside(const char *);

int
sync_path_ok(const char *path)
{
	/* (a control character as quote.h takes it: C0, DEL, and C1 as
	 * UTF-8 encodes it, U+0080-U+009F, which a terminal may act on too:
	 * what a message would show escaped is never a synced name) */
	if (*path == '\0' || strlen(path) > SYNC_PATH_MAX || quote_needed(path))
		return 0;
	return sync_path_inside(path);
}

/* Does path name something under the folder: relative, no empty, "." or
 * ".." component (sync_path_ok without its checks of the name's bytes)? */
static int
sync_path_inside(const char *path)
{
	const char *p, *slash;
	size_t len;

	if (*path == '\0')
		return 0;
	for (p = path;; p = slash + 1) {
		slash = strchr(p, '/');
		len = slash == NULL ? strlen(p) : (size_t)(slash - p);
		if (len == 0 || (len == 1 && p[0] == '.') ||
		    (len == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		if (slash == NULL)
			return 1;
	}
}

/* Read rel (under root) into *text if it is a regular file there (a link
 * is not followed). 0 (and *text NULL when there is none), or -1 with *cause. */
static int
sync_scan_read_file(
    const char *root, const char *rel, char **text, size_t *len, char **cause)
{
	char *path = xasprintf("%s/%s", root, rel);
	struct stat sb;
	int rc = 0;

	*text = NULL;
	if (lstat(path, &sb) != 0) {
		if (errno != ENOENT && errno != ENOTDIR)
			rc = error_set_errno(cause, errno, "%s", path);
	} else if (S_ISREG(sb.st_mode))
		rc = file_read_all(path, SYNC_IGNORE_MAX, text, len, cause);
	free(path);
	return rc;
}

/* A kind of pattern file (.gitignore, .rdevignore): each file found,
 * parsed once, in the order found (a folder's before its subfolders'), and
 * the stack of those in the folders above the one being walked. */
struct sync_ignore_kind {
	struct sync_ignore **file;
	size_t n;
	size_t *stack; /* indexes into file */
	size_t depth;
};

static void
sync_ignore_kind_clear(struct sync_ignore_kind *k)
{
	for (size_t i = 0; i < k->n; i++)
		sync_ignore_free(k->file[i]);
	free(k->file);
	free(k->stack);
	memset(k, 0, sizeof *k);
}

/* What sync_scan_ignore's walk gathers. */
struct sync_ignore_walk {
	const char *root;
	unsigned flags;
	struct sync_ignore *git_dir; /* ".git", unless SYNC_SCAN_GIT */
	struct sync_ignore_kind git, rdev;
};

/* Read file name of folder rel, parse it, and put it on k's stack; 1 when
 * there is one, 0 when not, -1 with *cause. */
static int
sync_scan_ignore_file(struct sync_ignore_walk *w, const char *rel, const char *name,
    struct sync_ignore_kind *k, char **cause)
{
	char *file = *rel ? xasprintf("%s/%s", rel, name) : xstrdup(name), *text;
	size_t len;
	int rc;

	rc = sync_scan_read_file(w->root, file, &text, &len, cause);
	free(file);
	if (rc != 0)
		return -1;
	if (text == NULL)
		return 0;
	k->file = xreallocarray(k->file, k->n + 1, sizeof *k->file);
	k->file[k->n] = sync_ignore_new();
	sync_ignore_add_under(k->file[k->n], rel, text, len);
	free(text);
	k->stack = xreallocarray(k->stack, k->depth + 1, sizeof *k->stack);
	k->stack[k->depth++] = k->n++;
	return 1;
}

/* The decision of the files on k's stack for path (a folder): the deepest
 * that decides wins; -1 when none does. */
static int
sync_ignore_kind_decide(const struct sync_ignore_kind *k, const char *path)
{
	int d;

	for (size_t i = k->depth; i-- > 0;)
		if ((d = sync_ignore_decide(k->file[k->stack[i]], path, 1)) >= 0)
			return d;
	return -1;
}

/* Is folder path left out by the patterns of the folders above it (the
 * .rdevignore files winning over the .gitignore files, and those over
 * ".git")? */
static int
sync_scan_ignore_left_out(const struct sync_ignore_walk *w, const char *path)
{
	int d;

	if ((d = sync_ignore_kind_decide(&w->rdev, path)) >= 0 ||
	    (d = sync_ignore_kind_decide(&w->git, path)) >= 0)
		return d;
	return sync_ignore_match(w->git_dir, path, 1);
}

/* The pattern files of folder rel (relative; "" the top), then those of
 * its subfolders that are not left out by the files above them. */
static int
sync_scan_ignore_walk(
    struct sync_ignore_walk *w, const char *rel, int depth, char **cause)
{
	size_t git_depth = w->git.depth, rdev_depth = w->rdev.depth;
	char *dir, *sub;
	struct dirent *de;
	DIR *d = NULL;
	int rc = 0;

	if ((w->flags & SYNC_SCAN_GITIGNORE) &&
	    sync_scan_ignore_file(w, rel, ".gitignore", &w->git, cause) < 0)
		return -1;
	if (sync_scan_ignore_file(w, rel, ".rdevignore", &w->rdev, cause) < 0)
		rc = -1;
	if (rc == 0 && depth <= 64) {
		dir = *rel ? xasprintf("%s/%s", w->root, rel) : xstrdup(w->root);
		d = opendir(dir); /* (NULL: the scan says why, if it matters) */
		free(dir);
	}
	while (d != NULL && rc == 0 && (de = readdir(d)) != NULL) {
		if (de->d_type != DT_DIR || strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		sub = *rel ? xasprintf("%s/%s", rel, de->d_name) : xstrdup(de->d_name);
		if (!sync_scan_ignore_left_out(w, sub))
			rc = sync_scan_ignore_walk(w, sub, depth + 1, cause);
		free(sub);
	}
	if (d != NULL)
		closedir(d);
	w->git.depth = git_depth; /* (this folder's files off the stacks) */
	w->rdev.depth = rdev_depth;
	return rc;
}

int
sync_scan_ignore(const char *root, unsigned flags, struct sync_ignore **ig, char **cause)
{
	static const char git[] = ".git\n";
	/* (a two-way sync's temporary files, left by a crash: sync-back.c) */
	static const char back_tmp[] = SYNC_BACK_TMP "*\n";
	struct sync_ignore_walk w = { root, flags, sync_ignore_new(), { 0 }, { 0 } };
	int rc;

	*ig = NULL;
	sync_ignore_add(w.git_dir, back_tmp, sizeof back_tmp - 1);
	if (!(flags & SYNC_SCAN_GIT))
		sync_ignore_add(w.git_dir, git, sizeof git - 1);
	rc = sync_scan_ignore_walk(&w, "", 0, cause);
	if (rc == 0) {
		/* The order that gives each pattern its weight (the last that
		 * matches decides): .git, the .gitignore files, then the
		 * .rdevignore files; in each kind a folder's before its
		 * subfolders', so the deeper file wins, as in git. */
		for (size_t i = 0; i < w.git.n; i++)
			sync_ignore_append(w.git_dir, w.git.file[i]);
		w.git.n = 0;
		for (size_t i = 0; i < w.rdev.n; i++)
			sync_ignore_append(w.git_dir, w.rdev.file[i]);
		w.rdev.n = 0;
		*ig = w.git_dir;
	} else
		sync_ignore_free(w.git_dir);
	sync_ignore_kind_clear(&w.git);
	sync_ignore_kind_clear(&w.rdev);
	return rc == 0 ? 0 : error_prefix(cause, "%s", root);
}

long long
sync_time_ns(const struct timespec *ts)
{
	/* Modulo 2^64: a time past 2262 (or before 1678) does not fit, and
	 * anyone who can write the workspace can set one (touch -d); signed
	 * overflow would be undefined behaviour. The value is only compared
	 * for equality, and two such times collide only 584 years apart. */
	unsigned long long ns = (unsigned long long)ts->tv_sec * 1000000000ULL +
	    (unsigned long long)ts->tv_nsec;

	return (long long)ns;
}

int
sync_hash_fd(int fd, char *hex)
{
	crypto_generichash_state st;
	unsigned char h[SYNC_HASH_HEX / 2], *b = xmalloc(SYNC_READ_SIZE);
	ssize_t n;

	crypto_generichash_init(&st, NULL, 0, sizeof h);
	while ((n = read(fd, b, SYNC_READ_SIZE)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			free(b);
			return -1;
		}
		crypto_generichash_update(&st, b, (size_t)n);
	}
	free(b);
	crypto_generichash_final(&st, h, sizeof h);
	sodium_bin2hex(hex, SYNC_HASH_HEX + 1, h, sizeof h);
	return 0;
}

/* The growing scan of sync_scan. Every walk is of a live tree (a folder
 * being edited, a container's workspace): an entry listed by readdir that
 * has gone by the time the walk comes to it is left out, as if the walk had
 * started a moment later. (A live sync scans after its watch is in place:
 * the deletion is an event, and the next batch sees the path again.) */
struct sync_walk {
	const struct sync_ignore *ig;
	const struct sync_scan *prev;
	struct sync_scan *s;
	size_t cap;
};

static struct sync_entry *
sync_walk_add(struct sync_walk *w, char *path, char type, const struct stat *sb)
{
	struct sync_entry *e;

	if (w->s->n == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 64;
		w->s->v = xreallocarray(w->s->v, w->cap, sizeof *w->s->v);
	}
	e = &w->s->v[w->s->n++];
	memset(e, 0, sizeof *e);
	e->path = path;
	e->type = type;
	e->mode = sb->st_mode & 0777;
	return e;
}

/* A regular file: its hash, lent by prev when size, mtime and inode agree.
 * 0, 1 when it went meanwhile, or -1 with *cause. */
static int
sync_walk_file(struct sync_walk *w, int dfd, const char *name, struct sync_entry *e,
    const struct stat *sb, char **cause)
{
	const struct sync_entry *old;
	int fd;

	e->size = sb->st_size;
	e->mtime_ns = sync_time_ns(&sb->st_mtim);
	e->ino = sb->st_ino;
	w->s->bytes += e->size;
	if (w->prev != NULL && (old = sync_scan_find(w->prev, e->path)) != NULL &&
	    old->type == 'f' && old->size == e->size && old->mtime_ns == e->mtime_ns &&
	    old->ino == e->ino && old->hash[0] != '\0') {
		memcpy(e->hash, old->hash, sizeof e->hash);
		return 0;
	}
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 1;
	if (fd < 0 || sync_hash_fd(fd, e->hash) != 0) {
		error_set_errno(cause, errno, "%s", e->path);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	w->s->hashed++;
	return 0;
}

static int sync_walk_dir(struct sync_walk *, int, const char *, char **);

/* Count a bad name (path, taken) in s, kept when among the first by
 * strcmp: a warning names the same ones whatever order readdir gave. */
static void
sync_scan_note_bad(struct sync_scan *s, char *path)
{
	size_t i;

	s->bad_names++;
	if (s->nbad_shown == SYNC_SCAN_SKIPPED_SHOWN) {
		if (strcmp(path, s->bad_shown[s->nbad_shown - 1]) >= 0) {
			free(path);
			return;
		}
		free(s->bad_shown[--s->nbad_shown]);
	}
	for (i = s->nbad_shown; i > 0 && strcmp(path, s->bad_shown[i - 1]) < 0; i--)
		s->bad_shown[i] = s->bad_shown[i - 1];
	s->bad_shown[i] = path;
	s->nbad_shown++;
}

void
sync_scan_bad_clear(struct sync_scan *s)
{
	for (size_t i = 0; i < s->nbad_shown; i++)
		free(s->bad_shown[i]);
	s->nbad_shown = 0;
}

/* The entry name (in the open folder dfd) whose relative path is path
 * (taken), and for a folder everything under it. A name gone meanwhile is
 * left out. */
static int
sync_walk_entry(struct sync_walk *w, int dfd, const char *name, char *path, char **cause)
{
	char target[SYNC_PATH_MAX + 2];
	struct sync_entry *e;
	struct stat sb;
	ssize_t len;
	int sub;

	if (fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW) != 0) {
		if (errno == ENOENT) {
			free(path);
			return 0;
		}
		error_set_errno(cause, errno, "%s", path);
		free(path);
		return -1;
	}
	if (w->ig != NULL && sync_ignore_match(w->ig, path, S_ISDIR(sb.st_mode))) {
		free(path);
		return 0;
	}
	if (!sync_path_ok(path)) {
		w->s->skipped++;
		sync_scan_note_bad(w->s, path); /* (taken) */
		return 0;
	}
	if (!(S_ISREG(sb.st_mode) || S_ISDIR(sb.st_mode) || S_ISLNK(sb.st_mode))) {
		w->s->skipped++;
		free(path);
		return 0;
	}
	if (S_ISLNK(sb.st_mode)) {
		len = readlinkat(dfd, name, target, sizeof target - 1);
		if (len < 0 && errno == ENOENT) {
			free(path);
			return 0;
		}
		if (len < 0 || (size_t)len > SYNC_PATH_MAX) {
			error_set_errno(
			    cause, len < 0 ? errno : ENAMETOOLONG, "%s", path);
			free(path);
			return -1;
		}
		target[len] = '\0';
		e = sync_walk_add(w, path, 'l', &sb);
		e->link = xstrdup(target);
		return 0;
	}
	if (S_ISREG(sb.st_mode)) {
		e = sync_walk_add(w, path, 'f', &sb);
		if ((sub = sync_walk_file(w, dfd, name, e, &sb, cause)) == 1) {
			w->s->bytes -= e->size;
			free(e->path);
			w->s->n--;
			return 0;
		}
		return sub;
	}
	e = sync_walk_add(w, path, 'd', &sb);
	sub = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sub < 0 && errno == ENOENT) {
		free(e->path);
		w->s->n--;
		return 0;
	}
	if (sub < 0)
		return error_set_errno(cause, errno, "%s", path);
	return sync_walk_dir(w, sub, path, cause);
}

/* Scan the open folder dfd (taken: closed here), whose relative path is rel
 * ("" at the top). */
static int
sync_walk_dir(struct sync_walk *w, int dfd, const char *rel, char **cause)
{
	DIR *d = fdopendir(dfd);
	struct dirent *de;
	char **names = NULL, *path;
	size_t n = 0, cap = 0, i;
	int rc = 0;

	if (d == NULL) {
		close(dfd);
		return error_set_errno(cause, errno, "%s", *rel ? rel : ".");
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			names = xreallocarray(names, cap, sizeof *names);
		}
		names[n++] = xstrdup(de->d_name);
	}
	/* Sorted per folder, so that the whole scan comes out in path order
	 * once sorted again ('/' sorts before most names' characters, not all). */
	if (n > 0)
		qsort(names, n, sizeof *names, sync_path_cmp);
	for (i = 0; i < n && rc == 0; i++) {
		path = *rel ? xasprintf("%s/%s", rel, names[i]) : xstrdup(names[i]);
		rc = sync_walk_entry(w, dirfd(d), names[i], path, cause);
	}
	sync_paths_free(names, n);
	closedir(d);
	return rc;
}

/* The end of a walk of root that returned rc: 0 and its scan in *out (in
 * path order), or -1 with *cause prefixed with root (the scan freed). */
static int
sync_walk_finish(
    struct sync_walk *w, int rc, const char *root, struct sync_scan **out, char **cause)
{
	if (rc != 0) {
		error_prefix(cause, "%s", root);
		sync_scan_free(w->s);
		return -1;
	}
	if (w->s->n > 0)
		qsort(w->s->v, w->s->n, sizeof *w->s->v, sync_entry_cmp);
	*out = w->s;
	return 0;
}

int
sync_scan(const char *root, const struct sync_ignore *ig, const struct sync_scan *prev,
    struct sync_scan **out, char **cause)
{
	struct sync_walk w = { ig, prev, xcalloc(1, sizeof *w.s), 0 };
	int fd;

	*out = NULL;
	fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		sync_scan_free(w.s);
		return error_set_errno(cause, errno, "%s", root);
	}
	return sync_walk_finish(&w, sync_walk_dir(&w, fd, "", cause), root, out, cause);
}

/* Open the folder of rel's parent under root, one component at a time with
 * O_NOFOLLOW, each checked against ig (a folder left out, a component that
 * is not a folder, or one gone: 1, nothing there to scan). The folder's fd
 * in *dfd (close it), *leaf the last component; 0, 1, or -1 with *cause. */
static int
sync_scan_parent(const char *root, const char *rel, const struct sync_ignore *ig,
    int *dfd, const char **leaf, char **cause)
{
	const char *p = rel, *slash;
	char *prefix, *name;
	int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC), next;

	if (fd < 0)
		return error_set_errno(cause, errno, "%s", root);
	while ((slash = strchr(p, '/')) != NULL) {
		prefix = xstrndup(rel, (size_t)(slash - rel));
		name = xstrndup(p, (size_t)(slash - p));
		next = ig != NULL && sync_ignore_match(ig, prefix, 1)
		    ? -1
		    : openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		free(prefix);
		free(name);
		close(fd);
		if (next < 0)
			return 1;
		fd = next;
		p = slash + 1;
	}
	*dfd = fd;
	*leaf = p;
	return 0;
}

int
sync_scan_under(const char *root, const char *rel, const struct sync_ignore *ig,
    const struct sync_scan *prev, struct sync_scan **out, char **cause)
{
	struct sync_walk w = { ig, prev, xcalloc(1, sizeof *w.s), 0 };
	const char *leaf = NULL;
	char *q;
	int dfd = -1, rc;

	*out = NULL;
	if (*rel == '\0') {
		sync_scan_free(w.s);
		return sync_scan(root, ig, prev, out, cause);
	}
	/* (a name a sync does not carry, a control character in it, is walked
	 * to and skipped as sync_scan skips it: a watch must not stop at a
	 * macOS "Icon\r"; only a path that could leave root is an error) */
	if (!sync_path_inside(rel)) {
		sync_scan_free(w.s);
		q = quote_string(rel, 0);
		error_set(cause, "%s: not a path inside the folder", q);
		free(q);
		return -1;
	}
	if ((rc = sync_scan_parent(root, rel, ig, &dfd, &leaf, cause)) < 0) {
		sync_scan_free(w.s);
		return -1;
	}
	if (rc == 1) /* (nothing there: an empty scan) */
		return sync_walk_finish(&w, 0, root, out, cause);
	rc = sync_walk_entry(&w, dfd, leaf, xstrdup(rel), cause);
	close(dfd);
	return sync_walk_finish(&w, rc, root, out, cause);
}

int
sync_scan_name_skipped(const char *root, const char *rel)
{
	struct stat sb;
	char *path;
	int there;

	if (sync_path_ok(rel) || !sync_path_inside(rel))
		return 0;
	path = xasprintf("%s/%s", root, rel);
	there = lstat(path, &sb) == 0;
	free(path);
	return there;
}

char *
sync_scan_skipped_names(const char *root, char *const *roots, size_t n)
{
	struct buf *text = buf_new();
	size_t i, named = 0, more = 0;
	char *quoted, *s;

	for (i = 0; i < n; i++) {
		if (!sync_scan_name_skipped(root, roots[i]))
			continue;
		if (named == SYNC_SCAN_SKIPPED_SHOWN) {
			more++;
			continue;
		}
		quoted = quote_string(roots[i], 0);
		buf_appendf(text, "%s%s", named > 0 ? ", " : "", quoted);
		free(quoted);
		named++;
	}
	if (more > 0)
		buf_appendf(text, " and %zu more", more);
	s = named > 0 ? buf_take_string(text, NULL) : NULL;
	buf_free(text);
	return s;
}

char *
sync_scan_bad_names(const struct sync_scan *s)
{
	struct buf *text;
	char *quoted, *out;

	if (s->nbad_shown == 0)
		return NULL;
	text = buf_new();
	for (size_t i = 0; i < s->nbad_shown; i++) {
		quoted = quote_string(s->bad_shown[i], 256); /* (each cut) */
		buf_appendf(text, "%s%s", i > 0 ? ", " : "", quoted);
		free(quoted);
	}
	if (s->bad_names > s->nbad_shown)
		buf_appendf(text, " and %zu more", s->bad_names - s->nbad_shown);
	out = buf_take_string(text, NULL);
	buf_free(text);
	return out;
}

int
sync_scan_roots(const char *root, char *const *roots, size_t n,
    const struct sync_ignore *ig, const struct sync_scan *prev, struct sync_scan **out,
    char **cause)
{
	struct sync_scan *all = xcalloc(1, sizeof *all), *one;
	size_t i;

	for (i = 0; i < n; i++) {
		if (sync_scan_under(root, roots[i], ig, prev, &one, cause) != 0) {
			sync_scan_free(all);
			return -1;
		}
		all->v = xreallocarray(all->v, all->n + one->n + 1, sizeof *all->v);
		if (one->n > 0)
			memcpy(all->v + all->n, one->v, one->n * sizeof *one->v);
		all->n += one->n;
		all->skipped += one->skipped;
		all->hashed += one->hashed;
		for (size_t k = 0; k < one->nbad_shown; k++)
			sync_scan_note_bad(all, one->bad_shown[k]);
		all->bad_names += one->bad_names - one->nbad_shown;
		free(one->v);
		free(one);
	}
	*out = all;
	return 0;
}

void
sync_entry_clear(struct sync_entry *e)
{
	free(e->path);
	free(e->link);
}

void
sync_entry_copy(struct sync_entry *to, const struct sync_entry *e)
{
	*to = *e;
	to->path = xstrdup(e->path);
	to->link = e->link != NULL ? xstrdup(e->link) : NULL;
}

void
sync_scan_free(struct sync_scan *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n; i++)
		sync_entry_clear(&s->v[i]);
	sync_scan_bad_clear(s);
	free(s->v);
	free(s);
}

struct sync_scan *
sync_scan_copy(const struct sync_scan *s)
{
	struct sync_scan *c = xcalloc(1, sizeof *c);

	*c = *s;
	c->v = xcalloc(s->n + 1, sizeof *c->v);
	for (size_t i = 0; i < s->n; i++)
		sync_entry_copy(&c->v[i], &s->v[i]);
	for (size_t i = 0; i < s->nbad_shown; i++)
		c->bad_shown[i] = xstrdup(s->bad_shown[i]);
	return c;
}

const struct sync_entry *
sync_scan_find(const struct sync_scan *s, const char *path)
{
	struct sync_entry key = { .path = (char *)path };

	if (s->n == 0)
		return NULL;
	return bsearch(&key, s->v, s->n, sizeof *s->v, sync_entry_cmp);
}

cJSON *
sync_scan_manifest(const struct sync_scan *s, int with_stat)
{
	cJSON *m = cJSON_CreateArray(), *e;
	char t[2] = { 0 };

	for (size_t i = 0; i < s->n; i++) {
		const struct sync_entry *x = &s->v[i];

		e = cJSON_CreateArray();
		t[0] = x->type;
		cJSON_AddItemToArray(e, cJSON_CreateString(t));
		cJSON_AddItemToArray(e, cJSON_CreateString(x->path));
		if (x->type == 'f') {
			cJSON_AddItemToArray(e, cJSON_CreateString(x->hash));
			cJSON_AddItemToArray(e, cJSON_CreateNumber(x->mode));
			cJSON_AddItemToArray(e, cJSON_CreateNumber((double)x->size));
			if (with_stat) {
				/* (in two: a double holds 53 bits; seconds
				 * rounded down, so that the nanoseconds are
				 * never negative) */
				long long sec = x->mtime_ns / 1000000000;
				long long nsec = x->mtime_ns % 1000000000;

				if (nsec < 0) {
					nsec += 1000000000;
					sec--;
				}
				cJSON_AddItemToArray(e, cJSON_CreateNumber((double)sec));
				cJSON_AddItemToArray(e, cJSON_CreateNumber((double)nsec));
				cJSON_AddItemToArray(
				    e, cJSON_CreateNumber((double)x->ino));
			}
		} else if (x->type == 'd')
			cJSON_AddItemToArray(e, cJSON_CreateNumber(x->mode));
		else
			cJSON_AddItemToArray(e, cJSON_CreateString(x->link));
		cJSON_AddItemToArray(m, e);
	}
	return m;
}

/* Is s 32 lower-case hex digits? */
static int
sync_hash_ok(const char *s)
{
	return strlen(s) == SYNC_HASH_HEX &&
	    strspn(s, "0123456789abcdef") == SYNC_HASH_HEX;
}

/* One manifest entry into e. 0, or -1. */
static int
sync_manifest_entry(const cJSON *a, struct sync_entry *e)
{
	const cJSON *t = cJSON_GetArrayItem(a, 0), *p = cJSON_GetArrayItem(a, 1);
	const cJSON *x = cJSON_GetArrayItem(a, 2), *y = cJSON_GetArrayItem(a, 3);
	const cJSON *z = cJSON_GetArrayItem(a, 4), *mt = cJSON_GetArrayItem(a, 5);
	const cJSON *mtn = cJSON_GetArrayItem(a, 6), *ino = cJSON_GetArrayItem(a, 7);

	if (!cJSON_IsString(t) || !cJSON_IsString(p) || strlen(t->valuestring) != 1 ||
	    !sync_path_ok(p->valuestring))
		return -1;
	e->type = t->valuestring[0];
	switch (e->type) {
	case 'f':
		if (!cJSON_IsString(x) || !sync_hash_ok(x->valuestring) ||
		    !cJSON_IsNumber(y) || !cJSON_IsNumber(z) || !(z->valuedouble >= 0) ||
		    z->valuedouble > SYNC_SIZE_MAX)
			return -1;
		memcpy(e->hash, x->valuestring, SYNC_HASH_HEX + 1);
		e->mode = (unsigned)y->valueint & 0777;
		e->size = (long long)z->valuedouble;
		/* (ranges checked: a double out of range of the integer it is
		 * converted to is undefined behaviour; found by fuzzing) */
		if (cJSON_IsNumber(mt) && cJSON_IsNumber(mtn) && cJSON_IsNumber(ino) &&
		    mt->valuedouble > -SYNC_MTIME_MAX &&
		    mt->valuedouble < SYNC_MTIME_MAX && mtn->valuedouble >= 0 &&
		    mtn->valuedouble < 1e9 && ino->valuedouble >= 0 &&
		    ino->valuedouble < 1.8e19) {
			/* (modulo 2^64, as sync_time_ns) */
			e->mtime_ns =
			    (long long)((unsigned long long)(long long)mt->valuedouble *
				    1000000000ULL +
				(unsigned long long)mtn->valuedouble);
			e->ino = (unsigned long long)ino->valuedouble;
		}
		break;
	case 'd':
		if (!cJSON_IsNumber(x))
			return -1;
		e->mode = (unsigned)x->valueint & 0777;
		break;
	case 'l':
		if (!cJSON_IsString(x) || *x->valuestring == '\0' ||
		    strlen(x->valuestring) > SYNC_PATH_MAX)
			return -1;
		e->link = xstrdup(x->valuestring);
		break;
	default: return -1;
	}
	e->path = xstrdup(p->valuestring);
	return 0;
}

int
sync_scan_from_manifest(const cJSON *m, struct sync_scan **out, char **cause)
{
	struct sync_scan *s = xcalloc(1, sizeof *s);
	const cJSON *a;
	size_t i = 0;

	*out = NULL;
	if (!cJSON_IsArray(m)) {
		free(s);
		return error_set(cause, "\"files\": expected an array");
	}
	s->v = xcalloc((size_t)cJSON_GetArraySize(m) + 1, sizeof *s->v);
	cJSON_ArrayForEach(a, m) {
		if (!cJSON_IsArray(a) || sync_manifest_entry(a, &s->v[i]) != 0) {
			s->n = i;
			sync_scan_free(s);
			return error_set(
			    cause, "\"files\": entry %zu is not a valid entry", i);
		}
		if (s->v[i].type == 'f')
			s->bytes += s->v[i].size;
		s->n = ++i;
	}
	qsort(s->v, s->n, sizeof *s->v, sync_entry_cmp);
	for (i = 1; i < s->n; i++)
		if (strcmp(s->v[i - 1].path, s->v[i].path) == 0) {
			error_set(cause, "\"files\": '%s' is listed twice", s->v[i].path);
			sync_scan_free(s);
			return -1;
		}
	*out = s;
	return 0;
}

int
sync_paths_from_json(const cJSON *a, char ***out, size_t *n, char **cause)
{
	const cJSON *p;
	size_t i = 0;

	*out = NULL;
	*n = 0;
	if (!cJSON_IsArray(a))
		return error_set(cause, "\"delete\": expected an array");
	*out = xcalloc((size_t)cJSON_GetArraySize(a) + 1, sizeof **out);
	cJSON_ArrayForEach(p, a) {
		if (!cJSON_IsString(p) || !sync_path_ok(p->valuestring)) {
			sync_paths_free(*out, i);
			*out = NULL;
			return error_set(cause,
			    "\"delete\": entry %zu is not a path inside the folder", i);
		}
		(*out)[i++] = xstrdup(p->valuestring);
	}
	*n = i;
	return 0;
}

void
sync_paths_free(char **paths, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
}

void
sync_scan_apply(
    struct sync_scan **base, struct sync_scan *put, char *const *drop, size_t ndrop)
{
	struct sync_scan *old = *base, *next = xcalloc(1, sizeof *next);
	size_t i = 0, j = 0, k = 0;
	int c;

	next->v = xcalloc(old->n + put->n + 1, sizeof *next->v);
	while (i < old->n || j < put->n) {
		struct sync_entry *a = i < old->n ? &old->v[i] : NULL;

		c = a == NULL ? 1 : j == put->n ? -1 : strcmp(a->path, put->v[j].path);
		if (c >= 0) {
			if (c == 0) { /* replaced */
				sync_entry_clear(a);
				i++;
			}
			next->v[k++] = put->v[j++];
			continue;
		}
		if (ndrop > 0 &&
		    bsearch(&a->path, drop, ndrop, sizeof *drop, sync_path_cmp) != NULL)
			sync_entry_clear(a);
		else
			next->v[k++] = *a;
		i++;
	}
	next->n = k;
	for (i = 0; i < k; i++)
		if (next->v[i].type == 'f')
			next->bytes += next->v[i].size;
	sync_scan_bad_clear(old);
	sync_scan_bad_clear(put);
	free(old->v);
	free(old);
	free(put->v);
	free(put);
	*base = next;
}
