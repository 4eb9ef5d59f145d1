/* sync-cover.h - a bounded list of folders (or paths) that covers many
 * paths: how the agent names the entries that could not land past the ones
 * it lists (docs/PROTOCOL.md, "sync", "failedUnder").
 *
 * A cover element C covers the path C and every path under it (C/...).
 * The cover starts as the paths themselves (exact: it covers nothing
 * else), and only while it has more than max elements or takes more than
 * max_bytes does it lift: each round replaces every group of two or more
 * elements under one folder at the deepest depth any such group has by
 * that folder. So a path that is not one of the given ones is covered
 * only when the bounds forced a folder holding it and two or more of them
 * to be named, the deepest such folders first. The root ("") is never a
 * cover element: when only it would do, there is no cover.
 *
 * Pure: no I/O, no globals.
 */
#ifndef RDEV_SYNC_COVER_H
#define RDEV_SYNC_COVER_H

#include <stddef.h>

/* The cover of paths (n, any order, duplicates fine; borrowed) with at
 * most max elements and at most max_bytes of them (each element's length
 * plus one): 0 with *out (new, sorted by strcmp, NULL-terminated:
 * sync_paths_free) and *nout, or -1 when no cover within the bounds
 * avoids the root (or n is 0). */
int sync_cover(char *const *paths, size_t n, size_t max, size_t max_bytes, char ***out,
    size_t *nout);
/* Is path covered by one of cover's elements (sorted by strcmp)? */
int sync_cover_has(char *const *cover, size_t n, const char *path);

#endif
