/* error.h - how errors travel up to the caller.
 *
 * Convention (as in tmux): a function that can fail returns 0 on success and
 * -1 on failure, and on failure stores a newly allocated, human-readable
 * message in *cause, which the caller owns and frees with free(). Messages name
 * the thing that failed ("devcontainer.json:12:5: ...", "host buildbox: ...").
 * Library code never prints and never exits; only main() shows the message.
 * A NULL cause pointer is allowed: the message is then discarded.
 */
#ifndef RDEV_ERROR_H
#define RDEV_ERROR_H

#include <stdarg.h>

/* Store a formatted message in *cause (if cause != NULL) and return -1. */
int error_set(char **cause, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Like error_set, appending ": strerror(errnum)". */
int error_set_errno(char **cause, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prefix an existing *cause with "PREFIX: " (formatted); returns -1. */
int error_prefix(char **cause, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
