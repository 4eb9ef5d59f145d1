/* relay-exec-user.c - who an exec session's command runs as: the user and
 * groups of a Docker user spec ("user", "uid", "user:group", "uid:gid"),
 * read from /etc/passwd and /etc/group the way runc reads them, without NSS
 * (relay-exec-internal.h). */
#include "relay-exec-internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
x_number(const char *s, unsigned long *v)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*v = strtoul(s, &end, 10);
	return *end == '\0' && errno == 0 && *v <= 0x7fffffffUL ? 0 : -1;
}

/* Split a colon-separated line into at most n fields in place; returns how
 * many. */
static int
x_fields(char *line, char **f, int n)
{
	int i = 0;

	line[strcspn(line, "\n")] = '\0';
	while (i < n) {
		f[i++] = line;
		if ((line = strchr(line, ':')) == NULL)
			break;
		*line++ = '\0';
	}
	return i;
}

/* Find the passwd entry by name (or by uid when by_uid): 1 found, 0 not. */
static int
x_passwd(const char *name, int by_uid, unsigned long uid, struct xuser *u)
{
	char line[4096], *f[7];
	unsigned long vu, vg;
	FILE *fp = fopen("/etc/passwd", "re");
	int found = 0;

	if (fp == NULL)
		return 0;
	while (!found && fgets(line, sizeof line, fp) != NULL) {
		if (x_fields(line, f, 7) < 7 || x_number(f[2], &vu) != 0 ||
		    x_number(f[3], &vg) != 0)
			continue;
		if ((by_uid ? vu != uid : strcmp(f[0], name) != 0) ||
		    strlen(f[0]) >= sizeof u->name) /* (no user name is that long) */
			continue;
		u->uid = (uid_t)vu;
		u->gid = (gid_t)vg;
		snprintf(u->home, sizeof u->home, "%s", f[5]);
		memcpy(u->name, f[0], strlen(f[0]) + 1);
		found = 1;
	}
	fclose(fp);
	return found;
}

static void
x_add_group(struct xuser *u, gid_t g)
{
	for (int i = 0; i < u->ngroups; i++)
		if (u->groups[i] == g)
			return;
	if (u->ngroups < X_GROUPS_MAX)
		u->groups[u->ngroups++] = g;
}

/* Look group up by name (1 and *gid), and add to u's groups every group
 * listing u->name as a member (when name is NULL). */
static int
x_groups(const char *group, gid_t *gid, struct xuser *u)
{
	char line[65536], *f[4], *m, *save;
	unsigned long vg;
	FILE *fp = fopen("/etc/group", "re");
	int found = 0;

	if (fp == NULL)
		return 0;
	while (fgets(line, sizeof line, fp) != NULL) {
		if (x_fields(line, f, 4) < 4 || x_number(f[2], &vg) != 0)
			continue;
		if (group != NULL) {
			if (strcmp(f[0], group) == 0) {
				*gid = (gid_t)vg;
				found = 1;
				break;
			}
			continue;
		}
		for (m = strtok_r(f[3], ",", &save); m != NULL;
		     m = strtok_r(NULL, ",", &save))
			if (u->name[0] != '\0' && strcmp(m, u->name) == 0)
				x_add_group(u, (gid_t)vg);
	}
	fclose(fp);
	return found;
}

/* "user", "uid", "user:group", "uid:gid" or "" (root), as Docker takes it. */
int
x_user(const char *spec, struct xuser *u, char *err, size_t errlen)
{
	char us[512], *gs;
	unsigned long v;
	gid_t g;

	memset(u, 0, sizeof *u);
	snprintf(u->home, sizeof u->home, "/");
	snprintf(us, sizeof us, "%s", spec != NULL && *spec != '\0' ? spec : "0");
	if ((gs = strchr(us, ':')) != NULL)
		*gs++ = '\0';
	if (x_number(us, &v) == 0) {
		if (!x_passwd(NULL, 1, v, u)) {
			u->uid = (uid_t)v;
			u->gid = 0;
		}
	} else if (!x_passwd(us, 0, 0, u)) {
		snprintf(err, errlen,
		    "unable to find user %s: no matching entries in passwd "
		    "file",
		    us);
		return -1;
	}
	if (gs != NULL && *gs != '\0') {
		if (x_number(gs, &v) == 0)
			u->gid = (gid_t)v;
		else if (x_groups(gs, &g, u))
			u->gid = g;
		else {
			snprintf(err, errlen,
			    "unable to find group %s: no matching entries in "
			    "group file",
			    gs);
			return -1;
		}
	}
	x_add_group(u, u->gid);
	if (gs == NULL)
		x_groups(NULL, NULL, u);
	return 0;
}
