/* test-feature-tar.c - unpacking Feature archives safely (agent/feature-tar.c). */
#include "test.h"

#include <sys/stat.h>

#include <dirent.h>
#include <unistd.h>
#include <zlib.h>

#include "atomic-file.h"
#include "feature-fetch.h"
#include "relay-install.h"
#include "xmalloc.h"

/* An archive of the given files (relay_install_tar writes plain ustar). */
static unsigned char *
tar_of(size_t n, const char *const *names, const char *const *data, size_t *len)
{
	const void *d[8];
	size_t lens[8];
	unsigned modes[8];
	unsigned char *tar;

	for (size_t i = 0; i < n; i++) {
		d[i] = data[i];
		lens[i] = strlen(data[i]);
		modes[i] = 0755;
	}
	relay_install_tar(n, names, d, lens, modes, &tar, len);
	return tar;
}

/* Change the first header's type flag (and fix its checksum). */
static void
tar_set_type(unsigned char *h, char type)
{
	unsigned sum = 0;

	h[156] = (unsigned char)type;
	memset(h + 148, ' ', 8);
	for (size_t i = 0; i < 512; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
	h[155] = ' ';
}

static char *
tempdir(void)
{
	char *dir = xstrdup("/tmp/rdev-test-ftar-XXXXXX");

	if (mkdtemp(dir) == NULL)
		abort();
	return dir;
}

static char *
read_in(const char *dir, const char *rel)
{
	char *path = xasprintf("%s/%s", dir, rel), *data = NULL;
	size_t len;

	if (file_read_all(path, 1 << 20, &data, &len, NULL) != 0)
		data = NULL;
	free(path);
	return data;
}

static void
expect_refused(const unsigned char *tar, size_t len, const char *msg)
{
	char *dir = tempdir(), *cause = NULL;

	if (feature_tar_extract(tar, len, dir, &cause) == 0) {
		feature_tar_remove_tree(dir);
		free(dir);
		TEST_FAIL("extracted, want an error saying '%s'", msg);
	}
	feature_tar_remove_tree(dir);
	free(dir);
	ASSERT_STR_CONTAINS(cause, msg);
	free(cause);
}

TEST(extracts_files_and_dirs)
{
	const char *names[] = { "./devcontainer-feature.json", "./install.sh",
		"lib/sub/x.sh" };
	const char *data[] = { "{\"id\":\"x\"}", "#!/bin/sh\n", "echo\n" };
	size_t len;
	unsigned char *tar = tar_of(3, names, data, &len);
	char *dir = tempdir(), *got, *cause = NULL;
	struct stat st;

	ASSERT_INT_EQ(feature_tar_extract(tar, len, dir, &cause), 0);
	got = read_in(dir, "devcontainer-feature.json");
	ASSERT_STR_EQ(got, "{\"id\":\"x\"}");
	free(got);
	got = read_in(dir, "lib/sub/x.sh");
	ASSERT_STR_EQ(got, "echo\n");
	free(got);
	got = xasprintf("%s/install.sh", dir);
	ASSERT_INT_EQ(stat(got, &st), 0);
	ASSERT_INT_EQ(st.st_mode & 0777, 0755);
	free(got);
	ASSERT_INT_EQ(feature_tar_remove_tree(dir), 0);
	ASSERT_INT_EQ(access(dir, F_OK), -1);
	free(dir);
	free(tar);
}

TEST(extracts_gzip)
{
	const char *names[] = { "install.sh" };
	const char *data[] = { "#!/bin/sh\necho hi\n" };
	size_t len;
	unsigned char *tar = tar_of(1, names, data, &len), gz[4096];
	z_stream z;
	char *dir = tempdir(), *got, *cause = NULL;

	memset(&z, 0, sizeof z);
	ASSERT_INT_EQ(
	    deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = tar;
	z.avail_in = (uInt)len;
	z.next_out = gz;
	z.avail_out = sizeof gz;
	ASSERT_INT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
	deflateEnd(&z);
	ASSERT_INT_EQ(feature_tar_extract(gz, sizeof gz - z.avail_out, dir, &cause), 0);
	got = read_in(dir, "install.sh");
	ASSERT_STR_EQ(got, "#!/bin/sh\necho hi\n");
	free(got);
	/* A broken gzip stream is an error, not an empty Feature. */
	gz[20] ^= 0xff;
	expect_refused(gz, sizeof gz - z.avail_out, "gzip");
	feature_tar_remove_tree(dir);
	free(dir);
	free(tar);
}

/* The first entry of the directory dir other than "." and "..", or NULL
 * when it has none (new string, the caller frees it). */
static char *
first_entry(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char *name = NULL;

	if (d == NULL)
		return xstrdup("(cannot open the folder)");
	while (name == NULL && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			name = xstrdup(e->d_name);
	}
	closedir(d);
	return name;
}

TEST(refuses_escapes)
{
	const char *bad[] = { "../evil", "/etc/evil", "a/../../evil", "a/..", ".." };
	/* Extracted into x inside a folder of this test's own: an entry that
	 * escaped x would land beside it (root/evil), where no other run or
	 * user writes, rather than in a shared /tmp. */
	char *root = tempdir(), *dir = xasprintf("%s/x", root), *left;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		const char *names[] = { bad[i] };
		const char *data[] = { "x" };
		size_t len;
		unsigned char *tar = tar_of(1, names, data, &len);
		char *cause = NULL;
		int rc;

		ASSERT_INT_EQ(mkdir(dir, 0700), 0);
		rc = feature_tar_extract(tar, len, dir, &cause);
		ASSERT_INT_EQ(feature_tar_remove_tree(dir), 0);
		free(tar);
		if (rc == 0)
			TEST_FAIL("'%s' extracted, want an error", bad[i]);
		ASSERT_STR_CONTAINS(cause, "outside the Feature's folder");
		free(cause);
		/* nothing of it outside x (x itself removed above) */
		if ((left = first_entry(root)) != NULL)
			TEST_FAIL("'%s': '%s' was written beside the Feature's folder",
			    bad[i], left);
	}
	ASSERT_INT_EQ(rmdir(root), 0);
	free(dir);
	free(root);
}

TEST(refuses_links_and_devices)
{
	const char *names[] = { "link" };
	const char *data[] = { "" };
	size_t len;
	unsigned char *tar = tar_of(1, names, data, &len);

	memcpy(tar + 157, "/etc/passwd", 12); /* linkname */
	tar_set_type(tar, '2');
	expect_refused(
	    tar, len, "is a link to '/etc/passwd', outside the Feature's folder");
	tar_set_type(tar, '1');
	expect_refused(tar, len, "is a hard link");
	tar_set_type(tar, '3');
	expect_refused(tar, len, "unsupported type");
	free(tar);
}

/* An archive of a file "sub/f" and links (names[i] -> targets[i]). */
static unsigned char *
tar_with_links(
    size_t n, const char *const *names, const char *const *targets, size_t *len)
{
	const char *all[8] = { "sub/f" }, *data[8] = { "file" };
	unsigned char *tar;

	for (size_t i = 0; i < n; i++) {
		all[i + 1] = names[i];
		data[i + 1] = "";
	}
	tar = tar_of(n + 1, all, data, len);
	for (size_t i = 0; i < n; i++) {
		unsigned char *h = tar + 512 * (i + 2); /* after sub/f's data block */

		snprintf((char *)h + 157, 100, "%s", targets[i]);
		tar_set_type(h, '2');
	}
	return tar;
}

TEST(symlinks_inside_the_folder_are_made_last)
{
	const char *names[] = { "top", "sub/up", "sub/deep/l" };
	const char *targets[] = { "sub/f", "../sub/f", "../f" };
	char *dir = tempdir(), *cause = NULL, *path, link[64];
	size_t len;
	unsigned char *tar = tar_with_links(3, names, targets, &len);
	ssize_t n;

	ASSERT_INT_EQ(feature_tar_extract(tar, len, dir, &cause), 0);
	for (size_t i = 0; i < 3; i++) {
		char *got;

		path = xasprintf("%s/%s", dir, names[i]);
		n = readlink(path, link, sizeof link - 1);
		ASSERT_TRUE(n > 0);
		link[n] = '\0';
		ASSERT_STR_EQ(link, targets[i]);
		free(path);
		got = read_in(dir, names[i]);
		ASSERT_STR_EQ(got, "file");
		free(got);
	}
	feature_tar_remove_tree(dir);
	free(dir);
	free(tar);
}

TEST(symlinks_that_could_leave_the_folder_are_refused)
{
	const char *cases[][3] = {
		{ "l", "../x", "outside the Feature's folder" },
		{ "sub/l", "../../x", "outside the Feature's folder" },
		{ "l", "sub/../../x", "outside the Feature's folder" },
		{ "l", "sub/..", "outside the Feature's folder" },
		{ "l", "/etc", "outside the Feature's folder" },
		{ "l", "", "outside the Feature's folder" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t len;
		unsigned char *tar = tar_with_links(1, &cases[i][0], &cases[i][1], &len);

		expect_refused(tar, len, cases[i][2]);
		free(tar);
	}
	/* "d" -> "." then "d/l" -> "../x": through the first, the second would
	 * be outside. */
	{
		const char *names[] = { "d", "d/l" }, *targets[] = { ".", "x" };
		size_t len;
		unsigned char *tar = tar_with_links(2, names, targets, &len);

		expect_refused(tar, len, "a link inside another link");
		free(tar);
	}
}

TEST(pax_path_and_checks)
{
	/* A pax header naming the next file; the ustar name is ignored. */
	const char *names[] = { "PaxHeader", "short" };
	const char *data[] = { "29 path=long/name/install.sh\n", "ok" };
	size_t len;
	unsigned char *tar = tar_of(2, names, data, &len);
	char *dir = tempdir(), *got, *cause = NULL;

	tar_set_type(tar, 'x');
	ASSERT_INT_EQ(feature_tar_extract(tar, len, dir, &cause), 0);
	got = read_in(dir, "long/name/install.sh");
	ASSERT_STR_EQ(got, "ok");
	free(got);
	feature_tar_remove_tree(dir);
	free(dir);
	/* A bad checksum and a truncated archive. */
	tar[0] ^= 1;
	expect_refused(tar, len, "malformed header");
	tar[0] ^= 1;
	expect_refused(tar, 700, "truncated");
	free(tar);
}
