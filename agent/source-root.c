/* source-root.c - the host's workspace root (source-root.h). */
#include "source-root.h"

#include <stdlib.h>

#include "error.h"
#include "host-policy.h"
#include "source.h"
#include "xmalloc.h"

char *
source_root_dir(char **cause)
{
	return host_policy_workspace_root(cause);
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
