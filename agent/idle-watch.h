/* idle-watch.h - stopping a dev container nobody uses (`up --idle-stop`,
 * the host policy's idleStop).
 *
 * `up` arms the watch: it writes the container's idle limit to
 * STATE/idle/<id>.json and starts `rdev-agent idle-watch ID` detached (one
 * per container: it holds STATE/idle/<id>.lock; a second one exits at
 * once), which outlives the agent's session. Every few seconds it looks at
 * the container: it is in use while an exec of it runs (Docker's ExecIDs)
 * or a TCP connection is established in its network namespace (a forwarded
 * connection, direct or through its relay, and the relay's own execs and
 * shells); once it has not been used for the limit, it is stopped. The
 * watch ends when the container stops or goes, or the limit is removed; the
 * next `up` resumes the container and arms the watch again.
 */
#ifndef RDEV_IDLE_WATCH_H
#define RDEV_IDLE_WATCH_H

/* A duration: "90", "90s", "15m", "2h", "1d". Seconds > 0, or -1. */
long idle_watch_parse_duration(const char *text);
/* Watch container id (full id), stopping it after seconds unused (0: no
 * watch: an armed one ends). 0, or -1 with *cause. */
int idle_watch_arm(const char *id, long seconds, char **cause);
/* Watch container id again with the limit armed last (after `up` resumed
 * it without --idle-stop); nothing when none was. 0, or -1 with *cause. */
int idle_watch_rearm(const char *id, char **cause);
/* Container id was removed: its STATE/idle/<id>.json and .lock go (a watch
 * still running ends at its next look, finding no container). */
void idle_watch_removed(const char *id);
/* `rdev-agent idle-watch ID`: the watch itself; returns the exit status. */
int idle_watch_cmd(int argc, char **argv);

#endif
