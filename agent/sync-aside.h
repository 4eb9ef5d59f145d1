/* sync-aside.h - a two-way sync's host entries the local side leaves out
 * (its own ignore rules, which the host may not have: a self-ignoring
 * .rdevignore never reaches the host): kept aside from the index, with the
 * stat and hash they had when the local side said so ("ignoredHere",
 * docs/PROTOCOL.md "sync-pull"), so that sync-pull does not report them
 * again until they change on the host. A one-way sync keeps aside too
 * (under no tag) the host files it kept when the client deleted them
 * (changed there since, sync-recv.c): a local file sent there later keeps
 * the host's version as its conflict name instead of replacing it.
 *
 *   STATE/sync/NAME.json.aside    {"tag":T,"files":MANIFEST} (MANIFEST as
 *                                 sync_scan_manifest with stat; T the
 *                                 local side's "ignoreTag": kept under
 *                                 other rules, they are reported again)
 *
 * Never in the index: a whole resend without them deletes nothing on the
 * host (only an index entry is ever deleted there).
 *
 * Ownership: scans are new (sync_scan_free) or borrowed as documented.
 */
#ifndef RDEV_SYNC_ASIDE_H
#define RDEV_SYNC_ASIDE_H

#include "sync-scan.h"

/* The entries kept aside for the index at index_path, and the tag of the
 * local ignore rules they were kept under (tag may be NULL: not wanted;
 * else *tag new, or NULL when none was said): new (empty when there are
 * none; a file that cannot be read is logged, and its entries are then
 * reported again). */
struct sync_scan *sync_aside_load(const char *index_path, char **tag);
/* As sync_aside_load, for a caller that saves the entries again: 0 and a
 * new *out, or -1 with *cause (and *out NULL) when the file exists but
 * cannot be read (saving over it would lose what it holds). */
int sync_aside_read(
    const char *index_path, char **tag, struct sync_scan **out, char **cause);
/* May there be entries kept aside for the index at index_path: 0 only
 * when its file is known to be absent (access(F_OK), nothing read), else 1. */
int sync_aside_maybe(const char *index_path);
/* Keep only aside's entries that now (a scan of the host, in path order)
 * still holds as they were: 1 when some went, else 0. */
int sync_aside_prune(struct sync_scan *aside, const struct sync_scan *now);
/* Save aside, kept under tag (may be NULL: none), as the index at
 * index_path's (the file removed when both are empty). 0, or -1 with
 * *cause (the entries are then reported again). */
int sync_aside_save(
    const char *index_path, const struct sync_scan *aside, const char *tag, char **cause);

#endif
