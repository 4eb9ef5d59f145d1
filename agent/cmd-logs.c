/* cmd-logs.c - `logs PATH [-f]`: the background lifecycle log of the
 * workspace's container; -f follows it until the background steps end. */
#include "agent-cmds.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent-ops.h"
#include "atomic-file.h"
#include "error.h"
#include "json-get.h"
#include "lifecycle.h"
#include "xmalloc.h"

/* Said on stderr (%s: the program's name) when there is no log to show. */
#define CMD_LOGS_NONE "%s: no background lifecycle output for this container\n"
/* How often -f asks for news when there were none. */
#define CMD_LOGS_POLL_US (300 * 1000)
/* The most one answer carries (the agent's limit too). */
#define CMD_LOGS_CHUNK (4u << 20)

/* The log from offset on (offset < 0: its last CMD_LOGS_CHUNK bytes); on
 * failure nothing in *result. */
static int
cmd_logs_ask(const struct agent_backend *be, const struct cmd_program *prog,
    const struct agent_cmd_args *a, long long offset, cJSON **result, char **cause)
{
	cJSON *req = agent_cmd_args_request(prog->name, "logs", a);

	cJSON_AddNumberToObject(req, "maxBytes", CMD_LOGS_CHUNK);
	if (offset >= 0)
		cJSON_AddNumberToObject(req, "offset", (double)offset);
	if (be->call(be->ctx, req, NULL, result, cause) == 0)
		return 0;
	cJSON_Delete(*result);
	*result = NULL;
	return -1;
}

/* Write text to our stdout, waiting while it is full (a non-blocking one).
 * 0; 1 when its reader went away; -1 with *cause ("stdout: No space left on
 * device"). */
static int
cmd_logs_write(const char *text, char **cause)
{
	/* (not stdio: it drops what a write that said EAGAIN did not take) */
	if (fflush(stdout) == 0 && fd_write_all_wait(1, text, strlen(text)) == 0)
		return 0;
	if (fd_write_reader_gone(errno))
		return 1;
	return error_set_errno(cause, errno, "stdout");
}

/* -f: ask for what the log gained, until the background run has ended and
 * all of it is here. 0; 1 when our stdout's reader went away; 2 with *cause
 * when writing to it failed otherwise; -1 with *cause. *wrote: whether any
 * of the log was written (none: no background run, or one that said
 * nothing). */
static int
cmd_logs_follow(const struct agent_backend *be, const struct cmd_program *prog,
    const struct agent_cmd_args *a, char **failed, int *wrote, char **cause)
{
	const cJSON *log, *bg, *state, *error;
	long long at = -1;
	long offset, size;
	cJSON *result;
	int done, news, known, w;

	*failed = NULL;
	*wrote = 0;
	for (;;) {
		if (cmd_logs_ask(be, prog, a, at, &result, cause) != 0)
			return -1;
		log = cJSON_GetObjectItemCaseSensitive(result, "log");
		known = json_get_int(result, "offset", 0, LONG_MAX, &offset) == 0 &&
		    json_get_int(result, "size", 0, LONG_MAX, &size) == 0;
		bg = cJSON_GetObjectItemCaseSensitive(result, "background");
		state = cJSON_GetObjectItemCaseSensitive(bg, "state");
		error = cJSON_GetObjectItemCaseSensitive(bg, "error");
		news = cJSON_IsString(log) && log->valuestring[0] != '\0';
		/* SIGPIPE is ignored, so a reader gone (`rdev logs -f | head`)
		 * shows only as a failed write: following on would last as
		 * long as the steps, for ever for a server started in
		 * postStartCommand. Any other failure (a full disk) ends it
		 * too, not to end with 0 and the log cut. */
		if (news && (w = cmd_logs_write(log->valuestring, cause)) != 0) {
			cJSON_Delete(result);
			return w < 0 ? 2 : 1;
		}
		*wrote |= news;
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
		if (!news)
			usleep(CMD_LOGS_POLL_US);
	}
}

/* logs' arguments into *a: 0, or CMD_EXIT_USAGE after printing why. */
int
agent_cmd_logs_parse(const struct cmd_program *prog, const struct cmd_entry *entry,
    int argc, char **argv, struct agent_cmd_args *a)
{
	if (agent_cmd_args_parse(prog, entry, argc, argv,
		AGENT_ARG_FOLDER | AGENT_ARG_FOLLOW | AGENT_ARG_JSON | AGENT_ARG_ID_LABEL,
		a) != 0)
		return CMD_EXIT_USAGE;
	if (a->json && a->follow) {
		agent_cmd_args_clear(a);
		return cmd_usage_error(prog, entry, "--json and --follow do not mix");
	}
	return 0;
}

int
agent_cmd_logs(const struct agent_backend *be, const struct cmd_program *prog,
    const struct cmd_entry *entry, int argc, char **argv)
{
	struct agent_cmd_args a;
	char *cause = NULL, *failed = NULL;
	int rc = CMD_EXIT_FAILURE, wrote;

	if (agent_cmd_logs_parse(prog, entry, argc, argv, &a) != 0)
		return CMD_EXIT_USAGE;
	if (a.follow) {
		if ((rc = cmd_logs_follow(be, prog, &a, &failed, &wrote, &cause)) != 0) {
			/* (as `tail -f | head` ends: by SIGPIPE; a failed
			 * output as exec's) */
			rc = rc == 1  ? 128 + SIGPIPE
			    : rc == 2 ? AGENT_EXIT_EXEC_FAILED
				      : CMD_EXIT_FAILURE;
			goto out;
		}
		if (failed != NULL)
			fprintf(stderr,
			    "%s: logs: the background lifecycle steps failed: %s\n",
			    prog->name, failed);
		else if (!wrote) /* (as plain logs says it: not a silent 0) */
			fprintf(stderr, CMD_LOGS_NONE, prog->name);
		rc = failed != NULL ? CMD_EXIT_FAILURE : CMD_EXIT_OK;
		goto out;
	}
	{
		cJSON *result = NULL;
		const cJSON *log;
		char *text = NULL;
		int w = 0;

		if (cmd_logs_ask(be, prog, &a, -1, &result, &cause) != 0)
			goto out;
		log = cJSON_GetObjectItemCaseSensitive(result, "log");
		/* Written as -f writes: a failed write was ignored (exit 0
		 * with the log cut, `> /dev/full` said nothing). */
		if (a.json) {
			char *json = cJSON_PrintUnformatted(result);

			if (json == NULL)
				fatal("out of memory");
			text = xasprintf("%s\n", json);
			free(json);
			w = cmd_logs_write(text, &cause);
		} else if (cJSON_IsString(log) && log->valuestring[0] != '\0')
			w = cmd_logs_write(log->valuestring, &cause);
		else
			fprintf(stderr, CMD_LOGS_NONE, prog->name);
		free(text);
		cJSON_Delete(result);
		rc = w == 1 ? 128 + SIGPIPE
		    : w < 0 ? AGENT_EXIT_EXEC_FAILED
			    : CMD_EXIT_OK;
	}
out:
	if (cause != NULL)
		fprintf(stderr, "%s: logs: %s\n", prog->name, cause);
	free(cause);
	free(failed);
	return rc;
}
