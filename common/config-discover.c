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
#include "xmalloc.h"

/* Append one path component to the normalised absolute path in out. */
static void
config_discover_push(char *out, size_t *len, const char *comp, size_t n)
{
	if (n == 0 || (n == 1 && comp[0] == '.'))
		return;
	if (n == 2 && comp[0] == '.' && comp[1] == '.') {
		while (*len > 0 && out[*len - 1] != '/')
			(*len)--;
		if (*len > 0)
			(*len)--; /* the slash before the dropped component */
		out[*len] = '\0';
		return;
	}
	out[(*len)++] = '/';
	memcpy(out + *len, comp, n);
	*len += n;
	out[*len] = '\0';
}

/* Normalise the components of s into out (which has room for strlen(s) + 2). */
static void
config_discover_normalise(char *out, size_t *len, const char *s)
{
	const char *p = s, *slash;

	while (*p != '\0') {
		slash = strchr(p, '/');
		if (slash == NULL)
			slash = p + strlen(p);
		config_discover_push(out, len, p, (size_t)(slash - p));
		p = *slash == '/' ? slash + 1 : slash;
	}
}

char *
config_discover_resolve(const char *base, const char *path, char **cause)
{
	char *cwd = NULL, *out;
	size_t len = 0;

	if (path[0] != '/' && base == NULL) {
		if ((cwd = getcwd(NULL, 0)) == NULL) {
			error_set_errno(
			    cause, errno, "cannot read the current directory");
			return NULL;
		}
		base = cwd;
	}
	out = xmalloc(strlen(path) + (path[0] == '/' ? 0 : strlen(base)) + 3);
	out[0] = '\0';
	if (path[0] != '/')
		config_discover_normalise(out, &len, base);
	config_discover_normalise(out, &len, path);
	if (len == 0)
		strcpy(out, "/");
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

/* The error for several .devcontainer/<folder>/devcontainer.json files. */
static int
config_discover_several(const char *ws, char **names, size_t n, char **cause)
{
	struct buf *b = buf_new();
	char *list;
	size_t i;

	for (i = 0; i < n; i++)
		buf_appendf(b, "%s.devcontainer/%s/devcontainer.json", i == 0 ? "" : ", ",
		    names[i]);
	list = buf_take_string(b, NULL);
	buf_free(b);
	error_set(cause,
	    "several dev container configurations in %s: %s; "
	    "choose one with --config PATH",
	    ws, list);
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
