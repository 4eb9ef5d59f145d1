/* compose-override.c - Compose override file, project name, compose config
 * YAML (see compose-override.h). */
#include "compose-override.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "xmalloc.h"

/* ---- Writing YAML ---- */

/* The buffer's bytes as a new string; the buffer is freed. */
static char *
compose_take(struct buf *b, size_t *len)
{
	char *s = buf_take_string(b, len);

	buf_free(b);
	return s;
}

struct buf *
compose_override_quote(struct buf *out, const char *s, int dollar)
{
	const unsigned char *p;

	buf_append(out, "\"", 1);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		switch (*p) {
		case '"': buf_append(out, "\\\"", 2); break;
		case '\\': buf_append(out, "\\\\", 2); break;
		case '\n': buf_append(out, "\\n", 2); break;
		case '\t': buf_append(out, "\\t", 2); break;
		case '\r': buf_append(out, "\\r", 2); break;
		case '$': buf_append(out, dollar ? "$$" : "$", dollar ? 2 : 1); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				buf_appendf(out, "\\x%02x", *p);
			else
				buf_append(out, p, 1);
		}
	}
	buf_append(out, "\"", 1);
	return out;
}

/* A scalar of a JSON value as JavaScript's String() would print it, or NULL
 * for objects and arrays. New string. */
static char *
compose_override_scalar(const cJSON *v)
{
	if (cJSON_IsString(v))
		return xstrdup(v->valuestring);
	if (cJSON_IsBool(v))
		return xstrdup(cJSON_IsTrue(v) ? "true" : "false");
	if (cJSON_IsNull(v))
		return xstrdup("null");
	if (cJSON_IsNumber(v))
		return cJSON_PrintUnformatted(v);
	return NULL;
}

/* A mount as the reference's parseMount() reads it, laxly. */
struct compose_mount {
	char *type;
	char *source;
	char *target;
	int readonly;
	int external;
};

static void
compose_mount_clear(struct compose_mount *m)
{
	free(m->type);
	free(m->source);
	free(m->target);
	memset(m, 0, sizeof *m);
}

static int
compose_flag_true(const char *v)
{
	return v == NULL || *v == '\0' || strcmp(v, "true") == 0 || strcmp(v, "1") == 0;
}

static int
compose_mount_read(const cJSON *mount, struct compose_mount *m)
{
	const cJSON *v;
	char *copy, *field, *save = NULL, *eq, **slot;

	memset(m, 0, sizeof *m);
	if (cJSON_IsObject(mount)) {
		if (cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(mount, "type")))
			m->type = xstrdup(v->valuestring);
		if (cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(mount, "source")))
			m->source = xstrdup(v->valuestring);
		if (cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(mount, "target")))
			m->target = xstrdup(v->valuestring);
		m->readonly =
		    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(mount, "readonly"));
		v = cJSON_GetObjectItemCaseSensitive(mount, "external");
		m->external = cJSON_IsTrue(v) ||
		    (cJSON_IsString(v) && compose_flag_true(v->valuestring));
	} else if (cJSON_IsString(mount)) {
		copy = xstrdup(mount->valuestring);
		for (field = strtok_r(copy, ",", &save); field != NULL;
		     field = strtok_r(NULL, ",", &save)) {
			if ((eq = strchr(field, '=')) != NULL)
				*eq++ = '\0';
			slot = NULL;
			if (strcmp(field, "type") == 0)
				slot = &m->type;
			else if (strcmp(field, "source") == 0 ||
			    strcmp(field, "src") == 0)
				slot = &m->source;
			else if (strcmp(field, "target") == 0 ||
			    strcmp(field, "destination") == 0 ||
			    strcmp(field, "dst") == 0)
				slot = &m->target;
			else if (strcmp(field, "readonly") == 0 ||
			    strcmp(field, "ro") == 0)
				m->readonly = compose_flag_true(eq);
			else if (strcmp(field, "external") == 0)
				m->external = eq != NULL && strcmp(eq, "true") == 0;
			if (slot != NULL && eq != NULL) {
				free(*slot);
				*slot = xstrdup(eq);
			}
		}
		free(copy);
	}
	if (m->target == NULL || *m->target == '\0') {
		compose_mount_clear(m);
		return -1;
	}
	if (m->source != NULL && *m->source == '\0') {
		free(m->source);
		m->source = NULL;
	}
	return 0;
}

/* The value a service's entrypoint or command has in `compose config`: an
 * array of strings (a string is split into words), or NULL when not set. */
static cJSON *
compose_service_words(const cJSON *service, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(service, key), *e;
	cJSON *out;
	char *s;

	if (cJSON_IsString(v))
		return compose_override_split_words(v->valuestring);
	if (!cJSON_IsArray(v))
		return NULL;
	out = cJSON_CreateArray();
	cJSON_ArrayForEach(e, v) {
		if ((s = compose_override_scalar(e)) == NULL)
			continue;
		cJSON_AddItemToArray(out, cJSON_CreateString(s));
		free(s);
	}
	return out;
}

/* Append ", "-prefixed quoted strings of arr to out. */
static void
compose_append_flow_items(struct buf *out, const cJSON *arr, int dollar, int first)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, arr) {
		if (!cJSON_IsString(e))
			continue;
		if (!first)
			buf_append(out, ", ", 2);
		compose_override_quote(out, e->valuestring, dollar);
		first = 0;
	}
}

/* "- VALUE" lines of a string list (a string counts as a one-element list,
 * as JavaScript's spread of a string would not; the reference's values are
 * validated arrays). */
static void
compose_append_list(struct buf *out, const char *key, const cJSON *list)
{
	const cJSON *e;
	int any = 0;

	if (cJSON_IsString(list)) {
		buf_appendf(out, "    %s:\n      - ", key);
		compose_override_quote(out, list->valuestring, 1);
		buf_append(out, "\n", 1);
		return;
	}
	cJSON_ArrayForEach(e, list) {
		if (!cJSON_IsString(e))
			continue;
		if (!any)
			buf_appendf(out, "    %s:\n", key);
		any = 1;
		buf_append(out, "      - ", 8);
		compose_override_quote(out, e->valuestring, 1);
		buf_append(out, "\n", 1);
	}
}

/* The wrapper script: the same as the docker run path's (container-spec.c). */
static char *
compose_entrypoint_script(const cJSON *entrypoints)
{
	struct buf *b = buf_new();
	const cJSON *e;
	int first = 1;

	buf_appendf(b, "echo Container started\ntrap \"exit 0\" 15\n");
	cJSON_ArrayForEach(e, entrypoints) {
		if (!cJSON_IsString(e))
			continue;
		buf_appendf(b, "%s%s", first ? "" : "\n", e->valuestring);
		first = 0;
	}
	buf_appendf(b, "\nexec \"$@\"\nwhile sleep 1 & wait $!; do :; done");
	return compose_take(b, NULL);
}

static void
compose_append_entrypoint(struct buf *out, const struct compose_override_input *in)
{
	const cJSON *merged = in->merged;
	cJSON *svc_ep = compose_service_words(in->service_config, "entrypoint");
	cJSON *svc_cmd = compose_service_words(in->service_config, "command");
	const cJSON *img_ep =
	    cJSON_GetObjectItemCaseSensitive(in->image_config, "Entrypoint");
	const cJSON *img_cmd = cJSON_GetObjectItemCaseSensitive(in->image_config, "Cmd");
	char *script;

	script = compose_entrypoint_script(
	    cJSON_GetObjectItemCaseSensitive(merged, "entrypoints"));
	buf_append(out, "    entrypoint: [\"/bin/sh\", \"-c\", ", 34);
	compose_override_quote(out, script, 1);
	buf_append(out, ", \"-\"", 5);
	free(script);
	/* Values from `compose config` have their '$' escaped already. */
	if (!in->override_command) {
		if (svc_ep != NULL)
			compose_append_flow_items(out, svc_ep, 0, 0);
		else
			compose_append_flow_items(out, img_ep, 1, 0);
	}
	buf_append(out, "]\n", 2);

	/* The reference writes command unless it keeps the service's own. */
	if (in->override_command || svc_cmd == NULL) {
		buf_append(out, "    command: [", 14);
		if (!in->override_command && svc_ep == NULL)
			compose_append_flow_items(out, img_cmd, 1, 1);
		buf_append(out, "]\n", 2);
	}
	cJSON_Delete(svc_ep);
	cJSON_Delete(svc_cmd);
}

/* volumes: of the service, and the named volumes for the top level. */
static int
compose_append_volumes(
    struct buf *out, const struct compose_override_input *in, cJSON *named, char **cause)
{
	const cJSON *mounts = cJSON_GetObjectItemCaseSensitive(in->merged, "mounts"), *m;
	struct compose_mount cm;
	cJSON *all = cJSON_CreateArray();
	char *text;
	int any = 0, i = 0, rc = -1;

	if (in->workspace_mount != NULL)
		cJSON_AddItemToArray(all, cJSON_CreateString(in->workspace_mount));
	cJSON_ArrayForEach(m, mounts)
		cJSON_AddItemToArray(all, cJSON_Duplicate(m, 1));
	cJSON_ArrayForEach(m, all) {
		if (compose_mount_read(m, &cm) != 0) {
			text = cJSON_IsString(m) ? xstrdup(m->valuestring)
						 : cJSON_PrintUnformatted(m);
			if (in->workspace_mount != NULL && i == 0)
				error_set(
				    cause, "workspaceMount \"%s\": no target", text);
			else
				error_set(cause, "mounts[%d] %s: no target",
				    i - (in->workspace_mount != NULL), text);
			free(text);
			goto out;
		}
		i++;
		if (!any)
			buf_append(out, "    volumes:\n", 13);
		any = 1;
		text = cm.source != NULL
		    ? xasprintf("%s:%s%s", cm.source, cm.target, cm.readonly ? ":ro" : "")
		    : xstrdup(cm.target);
		buf_append(out, "      - ", 8);
		compose_override_quote(out, text, 1);
		buf_append(out, "\n", 1);
		free(text);
		if (cm.type != NULL && strcmp(cm.type, "volume") == 0 &&
		    cm.source != NULL) {
			cJSON *prev = cJSON_GetObjectItemCaseSensitive(named, cm.source);
			if (prev == NULL)
				cJSON_AddBoolToObject(named, cm.source, cm.external);
			else if (cm.external)
				cJSON_ReplaceItemInObjectCaseSensitive(
				    named, cm.source, cJSON_CreateTrue());
		}
		compose_mount_clear(&cm);
	}
	rc = 0;
out:
	cJSON_Delete(all);
	return rc;
}

char *
compose_override_generate(const struct compose_override_input *in, char **cause)
{
	const cJSON *merged = in->merged, *v, *e;
	struct buf *out = buf_new();
	cJSON *named = cJSON_CreateObject();
	char *s;
	int any;

	if (in->version_prefix != NULL)
		buf_appendf(out, "%s", in->version_prefix);
	buf_append(out, "services:\n  ", 12);
	compose_override_quote(out, in->service, 1);
	buf_append(out, ":\n", 2);
	if (in->image != NULL) {
		buf_append(out, "    image: ", 11);
		compose_override_quote(out, in->image, 1);
		buf_append(out, "\n", 1);
	}
	compose_append_entrypoint(out, in);
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(merged, "init")))
		buf_append(out, "    init: true\n", 15);
	v = cJSON_GetObjectItemCaseSensitive(merged, "containerUser");
	if (cJSON_IsString(v) && *v->valuestring != '\0') {
		buf_append(out, "    user: ", 10);
		compose_override_quote(out, v->valuestring, 1);
		buf_append(out, "\n", 1);
	}
	any = 0;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(merged, "containerEnv")) {
		if (e->string == NULL || (s = compose_override_scalar(e)) == NULL)
			continue;
		if (!any)
			buf_append(out, "    environment:\n", 17);
		any = 1;
		char *kv = xasprintf("%s=%s", e->string, s);
		buf_append(out, "      - ", 8);
		compose_override_quote(out, kv, 1);
		buf_append(out, "\n", 1);
		free(kv);
		free(s);
	}
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(merged, "privileged")))
		buf_append(out, "    privileged: true\n", 21);
	compose_append_list(
	    out, "cap_add", cJSON_GetObjectItemCaseSensitive(merged, "capAdd"));
	compose_append_list(
	    out, "security_opt", cJSON_GetObjectItemCaseSensitive(merged, "securityOpt"));
	any = 0;
	cJSON_ArrayForEach(e, in->labels) {
		if (e->string == NULL || !cJSON_IsString(e))
			continue;
		if (!any)
			buf_append(out, "    labels:\n", 12);
		any = 1;
		char *kv = xasprintf("%s=%s", e->string, e->valuestring);
		buf_append(out, "      - ", 8);
		compose_override_quote(out, kv, 1);
		buf_append(out, "\n", 1);
		free(kv);
	}
	if (compose_append_volumes(out, in, named, cause) != 0) {
		cJSON_Delete(named);
		buf_free(out);
		return NULL;
	}
	if (cJSON_GetArraySize(named) > 0) {
		buf_append(out, "volumes:\n", 9);
		cJSON_ArrayForEach(e, named) {
			buf_append(out, "  ", 2);
			compose_override_quote(out, e->string, 1);
			buf_append(out, ":\n", 2);
			if (cJSON_IsTrue(e))
				buf_append(out, "    external: true\n", 19);
		}
	}
	cJSON_Delete(named);
	return compose_take(out, NULL);
}

/* ---- Small readers ---- */

char *
compose_override_version_prefix(const char *text)
{
	const char *line = text, *end;

	while (line != NULL && *line != '\0') {
		end = strchr(line, '\n');
		if (strncmp(line, "version:", 8) == 0) {
			size_t len = end != NULL ? (size_t)(end - line) : strlen(line);
			while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' '))
				len--;
			char *v = xstrndup(line, len), *out = xasprintf("%s\n\n", v);
			free(v);
			return out;
		}
		line = end != NULL ? end + 1 : NULL;
	}
	return xstrdup("");
}

char *
compose_override_project_name_normalize(const char *name, int new_style)
{
	char *out = xmalloc(strlen(name) + 1), *o = out;
	const char *p;
	int c;

	for (p = name; *p != '\0'; p++) {
		c = tolower((unsigned char)*p);
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    (new_style && (c == '-' || c == '_')))
			*o++ = (char)c;
	}
	*o = '\0';
	return out;
}

/* The value of the first COMPOSE_PROJECT_NAME= line of a .env text, trimmed;
 * new string or NULL. */
static char *
compose_dotenv_project_name(const char *text)
{
	const char *line = text, *end;
	size_t len;

	while (line != NULL && *line != '\0') {
		end = strchr(line, '\n');
		len = end != NULL ? (size_t)(end - line) : strlen(line);
		if (len > 21 && strncmp(line, "COMPOSE_PROJECT_NAME=", 21) == 0) {
			const char *v = line + 21;
			len -= 21;
			while (len > 0 && isspace((unsigned char)*v)) {
				v++;
				len--;
			}
			while (len > 0 && isspace((unsigned char)v[len - 1]))
				len--;
			return xstrndup(v, len);
		}
		line = end != NULL ? end + 1 : NULL;
	}
	return NULL;
}

/* Strip trailing slashes (keeping "/"); new string. */
static char *
compose_path_clean(const char *p)
{
	char *s = xstrdup(p);
	size_t len = strlen(s);

	while (len > 1 && s[len - 1] == '/')
		s[--len] = '\0';
	return s;
}

static const char *
compose_basename(const char *p)
{
	const char *slash = strrchr(p, '/');

	return slash != NULL && slash[1] != '\0' ? slash + 1 : p;
}

char *
compose_override_project_name(const struct compose_project_input *in)
{
	char *n, *v, *dir, *slash, *local, *devc, *base;

	if (in->env_name != NULL) {
		n = compose_override_project_name_normalize(in->env_name, in->new_style);
		if (*n != '\0')
			return n;
		free(n);
	}
	if (in->dotenv_text != NULL &&
	    (v = compose_dotenv_project_name(in->dotenv_text)) != NULL) {
		n = compose_override_project_name_normalize(v, in->new_style);
		free(v);
		if (*n != '\0')
			return n;
		free(n);
	}
	if (in->config_name != NULL && *in->config_name != '\0' &&
	    (strcmp(in->config_name, "devcontainer") != 0 || in->name_in_files))
		return compose_override_project_name_normalize(
		    in->config_name, in->new_style);

	dir = compose_path_clean(in->first_file);
	if ((slash = strrchr(dir, '/')) != NULL)
		*(slash == dir ? slash + 1 : slash) = '\0';
	local = compose_path_clean(in->local_folder);
	devc = xasprintf("%s/.devcontainer", strcmp(local, "/") == 0 ? "" : local);
	if (strcmp(dir, devc) == 0) {
		base = xasprintf("%s_devcontainer", compose_basename(local));
		n = compose_override_project_name_normalize(base, in->new_style);
		free(base);
	} else
		n = compose_override_project_name_normalize(
		    compose_basename(dir), in->new_style);
	free(dir);
	free(local);
	free(devc);
	return n;
}

char *
compose_override_file_name(const char *text)
{
	const char *line = text, *end, *v;
	size_t len;

	while (line != NULL && *line != '\0') {
		end = strchr(line, '\n');
		len = end != NULL ? (size_t)(end - line) : strlen(line);
		if (len >= 5 && strncmp(line, "name:", 5) == 0) {
			v = line + 5;
			len -= 5;
			while (len > 0 && (*v == ' ' || *v == '\t')) {
				v++;
				len--;
			}
			while (len > 0 && isspace((unsigned char)v[len - 1]))
				len--;
			if (len >= 2 && (*v == '"' || *v == '\'') && v[len - 1] == *v) {
				v++;
				len -= 2;
			} else {
				/* A comment ends a plain value. */
				for (size_t i = 0; i < len; i++) {
					if (v[i] == '#' && i > 0 &&
					    (v[i - 1] == ' ' || v[i - 1] == '\t')) {
						len = i;
						break;
					}
				}
				while (len > 0 && isspace((unsigned char)v[len - 1]))
					len--;
			}
			return len > 0 ? xstrndup(v, len) : NULL;
		}
		line = end != NULL ? end + 1 : NULL;
	}
	return NULL;
}

cJSON *
compose_override_split_words(const char *s)
{
	cJSON *out = cJSON_CreateArray();
	struct buf *w = buf_new();
	const char *p = s;
	int in_word = 0;
	char *word;

	for (;;) {
		if (*p == '\0' || *p == ' ' || *p == '\t' || *p == '\n') {
			if (in_word) {
				word = compose_take(w, NULL);
				cJSON_AddItemToArray(out, cJSON_CreateString(word));
				free(word);
				w = buf_new();
				in_word = 0;
			}
			if (*p == '\0')
				break;
			p++;
			continue;
		}
		in_word = 1;
		if (*p == '\'') {
			for (p++; *p != '\0' && *p != '\''; p++)
				buf_append(w, p, 1);
			if (*p == '\'')
				p++;
		} else if (*p == '"') {
			for (p++; *p != '\0' && *p != '"'; p++) {
				if (*p == '\\' && p[1] != '\0' &&
				    strchr("$`\"\\\n", p[1]) != NULL)
					p++;
				buf_append(w, p, 1);
			}
			if (*p == '"')
				p++;
		} else if (*p == '\\' && p[1] != '\0') {
			buf_append(w, p + 1, 1);
			p += 2;
		} else
			buf_append(w, p++, 1);
	}
	buf_free(w);
	return out;
}

/* ---- Reading YAML (the subset `docker-compose config` prints) ---- */

struct yline {
	int indent;
	char *s;   /* content after the indentation, no line break */
	int blank; /* empty or comment only */
	int lineno;
};

struct yparse {
	struct yline *l;
	size_t n;
	size_t i;
	char **cause;
	int failed;
};

static cJSON *y_node(struct yparse *, int);

static void
y_fail(struct yparse *y, int lineno, const char *msg)
{
	if (!y->failed)
		error_set(y->cause, "line %d: %s", lineno, msg);
	y->failed = 1;
}

static void
y_skip(struct yparse *y)
{
	while (y->i < y->n && y->l[y->i].blank)
		y->i++;
}

static int
y_is_seq_item(const char *s)
{
	return s[0] == '-' && (s[1] == '\0' || s[1] == ' ' || s[1] == '\t');
}

/* The end of a quoted scalar starting at s (pointing after the closing
 * quote), or NULL if it does not close on this line. */
static const char *
y_quote_end(const char *s)
{
	char q = *s;
	const char *p;

	for (p = s + 1; *p != '\0'; p++) {
		if (q == '\'' && *p == '\'') {
			if (p[1] == '\'') {
				p++;
				continue;
			}
			return p + 1;
		}
		if (q == '"' && *p == '\\' && p[1] != '\0') {
			p++;
			continue;
		}
		if (q == '"' && *p == '"')
			return p + 1;
	}
	return NULL;
}

/* Where the ':' of a "key: value" line is, or -1. */
static int
y_colon(const char *s)
{
	const char *p = s;

	if (*s == '"' || *s == '\'') {
		if ((p = y_quote_end(s)) == NULL)
			return -1;
		while (*p == ' ')
			p++;
		return *p == ':' && (p[1] == '\0' || p[1] == ' ' || p[1] == '\t')
		    ? (int)(p - s)
		    : -1;
	}
	if (*s == '[' || *s == '{' || *s == '#')
		return -1;
	for (; *p != '\0'; p++) {
		if (*p == ':' && (p[1] == '\0' || p[1] == ' ' || p[1] == '\t'))
			return (int)(p - s);
		if (*p == '#' && p > s && (p[-1] == ' ' || p[-1] == '\t'))
			return -1;
	}
	return -1;
}

/* Trim trailing blanks of a buffer being built. */
static void
y_trim_end(struct buf *b)
{
	size_t len = buf_len(b);
	char *s;

	if (len == 0)
		return;
	s = buf_take_string(b, &len);
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	buf_append(b, s, len);
	free(s);
}

/* Decode a quoted scalar whose raw text (from the opening quote, lines
 * joined with '\n') is raw. *end gets the position after the closing quote. */
static char *
y_unquote(const char *raw, const char **end)
{
	struct buf *b = buf_new();
	char q = *raw;
	const char *p = raw + 1;
	unsigned long cp;
	int breaks, n;

	for (; *p != '\0'; p++) {
		if (*p == q) {
			if (q == '\'' && p[1] == '\'') {
				buf_append(b, "'", 1);
				p++;
				continue;
			}
			p++;
			break;
		}
		if (*p == '\n') {
			y_trim_end(b);
			for (breaks = 0; *p == '\n' || *p == ' ' || *p == '\t'; p++)
				breaks += *p == '\n';
			p--;
			if (breaks == 1)
				buf_append(b, " ", 1);
			else
				for (n = 1; n < breaks; n++)
					buf_append(b, "\n", 1);
			continue;
		}
		if (q == '"' && *p == '\\' && p[1] != '\0') {
			p++;
			switch (*p) {
			case 'n': buf_append(b, "\n", 1); break;
			case 't':
			case '\t': buf_append(b, "\t", 1); break;
			case 'r': buf_append(b, "\r", 1); break;
			case '0': buf_append(b, "", 1); break;
			case 'a': buf_append(b, "\a", 1); break;
			case 'b': buf_append(b, "\b", 1); break;
			case 'e': buf_append(b, "\033", 1); break;
			case 'f': buf_append(b, "\f", 1); break;
			case 'v': buf_append(b, "\v", 1); break;
			case ' ': buf_append(b, " ", 1); break;
			case '/': buf_append(b, "/", 1); break;
			case '\n':
				while (p[1] == ' ' || p[1] == '\t')
					p++;
				break;
			case 'x':
			case 'u':
			case 'U':
				n = *p == 'x' ? 2 : *p == 'u' ? 4 : 8;
				cp = 0;
				for (int k = 0; k < n && isxdigit((unsigned char)p[1]);
				     k++, p++)
					cp = cp * 16 +
					    (unsigned long)(isdigit((unsigned char)p[1])
						    ? p[1] - '0'
						    : (tolower((unsigned char)p[1]) -
							  'a' + 10));
				if (cp < 0x80) {
					char c = (char)cp;
					buf_append(b, &c, 1);
				} else if (cp < 0x800) {
					buf_appendf(b, "%c%c", (char)(0xc0 | (cp >> 6)),
					    (char)(0x80 | (cp & 0x3f)));
				} else if (cp < 0x10000) {
					buf_appendf(b, "%c%c%c",
					    (char)(0xe0 | (cp >> 12)),
					    (char)(0x80 | ((cp >> 6) & 0x3f)),
					    (char)(0x80 | (cp & 0x3f)));
				} else {
					buf_appendf(b, "%c%c%c%c",
					    (char)(0xf0 | (cp >> 18)),
					    (char)(0x80 | ((cp >> 12) & 0x3f)),
					    (char)(0x80 | ((cp >> 6) & 0x3f)),
					    (char)(0x80 | (cp & 0x3f)));
				}
				break;
			default: buf_append(b, p, 1);
			}
			continue;
		}
		buf_append(b, p, 1);
	}
	if (end != NULL)
		*end = p;
	return compose_take(b, NULL);
}

static cJSON *
y_plain_scalar(const char *s, size_t len)
{
	char *v;
	cJSON *out;

	while (len > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (len == 0 || (len == 1 && *s == '~') ||
	    (len == 4 && strncmp(s, "null", 4) == 0))
		return cJSON_CreateNull();
	if ((len == 4 && (strncmp(s, "true", 4) == 0 || strncmp(s, "True", 4) == 0)) ||
	    (len == 5 && (strncmp(s, "false", 5) == 0 || strncmp(s, "False", 5) == 0)))
		return cJSON_CreateBool(*s == 't' || *s == 'T');
	v = xstrndup(s, len);
	out = cJSON_CreateString(v);
	free(v);
	return out;
}

/* A flow collection or scalar at *p (one line). */
static cJSON *
y_flow(const char **p, int in_map_key, int *bad)
{
	const char *s = *p, *start, *e;
	cJSON *out, *item, *key;
	char *k;

	while (*s == ' ')
		s++;
	if (*s == '[' || *s == '{') {
		int is_seq = *s == '[';
		out = is_seq ? cJSON_CreateArray() : cJSON_CreateObject();
		s++;
		for (;;) {
			while (*s == ' ')
				s++;
			if (*s == (is_seq ? ']' : '}')) {
				s++;
				break;
			}
			if (*s == '\0') {
				*bad = 1;
				break;
			}
			if (is_seq) {
				item = y_flow(&s, 0, bad);
				cJSON_AddItemToArray(out, item);
			} else {
				key = y_flow(&s, 1, bad);
				while (*s == ' ')
					s++;
				if (*s == ':') {
					s++;
					item = y_flow(&s, 0, bad);
				} else
					item = cJSON_CreateNull();
				k = cJSON_IsString(key) ? xstrdup(key->valuestring)
							: xstrdup("");
				cJSON_AddItemToObject(out, k, item);
				free(k);
				cJSON_Delete(key);
			}
			while (*s == ' ')
				s++;
			if (*s == ',')
				s++;
			else if (*s != (is_seq ? ']' : '}')) {
				*bad = 1;
				break;
			}
		}
		*p = s;
		return out;
	}
	if (*s == '"' || *s == '\'') {
		k = y_unquote(s, &e);
		out = cJSON_CreateString(k);
		free(k);
		*p = e;
		return out;
	}
	start = s;
	while (*s != '\0' && *s != ',' && *s != ']' && *s != '}' &&
	    !(in_map_key && *s == ':'))
		s++;
	*p = s;
	return y_plain_scalar(start, (size_t)(s - start));
}

/* A block scalar (| or >) whose header is hdr; lines follow. */
static cJSON *
y_block_scalar(struct yparse *y, const char *hdr, int parent)
{
	int folded = *hdr == '>', chomp = 0, bi = -1, pending = 0;
	struct buf *b = buf_new();
	char *text;
	size_t len;
	cJSON *out;

	for (hdr++; *hdr != '\0' && *hdr != ' '; hdr++) {
		if (*hdr == '-')
			chomp = -1;
		else if (*hdr == '+')
			chomp = 1;
		else if (isdigit((unsigned char)*hdr))
			bi = parent + (*hdr - '0') + (parent < 0 ? 1 : 0);
	}
	y->i++;
	while (y->i < y->n) {
		struct yline *ln = &y->l[y->i];
		if (*ln->s == '\0') {
			pending++;
			y->i++;
			continue;
		}
		if (ln->indent <= parent)
			break;
		if (bi < 0)
			bi = ln->indent;
		if (ln->indent < bi)
			break;
		if (buf_len(b) > 0 || pending > 0) {
			if (folded && pending == 0 && buf_len(b) > 0)
				buf_append(b, " ", 1);
			else
				for (int k = 0; k < pending + (buf_len(b) > 0); k++)
					buf_append(b, "\n", 1);
		}
		pending = 0;
		for (int k = bi; k < ln->indent; k++)
			buf_append(b, " ", 1);
		buf_appendf(b, "%s", ln->s);
		y->i++;
	}
	if (buf_len(b) > 0 && chomp >= 0)
		buf_append(b, "\n", 1);
	if (chomp > 0)
		for (int k = 0; k < pending; k++)
			buf_append(b, "\n", 1);
	text = compose_take(b, &len);
	out = cJSON_CreateString(text);
	free(text);
	return out;
}

/* The value that starts at rest on the current line (after "key:" or "- "),
 * of a node at indentation parent. map_value: a block sequence may follow at
 * the parent's own indentation. */
static cJSON *
y_value(struct yparse *y, const char *rest, int parent, int map_value)
{
	struct yline *ln = &y->l[y->i];
	struct buf *b;
	const char *e;
	char *text;
	int bad = 0, lineno = ln->lineno;
	cJSON *out;

	while (*rest == ' ' || *rest == '\t')
		rest++;
	if (*rest == '\0' || *rest == '#') {
		y->i++;
		y_skip(y);
		if (y->i >= y->n)
			return cJSON_CreateNull();
		ln = &y->l[y->i];
		if (ln->indent > parent)
			return y_node(y, parent + 1);
		if (map_value && ln->indent == parent && y_is_seq_item(ln->s))
			return y_node(y, parent);
		return cJSON_CreateNull();
	}
	if (*rest == '|' || *rest == '>')
		return y_block_scalar(y, rest, parent);
	if (*rest == '[' || *rest == '{') {
		e = rest;
		out = y_flow(&e, 0, &bad);
		if (bad)
			y_fail(y, lineno, "unsupported flow collection");
		y->i++;
		return out;
	}
	if (*rest == '"' || *rest == '\'') {
		/* Gather lines until the quote closes, then fold. */
		char *raw = xstrdup(rest), *joined, *v;
		while (y_quote_end(raw) == NULL) {
			if (y->i + 1 >= y->n) {
				free(raw);
				y_fail(y, lineno, "unterminated quoted scalar");
				return cJSON_CreateNull();
			}
			y->i++;
			joined = xasprintf("%s\n%s", raw, y->l[y->i].s);
			free(raw);
			raw = joined;
		}
		v = y_unquote(raw, NULL);
		out = cJSON_CreateString(v);
		free(v);
		free(raw);
		y->i++;
		return out;
	}
	/* Plain scalar, maybe continued on more indented lines. */
	b = buf_new();
	{
		size_t len = strlen(rest);
		for (size_t k = 1; k < len; k++)
			if (rest[k] == '#' &&
			    (rest[k - 1] == ' ' || rest[k - 1] == '\t')) {
				len = k;
				break;
			}
		buf_append(b, rest, len);
	}
	y->i++;
	for (;;) {
		size_t j = y->i;
		int blanks = 0;
		while (j < y->n && *y->l[j].s == '\0') {
			blanks++;
			j++;
		}
		if (j >= y->n || y->l[j].indent <= parent || y->l[j].blank)
			break;
		y_trim_end(b);
		if (blanks == 0)
			buf_append(b, " ", 1);
		for (int k = 0; k < blanks; k++)
			buf_append(b, "\n", 1);
		buf_appendf(b, "%s", y->l[j].s);
		y->i = j + 1;
	}
	text = compose_take(b, NULL);
	out = y_plain_scalar(text, strlen(text));
	free(text);
	return out;
}

static cJSON *
y_seq(struct yparse *y, int ind)
{
	cJSON *arr = cJSON_CreateArray(), *item;
	struct yline *ln;
	char *rest;

	for (;;) {
		y_skip(y);
		if (y->failed || y->i >= y->n)
			break;
		ln = &y->l[y->i];
		if (ln->indent != ind || !y_is_seq_item(ln->s))
			break;
		rest = ln->s + 1;
		while (*rest == ' ' || *rest == '\t')
			rest++;
		if (*rest != '\0' && *rest != '#' &&
		    (y_is_seq_item(rest) || y_colon(rest) >= 0)) {
			/* "- key: value" or "- - x": a collection starting here. */
			ln->indent = ind + (int)(rest - ln->s);
			ln->s = rest;
			item = y_node(y, ln->indent);
		} else
			item = y_value(y, rest, ind, 0);
		cJSON_AddItemToArray(arr, item);
	}
	return arr;
}

static cJSON *
y_map(struct yparse *y, int ind)
{
	cJSON *obj = cJSON_CreateObject(), *val;
	struct yline *ln;
	char *key;
	int colon;

	for (;;) {
		y_skip(y);
		if (y->failed || y->i >= y->n)
			break;
		ln = &y->l[y->i];
		if (ln->indent != ind || y_is_seq_item(ln->s))
			break;
		if ((colon = y_colon(ln->s)) < 0) {
			y_fail(y, ln->lineno, "expected \"key: value\"");
			break;
		}
		if (*ln->s == '"' || *ln->s == '\'')
			key = y_unquote(ln->s, NULL);
		else {
			key = xstrndup(ln->s, (size_t)colon);
			for (size_t len = strlen(key);
			     len > 0 && (key[len - 1] == ' ' || key[len - 1] == '\t');
			     len--)
				key[len - 1] = '\0';
		}
		val = y_value(y, ln->s + colon + 1, ind, 1);
		cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
		cJSON_AddItemToObject(obj, key, val);
		free(key);
	}
	return obj;
}

/* The node whose first line is the next non-blank one, if it is indented at
 * least min; null otherwise. */
static cJSON *
y_node(struct yparse *y, int min)
{
	struct yline *ln;

	y_skip(y);
	if (y->i >= y->n || y->l[y->i].indent < min)
		return cJSON_CreateNull();
	ln = &y->l[y->i];
	if (y_is_seq_item(ln->s))
		return y_seq(y, ln->indent);
	if (y_colon(ln->s) >= 0)
		return y_map(y, ln->indent);
	return y_value(y, ln->s, ln->indent - 1, 0);
}

cJSON *
compose_override_parse_yaml(const char *text, char **cause)
{
	struct yparse y = { 0 };
	char *copy = xstrdup(text), *line, *next, *s;
	size_t cap = 0;
	cJSON *root;
	int lineno = 0;

	y.cause = cause;
	for (line = copy; line != NULL; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		else if (*line == '\0')
			break;
		lineno++;
		size_t len = strlen(line);
		if (len > 0 && line[len - 1] == '\r')
			line[--len] = '\0';
		if (lineno == 1 || strcmp(line, "---") == 0 || *line == '%') {
			if (strcmp(line, "---") == 0 || *line == '%')
				continue;
		}
		if (strcmp(line, "...") == 0)
			break;
		if (y.n == cap) {
			cap = cap == 0 ? 64 : cap * 2;
			y.l = xreallocarray(y.l, cap, sizeof *y.l);
		}
		for (s = line; *s == ' '; s++)
			;
		y.l[y.n].indent = (int)(s - line);
		y.l[y.n].s = s;
		y.l[y.n].blank = *s == '\0' || *s == '#';
		y.l[y.n].lineno = lineno;
		y.n++;
	}
	root = y_node(&y, 0);
	y_skip(&y);
	if (!y.failed && y.i < y.n)
		y_fail(&y, y.l[y.i].lineno, "unexpected indentation");
	free(y.l);
	free(copy);
	if (y.failed) {
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}
