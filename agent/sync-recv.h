/* sync-recv.h - the host's side of a sync (docs/PROTOCOL.md, "sync"): compare
 * the client's manifest with the host's copy of the folder, say which
 * entries must come, take them as a tar stream, and delete what the client
 * no longer has.
 *
 * The host's copy may be changed by anyone meanwhile (the container, the
 * user), so the agent trusts its index (what it wrote: each file's hash,
 * size, mtime and inode, in STATE/sync/NAME.json) only for a file whose
 * size, mtime and inode still agree, and hashes the file again otherwise.
 * Deletion is of what the index says an earlier sync wrote and the manifest
 * no longer lists: files made on the host (build output) are left alone, and
 * so is what the host changed since (kept, out of the index; one way, named
 * in the result's "hostKept").
 *
 * Safety: every path is checked (sync_path_ok), every folder on the way is
 * opened with O_NOFOLLOW from the folder's own descriptor (so a symlink in
 * the host's copy, or one the stream itself made, never leads out of it),
 * and each file and link is written to a temporary name in its folder and
 * renamed over the old one: a stream that breaks leaves every file old or
 * new, never half-written. Entries the agent did not ask for, and types
 * other than file, folder and symlink, are refused.
 *
 * Ownership: struct sync_recv borrows want (which must outlive it).
 */
#ifndef RDEV_SYNC_RECV_H
#define RDEV_SYNC_RECV_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "sync-scan.h"

struct sync_recv;

/* Make folder if needed and compare the manifest's files and links with
 * it (its folders are made at the first feed, or at finish: what is in
 * their way is kept as sync_recv_keep_host_changes says, which comes
 * after). index_path: the index file (read if there, written by
 * finish/free). 0 with *out and *need (a new array of the paths to send,
 * in order), or -1 with *cause. */
int sync_recv_open(const char *folder, const char *index_path,
    const struct sync_scan *want, struct sync_recv **out, cJSON **need, char **cause);
/* The block hashes of the needed files that are, on the host, regular
 * files of at least SYNC_BLOCKS_MIN bytes (docs/PROTOCOL.md, "Deltas"):
 * [{"need":K,"size":N,"hashes":BASE64},...] (new), K the file's position
 * in need. A file whose blocks were offered may then come as a delta
 * (before feed). The array printed takes at most max bytes (and at most
 * 8 MiB): a file whose entry would not fit is not offered (nor read). */
cJSON *sync_recv_blocks(struct sync_recv *r, size_t max);
/* The bytes a blocks entry of a host file of size bytes takes, printed. */
size_t sync_recv_blocks_len(unsigned long long size);
/* Make r a batch of a live sync (before feed): want lists only what
 * changed, so nothing else is deleted; what the client deleted is del
 * (ndel paths, each checked with sync_path_ok; taken: r frees them), and
 * of those, as of a whole sync, only what the index says an earlier sync
 * wrote (and what is under it) is deleted. The index keeps the rest. */
void sync_recv_partial(struct sync_recv *r, char **del, size_t ndel);
/* Two-way (before feed): a file changed on the host since a sync wrote it,
 * or one the index lacks whose bytes differ from what comes (kept aside by
 * sync-pull, or made on both sides), is kept as NAME.rdev-conflict-TIME
 * (sync_back_conflict_name), a hard link made just before the client's
 * version is renamed over it: the next "sync-pull" brings it back to the
 * client. So is such a file where a folder or symlink comes (moved there
 * when the link cannot be made, or a folder comes), and a host symlink the
 * index lacks or holds otherwise where anything comes (moved, never
 * followed). Without this call, only what was kept aside is kept so. With
 * or without it, a host folder where a file or symlink comes, holding
 * anything the index lacks or holds otherwise (made or changed on the
 * host), is moved to that name whole (never over anything), not deleted,
 * and named in "hostChanged". If the host's version cannot be kept, nothing
 * replaces it and the entry fails (the error names it), alone with
 * sync_recv_entry_errors, else with the stream. */
void sync_recv_keep_host_changes(struct sync_recv *r);
/* An entry that cannot land (before feed; the sender asked, "entryErrors")
 * fails alone, not the stream: a host version in its way that cannot be
 * kept (then nothing replaces it), a folder it cannot be made in (another
 * user's: the error names that folder and its owner), a full disk... Its
 * temporary file is removed, the index keeps what it had for it, the
 * other entries land, and the result names it ("failed"). Without this
 * call, the stream ends at the first such entry, with its error. Entries
 * the agent did not ask for, or not as announced, always end it. */
void sync_recv_entry_errors(struct sync_recv *r);
/* After feed or finish failed: did it fail because the host's disk or the
 * user's quota there is full (ENOSPC, EDQUOT: "cannot write PATH: ...")?
 * The answer says so with "errorCode":"host-write-failed", which the
 * client decides on (it names the host), never the message's words. */
int sync_recv_host_write_failed(const struct sync_recv *r);
/* The next bytes of the tar stream. 0, or -1 with *cause (then give up). */
int sync_recv_feed(struct sync_recv *r, const void *p, size_t len, char **cause);
/* The stream ended: check it was whole, delete what the client no longer
 * has, write the index. 0 with *result ({"folder","files","received",
 * "bytes","deleted"}, "hostChanged"/"hostChangedPaths" and, one way,
 * "hostKept"/"hostKeptPaths" when there are any, "deltaFailed" when a delta
 * did not make the file, "failed":[{"path","error"}] (at most 1,000;
 * fewer with $RDEV_SYNC_FAILED_MAX, for tests) and "failedCount" when
 * entries could not land, and "failedUnder" (sync-cover.h) naming the
 * folders of those not listed; new), or -1 with *cause. */
int sync_recv_finish(struct sync_recv *r, cJSON **result, char **cause);
/* Free r; if not finished, remove the file being written and write the
 * index of what is on disk now (so the next sync sends only the rest). */
void sync_recv_free(struct sync_recv *r);

#endif
