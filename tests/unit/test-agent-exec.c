/* test-agent-exec.c - unit tests for the exec pump (agent_exec_pump_run(),
 * agent/agent-exec.c) that `exec` and serve's exec worker share: an exec
 * whose connection is one end of a socketpair, a forked child at the other
 * end playing the command. */
#include "test.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include "agent-cmds.h"
#include "agent-exec.h"
#include "buf.h"
#include "docker-stream.h"
#include "xmalloc.h"

/* The test's side of the pump: input from memory, output to a buffer. */
struct client {
	const unsigned char *data; /* input, sent in pieces */
	size_t len, off;
	int ready_fd;	 /* always readable: stands for the input */
	int give_up;	 /* input returns 1 at once */
	int out_give_up; /* output returns 1 (and counts its calls) */
	int outputs;
	struct buf *got[3]; /* output by stream */
	int inputs;
};

static void
client_poll(void *arg, const struct agent_exec_pump *p, struct pollfd *pfd)
{
	struct client *c = arg;

	*pfd =
	    (struct pollfd){ .fd = !p->input_done && buf_len(p->out) < 65536 ? c->ready_fd
									     : -1,
		    .events = POLLIN };
}

static int
client_input(void *arg, struct agent_exec_pump *p, char **cause)
{
	struct client *c = arg;
	size_t n = c->len - c->off < 16384 ? c->len - c->off : 16384;

	c->inputs++;
	if (c->give_up)
		return 1;
	if (n == 0) {
		agent_exec_pump_input_end(p);
		return 0;
	}
	agent_exec_input(p->x, p->out, c->data + c->off, n);
	c->off += n;
	return 0;
}

static int
client_output(void *arg, int stream, const unsigned char *data, size_t len)
{
	struct client *c = arg;

	buf_append(c->got[stream], data, len);
	c->outputs++;
	return c->out_give_up;
}

/* An exec on one end of a socketpair, not a TTY (its input's end shuts down
 * the write side), raw (demux NULL) or multiplexed; *peer is the other end. */
static struct agent_exec *
exec_new(int multiplexed, int *peer)
{
	struct agent_exec *x = xcalloc(1, sizeof *x);
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		abort();
	x->fd = sv[0];
	x->early = buf_new();
	if (multiplexed)
		x->demux = docker_stream_new(DOCKER_STREAM_MAX_FRAME);
	*peer = sv[1];
	return x;
}

/* The command: echo everything back until its input ends, then exit. */
static pid_t
peer_echo(int fd, int other)
{
	unsigned char b[4096];
	ssize_t n, w, off;
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	close(other);
	while ((n = read(fd, b, sizeof b)) > 0) {
		for (off = 0; off < n; off += w)
			if ((w = write(fd, b + off, (size_t)(n - off))) <= 0)
				_exit(1);
	}
	_exit(n == 0 ? 0 : 1);
}

/* One pump's parts: the client, its callbacks, the exec and its peer. */
struct pump {
	struct client c;
	struct agent_exec_client cb;
	struct agent_exec *x;
	int peer;
	char *cause;
};

static void
pump_init(struct pump *p, const unsigned char *data, size_t len, int multiplexed)
{
	memset(p, 0, sizeof *p);
	p->c.data = data;
	p->c.len = len;
	p->c.ready_fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
	for (int i = 0; i < 3; i++)
		p->c.got[i] = buf_new();
	p->cb = (struct agent_exec_client){ NULL, client_poll, client_input,
		client_output, &p->c, NULL, NULL };
	p->x = exec_new(multiplexed, &p->peer);
}

static void
pump_clear(struct pump *p)
{
	close(p->c.ready_fd);
	for (int i = 0; i < 3; i++)
		buf_free(p->c.got[i]);
	agent_exec_free(p->x);
	if (p->peer >= 0)
		close(p->peer);
	free(p->cause);
}

TEST(pump_echoes_a_megabyte_both_ways_at_once)
{
	size_t len = 1024 * 1024;
	unsigned char *data = xmalloc(len);
	struct pump p;
	int st;
	pid_t pid;

	for (size_t i = 0; i < len; i++)
		data[i] = (unsigned char)(i * 7 + i / 251);
	pump_init(&p, data, len, 0);
	buf_append(p.x->early, "early:", 6);
	pid = peer_echo(p.peer, p.x->fd);
	close(p.peer);
	p.peer = -1;
	ASSERT_INT_EQ(agent_exec_pump_run(p.x, &p.cb, &p.cause), 0);
	ASSERT_NULL(p.cause);
	ASSERT_INT_EQ(buf_len(p.c.got[1]), len + 6);
	ASSERT_MEM_EQ(buf_data(p.c.got[1]), "early:", 6);
	ASSERT_TRUE(
	    memcmp((const unsigned char *)buf_data(p.c.got[1]) + 6, data, len) == 0);
	ASSERT_INT_EQ(buf_len(p.c.got[2]), 0);
	ASSERT_INT_EQ(waitpid(pid, &st, 0), pid);
	ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	pump_clear(&p);
	free(data);
}

TEST(pump_splits_multiplexed_output_by_stream)
{
	static const unsigned char frames[] = {
		2,
		0,
		0,
		0,
		0,
		0,
		0,
		3,
		'e',
		'r',
		'r',
		1,
		0,
		0,
		0,
		0,
		0,
		0,
		3,
		'o',
		'u',
		't',
	};
	struct pump p;

	pump_init(&p, NULL, 0, 1);
	/* The first frame came with the response headers, the second after. */
	buf_append(p.x->early, frames, 11);
	ASSERT_INT_EQ(write(p.peer, frames + 11, sizeof frames - 11), sizeof frames - 11);
	close(p.peer);
	p.peer = -1;
	ASSERT_INT_EQ(agent_exec_pump_run(p.x, &p.cb, &p.cause), 0);
	ASSERT_INT_EQ(buf_len(p.c.got[1]), 3);
	ASSERT_MEM_EQ(buf_data(p.c.got[1]), "out", 3);
	ASSERT_INT_EQ(buf_len(p.c.got[2]), 3);
	ASSERT_MEM_EQ(buf_data(p.c.got[2]), "err", 3);
	pump_clear(&p);
}

TEST(pump_fails_on_a_stream_cut_in_a_frame)
{
	static const unsigned char frame[] = { 1, 0, 0, 0, 0, 0, 0, 9, 'o', 'u' };
	struct pump p;

	pump_init(&p, NULL, 0, 1);
	ASSERT_INT_EQ(write(p.peer, frame, sizeof frame), sizeof frame);
	close(p.peer);
	p.peer = -1;
	ASSERT_INT_EQ(agent_exec_pump_run(p.x, &p.cb, &p.cause), -1);
	ASSERT_NOT_NULL(p.cause);
	pump_clear(&p);
}

TEST(pump_ends_with_1_when_the_client_gives_up)
{
	struct pump p;

	pump_init(&p, NULL, 0, 0);
	p.c.give_up = 1;
	ASSERT_INT_EQ(agent_exec_pump_run(p.x, &p.cb, &p.cause), 1);
	ASSERT_NULL(p.cause);
	ASSERT_INT_EQ(p.c.inputs, 1);
	pump_clear(&p);
}

/* A client whose output cannot be written gives up there, with the peer still
 * open and writing (no reliance on its input fd polling an error). */
TEST(pump_ends_with_1_when_the_output_gives_up)
{
	struct pump p;

	pump_init(&p, NULL, 0, 0);
	close(p.c.ready_fd);
	p.c.ready_fd = -1; /* no input to poll at all */
	p.c.out_give_up = 1;
	ASSERT_INT_EQ(write(p.peer, "abc", 3), 3);
	ASSERT_INT_EQ(agent_exec_pump_run(p.x, &p.cb, &p.cause), 1);
	ASSERT_NULL(p.cause);
	ASSERT_INT_EQ(p.c.outputs, 1);
	pump_clear(&p);
}

/* The relay's start-failure MESSAGE (frame type 3) with a TTY: on stdout,
 * each "\n" made "\r\n" (the client's terminal is raw), one already after a
 * "\r" kept; without a TTY: on stderr as it came. */
static void
message_out(int tty, const char *text, int want_stream, const char *want)
{
	struct agent_exec *x = xcalloc(1, sizeof *x);
	struct buf *in = buf_new();
	const unsigned char *payload;
	unsigned char hdr[8] = { 3, 0, 0, 0, 0, 0, 0, 0 };
	size_t used, payload_len, len = strlen(text);
	int stream;
	char *cause = NULL;

	x->fd = -1;
	x->tty = tty;
	x->demux = docker_stream_new(DOCKER_STREAM_MAX_FRAME);
	hdr[7] = (unsigned char)len;
	buf_append(in, hdr, sizeof hdr);
	buf_append(in, text, len);
	ASSERT_INT_EQ(agent_exec_output(x, buf_data(in), buf_len(in), &used, &stream,
			  &payload, &payload_len, &cause),
	    1);
	ASSERT_NULL(cause);
	ASSERT_INT_EQ(used, buf_len(in));
	ASSERT_INT_EQ(stream, want_stream);
	ASSERT_INT_EQ(payload_len, strlen(want));
	ASSERT_MEM_EQ(payload, want, payload_len);
	buf_free(in);
	agent_exec_free(x);
}

TEST(relay_message_lines_end_in_crlf_with_a_tty)
{
	message_out(1, "rdev: exec: \"x\": executable file not found in $PATH\n", 1,
	    "rdev: exec: \"x\": executable file not found in $PATH\r\n");
	message_out(1, "\none\r\ntwo\n\n", 1, "\r\none\r\ntwo\r\n\r\n");
	message_out(1, "no newline", 1, "no newline");
	message_out(0, "a\nb\n", 2, "a\nb\n");
}

/* agent_cmd_command_meant(): exec's word taken for the folder is a command
 * meant (the `--` hint) only when no `--` is on the line after it, it has no
 * '/' and no such file is here: `exec ./proj --bogus -- true` and a real
 * folder are a folder (and a typo), `exec ./nothere true` keeps its own
 * "no such folder" error. */
TEST(command_meant_only_for_a_missing_bare_word)
{
	char dir[] = "/tmp/rdev-test-meant-XXXXXX", cwd[4096];
	char *echo[] = { "exec", "echo", "hi", NULL };
	char *ls[] = { "exec", "ls", "-d", "/", NULL };
	char *dashed[] = { "exec", "echo", "--bogus", "--", "true", NULL };
	char *real[] = { "exec", "proj", "--bogus", NULL };
	char *path[] = { "exec", "./nothere", "true", NULL };

	ASSERT_NOT_NULL(getcwd(cwd, sizeof cwd));
	ASSERT_NOT_NULL(mkdtemp(dir));
	ASSERT_INT_EQ(chdir(dir), 0);
	ASSERT_INT_EQ(mkdir("proj", 0700), 0);
	ASSERT_INT_EQ(agent_cmd_command_meant(3, echo, 1), 1);
	ASSERT_INT_EQ(agent_cmd_command_meant(4, ls, 1), 1);
	ASSERT_INT_EQ(agent_cmd_command_meant(5, dashed, 1), 0);
	ASSERT_INT_EQ(agent_cmd_command_meant(3, real, 1), 0);
	ASSERT_INT_EQ(agent_cmd_command_meant(3, path, 1), 0);
	/* (no word taken for the folder: `exec -- echo hi`) */
	ASSERT_INT_EQ(agent_cmd_command_meant(3, echo, 0), 0);
	ASSERT_INT_EQ(rmdir("proj"), 0);
	ASSERT_INT_EQ(chdir(cwd), 0);
	ASSERT_INT_EQ(rmdir(dir), 0);
}

/* A message frame whose "\r\n" comes in two reads ("ab\r", then "\n")
 * stays "\r\n", not "\r\r\n". */
TEST(relay_message_crlf_split_across_reads)
{
	struct agent_exec *x = xcalloc(1, sizeof *x);
	const unsigned char hdr[8] = { 3, 0, 0, 0, 0, 0, 0, 5 };
	const unsigned char *payload;
	size_t used, payload_len;
	int stream;
	char *cause = NULL;

	x->fd = -1;
	x->tty = 1;
	x->demux = docker_stream_new(DOCKER_STREAM_MAX_FRAME);
	ASSERT_INT_EQ(agent_exec_output(x, hdr, sizeof hdr, &used, &stream, &payload,
			  &payload_len, &cause),
	    0);
	ASSERT_INT_EQ(agent_exec_output(x, (const unsigned char *)"ab\r", 3, &used,
			  &stream, &payload, &payload_len, &cause),
	    1);
	ASSERT_INT_EQ(payload_len, 3);
	ASSERT_MEM_EQ(payload, "ab\r", 3);
	ASSERT_INT_EQ(agent_exec_output(x, (const unsigned char *)"\nc", 2, &used,
			  &stream, &payload, &payload_len, &cause),
	    1);
	ASSERT_NULL(cause);
	ASSERT_INT_EQ(stream, 1);
	ASSERT_INT_EQ(payload_len, 2);
	ASSERT_MEM_EQ(payload, "\nc", 2);
	agent_exec_free(x);
}
