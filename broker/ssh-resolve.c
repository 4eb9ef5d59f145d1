/* ssh-resolve.c - a host name's lookup in a helper thread (ssh-resolve.h). */
#include "ssh-resolve.h"

#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "xmalloc.h"

struct ssh_resolve {
	pthread_mutex_t lock;
	int refs;    /* the caller and the helper: the last one frees */
	int pipe[2]; /* the helper writes a byte when the lookup ended */
	char *host;
	char port[16];
	int done;
	int gai_rc;
	struct addrinfo *ai;
};

static void
ssh_resolve_unref(struct ssh_resolve *r)
{
	int last;

	pthread_mutex_lock(&r->lock);
	last = --r->refs == 0;
	pthread_mutex_unlock(&r->lock);
	if (!last)
		return;
	if (r->ai != NULL)
		freeaddrinfo(r->ai);
	if (r->pipe[0] >= 0) {
		close(r->pipe[0]);
		close(r->pipe[1]);
	}
	pthread_mutex_destroy(&r->lock);
	free(r->host);
	free(r);
}

static void *
ssh_resolve_main(void *arg)
{
	struct ssh_resolve *r = arg;
	struct addrinfo hints, *ai = NULL;
	int rc;

	/* (libssh 0.10's connect.c getai(), for a port other than 0) */
	memset(&hints, 0, sizeof hints);
	hints.ai_protocol = IPPROTO_TCP;
	hints.ai_family = PF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	rc = getaddrinfo(r->host, r->port, &hints, &ai);
	pthread_mutex_lock(&r->lock);
	r->gai_rc = rc;
	r->ai = rc == 0 ? ai : NULL;
	r->done = 1;
	pthread_mutex_unlock(&r->lock);
	if (write(r->pipe[1], "x", 1) < 0) {
		/* (one byte into an empty pipe: cannot fail) */
	}
	ssh_resolve_unref(r);
	return NULL;
}

struct ssh_resolve *
ssh_resolve_start(const char *host, unsigned int port, char **cause)
{
	struct ssh_resolve *r = xcalloc(1, sizeof *r);
	pthread_attr_t attr;
	pthread_t t;
	int rc;

	pthread_mutex_init(&r->lock, NULL);
	r->refs = 2;
	r->host = xstrdup(host);
	snprintf(r->port, sizeof r->port, "%u", port & 0xffffU);
	if (pipe2(r->pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
		error_set_errno(cause, errno, "looking %s up: pipe", host);
		r->pipe[0] = r->pipe[1] = -1;
		goto fail;
	}
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&t, &attr, ssh_resolve_main, r);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		error_set_errno(cause, rc, "looking %s up: a thread", host);
		goto fail;
	}
	return r;

fail:
	/* (no helper: the caller's reference is the only one) */
	r->refs = 1;
	ssh_resolve_unref(r);
	return NULL;
}

int
ssh_resolve_fd(const struct ssh_resolve *r)
{
	return r->pipe[0];
}

int
ssh_resolve_result(struct ssh_resolve *r, int *gai_rc, const struct addrinfo **ai)
{
	int done;

	pthread_mutex_lock(&r->lock);
	done = r->done;
	*gai_rc = r->gai_rc;
	*ai = r->ai;
	pthread_mutex_unlock(&r->lock);
	return done;
}

void
ssh_resolve_free(struct ssh_resolve *r)
{
	if (r != NULL)
		ssh_resolve_unref(r);
}
