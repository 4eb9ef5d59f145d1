/* run-args-envfile.c - --env-file: the file read through the caller's
 * reader (run-args.h: this module does no I/O), its lines parsed as the
 * docker CLI parses them (opts/file.go parseKeyValueFile), and its variables
 * put under every -e at the end (run_args_env_files_finish): the docker CLI
 * reads all env files first and appends the -e values after them, so an -e
 * (and containerEnv, an -e of the reference's) wins whatever the order.
 */
#include "run-args-internal.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "xmalloc.h"

/* Is s[0..len) valid UTF-8 (as Go's utf8.Valid: no surrogates, no
 * overlong forms, at most U+10FFFF)? */
static int
run_args_utf8_valid(const unsigned char *s, size_t len)
{
	size_t i = 0, n, k;
	unsigned c;

	while (i < len) {
		c = s[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1, c &= 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2, c &= 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3, c &= 0x07;
		else
			return 0;
		if (i + n >= len)
			return 0;
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			c = c << 6 | (s[i + k] & 0x3f);
		}
		if ((n == 2 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
		    (n == 3 && (c < 0x10000 || c > 0x10ffff)))
			return 0;
		i += n + 1;
	}
	return 1;
}

/* Of a bare KEY the Docker host lacks, this many are warned about one by
 * one per file, the rest counted (a wrong file, a base64 blob, would flood
 * up's output); a name is shown up to RUN_ARGS_ENV_NAME_MAX bytes (fewer
 * when that would cut a character) and "...". */
#define RUN_ARGS_ENV_WARN_MAX 5
#define RUN_ARGS_ENV_NAME_MAX 60

/* The docker CLI reads an env file with a bufio.Scanner of its default
 * buffer: a line that with its \n does not fit in 64 KiB is refused. */
#define RUN_ARGS_ENV_LINE_MAX (64 * 1024 - 1)

/* One line of an env file parsed: its variable added to vars (from the
 * Docker host's environment for a bare KEY, *missing counting those it
 * lacks), or skipped (blank, comment); -1 with *cause for a bad line. line
 * is NUL-terminated, valid UTF-8. */
static int
run_args_env_file_line(struct run_args *st, const char *path, size_t lineno, char *line,
    cJSON *vars, size_t *missing, char **cause)
{
	const char *local;
	char *s = line, *eq, *kv;
	size_t klen, shown;

	if (lineno == 1 && strncmp(s, "\xef\xbb\xbf", 3) == 0)
		s += 3;
	/* Leading white space goes (Go's unicode.IsSpace: the ASCII ones and
	 * NEL, NBSP are rare enough to leave); then a blank line or a comment
	 * is skipped. */
	s += strspn(s, " \t\n\v\f\r");
	if (*s == '\0' || *s == '#')
		return 0;
	eq = strchr(s, '=');
	klen = eq != NULL ? (size_t)(eq - s) : strlen(s);
	if (strcspn(s, " \t") < klen)
		return error_set(cause,
		    "%s:%zu: poorly formatted environment: variable '%.*s' "
		    "contains whitespaces",
		    path, lineno, (int)klen, s);
	if (klen == 0)
		return error_set(cause,
		    "%s:%zu: poorly formatted environment: no variable name on "
		    "line '%s'",
		    path, lineno, s);
	if (eq != NULL) {
		/* (the value as it is: no quotes taken off, no trimming) */
		cJSON_AddItemToArray(vars, cJSON_CreateString(s));
		return 0;
	}
	/* The docker CLI takes a bare KEY from its own environment, and
	 * leaves it out when that lacks it; the Docker host's here, as for -e
	 * NAME (run_args_env: the host is "local"). */
	if ((local = getenv(s)) != NULL) {
		kv = xasprintf("%s=%s", s, local);
		cJSON_AddItemToArray(vars, cJSON_CreateString(kv));
		free(kv);
		return 0;
	}
	if ((*missing)++ >= RUN_ARGS_ENV_WARN_MAX)
		return 0;
	/* (cut at a character's start: the line is valid UTF-8, and half a
	 * character would make the warning not) */
	shown = klen;
	if (shown > RUN_ARGS_ENV_NAME_MAX) {
		shown = RUN_ARGS_ENV_NAME_MAX;
		while (shown > 0 && ((unsigned char)s[shown] & 0xc0) == 0x80)
			shown--;
	}
	run_args_warn(st,
	    "runArgs[%d]: --env-file %s:%zu: %.*s%s has no value and is "
	    "not set on the Docker host: left out, as the docker CLI "
	    "leaves out one its environment lacks",
	    st->index, path, lineno, (int)shown, s, shown < klen ? "..." : "");
	return 0;
}

int
run_args_env_file_parse(struct run_args *st, const char *path, const char *text,
    size_t len, cJSON *vars, char **cause)
{
	const char *p = text, *end = text + len, *nl;
	char *line = NULL;
	size_t n, lineno = 0, missing = 0;
	int rc = -1;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		lineno++;
		if (n > RUN_ARGS_ENV_LINE_MAX) {
			error_set(cause,
			    "%s:%zu: line longer than 64 KiB (the docker CLI "
			    "refuses it: bufio.Scanner: token too long)",
			    path, lineno);
			goto out;
		}
		/* (Go's bufio.ScanLines drops a \r before the \n) */
		if (n > 0 && p[n - 1] == '\r')
			n--;
		free(line);
		line = xstrndup(p, n);
		p = nl != NULL ? nl + 1 : end;
		if (strlen(line) != n) {
			error_set(cause, "%s:%zu: a NUL byte", path, lineno);
			goto out;
		}
		if (!run_args_utf8_valid((const unsigned char *)line, n)) {
			error_set(cause, "%s:%zu: invalid UTF-8", path, lineno);
			goto out;
		}
		if (run_args_env_file_line(
			st, path, lineno, line, vars, &missing, cause) != 0)
			goto out;
	}
	if (missing > RUN_ARGS_ENV_WARN_MAX)
		run_args_warn(st,
		    "runArgs[%d]: --env-file %s: and %zu more names with no value "
		    "and not set on the Docker host: left out",
		    st->index, path, missing - RUN_ARGS_ENV_WARN_MAX);
	rc = 0;
out:
	free(line);
	return rc;
}

int
run_args_env_file(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause)
{
	char *text = NULL, *why = NULL;
	size_t len = 0;
	int rc;

	(void)f;
	if (*v == '\0')
		return error_set(cause, "open : no such file or directory");
	if (st->files->read(st->files->arg, v, &text, &len, &why) != 0) {
		error_set(cause, "%s", why);
		free(why);
		return -1;
	}
	if (st->env_files == NULL)
		st->env_files = cJSON_CreateArray();
	rc = run_args_env_file_parse(st, v, text, len, st->env_files, cause);
	free(text);
	return rc;
}

/* A variable of the env files or of the body's Env: its name (s up to
 * klen: before '=' or the end) and place in its list. */
struct run_args_env_var {
	const char *s;
	size_t klen;
	size_t idx;
};

/* By name, then (env files: the later wins) by place. */
static int
run_args_env_var_cmp(const void *a, const void *b)
{
	const struct run_args_env_var *x = a, *y = b;
	int c = memcmp(x->s, y->s, x->klen < y->klen ? x->klen : y->klen);

	if (c != 0)
		return c;
	if (x->klen != y->klen)
		return x->klen < y->klen ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* The variables of list (strings only), sorted by name then place: *n of
 * them (caller frees the array; its strings are list's). */
static struct run_args_env_var *
run_args_env_vars(const cJSON *list, size_t *n)
{
	struct run_args_env_var *v;
	const cJSON *e;
	size_t i = 0;

	v = xreallocarray(NULL, (size_t)cJSON_GetArraySize(list) + 1, sizeof *v);
	cJSON_ArrayForEach(e, list) {
		if (!cJSON_IsString(e))
			continue;
		v[i].s = e->valuestring;
		v[i].klen = strcspn(e->valuestring, "=");
		v[i].idx = i;
		i++;
	}
	qsort(v, i, sizeof *v, run_args_env_var_cmp);
	*n = i;
	return v;
}

/* Is the name of v in env (sorted by name)? */
static int
run_args_env_has(
    const struct run_args_env_var *env, size_t n, const struct run_args_env_var *v)
{
	size_t lo = 0, hi = n, mid;
	struct run_args_env_var key = *v;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		key.idx = env[mid].idx;
		if ((c = run_args_env_var_cmp(&key, &env[mid])) == 0)
			return 1;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return 0;
}

/* The files' variables go after the body's Env, one per name: the last
 * file line's value at the first one's place, none whose name an -e (or
 * containerEnv) set, as those came after the files. Sorted, not compared
 * pairwise: a 1 MiB file has some 100000 lines. */
void
run_args_env_files_finish(struct run_args *st)
{
	struct run_args_env_var *vars, *have;
	const char **at;
	size_t nvars, nhave, i, j;
	cJSON *env;

	if (st->env_files == NULL)
		return;
	env = run_args_child(st->body, "Env", cJSON_Array);
	have = run_args_env_vars(env, &nhave);
	vars = run_args_env_vars(st->env_files, &nvars);
	at = xreallocarray(NULL, nvars + 1, sizeof *at);
	for (i = 0; i < nvars; i++)
		at[i] = NULL;
	for (i = 0; i < nvars; i = j) {
		for (j = i + 1; j < nvars && vars[j].klen == vars[i].klen &&
		     memcmp(vars[j].s, vars[i].s, vars[i].klen) == 0;
		     j++)
			;
		if (!run_args_env_has(have, nhave, &vars[i]))
			at[vars[i].idx] = vars[j - 1].s;
	}
	for (i = 0; i < nvars; i++)
		if (at[i] != NULL)
			cJSON_AddItemToArray(env, cJSON_CreateString(at[i]));
	free(at);
	free(vars);
	free(have);
}
