/* run-args-opts.c - the handlers of most runArgs options: plain strings,
 * lists, booleans and numbers, resources, environment, labels, sysctls,
 * tmpfs, logging, security options, ulimits, restart policy, namespaces and
 * the options that are only checked or ignored (run-args-internal.h). The
 * rest: run-args-net.c, run-args-devices.c, run-args-ports.c,
 * run-args-volumes.c. */
#include "run-args-internal.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error.h"
#include "mount-spec.h"
#include "xmalloc.h"

int
run_args_string(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause)
{
	run_args_set(run_args_parent(st, f), f->field, cJSON_CreateString(v));
	return 0;
}

int
run_args_list(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause)
{
	run_args_append(run_args_parent(st, f), f->field, v);
	return 0;
}

int
run_args_bool(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause)
{
	run_args_set(
	    run_args_parent(st, f), f->field, cJSON_CreateBool(strcmp(v, "1") == 0));
	return 0;
}

/* --privileged, --init: false does not clear a true set by the configuration. */
int
run_args_bool_sticky(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause)
{
	cJSON *parent = run_args_parent(st, f);

	if (strcmp(v, "1") != 0 &&
	    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(parent, f->field)))
		return 0;
	return run_args_bool(st, f, v, cause);
}

int
run_args_int(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause)
{
	int64_t n;

	if (run_args_parse_int(v, 0, &n) != 0)
		return error_set(cause, "invalid number \"%s\"", v);
	run_args_set(run_args_parent(st, f), f->field, run_args_number(n));
	return 0;
}

int
run_args_bytes(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause)
{
	int64_t n;

	if (mount_spec_parse_bytes(v, &n, cause) != 0)
		return -1;
	run_args_set(run_args_parent(st, f), f->field, run_args_number(n));
	return 0;
}

int
run_args_memory_swap(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause)
{
	if (strcmp(v, "-1") == 0) {
		run_args_set(run_args_host(st), f->field, cJSON_CreateNumber(-1));
		return 0;
	}
	return run_args_bytes(st, f, v, cause);
}

int
run_args_swappiness(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause)
{
	int64_t n;

	if (run_args_parse_int(v, 0, &n) != 0)
		return error_set(cause, "invalid number \"%s\"", v);
	if (n != -1 && (n < 0 || n > 100))
		return error_set(cause,
		    "invalid value: %lld. Valid memory swappiness range "
		    "is 0-100",
		    (long long)n);
	run_args_set(run_args_host(st), f->field, cJSON_CreateNumber((double)n));
	return 0;
}

/* --cpus: a decimal number of CPUs as nanoCPUs (docker's ParseCPUs). */
int
run_args_cpus(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause)
{
	const char *p = v;
	int64_t whole = 0, frac = 0, scale = 100000000;
	int neg = 0, digits = 0;

	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	for (; isdigit((unsigned char)*p); p++, digits++) {
		whole = whole * 10 + (*p - '0');
		if (whole > RUN_ARGS_MAX_EXACT / 1000000000)
			return error_set(cause, "value \"%s\" is too large", v);
	}
	if (*p == '.') {
		for (p++; isdigit((unsigned char)*p); p++, digits++) {
			if (scale == 0) {
				if (*p != '0')
					return error_set(
					    cause, "value \"%s\" is too precise", v);
				continue;
			}
			frac += (*p - '0') * scale;
			scale /= 10;
		}
	}
	if (digits == 0 || *p != '\0')
		return error_set(cause, "failed to parse %s as a rational number", v);
	whole = whole * 1000000000 + frac;
	run_args_set(run_args_host(st), f->field, run_args_number(neg ? -whole : whole));
	return 0;
}

/* Add "KEY=value" (or "KEY") to Env. As the docker CLI does, a variable
 * already there (from containerEnv or an earlier -e) is replaced where it is:
 * the container has each variable once, with its last value. */
static void
run_args_env_set(cJSON *body, const char *v)
{
	cJSON *env = run_args_child(body, "Env", cJSON_Array), *e;
	size_t klen = strcspn(v, "=");

	cJSON_ArrayForEach(e, env) {
		if (cJSON_IsString(e) && strncmp(e->valuestring, v, klen) == 0 &&
		    (e->valuestring[klen] == '=' || e->valuestring[klen] == '\0')) {
			cJSON_SetValuestring(e, v);
			return;
		}
	}
	cJSON_AddItemToArray(env, cJSON_CreateString(v));
}

int
run_args_env(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause)
{
	const char *local;
	char *kv;

	if (v[0] == '=' || v[0] == '\0')
		return error_set(cause, "invalid environment variable: %s", v);
	if (strchr(v, '=') == NULL) {
		/* As the docker CLI (opts.ValidateEnv): the value the variable
		 * has where the CLI runs (set but empty too), else the name
		 * alone. "Local" is this host, as for ${localEnv:NAME}. */
		if ((local = getenv(v)) != NULL) {
			kv = xasprintf("%s=%s", v, local);
			run_args_env_set(st->body, kv);
			free(kv);
			return 0;
		}
		run_args_warn(st,
		    "runArgs[%d]: -e %s has no value and %s is not set on the "
		    "Docker host: passed without one, as the docker CLI does",
		    st->index, v, v);
	}
	run_args_env_set(st->body, v);
	return 0;
}

/* key=value into a map field; key must not be empty (labels, log options). */
static void
run_args_kv(cJSON *parent, const char *field, const char *v)
{
	const char *eq = strchr(v, '=');
	char *k = eq != NULL ? xstrndup(v, (size_t)(eq - v)) : xstrdup(v);

	run_args_map_set(parent, field, k, eq != NULL ? eq + 1 : "");
	free(k);
}

int
run_args_label(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause)
{
	const char *eq = strchr(v, '='), *k = v;
	size_t len = eq != NULL ? (size_t)(eq - v) : strlen(v), i;

	while (len > 0 && (*k == ' ' || *k == '\t'))
		k++, len--;
	if (len == 0)
		return error_set(cause, "invalid label '%s': empty name", v);
	for (i = 0; i < len; i++)
		if (k[i] == ' ' || k[i] == '\t')
			return error_set(
			    cause, "label '%.*s' contains whitespaces", (int)len, k);
	run_args_kv(st->body, "Labels", v);
	return 0;
}

int
run_args_sysctl(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause)
{
	static const char *names[] = { "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni",
		"kernel.sem", "kernel.shmall", "kernel.shmmax", "kernel.shmmni",
		"kernel.shm_rmid_forced", NULL };
	const char *eq = strchr(v, '=');
	char *k;
	int ok = 0, i;

	if (eq == NULL || eq == v)
		return error_set(cause, "sysctl '%s' is not allowed", v);
	k = xstrndup(v, (size_t)(eq - v));
	for (i = 0; names[i] != NULL; i++)
		if (strcmp(k, names[i]) == 0)
			ok = 1;
	if (strncmp(k, "net.", 4) == 0 || strncmp(k, "fs.mqueue.", 10) == 0)
		ok = 1;
	if (ok)
		run_args_map_set(run_args_host(st), "Sysctls", k, eq + 1);
	free(k);
	if (!ok)
		return error_set(cause, "sysctl '%s' is not allowed", v);
	return 0;
}

int
run_args_tmpfs(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause)
{
	const char *colon = strchr(v, ':');
	char *path = colon != NULL ? xstrndup(v, (size_t)(colon - v)) : xstrdup(v);

	run_args_map_set(
	    run_args_host(st), "Tmpfs", path, colon != NULL ? colon + 1 : "");
	free(path);
	return 0;
}

int
run_args_log_opt(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause)
{
	st->log_opts = 1;
	run_args_kv(
	    run_args_child(run_args_host(st), "LogConfig", cJSON_Object), "Config", v);
	return 0;
}

int
run_args_log_driver(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause)
{
	run_args_set(run_args_child(run_args_host(st), "LogConfig", cJSON_Object), "Type",
	    cJSON_CreateString(v));
	return 0;
}

int
run_args_security_opt(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause)
{
	static const char nnp[] = "no-new-privileges";
	const char *sep = strchr(v, '=');
	cJSON *hc = run_args_host(st);
	size_t klen;
	int is_nnp;

	if (sep == NULL && strcmp(v, nnp) != 0)
		sep = strchr(v, ':');
	klen = sep != NULL ? (size_t)(sep - v) : strlen(v);
	is_nnp = klen == sizeof nnp - 1 && strncmp(v, nnp, klen) == 0;
	/* "no-new-privileges" is the only option that needs no value. */
	if ((sep == NULL || sep[1] == '\0') && !is_nnp)
		return error_set(cause, "invalid --security-opt: \"%s\"", v);
	if (klen == 7 && strncmp(v, "seccomp", 7) == 0 &&
	    strcmp(sep + 1, "builtin") != 0 && strcmp(sep + 1, "unconfined") != 0)
		return error_set(cause,
		    "seccomp profile files are not supported by rdev "
		    "(docker would read \"%s\" on the client; use seccomp=unconfined or "
		    "seccomp=builtin)",
		    sep + 1);
	if (strcmp(v, "systempaths=unconfined") == 0) {
		run_args_set(hc, "MaskedPaths", cJSON_CreateArray());
		run_args_set(hc, "ReadonlyPaths", cJSON_CreateArray());
		return 0;
	}
	run_args_append(hc, "SecurityOpt", v);
	return 0;
}

/* go-units ParseUlimit: name=soft[:hard]; replaces an earlier one of the
 * same name, as docker's map of ulimits does. */
static int
run_args_name_cmp(const void *a, const void *b)
{
	const cJSON *na = cJSON_GetObjectItemCaseSensitive(*(cJSON *const *)a, "Name");
	const cJSON *nb = cJSON_GetObjectItemCaseSensitive(*(cJSON *const *)b, "Name");

	return strcmp(cJSON_IsString(na) ? na->valuestring : "",
	    cJSON_IsString(nb) ? nb->valuestring : "");
}

/* Sort an array of {"Name":...} objects by name (stable enough: names are
 * unique in it). */
static void
run_args_sort_by_name(cJSON *list)
{
	int n = cJSON_GetArraySize(list), i;
	cJSON **items;

	if (n < 2)
		return;
	items = xcalloc((size_t)n, sizeof *items);
	for (i = 0; i < n; i++)
		items[i] = cJSON_DetachItemFromArray(list, 0);
	qsort(items, (size_t)n, sizeof *items, run_args_name_cmp);
	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(list, items[i]);
	free(items);
}

int
run_args_ulimit(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause)
{
	static const char *names[] = { "core", "cpu", "data", "fsize", "locks", "memlock",
		"msgqueue", "nice", "nofile", "nproc", "rss", "rtprio", "rttime",
		"sigpending", "stack", NULL };
	const char *eq = strchr(v, '='), *colon;
	char *name, *soft_s;
	int64_t soft, hard;
	cJSON *list, *e, *u;
	int i, known = 0;

	if (eq == NULL)
		return error_set(cause, "invalid ulimit argument: %s", v);
	name = xstrndup(v, (size_t)(eq - v));
	for (i = 0; names[i] != NULL; i++)
		if (strcmp(name, names[i]) == 0)
			known = 1;
	if (!known) {
		error_set(cause, "invalid ulimit type: %s", name);
		free(name);
		return -1;
	}
	colon = strchr(eq + 1, ':');
	soft_s =
	    colon != NULL ? xstrndup(eq + 1, (size_t)(colon - eq - 1)) : xstrdup(eq + 1);
	if (run_args_parse_int(soft_s, 10, &soft) != 0 ||
	    (colon != NULL && run_args_parse_int(colon + 1, 10, &hard) != 0)) {
		error_set(cause, "invalid ulimit value: %s", v);
		goto fail;
	}
	if (colon == NULL)
		hard = soft;
	if (hard != -1) {
		if (soft == -1) {
			error_set(cause,
			    "ulimit soft limit must be less than or equal to hard "
			    "limit: soft: -1 (unlimited), hard: %lld",
			    (long long)hard);
			goto fail;
		}
		if (soft > hard) {
			error_set(cause,
			    "ulimit soft limit must be less than or equal to hard "
			    "limit: %lld > %lld",
			    (long long)soft, (long long)hard);
			goto fail;
		}
	}
	u = cJSON_CreateObject();
	cJSON_AddStringToObject(u, "Name", name);
	cJSON_AddNumberToObject(u, "Hard", (double)hard);
	cJSON_AddNumberToObject(u, "Soft", (double)soft);
	/* Kept sorted by name, one per name, as docker's ulimit map sends them.
	 * (Not with cJSON_InsertItemInArray: cJSON 1.7.15 loses items when it
	 * follows a delete; the fuzzer found it.) */
	list = run_args_child(run_args_host(st), "Ulimits", cJSON_Array);
	i = 0;
	cJSON_ArrayForEach(e, list) {
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(e, "Name");

		if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0)
			break;
		i++;
	}
	if (e != NULL)
		cJSON_DeleteItemFromArray(list, i);
	cJSON_AddItemToArray(list, u);
	run_args_sort_by_name(list);
	free(name);
	free(soft_s);
	return 0;
fail:
	free(name);
	free(soft_s);
	return -1;
}

int
run_args_name(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause)
{
	free(st->name);
	st->name = xstrdup(v);
	return 0;
}

int
run_args_entrypoint(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause)
{
	cJSON *a = cJSON_CreateArray();

	cJSON_AddItemToArray(a, cJSON_CreateString(v));
	run_args_set(st->body, "Entrypoint", a);
	return 0;
}

int
run_args_restart(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause)
{
	const char *colon = strchr(v, ':');
	char *name;
	int64_t count = 0;
	cJSON *rp;

	if (colon == v)
		return error_set(cause,
		    "invalid restart policy format: no policy provided "
		    "before colon");
	if (colon != NULL && colon[1] != '\0' &&
	    (run_args_parse_int(colon + 1, 10, &count) != 0 || count > INT32_MAX ||
		count < INT32_MIN))
		return error_set(cause,
		    "invalid restart policy format: maximum retry count "
		    "must be an integer");
	name = colon != NULL ? xstrndup(v, (size_t)(colon - v)) : xstrdup(v);
	st->restart = *name != '\0' && strcmp(name, "no") != 0;
	rp = cJSON_CreateObject();
	cJSON_AddStringToObject(rp, "Name", name);
	cJSON_AddNumberToObject(rp, "MaximumRetryCount", (double)count);
	run_args_set(run_args_host(st), "RestartPolicy", rp);
	free(name);
	return 0;
}

/* --pid: "", host or container:NAME; --uts: "" or host (moby's Valid()). */
int
run_args_ns(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause)
{
	int pid = strcmp(f->name, "pid") == 0;

	if (*v != '\0' && strcmp(v, "host") != 0 &&
	    !(pid && strncmp(v, "container:", 10) == 0 && v[10] != '\0'))
		return error_set(cause, "invalid %s mode", pid ? "PID" : "UTS");
	return run_args_string(st, f, v, cause);
}

int
run_args_userns(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause)
{
	if (*v != '\0' && strcmp(v, "host") != 0)
		return error_set(cause, "invalid USER mode");
	return run_args_string(st, f, v, cause);
}

int
run_args_cgroupns(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause)
{
	if (*v != '\0' && strcmp(v, "host") != 0 && strcmp(v, "private") != 0)
		return error_set(cause, "invalid CGROUP mode");
	return run_args_string(st, f, v, cause);
}

int
run_args_rm(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause)
{
	if (strcmp(v, "1") != 0)
		return 0;
	st->rm = 1;
	run_args_warn(
	    st, "runArgs[%d]: --rm is ignored: a dev container must persist", st->index);
	return 0;
}

int
run_args_attach(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause)
{
	if (strcasecmp(v, "stdin") != 0 && strcasecmp(v, "stdout") != 0 &&
	    strcasecmp(v, "stderr") != 0)
		return error_set(cause, "valid streams are STDIN, STDOUT and STDERR");
	return 0;
}

int
run_args_ignore(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause)
{
	return 0;
}

/* A number that cannot be negative (the CLI's uint64 flags: Go's
 * strconv.ParseUint, which takes no sign, "+5" no more than "-1"). */
int
run_args_uint(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause)
{
	if (*v == '-' || *v == '+')
		return error_set(cause, "invalid number \"%s\"", v);
	return run_args_int(st, f, v, cause);
}

/* --storage-opt key=value into HostConfig.StorageOpt (the last value of a
 * key wins, as in the CLI's map). */
int
run_args_storage_opt(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause)
{
	if (strchr(v, '=') == NULL)
		return error_set(cause, "invalid storage option: \"%s\" (key=value)", v);
	run_args_kv(run_args_host(st), "StorageOpt", v);
	return 0;
}
