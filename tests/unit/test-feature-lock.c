/* test-feature-lock.c - devcontainer-lock.json (agent/feature-lock.c). */
#include "test.h"

#include <sys/stat.h>
#include <unistd.h>

#include "atomic-file.h"
#include "config.h"
#include "feature-json.h"
#include "feature-lock.h"
#include "feature-resolve.h"
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

/* The order the reference's localeCompare gives (node 20, ICU: sorted there
 * with ids.sort((a, b) => a.localeCompare(b))), whatever order they are set
 * in: punctuation before digits before letters, '_' before '-', case only
 * breaking ties, lower case first. */
TEST(ids_sorted_as_locale_compare)
{
	static const char *const want[] = { "_x", "127.0.0.1:5000/a/b:1", "a#", "a+b",
		"a=b", "a~", "a$", "a0", "a9z", "ab", "aB", "Ab", "AB",
		"ghcr.io/devcontainers_contrib/features/x:1",
		"ghcr.io/devcontainers-contrib/features/x:1",
		"ghcr.io/devcontainers/features/docker-in-docker:2",
		"ghcr.io/devcontainers/features/docker-outside-of-docker:1",
		"ghcr.io/devcontainers/features/go:1",
		"ghcr.io/devcontainers/features/node",
		"ghcr.io/devcontainers/features/node:1",
		"ghcr.io/devcontainers/features/node:1.2",
		"ghcr.io/devcontainers/features/node:18", "http://h/x.tgz",
		"https://h/devcontainer-feature-x.tgz", "localhost:5000/ns/a",
		"localhost:5000/ns/A", "localhost:5000/ns/a_b", "localhost:5000/ns/a-b",
		"localhost:5000/ns/a:1", "localhost:5000/ns/a.b",
		"localhost:5000/ns/a@sha256:00", "localhost:5000/ns/a/b",
		"localhost:5000/ns/ab", "localhost:5000/ns/B", "x", "x_", "x-", "z",
		"Z" };
	size_t n = sizeof want / sizeof want[0], i = 0;
	struct feature_lock_entry e = { "1.0.0", "r@" I1, I1, NULL };
	cJSON *doc = NULL, *back;
	const cJSON *c;
	char *text;

	/* set in a scrambled order: every 7th, wrapping (7 and n are coprime) */
	ASSERT_INT_NE((int)(n % 7), 0);
	for (size_t k = 0; k < n; k++)
		feature_lock_set(&doc, want[(k * 7) % n], &e);
	text = feature_lock_format(doc);
	back = cJSON_Parse(text);
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(back, "features"))
		ASSERT_STR_EQ(c->string, want[i++]);
	ASSERT_INT_EQ((int)i, (int)n);
	cJSON_Delete(back);
	cJSON_Delete(doc);
	free(text);
}

/* JSON.stringify(JSON.parse(text), null, 2) + "\n": members in their own
 * order, any spacing made the reference's. */
TEST(normalize_keeps_order)
{
	const char *text = "{\"features\" : {\"b\":{\"version\":\"1\"},\n\t\"a\":{}},"
			   "\"x\":[1,\"two\",[],{}]}";
	char *got = feature_lock_normalize(text, strlen(text));

	ASSERT_STR_EQ(got,
	    "{\n"
	    "  \"features\": {\n"
	    "    \"b\": {\n"
	    "      \"version\": \"1\"\n"
	    "    },\n"
	    "    \"a\": {}\n"
	    "  },\n"
	    "  \"x\": [\n"
	    "    1,\n"
	    "    \"two\",\n"
	    "    [],\n"
	    "    {}\n"
	    "  ]\n"
	    "}\n");
	free(got);
	ASSERT_NULL(feature_lock_normalize("{", 1));
	ASSERT_NULL(feature_lock_normalize("", 0));
}

/* A temporary lockfile path; the caller removes it and its folder. */
static char *
test_lock_tmp(char *dir)
{
	ASSERT_NOT_NULL(mkdtemp(dir));
	return xasprintf("%s/devcontainer-lock.json", dir);
}

static void
test_lock_rm(char *dir, char *path)
{
	unlink(path);
	rmdir(dir);
	free(path);
}

/* up's rule (the reference's writeLockfile): written when missing or
 * different, left alone when it holds the same JSON however it is spaced. */
TEST(update_writes_only_a_change)
{
	char dir[] = "/tmp/rdev-test-lock-XXXXXX", *path = test_lock_tmp(dir);
	char *cause = NULL, *text = NULL;
	struct feature_lock_entry e = { "1.0.0", "r/x@" I1, I1, NULL };
	const char *spaced =
	    "{ \"features\": { \"r/x:1\": { \"version\": \"1.0.0\", "
	    "\"resolved\": \"r/x@" I1 "\", \"integrity\": \"" I1 "\" } } }";
	cJSON *doc = NULL;
	size_t len;

	feature_lock_set(&doc, "r/x:1", &e);
	ASSERT_INT_EQ(feature_lock_update(path, doc, 0, &cause), 1);
	ASSERT_INT_EQ(feature_lock_update(path, doc, 0, &cause), 0);
	ASSERT_INT_EQ(atomic_file_write(path, spaced, strlen(spaced), 0644, NULL), 0);
	ASSERT_INT_EQ(feature_lock_update(path, doc, 0, &cause), 0);
	ASSERT_INT_EQ(file_read_all(path, 1 << 20, &text, &len, NULL), 0);
	ASSERT_STR_EQ(text, spaced); /* untouched */
	free(text);
	/* what the file holds now, for the client's copy: its own bytes */
	ASSERT_INT_EQ(feature_lock_update_text(path, doc, 0, &text, &cause), 0);
	ASSERT_STR_EQ(text, spaced);
	free(text);
	ASSERT_INT_EQ(feature_lock_update(path, doc, 1, &cause), 0); /* frozen: ok */
	ASSERT_INT_EQ(atomic_file_write(path, "", 0, 0644, NULL), 0);
	ASSERT_INT_EQ(
	    feature_lock_update_text(path, doc, 0, &text, &cause), 1); /* empty: init */
	ASSERT_STR_CONTAINS(text, "\n  \"features\": {\n    \"r/x:1\": {\n");
	free(text);
	ASSERT_INT_EQ(file_read_all(path, 1 << 20, &text, &len, NULL), 0);
	ASSERT_STR_CONTAINS(text, "\n  \"features\": {\n    \"r/x:1\": {\n");
	free(text);
	cJSON_Delete(doc);
	test_lock_rm(dir, path);
}

/* --frozen-lockfile: a missing or different lockfile fails naming it and
 * the Feature, and is not written. */
TEST(update_frozen_names_file_and_feature)
{
	char dir[] = "/tmp/rdev-test-lock-XXXXXX", *path = test_lock_tmp(dir);
	char *cause = NULL, *text = NULL;
	struct feature_lock_entry e = { "1.0.0", "r/x@" I1, I1, NULL };
	const char *old = "{\"features\":{\"r/x:1\":{\"version\":\"0.9.0\"}}}";
	cJSON *doc = NULL;
	size_t len;

	feature_lock_set(&doc, "r/x:1", &e);
	ASSERT_INT_EQ(feature_lock_update(path, doc, 1, &cause), -1);
	ASSERT_STR_CONTAINS(cause, path);
	ASSERT_STR_CONTAINS(cause, "does not exist");
	ASSERT_INT_EQ(access(path, F_OK), -1);
	free(cause);
	cause = NULL;
	ASSERT_INT_EQ(atomic_file_write(path, old, strlen(old), 0644, NULL), 0);
	ASSERT_INT_EQ(feature_lock_update(path, doc, 1, &cause), -1);
	ASSERT_STR_CONTAINS(cause, path);
	ASSERT_STR_CONTAINS(cause, "does not match");
	ASSERT_STR_CONTAINS(cause,
	    "Feature 'r/x:1': it has {\"version\":\"0.9.0\"}, the Feature resolves "
	    "to {\"version\":\"1.0.0\",");
	free(cause);
	cause = NULL;
	ASSERT_INT_EQ(file_read_all(path, 1 << 20, &text, &len, NULL), 0);
	ASSERT_STR_EQ(text, old);
	free(text);
	cJSON_Delete(doc);
	test_lock_rm(dir, path);
}

static void
test_diff_is(const char *have_json, const cJSON *want, const char *expect)
{
	cJSON *have = cJSON_Parse(have_json);
	char *why = feature_lock_diff(have, want);

	ASSERT_STR_EQ(why, expect);
	free(why);
	cJSON_Delete(have);
}

TEST(diff_names_first_feature)
{
	struct feature_lock_entry e = { "1", "r@" I1, I1, NULL };
	cJSON *want = NULL;

	feature_lock_set(&want, "b", &e);
	feature_lock_set(&want, "c", &e);
	test_diff_is("{\"features\":{\"c\":{}}}", want, "Feature 'b' is not in it");
	test_diff_is("{\"features\":{\"a\":{},\"c\":{},\"b\":{}}}", want,
	    "Feature 'b': it has {}, the Feature resolves to {\"version\":\"1\","
	    "\"resolved\":\"r@" I1 "\",\"integrity\":\"" I1 "\"}");
	test_diff_is("{\"features\":{\"a\":{},\"c\":{\"version\":\"1\","
		     "\"resolved\":\"r@" I1 "\",\"integrity\":\"" I1 "\"},\"b\":{"
		     "\"version\":\"1\",\"resolved\":\"r@" I1 "\",\"integrity\":\"" I1
		     "\"}}}",
	    want, "it has Feature 'a', which the configuration does not use");
	test_diff_is("[]", want, "it is not a JSON object");
	test_diff_is("{\"features\":{\"c\":{\"version\":\"1\",\"resolved\":\"r@" I1
		     "\",\"integrity\":\"" I1 "\"},\"b\":{\"version\":\"1\","
		     "\"resolved\":\"r@" I1 "\",\"integrity\":\"" I1 "\"}}}",
	    want,
	    "its entries agree, but not their order or its other properties (it is "
	    "not as it would be written)");
	cJSON_Delete(want);
}

/* One Feature of a hand-made set: devcontainer-feature.json json; resolved
 * and integrity NULL for a local one. */
static void
test_set_add(struct feature_set *fs, const char *id, const char *json,
    const char *resolved, const char *integrity)
{
	struct feature *f;

	fs->v = xreallocarray(fs->v, fs->n + 1, sizeof *fs->v);
	fs->order = xreallocarray(fs->order, fs->n + 1, sizeof *fs->order);
	f = &fs->v[fs->n];
	memset(f, 0, sizeof *f);
	f->id = xstrdup(id);
	f->dir = xstrdup("/nowhere");
	f->json = feature_json_parse("f.json", json, strlen(json), NULL);
	ASSERT_NOT_NULL(f->json);
	f->resolved = resolved != NULL ? xstrdup(resolved) : NULL;
	f->integrity = integrity != NULL ? xstrdup(integrity) : NULL;
	fs->order[fs->n] = fs->n;
	fs->n++;
}

/* The reference's generateLockfile: OCI and tarball Features (dependencies
 * too) by id, with their version and dependsOn ids; no local ones, none
 * that only --additional-features asks for. */
TEST(of_set_as_reference)
{
	struct feature_set *fs = xcalloc(1, sizeof *fs);
	cJSON *features = cJSON_Parse("{\"./local\":{},\"r/ns/b:1\":{}}");
	cJSON *additional = cJSON_Parse("{\"r/ns/b:1\":{},\"r/ns/extra:1\":{}}");
	cJSON *doc;
	char *text;

	test_set_add(
	    fs, "./local", "{\"id\":\"local\",\"version\":\"0.1.0\"}", NULL, NULL);
	test_set_add(fs, "r/ns/b:1",
	    "{\"id\":\"b\",\"version\":\"1.2.0\",\"dependsOn\":{\"r/ns/a\":{},"
	    "\"./local\":{}}}",
	    "r/ns/b@" I1, I1);
	test_set_add(
	    fs, "r/ns/a", "{\"id\":\"a\",\"version\":\"2.0.0\"}", "r/ns/a@" I1, I1);
	test_set_add(fs, "r/ns/extra:1", "{\"id\":\"extra\"}", "r/ns/extra@" I1, I1);
	doc = feature_lock_of_set(fs, features, additional);
	text = feature_lock_format(doc);
	ASSERT_STR_EQ(text,
	    "{\n"
	    "  \"features\": {\n"
	    "    \"r/ns/a\": {\n"
	    "      \"version\": \"2.0.0\",\n"
	    "      \"resolved\": \"r/ns/a@" I1 "\",\n"
	    "      \"integrity\": \"" I1 "\"\n"
	    "    },\n"
	    "    \"r/ns/b:1\": {\n"
	    "      \"version\": \"1.2.0\",\n"
	    "      \"resolved\": \"r/ns/b@" I1 "\",\n"
	    "      \"integrity\": \"" I1 "\",\n"
	    "      \"dependsOn\": [\n"
	    "        \"r/ns/a\",\n"
	    "        \"./local\"\n"
	    "      ]\n"
	    "    }\n"
	    "  }\n"
	    "}\n");
	free(text);
	cJSON_Delete(doc);
	/* only local Features: an empty "features", as the reference writes */
	fs->n = 1;
	doc = feature_lock_of_set(fs, features, NULL);
	text = feature_lock_format(doc);
	ASSERT_STR_EQ(text, "{\n  \"features\": {}\n}\n");
	free(text);
	cJSON_Delete(doc);
	fs->n = 4;
	feature_set_free(fs);
	cJSON_Delete(features);
	cJSON_Delete(additional);
}

/* The answer's workspaceLockfile: the lockfile's path relative to the
 * workspace folder, beside the devcontainer.json found; none without text
 * or for a --config outside the folder (no place for it in the client's
 * folder). */
TEST(answer_relative_to_workspace)
{
	char dir[] = "/tmp/rdev-test-lock-XXXXXX", other[] = "/tmp/rdev-test-lock-XXXXXX";
	struct config_load_opts opts = { 0 };
	struct config *cfg;
	char *dc, *file, *cause = NULL, *outside;
	cJSON *a;

	ASSERT_NOT_NULL(mkdtemp(dir));
	ASSERT_NOT_NULL(mkdtemp(other));
	dc = xasprintf("%s/.devcontainer", dir);
	ASSERT_INT_EQ(mkdir(dc, 0755), 0);
	file = xasprintf("%s/devcontainer.json", dc);
	ASSERT_INT_EQ(atomic_file_write(file, "{\"image\":\"x\"}", 13, 0644, NULL), 0);
	outside = xasprintf("%s/devcontainer.json", other);
	ASSERT_INT_EQ(atomic_file_write(outside, "{\"image\":\"x\"}", 13, 0644, NULL), 0);
	opts.workspace_folder = dir;
	opts.no_git_root = 1;
	cfg = config_load(&opts, &cause);
	ASSERT_NOT_NULL(cfg);
	ASSERT_NULL(feature_lock_answer(cfg, NULL));
	a = feature_lock_answer(cfg, "{}\n");
	ASSERT_NOT_NULL(a);
	ASSERT_STR_EQ(cJSON_GetStringValue(cJSON_GetObjectItem(a, "path")),
	    ".devcontainer/devcontainer-lock.json");
	ASSERT_STR_EQ(cJSON_GetStringValue(cJSON_GetObjectItem(a, "text")), "{}\n");
	cJSON_Delete(a);
	config_free(cfg);
	opts.config_file = outside;
	cfg = config_load(&opts, &cause);
	ASSERT_NOT_NULL(cfg);
	ASSERT_NULL(feature_lock_answer(cfg, "{}\n"));
	config_free(cfg);
	unlink(outside);
	unlink(file);
	rmdir(dc);
	rmdir(dir);
	rmdir(other);
	free(outside);
	free(file);
	free(dc);
}
