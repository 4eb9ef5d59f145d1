/* test-build-failure.c - unit tests for agent/build-failure.c (what a failed
 * docker build says). */
#include "test.h"

#include <stdlib.h>
#include <string.h>

#include "build-failure.h"

/* What the rig's docker CLI (28, no buildx: the legacy builder) printed for a
 * RUN step whose command is not found: the step and its output on stdout,
 * coloured. */
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

	ASSERT_STR_EQ(s, "Step 2/2 : RUN make\nl3\nl4\nfailed: 2");
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

TEST(only_the_builders_step_lines_count_as_steps)
{
	char *s = build_failure_text("Step 2/2 : RUN ./ci.sh\nStep 2 of 3: test\n"
				     "FAIL test_x : expected 1\nStep 3/x : no\n",
	    "", 8);

	ASSERT_STR_EQ(s,
	    "Step 2/2 : RUN ./ci.sh\nStep 2 of 3: test\n"
	    "FAIL test_x : expected 1\nStep 3/x : no");
	free(s);
}

TEST(buildkit_disabled_banner_is_dropped)
{
	char *s = build_failure_text(NULL,
	    "BuildKit is currently disabled; enable it by removing the "
	    "DOCKER_BUILDKIT=0\n            environment-variable.\n\nboom\n",
	    8);

	ASSERT_STR_EQ(s, "boom");
	free(s);
}

TEST(line_counts_out_of_range_are_clamped)
{
	char *s = build_failure_text("Step 1/1 : RUN x\na\nb\n", "c\nd\n", 0);

	ASSERT_STR_EQ(s, "Step 1/1 : RUN x\nb\nd");
	free(s);
	s = build_failure_text("Step 1/1 : RUN x\na\nb\n", "c\nd\n", -5);
	ASSERT_STR_EQ(s, "Step 1/1 : RUN x\nb\nd");
	free(s);
	s = build_failure_text(NULL, "c\nd\n", 1000);
	ASSERT_STR_EQ(s, "c\nd");
	free(s);
}

/* Arbitrary output (a fixed pseudo-random sequence, built from the pieces the
 * parser looks for) never breaks it (run under ASan in CI) and gives at most
 * 1 + 2 * lines lines. */
TEST(arbitrary_output_gives_bounded_lines_of_the_input)
{
	static const char *const pieces[] = { "Step ", "1", "/", " : ", "\n", "\033[",
		"91m", "\r", "DEPRECATED: The legacy builder", " ---> ", "x", "",
		"Removing intermediate container ", "\033" };
	unsigned int seed = 12345;
	char out[512], err[512];

	for (int round = 0; round < 3000; round++) {
		char *bufs[2] = { out, err }, *s, *line, *save = NULL;
		int lines = (int)(seed % 5), count = 0;

		for (int k = 0; k < 2; k++) {
			size_t len = 0;

			bufs[k][0] = '\0';
			for (int i = 0; i < 24; i++) {
				const char *piece;

				seed = seed * 1103515245u + 12345u;
				piece = pieces[(seed >> 16) %
				    (sizeof pieces / sizeof pieces[0])];
				if (len + strlen(piece) + 1 >= sizeof out)
					break;
				memcpy(bufs[k] + len, piece, strlen(piece) + 1);
				len += strlen(piece);
			}
		}
		s = build_failure_text(out, err, lines);
		for (line = strtok_r(s, "\n", &save); line != NULL;
		     line = strtok_r(NULL, "\n", &save))
			count++;
		ASSERT_TRUE(count <= 1 + 2 * (lines < 1 ? 1 : lines));
		free(s);
	}
}
