/* ssh-proxy-relay.c - direct-tcpip channels of `rdev ssh-proxy` (`ssh -L`,
 * `-W`, `-D`, VS Code's connection to its server; ssh-proxy-internal.h):
 * each an exec of the container's relay, `/.rdev-relay --connect PORT
 * [HOST]`, whose status byte and chunked output (relay-chunks.h) become the
 * channel's bytes. The relay is asked for once per proxy (the agent's
 * "relay" op puts the binary in the container); agent forwarding
 * (ssh-proxy-fwd.c) waits for the same answer.
 */
#include "ssh-proxy-internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "proto-conn.h"
#include "xmalloc.h"

void
ssh_proxy_relay_ask(struct ssh_proxy *p)
{
	/* (never on a lost link: its request would be dropped and the answer
	 * waited for forever; the callers link first, and a channel asks
	 * again at its start) */
	if (p->lost || p->lost_why != NULL)
		return;
	ssh_proxy_queue(p, ssh_proxy_workspace_op(p, "relay", &p->relay_id));
	p->relay = SSH_PROXY_RELAY_ASKING;
}

/* A direct-tcpip channel waiting for the relay: start it, or say why not
 * (in the proxy's log: the channel has no stderr) and close it. */
static void
ssh_proxy_relay_start(struct ssh_proxy_chan *pc)
{
	struct ssh_proxy *p = pc->p;

	if (p->relay == SSH_PROXY_RELAY_READY)
		ssh_proxy_chan_start(pc, NULL, NULL);
	else if (p->relay == SSH_PROXY_RELAY_FAILED)
		ssh_proxy_chan_failed(pc, p->relay_error, SSH_PROXY_EXIT_FAILED);
}

int
ssh_proxy_relay_answer(struct ssh_proxy *p, int id, const cJSON *msg)
{
	struct ssh_proxy_chan *pc;

	if (p->relay != SSH_PROXY_RELAY_ASKING || id != p->relay_id)
		return 0;
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(msg, "ok")))
		p->relay = SSH_PROXY_RELAY_READY;
	else {
		p->relay = SSH_PROXY_RELAY_FAILED;
		p->relay_error = xstrdup(ssh_proxy_answer_error(msg, "no relay"));
	}
	LIST_FOREACH(pc, &p->chans, entry) {
		if (pc->forward_port > 0 && pc->state == SSH_PROXY_CHAN_OPEN)
			ssh_proxy_relay_start(pc);
	}
	ssh_proxy_fwd_relay_known(p);
	return 1;
}

void
ssh_proxy_relay_command(const struct ssh_proxy_chan *pc, cJSON *argv)
{
	char port[16];

	snprintf(port, sizeof port, "%d", pc->forward_port);
	cJSON_AddItemToArray(argv, cJSON_CreateString(SSH_PROXY_RELAY_PATH));
	cJSON_AddItemToArray(argv, cJSON_CreateString("--connect"));
	cJSON_AddItemToArray(argv, cJSON_CreateString(port));
	if (pc->forward_host != NULL)
		cJSON_AddItemToArray(argv, cJSON_CreateString(pc->forward_host));
}

void
ssh_proxy_relay_output(struct ssh_proxy_chan *pc, const unsigned char *data, size_t len)
{
	const unsigned char *piece;
	size_t used, plen;

	while (len > 0 && !pc->relay_broken) {
		switch (relay_chunks_feed(&pc->chunks, data, len, &used, &piece, &plen)) {
		case RELAY_CHUNKS_STATUS:
			if (pc->chunks.status != 0)
				ssh_proxy_port_failed(pc,
				    pc->chunks.status == 1 ? "nothing listens there"
							   : "cannot connect");
			break;
		case RELAY_CHUNKS_DATA: buf_append(pc->out, piece, plen); break;
		case RELAY_CHUNKS_END: pc->out_eof = 1; break;
		case RELAY_CHUNKS_MORE: break;
		case RELAY_CHUNKS_BAD:
			/* Nothing after it can be trusted to be the server's
			 * bytes: give up on the exec, whose CLOSE then ends the
			 * channel. */
			log_warn("ssh-proxy: port %d: the relay's output is broken: "
				 "closed",
			    pc->forward_port);
			pc->relay_broken = 1;
			if (ssh_proxy_chan_live(pc))
				proto_conn_queue(
				    pc->p->c, PROTO_CLOSE, pc->agent_ch, NULL, 0);
			return;
		}
		data += used;
		len -= used;
	}
}

/* Is host (a direct-tcpip destination) the container itself? */
static int
ssh_proxy_relay_loopback(const char *host)
{
	return strcmp(host, "localhost") == 0 || strcmp(host, "127.0.0.1") == 0 ||
	    strcmp(host, "::1") == 0 || strcmp(host, "0.0.0.0") == 0;
}

/* What libssh's callbacks do not cover: direct-tcpip opens, to a port of
 * the container's loopback (servers bound to 127.0.0.1 included) or of
 * another host the container reaches, carried by the relay. */
int
ssh_proxy_relay_on_message(ssh_session s, ssh_message m, void *arg)
{
	struct ssh_proxy *p = arg;
	struct ssh_proxy_chan *pc;
	const char *host;
	ssh_channel ch;
	char *cause = NULL;
	int port, loopback, by_broker;

	if (ssh_message_type(m) != SSH_REQUEST_CHANNEL_OPEN ||
	    ssh_message_subtype(m) != SSH_CHANNEL_DIRECT_TCPIP)
		return 1;
	host = ssh_message_channel_request_open_destination(m);
	port = ssh_message_channel_request_open_destination_port(m);
	if (host == NULL || *host == '\0' || strlen(host) > 255 || port <= 0 ||
	    port > 65535) {
		log_warn("ssh-proxy: direct-tcpip to %s:%d refused",
		    host != NULL ? host : "?", port);
		return 1;
	}
	/* The container's own ports: through the broker, as rdev forward
	 * (ssh-proxy-tcp.c), where it can; those need no agent connection,
	 * so that is decided first. The relay's need it (lost: made anew,
	 * else the open is refused; with the reason on stderr: ssh shows it,
	 * the refusal has none). */
	loopback = ssh_proxy_relay_loopback(host);
	by_broker = loopback && p->o->host != NULL;
	if (!by_broker && ssh_proxy_link(p, &cause) != 0) {
		fprintf(stderr, "rdev: ssh-proxy: port %d: refused: %s\n", port, cause);
		free(cause);
		return 1;
	}
	if ((ch = ssh_message_channel_request_open_reply_accept(m)) == NULL)
		return 0;
	pc = ssh_proxy_chan_new(p, ch);
	pc->forward_port = port;
	/* Anything else as the container resolves it (a Compose service, a
	 * host), as sshd connects where ssh -L asks. */
	if (!loopback)
		pc->forward_host = xstrdup(host);
	if (!by_broker || ssh_proxy_tcp_start(pc) != 0)
		ssh_proxy_relay_open(pc);
	return 0;
}

void
ssh_proxy_relay_open(struct ssh_proxy_chan *pc)
{
	char *cause = NULL;

	/* (the broker's way failed, or the link was lost since it opened) */
	if (ssh_proxy_link(pc->p, &cause) != 0) {
		ssh_proxy_chan_failed(pc, cause, SSH_PROXY_EXIT_FAILED);
		free(cause);
		return;
	}
	if (pc->p->relay == SSH_PROXY_RELAY_UNKNOWN)
		ssh_proxy_relay_ask(pc->p);
	ssh_proxy_relay_start(pc);
}
