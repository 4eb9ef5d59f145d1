/* serve-mux.h - streams of the agent session: byte streams the broker opens
 * on `rdev-agent serve --listen`'s own stdin/stdout, for hosts whose sshd
 * forwards nothing (docs/PROTOCOL.md, "Streams of the agent session").
 *
 * After the agent's HELLO and "listening" event, the broker may send its
 * HELLO and then open streams: a CONTROL request {"id":C,"op":"open",
 * "connect":"agent"|"tcp","address":A,"port":P,"window":W} opens stream C
 * (C > 0, never reused by the broker) to a new agent connection (served by
 * a child process as a socket connection would be) or a TCP connection made
 * from the host; the answer is {"id":C,"ok":true,"window":W2} or
 * {"id":C,"ok":false,"error":"...","refused":BOOL}. Then DATA, EOF (half
 * close) and CLOSE (final, from either side; not answered; "reset":true
 * when a "tcp" stream's connection was reset, by its server or by the
 * broker's client: passed on as a reset) travel on
 * channel C, and WINDOW frames (u32 big-endian) grant the peer more bytes:
 * neither side sends more DATA on a stream than the other has granted (W,
 * W2 at the open, then each WINDOW), so one slow reader stalls only its
 * own stream, and the agent holds at most its window per stream for its
 * socket (SERVE_MUX_WINDOW, SERVE_MUX_TCP_WINDOW for a "tcp" stream). The
 * stream is made as its open is read, before the next frame: the broker may
 * send DATA right behind the open, before the answer (PROTO_EARLY_DATA at
 * most, announced by serve_mux_hello_features); DATA for a stream that was
 * refused, as for one that ended, is dropped. A
 * CONTROL request {"id":N,"op":"info"} (N any number; the broker takes it
 * from the streams' ids) is answered on the session itself
 * (serve_mux_set_info), with no stream.
 *
 * Ownership: serve_mux_new's object owns its streams (their sockets and
 * buffers) and its buffers; the in and out fds stay the caller's. Single
 * threaded, no globals.
 */
#ifndef RDEV_SERVE_MUX_H
#define RDEV_SERVE_MUX_H

#include <poll.h>
#include <stddef.h>

#include <cjson/cJSON.h>

/* The agent's receive window per stream: an "agent" stream's ... */
#define SERVE_MUX_WINDOW (1u << 20)
/* ... and a "tcp" stream's: an upload's credit loop runs through the agent,
 * its pipe, sshd and the broker's round, twice the hops of a direct-tcpip
 * channel's window adjust (whose window sshd keeps at 2 MB), so 1 MiB
 * capped uploads on an idle machine (bench/README.md, issue 19). */
#define SERVE_MUX_TCP_WINDOW (2u << 20)

struct buf;
struct serve_mux;

/* Whether the agent's loop busy-polls after a request went to a socket
 * (serve-mux.c, serve_mux_wait): off with one CPU; each spin that caught
 * the answer (a socket written to turned readable) scores +1, each that
 * caught nothing -2 (within 0..SERVE_MUX_SPIN_MAX), one ended by other work
 * (the broker's frames, other streams, a signal) nothing,
 * and below SERVE_MUX_SPIN_MIN (fewer than 2 hits in 3) only one request in
 * SERVE_MUX_SPIN_RETRY spins, to see whether answers come fast again (one
 * that catches its answer turns spinning back on). */
/* (the longest spin, in microseconds) */
#define SERVE_MUX_SPIN_US 50
#define SERVE_MUX_SPIN_MAX 16
#define SERVE_MUX_SPIN_MIN 8
#define SERVE_MUX_SPIN_START 12
#define SERVE_MUX_SPIN_RETRY 64
struct serve_mux_spin {
	int on;
	int score;
	unsigned skipped; /* requests not spun after, since the last spin */
	long long us;	  /* the longest spin: SERVE_MUX_SPIN_US */
	/* (counted for tests and the log: spins, those that caught the
	 * answer, those ended by other work) */
	unsigned long spins, hits, cut;
};
/* A policy for cpus CPUs. */
void serve_mux_spin_init(struct serve_mux_spin *sp, int cpus);
/* Whether to spin after this request (1) or sleep at once (0). */
int serve_mux_spin_wanted(struct serve_mux_spin *sp);
/* What the spin caught: the answer (hit) or nothing in its time. */
void serve_mux_spin_result(struct serve_mux_spin *sp, int hit);
/* The spin was ended by other work: counted, not scored. */
void serve_mux_spin_cut(struct serve_mux_spin *sp);
/* m's policy (borrowed: valid while m is). */
const struct serve_mux_spin *serve_mux_spin_policy(const struct serve_mux *m);
/* m's policy made anew for cpus CPUs, whatever this machine has (tests:
 * the spin tested under taskset -c 0 or RDEV_AGENT_NO_SPIN too). */
void serve_mux_set_spin_cpus(struct serve_mux *m, int cpus);
/* m's longest spin set to us microseconds (tests: an answer that comes
 * while it spins, on a loaded machine too; serve_mux_set_spin_cpus puts
 * back SERVE_MUX_SPIN_US). */
void serve_mux_set_spin_us(struct serve_mux *m, long long us);

/* A new connection served by an agent process: our end's fd, or -1 with
 * *cause. */
typedef int (*serve_mux_agent_fn)(void *arg, char **cause);

/* A mux on in_fd/out_fd (made nonblocking here) for a process that may run
 * on cpus CPUs (host_usage_cpus: its spin policy; RDEV_AGENT_NO_SPIN in the
 * environment counts as one); agent makes the "agent" streams'
 * connections. Free with serve_mux_free. */
struct serve_mux *serve_mux_new(
    int in_fd, int out_fd, int cpus, serve_mux_agent_fn agent, void *arg);
/* How "tcp" streams connect: a nonblocking socket whose connect to
 * address:port is under way or done, or -1 with *err an errno value. */
typedef int (*serve_mux_connect_fn)(const char *address, int port, int *err);
/* Replace how m connects "tcp" streams (tests and fuzzing: no network). */
void serve_mux_set_connect(struct serve_mux *m, serve_mux_connect_fn fn);
/* How "exec" streams start: one connection to port on the loopback of
 * container container_id through a Docker exec of its relay (`rdev-agent
 * connect`); our end of it (a socket), or -1 with *cause. */
typedef int (*serve_mux_exec_fn)(
    void *arg, const char *container_id, int port, char **cause);
/* Offer "exec" streams, started by fn (none: they are refused as a bad
 * open request, as an older agent does). */
void serve_mux_set_exec(struct serve_mux *m, serve_mux_exec_fn fn, void *arg);
/* The answer to an "info" request on the agent session itself
 * ({"id":N,"op":"info"} -> {"id":N,"ok":true,"result":{...}} or
 * {"id":N,"ok":false,"error":"..."}): *result new, 0; or -1 with *cause. */
typedef int (*serve_mux_info_fn)(void *arg, cJSON **result, char **cause);
/* Who answers "info" requests (none set: they are refused). */
void serve_mux_set_info(struct serve_mux *m, serve_mux_info_fn fn, void *arg);
/* Add what this mux takes to the agent's HELLO (its "features": DATA right
 * behind an open, PROTO_FEATURE_EARLY_DATA). */
void serve_mux_hello_features(cJSON *hello);
/* Act on bytes from the broker (what serve_mux_poll reads from in_fd):
 * whole frames are handled, a partial one waits for the rest. 0, or -1 when
 * they are not the protocol (logged; the caller ends). Answers and stream
 * output are queued for out_fd. */
int serve_mux_input(struct serve_mux *m, const void *data, size_t len);
/* The frames queued for out_fd, not written yet (borrowed from m: valid
 * until the next call on m). */
const struct buf *serve_mux_output(const struct serve_mux *m);
/* Close every stream and free m (NULL: nothing). */
void serve_mux_free(struct serve_mux *m);
/* In a child forked while m serves: close the streams' sockets (its copies
 * would keep their connections from ending), nothing else. */
void serve_mux_close_in_child(struct serve_mux *m);
/* Wait (poll) for m's fds and the caller's extra[0..nextra) (their revents
 * set for the caller), at most timeout_ms (-1: no limit; connects in
 * progress shorten it), and serve what is ready. Returns 1 while the
 * broker's side is open, 0 once it ended (end of input, or frames that are
 * not the protocol: logged). */
int serve_mux_poll(
    struct serve_mux *m, struct pollfd *extra, size_t nextra, int timeout_ms);

#endif
