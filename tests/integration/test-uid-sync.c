/* test-uid-sync.c - updateRemoteUserUID images on the real Docker engine. */
#include "test.h"

#include <unistd.h>

#include "rig.h"
#include "spawn.h"
#include "uid-sync.h"
#include "xmalloc.h"

/* stdout of `docker run --rm IMAGE ARGS...`, trimmed; caller frees. */
static char *
run_in(const char *image, const char *cmd)
{
	const char *argv[] = { "docker", "run", "--rm", "--user", "root", image, "sh",
		"-c", cmd, NULL };
	struct spawn_result res;
	char *out;

	if (spawn_run(argv, NULL, &res, NULL) != 0 || spawn_result_status(&res) != 0) {
		fprintf(
		    stderr, "docker run failed: %s\n", res.err != NULL ? res.err : "");
		spawn_result_free(&res);
		return xstrdup("(failed)");
	}
	out = xstrdup(res.out);
	out[strcspn(out, "\n")] = '\0';
	spawn_result_free(&res);
	return out;
}

static void
remove_image(const char *tag)
{
	/* (--no-prune: its untagged parents are the build cache's steps,
	 * which other tests' builds FROM the same image may be using) */
	const char *argv[] = { "docker", "image", "rm", "-f", "--no-prune", tag, NULL };
	struct spawn_result res;

	if (spawn_run(argv, NULL, &res, NULL) == 0)
		spawn_result_free(&res);
}

TEST(wanted_only_for_non_root_users_and_owners)
{
	ASSERT_TRUE(uid_sync_wanted("dev", 1001, 1));
	ASSERT_FALSE(uid_sync_wanted("dev", 1001, 0));
	ASSERT_FALSE(uid_sync_wanted("root", 1001, 1));
	ASSERT_FALSE(uid_sync_wanted("0", 1001, 1));
	ASSERT_FALSE(uid_sync_wanted("dev", 0, 1));
	ASSERT_FALSE(uid_sync_wanted(NULL, 1001, 1));
}

TEST(tag_is_a_valid_lowercase_reference)
{
	char *tag = uid_sync_image_tag("Registry:5000/Team/App:Latest", "dev", 1234, 99);

	ASSERT_STR_EQ(tag, "rdev-uid/registry-5000-team-app-latest:dev-1234-99");
	free(tag);
}

/* A UID for the images of this process (they are named after it; another
 * test may make and remove one of the same UIDs meanwhile). */
static uid_t
own_uid(void)
{
	return 20000 + (uid_t)getpid() % 40000;
}

TEST(user_gets_new_uid_gid_and_home_ownership)
{
	char *image = NULL, *cause = NULL, *got, want[128];
	unsigned u = (unsigned)own_uid();

	rig_docker();
	if (uid_sync_build(RIG_DEV_IMAGE, "dev", "", u, u + 1, NULL, &image, &cause) != 0)
		TEST_FAIL("uid_sync_build: %s", cause);
	got = run_in(image,
	    "echo $(id -u dev):$(id -g dev):$(stat -c %u:%g /home/dev):$(getent group "
	    "dev | cut -d: -f3)");
	snprintf(want, sizeof want, "%u:%u:%u:%u:%u", u, u + 1, u, u + 1, u + 1);
	ASSERT_STR_EQ(got, want);
	free(got);
	remove_image(image);
	free(image);
}

TEST(taken_uid_and_gid_are_swapped_not_given_up)
{
	char *image = NULL, *cause = NULL, *got;

	rig_docker();
	/* UID 1 and GID 1 belong to daemon in Debian. */
	if (uid_sync_build(RIG_DEV_IMAGE, "dev", "dev", 1, 1, NULL, &image, &cause) != 0)
		TEST_FAIL("uid_sync_build: %s", cause);
	got = run_in(image,
	    "echo $(id -u dev):$(id -g dev):$(id -u daemon):$(getent group daemon | cut "
	    "-d: -f3):$(getent group dev | cut -d: -f3)");
	ASSERT_STR_EQ(got, "1:1:1000:1000:1");
	free(got);
	remove_image(image);
	free(image);
}

TEST(works_on_busybox_and_unknown_user_is_left_alone)
{
	char *image = NULL, *cause = NULL, *got;

	rig_docker();
	if (uid_sync_build(RIG_BUSYBOX, "nobody-here", "", own_uid(), own_uid(), NULL,
		&image, &cause) != 0)
		TEST_FAIL("uid_sync_build: %s", cause);
	got = run_in(image, "grep -c . /etc/passwd");
	ASSERT_STR_EQ(got, "1");
	free(got);
	remove_image(image);
	free(image);
}

TEST(hostile_user_name_is_refused)
{
	char *image = NULL, *cause = NULL;

	ASSERT_INT_EQ(uid_sync_build(
			  RIG_DEV_IMAGE, "dev/;rm -rf /", "", 1, 1, NULL, &image, &cause),
	    -1);
	ASSERT_STR_CONTAINS(cause, "is not a user name");
	free(cause);
}
