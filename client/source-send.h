/* source-send.h - a SOURCE's workspace on a remote host (common/source.h):
 * upload a local folder (the client's side of the "sync" request,
 * docs/PROTOCOL.md), clone or fetch a git URL there, or just ask where it
 * is.
 *
 * An upload is one-way: the host's copy becomes the local folder's (minus
 * .rdevignore's paths); files an earlier upload wrote and the folder no
 * longer has are deleted there; files made on the host are left alone.
 * Only what differs is sent (the agent compares content hashes).
 *
 * Ownership: the remote is borrowed; folders returned are new strings.
 */
#ifndef RDEV_SOURCE_SEND_H
#define RDEV_SOURCE_SEND_H

#include <cjson/cJSON.h>

#include "source.h"
#include "sync-send.h"

struct remote;

/* What an upload did (the agent's count, and ours): sync-send.h's. */
#define source_send_stats sync_send_stats

struct sync_scan;

/* How to send. */
struct source_send_opts {
	int quiet;		 /* no line on stderr */
	int json_log;		 /* the line as a --log-format json one */
	int hold;		 /* up's, build's, upgrade's: the warnings as
				    their others (-q holds them, an error shows
				    them; JSON log lines with json_log); else
				    printed as they come (sync's) */
	unsigned scan_flags;	 /* SYNC_SCAN_* (sync-scan.h) */
	struct sync_scan **scan; /* not NULL: the scan uploaded (new; the
				    caller frees), for a live sync to go on */
	int entry_errors;	 /* an entry that cannot land fails alone
				    ("entryErrors"): the rest lands, and
				    st->failed lists it (a new array: the
				    caller frees), for a live sync to send
				    again; else the upload fails */
	int keep_host_changes;	 /* a two-way sync follows: a host file
				    changed since the last sync is kept
				    as NAME.rdev-conflict-* beside the one
				    sent ("keepHostChanges"), for its first
				    pull to bring here: not replaced */
};

/* Put s's workspace on r's host: upload (SOURCE_LOCAL) or clone/fetch
 * (SOURCE_GIT), with a line on stderr of what was done unless o->quiet, and
 * a warning for each file changed on the host that the upload replaced. 0
 * with *folder (the host's folder; new) and *st filled (st may be NULL), or
 * -1 with *cause. */
int source_send(struct remote *r, const struct source *s,
    const struct source_send_opts *o, char **folder, struct source_send_stats *st,
    char **cause);
/* The whole of scan, as an upload does (the host's copy becomes scan; what
 * an earlier sync wrote and scan lacks is deleted): a live sync's catch-up
 * after the link came back. 0 with *st, or -1 with *cause. */
int source_send_full(struct remote *r, const struct source *s,
    const struct sync_scan *scan, struct source_send_stats *st, char **cause);
/* One batch of a live sync of s (SOURCE_LOCAL, uploaded before): changed
 * holds the entries that are new or changed, del (ndel paths; may be NULL
 * when 0) what was deleted; nothing else on the host is touched. The
 * agent still compares: what it has already is not sent. 0 with *st, or
 * -1 with *cause. */
int source_send_batch(struct remote *r, const struct source *s,
    const struct sync_scan *changed, char *const *del, size_t ndel,
    struct source_send_stats *st, char **cause);
/* Warn on stderr of each file st says was changed on host since the last
 * sync and replaced by its local version (st->host_changed_paths, then a
 * count of the rest), and of each entry deleted here but kept on the host
 * because changed there (st->host_kept_paths): a one-way sync overwrites
 * or keeps, but never silently. Two-way, tell each conflict whose host
 * version the agent kept beside it (st->kept_as), as a pull's. Printed as
 * they come (sync's; -q does not hold them). */
void source_send_warn_host_changes(const char *host, const struct source_send_stats *st);
/* Where s's workspace is on r's host, without sending anything. 0 with
 * *folder (new) and *exists, or -1 with *cause. */
int source_folder(
    struct remote *r, const struct source *s, char **folder, int *exists, char **cause);
/* The folders this machine uploaded to host (each upload records its
 * folder and the hosts it went to beside the client's cache,
 * STATE/sources/NAME.from) that are gone here now (moved, renamed or
 * deleted since), the max most recently recorded: their host folder names
 * in *names and those folders in *origins, *n of each (new arrays of new
 * strings: source_gone_free). Never fails: no record, none. */
void source_gone(const char *host, size_t max, char ***names, char ***origins, size_t *n);
void source_gone_free(char **names, char **origins, size_t n);
/* Drop host from NAME's record (its folder there is gone too); the record
 * goes with its last host. Best effort. */
void source_gone_forget(const char *name, const char *host);
/* st as JSON (`rdev sync --json`). New object. */
cJSON *source_send_stats_json(const struct source_send_stats *st, const char *folder);

#endif
