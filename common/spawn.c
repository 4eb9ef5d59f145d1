/* spawn.c - run a program from an argv array and capture its output. */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "error.h"
#include "xmalloc.h"

extern char **environ;

/* With stop_at_exit: how often to look whether the program has exited
 * while something holds its pipes. */
#define SPAWN_EXIT_POLL_MS 100
/* ... and how long, once it has, to read what is left in them at most. */
#define SPAWN_DRAIN_MS 1000

/* In a child: wire up in, out and err as stdin, stdout and stderr and
 * exec. Returns, errno set, only when that fails. */
static void
spawn_child_exec(
    const char *const argv[], const struct spawn_opts *opts, int in, int out, int err)
{
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
		return;
	signal(SIGPIPE, SIG_DFL);
	if (opts->cwd != NULL && chdir(opts->cwd) < 0)
		return;
	if (opts->env != NULL)
		execvpe(argv[0], (char *const *)argv, (char *const *)opts->env);
	else
		execvp(argv[0], (char *const *)argv);
}

/* In the child: wire up the pipes and exec. Reports errno on errfd on failure. */
static void __attribute__((noreturn)) spawn_child(const char *const argv[],
    const struct spawn_opts *opts, int in, int out, int err, int errfd, pid_t parent)
{
	int e;

	/* (a parent dead before the prctl: reparented already) */
	if (opts->die_with_parent &&
	    (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent))
		_exit(127);
	spawn_child_exec(argv, opts, in, out, err);
	e = errno;
	if (write(errfd, &e, sizeof e) < 0) {
		/* nothing more we can do */
	}
	_exit(127);
}

void
spawn_close_from(int lo)
{
	int fd, max = 65536;
	struct rlimit rl;

#ifdef SYS_close_range
	if (syscall(SYS_close_range, (unsigned)lo, ~0u, 0u) == 0)
		return;
#endif
	/* Older kernels (ENOSYS): one by one, up to the limit. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < (rlim_t)max)
		max = (int)rl.rlim_cur;
	for (fd = lo; fd < max; fd++)
		close(fd);
}

/* In a new child: close every descriptor but a and b (either may be -1;
 * not both). Raw syscalls only:
 * the parent may have threads, so only async-signal-safe calls after fork. */
static void
spawn_close_all_but(int a, int b)
{
	int lo, hi, fd, max = 65536;
	struct rlimit rl;

	if (a == -1)
		a = b;
	if (b == -1)
		b = a;
	lo = a < b ? a : b;
	hi = a < b ? b : a;
#ifdef SYS_close_range
	if ((lo == 0 || syscall(SYS_close_range, 0u, (unsigned)lo - 1, 0u) == 0) &&
	    (hi <= lo + 1 ||
		syscall(SYS_close_range, (unsigned)lo + 1, (unsigned)hi - 1, 0u) == 0) &&
	    syscall(SYS_close_range, (unsigned)hi + 1, ~0u, 0u) == 0)
		return;
#endif
	/* Older kernels (ENOSYS): one by one, up to the limit. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < (rlim_t)max)
		max = (int)rl.rlim_cur;
	for (fd = 0; fd < max; fd++)
		if (fd != a && fd != b)
			close(fd);
}

/* stop_at_exit, once the program has exited: what it left in the background
 * still holds the pipe as its stdout or stderr, and would die of SIGPIPE
 * at its next write if we closed its read end. Hand fd (the read end; -1:
 * none) to a detached `cat` that reads it into /dev/null until end of file,
 * i.e. until every process that holds the pipe has closed it or ended.
 * Detached: forked twice (nobody's zombie here; nothing to wait for), in a
 * session of its own (the terminal's ^C or hangup, meant for us, does not
 * end it, and our ending does not either), holding nothing of ours but the
 * pipe; and a small program, not a copy of the caller (the agent: a
 * long-lived daemon, its whole memory with what secrets it holds), unless
 * cat cannot be run: then this copy drains it itself. The caller still
 * closes its own copy. Async-signal-safe calls only in the children. */
static void
spawn_drain_detached(int fd)
{
	static const char *const env[] = { "PATH=/usr/local/bin:/usr/bin:/bin", NULL };
	static const char *const argv[] = { "cat", NULL };
	const struct spawn_opts o = { .env = env };
	struct sigaction sa;
	char tmp[4096];
	ssize_t n;
	pid_t pid;
	int status, i, nul;

	if (fd == -1)
		return;
	if ((pid = fork()) < 0)
		return; /* the pipe is closed: the old behaviour */
	if (pid == 0) {
		if (fork() != 0)
			_exit(0);
		setsid();
		if (chdir("/") < 0) {
			/* only so as not to hold a mount busy */
		}
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = SIG_DFL;
		for (i = 1; i < NSIG; i++)
			sigaction(i, &sa, NULL);
		sigemptyset(&sa.sa_mask);
		sigprocmask(SIG_SETMASK, &sa.sa_mask, NULL);
		/* (both out of the way of 0 to 2, closed at the exec: cat holds
		 * the pipe as its stdin only) */
		if ((nul = open("/dev/null", O_RDWR | O_CLOEXEC)) >= 0 && nul < 3) {
			i = fcntl(nul, F_DUPFD_CLOEXEC, 3);
			close(nul);
			nul = i;
		}
		if (fd < 3 && (i = fcntl(fd, F_DUPFD_CLOEXEC, 3)) >= 0) {
			close(fd);
			fd = i;
		}
		spawn_close_all_but(fd, nul);
		if (nul >= 0 && fd >= 3)
			spawn_child_exec(argv, &o, fd, nul, nul);
		/* (no cat) */
		while ((n = read(fd, tmp, sizeof tmp)) > 0 || (n < 0 && errno == EINTR))
			;
		_exit(0);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
}

static int
spawn_read_into(int fd, int stream, const struct spawn_opts *opts, struct buf *b,
    size_t cap, int *truncated)
{
	unsigned char tmp[65536];
	ssize_t n = read(fd, tmp, sizeof tmp), keep;

	if (n < 0)
		return (errno == EINTR || errno == EAGAIN) ? 1 : -1;
	if (n == 0)
		return 0;
	if (opts->on_output != NULL)
		opts->on_output(
		    opts->on_output_arg, stream, (const char *)tmp, (size_t)n);
	keep = n;
	if (buf_len(b) + (size_t)n > cap) {
		*truncated = 1;
		keep = (ssize_t)(cap - buf_len(b));
	}
	buf_append(b, tmp, (size_t)keep);
	if (opts->secret_output)
		sodium_memzero(tmp, (size_t)n);
	return 1;
}

int
spawn_run(const char *const argv[], const struct spawn_opts *optsp,
    struct spawn_result *res, char **cause)
{
	static const struct spawn_opts defaults;
	const struct spawn_opts *opts = optsp != NULL ? optsp : &defaults;
	int inp[2] = { -1, -1 }, outp[2] = { -1, -1 }, errp[2] = { -1, -1 };
	int execp[2] = { -1, -1 }, status, child_errno = 0, rc = -1;
	size_t cap = opts->max_output != 0 ? opts->max_output : 64u << 20;
	size_t written = 0;
	long long deadline = 0, drain_end = 0;
	int wait_ms = -1, reaped = 0;
	struct buf *out = buf_new(), *err = buf_new();
	struct pollfd pfd[3];
	pid_t pid, parent;
	ssize_t n;

	memset(res, 0, sizeof *res);
	if (argv == NULL || argv[0] == NULL) {
		error_set(cause, "spawn: empty argument vector");
		goto done;
	}
	if (pipe2(inp, O_CLOEXEC) < 0 || pipe2(outp, O_CLOEXEC) < 0 ||
	    pipe2(errp, O_CLOEXEC) < 0 || pipe2(execp, O_CLOEXEC) < 0) {
		error_set_errno(cause, errno, "%s: cannot create pipes", argv[0]);
		goto done;
	}
	parent = getpid();
	pid = fork();
	if (pid < 0) {
		error_set_errno(cause, errno, "%s: cannot fork", argv[0]);
		goto done;
	}
	if (pid == 0)
		spawn_child(argv, opts, inp[0], outp[1], errp[1], execp[1], parent);
	close(inp[0]);
	close(outp[1]);
	close(errp[1]);
	close(execp[1]);
	inp[0] = outp[1] = errp[1] = execp[1] = -1;
	if (opts->stdin_len == 0) {
		close(inp[1]);
		inp[1] = -1;
	} else
		fcntl(inp[1], F_SETFL, O_NONBLOCK);
	if (opts->timeout_ms > 0)
		deadline = clock_now_ms() + opts->timeout_ms;

	while (outp[0] != -1 || errp[0] != -1 || inp[1] != -1) {
		pfd[0] = (struct pollfd){ .fd = inp[1], .events = POLLOUT };
		pfd[1] = (struct pollfd){ .fd = outp[0], .events = POLLIN };
		pfd[2] = (struct pollfd){ .fd = errp[0], .events = POLLIN };
		if (deadline != 0) {
			long long left = deadline - clock_now_ms();
			wait_ms = left > 0 ? (int)left : 0;
		}
		/* stop_at_exit: has it exited? (Looked at, not signalled: a
		 * library installs no SIGCHLD handler.) Once it has, what it
		 * printed is all in the pipes: read what is there, without
		 * waiting for more. */
		if (opts->stop_at_exit && !reaped) {
			if (waitpid(pid, &status, WNOHANG) == pid) {
				reaped = 1;
				drain_end = clock_now_ms() + SPAWN_DRAIN_MS;
			} else if (wait_ms < 0 || wait_ms > SPAWN_EXIT_POLL_MS)
				wait_ms = SPAWN_EXIT_POLL_MS;
		}
		n = poll(pfd, 3, reaped ? 0 : wait_ms);
		/* (A process left behind that writes without a pause would
		 * keep the pipes readable: the drain has an end.) */
		if (reaped && (n == 0 || clock_now_ms() >= drain_end))
			break;
		if (n == 0 && (deadline == 0 || clock_now_ms() < deadline))
			continue;
		if (n == 0) {
			/* Out of time: kill it and stop reading, so that a child
			 * it left holding the pipes cannot keep us here. */
			kill(pid, SIGKILL);
			res->timed_out = opts->timeout_ms;
			break;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (inp[1] != -1 && (pfd[0].revents & (POLLOUT | POLLERR | POLLHUP))) {
			n = write(inp[1], (const char *)opts->stdin_data + written,
			    opts->stdin_len - written);
			if (n > 0)
				written += (size_t)n;
			/* EPIPE: the child stopped reading; that is its business. */
			if ((n < 0 && errno != EAGAIN && errno != EINTR) ||
			    written == opts->stdin_len) {
				close(inp[1]);
				inp[1] = -1;
			}
		}
		if (outp[0] != -1 && (pfd[1].revents & (POLLIN | POLLERR | POLLHUP)) &&
		    spawn_read_into(outp[0], 1, opts, out, cap, &res->truncated) <= 0) {
			close(outp[0]);
			outp[0] = -1;
		}
		if (errp[0] != -1 && (pfd[2].revents & (POLLIN | POLLERR | POLLHUP)) &&
		    spawn_read_into(errp[0], 2, opts, err, cap, &res->truncated) <= 0) {
			close(errp[0]);
			errp[0] = -1;
		}
	}
	if (reaped) {
		spawn_drain_detached(outp[0]);
		spawn_drain_detached(errp[0]);
	}
	while (!reaped && waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			error_set_errno(cause, errno, "%s: waitpid", argv[0]);
			goto done;
		}
	}
	if (read(execp[0], &child_errno, sizeof child_errno) == sizeof child_errno) {
		error_set_errno(cause, child_errno, "cannot run %s", argv[0]);
		goto done;
	}
	res->exited = WIFEXITED(status);
	res->exit_code = res->exited ? WEXITSTATUS(status) : 0;
	res->term_signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	res->out = buf_take_string(out, &res->out_len);
	res->err = buf_take_string(err, &res->err_len);
	rc = 0;
done:
	if (opts->secret_output) {
		buf_wipe(out);
		buf_wipe(err);
	}
	for (int i = 0; i < 2; i++) {
		if (inp[i] != -1)
			close(inp[i]);
		if (outp[i] != -1)
			close(outp[i]);
		if (errp[i] != -1)
			close(errp[i]);
		if (execp[i] != -1)
			close(execp[i]);
	}
	buf_free(out);
	buf_free(err);
	return rc;
}

void
spawn_result_free(struct spawn_result *res)
{
	if (res == NULL)
		return;
	free(res->out);
	free(res->err);
	res->out = res->err = NULL;
}

int
spawn_result_status(const struct spawn_result *res)
{
	return res->exited ? res->exit_code : 128 + res->term_signal;
}

char *
spawn_result_describe(const struct spawn_result *res)
{
	if (res->timed_out > 0)
		return xasprintf(
		    "did not finish within %d s (killed)", (res->timed_out + 999) / 1000);
	if (res->exited)
		return xasprintf("exited with status %d", res->exit_code);
	return xasprintf(
	    "killed by signal %d (%s)", res->term_signal, strsignal(res->term_signal));
}

char *
spawn_result_tail(const struct spawn_result *res, int lines)
{
	const char *out = res->err_len > 0 ? res->err : res->out;
	const char *p, *end;

	if (out == NULL)
		return xstrdup("");
	end = out + strlen(out);
	while (end > out && (end[-1] == '\n' || end[-1] == ' '))
		end--;
	for (p = end; p > out; p--)
		if (p[-1] == '\n' && --lines == 0)
			break;
	return xstrndup(p, (size_t)(end - p));
}

int
spawn_run_ok(const char *const argv[], const struct spawn_opts *opts, const char *name,
    int lines, char **cause)
{
	struct spawn_result res;
	char *how, *tail;
	int rc = 0;

	if (spawn_run(argv, opts, &res, cause) != 0)
		return error_prefix(cause, "%s", name);
	if (spawn_result_status(&res) != 0) {
		how = spawn_result_describe(&res);
		tail = spawn_result_tail(&res, lines);
		rc = error_set(cause, "%s %s%s%s", name, how,
		    *tail == '\0'		     ? ""
			: strchr(tail, '\n') != NULL ? ":\n"
						     : ": ",
		    tail);
		free(how);
		free(tail);
	}
	spawn_result_free(&res);
	return rc;
}

int
spawn_socketpair(const char *const argv[], int detached, int *pid, int *fd, char **cause)
{
	int sv[2], status;
	pid_t child;

	*pid = -1;
	*fd = -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return error_set_errno(cause, errno, "socketpair");
	if ((child = fork()) < 0) {
		close(sv[0]);
		close(sv[1]);
		return error_set_errno(cause, errno, "fork");
	}
	if (child == 0) {
		if (detached && fork() != 0)
			_exit(0);
		/* Whoever spawns may ignore SIGPIPE; the program must not inherit
		 * that. dup2 clears close-on-exec on 0 and 1. */
		signal(SIGPIPE, SIG_DFL);
		if (dup2(sv[1], 0) < 0 || dup2(sv[1], 1) < 0)
			_exit(127);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(sv[1]);
	if (detached)
		while (waitpid(child, &status, 0) < 0 && errno == EINTR)
			;
	else
		*pid = (int)child;
	*fd = sv[0];
	return 0;
}
