/* sync-prune.c - the sync state of workspaces that are gone (sync-prune.h). */
#include "sync-prune.h"

#include <sys/file.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "source.h"
#include "xmalloc.h"

/* The lock of workspace name's syncs (serve-sync.c's key, agent-state.h's
 * file), taken without waiting: its fd, or -1 (held: a sync runs, or the
 * file cannot be opened). */
static int
sync_prune_try_lock(const char *state_dir, const char *name)
{
	char *path = xasprintf("%s/locks/sync-%s.lock", state_dir, name);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	free(path);
	if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) != 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* The lock file of workspace name's syncs goes too (held: a sync that
 * opened it before this unlink waits for our close, then finds no folder
 * and no index: a first sync, as it would have been). */
static void
sync_prune_unlock_file(const char *state_dir, const char *name)
{
	char *path = xasprintf("%s/locks/sync-%s.lock", state_dir, name);

	unlink(path);
	free(path);
}

/* Is file (a name in sync_dir) one of workspace name's: NAME.json, or
 * NAME.json. and more (its journal, aside..., an atomic write's temporary
 * file)? */
static int
sync_prune_is_of(const char *file, const char *name)
{
	size_t n = strlen(name);

	return strncmp(file, name, n) == 0 && strncmp(file + n, ".json", 5) == 0 &&
	    (file[n + 5] == '\0' || file[n + 5] == '.');
}

/* Remove workspace name's files from sync_dir (dfd). */
static void
sync_prune_remove(int dfd, const char *sync_dir, const char *name)
{
	struct dirent *de;
	DIR *d;
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL)
		if (sync_prune_is_of(de->d_name, name) &&
		    unlinkat(dfd, de->d_name, 0) != 0 && errno != ENOENT)
			log_warn(
			    "sync: %s/%s: %s", sync_dir, de->d_name, strerror(errno));
	closedir(d);
}

int
sync_prune(
    const char *state_dir, const char *sync_dir, const char *root, const char *keep)
{
	struct dirent *de;
	struct stat sb;
	char *name, *folder;
	size_t len;
	int dfd, lock, n = 0;
	DIR *d;

	if (stat(root, &sb) != 0 || !S_ISDIR(sb.st_mode))
		return 0;
	if ((d = opendir(sync_dir)) == NULL)
		return 0;
	dfd = dirfd(d);
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len <= 5 || strcmp(de->d_name + len - 5, ".json") != 0)
			continue; /* (the index itself names its workspace) */
		name = xstrndup(de->d_name, len - 5);
		if (!source_name_ok(name) || (keep != NULL && strcmp(name, keep) == 0)) {
			free(name);
			continue;
		}
		folder = xasprintf("%s/%s", root, name);
		if (lstat(folder, &sb) != 0 && errno == ENOENT &&
		    (lock = sync_prune_try_lock(state_dir, name)) >= 0) {
			/* (asked again under the lock: a sync may have made it) */
			if (lstat(folder, &sb) != 0 && errno == ENOENT) {
				sync_prune_remove(dfd, sync_dir, name);
				log_info(
				    "sync: %s is gone: its sync state removed", folder);
				sync_prune_unlock_file(state_dir, name);
				n++;
			}
			close(lock);
		}
		free(folder);
		free(name);
	}
	closedir(d);
	return n;
}
