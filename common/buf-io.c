/* buf-io.c - a buffer's bytes out to a non-blocking descriptor (buf-io.h). */
#include "buf-io.h"

#include <sys/socket.h>
#include <sys/types.h>

#include <errno.h>
#include <unistd.h>

int
buf_io_flush(struct buf *b, int fd, int sock, size_t *written)
{
	ssize_t n;

	while (buf_len(b) > 0) {
		n = sock ? send(fd, buf_data(b), buf_len(b), MSG_NOSIGNAL)
			 : write(fd, buf_data(b), buf_len(b));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n < 0)
			return -1;
		if (n == 0) {
			/* No progress and no error: trying again would spin. */
			errno = EIO;
			return -1;
		}
		buf_consume(b, (size_t)n);
		if (written != NULL)
			*written += (size_t)n;
	}
	return 0;
}
