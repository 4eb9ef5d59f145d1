/* test-owner.c - whose a container is, and the refusal naming it
 * (agent/owner.c). */
#include "test.h"
#include "test-json.h"

#include <sys/stat.h>

#include <pwd.h>

#include <unistd.h>

#include "owner.h"
#include "xmalloc.h"

/* A's db, another service of the project than the dev container: the refusal
 * names that container, not "the dev container of this workspace". */
TEST(owner_list_names_other_service)
{
	char *text = xasprintf("[{\"Id\":\"c1\",\"Names\":[\"/p-app-1\"],"
			       "\"Labels\":{\"dev.rdev.owner_uid\":\"%u\","
			       "\"devcontainer.local_folder\":\"/w\"}},"
			       "{\"Id\":\"c2\",\"Names\":[\"/p-db-1\"],"
			       "\"Labels\":{\"dev.rdev.owner_uid\":\"%u\","
			       "\"dev.rdev.owner_name\":\"alice\","
			       "\"com.docker.compose.project\":\"p\","
			       "\"com.docker.compose.service\":\"db\"}}]",
	    (unsigned)getuid(), (unsigned)getuid() + 1);
	cJSON *list = test_json(text);
	char *cause = NULL;

	ASSERT_INT_EQ(owner_check_list(list, &cause), -1);
	ASSERT_STR_CONTAINS(cause,
	    "container p-db-1 (service db of Compose project p) belongs to alice "
	    "(uid ");
	ASSERT_STR_CONTAINS(cause, "), not to you (");
	free(cause);
	cJSON_Delete(list);
	free(text);
}

/* A container of uid N named as this user, who has another uid now (the
 * account made again): the refusal says so, not "belongs to ME, not to
 * you (ME)". */
TEST(owner_check_same_name_other_uid)
{
	struct passwd *pw = getpwuid(getuid());
	char *text, *cause = NULL;
	cJSON *list;

	ASSERT_NOT_NULL(pw);
	text = xasprintf("[{\"Id\":\"c1\",\"Names\":[\"/p-app-1\"],"
			 "\"Labels\":{\"dev.rdev.owner_uid\":\"%u\","
			 "\"dev.rdev.owner_name\":\"%s\","
			 "\"devcontainer.local_folder\":\"/w\"}}]",
	    (unsigned)getuid() + 1, pw->pw_name);
	list = test_json(text);
	ASSERT_INT_EQ(owner_check_list(list, &cause), -1);
	ASSERT_STR_CONTAINS(cause, "the dev container of /w belongs to uid ");
	ASSERT_STR_CONTAINS(cause, "an account of your name with another uid");
	free(cause);
	cJSON_Delete(list);
	free(text);
}

/* A container without owner labels (an older rdev's db) is its Compose
 * project directory's owner's; one that cannot be read says so and which. */
TEST(owner_list_project_directory)
{
	char dir[] = "/tmp/test-owner-XXXXXX", *text, *cause = NULL;
	cJSON *list;

	ASSERT_NOT_NULL(mkdtemp(dir));
	text = xasprintf("[{\"Id\":\"c2\",\"Names\":[\"/p-db-1\"],\"Labels\":{"
			 "\"com.docker.compose.project\":\"p\","
			 "\"com.docker.compose.service\":\"db\","
			 "\"com.docker.compose.project.working_dir\":\"%s\"}}]",
	    dir);
	list = test_json(text);
	ASSERT_INT_EQ(owner_check_list(list, &cause), 0);
	cJSON_Delete(list);
	free(text);
	rmdir(dir);
	/* (gone: a moved or removed folder of the same name) */
	text = xasprintf("[{\"Id\":\"c2\",\"Names\":[\"/p-db-1\"],\"Labels\":{"
			 "\"com.docker.compose.project\":\"p\","
			 "\"com.docker.compose.service\":\"db\","
			 "\"com.docker.compose.project.working_dir\":\"%s\"}}]",
	    dir);
	list = test_json(text);
	ASSERT_INT_EQ(owner_check_list(list, &cause), -1);
	ASSERT_STR_CONTAINS(cause,
	    "container p-db-1 (service db of Compose project p) has no owner labels");
	ASSERT_STR_CONTAINS(cause, dir);
	free(cause);
	cJSON_Delete(list);
	free(text);
}

/* The dev container itself is still named by its folder. */
TEST(owner_check_dev_container)
{
	char *text = xasprintf("{\"Config\":{\"Labels\":{"
			       "\"dev.rdev.owner_uid\":\"%u\","
			       "\"dev.rdev.owner_name\":\"alice\","
			       "\"devcontainer.local_folder\":\"/srv/app\"}}}",
	    (unsigned)getuid() + 1);
	cJSON *inspect = test_json(text);
	char *cause = NULL;

	ASSERT_INT_EQ(owner_check(inspect, &cause), -1);
	ASSERT_STR_CONTAINS(
	    cause, "the dev container of /srv/app belongs to alice (uid ");
	free(cause);
	cJSON_Delete(inspect);
	free(text);
	ASSERT_INT_EQ(owner_check(NULL, &cause), 0);
}

/* owner_check() of an inspect whose Config.Labels are labels (JSON): its
 * cause (caller frees). */
static char *
owner_cause(const char *labels)
{
	char *text = xasprintf("{\"Config\":{\"Labels\":%s}}", labels), *cause = NULL;
	cJSON *inspect = test_json(text);

	ASSERT_INT_EQ(owner_check(inspect, &cause), -1);
	cJSON_Delete(inspect);
	free(text);
	return cause;
}

/* A container without owner labels is refused by what its folder is: gone,
 * not absolute (never read against the agent's working directory, which
 * is this user's), another's, or none at all; never "not yours" unread. */
TEST(owner_check_unlabelled_says_what_its_folder_is)
{
	char *cause;

	cause = owner_cause("{\"devcontainer.local_folder\":\"/nonexistent/rdev-w\"}");
	ASSERT_STR_CONTAINS(cause, "its folder /nonexistent/rdev-w cannot be read (");
	ASSERT_STR_CONTAINS(cause, "it cannot tell is yours");
	ASSERT_NULL(strstr(cause, "not yours"));
	free(cause);
	cause = owner_cause("{\"com.docker.compose.project.working_dir\":\".\"}");
	ASSERT_STR_CONTAINS(
	    cause, "its Compose project directory . is not an absolute path");
	ASSERT_NULL(strstr(cause, "but uid"));
	free(cause);
	cause = owner_cause("{\"devcontainer.local_folder\":\"w\"}");
	ASSERT_STR_CONTAINS(cause, "its folder w is not an absolute path");
	free(cause);
	cause = owner_cause("{}");
	ASSERT_STR_CONTAINS(cause, "has no owner labels and no folder label");
	free(cause);
	if (getuid() != 0) {
		cause = owner_cause("{\"devcontainer.local_folder\":\"/\"}");
		ASSERT_STR_CONTAINS(cause, "its folder / is not yours (");
		ASSERT_STR_CONTAINS(cause, ") but uid 0's");
		free(cause);
	}
}

/* Whose workspace each container of a project is: a dev container by its
 * devcontainer.local_folder, another service by its Compose project
 * directory (in the folder, or the first compose file's, outside it). */
TEST(owner_list_other_folder_of_project)
{
	cJSON *list = test_json(
	    "[{\"Id\":\"c1\",\"Labels\":{\"devcontainer.local_folder\":\"/x/app\"}},"
	    "{\"Id\":\"c2\",\"Labels\":{"
	    "\"com.docker.compose.project.working_dir\":\"/x/app/.devcontainer\"}}]");
	cJSON *svc = test_json("[{\"Id\":\"c2\",\"Labels\":{"
			       "\"com.docker.compose.project.working_dir\":"
			       "\"/x/app/.devcontainer\"}}]");
	cJSON *outside =
	    test_json("[{\"Id\":\"c2\",\"Labels\":{"
		      "\"com.docker.compose.project.working_dir\":\"/x\"}}]");
	cJSON *bare = test_json("[{\"Id\":\"c3\",\"Labels\":{}}]");

	ASSERT_NULL(owner_list_other_folder(list, "/x/app", NULL, NULL));
	ASSERT_STR_EQ(owner_list_other_folder(list, "/y/app", NULL, NULL), "/x/app");
	ASSERT_NULL(owner_list_other_folder(svc, "/x/app", NULL, NULL));
	/* (a folder whose name is a prefix of the directory's is not it) */
	ASSERT_STR_EQ(
	    owner_list_other_folder(svc, "/x/ap", NULL, NULL), "/x/app/.devcontainer");
	ASSERT_STR_EQ(owner_list_other_folder(outside, "/x/app", NULL, NULL), "/x");
	ASSERT_NULL(owner_list_other_folder(outside, "/x/app", "/x", NULL));
	ASSERT_STR_EQ(owner_list_other_folder(bare, "/x/app", "/x", NULL), "");
	ASSERT_STR_EQ(owner_list_other_folder(list, NULL, NULL, NULL), "/x/app");
	cJSON_Delete(list);
	cJSON_Delete(svc);
	cJSON_Delete(outside);
	cJSON_Delete(bare);
}

/* A dev container is its own folder's alone, whatever project directory it
 * shares: another's is named, this one's and a service's (no folder label)
 * are not. */
TEST(owner_other_dev_folder_names_other)
{
	cJSON *dev =
	    test_json("{\"devcontainer.local_folder\":\"/s/wa\","
		      "\"com.docker.compose.project.working_dir\":\"/s/stack\"}");
	cJSON *svc =
	    test_json("{\"com.docker.compose.project.working_dir\":\"/s/stack\"}");

	ASSERT_STR_EQ(owner_other_dev_folder(dev, "/s/wb", NULL), "/s/wa");
	ASSERT_NULL(owner_other_dev_folder(dev, "/s/wa", NULL));
	ASSERT_NULL(owner_other_dev_folder(dev, "/s/wa", "/s/wa/.devcontainer.json"));
	ASSERT_STR_EQ(owner_other_dev_folder(dev, NULL, NULL), "/s/wa");
	ASSERT_NULL(owner_other_dev_folder(svc, "/s/wb", NULL));
	ASSERT_NULL(owner_other_dev_folder(NULL, "/s/wb", NULL));
	cJSON_Delete(dev);
	cJSON_Delete(svc);
}

/* One folder, two configurations (.devcontainer/front/ and back/: two
 * workspaces, as their id labels say): the other's dev container is named by
 * its configuration file; this one's, and one whose file is not known, are
 * not another's. */
TEST(owner_other_dev_folder_compares_config_file)
{
	cJSON *back = test_json("{\"devcontainer.local_folder\":\"/s/app\","
				"\"devcontainer.config_file\":"
				"\"/s/app/.devcontainer/back/devcontainer.json\"}");

	ASSERT_STR_EQ(owner_other_dev_folder(
			  back, "/s/app", "/s/app/.devcontainer/front/devcontainer.json"),
	    "/s/app/.devcontainer/back/devcontainer.json");
	ASSERT_NULL(owner_other_dev_folder(
	    back, "/s/app", "/s/app/.devcontainer/back/devcontainer.json"));
	ASSERT_NULL(owner_other_dev_folder(back, "/s/app", NULL));
	ASSERT_STR_EQ(owner_other_dev_folder(back, "/s/other",
			  "/s/app/.devcontainer/back/devcontainer.json"),
	    "/s/app");
	cJSON_Delete(back);
}

/* The other workspace is named by its folder when a container of it says
 * it (the dev container, or, for a service, the dev container of its
 * project directory), else by the project directory, and *is_folder says
 * which; owner_list_any_of_folder() is whether any is this workspace's. */
TEST(owner_list_other_folder_names_folder)
{
	cJSON *svc_dev = test_json(
	    "[{\"Id\":\"c2\",\"Labels\":{"
	    "\"com.docker.compose.project.working_dir\":\"/x/app/.devcontainer\"}},"
	    "{\"Id\":\"c1\",\"Labels\":{\"devcontainer.local_folder\":\"/x/app\","
	    "\"com.docker.compose.project.working_dir\":\"/x/app/.devcontainer\"}}]");
	cJSON *svc = test_json("[{\"Id\":\"c2\",\"Labels\":{"
			       "\"com.docker.compose.project.working_dir\":"
			       "\"/x/app/.devcontainer\"}}]");
	cJSON *moved = test_json(
	    "[{\"Id\":\"c2\",\"Labels\":{"
	    "\"com.docker.compose.project.working_dir\":\"/x/shared/old\"}},"
	    "{\"Id\":\"c1\",\"Labels\":{\"devcontainer.local_folder\":\"/x/app\","
	    "\"com.docker.compose.project.working_dir\":\"/x/shared/old\"}}]");
	int is_folder = -1;

	ASSERT_STR_EQ(
	    owner_list_other_folder(svc_dev, "/y/app", NULL, &is_folder), "/x/app");
	ASSERT_INT_EQ(is_folder, 1);
	ASSERT_STR_EQ(owner_list_other_folder(svc, "/y/app", NULL, &is_folder),
	    "/x/app/.devcontainer");
	ASSERT_INT_EQ(is_folder, 0);
	/* (this folder's own services, from compose files outside it that it
	 * has since moved: /x/shared/old, now /x/shared/new, are its own) */
	ASSERT_NULL(
	    owner_list_other_folder(moved, "/x/app", "/x/shared/new", &is_folder));
	ASSERT_STR_EQ(
	    owner_list_other_folder(moved, "/y/app", "/x/shared/new", &is_folder),
	    "/x/app");
	ASSERT_INT_EQ(is_folder, 1);
	ASSERT_INT_EQ(owner_list_any_of_folder(svc_dev, "/y/app", NULL), 0);
	ASSERT_INT_EQ(owner_list_any_of_folder(svc_dev, "/x/app", NULL), 1);
	ASSERT_INT_EQ(owner_list_any_of_folder(svc, "/y/app", "/x/app/.devcontainer"), 1);
	cJSON_Delete(svc_dev);
	cJSON_Delete(moved);
	cJSON_Delete(svc);
}

/* The same folder under another spelling (a symlink; `host:src/app`, made
 * absolute from the agent's physical cwd, vs `host:~/src/app` from $HOME) is
 * this workspace's: its own project is not refused as another's; and two
 * workspaces whose configurations name the same compose file (the
 * reference's "several dev containers, one docker-compose.yml": its project
 * directory is ours) share its project. */
TEST(owner_list_other_folder_same_folder)
{
	char dir[] = "/tmp/test-owner-XXXXXX";
	char *real, *link, *dc, *json, *other;
	cJSON *list;

	ASSERT_NOT_NULL(mkdtemp(dir));
	real = xasprintf("%s/x/app", dir);
	dc = xasprintf("%s/x/app/.devcontainer", dir);
	link = xasprintf("%s/app", dir);
	other = xasprintf("%s/x", dir);
	ASSERT_INT_EQ(mkdir(other, 0700), 0);
	ASSERT_INT_EQ(mkdir(real, 0700), 0);
	ASSERT_INT_EQ(mkdir(dc, 0700), 0);
	ASSERT_INT_EQ(symlink(real, link), 0);
	json =
	    xasprintf("[{\"Id\":\"c1\",\"Labels\":{\"devcontainer.local_folder\":\"%s\","
		      "\"com.docker.compose.project.working_dir\":\"%s\"}},"
		      "{\"Id\":\"c2\",\"Labels\":{"
		      "\"com.docker.compose.project.working_dir\":\"%s\"}}]",
		real, dc, dc);
	list = test_json(json);
	free(json);
	/* (up via the link: the first compose file's directory is the
	 * link's .devcontainer; stop/down: none) */
	json = xasprintf("%s/.devcontainer", link);
	ASSERT_NULL(owner_list_other_folder(list, link, json, NULL));
	ASSERT_NULL(owner_list_other_folder(list, link, NULL, NULL));
	free(json);
	cJSON_Delete(list);

	/* /x/front and /x/back, each with ../../docker-compose.yml: project
	 * directory /x (other here), service front or back */
	json = xasprintf(
	    "[{\"Id\":\"c1\",\"Labels\":{\"devcontainer.local_folder\":\"%s/front\","
	    "\"com.docker.compose.project.working_dir\":\"%s\"}},"
	    "{\"Id\":\"c2\",\"Labels\":{"
	    "\"com.docker.compose.project.working_dir\":\"%s\"}}]",
	    other, other, other);
	list = test_json(json);
	free(json);
	json = xasprintf("%s/back", other);
	ASSERT_NULL(owner_list_other_folder(list, json, other, NULL));
	/* (a folder of the same name elsewhere is still another's) */
	ASSERT_STR_CONTAINS(
	    owner_list_other_folder(list, "/y/back", "/y", NULL), "/x/front");
	free(json);
	cJSON_Delete(list);

	ASSERT_INT_EQ(unlink(link), 0);
	ASSERT_INT_EQ(rmdir(dc), 0);
	ASSERT_INT_EQ(rmdir(real), 0);
	ASSERT_INT_EQ(rmdir(other), 0);
	ASSERT_INT_EQ(rmdir(dir), 0);
	free(real);
	free(dc);
	free(link);
	free(other);
}

/* The owner a project-name collision names: the first container that is
 * not this user's; none when every one is. */
TEST(owner_list_other_user_names_the_first)
{
	char *text = xasprintf("[{\"Labels\":{\"dev.rdev.owner_uid\":\"%u\"}},"
			       "{\"Labels\":{\"dev.rdev.owner_uid\":\"%u\","
			       "\"dev.rdev.owner_name\":\"alice\"}}]",
	    (unsigned)getuid(), (unsigned)getuid() + 1);
	char *mine = xasprintf(
	    "[{\"Labels\":{\"dev.rdev.owner_uid\":\"%u\"}}]", (unsigned)getuid());
	cJSON *list = test_json(text), *own = test_json(mine);
	char *who = owner_list_other_user(list), *want;

	want = xasprintf("alice (uid %u)", (unsigned)getuid() + 1);
	ASSERT_STR_EQ(who, want);
	ASSERT_TRUE(owner_list_other_user(own) == NULL);
	free(want);
	free(who);
	cJSON_Delete(list);
	cJSON_Delete(own);
	free(text);
	free(mine);
}

/* A container without owner labels (an older rdev's, another tool's) is
 * named by what its folder shows: another uid's folder names that uid; a
 * folder that cannot be read (here: gone) is no user's rdev knows of, not
 * "another user". */
TEST(owner_list_other_user_of_a_leftover_by_its_folder)
{
	cJSON *gone = test_json("[{\"Labels\":{\"com.docker.compose.project.working_"
				"dir\":\"/nonexistent-rdev-test-owner/app\"}}]");
	char dir[] = "/tmp/rdev-test-owner-XXXXXX", *text, *who, *want;
	cJSON *other;

	ASSERT_TRUE(owner_list_other_user(gone) == NULL);
	cJSON_Delete(gone);
	if (getuid() != 0)
		return; /* (the other uid's folder needs chown) */
	ASSERT_NOT_NULL(mkdtemp(dir));
	ASSERT_INT_EQ(chown(dir, 54321, 54321), 0);
	text = xasprintf("[{\"Labels\":{\"com.docker.compose.project.working_dir\":"
			 "\"%s\"}}]",
	    dir);
	other = test_json(text);
	who = owner_list_other_user(other);
	want = xasprintf("uid %u", 54321u);
	ASSERT_STR_CONTAINS(who, want);
	free(want);
	free(who);
	cJSON_Delete(other);
	free(text);
	rmdir(dir);
}
