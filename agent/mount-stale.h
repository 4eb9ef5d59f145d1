/* mount-stale.h - is a running container's bind mount of the workspace a
 * folder deleted on the host since? A bind mount holds the directory it was
 * made of: after `rm -rf FOLDER` and the folder made again (an upload does),
 * the container still shows the deleted, empty one, and only a new start of
 * the container binds the path anew. The host's kernel says so in the
 * mountinfo of the container's process: the mount's root ends in
 * "//deleted" (read from /proc/PID/mountinfo, which any user may read; no
 * exec, so any image, FROM scratch too). Where Docker runs on another kernel
 * (a VM) the answer is "cannot tell": no.
 */
#ifndef RDEV_MOUNT_STALE_H
#define RDEV_MOUNT_STALE_H

#include <cjson/cJSON.h>

/* In mountinfo text (proc(5)), is the mount at mount point target (as the
 * process sees it, not escaped) one of a deleted directory? The last mount
 * at target counts (it hides those before). 1 or 0. Pure. */
int mount_stale_in_mountinfo(const char *text, const char *target);
/* Is m (an entry of a container inspect's "Mounts") a bind mount whose
 * host path is folder or a folder above it? 1 with *source and *dest (its
 * host path and its path in the container, borrowed from m), else 0. */
int mount_bind_holding(
    const cJSON *m, const char *folder, const char **source, const char **dest);
/* mount_bind_holding() of folder itself: is m a bind mount whose host path
 * is folder (as up mounts a workspace folder, or its git root)? */
int mount_bind_of(
    const cJSON *m, const char *folder, const char **source, const char **dest);
/* The host path of the running container's (its inspect) bind mount of
 * folder, or of a folder above it (a git root mounted), whose directory was
 * deleted since it was mounted; NULL when none is, or when it cannot be told.
 * Borrowed from container. */
const char *mount_stale_workspace(const cJSON *container, const char *folder);

#endif
