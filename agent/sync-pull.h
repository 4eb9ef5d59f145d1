/* sync-pull.h - the host's side of a two-way sync (docs/SYNC.md, "Two-way";
 * docs/PROTOCOL.md, "sync-pull"): what changed in the host's copy of a
 * workspace since a sync last wrote or reported it, with the contents.
 *
 * The host's copy is scanned whole (a stat per entry; a file is read only
 * when its size, mtime or inode differ from the index's) with the ignore
 * files found in it (the local folder's, synced) and compared with the
 * agent's index (sync-index.h): an entry the index lacks or holds otherwise
 * is "put" (a file with its bytes), an entry of the index gone from the
 * host's copy is "dropped". What is reported goes into the index at once,
 * so it is reported once: the index is then the state both sides agree on.
 * The temporary files of a sync being received (".rdev-sync-*") are never
 * reported. A path the local side leaves out ("ignoredHere": its own ignore
 * rules, which the host may not have) is not indexed but kept aside
 * (index_path.aside, with its stat and hash, sync-aside.h) and not reported
 * again until it changes on the host, or the local side's ignore rules
 * change ("ignoreTag"): never a failure reported on every pull.
 *
 * Ownership: *result is new.
 */
#ifndef RDEV_SYNC_PULL_H
#define RDEV_SYNC_PULL_H

#include <cjson/cJSON.h>

#include "sync-back.h"

/* At most SYNC_BACK_MAX_BYTES of file contents and SYNC_PULL_MAX_ENTRIES
 * puts and drops per answer ("more": ask again), so that it stays under
 * PROTO_MAX_PAYLOAD; a bigger file goes in pieces, one per answer, when
 * the request asks for them (sync-piece.h), else, and over
 * SYNC_PIECE_FILE_MAX, it is left on the host ("tooLarge", in each answer:
 * never indexed). */
#define SYNC_PULL_MAX_ENTRIES 1000

/* What the request asks besides its flags. */
struct sync_pull_opts {
	int pieces;		   /* "pieces": big files in pieces ("piece") */
	const cJSON *have;	   /* "piece": where the local side's big file got to */
	const cJSON *not_applied;  /* "notApplied": the acknowledged answer's
				      paths not applied there */
	const cJSON *ignored_here; /* "ignoredHere": paths of the last answer
				      (a put, or the big file in pieces) the
				      local side ignores */
	const char *ignore_tag;	   /* "ignoreTag": the local ignore rules'
				      fingerprint (NULL: an older client) */
};

/* The ack and options of a "sync-pull" request req (borrowed from it):
 * "ack", or "ackExcept" taken only with "notApplied" (and "ignoredHere"
 * when present) an array of strings, else no ack (nothing committed, the
 * answer comes again); "ignoredHere" taken only as an array of strings,
 * "ignoreTag" only as a string of at most 64 bytes. */
void sync_pull_request(const cJSON *req, const char **ack, struct sync_pull_opts *o);

/* The changes of folder since the index at index_path, scanned with flags
 * (SYNC_SCAN_GIT, SYNC_SCAN_GITIGNORE), after committing the previous
 * answer when ack (may be NULL) is its id, with o (may be NULL: no
 * pieces): 0 with *result ({"put":MANIFEST, "data":[BASE64...] (one per
 * file of put, in order),"drop":[PATH...], "tooLarge":[PATH...],
 * "more":BOOL,"notApplied":true,"ignoredHere":true,"asideFailed":TEXT (when
 * what is kept aside could not be saved),"pullId":ID (when put or drop has any,
 * or a last piece), with pieces "maxFileMiB":N and "piece":PIECE (sync-piece.h)}), or -1
 * with *cause. The caller holds the workspace's sync lock. */
int sync_pull_changes(const char *folder, const char *index_path, unsigned flags,
    const char *ack, const struct sync_pull_opts *o, cJSON **result, char **cause);

/* Is paths a list of paths as "notApplied" must be (an array of strings)? */
int sync_pull_paths_ok(const cJSON *paths);

/* Commit the answer named ack (may be NULL: nothing done) into the index
 * at index_path, as the next sync-pull would: a sync request carries it
 * ("pullAck") when it follows a pull. The caller holds the lock. */
void sync_pull_ack(const char *folder, const char *index_path, const char *ack);

#endif
