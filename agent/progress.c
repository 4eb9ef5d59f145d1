/* progress.c - sending progress text to the user (see progress.h). */
#include "progress.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

void
progress_write(const struct progress *p, const char *data, size_t len)
{
	if (p != NULL && p->fn != NULL && len > 0)
		p->fn(p->arg, data, len);
}

void
progress_line(const struct progress *p, const char *fmt, ...)
{
	va_list ap;
	char *s, *line;

	if (p == NULL || p->fn == NULL)
		return;
	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	line = xasprintf("%s\n", s);
	p->fn(p->arg, line, strlen(line));
	free(line);
	free(s);
}
