/* progress.h - where long agent operations send what the user should see
 * (build output, lifecycle output, "Creating container..."). The sink gets
 * raw text chunks; lines end with '\n'. A NULL fn discards everything.
 */
#ifndef RDEV_PROGRESS_H
#define RDEV_PROGRESS_H

#include <stddef.h>

struct progress {
	void (*fn)(void *arg, const char *data, size_t len);
	void *arg;
};

void progress_write(const struct progress *p, const char *data, size_t len);
/* One formatted line; a '\n' is added. */
void progress_line(const struct progress *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
