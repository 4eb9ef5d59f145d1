/* ssh-proxy-command.c - an ssh config's ProxyCommand, run by the broker
 * itself (see ssh-proxy-command.h). */
#include "ssh-proxy-command.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "error.h"
#include "spawn.h"
#include "xmalloc.h"

/* The most lines of stderr a failure shows */
#define SSH_PROXY_LINES 5

static void ssh_proxy_command_reader_start(struct ssh_proxy_command *p);

void
ssh_proxy_command_init(struct ssh_proxy_command *p)
{
	memset(p, 0, sizeof *p);
	p->fd = -1;
	p->err_fd = -1;
	p->stop[0] = p->stop[1] = -1;
	pthread_mutex_init(&p->lock, NULL);
}

/* (libssh's options.c ssh_path_expand_escape, which it does not export) */
char *
ssh_proxy_command_expand(const char *cmd, const struct ssh_proxy_escapes *e, char **cause)
{
	struct buf *b = buf_new();
	char lhost[256], num[16], *out;
	const char *v;

	for (const char *p = cmd; *p != '\0'; p++) {
		if (*p != '%') {
			buf_append(b, p, 1);
			continue;
		}
		switch (*++p) {
		case 'h': v = e->host; break;
		case 'r': v = e->user; break;
		case 'u': v = e->local_user; break;
		case 'p':
			snprintf(num, sizeof num, "%u", e->port);
			v = num;
			break;
		case 'l':
			if (gethostname(lhost, sizeof lhost) != 0)
				lhost[0] = '\0';
			lhost[sizeof lhost - 1] = '\0';
			v = lhost;
			break;
		case '%': v = "%"; break;
		case 'd':
			buf_append(b, e->home, strlen(e->home));
			v = "/.ssh";
			break;
		default:
			buf_free(b);
			error_set(cause, "ProxyCommand %s: unknown escape %%%c", cmd,
			    *p != '\0' ? *p : ' ');
			return NULL;
		}
		buf_append(b, v, strlen(v));
	}
	buf_append(b, "", 1);
	out = xstrdup((const char *)buf_data(b));
	buf_free(b);
	return out;
}

/* The child: its own process group, default signals, the socket pair's
 * end as stdin and stdout, stderr to errfd (or kept, -1), nothing else of
 * ours; then argv. Never returns. */
static void
run_child(int end, int errfd, char *const argv[])
{
	static const int dfl[] = { SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGCHLD,
		SIGUSR1, SIGUSR2 };
	sigset_t none;

	/* (only async-signal-safe calls: other threads run) */
	setpgid(0, 0);
	for (size_t i = 0; i < sizeof dfl / sizeof dfl[0]; i++)
		signal(dfl[i], SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (dup2(end, 0) < 0 || dup2(end, 1) < 0 || (errfd >= 0 && dup2(errfd, 2) < 0))
		_exit(127);
	/* Nothing else of ours: not the other sessions' TCP sockets (libssh
	 * makes them without FD_CLOEXEC; a long-lived command held a closed
	 * session's connection open), nor what the broker inherited */
	spawn_close_from(3);
	execv(argv[0], argv);
	_exit(127);
}

int
ssh_proxy_command_start(struct ssh_proxy_command *p, const char *cmd,
    const struct ssh_proxy_escapes *e, char **cause)
{
	const char *shell = getenv("SHELL");
	char *expanded, *line, *argv[4];
	struct stat st;
	int sv[2], errp[2] = { -1, -1 };
	pid_t pid;

	expanded = ssh_proxy_command_expand(cmd, e, cause);
	if (expanded == NULL)
		return -1;
	line = strncmp(expanded, "exec ", 5) == 0 ? xstrdup(expanded)
						  : xasprintf("exec %s", expanded);
	free(expanded);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		free(line);
		return error_set_errno(cause, errno, "ProxyCommand: socketpair");
	}
	argv[0] = (char *)(shell != NULL && *shell != '\0' ? shell : "/bin/bash");
	argv[1] = (char *)"-c";
	argv[2] = line;
	argv[3] = NULL;
	/* (nonblocking both ends: the command's writes never stall it) */
	if (pipe2(errp, O_CLOEXEC | O_NONBLOCK) != 0) {
		errp[0] = -1;
		errp[1] = open("/dev/null", O_WRONLY | O_CLOEXEC);
	}
	pid = fork();
	if (pid == 0)
		run_child(sv[1], errp[1], argv);
	if (pid > 0)
		setpgid(pid, pid); /* (also here: no kill(-pid) before the child's) */
	if (errp[1] >= 0)
		close(errp[1]);
	if (pid < 0 && errp[0] >= 0)
		close(errp[0]);
	else
		p->err_fd = errp[0];
	p->tail_len = 0;
	p->tail_cut = 0;
	if (pid > 0)
		ssh_proxy_command_reader_start(p);
	free(line);
	close(sv[1]);
	if (pid < 0) {
		close(sv[0]);
		return error_set_errno(cause, errno, "ProxyCommand: fork");
	}
	p->pid = pid;
	if (fstat(sv[0], &st) == 0) {
		p->fd = sv[0];
		p->dev = st.st_dev;
		p->ino = st.st_ino;
	}
	return sv[0];
}

/* Read what err_fd holds into the tail, at most 64 KiB a call (a command
 * that writes as fast as it is read must not keep p->lock, nor keep the
 * reader from seeing its stop); at its end close it. (Under p->lock while
 * the reader runs.) */
static void
ssh_proxy_command_read(struct ssh_proxy_command *p)
{
	char chunk[4096];
	ssize_t n = 1;
	size_t keep;
	int chunks = 0;

	if (p->err_fd < 0)
		return;
	while (chunks++ < 16 && (n = read(p->err_fd, chunk, sizeof chunk)) > 0) {
		if ((size_t)n >= SSH_PROXY_TAIL) {
			memcpy(p->tail, chunk + n - SSH_PROXY_TAIL, SSH_PROXY_TAIL);
			p->tail_cut = 1;
			p->tail_len = SSH_PROXY_TAIL;
			continue;
		}
		if (p->tail_len + (size_t)n > SSH_PROXY_TAIL) {
			keep = SSH_PROXY_TAIL - (size_t)n;
			memmove(p->tail, p->tail + p->tail_len - keep, keep);
			p->tail_len = keep;
			p->tail_cut = 1;
		}
		memcpy(p->tail + p->tail_len, chunk, (size_t)n);
		p->tail_len += (size_t)n;
	}
	if (n == 0) { /* (every writer is gone) */
		close(p->err_fd);
		p->err_fd = -1;
	}
}

/* The reader thread: err_fd as it comes, until its end or a stop. */
static void *
ssh_proxy_command_reader(void *arg)
{
	struct ssh_proxy_command *p = arg;
	struct pollfd pfd[2];
	int open = 1;

	pfd[0].fd = p->err_fd; /* (only this thread closes it meanwhile) */
	pfd[0].events = POLLIN;
	pfd[1].fd = p->stop[0];
	pfd[1].events = POLLIN;
	while (open) {
		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			break;
		if (pfd[1].revents != 0)
			break;
		if (pfd[0].revents == 0)
			continue;
		pthread_mutex_lock(&p->lock);
		ssh_proxy_command_read(p);
		open = p->err_fd >= 0;
		pthread_mutex_unlock(&p->lock);
	}
	return NULL;
}

/* Start the reader of p->err_fd; without one (no thread, no pipe), the
 * pipe is read by ssh_proxy_command_drain alone. */
static void
ssh_proxy_command_reader_start(struct ssh_proxy_command *p)
{
	if (p->err_fd < 0 || pipe2(p->stop, O_CLOEXEC) != 0)
		return;
	if (pthread_create(&p->reader, NULL, ssh_proxy_command_reader, p) != 0) {
		close(p->stop[0]);
		close(p->stop[1]);
		p->stop[0] = p->stop[1] = -1;
		return;
	}
	p->reader_on = 1;
}

/* Stop the reader (what is still in the pipe stays for the next read). */
static void
ssh_proxy_command_reader_stop(struct ssh_proxy_command *p)
{
	char c = 0;

	if (!p->reader_on)
		return;
	while (write(p->stop[1], &c, 1) < 0 && errno == EINTR)
		;
	pthread_join(p->reader, NULL);
	close(p->stop[0]);
	close(p->stop[1]);
	p->stop[0] = p->stop[1] = -1;
	p->reader_on = 0;
}

void
ssh_proxy_command_drain(struct ssh_proxy_command *p)
{
	if (!p->reader_on)
		ssh_proxy_command_read(p);
}

char *
ssh_proxy_command_failure(struct ssh_proxy_command *p, int wait_ms)
{
	struct buf *b = buf_new();
	char *out;
	const char *t, *end, *l;
	int status = 0, ended = 0, lines;

	for (int i = 0; p->pid > 0 && !ended; i++) {
		if (waitpid(p->pid, &status, WNOHANG) == p->pid)
			ended = 1;
		else if (i * 10 >= wait_ms)
			break;
		else
			usleep(10000);
	}
	/* (its last words, all of them: the reader is stopped, the rest read
	 * here; one still running goes on being read) */
	if (ended)
		ssh_proxy_command_reader_stop(p);
	pthread_mutex_lock(&p->lock);
	ssh_proxy_command_drain(p);
	if (ended) {
		p->pid = 0;
		if (WIFEXITED(status))
			buf_appendf(b, "exited with status %d", WEXITSTATUS(status));
		else if (WIFSIGNALED(status))
			buf_appendf(b, "killed by signal %d", WTERMSIG(status));
	} else
		buf_appendf(b, "still running");
	/* The last lines (SSH_PROXY_LINES): from a line's start, trailing blanks cut,
	 * each control character shown as '?', lines joined by " / " */
	t = p->tail;
	end = p->tail + p->tail_len;
	if (p->tail_cut) {
		while (t < end && *t != '\n')
			t++;
	}
	while (t < end && (*t == '\n' || *t == '\r' || *t == ' ' || *t == '\t'))
		t++;
	while (end > t &&
	    (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
		end--;
	/* (at most the last SSH_PROXY_LINES lines) */
	for (lines = 0, l = end; l > t; l--) {
		if (l[-1] == '\n' && ++lines == SSH_PROXY_LINES) {
			t = l;
			break;
		}
	}
	if (t < end)
		buf_appendf(b, "; its stderr: ");
	for (; t < end; t++) {
		if (*t == '\n')
			buf_appendf(b, " / ");
		else if ((unsigned char)*t < 0x20 || *t == 0x7f)
			buf_append(b, "?", 1);
		else
			buf_append(b, t, 1);
	}
	pthread_mutex_unlock(&p->lock);
	out = buf_take_string(b, NULL);
	buf_free(b);
	return out;
}

/* libssh closes the descriptor on a socket error: then the number may be
 * another's by now, hence the check that it is still the same socket. */
void
ssh_proxy_command_close(struct ssh_proxy_command *p)
{
	struct stat st;

	if (p->fd < 0)
		return;
	if (fstat(p->fd, &st) == 0 && st.st_dev == p->dev && st.st_ino == p->ino)
		close(p->fd);
	p->fd = -1;
}

void
ssh_proxy_command_end(
    struct ssh_proxy_command *p, int kill_group, int (*killed)(void *), void *arg)
{
	pid_t pid = p->pid;
	int status;

	ssh_proxy_command_reader_stop(p);
	if (p->err_fd >= 0)
		close(p->err_fd);
	p->err_fd = -1;
	if (pid <= 0)
		return;
	p->pid = 0;
	if (kill_group)
		kill(-pid, SIGKILL);
	else {
		kill(-pid, SIGTERM); /* (a pipeline's other members too) */
		for (int i = 0; i < 100; i++) {
			if (waitpid(pid, &status, WNOHANG) == pid)
				return;
			if (killed != NULL && killed(arg))
				break;
			usleep(10000);
		}
		kill(-pid, SIGKILL);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
}
