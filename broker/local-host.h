/* local-host.h - the broker's "local" host: port forwards to dev containers
 * on this machine's Docker engine, with no SSH (`rdev up ./ws`, `rdev
 * forward ./ws 3000`). It answers the same "forward" and "unforward"
 * requests as an SSH host (asked with "engine":"local" instead of a host),
 * shows its forwards in status as host "local", saves them in the broker's
 * state and re-creates them when a broker starts.
 *
 * It runs on the broker's main event base (daemon.c), never blocking it:
 * where a forward's connections go is asked of a local `rdev-agent serve`
 * child (its "relay" op, the same as on a remote host; local-agent.c),
 * asynchronously, once for all the connections that wait for it; then each
 * connection is a plain TCP connection to the container's address, or to
 * the relay in the container for servers bound to 127.0.0.1 there
 * (local-link.c).
 *
 * Ownership: the daemon owns the struct local_host (local_host_new/free);
 * it owns its forwards, connections, the agent child and the request
 * connections handed to it.
 */
#ifndef RDEV_LOCAL_HOST_H
#define RDEV_LOCAL_HOST_H

#include <cjson/cJSON.h>

/* The host's name in status, and the saved entry's "host". */
#define LOCAL_HOST_LABEL "local"

struct event_base;
struct broker_state;
struct local_host;

/* A local host on base. agent: the rdev-agent to run (copied), or NULL when
 * there is none (agent_error says why, copied: each forward request's
 * resolve fails with it). saved: where forwards are saved (borrowed;
 * outlives the host), or NULL. */
struct local_host *local_host_new(struct event_base *base, const char *agent,
    const char *agent_error, struct broker_state *saved);
/* The rdev-agent to run from now on (a bundle loaded after the start, or
 * replaced), as local_host_new's agent and agent_error; an agent child
 * already running goes on. */
void local_host_set_agent(
    struct local_host *lh, const char *agent, const char *agent_error);
/* Close every forward and connection, stop the agent. NULL: nothing. */
void local_host_free(struct local_host *lh);
/* Is o (a request or a saved host entry) about the local engine? */
int local_host_is_for(const cJSON *o);
/* Take a client's "forward" or "unforward" request (req is copied) and its
 * connection fd: answered (now, or once the agent has said where the
 * forwards go), then fd is closed. */
void local_host_request(struct local_host *lh, int fd, int id, const cJSON *req);
/* Re-create a saved host entry's forwards (broker-state.h). */
void local_host_restore(struct local_host *lh, const cJSON *entry);
/* The host as a session of status ({"host":"local",...,"forwards":[...]},
 * host-session.h's shape); NULL when it has no forwards. New. */
cJSON *local_host_status(struct local_host *lh);
/* Periodic work (the daemon's timer): reap an agent child that ended. */
void local_host_tick(struct local_host *lh);

#endif
