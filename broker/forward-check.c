/* forward-check.c - the checks of a forward's target (forward.h): when a
 * "forward" request wants one, what the end of a relay request means for
 * the connections waiting for it (sent once more, the target kept, or the
 * forward's error), and how that is told, alike for an SSH host
 * (host-forward.c) and the local one (local-forward.c). Nothing here owns
 * a forward: each function works on the caller's. */
#include "forward.h"

#include <stdlib.h>

#include "log.h"
#include "xmalloc.h"

int
forward_check_wanted(struct forward *fw, int in_flight)
{
	fw->checked_ms = 0; /* whatever its age */
	fw->request_send = 1;
	if (in_flight)
		fw->check_again = 1;
	return !in_flight;
}

enum forward_answer
forward_check_take(struct forward *fw, const cJSON *res, const char *error,
    enum forward_failure how, long long now, char **warning)
{
	int rc, sends = fw->request_send;
	/* (a failure at the call's deadline is not sent again: the retry
	 * would wait as long, `up` twice 60 s before its warning) */
	int fast = fw->asked_ms == 0 || now - fw->asked_ms < FORWARD_RETRY_FAST_MS;

	forward_answered(fw, now, error == NULL);
	if (fw->check_again) {
		/* asked before a "forward" request (before a recreate, maybe):
		 * neither its target nor its error is the request's */
		fw->check_again = 0;
		fw->checked_ms = 0;
		return FORWARD_ANSWER_AGAIN;
	}
	if (error != NULL && how == FORWARD_FAILED_ON_THE_WAY && fast && sends > 0 &&
	    sends < FORWARD_REQUEST_SENDS) {
		/* a request's check: a failure on the way (an agent that could
		 * not start, a refused channel) may be passing */
		fw->request_send++;
		return FORWARD_ANSWER_RETRY;
	}
	fw->request_send = 0;
	if (error != NULL && how != FORWARD_FAILED_REFUSED && fw->have_target) {
		if (sends == 0)
			return FORWARD_ANSWER_CACHED;
		if (warning != NULL)
			*warning = forward_check_warning(fw, error, sends);
		return FORWARD_ANSWER_UNCHECKED;
	}
	if (error != NULL)
		return FORWARD_ANSWER_FAILED;
	rc = forward_take_target(fw, res);
	if (rc == FORWARD_TARGET_DROPPED)
		fw->request_send = sends; /* (the full answer is the request's) */
	return rc == FORWARD_TARGET_DROPPED ? FORWARD_ANSWER_AGAIN
	    : rc == 0			    ? FORWARD_ANSWER_TARGET
					    : FORWARD_ANSWER_FAILED;
}

/* What the warnings call fw (a new string): its listener, or for a
 * connect's forward the container port. */
static char *
forward_check_what(const struct forward *fw)
{
	return fw->fd4 >= 0 || fw->fd6 >= 0
	    ? xasprintf("forward localhost:%d -> %s%s%d", fw->local_port,
		  fw->service != NULL ? fw->service : "container port ",
		  fw->service != NULL ? ":" : "", fw->port)
	    : xasprintf("connections to container port %d (ssh-proxy)", fw->port);
}

char *
forward_check_warning(const struct forward *fw, const char *error, int sends)
{
	char *what = forward_check_what(fw);
	char *text = xasprintf("%s: the target was not checked (%s%s): its "
			       "connections go to %s, the container's address "
			       "before; if that container was replaced they may "
			       "reach another one, until a check succeeds",
	    what, error, sends > 1 ? ", twice" : "", fw->address);

	free(what);
	return text;
}

/* The port a forward is known by in the log: its local port, or for a
 * connect's forward (no listener, local port 0) the container's. */
static int
forward_check_port(const struct forward *fw)
{
	return fw->local_port != 0 ? fw->local_port : fw->port;
}

enum forward_answer
forward_check_end(struct forward *fw, struct forward_parked_list *parked,
    const char *label, const cJSON *res, const char *error, enum forward_failure how,
    long long now)
{
	char *warning = NULL;
	enum forward_answer a = forward_check_take(fw, res, error, how, now, &warning);

	switch (a) {
	case FORWARD_ANSWER_RETRY:
		log_info("%s: forward %d: the target's check failed (%s): asking "
			 "again",
		    label, forward_check_port(fw), error);
		break;
	case FORWARD_ANSWER_CACHED:
		log_info("%s: forward %d: the target's check failed (%s): the "
			 "connections go to %s",
		    label, forward_check_port(fw), error, fw->address);
		break;
	case FORWARD_ANSWER_UNCHECKED:
		log_warn("%s: %s", label, warning);
		forward_parked_warning(parked, fw, warning);
		free(warning);
		break;
	case FORWARD_ANSWER_TARGET:
	case FORWARD_ANSWER_FAILED:
	case FORWARD_ANSWER_AGAIN: break;
	}
	return a;
}

enum forward_error_from
forward_check_source(const struct forward *fw)
{
	/* (a request's check asked before the request: check_again, its
	 * answer is asked again, and leaves no error) */
	return fw->request_send > 0 ? FORWARD_ERROR_CHECK : FORWARD_ERROR_CONNECTION;
}

int
forward_check_links_wait(const struct forward *fw, enum forward_answer a)
{
	return a == FORWARD_ANSWER_AGAIN ||
	    (a == FORWARD_ANSWER_RETRY && !fw->have_target);
}

void
forward_check_log_late(const struct forward *fw, const char *label)
{
	log_info("%s: forward %d: the agent has not confirmed the target in "
		 "%lld ms: the connection goes to %s",
	    label, forward_check_port(fw), forward_check_bound(fw), fw->address);
}

char *
forward_check_skipped(struct forward *fw, const char *error)
{
	char *what, *text;

	fw->checked_ms = 0; /* the first connection asks, whatever the age */
	fw->request_send = 0;
	if (fw->asked_ms != 0)
		fw->check_again = 1; /* (asked before the request) */
	if (fw->have_target)
		return forward_check_warning(fw, error, 1);
	what = forward_check_what(fw);
	text = xasprintf("%s: the target was not checked (%s): the first "
			 "connection looks it up",
	    what, error);
	free(what);
	return text;
}
