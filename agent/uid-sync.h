/* uid-sync.h - updateRemoteUserUID: an image in which the remote user has the
 * workspace owner's UID and GID.
 *
 * Like the reference CLI, rdev builds a small image derived from the dev
 * container's image. Unlike it, a UID or GID already taken by another user or
 * group in the image is not a reason to give up: that user or group is given
 * the remote user's old UID or GID (a swap). The home directory's ownership is
 * fixed. The build goes through `docker build` (argv, no shell), so Docker's
 * build cache makes a second `up` cheap.
 */
#ifndef RDEV_UID_SYNC_H
#define RDEV_UID_SYNC_H

#include <sys/types.h>

struct progress;

/* Whether to sync: the user is named, not root/0, the owner is not root, and
 * updateRemoteUserUID was not turned off. */
int uid_sync_wanted(const char *user, uid_t owner_uid, int update_remote_user_uid);

/* The tag of the derived image (deterministic). New string, caller frees. */
char *uid_sync_image_tag(const char *base_image, const char *user, uid_t uid, gid_t gid);

/* Build the derived image of base_image where user gets uid:gid; image_user
 * is the USER the final image keeps (the base image's Config.User, may be
 * NULL or ""). The build's output is not shown; it runs again once when
 * Docker's build cache lost an image during it, and p (may be NULL) gets the
 * line saying so (build-run.h). Returns 0 and *image (new string: the tag)
 * or -1 with *cause (including the build's last output lines). A user name
 * that is not a plain POSIX name is refused. */
int uid_sync_build(const char *base_image, const char *user, const char *image_user,
    uid_t uid, gid_t gid, const struct progress *p, char **image, char **cause);

#endif
