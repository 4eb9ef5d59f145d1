/* ssh-proxy-pump.c - a ProxyCommand's stdin and stdout as one socket for
 * libssh (ssh-proxy.h). libssh wants one file descriptor it can read and
 * write; ssh gives a ProxyCommand two pipes. Two threads that only copy
 * bytes keep the SSH loop free of any blocking on the pipes, and the pipes'
 * own back pressure (a slow ssh) reaches libssh as a full socket. */
#include "ssh-proxy.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "atomic-file.h"
#include "error.h"
#include "xmalloc.h"

#define SSH_PROXY_PUMP_CHUNK 65536

struct ssh_proxy_pump {
	int in_fd;
	int out_fd;
	int sock; /* our end of the socketpair */
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

/* stdin -> socket; at the end of stdin, no more writes to the socket. */
static void *
ssh_proxy_pump_in(void *arg)
{
	struct ssh_proxy_pump *pp = arg;

	ssh_proxy_pump_copy(pp->in_fd, pp->sock);
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
	/* The stdin thread may wait in read() for ever (ssh keeps its end of
	 * the pipe open until we exit): read() is a cancellation point. */
	pthread_cancel(pp->in_thread);
	pthread_join(pp->in_thread, NULL);
	/* The other end is closed: the stdout thread ends once it has passed
	 * on what libssh wrote last. */
	pthread_join(pp->out_thread, NULL);
	close(pp->sock);
	free(pp);
}
