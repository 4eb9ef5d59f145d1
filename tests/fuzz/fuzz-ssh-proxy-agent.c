/* fuzz-ssh-proxy-agent.c - fuzz what `rdev ssh-proxy` reads from the
 * container's agent socket relay (client/ssh-proxy-agent.c,
 * ssh_proxy_agent_output: frames u8 type, u32 connection id, u32 length,
 * then the bytes; docs/PROTOCOL.md "`--agent-socket`"). The container's
 * side is not trusted: any bytes must leave the proxy whole, with bounded
 * connections and buffers. Nothing touches a network: the ssh session is
 * never connected, so libssh gives no channel and each connection the relay
 * opens is ended at once ('E' back): what is fuzzed is the framing, the
 * socket path and frames for connections that do not exist; the frames
 * queued for the relay go to a socketpair nobody reads.
 *
 * Input: one byte, the chunk size (0: all at once), then the bytes, fed in
 * those chunks so that frames are split anywhere; a step of the channels
 * after every chunk. Checked besides the sanitizers: the socket path, once
 * known, is a C string of fewer than 256 bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libssh/libssh.h>

#include "fuzz.h"
#include "log.h"
#include "proto-conn.h"
#include "ssh-proxy.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ssh_proxy_agent *a;
	struct proto_conn *c;
	ssh_session s;
	const char *path;
	size_t chunk, n;
	int sv[2];

	if (size < 1)
		return 0;
	log_set_level(LOG_ERROR);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		abort();
	if ((s = ssh_new()) == NULL)
		abort();
	c = proto_conn_new(sv[0], "fuzz");
	a = ssh_proxy_agent_new(s, c, 2);
	chunk = data[0];
	data++;
	size--;
	while (size > 0) {
		n = chunk == 0 || chunk > size ? size : chunk;
		ssh_proxy_agent_output(a, data, n);
		ssh_proxy_agent_step(a);
		data += n;
		size -= n;
	}
	if ((path = ssh_proxy_agent_path(a)) != NULL && strlen(path) >= 256)
		abort();
	ssh_proxy_agent_free(a);
	proto_conn_free(c);
	ssh_free(s);
	close(sv[1]);
	return 0;
}
