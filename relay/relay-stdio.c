/* relay-stdio.c - `rdev-relay --connect PORT [HOST]`: one forwarded connection
 * carried over the relay's own stdin and stdout, for when the broker cannot
 * reach the container's address (Docker Desktop) and runs the relay as a
 * Docker exec attached to stdin and stdout instead (docs/PROTOCOL.md, "The
 * container relay", --connect).
 *
 * Connect to 127.0.0.1:PORT, else [::1]:PORT (or with HOST, `--connect PORT
 * HOST`, to each address the container resolves HOST to), and write one status byte on
 * stdout as a 'C' connection answers (0 connected, 1 refused, 2 another
 * error; after 1 or 2, a message on stderr and exit 1). Then copy stdin to
 * the socket raw, and the socket to stdout in chunks: a u32 big-endian length
 * and that many bytes, a length of 0 saying the server ended its sending.
 * The chunks are there because a Docker exec's output ends only when its
 * process exits, not when the process closes stdout: without them a server's
 * half close could not reach the client while the client still sends. The
 * end of stdin becomes shutdown(SHUT_WR) on the socket; the relay exits 0
 * once both directions have ended, 1 on a reset or error.
 *
 * A plain poll() loop, one connection per process; at most RELAY_BUF held
 * per direction (a side is not read while the other does not take its
 * bytes).
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <netdb.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "relay.h"

#define RELAY_STDIO_CONNECT_TIMEOUT_S 10
#define RELAY_STDIO_CHUNK_HDR 4

/* One direction: bytes read from `from` wait in buf for `to`. */
struct relay_stdio_dir {
	int from, to;
	unsigned char buf[RELAY_BUF + RELAY_STDIO_CHUNK_HDR];
	size_t off, len;
	int eof;  /* read the end of `from` */
	int done; /* and passed it on */
};

static void
relay_stdio_fail(const char *what, int port, int err)
{
	fprintf(stderr, "rdev-relay: %s port %d: %s\n", what, port, strerror(err));
	exit(1);
}

static void
relay_stdio_on_alarm(int sig)
{
	(void)sig; /* connect() returns EINTR */
}

/* A blocking connect to the loopback address (v6: ::1) at port, bounded by
 * an alarm. The socket, or -1 with errno. */
static int
relay_stdio_dial(int v6, int port)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	int fd, e, r;

	fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	memset(&sin, 0, sizeof sin);
	memset(&sin6, 0, sizeof sin6);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons((uint16_t)port);
	sin6.sin6_addr = in6addr_loopback;
	alarm(RELAY_STDIO_CONNECT_TIMEOUT_S);
	r = v6 ? connect(fd, (struct sockaddr *)&sin6, sizeof sin6)
	       : connect(fd, (struct sockaddr *)&sin, sizeof sin);
	e = errno;
	alarm(0);
	if (r == 0)
		return fd;
	close(fd);
	errno = e == EINTR ? ETIMEDOUT : e;
	return -1;
}

/* Read what dir's source has, as far as there is room: raw from stdin, a
 * chunk from the socket. 0, or -1 on an error. */
static int
relay_stdio_read(struct relay_stdio_dir *d, int chunked)
{
	size_t hdr = chunked ? RELAY_STDIO_CHUNK_HDR : 0;
	ssize_t n;

	n = read(d->from, d->buf + hdr, RELAY_BUF);
	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 0 : -1;
	if (n == 0)
		d->eof = 1;
	if (n == 0 && !chunked)
		return 0;
	if (chunked) { /* an empty chunk is the end */
		d->buf[0] = (unsigned char)((uint32_t)n >> 24);
		d->buf[1] = (unsigned char)((uint32_t)n >> 16);
		d->buf[2] = (unsigned char)((uint32_t)n >> 8);
		d->buf[3] = (unsigned char)n;
	}
	d->off = 0;
	d->len = hdr + (size_t)n;
	return 0;
}

/* Write what dir holds; once empty after its source's end, pass the end on
 * (the socket's write side shut; the end chunk is already in the data). 0,
 * or -1 on an error. */
static int
relay_stdio_write(struct relay_stdio_dir *d, int to_socket)
{
	ssize_t n;

	while (d->len > 0) {
		n = write(d->to, d->buf + d->off, d->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n < 0)
			return -1;
		d->off += (size_t)n;
		d->len -= (size_t)n;
	}
	if (d->eof && !d->done) {
		if (to_socket)
			shutdown(d->to, SHUT_WR);
		else
			close(d->to); /* stdout: nothing more comes */
		d->done = 1;
	}
	return 0;
}

/* A blocking connect to host (a name the container resolves: a Compose
 * service, another container, a host) at port, each of its addresses in
 * turn, bounded by an alarm. The socket, or -1 with errno. */
static int
relay_stdio_dial_host(const char *host, const char *port)
{
	struct addrinfo hints, *res, *ai;
	int fd = -1, e = EHOSTUNREACH, r;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((r = getaddrinfo(host, port, &hints, &res)) != 0) {
		fprintf(stderr, "rdev-relay: %s: %s\n", host, gai_strerror(r));
		errno = EHOSTUNREACH;
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
			e = errno;
			continue;
		}
		alarm(RELAY_STDIO_CONNECT_TIMEOUT_S);
		r = connect(fd, ai->ai_addr, ai->ai_addrlen);
		e = errno == EINTR ? ETIMEDOUT : errno;
		alarm(0);
		if (r == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		errno = e;
	return fd;
}

/* --connect PORT [HOST]: never returns. */
void
relay_stdio_main(const char *port_arg, const char *host)
{
	static struct relay_stdio_dir up, down; /* stdin -> socket, socket -> stdout */
	struct pollfd pfd[4];
	unsigned char status;
	char *end;
	long port = strtol(port_arg, &end, 10);
	int fd, e4;

	if (*port_arg == '\0' || *end != '\0' || port < 1 || port > 65535) {
		fprintf(stderr, "rdev-relay: --connect: bad port '%s'\n", port_arg);
		exit(2);
	}
	struct sigaction sa;

	/* A handler without SA_RESTART: the alarm must interrupt connect(). */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = relay_stdio_on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	if (host != NULL && (fd = relay_stdio_dial_host(host, port_arg)) < 0) {
		status = errno == ECONNREFUSED ? REPLY_REFUSED : REPLY_ERROR;
		(void)!write(1, &status, 1);
		fprintf(stderr, "rdev-relay: cannot connect to %s port %ld: %s\n", host,
		    port, strerror(errno));
		exit(1);
	}
	if (host == NULL && (fd = relay_stdio_dial(0, (int)port)) < 0) {
		e4 = errno;
		fd = relay_stdio_dial(1, (int)port);
		if (fd < 0) {
			status = e4 == ECONNREFUSED &&
				(errno == ECONNREFUSED || errno == EADDRNOTAVAIL ||
				    errno == EAFNOSUPPORT || errno == ENETUNREACH)
			    ? REPLY_REFUSED
			    : REPLY_ERROR;
			(void)write(1, &status, 1);
			relay_stdio_fail("cannot connect to", (int)port, e4);
		}
	}
	status = REPLY_CONNECTED;
	if (write(1, &status, 1) != 1)
		exit(1);
	relay_set_nodelay(fd);
	/* Read only what is there (poll says which), write what is taken. */
	for (int i = 0; i < 3; i++) {
		int f = i == 2 ? fd : i;
		fcntl(f, F_SETFL, fcntl(f, F_GETFL) | O_NONBLOCK);
	}
	up.from = 0, up.to = fd;
	down.from = fd, down.to = 1;
	while (!up.done || !down.done) {
		struct relay_stdio_dir *dirs[2] = { &up, &down };
		int n = 0;

		for (int i = 0; i < 2; i++) {
			struct relay_stdio_dir *d = dirs[i];
			if (!d->eof && d->len == 0)
				pfd[n++] = (struct pollfd){ d->from, POLLIN, 0 };
			if (d->len > 0)
				pfd[n++] = (struct pollfd){ d->to, POLLOUT, 0 };
		}
		if (poll(pfd, (nfds_t)n, -1) < 0 && errno != EINTR)
			relay_stdio_fail("poll, connection to", (int)port, errno);
		for (int i = 0; i < 2; i++) {
			struct relay_stdio_dir *d = dirs[i];
			if (!d->eof && d->len == 0 && relay_stdio_read(d, i == 1) != 0)
				relay_stdio_fail("read, connection to", (int)port, errno);
			if (relay_stdio_write(d, i == 0) != 0)
				relay_stdio_fail(
				    "write, connection to", (int)port, errno);
		}
	}
	exit(0);
}
