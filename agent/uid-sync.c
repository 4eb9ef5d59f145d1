/* uid-sync.c - the derived image giving the remote user the owner's UID/GID. */
#include "uid-sync.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic-file.h"
#include "build-run.h"
#include "error.h"
#include "spawn.h"
#include "xmalloc.h"

/* Runs inside the image as root: uid-sync.sh USER NEW_UID NEW_GID. POSIX sh
 * with grep, cut and sed only, so it works on busybox and Debian alike. */
static const char uid_sync_script[] =
    "#!/bin/sh\n"
    "set -eu\n"
    "user=$1 new_uid=$2 new_gid=$3\n"
    "re=$(printf '%s' \"$user\" | sed 's/\\./\\\\./g')\n"
    "entry=$(grep \"^$re:\" /etc/passwd || true)\n"
    "if [ -z \"$entry\" ]; then\n"
    "  echo \"rdev: user $user is not in /etc/passwd; UID/GID left as they are\"; exit "
    "0\n"
    "fi\n"
    "old_uid=$(echo \"$entry\" | cut -d: -f3)\n"
    "old_gid=$(echo \"$entry\" | cut -d: -f4)\n"
    "home=$(echo \"$entry\" | cut -d: -f6)\n"
    "if [ \"$old_uid\" = \"$new_uid\" ] && [ \"$old_gid\" = \"$new_gid\" ]; then\n"
    "  echo \"rdev: $user already has UID:GID $new_uid:$new_gid\"; exit 0\n"
    "fi\n"
    "# set_field FILE NAME FIELD VALUE: field 3 or 4 of the entry called NAME\n"
    "set_field() {\n"
    "  n=$(printf '%s' \"$2\" | sed 's/\\./\\\\./g')\n"
    "  if [ \"$3\" = 3 ]; then\n"
    "    sed -i \"s/^\\($n:[^:]*:\\)[^:]*/\\1$4/\" \"$1\"\n"
    "  else\n"
    "    sed -i \"s/^\\($n:[^:]*:[^:]*:\\)[^:]*/\\1$4/\" \"$1\"\n"
    "  fi\n"
    "}\n"
    "names_with() { cut -d: -f1,\"$2\" \"$1\" | grep \":$3\\$\" | cut -d: -f1 || true; "
    "}\n"
    "if [ \"$old_uid\" != \"$new_uid\" ]; then\n"
    "  for other in $(names_with /etc/passwd 3 \"$new_uid\"); do\n"
    "    [ \"$other\" = \"$user\" ] && continue\n"
    "    echo \"rdev: UID $new_uid belongs to $other in the image; $other gets UID "
    "$old_uid\"\n"
    "    set_field /etc/passwd \"$other\" 3 \"$old_uid\"\n"
    "    ohome=$(grep \"^$other:\" /etc/passwd | cut -d: -f6)\n"
    "    [ -n \"$ohome\" ] && [ \"$ohome\" != / ] && [ -d \"$ohome\" ] && chown -R "
    "\"$old_uid\" \"$ohome\"\n"
    "  done\n"
    "  set_field /etc/passwd \"$user\" 3 \"$new_uid\"\n"
    "fi\n"
    "if [ \"$old_gid\" != \"$new_gid\" ]; then\n"
    "  in_old=$(names_with /etc/passwd 4 \"$old_gid\")\n"
    "  in_new=$(names_with /etc/passwd 4 \"$new_gid\")\n"
    "  old_group=$(names_with /etc/group 3 \"$old_gid\" | head -n 1)\n"
    "  for g in $(names_with /etc/group 3 \"$new_gid\"); do\n"
    "    [ \"$g\" = \"$old_group\" ] && continue\n"
    "    echo \"rdev: GID $new_gid belongs to group $g in the image; $g gets GID "
    "$old_gid\"\n"
    "    set_field /etc/group \"$g\" 3 \"$old_gid\"\n"
    "  done\n"
    "  for u in $in_new; do set_field /etc/passwd \"$u\" 4 \"$old_gid\"; done\n"
    "  [ -n \"$old_group\" ] && set_field /etc/group \"$old_group\" 3 \"$new_gid\"\n"
    "  for u in $in_old; do set_field /etc/passwd \"$u\" 4 \"$new_gid\"; done\n"
    "fi\n"
    "echo \"rdev: $user: UID:GID $old_uid:$old_gid -> $new_uid:$new_gid\"\n"
    "if [ -n \"$home\" ] && [ \"$home\" != / ] && [ -d \"$home\" ]; then\n"
    "  chown -R \"$new_uid:$new_gid\" \"$home\"\n"
    "fi\n";

static const char uid_sync_dockerfile[] =
    "ARG BASE_IMAGE\n"
    "FROM $BASE_IMAGE\n"
    "USER root\n"
    "COPY uid-sync.sh /tmp/rdev-uid-sync.sh\n"
    "ARG REMOTE_USER\n"
    "ARG NEW_UID\n"
    "ARG NEW_GID\n"
    "RUN [\"/bin/sh\", \"-c\", \"/bin/sh /tmp/rdev-uid-sync.sh \\\"$REMOTE_USER\\\" "
    "\\\"$NEW_UID\\\" \\\"$NEW_GID\\\" && rm -f /tmp/rdev-uid-sync.sh\"]\n"
    "ARG IMAGE_USER\n"
    "USER $IMAGE_USER\n";

int
uid_sync_wanted(const char *user, uid_t owner_uid, int update_remote_user_uid)
{
	if (!update_remote_user_uid || user == NULL || *user == '\0')
		return 0;
	if (strcmp(user, "root") == 0 || strcmp(user, "0") == 0)
		return 0;
	return owner_uid != 0;
}

/* A plain POSIX user name: what the script may safely put in a sed pattern. */
static int
uid_sync_valid_user(const char *user)
{
	const char *p;

	if (*user == '\0' || *user == '-' || strlen(user) > 64)
		return 0;
	for (p = user; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '.' && *p != '-')
			return 0;
	return 1;
}

char *
uid_sync_image_tag(const char *base_image, const char *user, uid_t uid, gid_t gid)
{
	char *repo = xstrdup(base_image), *p, *tag;
	size_t len;

	for (p = repo; *p != '\0'; p++) {
		*p = (char)tolower((unsigned char)*p);
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '_' && *p != '-')
			*p = '-';
	}
	len = strlen(repo);
	if (len > 80)
		repo[80] = '\0';
	tag = xasprintf("rdev-uid/%s:%s-%u-%u", repo, user, (unsigned)uid, (unsigned)gid);
	free(repo);
	return tag;
}

int
uid_sync_build(const char *base_image, const char *user, const char *image_user,
    uid_t uid, gid_t gid, const struct progress *p, char **image, char **cause)
{
	char dir[] = "/tmp/rdev-uid-sync.XXXXXX", *script = NULL, *tag, *tail;
	char *a_base, *a_user, *a_uid, *a_gid, *a_iuser;
	struct spawn_opts opts = { 0 };
	struct spawn_result res;
	int rc = -1, retried;

	if (!uid_sync_valid_user(user))
		return error_set(cause,
		    "remoteUser \"%s\" is not a user name rdev can "
		    "update (updateRemoteUserUID)",
		    user);
	if (mkdtemp(dir) == NULL)
		return error_set_errno(cause, errno, "cannot create a build directory");
	script = xasprintf("%s/uid-sync.sh", dir);
	if (atomic_file_write(
		script, uid_sync_script, sizeof uid_sync_script - 1, 0755, cause) != 0)
		goto out;
	tag = uid_sync_image_tag(base_image, user, uid, gid);
	a_base = xasprintf("BASE_IMAGE=%s", base_image);
	a_user = xasprintf("REMOTE_USER=%s", user);
	a_uid = xasprintf("NEW_UID=%u", (unsigned)uid);
	a_gid = xasprintf("NEW_GID=%u", (unsigned)gid);
	a_iuser = xasprintf("IMAGE_USER=%s",
	    image_user != NULL && *image_user != '\0' ? image_user : "root");
	{
		const char *argv[] = { "docker", "build", "-t", tag, "-f", "-",
			"--build-arg", a_base, "--build-arg", a_user, "--build-arg",
			a_uid, "--build-arg", a_gid, "--build-arg", a_iuser, dir, NULL };

		opts.stdin_data = uid_sync_dockerfile;
		opts.stdin_len = sizeof uid_sync_dockerfile - 1;
		if (build_run(argv, &opts, p, &res, &retried, cause) == 0) {
			if (spawn_result_status(&res) == 0) {
				*image = tag;
				tag = NULL;
				rc = 0;
			} else {
				tail = spawn_result_tail(&res, 6);
				error_set(cause,
				    "updateRemoteUserUID: docker build of %s "
				    "failed%s:\n%s",
				    tag, build_run_note(retried), tail);
				free(tail);
			}
			spawn_result_free(&res);
		}
	}
	free(tag);
	free(a_base);
	free(a_user);
	free(a_uid);
	free(a_gid);
	free(a_iuser);
out:
	unlink(script);
	rmdir(dir);
	free(script);
	return rc;
}
