/* forward-listen.c - the local listeners of port forwards (forward.h). */
#include "forward.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "error.h"
#include "xmalloc.h"

#define FORWARD_SEARCH 100 /* ports tried after a busy one */
/* A privileged port we may not bind (not root, below
 * net.ipv4.ip_unprivileged_port_start): the search goes on from it plus
 * this (80 -> 10080), as the same digits are easy to recognise. */
#define FORWARD_PRIVILEGED_SHIFT 10000

/* Bind one listener; -1 with errno. */
static int
forward_bind(int family, int port)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	int fd, one = 1, rc;

	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (family == AF_INET) {
		memset(&sin, 0, sizeof sin);
		sin.sin_family = AF_INET;
		sin.sin_port = htons((uint16_t)port);
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		rc = bind(fd, (struct sockaddr *)&sin, sizeof sin);
	} else {
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
		memset(&sin6, 0, sizeof sin6);
		sin6.sin6_family = AF_INET6;
		sin6.sin6_port = htons((uint16_t)port);
		sin6.sin6_addr = in6addr_loopback;
		rc = bind(fd, (struct sockaddr *)&sin6, sizeof sin6);
	}
	if (rc != 0 || listen(fd, 1024) != 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int
forward_listen(int port, int exact, int *fd4, int *fd6, int *bound, char **cause)
{
	int p, tries = exact ? 1 : FORWARD_SEARCH, e = 0;

	for (p = port; p <= 65535 && tries-- > 0; p++) {
		if ((*fd4 = forward_bind(AF_INET, p)) < 0) {
			e = errno;
			if (e == EACCES && !exact && p < 1024) {
				p += FORWARD_PRIVILEGED_SHIFT - 1;
				tries = FORWARD_SEARCH;
			}
			continue;
		}
		*fd6 = forward_bind(AF_INET6, p);
		if (*fd6 < 0 && errno == EADDRINUSE) {
			/* ::1 taken by someone else: not this port either. */
			e = errno;
			close(*fd4);
			continue;
		}
		*bound = p;
		return 0;
	}
	if (exact)
		return error_set(cause,
		    "127.0.0.1:%d is not free (%s); this forward "
		    "wants that port only (requireLocalPort, a local port given, or "
		    "restored)",
		    port, strerror(e));
	return error_set(cause, "no free local port in %d-%d (%s)",
	    p - 1 - port >= FORWARD_SEARCH ? p - FORWARD_SEARCH : port, p - 1,
	    strerror(e));
}
