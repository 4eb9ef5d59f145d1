/* test-lockfile-copy.c - the lockfile back into an uploaded folder
 * (client/lockfile-copy.c): written once, left alone when the same, and
 * never outside the folder nor through a symlink. */
#include "test.h"

#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic-file.h"
#include "client.h"
#include "progress.h"
#include "xmalloc.h"

#define LOCK_TEXT "{\n  \"features\": {}\n}\n"

/* A HOST: ./app target whose SOURCE is the folder dir (no host is
 * contacted: the copy only needs to know it is remote). */
static void
test_copy_target(struct client_target *ct, char *dir)
{
	memset(ct, 0, sizeof *ct);
	ct->remote = (struct remote *)(void *)ct; /* only compared with NULL */
	ct->src.kind = SOURCE_LOCAL;
	ct->src.text = "./app/";
	ct->src.path = dir;
}

/* What the upload found at rel (text NULL: no file), as
 * client_lockfile_remember() would have remembered it. */
static void
test_copy_sent(struct client_target *ct, const char *rel, const char *text)
{
	free(ct->lock_sent.rel);
	free(ct->lock_sent.text);
	ct->lock_sent.rel = xstrdup(rel);
	ct->lock_sent.text = text != NULL ? xstrdup(text) : NULL;
	ct->lock_sent.len = text != NULL ? strlen(text) : 0;
}

static void
test_copy_target_clear(struct client_target *ct)
{
	free(ct->lock_sent.rel);
	free(ct->lock_sent.text);
}

static cJSON *
test_copy_member(const char *path)
{
	cJSON *m = cJSON_CreateObject();

	cJSON_AddStringToObject(m, "path", path);
	cJSON_AddStringToObject(m, "text", LOCK_TEXT);
	return m;
}

/* The progress lines (the "Wrote" line), on stderr. */
static void
test_copy_sink(void *arg, const char *data, size_t len)
{
	(void)arg;
	fwrite(data, 1, len, stderr);
}

static int
test_copy(struct client_target *ct, const char *path)
{
	cJSON *m = test_copy_member(path);
	struct progress p = { .fn = test_copy_sink };
	char *cause = NULL;
	int rc = client_lockfile_copy(ct, m, &p, &cause);

	/* a refusal says why, and only a refusal */
	if (rc < 0) {
		ASSERT_NOT_NULL(cause);
		fprintf(stderr, "(warning) %s\n", cause);
	} else
		ASSERT_NULL(cause);
	free(cause);

	cJSON_Delete(m);
	return rc;
}

TEST(written_once_then_left_alone)
{
	char dir[] = "/tmp/rdev-test-lockcopy-XXXXXX", *dc, *lock, *text = NULL;
	struct client_target ct;
	struct stat st;
	mode_t mask;
	size_t len;

	ASSERT_NOT_NULL(mkdtemp(dir));
	test_copy_target(&ct, dir);
	dc = xasprintf("%s/.devcontainer", dir);
	lock = xasprintf("%s/devcontainer-lock.json", dc);
	ASSERT_INT_EQ(mkdir(dc, 0755), 0);
	/* (nothing remembered from an upload: nothing written) */
	ASSERT_INT_EQ(test_copy(&ct, ".devcontainer/devcontainer-lock.json"), -1);
	ASSERT_INT_NE(access(lock, F_OK), 0);
	test_copy_sent(&ct, ".devcontainer/devcontainer-lock.json", NULL);
	ASSERT_INT_EQ(test_copy(&ct, ".devcontainer/devcontainer-lock.json"), 1);
	ASSERT_INT_EQ(file_read_all(lock, 1 << 20, &text, &len, NULL), 0);
	ASSERT_STR_EQ(text, LOCK_TEXT);
	free(text);
	ASSERT_INT_EQ(stat(lock, &st), 0);
	mask = umask(022);
	umask(mask);
	ASSERT_INT_EQ((int)(st.st_mode & 0777), (int)(0666 & ~mask));
	ASSERT_INT_EQ(test_copy(&ct, ".devcontainer/devcontainer-lock.json"), 0);
	/* edited here since the upload (the upload found no file, or other
	 * bytes): left as it is */
	ASSERT_INT_EQ(atomic_file_write(lock, "{\"features\":{}}", 15, 0600, NULL), 0);
	ASSERT_INT_EQ(test_copy(&ct, ".devcontainer/devcontainer-lock.json"), -1);
	test_copy_sent(&ct, ".devcontainer/devcontainer-lock.json", "{}");
	ASSERT_INT_EQ(test_copy(&ct, ".devcontainer/devcontainer-lock.json"), -1);
	ASSERT_INT_EQ(file_read_all(lock, 1 << 20, &text, &len, NULL), 0);
	ASSERT_STR_EQ(text, "{\"features\":{}}");
	free(text);
	/* as uploaded: replaced, its mode kept */
	test_copy_sent(&ct, ".devcontainer/devcontainer-lock.json", "{\"features\":{}}");
	ASSERT_INT_EQ(test_copy(&ct, ".devcontainer/devcontainer-lock.json"), 1);
	ASSERT_INT_EQ(stat(lock, &st), 0);
	ASSERT_INT_EQ((int)(st.st_mode & 0777), 0600);
	/* not a JSON object: not written */
	{
		cJSON *m = cJSON_CreateObject();
		struct progress p = { .fn = test_copy_sink };

		test_copy_sent(&ct, ".devcontainer/devcontainer-lock.json", LOCK_TEXT);
		cJSON_AddStringToObject(
		    m, "path", ".devcontainer/devcontainer-lock.json");
		cJSON_AddStringToObject(m, "text", "[1]");
		char *cause = NULL;

		ASSERT_INT_EQ(client_lockfile_copy(&ct, m, &p, &cause), -1);
		ASSERT_STR_CONTAINS(cause, "not a JSON object");
		free(cause);
		cJSON_Delete(m);
	}
	/* a HOST:PATH workspace (no local SOURCE): nothing */
	ct.src.text = NULL;
	ASSERT_FALSE(client_lockfile_wanted(&ct));
	ASSERT_INT_EQ(test_copy(&ct, "devcontainer-lock.json"), 0);
	ASSERT_INT_EQ(access(dir, F_OK), 0);
	unlink(lock);
	rmdir(dc);
	rmdir(dir);
	free(lock);
	free(dc);
	test_copy_target_clear(&ct);
}

TEST(paths_out_of_the_folder_refused)
{
	char dir[] = "/tmp/rdev-test-lockcopy-XXXXXX", *up;
	struct client_target ct;

	ASSERT_NOT_NULL(mkdtemp(dir));
	test_copy_target(&ct, dir);
	ASSERT_INT_EQ(test_copy(&ct, "../devcontainer-lock.json"), -1);
	ASSERT_INT_EQ(test_copy(&ct, "a/../../devcontainer-lock.json"), -1);
	ASSERT_INT_EQ(test_copy(&ct, "/tmp/devcontainer-lock.json"), -1);
	ASSERT_INT_EQ(test_copy(&ct, "./devcontainer-lock.json"), -1);
	ASSERT_INT_EQ(test_copy(&ct, "a//devcontainer-lock.json"), -1);
	ASSERT_INT_EQ(test_copy(&ct, "run.sh"), -1);
	ASSERT_INT_EQ(test_copy(&ct, ""), -1);
	up = xasprintf("%s/../devcontainer-lock.json", dir);
	ASSERT_INT_NE(access(up, F_OK), 0);
	/* a folder on the way that does not exist: a warning, nothing made */
	ASSERT_INT_EQ(test_copy(&ct, "none/devcontainer-lock.json"), -1);
	free(up);
	rmdir(dir);
}

TEST(symlinks_not_followed)
{
	char dir[] = "/tmp/rdev-test-lockcopy-XXXXXX",
	     other[] = "/tmp/rdev-test-lockcopy-XXXXXX";
	char *link, *target, *text = NULL;
	struct client_target ct;
	size_t len;

	ASSERT_NOT_NULL(mkdtemp(dir));
	ASSERT_NOT_NULL(mkdtemp(other));
	test_copy_target(&ct, dir);
	/* the lockfile itself a link out */
	target = xasprintf("%s/devcontainer-lock.json", other);
	ASSERT_INT_EQ(atomic_file_write(target, "mine", 4, 0644, NULL), 0);
	link = xasprintf("%s/devcontainer-lock.json", dir);
	ASSERT_INT_EQ(symlink(target, link), 0);
	test_copy_sent(&ct, "devcontainer-lock.json", "mine");
	ASSERT_INT_EQ(test_copy(&ct, "devcontainer-lock.json"), -1);
	ASSERT_INT_EQ(file_read_all(target, 1 << 20, &text, &len, NULL), 0);
	ASSERT_STR_EQ(text, "mine");
	free(text);
	unlink(link);
	free(link);
	/* a folder on the way a link out */
	link = xasprintf("%s/.devcontainer", dir);
	ASSERT_INT_EQ(symlink(other, link), 0);
	test_copy_sent(&ct, ".devcontainer/devcontainer-lock.json", "mine");
	ASSERT_INT_EQ(test_copy(&ct, ".devcontainer/devcontainer-lock.json"), -1);
	ASSERT_INT_EQ(file_read_all(target, 1 << 20, &text, &len, NULL), 0);
	ASSERT_STR_EQ(text, "mine");
	free(text);
	/* holding the text already: no write, so no warning */
	ASSERT_INT_EQ(
	    atomic_file_write(target, LOCK_TEXT, strlen(LOCK_TEXT), 0644, NULL), 0);
	ASSERT_INT_EQ(test_copy(&ct, ".devcontainer/devcontainer-lock.json"), 0);
	unlink(link);
	free(link);
	unlink(target);
	free(target);
	rmdir(other);
	rmdir(dir);
	test_copy_target_clear(&ct);
}
