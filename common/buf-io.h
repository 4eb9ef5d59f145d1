/* buf-io.h - a buffer's bytes out to a non-blocking descriptor (buf.h stays
 * pure: this is its one piece of I/O).
 */
#ifndef RDEV_BUF_IO_H
#define RDEV_BUF_IO_H

#include <stddef.h>

#include "buf.h"

/* Write what fd takes of b, consuming it, until b is empty or fd would
 * block; EINTR is retried. sock: send(2) with MSG_NOSIGNAL (a peer gone is
 * EPIPE, not SIGPIPE), else write(2) (a pipe). Adds the bytes written to
 * *written when it is not NULL. 0, or -1 with errno set when fd is broken
 * (EIO when a write makes no progress; what was written before is consumed
 * all the same). */
int buf_io_flush(struct buf *b, int fd, int sock, size_t *written);

#endif
