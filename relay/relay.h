/* relay.h - the pieces of rdev-relay shared by its files: rdev-relay.c (the
 * program: its loop, the listeners, a connection's header, the 'L' listing,
 * handing 'X' connections to an exec session), relay-connect.c (a 'C'
 * connection's connect to the port in the container) and relay-pipe.c (the
 * bytes of a connected 'C' connection, both ways) and relay-stdio.c (the
 * --connect mode: one connection over stdin and stdout). The exec session has its
 * own header, relay-exec.h.
 *
 * A struct conn belongs to rdev-relay.c's loop: relay_conn_close() takes it
 * off epoll and closes it, and the loop frees it after the pass of events.
 * Nothing here may use rdev's common/ (rdev-relay.c says why) but its
 * header-only byte-order.h and relay-wire.h, and sock-drain.c (libc only,
 * compiled in: CMakeLists.txt).
 */
#ifndef RDEV_RELAY_H
#define RDEV_RELAY_H

#include <stddef.h>
#include <stdint.h>

/* RELAY_CONNECT_TIMEOUT_MS: how long a 'C' connection's connect may take */
#include "../common/relay-wire.h"
/* struct sock_drain: a reset's wait for its socket to send what it holds */
#include "../common/sock-drain.h"

#define RELAY_MAGIC "RDEVRLY1"
#define RELAY_MAGIC_LEN 8
#define RELAY_TOKEN_LEN 32
/* magic + token + command byte (+ u16 port for 'C'). */
#define RELAY_HDR_L (RELAY_MAGIC_LEN + RELAY_TOKEN_LEN + 1)
#define RELAY_HDR_C (RELAY_HDR_L + 2)
/* Bytes held per direction per connection when the writer side is slow. */
#define RELAY_BUF 65536

enum { REPLY_CONNECTED = 0, REPLY_REFUSED = 1, REPLY_ERROR = 2 };

enum conn_state {
	CONN_HEADER,	 /* reading magic, token, command */
	CONN_CONNECTING, /* nonblocking connect to the target in progress */
	CONN_PIPE,	 /* copying bytes both ways */
	CONN_LIST,	 /* writing the 'L' answer, then close */
};

/* Where one direction of a piped connection is: reading its source, then
 * passing the end it read on once what it holds is written (relay-pipe.c,
 * relay_pipe_dir_set and its table). */
enum relay_dir_state {
	RELAY_DIR_OPEN,	    /* reading */
	RELAY_DIR_OPEN_RST, /* reading, and its source reset (a write to it
			     * failed, or its socket's error said so): the end
			     * still to read is that reset */
	RELAY_DIR_EOF,	    /* end-of-file read: what it holds, then a FIN */
	RELAY_DIR_RST,	    /* a reset read (or the end read after one was
			     * found): what it holds, then the reset */
	RELAY_DIR_DONE,	    /* its end passed on, or dropped with what it
			     * held as moot (its reader reset) */
	RELAY_DIR_N,
};

/* One direction of a piped connection: bytes read from fd[from] go to
 * fd[1 - from]. They move with splice() through a pipe made on the first
 * bytes (no copy through user space); without a pipe (out of descriptors)
 * with recv/send, pend then holding what the writer did not take yet
 * (allocated only while non-empty). Either way len, the bytes held, stays
 * at most RELAY_BUF. */
struct dir {
	int pipe[2];  /* -1 until the first bytes */
	int nosplice; /* pipe2() failed: recv/send */
	int full;     /* the pipe took no more while holding bytes */
	unsigned char *pend;
	size_t off, len;
	enum relay_dir_state state;
};

/* A piped connection's reset, passed from the side that reset to the
 * other (rst_side) after the bytes it sent before (a reset throws away what
 * its socket holds). Only relay_pipe_rst_set() changes it, along
 * relay-pipe.c's table of the moves it may make; in the two waits the
 * connection is on RELAY_DL_RESET, looked at each SOCK_DRAIN_POLL_MS
 * (relay_pipe_reset_check), and reset both ways once the bytes have gone or
 * have not moved for SOCK_DRAIN_STALL_MS (a side that stops reading would
 * hold the pair for good). */
enum relay_rst {
	RELAY_RST_NONE,	   /* no reset known */
	RELAY_RST_PENDING, /* a side's reset found (read, by a failed write,
			    * or by its socket's error) while what it sent
			    * may still be on its way to rst_side: held here,
			    * or still unread in its socket; both sockets
			    * still piped */
	RELAY_RST_DRAIN,   /* all of it written to rst_side, whose socket is to
			    * send it: both sockets unwatched */
	RELAY_RST_N,
};

struct conn {
	int fd[2];	  /* 0: the client, 1: the target */
	unsigned mask[2]; /* epoll interest registered for each fd (0: not registered) */
	enum conn_state state;
	unsigned char hdr[RELAY_HDR_C];
	size_t hlen;
	int64_t deadline;  /* CONN_HEADER, CONN_CONNECTING: when to give up */
	int dl;		   /* ... and on which deadline list (RELAY_DL_*) */
	struct dir dir[2]; /* dir[0]: client -> target, dir[1]: target -> client */
	/* CONN_CONNECTING: the port, and the IPv4 attempt's errno when falling back. */
	uint16_t port;
	int v6_attempt;
	int v4_errno;
	/* CONN_LIST: the answer and how much of it went out. */
	char *out;
	size_t out_len, out_off;
	/* CONN_HEADER, CONN_CONNECTING: on a list of connections with a
	 * deadline, the earliest first; once dead: on the list freed after
	 * the loop pass. */
	struct conn *next, *prev;
	int dead;
	/* CONN_PIPE: a side's reset on its way to the other side, rst_side
	 * (enum relay_rst); rst_side and rst_drain mean something only while
	 * one is. */
	enum relay_rst rst;
	int rst_side;
	struct sock_drain rst_drain;
};

/* The deadline lists: one per timeout (the header's, the connect's), so
 * that each stays in deadline order. */
enum { RELAY_DL_HEADER, RELAY_DL_CONNECT, RELAY_DL_RESET, RELAY_DL_N };

/* rdev-relay.c */
/* Take c off the deadline list (no-op when it is not on it). */
void relay_deadline_unlink(struct conn *c);
/* Put c at the end of deadline list which (all of whose connections have
 * the same timeout, ms), to be given up ms from now. */
void relay_deadline_add(struct conn *c, int which, int ms);
int64_t relay_now_ms(void);
/* Say msg on stderr and exit 1: bad usage, a setup that failed, or a broken
 * invariant. */
void relay_die(const char *msg) __attribute__((noreturn));
/* Register c's socket on side with epoll for mask (0: take it out). */
void relay_watch(struct conn *c, int side, unsigned mask);
/* Close c (reset: with an RST); freed after the loop's pass. */
void relay_conn_close(struct conn *c, int reset);
void relay_set_nodelay(int fd);

/* relay-connect.c */
/* Connect c to its port on 127.0.0.1, else [::1]; err: the last attempt's. */
void relay_connect_next(struct conn *c, int err);
/* c's nonblocking connect finished (its socket is writable). */
void relay_connect_event(struct conn *c);
/* c's connect did not finish by its deadline: answer REPLY_ERROR, close. */
void relay_connect_expire(struct conn *c);

/* relay-pipe.c */
/* The target connected: answer 0 and start piping. */
void relay_pipe_start(struct conn *c);
/* Events on c's socket on side while piping. */
void relay_pipe_event(struct conn *c, int side, unsigned events);
/* c's reset waits (RELAY_RST_PENDING, RELAY_RST_DRAIN): reset both sides
 * once what is still to go to rst_side has gone (its socket's send queue;
 * pending: what the reset side sent, held here or in its socket, too), or
 * has not moved for 2 s; else look again later. */
void relay_pipe_reset_check(struct conn *c);

/* relay-stdio.c */
/* --connect PORT [HOST] (NULL: the loopback): one connection over stdin and
 * stdout. Never returns. */
void relay_stdio_main(const char *port_arg, const char *host) __attribute__((noreturn));

/* relay-agent.c: `--agent-socket`, an ssh agent socket in the container
 * whose connections travel over stdin and stdout; the exit status. */
int relay_agent_main(void);

#endif
