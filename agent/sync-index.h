/* sync-index.h - the agent's index of what syncs wrote into a workspace
 * (sync-recv.h): each entry's type, mode, and for a file the hash, size,
 * mtime and inode of what was written.
 *
 * Kept as a base and a journal, so that a live sync's batch (a few files
 * of a tree of 100,000) costs a line, not the whole index:
 *
 *   STATE/sync/NAME.json          {"folder":F,"gen":G,"files":MANIFEST}
 *   STATE/sync/NAME.json.journal  {"gen":G,"put":MANIFEST,"drop":[PATH...]}
 *                                 one line per batch, appended and
 *                                 fdatasync'ed
 *
 * (MANIFEST as sync_scan_manifest with the stat fields.) A whole sync, a
 * journal grown past max(256 KiB, half the base) or one found damaged
 * writes the base again (atomically, gen + 1) and removes the journal;
 * journal lines of another gen (a crash between the two) are ignored. A
 * line cut short by a crash is ignored with what follows: the index then
 * lacks entries, which a later sync hashes again (and only an entry of the
 * index is ever deleted on the host).
 *
 * Files kept beside the index hold entries in its form: a MANIFEST with
 * the stat fields, or {"tag":T,"files":MANIFEST} (sync_index_manifest_read
 * and _write):
 *
 *   STATE/sync/NAME.json.aside    entries the local side leaves out
 *                                 (sync-aside.h), with a tag
 *   STATE/sync/NAME.json.piece    the big file a two-way sync is sending
 *                                 in pieces (sync-pull.c), one entry
 *
 * Ownership: struct sync_index is the caller's. sync_index_load's *out
 * and sync_index_manifest_read's scan are new (sync_scan_free), its *tag
 * new (free); every other scan and entry given is borrowed for the call.
 */
#ifndef RDEV_SYNC_INDEX_H
#define RDEV_SYNC_INDEX_H

#include <stddef.h>

#include "sync-scan.h"

/* The most bytes of an index file read (and of a file kept beside it). */
#define SYNC_INDEX_MAX (256u << 20)

/* What was read of an index, for its next save. */
struct sync_index {
	unsigned long long gen;
	size_t base_len, journal_len;
	int journal_bad; /* a line could not be read: rewrite the base */
};

/* Read the index at path (and its journal): 0 and *out (new, sorted), or
 * -1 when there is none or the base cannot be read (then *out is an empty
 * scan and *ix zeroed: the first sync). */
int sync_index_load(const char *path, struct sync_index *ix, struct sync_scan **out);
/* Do a and b (both in path order) hold the same entries? */
int sync_index_same(const struct sync_scan *a, const struct sync_scan *b);
/* Save idx (in path order; its entries are borrowed) as the index at path
 * of folder, old being what sync_index_load read (ix): appended to the
 * journal as the difference unless whole (a whole sync) or the journal is
 * due for a rewrite. Failures are logged (the next sync hashes again). */
void sync_index_save(const char *path, const char *folder, struct sync_index *ix,
    const struct sync_scan *old, const struct sync_scan *idx, int whole);

/* The entries (with stat) in the file at path (at most max bytes; a
 * MANIFEST, or {"tag":T,"files":MANIFEST}) and its tag (tag may be NULL:
 * not wanted; else *tag new, or NULL): new, or NULL when there is none,
 * or with *cause when it cannot be read or is damaged. */
struct sync_scan *sync_index_manifest_read(
    const char *path, size_t max, char **tag, char **cause);
/* Write s's entries (with stat), with tag (may be NULL), to path
 * atomically; the file removed when s is NULL or empty and tag NULL. 0,
 * or -1 with *cause. */
int sync_index_manifest_write(
    const char *path, const struct sync_scan *s, const char *tag, char **cause);

/* Do a (the index's) and b (the host's) differ in what a sync carries
 * (type; a file's hash and mode; a link's target), stat aside? */
int sync_entry_differ(const struct sync_entry *a, const struct sync_entry *b);
/* Are a and b (either may be NULL: absent) the same entry, as
 * sync_entry_differ sees them? */
int sync_entry_same(const struct sync_entry *a, const struct sync_entry *b);

#endif
