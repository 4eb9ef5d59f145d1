/* broker-check.c - say when the running broker is an older build of ours
 * (client.h; broker-stale.h says what counts as older). */
#include "client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker-client.h"
#include "broker-stale.h"
#include "progress.h"
#include "runtime-dir.h"

void
client_broker_check(const char *command)
{
	char *path = NULL, *ours = NULL, *exe = NULL, *cause = NULL;
	pid_t pid;
	int systemd;

	/* (ssh runs it; its stderr is not the user's terminal) */
	if (strcmp(command, "ssh-proxy") == 0)
		return;
	/* No pid file (no broker, or one from before it), a dead pid, or not
	 * ours: say nothing. The broker itself is never asked, and its
	 * directory is not made by a look (every command looks). */
	if ((path = runtime_dir_lookup(BROKER_PID_NAME, &cause)) == NULL ||
	    broker_stale_pid_read(path, &pid, &systemd) != 0)
		goto out;
	ours = broker_client_sibling("rdev-broker");
	if (broker_stale_check(pid, ours, &exe) != BROKER_STALE_OLDER)
		goto out;
	/* (a warning: -q holds it, shown with an error) */
	progress_stderr_line(0,
	    "rdev: warning: rdev-broker (pid %ld) runs an older build of %s: "
	    "`%s%s` switches to this one (forwards and syncs are kept; open "
	    "sessions end)",
	    (long)pid, exe, systemd ? "systemctl --user restart rdev-broker" : ours,
	    systemd ? "" : " restart");
out:
	free(cause);
	free(path);
	free(ours);
	free(exe);
}
