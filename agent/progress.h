/* progress.h - where long agent operations send what the user should see
 * (build output, lifecycle output, "Creating container..."). The sink gets
 * raw text chunks; lines end with '\n'. A NULL fn discards everything.
 *
 * Two things a request may ask of its sink (op-up.c sets them):
 * - mask: every secret value (secrets.h) is replaced by "********" before
 *   anything reaches fn;
 * - json: each line becomes one line of the reference CLI's
 *   --log-format json (its createJSONLog, spec-utils/log.ts):
 *     {"type":"text","level":3,"timestamp":MS,"text":"..."}       messages
 *     {"type":"raw","level":3,"timestamp":MS,"text":"...\n",
 *      "channel":"postCreate"}                                    command output
 *     {"type":"progress","name":"Running postCreateCommand...",
 *      "status":"running"|"succeeded"|"failed","stepDetail":"...",
 *      "channel":"postCreate"}                                    lifecycle steps
 *   (rdev's own additions: a "failed" one of an object's commands run
 *   together has "member":KEY, the command that failed; initializeCommand
 *   has that line alone; the "text" line announcing such a command,
 *   "Running the STEP: [KEY] `CMD`", has "member":KEY too)
 *   (MS: milliseconds since the epoch). Text-mode sinks get none of the
 *   "progress" lines (progress_step() is then a no-op).
 *
 * A lifecycle command may print millions of lines: one call of fn per line
 * made `up` send one protocol event per line, and its client write (and
 * redraw) once per line. With batch set, progress_output() appends its
 * line (masked, formatted: masking always sees whole lines) to batch, and
 * fn gets what batch holds in one call when progress_flush() is called
 * (the command's output so far was passed on: it may pause now), when it
 * holds PROGRESS_BATCH_MAX bytes, and before anything else is sent, so the
 * order is kept. fn's data then holds many lines (each still whole).
 */
#ifndef RDEV_PROGRESS_H
#define RDEV_PROGRESS_H

#include <stddef.h>

struct buf;
struct secrets;

/* The most progress_output() holds back in a batch before it sends it. */
#define PROGRESS_BATCH_MAX (64 * 1024)

struct progress {
	void (*fn)(void *arg, const char *data, size_t len);
	void *arg;
	int json;		    /* --log-format json */
	const struct secrets *mask; /* NULL: nothing to mask */
	struct buf *batch;	    /* NULL: each line sent at once (above) */
};

/* Raw output (a build's): as it comes in text mode, a "raw" line in json. */
void progress_write(const struct progress *p, const char *data, size_t len);
/* One formatted line; a '\n' is added ("text" in json). */
void progress_line(const struct progress *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* progress_line() announcing a group's command (member: its key, or NULL:
 * none): in json the "text" line has "member":KEY too. */
void progress_member_line(const struct progress *p, const char *member, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));
/* One line of a lifecycle command's output (without its '\n'): the line in
 * text mode, a "raw" line on channel "postCreate" in json. */
void progress_output(const struct progress *p, const char *line);
/* Send what p->batch holds back, if anything (a no-op without a batch). */
void progress_flush(const struct progress *p);
/* A lifecycle step's state in json (name: "Running STEP...", "Installing
 * Dotfiles"; status; detail may be NULL; member, a "failed" step's command
 * of a group that failed, its key, or NULL); nothing in text mode. */
void progress_step(const struct progress *p, const char *name, const char *status,
    const char *detail, const char *member);
/* text as one "text" JSON log line to p->fn, whatever p->json says (for the
 * client's own messages under --log-format json). */
void progress_json_text(const struct progress *p, const char *text);
/* One formatted line on stderr: as it is ('\n' added), or with json one
 * "text" JSON log line (a command's own message under --log-format json,
 * where stderr must stay one JSON object per line). */
void progress_stderr_line(int json, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* -q ("errors only", the log level at LOG_ERROR): progress_quiet() says so.
 * What a stderr sink would show is then given to progress_quiet_keep()
 * instead, which keeps its last PROGRESS_QUIET_LINES lines (a failing
 * build's or step's last output, as other tools keep it), and an error
 * shows them first as its context: progress_quiet_take() gives them (a new
 * string, caller frees; NULL: none) and forgets them. One store for the
 * process, as there is one stderr. A line is kept up to
 * PROGRESS_QUIET_LINE_MAX bytes, then PROGRESS_QUIET_CUT_MARK ends it (the
 * store stays bounded whatever a build prints). */
#define PROGRESS_QUIET_LINES 20
#define PROGRESS_QUIET_LINE_MAX 4096
#define PROGRESS_QUIET_CUT_MARK " [line cut]"
int progress_quiet(void);
void progress_quiet_keep(const char *data, size_t len);
char *progress_quiet_take(void);
/* What -q held back, taken and written to stderr (nothing when none): for
 * an error printed next, which it explains (an ssh config note before a
 * failed connect). */
void progress_quiet_show(void);

#endif
