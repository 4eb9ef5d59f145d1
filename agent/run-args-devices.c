/* run-args-devices.c - the runArgs options that give the container host
 * devices or limit their use: --device, --device-cgroup-rule, --gpus,
 * --blkio-weight, --blkio-weight-device and --device-{read,write}-{bps,iops}
 * (run-args-internal.h). */
#include "run-args-internal.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "mount-spec.h"
#include "xmalloc.h"

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
int
run_args_device(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause)
{
	const char *c1, *c2, *eq, *slash;
	char *val, *src, *dst = NULL, *perms, *cpath, *clean, *c;
	cJSON *d;
	int colons = 0;

	eq = strchr(v, '=');
	slash = strchr(v, '/');
	if (eq != NULL && slash != NULL && slash < eq && v[0] != '/')
		return error_set(
		    cause, "CDI device names are not supported by rdev: %s", v);
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
	cJSON_AddItemToArray(
	    run_args_child(run_args_host(st), "Devices", cJSON_Array), d);
	free(src);
	free(dst);
	free(perms);
	free(val);
	return 0;
}

/* --device-cgroup-rule: ^[acb] ([0-9]+|\*):([0-9]+|\*) [rwm]{1,3}$ */
int
run_args_cgroup_rule(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause)
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

/* Go's csv.ParseError text. */
static void
run_args_csv_error(char **cause, int start, int line, size_t col, const char *what)
{
	if (start != line)
		error_set(cause,
		    "record on line %d; parse error on line %d, column %zu: %s", start,
		    line, col, what);
	else
		error_set(
		    cause, "parse error on line %d, column %zu: %s", line, col, what);
}

/* A line break (Go's csv reader takes "\r\n" as one) starts at q. */
static int
run_args_csv_eol(const char *q)
{
	return q[0] == '\n' || (q[0] == '\r' && q[1] == '\n');
}

/* The first record of s as Go's encoding/csv reads it (a comma between
 * fields, a field in double quotes may hold commas, line breaks and "" for a
 * quote, a line break ends the record, empty lines before it are skipped): a
 * new array of strings, or NULL with *cause in the reader's words. */
static cJSON *
run_args_csv_read(const char *s, char **cause)
{
	cJSON *fields;
	struct buf *b;
	const char *p = s, *bol;
	char *field;
	int line = 1, start;

	while (run_args_csv_eol(p)) {
		p += *p == '\r' ? 2 : 1;
		line++;
	}
	if (*p == '\0') {
		error_set(cause, "EOF");
		return NULL;
	}
	bol = p;
	start = line;
	fields = cJSON_CreateArray();
	for (;;) {
		b = buf_new();
		if (*p == '"') {
			for (p++;; p++) {
				if (*p == '\0') {
					run_args_csv_error(cause, start, line,
					    (size_t)(p - bol) + 1,
					    "extraneous or missing \" in quoted-field");
					goto fail;
				}
				if (*p == '"' && p[1] == '"')
					buf_append(b, p++, 1);
				else if (*p == '"')
					break;
				else {
					buf_append(b, p, 1);
					if (*p == '\n') {
						line++;
						bol = p + 1;
					}
				}
			}
			p++;
			if (*p != ',' && *p != '\0' && !run_args_csv_eol(p)) {
				run_args_csv_error(cause, start, line, (size_t)(p - bol),
				    "extraneous or missing \" in quoted-field");
				goto fail;
			}
		} else {
			for (; *p != ',' && *p != '\0' && !run_args_csv_eol(p); p++) {
				if (*p == '"') {
					run_args_csv_error(cause, start, line,
					    (size_t)(p - bol) + 1,
					    "bare \" in non-quoted-field");
					goto fail;
				}
				buf_append(b, p, 1);
			}
		}
		field = buf_take_string(b, NULL);
		buf_free(b);
		cJSON_AddItemToArray(fields, cJSON_CreateString(field));
		free(field);
		if (*p != ',')
			return fields;
		p++;
	}
fail:
	buf_free(b);
	cJSON_Delete(fields);
	return NULL;
}

/* run_args_csv_read on s as Go's reader sees its lines: "\r\n" read as
 * "\n" (in a quoted field too), a "\r" ending the input dropped. */
static cJSON *
run_args_csv(const char *s, char **cause)
{
	char *norm = xmalloc(strlen(s) + 1), *q = norm;
	cJSON *fields;

	for (; *s != '\0'; s++)
		if (!(s[0] == '\r' && (s[1] == '\n' || s[1] == '\0')))
			*q++ = *s;
	*q = '\0';
	fields = run_args_csv_read(norm, cause);
	free(norm);
	return fields;
}

/* s is a sign and digits: a number Go's strconv.Atoi refuses only as out
 * of range. */
static int
run_args_digits(const char *s)
{
	if (*s == '+' || *s == '-')
		s++;
	return *s != '\0' && s[strspn(s, "0123456789")] == '\0';
}

/* A GPU count: "all" is -1 (docker's parseCount). */
static int
run_args_gpu_count(const char *v, cJSON *req, char **cause)
{
	int64_t n;

	if (strcmp(v, "all") == 0)
		n = -1;
	else if (run_args_parse_int(v, 10, &n) != 0)
		return error_set(cause,
		    "invalid count (%s): value must be either \"all\" or an "
		    "integer: %s",
		    v, run_args_digits(v) ? "value out of range" : "invalid syntax");
	cJSON_ReplaceItemInObjectCaseSensitive(req, "Count", run_args_number(n));
	return 0;
}

/* "a,b" as a new array of strings (Go's strings.Split). */
static cJSON *
run_args_split(const char *v)
{
	cJSON *a = cJSON_CreateArray();
	const char *c;
	char *part;

	while ((c = strchr(v, ',')) != NULL) {
		part = xstrndup(v, (size_t)(c - v));
		cJSON_AddItemToArray(a, cJSON_CreateString(part));
		free(part);
		v = c + 1;
	}
	cJSON_AddItemToArray(a, cJSON_CreateString(v));
	return a;
}

/* --gpus: one HostConfig.DeviceRequests entry per option, as docker's
 * GpuOpts builds it: "all" or a count alone, or CSV key=value fields
 * (driver, count, device, capabilities, options); a field in quotes may hold
 * commas ('"device=0,1"'). Count 1 unless given or devices are named;
 * "gpu" is added to the capabilities. */
int
run_args_gpus(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause)
{
	cJSON *fields, *req, *seen, *caps, *opts, *optf;
	const cJSON *e, *o;
	const char *field, *eq, *val;
	char *key = NULL;
	int rc = -1;

	if ((fields = run_args_csv(v, cause)) == NULL)
		return -1;
	seen = cJSON_CreateObject();
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "Driver", "");
	cJSON_AddNumberToObject(req, "Count", 0);
	cJSON_AddNullToObject(req, "DeviceIDs");
	cJSON_AddNullToObject(req, "Capabilities");
	cJSON_AddNullToObject(req, "Options");
	cJSON_ArrayForEach(e, fields) {
		field = e->valuestring;
		eq = strchr(field, '=');
		free(key);
		key = eq != NULL ? xstrndup(field, (size_t)(eq - field)) : xstrdup(field);
		val = eq != NULL ? eq + 1 : NULL;
		if (cJSON_GetObjectItemCaseSensitive(seen, key) != NULL) {
			error_set(cause,
			    "gpu request key '%s' can be specified only once", key);
			goto out;
		}
		cJSON_AddTrueToObject(seen, key);
		if (val == NULL) {
			if (cJSON_GetObjectItemCaseSensitive(seen, "count") == NULL)
				cJSON_AddTrueToObject(seen, "count");
			if (run_args_gpu_count(key, req, cause) != 0)
				goto out;
		} else if (strcmp(key, "driver") == 0)
			cJSON_ReplaceItemInObjectCaseSensitive(
			    req, "Driver", cJSON_CreateString(val));
		else if (strcmp(key, "count") == 0) {
			if (run_args_gpu_count(val, req, cause) != 0)
				goto out;
		} else if (strcmp(key, "device") == 0)
			cJSON_ReplaceItemInObjectCaseSensitive(
			    req, "DeviceIDs", run_args_split(val));
		else if (strcmp(key, "capabilities") == 0) {
			caps = run_args_split(val);
			cJSON_AddItemToArray(caps, cJSON_CreateString("gpu"));
			optf = cJSON_CreateArray();
			cJSON_AddItemToArray(optf, caps);
			cJSON_ReplaceItemInObjectCaseSensitive(req, "Capabilities", optf);
		} else if (strcmp(key, "options") == 0) {
			if ((optf = run_args_csv(val, cause)) == NULL) {
				error_prefix(cause, "failed to read gpu options");
				goto out;
			}
			opts = cJSON_CreateObject();
			cJSON_ArrayForEach(o, optf) {
				const char *oeq = strchr(o->valuestring, '=');
				char *k = oeq != NULL
				    ? xstrndup(
					  o->valuestring, (size_t)(oeq - o->valuestring))
				    : xstrdup(o->valuestring);

				run_args_set(opts, k,
				    cJSON_CreateString(oeq != NULL ? oeq + 1 : ""));
				free(k);
			}
			cJSON_Delete(optf);
			cJSON_ReplaceItemInObjectCaseSensitive(req, "Options", opts);
		} else {
			error_set(cause, "unexpected key '%s' in '%s'", key, field);
			goto out;
		}
	}
	if (cJSON_GetObjectItemCaseSensitive(seen, "count") == NULL &&
	    cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(req, "DeviceIDs")))
		cJSON_ReplaceItemInObjectCaseSensitive(
		    req, "Count", cJSON_CreateNumber(1));
	if (cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(req, "Options")))
		cJSON_ReplaceItemInObjectCaseSensitive(
		    req, "Options", cJSON_CreateObject());
	if (cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(req, "Capabilities"))) {
		caps = cJSON_CreateArray();
		cJSON_AddItemToArray(caps, cJSON_CreateArray());
		cJSON_AddItemToArray(
		    cJSON_GetArrayItem(caps, 0), cJSON_CreateString("gpu"));
		cJSON_ReplaceItemInObjectCaseSensitive(req, "Capabilities", caps);
	}
	cJSON_AddItemToArray(
	    run_args_child(run_args_host(st), f->field, cJSON_Array), req);
	req = NULL;
	rc = 0;
out:
	free(key);
	cJSON_Delete(req);
	cJSON_Delete(seen);
	cJSON_Delete(fields);
	return rc;
}

/* --blkio-weight: pflag's Uint16 (Go's base prefixes); the daemon checks
 * the range (10 to 1000, or 0). */
int
run_args_blkio_weight(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause)
{
	int64_t n;

	if (*v == '-' || *v == '+' || run_args_parse_int(v, 0, &n) != 0 || n > 65535)
		return error_set(cause, "invalid number \"%s\" (0 to 65535)", v);
	run_args_set(run_args_host(st), f->field, cJSON_CreateNumber((double)n));
	return 0;
}

/* "/dev/x:value": the path (a new string, in *path) and where the value
 * starts; the checks of docker's ValidateWeightDevice and
 * ValidateThrottle*Device on the path. */
static const char *
run_args_blkio_path(const char *v, char **path, char **cause)
{
	const char *c = strchr(v, ':');

	if (c == NULL || c == v) {
		error_set(cause, "bad format: %s", v);
		return NULL;
	}
	if (strncmp(v, "/dev/", 5) != 0) {
		error_set(cause, "bad format for device path: %s", v);
		return NULL;
	}
	*path = xstrndup(v, (size_t)(c - v));
	return c + 1;
}

/* --blkio-weight-device /dev/x:weight (10 to 1000, or 0). */
int
run_args_weight_device(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause)
{
	const char *w;
	char *path = NULL;
	int64_t n;
	cJSON *d;

	if ((w = run_args_blkio_path(v, &path, cause)) == NULL)
		return -1;
	if (*w == '-' || *w == '+' || run_args_parse_int(w, 10, &n) != 0 || n > 65535 ||
	    (n > 0 && (n < 10 || n > 1000))) {
		free(path);
		return error_set(cause, "invalid weight for device: %s", v);
	}
	d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "Path", path);
	cJSON_AddNumberToObject(d, "Weight", (double)n);
	cJSON_AddItemToArray(run_args_child(run_args_host(st), f->field, cJSON_Array), d);
	free(path);
	return 0;
}

/* --device-read-bps, --device-write-bps (/dev/x:size, kb/mb/gb...) and
 * --device-read-iops, --device-write-iops (/dev/x:count). */
int
run_args_throttle_device(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause)
{
	int bps = strstr(f->name, "bps") != NULL;
	const char *r;
	char *path = NULL, *ignored = NULL;
	int64_t n;
	int bad;
	cJSON *d;

	if ((r = run_args_blkio_path(v, &path, cause)) == NULL)
		return -1;
	if (bps) {
		bad = mount_spec_parse_bytes(r, &n, &ignored) != 0 || n < 0;
		free(ignored);
	} else
		bad = *r == '-' || *r == '+' || run_args_parse_int(r, 10, &n) != 0;
	if (bad) {
		free(path);
		return error_set(cause,
		    "invalid rate for device: %s. The correct format is "
		    "<device-path>:<number>%s. Number must be a positive integer%s",
		    v, bps ? "[<unit>]" : "",
		    bps ? ". Unit is optional and can be kb, mb, or gb" : "");
	}
	d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "Path", path);
	cJSON_AddItemToObject(d, "Rate", run_args_number(n));
	cJSON_AddItemToArray(run_args_child(run_args_host(st), f->field, cJSON_Array), d);
	free(path);
	return 0;
}
