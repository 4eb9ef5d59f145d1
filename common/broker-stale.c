/* broker-stale.c - is the running broker an older build (broker-stale.h). */
#include "broker-stale.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic-file.h"
#include "xmalloc.h"

/* What the kernel appends to /proc/PID/exe's target once the file is
 * unlinked (or replaced by a rename over it). */
#define BROKER_STALE_DELETED " (deleted)"

/* The length of link without a trailing " (deleted)"; *deleted says if it
 * had one. */
static size_t
broker_stale_path_len(const char *link, int *deleted)
{
	size_t n = strlen(link), d = strlen(BROKER_STALE_DELETED);

	*deleted = n > d && strcmp(link + n - d, BROKER_STALE_DELETED) == 0;
	return *deleted ? n - d : n;
}

enum broker_stale
broker_stale_judge(const char *exe_link, const struct stat *running, const char *ours,
    const struct stat *ours_st)
{
	int deleted;
	size_t n = broker_stale_path_len(exe_link, &deleted);

	if (ours[0] != '/' || strlen(ours) != n || strncmp(exe_link, ours, n) != 0)
		return BROKER_STALE_OTHER;
	if (deleted)
		return BROKER_STALE_OLDER;
	if (running != NULL && ours_st != NULL &&
	    (running->st_dev != ours_st->st_dev || running->st_ino != ours_st->st_ino))
		return BROKER_STALE_OLDER;
	return BROKER_STALE_CURRENT;
}

int
broker_stale_pid_parse(const char *text, pid_t *pid, int *systemd)
{
	char *end;
	long v;

	if (!isdigit((unsigned char)text[0]))
		return -1;
	errno = 0;
	v = strtol(text, &end, 10);
	if (errno != 0 || v <= 0 || v > INT_MAX)
		return -1;
	*systemd = 0;
	if (*end == ' ') {
		end++;
		if (strncmp(end, BROKER_PID_SYSTEMD, strlen(BROKER_PID_SYSTEMD)) != 0)
			return -1;
		end += strlen(BROKER_PID_SYSTEMD);
		*systemd = 1;
	}
	if (strcmp(end, "\n") != 0 && *end != '\0')
		return -1;
	*pid = (pid_t)v;
	return 0;
}

/* The pid file is a line; more is not ours. */
#define BROKER_STALE_PID_MAX 64

int
broker_stale_pid_read(const char *path, pid_t *pid, int *systemd)
{
	char *text = NULL, *cause = NULL;
	size_t len;
	int rc = -1;

	if (file_read_all(path, BROKER_STALE_PID_MAX, &text, &len, &cause) == 0 &&
	    strlen(text) == len && broker_stale_pid_parse(text, pid, systemd) == 0 &&
	    (kill(*pid, 0) == 0 || errno == EPERM))
		rc = 0;
	free(cause);
	free(text);
	return rc;
}

enum broker_stale
broker_stale_check(pid_t pid, const char *ours, char **exe)
{
	char proc[64], link[PATH_MAX];
	struct stat rs, os;
	enum broker_stale v;
	ssize_t n;
	int deleted;

	if (exe != NULL)
		*exe = NULL;
	snprintf(proc, sizeof proc, "/proc/%ld/exe", (long)pid);
	if (pid <= 0 || (n = readlink(proc, link, sizeof link - 1)) <= 0)
		return BROKER_STALE_CURRENT;
	link[n] = '\0';
	v = broker_stale_judge(link, stat(proc, &rs) == 0 ? &rs : NULL, ours,
	    stat(ours, &os) == 0 ? &os : NULL);
	if (exe != NULL)
		*exe = xstrndup(link, broker_stale_path_len(link, &deleted));
	return v;
}
