/* broker-sync.c - the live syncs the broker keeps (broker-sync.h). */
#include "broker-sync.h"

#include <sys/queue.h>
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

#include <event2/event.h>

#include "atomic-file.h"
#include "clock.h"
#include "error.h"
#include "json-get.h"
#include "log.h"
#include "proto-conn.h"
#include "sync-delta.h"
#include "sync-scan.h"
#include "sync-send.h"
#include "sync-watch.h"
#include "xmalloc.h"

/* Changes are gathered until the folder is quiet this long, at most the
 * second after the first (as `rdev sync --watch`, client/sync-live.h). */
#define BROKER_SYNC_QUIET_MS 50
#define BROKER_SYNC_MAX_MS 1000
/* Backoff between tries after a batch failed. */
#define BROKER_SYNC_RETRY_MIN_MS 250
#define BROKER_SYNC_RETRY_MAX_MS 5000
/* The request id of the "agent" request that opens a connection. */
#define BROKER_SYNC_AGENT_ID 1
/* How long the host's session may take to give us its agent. */
#define BROKER_SYNC_CONNECT_MS 60000
/* A batch whose connection moves nothing this long fails (a hung agent, a
 * link lost without the session knowing): the sync is queued and tried
 * again. $RDEV_SYNC_IDLE_MS sets it (tests). */
#define BROKER_SYNC_IDLE_MS 60000

/* A sync's life, through broker_sync_set_state:
 *
 *   sending  -> watching (sent), queued (failed: tried again), error
 *   watching -> sending, queued (no connection to begin with), error
 *   queued   -> sending, error
 *
 * error (the folder went away, inotify failed) is the end: the sync stays
 * listed, with its error, until stopped. A new sync starts in sending (its
 * first batch is the whole folder). */
enum broker_sync_state {
	BROKER_SYNC_SENDING,
	BROKER_SYNC_WATCHING,
	BROKER_SYNC_QUEUED,
	BROKER_SYNC_ERROR,
};

/* One batch, handed to its thread and back. */
struct broker_sync_job {
	struct sync_watch_batch b; /* what changed (b.all: everything) */
	int connect_fd;		   /* >= 0: a new connection to answer first */
	/* Read the ignore files (again), and watch the folder (s->w NULL) or
	 * watch what they let in: the loop leaves s->w and s->ig alone. */
	int setup;
	/* out */
	int rc; /* 0 sent (or nothing to send), -1 failed, -2 fatal */
	char *error;
	struct sync_send_stats st;
	size_t changes; /* of the folder, found by the scan */
	long long ms;
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
	int reread;	   /* the ignore files changed: read them again */
	/* The batch's thread's while it runs, the loop's otherwise. */
	pthread_t thread;
	int working;
	struct broker_sync_job job;
	struct sync_scan *sent; /* what the host was sent (or is to get) */
	int resend;		/* the next batch is the whole folder */
	struct proto_conn *conn;
	int next_id;
	/* For status. */
	long long files_sent, bytes_sent, deleted, batches;
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
	struct broker_sync_list syncs;
	struct broker_sync_list dying; /* stopped, their batch still running */
};

static void broker_sync_kick(struct broker_sync *s);
static void broker_sync_on_watch(evutil_socket_t fd, short what, void *arg);

static const char *
broker_sync_state_name(enum broker_sync_state st)
{
	switch (st) {
	case BROKER_SYNC_SENDING: return "sending";
	case BROKER_SYNC_WATCHING: return "watching";
	case BROKER_SYNC_QUEUED: return "queued";
	case BROKER_SYNC_ERROR: return "error";
	}
	return "?";
}

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
static char *
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

static struct broker_sync *
broker_sync_find(struct broker_syncs *ss, const char *key)
{
	struct broker_sync *s;

	LIST_FOREACH(s, &ss->syncs, entry)
		if (strcmp(s->key, key) == 0)
			return s;
	return NULL;
}

/* ---- The saved file ------------------------------------------------------ */

static void
broker_syncs_save(struct broker_syncs *ss)
{
	cJSON *o = cJSON_CreateObject(), *a, *e;
	struct broker_sync *s;
	char *text, *cause = NULL;

	cJSON_AddNumberToObject(o, "version", 1);
	a = cJSON_AddArrayToObject(o, "syncs");
	LIST_FOREACH(s, &ss->syncs, entry) {
		e = cJSON_CreateObject();
		cJSON_AddItemToObject(e, "host", cJSON_Duplicate(s->host, 1));
		cJSON_AddStringToObject(e, "path", s->path);
		cJSON_AddStringToObject(e, "name", s->name);
		cJSON_AddNumberToObject(e, "flags", s->flags);
		cJSON_AddStringToObject(e, "label", s->label);
		cJSON_AddItemToArray(a, e);
	}
	if (cJSON_GetArraySize(a) == 0) {
		if (unlink(ss->state_path) != 0 && errno != ENOENT)
			log_warn("%s: %s", ss->state_path, strerror(errno));
		cJSON_Delete(o);
		return;
	}
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (atomic_file_write(ss->state_path, text, strlen(text), 0600, &cause) != 0) {
		log_warn("%s", cause);
		free(cause);
	}
	free(text);
}

/* ---- A batch, in its thread ----------------------------------------------- */

/* A new connection: the session's answer to our "agent" request, then the
 * agent's HELLO. */
static int
broker_sync_connect(struct broker_sync *s, int fd, char **cause)
{
	cJSON *result = NULL;
	uint32_t version;

	s->conn = proto_conn_new(fd, s->label);
	proto_conn_set_idle(s->conn, s->ss->idle_ms);
	s->next_id = BROKER_SYNC_AGENT_ID + 1;
	if (proto_conn_response(s->conn, BROKER_SYNC_AGENT_ID, NULL, NULL,
		BROKER_SYNC_CONNECT_MS, NULL, &result, NULL, cause) != 0)
		return -1;
	cJSON_Delete(result);
	return proto_conn_handshake(
	    s->conn, "rdev-broker " RDEV_VERSION, &version, cause);
}

/* Read the ignore files and watch the folder, or (a file changed) watch
 * what they let in now: a walk of the whole tree, in the batch's thread.
 * 0, or -1 with *cause. */
static int
broker_sync_setup(struct broker_sync *s, char **cause)
{
	struct sync_ignore *ig = NULL;

	if (sync_scan_ignore(s->path, s->flags, &ig, cause) != 0)
		return -1;
	if (s->w == NULL ? sync_watch_new(s->path, ig, &s->w, cause) != 0
			 : sync_watch_set_ignore(s->w, ig, cause) != 0) {
		sync_watch_free(s->w); /* (it may borrow ig) */
		s->w = NULL;
		sync_ignore_free(ig);
		return -1;
	}
	sync_ignore_free(s->ig);
	s->ig = ig;
	return 0;
}

static void *
broker_sync_work(void *arg)
{
	static char *const everything[1] = { "" };
	struct broker_sync *s = arg;
	struct broker_sync_job *j = &s->job;
	struct sync_scan *fresh;
	struct sync_delta *d;
	long long t0 = clock_now_ms();
	char *cause = NULL;
	int all;

	if (j->setup && broker_sync_setup(s, &cause) != 0) {
		j->rc = -2;
		j->error = cause;
		goto out;
	}
	all = j->b.all || j->setup;
	if (sync_scan_roots(s->path, all ? everything : j->b.roots, all ? 1 : j->b.nroots,
		s->ig, s->sent, &fresh, &cause) != 0) {
		j->rc = -2;
		j->error = cause;
		goto out;
	}
	d = sync_delta_new(&s->sent, all ? everything : j->b.roots, all ? 1 : j->b.nroots,
	    fresh, j->b.moves, j->b.nmoves);
	j->changes = d->n;
	j->rc = 0;
	if (j->connect_fd >= 0) {
		int fd = j->connect_fd;

		j->connect_fd = -1;
		if (broker_sync_connect(s, fd, &cause) != 0)
			j->rc = -1;
	}
	if (j->rc == 0 && s->resend) {
		j->st.files = (long long)s->sent->n;
		j->rc = sync_send(s->conn, s->next_id++, s->path, s->name, s->sent, NULL,
		    0, NULL, &j->st, &cause);
		if (j->rc == 0)
			s->resend = 0;
	} else if (j->rc == 0 && (d->changed->n > 0 || d->ndel > 0))
		j->rc = sync_send(s->conn, s->next_id++, s->path, s->name, d->changed,
		    d->del, d->ndel, NULL, &j->st, &cause);
	if (j->rc != 0) {
		/* The link dropped or the agent refused: the whole folder next. */
		proto_conn_free(s->conn);
		s->conn = NULL;
		s->resend = 1;
		j->error = cause;
	}
	sync_delta_free(d);
out:
	j->ms = clock_now_ms() - t0;
	if (write(s->done[1], "", 1) != 1)
		log_warn("sync %s: cannot wake the loop: %s", s->path, strerror(errno));
	return NULL;
}

/* ---- The loop's side ------------------------------------------------------- */

static void
broker_sync_free(struct broker_sync *s)
{
	if (s == NULL)
		return;
	if (s->working) {
		pthread_join(s->thread, NULL);
		s->working = 0;
	}
	if (s->job.connect_fd >= 0)
		close(s->job.connect_fd);
	sync_watch_batch_clear(&s->job.b);
	free(s->job.error);
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
	proto_conn_free(s->conn);
	cJSON_Delete(s->host);
	free(s->key);
	free(s->label);
	free(s->path);
	free(s->name);
	free(s->error);
	free(s->watch_error);
	free(s);
}

/* Stop watching (an error, or stopped): no more batches. The events are
 * freed with s (this may run in watch_ev's own callback). */
static void
broker_sync_unwatch(struct broker_sync *s)
{
	if (s->watch_ev != NULL)
		event_del(s->watch_ev);
	evtimer_del(s->timer_ev);
	sync_watch_free(s->w);
	s->w = NULL;
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
	broker_sync_set_state(s, BROKER_SYNC_QUEUED);
	broker_sync_set_error(s, why);
	s->resend = 1;
	s->retry_ms = s->retry_ms == 0 ? BROKER_SYNC_RETRY_MIN_MS : s->retry_ms * 2;
	if (s->retry_ms > BROKER_SYNC_RETRY_MAX_MS)
		s->retry_ms = BROKER_SYNC_RETRY_MAX_MS;
	s->retry_at = clock_now_ms() + s->retry_ms;
	log_warn("sync %s -> %s: %s (queued, tried again in %lld ms)", s->path, s->label,
	    why, s->retry_ms);
}

/* The folder went away, or the watch failed: the sync ends here. */
static void
broker_sync_fail(struct broker_sync *s, const char *why)
{
	broker_sync_set_state(s, BROKER_SYNC_ERROR);
	broker_sync_set_error(s, why);
	broker_sync_unwatch(s);
	log_warn("sync %s -> %s: %s (stopped)", s->path, s->label, why);
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
	memset(j, 0, sizeof *j);
	j->connect_fd = -1;
	if (s->w != NULL)
		sync_watch_take(s->w, &j->b);
	s->first = s->last = 0;
	s->reread |= j->b.ignore_changed;
	j->setup = s->w == NULL || s->reread;
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
		/* (the watch is the loop's again) */
		if (s->watch_ev == NULL) {
			s->watch_ev = event_new(s->ss->base, sync_watch_fd(s->w),
			    EV_READ | EV_PERSIST, broker_sync_on_watch, s);
			log_info("sync %s -> %s (%s): watching %zu folders", s->path,
			    s->label, s->name, sync_watch_count(s->w));
		}
		event_add(s->watch_ev, NULL);
		s->reread = 0;
	}
	s->batches++;
	s->files_sent += j->st.sent;
	s->bytes_sent += j->st.sent_bytes;
	s->deleted += j->st.deleted;
	if (j->changes > 0)
		s->last_change = time(NULL);
	if (j->rc == -2) {
		broker_sync_fail(s, j->error != NULL ? j->error : "scan failed");
		return;
	}
	if (s->watch_error != NULL) {
		/* (what the batch sent is counted; the watch is lost) */
		broker_sync_fail(s, s->watch_error);
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
	s->error = NULL;
	s->retry_ms = 0;
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
static void
broker_sync_kick(struct broker_sync *s)
{
	long long now = clock_now_ms(), due = -1;
	struct timeval tv;

	if (s->working || s->dead || s->state == BROKER_SYNC_ERROR ||
	    broker_sync_replacing(s))
		return;
	if (s->resend)
		due = s->retry_at; /* (what changed meanwhile goes with it) */
	else if (s->w != NULL && sync_watch_pending(s->w)) {
		due = s->last + BROKER_SYNC_QUIET_MS;
		if (due > s->first + BROKER_SYNC_MAX_MS)
			due = s->first + BROKER_SYNC_MAX_MS;
	}
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

static void
broker_sync_on_watch(evutil_socket_t fd, short what, void *arg)
{
	struct broker_sync *s = arg;
	char *cause = NULL;
	long long now;
	int n;

	if ((n = sync_watch_read(s->w, &cause)) < 0) {
		if (s->working) { /* (the batch's outcome is taken first) */
			event_del(s->watch_ev);
			free(s->watch_error);
			s->watch_error = cause;
		} else {
			broker_sync_fail(s, cause);
			free(cause);
		}
		return;
	}
	if (n == 0)
		return;
	now = clock_now_ms();
	if (s->first == 0)
		s->first = now;
	s->last = now;
	if (s->state == BROKER_SYNC_WATCHING)
		broker_sync_kick(s);
}

/* A new sync (not listed yet): watch the folder and send it whole first. 0,
 * or -1 with *cause. */
static int
broker_sync_new(
    struct broker_syncs *ss, const cJSON *req, struct broker_sync **out, char **cause)
{
	const char *path = json_get_string(req, "path");
	const char *name = json_get_string(req, "name");
	const char *label = json_get_string(req, "label");
	const char *host = json_get_string(req, "host");
	const cJSON *flags = cJSON_GetObjectItemCaseSensitive(req, "flags");
	struct broker_sync *s;
	struct stat sb;

	if (host == NULL || path == NULL || name == NULL || path[0] != '/')
		return error_set(cause,
		    "a sync needs a host, a workspace name and an "
		    "absolute local folder");
	if (stat(path, &sb) != 0)
		return error_set_errno(cause, errno, "%s", path);
	if (!S_ISDIR(sb.st_mode))
		return error_set(cause, "%s: not a folder", path);
	s = xcalloc(1, sizeof *s);
	s->ss = ss;
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
	*out = s;
	return 0;
}

/* ---- The API ----------------------------------------------------------------- */

struct broker_syncs *
broker_syncs_new(struct event_base *base, const char *state_path,
    broker_sync_submit_fn submit, void *arg)
{
	struct broker_syncs *ss = xcalloc(1, sizeof *ss);
	const char *v;

	ss->base = base;
	ss->state_path = xstrdup(state_path);
	ss->submit = submit;
	ss->arg = arg;
	ss->idle_ms = BROKER_SYNC_IDLE_MS;
	if ((v = getenv("RDEV_SYNC_IDLE_MS")) != NULL && atoi(v) > 0)
		ss->idle_ms = atoi(v);
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
	if (s->watch_ev != NULL)
		event_del(s->watch_ev); /* (the watch goes with s: the thread may
					   be setting it up) */
	evtimer_del(s->timer_ev);
	LIST_INSERT_HEAD(&s->ss->dying, s, entry);
}

static void
broker_sync_add(struct broker_syncs *ss, struct broker_sync *s)
{
	struct broker_sync *old = broker_sync_find(ss, s->key);

	if (old != NULL)
		broker_sync_stop(old);
	LIST_INSERT_HEAD(&ss->syncs, s, entry);
	log_info("sync %s -> %s (%s): started", s->path, s->label, s->name);
	broker_sync_kick(s);
}

void
broker_syncs_restore(struct broker_syncs *ss)
{
	char *text = NULL, *cause = NULL;
	struct broker_sync *s;
	const cJSON *e, *h;
	cJSON *o, *req;
	size_t len;

	if (file_read_all(ss->state_path, 16u << 20, &text, &len, &cause) != 0) {
		free(cause); /* (none saved) */
		return;
	}
	o = cJSON_ParseWithLength(text, len);
	free(text);
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(o, "syncs")) {
		/* (a request again: the host's members, then the sync's) */
		h = cJSON_GetObjectItemCaseSensitive(e, "host");
		req = cJSON_IsObject(h) ? cJSON_Duplicate(h, 1) : cJSON_CreateObject();
		for (const cJSON *m = e->child; m != NULL; m = m->next)
			if (strcmp(m->string, "host") != 0)
				cJSON_AddItemToObject(
				    req, m->string, cJSON_Duplicate(m, 1));
		if (broker_sync_new(ss, req, &s, &cause) != 0) {
			log_warn("saved sync not resumed: %s", cause);
			free(cause);
			cause = NULL;
		} else
			broker_sync_add(ss, s);
		cJSON_Delete(req);
	}
	if (o == NULL)
		log_warn("%s: not JSON: ignored", ss->state_path);
	cJSON_Delete(o);
}

int
broker_syncs_start(
    struct broker_syncs *ss, const cJSON *req, cJSON **result, char **cause)
{
	struct broker_sync *s;

	*result = NULL;
	if (broker_sync_new(ss, req, &s, cause) != 0)
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

static cJSON *
broker_sync_json(const struct broker_sync *s)
{
	cJSON *o = cJSON_CreateObject();
	char when[32];
	struct tm tm;

	cJSON_AddStringToObject(o, "host", s->label);
	cJSON_AddStringToObject(o, "path", s->path);
	cJSON_AddStringToObject(o, "name", s->name);
	cJSON_AddStringToObject(o, "state", broker_sync_state_name(s->state));
	/* (the scan state is the batch's thread's while it runs, and the
	 * watch too while it sets it up) */
	if (!s->working || !s->job.setup)
		cJSON_AddNumberToObject(
		    o, "folders", s->w != NULL ? (double)sync_watch_count(s->w) : 0);
	if (!s->working)
		cJSON_AddNumberToObject(o, "files", (double)s->sent->n);
	cJSON_AddNumberToObject(o, "sent", (double)s->files_sent);
	cJSON_AddNumberToObject(o, "sentBytes", (double)s->bytes_sent);
	cJSON_AddNumberToObject(o, "deleted", (double)s->deleted);
	cJSON_AddNumberToObject(o, "batches", (double)s->batches);
	if (s->last_change != 0 && gmtime_r(&s->last_change, &tm) != NULL &&
	    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm) > 0)
		cJSON_AddStringToObject(o, "lastChange", when);
	else
		cJSON_AddNullToObject(o, "lastChange");
	if (s->error != NULL)
		cJSON_AddStringToObject(o, "lastError", s->error);
	else
		cJSON_AddNullToObject(o, "lastError");
	return o;
}

cJSON *
broker_syncs_status(struct broker_syncs *ss, const cJSON *req)
{
	struct broker_sync *s;
	cJSON *o;
	char *key;

	if (req == NULL) {
		o = cJSON_CreateArray();
		LIST_FOREACH(s, &ss->syncs, entry)
			cJSON_AddItemToArray(o, broker_sync_json(s));
		return o;
	}
	key = broker_sync_key(req);
	s = broker_sync_find(ss, key);
	free(key);
	return s != NULL ? broker_sync_json(s) : cJSON_CreateNull();
}

void
broker_syncs_forget(struct broker_syncs *ss)
{
	if (unlink(ss->state_path) != 0 && errno != ENOENT)
		log_warn("%s: %s", ss->state_path, strerror(errno));
}
