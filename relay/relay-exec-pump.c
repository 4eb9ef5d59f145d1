/* relay-exec-pump.c - an exec session's loop while its command runs:
 * stdin, resizes and signals from the agent's frames, stdout and stderr
 * to it, then the rest of the output and the exit status; a hangup when
 * the agent goes away (relay-exec-internal.h). */
#include "relay-exec-internal.h"

/* (header-only, no dependency: the relay links nothing of common/) */
#include "../common/byte-order.h"

#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

/* The terminal's foreground process group, or 0 (no TTY, or none now). */
static pid_t
x_foreground(const struct xsess *s)
{
	pid_t fg;

	return s->tty_master >= 0 && (fg = tcgetpgrp(s->tty_master)) > 0 ? fg : 0;
}

/* sig to what a terminal's key would reach (agent/exec-signal.h): with a
 * TTY its foreground process group, without one the command's own group
 * (setsid made the command its leader); and to the command itself when it
 * is not among them. One kill per process: the command's own kill, then
 * its group's, gave it every signal twice, and with a TTY whose foreground
 * group was the command's the group was skipped (a shell's `sleep` never
 * got the ^C that a terminal gives it). */
static void
x_signal(struct xsess *s, int sig)
{
	pid_t fg = x_foreground(s), group = fg > 0 ? fg : s->pid;

	if (kill(-group, sig) != 0 || (group != s->pid && getpgid(s->pid) != group))
		(void)kill(s->pid, sig);
}

/* A hangup's sig: to the foreground group fg (0: none) and the command's
 * own group, each once; to the command alone only if its group is empty
 * and it was not reaped (its pid may be another's then). */
static void
x_signal_hangup(struct xsess *s, pid_t fg, int sig, int reaped)
{
	if (fg > 0 && fg != s->pid)
		(void)kill(-fg, sig);
	if (kill(-s->pid, sig) != 0 && !reaped)
		(void)kill(s->pid, sig);
}

/* The agent went away before the command ended: hang up, as sshd would,
 * and kill what is left after the grace period (the foreground group as it
 * was at the hangup: the command's end clears the terminal's). */
static void __attribute__((noreturn)) x_hangup(struct xsess *s, int grace_ms)
{
	int64_t deadline = x_now_ms() + grace_ms;
	struct timespec ts = { 0, 50 * 1000000L };
	pid_t fg = x_foreground(s);
	int reaped = 0;

	if (s->exited)
		_exit(0);
	x_signal_hangup(s, fg, SIGHUP, 0);
	while (x_now_ms() < deadline) {
		if (waitpid(s->pid, NULL, WNOHANG) == s->pid) {
			reaped = 1;
			break;
		}
		nanosleep(&ts, NULL);
	}
	x_signal_hangup(s, fg, SIGKILL, reaped);
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
				ws.ws_row =
				    (unsigned short)(h[X_HDR] << 8 | h[X_HDR + 1]);
				ws.ws_col =
				    (unsigned short)(h[X_HDR + 2] << 8 | h[X_HDR + 3]);
				if (ws.ws_row > 0 && ws.ws_col > 0)
					(void)ioctl(s->tty_master, TIOCSWINSZ, &ws);
			}
			break;
		case RELAY_X_SIGNAL:
			sig = len == 1 ? h[X_HDR] : 0;
			if (sig > 0 && sig < NSIG && !s->exited)
				x_signal(s, sig);
			break;
		default: return -1;
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
	if (WIFSIGNALED(st)) {
		s->signo = WTERMSIG(st);
		s->core = WCOREDUMP(st) ? 1 : 0;
	}
	s->status = WIFEXITED(st) ? WEXITSTATUS(st)
	    : WIFSIGNALED(st)	  ? 128 + WTERMSIG(st)
				  : X_EXIT_START_FAILED;
}

/* After the command's end: what its output still holds, then the status. */
static void __attribute__((noreturn)) x_finish(struct xsess *s)
{
	unsigned char st[6];
	int fds[2] = { s->out_r, s->err_r };

	/* Bounded: a process left behind may keep writing. */
	for (int i = 0; i < 2; i++)
		for (int k = 0; k < X_FINISH_READS && fds[i] >= 0 &&
		     x_read_output(s, fds[i], i == 0 ? RELAY_X_STDOUT : RELAY_X_STDERR) ==
			 1;
		     k++)
			if (xq_size(&s->out) > X_OUT_HIGH)
				xq_drain_blocking(&s->out, s->sock);
	/* The signal after the status, so that an agent that reads only the
	 * status still can (an exit-signal for ssh needs the difference between
	 * `exit 143` and SIGTERM, which the status alone does not tell). */
	be_put_u32(st, (uint32_t)s->status);
	st[4] = (unsigned char)s->signo;
	st[5] = (unsigned char)s->core;
	xq_frame(&s->out, RELAY_X_EXIT, st, s->signo != 0 ? 6 : 4);
	xq_drain_blocking(&s->out, s->sock);
	x_close_exit(s->sock, 0);
}

void __attribute__((noreturn)) x_loop(struct xsess *s, int grace_ms)
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
		if (s->in_eof && xq_size(&s->in) == 0 && !in_closed &&
		    s->tty_master < 0 && s->in_w >= 0) {
			close(s->in_w);
			s->in_w = -1;
			in_closed = 1;
		}
		n = 0;
		p[n++] = (struct pollfd){ .fd = s->sock,
			.events = (xq_size(&s->in) < X_IN_HIGH ? POLLIN : 0) |
			    (xq_size(&s->out) > 0 ? POLLOUT : 0) };
		p[n++] = (struct pollfd){ .fd = s->sigchld_r, .events = POLLIN };
		p[n++] =
		    (struct pollfd){ .fd = xq_size(&s->out) < X_OUT_HIGH ? s->out_r : -1,
			    .events = POLLIN };
		p[n++] =
		    (struct pollfd){ .fd = xq_size(&s->out) < X_OUT_HIGH ? s->err_r : -1,
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
			r = x_read_output(
			    s, p[i].fd, i == 2 ? RELAY_X_STDOUT : RELAY_X_STDERR);
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
