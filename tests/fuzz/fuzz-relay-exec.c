/* fuzz-relay-exec.c - fuzz what rdev-relay parses of an exec connection
 * (relay/relay-exec.c, relay/relay-exec-pump.c): the request's fields and
 * the agent's frames.
 *
 * The relay runs as root in the dev container; its input comes only after
 * the 32-byte token, but a parser of network input is fuzzed all the same.
 * The first input byte chooses: even, the request (x_parse: it must accept
 * or refuse, and an accepted one has a non-empty argv[0] and only
 * NAME=VALUE entries); odd, a stream of frames (x_frames on a session whose
 * command has ended and that has no TTY, so nothing is signalled or
 * resized: the queues and their bounds are what is checked).
 *
 * The relay's exec session is built from its sources, included so that
 * their static functions can be reached (the relay is no library: it is
 * compiled by hand, static, in CMakeLists.txt).
 */
#include "../../relay/relay-exec.c"
#include "../../relay/relay-exec-command.c"
#include "../../relay/relay-exec-pump.c"
#include "../../relay/relay-exec-user.c"

#include "fuzz.h"

static void
fuzz_request(const uint8_t *data, size_t size)
{
	struct xreq r;
	char *copy = x_alloc(size);

	memcpy(copy, data, size);
	memset(&r, 0, sizeof r);
	if (x_parse(copy, size, &r) == 0) {
		if (r.nargv == 0 || r.argv[0] == NULL || r.argv[0][0] == '\0' ||
		    r.argv[r.nargv] != NULL || r.env[r.nenv] != NULL)
			abort();
		for (size_t i = 0; i < r.nenv; i++)
			if (strchr(r.env[i], '=') == NULL || r.env[i][0] == '=')
				abort();
		if (r.grace_ms < 0 || r.grace_ms > 60000)
			abort();
	}
	free(r.argv);
	free(r.env);
	free(copy);
}

static void
fuzz_frames(const uint8_t *data, size_t size)
{
	struct xsess s;
	int in_pipe[2];

	if (size == 0)
		return; /* (nothing to queue: xq_reserve allocates nothing for 0) */
	memset(&s, 0, sizeof s);
	s.sock = s.out_r = s.err_r = s.tty_master = -1;
	s.exited = 1;
	/* A real stdin pipe, so stdin frames are queued as in a session. */
	if (pipe(in_pipe) != 0)
		abort();
	s.in_w = in_pipe[1];
	xq_reserve(&s.rx, size);
	memcpy(s.rx.p + s.rx.len, data, size);
	s.rx.len += size;
	(void)x_frames(&s);
	if (s.rx.off > s.rx.len || s.in.off > s.in.len)
		abort();
	close(in_pipe[0]);
	close(in_pipe[1]);
	free(s.rx.p);
	free(s.in.p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] % 2 == 0)
		fuzz_request(data + 1, size - 1);
	else
		fuzz_frames(data + 1, size - 1);
	return 0;
}
