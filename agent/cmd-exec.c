/* cmd-exec.c - `exec PATH [--] COMMAND...`: run a command in the workspace's
 * dev container as the remote user, with the remote env, in the workspace
 * folder; stdin/stdout/stderr streamed (a PTY when stdin is a terminal); the
 * command's exit status becomes ours. */
#include "agent-cmds.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "agent-exec.h"
#include "agent-ops.h"
#include "atomic-file.h"
#include "buf.h"
#include "error.h"

/* Set by the SIGWINCH handler; the pump loop resizes the remote TTY. The
 * only signal state kept, as a handler can do nothing else safely. */
static volatile sig_atomic_t cmd_exec_winch;

static void
cmd_exec_on_winch(int sig)
{
	(void)sig;
	cmd_exec_winch = 1;
}

/* Pass output from the exec to our stdout/stderr. */
static int
cmd_exec_output(struct agent_exec *x, const unsigned char *data, size_t len, char **cause)
{
	const unsigned char *payload;
	size_t used, plen;
	int stream, rc;

	while ((rc = agent_exec_output(x, data, len, &used, &stream, &payload, &plen,
	    cause)) == 1) {
		data += used;
		len -= used;
		fd_write_all(stream, payload, plen);
	}
	return rc;
}

/* Pump stdin to the exec and its output to us until the stream ends. The
 * connection is non-blocking and stdin is only read while little is queued
 * for the exec, so a command that writes while we write never deadlocks. */
static int
cmd_exec_pump(struct agent_exec *x, char **cause)
{
	struct buf *out = buf_new();
	unsigned char in[65536], data[65536];
	struct pollfd pfd[2];
	struct winsize ws;
	int stdin_open = 1, shut_pending = 0, rc = -1;
	ssize_t n;

	fcntl(x->fd, F_SETFL, fcntl(x->fd, F_GETFL) | O_NONBLOCK);
	if (cmd_exec_output(x, buf_data(x->early), buf_len(x->early), cause) != 0)
		goto out;
	for (;;) {
		if (cmd_exec_winch) {
			cmd_exec_winch = 0;
			if (ioctl(0, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0)
				agent_exec_resize(x, out, ws.ws_row, ws.ws_col);
		}
		if (shut_pending && buf_len(out) == 0) {
			shutdown(x->fd, SHUT_WR);
			shut_pending = 0;
		}
		pfd[0] = (struct pollfd){ .fd = stdin_open && buf_len(out) < sizeof in ? 0 : -1,
			.events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = x->fd,
			.events = POLLIN | (buf_len(out) > 0 ? POLLOUT : 0) };
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			error_set_errno(cause, errno, "poll");
			goto out;
		}
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			n = read(0, in, sizeof in);
			if (n > 0)
				agent_exec_input(x, out, in, (size_t)n);
			else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
				/* End of our input: half-close, keep reading output. */
				stdin_open = 0;
				shut_pending = agent_exec_input_end(x, out);
			}
		}
		if (buf_len(out) > 0 && (pfd[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
			n = send(x->fd, buf_data(out), buf_len(out), MSG_NOSIGNAL);
			if (n > 0)
				buf_consume(out, (size_t)n);
			else if (n < 0 && errno != EINTR && errno != EAGAIN) {
				/* The command stopped reading: drop the rest. */
				buf_reset(out);
				stdin_open = 0;
				shut_pending = 0;
			}
		}
		if (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			n = read(x->fd, data, sizeof data);
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n <= 0)
				break;
			if (cmd_exec_output(x, data, (size_t)n, cause) != 0)
				goto out;
		}
	}
	rc = agent_exec_output_end(x, cause);
out:
	buf_free(out);
	return rc;
}

int
agent_cmd_exec(const struct cmd_program *prog, const struct cmd_entry *entry, int argc,
    char **argv)
{
	struct agent_cmd_args a;
	struct agent_exec *x = NULL;
	struct termios saved, raw;
	struct winsize ws;
	char *cause = NULL, *up_cmd;
	int rc = AGENT_EXIT_EXEC_FAILED, tty = isatty(0), raw_set = 0, code, started;
	unsigned rows = 0, cols = 0;

	if (agent_cmd_args_parse(prog, entry, argc, argv, AGENT_ARG_FOLDER | AGENT_ARG_COMMAND,
	    &a) != 0)
		return CMD_EXIT_USAGE;
	if (a.ncommand == 0)
		return cmd_usage_error(prog, entry, "no command given");
	/* Catch a resize from here on: one before the exec has started is
	 * applied just after. */
	if (tty) {
		signal(SIGWINCH, cmd_exec_on_winch);
		if (ioctl(0, TIOCGWINSZ, &ws) == 0) {
			rows = ws.ws_row;
			cols = ws.ws_col;
		}
	}
	up_cmd = agent_up_command(prog->name, a.folder, a.config_file);
	started = agent_exec_start(up_cmd, a.folder, a.config_file, a.command, a.ncommand,
	    tty, getenv("TERM"), rows, cols, &x, &cause) == 0;
	free(up_cmd);
	if (!started)
		goto out;
	if (x->notice != NULL)
		fprintf(stderr, "%s: %s\n", prog->name, x->notice);
	if (tty) {
		if (tcgetattr(0, &saved) == 0) {
			raw = saved;
			cfmakeraw(&raw);
			raw_set = tcsetattr(0, TCSANOW, &raw) == 0;
		}
	}
	if (cmd_exec_pump(x, &cause) != 0)
		goto out;
	if (raw_set) {
		tcsetattr(0, TCSANOW, &saved);
		raw_set = 0;
	}
	if (agent_exec_exit(x, &code, &cause) != 0)
		goto out;
	rc = code;
out:
	if (raw_set)
		tcsetattr(0, TCSANOW, &saved);
	if (cause != NULL)
		fprintf(stderr, "%s: exec: %s\n", prog->name, cause);
	free(cause);
	agent_exec_free(x);
	return rc;
}
