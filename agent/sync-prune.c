/* sync-prune.c - the sync state of workspaces that are gone (sync-prune.h). */
#include "sync-prune.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent-state.h"
#include "log.h"
#include "source.h"
#include "xmalloc.h"

/* Is file (a name in sync_dir) one of workspace name's: exactly the names
 * the agent writes (sync-index.h): NAME.json, NAME.json.journal, .aside,
 * .piece, .pull, each maybe as an atomic write's temporary file
 * (atomic-file.c: ".tmp." and 6 characters)? Not NAME.json.json, nor
 * another workspace's whose name only starts so. */
static int
sync_prune_is_of(const char *file, const char *name)
{
	static const char *const kinds[] = { "", ".journal", ".aside", ".piece",
		".pull" };
	size_t n = strlen(name), k;
	const char *rest;

	if (strncmp(file, name, n) != 0 || strncmp(file + n, ".json", 5) != 0)
		return 0;
	rest = file + n + 5;
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		k = strlen(kinds[i]);
		if (strncmp(rest, kinds[i], k) != 0)
			continue;
		if (rest[k] == '\0' ||
		    (strncmp(rest + k, ".tmp.", 5) == 0 && strlen(rest + k + 5) == 6))
			return 1;
	}
	return 0;
}

/* Does folder root have an entry other than keep (NULL: any)? An empty
 * root may be a mount point whose disk is not mounted (yet): every
 * workspace would look gone. keep's folder does not count: the sync that
 * prunes made it (and the root) just before. */
static int
sync_prune_root_used(const char *root, const char *keep)
{
	struct dirent *de;
	DIR *d = opendir(root);
	int used = 0;

	if (d == NULL)
		return 0;
	while (!used && (de = readdir(d)) != NULL)
		used = strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0 &&
		    (keep == NULL || strcmp(de->d_name, keep) != 0);
	closedir(d);
	return used;
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
	char *name, *folder, *key;
	size_t len;
	int dfd, lock, n = 0;
	DIR *d;

	if (stat(root, &sb) != 0 || !S_ISDIR(sb.st_mode) ||
	    !sync_prune_root_used(root, keep))
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
		/* (the lock of its syncs, serve-sync.c's key: tried, never
		 * waited for) */
		key = xasprintf("sync-%s", name);
		if (lstat(folder, &sb) != 0 && errno == ENOENT &&
		    (lock = agent_lock_try(state_dir, key)) >= 0) {
			/* (asked again under the lock: a sync may have made it) */
			if (lstat(folder, &sb) != 0 && errno == ENOENT) {
				sync_prune_remove(dfd, sync_dir, name);
				/* (removed while held: a sync that waits on it
				 * then takes the path's new file) */
				if (agent_lock_remove(state_dir, key, lock) != 0)
					log_warn("sync: %s/locks/%s.lock: %s", state_dir,
					    key, strerror(errno));
				lock = -1;
				log_info(
				    "sync: %s is gone: its sync state removed", folder);
				n++;
			}
			agent_lock_release(lock);
		}
		free(key);
		free(folder);
		free(name);
	}
	closedir(d);
	return n;
}
