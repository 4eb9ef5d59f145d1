/* tree-hash.h - a digest of a folder's contents: what a build would see.
 *
 * Walks a folder in name order and feeds a SHA-256 state, for every entry,
 * its path relative to the folder, its type and, for a regular file, whether
 * it is executable and its bytes, for a symlink its target. Owners, times and
 * the other mode bits are left out (a build context's COPY resets them). Two
 * folders with the same tree give the same digest; changing, adding,
 * removing or renaming a file, or its executable bit, changes it.
 *
 * Reads files; keeps nothing.
 */
#ifndef RDEV_TREE_HASH_H
#define RDEV_TREE_HASH_H

#include <sodium.h>

/* Feed dir's tree into st. 0, or -1 with *cause (the path that could not be
 * read; a type other than file, folder or symlink is an error too). */
int tree_hash_update(crypto_hash_sha256_state *st, const char *dir, char **cause);

/* Feed a length-prefixed string into st (so that "ab"+"c" and "a"+"bc"
 * differ). */
void tree_hash_string(crypto_hash_sha256_state *st, const char *s);

#endif
