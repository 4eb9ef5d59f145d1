/* test-host-link-backlog.c - an agent link's channel bytes for a client that
 * reads slowly (broker/host-link.c, host_link_pump): what libssh holds for
 * the channel stays bounded, and every byte reaches the client in order.
 * No ssh session: the channel is a stand-in (--wrap, tests/CMakeLists.txt)
 * that behaves as libssh 0.10 does: a read tops the window up to WINDOWBASE
 * whenever it is below WINDOWLIMIT, whatever the channel still holds; a
 * packet goes to the data callback with all that is held; and a buffer that
 * would pass BUFFER_SIZE_MAX (256 MiB) is thrown away with the packet. */
#include "test.h"

#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "host-internal.h"

#define FAKE_WINDOWBASE 1280000u
#define FAKE_WINDOWLIMIT (FAKE_WINDOWBASE / 2)
#define FAKE_PACKET 32768u

/* The agent's side: a sender with no end that fills whatever window it has,
 * byte i of its stream being (i % 251). */
static struct {
	struct ssh_channel_callbacks_struct *cb;
	struct buf *held; /* libssh's stdout buffer for the channel */
	uint64_t window;  /* the window the agent may still fill */
	uint64_t sent;	  /* the agent's bytes sent so far */
	size_t most_held; /* the largest held seen */
	unsigned char *pkt;
} fake;

static void
fake_pattern(unsigned char *p, uint64_t from, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (unsigned char)((from + i) % 251);
}

/* The packets libssh handles: the agent's, as far as the window goes. */
static void
fake_packets(void)
{
	size_t n, rest;

	while (fake.window > 0) {
		n = fake.window < FAKE_PACKET ? (size_t)fake.window : FAKE_PACKET;
		fake_pattern(fake.pkt, fake.sent, n);
		fake.sent += n;
		fake.window -= n;
		buf_append(fake.held, fake.pkt, n);
		if (buf_len(fake.held) > fake.most_held)
			fake.most_held = buf_len(fake.held);
		rest = (size_t)fake.cb->channel_data_function(NULL, NULL,
		    (void *)buf_data(fake.held), (uint32_t)buf_len(fake.held), 0,
		    fake.cb->userdata);
		buf_consume(fake.held, rest);
		if (fake.window + buf_len(fake.held) < FAKE_WINDOWLIMIT)
			fake.window = FAKE_WINDOWBASE;
	}
}

int __wrap_ssh_channel_poll(ssh_channel ch, int is_stderr);
int __wrap_ssh_channel_read_nonblocking(
    ssh_channel ch, void *dest, uint32_t count, int is_stderr);
void __wrap_ssh_set_channel_callbacks(ssh_channel ch, ssh_channel_callbacks cb);
int __wrap_ssh_remove_channel_callbacks(ssh_channel ch, ssh_channel_callbacks cb);
int __wrap_ssh_channel_is_open(ssh_channel ch);
int __wrap_ssh_channel_is_closed(ssh_channel ch);
void __wrap_ssh_channel_free(ssh_channel ch);
int __wrap_rdev_ssh_channel_window(struct rdev_ssh *s, ssh_channel ch, uint32_t size,
    const void **stderr_data, size_t *stderr_len);

int
__wrap_ssh_channel_poll(ssh_channel ch, int is_stderr)
{
	(void)ch;
	(void)is_stderr;
	if (buf_len(fake.held) == 0)
		fake_packets();
	return (int)buf_len(fake.held);
}

int
__wrap_ssh_channel_read_nonblocking(
    ssh_channel ch, void *dest, uint32_t count, int is_stderr)
{
	int held = __wrap_ssh_channel_poll(ch, is_stderr);
	size_t n = (size_t)held < count ? (size_t)held : count;

	memcpy(dest, buf_data(fake.held), n);
	buf_consume(fake.held, n);
	/* "Authorize some buffering while userapp is busy" */
	if (fake.window < FAKE_WINDOWLIMIT)
		fake.window = FAKE_WINDOWBASE;
	return (int)n;
}

void
__wrap_ssh_set_channel_callbacks(ssh_channel ch, ssh_channel_callbacks cb)
{
	(void)ch;
	fake.cb = cb;
}

int
__wrap_ssh_remove_channel_callbacks(ssh_channel ch, ssh_channel_callbacks cb)
{
	(void)ch;
	(void)cb;
	fake.cb = NULL;
	return 0;
}

int
__wrap_ssh_channel_is_open(ssh_channel ch)
{
	(void)ch;
	return 0;
}

int
__wrap_ssh_channel_is_closed(ssh_channel ch)
{
	(void)ch;
	return 0;
}

void
__wrap_ssh_channel_free(ssh_channel ch)
{
	(void)ch;
}

/* The broker's window top-up (a stderr read of `size` bytes in libssh
 * 0.10): the window grows to size. */
int
__wrap_rdev_ssh_channel_window(struct rdev_ssh *s, ssh_channel ch, uint32_t size,
    const void **stderr_data, size_t *stderr_len)
{
	(void)s;
	(void)ch;
	*stderr_data = NULL;
	*stderr_len = 0;
	if (size > fake.window)
		fake.window = size;
	return 0;
}

/* A client that takes 16 KiB per pass of the session loop, for 2,000
 * passes (the agent always has more): libssh never holds more than a few
 * windows, to_cli no more than a window over its bound, and the client gets
 * the agent's bytes whole and in order. (Reading only the room the client
 * made, each read let libssh grant another 1.28 MB: it held 2.4 GB by the
 * end here, and past 256 MiB real libssh dropped the lot: `up` with a
 * command printing 10 M lines and a slow stderr reader failed with "not an
 * rdev protocol stream".) */
TEST(a_slow_client_keeps_libssh_bounded_and_gets_every_byte)
{
	static unsigned char got[16384], want[16384];
	struct host_session h;
	struct host_link *l;
	uint64_t received = 0;
	size_t most_to_cli = 0;
	ssize_t n;
	int sv[2], pass;

	memset(&fake, 0, sizeof fake);
	fake.held = buf_new();
	fake.pkt = malloc(FAKE_PACKET);
	fake.window = FAKE_WINDOWBASE;
	memset(&h, 0, sizeof h);
	h.label = (char *)"test";
	LIST_INIT(&h.links);
	LIST_INIT(&h.calls);
	LIST_INIT(&h.mux_chans);
	ASSERT_INT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	fcntl(sv[1], F_SETFL, fcntl(sv[1], F_GETFL) | O_NONBLOCK);

	l = host_link_new(&h, sv[0], (ssh_channel)&fake, HOST_LINK_BUFFER);
	ASSERT_NOT_NULL(fake.cb);
	for (pass = 0; pass < 2000; pass++) {
		/* the session loop's read of the SSH socket: the agent's
		 * packets, to the callback */
		fake_packets();
		l->cli_blocked = 0; /* (the loop's POLLOUT) */
		host_link_pump(&h, l);
		ASSERT_FALSE(host_link_dead(l));
		if (buf_len(l->to_cli) > most_to_cli)
			most_to_cli = buf_len(l->to_cli);
		n = read(sv[1], got, sizeof got);
		if (n < 0 && errno == EAGAIN)
			continue;
		ASSERT_TRUE(n > 0);
		fake_pattern(want, received, (size_t)n);
		ASSERT_MEM_EQ(got, want, (size_t)n);
		received += (uint64_t)n;
		if (fake.most_held > (16u << 20))
			break; /* (it only grows from here) */
	}
	/* libssh: a window's worth and the half it may add in a callback */
	ASSERT_TRUE(fake.most_held <= 3u * FAKE_WINDOWBASE);
	ASSERT_TRUE(most_to_cli <= HOST_LINK_BUFFER + 3u * FAKE_WINDOWBASE);
	/* the client read all the while */
	ASSERT_TRUE(received > 1000u * sizeof got);

	host_link_set_state(l, HOST_LINK_DEAD);
	host_drop_dead_links(&h);
	close(sv[1]);
	buf_free(fake.held);
	free(fake.pkt);
}
