/* config.c - loading a workspace's dev container configuration (see
 * config.h). */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "config-discover.h"
#include "error.h"
#include "xmalloc.h"

#define CONFIG_MAX_SIZE (16u * 1024 * 1024)

struct config {
	char *file;
	char *source_file; /* --override-config, or NULL */
	char **id_labels;
	int id_labels_given;
	char *local_folder;
	struct jsonc_doc *doc;
	cJSON *raw;
	cJSON *object;
	enum config_kind kind;
	char *devcontainer_id;
	struct config_warnings warnings;
	char *container_folder_raw; /* the raw or default workspaceFolder */
	struct config_subst_ctx ctx;
	char *workspace_folder;
	char *workspace_mount;
	char *worktree_mount; /* --mount-git-worktree-common-dir's, or NULL */
};

/* Read a whole file (up to CONFIG_MAX_SIZE); caller frees. Sized by fstat()
 * so a small file costs one small allocation: reading through stdio into
 * 64 KiB chunks made glibc grow and trim the heap on every load. */
static char *
config_read_file(const char *path, size_t *len, char **cause)
{
	struct stat sb;
	char *text;
	size_t size, used = 0, want;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		error_set_errno(cause, errno, "%s", path);
		return NULL;
	}
	if (fstat(fd, &sb) != 0) {
		error_set_errno(cause, errno, "%s", path);
		close(fd);
		return NULL;
	}
	/* A regular file is read up to the size fstat() gave, as node's
	 * readFile() does (no read to see the end); anything else to EOF. */
	size = 4096;
	want = (size_t)-1;
	if (S_ISREG(sb.st_mode) && sb.st_size >= 0 &&
	    (unsigned long long)sb.st_size <= CONFIG_MAX_SIZE) {
		want = (size_t)sb.st_size;
		size = want + 2;
	}
	text = xmalloc(size);
	while (used < want) {
		if (used + 1 == size) {
			if (used > CONFIG_MAX_SIZE)
				break;
			size *= 2;
			text = xreallocarray(text, 1, size);
		}
		n = read(fd, text + used, size - 1 - used);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			error_set_errno(cause, errno, "%s", path);
			goto fail;
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	if (used > CONFIG_MAX_SIZE) {
		error_set(cause, "%s: larger than %u bytes", path, CONFIG_MAX_SIZE);
		goto fail;
	}
	close(fd);
	text[used] = '\0';
	*len = used;
	return text;
fail:
	close(fd);
	free(text);
	return NULL;
}

char *
config_read_text(const char *path, char **cause)
{
	size_t len;

	return config_read_file(path, &len, cause);
}

/* The absolute workspace folder, which must be a directory. */
static char *
config_local_folder(const char *arg, char **cause)
{
	struct stat sb;
	char *folder;

	if ((folder = config_discover_resolve(NULL, arg, cause)) == NULL)
		return NULL;
	if (stat(folder, &sb) != 0) {
		error_set_errno(cause, errno, "workspace folder %s", folder);
		free(folder);
		return NULL;
	}
	if (!S_ISDIR(sb.st_mode)) {
		error_set(cause, "workspace folder %s: not a directory", folder);
		free(folder);
		return NULL;
	}
	return folder;
}

/* Which file is the configuration: --config (relative to cwd) or
 * discovery; with --override-config, a workspace without one has the
 * reference's default path. */
static char *
config_find_file(const struct config_load_opts *opts, const char *local, char **cause)
{
	char *file, *ignore = NULL;

	if (opts->config_file != NULL)
		return config_discover_resolve(NULL, opts->config_file, cause);
	if (opts->override_config == NULL) {
		if (config_discover(local, &file, cause) != 0)
			return NULL;
		return file;
	}
	if (config_discover(local, &file, &ignore) == 0)
		return file;
	free(ignore);
	return xasprintf(
	    "%s/.devcontainer/devcontainer.json", strcmp(local, "/") == 0 ? "" : local);
}

/* The id labels: --id-label's (given), else the default two of local and
 * file. New NULL-terminated array; *labels_given says which. */
static char **
config_make_id_labels(
    const cJSON *given, const char *local, const char *file, int *labels_given)
{
	const cJSON *e;
	size_t n = 0;
	char **labels = xcalloc((size_t)cJSON_GetArraySize(given) + 3, sizeof(char *));

	cJSON_ArrayForEach(e, given)
		if (cJSON_IsString(e))
			labels[n++] = xstrdup(e->valuestring);
	*labels_given = n > 0;
	if (n > 0)
		return labels;
	labels[0] = xasprintf("devcontainer.local_folder=%s", local);
	labels[1] = xasprintf("devcontainer.config_file=%s", file);
	return labels;
}

static void
config_set_id_labels(struct config *cfg, const cJSON *given)
{
	cfg->id_labels = config_make_id_labels(
	    given, cfg->local_folder, cfg->file, &cfg->id_labels_given);
}

char **
config_load_id_labels(const struct config_load_opts *opts, char **cause)
{
	char *local, *file, **labels;
	int given;

	if ((local = config_local_folder(opts->workspace_folder, cause)) == NULL)
		return NULL;
	if ((file = config_find_file(opts, local, cause)) == NULL) {
		free(local);
		return NULL;
	}
	labels = config_make_id_labels(opts->id_labels, local, file, &given);
	free(local);
	free(file);
	return labels;
}

char **
config_bare_id_labels(const struct config_load_opts *opts)
{
	char *local, *file = NULL, **labels, *ignore = NULL;
	int given;

	/* (lexical: as config_local_folder() makes the label's path) */
	if ((local = config_discover_resolve(NULL, opts->workspace_folder, &ignore)) ==
	    NULL) {
		free(ignore);
		return NULL;
	}
	if (opts->config_file != NULL &&
	    (file = config_discover_resolve(NULL, opts->config_file, &ignore)) == NULL) {
		free(ignore);
		free(local);
		return NULL;
	}
	labels = config_make_id_labels(
	    opts->id_labels, local, file != NULL ? file : "", &given);
	if (!given && file == NULL) { /* (no file: the folder's label alone) */
		free(labels[1]);
		labels[1] = NULL;
	}
	free(local);
	free(file);
	return labels;
}

char **
config_folder_id_labels(const struct config_load_opts *opts, char **cause)
{
	char *local, **labels = NULL;
	int given;

	if ((local = config_local_folder(opts->workspace_folder, cause)) == NULL)
		return NULL;
	labels = config_make_id_labels(opts->id_labels, local, "", &given);
	if (!given) { /* (the config_file label's slot is not wanted) */
		free(labels[1]);
		labels[1] = NULL;
	}
	free(local);
	return labels;
}

void
config_id_labels_free(char **labels)
{
	xstrv_free(labels);
}

static int
config_parse_file(struct config *cfg, char **cause)
{
	const char *from = cfg->source_file != NULL ? cfg->source_file : cfg->file;
	char *text;
	size_t len;

	if ((text = config_read_file(from, &len, cause)) == NULL)
		return -1;
	cfg->doc = jsonc_parse(from, text, len, cause);
	free(text);
	if (cfg->doc == NULL)
		return -1;
	return config_validate(cfg->doc, &cfg->kind, &cfg->warnings, cause);
}

/* The last "/"-separated component of path ("" for "/"). */
static const char *
config_basename(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash == NULL ? path : slash + 1;
}

char *
config_default_workspace_folder(const char *mount_folder, const char *local)
{
	size_t n = strlen(mount_folder);
	const char *rel = "";

	if (strncmp(local, mount_folder, n) == 0 && (local[n] == '/' || local[n] == '\0'))
		rel = local + n;
	else if (strcmp(mount_folder, "/") == 0)
		rel = local;
	if (*config_basename(mount_folder) == '\0')
		return xasprintf("/workspaces%s", rel);
	return xasprintf("/workspaces/%s%s", config_basename(mount_folder), rel);
}

/* Append the mount field NAME=VALUE to b as CSV reads it back: quoted when
 * VALUE holds a comma (the reference quotes then, and only then), a double
 * quote (doubled inside) or a line break, which unquoted would make the
 * mount string unreadable for a folder that is perfectly fine. */
static void
config_mount_field(struct buf *b, const char *name, const char *value)
{
	const char *p;

	if (strpbrk(value, ",\"\r\n") == NULL) {
		buf_appendf(b, "%s=%s", name, value);
		return;
	}
	buf_appendf(b, "\"%s=", name);
	for (p = value; *p != '\0'; p++) {
		if (*p == '"')
			buf_append(b, "\"", 1);
		buf_append(b, p, 1);
	}
	buf_append(b, "\"", 1);
}

/* "type=bind,source=SOURCE,target=TARGET", each field quoted when it must be
 * (config_mount_field). New string, caller frees. */
static char *
config_bind_mount(const char *source, const char *target)
{
	struct buf *b = buf_new();
	char *s;

	buf_appendf(b, "type=bind,");
	config_mount_field(b, "source", source);
	buf_appendf(b, ",");
	config_mount_field(b, "target", target);
	s = buf_take_string(b, NULL);
	buf_free(b);
	return s;
}

char *
config_default_workspace_mount(const char *mount_folder)
{
	const char *base = config_basename(mount_folder);
	char *target = xasprintf("/workspaces%s%s", *base == '\0' ? "" : "/", base), *s;

	s = config_bind_mount(mount_folder, target);
	free(target);
	return s;
}

/* The X of the first line "gitdir: X" of mount_folder's .git when that is
 * a file (a linked work tree's), as the reference's /^gitdir:\s*(.+)$/m
 * reads it; new string, or NULL. */
static char *
config_worktree_gitdir(const char *mount_folder)
{
	char *path = xasprintf("%s/.git", mount_folder), *text, *cause = NULL, *p, *end;
	char *gitdir = NULL;
	struct stat sb;
	size_t len;

	if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    (text = config_read_file(path, &len, &cause)) == NULL) {
		free(cause);
		free(path);
		return NULL;
	}
	free(path);
	for (p = text; p != NULL && *p != '\0'; p = strchr(p, '\n'), p += p != NULL) {
		if (strncmp(p, "gitdir:", 7) != 0)
			continue;
		p += 7;
		p += strspn(p, " \t\r\n\v\f");
		end = p + strcspn(p, "\r\n"); /* as the reference's (.+)$ */
		if (end > p) {
			gitdir = xstrndup(p, end - p);
			break;
		}
	}
	free(text);
	return gitdir;
}

/* The reference's --mount-git-worktree-common-dir: mount_folder is a work
 * tree made with relative paths (`git worktree add --relative-paths`), its
 * .git a file "gitdir: X" with X relative. The common dir C (X/../..) is
 * mounted where X/../.. points from the workspace mount's target, and that
 * target is /workspaces/ + mount_folder's components below the deepest
 * folder holding C, so the relative paths hold inside the container too.
 * Sets *target (new) and cfg->worktree_mount; 0, or -1 when it does not
 * apply (mount_folder's default target stays). */
static int
config_worktree_defaults(struct config *cfg, const char *mount_folder, char **target)
{
	char *gitdir = config_worktree_gitdir(mount_folder), *rel, *common, *dir;
	char *up, *inner, *cause = NULL, *slash;
	size_t n;

	if (gitdir == NULL || gitdir[0] == '/') {
		free(gitdir);
		return -1;
	}
	rel = xasprintf("%s/../..", gitdir);
	if ((common = config_discover_resolve(mount_folder, rel, &cause)) == NULL) {
		free(cause);
		free(rel);
		free(gitdir);
		return -1;
	}
	/* The deepest ancestor of mount_folder that holds common. */
	dir = xstrdup(mount_folder);
	for (;;) {
		n = strlen(dir);
		if (strcmp(dir, "/") == 0 ||
		    (strncmp(common, dir, n) == 0 && common[n] == '/'))
			break;
		slash = strrchr(dir, '/');
		slash[slash == dir] = '\0';
	}
	*target = xasprintf("/workspaces%s",
	    strcmp(dir, "/") == 0 ? mount_folder : mount_folder + strlen(dir));
	up = xasprintf("%s/%s", *target, rel);
	inner = config_discover_normal(up);
	cfg->worktree_mount = config_bind_mount(common, inner);
	free(inner);
	free(up);
	free(dir);
	free(common);
	free(rel);
	free(gitdir);
	return 0;
}

/* A string property of obj if it is a non-empty string, else NULL. */
static const char *
config_nonempty_string(const cJSON *obj, const char *name)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);

	if (cJSON_IsString(item) && item->valuestring[0] != '\0')
		return item->valuestring;
	return NULL;
}

/* The workspace folder and mount before substitution, as the reference's
 * getWorkspaceConfiguration() works them out. */
static void
config_workspace_defaults(struct config *cfg, const struct config_load_opts *opts)
{
	const char *wsf = config_nonempty_string(cfg->raw, "workspaceFolder");
	char *mount_folder = NULL, *target = NULL;
	int has_mount =
	    cJSON_GetObjectItemCaseSensitive(cfg->raw, "workspaceMount") != NULL;

	if (cfg->kind == CONFIG_KIND_COMPOSE) {
		cfg->container_folder_raw = xstrdup(wsf != NULL ? wsf : "/");
		return;
	}
	if (!opts->no_git_root)
		mount_folder = config_discover_git_root(cfg->local_folder);
	if (mount_folder == NULL)
		mount_folder = xstrdup(cfg->local_folder);
	if (wsf != NULL && has_mount) {
		cfg->container_folder_raw = xstrdup(wsf);
		free(mount_folder);
		return;
	}
	if (!opts->no_git_root && opts->git_worktree_common_dir &&
	    config_worktree_defaults(cfg, mount_folder, &target) == 0) {
		/* The local folder's place below its git root, below target. */
		cfg->container_folder_raw = wsf != NULL
		    ? xstrdup(wsf)
		    : xasprintf("%s%s", target,
			  cfg->local_folder +
			      (strcmp(mount_folder, "/") == 0 ? 0
							      : strlen(mount_folder)));
		if (!has_mount)
			cfg->workspace_mount = config_bind_mount(mount_folder, target);
		free(target);
		free(mount_folder);
		return;
	}
	cfg->container_folder_raw = wsf != NULL
	    ? xstrdup(wsf)
	    : config_default_workspace_folder(mount_folder, cfg->local_folder);
	if (!has_mount)
		cfg->workspace_mount = config_default_workspace_mount(mount_folder);
	free(mount_folder);
}

/* Substitute the local variables and take the workspace values from the
 * result, as the reference's readDevContainerConfigFile() does. */
static int
config_substitute(struct config *cfg, const struct config_load_opts *opts, char **cause)
{
	const cJSON *item;

	cfg->ctx.local_workspace_folder = cfg->local_folder;
	cfg->ctx.container_workspace_folder = cfg->container_folder_raw;
	cfg->ctx.devcontainer_id =
	    opts->keep_devcontainer_id ? NULL : cfg->devcontainer_id;
	cfg->ctx.local_env =
	    opts->local_env != NULL ? opts->local_env : config_env_lookup_process;
	cfg->ctx.local_env_arg = opts->local_env_arg;
	cfg->object = config_subst_checked(cfg->raw, &cfg->ctx, cause);
	if (cfg->object == NULL)
		return error_prefix(cause, "%s", config_get_source_file(cfg));
	item = cJSON_GetObjectItemCaseSensitive(cfg->object, "workspaceFolder");
	cfg->workspace_folder =
	    xstrdup(cJSON_IsString(item) ? item->valuestring : cfg->container_folder_raw);
	item = cJSON_GetObjectItemCaseSensitive(cfg->object, "workspaceMount");
	if (item != NULL) {
		free(cfg->workspace_mount);
		cfg->workspace_mount =
		    cJSON_IsString(item) ? xstrdup(item->valuestring) : NULL;
	}
	return 0;
}

struct config *
config_load(const struct config_load_opts *opts, char **cause)
{
	struct config *cfg = xcalloc(1, sizeof *cfg);

	if ((cfg->local_folder = config_local_folder(opts->workspace_folder, cause)) ==
	    NULL)
		goto fail;
	if ((cfg->file = config_find_file(opts, cfg->local_folder, cause)) == NULL)
		goto fail;
	if (opts->override_config != NULL &&
	    (cfg->source_file =
		    config_discover_resolve(NULL, opts->override_config, cause)) == NULL)
		goto fail;
	if (config_parse_file(cfg, cause) != 0)
		goto fail;
	cfg->raw = cJSON_Duplicate(jsonc_doc_root(cfg->doc), 1);
	if (cfg->raw == NULL)
		fatal("out of memory");
	config_update_legacy(cfg->raw);
	config_set_id_labels(cfg, opts->id_labels);
	cfg->devcontainer_id = config_devcontainer_id_labels(cfg->id_labels);
	config_workspace_defaults(cfg, opts);
	if (config_substitute(cfg, opts, cause) != 0 ||
	    config_validate_env(cfg->doc, cfg->object, cause) != 0)
		goto fail;
	return cfg;
fail:
	config_free(cfg);
	return NULL;
}

void
config_free(struct config *cfg)
{
	if (cfg == NULL)
		return;
	free(cfg->file);
	free(cfg->source_file);
	config_id_labels_free(cfg->id_labels);
	free(cfg->local_folder);
	jsonc_doc_free(cfg->doc);
	cJSON_Delete(cfg->raw);
	cJSON_Delete(cfg->object);
	free(cfg->devcontainer_id);
	config_warnings_clear(&cfg->warnings);
	free(cfg->container_folder_raw);
	free(cfg->workspace_folder);
	free(cfg->workspace_mount);
	free(cfg->worktree_mount);
	free(cfg);
}

const char *
config_get_file(const struct config *cfg)
{
	return cfg->file;
}

const char *
config_get_source_file(const struct config *cfg)
{
	return cfg->source_file != NULL ? cfg->source_file : cfg->file;
}

char *const *
config_get_id_labels(const struct config *cfg)
{
	return cfg->id_labels;
}

int
config_id_labels_given(const struct config *cfg)
{
	return cfg->id_labels_given;
}

const char *
config_get_local_folder(const struct config *cfg)
{
	return cfg->local_folder;
}

const cJSON *
config_get_object(const struct config *cfg)
{
	return cfg->object;
}

const cJSON *
config_get_raw(const struct config *cfg)
{
	return cfg->raw;
}

const struct jsonc_doc *
config_get_doc(const struct config *cfg)
{
	return cfg->doc;
}

enum config_kind
config_get_kind(const struct config *cfg)
{
	return cfg->kind;
}

const char *
config_get_devcontainer_id(const struct config *cfg)
{
	return cfg->devcontainer_id;
}

const struct config_warnings *
config_get_warnings(const struct config *cfg)
{
	return &cfg->warnings;
}

const struct config_subst_ctx *
config_get_subst_ctx(const struct config *cfg)
{
	return &cfg->ctx;
}

const char *
config_get_workspace_folder(const struct config *cfg)
{
	return cfg->workspace_folder;
}

const char *
config_get_workspace_mount(const struct config *cfg)
{
	return cfg->workspace_mount;
}

const char *
config_get_worktree_mount(const struct config *cfg)
{
	return cfg->worktree_mount;
}

cJSON *
config_workspace_json(const struct config *cfg)
{
	cJSON *ws = cJSON_CreateObject();

	if (ws == NULL)
		fatal("out of memory");
	if (cfg->workspace_folder != NULL)
		cJSON_AddStringToObject(ws, "workspaceFolder", cfg->workspace_folder);
	if (cfg->workspace_mount != NULL)
		cJSON_AddStringToObject(ws, "workspaceMount", cfg->workspace_mount);
	if (cfg->worktree_mount != NULL)
		cJSON_AddStringToObject(ws, "additionalMountString", cfg->worktree_mount);
	return ws;
}

int
config_override_command(enum config_kind kind, const cJSON *obj)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, "overrideCommand");

	if (cJSON_IsBool(item))
		return cJSON_IsTrue(item);
	return kind != CONFIG_KIND_COMPOSE;
}

int
config_update_remote_user_uid(const cJSON *obj)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, "updateRemoteUserUID");

	return cJSON_IsBool(item) ? cJSON_IsTrue(item) : 1;
}

const char *
config_wait_for(const cJSON *obj)
{
	const char *s = config_nonempty_string(obj, "waitFor");

	return s != NULL ? s : "updateContentCommand";
}

const char *
config_shutdown_action(enum config_kind kind, const cJSON *obj)
{
	const char *s = config_nonempty_string(obj, "shutdownAction");

	if (s != NULL)
		return s;
	return kind == CONFIG_KIND_COMPOSE ? "stopCompose" : "stopContainer";
}
