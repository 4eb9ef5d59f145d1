/* test-ssh-proxy-relay.c - a direct-tcpip channel of `rdev ssh-proxy` reading
 * its relay's output (client/ssh-proxy-relay.c): the server's bytes reach
 * the channel; after a broken chunk nothing more does, and the exec is
 * given up (a CLOSE for the agent). No ssh session: the channel is the
 * struct alone, its agent connection a socketpair nobody reads. */
#include "test.h"

#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "proto-conn.h"
#include "ssh-proxy-internal.h"

struct fixture {
	struct ssh_proxy p;
	struct ssh_proxy_chan pc;
	int sv[2];
};

static void
fixture_init(struct fixture *fx)
{
	memset(fx, 0, sizeof *fx);
	log_set_level(LOG_ERROR);
	ASSERT_INT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fx->sv), 0);
	fx->p.c = proto_conn_new(fx->sv[0], "test");
	fx->pc.p = &fx->p;
	fx->pc.state = SSH_PROXY_CHAN_RUNNING;
	fx->pc.agent_ch = 3;
	fx->pc.forward_port = 8080;
	fx->pc.out = buf_new();
}

static void
fixture_free(struct fixture *fx)
{
	buf_free(fx->pc.out);
	proto_conn_free(fx->p.c);
	close(fx->sv[1]);
}

TEST(status_data_end)
{
	static const unsigned char data[] = { 0, 0, 0, 0, 2, 'h', 'i', 0, 0, 0, 0 };
	struct fixture fx;

	fixture_init(&fx);
	ssh_proxy_relay_output(&fx.pc, data, sizeof data);
	ASSERT_INT_EQ(buf_len(fx.pc.out), 2);
	ASSERT_MEM_EQ(buf_data(fx.pc.out), "hi", 2);
	ASSERT_INT_EQ(fx.pc.out_eof, 1);
	ASSERT_INT_EQ(proto_conn_pending_out(fx.p.c), 0);
	fixture_free(&fx);
}

TEST(nothing_after_a_broken_chunk)
{
	/* a chunk of 256 MiB (more than RELAY_CHUNKS_MAX), then bytes that
	 * would read as its data */
	static const unsigned char huge[] = { 0, 0x10, 0, 0, 0 };
	static const unsigned char more[] = { 'x', 'y', 'z' };
	struct fixture fx;

	fixture_init(&fx);
	ssh_proxy_relay_output(&fx.pc, huge, sizeof huge);
	ssh_proxy_relay_output(&fx.pc, more, sizeof more);
	ASSERT_INT_EQ(buf_len(fx.pc.out), 0);
	/* the exec given up: its CLOSE queued for the agent */
	ASSERT_INT_NE(proto_conn_pending_out(fx.p.c), 0);
	fixture_free(&fx);
}

/* auth-agent-req on a channel opened before the link was lost, sent while
 * it is: nothing is asked on the lost link (whose request would be dropped
 * and its answer waited for forever: the relay ASKING, forwarding WAITING,
 * the channel and every later relay channel hung); the channel asks at its
 * start, on the new link. */
TEST(agent_req_while_the_link_is_lost)
{
	struct ssh_proxy_opts o = { .folder = "/ws" };
	struct fixture fx;
	struct proto_conn *old;

	fixture_init(&fx);
	fx.p.o = &o;
	fx.pc.state = SSH_PROXY_CHAN_OPEN;
	fx.pc.forward_port = 0;
	fx.p.lost = 1;
	old = fx.p.c;
	fx.p.c = NULL;
	ssh_proxy_fwd_request(&fx.pc);
	ASSERT_INT_EQ(fx.pc.agent_req, 1);
	ASSERT_INT_EQ(fx.p.relay, SSH_PROXY_RELAY_UNKNOWN);
	ASSERT_INT_EQ(fx.p.fwd, SSH_PROXY_FWD_NONE);
	/* the next link: the channel's start waits for the socket, and the
	 * relay is asked for on it */
	fx.p.lost = 0;
	fx.p.c = old;
	ASSERT_INT_EQ(ssh_proxy_fwd_hold(&fx.pc, "true", NULL), 1);
	ASSERT_INT_EQ(fx.p.fwd, SSH_PROXY_FWD_WAITING);
	ASSERT_INT_EQ(fx.p.relay, SSH_PROXY_RELAY_ASKING);
	ASSERT_INT_NE(proto_conn_pending_out(fx.p.c), 0);
	free(fx.pc.held_script);
	free(fx.pc.held_arg);
	fixture_free(&fx);
}
