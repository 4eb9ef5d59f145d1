/* broker-stale.h - is the running broker an older build of ours?
 *
 * After an upgrade (a new package, a rebuild in place) the broker the client
 * started long ago still runs the old code. It is stale when its executable
 * (/proc/PID/exe) is the very path of the rdev-broker this client would start
 * (broker_client_sibling) and that file has since been replaced: the link
 * ends in " (deleted)", or the file at the path is another one (device and
 * inode differ). A broker of another install (another path) is not ours to
 * judge: two installs must not restart each other's broker.
 */
#ifndef RDEV_BROKER_STALE_H
#define RDEV_BROKER_STALE_H

#include <sys/stat.h>
#include <sys/types.h>

enum broker_stale {
	BROKER_STALE_CURRENT, /* our build, or nothing known */
	BROKER_STALE_OLDER,   /* an older build of our path */
	BROKER_STALE_OTHER,   /* another install's (another path) */
};

/* What the running program's file and ours say (pure). exe_link: the text of
 * /proc/PID/exe (may end in " (deleted)"); running: stat of /proc/PID/exe,
 * NULL if it failed; ours: the path we would start, ours_st its stat (NULL if
 * it failed). */
enum broker_stale broker_stale_judge(const char *exe_link, const struct stat *running,
    const char *ours, const struct stat *ours_st);

/* RUNTIME/broker.pid (BROKER_PID_NAME), written atomically by the broker
 * once it serves (after it has detached) and removed at its clean exit:
 * "PID\n", or "PID systemd\n" when it runs under systemd (INVOCATION_ID was
 * set). The client reads it without connecting to the broker. */
#define BROKER_PID_SYSTEMD "systemd"

/* Parse the pid file's text (pure): 0 with *pid and *systemd, -1 when it
 * is not that form. */
int broker_stale_pid_parse(const char *text, pid_t *pid, int *systemd);

/* Read the pid file at path: 0 with *pid and *systemd when it parses and
 * that process is alive, else -1 (no file, not that form, no such process). */
int broker_stale_pid_read(const char *path, pid_t *pid, int *systemd);

/* Look at process pid against ours (readlink and stat). *exe (may be NULL):
 * the running program's path without " (deleted)", new, or NULL when it
 * could not be read (then BROKER_STALE_CURRENT: nothing known). */
enum broker_stale broker_stale_check(pid_t pid, const char *ours, char **exe);

#endif
