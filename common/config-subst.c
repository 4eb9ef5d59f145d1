/* config-subst.c - devcontainer.json variable substitution (see config-subst.h). */
#include "config-subst.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "buf.h"
#include "error.h"
#include "xmalloc.h"

/* The reference's passes, in the order it runs them. */
enum config_subst_pass {
	CONFIG_SUBST_LOCAL,	/* substitute() */
	CONFIG_SUBST_ID,	/* beforeContainerSubstitute() */
	CONFIG_SUBST_CONTAINER, /* containerSubstitute() */
	CONFIG_SUBST_NPASSES
};

/* One substitution run over a value. */
struct config_subst_run {
	const char *local_workspace_folder;
	const char *container_workspace_folder; /* already substituted */
	const char *devcontainer_id;
	config_env_lookup local_env;
	void *local_env_arg;
	config_env_lookup container_env;
	void *container_env_arg;
	int passes[CONFIG_SUBST_NPASSES];

	/* The first error of each pass; the earliest pass's is reported, as
	 * the reference would have thrown it before running later passes. */
	char *error[CONFIG_SUBST_NPASSES];
};

/* A variable's text split at ':' into name and arguments. */
struct config_subst_var {
	const char *match; /* "${...}" as written */
	size_t match_len;
	const char *name;
	size_t name_len;
	const char *args; /* text after the first ':', or NULL if none */
	size_t args_len;
};

/* Length of a line terminator (as JavaScript's '.' does not match) at p, or 0. */
static size_t
config_subst_line_break(const char *p, const char *end)
{
	if (*p == '\n' || *p == '\r')
		return 1;
	/* U+2028 and U+2029 are E2 80 A8 and E2 80 A9 in UTF-8. */
	if (end - p >= 3 && (unsigned char)p[0] == 0xe2 && (unsigned char)p[1] == 0x80 &&
	    ((unsigned char)p[2] == 0xa8 || (unsigned char)p[2] == 0xa9))
		return 3;
	return 0;
}

/* Does the variable's name equal the NUL-terminated word? */
static int
config_subst_is(const struct config_subst_var *v, const char *word)
{
	return strlen(word) == v->name_len && memcmp(v->name, word, v->name_len) == 0;
}

/* Copy argument index (0-based, split at ':') into a new string; NULL if the
 * variable has no such argument. */
static char *
config_subst_arg(const struct config_subst_var *v, unsigned idx)
{
	const char *p, *end, *colon;

	if (v->args == NULL)
		return NULL;
	p = v->args;
	end = v->args + v->args_len;
	for (;;) {
		colon = memchr(p, ':', end - p);
		if (idx == 0)
			return xstrndup(p, (colon != NULL ? colon : end) - p);
		if (colon == NULL)
			return NULL;
		p = colon + 1;
		idx--;
	}
}

/* Append node's path.posix.basename(path) to b. */
static void
config_subst_basename(struct buf *b, const char *path)
{
	size_t end = strlen(path), start;

	while (end > 0 && path[end - 1] == '/')
		end--;
	start = end;
	while (start > 0 && path[start - 1] != '/')
		start--;
	buf_append(b, path + start, end - start);
}

/* Record the first error of a pass. */
static void
config_subst_error(struct config_subst_run *run, enum config_subst_pass pass,
    const struct config_subst_var *v)
{
	if (run->error[pass] != NULL)
		return;
	run->error[pass] = xasprintf("'%.*s' can not be resolved because no "
				     "environment variable name is given",
	    (int)v->match_len, v->match);
}

/* The reference's lookupValue(): the variable ARG0 if set, else the default
 * ARG1, else "". Without ARG0 it is an error and the match is kept. */
static void
config_subst_lookup(struct buf *b, struct config_subst_run *run,
    enum config_subst_pass pass, const struct config_subst_var *v,
    config_env_lookup lookup, void *arg)
{
	char *name, *dflt;
	const char *value = NULL;

	if ((name = config_subst_arg(v, 0)) == NULL) {
		config_subst_error(run, pass, v);
		buf_append(b, v->match, v->match_len);
		return;
	}
	if (lookup != NULL)
		value = lookup(arg, name);
	free(name);
	if (value != NULL) {
		buf_append(b, value, strlen(value));
		return;
	}
	if ((dflt = config_subst_arg(v, 1)) != NULL) {
		buf_append(b, dflt, strlen(dflt));
		free(dflt);
	}
}

/* Append the replacement for one variable in one pass. */
static void
config_subst_replace(struct buf *b, struct config_subst_run *run,
    enum config_subst_pass pass, const struct config_subst_var *v)
{
	const char *folder;

	switch (pass) {
	case CONFIG_SUBST_LOCAL:
		if (config_subst_is(v, "env") || config_subst_is(v, "localEnv")) {
			config_subst_lookup(
			    b, run, pass, v, run->local_env, run->local_env_arg);
			return;
		}
		if (config_subst_is(v, "localWorkspaceFolder") ||
		    config_subst_is(v, "localWorkspaceFolderBasename"))
			folder = run->local_workspace_folder;
		else if (config_subst_is(v, "containerWorkspaceFolder") ||
		    config_subst_is(v, "containerWorkspaceFolderBasename"))
			folder = run->container_workspace_folder;
		else
			break;
		if (folder == NULL)
			break;
		if (v->name_len > strlen("Basename") &&
		    memcmp(v->name + v->name_len - 8, "Basename", 8) == 0)
			config_subst_basename(b, folder);
		else
			buf_append(b, folder, strlen(folder));
		return;
	case CONFIG_SUBST_ID:
		/* The reference ignores arguments and keeps the match for "". */
		if (config_subst_is(v, "devcontainerId") &&
		    run->devcontainer_id != NULL && *run->devcontainer_id != '\0') {
			buf_append(b, run->devcontainer_id, strlen(run->devcontainer_id));
			return;
		}
		break;
	case CONFIG_SUBST_CONTAINER:
		if (config_subst_is(v, "containerEnv")) {
			config_subst_lookup(
			    b, run, pass, v, run->container_env, run->container_env_arg);
			return;
		}
		break;
	case CONFIG_SUBST_NPASSES: fatal("config_subst_replace: bad pass");
	}
	buf_append(b, v->match, v->match_len);
}

/* One pass over one string: every /\$\{(.*?)\}/g match, left to right, is
 * replaced. Returns a new string the caller frees. */
static char *
config_subst_pass_string(
    const char *s, struct config_subst_run *run, enum config_subst_pass pass)
{
	struct buf *b = buf_new();
	struct config_subst_var v;
	const char *p = s, *end = s + strlen(s), *q, *colon;
	char *out;

	while (p < end) {
		if (p[0] != '$' || p + 1 >= end || p[1] != '{') {
			/* Copy the run of text up to the next '$' at once. */
			if ((q = memchr(p + 1, '$', end - p - 1)) == NULL)
				q = end;
			buf_append(b, p, q - p);
			p = q;
			continue;
		}
		for (q = p + 2; q < end && *q != '}'; q++)
			if (config_subst_line_break(q, end) != 0)
				break;
		if (q == end || *q != '}') {
			/* No match starting here; the next may start later. */
			buf_append(b, p, 1);
			p++;
			continue;
		}
		v.match = p;
		v.match_len = q + 1 - p;
		v.name = p + 2;
		colon = memchr(v.name, ':', q - v.name);
		if (colon != NULL) {
			v.name_len = colon - v.name;
			v.args = colon + 1;
			v.args_len = q - v.args;
		} else {
			v.name_len = q - v.name;
			v.args = NULL;
			v.args_len = 0;
		}
		config_subst_replace(b, run, pass, &v);
		p = q + 1;
	}
	out = buf_take_string(b, NULL);
	buf_free(b);
	return out;
}

/* Every enabled pass over one string, in order. Caller frees. */
static char *
config_subst_run_string(const char *s, struct config_subst_run *run)
{
	char *cur = xstrdup(s), *next;
	int pass;

	/* Every pass only replaces "${...}"; without one there is no work. */
	if (strstr(s, "${") == NULL)
		return cur;
	for (pass = 0; pass < CONFIG_SUBST_NPASSES; pass++) {
		if (!run->passes[pass])
			continue;
		next = config_subst_pass_string(cur, run, pass);
		free(cur);
		cur = next;
	}
	return cur;
}

/* Deep copy of value with its strings substituted. */
static cJSON *
config_subst_run_value(const cJSON *value, struct config_subst_run *run)
{
	const cJSON *child;
	cJSON *copy, *item;
	char *s;

	if (cJSON_IsString(value) && strstr(value->valuestring, "${") == NULL)
		copy = cJSON_CreateString(value->valuestring);
	else if (cJSON_IsString(value)) {
		s = config_subst_run_string(value->valuestring, run);
		copy = cJSON_CreateString(s);
		free(s);
	} else if (cJSON_IsArray(value)) {
		if ((copy = cJSON_CreateArray()) == NULL)
			fatal("out of memory");
		cJSON_ArrayForEach(child, value) {
			item = config_subst_run_value(child, run);
			if (!cJSON_AddItemToArray(copy, item))
				fatal("out of memory");
		}
	} else if (cJSON_IsObject(value)) {
		if ((copy = cJSON_CreateObject()) == NULL)
			fatal("out of memory");
		cJSON_ArrayForEach(child, value) {
			item = config_subst_run_value(child, run);
			if (!cJSON_AddItemToObject(copy, child->string, item))
				fatal("out of memory");
		}
	} else
		copy = cJSON_Duplicate(value, 0);
	if (copy == NULL)
		fatal("out of memory");
	return copy;
}

/* Set up a run from a context: the container workspace folder is resolved
 * first with the raw value standing for itself, as the reference does. */
static void
config_subst_run_init(struct config_subst_run *run, const struct config_subst_ctx *ctx)
{
	memset(run, 0, sizeof *run);
	run->local_workspace_folder = ctx->local_workspace_folder;
	run->container_workspace_folder = ctx->container_workspace_folder;
	run->devcontainer_id = ctx->devcontainer_id;
	run->local_env = ctx->local_env;
	run->local_env_arg = ctx->local_env_arg;
	run->container_env = ctx->container_env;
	run->container_env_arg = ctx->container_env_arg;
	run->passes[CONFIG_SUBST_LOCAL] = 1;
	run->passes[CONFIG_SUBST_ID] = ctx->devcontainer_id != NULL;
	run->passes[CONFIG_SUBST_CONTAINER] = ctx->container_env != NULL;
	if (ctx->container_workspace_folder != NULL) {
		run->container_workspace_folder = config_subst_pass_string(
		    ctx->container_workspace_folder, run, CONFIG_SUBST_LOCAL);
	}
}

/* Free a run; returns its error (the earliest pass's) for the caller to free,
 * or NULL. */
static char *
config_subst_run_done(struct config_subst_run *run, const struct config_subst_ctx *ctx)
{
	char *error = NULL;
	int pass;

	if (ctx != NULL && ctx->container_workspace_folder != NULL)
		free((char *)run->container_workspace_folder);
	for (pass = 0; pass < CONFIG_SUBST_NPASSES; pass++) {
		if (error == NULL)
			error = run->error[pass];
		else
			free(run->error[pass]);
	}
	return error;
}

/* VALUE substituted by RUN (then finished with CTX): the copy, or NULL with
 * the first pass's error in *CAUSE. */
static cJSON *
config_subst_run_checked(const cJSON *value, struct config_subst_run *run,
    const struct config_subst_ctx *ctx, char **cause)
{
	cJSON *copy = config_subst_run_value(value, run);
	char *error = config_subst_run_done(run, ctx);

	if (error != NULL) {
		cJSON_Delete(copy);
		error_set(cause, "%s", error);
		free(error);
		return NULL;
	}
	return copy;
}

cJSON *
config_subst(const cJSON *value, const struct config_subst_ctx *ctx)
{
	struct config_subst_run run;
	cJSON *copy;

	config_subst_run_init(&run, ctx);
	copy = config_subst_run_value(value, &run);
	free(config_subst_run_done(&run, ctx));
	return copy;
}

cJSON *
config_subst_checked(const cJSON *value, const struct config_subst_ctx *ctx, char **cause)
{
	struct config_subst_run run;

	config_subst_run_init(&run, ctx);
	return config_subst_run_checked(value, &run, ctx, cause);
}

cJSON *
config_subst_late(const cJSON *value, const char *devcontainer_id,
    config_env_lookup container_env, void *container_env_arg, char **cause)
{
	struct config_subst_run run;

	memset(&run, 0, sizeof run);
	run.devcontainer_id = devcontainer_id;
	run.container_env = container_env;
	run.container_env_arg = container_env_arg;
	run.passes[CONFIG_SUBST_ID] = devcontainer_id != NULL;
	run.passes[CONFIG_SUBST_CONTAINER] = container_env != NULL;
	return config_subst_run_checked(value, &run, NULL, cause);
}

cJSON *
config_subst_container(const cJSON *value, config_env_lookup container_env,
    void *container_env_arg, char **cause)
{
	return config_subst_late(value, NULL, container_env, container_env_arg, cause);
}

char *
config_subst_string(const char *s, const struct config_subst_ctx *ctx)
{
	struct config_subst_run run;
	char *out;

	config_subst_run_init(&run, ctx);
	out = config_subst_run_string(s, &run);
	free(config_subst_run_done(&run, ctx));
	return out;
}

/* Order of label names (the text before '='), as JavaScript's sort() of
 * ASCII keys. */
static int
config_subst_label_cmp(const char *a, const char *b)
{
	size_t la = strcspn(a, "="), lb = strcspn(b, "=");
	int c = strncmp(a, b, la < lb ? la : lb);

	return c != 0 ? c : (la > lb) - (la < lb);
}

/* Append s as JSON.stringify() writes a string (quotes included): only '"',
 * '\\' and control characters are escaped; other bytes are copied. */
static void
config_subst_json_string(struct buf *b, const char *s)
{
	const unsigned char *p;

	buf_append(b, "\"", 1);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		switch (*p) {
		case '"': buf_append(b, "\\\"", 2); break;
		case '\\': buf_append(b, "\\\\", 2); break;
		case '\b': buf_append(b, "\\b", 2); break;
		case '\f': buf_append(b, "\\f", 2); break;
		case '\n': buf_append(b, "\\n", 2); break;
		case '\r': buf_append(b, "\\r", 2); break;
		case '\t': buf_append(b, "\\t", 2); break;
		default:
			if (*p < 0x20)
				buf_appendf(b, "\\u%04x", *p);
			else
				buf_append(b, p, 1);
			break;
		}
	}
	buf_append(b, "\"", 1);
}

/* The labels' NAME=VALUE pairs as the reference's envListToObj() makes them
 * (split at the first '=', a later NAME replacing an earlier one), sorted by
 * name. New NULL-terminated array of borrowed strings. */
static const char **
config_subst_label_order(char *const *labels)
{
	size_t n = 0, k = 0, len;
	const char **v, *t;

	while (labels[n] != NULL)
		n++;
	v = xcalloc(n + 1, sizeof *v);
	for (size_t i = 0; i < n; i++) {
		int later = 0;

		len = strcspn(labels[i], "=");
		for (size_t j = i + 1; j < n; j++)
			later |= strcspn(labels[j], "=") == len &&
			    strncmp(labels[j], labels[i], len) == 0;
		if (!later)
			v[k++] = labels[i];
	}
	for (size_t i = 1; i < k; i++)
		for (size_t j = i; j > 0 && config_subst_label_cmp(v[j], v[j - 1]) < 0;
		     j--) {
			t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	return v;
}

char *
config_devcontainer_id(const char *local_workspace_folder, const char *config_file)
{
	char *labels[3], *id;

	labels[0] = xasprintf("devcontainer.local_folder=%s", local_workspace_folder);
	labels[1] = xasprintf("devcontainer.config_file=%s", config_file);
	labels[2] = NULL;
	id = config_devcontainer_id_labels(labels);
	free(labels[0]);
	free(labels[1]);
	return id;
}

char *
config_devcontainer_id_labels(char *const *labels)
{
	static const char digits[] = "0123456789abcdefghijklmnopqrstuv";
	unsigned char hash[crypto_hash_sha256_BYTES];
	struct buf *b = buf_new();
	const char **order = config_subst_label_order(labels), *eq;
	char *id, *name;
	size_t len, bit;
	int i, j, digit;

	/* The labels as an object with its keys sorted, as JSON.stringify
	 * writes it. */
	buf_append(b, "{", 1);
	for (size_t k = 0; order[k] != NULL; k++) {
		eq = strchr(order[k], '=');
		name = eq != NULL ? xstrndup(order[k], (size_t)(eq - order[k]))
				  : xstrdup(order[k]);
		if (k > 0)
			buf_append(b, ",", 1);
		config_subst_json_string(b, name);
		buf_append(b, ":", 1);
		config_subst_json_string(b, eq != NULL ? eq + 1 : "");
		free(name);
	}
	buf_append(b, "}", 1);
	free(order);
	if (sodium_init() < 0)
		fatal("sodium_init failed");
	crypto_hash_sha256(hash, buf_data(b), buf_len(b));
	buf_free(b);

	/*
	 * BigInt(hash).toString(32).padStart(52, '0'): base 32 is five bits per
	 * digit, so the 256-bit number's digits are its bits in groups of five
	 * from the least significant end (the top digit holds one bit).
	 */
	len = (crypto_hash_sha256_BYTES * 8 + 4) / 5;
	id = xmalloc(len + 1);
	id[len] = '\0';
	for (i = (int)len - 1; i >= 0; i--) {
		digit = 0;
		for (j = 4; j >= 0; j--) {
			/* Bit number counted from the least significant. */
			bit = (len - 1 - (size_t)i) * 5 + (size_t)j;
			digit <<= 1;
			if (bit < crypto_hash_sha256_BYTES * 8 &&
			    (hash[crypto_hash_sha256_BYTES - 1 - bit / 8] >> (bit % 8)) &
				1)
				digit |= 1;
		}
		id[i] = digits[digit];
	}
	return id;
}

const char *
config_env_lookup_process(void *arg, const char *name)
{
	if (name == NULL || *name == '\0')
		return NULL;
	return getenv(name);
}
