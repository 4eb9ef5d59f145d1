/* host-internal.h - the pieces of a host session, shared by its modules:
 * host-session.c (the thread, its jobs, the serve loop, reconnect, the public
 * API of host-session.h), host-client.c (talking to a client before its
 * splice, prompts relayed to it), host-refuser.c (closing connections to
 * the forwards during a reconnect), host-link.c (clients spliced to SSH
 * channels), host-agent.c (the host's long-lived agent: its start, channels
 * to it), host-call.c (the broker's own requests to it), host-watch.c (the
 * thread's libevent loop), host-mux.c (streams carried on the agent's own
 * channel where sshd forwards nothing), host-forward.c (port forwards), host-auto.c
 * (auto-forwarding new container ports) and host-state.c (saving the
 * forwards and watches, re-creating them in a new broker).
 *
 * Ownership: the broker owns struct host_session (host_session_new/free).
 * Everything below "Thread-owned" in it, and every link, forward and auto
 * watch, belongs to the session's thread, and these functions run on that
 * thread only; host_session_free frees what is left after joining it. The
 * list of forwards, and what forward_json shows of each forward (its
 * counters, gone), are also changed under the lock, since
 * host_session_status reads them from the broker's thread.
 * - A host_job is owned by h->jobs (under the lock) until the thread takes
 *   it; then whoever it is handed to: host_run_job consumes it (frees it, and
 *   closes its fd or gives the fd to a link).
 * - A host_link (on h->links) owns its fd, channel and buffers; its fwd is
 *   borrowed: a forward's links are dropped before it is freed.
 * - A host_call (on h->calls) owns its channel, request and answer; it is
 *   freed after its done ran (host_agent_calls_progress, or _end when the
 *   serve loop ends). Its asker holds it borrowed (f->resolving) and calls
 *   host_agent_call_forget if it goes first.
 * - h->starting (an agent start under way) owns its channel until the agent
 *   listens (the channel becomes h->agent_ch) or the start ends.
 * - A host_agent_opener owns its channel (or stream) until the open is
 *   answered, then hands it to its caller.
 * - A host_mux_chan (on h->mux_chans) is its owner's (a link, a call, an
 *   opener), who frees it with host_mux_close; the session keeps it on its
 *   list for the frames that name it.
 * - A parked forward request (on h->parked, forward.h) owns its fd and
 *   answer until host_forward_parked_check sends it; host_serve's end
 *   answers them all.
 * - A "connect" request's forward (on h->connects, no listeners) is the
 *   session's until HOST_CONNECT_IDLE_MS after its last link is freed
 *   (host_connect_release, host_connects_sweep), or host_connects_free.
 * - A host_forward (on h->forwards) owns its listeners and strings; it is
 *   freed by host_forward_reap once marked gone, or by host_session_free.
 *   The relay forward of a host_auto is owned by that host_auto and is on no
 *   list.
 * - A host_auto (on h->autos) owns its strings, attributes and relay forward.
 * - h->restore and h->restore_errors (under the lock) are the session's;
 *   host_session_new re-creates h->restore before the thread starts.
 */
#ifndef RDEV_HOST_INTERNAL_H
#define RDEV_HOST_INTERNAL_H

#include <sys/queue.h>

#include <pthread.h>
#include <stddef.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <libssh/libssh.h>
#include <libssh/callbacks.h>

#include "chan-window.h"
#include "forward.h"
#include "forward-order.h"
#include "json-get.h"
#include "host-session.h"
#include "proto.h"
#include "sock-drain.h"

struct broker_state;
struct buf;
struct event;
struct event_base;
struct host_agent_start;
struct host_call;

/* A channel to the host's agent being opened without waiting
 * (host_agent_opener_step): the agent started first if none runs (or waited
 * for while it starts), a direct-streamlocal open to its socket, retried
 * once with a new agent if the socket is refused; where sshd forbids
 * those, a stream of the agent session (host-mux.c), retried once with a
 * new agent if its agent ended before it answered the open. Zeroed: not
 * begun. */
enum host_open_step { HOST_OPEN_AGENT, HOST_OPEN_STREAMLOCAL, HOST_OPEN_MUX };
struct host_agent_opener {
	enum host_open_step step;
	ssh_channel ch;		  /* the open in flight, or NULL */
	struct host_mux_chan *mx; /* or the stream's */
	char *socket;		  /* where it goes (the call is repeated) */
	unsigned start_seq;	  /* the agent start waited for, 0: none */
	int fresh;		  /* that start was for this open */
	int retried;		  /* the socket was refused (or the stream lost) once */
};

/* A stream of the agent session (host-mux.c): a byte stream to a new
 * agent connection or a TCP connection made by the agent on the host,
 * carried in frames on the agent's own channel, with credits per stream
 * (docs/PROTOCOL.md, "Streams of the agent session"). Its life, through
 * host_mux_set_state only:
 *
 *   waiting -> opening -> open,   opening/open -> failed
 *
 * waiting: no agent listens yet (its start is begun); opening: the open
 * request is sent; failed: refused, or the agent ended (error says). */
enum host_mux_state {
	HOST_MUX_WAITING,
	HOST_MUX_OPENING,
	HOST_MUX_OPEN,
	HOST_MUX_FAILED
};
/* A forwarded connection's stream window: as much in flight as a
 * direct-tcpip channel has (libssh's window plus the link's buffer), so
 * that the credits do not cap throughput; also the most a stalled reader
 * makes the broker hold for it. */
#define HOST_MUX_FORWARD_WINDOW (2u << 20)
/* A reconnecting session's clients: one that comes within this time after a
 * failed attempt gets that attempt's cause instead of a new attempt. */
#define HOST_RETRY_GAP_MS 2000
/* The owner takes the stream's bytes: how many it took (it should take
 * all: the window it gave is its room; the rest is held). */
typedef size_t (*host_mux_data_fn)(void *arg, const unsigned char *data, size_t len);
/* The agent's side ended (EOF, CLOSE) or the stream failed. */
typedef void (*host_mux_eof_fn)(void *arg);
struct host_mux_chan {
	uint32_t id;
	enum host_mux_state state;
	struct host_session *h;
	char *connect, *address; /* the open request's: "agent" or "tcp" */
	int port;
	unsigned start_seq; /* the agent start it waits for, 0: none */
	uint32_t window;    /* ours, as given in the open */
	uint32_t credit;    /* the agent's: bytes we may still send */
	uint32_t unacked;   /* received, not granted again yet */
	uint32_t consumed;  /* of those, taken by the owner */
	int eof_in;	    /* the agent's EOF or CLOSE came (or it failed) */
	int closed_in;	    /* its CLOSE came */
	int eof_out;	    /* our EOF is sent */
	int refused;	    /* failed: nothing listens there */
	char *error;	    /* failed: why */
	struct buf *held;   /* bytes come before the owner was set */
	/* opened with DATA behind it (host_mux_open_early): its credit is
	 * PROTO_EARLY_DATA until the answer, which grants its window less what
	 * was sent before it (early_sent) */
	int early;
	uint32_t early_sent;
	int lost; /* failed as the agent's session ended (not refused by it) */
	/* its CLOSE came with "reset": the agent's socket was reset by its
	 * server, after the DATA before it (docs/PROTOCOL.md) */
	int reset_in;
	/* our CLOSE says "reset" (the owner's client reset its connection) */
	int reset_out;
	host_mux_data_fn on_data;
	host_mux_eof_fn on_eof;
	void *arg;
	LIST_ENTRY(host_mux_chan) entry; /* on h->mux_chans */
};
LIST_HEAD(host_mux_chans, host_mux_chan);

/* A client connection handed over by the broker, not served yet. */
struct host_job {
	int fd;
	int request_id;
	cJSON *req;		     /* forward/unforward: the request; NULL: agent */
	int accept_new_host_key;     /* its client asked to record an unknown key */
	int can_prompt;		     /* a user's client: it can answer a prompt */
	TAILQ_ENTRY(host_job) entry; /* on h->jobs, h->parked or a taken list */
	struct forward_order_entry order; /* forward/unforward: on h->order */
};
TAILQ_HEAD(host_jobs, host_job);

/* A forward of an SSH host: the forward (forward.h) and what this host
 * needs of it. */
struct host_forward {
	struct forward fw;
	/* The agent is being asked (host_forward_resolve_start; borrowed, see
	 * host_agent_call_start); NULL: not. */
	struct host_call *resolving;
	/* The listeners' events on the host thread's base (host-watch.c);
	 * NULL until the first pass after the forward was made. */
	struct event *ev4, *ev6;
	struct host_session *owner;
	int connect;	   /* a "connect" request's, on h->connects */
	long long idle_ms; /* a connect's: its last link went then (0: in use) */
	/* a probe (host_forward_probe) was logged at info since an open was
	 * last answered: the others of that stall go at debug */
	int probe_logged;
	/* the next check also asks "reach" (host_forward_probe: a connection
	 * not answered may be one to an address this host drops packets to) */
	int reach_due;
	/* The host cannot reach this container's address (rootless Docker,
	 * Docker in a VM: op relay's "unreachable", or the relay not reached
	 * after the agent was asked again): while the forward's container is
	 * still this one, each connection is an "exec" stream of the agent
	 * session, a Docker exec of the relay's --connect (counted viaExec).
	 * NULL: the usual ways; cleared when a later check (each up or
	 * forward request's, each stalled connection's) says the host reaches
	 * it ("reachable"). */
	char *exec_cid;
	LIST_ENTRY(host_forward) entry; /* on h->forwards */
};
LIST_HEAD(host_forwards, host_forward);

/* A session's connection, as status shows it; every change goes through
 * host_set_state (host-session.c), which refuses one not listed here:
 *
 *   connecting   -> connected, reconnecting (restored forwards), failed
 *   connected    -> lost, closed
 *   lost         -> reconnecting (forwards remain)
 *   reconnecting -> reconnecting (another attempt failed), connected
 *
 * failed, closed, and lost without forwards, are the end of it (ended). */
enum host_state {
	HOST_CONNECTING,
	HOST_CONNECTED,
	HOST_LOST,
	HOST_RECONNECTING,
	HOST_FAILED,
	HOST_CLOSED,
};

/* The host's long-lived agent, as the host thread sees it. Every change
 * goes through host_agent_set_state (host-agent.c), under the lock (status
 * reads it), which takes only these (any other is fatal):
 *
 *   none      -> starting
 *   starting  -> listening, none (the start failed or was stopped)
 *   listening -> gone (its channel ended), none (stopped)
 *   gone      -> none (stopped; host_agent_check may start a new one)
 *
 * starting: h->starting is the start under way (and agent_ch NULL);
 * listening and gone: agent_ch and agent_socket are the agent's. */
enum host_agent_state {
	HOST_AGENT_NONE,
	HOST_AGENT_STARTING,
	HOST_AGENT_LISTENING,
	HOST_AGENT_GONE,
};

/* A link's life. Every change goes through host_link_set_state, which logs
 * it ("link 7: opening -> open", at debug level) and takes only these (any
 * other is a broken invariant: fatal):
 *
 *   new       -> resolving, opening, open, dead
 *   resolving -> opening, dead
 *   opening   -> resolving, opening (another way), relay, open, dying, dead
 *   relay     -> open, dead
 *   open      -> opening (an agent link that had nothing from its agent,
 *                opened again: host_link_reopen), dead
 *   dying     -> dead
 *
 * resolving: a forwarded connection waits for its forward's target
 * (f->resolving); the client's bytes stay queued meanwhile. opening: its
 * channel's open is sent and its answer not in yet (an agent link's open
 * may wait for an agent start first); the host thread does not wait for it,
 * and nothing moves until it is answered. A refused direct open is tried
 * again through the relay; a refused relay once more after asking the agent
 * again (resolving). relay: open to the container's relay, whose status
 * byte is still to come (the client's bytes go meanwhile). dying: dead
 * while its open is in flight, which cannot be taken back: the client is
 * closed at once, the link goes once the answer is in. dead: dropped at the
 * end of this round. An agent link goes new -> opening -> open, and once
 * back to opening when its agent ended before sending it a byte
 * (host_link_reopen; never a forwarded connection's). */
enum host_link_state {
	HOST_LINK_NEW,
	HOST_LINK_RESOLVING,
	HOST_LINK_OPENING,
	HOST_LINK_RELAY,
	HOST_LINK_OPEN,
	HOST_LINK_DYING,
	HOST_LINK_DEAD,
};

enum host_link_hold {
	HOST_LINK_HOLD_NONE,
	HOST_LINK_HOLD_WAIT,
};

/* The two directions of a link end apart (a forwarded connection's TCP half
 * close), each through its states in order, as OpenSSH's nchan.c keeps a
 * channel's input and output states. */
enum host_link_up { /* client -> channel */
	HOST_LINK_UP_OPEN,
	HOST_LINK_UP_EOF,    /* forward: the client shut its side */
	HOST_LINK_UP_CLOSED, /* forward: and, its bytes sent, EOF went on the channel */
};
enum host_link_down { /* channel -> client */
	HOST_LINK_DOWN_OPEN,
	HOST_LINK_DOWN_EOF, /* the channel's EOF (or close) came */
	/* and libssh holds no more: all is in to_cli (an agent link's client is
	 * told the agent ended, host_link_end_agent) */
	HOST_LINK_DOWN_DRAIN,
	HOST_LINK_DOWN_CLOSED, /* forward: to_cli sent, the client's write side shut */
};

/* A client spliced to a channel: a channel to the host's agent for rdev
 * clients (host_link_open), a direct-tcpip channel for forwarded
 * connections. */
/* Which way a forward link's open went (one at a time). */
enum host_link_via {
	HOST_LINK_VIA_RELAY = 0, /* the relay's port, a header first */
	HOST_LINK_VIA_DIRECT,	 /* the container address and port itself */
	HOST_LINK_VIA_EXEC,	 /* an "exec" stream (host_forward's exec_cid) */
};

struct host_link {
	unsigned id; /* for the log: the session's links are numbered from 1 */
	enum host_link_state state;
	enum host_link_up up;
	enum host_link_down down;
	int fd;
	ssh_channel ch;
	struct ssh_channel_callbacks_struct cb; /* userdata: this link */
	struct host_session *h;
	struct buf *to_ch;	  /* read from the client, not yet in the channel */
	struct buf *to_cli;	  /* read from the channel, not yet sent */
	size_t cap;		  /* bound of each buffer */
	struct host_forward *fwd; /* forwarded connection of this forward */
	/* agent link: where the agent's frames are in what reached to_cli (the
	 * header bytes seen of the current frame, its payload bytes left), so
	 * that an agent that ends mid-session is told with a FATAL frame */
	unsigned char frame_hdr[PROTO_HEADER_SIZE];
	size_t frame_hdr_have;
	uint32_t frame_left;
	struct chan_window win;	     /* the channel's receive window (chan-window.h) */
	uint32_t win_logged;	     /* its size when last logged */
	int backlog;		     /* libssh holds channel data that did not fit */
	int cli_blocked;	     /* the client's socket is full: wait for POLLOUT */
	enum host_link_via open_via; /* which way the open went */
	int open_retried;	     /* the agent was asked again after a failed open */
	char *open_address;	     /* where the open goes (the call is repeated) */
	int open_port;
	/* A forwarded connection whose forward's target was due for a check
	 * (forward_target_wait): its open goes at once, beside the agent's
	 * check, instead of after it (a round trip less over a WAN link); an
	 * open answered before the check stays in opening, nothing moving
	 * (hold wait), until the check is in (host_forward_links_answered):
	 * the target it went to holds (hold none: the link goes on), or
	 * another one was found (its channel, and whatever came on it, is
	 * dropped, and the open goes to the new target); or until the check's
	 * bound (forward_check_bound: it goes on, as a waiting link would). */
	enum host_link_hold hold;
	/* the forward's target_seq it went to */
	unsigned open_target_seq;
	/* An open not answered by then (clock_now_ms; 0: none) asks the agent
	 * whether the container runs, beside it (host_forward_waits_step): a
	 * stopped container's address answers nothing, and sshd's connect
	 * there fails only at the ARP timeout (seconds; the direct open, then
	 * the relay's). probing: asked, and the check's answer may end the
	 * open (the container not running) or move it (another target). */
	long long probe_ms;
	int probing;
	long long open_ms; /* when its open went (clock_now_ms) */
	/* its end came from a failure (the agent gone, a read error), not
	 * from the peer */
	int eof_failed;
	/* a forwarded connection whose far side was lost (eof_failed): its
	 * client gets what to_cli holds until then (clock_now_ms), then a
	 * TCP reset, never the EOF of a whole stream (host_link_reset); 0:
	 * not cut */
	long long cut_ms;
	/* the server in the container reset the connection (a stream's CLOSE
	 * said "reset"): its client gets what is held, then a reset too
	 * (host_link_reset_due), not the EOF of a whole stream */
	int reset_end;
	/* a reset's wait for the client's socket to send what it holds (the
	 * reset would throw it away), started once to_cli is empty
	 * (host_link_reset_due) */
	struct sock_drain rst_drain;
	/* the client reset the connection (a stream of the agent session):
	 * what it sent before (to_ch) still goes, then the stream's CLOSE
	 * "reset", or once that stops going (cli_rst_drain) */
	int cli_rst;
	struct sock_drain cli_rst_drain;
	/* relay: its status byte is due by then (clock_now_ms) */
	long long relay_deadline;
	/* agent link: its channel being opened (NULL once open) and the id of
	 * the client's request, answered then */
	struct host_agent_opener *agent_open;
	int request_id;
	/* agent link: the client's bytes that went to the agent before its
	 * first byte, kept: every connection the agent serves sends HELLO
	 * before it reads, so a channel that ends with no byte from the agent
	 * was never served, and is opened again on a new agent with them
	 * (host_link_reopen, once). NULL: the agent spoke (the request may
	 * run: never again), or the link was opened again already, or more
	 * than HOST_LINK_UNHEARD_MAX went (not kept: a client waits for the
	 * agent's HELLO before it sends more than its own). */
	struct buf *unheard;
	int reopened; /* opened again once: the client had its answer */
	/* a "connect" request's link (host-connect.c) not answered yet: its
	 * answer goes once the channel is open, ahead of the server's bytes */
	int connect;
	/* Instead of ch: a stream of the agent session (host-mux.c) */
	struct host_mux_chan *mx;
	/* mx is a stream to the agent itself ("agent"), not to a forward's
	 * target ("tcp"): decided at host_link_attach_mux, 0 without mx */
	int mx_agent;
	/* The client socket's event (host-watch.c) and what it waits for. */
	struct event *ev;
	short ev_what;
	LIST_ENTRY(host_link) entry; /* on h->links */
};
LIST_HEAD(host_links, host_link);
LIST_HEAD(host_calls, host_call);
LIST_HEAD(host_autos, host_auto);
struct host_auto_orphan;
LIST_HEAD(host_auto_orphans, host_auto_orphan);

struct host_session {
	pthread_t thread;
	pthread_mutex_t lock;
	int wake[2]; /* the broker writes a byte to wake the thread */

	/* Copied parameters (the thread reads them without the lock). */
	struct ssh_target_opts opts; /* auth_sock: opt_auth_sock */
	/* opts.abort: a stop cuts a connect short wherever it blocks
	 * (host_session_stop; its own lock) */
	struct rdev_ssh_abort connect_abort;
	char *opt_host, *opt_user, *opt_config, *opt_known, *opt_auth_sock;
	char *opt_dest_key; /* opts.dest_key: the key the broker found it by */
	char *opt_dest_user, *opt_dest_home; /* opts.dest_local_user, dest_home */
	char *destination;		   /* "user@hostname:port" (the key's), or NULL */
	struct agent_bundle_slot *bundles; /* borrowed (host-session.h) */
	int idle_timeout_s;
	int connect_idle_ms; /* HOST_CONNECT_IDLE_MS or its test setting */
	char *fixed_agent;
	struct broker_state *saved; /* borrowed; NULL: nothing is saved */
	int restored;		    /* made from a saved entry: connect at once */

	/* Thread-owned. */
	/* The thread's libevent base (host-watch.c), from its start to its
	 * end: the wake pipe, the SSH socket while serving, the links' client
	 * sockets, the forwards' listeners. */
	struct event_base *base;
	struct event *wake_ev, *ssh_ev, *timer_ev;
	int serving;	   /* host_serve runs: listeners link, else refuse */
	int ssh_out;	   /* libssh holds output for a full socket */
	long long last_rx; /* when the SSH socket last had something */
	/* Until when the clients of links whose channel write failed may be
	 * waited for to take why (host_link_pump): one bound for all the links
	 * that fail together (a dead session fails them all in one pass). */
	long long write_failed_flush_until;
	/* Why the connection was lost (the lost links' reason), until a
	 * reconnect: the clients failed meanwhile are told it (the thread's). */
	char *lost;
	struct rdev_ssh *ssh;
	/* A reconnect's connect is under way with this refuser (host_reconnect;
	 * host_connect_wait restarts it around the forward requests it runs);
	 * NULL: no reconnect's connect. */
	struct host_refuser *refuser;
	/* What the last connect found (host_ssh_connect): its fail says what
	 * kind of failure the clients waiting on it are told of. */
	struct ssh_connect_report connect_report;
	int attempt_accepted_new; /* the last connect attempt recorded an
				     unknown host key (a client asked) */
	int kicked;		  /* a channel callback ran: serve links before waiting */
	int woken;	   /* the wake pipe was readable: host_drain_wake reads it */
	unsigned link_seq; /* the last link's id */
	unsigned call_seq; /* the last call's id */
	/* The serve loop's libssh event holding the session (NULL outside the
	 * loop). Blocking helpers that poll the session with an event of
	 * their own (rdev_ssh_run, the install) run with the session taken
	 * out of it, as at connect time. */
	ssh_event ev;
	char *agent_path;
	/* The bundle installed at agent_path (its hashes check the install
	 * before a new agent process), a reference taken at the install
	 * (host_install) and held until the next one or the session's free:
	 * never the slot's current one read later. NULL before. */
	struct agent_bundle *bundle;
	/* The host's long-lived agent (host-agent.c): `rdev-agent serve
	 * --listen` on agent_ch, listening on agent_socket (agent_state says
	 * which of these are set). Clients reach it
	 * with direct-streamlocal channels unless sshd refused one as
	 * administratively prohibited (streamlocal_denied): then a `rdev-agent
	 * serve` exec channel per client, as before. */
	ssh_channel agent_ch;
	struct ssh_channel_callbacks_struct agent_cb;
	/* A start in progress (NULL: none), not waited for: those who need the
	 * agent wait for it (host_agent_opener). Each start has its number
	 * (agent_start_seq); the last one's error, if it failed. */
	struct host_agent_start *starting;
	unsigned agent_start_seq;
	char *agent_start_error;
	char *agent_socket;
	long long agent_started_ms; /* when the running agent said it listens */
	int streamlocal_denied;
	/* sshd refused a direct-tcpip open as administratively prohibited:
	 * forwarded connections go over streams of the agent session */
	int tcp_denied;
	/* Streams of the agent session (host-mux.c): the frames read from
	 * the agent's channel not decoded yet, those to write to it, the last
	 * stream's id, whether our HELLO went, whether its frames broke. */
	struct buf *mux_in, *mux_out;
	/* The frame being read (host_mux_input): its header as far as it
	 * came, then its payload bytes still to come; a DATA frame's go to its
	 * stream as they come, any other's wait in mux_in. */
	unsigned char mux_hdr[PROTO_HEADER_SIZE];
	size_t mux_hdr_have;
	uint32_t mux_left;
	int mux_in_frame;
	uint16_t mux_type;
	uint32_t mux_chan;
	uint32_t mux_seq;
	struct host_mux_chans mux_chans;
	int mux_hello;
	int mux_broken;
	/* The listening agent's HELLO said it takes DATA right behind a
	 * stream's open (PROTO_FEATURE_EARLY_DATA): the broker's calls go
	 * over streams with their request at once (host_mux_open_early). */
	int mux_early;
	struct host_calls calls; /* the broker's own requests to the agent */
	/* host_serve is ending (host_agent_calls_end): why (a static string),
	 * which new calls fail with at once, else NULL. */
	const char *calls_ended;
	struct forward_parked_list parked; /* forward requests waiting for resolves */
	/* Forward jobs whose look at their workspace is in flight
	 * (host_forward_request), and the forward/unforward jobs held behind
	 * them (host_forward_job): owners host_job. */
	struct forward_order order;
	struct host_links links;
	struct host_forwards forwards; /* changed under lock (status reads) */
	/* "connect" requests' forwards, no listeners (host-connect.c; under
	 * lock as forwards) */
	struct host_forwards connects;
	struct host_autos autos;
	/* listings' channels given up while their open was not answered: closed
	 * once it is (a close before would name the peer's channel 0) */
	struct host_auto_orphans auto_orphans;
	cJSON *restore; /* saved entry to re-create (host_session_new), then NULL */

	/* Under lock. */
	struct host_jobs jobs;
	int stop;
	int ended;
	int finished; /* the thread has returned: joining it does not wait */
	char *label;
	enum host_state state;
	char *error; /* what the state's last change said, or NULL */
	int nclients;
	size_t buffered;      /* bytes in the links' buffers, as of the last round */
	size_t buffered_peak; /* the most seen since the session started */
	long agent_pid;	      /* the long-lived agent's, 0: none */
	enum host_agent_state agent_state; /* the host thread reads it unlocked */
	unsigned agent_starts;
	unsigned agent_opens;	     /* client and broker channels to the agent */
	const char *agent_transport; /* "streamlocal", or "session" (denied) */
	/* What sshd said of forwarding: "untried", "allowed" or "denied" */
	const char *tcp_forwarding, *streamlocal_forwarding;
	time_t idle_since;
	char *auth_sock;       /* the latest a client gave, or NULL */
	cJSON *restore_errors; /* saved forwards not re-created, with "error" */
	/* The ssh config took the alias elsewhere (SSH_FAIL_MOVED): this
	 * session's saved entry, its forwards and watches, for the broker to
	 * hand to the new destination's session (host_session_take_moved) */
	cJSON *moved;
};

/* A workspace whose container is watched: every second the relay lists the
 * listening TCP ports, and new ones are forwarded as portsAttributes'
 * onAutoForward says (ignore: not; notify, openBrowser, silent...: yes,
 * and the action is shown with the forward). */
struct host_auto {
	struct forward_auto fa;	     /* the watch (forward.h) */
	struct host_forward *relay;  /* where the relay is (not a listener) */
	LIST_ENTRY(host_auto) entry; /* on h->autos */
	/* The relay's listing under way (host-auto.c), taken as it comes:
	 * nothing on the session's thread waits for it. */
	ssh_channel list_ch;	       /* a direct-tcpip channel to the relay */
	int list_open;		       /* ... its open was answered */
	struct host_mux_chan *list_mx; /* or a stream of the agent session */
	struct buf *list_buf;	       /* the listing's bytes so far */
	int list_sent;		       /* the 'L' header went */
	int list_eof;		       /* the relay's end came */
	int list_failed;	       /* ... by a failure on the way, not the
					* relay's (a read error, the stream) */
	long long list_deadline;       /* given up then (2 s) */
	int list_port;		       /* the relay port it was asked of */
};

/* While the session's thread waits in a connect to a host that is away (up
 * to ConnectTimeout), a helper thread closes what connects to the forwards'
 * listeners, so a client sees a closed connection at once, not a hang. It
 * only accepts and closes, on a copy of the listener fds (the thread that
 * owns them is in the connect meanwhile). */
struct host_refuser {
	int running; /* host_refuser_start succeeded, not stopped yet */
	pthread_t thread;
	int stop[2];
	struct event_base *base; /* the helper thread's own */
	struct event **evs;	 /* the stop pipe's, then the listeners' */
	size_t n;
};

/* host-watch.c: the host thread's event loop (libevent). */
/* Make the thread's base and its wake event. 0, or -1 with *cause. */
int host_watch_init(struct host_session *h, char **cause);
/* Free every event (forwards' listeners too) and the base. */
void host_watch_free(struct host_session *h);
/* Watch the SSH socket fd (-1: stop): its data is taken with libssh's
 * event h->ev and h->last_rx is set; while h->ssh_out, its writability
 * too (libssh then writes what it holds). */
void host_watch_ssh(struct host_session *h, int fd);
/* One pass of the loop: wait at most timeout_ms (0: only what is ready
 * now) and run the callbacks of what is ready: client sockets read or
 * writable again, listeners' connections taken (host_forward_accept, linked
 * while serving, else closed), SSH data drained. The links' and listeners'
 * events are brought up to date first. 0, or -1 if libevent failed. */
int host_watch_pass(struct host_session *h, long long timeout_ms);
/* Free l's (or f's) events: before it is freed. */
void host_watch_link_clear(struct host_link *l);
void host_watch_forward_clear(struct host_forward *f);

/* host-client.c */
/* Send obj as one frame of type to a client whose fd is blocking. */
void host_send_json(int fd, enum proto_type type, const cJSON *obj);
/* Answer request id with {"ok":false,"error":error}. */
void host_send_error(int fd, int id, const char *error);
/* The same with the connect failure behind it, report (borrowed; NULL:
 * none): "errorKind" (its rdev_ssh_fail_name; none for SSH_FAIL_NONE), and
 * for SSH_FAIL_HANDSHAKE "proxied" (true, when through a ProxyCommand or
 * ProxyJump) and "banner" (when the server's came: the key exchange did
 * not end). */
void host_send_failure(
    int fd, int id, const char *error, const struct ssh_connect_report *report);
/* A progress line (arg: the host_session) to every client waiting on the
 * connect and install (h->jobs). */
void host_progress_all(void *arg, const char *line);
/* Install the current agent bundle on h's host (agent_install_ensure):
 * the slot's current one, read again if it is stale (an upgrade in place
 * not loaded by the broker's loop yet: agent_bundle_slot_take_fresh), and
 * installed once more, read again, if it failed and was changed meanwhile
 * (an upgrade landing during the install fails the hashes of the one read).
 * On success *agent_path (freed first) is its rdev-agent's path and
 * h->bundle the bundle installed; -1 with *cause. progress: as
 * agent_install_ensure's, with h as its arg. On h's thread. */
int host_install_current(struct host_session *h, char **agent_path,
    void (*progress)(void *arg, const char *line), char **cause);
/* A step (doing: "installing the agent") failed: when h's SSH connection is
 * gone (a link cut under a busy channel ends in a socket error: the
 * kernel's TCP_USER_TIMEOUT, before the keepalive's), the failure as every
 * loss is told, "lost the SSH connection to LABEL: libssh's error (while
 * DOING)" (new string); NULL while it is still up. */
char *host_lost_now(struct host_session *h, const char *doing);
/* ssh_target_opts.ask (arg: the host_session): the prompt goes to the first
 * waiting client, whose answer lands in buf. 0, or -1 when none came. */
int host_ask(void *arg, const char *prompt, int echo, char *buf, size_t len);

/* host-refuser.c */
/* Start refusing for h's forwards; 0, or -1 when there is nothing to do (or
 * no thread could be had). */
int host_refuser_start(struct host_session *h, struct host_refuser *r);
/* Stop the helper thread and free r's events (not running: nothing). */
void host_refuser_stop(struct host_refuser *r);

/* host-link.c */
/* Link the client of j to the host's agent: a new link whose channel opens
 * without waiting (host_link_open_progress, each round, answers the
 * client's request once it is open, or fails it); j is consumed. */
void host_link_open(struct host_session *h, struct host_job *j);
void host_link_open_progress(struct host_session *h, struct host_link *l);
/* A new link for client fd on channel ch (NULL: none yet, see
 * host_link_attach), at the head of h's list; owns fd and ch from now on.
 * Borrowed. */
struct host_link *host_link_new(
    struct host_session *h, int fd, ssh_channel ch, size_t cap);
/* Move l to state to (host_link_state's diagram; the same state: nothing). */
void host_link_set_state(struct host_link *l, enum host_link_state to);
/* l is done with: dead, or dying while its open is in flight. */
void host_link_kill(struct host_link *l);
/* Is l dead or dying? Is its open in flight (opening or dying)? */
int host_link_dead(const struct host_link *l);
int host_link_opening(const struct host_link *l);
/* Give l channel ch (opened, or being opened): its callbacks are set here,
 * and what came with the open is pulled. */
void host_link_attach(struct host_link *l, ssh_channel ch);
/* Give l stream c of the agent session instead (opened, or being opened). */
void host_link_attach_mux(struct host_link *l, struct host_mux_chan *c);
/* Drop l's channel (its callbacks first). */
void host_link_detach(struct host_link *l);
/* Detach l's channel (or stream) and forget what it brought (its bytes,
 * its end): a new one is opened for the same client. */
void host_link_replace_channel(struct host_link *l);
/* l's channel open, still in flight, goes to a link of its own with no
 * client (dying: freed once answered), and l has none. */
void host_link_orphan_open(struct host_link *l);
/* Is l an open forwarded connection held for its target's check (its
 * hold)? */
int host_link_held(const struct host_link *l);
/* Move bytes between the client, the link's buffers and the channel; calls
 * into libssh only when there is something to move. */
void host_link_pump(struct host_session *h, struct host_link *l);
/* The client sent something (or went away). */
void host_link_read_client(struct host_link *l);
/* The same, from the watch: closed, its peer's end was seen (EV_CLOSED). */
void host_link_read_client_on(struct host_link *l, int closed);
/* Are l's client's bytes left in its socket for now (its stream of the
 * agent session takes none at the moment, and none wait in l)? */
int host_link_client_waits(const struct host_link *l);
/* Free the links marked dead. */
void host_drop_dead_links(struct host_session *h);
/* Why a session whose connection closed is lost, for its clients. */
#define HOST_LOST_CLOSED "the connection was closed (sshd ended, or the host went away)"
/* The SSH session is lost (why: the reason, for the user): each client of
 * the agent is told with a FATAL frame naming the host, sent before
 * host_close_all_links closes it; each forwarded connection gets what the
 * broker holds for it, then a TCP reset at that close (host_link_reset). */
void host_links_lost(struct host_session *h, const char *why);
/* Close and free every link. */
void host_close_all_links(struct host_session *h);
/* Set h->kicked for work left with no event to wake the thread: a window
 * adjust for a link whose data waited for one, the answer to an open read
 * while serving another link, data kept in libssh for want of room that now
 * has room. Returns how many links are still opening. */
int host_links_check(struct host_session *h);

/* host-agent.c */
/* Log an agent's stderr bytes (its log lines) with the host's label. */
void host_log_agent_stderr(struct host_session *h, const void *data, size_t len);
/* Start the host's long-lived agent and wait (up to a minute: the login
 * shell runs once here) until it listens: at connect time, before serving.
 * 0, or -1 with *cause. */
int host_agent_start(struct host_session *h, char **cause);
/* Begin a start without waiting, unless one is under way: its progress is
 * made by host_agent_start_step (from host_agent_check, each round). A new
 * process of an installed bundle checks the install first (in the same
 * login shell); a damaged one is installed again. 0, or -1 with *cause. */
int host_agent_start_begin(struct host_session *h, char **cause);
/* Move a start on. Returns 1 while it waits for an answer that no callback
 * brings (poll for it, as for the links' opens), else 0. */
int host_agent_start_step(struct host_session *h);
/* Close its channel (the agent stops listening and exits; connections it
 * serves go on until their clients close them); a start under way ends. */
void host_agent_stop(struct host_session *h);
/* Each round: a start's progress; a new agent begun if the last one ended. */
void host_agent_check(struct host_session *h);

/* The agent's state by name ("none", "starting", "listening", "gone"),
 * for status (under the lock). */
const char *host_agent_state_label(const struct host_session *h);
/* Go on opening: 1 with *out or *mx_out (the caller's to free; o is cleared), 0 while
 * in progress (call again next round), -1 with *cause (o cleared). */
int host_agent_opener_step(struct host_session *h, struct host_agent_opener *o,
    ssh_channel *out, struct host_mux_chan **mx_out, char **cause);
/* Did sshd just refuse an open as administratively prohibited (forwarding
 * off)? */
int host_open_prohibited(struct host_session *h);
/* Set a forwarding's status ("allowed", "denied"), under the lock. */
void host_set_forwarding(struct host_session *h, const char **which, const char *to);
/* Is an open in flight (it cannot be taken back: wait for its answer)? */
int host_agent_opener_pending(const struct host_agent_opener *o);
/* Drop o's channel and state (its open's answer is then ignored). */
void host_agent_opener_clear(struct host_agent_opener *o);
/* How a request to the agent ended (host_call_done_fn). */
enum host_call_end {
	HOST_CALL_ANSWERED, /* its result came (error NULL) */
	HOST_CALL_REFUSED,  /* the agent's own answer (ok:false) */
	/* ... with "errorCode":"no-workspace": its folder does not exist, or
	 * no container carries its labels (definitive until an `up`); or
	 * "not-owner": its container is another user's */
	HOST_CALL_NO_WORKSPACE,
	/* ... with "errorCode":"not-running": its container is stopped */
	HOST_CALL_NOT_RUNNING,
	/* the session's calls were ended (host_agent_calls_end): the session
	 * is going (lost, or the broker stopping) */
	HOST_CALL_ENDING,
	/* the connection was gone: not connected when asked, or lost before
	 * the loop saw it (sent again, it would fail the same) */
	HOST_CALL_GONE,
	HOST_CALL_TIMED_OUT, /* no answer within the call's deadline (60 s) */
	/* failed on the way otherwise (the agent could not start, a channel
	 * refused, the agent ended without an answer): may pass */
	HOST_CALL_FAILED,
};
/* The end of a request to the agent (host_agent_call_start), on the host
 * thread: result (borrowed, may be NULL) when error is NULL; how says how
 * it ended (with an error, anything but HOST_CALL_ANSWERED). */
typedef void (*host_call_done_fn)(struct host_session *h, void *arg, const cJSON *result,
    const char *error, enum host_call_end how);
/* host_agent_call_start's flags. HOST_CALL_IDEMPOTENT: asked twice, the
 * call does what it does once (a relay op makes sure of a relay; a look or
 * a listing changes nothing). Such a call whose request went behind its
 * stream's open, and whose agent ended before it answered, is sent again
 * (once) to the next agent: the request may or may not have run. A call
 * without the flag is never sent again once its request may have reached an
 * agent: it fails, saying it may or may not have run. Every call that
 * changes something on the host and is not safe twice must leave it out. */
#define HOST_CALL_IDEMPOTENT 0x1u
/* Send one request (req is copied) to the agent: with the open of a stream
 * of the agent session when the agent listens and takes early data (one
 * round trip), else on a new channel (or stream) once it is open, waiting
 * for nothing else but an agent start (when none runs). flags:
 * HOST_CALL_IDEMPOTENT or 0. done(h, arg, ...) runs later from
 * host_agent_calls_progress (never from here), at most 60 s on. The call is
 * borrowed: valid until its done runs. */
struct host_call *host_agent_call_start(struct host_session *h, const cJSON *req,
    unsigned flags, host_call_done_fn done, void *arg);
/* Give call c (just started) timeout_ms from now in place of 60 s. */
void host_agent_call_deadline(struct host_call *c, int timeout_ms);
/* Its asker is going away: done will not run (the call ends by itself). */
void host_agent_call_forget(struct host_call *c);
/* Move the calls on (each round): opens answered, answers read, deadlines;
 * runs the done of those that ended. Returns how many are still opening
 * (their answers are polled for, as the links'). */
int host_agent_calls_progress(struct host_session *h);
/* End every call with error why (a static string: the session is going):
 * their done run, and calls they start fail so at once (h->calls_ended,
 * until host_agent_calls_reopen). */
void host_agent_calls_end(struct host_session *h, const char *why);
/* The session serves again: calls go to the agent. */
void host_agent_calls_reopen(struct host_session *h);
/* The agent session's answer msg (borrowed) to request id
 * (host_mux_request): the call that asked it is done. */
void host_agent_call_answer(struct host_session *h, uint32_t id, const cJSON *msg);
/* The agent session is gone (why): the calls asked on it fail. */
void host_agent_calls_session_lost(struct host_session *h, const char *why);

/* host-mux.c */
/* A new stream (waiting: host_mux_step sends its open once an agent
 * listens, and starts one if none does) to connect ("agent", or "tcp" to
 * address:port), with our receive window. Borrowed by the caller, who
 * closes it with host_mux_close. */
struct host_mux_chan *host_mux_open(struct host_session *h, const char *connect,
    const char *address, int port, uint32_t window);
/* Who takes c's bytes and end (what came before is delivered now). */
void host_mux_set_owner(
    struct host_mux_chan *c, host_mux_data_fn on_data, host_mux_eof_fn on_eof, void *arg);
/* A new stream whose open is sent now, and which takes DATA at once, before
 * its answer (up to PROTO_EARLY_DATA: the request of a call goes with the
 * open, one round trip in all); NULL when the agent session cannot have one
 * (no agent listening, or one whose HELLO did not offer it: an older
 * agent). Owned as host_mux_open's. */
struct host_mux_chan *host_mux_open_early(struct host_session *h, const char *connect,
    const char *address, int port, uint32_t window);
/* Queue data for the agent as far as c's credit and the session's out
 * buffer go; how many bytes were taken (0 until c is open, unless it was
 * opened early). */
size_t host_mux_write(struct host_mux_chan *c, const void *data, size_t len);
/* Would host_mux_write take something now? */
int host_mux_writable(const struct host_mux_chan *c);
/* Does c take DATA, but not now (no credit, or the session's out buffer is
 * full)? Until then its owner leaves the bytes where they are. */
int host_mux_full(const struct host_mux_chan *c);
/* Read fd straight into a DATA frame for c (no copy through the owner's
 * buffer), as far as c's credit goes; only while host_mux_writable(c). What
 * read(2) returned (-1: errno set); *asked: the count it asked for (a short
 * read emptied the socket). */
ssize_t host_mux_read(struct host_mux_chan *c, int fd, size_t *asked);
/* The owner passed n of c's bytes on: grant them to the agent again. */
void host_mux_consumed(struct host_mux_chan *c, size_t n);
/* Our half close. */
void host_mux_send_eof(struct host_mux_chan *c);
/* Close and free c (NULL: nothing); its CLOSE says "reset" when
 * c->reset_out is set. */
void host_mux_close(struct host_mux_chan *c);
/* Bytes of the agent's channel (after "listening"): its frames. */
void host_mux_input(struct host_session *h, const void *data, size_t len);
/* Send req (borrowed; its "id" replaced) on the agent session itself, as
 * the long-lived agent answers "info" (serve-mux.h): its id there, whose
 * answer goes to host_agent_call_answer. The agent must be listening. */
uint32_t host_mux_request(struct host_session *h, const cJSON *req);
/* The agent ended: every stream sent fails with why, the buffers go. */
void host_mux_reset(struct host_session *h, const char *why);
/* Each round: send the waiting opens, write what waits for the agent.
 * Returns how many opens are unanswered. */
int host_mux_step(struct host_session *h);

/* host-forward.c */
/* Ask the agent where f's connections go (and start the relay), unless it
 * is being asked already; without waiting: when the answer is in, f has its
 * target (or not: logged) and f's connections waiting for it go on (or are
 * closed), parked forward requests are answered. */
void host_forward_resolve_start(struct host_session *h, struct host_forward *f);
/* Answer the parked forward requests whose resolves have all ended. */
void host_forward_parked_check(struct host_session *h);
/* sshd refused a direct-tcpip open (for local_port, 0: an --auto watch's
 * listing, logged as "auto-forward"): if as administratively prohibited,
 * TCP forwarding is off there (logged once), and forwarded connections go
 * over streams of the agent session from now on. Returns 1 then. */
int host_forward_check_denied(struct host_session *h, int local_port);
/* The direct-tcpip open of ch to address:port (from 127.0.0.1:from_port),
 * sent or (again) asked about without waiting: SSH_OK open, SSH_AGAIN not
 * answered yet, SSH_ERROR refused or not sent. */
int host_open_forward_nowait(
    struct host_session *h, ssh_channel ch, const char *address, int port, int from_port);
/* Take the connections waiting on listener lfd of f: linked (their channels'
 * opens sent, not waited for) when connected, else closed at once. */
void host_forward_accept(
    struct host_session *h, struct host_forward *f, int lfd, int connected);
/* Take the answer to an opening link's channel open if it has come: the
 * link then moves data, or its next way is tried (the relay after a refused
 * direct open), or it is marked dead. */
void host_forward_open_progress(struct host_session *h, struct host_link *l);
/* Close f's listeners and free it (NULL: nothing). */
void host_forward_free(struct host_forward *f);
/* Drop the forwards marked gone (and their connections). */
void host_forward_reap(struct host_session *h);
/* The forward of ws to [service:]port (at local, or any local port when 0),
 * made if there is none yet; borrowed (on h->forwards). NULL with *cause when
 * no local port can be had. */
struct host_forward *host_forward_make(struct host_session *h, const char *ws,
    const char *config, const char *service, int port, int local, int exact,
    const char *label, char **cause);
/* host_forward_make as a forward_make_fn (arg: the session). */
struct forward *host_forward_make_fn(void *arg, const char *ws, const char *config,
    const struct forward_spec *s, int exact, char **cause);
/* Answer a "forward" job once the resolves it started have ended (it is
 * parked on h->parked meanwhile); j is consumed (answered, fd closed).
 * unchecked (not NULL: why, the look at its workspace that timed out):
 * no check is started, the forwards are made with a warning. */
void host_forward_add(struct host_session *h, struct host_job *j, const char *unchecked);
/* A "forward" job as it comes: when it would add forwards (or a watch) and
 * the host is connected, the agent is asked first whether its workspace is
 * there at all (a "relay" with "resolveOnly"); a definitive no answers the
 * job with the error and makes nothing, else host_forward_add. j is
 * consumed. */
void host_forward_request(struct host_session *h, struct host_job *j);
/* Answer an "unforward" job; j stays the caller's. */
void host_forward_remove(struct host_session *h, struct host_job *j);
/* Run a "forward" or "unforward" job (j is consumed), or hold it while a
 * look of an earlier one of the same workspace is in flight: the requests
 * of a workspace take effect in the order they came (an unforward after a
 * forward request stops what that one makes). */
void host_forward_job(struct host_session *h, struct host_job *j);

/* A new link of f for client fd (taken), counted as f's connection; its
 * open is the caller's to start (host_forward_open_next). Borrowed. */
struct host_link *host_forward_link(
    struct host_session *h, struct host_forward *f, int fd);
/* Open l's channel the way its forward's connections go now: direct when
 * due (a server on the container address), else the relay (or the
 * service). 0, or -1 when the open cannot be sent. */
int host_forward_open_next(struct host_session *h, struct host_link *l);
/* Open the links that waited forward_check_bound for their target's
 * check with the target their forward has, and ask the agent for those
 * whose open has not been answered in that bound (probe_ms), each round.
 * Returns the ms until the next such wait ends, -1: none waits. */
long long host_forward_waits_step(struct host_session *h);

/* host-connect.c */
/* A "connect" request ({"workspace","config","idLabels","hint","containerPort"}):
 * its client becomes a forwarded connection to that container port,
 * answered once open (host_connect_answer); j is consumed. */
void host_connect_add(struct host_session *h, struct host_job *j);
/* Answer l's "connect" request (once; nothing for another link): the route
 * taken ("direct", "relay") ahead of the server's bytes, or error. */
void host_connect_answer(struct host_link *l, const char *route, const char *error);
/* The connects' forwards as status shows them (new array; under lock). */
cJSON *host_connects_json(struct host_session *h);
/* A connect's forward is kept this long after its last link: a serial
 * client's next channel finds its target and direct_retry_ms.
 * $RDEV_HOST_CONNECT_IDLE_MS in the broker's environment sets it (tests: an
 * entry freed sooner), read once per session (connect_idle_ms). */
#define HOST_CONNECT_IDLE_MS 10000
/* Note when f, if a connect's forward, lost its last link (its last link is
 * being freed). */
void host_connect_release(struct host_forward *f);
/* Is connect forward f to be freed at now (clock_now_ms): no link for
 * idle_ms (HOST_CONNECT_IDLE_MS), and no check of its target in flight? */
int host_connect_expired(const struct host_forward *f, long long now, int idle_ms);
/* Free the connects' forwards idle for h->connect_idle_ms (not while a
 * check of their target is in flight: a parked "forward" answer may wait
 * for it). */
void host_connects_sweep(struct host_session *h);
/* Free the connects' forwards (their links are gone). */
void host_connects_free(struct host_session *h);

/* host-auto.c */
/* Watch ws for new listening ports (once per workspace); attrs is copied.
 * The watch of ws, borrowed (on h->autos). */
struct host_auto *host_auto_add(
    struct host_session *h, const char *ws, const char *config, const cJSON *attrs);
/* A "forward" request's "auto" (attrs) for its "workspace": a new watch,
 * or the watch there already takes the request's container; when that is
 * another one, the auto-forwards the watch made for the one it followed
 * go there too (forward_auto_retarget), now: the caller saves. */
void host_auto_request(struct host_session *h, const cJSON *req, const cJSON *attrs);
/* Scan the watched workspaces that are due. */
void host_auto_tick(struct host_session *h);
/* The session is ending: the listings under way are dropped. */
void host_auto_end_listings(struct host_session *h);
/* Stop watching ws (NULL: all). */
void host_auto_remove(struct host_session *h, const char *ws);

/* host-state.c */
/* Save this session's forwards and watches (broker-state.h), before the
 * change is answered: what a client was told is made survives a killed
 * broker. Failures are logged. */
void host_state_save(struct host_session *h);
/* The session's saved entry (broker-state.h): its parameters, forwards and
 * watches. New. */
cJSON *host_state_entry(struct host_session *h);
/* Re-create h->restore (the saved entry of a new session, before its
 * thread starts) and drop it: the forwards listen again on their local ports
 * (a port taken meanwhile: logged, kept in h->restore_errors for status, and
 * left out of the saved entry), their targets resolved at their first
 * connection; the watches resume. */
void host_state_restore(struct host_session *h);
/* Forget the restore errors of ws (NULL: all) at local (0: any); how many. */
int host_state_forget_errors(struct host_session *h, const char *ws, int local);

#endif
