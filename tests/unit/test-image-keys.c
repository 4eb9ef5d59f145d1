/* test-image-keys.c - unit tests for agent/image.c's image_dockerfile_keys:
 * the Dockerfile and context of a configuration, one set as the reference
 * picks them, never mixed. */
#include "test.h"

#include <cjson/cJSON.h>

#include "image.h"

struct keys_case {
	const char *name;
	const char *json;
	const char *dockerfile, *context;
	int legacy;
};

static void
keys_check(const void *arg)
{
	const struct keys_case *c = arg;
	cJSON *obj = cJSON_Parse(c->json);
	const char *df = "x", *ctx = "x";
	int legacy = -1;

	ASSERT_NOT_NULL(obj);
	image_dockerfile_keys(obj, &df, &ctx, &legacy);
	if (c->dockerfile == NULL)
		ASSERT_NULL(df);
	else
		ASSERT_STR_EQ(df, c->dockerfile);
	if (c->context == NULL)
		ASSERT_NULL(ctx);
	else
		ASSERT_STR_EQ(ctx, c->context);
	ASSERT_INT_EQ(legacy, c->legacy);
	cJSON_Delete(obj);
}

static const struct keys_case keys_cases[] = {
	{ "build_keys", "{\"build\":{\"dockerfile\":\"D\",\"context\":\"..\"}}", "D",
	    "..", 0 },
	{ "build_without_context", "{\"build\":{\"dockerfile\":\"D\"}}", "D", NULL, 0 },
	{ "legacy_keys", "{\"dockerFile\":\"L\",\"context\":\"..\"}", "L", "..", 1 },
	/* (mixed: the reference's set by whether "dockerFile" is there) */
	{ "build_dockerfile_with_top_level_context",
	    "{\"build\":{\"dockerfile\":\"D\"},\"context\":\"..\"}", "D", NULL, 0 },
	{ "legacy_dockerfile_with_build_context",
	    "{\"dockerFile\":\"L\",\"build\":{\"context\":\"..\"}}", "L", NULL, 1 },
	{ "both_dockerfiles_legacy_wins",
	    "{\"dockerFile\":\"L\",\"build\":{\"dockerfile\":\"D\",\"context\":\"c\"}}",
	    "L", NULL, 1 },
	{ "image_only", "{\"image\":\"x\"}", NULL, NULL, 0 },
};

TEST_CASES(keys_check, keys_cases)
