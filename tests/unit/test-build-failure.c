/* test-build-failure.c - unit tests for agent/build-failure.c (what a failed
 * docker build says). */
#include "test.h"

#include <stdlib.h>

#include "build-failure.h"

/* What Debian's docker.io 20.10 (legacy builder) printed for a RUN step whose
 * command is not found: the step and its output on stdout, coloured. */
static const char legacy_out[] =
    "Sending build context to Docker daemon  7.168kB\r\r\n"
    "Step 1/4 : FROM rdev-test/bookworm:r1\n"
    " ---> 89d4ed4e1956\n"
    "Step 3/4 : RUN echo \"$GREET\" > /greet\n"
    " ---> Running in 0a223d3995c8\n"
    "Removing intermediate container 0a223d3995c8\n"
    " ---> b526e66dd3d4\n"
    "Step 4/4 : RUN this-command-does-not-exist\n"
    " ---> Running in 8d992ebbb765\n"
    "\033[91m/bin/sh: 1: this-command-does-not-exist: not found\n"
    "\033[0m";
static const char legacy_err[] =
    "DEPRECATED: The legacy builder is deprecated and will be removed in a future "
    "release.\n"
    "            Install the buildx component to build images with BuildKit:\n"
    "            https://docs.docker.com/go/buildx/\n"
    "\n"
    "The command '/bin/sh -c this-command-does-not-exist' returned a non-zero "
    "code: 127\n";

TEST(legacy_builder_names_the_step_and_its_output_without_the_banner)
{
	char *s = build_failure_text(legacy_out, legacy_err, 8);

	ASSERT_STR_EQ(s,
	    "Step 4/4 : RUN this-command-does-not-exist\n"
	    "/bin/sh: 1: this-command-does-not-exist: not found\n"
	    "The command '/bin/sh -c this-command-does-not-exist' returned a "
	    "non-zero code: 127");
	free(s);
}

TEST(only_the_last_lines_of_a_long_step)
{
	char *s =
	    build_failure_text("Step 2/2 : RUN make\nl1\nl2\nl3\nl4\n", "failed: 2\n", 2);

	ASSERT_STR_EQ(s, "l3\nl4\nfailed: 2");
	free(s);
}

TEST(no_step_output_keeps_stderr_tail)
{
	char *s = build_failure_text("Pulling from x\n",
	    "Error response from daemon: pull access denied for nope\n", 8);

	ASSERT_STR_EQ(s, "Error response from daemon: pull access denied for nope");
	free(s);
}

TEST(empty_stderr_falls_back_to_stdout)
{
	char *s = build_failure_text("a\nb\n\nc\n", "", 2);

	ASSERT_STR_EQ(s, "b\nc");
	free(s);
}

TEST(nothing_at_all_is_empty)
{
	char *s = build_failure_text(NULL, NULL, 8);

	ASSERT_STR_EQ(s, "");
	free(s);
}

TEST(an_unfinished_escape_at_the_end_is_dropped)
{
	char *s = build_failure_text(NULL, "boom\033[9", 8);

	ASSERT_STR_EQ(s, "boom");
	free(s);
}
