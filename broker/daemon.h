/* daemon.h - the broker daemon: a libevent loop on the user's 0600 unix
 * socket that accepts only the same UID (SO_PEERCRED), and hands each
 * client's "agent" request to the host session for that host (one SSH
 * session per host, shared by all clients).
 *
 * Requests on the socket (CONTROL frames after the HELLO exchange; see
 * docs/PROTOCOL.md "Client and broker"):
 *   agent   {"host","user","port","sshConfig","knownHosts","acceptNewHostKey"}
 *           -> progress events, then {"ok":true,"result":{"host","agent"}};
 *           from then on the connection carries the agent's protocol.
 *   pool-probe {"hosts":[{the agent fields}...],"timeoutMs"} -> {"hosts":[{"info"}
 *           or {"error"}...]} by the deadline (broker-probe.h).
 *   status  -> {"pid","socket","uptimeSeconds","sessions":[...],"forwards":[]}
 *   stop    {"forget"?} -> {} and the broker ends.
 *
 * Forwards and auto-forward watches are saved (broker-state.h) as they
 * change and re-created when the broker starts: one host session per saved
 * host, connecting at once. A stop keeps them for the next broker unless
 * "forget" is true.
 *
 * Once it serves, the broker (the detached child) writes RUNTIME/broker.pid
 * (broker-stale.h), and removes it at a clean stop just before its socket.
 */
#ifndef RDEV_BROKER_DAEMON_H
#define RDEV_BROKER_DAEMON_H

struct broker_daemon_opts {
	int foreground;	    /* stay attached, log to stderr */
	int idle_timeout_s; /* close host sessions without clients after this */
};

/* `rdev-broker start`: take the lock, bind the socket, detach (unless
 * foreground) and serve until stopped. In the background case the calling
 * process returns 0 once the socket accepts connections (or 0 at once if a
 * broker is already running: *already is set), -1 with *cause otherwise; the
 * detached child never returns. */
int broker_daemon_start(const struct broker_daemon_opts *o, int *already, char **cause);

#endif
