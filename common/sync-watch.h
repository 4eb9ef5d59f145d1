/* sync-watch.h - which paths of a folder changed: inotify on every folder
 * of the tree (folders made later are watched as they appear, folders moved
 * in are watched at their new place), for a live sync (sync-delta.h says
 * what a change was, from a scan of the paths seen here).
 *
 * Nothing is lost silently: when the kernel's queue overflows (IN_Q_OVERFLOW),
 * or more paths changed than are worth listing, the batch says "everything"
 * (a full rescan). A change to a .rdevignore or a .gitignore (in any folder) says so too,
 * and that the ignore patterns must be read again (sync_watch_set_ignore). Paths the
 * patterns leave out are not watched and their events dropped.
 *
 * Ownership: the watch borrows ig (set_ignore replaces it); a batch's
 * strings are owned by the batch (sync_watch_batch_clear).
 */
#ifndef RDEV_SYNC_WATCH_H
#define RDEV_SYNC_WATCH_H

#include <stddef.h>

#include "sync-delta.h"
#include "sync-ignore.h"

struct sync_watch;

/* What changed since the last batch. */
struct sync_watch_batch {
	int all;	    /* rescan the whole folder (overflow, many paths) */
	int ignore_changed; /* .rdevignore or a .gitignore changed */
	char **roots;	    /* changed paths (relative), none under another */
	size_t nroots;
	struct sync_move *moves; /* renames seen (strings owned here) */
	size_t nmoves;
};

/* Watch root and its folders (ig may be NULL). 0 and a new *out
 * (sync_watch_free); -2 with *cause when root is not there or is not a
 * folder (a symbolic link is not one: never followed); -1 with *cause (no
 * inotify, or the limit of watches: fs.inotify.max_user_watches). */
int sync_watch_new(const char *root, const struct sync_ignore *ig,
    struct sync_watch **out, char **cause);
void sync_watch_free(struct sync_watch *w);
/* The descriptor to poll for reading. */
int sync_watch_fd(const struct sync_watch *w);
/* Read what the kernel has (never blocks). The number of events read; -2
 * with *cause when the folder itself went away (removed, or renamed: the
 * watch is of no use now, a new one is needed once it is back); -1 with
 * *cause when the watch failed (the limit of watches). */
int sync_watch_read(struct sync_watch *w, char **cause);
/* Has anything changed since the last batch? */
int sync_watch_pending(const struct sync_watch *w);
/* Take what changed into *b (which it fills), and start a new batch. */
void sync_watch_take(struct sync_watch *w, struct sync_watch_batch *b);
void sync_watch_batch_clear(struct sync_watch_batch *b);
/* New patterns (borrowed): watch what they let in (after a full rescan). */
int sync_watch_set_ignore(
    struct sync_watch *w, const struct sync_ignore *ig, char **cause);
/* Folders watched (for tests and the status). */
size_t sync_watch_count(const struct sync_watch *w);

#endif
