/* serve.h - `rdev-agent serve`: the agent's operations as rdev protocol
 * requests on a byte stream (stdin/stdout of an SSH exec channel), as
 * docs/PROTOCOL.md ("Operations") describes.
 *
 * One process routes frames; each request other than version/resize runs in
 * a forked worker process that talks frames to the router over a socketpair,
 * so a long `up` never stalls an `exec`, several execs run at once, and a
 * crash or fatal() in an operation costs that request only (the router
 * answers it with an error).
 */
#ifndef RDEV_SERVE_H
#define RDEV_SERVE_H

struct serve_opts {
	int in_fd;	 /* frames from the peer (may equal out_fd: a socket) */
	int out_fd;	 /* frames to the peer */
	int end_on_term; /* SIGTERM ends the serve as the peer's going does
			    (a child of serve --listen whose agent died) */
};

/* Serve one peer until it goes away (end of in_fd: exit code 0) or breaks
 * the protocol (a FATAL frame is sent: exit code 1). Then running execs are
 * hung up (SIGHUP, SIGKILL 2 s later; exec-signal.h) and running operations
 * cancelled (SIGINT to the worker's process group, SIGKILL 5 s later; the
 * "cancel" op does the same for one request), and both waited for, up to
 * 10 s.
 * Installs a SIGCHLD handler while it runs; expects SIGPIPE to be ignored. */
int serve_run(const struct serve_opts *opts);

/* The "serve" command: serve_run() on stdin/stdout; with --listen ID, the
 * host's long-lived agent (serve-listen.h). */
int serve_cmd(int argc, char **argv);

#endif
