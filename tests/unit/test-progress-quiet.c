/* test-progress-quiet.c - unit tests for -q's held-back output
 * (progress_quiet_keep/take, agent/progress.h): the last lines are kept,
 * across chunks, and taken once. */
#include "test.h"

#include <stdlib.h>
#include <string.h>

#include "agent-cmds.h"
#include "agent-state.h"
#include "log.h"
#include "progress.h"

TEST(quiet_follows_the_log_level)
{
	log_set_level(LOG_WARN);
	ASSERT_INT_EQ(progress_quiet(), 0);
	log_set_level(LOG_ERROR);
	ASSERT_INT_EQ(progress_quiet(), 1);
	log_set_level(LOG_WARN);
}

TEST(nothing_kept_is_null)
{
	ASSERT_NULL(progress_quiet_take());
}

TEST(lines_across_chunks_and_a_partial_one)
{
	char *s;

	progress_quiet_keep("one\ntw", 6);
	progress_quiet_keep("o\nthr", 5);
	progress_quiet_keep("ee", 2);
	s = progress_quiet_take();
	ASSERT_STR_EQ(s, "one\ntwo\nthree\n");
	free(s);
	ASSERT_NULL(progress_quiet_take()); /* taken once */
}

TEST(only_the_last_lines_are_kept)
{
	char line[32], want[1024] = "", *s;
	int i;

	for (i = 1; i <= PROGRESS_QUIET_LINES + 5; i++) {
		snprintf(line, sizeof line, "line %d\n", i);
		progress_quiet_keep(line, strlen(line));
		if (i > 5)
			strcat(want, line);
	}
	s = progress_quiet_take();
	ASSERT_STR_EQ(s, want);
	free(s);
}

/* One huge line, or \r-redrawn progress bars with no newline, are cut at
 * PROGRESS_QUIET_LINE_MAX (marked) and the lines after them still kept. */
TEST(a_long_line_is_cut_and_marked)
{
	char chunk[1000], *s, *want;
	int i;

	memset(chunk, 'x', sizeof chunk);
	for (i = 0; i < 100; i++) /* 100,000 bytes, one line */
		progress_quiet_keep(chunk, sizeof chunk);
	progress_quiet_keep("\nnext\n", 6);
	for (i = 0; i < 10; i++)
		progress_quiet_keep(chunk, sizeof chunk); /* no newline yet */
	s = progress_quiet_take();
	want = malloc(2 * PROGRESS_QUIET_LINE_MAX + 64);
	memset(want, 'x', PROGRESS_QUIET_LINE_MAX);
	strcpy(want + PROGRESS_QUIET_LINE_MAX, PROGRESS_QUIET_CUT_MARK "\nnext\n");
	i = (int)strlen(want);
	memset(want + i, 'x', PROGRESS_QUIET_LINE_MAX);
	strcpy(want + i + PROGRESS_QUIET_LINE_MAX, PROGRESS_QUIET_CUT_MARK "\n");
	ASSERT_STR_EQ(s, want);
	free(want);
	free(s);
	/* a cut line does not mark the next one */
	progress_quiet_keep("short\n", 6);
	s = progress_quiet_take();
	ASSERT_STR_EQ(s, "short\n");
	free(s);
}

/* Before an error, the held lines less those at their end the message
 * repeats: all of them when it repeats none, the step's last line when
 * the message ends with it, and only the repeated ones when it carries
 * two or more (it hid them all). */
TEST(kept_to_show_drops_only_what_the_message_repeats)
{
	const char *kept = "a\nb\nc\nd\n";

	ASSERT_INT_EQ(agent_cmd_kept_to_show("it failed", kept), strlen(kept));
	ASSERT_INT_EQ(agent_cmd_kept_to_show("step exited with status 4: d", kept), 6);
	ASSERT_INT_EQ(agent_cmd_kept_to_show("build failed:\nc\nd", kept), 4);
	ASSERT_INT_EQ(agent_cmd_kept_to_show("build failed:\na\nb\nc\nd", kept), 0);
	ASSERT_INT_EQ(agent_cmd_kept_to_show("b\nd", kept), 6); /* d only: c is not */
}

/* -q holds progress, but the wait on another's workspace lock is said
 * (to stderr), not held. */
TEST(quiet_sink_does_not_hold_the_lock_wait_line)
{
	static const char out[] = "step one\n" AGENT_LOCK_WAIT_LINE "\nstep two\n";
	char *s;

	log_set_level(LOG_ERROR);
	agent_cmd_progress_stderr(NULL, out, sizeof out - 1);
	log_set_level(LOG_WARN);
	s = progress_quiet_take();
	ASSERT_STR_EQ(s, "step one\nstep two\n");
	free(s);
}
