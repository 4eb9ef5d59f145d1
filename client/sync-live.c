/* sync-live.c - `rdev sync --watch`: a live one-way sync in the foreground
 * (sync-live.h). */
#include "sync-live.h"

#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "clock.h"
#include "error.h"
#include "quote.h"
#include "remote.h"
#include "source-send.h"
#include "sync-back.h"
#include "sync-back-sweep.h"
#include "sync-delta.h"
#include "sync-pace.h"
#include "sync-scan.h"
#include "sync-watch.h"
#include "xmalloc.h"

/* Backoff between tries to send after the link dropped. */
#define SYNC_LIVE_RETRY_MIN_MS 250
#define SYNC_LIVE_RETRY_MAX_MS 5000

static volatile sig_atomic_t sync_live_stop;
static volatile sig_atomic_t sync_live_rescan;

static void
sync_live_on_signal(int sig)
{
	if (sig == SIGHUP)
		sync_live_rescan = 1;
	else
		sync_live_stop = 1;
}

/* The live loop's state. */
struct sync_live {
	struct remote *r;
	const struct source *s;
	const struct sync_live_opts *o;
	struct sync_ignore *ig;
	struct sync_watch *w;
	struct sync_scan *state; /* what the host was sent (or is to get) */
	int resend;		 /* a batch was lost: send the whole manifest */
	int resend_landed;	 /* ... once retry is empty (sync_live_note_failed) */
	int link_lost;		 /* ... because the link failed (told "back") */
	int was_quiet;		 /* the remote's quiet before (link_lost: its
				    reconnects say nothing, remote_set_quiet) */
	char *lost_told;	 /* link_lost: the failure last told */
	long long retry_at, retry_ms;
	long long pull_due;	    /* two-way: when to ask the host next (idle) */
	struct sync_back_pull pull; /* two-way: what pulls keep (sync-back.h) */
	long long too_large_told;   /* two-way: the too-large count last warned of */
	char *failed_told;	    /* two-way: the file error last told */
	int aside_failed_told;	    /* two-way: the agent's "asideFailed" told */
	/* Entries that could not land on the host (sorted), sent again with
	 * the next batch, one due at retry_entries_at if no change comes
	 * first; the failure last told. */
	char **retry;
	size_t nretry;
	long long retry_entries_at, retry_entries_ms;
	char *entry_failed_told;
	/* their longest backoff: SYNC_LIVE_RETRY_MAX_MS, or
	 * $RDEV_SYNC_RETRY_MAX_MS (for tests) */
	long long retry_max_ms;
};

/* Two-way: ask the host for its changes this long after the last pull
 * ended, or longer after a slow one (sync-pace.h; docs/SYNC.md). */
#define SYNC_LIVE_PULL_MS 1000

static void
sync_live_print(struct sync_live *l, const struct sync_delta *d,
    const struct source_send_stats *st, int rescan, long long ms, const char *error)
{
	cJSON *o, *a, *c;
	char *text;

	if (!l->o->json) {
		for (size_t i = 0; i < d->n; i++) {
			if (d->v[i].kind == SYNC_CHANGE_RENAMED)
				fprintf(l->o->out, "renamed %s -> %s\n", d->v[i].from,
				    d->v[i].path);
			else
				fprintf(l->o->out, "%s %s\n",
				    sync_change_kind_name(d->v[i].kind), d->v[i].path);
		}
		fflush(l->o->out);
		return;
	}
	o = cJSON_CreateObject();
	a = cJSON_AddArrayToObject(o, "changes");
	for (size_t i = 0; i < d->n; i++) {
		char t[2] = { d->v[i].type, '\0' };

		c = cJSON_CreateObject();
		cJSON_AddStringToObject(c, "change", sync_change_kind_name(d->v[i].kind));
		cJSON_AddStringToObject(c, "type", t);
		cJSON_AddStringToObject(c, "path", d->v[i].path);
		if (d->v[i].from != NULL)
			cJSON_AddStringToObject(c, "from", d->v[i].from);
		cJSON_AddItemToArray(a, c);
	}
	cJSON_AddBoolToObject(o, "rescan", rescan);
	cJSON_AddNumberToObject(o, "sent", (double)st->sent);
	cJSON_AddNumberToObject(o, "sentBytes", (double)st->sent_bytes);
	cJSON_AddNumberToObject(o, "deleted", (double)st->deleted);
	cJSON_AddNumberToObject(o, "hostChanged", (double)st->host_changed);
	cJSON_AddNumberToObject(o, "hostKept", (double)st->host_kept);
	if (st->kept > 0) /* (two-way: conflicts the agent kept) */
		cJSON_AddNumberToObject(o, "conflicts", (double)st->kept);
	cJSON_AddNumberToObject(o, "ms", (double)ms);
	if (error != NULL)
		cJSON_AddStringToObject(o, "error", error);
	text = cJSON_PrintUnformatted(o);
	fprintf(l->o->out, "%s\n", text);
	fflush(l->o->out);
	free(text);
	cJSON_Delete(o);
}

/* The link dropped (or the agent refused): reconnect later and send the
 * whole manifest then. Told once per outage and cause: the tries to
 * reconnect that fail as the one before say nothing (each said the loss
 * again, and "connecting to host (reconnecting)"), one that fails
 * otherwise (the host key changed, the login refused) is told;
 * "back" (sync_live_resend) ends it. */
static void
sync_live_failed(struct sync_live *l, char *cause)
{
	if (!l->link_lost)
		l->was_quiet = remote_set_quiet(l->r, 1);
	if (l->lost_told == NULL || strcmp(l->lost_told, cause) != 0) {
		fprintf(
		    stderr, "rdev: sync: %s: %s (will send again)\n", l->o->host, cause);
		free(l->lost_told);
		l->lost_told = cause;
	} else
		free(cause);
	remote_reset(l->r);
	l->resend = 1;
	l->link_lost = 1;
	l->retry_ms = l->retry_ms == 0
	    ? SYNC_LIVE_RETRY_MIN_MS
	    : (l->retry_ms * 2 > SYNC_LIVE_RETRY_MAX_MS ? SYNC_LIVE_RETRY_MAX_MS
							: l->retry_ms * 2);
	l->retry_at = clock_now_ms() + l->retry_ms;
}

/* What a batch's send said of entries that could not land on the host
 * (the others did): told on stderr when it is news, and those entries go
 * again with the next batch (all of them, whole, when the agent neither
 * listed them all nor named their folders), after a backoff if no change
 * comes first. */
static void
sync_live_note_failed(
    struct sync_live *l, const struct source_send_stats *st, const struct sync_delta *d)
{
	char *text = sync_send_failed_text(st);
	size_t nf;
	char **failed = sync_send_failed_paths(st, &nf), **next;
	size_t n = nf;

	/* (d: a batch that did not carry the earlier ones, their retry not
	 * due: they stay, with what it failed) */
	next = d == NULL ? failed
			 : sync_delta_retry_keep(d, l->retry, l->nretry, failed, nf, &n);
	sync_paths_free(l->retry, l->nretry);
	l->retry = next;
	l->nretry = n;
	/* (two-way: the pulls take none of them as on the host) */
	l->pull.retry = l->retry;
	l->pull.nretry = l->nretry;
	/* (a whole send's deletions under a folder the agent named, not
	 * named themselves: one more whole send, once the rest landed) */
	if (st->failed_unnamed)
		l->resend_landed = 1;
	else if (l->resend_landed && l->nretry == 0) {
		l->resend_landed = 0;
		l->resend = 1;
		l->retry_at = clock_now_ms();
	}
	if (st->failed_uncovered) {
		l->resend = 1; /* (the agent did not list them all) */
		/* (when: the entries' backoff below; an answer that listed
		 * none has none: the longest) */
		l->retry_at = clock_now_ms() + l->retry_max_ms;
	}
	if (text == NULL) {
		if (l->nretry > 0)
			return; /* (some still wait for their backoff) */
		free(l->entry_failed_told);
		l->entry_failed_told = NULL;
		l->retry_entries_ms = 0;
		return;
	}
	if (l->entry_failed_told == NULL || strcmp(l->entry_failed_told, text) != 0)
		fprintf(
		    stderr, "rdev: sync: %s: %s (tried again later)\n", l->o->host, text);
	free(l->entry_failed_told);
	l->entry_failed_told = text;
	/* (a batch that did not carry them leaves their backoff alone: a
	 * local change does not put off the retry) */
	if (d == NULL || l->retry_entries_ms == 0) {
		l->retry_entries_ms = l->retry_entries_ms == 0 ? SYNC_LIVE_RETRY_MIN_MS
							       : l->retry_entries_ms * 2;
		if (l->retry_entries_ms > l->retry_max_ms)
			l->retry_entries_ms = l->retry_max_ms;
		l->retry_entries_at = clock_now_ms() + l->retry_entries_ms;
	}
	if (st->failed_uncovered)
		l->retry_at = l->retry_entries_at;
}

/* Send the whole state (after a failure): the agent takes what differs. */
static void
sync_live_resend(struct sync_live *l)
{
	struct source_send_stats st = { .host_changed_paths = cJSON_CreateArray(),
		.host_kept_paths = cJSON_CreateArray(),
		.kept_as = cJSON_CreateArray(),
		.failed = cJSON_CreateArray(),
		.keep_host_changes = (l->o->scan_flags & SYNC_SCAN_TWO_WAY) != 0,
		.pull_ack = l->pull.ack };
	char *cause = NULL;
	int rc = source_send_full(l->r, l->s, l->state, &st, &cause);

	free(l->pull.ack); /* (sent: committed, or reported again) */
	l->pull.ack = NULL;
	if (rc != 0) {
		cJSON_Delete(st.host_changed_paths);
		cJSON_Delete(st.host_kept_paths);
		cJSON_Delete(st.kept_as);
		sync_send_failed_free(&st);
		sync_live_failed(l, cause);
		return;
	}
	source_send_warn_host_changes(l->o->host, &st);
	cJSON_Delete(st.host_changed_paths);
	cJSON_Delete(st.host_kept_paths);
	cJSON_Delete(st.kept_as);
	l->resend = 0;
	l->retry_ms = 0;
	/* (a whole send looks for the deletions a folder hid: none are left
	 * unless it says so, failed_unnamed) */
	l->resend_landed = 0;
	sync_live_note_failed(l, &st, NULL);
	sync_send_failed_free(&st);
	/* (not after a failed list the agent cut: the link never went) */
	if (l->link_lost) {
		fprintf(stderr, "rdev: sync: %s: back: %lld %s sent again (%lld bytes)\n",
		    l->o->host, st.sent, st.sent == 1 ? "entry" : "entries",
		    st.sent_bytes);
		remote_set_quiet(l->r, l->was_quiet);
	}
	l->link_lost = 0;
	free(l->lost_told);
	l->lost_told = NULL;
}

/* Two-way: the host's changes, applied here (sync-back.h); each printed
 * on out ("pulled PATH", "removed PATH"), a conflict on stderr. 0, or -1
 * with *cause (the link: tried again as the batch's send is), or -2 (an
 * agent too old: sync_back). */
static int
sync_live_pull(struct sync_live *l, char **cause)
{
	struct sync_back_stats st = { .lines = cJSON_CreateArray() };
	const cJSON *line;
	char *aside;
	long long t0;
	int rc, n = 0;

	l->pull_due = clock_now_ms() + SYNC_LIVE_PULL_MS; /* (when it fails) */
	if (remote_connect(l->r, cause) != 0) {
		sync_back_stats_clear(&st);
		return -1;
	}
	do {
		t0 = clock_now_ms();
		rc = sync_back(remote_conn(l->r), remote_next_id(l->r), l->s->path,
		    l->s->name, l->o->scan_flags, l->ig, &l->state, &l->pull, &st, cause);
	} while (rc == 0 && st.more && ++n < 8);
	if (rc == 0) {
		long long end = clock_now_ms();

		l->pull_due =
		    end + sync_pace_pause_ms(SYNC_LIVE_PULL_MS, end - t0, st.more);
	}
	cJSON_ArrayForEach(line, st.lines) {
		if (strncmp(line->valuestring, "conflict ", 9) == 0)
			fprintf(stderr, "rdev: sync: %s: %s\n", l->o->host,
			    line->valuestring);
		else if (!l->o->json)
			fprintf(l->o->out, "%s\n", line->valuestring);
	}
	if (l->o->json && cJSON_GetArraySize(st.lines) > 0) {
		cJSON *o = cJSON_CreateObject();
		char *text;

		cJSON_AddItemToObject(o, "back", st.lines);
		st.lines = NULL;
		cJSON_AddNumberToObject(o, "conflicts", (double)st.conflicts);
		text = cJSON_PrintUnformatted(o);
		fprintf(l->o->out, "%s\n", text);
		free(text);
		cJSON_Delete(o);
	}
	/* (every answer lists them: told when their count changes, not at
	 * each pull) */
	if (st.too_large > 0 && st.too_large != l->too_large_told) {
		char *text = sync_back_too_large_text(&st);

		fprintf(stderr, "rdev: sync: %s: %s\n", l->o->host, text);
		free(text);
	}
	if (rc == 0)
		l->too_large_told = st.too_large;
	/* (a file not written here: told when it is another error, not at
	 * each pull that tries it again) */
	if ((rc == 0 || st.failed_text != NULL) &&
	    sync_back_failed_news(&st, &l->failed_told))
		fprintf(stderr, "rdev: sync: %s: %s (tried again at the next pull)\n",
		    l->o->host, st.failed_text);
	if (sync_back_aside_failed_news(&st, &l->aside_failed_told, &aside))
		fprintf(stderr, "rdev: sync: %s: %s\n", l->o->host, aside);
	free(aside);
	fflush(l->o->out);
	sync_back_stats_clear(&st);
	return rc;
}

/* One batch: rescan what changed, send what differs, print it. */
static int
sync_live_batch(struct sync_live *l, int all, char **cause)
{
	static char *const everything[1] = { "" };
	struct sync_watch_batch b;
	struct source_send_stats st = { 0 };
	struct sync_scan *fresh;
	struct sync_ignore *ig;
	struct sync_delta *d;
	long long t0 = clock_now_ms();
	char *err = NULL, *quoted;
	int rc = 0, retry_due;

	sync_watch_take(l->w, &b);
	all |= b.all;
	if (b.ignore_changed) {
		if (sync_scan_ignore(l->s->path, l->o->scan_flags, &ig, cause) != 0) {
			sync_watch_batch_clear(&b);
			return -1;
		}
		/* (the watch has ig from here on, even when it fails) */
		sync_ignore_free(l->ig);
		l->ig = ig;
		if (sync_watch_set_ignore(l->w, ig, cause) != 0) {
			sync_watch_batch_clear(&b);
			return -1;
		}
	}
	/* (the host's changes first, against what was sent before this scan:
	 * a file changed on both sides is then told) */
	if ((l->o->scan_flags & SYNC_SCAN_TWO_WAY) && !l->resend &&
	    (rc = sync_live_pull(l, &err)) != 0) {
		if (rc == -2) { /* (an agent too old: the sync stops) */
			*cause = err;
			sync_watch_batch_clear(&b);
			return -1;
		}
		sync_live_failed(l, err);
		err = NULL;
		rc = 0;
	}
	if (sync_scan_roots(l->s->path, all ? everything : b.roots, all ? 1 : b.nroots,
		l->ig, l->state, &fresh, cause) != 0) {
		sync_watch_batch_clear(&b);
		return -1;
	}
	/* (a name no sync carries, skipped as the upload skips it: told, quoted,
	 * the watch goes on) */
	if (!all && fresh->skipped > 0 &&
	    (quoted = sync_scan_skipped_names(l->s->path, b.roots, b.nroots)) != NULL) {
		fprintf(stderr,
		    "rdev: sync: %s: %s: skipped (" SYNC_SCAN_SKIPPED_WHY ")\n",
		    l->o->host, quoted);
		free(quoted);
	}
	d = sync_delta_new(&l->state, all ? everything : b.roots, all ? 1 : b.nroots,
	    fresh, b.moves, b.nmoves);
	st.host_changed_paths = cJSON_CreateArray();
	st.host_kept_paths = cJSON_CreateArray();
	st.kept_as = cJSON_CreateArray();
	st.failed = cJSON_CreateArray();
	/* (two-way: a host change met by this batch is kept, docs/SYNC.md) */
	st.keep_host_changes = (l->o->scan_flags & SYNC_SCAN_TWO_WAY) != 0;
	st.pull_ack = l->pull.ack;
	/* (what could not land before goes again: its version here, or its
	 * deletion; so something is sent, and the list replaced) */
	/* (only when their backoff ended, not with every batch: a batch the
	 * retry began is always due, so it sends them) */
	retry_due = l->nretry > 0 && clock_now_ms() >= l->retry_entries_at;
	if (!l->resend && retry_due)
		sync_delta_resend(d, l->state, l->retry, l->nretry);
	if (!l->resend && (d->changed->n > 0 || d->ndel > 0)) {
		if (source_send_batch(
			l->r, l->s, d->changed, d->del, d->ndel, &st, &err) != 0) {
			sync_live_failed(l, xstrdup(err));
			rc = 0;
		} else
			sync_live_note_failed(l, &st, retry_due ? NULL : d);
		free(l->pull.ack); /* (sent: committed, or reported again) */
		l->pull.ack = NULL;
	}
	if (d->n > 0 || all)
		sync_live_print(l, d, &st, all, clock_now_ms() - t0, err);
	source_send_warn_host_changes(l->o->host, &st);
	cJSON_Delete(st.host_changed_paths);
	cJSON_Delete(st.host_kept_paths);
	cJSON_Delete(st.kept_as);
	sync_send_failed_free(&st);
	free(err);
	sync_delta_free(d);
	sync_watch_batch_clear(&b);
	return rc;
}

int
sync_live_run(struct remote *r, const struct source *s, struct sync_scan *state,
    const struct sync_live_opts *o, char **cause)
{
	struct sync_live l = { .r = r, .s = s, .o = o, .state = state };
	struct sigaction sa, old_int, old_term, old_hup;
	long long first = 0, last = 0, now, swept;
	struct pollfd pfd;
	int rc = -1, timeout, all, n;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = sync_live_on_signal; /* (no SA_RESTART: poll returns) */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	sigaction(SIGHUP, &sa, &old_hup);
	sync_live_stop = sync_live_rescan = 0;
	/* (lowers the cap only: between the first backoff and the default) */
	l.retry_max_ms = clock_env_ms("RDEV_SYNC_RETRY_MAX_MS", SYNC_LIVE_RETRY_MAX_MS);
	if (l.retry_max_ms < SYNC_LIVE_RETRY_MIN_MS)
		l.retry_max_ms = SYNC_LIVE_RETRY_MIN_MS;
	if (l.retry_max_ms > SYNC_LIVE_RETRY_MAX_MS)
		l.retry_max_ms = SYNC_LIVE_RETRY_MAX_MS;
	if (sync_scan_ignore(s->path, o->scan_flags, &l.ig, cause) != 0)
		goto out;
	if ((swept = sync_back_sweep(s->path, l.ig)) > 0) /* (a killed sync's) */
		fprintf(stderr,
		    "rdev: sync: removed %lld temporary file%s a killed sync left "
		    "in %s\n",
		    swept, swept == 1 ? "" : "s", s->path);
	if (sync_watch_new(s->path, l.ig, &l.w, cause) != 0)
		goto out;
	/* What the upload could not land goes again (and is told). */
	if (o->first != NULL && o->first->failed != NULL)
		sync_live_note_failed(&l, o->first, NULL);
	/* What changed between the upload's scan and the watch's start. */
	if (sync_live_batch(&l, 1, cause) != 0)
		goto out;
	/* The upload's manifest (cJSON, several times the scan's size for a
	 * big tree) is freed but glibc keeps the pages, and the connection's
	 * buffers keep the size they grew to for it: drop the connection (the
	 * first batch opens another on the broker's session) and give the
	 * pages back, as this process now lives as long as the watch. */
	remote_reset(r);
	malloc_trim(0);
	fprintf(stderr, "rdev: sync: watching %s (%zu folders); Ctrl-C ends\n", s->path,
	    sync_watch_count(l.w));
	pfd.fd = sync_watch_fd(l.w);
	pfd.events = POLLIN;
	while (!sync_live_stop) {
		now = clock_now_ms();
		timeout = -1;
		if (sync_watch_pending(l.w)) {
			long long due = last + SYNC_LIVE_QUIET_MS;

			if (due > first + SYNC_LIVE_MAX_MS)
				due = first + SYNC_LIVE_MAX_MS;
			timeout = due > now ? (int)(due - now) : 0;
		}
		if (l.resend && (timeout < 0 || l.retry_at - now < timeout))
			timeout = l.retry_at > now ? (int)(l.retry_at - now) : 0;
		if ((o->scan_flags & SYNC_SCAN_TWO_WAY) && !l.resend &&
		    (timeout < 0 || l.pull_due - now < timeout))
			timeout = l.pull_due > now ? (int)(l.pull_due - now) : 0;
		if (l.nretry > 0 && !l.resend &&
		    (timeout < 0 || l.retry_entries_at - now < timeout))
			timeout = l.retry_entries_at > now
			    ? (int)(l.retry_entries_at - now)
			    : 0;
		if (timeout != 0 && poll(&pfd, 1, timeout) < 0 && errno != EINTR) {
			error_set_errno(cause, errno, "poll");
			goto out;
		}
		if (sync_live_stop)
			break;
		all = sync_live_rescan;
		sync_live_rescan = 0;
		if ((n = sync_watch_read(l.w, cause)) < 0)
			goto out;
		now = clock_now_ms();
		if (n > 0) {
			if (first == 0)
				first = now;
			last = now;
		}
		if (l.resend && now >= l.retry_at)
			sync_live_resend(&l);
		if (all ||
		    ((o->scan_flags & SYNC_SCAN_TWO_WAY) && !l.resend &&
			now >= l.pull_due) ||
		    (l.nretry > 0 && !l.resend && now >= l.retry_entries_at) ||
		    (sync_watch_pending(l.w) &&
			(now - last >= SYNC_LIVE_QUIET_MS ||
			    now - first >= SYNC_LIVE_MAX_MS))) {
			if (sync_live_batch(&l, all, cause) != 0)
				goto out;
			first = last = 0;
		} else if (!sync_watch_pending(l.w))
			first = last = 0;
	}
	rc = 0;
out:
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
	sync_watch_free(l.w);
	sync_ignore_free(l.ig);
	sync_scan_free(l.state);
	sync_back_pull_clear(&l.pull, l.s != NULL ? l.s->path : NULL);
	free(l.failed_told);
	sync_paths_free(l.retry, l.nretry);
	free(l.entry_failed_told);
	free(l.lost_told);
	return rc;
}
