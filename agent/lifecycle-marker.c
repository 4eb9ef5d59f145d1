/* lifecycle-marker.c - the markers that record, inside the container, which
 * lifecycle steps ran for its creation and its start (lifecycle-internal.h;
 * lifecycle.h says when a step counts as done). */
#include "lifecycle-internal.h"

#include <stdlib.h>
#include <string.h>

#include "docker.h"
#include "error.h"
#include "xmalloc.h"

void
lifecycle_state_init(const struct lifecycle_ctx *ctx, struct lifecycle_state *st)
{
	memset(st, 0, sizeof *st);
	if (ctx->created_at != NULL)
		st->created_at = xstrdup(ctx->created_at);
	if (ctx->started_at != NULL)
		st->started_at = xstrdup(ctx->started_at);
}

void
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
lifecycle_root_sh(const struct lifecycle_ctx *ctx, const char *script,
    const char *const *args, char **out, char **cause)
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
	if (docker_exec_capture(
		ctx->docker, ctx->container_id, &opts, out, &err, &status, cause) != 0)
		return -1;
	if (status != 0) {
		err[strcspn(err, "\n")] = '\0';
		error_set(
		    cause, "exit status %d%s%s", status, *err != '\0' ? ": " : "", err);
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
int
lifecycle_state_load(
    const struct lifecycle_ctx *ctx, struct lifecycle_state *st, char **cause)
{
	static const char script[] = "cd " LIFECYCLE_MARKER_DIR " 2>/dev/null || exit 0\n"
				     "for f in *; do [ -f \"$f\" ] && printf '%s=%s\\n' "
				     "\"$f\" \"$(cat \"$f\")\"; done\n"
				     "exit 0\n";
	const cJSON *created, *started;
	cJSON *info = NULL;
	char *out = NULL, *line, *p, *eq;

	if (st->markers_read)
		return 0;
	if (st->created_at == NULL || st->started_at == NULL) {
		if (docker_container_inspect(
			ctx->docker, ctx->container_id, &info, cause) != 0)
			return -1;
		if (info == NULL)
			return error_set(
			    cause, "container %s not found", ctx->container_id);
		created = cJSON_GetObjectItemCaseSensitive(info, "Created");
		started = cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(info, "State"), "StartedAt");
		if (!cJSON_IsString(created) || !cJSON_IsString(started)) {
			cJSON_Delete(info);
			return error_set(cause,
			    "container %s: inspect has no Created or "
			    "State.StartedAt",
			    ctx->container_id);
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

int
lifecycle_marker_done(const struct lifecycle_state *st, enum lifecycle_step step)
{
	return lifecycle_steps[step].marker != 0 && st->markers[step] != NULL &&
	    strcmp(st->markers[step], lifecycle_marker_value(st, step)) == 0;
}

int
lifecycle_marker_write(const struct lifecycle_ctx *ctx, struct lifecycle_state *st,
    enum lifecycle_step step, char **cause)
{
	static const char script[] =
	    "mkdir -p \"$1\" && printf '%s\\n' \"$3\" >\"$1/.$2.tmp\" && "
	    "mv -f \"$1/.$2.tmp\" \"$1/$2\"";
	const char *value = lifecycle_marker_value(st, step);
	const char *args[] = { LIFECYCLE_MARKER_DIR, lifecycle_steps[step].name, value,
		NULL };

	if (lifecycle_root_sh(ctx, script, args, NULL, cause) != 0)
		return error_prefix(
		    cause, "writing the %s marker", lifecycle_steps[step].name);
	free(st->markers[step]);
	st->markers[step] = xstrdup(value);
	return 0;
}

int
lifecycle_markers_read(struct docker *d, const char *container_id, const char *created_at,
    const char *started_at, int done[LIFECYCLE_NSTEPS], char **cause)
{
	struct lifecycle_ctx ctx = { 0 };
	struct lifecycle_state st;
	int rc;

	ctx.docker = d;
	ctx.container_id = container_id;
	ctx.created_at = created_at;
	ctx.started_at = started_at;
	lifecycle_state_init(&ctx, &st);
	rc = lifecycle_state_load(&ctx, &st, cause);
	for (int i = 0; i < LIFECYCLE_NSTEPS; i++)
		done[i] = rc == 0 && lifecycle_marker_done(&st, (enum lifecycle_step)i);
	lifecycle_state_clear(&st);
	return rc;
}
