/* xmalloc.h - allocation that never returns NULL, and fatal().
 *
 * Out of memory is a broken invariant for rdev: these functions call fatal()
 * instead of returning NULL. Everything they return is freed with free().
 */
#ifndef RDEV_XMALLOC_H
#define RDEV_XMALLOC_H

#include <stdarg.h>
#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xreallocarray(void *ptr, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Free a NULL-terminated array of strings and the array (NULL: no-op). */
void xstrv_free(char **v);
/* Formatted allocation; the caller frees the result. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* Print "rdev: fatal: MESSAGE" to stderr and abort. For broken invariants only. */
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
