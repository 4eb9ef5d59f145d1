/* lifecycle-exec.c - run one element of a lifecycle step: in the container
 * each command under a watchdog, on this host (initializeCommand, a context
 * without a container) through common/spawn.c; an object's entries in
 * parallel threads, their output passed on line by line and flushed after
 * each piece read (lifecycle-internal.h). */
#include "lifecycle-internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "docker.h"
#include "spawn.h"
#include "xmalloc.h"

/* One command in the container, possibly in its own thread. */
struct lifecycle_job {
	const struct lifecycle_ctx *ctx;
	const char *step;
	const struct lifecycle_cmd *cmd;
	pthread_mutex_t *lock;
	struct docker *docker; /* ctx->docker, or own when in a thread */
	int own_docker;
	struct lifecycle_lines lines[2];
	int rc;
	int exit_code;
	int term_signal; /* on this host: killed by it (0: exited) */
	int held;	 /* it left a process holding its output */
	char *cause;
	/* its last stderr and stdout lines with something in them, or NULL */
	char *last_err;
	char *last_out;
};

/* The most of a command's last line a failure message quotes. */
#define LIFECYCLE_LAST_LINE_MAX 300

/* Keep line as the job's last stderr line (err) or last stdout line, when
 * it has something in it, without the "[name] " of an object's entry (the
 * failure message names it). */
static void
lifecycle_job_keep(struct lifecycle_job *job, const char *line, int err)
{
	char **last = err ? &job->last_err : &job->last_out;

	if (job->cmd->name != NULL && line[0] == '[' &&
	    strncmp(line + 1, job->cmd->name, strlen(job->cmd->name)) == 0 &&
	    strncmp(line + 1 + strlen(job->cmd->name), "] ", 2) == 0)
		line += strlen(job->cmd->name) + 3;
	if (line[strspn(line, " \t\r")] == '\0')
		return;
	free(*last);
	*last = xstrndup(line, LIFECYCLE_LAST_LINE_MAX);
}

static void
lifecycle_job_pass(struct lifecycle_job *job, const char *line)
{
	if (job->ctx->out == NULL)
		return;
	pthread_mutex_lock(job->lock);
	job->ctx->out(job->ctx->out_arg, job->step, line);
	pthread_mutex_unlock(job->lock);
}

static void
lifecycle_job_line(void *arg, const char *line)
{
	lifecycle_job_keep(arg, line, 0);
	lifecycle_job_pass(arg, line);
}

static void
lifecycle_job_err_line(void *arg, const char *line)
{
	lifecycle_job_keep(arg, line, 1);
	lifecycle_job_pass(arg, line);
}

/* The lines passed on so far go now (ctx->out_flush): the piece of output
 * that held them has been read, and the command may pause after it (a line,
 * then `sleep 5`: the line must show at once). */
static void
lifecycle_job_flush(struct lifecycle_job *job)
{
	if (job->ctx->out == NULL || job->ctx->out_flush == NULL)
		return;
	pthread_mutex_lock(job->lock);
	job->ctx->out_flush(job->ctx->out_arg);
	pthread_mutex_unlock(job->lock);
}

/* A piece of output, as read: its whole lines are passed on, then flushed
 * (one piece holds many lines when the command prints fast, so they travel
 * together). */
static void
lifecycle_job_output(void *arg, int stream, const void *data, size_t len)
{
	struct lifecycle_job *job = arg;

	if (stream == 2)
		lifecycle_lines_feed(
		    &job->lines[1], data, len, lifecycle_job_err_line, job);
	else
		lifecycle_lines_feed(&job->lines[0], data, len, lifecycle_job_line, job);
	lifecycle_job_flush(job);
}

/* Runs each lifecycle command in the container: the command (its stdin
 * /dev/null) is killed when the exec's stdin ends, which happens only when
 * the agent that started it goes away (the agent holds stdin open and never
 * writes). So a killed or cancelled `up` leaves no half-run step behind to
 * finish on its own and race the retry of the next `up`. Killed is the whole
 * process group, which runc makes the exec's and which the command's
 * children share (no job control here): SIGTERM, SIGKILL 2 s later; the
 * watcher ignores the TERM to live for the KILL. Only the command's pid
 * would leave `sh -c 'a; sleep 300; b'`'s sleep running. POSIX sh: busybox
 * and Debian. */
static const char lifecycle_watchdog[] =
    "exec 3<&0\n"
    "\"$@\" </dev/null & c=$!\n"
    "{ while read -r _; do :; done; trap '' TERM; kill -TERM 0 2>/dev/null;\n"
    "  sleep 2 2>/dev/null; kill -KILL 0 2>/dev/null; } <&3 & w=$!\n"
    "wait \"$c\"; s=$?\n"
    "kill \"$w\" 2>/dev/null\n"
    "exit \"$s\"\n";

/* The argv to exec: cmd's, behind `env -u NAME...` when variables must go,
 * all under the watchdog. */
static const char **
lifecycle_job_argv(const struct lifecycle_ctx *ctx, const struct lifecycle_cmd *cmd)
{
	size_t nu = 0, na = 0, i = 0;
	const char **argv;

	while (ctx->unset_env != NULL && ctx->unset_env[nu] != NULL)
		nu++;
	while (cmd->argv[na] != NULL)
		na++;
	argv = xcalloc(4 + 1 + 2 * nu + na + 1, sizeof *argv);
	argv[i++] = "/bin/sh";
	argv[i++] = "-c";
	argv[i++] = lifecycle_watchdog;
	argv[i++] = "rdev-lifecycle";
	if (nu > 0) {
		argv[i++] = "env";
		for (size_t j = 0; j < nu; j++) {
			argv[i++] = "-u";
			argv[i++] = ctx->unset_env[j];
		}
	}
	for (size_t j = 0; j < na; j++)
		argv[i++] = cmd->argv[j];
	return argv;
}

static void
lifecycle_job_spawn_output(void *arg, int stream, const char *data, size_t len)
{
	lifecycle_job_output(arg, stream, data, len);
}

/* A command on this host, in ctx's workdir, its stdin at end of file. One
 * that cannot be run exits 127 with "cannot run ..." among its output, as
 * under a shell. It is done when it exits: a server it started with `&`
 * holds its stdout but does not hold up `up` (as an exec's in the container
 * does not). */
static void
lifecycle_job_spawn(struct lifecycle_job *job)
{
	struct spawn_opts opts = { 0 };
	struct spawn_result res;
	char *cause = NULL, *line;

	opts.cwd = job->ctx->workdir;
	opts.max_output = 1; /* streamed, not kept */
	opts.stop_at_exit = 1;
	opts.on_output = lifecycle_job_spawn_output;
	opts.on_output_arg = job;
	if (spawn_run((const char *const *)job->cmd->argv, &opts, &res, &cause) != 0) {
		line = xasprintf("%s\n", cause);
		lifecycle_job_output(job, 2, line, strlen(line));
		free(line);
		free(cause);
		job->exit_code = 127;
		return;
	}
	if (res.exited)
		job->exit_code = res.exit_code;
	else
		job->term_signal = res.term_signal;
	spawn_result_free(&res);
}

static void *
lifecycle_job_run(void *arg)
{
	struct lifecycle_job *job = arg;
	const struct lifecycle_ctx *ctx = job->ctx;
	struct docker_exec_opts opts;
	const char *prefix = NULL;
	char *pfx = NULL;
	const char **argv;

	if (job->cmd->name != NULL)
		prefix = pfx = xasprintf("[%s] ", job->cmd->name);
	lifecycle_lines_init(&job->lines[0], prefix);
	lifecycle_lines_init(&job->lines[1], prefix);
	job->lines[0].mask = job->lines[1].mask = ctx->mask;
	free(pfx);
	if (ctx->container_id == NULL) {
		lifecycle_job_spawn(job);
		goto out;
	}
	argv = lifecycle_job_argv(ctx, job->cmd);
	memset(&opts, 0, sizeof opts);
	opts.argv = argv;
	opts.user = ctx->user;
	opts.env = ctx->env;
	opts.workdir = ctx->workdir;
	opts.attach_stdin = 1; /* held open, never written: see lifecycle_watchdog */
	opts.output_held = &job->held;
	job->rc = docker_exec(job->docker, ctx->container_id, &opts, lifecycle_job_output,
	    job, &job->exit_code, &job->cause);
	free(argv);
	/* (as on this host, lifecycle_job_spawn: done when it exits; said so,
	 * as what that process prints later is not seen) */
	if (job->rc == 0 && job->held) {
		char *line = xasprintf("%s left a background process holding its "
				       "output; not waiting for it\n",
		    job->step);
		lifecycle_job_output(job, 2, line, strlen(line));
		free(line);
	}
out:
	lifecycle_lines_finish(&job->lines[0], lifecycle_job_line, job);
	lifecycle_lines_finish(&job->lines[1], lifecycle_job_err_line, job);
	lifecycle_job_flush(job);
	return NULL;
}

/* The error for a job that did not succeed, or NULL if it did. */
static char *
lifecycle_job_failure(const struct lifecycle_job *job)
{
	char *desc, *msg;

	if (job->rc != 0) {
		desc = lifecycle_cmd_describe(job->cmd);
		msg = xasprintf("%s failed: %s: %s", job->step, desc, job->cause);
		free(desc);
		return msg;
	}
	if (job->term_signal != 0)
		return lifecycle_failure_message(
		    job->step, job->cmd, 0, job->term_signal);
	if (job->exit_code != 0)
		return lifecycle_failure_message(job->step, job->cmd, 1, job->exit_code);
	return NULL;
}

/* The error for a job that did not succeed, or NULL if it did: ending in
 * what the command last said, on stderr if it said anything there, else on
 * stdout ("... exited with status 3: npm ERR! missing script: build";
 * Docker does not keep the two streams in order, so "last" is per stream). */
static char *
lifecycle_job_error(const struct lifecycle_job *job)
{
	const char *said = job->last_err != NULL ? job->last_err : job->last_out;
	char *msg, *with;

	if ((msg = lifecycle_job_failure(job)) == NULL || said == NULL || job->rc != 0)
		return msg;
	with = xasprintf("%s: %s", msg, said);
	free(msg);
	return with;
}

void
lifecycle_event(const struct lifecycle_ctx *ctx, const char *step,
    enum lifecycle_event ev, const char *detail)
{
	if (ctx->event != NULL)
		ctx->event(ctx->event_arg, step, ev, detail);
}

/* Run one element of a step: one command, or an object's entries each in
 * its own thread; all are waited for, the first failing (in the object's
 * order) is reported. */
int
lifecycle_group_run(const struct lifecycle_ctx *ctx, const char *step,
    const struct lifecycle_group *g, char **cause)
{
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	struct lifecycle_job *jobs;
	pthread_t *threads;
	char *desc, *err = NULL;
	size_t i, failed = 0;
	int rc = 0;

	jobs = xcalloc(g->ncmds, sizeof *jobs);
	threads = xcalloc(g->ncmds, sizeof *threads);
	for (i = 0; i < g->ncmds; i++) {
		jobs[i].ctx = ctx;
		jobs[i].step = step;
		jobs[i].cmd = &g->cmds[i];
		jobs[i].lock = &lock;
		desc = lifecycle_cmd_describe(&g->cmds[i]);
		if (g->cmds[i].name != NULL)
			lifecycle_event(
			    ctx, step, LIFECYCLE_EVENT_MEMBER_RUN, g->cmds[i].name);
		lifecycle_event(ctx, step, LIFECYCLE_EVENT_RUN, desc);
		free(desc);
	}
	if (!g->parallel || g->ncmds == 1) {
		for (i = 0; i < g->ncmds; i++) {
			jobs[i].docker = ctx->docker;
			lifecycle_job_run(&jobs[i]);
			if ((err = lifecycle_job_error(&jobs[i])) != NULL) {
				failed = i;
				break;
			}
		}
	} else {
		for (i = 0; i < g->ncmds; i++) {
			if (ctx->docker != NULL) {
				jobs[i].docker =
				    docker_new(docker_socket_path(ctx->docker));
				jobs[i].own_docker = 1;
			}
			if ((errno = pthread_create(
				 &threads[i], NULL, lifecycle_job_run, &jobs[i])) != 0)
				fatal("pthread_create: %s", strerror(errno));
		}
		for (i = 0; i < g->ncmds; i++)
			pthread_join(threads[i], NULL);
		for (i = 0; i < g->ncmds && err == NULL; i++)
			if ((err = lifecycle_job_error(&jobs[i])) != NULL)
				failed = i;
	}
	/* (by its key: its text may be masked, or like another's) */
	if (err != NULL && g->cmds[failed].name != NULL)
		lifecycle_event(
		    ctx, step, LIFECYCLE_EVENT_MEMBER_FAILED, g->cmds[failed].name);
	if (err != NULL) {
		if (cause != NULL)
			*cause = err;
		else
			free(err);
		rc = -1;
	}
	for (i = 0; i < g->ncmds; i++) {
		if (jobs[i].own_docker)
			docker_free(jobs[i].docker);
		free(jobs[i].cause);
		free(jobs[i].last_err);
		free(jobs[i].last_out);
	}
	free(threads);
	free(jobs);
	pthread_mutex_destroy(&lock);
	return rc;
}
