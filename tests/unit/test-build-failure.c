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

/* What build_failure_text(out, err, lines) says. */
static const struct text_case {
	const char *name, *out, *err;
	int lines;
	const char *want;
} text_cases[] = {
	{ "legacy_builder_names_the_step_and_its_output_without_the_banner", legacy_out,
	    legacy_err, 8,
	    "Step 4/4 : RUN this-command-does-not-exist\n"
	    "/bin/sh: 1: this-command-does-not-exist: not found\n"
	    "The command '/bin/sh -c this-command-does-not-exist' returned a "
	    "non-zero code: 127" },
	{ "only_the_last_lines_of_a_long_step", "Step 2/2 : RUN make\nl1\nl2\nl3\nl4\n",
	    "failed: 2\n", 2, "Step 2/2 : RUN make\nl3\nl4\nfailed: 2" },
	{ "no_step_output_keeps_stderr_tail", "Pulling from x\n",
	    "Error response from daemon: pull access denied for nope\n", 8,
	    "Error response from daemon: pull access denied for nope" },
	{ "empty_stderr_falls_back_to_stdout", "a\nb\n\nc\n", "", 2, "b\nc" },
	{ "nothing_at_all_is_empty", NULL, NULL, 8, "" },
	{ "an_unfinished_escape_at_the_end_is_dropped", NULL, "boom\033[9", 8, "boom" },
	{ "only_the_builders_step_lines_count_as_steps",
	    "Step 2/2 : RUN ./ci.sh\nStep 2 of 3: test\nFAIL test_x : expected 1\n"
	    "Step 3/x : no\n",
	    "", 8,
	    "Step 2/2 : RUN ./ci.sh\nStep 2 of 3: test\nFAIL test_x : expected 1\n"
	    "Step 3/x : no" },
	{ "buildkit_disabled_banner_is_dropped", NULL,
	    "BuildKit is currently disabled; enable it by removing the "
	    "DOCKER_BUILDKIT=0\n            environment-variable.\n\nboom\n",
	    8, "boom" },
	/* Line counts out of range are clamped. */
	{ "zero_lines_is_one", "Step 1/1 : RUN x\na\nb\n", "c\nd\n", 0,
	    "Step 1/1 : RUN x\nb\nd" },
	{ "negative_lines_is_one", "Step 1/1 : RUN x\na\nb\n", "c\nd\n", -5,
	    "Step 1/1 : RUN x\nb\nd" },
	{ "lines_past_the_input_is_all", NULL, "c\nd\n", 1000, "c\nd" },
};

static void
text_check(const void *arg)
{
	const struct text_case *c = arg;
	char *s = build_failure_text(c->out, c->err, c->lines);

	ASSERT_STR_EQ(s, c->want);
	free(s);
}
TEST_CASES(text_check, text_cases)

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
		(void)build_failure_cache_lost(err);
		for (line = strtok_r(s, "\n", &save); line != NULL;
		     line = strtok_r(NULL, "\n", &save))
			count++;
		ASSERT_TRUE(count <= 1 + 2 * (lines < 1 ? 1 : lines));
		free(s);
	}
}

/* A content id as Docker prints it: "sha256:" and 64 hex digits. */
#define CACHE_ID "sha256:805f1f5ef84e589aefd805e182a296d76727f55439465ceed9211757d10fde7f"

static const struct cache_lost_case {
	const char *name, *err;
	int want;
} cache_lost_cases[] = {
	/* The CI dry run's (image/cache/cache.go, the cache's lookup of a step),
	 * after the legacy builder's banner. */
	{ "cache_lost_legacy_lookup",
	    "DEPRECATED: The legacy builder is deprecated and will be removed in a "
	    "future release.\n            Install the buildx component to build "
	    "images with BuildKit:\n            https://docs.docker.com/go/buildx/\n\n"
	    "unable to find image \"" CACHE_ID "\"\n",
	    1 },
	/* --cache-from's ImageCache (errors.Wrapf "unable to find image %v"). */
	{ "cache_lost_cache_from", "unable to find image " CACHE_ID ": not found\n", 1 },
	/* The rig's dockerd (20.10) when a multi-stage build's first stage was
	 * removed before `COPY --from=0` (tests/e2e/build.sh makes it). */
	{ "cache_lost_copy_from",
	    "invalid from flag value 0: No such image: " CACHE_ID "\n", 1 },
	/* A RUN step's container from a cached image removed meanwhile (apache/tvm
	 * issue 11195's CI log). */
	{ "cache_lost_run_step", "No such image: " CACHE_ID, 1 },
	{ "cache_lost_commit", "unknown parent image ID " CACHE_ID "\n", 1 },
	/* Compose puts its words in front; colours and CRs do not hide it. */
	{ "cache_lost_compose_v1",
	    "ERROR: Service 'app' failed to build : unable to find image \"" CACHE_ID
	    "\"\n",
	    1 },
	{ "cache_lost_coloured", "\033[31mNo such image: " CACHE_ID "\033[0m\r\n", 1 },
	/* The second of two candidates is the id. */
	{ "cache_lost_second_mention",
	    "No such image: app:dev\nNo such image: " CACHE_ID "\n", 1 },
	/* A user's own missing image is named, not a bare content id. */
	{ "not_cache_pull_denied",
	    "pull access denied for myimage, repository does not exist or may "
	    "require 'docker login'\n",
	    0 },
	{ "not_cache_named_image", "No such image: myimage:tag\n", 0 },
	{ "not_cache_pinned_digest", "No such image: myimage@" CACHE_ID "\n", 0 },
	{ "not_cache_docker_run", "Unable to find image '" CACHE_ID "' locally\n", 0 },
	/* BuildKit: a file COPY names is not in the context. */
	{ "not_cache_buildkit_checksum",
	    "ERROR: failed to solve: failed to compute cache key: failed to calculate "
	    "checksum of ref 3c1b0e0f::abc: \"/missing.txt\": not found\n",
	    0 },
	/* Short or malformed ids: not what the builder prints. */
	{ "not_cache_short_id", "No such image: sha256:805f1f5ef84e\n", 0 },
	{ "not_cache_long_id", "No such image: " CACHE_ID "0\n", 0 },
	{ "not_cache_upper_hex",
	    "No such image: "
	    "sha256:805F1F5EF84E589AEFD805E182A296D76727F55439465CEED9211757D10FDE7F\n",
	    0 },
	{ "not_cache_unclosed_quote", "unable to find image \"" CACHE_ID "\n", 0 },
	{ "not_cache_a_step_failed",
	    "The command '/bin/sh -c make' returned a non-zero code: 2\n", 0 },
	{ "not_cache_empty", "", 0 },
	{ "not_cache_null", NULL, 0 },
};

static void
cache_lost_check(const void *arg)
{
	const struct cache_lost_case *c = arg;

	ASSERT_INT_EQ(build_failure_cache_lost(c->err), c->want);
}
TEST_CASES(cache_lost_check, cache_lost_cases)
