/* sync-back.h - the local side of a two-way sync (docs/SYNC.md, "Two-way"):
 * ask the host's agent what changed in its copy of the workspace since the
 * last sync ("sync-pull", docs/PROTOCOL.md) and apply it to the local
 * folder. Shared by the client (`rdev sync --watch --two-way`) and the
 * broker (a sync it keeps).
 *
 * sent is what both sides were last known to agree on (the live sync's
 * state of what the host was sent): a local entry that still matches it is
 * replaced by the host's version (a file written to a temporary name in its
 * folder, then renamed: never half-written) or deleted; one that does not
 * (changed locally since: a conflict) is kept, the local version winning
 * (the next batch sends it), and the host's file is saved beside it as
 * NAME.rdev-conflict-YYYYMMDDTHHMMSSZ (UTC; "-2", "-3"... when taken). What
 * is written goes into sent, so the watch's events for it find nothing to
 * send back.
 *
 * Blocking: the caller's thread waits on the connection.
 *
 * Ownership: everything is borrowed; st's strings and array are the
 * caller's to free (sync_back_stats_clear).
 */
#ifndef RDEV_SYNC_BACK_H
#define RDEV_SYNC_BACK_H

#include <cjson/cJSON.h>

struct proto_conn;
struct sync_ignore;
struct sync_scan;

#define SYNC_BACK_CONFLICT ".rdev-conflict-"
/* The most bytes of a name kept in its conflict name (NAME_MAX 255 less
 * the suffix, ".rdev-conflict-YYYYMMDDTHHMMSSZ-NNNNN"). */
#define SYNC_BACK_CONFLICT_LEAF_MAX 200u
/* The most bytes of files one "sync-pull" answer carries, and the biggest
 * file a two-way sync brings back. */
#define SYNC_BACK_MAX_MIB 8u
#define SYNC_BACK_MAX_BYTES (SYNC_BACK_MAX_MIB << 20)

struct sync_back_stats {
	long long pulled;    /* entries written locally */
	long long removed;   /* entries deleted locally */
	long long conflicts; /* conflict files written */
	long long too_large; /* files left on the host (sync-pull's limit) */
	char *last_conflict; /* the last conflict file's path (new) */
	cJSON *lines;	     /* when set (an array): one line per change,
				"pulled PATH", "removed PATH", "conflict
				PATH: the host's version saved as FILE" */
	int more;	     /* the agent has more: ask again */
};

/* One "sync-pull" (request id) of workspace name with flags (SYNC_SCAN_*),
 * applied under root (ig: what the sync leaves out, may be NULL); *sent is
 * updated. *ack (NULL or the caller's string) is the previous answer's id,
 * sent so the agent indexes that answer; replaced by this answer's when
 * it was applied whole, else NULL (the agent reports it again). Counts add
 * to *st. 0, or -1 with *cause (the link, or a local write: what was
 * applied before stays), or -2 with *cause when the agent has no
 * "sync-pull" (too old: asking again cannot help). */
int sync_back(struct proto_conn *c, int id, const char *root, const char *name,
    unsigned flags, const struct sync_ignore *ig, struct sync_scan **sent, char **ack,
    struct sync_back_stats *st, char **cause);
/* Apply answer (a "sync-pull" answer) under root: sync_back without the
 * request. */
int sync_back_answer(const char *root, const cJSON *answer, const struct sync_ignore *ig,
    struct sync_scan **sent, struct sync_back_stats *st, char **cause);
/* A free name for the other side's version of rel (under folder dfd):
 * rel.rdev-conflict-YYYYMMDDTHHMMSSZ, now in UTC ("-2", "-3"... when
 * taken; rel's last component cut to SYNC_BACK_CONFLICT_LEAF_MAX bytes).
 * New. */
char *sync_back_conflict_name(int dfd, const char *rel);
/* Free st's strings and array, zero it. */
void sync_back_stats_clear(struct sync_back_stats *st);

#endif
