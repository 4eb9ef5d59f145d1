/* test-compose-yaml.c - YAML into cJSON with libyaml (agent/compose-yaml.c). */
#include "test.h"

#include "compose-yaml.h"
#include "xmalloc.h"

/* text parsed and printed back as compact JSON; fails the test on an error.
 * New string. */
static char *
yaml_json(const char *text)
{
	char *cause = NULL, *out;
	cJSON *y = compose_yaml_parse("t.yml", text, strlen(text), &cause);

	if (y == NULL)
		TEST_FAIL("parse: %s", cause);
	out = cJSON_PrintUnformatted(y);
	cJSON_Delete(y);
	return out;
}

/* The error text parses to (the test fails when it parses). New string. */
static char *
yaml_error(const char *text, size_t len)
{
	char *cause = NULL;
	cJSON *y = compose_yaml_parse("t.yml", text, len, &cause);

	if (y != NULL) {
		char *s = cJSON_PrintUnformatted(y);
		TEST_FAIL("parsed, want an error: %s", s);
	}
	ASSERT_NOT_NULL(cause);
	return cause;
}

#define ASSERT_YAML(text, want) \
	do { \
		char *got_ = yaml_json(text); \
		ASSERT_STR_EQ(got_, want); \
		free(got_); \
	} while (0)

#define ASSERT_YAML_ERROR(text, want) \
	do { \
		char *got_ = yaml_error(text, strlen(text)); \
		ASSERT_STR_EQ(got_, want); \
		free(got_); \
	} while (0)

/* What docker-compose 1.29 printed for tests/data/compose/yaml/config-v1.yml. */
TEST(reads_docker_compose_v1_config)
{
	char *text = NULL, *cause = NULL, *s;
	FILE *f = fopen(RDEV_TEST_DATA "/compose/yaml/config-v1.yml", "r");
	cJSON *y, *app;
	size_t n;

	ASSERT_NOT_NULL(f);
	text = xmalloc(65536);
	n = fread(text, 1, 65535, f);
	fclose(f);
	y = compose_yaml_parse("config-v1.yml", text, n, &cause);
	free(text);
	if (y == NULL)
		TEST_FAIL("parse: %s", cause);
	app = cJSON_GetObjectItem(cJSON_GetObjectItem(y, "services"), "app");
	s = cJSON_PrintUnformatted(cJSON_GetObjectItem(app, "entrypoint"));
	ASSERT_STR_EQ(s,
	    "[\"/bin/sh\",\"-c\",\"echo 'a: b' \\\"$$HOME\\\" && exec "
	    "\\\"$$@\\\"\",\"-\"]");
	free(s);
	s = cJSON_PrintUnformatted(cJSON_GetObjectItem(app, "environment"));
	ASSERT_STR_EQ(s,
	    "{\"A\":\"x: y\",\"E\":null,\"LONG\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa "
	    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb cccccccccccccccccccccccccccccc dddd\","
	    "\"NL\":\"line1\\nline2\"}");
	free(s);
	ASSERT_STR_EQ(cJSON_GetObjectItem(app, "command")->valuestring, "sleep infinity");
	s = cJSON_PrintUnformatted(cJSON_GetObjectItem(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(y, "services"), "db"), "build"));
	ASSERT_STR_EQ(s,
	    "{\"args\":{\"X\":\"1\"},\"context\":\"/tmp/"
	    "cz\",\"dockerfile\":\"Dockerfile.db\"}");
	free(s);
	ASSERT_STR_EQ(cJSON_GetObjectItem(y, "version")->valuestring, "3.8");
	s = cJSON_PrintUnformatted(cJSON_GetObjectItem(y, "volumes"));
	ASSERT_STR_EQ(s, "{\"data\":{},\"ext\":{\"external\":true,\"name\":\"ext\"}}");
	free(s);
	cJSON_Delete(y);
}

TEST(scalars_and_collections)
{
	ASSERT_YAML("---\n"
		    "a: \"x\\ty \\u00e9\\\n"
		    "   z\"\n"
		    "b: 'one\n"
		    "\n"
		    "  two'\n"
		    "c: |\n"
		    "  l1\n"
		    "    l2\n"
		    "d: >-\n"
		    "  f1\n"
		    "  f2\n"
		    "e: [1, \"two\", [3]]\n"
		    "f: {k: v, 'q': \"w\"}\n"
		    "g:\n"
		    "- - n1\n"
		    "  - n2\n"
		    "- k: v  # comment\n"
		    "  k2: ~\n"
		    "h: http://x:80/y\n"
		    "'quoted key': 1\n",
	    "{\"a\":\"x\\ty éz\",\"b\":\"one\\ntwo\",\"c\":\"l1\\n  l2\\n\","
	    "\"d\":\"f1 "
	    "f2\",\"e\":[\"1\",\"two\",[\"3\"]],\"f\":{\"k\":\"v\",\"q\":\"w\"},"
	    "\"g\":[[\"n1\",\"n2\"],{\"k\":\"v\",\"k2\":null}],\"h\":\"http://x:80/y\","
	    "\"quoted key\":\"1\"}");
}

/* Ports, octal modes, versions stay as written; only null and booleans are
 * resolved, and only when plain. */
TEST(scalars_stay_strings)
{
	ASSERT_YAML("ports: [3000, \"8080:80\", 0x1f, 1e3]\nmode: 0777\nv: 3.10\n"
		    "t: [true, True, TRUE, 'true', yes, on]\n"
		    "f: [false, FALSE, \"false\", no]\n"
		    "n: [null, Null, NULL, ~, 'null', \"\"]\n"
		    "s: !!str true\nempty:\n",
	    "{\"ports\":[\"3000\",\"8080:80\",\"0x1f\",\"1e3\"],\"mode\":\"0777\","
	    "\"v\":\"3.10\",\"t\":[true,true,true,\"true\",\"yes\",\"on\"],"
	    "\"f\":[false,false,\"false\",\"no\"],"
	    "\"n\":[null,null,null,null,\"null\",\"\"],\"s\":\"true\","
	    "\"empty\":null}");
}

TEST(multi_line_scalars)
{
	ASSERT_YAML("keep: |+\n  a\n\n\nstrip: |-\n  a\n  b\n\n"
		    "folded: >\n  one\n  two\n\n  three\n    indented\n"
		    "plain: word1\n  word2\n\n  word3\n"
		    "dq: \"a\n  b\\n\\\n  c\"\n"
		    "indicator: |2\n   lead\n",
	    "{\"keep\":\"a\\n\\n\\n\",\"strip\":\"a\\nb\","
	    "\"folded\":\"one two\\nthree\\n  indented\\n\","
	    "\"plain\":\"word1 word2\\nword3\",\"dq\":\"a b\\nc\","
	    "\"indicator\":\" lead\\n\"}");
}

TEST(quoting)
{
	ASSERT_YAML("sq: 'it''s \"x\" \\n #c'\n"
		    "dq: \"tab\\t nl\\n q\\\" bs\\\\ \\x41 \\u00e9 \\U0001F600 \\/\"\n"
		    "\"k: #\": 'v: #'\n"
		    "hash: a#b # comment\n"
		    "dollar: $$HOME ${X}\n",
	    "{\"sq\":\"it's \\\"x\\\" \\\\n #c\","
	    "\"dq\":\"tab\\t nl\\n q\\\" bs\\\\ A é 😀 /\","
	    "\"k: #\":\"v: #\",\"hash\":\"a#b\",\"dollar\":\"$$HOME ${X}\"}");
}

TEST(flow_style)
{
	ASSERT_YAML("a: {x: [1, {y: z}], 'q': \"w\", e: [], o: {}}\n"
		    "b: [a, b,\n  c]\n"
		    "c: [k: v]\n",
	    "{\"a\":{\"x\":[\"1\",{\"y\":\"z\"}],\"q\":\"w\",\"e\":[],\"o\":{}},"
	    "\"b\":[\"a\",\"b\",\"c\"],\"c\":[{\"k\":\"v\"}]}");
	/* JSON is YAML. */
	ASSERT_YAML("{\"services\": {\"app\": {\"command\": [\"a b\", \"$$X\"]}}}",
	    "{\"services\":{\"app\":{\"command\":[\"a b\",\"$$X\"]}}}");
}

TEST(anchors_and_aliases)
{
	ASSERT_YAML("base: &b {image: x, env: &e [A=1]}\n"
		    "copy: *b\n"
		    "env: *e\n"
		    "s: &s hello\n"
		    "l: [*s, *s]\n"
		    "*s : key from an alias\n"
		    "re: &s again\n"
		    "after: *s\n",
	    "{\"base\":{\"image\":\"x\",\"env\":[\"A=1\"]},"
	    "\"copy\":{\"image\":\"x\",\"env\":[\"A=1\"]},\"env\":[\"A=1\"],"
	    "\"s\":\"hello\",\"l\":[\"hello\",\"hello\"],\"hello\":\"key from an "
	    "alias\",\"re\":\"again\",\"after\":\"again\"}");
}

/* "<<" merges as in compose files' x- extension fields. */
TEST(merge_keys)
{
	ASSERT_YAML("x-common: &c {restart: always, image: a}\n"
		    "x-more: &m {image: b, init: true}\n"
		    "one:\n  <<: *c\n  image: mine\n"
		    "two:\n  image: mine\n  <<: *c\n"
		    "three:\n  <<: [*m, *c]\n"
		    "four: {'<<': not a merge}\n",
	    "{\"x-common\":{\"restart\":\"always\",\"image\":\"a\"},"
	    "\"x-more\":{\"image\":\"b\",\"init\":true},"
	    "\"one\":{\"restart\":\"always\",\"image\":\"mine\"},"
	    "\"two\":{\"image\":\"mine\",\"restart\":\"always\"},"
	    "\"three\":{\"image\":\"b\",\"init\":true,\"restart\":\"always\"},"
	    "\"four\":{\"<<\":\"not a merge\"}}");
	ASSERT_YAML_ERROR("a:\n  <<: [x]\n",
	    "t.yml:2:7: the value of \"<<\" must be a mapping or a list of mappings");
}

TEST(duplicate_keys_keep_the_last)
{
	ASSERT_YAML("a: 1\nb: 2\na: 3\n", "{\"b\":\"2\",\"a\":\"3\"}");
}

TEST(documents)
{
	ASSERT_YAML("", "null");
	ASSERT_YAML("# only a comment\n", "null");
	ASSERT_YAML("%YAML 1.1\n---\na: 1\n...\n", "{\"a\":\"1\"}");
	ASSERT_YAML("\xef\xbb\xbf"
		    "a: b\r\nc: d\r\n",
	    "{\"a\":\"b\",\"c\":\"d\"}");
	ASSERT_YAML_ERROR(
	    "a: 1\n---\nb: 2\n", "t.yml:2:1: a second YAML document (only one is read)");
}

/* Errors name the line and column libyaml reports, 1-based. */
TEST(errors_name_line_and_column)
{
	char *e;

	ASSERT_YAML_ERROR("a:\n  - x\n  y: 1\n",
	    "t.yml:3:3: did not find expected '-' indicator (while parsing a block "
	    "collection at 2:3)");
	ASSERT_YAML_ERROR("a: 'open\n",
	    "t.yml:2:1: found unexpected end of stream (while scanning a quoted "
	    "scalar at 1:4)");
	ASSERT_YAML_ERROR(
	    "a: b: c\n", "t.yml:1:5: mapping values are not allowed in this context");
	ASSERT_YAML_ERROR("a:\n\tb: 1\n",
	    "t.yml:2:1: found character that cannot start any token (while "
	    "scanning for the next token at 2:1)");
	ASSERT_YAML_ERROR("a: [1, 2\n",
	    "t.yml:2:1: did not find expected ',' or ']' (while parsing a flow "
	    "sequence at 1:4)");
	ASSERT_YAML_ERROR(
	    "a: *nope\n", "t.yml:1:4: alias *nope: no anchor &nope before it");
	ASSERT_YAML_ERROR("? [a]\n: b\n", "t.yml:1:3: a mapping key must be a scalar");
	ASSERT_YAML_ERROR(
	    "s: &s [x]\n*s : y\n", "t.yml:2:1: a mapping key must be a scalar");
	/* An anchor is not its own alias (that would be a cycle). */
	ASSERT_YAML_ERROR("a: &a [*a]\n", "t.yml:1:8: alias *a: no anchor &a before it");
	ASSERT_YAML_ERROR(
	    "a: \"x\\0y\"\n", "t.yml:1:4: a NUL character in a scalar is not supported");
	/* Reader errors: libyaml gives a byte offset, made a position here. */
	e = yaml_error("a: b\nc: \xe9t\xe9\n", 12);
	ASSERT_STR_EQ(e, "t.yml:2:5: invalid trailing UTF-8 octet");
	free(e);
	e = yaml_error("a: b\0c", 6);
	ASSERT_STR_CONTAINS(e, "t.yml:1:5: control characters are not allowed");
	free(e);
}

/* Aliases of aliases grow exponentially ("billion laughs"): refused at
 * COMPOSE_YAML_MAX_NODES. */
TEST(alias_expansion_is_bounded)
{
	char *text, *e, *prev;
	int i;

	text = xstrdup("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
	for (i = 1; i < 10; i++) {
		prev = text;
		text = xasprintf("%sa%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, "
				 "*a%d, *a%d, *a%d]\n",
		    prev, i, i, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1,
		    i - 1, i - 1);
		free(prev);
	}
	e = yaml_error(text, strlen(text));
	ASSERT_STR_CONTAINS(e, "nodes (aliases count as copies)");
	free(e);
	free(text);
}

TEST(nesting_is_bounded)
{
	char *text = xmalloc(2 * COMPOSE_YAML_MAX_DEPTH + 8), *e, *ok;
	int i;

	for (i = 0; i < COMPOSE_YAML_MAX_DEPTH; i++)
		text[i] = '[';
	for (i = 0; i < COMPOSE_YAML_MAX_DEPTH; i++)
		text[COMPOSE_YAML_MAX_DEPTH + i] = ']';
	text[2 * COMPOSE_YAML_MAX_DEPTH] = '\0';
	ok = yaml_json(text);
	ASSERT_INT_EQ((int)strlen(ok), 2 * COMPOSE_YAML_MAX_DEPTH);
	free(ok);
	memmove(text + 1, text, strlen(text) + 1);
	text[0] = '[';
	strcat(text, "]");
	e = yaml_error(text, strlen(text));
	ASSERT_STR_CONTAINS(e, "nested deeper than 256 levels");
	free(e);
	free(text);
	/* Through an alias too. */
	text = xmalloc(2 * COMPOSE_YAML_MAX_DEPTH + 64);
	strcpy(text, "a: &a [[x]]\nb: ");
	for (i = 0; i < COMPOSE_YAML_MAX_DEPTH - 2; i++)
		strcat(text, "[");
	strcat(text, "*a");
	for (i = 0; i < COMPOSE_YAML_MAX_DEPTH - 2; i++)
		strcat(text, "]");
	e = yaml_error(text, strlen(text));
	ASSERT_STR_CONTAINS(e, "alias *a: nested deeper than 256 levels");
	free(e);
	free(text);
}
