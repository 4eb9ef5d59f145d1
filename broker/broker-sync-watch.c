/* broker-sync-watch.c - the loop's side of a live sync's watch: inotify's
 * events read as they come (broker-sync-internal.h). */
#include "broker-sync-internal.h"

#include <stdlib.h>

#include "clock.h"
#include "log.h"

/* Stop watching (an error, stopped, or the folder away: its batch then
 * sets up a new watch once the folder is back, watch_renew). The timer is
 * stopped too; watch_ev is kept (freed with s, or by
 * broker_sync_watch_resume when renewed: this may run in its own
 * callback). */
void
broker_sync_unwatch(struct broker_sync *s)
{
	if (s->watch_ev != NULL)
		event_del(s->watch_ev);
	evtimer_del(s->timer_ev);
	sync_watch_free(s->w);
	s->w = NULL;
}

static void
broker_sync_on_watch(evutil_socket_t fd, short what, void *arg)
{
	struct broker_sync *s = arg;
	char *cause = NULL;
	long long now;
	int n;

	if ((n = sync_watch_read(s->w, &cause)) < 0) {
		if (s->working) { /* (the batch's outcome is taken first) */
			event_del(s->watch_ev);
			free(s->watch_error);
			s->watch_error = cause;
			s->watch_gone = n == -2;
		} else {
			broker_sync_lost(s, cause, n == -2);
			free(cause);
		}
		return;
	}
	if (n == 0)
		return;
	now = clock_now_ms();
	if (s->first == 0)
		s->first = now;
	s->last = now;
	if (s->state == BROKER_SYNC_WATCHING)
		broker_sync_kick(s);
}

/* Listen to s's watch (after a batch that set it up). */
void
broker_sync_watch_resume(struct broker_sync *s)
{
	if (s->watch_renew && s->watch_ev != NULL) {
		/* (of the watch freed when the folder went: the new one's
		 * descriptor may differ) */
		event_free(s->watch_ev);
		s->watch_ev = NULL;
	}
	s->watch_renew = 0;
	if (s->watch_ev == NULL) {
		s->watch_ev = event_new(s->ss->base, sync_watch_fd(s->w),
		    EV_READ | EV_PERSIST, broker_sync_on_watch, s);
		log_info("sync %s -> %s (%s): watching %zu folders", s->path, s->label,
		    s->name, sync_watch_count(s->w));
	}
	event_add(s->watch_ev, NULL);
}
