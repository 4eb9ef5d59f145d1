/* test-config-discover.c - unit tests for common/config-discover.c (makes
 * workspaces under a temporary directory). */
#include "test.h"

#include <sys/stat.h>

#include <unistd.h>

#include "config-discover.h"
#include "xmalloc.h"

/* A fresh empty directory; caller removes it with rm_rf(). */
static char *
make_tmpdir(void)
{
	char *dir = xstrdup("/tmp/rdev-test-discover.XXXXXX");

	if (mkdtemp(dir) == NULL)
		fatal("mkdtemp failed");
	return dir;
}

/* Create dir/rel (and its parent directories) holding "{}". */
static void
touch(const char *dir, const char *rel)
{
	char *path = xasprintf("%s/%s", dir, rel), *p;
	FILE *f;

	for (p = path + strlen(dir) + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	if ((f = fopen(path, "w")) == NULL)
		fatal("cannot create %s", path);
	fputs("{}\n", f);
	fclose(f);
	free(path);
}

static void
rm_rf(char *dir)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);

	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	free(cmd);
	free(dir);
}

/* Discover in dir; returns the found path relative to dir, or the error. */
static char *
discover(const char *dir, int *rc)
{
	char *file = NULL, *cause = NULL, *rel;

	*rc = config_discover(dir, &file, &cause);
	if (*rc != 0)
		return cause;
	rel = xstrdup(file + strlen(dir) + 1);
	free(file);
	return rel;
}

/* A workspace holding files (each "{}"), and what discovery finds in it:
 * the path relative to it, or the error ("%s": the workspace). */
struct discover_case {
	const char *name;
	const char *files[5]; /* NULL-terminated */
	int rc;
	const char *want;
	int want_within; /* the error holds want, rather than being it */
};

static const struct discover_case discover_cases[] = {
	{ "devcontainer_folder_first",
	    { ".devcontainer/devcontainer.json", ".devcontainer.json",
		".devcontainer/a/devcontainer.json",
		".devcontainer/b/devcontainer.json" },
	    0, ".devcontainer/devcontainer.json", 0 },
	{ "top_level_file_second",
	    { ".devcontainer.json", ".devcontainer/a/devcontainer.json",
		".devcontainer/b/devcontainer.json" },
	    0, ".devcontainer.json", 0 },
	{ "single_subfolder_third",
	    { ".devcontainer/python/devcontainer.json", ".devcontainer/other/notes.json",
		".devcontainer/deep/er/devcontainer.json" },
	    0, ".devcontainer/python/devcontainer.json", 0 },
	{ "several_subfolders_listed_in_order",
	    { ".devcontainer/node/devcontainer.json",
		".devcontainer/go/devcontainer.json" },
	    -1,
	    "several dev container configurations in %s: "
	    ".devcontainer/go/devcontainer.json, "
	    ".devcontainer/node/devcontainer.json; choose one with --config PATH, "
	    "e.g. --config %s/.devcontainer/go/devcontainer.json",
	    0 },
	/* The example --config can be pasted into a POSIX shell whatever the
	 * path holds: a space, a quote. */
	{ "several_subfolders_example_is_shell_quoted",
	    { ".devcontainer/it's my app/devcontainer.json",
		".devcontainer/node/devcontainer.json" },
	    -1,
	    "e.g. --config '%s/.devcontainer/it'\\''s my "
	    "app/devcontainer.json'",
	    1 },
};

/* Make one discover_cases row's workspace and discover in it. */
static void
discover_check(const void *arg)
{
	const struct discover_case *c = arg;
	char *dir = make_tmpdir(), *got, *want;
	int rc;

	for (size_t i = 0; c->files[i] != NULL; i++)
		touch(dir, c->files[i]);
	got = discover(dir, &rc);
	ASSERT_INT_EQ(rc, c->rc);
	want = xasprintf(c->want, dir, dir);
	if (c->want_within)
		ASSERT_STR_CONTAINS(got, want);
	else
		ASSERT_STR_EQ(got, want);
	free(want);
	free(got);
	rm_rf(dir);
}
TEST_CASES(discover_check, discover_cases)

TEST(none_found_names_the_folder)
{
	char *dir = make_tmpdir(), *got, *notfile;
	int rc;

	touch(dir, ".devcontainer/README.json");
	notfile = xasprintf("%s/.devcontainer.json", dir);
	mkdir(notfile, 0755); /* a directory is not a configuration */
	free(notfile);
	got = discover(dir, &rc);
	ASSERT_INT_EQ(rc, -1);
	ASSERT_STR_CONTAINS(got, "no devcontainer.json in ");
	ASSERT_STR_CONTAINS(got, dir);
	ASSERT_STR_CONTAINS(got, ".devcontainer/*/devcontainer.json");
	free(got);
	rm_rf(dir);
}

TEST(missing_folder_is_none_found)
{
	int rc;
	char *got = discover("/nonexistent/rdev-test", &rc);

	ASSERT_INT_EQ(rc, -1);
	ASSERT_STR_CONTAINS(got, "no devcontainer.json in /nonexistent/rdev-test");
	free(got);
}

TEST(resolve_normalises)
{
	static const struct {
		const char *base, *path, *want;
	} cases[] = {
		{ "/w", "a/b", "/w/a/b" },
		{ "/w/", "./a//b/", "/w/a/b" },
		{ "/w/x", "../y", "/w/y" },
		{ "/w", "/abs/../p", "/p" },
		{ "/", ".", "/" },
		{ "/w", "../../..", "/" },
		{ "/w", "", "/w" },
		{ "/w", "a/./b/../c", "/w/a/c" },
	};
	size_t i;
	char *got;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		got = config_discover_resolve(cases[i].base, cases[i].path, NULL);
		ASSERT_STR_EQ(got, cases[i].want);
		free(got);
	}
}

TEST(resolve_relative_to_cwd)
{
	char *cwd = getcwd(NULL, 0), *got, *want;

	got = config_discover_resolve(NULL, "sub/../x", NULL);
	want = xasprintf("%s/x", strcmp(cwd, "/") == 0 ? "" : cwd);
	ASSERT_STR_EQ(got, want);
	free(got);
	free(want);
	free(cwd);
}

TEST(git_root_found_upwards)
{
	char *dir = make_tmpdir(), *sub, *got;

	touch(dir, "repo/.git/HEAD");
	touch(dir, "repo/a/b/file");
	touch(dir, "wt/.git"); /* worktree: .git is a file */
	sub = xasprintf("%s/repo/a/b", dir);
	got = config_discover_git_root(sub);
	free(sub);
	sub = xasprintf("%s/repo", dir);
	ASSERT_STR_EQ(got, sub);
	free(got);
	free(sub);
	sub = xasprintf("%s/wt", dir);
	got = config_discover_git_root(sub);
	ASSERT_STR_EQ(got, sub);
	free(got);
	free(sub);
	rm_rf(dir);
}

TEST(git_root_none)
{
	char *dir = make_tmpdir(), *got;

	/* /tmp itself is not expected to be inside a git work tree. */
	got = config_discover_git_root(dir);
	ASSERT_NULL(got);
	rm_rf(dir);
}

/* The lexical normal form without a base: a relative path's leading ".."s
 * stay (the folder it is relative to is not known), an absolute path's stop
 * at "/". */
TEST(normal_form_keeps_a_relative_paths_leading_dotdots)
{
	static const char *const cases[][2] = {
		{ "", "" },
		{ ".", "" },
		{ "./", "" },
		{ "..", ".." },
		{ "a/../..", ".." },
		{ "../a/./b//", "../a/b" },
		{ "a/b/../../..", ".." },
		{ "/..", "/" },
		{ "/a/../../b", "/b" },
		{ "//a//b/", "/a/b" },
		{ "/", "/" },
	};
	char *got;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		got = config_discover_normal(cases[i][0]);
		ASSERT_STR_EQ(got, cases[i][1]);
		free(got);
	}
}
