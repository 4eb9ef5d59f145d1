/* local-exec.c - the local host's other way into a container, for when its
 * address does not answer (Docker Desktop: container addresses are not
 * routable from the host) or RDEV_LOCAL_FORWARD_VIA=exec asks for it: per
 * connection a `rdev-agent connect CONTAINER PORT` (agent/cmd-connect.c),
 * its stdin and stdout one end of a socketpair, which carries the
 * connection's bytes raw and its half closes; the agent runs the container's
 * rdev-relay as a Docker exec attached to them (local-internal.h). */
#include "local-internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/util.h>

#include "error.h"
#include "spawn.h"

int
local_exec_forced(void)
{
	const char *via = getenv("RDEV_LOCAL_FORWARD_VIA");

	return via != NULL && strcmp(via, "exec") == 0;
}

int
local_exec_open(struct local_host *lh, const char *cid, int port, int *fd, char **cause)
{
	char port_s[16];
	const char *argv[] = { lh->agent_path, "connect", cid, port_s, NULL };
	int pid;

	if (lh->agent_path == NULL)
		return error_set(cause, "%s",
		    lh->agent_error != NULL ? lh->agent_error : "no rdev-agent to run");
	if (cid == NULL)
		return error_set(cause, "the agent did not say which container");
	snprintf(port_s, sizeof port_s, "%d", port);
	/* Detached: the agent ends on its own once its socket does, and
	 * nothing of the broker must reap it. */
	if (spawn_socketpair(argv, 1, &pid, fd, cause) != 0)
		return -1;
	evutil_make_socket_nonblocking(*fd);
	return 0;
}
