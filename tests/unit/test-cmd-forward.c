/* test-cmd-forward.c - client/cmd-forward.c's table of forwards (`rdev
 * forward --list`, `rdev ls`, `rdev status`): one line per forward, names
 * with a line break or an escape quoted; and client/sync-kept.c's lines of
 * a kept sync in `rdev status`, quoted the same way. */
#include "test.h"

#include <stdio.h>
#include <stdlib.h>

#include "client.h"

/* The table of forwards (JSON text) as client_forward_print_table prints
 * it. New string. */
static char *
test_table(const char *json, int with_host)
{
	cJSON *fw = cJSON_Parse(json);
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	ASSERT_NOT_NULL(fw);
	ASSERT_NOT_NULL(out);
	client_forward_print_table(out, fw, with_host);
	fclose(out);
	cJSON_Delete(fw);
	return text;
}

TEST(names_with_line_breaks_are_quoted)
{
	char *t = test_table("[{\"local\":3000,\"port\":3000,\"service\":\"d\\nb\","
			     "\"workspace\":\"/w/a\\nb\",\"host\":\"h\\u001b[2J\","
			     "\"label\":\"L\\rx\"}]",
	    1);

	ASSERT_STR_EQ(t,
	    "  localhost:3000  -> \"d\\u000ab\":3000 of \"/w/a\\u000ab\" on "
	    "\"h\\u001b[2J\" (\"L\\u000dx\")\n");
	free(t);
	t = test_table("[{\"local\":3000,\"port\":3000,\"workspace\":\"/w/app\","
		       "\"host\":\"h\",\"label\":\"Web \\\"x\\\"\"}]",
	    1);
	ASSERT_STR_EQ(t,
	    "  localhost:3000  -> container port 3000 of /w/app on h "
	    "(Web \"x\")\n");
	free(t);
}

/* A kept sync's error names a path that may hold a line break (it printed
 * "src/nl", then "x: not a path..." as a line of its own): quoted. */
TEST(a_kept_syncs_error_is_quoted)
{
	cJSON *st =
	    cJSON_Parse("{\"state\":\"error\",\"path\":\"/w/app\","
			"\"lastError\":\"src/nl\\nx: not a path inside the folder\"}");
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	ASSERT_NOT_NULL(st);
	ASSERT_NOT_NULL(out);
	sync_kept_print(out, st);
	fclose(out);
	cJSON_Delete(st);
	ASSERT_STR_CONTAINS(
	    text, "\n  error     \"src/nl\\u000ax: not a path inside the folder\"\n");
	free(text);
}
