/* relay-exec-command.c - starting an exec session's command: HOME, a pty
 * or pipes, a child process that becomes the user in a new session and
 * execs the command, reporting why when it cannot (relay-exec-internal.h). */
#include "relay-exec-internal.h"

/* (header-only, no dependency: the relay links nothing of common/) */
#include "../common/byte-order.h"

#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

extern char **environ;

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
static void __attribute__((noreturn)) x_child(const struct xreq *r, const struct xuser *u,
    const struct rlimit *nofile, const char *slave_path, int fds[3], int report)
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
			snprintf(msg, sizeof msg, "126 cannot open the terminal %s: %s",
			    slave_path, strerror(e));
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
		snprintf(msg, sizeof msg, "126 cannot become user %u:%u: %s",
		    (unsigned)u->uid, (unsigned)u->gid, strerror(e));
		goto fail;
	}
	if (!cwd_done && r->workdir != NULL && *r->workdir != '\0' &&
	    chdir(r->workdir) != 0) {
		e = errno;
		snprintf(msg, sizeof msg, "126 chdir to cwd (\"%s\") failed: %s",
		    r->workdir, strerror(e));
		goto fail;
	}
	/* The relay's raised soft limit would be inherited: `ulimit -Sn` must
	 * say what the container was given (runArgs --ulimit), as under
	 * `docker exec`. Lowering a soft limit needs no privilege. */
	if (nofile->rlim_max != 0)
		(void)setrlimit(RLIMIT_NOFILE, nofile);
	environ = r->env;
	execvp(r->argv[0], r->argv);
	e = errno;
	if (e == ENOENT && strchr(r->argv[0], '/') == NULL)
		snprintf(msg, sizeof msg,
		    "127 exec: \"%s\": executable file not found in $PATH", r->argv[0]);
	else
		snprintf(msg, sizeof msg, "%d exec: \"%s\": %s", e == ENOENT ? 127 : 126,
		    r->argv[0], strerror(e));
fail:
	(void)!write(report, msg, strlen(msg));
	_exit(X_EXIT_START_FAILED);
}

void
x_nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* Start the command; on failure tell the agent and exit. */
void
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
			x_fail(s->sock, X_EXIT_START_FAILED,
			    "cannot open a terminal (/dev/ptmx): %s", strerror(errno));
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
		x_child(r, &u, &s->nofile, r->tty ? slave_path : NULL, fds, rep[1]);
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
		snprintf(msg, sizeof msg, "rdev: %s",
		    strchr(err, ' ') != NULL ? strchr(err, ' ') + 1 : err);
		while (waitpid(s->pid, NULL, 0) < 0 && errno == EINTR)
			continue;
		x_fail(s->sock, code >= 1 && code <= 255 ? code : X_EXIT_START_FAILED,
		    "%s", msg);
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
