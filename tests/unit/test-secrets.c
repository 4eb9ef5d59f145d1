/* test-secrets.c - unit tests for common/secrets.c (--secrets-file). */
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "secrets.h"
#include "xmalloc.h"

/* A file holding text, in a new temporary folder; the caller removes both. */
static char *
write_temp(const char *text)
{
	char *dir = xstrdup("/tmp/rdev-test-secrets-XXXXXX"), *path;
	FILE *f;

	if (mkdtemp(dir) == NULL)
		abort();
	path = xasprintf("%s/secrets.json", dir);
	free(dir);
	if ((f = fopen(path, "w")) == NULL)
		abort();
	fputs(text, f);
	fclose(f);
	return path;
}

static void
remove_temp(char *path)
{
	unlink(path);
	*strrchr(path, '/') = '\0';
	rmdir(path);
	free(path);
}

/* Read text as a secrets file: 0 with *s, or -1 with *cause. */
static int
read_text(const char *text, struct secrets **s, char **cause, char **path_out)
{
	char *path = write_temp(text);
	int rc = secrets_read_file(path, s, cause);

	if (path_out != NULL)
		*path_out = xstrdup(path);
	remove_temp(path);
	return rc;
}

TEST(reads_an_object_of_strings_with_comments)
{
	struct secrets *s = NULL;
	char *cause = NULL, *masked;

	ASSERT_INT_EQ(
	    read_text("// tokens\n{\"A\": \"one\", \"B\": \"two\",}\n", &s, &cause, NULL),
	    0);
	ASSERT_NULL(cause);
	ASSERT_INT_EQ((int)secrets_count(s), 2);
	masked = secrets_mask(s, "one two three");
	ASSERT_STR_EQ(masked, "******** ******** three");
	free(masked);
	secrets_free(s);
}

/* The error for a secrets file holding text, with its path written FILE.
 * New string. */
static char *
read_error(const char *text)
{
	struct secrets *s = NULL;
	char *cause = NULL, *path = NULL, *out;
	size_t n;

	if (read_text(text, &s, &cause, &path) != -1 || s != NULL)
		TEST_FAIL("%s: read as secrets", text);
	n = strlen(path);
	if (strncmp(cause, path, n) != 0)
		TEST_FAIL("%s does not name %s", cause, path);
	out = xasprintf("FILE%s", cause + n);
	free(cause);
	free(path);
	return out;
}

TEST(a_value_that_is_not_a_string_names_file_line_and_col)
{
	char *e = read_error("{\n  \"A\": \"x\",\n  \"N\": 42\n}\n");

	ASSERT_STR_EQ(e, "FILE:3:8: secret \"N\": expected a string, got number");
	free(e);
}

TEST(a_file_that_is_not_an_object_is_an_error)
{
	char *e = read_error("[\"a\"]");

	ASSERT_STR_EQ(e, "FILE:1:1: expected a JSON object of strings, got array");
	free(e);
}

TEST(bad_json_names_the_file_and_position)
{
	char *e = read_error("{\"A\" \"b\"}");

	ASSERT_TRUE(strncmp(e, "FILE:1:", 7) == 0);
	free(e);
}

TEST(a_missing_file_is_an_error)
{
	struct secrets *s = NULL;
	char *cause = NULL;

	ASSERT_INT_EQ(
	    secrets_read_file("/nonexistent/rdev/secrets.json", &s, &cause), -1);
	ASSERT_STR_CONTAINS(cause, "secrets file /nonexistent/rdev/secrets.json");
	free(cause);
}

TEST(a_name_with_equals_is_an_error)
{
	struct secrets *s = NULL;
	char *cause = NULL;

	ASSERT_INT_EQ(read_text("{\"A=B\": \"x\"}", &s, &cause, NULL), -1);
	ASSERT_STR_CONTAINS(cause, "secret name \"A=B\"");
	free(cause);
}

TEST(mask_replaces_longest_first_and_skips_empty_values)
{
	cJSON *o = cJSON_Parse("{\"S\":\"ab\",\"L\":\"abcd\",\"E\":\"\"}");
	struct secrets *s = NULL;
	char *cause = NULL, *masked;

	ASSERT_INT_EQ(secrets_from_json(o, &s, &cause), 0);
	masked = secrets_mask(s, "x abcd ab abc");
	ASSERT_STR_EQ(masked, "x ******** ******** ********c");
	free(masked);
	masked = secrets_mask(NULL, "plain");
	ASSERT_STR_EQ(masked, "plain");
	free(masked);
	secrets_free(s);
	cJSON_Delete(o);
}

TEST(from_json_refuses_what_is_not_an_object_of_strings)
{
	cJSON *o = cJSON_Parse("[1]"), *o2 = cJSON_Parse("{\"A\":true}");
	struct secrets *s = NULL;
	char *cause = NULL;

	ASSERT_INT_EQ(secrets_from_json(o, &s, &cause), -1);
	ASSERT_STR_EQ(cause, "\"secrets\": expected an object of strings, got array");
	free(cause);
	cause = NULL;
	ASSERT_INT_EQ(secrets_from_json(o2, &s, &cause), -1);
	ASSERT_STR_EQ(cause, "\"secrets\": secret \"A\": expected a string, got boolean");
	free(cause);
	ASSERT_INT_EQ(secrets_from_json(NULL, &s, &cause), 0);
	ASSERT_NULL(s);
	cJSON_Delete(o);
	cJSON_Delete(o2);
}

TEST(env_apply_replaces_appends_and_takes_out_of_unset)
{
	cJSON *o = cJSON_Parse("{\"PATH\":\"/s\",\"TOKEN\":\"t\",\"GONE\":\"g\"}");
	struct secrets *s = NULL;
	char *cause = NULL;
	char **env = xcalloc(3, sizeof *env), **unset = xcalloc(3, sizeof *unset);

	env[0] = xstrdup("PATH=/bin");
	env[1] = xstrdup("HOME=/root");
	unset[0] = xstrdup("GONE");
	unset[1] = xstrdup("OTHER");
	ASSERT_INT_EQ(secrets_from_json(o, &s, &cause), 0);
	secrets_env_apply(s, &env, unset);
	ASSERT_STR_EQ(env[0], "PATH=/s");
	ASSERT_STR_EQ(env[1], "HOME=/root");
	ASSERT_STR_EQ(env[2], "TOKEN=t");
	ASSERT_STR_EQ(env[3], "GONE=g");
	ASSERT_NULL(env[4]);
	ASSERT_STR_EQ(unset[0], "OTHER");
	ASSERT_NULL(unset[1]);
	secrets_env_free(env);
	secrets_env_free(unset);
	secrets_free(s);
	cJSON_Delete(o);
}

TEST(to_json_round_trips_and_request_wipe_zeroes_the_values)
{
	cJSON *o = cJSON_Parse("{\"A\":\"alpha\"}"), *req = cJSON_CreateObject(), *v;
	struct secrets *s = NULL;
	char *cause = NULL;

	ASSERT_INT_EQ(secrets_from_json(o, &s, &cause), 0);
	cJSON_AddItemToObject(req, "secrets", secrets_to_json(s));
	v = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(req, "secrets"), "A");
	ASSERT_STR_EQ(v->valuestring, "alpha");
	secrets_request_wipe(req);
	ASSERT_INT_EQ(v->valuestring[0], 0);
	ASSERT_INT_EQ(v->valuestring[4], 0);
	cJSON_Delete(req);
	secrets_free(s);
	cJSON_Delete(o);
}
