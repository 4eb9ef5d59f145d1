/* run-args-devices.c - the runArgs options that give the container host
 * devices: --device and --device-cgroup-rule (run-args-internal.h). */
#include "run-args-internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
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
