/* agent-exec.h - a command started in a workspace's dev container for `exec`
 * (cmd-exec.c and serve-job.c pump it), through one of two transports:
 *
 * - the container's rdev-relay (exec-relay.h), the default: one TCP
 *   connection, a few milliseconds, no Docker exec;
 * - a Docker exec (docker.h's docker_exec_attach()), when the relay cannot
 *   serve (no address: `network_mode: none`; a read-only filesystem; no relay
 *   binary), or when RDEV_EXEC_VIA=docker is set in the agent's environment.
 *
 * The pumps do not need to know which: input, its end, resizes and signals
 * go through the functions below, which queue bytes for fd in the pump's
 * output buffer or call Docker; output is cut into stdout/stderr pieces by
 * agent_exec_output(). docs/PROTOCOL.md, "exec and its channels".
 *
 * The pump itself is agent_exec_pump_run(): the exec's side of it (queued
 * bytes written to x->fd, the output read and cut) is here; the client's
 * side (a terminal in cmd-exec.c, frames from serve's router in
 * serve-job.c) is in its callbacks.
 */
#ifndef RDEV_AGENT_EXEC_H
#define RDEV_AGENT_EXEC_H

#include <signal.h>
#include <stddef.h>

struct buf;
struct docker;
struct docker_stream;
struct pollfd;

struct agent_exec {
	struct docker *docker;
	char *exec_id;	   /* the Docker exec; NULL through the relay */
	int fd;		   /* the connection; closed by agent_exec_free */
	struct buf *early; /* output that came before the pump (response headers') */
	int tty;
	int via_relay;
	struct docker_stream *demux; /* framed output; NULL: raw (a Docker TTY) */
	unsigned char exit_bytes[6]; /* relay: the EXIT frame's payload */
	size_t exit_len;
	char *container_id; /* the container's full id */
	/* With a TTY, the relay's start-failure message with each "\n" made
	 * "\r\n" (the client's terminal is raw): what *payload then borrows.
	 * NULL until one comes. */
	struct buf *message;
	/* The last message byte made so was "\r": a "\r\n" split across two
	 * pieces stays "\r\n". */
	int message_cr;
	/* One line for the user's stderr, or NULL: the background lifecycle
	 * steps still running (lifecycle_bg_notice()). */
	char *notice;
	/* One line for the user's stderr, before notice, or NULL: "VERB:
	 * warning: ..." when the configuration did not load and the
	 * container's recorded one is used. */
	char *warning;
};

struct agent_exec_req;
/* Start req's command as the remote user, with the remote env (req's
 * remote_env and secrets on top, as for the lifecycle commands), in the
 * workspace folder; term (may be NULL) is TERM for a TTY, rows and cols
 * (0: unknown) its size, which the command sees from its first read on.
 * 0 and *x (free with agent_exec_free) or -1 with *cause ("no dev container
 * for PATH (run `UP_CMD` first)", "... is not running ..."). */
int agent_exec_start(const char *up_cmd, const struct agent_exec_req *req, int tty,
    const char *term, unsigned rows, unsigned cols, struct agent_exec **x, char **cause);

/* Cut output read from x->fd (and x->early first) into pieces: 1 with a
 * non-empty piece in *payload (borrowed from data; with a TTY a relay's
 * start-failure message from x, its "\n" made "\r\n", valid until the next
 * call), *stream 1 (stdout) or 2
 * (stderr; with a TTY everything is 1); 0 when all of data was consumed; -1
 * with *cause on a malformed stream. *used: bytes consumed, as
 * docker_stream_feed(). */
int agent_exec_output(struct agent_exec *x, const unsigned char *data, size_t len,
    size_t *used, int *stream, const unsigned char **payload, size_t *payload_len,
    char **cause);
/* x->fd reached its end: 0 if at a frame boundary, else -1 with *cause. */
int agent_exec_output_end(struct agent_exec *x, char **cause);

/* Input for the command, queued in out (bytes for x->fd). */
void agent_exec_input(
    struct agent_exec *x, struct buf *out, const void *data, size_t len);
/* The end of the command's input. 1: shut down x->fd's write side once out
 * has been sent (a Docker exec without TTY); 0: nothing more to do (queued,
 * or a TTY, whose end of input is ^D). */
int agent_exec_input_end(struct agent_exec *x, struct buf *out);
/* A new window size for the TTY (ignored without one). */
void agent_exec_resize(
    struct agent_exec *x, struct buf *out, unsigned rows, unsigned cols);
/* Signal name (exec-signal.h's names) to the command, as a terminal would
 * reach it. 0, or -1 with *cause. */
int agent_exec_signal(
    struct agent_exec *x, struct buf *out, const char *name, char **cause);
/* The client has gone: x->fd is closed; SIGHUP to the command, SIGKILL after
 * grace_ms. */
int agent_exec_hangup(struct agent_exec *x, int grace_ms, char **cause);

/* A pump running between an exec and its client (agent_exec_pump_run()). */
struct agent_exec_pump {
	struct agent_exec *x;
	struct buf *out;  /* bytes queued for x->fd */
	int input_done;	  /* the command gets no more input: it ended, or the
			     command stopped reading */
	int shut_pending; /* shut down x->fd's write side once out is empty */
};

/* The client's side of a pump; arg is passed to each callback. */
struct agent_exec_client {
	/* At the start of each pass (may be NULL). */
	void (*tick)(void *arg, struct agent_exec_pump *p);
	/* Set *pfd to the client's input to poll: its fd (-1: none) and events. */
	void (*poll)(void *arg, const struct agent_exec_pump *p, struct pollfd *pfd);
	/* The input polled has POLLIN, POLLHUP or POLLERR: read it and queue it
	 * (agent_exec_input(), agent_exec_pump_input_end(), ...). 0; 1 when the
	 * client gave up on the exec; -1 with *cause. */
	int (*input)(void *arg, struct agent_exec_pump *p, char **cause);
	/* A piece of output (borrowed for the call), stream 1 or 2 as
	 * agent_exec_output() says. 0; 1 when the client gives up on the exec
	 * (its output cannot be written). */
	int (*output)(void *arg, int stream, const unsigned char *data, size_t len);
	void *arg;
	/* How many more bytes of output the client takes now (NULL: no limit).
	 * At 0 the command's output is not read (it back-pressures the
	 * command) until the client's input raises it. */
	size_t (*room)(void *arg);
	/* The signal mask while the pump waits (ppoll), NULL: poll. A client
	 * whose tick acts on signals keeps them blocked around the pump and
	 * gives the mask without them here, so that one coming between the
	 * tick and the wait wakes the wait instead of waiting for output. */
	const sigset_t *poll_mask;
};

/* Pump the client's input to x and x's output (x->early first) to the client
 * until the output ends. x->fd is made non-blocking. 0; 1 if the client gave
 * up on the exec (its input or output callback returned 1); -1 with *cause. */
int agent_exec_pump_run(
    struct agent_exec *x, const struct agent_exec_client *c, char **cause);
/* The end of the client's input: no more is taken, the end is queued. */
void agent_exec_pump_input_end(struct agent_exec_pump *p);

/* The client gave up on the output (its reader went away): has the command
 * ended already? Takes what x->fd holds now, without waiting, its output
 * dropped: 1 when the end of the output or the relay's EXIT frame is there
 * (agent_exec_exit() then gives the command's status), else 0. */
int agent_exec_ended(struct agent_exec *x);
/* The exit status once the output has ended. */
int agent_exec_exit(struct agent_exec *x, int *status, char **cause);
/* After agent_exec_exit: the signal that killed the command, with *core
 * whether it dumped core, or 0 when it exited or it is not known (a Docker
 * exec, whose ExitCode is 128 + the signal either way; an older relay). */
int agent_exec_exit_signal(const struct agent_exec *x, int *core);
void agent_exec_free(struct agent_exec *x);

#endif
