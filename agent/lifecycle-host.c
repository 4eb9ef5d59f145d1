/* lifecycle-host.c - run initializeCommand on this host, in the workspace
 * folder, its commands' output streamed line by line (lifecycle.h).
 *
 * Not with common/spawn.c, which runs one program to its end and keeps all it
 * prints: here an object's entries run at once, their output is only
 * streamed, their stdin is /dev/null, and one that cannot be run exits 127
 * with "cannot run ..." among its output lines, as under a shell. */
#include "lifecycle.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "xmalloc.h"

struct lifecycle_child {
	const struct lifecycle_cmd *cmd;
	pid_t pid;
	int fds[2]; /* stdout, stderr read ends; -1 when closed */
	struct lifecycle_lines lines[2];
	int status;
};

struct lifecycle_host_out {
	lifecycle_output_fn out;
	void *arg;
};

static void
lifecycle_host_line(void *arg, const char *line)
{
	struct lifecycle_host_out *ho = arg;

	if (ho->out != NULL)
		ho->out(ho->arg, "initializeCommand", line);
}

/* Start one command with its stdout and stderr on pipes. */
static int
lifecycle_child_start(struct lifecycle_child *ch, const char *cwd, char **cause)
{
	int outp[2], errp[2], devnull;
	pid_t pid;

	if (pipe2(outp, O_CLOEXEC) != 0)
		return error_set_errno(cause, errno, "initializeCommand: pipe");
	if (pipe2(errp, O_CLOEXEC) != 0) {
		close(outp[0]);
		close(outp[1]);
		return error_set_errno(cause, errno, "initializeCommand: pipe");
	}
	if ((pid = fork()) < 0) {
		close(outp[0]);
		close(outp[1]);
		close(errp[0]);
		close(errp[1]);
		return error_set_errno(cause, errno, "initializeCommand: fork");
	}
	if (pid == 0) {
		devnull = open("/dev/null", O_RDONLY);
		if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(outp[1], 1) < 0 ||
		    dup2(errp[1], 2) < 0)
			_exit(127);
		signal(SIGPIPE, SIG_DFL);
		if (cwd != NULL && chdir(cwd) != 0) {
			dprintf(2, "cannot change to %s: %s\n", cwd, strerror(errno));
			_exit(127);
		}
		execvp(ch->cmd->argv[0], ch->cmd->argv);
		dprintf(2, "cannot run %s: %s\n", ch->cmd->argv[0], strerror(errno));
		_exit(127);
	}
	close(outp[1]);
	close(errp[1]);
	ch->pid = pid;
	ch->fds[0] = outp[0];
	ch->fds[1] = errp[0];
	return 0;
}

/* Run a group's commands at once, streaming their output, and wait for all. */
static int
lifecycle_host_group_run(const struct lifecycle_group *g, const char *cwd,
    struct lifecycle_host_out *ho, char **cause)
{
	struct lifecycle_child *ch = xcalloc(g->ncmds, sizeof *ch);
	struct pollfd *pfd = xcalloc(2 * g->ncmds, sizeof *pfd);
	char tmp[16384], *pfx, *err = NULL;
	size_t i, started = 0, open_fds = 0;
	int rc = 0, s;
	ssize_t n;

	for (i = 0; i < g->ncmds; i++) {
		ch[i].cmd = &g->cmds[i];
		ch[i].fds[0] = ch[i].fds[1] = -1;
		pfx =
		    g->cmds[i].name != NULL ? xasprintf("[%s] ", g->cmds[i].name) : NULL;
		lifecycle_lines_init(&ch[i].lines[0], pfx);
		lifecycle_lines_init(&ch[i].lines[1], pfx);
		free(pfx);
	}
	for (i = 0; i < g->ncmds; i++) {
		if (lifecycle_child_start(&ch[i], cwd, &err) != 0)
			break;
		started++;
		open_fds += 2;
	}
	while (open_fds > 0) {
		for (i = 0; i < 2 * started; i++)
			pfd[i] = (struct pollfd){ .fd = ch[i / 2].fds[i % 2],
				.events = POLLIN };
		if (poll(pfd, 2 * started, -1) < 0) {
			if (errno == EINTR)
				continue;
			fatal("poll: %s", strerror(errno));
		}
		for (i = 0; i < 2 * started; i++) {
			if (pfd[i].fd < 0 || pfd[i].revents == 0)
				continue;
			n = read(pfd[i].fd, tmp, sizeof tmp);
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n <= 0) {
				close(pfd[i].fd);
				ch[i / 2].fds[i % 2] = -1;
				open_fds--;
				continue;
			}
			lifecycle_lines_feed(&ch[i / 2].lines[i % 2], tmp, (size_t)n,
			    lifecycle_host_line, ho);
		}
	}
	for (i = 0; i < started; i++) {
		while (waitpid(ch[i].pid, &s, 0) < 0) {
			if (errno != EINTR)
				fatal("waitpid: %s", strerror(errno));
		}
		ch[i].status = s;
	}
	for (i = 0; i < g->ncmds; i++) {
		lifecycle_lines_finish(&ch[i].lines[0], lifecycle_host_line, ho);
		lifecycle_lines_finish(&ch[i].lines[1], lifecycle_host_line, ho);
	}
	for (i = 0; i < started && err == NULL; i++) {
		s = ch[i].status;
		if (WIFEXITED(s) && WEXITSTATUS(s) != 0)
			err = lifecycle_failure_message(
			    "initializeCommand", ch[i].cmd, 1, WEXITSTATUS(s));
		else if (WIFSIGNALED(s))
			err = lifecycle_failure_message(
			    "initializeCommand", ch[i].cmd, 0, WTERMSIG(s));
	}
	if (err != NULL) {
		if (cause != NULL)
			*cause = err;
		else
			free(err);
		rc = -1;
	}
	free(pfd);
	free(ch);
	return rc;
}

int
lifecycle_run_initialize(const cJSON *command, const char *workspace_folder,
    lifecycle_output_fn out, void *out_arg, char **cause)
{
	struct lifecycle_host_out ho = { out, out_arg };
	struct lifecycle_group g;
	int rc;

	if (command == NULL)
		return 0;
	if (lifecycle_group_parse(command, "initializeCommand", &g, cause) != 0) {
		lifecycle_group_clear(&g);
		return -1;
	}
	rc = g.ncmds > 0 ? lifecycle_host_group_run(&g, workspace_folder, &ho, cause) : 0;
	lifecycle_group_clear(&g);
	return rc;
}
