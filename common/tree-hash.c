/* tree-hash.c - a digest of a folder's contents (tree-hash.h). */
#include "tree-hash.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "byte-order.h"
#include "error.h"
#include "xmalloc.h"

static void
tree_hash_put_len(unsigned char n[8], uint64_t len)
{
	be_put_u32(n, (uint32_t)(len >> 32));
	be_put_u32(n + 4, (uint32_t)len);
}

static void
tree_hash_bytes(crypto_hash_sha256_state *st, const void *data, size_t len)
{
	unsigned char n[8];

	tree_hash_put_len(n, (uint64_t)len);
	crypto_hash_sha256_update(st, n, sizeof n);
	crypto_hash_sha256_update(st, data, len);
}

void
tree_hash_string(crypto_hash_sha256_state *st, const char *s)
{
	tree_hash_bytes(st, s, strlen(s));
}

/* A regular file's bytes, then their count. */
static int
tree_hash_file(crypto_hash_sha256_state *st, const char *path, char **cause)
{
	unsigned char buf[65536];
	uint64_t total = 0;
	unsigned char n[8];
	ssize_t got;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return error_set_errno(cause, errno, "%s", path);
	while ((got = read(fd, buf, sizeof buf)) != 0) {
		if (got < 0) {
			if (errno == EINTR)
				continue;
			error_set_errno(cause, errno, "%s", path);
			close(fd);
			return -1;
		}
		crypto_hash_sha256_update(st, buf, (size_t)got);
		total += (uint64_t)got;
	}
	close(fd);
	tree_hash_put_len(n, total);
	crypto_hash_sha256_update(st, n, sizeof n);
	return 0;
}

static int
tree_hash_walk(
    crypto_hash_sha256_state *st, const char *root, const char *rel, char **cause)
{
	char *dir = *rel != '\0' ? xasprintf("%s/%s", root, rel) : xstrdup(root);
	struct dirent **names = NULL;
	int n = scandir(dir, &names, NULL, alphasort), rc = 0;

	if (n < 0) {
		rc = error_set_errno(cause, errno, "%s", dir);
		free(dir);
		return rc;
	}
	for (int i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		char *sub, *path;
		struct stat sb;

		if (rc != 0 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
			continue;
		sub = *rel != '\0' ? xasprintf("%s/%s", rel, name) : xstrdup(name);
		path = xasprintf("%s/%s", root, sub);
		if (lstat(path, &sb) != 0)
			rc = error_set_errno(cause, errno, "%s", path);
		else if (S_ISDIR(sb.st_mode)) {
			tree_hash_string(st, "d");
			tree_hash_string(st, sub);
			rc = tree_hash_walk(st, root, sub, cause);
		} else if (S_ISREG(sb.st_mode)) {
			tree_hash_string(st, (sb.st_mode & 0111) != 0 ? "x" : "f");
			tree_hash_string(st, sub);
			rc = tree_hash_file(st, path, cause);
		} else if (S_ISLNK(sb.st_mode)) {
			char target[4096];
			ssize_t len = readlink(path, target, sizeof target - 1);

			if (len < 0)
				rc = error_set_errno(cause, errno, "%s", path);
			else {
				target[len] = '\0';
				tree_hash_string(st, "l");
				tree_hash_string(st, sub);
				tree_hash_string(st, target);
			}
		} else
			rc = error_set(cause, "%s: not a file, folder or symlink", path);
		free(path);
		free(sub);
	}
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(dir);
	return rc;
}

int
tree_hash_update(crypto_hash_sha256_state *st, const char *dir, char **cause)
{
	return tree_hash_walk(st, dir, "", cause);
}
