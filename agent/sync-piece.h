/* sync-piece.h - a two-way sync's big file brought back in pieces
 * (docs/SYNC.md, "Two-way"; docs/PROTOCOL.md, "sync-pull"): a host file
 * over SYNC_BACK_MAX_BYTES goes to the local side a piece per answer, each
 * read with pread (never the whole file in memory). The agent keeps no
 * transfer state: the request says how far the local side got ("piece":
 * {"path","version","offset"}), and the piece goes on from there while the
 * file's version (size, mtime, inode) is the one the local side has;
 * otherwise it starts again from 0.
 *
 * Ownership: *piece and done's strings are new.
 */
#ifndef RDEV_SYNC_PIECE_H
#define RDEV_SYNC_PIECE_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "sync-scan.h"

/* The biggest file a two-way sync brings back (in pieces); a bigger one is
 * left on the host ("tooLarge"). */
#define SYNC_PIECE_FILE_MAX_MIB 4096u
#define SYNC_PIECE_FILE_MAX ((long long)SYNC_PIECE_FILE_MAX_MIB << 20)
/* A piece smaller than this waits for the next answer (unless the file's
 * rest is smaller): the answer's room is nearly used. */
#define SYNC_PIECE_MIN (1u << 20)

/* The next piece of file e (a scan's entry under root, its hash as
 * scanned), at most room bytes, going on from have (the request's
 * "piece", may be NULL): 1 with *piece ({"path","version","offset",
 * "size","mode","data":BASE64,"last":BOOL,"hash" (last only)}) and, when
 * it is the last, *done (e as read: what the index gets once acknowledged,
 * else done->path NULL); 0 when there is none (the file gone, changed
 * since the scan: the next scan's). */
int sync_piece_next(int root, const struct sync_entry *e, const cJSON *have, size_t room,
    cJSON **piece, struct sync_entry *done);

/* Which of the n big files bigs (changed, in path order) gets the next
 * piece, given have (the request's "piece", may be NULL): the one have
 * names while its version is the same (its pieces go on); else the first
 * after have's path, round (a file that changed meanwhile, or that failed
 * on the local side, goes to the back: the ones after it are not starved
 * by a file that keeps changing). n > 0. */
size_t sync_piece_pick(const struct sync_entry *const *bigs, size_t n, const cJSON *have);

/* The version token of a file's stat: "SIZE-MTIMENS-INODE". New. */
char *sync_piece_version(long long size, long long mtime_ns, unsigned long long ino);

#endif
