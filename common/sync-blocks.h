/* sync-blocks.h - block-hash deltas of large files (docs/PROTOCOL.md,
 * "sync", "Deltas"): the host's copy of a file is cut into fixed blocks
 * whose hashes go to the sender; the sender sends, for each block of its
 * own file, either "copy the host's block J" or the block's bytes; the host
 * rebuilds the file from both and checks its size and whole hash.
 *
 * The delta body (a tar entry's data, marked by the pax record
 * SYNC_BLOCKS_PAX = "BLOCK SIZE HASH"): for each block of the new file in
 * order, a 4-byte big-endian op: SYNC_BLOCKS_LITERAL, then the block's
 * bytes (BLOCK, or what is left for the last one), or J, the index of the
 * host's block to copy (of the same length), which must be this block's
 * own index (so a delta never makes the host write more than it holds).
 *
 * Pure: no I/O. Ownership: the applier owns its state; cbs and arg are
 * borrowed.
 */
#ifndef RDEV_SYNC_BLOCKS_H
#define RDEV_SYNC_BLOCKS_H

#include <stddef.h>
#include <stdint.h>

struct buf;

/* 128 KiB blocks: a small edit costs at most two blocks (256 KiB) of
 * bytes, and the hashes are 1/8192 of the file (a 1 GiB file's fit in
 * 171 KiB of base64 in the agent's answer); 64 KiB would double the
 * answer for little gain, 1 MiB would send 8x more for each edit. */
#define SYNC_BLOCKS_SIZE (128u << 10)
/* Smaller files are sent whole: a few blocks at most, where the hashes,
 * the host's read and the round of ops save little over the bytes. */
#define SYNC_BLOCKS_MIN (1u << 20)
#define SYNC_BLOCKS_HASH 16 /* bytes of a block's hash (BLAKE2b-128) */
#define SYNC_BLOCKS_LITERAL 0xffffffffu
#define SYNC_BLOCKS_PAX "RDEV.delta"

/* What a delta entry's pax record says. */
struct sync_blocks_delta {
	size_t block;			      /* block size */
	unsigned long long size;	      /* the new file's size */
	unsigned char hash[SYNC_BLOCKS_HASH]; /* its whole content's hash */
};

/* The hash of one block's bytes (out: SYNC_BLOCKS_HASH bytes). */
void sync_blocks_hash(const void *p, size_t n, unsigned char *out);
/* How many blocks a file of size bytes has, and how long block k is. */
size_t sync_blocks_count(unsigned long long size, size_t block);
size_t sync_blocks_len(unsigned long long size, size_t block, size_t k);

/* The host's block for block k (of len bytes, hash h) of the new file, or
 * -1: the host's block k when its hash and length agree (host: nhost
 * hashes of a host file of host_size bytes). */
long sync_blocks_match(const unsigned char *host, size_t nhost,
    unsigned long long host_size, size_t block, size_t k, size_t len,
    const unsigned char *h);
/* The body's length for a new file of size bytes whose blocks match as
 * match[k] says (-1: sent as bytes). */
unsigned long long sync_blocks_body_len(
    const long *match, unsigned long long size, size_t block);
/* Append one op to out: copy host block j (j >= 0) or, for -1, the literal
 * mark (the block's bytes follow, the caller appends them). */
void sync_blocks_put_op(struct buf *out, long j);

/* The pax record's value (new: free it) / read back: 0, or -1 when it is
 * not one. */
char *sync_blocks_delta_format(const struct sync_blocks_delta *d);
int sync_blocks_delta_parse(const char *s, struct sync_blocks_delta *d);

/* Applying a delta body as it comes. The callbacks return 0, or -1 with
 * *cause to stop. */
struct sync_blocks_cbs {
	/* Copy len bytes of the host's block j to the new file. */
	int (*copy)(void *arg, size_t j, size_t len, char **cause);
	/* Bytes of a literal block, in order, as they come. */
	int (*literal)(void *arg, const unsigned char *p, size_t len, char **cause);
};

struct sync_blocks_apply;

/* An applier of d against a host file of host_size bytes. */
struct sync_blocks_apply *sync_blocks_apply_new(const struct sync_blocks_delta *d,
    unsigned long long host_size, const struct sync_blocks_cbs *cbs, void *arg);
void sync_blocks_apply_free(struct sync_blocks_apply *a);
/* The next len bytes of the body. 0, or -1 with *cause (a bad op: a host
 * block out of range, of another length or not at the same place, bytes
 * past the end). */
int sync_blocks_apply_feed(
    struct sync_blocks_apply *a, const void *p, size_t len, char **cause);
/* The body ended: 0 if every block came, else -1 with *cause. */
int sync_blocks_apply_finish(struct sync_blocks_apply *a, char **cause);

#endif
