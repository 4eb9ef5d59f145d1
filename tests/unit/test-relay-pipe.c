/* test-relay-pipe.c - a 'C' connection's reset through the real rdev-relay
 * (relay/relay-pipe.c), run here on this machine: its clients and the server
 * it connects to on 127.0.0.1 are this test's own sockets. No container is
 * needed for it: the relay serves whatever listens on the loopback it sees.
 * Each test starts its own relay (a few ms) and ends it. A reset is passed
 * on after the bytes before it, and a side that stops taking them does not
 * hold the pair: 2 s after they last moved both sides are reset, whether
 * the reset was found by a failed write, read, or by the socket's error
 * alone (docs/PROTOCOL.md, "The container relay"). */
#include "test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "xmalloc.h"

#define TOKEN_HEX "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

/* The relay a test started (0: none); killed at the next start and at exit,
 * as a failed assertion leaves its test at once. */
static pid_t relay_pid;
static uint16_t relay_port;
static char relay_dir[64];

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
relay_stop(void)
{
	char path[128];

	if (relay_pid > 0) {
		kill(relay_pid, SIGKILL);
		waitpid(relay_pid, NULL, 0);
		relay_pid = 0;
	}
	if (relay_dir[0] != '\0') {
		snprintf(path, sizeof path, "%s/port", relay_dir);
		unlink(path);
		rmdir(relay_dir);
		relay_dir[0] = '\0';
	}
}

/* Start the built rdev-relay with a port file in a temporary directory and
 * wait (5 s at most) for the port it listens on. */
static void
relay_start(void)
{
	static int registered;
	char path[128], buf[16];
	ssize_t n = 0;
	int fd;

	relay_stop();
	if (!registered) {
		atexit(relay_stop);
		/* (a relay that resets early fails a write's check, not the
		 * whole program with SIGPIPE) */
		signal(SIGPIPE, SIG_IGN);
		registered = 1;
	}
	snprintf(relay_dir, sizeof relay_dir, "/tmp/test-relay-pipe.XXXXXX");
	ASSERT_NOT_NULL(mkdtemp(relay_dir));
	snprintf(path, sizeof path, "%s/port", relay_dir);
	relay_pid = fork();
	ASSERT_TRUE(relay_pid >= 0);
	if (relay_pid == 0) {
		char *argv[] = { RDEV_RELAY_BIN, "--port-file", path, NULL };
		/* (ends with the test, killed or timed out by ctest too) */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		setenv("RDEV_RELAY_TOKEN", TOKEN_HEX, 1);
		execv(argv[0], argv);
		_exit(127);
	}
	for (int i = 0; i < 500; i++) {
		if ((fd = open(path, O_RDONLY)) >= 0) {
			n = read(fd, buf, sizeof buf - 1);
			close(fd);
			if (n > 0)
				break;
		}
		usleep(10000);
	}
	ASSERT_TRUE(n > 0);
	buf[n] = '\0';
	relay_port = (uint16_t)atoi(buf);
	ASSERT_TRUE(relay_port != 0);
}

/* A listener on 127.0.0.1 (backlog: listen's), its port in *port; rcvbuf > 0:
 * the SO_RCVBUF its connections inherit. */
static int
server_listen(int backlog, int rcvbuf, uint16_t *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ASSERT_TRUE(fd >= 0);
	if (rcvbuf > 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
	ASSERT_INT_EQ(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	ASSERT_INT_EQ(listen(fd, backlog), 0);
	ASSERT_INT_EQ(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

/* Connect to 127.0.0.1:port (blocking); rcvbuf > 0: with that SO_RCVBUF. */
static int
tcp_connect(uint16_t port, int rcvbuf)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons(port);
	ASSERT_TRUE(fd >= 0);
	if (rcvbuf > 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
	ASSERT_INT_EQ(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
	return fd;
}

/* A relay client (rcvbuf: tcp_connect's): connected, the 'C' header for
 * target sent (docs/PROTOCOL.md, "The container relay"); the status byte not
 * read yet. */
static int
relay_open(uint16_t target, int rcvbuf)
{
	unsigned char hdr[8 + 32 + 3];
	int fd = tcp_connect(relay_port, rcvbuf);

	memcpy(hdr, "RDEVRLY1", 8);
	for (int i = 0; i < 32; i++) {
		unsigned v;
		sscanf(TOKEN_HEX + 2 * i, "%2x", &v);
		hdr[8 + i] = (unsigned char)v;
	}
	hdr[40] = 'C';
	hdr[41] = (unsigned char)(target >> 8);
	hdr[42] = (unsigned char)target;
	ASSERT_INT_EQ(write(fd, hdr, sizeof hdr), (ssize_t)sizeof hdr);
	return fd;
}

/* Accept on lfd, waiting ms at most. */
static int
accept_within(int lfd, int ms)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };
	int fd;

	ASSERT_INT_EQ(poll(&p, 1, ms), 1);
	fd = accept(lfd, NULL, NULL);
	ASSERT_TRUE(fd >= 0);
	return fd;
}

/* Write to fd (made nonblocking) until nothing more goes for 100 ms: the
 * peer's window, the relay's buffers and fd's send queue are full. */
static void
fill(int fd)
{
	static unsigned char b[65536];
	struct pollfd p = { .fd = fd, .events = POLLOUT };

	fcntl(fd, F_SETFL, O_NONBLOCK);
	for (;;) {
		while (write(fd, b, sizeof b) > 0)
			continue;
		ASSERT_TRUE(errno == EAGAIN || errno == EWOULDBLOCK);
		if (poll(&p, 1, 100) == 0)
			return;
	}
}

/* Close fd with a TCP reset. */
static void
reset_close(int fd)
{
	struct linger lg = { 1, 0 };

	ASSERT_INT_EQ(setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
	close(fd);
}

/* The relay started, a listener on 127.0.0.1 (rcvbuf: server_listen's), a
 * client through the relay to it (client_rcv: relay_open's) whose status
 * byte said connected, and the server's end: into *lfd, *cfd, *sfd. */
static void
pair_open(int rcvbuf, int client_rcv, uint16_t *port, int *lfd, int *cfd, int *sfd)
{
	unsigned char st;

	relay_start();
	*lfd = server_listen(16, rcvbuf, port);
	*cfd = relay_open(*port, client_rcv);
	*sfd = accept_within(*lfd, 5000);
	ASSERT_INT_EQ(read(*cfd, &st, 1), 1);
	ASSERT_INT_EQ(st, 0);
}

/* fd's connection is reset 1.5 to 3.5 s after now (the relay's 2 s without
 * progress): what's names the two sides, for the line printed. */
static void
reset_within_bound(int fd, const char *whats)
{
	struct pollfd p = { .fd = fd, .events = 0 }; /* (errors only) */
	socklen_t elen = sizeof(int);
	int64_t t0 = now_ms(), dt;
	int err = 0;

	ASSERT_INT_EQ(poll(&p, 1, 4500), 1);
	dt = now_ms() - t0;
	fprintf(stderr, "  (%s: %lld ms)\n", whats, (long long)dt);
	ASSERT_TRUE(p.revents & (POLLERR | POLLHUP));
	ASSERT_INT_EQ(getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen), 0);
	ASSERT_INT_EQ(err, ECONNRESET);
	ASSERT_TRUE(dt >= 1500);
	ASSERT_TRUE(dt <= 3500);
}

/* A client resets while the relay writes the server's bytes to it and holds
 * its own for a server that writes and never reads: the relay finds the
 * reset by its failed write, and the client's bytes cannot go on. The pair
 * is not held for good: the server's connection is reset once they have not
 * moved for 2 s (SOCK_DRAIN_STALL_MS), not at once (what the client sent
 * still goes on while it moves). */
TEST(failed_write_reset_bounded_when_server_never_reads)
{
	uint16_t port;
	int lfd, cfd, sfd;

	pair_open(4096, 0, &port, &lfd, &cfd, &sfd);
	fill(sfd); /* (the server writes; the client does not read) */
	fill(cfd); /* (the client writes; the server never reads) */
	reset_close(cfd);
	reset_within_bound(sfd, "the server's connection reset after the client's");
	close(sfd);
	close(lfd);
	relay_stop();
}

/* A client sends 1000 bytes and resets while the relay still connects to the
 * server (whose accept queue is full: the relay's SYN waits for its
 * retransmission, about 1 s later): once connected, the relay's status byte
 * finds the reset, and what the client sent before it still reaches the
 * server, then the reset. */
TEST(client_reset_while_connecting_bytes_then_reset)
{
	unsigned char sent[1000], got[2000];
	uint16_t port;
	int lfd, filler, cfd, sfd;
	size_t have = 0;
	ssize_t n;
	int64_t t0;

	for (size_t i = 0; i < sizeof sent; i++)
		sent[i] = (unsigned char)(i * 7 + 1);
	relay_start();
	lfd = server_listen(0, 0, &port);
	filler = tcp_connect(port, 0); /* (the accept queue's one place) */
	cfd = relay_open(port, 0);
	usleep(100000); /* (the relay reads the header and connects: SYN_SENT) */
	ASSERT_INT_EQ(write(cfd, sent, sizeof sent), (ssize_t)sizeof sent);
	usleep(50000);
	reset_close(cfd);
	close(accept_within(lfd, 1000)); /* (the filler: the relay's turn) */
	close(filler);
	sfd = accept_within(lfd, 4000);
	t0 = now_ms();
	for (;;) {
		struct pollfd p = { .fd = sfd, .events = POLLIN };
		ASSERT_INT_EQ(poll(&p, 1, 3000), 1);
		n = read(sfd, got + have, sizeof got - have);
		if (n <= 0)
			break;
		have += (size_t)n;
	}
	fprintf(stderr, "  (the server read %zu bytes, then %s, %lld ms after accept)\n",
	    have, n == 0 ? "EOF" : strerror(errno), (long long)(now_ms() - t0));
	ASSERT_INT_EQ(have, sizeof sent);
	ASSERT_MEM_EQ(got, sent, sizeof sent);
	ASSERT_INT_EQ(n, -1);
	ASSERT_INT_EQ(errno, ECONNRESET);
	close(sfd);
	close(lfd);
	relay_stop();
}

/* A client fills the relay's buffers towards a server that neither reads nor
 * writes, then resets: the relay, not reading the client (its buffer full)
 * and with nothing to write to it, watches its socket for errors alone and
 * takes the reset from there; the client's bytes cannot go on, and the
 * server's connection is reset once they have not moved for 2 s. */
TEST(unread_reset_bounded_when_server_idle)
{
	uint16_t port;
	int lfd, cfd, sfd;

	pair_open(4096, 0, &port, &lfd, &cfd, &sfd);
	fill(cfd); /* (the server neither reads nor writes) */
	reset_close(cfd);
	reset_within_bound(sfd, "the server's connection reset after the client's");
	close(sfd);
	close(lfd);
	relay_stop();
}

/* The tx_queue and rx_queue /proc/net/tcp shows for the IPv4 socket from
 * 127.0.0.1:local to 127.0.0.1:remote (this network namespace's); -1 when
 * there is none. */
static int
tcp_queues(uint16_t local, uint16_t remote, long *tx, long *rx)
{
	char line[512];
	unsigned la, lp, ra, rp;
	FILE *f = fopen("/proc/net/tcp", "r");
	int found = -1;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL) {
		if (sscanf(line, " %*u: %8x:%x %8x:%x %*x %lx:%lx", &la, &lp, &ra, &rp,
			tx, rx) == 6 &&
		    lp == local && rp == remote) {
			found = 0;
			break;
		}
	}
	fclose(f);
	return found;
}

static uint16_t
sock_port(int fd, int peer)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof a;

	if ((peer ? getpeername(fd, (struct sockaddr *)&a, &alen)
		  : getsockname(fd, (struct sockaddr *)&a, &alen)) != 0)
		return 0;
	return ntohs(a.sin_port);
}

/* A server writes to a client that does not read until the relay holds some
 * of its bytes itself (its socket to the client full), having read all the
 * server sent (/proc/net/tcp: the relay's socket to the server has nothing
 * unread), then resets: the relay reads the reset while it still holds
 * bytes for the client. The client, which never reads, sees its connection
 * reset once they have not moved for 2 s. */
TEST(read_reset_bounded_when_client_never_reads)
{
	static unsigned char chunk[16384];
	uint16_t port, rport;
	int lfd, cfd, sfd;
	long sent = 0, tx0, rx0, tx1, rx1 = -1;
	int inq;
	int held = 0;
	char *what;

	pair_open(0, 4096, &port, &lfd, &cfd, &sfd);
	rport = sock_port(sfd, 1); /* (the relay's socket to the server) */
	for (int i = 0; i < 1024 && !held; i++) {
		ASSERT_INT_EQ(write(sfd, chunk, sizeof chunk), (ssize_t)sizeof chunk);
		sent += (long)sizeof chunk;
		/* (until the relay has read it all: then whatever its socket to
		 * the client and the client's do not hold, it holds) */
		for (int k = 0; k < 2000; k++) { /* (2 s at most) */
			ASSERT_INT_EQ(tcp_queues(rport, port, &tx1, &rx1), 0);
			if (rx1 == 0)
				break;
			usleep(1000);
		}
		ASSERT_INT_EQ(rx1, 0);
		ASSERT_INT_EQ(tcp_queues(relay_port, sock_port(cfd, 0), &tx0, &rx0), 0);
		ASSERT_INT_EQ(ioctl(cfd, FIONREAD, &inq), 0);
		held = sent - tx0 - inq > 0;
	}
	ASSERT_TRUE(held);
	reset_close(sfd);
	what = xasprintf("%ld bytes sent, the client's connection reset after the "
			 "server's",
	    sent);
	reset_within_bound(cfd, what);
	free(what);
	close(cfd);
	close(lfd);
	relay_stop();
}
