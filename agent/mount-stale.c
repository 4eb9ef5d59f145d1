/* mount-stale.c - a container's bind mount of a deleted folder
 * (mount-stale.h). */
#include "mount-stale.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic-file.h"
#include "path.h"
#include "xmalloc.h"

/* The kernel's deleted-dentry suffix of a mount root in mountinfo. */
#define MOUNT_STALE_DELETED "//deleted"

/* s as mountinfo writes a path: space, tab, newline and backslash as \ooo.
 * New string. */
static char *
mount_stale_escape(const char *s)
{
	char *out = xmalloc(strlen(s) * 4 + 1), *o = out;

	for (; *s != '\0'; s++) {
		if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\\')
			o += sprintf(o, "\\%03o", (unsigned char)*s);
		else
			*o++ = *s;
	}
	*o = '\0';
	return out;
}

int
mount_stale_in_mountinfo(const char *text, const char *target)
{
	char *want = mount_stale_escape(target);
	const char *line = text, *end, *f[5];
	size_t rlen, dlen = strlen(MOUNT_STALE_DELETED), wlen = strlen(want);
	int deleted = 0, n;

	while (*line != '\0') {
		if ((end = strchr(line, '\n')) == NULL)
			end = line + strlen(line);
		/* "ID PARENT MAJ:MIN ROOT MOUNTPOINT ...": fields 4 and 5 */
		f[0] = line;
		for (n = 1; n < 5; n++) {
			f[n] = memchr(f[n - 1], ' ', (size_t)(end - f[n - 1]));
			if (f[n] == NULL)
				break;
			f[n]++;
		}
		if (n == 5) {
			const char *after = memchr(f[4], ' ', (size_t)(end - f[4]));
			size_t mlen = (size_t)((after != NULL ? after : end) - f[4]);

			rlen = (size_t)(f[4] - 1 - f[3]);
			if (mlen == wlen && memcmp(f[4], want, wlen) == 0)
				deleted = rlen >= dlen &&
				    memcmp(f[3] + rlen - dlen, MOUNT_STALE_DELETED,
					dlen) == 0;
		}
		line = *end == '\n' ? end + 1 : end;
	}
	free(want);
	return deleted;
}

int
mount_bind_holding(
    const cJSON *m, const char *folder, const char **source, const char **dest)
{
	const char *type =
	    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "Type"));

	*source = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "Source"));
	*dest = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "Destination"));
	return type != NULL && strcmp(type, "bind") == 0 && *source != NULL &&
	    *dest != NULL && path_within(folder, *source);
}

int
mount_bind_of(const cJSON *m, const char *folder, const char **source, const char **dest)
{
	return mount_bind_holding(m, folder, source, dest) &&
	    path_within(*source, folder);
}

const char *
mount_stale_workspace(const cJSON *container, const char *folder)
{
	const cJSON *pid = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(container, "State"), "Pid");
	const cJSON *m;
	const char *source, *dest, *stale = NULL;
	char *path, *text = NULL, *cause = NULL;
	size_t len;

	if (!cJSON_IsNumber(pid) || pid->valuedouble <= 0)
		return NULL;
	path = xasprintf("/proc/%ld/mountinfo", (long)pid->valuedouble);
	/* (not there or not readable: Docker on another kernel, or the
	 * container just ended: cannot tell) */
	if (file_read_all(path, 16u << 20, &text, &len, &cause) != 0) {
		free(cause);
		free(path);
		return NULL;
	}
	free(path);
	cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(container, "Mounts")) {
		if (!mount_bind_holding(m, folder, &source, &dest))
			continue;
		if (mount_stale_in_mountinfo(text, dest)) {
			stale = source;
			break;
		}
	}
	free(text);
	return stale;
}
