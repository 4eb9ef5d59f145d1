/* run-args.c - devcontainer.json runArgs applied to a ContainerCreate body. */
#include "run-args.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "error.h"
#include "mount-spec.h"
#include "xmalloc.h"

/* Largest integer a JSON number (a double) carries exactly. */
#define RUN_ARGS_MAX_EXACT 9007199254740992LL

struct run_args_flag;

/* The state of one run_args_apply call. */
struct run_args {
	cJSON *body;
	char *name;
	char **warnings;
	size_t nwarnings;
	int index;		/* runArgs index of the option being applied */
	int rm;			/* --rm given */
	int restart;		/* --restart given with a policy other than "no" */
	char *network;		/* --network value */
	cJSON *aliases;		/* --network-alias values, applied at the end */
	int log_opts;		/* --log-opt given */
	struct run_args_ports *ports; /* index of published/exposed ports */
};

/* Which ports ExposedPorts has and where each port's PortBindings list is,
 * so that a range of 65536 ports costs no more than 65536 additions. Built
 * from the body on first use; only -p and --expose change these fields. */
#define RUN_ARGS_PROTOS 3
struct run_args_ports {
	cJSON *exposed;
	cJSON *bindings;
	unsigned char is_exposed[RUN_ARGS_PROTOS][65536 / 8];
	cJSON **lists[RUN_ARGS_PROTOS];	/* port -> PortBindings array */
};

typedef int (*run_args_fn)(struct run_args *, const struct run_args_flag *, const char *,
    char **);

enum run_args_kind {
	RUN_ARGS_VALUE,		/* takes a value */
	RUN_ARGS_BOOL,		/* "--flag" or "--flag=true|false" */
};

struct run_args_flag {
	const char *name;	/* long name, without "--" */
	char shorthand;		/* or 0 */
	enum run_args_kind kind;
	run_args_fn fn;		/* NULL: refused with why */
	int host;		/* field is in HostConfig (else top level) */
	const char *field;
	const char *why;
};

/* ---- body helpers ---- */

static cJSON *
run_args_host(struct run_args *st)
{
	cJSON *hc = cJSON_GetObjectItemCaseSensitive(st->body, "HostConfig");

	if (cJSON_IsObject(hc))
		return hc;
	if (hc != NULL)
		cJSON_DeleteItemFromObjectCaseSensitive(st->body, "HostConfig");
	return cJSON_AddObjectToObject(st->body, "HostConfig");
}

static cJSON *
run_args_parent(struct run_args *st, const struct run_args_flag *f)
{
	return f->host ? run_args_host(st) : st->body;
}

/* Set parent[key] = item, keeping the key's position if it exists. */
static void
run_args_set(cJSON *parent, const char *key, cJSON *item)
{
	if (cJSON_GetObjectItemCaseSensitive(parent, key) != NULL)
		cJSON_ReplaceItemInObjectCaseSensitive(parent, key, item);
	else
		cJSON_AddItemToObject(parent, key, item);
}

/* parent[key] as an object or array (type cJSON_Object / cJSON_Array),
 * created (or replacing a value of another type) if needed. */
static cJSON *
run_args_child(cJSON *parent, const char *key, int type)
{
	cJSON *c = cJSON_GetObjectItemCaseSensitive(parent, key);

	if (c != NULL && (c->type & 0xff) == type)
		return c;
	c = type == cJSON_Array ? cJSON_CreateArray() : cJSON_CreateObject();
	run_args_set(parent, key, c);
	return c;
}

static void
run_args_append(cJSON *parent, const char *key, const char *value)
{
	cJSON_AddItemToArray(run_args_child(parent, key, cJSON_Array),
	    cJSON_CreateString(value));
}

static void
run_args_map_set(cJSON *parent, const char *key, const char *k, const char *v)
{
	run_args_set(run_args_child(parent, key, cJSON_Object), k, cJSON_CreateString(v));
}

static void
run_args_warn(struct run_args *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
run_args_warn(struct run_args *st, const char *fmt, ...)
{
	va_list ap;

	st->warnings = xreallocarray(st->warnings, st->nwarnings + 2, sizeof *st->warnings);
	va_start(ap, fmt);
	st->warnings[st->nwarnings++] = xvasprintf(fmt, ap);
	va_end(ap);
	st->warnings[st->nwarnings] = NULL;
}

/* ---- value parsers (Go semantics) ---- */

/* strconv.ParseBool. */
static int
run_args_parse_bool(const char *s, int *out)
{
	static const char *yes[] = { "1", "t", "T", "TRUE", "true", "True", NULL };
	static const char *no[] = { "0", "f", "F", "FALSE", "false", "False", NULL };
	int i;

	for (i = 0; yes[i] != NULL; i++)
		if (strcmp(s, yes[i]) == 0)
			return *out = 1, 0;
	for (i = 0; no[i] != NULL; i++)
		if (strcmp(s, no[i]) == 0)
			return *out = 0, 0;
	return -1;
}

/* strconv.ParseInt(s, base, 64); base 0 takes 0x/0o/0b/0 prefixes as pflag's
 * integer flags do. Values beyond what JSON carries exactly are refused. */
static int
run_args_parse_int(const char *s, int base, int64_t *out)
{
	const char *p = s;
	int neg = 0, digit;
	uint64_t v = 0;

	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	if (base == 0) {
		base = 10;
		if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
			base = 16, p += 2;
		else if (p[0] == '0' && (p[1] == 'o' || p[1] == 'O'))
			base = 8, p += 2;
		else if (p[0] == '0' && (p[1] == 'b' || p[1] == 'B'))
			base = 2, p += 2;
		else if (p[0] == '0' && p[1] != '\0')
			base = 8, p++;
	}
	if (*p == '\0')
		return -1;
	for (; *p != '\0'; p++) {
		if (isdigit((unsigned char)*p))
			digit = *p - '0';
		else if (isalpha((unsigned char)*p))
			digit = tolower((unsigned char)*p) - 'a' + 10;
		else
			return -1;
		if (digit >= base)
			return -1;
		v = v * (uint64_t)base + (uint64_t)digit;
		if (v > (uint64_t)RUN_ARGS_MAX_EXACT)
			return -1;
	}
	*out = neg ? -(int64_t)v : (int64_t)v;
	return 0;
}

/* An IP address as Go's net.ParseIP takes it, in Go's canonical form
 * (IPv4-mapped IPv6 addresses print as IPv4). 0 on success. */
static int
run_args_ip(const char *s, char *out, size_t len)
{
	unsigned char a[16];
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (inet_pton(AF_INET, s, a) == 1)
		return inet_ntop(AF_INET, a, out, (socklen_t)len) == NULL ? -1 : 0;
	if (inet_pton(AF_INET6, s, a) != 1)
		return -1;
	if (memcmp(a, mapped, sizeof mapped) == 0)
		return inet_ntop(AF_INET, a + 12, out, (socklen_t)len) == NULL ? -1 : 0;
	return inet_ntop(AF_INET6, a, out, (socklen_t)len) == NULL ? -1 : 0;
}

/* Go's path.Clean: a new string. */
static char *
run_args_path_clean(const char *path)
{
	size_t n = strlen(path), r = 0, w = 0, dotdot = 0;
	int rooted = n > 0 && path[0] == '/';
	char *out;

	if (n == 0)
		return xstrdup(".");
	out = xmalloc(n + 2);
	if (rooted) {
		out[w++] = '/';
		r = dotdot = 1;
	}
	while (r < n) {
		if (path[r] == '/')
			r++;
		else if (path[r] == '.' && (r + 1 == n || path[r + 1] == '/'))
			r++;
		else if (path[r] == '.' && path[r + 1] == '.' &&
		    (r + 2 == n || path[r + 2] == '/')) {
			r += 2;
			if (w > dotdot) {
				w--;
				while (w > dotdot && out[w] != '/')
					w--;
			} else if (!rooted) {
				if (w > 0)
					out[w++] = '/';
				out[w++] = '.';
				out[w++] = '.';
				dotdot = w;
			}
		} else {
			if ((rooted && w != 1) || (!rooted && w != 0))
				out[w++] = '/';
			for (; r < n && path[r] != '/'; r++)
				out[w++] = path[r];
		}
	}
	if (w == 0)
		out[w++] = '.';
	out[w] = '\0';
	return out;
}

/* ---- handlers: one per kind of option ---- */

static int
run_args_string(struct run_args *st, const struct run_args_flag *f, const char *v,
    char **cause)
{
	run_args_set(run_args_parent(st, f), f->field, cJSON_CreateString(v));
	return 0;
}

static int
run_args_list(struct run_args *st, const struct run_args_flag *f, const char *v,
    char **cause)
{
	run_args_append(run_args_parent(st, f), f->field, v);
	return 0;
}

static int
run_args_bool(struct run_args *st, const struct run_args_flag *f, const char *v,
    char **cause)
{
	run_args_set(run_args_parent(st, f), f->field, cJSON_CreateBool(strcmp(v, "1") == 0));
	return 0;
}

/* --privileged, --init: false does not clear a true set by the configuration. */
static int
run_args_bool_sticky(struct run_args *st, const struct run_args_flag *f, const char *v,
    char **cause)
{
	cJSON *parent = run_args_parent(st, f);

	if (strcmp(v, "1") != 0 && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(parent,
	    f->field)))
		return 0;
	return run_args_bool(st, f, v, cause);
}

static int
run_args_int(struct run_args *st, const struct run_args_flag *f, const char *v,
    char **cause)
{
	int64_t n;

	if (run_args_parse_int(v, 0, &n) != 0)
		return error_set(cause, "invalid number \"%s\"", v);
	run_args_set(run_args_parent(st, f), f->field, cJSON_CreateNumber((double)n));
	return 0;
}

static int
run_args_bytes(struct run_args *st, const struct run_args_flag *f, const char *v,
    char **cause)
{
	int64_t n;

	if (mount_spec_parse_bytes(v, &n, cause) != 0)
		return -1;
	run_args_set(run_args_parent(st, f), f->field, cJSON_CreateNumber((double)n));
	return 0;
}

static int
run_args_memory_swap(struct run_args *st, const struct run_args_flag *f, const char *v,
    char **cause)
{
	if (strcmp(v, "-1") == 0) {
		run_args_set(run_args_host(st), f->field, cJSON_CreateNumber(-1));
		return 0;
	}
	return run_args_bytes(st, f, v, cause);
}

static int
run_args_swappiness(struct run_args *st, const struct run_args_flag *f, const char *v,
    char **cause)
{
	int64_t n;

	if (run_args_parse_int(v, 0, &n) != 0)
		return error_set(cause, "invalid number \"%s\"", v);
	if (n != -1 && (n < 0 || n > 100))
		return error_set(cause, "invalid value: %lld. Valid memory swappiness range "
		    "is 0-100", (long long)n);
	run_args_set(run_args_host(st), f->field, cJSON_CreateNumber((double)n));
	return 0;
}

/* --cpus: a decimal number of CPUs as nanoCPUs (docker's ParseCPUs). */
static int
run_args_cpus(struct run_args *st, const struct run_args_flag *f, const char *v,
    char **cause)
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
					return error_set(cause, "value \"%s\" is too precise", v);
				continue;
			}
			frac += (*p - '0') * scale;
			scale /= 10;
		}
	}
	if (digits == 0 || *p != '\0')
		return error_set(cause, "failed to parse %s as a rational number", v);
	whole = whole * 1000000000 + frac;
	run_args_set(run_args_host(st), f->field,
	    cJSON_CreateNumber((double)(neg ? -whole : whole)));
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

static int
run_args_env(struct run_args *st, const struct run_args_flag *f, const char *v,
    char **cause)
{
	if (v[0] == '=' || v[0] == '\0')
		return error_set(cause, "invalid environment variable: %s", v);
	if (strchr(v, '=') == NULL)
		run_args_warn(st, "runArgs[%d]: -e %s has no value; rdev does not copy "
		    "variables from its own environment (use containerEnv with "
		    "${localEnv:%s})", st->index, v, v);
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

static int
run_args_label(struct run_args *st, const struct run_args_flag *f, const char *v,
    char **cause)
{
	const char *eq = strchr(v, '='), *k = v;
	size_t len = eq != NULL ? (size_t)(eq - v) : strlen(v), i;

	while (len > 0 && (*k == ' ' || *k == '\t'))
		k++, len--;
	if (len == 0)
		return error_set(cause, "invalid label '%s': empty name", v);
	for (i = 0; i < len; i++)
		if (k[i] == ' ' || k[i] == '\t')
			return error_set(cause, "label '%.*s' contains whitespaces", (int)len, k);
	run_args_kv(st->body, "Labels", v);
	return 0;
}

static int
run_args_sysctl(struct run_args *st, const struct run_args_flag *f, const char *v,
    char **cause)
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

static int
run_args_tmpfs(struct run_args *st, const struct run_args_flag *f, const char *v,
    char **cause)
{
	const char *colon = strchr(v, ':');
	char *path = colon != NULL ? xstrndup(v, (size_t)(colon - v)) : xstrdup(v);

	run_args_map_set(run_args_host(st), "Tmpfs", path, colon != NULL ? colon + 1 : "");
	free(path);
	return 0;
}

static int
run_args_log_opt(struct run_args *st, const struct run_args_flag *f, const char *v,
    char **cause)
{
	st->log_opts = 1;
	run_args_kv(run_args_child(run_args_host(st), "LogConfig", cJSON_Object), "Config",
	    v);
	return 0;
}

static int
run_args_log_driver(struct run_args *st, const struct run_args_flag *f, const char *v,
    char **cause)
{
	run_args_set(run_args_child(run_args_host(st), "LogConfig", cJSON_Object), "Type",
	    cJSON_CreateString(v));
	return 0;
}

static int
run_args_add_host(struct run_args *st, const struct run_args_flag *f, const char *v,
    char **cause)
{
	const char *sep = strchr(v, '=');
	char *k, *ip, *entry, norm[64];
	size_t len;

	if (sep == NULL)
		sep = strchr(v, ':');
	if (sep == NULL || sep == v || memchr(v, ':', (size_t)(sep - v)) != NULL)
		return error_set(cause, "bad format for add-host: \"%s\"", v);
	k = xstrndup(v, (size_t)(sep - v));
	ip = xstrdup(sep + 1);
	if (strcmp(ip, "host-gateway") != 0) {
		len = strlen(ip);
		if (len > 2 && ip[0] == '[' && ip[len - 1] == ']') {
			memmove(ip, ip + 1, len - 2);
			ip[len - 2] = '\0';
		}
		if (run_args_ip(ip, norm, sizeof norm) != 0) {
			error_set(cause, "invalid IP address in add-host: \"%s\"", ip);
			free(k);
			free(ip);
			return -1;
		}
	}
	entry = xasprintf("%s:%s", k, ip);
	run_args_append(run_args_host(st), "ExtraHosts", entry);
	free(entry);
	free(k);
	free(ip);
	return 0;
}

static int
run_args_dns(struct run_args *st, const struct run_args_flag *f, const char *v,
    char **cause)
{
	char norm[64], *trimmed;
	size_t len;
	int rc;

	while (*v == ' ' || *v == '\t' || *v == '\n' || *v == '\r')
		v++;
	len = strlen(v);
	while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t' || v[len - 1] == '\n' ||
	    v[len - 1] == '\r'))
		len--;
	trimmed = xstrndup(v, len);
	rc = run_args_ip(trimmed, norm, sizeof norm);
	free(trimmed);
	if (rc != 0)
		return error_set(cause, "IP address is not correctly formatted: %s", v);
	run_args_append(run_args_host(st), "Dns", norm);
	return 0;
}

/* docker's ValidateDNSSearch: "." or a domain name (trailing dot dropped). */
static int
run_args_dns_search(struct run_args *st, const struct run_args_flag *f, const char *v,
    char **cause)
{
	const char *p, *label;
	size_t len;
	char *d;
	int alpha = 0;

	while (*v == ' ')
		v++;
	len = strlen(v);
	while (len > 0 && v[len - 1] == ' ')
		len--;
	d = xstrndup(v, len);
	if (strcmp(d, ".") == 0)
		goto ok;
	for (p = d; *p != '\0'; p++)
		if (isalpha((unsigned char)*p))
			alpha = 1;
	if (len > 0 && d[len - 1] == '.')
		d[--len] = '\0';
	for (p = label = d;; p++) {
		if (*p == '.' || *p == '\0') {
			if (p == label || label[0] == '-' || p[-1] == '-')
				alpha = 0;
			if (*p == '\0')
				break;
			label = p + 1;
		} else if (!isalnum((unsigned char)*p) && *p != '-')
			alpha = 0;
	}
	if (!alpha || len >= 255) {
		error_set(cause, "%s is not a valid domain", v);
		free(d);
		return -1;
	}
ok:
	run_args_append(run_args_host(st), "DnsSearch", d);
	free(d);
	return 0;
}

static int
run_args_security_opt(struct run_args *st, const struct run_args_flag *f, const char *v,
    char **cause)
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
	if (klen == 7 && strncmp(v, "seccomp", 7) == 0 && strcmp(sep + 1, "builtin") != 0 &&
	    strcmp(sep + 1, "unconfined") != 0)
		return error_set(cause, "seccomp profile files are not supported by rdev "
		    "(docker would read \"%s\" on the client; use seccomp=unconfined or "
		    "seccomp=builtin)", sep + 1);
	if (strcmp(v, "systempaths=unconfined") == 0) {
		run_args_set(hc, "MaskedPaths", cJSON_CreateArray());
		run_args_set(hc, "ReadonlyPaths", cJSON_CreateArray());
		return 0;
	}
	run_args_append(hc, "SecurityOpt", v);
	return 0;
}

/* A device permission string: some of r, w, m, each at most once. */
static int
run_args_device_mode(const char *mode, size_t len)
{
	int seen[3] = { 0, 0, 0 };
	const char *letters = "rwm", *l;
	size_t i;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++) {
		if (mode[i] == '\0' || (l = strchr(letters, mode[i])) == NULL ||
		    seen[l - letters]++)
			return 0;
	}
	return 1;
}

/* --device host[:container][:perms], checked as docker's validateLinuxPath
 * and split as its parseLinuxDevice. */
static int
run_args_device(struct run_args *st, const struct run_args_flag *f, const char *v,
    char **cause)
{
	const char *c1, *c2, *eq, *slash;
	char *val, *src, *dst = NULL, *perms, *cpath, *clean, *c;
	cJSON *d;
	int colons = 0;

	eq = strchr(v, '=');
	slash = strchr(v, '/');
	if (eq != NULL && slash != NULL && slash < eq && v[0] != '/')
		return error_set(cause, "CDI device names are not supported by rdev: %s", v);
	for (c1 = v; *c1 != '\0'; c1++)
		colons += *c1 == ':';
	if (colons > 2 || v[0] == ':' || v[0] == '\0')
		return error_set(cause, "bad format for path: %s", v);
	c1 = strchr(v, ':');
	c2 = c1 != NULL ? strchr(c1 + 1, ':') : NULL;
	/* validateLinuxPath: the container path must be absolute; it returns
	 * the spec with that path cleaned (except in the three-part form). */
	if (c1 == NULL) {
		val = run_args_path_clean(v);
		cpath = xstrdup(v);
	} else if (c2 == NULL && run_args_device_mode(c1 + 1, strlen(c1 + 1))) {
		cpath = xstrndup(v, (size_t)(c1 - v));
		clean = run_args_path_clean(cpath);
		val = xasprintf("%s:%s", clean, c1 + 1);
		free(clean);
	} else if (c2 == NULL) {
		cpath = xstrdup(c1 + 1);
		clean = run_args_path_clean(cpath);
		val = xasprintf("%.*s:%s", (int)(c1 - v), v, clean);
		free(clean);
	} else {
		if (!run_args_device_mode(c2 + 1, strlen(c2 + 1)))
			return error_set(cause, "bad mode specified: %s", c2 + 1);
		cpath = xstrndup(c1 + 1, (size_t)(c2 - c1 - 1));
		val = xstrdup(v);
	}
	if (cpath[0] != '/') {
		error_set(cause, "%s is not an absolute path", cpath);
		free(cpath);
		free(val);
		return -1;
	}
	free(cpath);

	/* parseLinuxDevice on the validated spec. */
	perms = xstrdup("rwm");
	src = xstrdup(val);
	if ((c = strchr(src, ':')) != NULL) {
		*c++ = '\0';
		if ((c1 = strchr(c, ':')) != NULL) {
			free(perms);
			perms = xstrdup(c1 + 1);
			dst = xstrndup(c, (size_t)(c1 - c));
		} else if (run_args_device_mode(c, strlen(c))) {
			free(perms);
			perms = xstrdup(c);
		} else
			dst = xstrdup(c);
	}
	if (dst == NULL || *dst == '\0') {
		free(dst);
		dst = xstrdup(src);
	}
	d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "PathOnHost", src);
	cJSON_AddStringToObject(d, "PathInContainer", dst);
	cJSON_AddStringToObject(d, "CgroupPermissions", perms);
	cJSON_AddItemToArray(run_args_child(run_args_host(st), "Devices", cJSON_Array), d);
	free(src);
	free(dst);
	free(perms);
	free(val);
	return 0;
}

/* --device-cgroup-rule: ^[acb] ([0-9]+|\*):([0-9]+|\*) [rwm]{1,3}$ */
static int
run_args_cgroup_rule(struct run_args *st, const struct run_args_flag *f, const char *v,
    char **cause)
{
	const char *p = v;
	int part, n;

	if (*p != 'a' && *p != 'c' && *p != 'b')
		goto bad;
	if (*++p != ' ')
		goto bad;
	p++;
	for (part = 0; part < 2; part++) {
		if (*p == '*')
			p++;
		else {
			for (n = 0; isdigit((unsigned char)*p); p++)
				n++;
			if (n == 0)
				goto bad;
		}
		if (*p++ != (part == 0 ? ':' : ' '))
			goto bad;
	}
	for (n = 0; *p == 'r' || *p == 'w' || *p == 'm'; p++)
		n++;
	if (n < 1 || n > 3 || *p != '\0')
		goto bad;
	run_args_append(run_args_host(st), "DeviceCgroupRules", v);
	return 0;
bad:
	return error_set(cause, "invalid device cgroup format '%s'", v);
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

static int
run_args_ulimit(struct run_args *st, const struct run_args_flag *f, const char *v,
    char **cause)
{
	static const char *names[] = { "core", "cpu", "data", "fsize", "locks", "memlock",
	    "msgqueue", "nice", "nofile", "nproc", "rss", "rtprio", "rttime", "sigpending",
	    "stack", NULL };
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
	soft_s = colon != NULL ? xstrndup(eq + 1, (size_t)(colon - eq - 1)) : xstrdup(eq + 1);
	if (run_args_parse_int(soft_s, 10, &soft) != 0 ||
	    (colon != NULL && run_args_parse_int(colon + 1, 10, &hard) != 0)) {
		error_set(cause, "invalid ulimit value: %s", v);
		goto fail;
	}
	if (colon == NULL)
		hard = soft;
	if (hard != -1) {
		if (soft == -1) {
			error_set(cause, "ulimit soft limit must be less than or equal to hard "
			    "limit: soft: -1 (unlimited), hard: %lld", (long long)hard);
			goto fail;
		}
		if (soft > hard) {
			error_set(cause, "ulimit soft limit must be less than or equal to hard "
			    "limit: %lld > %lld", (long long)soft, (long long)hard);
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

/* go-connections parsePortRange: "N" or "N-M" (0-65535, M >= N). */
static int
run_args_port_range(const char *s, int *start, int *end)
{
	const char *dash = strchr(s, '-');
	char *a;
	int64_t n, m;
	int rc, same;

	if (!isdigit((unsigned char)*s) || (dash != NULL && !isdigit((unsigned char)dash[1])))
		return -1;	/* digits only: no sign */
	a = dash != NULL ? xstrndup(s, (size_t)(dash - s)) : xstrdup(s);
	rc = run_args_parse_int(a, 10, &n);
	same = dash != NULL && strcmp(a, dash + 1) == 0;
	free(a);
	if (rc != 0 || n < 0 || n > 65535)
		return -1;
	*start = *end = (int)n;
	if (dash == NULL || same)
		return 0;
	if (run_args_parse_int(dash + 1, 10, &m) != 0 || m < 0 || m > 65535 || m < n)
		return -1;
	*end = (int)m;
	return 0;
}

static const char *run_args_proto_names[RUN_ARGS_PROTOS] = { "tcp", "udp", "sctp" };

static int
run_args_proto(const char *p)
{
	int i;

	for (i = 0; i < RUN_ARGS_PROTOS; i++)
		if (strcmp(p, run_args_proto_names[i]) == 0)
			return 1;
	return 0;
}

/* "80/tcp" -> port 80, proto index 0, if the key is in canonical form. */
static int
run_args_port_key(const char *key, int *port, int *proto)
{
	char *end, buf[32];
	long n;
	int i;

	if (!isdigit((unsigned char)*key))
		return -1;
	n = strtol(key, &end, 10);
	if (*end != '/' || n < 0 || n > 65535)
		return -1;
	for (i = 0; i < RUN_ARGS_PROTOS; i++) {
		snprintf(buf, sizeof buf, "%ld/%s", n, run_args_proto_names[i]);
		if (strcmp(buf, key) == 0) {
			*port = (int)n;
			*proto = i;
			return 0;
		}
	}
	return -1;
}

static struct run_args_ports *
run_args_ports(struct run_args *st)
{
	struct run_args_ports *p = st->ports;
	cJSON *e, *next;
	int port, proto;

	if (p != NULL)
		return p;
	p = st->ports = xcalloc(1, sizeof *p);
	p->exposed = run_args_child(st->body, "ExposedPorts", cJSON_Object);
	cJSON_ArrayForEach(e, p->exposed)
		if (run_args_port_key(e->string, &port, &proto) == 0)
			p->is_exposed[proto][port / 8] |= 1 << (port % 8);
	/* PortBindings is created when a port is published (not for --expose). */
	e = cJSON_GetObjectItemCaseSensitive(st->body, "HostConfig");
	e = cJSON_IsObject(e) ? cJSON_GetObjectItemCaseSensitive(e, "PortBindings") : NULL;
	if (!cJSON_IsObject(e))
		return p;
	p->bindings = e;
	for (e = p->bindings->child; e != NULL; e = next) {
		next = e->next;
		if (run_args_port_key(e->string, &port, &proto) != 0)
			continue;
		if (!cJSON_IsArray(e)) {
			/* Not a list of bindings: dropped, as run_args_child would. */
			cJSON_Delete(cJSON_DetachItemViaPointer(p->bindings, e));
			continue;
		}
		if (p->lists[proto] == NULL)
			p->lists[proto] = xcalloc(65536, sizeof *p->lists[proto]);
		if (p->lists[proto][port] == NULL)
			p->lists[proto][port] = e;
	}
	return p;
}

static void
run_args_ports_free(struct run_args_ports *p)
{
	int i;

	if (p == NULL)
		return;
	for (i = 0; i < RUN_ARGS_PROTOS; i++)
		free(p->lists[i]);
	free(p);
}

static int
run_args_proto_index(const char *proto)
{
	int i;

	for (i = 0; i < RUN_ARGS_PROTOS; i++)
		if (strcmp(proto, run_args_proto_names[i]) == 0)
			return i;
	return 0;
}

/* Add port/proto to ExposedPorts unless it is there. */
static void
run_args_expose_port(struct run_args *st, int port, const char *proto)
{
	struct run_args_ports *p = run_args_ports(st);
	int pi = run_args_proto_index(proto);
	char key[32];

	if (p->is_exposed[pi][port / 8] & (1 << (port % 8)))
		return;
	p->is_exposed[pi][port / 8] |= 1 << (port % 8);
	snprintf(key, sizeof key, "%d/%s", port, proto);
	cJSON_AddItemToObject(p->exposed, key, cJSON_CreateObject());
}

/* Append a binding to PortBindings["port/proto"]. */
static void
run_args_bind_port(struct run_args *st, int port, const char *proto, const char *ip,
    const char *host_port)
{
	struct run_args_ports *p = run_args_ports(st);
	int pi = run_args_proto_index(proto);
	cJSON *b = cJSON_CreateObject(), *list;
	char key[32];

	if (p->bindings == NULL)
		p->bindings = run_args_child(run_args_host(st), "PortBindings", cJSON_Object);
	if (p->lists[pi] == NULL)
		p->lists[pi] = xcalloc(65536, sizeof *p->lists[pi]);
	if ((list = p->lists[pi][port]) == NULL) {
		snprintf(key, sizeof key, "%d/%s", port, proto);
		list = p->lists[pi][port] = cJSON_CreateArray();
		cJSON_AddItemToObject(p->bindings, key, list);
	}
	cJSON_AddStringToObject(b, "HostIp", ip);
	cJSON_AddStringToObject(b, "HostPort", host_port);
	cJSON_AddItemToArray(list, b);
}

/* Split "port[/proto]": *port and *proto are new strings (proto lower-case,
 * "tcp" by default). */
static void
run_args_split_proto(const char *s, char **port, char **proto)
{
	const char *slash = strchr(s, '/');
	char *p;

	*port = slash != NULL ? xstrndup(s, (size_t)(slash - s)) : xstrdup(s);
	*proto = xstrdup(slash != NULL && slash[1] != '\0' ? slash + 1 : "tcp");
	for (p = *proto; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
}

/* -p published=8080,target=80[,protocol=udp] -> "8080:80/udp" (docker's
 * convertToStandardNotation). New string or NULL with *cause. */
static char *
run_args_publish_long(const char *v, char **cause)
{
	char *copy = xstrdup(v), *field, *next, *eq, *out;
	const char *published = "", *target = "", *protocol = "tcp";

	for (field = copy; field != NULL; field = next) {
		if ((next = strchr(field, ',')) != NULL)
			*next++ = '\0';
		if ((eq = strchr(field, '=')) == NULL || eq == field) {
			error_set(cause, "invalid publish opts format (should be name=value "
			    "but got '%s')", field);
			free(copy);
			return NULL;
		}
		*eq++ = '\0';
		if (strcmp(field, "published") == 0)
			published = eq;
		else if (strcmp(field, "target") == 0)
			target = eq;
		else if (strcmp(field, "protocol") == 0)
			protocol = eq;
	}
	out = xasprintf("%s:%s/%s", published, target, protocol);
	free(copy);
	return out;
}

/* -p [ip:][hostPort:]containerPort[/proto] (go-connections ParsePortSpec):
 * ExposedPorts and PortBindings, one binding per port of a range. */
static int
run_args_publish(struct run_args *st, const struct run_args_flag *f, const char *v,
    char **cause)
{
	char *spec, *ip = NULL, *host = NULL, *cport = NULL, *proto = NULL, *c, *hp;
	char *last, *prev, norm[64];
	int start, end, hstart = 0, hend = 0, i, rc = -1;
	size_t iplen;

	if (strchr(v, '=') != NULL) {
		if ((spec = run_args_publish_long(v, cause)) == NULL)
			return -1;
	} else
		spec = xstrdup(v);
	last = strrchr(spec, ':');
	if (last == NULL) {
		c = xstrdup(spec);
	} else {
		c = xstrdup(last + 1);
		*last = '\0';
		prev = strrchr(spec, ':');
		if (prev == NULL)
			host = xstrdup(spec);
		else {
			host = xstrdup(prev + 1);
			*prev = '\0';
			ip = xstrdup(spec);
		}
	}
	run_args_split_proto(c, &cport, &proto);
	free(c);
	if (*cport == '\0') {
		error_set(cause, "no port specified: %s<empty>", v);
		goto out;
	}
	if (!run_args_proto(proto)) {
		error_set(cause, "invalid proto: %s", proto);
		goto out;
	}
	if (ip != NULL && ip[0] == '[') {
		iplen = strlen(ip);
		if (iplen < 2 || ip[iplen - 1] != ']') {
			error_set(cause, "invalid IP address %s", ip);
			goto out;
		}
		memmove(ip, ip + 1, iplen - 2);
		ip[iplen - 2] = '\0';
	}
	if (ip != NULL && *ip != '\0' && run_args_ip(ip, norm, sizeof norm) != 0) {
		error_set(cause, "invalid IP address: %s", ip);
		goto out;
	}
	if (run_args_port_range(cport, &start, &end) != 0) {
		error_set(cause, "invalid containerPort: %s", cport);
		goto out;
	}
	if (host != NULL && *host != '\0') {
		if (run_args_port_range(host, &hstart, &hend) != 0) {
			error_set(cause, "invalid hostPort: %s", host);
			goto out;
		}
		if (end - start != hend - hstart && end != start) {
			error_set(cause, "invalid ranges specified for container and host "
			    "Ports: %s and %s", cport, host);
			goto out;
		}
	}
	for (i = 0; i <= end - start; i++) {
		if (host == NULL || *host == '\0')
			hp = xstrdup("");
		else if (start == end && hstart != hend)
			hp = xasprintf("%d-%d", hstart, hend);
		else
			hp = xasprintf("%d", hstart + i);
		run_args_expose_port(st, start + i, proto);
		run_args_bind_port(st, start + i, proto, ip != NULL ? ip : "", hp);
		free(hp);
	}
	rc = 0;
out:
	free(spec);
	free(ip);
	free(host);
	free(cport);
	free(proto);
	return rc;
}

static int
run_args_expose(struct run_args *st, const struct run_args_flag *f, const char *v,
    char **cause)
{
	char *port, *proto;
	int start, end, i, rc = -1;

	run_args_split_proto(v, &port, &proto);
	if (!run_args_proto(proto) || run_args_port_range(port, &start, &end) != 0) {
		error_set(cause, "invalid range format for --expose: %s", v);
		goto out;
	}
	for (i = start; i <= end; i++)
		run_args_expose_port(st, i, proto);
	rc = 0;
out:
	free(port);
	free(proto);
	return rc;
}

/* -v: docker's volumespec.Parse decides between a bind or named volume (it
 * goes to HostConfig.Binds as written) and an anonymous volume
 * (Config.Volumes). */
static int
run_args_volume(struct run_args *st, const struct run_args_flag *f, const char *v,
    char **cause)
{
	size_t len = strlen(v), blen = 0, i;
	char *buf, *source = NULL, *target = NULL;
	const cJSON *e;
	cJSON *binds;
	int rc = -1;

	if (len == 0)
		return error_set(cause, "invalid empty volume spec");
	buf = xmalloc(len + 1);
	if (len <= 2) {
		target = xstrdup(v);
		goto parsed;
	}
	for (i = 0; i <= len; i++) {
		char ch = v[i];

		if (ch == ':' && blen == 1 && isalpha((unsigned char)buf[0])) {
			buf[blen++] = ch;	/* a Windows drive letter */
			continue;
		}
		if (ch != ':' && ch != '\0') {
			buf[blen++] = ch;
			continue;
		}
		buf[blen] = '\0';
		if (blen == 0) {
			error_set(cause, "invalid spec: %s: empty section between colons", v);
			goto out;
		}
		if (source == NULL && ch == '\0')
			target = xstrdup(buf);
		else if (source == NULL)
			source = xstrdup(buf);
		else if (target == NULL)
			target = xstrdup(buf);
		else if (ch == ':') {
			error_set(cause, "invalid spec: %s: too many colons", v);
			goto out;
		}
		blen = 0;
	}
parsed:
	if (source == NULL) {
		run_args_set(run_args_child(st->body, "Volumes", cJSON_Object), target,
		    cJSON_CreateObject());
	} else {
		if (source[0] == '.') {
			error_set(cause, "relative source \"%s\" is not supported by rdev (use "
			    "an absolute path, e.g. ${localWorkspaceFolder}/...)", source);
			goto out;
		}
		binds = run_args_child(run_args_host(st), "Binds", cJSON_Array);
		cJSON_ArrayForEach(e, binds)
			if (cJSON_IsString(e) && strcmp(e->valuestring, v) == 0)
				break;
		if (e == NULL)
			cJSON_AddItemToArray(binds, cJSON_CreateString(v));
	}
	rc = 0;
out:
	free(buf);
	free(source);
	free(target);
	return rc;
}

static int
run_args_mount(struct run_args *st, const struct run_args_flag *f, const char *v,
    char **cause)
{
	cJSON *m = mount_spec_parse(v, cause);

	if (m == NULL)
		return -1;
	cJSON_AddItemToArray(run_args_child(run_args_host(st), "Mounts", cJSON_Array), m);
	return 0;
}

static int
run_args_network(struct run_args *st, const struct run_args_flag *f, const char *v,
    char **cause)
{
	const char *p, *eq;
	int advanced = 0;

	/* docker's test for the advanced syntax: \w+=\w+ anywhere. */
	for (eq = strchr(v, '='); eq != NULL && !advanced; eq = strchr(eq + 1, '='))
		if (eq > v && (isalnum((unsigned char)eq[-1]) || eq[-1] == '_') &&
		    (isalnum((unsigned char)eq[1]) || eq[1] == '_'))
			advanced = 1;
	if (advanced)
		return error_set(cause, "the advanced syntax (name=...,alias=...) is not "
		    "supported by rdev; use --network NAME and --network-alias");
	for (p = v; *p == ' ' || *p == '\t'; p++)
		;
	if (*p == '\0')
		return error_set(cause, "no name set for network");
	if (st->network != NULL && strcmp(st->network, v) != 0)
		return error_set(cause, "only one network is supported by rdev (already "
		    "\"%s\")", st->network);
	free(st->network);
	st->network = xstrdup(v);
	run_args_set(run_args_host(st), "NetworkMode", cJSON_CreateString(v));
	return 0;
}

static int
run_args_alias(struct run_args *st, const struct run_args_flag *f, const char *v,
    char **cause)
{
	if (st->aliases == NULL)
		st->aliases = cJSON_CreateArray();
	cJSON_AddItemToArray(st->aliases, cJSON_CreateString(v));
	return 0;
}

static int
run_args_name(struct run_args *st, const struct run_args_flag *f, const char *v,
    char **cause)
{
	free(st->name);
	st->name = xstrdup(v);
	return 0;
}

static int
run_args_entrypoint(struct run_args *st, const struct run_args_flag *f, const char *v,
    char **cause)
{
	cJSON *a = cJSON_CreateArray();

	cJSON_AddItemToArray(a, cJSON_CreateString(v));
	run_args_set(st->body, "Entrypoint", a);
	return 0;
}

static int
run_args_restart(struct run_args *st, const struct run_args_flag *f, const char *v,
    char **cause)
{
	const char *colon = strchr(v, ':');
	char *name;
	int64_t count = 0;
	cJSON *rp;

	if (colon == v)
		return error_set(cause, "invalid restart policy format: no policy provided "
		    "before colon");
	if (colon != NULL && colon[1] != '\0' &&
	    (run_args_parse_int(colon + 1, 10, &count) != 0 || count > INT32_MAX ||
	    count < INT32_MIN))
		return error_set(cause, "invalid restart policy format: maximum retry count "
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
static int
run_args_ns(struct run_args *st, const struct run_args_flag *f, const char *v,
    char **cause)
{
	int pid = strcmp(f->name, "pid") == 0;

	if (*v != '\0' && strcmp(v, "host") != 0 &&
	    !(pid && strncmp(v, "container:", 10) == 0 && v[10] != '\0'))
		return error_set(cause, "invalid %s mode", pid ? "PID" : "UTS");
	return run_args_string(st, f, v, cause);
}

static int
run_args_userns(struct run_args *st, const struct run_args_flag *f, const char *v,
    char **cause)
{
	if (*v != '\0' && strcmp(v, "host") != 0)
		return error_set(cause, "invalid USER mode");
	return run_args_string(st, f, v, cause);
}

static int
run_args_cgroupns(struct run_args *st, const struct run_args_flag *f, const char *v,
    char **cause)
{
	if (*v != '\0' && strcmp(v, "host") != 0 && strcmp(v, "private") != 0)
		return error_set(cause, "invalid CGROUP mode");
	return run_args_string(st, f, v, cause);
}

static int
run_args_rm(struct run_args *st, const struct run_args_flag *f, const char *v,
    char **cause)
{
	if (strcmp(v, "1") != 0)
		return 0;
	st->rm = 1;
	run_args_warn(st, "runArgs[%d]: --rm is ignored: a dev container must persist",
	    st->index);
	return 0;
}

static int
run_args_attach(struct run_args *st, const struct run_args_flag *f, const char *v,
    char **cause)
{
	if (strcasecmp(v, "stdin") != 0 && strcasecmp(v, "stdout") != 0 &&
	    strcasecmp(v, "stderr") != 0)
		return error_set(cause, "valid streams are STDIN, STDOUT and STDERR");
	return 0;
}

static int
run_args_ignore(struct run_args *st, const struct run_args_flag *f, const char *v,
    char **cause)
{
	return 0;
}

#define H 1 /* in HostConfig */
#define C 0 /* in Config (the top level of the body) */
#define V RUN_ARGS_VALUE
#define B RUN_ARGS_BOOL
static const struct run_args_flag run_args_flags[] = {
	{ "add-host", 0, V, run_args_add_host, H, "ExtraHosts", NULL },
	{ "attach", 'a', V, run_args_attach, C, NULL, NULL },
	{ "cap-add", 0, V, run_args_list, H, "CapAdd", NULL },
	{ "cap-drop", 0, V, run_args_list, H, "CapDrop", NULL },
	{ "cgroup-parent", 0, V, run_args_string, H, "CgroupParent", NULL },
	{ "cgroupns", 0, V, run_args_cgroupns, H, "CgroupnsMode", NULL },
	{ "cpu-period", 0, V, run_args_int, H, "CpuPeriod", NULL },
	{ "cpu-quota", 0, V, run_args_int, H, "CpuQuota", NULL },
	{ "cpu-shares", 'c', V, run_args_int, H, "CpuShares", NULL },
	{ "cpus", 0, V, run_args_cpus, H, "NanoCpus", NULL },
	{ "cpuset-cpus", 0, V, run_args_string, H, "CpusetCpus", NULL },
	{ "cpuset-mems", 0, V, run_args_string, H, "CpusetMems", NULL },
	{ "detach", 'd', B, run_args_ignore, C, NULL, NULL },
	{ "detach-keys", 0, V, run_args_ignore, C, NULL, NULL },
	{ "device", 0, V, run_args_device, H, "Devices", NULL },
	{ "device-cgroup-rule", 0, V, run_args_cgroup_rule, H, "DeviceCgroupRules", NULL },
	{ "dns", 0, V, run_args_dns, H, "Dns", NULL },
	{ "dns-opt", 0, V, run_args_list, H, "DnsOptions", NULL },
	{ "dns-option", 0, V, run_args_list, H, "DnsOptions", NULL },
	{ "dns-search", 0, V, run_args_dns_search, H, "DnsSearch", NULL },
	{ "domainname", 0, V, run_args_string, C, "Domainname", NULL },
	{ "entrypoint", 0, V, run_args_entrypoint, C, "Entrypoint", NULL },
	{ "env", 'e', V, run_args_env, C, "Env", NULL },
	{ "expose", 0, V, run_args_expose, C, "ExposedPorts", NULL },
	{ "group-add", 0, V, run_args_list, H, "GroupAdd", NULL },
	{ "hostname", 'h', V, run_args_string, C, "Hostname", NULL },
	{ "init", 0, B, run_args_bool_sticky, H, "Init", NULL },
	{ "interactive", 'i', B, run_args_bool, C, "OpenStdin", NULL },
	{ "ipc", 0, V, run_args_string, H, "IpcMode", NULL },
	{ "label", 'l', V, run_args_label, C, "Labels", NULL },
	{ "log-driver", 0, V, run_args_log_driver, H, "LogConfig", NULL },
	{ "log-opt", 0, V, run_args_log_opt, H, "LogConfig", NULL },
	{ "memory", 'm', V, run_args_bytes, H, "Memory", NULL },
	{ "memory-reservation", 0, V, run_args_bytes, H, "MemoryReservation", NULL },
	{ "memory-swap", 0, V, run_args_memory_swap, H, "MemorySwap", NULL },
	{ "memory-swappiness", 0, V, run_args_swappiness, H, "MemorySwappiness", NULL },
	{ "mount", 0, V, run_args_mount, H, "Mounts", NULL },
	{ "name", 0, V, run_args_name, C, NULL, NULL },
	{ "net", 0, V, run_args_network, H, "NetworkMode", NULL },
	{ "net-alias", 0, V, run_args_alias, C, NULL, NULL },
	{ "network", 0, V, run_args_network, H, "NetworkMode", NULL },
	{ "network-alias", 0, V, run_args_alias, C, NULL, NULL },
	{ "oom-kill-disable", 0, B, run_args_bool, H, "OomKillDisable", NULL },
	{ "oom-score-adj", 0, V, run_args_int, H, "OomScoreAdj", NULL },
	{ "pid", 0, V, run_args_ns, H, "PidMode", NULL },
	{ "pids-limit", 0, V, run_args_int, H, "PidsLimit", NULL },
	{ "privileged", 0, B, run_args_bool_sticky, H, "Privileged", NULL },
	{ "publish", 'p', V, run_args_publish, H, "PortBindings", NULL },
	{ "publish-all", 'P', B, run_args_bool, H, "PublishAllPorts", NULL },
	{ "quiet", 'q', B, run_args_ignore, C, NULL, NULL },
	{ "read-only", 0, B, run_args_bool, H, "ReadonlyRootfs", NULL },
	{ "restart", 0, V, run_args_restart, H, "RestartPolicy", NULL },
	{ "rm", 0, B, run_args_rm, C, NULL, NULL },
	{ "runtime", 0, V, run_args_string, H, "Runtime", NULL },
	{ "security-opt", 0, V, run_args_security_opt, H, "SecurityOpt", NULL },
	{ "shm-size", 0, V, run_args_bytes, H, "ShmSize", NULL },
	{ "sig-proxy", 0, B, run_args_ignore, C, NULL, NULL },
	{ "stop-signal", 0, V, run_args_string, C, "StopSignal", NULL },
	{ "stop-timeout", 0, V, run_args_int, C, "StopTimeout", NULL },
	{ "sysctl", 0, V, run_args_sysctl, H, "Sysctls", NULL },
	{ "tmpfs", 0, V, run_args_tmpfs, H, "Tmpfs", NULL },
	{ "tty", 't', B, run_args_bool, C, "Tty", NULL },
	{ "ulimit", 0, V, run_args_ulimit, H, "Ulimits", NULL },
	{ "user", 'u', V, run_args_string, C, "User", NULL },
	{ "userns", 0, V, run_args_userns, H, "UsernsMode", NULL },
	{ "uts", 0, V, run_args_ns, H, "UTSMode", NULL },
	{ "volume", 'v', V, run_args_volume, H, "Binds", NULL },
	{ "volumes-from", 0, V, run_args_list, H, "VolumesFrom", NULL },
	{ "workdir", 'w', V, run_args_string, C, "WorkingDir", NULL },

	{ "env-file", 0, V, NULL, C, NULL, "it would read a file on the Docker host; "
	    "use containerEnv" },
	{ "label-file", 0, V, NULL, C, NULL, "it would read a file on the Docker host" },
	{ "cidfile", 0, V, NULL, C, NULL, "it would write a file on the Docker host" },
	{ "platform", 0, V, NULL, C, NULL, "the image is pulled or built for the Docker "
	    "host's own platform" },
	{ "pull", 0, V, NULL, C, NULL, "rdev pulls the image itself" },
	{ NULL, 0, V, NULL, C, NULL, NULL }
};
#undef H
#undef C
#undef V
#undef B

/* "--add-host, --attach (-a), ..." for error messages. New string. */
static char *
run_args_supported(void)
{
	const struct run_args_flag *f;
	struct buf *b = buf_new();

	char *s;

	for (f = run_args_flags; f->name != NULL; f++) {
		if (f->fn == NULL)
			continue;
		buf_appendf(b, "%s--%s", f == run_args_flags ? "" : ", ", f->name);
		if (f->shorthand != 0)
			buf_appendf(b, " (-%c)", f->shorthand);
	}
	s = buf_take_string(b, NULL);
	buf_free(b);
	return s;
}

static int
run_args_unknown(struct run_args *st, const char *flag, const char *in, char **cause)
{
	char *list = run_args_supported();

	if (in != NULL)
		error_set(cause, "runArgs[%d]: \"%s\" (in \"%s\") is not supported by rdev "
		    "(supported: %s)", st->index, flag, in, list);
	else
		error_set(cause, "runArgs[%d]: \"%s\" is not supported by rdev (supported: "
		    "%s)", st->index, flag, list);
	free(list);
	return -1;
}

/* Run one option's handler; shown is the option as written ("--cap-add",
 * "-e"). For booleans, value is the raw text and is turned into "1"/"0". */
static int
run_args_call(struct run_args *st, const struct run_args_flag *f, const char *shown,
    const char *value, char **cause)
{
	int b;

	if (f->fn == NULL)
		return error_set(cause, "runArgs[%d]: \"%s\" is not supported by rdev: %s",
		    st->index, shown, f->why);
	if (f->kind == RUN_ARGS_BOOL) {
		if (run_args_parse_bool(value, &b) != 0)
			return error_set(cause, "runArgs[%d]: %s: invalid boolean \"%s\"",
			    st->index, shown, value);
		value = b ? "1" : "0";
	}
	if (f->fn(st, f, value, cause) != 0)
		return error_prefix(cause, "runArgs[%d]: %s", st->index, shown);
	return 0;
}

/* "--name", "--name=value" or "--name value" (pflag's parseLongArg). */
static int
run_args_long(struct run_args *st, const char **argv, int argc, int *i, char **cause)
{
	const char *arg = argv[*i], *name = arg + 2, *eq = strchr(name, '='), *value;
	const struct run_args_flag *f;
	size_t len = eq != NULL ? (size_t)(eq - name) : strlen(name);
	char *shown;
	int rc;

	if (*name == '-' || *name == '=')
		return error_set(cause, "runArgs[%d]: bad flag syntax: %s", st->index, arg);
	shown = xasprintf("--%.*s", (int)len, name);
	for (f = run_args_flags; f->name != NULL; f++)
		if (strlen(f->name) == len && strncmp(f->name, name, len) == 0)
			break;
	if (f->name == NULL) {
		rc = run_args_unknown(st, shown, NULL, cause);
		free(shown);
		return rc;
	}
	if (eq != NULL)
		value = eq + 1;
	else if (f->kind == RUN_ARGS_BOOL || f->fn == NULL)
		value = "true";
	else if (*i + 1 < argc)
		value = argv[++*i];
	else {
		error_set(cause, "runArgs[%d]: \"%s\" needs a value", st->index, shown);
		free(shown);
		return -1;
	}
	rc = run_args_call(st, f, shown, value, cause);
	free(shown);
	return rc;
}

/* "-e V", "-eV", "-e=V", "-it" (pflag's parseShortArg). */
static int
run_args_short(struct run_args *st, const char **argv, int argc, int *i, char **cause)
{
	const char *arg = argv[*i], *s = arg + 1, *value;
	const struct run_args_flag *f;
	char shown[3] = { '-', 0, 0 };
	int rc;

	while (*s != '\0') {
		shown[1] = *s;
		for (f = run_args_flags; f->name != NULL; f++)
			if (f->shorthand == *s)
				break;
		if (f->name == NULL)
			return run_args_unknown(st, shown, strlen(arg) > 2 ? arg : NULL, cause);
		if (strlen(s) > 2 && s[1] == '=') {
			value = s + 2;
			s = "";
		} else if (f->kind == RUN_ARGS_BOOL) {
			value = "true";
			s++;
		} else if (s[1] != '\0') {
			value = s + 1;
			s = "";
		} else if (*i + 1 < argc) {
			value = argv[++*i];
			s = "";
		} else
			return error_set(cause, "runArgs[%d]: \"%s\" needs a value", st->index,
			    shown);
		if ((rc = run_args_call(st, f, shown, value, cause)) != 0)
			return rc;
	}
	return 0;
}

static int
run_args_strcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* What the docker client library does to CapAdd and CapDrop before it sends
 * them: upper-case, "CAP_" prefix (but "ALL"), duplicates dropped, sorted. */
static void
run_args_caps(cJSON *hc, const char *key)
{
	cJSON *list = cJSON_GetObjectItemCaseSensitive(hc, key), *out;
	const cJSON *e;
	char **caps, *c, *p;
	size_t n = 0, i;

	if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) == 0)
		return;
	caps = xreallocarray(NULL, (size_t)cJSON_GetArraySize(list), sizeof *caps);
	cJSON_ArrayForEach(e, list) {
		if (!cJSON_IsString(e))
			continue;
		c = xstrdup(e->valuestring);
		for (p = c; *p != '\0'; p++)
			*p = (char)toupper((unsigned char)*p);
		if (strcmp(c, "ALL") != 0 && strncmp(c, "CAP_", 4) != 0) {
			p = xasprintf("CAP_%s", c);
			free(c);
			c = p;
		}
		caps[n++] = c;
	}
	qsort(caps, n, sizeof *caps, run_args_strcmp);
	out = cJSON_CreateArray();
	for (i = 0; i < n; i++) {
		if (i == 0 || strcmp(caps[i], caps[i - 1]) != 0)
			cJSON_AddItemToArray(out, cJSON_CreateString(caps[i]));
	}
	for (i = 0; i < n; i++)
		free(caps[i]);
	free(caps);
	run_args_set(hc, key, out);
}

/* Checks and fields that need all options seen: network aliases go to the
 * endpoint of the (user-defined) network, log options need a driver. */
static int
run_args_finish(struct run_args *st, char **cause)
{
	const char *net = st->network != NULL ? st->network : "default";
	cJSON *hc, *ep, *lc;
	const cJSON *t, *a;

	if (st->rm && st->restart)
		return error_set(cause, "runArgs: conflicting options: cannot specify both "
		    "--restart and --rm");
	if (st->log_opts) {
		lc = cJSON_GetObjectItemCaseSensitive(run_args_host(st), "LogConfig");
		t = cJSON_GetObjectItemCaseSensitive(lc, "Type");
		if (cJSON_IsString(t) && strcmp(t->valuestring, "none") == 0)
			return error_set(cause, "runArgs: invalid logging opts for driver none");
	}
	hc = cJSON_GetObjectItemCaseSensitive(st->body, "HostConfig");
	if (cJSON_IsObject(hc)) {
		run_args_caps(hc, "CapAdd");
		run_args_caps(hc, "CapDrop");
	}
	if (st->aliases == NULL)
		return 0;
	if (strcmp(net, "default") == 0 || strcmp(net, "bridge") == 0 ||
	    strcmp(net, "host") == 0 || strcmp(net, "none") == 0 ||
	    strncmp(net, "container:", 10) == 0)
		return error_set(cause, "runArgs: network-scoped aliases are only supported "
		    "for user-defined networks");
	hc = run_args_child(st->body, "NetworkingConfig", cJSON_Object);
	hc = run_args_child(hc, "EndpointsConfig", cJSON_Object);
	ep = run_args_child(hc, net, cJSON_Object);
	cJSON_ArrayForEach(a, st->aliases)
		run_args_append(ep, "Aliases", a->valuestring);
	return 0;
}

int
run_args_apply(const cJSON *run_args, cJSON *create_body, char **name, char ***warnings,
    char **cause)
{
	struct run_args st;
	const char **argv = NULL;
	const cJSON *e;
	int argc = 0, i, rc = -1;

	if (name != NULL)
		*name = NULL;
	if (warnings != NULL)
		*warnings = NULL;
	if (run_args != NULL && !cJSON_IsNull(run_args) && !cJSON_IsArray(run_args))
		return error_set(cause, "runArgs: not an array");
	if (!cJSON_IsObject(create_body))
		return error_set(cause, "runArgs: the create body is not an object");
	memset(&st, 0, sizeof st);
	st.body = create_body;

	argv = xreallocarray(NULL, (size_t)cJSON_GetArraySize(run_args) + 1, sizeof *argv);
	cJSON_ArrayForEach(e, run_args) {
		if (!cJSON_IsString(e)) {
			error_set(cause, "runArgs[%d]: not a string", argc);
			goto out;
		}
		argv[argc++] = e->valuestring;
	}
	for (i = 0; i < argc; i++) {
		st.index = i;
		rc = -1;
		if (argv[i][0] != '-' || argv[i][1] == '\0') {
			error_set(cause, "runArgs[%d]: unexpected argument \"%s\" (runArgs holds "
			    "docker run options only)", i, argv[i]);
			goto out;
		}
		if (strcmp(argv[i], "--") == 0) {
			error_set(cause, "runArgs[%d]: \"--\" is not supported by rdev", i);
			goto out;
		}
		if (argv[i][1] == '-')
			rc = run_args_long(&st, argv, argc, &i, cause);
		else
			rc = run_args_short(&st, argv, argc, &i, cause);
		if (rc != 0)
			goto out;
	}
	rc = run_args_finish(&st, cause);
out:
	free(argv);
	cJSON_Delete(st.aliases);
	free(st.network);
	run_args_ports_free(st.ports);
	if (rc != 0) {
		free(st.name);
		run_args_warnings_free(st.warnings);
		return -1;
	}
	if (name != NULL)
		*name = st.name;
	else
		free(st.name);
	if (warnings != NULL)
		*warnings = st.warnings;
	else
		run_args_warnings_free(st.warnings);
	return 0;
}

void
run_args_warnings_free(char **warnings)
{
	size_t i;

	if (warnings == NULL)
		return;
	for (i = 0; warnings[i] != NULL; i++)
		free(warnings[i]);
	free(warnings);
}
