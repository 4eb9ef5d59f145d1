/* lifecycle.c - run lifecycle commands in the container: the steps in order,
 * skipped by their markers, the plan of which run now and which are pending
 * (lifecycle-internal.h). initializeCommand, on the host: lifecycle-host.c;
 * the pending steps' background run: lifecycle-bg.c. */
#include "lifecycle-internal.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "xmalloc.h"

const struct lifecycle_step_def lifecycle_steps[LIFECYCLE_NSTEPS] = {
	{ "onCreateCommand", "onCreateCommands", 1, ".onCreateCommandMarker" },
	{ "updateContentCommand", "updateContentCommands", 1,
	    ".updateContentCommandMarker" },
	{ "postCreateCommand", "postCreateCommands", 1, ".postCreateCommandMarker" },
	{ "dotfiles", NULL, 1, NULL },
	{ "postStartCommand", "postStartCommands", 2, ".postStartCommandMarker" },
	{ "postAttachCommand", "postAttachCommands", 0, NULL },
};

struct lifecycle_pending {
	enum lifecycle_step steps[LIFECYCLE_NSTEPS];
	cJSON *commands[LIFECYCLE_NSTEPS];
	size_t n;
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

static void
lifecycle_groups_free(struct lifecycle_group *groups, size_t n)
{
	for (size_t i = 0; i < n; i++)
		lifecycle_group_clear(&groups[i]);
	free(groups);
}

int
lifecycle_groups_parse(const cJSON *array, const char *step, const cJSON *metadata,
    int nmetadata, struct lifecycle_group **groups, size_t *ngroups, size_t *ncmds,
    char **cause)
{
	char *from;

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
		if (lifecycle_group_parse(e, step, &(*groups)[n], cause) != 0) {
			/* (an entry of the image's metadata or a Feature's: the
			 * configuration's own were refused before up began) */
			from = lifecycle_origin(metadata, nmetadata, step, n);
			if (from != NULL && cause != NULL) {
				free(*cause);
				*cause = NULL;
				lifecycle_group_clear(&(*groups)[n]);
				(void)lifecycle_group_parse(
				    e, from, &(*groups)[n], cause);
			}
			free(from);
			return -1;
		}
		*ncmds += (*groups)[n].ncmds;
		n++;
	}
	return 0;
}

/* What step runs: its array in merged, or for the dotfiles step its spec. */
static const cJSON *
lifecycle_step_commands(
    const struct lifecycle_ctx *ctx, const cJSON *merged, enum lifecycle_step step)
{
	if (step == LIFECYCLE_DOTFILES)
		return ctx->dotfiles;
	return cJSON_GetObjectItemCaseSensitive(merged, lifecycle_steps[step].merged_key);
}

/* Parse what step runs (lifecycle_step_commands()) into groups. The
 * dotfiles step's spec is one command of its own (no groups). */
static int
lifecycle_step_parse(const struct lifecycle_ctx *ctx, enum lifecycle_step step,
    const cJSON *commands, struct lifecycle_group **groups, size_t *ngroups,
    size_t *ncmds, char **cause)
{
	if (step != LIFECYCLE_DOTFILES)
		return lifecycle_groups_parse(commands, lifecycle_steps[step].name,
		    ctx != NULL ? ctx->metadata : NULL, ctx != NULL ? ctx->nmetadata : 0,
		    groups, ngroups, ncmds, cause);
	*groups = NULL;
	*ngroups = 0;
	*ncmds = commands != NULL;
	return 0;
}

/* Say which Feature group i of step name's commands (array) came from, if
 * one did: the reference's error names it ("from Feature 'ID'"). */
static void
lifecycle_step_feature_failed(
    const struct lifecycle_ctx *ctx, const char *name, const cJSON *array, size_t i)
{
	const cJSON *entry, *id;

	if (ctx == NULL || !cJSON_IsArray(array))
		return; /* (one group: the configuration's own) */
	entry = lifecycle_origin_entry(ctx->metadata, ctx->nmetadata, name, i);
	id = cJSON_GetObjectItemCaseSensitive(entry, "id");
	if (cJSON_IsString(id) && id->valuestring[0] != '\0')
		lifecycle_event(
		    ctx, name, LIFECYCLE_EVENT_FEATURE_FAILED, id->valuestring);
}

/* Has step (one with a marker) run for this container, by rdev's record or
 * by the reference CLI's marker? One the reference marked done is recorded
 * as rdev's too, so later ups read rdev's record alone (no exec more). */
static int
lifecycle_step_done(
    const struct lifecycle_ctx *ctx, struct lifecycle_state *st, enum lifecycle_step step)
{
	char *wcause = NULL;

	if (lifecycle_marker_done(st, step))
		return 1;
	if (!lifecycle_ref_marker_done(ctx, st, step))
		return 0;
	if (lifecycle_marker_write(ctx, st, step, &wcause) != 0) {
		/* (harmless: the reference's marker still says so; a read-only
		 * /var/lib fails this on every up) */
		log_info("container %.12s: %s", ctx->container_id, wcause);
		free(wcause);
	}
	/* (the reference's own marker stays as it wrote it) */
	st->ref_todo &= ~(1u << step);
	return 1;
}

/* Run step's commands (array), unless its marker says it ran and !rerun. */
static int
lifecycle_step_run(const struct lifecycle_ctx *ctx, struct lifecycle_state *st,
    enum lifecycle_step step, const cJSON *array, int rerun, char **cause)
{
	const char *name = lifecycle_steps[step].name;
	struct lifecycle_group *groups;
	size_t ngroups, ncmds, i;
	char *wcause = NULL;
	int rc = -1;

	if (lifecycle_step_parse(ctx, step, array, &groups, &ngroups, &ncmds, cause) !=
	    0) {
		lifecycle_event(
		    ctx, name, LIFECYCLE_EVENT_FAILED, cause != NULL ? *cause : NULL);
		goto out;
	}
	if (ncmds == 0) {
		rc = 0;
		goto out;
	}
	if (lifecycle_steps[step].marker != 0) {
		/* (loaded for a rerun too: the marker written after it holds
		 * the container's time) */
		if (lifecycle_state_load(ctx, st, cause) != 0) {
			lifecycle_event(ctx, name, LIFECYCLE_EVENT_FAILED,
			    cause != NULL ? *cause : NULL);
			goto out;
		}
		if (!rerun && lifecycle_step_done(ctx, st, step)) {
			lifecycle_event(ctx, name, LIFECYCLE_EVENT_SKIP,
			    lifecycle_steps[step].marker == 1
				? "already ran in this container"
				: "already ran since the container started");
			rc = 0;
			goto out;
		}
	}
	if (step == LIFECYCLE_DOTFILES &&
	    lifecycle_dotfiles_run(ctx, array, cause) != 0) {
		lifecycle_event(
		    ctx, name, LIFECYCLE_EVENT_FAILED, cause != NULL ? *cause : NULL);
		goto out;
	}
	for (i = 0; i < ngroups; i++) {
		if (groups[i].ncmds == 0)
			continue;
		if (lifecycle_group_run(ctx, name, &groups[i], cause) != 0) {
			lifecycle_step_feature_failed(ctx, name, array, i);
			lifecycle_event(ctx, name, LIFECYCLE_EVENT_FAILED,
			    cause != NULL ? *cause : NULL);
			goto out;
		}
	}
	if (lifecycle_steps[step].marker != 0 &&
	    lifecycle_marker_write(ctx, st, step, &wcause) != 0) {
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

/* Does a step's array hold anything to run? Ill-formed counts as yes, so the
 * background run reports it. */
static int
lifecycle_has_commands(const cJSON *array, enum lifecycle_step step)
{
	struct lifecycle_group *groups;
	size_t ngroups, ncmds;
	char *c = NULL;
	int rc;

	rc = lifecycle_step_parse(NULL, step, array, &groups, &ngroups, &ncmds, &c);
	lifecycle_groups_free(groups, ngroups);
	free(c);
	return rc != 0 || ncmds > 0;
}

void
lifecycle_plan_make(const cJSON *wait_for, unsigned flags, struct lifecycle_plan *plan)
{
	plan->steps = (1u << LIFECYCLE_NSTEPS) - 1;
	plan->last_foreground = LIFECYCLE_NSTEPS - 1;
	plan->rerun = 0;
	if (flags & LIFECYCLE_PREBUILD) {
		plan->steps =
		    (1u << LIFECYCLE_ON_CREATE) | (1u << LIFECYCLE_UPDATE_CONTENT);
		plan->rerun = 1u << LIFECYCLE_UPDATE_CONTENT;
	}
	if (flags & LIFECYCLE_STOP_FOR_PERSONALIZATION)
		plan->steps &=
		    ~((1u << LIFECYCLE_POST_START) | (1u << LIFECYCLE_POST_ATTACH));
	if (flags & LIFECYCLE_SKIP_POST_CREATE)
		plan->steps = 0;
	if (flags & LIFECYCLE_SKIP_POST_ATTACH)
		plan->steps &= ~(1u << LIFECYCLE_POST_ATTACH);
	if (flags & LIFECYCLE_SKIP_NON_BLOCKING)
		plan->last_foreground = lifecycle_wait_for_last(wait_for);
	/* (last_foreground + 1 is 0 for "initializeCommand": none kept) */
	if ((flags & LIFECYCLE_SKIP_NON_BLOCKING) && (flags & LIFECYCLE_NO_BACKGROUND))
		plan->steps &= (1u << (plan->last_foreground + 1)) - 1;
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
	lifecycle_plan_make(
	    cJSON_GetObjectItemCaseSensitive(merged, "waitFor"), flags, &plan);
	for (i = 0; i <= plan.last_foreground; i++) {
		if (!(plan.steps & (1u << i)))
			continue;
		array = lifecycle_step_commands(ctx, merged, i);
		if (lifecycle_step_run(
			ctx, &st, i, array, (plan.rerun >> i) & 1, cause) != 0)
			goto out;
	}
	for (; i < LIFECYCLE_NSTEPS; i++) {
		if (!(plan.steps & (1u << i)))
			continue;
		array = lifecycle_step_commands(ctx, merged, i);
		if (!lifecycle_has_commands(array, i))
			continue;
		/* Leave out steps already done, so often no background run is needed. */
		if (lifecycle_steps[i].marker != 0) {
			if (lifecycle_state_load(ctx, &st, cause) != 0)
				goto out;
			if (lifecycle_step_done(ctx, &st, i))
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
	lifecycle_ref_markers_write(ctx, &st);
	lifecycle_pending_free(p);
	lifecycle_state_clear(&st);
	return rc;
}

int
lifecycle_run_pending(const struct lifecycle_ctx *ctx,
    const struct lifecycle_pending *pending, char **cause)
{
	struct lifecycle_state st;
	int rc = 0;

	if (pending == NULL)
		return 0;
	lifecycle_state_init(ctx, &st);
	for (size_t i = 0; i < pending->n && rc == 0; i++)
		rc = lifecycle_step_run(
		    ctx, &st, pending->steps[i], pending->commands[i], 0, cause);
	lifecycle_ref_markers_write(ctx, &st);
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
