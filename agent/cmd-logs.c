/* cmd-logs.c - `logs PATH [-f]`: the background lifecycle log of the
 * workspace's container; -f follows it until the background steps end. */
#include "agent-cmds.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent-ops.h"
#include "error.h"
#include "json-get.h"
#include "lifecycle.h"
#include "xmalloc.h"

/* How often -f looks for news: the local file, the remote agent. */
#define CMD_LOGS_POLL_LOCAL_US (200 * 1000)
#define CMD_LOGS_POLL_REMOTE_US (500 * 1000)

/* Copy fd from where it is to its end on stdout. */
static int
cmd_logs_copy(int fd, const char *path, char **cause)
{
	char buf[65536];
	ssize_t n;

	for (;;) {
		n = read(fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return error_set_errno(cause, errno, "%s", path);
		if (n == 0)
			return 0;
		if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
			return error_set_errno(cause, errno, "stdout");
	}
}

/* -f on this host: print the log as it grows until the background run has
 * ended; *failed gets its error if it failed. 0, or -1 with *cause. */
static int
cmd_logs_follow_local(const char *state_dir, const char *id, char **failed, char **cause)
{
	struct lifecycle_bg_status st;
	char *path = lifecycle_log_path(state_dir, id);
	int fd = -1, rc = -1, running;

	*failed = NULL;
	for (;;) {
		/* The state first: a run that has ended has written its log. */
		if (lifecycle_bg_status_read(state_dir, id, &st, cause) != 0)
			goto out;
		running = st.state == LIFECYCLE_BG_RUNNING;
		if (st.state == LIFECYCLE_BG_FAILED)
			*failed = xstrdup(st.error);
		lifecycle_bg_status_clear(&st);
		if (fd < 0 && (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 &&
		    errno != ENOENT) {
			error_set_errno(cause, errno, "%s", path);
			goto out;
		}
		if (fd >= 0 && cmd_logs_copy(fd, path, cause) != 0)
			goto out;
		if (!running)
			break;
		fflush(stdout);
		usleep(CMD_LOGS_POLL_LOCAL_US);
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(path);
	return rc;
}

/* -f through a backend (a remote agent): ask for what the log gained, until
 * the background run has ended and all of it is here. */
static int
cmd_logs_follow_backend(const struct agent_backend *be, const struct agent_cmd_args *a,
    char **failed, char **cause)
{
	const cJSON *log, *bg, *state, *error;
	long long at = -1;
	long offset, size;
	cJSON *result;
	int done, news, known;

	*failed = NULL;
	for (;;) {
		if (be->logs(be->ctx, a->folder, a->config_file, 4u << 20, at, &result,
			cause) != 0)
			return -1;
		log = cJSON_GetObjectItemCaseSensitive(result, "log");
		known = json_get_int(result, "offset", 0, LONG_MAX, &offset) == 0 &&
		    json_get_int(result, "size", 0, LONG_MAX, &size) == 0;
		bg = cJSON_GetObjectItemCaseSensitive(result, "background");
		state = cJSON_GetObjectItemCaseSensitive(bg, "state");
		error = cJSON_GetObjectItemCaseSensitive(bg, "error");
		news = cJSON_IsString(log) && log->valuestring[0] != '\0';
		if (news)
			fputs(log->valuestring, stdout);
		/* An agent that cannot say where it is has nothing to follow. */
		done = !known ||
		    ((!cJSON_IsString(state) ||
			 strcmp(state->valuestring, "running") != 0) &&
			offset >= size);
		if (known)
			at = offset;
		if (done && cJSON_IsString(state) &&
		    strcmp(state->valuestring, "failed") == 0)
			*failed = xstrdup(cJSON_IsString(error)
				? error->valuestring
				: "the background lifecycle steps failed");
		cJSON_Delete(result);
		if (done)
			return 0;
		fflush(stdout);
		if (!news)
			usleep(CMD_LOGS_POLL_REMOTE_US);
	}
}

int
agent_cmd_logs_on(const struct agent_backend *be, const struct cmd_program *prog,
    const struct cmd_entry *entry, int argc, char **argv)
{
	struct agent_cmd_args a;
	char *cause = NULL, *state = NULL, *id = NULL, *up_cmd = NULL, *failed = NULL;
	int rc = CMD_EXIT_FAILURE;

	if (agent_cmd_args_parse(prog, entry, argc, argv,
		AGENT_ARG_FOLDER | AGENT_ARG_FOLLOW | AGENT_ARG_JSON, &a) != 0)
		return CMD_EXIT_USAGE;
	if (a.json && a.follow)
		return cmd_usage_error(prog, entry, "--json and --follow do not mix");
	up_cmd = agent_up_command(prog->name, a.folder, a.config_file);
	if (a.follow) {
		if (be->logs != NULL) {
			if (cmd_logs_follow_backend(be, &a, &failed, &cause) != 0)
				goto out;
		} else if (agent_op_logs_locate(a.folder, a.config_file, up_cmd, &state,
			       &id, &cause) != 0 ||
		    cmd_logs_follow_local(state, id, &failed, &cause) != 0)
			goto out;
		fflush(stdout);
		if (failed != NULL)
			fprintf(stderr,
			    "%s: logs: the background lifecycle steps failed: %s\n",
			    prog->name, failed);
		rc = failed != NULL ? CMD_EXIT_FAILURE : CMD_EXIT_OK;
		goto out;
	}
	{
		cJSON *result = NULL;
		const cJSON *log;
		char *text;

		if ((be->logs != NULL ? be->logs(be->ctx, a.folder, a.config_file,
					    4u << 20, -1, &result, &cause)
				      : agent_op_logs(a.folder, a.config_file, up_cmd,
					    64u << 20, -1, &result, &cause)) != 0)
			goto out;
		log = cJSON_GetObjectItemCaseSensitive(result, "log");
		if (a.json) {
			text = cJSON_PrintUnformatted(result);
			printf("%s\n", text);
			free(text);
		} else if (cJSON_IsString(log) && log->valuestring[0] != '\0')
			fputs(log->valuestring, stdout);
		else
			fprintf(stderr,
			    "%s: no background lifecycle output for this "
			    "container\n",
			    prog->name);
		cJSON_Delete(result);
		rc = CMD_EXIT_OK;
	}
out:
	if (cause != NULL)
		fprintf(stderr, "%s: logs: %s\n", prog->name, cause);
	free(cause);
	free(failed);
	free(state);
	free(id);
	free(up_cmd);
	return rc;
}

int
agent_cmd_logs(
    const struct cmd_program *prog, const struct cmd_entry *entry, int argc, char **argv)
{
	return agent_cmd_logs_on(&agent_backend_local, prog, entry, argc, argv);
}
