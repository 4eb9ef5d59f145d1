/* owner.c - whose a dev container is (owner.h). */
#include "owner.h"

#include <sys/stat.h>

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "path.h"
#include "xmalloc.h"

/* labels[name] as a string, or "". */
static const char *
owner_label(const cJSON *labels, const char *name)
{
	const char *v =
	    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(labels, name));

	return v != NULL ? v : "";
}

int
owner_is(const cJSON *labels, uid_t uid)
{
	const char *owner = owner_label(labels, OWNER_UID_LABEL), *folder;
	char want[32];
	struct stat st;

	if (*owner != '\0') {
		snprintf(want, sizeof want, "%u", (unsigned)uid);
		return strcmp(owner, want) == 0;
	}
	/* (a Compose service's container without rdev's labels, made before
	 * they were put on every service: its project's directory) */
	folder = owner_label(labels, "devcontainer.local_folder");
	if (*folder == '\0')
		folder = owner_label(labels, OWNER_COMPOSE_DIR_LABEL);
	return *folder == '/' && stat(folder, &st) == 0 && st.st_uid == uid;
}

/* The login name of uid, or its number. New string. */
static char *
owner_user_name(uid_t uid)
{
	struct passwd *pw = getpwuid(uid);

	return pw != NULL ? xstrdup(pw->pw_name) : xasprintf("%u", (unsigned)uid);
}

/* owner_check_labels()'s refusal of a container without owner labels
 * (another tool's, an older rdev's): said by what its folder
 * (devcontainer.local_folder, else its Compose project directory) is, as
 * owner_is() read it: none, not absolute, not readable, or another's. */
static void
owner_check_unlabelled(
    const cJSON *labels, const char *thing, const char *me, char **cause)
{
	const char *path = owner_label(labels, "devcontainer.local_folder");
	const char *kind = "folder";
	struct stat st;

	if (*path == '\0') {
		path = owner_label(labels, OWNER_COMPOSE_DIR_LABEL);
		kind = "Compose project directory";
	}
	if (*path == '\0')
		error_set(cause,
		    "%s has no owner labels and no folder label (made by another "
		    "tool): rdev does not use or change an environment it cannot "
		    "tell is yours",
		    thing);
	else if (*path != '/')
		/* (not stat'ed: the agent's working directory is no one's) */
		error_set(cause,
		    "%s has no owner labels (made by another tool or an older "
		    "rdev), and its %s %s is not an absolute path: rdev does not "
		    "use or change an environment it cannot tell is yours",
		    thing, kind, path);
	else if (stat(path, &st) != 0)
		/* (said by what was found: whose it is is not known) */
		error_set(cause,
		    "%s has no owner labels (made by another tool or an older "
		    "rdev), and its %s %s cannot be read (%s): rdev does not use "
		    "or change an environment it cannot tell is yours",
		    thing, kind, path, strerror(errno));
	else
		error_set(cause,
		    "%s has no owner labels (made by another tool or an older "
		    "rdev), and its %s %s is not yours (%s) but uid %u's: rdev "
		    "does not use or change another user's environment",
		    thing, kind, path, me, (unsigned)st.st_uid);
}

/* owner_check() of a container's labels. what: how the refusal names a
 * container that is not a dev container (no devcontainer.local_folder), such
 * as another service of a Compose project; NULL: "the dev container of this
 * workspace". */
static int
owner_check_labels(const cJSON *labels, const char *what, char **cause)
{
	const char *name, *uid, *folder;
	char *me, *thing;

	if (owner_is(labels, getuid()))
		return 0;
	name = owner_label(labels, OWNER_NAME_LABEL);
	uid = owner_label(labels, OWNER_UID_LABEL);
	folder = owner_label(labels, "devcontainer.local_folder");
	me = owner_user_name(getuid());
	if (*folder != '\0')
		thing = xasprintf("the dev container of %s", folder);
	else if (what != NULL)
		thing = xstrdup(what);
	else
		thing = xstrdup("the dev container of this workspace");
	if (*uid != '\0' && *name != '\0' && strcmp(name, me) == 0)
		/* (the same name, another uid: an account made again) */
		error_set(cause,
		    "%s belongs to uid %s, not to you (%s, uid %u): it was made "
		    "by an account of your name with another uid (deleted and "
		    "made again since?): rdev does not use or change another "
		    "user's environment",
		    thing, uid, me, (unsigned)getuid());
	else if (*uid != '\0')
		error_set(cause,
		    "%s belongs to %s (uid %s), not to you (%s): "
		    "rdev does not use or change another user's environment",
		    thing, *name != '\0' ? name : uid, uid, me);
	else
		owner_check_unlabelled(labels, thing, me, cause);
	free(thing);
	free(me);
	return -1;
}

int
owner_check(const cJSON *inspect, char **cause)
{
	if (inspect == NULL)
		return 0;
	return owner_check_labels(
	    cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(inspect, "Config"), "Labels"),
	    NULL, cause);
}

int
owner_check_list(const cJSON *list, char **cause)
{
	const cJSON *e, *labels;
	const char *name, *service, *project;
	char *what;
	int rc;

	cJSON_ArrayForEach(e, list) {
		labels = cJSON_GetObjectItemCaseSensitive(e, "Labels");
		name = cJSON_GetStringValue(
		    cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(e, "Names"), 0));
		if (name == NULL)
			name = cJSON_GetStringValue(
			    cJSON_GetObjectItemCaseSensitive(e, "Id"));
		if (name == NULL)
			name = "?";
		name += *name == '/';
		service = owner_label(labels, "com.docker.compose.service");
		project = owner_label(labels, "com.docker.compose.project");
		if (*service != '\0' && *project != '\0')
			what = xasprintf("container %s (service %s of Compose "
					 "project %s)",
			    name, service, project);
		else
			what = xasprintf("container %s", name);
		rc = owner_check_labels(labels, what, cause);
		free(what);
		if (rc != 0)
			return -1;
	}
	return 0;
}

char *
owner_list_other_user(const cJSON *list)
{
	const cJSON *e, *labels;
	const char *name, *uid, *folder;
	struct passwd *pw;
	struct stat st;

	cJSON_ArrayForEach(e, list) {
		labels = cJSON_GetObjectItemCaseSensitive(e, "Labels");
		if (owner_is(labels, getuid()))
			continue;
		name = owner_label(labels, OWNER_NAME_LABEL);
		uid = owner_label(labels, OWNER_UID_LABEL);
		if (*uid != '\0')
			return *name != '\0' ? xasprintf("%s (uid %s)", name, uid)
					     : xasprintf("uid %s", uid);
		/* (no owner labels: its folder's owner, as owner_is found it;
		 * a folder that cannot be read, or gone, is no user's that
		 * rdev knows of) */
		folder = owner_label(labels, "devcontainer.local_folder");
		if (*folder == '\0')
			folder = owner_label(labels, OWNER_COMPOSE_DIR_LABEL);
		if (*folder != '/' || stat(folder, &st) != 0)
			continue;
		pw = getpwuid(st.st_uid);
		return pw != NULL
		    ? xasprintf("%s (uid %u)", pw->pw_name, (unsigned)st.st_uid)
		    : xasprintf("uid %u", (unsigned)st.st_uid);
	}
	return NULL;
}

/* Are a and b the same directory: the same string, or (another spelling: a
 * symlink, a physical path vs $HOME's) the same file? */
static int
owner_same_dir(const char *a, const char *b)
{
	struct stat sa, sb;

	if (strcmp(a, b) == 0)
		return 1;
	return *a != '\0' && *b != '\0' && stat(a, &sa) == 0 && stat(b, &sb) == 0 &&
	    sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* Is dir folder or in it (not a folder whose name has folder's as a
 * prefix): as written, else with symlinks resolved (both must exist)? */
static int
owner_in_folder(const char *dir, const char *folder)
{
	char *rdir, *rfolder;
	int in;

	if (*dir == '\0')
		return 0;
	if (path_within(dir, folder))
		return 1;
	if ((rdir = realpath(dir, NULL)) == NULL)
		return 0;
	if ((rfolder = realpath(folder, NULL)) == NULL) {
		free(rdir);
		return 0;
	}
	in = path_within(rdir, rfolder);
	free(rdir);
	free(rfolder);
	return in;
}

/* The folder of list entry e when it is not workspace folder's
 * (owner_list_other_folder()), or NULL when it is. */
static const char *
owner_entry_other_folder(const cJSON *e, const char *folder, const char *project_dir)
{
	const cJSON *labels = cJSON_GetObjectItemCaseSensitive(e, "Labels");
	const char *f = owner_label(labels, "devcontainer.local_folder");
	const char *dir = owner_label(labels, OWNER_COMPOSE_DIR_LABEL);

	/* (the same project directory: the same compose files, which
	 * several workspaces' configurations may name on purpose) */
	if (project_dir != NULL && owner_same_dir(dir, project_dir))
		return NULL;
	if (*f != '\0')
		return folder == NULL || !owner_same_dir(f, folder) ? f : NULL;
	return folder == NULL || !owner_in_folder(dir, folder) ? dir : NULL;
}

const char *
owner_other_dev_folder(const cJSON *labels, const char *folder, const char *config_file)
{
	const char *f = owner_label(labels, "devcontainer.local_folder");
	const char *file = owner_label(labels, "devcontainer.config_file");

	if (*f == '\0')
		return NULL;
	if (folder == NULL || !owner_same_dir(f, folder))
		return f;
	/* (the same folder, another configuration: .devcontainer/front/ and
	 * .devcontainer/back/, as the id labels tell them apart) */
	return config_file != NULL && *config_file != '\0' && *file != '\0' &&
		!owner_same_dir(file, config_file)
	    ? file
	    : NULL;
}

const char *
owner_list_other_folder(
    const cJSON *list, const char *folder, const char *project_dir, int *is_folder)
{
	const cJSON *e, *o, *labels;
	const char *other, *dir, *f;
	int ignored;

	if (is_folder == NULL)
		is_folder = &ignored;
	cJSON_ArrayForEach(e, list) {
		if ((other = owner_entry_other_folder(e, folder, project_dir)) == NULL)
			continue;
		labels = cJSON_GetObjectItemCaseSensitive(e, "Labels");
		*is_folder = *owner_label(labels, "devcontainer.local_folder") != '\0';
		if (*is_folder || *other == '\0')
			return other;
		/* (a service: its workspace's dev container, when it is
		 * left, names the folder, which `rdev down` takes; when that
		 * folder is this one, the service is this workspace's, made
		 * from compose files it has since moved) */
		dir = owner_label(labels, OWNER_COMPOSE_DIR_LABEL);
		f = NULL;
		cJSON_ArrayForEach(o, list) {
			labels = cJSON_GetObjectItemCaseSensitive(o, "Labels");
			f = owner_label(labels, "devcontainer.local_folder");
			if (*f != '\0' &&
			    owner_same_dir(
				owner_label(labels, OWNER_COMPOSE_DIR_LABEL), dir))
				break;
			f = NULL;
		}
		if (f == NULL)
			return other;
		if (folder == NULL || !owner_same_dir(f, folder)) {
			*is_folder = 1;
			return f;
		}
		*is_folder = 0;
	}
	return NULL;
}

int
owner_list_any_of_folder(const cJSON *list, const char *folder, const char *project_dir)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, list)
		if (owner_entry_other_folder(e, folder, project_dir) == NULL)
			return 1;
	return 0;
}

char *
owner_client_default(void)
{
	char host[256], *user = owner_user_name(getuid()), *out;

	if (gethostname(host, sizeof host) != 0)
		snprintf(host, sizeof host, "localhost");
	host[sizeof host - 1] = '\0';
	out = xasprintf("%s@%s", user, host);
	free(user);
	return out;
}
