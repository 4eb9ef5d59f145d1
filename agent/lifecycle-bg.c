/* lifecycle-bg.c - the background run of the pending lifecycle steps: the
 * container's log of their output and its record of their progress, and
 * reading that record (lifecycle.h). */
#include "lifecycle.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent-state.h"
#include "atomic-file.h"
#include "buf.h"
#include "error.h"
#include "log.h"
#include "secrets.h"
#include "xmalloc.h"

/* ---- The background log ---- */

struct lifecycle_log {
	int fd;
	const struct secrets *mask; /* values never to write (secrets.h) */
};

char *
lifecycle_log_path(const char *state_dir, const char *container_id)
{
	return xasprintf("%s/lifecycle-%s.log", state_dir, container_id);
}

struct lifecycle_log *
lifecycle_log_open(const char *path, char **cause)
{
	struct lifecycle_log *log;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0) {
		error_set_errno(cause, errno, "%s", path);
		return NULL;
	}
	log = xcalloc(1, sizeof *log);
	log->fd = fd;
	return log;
}

void
lifecycle_log_close(struct lifecycle_log *log)
{
	if (log == NULL)
		return;
	close(log->fd);
	free(log);
}

/* Append "TIMESTAMP STEP: TEXT\n" in one write. */
static void
lifecycle_log_line(struct lifecycle_log *log, const char *step, const char *text)
{
	struct timespec ts;
	struct tm tm;
	char stamp[32], *line, *masked;
	size_t len, off = 0;
	ssize_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
	masked = secrets_mask(log->mask, text);
	line = xasprintf("%s.%03ldZ %s: %s\n", stamp, ts.tv_nsec / 1000000, step, masked);
	free(masked);
	len = strlen(line);
	while (off < len) {
		n = write(log->fd, line + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* a full disk loses log lines, not the commands */
		off += (size_t)n;
	}
	free(line);
}

void
lifecycle_log_output(void *arg, const char *step, const char *line)
{
	lifecycle_log_line(arg, step, line);
}

void
lifecycle_log_event(
    void *arg, const char *step, enum lifecycle_event ev, const char *detail)
{
	char *text;

	switch (ev) {
	case LIFECYCLE_EVENT_MEMBER_FAILED: /* (the error names it) */
	case LIFECYCLE_EVENT_FEATURE_FAILED: return;
	case LIFECYCLE_EVENT_MEMBER_RUN: return; /* (the RUN's text names it) */
	case LIFECYCLE_EVENT_RUN:
		text = xasprintf("running %s", detail != NULL ? detail : "");
		break;
	case LIFECYCLE_EVENT_SKIP:
		text = xasprintf("skipped (%s)", detail != NULL ? detail : "");
		break;
	case LIFECYCLE_EVENT_DONE: text = xstrdup("done"); break;
	default: text = xasprintf("FAILED: %s", detail != NULL ? detail : ""); break;
	}
	lifecycle_log_line(arg, step, text);
	free(text);
}

/* ---- The background run ---- */

/* The record's "state" of a step for each event. */
static const char *const lifecycle_bg_step_states[] = {
	[LIFECYCLE_EVENT_RUN] = "running",
	[LIFECYCLE_EVENT_SKIP] = "skipped",
	[LIFECYCLE_EVENT_DONE] = "done",
	[LIFECYCLE_EVENT_FAILED] = "failed",
};

static const char *const lifecycle_bg_state_names[] = {
	[LIFECYCLE_BG_NONE] = "none",
	[LIFECYCLE_BG_RUNNING] = "running",
	[LIFECYCLE_BG_DONE] = "done",
	[LIFECYCLE_BG_FAILED] = "failed",
};

struct lifecycle_bg {
	char *record_path;
	char *log_path;
	struct lifecycle_log *log;
	/* The container's lock file, locked while the background process has
	 * it: a live run's sign to readers, and, once unlinked
	 * (lifecycle_bg_removed()), the sign that its container is gone. Not
	 * the log, which a user may remove by hand (`rm`) with the container
	 * still there. */
	int lock_fd;
	cJSON *record;
};

static char *
lifecycle_bg_record_path(const char *state_dir, const char *container_id)
{
	return xasprintf("%s/lifecycle-%s.state", state_dir, container_id);
}

static char *
lifecycle_bg_lock_path(const char *state_dir, const char *container_id)
{
	return xasprintf("%s/lifecycle-%s.lock", state_dir, container_id);
}

static int
lifecycle_bg_save(struct lifecycle_bg *bg, char **cause)
{
	char *text = cJSON_PrintUnformatted(bg->record);
	int rc;

	if (text == NULL)
		fatal("cJSON_PrintUnformatted: out of memory");
	rc = atomic_file_write(bg->record_path, text, strlen(text), 0600, cause);
	free(text);
	return rc;
}

/* Has the container's lock file been unlinked under us: its container
 * removed (lifecycle_bg_removed(), by a down or an up --recreate that takes
 * no lock of ours)? */
static int
lifecycle_bg_orphaned(const struct lifecycle_bg *bg)
{
	struct stat st;

	return fstat(bg->lock_fd, &st) == 0 && st.st_nlink == 0;
}

/* The log unlinked under us with the container still there (removed by
 * hand): a new one at its path, where `rdev logs` reads what follows (it
 * went into the unlinked file, read by nobody). lifecycle_bg_removed()
 * unlinks the lock file before the log: a new log made as it ran is taken
 * back out here, as lifecycle_bg_save_or_log() does the record. */
static void
lifecycle_bg_log_again(struct lifecycle_bg *bg)
{
	struct stat st;
	int fd;

	if (fstat(bg->log->fd, &st) != 0 || st.st_nlink > 0 || lifecycle_bg_orphaned(bg))
		return;
	/* (none: the lines go on into the unlinked one) */
	if ((fd = open(bg->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600)) <
	    0)
		return;
	if (lifecycle_bg_orphaned(bg)) {
		close(fd);
		if (unlink(bg->log_path) != 0 && errno != ENOENT)
			log_warn("%s: %s", bg->log_path, strerror(errno));
		return;
	}
	close(bg->log->fd);
	bg->log->fd = fd;
}

/* Save in the background process: a record that cannot be written costs
 * the readers their news, not the steps their run. Once the container is
 * gone, nothing: the record would come back for a container that no longer
 * exists (its steps fail as it goes). lifecycle_bg_removed() unlinks the
 * log before the record, so a save that slipped in before that unlink
 * sees it after its own rename and takes the record back out. */
static void
lifecycle_bg_save_or_log(struct lifecycle_bg *bg)
{
	char *cause = NULL;

	if (lifecycle_bg_orphaned(bg))
		return;
	if (lifecycle_bg_save(bg, &cause) != 0) {
		log_warn("%s", cause);
		free(cause);
	} else if (lifecycle_bg_orphaned(bg) && unlink(bg->record_path) != 0 &&
	    errno != ENOENT)
		log_warn("%s: %s", bg->record_path, strerror(errno));
}

static void
lifecycle_bg_set(cJSON *obj, const char *key, const char *value)
{
	cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
	if (cJSON_AddStringToObject(obj, key, value) == NULL)
		fatal("cJSON: out of memory");
}

struct lifecycle_bg *
lifecycle_bg_begin(const char *state_dir, const char *container_id,
    const struct lifecycle_pending *pending, char **cause)
{
	struct lifecycle_bg *bg = xcalloc(1, sizeof *bg);
	char *lock_path = lifecycle_bg_lock_path(state_dir, container_id);
	cJSON *steps, *e;

	bg->lock_fd = -1;
	bg->log_path = lifecycle_log_path(state_dir, container_id);
	if ((bg->log = lifecycle_log_open(bg->log_path, cause)) == NULL)
		goto fail;
	if ((bg->lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0) {
		error_set_errno(cause, errno, "%s", lock_path);
		goto fail;
	}
	/* Readers only probe it for a moment; an earlier run's process cannot
	 * hold it, as it holds the workspace lock our caller holds now. */
	while (flock(bg->lock_fd, LOCK_EX) != 0) {
		if (errno != EINTR) {
			error_set_errno(cause, errno, "cannot lock %s", lock_path);
			goto fail;
		}
	}
	bg->record_path = lifecycle_bg_record_path(state_dir, container_id);
	bg->record = cJSON_CreateObject();
	lifecycle_bg_set(bg->record, "containerId", container_id);
	lifecycle_bg_set(bg->record, "state", "running");
	steps = cJSON_AddArrayToObject(bg->record, "steps");
	for (size_t i = 0; i < lifecycle_pending_count(pending); i++) {
		e = cJSON_CreateObject();
		lifecycle_bg_set(e, "name", lifecycle_pending_step(pending, i));
		lifecycle_bg_set(e, "state", "pending");
		cJSON_AddItemToArray(steps, e);
	}
	if (lifecycle_bg_save(bg, cause) != 0)
		goto fail;
	free(lock_path);
	return bg;
fail:
	free(lock_path);
	lifecycle_bg_free(bg);
	return NULL;
}

/* A lifecycle_output_fn: the line in the log (a new one, if it was removed
 * by hand). */
static void
lifecycle_bg_output(void *arg, const char *step, const char *line)
{
	struct lifecycle_bg *bg = arg;

	lifecycle_bg_log_again(bg);
	lifecycle_log_output(bg->log, step, line);
}

/* A lifecycle_event_fn: the log line, and the step's state in the record. */
static void
lifecycle_bg_event(
    void *arg, const char *step, enum lifecycle_event ev, const char *detail)
{
	struct lifecycle_bg *bg = arg;
	const char *want;
	const cJSON *name, *state;
	cJSON *e;

	if (ev == LIFECYCLE_EVENT_MEMBER_FAILED || ev == LIFECYCLE_EVENT_MEMBER_RUN ||
	    ev == LIFECYCLE_EVENT_FEATURE_FAILED)
		return; /* (no state of its own: the step's FAILED or RUN follows) */
	want = lifecycle_bg_step_states[ev];
	lifecycle_bg_log_again(bg);
	lifecycle_log_event(bg->log, step, ev, detail);
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(bg->record, "steps")) {
		name = cJSON_GetObjectItemCaseSensitive(e, "name");
		state = cJSON_GetObjectItemCaseSensitive(e, "state");
		if (!cJSON_IsString(name) || strcmp(name->valuestring, step) != 0)
			continue;
		/* RUN comes once per command: one write per change is enough */
		if (cJSON_IsString(state) && strcmp(state->valuestring, want) == 0)
			return;
		lifecycle_bg_set(e, "state", want);
		lifecycle_bg_save_or_log(bg);
		return;
	}
}

int
lifecycle_bg_run(struct lifecycle_bg *bg, const struct lifecycle_ctx *ctx,
    const struct lifecycle_pending *pending)
{
	struct lifecycle_ctx c = *ctx;
	char *cause = NULL;
	int rc;

	bg->log->mask = ctx->mask;
	c.out = lifecycle_bg_output;
	c.out_flush = NULL; /* (ctx's is for its out_arg, not bg) */
	c.out_arg = bg;
	c.event = lifecycle_bg_event;
	c.event_arg = bg;
	rc = lifecycle_run_pending(&c, pending, &cause);
	secrets_mask_inplace(ctx->mask, &cause);
	lifecycle_bg_set(bg->record, "state", rc == 0 ? "done" : "failed");
	if (rc != 0)
		lifecycle_bg_set(
		    bg->record, "error", cause != NULL ? cause : "a step failed");
	lifecycle_bg_save_or_log(bg);
	free(cause);
	return rc;
}

void
lifecycle_bg_free(struct lifecycle_bg *bg)
{
	if (bg == NULL)
		return;
	lifecycle_log_close(bg->log);
	if (bg->lock_fd >= 0)
		close(bg->lock_fd);
	cJSON_Delete(bg->record);
	free(bg->record_path);
	free(bg->log_path);
	free(bg);
}

void
lifecycle_bg_forget(const char *state_dir, const char *container_id)
{
	char *path = lifecycle_bg_record_path(state_dir, container_id);

	if (unlink(path) != 0 && errno != ENOENT)
		log_warn("%s: %s", path, strerror(errno));
	free(path);
}

void
lifecycle_bg_removed(const char *container_id)
{
	char *state_dir = agent_state_dir(NULL), *path;

	if (state_dir == NULL)
		return;
	/* (a background run still writing them keeps its open files,
	 * unlinked: nothing reads them once the container is gone; the lock
	 * file goes first, as that run writes no record nor log once it is
	 * gone: lifecycle_bg_save_or_log(), lifecycle_bg_log_again()) */
	path = lifecycle_bg_lock_path(state_dir, container_id);
	if (unlink(path) != 0 && errno != ENOENT)
		log_warn("%s: %s", path, strerror(errno));
	free(path);
	path = lifecycle_log_path(state_dir, container_id);
	if (unlink(path) != 0 && errno != ENOENT)
		log_warn("%s: %s", path, strerror(errno));
	free(path);
	lifecycle_bg_forget(state_dir, container_id);
	free(state_dir);
}

int
lifecycle_bg_record_failure(const char *state_dir, const char *container_id,
    const char *step, const char *error, char **cause)
{
	struct lifecycle_bg bg = { 0 };
	cJSON *e;
	int rc;

	bg.record_path = lifecycle_bg_record_path(state_dir, container_id);
	bg.record = cJSON_CreateObject();
	lifecycle_bg_set(bg.record, "containerId", container_id);
	lifecycle_bg_set(bg.record, "run", "foreground");
	lifecycle_bg_set(bg.record, "state", "failed");
	lifecycle_bg_set(bg.record, "error", error);
	e = cJSON_CreateObject();
	lifecycle_bg_set(e, "name", step);
	lifecycle_bg_set(e, "state", "failed");
	cJSON_AddItemToArray(cJSON_AddArrayToObject(bg.record, "steps"), e);
	rc = lifecycle_bg_save(&bg, cause);
	cJSON_Delete(bg.record);
	free(bg.record_path);
	return rc;
}

/* Does a live background process hold the container's lock file (or, for a
 * run an older agent started, which locked its log, that)? */
static int
lifecycle_bg_locked(const char *state_dir, const char *container_id)
{
	char *path = lifecycle_bg_lock_path(state_dir, container_id);
	int fd, locked = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 && errno == ENOENT) {
		free(path);
		path = lifecycle_log_path(state_dir, container_id);
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	free(path);
	if (fd < 0)
		return 0;
	if (flock(fd, LOCK_SH | LOCK_NB) != 0)
		locked = errno == EWOULDBLOCK;
	close(fd); /* and with it our probe's lock */
	return locked;
}

/* The record, or *record NULL when there is none. */
static int
lifecycle_bg_record_read(
    const char *state_dir, const char *container_id, cJSON **record, char **cause)
{
	char *path = lifecycle_bg_record_path(state_dir, container_id), *text = NULL;
	char *err = NULL;
	int rc = 0;

	*record = NULL;
	if (file_read_all(path, 1u << 20, &text, NULL, &err) != 0) {
		if (access(path, F_OK) != 0 && errno == ENOENT)
			free(err);
		else {
			rc = -1;
			if (cause != NULL)
				*cause = err;
			else
				free(err);
		}
	} else if ((*record = cJSON_Parse(text)) == NULL || !cJSON_IsObject(*record)) {
		cJSON_Delete(*record);
		*record = NULL;
		rc = error_set(cause, "%s: not a JSON object", path);
	}
	free(text);
	free(path);
	return rc;
}

static void
lifecycle_bg_status_fill(const cJSON *record, struct lifecycle_bg_status *st)
{
	const cJSON *state = cJSON_GetObjectItemCaseSensitive(record, "state");
	const cJSON *error = cJSON_GetObjectItemCaseSensitive(record, "error");
	const cJSON *run = cJSON_GetObjectItemCaseSensitive(record, "run");
	const cJSON *e, *s, *n;
	size_t count = 0;

	st->state = LIFECYCLE_BG_FAILED;
	for (int i = LIFECYCLE_BG_RUNNING; i <= LIFECYCLE_BG_FAILED; i++)
		if (cJSON_IsString(state) &&
		    strcmp(state->valuestring, lifecycle_bg_state_names[i]) == 0)
			st->state = i;
	/* up's own run records only a failure: anything else is garbage */
	st->foreground =
	    cJSON_IsString(run) && strcmp(run->valuestring, "foreground") == 0;
	if (st->foreground)
		st->state = LIFECYCLE_BG_FAILED;
	if (st->state == LIFECYCLE_BG_FAILED)
		st->error = xstrdup(cJSON_IsString(error)
			? error->valuestring
			: "the background lifecycle steps failed");
	if (st->state == LIFECYCLE_BG_RUNNING)
		st->left = xcalloc(LIFECYCLE_NSTEPS + 1, sizeof *st->left);
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(record, "steps")) {
		n = cJSON_GetObjectItemCaseSensitive(e, "name");
		s = cJSON_GetObjectItemCaseSensitive(e, "state");
		if (!cJSON_IsString(n) || !cJSON_IsString(s))
			continue;
		if (st->left != NULL && count < LIFECYCLE_NSTEPS &&
		    (strcmp(s->valuestring, "pending") == 0 ||
			strcmp(s->valuestring, "running") == 0))
			st->left[count++] = xstrdup(n->valuestring);
		if (st->state == LIFECYCLE_BG_FAILED && st->failed == NULL &&
		    strcmp(s->valuestring, "failed") == 0)
			st->failed = xstrdup(n->valuestring);
	}
}

int
lifecycle_bg_status_read(const char *state_dir, const char *container_id,
    struct lifecycle_bg_status *st, char **cause)
{
	cJSON *record = NULL;

	memset(st, 0, sizeof *st);
	if (lifecycle_bg_record_read(state_dir, container_id, &record, cause) != 0)
		return -1;
	if (record == NULL)
		return 0;
	lifecycle_bg_status_fill(record, st);
	if (st->state == LIFECYCLE_BG_RUNNING &&
	    !lifecycle_bg_locked(state_dir, container_id)) {
		/* Ended just now (the outcome is written before the lock goes),
		 * or died: read again to tell. */
		cJSON_Delete(record);
		lifecycle_bg_status_clear(st);
		if (lifecycle_bg_record_read(state_dir, container_id, &record, cause) !=
		    0)
			return -1;
		if (record == NULL)
			return 0;
		lifecycle_bg_status_fill(record, st);
		if (st->state == LIFECYCLE_BG_RUNNING) {
			/* the step it was in when it died is the one that failed */
			char *was = st->left != NULL && st->left[0] != NULL
			    ? xstrdup(st->left[0])
			    : NULL;

			lifecycle_bg_status_clear(st);
			st->state = LIFECYCLE_BG_FAILED;
			st->failed = was;
			st->error =
			    xstrdup("the background lifecycle steps stopped before they "
				    "ended (was their process killed?)");
		}
	}
	cJSON_Delete(record);
	return 0;
}

void
lifecycle_bg_status_clear(struct lifecycle_bg_status *st)
{
	for (char **p = st->left; p != NULL && *p != NULL; p++)
		free(*p);
	free(st->left);
	free(st->error);
	free(st->failed);
	memset(st, 0, sizeof *st);
}

cJSON *
lifecycle_bg_status_json(const struct lifecycle_bg_status *st)
{
	cJSON *o = cJSON_CreateObject(), *steps;

	if (st->foreground) {
		lifecycle_bg_set(o, "state", lifecycle_bg_state_names[LIFECYCLE_BG_NONE]);
		return o;
	}
	lifecycle_bg_set(o, "state", lifecycle_bg_state_names[st->state]);
	if (st->state == LIFECYCLE_BG_RUNNING) {
		steps = cJSON_AddArrayToObject(o, "steps");
		for (char **p = st->left; p != NULL && *p != NULL; p++)
			cJSON_AddItemToArray(steps, cJSON_CreateString(*p));
	}
	if (st->error != NULL)
		lifecycle_bg_set(o, "error", st->error);
	return o;
}

char *
lifecycle_bg_notice(
    const char *state_dir, const char *container_id, const char *follow_cmd)
{
	struct lifecycle_bg_status st;
	struct buf *b;
	char *s = NULL;
	size_t n = 0;

	if (lifecycle_bg_status_read(state_dir, container_id, &st, NULL) == 0 &&
	    st.state == LIFECYCLE_BG_RUNNING && st.left != NULL && st.left[0] != NULL) {
		while (st.left[n] != NULL)
			n++;
		b = buf_new();
		for (size_t i = 0; i < n; i++)
			buf_appendf(b, "%s%s",
			    i == 0	    ? ""
				: i + 1 < n ? ", "
					    : " and ",
			    st.left[i]);
		buf_appendf(b, " %s still running in the background (see `%s`)",
		    n > 1 ? "are" : "is", follow_cmd);
		s = buf_take_string(b, NULL);
		buf_free(b);
	}
	lifecycle_bg_status_clear(&st);
	return s;
}
