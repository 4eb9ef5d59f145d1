/* sync-delta.h - one batch of a live sync: what changed under the paths a
 * watcher saw change, found by comparing the last state (the folder as the
 * host was last sent it) with a fresh scan of those paths
 * (sync_scan_under), and the state after it.
 *
 * A change is an entry created, modified (content, link target, type, or
 * mode: the executable bit), deleted, or renamed (a deleted path and a
 * created one the watcher saw as one move; for a folder, the entries under
 * it are folded into that one change). A file touched but not changed is no
 * change: nothing is sent for it.
 *
 * Pure: no I/O. Ownership: sync_delta_new takes fresh; the delta owns
 * everything in it.
 */
#ifndef RDEV_SYNC_DELTA_H
#define RDEV_SYNC_DELTA_H

#include <stddef.h>

#include "sync-scan.h"

enum sync_change_kind {
	SYNC_CHANGE_CREATED,
	SYNC_CHANGE_MODIFIED,
	SYNC_CHANGE_DELETED,
	SYNC_CHANGE_RENAMED,
};

struct sync_change {
	enum sync_change_kind kind;
	char type;  /* 'f', 'd' or 'l' (of the new entry; deleted: the old) */
	char *path; /* the new path (deleted: the old) */
	char *from; /* renamed: the old path; else NULL */
};

/* A move the watcher saw: from -> to (relative paths). */
struct sync_move {
	const char *from, *to;
};

struct sync_delta {
	struct sync_scan *changed; /* entries to send (created or modified) */
	char **del;		   /* paths deleted (each entry), path order */
	size_t ndel;
	struct sync_change *v; /* what to tell the user, path order */
	size_t n;
};

/* The delta of roots (n paths; "" is the whole folder; overlapping roots
 * are fine), whose entries are now fresh (the union of a scan of each;
 * taken), against *state, which becomes the state after the batch (entries
 * outside the roots kept, those under them replaced by fresh). moves (nm;
 * may be NULL) turn a deletion and a creation into a rename. Returns a new
 * delta (sync_delta_free). */
struct sync_delta *sync_delta_new(struct sync_scan **state, char *const *roots, size_t n,
    struct sync_scan *fresh, const struct sync_move *moves, size_t nm);
/* Send paths (n, sorted; borrowed) again in d's batch, whatever changed:
 * entries that could not land on the host at an earlier batch
 * (sync_send_failed_paths). Each that state (the state after d) has and d
 * does not send yet joins d->changed (copied, in path order); one state
 * lacks is gone here: d deletes it, as any deletion, or again when its
 * deletion went before (it was that which could not land; the agent
 * deletes only what it wrote and is unchanged). So every path is in d's
 * batch, which is sent: a retry never comes due for ever with nothing to
 * send. Returns how many joined d->changed. */
size_t sync_delta_resend(
    struct sync_delta *d, const struct sync_scan *state, char *const *paths, size_t n);
/* What goes again after d's batch when it did not carry the earlier retry
 * list old (nold, sorted; borrowed) because its retry was not due yet (a
 * local change's batch, a pull's: the failing entries go at their backoff,
 * not with every batch): failed (nf, sorted, as sync_send_failed_paths;
 * taken), and each of old that d neither sent nor deleted (what d did
 * carry is in failed if it failed again). Returns them sorted, once each
 * (sync_paths_free), *n of them. */
char **sync_delta_retry_keep(const struct sync_delta *d, char *const *old, size_t nold,
    char **failed, size_t nf, size_t *n);
void sync_delta_free(struct sync_delta *d);
/* Is path one of roots or under one (roots sorted by strcmp)? */
int sync_delta_under(const char *path, char *const *roots, size_t n);
/* "created", "modified", "deleted" or "renamed". */
const char *sync_change_kind_name(enum sync_change_kind k);

#endif
