/* feature-lock.c - devcontainer-lock.json as the reference CLI reads and
 * writes it (feature-fetch.h):
 *
 *   {
 *     "features": {
 *       "<id>": {
 *         "version": "1.2.3",
 *         "resolved": "ghcr.io/x/y/z@sha256:...",
 *         "integrity": "sha256:...",
 *         "dependsOn": [ "..." ]          (only when the Feature has some)
 *       }
 *     }
 *   }
 *
 * written as JSON.stringify(lock, null, 2) plus a newline, ids sorted (the
 * reference sorts with localeCompare; for the ASCII ids Features have that is
 * byte order but for case, which localeCompare orders a < B: we compare
 * case-insensitively first, then lower case first). */
#include "feature-fetch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "atomic-file.h"
#include "buf.h"
#include "error.h"
#include "xmalloc.h"

char *
feature_lock_path(const char *config_path)
{
	const char *slash = strrchr(config_path, '/');
	const char *base = slash != NULL ? slash + 1 : config_path;
	int dir_len = slash != NULL ? (int)(slash - config_path) + 1 : 0;

	return xasprintf("%.*s%s", dir_len, config_path,
	    base[0] == '.' ? ".devcontainer-lock.json" : "devcontainer-lock.json");
}

int
feature_lock_read(const char *path, cJSON **doc, char **cause)
{
	char *text = NULL, *err = NULL;
	const char *p;
	size_t len;

	*doc = NULL;
	if (file_read_all(path, 16u << 20, &text, &len, &err) != 0) {
		int missing = access(path, F_OK) != 0 && errno == ENOENT;
		if (missing) {
			free(err);
			return 0;
		}
		error_set(cause, "%s", err);
		free(err);
		return -1;
	}
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

/* The reference's localeCompare on ASCII ids: letters compare without case
 * first, and on a tie lower case sorts first. */
static int
feature_lock_cmp(const void *a, const void *b)
{
	const char *x = (*(const cJSON *const *)a)->string;
	const char *y = (*(const cJSON *const *)b)->string;
	int c = strcasecmp(x, y);

	return c != 0 ? c : -strcmp(x, y);
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

/* Append v as JSON.stringify(v, null, 2) does at indentation depth; with
 * sort, an object's members in feature_lock_cmp order. */
static void
feature_lock_print(struct buf *b, const cJSON *v, int depth, int sort)
{
	const cJSON *c;
	const cJSON **items;
	size_t n = 0, i;
	char *leaf;

	if (!cJSON_IsObject(v) && !cJSON_IsArray(v)) {
		if ((leaf = cJSON_PrintUnformatted(v)) == NULL)
			fatal("cJSON: out of memory");
		buf_appendf(b, "%s", leaf);
		cJSON_free(leaf);
		return;
	}
	for (c = v->child; c != NULL; c = c->next)
		n++;
	if (n == 0) {
		buf_appendf(b, "%s", cJSON_IsObject(v) ? "{}" : "[]");
		return;
	}
	items = xcalloc(n, sizeof *items);
	for (c = v->child, i = 0; c != NULL; c = c->next)
		items[i++] = c;
	if (sort && cJSON_IsObject(v))
		qsort(items, n, sizeof *items, feature_lock_cmp);
	buf_appendf(b, "%c\n", cJSON_IsObject(v) ? '{' : '[');
	for (i = 0; i < n; i++) {
		buf_appendf(b, "%*s", 2 * (depth + 1), "");
		if (cJSON_IsObject(v)) {
			cJSON *key = cJSON_CreateString(items[i]->string);
			feature_lock_print(b, key, 0, 0);
			cJSON_Delete(key);
			buf_appendf(b, ": ");
		}
		feature_lock_print(b, items[i], depth + 1, 0);
		buf_appendf(b, "%s\n", i + 1 < n ? "," : "");
	}
	buf_appendf(b, "%*s%c", 2 * depth, "", cJSON_IsObject(v) ? '}' : ']');
	free(items);
}

char *
feature_lock_format(const cJSON *doc)
{
	struct buf *b = buf_new();
	const cJSON *c;

	/* The top level as given, "features" sorted by id. */
	if (doc == NULL || doc->child == NULL)
		buf_appendf(b, "{}");
	else {
		buf_appendf(b, "{\n");
		for (c = doc->child; c != NULL; c = c->next) {
			cJSON *key = cJSON_CreateString(c->string);
			buf_appendf(b, "  ");
			feature_lock_print(b, key, 0, 0);
			cJSON_Delete(key);
			buf_appendf(b, ": ");
			feature_lock_print(b, c, 1, strcmp(c->string, "features") == 0);
			buf_appendf(b, "%s\n", c->next != NULL ? "," : "");
		}
		buf_appendf(b, "}");
	}
	buf_appendf(b, "\n");
	{
		char *text = buf_take_string(b, NULL);

		buf_free(b);
		return text;
	}
}

int
feature_lock_write(const char *path, const cJSON *doc, char **cause)
{
	char *text = feature_lock_format(doc), *old = NULL, *err = NULL;
	size_t len;
	int rc = 0;

	if (file_read_all(path, 16u << 20, &old, &len, &err) == 0 &&
	    strcmp(old, text) == 0) {
		free(old);
		free(text);
		return 0;
	}
	free(err);
	free(old);
	if (atomic_file_write(path, text, strlen(text), 0644, cause) != 0)
		rc = error_prefix(cause, "devcontainer-lock.json");
	free(text);
	return rc;
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
