/* cmd-exec.c - `exec PATH [--] COMMAND...`: run a command in the workspace's
 * dev container as the remote user, with the remote env, in the workspace
 * folder; stdin/stdout/stderr streamed (a PTY when stdin and stdout are
 * terminals); the
 * command's exit status becomes ours. */
#include "agent-cmds.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "agent-exec.h"
#include "agent-ops.h"
#include "atomic-file.h"
#include "buf.h"
#include "error.h"
#include "exec-signal.h"
#include "progress.h"
#include "secrets.h"
#include "shell-quote.h"
#include "xmalloc.h"

/* How long a hung-up command has between SIGHUP and SIGKILL. */
#define CMD_EXEC_HANGUP_MS 1000

/* Set by the SIGWINCH handler; the pump loop resizes the remote TTY. The
 * only signal state kept, as a handler can do nothing else safely. */
static volatile sig_atomic_t cmd_exec_winch;

static void
cmd_exec_on_winch(int sig)
{
	(void)sig;
	cmd_exec_winch = 1;
}

/* SIGINT, SIGTERM, SIGHUP or SIGQUIT to rdev: the pump passes it to the
 * command, as the remote route does (client/remote-exec.c). Left at their
 * defaults they ended rdev alone: the command never saw them (a trap did
 * not run) and, with a TTY, the terminal stayed raw. The third gives up on
 * the command: the terminal restored (tcsetattr is async-signal-safe), rdev
 * dies of it. */
static const int cmd_exec_sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
/* Each caught since the tick's last look (not one slot: two that came in one
 * wait, as SIGINT and SIGTERM, were one passed on and one lost, yet counted
 * as two of the three that give up). */
static volatile sig_atomic_t cmd_exec_caught[NSIG];
static volatile sig_atomic_t cmd_exec_signals;
static struct termios cmd_exec_saved;
static volatile sig_atomic_t cmd_exec_raw;

static void
cmd_exec_on_signal(int sig)
{
	if (++cmd_exec_signals > 2) {
		if (cmd_exec_raw)
			tcsetattr(0, TCSANOW, &cmd_exec_saved);
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	cmd_exec_caught[sig] = 1;
}

/* Catch the signals passed on, and block them (and SIGWINCH) but while the
 * pump waits (its poll_mask: *wait_mask), so none is lost between the
 * tick that looks and the wait. One rdev was started ignoring (nohup's
 * SIGHUP, a script's background job's SIGINT and SIGQUIT) stays ignored:
 * caught, it went to the command, which nohup was to keep running. */
static void
cmd_exec_install_signals(sigset_t *wait_mask)
{
	struct sigaction sa, old;
	sigset_t block;
	size_t i;

	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	/* (one handler at a time: the count is no atomic increment) */
	for (i = 0; i < sizeof cmd_exec_sigs / sizeof cmd_exec_sigs[0]; i++)
		sigaddset(&sa.sa_mask, cmd_exec_sigs[i]);
	sigemptyset(&block);
	sigaddset(&block, SIGWINCH);
	sa.sa_handler = cmd_exec_on_signal;
	sa.sa_flags = SA_RESTART; /* (the wait still wakes: EINTR, then the tick) */
	for (i = 0; i < sizeof cmd_exec_sigs / sizeof cmd_exec_sigs[0]; i++) {
		if (sigaction(cmd_exec_sigs[i], NULL, &old) == 0 &&
		    old.sa_handler == SIG_IGN)
			continue;
		sigaction(cmd_exec_sigs[i], &sa, NULL);
		sigaddset(&block, cmd_exec_sigs[i]);
	}
	sigprocmask(SIG_BLOCK, &block, wait_mask);
}

/* The terminal's side of the pump: our stdin, stdout and stderr. */
struct cmd_exec_term {
	const char *prog_name;
	const sigset_t *wait_mask; /* the mask but for the signals passed on */
	unsigned char in[65536];
	int out_errno;	/* the errno a write to stdout or stderr failed with; 0 */
	int out_stream; /* and which (1 or 2) */
};

/* A resize or a signal caught since the last pass goes to the command. */
static void
cmd_exec_tick(void *arg, struct agent_exec_pump *p)
{
	struct cmd_exec_term *t = arg;
	struct winsize ws;
	char *cause = NULL;
	int sig;

	/* (the signals are blocked here: none comes between look and clear) */
	for (size_t i = 0; i < sizeof cmd_exec_sigs / sizeof cmd_exec_sigs[0]; i++) {
		if (!cmd_exec_caught[sig = cmd_exec_sigs[i]])
			continue;
		cmd_exec_caught[sig] = 0;
		if (agent_exec_signal(p->x, p->out, exec_signal_exit_name(sig), &cause) !=
		    0) {
			fprintf(stderr, "%s: exec: SIG%s not passed on: %s%s",
			    t->prog_name, exec_signal_exit_name(sig), cause,
			    cmd_exec_raw ? "\r\n" : "\n");
			free(cause);
			cause = NULL;
		}
	}
	if (cmd_exec_winch) {
		cmd_exec_winch = 0;
		if (ioctl(0, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0)
			agent_exec_resize(p->x, p->out, ws.ws_row, ws.ws_col);
	}
}

/* Read stdin while it is open and little is queued for the exec. */
static void
cmd_exec_poll(void *arg, const struct agent_exec_pump *p, struct pollfd *pfd)
{
	struct cmd_exec_term *t = arg;
	int fd = !p->input_done && buf_len(p->out) < sizeof t->in ? 0 : -1;

	*pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
}

/* Our stdin: queue what came, or its end. */
static int
cmd_exec_input(void *arg, struct agent_exec_pump *p, char **cause)
{
	struct cmd_exec_term *t = arg;
	ssize_t n;

	n = read(0, t->in, sizeof t->in);
	if (n > 0)
		agent_exec_input(p->x, p->out, t->in, (size_t)n);
	else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
		/* End of our input: half-close, keep reading output. */
		agent_exec_pump_input_end(p);
	}
	return 0;
}

/* Pass output from the exec to our stdout/stderr. */
static int
cmd_exec_output(void *arg, int stream, const unsigned char *data, size_t len)
{
	struct cmd_exec_term *t = arg;
	sigset_t blocked;
	int rc = 0;

	/* The signals passed on are let in while the write waits for a
	 * reader that does not read (`| less` left at its prompt, a stopped
	 * pipeline): blocked, no number of them (a third one gives up) could
	 * end rdev. (SA_RESTART: the write goes on; the tick passes them.) */
	sigprocmask(SIG_SETMASK, t->wait_mask, &blocked);
	/* SIGPIPE is ignored here, so a closed reader (`rdev exec ... | head
	 * -1`) only fails the write: end the exec instead of reading the
	 * command's output for ever. Any other failure (a full disk) ends it
	 * too, not to report success with the output cut. */
	if (fd_write_all_wait(stream, data, len) != 0) {
		t->out_errno = errno;
		t->out_stream = stream;
		rc = 1;
	}
	sigprocmask(SIG_SETMASK, &blocked, NULL);
	return rc;
}

/* Pump stdin to the exec and its output to us until the stream ends. 0; 1
 * when our output's reader went away; -1 with *cause (also when writing our
 * output failed otherwise: "stdout: No space left on device"). On 1 and -1
 * the caller hangs the command up (closing a Docker exec's attach does not
 * end it), unless its status has come already (agent_exec_ended). */
static int
cmd_exec_pump(
    const char *prog_name, const sigset_t *wait_mask, struct agent_exec *x, char **cause)
{
	struct cmd_exec_term t = {
		.prog_name = prog_name, .wait_mask = wait_mask, .out_errno = 0
	};
	const struct agent_exec_client c = { cmd_exec_tick, cmd_exec_poll, cmd_exec_input,
		cmd_exec_output, &t, NULL, wait_mask };
	int rc = agent_exec_pump_run(x, &c, cause);

	if (rc == 1 && t.out_errno != 0 && !fd_write_reader_gone(t.out_errno))
		rc = error_set_errno(
		    cause, t.out_errno, "%s", t.out_stream == 1 ? "stdout" : "stderr");
	return rc;
}

/* The pump gave up: SIGHUP to the command (SIGKILL after a grace), which
 * would otherwise run on, blocked on output nobody reads. A failure is added
 * to *cause, or is *cause. */
static void
cmd_exec_hangup(struct agent_exec *x, char **cause)
{
	char *why = NULL, *both;

	if (agent_exec_hangup(x, CMD_EXEC_HANGUP_MS, &why) == 0)
		return;
	if (*cause == NULL) {
		*cause = why;
		return;
	}
	both = xasprintf("%s (and hanging the command up: %s)", *cause, why);
	free(*cause);
	free(why);
	*cause = both;
}

/* Parse exec's argv into *a: 0, or CMD_EXIT_USAGE after printing why (a
 * cleared). */
int
agent_cmd_exec_parse(const struct cmd_program *prog, const struct cmd_entry *entry,
    int argc, char **argv, struct agent_cmd_args *a)
{
	if (agent_cmd_args_parse(prog, entry, argc, argv,
		AGENT_ARG_FOLDER | AGENT_ARG_COMMAND | AGENT_ARG_EXEC_ENV |
		    AGENT_ARG_ID_LABEL | AGENT_ARG_GIT_ROOT | AGENT_ARG_REF_EXEC,
		a) != 0)
		return CMD_EXIT_USAGE;
	if (a->ncommand == 0) {
		agent_cmd_args_clear(a);
		return cmd_usage_error(prog, entry, "no command given");
	}
	return 0;
}

int
agent_cmd_command_meant(int argc, char **argv, int folder_i)
{
	const char *word;

	if (folder_i <= 0 || folder_i >= argc)
		return 0;
	word = argv[folder_i];
	for (int i = folder_i + 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0)
			return 0;
	return strchr(word, '/') == NULL && access(word, F_OK) != 0 && errno == ENOENT;
}

char *
agent_cmd_dashdash_hint(const struct cmd_program *prog, const struct cmd_entry *entry,
    int argc, char **argv, int folder_i)
{
	const char **words = xcalloc((size_t)argc + 3, sizeof *words);
	char *line, *hint;
	int n = 0;

	words[n++] = prog->name;
	words[n++] = entry->name;
	for (int i = 1; i < argc; i++) {
		if (i == folder_i)
			words[n++] = "--";
		words[n++] = argv[i];
	}
	words[n] = NULL;
	line = shell_quote_argv(words, SHELL_QUOTE_HINT);
	hint = xasprintf("did you mean `%s`?", line);
	free(line);
	free(words);
	return hint;
}

int
agent_cmd_exec(const struct agent_backend *be, const struct cmd_program *prog,
    const struct cmd_entry *entry, int argc, char **argv)
{
	struct agent_cmd_args a;
	struct agent_exec_req req = { 0 };
	struct secrets *secrets = NULL;
	char *cause = NULL, *hint;
	int rc;

	if ((rc = agent_cmd_exec_parse(prog, entry, argc, argv, &a)) != 0)
		return rc;
	/* `exec echo hi` in the workspace: no folder "echo" here, so the
	 * command was meant (a usage error, 2; not 125, the command's). */
	if (be->exec == agent_backend_local.exec &&
	    agent_cmd_command_meant(argc, argv, a.folder_i)) {
		hint = agent_cmd_dashdash_hint(prog, entry, argc, argv, a.folder_i);
		rc = cmd_usage_error(prog, entry,
		    "no folder %s here for the workspace (a command goes after "
		    "--): %s",
		    a.folder, hint);
		free(hint);
		agent_cmd_args_clear(&a);
		return rc;
	}
	/* Read here, where the user is: the values travel in the request. */
	if (a.secrets_file != NULL &&
	    secrets_read_file(a.secrets_file, &secrets, &cause) != 0) {
		fprintf(stderr, "%s: exec: %s\n", prog->name, cause);
		free(cause);
		agent_cmd_args_clear(&a);
		return AGENT_EXIT_EXEC_FAILED;
	}
	req.folder = a.folder;
	req.config_file = a.config_file;
	req.command = a.command;
	req.ncommand = a.ncommand;
	req.remote_env = a.remote_env;
	req.id_labels = a.id_labels;
	req.git_root = a.git_root;
	req.common_dir = a.common_dir;
	req.secrets = secrets;
	rc = be->exec(be->ctx, prog->name, &req);
	secrets_free(secrets);
	agent_cmd_args_clear(&a);
	return rc;
}

int
agent_exec_tty(void)
{
	return isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
}

int
agent_exec_local(const char *prog_name, const struct agent_exec_req *req)
{
	struct agent_exec *x = NULL;
	struct termios saved, raw;
	struct winsize ws;
	sigset_t wait_mask;
	char *cause = NULL, *up_cmd;
	int rc = AGENT_EXIT_EXEC_FAILED, tty = agent_exec_tty(), raw_set = 0, code,
	    started;
	unsigned rows = 0, cols = 0;

	/* Catch a resize from here on: one before the exec has started is
	 * applied just after. */
	if (tty) {
		signal(SIGWINCH, cmd_exec_on_winch);
		if (ioctl(0, TIOCGWINSZ, &ws) == 0) {
			rows = ws.ws_row;
			cols = ws.ws_col;
		}
	}
	up_cmd = agent_up_command(prog_name, req->folder, req->config_file);
	started = agent_exec_start(
		      up_cmd, req, tty, getenv("TERM"), rows, cols, &x, &cause) == 0;
	free(up_cmd);
	if (!started)
		goto out;
	if (x->warning != NULL)
		fprintf(stderr, "%s: %s\n", prog_name, x->warning);
	if (x->notice != NULL)
		fprintf(stderr, "%s: %s\n", prog_name, x->notice);
	/* (the handlers first: a signal between raw mode and them left the
	 * terminal raw) */
	cmd_exec_install_signals(&wait_mask);
	if (tty) {
		if (tcgetattr(0, &saved) == 0) {
			raw = saved;
			cfmakeraw(&raw);
			cmd_exec_saved = saved;
			raw_set = tcsetattr(0, TCSANOW, &raw) == 0;
			cmd_exec_raw = raw_set;
		}
	}
	code = cmd_exec_pump(prog_name, &wait_mask, x, &cause);
	sigprocmask(SIG_SETMASK, &wait_mask, NULL);
	if (code != 0) {
		/* A reader gone after the command ended, its status here
		 * already: that status, as the remote route gives (not a
		 * false 141 under pipefail). */
		if (code == 1 && agent_exec_ended(x) &&
		    agent_exec_exit(x, &code, NULL) == 0) {
			rc = code;
			goto out;
		}
		/* As the command would end here, writing to a closed pipe. */
		if (code == 1)
			rc = 128 + SIGPIPE;
		cmd_exec_hangup(x, &cause);
		goto out;
	}
	if (raw_set) {
		tcsetattr(0, TCSANOW, &saved);
		raw_set = 0;
		cmd_exec_raw = 0;
	}
	if (agent_exec_exit(x, &code, &cause) != 0)
		goto out;
	rc = code;
out:
	if (raw_set)
		tcsetattr(0, TCSANOW, &saved);
	secrets_mask_inplace(req->secrets, &cause);
	if (cause != NULL) {
		progress_quiet_show(); /* -q: what explains it */
		fprintf(stderr, "%s: %s: %s\n", prog_name, AGENT_EXEC_VERB(req), cause);
	}
	free(cause);
	agent_exec_free(x);
	return rc;
}
