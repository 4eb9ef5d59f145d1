/* host-forward.c - a host session's port forwards: local listeners, where
 * their connections go (straight to the container or through its relay),
 * and the "forward" and "unforward" requests (host-internal.h). */
#include "host-internal.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sodium.h>

#include "buf.h"
#include "clock.h"
#include "forward.h"
#include "log.h"
#include "sock-drain.h"
#include "xmalloc.h"

static int host_forward_open_target(
    struct host_session *h, struct host_link *l, int direct);
static int host_forward_open_start(
    struct host_session *h, struct host_link *l, int direct);
static int host_open_nowait(struct host_session *h, struct host_link *l);
static int host_forward_exec_due(const struct host_forward *f);

/* What the way a relay call ended means for its check (forward_check_take):
 * one that failed as the session ends, or with its connection gone, would
 * fail the same if sent again. */
static enum forward_failure
host_forward_failure(enum host_call_end how)
{
	switch (how) {
	case HOST_CALL_REFUSED:
	case HOST_CALL_NO_WORKSPACE:
	case HOST_CALL_NOT_RUNNING: return FORWARD_FAILED_REFUSED;
	case HOST_CALL_ENDING:
	case HOST_CALL_GONE: return FORWARD_FAILED_ENDING;
	case HOST_CALL_ANSWERED: return FORWARD_FAILED_NONE;
	case HOST_CALL_TIMED_OUT:
	case HOST_CALL_FAILED: break;
	}
	return FORWARD_FAILED_ON_THE_WAY;
}

/* Tell the requests waiting for f that its container is stopped (cause:
 * the agent's words): a warning, the forward stays. */
static void
host_forward_stopped_warning(
    struct host_session *h, struct host_forward *f, const char *cause)
{
	char *w = forward_stopped_warning(&f->fw, cause);

	forward_parked_warning(&h->parked, &f->fw, w);
	free(w);
}

/* f's check is in (a, and cause when it failed), for its links in one
 * pass: those that waited for it (resolving) open to the target, and those
 * whose open went beside it (held, or probing: their open not answered)
 * go on if the target they went to holds, or open again to the new one; a
 * failure closes them all. */
static void
host_forward_links_answered(struct host_session *h, struct host_forward *f,
    enum forward_answer a, const char *cause)
{
	struct host_link *l;

	LIST_FOREACH(l, &h->links, entry) {
		if (l->fwd != f || forward_check_links_wait(&f->fw, a))
			continue;
		if (l->state == HOST_LINK_RESOLVING) {
			/* (killed: the client sees its connection closed) */
			if (cause != NULL) {
				host_connect_answer(l, NULL, cause);
				host_link_kill(l);
			} else if (host_forward_open_target(
				       h, l, forward_direct_due(&f->fw)) != 0)
				host_link_kill(l);
			continue;
		}
		if (l->state != HOST_LINK_OPENING ||
		    (l->hold != HOST_LINK_HOLD_WAIT && !l->probing))
			continue;
		if (cause != NULL) {
			host_connect_answer(l, NULL, cause);
			host_link_kill(l);
			continue;
		}
		l->probing = 0;
		l->hold = HOST_LINK_HOLD_NONE;
		h->kicked = 1; /* host_forward_open_progress goes on */
		if (f->fw.have_target && l->open_target_seq == f->fw.target_seq &&
		    (l->open_via == HOST_LINK_VIA_EXEC) == host_forward_exec_due(f))
			continue;
		/* Another target, or the host found not to reach it (then the
		 * open goes through an exec): whatever came from the old one
		 * is dropped, and an open still in flight there is not waited
		 * for (an address nobody has any more, or one this host drops
		 * packets to, answers only at the connect's timeout). */
		log_debug("%s: link %u: its target or way changed while it opened: "
			  "opening again",
		    h->label, l->id);
		if (l->ch != NULL && host_open_nowait(h, l) == SSH_AGAIN)
			host_link_orphan_open(l);
		host_link_replace_channel(l);
		if (host_forward_open_start(h, l, forward_direct_due(&f->fw)) != 0)
			host_link_set_state(l, HOST_LINK_DEAD);
	}
}

/* Does f have a container whose connections may go through an "exec"
 * stream (not a Compose service's: no relay there; not a connect's)? */
static int
host_forward_exec_possible(const struct host_forward *f)
{
	return f->fw.service == NULL && f->fw.container_id != NULL && !f->connect;
}

/* Send f's connections through "exec" streams from now on, the host not
 * reaching the container's address (why). 1, or 0 when f cannot. */
static int
host_forward_exec_start(struct host_session *h, struct host_forward *f, const char *why)
{
	if (!host_forward_exec_possible(f))
		return 0;
	if (f->exec_cid != NULL && strcmp(f->exec_cid, f->fw.container_id) == 0)
		return 1;
	free(f->exec_cid);
	f->exec_cid = xstrdup(f->fw.container_id);
	log_warn("%s: forward %d: the host cannot reach the container %.12s (%s): "
		 "its connections go through a Docker exec",
	    h->label, f->fw.local_port != 0 ? f->fw.local_port : f->fw.port, f->exec_cid,
	    why);
	return 1;
}

/* Do f's connections go through "exec" streams (host_forward_exec_start,
 * for the container it has now)? */
static int
host_forward_exec_due(const struct host_forward *f)
{
	return f->exec_cid != NULL && host_forward_exec_possible(f) &&
	    strcmp(f->exec_cid, f->fw.container_id) == 0;
}

/* The agent's answer (result) to a check of f says the host cannot connect
 * to the container's address (op "relay"'s "unreachable"; rootless Docker,
 * Docker in a VM): f's connections go through "exec" streams from now on;
 * where they cannot (a Compose service), the requests waiting for f are
 * warned, naming the user's port and why, since every connection would
 * fail. */
static void
host_forward_unreachable(
    struct host_session *h, struct host_forward *f, const cJSON *result)
{
	const char *why = json_get_string(result, "unreachable");
	char *w;

	if (why == NULL && f->exec_cid != NULL &&
	    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(result, "reachable"))) {
		/* (one slow check on a busy host must not pin the forward to
		 * a Docker exec per connection for the container's life) */
		log_info("%s: forward %d: the host reaches the container %.12s "
			 "again: its connections go the usual way",
		    h->label, f->fw.local_port != 0 ? f->fw.local_port : f->fw.port,
		    f->exec_cid);
		free(f->exec_cid);
		f->exec_cid = NULL;
	}
	if (why == NULL || f->connect)
		return;
	if (host_forward_exec_start(h, f, why))
		return;
	w = xasprintf("forward localhost:%d -> %s%s%d: the container is not "
		      "reachable from the host %s (%s): its connections will fail "
		      "(rootless Docker, or Docker in a VM?)",
	    f->fw.local_port, f->fw.service != NULL ? f->fw.service : "container port ",
	    f->fw.service != NULL ? ":" : "", f->fw.port, h->label, why);
	log_warn("%s: %s", h->label, w);
	forward_parked_warning(&h->parked, &f->fw, w);
	free(w);
}

/* The agent's answer to f's relay request (host_call_done_fn). */
static void
host_forward_resolved(struct host_session *h, void *arg, const cJSON *result,
    const char *error, enum host_call_end how)
{
	struct host_forward *f = arg;
	enum forward_answer a;
	enum forward_error_from from;
	char *cause = NULL;

	f->resolving = NULL;
	log_debug("%s: forward %d: the agent's relay answer (%s) in %lld ms", h->label,
	    f->fw.port, f->fw.have_target ? "a check" : "in full",
	    clock_now_ms() - f->fw.asked_ms);
	/* (a check's failure is no connection's: --list says which) */
	from = forward_check_source(&f->fw);
	a = forward_check_end(&f->fw, &h->parked, h->label, result, error,
	    host_forward_failure(how), clock_now_ms());
	if (a == FORWARD_ANSWER_AGAIN || a == FORWARD_ANSWER_RETRY)
		host_forward_resolve_start(h, f);
	if (a == FORWARD_ANSWER_AGAIN)
		return; /* the links (and parked answers) wait for the next answer */
	if (a == FORWARD_ANSWER_FAILED)
		cause = error != NULL
		    ? xstrdup(error)
		    : xasprintf("%s: the agent's relay answer is incomplete", h->label);
	/* (shown by --list: a forward listed that does not answer says why) */
	if (a == FORWARD_ANSWER_TARGET || a == FORWARD_ANSWER_FAILED)
		forward_check_answered(&f->fw, cause, from, &h->lock);
	if (a == FORWARD_ANSWER_TARGET)
		host_forward_unreachable(h, f, result);
	if (cause != NULL) {
		if (f->fw.fd4 >= 0 || f->fw.fd6 >= 0)
			log_warn("forward %d: %s", f->fw.local_port, cause);
		else if (f->connect)
			log_info("%s: connect to port %d of %s: %s", h->label, f->fw.port,
			    f->fw.workspace, cause);
		else
			log_info(
			    "%s: auto-forward %s: %s", h->label, f->fw.workspace, cause);
		/* (a connect's error is its connections', not a forward's; a
		 * stopped container is not the forward's failure: it answers
		 * once an `up` or a start runs the container) */
		if (!f->connect && how == HOST_CALL_NOT_RUNNING)
			host_forward_stopped_warning(h, f, cause);
		else if (!f->connect)
			forward_parked_error(&h->parked, &f->fw, cause);
	}
	host_forward_links_answered(h, f, a, cause);
	free(cause);
	host_forward_parked_check(h);
}

void
host_forward_resolve_start(struct host_session *h, struct host_forward *f)
{
	cJSON *req;

	if (f->resolving != NULL)
		return;
	req = forward_relay_request(&f->fw);
	/* (a "forward" request's check: the agent also says whether this
	 * host reaches the container's address, which sshd connects to) */
	if ((f->fw.request_send > 0 || f->reach_due) && !f->connect) {
		cJSON_AddBoolToObject(req, "reach", 1);
		/* (a Compose service's answer has no port: the user's, which
		 * the forward connects to directly) */
		if (f->fw.have_target)
			cJSON_AddNumberToObject(req, "reachPort", f->fw.target_port);
		else if (f->fw.service != NULL)
			cJSON_AddNumberToObject(req, "reachPort", f->fw.port);
	}
	f->reach_due = 0;
	cJSON_AddNumberToObject(req, "id", 1);
	f->resolving =
	    host_agent_call_start(h, req, HOST_CALL_IDEMPOTENT, host_forward_resolved, f);
	forward_asked(&f->fw, clock_now_ms());
	cJSON_Delete(req);
}

/* l's open has not been answered (probe_ms): ask the agent, once its
 * probe time is here, whether the container runs (a stopped one's address
 * answers nothing: sshd's connect fails only at the ARP timeout, seconds),
 * the check's answer ending the open (not running) or moving it
 * (host_forward_links_answered); not when the target l went to was
 * confirmed after its open went (the container ran then: the open is only
 * slow; many connections opened at once, to a target that answers late,
 * asked again and again as one answer came after another's probe time).
 * Returns the ms until then, or 0: asked, or not to be. */
static long long
host_forward_probe(struct host_session *h, struct host_link *l, long long now)
{
	struct host_forward *f = l->fwd;
	int port = f->fw.local_port != 0 ? f->fw.local_port : f->fw.port;

	if (now < l->probe_ms)
		return l->probe_ms - now;
	l->probe_ms = 0;
	if (f->resolving == NULL && f->fw.have_target && f->fw.checked_ms > l->open_ms &&
	    l->open_target_seq == f->fw.target_seq) {
		log_debug("%s: forward %d: link %u: %s:%d has not answered in %lld ms, "
			  "but was confirmed since its open went: not asking again",
		    h->label, port, l->id, l->open_address, l->open_port,
		    forward_check_bound(&f->fw));
		return 0;
	}
	if (f->probe_logged)
		log_debug("%s: forward %d: link %u: %s:%d has not answered in %lld ms: "
			  "asking the agent whether its container runs",
		    h->label, port, l->id, l->open_address, l->open_port,
		    forward_check_bound(&f->fw));
	else
		log_info("%s: forward %d: %s:%d has not answered in %lld ms: asking the "
			 "agent whether its container runs",
		    h->label, port, l->open_address, l->open_port,
		    forward_check_bound(&f->fw));
	f->probe_logged = 1;
	l->probing = 1;
	/* (a check of the target, whatever its age; and of whether this
	 * host reaches it at all: a host that drops packets to the container
	 * leaves sshd's connect waiting for the kernel's SYN timeout, minutes,
	 * where "reach" says so in 2 s and the link goes through an exec) */
	f->fw.checked_ms = 0;
	f->reach_due = 1;
	host_forward_resolve_start(h, f);
	return 0;
}

long long
host_forward_waits_step(struct host_session *h)
{
	struct host_link *l;
	long long now = clock_now_ms(), wait, next = -1;

	LIST_FOREACH(l, &h->links, entry) {
		int held =
		    l->state == HOST_LINK_OPENING && l->hold == HOST_LINK_HOLD_WAIT;

		if (l->state == HOST_LINK_OPENING && !held && l->probe_ms != 0 &&
		    l->fwd != NULL && (wait = host_forward_probe(h, l, now)) > 0) {
			next = next < 0 || wait < next ? wait : next;
			continue;
		}
		if ((l->state != HOST_LINK_RESOLVING && !held) || l->fwd == NULL ||
		    (wait = forward_target_wait(&l->fwd->fw, now)) < 0)
			continue;
		if (wait > 0) {
			next = next < 0 || wait < next ? wait : next;
			continue;
		}
		forward_check_log_late(&l->fwd->fw, h->label);
		if (held) {
			l->hold = HOST_LINK_HOLD_NONE; /* to the target it has */
			h->kicked = 1;
			continue;
		}
		if (host_forward_open_target(h, l, forward_direct_due(&l->fwd->fw)) != 0)
			host_link_kill(l);
	}
	return next;
}

/* Ask for f's target, or check the one it has now, whatever its age (a
 * "forward" request: `up` may have made a new container). */
static void
host_forward_check_now(struct host_session *h, struct host_forward *f)
{
	if (forward_check_wanted(&f->fw, f->resolving != NULL))
		host_forward_resolve_start(h, f);
}

int
host_forward_check_denied(struct host_session *h, int local_port)
{
	char what[32];

	if (h->tcp_denied || !host_open_prohibited(h))
		return 0;
	/* (0: an --auto watch's listing of the container's ports) */
	if (local_port > 0)
		snprintf(what, sizeof what, "forward %d", local_port);
	else
		snprintf(what, sizeof what, "auto-forward");
	log_warn("%s: %s: sshd refuses TCP forwarding (%s; AllowTcpForwarding "
		 "no?): forwarded connections go through the agent's session",
	    h->label, what, ssh_get_error(rdev_ssh_session(h->ssh)));
	h->tcp_denied = 1;
	host_set_forwarding(h, &h->tcp_forwarding, "denied");
	return 1;
}

/* The direct-tcpip open of l's channel (or its stream's), sent or (again)
 * asked about without waiting: SSH_OK open, SSH_AGAIN not answered yet,
 * SSH_ERROR refused or not sent. */
int
host_open_forward_nowait(
    struct host_session *h, ssh_channel ch, const char *address, int port, int from_port)
{
	ssh_session ss = rdev_ssh_session(h->ssh);
	int rc;

	ssh_set_blocking(ss, 0);
	rc = ssh_channel_open_forward(ch, address, port, "127.0.0.1", from_port);
	ssh_set_blocking(ss, 1);
	return rc;
}

static int
host_open_nowait(struct host_session *h, struct host_link *l)
{

	if (l->mx != NULL) {
		switch (l->mx->state) {
		case HOST_MUX_WAITING:
		case HOST_MUX_OPENING: return SSH_AGAIN;
		case HOST_MUX_OPEN: return SSH_OK;
		case HOST_MUX_FAILED: return SSH_ERROR;
		}
	}
	return host_open_forward_nowait(h, l->ch, l->open_address, l->open_port,
	    l->fwd != NULL ? l->fwd->fw.local_port : 0);
}

/* Send the open of a channel for l: to the container address itself
 * (direct) or to the relay / the service; or when f has no target, wait
 * for the agent's answer (asked once for all of f's connections). A
 * target to check (forward_target_wait) is opened at once, the link held
 * (host_link's hold) until the check is in or its bound passed
 * (forward_check_bound: host_forward_waits_step). 0, or -1 when the open
 * cannot be sent. */
static int
host_forward_open_start(struct host_session *h, struct host_link *l, int direct)
{
	long long wait = forward_target_wait(&l->fwd->fw, clock_now_ms());

	l->hold = HOST_LINK_HOLD_NONE;
	if (wait < 0) {
		/* host_forward_resolved goes on */
		host_link_set_state(l, HOST_LINK_RESOLVING);
		host_forward_resolve_start(h, l->fwd);
		return 0;
	}
	if (wait > 0) {
		/* A target to check: the open goes with the check, held until
		 * it is in (host_forward_links_answered, or the bound:
		 * host_forward_waits_step). */
		host_forward_resolve_start(h, l->fwd);
		l->hold = HOST_LINK_HOLD_WAIT;
	}
	return host_forward_open_target(h, l, direct);
}

/* Send the open of l's channel to the target its forward has, checked or
 * not. 0, or -1 when the open cannot be sent. */
static int
host_forward_open_target(struct host_session *h, struct host_link *l, int direct)
{
	struct host_forward *f = l->fwd;
	ssh_channel ch;

	free(l->open_address);
	l->open_address = xstrdup(f->fw.address);
	l->open_port = direct ? f->fw.port : f->fw.target_port;
	l->open_via = direct ? HOST_LINK_VIA_DIRECT : HOST_LINK_VIA_RELAY;
	l->open_target_seq = f->fw.target_seq;
	l->open_ms = clock_now_ms();
	l->probe_ms = l->open_ms + forward_check_bound(&f->fw);
	if (host_forward_exec_due(f)) {
		/* the agent runs the relay's --connect in the container */
		l->open_via = HOST_LINK_VIA_EXEC;
		l->open_port = f->fw.port;
		host_link_attach_mux(l,
		    host_mux_open(
			h, "exec", f->exec_cid, f->fw.port, HOST_MUX_FORWARD_WINDOW));
		host_link_set_state(l, HOST_LINK_OPENING);
		return 0;
	}
	if (h->tcp_denied) {
		/* the agent connects, on the host */
		host_link_attach_mux(l,
		    host_mux_open(h, "tcp", l->open_address, l->open_port,
			HOST_MUX_FORWARD_WINDOW));
		host_link_set_state(l, HOST_LINK_OPENING);
		return 0; /* host_forward_open_progress once answered */
	}
	if ((ch = ssh_channel_new(rdev_ssh_session(h->ssh))) == NULL)
		return -1;
	host_link_attach(l, ch);
	host_link_set_state(l, HOST_LINK_OPENING);
	/* Answered already (open, or refused: then the next way is tried) or
	 * not: host_forward_open_progress takes it from here. */
	if (host_open_nowait(h, l) != SSH_AGAIN)
		host_forward_open_progress(h, l);
	return 0;
}

int
host_forward_open_next(struct host_session *h, struct host_link *l)
{
	struct host_forward *f = l->fwd;

	return host_forward_open_start(h, l, forward_direct_due(&f->fw));
}

void
host_forward_open_progress(struct host_session *h, struct host_link *l)
{
	struct host_forward *f = l->fwd;
	int rc = host_open_nowait(h, l), denied, refused;
	char *why;

	if (rc == SSH_AGAIN)
		return;
	l->probe_ms = 0; /* (answered; probing: the check may still move it) */
	if (rc == SSH_OK) {
		l->probing = 0; /* (something answers there) */
		if (f != NULL)
			f->probe_logged = 0;
		if (l->mx == NULL)
			host_set_forwarding(h, &h->tcp_forwarding, "allowed");
		if (host_link_dead(l) || f == NULL) {
			/* dropped meanwhile: closed with the link */
			host_link_set_state(l, HOST_LINK_DEAD);
			return;
		}
		if (l->hold == HOST_LINK_HOLD_WAIT)
			return; /* open: the check's answer lets it go on */
		if (l->open_via == HOST_LINK_VIA_EXEC) {
			pthread_mutex_lock(&h->lock);
			f->fw.via_exec++;
			pthread_mutex_unlock(&h->lock);
			forward_connection_ok(&f->fw, &h->lock);
			host_link_set_state(l, HOST_LINK_OPEN);
			return;
		}
		if (l->open_via == HOST_LINK_VIA_DIRECT || f->fw.service != NULL) {
			pthread_mutex_lock(&h->lock);
			f->fw.direct++;
			pthread_mutex_unlock(&h->lock);
			forward_connection_ok(&f->fw, &h->lock);
			host_connect_answer(l, "direct", NULL);
			host_link_set_state(l, HOST_LINK_OPEN);
			return;
		}
		{
			unsigned char hdr[FORWARD_RELAY_HEADER_MAX];
			size_t n =
			    forward_relay_header(f->fw.token, 'C', f->fw.port, hdr);
			struct buf *b = buf_new();

			/* before what the client sent while its target was
			 * asked for */
			buf_append(b, hdr, n);
			buf_append(b, buf_data(l->to_ch), buf_len(l->to_ch));
			buf_free(l->to_ch);
			l->to_ch = b;
		}
		host_link_set_state(l, HOST_LINK_RELAY);
		/* (a program that took the relay's port and says nothing
		 * would hold the connection forever: host_link_pump) */
		l->relay_deadline = clock_now_ms() + forward_relay_status_ms();
		pthread_mutex_lock(&h->lock);
		f->fw.relayed++;
		pthread_mutex_unlock(&h->lock);
		return;
	}
	l->hold = HOST_LINK_HOLD_NONE; /* (the next open holds again if due) */
	why = xstrdup(l->mx != NULL ? (l->mx->error != NULL ? l->mx->error : "refused")
				    : ssh_get_error(rdev_ssh_session(h->ssh)));
	denied =
	    l->mx == NULL && f != NULL && host_forward_check_denied(h, f->fw.local_port);
	refused = l->mx != NULL && l->mx->refused;
	host_link_detach(l);
	if (host_link_dead(l) || f == NULL) {
		free(why);
		host_link_set_state(l, HOST_LINK_DEAD);
		return;
	}
	if (l->open_via == HOST_LINK_VIA_EXEC) {
		/* (refused: the relay's --connect found nothing listening,
		 * which its reason says) */
		char *text = refused
		    ? xstrdup(why)
		    : xasprintf("the host cannot reach container port %d, and "
				"its Docker exec failed (%s)",
			  f->fw.port, why);

		forward_connection_failed(&f->fw, h->label, text, &h->lock);
		free(text);
		free(why);
		if (l->fd >= 0 && !l->connect)
			(void)sock_drain_reset_at_close(l->fd);
		host_link_set_state(l, HOST_LINK_DEAD);
		return;
	}
	if (denied) {
		/* the same way again, through the agent */
		rc = host_forward_open_start(h, l, l->open_via == HOST_LINK_VIA_DIRECT);
		free(why);
		if (rc != 0)
			host_link_set_state(l, HOST_LINK_DEAD);
		return;
	}
	if (l->open_via == HOST_LINK_VIA_DIRECT) {
		/* Not listening there (127.0.0.1 only, or not yet): the relay. */
		f->fw.direct_retry_ms = clock_now_ms() + FORWARD_DIRECT_RETRY_MS;
		if (host_forward_open_start(h, l, 0) == 0) {
			free(why);
			return;
		}
	} else {
		log_info("%s: forward %d: cannot reach %s:%d (%s)%s", h->label,
		    f->fw.local_port, l->open_address, l->open_port, why,
		    l->open_retried ? "" : "; asking the agent again");
		f->fw.have_target = 0; /* container restarted, relay gone: ask again */
		if (!l->open_retried) {
			l->open_retried = 1;
			if (host_forward_open_next(h, l) == 0) {
				free(why);
				return;
			}
		}
	}
	if (l->open_via != HOST_LINK_VIA_DIRECT && host_forward_exec_start(h, f, why)) {
		/* (the relay not reached even after the agent was asked
		 * again: the host cannot reach the container's address) */
		if (host_forward_open_target(h, l, 0) == 0) {
			free(why);
			return;
		}
	}
	if (l->open_via != HOST_LINK_VIA_DIRECT) {
		/* (the agent's target, asked again, not reached either:
		 * --list's lastError and the log say so; named by the user's
		 * port: the relay's is rdev's own, which the log has) */
		char *text = xasprintf("the host cannot reach container port %d "
				       "at %s (%s)",
		    f->fw.port, l->open_address, why);

		forward_connection_failed(&f->fw, h->label, text, &h->lock);
		free(text);
	}
	free(why);
	/* The client sees its connection refused (a reset), not closed: a
	 * clean close with no bytes reads as a server that answered nothing.
	 * (a "connect" is answered on its socket at the free: no reset) */
	if (l->fd >= 0 && !l->connect && sock_drain_reset_at_close(l->fd) != 0)
		log_debug("%s: link %u: SO_LINGER: %s", h->label, l->id, strerror(errno));
	host_link_set_state(l, HOST_LINK_DEAD);
}

void
host_forward_accept(
    struct host_session *h, struct host_forward *f, int lfd, int connected)
{
	struct host_link *l;
	int fd, one = 1;

	while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		if (!connected) {
			/* A closed connection, not a hang, while the host is away. */
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		l = host_forward_link(h, f, fd);
		if (host_forward_open_next(h, l) != 0)
			host_link_kill(l);
	}
}

struct host_link *
host_forward_link(struct host_session *h, struct host_forward *f, int fd)
{
	struct host_link *l = host_link_new(h, fd, NULL, FORWARD_CONN_BUFFER);

	l->fwd = f;
	pthread_mutex_lock(&h->lock);
	f->fw.connections++;
	f->fw.active++;
	pthread_mutex_unlock(&h->lock);
	return l;
}

void
host_forward_free(struct host_forward *f)
{
	if (f == NULL)
		return;
	host_agent_call_forget(f->resolving);
	host_watch_forward_clear(f);
	forward_clear(&f->fw);
	free(f->exec_cid);
	free(f);
}

void
host_forward_reap(struct host_session *h)
{
	struct host_forward *f, *next;
	struct host_link *l;
	int any = 0;

	LIST_FOREACH(f, &h->forwards, entry)
		any |= f->fw.gone;
	if (!any)
		return;
	LIST_FOREACH(l, &h->links, entry) {
		if (l->fwd != NULL && l->fwd->fw.gone) {
			host_link_kill(l);
			if (l->state == HOST_LINK_DYING) {
				/* it outlives f until its open is answered */
				pthread_mutex_lock(&h->lock);
				l->fwd->fw.active--;
				pthread_mutex_unlock(&h->lock);
				l->fwd = NULL;
			}
		}
	}
	host_drop_dead_links(h);
	pthread_mutex_lock(&h->lock);
	for (f = LIST_FIRST(&h->forwards); f != NULL; f = next) {
		next = LIST_NEXT(f, entry);
		if (f->fw.gone) {
			LIST_REMOVE(f, entry);
			host_forward_free(f);
		}
	}
	pthread_mutex_unlock(&h->lock);
	host_forward_parked_check(h); /* a resolve it waited for is gone */
}

struct forward *
host_forward_make_fn(void *arg, const char *ws, const char *config,
    const struct forward_spec *s, int exact, char **cause)
{
	struct host_forward *f = host_forward_make(
	    arg, ws, config, s->service, s->port, s->local_port, exact, s->label, cause);

	return f != NULL ? &f->fw : NULL;
}

struct host_forward *
host_forward_make(struct host_session *h, const char *ws, const char *config,
    const char *service, int port, int local, int exact, const char *label, char **cause)
{
	struct forward_spec s = { local, 0, (char *)service, port, (char *)label };
	struct host_forward *f, *best = NULL;
	int rank, best_rank = 0;

	/* (`forward WS 8000` with 8000 and 9100:8000 there: the one at 8000) */
	LIST_FOREACH(f, &h->forwards, entry) {
		if ((rank = forward_reuse_rank(&f->fw, ws, service, port, local)) >
		    best_rank) {
			best = f;
			best_rank = rank;
		}
	}
	if (best != NULL)
		return best;
	f = xcalloc(1, sizeof *f);
	if (forward_open(&f->fw, ws, config, &s, exact, cause) != 0) {
		free(f);
		return NULL;
	}
	pthread_mutex_lock(&h->lock);
	LIST_INSERT_HEAD(&h->forwards, f, entry);
	pthread_mutex_unlock(&h->lock);
	log_info("%s: forwarding 127.0.0.1:%d -> %s:%d", h->label, f->fw.local_port,
	    service != NULL ? service : "container", port);
	return f;
}

static void host_forward_prechecked(struct host_session *h, struct host_job *j,
    const char *error, enum host_call_end how);
static void host_forward_release(struct host_session *h);

/* f is made without its check (the request's look at the workspace timed
 * out with error): the requests waiting for it are told. */
static void
host_forward_unchecked(struct host_session *h, struct host_forward *f, const char *error)
{
	char *w = forward_check_skipped(&f->fw, error);

	log_warn("%s: %s", h->label, w);
	forward_parked_warning(&h->parked, &f->fw, w);
	free(w);
}

/* The agent's look at j's container before j's forwards are made
 * (host_call_done_fn): a workspace that is not there (no folder, no
 * container: the agent's "no-workspace") refuses the whole request, and
 * nothing is made; any other answer (a stopped container, a failure that
 * may pass, an agent too old to say) lets it go on as before. */
static void
host_forward_resolved_first(struct host_session *h, void *arg, const cJSON *result,
    const char *error, enum host_call_end how)
{
	struct host_job *j = arg;

	forward_order_look_end(&h->order, &j->order);
	if (error == NULL)
		forward_request_drop_services(j->req, result, h->label);
	if (how != HOST_CALL_NO_WORKSPACE)
		forward_request_take_attributes(
		    j->req, error == NULL ? result : NULL, error);
	host_forward_prechecked(h, j, error, how);
	host_forward_release(h);
}

/* j's look at its workspace ended (how, error): its forwards are made, or
 * it is refused. */
static void
host_forward_prechecked(
    struct host_session *h, struct host_job *j, const char *error, enum host_call_end how)
{
	if (how != HOST_CALL_NO_WORKSPACE) {
		if (error != NULL)
			log_info("%s: forward %s: %s (the forwards are made; %s)",
			    h->label, json_get_string(j->req, "workspace"), error,
			    how == HOST_CALL_TIMED_OUT ? "not checked now"
						       : "the check goes on with them");
		/* (timed out: a second call, the forwards' check, would wait
		 * its 60 s as well, `up` twice as long before its answer) */
		host_forward_add(h, j, how == HOST_CALL_TIMED_OUT ? error : NULL);
		return;
	}
	forward_refuse(j->fd, j->request_id, j->req, h->label, error);
	cJSON_Delete(j->req);
	free(j);
}

void
host_forward_request(struct host_session *h, struct host_job *j)
{
	cJSON *req;

	/* (offline: made now, checked at the first connection, as before;
	 * `up`'s check of its targets alone adds nothing to refuse) */
	if (h->ev == NULL || !forward_request_adds(j->req)) {
		if (h->ev == NULL) {
			char *why = xasprintf("%s is away: not connected now", h->label);

			forward_request_take_attributes(j->req, NULL, why);
			free(why);
		}
		host_forward_add(h, j, NULL);
		return;
	}
	req = forward_resolve_request(j->req);
	cJSON_AddNumberToObject(req, "id", 1);
	/* until its done runs */
	forward_order_look(&h->order, &j->order, j->req, j);
	/* (a slow or hung agent holds the request only this long: then the
	 * forwards are made, checked at their first connection) */
	host_agent_call_deadline(host_agent_call_start(h, req, HOST_CALL_IDEMPOTENT,
				     host_forward_resolved_first, j),
	    forward_precheck_ms());
	cJSON_Delete(req);
}

/* A "forward" request: {"workspace","config","forwards":[{"local","port",
 * "service","requireLocal","label"}]} -> {"forwards":[...],"errors":[...]}. */
void
host_forward_add(struct host_session *h, struct host_job *j, const char *unchecked)
{
	const char *ws = json_get_string(j->req, "workspace");
	cJSON *done, *errors, *resp = forward_answer_new(j->request_id, &done, &errors);
	struct host_forward *f;
	struct forward_key k;

	forward_answer_notes(resp, j->req);
	forward_request_make(j->req, host_forward_make_fn, h, &h->lock, done, errors);
	/* (a watch there already now lists the request's container; the
	 * auto-forwards it made go there too, checked below as the request's) */
	if (ws != NULL &&
	    cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(j->req, "auto")))
		host_auto_request(
		    h, j->req, cJSON_GetObjectItemCaseSensitive(j->req, "auto"));
	/* Start the relay now (or check the targets, ssh-proxy's connects'
	 * too: `up` may have made a new container), so that a problem shows in `up`'s
	 * output and the first connection does not wait for it; the answer waits for that
	 * (parked), the host's other links do not. Offline (reconnecting): at the first
	 * connection. */
	forward_key_of_request(&k, j->req);
	if (ws != NULL && unchecked != NULL) {
		/* parked first: the warnings go to its answer (which waits
		 * for no check in flight: that would hold it up to a call's
		 * 60 s on the agent that just did not answer) */
		forward_park(&h->parked, j->fd, j->req, resp)->unchecked = 1;
		LIST_FOREACH(f, &h->forwards, entry) {
			if (!f->fw.gone && forward_of(&f->fw, &k))
				host_forward_unchecked(h, f, unchecked);
		}
		resp = NULL;
	}
	LIST_FOREACH(f, &h->forwards, entry) {
		if (h->ev != NULL && unchecked == NULL && !f->fw.gone &&
		    forward_of(&f->fw, &k))
			host_forward_check_now(h, f);
	}
	LIST_FOREACH(f, &h->connects, entry) {
		if (h->ev != NULL && unchecked == NULL && forward_of(&f->fw, &k))
			host_forward_check_now(h, f);
	}
	forward_key_clear(&k);
	if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j->req, "forwards")) >
		0 ||
	    cJSON_GetObjectItemCaseSensitive(j->req, "auto") != NULL)
		host_state_save(h); /* (not for up's check of the targets alone) */
	if (resp == NULL)
		; /* parked above */
	else if (ws != NULL)
		forward_park(&h->parked, j->fd, j->req, resp);
	else {
		forward_answer_send(j->fd, resp);
		cJSON_Delete(resp);
	}
	cJSON_Delete(j->req);
	free(j);
	host_forward_parked_check(h);
}

/* Is a forward of parked answer p's container being resolved (arg: the
 * session)? */
static int
host_forward_resolving(void *arg, const struct forward_parked *p)
{
	struct host_session *h = arg;
	struct host_forward *f;

	LIST_FOREACH(f, &h->forwards, entry) {
		if (f->resolving != NULL && !f->fw.gone && forward_parked_for(p, &f->fw))
			return 1;
	}
	LIST_FOREACH(f, &h->connects, entry) {
		if (f->resolving != NULL && forward_parked_for(p, &f->fw))
			return 1;
	}
	return 0;
}

void
host_forward_parked_check(struct host_session *h)
{
	forward_parked_answer(&h->parked, host_forward_resolving, h);
}

/* "unforward": {"workspace"?, "local"?} (neither: all) -> {"stopped":N}. */
void
host_forward_remove(struct host_session *h, struct host_job *j)
{
	const char *ws = json_get_string(j->req, "workspace");
	const cJSON *lp = cJSON_GetObjectItemCaseSensitive(j->req, "local");
	int local = cJSON_IsNumber(lp) ? lp->valueint : 0, n = 0;
	struct host_forward *f;
	cJSON *resp;

	LIST_FOREACH(f, &h->forwards, entry) {
		if (!forward_stopped_by(&f->fw, ws, local))
			continue;
		pthread_mutex_lock(&h->lock);
		f->fw.gone = 1;
		pthread_mutex_unlock(&h->lock);
		n++;
	}
	if (!cJSON_IsNumber(lp))
		host_auto_remove(h, ws);
	host_forward_reap(h);
	n += host_state_forget_errors(h, ws, local);
	host_state_save(h);
	resp = forward_stopped_answer(j->request_id, n, j->req);
	host_send_json(j->fd, PROTO_CONTROL, resp);
	cJSON_Delete(resp);
}

/* Run forward/unforward job j now (consumed). */
static void
host_forward_job_run(struct host_session *h, struct host_job *j)
{
	const char *op = json_get_string(j->req, "op");

	if (op != NULL && strcmp(op, "forward") == 0) {
		host_forward_request(h, j); /* answered when its resolves end */
		return;
	}
	host_forward_remove(h, j);
	close(j->fd);
	cJSON_Delete(j->req);
	free(j);
}

/* Run the held jobs that need not wait any more, in the order they came. */
static void
host_forward_release(struct host_session *h)
{
	struct host_job *j;

	while ((j = forward_order_next(&h->order)) != NULL)
		host_forward_job_run(h, j);
}

void
host_forward_job(struct host_session *h, struct host_job *j)
{
	if (!forward_order_must_wait(&h->order, j->req)) {
		host_forward_job_run(h, j);
		return;
	}
	/* (an unforward run now would miss what the earlier request makes
	 * once its look ends: Ctrl-C then --stop left it listening) */
	log_info("%s: %s request of %s waits for the look at its workspace in "
		 "flight",
	    h->label, json_get_string(j->req, "op"),
	    json_get_string(j->req, "workspace") != NULL
		? json_get_string(j->req, "workspace")
		: "every workspace");
	forward_order_hold(&h->order, &j->order, j->req, j);
}
