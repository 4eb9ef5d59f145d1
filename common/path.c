/* path.c - paths as strings (see path.h). */
#include "path.h"

#include <string.h>

int
path_within(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	while (n > 0 && dir[n - 1] == '/')
		n--;
	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}
