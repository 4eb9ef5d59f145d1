/* run-args-volumes.c - the runArgs options that mount volumes: -v/--volume
 * (HostConfig.Binds or Config.Volumes) and --mount (HostConfig.Mounts, parsed
 * by mount-spec.c) (run-args-internal.h). */
#include "run-args-internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "mount-spec.h"
#include "xmalloc.h"

/* -v: docker's volumespec.Parse decides between a bind or named volume (it
 * goes to HostConfig.Binds as written) and an anonymous volume
 * (Config.Volumes). */
int
run_args_volume(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause)
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
			buf[blen++] = ch; /* a Windows drive letter */
			continue;
		}
		if (ch != ':' && ch != '\0') {
			buf[blen++] = ch;
			continue;
		}
		buf[blen] = '\0';
		if (blen == 0) {
			error_set(
			    cause, "invalid spec: %s: empty section between colons", v);
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
			error_set(cause,
			    "relative source \"%s\" is not supported by rdev (use "
			    "an absolute path, e.g. ${localWorkspaceFolder}/...)",
			    source);
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

int
run_args_mount(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause)
{
	cJSON *m = mount_spec_parse(v, cause);

	if (m == NULL)
		return -1;
	cJSON_AddItemToArray(run_args_child(run_args_host(st), "Mounts", cJSON_Array), m);
	return 0;
}
