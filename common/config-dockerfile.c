/* config-dockerfile.c - the image a Dockerfile build starts from
 * (config_dockerfile_base_image, config.h). Pure. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "xmalloc.h"

/* A Dockerfile as far as finding the base image needs it. */
struct config_df_arg {
	char *name;
	char *value; /* the default, or NULL */
};
struct config_df_stage {
	char *image;
	char *label; /* FROM ... AS label, or NULL */
};
struct config_df {
	struct config_df_arg *args; /* ARGs before the first FROM */
	size_t nargs;
	struct config_df_stage *stages;
	size_t nstages;
	const cJSON *build_args;
};

/* If p starts with word (any case) and then white space, the text after it. */
static const char *
config_df_keyword(const char *p, const char *word)
{
	size_t n = strlen(word);

	if (strncasecmp(p, word, n) != 0 || (p[n] != ' ' && p[n] != '\t'))
		return NULL;
	return p + n + strspn(p + n, " \t");
}

/* The next run of non-blank characters of line p, with outer quotes removed. */
static char *
config_df_token(const char **p)
{
	size_t n = strcspn(*p, " \t\r");
	const char *s = *p;

	*p += n;
	*p += strspn(*p, " \t");
	if (n > 0 && (s[0] == '"' || s[0] == '\'')) {
		s++;
		n--;
	}
	if (n > 0 && (s[n - 1] == '"' || s[n - 1] == '\''))
		n--;
	return xstrndup(s, n);
}

static void
config_df_add_stage(struct config_df *df, const char *p)
{
	struct config_df_stage *st;
	const char *as;

	if (strncmp(p, "--platform=", 11) == 0)
		free(config_df_token(&p));
	df->stages = xreallocarray(df->stages, df->nstages + 1, sizeof *df->stages);
	st = &df->stages[df->nstages++];
	st->image = config_df_token(&p);
	st->label = (as = config_df_keyword(p, "AS")) != NULL && *as != '\0'
	    ? config_df_token(&as)
	    : NULL;
}

static void
config_df_add_arg(struct config_df *df, const char *p)
{
	struct config_df_arg *arg;
	size_t n = strcspn(p, " \t\r=");

	if (n == 0)
		return;
	df->args = xreallocarray(df->args, df->nargs + 1, sizeof *df->args);
	arg = &df->args[df->nargs++];
	arg->name = xstrndup(p, n);
	p += n;
	p += strspn(p, " =\t");
	arg->value = *p != '\0' && *p != '\r' ? config_df_token(&p) : NULL;
}

static void
config_df_parse(struct config_df *df, const char *text)
{
	const char *line = text, *end, *p;
	char *copy;

	while (*line != '\0') {
		end = strchr(line, '\n');
		copy = end != NULL ? xstrndup(line, (size_t)(end - line)) : xstrdup(line);
		p = copy + strspn(copy, " \t");
		if (config_df_keyword(p, "FROM") != NULL)
			config_df_add_stage(df, config_df_keyword(p, "FROM"));
		else if (df->nstages == 0 && config_df_keyword(p, "ARG") != NULL)
			config_df_add_arg(df, config_df_keyword(p, "ARG"));
		free(copy);
		line = end != NULL ? end + 1 : line + strlen(line);
	}
}

static void
config_df_free(struct config_df *df)
{
	size_t i;

	for (i = 0; i < df->nargs; i++) {
		free(df->args[i].name);
		free(df->args[i].value);
	}
	for (i = 0; i < df->nstages; i++) {
		free(df->stages[i].image);
		free(df->stages[i].label);
	}
	free(df->args);
	free(df->stages);
}

static char *config_df_replace(const struct config_df *, const char *, size_t);

/* The value of ARG name as seen before argument index before; caller frees. */
static char *
config_df_lookup(const struct config_df *df, const char *name, size_t before)
{
	const cJSON *given = cJSON_GetObjectItemCaseSensitive(df->build_args, name);
	size_t i;

	for (i = before; i-- > 0;) {
		if (strcmp(df->args[i].name, name) != 0)
			continue;
		if (cJSON_IsString(given))
			return config_df_replace(df, given->valuestring, i);
		if (df->args[i].value != NULL)
			return config_df_replace(df, df->args[i].value, i);
	}
	return xstrdup("");
}

/* Apply ${VAR:-word} / ${VAR:+word} to value (consumed); caller frees. */
static char *
config_df_expression(char *value, char op, const char *word, size_t wlen)
{
	int set = value[0] != '\0';
	char *out;
	size_t n;

	out = (op == '-') == set ? xstrdup(value) : xstrndup(word, wlen);
	free(value);
	n = strlen(out);
	if (n > 0 && (out[n - 1] == '"' || out[n - 1] == '\''))
		out[--n] = '\0';
	if (out[0] == '"' || out[0] == '\'')
		memmove(out, out + 1, n);
	return out;
}

/* Substitute the ARG references in s the way the reference's regular
 * expression /\$\{?(\w+)(:(-|\+)([^}]+))?\}?/ does. */
static char *
config_df_replace(const struct config_df *df, const char *s, size_t before)
{
	struct buf *b = buf_new();
	const char *p = s, *name, *word = NULL;
	char *key, *value, *out;
	size_t n, wlen = 0;
	char op;

	while (*p != '\0') {
		if (*p != '$') {
			buf_append(b, p++, 1);
			continue;
		}
		name = p + 1 + (p[1] == '{');
		n = strspn(name,
		    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789_");
		if (n == 0) {
			buf_append(b, p++, 1);
			continue;
		}
		p = name + n;
		op = 0;
		if (p[0] == ':' && (p[1] == '-' || p[1] == '+') && p[2] != '}' &&
		    p[2] != '\0') {
			op = p[1];
			word = p + 2;
			wlen = strcspn(word, "}");
			p = word + wlen;
		}
		if (*p == '}')
			p++;
		key = xstrndup(name, n);
		value = config_df_lookup(df, key, before);
		free(key);
		if (op != 0)
			value = config_df_expression(value, op, word, wlen);
		buf_appendf(b, "%s", value);
		free(value);
	}
	out = buf_take_string(b, NULL);
	buf_free(b);
	return out;
}

static const struct config_df_stage *
config_df_stage(const struct config_df *df, const char *label)
{
	size_t i;

	/* The last stage with the label wins, as in the reference's map. */
	for (i = df->nstages; i-- > 0;)
		if (df->stages[i].label != NULL &&
		    strcmp(df->stages[i].label, label) == 0)
			return &df->stages[i];
	return NULL;
}

char *
config_dockerfile_base_image(
    const char *text, const cJSON *build_args, const char *target)
{
	struct config_df df;
	const struct config_df_stage *st;
	char *image = NULL;
	size_t hops;

	memset(&df, 0, sizeof df);
	df.build_args = build_args;
	config_df_parse(&df, text);
	if (target != NULL)
		st = config_df_stage(&df, target);
	else
		st = df.nstages > 0 ? &df.stages[df.nstages - 1] : NULL;
	for (hops = 0; st != NULL && hops <= df.nstages; hops++) {
		free(image);
		image = config_df_replace(&df, st->image, df.nargs);
		if ((st = config_df_stage(&df, image)) == NULL)
			break;
	}
	if (st != NULL) { /* a cycle of stages */
		free(image);
		image = NULL;
	}
	config_df_free(&df);
	return image;
}
