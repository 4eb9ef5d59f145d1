/* tar-stream.h - the tar format a sync sends (POSIX ustar, with pax
 * extended headers for long names and large sizes), written a header at a
 * time and read as a stream of any chunking.
 *
 * The reader accepts regular files ('0' and NUL), folders ('5'), symlinks
 * ('2'), pax headers ('x' per entry, 'g' global: skipped) and GNU long names
 * ('L', 'K'); any other type (hard links, devices, FIFOs) is an error, as is
 * a bad checksum. It checks nothing about names: the caller does
 * (sync_path_ok).
 *
 * Pure: no I/O. Ownership: the reader owns its state; entries passed to the
 * callbacks are borrowed for the call.
 */
#ifndef RDEV_TAR_STREAM_H
#define RDEV_TAR_STREAM_H

#include <stddef.h>

struct buf;

#define TAR_BLOCK 512

/* Append the header(s) of one entry to out: type 'f', 'd' or 'l'; size for
 * 'f' (its bytes follow, then tar_pad); link for 'l'. */
void tar_write_header(struct buf *out, char type, const char *path, unsigned mode,
    unsigned long long size, long long mtime, const char *link);
/* The same, with one more pax record, key=value (both NULL: none): a sync's
 * delta entry (sync-blocks.h). */
void tar_write_header_pax(struct buf *out, char type, const char *path, unsigned mode,
    unsigned long long size, long long mtime, const char *link, const char *key,
    const char *value);
/* The zero bytes that complete a file of size bytes to whole blocks. */
size_t tar_pad_len(unsigned long long size);
/* Append the end of the archive (two zero blocks). */
void tar_write_end(struct buf *out);

/* A header's numeric field of n bytes: octal (NUL or space ended), or
 * base-256 (GNU: the top bit of the first byte set). 0 and *v, or -1. */
int tar_number(const unsigned char *f, size_t n, unsigned long long *v);
/* Does the checksum of header block h (TAR_BLOCK bytes) agree? */
int tar_checksum_ok(const unsigned char *h);

/* One entry as the reader hands it over. */
struct tar_entry {
	char type;		 /* 'f', 'd' or 'l' */
	const char *path;	 /* as in the archive (trailing '/' removed) */
	const char *link;	 /* 'l': the target */
	unsigned mode;		 /* permission bits */
	unsigned long long size; /* 'f': data bytes that follow */
	const char *delta;	 /* 'f': its pax "RDEV.delta" record, or NULL */
};

/* What the reader calls; each returns 0, or -1 with *cause to stop. */
struct tar_reader_cbs {
	int (*entry)(void *arg, const struct tar_entry *e, char **cause);
	/* A file's bytes, in order, as they come. */
	int (*data)(void *arg, const unsigned char *p, size_t len, char **cause);
	/* After the last byte of a file (also of an empty one). */
	int (*entry_end)(void *arg, char **cause);
};

struct tar_reader;

struct tar_reader *tar_reader_new(const struct tar_reader_cbs *cbs, void *arg);
void tar_reader_free(struct tar_reader *r);
/* Feed len bytes. 0, or -1 with *cause (a bad header, or a callback's
 * error); after -1 the reader takes nothing more. */
int tar_reader_feed(struct tar_reader *r, const void *data, size_t len, char **cause);
/* Has the end of the archive been read (two zero blocks, or one at the end
 * of input: tar_reader_finish)? */
int tar_reader_done(const struct tar_reader *r);
/* The input ended: 0 if the archive was complete, else -1 with *cause
 * ("archive truncated in 'x'"). */
int tar_reader_finish(struct tar_reader *r, char **cause);

#endif
