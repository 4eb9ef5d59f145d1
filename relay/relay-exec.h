/* relay-exec.h - an exec session inside the dev container, for rdev-relay's
 * 'X' connections (docs/PROTOCOL.md, "The container relay").
 *
 * rdev-relay runs as root in the container's namespaces, cgroup and security
 * profile (it was started with a Docker exec). For an 'X' connection it forks
 * a session process that reads the request (argv, environment, user, working
 * folder, TTY and its size), starts the command as that user with a fresh
 * session (as runc does for `docker exec`), and streams stdin, stdout,
 * stderr, resizes, signals and the exit status over the connection, so a
 * warm `rdev exec` costs one TCP connection instead of a Docker exec.
 *
 * Kept free of libc extras beyond POSIX and Linux ioctls: the relay is a
 * static binary (musl or glibc -static) and reads /etc/passwd and
 * /etc/group itself, as runc does, instead of NSS.
 */
#ifndef RDEV_RELAY_EXEC_H
#define RDEV_RELAY_EXEC_H

#include <sys/resource.h>

/* Frame types on an 'X' connection, in Docker's 8-byte frame header
 * [type, 0, 0, 0, u32 big-endian length]. */
enum {
	RELAY_X_STDIN = 0,   /* agent -> relay; empty: end of input */
	RELAY_X_STDOUT = 1,  /* relay -> agent (a TTY's whole output) */
	RELAY_X_STDERR = 2,  /* relay -> agent */
	RELAY_X_MESSAGE = 3, /* relay -> agent: why the command did not start */
	RELAY_X_EXIT = 4, /* relay -> agent: u32 status [u8 signal, u8 core], the last */
	RELAY_X_RESIZE = 5,  /* agent -> relay: u16 rows, u16 cols */
	RELAY_X_SIGNAL = 6,  /* agent -> relay: u8 signal number */
	RELAY_X_STARTED = 7, /* relay -> agent: u32 pid, once the command runs */
};

/* A window dimension: 1..65535 in decimal. 0 and *v, or -1. */
int relay_exec_dimension(const char *s, unsigned short *v);

/* Serve the exec session on the connected socket fd (the header has been
 * read), then exit the process. Call in a freshly forked child that holds no
 * other descriptor of the relay. nofile: the open-files limit the relay was
 * started with, given back to the command (the relay raises its own; a
 * command must see the container's, as under `docker exec`; hard limit 0:
 * not known, left); borrowed. Never returns. */
void relay_exec_session(int fd, const struct rlimit *nofile) __attribute__((noreturn));

#endif
