/* test-mount-stale.c - a bind mount of a deleted folder in mountinfo
 * (agent/mount-stale.c). */
#include "test.h"

#include "mount-stale.h"

/* As the kernel wrote it for a container whose /workspaces/app7 was bound
 * from a folder deleted since, and two deleted ones whose names have a
 * space and a backslash: only a target escaped as mountinfo writes it
 * (\040, \134) finds them. */
static const char mountinfo[] =
    "291 290 0:52 / / rw,relatime master:1 - overlay overlay rw\n"
    "356 291 254:0 /home/u/rdev/workspaces/app7-1//deleted /workspaces/app7 "
    "rw,relatime - ext4 /dev/vda rw\n"
    "357 291 254:0 /home/u/my\\040app//deleted /workspaces/my\\040app "
    "rw,relatime - ext4 /dev/vda rw\n"
    "359 291 254:0 /home/u/b\\134s//deleted /workspaces/b\\134s rw - ext4 "
    "/dev/vda rw\n"
    "358 291 254:0 /home/u/other /workspaces/app7-x rw - ext4 /dev/vda rw\n";

TEST(deleted)
{
	ASSERT_INT_EQ(mount_stale_in_mountinfo(mountinfo, "/workspaces/app7"), 1);
	/* (unescaped, they would match no mount point: 0) */
	ASSERT_INT_EQ(mount_stale_in_mountinfo(mountinfo, "/workspaces/my app"), 1);
	ASSERT_INT_EQ(mount_stale_in_mountinfo(mountinfo, "/workspaces/b\\s"), 1);
}

TEST(present)
{
	/* (a name with the text \040 in it is not the one with a space:
	 * escaped, its backslash is \134) */
	ASSERT_INT_EQ(mount_stale_in_mountinfo(mountinfo, "/workspaces/my\\040app"), 0);
	/* (a longer mount point that begins with the target's) */
	ASSERT_INT_EQ(mount_stale_in_mountinfo(mountinfo, "/workspaces/app7-x"), 0);
	ASSERT_INT_EQ(mount_stale_in_mountinfo(mountinfo, "/workspaces/none"), 0);
	ASSERT_INT_EQ(mount_stale_in_mountinfo("", "/workspaces/app7"), 0);
}

TEST(last_mount_counts)
{
	/* (a mount over the deleted one hides it) */
	const char *text = "1 0 254:0 /a//deleted /w rw - ext4 /dev/vda rw\n"
			   "2 0 254:0 /b /w rw - ext4 /dev/vda rw";

	ASSERT_INT_EQ(mount_stale_in_mountinfo(text, "/w"), 0);
}
