/* test-jsonc.c - tests for the JSONC parser (common/jsonc*.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonc.h"
#include "test.h"
#include "xmalloc.h"

/* Parse len bytes named "t"; fail the test if parsing fails. */
static struct jsonc_doc *
ok_len(const char *text, size_t len)
{
	struct jsonc_doc *doc;
	char *cause = NULL;

	doc = jsonc_parse("t", text, len, &cause);
	if (doc == NULL)
		TEST_FAIL("parse failed: %s", cause);
	return doc;
}

/* Parse len bytes named "t"; fail the test unless parsing fails. Returns the
 * error message, which the caller frees. */
static char *
err_len(const char *text, size_t len)
{
	struct jsonc_doc *doc;
	char *cause = NULL;

	doc = jsonc_parse("t", text, len, &cause);
	if (doc != NULL) {
		jsonc_doc_free(doc);
		TEST_FAIL("parse of \"%.*s\" succeeded, want an error", (int)len, text);
	}
	if (cause == NULL)
		TEST_FAIL("parse failed without a message");
	return cause;
}

#define OK(lit) ok_len((lit), sizeof(lit) - 1)
#define ERR(lit) err_len((lit), sizeof(lit) - 1)

/* Assert that lit fails with exactly want. */
#define ASSERT_PARSE_ERR(lit, want) \
	do { \
		char *e_ = ERR(lit); \
		ASSERT_STR_EQ(e_, (want)); \
		free(e_); \
	} while (0)

/* Print a tree compactly for comparisons; the caller frees. */
static char *
print(const cJSON *node)
{
	char *s = cJSON_PrintUnformatted(node);

	if (s == NULL)
		TEST_FAIL("cJSON_PrintUnformatted failed");
	return s;
}

#define ASSERT_PARSES_TO(lit, want) \
	do { \
		struct jsonc_doc *d_ = OK(lit); \
		char *p_ = print(jsonc_doc_root(d_)); \
		ASSERT_STR_EQ(p_, (want)); \
		free(p_); \
		jsonc_doc_free(d_); \
	} while (0)

#define ASSERT_AT(doc, node, wline, wcol) \
	do { \
		unsigned l_ = 0, c_ = 0; \
		ASSERT_INT_EQ(jsonc_doc_locate((doc), (node), &l_, &c_), 0); \
		ASSERT_INT_EQ(l_, (wline)); \
		ASSERT_INT_EQ(c_, (wcol)); \
	} while (0)

#define ASSERT_KEY_AT(doc, node, wline, wcol) \
	do { \
		unsigned l_ = 0, c_ = 0; \
		ASSERT_INT_EQ(jsonc_doc_locate_key((doc), (node), &l_, &c_), 0); \
		ASSERT_INT_EQ(l_, (wline)); \
		ASSERT_INT_EQ(c_, (wcol)); \
	} while (0)

TEST(parses_all_value_types)
{
	struct jsonc_doc *doc =
	    OK("{\"s\": \"x\", \"n\": -1.5, \"t\": true, "
	       "\"f\": false, \"z\": null, \"a\": [1, \"two\"], \"o\": {}}");
	cJSON *root = jsonc_doc_root(doc);

	ASSERT_TRUE(cJSON_IsObject(root));
	ASSERT_STR_EQ(cJSON_GetObjectItem(root, "s")->valuestring, "x");
	ASSERT_TRUE(cJSON_GetObjectItem(root, "n")->valuedouble == -1.5);
	ASSERT_TRUE(cJSON_IsTrue(cJSON_GetObjectItem(root, "t")));
	ASSERT_TRUE(cJSON_IsFalse(cJSON_GetObjectItem(root, "f")));
	ASSERT_TRUE(cJSON_IsNull(cJSON_GetObjectItem(root, "z")));
	ASSERT_INT_EQ(cJSON_GetArraySize(cJSON_GetObjectItem(root, "a")), 2);
	ASSERT_TRUE(cJSON_IsObject(cJSON_GetObjectItem(root, "o")));
	ASSERT_STR_EQ(jsonc_doc_name(doc), "t");
	jsonc_doc_free(doc);
	jsonc_doc_free(NULL);
}

TEST(line_comments)
{
	ASSERT_PARSES_TO(
	    "// leading\n{ // after brace\n  \"a\": 1, // after "
	    "member\n  // own line\n  \"b\": [2 // in array\n  ]\n} // at end",
	    "{\"a\":1,\"b\":[2]}");
	/* A comment running to the end of the file without a newline. */
	ASSERT_PARSES_TO("[1]//", "[1]");
	ASSERT_PARSES_TO("[1]\r\n// crlf\r\n", "[1]");
}

TEST(lone_cr_ends_a_line_comment)
{
	ASSERT_PARSE_ERR(
	    "[1 // x\r2]", "t:2:1: expected ',' or ']' after an array element");
}

TEST(block_comments_between_every_token)
{
	ASSERT_PARSES_TO("/*0*/{/*1*/\"a\"/*2*/:/*3*/1/*4*/,/*5*/\"b\"/**/:"
			 "[/*6*/2/*7*/,/*8*/]/*9*/}/* end */",
	    "{\"a\":1,\"b\":[2]}");
	ASSERT_PARSES_TO("/* multi\n * line ** / \n */ 7 /***/", "7");
	ASSERT_PARSES_TO("1/* a */// b\n/* c */", "1");
}

TEST(comment_markers_inside_strings)
{
	struct jsonc_doc *doc =
	    OK("{\"url\": \"http://example.com//x\", "
	       "\"glob\": \"src/*.c\", \"end\": \"*/\", \"k//\": \"/*\"}");
	cJSON *root = jsonc_doc_root(doc);

	ASSERT_STR_EQ(
	    cJSON_GetObjectItem(root, "url")->valuestring, "http://example.com//x");
	ASSERT_STR_EQ(cJSON_GetObjectItem(root, "glob")->valuestring, "src/*.c");
	ASSERT_STR_EQ(cJSON_GetObjectItem(root, "end")->valuestring, "*/");
	ASSERT_STR_EQ(cJSON_GetObjectItem(root, "k//")->valuestring, "/*");
	jsonc_doc_free(doc);
}

TEST(unterminated_block_comment_points_at_its_start)
{
	ASSERT_PARSE_ERR("{\n  \"a\": 1, /* note\n\n", "t:2:11: unterminated /* comment");
	ASSERT_PARSE_ERR("1 /*/", "t:1:3: unterminated /* comment");
	ASSERT_PARSE_ERR("/*", "t:1:1: unterminated /* comment");
}

TEST(lone_slash_is_an_error)
{
	ASSERT_PARSE_ERR(
	    "{\"a\": 1 / 2}", "t:1:9: expected ',' or '}' after property \"a\"");
	ASSERT_PARSE_ERR("/", "t:1:1: expected a value, found '/'");
	ASSERT_PARSE_ERR("1 /", "t:1:3: unexpected text after the top-level value");
}

TEST(trailing_commas)
{
	ASSERT_PARSES_TO(
	    "{\"a\": [1, 2,], \"b\": {\"c\": 1,},}", "{\"a\":[1,2],\"b\":{\"c\":1}}");
	ASSERT_PARSES_TO("[{},[],]", "[{},[]]");
	ASSERT_PARSES_TO("[1 /* c */ , // c\n ]", "[1]");
	ASSERT_PARSE_ERR("[,]", "t:1:2: expected a value in the array, found ','");
	ASSERT_PARSE_ERR("[1,,]", "t:1:4: expected a value in the array, found ','");
	ASSERT_PARSE_ERR("{,}", "t:1:2: expected a property name in double quotes");
	ASSERT_PARSE_ERR(
	    "{\"a\":1,,}", "t:1:8: expected a property name in double quotes");
}

TEST(bom_is_skipped)
{
	struct jsonc_doc *doc = OK("\xEF\xBB\xBF{\"a\": 1}");

	ASSERT_AT(doc, jsonc_doc_root(doc), 1, 1);
	ASSERT_AT(doc, cJSON_GetObjectItem(jsonc_doc_root(doc), "a"), 1, 7);
	jsonc_doc_free(doc);
	ASSERT_PARSE_ERR(
	    "\xEF\xBB\xBF{x", "t:1:2: expected a property name in double quotes");
	/* Only at the start. */
	ASSERT_PARSE_ERR("[1,\xEF\xBB\xBF]",
	    "t:1:4: expected a value in the array, found character U+FEFF");
	ASSERT_PARSE_ERR("\xEF\xBB\xBF", "t:1:1: empty file");
	ASSERT_PARSE_ERR(
	    "\xFF\xFE{\0}\0", "t:1:1: file is encoded as UTF-16, expected UTF-8");
}

TEST(valid_utf8_is_kept)
{
	struct jsonc_doc *doc =
	    OK("[\"h\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 "
	       "\xF4\x8F\xBF\xBF\"] // \xC3\xA9\xE2\x82\xAC\n/* \xF0\x9F\x98\x80 */");

	ASSERT_STR_EQ(cJSON_GetArrayItem(jsonc_doc_root(doc), 0)->valuestring,
	    "h\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF");
	jsonc_doc_free(doc);
}

TEST(invalid_utf8)
{
	ASSERT_PARSE_ERR("\"\xFF\"", "t:1:2: invalid UTF-8 byte 0xff");
	ASSERT_PARSE_ERR("\xFF", "t:1:1: invalid UTF-8 byte 0xff");
	ASSERT_PARSE_ERR("[\"a\", \x80]", "t:1:7: invalid UTF-8 byte 0x80");
	/* Overlong forms. */
	ASSERT_PARSE_ERR("\"\xC0\xAF\"", "t:1:2: invalid UTF-8 byte 0xc0");
	ASSERT_PARSE_ERR("\"\xC1\xBF\"", "t:1:2: invalid UTF-8 byte 0xc1");
	ASSERT_PARSE_ERR("\"\xE0\x80\xAF\"", "t:1:2: invalid UTF-8 sequence 0xe0 0x80");
	ASSERT_PARSE_ERR(
	    "\"\xF0\x80\x80\xAF\"", "t:1:2: invalid UTF-8 sequence 0xf0 0x80");
	/* UTF-16 surrogates encoded as UTF-8 (CESU-8). */
	ASSERT_PARSE_ERR("\"\xED\xA0\x80\"", "t:1:2: invalid UTF-8 sequence 0xed 0xa0");
	ASSERT_PARSE_ERR("\"\xED\xBF\xBF\"", "t:1:2: invalid UTF-8 sequence 0xed 0xbf");
	/* Above U+10FFFF. */
	ASSERT_PARSE_ERR(
	    "\"\xF4\x90\x80\x80\"", "t:1:2: invalid UTF-8 sequence 0xf4 0x90");
	ASSERT_PARSE_ERR("\"\xF5\x80\x80\x80\"", "t:1:2: invalid UTF-8 byte 0xf5");
	/* Truncated sequences. */
	ASSERT_PARSE_ERR(
	    "\"ab\xE2\x82\"", "t:1:4: invalid UTF-8 sequence 0xe2 0x82 0x22");
	ASSERT_PARSE_ERR("\"\xC3", "t:1:2: truncated UTF-8 sequence 0xc3 at end of file");
	ASSERT_PARSE_ERR(
	    "1 // \xE2\x82", "t:1:6: truncated UTF-8 sequence 0xe2 0x82 at end of file");
	/* In comments too. */
	ASSERT_PARSE_ERR("// \xFF\n1", "t:1:4: invalid UTF-8 byte 0xff");
	ASSERT_PARSE_ERR("/*\n\xC3\xA9\xFE*/1", "t:2:2: invalid UTF-8 byte 0xfe");
	/* In a property name, and where a name was expected. */
	ASSERT_PARSE_ERR("{\"\xFF\": 1}", "t:1:3: invalid UTF-8 byte 0xff");
	ASSERT_PARSE_ERR("{\xFF: 1}", "t:1:2: invalid UTF-8 byte 0xff");
}

TEST(empty_inputs)
{
	ASSERT_PARSE_ERR("", "t:1:1: empty file");
	ASSERT_PARSE_ERR(" \n\t ", "t:2:3: empty file");
	ASSERT_PARSE_ERR("// only a comment\n/* and another */", "t:2:18: empty file");
	{
		char *cause = NULL;
		ASSERT_NULL(jsonc_parse("t", NULL, 0, &cause));
		ASSERT_STR_EQ(cause, "t:1:1: empty file");
		free(cause);
		ASSERT_NULL(jsonc_parse(NULL, "", 0, &cause));
		ASSERT_STR_EQ(cause, "<input>:1:1: empty file");
		free(cause);
		/* A NULL cause is allowed. */
		ASSERT_NULL(jsonc_parse("t", "", 0, NULL));
	}
}

TEST(top_level_non_objects_are_accepted)
{
	struct jsonc_doc *doc;

	ASSERT_PARSES_TO("[1, 2]", "[1,2]");
	ASSERT_PARSES_TO("\"s\"", "\"s\"");
	ASSERT_PARSES_TO(" 42 ", "42");
	ASSERT_PARSES_TO("true", "true");
	ASSERT_PARSES_TO("false", "false");
	ASSERT_PARSES_TO("null", "null");
	doc = OK("null");
	ASSERT_TRUE(cJSON_IsNull(jsonc_doc_root(doc)));
	ASSERT_FALSE(cJSON_IsObject(jsonc_doc_root(doc)));
	jsonc_doc_free(doc);
}

TEST(text_need_not_be_nul_terminated)
{
	struct jsonc_doc *doc;
	char *buf = xmalloc(7);

	memcpy(buf, "{\"a\":1}", 7); /* no NUL anywhere */
	doc = ok_len(buf, 7);
	ASSERT_INT_EQ(cJSON_GetObjectItem(jsonc_doc_root(doc), "a")->valueint, 1);
	jsonc_doc_free(doc);
	doc = ok_len("12345", 3);
	ASSERT_INT_EQ(jsonc_doc_root(doc)->valueint, 123);
	jsonc_doc_free(doc);
	doc = ok_len("truex", 4);
	ASSERT_TRUE(cJSON_IsTrue(jsonc_doc_root(doc)));
	jsonc_doc_free(doc);
	free(buf);
}

TEST(embedded_nul_is_an_error)
{
	ASSERT_PARSE_ERR("{\"a\":1}\0", "t:1:8: unexpected NUL byte");
	ASSERT_PARSE_ERR("{\"a\":1}\0\0\0\0", "t:1:8: unexpected NUL byte");
	ASSERT_PARSE_ERR("{\"a\0b\":1}", "t:1:4: unexpected NUL byte");
	ASSERT_PARSE_ERR("[1,\0]", "t:1:4: unexpected NUL byte");
	ASSERT_PARSE_ERR("{\0}", "t:1:2: unexpected NUL byte");
	ASSERT_PARSE_ERR("// a\0b\n1", "t:1:5: unexpected NUL byte");
	ASSERT_PARSE_ERR("/* \0 */1", "t:1:4: unexpected NUL byte");
	ASSERT_PARSE_ERR("\0", "t:1:1: unexpected NUL byte");
}

/* Build a ~50 MB array of objects, one per line, with comments. */
static char *
make_big(size_t want, size_t *len, size_t *count)
{
	char *s = xmalloc(want + 4096);
	size_t n = 0, i = 0;

	n += (size_t)sprintf(s + n, "// generated\n[\n");
	while (n < want) {
		n += (size_t)sprintf(s + n,
		    "  {\"id\": %zu, \"name\": \"item "
		    "%zu\", \"tags\": [\"a\", \"b\"], /* c */ \"nested\": "
		    "{\"x\": 1.5e3, \"ok\": true}},\n",
		    i, i);
		i++;
	}
	n += (size_t)sprintf(s + n, "]\n");
	*len = n;
	*count = i;
	return s;
}

/* 50 MB; 10 MB under AddressSanitizer, where each parse of 50 MB took 15 s
 * and the test alone came near its 120 s limit beside the e2e tests (the
 * size shows no quadratic cost either way: the normal build parses 50). */
#ifdef __SANITIZE_ADDRESS__
#define BIG_MB 10
#else
#define BIG_MB 50
#endif

TEST(parses_50mb)
{
	size_t len, count;
	char *text = make_big(BIG_MB * 1024 * 1024, &len, &count);
	struct jsonc_doc *doc = ok_len(text, len);
	cJSON *root = jsonc_doc_root(doc), *last;

	ASSERT_INT_EQ(cJSON_GetArraySize(root), count);
	last = cJSON_GetArrayItem(root, (int)count - 1);
	ASSERT_INT_EQ(cJSON_GetObjectItem(last, "id")->valueint, count - 1);
	ASSERT_AT(doc, last, count + 2, 3);
	ASSERT_AT(doc, cJSON_GetObjectItem(last, "id"), count + 2, 10);
	ASSERT_KEY_AT(doc, cJSON_GetObjectItem(last, "id"), count + 2, 4);
	ASSERT_TRUE(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(last, "nested"), "x")->valuedouble ==
	    1500);
	jsonc_doc_free(doc);

	/* The same, cut short: a clean error at the end. */
	{
		char *cause = NULL, want[128];

		ASSERT_NULL(jsonc_parse("t", text, len - 2, &cause));
		snprintf(want, sizeof want,
		    "t:%zu:1: unexpected end of file, "
		    "expected ']' to close the array opened at 2:1",
		    count + 3);
		ASSERT_STR_EQ(cause, want);
		free(cause);
	}
	free(text);
}

/* Parse 8 MB on one line: columns in characters stay O(1) to compute. */
TEST(parses_one_long_line)
{
	size_t n = 0, want = 8 * 1024 * 1024, i = 0;
	char *s = xmalloc(want + 64);
	struct jsonc_doc *doc;
	cJSON *root;

	s[n++] = '[';
	while (n < want) {
		n += (size_t)sprintf(s + n, "\"\xC3\xA9\",%zu,", i % 1000);
		i += 2;
	}
	s[n++] = '0';
	s[n++] = ']';
	doc = ok_len(s, n);
	root = jsonc_doc_root(doc);
	ASSERT_INT_EQ(cJSON_GetArraySize(root), i + 1);
	/* Column in characters: each é is one character but two bytes. */
	ASSERT_AT(doc, cJSON_GetArrayItem(root, 2), 1, 8);
	ASSERT_AT(doc, cJSON_GetArrayItem(root, (int)i), 1, n - 2 - i / 2 + 1);
	jsonc_doc_free(doc);
	free(s);
}

static char *
repeat(const char *a, size_t na, const char *mid, const char *b, size_t nb)
{
	size_t la = strlen(a), lm = strlen(mid), lb = strlen(b), i, n = 0;
	char *s = xmalloc(la * na + lm + lb * nb + 1);

	for (i = 0; i < na; i++, n += la)
		memcpy(s + n, a, la);
	memcpy(s + n, mid, lm);
	n += lm;
	for (i = 0; i < nb; i++, n += lb)
		memcpy(s + n, b, lb);
	s[n] = '\0';
	return s;
}

TEST(deep_nesting)
{
	struct jsonc_doc *doc;
	char *s, *cause = NULL;

	/* 10,000 levels: a clean error, no stack overflow. */
	s = repeat("[", 10000, "", "]", 10000);
	ASSERT_NULL(jsonc_parse("t", s, strlen(s), &cause));
	ASSERT_STR_EQ(cause, "t:1:513: nesting deeper than 512 levels");
	free(cause);
	free(s);

	s = repeat("{\"a\":", 10000, "1", "}", 10000);
	ASSERT_NULL(jsonc_parse("t", s, strlen(s), &cause));
	ASSERT_STR_EQ(cause, "t:1:2561: nesting deeper than 512 levels");
	free(cause);
	free(s);

	/* Unclosed: the depth error comes first, too. */
	s = repeat("[", 10000, "", "", 0);
	ASSERT_NULL(jsonc_parse("t", s, strlen(s), &cause));
	ASSERT_STR_EQ(cause, "t:1:513: nesting deeper than 512 levels");
	free(cause);
	free(s);

	/* Exactly 512 levels parse, print and free. */
	s = repeat("[", 512, "", "]", 512);
	doc = ok_len(s, strlen(s));
	free(s);
	s = print(jsonc_doc_root(doc));
	ASSERT_INT_EQ(strlen(s), 1024);
	free(s);
	jsonc_doc_free(doc);

	s = repeat("{\"k\":", 511, "[", "", 0);
	ASSERT_NULL(jsonc_parse("t", s, strlen(s), &cause));
	ASSERT_STR_EQ(cause,
	    "t:1:2557: unexpected end of file, expected ']' "
	    "to close the array opened at 1:2556");
	free(cause);
	free(s);
	s = repeat("{\"k\":", 512, "[]", "}", 512);
	ASSERT_NULL(jsonc_parse("t", s, strlen(s), &cause));
	ASSERT_STR_EQ(cause, "t:1:2561: nesting deeper than 512 levels");
	free(cause);
	free(s);
}

TEST(error_messages)
{
	ASSERT_PARSE_ERR("{\n  \"image\": \"x\"\n  \"features\": {}\n}",
	    "t:3:3: expected ',' or '}' after property \"image\"");
	ASSERT_PARSE_ERR(
	    "{image: 1}", "t:1:2: expected a property name in double quotes");
	ASSERT_PARSE_ERR("{'a': 1}", "t:1:2: expected a property name in double quotes");
	ASSERT_PARSE_ERR("{\"a\" 1}", "t:1:6: expected ':' after property name \"a\"");
	ASSERT_PARSE_ERR("{\"a\": \"abc", "t:1:7: unterminated string");
	ASSERT_PARSE_ERR("{\"a\": \"abc\n\"}", "t:1:7: unterminated string");
	ASSERT_PARSE_ERR("{\"a\": \"x\\q\"}", "t:1:9: invalid escape \\q in string");
	ASSERT_PARSE_ERR("{\"a\": \"x\\", "t:1:7: unterminated string");
	ASSERT_PARSE_ERR("{\"a\": \"\xFF\"}", "t:1:8: invalid UTF-8 byte 0xff");
	ASSERT_PARSE_ERR("\n\n{\n  \"a\": 1\n",
	    "t:5:1: unexpected end of file, "
	    "expected '}' to close the object opened at 3:1");
	ASSERT_PARSE_ERR("{\"a\": [1,\n",
	    "t:2:1: unexpected end of file, "
	    "expected ']' to close the array opened at 1:7");
	ASSERT_PARSE_ERR("{\"a\"",
	    "t:1:5: unexpected end of file, "
	    "expected '}' to close the object opened at 1:1");
	ASSERT_PARSE_ERR("{\"a\":",
	    "t:1:6: unexpected end of file, "
	    "expected '}' to close the object opened at 1:1");
	ASSERT_PARSE_ERR("{} x", "t:1:4: unexpected text after the top-level value");
	ASSERT_PARSE_ERR("{}}", "t:1:3: unexpected text after the top-level value");
	ASSERT_PARSE_ERR("[1 2]", "t:1:4: expected ',' or ']' after an array element");
	ASSERT_PARSE_ERR(
	    "{\"a\": }", "t:1:7: expected a value for property \"a\", found '}'");
	ASSERT_PARSE_ERR("{\"image\": ubuntu}",
	    "t:1:11: expected a value for "
	    "property \"image\", found ubuntu (strings need double quotes)");
	ASSERT_PARSE_ERR("{\"a\": 'x'}",
	    "t:1:7: expected a value for property "
	    "\"a\", found \"'\" (strings need double quotes)");
	ASSERT_PARSE_ERR("[True]",
	    "t:1:2: expected a value in the array, found "
	    "True (true, false and null are lowercase)");
	ASSERT_PARSE_ERR("]", "t:1:1: expected a value, found ']'");
	ASSERT_PARSE_ERR(
	    "[\"a\t\"]", "t:1:4: unescaped control character U+0009 in string");
	ASSERT_PARSE_ERR("[\x01]",
	    "t:1:2: expected a value in the array, found control character U+0001");
	ASSERT_PARSE_ERR("\xC2\xA0{}", "t:1:1: expected a value, found character U+00A0");
	ASSERT_PARSE_ERR(
	    "{\"a\\\"b\": 1 2}", "t:1:12: expected ',' or '}' after property \"a\\\"b\"");
}

TEST(error_messages_quote_long_names)
{
	char *e = ERR("{\"0123456789012345678901234567890123456789012345678901234"
		      "5678901234567890123456789\xC3\xA9\xC3\xA9\": 1 2}");

	/* Cut before the first é, which would not fit whole. */
	ASSERT_STR_EQ(e,
	    "t:1:90: expected ',' or '}' after property \""
	    "01234567890123456789012345678901234567890123456789012345678901234"
	    "567890123456789...\"");
	free(e);
	e = ERR("{\"\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3"
		"\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"
		"\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3"
		"\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"
		"\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3"
		"\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\": 1 2}");
	/* Cut at a character boundary: 40 characters = 80 bytes, then "...". */
	ASSERT_STR_CONTAINS(e, "\xC3\xA9...\"");
	ASSERT_STR_CONTAINS(e, "t:1:56: expected ',' or '}' after property");
	free(e);
	e = ERR("{\"a\\nb\": 1 2}");
	ASSERT_STR_EQ(e, "t:1:12: expected ',' or '}' after property \"a\\u000ab\"");
	free(e);
}

TEST(columns_count_characters)
{
	/* é is 2 bytes, € 3, 😀 4; each is one column. A tab is one column. */
	ASSERT_PARSE_ERR("{\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\":\tx}",
	    "t:1:9: expected a value for property \"\xC3\xA9\xE2\x82\xAC\xF0\x9F"
	    "\x98\x80\", found x (strings need double quotes)");
	ASSERT_PARSE_ERR("// \xE2\x82\xAC\xE2\x82\xAC\n/* \xF0\x9F\x98\x80\n"
			 "\xF0\x9F\x98\x80 */ [1,\t\xC3\xA9]",
	    "t:3:10: expected a value in the array, found character U+00E9");
}

TEST(line_endings)
{
	struct jsonc_doc *doc = OK("{\r\n\"a\": 1,\r\"b\": 2,\n\"c\": 3,\r\n\r\n"
				   "\"d\": /* x\r\n y\r z\n */ 4}");
	cJSON *root = jsonc_doc_root(doc);

	ASSERT_AT(doc, cJSON_GetObjectItem(root, "a"), 2, 6);
	ASSERT_AT(doc, cJSON_GetObjectItem(root, "b"), 3, 6);
	ASSERT_AT(doc, cJSON_GetObjectItem(root, "c"), 4, 6);
	ASSERT_AT(doc, cJSON_GetObjectItem(root, "d"), 9, 5);
	ASSERT_KEY_AT(doc, cJSON_GetObjectItem(root, "d"), 6, 1);
	jsonc_doc_free(doc);
}

TEST(locate_nested_values)
{
	struct jsonc_doc *doc = OK("// devcontainer.json\n"
				   "{\n"
				   "\t\"name\": \"d\xC3\xA9mo\",\n"
				   "\t\"build\": {\n"
				   "\t\t\"args\": { \"A\": \"1\" },\n"
				   "\t\t/* é */ \"target\": [\"x\", {\"deep\": [null]}]\n"
				   "\t},\n"
				   "  \"\xE2\x82\xAC\": 5\n"
				   "}\n");
	cJSON *root = jsonc_doc_root(doc), *build, *args, *target, *deep;
	cJSON other;
	unsigned line, col;

	build = cJSON_GetObjectItem(root, "build");
	args = cJSON_GetObjectItem(build, "args");
	target = cJSON_GetObjectItem(build, "target");
	deep = cJSON_GetObjectItem(cJSON_GetArrayItem(target, 1), "deep");
	ASSERT_AT(doc, root, 2, 1);
	ASSERT_INT_EQ(jsonc_doc_locate_key(doc, root, &line, &col), -1);
	ASSERT_AT(doc, cJSON_GetObjectItem(root, "name"), 3, 10);
	ASSERT_KEY_AT(doc, cJSON_GetObjectItem(root, "name"), 3, 2);
	ASSERT_AT(doc, build, 4, 11);
	ASSERT_KEY_AT(doc, build, 4, 2);
	ASSERT_AT(doc, args, 5, 11);
	ASSERT_AT(doc, cJSON_GetObjectItem(args, "A"), 5, 18);
	ASSERT_KEY_AT(doc, cJSON_GetObjectItem(args, "A"), 5, 13);
	ASSERT_AT(doc, target, 6, 21);
	ASSERT_KEY_AT(doc, target, 6, 11);
	ASSERT_AT(doc, cJSON_GetArrayItem(target, 0), 6, 22);
	ASSERT_INT_EQ(
	    jsonc_doc_locate_key(doc, cJSON_GetArrayItem(target, 0), &line, &col), -1);
	ASSERT_AT(doc, cJSON_GetArrayItem(target, 1), 6, 27);
	ASSERT_AT(doc, deep, 6, 36);
	ASSERT_AT(doc, cJSON_GetArrayItem(deep, 0), 6, 37);
	ASSERT_AT(doc, cJSON_GetObjectItem(root, "\xE2\x82\xAC"), 8, 8);
	ASSERT_KEY_AT(doc, cJSON_GetObjectItem(root, "\xE2\x82\xAC"), 8, 3);
	/* Nodes that are not part of the tree. */
	memset(&other, 0, sizeof other);
	ASSERT_INT_EQ(jsonc_doc_locate(doc, &other, &line, &col), -1);
	ASSERT_INT_EQ(jsonc_doc_locate(doc, NULL, &line, &col), -1);
	ASSERT_INT_EQ(jsonc_doc_locate_key(doc, &other, &line, &col), -1);
	jsonc_doc_free(doc);
}

TEST(duplicate_keys_keep_the_last_value)
{
	struct jsonc_doc *doc;
	cJSON *root, *a;
	char *s;

	ASSERT_PARSES_TO(
	    "{\"a\": 1, \"b\": 2, \"a\": {\"x\": 3}}", "{\"a\":{\"x\":3},\"b\":2}");
	ASSERT_PARSES_TO("{\"a\": 1, \"a\": 2}", "{\"a\":2}");
	/* Replacing the last member, then appending after it. */
	ASSERT_PARSES_TO(
	    "{\"a\": 1, \"b\": 2, \"b\": 3, \"c\": 4}", "{\"a\":1,\"b\":3,\"c\":4}");
	ASSERT_PARSES_TO("{\"a\": 1, \"b\": 2, \"a\": 3, \"c\": 4, \"a\": 5}",
	    "{\"a\":5,\"b\":2,\"c\":4}");
	/* Names differing only in case are different. */
	ASSERT_PARSES_TO("{\"a\": 1, \"A\": 2}", "{\"a\":1,\"A\":2}");

	doc = OK("{\"a\": [1, 2],\n \"a\": true}");
	root = jsonc_doc_root(doc);
	a = cJSON_GetObjectItem(root, "a");
	ASSERT_TRUE(cJSON_IsTrue(a));
	ASSERT_AT(doc, a, 2, 7);
	ASSERT_KEY_AT(doc, a, 2, 2);
	ASSERT_INT_EQ(cJSON_GetArraySize(root), 1);
	/* The tree stays usable with cJSON's own functions. */
	cJSON_AddNumberToObject(root, "z", 9);
	s = print(root);
	ASSERT_STR_EQ(s, "{\"a\":true,\"z\":9}");
	free(s);
	jsonc_doc_free(doc);
}

TEST(duplicate_keys_in_large_objects)
{
	char text[8192];
	size_t n = 0;
	struct jsonc_doc *doc;
	cJSON *root, *c;
	int i;
	unsigned line, col;
	size_t dn;

	/* 100 names, then each name again: the keyset path. */
	n += (size_t)snprintf(text + n, sizeof text - n, "{");
	for (i = 0; i < 100; i++)
		n +=
		    (size_t)snprintf(text + n, sizeof text - n, "\"k%d\": [%d],\n", i, i);
	for (i = 99; i >= 0; i--)
		n += (size_t)snprintf(
		    text + n, sizeof text - n, "\"k%d\": %d,\n", i, i * 10);
	n += (size_t)snprintf(text + n, sizeof text - n, "\"last\": 1}");
	doc = ok_len(text, n);
	root = jsonc_doc_root(doc);
	ASSERT_INT_EQ(cJSON_GetArraySize(root), 101);
	for (i = 0, c = root->child; i < 100; i++, c = c->next) {
		char want[16];

		snprintf(want, sizeof want, "k%d", i);
		ASSERT_STR_EQ(c->string, want);
		ASSERT_TRUE(cJSON_IsNumber(c));
		ASSERT_INT_EQ(c->valueint, i * 10);
		ASSERT_INT_EQ(jsonc_doc_locate(doc, c, &line, &col), 0);
		ASSERT_INT_EQ(line, 200 - i);
	}
	ASSERT_STR_EQ(c->string, "last");
	ASSERT_TRUE(root->child->prev == c);
	/* The first JSONC_MAX_DUPLICATES are listed, the later k99 first. */
	{
		const struct jsonc_duplicate *d = jsonc_doc_duplicates(doc, &dn);

		ASSERT_INT_EQ((int)dn, JSONC_MAX_DUPLICATES);
		ASSERT_STR_EQ(d[0].name, "k99");
		ASSERT_INT_EQ((int)d[0].line, 100);
		ASSERT_INT_EQ((int)d[0].later_line, 101);
	}
	jsonc_doc_free(doc);
}

/* The document lists each name given twice in one object, with both
 * places, so that a caller can warn that the first is dropped. */
TEST(duplicate_keys_are_listed)
{
	struct jsonc_doc *doc;
	const struct jsonc_duplicate *d;
	size_t n;

	doc = OK("{\"a\": 1, \"b\": {\"x\": 1,\n  \"x\": 2},\n\"a\": 3}");
	d = jsonc_doc_duplicates(doc, &n);
	ASSERT_INT_EQ((int)n, 2);
	ASSERT_STR_EQ(d[0].name, "x");
	ASSERT_INT_EQ((int)d[0].line, 1);
	ASSERT_INT_EQ((int)d[0].col, 16);
	ASSERT_INT_EQ((int)d[0].later_line, 2);
	ASSERT_INT_EQ((int)d[0].later_col, 3);
	ASSERT_STR_EQ(d[1].name, "a");
	ASSERT_INT_EQ((int)d[1].line, 1);
	ASSERT_INT_EQ((int)d[1].col, 2);
	ASSERT_INT_EQ((int)d[1].later_line, 3);
	ASSERT_INT_EQ((int)d[1].later_col, 1);
	jsonc_doc_free(doc);
	doc = OK("{\"a\": 1, \"A\": 2}");
	jsonc_doc_duplicates(doc, &n);
	ASSERT_INT_EQ((int)n, 0);
	jsonc_doc_free(doc);
}

TEST(numbers)
{
	struct jsonc_doc *doc =
	    OK("[0, -0, 1, -1, 42, 1.5, -0.25, 1e3, 1E+2, "
	       "2.5e-3, 123456789012345, 12345678901234567890, 1e400, -1e400, "
	       "1e-400, 9007199254740993, 0.1]");
	cJSON *r = jsonc_doc_root(doc);
	double want[] = { 0, 0, 1, -1, 42, 1.5, -0.25, 1000, 100, 0.0025,
		123456789012345.0, 12345678901234567890.0, HUGE_VAL, -HUGE_VAL, 0,
		9007199254740992.0, 0.1 };
	size_t i;

	ASSERT_INT_EQ(cJSON_GetArraySize(r), sizeof want / sizeof want[0]);
	for (i = 0; i < sizeof want / sizeof want[0]; i++) {
		double got = cJSON_GetArrayItem(r, (int)i)->valuedouble;
		if (got != want[i])
			TEST_FAIL("element %zu is %.17g, want %.17g", i, got, want[i]);
	}
	ASSERT_TRUE(signbit(cJSON_GetArrayItem(r, 1)->valuedouble));
	ASSERT_INT_EQ(cJSON_GetArrayItem(r, 4)->valueint, 42);
	jsonc_doc_free(doc);
}

TEST(invalid_numbers)
{
	ASSERT_PARSE_ERR(
	    "01", "t:1:1: invalid number 01 (leading zeros are not allowed)");
	ASSERT_PARSE_ERR(
	    "[-01]", "t:1:2: invalid number -01 (leading zeros are not allowed)");
	ASSERT_PARSE_ERR("+1", "t:1:1: invalid number +1 (a leading '+' is not allowed)");
	ASSERT_PARSE_ERR(
	    "0x1F", "t:1:1: invalid number 0x1F (hexadecimal is not allowed)");
	ASSERT_PARSE_ERR(".5", "t:1:1: invalid number .5");
	ASSERT_PARSE_ERR("1.", "t:1:1: invalid number 1.");
	ASSERT_PARSE_ERR("1.e3", "t:1:1: invalid number 1.e3");
	ASSERT_PARSE_ERR("1e", "t:1:1: invalid number 1e");
	ASSERT_PARSE_ERR("1e+", "t:1:1: invalid number 1e+");
	ASSERT_PARSE_ERR("-", "t:1:1: invalid number -");
	ASSERT_PARSE_ERR("- 1", "t:1:1: invalid number -");
	ASSERT_PARSE_ERR("1.2.3", "t:1:1: invalid number 1.2.3");
	ASSERT_PARSE_ERR("-Infinity", "t:1:1: invalid number -Infinity");
	ASSERT_PARSE_ERR(
	    "NaN", "t:1:1: expected a value, found NaN (not allowed in JSON)");
	ASSERT_PARSE_ERR("[Infinity]",
	    "t:1:2: expected a value in the array, found Infinity (not allowed in JSON)");
	ASSERT_PARSE_ERR("{\"n\": 1_000}", "t:1:7: invalid number 1_000");
	ASSERT_PARSE_ERR("[12345678901234567890123456789012345678901234567890x]",
	    "t:1:2: invalid number 1234567890123456789012345678901234567890...");
}

TEST(escapes)
{
	struct jsonc_doc *doc =
	    OK("[\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t\", "
	       "\"\\u00e9\\u20AC\", \"\\uD83D\\uDE00\", \"\\ud83d\\ude00x\", "
	       "\"\\u0041\\u007f\", \"a\\u0001b\", \"\\uFFFF\", \"\\uDBFF\\uDFFF\"]");
	cJSON *r = jsonc_doc_root(doc);

	ASSERT_STR_EQ(cJSON_GetArrayItem(r, 0)->valuestring, "\" \\ / \b \f \n \r \t");
	ASSERT_STR_EQ(cJSON_GetArrayItem(r, 1)->valuestring, "\xC3\xA9\xE2\x82\xAC");
	ASSERT_STR_EQ(cJSON_GetArrayItem(r, 2)->valuestring, "\xF0\x9F\x98\x80");
	ASSERT_STR_EQ(cJSON_GetArrayItem(r, 3)->valuestring, "\xF0\x9F\x98\x80x");
	ASSERT_STR_EQ(cJSON_GetArrayItem(r, 4)->valuestring, "A\x7F");
	ASSERT_STR_EQ(cJSON_GetArrayItem(r, 5)->valuestring,
	    "a\x01"
	    "b");
	ASSERT_STR_EQ(cJSON_GetArrayItem(r, 6)->valuestring, "\xEF\xBF\xBF");
	ASSERT_STR_EQ(cJSON_GetArrayItem(r, 7)->valuestring, "\xF4\x8F\xBF\xBF");
	jsonc_doc_free(doc);

	/* Escapes in names. */
	doc = OK("{\"a\\u0062\\n\": 1}");
	ASSERT_NOT_NULL(cJSON_GetObjectItem(jsonc_doc_root(doc), "ab\n"));
	jsonc_doc_free(doc);
}

TEST(invalid_escapes)
{
	ASSERT_PARSE_ERR("\"\\uD800\"", "t:1:2: lone surrogate \\uD800 in string");
	ASSERT_PARSE_ERR(
	    "\"x\\uD800\\u0041\"", "t:1:3: lone surrogate \\uD800 in string");
	ASSERT_PARSE_ERR("\"\\uD800\\uD800\"", "t:1:2: lone surrogate \\uD800 in string");
	ASSERT_PARSE_ERR("\"\\udc00\"", "t:1:2: lone surrogate \\uDC00 in string");
	ASSERT_PARSE_ERR("\"\\uD800\\n\"", "t:1:2: lone surrogate \\uD800 in string");
	ASSERT_PARSE_ERR("\"\\uD800\\", "t:1:2: lone surrogate \\uD800 in string");
	ASSERT_PARSE_ERR("\"\\u0000\"", "t:1:2: \\u0000 (NUL) is not allowed in strings");
	ASSERT_PARSE_ERR(
	    "\"\\u12G4\"", "t:1:2: invalid \\u escape in string, expected 4 hex digits");
	ASSERT_PARSE_ERR(
	    "\"\\u12", "t:1:2: invalid \\u escape in string, expected 4 hex digits");
	ASSERT_PARSE_ERR("\"\\x41\"", "t:1:2: invalid escape \\x in string");
	ASSERT_PARSE_ERR("\"\\'\"", "t:1:2: invalid escape \\' in string");
	ASSERT_PARSE_ERR("\"\\\xC3\xA9\"", "t:1:2: invalid escape in string");
	ASSERT_PARSE_ERR("\"\\\n\"", "t:1:2: invalid escape in string");
}

TEST(words)
{
	ASSERT_PARSE_ERR(
	    "nul", "t:1:1: expected a value, found nul (strings need double quotes)");
	ASSERT_PARSE_ERR("truefalse",
	    "t:1:1: expected a value, found truefalse (strings need double quotes)");
	ASSERT_PARSE_ERR(
	    "true false", "t:1:6: unexpected text after the top-level value");
	ASSERT_PARSE_ERR("[NULL]",
	    "t:1:2: expected a value in the array, found NULL "
	    "(true, false and null are lowercase)");
	ASSERT_PARSE_ERR("[undefined]",
	    "t:1:2: expected a value in the array, found "
	    "undefined (not allowed in JSON)");
	ASSERT_PARSES_TO("[true,false,null]", "[true,false,null]");
}
