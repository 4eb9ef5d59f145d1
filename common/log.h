/* log.h - levelled logging to stderr.
 *
 * Quiet by default (warnings and errors only); each -v raises the level one
 * step (info, then debug). Each line should name its object:
 * log_info("host %s: connected", name). The level is the one process-wide
 * setting rdev keeps outside the event base; it is set once in main().
 */
#ifndef RDEV_LOG_H
#define RDEV_LOG_H

enum log_level { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

/* Set the process name shown before each line ("rdev", "rdev-agent"). */
void log_init(const char *progname, enum log_level level);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Raise the level by one step (for each -v); saturates at LOG_DEBUG. */
void log_raise_level(void);

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
