/* remote-exec.c - `exec` and `shell` on a remote agent (remote.h): the exec
 * request of docs/PROTOCOL.md, with stdin/stdout/stderr on channels. */
#include "remote.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "atomic-file.h"
#include "error.h"
#include "progress.h"
#include "secrets.h"
#include "xmalloc.h"

#define REMOTE_EXEC_CHANNEL 1
#define REMOTE_EXEC_STDIN_MAX (256u << 10) /* queued stdin before we stop reading */
#define REMOTE_EXIT_FAILED 125

/* Set by signal handlers, read by the loop: the only state a handler may
 * touch. */
static volatile sig_atomic_t remote_exec_winch;
/* Each signal passed on caught since the loop's last look (not one slot:
 * two that came in one wait, as SIGINT and SIGTERM, were one passed on and
 * one lost). */
static volatile sig_atomic_t remote_exec_caught[NSIG];
static const int remote_exec_sigs[] = { SIGTERM, SIGHUP, SIGINT, SIGQUIT };

static void
remote_exec_on_winch(int sig)
{
	remote_exec_winch = 1;
}

static void
remote_exec_on_signal(int sig)
{
	remote_exec_caught[sig] = 1;
}

static const char *
remote_exec_signal_name(int sig)
{
	switch (sig) {
	case SIGINT: return "INT";
	case SIGTERM: return "TERM";
	case SIGHUP: return "HUP";
	case SIGQUIT: return "QUIT";
	default: return NULL;
	}
}

struct remote_exec {
	struct remote *r;
	struct proto_conn *c;
	int exec_id;
	int tty;
	int started;
	int done;
	int status;
	int signals_sent;
	char *error;
	int error_named; /* error names its host already (a FATAL's "host") */
	int out_gone;	 /* our output's reader went away: 141 if no status came */
	int out_errno;	 /* a write of the output failed so (not a reader gone); 0 */
	int out_fd;	 /* ... to this fd: 1 or 2 */
};

static void
remote_exec_queue_control(struct remote_exec *x, cJSON *o)
{
	if (proto_conn_queue_json(x->c, PROTO_CONTROL, 0, o, NULL) != 0) {
		/* a few small fields: cannot be too large */
	}
	secrets_request_wipe(o);
	cJSON_Delete(o);
}

static void
remote_exec_queue_resize(struct remote_exec *x)
{
	struct winsize ws;
	cJSON *o;

	if (ioctl(0, TIOCGWINSZ, &ws) != 0 || ws.ws_row == 0)
		return;
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "id", remote_next_id(x->r));
	cJSON_AddStringToObject(o, "op", "resize");
	cJSON_AddNumberToObject(o, "channel", REMOTE_EXEC_CHANNEL);
	cJSON_AddNumberToObject(o, "rows", ws.ws_row);
	cJSON_AddNumberToObject(o, "cols", ws.ws_col);
	remote_exec_queue_control(x, o);
}

static void
remote_exec_queue_signal(struct remote_exec *x, int sig)
{
	const char *name = remote_exec_signal_name(sig);
	cJSON *o;

	if (name == NULL)
		return;
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "id", remote_next_id(x->r));
	cJSON_AddStringToObject(o, "op", "signal");
	cJSON_AddNumberToObject(o, "channel", REMOTE_EXEC_CHANNEL);
	cJSON_AddStringToObject(o, "signal", name);
	remote_exec_queue_control(x, o);
}

/* A warning of the exec's ("rdev: " label text: label "warning: " when
 * text does not say it is one) on one stderr line (the terminal is raw
 * already with a TTY); -q holds it, an error shows it (progress.h). */
static void
remote_exec_warn(struct remote_exec *x, const char *label, const char *text)
{
	if (progress_quiet()) {
		progress_quiet_keep("rdev: ", 6);
		progress_quiet_keep(label, strlen(label));
		progress_quiet_keep(text, strlen(text));
		progress_quiet_keep("\n", 1);
	} else
		fprintf(stderr, "rdev: %s%s%s", label, text, x->tty ? "\r\n" : "\n");
}

/* The "warnings" of the exec's answer, before the command's output. */
static void
remote_exec_warnings(struct remote_exec *x, const cJSON *msg)
{
	const cJSON *w;

	cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(msg, "warnings")) {
		if (cJSON_IsString(w))
			remote_exec_warn(x, "", w->valuestring);
	}
}

/* Handle one frame from the agent. */
static void
remote_exec_frame(struct remote_exec *x, const struct proto_frame *f)
{
	const cJSON *id, *ok, *v;
	cJSON *msg;
	int fd;

	switch (f->type) {
	case PROTO_DATA:
		if (f->channel != REMOTE_EXEC_CHANNEL &&
		    f->channel != REMOTE_EXEC_CHANNEL + 1)
			return;
		if (x->out_errno != 0 || x->out_gone)
			return; /* (ended: nothing more is written) */
		fd = f->channel == REMOTE_EXEC_CHANNEL ? 1 : 2;
		if (fd_write_all_wait(fd, f->payload, f->len) == 0)
			return;
		/* Nobody reads the output any more (`rdev exec ... | head -1`;
		 * SIGPIPE is ignored here, so the write only fails): end as the
		 * command would here, by SIGPIPE. Ignoring it kept `yes`
		 * running for ever; closing the connection hangs the remote
		 * command up (remote_exec_out_gone). Any other failure (a full
		 * disk) ends it too, not to report success with the output
		 * cut. */
		if (fd_write_reader_gone(errno)) {
			x->out_gone = 1;
			return;
		}
		x->done = 1;
		x->status = REMOTE_EXIT_FAILED;
		x->out_errno = errno;
		x->out_fd = fd;
		return;
	case PROTO_EOF: return;
	case PROTO_CLOSE:
		if (f->channel != REMOTE_EXEC_CHANNEL || x->out_errno != 0)
			return; /* (an output that failed says the status: 125) */
		x->done = 1;
		x->status = REMOTE_EXIT_FAILED;
		if (f->len == 0 || (msg = proto_frame_json(f, NULL)) == NULL)
			return;
		v = cJSON_GetObjectItemCaseSensitive(msg, "status");
		if (cJSON_IsNumber(v))
			x->status = v->valueint;
		v = cJSON_GetObjectItemCaseSensitive(msg, "error");
		if (cJSON_IsString(v))
			x->error = xstrdup(v->valuestring);
		cJSON_Delete(msg);
		return;
	case PROTO_CONTROL:
	case PROTO_FATAL:
		if ((msg = proto_frame_json(f, NULL)) == NULL)
			return;
		v = cJSON_GetObjectItemCaseSensitive(msg, "error");
		if (f->type == PROTO_FATAL) {
			x->done = 1;
			x->status = REMOTE_EXIT_FAILED;
			x->error =
			    xstrdup(cJSON_IsString(v) ? v->valuestring
						      : "the agent ended the session");
			x->error_named =
			    cJSON_IsString(cJSON_GetObjectItemCaseSensitive(msg, "host"));
		} else {
			id = cJSON_GetObjectItemCaseSensitive(msg, "id");
			ok = cJSON_GetObjectItemCaseSensitive(msg, "ok");
			if (cJSON_IsNumber(id) && id->valueint == x->exec_id) {
				if (cJSON_IsTrue(ok)) {
					x->started = 1;
					remote_exec_warnings(x, msg);
				} else if (ok != NULL) {
					const cJSON *st =
					    cJSON_GetObjectItemCaseSensitive(
						msg, "exitStatus");

					x->done = 1;
					x->status = cJSON_IsNumber(st)
					    ? st->valueint
					    : REMOTE_EXIT_FAILED;
					x->error =
					    xstrdup(cJSON_IsString(v) ? v->valuestring
								      : "exec failed");
				}
			} else if (cJSON_IsFalse(ok) && cJSON_IsString(v))
				/* A signal (or resize) the agent could not
				 * deliver: said, not lost in silence
				 * ("rdev: warning: signal: ..."). */
				remote_exec_warn(x, "warning: ", v->valuestring);
		}
		cJSON_Delete(msg);
		return;
	default: return;
	}
}

/* Our output's reader went away: end as SIGPIPE would end the command here
 * (141), unless its exit status has come already (it ended before the write
 * failed: a pipeline's `rdev exec ... | head -1` then sees its own status,
 * not a false failure under pipefail). "Come" is what the loop has read and
 * what waits in the socket now: one read, not a wait. */
static void
remote_exec_out_gone(struct remote_exec *x)
{
	struct proto_frame f;

	proto_conn_read_some(x->c, NULL); /* (EOF or an error: 141 all the same) */
	while (!x->done && proto_conn_next(x->c, &f, NULL) == 1)
		remote_exec_frame(x, &f);
	if (!x->done) {
		x->done = 1;
		x->status = 128 + SIGPIPE;
	}
}

/* Catch the signals passed on and SIGWINCH, and block them but while the
 * loop waits (ppoll with *wait_mask), so one that comes between the loop's
 * look at the flags and the wait is not left until the next output. */
static void
remote_exec_install_signals(sigset_t *wait_mask)
{
	struct sigaction sa, old;
	sigset_t block;

	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = remote_exec_on_winch;
	sigaction(SIGWINCH, &sa, NULL);
	sa.sa_handler = remote_exec_on_signal;
	sigemptyset(&block);
	sigaddset(&block, SIGWINCH);
	/* With a TTY, ^C is a byte for the remote terminal (raw mode: ours
	 * makes no SIGINT); one that comes all the same was sent by a program
	 * (kill, a parent): pass it on too. Left at its default, it ended rdev
	 * with the terminal still raw and the command hung up, not told. One
	 * rdev was started ignoring (nohup's SIGHUP, a script's background
	 * job's SIGINT and SIGQUIT) stays ignored, as client/remote.c leaves
	 * them: caught, it went to the command nohup was to keep running. */
	for (size_t i = 0; i < sizeof remote_exec_sigs / sizeof remote_exec_sigs[0];
	     i++) {
		if (sigaction(remote_exec_sigs[i], NULL, &old) == 0 &&
		    old.sa_handler == SIG_IGN)
			continue;
		sigaction(remote_exec_sigs[i], &sa, NULL);
		sigaddset(&block, remote_exec_sigs[i]);
	}
	sigprocmask(SIG_BLOCK, &block, wait_mask);
}

static int
remote_exec_loop(struct remote_exec *x, const sigset_t *wait_mask, char **cause)
{
	struct proto_frame f;
	struct pollfd pfd[2];
	unsigned char in[65536];
	int stdin_open = 1, rc, fd = proto_conn_fd(x->c), sig;
	ssize_t n;

	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	while (!x->done) {
		if (remote_exec_winch) {
			remote_exec_winch = 0;
			if (x->tty)
				remote_exec_queue_resize(x);
		}
		/* (the signals are blocked here: none comes between look and
		 * clear) */
		for (size_t i = 0;
		     i < sizeof remote_exec_sigs / sizeof remote_exec_sigs[0]; i++) {
			if (!remote_exec_caught[sig = remote_exec_sigs[i]])
				continue;
			remote_exec_caught[sig] = 0;
			if (++x->signals_sent > 2) {
				/* Asked three times: give up on the remote side. */
				x->status = 128 + sig;
				return 0;
			}
			remote_exec_queue_signal(x, sig);
		}
		while ((rc = proto_conn_next(x->c, &f, cause)) == 1 && !x->done)
			remote_exec_frame(x, &f);
		if (rc < 0)
			return -1;
		if (x->out_gone && !x->done)
			remote_exec_out_gone(x);
		if (x->done)
			break;
		if (proto_conn_write_some(x->c, cause) != 0)
			return -1;
		pfd[0] = (struct pollfd){ .fd = stdin_open &&
				proto_conn_pending_out(x->c) < REMOTE_EXEC_STDIN_MAX
			    ? 0
			    : -1,
			.events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = fd,
			.events =
			    POLLIN | (proto_conn_pending_out(x->c) > 0 ? POLLOUT : 0) };
		if (ppoll(pfd, 2, NULL, wait_mask) < 0) {
			if (errno == EINTR)
				continue;
			return error_set_errno(cause, errno, "poll");
		}
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			n = read(0, in, sizeof in);
			if (n > 0)
				proto_conn_queue(
				    x->c, PROTO_DATA, REMOTE_EXEC_CHANNEL, in, (size_t)n);
			else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
				stdin_open = 0;
				if (!x->tty)
					proto_conn_queue(x->c, PROTO_EOF,
					    REMOTE_EXEC_CHANNEL, NULL, 0);
			}
		}
		if (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			rc = proto_conn_read_some(x->c, cause);
			if (rc < 0)
				return -1;
			if (rc == 0) {
				/* Frames read with the last bytes still count. */
				while (!x->done && proto_conn_next(x->c, &f, NULL) == 1)
					remote_exec_frame(x, &f);
				if (x->out_gone && !x->done)
					remote_exec_out_gone(x);
				/* (most often the broker is fine and lost
				 * its SSH session: a killed sshd, a host
				 * gone; do not blame the broker alone) */
				if (!x->done)
					return error_set(cause,
					    "%s: the connection ended before the "
					    "command did (the SSH connection to the "
					    "host was lost, or rdev-broker stopped: "
					    "see `rdev-broker status`); the command "
					    "is hung up",
					    remote_host(x->r));
			}
		}
	}
	return 0;
}

int
remote_exec(struct remote *r, const char *prog_name, const struct agent_exec_req *er)
{
	struct remote_exec x;
	struct termios saved, raw;
	struct winsize ws;
	sigset_t wait_mask;
	const char *term = getenv("TERM");
	char *cause = NULL, *hint;
	cJSON *req, *argv;
	int i, raw_set = 0, rc;

	memset(&x, 0, sizeof x);
	x.r = r;
	x.tty = agent_exec_tty();
	if (remote_connect(r, &cause) != 0) {
		progress_quiet_show(); /* -q: what explains it (ssh config notes) */
		fprintf(stderr, "%s: %s: %s\n", prog_name, AGENT_EXEC_VERB(er), cause);
		free(cause);
		return REMOTE_EXIT_FAILED;
	}
	x.c = remote_conn(r);
	x.exec_id = remote_next_id(r);
	req = cJSON_CreateObject();
	cJSON_AddNumberToObject(req, "id", x.exec_id);
	cJSON_AddStringToObject(req, "op", "exec");
	cJSON_AddStringToObject(req, "workspace", er->folder);
	if (er->config_file != NULL)
		cJSON_AddStringToObject(req, "config", er->config_file);
	if ((hint = remote_up_hint(r, er->config_file)) != NULL)
		cJSON_AddStringToObject(req, "hint", hint);
	free(hint);
	argv = cJSON_AddArrayToObject(req, "command");
	for (i = 0; i < er->ncommand; i++)
		cJSON_AddItemToArray(argv, cJSON_CreateString(er->command[i]));
	if (er->id_labels != NULL)
		cJSON_AddItemToObject(req, "idLabels", cJSON_Duplicate(er->id_labels, 1));
	if (er->remote_env != NULL)
		cJSON_AddItemToObject(
		    req, "remoteEnv", cJSON_Duplicate(er->remote_env, 1));
	workspace_git_root_add(req, er->git_root);
	workspace_common_dir_add(req, er->common_dir);
	if (er->secrets != NULL)
		cJSON_AddItemToObject(req, "secrets", secrets_to_json(er->secrets));
	cJSON_AddBoolToObject(req, "tty", x.tty);
	cJSON_AddNumberToObject(req, "channel", REMOTE_EXEC_CHANNEL);
	if (x.tty) {
		cJSON_AddStringToObject(req, "term", term != NULL ? term : "xterm");
		if (ioctl(0, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0) {
			cJSON_AddNumberToObject(req, "rows", ws.ws_row);
			cJSON_AddNumberToObject(req, "cols", ws.ws_col);
		}
	}
	remote_exec_queue_control(&x, req);
	remote_exec_install_signals(&wait_mask);
	if (x.tty && tcgetattr(0, &saved) == 0) {
		raw = saved;
		cfmakeraw(&raw);
		raw_set = tcsetattr(0, TCSANOW, &raw) == 0;
	}
	rc = remote_exec_loop(&x, &wait_mask, &cause);
	sigprocmask(SIG_SETMASK, &wait_mask, NULL);
	if (raw_set)
		tcsetattr(0, TCSANOW, &saved);
	if (rc != 0) {
		progress_quiet_show();
		fprintf(stderr, "%s: %s: %s\n", prog_name, AGENT_EXEC_VERB(er), cause);
		free(cause);
		free(x.error);
		return REMOTE_EXIT_FAILED;
	}
	if (x.out_errno != 0) /* (this side's output, as the local route says it) */
		fprintf(stderr, "%s: %s: %s: %s\n", prog_name, AGENT_EXEC_VERB(er),
		    x.out_fd == 1 ? "stdout" : "stderr", strerror(x.out_errno));
	secrets_mask_inplace(er->secrets, &x.error);
	if (x.error != NULL)
		progress_quiet_show();
	if (x.error != NULL && x.error_named) /* (the broker's words) */
		fprintf(stderr, "%s: %s: %s\n", prog_name, AGENT_EXEC_VERB(er), x.error);
	else if (x.error != NULL) { /* (the agent's: named by host, as calls are) */
		char *text = remote_error_text(r, x.error);

		fprintf(stderr, "%s: %s: %s: %s\n", prog_name, AGENT_EXEC_VERB(er),
		    remote_host(r), text);
		free(text);
	}
	free(x.error);
	return x.status;
}
