/* ssh-proxy-command.h - an ssh config's ProxyCommand, run by the broker
 * itself rather than by libssh.
 *
 * libssh SIGTERMs its ProxyCommand at the session's free and waits for it
 * to end without limit (a command that ignores SIGTERM held a broker's stop
 * for ever), and what the command started outlived it. Here the command
 * runs as libssh would run it ($SHELL, else bash, -c "exec CMD", a socket
 * pair for stdin and stdout) but in a process group of its own, with none
 * of the broker's descriptors, and its end is bounded. Its stderr (libssh:
 * /dev/null) is a nonblocking pipe whose last SSH_PROXY_TAIL bytes are kept,
 * read as it comes by a thread of the command's own for its whole life: a
 * command that logs much never finds the pipe full (a C program dropped its
 * lines; a Go one, cloudflared or tsh, blocked its logging and could stall
 * its link), whatever the session does (a blocking authentication, a busy
 * loop): a command that fails
 * is reported with its exit status and what it said
 * (ssh_proxy_command_failure), as ssh shows it.
 *
 * Ownership: a struct ssh_proxy_command owns the child (until
 * ssh_proxy_command_end reaps it) and our end of the socket pair (handed to
 * libssh with SSH_OPTIONS_FD; libssh closes it only on a socket error, so
 * ssh_proxy_command_close closes it after the session is freed, when it is
 * still the same socket). */
#ifndef RDEV_SSH_PROXY_COMMAND_H
#define RDEV_SSH_PROXY_COMMAND_H

#include <sys/types.h>

#include <pthread.h>

/* What libssh's escapes expand to: %h host, %p port, %r remote user, %u
 * local user, %l local host name, %d the ssh folder (home/.ssh: libssh's,
 * not OpenSSH's home), %%. */
struct ssh_proxy_escapes {
	const char *host;
	unsigned int port;
	const char *user;
	const char *local_user;
	const char *home;
};

#define SSH_PROXY_TAIL 2048

struct ssh_proxy_command {
	pid_t pid;		   /* the command, or 0 */
	int err_fd;		   /* our end of its stderr pipe (nonblocking), or -1 */
	char tail[SSH_PROXY_TAIL]; /* the last bytes of its stderr */
	size_t tail_len;
	int tail_cut; /* bytes before tail were dropped */
	/* The reader of err_fd while it runs (reader_on): tail, tail_len,
	 * tail_cut and err_fd are then under lock; stop[1] ends it. */
	pthread_t reader;
	int reader_on;
	int stop[2];
	pthread_mutex_t lock;
	int fd;	   /* our end of its socket pair, or -1 */
	dev_t dev; /* (fd's, to tell it is still ours) */
	ino_t ino;
};

void ssh_proxy_command_init(struct ssh_proxy_command *p);

/* cmd with the escapes expanded; the caller frees. NULL with *cause on an
 * escape libssh does not know. */
char *ssh_proxy_command_expand(
    const char *cmd, const struct ssh_proxy_escapes *e, char **cause);

/* Start cmd (escapes expanded): our end of its socket pair, or -1 with
 * *cause. */
int ssh_proxy_command_start(struct ssh_proxy_command *p, const char *cmd,
    const struct ssh_proxy_escapes *e, char **cause);

/* Read what the command wrote on stderr so far into p->tail (never
 * blocks; the reader thread does it as it comes: nothing to do while it
 * runs). */
void ssh_proxy_command_drain(struct ssh_proxy_command *p);

/* The connect through the command failed: how the command is, waiting up
 * to wait_ms for it to end ("exited with status 127", "killed by signal
 * 9", "still running"; reaped when it ended), and its last stderr lines
 * ("; its stderr: ..."), as one line for a message. The caller frees. */
char *ssh_proxy_command_failure(struct ssh_proxy_command *p, int wait_ms);

/* libssh is done with the session (freed): close our end if libssh left it
 * open. */
void ssh_proxy_command_close(struct ssh_proxy_command *p);

/* The session's socket is closed: end the command and reap it. As libssh
 * did, a SIGTERM (to its whole group) and a wait, but bounded (1 s, then
 * SIGKILL); kill_group: SIGKILL to its whole group at once (an abort, a
 * connect that failed). killed (NULL: none): asked during the wait; once
 * it says so (a stop that came meanwhile), SIGKILL at once too. */
void ssh_proxy_command_end(
    struct ssh_proxy_command *p, int kill_group, int (*killed)(void *), void *arg);

#endif
