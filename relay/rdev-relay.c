/* rdev-relay.c - the in-container relay for port forwarding: main(), the
 * epoll loop, the listeners, each connection's header, the 'L' listing and
 * the hand-off of 'X' connections to an exec session. A 'C' connection's
 * connect is in relay-connect.c, its bytes in relay-pipe.c (relay.h); the
 * exec session in relay-exec.c.
 *
 * A tiny static program that rdev-agent copies into a dev container and
 * starts there (agent/relay-install.c). It lets the broker reach any TCP
 * server in the container's network namespace, including one bound only to
 * 127.0.0.1, with one TCP connection per forwarded connection and no
 * `docker exec` per connection. Wire protocol: docs/PROTOCOL.md, "The
 * container relay".
 *
 *   RDEV_RELAY_TOKEN=<64 hex> rdev-relay --port-file PATH [--loopback]
 *                                        [--nofile SOFT]
 *
 * --nofile SOFT: the container's open-files soft limit (HostConfig.Ulimits);
 * what exec sessions' commands get: relay_command_nofile.
 *
 * Listens on 0.0.0.0:0 (and [::]:0 when IPv6 works), with --loopback on
 * 127.0.0.1:0 (and [::1]:0) only: a container on the host's network shares
 * the Docker host's addresses, and the relay, which runs commands, must not
 * listen on them (the broker reaches it at 127.0.0.1 there). It writes the IPv4 port
 * to PATH (temp + rename) and serves forever: one epoll loop, no threads,
 * nonblocking sockets, bytes moved with splice() through a 64 KiB pipe per
 * direction (recv/send through a bounded buffer when out of descriptors).
 * It exits quietly once PATH names another port (a newer relay took over)
 * and its last connection has ended; it looks at PATH every 2 s and before
 * each accept: once replaced it serves the connections already queued,
 * then closes its listeners (later ones are refused: the broker asks the
 * agent again).
 *
 *   rdev-relay --winsize ROWS COLS COMMAND [ARG...]
 *
 * The other job of the same binary (one upload serves both): set the window
 * size of the terminal on stdin, then execvp() COMMAND, so that a command
 * started with a TTY sees the client's size on its very first read. The
 * agent starts TTY execs through it when the Docker daemon cannot take the
 * size with the exec (API < 1.42; docs/PROTOCOL.md, "exec and its channels").
 * If COMMAND cannot be run it says why on stderr and exits 127 (not found)
 * or 126, as a shell would.
 *
 *   rdev-relay --connect PORT [HOST]
 *
 * The third: one forwarded connection to PORT on the container's loopback
 * (or on HOST as the container resolves it: a Compose service),
 * carried over stdin and stdout, when the relay runs as a Docker exec
 * attached to them because the broker cannot reach the container's address
 * (Docker Desktop). relay-stdio.c.
 *
 *   rdev-relay --agent-socket
 *
 * The fourth: ssh agent forwarding for `rdev ssh-proxy`, a unix socket in
 * the container whose connections travel over stdin and stdout
 * (relay-agent.c).
 *
 * Built with musl-gcc -static (or gcc -static): no libc beyond the kernel's
 * system calls is needed at run time, so it runs in Debian, Alpine and
 * FROM scratch images alike. It must not use anything from rdev's common/
 * (that links cJSON, libsodium) but what relay.h names.
 */
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "relay-exec.h"
#include "relay.h"

#define RELAY_HEADER_TIMEOUT_MS 10000
#define RELAY_SUPERSEDE_CHECK_MS 2000
#define RELAY_ACCEPT_PAUSE_MS 100

static int relay_epfd = -1;
static int relay_lfd[2] = { -1, -1 };
static uint16_t relay_port[2];
static unsigned char relay_token[RELAY_TOKEN_LEN];
/* Connections with a deadline (relay.h): one list per timeout, each so in
 * deadline order, the earliest first. */
static struct relay_deadlines {
	struct conn *head, *tail;
} relay_dl[RELAY_DL_N];
static struct conn *relay_grave; /* closed, freed after the pass */
static int relay_nconns;
/* What exec sessions' commands get as RLIMIT_NOFILE (relay-exec.h):
 * relay_command_nofile. All 0: not known. */
static struct rlimit relay_nofile;

int64_t
relay_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
relay_die(const char *msg)
{
	fprintf(stderr, "rdev-relay: %s\n", msg);
	exit(1);
}

static int
relay_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Constant-time comparison of the client's token with ours. */
static int
relay_token_ok(const unsigned char *t)
{
	unsigned char d = 0;

	for (int i = 0; i < RELAY_TOKEN_LEN; i++)
		d |= t[i] ^ relay_token[i];
	return d == 0;
}

/* Register fd with epoll for mask, or take it out when mask is 0 (so a
 * hung-up socket we are not reading cannot make the loop spin). */
void
relay_watch(struct conn *c, int side, unsigned mask)
{
	struct epoll_event ev;
	int op;

	if (c->fd[side] < 0 || c->mask[side] == mask)
		return;
	ev.events = mask;
	ev.data.u64 = (uint64_t)(uintptr_t)c | (uint64_t)side;
	if (mask == 0)
		op = EPOLL_CTL_DEL;
	else
		op = c->mask[side] == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
	if (epoll_ctl(relay_epfd, op, c->fd[side], &ev) < 0 && op != EPOLL_CTL_DEL)
		relay_die("epoll_ctl failed");
	c->mask[side] = mask;
}

void
relay_deadline_unlink(struct conn *c)
{
	struct relay_deadlines *dl = &relay_dl[c->dl];

	if (c->deadline == 0)
		return;
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		dl->head = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	else
		dl->tail = c->prev;
	c->next = c->prev = NULL;
	c->deadline = 0;
}

void
relay_deadline_add(struct conn *c, int which, int ms)
{
	struct relay_deadlines *dl = &relay_dl[which];

	c->dl = which;
	c->deadline = relay_now_ms() + ms;
	c->prev = dl->tail;
	if (dl->tail != NULL)
		dl->tail->next = c;
	else
		dl->head = c;
	dl->tail = c;
}

void
relay_conn_close(struct conn *c, int reset)
{
	if (c->dead)
		return;
	for (int s = 0; s < 2; s++) {
		relay_watch(c, s, 0);
		if (c->fd[s] >= 0) {
			if (reset)
				sock_drain_reset_at_close(c->fd[s]);
			close(c->fd[s]);
			c->fd[s] = -1;
		}
		free(c->dir[s].pend);
		c->dir[s].pend = NULL;
		for (int k = 0; k < 2; k++)
			if (c->dir[s].pipe[k] >= 0) {
				close(c->dir[s].pipe[k]);
				c->dir[s].pipe[k] = -1;
			}
	}
	free(c->out);
	c->out = NULL;
	c->dead = 1;
	relay_deadline_unlink(c);
	relay_nconns--;
	/* Freed after this pass of events: a later event may still name it. */
	c->next = relay_grave;
	relay_grave = c;
}

void
relay_set_nodelay(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* Append "PORT ADDRESS\n" for each listening socket in one /proc/net file. */
static void
relay_list_file(const char *path, int v6, char **out, size_t *len, size_t *cap)
{
	char line[512], addr[INET6_ADDRSTRLEN], entry[80];
	FILE *f = fopen(path, "re");
	unsigned port, st, w[4];
	unsigned char raw[16];

	if (f == NULL)
		return;
	if (fgets(line, sizeof line, f) == NULL) { /* header line */
		fclose(f);
		return;
	}
	while (fgets(line, sizeof line, f) != NULL) {
		int ok;
		if (v6)
			ok = sscanf(line, " %*u: %8x%8x%8x%8x:%x %*x:%*x %x", &w[0],
				 &w[1], &w[2], &w[3], &port, &st) == 6;
		else
			ok = sscanf(line, " %*u: %8x:%x %*x:%*x %x", &w[0], &port, &st) ==
			    3;
		if (!ok || st != 0x0A || port > 65535)
			continue;
		/* Our own listeners: the IPv4 one in tcp, the IPv6-only one in
		 * tcp6. */
		if (port == relay_port[v6] && relay_lfd[v6] >= 0)
			continue;
		/* The kernel prints each 32-bit word of the address as it lies in
		 * memory, read as a native integer: copying the integers back
		 * restores the bytes on any endianness. */
		for (int i = 0; i < (v6 ? 4 : 1); i++) {
			uint32_t x = w[i];
			memcpy(raw + 4 * i, &x, 4);
		}
		if (inet_ntop(v6 ? AF_INET6 : AF_INET, raw, addr, sizeof addr) == NULL)
			continue;
		int n = snprintf(entry, sizeof entry, "%u %s\n", port, addr);
		if (n <= 0 || (size_t)n >= sizeof entry)
			continue;
		/* SO_REUSEPORT listeners show up once per socket: list each once. */
		int dup = 0;
		for (char *p = *out; p != NULL && p < *out + *len;) {
			char *nl = memchr(p, '\n', (size_t)(*out + *len - p));
			if ((size_t)(nl + 1 - p) == (size_t)n &&
			    memcmp(p, entry, (size_t)n) == 0) {
				dup = 1;
				break;
			}
			p = nl + 1;
		}
		if (dup)
			continue;
		if (*len + (size_t)n > *cap) {
			size_t ncap = *cap == 0 ? 4096 : *cap * 2;
			char *nb = realloc(*out, ncap);
			if (nb == NULL)
				break;
			*out = nb;
			*cap = ncap;
		}
		memcpy(*out + *len, entry, (size_t)n);
		*len += (size_t)n;
	}
	fclose(f);
}

static void
relay_list_event(struct conn *c)
{
	ssize_t n;

	while (c->out_off < c->out_len) {
		n = send(
		    c->fd[0], c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			relay_watch(c, 0, EPOLLOUT);
			return;
		}
		if (n < 0) {
			relay_conn_close(c, 1);
			return;
		}
		c->out_off += (size_t)n;
	}
	relay_conn_close(c, 0);
}

static void
relay_list_start(struct conn *c)
{
	size_t cap = 0;

	c->state = CONN_LIST;
	relay_list_file("/proc/net/tcp", 0, &c->out, &c->out_len, &cap);
	relay_list_file("/proc/net/tcp6", 1, &c->out, &c->out_len, &cap);
	relay_list_event(c);
}

/* In an exec session's process: close every descriptor of the relay but
 * keep (and 0-2), so that connections the relay closes are closed. */
static void
relay_close_others(int keep)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int fd;

	if (d == NULL) {
		for (fd = 3; fd < 65536; fd++)
			if (fd != keep)
				close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		fd = atoi(de->d_name);
		if (fd > 2 && fd != keep && fd != dirfd(d))
			close(fd);
	}
	closedir(d);
}

/* 'X': the exec session runs in a process of its own (relay-exec.h); the
 * relay keeps no part of the connection. */
static void
relay_exec_start(struct conn *c)
{
	pid_t pid = fork();

	if (pid == 0) {
		relay_close_others(c->fd[0]);
		relay_exec_session(c->fd[0], &relay_nofile);
	}
	/* Without a process (out of them) the agent sees the connection
	 * close before any frame, and falls back to a Docker exec. */
	relay_conn_close(c, 0);
}

/* Read the header without reading past it: bytes after it belong to the
 * target. Bad magic, token or command: close without a word. */
static void
relay_header_event(struct conn *c)
{
	size_t want;
	ssize_t n;

	for (;;) {
		want = c->hlen < RELAY_HDR_L	     ? RELAY_HDR_L
		    : c->hdr[RELAY_HDR_L - 1] == 'C' ? RELAY_HDR_C
						     : RELAY_HDR_L;
		if (c->hlen == want)
			break;
		n = recv(c->fd[0], c->hdr + c->hlen, want - c->hlen, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			relay_conn_close(c, 0);
			return;
		}
		c->hlen += (size_t)n;
		if (c->hlen >= RELAY_MAGIC_LEN &&
		    memcmp(c->hdr, RELAY_MAGIC, RELAY_MAGIC_LEN) != 0) {
			relay_conn_close(c, 0);
			return;
		}
	}
	if (!relay_token_ok(c->hdr + RELAY_MAGIC_LEN)) {
		relay_conn_close(c, 0);
		return;
	}
	relay_deadline_unlink(c);
	switch (c->hdr[RELAY_HDR_L - 1]) {
	case 'C':
		c->port = (uint16_t)(c->hdr[RELAY_HDR_L] << 8 | c->hdr[RELAY_HDR_L + 1]);
		relay_watch(c, 0, 0);
		relay_deadline_add(c, RELAY_DL_CONNECT, RELAY_CONNECT_TIMEOUT_MS);
		relay_connect_next(c, 0);
		break;
	case 'L': relay_list_start(c); break;
	case 'X': relay_exec_start(c); break;
	default: relay_conn_close(c, 0); break;
	}
}

static int relay_accept_paused;
static int64_t relay_accept_resume;
static int relay_superseded;

static void
relay_listeners_watch(int on)
{
	struct epoll_event ev;

	for (int i = 0; i < 2; i++) {
		if (relay_lfd[i] < 0)
			continue;
		ev.events = EPOLLIN;
		ev.data.u64 = (uint64_t)i; /* 0 or 1: never a conn pointer */
		epoll_ctl(
		    relay_epfd, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, relay_lfd[i], &ev);
	}
}

/* Accept up to 256 connections waiting on lfd. 1 when all 256 were taken
 * (more may wait), 0 once the queue is empty or nothing more can be taken. */
static int
relay_accept(int lfd)
{
	struct conn *c;
	int fd;

	for (int i = 0; i < 256; i++) {
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				/* Out of descriptors: stop accepting for a moment
				 * rather than spin on a listener we cannot serve. */
				relay_listeners_watch(0);
				relay_accept_paused = 1;
				relay_accept_resume =
				    relay_now_ms() + RELAY_ACCEPT_PAUSE_MS;
			}
			return 0;
		}
		c = calloc(1, sizeof *c);
		if (c == NULL) {
			close(fd);
			return 0;
		}
		relay_set_nodelay(fd);
		c->fd[0] = fd;
		c->fd[1] = -1;
		c->dir[0].pipe[0] = c->dir[0].pipe[1] = -1;
		c->dir[1].pipe[0] = c->dir[1].pipe[1] = -1;
		c->state = CONN_HEADER;
		relay_deadline_add(c, RELAY_DL_HEADER, RELAY_HEADER_TIMEOUT_MS);
		relay_nconns++;
		relay_watch(c, 0, EPOLLIN);
	}
	return 1;
}

static void
relay_conn_event(struct conn *c, int side, unsigned events)
{
	if (c->dead)
		return;
	switch (c->state) {
	case CONN_HEADER: relay_header_event(c); break;
	case CONN_CONNECTING: relay_connect_event(c); break;
	case CONN_PIPE: relay_pipe_event(c, side, events); break;
	case CONN_LIST: relay_list_event(c); break;
	}
}

/* Connections past their deadline are given up: one still in CONN_HEADER
 * closed, one still connecting answered REPLY_ERROR. Each list is in
 * deadline order (one timeout per list), so its first ones are its
 * earliest. Returns the ms until the next deadline, or -1. */
static int
relay_expire(int64_t now)
{
	int64_t next = -1;

	for (int i = 0; i < RELAY_DL_N; i++) {
		for (struct conn *c = relay_dl[i].head, *n; c != NULL; c = n) {
			n = c->next;
			if (c->deadline > now) {
				if (next < 0 || c->deadline - now < next)
					next = c->deadline - now;
				break;
			}
			if (c->state == CONN_CONNECTING)
				relay_connect_expire(c);
			else if (c->rst != RELAY_RST_NONE) {
				/* (put back at the tail, later than now: this
				 * walk stops at it, also when it was the last,
				 * whose deadline would else be missed: the next
				 * look only at the loop's 2 s check) */
				relay_deadline_unlink(c);
				relay_pipe_reset_check(c);
				if (n == NULL && !c->dead)
					n = c;
			} else
				relay_conn_close(c, 0);
		}
	}
	return (int)next;
}

/* A newer relay writes its own port to the port file: then we stop
 * listening and exit once our connections are gone. The connections
 * already queued on the listeners are accepted first and served (they
 * hold our token: a broker whose target is still this relay); closing a
 * listener would reset them, a connection the broker does not retry.
 * Once the listeners are closed, a connection to this port is refused,
 * and the broker asks the agent again. */
static void
relay_check_superseded(const char *port_file)
{
	char b[16];
	ssize_t n;
	int fd;

	if (relay_superseded)
		return;
	if ((fd = open(port_file, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	n = read(fd, b, sizeof b - 1);
	close(fd);
	if (n <= 0)
		return;
	b[n] = '\0';
	if (strtoul(b, NULL, 10) == relay_port[0])
		return;
	relay_superseded = 1;
	relay_listeners_watch(0);
	/* What was queued (the backlog is 4096: a steady stream of new
	 * connections cannot keep it accepting for ever) */
	for (int i = 0; i < 2; i++)
		if (relay_lfd[i] >= 0) {
			for (int k = 0; k < 4096 && relay_accept(relay_lfd[i]); k++)
				;
			close(relay_lfd[i]);
			relay_lfd[i] = -1;
		}
	/* (no listener left to resume: a pause for descriptors would make the
	 * loop's timeout 0 until the last connection ends) */
	relay_accept_paused = 0;
}

/* A listener on any address (loopback: on the loopback one) of the family,
 * port chosen by the kernel: its descriptor and *port, or -1. */
static int
relay_listen(int v6, int loopback, uint16_t *port)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	int fd, one = 1;

	memset(&ss, 0, sizeof ss);
	if (v6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_addr = loopback ? in6addr_loopback : in6addr_any;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_addr.s_addr = htonl(loopback ? INADDR_LOOPBACK : INADDR_ANY);
	}
	fd = socket(
	    v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (v6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	/* Its connections inherit it: the TIME-WAIT they leave (the relay
	 * often closes first) does not keep another program's listener,
	 * which sets it too, off this port for a minute after the relay is
	 * gone (a killed relay's port is free at once). */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&ss,
		v6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in)) < 0 ||
	    listen(fd, 4096) < 0 || getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
		close(fd);
		return -1;
	}
	*port = ntohs(v6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
			 : ((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

/* Write "PORT\n" to path through a temporary file and rename(). */
static void
relay_write_port_file(const char *path)
{
	char tmp[4096], text[16];
	int fd, n;

	if (snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid()) >=
	    (int)sizeof tmp)
		relay_die("port file path too long");
	n = snprintf(text, sizeof text, "%u\n", relay_port[0]);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
		relay_die("cannot create the port file");
	if (write(fd, text, (size_t)n) != n || close(fd) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		relay_die("cannot write the port file");
	}
}

static void
relay_usage(void)
{
	relay_die(
	    "usage: RDEV_RELAY_TOKEN=<64 hex> rdev-relay --port-file PATH [--loopback] "
	    "[--nofile SOFT]\n"
	    "       rdev-relay --winsize ROWS COLS COMMAND [ARG...]\n"
	    "       rdev-relay --connect PORT");
}

/* --winsize ROWS COLS COMMAND...: size the terminal on stdin, become
 * COMMAND. Stdin that is no terminal is left alone (there is no size to
 * set). The size is set by the process itself, before COMMAND runs, as the
 * exec's pty exists only once the exec has started. */
static void
relay_winsize_exec(int argc, char **argv)
{
	struct winsize ws;
	int e;

	memset(&ws, 0, sizeof ws);
	if (argc < 5 || relay_exec_dimension(argv[2], &ws.ws_row) != 0 ||
	    relay_exec_dimension(argv[3], &ws.ws_col) != 0)
		relay_usage();
	(void)ioctl(0, TIOCSWINSZ, &ws);
	execvp(argv[4], argv + 4);
	e = errno;
	/* The words of runc's message, which names the command the same way. */
	if (e == ENOENT && strchr(argv[4], '/') == NULL)
		fprintf(stderr,
		    "rdev: exec: \"%s\": executable file not found in $PATH\n", argv[4]);
	else
		fprintf(stderr, "rdev: exec: \"%s\": %s\n", argv[4], strerror(e));
	exit(e == ENOENT ? 127 : 126);
}

/* The open-files soft limit of the container's first process, from
 * /proc/1/limits; -1 when not known (no /proc). */
static long long
relay_init_nofile(void)
{
	char line[256];
	long long soft = -1;
	FILE *f = fopen("/proc/1/limits", "re");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL)
		if (strncmp(line, "Max open files", 14) == 0) {
			if (sscanf(line + 14, "%lld", &soft) != 1)
				soft = -1;
			break;
		}
	fclose(f);
	return soft;
}

/* The open-files limit exec sessions' commands get, as a Docker exec's
 * would (the one place that decides it; agent/relay-install.c passes
 * given). The relay cannot take the one it started with: a Docker exec,
 * which starts it, may get the hard limit as its soft one (Docker 20.10
 * with runc 1.1, about one exec in seven). The hard limit is the relay's
 * (a Docker exec's hard one is the container's); the soft one, never above
 * it, is in this order:
 * - given (--nofile: the container's HostConfig.Ulimits, runArgs --ulimit),
 *   the runtime's for every exec: right even when process 1 changed its
 *   own limit since;
 * - else process 1's (/proc/1/limits): what the runtime gave the container
 *   (a daemon's default-ulimits, or its own limit), as it gives an exec;
 * - else (no /proc) the relay's own as it started.
 * Sets *rl from start, the relay's limit as it started. */
static void
relay_command_nofile(long long given, const struct rlimit *start, struct rlimit *rl)
{
	long long soft = given >= 0 ? given : relay_init_nofile();

	*rl = *start;
	/* (never above the hard limit: setrlimit would refuse it) */
	if (soft >= 0)
		rl->rlim_cur =
		    (rlim_t)soft < start->rlim_max ? (rlim_t)soft : start->rlim_max;
}

int
main(int argc, char **argv)
{
	struct epoll_event evs[256];
	struct rlimit rl;
	const char *port_file = NULL;
	char *tok;
	int64_t now, next_check;
	int n, timeout, t, loopback = 0;
	long long nofile = -1;
	char *end;

	if (argc > 1 && strcmp(argv[1], "--winsize") == 0)
		relay_winsize_exec(argc, argv);
	if ((argc == 3 || argc == 4) && strcmp(argv[1], "--connect") == 0)
		relay_stdio_main(argv[2], argc == 4 ? argv[3] : NULL);
	if (argc == 2 && strcmp(argv[1], "--agent-socket") == 0)
		return relay_agent_main();
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--port-file") == 0 && i + 1 < argc)
			port_file = argv[++i];
		else if (strcmp(argv[i], "--loopback") == 0)
			loopback = 1;
		else if (strcmp(argv[i], "--nofile") == 0 && i + 1 < argc) {
			errno = 0;
			nofile = strtoll(argv[++i], &end, 10);
			if (errno != 0 || end == argv[i] || *end != '\0' || nofile < 0)
				relay_usage();
		} else
			relay_usage();
	}
	if (port_file == NULL)
		relay_usage();
	tok = getenv("RDEV_RELAY_TOKEN");
	if (tok == NULL || strlen(tok) != 2 * RELAY_TOKEN_LEN)
		relay_die("RDEV_RELAY_TOKEN must hold 64 hex digits");
	for (int i = 0; i < RELAY_TOKEN_LEN; i++) {
		int hi = relay_hexval(tok[2 * i]), lo = relay_hexval(tok[2 * i + 1]);
		if (hi < 0 || lo < 0)
			relay_die("RDEV_RELAY_TOKEN must hold 64 hex digits");
		relay_token[i] = (unsigned char)(hi << 4 | lo);
	}
	/* Wipe it where /proc/PID/environ would show it. */
	memset(tok, '0', strlen(tok));

	signal(SIGPIPE, SIG_IGN);
	/* Exec sessions' processes are reaped by the kernel. */
	signal(SIGCHLD, SIG_IGN);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		relay_command_nofile(nofile, &rl, &relay_nofile);
		if (rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max;
			setrlimit(RLIMIT_NOFILE, &rl);
		}
	}
	if ((relay_lfd[0] = relay_listen(0, loopback, &relay_port[0])) < 0)
		relay_die(
		    loopback ? "cannot listen on 127.0.0.1" : "cannot listen on 0.0.0.0");
	/* without IPv6: none */
	relay_lfd[1] = relay_listen(1, loopback, &relay_port[1]);
	if ((relay_epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
		relay_die("epoll_create1 failed");
	relay_listeners_watch(1);
	relay_write_port_file(port_file);

	next_check = relay_now_ms() + RELAY_SUPERSEDE_CHECK_MS;
	for (;;) {
		now = relay_now_ms();
		timeout = (int)(next_check - now);
		if ((t = relay_expire(now)) >= 0 && t < timeout)
			timeout = t;
		if (relay_accept_paused && relay_accept_resume - now < timeout)
			timeout = (int)(relay_accept_resume - now);
		if (timeout < 0)
			timeout = 0;
		n = epoll_wait(
		    relay_epfd, evs, (int)(sizeof evs / sizeof evs[0]), timeout);
		if (n < 0 && errno != EINTR)
			relay_die("epoll_wait failed");
		/* A connection to accept: first make sure no newer relay took
		 * over, so that one going away takes what is queued and then
		 * closes its listeners (relay_check_superseded) rather than
		 * go on accepting for up to 2 s. One small file read. */
		for (int i = 0; i < n; i++) {
			if (evs[i].data.u64 < 2) {
				relay_check_superseded(port_file);
				break;
			}
		}
		for (int i = 0; i < n; i++) {
			uint64_t u = evs[i].data.u64;
			if (u < 2) {
				if (relay_lfd[u] >= 0)
					relay_accept(relay_lfd[u]);
				continue;
			}
			relay_conn_event((struct conn *)(uintptr_t)(u & ~(uint64_t)1),
			    (int)(u & 1), evs[i].events);
		}
		while (relay_grave != NULL) {
			struct conn *c = relay_grave;
			relay_grave = c->next;
			free(c);
		}
		now = relay_now_ms();
		if (relay_accept_paused && now >= relay_accept_resume &&
		    !relay_superseded) {
			relay_accept_paused = 0;
			relay_listeners_watch(1);
		}
		if (now >= next_check) {
			relay_check_superseded(port_file);
			next_check = now + RELAY_SUPERSEDE_CHECK_MS;
		}
		if (relay_superseded && relay_nconns == 0)
			return 0;
	}
}
