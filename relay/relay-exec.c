/* relay-exec.c - an exec session inside the dev container (relay-exec.h). */
#include "relay-exec.h"

/* (header-only, no dependency: the relay links nothing of common/) */
#include "../common/byte-order.h"

#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

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

extern char **environ;

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
	int in_w;         /* the command's stdin (pipe or pty master), -1 once closed */
	int out_r, err_r; /* its stdout/stderr (a TTY: the master, err_r -1) */
	int tty_master;   /* -1 without a TTY */
	pid_t pid;
	int exited, status;
	struct xq out, in, rx;
	int in_eof;
	int sigchld_r;
};

static int x_sigchld_w = -1;

static void
x_on_sigchld(int sig)
{
	int e = errno;

	(void)sig;
	if (x_sigchld_w >= 0)
		(void)!write(x_sigchld_w, "c", 1);
	errno = e;
}

static int64_t
x_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *
x_alloc(size_t n)
{
	void *p = malloc(n == 0 ? 1 : n);

	if (p == NULL)
		_exit(X_EXIT_START_FAILED);
	return p;
}

static void
xq_reserve(struct xq *q, size_t n)
{
	if (q->off > 0 && q->off == q->len)
		q->off = q->len = 0;
	if (q->len + n <= q->cap)
		return;
	if (q->off > 0) {
		memmove(q->p, q->p + q->off, q->len - q->off);
		q->len -= q->off;
		q->off = 0;
		if (q->len + n <= q->cap)
			return;
	}
	while (q->cap < q->len + n)
		q->cap = q->cap == 0 ? 65536 : q->cap * 2;
	q->p = realloc(q->p, q->cap);
	if (q->p == NULL)
		_exit(X_EXIT_START_FAILED);
}

static size_t
xq_size(const struct xq *q)
{
	return q->len - q->off;
}

static void
xq_frame(struct xq *q, int type, const void *data, size_t len)
{
	unsigned char *h;

	xq_reserve(q, X_HDR + len);
	h = q->p + q->len;
	h[0] = (unsigned char)type;
	h[1] = h[2] = h[3] = 0;
	h[4] = (unsigned char)(len >> 24);
	h[5] = (unsigned char)(len >> 16);
	h[6] = (unsigned char)(len >> 8);
	h[7] = (unsigned char)len;
	if (len > 0)
		memcpy(h + X_HDR, data, len);
	q->len += X_HDR + len;
}

/* Write out as much of q to fd as it takes now: 0, or -1 when fd is gone. */
static int
xq_flush(struct xq *q, int fd, int is_sock)
{
	ssize_t n;

	while (xq_size(q) > 0) {
		n = is_sock ? send(fd, q->p + q->off, xq_size(q), MSG_NOSIGNAL) :
		    write(fd, q->p + q->off, xq_size(q));
		if (n > 0) {
			q->off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		return -1;
	}
	return 0;
}

/* Send everything in q, waiting for the socket (the end of a session). */
static void
xq_drain_blocking(struct xq *q, int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };

	while (xq_size(q) > 0) {
		if (xq_flush(q, fd, 1) != 0)
			return;
		if (xq_size(q) > 0 && poll(&p, 1, X_REQUEST_TIMEOUT_MS) <= 0 && errno != EINTR)
			return;
	}
}

/* The end of a session: no more frames, and what the agent still sends is
 * read and dropped until it closes (bounded), so that the close is no reset
 * that could destroy the last frames on their way. */
static void __attribute__((noreturn))
x_close_exit(int sock, int status)
{
	struct pollfd p = { .fd = sock, .events = POLLIN };
	int64_t deadline = x_now_ms() + X_HANGUP_GRACE_MS;
	char drain[4096];
	ssize_t n;

	shutdown(sock, SHUT_WR);
	while (x_now_ms() < deadline) {
		if (poll(&p, 1, (int)(deadline - x_now_ms())) <= 0)
			break;
		n = recv(sock, drain, sizeof drain, MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
			break;
	}
	_exit(status);
}

/* Tell the agent why the command did not start, and end with status. */
static void __attribute__((noreturn))
x_fail(int sock, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
x_fail(int sock, int status, const char *fmt, ...)
{
	struct xq q = { 0 };
	char msg[1024];
	unsigned char st[4];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof msg - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n > sizeof msg - 2)
		n = (int)sizeof msg - 2;
	msg[n++] = '\n';
	xq_frame(&q, RELAY_X_MESSAGE, msg, (size_t)n);
	be_put_u32(st, (uint32_t)status);
	xq_frame(&q, RELAY_X_EXIT, st, sizeof st);
	xq_drain_blocking(&q, sock);
	x_close_exit(sock, status);
}

/* Read exactly len bytes within the request's deadline: 0 or -1. */
static int
x_read_full(int fd, void *buf, size_t len, int64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	unsigned char *b = buf;
	ssize_t n;
	int64_t left;

	while (len > 0) {
		left = deadline - x_now_ms();
		if (left <= 0)
			return -1;
		if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
			return -1;
		n = recv(fd, b, len, MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
			continue;
		if (n <= 0)
			return -1;
		b += n;
		len -= (size_t)n;
	}
	return 0;
}

int
relay_exec_dimension(const char *s, unsigned short *v)
{
	unsigned long n = 0;

	if (*s == '\0' || strlen(s) > 5)
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		n = n * 10 + (unsigned long)(*s - '0');
	}
	if (n == 0 || n > 65535)
		return -1;
	*v = (unsigned short)n;
	return 0;
}

/* Fields "<tag><text>\0" (relay-exec.h, PROTOCOL.md). 0 or -1. */
static int
x_parse(char *p, size_t len, struct xreq *r)
{
	char *end = p + len, *f, *v;
	size_t nfields = 0;

	if (len == 0 || p[len - 1] != '\0')
		return -1;
	for (f = p; f < end; f += strlen(f) + 1)
		nfields++;
	r->argv = x_alloc((nfields + 1) * sizeof *r->argv);
	r->env = x_alloc((nfields + 2) * sizeof *r->env);
	r->grace_ms = X_HANGUP_GRACE_MS;
	for (f = p; f < end; f += strlen(f) + 1) {
		v = f + 1;
		switch (*f) {
		case 'a':
			r->argv[r->nargv++] = v;
			break;
		case 'e':
			if (strchr(v, '=') == NULL || *v == '=')
				return -1;
			r->env[r->nenv++] = v;
			break;
		case 'u':
			r->user = v;
			break;
		case 'w':
			r->workdir = v;
			break;
		case 't':
			r->tty = 1;
			break;
		case 'r':
			if (relay_exec_dimension(v, &r->rows) != 0)
				return -1;
			break;
		case 'c':
			if (relay_exec_dimension(v, &r->cols) != 0)
				return -1;
			break;
		case 'g':
			r->grace_ms = atoi(v);
			if (r->grace_ms < 0 || r->grace_ms > 60000)
				return -1;
			break;
		default:
			return -1; /* a field this relay does not know */
		}
	}
	r->argv[r->nargv] = NULL;
	r->env[r->nenv] = NULL;
	return r->nargv > 0 && *r->argv[0] != '\0' ? 0 : -1;
}

/* ---- users, the way runc reads them: /etc/passwd and /etc/group ------- */

static int
x_number(const char *s, unsigned long *v)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*v = strtoul(s, &end, 10);
	return *end == '\0' && errno == 0 && *v <= 0x7fffffffUL ? 0 : -1;
}

/* Split a colon-separated line into at most n fields in place; returns how
 * many. */
static int
x_fields(char *line, char **f, int n)
{
	int i = 0;

	line[strcspn(line, "\n")] = '\0';
	while (i < n) {
		f[i++] = line;
		if ((line = strchr(line, ':')) == NULL)
			break;
		*line++ = '\0';
	}
	return i;
}

/* Find the passwd entry by name (or by uid when by_uid): 1 found, 0 not. */
static int
x_passwd(const char *name, int by_uid, unsigned long uid, struct xuser *u)
{
	char line[4096], *f[7];
	unsigned long vu, vg;
	FILE *fp = fopen("/etc/passwd", "re");
	int found = 0;

	if (fp == NULL)
		return 0;
	while (!found && fgets(line, sizeof line, fp) != NULL) {
		if (x_fields(line, f, 7) < 7 || x_number(f[2], &vu) != 0 ||
		    x_number(f[3], &vg) != 0)
			continue;
		if ((by_uid ? vu != uid : strcmp(f[0], name) != 0) ||
		    strlen(f[0]) >= sizeof u->name) /* (no user name is that long) */
			continue;
		u->uid = (uid_t)vu;
		u->gid = (gid_t)vg;
		snprintf(u->home, sizeof u->home, "%s", f[5]);
		memcpy(u->name, f[0], strlen(f[0]) + 1);
		found = 1;
	}
	fclose(fp);
	return found;
}

static void
x_add_group(struct xuser *u, gid_t g)
{
	for (int i = 0; i < u->ngroups; i++)
		if (u->groups[i] == g)
			return;
	if (u->ngroups < X_GROUPS_MAX)
		u->groups[u->ngroups++] = g;
}

/* Look group up by name (1 and *gid), and add to u's groups every group
 * listing u->name as a member (when name is NULL). */
static int
x_groups(const char *group, gid_t *gid, struct xuser *u)
{
	char line[65536], *f[4], *m, *save;
	unsigned long vg;
	FILE *fp = fopen("/etc/group", "re");
	int found = 0;

	if (fp == NULL)
		return 0;
	while (fgets(line, sizeof line, fp) != NULL) {
		if (x_fields(line, f, 4) < 4 || x_number(f[2], &vg) != 0)
			continue;
		if (group != NULL) {
			if (strcmp(f[0], group) == 0) {
				*gid = (gid_t)vg;
				found = 1;
				break;
			}
			continue;
		}
		for (m = strtok_r(f[3], ",", &save); m != NULL; m = strtok_r(NULL, ",", &save))
			if (u->name[0] != '\0' && strcmp(m, u->name) == 0)
				x_add_group(u, (gid_t)vg);
	}
	fclose(fp);
	return found;
}

/* "user", "uid", "user:group", "uid:gid" or "" (root), as Docker takes it. */
static int
x_user(const char *spec, struct xuser *u, char *err, size_t errlen)
{
	char us[512], *gs;
	unsigned long v;
	gid_t g;

	memset(u, 0, sizeof *u);
	snprintf(u->home, sizeof u->home, "/");
	snprintf(us, sizeof us, "%s", spec != NULL && *spec != '\0' ? spec : "0");
	if ((gs = strchr(us, ':')) != NULL)
		*gs++ = '\0';
	if (x_number(us, &v) == 0) {
		if (!x_passwd(NULL, 1, v, u)) {
			u->uid = (uid_t)v;
			u->gid = 0;
		}
	} else if (!x_passwd(us, 0, 0, u)) {
		snprintf(err, errlen, "unable to find user %s: no matching entries in passwd "
		    "file", us);
		return -1;
	}
	if (gs != NULL && *gs != '\0') {
		if (x_number(gs, &v) == 0)
			u->gid = (gid_t)v;
		else if (x_groups(gs, &g, u))
			u->gid = g;
		else {
			snprintf(err, errlen, "unable to find group %s: no matching entries in "
			    "group file", gs);
			return -1;
		}
	}
	x_add_group(u, u->gid);
	if (gs == NULL)
		x_groups(NULL, NULL, u);
	return 0;
}

/* ---- the command ------------------------------------------------------ */

static int
x_env_has(char **env, size_t n, const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; i < n; i++)
		if (strncmp(env[i], name, len) == 0 && env[i][len] == '=')
			return 1;
	return 0;
}

/* A pty pair with the size set: master (returned) and *slave_path. */
static int
x_pty(const struct xreq *r, char *slave_path, size_t len)
{
	struct winsize ws;
	int fd, unlock = 0;
	unsigned n;

	if ((fd = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0)
		return -1;
	if (ioctl(fd, TIOCSPTLCK, &unlock) != 0 || ioctl(fd, TIOCGPTN, &n) != 0) {
		close(fd);
		return -1;
	}
	snprintf(slave_path, len, "/dev/pts/%u", n);
	if (r->rows > 0 && r->cols > 0) {
		memset(&ws, 0, sizeof ws);
		ws.ws_row = r->rows;
		ws.ws_col = r->cols;
		(void)ioctl(fd, TIOCSWINSZ, &ws);
	}
	return fd;
}

/* In the command's process: become the user in a new session, then the
 * command. Failures go to report (close-on-exec) as "status message". */
static void __attribute__((noreturn))
x_child(const struct xreq *r, const struct xuser *u, const char *slave_path,
    int fds[3], int report)
{
	char msg[1024];
	sigset_t none;
	int e, slave, cwd_done = 0;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	setsid();
	if (slave_path != NULL) {
		if ((slave = open(slave_path, O_RDWR)) < 0) {
			e = errno;
			snprintf(msg, sizeof msg, "126 cannot open the terminal %s: %s", slave_path,
			    strerror(e));
			goto fail;
		}
		(void)ioctl(slave, TIOCSCTTY, 0);
		(void)!fchown(slave, u->uid, (gid_t)-1);
		fds[0] = fds[1] = fds[2] = slave;
	}
	for (int i = 0; i < 3; i++)
		if (dup2(fds[i], i) < 0)
			_exit(X_EXIT_START_FAILED);
	if (slave_path != NULL && fds[0] > 2)
		close(fds[0]);
	/* runc changes folder before dropping privileges, and again after
	 * if root could not (a folder only the user may enter). */
	if (r->workdir != NULL && *r->workdir != '\0' && chdir(r->workdir) == 0)
		cwd_done = 1;
	if (setgroups((size_t)u->ngroups, u->groups) != 0 || setgid(u->gid) != 0 ||
	    setuid(u->uid) != 0) {
		e = errno;
		snprintf(msg, sizeof msg, "126 cannot become user %u:%u: %s", (unsigned)u->uid,
		    (unsigned)u->gid, strerror(e));
		goto fail;
	}
	if (!cwd_done && r->workdir != NULL && *r->workdir != '\0' && chdir(r->workdir) != 0) {
		e = errno;
		snprintf(msg, sizeof msg, "126 chdir to cwd (\"%s\") failed: %s", r->workdir,
		    strerror(e));
		goto fail;
	}
	environ = r->env;
	execvp(r->argv[0], r->argv);
	e = errno;
	if (e == ENOENT && strchr(r->argv[0], '/') == NULL)
		snprintf(msg, sizeof msg, "127 exec: \"%s\": executable file not found in $PATH",
		    r->argv[0]);
	else
		snprintf(msg, sizeof msg, "%d exec: \"%s\": %s", e == ENOENT ? 127 : 126,
		    r->argv[0], strerror(e));
fail:
	(void)!write(report, msg, strlen(msg));
	_exit(X_EXIT_START_FAILED);
}

static void
x_nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* Start the command; on failure tell the agent and exit. */
static void
x_start(struct xsess *s, struct xreq *r)
{
	struct xuser u;
	char err[1024], slave_path[64], msg[1100];
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, errp[2] = { -1, -1 }, rep[2];
	int fds[3], master = -1, code;
	unsigned char pidb[4];
	ssize_t n;

	if (x_user(r->user, &u, err, sizeof err) != 0)
		x_fail(s->sock, X_EXIT_START_FAILED, "%s", err);
	if (!x_env_has(r->env, r->nenv, "HOME")) {
		r->env[r->nenv] = x_alloc(strlen(u.home) + 6);
		sprintf(r->env[r->nenv], "HOME=%s", u.home);
		r->env[++r->nenv] = NULL;
	}
	if (r->tty) {
		if ((master = x_pty(r, slave_path, sizeof slave_path)) < 0)
			x_fail(s->sock, X_EXIT_START_FAILED, "cannot open a terminal (/dev/ptmx): %s",
			    strerror(errno));
	} else if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 ||
	    pipe2(errp, O_CLOEXEC) != 0)
		x_fail(s->sock, X_EXIT_START_FAILED, "pipe: %s", strerror(errno));
	if (pipe2(rep, O_CLOEXEC) != 0)
		x_fail(s->sock, X_EXIT_START_FAILED, "pipe: %s", strerror(errno));
	fds[0] = in[0];
	fds[1] = out[1];
	fds[2] = errp[1];
	s->pid = fork();
	if (s->pid < 0)
		x_fail(s->sock, X_EXIT_START_FAILED, "fork: %s", strerror(errno));
	if (s->pid == 0) {
		close(rep[0]);
		x_child(r, &u, r->tty ? slave_path : NULL, fds, rep[1]);
	}
	close(rep[1]);
	for (int i = 0; i < 3; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	/* The report pipe closes at the exec (close-on-exec), or carries why
	 * there was none. */
	do
		n = read(rep[0], err, sizeof err - 1);
	while (n < 0 && errno == EINTR);
	close(rep[0]);
	if (n > 0) {
		err[n] = '\0';
		code = atoi(err);
		snprintf(msg, sizeof msg, "rdev: %s", strchr(err, ' ') != NULL ?
		    strchr(err, ' ') + 1 : err);
		while (waitpid(s->pid, NULL, 0) < 0 && errno == EINTR)
			continue;
		x_fail(s->sock, code >= 1 && code <= 255 ? code : X_EXIT_START_FAILED, "%s",
		    msg);
	}
	be_put_u32(pidb, (uint32_t)s->pid);
	xq_frame(&s->out, RELAY_X_STARTED, pidb, sizeof pidb);
	if (r->tty) {
		s->tty_master = master;
		s->in_w = s->out_r = master;
		s->err_r = -1;
	} else {
		s->tty_master = -1;
		s->in_w = in[1];
		s->out_r = out[0];
		s->err_r = errp[0];
		x_nonblock(s->in_w);
		x_nonblock(s->err_r);
	}
	x_nonblock(s->out_r);
}

/* ---- the session's loop ---------------------------------------------- */

static void
x_signal(struct xsess *s, int sig)
{
	pid_t fg;

	(void)kill(s->pid, sig);
	if (s->tty_master >= 0) {
		if ((fg = tcgetpgrp(s->tty_master)) > 0 && fg != s->pid)
			(void)kill(-fg, sig);
	} else
		(void)kill(-s->pid, sig);
}

/* The agent went away before the command ended: hang up, as sshd would,
 * and kill what is left after the grace period. */
static void __attribute__((noreturn))
x_hangup(struct xsess *s, int grace_ms)
{
	int64_t deadline = x_now_ms() + grace_ms;
	struct timespec ts = { 0, 50 * 1000000L };

	if (s->exited)
		_exit(0);
	x_signal(s, SIGHUP);
	(void)kill(-s->pid, SIGHUP);
	while (x_now_ms() < deadline) {
		if (waitpid(s->pid, NULL, WNOHANG) == s->pid)
			break;
		nanosleep(&ts, NULL);
	}
	x_signal(s, SIGKILL);
	(void)kill(-s->pid, SIGKILL);
	_exit(0);
}

/* Frames from the agent in s->rx: 0, or -1 on a malformed one. */
static int
x_frames(struct xsess *s)
{
	unsigned char *h;
	uint32_t len;
	int sig;

	while (xq_size(&s->rx) >= X_HDR) {
		h = s->rx.p + s->rx.off;
		len = be_get_u32(h + 4);
		if (h[1] != 0 || h[2] != 0 || h[3] != 0 || len > X_READ * 4)
			return -1;
		if (xq_size(&s->rx) < X_HDR + len)
			break;
		switch (h[0]) {
		case RELAY_X_STDIN:
			if (len == 0)
				s->in_eof = 1;
			else if (!s->in_eof && s->in_w >= 0) {
				xq_reserve(&s->in, len);
				memcpy(s->in.p + s->in.len, h + X_HDR, len);
				s->in.len += len;
			}
			break;
		case RELAY_X_RESIZE:
			if (len == 4 && s->tty_master >= 0) {
				struct winsize ws;
				memset(&ws, 0, sizeof ws);
				ws.ws_row = (unsigned short)(h[X_HDR] << 8 | h[X_HDR + 1]);
				ws.ws_col = (unsigned short)(h[X_HDR + 2] << 8 | h[X_HDR + 3]);
				if (ws.ws_row > 0 && ws.ws_col > 0)
					(void)ioctl(s->tty_master, TIOCSWINSZ, &ws);
			}
			break;
		case RELAY_X_SIGNAL:
			sig = len == 1 ? h[X_HDR] : 0;
			if (sig > 0 && sig < NSIG && !s->exited)
				x_signal(s, sig);
			break;
		default:
			return -1;
		}
		s->rx.off += X_HDR + len;
	}
	return 0;
}

/* Read what fd has now into an output frame of type: 1 read, 0 nothing now,
 * -1 end of file (or a TTY whose other side is gone). */
static int
x_read_output(struct xsess *s, int fd, int type)
{
	unsigned char *h;
	ssize_t n;

	xq_reserve(&s->out, X_HDR + X_READ);
	h = s->out.p + s->out.len;
	do
		n = read(fd, h + X_HDR, X_READ);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	if (n <= 0)
		return -1;
	h[0] = (unsigned char)type;
	h[1] = h[2] = h[3] = 0;
	be_put_u32(h + 4, (uint32_t)n);
	s->out.len += X_HDR + (size_t)n;
	return 1;
}

static void
x_reap(struct xsess *s)
{
	int st;
	pid_t p;

	do
		p = waitpid(s->pid, &st, WNOHANG);
	while (p < 0 && errno == EINTR);
	if (p != s->pid)
		return;
	s->exited = 1;
	s->status = WIFEXITED(st) ? WEXITSTATUS(st) :
	    WIFSIGNALED(st) ? 128 + WTERMSIG(st) : X_EXIT_START_FAILED;
}

/* After the command's end: what its output still holds, then the status. */
static void __attribute__((noreturn))
x_finish(struct xsess *s)
{
	unsigned char st[4];
	int fds[2] = { s->out_r, s->err_r };

	/* Bounded: a process left behind may keep writing. */
	for (int i = 0; i < 2; i++)
		for (int k = 0; k < X_FINISH_READS && fds[i] >= 0 && x_read_output(s, fds[i],
		    i == 0 ? RELAY_X_STDOUT : RELAY_X_STDERR) == 1; k++)
			if (xq_size(&s->out) > X_OUT_HIGH)
				xq_drain_blocking(&s->out, s->sock);
	be_put_u32(st, (uint32_t)s->status);
	xq_frame(&s->out, RELAY_X_EXIT, st, sizeof st);
	xq_drain_blocking(&s->out, s->sock);
	x_close_exit(s->sock, 0);
}

static void __attribute__((noreturn))
x_loop(struct xsess *s, int grace_ms)
{
	struct pollfd p[5];
	int n, r, in_closed = 0;
	ssize_t got;
	char drain[64];

	x_nonblock(s->sock);
	for (;;) {
		if (s->exited) {
			/* Whatever the pipes hold now is the command's; a
			 * process it left behind may keep them open. */
			x_finish(s);
		}
		if (s->in_eof && xq_size(&s->in) == 0 && !in_closed && s->tty_master < 0 &&
		    s->in_w >= 0) {
			close(s->in_w);
			s->in_w = -1;
			in_closed = 1;
		}
		n = 0;
		p[n++] = (struct pollfd){ .fd = s->sock, .events =
		    (xq_size(&s->in) < X_IN_HIGH ? POLLIN : 0) |
		    (xq_size(&s->out) > 0 ? POLLOUT : 0) };
		p[n++] = (struct pollfd){ .fd = s->sigchld_r, .events = POLLIN };
		p[n++] = (struct pollfd){ .fd = xq_size(&s->out) < X_OUT_HIGH ? s->out_r : -1,
		    .events = POLLIN };
		p[n++] = (struct pollfd){ .fd = xq_size(&s->out) < X_OUT_HIGH ? s->err_r : -1,
		    .events = POLLIN };
		p[n++] = (struct pollfd){ .fd = xq_size(&s->in) > 0 ? s->in_w : -1,
		    .events = POLLOUT };
		if (poll(p, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			x_hangup(s, grace_ms);
		}
		if (p[1].revents & POLLIN) {
			while (read(s->sigchld_r, drain, sizeof drain) > 0)
				continue;
			x_reap(s);
		}
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			xq_reserve(&s->rx, X_READ);
			got = recv(s->sock, s->rx.p + s->rx.len, X_READ, 0);
			if (got > 0) {
				s->rx.len += (size_t)got;
				if (x_frames(s) != 0)
					x_hangup(s, grace_ms);
			} else if (got == 0 || (errno != EINTR && errno != EAGAIN))
				x_hangup(s, grace_ms);
		}
		if (xq_size(&s->out) > 0 && (p[0].revents & POLLOUT) &&
		    xq_flush(&s->out, s->sock, 1) != 0)
			x_hangup(s, grace_ms);
		for (int i = 2; i <= 3; i++) {
			if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			r = x_read_output(s, p[i].fd, i == 2 ? RELAY_X_STDOUT : RELAY_X_STDERR);
			if (r < 0) {
				/* End of that stream (a TTY's master: the
				 * slave's last holder is gone). */
				if (i == 2) {
					if (s->tty_master < 0)
						close(s->out_r);
					s->out_r = -1;
				} else {
					close(s->err_r);
					s->err_r = -1;
				}
			}
		}
		if ((p[4].revents & (POLLOUT | POLLERR | POLLHUP)) && s->in_w >= 0 &&
		    xq_flush(&s->in, s->in_w, 0) != 0) {
			/* The command stopped reading its input: drop it. */
			s->in.off = s->in.len = 0;
			s->in_eof = 1;
		}
	}
}

void
relay_exec_session(int fd)
{
	struct xsess s;
	struct xreq r;
	struct sigaction sa;
	unsigned char lenb[4];
	uint32_t len;
	char *req;
	int sp[2];
	int64_t deadline = x_now_ms() + X_REQUEST_TIMEOUT_MS;

	memset(&s, 0, sizeof s);
	memset(&r, 0, sizeof r);
	s.sock = fd;
	s.in_w = s.out_r = s.err_r = s.tty_master = -1;
	if (x_read_full(fd, lenb, 4, deadline) != 0)
		_exit(0);
	len = be_get_u32(lenb);
	if (len == 0 || len > X_REQUEST_MAX)
		x_fail(fd, X_EXIT_START_FAILED, "rdev-relay: the exec request is %u bytes", len);
	req = x_alloc(len);
	if (x_read_full(fd, req, len, deadline) != 0)
		_exit(0);
	if (x_parse(req, len, &r) != 0)
		x_fail(fd, X_EXIT_START_FAILED, "rdev-relay: malformed exec request");
	if (pipe2(sp, O_CLOEXEC | O_NONBLOCK) != 0)
		x_fail(fd, X_EXIT_START_FAILED, "pipe: %s", strerror(errno));
	s.sigchld_r = sp[0];
	x_sigchld_w = sp[1];
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = x_on_sigchld;
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	x_start(&s, &r);
	x_loop(&s, r.grace_ms);
}
