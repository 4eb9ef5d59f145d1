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
#include "shell-quote.h"
#include "xmalloc.h"

int
client_broker_stale(pid_t *pid, char **exe, char **fix)
{
	char *path = NULL, *ours = NULL, *cause = NULL;
	int systemd, rc = 0;

	*exe = *fix = NULL;
	/* No pid file (no broker, or one from before it), a dead pid, or not
	 * ours: nothing to say. The broker itself is never asked, and its
	 * directory is not made by a look (every command looks). */
	if ((path = runtime_dir_lookup(BROKER_PID_NAME, &cause)) == NULL ||
	    broker_stale_pid_read(path, pid, &systemd) != 0)
		goto out;
	ours = broker_client_sibling("rdev-broker");
	if (broker_stale_check(*pid, ours, exe) != BROKER_STALE_OLDER) {
		free(*exe);
		*exe = NULL;
		goto out;
	}
	if (systemd)
		*fix = xstrdup("systemctl --user restart rdev-broker");
	else {
		/* (quoted where it needs to be: pasted as shown) */
		const char *argv[] = { ours, "restart", NULL };

		*fix = shell_quote_argv(argv, SHELL_QUOTE_HINT);
	}
	rc = 1;
out:
	free(cause);
	free(path);
	free(ours);
	return rc;
}

void
client_broker_check(const char *command)
{
	char *exe, *fix;
	pid_t pid;

	/* (ssh runs it; its stderr is not the user's terminal. doctor says
	 * it as one of its findings, with its fix: not twice) */
	if (strcmp(command, "ssh-proxy") == 0 || strcmp(command, "doctor") == 0)
		return;
	if (!client_broker_stale(&pid, &exe, &fix))
		return;
	/* (a warning: -q holds it, shown with an error) */
	progress_stderr_line(0,
	    "rdev: warning: rdev-broker (pid %ld) runs an older build of %s: "
	    "`%s` " CLIENT_BROKER_STALE_FIX,
	    (long)pid, exe, fix);
	free(exe);
	free(fix);
}
