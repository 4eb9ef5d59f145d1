/* test-tree-hash.c - unit tests for common/tree-hash.c */
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tree-hash.h"
#include "xmalloc.h"

static char *
make_tree(void)
{
	char *dir = xstrdup("/tmp/rdev-test-tree-hash-XXXXXX");

	if (mkdtemp(dir) == NULL)
		abort();
	return dir;
}

static void
put(const char *dir, const char *name, const char *text, mode_t mode)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "w");

	if (f == NULL)
		abort();
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
	free(path);
}

static void
sub(const char *dir, const char *name)
{
	char *path = xasprintf("%s/%s", dir, name);

	mkdir(path, 0755);
	free(path);
}

/* The digest of dir as 64 hex digits (static buffer), or "error: ...". */
static const char *
digest(const char *dir)
{
	static char hex[crypto_hash_sha256_BYTES * 2 + 1];
	unsigned char out[crypto_hash_sha256_BYTES];
	crypto_hash_sha256_state st;
	char *cause = NULL;

	crypto_hash_sha256_init(&st);
	if (tree_hash_update(&st, dir, &cause) != 0) {
		snprintf(hex, sizeof hex, "error: %s", cause);
		free(cause);
		return hex;
	}
	crypto_hash_sha256_final(&st, out);
	sodium_bin2hex(hex, sizeof hex, out, sizeof out);
	return hex;
}

static void
remove_tree(const char *dir)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);

	if (system(cmd) != 0)
		abort();
	free(cmd);
}

/* A tree: a.sh (executable), b.txt, d/c.txt, link -> b.txt. */
static char *
sample(void)
{
	char *dir = make_tree(), *link;

	put(dir, "a.sh", "#!/bin/sh\n", 0755);
	put(dir, "b.txt", "bee\n", 0644);
	sub(dir, "d");
	put(dir, "d/c.txt", "sea\n", 0600);
	link = xasprintf("%s/link", dir);
	if (symlink("b.txt", link) != 0)
		abort();
	free(link);
	return dir;
}

TEST(same_tree_same_digest_whatever_owner_time_and_other_mode_bits)
{
	char *a = sample(), *b = sample(), *path;
	char want[80];

	snprintf(want, sizeof want, "%s", digest(a));
	ASSERT_TRUE(strncmp(want, "error", 5) != 0);
	path = xasprintf("%s/d/c.txt", b);
	chmod(path, 0644); /* not the executable bit: no change */
	free(path);
	ASSERT_STR_EQ(digest(b), want);
	remove_tree(a);
	remove_tree(b);
	free(a);
	free(b);
}

TEST(content_name_exec_bit_new_file_and_link_target_each_change_it)
{
	char *a = sample(), *path, *link;
	char base[80], now[80];

	snprintf(base, sizeof base, "%s", digest(a));
	put(a, "b.txt", "bee!\n", 0644);
	snprintf(now, sizeof now, "%s", digest(a));
	ASSERT_TRUE(strcmp(now, base) != 0);
	put(a, "b.txt", "bee\n", 0644);
	ASSERT_STR_EQ(digest(a), base);

	path = xasprintf("%s/b.txt", a);
	chmod(path, 0755);
	ASSERT_TRUE(strcmp(digest(a), base) != 0);
	chmod(path, 0644);
	ASSERT_STR_EQ(digest(a), base);

	put(a, "d/new", "", 0644);
	ASSERT_TRUE(strcmp(digest(a), base) != 0);
	free(path);
	path = xasprintf("%s/d/new", a);
	unlink(path);
	ASSERT_STR_EQ(digest(a), base);

	link = xasprintf("%s/link", a);
	unlink(link);
	if (symlink("a.sh", link) != 0)
		abort();
	ASSERT_TRUE(strcmp(digest(a), base) != 0);
	free(link);
	free(path);
	remove_tree(a);
	free(a);
}

TEST(moving_bytes_between_names_changes_it)
{
	char *a = make_tree(), *b = make_tree();
	char want[80];

	put(a, "ab", "c", 0644);
	put(b, "a", "bc", 0644);
	snprintf(want, sizeof want, "%s", digest(a));
	ASSERT_TRUE(strcmp(digest(b), want) != 0);
	remove_tree(a);
	remove_tree(b);
	free(a);
	free(b);
}

TEST(a_missing_folder_is_an_error_naming_it)
{
	const char *got = digest("/nonexistent/rdev-tree");

	ASSERT_TRUE(strstr(got, "error: /nonexistent/rdev-tree") == got);
}
