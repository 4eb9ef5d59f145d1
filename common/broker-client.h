/* broker-client.h - reaching the user's broker from rdev and rdev-broker.
 *
 * The broker listens on RUNTIME/broker.sock (runtime-dir.h). Connecting with
 * autostart runs `rdev-broker start` (next to the running program, else from
 * PATH) when no broker answers, then connects again.
 */
#ifndef RDEV_BROKER_CLIENT_H
#define RDEV_BROKER_CLIENT_H

#include <sys/un.h>

#include "proto-conn.h"

#define BROKER_SOCKET_NAME "broker.sock"
#define BROKER_LOCK_NAME "broker.lock"
#define BROKER_LOG_NAME "broker.log"
/* The running broker's pid (broker-stale.h), written once it serves. */
#define BROKER_PID_NAME "broker.pid"
/* The saved forwards and watches (broker/broker-state.h); there only while
 * some are saved. */
#define BROKER_STATE_NAME "state.json"
/* What to do when the broker has no agent bundle (its "agentBundleError" in
 * status; the error of each command that needs one). */
#define BROKER_BUNDLE_FIX \
	"put the bundle back or rebuild it (make agent-bundle, or " \
	"deploy/agent-bundle.sh): the broker loads it at the next command, no " \
	"restart needed"

/* Connect and do the handshake; software names us ("rdev 0.1.0"). 0 and *c,
 * -1 with *cause; *not_running (may be NULL) is set when no broker answered
 * (and autostart was off or failed). With autostart, a broker that closes or
 * resets the connection before its HELLO (one being killed, or a listener
 * that is no broker) gets broker_client_start and one more try. */
int broker_client_connect(int autostart, const char *software, struct proto_conn **c,
    int *not_running, char **cause);
/* broker_client_connect whose connect and handshake give up at deadline
 * (clock_now_ms; 0: never; proto_conn_set_deadline), which stays set on
 * *c. */
int broker_client_connect_by(int autostart, const char *software, long long deadline,
    struct proto_conn **c, int *not_running, char **cause);
/* Connect and send our HELLO without waiting for the broker's (no
 * autostart): for a caller that must not block, which checks the broker's
 * first frame itself (proto_conn_check_hello). 0 and *c, or -1 with *cause. */
int broker_client_connect_nowait(
    const char *software, struct proto_conn **c, char **cause);
/* Run `rdev-broker start`: starts a broker unless one runs (it then waits
 * until that one answers, or starts one once an exiting one is gone), and
 * replaces a socket file no running broker owns. 0, or -1 with *cause. */
int broker_client_start(char **cause);

/* After a "stop" request: wait up to timeout_ms until the broker has closed
 * its sessions and removed its socket. slow (may be NULL) is called once,
 * with arg, if that takes more than 2 s. 0 once gone, -1 with *cause. */
int broker_client_wait_gone(
    int timeout_ms, void (*slow)(void *), void *arg, char **cause);

/* Fill *sa for the unix socket path; -1 with *cause if it is too long. */
int broker_socket_addr(struct sockaddr_un *sa, const char *path, char **cause);

/* The path of a sibling program of the running one (dirname of
 * /proc/self/exe + name) if it exists, else name for a PATH search. New. */
char *broker_client_sibling(const char *name);

#endif
