/* sync-index.c - the agent's index of what syncs wrote (sync-index.h). */
#include "sync-index.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "agent-state.h"
#include "atomic-file.h"
#include "error.h"
#include "log.h"
#include "xmalloc.h"

/* A journal is rewritten into the base past max(this, half the base). */
#define SYNC_INDEX_JOURNAL_MIN (256u << 10)

static char *
sync_index_journal_path(const char *path)
{
	return xasprintf("%s.journal", path);
}

/* One journal line onto *s: 0, or -1 when it cannot be read. */
static int
sync_index_replay(
    struct sync_scan **s, const struct sync_index *ix, const char *line, size_t len)
{
	cJSON *j = cJSON_ParseWithLength(line, len);
	const cJSON *gen = cJSON_GetObjectItemCaseSensitive(j, "gen");
	struct sync_scan *put = NULL;
	char **drop = NULL, *cause = NULL;
	size_t ndrop = 0;
	int rc = -1;

	if (!cJSON_IsNumber(gen))
		goto out;
	if ((unsigned long long)gen->valuedouble != ix->gen) {
		rc = 0; /* (of an older base: ignored) */
		goto out;
	}
	if (sync_scan_from_manifest(
		cJSON_GetObjectItemCaseSensitive(j, "put"), &put, &cause) != 0 ||
	    sync_paths_from_json(
		cJSON_GetObjectItemCaseSensitive(j, "drop"), &drop, &ndrop, &cause) != 0)
		goto out;
	if (ndrop > 0)
		qsort(drop, ndrop, sizeof *drop, sync_path_cmp);
	sync_scan_apply(s, put, drop, ndrop);
	put = NULL;
	rc = 0;
out:
	free(cause);
	sync_scan_free(put);
	sync_paths_free(drop, ndrop);
	cJSON_Delete(j);
	return rc;
}

/* The journal's lines onto *s, up to the first that cannot be read. */
static void
sync_index_load_journal(const char *path, struct sync_index *ix, struct sync_scan **s)
{
	char *jpath = sync_index_journal_path(path), *text = NULL, *cause = NULL;
	const char *p, *nl;
	size_t len;

	if (file_read_all(jpath, SYNC_INDEX_MAX, &text, &len, &cause) != 0) {
		free(cause);
		free(jpath);
		return;
	}
	ix->journal_len = len;
	for (p = text; p < text + len; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(text + len - p));
		if (nl == NULL || sync_index_replay(s, ix, p, (size_t)(nl - p)) != 0) {
			log_warn("sync: %s: a damaged line (after a crash?): the rest "
				 "is ignored, the index rewritten",
			    jpath);
			ix->journal_bad = 1;
			break;
		}
	}
	free(text);
	free(jpath);
}

int
sync_index_load(const char *path, struct sync_index *ix, struct sync_scan **out)
{
	char *text = NULL, *cause = NULL;
	const cJSON *gen;
	cJSON *j;
	size_t len;

	memset(ix, 0, sizeof *ix);
	*out = NULL;
	if (file_read_all(path, SYNC_INDEX_MAX, &text, &len, &cause) != 0) {
		free(cause);
		*out = xcalloc(1, sizeof **out);
		return -1;
	}
	j = cJSON_ParseWithLength(text, len);
	free(text);
	if (sync_scan_from_manifest(
		cJSON_GetObjectItemCaseSensitive(j, "files"), out, &cause) != 0) {
		log_warn("sync: %s: %s (ignored)", path, cause);
		free(cause);
		cJSON_Delete(j);
		*out = xcalloc(1, sizeof **out);
		return -1;
	}
	gen = cJSON_GetObjectItemCaseSensitive(j, "gen");
	ix->gen = cJSON_IsNumber(gen) ? (unsigned long long)gen->valuedouble : 0;
	ix->base_len = len;
	cJSON_Delete(j);
	sync_index_load_journal(path, ix, out);
	return 0;
}

/* Is x the same entry as y (what the index records of it)? */
static int
sync_index_entry_same(const struct sync_entry *x, const struct sync_entry *y)
{
	return strcmp(x->path, y->path) == 0 && x->type == y->type &&
	    x->mode == y->mode && x->size == y->size && x->mtime_ns == y->mtime_ns &&
	    x->ino == y->ino && strcmp(x->hash, y->hash) == 0 &&
	    ((x->link == NULL && y->link == NULL) ||
		(x->link != NULL && y->link != NULL && strcmp(x->link, y->link) == 0));
}

int
sync_index_same(const struct sync_scan *a, const struct sync_scan *b)
{
	if (a->n != b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++)
		if (!sync_index_entry_same(&a->v[i], &b->v[i]))
			return 0;
	return 1;
}

/* The whole index as the base (gen + 1), and no journal. */
static void
sync_index_write_base(const char *path, const char *folder, struct sync_index *ix,
    const struct sync_scan *idx)
{
	char *text, *cause = NULL, *jpath;
	cJSON *j = cJSON_CreateObject();

	cJSON_AddStringToObject(j, "folder", folder);
	cJSON_AddNumberToObject(j, "gen", (double)(ix->gen + 1));
	cJSON_AddItemToObject(j, "files", sync_scan_manifest(idx, 1));
	text = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	if (atomic_file_write(path, text, strlen(text), 0600, &cause) != 0) {
		log_warn("sync: %s", cause);
		/* the disk keeps the old base: no line may go on its journal
		 * until a base is written again */
		ix->journal_bad = 1;
		free(cause);
		free(text);
		return;
	}
	/* (a crash before this leaves lines of the old gen: ignored) */
	jpath = sync_index_journal_path(path);
	if (unlink(jpath) != 0 && errno != ENOENT)
		log_warn("sync: %s: %s", jpath, strerror(errno));
	ix->gen++;
	ix->base_len = strlen(text);
	ix->journal_len = 0;
	ix->journal_bad = 0;
	free(jpath);
	free(text);
}

/* The difference of idx from old (both in path order: one walk of the
 * two) as one journal line (new). */
static char *
sync_index_line(
    const struct sync_index *ix, const struct sync_scan *old, const struct sync_scan *idx)
{
	struct sync_scan put = { 0 };
	cJSON *j = cJSON_CreateObject(), *drop;
	char *text, *line;
	size_t i = 0, k = 0;
	int cmp;

	put.v = xcalloc(idx->n + 1, sizeof *put.v);
	drop = cJSON_CreateArray();
	while (i < old->n || k < idx->n) {
		cmp = i == old->n ? 1
		    : k == idx->n ? -1
				  : strcmp(old->v[i].path, idx->v[k].path);
		if (cmp < 0)
			cJSON_AddItemToArray(drop, cJSON_CreateString(old->v[i].path));
		else if (cmp > 0 || !sync_index_entry_same(&old->v[i], &idx->v[k]))
			put.v[put.n++] = idx->v[k]; /* (borrowed) */
		i += cmp <= 0;
		k += cmp >= 0;
	}
	cJSON_AddNumberToObject(j, "gen", (double)ix->gen);
	cJSON_AddItemToObject(j, "put", sync_scan_manifest(&put, 1));
	cJSON_AddItemToObject(j, "drop", drop);
	free(put.v);
	text = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	line = xasprintf("%s\n", text);
	free(text);
	return line;
}

void
sync_index_save(const char *path, const char *folder, struct sync_index *ix,
    const struct sync_scan *old, const struct sync_scan *idx, int whole)
{
	char *dir = xstrdup(path), *slash, *cause = NULL, *line, *jpath;
	size_t len, limit;
	int fd;

	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	if (agent_state_mkdir_parents(dir, 0700, &cause) != 0) {
		log_warn("sync: %s", cause);
		free(cause);
		free(dir);
		return;
	}
	free(dir);
	limit = ix->base_len / 2 > SYNC_INDEX_JOURNAL_MIN ? ix->base_len / 2
							  : SYNC_INDEX_JOURNAL_MIN;
	if (whole || ix->journal_bad || ix->base_len == 0) {
		sync_index_write_base(path, folder, ix, idx);
		return;
	}
	line = sync_index_line(ix, old, idx);
	len = strlen(line);
	if (ix->journal_len + len > limit) {
		free(line);
		sync_index_write_base(path, folder, ix, idx);
		return;
	}
	jpath = sync_index_journal_path(path);
	fd = open(jpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0 || fd_write_all(fd, line, len) != 0 || fdatasync(fd) != 0) {
		log_warn(
		    "sync: %s: %s (the index is written whole)", jpath, strerror(errno));
		ix->journal_bad = 1; /* (a line may be cut short) */
		sync_index_write_base(path, folder, ix, idx);
	} else
		ix->journal_len += len;
	if (fd >= 0)
		close(fd);
	free(jpath);
	free(line);
}

int
sync_entry_differ(const struct sync_entry *a, const struct sync_entry *b)
{
	if (a->type != b->type)
		return 1;
	if (a->type == 'l')
		return strcmp(a->link, b->link) != 0;
	if (a->type == 'd')
		return 0;
	return strcmp(a->hash, b->hash) != 0 || a->mode != b->mode;
}

int
sync_entry_same(const struct sync_entry *a, const struct sync_entry *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return !sync_entry_differ(a, b);
}

struct sync_scan *
sync_index_manifest_read(const char *path, size_t max, char **tag, char **cause)
{
	struct sync_scan *s = NULL;
	const cJSON *m, *t;
	char *text = NULL;
	cJSON *j;
	size_t len;

	if (tag != NULL)
		*tag = NULL;
	if (file_read_all(path, max, &text, &len, cause) != 0) {
		if (access(path, F_OK) != 0 && errno == ENOENT) {
			free(*cause); /* (none) */
			*cause = NULL;
		}
		return NULL;
	}
	j = cJSON_ParseWithLength(text, len);
	free(text);
	m = cJSON_IsObject(j) ? cJSON_GetObjectItemCaseSensitive(j, "files") : j;
	t = cJSON_IsObject(j) ? cJSON_GetObjectItemCaseSensitive(j, "tag") : NULL;
	if (sync_scan_from_manifest(m, &s, cause) != 0)
		error_prefix(cause, "%s", path);
	else if (tag != NULL && cJSON_IsString(t))
		*tag = xstrdup(t->valuestring);
	cJSON_Delete(j);
	return s;
}

int
sync_index_manifest_write(
    const char *path, const struct sync_scan *s, const char *tag, char **cause)
{
	char *text;
	cJSON *m;
	int rc;

	if ((s == NULL || s->n == 0) && tag == NULL) {
		if (unlink(path) != 0 && errno != ENOENT)
			return error_set_errno(cause, errno, "%s", path);
		return 0;
	}
	m = s != NULL ? sync_scan_manifest(s, 1) : cJSON_CreateArray();
	if (tag != NULL) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "tag", tag);
		cJSON_AddItemToObject(o, "files", m);
		m = o;
	}
	text = cJSON_PrintUnformatted(m);
	cJSON_Delete(m);
	rc = atomic_file_write(path, text, strlen(text), 0600, cause);
	free(text);
	return rc;
}
