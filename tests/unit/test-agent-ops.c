/* test-agent-ops.c - unit tests for agent/agent-ops.c (the table of operations and
 * running a request by it) and the client's command entries. */
#include "test.h"

#include <stdlib.h>
#include <string.h>

#include "agent-ops.h"
#include "agent.h"
#include "client.h"
#include "xmalloc.h"

TEST(rows_are_unique_and_complete)
{
	for (const struct agent_op *const *a = agent_ops; *a != NULL; a++) {
		ASSERT_NOT_NULL((*a)->name);
		ASSERT_NOT_NULL((*a)->summary);
		/* a row runs in-process unless it streams on a channel */
		ASSERT_TRUE(
		    ((*a)->run == NULL) == (((*a)->flags & AGENT_OP_STREAM) != 0));
		ASSERT_TRUE(agent_op_find((*a)->name) == *a);
		for (const struct agent_op *const *b = a + 1; *b != NULL; b++)
			ASSERT_TRUE(strcmp((*a)->name, (*b)->name) != 0);
	}
	ASSERT_NULL(agent_op_find("nope"));
	ASSERT_NULL(agent_op_find("version")); /* answered by the router itself */
}

TEST(serve_help_lists_every_op)
{
	for (const struct agent_op *const *a = agent_ops; *a != NULL; a++)
		ASSERT_STR_CONTAINS(AGENT_SERVE_OPS, (*a)->name);
}

/* agent_op_call on text; returns its rc, *cause set on failure. */
static int
call(const char *text, cJSON **result, char **cause)
{
	cJSON *req = cJSON_Parse(text);
	int rc;

	ASSERT_NOT_NULL(req);
	*cause = NULL;
	rc = agent_op_call(req, "rdev", NULL, result, cause);
	cJSON_Delete(req);
	return rc;
}

TEST(call_refuses_bad_requests)
{
	cJSON *res = NULL;
	char *cause;

	ASSERT_INT_EQ(call("{}", &res, &cause), -1);
	ASSERT_STR_CONTAINS(cause, "\"op\"");
	free(cause);
	ASSERT_INT_EQ(call("{\"op\":\"launch-missiles\"}", &res, &cause), -1);
	ASSERT_STR_CONTAINS(cause, "unknown op \"launch-missiles\"");
	free(cause);
	/* exec streams on a channel: not callable in-process */
	ASSERT_INT_EQ(call("{\"op\":\"exec\",\"workspace\":\"/w\"}", &res, &cause), -1);
	ASSERT_STR_CONTAINS(cause, "unknown op \"exec\"");
	free(cause);
	ASSERT_INT_EQ(call("{\"op\":\"stop\"}", &res, &cause), -1);
	ASSERT_STR_CONTAINS(cause, "\"workspace\" (a folder on this host) is required");
	free(cause);
	ASSERT_INT_EQ(call("{\"op\":\"stop\",\"workspace\":7}", &res, &cause), -1);
	ASSERT_STR_CONTAINS(cause, "\"workspace\"");
	free(cause);
	ASSERT_NULL(res);
}

TEST(read_configuration_in_process)
{
	cJSON *res = NULL;
	char *cause = NULL, *text;
	const cJSON *w;

	/* A folder without a configuration: the loader's own error. */
	ASSERT_INT_EQ(
	    call("{\"op\":\"read-configuration\",\"workspace\":\"/nonexistent-rdev\"}",
		&res, &cause),
	    -1);
	ASSERT_STR_CONTAINS(cause, "/nonexistent-rdev");
	free(cause);
	text =
	    xasprintf("{\"op\":\"read-configuration\",\"workspace\":\"%s/config/image\"}",
		RDEV_TEST_DATA);
	if (call(text, &res, &cause) != 0)
		TEST_FAIL("read-configuration: %s", cause);
	free(text);
	ASSERT_NOT_NULL(cJSON_GetObjectItemCaseSensitive(res, "configuration"));
	ASSERT_NOT_NULL(cJSON_GetObjectItemCaseSensitive(res, "workspace"));
	ASSERT_NULL(cJSON_GetObjectItemCaseSensitive(res, "mergedConfiguration"));
	w = cJSON_GetObjectItemCaseSensitive(res, "warnings");
	ASSERT_TRUE(cJSON_IsArray(w));
	cJSON_Delete(res);
}

TEST(up_cmd_from_hint_or_default)
{
	cJSON *req = cJSON_Parse("{\"op\":\"logs\",\"hint\":\"rdev up box:~/app\"}");
	struct agent_op_req r = { req, "/home/u/app", "c.json", "rdev-agent", NULL,
		NULL };
	char *s;

	s = agent_op_req_up_cmd(&r, "rdev-agent");
	ASSERT_STR_EQ(s, "rdev up box:~/app");
	free(s);
	cJSON_DeleteItemFromObjectCaseSensitive(req, "hint");
	s = agent_op_req_up_cmd(&r, "rdev-agent");
	ASSERT_STR_EQ(s, "rdev-agent up /home/u/app --config c.json");
	free(s);
	s = agent_logs_follow_command("rdev up box:~/app --config c.json");
	ASSERT_STR_EQ(s, "rdev logs -f box:~/app --config c.json");
	free(s);
	cJSON_Delete(req);
}

TEST(workspace_tilde_is_home)
{
	cJSON *req = cJSON_Parse("{\"workspace\":\"~/src\"}");
	char *cause = NULL, *w;

	setenv("HOME", "/home/tester", 1);
	w = agent_op_workspace(req, &cause);
	ASSERT_STR_EQ(w, "/home/tester/src");
	free(w);
	cJSON_Delete(req);
}

TEST(client_entries_are_complete)
{
	for (int i = 0; client_program.entries[i] != NULL; i++) {
		const struct cmd_entry *e = client_program.entries[i];

		ASSERT_NOT_NULL(e->usage);
		ASSERT_NOT_NULL(e->summary);
		/* a built command has its help; an unbuilt one says so */
		ASSERT_TRUE(e->exec == NULL || e->help != NULL);
		ASSERT_TRUE(cmd_lookup(&client_program, e->name) == e);
	}
	ASSERT_TRUE(cmd_lookup(&client_program, "status") == &cmd_status_entry);
}

TEST(relay_tells_a_missing_folder_by_its_error_code)
{
	cJSON *res = NULL;
	char *cause;

	/* (no Docker needed: the folder is looked at first) */
	ASSERT_INT_EQ(call("{\"op\":\"relay\",\"workspace\":\"/nonexistent-rdev/ws\","
			   "\"resolveOnly\":true}",
			  &res, &cause),
	    AGENT_OP_ERR_NO_WORKSPACE);
	ASSERT_STR_CONTAINS(
	    cause, "the workspace folder /nonexistent-rdev/ws does not exist");
	free(cause);
	ASSERT_NULL(res);
	ASSERT_STR_EQ(agent_op_error_code(AGENT_OP_ERR_NO_WORKSPACE), "no-workspace");
	ASSERT_STR_EQ(agent_op_error_code(AGENT_OP_ERR_NOT_RUNNING), "not-running");
	ASSERT_NULL(agent_op_error_code(-1));
	ASSERT_NULL(agent_op_error_code(0));
}
