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
/* How a conflict whose host version was saved beside the local one is
 * told (the path, then the conflict file's), by a pull and, two-way, for
 * what a send kept on the host (sync-send.h, kept_as) alike. */
#define SYNC_BACK_CONFLICT_FMT "conflict %s: the host's version saved as %s"
/* The most bytes of a name kept in its conflict name (NAME_MAX 255 less
 * the suffix, ".rdev-conflict-YYYYMMDDTHHMMSSZ-NNNNN"). */
#define SYNC_BACK_CONFLICT_LEAF_MAX 200u
/* The most bytes of files one "sync-pull" answer carries: a bigger file
 * comes in pieces (the agent's limit: "maxFileMiB"), or not at all from an
 * agent without them. */
#define SYNC_BACK_MAX_MIB 8u
#define SYNC_BACK_MAX_BYTES (SYNC_BACK_MAX_MIB << 20)

struct sync_back_stats {
	long long pulled;	/* entries written locally */
	long long removed;	/* entries deleted locally */
	long long conflicts;	/* conflict files written */
	long long too_large;	/* files left on the host (sync-pull's limit; the
				   most an answer named) */
	char *too_large_path;	/* the first of them (new) */
	unsigned too_large_mib; /* that limit, MiB */
	char *last_conflict;	/* the last conflict file's path (new) */
	cJSON *lines;		/* when set (an array): one line per change,
				   "pulled PATH", "removed PATH", "conflict
				   PATH: the host's version saved as FILE" */
	long long failed;	/* files not written here (a local error: told,
				   tried again at a later pull) */
	char *failed_text;	/* the last of them: "ROOT/PATH: ERRNO TEXT" (new) */
	int more;		/* the agent has more: ask again (not after a
				   file failed here: at the next pull) */
	int partial;		/* the last answer was not applied whole (a big
				   file's bytes not the host's): not
				   acknowledged, its changes come again */
	cJSON *not_applied;	/* when partial, the paths not applied (an
				   array) */
	cJSON *ignored_here;	/* the paths this answer brought that the
				   local ignore rules leave out (an array;
				   to an agent that takes "ignoredHere":
				   not reported again until they change) */
	char *aside_failed;	/* the agent could not keep them aside: why
				   (new; they are reported at each pull) */
	long long mode_kept;	/* of conflicts, modes changed on both sides:
				   the local one kept, sent says the host's,
				   so the caller's next scan must cover the
				   path for it to go (it may have no event) */
};

/* What a two-way sync's pulls keep from one to the next (the caller's,
 * zeroed at first; sync_back_pull_clear). */
struct sync_back_pull {
	char *ack;	/* the last answer applied whole: to acknowledge */
	char *ack_some; /* or applied but for not_applied's paths (an
			   array; to an agent that takes "notApplied":
			   acknowledged so by the next pull, never by a
			   send) */
	cJSON *not_applied;
	cJSON *ignored_here; /* paths ignored here, told at the next pull */
	char *piece_path;    /* a big file coming in pieces: its path, */
	char *piece_version; /* the host's version of it (the agent's token;
				"" when it failed here: the agent goes on
				with the next big file), */
	char *piece_tmp;     /* its temporary file (relative to the root), */
	long long piece_off; /* and the bytes written there */
	/* Set by the caller (borrowed, sorted by sync_path_cmp; may be
	 * NULL): the entries that could not land on the host at the last
	 * send (sync_send_failed_paths), still to go again. What sent says
	 * of them is what was sent, not what the host has: a host change to
	 * one is a conflict (the local version kept), a host delete of one
	 * leaves it here. */
	char *const *retry;
	size_t nretry;
};

/* The "sync-pull" request id of workspace name with flags (SYNC_SCAN_*)
 * and pull's state: its acknowledgement of the last answer and the paths
 * ignored here (taken from pull: sent once), where its big file got to,
 * and the tag of ig (the local ignore rules, may be NULL: none;
 * "ignoreTag": under other rules, what the agent kept aside comes again).
 * New. */
cJSON *sync_back_request(struct sync_back_pull *pull, int id, const char *name,
    unsigned flags, const struct sync_ignore *ig);
/* One "sync-pull" (request id) of workspace name with flags (SYNC_SCAN_*),
 * applied under root (ig: what the sync leaves out, may be NULL); *sent is
 * updated. pull->ack (NULL or the caller's string) is the previous
 * answer's id, sent so the agent indexes that answer; replaced by this
 * answer's when it was applied whole, else NULL (the agent reports it
 * again). A big file's piece is written to its temporary file
 * (".rdev-back-*"), renamed into place at the last piece when whole and
 * its hash the host's; pull says how far it got. A file that cannot be
 * written here (ENOSPC, EACCES...) fails alone: counted in st->failed,
 * its temporary file removed, the others applied; it comes again at a
 * later pull (that answer not acknowledged; a big file goes after the
 * other big files). An entry ig leaves out is not applied: to an agent
 * that takes "ignoredHere" it is named so (st->ignored_here, told once:
 * the agent keeps it aside until it changes on the host), else it is not
 * applied (reported again). Counts add to *st. 0, or -1 with *cause (the link, a
 * malformed answer, the root not opened: what was applied before stays),
 * or -2 with *cause when the agent has no "sync-pull" (too old:
 * asking again cannot help). */
int sync_back(struct proto_conn *c, int id, const char *root, const char *name,
    unsigned flags, const struct sync_ignore *ig, struct sync_scan **sent,
    struct sync_back_pull *pull, struct sync_back_stats *st, char **cause);
/* Apply answer (a "sync-pull" answer) under root: sync_back without the
 * request (pull may be NULL: a piece is ignored). */
int sync_back_answer(const char *root, const cJSON *answer, const struct sync_ignore *ig,
    struct sync_scan **sent, struct sync_back_pull *pull, struct sync_back_stats *st,
    char **cause);
/* After answer (a "sync-pull" answer, applied with st): its "pullId" into
 * pull->ack when applied whole, else into pull->ack_some with
 * st->not_applied (taken) when the agent takes "notApplied";
 * st->ignored_here (taken) into pull->ignored_here. */
void sync_back_answered(
    struct sync_back_pull *pull, const cJSON *answer, struct sync_back_stats *st);
/* Free pull's strings, its big file's temporary file removed (under root;
 * may be NULL: left), zero it. */
void sync_back_pull_clear(struct sync_back_pull *pull, const char *root);
/* A free name for the other side's version of rel (under folder dfd):
 * rel.rdev-conflict-YYYYMMDDTHHMMSSZ, now in UTC ("-2", "-3"... when
 * taken; rel's last component cut to SYNC_BACK_CONFLICT_LEAF_MAX bytes).
 * New. */
char *sync_back_conflict_name(int dfd, const char *rel);
/* The warning for st's files left on the host (st->too_large > 0), naming
 * the first: "PATH: too large for two-way sync (over N MiB), left on the
 * host". New. */
char *sync_back_too_large_text(const struct sync_back_stats *st);
/* Is st's failed file (st->failed_text) news, not the one last told
 * (*told: NULL or the caller's string, replaced by it; freed when the pulls
 * had no failure: told again when it comes back)? */
int sync_back_failed_news(const struct sync_back_stats *st, char **told);
/* Is st's "asideFailed" (the agent could not keep what is ignored here
 * aside) news, not told at the last pulls (*told: the caller's, 0 at
 * first; updated)? Then *text is the warning (new). */
int sync_back_aside_failed_news(const struct sync_back_stats *st, int *told, char **text);
/* Free st's strings and array, zero it. */
void sync_back_stats_clear(struct sync_back_stats *st);

#endif
