/* test-forward-spec.c - unit tests for common/forward-spec.c */
#include "test.h"

#include <stdlib.h>

#include "forward-spec.h"

/* Parse text, expecting success. */
static void
parse_ok(const char *text, struct forward_spec *s)
{
	char *cause = NULL;

	if (forward_spec_parse(text, s, &cause) != 0)
		TEST_FAIL("%s: %s", text, cause);
}

/* Parse text, expecting failure; returns the cause (caller frees). */
static char *
parse_bad(const char *text)
{
	struct forward_spec s;
	char *cause = NULL;

	if (forward_spec_parse(text, &s, &cause) == 0)
		TEST_FAIL("%s: parsed", text);
	ASSERT_NOT_NULL(cause);
	return cause;
}

TEST(the_four_forms)
{
	struct forward_spec s;

	parse_ok("3000", &s);
	ASSERT_INT_EQ(s.port, 3000);
	ASSERT_INT_EQ(s.local_port, 0);
	ASSERT_NULL(s.service);
	forward_spec_clear(&s);
	parse_ok("8080:3000", &s);
	ASSERT_INT_EQ(s.local_port, 8080);
	ASSERT_INT_EQ(s.port, 3000);
	ASSERT_NULL(s.service);
	forward_spec_clear(&s);
	parse_ok("db:5432", &s);
	ASSERT_STR_EQ(s.service, "db");
	ASSERT_INT_EQ(s.port, 5432);
	ASSERT_INT_EQ(s.local_port, 0);
	forward_spec_clear(&s);
	parse_ok("15432:db:5432", &s);
	ASSERT_INT_EQ(s.local_port, 15432);
	ASSERT_STR_EQ(s.service, "db");
	ASSERT_INT_EQ(s.port, 5432);
	forward_spec_clear(&s);
}

TEST(bad_specs_name_the_spec)
{
	const char *bad[] = { "", "0", "65536", "-1", "x", "3000:", ":3000", "1:2:3:4",
		"99999:80", "80:99999", "3000 ", "+80", NULL };
	char *cause;

	for (int i = 0; bad[i] != NULL; i++) {
		cause = parse_bad(bad[i]);
		ASSERT_STR_CONTAINS(cause, "forward spec");
		free(cause);
	}
}

TEST(spec_string)
{
	char *s = forward_spec_string(8080, NULL, 3000);

	ASSERT_STR_EQ(s, "8080:3000");
	free(s);
	s = forward_spec_string(15432, "db", 5432);
	ASSERT_STR_EQ(s, "15432:db:5432");
	free(s);
}

TEST(port_attributes_by_port_range_and_other)
{
	cJSON *pa = cJSON_Parse("{\"3000\":{\"label\":\"web\"},\"9000-9010\":{\"label\":"
				"\"range\"},\"x\":{}}");
	cJSON *other = cJSON_Parse("{\"label\":\"other\"}");
	const cJSON *a;

	a = forward_port_attributes(pa, other, 3000);
	ASSERT_STR_EQ(cJSON_GetObjectItemCaseSensitive(a, "label")->valuestring, "web");
	a = forward_port_attributes(pa, other, 9005);
	ASSERT_STR_EQ(cJSON_GetObjectItemCaseSensitive(a, "label")->valuestring, "range");
	a = forward_port_attributes(pa, other, 9011);
	ASSERT_STR_EQ(cJSON_GetObjectItemCaseSensitive(a, "label")->valuestring, "other");
	ASSERT_NULL(forward_port_attributes(pa, NULL, 1));
	ASSERT_NULL(forward_port_attributes(NULL, NULL, 1));
	cJSON_Delete(pa);
	cJSON_Delete(other);
}
