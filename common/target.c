/* target.c - local or remote TARGET (see target.h). */
#include "target.h"

#include <string.h>
#include <sys/stat.h>

int
target_is_remote(const char *target)
{
	const char *colon = strchr(target, ':'), *slash = strchr(target, '/');
	struct stat sb;

	if (strncmp(target, "ssh://", 6) == 0 || target[0] == '@')
		return 1;
	if (colon == NULL || (slash != NULL && slash < colon))
		return 0;
	return stat(target, &sb) != 0;
}
