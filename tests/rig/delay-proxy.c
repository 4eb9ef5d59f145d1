/* delay-proxy.c - a TCP proxy that delays each direction by half a round
 * trip: the rig's stand-in for a distant host (tc netem is not available on
 * these machines). tests/rig/rig.sh builds it (`rig.sh delay-proxy-bin`).
 *
 *     delay-proxy [--listen ADDR] [--max-queue BYTES] [--pidfile FILE]
 *                 [--nice N] PORT TARGET_HOST:TARGET_PORT RTT_MS
 *
 * Listens on ADDR:PORT (default 127.0.0.1; PORT 0: one the kernel picks).
 * Each accepted connection is connected to the target one RTT later (the SYN
 * and SYN-ACK a real link would take); then every chunk read on either side
 * is queued with the time it is due, RTT_MS / 2 after it arrived, and written
 * to the other side when that time comes, in order. An EOF travels the same
 * way (a half-close is passed on as one), and so does a reset or an error,
 * after the data before it (as an EOF).
 *
 * It delays, it does not limit: it reads each side as fast as the data comes
 * and keeps what is not due yet, so the only cap on throughput is the one the
 * delay implies for the endpoints' own windows. What it keeps per direction
 * is bounded (--max-queue, default 64 MiB): above it, it stops reading that
 * side until half of it is gone. Out of fds, it goes on with the
 * connections it has: a new one it cannot connect is reset, and it leaves
 * the backlog alone for 100 ms when it cannot accept.
 *
 * Why C: the link's own precision is what keystroke and latency goals are
 * judged against. The due times are kept in nanoseconds and waited for with
 * an absolute CLOCK_MONOTONIC timerfd (timer slack 1 ns), so a chunk leaves
 * within microseconds of its time; an asyncio loop rounds each wait up to
 * the next millisecond and its wake-ups showed as a tail of their own (a 40
 * ms round trip's p99 44.8 ms at load 3). A link does not wait for the
 * machine's CPU either, so the proxy raises its priority (--nice, default
 * -10: when it may, i.e. as root).
 *
 * One thread, one epoll loop (rig.sh delay-freeze stops it with SIGSTOP:
 * nothing moves then). Prints "listening ADDR:PORT" on stdout once it
 * accepts connections. Ownership: each struct conn owns its two sockets and
 * the chunks queued in its two directions; main owns the list of conns. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define READ_MAX (256 * 1024)

struct chunk {
	struct chunk *next;
	int64_t due; /* ns, CLOCK_MONOTONIC */
	size_t len, off;
	int eof; /* the end of the stream (no bytes) */
	char data[];
};

struct conn;

/* One direction: bytes read from src wait in the queue until due, then go
 * to dst. */
struct direction {
	struct conn *conn;
	int src_side, dst_side; /* 0 client, 1 target */
	struct chunk *head, *tail;
	size_t queued;
	int paused;   /* stopped reading src: the queue is over --max-queue */
	int read_end; /* src gave its EOF (or error): read no more */
	int done;     /* the EOF was passed on, or dst is gone */
	int blocked;  /* dst's socket is full: waiting for EPOLLOUT */
};

/* What an epoll event names: a side of a conn (or the listener/timer). */
struct side {
	struct conn *conn;
	int index;
};

struct conn {
	struct conn *next, *prev;
	int dead;	       /* closed; freed after the current batch of events */
	int fd[2];	       /* client, target (-1 until connecting) */
	int connected;	       /* the target's connect completed */
	int64_t connect_at;    /* when to start the target's connect (0: started) */
	struct direction d[2]; /* d[0]: client -> target, d[1]: target -> client */
	struct side side[2];
	uint32_t events[2]; /* registered epoll interest per fd */
};

struct proxy {
	int ep, timer, listener;
	int64_t delay; /* ns each way */
	size_t max_queue;
	struct addrinfo *target;
	struct conn *conns;
	struct conn *dead; /* closed conns, freed after each batch */
	int64_t armed;	   /* the timer's due time, 0 none */
	int64_t accept_at; /* out of fds (or memory): accept again then, 0 now */
	char *buf;
};

#define ACCEPT_PAUSE_NS (100 * 1000000)

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
die(const char *what)
{
	fprintf(stderr, "delay-proxy: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void
set_nonblock_nodelay(int fd)
{
	int one = 1;

	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* The epoll interest fd i of c needs now. */
static void
conn_watch(struct proxy *p, struct conn *c, int i)
{
	struct epoll_event ev = { 0 };
	struct direction *out = &c->d[i];    /* fd i is its src */
	struct direction *in = &c->d[1 - i]; /* fd i is its dst */
	uint32_t want = 0;

	if (c->fd[i] < 0)
		return;
	if (i == 1 && !c->connected)
		want = EPOLLOUT; /* the connect's completion */
	else {
		if (!out->paused && !out->read_end && !out->done)
			want |= EPOLLIN;
		if (in->blocked)
			want |= EPOLLOUT;
	}
	if (want == c->events[i])
		return;
	ev.events = want;
	ev.data.ptr = &c->side[i];
	if (epoll_ctl(p->ep, EPOLL_CTL_MOD, c->fd[i], &ev) != 0)
		die("epoll_ctl");
	c->events[i] = want;
}

static void
conn_add_fd(struct proxy *p, struct conn *c, int i, int fd)
{
	struct epoll_event ev = { 0 };

	c->fd[i] = fd;
	c->events[i] = 0;
	ev.events = 0;
	ev.data.ptr = &c->side[i];
	if (epoll_ctl(p->ep, EPOLL_CTL_ADD, fd, &ev) != 0)
		die("epoll_ctl");
	conn_watch(p, c, i);
}

static void
direction_clear(struct direction *d)
{
	struct chunk *k;

	while ((k = d->head) != NULL) {
		d->head = k->next;
		free(k);
	}
	d->tail = NULL;
	d->queued = 0;
	d->blocked = 0;
}

/* Close c (its fds leave epoll with them) and keep it, marked dead, until
 * the batch of events that may still name it is over. */
static void
conn_kill(struct proxy *p, struct conn *c)
{
	for (int i = 0; i < 2; i++) {
		direction_clear(&c->d[i]);
		if (c->fd[i] >= 0)
			close(c->fd[i]);
		c->fd[i] = -1;
	}
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		p->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	c->dead = 1;
	c->next = p->dead;
	p->dead = c;
}

/* Both directions done: the conn goes. */
static void
conn_check_done(struct proxy *p, struct conn *c)
{
	if (c->d[0].done && c->d[1].done)
		conn_kill(p, c);
}

static void
direction_push(struct direction *d, const char *data, size_t len, int eof, int64_t due)
{
	struct chunk *k = malloc(sizeof *k + len);

	if (k == NULL)
		die("malloc");
	k->next = NULL;
	k->due = due;
	k->len = len;
	k->off = 0;
	k->eof = eof;
	memcpy(k->data, data, len);
	if (d->tail != NULL)
		d->tail->next = k;
	else
		d->head = k;
	d->tail = k;
	d->queued += len;
}

static void side_lost(struct proxy *p, struct conn *c, int i);
static void conn_connected(struct proxy *p, struct conn *c);

/* Write what is due of direction d (once its dst is connected); c may be
 * dead after it. */
static void
direction_flush(struct proxy *p, struct direction *d, int64_t now)
{
	struct conn *c = d->conn;
	int dst = c->fd[d->dst_side];
	struct chunk *k;

	if (c->dead || d->done || dst < 0 || (d->dst_side == 1 && !c->connected))
		return;
	d->blocked = 0;
	while ((k = d->head) != NULL && k->due <= now) {
		if (k->eof) {
			shutdown(dst, SHUT_WR);
			d->done = 1;
			direction_clear(d);
			conn_check_done(p, c);
			return;
		}
		while (k->off < k->len) {
			ssize_t n = send(dst, k->data + k->off, k->len - k->off,
			    MSG_NOSIGNAL | MSG_DONTWAIT);

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
				d->blocked = 1;
				conn_watch(p, c, d->dst_side);
				return;
			}
			if (n < 0) {
				side_lost(p, c, d->dst_side);
				return;
			}
			k->off += (size_t)n;
			d->queued -= (size_t)n;
		}
		d->head = k->next;
		if (d->head == NULL)
			d->tail = NULL;
		free(k);
	}
	conn_watch(p, c, d->dst_side);
	if (d->paused && d->queued <= p->max_queue / 2) {
		d->paused = 0;
		conn_watch(p, c, d->src_side);
	}
}

/* Side i of c is gone (reset, error): what it sent before goes on, then an
 * EOF; what was on its way to it is dropped. */
static void
side_lost(struct proxy *p, struct conn *c, int i)
{
	struct direction *out = &c->d[i], *in = &c->d[1 - i];

	if (!out->read_end && !out->done) {
		out->read_end = 1;
		direction_push(out, "", 0, 1, now_ns() + p->delay);
	}
	in->done = 1;
	direction_clear(in);
	if (c->fd[i] >= 0) {
		epoll_ctl(p->ep, EPOLL_CTL_DEL, c->fd[i], NULL);
		close(c->fd[i]);
		c->fd[i] = -1;
	}
	if (i == 1)
		c->connected = 1; /* (no connect to wait for any more) */
	conn_check_done(p, c);
	direction_flush(p, out, now_ns());
}

/* Read what side i of c has; drain: all of it, to its EOF or error, over
 * --max-queue too (the side hung up: its fd goes after this, and what the
 * socket still holds must not go with it). */
static void
side_read(struct proxy *p, struct conn *c, int i, int drain)
{
	struct direction *d = &c->d[i];

	while ((drain || !d->paused) && !d->read_end) {
		ssize_t n = recv(c->fd[i], p->buf, READ_MAX, MSG_DONTWAIT);
		int64_t now;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0) {
			side_lost(p, c, i);
			return;
		}
		now = now_ns();
		if (n == 0) {
			d->read_end = 1;
			direction_push(d, "", 0, 1, now + p->delay);
		} else {
			direction_push(d, p->buf, (size_t)n, 0, now + p->delay);
			if (d->queued > p->max_queue)
				d->paused = 1;
		}
		direction_flush(p, d, now);
		if (c->dead || c->fd[i] < 0)
			return;
		if (n < READ_MAX && !drain)
			break;
	}
	conn_watch(p, c, i);
}

/* Events e on side s (its conn may have died earlier in the batch). */
static void
side_event(struct proxy *p, struct side *s, uint32_t e)
{
	struct conn *c = s->conn;
	int si = s->index;

	if (c->dead || c->fd[si] < 0)
		return;
	if (si == 1 && !c->connected) {
		conn_connected(p, c);
		return;
	}
	if (e & EPOLLOUT) {
		direction_flush(p, &c->d[1 - si], now_ns());
		if (c->dead || c->fd[si] < 0)
			return;
	}
	if (!(e & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	if (!c->d[si].read_end)
		side_read(p, c, si, (e & (EPOLLHUP | EPOLLERR)) != 0);
	/* Hung up (both ways shut, or reset): reported for as long as the fd
	 * is watched, and of no more use: it goes. */
	if ((e & (EPOLLHUP | EPOLLERR)) && !c->dead && c->fd[si] >= 0)
		side_lost(p, c, si);
}

static void
conn_start_connect(struct proxy *p, struct conn *c)
{
	int fd = socket(p->target->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	c->connect_at = 0;
	if (fd >= 0)
		set_nonblock_nodelay(fd);
	/* (out of fds: this connection fails as a refused one would; the
	 * others go on) */
	if (fd < 0 ||
	    (connect(fd, p->target->ai_addr, p->target->ai_addrlen) != 0 &&
		errno != EINPROGRESS)) {
		fprintf(stderr, "delay-proxy: %s: %s\n", fd < 0 ? "socket" : "connect",
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		c->connected = 1;
		/* (the client is reset, as a refused connection would be) */
		{
			struct linger lg = { 1, 0 };

			setsockopt(c->fd[0], SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
		}
		conn_kill(p, c);
		return;
	}
	conn_add_fd(p, c, 1, fd);
}

static void
conn_connected(struct proxy *p, struct conn *c)
{
	int err = 0;
	socklen_t len = sizeof err;

	getsockopt(c->fd[1], SOL_SOCKET, SO_ERROR, &err, &len);
	if (err != 0) {
		struct linger lg = { 1, 0 };

		fprintf(stderr, "delay-proxy: connect: %s\n", strerror(err));
		setsockopt(c->fd[0], SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
		conn_kill(p, c);
		return;
	}
	c->connected = 1;
	conn_watch(p, c, 1);
	direction_flush(p, &c->d[0], now_ns());
	if (!c->dead)
		conn_watch(p, c, 0);
}

static void
proxy_accept(struct proxy *p)
{
	for (;;) {
		int fd = accept4(p->listener, NULL, NULL, SOCK_CLOEXEC);
		struct conn *c;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				/* (the connections there go on; the new ones wait
				 * in the backlog a while, the listener unwatched:
				 * it would be reported ready all that time) */
				struct epoll_event ev = { 0 };

				fprintf(
				    stderr, "delay-proxy: accept: %s\n", strerror(errno));
				ev.data.ptr = &p->listener;
				if (epoll_ctl(p->ep, EPOLL_CTL_MOD, p->listener, &ev) !=
				    0)
					die("epoll_ctl");
				p->accept_at = now_ns() + ACCEPT_PAUSE_NS;
				return;
			}
			die("accept");
		}
		set_nonblock_nodelay(fd);
		if ((c = calloc(1, sizeof *c)) == NULL)
			die("calloc");
		c->fd[1] = -1;
		for (int i = 0; i < 2; i++) {
			c->d[i].conn = c;
			c->d[i].src_side = i;
			c->d[i].dst_side = 1 - i;
			c->side[i].conn = c;
			c->side[i].index = i;
		}
		/* (the SYN and the SYN-ACK: one round trip before the target
		 * sees it) */
		c->connect_at = now_ns() + 2 * p->delay;
		c->next = p->conns;
		if (p->conns != NULL)
			p->conns->prev = c;
		p->conns = c;
		conn_add_fd(p, c, 0, fd);
		if (p->delay == 0)
			conn_start_connect(p, c);
	}
}

/* Start the connects and write the chunks that are due; arm the timer for
 * the next due time. */
static void
proxy_run_due(struct proxy *p)
{
	int64_t now = now_ns(), next = 0;
	struct conn *c, *n;

	if (p->accept_at != 0 && p->accept_at <= now) {
		struct epoll_event ev = { 0 };

		ev.events = EPOLLIN;
		ev.data.ptr = &p->listener;
		if (epoll_ctl(p->ep, EPOLL_CTL_MOD, p->listener, &ev) != 0)
			die("epoll_ctl");
		p->accept_at = 0;
	}
	next = p->accept_at;
	for (c = p->conns; c != NULL; c = n) {
		n = c->next;
		if (c->connect_at != 0 && c->connect_at <= now) {
			conn_start_connect(p, c);
			continue; /* (c may be gone) */
		}
		for (int i = 0; i < 2 && !c->dead; i++) {
			struct direction *d = &c->d[i];

			if (d->head != NULL && d->head->due <= now && !d->blocked)
				direction_flush(p, d, now);
		}
	}
	for (c = p->conns; c != NULL; c = c->next) {
		if (c->connect_at != 0 && (next == 0 || c->connect_at < next))
			next = c->connect_at;
		for (int i = 0; i < 2; i++) {
			struct direction *d = &c->d[i];

			if (d->head != NULL && !d->blocked && !d->done &&
			    (d->dst_side == 0 || c->connected) &&
			    (next == 0 || d->head->due < next))
				next = d->head->due;
		}
	}
	if (next != p->armed) {
		struct itimerspec its = { 0 };

		if (next != 0) {
			its.it_value.tv_sec = next / 1000000000;
			its.it_value.tv_nsec = next % 1000000000;
		}
		if (timerfd_settime(p->timer, TFD_TIMER_ABSTIME, &its, NULL) != 0)
			die("timerfd_settime");
		p->armed = next;
	}
}

static int
resolve(const char *host, const char *port, int passive, struct addrinfo **out)
{
	struct addrinfo hints = { 0 };
	int rc;

	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = passive ? AI_PASSIVE : 0;
	if ((rc = getaddrinfo(host, port, &hints, out)) != 0) {
		fprintf(stderr, "delay-proxy: %s:%s: %s\n", host, port, gai_strerror(rc));
		return -1;
	}
	return 0;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: delay-proxy [--listen ADDR] [--max-queue BYTES] "
	    "[--pidfile FILE] [--nice N] PORT TARGET_HOST:TARGET_PORT "
	    "RTT_MS\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *listen_addr = "127.0.0.1", *pidfile = NULL;
	char *target, *colon, host[256], port_s[16], *end;
	struct proxy p = { 0 };
	struct addrinfo *la;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	struct epoll_event ev = { 0 };
	double rtt_ms;
	long nice_n = -10, max_queue = 64L << 20;
	int i, one = 1;

	for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
		if (i + 1 >= argc)
			usage();
		if (strcmp(argv[i], "--listen") == 0)
			listen_addr = argv[i + 1];
		else if (strcmp(argv[i], "--max-queue") == 0)
			max_queue = strtol(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--pidfile") == 0)
			pidfile = argv[i + 1];
		else if (strcmp(argv[i], "--nice") == 0)
			nice_n = strtol(argv[i + 1], NULL, 10);
		else
			usage();
	}
	if (argc - i != 3)
		usage();
	target = argv[i + 1];
	rtt_ms = strtod(argv[i + 2], &end);
	colon = strrchr(target, ':');
	if (*end != '\0' || rtt_ms < 0 || max_queue < 1 || colon == NULL ||
	    colon == target || (size_t)(colon - target) >= sizeof host ||
	    strlen(colon + 1) >= sizeof port_s)
		usage();
	memcpy(host, target, (size_t)(colon - target));
	host[colon - target] = '\0';
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	snprintf(port_s, sizeof port_s, "%s", colon + 1);
	if (resolve(host, port_s, 0, &p.target) != 0 ||
	    resolve(listen_addr, argv[i], 1, &la) != 0)
		return 1;
	p.delay = (int64_t)(rtt_ms * 500000.0 + 0.5); /* half, in ns */
	p.max_queue = (size_t)max_queue;
	if ((p.buf = malloc(READ_MAX)) == NULL)
		die("malloc");
	signal(SIGPIPE, SIG_IGN);
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	if (nice_n != 0)
		(void)setpriority(PRIO_PROCESS, 0, (int)nice_n); /* (as root only) */

	p.listener = socket(la->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (p.listener < 0)
		die("socket");
	setsockopt(p.listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(p.listener, la->ai_addr, la->ai_addrlen) != 0)
		die("bind");
	if (listen(p.listener, 128) != 0)
		die("listen");
	getsockname(p.listener, (struct sockaddr *)&ss, &sl);
	freeaddrinfo(la);
	if ((p.ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		die("epoll_create1");
	if ((p.timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)) < 0)
		die("timerfd_create");
	ev.events = EPOLLIN;
	ev.data.ptr = &p.listener;
	epoll_ctl(p.ep, EPOLL_CTL_ADD, p.listener, &ev);
	ev.data.ptr = &p.timer;
	epoll_ctl(p.ep, EPOLL_CTL_ADD, p.timer, &ev);
	if (pidfile != NULL) {
		FILE *f = fopen(pidfile, "w");

		if (f == NULL)
			die(pidfile);
		fprintf(f, "%d\n", (int)getpid());
		fclose(f);
	}
	printf("listening %s:%d\n", listen_addr,
	    ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
					   : ((struct sockaddr_in *)&ss)->sin_port));
	fflush(stdout);

	for (;;) {
		struct epoll_event evs[64];
		int n = epoll_wait(p.ep, evs, 64, -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("epoll_wait");
		for (int k = 0; k < n; k++) {
			void *ptr = evs[k].data.ptr;

			if (ptr == &p.listener) {
				proxy_accept(&p);
			} else if (ptr == &p.timer) {
				uint64_t ticks;

				(void)!read(p.timer, &ticks, sizeof ticks);
				p.armed = 0;
			} else {
				side_event(&p, ptr, evs[k].events);
			}
		}
		proxy_run_due(&p);
		while (p.dead != NULL) {
			struct conn *c = p.dead;

			p.dead = c->next;
			free(c);
		}
	}
}
