/* broker-sync.h - the live syncs the broker keeps (`rdev up HOST: ./app
 * --sync`): a local folder's changes sent to its copy on a host while the
 * environment is up, until `rdev down` or `rdev sync --stop` (docs/SYNC.md).
 *
 * Each sync watches its folder (common/sync-watch.h) from the broker's
 * event loop: the inotify descriptor and the batch timer (50 ms of quiet,
 * at most 1 s after the first change) are events of the loop. A batch's
 * work, the scan of what changed and its sending over the host's agent
 * session (common/sync-send.h, the code the client uses), blocks on the disk
 * and on the link, so it runs in a thread made for that batch and joined
 * when it ends (at most one per sync, none while a sync is idle): a slow
 * hash, or a host whose link is frozen, never stalls the loop or the other
 * syncs. So does the walk of the whole tree that reads the ignore files and
 * sets up the watch (the first batch, and one after an ignore file changed):
 * a sync is "watching" once that is done. The connection to the agent is a
 * socketpair handed to the host's session as a client's "agent" request:
 * the session the broker holds, no new SSH login per batch; it is kept from
 * one batch to the next. A batch whose connection moves nothing for 60 s (a
 * hung agent) fails. A sync that replaces one whose batch still runs waits
 * for that batch: one writer to the host's copy at a time.
 *
 * Nothing is lost: a batch that fails (the link dropped, the agent ended)
 * leaves the sync "queued"; it is tried again with backoff (0.25 s up to
 * 5 s) as the whole folder's manifest, so the agent sends for what differs
 * and applies the deletions made meanwhile. The syncs are saved in
 * RUNTIME/syncs.json (BROKER_SYNC_STATE_NAME, 0600, replaced atomically at
 * each start and stop); a new broker resumes them with a full rescan.
 *
 *   {"version":1,"syncs":[{"host":{"host","user","port","sshConfig",
 *     "knownHosts","authSock"},"path":P,"name":N,"flags":F,"label":L}]}
 *
 * Ownership: struct broker_syncs owns its syncs, their watches, threads
 * and connections; requests and results are the caller's. Main thread
 * only (a batch's thread touches only its sync, as broker-sync-internal.h
 * says, which the loop leaves alone until it has joined it).
 */
#ifndef RDEV_BROKER_SYNC_H
#define RDEV_BROKER_SYNC_H

#include <cjson/cJSON.h>

#define BROKER_SYNC_STATE_NAME "syncs.json"

struct event_base;
struct broker_syncs;

/* Hand fd (one end of a socketpair, taken on success) to the session of
 * host (a request's host members) as a client's "agent" request number id.
 * 0, or -1 with *cause. */
typedef int (*broker_sync_submit_fn)(
    void *arg, const cJSON *host, int fd, int id, char **cause);

/* The syncs of a broker, saved at state_path; submit reaches the hosts. */
struct broker_syncs *broker_syncs_new(struct event_base *base, const char *state_path,
    broker_sync_submit_fn submit, void *arg);
/* Stop every sync (waiting for their batches), keep the saved file. */
void broker_syncs_free(struct broker_syncs *ss);
/* Start the syncs saved by an earlier broker (each with a full rescan);
 * problems are logged. */
void broker_syncs_restore(struct broker_syncs *ss);
/* "sync-start" {host...,"path","name","flags","label"}: watch path (a
 * local folder, absolute) and send its changes to the workspace name on
 * host, replacing a sync of the same folder and host. 0 with *result
 * ({"sync":STATUS}), or -1 with *cause (naming the folder). */
int broker_syncs_start(
    struct broker_syncs *ss, const cJSON *req, cJSON **result, char **cause);
/* "sync-stop" {host...,"name"}: stop that sync. 0 with *result
 * ({"stopped":BOOL}). */
int broker_syncs_stop(struct broker_syncs *ss, const cJSON *req, cJSON **result);
/* "sync-status" {host...,"name"}: {"sync":STATUS} or {"sync":null}; req
 * NULL: every sync, as an array of STATUS: {"host","path","name","state":
 * "watching|sending|queued|away|error","folders","files","sent","sentBytes",
 * "deleted","batches","lastChange","lastError"}. New. */
cJSON *broker_syncs_status(struct broker_syncs *ss, const cJSON *req);
/* Forget the saved syncs (`rdev-broker stop --forget`). */
void broker_syncs_forget(struct broker_syncs *ss);

#endif
