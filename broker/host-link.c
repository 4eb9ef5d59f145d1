/* host-link.c - clients spliced to SSH channels: a `rdev-agent serve`
 * channel for rdev clients, a direct-tcpip channel for forwarded
 * connections (host-internal.h). */
#include "host-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "xmalloc.h"

static void
host_link_free(struct host_link *l)
{
	if (l->fwd != NULL)
		l->fwd->active--;
	if (l->ch != NULL) {
		if (ssh_channel_is_open(l->ch)) {
			ssh_channel_send_eof(l->ch);
			ssh_channel_close(l->ch);
		}
		ssh_channel_free(l->ch);
	}
	if (l->fd >= 0)
		close(l->fd);
	buf_free(l->to_ch);
	buf_free(l->to_cli);
	free(l);
}

/* Open a `rdev-agent serve` channel for a client and answer its request. */
void
host_link_open(struct host_session *h, struct host_job *j)
{
	ssh_session ss = rdev_ssh_session(h->ssh);
	const char *argv[] = { h->agent_path, "serve", NULL };
	struct host_link *l;
	ssh_channel ch;
	char *cmd, *msg;
	cJSON *o, *res;

	ch = ssh_channel_new(ss);
	if (ch == NULL || ssh_channel_open_session(ch) != SSH_OK) {
		msg = xasprintf("%s: cannot open a channel: %s", h->label, ssh_get_error(ss));
		goto fail;
	}
	cmd = rdev_ssh_quote_argv(argv);
	if (ssh_channel_request_exec(ch, cmd) != SSH_OK) {
		free(cmd);
		msg = xasprintf("%s: cannot run the agent: %s", h->label, ssh_get_error(ss));
		goto fail;
	}
	free(cmd);
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "id", j->request_id);
	cJSON_AddBoolToObject(o, "ok", 1);
	res = cJSON_AddObjectToObject(o, "result");
	cJSON_AddStringToObject(res, "host", h->label);
	cJSON_AddStringToObject(res, "agent", h->agent_path);
	host_send_json(j->fd, PROTO_CONTROL, o);
	cJSON_Delete(o);

	l = xcalloc(1, sizeof *l);
	l->fd = j->fd;
	l->ch = ch;
	l->to_ch = buf_new();
	l->to_cli = buf_new();
	l->cap = HOST_LINK_BUFFER;
	fcntl(l->fd, F_SETFL, fcntl(l->fd, F_GETFL) | O_NONBLOCK);
	l->next = h->links;
	h->links = l;
	free(j);
	return;
fail:
	log_warn("%s", msg);
	host_send_error(j->fd, j->request_id, msg);
	free(msg);
	if (ch != NULL)
		ssh_channel_free(ch);
	close(j->fd);
	free(j);
}

/* Move bytes between the channel and the link's buffers. */
void
host_link_pump(struct host_session *h, struct host_link *l)
{
	unsigned char tmp[65536];
	uint32_t win;
	size_t len, room;
	int n;

	/* client -> channel, as far as the peer's window allows */
	while ((len = buf_len(l->to_ch)) > 0 && !l->dead) {
		win = ssh_channel_window_size(l->ch);
		if (win == 0)
			break;
		/* All the window takes at once: libssh cuts it into packets and
		 * flushes once, not once per 32 KiB. */
		if (len > win)
			len = win;
		n = ssh_channel_write(l->ch, buf_data(l->to_ch), (uint32_t)len);
		if (n == SSH_ERROR) {
			log_warn("%s: channel write: %s", h->label,
			    ssh_get_error(rdev_ssh_session(h->ssh)));
			l->dead = 1;
			break;
		}
		if (n <= 0)
			break;
		buf_consume(l->to_ch, (size_t)n);
	}
	/* channel -> client buffer, up to the bound */
	while (!l->dead && !l->ch_eof && (len = buf_len(l->to_cli)) < l->cap) {
		room = l->cap - len;
		n = ssh_channel_read_nonblocking(l->ch, tmp,
		    (uint32_t)(room < sizeof tmp ? room : sizeof tmp), 0);
		if (n == SSH_EOF || (n == 0 && ssh_channel_is_eof(l->ch))) {
			l->ch_eof = 1;
			break;
		}
		if (n < 0) {
			log_warn("%s: channel read: %s", h->label,
			    ssh_get_error(rdev_ssh_session(h->ssh)));
			l->ch_eof = 1;
			break;
		}
		if (n == 0)
			break;
		if (l->relay_wait) {
			/* The relay's answer: 0 connected, else refused. */
			l->relay_wait = 0;
			if (tmp[0] != 0) {
				log_info("%s: forward %d: nothing listens on port %d in the "
				    "container", h->label, l->fwd->local_port, l->fwd->port);
				l->dead = 1;
				break;
			}
			buf_append(l->to_cli, tmp + 1, (size_t)n - 1);
			continue;
		}
		buf_append(l->to_cli, tmp, (size_t)n);
	}
	/* the agent's stderr: log lines only */
	while (!l->dead && (n = ssh_channel_read_nonblocking(l->ch, tmp, sizeof tmp - 1,
	    1)) > 0) {
		tmp[n] = '\0';
		log_info("%s: agent: %s", h->label, (char *)tmp);
	}
	/* client buffer -> client */
	while (!l->dead && buf_len(l->to_cli) > 0) {
		ssize_t w = send(l->fd, buf_data(l->to_cli), buf_len(l->to_cli),
		    MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (w < 0) {
			l->dead = 1;  /* the client is gone */
			break;
		}
		buf_consume(l->to_cli, (size_t)w);
	}
	if (l->ch_eof && buf_len(l->to_cli) == 0) {
		if (l->fwd == NULL)
			l->dead = 1;
		else {
			/* Half close towards the client; done once both are. */
			if (!l->cli_shut) {
				shutdown(l->fd, SHUT_WR);
				l->cli_shut = 1;
			}
			if (l->cli_eof || ssh_channel_is_closed(l->ch))
				l->dead = 1;
		}
	}
	if (l->fwd != NULL && l->cli_eof && buf_len(l->to_ch) == 0 && !l->dead &&
	    !l->ch_eof && ssh_channel_is_open(l->ch) && !l->relay_wait) {
		/* the client's EOF goes on once its data has */
		if (!l->ch_shut) {
			ssh_channel_send_eof(l->ch);
			l->ch_shut = 1;
		}
	}
}

/* The client sent something (or went away). */
void
host_link_read_client(struct host_link *l)
{
	unsigned char tmp[65536];
	ssize_t n;

	while (!l->cli_eof && buf_len(l->to_ch) < l->cap) {
		n = read(l->fd, tmp, sizeof tmp);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n == 0 && l->fwd != NULL) {
			l->cli_eof = 1;  /* half close: the reply may still come */
			return;
		}
		if (n <= 0) {
			l->dead = 1;  /* the client ended: the channel goes too */
			return;
		}
		buf_append(l->to_ch, tmp, (size_t)n);
	}
}

void
host_drop_dead_links(struct host_session *h)
{
	struct host_link **lp = &h->links, *l;

	while ((l = *lp) != NULL) {
		if (l->dead) {
			*lp = l->next;
			host_link_free(l);
		} else
			lp = &l->next;
	}
}

void
host_close_all_links(struct host_session *h)
{
	struct host_link *l;

	for (l = h->links; l != NULL; l = l->next)
		l->dead = 1;
	host_drop_dead_links(h);
}

/* Does libssh already hold data (or an EOF) for a link that has room for
 * it? It reads the socket for every channel while serving any one of them,
 * so such data would not wake poll(): do not wait then. */
int
host_links_pending(struct host_session *h)
{
	for (struct host_link *l = h->links; l != NULL; l = l->next) {
		if (l->dead || l->ch_eof)
			continue;
		if (buf_len(l->to_cli) < l->cap && ssh_channel_poll(l->ch, 0) != 0)
			return 1;
		if (ssh_channel_poll(l->ch, 1) > 0)
			return 1;
	}
	return 0;
}
