/* sync-index-cache.h - a binary copy of an index's base as last parsed
 * (sync-index.h), so that a pull's worker, a fresh process each time, need
 * not parse the JSON again (docs/SYNC.md, "Two-way"):
 *
 *   STATE/sync/NAME.json.cache   "RDEVIXC2", the key, gen, the base's
 *                                length, the entry count, then each entry
 *
 * The key is a hash of the base's bytes, so the copy is used only for
 * exactly the base it was made of: a base written again (a whole sync, a
 * journal folded in) makes it stale, and the next load parses the JSON and
 * writes it again. The journal (small: a line per batch) is read on top of
 * it as before. Written atomically (atomic-file.h); one that cannot be read
 * is ignored (the JSON is parsed). Host-local: native byte order.
 *
 * Ownership: the caller's; *out of a read is new.
 */
#ifndef RDEV_SYNC_INDEX_CACHE_H
#define RDEV_SYNC_INDEX_CACHE_H

#include <stddef.h>

#include "sync-index.h"
#include "sync-scan.h"

#define SYNC_INDEX_KEY_LEN 32

/* The key of an index whose base is base (blen bytes) into key. */
void sync_index_key_of(
    const char *base, size_t blen, unsigned char key[SYNC_INDEX_KEY_LEN]);

/* The copy at path when it was made for key: 0 with *out (new) and *ix,
 * else -1 (none, stale or damaged: *out NULL). */
int sync_index_cache_read(const char *path, const unsigned char key[SYNC_INDEX_KEY_LEN],
    struct sync_index *ix, struct sync_scan **out);

/* Write s (the base as parsed, with ix's gen and base_len) as the copy at path for key.
 * Failures are logged (the next load parses the JSON again). */
void sync_index_cache_write(const char *path, const unsigned char key[SYNC_INDEX_KEY_LEN],
    const struct sync_index *ix, const struct sync_scan *s);

#endif
