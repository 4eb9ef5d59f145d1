/* atomic-file.h - replace a file's contents all at once.
 *
 * The data goes to a temporary file in the same directory, is fsync'd, then
 * renamed over the target and the directory is fsync'd: a reader sees the old
 * file or the new one, never a mix, even across a crash.
 */
#ifndef RDEV_ATOMIC_FILE_H
#define RDEV_ATOMIC_FILE_H

#include <stddef.h>
#include <sys/types.h>

/* Write len bytes to path with the given mode. 0 or -1 with *cause set; on
 * failure the target is untouched and no temporary file is left behind. */
int atomic_file_write(
    const char *path, const void *data, size_t len, mode_t mode, char **cause);

/* Write all len bytes to fd, retrying short writes and EINTR. 0, or -1 with
 * errno set. */
int fd_write_all(int fd, const void *data, size_t len);
/* As fd_write_all(), but a non-blocking fd (a stdout inherited with
 * O_NONBLOCK) is waited for with poll() on EAGAIN. */
int fd_write_all_wait(int fd, const void *data, size_t len);
/* Did a write fail with err because nobody reads the other end any more (a
 * pipe's EPIPE with SIGPIPE ignored, or a socket's ECONNRESET, which a peer
 * that closed with data unread gives)? Such a writer ends as SIGPIPE would
 * end it (exit 141); any other error is a failure to report. */
int fd_write_reader_gone(int err);
/* Read up to len bytes at off of fd into p, retrying short reads and EINTR:
 * the bytes read (fewer only at the end of the file, or on an error). */
size_t fd_pread_full(int fd, void *p, size_t len, off_t off);

/* Read a whole file (at most max bytes) into a malloc'd NUL-terminated buffer
 * that the caller frees; *len gets its size. */
int file_read_all(const char *path, size_t max, char **data, size_t *len, char **cause);

#endif
