/* lifecycle.h - run a dev container's lifecycle commands.
 *
 * The in-container steps run in this order (the spec's "Lifecycle"; the
 * reference CLI's runLifecycleHooks in src/spec-common/injectHeadless.ts):
 *
 *   onCreateCommand, updateContentCommand, postCreateCommand  once per container
 *   dotfiles (up's --dotfiles-repository)                     once per container
 *   postStartCommand                                          once per start
 *   postAttachCommand                                         on every `up`
 *
 * The dotfiles step is not devcontainer.json's: its one command, made by
 * lifecycle-dotfiles.c from ctx->dotfiles, clones the repository with the
 * container's git and runs its install script, as the reference's
 * installDotfiles does (see lifecycle_dotfiles_script()). It has a marker
 * like the create steps (the reference's ~/.devcontainer/.dotfilesMarker is
 * not read or written), is never a waitFor step, and counts as one of the
 * "five" below for the flags.
 *
 * initializeCommand runs on the host, in the workspace folder, before the
 * image is built (lifecycle_run_initialize()).
 *
 * Input: the merged configuration (common/config-merge.h), whose
 * onCreateCommands ... postAttachCommands arrays hold one element per
 * contributor (image metadata first, devcontainer.json last). The elements
 * of one step run one after the other; each is
 *   - a string: run as `/bin/sh -c STRING`;
 *   - an array: run as an argv, no shell;
 *   - an object: its entries (each a string or an array) run IN PARALLEL,
 *     every output line prefixed "[name] "; the element fails if any entry
 *     fails, after all of them have ended.
 * Empty commands ("", "  ", [], {}) and values of other types (null, numbers)
 * are skipped, as in the reference.
 *
 * Execution: docker_exec() as ctx->user, in ctx->workdir, with ctx->env (the
 * probed user environment overlaid with remoteEnv: see env-probe.h). A
 * parallel element runs each entry in its own thread with its own struct
 * docker (own connection to the same socket); calls to the output function
 * are serialized with a mutex, so it never runs in two threads at once.
 * Output is passed on line by line as it arrives (stdout and stderr are
 * split into lines separately; a trailing "\r" is dropped; a last line
 * without a newline is passed on when the command ends).
 *
 * Markers: which steps already ran is recorded inside the container, so it
 * dies with the container (a recreated container runs everything again) and
 * any agent process sees it. After a step SUCCEEDS, a file
 * LIFECYCLE_MARKER_DIR/<stepName> is written as root (uid 0) holding the container's
 * Created time (the three create steps) or State.StartedAt (postStartCommand).
 * A create step whose marker holds this container's Created time is skipped;
 * postStartCommand is skipped when its marker holds the current StartedAt
 * (so re-running `up` on a running container does not run it again, and a
 * restart does). A failed step writes no marker and is tried again by the next
 * `up`. (Unlike the reference, which writes its marker before running the
 * step and so never retries a failed one.) A step with no commands costs no
 * exec and writes no marker (for an existing container the commands come
 * from its own metadata label, frozen at creation, so they cannot appear
 * later). Markers are read with one exec per lifecycle_run() call.
 * postAttachCommand has no marker and runs on every call.
 *
 * The reference CLI's markers (~/.devcontainer/.onCreateCommandMarker ...
 * of the remote user; lifecycle-marker.c has their rules): a step with no
 * marker of rdev's for this container (start) is also skipped when the
 * reference's says it ran, so `up` on a container the reference (VS Code)
 * made or started runs its steps no second time. They are read with one
 * more exec, as ctx->user, only when rdev's do not say a step with commands
 * is done. After the steps ran, the reference's markers of those that
 * succeeded are written, as ctx->user, with one exec at the end of the
 * call, so the reference does not run them again either. rdev's own
 * markers decide first: where they say done, the reference's are not
 * read; a step that failed under rdev writes neither and is tried again;
 * one that failed under the reference (which writes its marker first) is
 * not. The dotfiles step's (.dotfilesMarker) is neither read nor written.
 *
 * Which steps run, and when (struct lifecycle_plan, from the flags of `up`,
 * which are the reference CLI's): by default lifecycle_run() runs all five
 * before it returns, as the reference does. LIFECYCLE_SKIP_NON_BLOCKING: it
 * runs the steps up to and including the waitFor step (default
 * updateContentCommand; "initializeCommand" means none) and hands the rest
 * back as "pending", for the caller to run in a background process
 * (lifecycle_bg_*(); the reference does not run them at all).
 * LIFECYCLE_SKIP_POST_CREATE: none of the five (initializeCommand, which is
 * not lifecycle_run()'s, still runs). LIFECYCLE_SKIP_POST_ATTACH: not
 * postAttachCommand. Note: if `up` runs again while the background steps of
 * an earlier `up` still run, a create step that has not finished yet (no
 * marker) runs a second time; the caller serializes `up` and the background
 * run per container (agent_lock_acquire()).
 *
 * The background run: its output goes to the container's log
 * "<state_dir>/lifecycle-<id>.log" (lifecycle_log_*()) and its progress to
 * the container's record "<state_dir>/lifecycle-<id>.state", JSON replaced
 * atomically as each step starts and ends:
 *   {"containerId":ID,"state":"running"|"done"|"failed","error":MSG,
 *    "steps":[{"name":"postCreateCommand","state":"pending"|"running"|
 *              "done"|"skipped"|"failed"},...]}
 * Its process holds an exclusive flock(2) on "<state_dir>/lifecycle-<id>.lock"
 * while it runs, so a record still "running" with nobody holding the lock
 * is a run whose process died (killed, a reboot): readers report it as
 * failed. Readers (`logs -f`, `exec`) need no Docker call:
 * lifecycle_bg_status_read(). The lock file, not the log, also tells the
 * run that its container was removed (lifecycle_bg_removed() unlinks it):
 * a log removed by hand is made anew for the lines that follow, and the
 * run and its record go on.
 * A step that fails in `up` itself (not in the background) leaves the same
 * record, marked "run":"foreground", with that step "failed" and nothing
 * else (lifecycle_bg_record_failure()), so `status` can tell it ran and
 * failed; the background's readers (`logs`, the notice) see no background
 * run in it. initializeCommand, which runs on the host before there may
 * be a container, leaves none: `up` reports it, and there is no container
 * to hold the failure.
 *
 * Errors: -1 with *cause shaped like
 *   postCreateCommand failed: `npm install` exited with status 3: npm ERR! ...
 *   postCreateCommand failed: [db] `mysql -u root` exited with status 1
 *   initializeCommand failed: `./init.sh` killed by signal 9 (Killed)
 * ending, when the command said anything, in its last words: its last
 * stderr line, else its last stdout line (lifecycle-exec.c).
 */
#ifndef RDEV_LIFECYCLE_H
#define RDEV_LIFECYCLE_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "buf.h"

struct docker;
struct secrets;

#define LIFECYCLE_MARKER_DIR "/var/lib/rdev/lifecycle"

enum lifecycle_step {
	LIFECYCLE_ON_CREATE,
	LIFECYCLE_UPDATE_CONTENT,
	LIFECYCLE_POST_CREATE,
	LIFECYCLE_DOTFILES,
	LIFECYCLE_POST_START,
	LIFECYCLE_POST_ATTACH,
	LIFECYCLE_NSTEPS
};

/* One line of a command's output (without its newline), for step (e.g.
 * "postCreateCommand", "initializeCommand"); both borrowed for the call.
 * Never called from two threads at once. */
typedef void (*lifecycle_output_fn)(void *arg, const char *step, const char *line);
/* A command's output so far has been passed on line by line (a piece of it
 * came, or the command ended): what the output function holds back to send
 * many lines at once must go now, the command may pause (arg: the output
 * function's). Never called from two threads at once, nor at once with the
 * output function. */
typedef void (*lifecycle_flush_fn)(void *arg);

enum lifecycle_event {
	LIFECYCLE_EVENT_RUN,	/* detail: the command, "`npm install`" or "[db] `...`" */
	LIFECYCLE_EVENT_SKIP,	/* detail: why ("already ran in this container") */
	LIFECYCLE_EVENT_DONE,	/* detail: NULL */
	LIFECYCLE_EVENT_FAILED, /* detail: the error message */
	/* detail: the name (the object's key) of the command of a group (an
	 * object, of one command or more) that failed, the one the group's
	 * error is about: before the step's FAILED (initializeCommand: before
	 * its error). Even for one command: the view joins a step's groups
	 * into one phase, and an object of one may follow one of two. */
	LIFECYCLE_EVENT_MEMBER_FAILED,
	/* detail: the name (the object's key) of a group's command about to
	 * run, just before its RUN: what a display keeps beside that RUN's
	 * text rather than parsing it back out (a key may hold "] `") */
	LIFECYCLE_EVENT_MEMBER_RUN,
	/* detail: the id of the Feature whose command of the step failed
	 * (its element of the merged array came from the Feature's metadata),
	 * before the step's FAILED; none for the configuration's own or an
	 * image's entry without an id (the reference's "from devcontainer.json"). */
	LIFECYCLE_EVENT_FEATURE_FAILED
};
/* Progress of the steps, for the caller's display or log; may be NULL.
 * Called from the calling thread only. */
typedef void (*lifecycle_event_fn)(
    void *arg, const char *step, enum lifecycle_event ev, const char *detail);

/* Everything borrowed, for the duration of each call that gets the ctx. */
struct lifecycle_ctx {
	struct docker *docker; /* serial commands and markers */
	const char *container_id;
	const char *user;	/* NULL: the container's user */
	const char *workdir;	/* NULL: the container's working dir */
	const char *const *env; /* "K=V", NULL-terminated; NULL: none added */
	/* Variables to remove (remoteEnv null), NULL-terminated, may be NULL:
	 * the command is then run through `env -u NAME ...` since an exec's Env
	 * can only add to the container's environment. */
	const char *const *unset_env;
	/* The container's Created time and State.StartedAt, as inspect shows
	 * them; NULL: lifecycle_run() inspects the container. */
	const char *created_at;
	const char *started_at;
	/* The dotfiles step: {"repository","targetPath","installCommand"}
	 * (lifecycle_dotfiles_spec()), or NULL: no such step. */
	const cJSON *dotfiles;
	lifecycle_output_fn out;      /* may be NULL: output discarded */
	lifecycle_flush_fn out_flush; /* may be NULL: out holds nothing back */
	void *out_arg;
	lifecycle_event_fn event; /* may be NULL */
	void *event_arg;
	/* Values (--secrets-file's, which env may hold) that the background
	 * run masks in the log and record it writes; NULL: none. */
	const struct secrets *mask;
	/* The metadata entries the merged configuration was made of, in
	 * order (a Feature's with its "id"): the first nmetadata are the
	 * image's and the Features', the rest the configuration's own. A
	 * step's error of an element of the first names where it came from.
	 * NULL: not known. */
	const cJSON *metadata;
	int nmetadata;
};

/* The steps not run yet (opaque). */
struct lifecycle_pending;

/* Flags of lifecycle_run(): `up`'s --skip-non-blocking-commands,
 * --skip-post-create, --skip-post-attach; and run-user-commands'
 * --prebuild (onCreateCommand and updateContentCommand only, the latter run
 * again even when its marker says it ran: a prebuild refreshes the
 * content) and --stop-for-personalization (nothing after the dotfiles:
 * neither postStartCommand nor postAttachCommand), as the reference's
 * runLifecycleHooks stops for them. LIFECYCLE_NO_BACKGROUND: with
 * LIFECYCLE_SKIP_NON_BLOCKING, the steps after the waitFor one are dropped,
 * not pending (run-user-commands, as the reference: a later call runs them,
 * their markers saying which did not run; up keeps its background run). */
#define LIFECYCLE_SKIP_NON_BLOCKING 0x01
#define LIFECYCLE_SKIP_POST_CREATE 0x02
#define LIFECYCLE_SKIP_POST_ATTACH 0x04
#define LIFECYCLE_PREBUILD 0x08
#define LIFECYCLE_STOP_FOR_PERSONALIZATION 0x10
#define LIFECYCLE_NO_BACKGROUND 0x20

/* Which steps lifecycle_run() runs, and which of them before it returns. */
struct lifecycle_plan {
	unsigned steps;	     /* bit (1u << step) for each step to run */
	int last_foreground; /* later steps are pending: -1 (none before) .. 5 */
	unsigned rerun;	     /* bit (1u << step): run it whatever its marker says */
};

/* The step's name as in devcontainer.json ("postCreateCommand", "dotfiles")
 * and the key of its array in the merged configuration
 * ("postCreateCommands"; NULL for the dotfiles step, which has none). */
const char *lifecycle_step_name(enum lifecycle_step step);
const char *lifecycle_step_merged_key(enum lifecycle_step step);

/* The dotfiles step's spec (ctx->dotfiles) for up's --dotfiles-repository,
 * --dotfiles-install-command and --dotfiles-target-path (each NULL when not
 * given), as the reference takes them: an "owner/repo" repository (no ':',
 * not a path) is https://github.com/owner/repo.git, the target defaults to
 * "~/dotfiles". {"repository","targetPath"[,"installCommand"]}, new; NULL
 * when repository is NULL or "" (no dotfiles). */
cJSON *lifecycle_dotfiles_spec(
    const char *repository, const char *install_command, const char *target_path);

/* The remote user of a merged configuration: remoteUser, else containerUser,
 * else NULL (the container's user). Borrowed from merged. */
const char *lifecycle_user(const cJSON *merged);

/* Run initializeCommand (string, array or object form; NULL or empty: no-op)
 * on this host in workspace_folder with our environment, streaming its
 * output to out (and flush, may be NULL, as a ctx's out_flush) and its
 * commands' events (as the in-container steps') to event (may be NULL), all
 * with arg. 0, or -1 with *cause ("initializeCommand failed: ..."). */
int lifecycle_run_initialize(const cJSON *command, const char *workspace_folder,
    lifecycle_output_fn out, lifecycle_flush_fn flush, lifecycle_event_fn event,
    void *arg, char **cause);

/* Run the in-container steps flags (LIFECYCLE_SKIP_*) ask for: all of them,
 * or with LIFECYCLE_SKIP_NON_BLOCKING those up to and including merged's
 * waitFor step. *pending gets the later steps that have commands and have
 * not run in this container yet (NULL if none), to pass to
 * lifecycle_bg_run() or lifecycle_run_pending() and then
 * lifecycle_pending_free(); it holds its own copy of the commands, so merged
 * may be freed. On failure *pending is NULL. */
int lifecycle_run(const struct lifecycle_ctx *ctx, const cJSON *merged, unsigned flags,
    struct lifecycle_pending **pending, char **cause);
/* Run the pending steps (markers are checked now), stopping at the first
 * that fails. pending is not freed. ctx may differ from lifecycle_run()'s
 * (another process, another struct docker, a log file as output). */
int lifecycle_run_pending(const struct lifecycle_ctx *ctx,
    const struct lifecycle_pending *pending, char **cause);
void lifecycle_pending_free(struct lifecycle_pending *p);
/* How many steps are pending and the name of the i-th (for messages). */
size_t lifecycle_pending_count(const struct lifecycle_pending *p);
const char *lifecycle_pending_step(const struct lifecycle_pending *p, size_t i);
/* The pending steps' names for a message, "postCreateCommand,
 * postStartCommand". Caller frees. */
char *lifecycle_pending_names(const struct lifecycle_pending *p);

/* ---- The background run (see the top of this file) ---- */

struct lifecycle_bg;
/* Before the background process is forked: open the container's log, lock
 * its lock file, record pending's steps as not run yet. The lock belongs to
 * the open lock file, which the forked process inherits and keeps. NULL
 * with *cause. */
struct lifecycle_bg *lifecycle_bg_begin(const char *state_dir, const char *container_id,
    const struct lifecycle_pending *pending, char **cause);
/* In the background process: run pending with ctx, its output and events
 * going to the log and the record (ctx's own out and event are not used),
 * then record how it ended. 0, or -1 when a step failed (recorded). */
int lifecycle_bg_run(struct lifecycle_bg *bg, const struct lifecycle_ctx *ctx,
    const struct lifecycle_pending *pending);
/* Close this process's copy of the log and lock file (the lock stays with
 * any process that still has it open). lifecycle_bg_free(NULL) is a no-op. */
void lifecycle_bg_free(struct lifecycle_bg *bg);
/* Drop the record of an earlier run (`up` does, holding the workspace lock,
 * before its steps: what runs now is the current story). */
void lifecycle_bg_forget(const char *state_dir, const char *container_id);
/* Container container_id was removed (`down`, or `up` replacing it): its
 * record, its background log and its lock file go with it (in the agent's
 * state directory; none found: there is nothing to drop). */
void lifecycle_bg_removed(const char *container_id);

/* Record that step failed with error in `up`'s foreground run of the
 * container's steps (replacing any record; the next `up` forgets it). 0, or
 * -1 with *cause. */
int lifecycle_bg_record_failure(const char *state_dir, const char *container_id,
    const char *step, const char *error, char **cause);

enum lifecycle_bg_state {
	LIFECYCLE_BG_NONE, /* no background run recorded */
	LIFECYCLE_BG_RUNNING,
	LIFECYCLE_BG_DONE,
	LIFECYCLE_BG_FAILED /* a step failed, or the process died */
};
struct lifecycle_bg_status {
	enum lifecycle_bg_state state;
	char **left;	/* RUNNING: the steps not ended yet, in order; NULL-terminated */
	char *error;	/* FAILED: why */
	char *failed;	/* FAILED: the step that failed, NULL if unknown */
	int foreground; /* the record is of `up`'s own run (always FAILED) */
};
/* What the container's background run is doing. 0, or -1 with *cause (an
 * unreadable record; a missing one is LIFECYCLE_BG_NONE). Clear st with
 * lifecycle_bg_status_clear() (also after an error). */
int lifecycle_bg_status_read(const char *state_dir, const char *container_id,
    struct lifecycle_bg_status *st, char **cause);
void lifecycle_bg_status_clear(struct lifecycle_bg_status *st);
/* st as JSON, {"state":"running","steps":[...left],"error":...} ("state":
 * "none", "running", "done", "failed"): the background run's, so a
 * foreground record is "none". New object, caller frees. */
cJSON *lifecycle_bg_status_json(const struct lifecycle_bg_status *st);
/* While the container's background steps run: "postCreateCommand is still
 * running in the background (see `FOLLOW_CMD`)" ("a and b are ..."), for exec
 * and shell to show; NULL when none runs (or the record cannot be read). New
 * string. */
char *lifecycle_bg_notice(
    const char *state_dir, const char *container_id, const char *follow_cmd);

/* Which steps the markers in the running container say have run for it
 * (postStartCommand: for this start), rdev's or the reference CLI's of user
 * (the remote user; NULL: the container's): done[step] 1 or 0;
 * postAttachCommand leaves no marker (it runs at every attach): always 0.
 * created_at and started_at as inspect shows them (NULL: inspected). One
 * exec, two when rdev's do not say every step is done. 0, or -1 with
 * *cause. */
int lifecycle_markers_read(struct docker *d, const char *container_id, const char *user,
    const char *created_at, const char *started_at, int done[LIFECYCLE_NSTEPS],
    char **cause);

/* The background log of a container: "<state_dir>/lifecycle-<id>.log".
 * Caller frees. */
char *lifecycle_log_path(const char *state_dir, const char *container_id);
struct lifecycle_log;
/* Open (create, mode 0600) path for appending. NULL with *cause on failure.
 * lifecycle_log_close(NULL) is a no-op. */
struct lifecycle_log *lifecycle_log_open(const char *path, char **cause);
void lifecycle_log_close(struct lifecycle_log *log);
/* A lifecycle_output_fn (arg: the struct lifecycle_log) appending
 * "2025-01-02T03:04:05.678Z postCreateCommand: LINE\n" with one write(2) per
 * line (O_APPEND), so concurrent writers never split a line. */
void lifecycle_log_output(void *arg, const char *step, const char *line);
/* A lifecycle_event_fn (arg: the struct lifecycle_log) logging
 * "postCreateCommand: running `npm install`", "...: skipped (...)",
 * "...: done", "...: FAILED: <message>". */
void lifecycle_log_event(
    void *arg, const char *step, enum lifecycle_event ev, const char *detail);

/* ---- Pure helpers, exposed for the unit tests ---- */

/* One command of a step element. */
struct lifecycle_cmd {
	char *name;  /* object entry name; NULL for the string and array forms */
	char **argv; /* NULL-terminated; the string form is /bin/sh -c STRING */
	char *text;  /* the string as written, or shell_quote_argv(argv,
			SHELL_QUOTE_NEEDED) */
};

/* The plan for flags (LIFECYCLE_SKIP_*) and merged's waitFor value. */
void lifecycle_plan_make(
    const cJSON *wait_for, unsigned flags, struct lifecycle_plan *plan);

/* One element of a step: one command, or an object's entries (parallel). */
struct lifecycle_group {
	struct lifecycle_cmd *cmds;
	size_t ncmds;
	int parallel; /* 1 for the object form */
};

/* Parse one element (string, array or object). Empty and ill-typed values
 * give ncmds 0; an array holding a non-string, or an object entry that is
 * not a string or array, is an error ("postCreateCommand: entry \"db\" is
 * neither a string nor an array"), with step naming the step. Object
 * entries that are empty are left out. Clear g with lifecycle_group_clear()
 * (also after an error). */
int lifecycle_group_parse(
    const cJSON *value, const char *step, struct lifecycle_group *g, char **cause);
void lifecycle_group_clear(struct lifecycle_group *g);

/* The description of a command used in messages: "`npm install`" or
 * "[db] `mysql -u root`". Caller frees. */
char *lifecycle_cmd_describe(const struct lifecycle_cmd *cmd);
/* "STEP failed: DESCRIPTION exited with status N", or with
 * "killed by signal N (Name)" when !exited. Caller frees. */
char *lifecycle_failure_message(
    const char *step, const struct lifecycle_cmd *cmd, int exited, int code);

/* The index of the last step to run in the foreground for a waitFor value:
 * -1 for "initializeCommand", the step's for the five of devcontainer.json;
 * NULL, unknown values (and "dotfiles") and non-strings mean the default,
 * updateContentCommand (1). */
int lifecycle_wait_for_last(const cJSON *wait_for);

/* Splits a byte stream into lines, each prefixed with prefix (may be NULL).
 * A line longer than LIFECYCLE_LINE_MAX bytes is passed on in pieces of at
 * most that (cut before a UTF-8 character's continuation bytes), each as a
 * line: a frame to the client holds one piece whatever its escaping (up to
 * 7 bytes a byte in --log-format json, under PROTO_MAX_PAYLOAD), so no
 * output is dropped, and a line with no end is not held whole in memory.
 * Nor is a value of mask cut in two (the cut is moved before it), so that
 * each piece, masked, shows none of it. */
#define LIFECYCLE_LINE_MAX (1u << 20)
struct secrets;
struct lifecycle_lines {
	struct buf *buf;
	char *prefix;
	size_t scanned; /* buf's first bytes, known to hold no '\n' */
	/* values a cut must not split (NULL: none; set after init) */
	const struct secrets *mask;
};
typedef void (*lifecycle_line_fn)(void *arg, const char *line);
void lifecycle_lines_init(struct lifecycle_lines *l, const char *prefix);
/* Pass on every complete line in data (plus what was buffered before). */
void lifecycle_lines_feed(struct lifecycle_lines *l, const void *data, size_t len,
    lifecycle_line_fn fn, void *arg);
/* Pass on a last incomplete line, if any, and free the buffer. */
void lifecycle_lines_finish(struct lifecycle_lines *l, lifecycle_line_fn fn, void *arg);

#endif
