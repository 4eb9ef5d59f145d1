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

/* Add KEY=VALUE (kv, klen the key's length) to the env files' variables: a
 * later one of the same name replaces it, as the later entry wins in the
 * container. */
static void
run_args_env_file_set(cJSON *vars, const char *kv, size_t klen)
{
	cJSON *e;

	cJSON_ArrayForEach(e, vars) {
		if (strncmp(e->valuestring, kv, klen) == 0 &&
		    e->valuestring[klen] == '=') {
			cJSON_SetValuestring(e, kv);
			return;
		}
	}
	cJSON_AddItemToArray(vars, cJSON_CreateString(kv));
}

int
run_args_env_file_parse(struct run_args *st, const char *path, const char *text,
    size_t len, cJSON *vars, char **cause)
{
	const char *p = text, *end = text + len, *nl, *eq;
	char *line = NULL, *kv;
	size_t n, klen, lineno = 0;
	int rc = -1;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		/* (Go's bufio.ScanLines drops a \r before the \n) */
		if (n > 0 && p[n - 1] == '\r')
			n--;
		lineno++;
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
		{
			char *s = line;

			if (lineno == 1 && strncmp(s, "\xef\xbb\xbf", 3) == 0)
				s += 3;
			/* Leading white space goes (Go's unicode.IsSpace: the
			 * ASCII ones and NEL, NBSP are rare enough to leave);
			 * then a blank line or a comment is skipped. */
			s += strspn(s, " \t\n\v\f\r");
			if (*s == '\0' || *s == '#')
				continue;
			eq = strchr(s, '=');
			klen = eq != NULL ? (size_t)(eq - s) : strlen(s);
			if (strcspn(s, " \t") < klen) {
				error_set(cause,
				    "%s:%zu: poorly formatted environment: variable "
				    "'%.*s' contains whitespaces",
				    path, lineno, (int)klen, s);
				goto out;
			}
			if (klen == 0) {
				error_set(cause,
				    "%s:%zu: poorly formatted environment: no "
				    "variable name on line '%s'",
				    path, lineno, s);
				goto out;
			}
			if (eq == NULL) {
				/* The docker CLI takes it from its own
				 * environment, and leaves it out when that
				 * lacks it; the Docker host's here, as for -e
				 * NAME (run_args_env: the host is "local"). */
				const char *local = getenv(s);

				if (local != NULL) {
					kv = xasprintf("%s=%s", s, local);
					run_args_env_file_set(vars, kv, klen);
					free(kv);
					continue;
				}
				run_args_warn(st,
				    "runArgs[%d]: --env-file %s:%zu: %s has no value "
				    "and is not set on the Docker host: left out, as "
				    "the docker CLI leaves out one its environment "
				    "lacks",
				    st->index, path, lineno, s);
				continue;
			}
			/* (the value as it is: no quotes taken off, no
			 * trimming) */
			kv = xstrdup(s);
			run_args_env_file_set(vars, kv, klen);
			free(kv);
		}
	}
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

void
run_args_env_files_finish(struct run_args *st)
{
	cJSON *env, *e, *have;
	size_t klen;
	int set;

	if (st->env_files == NULL)
		return;
	env = run_args_child(st->body, "Env", cJSON_Array);
	cJSON_ArrayForEach(e, st->env_files) {
		klen = strcspn(e->valuestring, "=");
		set = 0;
		cJSON_ArrayForEach(have, env) {
			if (cJSON_IsString(have) &&
			    strncmp(have->valuestring, e->valuestring, klen) == 0 &&
			    (have->valuestring[klen] == '=' ||
				have->valuestring[klen] == '\0'))
				set = 1;
		}
		/* (an -e's value wins: it came after the files) */
		if (!set)
			cJSON_AddItemToArray(env, cJSON_CreateString(e->valuestring));
	}
}
