/* path-which.c - a program's path in $PATH. */
#include "path-which.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xmalloc.h"

char *
path_which(const char *prog)
{
	const char *path = getenv("PATH"), *p, *end;
	struct stat st;

	if (path == NULL)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path; *p != '\0'; p = *end == ':' ? end + 1 : end) {
		char *full;

		end = p + strcspn(p, ":");
		if (end == p)
			continue;
		full = xasprintf("%.*s/%s", (int)(end - p), p, prog);
		if (stat(full, &st) == 0 && S_ISREG(st.st_mode) &&
		    access(full, X_OK) == 0)
			return full;
		free(full);
	}
	return NULL;
}
