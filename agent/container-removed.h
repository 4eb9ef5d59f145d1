/* container-removed.h - what the agent keeps per container in its state
 * folder goes when rdev removes that container (`down`, or `up` replacing
 * it): the background lifecycle's record, log and lock
 * (lifecycle_bg_removed()), the idle watch's limit and lock
 * (idle_watch_removed()) and the userEnvProbe cache (env-probe.h), which
 * holds the remote user's probed environment. A container removed by other
 * means (docker rm) leaves them until a later rdev removal of the same id,
 * which never comes: they are small, 0600, and named by the container's id.
 * So does a probe cache an `exec` that raced the removal writes after it
 * (the probe ran to its end just before the container went).
 */
#ifndef RDEV_CONTAINER_REMOVED_H
#define RDEV_CONTAINER_REMOVED_H

void container_removed(const char *container_id);

#endif
