/* relay-exec-internal.h - the pieces of rdev-relay's exec session
 * (relay-exec.h) shared by its files: relay-exec.c (the request, the byte
 * queues and frames, the end of a session), relay-exec-user.c (who the
 * command runs as, from /etc/passwd and /etc/group), relay-exec-command.c
 * (starting the command: pty or pipes, the child process) and
 * relay-exec-pump.c (the session's loop: frames both ways, signals, the
 * exit status). Only these files include it (and tests/fuzz/fuzz-relay-exec.c,
 * which includes the files themselves).
 *
 * The session is a process of its own: out of memory it ends (status 126)
 * rather than returning, and what it allocates lives until it exits.
 */
#ifndef RDEV_RELAY_EXEC_INTERNAL_H
#define RDEV_RELAY_EXEC_INTERNAL_H

#include <sys/types.h>

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "relay-exec.h"

#define X_REQUEST_MAX (1u << 20)
#define X_REQUEST_TIMEOUT_MS 10000
#define X_GROUPS_MAX 64
#define X_HDR 8
/* Output held for the agent before the command's pipes are left unread. */
#define X_OUT_HIGH (256u << 10)
/* Input held for the command before the connection is left unread. */
#define X_IN_HIGH (256u << 10)
#define X_READ 65536
#define X_HANGUP_GRACE_MS 2000
/* Reads of what is left in the output after the command's end, at most. */
#define X_FINISH_READS 256
#define X_EXIT_START_FAILED 126
#define X_EXIT_NOT_FOUND 127

/* A growable byte queue. */
struct xq {
	unsigned char *p;
	size_t off, len, cap;
};

/* The parsed request; strings point into the request buffer. */
struct xreq {
	char **argv, **env;
	size_t nargv, nenv;
	const char *user, *workdir;
	int tty;
	unsigned short rows, cols;
	int grace_ms;
};

/* Who the command runs as. */
struct xuser {
	uid_t uid;
	gid_t gid;
	gid_t groups[X_GROUPS_MAX];
	int ngroups;
	char home[PATH_MAX];
	char name[256];
};

/* The running session. */
struct xsess {
	int sock;
	int in_w;	  /* the command's stdin (pipe or pty master), -1 once closed */
	int out_r, err_r; /* its stdout/stderr (a TTY: the master, err_r -1) */
	int tty_master;	  /* -1 without a TTY */
	pid_t pid;
	int exited, status;
	int signo, core; /* killed by signo (0: exited), with a core dump */
	struct xq out, in, rx;
	int in_eof;
	int sigchld_r;
	struct rlimit nofile; /* the command's RLIMIT_NOFILE (relay_exec_session) */
};

/* relay-exec.c */
int64_t x_now_ms(void);
/* malloc() that ends the session when out of memory; the caller frees. */
void *x_alloc(size_t n);
/* Make room for n more bytes at the end of q. */
void xq_reserve(struct xq *q, size_t n);
size_t xq_size(const struct xq *q);
/* Append a frame [type, 0, 0, 0, u32 len] with data to q. */
void xq_frame(struct xq *q, int type, const void *data, size_t len);
int xq_flush(struct xq *q, int fd, int is_sock);
void xq_drain_blocking(struct xq *q, int fd);
void x_close_exit(int sock, int status) __attribute__((noreturn));
/* Tell the agent why the command did not start, and end with status. */
void x_fail(int sock, int status, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 3, 4)));

/* relay-exec-user.c */
/* Fill u for a Docker user spec; 0, or -1 with the reason in err. */
int x_user(const char *spec, struct xuser *u, char *err, size_t errlen);

/* relay-exec-command.c */
void x_nonblock(int fd);
/* Start the command; on failure tell the agent and exit. */
void x_start(struct xsess *s, struct xreq *r);

/* relay-exec-pump.c */
/* Serve the running session until it ends, then exit. */
void x_loop(struct xsess *s, int grace_ms) __attribute__((noreturn));

#endif
