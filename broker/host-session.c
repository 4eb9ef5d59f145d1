/* host-session.c - one host's SSH session and its client links
 * (host-session.h). */
#include "host-session.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "agent-install.h"
#include "forward.h"
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
	cJSON *req;          /* forward/unforward: the request; NULL: agent */
	struct host_job *next;
};

#define HOST_FORWARD_BUFFER (256u << 10)
#define HOST_POLL_BUSY_MS 50  /* longest wait while any client is linked */
#define HOST_RELAY_MAGIC "RDEVRLY1"
#define HOST_DIRECT_RETRY_MS 5000

/* A forward: local listeners and where their connections go. */
struct host_forward {
	char *workspace, *config;
	char *service;        /* NULL: the dev container, through its relay */
	int port;             /* container/service port */
	int local_port;
	char *label;
	int fd4, fd6;
	/* Where to connect (from the agent's relay op); redone when stale. */
	int have_target;
	char *address;
	int target_port;      /* the relay's port, or the service port */
	unsigned char token[32];
	/* Straight to the container address when the server listens there
	 * (0.0.0.0, ::, that address), as ssh -L goes; else through the relay,
	 * which reaches 127.0.0.1. Tried again this long after a refusal. */
	long long direct_retry_ms;
	unsigned long connections, direct, relayed;
	int active;
	char *auto_action;    /* auto-forwarded: its onAutoForward, else NULL */
	int gone;             /* stopped: drop at the end of this round */
	struct host_forward *next;
};

/* A client spliced to a channel: a `rdev-agent serve` channel for rdev
 * clients, a direct-tcpip channel for forwarded connections. */
struct host_link {
	int fd;
	ssh_channel ch;
	struct buf *to_ch;   /* read from the client, not yet in the channel */
	struct buf *to_cli;  /* read from the channel, not yet sent */
	size_t cap;          /* bound of each buffer */
	struct host_forward *fwd; /* forwarded connection of this forward */
	int relay_wait;      /* the relay's status byte is still to come */
	int cli_eof;         /* forward: the client shut its side */
	int cli_shut;        /* forward: we shut the client's write side */
	int ch_shut;         /* forward: we sent EOF on the channel */
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
	struct host_forward *forwards;  /* changed under lock (status reads) */
	struct host_auto *autos;

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

/* Answer a list of jobs with error and close them. */
static void
host_fail_job_list(struct host_job *j, const char *error)
{
	struct host_job *next;

	for (; j != NULL; j = next) {
		next = j->next;
		host_send_error(j->fd, j->request_id, error);
		close(j->fd);
		cJSON_Delete(j->req);
		free(j);
	}
}

/* Answer every waiting client with error and close them. */
static void
host_fail_jobs(struct host_session *h, const char *error)
{
	struct host_job *j;

	pthread_mutex_lock(&h->lock);
	j = h->jobs;
	h->jobs = NULL;
	pthread_mutex_unlock(&h->lock);
	host_fail_job_list(j, error);
}

/* --- connect and install ------------------------------------------------ */

#define HOST_ASK_TIMEOUT_MS 120000

/* ssh_target_opts.ask: a passphrase or password prompt while connecting goes
 * to the first waiting client as a "prompt" event; its "answer" comes back
 * on the same connection (it sends nothing else while it waits). */
static int
host_ask(void *arg, const char *prompt, int echo, char *buf, size_t len)
{
	struct host_session *h = arg;
	struct buf *in = buf_new();
	unsigned char tmp[4096];
	struct proto_frame f;
	struct pollfd p;
	const cJSON *text;
	cJSON *o, *msg;
	size_t used;
	int fd, id, rc = -1, r;
	ssize_t n;

	pthread_mutex_lock(&h->lock);
	fd = h->jobs != NULL ? h->jobs->fd : -1;
	id = h->jobs != NULL ? h->jobs->request_id : 0;
	pthread_mutex_unlock(&h->lock);
	if (fd < 0)
		goto out;
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "id", id);
	cJSON_AddStringToObject(o, "event", "prompt");
	cJSON_AddStringToObject(o, "text", prompt);
	cJSON_AddBoolToObject(o, "echo", echo);
	host_send_json(fd, PROTO_CONTROL, o);
	cJSON_Delete(o);
	for (;;) {
		while ((r = proto_decode(buf_data(in), buf_len(in), &f, &used, NULL)) == 1) {
			msg = f.type == PROTO_CONTROL ? proto_frame_json(&f, NULL) : NULL;
			buf_consume(in, used);
			if (msg == NULL)
				continue;
			text = cJSON_GetObjectItemCaseSensitive(msg, "text");
			if (cJSON_IsString(text) && strlen(text->valuestring) < len) {
				strcpy(buf, text->valuestring);
				sodium_memzero(text->valuestring, strlen(text->valuestring));
				rc = 0;
			}
			cJSON_Delete(msg);
			goto out;  /* an answer, or a cancel */
		}
		if (r < 0)
			goto out;
		p = (struct pollfd){ .fd = fd, .events = POLLIN };
		if (poll(&p, 1, HOST_ASK_TIMEOUT_MS) <= 0)
			goto out;
		if ((n = read(fd, tmp, sizeof tmp)) <= 0)
			goto out;
		buf_append(in, tmp, (size_t)n);
	}
out:
	sodium_memzero(tmp, sizeof tmp);
	buf_free(in);
	return rc;
}

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
	if (l->fwd != NULL)
		l->fwd->active--;
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
	l->cap = HOST_LINK_BUFFER;
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
		/* All the window takes at once: libssh cuts it into packets and
		 * flushes once, not once per 32 KiB. */
		if (len > win)
			len = win;
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
	while (!l->dead && !l->ch_eof && (len = buf_len(l->to_cli)) < l->cap) {
		room = l->cap - len;
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
		if (l->relay_wait) {
			/* The relay's answer: 0 connected, else refused. */
			l->relay_wait = 0;
			if (tmp[0] != 0) {
				log_info("%s: forward %d: nothing listens on port %d in the "
				    "container", h->label, l->fwd->local_port, l->fwd->port);
				l->dead = 1;
				break;
			}
			buf_append(l->to_cli, tmp + 1, (size_t)n - 1);
			continue;
		}
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
	if (l->ch_eof && buf_len(l->to_cli) == 0) {
		if (l->fwd == NULL)
			l->dead = 1;
		else {
			/* Half close towards the client; done once both are. */
			if (!l->cli_shut) {
				shutdown(l->fd, SHUT_WR);
				l->cli_shut = 1;
			}
			if (l->cli_eof || ssh_channel_is_closed(l->ch))
				l->dead = 1;
		}
	}
	if (l->fwd != NULL && l->cli_eof && buf_len(l->to_ch) == 0 && !l->dead &&
	    !l->ch_eof && ssh_channel_is_open(l->ch) && !l->relay_wait) {
		/* the client's EOF goes on once its data has */
		if (!l->ch_shut) {
			ssh_channel_send_eof(l->ch);
			l->ch_shut = 1;
		}
	}
}

/* The client sent something (or went away). */
static void
host_link_read_client(struct host_link *l)
{
	unsigned char tmp[65536];
	ssize_t n;

	while (!l->cli_eof && buf_len(l->to_ch) < l->cap) {
		n = read(l->fd, tmp, sizeof tmp);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n == 0 && l->fwd != NULL) {
			l->cli_eof = 1;  /* half close: the reply may still come */
			return;
		}
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

/* --- asking the agent (from this thread) --------------------------------- */

/* Run one request on a new `rdev-agent serve` channel and wait for its
 * response (events are skipped). 0 and *result (may be NULL), or -1. */
static int
host_agent_call(struct host_session *h, cJSON *req, cJSON **result, char **cause)
{
	ssh_session ss = rdev_ssh_session(h->ssh);
	const char *argv[] = { h->agent_path, "serve", NULL };
	struct buf *out = buf_new(), *in = buf_new();
	unsigned char tmp[16384];
	struct proto_frame f;
	cJSON *hello, *msg;
	const cJSON *v;
	ssh_channel ch;
	size_t used;
	char *cmd;
	int rc = -1, n, got_hello = 0, r;
	uint32_t version;

	*result = NULL;
	ch = ssh_channel_new(ss);
	cmd = rdev_ssh_quote_argv(argv);
	if (ch == NULL || ssh_channel_open_session(ch) != SSH_OK ||
	    ssh_channel_request_exec(ch, cmd) != SSH_OK) {
		error_set(cause, "%s: cannot run the agent: %s", h->label, ssh_get_error(ss));
		goto out;
	}
	hello = proto_hello_new("rdev-broker " RDEV_VERSION);
	proto_encode_json(out, PROTO_HELLO, 0, hello, NULL);
	cJSON_Delete(hello);
	if (proto_encode_json(out, PROTO_CONTROL, 0, req, cause) != 0)
		goto out;
	if (ssh_channel_write(ch, buf_data(out), (uint32_t)buf_len(out)) !=
	    (int)buf_len(out)) {
		error_set(cause, "%s: writing to the agent: %s", h->label, ssh_get_error(ss));
		goto out;
	}
	for (;;) {
		while ((r = proto_decode(buf_data(in), buf_len(in), &f, &used, cause)) == 1) {
			msg = proto_frame_json(&f, NULL);
			buf_consume(in, used);
			if (msg == NULL)
				continue;
			if (f.type == PROTO_HELLO && !got_hello) {
				got_hello = 1;
				if (proto_hello_negotiate(msg, &version, cause) != 0) {
					cJSON_Delete(msg);
					goto out;
				}
			} else if (f.type == PROTO_FATAL) {
				v = cJSON_GetObjectItemCaseSensitive(msg, "error");
				error_set(cause, "%s: agent: %s", h->label,
				    cJSON_IsString(v) ? v->valuestring : "fatal error");
				cJSON_Delete(msg);
				goto out;
			} else if (f.type == PROTO_CONTROL &&
			    cJSON_GetObjectItemCaseSensitive(msg, "ok") != NULL) {
				v = cJSON_GetObjectItemCaseSensitive(msg, "error");
				if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(msg, "ok"))) {
					*result = cJSON_DetachItemFromObjectCaseSensitive(msg,
					    "result");
					rc = 0;
				} else
					error_set(cause, "%s: %s", h->label,
					    cJSON_IsString(v) ? v->valuestring : "failed");
				cJSON_Delete(msg);
				goto out;
			}
			cJSON_Delete(msg);
		}
		if (r < 0)
			goto out;
		n = ssh_channel_read_timeout(ch, tmp, sizeof tmp, 0, 60000);
		if (n <= 0) {
			error_set(cause, "%s: the agent did not answer", h->label);
			goto out;
		}
		buf_append(in, tmp, (size_t)n);
	}
out:
	if (ch != NULL) {
		if (ssh_channel_is_open(ch)) {
			ssh_channel_send_eof(ch);
			ssh_channel_close(ch);
		}
		ssh_channel_free(ch);
	}
	free(cmd);
	buf_free(out);
	buf_free(in);
	return rc;
}

/* --- forwards ------------------------------------------------------------ */

static int
host_hex_decode(const char *hex, unsigned char *out, size_t len)
{
	size_t i;
	unsigned int b;

	if (hex == NULL || strlen(hex) != len * 2)
		return -1;
	for (i = 0; i < len; i++) {
		if (sscanf(hex + 2 * i, "%2x", &b) != 1)
			return -1;
		out[i] = (unsigned char)b;
	}
	return 0;
}

/* Ask the agent where f's connections go (and start the relay). */
static int
host_forward_resolve(struct host_session *h, struct host_forward *f, char **cause)
{
	cJSON *req = cJSON_CreateObject(), *res = NULL;
	const cJSON *addr, *port, *token;
	int rc;

	cJSON_AddNumberToObject(req, "id", 1);
	cJSON_AddStringToObject(req, "op", "relay");
	cJSON_AddStringToObject(req, "workspace", f->workspace);
	if (f->config != NULL)
		cJSON_AddStringToObject(req, "config", f->config);
	if (f->service != NULL)
		cJSON_AddStringToObject(req, "service", f->service);
	rc = host_agent_call(h, req, &res, cause);
	cJSON_Delete(req);
	if (rc != 0)
		return -1;
	addr = cJSON_GetObjectItemCaseSensitive(res, "address");
	port = cJSON_GetObjectItemCaseSensitive(res, "port");
	token = cJSON_GetObjectItemCaseSensitive(res, "token");
	if (!cJSON_IsString(addr) || (f->service == NULL && (!cJSON_IsNumber(port) ||
	    host_hex_decode(cJSON_IsString(token) ? token->valuestring : NULL, f->token,
	    sizeof f->token) != 0))) {
		cJSON_Delete(res);
		return error_set(cause, "%s: the agent's relay answer is incomplete",
		    h->label);
	}
	free(f->address);
	f->address = xstrdup(addr->valuestring);
	f->target_port = f->service == NULL ? port->valueint : f->port;
	f->have_target = 1;
	cJSON_Delete(res);
	return 0;
}

static ssh_channel
host_open_forward(struct host_session *h, const char *address, int port, int from_port)
{
	ssh_channel ch = ssh_channel_new(rdev_ssh_session(h->ssh));

	if (ch != NULL && ssh_channel_open_forward(ch, address, port, "127.0.0.1",
	    from_port) == SSH_OK)
		return ch;
	if (ch != NULL)
		ssh_channel_free(ch);
	return NULL;
}

/* Open the channel for a connection accepted on f; *relayed says whether it
 * goes through the relay (its header is still to be sent). NULL if it cannot
 * be opened. */
static ssh_channel
host_forward_channel(struct host_session *h, struct host_forward *f, int *relayed)
{
	ssh_channel ch;
	char *cause = NULL;
	int attempt;

	*relayed = 0;
	for (attempt = 0; attempt < 2; attempt++) {
		if (!f->have_target) {
			if (host_forward_resolve(h, f, &cause) != 0) {
				log_warn("forward %d: %s", f->local_port, cause);
				free(cause);
				return NULL;
			}
			f->direct_retry_ms = 0;
		}
		if (f->service == NULL && host_now_ms() >= f->direct_retry_ms) {
			if ((ch = host_open_forward(h, f->address, f->port, f->local_port)) !=
			    NULL) {
				f->direct++;
				return ch;
			}
			/* Not listening there (127.0.0.1 only, or not yet): the relay. */
			f->direct_retry_ms = host_now_ms() + HOST_DIRECT_RETRY_MS;
		}
		if ((ch = host_open_forward(h, f->address, f->target_port, f->local_port)) !=
		    NULL) {
			if (f->service == NULL) {
				*relayed = 1;
				f->relayed++;
			} else
				f->direct++;
			return ch;
		}
		log_info("%s: forward %d: cannot reach %s:%d (%s)%s", h->label,
		    f->local_port, f->address, f->target_port,
		    ssh_get_error(rdev_ssh_session(h->ssh)), attempt == 0 ?
		    "; asking the agent again" : "");
		f->have_target = 0;  /* container restarted, relay gone: ask again */
	}
	return NULL;
}

static void
host_forward_accept(struct host_session *h, struct host_forward *f, int lfd,
    int connected)
{
	struct host_link *l;
	ssh_channel ch;
	int fd, one = 1, relayed;

	while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		if (!connected || (ch = host_forward_channel(h, f, &relayed)) == NULL) {
			/* A closed connection, not a hang, while the host is away. */
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		l = xcalloc(1, sizeof *l);
		l->fd = fd;
		l->ch = ch;
		l->to_ch = buf_new();
		l->to_cli = buf_new();
		l->cap = HOST_FORWARD_BUFFER;
		l->fwd = f;
		if (relayed) {
			unsigned char hdr[8 + 32 + 3];

			memcpy(hdr, HOST_RELAY_MAGIC, 8);
			memcpy(hdr + 8, f->token, 32);
			hdr[40] = 'C';
			hdr[41] = (unsigned char)(f->port >> 8);
			hdr[42] = (unsigned char)(f->port & 0xff);
			buf_append(l->to_ch, hdr, sizeof hdr);
			l->relay_wait = 1;
		}
		f->connections++;
		f->active++;
		l->next = h->links;
		h->links = l;
	}
}

static void
host_forward_free(struct host_forward *f)
{
	if (f->fd4 >= 0)
		close(f->fd4);
	if (f->fd6 >= 0)
		close(f->fd6);
	free(f->workspace);
	free(f->config);
	free(f->service);
	free(f->label);
	free(f->auto_action);
	free(f->address);
	sodium_memzero(f->token, sizeof f->token);
	free(f);
}

/* Drop forwards marked gone (and their connections). */
static void
host_forward_reap(struct host_session *h)
{
	struct host_forward **fp, *f;
	struct host_link *l;
	int any = 0;

	for (f = h->forwards; f != NULL; f = f->next)
		any |= f->gone;
	if (!any)
		return;
	for (l = h->links; l != NULL; l = l->next) {
		if (l->fwd != NULL && l->fwd->gone)
			l->dead = 1;
	}
	host_drop_dead_links(h);
	pthread_mutex_lock(&h->lock);
	fp = &h->forwards;
	while ((f = *fp) != NULL) {
		if (f->gone) {
			*fp = f->next;
			host_forward_free(f);
		} else
			fp = &f->next;
	}
	pthread_mutex_unlock(&h->lock);
}

static const char *
host_json_str(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) && v->valuestring[0] != '\0' ? v->valuestring : NULL;
}

static cJSON *
host_forward_json(const struct host_forward *f)
{
	cJSON *o = cJSON_CreateObject();
	char *spec = forward_spec_string(f->local_port, f->service, f->port);

	cJSON_AddStringToObject(o, "spec", spec);
	free(spec);
	cJSON_AddNumberToObject(o, "local", f->local_port);
	cJSON_AddNumberToObject(o, "port", f->port);
	if (f->service != NULL)
		cJSON_AddStringToObject(o, "service", f->service);
	else
		cJSON_AddNullToObject(o, "service");
	cJSON_AddStringToObject(o, "workspace", f->workspace);
	if (f->label != NULL)
		cJSON_AddStringToObject(o, "label", f->label);
	cJSON_AddStringToObject(o, "listen", f->fd6 >= 0 ? "127.0.0.1,::1" : "127.0.0.1");
	if (f->auto_action != NULL) {
		cJSON_AddStringToObject(o, "onAutoForward", f->auto_action);
		if (strcmp(f->auto_action, "openBrowser") == 0 ||
		    strcmp(f->auto_action, "openBrowserOnce") == 0) {
			char *url = xasprintf("http://localhost:%d/", f->local_port);

			cJSON_AddStringToObject(o, "url", url);
			free(url);
		}
	}
	cJSON_AddNumberToObject(o, "connections", (double)f->connections);
	cJSON_AddNumberToObject(o, "direct", (double)f->direct);
	cJSON_AddNumberToObject(o, "relayed", (double)f->relayed);
	cJSON_AddNumberToObject(o, "active", f->active);
	return o;
}

static int
host_forward_same(const struct host_forward *f, const char *ws, const char *service,
    int port)
{
	return !f->gone && strcmp(f->workspace, ws) == 0 && f->port == port &&
	    ((f->service == NULL && service == NULL) || (f->service != NULL &&
	    service != NULL && strcmp(f->service, service) == 0));
}

/* The forward of ws to [service:]port (at local, or any local port when 0),
 * made if there is none yet. NULL with *cause when no local port can be had. */
static struct host_forward *
host_forward_make(struct host_session *h, const char *ws, const char *config,
    const char *service, int port, int local, int exact, const char *label, char **cause)
{
	struct host_forward *f;
	int bound, fd4, fd6;

	for (f = h->forwards; f != NULL; f = f->next) {
		if (host_forward_same(f, ws, service, port) &&
		    (local == 0 || local == f->local_port))
			return f;
	}
	if (forward_listen(local != 0 ? local : port, exact, &fd4, &fd6, &bound,
	    cause) != 0) {
		error_prefix(cause, "port %d%s%s", port, service != NULL ? " of service " : "",
		    service != NULL ? service : "");
		return NULL;
	}
	f = xcalloc(1, sizeof *f);
	f->workspace = xstrdup(ws);
	f->config = config != NULL ? xstrdup(config) : NULL;
	f->service = service != NULL ? xstrdup(service) : NULL;
	f->port = port;
	f->local_port = bound;
	f->label = label != NULL ? xstrdup(label) : NULL;
	f->fd4 = fd4;
	f->fd6 = fd6;
	pthread_mutex_lock(&h->lock);
	f->next = h->forwards;
	h->forwards = f;
	pthread_mutex_unlock(&h->lock);
	log_info("%s: forwarding 127.0.0.1:%d -> %s:%d", h->label, bound,
	    service != NULL ? service : "container", port);
	return f;
}

/* --- auto-forward: new listening ports in the container ----------------- */

/* A workspace whose container is watched: every second the relay lists the
 * listening TCP ports, and new ones are forwarded as portsAttributes'
 * onAutoForward says (ignore: not; notify, openBrowser, silent...: yes,
 * and the action is shown with the forward). */
struct host_auto {
	char *workspace;
	char *config;
	cJSON *attrs;                /* {"portsAttributes","otherPortsAttributes"} */
	struct host_forward *relay;  /* where the relay is (not a listener) */
	int *done;                   /* ports seen and handled (or ignored) */
	size_t ndone;
	long long next_ms;
	struct host_auto *next;
};

static void
host_auto_free(struct host_auto *a)
{
	free(a->workspace);
	free(a->config);
	cJSON_Delete(a->attrs);
	host_forward_free(a->relay);
	free(a->done);
	free(a);
}

static void
host_auto_add(struct host_session *h, const char *ws, const char *config,
    const cJSON *attrs)
{
	struct host_auto *a;

	for (a = h->autos; a != NULL; a = a->next) {
		if (strcmp(a->workspace, ws) == 0)
			return;
	}
	a = xcalloc(1, sizeof *a);
	a->workspace = xstrdup(ws);
	a->config = config != NULL ? xstrdup(config) : NULL;
	a->attrs = cJSON_Duplicate(attrs, 1);
	a->relay = xcalloc(1, sizeof *a->relay);
	a->relay->fd4 = a->relay->fd6 = -1;
	a->relay->workspace = xstrdup(ws);
	a->relay->config = config != NULL ? xstrdup(config) : NULL;
	a->next = h->autos;
	h->autos = a;
	log_info("%s: watching %s for new ports", h->label, ws);
}

static int
host_auto_done(struct host_auto *a, int port)
{
	for (size_t i = 0; i < a->ndone; i++) {
		if (a->done[i] == port)
			return 1;
	}
	return 0;
}

static void
host_auto_mark(struct host_auto *a, int port)
{
	a->done = xreallocarray(a->done, a->ndone + 1, sizeof *a->done);
	a->done[a->ndone++] = port;
}

/* Ask the relay for its listing ("PORT ADDRESS" lines); a new string. */
static char *
host_auto_listing(struct host_session *h, struct host_auto *a)
{
	unsigned char hdr[8 + 32 + 1], tmp[4096];
	struct buf *b;
	ssh_channel ch;
	char *cause = NULL, *out;
	int n;

	if (!a->relay->have_target && host_forward_resolve(h, a->relay, &cause) != 0) {
		log_info("%s: auto-forward %s: %s", h->label, a->workspace, cause);
		free(cause);
		return NULL;
	}
	ch = host_open_forward(h, a->relay->address, a->relay->target_port, 0);
	if (ch == NULL) {
		a->relay->have_target = 0;  /* restarted container: ask again */
		return NULL;
	}
	memcpy(hdr, HOST_RELAY_MAGIC, 8);
	memcpy(hdr + 8, a->relay->token, 32);
	hdr[40] = 'L';
	b = buf_new();
	if (ssh_channel_write(ch, hdr, sizeof hdr) == (int)sizeof hdr) {
		while ((n = ssh_channel_read_timeout(ch, tmp, sizeof tmp, 0, 2000)) > 0)
			buf_append(b, tmp, (size_t)n);
	}
	ssh_channel_close(ch);
	ssh_channel_free(ch);
	out = buf_take_string(b, NULL);
	buf_free(b);
	return out;
}

static void
host_auto_scan(struct host_session *h, struct host_auto *a)
{
	const cJSON *attrs, *v;
	struct host_forward *f;
	char *list, *line, *save = NULL, *cause = NULL;
	const char *action, *label;
	int port;

	if ((list = host_auto_listing(h, a)) == NULL)
		return;
	for (line = strtok_r(list, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "%d", &port) != 1 || port < 1 || port > 65535 ||
		    host_auto_done(a, port))
			continue;
		for (f = h->forwards; f != NULL; f = f->next) {
			if (host_forward_same(f, a->workspace, NULL, port))
				break;
		}
		host_auto_mark(a, port);
		if (f != NULL)
			continue;  /* forwarded already (forwardPorts, rdev forward) */
		attrs = forward_port_attributes(cJSON_GetObjectItemCaseSensitive(a->attrs,
		    "portsAttributes"), cJSON_GetObjectItemCaseSensitive(a->attrs,
		    "otherPortsAttributes"), port);
		v = cJSON_GetObjectItemCaseSensitive(attrs, "onAutoForward");
		action = cJSON_IsString(v) ? v->valuestring : "notify";
		if (strcmp(action, "ignore") == 0) {
			log_info("%s: port %d of %s: onAutoForward is ignore", h->label, port,
			    a->workspace);
			continue;
		}
		v = cJSON_GetObjectItemCaseSensitive(attrs, "label");
		label = cJSON_IsString(v) ? v->valuestring : NULL;
		f = host_forward_make(h, a->workspace, a->config, NULL, port, 0,
		    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(attrs, "requireLocalPort")),
		    label, &cause);
		if (f == NULL) {
			log_warn("%s: auto-forward: %s", h->label, cause);
			free(cause);
			cause = NULL;
			continue;
		}
		f->auto_action = xstrdup(action);
		log_info("%s: auto-forwarded 127.0.0.1:%d -> container port %d (%s)",
		    h->label, f->local_port, port, action);
	}
	free(list);
}

/* Scan the watched workspaces that are due. */
static void
host_auto_tick(struct host_session *h)
{
	long long now = host_now_ms();

	for (struct host_auto *a = h->autos; a != NULL; a = a->next) {
		if (now < a->next_ms)
			continue;
		host_auto_scan(h, a);
		a->next_ms = host_now_ms() + 1000;
	}
}

/* Stop watching ws (NULL: all). */
static void
host_auto_remove(struct host_session *h, const char *ws)
{
	struct host_auto **ap = &h->autos, *a;

	while ((a = *ap) != NULL) {
		if (ws == NULL || strcmp(a->workspace, ws) == 0) {
			*ap = a->next;
			host_auto_free(a);
		} else
			ap = &a->next;
	}
}

/* A "forward" request: {"workspace","config","forwards":[{"local","port",
 * "service","requireLocal","label"}]} -> {"forwards":[...],"errors":[...]}. */
static void
host_forward_add(struct host_session *h, struct host_job *j)
{
	const char *ws = host_json_str(j->req, "workspace");
	const char *config = host_json_str(j->req, "config");
	const cJSON *e, *list = cJSON_GetObjectItemCaseSensitive(j->req, "forwards");
	cJSON *resp = cJSON_CreateObject(), *res, *done, *errors;
	struct host_forward *f;
	char *cause = NULL;

	cJSON_AddNumberToObject(resp, "id", j->request_id);
	cJSON_AddBoolToObject(resp, "ok", 1);
	res = cJSON_AddObjectToObject(resp, "result");
	done = cJSON_AddArrayToObject(res, "forwards");
	errors = cJSON_AddArrayToObject(res, "errors");
	cJSON_ArrayForEach(e, list) {
		const cJSON *lp = cJSON_GetObjectItemCaseSensitive(e, "local");
		const cJSON *pp = cJSON_GetObjectItemCaseSensitive(e, "port");
		const char *service = host_json_str(e, "service"), *label =
		    host_json_str(e, "label");
		int require = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e,
		    "requireLocal"));
		int local = cJSON_IsNumber(lp) ? lp->valueint : 0;

		if (ws == NULL || !cJSON_IsNumber(pp)) {
			cJSON_AddItemToArray(errors, cJSON_CreateString("a forward needs a "
			    "workspace and a port"));
			continue;
		}
		if ((f = host_forward_make(h, ws, config, service, pp->valueint, local,
		    require || local != 0, label, &cause)) == NULL) {
			cJSON_AddItemToArray(errors, cJSON_CreateString(cause));
			free(cause);
			cause = NULL;
			continue;
		}
		cJSON_AddItemToArray(done, host_forward_json(f));
	}
	/* Start the relay now, so that a problem shows in `up`'s output and the
	 * first connection does not wait for it. */
	for (f = h->forwards; f != NULL; f = f->next) {
		if (f->have_target || f->gone || ws == NULL || strcmp(f->workspace, ws) != 0)
			continue;
		if (host_forward_resolve(h, f, &cause) != 0) {
			cJSON_AddItemToArray(errors, cJSON_CreateString(cause));
			free(cause);
			cause = NULL;
			break;
		}
	}
	if (ws != NULL && cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(j->req, "auto")))
		host_auto_add(h, ws, config, cJSON_GetObjectItemCaseSensitive(j->req, "auto"));
	host_send_json(j->fd, PROTO_CONTROL, resp);
	cJSON_Delete(resp);
}

/* "unforward": {"workspace"?, "local"?} (neither: all) -> {"stopped":N}. */
static void
host_forward_remove(struct host_session *h, struct host_job *j)
{
	const char *ws = host_json_str(j->req, "workspace");
	const cJSON *lp = cJSON_GetObjectItemCaseSensitive(j->req, "local");
	cJSON *resp = cJSON_CreateObject(), *res;
	struct host_forward *f;
	int n = 0;

	for (f = h->forwards; f != NULL; f = f->next) {
		if (f->gone || (ws != NULL && strcmp(f->workspace, ws) != 0) ||
		    (cJSON_IsNumber(lp) && lp->valueint != f->local_port))
			continue;
		f->gone = 1;
		n++;
	}
	if (!cJSON_IsNumber(lp))
		host_auto_remove(h, ws);
	host_forward_reap(h);
	cJSON_AddNumberToObject(resp, "id", j->request_id);
	cJSON_AddBoolToObject(resp, "ok", 1);
	res = cJSON_AddObjectToObject(resp, "result");
	cJSON_AddNumberToObject(res, "stopped", n);
	host_send_json(j->fd, PROTO_CONTROL, resp);
	cJSON_Delete(resp);
}

/* Run a queued job: an agent client (spliced) or a forward request. */
static void
host_run_job(struct host_session *h, struct host_job *j)
{
	const char *op = j->req != NULL ? host_json_str(j->req, "op") : NULL;

	if (op == NULL) {
		host_link_open(h, j);
		return;
	}
	if (strcmp(op, "forward") == 0)
		host_forward_add(h, j);
	else
		host_forward_remove(h, j);
	close(j->fd);
	cJSON_Delete(j->req);
	free(j);
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
	if (h->nclients > 0 || h->jobs != NULL || h->forwards != NULL || h->autos != NULL)
		h->idle_since = time(NULL);
	else if (time(NULL) - h->idle_since >= h->idle_timeout_s) {
		h->ended = 1;
		end = 1;
	}
	pthread_mutex_unlock(&h->lock);
	return end;
}

enum host_end { HOST_END_STOP, HOST_END_IDLE, HOST_END_LOST };

/* Does libssh already hold data (or an EOF) for a link that has room for
 * it? It reads the socket for every channel while serving any one of them,
 * so such data would not wake poll(): do not wait then. */
static int
host_links_pending(struct host_session *h)
{
	for (struct host_link *l = h->links; l != NULL; l = l->next) {
		if (l->dead || l->ch_eof)
			continue;
		if (buf_len(l->to_cli) < l->cap && ssh_channel_poll(l->ch, 0) != 0)
			return 1;
		if (ssh_channel_poll(l->ch, 1) > 0)
			return 1;
	}
	return 0;
}

/* Add the forwards' listeners to the poll set from index i. */
static size_t
host_poll_listeners(struct host_session *h, struct pollfd *pfd, size_t i,
    struct host_forward **fwd_of)
{
	struct host_forward *f;

	for (f = h->forwards; f != NULL; f = f->next) {
		fwd_of[i] = f;
		pfd[i++] = (struct pollfd){ .fd = f->fd4, .events = POLLIN };
		fwd_of[i] = f;
		pfd[i++] = (struct pollfd){ .fd = f->fd6, .events = POLLIN };
	}
	return i;
}

static size_t
host_count_listeners(struct host_session *h)
{
	size_t n = 0;

	for (struct host_forward *f = h->forwards; f != NULL; f = f->next)
		n += 2;
	return n;
}

static enum host_end
host_serve(struct host_session *h)
{
	int ssh_fd = ssh_get_fd(rdev_ssh_session(h->ssh));
	long long last_rx = host_now_ms(), keepalive_ms;
	struct pollfd *pfd = NULL;
	struct host_link *l, **byidx = NULL;
	struct host_job *jobs, *next;
	struct host_forward **fwd_of = NULL;
	size_t n, cap = 0, i, nlinks;
	enum host_end end = HOST_END_STOP;
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
				cJSON_Delete(jobs->req);
				free(jobs);
			}
			break;
		}
		for (; jobs != NULL; jobs = next) {
			next = jobs->next;
			host_run_job(h, jobs);
		}
		for (l = h->links; l != NULL; l = l->next)
			host_link_pump(h, l);
		host_drop_dead_links(h);
		host_auto_tick(h);
		if (host_maybe_end_idle(h)) {
			log_info("%s: idle for %d s, closing", h->label, h->idle_timeout_s);
			end = HOST_END_IDLE;
			break;
		}
		if (host_now_ms() - last_rx >= keepalive_ms) {
			if (rdev_ssh_keepalive(h->ssh, &cause) != 0) {
				log_warn("%s", cause);
				host_set_state(h, "lost", cause);
				free(cause);
				host_close_all_links(h);
				end = HOST_END_LOST;
				break;
			}
			last_rx = host_now_ms();
			continue;  /* the keepalive may have read channel data */
		}
		if (!ssh_is_connected(rdev_ssh_session(h->ssh))) {
			host_set_state(h, "lost", "the connection was closed");
			log_warn("%s: connection closed", h->label);
			host_close_all_links(h);
			end = HOST_END_LOST;
			break;
		}

		n = 2;
		for (l = h->links; l != NULL; l = l->next)
			n++;
		nlinks = n;
		n += host_count_listeners(h);
		if (n > cap) {
			cap = n * 2;
			pfd = xreallocarray(pfd, cap, sizeof *pfd);
			byidx = xreallocarray(byidx, cap, sizeof *byidx);
			fwd_of = xreallocarray(fwd_of, cap, sizeof *fwd_of);
		}
		pfd[0] = (struct pollfd){ .fd = h->wake[0], .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = ssh_fd, .events = POLLIN };
		i = 2;
		for (l = h->links; l != NULL; l = l->next, i++) {
			byidx[i] = l;
			pfd[i] = (struct pollfd){ .fd = l->fd, .events =
			    (!l->cli_eof && buf_len(l->to_ch) < l->cap ? POLLIN : 0) |
			    (buf_len(l->to_cli) > 0 ? POLLOUT : 0) };
		}
		host_poll_listeners(h, pfd, nlinks, fwd_of);
		/* Take in what the socket holds first, so that no channel's data
		 * lands in libssh's buffers after its check; any race left costs at
		 * most HOST_POLL_BUSY_MS. */
		ssh_event_dopoll(ev, 0);
		if (poll(pfd, n, host_links_pending(h) ? 0 : h->links != NULL ?
		    HOST_POLL_BUSY_MS : 1000) < 0 && errno != EINTR) {
			log_error("poll: %s", strerror(errno));
			break;
		}
		if (pfd[1].revents != 0) {
			last_rx = host_now_ms();
			ssh_event_dopoll(ev, 0);
		}
		for (i = 2; i < nlinks; i++) {
			if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
				host_link_read_client(byidx[i]);
		}
		for (i = nlinks; i < n; i++) {
			if (pfd[i].fd >= 0 && (pfd[i].revents & POLLIN))
				host_forward_accept(h, fwd_of[i], pfd[i].fd, 1);
		}
	}
	free(pfd);
	free(byidx);
	free(fwd_of);
	host_close_all_links(h);
	ssh_event_remove_session(ev, rdev_ssh_session(h->ssh));
	ssh_event_free(ev);
	return end;
}

/* The session is lost but forwards remain: keep their listeners (closing
 * what connects meanwhile) and reconnect with capped exponential backoff and
 * jitter. 0 when connected again, -1 when asked to stop. */
static int
host_reconnect(struct host_session *h)
{
	long long delay = 1000, until;
	struct host_forward **fwd_of = NULL;
	struct host_job *jobs, *next;
	struct pollfd *pfd = NULL;
	char *cause = NULL, *state;
	size_t n, i;
	int attempt = 0;

	for (;;) {
		until = host_now_ms() + delay + randombytes_uniform((uint32_t)delay / 2 + 1);
		while (host_now_ms() < until) {
			if (host_take_jobs(h, &jobs)) {
				host_fail_job_list(jobs, "the broker is stopping");
				free(pfd);
				free(fwd_of);
				return -1;
			}
			for (; jobs != NULL; jobs = next) {
				next = jobs->next;
				jobs->next = NULL;
				if (jobs->req != NULL)
					host_run_job(h, jobs);  /* forward changes work offline */
				else
					host_fail_job_list(jobs, "the connection to the host was "
					    "lost; reconnecting (see rdev-broker status)");
			}
			n = 1 + host_count_listeners(h);
			pfd = xreallocarray(pfd, n, sizeof *pfd);
			fwd_of = xreallocarray(fwd_of, n, sizeof *fwd_of);
			pfd[0] = (struct pollfd){ .fd = h->wake[0], .events = POLLIN };
			host_poll_listeners(h, pfd, 1, fwd_of);
			if (poll(pfd, n, (int)(until - host_now_ms()) > 0 ?
			    (int)(until - host_now_ms()) : 0) < 0 && errno != EINTR)
				break;
			for (i = 1; i < n; i++) {
				if (pfd[i].fd >= 0 && (pfd[i].revents & POLLIN))
					host_forward_accept(h, fwd_of[i], pfd[i].fd, 0);
			}
		}
		attempt++;
		rdev_ssh_free(h->ssh);
		h->ssh = rdev_ssh_connect(&h->opts, &cause);
		if (h->ssh != NULL) {
			for (struct host_forward *f = h->forwards; f != NULL; f = f->next)
				f->have_target = 0;
			for (struct host_auto *a = h->autos; a != NULL; a = a->next)
				a->relay->have_target = 0;
			host_set_state(h, "connected", NULL);
			log_info("%s: reconnected after %d attempts", h->label, attempt);
			free(pfd);
			free(fwd_of);
			return 0;
		}
		state = xasprintf("reconnect attempt %d failed: %s", attempt, cause);
		log_warn("%s: %s", h->label, state);
		host_set_state(h, "reconnecting", state);
		free(state);
		free(cause);
		cause = NULL;
		delay = delay * 2 > 30000 ? 30000 : delay * 2;
	}
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
	while (host_serve(h) == HOST_END_LOST && h->forwards != NULL) {
		host_set_state(h, "reconnecting", "the connection was lost");
		if (host_reconnect(h) != 0)
			break;
	}
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
	/* A daemon has no terminal: prompts go to the client (host_ask). */
	h->opts.ask = host_ask;
	h->opts.ask_arg = h;
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
host_session_submit(struct host_session *h, int fd, int request_id, const cJSON *req)
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
	j->req = req != NULL ? cJSON_Duplicate(req, 1) : NULL;
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
	host_auto_remove(h, NULL);
	while (h->forwards != NULL) {
		struct host_forward *f = h->forwards;

		h->forwards = f->next;
		host_forward_free(f);
	}
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
	cJSON *o = cJSON_CreateObject(), *fw;
	struct host_forward *f;

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
	fw = cJSON_AddArrayToObject(o, "forwards");
	for (f = h->forwards; f != NULL; f = f->next) {
		if (!f->gone)
			cJSON_AddItemToArray(fw, host_forward_json(f));
	}
	pthread_mutex_unlock(&h->lock);
	return o;
}
