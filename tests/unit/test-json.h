/* test-json.h - JSON fixtures for unit tests that give their input as JSON
 * text (a Docker list, a merged configuration). */
#ifndef TEST_JSON_H
#define TEST_JSON_H

#include <cjson/cJSON.h>

#include "test.h"

/* text parsed: caller frees with cJSON_Delete(); JSON that does not parse
 * (a typo in the test itself) fails the test. */
static inline cJSON *
test_json(const char *text)
{
	cJSON *j = cJSON_Parse(text);

	if (j == NULL)
		TEST_FAIL("bad JSON in test: %s", text);
	return j;
}

#endif
