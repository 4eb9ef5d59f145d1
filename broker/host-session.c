/* host-session.c - one host's SSH session and its client links
 * (host-session.h). */
#include "host-session.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "agent-install.h"
#include "atomic-file.h"
#include "buf.h"
#include "error.h"
#include "log.h"
#include "proto.h"
#include "xmalloc.h"

/* A client connection handed over by the broker, not served yet. */
struct host_job {
	int fd;
	int request_id;
	struct host_job *next;
};

/* A client spliced to a `rdev-agent serve` channel. */
struct host_link {
	int fd;
	ssh_channel ch;
	struct buf *to_ch;   /* read from the client, not yet in the channel */
	struct buf *to_cli;  /* read from the channel, not yet sent */
	int ch_eof;
	int dead;            /* drop at the end of this round */
	struct host_link *next;
};

struct host_session {
	pthread_t thread;
	pthread_mutex_t lock;
	int wake[2];          /* the broker writes a byte to wake the thread */

	/* Copied parameters (the thread reads them without the lock). */
	struct ssh_target_opts opts;
	char *opt_host, *opt_user, *opt_config, *opt_known;
	const struct agent_bundle *bundle;
	int idle_timeout_s;
	char *fixed_agent;

	/* Thread-owned. */
	struct rdev_ssh *ssh;
	char *agent_path;
	struct host_link *links;

	/* Under lock. */
	struct host_job *jobs;
	int stop;
	int ended;
	char *label;
	const char *state;
	char *error;
	int nclients;
	time_t idle_since;
};

static long long
host_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *
host_session_key(const struct ssh_target_opts *o)
{
	return xasprintf("%s\n%s\n%d\n%s\n%s", o->host, o->user != NULL ? o->user : "",
	    o->port, o->ssh_config_file != NULL ? o->ssh_config_file : "",
	    o->known_hosts_file != NULL ? o->known_hosts_file : "");
}

/* --- talking to a client before the splice (its fd is blocking) ---------- */

static void
host_send_json(int fd, enum proto_type type, const cJSON *obj)
{
	struct buf *b = buf_new();

	if (proto_encode_json(b, type, 0, obj, NULL) == 0)
		fd_write_all(fd, buf_data(b), buf_len(b));
	buf_free(b);
}

static void
host_send_progress(int fd, int id, const char *text)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "id", id);
	cJSON_AddStringToObject(o, "event", "progress");
	cJSON_AddStringToObject(o, "text", text);
	host_send_json(fd, PROTO_CONTROL, o);
	cJSON_Delete(o);
}

static void
host_send_error(int fd, int id, const char *error)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "id", id);
	cJSON_AddBoolToObject(o, "ok", 0);
	cJSON_AddStringToObject(o, "error", error);
	host_send_json(fd, PROTO_CONTROL, o);
	cJSON_Delete(o);
}

/* Progress for every client waiting on the connect/install. */
static void
host_progress_all(void *arg, const char *line)
{
	struct host_session *h = arg;
	struct host_job *j;
	char *text = xasprintf("%s\n", line);

	pthread_mutex_lock(&h->lock);
	for (j = h->jobs; j != NULL; j = j->next)
		host_send_progress(j->fd, j->request_id, text);
	pthread_mutex_unlock(&h->lock);
	free(text);
}

static void
host_set_state(struct host_session *h, const char *state, const char *error)
{
	pthread_mutex_lock(&h->lock);
	h->state = state;
	free(h->error);
	h->error = error != NULL ? xstrdup(error) : NULL;
	pthread_mutex_unlock(&h->lock);
}

/* Answer every waiting client with error and close them. */
static void
host_fail_jobs(struct host_session *h, const char *error)
{
	struct host_job *j, *next;

	pthread_mutex_lock(&h->lock);
	j = h->jobs;
	h->jobs = NULL;
	pthread_mutex_unlock(&h->lock);
	for (; j != NULL; j = next) {
		next = j->next;
		host_send_error(j->fd, j->request_id, error);
		close(j->fd);
		free(j);
	}
}

/* --- connect and install ------------------------------------------------ */

static int
host_connect(struct host_session *h, char **cause)
{
	const char *const *notes;
	size_t i, n;

	host_progress_all(h, "connecting to host");
	h->ssh = rdev_ssh_connect(&h->opts, cause);
	if (h->ssh == NULL)
		return -1;
	pthread_mutex_lock(&h->lock);
	free(h->label);
	h->label = xstrdup(rdev_ssh_host_label(h->ssh));
	pthread_mutex_unlock(&h->lock);
	notes = rdev_ssh_notes(h->ssh, &n);
	for (i = 0; i < n; i++) {
		char *line = xasprintf("warning: %s", notes[i]);

		host_progress_all(h, line);
		free(line);
	}
	if (h->fixed_agent != NULL) {
		h->agent_path = xstrdup(h->fixed_agent);
		return 0;
	}
	return agent_install_ensure(h->ssh, h->bundle, &h->agent_path, host_progress_all, h,
	    cause);
}

/* --- links -------------------------------------------------------------- */

static void
host_link_free(struct host_link *l)
{
	if (l->ch != NULL) {
		if (ssh_channel_is_open(l->ch)) {
			ssh_channel_send_eof(l->ch);
			ssh_channel_close(l->ch);
		}
		ssh_channel_free(l->ch);
	}
	if (l->fd >= 0)
		close(l->fd);
	buf_free(l->to_ch);
	buf_free(l->to_cli);
	free(l);
}

/* Open a `rdev-agent serve` channel for a client and answer its request. */
static void
host_link_open(struct host_session *h, struct host_job *j)
{
	ssh_session ss = rdev_ssh_session(h->ssh);
	const char *argv[] = { h->agent_path, "serve", NULL };
	struct host_link *l;
	ssh_channel ch;
	char *cmd, *msg;
	cJSON *o, *res;

	ch = ssh_channel_new(ss);
	if (ch == NULL || ssh_channel_open_session(ch) != SSH_OK) {
		msg = xasprintf("%s: cannot open a channel: %s", h->label, ssh_get_error(ss));
		goto fail;
	}
	cmd = rdev_ssh_quote_argv(argv);
	if (ssh_channel_request_exec(ch, cmd) != SSH_OK) {
		free(cmd);
		msg = xasprintf("%s: cannot run the agent: %s", h->label, ssh_get_error(ss));
		goto fail;
	}
	free(cmd);
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "id", j->request_id);
	cJSON_AddBoolToObject(o, "ok", 1);
	res = cJSON_AddObjectToObject(o, "result");
	cJSON_AddStringToObject(res, "host", h->label);
	cJSON_AddStringToObject(res, "agent", h->agent_path);
	host_send_json(j->fd, PROTO_CONTROL, o);
	cJSON_Delete(o);

	l = xcalloc(1, sizeof *l);
	l->fd = j->fd;
	l->ch = ch;
	l->to_ch = buf_new();
	l->to_cli = buf_new();
	fcntl(l->fd, F_SETFL, fcntl(l->fd, F_GETFL) | O_NONBLOCK);
	l->next = h->links;
	h->links = l;
	free(j);
	return;
fail:
	log_warn("%s", msg);
	host_send_error(j->fd, j->request_id, msg);
	free(msg);
	if (ch != NULL)
		ssh_channel_free(ch);
	close(j->fd);
	free(j);
}

/* Move bytes between the channel and the link's buffers. */
static void
host_link_pump(struct host_session *h, struct host_link *l)
{
	unsigned char tmp[65536];
	uint32_t win;
	size_t len, room;
	int n;

	/* client -> channel, as far as the peer's window allows */
	while ((len = buf_len(l->to_ch)) > 0 && !l->dead) {
		win = ssh_channel_window_size(l->ch);
		if (win == 0)
			break;
		if (len > win)
			len = win;
		if (len > 32768)
			len = 32768;
		n = ssh_channel_write(l->ch, buf_data(l->to_ch), (uint32_t)len);
		if (n == SSH_ERROR) {
			log_warn("%s: channel write: %s", h->label,
			    ssh_get_error(rdev_ssh_session(h->ssh)));
			l->dead = 1;
			break;
		}
		if (n <= 0)
			break;
		buf_consume(l->to_ch, (size_t)n);
	}
	/* channel -> client buffer, up to the bound */
	while (!l->dead && !l->ch_eof && (len = buf_len(l->to_cli)) < HOST_LINK_BUFFER) {
		room = HOST_LINK_BUFFER - len;
		n = ssh_channel_read_nonblocking(l->ch, tmp,
		    (uint32_t)(room < sizeof tmp ? room : sizeof tmp), 0);
		if (n == SSH_EOF || (n == 0 && ssh_channel_is_eof(l->ch))) {
			l->ch_eof = 1;
			break;
		}
		if (n < 0) {
			log_warn("%s: channel read: %s", h->label,
			    ssh_get_error(rdev_ssh_session(h->ssh)));
			l->ch_eof = 1;
			break;
		}
		if (n == 0)
			break;
		buf_append(l->to_cli, tmp, (size_t)n);
	}
	/* the agent's stderr: log lines only */
	while (!l->dead && (n = ssh_channel_read_nonblocking(l->ch, tmp, sizeof tmp - 1,
	    1)) > 0) {
		tmp[n] = '\0';
		log_info("%s: agent: %s", h->label, (char *)tmp);
	}
	/* client buffer -> client */
	while (!l->dead && buf_len(l->to_cli) > 0) {
		ssize_t w = send(l->fd, buf_data(l->to_cli), buf_len(l->to_cli),
		    MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (w < 0) {
			l->dead = 1;  /* the client is gone */
			break;
		}
		buf_consume(l->to_cli, (size_t)w);
	}
	if (l->ch_eof && buf_len(l->to_cli) == 0)
		l->dead = 1;
}

/* The client sent something (or went away). */
static void
host_link_read_client(struct host_link *l)
{
	unsigned char tmp[65536];
	ssize_t n;

	while (buf_len(l->to_ch) < HOST_LINK_BUFFER) {
		n = read(l->fd, tmp, sizeof tmp);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			l->dead = 1;  /* the client ended: the channel goes too */
			return;
		}
		buf_append(l->to_ch, tmp, (size_t)n);
	}
}

static void
host_drop_dead_links(struct host_session *h)
{
	struct host_link **lp = &h->links, *l;

	while ((l = *lp) != NULL) {
		if (l->dead) {
			*lp = l->next;
			host_link_free(l);
		} else
			lp = &l->next;
	}
}

static void
host_close_all_links(struct host_session *h)
{
	struct host_link *l;

	for (l = h->links; l != NULL; l = l->next)
		l->dead = 1;
	host_drop_dead_links(h);
}

/* --- the thread --------------------------------------------------------- */

/* Take the waiting jobs. Returns 1 if asked to stop. */
static int
host_take_jobs(struct host_session *h, struct host_job **jobs)
{
	char c[64];
	int stop;

	while (read(h->wake[0], c, sizeof c) > 0)
		;
	pthread_mutex_lock(&h->lock);
	*jobs = h->jobs;
	h->jobs = NULL;
	stop = h->stop;
	pthread_mutex_unlock(&h->lock);
	return stop;
}

/* End the thread if idle with nothing queued. Returns 1 if it ends. */
static int
host_maybe_end_idle(struct host_session *h)
{
	int end = 0;

	pthread_mutex_lock(&h->lock);
	h->nclients = 0;
	for (struct host_link *l = h->links; l != NULL; l = l->next)
		h->nclients++;
	if (h->nclients > 0 || h->jobs != NULL)
		h->idle_since = time(NULL);
	else if (time(NULL) - h->idle_since >= h->idle_timeout_s) {
		h->ended = 1;
		end = 1;
	}
	pthread_mutex_unlock(&h->lock);
	return end;
}

static void
host_serve(struct host_session *h)
{
	int ssh_fd = ssh_get_fd(rdev_ssh_session(h->ssh));
	long long last_rx = host_now_ms(), keepalive_ms;
	struct pollfd *pfd = NULL;
	struct host_link *l, **byidx = NULL;
	struct host_job *jobs, *next;
	size_t n, cap = 0, i;
	char *cause = NULL;
	ssh_event ev = ssh_event_new();

	/* Lets us process what the server sends while no channel is read
	 * (keepalive requests, window adjusts): ssh_event_dopoll. */
	ssh_event_add_session(ev, rdev_ssh_session(h->ssh));
	keepalive_ms = (long long)rdev_ssh_keepalive_interval(h->ssh) * 1000;
	for (;;) {
		if (host_take_jobs(h, &jobs)) {
			for (; jobs != NULL; jobs = next) {
				next = jobs->next;
				host_send_error(jobs->fd, jobs->request_id, "the broker is "
				    "stopping");
				close(jobs->fd);
				free(jobs);
			}
			break;
		}
		for (; jobs != NULL; jobs = next) {
			next = jobs->next;
			host_link_open(h, jobs);
		}
		for (l = h->links; l != NULL; l = l->next)
			host_link_pump(h, l);
		host_drop_dead_links(h);
		if (host_maybe_end_idle(h)) {
			log_info("%s: idle for %d s, closing", h->label, h->idle_timeout_s);
			break;
		}
		if (host_now_ms() - last_rx >= keepalive_ms) {
			if (rdev_ssh_keepalive(h->ssh, &cause) != 0) {
				log_warn("%s", cause);
				host_set_state(h, "lost", cause);
				free(cause);
				host_close_all_links(h);
				break;
			}
			last_rx = host_now_ms();
			continue;  /* the keepalive may have read channel data */
		}
		if (!ssh_is_connected(rdev_ssh_session(h->ssh))) {
			host_set_state(h, "lost", "the connection was closed");
			log_warn("%s: connection closed", h->label);
			host_close_all_links(h);
			break;
		}

		n = 2;
		for (l = h->links; l != NULL; l = l->next)
			n++;
		if (n > cap) {
			cap = n * 2;
			pfd = xreallocarray(pfd, cap, sizeof *pfd);
			byidx = xreallocarray(byidx, cap, sizeof *byidx);
		}
		pfd[0] = (struct pollfd){ .fd = h->wake[0], .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = ssh_fd, .events = POLLIN };
		i = 2;
		for (l = h->links; l != NULL; l = l->next, i++) {
			byidx[i] = l;
			pfd[i] = (struct pollfd){ .fd = l->fd, .events =
			    (buf_len(l->to_ch) < HOST_LINK_BUFFER ? POLLIN : 0) |
			    (buf_len(l->to_cli) > 0 ? POLLOUT : 0) };
		}
		if (poll(pfd, n, 1000) < 0 && errno != EINTR) {
			log_error("poll: %s", strerror(errno));
			break;
		}
		if (pfd[1].revents != 0) {
			last_rx = host_now_ms();
			ssh_event_dopoll(ev, 0);
		}
		for (i = 2; i < n; i++) {
			if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
				host_link_read_client(byidx[i]);
		}
	}
	free(pfd);
	free(byidx);
	host_close_all_links(h);
	ssh_event_remove_session(ev, rdev_ssh_session(h->ssh));
	ssh_event_free(ev);
}

static void *
host_session_main(void *arg)
{
	struct host_session *h = arg;
	char *cause = NULL;
	struct pollfd p;

	/* Wait for the first client (submit comes right after new). */
	for (;;) {
		pthread_mutex_lock(&h->lock);
		if (h->jobs != NULL || h->stop) {
			pthread_mutex_unlock(&h->lock);
			break;
		}
		pthread_mutex_unlock(&h->lock);
		p = (struct pollfd){ .fd = h->wake[0], .events = POLLIN };
		poll(&p, 1, 1000);
	}
	if (host_connect(h, &cause) != 0) {
		log_warn("%s", cause);
		host_set_state(h, "failed", cause);
		pthread_mutex_lock(&h->lock);
		h->ended = 1;
		pthread_mutex_unlock(&h->lock);
		host_fail_jobs(h, cause);
		free(cause);
		return NULL;
	}
	host_set_state(h, "connected", NULL);
	log_info("%s: connected, agent %s", h->label, h->agent_path);
	host_serve(h);
	pthread_mutex_lock(&h->lock);
	h->ended = 1;
	if (strcmp(h->state, "connected") == 0)
		h->state = "closed";
	pthread_mutex_unlock(&h->lock);
	/* Clients that came while we were ending. */
	host_fail_jobs(h, "the host session ended; try again");
	rdev_ssh_free(h->ssh);
	h->ssh = NULL;
	return NULL;
}

/* --- the broker's side -------------------------------------------------- */

static char *
host_strdup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

struct host_session *
host_session_new(const struct host_session_params *p)
{
	struct host_session *h = xcalloc(1, sizeof *h);

	pthread_mutex_init(&h->lock, NULL);
	if (pipe2(h->wake, O_NONBLOCK | O_CLOEXEC) != 0)
		fatal("pipe: %s", strerror(errno));
	h->opts = p->ssh;
	h->opts.host = h->opt_host = xstrdup(p->ssh.host);
	h->opts.user = h->opt_user = host_strdup_or_null(p->ssh.user);
	h->opts.ssh_config_file = h->opt_config = host_strdup_or_null(p->ssh.ssh_config_file);
	h->opts.known_hosts_file = h->opt_known =
	    host_strdup_or_null(p->ssh.known_hosts_file);
	h->opts.batch = 1;  /* a daemon has no terminal to prompt on */
	h->bundle = p->bundle;
	h->idle_timeout_s = p->idle_timeout_s;
	h->fixed_agent = host_strdup_or_null(p->agent_path);
	h->label = xasprintf("%s%s%s", p->ssh.user != NULL ? p->ssh.user : "",
	    p->ssh.user != NULL ? "@" : "", p->ssh.host);
	h->state = "connecting";
	h->idle_since = time(NULL);
	if (pthread_create(&h->thread, NULL, host_session_main, h) != 0)
		fatal("pthread_create: %s", strerror(errno));
	return h;
}

static void
host_wake(struct host_session *h)
{
	if (write(h->wake[1], "x", 1) < 0) {
		/* full pipe: the thread is awake anyway */
	}
}

int
host_session_submit(struct host_session *h, int fd, int request_id)
{
	struct host_job *j, **jp;

	pthread_mutex_lock(&h->lock);
	if (h->ended || h->stop) {
		pthread_mutex_unlock(&h->lock);
		return -1;
	}
	j = xcalloc(1, sizeof *j);
	j->fd = fd;
	j->request_id = request_id;
	for (jp = &h->jobs; *jp != NULL; jp = &(*jp)->next)
		;
	*jp = j;
	h->idle_since = time(NULL);
	pthread_mutex_unlock(&h->lock);
	host_wake(h);
	return 0;
}

int
host_session_ended(struct host_session *h)
{
	int ended;

	pthread_mutex_lock(&h->lock);
	ended = h->ended;
	pthread_mutex_unlock(&h->lock);
	return ended;
}

void
host_session_stop(struct host_session *h)
{
	pthread_mutex_lock(&h->lock);
	h->stop = 1;
	pthread_mutex_unlock(&h->lock);
	host_wake(h);
}

void
host_session_free(struct host_session *h)
{
	if (h == NULL)
		return;
	host_session_stop(h);
	pthread_join(h->thread, NULL);
	host_fail_jobs(h, "the broker is stopping");
	close(h->wake[0]);
	close(h->wake[1]);
	pthread_mutex_destroy(&h->lock);
	free(h->opt_host);
	free(h->opt_user);
	free(h->opt_config);
	free(h->opt_known);
	free(h->fixed_agent);
	free(h->agent_path);
	free(h->label);
	free(h->error);
	free(h);
}

cJSON *
host_session_status(struct host_session *h)
{
	cJSON *o = cJSON_CreateObject();

	pthread_mutex_lock(&h->lock);
	cJSON_AddStringToObject(o, "host", h->label);
	cJSON_AddStringToObject(o, "state", h->state);
	cJSON_AddNumberToObject(o, "clients", h->nclients);
	cJSON_AddNumberToObject(o, "idleSeconds",
	    h->nclients > 0 ? 0 : (double)(time(NULL) - h->idle_since));
	if (h->error != NULL)
		cJSON_AddStringToObject(o, "error", h->error);
	else
		cJSON_AddNullToObject(o, "error");
	pthread_mutex_unlock(&h->lock);
	return o;
}
