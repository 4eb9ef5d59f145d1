/* broker-sync.c - the live syncs the broker keeps (broker-sync.h): a
 * sync's life on the loop (its states, its batches begun and ended, start,
 * stop, replace); the other parts are in broker-sync-internal.h. */
#include "broker-sync-internal.h"

#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "error.h"
#include "json-get.h"
#include "log.h"
#include "proto-conn.h"
#include "quote.h"
#include "sync-pace.h"
#include "sync-scan.h"
#include "sync-watch.h"
#include "xmalloc.h"

static void
broker_sync_set_state(struct broker_sync *s, enum broker_sync_state to)
{
	int ok;

	if (s->state == to)
		return;
	switch (s->state) {
	case BROKER_SYNC_SENDING: ok = to != BROKER_SYNC_SENDING; break;
	case BROKER_SYNC_WATCHING: ok = 1; break;
	case BROKER_SYNC_QUEUED: ok = to != BROKER_SYNC_WATCHING; break;
	case BROKER_SYNC_AWAY: ok = to == BROKER_SYNC_QUEUED; break;
	default: ok = 0; break;
	}
	if (!ok)
		fatal("sync %s -> %s: %s -> %s is not a transition", s->path, s->label,
		    broker_sync_state_name(s->state), broker_sync_state_name(to));
	log_debug("sync %s -> %s: %s -> %s", s->path, s->label,
	    broker_sync_state_name(s->state), broker_sync_state_name(to));
	s->state = to;
}

/* The host members of req that name its session (a new object). */
static cJSON *
broker_sync_host(const cJSON *req)
{
	static const char *const names[] = { "host", "user", "port", "sshConfig",
		"knownHosts", "authSock" };
	cJSON *h = cJSON_CreateObject();
	const cJSON *v;

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if ((v = cJSON_GetObjectItemCaseSensitive(req, names[i])) != NULL)
			cJSON_AddItemToObject(h, names[i], cJSON_Duplicate(v, 1));
	return h;
}

/* A sync's identity: the host as its session is named, and the workspace
 * (not authSock: the same host reached with another ssh-agent). New. */
char *
broker_sync_key(const cJSON *req)
{
	const cJSON *port = cJSON_GetObjectItemCaseSensitive(req, "port");
	const char *user = json_get_string(req, "user");
	const char *cfg = json_get_string(req, "sshConfig");
	const char *kh = json_get_string(req, "knownHosts");
	const char *host = json_get_string(req, "host");
	const char *name = json_get_string(req, "name");

	return xasprintf("%s@%s:%d|%s|%s|%s", user != NULL ? user : "",
	    host != NULL ? host : "", cJSON_IsNumber(port) ? port->valueint : 0,
	    cfg != NULL ? cfg : "", kh != NULL ? kh : "", name != NULL ? name : "");
}

struct broker_sync *
broker_sync_find(struct broker_syncs *ss, const char *key)
{
	struct broker_sync *s;

	LIST_FOREACH(s, &ss->syncs, entry)
		if (strcmp(s->key, key) == 0)
			return s;
	return NULL;
}

/* ---- The loop's side ------------------------------------------------------- */

static void
broker_sync_free(struct broker_sync *s)
{
	if (s == NULL)
		return;
	if (s->working) {
		atomic_store(&s->cancel, 1);
		pthread_join(s->thread, NULL);
		s->working = 0;
	}
	if (s->job.connect_fd >= 0)
		close(s->job.connect_fd);
	sync_watch_batch_clear(&s->job.b);
	free(s->job.error);
	cJSON_Delete(s->job.st.host_changed_paths);
	cJSON_Delete(s->job.st.host_kept_paths);
	cJSON_Delete(s->job.st.kept_as);
	sync_back_stats_clear(&s->job.back);
	free(s->host_changed_last);
	free(s->host_kept_last);
	free(s->conflict_last);
	if (s->watch_ev != NULL)
		event_free(s->watch_ev);
	if (s->timer_ev != NULL)
		event_free(s->timer_ev);
	if (s->done_ev != NULL)
		event_free(s->done_ev);
	if (s->done[0] >= 0)
		close(s->done[0]);
	if (s->done[1] >= 0)
		close(s->done[1]);
	sync_watch_free(s->w);
	sync_ignore_free(s->ig);
	sync_scan_free(s->sent);
	sync_back_pull_clear(&s->pull, s->path);
	proto_conn_free(s->conn);
	cJSON_Delete(s->host);
	free(s->key);
	free(s->label);
	free(s->path);
	free(s->name);
	free(s->error);
	free(s->watch_error);
	free(s->failed_told);
	sync_paths_free(s->retry, s->nretry);
	free(s->entry_failed_told);
	sync_send_failed_free(&s->job.st);
	free(s);
}

static void
broker_sync_set_error(struct broker_sync *s, const char *why)
{
	free(s->error);
	s->error = xstrdup(why);
}

/* A batch failed on the link: tried again later, as the whole folder. */
static void
broker_sync_queue(struct broker_sync *s, const char *why)
{
	struct quote_kept k = { 0 };

	broker_sync_set_state(s, BROKER_SYNC_QUEUED);
	broker_sync_set_error(s, why);
	s->resend = 1;
	s->retry_ms = s->retry_ms == 0 ? BROKER_SYNC_RETRY_MIN_MS : s->retry_ms * 2;
	if (s->retry_ms > BROKER_SYNC_RETRY_MAX_MS)
		s->retry_ms = BROKER_SYNC_RETRY_MAX_MS;
	s->retry_at = clock_now_ms() + s->retry_ms;
	/* (a path in why may hold a line break: quoted, one log line) */
	log_warn("sync %s -> %s: %s (queued, tried again in %lld ms)", s->path, s->label,
	    quote_shown(&k, why), s->retry_ms);
	quote_kept_free(&k);
}

/* The watch failed, or the agent is too old: the sync ends here. */
void
broker_sync_fail(struct broker_sync *s, const char *why)
{
	struct quote_kept k = { 0 };

	broker_sync_set_state(s, BROKER_SYNC_ERROR);
	broker_sync_set_error(s, why);
	broker_sync_unwatch(s);
	log_warn("sync %s -> %s: %s (stopped)", s->path, s->label, quote_shown(&k, why));
	quote_kept_free(&k);
}

const char *
broker_sync_not_folder(const char *path)
{
	struct stat sb;

	if (lstat(path, &sb) != 0)
		return errno == ENOENT || errno == ENOTDIR ? "no folder there" : NULL;
	if (S_ISLNK(sb.st_mode))
		return "a symbolic link, not a folder (never followed)";
	return S_ISDIR(sb.st_mode) ? NULL : "not a folder";
}

void
broker_sync_lost(struct broker_sync *s, const char *why, int gone)
{
	struct quote_kept k = { 0 };

	if (!gone && broker_sync_not_folder(s->path) == NULL) {
		broker_sync_fail(s, why);
		return;
	}
	broker_sync_set_state(s, BROKER_SYNC_AWAY);
	free(s->error);
	s->error = xasprintf("%s (the sync resumes when it is back)", why);
	/* (a renamed folder is still watched where it went: never followed
	 * there; the folder back at its path gets a new watch and is sent
	 * whole, what changed meanwhile with it) */
	broker_sync_unwatch(s);
	s->watch_renew = 1;
	s->resend = 1;
	s->retry_ms = 0;
	log_warn("sync %s -> %s: %s (waiting for it to come back)", s->path, s->label,
	    quote_shown(&k, why));
	quote_kept_free(&k);
	broker_sync_kick(s);
}

/* Log each path of paths (a batch's hostKeptPaths when kept, else its
 * hostChangedPaths), keep the last in *last (replaced) for status, and log
 * how many of count were not named. */
static void
broker_sync_note_named(const struct broker_sync *s, const cJSON *paths, long long count,
    int kept, char **last)
{
	const cJSON *p;
	long long named = 0;

	cJSON_ArrayForEach(p, paths) {
		log_warn(kept ? "sync %s -> %s: " SYNC_SEND_HOST_KEPT_FMT
			      : "sync %s -> %s: " SYNC_SEND_HOST_CHANGED_FMT,
		    s->path, s->label, p->valuestring);
		free(*last);
		*last = xstrdup(p->valuestring);
		named++;
	}
	if (count > named)
		log_warn(kept ? "sync %s -> %s: " SYNC_SEND_HOST_KEPT_REST_FMT
			      : "sync %s -> %s: " SYNC_SEND_HOST_CHANGED_REST_FMT,
		    s->path, s->label, named > 0 ? "and " : "", count - named);
}

/* A batch replaced files changed on the host since a sync wrote them, or
 * (one way) kept entries deleted here that the host changed: count them,
 * keep the last one's path for status, and log each named one and how many
 * more (the agent names the first 20: a one-way sync overwrites or keeps,
 * never silently). Two-way, those whose host version the agent kept
 * beside them are conflicts, as a pull's (told the same way: the conflict
 * file comes back at the next pull). */
static void
broker_sync_note_host_changes(struct broker_sync *s, const struct sync_send_stats *st)
{
	const cJSON *k;
	const char *path, *as;
	long long named = 0;

	s->host_changed += st->host_changed;
	broker_sync_note_named(
	    s, st->host_changed_paths, st->host_changed, 0, &s->host_changed_last);
	s->host_kept += st->host_kept;
	broker_sync_note_named(
	    s, st->host_kept_paths, st->host_kept, 1, &s->host_kept_last);
	s->conflicts += st->kept;
	cJSON_ArrayForEach(k, st->kept_as) {
		path = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(k, "path"));
		as = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(k, "as"));
		log_warn("sync %s -> %s: " SYNC_BACK_CONFLICT_FMT, s->path, s->label,
		    path, as);
		free(s->conflict_last);
		s->conflict_last = xstrdup(as);
		named++;
	}
	if (st->kept > named)
		log_warn("sync %s -> %s: " SYNC_SEND_KEPT_REST_FMT, s->path, s->label,
		    named > 0 ? "and " : "", st->kept - named);
}

/* A two-way batch's changes from the host: counted, logged (a conflict,
 * and what is left on the host because ignored here, as a warning), the
 * last conflict file kept for status. */
static void
broker_sync_note_back(struct broker_sync *s, struct sync_back_stats *b)
{
	const cJSON *l;
	char *aside;

	s->pulled += b->pulled;
	s->removed += b->removed;
	s->conflicts += b->conflicts;
	cJSON_ArrayForEach(l, b->lines) {
		if (strncmp(l->valuestring, "conflict ", 9) == 0 ||
		    strncmp(l->valuestring, "ignored here", 12) == 0)
			log_warn("sync %s <- %s: %s", s->path, s->label, l->valuestring);
		else
			log_info("sync %s <- %s: %s", s->path, s->label, l->valuestring);
	}
	if (b->last_conflict != NULL) {
		free(s->conflict_last);
		s->conflict_last = b->last_conflict;
		b->last_conflict = NULL;
	}
	/* (every answer lists them: logged when their count changes) */
	if (b->too_large > 0 && b->too_large != s->too_large_told) {
		char *text = sync_back_too_large_text(b);

		log_warn("sync %s <- %s: %s", s->path, s->label, text);
		free(text);
	}
	s->too_large_told = b->too_large;
	if (sync_back_failed_news(b, &s->failed_told))
		log_warn("sync %s <- %s: %s (tried again at the next pull)", s->path,
		    s->label, b->failed_text);
	if (sync_back_aside_failed_news(b, &s->aside_failed_told, &aside))
		log_warn("sync %s <- %s: %s", s->path, s->label, aside);
	free(aside);
}

/* A batch whose entries could not all land on the host (the others
 * did): the first one's error is the sync's lastError, logged when it is
 * news (not at each try), and they go again with the next batch, which
 * comes after a backoff if no change comes first. */
static void
broker_sync_note_failed(struct broker_sync *s, const struct sync_send_stats *st)
{
	char *text = sync_send_failed_text(st);
	int carried = s->job.retry_due || s->job.all_sent;

	if (text == NULL) {
		if (s->nretry > 0 && s->entry_failed_told != NULL) {
			/* (some still wait for their backoff) */
			free(s->error);
			s->error =
			    xasprintf("%s (tried again later)", s->entry_failed_told);
			return;
		}
		free(s->entry_failed_told);
		s->entry_failed_told = NULL;
		s->retry_entries_ms = 0;
		return;
	}
	if (s->entry_failed_told == NULL || strcmp(s->entry_failed_told, text) != 0)
		log_warn(
		    "sync %s -> %s: %s (tried again later)", s->path, s->label, text);
	free(s->entry_failed_told);
	s->entry_failed_told = xstrdup(text);
	free(s->error);
	s->error = xasprintf("%s (tried again later)", text);
	free(text);
	/* (a batch that did not carry them leaves their backoff alone: a
	 * local change does not put off the retry) */
	if (carried || s->retry_entries_ms == 0) {
		s->retry_entries_ms = s->retry_entries_ms == 0 ? BROKER_SYNC_RETRY_MIN_MS
							       : s->retry_entries_ms * 2;
		if (s->retry_entries_ms > s->ss->retry_max_ms)
			s->retry_entries_ms = s->ss->retry_max_ms;
		s->retry_entries_at = clock_now_ms() + s->retry_entries_ms;
	}
	if (s->resend)
		s->retry_at = s->retry_entries_at; /* (not at once, in a loop) */
}

/* Begin a batch: take what changed and run it in a thread. */
static void
broker_sync_begin(struct broker_sync *s)
{
	struct broker_sync_job *j = &s->job;
	char *cause = NULL;
	int sv[2];

	sync_watch_batch_clear(&j->b);
	free(j->error);
	cJSON_Delete(j->st.host_changed_paths);
	cJSON_Delete(j->st.host_kept_paths);
	cJSON_Delete(j->st.kept_as);
	sync_send_failed_free(&j->st);
	sync_back_stats_clear(&j->back);
	memset(j, 0, sizeof *j);
	j->connect_fd = -1;
	j->st.host_changed_paths = cJSON_CreateArray();
	j->st.host_kept_paths = cJSON_CreateArray();
	j->st.kept_as = cJSON_CreateArray();
	j->st.failed = cJSON_CreateArray();
	j->st.keep_host_changes = (s->flags & SYNC_SCAN_TWO_WAY) != 0;
	j->back.lines = cJSON_CreateArray();
	if (s->w != NULL)
		sync_watch_take(s->w, &j->b);
	s->first = s->last = 0;
	s->reread |= j->b.ignore_changed;
	j->setup = s->w == NULL || s->reread;
	/* (a batch the retry's timer began is always due: it sends them) */
	j->retry_due = s->nretry > 0 && clock_now_ms() >= s->retry_entries_at;
	if (s->resend)
		j->b.all = 1; /* (a rescan: what changed while it could not send) */
	if (s->conn == NULL) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
			cause = xasprintf("socketpair: %s", strerror(errno));
			broker_sync_queue(s, cause);
			free(cause);
			return;
		}
		if (s->ss->submit(
			s->ss->arg, s->host, sv[1], BROKER_SYNC_AGENT_ID, &cause) != 0) {
			close(sv[0]);
			close(sv[1]);
			error_prefix(&cause, "host %s", s->label);
			broker_sync_queue(s, cause);
			free(cause);
			return;
		}
		/* (non-blocking: a write waits at most the idle limit) */
		if (fcntl(sv[0], F_SETFL, O_NONBLOCK) != 0)
			log_warn("sync %s: %s", s->path, strerror(errno));
		j->connect_fd = sv[0];
	}
	if (j->setup && s->watch_ev != NULL)
		event_del(s->watch_ev); /* (the thread's until it ends) */
	broker_sync_set_state(s, BROKER_SYNC_SENDING);
	if (pthread_create(&s->thread, NULL, broker_sync_work, s) != 0)
		fatal("sync %s: pthread_create failed", s->path);
	s->working = 1;
}

/* A stopped sync whose batch has ended goes. */
static void
broker_sync_on_reap(evutil_socket_t fd, short what, void *arg)
{
	struct broker_sync *s = arg, *next = broker_sync_find(s->ss, s->key);

	LIST_REMOVE(s, entry);
	broker_sync_free(s);
	if (next != NULL)
		broker_sync_kick(next); /* (it waited for this batch to end) */
}

/* The batch's thread ended: take its outcome, and go on. */
static void
broker_sync_on_done(evutil_socket_t fd, short what, void *arg)
{
	struct broker_sync *s = arg;
	struct broker_sync_job *j = &s->job;
	char b;

	if (read(fd, &b, 1) != 1 || !s->working)
		return;
	pthread_join(s->thread, NULL);
	s->working = 0;
	if (s->dead) {
		/* (freed after this pass of the loop, not in its own callback) */
		event_del(s->done_ev);
		event_base_once(s->ss->base, -1, EV_TIMEOUT, broker_sync_on_reap, s,
		    &(struct timeval){ 0, 0 });
		return;
	}
	if (j->setup && s->w != NULL) {
		broker_sync_watch_resume(s); /* (the watch is the loop's again) */
		s->reread = 0;
	}
	s->batches++;
	s->files_sent += j->st.sent;
	s->bytes_sent += j->st.sent_bytes;
	s->deleted += j->st.deleted;
	/* (before note_back clears j->back) */
	s->pull_pause = sync_pace_pause_ms(s->ss->pull_ms, j->pull_ms, j->back.more);
	broker_sync_note_back(s, &j->back);
	/* (after: the batch's send came after its pulls, and its conflicts) */
	broker_sync_note_host_changes(s, &j->st);
	s->batch_end = clock_now_ms();
	if (j->changes > 0 || j->back.pulled > 0 || j->back.removed > 0 ||
	    j->back.conflicts > 0 || j->st.kept > 0)
		s->last_change = time(NULL);
	if (s->watch_error != NULL) {
		/* (what the batch sent is counted; the watch is lost) */
		char *why = s->watch_error;

		s->watch_error = NULL;
		broker_sync_lost(s, why, s->watch_gone);
		free(why);
		return;
	}
	if (j->rc == -2) {
		/* (the folder gone under the scan: away too; its watch, when it
		 * has one, says so even if a folder is back already) */
		int gone = j->gone;
		char *ignored = NULL;

		if (!gone && s->w != NULL) {
			gone = sync_watch_read(s->w, &ignored) == -2;
			free(ignored);
		}
		broker_sync_lost(s, j->error != NULL ? j->error : "scan failed", gone);
		return;
	}
	if (j->rc != 0) {
		broker_sync_queue(s, j->error != NULL ? j->error : "the send failed");
		broker_sync_kick(s);
		return;
	}
	if (j->st.sent > 0 || j->st.deleted > 0)
		log_info(
		    "sync %s -> %s: %zu changes, %lld sent (%lld bytes), %lld deleted, "
		    "%lld ms",
		    s->path, s->label, j->changes, j->st.sent, j->st.sent_bytes,
		    j->st.deleted, j->ms);
	free(s->error);
	/* (a file the pulls could not write here stays the error) */
	s->error = s->failed_told != NULL ? xstrdup(s->failed_told) : NULL;
	s->retry_ms = 0;
	broker_sync_note_failed(s, &j->st);
	broker_sync_set_state(s, BROKER_SYNC_WATCHING);
	broker_sync_kick(s);
}

/* Does s replace a sync of the same host and workspace whose batch still
 * runs? Then s waits for it to end (broker_sync_on_reap): one writer to the
 * host's copy at a time. */
static int
broker_sync_replacing(const struct broker_sync *s)
{
	const struct broker_sync *old;

	LIST_FOREACH(old, &s->ss->dying, entry)
		if (strcmp(old->key, s->key) == 0)
			return 1;
	return 0;
}

/* What now: a batch when one is due, else the timer set for when it is. */
void
broker_sync_kick(struct broker_sync *s)
{
	long long now = clock_now_ms(), due = -1;
	struct timeval tv;

	if (s->working || s->dead || s->state == BROKER_SYNC_ERROR ||
	    broker_sync_replacing(s))
		return;
	if (s->state == BROKER_SYNC_AWAY) {
		const char *why = broker_sync_not_folder(s->path);

		if (why != NULL) {
			/* (a link or a file there: said, still waiting) */
			if (strcmp(why, "no folder there") != 0) {
				free(s->error);
				s->error = xasprintf("%s: %s (the sync resumes when "
						     "a folder is back)",
				    s->path, why);
			}
			tv.tv_sec = 0;
			tv.tv_usec = BROKER_SYNC_AWAY_MS * 1000;
			evtimer_add(s->timer_ev, &tv);
			return;
		}
		log_info("sync %s -> %s: the folder is back: sending it whole once it "
			 "is quiet",
		    s->path, s->label);
		broker_sync_set_state(s, BROKER_SYNC_QUEUED);
		s->retry_at = now;
		s->settle = 1;
	}
	if (s->resend)
		due = s->retry_at; /* (what changed meanwhile goes with it) */
	else if (s->w != NULL && sync_watch_pending(s->w)) {
		due = s->last + BROKER_SYNC_QUIET_MS;
		if (due > s->first + BROKER_SYNC_MAX_MS)
			due = s->first + BROKER_SYNC_MAX_MS;
	} else if ((s->flags & SYNC_SCAN_TWO_WAY) && s->w != NULL &&
	    s->state == BROKER_SYNC_WATCHING)
		due = s->batch_end + s->pull_pause; /* the host's changes */
	/* (entries that could not land: tried again) */
	if (!s->resend && s->nretry > 0 && s->w != NULL &&
	    (due < 0 || s->retry_entries_at < due))
		due = s->retry_entries_at;
	if (due < 0)
		return;
	if (due <= now) {
		broker_sync_begin(s);
		if (!s->working && s->state == BROKER_SYNC_QUEUED)
			broker_sync_kick(s); /* (the retry's timer) */
		return;
	}
	tv.tv_sec = (due - now) / 1000;
	tv.tv_usec = ((due - now) % 1000) * 1000;
	evtimer_add(s->timer_ev, &tv);
}

static void
broker_sync_on_timer(evutil_socket_t fd, short what, void *arg)
{
	broker_sync_kick(arg);
}

/* A new sync (not listed yet): watch the folder and send it whole first. 0,
 * or -1 with *cause. */
int
broker_sync_new(struct broker_syncs *ss, const cJSON *req, int restored,
    struct broker_sync **out, char **cause)
{
	const char *path = json_get_string(req, "path");
	const char *name = json_get_string(req, "name");
	const char *label = json_get_string(req, "label");
	const char *host = json_get_string(req, "host");
	const cJSON *flags = cJSON_GetObjectItemCaseSensitive(req, "flags");
	struct broker_sync *s;
	const char *away;

	if (host == NULL || path == NULL || name == NULL || path[0] != '/')
		return error_set(cause,
		    "a sync needs a host, a workspace name and an "
		    "absolute local folder");
	/* (the client names the folder itself, links resolved) */
	if ((away = broker_sync_not_folder(path)) != NULL && !restored)
		return error_set(cause, "%s: %s", path, away);
	s = xcalloc(1, sizeof *s);
	s->ss = ss;
	/* (the base pause until a pull's cost sets it: not due at once) */
	s->pull_pause = ss->pull_ms;
	s->state = BROKER_SYNC_SENDING;
	s->done[0] = s->done[1] = -1;
	s->job.connect_fd = -1;
	s->key = broker_sync_key(req);
	s->host = broker_sync_host(req);
	s->label = xstrdup(label != NULL ? label : host);
	s->path = xstrdup(path);
	s->name = xstrdup(name);
	s->flags = cJSON_IsNumber(flags) ? (unsigned)flags->valueint : 0;
	s->sent = xcalloc(1, sizeof *s->sent);
	if (pipe2(s->done, O_CLOEXEC | O_NONBLOCK) != 0) {
		/* (before the free: s->label is the sync's) */
		error_set_errno(cause, errno, "sync of %s to %s: pipe", path, s->label);
		broker_sync_free(s);
		return -1;
	}
	/* (the ignore files and the watch: in the first batch's thread) */
	s->timer_ev = evtimer_new(ss->base, broker_sync_on_timer, s);
	s->done_ev =
	    event_new(ss->base, s->done[0], EV_READ | EV_PERSIST, broker_sync_on_done, s);
	event_add(s->done_ev, NULL);
	/* The first batch: the whole folder, as its manifest (what changed
	 * since the upload, or while no broker ran). */
	s->state = BROKER_SYNC_QUEUED;
	s->resend = 1;
	s->retry_at = clock_now_ms();
	if (away != NULL) {
		/* (saved while away, or gone while no broker ran: waited for) */
		s->state = BROKER_SYNC_AWAY;
		s->error = xasprintf(
		    "%s: %s (the sync resumes when a folder is back)", path, away);
		log_warn("sync %s -> %s: %s: waiting for it", path, s->label, away);
	}
	*out = s;
	return 0;
}

/* ---- The API ----------------------------------------------------------------- */

struct broker_syncs *
broker_syncs_new(struct event_base *base, const char *state_path,
    broker_sync_submit_fn submit, void *arg)
{
	struct broker_syncs *ss = xcalloc(1, sizeof *ss);

	ss->base = base;
	ss->state_path = xstrdup(state_path);
	ss->submit = submit;
	ss->arg = arg;
	ss->idle_ms = clock_env_ms("RDEV_SYNC_IDLE_MS", BROKER_SYNC_IDLE_MS);
	ss->pull_ms = clock_env_ms("RDEV_SYNC_PULL_MS", BROKER_SYNC_PULL_MS);
	/* (lowers the cap only: between the first backoff and the default) */
	ss->retry_max_ms =
	    clock_env_ms("RDEV_SYNC_RETRY_MAX_MS", BROKER_SYNC_RETRY_MAX_MS);
	if (ss->retry_max_ms < BROKER_SYNC_RETRY_MIN_MS)
		ss->retry_max_ms = BROKER_SYNC_RETRY_MIN_MS;
	if (ss->retry_max_ms > BROKER_SYNC_RETRY_MAX_MS)
		ss->retry_max_ms = BROKER_SYNC_RETRY_MAX_MS;
	LIST_INIT(&ss->syncs);
	LIST_INIT(&ss->dying);
	return ss;
}

void
broker_syncs_free(struct broker_syncs *ss)
{
	struct broker_sync *s;

	if (ss == NULL)
		return;
	while ((s = LIST_FIRST(&ss->syncs)) != NULL) {
		LIST_REMOVE(s, entry);
		broker_sync_free(s);
	}
	while ((s = LIST_FIRST(&ss->dying)) != NULL) {
		LIST_REMOVE(s, entry);
		broker_sync_free(s);
	}
	free(ss->state_path);
	free(ss);
}

/* Stop s: freed now, or when its batch ends. */
static void
broker_sync_stop(struct broker_sync *s)
{
	LIST_REMOVE(s, entry);
	if (!s->working) {
		broker_sync_free(s);
		return;
	}
	s->dead = 1;
	atomic_store(&s->cancel, 1);
	if (s->watch_ev != NULL)
		event_del(s->watch_ev); /* (the watch goes with s: the thread may
					   be setting it up) */
	evtimer_del(s->timer_ev);
	LIST_INSERT_HEAD(&s->ss->dying, s, entry);
}

void
broker_sync_add(struct broker_syncs *ss, struct broker_sync *s)
{
	struct broker_sync *old = broker_sync_find(ss, s->key);

	if (old != NULL)
		broker_sync_stop(old);
	LIST_INSERT_HEAD(&ss->syncs, s, entry);
	log_info("sync %s -> %s (%s): started", s->path, s->label, s->name);
	broker_sync_kick(s);
}

int
broker_syncs_start(
    struct broker_syncs *ss, const cJSON *req, cJSON **result, char **cause)
{
	struct broker_sync *s;

	*result = NULL;
	if (broker_sync_new(ss, req, 0, &s, cause) != 0)
		return -1;
	broker_sync_add(ss, s);
	broker_syncs_save(ss);
	*result = cJSON_CreateObject();
	cJSON_AddItemToObject(*result, "sync", broker_syncs_status(ss, req));
	return 0;
}

int
broker_syncs_stop(struct broker_syncs *ss, const cJSON *req, cJSON **result)
{
	char *key = broker_sync_key(req);
	struct broker_sync *s = broker_sync_find(ss, key);

	free(key);
	if (s != NULL) {
		log_info("sync %s -> %s: stopped", s->path, s->label);
		broker_sync_stop(s);
		broker_syncs_save(ss);
	}
	*result = cJSON_CreateObject();
	cJSON_AddBoolToObject(*result, "stopped", s != NULL);
	return 0;
}
