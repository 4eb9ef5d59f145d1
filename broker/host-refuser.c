/* host-refuser.c - while a host session's thread waits in a connect, a
 * helper thread (on its own libevent base) closes what connects to the
 * forwards' listeners, so clients see a closed connection at once, not a
 * hang (host-internal.h). */
#include "host-internal.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "xmalloc.h"

static void
host_refuser_on_stop(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	event_base_loopbreak(arg);
}

static void
host_refuser_on_listener(evutil_socket_t lfd, short what, void *arg)
{
	int fd;

	(void)what;
	(void)arg;
	while ((fd = accept4((int)lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0)
		close(fd);
}

static void *
host_refuser_main(void *arg)
{
	struct host_refuser *r = arg;

	event_base_dispatch(r->base);
	return NULL;
}

static void
host_refuser_free(struct host_refuser *r)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->evs[i] != NULL)
			event_free(r->evs[i]);
	free(r->evs);
	event_base_free(r->base);
	close(r->stop[0]);
	close(r->stop[1]);
}

/* Start refusing for h's forwards; 0, or -1 when there is nothing to do (or
 * no thread could be had: connections then wait, as before). */
int
host_refuser_start(struct host_session *h, struct host_refuser *r)
{
	struct host_forward *f;
	size_t i = 1;

	r->running = 0;
	r->n = 1;
	LIST_FOREACH(f, &h->forwards, entry)
		r->n += (f->fw.fd4 >= 0) + (f->fw.fd6 >= 0);
	if (r->n == 1 || pipe2(r->stop, O_CLOEXEC) != 0)
		return -1;
	if ((r->base = event_base_new()) == NULL) {
		close(r->stop[0]);
		close(r->stop[1]);
		return -1;
	}
	r->evs = xcalloc(r->n, sizeof *r->evs);
	r->evs[0] =
	    event_new(r->base, r->stop[0], EV_READ, host_refuser_on_stop, r->base);
	LIST_FOREACH(f, &h->forwards, entry) {
		if (f->fw.fd4 >= 0)
			r->evs[i++] = event_new(r->base, f->fw.fd4, EV_READ | EV_PERSIST,
			    host_refuser_on_listener, NULL);
		if (f->fw.fd6 >= 0)
			r->evs[i++] = event_new(r->base, f->fw.fd6, EV_READ | EV_PERSIST,
			    host_refuser_on_listener, NULL);
	}
	for (i = 0; i < r->n; i++) {
		if (r->evs[i] == NULL || event_add(r->evs[i], NULL) != 0) {
			host_refuser_free(r);
			return -1;
		}
	}
	if (pthread_create(&r->thread, NULL, host_refuser_main, r) != 0) {
		host_refuser_free(r);
		return -1;
	}
	r->running = 1;
	return 0;
}

void
host_refuser_stop(struct host_refuser *r)
{
	if (!r->running)
		return;
	r->running = 0;
	if (write(r->stop[1], "x", 1) < 0) {
		/* cannot happen on an empty pipe */
	}
	pthread_join(r->thread, NULL);
	host_refuser_free(r);
}
