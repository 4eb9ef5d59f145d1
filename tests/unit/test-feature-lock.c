/* test-feature-lock.c - devcontainer-lock.json (agent/feature-lock.c). */
#include "test.h"

#include <unistd.h>

#include "atomic-file.h"
#include "feature-fetch.h"
#include "xmalloc.h"

#define I1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"

TEST(lock_path)
{
	char *p = feature_lock_path("/w/.devcontainer/devcontainer.json");
	ASSERT_STR_EQ(p, "/w/.devcontainer/devcontainer-lock.json");
	free(p);
	p = feature_lock_path("/w/.devcontainer.json");
	ASSERT_STR_EQ(p, "/w/.devcontainer-lock.json");
	free(p);
	p = feature_lock_path("devcontainer.json");
	ASSERT_STR_EQ(p, "devcontainer-lock.json");
	free(p);
}

/* The text the reference writes (JSON.stringify(lock, null, 2) + "\n"), ids
 * sorted whatever order they were set in. */
TEST(format_as_reference)
{
	cJSON *doc = NULL;
	char *deps[] = { "ghcr.io/a/b/common", NULL };
	struct feature_lock_entry z = { "1.0.0", "localhost:5000/a/b/z@" I1, I1, NULL };
	struct feature_lock_entry a = { "2.1.0", "https://h/devcontainer-feature-a.tgz",
		I1, deps };
	char *text;

	feature_lock_set(&doc, "localhost:5000/a/b/z:1", &z);
	feature_lock_set(&doc, "https://h/devcontainer-feature-a.tgz", &a);
	text = feature_lock_format(doc);
	ASSERT_STR_EQ(text,
	    "{\n"
	    "  \"features\": {\n"
	    "    \"https://h/devcontainer-feature-a.tgz\": {\n"
	    "      \"version\": \"2.1.0\",\n"
	    "      \"resolved\": \"https://h/devcontainer-feature-a.tgz\",\n"
	    "      \"integrity\": \"" I1 "\",\n"
	    "      \"dependsOn\": [\n"
	    "        \"ghcr.io/a/b/common\"\n"
	    "      ]\n"
	    "    },\n"
	    "    \"localhost:5000/a/b/z:1\": {\n"
	    "      \"version\": \"1.0.0\",\n"
	    "      \"resolved\": \"localhost:5000/a/b/z@" I1 "\",\n"
	    "      \"integrity\": \"" I1 "\"\n"
	    "    }\n"
	    "  }\n"
	    "}\n");
	free(text);
	cJSON_Delete(doc);
	text = feature_lock_format(NULL);
	ASSERT_STR_EQ(text, "{}\n");
	free(text);
}

TEST(write_read_get_roundtrip)
{
	char dir[] = "/tmp/rdev-test-lock-XXXXXX", *path, *cause = NULL;
	struct feature_lock_entry e = { "1.0.0", "r@" I1, I1, NULL }, got;
	cJSON *doc = NULL, *back = NULL;

	ASSERT_NOT_NULL(mkdtemp(dir));
	path = xasprintf("%s/devcontainer-lock.json", dir);
	ASSERT_INT_EQ(feature_lock_read(path, &back, &cause), 0); /* missing: no doc */
	ASSERT_NULL(back);
	feature_lock_set(&doc, "x/y/z", &e);
	e.version = "1.0.1";
	feature_lock_set(&doc, "x/y/z", &e); /* replaces */
	ASSERT_INT_EQ(feature_lock_write(path, doc, &cause), 0);
	ASSERT_INT_EQ(feature_lock_read(path, &back, &cause), 0);
	ASSERT_INT_EQ(feature_lock_get(back, "x/y/z", &got, &cause), 1);
	ASSERT_STR_EQ(got.version, "1.0.1");
	ASSERT_STR_EQ(got.integrity, I1);
	ASSERT_NULL(got.depends_on);
	feature_lock_entry_clear(&got);
	ASSERT_INT_EQ(feature_lock_get(back, "other", &got, &cause), 0);
	ASSERT_INT_EQ(feature_lock_get(NULL, "x/y/z", &got, &cause), 0);
	cJSON_Delete(back);
	cJSON_Delete(doc);
	unlink(path);
	rmdir(dir);
	free(path);
}

TEST(read_empty_and_malformed)
{
	char dir[] = "/tmp/rdev-test-lock-XXXXXX", *path, *cause = NULL;
	struct feature_lock_entry got;
	cJSON *doc = NULL;

	ASSERT_NOT_NULL(mkdtemp(dir));
	path = xasprintf("%s/devcontainer-lock.json", dir);
	ASSERT_INT_EQ(atomic_file_write(path, "\n", 1, 0644, NULL), 0);
	ASSERT_INT_EQ(feature_lock_read(path, &doc, &cause), 0);
	ASSERT_NULL(doc);
	ASSERT_INT_EQ(atomic_file_write(path, "[1]", 3, 0644, NULL), 0);
	ASSERT_INT_EQ(feature_lock_read(path, &doc, &cause), -1);
	ASSERT_STR_CONTAINS(cause, "not a JSON object");
	free(cause);
	cause = NULL;
	doc = cJSON_Parse(
	    "{\"features\":{\"a\":{\"integrity\":\"md5:x\"},\"b\":{\"dependsOn\":[1]}}}");
	ASSERT_INT_EQ(feature_lock_get(doc, "a", &got, &cause), -1);
	ASSERT_STR_CONTAINS(cause, "malformed entry for Feature 'a'");
	free(cause);
	cause = NULL;
	ASSERT_INT_EQ(feature_lock_get(doc, "b", &got, &cause), -1);
	free(cause);
	cJSON_Delete(doc);
	unlink(path);
	rmdir(dir);
	free(path);
}
