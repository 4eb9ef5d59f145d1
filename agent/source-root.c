/* source-root.c - the host's workspace root (source-root.h). */
#include "source-root.h"

#include <stdlib.h>

#include "error.h"
#include "source.h"
#include "xmalloc.h"

char *
source_root_dir(char **cause)
{
	const char *env = getenv("RDEV_WORKSPACE_ROOT"), *home = getenv("HOME");

	if (env != NULL && *env == '/')
		return xstrdup(env);
	if (home == NULL || *home != '/') {
		error_set(cause, "cannot find the workspace root: HOME is not set");
		return NULL;
	}
	return xasprintf("%s/rdev/workspaces", home);
}

char *
source_root_folder(const char *name, char **cause)
{
	char *root, *folder;

	if (name == NULL || !source_name_ok(name)) {
		error_set(cause,
		    "workspace name '%s': expected one folder name of letters, "
		    "digits, '.', '_' and '-'",
		    name ? name : "");
		return NULL;
	}
	if ((root = source_root_dir(cause)) == NULL)
		return NULL;
	folder = xasprintf("%s/%s", root, name);
	free(root);
	return folder;
}
