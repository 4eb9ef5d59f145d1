/* lockfile-copy.c - devcontainer-lock.json from the host's copy of an
 * uploaded folder back into the folder itself (client.h). */
#include "client.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "atomic-file.h"
#include "config-discover.h"
#include "error.h"
#include "feature-lock.h"
#include "progress.h"
#include "xmalloc.h"

/* Largest local lockfile compared (the agent's limit). */
#define LOCKFILE_COPY_MAX (16u << 20)

int
client_lockfile_wanted(const struct client_target *ct)
{
	return ct->remote != NULL && ct->src.text != NULL &&
	    ct->src.kind == SOURCE_LOCAL && ct->src.path != NULL;
}

/* Is rel a relative path of plain components whose last is a lockfile's
 * name (feature_lock_path()'s)? What the agent sends is checked like
 * anything else from the network: it must not lead out of the folder. */
static int
lockfile_copy_path_ok(const char *rel)
{
	const char *p = rel, *end, *base;
	size_t n;

	if (*rel == '\0' || *rel == '/')
		return 0;
	for (;;) {
		end = strchr(p, '/');
		n = end != NULL ? (size_t)(end - p) : strlen(p);
		if (n == 0 || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		if (end == NULL)
			break;
		p = end + 1;
	}
	base = p;
	return strcmp(base, "devcontainer-lock.json") == 0 ||
	    strcmp(base, ".devcontainer-lock.json") == 0;
}

/* Check each component of rel under folder: none may be a symlink (the
 * write would land where it points), the folders must be folders. 0, or -1
 * with *cause naming the component as shown (shown/...). */
static int
lockfile_copy_walk(const char *folder, const char *rel, const char *shown, char **cause)
{
	struct stat st;
	const char *end = rel;
	char *path;
	int last;

	for (;;) {
		end = strchr(end, '/');
		last = end == NULL;
		path = last ? xasprintf("%s/%s", folder, rel)
			    : xasprintf("%s/%.*s", folder, (int)(end - rel), rel);
		if (lstat(path, &st) != 0) {
			free(path);
			if (errno == ENOENT && last)
				return 0;
			return error_set_errno(cause, errno, "%s/%.*s", shown,
			    last ? (int)strlen(rel) : (int)(end - rel), rel);
		}
		free(path);
		if (S_ISLNK(st.st_mode))
			return error_set(cause,
			    "%s/%.*s is a symlink: not written through", shown,
			    last ? (int)strlen(rel) : (int)(end - rel), rel);
		if (last)
			return S_ISREG(st.st_mode)
			    ? 0
			    : error_set(cause, "%s/%s is not a regular file", shown, rel);
		if (!S_ISDIR(st.st_mode))
			return error_set(cause, "%s/%.*s is not a folder", shown,
			    (int)(end - rel), rel);
		end++;
	}
}

/* Is text (from the network) a lockfile at all: a JSON object, below the
 * size a lockfile is read with? */
static int
lockfile_copy_text_ok(const char *text)
{
	size_t len = strlen(text);
	cJSON *doc;
	int ok;

	if (len >= LOCKFILE_COPY_MAX)
		return 0;
	doc = cJSON_ParseWithLength(text, len);
	ok = cJSON_IsObject(doc);
	cJSON_Delete(doc);
	return ok;
}

/* The mode to write path with: its own, or a new file's (0666 less the
 * umask, as an editor would make it). */
static mode_t
lockfile_copy_mode(const char *path)
{
	struct stat st;
	mode_t mask;

	if (stat(path, &st) == 0)
		return st.st_mode & 07777;
	mask = umask(022);
	umask(mask);
	return 0666 & ~mask;
}

/* Does the file at path hold exactly text (len bytes)? A missing file does
 * not. */
static int
lockfile_copy_same(const char *path, const char *text, size_t len)
{
	char *have = NULL, *ignore = NULL;
	size_t have_len = 0;
	int same;

	if (file_read_all(path, LOCKFILE_COPY_MAX, &have, &have_len, &ignore) != 0) {
		free(ignore);
		return 0;
	}
	same = have_len == len && memcmp(have, text, len) == 0;
	free(have);
	return same;
}

/* The lockfile at path: 0 with *text (new; NULL: absent) and *len, or -1
 * when it cannot be read. */
static int
lockfile_copy_read(const char *path, char **text, size_t *len)
{
	struct stat st;
	char *ignore = NULL;

	*text = NULL;
	*len = 0;
	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : -1;
	if (file_read_all(path, LOCKFILE_COPY_MAX, text, len, &ignore) != 0) {
		free(ignore);
		*text = NULL;
		return -1;
	}
	return 0;
}

void
client_lockfile_remember(struct client_target *ct)
{
	const char *config = client_config_arg(ct->argc, ct->argv);
	char *file = NULL, *cause = NULL, *lock, *path;
	size_t n;

	/* (a git URL has no local path: nothing comes back to it) */
	if (!client_lockfile_wanted(ct))
		return;
	n = strlen(ct->src.path);
	if (config != NULL)
		file = realpath(config, NULL);
	else if (config_discover(ct->src.path, &file, &cause) != 0)
		free(cause);
	/* (a --config elsewhere: the agent sends no lockfile back) */
	if (file == NULL || strncmp(file, ct->src.path, n) != 0 || file[n] != '/') {
		free(file);
		return;
	}
	lock = feature_lock_path(file + n + 1);
	ct->lock_sent.config = xstrdup(file + n + 1);
	free(file);
	path = xasprintf("%s/%s", ct->src.path, lock);
	if (lockfile_copy_read(path, &ct->lock_sent.text, &ct->lock_sent.len) == 0)
		ct->lock_sent.rel = lock;
	else
		free(lock);
	free(path);
}

int
client_lockfile_copy(const struct client_target *ct, const cJSON *member,
    const struct progress *p, char **cause)
{
	const char *rel =
	    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(member, "path"));
	const char *text =
	    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(member, "text"));
	char *shown, *path, *why = NULL, *have = NULL;
	size_t n, have_len = 0;
	int rc = -1;

	if (member == NULL || !client_lockfile_wanted(ct))
		return 0;
	/* The folder as the user typed it, without a trailing '/'. */
	n = strlen(ct->src.text);
	while (n > 1 && ct->src.text[n - 1] == '/')
		n--;
	shown = xasprintf("%.*s", (int)n, ct->src.text);
	if (rel == NULL || text == NULL || !lockfile_copy_path_ok(rel)) {
		error_set(cause,
		    "the host's devcontainer-lock.json was not copied into %s: "
		    "the answer names no lockfile in the folder (path %s)",
		    shown, rel != NULL ? rel : "missing");
		free(shown);
		return -1;
	}
	if (!lockfile_copy_text_ok(text)) {
		error_set(cause,
		    "the host's %s was not copied into %s: not a JSON object "
		    "below %u bytes",
		    rel, shown, LOCKFILE_COPY_MAX);
		free(shown);
		return -1;
	}
	path = xasprintf("%s/%s", ct->src.path, rel);
	/* (read before the walk: a symlinked lockfile that holds the text
	 * already is no write, and no warning) */
	if (lockfile_copy_same(path, text, strlen(text))) {
		rc = 0;
		goto out;
	}
	if (lockfile_copy_walk(ct->src.path, rel, shown, &why) != 0)
		goto warn;
	/* Only over the bytes uploaded: an edit made here since then stays
	 * (the host's lockfile was made from what was uploaded). */
	if (ct->lock_sent.rel == NULL || strcmp(ct->lock_sent.rel, rel) != 0) {
		error_set(&why, "%s/%s was not read before the upload: not overwritten",
		    shown, rel);
		goto warn;
	}
	if (lockfile_copy_read(path, &have, &have_len) != 0 ||
	    (have == NULL) != (ct->lock_sent.text == NULL) ||
	    (have != NULL &&
		(have_len != ct->lock_sent.len ||
		    memcmp(have, ct->lock_sent.text, have_len) != 0))) {
		error_set(&why, "%s/%s changed here since the upload: not overwritten",
		    shown, rel);
		goto warn;
	}
	if (atomic_file_write(path, text, strlen(text), lockfile_copy_mode(path), &why) !=
	    0)
		goto warn;
	progress_line(p, "Wrote %s/%s", shown, rel);
	rc = 1;
	goto out;
warn:
	error_set(cause, "devcontainer-lock.json not copied from the host: %s", why);
	free(why);
out:
	free(have);
	free(path);
	free(shown);
	return rc;
}

void
client_lockfile_warn(const char *name, const struct progress *p, char *cause)
{
	/* (-q holds it, as the progress it follows) */
	if (p != NULL && p->json)
		progress_line(p, "rdev: %s: warning: %s", name, cause);
	else
		progress_stderr_line(0, "rdev: %s: warning: %s", name, cause);
	free(cause);
}
