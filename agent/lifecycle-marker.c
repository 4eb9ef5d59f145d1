/* lifecycle-marker.c - the markers that record, inside the container, which
 * lifecycle steps ran for its creation and its start (lifecycle-internal.h;
 * lifecycle.h says when a step counts as done): rdev's own, and the
 * reference CLI's, which rdev honours and writes too so that either tool
 * can take over the other's container. */
#include "lifecycle-internal.h"

#include <stdlib.h>
#include <string.h>

#include "docker.h"
#include "error.h"
#include "log.h"
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
	for (int i = 0; i < LIFECYCLE_NSTEPS; i++) {
		free(st->markers[i]);
		free(st->ref_markers[i]);
	}
	free(st->ref_dir);
	memset(st, 0, sizeof *st);
}

/* Run a small shell script in the container as user (NULL: the
 * container's), capturing stdout. */
static int
lifecycle_sh(const struct lifecycle_ctx *ctx, const char *user, const char *script,
    const char *const *args, char **out, char **cause)
{
	const char *argv[16];
	struct docker_exec_opts opts;
	char *err = NULL;
	size_t n = 0;
	int status;

	argv[n++] = "/bin/sh";
	argv[n++] = "-c";
	argv[n++] = script;
	argv[n++] = "rdev-lifecycle";
	for (; args != NULL && *args != NULL; args++) {
		if (n == sizeof argv / sizeof argv[0] - 1)
			fatal("lifecycle_sh: too many arguments");
		argv[n++] = *args;
	}
	argv[n] = NULL;
	memset(&opts, 0, sizeof opts);
	opts.argv = argv;
	opts.user = user;
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

/* Run a small root shell script in the container, capturing stdout. */
static int
lifecycle_root_sh(const struct lifecycle_ctx *ctx, const char *script,
    const char *const *args, char **out, char **cause)
{
	return lifecycle_sh(ctx, "0", script, args, out, cause);
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

	/* (the step ran: the reference's marker is due even if ours fails) */
	if (lifecycle_steps[step].ref_marker != NULL)
		st->ref_todo |= 1u << step;
	if (lifecycle_root_sh(ctx, script, args, NULL, cause) != 0)
		return error_prefix(
		    cause, "writing the %s marker", lifecycle_steps[step].name);
	free(st->markers[step]);
	st->markers[step] = xstrdup(value);
	return 0;
}

/*
 * The reference CLI's markers (0.89.0, spec-common/injectHeadless.ts): files
 * "<userDataFolder>/.<step>Marker", where userDataFolder is
 * "<homeFolder>/.devcontainer" of the remote user (remoteUser, else the
 * container's user, else root), written by that user. homeFolder is the
 * container's HOME when that is the user's home in the passwd file (getent,
 * else a grep of /etc/passwd), or the user is uid 0, or it does not exist or
 * is writable; else the passwd home, else "/root". (An exec without Env of
 * its own has the container's HOME, or the passwd home when the container
 * sets none: what the reference then takes too.) Before each step it runs,
 * as that user:
 *
 *   mkdir -p DIR && CONTENT="$(cat MARKER 2>/dev/null || echo ENOENT)" &&
 *   [ "${CONTENT:-T}" != 'T' ] && echo 'T' > MARKER
 *
 * T being inspect's Created (the create steps) or State.StartedAt
 * (postStartCommand), and runs the step only when that succeeded. So a
 * marker holding T, or nothing at all, means done, and it is written
 * BEFORE the step runs: a step that failed under the reference counts as
 * done, and rdev does not run it again either. (A marker the reference
 * cannot write also means done to it: docs/CONFORMANCE.md C8; rdev runs the
 * step then.) rdev writes the same files after a step succeeds, so a step
 * that failed under rdev is tried again by either tool.
 */
const char lifecycle_ref_read_script[] =
    "u=${1:-$(id -un)}; u=${u%%:*}; pw=\n"
    "if command -v getent >/dev/null 2>&1; then\n"
    "  pw=$(getent passwd \"$u\" | { IFS=: read -r n x i g c h s; echo \"$h\"; })\n"
    "fi\n"
    "if [ -z \"$pw\" ] && [ -r /etc/passwd ]; then\n"
    "  while IFS=: read -r n x i g c h s; do\n"
    "    if [ \"$n\" = \"$u\" ] || [ \"$i\" = \"$u\" ]; then pw=$h; break; fi\n"
    "  done </etc/passwd\n"
    "fi\n"
    "h=$HOME\n"
    "if [ -z \"$h\" ] || { [ \"$h\" != \"$pw\" ] && [ \"$(id -u)\" != 0 ] &&\n"
    "    [ -e \"$h\" ] && [ ! -w \"$h\" ]; }; then h=${pw:-/root}; fi\n"
    "d=${h%/}/.devcontainer\n"
    "printf 'dir=%s\\n' \"$d\"\n"
    "shift\n"
    "nl='\n'\n"
    "for f in \"$@\"; do\n"
    "  [ -f \"$d/$f\" ] && c=$(cat \"$d/$f\" 2>/dev/null) || continue\n"
    "  case $c in\n"
    "  *\"$nl\"*) printf '%s\\n' \"$f\" ;;\n"
    "  *) printf '%s=%s\\n' \"$f\" \"$c\" ;;\n"
    "  esac\n"
    "done\n"
    "exit 0\n";

void
lifecycle_ref_markers_parse(struct lifecycle_state *st, char *out)
{
	char *line, *p, *eq, *value;

	for (p = out; (line = strsep(&p, "\n")) != NULL;) {
		/* (a name alone: a marker of more than one line, which is never
		 * the one line the reference compares the whole file with) */
		value = "\n";
		if ((eq = strchr(line, '=')) != NULL) {
			*eq = '\0';
			value = eq + 1;
		}
		if (eq != NULL && strcmp(line, "dir") == 0 && st->ref_dir == NULL) {
			st->ref_dir = xstrdup(value);
			continue;
		}
		for (int i = 0; i < LIFECYCLE_NSTEPS; i++) {
			if (lifecycle_steps[i].ref_marker != NULL &&
			    strcmp(line, lifecycle_steps[i].ref_marker) == 0) {
				free(st->ref_markers[i]);
				st->ref_markers[i] = xstrdup(value);
			}
		}
	}
}

/* Read the reference's markers into st (see above). */
static void
lifecycle_ref_markers_read(const struct lifecycle_ctx *ctx, struct lifecycle_state *st)
{
	const char *args[LIFECYCLE_NSTEPS + 2];
	char *out = NULL, *cause = NULL;
	size_t n = 0;

	st->ref_read = 1;
	args[n++] = ctx->user != NULL ? ctx->user : "";
	for (int i = 0; i < LIFECYCLE_NSTEPS; i++)
		if (lifecycle_steps[i].ref_marker != NULL)
			args[n++] = lifecycle_steps[i].ref_marker;
	args[n] = NULL;
	if (lifecycle_sh(ctx, ctx->user, lifecycle_ref_read_script, args, &out, &cause) !=
	    0) {
		log_info("container %.12s: the devcontainer CLI's lifecycle markers "
			 "not read: %s",
		    ctx->container_id, cause);
		free(cause);
		return;
	}
	lifecycle_ref_markers_parse(st, out);
	free(out);
}

int
lifecycle_ref_marker_done(
    const struct lifecycle_ctx *ctx, struct lifecycle_state *st, enum lifecycle_step step)
{
	const char *m;

	if (lifecycle_steps[step].ref_marker == NULL)
		return 0;
	if (!st->ref_read)
		lifecycle_ref_markers_read(ctx, st);
	m = st->ref_markers[step];
	/* (the reference's "${CONTENT:-T}": an empty marker counts as done) */
	return m != NULL &&
	    (*m == '\0' || strcmp(m, lifecycle_marker_value(st, step)) == 0);
}

void
lifecycle_ref_markers_write(const struct lifecycle_ctx *ctx, struct lifecycle_state *st)
{
	static const char script[] =
	    "d=$1; shift; mkdir -p \"$d\" || exit 1\n"
	    "while [ $# -ge 2 ]; do\n"
	    "  printf '%s\\n' \"$2\" >\"$d/$1\" || exit 1; shift 2\n"
	    "done\n";
	const char *args[2 * LIFECYCLE_NSTEPS + 2];
	char *cause = NULL;
	size_t n = 0;

	if (st->ref_todo == 0 || st->ref_dir == NULL)
		return;
	args[n++] = st->ref_dir;
	for (int i = 0; i < LIFECYCLE_NSTEPS; i++) {
		if (!(st->ref_todo & (1u << i)))
			continue;
		args[n++] = lifecycle_steps[i].ref_marker;
		args[n++] = lifecycle_marker_value(st, (enum lifecycle_step)i);
	}
	args[n] = NULL;
	st->ref_todo = 0;
	if (lifecycle_sh(ctx, ctx->user, script, args, NULL, &cause) != 0) {
		/* (a home that cannot be written: the reference runs none of
		 * the steps there anyway, C8) */
		log_info("container %.12s: the devcontainer CLI's lifecycle markers "
			 "not written: %s",
		    ctx->container_id, cause);
		free(cause);
	}
}

int
lifecycle_markers_read(struct docker *d, const char *container_id, const char *user,
    const char *created_at, const char *started_at, int done[LIFECYCLE_NSTEPS],
    char **cause)
{
	struct lifecycle_ctx ctx = { 0 };
	struct lifecycle_state st;
	int rc;

	ctx.docker = d;
	ctx.container_id = container_id;
	ctx.user = user;
	ctx.created_at = created_at;
	ctx.started_at = started_at;
	lifecycle_state_init(&ctx, &st);
	rc = lifecycle_state_load(&ctx, &st, cause);
	for (int i = 0; i < LIFECYCLE_NSTEPS; i++)
		done[i] = rc == 0 &&
		    (lifecycle_marker_done(&st, (enum lifecycle_step)i) ||
			lifecycle_ref_marker_done(&ctx, &st, (enum lifecycle_step)i));
	lifecycle_state_clear(&st);
	return rc;
}
