/* atomic-file.c - replace a file's contents all at once (see atomic-file.h). */
#include "atomic-file.h"

#include <errno.h>
#include <poll.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "xmalloc.h"

/* fd_write_all, and on EAGAIN (when wait) a poll() for room. */
static int
fd_write_all_how(int fd, const void *data, size_t len, int wait)
{
	const char *p = data;
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (!wait || (errno != EAGAIN && errno != EWOULDBLOCK))
				return -1;
			if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
				return -1;
			continue;
		}
		if (n == 0) { /* (no progress: not a retry that spins) */
			errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
fd_write_all(int fd, const void *data, size_t len)
{
	return fd_write_all_how(fd, data, len, 0);
}

int
fd_write_all_wait(int fd, const void *data, size_t len)
{
	return fd_write_all_how(fd, data, len, 1);
}

int
fd_write_reader_gone(int err)
{
	return err == EPIPE || err == ECONNRESET;
}

size_t
fd_pread_full(int fd, void *p, size_t len, off_t off)
{
	size_t have = 0;
	ssize_t n;

	while (have < len) {
		n = pread(fd, (char *)p + have, len - have, off + (off_t)have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		have += (size_t)n;
	}
	return have;
}

int
atomic_file_write(
    const char *path, const void *data, size_t len, mode_t mode, char **cause)
{
	char *tmp = xasprintf("%s.tmp.XXXXXX", path), *dircopy = NULL;
	int fd, dfd, e;

	fd = mkstemp(tmp);
	if (fd < 0) {
		error_set_errno(cause, errno, "%s: cannot create temporary file", path);
		free(tmp);
		return -1;
	}
	if (fchmod(fd, mode) < 0 || fd_write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		e = errno;
		close(fd);
		unlink(tmp);
		free(tmp);
		return error_set_errno(cause, e, "%s: cannot write", path);
	}
	if (close(fd) < 0 || rename(tmp, path) < 0) {
		e = errno;
		unlink(tmp);
		free(tmp);
		return error_set_errno(cause, e, "%s: cannot replace", path);
	}
	free(tmp);
	/* Make the rename itself durable. */
	dircopy = xstrdup(path);
	dfd = open(dirname(dircopy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	free(dircopy);
	return 0;
}

int
file_read_all(const char *path, size_t max, char **data, size_t *len, char **cause)
{
	size_t size = 0, alloc = 4096;
	char *p;
	ssize_t n;
	int fd, e;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return error_set_errno(cause, errno, "%s", path);
	p = xmalloc(alloc);
	for (;;) {
		if (size + 1 >= alloc) {
			alloc *= 2;
			p = xreallocarray(p, 1, alloc);
		}
		n = read(fd, p + size, alloc - size - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			e = errno;
			close(fd);
			free(p);
			return error_set_errno(cause, e, "%s: read failed", path);
		}
		if (n == 0)
			break;
		size += (size_t)n;
		if (size > max) {
			close(fd);
			free(p);
			return error_set(
			    cause, "%s: file is larger than %zu bytes", path, max);
		}
	}
	close(fd);
	p[size] = '\0';
	*data = p;
	if (len != NULL)
		*len = size;
	return 0;
}
