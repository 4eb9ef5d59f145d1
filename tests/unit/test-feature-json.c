/* test-feature-json.c - devcontainer-feature.json checks, options, env names. */
#include <stdlib.h>
#include <string.h>

#include "feature-json.h"
#include "test.h"

static const char feature_text[] =
    "{\n"
    "  \"id\": \"node\",\n"
    "  \"options\": {\n"
    "    \"version\": {\"type\": \"string\", \"default\": \"lts\", \"proposals\": "
    "[\"lts\"]},\n"
    "    \"flavor\": {\"type\": \"string\", \"enum\": [\"a\", \"b\"], \"default\": "
    "\"a\"},\n"
    "    \"gyp\": {\"type\": \"boolean\", \"default\": false}\n"
    "  },\n"
    "  \"containerEnv\": {\"X\": \"1\"}\n"
    "}\n";

static struct feature_json *
parse_ok(const char *text)
{
	char *cause = NULL;
	struct feature_json *fj =
	    feature_json_parse("f.json", text, strlen(text), &cause);

	if (fj == NULL)
		TEST_FAIL("parse: %s", cause);
	return fj;
}

static char *
parse_error(const char *text)
{
	char *cause = NULL;
	struct feature_json *fj =
	    feature_json_parse("f.json", text, strlen(text), &cause);

	ASSERT_NULL(fj);
	return cause;
}

/* The options for given_text, printed; warnings (may be NULL) gets the
 * warnings. */
static char *
options_text_warn(struct feature_json *fj, const char *given_text,
    struct config_warnings *warnings, char **cause)
{
	cJSON *given = given_text != NULL ? cJSON_Parse(given_text) : NULL, *o;
	char *s;

	o = feature_json_options(fj, given, "w", warnings, cause);
	cJSON_Delete(given);
	if (o == NULL)
		return NULL;
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

static char *
options_text(struct feature_json *fj, const char *given_text, char **cause)
{
	return options_text_warn(fj, given_text, NULL, cause);
}

TEST(defaults_then_given)
{
	struct feature_json *fj = parse_ok(feature_text);
	char *cause = NULL, *s;

	ASSERT_STR_EQ(feature_json_id(fj), "node");
	s = options_text(fj, "{\"gyp\": true}", &cause);
	ASSERT_STR_EQ(s, "{\"version\":\"lts\",\"flavor\":\"a\",\"gyp\":true}");
	free(s);
	s = options_text(fj, "\"18\"", &cause); /* a string: the version */
	ASSERT_STR_EQ(s, "{\"version\":\"18\",\"flavor\":\"a\",\"gyp\":false}");
	free(s);
	/* true or false: the defaults (the reference: VERSION="true"; a
	 * deliberate difference, docs/STATUS.md) */
	s = options_text(fj, "true", &cause);
	ASSERT_STR_EQ(s, "{\"version\":\"lts\",\"flavor\":\"a\",\"gyp\":false}");
	free(s);
	s = options_text(fj, "false", &cause);
	ASSERT_STR_EQ(s, "{\"version\":\"lts\",\"flavor\":\"a\",\"gyp\":false}");
	free(s);
	s = options_text(
	    fj, "{\"version\": \"anything\"}", &cause); /* proposals only suggest */
	ASSERT_STR_EQ(s, "{\"version\":\"anything\",\"flavor\":\"a\",\"gyp\":false}");
	free(s);
	feature_json_free(fj);
}

/* Given options the Feature refuses, each named in the cause. */
static const struct bad_option_case {
	const char *name, *given, *want;
} bad_options[] = {
	{ "bad_option_unknown", "{\"colour\": \"red\"}",
	    "w: unknown option \"colour\" (the Feature \"node\" has other options)" },
	{ "bad_option_not_in_enum", "{\"flavor\": \"c\"}",
	    "w: option \"flavor\": \"c\" is not one of \"a\", \"b\"" },
	{ "bad_option_string_for_boolean", "{\"gyp\": \"yes\"}",
	    "w: option \"gyp\": expected a boolean, got string" },
	{ "bad_option_number_for_boolean", "{\"gyp\": 1}",
	    "w: option \"gyp\": expected a boolean, got number" },
	{ "bad_option_null_for_string", "{\"version\": null}",
	    "w: option \"version\": expected a string, got null" },
	{ "bad_option_array_for_string", "{\"version\": [\"18\"]}",
	    "w: option \"version\": expected a string, got array" },
	{ "bad_option_object_for_boolean", "{\"gyp\": {}}",
	    "w: option \"gyp\": expected a boolean, got object" },
	/* a number is taken as its text, then checked against the enum */
	{ "bad_option_number_not_in_enum", "{\"flavor\": 1}",
	    "w: option \"flavor\": \"1\" is not one of \"a\", \"b\"" },
};

static void
bad_option_check(const void *arg)
{
	const struct bad_option_case *c = arg;
	struct feature_json *fj = parse_ok(feature_text);
	char *cause = NULL, *s = options_text(fj, c->given, &cause);

	feature_json_free(fj);
	ASSERT_NULL(s);
	ASSERT_STR_EQ(cause, c->want);
	free(cause);
}
TEST_CASES(bad_option_check, bad_options)

/* As the reference (which passes any value on as its text): "true"/"false"
 * for a boolean, a number for a string, each with a warning. */
TEST(string_booleans_and_numbers_are_taken_with_a_warning)
{
	struct feature_json *fj = parse_ok(feature_text);
	struct config_warnings w = { 0 };
	char *cause = NULL, *s;

	s = options_text_warn(fj, "{\"gyp\": \"true\", \"version\": 18}", &w, &cause);
	ASSERT_STR_EQ(s, "{\"version\":\"18\",\"flavor\":\"a\",\"gyp\":true}");
	free(s);
	ASSERT_INT_EQ(w.count, 2);
	ASSERT_STR_EQ(w.items[0],
	    "w: option \"gyp\": the string \"true\" for a boolean option, taken "
	    "as true (write true)");
	ASSERT_STR_EQ(w.items[1],
	    "w: option \"version\": the number 18 for a string option, taken as "
	    "\"18\" (write \"18\")");
	config_warnings_clear(&w);
	s = options_text_warn(fj, "{\"gyp\": \"false\", \"version\": 1.50}", &w, &cause);
	ASSERT_STR_EQ(s, "{\"version\":\"1.5\",\"flavor\":\"a\",\"gyp\":false}");
	free(s);
	ASSERT_INT_EQ(w.count, 2);
	config_warnings_clear(&w);
	/* the env file gets what the reference's gets: GYP=true, VERSION=18 */
	{
		cJSON *given = cJSON_Parse("{\"gyp\": \"true\", \"version\": 18}");
		cJSON *o = feature_json_options(fj, given, "w", NULL, &cause);

		s = feature_json_env_file(o);
		ASSERT_STR_EQ(s, "VERSION=\"18\"\nFLAVOR=\"a\"\nGYP=\"true\"\n");
		free(s);
		cJSON_Delete(o);
		cJSON_Delete(given);
	}
	feature_json_free(fj);
}

TEST(file_errors_have_line_and_column)
{
	char *cause;

	cause = parse_error(
	    "{\"id\": \"x\",\n \"options\": {\"a\": {\"type\": \"number\"}}}");
	ASSERT_STR_EQ(cause,
	    "f.json:2:28: \"options\".\"a\".\"type\": expected \"string\" or "
	    "\"boolean\", got \"number\"");
	free(cause);
	cause =
	    parse_error("{\"id\": \"x\",\n \"options\": {\"a\": {\"type\": \"boolean\", "
			"\"default\": \"no\"}}}");
	ASSERT_STR_CONTAINS(cause, "f.json:2:");
	ASSERT_STR_CONTAINS(cause, "\"options\".\"a\".\"default\": expected a boolean");
	free(cause);
	cause = parse_error("{\"id\": \"x\", \"capAdd\": \"SYS_PTRACE\"}");
	ASSERT_STR_CONTAINS(cause, "\"capAdd\"");
	free(cause);
	cause = parse_error("{\"options\": {}}");
	ASSERT_STR_CONTAINS(cause, "\"id\" is missing");
	free(cause);
	cause = parse_error("{\"id\": \"x\",}x");
	ASSERT_STR_CONTAINS(cause, "f.json:1:");
	free(cause);
}

TEST(env_names_sanitised)
{
	const char *cases[][2] = { { "version", "VERSION" },
		{ "nodeGypDep", "NODEGYPDEP" }, { "1.node-gyp", "_NODE_GYP" },
		{ "__x", "_X" }, { "a.b c", "A_B_C" }, { "9", "_" } };

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *s = feature_json_env_name(cases[i][0]);

		ASSERT_STR_EQ(s, cases[i][1]);
		free(s);
	}
}

TEST(env_file_quotes_values)
{
	cJSON *o = cJSON_Parse("{\"a\": \"x\\\"$y\", \"b-c\": true}");
	char *s = feature_json_env_file(o);

	ASSERT_STR_EQ(s, "A=\"x\\\"\\$y\"\nB_C=\"true\"\n");
	free(s);
	cJSON_Delete(o);
}

TEST(options_compare)
{
	cJSON *a = cJSON_Parse("{\"v\": \"1\"}"), *b = cJSON_Parse("{\"v\": \"2\"}");
	cJSON *c = cJSON_Parse("{}");

	ASSERT_TRUE(feature_json_options_compare(a, b) < 0);
	ASSERT_TRUE(feature_json_options_compare(c, a) < 0);
	ASSERT_INT_EQ(feature_json_options_compare(a, a), 0);
	cJSON_Delete(a);
	cJSON_Delete(b);
	cJSON_Delete(c);
}
