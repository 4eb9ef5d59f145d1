/* serve.c - `rdev-agent serve`: the router, which routes protocol frames
 * between the peer and one worker process per request (serve.h,
 * docs/PROTOCOL.md): its loop, the frames it queues, the workers it forks,
 * cancels and reaps. The peer's frames are read in serve-peer.c, a request
 * runs in serve-job.c (serve-internal.h). */
#include "serve.h"

#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent-cmds.h"
#include "buf-io.h"
#include "buf.h"
#include "clock.h"
#include "log.h"
#include "secrets.h"
#include "proto.h"
#include "serve-internal.h"
#include "serve-listen.h"
#include "xmalloc.h"

/* The SIGCHLD self-pipe: the handler can only write a byte. */
static int serve_sigpipe[2] = { -1, -1 };

static void
serve_on_sigchld(int sig)
{
	int saved = errno;

	(void)sig;
	if (serve_sigpipe[1] >= 0 && write(serve_sigpipe[1], "", 1) < 0) {
		/* full: a wake-up is already pending */
	}
	errno = saved;
}

/* SIGTERM came (serve_opts.end_on_term): end as when the peer goes. */
static volatile sig_atomic_t serve_terminated;

static void
serve_on_sigterm(int sig)
{
	serve_terminated = 1;
	serve_on_sigchld(sig);
}

static void
serve_on_ignored(int sig)
{
	(void)sig;
}

static void
serve_set_nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* Queue one JSON frame; a message too big for a frame becomes an error. */
void
serve_queue_json(struct buf *out, enum proto_type type, uint32_t channel, cJSON *obj)
{
	char *cause = NULL;

	if (proto_encode_json(out, type, channel, obj, &cause) != 0) {
		log_warn("serve: %s", cause);
		free(cause);
	}
}

/* A response {"id":id,"ok":false,"error":msg[,"exitStatus":status]}. */
cJSON *
serve_error_response(const cJSON *id, const char *msg, int status)
{
	cJSON *r = cJSON_CreateObject();

	if (r == NULL)
		fatal("out of memory");
	if (id != NULL)
		cJSON_AddItemToObject(r, "id", cJSON_Duplicate(id, 1));
	else
		cJSON_AddNullToObject(r, "id");
	cJSON_AddBoolToObject(r, "ok", 0);
	cJSON_AddStringToObject(r, "error", msg);
	if (status >= 0)
		cJSON_AddNumberToObject(r, "exitStatus", status);
	return r;
}

void
serve_reply_error(struct buf *out, const cJSON *id, const char *msg, int status)
{
	cJSON *r = serve_error_response(id, msg, status);

	serve_queue_json(out, PROTO_CONTROL, 0, r);
	cJSON_Delete(r);
}

void
serve_reply_result(struct buf *out, const cJSON *id, cJSON *result)
{
	cJSON *r = cJSON_CreateObject();

	if (r == NULL)
		fatal("out of memory");
	cJSON_AddItemToObject(r, "id", cJSON_Duplicate(id, 1));
	cJSON_AddBoolToObject(r, "ok", 1);
	cJSON_AddItemToObject(r, "result", result);
	serve_queue_json(out, PROTO_CONTROL, 0, r);
	cJSON_Delete(r);
}

/* Queue FATAL {"error":msg}; the loop flushes it and ends with exit code 1. */
void
serve_fatal(struct serve *s, const char *msg)
{
	cJSON *o = cJSON_CreateObject();

	log_error("serve: %s", msg);
	cJSON_AddStringToObject(o, "error", msg);
	serve_queue_json(s->out, PROTO_FATAL, 0, o);
	cJSON_Delete(o);
	s->fatal = 1;
}

/* ---- The router: runs in the serve process. --------------------------- */

static void
serve_worker_free(struct serve_worker *w)
{
	if (w == NULL)
		return;
	if (w->fd >= 0)
		close(w->fd);
	buf_free(w->in);
	buf_free(w->out);
	free(w->signals);
	free(w->op);
	free(w);
}

struct serve_worker *
serve_find_id(struct serve *s, double id)
{
	struct serve_worker *w;
	size_t i;

	TAILQ_FOREACH(w, &s->workers, entry) {
		if (w->id == id && !w->answered)
			return w;
		for (i = 0; i < w->nsignals; i++)
			if (w->signals[i] == id)
				return w;
	}
	return NULL;
}

/* The live exec worker whose channel pair holds ch. */
struct serve_worker *
serve_find_channel(struct serve *s, uint32_t ch)
{
	struct serve_worker *w;

	TAILQ_FOREACH(w, &s->workers, entry)
		if (w->kind == SERVE_EXEC && !w->closed &&
		    (ch == w->channel || ch == w->channel + 1))
			return w;
	return NULL;
}

/* Fork the worker for req. The child never returns. */
void
serve_spawn(struct serve *s, cJSON *req, const cJSON *id, const char *op,
    enum serve_kind kind, uint32_t channel)
{
	struct serve_worker *w, *o;
	struct serve_job j;
	struct sigaction sa;
	int sv[2], null;
	pid_t pid, router = getpid();

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		serve_reply_error(s->out, id, strerror(errno),
		    kind == SERVE_EXEC ? AGENT_EXIT_EXEC_FAILED : CMD_EXIT_FAILURE);
		return;
	}
	if ((pid = fork()) < 0) {
		close(sv[0]);
		close(sv[1]);
		serve_reply_error(s->out, id, strerror(errno),
		    kind == SERVE_EXEC ? AGENT_EXIT_EXEC_FAILED : CMD_EXIT_FAILURE);
		return;
	}
	if (pid == 0) {
		/* The worker keeps nothing of the router: not the peer's stream
		 * (stray output must never corrupt it), not other workers. */
		signal(SIGCHLD, SIG_DFL);
		if (kind == SERVE_EXEC) {
			/* A terminal's hangup or ^C that ends the router must
			 * not end an exec worker before it has hung up its
			 * command: it notices the router's end by itself. A
			 * handler, not SIG_IGN, which programs would inherit. */
			memset(&sa, 0, sizeof sa);
			sa.sa_handler = serve_on_ignored;
			sa.sa_flags = SA_RESTART;
			sigemptyset(&sa.sa_mask);
			sigaction(SIGHUP, &sa, NULL);
			sigaction(SIGINT, &sa, NULL);
		} else {
			/* An operation is cancelled as a local one is by ^C:
			 * SIGINT to its process group (serve_cancel), which
			 * must not be ignored even if serve's was. A router
			 * that dies without cancelling (killed) cancels too. */
			setpgid(0, 0);
			signal(SIGINT, SIG_DFL);
			signal(SIGTERM, SIG_DFL);
			if (prctl(PR_SET_PDEATHSIG, SIGINT) == 0 && getppid() != router)
				_exit(0); /* the router is gone already */
		}
		close(sv[0]);
		close(serve_sigpipe[0]);
		close(serve_sigpipe[1]);
		TAILQ_FOREACH(o, &s->workers, entry)
			if (o->fd >= 0)
				close(o->fd);
		if ((null = open("/dev/null", O_RDWR)) >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			if (null > 2)
				close(null);
		}
		if (s->opts->in_fd > 2)
			close(s->opts->in_fd);
		if (s->opts->out_fd > 2)
			close(s->opts->out_fd);
		j.sock = sv[1];
		j.req = req;
		j.id = id;
		serve_job_run(&j, op);
		secrets_request_wipe(req);
		fflush(stderr);
		_exit(0);
	}
	close(sv[1]);
	/* Also here, so that a cancel right away finds the group. */
	if (kind == SERVE_OP)
		setpgid(pid, pid);
	serve_set_nonblock(sv[0]);
	w = xcalloc(1, sizeof *w);
	w->kind = kind;
	w->id = id->valuedouble;
	w->op = xstrdup(op);
	w->channel = channel;
	w->pid = pid;
	w->fd = sv[0];
	w->in = buf_new();
	w->out = buf_new();
	TAILQ_INSERT_TAIL(&s->workers, w, entry);
	log_debug("serve: request %.0f (%s): worker %ld", w->id, op, (long)pid);
}

/* Has w been cancelled (serve_cancel)? */
static int
serve_cancelled(const struct serve_worker *w)
{
	return w->cancel != SERVE_CANCEL_NONE;
}

/* Move w's cancel one step on (serve_cancel_state), sending its signal to
 * the worker's process group; why is said with the SIGINT. */
static void
serve_cancel_set(struct serve_worker *w, enum serve_cancel_state to, const char *why)
{
	if (to != w->cancel + 1)
		fatal("serve: request %.0f: cancel step %d -> %d", w->id, (int)w->cancel,
		    (int)to);
	w->cancel = to;
	switch (to) {
	case SERVE_CANCEL_INT:
		w->kill_at = clock_now_ms() + SERVE_CANCEL_GRACE_MS;
		log_info("serve: request %.0f (%s): cancelled (%s): SIGINT to worker %ld",
		    w->id, w->op, why, (long)w->pid);
		if (kill(-w->pid, SIGINT) != 0 && errno != ESRCH)
			log_warn("serve: request %.0f: kill: %s", w->id, strerror(errno));
		break;
	case SERVE_CANCEL_KILL:
		log_warn("serve: request %.0f (%s): still running %d ms after SIGINT: "
			 "SIGKILL",
		    w->id, w->op, SERVE_CANCEL_GRACE_MS);
		kill(-w->pid, SIGKILL);
		break;
	case SERVE_CANCEL_NONE: break;
	}
}

/* Cancel operation w as ^C cancels a local one: SIGINT to its process group
 * (the worker and what it started), SIGKILL SERVE_CANCEL_GRACE_MS later if
 * anything is left (serve_cancel_tick). The worker dies before it records a
 * lifecycle step as done; its docker connections close, and the lifecycle
 * watchdog in the container ends the step's processes. */
void
serve_cancel(struct serve_worker *w, const char *why)
{
	if (w->kind != SERVE_OP || serve_cancelled(w))
		return;
	serve_cancel_set(w, SERVE_CANCEL_INT, why);
}

/* Is a cancelled worker done with: reaped, and its process group empty (or
 * given up on)? */
static int
serve_cancel_done(const struct serve_worker *w, long long now)
{
	if (!w->reaped)
		return 0;
	if (kill(-w->pid, 0) != 0 && errno == ESRCH)
		return 1;
	return now >= w->kill_at + SERVE_CANCEL_GIVE_UP_MS;
}

/* Send SIGKILL to cancelled groups whose grace is over. Returns the poll
 * timeout the router needs for its cancels: -1 if there are none. */
static int
serve_cancel_tick(struct serve *s)
{
	struct serve_worker *w;
	long long now = clock_now_ms();
	int timeout = -1;

	TAILQ_FOREACH(w, &s->workers, entry) {
		if (!serve_cancelled(w))
			continue;
		if (w->cancel == SERVE_CANCEL_INT && now >= w->kill_at)
			serve_cancel_set(w, SERVE_CANCEL_KILL, NULL);
		timeout = SERVE_CANCEL_TICK_MS;
	}
	return timeout;
}

/* A response m from w: its own final one, or a signal request's. */
static void
serve_worker_answered(struct serve_worker *w, const cJSON *m)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(m, "id");
	size_t i;

	if (!w->answered) {
		w->answered = 1;
		/* A stream refused before it started leaves its channels free
		 * now, not once the worker has been reaped. */
		if (w->kind == SERVE_EXEC &&
		    cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(m, "ok")))
			w->closed = 1;
		return;
	}
	for (i = 0; cJSON_IsNumber(id) && i < w->nsignals; i++) {
		if (w->signals[i] == id->valuedouble) {
			w->signals[i] = w->signals[--w->nsignals];
			return;
		}
	}
}

/* Is f one of the events a worker sends while it works, as serve_job_send
 * prints them: {"id":N,"event":...}? Such a frame is no answer and need not
 * be parsed (an `up` printing millions of lines sends hundreds of MB of
 * them); anything else is. */
static int
serve_frame_is_event(const struct proto_frame *f)
{
	static const char id[] = "{\"id\":", ev[] = ",\"event\":";
	size_t i = sizeof id - 1;

	if (f->len < i || memcmp(f->payload, id, i) != 0)
		return 0;
	while (i < f->len && f->payload[i] >= '0' && f->payload[i] <= '9')
		i++;
	return i > sizeof id - 1 && f->len - i >= sizeof ev - 1 &&
	    memcmp(f->payload + i, ev, sizeof ev - 1) == 0;
}

/* Forward the whole frames that came from w, noting its final answer. */
static void
serve_worker_frames(struct serve *s, struct serve_worker *w)
{
	struct proto_frame f;
	size_t used;
	char *cause = NULL;
	cJSON *m;
	int r;

	while (
	    (r = proto_decode(buf_data(w->in), buf_len(w->in), &f, &used, &cause)) == 1) {
		if (f.type == PROTO_CONTROL && f.channel == 0 &&
		    (!w->answered || w->nsignals > 0) && !serve_frame_is_event(&f) &&
		    (m = proto_frame_json(&f, NULL)) != NULL) {
			if (cJSON_GetObjectItemCaseSensitive(m, "ok") != NULL)
				serve_worker_answered(w, m);
			cJSON_Delete(m);
		} else if (f.type == PROTO_CLOSE && f.channel == w->channel)
			w->closed = 1;
		buf_append(s->out, buf_data(w->in), used);
		buf_consume(w->in, used);
	}
	if (r < 0) {
		/* Our own child wrote garbage: a bug; drop the worker's stream. */
		log_error("serve: worker %ld: %s", (long)w->pid, cause);
		free(cause);
		close(w->fd);
		w->fd = -1;
	}
}

/* Read what w has sent; all of it when drain (the worker has exited). */
static void
serve_worker_read(struct serve *s, struct serve_worker *w, int drain)
{
	unsigned char *p;
	ssize_t n;

	while (w->fd >= 0) {
		p = buf_reserve(w->in, SERVE_READ_SIZE);
		n = read(w->fd, p, SERVE_READ_SIZE);
		if (n > 0) {
			buf_commit(w->in, (size_t)n);
			serve_worker_frames(s, w);
			if (!drain)
				return;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		/* EOF or error: the worker (and whatever it forked) is done. */
		close(w->fd);
		w->fd = -1;
	}
}

/* After the worker has exited: answer for it if it could not, then forget
 * it. */
static void
serve_worker_finish(struct serve *s, struct serve_worker *w)
{
	char *msg;
	cJSON *o, *idj;
	size_t i;

	serve_worker_read(s, w, 1);
	if (serve_cancelled(w))
		msg = xstrdup("cancelled");
	else if (WIFSIGNALED(w->status))
		msg = xasprintf("%s: the agent's worker was killed by signal %d", w->op,
		    WTERMSIG(w->status));
	else
		msg = xasprintf("%s: the agent's worker exited with status %d before "
				"answering",
		    w->op, WEXITSTATUS(w->status));
	if (!w->answered) {
		idj = cJSON_CreateNumber(w->id);
		serve_reply_error(s->out, idj, msg,
		    w->kind == SERVE_EXEC    ? AGENT_EXIT_EXEC_FAILED
			: serve_cancelled(w) ? SERVE_CANCEL_STATUS
					     : CMD_EXIT_FAILURE);
		cJSON_Delete(idj);
	} else if (w->kind == SERVE_EXEC && !w->closed) {
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "error", msg);
		cJSON_AddNumberToObject(o, "status", AGENT_EXIT_EXEC_FAILED);
		serve_queue_json(s->out, PROTO_CLOSE, w->channel, o);
		cJSON_Delete(o);
	}
	free(msg);
	/* Signals it never got to: the exec did not start, or has ended. */
	for (i = 0; i < w->nsignals; i++) {
		idj = cJSON_CreateNumber(w->signals[i]);
		serve_reply_error(s->out, idj, "signal: the command has ended", -1);
		cJSON_Delete(idj);
	}
	TAILQ_REMOVE(&s->workers, w, entry);
	serve_worker_free(w);
}

/* Finish the workers that have exited; a cancelled one once its process
 * group is gone too, so that its "cancelled" means nothing of it runs. */
static void
serve_finish_exited(struct serve *s)
{
	struct serve_worker *w, *next;
	long long now = clock_now_ms();

	for (w = TAILQ_FIRST(&s->workers); w != NULL; w = next) {
		next = TAILQ_NEXT(w, entry);
		if (w->reaped && (!serve_cancelled(w) || serve_cancel_done(w, now)))
			serve_worker_finish(s, w);
	}
}

static void
serve_reap(struct serve *s)
{
	struct serve_worker *w;
	int status;
	pid_t pid;
	char c[64];

	while (read(serve_sigpipe[0], c, sizeof c) > 0)
		continue;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		TAILQ_FOREACH(w, &s->workers, entry) {
			if (w->pid == pid) {
				w->reaped = 1;
				w->status = status;
			}
		}
	}
	serve_finish_exited(s);
}

/* Write what we can of out to fd; -1 when the fd is broken. */
static int
serve_flush(int fd, struct buf *out)
{
	return buf_io_flush(out, fd, 0, NULL);
}

/* Block (up to a few seconds) until out has gone, for the last words. */
static void
serve_flush_final(int fd, struct buf *out)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	int tries = 50;

	while (buf_len(out) > 0 && tries-- > 0) {
		if (serve_flush(fd, out) != 0)
			return;
		if (buf_len(out) > 0)
			poll(&pfd, 1, 100);
	}
}

/* The peer is gone. Each worker sees its socket close: an exec worker hangs
 * up its command (SIGHUP, then SIGKILL) and exits; each running operation is
 * cancelled (serve_cancel: SIGINT, SIGKILL 5 s later). We wait for both, a
 * bounded time. */
static void
serve_end_workers(struct serve *s)
{
	struct serve_worker *w, *next;
	struct pollfd pfd = { .fd = serve_sigpipe[0], .events = POLLIN };
	long long now, deadline = clock_now_ms() + SERVE_EXEC_WAIT_MS;
	int left, status;
	char c[64];

	TAILQ_FOREACH(w, &s->workers, entry) {
		if (w->fd >= 0)
			close(w->fd);
		w->fd = -1;
		if (w->kind == SERVE_OP && !w->reaped)
			serve_cancel(w, "the peer is gone");
	}
	for (;;) {
		serve_cancel_tick(s);
		now = clock_now_ms();
		left = 0;
		TAILQ_FOREACH(w, &s->workers, entry) {
			if (!w->reaped && waitpid(w->pid, &status, WNOHANG) != 0)
				w->reaped = 1;
			if (w->kind == SERVE_EXEC
				? !w->reaped
				: serve_cancelled(w) && !serve_cancel_done(w, now))
				left++;
		}
		if (left == 0 || now >= deadline)
			break;
		poll(&pfd, 1, SERVE_CANCEL_TICK_MS);
		while (read(serve_sigpipe[0], c, sizeof c) > 0)
			continue;
	}
	for (w = TAILQ_FIRST(&s->workers); w != NULL; w = next) {
		next = TAILQ_NEXT(w, entry);
		if (w->kind == SERVE_EXEC && !w->reaped) {
			log_warn(
			    "serve: exec worker %ld did not end: killed", (long)w->pid);
			kill(w->pid, SIGKILL);
			waitpid(w->pid, &status, 0);
		} else if (w->kind == SERVE_OP && !w->reaped) {
			log_warn(
			    "serve: request %.0f (%s): worker %ld did not end: killed",
			    w->id, w->op, (long)w->pid);
			kill(-w->pid, SIGKILL);
			waitpid(w->pid, &status, 0);
		}
		TAILQ_REMOVE(&s->workers, w, entry);
		serve_worker_free(w);
	}
}

int
serve_run(const struct serve_opts *opts)
{
	struct serve s;
	struct serve_worker *w;
	struct sigaction sa, old_sa, old_term;
	struct pollfd *pfd = NULL;
	size_t npfd, i, busy;
	int timeout, in_flags = fcntl(opts->in_fd, F_GETFL),
		     out_flags = fcntl(opts->out_fd, F_GETFL);
	int rc = 0;
	cJSON *hello;

	memset(&s, 0, sizeof s);
	s.opts = opts;
	s.in = buf_new();
	s.out = buf_new();
	TAILQ_INIT(&s.workers);
	if (pipe2(serve_sigpipe, O_CLOEXEC | O_NONBLOCK) != 0)
		fatal("serve: pipe: %s", strerror(errno));
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = serve_on_sigchld;
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, &old_sa);
	serve_terminated = 0;
	if (opts->end_on_term) {
		sa.sa_handler = serve_on_sigterm;
		sigaction(SIGTERM, &sa, &old_term);
	}
	serve_set_nonblock(opts->in_fd);
	serve_set_nonblock(opts->out_fd);

	hello = proto_hello_new(SERVE_SOFTWARE);
	serve_queue_json(s.out, PROTO_HELLO, 0, hello);
	cJSON_Delete(hello);

	while (!s.in_eof && !s.fatal && !serve_terminated) {
		npfd = 0;
		TAILQ_FOREACH(w, &s.workers, entry)
			npfd++;
		pfd = xreallocarray(pfd, npfd + 3, sizeof *pfd);
		busy = 0;
		TAILQ_FOREACH(w, &s.workers, entry)
			if (buf_len(w->out) >= SERVE_HIGH_WATER)
				busy = 1;
		pfd[0] = (struct pollfd){ .fd = serve_sigpipe[0], .events = POLLIN };
		pfd[1] =
		    (struct pollfd){ .fd = busy ? -1 : opts->in_fd, .events = POLLIN };
		pfd[2] = (struct pollfd){ .fd = buf_len(s.out) > 0 ? opts->out_fd : -1,
			.events = POLLOUT };
		i = 3;
		TAILQ_FOREACH(w, &s.workers, entry) {
			pfd[i].fd = w->fd;
			pfd[i].events = (buf_len(s.out) < SERVE_HIGH_WATER ? POLLIN : 0) |
			    (buf_len(w->out) > 0 ? POLLOUT : 0);
			pfd[i].revents = 0;
			i++;
		}
		timeout = serve_cancel_tick(&s);
		if (poll(pfd, npfd + 3, timeout) < 0) {
			if (errno == EINTR)
				continue;
			fatal("serve: poll: %s", strerror(errno));
		}
		if (pfd[2].revents != 0 && serve_flush(opts->out_fd, s.out) != 0) {
			log_info("serve: the peer is gone (write failed)");
			break;
		}
		if (pfd[1].revents != 0)
			serve_peer_read(&s);
		i = 3;
		TAILQ_FOREACH(w, &s.workers, entry) {
			if (i >= npfd + 3)
				break; /* added during this pass */
			if (pfd[i].fd == w->fd && w->fd >= 0) {
				if (pfd[i].revents & POLLOUT &&
				    serve_flush(w->fd, w->out) != 0)
					buf_reset(w->out); /* the worker is gone */
				if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
					serve_worker_read(&s, w, 0);
			}
			i++;
		}
		if (pfd[0].revents != 0)
			serve_reap(&s);
		else if (timeout >= 0)
			serve_finish_exited(&s);
		serve_flush(opts->out_fd, s.out);
	}
	if (s.fatal)
		rc = 1;
	serve_flush_final(opts->out_fd, s.out);

	serve_end_workers(&s);
	sigaction(SIGCHLD, &old_sa, NULL);
	if (opts->end_on_term)
		sigaction(SIGTERM, &old_term, NULL);
	close(serve_sigpipe[0]);
	close(serve_sigpipe[1]);
	serve_sigpipe[0] = serve_sigpipe[1] = -1;
	fcntl(opts->in_fd, F_SETFL, in_flags);
	fcntl(opts->out_fd, F_SETFL, out_flags);
	free(pfd);
	buf_free(s.in);
	buf_free(s.out);
	return rc;
}

int
serve_cmd(int argc, char **argv)
{
	struct serve_opts o = { 0, 1, 0 };

	if (argc == 3 && strcmp(argv[1], "--listen") == 0)
		return serve_listen_run(argv[2]);
	if (argc > 1) {
		fprintf(stderr, "rdev-agent: serve: unexpected argument %s\n", argv[1]);
		return CMD_EXIT_USAGE;
	}
	return serve_run(&o);
}
