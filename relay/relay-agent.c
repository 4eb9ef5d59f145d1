/* relay-agent.c - `rdev-relay --agent-socket`: the container's end of ssh
 * agent forwarding for `rdev ssh-proxy` (docs/SSH-PROXY.md, "Agent
 * forwarding"). Run as an exec, as the remote user, it makes a unix socket
 * in a new 0700 folder under /tmp and carries every connection to it over
 * its stdin and stdout, which the proxy turns into auth-agent@openssh.com
 * channels to the ssh client.
 *
 * Frames both ways: u8 type, u32 connection id, u32 length (big-endian), the
 * payload. Relay to proxy: 'P' the socket's path (first, id 0), 'O' a new
 * connection, 'D' its bytes, 'E' its end. Proxy to relay: 'D' bytes for the
 * connection, 'E' close it. The end of stdin, SIGHUP or SIGTERM end the
 * relay; the socket and its folder are removed.
 *
 * Agent requests and answers are small and a client waits for each answer,
 * so writes block (stdout and the connections): no queues to bound.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "relay.h"

#define RELAY_AGENT_CONNS 64
#define RELAY_AGENT_FRAME_MAX (256u << 10) /* an agent message's most, and more */
#define RELAY_AGENT_HDR 9

static volatile sig_atomic_t relay_agent_stop;
static char relay_agent_dir[64], relay_agent_path[96]; /* < sun_path */

struct relay_agent_conn {
	int fd; /* -1: free slot */
	uint32_t id;
};

static void
relay_agent_on_signal(int sig)
{
	(void)sig;
	relay_agent_stop = 1;
}

static int
relay_agent_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void
relay_agent_put_u32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static uint32_t
relay_agent_get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* One frame on stdout; -1 when the proxy is gone. */
static int
relay_agent_send(char type, uint32_t id, const void *data, size_t len)
{
	unsigned char h[RELAY_AGENT_HDR];

	h[0] = (unsigned char)type;
	relay_agent_put_u32(h + 1, id);
	relay_agent_put_u32(h + 5, (uint32_t)len);
	if (relay_agent_write_all(1, h, sizeof h) != 0)
		return -1;
	return len > 0 ? relay_agent_write_all(1, data, len) : 0;
}

static void
relay_agent_cleanup(void)
{
	if (relay_agent_path[0] != '\0')
		(void)unlink(relay_agent_path);
	if (relay_agent_dir[0] != '\0')
		(void)rmdir(relay_agent_dir);
}

/* The listening socket in a new private folder; -1 with a message. */
static int
relay_agent_listen(void)
{
	struct sockaddr_un sun;
	int fd;

	snprintf(relay_agent_dir, sizeof relay_agent_dir, "/tmp/rdev-agent.XXXXXX");
	if (mkdtemp(relay_agent_dir) == NULL) {
		fprintf(stderr, "rdev-relay: mkdtemp /tmp: %s\n", strerror(errno));
		relay_agent_dir[0] = '\0';
		return -1;
	}
	snprintf(
	    relay_agent_path, sizeof relay_agent_path, "%s/agent.sock", relay_agent_dir);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", relay_agent_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof sun) != 0 ||
	    listen(fd, 16) != 0) {
		fprintf(
		    stderr, "rdev-relay: %s: %s\n", relay_agent_path, strerror(errno));
		relay_agent_path[0] = '\0';
		return -1;
	}
	return fd;
}

/* A frame from the proxy (complete in buf). */
static void
relay_agent_frame(struct relay_agent_conn *conns, const unsigned char *buf)
{
	uint32_t id = relay_agent_get_u32(buf + 1), len = relay_agent_get_u32(buf + 5);
	int i;

	for (i = 0; i < RELAY_AGENT_CONNS; i++)
		if (conns[i].fd >= 0 && conns[i].id == id)
			break;
	if (i == RELAY_AGENT_CONNS)
		return; /* (closed here meanwhile) */
	if (buf[0] == 'D' &&
	    relay_agent_write_all(conns[i].fd, buf + RELAY_AGENT_HDR, len) == 0)
		return;
	if (buf[0] == 'D')
		(void)relay_agent_send('E', id, NULL, 0);
	close(conns[i].fd);
	conns[i].fd = -1;
}

int
relay_agent_main(void)
{
	struct relay_agent_conn conns[RELAY_AGENT_CONNS];
	struct pollfd pfd[2 + RELAY_AGENT_CONNS];
	struct sigaction sa;
	unsigned char *in, chunk[65536];
	size_t in_len = 0, need;
	uint32_t next_id = 1;
	int lfd, i, n, rc = 1;
	ssize_t got;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = relay_agent_on_signal;
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	umask(077);
	for (i = 0; i < RELAY_AGENT_CONNS; i++)
		conns[i].fd = -1;
	if ((in = malloc(RELAY_AGENT_HDR + RELAY_AGENT_FRAME_MAX)) == NULL ||
	    (lfd = relay_agent_listen()) < 0)
		goto out;
	if (relay_agent_send('P', 0, relay_agent_path, strlen(relay_agent_path)) != 0)
		goto out;
	while (!relay_agent_stop) {
		pfd[0].fd = 0;
		pfd[0].events = POLLIN;
		pfd[1].fd = lfd;
		pfd[1].events = POLLIN;
		for (i = 0; i < RELAY_AGENT_CONNS; i++) {
			pfd[2 + i].fd = conns[i].fd;
			pfd[2 + i].events = POLLIN;
		}
		if (poll(pfd, 2 + RELAY_AGENT_CONNS, -1) < 0) {
			if (errno == EINTR)
				continue;
			goto out;
		}
		if (pfd[0].revents != 0) {
			got = read(0, in + in_len,
			    RELAY_AGENT_HDR + RELAY_AGENT_FRAME_MAX - in_len);
			if (got < 0 && errno == EINTR)
				continue;
			if (got <= 0) {
				rc = 0; /* the proxy's end */
				goto out;
			}
			in_len += (size_t)got;
			while (in_len >= RELAY_AGENT_HDR) {
				if (relay_agent_get_u32(in + 5) > RELAY_AGENT_FRAME_MAX) {
					fprintf(
					    stderr, "rdev-relay: a frame too large\n");
					goto out;
				}
				need = RELAY_AGENT_HDR + relay_agent_get_u32(in + 5);
				if (in_len < need)
					break;
				relay_agent_frame(conns, in);
				memmove(in, in + need, in_len - need);
				in_len -= need;
			}
		}
		if (pfd[1].revents & POLLIN) {
			n = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
			for (i = 0; n >= 0 && i < RELAY_AGENT_CONNS; i++)
				if (conns[i].fd < 0)
					break;
			if (n >= 0 && i == RELAY_AGENT_CONNS)
				close(n); /* too many at once: that client sees its end */
			else if (n >= 0) {
				conns[i].fd = n;
				conns[i].id = next_id++;
				if (relay_agent_send('O', conns[i].id, NULL, 0) != 0)
					goto out;
			}
		}
		for (i = 0; i < RELAY_AGENT_CONNS; i++) {
			if (conns[i].fd < 0 || pfd[2 + i].fd != conns[i].fd ||
			    pfd[2 + i].revents == 0)
				continue;
			got = read(conns[i].fd, chunk, sizeof chunk);
			if (got < 0 && errno == EINTR)
				continue;
			if (got > 0 &&
			    relay_agent_send('D', conns[i].id, chunk, (size_t)got) == 0)
				continue;
			if (got > 0 || relay_agent_send('E', conns[i].id, NULL, 0) != 0)
				goto out;
			close(conns[i].fd);
			conns[i].fd = -1;
		}
	}
	rc = 0;
out:
	relay_agent_cleanup();
	free(in);
	return rc;
}
