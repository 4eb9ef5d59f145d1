/* test-buf-io.c - unit tests for common/buf-io.c: a buffer flushed to a
 * socket and a pipe, one that fills, and one whose reader is gone. */
#include "test.h"

#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "buf-io.h"

/* Make fd non-blocking. */
static void
test_buf_io_nonblock(int fd)
{
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0)
		TEST_FAIL("fcntl: %s", strerror(errno));
}

TEST(flush_to_a_socket_and_a_pipe)
{
	struct buf *b = buf_new();
	int sv[2], pfd[2];
	size_t written = 3;
	char got[16];

	ASSERT_INT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ASSERT_INT_EQ(pipe(pfd), 0);
	buf_append(b, "hello", 5);
	ASSERT_INT_EQ(buf_io_flush(b, sv[0], 1, &written), 0);
	ASSERT_INT_EQ(buf_len(b), 0);
	ASSERT_INT_EQ(written, 8);
	ASSERT_INT_EQ(read(sv[1], got, sizeof got), 5);
	ASSERT_TRUE(memcmp(got, "hello", 5) == 0);
	buf_append(b, "pipe", 4);
	ASSERT_INT_EQ(buf_io_flush(b, pfd[1], 0, NULL), 0);
	ASSERT_INT_EQ(buf_len(b), 0);
	ASSERT_INT_EQ(read(pfd[0], got, sizeof got), 4);
	ASSERT_TRUE(memcmp(got, "pipe", 4) == 0);
	close(sv[0]);
	close(sv[1]);
	close(pfd[0]);
	close(pfd[1]);
	buf_free(b);
}

/* A full pipe: 0 with the rest kept and what went counted; then the reader
 * drains it and the rest goes. */
TEST(flush_keeps_what_a_full_pipe_refuses)
{
	struct buf *b = buf_new();
	int pfd[2];
	size_t written = 0, total = 1 << 20, left;
	unsigned char *p;
	char sink[65536];
	ssize_t n;

	ASSERT_INT_EQ(pipe(pfd), 0);
	test_buf_io_nonblock(pfd[1]);
	p = buf_reserve(b, total);
	memset(p, 'x', total);
	buf_commit(b, total);
	ASSERT_INT_EQ(buf_io_flush(b, pfd[1], 0, &written), 0);
	left = buf_len(b);
	ASSERT_TRUE(left > 0);
	ASSERT_TRUE(written > 0);
	ASSERT_INT_EQ(written + left, total);
	test_buf_io_nonblock(pfd[0]);
	while (buf_len(b) > 0) {
		while ((n = read(pfd[0], sink, sizeof sink)) > 0)
			;
		ASSERT_INT_EQ(buf_io_flush(b, pfd[1], 0, &written), 0);
	}
	ASSERT_INT_EQ(written, total);
	close(pfd[0]);
	close(pfd[1]);
	buf_free(b);
}

/* The reader gone: -1 with EPIPE, and no SIGPIPE for a socket. */
TEST(flush_to_a_closed_socket_fails)
{
	struct buf *b = buf_new();
	int sv[2];

	ASSERT_INT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	close(sv[1]);
	buf_append(b, "gone", 4);
	ASSERT_INT_EQ(buf_io_flush(b, sv[0], 1, NULL), -1);
	ASSERT_INT_EQ(errno, EPIPE);
	ASSERT_INT_EQ(buf_len(b), 4);
	close(sv[0]);
	buf_free(b);
}
