/* test-progress-quiet.c - unit tests for -q's held-back output
 * (progress_quiet_keep/take, agent/progress.h): the last lines are kept,
 * across chunks, and taken once. */
#include "test.h"

#include <stdlib.h>
#include <string.h>

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
