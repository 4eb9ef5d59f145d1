/* ssh-proxy-internal.h - the pieces of the SSH server of `rdev ssh-proxy`
 * (ssh-proxy.h) shared by its files:
 *   ssh-proxy.c	the session: accept, key exchange, authentication, the
 *			loop over the session and the agent's fd, and the
 *			agent's frames and answers routed to the others;
 *   ssh-proxy-chan.c	a session channel's life: its requests (pty-req, env,
 *			window-change, signal, shell, exec, sftp), the exec
 *			they start, its state, its end (exit status, close);
 *   ssh-proxy-flow.c	the bytes both ways and their flow control: the
 *			client's data held in libssh past SSH_PROXY_IN_MAX,
 *			the exec's output paced by credit (WINDOW frames);
 *   ssh-proxy-relay.c	the container's relay, asked for once, and the
 *			direct-tcpip channels run on it (`--connect`);
 *   ssh-proxy-tcp.c	direct-tcpip channels to the container's ports
 *			carried by the broker ("connect"), as rdev forward
 *			routes them;
 *   ssh-proxy-fwd.c	agent forwarding (`ssh -A`): the agent socket's
 *			exec, the channels held until its path is known
 *			(ssh-proxy-agent.c carries its connections).
 *
 * Ownership: struct ssh_proxy lives in ssh_proxy_run() (ssh-proxy.c) for the
 * whole run and owns its channels (chans), its ssh_proxy_agent and its
 * strings; a struct ssh_proxy_chan owns its libssh channel and buffers and
 * is freed by ssh_proxy_chan_free() after the loop pass in which neither
 * side can still send about it, never inside a libssh callback. The
 * callbacks' arguments (channels, messages, frames) are borrowed for the
 * call.
 */
#ifndef RDEV_SSH_PROXY_INTERNAL_H
#define RDEV_SSH_PROXY_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include <cjson/cJSON.h>
#include <libssh/callbacks.h>
#include <libssh/libssh.h>
#include <libssh/server.h>

#include "relay-chunks.h"
#include "ssh-proxy.h"

struct proto_frame;

/* Unpaced channels' waiting output: past it, the agent is not read. */
#define SSH_PROXY_OUT_MAX (4u << 20)
/* Output an exec may have in flight or waiting here (its credit). */
#define SSH_PROXY_EXEC_WINDOW (2u << 20)
/* All paced channels' waiting output: past it, the agent is not read. */
#define SSH_PROXY_PACED_MAX (64u << 20)
#define SSH_PROXY_IN_MAX (4u << 20) /* client bytes queued for the agent */
/* Stdin an exec may have in flight to the agent (its "stdinWindow"). */
#define SSH_PROXY_STDIN_WINDOW (2u << 20)
#define SSH_PROXY_EXIT_FAILED 125
/* What a direct-tcpip channel carried by the broker holds per direction. */
#define SSH_PROXY_TCP_BUFFER (1u << 20)
/* How long a new channel waits for a lost agent connection to be made
 * anew (ssh_proxy_link; $RDEV_SSH_PROXY_RELINK_MS in tests), and the
 * longest pause between two tries. */
#define SSH_PROXY_RELINK_MS 30000
#define SSH_PROXY_RELINK_PAUSE_MAX_MS 8000
/* After a reconnect that failed, how long new channels are refused at once
 * with its reason (a browser's six connections, a client retrying: one
 * wait, not one each); never longer than the reconnect's own window. */
#define SSH_PROXY_RELINK_QUIET_MS 5000
#define SSH_PROXY_RELAY_PATH "/.rdev-relay" /* agent/relay-install.h */

enum ssh_proxy_chan_state {
	SSH_PROXY_CHAN_OPEN,	 /* opened; pty-req and env may come */
	SSH_PROXY_CHAN_STARTING, /* the exec request is sent, not answered */
	SSH_PROXY_CHAN_RUNNING,	 /* the command runs */
	SSH_PROXY_CHAN_EXITED,	 /* it ended; its last output is being sent */
	SSH_PROXY_CHAN_CLOSED,	 /* exit status sent, channel closed: free it */
};

/* The container's relay (/.rdev-relay), which direct-tcpip channels run as
 * `/.rdev-relay --connect PORT`: asked for once per proxy (the agent's
 * "relay" op puts the binary in the container). */
enum ssh_proxy_relay_state {
	SSH_PROXY_RELAY_UNKNOWN,
	SSH_PROXY_RELAY_ASKING,
	SSH_PROXY_RELAY_READY,
	SSH_PROXY_RELAY_FAILED,
};

/* Agent forwarding (`ssh -A`): the container's agent socket, one per
 * proxy, made when a session channel first asks for it. */
enum ssh_proxy_fwd_state {
	SSH_PROXY_FWD_NONE,
	SSH_PROXY_FWD_WAITING,	/* for the relay */
	SSH_PROXY_FWD_STARTING, /* its exec is sent; its path has not come */
	SSH_PROXY_FWD_READY,
	SSH_PROXY_FWD_FAILED,
};

struct ssh_proxy;

/* One session or direct-tcpip channel and the exec behind it. */
struct ssh_proxy_chan {
	LIST_ENTRY(ssh_proxy_chan) entry;
	struct ssh_proxy *p;
	ssh_channel ch;
	struct ssh_channel_callbacks_struct cb;
	enum ssh_proxy_chan_state state;
	uint32_t agent_ch; /* C (stdout, stdin) and C+1 (stderr) on the agent */
	int exec_id;	   /* the exec request's id */
	int tty;
	char *term;
	int rows, cols;
	cJSON *env;	       /* {NAME: VALUE} from env requests, or NULL */
	struct buf *out, *err; /* output the channel's window has not taken */
	int status;
	char *signal; /* killed by it ("TERM"): exit-signal, not -status */
	int core_dumped;
	int forward_port;   /* a direct-tcpip channel's port, else 0 */
	char *forward_host; /* ... its host when not the container's loopback */
	struct buf *in;	    /* bytes before its exec starts (SSH_PROXY_IN_MAX) */
	int in_eof;	    /* ... and the client's EOF */
	int in_held;	    /* client bytes left in libssh (SSH_PROXY_IN_MAX) */
	int in_paced;	    /* the agent paces stdin ("stdinWindow") ... */
	uint32_t in_credit; /* ... and takes this many more bytes now */
	int out_eof;	    /* the agent's EOF: send ours once out is sent */
	int eof_sent;
	struct relay_chunks chunks; /* a direct-tcpip's relay output */
	int relay_broken;	    /* ... was broken: the rest is dropped */
	int client_closed;	    /* the client closed the channel */
	int agent_req;		    /* auth-agent-req came (ssh -A) */
	int held;		    /* shell/exec waits for the agent socket */
	char *held_script, *held_arg;
	int agent_closed;  /* the agent's CLOSE came (or no exec was sent) */
	uint32_t window;   /* the agent paces the output: its credit, else 0 */
	uint64_t received; /* output bytes (DATA payloads) since the start */
	uint64_t granted;  /* credit given: the window, then WINDOW frames */
	/* A direct-tcpip channel carried by the broker (ssh-proxy-tcp.c): its
	 * connection ("connect" request), NULL for the others */
	struct proto_conn *tcp;
	int tcp_hello;		/* ... the broker's HELLO came */
	long long tcp_hello_by; /* ... else the channel fails then (clock_now_ms) */
	int tcp_open;		/* ... answered: the server's bytes from now on */
	short tcp_events;	/* ... what its fd is watched for (0: not) */
	int tcp_eof_sent;	/* ... the client's EOF passed on (write side shut) */
	int tcp_cut;		/* the read met this errno (a reset): the stream is cut */
	int port_failed; /* direct-tcpip: its failure was said (ssh_proxy_port_failed) */
	/* ... what its fd's callback found, done by ssh_proxy_tcp_step (libssh
	 * still uses the fd's poll handle after the callback: not removed there) */
	int tcp_pending;
	/* ... its out is being written to the client (ssh_proxy_flow_flush,
	 * straight from the buffer): the fd's callback leaves out alone */
	int tcp_flushing;
	char *tcp_error; /* ... SSH_PROXY_TCP_FAILED's reason */
};

/* What a direct-tcpip channel's connection waits for ssh_proxy_tcp_step to do. */
enum {
	SSH_PROXY_TCP_NONE,
	SSH_PROXY_TCP_END,	/* the connection broke: end the channel */
	SSH_PROXY_TCP_FAILED,	/* no connect: fail the channel (tcp_error) */
	SSH_PROXY_TCP_FALLBACK, /* an older broker: through the relay */
};

struct ssh_proxy {
	ssh_session s;
	ssh_event ev;
	/* the agent connection (borrowed); never used while lost: NULL once
	 * ssh_proxy_link asked for a new one (the old one freed then) */
	struct proto_conn *c;
	const struct ssh_proxy_opts *o;
	int next_id;
	uint32_t next_agent_ch;
	short agent_events; /* what the agent's fd is watched for (0: not) */
	/* ... the fd watched: the proxy's own duplicate of the connection's
	 * (owned, -1: none), so that a connection freed inside a libssh
	 * callback (ssh_proxy_link's reconnect) never leaves a watched fd
	 * closed or its number reused; removed and closed by the loop */
	int agent_fd;
	unsigned agent_gen; /* ... of the link of this generation */
	unsigned link_gen;  /* links made so far (ssh_proxy_link) */
	char *error;	    /* why the proxy must end, or NULL */
	/* the agent connection broke (or the broker ended the session): why,
	 * set by its fd's callback; the loop then ends what rode on it ... */
	char *lost_why;
	int lost; /* ... and no request goes out until ssh_proxy_link */
	/* the last reconnect failed: why (NULL: it did not) and when */
	char *relink_error;
	long long relink_failed_ms;
	/* SSH_PROXY_RELINK_MS, or $RDEV_SSH_PROXY_RELINK_MS (tests), read
	 * once; SSH_PROXY_RELINK_QUIET_MS, at most that */
	int relink_ms, relink_quiet_ms;
	/* a direct-tcpip channel failed or was cut (said on stderr at once,
	 * ssh_proxy_port_failed): the proxy exits non-zero at its end */
	int port_failed;
	enum ssh_proxy_relay_state relay;
	int relay_id;	   /* the relay request's id while SSH_PROXY_RELAY_ASKING */
	char *relay_error; /* why not, when SSH_PROXY_RELAY_FAILED */
	enum ssh_proxy_fwd_state fwd;
	uint32_t fwd_ch; /* the agent socket's exec, its agent channel */
	int fwd_id;	 /* ... its request's id */
	struct ssh_proxy_agent *agent;
	LIST_HEAD(, ssh_proxy_chan) chans;
	struct ssh_server_callbacks_struct scb;
};

/* ssh-proxy.c */
/* pc, a direct-tcpip channel (`ssh -W`, `ssh -L`), failed or was cut:
 * why goes on the proxy's stderr now, once per channel (ssh shows a
 * ProxyCommand's stderr, never a direct-tcpip channel's extended data;
 * it may hang the proxy up as soon as the channel is gone), and the proxy
 * exits non-zero at its end. */
void ssh_proxy_port_failed(struct ssh_proxy_chan *pc, const char *why);
/* The same line on the proxy's stderr, once per channel, without making the
 * proxy's status a failure (an end that may be the server's own). */
void ssh_proxy_port_say(struct ssh_proxy_chan *pc, const char *why);
/* Queue o (consumed) for the agent; a failure is logged. */
void ssh_proxy_queue(struct ssh_proxy *p, cJSON *o);
/* A request for op on the workspace (new), its id in *id. */
cJSON *ssh_proxy_workspace_op(struct ssh_proxy *p, const char *op, int *id);
/* Make sure the agent connection is there for a new channel: 0 at once
 * while it is; once lost, a new one through o->reconnect, tried again with
 * a growing pause for at most SSH_PROXY_RELINK_MS (blocking the loop
 * meanwhile), not tried for SSH_PROXY_RELINK_QUIET_MS after that failed.
 * -1 with *cause (new) when there is none. */
int ssh_proxy_link(struct ssh_proxy *p, char **cause);
/* An answer's "error" string, else fallback (borrowed from msg or the
 * caller). */
const char *ssh_proxy_answer_error(const cJSON *msg, const char *fallback);

/* ssh-proxy-chan.c */
/* Take ch (a session or direct-tcpip channel just opened) on: the new
 * channel, owned by p's list. */
struct ssh_proxy_chan *ssh_proxy_chan_new(struct ssh_proxy *p, ssh_channel ch);
void ssh_proxy_chan_free(struct ssh_proxy_chan *pc);
void ssh_proxy_chan_set_state(struct ssh_proxy_chan *pc, enum ssh_proxy_chan_state to);
/* Whether pc's exec has been asked for and has not ended (starting or
 * running). */
int ssh_proxy_chan_live(const struct ssh_proxy_chan *pc);
/* Start pc's exec: `/bin/sh -c script [sh arg]` (a direct-tcpip channel:
 * the relay's --connect; script NULL). 0 (started, or held for the agent
 * socket), or -1 when pc is past its start. */
int ssh_proxy_chan_start(struct ssh_proxy_chan *pc, const char *script, const char *arg);
/* The channel whose exec has agent channel channel (its *stream 1) or
 * channel-1 (its *stream 2), or NULL (borrowed). */
struct ssh_proxy_chan *ssh_proxy_chan_by_agent(
    struct ssh_proxy *p, uint32_t channel, int *stream);
/* pc's exec could not be run or broke: why on its stderr, as rdev exec
 * says it on its own ("rdev: ssh-proxy: WHY") (a direct-tcpip channel's on the proxy's
 * stderr, ssh_proxy_port_failed), and status. */
void ssh_proxy_chan_failed(struct ssh_proxy_chan *pc, const char *why, int status);
/* The answer msg with id id to a channel's exec request: 1, else 0 (not
 * one of them). */
int ssh_proxy_chan_answer(struct ssh_proxy *p, int id, const cJSON *msg);
/* The agent's CLOSE frame f for pc's exec: its exit status or signal. */
void ssh_proxy_chan_exited(struct ssh_proxy_chan *pc, const struct proto_frame *f);
/* Once everything is sent after the exec ended: exit status, EOF, close. */
void ssh_proxy_chan_end(struct ssh_proxy_chan *pc);

/* ssh-proxy-flow.c */
/* libssh's data and EOF callbacks for a channel (arg: the ssh_proxy_chan). */
int ssh_proxy_flow_on_data(
    ssh_session s, ssh_channel ch, void *data, uint32_t len, int is_stderr, void *arg);
void ssh_proxy_flow_on_eof(ssh_session s, ssh_channel ch, void *arg);
/* Queue the client's bytes for pc's exec as far as its stdin credit goes;
 * how many were taken. */
size_t ssh_proxy_flow_send_in(struct ssh_proxy_chan *pc, const void *data, size_t len);
/* The agent's DATA, EOF or WINDOW (stdin credit) frame f for pc's exec, on
 * its *stream. */
void ssh_proxy_flow_frame(
    struct ssh_proxy_chan *pc, int stream, const struct proto_frame *f);
/* Move all the client's bytes libssh holds for the channel to pc->in; how
 * many (0: none). All at once: libssh 0.10's channel read grows the window
 * back to 1.28 MB whenever it is below half, whatever libssh still holds, so
 * reading part of what it holds let the client send most of a window more
 * per read (the proxy held 77 MB of a stdin the command read late). */
int ssh_proxy_flow_take(struct ssh_proxy_chan *pc);
/* Take the client's bytes held (before the exec started, then in libssh)
 * as far as the agent's queue has room and the stdin credit goes. */
void ssh_proxy_flow_pull(struct ssh_proxy_chan *pc);
/* Write what the channel's window takes and grant the agent credit; the
 * channel's end once the exec ended and all is sent. 0, or -1 when the
 * session broke. */
int ssh_proxy_flow_flush(struct ssh_proxy_chan *pc);
/* Whether the channels' waiting output leaves room to read the agent. */
int ssh_proxy_flow_room(struct ssh_proxy *p);

/* ssh-proxy-relay.c */
/* libssh's message callback: direct-tcpip opens. 0 handled, 1 refused. */
int ssh_proxy_relay_on_message(ssh_session s, ssh_message m, void *arg);
/* Ask the agent for the container's relay, once (not on a lost link: the
 * relay stays unknown). */
void ssh_proxy_relay_ask(struct ssh_proxy *p);
/* The answer msg with id id to the relay request: 1, else 0. */
int ssh_proxy_relay_answer(struct ssh_proxy *p, int id, const cJSON *msg);
/* Add a direct-tcpip channel's command (the relay's --connect) to argv. */
void ssh_proxy_relay_command(const struct ssh_proxy_chan *pc, cJSON *argv);
/* The relay's output (status byte, chunks) for direct-tcpip channel pc;
 * once it is broken, the exec is given up and the rest dropped. */
void ssh_proxy_relay_output(
    struct ssh_proxy_chan *pc, const unsigned char *data, size_t len);

/* Open direct-tcpip channel pc through the container's relay (asked for
 * first, once per proxy), on the agent connection: made anew first when it
 * was lost (ssh_proxy_link), else pc fails with why. */
void ssh_proxy_relay_open(struct ssh_proxy_chan *pc);

/* ssh-proxy-tcp.c */
/* Carry direct-tcpip channel pc (to the container's port pc->forward_port)
 * on a "connect" request of its own to the broker: 0, or -1 when it cannot
 * be (a local target, no broker: use the relay). */
int ssh_proxy_tcp_start(struct ssh_proxy_chan *pc);
/* The client's bytes for pc (libssh's data callback): how many were taken
 * (beyond SSH_PROXY_TCP_BUFFER waiting, none: they stay in libssh). */
int ssh_proxy_tcp_on_data(struct ssh_proxy_chan *pc, const void *data, size_t len);
/* Once per loop pass: move the client's bytes and EOF on, end the channel
 * when both ways are done. */
void ssh_proxy_tcp_step(struct ssh_proxy_chan *pc);
/* Before each wait: watch pc's connection (if any) for what is needed now:
 * its answer; then reads while its output has room, writes while client
 * bytes wait. */
void ssh_proxy_tcp_watch(struct ssh_proxy_chan *pc);
/* Close pc's connection (pc is being freed). */
void ssh_proxy_tcp_free(struct ssh_proxy_chan *pc);

/* ssh-proxy-fwd.c */
/* auth-agent-req@openssh.com on session channel pc (on a lost link only
 * noted: ssh_proxy_fwd_hold asks at pc's start, on the next link). */
void ssh_proxy_fwd_request(struct ssh_proxy_chan *pc);
/* Whether pc's exec must wait for the agent socket: 1, with script and arg
 * kept (copies) for its start once the socket is there or will not be. */
int ssh_proxy_fwd_hold(struct ssh_proxy_chan *pc, const char *script, const char *arg);
/* Add SSH_AUTH_SOCK to pc's environment when it asked and the socket is
 * there. */
void ssh_proxy_fwd_env(struct ssh_proxy_chan *pc);
/* The relay is known to be there or not: go on. */
void ssh_proxy_fwd_relay_known(struct ssh_proxy *p);
/* The agent connection is lost: the agent socket's exec and its
 * connections with it (a later auth-agent-req asks a new agent). 1 when
 * agent forwarding was on (it ends), else 0. */
int ssh_proxy_fwd_lost(struct ssh_proxy *p);
/* Whether agent channel channel is the agent socket's exec's. */
int ssh_proxy_fwd_owns(const struct ssh_proxy *p, uint32_t channel);
void ssh_proxy_fwd_frame(struct ssh_proxy *p, const struct proto_frame *f);
/* The answer msg with id id to the agent socket's exec: 1, else 0. */
int ssh_proxy_fwd_answer(struct ssh_proxy *p, int id, const cJSON *msg);

#endif
