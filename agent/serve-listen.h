/* serve-listen.h - `rdev-agent serve --listen ID`: the host's one
 * long-lived agent (docs/PROTOCOL.md, "One agent per host session").
 *
 * The broker starts it once per SSH session on an exec channel (paying the
 * user's login shell once) and keeps that channel: the agent's stdin ends
 * when the broker closes it or the session drops, and the agent then stops
 * listening, removes its socket and exits. It listens on a unix socket of
 * its own user (serve_listen_socket_path, mode 0600 in a 0700 folder) and
 * says where on stdout: a HELLO frame, then a CONTROL event
 * {"id":0,"event":"listening","socket":PATH,"pid":N}. The broker reaches it
 * with a direct-streamlocal channel per client; sshd connects as the user,
 * and connections from any other uid are refused (SO_PEERCRED). Where sshd
 * forbids that, the broker opens streams on our stdin/stdout instead
 * (serve-mux.h): agent connections and TCP connections made from here.
 *
 * Each connection is served by a child process running serve_run() as
 * `rdev-agent serve` does on stdin/stdout, so one peer's crash costs that
 * peer only. A child outlives the listening agent: connections being served
 * when the agent dies or the broker's channel ends go on until their peers
 * close them (nothing in flight is lost; the broker starts a new agent for
 * new clients). SIGTERM to a child ends it as its peer's going does: its
 * execs are hung up, its operations cancelled.
 */
#ifndef RDEV_SERVE_LISTEN_H
#define RDEV_SERVE_LISTEN_H

/* Is id 8-32 lowercase hex digits (what the broker draws per start)? */
int serve_listen_id_valid(const char *id);
/* Where the agent with this id listens: ~/.rdev/run/agent-ID.sock (the
 * folder made 0700 and checked), or /tmp/rdev-agent-UID/agent-ID.sock when
 * the home is too deep for a socket path. New string, or NULL with *cause. */
char *serve_listen_socket_path(const char *id, char **cause);
/* Listen and serve as above until stdin ends or SIGTERM/SIGHUP. The exit
 * code: 0, 1 when the socket cannot be made (said on stderr), 2 for a bad
 * id. Expects SIGPIPE to be ignored. */
int serve_listen_run(const char *id);

#endif
