/* test-pool-file.c - unit tests for common/pool-file.c */
#include "test.h"

#include "pool-file.h"

#include <sys/stat.h>

#include <stdlib.h>
#include <unistd.h>

#include "atomic-file.h"

/* A fresh folder under /tmp for one test; the caller removes what it made. */
static char *
tmpdir_new(void)
{
	char tmpl[] = "/tmp/rdev-test-pool.XXXXXX";

	if (mkdtemp(tmpl) == NULL)
		TEST_FAIL("mkdtemp failed");
	return strdup(tmpl);
}

TEST(add_replace_remove)
{
	cJSON *e = cJSON_CreateArray(), *labels = cJSON_CreateObject();

	cJSON_AddStringToObject(labels, "gpu", "a100");
	ASSERT_INT_EQ(pool_entry_add(e, "h1", "default", NULL), 0);
	ASSERT_INT_EQ(pool_entry_add(e, "h1", "team", labels), 0);
	ASSERT_INT_EQ(pool_entry_add(e, "h1", "default", NULL), 1);
	ASSERT_INT_EQ(cJSON_GetArraySize(e), 2);
	ASSERT_NOT_NULL(pool_entry_find(e, "h1", "team"));
	/* added again without labels: the ones it had stay */
	ASSERT_INT_EQ(pool_entry_add(e, "h1", "team", NULL), 1);
	ASSERT_STR_EQ(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
			  cJSON_GetObjectItemCaseSensitive(
			      pool_entry_find(e, "h1", "team"), "labels"),
			  "gpu")),
	    "a100");
	ASSERT_STR_EQ(pool_entry_pool(cJSON_GetArrayItem(e, 1)), "team"); /* in place */
	ASSERT_INT_EQ(pool_entry_add(e, "h1", "default", NULL), 1);
	ASSERT_STR_EQ(pool_entry_pool(cJSON_GetArrayItem(e, 0)), "default");
	ASSERT_INT_EQ(pool_entry_remove(e, "h1", "team"), 1);
	ASSERT_INT_EQ(pool_entry_remove(e, "h1", "team"), 0);
	ASSERT_NULL(pool_entry_find(e, "h1", "team"));
	cJSON_Delete(e);
}

TEST(write_read_round_trip_and_team_merge)
{
	char *dir = tmpdir_new(), *cause = NULL, *path, *team;
	cJSON *e = cJSON_CreateArray(), *all, *members;
	const char team_text[] = "{\"hosts\":[{\"name\":\"t1\",\"pool\":\"gpu\"},"
				 "// a comment\n{\"name\":\"h1\"},]}";
	struct stat st;

	setenv("XDG_CONFIG_HOME", dir, 1);
	unsetenv("RDEV_POOL_FILE"); /* (a team pool of the environment's is no "empty") */
	path = pool_file_path(&cause);
	ASSERT_NOT_NULL(path);
	ASSERT_STR_CONTAINS(path, "/rdev/hosts.json");
	/* No file yet: an empty pool. */
	all = pool_load(&cause);
	ASSERT_INT_EQ(cJSON_GetArraySize(all), 0);
	cJSON_Delete(all);
	pool_entry_add(e, "h1", "default", NULL);
	pool_entry_add(e, "me@h2:2222", "team", NULL);
	ASSERT_INT_EQ(pool_file_write(path, e, &cause), 0);
	ASSERT_INT_EQ(stat(path, &st), 0);
	ASSERT_INT_EQ(st.st_mode & 0777, 0600);
	team = malloc(strlen(dir) + 16);
	sprintf(team, "%s/team.json", dir);
	ASSERT_INT_EQ(
	    atomic_file_write(team, team_text, strlen(team_text), 0644, &cause), 0);
	setenv("RDEV_POOL_FILE", team, 1);
	all = pool_load(&cause);
	ASSERT_NOT_NULL(all);
	/* h1 is in both: the user's entry wins, once. */
	ASSERT_INT_EQ(cJSON_GetArraySize(all), 3);
	ASSERT_STR_EQ(cJSON_GetStringValue(cJSON_GetObjectItem(
			  (cJSON *)pool_entry_find(all, "h1", "default"), "source")),
	    "user");
	ASSERT_STR_EQ(cJSON_GetStringValue(cJSON_GetObjectItem(
			  (cJSON *)pool_entry_find(all, "t1", "gpu"), "source")),
	    "team");
	members = pool_members(all, "team");
	ASSERT_INT_EQ(cJSON_GetArraySize(members), 1);
	ASSERT_STR_EQ(pool_entry_name(cJSON_GetArrayItem(members, 0)), "me@h2:2222");
	cJSON_Delete(members);
	cJSON_Delete(all);
	unsetenv("RDEV_POOL_FILE");
	unlink(team);
	unlink(path);
	*strrchr(path, '/') = '\0';
	rmdir(path);
	rmdir(dir);
	free(team);
	free(path);
	free(dir);
	cJSON_Delete(e);
}

TEST(bad_files_are_named)
{
	char *dir = tmpdir_new(), *cause = NULL, *path = malloc(strlen(dir) + 16);
	const char bad[] = "{\"hosts\":[{\"pool\":\"x\"}]}";

	sprintf(path, "%s/h.json", dir);
	ASSERT_INT_EQ(atomic_file_write(path, bad, strlen(bad), 0600, &cause), 0);
	ASSERT_NULL(pool_file_read(path, "user", &cause));
	ASSERT_STR_CONTAINS(cause, "h.json: each host needs a \"name\"");
	free(cause);
	unlink(path);
	rmdir(dir);
	free(path);
	free(dir);
}

TEST(pool_names)
{
	ASSERT_TRUE(pool_name_valid("team-1.x_y"));
	ASSERT_FALSE(pool_name_valid(""));
	ASSERT_FALSE(pool_name_valid("a/b"));
	ASSERT_FALSE(pool_name_valid("a b"));
}
