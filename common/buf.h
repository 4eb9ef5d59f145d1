/* buf.h - a growable byte buffer with a read offset (a small sshbuf).
 *
 * Pure: no I/O. buf_new() pairs with buf_free(); buf_free(NULL) is a no-op.
 * Pointers returned by buf_data() stay valid until the next call that adds to
 * or consumes from the buffer.
 */
#ifndef RDEV_BUF_H
#define RDEV_BUF_H

#include <stddef.h>

struct buf;

struct buf *buf_new(void);
void buf_free(struct buf *b);
/* Bytes not yet consumed. */
const unsigned char *buf_data(const struct buf *b);
size_t buf_len(const struct buf *b);
void buf_append(struct buf *b, const void *data, size_t len);
/* Append a formatted string (no NUL). */
void buf_appendf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Reserve len writable bytes at the end and return them; follow with buf_commit(). */
unsigned char *buf_reserve(struct buf *b, size_t len);
void buf_commit(struct buf *b, size_t len);
/* Drop len bytes from the front (len <= buf_len). */
void buf_consume(struct buf *b, size_t len);
void buf_reset(struct buf *b);
/* Take the unconsumed bytes as a NUL-terminated malloc'd string (the caller
 * frees it; *len gets the byte count without the NUL) and empty the buffer. */
char *buf_take_string(struct buf *b, size_t *len);
/* Overwrite all the memory b holds (consumed bytes too) with zeros and empty
 * it: for secrets, before buf_free. Copies that growth left behind (the old
 * block, freed) are not reached, so a buffer meant for a secret takes it in
 * one append. */
void buf_wipe(struct buf *b);

#endif
