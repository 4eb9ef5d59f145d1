/* ssh-proxy-agent.c - the connections to the container's agent socket
 * (`/.rdev-relay --agent-socket`, relay/relay-agent.c) for `ssh -A` through
 * `rdev ssh-proxy` (ssh-proxy.h; docs/SSH-PROXY.md, "Agent forwarding"):
 * each becomes an auth-agent@openssh.com channel to the ssh client. The
 * relay's frames come in with ssh_proxy_agent_output(); ours go out as
 * DATA on the relay exec's agent channel.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <libssh/callbacks.h>

#include "buf.h"
#include "byte-order.h"
#include "log.h"
#include "proto-conn.h"
#include "ssh-proxy.h"
#include "xmalloc.h"

#define SSH_PROXY_AGENT_HDR 9
#define SSH_PROXY_AGENT_FRAME_MAX (256u << 10) /* relay/relay-agent.c's too */
#define SSH_PROXY_AGENT_PATH_MAX 256
/* The container's side is not trusted to keep to what the relay does: at
 * most this many connections (the relay's own limit) ... */
#define SSH_PROXY_AGENT_CONNS_MAX 64
/* ... and this much held for one whose ssh channel does not take it (agent
 * messages are small: a client that sends more is ended). */
#define SSH_PROXY_AGENT_OUT_MAX (1u << 20)

enum ssh_proxy_agent_conn_state {
	SSH_PROXY_AGENT_OPENING, /* the channel open is sent, not answered */
	SSH_PROXY_AGENT_OPEN,
	SSH_PROXY_AGENT_DONE, /* closed both ways: free it */
};

/* One connection to the container's socket and its channel to ssh. */
struct ssh_proxy_agent_conn {
	LIST_ENTRY(ssh_proxy_agent_conn) entry;
	struct ssh_proxy_agent *a;
	uint32_t id; /* the relay's */
	ssh_channel ch;
	struct ssh_channel_callbacks_struct cb;
	enum ssh_proxy_agent_conn_state state;
	struct buf *out;   /* the container's bytes ssh has not taken */
	int relay_ended;   /* the container's side closed ('E') */
	int client_ended;  /* ssh's side closed (its EOF or close) */
	int client_closed; /* ... the channel is closed */
};

struct ssh_proxy_agent {
	ssh_session s;
	struct proto_conn *c;
	uint32_t agent_ch;
	struct buf *in; /* the relay's frames not yet whole */
	char *path;
	int broken;
	unsigned nconns;
	LIST_HEAD(, ssh_proxy_agent_conn) conns;
};

struct ssh_proxy_agent *
ssh_proxy_agent_new(ssh_session s, struct proto_conn *c, uint32_t agent_ch)
{
	struct ssh_proxy_agent *a = xcalloc(1, sizeof *a);

	a->s = s;
	a->c = c;
	a->agent_ch = agent_ch;
	a->in = buf_new();
	LIST_INIT(&a->conns);
	return a;
}

/* A frame for the relay. */
static void
ssh_proxy_agent_send(
    struct ssh_proxy_agent *a, char type, uint32_t id, const void *data, size_t len)
{
	unsigned char h[SSH_PROXY_AGENT_HDR];

	h[0] = (unsigned char)type;
	be_put_u32(h + 1, id);
	be_put_u32(h + 5, (uint32_t)len);
	proto_conn_queue(a->c, PROTO_DATA, a->agent_ch, h, sizeof h);
	if (len > 0)
		proto_conn_queue(a->c, PROTO_DATA, a->agent_ch, data, len);
}

static int
ssh_proxy_agent_on_data(
    ssh_session s, ssh_channel ch, void *data, uint32_t len, int is_stderr, void *arg)
{
	struct ssh_proxy_agent_conn *ac = arg;
	const unsigned char *p = data;
	uint32_t n, left = len;

	/* (libssh may hand over more than a packet: the relay takes frames
	 * of at most SSH_PROXY_AGENT_FRAME_MAX) */
	while (!ac->client_ended && !is_stderr && left > 0) {
		n = left < SSH_PROXY_AGENT_FRAME_MAX ? left : SSH_PROXY_AGENT_FRAME_MAX;
		ssh_proxy_agent_send(ac->a, 'D', ac->id, p, n);
		p += n;
		left -= n;
	}
	return (int)len;
}

/* ssh's end of the connection: the container's client sees its end. */
static void
ssh_proxy_agent_client_end(struct ssh_proxy_agent_conn *ac)
{
	if (ac->client_ended)
		return;
	ac->client_ended = 1;
	if (!ac->relay_ended)
		ssh_proxy_agent_send(ac->a, 'E', ac->id, NULL, 0);
}

static void
ssh_proxy_agent_on_eof(ssh_session s, ssh_channel ch, void *arg)
{
	ssh_proxy_agent_client_end(arg);
}

static void
ssh_proxy_agent_on_close(ssh_session s, ssh_channel ch, void *arg)
{
	struct ssh_proxy_agent_conn *ac = arg;

	ac->client_closed = 1;
	ssh_proxy_agent_client_end(ac);
}

static struct ssh_proxy_agent_conn *
ssh_proxy_agent_conn_find(struct ssh_proxy_agent *a, uint32_t id)
{
	struct ssh_proxy_agent_conn *ac;

	LIST_FOREACH(ac, &a->conns, entry) {
		if (ac->id == id && ac->state != SSH_PROXY_AGENT_DONE)
			return ac;
	}
	return NULL;
}

/* A new connection in the container: ask ssh for a channel to its agent
 * (no channel to be had, e.g. the session is gone: the connection ends). */
static void
ssh_proxy_agent_conn_new(struct ssh_proxy_agent *a, uint32_t id)
{
	struct ssh_proxy_agent_conn *ac;
	ssh_channel ch;

	if ((ch = ssh_channel_new(a->s)) == NULL) {
		log_warn("ssh-proxy: agent connection %u: no channel: closed", id);
		ssh_proxy_agent_send(a, 'E', id, NULL, 0);
		return;
	}
	ac = xcalloc(1, sizeof *ac);
	ac->a = a;
	ac->id = id;
	ac->out = buf_new();
	ac->ch = ch;
	ac->cb.userdata = ac;
	ac->cb.channel_data_function = ssh_proxy_agent_on_data;
	ac->cb.channel_eof_function = ssh_proxy_agent_on_eof;
	ac->cb.channel_close_function = ssh_proxy_agent_on_close;
	ssh_callbacks_init(&ac->cb);
	ssh_set_channel_callbacks(ac->ch, &ac->cb);
	ac->state = SSH_PROXY_AGENT_OPENING;
	LIST_INSERT_HEAD(&a->conns, ac, entry);
	a->nconns++;
	log_debug("ssh-proxy: agent connection %u: opening", id);
}

static void
ssh_proxy_agent_frame(
    struct ssh_proxy_agent *a, char type, uint32_t id, const unsigned char *p, size_t len)
{
	struct ssh_proxy_agent_conn *ac;

	switch (type) {
	case 'P':
		if (a->path == NULL && len > 0 && len < SSH_PROXY_AGENT_PATH_MAX &&
		    memchr(p, '\0', len) == NULL)
			a->path = xstrndup((const char *)p, len);
		return;
	case 'O':
		if (ssh_proxy_agent_conn_find(a, id) != NULL)
			return;
		if (a->nconns >= SSH_PROXY_AGENT_CONNS_MAX) {
			log_warn("ssh-proxy: agent connection %u: more than %u at once: "
				 "closed",
			    id, SSH_PROXY_AGENT_CONNS_MAX);
			ssh_proxy_agent_send(a, 'E', id, NULL, 0);
			return;
		}
		ssh_proxy_agent_conn_new(a, id);
		return;
	case 'D':
		if ((ac = ssh_proxy_agent_conn_find(a, id)) == NULL || ac->client_ended)
			return;
		if (buf_len(ac->out) + len > SSH_PROXY_AGENT_OUT_MAX) {
			log_warn("ssh-proxy: agent connection %u: more than %u bytes "
				 "the client's agent has not taken: closed",
			    id, SSH_PROXY_AGENT_OUT_MAX);
			buf_reset(ac->out);
			ac->relay_ended = 1;
			ssh_proxy_agent_client_end(ac);
			return;
		}
		buf_append(ac->out, p, len);
		return;
	case 'E':
		if ((ac = ssh_proxy_agent_conn_find(a, id)) != NULL)
			ac->relay_ended = 1;
		return;
	default: a->broken = 1; return;
	}
}

void
ssh_proxy_agent_output(struct ssh_proxy_agent *a, const void *data, size_t len)
{
	const unsigned char *p;
	size_t need;
	uint32_t flen;

	if (a->broken)
		return;
	buf_append(a->in, data, len);
	while (buf_len(a->in) >= SSH_PROXY_AGENT_HDR) {
		p = buf_data(a->in);
		if ((flen = be_get_u32(p + 5)) > SSH_PROXY_AGENT_FRAME_MAX) {
			a->broken = 1;
			break;
		}
		need = SSH_PROXY_AGENT_HDR + flen;
		if (buf_len(a->in) < need)
			break;
		ssh_proxy_agent_frame(
		    a, (char)p[0], be_get_u32(p + 1), p + SSH_PROXY_AGENT_HDR, flen);
		buf_consume(a->in, need);
	}
	if (a->broken) {
		log_warn("ssh-proxy: the container's agent socket sent a broken frame");
		buf_reset(a->in);
	}
}

const char *
ssh_proxy_agent_path(const struct ssh_proxy_agent *a)
{
	return a != NULL ? a->path : NULL;
}

static void
ssh_proxy_agent_conn_free(struct ssh_proxy_agent_conn *ac)
{
	LIST_REMOVE(ac, entry);
	ac->a->nconns--;
	ssh_proxy_channel_free(ac->ch, &ac->cb);
	buf_free(ac->out);
	free(ac);
}

/* Open, write, end one connection's channel as far as it can go now. */
static void
ssh_proxy_agent_conn_step(struct ssh_proxy_agent_conn *ac)
{
	unsigned char chunk[16384];
	size_t len;
	int rc;

	if (ac->state == SSH_PROXY_AGENT_OPENING) {
		rc = ssh_channel_open_auth_agent(ac->ch);
		if (rc == SSH_AGAIN)
			return;
		if (rc != SSH_OK) {
			/* (ssh without -A refuses: the container's client
			 * sees its end) */
			log_info("ssh-proxy: agent connection %u: the client refused "
				 "the channel",
			    ac->id);
			ac->client_closed = 1;
			ssh_proxy_agent_client_end(ac);
			ac->state = SSH_PROXY_AGENT_DONE;
			return;
		}
		ac->state = SSH_PROXY_AGENT_OPEN;
	}
	while ((len = buf_len(ac->out)) > 0 && !ac->client_closed) {
		/* (a copy: the write may poll the agent's fd, whose frames
		 * append to ac->out) */
		if (len > sizeof chunk)
			len = sizeof chunk;
		memcpy(chunk, buf_data(ac->out), len);
		rc = ssh_channel_write(ac->ch, chunk, len);
		if (rc <= 0)
			break;
		buf_consume(ac->out, (size_t)rc);
	}
	if (ac->client_closed)
		buf_reset(ac->out);
	if (buf_len(ac->out) > 0)
		return;
	if ((ac->relay_ended || ac->client_ended) && !ac->client_closed) {
		ssh_channel_send_eof(ac->ch);
		ssh_channel_close(ac->ch);
		ac->client_closed = 1;
		ssh_proxy_agent_client_end(ac);
	}
	if (ac->client_closed)
		ac->state = SSH_PROXY_AGENT_DONE;
}

void
ssh_proxy_agent_step(struct ssh_proxy_agent *a)
{
	struct ssh_proxy_agent_conn *ac, *next;

	if (a == NULL)
		return;
	for (ac = LIST_FIRST(&a->conns); ac != NULL; ac = next) {
		next = LIST_NEXT(ac, entry);
		ssh_proxy_agent_conn_step(ac);
		if (ac->state == SSH_PROXY_AGENT_DONE)
			ssh_proxy_agent_conn_free(ac);
	}
}

void
ssh_proxy_agent_free(struct ssh_proxy_agent *a)
{
	if (a == NULL)
		return;
	while (!LIST_EMPTY(&a->conns))
		ssh_proxy_agent_conn_free(LIST_FIRST(&a->conns));
	buf_free(a->in);
	free(a->path);
	free(a);
}
