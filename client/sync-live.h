/* sync-live.h - `rdev sync --watch HOST: ./app`: after the upload, keep the
 * host's copy in step with the local folder, in the foreground.
 *
 * The folder is watched (sync-watch.h); changes are gathered until the tree
 * has been quiet for SYNC_LIVE_QUIET_MS (at most SYNC_LIVE_MAX_MS after the
 * first), then the changed paths are scanned again and compared with what
 * the host was sent (sync-delta.h), and what differs goes as one batch of
 * the "sync" request over the host's agent session (source-send.h): the
 * session the broker holds, so no new login per change. Each change is
 * printed on out as "created PATH" ("modified", "deleted", "renamed FROM ->
 * PATH"), or with json one object per batch.
 *
 * A batch that cannot be sent (the link dropped) is not lost: the loop
 * reconnects with backoff and sends the whole folder's manifest (the agent
 * sends back only what differs), then goes on. SIGHUP asks for a full
 * rescan; SIGINT and SIGTERM end it (0).
 *
 * Ownership: everything is borrowed; *state is taken (freed at the end).
 */
#ifndef RDEV_SYNC_LIVE_H
#define RDEV_SYNC_LIVE_H

#include <stdio.h>

struct remote;
struct source;
struct sync_scan;
struct sync_send_stats;

#define SYNC_LIVE_QUIET_MS 50
#define SYNC_LIVE_MAX_MS 1000

struct sync_live_opts {
	unsigned scan_flags; /* SYNC_SCAN_* */
	int json;	     /* one JSON object per batch on out */
	FILE *out;	     /* the changes */
	const char *host;    /* for messages */
	/* The upload before the watch (may be NULL): the entries that could
	 * not land then (its failed, failed_count) go again, as a batch's. */
	const struct sync_send_stats *first;
};

/* Watch s->path and send its changes to r's host until a signal ends it.
 * state: the folder as uploaded (taken). 0 when ended by a signal, or -1
 * with *cause (the folder went away, inotify failed). */
int sync_live_run(struct remote *r, const struct source *s, struct sync_scan *state,
    const struct sync_live_opts *o, char **cause);

#endif
