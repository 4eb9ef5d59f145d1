/* up-lifecycle.c - `up`'s lifecycle step (up-internal.h): the remote
 * environment and the secrets for the commands, the steps run with their
 * output and events as progress (the output batched: progress.h), and those
 * left to the background handed to a detached process; initializeCommand's
 * run likewise. */
#include "up-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent-state.h"
#include "buf.h"
#include "config.h"
#include "docker.h"
#include "env-probe.h"
#include "error.h"
#include "lifecycle.h"
#include "log.h"
#include "secrets.h"
#include "up.h"
#include "xmalloc.h"

/* What the event functions need: where progress goes, the step that failed
 * in this process (to record it; owned), the command of a group that
 * failed (its key, for the step's "failed" line; owned, or NULL), and the
 * command of a group about to run (its key, for its "Running" line: owned,
 * or NULL). */
struct up_lifecycle_watch {
	const struct progress *p;
	char *failed;
	char *member;
	char *running;
	char *feature;	   /* the Feature the failed command came from */
	char *description; /* the reference's for the failure (owned) */
};

/* The next RUN's group key, from a MEMBER_RUN's detail (NULL: none). */
static void
up_lifecycle_set_running(struct up_lifecycle_watch *w, const char *key)
{
	free(w->running);
	w->running = key != NULL ? xstrdup(key) : NULL;
}

/* A lifecycle output line as progress (arg: the struct progress, with a
 * batch). */
static void
up_lifecycle_output(void *arg, const char *step, const char *line)
{
	progress_output(arg, line);
}

static void
up_lifecycle_flush(void *arg)
{
	progress_flush(arg);
}

/* initializeCommand's commands as progress (arg: its watch): a
 * line as each starts, as for the steps in the container. (No "progress"
 * lines in json: the reference shows this step as text only; but for the
 * failed command of a group, its "failed" line with the "member" that
 * failed, which the progress view names.) */
static void
up_lifecycle_host_event(
    void *warg, const char *step, enum lifecycle_event ev, const char *detail)
{
	struct up_lifecycle_watch *w = warg;
	char *name;

	if (ev == LIFECYCLE_EVENT_MEMBER_RUN)
		up_lifecycle_set_running(w, detail);
	else if (ev == LIFECYCLE_EVENT_RUN) {
		progress_member_line(
		    w->p, w->running, "Running the %s: %s", step, detail);
		up_lifecycle_set_running(w, NULL);
	} else if (ev == LIFECYCLE_EVENT_MEMBER_FAILED) {
		name = xasprintf("Running %s...", step);
		progress_step(w->p, name, "failed", NULL, detail);
		free(name);
	}
}

/* initializeCommand's output as progress (arg: its watch). */
static void
up_lifecycle_host_output(void *warg, const char *step, const char *line)
{
	struct up_lifecycle_watch *w = warg;

	(void)step;
	progress_output(w->p, line);
}

static void
up_lifecycle_host_flush(void *warg)
{
	struct up_lifecycle_watch *w = warg;

	progress_flush(w->p);
}

int
up_lifecycle_initialize(struct up_state *s, char **cause)
{
	struct progress p = *s->p;
	struct up_lifecycle_watch watch = { .p = &p };
	int rc;

	p.batch = buf_new();
	rc = lifecycle_run_initialize(cJSON_GetObjectItemCaseSensitive(
					  config_get_object(s->cfg), "initializeCommand"),
	    config_get_local_folder(s->cfg), up_lifecycle_host_output,
	    up_lifecycle_host_flush, up_lifecycle_host_event, &watch, cause);
	progress_flush(&p);
	buf_free(p.batch);
	free(watch.running);
	/* (the reference's words for this step differ from the others') */
	if (rc != 0) {
		free(s->failed_description);
		s->failed_description =
		    xstrdup("The initializeCommand in the devcontainer.json failed.");
	}
	return rc;
}

/* The command of a description, "`CMD`" or "[NAME] `CMD`"
 * (lifecycle_cmd_describe()), as the reference's stepDetail shows it. New
 * string. */
static char *
up_lifecycle_step_detail(const char *detail)
{
	const char *open = strchr(detail, '`'), *close = strrchr(detail, '`');

	if (open == NULL || close == open)
		return xstrdup(detail);
	return xstrndup(open + 1, (size_t)(close - open - 1));
}

/* The reference's description of a failed step ("MEMBER of STEP from
 * Feature 'ID' failed."): what its up result says in "description". The
 * dotfiles step, not one of devcontainer.json's, gets the generic one. */
static char *
up_lifecycle_describe(const char *step, const char *member, const char *feature)
{
	char *origin, *text;

	if (strcmp(step, lifecycle_step_name(LIFECYCLE_DOTFILES)) == 0)
		return NULL;
	origin = feature != NULL ? xasprintf("Feature '%s'", feature)
				 : xstrdup("devcontainer.json");
	text = xasprintf("%s%s%s from %s failed.", member != NULL ? member : "",
	    member != NULL ? " of " : "", step, origin);
	free(origin);
	return text;
}

/* The steps as progress: a line as each command starts and, for
 * --log-format json, the reference's "progress" lines (its dotfiles step's
 * are "Installing Dotfiles", without a stepDetail). */
static void
up_lifecycle_event(
    void *warg, const char *step, enum lifecycle_event ev, const char *detail)
{
	struct up_lifecycle_watch *w = warg;
	const struct progress *arg = w->p;
	int dotfiles = strcmp(step, lifecycle_step_name(LIFECYCLE_DOTFILES)) == 0;
	char *name =
	    dotfiles ? xstrdup("Installing Dotfiles") : xasprintf("Running %s...", step);
	char *cmd;

	switch (ev) {
	case LIFECYCLE_EVENT_MEMBER_RUN: up_lifecycle_set_running(w, detail); break;
	case LIFECYCLE_EVENT_RUN:
		if (dotfiles)
			progress_line(arg, "Installing the dotfiles: %s", detail);
		else
			progress_member_line(
			    arg, w->running, "Running the %s: %s", step, detail);
		up_lifecycle_set_running(w, NULL);
		cmd = dotfiles ? NULL : up_lifecycle_step_detail(detail);
		progress_step(arg, name, "running", cmd, NULL);
		free(cmd);
		break;
	case LIFECYCLE_EVENT_DONE:
		progress_step(arg, name, "succeeded", NULL, NULL);
		break;
	case LIFECYCLE_EVENT_MEMBER_FAILED:
		free(w->member);
		w->member = xstrdup(detail);
		break;
	case LIFECYCLE_EVENT_FEATURE_FAILED:
		free(w->feature);
		w->feature = xstrdup(detail);
		break;
	case LIFECYCLE_EVENT_FAILED:
		progress_step(arg, name, "failed", NULL, w->member);
		if (w->failed == NULL) {
			w->failed = xstrdup(step);
			w->description =
			    up_lifecycle_describe(step, w->member, w->feature);
		}
		free(w->member);
		free(w->feature);
		w->member = w->feature = NULL;
		break;
	case LIFECYCLE_EVENT_SKIP: break;
	}
	free(name);
}

/* Continue the pending lifecycle steps in a detached process. The child keeps
 * the workspace lock until it is done, so the next `up` waits for it; it
 * wipes env (ctx's, which may hold secrets) and the secrets when done. */
static int
up_lifecycle_background(struct up_state *s, const struct lifecycle_ctx *ctx,
    struct lifecycle_pending *pending, char **env, char **cause)
{
	const char *id = up_json_string(s->container, "Id", NULL);
	struct lifecycle_ctx bg_ctx = *ctx;
	struct lifecycle_bg *bg;
	char *names, *why = NULL;
	pid_t pid;
	int fd;

	if ((bg = lifecycle_bg_begin(s->state_dir, id, pending, &why)) == NULL) {
		/* Nobody could follow them: better late than unseen. */
		progress_line(s->p,
		    "warning: cannot run the remaining lifecycle steps in the "
		    "background (%s): running them now",
		    why);
		free(why);
		return lifecycle_run_pending(ctx, pending, cause);
	}
	names = lifecycle_pending_names(pending);
	progress_line(s->p,
	    "The remaining lifecycle steps continue in the background "
	    "(see `rdev logs -f`): %s",
	    names);
	free(names);
	if ((pid = fork()) < 0) {
		lifecycle_bg_free(bg);
		lifecycle_bg_forget(s->state_dir, id);
		progress_line(
		    s->p, "warning: fork: %s: running them now", strerror(errno));
		return lifecycle_run_pending(ctx, pending, cause);
	}
	if (pid > 0) {
		/* Once the child is gone the grandchild is in its own session:
		 * whatever then signals our process group (a cancelled op, the
		 * client gone right after the result) does not reach it. */
		waitpid(pid, NULL, 0);
		lifecycle_bg_free(bg); /* the lock stays with the grandchild's copy */
		return 0;
	}
	setsid();
	if (fork() != 0)
		_exit(0); /* the grandchild is reparented: no zombie for our caller */
	if ((fd = open("/dev/null", O_RDWR)) >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	bg_ctx.docker = docker_new(NULL);
	lifecycle_bg_run(bg, &bg_ctx, pending);
	secrets_env_free(env);
	secrets_free(s->opts->secrets);
	_exit(0);
}

static unsigned
up_lifecycle_flags(const struct up_opts *opts)
{
	return (opts->skip_non_blocking ? LIFECYCLE_SKIP_NON_BLOCKING : 0) |
	    (opts->skip_post_create ? LIFECYCLE_SKIP_POST_CREATE : 0) |
	    (opts->skip_post_attach ? LIFECYCLE_SKIP_POST_ATTACH : 0) |
	    (opts->prebuild ? LIFECYCLE_PREBUILD : 0) |
	    (opts->stop_for_personalization ? LIFECYCLE_STOP_FOR_PERSONALIZATION : 0) |
	    (opts->no_background ? LIFECYCLE_NO_BACKGROUND : 0);
}

/* A step failed here, not in the background: record it next to the
 * background run's record, so `status` shows that it ran and failed. A
 * record that cannot be written costs `status` its news, not `up` its
 * error. */
static void
up_lifecycle_record_failure(
    struct up_state *s, const char *id, const char *step, const char *error)
{
	char *masked = secrets_mask(s->opts->secrets, error), *why = NULL;

	if (lifecycle_bg_record_failure(s->state_dir, id, step, masked, &why) != 0) {
		log_warn("container %.12s: %s", id, why);
		free(why);
	}
	free(masked);
}

/* Probe the user's environment and run the lifecycle steps. */
int
up_lifecycle_run(struct up_state *s, char **cause)
{
	/* s->p with a batch: the commands' lines travel many at a time */
	struct progress p = *s->p;
	struct up_lifecycle_watch watch = { .p = &p };
	struct lifecycle_ctx ctx = { 0 };
	struct lifecycle_pending *pending = NULL;
	const char *id = up_json_string(s->container, "Id", NULL);
	cJSON *dotfiles = lifecycle_dotfiles_spec(s->opts->dotfiles_repository,
	    s->opts->dotfiles_install_command, s->opts->dotfiles_target_path);
	char **env = NULL, **unset = NULL;
	int rc = -1;

	/* s->container is current: up_check_running() inspected it just
	 * before (after this up's create or start), so no inspect again */
	if (up_remote_env(s->docker, s->state_dir, s->container, 1, s->merged,
		s->opts->remote_env, s->remote_user, &env, &unset, cause) != 0)
		goto out;
	/* The reference's { ...remoteEnv, ...secrets }: never in the probe's
	 * cache, only in the commands' environment. */
	secrets_env_apply(s->opts->secrets, &env, unset);
	ctx.mask = s->opts->secrets;
	ctx.docker = s->docker;
	ctx.container_id = id;
	ctx.user = s->remote_user;
	ctx.workdir = s->cfg != NULL ? config_get_workspace_folder(s->cfg) : s->workdir;
	ctx.env = (const char *const *)env;
	ctx.unset_env = (const char *const *)unset;
	ctx.created_at = up_json_string(s->container, "Created", NULL);
	ctx.started_at = up_json_string(s->container, "State", "StartedAt");
	ctx.dotfiles = dotfiles;
	ctx.metadata = s->metadata;
	ctx.nmetadata = s->nmetadata;
	p.batch = buf_new();
	ctx.out = up_lifecycle_output;
	ctx.out_flush = up_lifecycle_flush;
	ctx.out_arg = &p;
	ctx.event = up_lifecycle_event;
	ctx.event_arg = &watch;
	/* We hold the workspace lock: no earlier background run is still going. */
	lifecycle_bg_forget(s->state_dir, id);
	if (lifecycle_run(
		&ctx, s->merged, up_lifecycle_flags(s->opts), &pending, cause) != 0)
		goto out;
	progress_flush(&p); /* (before s->p's lines) */
	if (pending != NULL && lifecycle_pending_count(pending) > 0 &&
	    up_lifecycle_background(s, &ctx, pending, env, cause) != 0)
		goto out;
	rc = 0;
out:
	progress_flush(&p);
	buf_free(p.batch);
	if (rc != 0 && watch.failed != NULL)
		up_lifecycle_record_failure(s, id, watch.failed,
		    cause != NULL && *cause != NULL ? *cause : "the step failed");
	if (rc != 0 && watch.description != NULL) {
		free(s->failed_description);
		s->failed_description = watch.description;
		watch.description = NULL;
	}
	free(watch.failed);
	free(watch.member);
	free(watch.running);
	free(watch.feature);
	free(watch.description);
	lifecycle_pending_free(pending);
	secrets_env_free(env);
	env_free(unset);
	cJSON_Delete(dotfiles);
	return rc;
}
