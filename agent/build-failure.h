/* build-failure.h - what to say when a `docker build` fails.
 *
 * Docker's legacy builder (the docker CLI without buildx, as Debian's
 * docker.io on these machines) writes each step
 * and the failing command's own words to stdout, and to stderr only its
 * deprecation banner and "The command '...' returned a non-zero code: N".
 * The last lines of stderr alone then say nothing about the cause. This picks
 * the lines a user needs: the failing step ("Step 4/4 : RUN ...") and what its
 * command printed, then stderr without the banner; colour escapes removed.
 * Pure functions: no I/O. */
#ifndef RDEV_BUILD_FAILURE_H
#define RDEV_BUILD_FAILURE_H

/* The text for a failed docker command from its captured stdout and stderr
 * (either may be NULL): the failing step's line, then at most `lines` (1..64)
 * lines of what it printed and of stderr. With BuildKit everything is on
 * stderr: its last lines. A new string (maybe empty) the caller frees. */
char *build_failure_text(const char *out, const char *err, int lines);

#endif
