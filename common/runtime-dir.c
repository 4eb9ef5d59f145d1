/* runtime-dir.c - the broker's private directory (runtime-dir.h). */
#include "runtime-dir.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "xmalloc.h"

/* Check dir as runtime-dir.h says, creating it first if create. */
static int
runtime_dir_check_as(const char *dir, int create, char **cause)
{
	struct stat st;

	if (create && mkdir(dir, 0700) != 0 && errno != EEXIST)
		return error_set_errno(cause, errno, "%s: cannot create", dir);
	if (lstat(dir, &st) != 0)
		return error_set_errno(cause, errno, "%s", dir);
	if (!S_ISDIR(st.st_mode))
		return error_set(cause,
		    "%s: not a directory (a symlink or file is "
		    "refused; remove it)",
		    dir);
	if (st.st_uid != geteuid())
		return error_set(cause,
		    "%s: owned by uid %u, not by you (uid %u); "
		    "refusing to use it",
		    dir, (unsigned)st.st_uid, (unsigned)geteuid());
	if ((st.st_mode & 077) != 0)
		return error_set(cause,
		    "%s: mode %03o lets others in; it must be 0700 "
		    "(chmod 700 %s)",
		    dir, (unsigned)(st.st_mode & 0777), dir);
	return 0;
}

int
runtime_dir_check(const char *dir, char **cause)
{
	return runtime_dir_check_as(dir, 1, cause);
}

/* The directory's path as a new string, nothing checked or created. */
static char *
runtime_dir_path(void)
{
	const char *env = getenv("RDEV_RUNTIME_DIR"), *xdg = getenv("XDG_RUNTIME_DIR");
	char *dir;

	if (env != NULL && *env != '\0')
		dir = xstrdup(env);
	else if (xdg != NULL && *xdg == '/')
		dir = xasprintf("%s/rdev", xdg);
	else
		dir = xasprintf("/tmp/rdev-%u", (unsigned)geteuid());
	return dir;
}

/* The checked directory (created first if create), or NULL with *cause. */
static char *
runtime_dir_get_as(int create, char **cause)
{
	char *dir = runtime_dir_path();

	if (runtime_dir_check_as(dir, create, cause) != 0) {
		free(dir);
		return NULL;
	}
	return dir;
}

char *
runtime_dir_get(char **cause)
{
	return runtime_dir_get_as(1, cause);
}

/* "DIR/NAME" in the checked directory (created first if create). */
static char *
runtime_dir_file_as(const char *name, int create, char **cause)
{
	char *dir = runtime_dir_get_as(create, cause), *path;

	if (dir == NULL)
		return NULL;
	path = xasprintf("%s/%s", dir, name);
	free(dir);
	return path;
}

char *
runtime_dir_file(const char *name, char **cause)
{
	return runtime_dir_file_as(name, 1, cause);
}

char *
runtime_dir_lookup(const char *name, char **cause)
{
	return runtime_dir_file_as(name, 0, cause);
}

int
runtime_dir_missing(void)
{
	char *dir = runtime_dir_path();
	struct stat st;
	int missing = lstat(dir, &st) != 0 && errno == ENOENT;

	free(dir);
	return missing;
}
