/* relay-install-connect.c - talking to the rdev-relay in a container:
 * connect and send the header with the token, ask for its listing ('L')
 * (relay-install.h; the wire protocol: docs/PROTOCOL.md, "The container
 * relay"). */
#include "relay-install.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "buf.h"
#include "clock.h"
#include "error.h"
#include "fd-wait.h"
#include "relay-listing.h"

#define RELAY_MAGIC "RDEVRLY1"
#define RELAY_LISTING_MAX (1024 * 1024)

int
relay_install_connect(const char *address, int port, const char *token, char command,
    int64_t deadline, int *fdp, char **cause)
{
	struct sockaddr_storage ss;
	socklen_t salen;
	unsigned char hdr[8 + 32 + 1];
	int fd = -1, err = 0, rc = -1;
	socklen_t elen = sizeof err;
	ssize_t n;
	size_t off = 0;

	*fdp = -1;
	memset(&ss, 0, sizeof ss);
	if (inet_pton(AF_INET, address, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		((struct sockaddr_in *)&ss)->sin_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);
		salen = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, address,
		       &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)port);
		salen = sizeof(struct sockaddr_in6);
	} else
		return error_set(cause, "relay: bad address %s", address);
	memcpy(hdr, RELAY_MAGIC, 8);
	if (strlen(token) != RELAY_INSTALL_TOKEN_HEX ||
	    sodium_hex2bin(
		hdr + 8, 32, token, RELAY_INSTALL_TOKEN_HEX, NULL, NULL, NULL) != 0)
		return error_set(cause, "relay: bad token");
	hdr[40] = (unsigned char)command;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		error_set_errno(cause, errno, "relay: socket");
		goto out;
	}
	if (connect(fd, (struct sockaddr *)&ss, salen) < 0) {
		if (errno != EINPROGRESS) {
			error_set_errno(cause, errno, "relay at %s:%d", address, port);
			goto out;
		}
		if (fd_wait(fd, POLLOUT, deadline) != 0) {
			error_set(
			    cause, "relay at %s:%d: connect timed out", address, port);
			goto out;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0 || err != 0) {
			error_set_errno(cause, err, "relay at %s:%d", address, port);
			goto out;
		}
	}
	while (off < sizeof hdr) {
		n = send(fd, hdr + off, sizeof hdr - off, MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (fd_wait(fd, POLLOUT, deadline) != 0)
				break;
			continue;
		}
		if (n < 0) {
			error_set_errno(cause, errno, "relay at %s:%d", address, port);
			goto out;
		}
		off += (size_t)n;
	}
	if (off < sizeof hdr) {
		error_set(cause, "relay at %s:%d: timed out", address, port);
		goto out;
	}
	*fdp = fd;
	fd = -1;
	rc = 0;
out:
	sodium_memzero(hdr, sizeof hdr);
	if (fd >= 0)
		close(fd);
	return rc;
}

int
relay_install_probe(const char *address, int port, const char *token, int timeout_ms,
    char **listing, char **cause)
{
	int64_t deadline = clock_now_ms() + timeout_ms;
	struct buf *b = NULL;
	int fd = -1, rc = -1;
	ssize_t n;

	if (listing != NULL)
		*listing = NULL;
	if (relay_install_connect(address, port, token, 'L', deadline, &fd, cause) != 0)
		return -1;
	b = buf_new();
	for (;;) {
		unsigned char *p = buf_reserve(b, 4096);
		n = recv(fd, p, 4096, 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (fd_wait(fd, POLLIN, deadline) != 0) {
				error_set(
				    cause, "relay at %s:%d: no answer", address, port);
				goto out;
			}
			continue;
		}
		if (n < 0) {
			/* A wrong token is answered by a close; a reset means the
			 * same. */
			error_set_errno(cause, errno, "relay at %s:%d", address, port);
			goto out;
		}
		if (n == 0)
			break;
		buf_commit(b, (size_t)n);
		if (buf_len(b) > RELAY_LISTING_MAX) {
			error_set(
			    cause, "relay at %s:%d: listing too long", address, port);
			goto out;
		}
	}
	/* Every answer ends with a newline, except the empty listing: an
	 * empty answer cannot be told from a refused token, so accept it (a
	 * container with no listening port); the connection was accepted and
	 * closed in order either way. Anything else that is no listing is
	 * another program's answer: the relay died and its port was taken. */
	if (!relay_listing_ok((const char *)buf_data(b), buf_len(b))) {
		error_set(cause,
		    "relay at %s:%d: the answer is not a listing (another program "
		    "has that port)",
		    address, port);
		goto out;
	}
	if (listing != NULL)
		*listing = buf_take_string(b, NULL);
	rc = 0;
out:
	buf_free(b);
	if (fd >= 0)
		close(fd);
	return rc;
}
