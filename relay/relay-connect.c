/* relay-connect.c - a 'C' connection of rdev-relay: connect to the port in
 * the container on 127.0.0.1, else [::1], and answer whether that worked
 * (docs/PROTOCOL.md, "The container relay"); relay-pipe.c then moves the
 * bytes. */
#include <sys/epoll.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "relay.h"

static void
relay_reply_and_close(struct conn *c, unsigned char code)
{
	(void)send(c->fd[0], &code, 1, MSG_NOSIGNAL);
	relay_conn_close(c, 0);
}

/* Start a nonblocking connect to 127.0.0.1:port (or [::1]:port when v6).
 * Returns 0 connected, 1 in progress, or -1 with errno. */
static int
relay_connect_start(struct conn *c, int v6)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	struct sockaddr *sa;
	socklen_t salen;
	int fd, e;

	if (v6) {
		memset(&sin6, 0, sizeof sin6);
		sin6.sin6_family = AF_INET6;
		sin6.sin6_port = htons(c->port);
		sin6.sin6_addr = in6addr_loopback;
		sa = (struct sockaddr *)&sin6;
		salen = sizeof sin6;
	} else {
		memset(&sin, 0, sizeof sin);
		sin.sin_family = AF_INET;
		sin.sin_port = htons(c->port);
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sa = (struct sockaddr *)&sin;
		salen = sizeof sin;
	}
	fd = socket(
	    v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, sa, salen) == 0) {
		c->fd[1] = fd;
		return 0;
	}
	if (errno == EINPROGRESS) {
		c->fd[1] = fd;
		return 1;
	}
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

/* The reply for a connect that failed on IPv4 with e4 and IPv6 with e6. */
static unsigned char
relay_connect_code(int e4, int e6)
{
	int v6_absent = e6 == EAFNOSUPPORT || e6 == EADDRNOTAVAIL || e6 == ENETUNREACH ||
	    e6 == ECONNREFUSED;

	return e4 == ECONNREFUSED && v6_absent ? REPLY_REFUSED : REPLY_ERROR;
}

/* Try IPv4, then IPv6; either finishes the connection's setup or leaves it
 * CONN_CONNECTING waiting for the socket to become writable. */
void
relay_connect_next(struct conn *c, int err)
{
	int r;

	for (;;) {
		if (c->v6_attempt == 0) {
			r = relay_connect_start(c, 0);
		} else if (c->v6_attempt == 1) {
			c->v4_errno = err;
			r = relay_connect_start(c, 1);
		} else {
			relay_reply_and_close(c, relay_connect_code(c->v4_errno, err));
			return;
		}
		if (r == 0) {
			relay_pipe_start(c);
			return;
		}
		if (r == 1) {
			c->state = CONN_CONNECTING;
			relay_watch(c, 0, 0);
			relay_watch(c, 1, EPOLLOUT);
			return;
		}
		err = errno;
		c->v6_attempt++;
	}
}

void
relay_connect_event(struct conn *c)
{
	int err = 0;
	socklen_t len = sizeof err;

	if (getsockopt(c->fd[1], SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err == 0) {
		relay_pipe_start(c);
		return;
	}
	relay_watch(c, 1, 0);
	close(c->fd[1]);
	c->fd[1] = -1;
	c->v6_attempt++;
	relay_connect_next(c, err);
}

void
relay_connect_expire(struct conn *c)
{
	relay_reply_and_close(c, REPLY_ERROR);
}
