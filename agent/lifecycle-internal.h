/* lifecycle-internal.h - the pieces of the in-container steps (lifecycle.h),
 * shared by their modules: lifecycle.c (the steps, the plan, lifecycle_run
 * and the pending steps), lifecycle-exec.c (running a step's commands in the
 * container), lifecycle-marker.c (the markers of the steps that ran) and
 * lifecycle-parse.c (the pure helpers; it needs the steps' names),
 * lifecycle-dotfiles.c (the dotfiles step's command). The other
 * modules use lifecycle.h only: lifecycle-host.c (initializeCommand) and
 * lifecycle-bg.c (the background run, its log and its record).
 *
 * Everything borrowed for the call, as in lifecycle.h; a struct
 * lifecycle_state belongs to the lifecycle_run() or lifecycle_run_pending()
 * call that made it.
 */
#ifndef RDEV_LIFECYCLE_INTERNAL_H
#define RDEV_LIFECYCLE_INTERNAL_H

#include <cjson/cJSON.h>

#include "lifecycle.h"

/* lifecycle.c: the steps, in order. */
struct lifecycle_step_def {
	const char *name;
	const char *merged_key;
	int marker; /* 0 none, 1 Created time, 2 StartedAt */
	/* The reference CLI's marker in the remote user's home, or NULL
	 * (lifecycle-marker.c) */
	const char *ref_marker;
};
extern const struct lifecycle_step_def lifecycle_steps[LIFECYCLE_NSTEPS];

/* What one lifecycle_run() or lifecycle_run_pending() call knows about the
 * container: its times and its markers, read once. */
struct lifecycle_state {
	char *created_at;
	char *started_at;
	int markers_read;
	char *markers[LIFECYCLE_NSTEPS]; /* contents; NULL when absent */
	/* The reference CLI's markers, read when rdev's own do not say a step
	 * is done: ref_read 1 once tried (ref_dir NULL: they could not be
	 * read); ref_todo the steps run here whose marker it must still
	 * write (lifecycle_ref_markers_write()). */
	int ref_read;
	char *ref_dir;
	char *ref_markers[LIFECYCLE_NSTEPS];
	unsigned ref_todo;
};

/* lifecycle.c */
/* Parse a step's array (or a single value) into groups (*groups and
 * *ngroups set either way, freed by the caller); *ncmds gets the number of
 * commands in all. metadata, nmetadata: as lifecycle_ctx's (NULL, 0: not
 * known): the error of an element from one of them names it
 * (lifecycle_origin()). 0, or -1 with *cause. */
int lifecycle_groups_parse(const cJSON *array, const char *step, const cJSON *metadata,
    int nmetadata, struct lifecycle_group **groups, size_t *ngroups, size_t *ncmds,
    char **cause);

/* lifecycle-parse.c */
/* Where element n of step's merged array came from, as step's errors name
 * it: "STEP (from the Feature ID)" or "STEP (from the image's
 * devcontainer.metadata)" when it is that of one of metadata's first
 * nmetadata entries (which the merged arrays take their elements from in
 * order, one of each entry whose step is set); NULL when not known (no
 * metadata, or the configuration's own). New string. */
char *lifecycle_origin(const cJSON *metadata, int nmetadata, const char *step, size_t n);
/* The entry of metadata's first nmetadata that element n of step's merged
 * array came from (as lifecycle_origin()), borrowed from metadata; NULL when
 * not one of them. */
const cJSON *lifecycle_origin_entry(
    const cJSON *metadata, int nmetadata, const char *step, size_t n);

/* lifecycle-exec.c */
/* Pass an event to ctx->event, if any. */
void lifecycle_event(const struct lifecycle_ctx *ctx, const char *step,
    enum lifecycle_event ev, const char *detail);
/* Run one element of step in the container (see the function). 0, or -1 with
 * *cause. */
int lifecycle_group_run(const struct lifecycle_ctx *ctx, const char *step,
    const struct lifecycle_group *g, char **cause);

/* lifecycle-dotfiles.c */
/* Run the dotfiles step of spec (lifecycle_dotfiles_spec()) in the
 * container as ctx->user, in the container's working dir, its output to
 * ctx->out. 0, or -1 with *cause ending in the output's last line:
 * "dotfiles failed: `git clone ...` exited with status 128: fatal: ...". */
int lifecycle_dotfiles_run(
    const struct lifecycle_ctx *ctx, const cJSON *spec, char **cause);

/* lifecycle-marker.c */
/* Start st with ctx's container times (copies); clear frees what st holds. */
void lifecycle_state_init(const struct lifecycle_ctx *ctx, struct lifecycle_state *st);
void lifecycle_state_clear(struct lifecycle_state *st);
/* Make sure st has the container's times and its markers (one inspect if
 * ctx lacks the times, one exec). 0, or -1 with *cause. */
int lifecycle_state_load(
    const struct lifecycle_ctx *ctx, struct lifecycle_state *st, char **cause);
/* Has step's marker the value of this container (or this start)? st loaded. */
int lifecycle_marker_done(const struct lifecycle_state *st, enum lifecycle_step step);
/* Write step's marker in the container and in st, and mark the reference
 * CLI's marker of step, if it has one, to be written by
 * lifecycle_ref_markers_write(). 0, or -1 with *cause. */
int lifecycle_marker_write(const struct lifecycle_ctx *ctx, struct lifecycle_state *st,
    enum lifecycle_step step, char **cause);
/* Did the reference CLI mark step done for this container (this start)?
 * Reads its markers as ctx->user on first use (one exec); markers it
 * cannot read count as absent (logged). st loaded. */
int lifecycle_ref_marker_done(const struct lifecycle_ctx *ctx, struct lifecycle_state *st,
    enum lifecycle_step step);
/* The script that reads the reference CLI's markers, run as the remote
 * user with that user's name and the marker file names: "dir=DIR", then
 * "NAME=CONTENT" for each marker file that can be read (its content as
 * $(cat) gives it: trailing newlines dropped), or "NAME" alone when that
 * content holds a newline. */
extern const char lifecycle_ref_read_script[];
/* Take that script's output (out, modified) into st->ref_dir and
 * st->ref_markers: a marker of more than one line is "\n", which never
 * counts as done, as the reference compares the whole content with the one
 * line it writes. */
void lifecycle_ref_markers_parse(struct lifecycle_state *st, char *out);
/* Write the reference CLI's markers of the steps run (st->ref_todo), as
 * ctx->user, in one exec; a failure is logged, not returned (the
 * reference then runs those steps again). */
void lifecycle_ref_markers_write(
    const struct lifecycle_ctx *ctx, struct lifecycle_state *st);

#endif
