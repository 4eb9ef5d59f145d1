/* log.c - levelled logging to stderr. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static enum log_level log_level = LOG_WARN;
static char log_progname[32] = "rdev";

void
log_init(const char *progname, enum log_level level)
{
	snprintf(log_progname, sizeof log_progname, "%s", progname);
	log_level = level;
}

void
log_set_level(enum log_level level)
{
	log_level = level;
}

enum log_level
log_get_level(void)
{
	return log_level;
}

void
log_raise_level(void)
{
	if (log_level < LOG_DEBUG)
		log_level++;
}

static void
log_vwrite(enum log_level level, const char *fmt, va_list ap)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	char line[4096];

	if (level > log_level)
		return;
	vsnprintf(line, sizeof line, fmt, ap);
	/* One write per line so concurrent processes do not interleave lines. */
	fprintf(stderr, "%s: %s: %s\n", log_progname, names[level], line);
}

#define LOG_FN(fn, lvl) \
	void fn(const char *fmt, ...) \
	{ \
		va_list ap; \
		va_start(ap, fmt); \
		log_vwrite(lvl, fmt, ap); \
		va_end(ap); \
	}
LOG_FN(log_error, LOG_ERROR)
LOG_FN(log_warn, LOG_WARN)
LOG_FN(log_info, LOG_INFO)
LOG_FN(log_debug, LOG_DEBUG)
