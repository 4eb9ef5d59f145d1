/* agent-state.c - the agent's state directory and per-workspace locks. */
#include "agent-state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "xmalloc.h"

/* mkdir -p with mode for the directories we create. */
int
agent_state_mkdir_parents(const char *path, mode_t mode, char **cause)
{
	char *p = xstrdup(path), *s;

	for (s = p + 1; *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST) {
			error_set_errno(cause, errno, "cannot create %s", p);
			free(p);
			return -1;
		}
		*s = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST) {
		error_set_errno(cause, errno, "cannot create %s", p);
		free(p);
		return -1;
	}
	free(p);
	return 0;
}

char *
agent_state_dir(char **cause)
{
	const char *env = getenv("RDEV_STATE_DIR"), *xdg = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");
	char *dir;

	if (env != NULL && *env != '\0')
		dir = xstrdup(env);
	else if (xdg != NULL && *xdg == '/')
		dir = xasprintf("%s/rdev", xdg);
	else if (home != NULL && *home == '/')
		dir = xasprintf("%s/.rdev/state", home);
	else {
		error_set(
		    cause, "cannot find a state directory: set HOME or RDEV_STATE_DIR");
		return NULL;
	}
	if (agent_state_mkdir_parents(dir, 0700, cause) != 0) {
		free(dir);
		return NULL;
	}
	return dir;
}

/* The file of key's lock: STATE/locks/KEY.lock (new string). */
static char *
agent_lock_path(const char *state_dir, const char *key)
{
	return xasprintf("%s/locks/%s.lock", state_dir, key);
}

/* Is fd, locked, still the file at path? One removed while a holder had it
 * (agent_lock_remove) guards nothing: the path's next open makes another. */
static int
agent_lock_current(int fd, const char *path)
{
	struct stat f, p;

	return fstat(fd, &f) == 0 && stat(path, &p) == 0 && f.st_dev == p.st_dev &&
	    f.st_ino == p.st_ino;
}

/* How many times a lock file removed while waited on is opened anew. */
#define AGENT_LOCK_MAX_TRIES 100

int
agent_lock_acquire(const char *state_dir, const char *key, void (*on_wait)(void *),
    void *arg, char **cause)
{
	char *dir = xasprintf("%s/locks", state_dir), *path;
	int fd, waited = 0, tries = 0;

	if (agent_state_mkdir_parents(dir, 0700, cause) != 0) {
		free(dir);
		return -1;
	}
	free(dir);
	path = agent_lock_path(state_dir, key);
	for (;;) {
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0) {
			error_set_errno(cause, errno, "cannot open lock %s", path);
			free(path);
			return -1;
		}
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			if (errno == EWOULDBLOCK && on_wait != NULL && !waited)
				on_wait(arg);
			waited = 1;
			while (flock(fd, LOCK_EX) < 0) {
				if (errno != EINTR) {
					error_set_errno(
					    cause, errno, "cannot lock %s", path);
					close(fd);
					free(path);
					return -1;
				}
			}
		}
		if (agent_lock_current(fd, path))
			break;
		close(fd); /* (removed while we waited: the path's new file) */
		/* A file that never stays put (or a stat that keeps failing)
		 * must not hang the caller. */
		if (++tries >= AGENT_LOCK_MAX_TRIES) {
			error_set(cause, "lock %s keeps changing under us", path);
			free(path);
			return -1;
		}
	}
	free(path);
	return fd;
}

int
agent_lock_try(const char *state_dir, const char *key)
{
	char *path = agent_lock_path(state_dir, key);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600), err = errno;

	/* (one removed since we opened it: another may hold the new file) */
	if (fd >= 0) {
		if (flock(fd, LOCK_EX | LOCK_NB) != 0)
			err = errno == EINTR ? EWOULDBLOCK : errno;
		else if (!agent_lock_current(fd, path))
			err = EWOULDBLOCK;
		else
			err = 0;
		if (err != 0) {
			close(fd);
			fd = -1;
		}
	}
	free(path);
	errno = err;
	return fd;
}

int
agent_lock_remove(const char *state_dir, const char *key, int fd)
{
	char *path = agent_lock_path(state_dir, key);
	int rc, err;

	/* (unlinked while held: a waiter that gets it then sees it gone) */
	rc = unlink(path) != 0 && errno != ENOENT ? -1 : 0;
	err = errno;
	free(path);
	close(fd);
	errno = err;
	return rc;
}

void
agent_lock_release(int fd)
{
	if (fd >= 0)
		close(fd);
}
