/* local-exec.c - the local host's other way into a container, for when its
 * address does not answer (Docker Desktop: container addresses are not
 * routable from the host) or RDEV_LOCAL_FORWARD_VIA=exec asks for it: per
 * connection a `rdev-agent connect CONTAINER PORT` (agent/cmd-connect.c),
 * its stdin and stdout one end of a socketpair, which carries the
 * connection's bytes raw and its half closes; the agent runs the container's
 * rdev-relay as a Docker exec attached to them (local-internal.h). */
#include "local-internal.h"

#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/util.h>

#include "error.h"

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
	int sv[2], status;
	pid_t pid;

	if (lh->agent_path == NULL)
		return error_set(cause, "%s",
		    lh->agent_error != NULL ? lh->agent_error : "no rdev-agent to run");
	if (cid == NULL)
		return error_set(cause, "the agent did not say which container");
	snprintf(port_s, sizeof port_s, "%d", port);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return error_set_errno(cause, errno, "socketpair");
	/* Twice, so that the agent is nobody's child here: it ends on its own
	 * once its socket does, and nothing of the broker must reap it. */
	if ((pid = fork()) < 0) {
		close(sv[0]);
		close(sv[1]);
		return error_set_errno(cause, errno, "fork");
	}
	if (pid == 0) {
		if (fork() != 0)
			_exit(0);
		/* The broker ignores SIGPIPE; the agent must not inherit that. */
		signal(SIGPIPE, SIG_DFL);
		if (dup2(sv[1], 0) < 0 || dup2(sv[1], 1) < 0)
			_exit(127);
		execl(
		    lh->agent_path, lh->agent_path, "connect", cid, port_s, (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	evutil_make_socket_nonblocking(sv[0]);
	*fd = sv[0];
	return 0;
}
