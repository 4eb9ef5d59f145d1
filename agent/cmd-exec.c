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

#include "agent-state.h"
#include "buf.h"
#include "config.h"
#include "docker-stream.h"
#include "docker.h"
#include "env-probe.h"
#include "error.h"
#include "up.h"
#include "workspace.h"
#include "xmalloc.h"

/* Set by the SIGWINCH handler; the pump loop resizes the remote TTY. The
 * only signal state kept, as a handler can do nothing else safely. */
static volatile sig_atomic_t cmd_exec_winch;

static void
cmd_exec_on_winch(int sig)
{
	(void)sig;
	cmd_exec_winch = 1;
}

static int
write_all_fd(int fd, const void *data, size_t len)
{
	const char *p = data;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Pass output from the exec stream to our stdout/stderr. */
static int
cmd_exec_output(struct docker_stream *demux, const unsigned char *data, size_t len,
    char **cause)
{
	const unsigned char *payload;
	size_t used, plen;
	int stream, rc;

	if (demux == NULL)
		return write_all_fd(1, data, len);
	while ((rc = docker_stream_feed(demux, data, len, &used, &stream, &payload, &plen,
	    cause)) == 1) {
		data += used;
		len -= used;
		if (stream == 1 || stream == 2)
			write_all_fd(stream, payload, plen);
		else if (stream == 3)
			write_all_fd(2, payload, plen);
	}
	return rc;
}

static void
cmd_exec_resize(struct docker *d, const char *exec_id)
{
	struct winsize ws;

	if (ioctl(0, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0)
		docker_exec_resize(d, exec_id, ws.ws_row, ws.ws_col, NULL);
}

/* Pump stdin to the exec and its output to us until the stream ends. The
 * connection is non-blocking and stdin is only read when what was read before
 * has been sent, so a command that writes while we write never deadlocks. */
static int
cmd_exec_pump(struct docker *d, const char *exec_id, int fd, int tty, struct buf *early,
    char **cause)
{
	struct docker_stream *demux = tty ? NULL : docker_stream_new(DOCKER_STREAM_MAX_FRAME);
	unsigned char in[65536], out[65536];
	size_t in_len = 0, in_off = 0;
	struct pollfd pfd[2];
	int stdin_open = 1, rc = -1;
	ssize_t n;

	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	if (cmd_exec_output(demux, buf_data(early), buf_len(early), cause) != 0)
		goto out;
	for (;;) {
		if (cmd_exec_winch) {
			cmd_exec_winch = 0;
			cmd_exec_resize(d, exec_id);
		}
		pfd[0] = (struct pollfd){ .fd = stdin_open && in_len == 0 ? 0 : -1,
			.events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = fd,
			.events = POLLIN | (in_len > 0 ? POLLOUT : 0) };
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			error_set_errno(cause, errno, "poll");
			goto out;
		}
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			n = read(0, in, sizeof in);
			if (n > 0) {
				in_len = (size_t)n;
				in_off = 0;
			} else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
				/* End of our input: half-close, keep reading output. */
				stdin_open = 0;
				if (!tty)
					shutdown(fd, SHUT_WR);
			}
		}
		if (in_len > 0 && (pfd[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
			n = send(fd, in + in_off, in_len - in_off, MSG_NOSIGNAL);
			if (n > 0) {
				in_off += (size_t)n;
				if (in_off == in_len)
					in_len = 0;
			} else if (n < 0 && errno != EINTR && errno != EAGAIN) {
				/* The command stopped reading: drop the rest. */
				in_len = 0;
				stdin_open = 0;
			}
		}
		if (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			n = read(fd, out, sizeof out);
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n <= 0)
				break;
			if (cmd_exec_output(demux, out, (size_t)n, cause) != 0)
				goto out;
		}
	}
	rc = demux != NULL ? docker_stream_eof(demux, cause) : 0;
out:
	docker_stream_free(demux);
	return rc;
}

/* argv for the exec: COMMAND, behind `env -u NAME...` when remoteEnv removes
 * variables. New array of borrowed strings (free the array only). */
static const char **
cmd_exec_argv(char **command, int ncommand, char *const *unset)
{
	size_t nunset = 0, i = 0;
	const char **argv;

	while (unset != NULL && unset[nunset] != NULL)
		nunset++;
	argv = xcalloc((size_t)ncommand + 2 * nunset + 2, sizeof *argv);
	if (nunset > 0) {
		argv[i++] = "env";
		for (size_t k = 0; k < nunset; k++) {
			argv[i++] = "-u";
			argv[i++] = unset[k];
		}
	}
	for (int k = 0; k < ncommand; k++)
		argv[i++] = command[k];
	argv[i] = NULL;
	return argv;
}

/* With a TTY, TERM comes from here. New environment (env_free). */
static char **
cmd_exec_env(char *const *env, int tty)
{
	const char *term = getenv("TERM");
	char **out = env_dup(env);
	size_t n = 0;

	if (!tty || term == NULL)
		return out;
	while (out[n] != NULL)
		n++;
	out = xreallocarray(out, n + 2, sizeof *out);
	out[n] = xasprintf("TERM=%s", term);
	out[n + 1] = NULL;
	return out;
}

int
agent_cmd_exec(const struct cmd_program *prog, const struct cmd_entry *entry, int argc,
    char **argv)
{
	struct agent_cmd_args a;
	struct workspace ws;
	struct docker_exec_opts opts = { 0 };
	struct termios saved, raw;
	struct buf *early = NULL;
	struct docker *d;
	cJSON *merged = NULL;
	char *cause = NULL, *state = NULL, *user = NULL, *exec_id = NULL;
	char **env = NULL, **unset = NULL, **full_env = NULL;
	const char **xargv = NULL;
	int rc = AGENT_EXIT_EXEC_FAILED, fd = -1, tty = isatty(0), raw_set = 0, code;

	if (agent_cmd_args_parse(prog, entry, argc, argv, AGENT_ARG_FOLDER | AGENT_ARG_COMMAND,
	    &a) != 0)
		return CMD_EXIT_USAGE;
	if (a.ncommand == 0)
		return cmd_usage_error(prog, entry, "no command given");
	d = docker_new(NULL);
	if (workspace_open(a.folder, a.config_file, d, &ws, &cause) != 0)
		goto out;
	if (ws.container == NULL) {
		error_set(&cause, "no dev container for %s (run `%s up %s` first)", a.folder,
		    prog->name, a.folder);
		goto out;
	}
	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(
	    ws.container, "State"), "Running"))) {
		error_set(&cause, "the dev container of %s is not running (run `%s up %s`)",
		    a.folder, prog->name, a.folder);
		goto out;
	}
	if ((state = agent_state_dir(&cause)) == NULL ||
	    up_merged_for_container(ws.cfg, ws.container, &merged, &cause) != 0)
		goto out;
	user = up_remote_user(merged, ws.container);
	if (up_remote_env(d, state, ws.container, merged, user, &env, &unset, &cause) != 0)
		goto out;
	full_env = cmd_exec_env(env, tty);
	xargv = cmd_exec_argv(a.command, a.ncommand, unset);
	opts.argv = xargv;
	opts.user = user;
	opts.env = (const char *const *)full_env;
	opts.workdir = config_get_workspace_folder(ws.cfg);
	opts.tty = tty;
	opts.attach_stdin = 1;
	if (docker_exec_attach(d, workspace_container_id(&ws), &opts, &exec_id, &fd, &early,
	    &cause) != 0)
		goto out;
	if (tty) {
		signal(SIGWINCH, cmd_exec_on_winch);
		cmd_exec_resize(d, exec_id);
		if (tcgetattr(0, &saved) == 0) {
			raw = saved;
			cfmakeraw(&raw);
			raw_set = tcsetattr(0, TCSANOW, &raw) == 0;
		}
	}
	if (cmd_exec_pump(d, exec_id, fd, tty, early, &cause) != 0)
		goto out;
	if (raw_set) {
		tcsetattr(0, TCSANOW, &saved);
		raw_set = 0;
	}
	if (docker_exec_exit(d, exec_id, &code, &cause) != 0)
		goto out;
	rc = code;
out:
	if (raw_set)
		tcsetattr(0, TCSANOW, &saved);
	if (cause != NULL)
		fprintf(stderr, "%s: exec: %s\n", prog->name, cause);
	if (fd >= 0)
		close(fd);
	buf_free(early);
	free(xargv);
	env_free(env);
	env_free(unset);
	env_free(full_env);
	cJSON_Delete(merged);
	free(cause);
	free(state);
	free(user);
	free(exec_id);
	workspace_clear(&ws);
	docker_free(d);
	return rc;
}
