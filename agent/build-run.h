/* build-run.h - run a `docker build` (or `docker compose build`), and once
 * more when Docker's build cache lost an image during it.
 *
 * The legacy builder reuses intermediate images of earlier builds FROM the
 * same base, and nothing stops another build's `docker rmi`, a `docker image
 * prune` or another user's `up` from removing one between the cache lookup
 * and its use: the build fails (build-failure.h, build_failure_cache_lost).
 * The second build does not find the removed image in its cache and builds
 * that step again. Any other failure is the build's own: never retried. */
#ifndef RDEV_BUILD_RUN_H
#define RDEV_BUILD_RUN_H

struct progress;
struct spawn_opts;
struct spawn_result;

/* The line p gets before the second build. */
#define BUILD_RUN_AGAIN \
	"Docker's build cache lost an image during the build (removed by " \
	"another build or a prune); building again"

/* spawn_run(argv, opts, res, cause), and when the program exits non-zero
 * saying Docker's build cache lost an image, BUILD_RUN_AGAIN to p (may be
 * NULL) and the same run again, once: res is then the second run's. 0 when
 * the program ran (res to free with spawn_result_free, *retried 1 if it ran
 * twice, else 0), -1 with *cause when it could not be started. */
int build_run(const char *const argv[], const struct spawn_opts *opts,
    const struct progress *p, struct spawn_result *res, int *retried, char **cause);

/* What an error message adds after "exited with status N" when the build
 * ran twice (retried): " (built twice: Docker's ...)", else "". A static
 * string. */
const char *build_run_note(int retried);

#endif
