/* test-ssh-proxy-flow.c - the client's bytes for a channel of `rdev
 * ssh-proxy` (client/ssh-proxy-flow.c): before its exec has started they
 * wait in the proxy up to SSH_PROXY_IN_MAX, the rest stays in libssh (whose
 * window then stops the client), and the EOF waits behind them; a held
 * channel's bytes pulled from libssh keep their order and the stdin credit.
 * No ssh session: the channel is the struct alone, libssh's read and poll
 * stand-ins (--wrap). */
#include "test.h"

#include <sys/socket.h>

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "proto-conn.h"
#include "ssh-proxy-internal.h"

TEST(bytes_before_the_start_are_bounded)
{
	static char mib[1u << 20];
	struct ssh_proxy p = { 0 };
	struct ssh_proxy_chan pc = { 0 };
	int i, taken = 0;

	pc.p = &p;
	pc.state = SSH_PROXY_CHAN_OPEN;
	pc.forward_port = 8080; /* waiting for the relay */
	pc.in = buf_new();
	for (i = 0; i < 6; i++)
		taken += ssh_proxy_flow_on_data(NULL, NULL, mib, sizeof mib, 0, &pc);
	ASSERT_INT_EQ(taken, SSH_PROXY_IN_MAX);
	ASSERT_INT_EQ(buf_len(pc.in), SSH_PROXY_IN_MAX);
	ASSERT_INT_EQ(pc.in_held, 1);
	ssh_proxy_flow_on_eof(NULL, NULL, &pc);
	ASSERT_INT_EQ(pc.in_eof, 1);
	buf_free(pc.in);
}

/* libssh as ssh_proxy_flow_pull meets it (the test links with
 * --wrap=ssh_channel_read_nonblocking, tests/CMakeLists.txt): the bytes it
 * holds for the channel, and a packet that arrives while a read is being
 * answered, which libssh hands to the data callback first (what it does not
 * take stays in libssh, after the bytes before it). */
static struct {
	struct ssh_proxy_chan *pc;
	char held[256];
	size_t nheld;
	const char *arriving; /* the next read's new packet, or NULL */
	size_t narriving;
	int reads;
} fake_libssh;

int __wrap_ssh_channel_read_nonblocking(
    ssh_channel ch, void *dest, uint32_t count, int is_stderr);

int
__wrap_ssh_channel_read_nonblocking(
    ssh_channel ch, void *dest, uint32_t count, int is_stderr)
{
	size_t taken, n;

	(void)ch;
	(void)is_stderr;
	fake_libssh.reads++;
	if (fake_libssh.arriving != NULL) {
		taken = (size_t)ssh_proxy_flow_on_data(NULL, NULL,
		    (void *)fake_libssh.arriving, (uint32_t)fake_libssh.narriving, 0,
		    fake_libssh.pc);
		memcpy(fake_libssh.held + fake_libssh.nheld, fake_libssh.arriving + taken,
		    fake_libssh.narriving - taken);
		fake_libssh.nheld += fake_libssh.narriving - taken;
		fake_libssh.arriving = NULL;
	}
	n = count < fake_libssh.nheld ? count : fake_libssh.nheld;
	memcpy(dest, fake_libssh.held, n);
	memmove(fake_libssh.held, fake_libssh.held + n, fake_libssh.nheld - n);
	fake_libssh.nheld -= n;
	return (int)n;
}

/* What libssh says it holds for the channel (ssh_proxy_flow_take sizes its
 * read by it; --wrap=ssh_channel_poll): the bytes held before the read. */
int __wrap_ssh_channel_poll(ssh_channel ch, int is_stderr);

int
__wrap_ssh_channel_poll(ssh_channel ch, int is_stderr)
{
	(void)ch;
	(void)is_stderr;
	return (int)fake_libssh.nheld;
}

/* Every DATA payload queued on c so far, in order, into got (NUL-ended). */
static void
queued_data(struct proto_conn *c, struct proto_conn *peer, char *got, size_t size)
{
	struct proto_frame f;
	size_t len = 0;
	char *cause = NULL;

	ASSERT_INT_EQ(proto_conn_flush(c, &cause), 0);
	ASSERT_INT_EQ(proto_conn_read_some(peer, &cause), 1);
	while (proto_conn_next(peer, &f, &cause) == 1) {
		ASSERT_INT_EQ(f.type, PROTO_DATA);
		ASSERT_TRUE(len + f.len < size);
		memcpy(got + len, f.payload, f.len);
		len += f.len;
	}
	got[len] = '\0';
}

/* A held channel read from libssh while a new packet arrives inside the
 * read: the packet stays in libssh behind the bytes held before it, so the
 * agent gets the stream whole and in order, within the stdin credit. (The
 * callback used to send the packet first, taking the credit the read was
 * sized for, and the read's bytes were dropped: e2e/ssh-proxy's 300 MB
 * arrived 2,848 bytes short.) */
TEST(a_packet_arriving_inside_a_pull_keeps_its_place)
{
	struct ssh_proxy p = { 0 };
	struct ssh_proxy_chan pc = { 0 };
	struct proto_conn *peer;
	char got[512];
	int sv[2];

	ASSERT_INT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	p.c = proto_conn_new(sv[0], "agent");
	peer = proto_conn_new(sv[1], "the agent's end");
	pc.p = &p;
	pc.state = SSH_PROXY_CHAN_RUNNING;
	pc.in = buf_new();
	pc.in_paced = 1;
	pc.in_credit = 100;
	pc.in_held = 1;
	fake_libssh.pc = &pc;
	memset(fake_libssh.held, 'a', 100);
	fake_libssh.nheld = 100;
	fake_libssh.arriving =
	    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
	fake_libssh.narriving = 60;

	ssh_proxy_flow_pull(&pc);
	queued_data(p.c, peer, got, sizeof got);
	ASSERT_INT_EQ(strlen(got), 100);
	ASSERT_INT_EQ(strspn(got, "a"), 100);
	ASSERT_INT_EQ(pc.in_credit, 0);
	ASSERT_INT_EQ(fake_libssh.nheld, 60);

	pc.in_credit = 1000; /* (the agent's WINDOW frame) */
	ssh_proxy_flow_pull(&pc);
	queued_data(p.c, peer, got, sizeof got);
	ASSERT_INT_EQ(strlen(got), 60);
	ASSERT_INT_EQ(strspn(got, "b"), 60);
	ASSERT_INT_EQ(pc.in_held, 0);
	ASSERT_INT_EQ(fake_libssh.nheld, 0);

	proto_conn_free(p.c);
	proto_conn_free(peer);
	buf_free(pc.in);
}
