/* cmd-connect.c - `rdev-agent connect CONTAINER PORT`: one forwarded
 * connection carried over this process's stdin and stdout to PORT on the
 * loopback of CONTAINER, through a Docker exec of `/.rdev-relay --connect
 * PORT` attached to the relay's stdin and stdout (relay-chunks.h reads what
 * it writes). The broker runs one per connection of a local forward when the
 * container's address does not answer (Docker Desktop), or when
 * RDEV_LOCAL_FORWARD_VIA=exec (docs/PROTOCOL.md, "The local host").
 *
 * stdin's end becomes the relay's (the exec's write side shut); the
 * server's end of sending becomes stdout's (shutdown(SHUT_WR): stdout is a
 * socket). Exit 0 once the relay ended well; 1 with a message on stderr
 * ("nothing listens on port 3000 in container 1a2b3c4d5e6f") otherwise.
 * With --status first (the agent session's "exec" streams) stdout starts
 * with one byte: 0 once the relay connected (the server's bytes follow), or
 * 1 (nothing listens) or 2 (another failure) then the reason, and its end.
 */
#include "agent.h"

#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent-exec.h"
#include "atomic-file.h"
#include "buf.h"
#include "docker-stream.h"
#include "docker.h"
#include "relay-chunks.h"
#include "relay-install.h"
#include "xmalloc.h"

/* Stop reading stdin while this much waits for the exec. */
#define CMD_CONNECT_HIGH_WATER (256u << 10)
/* The most of the relay's stderr kept for the message. */
#define CMD_CONNECT_ERR_MAX 1024
/* What the exec's processes get between SIGHUP and SIGKILL when the broker
 * dropped the connection. */
#define CMD_CONNECT_HANGUP_MS 1000

/* The broker's side of the pump: stdin and stdout. */
struct cmd_connect {
	struct relay_chunks chunks;
	struct buf *err;  /* the relay's stderr */
	int gone;	  /* stdout failed: the broker dropped us */
	int bad;	  /* the relay's output made no sense */
	int status_first; /* --status: a byte before the bytes, then a reason */
	int said;	  /* --status: the 0 byte went (connected) */
};

/* stdin while it has not ended and little waits for the exec; once stdout
 * failed, stdin again (its end, reported at once, ends the pump). */
static void
cmd_connect_poll(void *arg, const struct agent_exec_pump *p, struct pollfd *pfd)
{
	struct cmd_connect *cc = arg;

	if (cc->gone)
		*pfd = (struct pollfd){ .fd = 0, .events = POLLIN };
	else if (p->input_done)
		*pfd = (struct pollfd){ .fd = -1, .events = 0 };
	else
		*pfd = (struct pollfd){ .fd = 0,
			.events = buf_len(p->out) < CMD_CONNECT_HIGH_WATER ? POLLIN : 0 };
}

static int
cmd_connect_input(void *arg, struct agent_exec_pump *p, char **cause)
{
	struct cmd_connect *cc = arg;
	unsigned char b[65536];
	ssize_t n;

	(void)cause;
	if (cc->gone || cc->bad)
		return 1;
	n = read(0, b, sizeof b);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n > 0)
		agent_exec_input(p->x, p->out, b, (size_t)n);
	else
		agent_exec_pump_input_end(p); /* its end, or a reset: no more */
	return 0;
}

/* The exec's output: the relay's chunks on stdout, a message on stderr. */
static int
cmd_connect_output(void *arg, int stream, const unsigned char *data, size_t len)
{
	struct cmd_connect *cc = arg;
	const unsigned char *piece;
	size_t used, plen;
	enum relay_chunks_what w;

	if (stream != 1) {
		if (buf_len(cc->err) + len <= CMD_CONNECT_ERR_MAX)
			buf_append(cc->err, data, len);
		return 0;
	}
	while (len > 0 && !cc->gone && !cc->bad) {
		w = relay_chunks_feed(&cc->chunks, data, len, &used, &piece, &plen);
		data += used;
		len -= used;
		if (w == RELAY_CHUNKS_BAD)
			cc->bad = 1;
		else if (w == RELAY_CHUNKS_STATUS && cc->status_first &&
		    cc->chunks.status == 0) {
			if (fd_write_all(1, "", 1) != 0)
				cc->gone = 1;
			cc->said = 1;
		} else if (w == RELAY_CHUNKS_DATA && fd_write_all(1, piece, plen) != 0)
			cc->gone = 1;
		else if (w == RELAY_CHUNKS_END)
			shutdown(1, SHUT_WR);
		else if (w == RELAY_CHUNKS_MORE)
			break;
	}
	return 0;
}

/* Why the connection failed, for stderr. New string. */
static char *
cmd_connect_why(struct cmd_connect *cc, const char *cid, const char *port, int rc,
    int status, const char *cause)
{
	if (cc->chunks.have_status && cc->chunks.status == 1)
		return xasprintf(
		    "nothing listens on port %s in container %.12s", port, cid);
	if (rc < 0)
		return xstrdup(cause);
	if (cc->bad)
		return xstrdup("the relay's output makes no sense");
	if (buf_len(cc->err) > 0) {
		buf_append(cc->err, "", 1);
		return xasprintf("%.*s", (int)strcspn((char *)buf_data(cc->err), "\n"),
		    (char *)buf_data(cc->err));
	}
	return xasprintf("the relay exited with status %d", status);
}

int
agent_cmd_connect(int argc, char **argv)
{
	const char *xargv[] = { RELAY_INSTALL_PATH, "--connect", NULL, NULL };
	struct docker_exec_opts opts = { 0 };
	struct cmd_connect cc = { 0 };
	const struct agent_exec_client client = { NULL, cmd_connect_poll,
		cmd_connect_input, cmd_connect_output, &cc, NULL, NULL };
	struct agent_exec *x;
	char *cause = NULL, *why;
	int rc, status = -1;

	if (argc == 4 && strcmp(argv[1], "--status") == 0) {
		cc.status_first = 1;
		argv++;
		argc--;
	}
	if (argc != 3)
		return cmd_usage_error(&agent_program,
		    cmd_lookup(&agent_program, "connect"), "need CONTAINER and PORT");
	x = xcalloc(1, sizeof *x);
	x->fd = -1;
	x->docker = docker_new(NULL);
	xargv[2] = argv[2];
	opts.argv = xargv;
	opts.user = "0:0"; /* as the relay runs: it only connects */
	opts.attach_stdin = 1;
	cc.err = buf_new();
	rc = relay_install_binary(x->docker, argv[1], &cause);
	if (rc == 0)
		rc = docker_exec_attach(
		    x->docker, argv[1], &opts, &x->exec_id, &x->fd, &x->early, &cause);
	if (rc == 0) {
		x->demux = docker_stream_new(DOCKER_STREAM_MAX_FRAME);
		rc = agent_exec_pump_run(x, &client, &cause);
	}
	if (rc == 1) { /* the broker went away first */
		free(cause);
		cause = NULL;
		agent_exec_hangup(x, CMD_CONNECT_HANGUP_MS, &cause);
	} else if (rc == 0)
		rc = agent_exec_exit(x, &status, &cause);
	if (rc == 0 && status == 0 && !cc.bad && cc.chunks.ended) {
		agent_exec_free(x);
		buf_free(cc.err);
		return CMD_EXIT_OK;
	}
	if (rc != 1) {
		why = cmd_connect_why(&cc, argv[1], argv[2], rc, status, cause);
		/* (--status, not connected: the reason is the stream's answer,
		 * 1 refused, 2 another failure) */
		if (cc.status_first && !cc.said && !cc.gone) {
			/* (one write: the agent reads it at once) */
			char *said = xasprintf("%c%s",
			    cc.chunks.have_status && cc.chunks.status == 1 ? 1 : 2, why);

			(void)fd_write_all(1, said, strlen(said));
			free(said);
		}
		fprintf(stderr, "rdev-agent: connect: %s\n", why);
		free(why);
	}
	free(cause);
	agent_exec_free(x);
	buf_free(cc.err);
	return CMD_EXIT_FAILURE;
}
