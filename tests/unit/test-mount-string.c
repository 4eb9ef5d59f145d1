/* test-mount-string.c - the fields of a --mount string (common/mount-string.c). */
#include <stdlib.h>
#include <string.h>

#include "mount-string.h"
#include "test.h"

/* The fields of s joined by "|", or "ERROR: cause". New string. */
static char *
split_text(const char *s, int flags)
{
	char **fields, *cause = NULL, *out;
	size_t i, len = 8;

	if ((fields = mount_string_split(s, flags, &cause)) == NULL) {
		out = malloc(strlen(cause) + 8);
		strcpy(out, "ERROR: ");
		strcat(out, cause);
		free(cause);
		return out;
	}
	for (i = 0; fields[i] != NULL; i++)
		len += strlen(fields[i]) + 1;
	out = calloc(1, len);
	for (i = 0; fields[i] != NULL; i++) {
		if (i > 0)
			strcat(out, "|");
		strcat(out, fields[i]);
	}
	mount_string_fields_free(fields);
	return out;
}

struct split_case {
	const char *name;
	const char *in;
	const char *want;
};

static const struct split_case split_cases[] = {
	{ "plain", "type=bind,source=/a,target=/b", "type=bind|source=/a|target=/b" },
	{ "trimmed", " \t type=bind,target=/b \r\n", "type=bind|target=/b" },
	{ "quoted_comma", "\"source=/a,b\",target=/c", "source=/a,b|target=/c" },
	{ "quoted_quote", "\"source=/a\"\"b\",target=/c", "source=/a\"b|target=/c" },
	{ "quoted_last", "target=/c,\"source=/a,b\"", "target=/c|source=/a,b" },
	{ "quoted_crlf", "\"source=/a\r\nb\",target=/c", "source=/a\nb|target=/c" },
	{ "empty_fields", "a,,b,", "a||b|" },
	{ "one_comma", ",", "|" },
	{ "high_bytes", "target=/\xc3\xa9\xff", "target=/\xc3\xa9\xff" },
	{ "empty", "", "ERROR: value is empty" },
	{ "only_space", " \t\r\n ", "ERROR: value is empty" },
	{ "line_break", "target=/a\ntype=bind", "ERROR: line break in mount string" },
	{ "crlf_break", "target=/a\r\ntype=bind", "ERROR: line break in mount string" },
	{ "unclosed", "\"target=/a,type=bind",
	    "ERROR: missing closing \" in quoted field" },
	{ "lone_quote", "\"", "ERROR: missing closing \" in quoted field" },
	{ "after_quote", "\"target=/a\"x,type=bind",
	    "ERROR: text after the closing \" of a quoted field (quote whole "
	    "fields: \"source=/a,b\")" },
	{ "quote_inside", "target=/a\"b",
	    "ERROR: \" inside an unquoted field (quote whole fields: "
	    "\"source=/a,b\")" },
};

static void
split_case_check(const struct split_case *c, int flags)
{
	char *got = split_text(c->in, flags);

	if (strcmp(got, c->want) != 0) {
		fprintf(stderr, "    got  %s\n    want %s\n", got, c->want);
		free(got);
		TEST_FAIL("fields differ");
	}
	free(got);
}

static void
split_case_run(const void *arg)
{
	split_case_check(arg, 0);
}
TEST_CASES(split_case_run, split_cases)

/* The reference's reading for Compose (MOUNT_STRING_LAX): a bare quote is a
 * character; quoted fields are still read as quoted. */
static const struct split_case split_lax_cases[] = {
	{ "lax_quote_inside", "source=/p \"q\",target=/x", "source=/p \"q\"|target=/x" },
	{ "lax_quoted_comma", "\"source=/a,b\",target=/c", "source=/a,b|target=/c" },
	{ "lax_unclosed", "\"target=/a,type=bind",
	    "ERROR: missing closing \" in quoted field" },
	{ "lax_line_break", "target=/a\ntype=bind", "ERROR: line break in mount string" },
};

static void
split_lax_case_run(const void *arg)
{
	split_case_check(arg, MOUNT_STRING_LAX);
}
TEST_CASES(split_lax_case_run, split_lax_cases)

/* Hostile sizes: many empty fields, one huge field, deep quoting. */
TEST(split_large)
{
	size_t n = 1 << 20, i;
	char *s = malloc(n + 1), **fields, *cause = NULL;

	memset(s, ',', n);
	s[n] = '\0';
	fields = mount_string_split(s, 0, &cause);
	ASSERT_NOT_NULL(fields);
	for (i = 0; fields[i] != NULL; i++)
		ASSERT_STR_EQ(fields[i], "");
	ASSERT_INT_EQ((long long)i, (long long)n + 1);
	mount_string_fields_free(fields);

	memset(s, '"', n); /* n/2 escaped quotes inside no field: odd count */
	s[n - 1] = '\0';
	ASSERT_NULL(mount_string_split(s, 0, &cause));
	ASSERT_STR_EQ(cause, "missing closing \" in quoted field");
	free(cause);

	memset(s, 'x', n);
	s[n] = '\0';
	memcpy(s, "target=/", 8);
	fields = mount_string_split(s, 0, NULL);
	ASSERT_NOT_NULL(fields);
	ASSERT_INT_EQ((long long)strlen(fields[0]), (long long)n);
	ASSERT_NULL(fields[1]);
	mount_string_fields_free(fields);
	free(s);
	mount_string_fields_free(NULL);
}

struct field_case {
	const char *name;
	const char *in;
	const char *key;   /* NULL: an error */
	const char *value; /* NULL: a bare key (or the error's cause) */
};

static const struct field_case field_cases[] = {
	{ "field_plain", "target=/a", "target", "/a" },
	{ "field_lowercased", "TarGet=/A", "target", "/A" },
	{ "field_bare", "ReadOnly", "readonly", NULL },
	{ "field_eq_in_value", "volume-opt=o=a=b", "volume-opt", "o=a=b" },
	{ "field_empty", "", "", NULL },
	{ "field_key_spaces", " target=/a", NULL,
	    "key \" target\" has spaces around it" },
	{ "field_bare_spaces", "readonly ", NULL,
	    "key \"readonly \" has spaces around it" },
	{ "field_value_spaces", "target=/a\t", NULL,
	    "value of \"target\" has spaces around it" },
	{ "field_empty_value", "Target=", NULL, "empty value for \"Target\"" },
	{ "field_space_value", "target= ", NULL, "empty value for \"target\"" },
	{ "field_only_eq", "=", NULL, "empty value for \"\"" },
};

static void
field_case_check(const struct field_case *c, int flags)
{
	char *key = NULL, *cause = NULL;
	const char *value = NULL;
	int rc = mount_string_field(c->in, flags, &key, &value, &cause);

	if (c->key == NULL) {
		ASSERT_INT_EQ(rc, -1);
		ASSERT_STR_EQ(cause, c->value);
		free(cause);
		return;
	}
	ASSERT_INT_EQ(rc, 0);
	ASSERT_STR_EQ(key, c->key);
	free(key);
	if (c->value == NULL)
		ASSERT_NULL(value);
	else
		ASSERT_STR_EQ(value, c->value);
}

static void
field_case_run(const void *arg)
{
	field_case_check(arg, 0);
}
TEST_CASES(field_case_run, field_cases)

/* MOUNT_STRING_LAX keeps a value as it is (the reference's parseMount). */
static const struct field_case field_lax_cases[] = {
	{ "field_lax_empty_value", "Source=", "source", "" },
	{ "field_lax_value_spaces", "target=/a\t", "target", "/a\t" },
	{ "field_lax_key_spaces", " target=/a", NULL,
	    "key \" target\" has spaces around it" },
};

static void
field_lax_case_run(const void *arg)
{
	field_case_check(arg, MOUNT_STRING_LAX);
}
TEST_CASES(field_lax_case_run, field_lax_cases)

struct target_case {
	const char *name;
	const char *in;
	const char *want; /* NULL: no target */
};

static const struct target_case target_cases[] = {
	{ "target_plain", "type=bind,source=/a,target=/w", "/w" },
	{ "target_dst", "source=/a,type=bind,dst=/w", "/w" },
	{ "target_destination_any_case", "DESTINATION=/w,type=bind", "/w" },
	{ "target_last_wins", "target=/a,type=bind,dst=/b", "/b" },
	{ "target_quoted", "\"target=/a,b\",type=bind", "/a,b" },
	{ "target_value_has_eq", "target=/a=b", "/a=b" },
	{ "target_key_prefix_only", "targets=/a,dst2=/b", NULL },
	{ "target_none", "type=bind,source=/a", NULL },
	{ "target_bare", "target,type=bind", NULL },
	{ "target_empty", "", NULL },
	{ "target_bad_csv", "target=/a,\"type=bind", NULL },
	{ "target_bad_field", "target=/a, type=bind", NULL },
	{ "target_empty_value", "target=/a,dst=", NULL },
	{ "target_line_break", "target=/a\n", "/a" }, /* trimmed first */
	{ "target_line_break_mid", "target=/a\ndst=/b", NULL },
};

static void
target_case_run(const void *arg)
{
	const struct target_case *c = arg;
	char *got = mount_string_target(c->in);

	if (c->want == NULL) {
		if (got != NULL) {
			fprintf(stderr, "    got  %s\n", got);
			free(got);
			TEST_FAIL("want no target");
		}
		return;
	}
	ASSERT_NOT_NULL(got);
	ASSERT_STR_EQ(got, c->want);
	free(got);
}
TEST_CASES(target_case_run, target_cases)
