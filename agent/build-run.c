/* build-run.c - a docker build, run once more when Docker's build cache lost
 * an image during it (build-run.h). */
#include "build-run.h"

#include "build-failure.h"
#include "log.h"
#include "progress.h"
#include "spawn.h"

int
build_run(const char *const argv[], const struct spawn_opts *opts,
    const struct progress *p, struct spawn_result *res, int *retried, char **cause)
{
	static const struct spawn_opts defaults;
	struct spawn_opts o = opts != NULL ? *opts : defaults;

	/* (an agent killed mid-build takes its build with it) */
	o.die_with_parent = 1;
	opts = &o;
	*retried = 0;
	if (spawn_run(argv, opts, res, cause) != 0)
		return -1;
	if (spawn_result_status(res) == 0 || !build_failure_cache_lost(res->err))
		return 0;
	log_info("%s %s: Docker's build cache lost an image; building again", argv[0],
	    argv[1] != NULL ? argv[1] : "");
	progress_line(p, "%s", BUILD_RUN_AGAIN);
	spawn_result_free(res);
	*retried = 1;
	return spawn_run(argv, opts, res, cause);
}

const char *
build_run_note(int retried)
{
	return retried ? " (built twice: Docker's build cache had lost an image the "
			 "first time)"
		       : "";
}
