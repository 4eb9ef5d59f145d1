/* secrets.c - --secrets-file values: read, sent, masked, wiped (secrets.h). */
#include "secrets.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "buf.h"
#include "error.h"
#include "json-get.h"
#include "jsonc.h"
#include "xmalloc.h"

/* A secrets file larger than this is surely something else. */
#define SECRETS_MAX_FILE (1u << 20)

struct secrets {
	size_t n;
	char **names;
	char **values;
};

static void
secrets_wipe_string(char *s)
{
	if (s != NULL)
		sodium_memzero(s, strlen(s));
}

static void
secrets_add(struct secrets *s, const char *name, const char *value)
{
	s->names = xreallocarray(s->names, s->n + 1, sizeof *s->names);
	s->values = xreallocarray(s->values, s->n + 1, sizeof *s->values);
	s->names[s->n] = xstrdup(name);
	s->values[s->n] = xstrdup(value);
	s->n++;
}

void
secrets_free(struct secrets *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n; i++) {
		secrets_wipe_string(s->values[i]);
		free(s->values[i]);
		free(s->names[i]);
	}
	free(s->names);
	free(s->values);
	free(s);
}

size_t
secrets_count(const struct secrets *s)
{
	return s == NULL ? 0 : s->n;
}

/* A name the environment can hold: not empty, no '=', no NUL. */
static int
secrets_name_ok(const char *name)
{
	return name != NULL && *name != '\0' && strchr(name, '=') == NULL;
}

/* The members of obj as secrets; where, for messages about a member: the
 * file (with doc, to give line:col) or the request. */
static int
secrets_from_object(const cJSON *obj, const struct jsonc_doc *doc, const char *where,
    struct secrets **out, char **cause)
{
	struct secrets *s = xcalloc(1, sizeof *s);
	const cJSON *e;
	unsigned line = 1, col = 1;
	char *pos;

	*out = NULL;
	cJSON_ArrayForEach(e, obj) {
		if (cJSON_IsString(e) && secrets_name_ok(e->string)) {
			secrets_add(s, e->string, e->valuestring);
			continue;
		}
		if (doc != NULL && jsonc_doc_locate(doc, e, &line, &col) == 0)
			pos = xasprintf("%s:%u:%u", where, line, col);
		else
			pos = xstrdup(where);
		if (!secrets_name_ok(e->string))
			error_set(cause,
			    "%s: secret name \"%s\": a variable name cannot be "
			    "empty or hold '='",
			    pos, e->string != NULL ? e->string : "");
		else
			error_set(cause, "%s: secret \"%s\": expected a string, got %s",
			    pos, e->string, json_type_name(e));
		free(pos);
		secrets_free(s);
		return -1;
	}
	*out = s;
	return 0;
}

/* The whole file, read without leaving copies behind (a growing buffer is
 * moved by hand, wiping the old one). New string, wiped by the caller. */
static char *
secrets_read_text(const char *path, size_t *len, char **cause)
{
	struct stat st;
	size_t size = 4096, used = 0;
	char *text, *bigger;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		error_set_errno(cause, errno, "secrets file %s", path);
		return NULL;
	}
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
	    (unsigned long long)st.st_size < SECRETS_MAX_FILE)
		size = (size_t)st.st_size + 1;
	text = xmalloc(size);
	for (;;) {
		if (used + 1 == size) {
			if (size > SECRETS_MAX_FILE) {
				error_set(cause, "secrets file %s: larger than %u bytes",
				    path, SECRETS_MAX_FILE);
				goto fail;
			}
			bigger = xmalloc(size * 2);
			memcpy(bigger, text, used);
			sodium_memzero(text, size);
			free(text);
			text = bigger;
			size *= 2;
		}
		n = read(fd, text + used, size - 1 - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			error_set_errno(cause, errno, "secrets file %s", path);
			goto fail;
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	close(fd);
	text[used] = '\0';
	*len = used;
	return text;
fail:
	close(fd);
	sodium_memzero(text, size);
	free(text);
	return NULL;
}

int
secrets_read_file(const char *path, struct secrets **out, char **cause)
{
	struct jsonc_doc *doc;
	const cJSON *root;
	char *text;
	size_t len;
	int rc = -1;

	*out = NULL;
	if ((text = secrets_read_text(path, &len, cause)) == NULL)
		return -1;
	doc = jsonc_parse(path, text, len, cause);
	sodium_memzero(text, len);
	free(text);
	if (doc == NULL)
		return -1;
	root = jsonc_doc_root(doc);
	if (!cJSON_IsObject(root))
		error_set(cause, "%s:1:1: expected a JSON object of strings, got %s",
		    path, json_type_name(root));
	else
		rc = secrets_from_object(root, doc, path, out, cause);
	secrets_json_wipe(jsonc_doc_root(doc));
	jsonc_doc_free(doc);
	return rc;
}

int
secrets_from_json(const cJSON *obj, struct secrets **out, char **cause)
{
	*out = NULL;
	if (obj == NULL || cJSON_IsNull(obj))
		return 0;
	if (!cJSON_IsObject(obj))
		return error_set(cause,
		    "\"secrets\": expected an object of strings, got %s",
		    json_type_name(obj));
	return secrets_from_object(obj, NULL, "\"secrets\"", out, cause);
}

cJSON *
secrets_to_json(const struct secrets *s)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL)
		fatal("out of memory");
	for (size_t i = 0; s != NULL && i < s->n; i++)
		cJSON_AddStringToObject(o, s->names[i], s->values[i]);
	return o;
}

/* The values to mask, longest first (so that a value holding another is
 * masked whole); empty ones left out. New array of borrowed strings. */
static const char **
secrets_mask_order(const struct secrets *s, size_t *n)
{
	const char **v = xcalloc(s->n + 1, sizeof *v), *t;

	*n = 0;
	for (size_t i = 0; i < s->n; i++)
		if (*s->values[i] != '\0')
			v[(*n)++] = s->values[i];
	for (size_t i = 1; i < *n; i++) {
		for (size_t j = i; j > 0 && strlen(v[j]) > strlen(v[j - 1]); j--) {
			t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	}
	return v;
}

/* text with every occurrence of value replaced by the mask. New string. */
static char *
secrets_replace(const char *text, const char *value)
{
	struct buf *b = buf_new();
	size_t vlen = strlen(value), len;
	const char *p = text, *hit;
	char *out;

	while ((hit = strstr(p, value)) != NULL) {
		buf_append(b, p, (size_t)(hit - p));
		buf_append(b, SECRETS_MASK, sizeof SECRETS_MASK - 1);
		p = hit + vlen;
	}
	buf_append(b, p, strlen(p));
	out = buf_take_string(b, &len);
	buf_free(b);
	return out;
}

char *
secrets_mask(const struct secrets *s, const char *text)
{
	const char **order;
	char *out = xstrdup(text), *next;
	size_t n;

	if (s == NULL || s->n == 0)
		return out;
	order = secrets_mask_order(s, &n);
	for (size_t i = 0; i < n; i++) {
		if (strstr(out, order[i]) == NULL)
			continue;
		next = secrets_replace(out, order[i]);
		secrets_wipe_string(out);
		free(out);
		out = next;
	}
	free(order);
	return out;
}

size_t
secrets_cut(const struct secrets *s, const char *text, size_t len, size_t cut)
{
	size_t k, j, have;
	int moved = 1;

	while (s != NULL && moved) {
		moved = 0;
		for (size_t i = 0; i < s->n && !moved; i++) {
			k = strlen(s->values[i]);
			if (k < 2)
				continue;
			for (j = cut > k - 1 ? cut - (k - 1) : 0; j < cut && !moved;
			     j++) {
				have = len - j < k ? len - j : k;
				if (j > 0 && memcmp(text + j, s->values[i], have) == 0) {
					cut = j;
					moved = 1;
				}
			}
		}
	}
	return cut;
}

void
secrets_mask_inplace(const struct secrets *s, char **text)
{
	char *masked;

	if (s == NULL || s->n == 0 || text == NULL || *text == NULL)
		return;
	masked = secrets_mask(s, *text);
	secrets_wipe_string(*text);
	free(*text);
	*text = masked;
}

/* Is entry "NAME=..." (or "NAME") about name? */
static int
secrets_env_is(const char *entry, const char *name)
{
	size_t n = strlen(name);

	return strncmp(entry, name, n) == 0 && (entry[n] == '=' || entry[n] == '\0');
}

/* Take name out of unset (NULL-terminated names; may be NULL). */
static void
secrets_unset_drop(char **unset, const char *name)
{
	size_t w = 0;

	if (unset == NULL)
		return;
	for (size_t r = 0; unset[r] != NULL; r++) {
		if (strcmp(unset[r], name) == 0)
			free(unset[r]);
		else
			unset[w++] = unset[r];
	}
	unset[w] = NULL;
}

void
secrets_env_apply(const struct secrets *s, char ***env, char **unset)
{
	size_t n = 0, k;
	char **e;

	if (s == NULL || s->n == 0)
		return;
	e = *env;
	while (e != NULL && e[n] != NULL)
		n++;
	for (size_t i = 0; i < s->n; i++) {
		for (k = 0; k < n && !secrets_env_is(e[k], s->names[i]); k++)
			;
		if (k == n) {
			e = xreallocarray(e, n + 2, sizeof *e);
			e[n + 1] = NULL;
			n++;
		} else {
			secrets_wipe_string(e[k]);
			free(e[k]);
		}
		e[k] = xasprintf("%s=%s", s->names[i], s->values[i]);
		secrets_unset_drop(unset, s->names[i]);
	}
	*env = e;
}

void
secrets_env_free(char **env)
{
	if (env == NULL)
		return;
	for (char **p = env; *p != NULL; p++) {
		secrets_wipe_string(*p);
		free(*p);
	}
	free(env);
}

void
secrets_json_wipe(cJSON *item)
{
	cJSON *e;

	if (item == NULL)
		return;
	if (cJSON_IsString(item) || cJSON_IsRaw(item))
		secrets_wipe_string(item->valuestring);
	cJSON_ArrayForEach(e, item)
		secrets_json_wipe(e);
}

void
secrets_request_wipe(cJSON *request)
{
	if (cJSON_IsObject(request))
		secrets_json_wipe(cJSON_GetObjectItemCaseSensitive(request, "secrets"));
}
