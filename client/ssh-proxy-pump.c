/* ssh-proxy-pump.c - a ProxyCommand's stdin and stdout as one socket for
 * libssh (ssh-proxy.h). libssh wants one file descriptor it can read and
 * write; ssh gives a ProxyCommand two pipes. Two threads that only copy
 * bytes keep the SSH loop free of any blocking on the pipes, and the pipes'
 * own back pressure (a slow ssh) reaches libssh as a full socket. */
#include "ssh-proxy.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "atomic-file.h"
#include "error.h"
#include "xmalloc.h"

#define SSH_PROXY_PUMP_CHUNK 65536

struct ssh_proxy_pump {
	int in_fd;
	int out_fd;
	int sock;    /* our end of the socketpair */
	int stop[2]; /* a pipe: written when the stdin thread is to end */
	pthread_t in_thread;
	pthread_t out_thread;
};

/* Copy from to to until from ends or either fails. */
static void
ssh_proxy_pump_copy(int from, int to)
{
	char buf[SSH_PROXY_PUMP_CHUNK];
	ssize_t n;

	for (;;) {
		n = read(from, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || fd_write_all(to, buf, (size_t)n) != 0)
			return;
	}
}

/* stdin -> socket; at the end of stdin, no more writes to the socket.
 * Ends early when stop is written (ssh keeps its end of stdin open until
 * we exit, so a read could wait for ever; a cancelled read left ASan's
 * poisoning of the copy's stack buffer behind). */
static void *
ssh_proxy_pump_in(void *arg)
{
	struct ssh_proxy_pump *pp = arg;
	char buf[SSH_PROXY_PUMP_CHUNK];
	struct pollfd pfd[2] = { { pp->in_fd, POLLIN, 0 }, { pp->stop[0], POLLIN, 0 } };
	ssize_t n;

	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[1].revents != 0)
			return NULL;
		n = read(pp->in_fd, buf, sizeof buf);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0 || fd_write_all(pp->sock, buf, (size_t)n) != 0)
			break;
	}
	shutdown(pp->sock, SHUT_WR);
	return NULL;
}

/* socket -> stdout; when libssh closes its end, ssh sees stdout close. */
static void *
ssh_proxy_pump_out(void *arg)
{
	struct ssh_proxy_pump *pp = arg;

	ssh_proxy_pump_copy(pp->sock, pp->out_fd);
	close(pp->out_fd);
	shutdown(pp->sock, SHUT_RD);
	return NULL;
}

struct ssh_proxy_pump *
ssh_proxy_pump_start(int in_fd, int out_fd, int *fd, char **cause)
{
	struct ssh_proxy_pump *pp;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		error_set_errno(cause, errno, "socketpair");
		return NULL;
	}
	pp = xcalloc(1, sizeof *pp);
	if (pipe2(pp->stop, O_CLOEXEC) != 0) {
		error_set_errno(cause, errno, "pipe");
		close(sv[0]);
		close(sv[1]);
		free(pp);
		return NULL;
	}
	pp->in_fd = in_fd;
	pp->out_fd = out_fd;
	pp->sock = sv[1];
	if (pthread_create(&pp->in_thread, NULL, ssh_proxy_pump_in, pp) != 0)
		fatal("pthread_create");
	if (pthread_create(&pp->out_thread, NULL, ssh_proxy_pump_out, pp) != 0)
		fatal("pthread_create");
	*fd = sv[0];
	return pp;
}

void
ssh_proxy_pump_free(struct ssh_proxy_pump *pp)
{
	if (pp == NULL)
		return;
	/* The stdin thread may wait for stdin for ever (ssh keeps its end of
	 * the pipe open until we exit): told to end through the stop pipe. */
	if (write(pp->stop[1], "x", 1) != 1)
		fatal("ssh-proxy: cannot stop the stdin thread");
	pthread_join(pp->in_thread, NULL);
	close(pp->stop[0]);
	close(pp->stop[1]);
	/* The other end is closed: the stdout thread ends once it has passed
	 * on what libssh wrote last. */
	pthread_join(pp->out_thread, NULL);
	close(pp->sock);
	free(pp);
}
