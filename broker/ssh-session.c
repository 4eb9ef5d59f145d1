/* ssh-session.c - an SSH session: options from the ssh config, connect (the
 * host key check: ssh-hostkey.c; authentication: ssh-auth.c), run a
 * command, keepalive (see ssh-session.h). */
#include "ssh-session-internal.h"

#include <sys/mman.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <libssh/callbacks.h>

#include "buf.h"
#include "clock.h"
#include "error.h"
#include "shell-quote.h"
#include "ssh-ciphers.h"
#include "ssh-config.h"
#include "ssh-resolve.h"
#include "xmalloc.h"

/* With ServerAliveCountMax's default of 3: a silent host is dropped 9 s
 * after it was last heard. */
#define RDEV_SSH_DEFAULT_KEEPALIVE 3
#define RDEV_SSH_DEFAULT_TIMEOUT 20

/* --- small helpers ------------------------------------------------------ */

/* path with the home folder shown as "~". The caller frees. */
char *
rdev_ssh_tilde(const char *home, const char *path)
{
	size_t n = strlen(home);

	if (n > 1 && strncmp(path, home, n) == 0 && path[n] == '/')
		return xasprintf("~%s", path + n);
	return xstrdup(path);
}

/* An option string from libssh, copied; NULL if unset. */
char *
rdev_ssh_get_option(ssh_session ss, enum ssh_options_e what)
{
	char *v = NULL, *out;

	if (ssh_options_get(ss, what, &v) != SSH_OK || v == NULL)
		return NULL;
	out = xstrdup(v);
	ssh_string_free_char(v);
	return out;
}

/* --- abort from another thread ------------------------------------------ */

void
rdev_ssh_abort_init(struct rdev_ssh_abort *a)
{
	memset(a, 0, sizeof *a);
	pthread_mutex_init(&a->lock, NULL);
	a->fd = -1;
}

void
rdev_ssh_abort_destroy(struct rdev_ssh_abort *a)
{
	if (a->fd >= 0)
		close(a->fd);
	a->fd = -1;
	pthread_mutex_destroy(&a->lock);
}

void
rdev_ssh_abort(struct rdev_ssh_abort *a)
{
	pthread_mutex_lock(&a->lock);
	a->aborted = 1;
	/* (our dup: the socket is shut for libssh's fd too, and no number
	 * is closed under the connecting thread's feet) */
	if (a->fd >= 0)
		shutdown(a->fd, SHUT_RDWR);
	if (a->pgid > 0)
		kill(-a->pgid, SIGKILL);
	pthread_mutex_unlock(&a->lock);
}

/* Has s's connect been aborted? */
static int
rdev_ssh_aborted(struct rdev_ssh *s)
{
	int aborted;

	if (s->abort == NULL)
		return 0;
	pthread_mutex_lock(&s->abort->lock);
	aborted = s->abort->aborted;
	pthread_mutex_unlock(&s->abort->lock);
	return aborted;
}

static int
rdev_ssh_aborted_fn(void *arg)
{
	return rdev_ssh_aborted(arg);
}

/* Publish s's socket (and its ProxyCommand's group) for rdev_ssh_abort;
 * an abort that came first applies at once. */
static void
rdev_ssh_abort_publish(struct rdev_ssh *s)
{
	struct rdev_ssh_abort *a = s->abort;
	int fd = ssh_get_fd(s->ss);

	if (a == NULL)
		return;
	pthread_mutex_lock(&a->lock);
	if (a->fd < 0 && fd >= 0)
		a->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	a->pgid = s->proxy.pid;
	if (a->aborted) {
		if (a->fd >= 0)
			shutdown(a->fd, SHUT_RDWR);
		if (a->pgid > 0)
			kill(-a->pgid, SIGKILL);
	}
	pthread_mutex_unlock(&a->lock);
}

/* Take back what rdev_ssh_abort_publish published (the connect ends). */
static void
rdev_ssh_abort_unpublish(struct rdev_ssh *s)
{
	struct rdev_ssh_abort *a = s->abort;

	if (a == NULL)
		return;
	pthread_mutex_lock(&a->lock);
	if (a->fd >= 0)
		close(a->fd);
	a->fd = -1;
	a->pgid = 0;
	pthread_mutex_unlock(&a->lock);
}

/* Run s's ProxyCommand (ssh-proxy-command.h) and give libssh its socket:
 * libssh runs none itself. 0, or -1 with *cause. */
static int
rdev_ssh_proxy_start(struct rdev_ssh *s, const char *cmd, const char *host,
    unsigned int port, const char *user, const char *local_user, char **cause)
{
	struct ssh_proxy_escapes e = { .host = host,
		.port = port,
		.user = user,
		.local_user = local_user,
		.home = s->home };
	int fd = ssh_proxy_command_start(&s->proxy, cmd, &e, cause);

	if (fd < 0)
		return error_prefix(cause, "%s", s->prefix);
	ssh_options_set(s->ss, SSH_OPTIONS_FD, &fd);
	ssh_options_set(s->ss, SSH_OPTIONS_PROXYCOMMAND, "none");
	rdev_ssh_abort_publish(s);
	return 0;
}

/* --- connect ------------------------------------------------------------ */

/* TCP keepalive from the SSH keepalive settings, so the kernel notices a
 * dead peer even on an idle session. Not a TCP socket (ProxyCommand): no-op. */
static void
rdev_ssh_tcp_keepalive(struct rdev_ssh *s)
{
	int fd = ssh_get_fd(s->ss), on = 1, idle = s->keepalive, intvl, cnt;
	unsigned int user_timeout;

	if (fd < 0)
		return;
	cnt = s->cfg.server_alive_count_max > 0 ? s->cfg.server_alive_count_max : 3;
	intvl = s->keepalive;
	user_timeout = (unsigned int)(s->keepalive * cnt) * 1000;
	if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on) != 0)
		return;
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl);
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
	setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout, sizeof user_timeout);
}

const char *
rdev_ssh_fail_name(enum ssh_fail fail)
{
	switch (fail) {
	case SSH_FAIL_NONE: break;
	case SSH_FAIL_TIMEOUT: return "timeout";
	case SSH_FAIL_HANDSHAKE: return "handshake-timeout";
	case SSH_FAIL_REFUSED: return "refused";
	case SSH_FAIL_UNREACHABLE: return "unreachable";
	case SSH_FAIL_DNS: return "dns";
	case SSH_FAIL_HOSTKEY: return "hostkey";
	case SSH_FAIL_AUTH: return "auth";
	case SSH_FAIL_PROXY: return "proxy";
	case SSH_FAIL_OTHER: return "other";
	case SSH_FAIL_MOVED: return "moved";
	}
	return NULL;
}

/* Why ssh_connect failed after elapsed_ms of timeout_s. libssh 0.10 keeps
 * no errno: a socket error is in its message as strerror() wrote it (the
 * same strerror, in this process), the resolver's and its own deadline's
 * under fixed words ("Failed to resolve hostname", "Timeout connecting");
 * the time spent tells a deadline apart from whatever its words say. */
static enum ssh_fail
rdev_ssh_connect_fail(const char *msg, long long elapsed_ms, long timeout_s)
{
	if (msg == NULL)
		msg = "";
	if (strstr(msg, "Failed to resolve hostname") != NULL)
		return SSH_FAIL_DNS;
	if (strstr(msg, strerror(ECONNREFUSED)) != NULL)
		return SSH_FAIL_REFUSED;
	if (strstr(msg, strerror(EHOSTUNREACH)) != NULL ||
	    strstr(msg, strerror(ENETUNREACH)) != NULL)
		return SSH_FAIL_UNREACHABLE;
	if (elapsed_ms >= timeout_s * 1000 - 50 ||
	    strstr(msg, "Timeout connecting") != NULL ||
	    strstr(msg, strerror(ETIMEDOUT)) != NULL)
		return SSH_FAIL_TIMEOUT;
	return SSH_FAIL_OTHER;
}

/* Record why the connect failed, in the report when there is one. */
static void
rdev_ssh_set_fail(struct rdev_ssh *s, enum ssh_fail fail)
{
	if (s->report != NULL)
		s->report->fail = fail;
}

/* Has the nonblocking TCP connect on fd completed? (Its end, success or
 * failure, makes fd writable: POLLOUT is waited for until then.) */
static int
rdev_ssh_fd_connected(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;

	return fd < 0 || getpeername(fd, (struct sockaddr *)&ss, &len) == 0;
}

/* Wait in o->wait for the lookup of name (what: "hostname", "bind
 * address") on port. 0 with r and its addresses in *ai (borrowed from *r,
 * which the caller frees, also on failure), or -1 with *cause: the name does
 * not resolve (worded as libssh words it: kind "dns" for the host's name),
 * the lookup could not start, or the wait was abandoned. */
static int
rdev_ssh_lookup(struct rdev_ssh *s, const struct ssh_target_opts *o, const char *name,
    unsigned int port, const char *what, struct ssh_resolve **r,
    const struct addrinfo **ai, char **cause)
{
	int gai_rc;

	if ((*r = ssh_resolve_start(name, port, cause)) == NULL) {
		rdev_ssh_set_fail(s, SSH_FAIL_OTHER);
		return error_prefix(cause, "%s: cannot connect", s->prefix);
	}
	while (!ssh_resolve_result(*r, &gai_rc, ai)) {
		if (o->wait(o->wait_arg, ssh_resolve_fd(*r), POLLIN, 1000) != 0) {
			rdev_ssh_set_fail(s, SSH_FAIL_OTHER);
			return error_set(cause, "%s: connect abandoned", s->prefix);
		}
	}
	if (gai_rc == 0)
		return 0;
	rdev_ssh_set_fail(
	    s, strcmp(what, "hostname") == 0 ? SSH_FAIL_DNS : SSH_FAIL_OTHER);
	return error_set(cause, "%s: cannot connect: Failed to resolve %s %s (%s)",
	    s->prefix, what, name, gai_strerror(gai_rc));
}

/* The kind of a TCP connect's failure, from its errno. */
static enum ssh_fail
rdev_ssh_errno_fail(int err)
{
	switch (err) {
	case ECONNREFUSED: return SSH_FAIL_REFUSED;
	case EHOSTUNREACH:
	case ENETUNREACH: return SSH_FAIL_UNREACHABLE;
	case ETIMEDOUT: return SSH_FAIL_TIMEOUT;
	}
	return SSH_FAIL_OTHER;
}

#define RDEV_TCP_ABANDONED (-1)
#define RDEV_TCP_DEADLINE (-2)

/* Connect fd (nonblocking) to a, waiting in o->wait for its end until
 * timeout_s after t0. 0 when connected, the errno of its failure, or
 * RDEV_TCP_ABANDONED / RDEV_TCP_DEADLINE. */
static int
rdev_ssh_tcp_wait(const struct ssh_target_opts *o, int fd, const struct addrinfo *a,
    long long t0, long timeout_s)
{
	struct pollfd p;
	long long left;
	socklen_t len;
	int err;

	if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
		return 0;
	if (errno != EINPROGRESS)
		return errno;
	for (;;) {
		left = timeout_s * 1000 - (clock_now_ms() - t0);
		if (left <= 0)
			return RDEV_TCP_DEADLINE;
		if (o->wait(o->wait_arg, fd, POLLOUT, left > 1000 ? 1000 : (int)left) !=
		    0)
			return RDEV_TCP_ABANDONED;
		/* (the wait also returns for its caller's own events) */
		p.fd = fd;
		p.events = POLLOUT;
		if (poll(&p, 1, 0) > 0)
			break;
	}
	len = sizeof err;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
		return errno;
	return err;
}

/* The TCP connect to hostname:port, done here rather than in ssh_connect
 * (libssh 0.10 looks the name up there, where nothing can abandon it): the
 * name, and BindAddress when the config gives one, are looked up in
 * lookups o->wait abandons (ssh-resolve.h); each address is then tried in
 * the lookup's order as OpenSSH does, going on to the next after any
 * failure (libssh stopped at a refusal), within timeout_s after t0. The
 * socket is nonblocking, close-on-exec, without Nagle (libssh sets
 * TCP_NODELAY only on a socket it connects) and bound to BindAddress.
 * Returns the connected socket (the caller's), or -1 with *cause and the
 * failure's kind in the report: the last address's error. */
static int
rdev_ssh_tcp_connect(struct rdev_ssh *s, const struct ssh_target_opts *o,
    const char *hostname, unsigned int port, long long t0, long timeout_s, char **cause)
{
	struct ssh_resolve *r = NULL, *rb = NULL;
	const struct addrinfo *ai = NULL, *bai = NULL, *a, *b;
	char addr[NI_MAXHOST], *last = NULL;
	int fd = -1, rc, one = 1;

	if (rdev_ssh_lookup(s, o, hostname, port, "hostname", &r, &ai, cause) != 0)
		goto out;
	if (s->cfg.bind_address != NULL &&
	    rdev_ssh_lookup(
		s, o, s->cfg.bind_address, 0, "bind address", &rb, &bai, cause) != 0)
		goto out;
	rdev_ssh_set_fail(s, SSH_FAIL_OTHER);
	for (a = ai; a != NULL && fd < 0; a = a->ai_next) {
		if (getnameinfo(a->ai_addr, a->ai_addrlen, addr, sizeof addr, NULL, 0,
			NI_NUMERICHOST) != 0)
			snprintf(addr, sizeof addr, "%s", hostname);
		free(last);
		last = NULL;
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
		    a->ai_protocol);
		if (fd < 0) {
			free(last);
			error_set_errno(&last, errno, "%s port %u: socket", addr, port);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		rc = -1;
		for (b = bai; b != NULL && rc != 0; b = b->ai_next) {
			if ((rc = bind(fd, b->ai_addr, b->ai_addrlen)) != 0) {
				free(last);
				error_set_errno(&last, errno, "%s port %u: binding to %s",
				    addr, port, s->cfg.bind_address);
			}
		}
		if (bai != NULL && rc != 0) {
			if (last == NULL)
				error_set(&last, "%s port %u: no address of %s to bind",
				    addr, port, s->cfg.bind_address);
			close(fd);
			fd = -1;
			continue;
		}
		rc = rdev_ssh_tcp_wait(o, fd, a, t0, timeout_s);
		if (rc == 0)
			break;
		close(fd);
		fd = -1;
		if (rc == RDEV_TCP_ABANDONED) {
			rdev_ssh_set_fail(s, SSH_FAIL_OTHER);
			error_set(cause, "%s: connect abandoned", s->prefix);
			goto out;
		}
		if (rc == RDEV_TCP_DEADLINE) {
			rdev_ssh_set_fail(s, SSH_FAIL_TIMEOUT);
			error_set(cause, "%s: cannot connect: Timeout connecting to %s",
			    s->prefix, o->host);
			goto out;
		}
		rdev_ssh_set_fail(s, rdev_ssh_errno_fail(rc));
		free(last);
		error_set(&last, "%s port %u: %s", addr, port, strerror(rc));
	}
	if (fd < 0)
		error_set(cause, "%s: cannot connect: %s", s->prefix,
		    last != NULL ? last : "the name has no address");
	else
		rdev_ssh_set_fail(s, SSH_FAIL_NONE);
out:
	free(last);
	ssh_resolve_free(rb);
	ssh_resolve_free(r);
	return fd;
}

/* Give libssh fd, connected, for the ssh_connect that follows. libssh never
 * closes a socket given so (ssh_disconnect leaves it, ssh_free forgets it):
 * it is s's to close (rdev_ssh_tcp_close, at rdev_ssh_free). 0, or -1 with
 * *cause: fd closed here when fstat fails, else s's already (closed at
 * rdev_ssh_free). libssh must not be left without a socket, or its
 * ssh_connect makes its own, with its own DNS look-up, which no stop can
 * interrupt (the reason the connect is rdev's, rdev_ssh_handshake). */
static int
rdev_ssh_fd_give(struct rdev_ssh *s, int fd, char **cause)
{
	struct stat st;
	int errnum;

	if (fstat(fd, &st) != 0) {
		errnum = errno;
		close(fd);
		rdev_ssh_set_fail(s, SSH_FAIL_OTHER);
		return error_set_errno(
		    cause, errnum, "%s: cannot connect: fstat of its socket", s->prefix);
	}
	s->tcp_fd = fd;
	s->tcp_dev = st.st_dev;
	s->tcp_ino = st.st_ino;
	if (ssh_options_set(s->ss, SSH_OPTIONS_FD, &fd) != 0) {
		rdev_ssh_set_fail(s, SSH_FAIL_OTHER);
		return error_set(cause,
		    "%s: cannot connect: giving libssh its socket: %s", s->prefix,
		    ssh_get_error(s->ss));
	}
	return 0;
}

/* Close the socket rdev_ssh_fd_give gave libssh, if its number is still
 * that socket (libssh may have closed it on an error, and the number be
 * another thread's since). */
static void
rdev_ssh_tcp_close(struct rdev_ssh *s)
{
	struct stat now;

	if (s->tcp_fd < 0)
		return;
	if (fstat(s->tcp_fd, &now) == 0 && now.st_dev == s->tcp_dev &&
	    now.st_ino == s->tcp_ino)
		close(s->tcp_fd);
	s->tcp_fd = -1;
}

/* libssh's error, without the stale errno it appends when a socket just
 * closed ("Socket error: Success"). */
static const char *
rdev_ssh_libssh_error(struct rdev_ssh *s)
{
	const char *msg = ssh_get_error(s->ss), *ok = strerror(0);
	size_t n = strlen(msg), k = strlen(ok);

	if (n >= k && strcmp(msg + n - k, ok) == 0)
		return "the connection closed during the SSH handshake";
	return msg;
}

/* The connect through s's ProxyCommand (or ProxyJump's `ssh -W`) failed:
 * say how the command is and what it said on stderr (libssh's message says
 * only that the socket closed, "Socket error: Success" or "Connection
 * reset by peer"); kind "proxy" when the command has ended. -1 with
 * *cause. */
static int
rdev_ssh_proxy_failed(struct rdev_ssh *s, char **cause)
{
	char *why = ssh_proxy_command_failure(&s->proxy, 1000);
	int ended = strncmp(why, "still running", 13) != 0;

	rdev_ssh_set_fail(s, ended ? SSH_FAIL_PROXY : SSH_FAIL_OTHER);
	if (ended)
		error_set(
		    cause, "%s: cannot connect: the proxy command %s", s->prefix, why);
	else
		error_set(cause, "%s: cannot connect: %s (the proxy command is %s)",
		    s->prefix, rdev_ssh_libssh_error(s), why);
	free(why);
	return -1;
}

/* ssh_connect (TCP, banner, key exchange) within timeout_s, waiting in
 * o->wait between its steps when there is one (ssh-session.h): a stop
 * must not wait for a host that drops our packets, nor for a DNS server
 * that does not answer. Then the TCP connect is ours (rdev_ssh_tcp_connect)
 * and libssh is given its socket, as through a ProxyCommand; its host stays
 * the name, for known_hosts, the key exchange and messages. 0, or -1 with
 * *cause. */
static int
rdev_ssh_handshake(struct rdev_ssh *s, const struct ssh_target_opts *o,
    const char *hostname, unsigned int port, int proxied, long timeout_s, char **cause)
{
	long long t0 = clock_now_ms(), left;
	short events;
	int rc, fd = -1;

	if (o->wait == NULL)
		rc = ssh_connect(s->ss);
	else {
		if (!proxied) {
			fd = rdev_ssh_tcp_connect(
			    s, o, hostname, port, t0, timeout_s, cause);
			if (fd < 0 || rdev_ssh_fd_give(s, fd, cause) != 0)
				return -1;
		}
		ssh_set_blocking(s->ss, 0);
		rc = ssh_connect(s->ss);
		while (rc == SSH_AGAIN) {
			left = timeout_s * 1000 - (clock_now_ms() - t0);
			/* (the TCP connect is done by now when it is ours:
			 * what is missing is the server's SSH) */
			if (left <= 0) {
				rdev_ssh_set_fail(s, SSH_FAIL_HANDSHAKE);
				/* (the banner that came: the key exchange is
				 * what hung; pool-probe's words say which) */
				if (s->report != NULL &&
				    ssh_get_serverbanner(s->ss) != NULL)
					snprintf(s->report->banner,
					    sizeof s->report->banner, "%s",
					    ssh_get_serverbanner(s->ss));
				return error_set(cause,
				    "%s: cannot connect: Timeout connecting to %s%s: "
				    "%s in %ld s",
				    s->prefix, o->host,
				    proxied ? " through the proxy command" : "",
				    ssh_get_serverbanner(s->ss) == NULL
					? "no SSH banner"
					: "the key exchange did not end",
				    timeout_s);
			}
			/* Writability while the TCP connect is under way, and
			 * while libssh holds output it writes only after a
			 * poll saw the socket writable (rdev_ssh_flush). */
			fd = ssh_get_fd(s->ss);
			events = POLLIN;
			if (!rdev_ssh_fd_connected(fd) ||
			    (ssh_get_poll_flags(s->ss) & SSH_WRITE_PENDING))
				events |= POLLOUT;
			if (o->wait(o->wait_arg, fd, events,
				left > 1000 ? 1000 : (int)left) != 0) {
				rdev_ssh_set_fail(s, SSH_FAIL_OTHER);
				return error_set(
				    cause, "%s: connect abandoned", s->prefix);
			}
			rc = ssh_connect(s->ss);
		}
		ssh_set_blocking(s->ss, 1);
	}
	if (rc != SSH_OK && proxied)
		return rdev_ssh_proxy_failed(s, cause);
	if (rc != SSH_OK) {
		rdev_ssh_set_fail(s,
		    rdev_ssh_connect_fail(
			ssh_get_error(s->ss), clock_now_ms() - t0, timeout_s));
		return error_set(
		    cause, "%s: cannot connect: %s", s->prefix, rdev_ssh_libssh_error(s));
	}
	return 0;
}

/* Read the ssh config for o into cfg (initialised): o->ssh_config_file, or
 * ~/.ssh/config then /etc/ssh/ssh_config, with rdev's parser
 * (ssh-config.h), the only one that reads them. 0, or -1 with *cause. */
static int
rdev_ssh_config_read(const struct ssh_target_opts *o, const char *home,
    const char *local_user, struct ssh_config_host *cfg, struct ssh_config_files *files,
    char **cause)
{
	struct ssh_config_ctx ctx;
	char *path;
	int rc;

	ctx.host = o->host;
	ctx.remote_user = o->user;
	ctx.local_user = local_user;
	ctx.home = home;
	if (o->ssh_config_file != NULL)
		return ssh_config_host_read_files(
		    cfg, o->ssh_config_file, &ctx, 0, files, cause);
	path = xasprintf("%s/.ssh/config", home);
	rc = ssh_config_host_read_files(cfg, path, &ctx, 0, files, cause);
	free(path);
	if (rc == 0)
		rc = ssh_config_host_read_files(
		    cfg, "/etc/ssh/ssh_config", &ctx, 1, files, cause);
	return rc;
}

/* Where o goes after cfg: HostName (%h expanded to the alias), else the
 * alias; o's user, else User, else local_user; o's port, else Port, else
 * 22. *hostname and *user are the caller's to free. 0, or -1 with *cause
 * for an unknown %-token in HostName. */
static int
rdev_ssh_config_dest(const struct ssh_target_opts *o, const struct ssh_config_host *cfg,
    const char *home, const char *local_user, char **hostname, char **user,
    unsigned int *port, char **cause)
{
	struct ssh_config_ctx ctx = { o->host, o->user, local_user, home };

	*hostname = xstrdup(o->host);
	if (cfg->hostname != NULL) {
		free(*hostname);
		if ((*hostname = ssh_config_expand(cfg->hostname, &ctx, NULL)) == NULL)
			return error_set(cause,
			    "HostName %s: unknown %%-token (rdev knows %%d %%h "
			    "%%r %%u %%%%)",
			    cfg->hostname);
	}
	*user = xstrdup(o->user != NULL ? o->user
		: cfg->user != NULL	? cfg->user
					: local_user);
	*port = o->port > 0 ? (unsigned int)o->port
	    : cfg->port > 0 ? (unsigned int)cfg->port
			    : 22;
	return 0;
}

/* The key of where cfg takes o (hostname, user, port) and how and as whom
 * (the identities, the agent, PreferredAuthentications, RequiredRSASize,
 * the options libssh applies, among them ProxyCommand/ProxyJump and the
 * known_hosts files), as OpenSSH's
 * ControlPath %r@%h:%p but with all that changes who we are or how we get
 * there. The caller frees. */
static char *
rdev_ssh_dest_key(const struct ssh_target_opts *o, const struct ssh_config_host *cfg,
    const char *hostname, const char *user, unsigned int port)
{
	struct buf *b = buf_new();
	char *key;
	size_t i;

	buf_appendf(b, strchr(hostname, ':') != NULL ? "%s@[%s]:%u\n" : "%s@%s:%u\n",
	    user, hostname, port);
	buf_appendf(b, "%s\n%s\nidentities-only %d\nagent %s\nbind %s\n",
	    o->ssh_config_file != NULL ? o->ssh_config_file : "",
	    o->known_hosts_file != NULL ? o->known_hosts_file : "", cfg->identities_only,
	    cfg->identity_agent != NULL ? cfg->identity_agent : "",
	    cfg->bind_address != NULL ? cfg->bind_address : "");
	for (i = 0; i < cfg->n_identity_files; i++)
		buf_appendf(b, "identity %s\n", cfg->identity_files[i]);
	/* (which methods are tried, and which host keys are refused, change
	 * how we get there as much as the identities do) */
	if (cfg->auth_order_set) {
		buf_appendf(b, "preferred-auth");
		for (i = 0; i < cfg->n_auth_order; i++)
			buf_appendf(b, " %d", cfg->auth_order[i]);
		buf_appendf(b, "\n");
	}
	buf_appendf(b, "required-rsa-size %d\n", cfg->required_rsa_size);
	for (i = 0; i < cfg->n_libssh_lines; i++)
		buf_appendf(b, "%s\n", cfg->libssh_lines[i]);
	key = buf_take_string(b, NULL);
	buf_free(b);
	return key;
}

/* The largest buffer rdev_ssh_passwd gives getpwuid_r: an entry larger
 * than this is taken for garbage. */
#define RDEV_SSH_PW_BUF_MAX (1024 * 1024)

/* uid's name and home folder from the password database, into *name and
 * *dir (the caller frees both). getpwuid_r: the host sessions' threads
 * connect while the broker's loop resolves keys (getpwuid's buffer is
 * static). Its buffer grows while it says ERANGE: an entry with a long
 * GECOS field (or a directory's long list of groups) is over 4 KiB, and a
 * fixed buffer made the user "unknown" (%u, %r and Match localuser wrong).
 * 0, or -1 when uid has no entry or it cannot be read. */
static int
rdev_ssh_passwd(uid_t uid, char **name, char **dir)
{
	struct passwd pwbuf, *pw = NULL;
	long hint = sysconf(_SC_GETPW_R_SIZE_MAX);
	size_t len = hint > 0 && hint <= RDEV_SSH_PW_BUF_MAX ? (size_t)hint : 4096;
	char *buf = xmalloc(len);
	int rc;

	while ((rc = getpwuid_r(uid, &pwbuf, buf, len, &pw)) == ERANGE &&
	    len < RDEV_SSH_PW_BUF_MAX) {
		len *= 2;
		free(buf);
		buf = xmalloc(len);
	}
	if (rc == 0 && pw != NULL) {
		*name = xstrdup(pw->pw_name);
		*dir = xstrdup(pw->pw_dir);
	}
	free(buf);
	return rc == 0 && pw != NULL ? 0 : -1;
}

/* The home folder ($HOME, else pw_dir, else "/") and the local user name
 * (pw_name, else "unknown"), pw_name and pw_dir being NULL when the user has
 * no password entry; the caller frees both. */
static char *
rdev_ssh_who(const char *pw_name, const char *pw_dir, char **local_user)
{
	const char *home = getenv("HOME");

	if (home == NULL || *home == '\0')
		home = pw_dir != NULL ? pw_dir : "/";
	*local_user = xstrdup(pw_name != NULL ? pw_name : "unknown");
	return xstrdup(home);
}

/* rdev_ssh_who for the password entry looked up now. */
static char *
rdev_ssh_whoami(char **local_user)
{
	char *name = NULL, *dir = NULL, *home;

	rdev_ssh_passwd(getuid(), &name, &dir);
	home = rdev_ssh_who(name, dir, local_user);
	free(name);
	free(dir);
	return home;
}

/* rdev_ssh_destination for home and local_user, recording in files
 * (initialised, or NULL) what the read looked at. *resolved is set to
 * whether the config could be read (else the key is "unresolved"). */
static char *
rdev_ssh_destination_read(const struct ssh_target_opts *o, const char *home,
    const char *local_user, struct ssh_config_files *files, int *resolved)
{
	struct ssh_config_host cfg;
	char *hostname = NULL, *user = NULL, *cause = NULL, *key;
	unsigned int port;

	ssh_config_host_init(&cfg);
	*resolved = 0;
	if (rdev_ssh_config_read(o, home, local_user, &cfg, files, &cause) != 0 ||
	    rdev_ssh_config_dest(
		o, &cfg, home, local_user, &hostname, &user, &port, &cause) != 0) {
		/* (the connect reports the error) */
		key = xasprintf("unresolved\n%s\n%s\n%d\n%s\n%s", o->host,
		    o->user != NULL ? o->user : "", o->port,
		    o->ssh_config_file != NULL ? o->ssh_config_file : "",
		    o->known_hosts_file != NULL ? o->known_hosts_file : "");
	} else {
		key = rdev_ssh_dest_key(o, &cfg, hostname, user, port);
		*resolved = 1;
	}
	free(cause);
	free(hostname);
	free(user);
	ssh_config_host_clear(&cfg);
	return key;
}

char *
rdev_ssh_destination(const struct ssh_target_opts *o)
{
	char *local_user, *home = rdev_ssh_whoami(&local_user), *key;
	int resolved;

	key = rdev_ssh_destination_read(o, home, local_user, NULL, &resolved);
	free(local_user);
	free(home);
	return key;
}

/* A kept key: the target it is for (o's fields that the key depends on),
 * who read it, and what the read looked at. */
struct rdev_ssh_dest_entry {
	char *host;
	char *user;
	int port;
	char *ssh_config_file;
	char *known_hosts_file;
	char *home;
	char *local_user;
	struct ssh_config_files files;
	char *key;
	TAILQ_ENTRY(rdev_ssh_dest_entry) entry;
};

struct rdev_ssh_dest_cache {
	TAILQ_HEAD(rdev_ssh_dest_head, rdev_ssh_dest_entry)
	entries; /* most recently used first */
	size_t n;
	int looked_up;	 /* uid's entry was looked up, at pw_at */
	int have_pw;	 /* and found: pw_name and pw_dir are uid's */
	long long pw_at; /* clock_now_ms of the look-up */
	uid_t uid;
	char *pw_name;
	char *pw_dir;
	char *who_user; /* who the last key was read as */
	char *who_home;
	unsigned long reads;
	unsigned long lookups;
};

struct rdev_ssh_dest_cache *
rdev_ssh_dest_cache_new(void)
{
	struct rdev_ssh_dest_cache *c = xcalloc(1, sizeof *c);

	TAILQ_INIT(&c->entries);
	return c;
}

static void
rdev_ssh_dest_entry_free(struct rdev_ssh_dest_entry *e)
{
	free(e->host);
	free(e->user);
	free(e->ssh_config_file);
	free(e->known_hosts_file);
	free(e->home);
	free(e->local_user);
	ssh_config_files_clear(&e->files);
	free(e->key);
	free(e);
}

/* Drop e from c. */
static void
rdev_ssh_dest_cache_drop(struct rdev_ssh_dest_cache *c, struct rdev_ssh_dest_entry *e)
{
	TAILQ_REMOVE(&c->entries, e, entry);
	c->n--;
	rdev_ssh_dest_entry_free(e);
}

void
rdev_ssh_dest_cache_free(struct rdev_ssh_dest_cache *c)
{
	if (c == NULL)
		return;
	while (!TAILQ_EMPTY(&c->entries))
		rdev_ssh_dest_cache_drop(c, TAILQ_FIRST(&c->entries));
	free(c->pw_name);
	free(c->pw_dir);
	free(c->who_user);
	free(c->who_home);
	free(c);
}

unsigned long
rdev_ssh_dest_cache_reads(const struct rdev_ssh_dest_cache *c)
{
	return c->reads;
}

unsigned long
rdev_ssh_dest_cache_lookups(const struct rdev_ssh_dest_cache *c)
{
	return c->lookups;
}

void
rdev_ssh_dest_cache_who(
    const struct rdev_ssh_dest_cache *c, const char **local_user, const char **home)
{
	*local_user = c->who_user;
	*home = c->who_home;
}

/* Are a and b the same string, or both NULL? */
static int
rdev_ssh_same(const char *a, const char *b)
{
	return a == NULL || b == NULL ? a == b : strcmp(a, b) == 0;
}

char *
rdev_ssh_destination_cached(
    struct rdev_ssh_dest_cache *c, const struct ssh_target_opts *o)
{
	return rdev_ssh_destination_cached_at(c, o, clock_now_ms());
}

char *
rdev_ssh_destination_cached_at(
    struct rdev_ssh_dest_cache *c, const struct ssh_target_opts *o, long long now_ms)
{
	struct rdev_ssh_dest_entry *e;
	uid_t uid = getuid();
	char *local_user, *home, *key;
	int resolved;

	/* (a failed look-up is tried again RDEV_SSH_PW_RETRY_MS later, not at
	 * every request: a uid without an entry would cost each one an NSS
	 * round trip) */
	if (!c->looked_up || c->uid != uid ||
	    (!c->have_pw && now_ms - c->pw_at >= RDEV_SSH_PW_RETRY_MS)) {
		free(c->pw_name);
		free(c->pw_dir);
		c->pw_name = c->pw_dir = NULL;
		c->have_pw = rdev_ssh_passwd(uid, &c->pw_name, &c->pw_dir) == 0;
		c->looked_up = 1;
		c->pw_at = now_ms;
		c->uid = uid;
		c->lookups++;
	}
	home = rdev_ssh_who(c->pw_name, c->pw_dir, &local_user);
	free(c->who_user);
	free(c->who_home);
	c->who_user = xstrdup(local_user);
	c->who_home = xstrdup(home);
	TAILQ_FOREACH(e, &c->entries, entry) {
		if (rdev_ssh_same(e->host, o->host) && rdev_ssh_same(e->user, o->user) &&
		    e->port == o->port &&
		    rdev_ssh_same(e->ssh_config_file, o->ssh_config_file) &&
		    rdev_ssh_same(e->known_hosts_file, o->known_hosts_file) &&
		    strcmp(e->home, home) == 0 && strcmp(e->local_user, local_user) == 0)
			break;
	}
	if (e != NULL && !e->files.racy && ssh_config_files_unchanged(&e->files)) {
		TAILQ_REMOVE(&c->entries, e, entry);
		TAILQ_INSERT_HEAD(&c->entries, e, entry);
		free(home);
		free(local_user);
		return xstrdup(e->key);
	}
	if (e != NULL)
		rdev_ssh_dest_cache_drop(c, e);
	e = xcalloc(1, sizeof *e);
	ssh_config_files_init(&e->files);
	c->reads++;
	key = rdev_ssh_destination_read(o, home, local_user, &e->files, &resolved);
	if (!resolved) {
		ssh_config_files_clear(&e->files);
		free(e);
		free(home);
		free(local_user);
		return key;
	}
	e->host = xstrdup(o->host);
	e->user = o->user != NULL ? xstrdup(o->user) : NULL;
	e->port = o->port;
	e->ssh_config_file =
	    o->ssh_config_file != NULL ? xstrdup(o->ssh_config_file) : NULL;
	e->known_hosts_file =
	    o->known_hosts_file != NULL ? xstrdup(o->known_hosts_file) : NULL;
	e->home = home;
	e->local_user = local_user;
	e->key = xstrdup(key);
	TAILQ_INSERT_HEAD(&c->entries, e, entry);
	if (++c->n > RDEV_SSH_DEST_CACHE_MAX)
		rdev_ssh_dest_cache_drop(c, TAILQ_LAST(&c->entries, rdev_ssh_dest_head));
	return key;
}

/* Hand libssh the options it applies itself (s->cfg.libssh_lines: the
 * lines rdev's parser chose for this host, without Host, Match or
 * Include) as a config of their own, through a memfd: libssh 0.10 reads a
 * config only from a file, and parsing the values as it always did (a
 * ProxyJump made into `ssh -W`, RekeyLimit's units, a Ciphers list) keeps
 * their meaning. 0, or -1 with *cause. */
static int
rdev_ssh_libssh_options(struct rdev_ssh *s, char **cause)
{
	struct buf *b;
	char *text, path[64];
	size_t i, len, off;
	ssize_t n;
	int fd, rc;

	if (s->cfg.n_libssh_lines == 0)
		return 0;
	if ((fd = memfd_create("rdev-ssh-config", MFD_CLOEXEC)) < 0)
		return error_set_errno(cause, errno, "%s: ssh config: memfd", s->prefix);
	b = buf_new();
	for (i = 0; i < s->cfg.n_libssh_lines; i++)
		buf_appendf(b, "%s\n", s->cfg.libssh_lines[i]);
	text = buf_take_string(b, &len);
	buf_free(b);
	for (off = 0; off < len; off += (size_t)n) {
		if ((n = write(fd, text + off, len - off)) < 0) {
			free(text);
			close(fd);
			return error_set_errno(
			    cause, errno, "%s: ssh config: memfd", s->prefix);
		}
	}
	free(text);
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	/* libssh skips a config file it cannot open, silently: without /proc
	 * (a chroot, a sandbox) the options, ProxyCommand among them, would be
	 * dropped and the connect go straight to the host */
	if ((rc = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		rc = errno;
		close(fd);
		return error_set_errno(cause, rc,
		    "%s: ssh config: cannot open %s to hand libssh the host's options "
		    "(is /proc mounted?)",
		    s->prefix, path);
	}
	close(rc);
	rc = ssh_options_parse_config(s->ss, path);
	close(fd);
	if (rc != 0)
		return error_set(
		    cause, "%s: ssh config: %s", s->prefix, ssh_get_error(s->ss));
	return 0;
}

/* What rdev sets over the ssh config (read already): o's
 * known_hosts file, strict host key checking, no Nagle, the keepalive and
 * batch mode; returns the connect timeout it set (o's, else the config's
 * ConnectTimeout, else the default), in seconds. */
static long
rdev_ssh_set_options(struct rdev_ssh *s, const struct ssh_target_opts *o)
{
	long timeout;
	int strict = 1, nodelay = 1, verbosity = SSH_LOG_NOLOG;

	/* A LogLevel in the config must not make library code print. */
	ssh_options_set(s->ss, SSH_OPTIONS_LOG_VERBOSITY, &verbosity);
	if (o->known_hosts_file != NULL)
		ssh_options_set(s->ss, SSH_OPTIONS_KNOWNHOSTS, o->known_hosts_file);
	ssh_options_set(s->ss, SSH_OPTIONS_STRICTHOSTKEYCHECK, &strict);
	/* Requests and keystrokes are small: never wait for Nagle. */
	ssh_options_set(s->ss, SSH_OPTIONS_NODELAY, &nodelay);
	/* RequiredRSASize (crypto-policies set 2048); libssh refuses a value
	 * under 768 and defaults to 1024 */
	if (s->cfg.required_rsa_size >= 768)
		ssh_options_set(
		    s->ss, SSH_OPTIONS_RSA_MIN_SIZE, &s->cfg.required_rsa_size);
	timeout = o->connect_timeout_s > 0 ? o->connect_timeout_s
	    : s->cfg.connect_timeout > 0   ? s->cfg.connect_timeout
					   : RDEV_SSH_DEFAULT_TIMEOUT;
	ssh_options_set(s->ss, SSH_OPTIONS_TIMEOUT, &timeout);
	s->keepalive = o->keepalive_interval_s > 0 ? o->keepalive_interval_s
	    : s->cfg.server_alive_interval > 0	   ? s->cfg.server_alive_interval
						   : RDEV_SSH_DEFAULT_KEEPALIVE;
	s->batch = o->batch || s->cfg.batch_mode;
	s->ask = o->ask;
	s->ask_arg = o->ask_arg;
	return timeout;
}

struct rdev_ssh *
rdev_ssh_connect(const struct ssh_target_opts *o, char **cause)
{
	struct rdev_ssh *s;
	const char *home;
	char *local_user, *user = NULL, *hostname = NULL, *proxy = NULL, *key;
	unsigned int port = 22;
	long long t0;
	long timeout;
	int verbosity = SSH_LOG_NOLOG;
	bool no = false;

	if (o->host == NULL || *o->host == '\0') {
		error_set(cause, "no host given");
		return NULL;
	}
	if (o->host[0] == '-') {
		error_set(cause, "host %s: a host may not start with '-'", o->host);
		return NULL;
	}
	s = xcalloc(1, sizeof *s);
	if (o->dest_local_user != NULL && o->dest_home != NULL) {
		local_user = xstrdup(o->dest_local_user);
		home = s->home = xstrdup(o->dest_home);
	} else
		home = s->home = rdev_ssh_whoami(&local_user);
	ssh_proxy_command_init(&s->proxy);
	s->tcp_fd = -1;
	if ((s->report = o->report) != NULL)
		memset(s->report, 0, sizeof *s->report);
	ssh_config_host_init(&s->cfg);
	s->prefix = xasprintf("host %s", o->host);
	if ((s->ss = ssh_new()) == NULL)
		fatal("ssh_new failed");
	ssh_options_set(s->ss, SSH_OPTIONS_LOG_VERBOSITY, &verbosity);
	/* ssh_connect would read ~/.ssh/config itself (once, unless a config
	 * was parsed): rdev's parser is the only reader (ssh-config.h) */
	ssh_options_set(s->ss, SSH_OPTIONS_PROCESS_CONFIG, &no);
	ssh_options_set(s->ss, SSH_OPTIONS_HOST, o->host);

	/*
	 * Prefer AES-GCM (AES-NI makes it several times faster than
	 * chacha20-poly1305 in libssh, and forwards are bulk data); a Ciphers
	 * line in the ssh config, applied next, still wins.
	 */
	ssh_options_set(s->ss, SSH_OPTIONS_CIPHERS_C_S, RDEV_SSH_CIPHERS);
	ssh_options_set(s->ss, SSH_OPTIONS_CIPHERS_S_C, RDEV_SSH_CIPHERS);

	if (rdev_ssh_config_read(o, home, local_user, &s->cfg, NULL, cause) != 0 ||
	    rdev_ssh_config_dest(
		o, &s->cfg, home, local_user, &hostname, &user, &port, cause) != 0) {
		error_prefix(cause, "%s: ssh config", s->prefix);
		goto fail;
	}
	/* (an unresolved key is no destination: a config that could not be
	 * read at submit is read again here, not compared) */
	if (o->dest_key != NULL && strncmp(o->dest_key, "unresolved\n", 11) != 0) {
		key = rdev_ssh_dest_key(o, &s->cfg, hostname, user, port);
		if (strcmp(key, o->dest_key) != 0) {
			free(key);
			rdev_ssh_set_fail(s, SSH_FAIL_MOVED);
			error_set(cause,
			    "%s: the ssh config now takes it elsewhere (%s@%s:%u): "
			    "this session ends, the next command opens one there",
			    s->prefix, user, hostname, port);
			goto fail;
		}
		free(key);
	}
	ssh_options_set(s->ss, SSH_OPTIONS_HOST, hostname);
	ssh_options_set(s->ss, SSH_OPTIONS_USER, user);
	ssh_options_set(s->ss, SSH_OPTIONS_PORT, &port);
	if (rdev_ssh_libssh_options(s, cause) != 0)
		goto fail;
	timeout = rdev_ssh_set_options(s, o);

	proxy = rdev_ssh_get_option(s->ss, SSH_OPTIONS_PROXYCOMMAND);
	s->label = xasprintf("%s@%s:%u", user, o->host, port);
	free(s->prefix);
	s->prefix = xasprintf(strchr(hostname, ':') != NULL ? "host %s ([%s]:%u%s%s)"
							    : "host %s (%s:%u%s%s)",
	    o->host, hostname, port, proxy != NULL ? " via " : "",
	    proxy != NULL ? proxy : "");

	if (s->report != NULL) {
		snprintf(s->report->hostname, sizeof s->report->hostname, "%s", hostname);
		snprintf(s->report->user, sizeof s->report->user, "%s", user);
		s->report->port = port;
		s->report->proxied = proxy != NULL;
		s->report->reached = SSH_STEP_CONNECT;
	}
	s->abort = o->abort;
	if (rdev_ssh_aborted(s)) {
		rdev_ssh_set_fail(s, SSH_FAIL_OTHER);
		error_set(cause, "%s: connect abandoned", s->prefix);
		goto fail;
	}
	if (proxy != NULL &&
	    rdev_ssh_proxy_start(s, proxy, hostname, port, user, local_user, cause) != 0)
		goto fail;
	t0 = clock_now_ms();
	if (rdev_ssh_handshake(s, o, hostname, port, proxy != NULL, timeout, cause) != 0)
		goto fail;
	/* (authentication blocks: an abort shuts the socket down under it) */
	rdev_ssh_abort_publish(s);
	if (s->report != NULL) {
		s->report->connect_ms = clock_now_ms() - t0;
		snprintf(s->report->banner, sizeof s->report->banner, "%s",
		    ssh_get_serverbanner(s->ss) != NULL ? ssh_get_serverbanner(s->ss)
							: "");
		s->report->reached = SSH_STEP_HOSTKEY;
	}
	rdev_ssh_tcp_keepalive(s);
	if (rdev_ssh_verify(s, hostname, (int)port, o->accept_new_host_key, cause) != 0) {
		rdev_ssh_set_fail(s, SSH_FAIL_HOSTKEY);
		goto fail;
	}
	if (s->report != NULL)
		s->report->reached = SSH_STEP_AUTH;
	t0 = clock_now_ms();
	if (rdev_ssh_auth(s, user, hostname, o->auth_sock, cause) != 0) {
		rdev_ssh_set_fail(s, SSH_FAIL_AUTH);
		goto fail;
	}
	if (s->report != NULL) {
		s->report->auth_ms = clock_now_ms() - t0;
		s->report->reached = SSH_STEP_DONE;
	}
	rdev_ssh_abort_unpublish(s);
	free(local_user);
	free(user);
	free(hostname);
	free(proxy);
	return s;

fail:
	if (s->report != NULL && s->report->fail == SSH_FAIL_NONE)
		s->report->fail = SSH_FAIL_OTHER;
	rdev_ssh_abort_unpublish(s);
	/* (nothing to wait for: the client hears of the failure at once) */
	ssh_proxy_command_end(&s->proxy, 1, NULL, NULL);
	free(local_user);
	free(user);
	free(hostname);
	free(proxy);
	rdev_ssh_free(s);
	return NULL;
}

void
rdev_ssh_free(struct rdev_ssh *s)
{
	if (s == NULL)
		return;
	if (s->ss != NULL) {
		if (ssh_is_connected(s->ss))
			ssh_disconnect(s->ss);
		ssh_free(s->ss);
	}
	rdev_ssh_tcp_close(s);
	ssh_proxy_command_close(&s->proxy);
	/* (its socket closed with the session) */
	/* (a stop during its SIGTERM grace kills it at once) */
	ssh_proxy_command_end(&s->proxy, rdev_ssh_aborted(s), rdev_ssh_aborted_fn, s);
	ssh_config_host_clear(&s->cfg);
	free(s->window_scratch);
	free(s->label);
	free(s->prefix);
	free(s->home);
	free(s);
}

ssh_session
rdev_ssh_session(struct rdev_ssh *s)
{
	return s->ss;
}

const char *
rdev_ssh_host_label(const struct rdev_ssh *s)
{
	return s->label;
}

const char *
rdev_ssh_prefix(const struct rdev_ssh *s)
{
	return s->prefix;
}

const char *const *
rdev_ssh_notes(const struct rdev_ssh *s, size_t *n)
{
	*n = s->cfg.n_notes;
	return (const char *const *)s->cfg.notes;
}

const char *const *
rdev_ssh_system_notes(const struct rdev_ssh *s, size_t *n)
{
	*n = s->cfg.n_system_notes;
	return (const char *const *)s->cfg.system_notes;
}

int
rdev_ssh_keepalive_interval(const struct rdev_ssh *s)
{
	return s->keepalive;
}

/* --- running commands --------------------------------------------------- */

/* Signal names in exit-signal messages (RFC 4254 6.10), for 128 + N. */
static int
rdev_ssh_signal_number(const char *name)
{
	static const struct {
		const char *name;
		int sig;
	} sigs[] = {
		{ "ABRT", SIGABRT },
		{ "ALRM", SIGALRM },
		{ "FPE", SIGFPE },
		{ "HUP", SIGHUP },
		{ "ILL", SIGILL },
		{ "INT", SIGINT },
		{ "KILL", SIGKILL },
		{ "PIPE", SIGPIPE },
		{ "QUIT", SIGQUIT },
		{ "SEGV", SIGSEGV },
		{ "TERM", SIGTERM },
		{ "USR1", SIGUSR1 },
		{ "USR2", SIGUSR2 },
	};
	size_t i;

	for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
		if (strcmp(name, sigs[i].name) == 0)
			return sigs[i].sig;
	}
	return 0;
}

/* Channel callback: remember an exit signal. */
static void
rdev_ssh_exit_signal_cb(ssh_session session, ssh_channel channel, const char *signal,
    int core, const char *errmsg, const char *lang, void *userdata)
{
	int *sig = userdata;

	*sig = rdev_ssh_signal_number(signal);
	if (*sig == 0)
		*sig = -1;
}

/* Drain what the channel has buffered on one stream into b; -1 on error. */
static int
rdev_ssh_drain(ssh_channel ch, int is_stderr, struct buf *b, int *progress)
{
	char chunk[16384];
	int r;

	while (
	    (r = ssh_channel_read_nonblocking(ch, chunk, sizeof chunk, is_stderr)) > 0) {
		if (b != NULL)
			buf_append(b, chunk, (size_t)r);
		*progress = 1;
	}
	return r == SSH_ERROR ? -1 : 0;
}

ssh_channel
rdev_ssh_open_session(struct rdev_ssh *s)
{
	ssh_channel ch;
	int i;

	for (i = 0;; i++) {
		if ((ch = ssh_channel_new(s->ss)) == NULL)
			return NULL;
		if (ssh_channel_open_session(ch) == SSH_OK)
			return ch;
		ssh_channel_free(ch);
		if (i >= RDEV_SSH_OPEN_RETRIES || !ssh_is_connected(s->ss) ||
		    ssh_get_error_code(s->ss) != SSH_REQUEST_DENIED)
			return NULL;
		usleep(RDEV_SSH_OPEN_RETRY_MS * 1000);
	}
}

int
rdev_ssh_channel_window(struct rdev_ssh *s, ssh_channel ch, uint32_t size,
    const void **stderr_data, size_t *stderr_len)
{
	int n;

	/*
	 * libssh 0.10 has no call for this: every channel gets 1.28 MB,
	 * topped up when below half (channels.c, grow_window). But
	 * ssh_channel_read_timeout() grows the window to the count it is asked
	 * to read when that is larger, so ask to read `size` bytes, without
	 * waiting, from the stream that holds nothing: stderr, which the data
	 * callback takes whole. libssh copies min(count, what it holds on
	 * stderr) into the destination after handling what the socket has, so
	 * the destination must be able to take `size` bytes although it never
	 * gets any: a buffer kept for the session (allocated when a larger
	 * window is first asked for: at most four times per session, with
	 * chan-window.h's doublings) and never written, so it costs address
	 * space, not memory. An allocation per top-up (8 MiB, every half
	 * window) was a mmap and munmap on the data path. libssh 0.11 and later
	 * ignore the count (2 MiB windows, topped up as data is consumed).
	 */
	*stderr_data = NULL;
	*stderr_len = 0;
	if (!ssh_channel_is_open(ch))
		return 0;
	if (s->window_scratch_len < size) {
		free(s->window_scratch);
		s->window_scratch = xmalloc(size);
		s->window_scratch_len = size;
	}
	n = ssh_channel_read_timeout(ch, s->window_scratch, size, 1, 0);
	if (n > 0) {
		*stderr_data = s->window_scratch;
		*stderr_len = (size_t)n;
	}
	return n == SSH_ERROR && ssh_channel_is_open(ch) ? -1 : 0;
}

/* rdev_ssh_run's input: one buffer, given whole as the only piece. */
struct rdev_ssh_whole {
	const unsigned char *data;
	size_t len;
};

static int
rdev_ssh_whole_next(void *arg, const unsigned char **data, size_t *len, char **cause)
{
	struct rdev_ssh_whole *w = arg;

	(void)cause;
	*data = w->data;
	*len = w->len;
	w->len = 0;
	return 0;
}

int
rdev_ssh_run(struct rdev_ssh *s, const char *const *argv, const void *stdin_data,
    size_t stdin_len, char **out, size_t *out_len, char **err, int *exit_status,
    char **cause)
{
	struct rdev_ssh_whole whole = { stdin_data, stdin_len };
	struct rdev_ssh_input in = { rdev_ssh_whole_next, &whole };

	return rdev_ssh_run_input(s, argv, &in, out, out_len, err, exit_status, cause);
}

int
rdev_ssh_run_input(struct rdev_ssh *s, const char *const *argv,
    const struct rdev_ssh_input *input, char **out, size_t *out_len, char **err,
    int *exit_status, char **cause)
{
	struct ssh_channel_callbacks_struct cb;
	ssh_channel ch;
	ssh_event ev = NULL;
	struct buf *ob = buf_new(), *eb = buf_new();
	const unsigned char *in = NULL;
	size_t sent = 0, n, in_len = 0;
	char *cmd;
	uint32_t win;
	int rc = -1, sig = 0, progress, eof_sent = 0, in_done = 0, w, status;
	int cb_set = 0;

	cmd = shell_quote_argv(argv, SHELL_QUOTE_ALWAYS);
	if ((ch = rdev_ssh_open_session(s)) == NULL) {
		error_set(cause, "%s: cannot open a session channel: %s", s->prefix,
		    ssh_get_error(s->ss));
		goto out;
	}
	memset(&cb, 0, sizeof cb);
	cb.userdata = &sig;
	cb.channel_exit_signal_function = rdev_ssh_exit_signal_cb;
	ssh_callbacks_init(&cb);
	ssh_set_channel_callbacks(ch, &cb);
	cb_set = 1;
	if (ssh_channel_request_exec(ch, cmd) != SSH_OK) {
		error_set(cause, "%s: cannot run %s: %s", s->prefix, argv[0],
		    ssh_get_error(s->ss));
		goto out;
	}
	ev = ssh_event_new();
	if (ev == NULL || ssh_event_add_session(ev, s->ss) != SSH_OK)
		fatal("ssh_event_new failed");
	for (;;) {
		progress = 0;
		/* Write only what the window allows, so we never block while
		 * the remote waits for us to read. */
		if (sent == in_len && !in_done) {
			sent = 0;
			if (input->next(input->arg, &in, &in_len, cause) != 0)
				goto out;
			in_done = in_len == 0;
		}
		if (sent < in_len) {
			win = ssh_channel_window_size(ch);
			n = in_len - sent;
			if (n > win)
				n = win;
			if (n > 32768)
				n = 32768;
			if (n > 0) {
				w = ssh_channel_write(ch, in + sent, (uint32_t)n);
				if (w == SSH_ERROR) {
					error_set(cause, "%s: writing to %s: %s",
					    s->prefix, argv[0], ssh_get_error(s->ss));
					goto out;
				}
				sent += (size_t)w;
				progress = 1;
			}
		}
		if (in_done && !eof_sent) {
			ssh_channel_send_eof(ch);
			eof_sent = 1;
		}
		if (rdev_ssh_drain(ch, 0, out != NULL ? ob : NULL, &progress) != 0 ||
		    rdev_ssh_drain(ch, 1, err != NULL ? eb : NULL, &progress) != 0) {
			error_set(cause, "%s: reading from %s: %s", s->prefix, argv[0],
			    ssh_get_error(s->ss));
			goto out;
		}
		if (ssh_channel_is_eof(ch) || ssh_channel_is_closed(ch)) {
			progress = 0;
			if (rdev_ssh_drain(ch, 0, out != NULL ? ob : NULL, &progress) !=
				0 ||
			    rdev_ssh_drain(ch, 1, err != NULL ? eb : NULL, &progress) !=
				0)
				continue;
			if (!progress)
				break;
			continue;
		}
		if (!progress && ssh_event_dopoll(ev, 1000) == SSH_ERROR &&
		    !ssh_is_connected(s->ss)) {
			error_set(cause, "%s: connection lost while running %s: %s",
			    s->prefix, argv[0], ssh_get_error(s->ss));
			goto out;
		}
		if (!ssh_is_connected(s->ss)) {
			error_set(cause, "%s: connection lost while running %s",
			    s->prefix, argv[0]);
			goto out;
		}
	}
	status = ssh_channel_get_exit_status(ch);
	if (status < 0 || status > 255)
		status = sig > 0 ? 128 + sig : 255;
	*exit_status = status;
	if (out != NULL)
		*out = buf_take_string(ob, out_len);
	if (err != NULL)
		*err = buf_take_string(eb, NULL);
	rc = 0;
out:
	if (ev != NULL) {
		ssh_event_remove_session(ev, s->ss);
		ssh_event_free(ev);
	}
	if (ch != NULL) {
		/* cb is on this stack: a channel freed before the server's close
		 * lives on in libssh until it comes (with exit-status or
		 * exit-signal when a run was cut short), and would call through
		 * a dead frame (a crash seen when an upload stopped mid-stream) */
		if (cb_set)
			ssh_remove_channel_callbacks(ch, &cb);
		if (ssh_channel_is_open(ch))
			ssh_channel_close(ch);
		ssh_channel_free(ch);
	}
	buf_free(ob);
	buf_free(eb);
	free(cmd);
	return rc;
}

int
rdev_ssh_flush(struct rdev_ssh *s)
{
	int rc;

	/* (WRITE_PENDING: libssh wants a poll for writability, which it also
	 * does after each write; the flush polls only when bytes wait.) */
	if (!(ssh_get_poll_flags(s->ss) & SSH_WRITE_PENDING))
		return 0;
	rc = ssh_blocking_flush(s->ss, 0);
	return rc == SSH_ERROR ? -1 : rc == SSH_AGAIN;
}

int
rdev_ssh_peer_acking(struct rdev_ssh *s)
{
	struct tcp_info ti;
	socklen_t len = sizeof ti;
	int fd = ssh_get_fd(s->ss);

	/* Bytes in flight and an ACK within the interval: the peer's kernel
	 * takes our data. A hung peer stops reading, its window closes and
	 * nothing stays in flight (window probes carry no new data). */
	memset(&ti, 0, sizeof ti);
	if (fd < 0 || getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0)
		return 0;
	return ti.tcpi_unacked > 0 &&
	    ti.tcpi_last_ack_recv < (uint32_t)s->keepalive * 1000;
}

/* The peer's answer to the keepalive sent (a session channel's open, sent
 * without waiting): 1 answered (confirmed or refused), 0 not yet, -1 when
 * it cannot come (the channel failed, the connection is gone). */
static int
rdev_ssh_keepalive_answer(struct rdev_ssh *s)
{
	int blocking = ssh_is_blocking(s->ss), rc;

	ssh_set_blocking(s->ss, 0);
	rc = ssh_channel_open_session(s->ka_ch);
	ssh_set_blocking(s->ss, blocking);
	if (rc == SSH_AGAIN)
		return 0;
	if (rc == SSH_OK)
		ssh_channel_close(s->ka_ch);
	ssh_channel_free(s->ka_ch);
	s->ka_ch = NULL;
	return rc == SSH_OK ||
		(rc == SSH_ERROR && ssh_is_connected(s->ss) &&
		    ssh_get_error_code(s->ss) == SSH_REQUEST_DENIED)
	    ? 1
	    : -1;
}

int
rdev_ssh_keepalive_step(struct rdev_ssh *s, long long now_ms, char **cause)
{
	int count = s->cfg.server_alive_count_max > 1 ? s->cfg.server_alive_count_max : 2;
	long timeout = (long)s->keepalive * (count - 1);
	int rc;

	ssh_proxy_command_drain(&s->proxy);
	/*
	 * libssh 0.10's ssh_send_keepalive() discards the outcome, so ask for
	 * something the server must answer: opening a session channel is
	 * answered (confirmed or refused) by every sshd, and a dead or hung
	 * peer leaves it unanswered. Sent and then asked about without
	 * waiting: a wait of a round trip here would hold every channel of
	 * the session (a keystroke typed after a pause came a round trip late).
	 */
	if (s->ka_ch == NULL) {
		if (!ssh_is_connected(s->ss) ||
		    (s->ka_ch = ssh_channel_new(s->ss)) == NULL)
			return error_set(cause, "%s: connection lost", s->prefix);
		s->ka_deadline_ms = now_ms + timeout * 1000;
		/* The host thread's blocking calls (a write waiting for the
		 * peer's window, a close) give up as a keepalive would. */
		ssh_options_set(s->ss, SSH_OPTIONS_TIMEOUT, &timeout);
	}
	if ((rc = rdev_ssh_keepalive_answer(s)) != 0)
		return rc > 0 ? 1
			      : error_set(cause, "%s: keepalive failed: %s", s->prefix,
				    ssh_get_error(s->ss));
	if (now_ms < s->ka_deadline_ms)
		return 0;
	return error_set(cause,
	    "%s: no answer to keepalive within %ld s (peer dead or hung)", s->prefix,
	    timeout);
}

int
rdev_ssh_keepalive_pending(const struct rdev_ssh *s)
{
	return s->ka_ch != NULL;
}
