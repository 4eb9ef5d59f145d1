/* broker-sync-internal.h - what the modules of the broker's live syncs
 * (broker-sync.h) share:
 *
 *   broker-sync.c         a sync's life: its states, its batches begun and
 *                         ended on the loop, start, stop, replace
 *   broker-sync-batch.c   a batch's thread: the ignore files and the watch
 *                         set up, the scan, the send over the agent
 *                         connection (which it opens)
 *   broker-sync-watch.c   the loop's side of the watch: inotify's events
 *   broker-sync-state.c   the saved syncs (RUNTIME/syncs.json), resumed
 *   broker-sync-status.c  the status JSON
 *
 * Ownership: struct broker_syncs owns its syncs (in syncs, or in dying while
 * the batch of a stopped one ends); a sync owns its watch, ignore patterns,
 * scan state, events, thread and connection. Main thread only, but for the
 * batch's thread, which owns the job, the scan state (sent, resend) and the
 * connection while it runs (working), and the watch and the patterns too
 * when the job sets them up (job.setup: the loop's watch event is off
 * meanwhile); the loop takes them back after joining it.
 */
#ifndef RDEV_BROKER_SYNC_INTERNAL_H
#define RDEV_BROKER_SYNC_INTERNAL_H

#include <stdatomic.h>
#include <sys/queue.h>

#include <pthread.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <event2/event.h>

#include "broker-sync.h"
#include "sync-back.h"
#include "sync-send.h"
#include "sync-watch.h"

/* Changes are gathered until the folder is quiet this long, at most the
 * second after the first (as `rdev sync --watch`, client/sync-live.h). */
#define BROKER_SYNC_QUIET_MS 50
#define BROKER_SYNC_MAX_MS 1000
/* Backoff between tries after a batch failed. */
#define BROKER_SYNC_RETRY_MIN_MS 250
#define BROKER_SYNC_RETRY_MAX_MS 5000
/* How often a sync whose folder went away looks for it again. */
#define BROKER_SYNC_AWAY_MS 500
/* The folder back, it is sent once no change was seen in it for this long
 * (a clone or an unpack still filling it is not sent half there: the host's
 * files not in it would be deleted), or after the most (a folder always
 * changing). */
#define BROKER_SYNC_SETTLE_MS 1000
#define BROKER_SYNC_SETTLE_MAX_MS 10000
#define BROKER_SYNC_SETTLE_SLICE_MS 100
/* The request id of the "agent" request that opens a connection. */
#define BROKER_SYNC_AGENT_ID 1
/* How long the host's session may take to give us its agent. */
#define BROKER_SYNC_CONNECT_MS 60000
/* A batch whose connection moves nothing this long fails (a hung agent, a
 * link lost without the session knowing): the sync is queued and tried
 * again. Long, because the agent sends nothing while it hashes files whose
 * stat changed, waits for the workspace's lock or syncfs()s. Counted from
 * the agent's HELLO (the connect has BROKER_SYNC_CONNECT_MS).
 * $RDEV_SYNC_IDLE_MS sets it (tests). */
#define BROKER_SYNC_IDLE_MS 300000
/* A two-way sync asks the host for its changes this long after the last
 * batch ended, or longer after a slow pull (sync-pace.h; docs/SYNC.md,
 * "Two-way"). $RDEV_SYNC_PULL_MS sets it. */
#define BROKER_SYNC_PULL_MS 1000
/* At most this many "sync-pull" answers per batch (each up to
 * SYNC_PULL_MAX_BYTES of files): the rest in the next batch. */
#define BROKER_SYNC_PULL_MAX 8

/* A sync's life, through broker_sync_set_state:
 *
 *   sending  -> watching (sent), queued (failed: tried again), away, error
 *   watching -> sending, queued (no connection to begin with), away, error
 *   queued   -> sending, away, error
 *   away     -> queued (the folder is back: sent whole, watched anew)
 *
 * away: the local folder went (removed, or renamed away); it is looked for
 * every BROKER_SYNC_AWAY_MS. error (inotify failed, an agent too old) is
 * the end: the sync stays listed, with its error, until stopped. A new
 * sync starts in sending (its first batch is the whole folder). */
enum broker_sync_state {
	BROKER_SYNC_SENDING,
	BROKER_SYNC_WATCHING,
	BROKER_SYNC_QUEUED,
	BROKER_SYNC_AWAY,
	BROKER_SYNC_ERROR,
};

/* One batch, handed to its thread and back. */
struct broker_sync_job {
	struct sync_watch_batch b; /* what changed (b.all: everything) */
	int connect_fd;		   /* >= 0: a new connection to answer first */
	/* Read the ignore files (again), and watch the folder (s->w NULL) or
	 * watch what they let in: the loop leaves s->w and s->ig alone. */
	int setup;
	/* The entries that could not land go with this batch (their backoff
	 * ended); else they stay for later, not sent with every batch. */
	int retry_due;
	/* out */
	int all_sent;	/* the whole folder went (every retry with it) */
	size_t retry_n; /* entries still to go again */
	int rc;		/* 0 sent (or nothing to send), -1 failed, -2 fatal */
	int gone;	/* -2: the folder is not there, or not a folder */
	char *error;
	struct sync_send_stats st;
	struct sync_back_stats back; /* two-way: what came from the host */
	size_t changes;		     /* of the folder, found by the scan */
	long long ms;
	long long pull_ms; /* two-way: the last "sync-pull", to its answer applied */
};

struct broker_sync {
	struct broker_syncs *ss;
	enum broker_sync_state state;
	char *key;   /* the host and the workspace: the sync's identity */
	cJSON *host; /* the host members of the request */
	char *label; /* the host as typed, for messages */
	char *path;  /* the local folder, absolute */
	char *name;  /* the workspace's name on the host (source.h) */
	unsigned flags;
	struct sync_ignore *ig;
	struct sync_watch *w;
	struct event *watch_ev, *timer_ev, *done_ev;
	int done[2]; /* the batch's thread writes a byte when it ends */
	long long first, last;
	long long retry_at, retry_ms;
	int dead;	   /* stopped while its batch runs: freed when it ends */
	char *watch_error; /* the watch failed while a batch ran */
	int watch_gone;	   /* ... because the folder went away */
	int watch_renew;   /* watch_ev is of a watch since freed (away) */
	int reread;	   /* the ignore files changed: read them again */
	int settle;	   /* back from away: wait for the folder to be quiet */
	/* Set by the loop when s is stopped or freed: the batch's thread ends
	 * its wait for the folder to be quiet (broker_sync_settle) at once. */
	atomic_int cancel;
	/* The batch's thread's while it runs, the loop's otherwise. */
	pthread_t thread;
	int working;
	struct broker_sync_job job;
	struct sync_scan *sent; /* what the host was sent (or is to get) */
	int resend;		/* the next batch is the whole folder */
	/* A send began and did not end with every entry landed or named
	 * (the link dropped, failures the agent did not name): sent may hold
	 * versions the host never got, which a pull would take as the
	 * host's. Cleared by the whole send that follows. Not set by a batch
	 * that failed before it sent (its connect, its pull): a resumed
	 * sync's retries pull first too, as its first batch does. */
	int sent_unsure;
	/* The last pull failed (the link, or the agent refused it: a host
	 * folder its user cannot read, the host's copy gone): the whole send
	 * that follows goes without one, so that a pull that fails every time
	 * does not hold back the local changes. Cleared by a pull that ends. */
	int pull_failed;
	/* The whole folder once retry is empty (a whole send's failures
	 * named by folder: its deletions under them, not named, go then). */
	int resend_landed;
	/* Entries that could not land on the host (sorted; the batch's
	 * thread's while it runs, as sent), sent again with the next batch:
	 * one due at retry_entries_at (backoff) if no change comes first. */
	char **retry;
	size_t nretry;
	long long retry_entries_at, retry_entries_ms;
	char *entry_failed_told;    /* the entry failures last logged */
	struct sync_back_pull pull; /* two-way: what pulls keep (sync-back.h) */
	struct proto_conn *conn;
	int next_id;
	/* For status. */
	long long files_sent, bytes_sent, deleted, batches;
	/* Files changed on the host since a sync wrote them that a batch
	 * replaced with the local version, and the last one's path. */
	long long host_changed;
	char *host_changed_last;
	/* One way: entries deleted here that the host changed since, kept
	 * there, and the last one's path. */
	long long host_kept;
	char *host_kept_last;
	/* Two-way: files written here from the host, deleted here, conflict
	 * files written (and the last one's path); when the last batch ended. */
	long long pulled, removed, conflicts;
	char *conflict_last;
	long long too_large_told; /* the too-large count last logged */
	int aside_failed_told;	  /* the agent's "asideFailed" was logged */
	char *failed_told;	  /* two-way: a file not written here, last
				     logged (its error: lastError) */
	long long batch_end;
	long long pull_pause; /* the next idle pull: this long after batch_end */
	time_t last_change;
	char *error;
	LIST_ENTRY(broker_sync) entry;
};
LIST_HEAD(broker_sync_list, broker_sync);

struct broker_syncs {
	struct event_base *base;
	char *state_path;
	broker_sync_submit_fn submit;
	void *arg;
	int idle_ms; /* BROKER_SYNC_IDLE_MS */
	int pull_ms; /* BROKER_SYNC_PULL_MS */
	/* The longest backoff of entries that could not land
	 * (BROKER_SYNC_RETRY_MAX_MS; $RDEV_SYNC_RETRY_MAX_MS, for tests: so
	 * an entry made landable lands within it) */
	int retry_max_ms;
	struct broker_sync_list syncs;
	struct broker_sync_list dying; /* stopped, their batch still running */
};

/* broker-sync.c */
/* A sync's identity, from a request's members (new). */
char *broker_sync_key(const cJSON *req);
struct broker_sync *broker_sync_find(struct broker_syncs *ss, const char *key);
/* A new sync of req (not listed yet): 0, or -1 with *cause. restored: a
 * saved sync whose folder is not there (or not a folder) is made away,
 * waiting for it, not refused. */
int broker_sync_new(struct broker_syncs *ss, const cJSON *req, int restored,
    struct broker_sync **out, char **cause);
/* Why path is not a live sync's folder (a static string), or NULL when it
 * is one. Never follows a symbolic link (the watch does not). */
const char *broker_sync_not_folder(const char *path);
/* List s (replacing a sync of the same key) and begin its first batch. */
void broker_sync_add(struct broker_syncs *ss, struct broker_sync *s);
/* What now: a batch when one is due, else the timer set for when it is. */
void broker_sync_kick(struct broker_sync *s);
/* The sync ends in error (why, copied): no more batches. */
void broker_sync_fail(struct broker_sync *s, const char *why);
/* The watch or a batch failed (why, copied): when the folder went away
 * (gone: the watch or the batch said so; else it is no folder now), the
 * sync waits for it to come back (away); else it ends in error. */
void broker_sync_lost(struct broker_sync *s, const char *why, int gone);

/* broker-sync-batch.c: the thread of s's batch (s->job). */
void *broker_sync_work(void *arg);

/* broker-sync-watch.c */
void broker_sync_watch_resume(struct broker_sync *s);
void broker_sync_unwatch(struct broker_sync *s);

/* broker-sync-state.c: save the syncs listed (none: the file goes). */
void broker_syncs_save(struct broker_syncs *ss);

/* broker-sync-status.c */
const char *broker_sync_state_name(enum broker_sync_state st);

#endif
