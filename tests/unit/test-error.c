/* test-error.c - unit tests for common/error.c and common/log.c */
#include "test.h"

#include <errno.h>

#include "error.h"
#include "log.h"

TEST(set_prefix_and_errno)
{
	char *cause = NULL;

	ASSERT_INT_EQ(error_set(&cause, "property \"%s\" is wrong", "image"), -1);
	ASSERT_STR_EQ(cause, "property \"image\" is wrong");
	ASSERT_INT_EQ(error_prefix(&cause, "%s:%d:%d", "devcontainer.json", 3, 5), -1);
	ASSERT_STR_EQ(cause, "devcontainer.json:3:5: property \"image\" is wrong");
	free(cause);
	ASSERT_INT_EQ(error_set_errno(&cause, ENOENT, "%s", "/x"), -1);
	ASSERT_STR_EQ(cause, "/x: No such file or directory");
	free(cause);
	/* a NULL cause pointer is allowed */
	ASSERT_INT_EQ(error_set(NULL, "ignored"), -1);
}

TEST(log_levels_raise_and_saturate)
{
	log_init("test", LOG_WARN);
	ASSERT_INT_EQ(log_get_level(), LOG_WARN);
	log_raise_level();
	ASSERT_INT_EQ(log_get_level(), LOG_INFO);
	log_raise_level();
	log_raise_level();
	ASSERT_INT_EQ(log_get_level(), LOG_DEBUG);
	log_set_level(LOG_ERROR);
	ASSERT_INT_EQ(log_get_level(), LOG_ERROR);
}
