/* spawn.h - run a program from an argv array and capture what it prints.
 *
 * No shell is involved: argv[0] is looked up in PATH and argv is passed as is,
 * so user strings can never be reinterpreted as shell syntax.
 */
#ifndef RDEV_SPAWN_H
#define RDEV_SPAWN_H

#include <stddef.h>

struct spawn_opts {
	const char *const *env; /* full environment; NULL inherits ours */
	const char *cwd;	/* NULL: current directory */
	const void *stdin_data; /* written to the child's stdin, then closed */
	size_t stdin_len;
	size_t max_output; /* cap per stream (bytes kept); 0 means 64 MiB */
	/* Called with each chunk of output as it arrives (stream 1 = stdout,
	 * 2 = stderr), for progress; the output is still captured. NULL: none. */
	void (*on_output)(void *arg, int stream, const char *data, size_t len);
	void *on_output_arg;
	/* Kill the program (SIGKILL) when it has not finished after this many
	 * milliseconds, and stop reading (a child it left holding the pipes
	 * cannot keep us waiting); res->timed_out then says so. 0: no limit. */
	int timeout_ms;
	/* Stop reading once the program itself has exited and what it printed
	 * before is read: a process it left in the background holding its
	 * stdout or stderr (a shell's `server &`) cannot keep us waiting, as
	 * it does not keep the reference CLI's initializeCommand. (What that
	 * process writes later is read and discarded by a detached drainer
	 * that ends when the pipes do: the process keeps running.) */
	int stop_at_exit;
	/* What it prints is secret (a credential helper's answer): the copies
	 * spawn makes on the way are wiped; the caller wipes res->out and
	 * res->err (sodium_memzero) before spawn_result_free. */
	int secret_output;
	/* Killed (SIGKILL) when the thread that spawned it dies, a kill -9
	 * too (PR_SET_PDEATHSIG): a `docker build` must not go on, orphaned,
	 * after the agent that ran it. spawn_run() waits for the program,
	 * so the spawning thread outlives it otherwise. */
	int die_with_parent;
};

struct spawn_result {
	int exited;	 /* 1 if the child exited normally */
	int exit_code;	 /* valid when exited */
	int term_signal; /* valid when !exited */
	char *out;	 /* captured stdout, NUL-terminated; owned by the result */
	size_t out_len;
	char *err; /* captured stderr, NUL-terminated; owned by the result */
	size_t err_len;
	int truncated; /* 1 if a stream exceeded max_output */
	int timed_out; /* opts->timeout_ms if it ran out (then killed), else 0 */
};

/* Close every descriptor from lo up (close_range, else one by one up to
 * the limit): for a forked child that runs on without exec. Raw syscalls
 * only, safe after fork in a process with threads. */
void spawn_close_from(int lo);
/* Run argv (NULL-terminated) to completion. Returns 0 when the program ran
 * (whatever its exit status; see res) and -1 with *cause set when it could not
 * be started (not found, not executable) or I/O failed. The caller frees res
 * with spawn_result_free(). */
int spawn_run(const char *const argv[], const struct spawn_opts *opts,
    struct spawn_result *res, char **cause);
void spawn_result_free(struct spawn_result *res);

/* The shell-style status: exit code, or 128 + signal number. */
int spawn_result_status(const struct spawn_result *res);
/* The last `lines` lines of what the program printed (stderr if it printed
 * anything there, else stdout), for an error message. New string. */
char *spawn_result_tail(const struct spawn_result *res, int lines);
/* "exited with status 3", "killed by signal 9 (Killed)" or "did not finish
 * within 30 s (killed)"; caller frees. */
char *spawn_result_describe(const struct spawn_result *res);

/* Run argv as spawn_run does and succeed only when it exits with status 0.
 * Else -1 with *cause naming the program as name ("git clone", "docker"):
 * "NAME: WHY" when it could not be started, or "NAME exited with status 3:
 * LAST LINES" (spawn_result_describe, then spawn_result_tail's `lines`
 * lines: after a space when there is one, after a newline when there are
 * more; nothing when it printed nothing) when it failed. For programs whose
 * failure is an error to show as it is; a caller that looks at the status
 * or the output uses spawn_run. */
int spawn_run_ok(const char *const argv[], const struct spawn_opts *opts,
    const char *name, int lines, char **cause);

/* Start the program at path argv[0] (no PATH lookup) with its stdin and
 * stdout one end of a new socketpair (stderr: ours) and SIGPIPE at its
 * default; *fd gets the other end (close-on-exec, blocking; the caller owns
 * it). detached: it is nobody's child here (forked twice: it ends on its own
 * once its socket does, nothing must reap it) and *pid is -1; else *pid is
 * the child's, for the caller to reap. 0, or -1 with *cause (a program that
 * cannot be executed shows as the socket closing, status 127). */
int spawn_socketpair(
    const char *const argv[], int detached, int *pid, int *fd, char **cause);

#endif
