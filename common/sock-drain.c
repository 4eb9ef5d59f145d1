/* sock-drain.c - a reset once a socket has sent what it holds
 * (sock-drain.h). */
#include "sock-drain.h"

#include <sys/ioctl.h>
#include <sys/socket.h>

size_t
sock_drain_unsent(int fd)
{
	int n = 0;

	/* (TIOCOUTQ is SIOCOUTQ, tcp(7): musl has no linux/sockios.h) */
	if (fd < 0 || ioctl(fd, TIOCOUTQ, &n) != 0 || n <= 0)
		return 0;
	return (size_t)n;
}

size_t
sock_drain_unread(int fd)
{
	int n = 0;

	/* (FIONREAD is SIOCINQ, tcp(7)) */
	if (fd < 0 || ioctl(fd, FIONREAD, &n) != 0 || n <= 0)
		return 0;
	return (size_t)n;
}

enum sock_drain_result
sock_drain_step(struct sock_drain *d, int fd, size_t held, long long now)
{
	size_t left = held + sock_drain_unsent(fd);

	if (left == 0)
		return SOCK_DRAIN_DONE;
	if (d->last_left == 0 || left < d->last_left) {
		d->last_left = left;
		d->deadline = now + SOCK_DRAIN_STALL_MS;
	}
	return now < d->deadline ? SOCK_DRAIN_WAIT : SOCK_DRAIN_STALLED;
}

int
sock_drain_reset_at_close(int fd)
{
	struct linger lg = { 1, 0 };

	return setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
}
