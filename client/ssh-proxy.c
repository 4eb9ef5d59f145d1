/* ssh-proxy.c - the SSH server of `rdev ssh-proxy` (ssh-proxy.h), its
 * session: one client on a socket, authenticated by being the local user
 * (only they can start this program as their ProxyCommand), each session
 * channel's shell or exec request an exec of the agent protocol
 * (docs/PROTOCOL.md, "exec and its channels"), so it runs exactly as
 * `rdev exec` runs a command. The channels, their flow control, the relay
 * and agent forwarding are the other ssh-proxy-*.c files
 * (ssh-proxy-internal.h).
 *
 * One loop, libssh's ssh_event: the session's socket and the agent's fd.
 * Nothing blocks it: channel writes are non-blocking (what the client's
 * window does not take waits in the channel's buffer), agent writes are
 * queued, and the agent is read only while the channels' waiting output
 * leaves room (ssh-proxy-flow.c).
 */
#include "ssh-proxy-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "error.h"
#include "log.h"
#include "proto-conn.h"
#include "ssh-ciphers.h"
#include "xmalloc.h"

void
ssh_proxy_port_failed(struct ssh_proxy_chan *pc, const char *why)
{
	pc->p->port_failed = 1;
	ssh_proxy_port_say(pc, why);
}

void
ssh_proxy_port_say(struct ssh_proxy_chan *pc, const char *why)
{
	if (pc->port_failed)
		return;
	pc->port_failed = 1;
	fprintf(stderr, "rdev: ssh-proxy: port %d: %s\n", pc->forward_port, why);
}

void
ssh_proxy_queue(struct ssh_proxy *p, cJSON *o)
{
	char *cause = NULL;

	/* (lost: nothing goes out until a new one is made) */
	if (p->lost || p->lost_why != NULL) {
		cJSON_Delete(o);
		return;
	}
	if (proto_conn_queue_json(p->c, PROTO_CONTROL, 0, o, &cause) != 0) {
		log_warn("ssh-proxy: %s", cause);
		free(cause);
	}
	cJSON_Delete(o);
}

cJSON *
ssh_proxy_workspace_op(struct ssh_proxy *p, const char *op, int *id)
{
	cJSON *o = cJSON_CreateObject();

	*id = p->next_id++;
	cJSON_AddNumberToObject(o, "id", *id);
	cJSON_AddStringToObject(o, "op", op);
	cJSON_AddStringToObject(o, "workspace", p->o->folder);
	if (p->o->config_file != NULL)
		cJSON_AddStringToObject(o, "config", p->o->config_file);
	if (p->o->hint != NULL)
		cJSON_AddStringToObject(o, "hint", p->o->hint);
	if (p->o->id_labels != NULL)
		cJSON_AddItemToObject(o, "idLabels", cJSON_Duplicate(p->o->id_labels, 1));
	return o;
}

const char *
ssh_proxy_answer_error(const cJSON *msg, const char *fallback)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(msg, "error");

	return cJSON_IsString(v) ? v->valuestring : fallback;
}

/* The answer to a request (only those to the relay and exec requests are
 * waited for). */
static void
ssh_proxy_answer(struct ssh_proxy *p, const cJSON *msg)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(msg, "id");

	if (!cJSON_IsNumber(id) || cJSON_GetObjectItemCaseSensitive(msg, "ok") == NULL)
		return;
	if (ssh_proxy_relay_answer(p, id->valueint, msg) ||
	    ssh_proxy_fwd_answer(p, id->valueint, msg))
		return;
	ssh_proxy_chan_answer(p, id->valueint, msg);
}

/* One frame from the agent. */
static void
ssh_proxy_frame(struct ssh_proxy *p, const struct proto_frame *f)
{
	struct ssh_proxy_chan *pc;
	const cJSON *v;
	cJSON *msg;
	int stream = 1;

	if (ssh_proxy_fwd_owns(p, f->channel)) {
		ssh_proxy_fwd_frame(p, f);
		return;
	}
	switch (f->type) {
	case PROTO_DATA:
	case PROTO_EOF:
	case PROTO_WINDOW:
		if ((pc = ssh_proxy_chan_by_agent(p, f->channel, &stream)) != NULL)
			ssh_proxy_flow_frame(pc, stream, f);
		return;
	case PROTO_CLOSE:
		if ((pc = ssh_proxy_chan_by_agent(p, f->channel, &stream)) != NULL &&
		    stream == 1 && !pc->agent_closed)
			ssh_proxy_chan_exited(pc, f);
		return;
	case PROTO_CONTROL:
		if ((msg = proto_frame_json(f, NULL)) != NULL) {
			ssh_proxy_answer(p, msg);
			cJSON_Delete(msg);
		}
		return;
	case PROTO_FATAL:
		msg = proto_frame_json(f, NULL);
		v = cJSON_GetObjectItemCaseSensitive(msg, "error");
		free(p->lost_why);
		/* (the broker's, with "host", says who ended it already) */
		if (cJSON_IsString(v) &&
		    cJSON_IsString(cJSON_GetObjectItemCaseSensitive(msg, "host")))
			p->lost_why = xstrdup(v->valuestring);
		else
			p->lost_why = xasprintf("the agent ended the session: %s",
			    cJSON_IsString(v) ? v->valuestring : "(no reason given)");
		cJSON_Delete(msg);
		return;
	default: return;
	}
}

/* Why the agent connection ended by itself, as rdev exec says it (new). */
static char *
ssh_proxy_ended_why(struct ssh_proxy *p)
{
	if (p->o->where == NULL)
		return xstrdup("the local agent ended the connection");
	/* (most often the broker is fine and lost its SSH session: a killed
	 * sshd, a host gone; do not blame the broker alone) */
	return xasprintf("%s: the connection ended (the SSH connection to the "
			 "host was lost, or rdev-broker stopped: see `rdev-broker "
			 "status`)",
	    p->o->where);
}

static int
ssh_proxy_on_agent(socket_t fd, int revents, void *arg)
{
	struct ssh_proxy *p = arg;
	struct proto_frame f;
	char *cause = NULL;
	int rc;

	/* (lost, or a watch of an older link: the loop stops watching it after
	 * this pass) */
	if (p->lost_why != NULL || p->lost || fd != p->agent_fd ||
	    p->agent_gen != p->link_gen)
		return 0;
	if ((revents & POLLOUT) && proto_conn_write_some(p->c, &cause) != 0)
		goto broken;
	if (revents & (POLLIN | POLLHUP | POLLERR)) {
		rc = proto_conn_read_some(p->c, &cause);
		while (p->lost_why == NULL && proto_conn_next(p->c, &f, NULL) == 1)
			ssh_proxy_frame(p, &f);
		if (rc < 0)
			goto broken;
		if (rc == 0 && p->lost_why == NULL)
			p->lost_why = ssh_proxy_ended_why(p);
	}
	return 0;
broken:
	if (p->lost_why == NULL) {
		log_info("ssh-proxy: the agent connection: %s", cause);
		p->lost_why = ssh_proxy_ended_why(p);
	}
	free(cause);
	return 0;
}

/* The agent connection is lost (p->lost_why): what rode on it ends (the
 * execs of session channels as sshd's end would, with why on their stderr
 * and exit-signal HUP; the relay's direct-tcpip channels, agent
 * forwarding), the SSH connection and the channels carried by the broker
 * stay; new channels make a new connection (ssh_proxy_link). */
static void
ssh_proxy_lose(struct ssh_proxy *p)
{
	struct ssh_proxy_chan *pc;
	const char *why = p->lost_why, *fwd;
	int sessions = 0, ports = 0;

	if (p->lost || why == NULL)
		return;
	p->lost = 1;
	fwd = ssh_proxy_fwd_lost(p) ? "; agent forwarding ended" : "";
	LIST_FOREACH(pc, &p->chans, entry) {
		if (pc->tcp != NULL || pc->state >= SSH_PROXY_CHAN_EXITED)
			continue;
		/* (open ones not started yet: those waiting for the relay or
		 * the agent socket end; the others start on the next link) */
		if (pc->state == SSH_PROXY_CHAN_OPEN && pc->forward_port == 0 &&
		    !pc->held)
			continue;
		pc->held = 0;
		if (pc->forward_port > 0) {
			ssh_proxy_port_say(pc, why);
			pc->status = SSH_PROXY_EXIT_FAILED;
			ports++;
		} else {
			sessions++;
			if (!pc->client_closed)
				buf_appendf(pc->err,
				    "rdev: ssh-proxy: %s; the command "
				    "is hung up%s",
				    why, pc->tty ? "\r\n" : "\n");
			free(pc->signal);
			pc->signal = xstrdup("HUP");
		}
		pc->agent_closed = 1;
		pc->out_eof = 1;
		ssh_proxy_chan_set_state(pc, SSH_PROXY_CHAN_EXITED);
	}
	/* (what rode on it, as it was when lost: a proxy that only ran ssh -L
	 * through the broker had no session to hang up, and one whose sessions
	 * all ended before had none running, though some ran on it) */
	if (sessions == 0 && ports == 0)
		fprintf(stderr,
		    "rdev: ssh-proxy: %s; no session was running on it%s; new "
		    "channels connect again\n",
		    why, fwd);
	else if (ports == 0)
		fprintf(stderr,
		    "rdev: ssh-proxy: %s; %d session%s hung up%s; new channels "
		    "connect again\n",
		    why, sessions, sessions == 1 ? "" : "s", fwd);
	else
		fprintf(stderr,
		    "rdev: ssh-proxy: %s; %d session%s hung up, %d port "
		    "connection%s through the relay ended%s; new channels "
		    "connect again\n",
		    why, sessions, sessions == 1 ? "" : "s", ports, ports == 1 ? "" : "s",
		    fwd);
	/* (a new agent is asked for the relay again) */
	p->relay = SSH_PROXY_RELAY_UNKNOWN;
	free(p->relay_error);
	p->relay_error = NULL;
}

int
ssh_proxy_link(struct ssh_proxy *p, char **cause)
{
	struct proto_conn *c;
	char *err = NULL, tried[32];
	long long start = clock_now_ms(), pause = 250;

	if (p->lost_why != NULL && !p->lost)
		ssh_proxy_lose(p);
	if (!p->lost)
		return 0;
	if (p->o->reconnect == NULL) {
		*cause = xstrdup(p->lost_why);
		return -1;
	}
	/* (the last try failed just now: the same answer, at once) */
	if (p->relink_error != NULL &&
	    clock_now_ms() - p->relink_failed_ms < p->relink_quiet_ms) {
		*cause = xstrdup(p->relink_error);
		return -1;
	}
	/* o->reconnect frees the old connection (on its first try, whether
	 * or not one succeeds), so p->c is never used while lost and is NULL
	 * until a new one is made. Its fd's watch stays until the loop's
	 * ssh_proxy_watch_agent (this runs inside libssh's callback, where
	 * removing an fd from the event is not safe): the watch is on the
	 * proxy's own duplicate, open until then, whose callback the link's
	 * generation makes ignore. */
	p->c = NULL;
	for (;;) {
		/* (each try bounded too: a stopped broker accepts and never
		 * answers, and this loop is the proxy's) */
		if ((c = p->o->reconnect(
			 p->o->reconnect_arg, start + p->relink_ms, &err)) != NULL)
			break;
		log_info("ssh-proxy: connecting again: %s", err);
		if (clock_now_ms() - start + pause > p->relink_ms) {
			clock_ms_text((int)(clock_now_ms() - start), tried, sizeof tried);
			*cause = xasprintf(
			    "%s%scannot reach the agent again (tried for %s): %s",
			    p->o->where != NULL ? p->o->where : "",
			    p->o->where != NULL ? ": " : "", tried, err);
			free(err);
			free(p->relink_error);
			p->relink_error = xstrdup(*cause);
			p->relink_failed_ms = clock_now_ms();
			return -1;
		}
		free(err);
		err = NULL;
		poll(NULL, 0, (int)pause);
		if ((pause *= 2) > SSH_PROXY_RELINK_PAUSE_MAX_MS)
			pause = SSH_PROXY_RELINK_PAUSE_MAX_MS;
	}
	p->c = c;
	p->link_gen++;
	p->lost = 0;
	free(p->lost_why);
	p->lost_why = NULL;
	free(p->relink_error);
	p->relink_error = NULL;
	fprintf(stderr, "rdev: ssh-proxy: connected to the agent again\n");
	return 0;
}

/* Watch the agent's fd for what is needed now: writes while frames are
 * queued, reads while the channels' waiting output leaves room. */
static void
ssh_proxy_watch_agent(struct ssh_proxy *p)
{
	short events = 0;
	int live;

	/* (lost: p->c may be freed already, ssh_proxy_link) */
	if (p->lost_why != NULL || p->lost)
		ssh_proxy_lose(p);
	else {
		if (ssh_proxy_flow_room(p))
			events |= POLLIN;
		if (proto_conn_pending_out(p->c) > 0)
			events |= POLLOUT;
	}
	/* (the duplicate is of the link now, when there is one) */
	live = p->agent_fd >= 0 && p->agent_gen == p->link_gen && !p->lost;
	if (events == p->agent_events && (events == 0 || live))
		return;
	if (p->agent_events != 0)
		ssh_event_remove_fd(p->ev, p->agent_fd);
	p->agent_events = 0;
	if (p->agent_fd >= 0 && !live) {
		close(p->agent_fd);
		p->agent_fd = -1;
	}
	if (events == 0)
		return;
	if (p->agent_fd < 0) {
		/* (out of fds, EMFILE: this link fails, not the proxy; a new
		 * channel tries a new one) */
		if ((p->agent_fd = fcntl(proto_conn_fd(p->c), F_DUPFD_CLOEXEC, 0)) < 0) {
			p->lost_why = xasprintf("%s%scannot watch the agent "
						"connection (dup: %s)",
			    p->o->where != NULL ? p->o->where : "",
			    p->o->where != NULL ? ": " : "", strerror(errno));
			ssh_proxy_lose(p);
			return;
		}
		p->agent_gen = p->link_gen;
	}
	if (ssh_event_add_fd(p->ev, p->agent_fd, events, ssh_proxy_on_agent, p) != SSH_OK)
		fatal("ssh_event_add_fd");
	p->agent_events = events;
}

/* The client is the local user (only they run this program as their
 * ProxyCommand, on pipes only they hold): no credentials to check. */
static int
ssh_proxy_on_auth_none(ssh_session s, const char *user, void *arg)
{
	return SSH_AUTH_SUCCESS;
}

static ssh_channel
ssh_proxy_on_open_session(ssh_session s, void *arg)
{
	struct ssh_proxy *p = arg;
	ssh_channel ch;
	char *cause = NULL;

	/* (the agent connection lost: made anew, else the open is refused) */
	if (ssh_proxy_link(p, &cause) != 0) {
		fprintf(stderr, "rdev: ssh-proxy: a new session refused: %s\n", cause);
		free(cause);
		return NULL;
	}
	if ((ch = ssh_channel_new(s)) == NULL)
		return NULL;
	return ssh_proxy_chan_new(p, ch)->ch;
}

/* Accept the client on fd and do the key exchange. 0, or -1 with *cause. */
static int
ssh_proxy_accept(struct ssh_proxy *p, int fd, ssh_key key, char **cause)
{
	ssh_bind b = ssh_bind_new();
	int rc = -1;

	if (b == NULL)
		fatal("ssh_bind_new");
	/* (the bind owns the key from here) */
	if (ssh_bind_options_set(b, SSH_BIND_OPTIONS_IMPORT_KEY, key) != SSH_OK) {
		ssh_key_free(key);
		error_set(cause, "cannot use the host key: %s", ssh_get_error(b));
		goto out;
	}
	/* (the client's order decides: ssh-config gives ssh the same) */
	if (ssh_bind_options_set(b, SSH_BIND_OPTIONS_CIPHERS_C_S, RDEV_SSH_CIPHERS) !=
		SSH_OK ||
	    ssh_bind_options_set(b, SSH_BIND_OPTIONS_CIPHERS_S_C, RDEV_SSH_CIPHERS) !=
		SSH_OK) {
		error_set(cause, "cannot set the ciphers: %s", ssh_get_error(b));
		goto out;
	}
	if (ssh_bind_accept_fd(b, p->s, fd) != SSH_OK) {
		error_set(cause, "%s", ssh_get_error(b));
		goto out;
	}
	ssh_callbacks_init(&p->scb);
	ssh_set_server_callbacks(p->s, &p->scb);
	ssh_set_message_callback(p->s, ssh_proxy_relay_on_message, p);
	ssh_set_auth_methods(p->s, SSH_AUTH_METHOD_NONE);
	if (ssh_handle_key_exchange(p->s) != SSH_OK) {
		error_set(cause, "key exchange: %s", ssh_get_error(p->s));
		goto out;
	}
	rc = 0;
out:
	ssh_bind_free(b);
	return rc;
}

int
ssh_proxy_run(int fd, ssh_key key, struct proto_conn *c, int first_id,
    const struct ssh_proxy_opts *o, char **cause)
{
	struct ssh_proxy p;
	struct ssh_proxy_chan *pc, *next;
	int rc = -1;

	memset(&p, 0, sizeof p);
	LIST_INIT(&p.chans);
	p.c = c;
	p.o = o;
	p.next_id = first_id;
	p.next_agent_ch = 1;
	p.agent_fd = -1;
	p.scb.userdata = &p;
	p.relink_ms = clock_env_ms("RDEV_SSH_PROXY_RELINK_MS", SSH_PROXY_RELINK_MS);
	p.relink_quiet_ms = p.relink_ms < SSH_PROXY_RELINK_QUIET_MS
	    ? p.relink_ms
	    : SSH_PROXY_RELINK_QUIET_MS;
	p.scb.auth_none_function = ssh_proxy_on_auth_none;
	p.scb.channel_open_request_session_function = ssh_proxy_on_open_session;
	if ((p.s = ssh_new()) == NULL)
		fatal("ssh_new");
	if (ssh_proxy_accept(&p, fd, key, cause) != 0)
		goto out;
	ssh_set_blocking(p.s, 0);
	if ((p.ev = ssh_event_new()) == NULL ||
	    ssh_event_add_session(p.ev, p.s) != SSH_OK)
		fatal("ssh_event");
	for (;;) {
		ssh_proxy_watch_agent(&p);
		LIST_FOREACH(pc, &p.chans, entry)
			ssh_proxy_tcp_watch(pc);
		if (ssh_event_dopoll(p.ev, 1000) == SSH_ERROR &&
		    !(ssh_get_status(p.s) & (SSH_CLOSED | SSH_CLOSED_ERROR))) {
			error_set(cause, "%s", ssh_get_error(p.s));
			goto out;
		}
		ssh_proxy_agent_step(p.agent);
		for (pc = LIST_FIRST(&p.chans); pc != NULL; pc = next) {
			next = LIST_NEXT(pc, entry);
			if (!pc->client_closed)
				ssh_proxy_flow_pull(pc);
			ssh_proxy_tcp_step(pc);
			if (ssh_proxy_flow_flush(pc) != 0) {
				error_set(cause, "%s", ssh_get_error(p.s));
				goto out;
			}
			/* Freed once neither side can still send about it. */
			if (pc->state == SSH_PROXY_CHAN_CLOSED ||
			    (pc->client_closed &&
				(pc->agent_closed || pc->state == SSH_PROXY_CHAN_OPEN)))
				ssh_proxy_chan_free(pc);
		}
		if (p.error != NULL) {
			*cause = p.error;
			p.error = NULL;
			goto out;
		}
		if (!ssh_is_connected(p.s) ||
		    (ssh_get_status(p.s) & (SSH_CLOSED | SSH_CLOSED_ERROR)))
			break;
	}
	/* (what failed was said on stderr already: no cause) */
	rc = p.port_failed ? -1 : 0;
out:
	while ((pc = LIST_FIRST(&p.chans)) != NULL)
		ssh_proxy_chan_free(pc);
	ssh_proxy_agent_free(p.agent);
	if (p.ev != NULL) {
		if (p.agent_events != 0)
			ssh_event_remove_fd(p.ev, p.agent_fd);
		if (p.agent_fd >= 0)
			close(p.agent_fd);
		ssh_event_remove_session(p.ev, p.s);
		ssh_event_free(p.ev);
	}
	ssh_disconnect(p.s);
	ssh_free(p.s);
	free(p.error);
	free(p.lost_why);
	free(p.relink_error);
	free(p.relay_error);
	return rc;
}
