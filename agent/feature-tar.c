/* feature-tar.c - unpack a Feature's archive into the cache (feature-fetch.h):
 * gzip or plain tar, ustar with the pax and GNU long-name extensions the
 * publishing tools write. Only files and directories, only inside the target:
 * an archive is data from the network. */
#include "feature-fetch.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "atomic-file.h"
#include "buf.h"
#include "error.h"
#include "tar-stream.h"
#include "xmalloc.h"

/* Largest archive once gunzipped. */
#define FEATURE_TAR_MAX (512u << 20)

/* gunzip data into *out (buf_free). 0 or -1 with *cause. */
static int
feature_tar_gunzip(const void *data, size_t len, struct buf **out, char **cause)
{
	z_stream z;
	int zrc;

	memset(&z, 0, sizeof z);
	if (inflateInit2(&z, 15 + 16) != Z_OK)
		fatal("inflateInit2 failed");
	*out = buf_new();
	z.next_in = (Bytef *)(uintptr_t)data;
	z.avail_in = (uInt)len;
	do {
		z.next_out = buf_reserve(*out, 65536);
		z.avail_out = 65536;
		zrc = inflate(&z, Z_NO_FLUSH);
		buf_commit(*out, 65536 - z.avail_out);
		if (buf_len(*out) > FEATURE_TAR_MAX) {
			inflateEnd(&z);
			buf_free(*out);
			*out = NULL;
			return error_set(cause, "archive larger than %u bytes unpacked",
			    FEATURE_TAR_MAX);
		}
	} while (zrc == Z_OK);
	inflateEnd(&z);
	if (zrc != Z_STREAM_END) {
		buf_free(*out);
		*out = NULL;
		return error_set(
		    cause, "archive is not valid gzip (%s)", z.msg ? z.msg : "truncated");
	}
	return 0;
}

/* The value of key ("path", "linkpath") in pax extended-header records,
 * new string or NULL. */
static char *
feature_tar_pax_value(const unsigned char *p, size_t n, const char *key)
{
	size_t klen = strlen(key);
	char *path = NULL;

	while (n > 0) {
		unsigned long len = 0;
		size_t i = 0;
		while (i < n && p[i] >= '0' && p[i] <= '9' && len < n)
			len = len * 10 + (p[i++] - '0');
		if (i == 0 || i >= n || p[i] != ' ' || len > n || len <= i + 1 ||
		    p[len - 1] != '\n')
			break;
		if (len - i - 2 >= klen + 1 && memcmp(p + i + 1, key, klen) == 0 &&
		    p[i + 1 + klen] == '=') {
			free(path);
			path =
			    xstrndup((const char *)p + i + 2 + klen, len - i - 3 - klen);
		}
		p += len;
		n -= len;
	}
	return path;
}

/* Make name (from the archive) a safe relative path: leading "./" and
 * empty components dropped; absolute names and ".." refused. New string
 * ("" for the top directory itself) or NULL. */
static char *
feature_tar_clean(const char *name)
{
	struct buf *b = buf_new();
	const char *p = name;

	if (name[0] == '/') {
		buf_free(b);
		return NULL;
	}
	while (*p != '\0') {
		size_t n = strcspn(p, "/");
		if ((n == 2 && strncmp(p, "..", 2) == 0)) {
			buf_free(b);
			return NULL;
		}
		if (n > 0 && !(n == 1 && *p == '.')) {
			if (buf_len(b) > 0)
				buf_append(b, "/", 1);
			buf_append(b, p, n);
		}
		p += n;
		while (*p == '/')
			p++;
	}
	{
		char *text = buf_take_string(b, NULL);

		buf_free(b);
		return text;
	}
}

/* mkdir -p rel under dir (rel is clean: no "..", no symlinks exist). */
static int
feature_tar_mkdirs(const char *dir, const char *rel, char **cause)
{
	char *path = xasprintf("%s/%s", dir, rel), *s;
	size_t skip = strlen(dir) + 1;

	for (s = path + skip;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST) {
			error_set_errno(cause, errno, "cannot create %s", path + skip);
			free(path);
			return -1;
		}
		if (c == '\0')
			break;
		*s = c;
	}
	free(path);
	return 0;
}

/* Write one regular file rel under dir. */
static int
feature_tar_file(const char *dir, const char *rel, const unsigned char *data, size_t len,
    unsigned mode, char **cause)
{
	char *path, *slash;
	int fd;

	if ((slash = strrchr(rel, '/')) != NULL) {
		char *parent = xstrndup(rel, (size_t)(slash - rel));
		int rc = feature_tar_mkdirs(dir, parent, cause);
		free(parent);
		if (rc != 0)
			return -1;
	}
	path = xasprintf("%s/%s", dir, rel);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
	    (mode & 0755) | 0644);
	if (fd < 0 || fd_write_all(fd, data, len) != 0) {
		error_set_errno(cause, errno, "cannot write %s", rel);
		if (fd >= 0)
			close(fd);
		free(path);
		return -1;
	}
	close(fd);
	free(path);
	return 0;
}

/* The symbolic links of an archive, made once everything else is there. */
struct feature_tar_links {
	char **names; /* clean paths under the folder */
	char **targets;
	size_t n;
};

/* Is target, a link's at rel, inside the folder whatever the other links
 * are? It must be relative, its ".." components first (they climb real
 * folders: no link's path goes through another link) and not above the
 * top; the rest only descends, through links that are checked the same. */
static int
feature_tar_link_target_ok(const char *rel, const char *target)
{
	size_t depth = 0, n;
	const char *p;

	if (target[0] == '/' || target[0] == '\0')
		return 0;
	for (p = rel; (p = strchr(p, '/')) != NULL; p++)
		depth++;
	for (p = target; *p == '/' ||
	     (p[0] == '.' && p[1] == '.' && (p[2] == '/' || p[2] == '\0'));) {
		if (*p == '/') {
			p++;
			continue;
		}
		if (depth == 0)
			return 0;
		depth--;
		p += 2;
	}
	while (*p != '\0') {
		n = strcspn(p, "/");
		if (n == 2 && strncmp(p, "..", 2) == 0)
			return 0;
		p += n;
		while (*p == '/')
			p++;
	}
	return 1;
}

/* Record the link at rel (clean) to target, or refuse it. */
static int
feature_tar_link_add(
    struct feature_tar_links *l, const char *rel, const char *target, char **cause)
{
	size_t rlen = strlen(rel);

	if (rel[0] == '\0')
		return error_set(cause, "archive has a link without a name");
	if (!feature_tar_link_target_ok(rel, target))
		return error_set(cause,
		    "archive entry '%s' is a link to '%s', outside the Feature's "
		    "folder",
		    rel, target);
	for (size_t i = 0; i < l->n; i++) {
		size_t n = strlen(l->names[i]);

		if ((rlen > n && strncmp(rel, l->names[i], n) == 0 && rel[n] == '/') ||
		    (n > rlen && strncmp(l->names[i], rel, rlen) == 0 &&
			l->names[i][rlen] == '/'))
			return error_set(
			    cause, "archive entry '%s': a link inside another link", rel);
	}
	l->names = xreallocarray(l->names, l->n + 1, sizeof *l->names);
	l->targets = xreallocarray(l->targets, l->n + 1, sizeof *l->targets);
	l->names[l->n] = xstrdup(rel);
	l->targets[l->n++] = xstrdup(target);
	return 0;
}

/* Make the recorded links, each in its (real) parent folder. */
static int
feature_tar_links_make(const struct feature_tar_links *l, const char *dir, char **cause)
{
	for (size_t i = 0; i < l->n; i++) {
		char *slash = strrchr(l->names[i], '/'), *path;
		int rc = 0;

		if (slash != NULL) {
			char *parent =
			    xstrndup(l->names[i], (size_t)(slash - l->names[i]));

			rc = feature_tar_mkdirs(dir, parent, cause);
			free(parent);
		}
		if (rc != 0)
			return -1;
		path = xasprintf("%s/%s", dir, l->names[i]);
		if (symlink(l->targets[i], path) != 0) {
			error_set_errno(
			    cause, errno, "cannot make the link %s", l->names[i]);
			free(path);
			return -1;
		}
		free(path);
	}
	return 0;
}

static void
feature_tar_links_clear(struct feature_tar_links *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->names[i]);
		free(l->targets[i]);
	}
	free(l->names);
	free(l->targets);
}

int
feature_tar_extract(const void *data, size_t len, const char *dir, char **cause)
{
	struct feature_tar_links links = { 0 };
	char *long_link = NULL;
	struct buf *plain = NULL;
	const unsigned char *t = data;
	char *long_name = NULL;
	size_t off = 0;
	int rc = -1;

	if (len >= 2 && t[0] == 0x1f && t[1] == 0x8b) {
		if (feature_tar_gunzip(data, len, &plain, cause) != 0)
			return -1;
		t = buf_data(plain);
		len = buf_len(plain);
	}
	for (;;) {
		const unsigned char *h = t + off;
		unsigned long long size, mode;
		char name[257], *rel;

		if (off == len) {
			/* no end-of-archive blocks: some writers omit them */
			rc = feature_tar_links_make(&links, dir, cause);
			goto out;
		}
		if (off + 512 > len) {
			error_set(cause, "archive is truncated");
			goto out;
		}
		if (h[0] == '\0') { /* the end-of-archive block */
			rc = feature_tar_links_make(&links, dir, cause);
			goto out;
		}
		if (!tar_checksum_ok(h) || tar_number(h + 124, 12, &size) != 0 ||
		    tar_number(h + 100, 8, &mode) != 0) {
			error_set(
			    cause, "archive has a malformed header at byte %zu", off);
			goto out;
		}
		off += 512;
		if (size > len - off) {
			error_set(cause, "archive is truncated");
			goto out;
		}
		if (h[156] == 'x') {
			free(long_name);
			free(long_link);
			long_name = feature_tar_pax_value(t + off, (size_t)size, "path");
			long_link =
			    feature_tar_pax_value(t + off, (size_t)size, "linkpath");
			off += ((size_t)size + 511) / 512 * 512;
			continue;
		}
		if (h[156] == 'L' || h[156] == 'K') {
			char **to = h[156] == 'L' ? &long_name : &long_link;

			free(*to);
			*to = xstrndup((const char *)t + off, (size_t)size);
			off += ((size_t)size + 511) / 512 * 512;
			continue;
		}
		if (h[156] == 'g') {
			off += ((size_t)size + 511) / 512 * 512;
			continue;
		}
		if (long_name != NULL) {
			snprintf(name, sizeof name, "%s", "");
		} else if (memcmp(h + 257, "ustar", 5) == 0 && h[345] != '\0') {
			snprintf(name, sizeof name, "%.155s/%.100s",
			    (const char *)h + 345, (const char *)h);
		} else
			snprintf(name, sizeof name, "%.100s", (const char *)h);
		if ((rel = feature_tar_clean(long_name != NULL ? long_name : name)) ==
		    NULL) {
			error_set(cause,
			    "archive entry '%s' is outside the Feature's folder",
			    long_name != NULL ? long_name : name);
			goto out;
		}
		free(long_name);
		long_name = NULL;
		switch (h[156]) {
		case '0':
		case '\0':
		case '7':
			if (rel[0] == '\0') {
				error_set(cause, "archive has a file without a name");
				free(rel);
				goto out;
			}
			if (feature_tar_file(dir, rel, t + off, (size_t)size,
				(unsigned)mode, cause) != 0) {
				free(rel);
				goto out;
			}
			break;
		case '5':
			if (rel[0] != '\0' && feature_tar_mkdirs(dir, rel, cause) != 0) {
				free(rel);
				goto out;
			}
			break;
		case '2': {
			char target[101];

			snprintf(target, sizeof target, "%.100s", (const char *)h + 157);
			if (feature_tar_link_add(&links, rel,
				long_link != NULL ? long_link : target, cause) != 0) {
				free(rel);
				goto out;
			}
			break;
		}
		case '1':
			error_set(cause,
			    "archive entry '%s' is a hard link (not supported in "
			    "Features)",
			    rel);
			free(rel);
			goto out;
		default:
			error_set(cause, "archive entry '%s' has unsupported type '%c'",
			    rel, h[156]);
			free(rel);
			goto out;
		}
		free(rel);
		free(long_link);
		long_link = NULL;
		off += ((size_t)size + 511) / 512 * 512;
	}
out:
	feature_tar_links_clear(&links);
	free(long_link);
	free(long_name);
	buf_free(plain);
	return rc;
}

static int
feature_tar_remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return (flag == FTW_DP ? rmdir(path) : unlink(path)) == 0 || errno == ENOENT ? 0
										     : -1;
}

int
feature_tar_remove_tree(const char *dir)
{
	return nftw(dir, feature_tar_remove_one, 16, FTW_DEPTH | FTW_PHYS);
}
