/* lifecycle-parse.c - the pure helpers of lifecycle commands: parsing a
 * step's values into commands, describing them and their failures, waitFor,
 * and splitting output into lines (lifecycle.h, lifecycle-internal.h). */
#include "lifecycle-internal.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "secrets.h"
#include "shell-quote.h"
#include "xmalloc.h"

static void
lifecycle_cmd_clear(struct lifecycle_cmd *c)
{
	free(c->name);
	if (c->argv != NULL)
		for (char **p = c->argv; *p != NULL; p++)
			free(*p);
	free(c->argv);
	free(c->text);
}

void
lifecycle_group_clear(struct lifecycle_group *g)
{
	for (size_t i = 0; i < g->ncmds; i++)
		lifecycle_cmd_clear(&g->cmds[i]);
	free(g->cmds);
	memset(g, 0, sizeof *g);
}

/* Is s empty or all whitespace (JavaScript's trim())? */
static int
lifecycle_blank(const char *s)
{
	for (; *s != '\0'; s++)
		if (strchr(" \t\n\r\v\f", *s) == NULL)
			return 0;
	return 1;
}

/* Fill c from a string or array; 0 ok, 1 empty (nothing to run), -1 bad. */
static int
lifecycle_cmd_parse(const cJSON *v, struct lifecycle_cmd *c)
{
	const cJSON *e;
	size_t n = 0;

	memset(c, 0, sizeof *c);
	if (cJSON_IsString(v)) {
		c->argv = xcalloc(4, sizeof *c->argv);
		c->argv[0] = xstrdup("/bin/sh");
		c->argv[1] = xstrdup("-c");
		c->argv[2] = xstrdup(v->valuestring);
		c->text = xstrdup(v->valuestring);
		return 0;
	}
	if (!cJSON_IsArray(v))
		return -1;
	cJSON_ArrayForEach(e, v) {
		if (!cJSON_IsString(e))
			return -1;
		n++;
	}
	if (n == 0)
		return 1;
	c->argv = xcalloc(n + 1, sizeof *c->argv);
	n = 0;
	cJSON_ArrayForEach(e, v)
		c->argv[n++] = xstrdup(e->valuestring);
	c->text = shell_quote_argv((const char *const *)c->argv, SHELL_QUOTE_NEEDED);
	return 0;
}

static struct lifecycle_cmd *
lifecycle_group_add(struct lifecycle_group *g)
{
	g->cmds = xreallocarray(g->cmds, g->ncmds + 1, sizeof *g->cmds);
	return &g->cmds[g->ncmds++];
}

int
lifecycle_group_parse(
    const cJSON *value, const char *step, struct lifecycle_group *g, char **cause)
{
	struct lifecycle_cmd c;
	const cJSON *e;
	int rc;

	memset(g, 0, sizeof *g);
	if (cJSON_IsString(value)) {
		if (lifecycle_blank(value->valuestring))
			return 0;
		lifecycle_cmd_parse(value, lifecycle_group_add(g));
		return 0;
	}
	if (cJSON_IsArray(value)) {
		rc = lifecycle_cmd_parse(value, &c);
		if (rc < 0) {
			lifecycle_cmd_clear(&c);
			return error_set(
			    cause, "%s: the command array holds a non-string", step);
		}
		if (rc == 0)
			*lifecycle_group_add(g) = c;
		return 0;
	}
	if (!cJSON_IsObject(value))
		return 0;
	g->parallel = 1;
	cJSON_ArrayForEach(e, value) {
		rc = lifecycle_cmd_parse(e, &c);
		if (rc < 0) {
			lifecycle_cmd_clear(&c);
			return error_set(cause,
			    "%s: entry \"%s\" is neither a string nor an array "
			    "of strings",
			    step, e->string);
		}
		if (rc > 0)
			/* (the reference CLI runs it, and fails: exec of
			 * "undefined", status 126) */
			return error_set(cause,
			    "%s: entry \"%s\" is an empty array: no command to run "
			    "(give one, or remove the entry)",
			    step, e->string);
		c.name = xstrdup(e->string);
		*lifecycle_group_add(g) = c;
	}
	return 0;
}

/* Does JavaScript take v as true (config_merge_collect() keeps only such
 * values)? */
static int
lifecycle_truthy(const cJSON *v)
{
	if (v == NULL || cJSON_IsNull(v) || cJSON_IsFalse(v))
		return 0;
	if (cJSON_IsString(v))
		return v->valuestring[0] != '\0';
	if (cJSON_IsNumber(v))
		return v->valuedouble != 0 && v->valuedouble == v->valuedouble;
	return 1;
}

const cJSON *
lifecycle_origin_entry(const cJSON *metadata, int nmetadata, const char *step, size_t n)
{
	const cJSON *entry;
	int i = 0;

	cJSON_ArrayForEach(entry, metadata) {
		if (i++ >= nmetadata)
			break;
		if (!lifecycle_truthy(cJSON_GetObjectItemCaseSensitive(entry, step)))
			continue;
		if (n-- == 0)
			return entry;
	}
	return NULL;
}

char *
lifecycle_origin(const cJSON *metadata, int nmetadata, const char *step, size_t n)
{
	const cJSON *entry = lifecycle_origin_entry(metadata, nmetadata, step, n), *id;

	if (entry == NULL)
		return NULL;
	id = cJSON_GetObjectItemCaseSensitive(entry, "id");
	if (cJSON_IsString(id) && id->valuestring[0] != '\0')
		return xasprintf("%s (from the Feature %s)", step, id->valuestring);
	return xasprintf("%s (from the image's devcontainer.metadata)", step);
}

char *
lifecycle_cmd_describe(const struct lifecycle_cmd *cmd)
{
	if (cmd->name != NULL)
		return xasprintf("[%s] `%s`", cmd->name, cmd->text);
	return xasprintf("`%s`", cmd->text);
}

char *
lifecycle_failure_message(
    const char *step, const struct lifecycle_cmd *cmd, int exited, int code)
{
	char *desc = lifecycle_cmd_describe(cmd), *msg;

	if (exited)
		msg = xasprintf("%s failed: %s exited with status %d", step, desc, code);
	else
		msg = xasprintf("%s failed: %s killed by signal %d (%s)", step, desc,
		    code, strsignal(code));
	free(desc);
	return msg;
}

int
lifecycle_wait_for_last(const cJSON *wait_for)
{
	if (cJSON_IsString(wait_for)) {
		if (strcmp(wait_for->valuestring, "initializeCommand") == 0)
			return -1;
		for (int i = 0; i < LIFECYCLE_NSTEPS; i++)
			if (i != LIFECYCLE_DOTFILES &&
			    strcmp(wait_for->valuestring, lifecycle_steps[i].name) == 0)
				return i;
	}
	return LIFECYCLE_UPDATE_CONTENT;
}

void
lifecycle_lines_init(struct lifecycle_lines *l, const char *prefix)
{
	l->buf = buf_new();
	l->prefix = prefix != NULL ? xstrdup(prefix) : NULL;
	l->scanned = 0;
	l->mask = NULL;
}

/* Pass on one line of len bytes (its '\n' excluded; a piece of a longer
 * line: piece set, its bytes as they are). */
static void
lifecycle_lines_emit(struct lifecycle_lines *l, const char *line, size_t len, int piece,
    lifecycle_line_fn fn, void *arg)
{
	char *s;

	if (!piece && len > 0 && line[len - 1] == '\r')
		len--;
	if (l->prefix != NULL)
		s = xasprintf("%s%.*s", l->prefix, (int)len, line);
	else
		s = xstrndup(line, len);
	if (fn != NULL)
		fn(arg, s);
	free(s);
}

/* Where to cut a piece of at most max bytes off p: not before a UTF-8
 * continuation byte (a character kept whole), unless none starts in the
 * last 4 bytes (not UTF-8: cut at max). */
static size_t
lifecycle_lines_cut(const char *p, size_t max)
{
	size_t n = max;

	while (n > max - 4 && ((unsigned char)p[n] & 0xc0) == 0x80)
		n--;
	return ((unsigned char)p[n] & 0xc0) == 0x80 ? max : n;
}

void
lifecycle_lines_feed(struct lifecycle_lines *l, const void *data, size_t len,
    lifecycle_line_fn fn, void *arg)
{
	const char *p, *nl;
	size_t left, n, lim, skip = l->scanned;

	buf_append(l->buf, data, len);
	p = (const char *)buf_data(l->buf);
	left = buf_len(l->buf);
	for (;;) {
		/* (what an earlier feed looked through holds no '\n': a long
		 * line fed in small reads is not searched again each time) */
		/* (a line of LIFECYCLE_LINE_MAX bytes ended by "\r\n" is whole,
		 * as one ended by "\n": its '\r' is not cut off into a line of
		 * its own, an empty one) */
		lim = left < LIFECYCLE_LINE_MAX + 2 ? left : LIFECYCLE_LINE_MAX + 2;
		nl = skip < lim ? memchr(p + skip, '\n', lim - skip) : NULL;
		skip = 0;
		if (nl != NULL && (size_t)(nl - p) == LIFECYCLE_LINE_MAX + 1 &&
		    p[LIFECYCLE_LINE_MAX] != '\r')
			nl = NULL;
		if (nl != NULL) {
			lifecycle_lines_emit(l, p, (size_t)(nl - p), 0, fn, arg);
			left -= (size_t)(nl - p) + 1;
			p = nl + 1;
		} else if (left > LIFECYCLE_LINE_MAX + 1 ||
		    (left == LIFECYCLE_LINE_MAX + 1 && p[LIFECYCLE_LINE_MAX] != '\r')) {
			n = secrets_cut(
			    l->mask, p, left, lifecycle_lines_cut(p, LIFECYCLE_LINE_MAX));
			lifecycle_lines_emit(l, p, n, 1, fn, arg);
			left -= n;
			p += n;
		} else
			break;
	}
	buf_consume(l->buf, buf_len(l->buf) - left);
	l->scanned = left;
}

void
lifecycle_lines_finish(struct lifecycle_lines *l, lifecycle_line_fn fn, void *arg)
{
	if (l->buf == NULL)
		return;
	if (buf_len(l->buf) > 0)
		lifecycle_lines_emit(
		    l, (const char *)buf_data(l->buf), buf_len(l->buf), 0, fn, arg);
	buf_free(l->buf);
	free(l->prefix);
	l->buf = NULL;
	l->prefix = NULL;
}
