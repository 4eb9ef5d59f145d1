/* test-progress-view.c - unit tests for agent/progress-view.c: what the view
 * prints for the JSON event lines of progress.h. */
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "progress-view.h"

/* The events (one JSON object a line) through a view on a file, ended
 * (failed or not, with error: the operation's or NULL): what it printed.
 * New string. */
static char *
view_run_error(const char *events, int failed, const char *error)
{
	FILE *f = tmpfile();
	struct progress_view *v;
	char *out;
	long n;

	ASSERT_NOT_NULL(f);
	v = progress_view_new(f);
	progress_view_sink(v, events, strlen(events));
	progress_view_end(v, failed, error);
	ASSERT_INT_EQ(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	out = calloc(1, (size_t)n + 1);
	ASSERT_NOT_NULL(out);
	ASSERT_INT_EQ(fread(out, 1, (size_t)n, f), n);
	fclose(f);
	return out;
}

static char *
view_run(const char *events, int failed)
{
	return view_run_error(events, failed, NULL);
}

/* The label of out's "[FAILED N.Ns] LABEL" line, to its end. */
static const char *
view_failed_label(const char *out)
{
	const char *at = strstr(out, "[FAILED ");

	ASSERT_NOT_NULL(at);
	return strstr(at, "] ") + 2;
}

/* A group's command KEY shown ("[KEY] CMD", its key beside it), then its
 * step's "running" line. */
#define PV_RUN(key, cmd) \
	"{\"type\":\"text\",\"text\":\"Running the postCreateCommand: [" key "] " cmd \
	"\",\"member\":\"" key "\"}\n" \
	"{\"type\":\"progress\",\"name\":\"Running postCreateCommand...\"," \
	"\"status\":\"running\"}\n"

/* A group's failed command is the one its "failed" event names by its
 * key, whatever the text holds: here b's output, and so its error's end,
 * names a's command (matching the error's text took it for a). */
TEST(a_failed_group_names_the_member_its_event_names)
{
	char *out = view_run(
	    PV_RUN("a", "`true`")
		PV_RUN("b", "`echo [a] true; exit 3`") "{\"type\":\"raw\",\"text\":\"[a] "
						       "`true`\\n\"}\n"
						       "{\"type\":\"progress\",\"name\":"
						       "\"Running postCreateCommand...\","
						       "\"status\":\"failed\",\"member\":"
						       "\"b\"}\n",
	    1);

	ASSERT_STR_EQ(view_failed_label(out),
	    "Running the postCreateCommand: [b] `echo [a] true; exit 3`\n");
	free(out);

	/* initializeCommand's: text lines, then only its "failed" line */
	out = view_run("{\"type\":\"text\",\"text\":\"Running the initializeCommand: "
		       "[x] `a`\",\"member\":\"x\"}\n"
		       "{\"type\":\"text\",\"text\":\"Running the initializeCommand: "
		       "[y] `a`\",\"member\":\"y\"}\n"
		       "{\"type\":\"progress\",\"name\":\"Running initializeCommand...\","
		       "\"status\":\"failed\",\"member\":\"y\"}\n",
	    1);
	ASSERT_STR_EQ(view_failed_label(out), "Running the initializeCommand: [y] `a`\n");
	free(out);
}

/* A "failed" event that names no member (an older agent): the command
 * the operation's error names ("STEP failed: [NAME] `CMD` exited ..."), as
 * before "member"; with no such error, the group's line names them all. */
TEST(a_failed_group_without_a_member_is_named_by_the_error)
{
#define PV_NO_MEMBER \
	PV_RUN("a", "`true`") \
	PV_RUN("b", "`false`") \
	"{\"type\":\"progress\",\"name\":" \
	"\"Running postCreateCommand...\"," \
	"\"status\":\"failed\"}\n"
	char *out = view_run_error(PV_NO_MEMBER, 1,
	    "postCreateCommand failed: [b] `false` exited with status 1");

	ASSERT_STR_EQ(
	    view_failed_label(out), "Running the postCreateCommand: [b] `false`\n");
	free(out);
	out = view_run(PV_NO_MEMBER, 1);
	ASSERT_STR_EQ(view_failed_label(out),
	    "Running the postCreateCommand: [a] `true`, [b] `false`\n");
	free(out);
	/* (a "member" wins over the error's text) */
	out = view_run_error(PV_RUN("a", "`true`") PV_RUN("b",
				 "`false`") "{\"type\":\"progress\",\"name\":"
					    "\"Running postCreateCommand...\","
					    "\"status\":\"failed\",\"member\":\"a\"}\n",
	    1, "postCreateCommand failed: [b] `false` exited with status 1");
	ASSERT_STR_EQ(
	    view_failed_label(out), "Running the postCreateCommand: [a] `true`\n");
	free(out);
#undef PV_NO_MEMBER
}

/* The failed command is found by the key its line carried, not by a NAME
 * read back out of the text: a key holding "] `" read so was "a" here, and
 * the second command was named for the first. */
TEST(a_failed_member_is_found_by_its_key_not_its_text)
{
	char *out = view_run(
	    PV_RUN("a", "`x`") PV_RUN("a] `b",
		"`y`") "{\"type\":\"progress\",\"name\":\"Running postCreateCommand...\","
		       "\"status\":\"failed\",\"member\":\"a\"}\n",
	    1);

	ASSERT_STR_EQ(view_failed_label(out), "Running the postCreateCommand: [a] `x`\n");
	free(out);
	out = view_run(
	    PV_RUN("a", "`x`") PV_RUN("a] `b",
		"`y`") "{\"type\":\"progress\",\"name\":\"Running postCreateCommand...\","
		       "\"status\":\"failed\",\"member\":\"a] `b\"}\n",
	    1);
	ASSERT_STR_EQ(
	    view_failed_label(out), "Running the postCreateCommand: [a] `b] `y`\n");
	free(out);
}

/* A step's groups (a Feature's object, then the configuration's) run one
 * after the other and join one phase: the failed command is the last of
 * that NAME (its group ran last), not an earlier group's of the same key. */
TEST(a_failed_member_is_the_last_of_its_name)
{
	char *out = view_run(
	    PV_RUN("setup", "`true`") PV_RUN("setup", "`exit 3`")
		PV_RUN("other", "`true`") "{\"type\":\"progress\",\"name\":"
					  "\"Running postCreateCommand...\","
					  "\"status\":\"failed\",\"member\":\"setup\"}\n",
	    1);

	ASSERT_STR_EQ(
	    view_failed_label(out), "Running the postCreateCommand: [setup] `exit 3`\n");
	free(out);
}
