/* error.c - building error messages for the caller (see error.h). */
#include "error.h"

#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

int
error_set(char **cause, const char *fmt, ...)
{
	va_list ap;

	if (cause == NULL)
		return -1;
	va_start(ap, fmt);
	*cause = xvasprintf(fmt, ap);
	va_end(ap);
	return -1;
}

int
error_set_errno(char **cause, int errnum, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	if (cause == NULL)
		return -1;
	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	*cause = xasprintf("%s: %s", msg, strerror(errnum));
	free(msg);
	return -1;
}

int
error_prefix(char **cause, const char *fmt, ...)
{
	va_list ap;
	char *prefix, *old;

	if (cause == NULL)
		return -1;
	va_start(ap, fmt);
	prefix = xvasprintf(fmt, ap);
	va_end(ap);
	old = *cause;
	*cause = xasprintf("%s: %s", prefix, old != NULL ? old : "unknown error");
	free(prefix);
	free(old);
	return -1;
}
