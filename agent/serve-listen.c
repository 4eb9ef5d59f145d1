/* serve-listen.c - `rdev-agent serve --listen ID`: the host's one long-lived
 * agent, reached per client over a unix socket (serve-listen.h). */
#include "serve-listen.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent-ops.h"
#include "atomic-file.h"
#include "buf.h"
#include "cmd.h"
#include "error.h"
#include "log.h"
#include "proto.h"
#include "runtime-dir.h"
#include "host-usage.h"
#include "serve-mux.h"
#include "serve.h"
#include "spawn.h"
#include "xmalloc.h"

#define LISTEN_SOFTWARE "rdev-agent " RDEV_VERSION
#define LISTEN_BACKLOG 256

/* The self-pipe of SIGCHLD/SIGTERM/SIGHUP: a handler can only write a byte
 * (and set the one flag below). */
static int listen_sigpipe[2] = { -1, -1 };
static volatile sig_atomic_t serve_listen_stop;

static void
serve_listen_on_signal(int sig)
{
	int saved = errno;

	if (sig != SIGCHLD)
		serve_listen_stop = 1;
	if (listen_sigpipe[1] >= 0 && write(listen_sigpipe[1], "", 1) < 0) {
		/* full: a wake-up is pending anyway */
	}
	errno = saved;
}

int
serve_listen_id_valid(const char *id)
{
	size_t n = strlen(id);

	if (n < 8 || n > 32)
		return 0;
	return strspn(id, "0123456789abcdef") == n;
}

char *
serve_listen_socket_path(const char *id, char **cause)
{
	const char *home = getenv("HOME");
	struct sockaddr_un sa;
	char *dir = NULL, *top, *path;

	if (home != NULL && *home == '/') {
		/* ~/.rdev may be the install's (0755); run/ is ours alone. */
		top = xasprintf("%s/.rdev", home);
		if (mkdir(top, 0700) != 0 && errno != EEXIST) {
			error_set_errno(cause, errno, "%s: cannot create", top);
			free(top);
			return NULL;
		}
		free(top);
		dir = xasprintf("%s/.rdev/run", home);
		path = xasprintf("%s/agent-%s.sock", dir, id);
		if (strlen(path) < sizeof sa.sun_path) {
			if (runtime_dir_check(dir, cause) != 0) {
				free(dir);
				free(path);
				return NULL;
			}
			free(dir);
			return path;
		}
		/* A home too deep for a socket path: the /tmp folder below. */
		free(dir);
		free(path);
	}
	dir = xasprintf("/tmp/rdev-agent-%u", (unsigned)geteuid());
	if (runtime_dir_check(dir, cause) != 0) {
		free(dir);
		return NULL;
	}
	path = xasprintf("%s/agent-%s.sock", dir, id);
	free(dir);
	return path;
}

/* Bind and listen on path (0600); the fd, or -1 with *cause. */
static int
serve_listen_bind(const char *path, char **cause)
{
	struct sockaddr_un sa;
	int fd;
	mode_t old;

	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sa.sun_path)
		return error_set(cause, "%s: path too long for a socket", path);
	strcpy(sa.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return error_set_errno(cause, errno, "socket");
	/* The id is new per start: a file there is a dead agent's. */
	unlink(path);
	old = umask(0177);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
	    listen(fd, LISTEN_BACKLOG) != 0) {
		int e = errno;

		umask(old);
		close(fd);
		return error_set_errno(cause, e, "%s", path);
	}
	umask(old);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return fd;
}

/* Tell the broker (our stdout) where we listen: HELLO, then the event. */
static int
serve_listen_announce(const char *path)
{
	struct buf *b = buf_new();
	cJSON *hello = proto_hello_new(LISTEN_SOFTWARE), *ev = cJSON_CreateObject();
	int rc;

	serve_mux_hello_features(hello);
	cJSON_AddNumberToObject(ev, "id", 0);
	cJSON_AddStringToObject(ev, "event", "listening");
	cJSON_AddStringToObject(ev, "socket", path);
	cJSON_AddNumberToObject(ev, "pid", (double)getpid());
	proto_encode_json(b, PROTO_HELLO, 0, hello, NULL);
	proto_encode_json(b, PROTO_CONTROL, 0, ev, NULL);
	rc = fd_write_all(1, buf_data(b), buf_len(b));
	cJSON_Delete(hello);
	cJSON_Delete(ev);
	buf_free(b);
	return rc;
}

/* Serve one connection in a child process; the parent returns at once.
 * mux (NULL: none yet) is the agent session's, whose sockets the child
 * must not keep; nor ours (-1: none), the parent's end of conn's
 * socketpair: kept, it would be the child's own peer, and the child would
 * never see its connection end. */
static void
serve_listen_fork_peer(int lfd, int conn, int ours, struct serve_mux *mux)
{
	struct serve_opts o = { conn, conn, 1 };
	pid_t pid;
	int null, rc;

	if ((pid = fork()) < 0) {
		log_warn("listen: fork: %s", strerror(errno));
		close(conn);
		return;
	}
	if (pid > 0) {
		close(conn);
		return;
	}
	/* The child: the broker's stdin/stdout are not its to touch. It
	 * outlives the listening agent (its peer's work goes on); SIGTERM ends
	 * it as its peer's going does. */
	signal(SIGCHLD, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	close(lfd);
	if (ours >= 0)
		close(ours);
	if (mux != NULL)
		serve_mux_close_in_child(mux);
	close(listen_sigpipe[0]);
	close(listen_sigpipe[1]);
	if ((null = open("/dev/null", O_RDWR)) >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		if (null > 2)
			close(null);
	}
	rc = serve_run(&o);
	_exit(rc);
}

/* Take the waiting connections; only our own user's are served. */
static void
serve_listen_accept(int lfd, struct serve_mux *mux)
{
	struct ucred cred = { 0, 0, 0 };
	socklen_t len;
	int conn;

	for (;;) {
		conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (conn < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_warn("listen: accept: %s", strerror(errno));
			return;
		}
		len = sizeof cred;
		if (getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
		    cred.uid != geteuid()) {
			log_warn("listen: refused a connection from uid %u",
			    (unsigned)cred.uid);
			close(conn);
			continue;
		}
		serve_listen_fork_peer(lfd, conn, -1, mux);
	}
}

/* What an "agent" stream of the agent session needs (serve_mux_agent_fn),
 * and what its "info" answers keep of Docker's facts between them. */
struct serve_listen_ctx {
	int lfd;
	struct serve_mux *mux;
	struct op_info_cache info;
};

#define SERVE_LISTEN_INFO_DOCKER_MS 2000

/* serve_mux_info_fn: the host's facts, in this process. */
static int
serve_listen_info(void *arg, cJSON **result, char **cause)
{
	struct serve_listen_ctx *ctx = arg;

	/* (this process serves the session's streams too: a hung dockerd
	 * must not stall them for Docker's usual 60 s; the broker's probe
	 * gives up after 5 s anyway) */
	return op_info_collect(&ctx->info, SERVE_LISTEN_INFO_DOCKER_MS, result, cause);
}

/* An "agent" stream: a connection served by a child, as one to the socket
 * is, over a socketpair. Our end, or -1 with *cause. */
static int
serve_listen_agent_stream(void *arg, char **cause)
{
	struct serve_listen_ctx *ctx = arg;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return error_set_errno(cause, errno, "socketpair");
	serve_listen_fork_peer(ctx->lfd, sv[1], sv[0], ctx->mux);
	return sv[0];
}

/* An "exec" stream: `rdev-agent connect CONTAINER PORT` (this program),
 * detached, its stdin and stdout one end of a socketpair (the local host's
 * way, broker/local-exec.c), --status: the stream is answered once the
 * relay connected or failed (serve-mux.c). Our end, or -1 with *cause. */
static int
serve_listen_exec_stream(void *arg, const char *container_id, int port, char **cause)
{
	char self[4096], port_s[16];
	const char *argv[] = { self, "connect", "--status", container_id, port_s, NULL };
	ssize_t n;
	int pid, fd;

	(void)arg;
	if ((n = readlink("/proc/self/exe", self, sizeof self - 1)) < 0)
		return error_set_errno(cause, errno, "cannot read /proc/self/exe");
	self[n] = '\0';
	snprintf(port_s, sizeof port_s, "%d", port);
	if (spawn_socketpair(argv, 1, &pid, &fd, cause) != 0)
		return -1;
	return fd;
}

int
serve_listen_run(const char *id)
{
	struct serve_listen_ctx ctx;
	struct sigaction sa;
	struct pollfd pfd[2];
	unsigned char tmp[4096];
	char *cause = NULL, *path;
	int lfd, status;

	if (!serve_listen_id_valid(id)) {
		fprintf(stderr,
		    "rdev-agent: serve: --listen wants 8-32 hex digits, not "
		    "\"%s\"\n",
		    id);
		return CMD_EXIT_USAGE;
	}
	if ((path = serve_listen_socket_path(id, &cause)) == NULL ||
	    (lfd = serve_listen_bind(path, &cause)) < 0) {
		fprintf(stderr, "rdev-agent: serve: %s\n", cause);
		free(cause);
		free(path);
		return 1;
	}
	if (pipe2(listen_sigpipe, O_CLOEXEC | O_NONBLOCK) != 0)
		fatal("listen: pipe: %s", strerror(errno));
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = serve_listen_on_signal;
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	if (serve_listen_announce(path) != 0) {
		unlink(path);
		free(path);
		return 1;
	}
	log_debug("listen: %s", path);
	/* Until the broker's channel (our stdin) ends or we are told to stop.
	 * The broker may open streams on it (serve-mux.h); they end with it.
	 * Connections being served by children go on after that: each ends
	 * with its peer. */
	memset(&ctx, 0, sizeof ctx);
	ctx.lfd = lfd;
	ctx.mux = serve_mux_new(0, 1, host_usage_cpus(), serve_listen_agent_stream, &ctx);
	serve_mux_set_info(ctx.mux, serve_listen_info, &ctx);
	serve_mux_set_exec(ctx.mux, serve_listen_exec_stream, &ctx);
	while (!serve_listen_stop) {
		pfd[0] = (struct pollfd){ .fd = lfd, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = listen_sigpipe[0], .events = POLLIN };
		if (serve_mux_poll(ctx.mux, pfd, 2, -1) == 0)
			break;
		if (pfd[1].revents != 0) {
			while (read(listen_sigpipe[0], tmp, sizeof tmp) > 0)
				continue;
			while (waitpid(-1, &status, WNOHANG) > 0)
				continue;
		}
		if (pfd[0].revents != 0)
			serve_listen_accept(lfd, ctx.mux);
	}
	serve_mux_free(ctx.mux);
	op_info_cache_clear(&ctx.info);
	close(lfd);
	unlink(path);
	free(path);
	return 0;
}
