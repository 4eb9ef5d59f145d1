/* admission.h - whether this host takes one more dev container.
 *
 * Placement is done by each user's broker (client side); admission here, on
 * the host, so two brokers placing at once cannot overcommit it: a new
 * container is admitted under a host-wide lock (a file per hostId in /tmp,
 * flock'ed by every user's agent), counting the host's environments
 * (host-usage.h) with the lock held and keeping it until the container
 * exists, so exactly one of two racing `up`s gets the last place. Refused:
 * a user not in the policy's allowedUsers, an owner at the policy's
 * maxEnvironmentsPerUser, requirements beyond what the host offers minus
 * what is reserved (placement.h's reasons).
 */
#ifndef RDEV_ADMISSION_H
#define RDEV_ADMISSION_H

#include <cjson/cJSON.h>

struct docker;
struct host_policy;

/* May this process's user create containers here (allowedUsers)? 0, or -1
 * with *cause. */
int admission_user(const struct host_policy *p, char **cause);
/* admission_enter()'s refusal: the owner at maxEnvironmentsPerUser, or no
 * room for the requirements. Nothing was made: another host may take it
 * (the op's answer says so with "errorCode":"admission-refused"). */
#define ADMISSION_REFUSED (-2)

/* Take the host-wide lock and check that a container with merged's
 * hostRequirements fits (see above). 0 and *lock (pass to
 * admission_leave() once the container exists or was not made), or
 * ADMISSION_REFUSED or -1 (could not tell: the lock, Docker) with *cause
 * (the lock is not held then). */
int admission_enter(const struct host_policy *p, struct docker *d, const cJSON *merged,
    int *lock, char **cause);
/* Let the next one in; -1 is a no-op. */
void admission_leave(int lock);

#endif
