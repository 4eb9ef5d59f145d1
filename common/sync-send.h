/* sync-send.h - the sending side of the "sync" request (docs/PROTOCOL.md,
 * "sync") on a connection to a host's agent: the manifest of a scan (a
 * whole folder, or a live sync's batch with its "delete" list; inline, or
 * streamed after the request when too long for one message), then the
 * entries the agent asks for as a tar stream on a channel of the
 * connection (a large file the host has a copy of as a block delta against
 * it, sync-blocks.h; one the agent could not rebuild sent again whole), then
 * its outcome. Shared by the client (client/source-send.c,
 * `rdev sync`, `up`) and the broker (broker/broker-sync-batch.c, a sync it keeps).
 *
 * Blocking: the caller's thread waits on the connection.
 *
 * Ownership: everything is borrowed; *folder is new (the caller frees).
 */
#ifndef RDEV_SYNC_SEND_H
#define RDEV_SYNC_SEND_H

#include <stddef.h>

#include <cjson/cJSON.h>

struct proto_conn;
struct sync_scan;

/* The "errorCode" of a sync's CLOSE when the host's disk (or the user's
 * quota there) had no room for a file ("cannot write /home/u/app/x: No
 * space left on device (the host's disk is full)", agent/sync-recv.c):
 * the client puts "on HOST: " before the message, so that it does not read
 * as this machine's (docs/PROTOCOL.md, "sync and its channel"). */
#define SYNC_ERR_HOST_WRITE_FAILED "host-write-failed"

/* How a file changed on the host and replaced by its local version is told
 * (the path is the argument), by the client and by the broker alike. */
#define SYNC_SEND_HOST_CHANGED_FMT \
	"%s was changed on the host since the last sync; the local version replaced it"
/* How an entry deleted here but changed on the host since, so kept there
 * (one way), is told. */
#define SYNC_SEND_HOST_KEPT_FMT \
	"%s was changed on the host since the last sync; deleted here, kept on the host"
/* How the rest of each, beyond those named, are told: "and " when some
 * were named (a string), then how many (long long). */
#define SYNC_SEND_HOST_CHANGED_REST_FMT \
	"%s%lld files changed on the host since the last sync were replaced by " \
	"their local version"
#define SYNC_SEND_HOST_KEPT_REST_FMT \
	"%s%lld entries changed on the host since the last sync were deleted here " \
	"and kept on the host"

/* How the rest of a batch's conflicts (kept), beyond those named, are
 * told: "and " when some were named (a string), then how many (long long). */
#define SYNC_SEND_KEPT_REST_FMT \
	"conflict: %s%lld more changed on both sides: the host's version of each " \
	"saved beside it as NAME.rdev-conflict-*"

/* What an upload or a batch did (the agent's count, and ours). */
struct sync_send_stats {
	long long files;      /* entries in the folder (after .rdevignore) */
	long long sent;	      /* entries sent */
	long long sent_bytes; /* file data sent (a delta's bytes, for one) */
	long long deleted;    /* entries deleted on the host */
	long long skipped;    /* sockets, FIFOs, devices: not sent */
	/* Files changed on the host since a sync wrote them that the client's
	 * version replaced (the agent's "hostChanged"), and, when the caller
	 * set host_changed_paths to an array (borrowed: the caller owns it),
	 * the paths the agent named are appended to it. */
	long long host_changed;
	cJSON *host_changed_paths;
	/* Two-way (keep_host_changes): the host entries of those that the
	 * agent kept under a conflict name beside the local version (its
	 * "keptAs"): conflicts, as a pull's, counted here and not in
	 * host_changed (nor named in host_changed_paths); when the caller set
	 * kept_as to an array (borrowed, as above), each one the agent named
	 * is appended as {"path","as"} (the conflict name, relative to the
	 * folder, as path). An agent older than "keptAs" leaves them in
	 * host_changed. */
	long long kept;
	cJSON *kept_as;
	/* One way: entries deleted here that the host changed since, kept
	 * there (the agent's "hostKept"), and their paths appended to
	 * host_kept_paths when the caller set it (borrowed, as above). */
	long long host_kept;
	cJSON *host_kept_paths;
	/* When the caller set failed to an array (borrowed: the caller owns
	 * it), the agent is asked to fail an entry that cannot land alone
	 * ("entryErrors": the others land), and each such entry is appended
	 * to it as {"path","error"}; failed_count counts them all (more than
	 * listed when the agent cut its list: sync_send_failed_paths). */
	cJSON *failed;
	long long failed_count;
	/* Out: the agent cut its list but named the folders of the rest
	 * ("failedUnder"): each entry of the request at or under one was
	 * appended to failed_under (nfailed_under paths; a plain list, not
	 * failed's objects: a node_modules holds 100k of them), and the
	 * first folder it named kept as failed_under_first (its type here in
	 * failed_under_type, 0 when not in the scan) for the message
	 * (sync_send_note_under), so the whole folder need not go again. Both
	 * new: sync_send_failed_free. failed_unnamed: a whole send's, whose
	 * deletions under a folder still here the agent could not name (one
	 * more whole send, once the rest landed, finds them).
	 * failed_uncovered: a response counted more failures than it listed
	 * and named no usable folder for them (the whole folder goes again);
	 * per response, as a batch can be two requests (sync_send). */
	char **failed_under;
	size_t nfailed_under;
	char *failed_under_first;
	char failed_under_type;
	int failed_unnamed;
	int failed_uncovered;
	/* In, set by the caller: a two-way sync asks the agent to keep such
	 * files as conflict files ("keepHostChanges"). */
	int keep_host_changes;
	/* In (borrowed, may be NULL): a two-way sync's last applied pull
	 * ("pullAck", sync-back.h), committed by the agent first. */
	const char *pull_ack;
	double seconds;
	double connect_seconds; /* of those: connecting to the host (and
				   installing its agent), not the transfer */
	/* Out: sync_send failed because a write on the host did (its CLOSE's
	 * errorCode SYNC_ERR_HOST_WRITE_FAILED): the message is the host's. */
	int host_write_failed;
};

/* Send the "sync" request id for workspace name (the folder root, a local
 * path, read for the files' contents): scan's manifest (del NULL: the whole
 * folder; else a batch, del its ndel deleted paths), then what the agent
 * asks for. The counts are added to *st. 0 (*folder, the host's folder,
 * new, unless folder is NULL), or -1 with *cause. */
int sync_send(struct proto_conn *c, int id, const char *root, const char *name,
    const struct sync_scan *scan, char *const *del, size_t ndel, char **folder,
    struct sync_send_stats *st, char **cause);

/* The agent's "failedUnder" in result (docs/PROTOCOL.md, "sync"): each
 * entry of the request (scan's, and the deletions del, ndel, also one
 * above one of its folders; del NULL: a whole send, whose deletions the
 * agent finds: a folder of the list gone here is added, as a deletion to
 * go again) at or under one of its folders is appended to
 * st->failed_under. Returns
 * 1 so, 0 when result has none or one that is not a path inside the
 * folder (nothing added: the caller sends the whole folder again, as
 * without it), or when st->failed is NULL. Called by sync_send. */
int sync_send_note_under(const cJSON *result, const struct sync_scan *scan,
    char *const *del, size_t ndel, struct sync_send_stats *st);
/* Free st->failed and st->failed_under (and set them NULL); st may hold
 * neither. */
void sync_send_failed_free(struct sync_send_stats *st);
/* The paths of st->failed and st->failed_under, sorted and without duplicates (new:
 * sync_paths_free), *n of them: what to send again (sync_delta_resend). */
char **sync_send_failed_paths(const struct sync_send_stats *st, size_t *n);
/* What to tell of st->failed (and failed_under): the first entry's error,
 * and how many more (new), or NULL when none failed. */
char *sync_send_failed_text(const struct sync_send_stats *st);

#endif
