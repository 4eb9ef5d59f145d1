/* lifecycle.c - run lifecycle commands in the container and on the host. */
#include "lifecycle.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "atomic-file.h"
#include "buf.h"
#include "docker.h"
#include "error.h"
#include "log.h"
#include "shell-quote.h"
#include "xmalloc.h"

static const struct {
	const char *name;
	const char *merged_key;
	int marker; /* 0 none, 1 Created time, 2 StartedAt */
} lifecycle_steps[LIFECYCLE_NSTEPS] = {
	{ "onCreateCommand", "onCreateCommands", 1 },
	{ "updateContentCommand", "updateContentCommands", 1 },
	{ "postCreateCommand", "postCreateCommands", 1 },
	{ "postStartCommand", "postStartCommands", 2 },
	{ "postAttachCommand", "postAttachCommands", 0 },
};

struct lifecycle_pending {
	enum lifecycle_step steps[LIFECYCLE_NSTEPS];
	cJSON *commands[LIFECYCLE_NSTEPS];
	size_t n;
};

/* What one lifecycle_run() or lifecycle_run_pending() call knows about the
 * container: its times and its markers, read once. */
struct lifecycle_state {
	char *created_at;
	char *started_at;
	int markers_read;
	char *markers[LIFECYCLE_NSTEPS]; /* contents; NULL when absent */
};

const char *
lifecycle_step_name(enum lifecycle_step step)
{
	return lifecycle_steps[step].name;
}

const char *
lifecycle_step_merged_key(enum lifecycle_step step)
{
	return lifecycle_steps[step].merged_key;
}

const char *
lifecycle_user(const cJSON *merged)
{
	const cJSON *u;

	u = cJSON_GetObjectItemCaseSensitive(merged, "remoteUser");
	if (cJSON_IsString(u) && *u->valuestring != '\0')
		return u->valuestring;
	u = cJSON_GetObjectItemCaseSensitive(merged, "containerUser");
	if (cJSON_IsString(u) && *u->valuestring != '\0')
		return u->valuestring;
	return NULL;
}

/* ---- Pure helpers ---- */

static void
lifecycle_cmd_clear(struct lifecycle_cmd *c)
{
	free(c->name);
	if (c->argv != NULL)
		for (char **p = c->argv; *p != NULL; p++)
			free(*p);
	free(c->argv);
	free(c->text);
}

void
lifecycle_group_clear(struct lifecycle_group *g)
{
	for (size_t i = 0; i < g->ncmds; i++)
		lifecycle_cmd_clear(&g->cmds[i]);
	free(g->cmds);
	memset(g, 0, sizeof *g);
}

/* Is s empty or all whitespace (JavaScript's trim())? */
static int
lifecycle_blank(const char *s)
{
	for (; *s != '\0'; s++)
		if (strchr(" \t\n\r\v\f", *s) == NULL)
			return 0;
	return 1;
}

/* Fill c from a string or array; 0 ok, 1 empty (nothing to run), -1 bad. */
static int
lifecycle_cmd_parse(const cJSON *v, struct lifecycle_cmd *c)
{
	const cJSON *e;
	size_t n = 0;

	memset(c, 0, sizeof *c);
	if (cJSON_IsString(v)) {
		c->argv = xcalloc(4, sizeof *c->argv);
		c->argv[0] = xstrdup("/bin/sh");
		c->argv[1] = xstrdup("-c");
		c->argv[2] = xstrdup(v->valuestring);
		c->text = xstrdup(v->valuestring);
		return 0;
	}
	if (!cJSON_IsArray(v))
		return -1;
	cJSON_ArrayForEach(e, v) {
		if (!cJSON_IsString(e))
			return -1;
		n++;
	}
	if (n == 0)
		return 1;
	c->argv = xcalloc(n + 1, sizeof *c->argv);
	n = 0;
	cJSON_ArrayForEach(e, v)
		c->argv[n++] = xstrdup(e->valuestring);
	c->text = shell_quote_argv((const char *const *)c->argv, SHELL_QUOTE_NEEDED);
	return 0;
}

static struct lifecycle_cmd *
lifecycle_group_add(struct lifecycle_group *g)
{
	g->cmds = xreallocarray(g->cmds, g->ncmds + 1, sizeof *g->cmds);
	return &g->cmds[g->ncmds++];
}

int
lifecycle_group_parse(const cJSON *value, const char *step, struct lifecycle_group *g,
    char **cause)
{
	struct lifecycle_cmd c;
	const cJSON *e;
	int rc;

	memset(g, 0, sizeof *g);
	if (cJSON_IsString(value)) {
		if (lifecycle_blank(value->valuestring))
			return 0;
		lifecycle_cmd_parse(value, lifecycle_group_add(g));
		return 0;
	}
	if (cJSON_IsArray(value)) {
		rc = lifecycle_cmd_parse(value, &c);
		if (rc < 0) {
			lifecycle_cmd_clear(&c);
			return error_set(cause, "%s: the command array holds a non-string", step);
		}
		if (rc == 0)
			*lifecycle_group_add(g) = c;
		return 0;
	}
	if (!cJSON_IsObject(value))
		return 0;
	g->parallel = 1;
	cJSON_ArrayForEach(e, value) {
		rc = lifecycle_cmd_parse(e, &c);
		if (rc < 0) {
			lifecycle_cmd_clear(&c);
			return error_set(cause, "%s: entry \"%s\" is neither a string nor an array "
			    "of strings", step, e->string);
		}
		if (rc > 0)
			continue;
		c.name = xstrdup(e->string);
		*lifecycle_group_add(g) = c;
	}
	return 0;
}

char *
lifecycle_cmd_describe(const struct lifecycle_cmd *cmd)
{
	if (cmd->name != NULL)
		return xasprintf("[%s] `%s`", cmd->name, cmd->text);
	return xasprintf("`%s`", cmd->text);
}

char *
lifecycle_failure_message(const char *step, const struct lifecycle_cmd *cmd, int exited,
    int code)
{
	char *desc = lifecycle_cmd_describe(cmd), *msg;

	if (exited)
		msg = xasprintf("%s failed: %s exited with status %d", step, desc, code);
	else
		msg = xasprintf("%s failed: %s killed by signal %d (%s)", step, desc, code,
		    strsignal(code));
	free(desc);
	return msg;
}

int
lifecycle_wait_for_last(const cJSON *wait_for)
{
	if (cJSON_IsString(wait_for)) {
		if (strcmp(wait_for->valuestring, "initializeCommand") == 0)
			return -1;
		for (int i = 0; i < LIFECYCLE_NSTEPS; i++)
			if (strcmp(wait_for->valuestring, lifecycle_steps[i].name) == 0)
				return i;
	}
	return LIFECYCLE_UPDATE_CONTENT;
}

void
lifecycle_lines_init(struct lifecycle_lines *l, const char *prefix)
{
	l->buf = buf_new();
	l->prefix = prefix != NULL ? xstrdup(prefix) : NULL;
}

/* Pass on one line of len bytes (its '\n' excluded). */
static void
lifecycle_lines_emit(struct lifecycle_lines *l, const char *line, size_t len,
    lifecycle_line_fn fn, void *arg)
{
	char *s;

	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (l->prefix != NULL)
		s = xasprintf("%s%.*s", l->prefix, (int)len, line);
	else
		s = xstrndup(line, len);
	if (fn != NULL)
		fn(arg, s);
	free(s);
}

void
lifecycle_lines_feed(struct lifecycle_lines *l, const void *data, size_t len,
    lifecycle_line_fn fn, void *arg)
{
	const char *p, *nl;
	size_t left;

	buf_append(l->buf, data, len);
	p = (const char *)buf_data(l->buf);
	left = buf_len(l->buf);
	while ((nl = memchr(p, '\n', left)) != NULL) {
		lifecycle_lines_emit(l, p, (size_t)(nl - p), fn, arg);
		left -= (size_t)(nl - p) + 1;
		p = nl + 1;
	}
	buf_consume(l->buf, buf_len(l->buf) - left);
}

void
lifecycle_lines_finish(struct lifecycle_lines *l, lifecycle_line_fn fn, void *arg)
{
	if (l->buf == NULL)
		return;
	if (buf_len(l->buf) > 0)
		lifecycle_lines_emit(l, (const char *)buf_data(l->buf), buf_len(l->buf), fn, arg);
	buf_free(l->buf);
	free(l->prefix);
	l->buf = NULL;
	l->prefix = NULL;
}

/* ---- Running commands in the container ---- */

/* One command in the container, possibly in its own thread. */
struct lifecycle_job {
	const struct lifecycle_ctx *ctx;
	const char *step;
	const struct lifecycle_cmd *cmd;
	pthread_mutex_t *lock;
	struct docker *docker;      /* ctx->docker, or own when in a thread */
	int own_docker;
	struct lifecycle_lines lines[2];
	int rc;
	int exit_code;
	char *cause;
};

static void
lifecycle_job_line(void *arg, const char *line)
{
	struct lifecycle_job *job = arg;

	if (job->ctx->out == NULL)
		return;
	pthread_mutex_lock(job->lock);
	job->ctx->out(job->ctx->out_arg, job->step, line);
	pthread_mutex_unlock(job->lock);
}

static void
lifecycle_job_output(void *arg, int stream, const void *data, size_t len)
{
	struct lifecycle_job *job = arg;

	lifecycle_lines_feed(&job->lines[stream == 2 ? 1 : 0], data, len, lifecycle_job_line, job);
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
	free(pfx);
	argv = lifecycle_job_argv(ctx, job->cmd);
	memset(&opts, 0, sizeof opts);
	opts.argv = argv;
	opts.user = ctx->user;
	opts.env = ctx->env;
	opts.workdir = ctx->workdir;
	opts.attach_stdin = 1; /* held open, never written: see lifecycle_watchdog */
	job->rc = docker_exec(job->docker, ctx->container_id, &opts, lifecycle_job_output, job,
	    &job->exit_code, &job->cause);
	lifecycle_lines_finish(&job->lines[0], lifecycle_job_line, job);
	lifecycle_lines_finish(&job->lines[1], lifecycle_job_line, job);
	free(argv);
	return NULL;
}

/* The error for a job that did not succeed, or NULL if it did. */
static char *
lifecycle_job_error(const struct lifecycle_job *job)
{
	char *desc, *msg;

	if (job->rc != 0) {
		desc = lifecycle_cmd_describe(job->cmd);
		msg = xasprintf("%s failed: %s: %s", job->step, desc, job->cause);
		free(desc);
		return msg;
	}
	if (job->exit_code != 0)
		return lifecycle_failure_message(job->step, job->cmd, 1, job->exit_code);
	return NULL;
}

static void
lifecycle_event(const struct lifecycle_ctx *ctx, const char *step, enum lifecycle_event ev,
    const char *detail)
{
	if (ctx->event != NULL)
		ctx->event(ctx->event_arg, step, ev, detail);
}

/* Run one element of a step: one command, or an object's entries each in
 * its own thread; all are waited for, the first failing (in the object's
 * order) is reported. */
static int
lifecycle_group_run(const struct lifecycle_ctx *ctx, const char *step,
    const struct lifecycle_group *g, char **cause)
{
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	struct lifecycle_job *jobs;
	pthread_t *threads;
	char *desc, *err = NULL;
	size_t i;
	int rc = 0;

	jobs = xcalloc(g->ncmds, sizeof *jobs);
	threads = xcalloc(g->ncmds, sizeof *threads);
	for (i = 0; i < g->ncmds; i++) {
		jobs[i].ctx = ctx;
		jobs[i].step = step;
		jobs[i].cmd = &g->cmds[i];
		jobs[i].lock = &lock;
		desc = lifecycle_cmd_describe(&g->cmds[i]);
		lifecycle_event(ctx, step, LIFECYCLE_EVENT_RUN, desc);
		free(desc);
	}
	if (!g->parallel || g->ncmds == 1) {
		for (i = 0; i < g->ncmds; i++) {
			jobs[i].docker = ctx->docker;
			lifecycle_job_run(&jobs[i]);
			if ((err = lifecycle_job_error(&jobs[i])) != NULL)
				break;
		}
	} else {
		for (i = 0; i < g->ncmds; i++) {
			jobs[i].docker = docker_new(docker_socket_path(ctx->docker));
			jobs[i].own_docker = 1;
			if ((errno = pthread_create(&threads[i], NULL, lifecycle_job_run,
			    &jobs[i])) != 0)
				fatal("pthread_create: %s", strerror(errno));
		}
		for (i = 0; i < g->ncmds; i++)
			pthread_join(threads[i], NULL);
		for (i = 0; i < g->ncmds && err == NULL; i++)
			err = lifecycle_job_error(&jobs[i]);
	}
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
	}
	free(threads);
	free(jobs);
	pthread_mutex_destroy(&lock);
	return rc;
}

/* ---- Markers ---- */

static void
lifecycle_state_clear(struct lifecycle_state *st)
{
	free(st->created_at);
	free(st->started_at);
	for (int i = 0; i < LIFECYCLE_NSTEPS; i++)
		free(st->markers[i]);
	memset(st, 0, sizeof *st);
}

/* Run a small root shell script in the container, capturing stdout. */
static int
lifecycle_root_sh(const struct lifecycle_ctx *ctx, const char *script, const char *const *args,
    char **out, char **cause)
{
	const char *argv[8];
	struct docker_exec_opts opts;
	char *err = NULL;
	size_t n = 0;
	int status;

	argv[n++] = "/bin/sh";
	argv[n++] = "-c";
	argv[n++] = script;
	argv[n++] = "rdev-lifecycle";
	for (; args != NULL && *args != NULL && n < 7; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	memset(&opts, 0, sizeof opts);
	opts.argv = argv;
	opts.user = "0";
	if (docker_exec_capture(ctx->docker, ctx->container_id, &opts, out, &err, &status,
	    cause) != 0)
		return -1;
	if (status != 0) {
		err[strcspn(err, "\n")] = '\0';
		error_set(cause, "exit status %d%s%s", status, *err != '\0' ? ": " : "", err);
		free(err);
		if (out != NULL) {
			free(*out);
			*out = NULL;
		}
		return -1;
	}
	free(err);
	return 0;
}

/* Make sure st has the container's times and its markers. */
static int
lifecycle_state_load(const struct lifecycle_ctx *ctx, struct lifecycle_state *st, char **cause)
{
	static const char script[] =
	    "cd " LIFECYCLE_MARKER_DIR " 2>/dev/null || exit 0\n"
	    "for f in *; do [ -f \"$f\" ] && printf '%s=%s\\n' \"$f\" \"$(cat \"$f\")\"; done\n"
	    "exit 0\n";
	const cJSON *created, *started;
	cJSON *info = NULL;
	char *out = NULL, *line, *p, *eq;

	if (st->markers_read)
		return 0;
	if (st->created_at == NULL || st->started_at == NULL) {
		if (docker_container_inspect(ctx->docker, ctx->container_id, &info, cause) != 0)
			return -1;
		if (info == NULL)
			return error_set(cause, "container %s not found", ctx->container_id);
		created = cJSON_GetObjectItemCaseSensitive(info, "Created");
		started = cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(info, "State"), "StartedAt");
		if (!cJSON_IsString(created) || !cJSON_IsString(started)) {
			cJSON_Delete(info);
			return error_set(cause, "container %s: inspect has no Created or "
			    "State.StartedAt", ctx->container_id);
		}
		if (st->created_at == NULL)
			st->created_at = xstrdup(created->valuestring);
		if (st->started_at == NULL)
			st->started_at = xstrdup(started->valuestring);
		cJSON_Delete(info);
	}
	if (lifecycle_root_sh(ctx, script, NULL, &out, cause) != 0)
		return error_prefix(cause, "reading the lifecycle markers");
	for (p = out; (line = strsep(&p, "\n")) != NULL;) {
		if ((eq = strchr(line, '=')) == NULL)
			continue;
		*eq = '\0';
		for (int i = 0; i < LIFECYCLE_NSTEPS; i++) {
			if (strcmp(line, lifecycle_steps[i].name) == 0) {
				free(st->markers[i]);
				st->markers[i] = xstrdup(eq + 1);
			}
		}
	}
	free(out);
	st->markers_read = 1;
	return 0;
}

/* The value step's marker must hold to count as done. */
static const char *
lifecycle_marker_value(const struct lifecycle_state *st, enum lifecycle_step step)
{
	return lifecycle_steps[step].marker == 1 ? st->created_at : st->started_at;
}

static int
lifecycle_marker_done(const struct lifecycle_state *st, enum lifecycle_step step)
{
	return lifecycle_steps[step].marker != 0 && st->markers[step] != NULL &&
	    strcmp(st->markers[step], lifecycle_marker_value(st, step)) == 0;
}

static int
lifecycle_marker_write(const struct lifecycle_ctx *ctx, struct lifecycle_state *st,
    enum lifecycle_step step, char **cause)
{
	static const char script[] =
	    "mkdir -p \"$1\" && printf '%s\\n' \"$3\" >\"$1/.$2.tmp\" && "
	    "mv -f \"$1/.$2.tmp\" \"$1/$2\"";
	const char *value = lifecycle_marker_value(st, step);
	const char *args[] = { LIFECYCLE_MARKER_DIR, lifecycle_steps[step].name, value, NULL };

	if (lifecycle_root_sh(ctx, script, args, NULL, cause) != 0)
		return error_prefix(cause, "writing the %s marker", lifecycle_steps[step].name);
	free(st->markers[step]);
	st->markers[step] = xstrdup(value);
	return 0;
}

/* ---- Steps ---- */

static void
lifecycle_groups_free(struct lifecycle_group *groups, size_t n)
{
	for (size_t i = 0; i < n; i++)
		lifecycle_group_clear(&groups[i]);
	free(groups);
}

/* Parse a step's array (or a single value) into groups; *ncmds gets the
 * number of commands in all. */
static int
lifecycle_groups_parse(const cJSON *array, const char *step, struct lifecycle_group **groups,
    size_t *ngroups, size_t *ncmds, char **cause)
{
	const cJSON *e;
	size_t n = 0;

	*groups = NULL;
	*ngroups = *ncmds = 0;
	if (array == NULL || cJSON_IsNull(array))
		return 0;
	if (!cJSON_IsArray(array)) {
		*groups = xcalloc(1, sizeof **groups);
		*ngroups = 1;
		if (lifecycle_group_parse(array, step, &(*groups)[0], cause) != 0)
			return -1;
		*ncmds = (*groups)[0].ncmds;
		return 0;
	}
	*groups = xcalloc((size_t)cJSON_GetArraySize(array) + 1, sizeof **groups);
	cJSON_ArrayForEach(e, array) {
		(*ngroups)++;
		if (lifecycle_group_parse(e, step, &(*groups)[n], cause) != 0)
			return -1;
		*ncmds += (*groups)[n].ncmds;
		n++;
	}
	return 0;
}

static int
lifecycle_step_run(const struct lifecycle_ctx *ctx, struct lifecycle_state *st,
    enum lifecycle_step step, const cJSON *array, char **cause)
{
	const char *name = lifecycle_steps[step].name;
	struct lifecycle_group *groups;
	size_t ngroups, ncmds, i;
	char *wcause = NULL;
	int rc = -1;

	if (lifecycle_groups_parse(array, name, &groups, &ngroups, &ncmds, cause) != 0) {
		lifecycle_event(ctx, name, LIFECYCLE_EVENT_FAILED, cause != NULL ? *cause : NULL);
		goto out;
	}
	if (ncmds == 0) {
		rc = 0;
		goto out;
	}
	if (lifecycle_steps[step].marker != 0) {
		if (lifecycle_state_load(ctx, st, cause) != 0) {
			lifecycle_event(ctx, name, LIFECYCLE_EVENT_FAILED,
			    cause != NULL ? *cause : NULL);
			goto out;
		}
		if (lifecycle_marker_done(st, step)) {
			lifecycle_event(ctx, name, LIFECYCLE_EVENT_SKIP,
			    lifecycle_steps[step].marker == 1 ? "already ran in this container" :
			    "already ran since the container started");
			rc = 0;
			goto out;
		}
	}
	for (i = 0; i < ngroups; i++) {
		if (groups[i].ncmds == 0)
			continue;
		if (lifecycle_group_run(ctx, name, &groups[i], cause) != 0) {
			lifecycle_event(ctx, name, LIFECYCLE_EVENT_FAILED,
			    cause != NULL ? *cause : NULL);
			goto out;
		}
	}
	if (lifecycle_steps[step].marker != 0 && lifecycle_marker_write(ctx, st, step,
	    &wcause) != 0) {
		/* The step did run; the next `up` will run it again. */
		log_warn("container %.12s: %s", ctx->container_id, wcause);
		free(wcause);
	}
	lifecycle_event(ctx, name, LIFECYCLE_EVENT_DONE, NULL);
	rc = 0;
out:
	lifecycle_groups_free(groups, ngroups);
	return rc;
}

static void
lifecycle_state_init(const struct lifecycle_ctx *ctx, struct lifecycle_state *st)
{
	memset(st, 0, sizeof *st);
	if (ctx->created_at != NULL)
		st->created_at = xstrdup(ctx->created_at);
	if (ctx->started_at != NULL)
		st->started_at = xstrdup(ctx->started_at);
}

/* Does a step's array hold anything to run? Ill-formed counts as yes, so the
 * background run reports it. */
static int
lifecycle_has_commands(const cJSON *array, const char *step)
{
	struct lifecycle_group *groups;
	size_t ngroups, ncmds;
	char *c = NULL;
	int rc;

	rc = lifecycle_groups_parse(array, step, &groups, &ngroups, &ncmds, &c);
	lifecycle_groups_free(groups, ngroups);
	free(c);
	return rc != 0 || ncmds > 0;
}

void
lifecycle_plan_make(const cJSON *wait_for, unsigned flags, struct lifecycle_plan *plan)
{
	plan->steps = (1u << LIFECYCLE_NSTEPS) - 1;
	plan->last_foreground = LIFECYCLE_NSTEPS - 1;
	if (flags & LIFECYCLE_SKIP_POST_CREATE)
		plan->steps = 0;
	if (flags & LIFECYCLE_SKIP_POST_ATTACH)
		plan->steps &= ~(1u << LIFECYCLE_POST_ATTACH);
	if (flags & LIFECYCLE_SKIP_NON_BLOCKING)
		plan->last_foreground = lifecycle_wait_for_last(wait_for);
}

int
lifecycle_run(const struct lifecycle_ctx *ctx, const cJSON *merged, unsigned flags,
    struct lifecycle_pending **pending, char **cause)
{
	struct lifecycle_state st;
	struct lifecycle_pending *p = NULL;
	struct lifecycle_plan plan;
	int i, rc = -1;
	const cJSON *array;

	*pending = NULL;
	lifecycle_state_init(ctx, &st);
	lifecycle_plan_make(cJSON_GetObjectItemCaseSensitive(merged, "waitFor"), flags, &plan);
	for (i = 0; i <= plan.last_foreground; i++) {
		if (!(plan.steps & (1u << i)))
			continue;
		array = cJSON_GetObjectItemCaseSensitive(merged, lifecycle_steps[i].merged_key);
		if (lifecycle_step_run(ctx, &st, i, array, cause) != 0)
			goto out;
	}
	for (; i < LIFECYCLE_NSTEPS; i++) {
		if (!(plan.steps & (1u << i)))
			continue;
		array = cJSON_GetObjectItemCaseSensitive(merged, lifecycle_steps[i].merged_key);
		if (!lifecycle_has_commands(array, lifecycle_steps[i].name))
			continue;
		/* Leave out steps already done, so often no background run is needed. */
		if (lifecycle_steps[i].marker != 0) {
			if (lifecycle_state_load(ctx, &st, cause) != 0)
				goto out;
			if (lifecycle_marker_done(&st, i))
				continue;
		}
		if (p == NULL)
			p = xcalloc(1, sizeof *p);
		p->steps[p->n] = i;
		if ((p->commands[p->n] = cJSON_Duplicate(array, 1)) == NULL)
			fatal("cJSON_Duplicate: out of memory");
		p->n++;
	}
	*pending = p;
	p = NULL;
	rc = 0;
out:
	lifecycle_pending_free(p);
	lifecycle_state_clear(&st);
	return rc;
}

int
lifecycle_run_pending(const struct lifecycle_ctx *ctx, const struct lifecycle_pending *pending,
    char **cause)
{
	struct lifecycle_state st;
	int rc = 0;

	if (pending == NULL)
		return 0;
	lifecycle_state_init(ctx, &st);
	for (size_t i = 0; i < pending->n && rc == 0; i++)
		rc = lifecycle_step_run(ctx, &st, pending->steps[i], pending->commands[i], cause);
	lifecycle_state_clear(&st);
	return rc;
}

void
lifecycle_pending_free(struct lifecycle_pending *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->n; i++)
		cJSON_Delete(p->commands[i]);
	free(p);
}

size_t
lifecycle_pending_count(const struct lifecycle_pending *p)
{
	return p != NULL ? p->n : 0;
}

const char *
lifecycle_pending_step(const struct lifecycle_pending *p, size_t i)
{
	return lifecycle_steps[p->steps[i]].name;
}

char *
lifecycle_pending_names(const struct lifecycle_pending *p)
{
	struct buf *b = buf_new();
	char *s;

	for (size_t i = 0; i < lifecycle_pending_count(p); i++)
		buf_appendf(b, "%s%s", i > 0 ? ", " : "", lifecycle_pending_step(p, i));
	s = buf_take_string(b, NULL);
	buf_free(b);
	return s;
}

/* ---- initializeCommand, on the host ---- */

struct lifecycle_child {
	const struct lifecycle_cmd *cmd;
	pid_t pid;
	int fds[2];                   /* stdout, stderr read ends; -1 when closed */
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
		pfx = g->cmds[i].name != NULL ? xasprintf("[%s] ", g->cmds[i].name) : NULL;
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
			pfd[i] = (struct pollfd){ .fd = ch[i / 2].fds[i % 2], .events = POLLIN };
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
			err = lifecycle_failure_message("initializeCommand", ch[i].cmd, 1,
			    WEXITSTATUS(s));
		else if (WIFSIGNALED(s))
			err = lifecycle_failure_message("initializeCommand", ch[i].cmd, 0,
			    WTERMSIG(s));
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

/* ---- The background log ---- */

struct lifecycle_log {
	int fd;
};

char *
lifecycle_log_path(const char *state_dir, const char *container_id)
{
	return xasprintf("%s/lifecycle-%s.log", state_dir, container_id);
}

struct lifecycle_log *
lifecycle_log_open(const char *path, char **cause)
{
	struct lifecycle_log *log;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0) {
		error_set_errno(cause, errno, "%s", path);
		return NULL;
	}
	log = xcalloc(1, sizeof *log);
	log->fd = fd;
	return log;
}

void
lifecycle_log_close(struct lifecycle_log *log)
{
	if (log == NULL)
		return;
	close(log->fd);
	free(log);
}

/* Append "TIMESTAMP STEP: TEXT\n" in one write. */
static void
lifecycle_log_line(struct lifecycle_log *log, const char *step, const char *text)
{
	struct timespec ts;
	struct tm tm;
	char stamp[32], *line;
	size_t len, off = 0;
	ssize_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
	line = xasprintf("%s.%03ldZ %s: %s\n", stamp, ts.tv_nsec / 1000000, step, text);
	len = strlen(line);
	while (off < len) {
		n = write(log->fd, line + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* a full disk loses log lines, not the commands */
		off += (size_t)n;
	}
	free(line);
}

void
lifecycle_log_output(void *arg, const char *step, const char *line)
{
	lifecycle_log_line(arg, step, line);
}

void
lifecycle_log_event(void *arg, const char *step, enum lifecycle_event ev, const char *detail)
{
	char *text;

	switch (ev) {
	case LIFECYCLE_EVENT_RUN:
		text = xasprintf("running %s", detail != NULL ? detail : "");
		break;
	case LIFECYCLE_EVENT_SKIP:
		text = xasprintf("skipped (%s)", detail != NULL ? detail : "");
		break;
	case LIFECYCLE_EVENT_DONE:
		text = xstrdup("done");
		break;
	default:
		text = xasprintf("FAILED: %s", detail != NULL ? detail : "");
		break;
	}
	lifecycle_log_line(arg, step, text);
	free(text);
}

/* ---- The background run ---- */

/* The record's "state" of a step for each event. */
static const char *const lifecycle_bg_step_states[] = {
	[LIFECYCLE_EVENT_RUN] = "running",
	[LIFECYCLE_EVENT_SKIP] = "skipped",
	[LIFECYCLE_EVENT_DONE] = "done",
	[LIFECYCLE_EVENT_FAILED] = "failed",
};

static const char *const lifecycle_bg_state_names[] = {
	[LIFECYCLE_BG_NONE] = "none",
	[LIFECYCLE_BG_RUNNING] = "running",
	[LIFECYCLE_BG_DONE] = "done",
	[LIFECYCLE_BG_FAILED] = "failed",
};

struct lifecycle_bg {
	char *record_path;
	struct lifecycle_log *log; /* locked while the background process has it */
	cJSON *record;
};

static char *
lifecycle_bg_record_path(const char *state_dir, const char *container_id)
{
	return xasprintf("%s/lifecycle-%s.state", state_dir, container_id);
}

static int
lifecycle_bg_save(struct lifecycle_bg *bg, char **cause)
{
	char *text = cJSON_PrintUnformatted(bg->record);
	int rc;

	if (text == NULL)
		fatal("cJSON_PrintUnformatted: out of memory");
	rc = atomic_file_write(bg->record_path, text, strlen(text), 0600, cause);
	free(text);
	return rc;
}

/* Save in the background process: a record that cannot be written costs
 * the readers their news, not the steps their run. */
static void
lifecycle_bg_save_or_log(struct lifecycle_bg *bg)
{
	char *cause = NULL;

	if (lifecycle_bg_save(bg, &cause) != 0) {
		log_warn("%s", cause);
		free(cause);
	}
}

static void
lifecycle_bg_set(cJSON *obj, const char *key, const char *value)
{
	cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
	if (cJSON_AddStringToObject(obj, key, value) == NULL)
		fatal("cJSON: out of memory");
}

struct lifecycle_bg *
lifecycle_bg_begin(const char *state_dir, const char *container_id,
    const struct lifecycle_pending *pending, char **cause)
{
	struct lifecycle_bg *bg = xcalloc(1, sizeof *bg);
	char *log_path = lifecycle_log_path(state_dir, container_id);
	cJSON *steps, *e;

	if ((bg->log = lifecycle_log_open(log_path, cause)) == NULL)
		goto fail;
	/* Readers only probe it for a moment; an earlier run's process cannot
	 * hold it, as it holds the workspace lock our caller holds now. */
	while (flock(bg->log->fd, LOCK_EX) != 0) {
		if (errno != EINTR) {
			error_set_errno(cause, errno, "cannot lock %s", log_path);
			goto fail;
		}
	}
	bg->record_path = lifecycle_bg_record_path(state_dir, container_id);
	bg->record = cJSON_CreateObject();
	lifecycle_bg_set(bg->record, "containerId", container_id);
	lifecycle_bg_set(bg->record, "state", "running");
	steps = cJSON_AddArrayToObject(bg->record, "steps");
	for (size_t i = 0; i < lifecycle_pending_count(pending); i++) {
		e = cJSON_CreateObject();
		lifecycle_bg_set(e, "name", lifecycle_pending_step(pending, i));
		lifecycle_bg_set(e, "state", "pending");
		cJSON_AddItemToArray(steps, e);
	}
	if (lifecycle_bg_save(bg, cause) != 0)
		goto fail;
	free(log_path);
	return bg;
fail:
	free(log_path);
	lifecycle_bg_free(bg);
	return NULL;
}

/* A lifecycle_event_fn: the log line, and the step's state in the record. */
static void
lifecycle_bg_event(void *arg, const char *step, enum lifecycle_event ev, const char *detail)
{
	struct lifecycle_bg *bg = arg;
	const char *want = lifecycle_bg_step_states[ev];
	const cJSON *name, *state;
	cJSON *e;

	lifecycle_log_event(bg->log, step, ev, detail);
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(bg->record, "steps")) {
		name = cJSON_GetObjectItemCaseSensitive(e, "name");
		state = cJSON_GetObjectItemCaseSensitive(e, "state");
		if (!cJSON_IsString(name) || strcmp(name->valuestring, step) != 0)
			continue;
		/* RUN comes once per command: one write per change is enough */
		if (cJSON_IsString(state) && strcmp(state->valuestring, want) == 0)
			return;
		lifecycle_bg_set(e, "state", want);
		lifecycle_bg_save_or_log(bg);
		return;
	}
}

int
lifecycle_bg_run(struct lifecycle_bg *bg, const struct lifecycle_ctx *ctx,
    const struct lifecycle_pending *pending)
{
	struct lifecycle_ctx c = *ctx;
	char *cause = NULL;
	int rc;

	c.out = lifecycle_log_output;
	c.out_arg = bg->log;
	c.event = lifecycle_bg_event;
	c.event_arg = bg;
	rc = lifecycle_run_pending(&c, pending, &cause);
	lifecycle_bg_set(bg->record, "state", rc == 0 ? "done" : "failed");
	if (rc != 0)
		lifecycle_bg_set(bg->record, "error", cause != NULL ? cause : "a step failed");
	lifecycle_bg_save_or_log(bg);
	free(cause);
	return rc;
}

void
lifecycle_bg_free(struct lifecycle_bg *bg)
{
	if (bg == NULL)
		return;
	lifecycle_log_close(bg->log);
	cJSON_Delete(bg->record);
	free(bg->record_path);
	free(bg);
}

void
lifecycle_bg_forget(const char *state_dir, const char *container_id)
{
	char *path = lifecycle_bg_record_path(state_dir, container_id);

	if (unlink(path) != 0 && errno != ENOENT)
		log_warn("%s: %s", path, strerror(errno));
	free(path);
}

/* Does a live background process hold the container's log? */
static int
lifecycle_bg_locked(const char *state_dir, const char *container_id)
{
	char *path = lifecycle_log_path(state_dir, container_id);
	int fd, locked = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	if (fd < 0)
		return 0;
	if (flock(fd, LOCK_SH | LOCK_NB) != 0)
		locked = errno == EWOULDBLOCK;
	close(fd); /* and with it our probe's lock */
	return locked;
}

/* The record, or *record NULL when there is none. */
static int
lifecycle_bg_record_read(const char *state_dir, const char *container_id, cJSON **record,
    char **cause)
{
	char *path = lifecycle_bg_record_path(state_dir, container_id), *text = NULL;
	char *err = NULL;
	int rc = 0;

	*record = NULL;
	if (file_read_all(path, 1u << 20, &text, NULL, &err) != 0) {
		if (access(path, F_OK) != 0 && errno == ENOENT)
			free(err);
		else {
			rc = -1;
			if (cause != NULL)
				*cause = err;
			else
				free(err);
		}
	} else if ((*record = cJSON_Parse(text)) == NULL || !cJSON_IsObject(*record)) {
		cJSON_Delete(*record);
		*record = NULL;
		rc = error_set(cause, "%s: not a JSON object", path);
	}
	free(text);
	free(path);
	return rc;
}

static void
lifecycle_bg_status_fill(const cJSON *record, struct lifecycle_bg_status *st)
{
	const cJSON *state = cJSON_GetObjectItemCaseSensitive(record, "state");
	const cJSON *error = cJSON_GetObjectItemCaseSensitive(record, "error");
	const cJSON *e, *s, *n;
	size_t count = 0;

	st->state = LIFECYCLE_BG_FAILED;
	for (int i = LIFECYCLE_BG_RUNNING; i <= LIFECYCLE_BG_FAILED; i++)
		if (cJSON_IsString(state) && strcmp(state->valuestring,
		    lifecycle_bg_state_names[i]) == 0)
			st->state = i;
	if (st->state == LIFECYCLE_BG_FAILED)
		st->error = xstrdup(cJSON_IsString(error) ? error->valuestring :
		    "the background lifecycle steps failed");
	if (st->state != LIFECYCLE_BG_RUNNING)
		return;
	st->left = xcalloc(LIFECYCLE_NSTEPS + 1, sizeof *st->left);
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(record, "steps")) {
		n = cJSON_GetObjectItemCaseSensitive(e, "name");
		s = cJSON_GetObjectItemCaseSensitive(e, "state");
		if (count < LIFECYCLE_NSTEPS && cJSON_IsString(n) && cJSON_IsString(s) &&
		    (strcmp(s->valuestring, "pending") == 0 ||
		    strcmp(s->valuestring, "running") == 0))
			st->left[count++] = xstrdup(n->valuestring);
	}
}

int
lifecycle_bg_status_read(const char *state_dir, const char *container_id,
    struct lifecycle_bg_status *st, char **cause)
{
	cJSON *record = NULL;

	memset(st, 0, sizeof *st);
	if (lifecycle_bg_record_read(state_dir, container_id, &record, cause) != 0)
		return -1;
	if (record == NULL)
		return 0;
	lifecycle_bg_status_fill(record, st);
	if (st->state == LIFECYCLE_BG_RUNNING && !lifecycle_bg_locked(state_dir, container_id)) {
		/* Ended just now (the outcome is written before the lock goes),
		 * or died: read again to tell. */
		cJSON_Delete(record);
		lifecycle_bg_status_clear(st);
		if (lifecycle_bg_record_read(state_dir, container_id, &record, cause) != 0)
			return -1;
		if (record == NULL)
			return 0;
		lifecycle_bg_status_fill(record, st);
		if (st->state == LIFECYCLE_BG_RUNNING) {
			lifecycle_bg_status_clear(st);
			st->state = LIFECYCLE_BG_FAILED;
			st->error = xstrdup("the background lifecycle steps stopped before they "
			    "ended (was their process killed?)");
		}
	}
	cJSON_Delete(record);
	return 0;
}

void
lifecycle_bg_status_clear(struct lifecycle_bg_status *st)
{
	for (char **p = st->left; p != NULL && *p != NULL; p++)
		free(*p);
	free(st->left);
	free(st->error);
	memset(st, 0, sizeof *st);
}

cJSON *
lifecycle_bg_status_json(const struct lifecycle_bg_status *st)
{
	cJSON *o = cJSON_CreateObject(), *steps;

	lifecycle_bg_set(o, "state", lifecycle_bg_state_names[st->state]);
	if (st->state == LIFECYCLE_BG_RUNNING) {
		steps = cJSON_AddArrayToObject(o, "steps");
		for (char **p = st->left; p != NULL && *p != NULL; p++)
			cJSON_AddItemToArray(steps, cJSON_CreateString(*p));
	}
	if (st->error != NULL)
		lifecycle_bg_set(o, "error", st->error);
	return o;
}

char *
lifecycle_bg_notice(const char *state_dir, const char *container_id, const char *follow_cmd)
{
	struct lifecycle_bg_status st;
	struct buf *b;
	char *s = NULL;
	size_t n = 0;

	if (lifecycle_bg_status_read(state_dir, container_id, &st, NULL) == 0 &&
	    st.state == LIFECYCLE_BG_RUNNING && st.left != NULL && st.left[0] != NULL) {
		while (st.left[n] != NULL)
			n++;
		b = buf_new();
		for (size_t i = 0; i < n; i++)
			buf_appendf(b, "%s%s", i == 0 ? "" : i + 1 < n ? ", " : " and ",
			    st.left[i]);
		buf_appendf(b, " %s still running in the background (see `%s`)",
		    n > 1 ? "are" : "is", follow_cmd);
		s = buf_take_string(b, NULL);
		buf_free(b);
	}
	lifecycle_bg_status_clear(&st);
	return s;
}
