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

int
agent_lock_acquire(const char *state_dir, const char *key, void (*on_wait)(void *),
    void *arg, char **cause)
{
	char *dir = xasprintf("%s/locks", state_dir), *path;
	int fd;

	if (agent_state_mkdir_parents(dir, 0700, cause) != 0) {
		free(dir);
		return -1;
	}
	path = xasprintf("%s/%s.lock", dir, key);
	free(dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		error_set_errno(cause, errno, "cannot open lock %s", path);
		free(path);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK && on_wait != NULL)
			on_wait(arg);
		while (flock(fd, LOCK_EX) < 0) {
			if (errno != EINTR) {
				error_set_errno(cause, errno, "cannot lock %s", path);
				close(fd);
				free(path);
				return -1;
			}
		}
	}
	free(path);
	return fd;
}

void
agent_lock_release(int fd)
{
	if (fd >= 0)
		close(fd);
}
