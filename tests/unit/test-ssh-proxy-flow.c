/* test-ssh-proxy-flow.c - the client's bytes for a channel of `rdev
 * ssh-proxy` whose exec has not started yet (client/ssh-proxy-flow.c): they
 * wait in the proxy up to SSH_PROXY_IN_MAX, the rest stays in libssh (whose
 * window then stops the client), and the EOF waits behind them. No ssh
 * session: the channel is the struct alone. */
#include "test.h"

#include <stdlib.h>

#include "buf.h"
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
