/* admission.c - whether this host takes one more dev container
 * (admission.h). */
#include "admission.h"

#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "host-policy.h"
#include "host-usage.h"
#include "placement.h"
#include "xmalloc.h"

/* This process's login name (new). */
static char *
admission_user_name(void)
{
	struct passwd *pw = getpwuid(getuid());

	return pw != NULL ? xstrdup(pw->pw_name) : xasprintf("%u", (unsigned)getuid());
}

int
admission_user(const struct host_policy *p, char **cause)
{
	char *me;

	if (p->allowed_users == NULL)
		return 0;
	me = admission_user_name();
	if (host_policy_allows_user(p, me)) {
		free(me);
		return 0;
	}
	error_set(cause,
	    "user %s may not create dev containers here (the host policy's "
	    "allowedUsers, %s)",
	    me, p->path);
	free(me);
	return -1;
}

/* Open (making it if needed) the lock file of hostId, shared by every user:
 * /tmp/rdev-admission-HOSTID.lock, 0666. Opened without O_CREAT when it
 * exists: Linux's protected_regular refuses O_CREAT on another user's file
 * in /tmp. fd, or -1 with *cause. */
static int
admission_lock_open(const char *host_id, char **cause)
{
	char *path, *c;
	int fd, tries;

	path = xasprintf("/tmp/rdev-admission-%s.lock", host_id);
	for (c = path + strlen("/tmp/"); *c != '\0'; c++) {
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
			(*c >= '0' && *c <= '9') || strchr("._-", *c) != NULL))
			*c = '_';
	}
	for (tries = 0; tries < 3; tries++) {
		if ((fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW)) >= 0)
			break;
		if (errno != ENOENT)
			break;
		if ((fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
			 0666)) >= 0) {
			fchmod(fd, 0666); /* (whatever the umask) */
			break;
		}
		if (errno != EEXIST)
			break;
	}
	if (fd < 0)
		error_set_errno(cause, errno, "host %s: cannot open %s", host_id, path);
	free(path);
	return fd;
}

/* Does a new container of req fit, with the lock held? 0, or
 * ADMISSION_REFUSED or -1 (could not tell) with *cause. */
static int
admission_check(
    const struct host_policy *p, struct docker *d, const cJSON *merged, char **cause)
{
	struct host_usage u;
	struct placement_req req;
	cJSON *facts;
	char uid[32], *why, *me;
	int owned;

	if (host_usage_read(d, p, &u, cause) != 0)
		return -1;
	snprintf(uid, sizeof uid, "%u", (unsigned)getuid());
	owned = host_usage_owned(&u, uid);
	if (p->max_envs_per_user > 0 && owned >= p->max_envs_per_user) {
		me = admission_user_name();
		error_set(cause,
		    "%s has %d running dev container%s here, as many as the host "
		    "policy allows (maxEnvironmentsPerUser %ld); stop one first",
		    me, owned, owned == 1 ? "" : "s", p->max_envs_per_user);
		free(me);
		host_usage_clear(&u);
		return ADMISSION_REFUSED;
	}
	facts = host_usage_facts(p, &u);
	host_usage_clear(&u);
	cJSON_AddStringToObject(facts, "state", "up");
	placement_req_from_json(
	    cJSON_GetObjectItemCaseSensitive(merged, "hostRequirements"), &req);
	why = placement_misfit(facts, &req);
	cJSON_Delete(facts);
	if (why == NULL)
		return 0;
	error_set(cause, "no room for this dev container here: %s", why);
	free(why);
	return ADMISSION_REFUSED;
}

int
admission_enter(const struct host_policy *p, struct docker *d, const cJSON *merged,
    int *lock, char **cause)
{
	int fd, rc;

	*lock = -1;
	if ((fd = admission_lock_open(p->host_id, cause)) < 0)
		return -1;
	while (flock(fd, LOCK_EX) != 0) {
		if (errno != EINTR) {
			error_set_errno(
			    cause, errno, "host %s: admission lock", p->host_id);
			close(fd);
			return -1;
		}
	}
	if ((rc = admission_check(p, d, merged, cause)) != 0) {
		close(fd);
		return rc;
	}
	*lock = fd;
	return 0;
}

void
admission_leave(int lock)
{
	if (lock >= 0)
		close(lock);
}
