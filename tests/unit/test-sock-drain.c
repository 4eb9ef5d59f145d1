/* test-sock-drain.c - unit tests for common/sock-drain.c: the wait before a
 * reset, on a real TCP loopback pair whose reader does not read. */
#include "test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sock-drain.h"

/* A connected TCP pair on 127.0.0.1: *wr nonblocking, *rd its peer. */
static void
tcp_pair(int *wr, int *rd)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof a;
	int lfd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ASSERT_TRUE(lfd >= 0);
	ASSERT_INT_EQ(bind(lfd, (struct sockaddr *)&a, sizeof a), 0);
	ASSERT_INT_EQ(listen(lfd, 1), 0);
	ASSERT_INT_EQ(getsockname(lfd, (struct sockaddr *)&a, &alen), 0);
	*wr = socket(AF_INET, SOCK_STREAM, 0);
	ASSERT_INT_EQ(connect(*wr, (struct sockaddr *)&a, sizeof a), 0);
	*rd = accept(lfd, NULL, NULL);
	ASSERT_TRUE(*rd >= 0);
	close(lfd);
	fcntl(*wr, F_SETFL, O_NONBLOCK);
}

/* Write to fd until its peer's window and its own send queue are full. */
static void
fill(int fd)
{
	static unsigned char b[65536];

	while (write(fd, b, sizeof b) > 0)
		continue;
	ASSERT_TRUE(errno == EAGAIN || errno == EWOULDBLOCK);
}

/* Read all rd holds until wr's send queue is empty (its bytes acknowledged),
 * a few seconds at most. */
static void
drain_all(int rd, int wr)
{
	static unsigned char b[65536];
	struct pollfd p = { .fd = rd, .events = POLLIN };

	fcntl(rd, F_SETFL, O_NONBLOCK);
	for (int i = 0; i < 3000 && sock_drain_unsent(wr) > 0; i++) {
		while (read(rd, b, sizeof b) > 0)
			continue;
		poll(&p, 1, 1);
	}
}

TEST(unsent_counts_what_the_peer_has_not_taken)
{
	int wr, rd, pfd[2];

	ASSERT_INT_EQ((int)sock_drain_unsent(-1), 0);
	ASSERT_INT_EQ(pipe(pfd), 0);
	ASSERT_INT_EQ((int)sock_drain_unsent(pfd[1]), 0); /* (not a socket) */
	close(pfd[0]);
	close(pfd[1]);
	tcp_pair(&wr, &rd);
	ASSERT_INT_EQ((int)sock_drain_unsent(wr), 0);
	fill(wr);
	ASSERT_TRUE(sock_drain_unsent(wr) > 0);
	drain_all(rd, wr);
	ASSERT_INT_EQ((int)sock_drain_unsent(wr), 0);
	close(wr);
	close(rd);
}

/* The caller's bytes alone (no socket): the stall counts from the first
 * look and is put off only when they go down. */
TEST(step_waits_while_bytes_go_down_and_stalls_when_they_do_not)
{
	struct sock_drain d = { 0 };
	long long t = 100000;

	ASSERT_INT_EQ(sock_drain_step(&d, -1, 0, t), SOCK_DRAIN_DONE);
	ASSERT_INT_EQ((int)d.last_left, 0); /* (still not started) */
	ASSERT_INT_EQ(sock_drain_step(&d, -1, 500, t), SOCK_DRAIN_WAIT);
	ASSERT_INT_EQ(
	    sock_drain_step(&d, -1, 500, t + SOCK_DRAIN_STALL_MS - 1), SOCK_DRAIN_WAIT);
	/* gone down: put off from now */
	ASSERT_INT_EQ(sock_drain_step(&d, -1, 400, t + 1500), SOCK_DRAIN_WAIT);
	ASSERT_INT_EQ(sock_drain_step(&d, -1, 400, t + 1500 + SOCK_DRAIN_STALL_MS - 1),
	    SOCK_DRAIN_WAIT);
	/* more than at the last look is no progress */
	ASSERT_INT_EQ(sock_drain_step(&d, -1, 450, t + 1500 + SOCK_DRAIN_STALL_MS),
	    SOCK_DRAIN_STALLED);
	ASSERT_INT_EQ(sock_drain_step(&d, -1, 0, t + 9000), SOCK_DRAIN_DONE);
}

/* The socket's own queue counts: a peer that does not read stalls the
 * wait, one that reads it all ends it. */
TEST(step_counts_the_socket_send_queue)
{
	struct sock_drain d = { 0 };
	long long t = 100000;
	int wr, rd;

	tcp_pair(&wr, &rd);
	ASSERT_INT_EQ(sock_drain_step(&d, wr, 0, t), SOCK_DRAIN_DONE);
	fill(wr);
	ASSERT_INT_EQ(sock_drain_step(&d, wr, 0, t), SOCK_DRAIN_WAIT);
	ASSERT_TRUE(d.last_left > 0);
	ASSERT_INT_EQ(
	    sock_drain_step(&d, wr, 0, t + SOCK_DRAIN_STALL_MS), SOCK_DRAIN_STALLED);
	/* the caller's bytes add to the queue's */
	ASSERT_INT_EQ(
	    sock_drain_step(&d, wr, 10, t + SOCK_DRAIN_STALL_MS), SOCK_DRAIN_STALLED);
	drain_all(rd, wr);
	ASSERT_INT_EQ(
	    sock_drain_step(&d, wr, 0, t + SOCK_DRAIN_STALL_MS), SOCK_DRAIN_DONE);
	close(wr);
	close(rd);
}

/* Its close is a reset: the peer reads an error, not the end of a stream. */
TEST(reset_at_close_makes_the_close_a_reset)
{
	unsigned char c;
	int wr, rd;

	tcp_pair(&wr, &rd);
	ASSERT_INT_EQ(sock_drain_reset_at_close(wr), 0);
	close(wr);
	ASSERT_INT_EQ((int)read(rd, &c, 1), -1);
	ASSERT_INT_EQ(errno, ECONNRESET);
	close(rd);
	/* (and a plain close is an EOF: the test tells them apart) */
	tcp_pair(&wr, &rd);
	close(wr);
	ASSERT_INT_EQ((int)read(rd, &c, 1), 0);
	close(rd);
	ASSERT_INT_EQ(sock_drain_reset_at_close(-1), -1);
}

/* What a peer sent before its reset stays readable (and counted) after the
 * reset, whoever took the error first: a send here, then the bytes, then
 * EOF; or a read, which meets the error only after the bytes. The broker's
 * links rely on it to read them as their far side takes them
 * (host-link.c, local-link.c), not all at once. */
TEST(unread_counts_the_bytes_before_a_reset)
{
	static unsigned char b[4000];
	unsigned char c;
	int wr, rd, took_by_send;

	ASSERT_INT_EQ((int)sock_drain_unread(-1), 0);
	for (took_by_send = 0; took_by_send < 2; took_by_send++) {
		tcp_pair(&wr, &rd);
		ASSERT_INT_EQ((int)write(wr, b, sizeof b), (int)sizeof b);
		for (int i = 0; i < 3000 && sock_drain_unread(rd) < sizeof b; i++)
			poll(NULL, 0, 1);
		ASSERT_INT_EQ((int)sock_drain_unread(rd), (int)sizeof b);
		ASSERT_INT_EQ(sock_drain_reset_at_close(wr), 0);
		close(wr);
		/* (POLLHUP: the reset is in, before either takes it) */
		ASSERT_INT_EQ(
		    poll(&(struct pollfd){ .fd = rd, .events = 0 }, 1, 3000), 1);
		if (took_by_send) {
			ASSERT_INT_EQ((int)send(rd, "x", 1, MSG_NOSIGNAL), -1);
			ASSERT_INT_EQ(errno, ECONNRESET);
		}
		ASSERT_INT_EQ((int)sock_drain_unread(rd), (int)sizeof b);
		ASSERT_INT_EQ((int)read(rd, b, sizeof b), (int)sizeof b);
		ASSERT_INT_EQ((int)sock_drain_unread(rd), 0);
		if (took_by_send)
			ASSERT_INT_EQ((int)read(rd, &c, 1), 0);
		else {
			ASSERT_INT_EQ((int)read(rd, &c, 1), -1);
			ASSERT_INT_EQ(errno, ECONNRESET);
		}
		close(rd);
	}
}
