/* broker-sync-batch.c - a live sync's batch, in its thread (broker-sync-internal.h). */
#include "broker-sync-internal.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "error.h"
#include "log.h"
#include "proto-conn.h"
#include "quote.h"
#include "sync-back.h"
#include "sync-back-sweep.h"
#include "sync-delta.h"
#include "sync-scan.h"

/* A new connection: the session's answer to our "agent" request, then the
 * agent's HELLO. */
static int
broker_sync_connect(struct broker_sync *s, int fd, char **cause)
{
	cJSON *result = NULL;
	uint32_t version;

	s->conn = proto_conn_new(fd, s->label);
	s->next_id = BROKER_SYNC_AGENT_ID + 1;
	if (proto_conn_response(s->conn, BROKER_SYNC_AGENT_ID, NULL, NULL,
		BROKER_SYNC_CONNECT_MS, NULL, &result, NULL, cause) != 0) {
		cJSON_Delete(result);
		return -1;
	}
	cJSON_Delete(result);
	if (proto_conn_handshake(s->conn, "rdev-broker " RDEV_VERSION, &version, cause) !=
	    0)
		return -1;
	/* (from here on: the connect may take longer, a session being made) */
	proto_conn_set_idle(s->conn, s->ss->idle_ms);
	return 0;
}

/* Read the ignore files and watch the folder, or (a file changed) watch
 * what they let in now: a walk of the whole tree, in the batch's thread.
 * 0, -2 with *cause when the folder is not there or not a folder, or -1
 * with *cause. */
static int
broker_sync_setup(struct broker_sync *s, char **cause)
{
	struct sync_ignore *ig = NULL;
	long long swept;
	int rc;

	if (sync_scan_ignore(s->path, s->flags, &ig, cause) != 0)
		return -1;
	/* (the sync starts or resumes here: what a killed one left) */
	if (s->w == NULL && (swept = sync_back_sweep(s->path, ig)) > 0)
		log_info("sync %s: %lld temporary files of a killed sync removed",
		    s->path, swept);
	if ((rc = s->w == NULL ? sync_watch_new(s->path, ig, &s->w, cause)
			       : sync_watch_set_ignore(s->w, ig, cause)) != 0) {
		sync_watch_free(s->w); /* (it may borrow ig) */
		s->w = NULL;
		sync_ignore_free(ig);
		return rc == -2 ? -2 : -1;
	}
	sync_ignore_free(s->ig);
	s->ig = ig;
	return 0;
}

/* A two-way sync's changes from the host, applied here (sync-back.h). 0, or
 * -1 with *cause. */
static int
broker_sync_pull(struct broker_sync *s, char **cause)
{
	struct broker_sync_job *j = &s->job;
	long long t0;
	int n = 0, rc;

	do {
		t0 = clock_now_ms();
		if ((rc = sync_back(s->conn, s->next_id++, s->path, s->name, s->flags,
			 s->ig, &s->sent, &s->pull, &j->back, cause)) != 0)
			return rc; /* (-2: an agent too old, the sync stops) */
		j->pull_ms = clock_now_ms() - t0;
	} while (j->back.more && ++n < BROKER_SYNC_PULL_MAX);
	return 0;
}

/* The folder back (away), watched now: wait until no change was seen in it
 * for BROKER_SYNC_SETTLE_MS (a clone still filling it is not sent half
 * there), BROKER_SYNC_SETTLE_MAX_MS at most, or until the loop cancels (s
 * stopped: its stop or the broker's is not held by the wait; polled in
 * slices of BROKER_SYNC_SETTLE_SLICE_MS). What changed meanwhile is in the
 * whole scan that follows: the watch's batch is dropped. 0, or -2 with
 * *cause (gone again) or -1 with *cause. */
static int
broker_sync_settle(struct broker_sync *s, char **cause)
{
	struct sync_watch_batch b;
	long long now = clock_now_ms(), end = now + BROKER_SYNC_SETTLE_MAX_MS;
	long long quiet_at = now + BROKER_SYNC_SETTLE_MS;
	struct pollfd p = { .fd = sync_watch_fd(s->w), .events = POLLIN };
	int n;

	while (
	    (now = clock_now_ms()) < end && now < quiet_at && !atomic_load(&s->cancel)) {
		n = poll(&p, 1,
		    (int)(quiet_at - now < BROKER_SYNC_SETTLE_SLICE_MS
			    ? quiet_at - now
			    : BROKER_SYNC_SETTLE_SLICE_MS));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return error_set_errno(cause, errno, "poll");
		if (n == 0)
			continue;
		if ((n = sync_watch_read(s->w, cause)) < 0)
			return n;
		quiet_at = clock_now_ms() + BROKER_SYNC_SETTLE_MS;
	}
	if (atomic_load(&s->cancel))
		return error_set(cause, "stopped");
	sync_watch_take(s->w, &b);
	sync_watch_batch_clear(&b);
	return 0;
}

void *
broker_sync_work(void *arg)
{
	static char *const everything[1] = { "" };
	struct broker_sync *s = arg;
	struct broker_sync_job *j = &s->job;
	struct sync_scan *fresh;
	struct sync_delta *d;
	long long t0 = clock_now_ms();
	char *cause = NULL, *quoted;
	int all, id0;

	if (j->setup && (j->rc = broker_sync_setup(s, &cause)) != 0) {
		j->gone = j->rc == -2;
		j->rc = -2;
		j->error = cause;
		goto out;
	}
	if (s->settle && s->w != NULL) {
		s->settle = 0;
		if ((j->rc = broker_sync_settle(s, &cause)) != 0) {
			j->gone = j->rc == -2;
			j->rc = -2;
			j->error = cause;
			goto out;
		}
	}
	all = j->b.all || j->setup;
	j->rc = 0;
	j->pull_ms = 0;
	if (j->connect_fd >= 0) {
		int fd = j->connect_fd;

		j->connect_fd = -1;
		if (broker_sync_connect(s, fd, &cause) != 0)
			j->rc = -1;
	}
	/* Two-way: the host's changes first, against what was sent before
	 * this batch's scan (a file changed on both sides is then told). Not
	 * while the whole folder is to go again after a send that may not
	 * have landed (a link dropped during it, or a failed list the agent
	 * cut without naming the folders of the rest, failedUnder): sent then
	 * has versions the host may never have got, which a pull would take
	 * as the host's and replace or delete here. A sync's first batch
	 * pulls (nothing sent yet), and so does its retry when it failed
	 * before sending (a host away when a new broker resumes the sync):
	 * a conflict is found here, by the pull, either way. But not the
	 * retry of a failed pull: one that fails every time (a host folder
	 * its user cannot read) must not hold back every send; the agent
	 * keeps what the send replaces (keptAs), a conflict too. */
	if (j->rc == 0 && (s->flags & SYNC_SCAN_TWO_WAY) &&
	    (!s->resend || (!s->sent_unsure && !s->pull_failed))) {
		j->rc = broker_sync_pull(s, &cause);
		s->pull_failed = j->rc != 0;
	}
	if (j->rc == -2) {
		j->error = cause;
		goto out;
	}
	if (j->rc != 0)
		goto failed; /* (the next batch is the whole folder) */
	/* (a mode changed on both sides: the local one kept, sent says the
	 * host's; this batch's scan may not cover the path, whose local
	 * chmod may have had its batch already: the whole folder, so the
	 * local mode goes now, as docs/SYNC.md says. Rare: a stat a file) */
	if (j->back.mode_kept > 0)
		all = 1;
	if (sync_scan_roots(s->path, all ? everything : j->b.roots, all ? 1 : j->b.nroots,
		s->ig, s->sent, &fresh, &cause) != 0) {
		j->rc = -2;
		j->error = cause;
		goto out;
	}
	/* (a name no sync carries, skipped as up's upload skips it: logged,
	 * quoted, the sync goes on) */
	if (!all && fresh->skipped > 0 &&
	    (quoted = sync_scan_skipped_names(s->path, j->b.roots, j->b.nroots)) !=
		NULL) {
		log_warn("sync %s -> %s: %s: skipped (" SYNC_SCAN_SKIPPED_WHY ")",
		    s->path, s->label, quoted);
		free(quoted);
	}
	id0 = s->next_id;
	d = sync_delta_new(&s->sent, all ? everything : j->b.roots, all ? 1 : j->b.nroots,
	    fresh, j->b.moves, j->b.nmoves);
	j->changes = d->n;
	/* (the last pull's ack rides on a send: sync_pull_ack) */
	j->st.pull_ack = s->pull.ack;
	if (j->rc == 0)
		s->sent_unsure = 1; /* (until the send ends with all landed or named) */
	if (j->rc == 0 && s->resend) {
		j->st.files = (long long)s->sent->n;
		j->rc = sync_send(s->conn, s->next_id++, s->path, s->name, s->sent, NULL,
		    0, NULL, &j->st, &cause);
		if (j->rc == 0)
			s->resend = 0;
		j->all_sent = 1; /* (the whole folder: every retry carried) */
	} else if (j->rc == 0) {
		/* (what could not land before goes again: its version here,
		 * or its deletion) */
		if (j->retry_due)
			sync_delta_resend(d, s->sent, s->retry, s->nretry);
		if (d->changed->n > 0 || d->ndel > 0)
			j->rc = sync_send(s->conn, s->next_id++, s->path, s->name,
			    d->changed, d->del, d->ndel, NULL, &j->st, &cause);
	}
	if (j->rc == 0) {
		/* (sent: what failed now is what is to go again, with what this
		 * batch did not carry, its retry not due) */
		size_t nf;
		char **failed = sync_send_failed_paths(&j->st, &nf), **next;

		if (j->retry_due || j->all_sent)
			next = failed, j->retry_n = nf;
		else
			next = sync_delta_retry_keep(
			    d, s->retry, s->nretry, failed, nf, &j->retry_n);
		sync_paths_free(s->retry, s->nretry);
		s->retry = next;
		s->nretry = j->retry_n;
		/* (two-way: the pulls take none of them as on the host) */
		s->pull.retry = s->retry;
		s->pull.nretry = s->nretry;
		/* (a response did not list them all, nor name their folders:
		 * the whole folder; named, they are in retry, and the pulls of
		 * everything else go on) */
		if (j->st.failed_uncovered)
			s->resend = 1;
		else
			s->sent_unsure = 0;
		/* (a whole send's deletions under a named folder the agent
		 * could not name: one more whole send, once the rest landed;
		 * a whole send that named none found any left) */
		if (j->all_sent)
			s->resend_landed = 0;
		if (j->st.failed_unnamed)
			s->resend_landed = 1;
		else if (s->resend_landed && s->nretry == 0) {
			s->resend_landed = 0;
			s->resend = 1;
		}
	}
	sync_delta_free(d);
	if (j->st.pull_ack != NULL && s->next_id != id0) {
		free(s->pull.ack); /* (sent: committed, or reported again) */
		s->pull.ack = NULL;
	}
	j->st.pull_ack = NULL;
failed:
	if (j->rc == -1) {
		/* The link dropped or the agent refused: the whole folder next. */
		proto_conn_free(s->conn);
		s->conn = NULL;
		s->resend = 1;
		j->error = cause;
	}
out:
	if (j->connect_fd >= 0) {
		/* (a batch that failed before it connected: the session's agent
		 * request is not held for nothing) */
		close(j->connect_fd);
		j->connect_fd = -1;
	}
	j->ms = clock_now_ms() - t0;
	if (write(s->done[1], "", 1) != 1)
		log_warn("sync %s: cannot wake the loop: %s", s->path, strerror(errno));
	return NULL;
}
