/* test-target.c - unit tests for common/target.c */
#include "test.h"

#include "target.h"

TEST(local_and_remote_forms)
{
	ASSERT_FALSE(target_is_remote("."));
	ASSERT_FALSE(target_is_remote("./app"));
	ASSERT_FALSE(target_is_remote("/abs/path:with-colon"));
	ASSERT_FALSE(target_is_remote("app"));
	ASSERT_TRUE(target_is_remote("buildbox:~/src/app"));
	ASSERT_TRUE(target_is_remote("me@buildbox:2222:/src"));
	ASSERT_TRUE(target_is_remote("ssh://me@buildbox:22/src"));
	ASSERT_TRUE(target_is_remote("@team"));
}

TEST(existing_local_folder_with_colon_is_local)
{
	ASSERT_FALSE(target_is_remote("/tmp"));
	ASSERT_INT_EQ(system("mkdir -p rdev-test-a:b"), 0);
	ASSERT_FALSE(target_is_remote("rdev-test-a:b"));
	ASSERT_INT_EQ(system("rmdir rdev-test-a:b"), 0);
}
