/* local-internal.h - the pieces of the broker's local host (local-host.h),
 * shared by its modules: local-forward.c (the host, its forwards and the
 * requests), local-link.c (forwarded connections) and local-agent.c (the
 * local rdev-agent child and the requests made to it). Everything runs on
 * the broker's main event base.
 *
 * Ownership: the struct local_host owns its forwards (lh->forwards), links
 * (lh->links), parked requests (lh->parked) and agent. A link's forward is
 * borrowed: a forward's links are killed before it is freed. A local_call is
 * owned by the agent; whoever asked holds it borrowed (f->resolving) until
 * its done runs, or forgets it (local_agent_forget) when it goes first.
 * Dead links and gone forwards are freed by the reap event after the
 * callback that killed them has returned.
 */
#ifndef RDEV_LOCAL_INTERNAL_H
#define RDEV_LOCAL_INTERNAL_H

#include <sys/queue.h>

#include <cjson/cJSON.h>

#include "forward.h"
#include "forward-order.h"
#include "local-host.h"
#include "sock-drain.h"

struct bufferevent;
struct event;
struct sockaddr_storage;
struct local_agent;
struct local_call;

/* A forward of the local host: the forward (forward.h), its listeners'
 * events and the agent call asking where it goes. */
struct local_forward {
	struct forward fw;
	struct local_host *lh;
	struct event *ev4, *ev6;
	struct local_call *resolving; /* borrowed; NULL: not being asked */
	/* Ends the links' wait for a check (forward_check_bound); NULL
	 * until the first check. */
	struct event *check_timer;
	/* The container's address did not answer (Docker Desktop): every
	 * connection goes through a Docker exec from then on (local-exec.c). */
	int via_exec;
	LIST_ENTRY(local_forward) entry;
};
LIST_HEAD(local_forwards, local_forward);

/* A forwarded connection's life; every change goes through
 * local_link_set_state, which logs it and takes only these:
 *
 *   resolving  -> connecting, dead
 *   connecting -> connecting (the relay after a refused direct connect),
 *                 resolving (asked again after a refused relay), relay,
 *                 open, dead
 *   relay      -> open, dead
 *   open       -> dead
 *
 * resolving: its forward has no target yet (the agent is asked); the
 * client's bytes wait in its buffer. connecting: a TCP connect to the
 * container's address (direct) or its relay. relay: connected to the relay,
 * its header sent, its status byte still to come. dead: freed by the reap.
 * A connection through a Docker exec (local-exec.c) goes from connecting
 * to open at once: its socket is the local agent's, connected already. */
enum local_link_state {
	LOCAL_LINK_RESOLVING,
	LOCAL_LINK_CONNECTING,
	LOCAL_LINK_RELAY,
	LOCAL_LINK_OPEN,
	LOCAL_LINK_DEAD,
};

struct local_link {
	unsigned id;
	enum local_link_state state;
	struct local_host *lh;
	struct local_forward *f;
	struct bufferevent *cli; /* the local client */
	struct bufferevent *up;	 /* the container (or its relay); NULL: none */
	int direct;		 /* up goes to the container address itself */
	int port;		 /* the port up connects to */
	int retried;		 /* the agent was asked again after a refusal */
	long long born_ms;	 /* when the client connected (clock_now_ms) */
	int cli_eof, up_eof;	 /* that side ended its sending */
	int cli_shut, up_shut;	 /* and its end was passed on (SHUT_WR) */
	/* That side's end was a reset: passed on as one, once the other side
	 * has had the bytes before it and its socket sent them (rst_drain,
	 * looked at by rst_timer: local_link_reset_watch), so its reader sees
	 * an error, not the end of a whole stream. rst_to: the bufferevent to
	 * reset, NULL until then. */
	int cli_rst, up_rst;
	struct bufferevent *rst_to;
	struct event *rst_timer;
	struct sock_drain rst_drain;
	/* A connect to a target not checked for this connection that has
	 * not been answered in LOCAL_LINK_PROBE_MS asks the agent meanwhile
	 * (local_link_on_probe): a stopped container's address answers
	 * nothing (an ARP timeout, seconds; or LOCAL_CONNECT_TIMEOUT_S). */
	struct event *probe;
	int probing;	  /* asked: the answer may end the connect */
	char *up_address; /* the address up connects to */
	LIST_ENTRY(local_link) entry;
};
LIST_HEAD(local_links, local_link);

/* An auto-forward watch of the local host: the watch (forward.h), the
 * relay's forward (no listener: where the relay is, asked like a forward's
 * target) and the listing in flight. */
struct local_auto {
	struct forward_auto fa;
	struct local_forward *relay;
	struct local_host *lh;
	struct bufferevent *listing; /* NULL: none in flight */
	int listing_port;	     /* the relay port it was asked of */
	LIST_ENTRY(local_auto) entry;
};
LIST_HEAD(local_autos, local_auto);

/* A "forward" request waiting for the agent's look at its workspace
 * (local_host_request) before its forwards are made, a look on lh->order;
 * or a forward/unforward request held there behind such a look
 * (call NULL). */
struct local_precheck {
	struct local_host *lh;
	int fd, id;
	cJSON *req;		 /* the request (a copy) */
	struct local_call *call; /* borrowed: valid until its done runs */
	struct forward_order_entry order;
};

struct local_host {
	struct event_base *base;
	char *agent_path; /* NULL: agent_error */
	char *agent_error;
	struct broker_state *saved;
	struct local_agent *agent;
	struct local_forwards forwards;
	struct local_links links;
	struct local_autos autos;
	struct event *auto_ev; /* lists the watches every second; NULL: none yet */
	struct forward_parked_list parked; /* forward requests waiting */
	struct forward_order order;	   /* their looks, requests held */
	cJSON *restore_errors;		   /* saved forwards not re-created, or NULL */
	struct event *reap_ev;		   /* frees dead links and gone forwards */
	unsigned link_seq;
	size_t buffered_peak;
};

/* local-forward.c */
/* The forward of ws to s, made if there is none yet (forward_make_fn; arg:
 * the local host). */
struct forward *local_forward_make(void *arg, const char *ws, const char *config,
    const struct forward_spec *s, int exact, char **cause);
/* Free f (its resolve forgotten, its listeners closed). */
void local_forward_free(struct local_forward *f);
/* Stop f: marked gone, its listeners closed (the port is free on return),
 * its links killed; freed after this callback (local_host_reap_soon). */
void local_forward_stop(struct local_forward *f);
/* Save the forwards and watches (broker-state.h). */
void local_host_save(struct local_host *lh);
/* Ask the agent where f's connections go, unless it is being asked; the
 * answer (later) moves f's waiting links on and answers parked requests. */
void local_forward_resolve(struct local_forward *f);
/* Free dead links and gone forwards after this callback (lh->reap_ev). */
void local_host_reap_soon(struct local_host *lh);

/* local-auto.c */
/* Watch ws's container for new listening ports (attrs: portsAttributes and
 * otherPortsAttributes; from: the request or saved entry whose "config",
 * "idLabels" and "hint" it takes: forward_auto_take_request); the watch of
 * ws if there is one (which takes them too, moving nothing: a restore). */
struct local_auto *local_auto_add(struct local_host *lh, const char *ws,
    const char *config, const cJSON *attrs, const cJSON *from);
/* A "forward" request's "auto" (attrs) for its "workspace": a new watch
 * (local_auto_add), or the watch there already takes the request's
 * container; when that is another one, the auto-forwards the watch made
 * for the one it followed go there too (forward_auto_retarget), now: the
 * caller saves. */
void local_auto_request(struct local_host *lh, const cJSON *req, const cJSON *attrs);
/* Stop watching ws (NULL: all). */
void local_auto_remove(struct local_host *lh, const char *ws);
/* The watches as saved, into the array list. */
void local_auto_save(struct local_host *lh, cJSON *list);
/* Re-create the saved watches list. */
void local_auto_restore(struct local_host *lh, const cJSON *list);

/* local-link.c */
/* address:port as a socket address. 0, or -1. */
int local_link_addr(const char *address, int port, struct sockaddr_storage *ss, int *len);
/* A new connection from the client fd to f, moving on as far as it can. */
void local_link_new(struct local_forward *f, int fd);
/* Go on with l now that its forward's resolve has ended (ok: it has a
 * target, checked or not: l connects to it), or kill it. */
void local_link_resolved(struct local_link *l, int ok);
/* The agent answered the check a connecting l asked for (probing):
 * failed (the container is not running, ...): l is closed at once;
 * else l goes on, to the new address if the container has another. */
void local_link_checked(struct local_link *l, int failed);
/* Mark l dead (its sockets stop at once; freed by the reap). */
void local_link_kill(struct local_link *l);
/* Free l (a dead one, from the reap; or every one, at the end). */
void local_link_free(struct local_link *l);
/* Bytes held in l's buffers. */
size_t local_link_buffered(const struct local_link *l);

/* local-exec.c */
/* Does RDEV_LOCAL_FORWARD_VIA=exec (a test and diagnostic knob) send every
 * connection through a Docker exec? */
int local_exec_forced(void);
/* Start `rdev-agent connect cid port` for one connection: 0 and *fd (ours,
 * non-blocking, the caller closes it; the agent ends after it), or -1 with
 * *cause. */
int local_exec_open(
    struct local_host *lh, const char *cid, int port, int *fd, char **cause);

/* local-agent.c */
/* How a request to the local agent ended (local_call_done_fn; as
 * host-internal.h's enum host_call_end). */
enum local_call_end {
	LOCAL_CALL_ANSWERED, /* its result came (error NULL) */
	/* failed on the way (the agent could not start, ended without an
	 * answer, wrote garbage): may pass */
	LOCAL_CALL_FAILED,
	LOCAL_CALL_TIMED_OUT, /* no answer within the call's deadline (60 s) */
	LOCAL_CALL_REFUSED,   /* the agent's own answer (ok:false) */
	/* ... with "errorCode":"no-workspace": its folder does not exist, or
	 * no container carries its labels; or "not-owner": its container is
	 * another user's */
	LOCAL_CALL_NO_WORKSPACE,
	/* ... with "errorCode":"not-running": its container is stopped */
	LOCAL_CALL_NOT_RUNNING,
};
/* The end of a request to the agent: result (borrowed, may be NULL) when
 * error is NULL; how says how it ended (with an error, anything but
 * LOCAL_CALL_ANSWERED). Runs from the event loop, never from
 * local_agent_call. */
typedef void (*local_call_done_fn)(
    void *arg, const cJSON *result, const char *error, enum local_call_end how);
/* Send req (copied; its "id" is replaced) to the local agent, started when
 * none runs. done(arg, ...) runs within 60 s. The call is borrowed: valid
 * until its done runs. */
struct local_call *local_agent_call(
    struct local_host *lh, const cJSON *req, local_call_done_fn done, void *arg);
/* Give call c (just made) timeout_ms from now in place of 60 s. */
void local_agent_call_deadline(struct local_call *c, int timeout_ms);
/* The asker is going away: done will not run. NULL: nothing. */
void local_agent_forget(struct local_call *c);
/* The agent as status shows it ({"pid","starts","starting","state",
 * "channels","transport"}). */
cJSON *local_agent_status(struct local_host *lh);
/* Reap an agent process that ended (waitpid, not waiting). */
void local_agent_reap(struct local_host *lh);
/* Stop the agent (its socket closed: it ends) and fail its calls. */
void local_agent_free(struct local_host *lh);

#endif
