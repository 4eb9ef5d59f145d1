/* test-build-run.c - unit tests for agent/build-run.c (a build run once
 * more when Docker's build cache lost an image): a real child process, a
 * script standing in for `docker build` that counts its runs in a file and
 * does, each run, what the test asks of it. */
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "build-run.h"
#include "progress.h"
#include "spawn.h"
#include "xmalloc.h"

/* sh -c SCRIPT COUNTER FIRST SECOND: run 1 does FIRST, later runs SECOND;
 * "ok" copies stdin to stdout and exits 0, "lost" fails as the legacy
 * builder does when its cache's image is gone, "fail" as a failing RUN
 * step, "stdout" prints the cache's words on stdout (a step's output) and
 * fails. */
static const char build_script[] =
    "n=$(($(cat \"$0\" 2>/dev/null || echo 0) + 1)); echo $n >\"$0\"\n"
    "how=$2; [ $n -gt 1 ] || how=$1\n"
    "echo 'Step 2/9 : USER root'\n"
    "case $how in\n"
    "ok) cat; exit 0 ;;\n"
    "lost) echo 'unable to find image "
    "\"sha256:805f1f5ef84e589aefd805e182a296d76727f55439465ceed9211757d10fde7f\"' "
    ">&2 ;;\n"
    "stdout) echo 'No such image: "
    "sha256:805f1f5ef84e589aefd805e182a296d76727f55439465ceed9211757d10fde7f' ;;\n"
    "*) echo \"The command '/bin/sh -c make' returned a non-zero code: 2\" >&2 ;;\n"
    "esac\n"
    "exit 1\n";

static void
build_run_progress(void *arg, const char *data, size_t len)
{
	buf_append(arg, data, len);
}

/* Run the script as build_run does a build (its stdin "context"); *runs
 * gets how many times it ran, *shown what the progress got. */
static void
build_run_script(const char *first, const char *second, struct spawn_result *res,
    int *retried, int *runs, char **shown)
{
	char dir[] = "/tmp/rdev-test-build-run.XXXXXX", *counter, *cause = NULL;
	struct spawn_opts opts = { 0 };
	struct buf *b = buf_new();
	struct progress p = { build_run_progress, b, 0, NULL, NULL };
	FILE *f;

	if (mkdtemp(dir) == NULL)
		TEST_FAIL("mkdtemp");
	counter = xasprintf("%s/runs", dir);
	{
		const char *argv[] = { "sh", "-c", build_script, counter, first, second,
			NULL };

		opts.stdin_data = "context";
		opts.stdin_len = strlen("context");
		if (build_run(argv, &opts, &p, res, retried, &cause) != 0)
			TEST_FAIL("build_run: %s", cause);
	}
	*runs = 0;
	if ((f = fopen(counter, "r")) != NULL) {
		if (fscanf(f, "%d", runs) != 1)
			*runs = -1;
		fclose(f);
	}
	unlink(counter);
	rmdir(dir);
	free(counter);
	*shown = buf_take_string(b, NULL);
	buf_free(b);
}

/* The script's runs (first, then second) and what build_run made of them:
 * how many ran, whether it said it ran again (the progress's line and the
 * note), the exit status; out (exact) and err (a part), unless NULL. */
static const struct run_case {
	const char *name, *first, *second;
	int runs, retried, status;
	const char *out, *err;
} run_cases[] = {
	/* (out: the second run's, which got the same stdin) */
	{ "cache_lost_then_built_runs_twice_and_says_so", "lost", "ok", 2, 1, 0,
	    "Step 2/9 : USER root\ncontext", NULL },
	{ "cache_lost_twice_runs_twice_only", "lost", "lost", 2, 1, 1, NULL,
	    "unable to find image" },
	{ "cache_lost_then_another_failure_is_the_second", "lost", "fail", 2, 1, 1, NULL,
	    "returned a non-zero code: 2" },
	/* A build's own failure, or the words in a step's output: never again. */
	{ "a_failed_step_runs_once", "fail", "ok", 1, 0, 1, NULL, NULL },
	{ "the_words_in_a_steps_output_run_once", "stdout", "ok", 1, 0, 1, NULL, NULL },
	{ "success_runs_once", "ok", "lost", 1, 0, 0, NULL, NULL },
};

static void
run_check(const void *arg)
{
	const struct run_case *c = arg;
	struct spawn_result res;
	int retried, runs;
	char *shown;

	build_run_script(c->first, c->second, &res, &retried, &runs, &shown);
	ASSERT_INT_EQ(runs, c->runs);
	ASSERT_INT_EQ(retried, c->retried);
	ASSERT_INT_EQ(spawn_result_status(&res), c->status);
	ASSERT_STR_EQ(shown, c->retried ? BUILD_RUN_AGAIN "\n" : "");
	if (c->retried)
		ASSERT_STR_CONTAINS(build_run_note(retried), "built twice");
	else
		ASSERT_STR_EQ(build_run_note(retried), "");
	if (c->out != NULL)
		ASSERT_STR_EQ(res.out, c->out);
	if (c->err != NULL)
		ASSERT_STR_CONTAINS(res.err, c->err);
	spawn_result_free(&res);
	free(shown);
}
TEST_CASES(run_check, run_cases)

TEST(a_program_not_found_is_an_error_not_a_retry)
{
	const char *argv[] = { "/nonexistent/docker", "build", NULL };
	struct spawn_result res;
	char *cause = NULL;
	int retried = -1;

	ASSERT_INT_EQ(build_run(argv, NULL, NULL, &res, &retried, &cause), -1);
	ASSERT_INT_EQ(retried, 0);
	ASSERT_NOT_NULL(cause);
	free(cause);
}
