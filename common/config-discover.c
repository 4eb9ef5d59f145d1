/* config-discover.c - finding a workspace's devcontainer.json (see
 * config-discover.h). */
#include "config-discover.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "error.h"
#include "shell-quote.h"
#include "xmalloc.h"

char *
config_discover_normal(const char *path)
{
	size_t len = strlen(path), n = 0, up = 0, i;
	char *copy = xstrdup(path), *out = xmalloc(len + 2), *o = out, *c, *save = NULL;
	char **parts = xcalloc(len + 1, sizeof *parts);
	int abs = path[0] == '/';

	for (c = strtok_r(copy, "/", &save); c != NULL; c = strtok_r(NULL, "/", &save)) {
		if (strcmp(c, ".") == 0)
			continue;
		if (strcmp(c, "..") == 0 && n > up)
			n--;
		else if (strcmp(c, "..") == 0 && !abs) {
			parts[n++] = c;
			up++;
		} else if (strcmp(c, "..") != 0)
			parts[n++] = c;
	}
	if (abs)
		*o++ = '/';
	for (i = 0; i < n; i++) {
		if (i > 0)
			*o++ = '/';
		memcpy(o, parts[i], strlen(parts[i]));
		o += strlen(parts[i]);
	}
	*o = '\0';
	free(parts);
	free(copy);
	return out;
}

char *
config_discover_resolve(const char *base, const char *path, char **cause)
{
	char *cwd = NULL, *joined, *out;

	if (path[0] == '/')
		return config_discover_normal(path);
	if (base == NULL) {
		if ((cwd = getcwd(NULL, 0)) == NULL) {
			error_set_errno(
			    cause, errno, "cannot read the current directory");
			return NULL;
		}
		base = cwd;
	}
	/* (base is absolute: the ".."s of path stop at its root) */
	joined = xasprintf("/%s/%s", base, path);
	out = config_discover_normal(joined);
	free(joined);
	free(cwd);
	return out;
}

static int
config_discover_is_file(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

static int
config_discover_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted names of the folders F in dir that hold F/devcontainer.json. */
static char **
config_discover_subfolders(const char *dir, size_t *count)
{
	DIR *d;
	struct dirent *de;
	char **names = NULL, *path;
	size_t n = 0;

	*count = 0;
	if ((d = opendir(dir)) == NULL)
		return NULL;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' &&
		    (de->d_name[1] == '\0' || strcmp(de->d_name, "..") == 0))
			continue;
		path = xasprintf("%s/%s/devcontainer.json", dir, de->d_name);
		if (config_discover_is_file(path)) {
			names = xreallocarray(names, n + 1, sizeof *names);
			names[n++] = xstrdup(de->d_name);
		}
		free(path);
	}
	closedir(d);
	if (n > 1)
		qsort(names, n, sizeof *names, config_discover_cmp);
	*count = n;
	return names;
}

static void
config_discover_free_names(char **names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* The error for several .devcontainer/<folder>/devcontainer.json files. Its
 * example --config is absolute: a relative one is read from the current
 * folder (the home folder on a remote host), not from ws. It is quoted for
 * a POSIX shell, so that it can be pasted whatever the path holds. */
static int
config_discover_several(const char *ws, char **names, size_t n, char **cause)
{
	struct buf *b = buf_new();
	char *list, *example, *quoted;
	size_t i;

	for (i = 0; i < n; i++)
		buf_appendf(b, "%s.devcontainer/%s/devcontainer.json", i == 0 ? "" : ", ",
		    names[i]);
	list = buf_take_string(b, NULL);
	buf_free(b);
	example = xasprintf("%s/.devcontainer/%s/devcontainer.json",
	    strcmp(ws, "/") == 0 ? "" : ws, names[0]);
	quoted =
	    shell_quote_argv((const char *const[]){ example, NULL }, SHELL_QUOTE_NEEDED);
	error_set(cause,
	    "several dev container configurations in %s: %s; "
	    "choose one with --config PATH, e.g. --config %s",
	    ws, list, quoted);
	free(quoted);
	free(example);
	free(list);
	return -1;
}

int
config_discover(const char *ws, char **config_file, char **cause)
{
	static const char *const fixed[] = {
		"/.devcontainer/devcontainer.json",
		"/.devcontainer.json",
	};
	char *path, *dir, **names;
	size_t i, n;
	const char *sep = strcmp(ws, "/") == 0 ? "" : ws;

	*config_file = NULL;
	for (i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
		path = xasprintf("%s%s", sep, fixed[i]);
		if (config_discover_is_file(path)) {
			*config_file = path;
			return 0;
		}
		free(path);
	}
	dir = xasprintf("%s/.devcontainer", sep);
	names = config_discover_subfolders(dir, &n);
	if (n == 1)
		*config_file = xasprintf("%s/%s/devcontainer.json", dir, names[0]);
	else if (n > 1)
		config_discover_several(ws, names, n, cause);
	else
		error_set(cause,
		    "no devcontainer.json in %s (looked for "
		    ".devcontainer/devcontainer.json, .devcontainer.json and "
		    ".devcontainer/*/devcontainer.json)",
		    ws);
	config_discover_free_names(names, n);
	free(dir);
	return n == 1 ? 0 : -1;
}

char *
config_discover_git_root(const char *folder)
{
	struct stat sb;
	char *dir = xstrdup(folder), *dotgit, *slash;

	for (;;) {
		dotgit = xasprintf("%s/.git", strcmp(dir, "/") == 0 ? "" : dir);
		if (lstat(dotgit, &sb) == 0 &&
		    (S_ISDIR(sb.st_mode) || S_ISREG(sb.st_mode))) {
			free(dotgit);
			return dir;
		}
		free(dotgit);
		if (strcmp(dir, "/") == 0)
			break;
		slash = strrchr(dir, '/');
		if (slash == dir)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
	free(dir);
	return NULL;
}
