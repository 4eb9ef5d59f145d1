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

/* Whether a failed build's stderr (may be NULL) says Docker's legacy builder
 * lost an image it had taken from its build cache: an intermediate image
 * (named by its full content id, "sha256:" and 64 hex digits) that another
 * build's `docker rmi` (which removes untagged parents too), a prune, or
 * another user's `up` removed between the cache lookup and its use. Docker
 * does not protect them (moby issue 29011), and a second build no longer
 * finds them in its cache, so it succeeds. Its words, from moby:
 *   unable to find image "sha256:..."   the cache's lookup of a step
 *                                       (image/cache/cache.go getMatch)
 *   unable to find image sha256:...     the same with --cache-from
 *   No such image: sha256:...           a step's container or COPY --from
 *                                       from it (daemon/images ErrImage-
 *                                       DoesNotExist)
 *   unknown parent image ID sha256:...  committing a step on it
 *                                       (image/store.go SetParent)
 * anywhere in a line (Compose puts its own words in front). A missing image
 * of the user's is named, not by a bare content id ("pull access denied for
 * x", "No such image: x:tag", "x@sha256:..."): never matched; nor BuildKit's
 * "failed to compute cache key" (a file COPY names that is not there).
 * BuildKit keeps its cache apart from the images those commands remove. */
int build_failure_cache_lost(const char *err);

#endif
