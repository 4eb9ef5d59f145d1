/* feature-lock.c - devcontainer-lock.json as the reference CLI reads and
 * writes it (feature-lock.h). */
#include "feature-lock.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic-file.h"
#include "buf.h"
#include "config.h"
#include "error.h"
#include "feature-fetch.h"
#include "feature-json.h"
#include "feature-resolve.h"
#include "progress.h"
#include "xmalloc.h"

/* Largest lockfile read. */
#define FEATURE_LOCK_MAX (16u << 20)

char *
feature_lock_path(const char *config_path)
{
	const char *slash = strrchr(config_path, '/');
	const char *base = slash != NULL ? slash + 1 : config_path;
	int dir_len = slash != NULL ? (int)(slash - config_path) + 1 : 0;

	return xasprintf("%.*s%s", dir_len, config_path,
	    base[0] == '.' ? ".devcontainer-lock.json" : "devcontainer-lock.json");
}

/* The lockfile's text: 0 with *text (NUL-terminated, *len bytes) or with
 * *text NULL when the file does not exist; -1 with *cause. */
static int
feature_lock_read_text(const char *path, char **text, size_t *len, char **cause)
{
	char *err = NULL;

	*text = NULL;
	if (file_read_all(path, FEATURE_LOCK_MAX, text, len, &err) == 0)
		return 0;
	*text = NULL;
	if (access(path, F_OK) != 0 && errno == ENOENT) {
		free(err);
		return 0;
	}
	error_set(cause, "%s", err);
	free(err);
	return -1;
}

int
feature_lock_read(const char *path, cJSON **doc, char **cause)
{
	char *text = NULL;
	const char *p;
	size_t len;

	*doc = NULL;
	if (feature_lock_read_text(path, &text, &len, cause) != 0)
		return -1;
	if (text == NULL)
		return 0;
	for (p = text; *p == ' ' || *p == '\n' || *p == '\t' || *p == '\r'; p++)
		;
	if (*p == '\0') { /* an empty file: the reference's "initLockfile" */
		free(text);
		return 0;
	}
	*doc = cJSON_ParseWithLength(text, len);
	free(text);
	if (!cJSON_IsObject(*doc)) {
		cJSON_Delete(*doc);
		*doc = NULL;
		return error_set(cause, "%s: not a JSON object", path);
	}
	if (cJSON_GetObjectItemCaseSensitive(*doc, "features") != NULL &&
	    !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(*doc, "features"))) {
		cJSON_Delete(*doc);
		*doc = NULL;
		return error_set(cause, "%s: \"features\" is not an object", path);
	}
	return 0;
}

/* A string property of an entry, or NULL (absent); -1 when it is not a string. */
static int
feature_lock_string(const cJSON *o, const char *name, char **out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	*out = NULL;
	if (v == NULL)
		return 0;
	if (!cJSON_IsString(v))
		return -1;
	*out = xstrdup(v->valuestring);
	return 0;
}

int
feature_lock_get(
    const cJSON *doc, const char *id, struct feature_lock_entry *e, char **cause)
{
	const cJSON *o, *deps, *d;
	size_t n = 0;

	memset(e, 0, sizeof *e);
	o = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(doc, "features"), id);
	if (o == NULL)
		return 0;
	if (!cJSON_IsObject(o) || feature_lock_string(o, "version", &e->version) != 0 ||
	    feature_lock_string(o, "resolved", &e->resolved) != 0 ||
	    feature_lock_string(o, "integrity", &e->integrity) != 0)
		goto bad;
	if (e->integrity != NULL && !feature_ref_digest_valid(e->integrity))
		goto bad;
	deps = cJSON_GetObjectItemCaseSensitive(o, "dependsOn");
	if (deps != NULL) {
		if (!cJSON_IsArray(deps))
			goto bad;
		e->depends_on =
		    xcalloc((size_t)cJSON_GetArraySize(deps) + 1, sizeof *e->depends_on);
		cJSON_ArrayForEach(d, deps) {
			if (!cJSON_IsString(d))
				goto bad;
			e->depends_on[n++] = xstrdup(d->valuestring);
		}
	}
	return 1;
bad:
	feature_lock_entry_clear(e);
	return error_set(
	    cause, "devcontainer-lock.json: malformed entry for Feature '%s'", id);
}

/* The ASCII characters in the order of their primary weights in ICU's root
 * collation, which the reference's localeCompare uses (node -e: sort them
 * with localeCompare): punctuation and symbols, then digits, then letters,
 * each letter's two cases as one. */
static const char feature_lock_collation[] =
    " _-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$0123456789abcdefghijklmnopqrstuvwxyz";

/* c's primary weight: its place in feature_lock_collation, other bytes
 * (UTF-8) after all of those in byte order; -1 for a control character,
 * which ICU ignores. */
static int
feature_lock_weight(unsigned char c)
{
	const char *p;

	if (c < 0x20 || c == 0x7f)
		return -1;
	if (c >= 'A' && c <= 'Z')
		c = (unsigned char)(c - 'A' + 'a');
	if (c < 0x80 && (p = strchr(feature_lock_collation, c)) != NULL)
		return (int)(p - feature_lock_collation);
	return (int)sizeof feature_lock_collation + c;
}

/* The reference's x.localeCompare(y) on ids: the primary weights of the
 * whole strings first (so "a_b" < "a-b" < "ab" and case does not count),
 * then case: at the first letter whose case differs, lower case first. */
static int
feature_lock_collate(const char *x, const char *y)
{
	const unsigned char *a = (const unsigned char *)x;
	const unsigned char *b = (const unsigned char *)y;
	int wa, wb;

	for (;;) {
		while (*a != '\0' && feature_lock_weight(*a) < 0)
			a++;
		while (*b != '\0' && feature_lock_weight(*b) < 0)
			b++;
		if (*a == '\0' || *b == '\0')
			break;
		wa = feature_lock_weight(*a++);
		wb = feature_lock_weight(*b++);
		if (wa != wb)
			return wa < wb ? -1 : 1;
	}
	if (*a != *b)
		return *a == '\0' ? -1 : 1;
	for (a = (const unsigned char *)x, b = (const unsigned char *)y;
	     *a != '\0' && *b != '\0'; a++, b++)
		if (*a != *b && (*a | 0x20) == (*b | 0x20))
			return *a > *b ? -1 : 1; /* 'a' (0x61) before 'A' (0x41) */
	return strcmp(x, y);
}

/* qsort on object members by key, feature_lock_collate order. */
static int
feature_lock_cmp(const void *a, const void *b)
{
	return feature_lock_collate(
	    (*(const cJSON *const *)a)->string, (*(const cJSON *const *)b)->string);
}

void
feature_lock_set(cJSON **doc, const char *id, const struct feature_lock_entry *e)
{
	cJSON *features, *o;

	if (*doc == NULL && (*doc = cJSON_CreateObject()) == NULL)
		fatal("cJSON: out of memory");
	features = cJSON_GetObjectItemCaseSensitive(*doc, "features");
	if (!cJSON_IsObject(features)) {
		cJSON_DeleteItemFromObjectCaseSensitive(*doc, "features");
		features = cJSON_AddObjectToObject(*doc, "features");
	}
	cJSON_DeleteItemFromObjectCaseSensitive(features, id);
	o = cJSON_AddObjectToObject(features, id);
	if (e->version != NULL)
		cJSON_AddStringToObject(o, "version", e->version);
	if (e->resolved != NULL)
		cJSON_AddStringToObject(o, "resolved", e->resolved);
	if (e->integrity != NULL)
		cJSON_AddStringToObject(o, "integrity", e->integrity);
	if (e->depends_on != NULL && e->depends_on[0] != NULL) {
		cJSON *deps = cJSON_AddArrayToObject(o, "dependsOn");
		for (size_t i = 0; e->depends_on[i] != NULL; i++)
			cJSON_AddItemToArray(deps, cJSON_CreateString(e->depends_on[i]));
	}
}

/* Append v as JSON.stringify(v, null, 2) does at indentation depth. */
static void
feature_lock_print(struct buf *b, const cJSON *v, int depth)
{
	const cJSON *c;
	char *leaf;

	if ((!cJSON_IsObject(v) && !cJSON_IsArray(v)) || v->child == NULL) {
		if ((leaf = cJSON_PrintUnformatted(v)) == NULL)
			fatal("cJSON: out of memory");
		buf_appendf(b, "%s", leaf);
		cJSON_free(leaf);
		return;
	}
	buf_appendf(b, "%c\n", cJSON_IsObject(v) ? '{' : '[');
	for (c = v->child; c != NULL; c = c->next) {
		buf_appendf(b, "%*s", 2 * (depth + 1), "");
		if (cJSON_IsObject(v)) {
			cJSON *key = cJSON_CreateString(c->string);
			feature_lock_print(b, key, 0);
			cJSON_Delete(key);
			buf_appendf(b, ": ");
		}
		feature_lock_print(b, c, depth + 1);
		buf_appendf(b, "%s\n", c->next != NULL ? "," : "");
	}
	buf_appendf(b, "%*s%c", 2 * depth, "", cJSON_IsObject(v) ? '}' : ']');
}

/* JSON.stringify(v, null, 2) and a newline. New string. */
static char *
feature_lock_stringify(const cJSON *v)
{
	struct buf *b = buf_new();
	char *text;

	feature_lock_print(b, v, 0);
	buf_appendf(b, "\n");
	text = buf_take_string(b, NULL);
	buf_free(b);
	return text;
}

/* Put the members of object obj in feature_lock_cmp order. */
static void
feature_lock_sort(cJSON *obj)
{
	cJSON **items, *c;
	size_t n = 0, i = 0;

	for (c = obj->child; c != NULL; c = c->next)
		n++;
	if (n < 2)
		return;
	items = xcalloc(n, sizeof *items);
	for (c = obj->child; c != NULL; c = c->next)
		items[i++] = c;
	qsort(items, n, sizeof *items, feature_lock_cmp);
	for (i = 0; i < n; i++)
		cJSON_DetachItemViaPointer(obj, items[i]);
	/* Added as array items, which keeps each one's key. */
	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(obj, items[i]);
	free(items);
}

char *
feature_lock_format(const cJSON *doc)
{
	cJSON *copy;
	char *text;

	if (doc == NULL)
		return xstrdup("{}\n");
	if ((copy = cJSON_Duplicate(doc, 1)) == NULL)
		fatal("cJSON: out of memory");
	/* The top level as given, "features" sorted by id. */
	if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(copy, "features")))
		feature_lock_sort(cJSON_GetObjectItemCaseSensitive(copy, "features"));
	text = feature_lock_stringify(copy);
	cJSON_Delete(copy);
	return text;
}

char *
feature_lock_normalize(const char *text, size_t len)
{
	cJSON *doc = cJSON_ParseWithLength(text, len);
	char *out;

	if (doc == NULL)
		return NULL;
	out = feature_lock_stringify(doc);
	cJSON_Delete(doc);
	return out;
}

/* id's entry in doc's "features", or NULL. */
static const cJSON *
feature_lock_entry_of(const cJSON *doc, const char *id)
{
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(doc, "features");

	return cJSON_IsObject(f) ? cJSON_GetObjectItemCaseSensitive(f, id) : NULL;
}

/* Compact JSON of v. New string. */
static char *
feature_lock_compact(const cJSON *v)
{
	char *s = cJSON_PrintUnformatted(v), *copy;

	if (s == NULL)
		fatal("cJSON: out of memory");
	copy = xstrdup(s);
	cJSON_free(s);
	return copy;
}

char *
feature_lock_diff(const cJSON *have, const cJSON *want)
{
	const cJSON *features[2] = {
		cJSON_GetObjectItemCaseSensitive(have, "features"),
		cJSON_GetObjectItemCaseSensitive(want, "features"),
	};
	const cJSON *first = NULL, *c, *h, *w;
	char *hs, *ws, *why;

	if (!cJSON_IsObject(have))
		return xstrdup("it is not a JSON object");
	/* The first id (in sorted order) that differs: what the Features
	 * resolve to first, then what the lockfile has besides. */
	for (int side = 1; side >= 0 && first == NULL; side--) {
		if (!cJSON_IsObject(features[side]))
			continue;
		for (c = features[side]->child; c != NULL; c = c->next) {
			h = feature_lock_entry_of(have, c->string);
			w = feature_lock_entry_of(want, c->string);
			if ((h == NULL || w == NULL || !cJSON_Compare(h, w, 1)) &&
			    (first == NULL ||
				feature_lock_collate(c->string, first->string) < 0))
				first = c;
		}
	}
	if (first == NULL)
		return xstrdup("its entries agree, but not their order or its "
			       "other properties (it is not as it would be written)");
	h = feature_lock_entry_of(have, first->string);
	w = feature_lock_entry_of(want, first->string);
	if (h == NULL)
		return xasprintf("Feature '%s' is not in it", first->string);
	if (w == NULL)
		return xasprintf(
		    "it has Feature '%s', which the configuration does not use",
		    first->string);
	hs = feature_lock_compact(h);
	ws = feature_lock_compact(w);
	why = xasprintf(
	    "Feature '%s': it has %s, the Feature resolves to %s", first->string, hs, ws);
	free(hs);
	free(ws);
	return why;
}

int
feature_lock_update(const char *path, const cJSON *doc, int frozen, char **cause)
{
	return feature_lock_update_text(path, doc, frozen, NULL, cause);
}

int
feature_lock_update_text(
    const char *path, const cJSON *doc, int frozen, char **now, char **cause)
{
	char *want = feature_lock_format(doc), *text = NULL, *have = NULL, *why;
	cJSON *old;
	size_t len = 0;
	int rc;

	if (now != NULL)
		*now = NULL;

	if (feature_lock_read_text(path, &text, &len, cause) != 0) {
		rc = -1;
		goto out;
	}
	if (text == NULL && frozen) {
		rc = error_set(cause,
		    "%s does not exist (--frozen-lockfile wants it as it would be "
		    "written: run `rdev upgrade`, or up or build without "
		    "--frozen-lockfile)",
		    path);
		goto out;
	}
	if (text != NULL)
		have = feature_lock_normalize(text, len);
	if (have != NULL && strcmp(have, want) == 0)
		rc = 0;
	else if (frozen) {
		old = cJSON_ParseWithLength(text, len);
		why = feature_lock_diff(old, doc);
		rc = error_set(cause,
		    "%s does not match the configuration's Features "
		    "(--frozen-lockfile): %s",
		    path, why);
		free(why);
		cJSON_Delete(old);
	} else
		rc = feature_lock_write(path, doc, cause) == 0 ? 1 : -1;
	/* Unchanged: the bytes the file holds, its own spacing kept. */
	if (now != NULL && rc == 0)
		*now = text, text = NULL;
	else if (now != NULL && rc == 1)
		*now = want, want = NULL;
out:
	free(have);
	free(text);
	free(want);
	return rc;
}

int
feature_lock_write(const char *path, const cJSON *doc, char **cause)
{
	char *text = feature_lock_format(doc);
	int rc = 0;

	if (atomic_file_write(path, text, strlen(text), 0644, cause) != 0)
		rc = error_prefix(cause, "%s", path);
	free(text);
	return rc;
}

/* The entry of Feature f: 1 with *e filled (its strings borrowed from f,
 * e->depends_on new), 0 when f is local (no entry). */
static int
feature_lock_entry_make(const struct feature *f, struct feature_lock_entry *e)
{
	const cJSON *root = feature_json_root(f->json), *deps, *d;
	const cJSON *version = cJSON_GetObjectItemCaseSensitive(root, "version");
	size_t n = 0;

	memset(e, 0, sizeof *e);
	if (f->integrity == NULL)
		return 0;
	e->version = cJSON_IsString(version) ? version->valuestring : NULL;
	e->resolved = f->resolved;
	e->integrity = f->integrity;
	deps = cJSON_GetObjectItemCaseSensitive(root, "dependsOn");
	if (cJSON_GetArraySize(deps) == 0)
		return 1;
	e->depends_on =
	    xcalloc((size_t)cJSON_GetArraySize(deps) + 1, sizeof *e->depends_on);
	cJSON_ArrayForEach(d, deps)
		e->depends_on[n++] = d->string;
	return 1;
}

cJSON *
feature_lock_of_set(
    const struct feature_set *fs, const cJSON *features, const cJSON *additional)
{
	struct feature_lock_entry e;
	const struct feature *f;
	cJSON *doc = cJSON_CreateObject();

	if (doc == NULL || cJSON_AddObjectToObject(doc, "features") == NULL)
		fatal("cJSON: out of memory");
	for (size_t i = 0; fs != NULL && i < fs->n; i++) {
		f = &fs->v[fs->order[i]];
		/* What only --additional-features asks for stays out, as the
		 * reference's (0.86.1), by id. */
		if (cJSON_GetObjectItemCaseSensitive(additional, f->id) != NULL &&
		    cJSON_GetObjectItemCaseSensitive(features, f->id) == NULL)
			continue;
		if (feature_lock_entry_make(f, &e) == 0)
			continue;
		feature_lock_set(&doc, f->id, &e);
		free(e.depends_on);
	}
	return doc;
}

int
feature_lock_apply(const struct config *cfg, const struct feature_set *fs,
    const cJSON *additional, enum feature_lock_mode mode, const struct progress *p,
    char **text, char **cause)
{
	cJSON *doc, *answer;
	char *path;
	int rc;

	if (text != NULL)
		*text = NULL;
	if (fs == NULL || fs->n == 0 || mode == FEATURE_LOCK_NONE)
		return 0;
	doc = feature_lock_of_set(fs,
	    cJSON_GetObjectItemCaseSensitive(config_get_object(cfg), "features"),
	    additional);
	path = feature_lock_path(config_get_file(cfg));
	rc = feature_lock_update_text(path, doc, mode == FEATURE_LOCK_FROZEN,
	    text != NULL && mode == FEATURE_LOCK_WRITE ? text : NULL, cause);
	/* The client says where it copied it; when it cannot (no place in
	 * its folder: a --config outside the workspace), say it here. */
	if (rc > 0 && text != NULL && *text != NULL &&
	    (answer = feature_lock_answer(cfg, *text)) != NULL)
		cJSON_Delete(answer);
	else if (rc > 0) {
		progress_line(p, "Wrote %s", path);
		rc = 0;
	}
	free(path);
	cJSON_Delete(doc);
	return rc < 0 ? -1 : rc;
}

void
feature_lock_unreported(const struct config *cfg, const struct progress *p)
{
	char *path = feature_lock_path(config_get_file(cfg));

	progress_line(p, "Wrote %s", path);
	free(path);
}

/* path relative to folder when it is inside it (borrowed from path), else
 * NULL. */
static const char *
feature_lock_relative(const char *path, const char *folder)
{
	size_t n = strlen(folder);

	while (n > 1 && folder[n - 1] == '/')
		n--;
	if (strncmp(path, folder, n) != 0 || path[n] != '/')
		return NULL;
	while (path[n] == '/')
		n++;
	return path[n] != '\0' ? path + n : NULL;
}

cJSON *
feature_lock_answer(const struct config *cfg, const char *text)
{
	char *path, *real_path = NULL, *real_folder = NULL, *dir;
	const char *rel;
	cJSON *o = NULL;

	if (text == NULL)
		return NULL;
	path = feature_lock_path(config_get_file(cfg));
	rel = feature_lock_relative(path, config_get_local_folder(cfg));
	if (rel == NULL) {
		/* Spelled differently (a symlink on the way): compare the
		 * folders as the file system has them. */
		dir = xstrdup(path);
		*strrchr(dir, '/') = '\0';
		real_folder = realpath(config_get_local_folder(cfg), NULL);
		if ((real_path = realpath(dir, NULL)) != NULL && real_folder != NULL) {
			free(dir);
			dir = xasprintf("%s/%s", real_path, strrchr(path, '/') + 1);
			free(real_path);
			real_path = dir;
			dir = NULL;
			rel = feature_lock_relative(real_path, real_folder);
		}
		free(dir);
	}
	if (rel != NULL) {
		o = cJSON_CreateObject();
		if (o == NULL || cJSON_AddStringToObject(o, "path", rel) == NULL ||
		    cJSON_AddStringToObject(o, "text", text) == NULL)
			fatal("cJSON: out of memory");
	}
	free(real_path);
	free(real_folder);
	free(path);
	return o;
}

void
feature_lock_entry_clear(struct feature_lock_entry *e)
{
	free(e->version);
	free(e->resolved);
	free(e->integrity);
	for (size_t i = 0; e->depends_on != NULL && e->depends_on[i] != NULL; i++)
		free(e->depends_on[i]);
	free(e->depends_on);
	memset(e, 0, sizeof *e);
}
