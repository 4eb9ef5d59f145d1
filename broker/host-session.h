/* host-session.h - one SSH session to one host, held by the broker, and the
 * client connections spliced onto channels of it.
 *
 * Each host session runs in its own thread (libssh sessions are blocking and
 * not shared between threads; a slow connect to one host must not stall the
 * others). The broker's main thread hands it client connections with
 * host_session_submit(); the thread connects (once), installs the agent
 * (once), starts the host's long-lived agent (once, and again if it dies:
 * host-agent.c), opens a channel to it per client (direct-streamlocal to its
 * socket; an exec channel running `rdev-agent serve` where sshd forbids
 * those), answers the client's "agent" request, then copies bytes both ways
 * until either side ends. Flow control: at most HOST_LINK_BUFFER bytes wait in each
 * direction; beyond that the side producing them is not read (the SSH window closes, or
 * the client's socket fills), so memory stays bounded.
 *
 * The session closes when it has had no client for the idle timeout, when a
 * keepalive gets no answer (every client connection on it is then closed, so
 * clients see a clean end, not a hang), or on host_session_stop(). The
 * keepalive goes after one interval in which nothing came (and the host's
 * TCP acknowledged none of our data), so a silent host is lost interval x
 * ServerAliveCountMax after it was last heard (9 s by default). While a lost
 * session reconnects, connections to its forwards are closed at once, also
 * during the connect (a helper thread accepts and closes them). The TCP
 * connect and key exchange do not block the thread (host_connect_wait): a
 * stop abandons them at once, and forward requests are answered meanwhile.
 *
 * Ownership: the broker owns struct host_session; the thread owns the libssh
 * session, channels and the client fds it was given.
 */
#ifndef RDEV_HOST_SESSION_H
#define RDEV_HOST_SESSION_H

#include <cjson/cJSON.h>

#include "ssh-session.h"

#define HOST_LINK_BUFFER (1u << 20)

struct host_session;
struct agent_bundle_slot;
struct broker_state;

/* Where to connect; copied. */
struct host_session_params {
	struct ssh_target_opts ssh;	   /* (accept_new_host_key: unused; a connect
					      attempt takes it from the clients
					      waiting for it, host_session_submit) */
	struct agent_bundle_slot *bundles; /* the current bundle, taken at
					      each install (borrowed; outlives
					      the session) */
	int idle_timeout_s;
	const char *agent_path;	    /* non-NULL: run this agent (tests), no install */
	struct broker_state *saved; /* where forwards and watches are saved
				       (borrowed; outlives the session), or NULL */
	const cJSON *restore;	    /* a saved host entry (broker-state.h) to
				       re-create, or NULL: its ports listen when
				       host_session_new returns, and the session
				       connects at once, without a client. */
};

/* The identity of a session: two requests with the same key share it.
 * From c (rdev_ssh_destination_cached: the broker's loop only) while the
 * ssh config files are unchanged. The caller frees. */
char *host_session_key(struct rdev_ssh_dest_cache *c, const struct ssh_target_opts *o);

/* Start the session's thread (it connects when the first client comes). */
struct host_session *host_session_new(const struct host_session_params *p);
/* The ssh-agent socket a client gave (NULL: none given, no change): the
 * session's next connect (or reconnect) uses the most recent one. Copied. */
void host_session_set_auth_sock(struct host_session *h, const char *auth_sock);
/* Hand over a client connection whose request (id) has been read. req NULL:
 * an "agent" request: the session answers it (progress events, then ok or an
 * error) and splices fd to a new channel to the host's agent. req an "info"
 * request ({"id","op":"info"}, copied; the broker's probe, broker-probe.h):
 * once connected, the session asks the agent and answers with its result or
 * an error, then closes fd (a session that is reconnecting fails it at once).
 * req a "forward" or "unforward" request (copied): answered, then fd is
 * closed. Forwards keep
 * the session open (no idle close) and survive a lost connection: their
 * listeners stay, what connects meanwhile is closed at once, and the session
 * reconnects with exponential backoff (1 s doubling to 30 s, with jitter).
 * fd must be blocking, and the caller must not touch it once it is taken: the
 * session's thread may change its mode at once. Returns 0, or -1 if the
 * session has ended (the caller makes a new one and submits again); fd is
 * then not taken. flags: HOST_SUBMIT_*. HOST_SUBMIT_ACCEPT_NEW_KEY: a session that is not
 * connected (reconnecting, or a restored one that failed on the key) then tries at once
 * and accepts it; a connected session ignores it (its key is known). A waiting client of
 * a reconnecting session makes it try at once instead of at the next backoff step. */
#define HOST_SUBMIT_ACCEPT_NEW_KEY 1 /* the client asked to record an unknown key */
#define HOST_SUBMIT_CAN_PROMPT \
	2 /* a user's client: a passphrase or password \
	     prompt while connecting may go to it */
int host_session_submit(
    struct host_session *h, int fd, int request_id, const cJSON *req, unsigned flags);
/* Has the thread ended (idle, failed, lost)? Then host_session_free. */
int host_session_ended(struct host_session *h);
/* Has its thread returned (ended, and its SSH session and ProxyCommand
 * ended too)? Then host_session_free does not wait. */
int host_session_finished(struct host_session *h);
/* An ended session whose reconnect found that the ssh config now takes
 * its alias elsewhere: its saved entry (broker-state.h), its forwards and
 * watches, for the new destination's session (the broker restores it
 * there once this one is freed and its ports are free), once; else NULL.
 * The caller frees. */
cJSON *host_session_take_moved(struct host_session *h);
/* The forwards of saved entry moved could not be handed over (cause): h's
 * status lists them with their error, as a saved forward not re-created. */
void host_session_note_unmoved(
    struct host_session *h, const cJSON *moved, const char *cause);
/* Ask the thread to close everything and end; does not wait. */
void host_session_stop(struct host_session *h);
/* Stop, wait for the thread, free. */
void host_session_free(struct host_session *h);
/* {"host":LABEL,"state":"connecting|connected|lost|reconnecting|failed|closed",
 *  "clients":N,"idleSeconds":N,"error":S|null,"agent":PATH|null,
 *  "forwards":[...]};
 * a saved forward that could not be re-created is in "forwards" with its
 * "error". */
cJSON *host_session_status(struct host_session *h);

#endif
