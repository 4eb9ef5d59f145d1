/* sync-back-sweep.c - a killed two-way sync's temporary files removed
 * (sync-back-sweep.h). */
#include "sync-back-sweep.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sync-ignore.h"
#include "sync-scan.h"
#include "xmalloc.h"

/* Deeper folders are not entered (a descriptor per level). */
#define SYNC_BACK_SWEEP_DEPTH 128

/* The count of decimal digits at s. */
static size_t
sync_back_sweep_digits(const char *s)
{
	return strspn(s, "0123456789");
}

int
sync_back_sweep_name(const char *leaf, long *pid)
{
	const char *p = leaf + strlen(SYNC_BACK_TMP), *rest;
	size_t n;

	if (strncmp(leaf, SYNC_BACK_TMP, strlen(SYNC_BACK_TMP)) != 0 || *p < '1' ||
	    *p > '9' || (n = sync_back_sweep_digits(p)) > 10 || p[n] != '-')
		return 0;
	errno = 0;
	*pid = strtol(p, NULL, 10);
	if (errno != 0 || *pid > INT_MAX) /* (a pid_t: never negative) */
		return 0;
	/* (the two forms rdev makes: "-SEQ" decimal, "-p" and 8 hex digits) */
	rest = p + n + 1;
	if (*rest == 'p')
		return strlen(rest + 1) == 8 && strspn(rest + 1, "0123456789abcdef") == 8;
	n = sync_back_sweep_digits(rest);
	return n > 0 && n <= 10 && rest[n] == '\0';
}

/* Is process pid gone (no such process: not one that runs, nor one of
 * another user's)? */
static int
sync_back_sweep_gone(long pid)
{
	return pid != (long)getpid() && kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

/* Sweep folder dfd (taken: closed), rel its path under the root ("" for
 * the root). */
static long long
sync_back_sweep_dir(int dfd, const char *rel, const struct sync_ignore *ig, int depth)
{
	DIR *d = fdopendir(dfd);
	struct dirent *de;
	struct stat sb;
	long long n = 0;
	long pid;
	int sub;

	if (d == NULL) {
		close(dfd);
		return 0;
	}
	while ((de = readdir(d)) != NULL) {
		const char *leaf = de->d_name;
		char *path;

		/* (a stat only for a folder or a temporary name) */
		if (strcmp(leaf, ".") == 0 || strcmp(leaf, "..") == 0 ||
		    (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN &&
			!sync_back_sweep_name(leaf, &pid)) ||
		    fstatat(dirfd(d), leaf, &sb, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if (S_ISREG(sb.st_mode)) {
			if (sync_back_sweep_name(leaf, &pid) &&
			    sync_back_sweep_gone(pid) && unlinkat(dirfd(d), leaf, 0) == 0)
				n++;
			continue;
		}
		if (!S_ISDIR(sb.st_mode) || depth >= SYNC_BACK_SWEEP_DEPTH)
			continue;
		path = *rel == '\0' ? xstrdup(leaf) : xasprintf("%s/%s", rel, leaf);
		if ((ig == NULL || !sync_ignore_match(ig, path, 1)) &&
		    (sub = openat(dirfd(d), leaf,
			 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) >= 0)
			n += sync_back_sweep_dir(sub, path, ig, depth + 1);
		free(path);
	}
	closedir(d);
	return n;
}

long long
sync_back_sweep(const char *root, const struct sync_ignore *ig)
{
	int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	return fd < 0 ? 0 : sync_back_sweep_dir(fd, "", ig, 0);
}
