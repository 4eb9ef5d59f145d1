/* source-send.c - a SOURCE's workspace on a remote host (source-send.h). */
#include "source-send.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent-state.h"
#include "atomic-file.h"
#include "buf.h"
#include "clock.h"
#include "error.h"
#include "progress.h"
#include "proto.h"
#include "quote.h"
#include "remote.h"
#include "sync-back.h"
#include "sync-scan.h"
#include "sync-send.h"
#include "tar-stream.h"
#include "xmalloc.h"

static void
source_send_stderr(void *arg, const char *data, size_t len)
{
	(void)arg;
	if (fwrite(data, 1, len, stderr) != len) {
		/* best effort */
	}
}

/* One warning line of a send on stderr: with o->hold (up's) as up's other
 * warnings (-q holds it, shown with an error; a JSON log line with
 * o->json_log), else printed as it comes (sync's: it has its own rule for
 * -q). */
static void source_send_warn(const struct source_send_opts *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void
source_send_warn(const struct source_send_opts *o, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	if (o != NULL && o->hold)
		progress_stderr_line(o->json_log, "%s", s);
	else
		fprintf(stderr, "%s\n", s);
	free(s);
}

/* obj.name when it is a string, else NULL (borrowed). */
static const char *
source_json_string(const cJSON *obj, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The client's cache of a folder's hashes: STATE/sources/NAME.json, the
 * last scan with each file's size, mtime and inode, so that the next scan
 * reads only files that changed. New string, or NULL when there is no state
 * folder. */
static char *
source_cache_path(const struct source *src)
{
	char *cause = NULL, *dir = agent_state_dir(&cause), *path;

	free(cause);
	if (dir == NULL)
		return NULL;
	path = xasprintf("%s/sources/%s.json", dir, src->name);
	free(dir);
	return path;
}

/* The cached scan of src, or NULL (none, or unreadable: then every file is
 * hashed, as the first time). */
static struct sync_scan *
source_cache_load(const char *path)
{
	struct sync_scan *prev = NULL;
	char *text = NULL;
	size_t len;
	cJSON *j;

	if (path == NULL || file_read_all(path, 256u << 20, &text, &len, NULL) != 0)
		return NULL;
	j = cJSON_ParseWithLength(text, len);
	free(text);
	if (sync_scan_from_manifest(j, &prev, NULL) != 0)
		prev = NULL;
	cJSON_Delete(j);
	return prev;
}

/* Save scan as the cache (best effort: a cache that cannot be written only
 * costs the next scan time). */
static void
source_cache_save(const char *path, const struct sync_scan *scan)
{
	cJSON *j;
	char *text, *dir, *slash;

	if (path == NULL)
		return;
	dir = xstrdup(path);
	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	j = sync_scan_manifest(scan, 1);
	text = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	if (agent_state_mkdir_parents(dir, 0700, NULL) == 0)
		atomic_file_write(path, text, strlen(text), 0600, NULL);
	free(text);
	free(dir);
}

/* STATE/sources/NAME.from (cache: source_cache_path's, NAME.json). New
 * string, or NULL. */
static char *
source_origin_path(const char *cache)
{
	size_t n;

	if (cache == NULL || (n = strlen(cache)) < 5)
		return NULL;
	return xasprintf("%.*s.from", (int)(n - 5), cache);
}

/* Whether the record text (its folder's line, then one line per host)
 * lists host. */
static int
source_origin_has(const char *text, const char *host)
{
	const char *line = strchr(text, '\n');
	size_t n = strlen(host);

	while (line != NULL && line[1] != '\0') {
		line++;
		if (strncmp(line, host, n) == 0 && line[n] == '\n')
			return 1;
		line = strchr(line, '\n');
	}
	return 0;
}

/* Record src's folder beside its cache (cache: source_cache_path's), and
 * host among the hosts it was uploaded to, for source_gone: NAME.from, the
 * folder's line then one line per host. 0, or -1 with *cause (the upload
 * is done: the caller warns). */
static int
source_origin_save(
    const char *cache, const struct source *src, const char *host, char **cause)
{
	char *path = source_origin_path(cache), *text = NULL, *want, *dir, *slash;
	size_t len;
	int rc = 0;

	if (path == NULL || host == NULL || strchr(host, '\n') != NULL ||
	    strchr(src->path, '\n') != NULL) {
		free(path);
		return 0;
	}
	want = xasprintf("%s\n", src->path);
	if (file_read_all(path, 1 << 16, &text, &len, NULL) == 0 &&
	    strncmp(text, want, strlen(want)) == 0) {
		if (source_origin_has(text, host))
			goto out;
		free(want);
		want = xasprintf("%s%s\n", text, host);
	} else {
		free(want);
		want = xasprintf("%s\n%s\n", src->path, host);
	}
	/* (the first upload from this machine: STATE/sources/ is new) */
	dir = xstrdup(path);
	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	rc = agent_state_mkdir_parents(dir, 0700, cause);
	free(dir);
	if (rc == 0)
		rc = atomic_file_write(path, want, strlen(want), 0600, cause);
out:
	free(text);
	free(want);
	free(path);
	return rc;
}

struct source_gone_rec {
	char *name, *origin;
	time_t mtime;
};

static int
source_gone_newer(const void *a, const void *b)
{
	const struct source_gone_rec *x = a, *y = b;

	return x->mtime > y->mtime ? -1 : x->mtime < y->mtime;
}

void
source_gone(const char *host, size_t max, char ***names, char ***origins, size_t *n)
{
	char *cause = NULL, *state = agent_state_dir(&cause), *dir, *path, *text, *nl;
	struct source_gone_rec *recs = NULL;
	struct dirent *de;
	struct stat st, fst;
	size_t len, k, nrec = 0;
	DIR *d;

	*names = *origins = NULL;
	*n = 0;
	free(cause);
	if (state == NULL)
		return;
	dir = xasprintf("%s/sources", state);
	free(state);
	if ((d = opendir(dir)) == NULL) {
		free(dir);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		k = strlen(de->d_name);
		if (k <= 5 || strcmp(de->d_name + k - 5, ".from") != 0)
			continue;
		path = xasprintf("%s/%s", dir, de->d_name);
		text = NULL;
		if (stat(path, &fst) == 0 &&
		    file_read_all(path, 1 << 16, &text, &len, NULL) == 0 && len > 1 &&
		    text[len - 1] == '\n' && (nl = strchr(text, '\n')) != NULL &&
		    source_origin_has(text, host)) {
			*nl = '\0';
			if (stat(text, &st) != 0 || !S_ISDIR(st.st_mode)) {
				recs = xreallocarray(recs, nrec + 1, sizeof *recs);
				recs[nrec].name = xstrndup(de->d_name, k - 5);
				recs[nrec].origin = text;
				recs[nrec++].mtime = fst.st_mtime;
				text = NULL;
			}
		}
		free(text);
		free(path);
	}
	closedir(d);
	free(dir);
	/* (the newest max: one request each) */
	if (nrec > 0)
		qsort(recs, nrec, sizeof *recs, source_gone_newer);
	for (k = 0; k < nrec; k++) {
		if (k >= max) {
			free(recs[k].name);
			free(recs[k].origin);
			continue;
		}
		*names = xreallocarray(*names, *n + 1, sizeof **names);
		*origins = xreallocarray(*origins, *n + 1, sizeof **origins);
		(*names)[*n] = recs[k].name;
		(*origins)[(*n)++] = recs[k].origin;
	}
	free(recs);
}

void
source_gone_free(char **names, char **origins, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		free(names[k]);
		free(origins[k]);
	}
	free(names);
	free(origins);
}

void
source_gone_forget(const char *name, const char *host)
{
	struct source s = { .kind = SOURCE_LOCAL, .name = (char *)name };
	char *cache = source_cache_path(&s), *path = source_origin_path(cache);
	char *text = NULL, *out, *line, *next, *more;
	size_t len, n = strlen(host);
	int left = 0;

	if (path == NULL || file_read_all(path, 1 << 16, &text, &len, NULL) != 0 ||
	    (line = strchr(text, '\n')) == NULL)
		goto done;
	out = xstrndup(text, (size_t)(line - text) + 1);
	for (line++; *line != '\0'; line = next) {
		next = strchr(line, '\n');
		next = next != NULL ? next + 1 : line + strlen(line);
		if (strncmp(line, host, n) == 0 && line[n] == '\n')
			continue;
		left = 1;
		more = xasprintf("%s%.*s", out, (int)(next - line), line);
		free(out);
		out = more;
	}
	if (left)
		atomic_file_write(path, out, strlen(out), 0600, NULL);
	else
		unlink(path);
	free(out);
done:
	free(text);
	free(path);
	free(cache);
}

/* The "sync" request for scan (del NULL: the whole folder; else a batch
 * of a live sync, del the paths deleted), over r's agent connection. */
static int
source_send_request(struct remote *r, const struct source *src,
    const struct sync_scan *scan, char *const *del, size_t ndel, char **folder,
    struct source_send_stats *st, char **cause)
{
	long long t0 = clock_now_ms();

	if (remote_connect(r, cause) != 0)
		return -1;
	st->connect_seconds += (double)(clock_now_ms() - t0) / 1000.0;
	return sync_send(remote_conn(r), remote_next_id(r), src->path, src->name, scan,
	    del, ndel, folder, st, cause);
}

/* Upload a local folder (the "sync" request). */
static int
source_send_upload(struct remote *r, const struct source *src,
    const struct source_send_opts *o, char **folder, struct source_send_stats *st,
    char **cause)
{
	struct sync_ignore *ig = NULL;
	struct sync_scan *scan = NULL, *prev;
	char *cache = source_cache_path(src), *oc = NULL, *names, *host_key;
	int rc = -1;

	prev = source_cache_load(cache);
	if (sync_scan_ignore(src->path, o->scan_flags, &ig, cause) != 0 ||
	    sync_scan(src->path, ig, prev, &scan, cause) != 0)
		goto out;
	st->files = (long long)scan->n;
	st->skipped = (long long)scan->skipped;
	/* (one warning, the first names quoted, as a live sync names those
	 * it sees change: never just a count) */
	if ((names = sync_scan_bad_names(scan)) != NULL) {
		struct quote_kept k = { 0 };

		source_send_warn(o,
		    "rdev: warning: %s: %zu name%s skipped: %s (" SYNC_SCAN_SKIPPED_WHY
		    ")",
		    quote_shown(&k, src->path), scan->bad_names,
		    scan->bad_names == 1 ? "" : "s", names);
		quote_kept_free(&k);
		free(names);
	}
	if (source_send_request(r, src, scan, NULL, 0, folder, st, cause) != 0)
		goto out;
	host_key = remote_host_key(r);
	if (source_origin_save(cache, src, host_key, &oc) != 0) {
		/* (only a later error's listing of moved folders misses it) */
		source_send_warn(
		    o, "rdev: warning: recording where %s came from: %s", src->path, oc);
		free(oc);
	}
	free(host_key);
	/* (unchanged when every hash was lent and no entry came or went) */
	if (prev == NULL || scan->hashed > 0 || prev->n != scan->n)
		source_cache_save(cache, scan);
	if (o->scan != NULL) {
		*o->scan = scan;
		scan = NULL;
	}
	rc = 0;
out:
	free(cache);
	sync_scan_free(prev);
	sync_scan_free(scan);
	sync_ignore_free(ig);
	return rc;
}

/* source_send_warn_host_changes()'s, each line by o's rule (source_send_warn). */
static void
source_send_warn_changes(const struct source_send_opts *o, const char *host,
    const struct source_send_stats *st)
{
	const cJSON *p;
	long long named = 0;

	cJSON_ArrayForEach(p, st->host_changed_paths) {
		source_send_warn(o, "rdev: warning: %s: " SYNC_SEND_HOST_CHANGED_FMT,
		    host, p->valuestring);
		named++;
	}
	if (st->host_changed > named)
		source_send_warn(o, "rdev: warning: %s: " SYNC_SEND_HOST_CHANGED_REST_FMT,
		    host, named > 0 ? "and " : "", st->host_changed - named);
	named = 0;
	cJSON_ArrayForEach(p, st->host_kept_paths) {
		source_send_warn(o, "rdev: warning: %s: " SYNC_SEND_HOST_KEPT_FMT, host,
		    p->valuestring);
		named++;
	}
	if (st->host_kept > named)
		source_send_warn(o, "rdev: warning: %s: " SYNC_SEND_HOST_KEPT_REST_FMT,
		    host, named > 0 ? "and " : "", st->host_kept - named);
	named = 0;
	cJSON_ArrayForEach(p, st->kept_as) {
		source_send_warn(o, "rdev: sync: %s: " SYNC_BACK_CONFLICT_FMT, host,
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "path")),
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "as")));
		named++;
	}
	if (st->kept > named)
		source_send_warn(o, "rdev: sync: %s: " SYNC_SEND_KEPT_REST_FMT, host,
		    named > 0 ? "and " : "", st->kept - named);
}

void
source_send_warn_host_changes(const char *host, const struct source_send_stats *st)
{
	source_send_warn_changes(NULL, host, st);
}

/* Clear st for a new request, keeping the caller's arrays (of paths, of
 * failed entries, and those named by a folder), keep_host_changes and
 * pull_ack. */
static void
source_send_stats_reset(struct source_send_stats *st)
{
	struct source_send_stats old = *st;

	memset(st, 0, sizeof *st);
	st->host_changed_paths = old.host_changed_paths;
	st->host_kept_paths = old.host_kept_paths;
	st->kept_as = old.kept_as;
	st->failed = old.failed;
	st->failed_under = old.failed_under;
	st->nfailed_under = old.nfailed_under;
	st->failed_under_first = old.failed_under_first;
	st->failed_under_type = old.failed_under_type;
	st->keep_host_changes = old.keep_host_changes;
	st->pull_ack = old.pull_ack;
}

int
source_send_full(struct remote *r, const struct source *s, const struct sync_scan *scan,
    struct source_send_stats *st, char **cause)
{
	source_send_stats_reset(st);
	st->files = (long long)scan->n;
	st->skipped = (long long)scan->skipped;
	return source_send_request(r, s, scan, NULL, 0, NULL, st, cause);
}

int
source_send_batch(struct remote *r, const struct source *s,
    const struct sync_scan *changed, char *const *del, size_t ndel,
    struct source_send_stats *st, char **cause)
{
	static char *const none[1] = { NULL };

	source_send_stats_reset(st);
	st->files = (long long)changed->n;
	return source_send_request(
	    r, s, changed, del != NULL ? del : none, ndel, NULL, st, cause);
}

/* Clone or fetch a git URL on the host (the "clone" request). */
static int
source_send_clone(struct remote *r, const struct source *src,
    const struct source_send_opts *o, char **folder, char **cause)
{
	struct progress p = { .fn = source_send_stderr };
	const cJSON *w;
	cJSON *req = cJSON_CreateObject(), *res = NULL;
	const char *f;

	cJSON_AddStringToObject(req, "op", "clone");
	cJSON_AddStringToObject(req, "name", src->name);
	cJSON_AddStringToObject(req, "url", src->url);
	if (remote_request(r, req, o->quiet ? NULL : &p, &res, NULL, cause) != 0)
		return -1;
	if ((f = source_json_string(res, "folder")) == NULL) {
		cJSON_Delete(res);
		return error_set(cause, "the agent's clone answer has no folder");
	}
	*folder = xstrdup(f);
	cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(res, "warnings"))
		if (cJSON_IsString(w))
			source_send_warn(o, "rdev: warning: %s", w->valuestring);
	cJSON_Delete(res);
	return 0;
}

int
source_send(struct remote *r, const struct source *s, const struct source_send_opts *o,
    char **folder, struct source_send_stats *st, char **cause)
{
	struct source_send_stats own = { 0 };
	int quiet = o->quiet;
	long long t0;
	int rc;

	*folder = NULL;
	if (st == NULL)
		st = &own;
	memset(st, 0, sizeof *st);
	t0 = clock_now_ms();
	if (s->kind == SOURCE_GIT)
		rc = source_send_clone(r, s, o, folder, cause);
	else {
		st->host_changed_paths = cJSON_CreateArray();
		st->host_kept_paths = cJSON_CreateArray();
		if (o->entry_errors)
			st->failed = cJSON_CreateArray();
		if (o->keep_host_changes) {
			st->keep_host_changes = 1;
			st->kept_as = cJSON_CreateArray();
		}
		rc = source_send_upload(r, s, o, folder, st, cause);
		source_send_warn_changes(o, remote_host(r), st);
		cJSON_Delete(st->host_changed_paths);
		cJSON_Delete(st->host_kept_paths);
		cJSON_Delete(st->kept_as);
		st->host_changed_paths = st->host_kept_paths = st->kept_as = NULL;
	}
	st->seconds = (double)(clock_now_ms() - t0) / 1000.0;
	if (st == &own || rc != 0) {
		sync_send_failed_free(st);
		st->failed_count = 0;
	}
	/* (the agent's kind of error, never its words: a message of this
	 * machine's may start as the host's does) */
	if (rc != 0 && st->host_write_failed)
		return error_prefix(cause, "%s: on %s", s->text, remote_host(r));
	if (rc != 0)
		return error_prefix(cause, "%s", s->text);
	if (!quiet && s->kind == SOURCE_LOCAL)
		progress_stderr_line(o->json_log,
		    "rdev: %s -> %s:%s: %lld of %lld entries sent (%lld bytes), "
		    "%lld deleted, in %.2f s",
		    s->text, remote_host(r), *folder, st->sent, st->files, st->sent_bytes,
		    st->deleted, st->seconds - st->connect_seconds);
	return 0;
}

int
source_folder(
    struct remote *r, const struct source *s, char **folder, int *exists, char **cause)
{
	cJSON *req = cJSON_CreateObject(), *res = NULL;
	const char *f;

	cJSON_AddStringToObject(req, "op", "source-folder");
	cJSON_AddStringToObject(req, "name", s->name);
	if (remote_request(r, req, NULL, &res, NULL, cause) != 0)
		return -1;
	if ((f = source_json_string(res, "folder")) == NULL) {
		cJSON_Delete(res);
		return error_set(cause, "the agent's source-folder answer has no folder");
	}
	*folder = xstrdup(f);
	*exists = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(res, "exists"));
	cJSON_Delete(res);
	return 0;
}

cJSON *
source_send_stats_json(const struct source_send_stats *st, const char *folder)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "folder", folder);
	cJSON_AddNumberToObject(o, "files", (double)st->files);
	cJSON_AddNumberToObject(o, "sent", (double)st->sent);
	cJSON_AddNumberToObject(o, "sentBytes", (double)st->sent_bytes);
	cJSON_AddNumberToObject(o, "deleted", (double)st->deleted);
	cJSON_AddNumberToObject(o, "skipped", (double)st->skipped);
	cJSON_AddNumberToObject(o, "hostChanged", (double)st->host_changed);
	cJSON_AddNumberToObject(o, "hostKept", (double)st->host_kept);
	if (st->kept > 0) /* (two-way: conflicts the agent kept) */
		cJSON_AddNumberToObject(o, "conflicts", (double)st->kept);
	cJSON_AddNumberToObject(o, "seconds", st->seconds);
	return o;
}
