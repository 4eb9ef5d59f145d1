/* test-json-get.c - unit tests for common/json-get.c: answers of any shape
 * give a value or an error, never a crash. */
#include "test.h"

#include <cjson/cJSON.h>

#include "json-get.h"

static int
get(const char *text, long min, long max, long *v)
{
	cJSON *o = cJSON_Parse(text);
	int rc = json_get_int(o, "n", min, max, v);

	cJSON_Delete(o);
	return rc;
}

TEST(whole_number_in_range)
{
	long v = -1;

	ASSERT_INT_EQ(get("{\"n\":3}", 0, 10, &v), 0);
	ASSERT_INT_EQ(v, 3);
	ASSERT_INT_EQ(get("{\"n\":0}", 0, 10, &v), 0);
	ASSERT_INT_EQ(v, 0);
}

TEST(absent_wrong_type_fraction_or_out_of_range_is_an_error)
{
	long v = 7;

	ASSERT_INT_EQ(get("{}", 0, 10, &v), -1);
	ASSERT_INT_EQ(get("{\"n\":\"3\"}", 0, 10, &v), -1);
	ASSERT_INT_EQ(get("{\"n\":null}", 0, 10, &v), -1);
	ASSERT_INT_EQ(get("{\"n\":2.5}", 0, 10, &v), -1);
	ASSERT_INT_EQ(get("{\"n\":11}", 0, 10, &v), -1);
	ASSERT_INT_EQ(get("{\"n\":-1}", 0, 10, &v), -1);
	ASSERT_INT_EQ(get("{\"n\":1e300}", 0, 10, &v), -1);
	ASSERT_INT_EQ(get("[1]", 0, 10, &v), -1);
	ASSERT_INT_EQ(v, 7);
	ASSERT_INT_EQ(json_get_int(NULL, "n", 0, 10, &v), -1);
}
