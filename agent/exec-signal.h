/* exec-signal.h - signals for the processes of a running Docker exec.
 *
 * The Engine API cannot signal an exec. So: GET /exec/ID/json gives the
 * exec's process as a pid of the daemon's host ("Pid"); this host's /proc
 * gives that process's pid inside the container ("NSpid"), its process
 * group and session, and the terminal's foreground group; then a second,
 * short exec in the same container, as the same user, runs
 * `sh -c 'kill -s SIG PID...'` (or `kill` itself when there is no sh).
 * The agent must therefore run on the Docker host, in the daemon's pid
 * namespace, and see other users' /proc entries (no hidepid); each process
 * is checked to belong to the exec's container before it is signalled.
 *
 * Which processes: the exec's process, and
 *   - without a TTY, its process group (runc makes it a session and group
 *     leader, so this is what it started, as a terminal's ^C would reach);
 *   - with a TTY, the terminal's foreground process group.
 * A process that forks or exits between the look-up and the kill may be
 * missed or already gone (as with any kill).
 *
 * Errors: 0 on success, -1 with *cause (the caller frees it).
 */
#ifndef RDEV_EXEC_SIGNAL_H
#define RDEV_EXEC_SIGNAL_H

struct docker;

/* The signal number for a name the protocol allows ("INT", "TERM", "HUP",
 * "KILL", "QUIT", "USR1", "USR2", "WINCH"; no "SIG" prefix), or -1. */
int exec_signal_number(const char *name);

/* The name RFC 4254 gives signo in an exit-signal ("TERM", "SEGV", ...;
 * no "SIG" prefix), or "SIGNAL@openssh.com" for one it does not name, as
 * OpenSSH's sshd sends. Static. */
const char *exec_signal_exit_name(int signo);

/* Send signal name to the exec's processes (above). An exec that has
 * already ended is an error ("... has ended"). */
int exec_signal_send(
    struct docker *d, const char *exec_id, const char *name, char **cause);

/* The exec's client is gone: send SIGHUP as a terminal hangup would, wait
 * up to grace_ms for the exec to end, then SIGKILL every process left in
 * the exec's session (background children included). An exec that has
 * already ended is not an error. Blocks for up to grace_ms plus a few
 * short execs. */
int exec_signal_hangup(struct docker *d, const char *exec_id, int grace_ms, char **cause);

#endif
