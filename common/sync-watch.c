/* sync-watch.c - which paths of a folder changed, by inotify (sync-watch.h). */
#include "sync-watch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "xmalloc.h"

#define SYNC_WATCH_MASK \
	(IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB | \
	    IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | \
	    IN_DONT_FOLLOW | IN_EXCL_UNLINK)
/* More changed paths than this in one batch: a rescan is cheaper. */
#define SYNC_WATCH_MAX_ROOTS 4096
#define SYNC_WATCH_READ (64u << 10)

/* A move's first half, waiting for its second (same cookie). */
struct sync_watch_from {
	uint32_t cookie;
	char *path;
};

struct sync_watch {
	char *root;
	int fd;
	const struct sync_ignore *ig;
	char **wdpath; /* by watch descriptor: the folder, relative ("" the top) */
	size_t wdcap, nwatch;
	int all, ignore_changed;
	char **roots;
	size_t nroots;
	struct sync_move *moves;
	size_t nmoves;
	struct sync_watch_from *from;
	size_t nfrom;
};

static char *
sync_watch_join(const char *dir, const char *name)
{
	return *dir ? xasprintf("%s/%s", dir, name) : xstrdup(name);
}

static void
sync_watch_clear_roots(struct sync_watch *w)
{
	for (size_t i = 0; i < w->nroots; i++)
		free(w->roots[i]);
	free(w->roots);
	w->roots = NULL;
	w->nroots = 0;
}

/* Everything is to be scanned again: no roots then. */
static void
sync_watch_set_all(struct sync_watch *w)
{
	w->all = 1;
	sync_watch_clear_roots(w);
}

/* Is name a file of ignore patterns (in any folder: sync-scan.h)? */
static int
sync_watch_is_ignore_file(const char *name)
{
	return strcmp(name, ".gitignore") == 0 || strcmp(name, ".rdevignore") == 0;
}

/* Watch folder rel and the folders under it that ig lets in. fresh: the
 * folder just came (made or moved in): an ignore file in it came with it,
 * unseen by any event, and the patterns are read again. */
static int
sync_watch_add_tree(
    struct sync_watch *w, const char *rel, int depth, int fresh, char **cause)
{
	char *full = *rel ? xasprintf("%s/%s", w->root, rel) : xstrdup(w->root), *sub;
	struct dirent *de;
	struct stat sb;
	DIR *d;
	int wd, rc = 0;

	wd = inotify_add_watch(w->fd, full, SYNC_WATCH_MASK);
	if (wd < 0) {
		int e = errno;

		free(full);
		if (*rel == '\0' && (e == ENOENT || e == ENOTDIR)) {
			/* (the root itself: nothing to watch, or not a folder, a
			 * symbolic link one among them: IN_DONT_FOLLOW) */
			error_set(cause, "%s: %s", w->root,
			    e == ENOENT ? "no such folder" : "not a folder");
			return -2;
		}
		if (e == ENOENT || e == ENOTDIR)
			return 0; /* gone meanwhile: its parent's event says so */
		if (e == ENOSPC)
			return error_set(cause,
			    "%s: the limit of inotify watches is reached "
			    "(sysctl fs.inotify.max_user_watches)",
			    w->root);
		return error_set_errno(cause, e, "%s: inotify", rel);
	}
	if ((size_t)wd >= w->wdcap) {
		size_t cap = w->wdcap ? w->wdcap : 64;

		while (cap <= (size_t)wd)
			cap *= 2;
		w->wdpath = xreallocarray(w->wdpath, cap, sizeof *w->wdpath);
		memset(w->wdpath + w->wdcap, 0, (cap - w->wdcap) * sizeof *w->wdpath);
		w->wdcap = cap;
	}
	if (w->wdpath[wd] == NULL)
		w->nwatch++;
	free(w->wdpath[wd]);
	w->wdpath[wd] = xstrdup(rel);
	if (depth > 256 || (d = opendir(full)) == NULL) {
		free(full);
		return 0;
	}
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (fresh && sync_watch_is_ignore_file(de->d_name)) {
			w->ignore_changed = 1;
			sync_watch_set_all(w);
		}
		if (de->d_type == DT_UNKNOWN) {
			if (fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) !=
				0 ||
			    !S_ISDIR(sb.st_mode))
				continue;
		} else if (de->d_type != DT_DIR)
			continue;
		sub = sync_watch_join(rel, de->d_name);
		if (w->ig == NULL || !sync_ignore_match(w->ig, sub, 1))
			rc = sync_watch_add_tree(w, sub, depth + 1, fresh, cause);
		free(sub);
	}
	closedir(d);
	free(full);
	return rc;
}

/* Stop watching folder rel and those under it (moved away). */
static void
sync_watch_remove_tree(struct sync_watch *w, const char *rel)
{
	size_t n = strlen(rel);

	for (size_t wd = 0; wd < w->wdcap; wd++) {
		const char *p = w->wdpath[wd];

		if (p == NULL || strncmp(p, rel, n) != 0 || (p[n] != '\0' && p[n] != '/'))
			continue;
		inotify_rm_watch(w->fd, (int)wd);
		free(w->wdpath[wd]);
		w->wdpath[wd] = NULL;
		w->nwatch--;
	}
}

static void
sync_watch_add_root(struct sync_watch *w, const char *path)
{
	if (w->all)
		return;
	/* (a file being written: the same path, event after event) */
	if (w->nroots > 0 && strcmp(w->roots[w->nroots - 1], path) == 0)
		return;
	if (w->nroots == SYNC_WATCH_MAX_ROOTS) {
		sync_watch_set_all(w);
		return;
	}
	w->roots = xreallocarray(w->roots, w->nroots + 1, sizeof *w->roots);
	w->roots[w->nroots++] = xstrdup(path);
}

/* One event: 0, -1 with *cause, or -2 with *cause (the folder went away). */
static int
sync_watch_event(struct sync_watch *w, const struct inotify_event *ev, char **cause)
{
	const char *dir;
	char *path;
	int is_dir = (ev->mask & IN_ISDIR) != 0;

	if (ev->mask & IN_Q_OVERFLOW) {
		sync_watch_set_all(w);
		return 0;
	}
	if (ev->wd < 0 || (size_t)ev->wd >= w->wdcap || (dir = w->wdpath[ev->wd]) == NULL)
		return 0;
	if (ev->mask & IN_IGNORED) {
		free(w->wdpath[ev->wd]);
		w->wdpath[ev->wd] = NULL;
		w->nwatch--;
		return 0;
	}
	if (ev->len == 0 || ev->name[0] == '\0') {
		/* The folder itself. */
		if (*dir == '\0' && (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF))) {
			error_set(cause, "%s: the folder went away", w->root);
			return -2;
		}
		if (*dir != '\0' && (ev->mask & IN_ATTRIB))
			sync_watch_add_root(w, dir);
		return 0;
	}
	path = sync_watch_join(dir, ev->name);
	if (sync_watch_is_ignore_file(ev->name)) {
		w->ignore_changed = 1;
		sync_watch_set_all(w);
	}
	if (w->ig != NULL && sync_ignore_match(w->ig, path, is_dir)) {
		free(path);
		return 0;
	}
	if (is_dir && (ev->mask & IN_MOVED_FROM))
		sync_watch_remove_tree(w, path);
	if (is_dir && (ev->mask & (IN_CREATE | IN_MOVED_TO)) &&
	    sync_watch_add_tree(w, path, 0, 1, cause) != 0) {
		free(path);
		return -1;
	}
	if (ev->mask & IN_MOVED_FROM) {
		w->from = xreallocarray(w->from, w->nfrom + 1, sizeof *w->from);
		w->from[w->nfrom].cookie = ev->cookie;
		w->from[w->nfrom++].path = xstrdup(path);
	}
	if (ev->mask & IN_MOVED_TO)
		for (size_t i = 0; i < w->nfrom; i++)
			if (w->from[i].cookie == ev->cookie) {
				w->moves = xreallocarray(
				    w->moves, w->nmoves + 1, sizeof *w->moves);
				w->moves[w->nmoves].from = xstrdup(w->from[i].path);
				w->moves[w->nmoves++].to = xstrdup(path);
				break;
			}
	sync_watch_add_root(w, path);
	free(path);
	return 0;
}

int
sync_watch_new(
    const char *root, const struct sync_ignore *ig, struct sync_watch **out, char **cause)
{
	struct sync_watch *w = xcalloc(1, sizeof *w);
	int rc;

	*out = NULL;
	w->root = xstrdup(root);
	w->ig = ig;
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd < 0) {
		error_set_errno(cause, errno, "inotify");
		sync_watch_free(w);
		return -1;
	}
	if ((rc = sync_watch_add_tree(w, "", 0, 0, cause)) != 0) {
		sync_watch_free(w);
		return rc;
	}
	*out = w;
	return 0;
}

void
sync_watch_free(struct sync_watch *w)
{
	struct sync_watch_batch b;

	if (w == NULL)
		return;
	if (w->fd >= 0)
		close(w->fd);
	for (size_t i = 0; i < w->wdcap; i++)
		free(w->wdpath[i]);
	free(w->wdpath);
	sync_watch_take(w, &b);
	sync_watch_batch_clear(&b);
	free(w->root);
	free(w);
}

int
sync_watch_fd(const struct sync_watch *w)
{
	return w->fd;
}

size_t
sync_watch_count(const struct sync_watch *w)
{
	return w->nwatch;
}

int
sync_watch_read(struct sync_watch *w, char **cause)
{
	char *buf = xmalloc(SYNC_WATCH_READ);
	const struct inotify_event *ev;
	ssize_t n;
	int rc = 0, events = 0;

	while (rc == 0) {
		n = read(w->fd, buf, SYNC_WATCH_READ);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			rc = error_set_errno(cause, n < 0 ? errno : EIO, "inotify");
			break;
		}
		for (char *p = buf; rc == 0 && p < buf + n; p += sizeof *ev + ev->len) {
			ev = (const struct inotify_event *)(void *)p;
			rc = sync_watch_event(w, ev, cause);
			events++;
		}
	}
	free(buf);
	return rc == 0 ? events : rc;
}

int
sync_watch_pending(const struct sync_watch *w)
{
	return w->all || w->nroots > 0;
}

void
sync_watch_take(struct sync_watch *w, struct sync_watch_batch *b)
{
	size_t i, n = 0;

	memset(b, 0, sizeof *b);
	b->all = w->all;
	b->ignore_changed = w->ignore_changed;
	/* Sorted, duplicates and paths under another root dropped: a folder
	 * comes before what is under it, but "a-b" sorts between "a" and
	 * "a/b", so each is checked against its ancestors. */
	if (w->nroots > 0)
		qsort(w->roots, w->nroots, sizeof *w->roots, sync_path_cmp);
	for (i = 0; i < w->nroots; i++) {
		char *p = w->roots[i], *slash;
		int covered = n > 0 && strcmp(w->roots[n - 1], p) == 0;

		for (slash = strchr(p, '/'); !covered && slash != NULL;
		     slash = strchr(slash + 1, '/')) {
			*slash = '\0';
			covered = n > 0 &&
			    bsearch(&p, w->roots, n, sizeof *w->roots, sync_path_cmp) !=
				NULL;
			*slash = '/';
		}
		if (covered)
			free(p);
		else
			w->roots[n++] = p;
	}
	b->roots = w->roots;
	b->nroots = n;
	b->moves = w->moves;
	b->nmoves = w->nmoves;
	w->roots = NULL;
	w->nroots = 0;
	w->moves = NULL;
	w->nmoves = 0;
	w->all = w->ignore_changed = 0;
	for (i = 0; i < w->nfrom; i++)
		free(w->from[i].path);
	free(w->from);
	w->from = NULL;
	w->nfrom = 0;
}

void
sync_watch_batch_clear(struct sync_watch_batch *b)
{
	for (size_t i = 0; i < b->nroots; i++)
		free(b->roots[i]);
	free(b->roots);
	for (size_t i = 0; i < b->nmoves; i++) {
		free((char *)b->moves[i].from);
		free((char *)b->moves[i].to);
	}
	free(b->moves);
	memset(b, 0, sizeof *b);
}

int
sync_watch_set_ignore(struct sync_watch *w, const struct sync_ignore *ig, char **cause)
{
	w->ig = ig;
	return sync_watch_add_tree(w, "", 0, 0, cause);
}
