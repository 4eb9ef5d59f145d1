/* progress-view.h - long work (an image build or pull, each lifecycle step)
 * shown on a terminal as one updating line with the elapsed time, instead
 * of every line of output:
 *
 *   [ 3.2s] Running the postCreateCommand: `npm ci` | added 312 packages
 *
 * (the commands of an object, run together, one phase naming them all)
 * and, when the step ends, one line that stays:
 *
 *   done   Running the postCreateCommand: `npm ci` (14.1 s)
 *
 * A step's output is kept (its last PROGRESS_VIEW_KEEP bytes) and printed
 * in full when the step, or the whole operation, fails; warnings are
 * printed as they come. The view reads the JSON event lines of progress.h
 * (a request made with "logFormat":"json"), so it serves a local and a
 * remote target alike.
 *
 * Used by the commands when stderr is a terminal that can move the cursor
 * (TERM not "dumb"), at the default verbosity (-v shows the full output as
 * plain lines), without --json or --log-format json, and unless
 * RDEV_PROGRESS=plain. progress_view_wanted() says so.
 *
 * Ownership: the view owns its kept output and a thread that redraws the
 * line every 100 ms; progress_view_end() stops it and frees everything.
 */
#ifndef RDEV_PROGRESS_VIEW_H
#define RDEV_PROGRESS_VIEW_H

#include <stddef.h>
#include <stdio.h>

#define PROGRESS_VIEW_KEEP (256 * 1024)

struct progress_view;

/* Whether progress on f (stderr) should be a view (above). */
int progress_view_wanted(FILE *f);
/* A view drawing on f (a terminal). */
struct progress_view *progress_view_new(FILE *f);
/* The sink of struct progress (fn, with the view as arg): JSON event
 * lines, in chunks of any size. */
void progress_view_sink(void *view, const char *data, size_t len);
/* The operation ended (failed: its error follows, error its text or
 * NULL): the current step's line is finished (with its kept output when
 * failed; for a group of commands run together, naming the one its
 * "failed" event's "member" names, else, from an agent that sends no
 * "member", the one whose "[NAME] `CMD`" error holds), the thread stopped
 * and the view freed. NULL is a no-op. */
void progress_view_end(struct progress_view *v, int failed, const char *error);
/* The operation is being cancelled (^C): the current step's line is
 * finished "[cancelled after N s] LABEL" and the thread stopped, before
 * the cancel's message; progress_view_end() still frees v. NULL is a
 * no-op. */
void progress_view_cancel(struct progress_view *v);

#endif
