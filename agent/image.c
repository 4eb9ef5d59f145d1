/* image.c - pull or build a dev container's image (see image.h). */
#include "image.h"

#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build-failure.h"
#include "build-run.h"
#include "config-merge.h"
#include "config.h"
#include "docker.h"
#include "error.h"
#include "jsonc.h"
#include "log.h"
#include "spawn.h"
#include "xmalloc.h"

int
image_ensure(struct docker *d, const char *image, const struct progress *p,
    cJSON **inspect, char **cause)
{
	if (docker_image_inspect(d, image, inspect, cause) != 0)
		return -1;
	if (*inspect != NULL)
		return 0;
	progress_line(p, "Pulling image %s", image);
	if (docker_image_pull(d, image, cause) != 0)
		return error_prefix(
		    cause, "image %s is not here and could not be pulled", image);
	if (docker_image_inspect(d, image, inspect, cause) != 0)
		return -1;
	if (*inspect == NULL)
		return error_set(
		    cause, "image %s: pulled, but Docker does not show it", image);
	return 0;
}

/* Lowercase [a-z0-9._-] only, for image references. */
static void
image_sanitize(char *s)
{
	for (; *s != '\0'; s++) {
		*s = (char)tolower((unsigned char)*s);
		if (!isalnum((unsigned char)*s) && *s != '.' && *s != '_' && *s != '-')
			*s = '-';
	}
}

char *
image_build_repo(const struct config *cfg)
{
	char *folder = xstrdup(config_get_local_folder(cfg)), *base, *repo;

	base = xstrdup(basename(folder));
	image_sanitize(base);
	if (strlen(base) > 40)
		base[40] = '\0';
	repo = xasprintf("rdev-%s-%.12s", *base != '\0' ? base : "workspace",
	    config_get_devcontainer_id(cfg));
	free(base);
	free(folder);
	return repo;
}

char *
image_build_tag(const struct config *cfg, const char *config_hash)
{
	char *repo = image_build_repo(cfg), *tag;

	tag = xasprintf("%s:%.12s", repo, config_hash);
	free(repo);
	return tag;
}

static void
image_on_output(void *arg, int stream, const char *data, size_t len)
{
	progress_write(arg, data, len);
}

/* Run a docker build, streaming its output to p (unless quiet), twice if
 * Docker's build cache lost an image (build-run.h: the line saying so goes
 * to p); 0, or -1 with *cause ("WHAT: docker exited with status 1:" and the
 * lines that say why: build-failure.h). */
static int
image_run_docker(const char *const *argv, const char *stdin_data,
    const struct progress *p, int quiet, const char *what, char **cause)
{
	struct spawn_opts opts = { 0 };
	struct spawn_result res;
	int rc = 0, retried;

	if (!quiet) {
		opts.on_output = image_on_output;
		opts.on_output_arg = (void *)p;
	}
	if (stdin_data != NULL) {
		opts.stdin_data = stdin_data;
		opts.stdin_len = strlen(stdin_data);
	}
	if (build_run(argv, &opts, p, &res, &retried, cause) != 0)
		return error_prefix(cause, "%s: docker", what);
	if (spawn_result_status(&res) != 0) {
		char *how = spawn_result_describe(&res);
		char *text = build_failure_text(res.out, res.err, 8);

		rc = error_set(cause, "%s: docker %s%s%s%s", what, how,
		    build_run_note(retried), *text == '\0' ? "" : ":\n", text);
		free(how);
		free(text);
	}
	spawn_result_free(&res);
	return rc;
}

/* argv under construction */
struct image_argv {
	char **v;
	int n;
};

static void
image_argv_add(struct image_argv *a, const char *s)
{
	a->v = xreallocarray(a->v, (size_t)a->n + 2, sizeof *a->v);
	a->v[a->n++] = xstrdup(s);
	a->v[a->n] = NULL;
}

static void
image_argv_free(struct image_argv *a)
{
	for (int i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
}

static const char *
image_string(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

void
image_dockerfile_keys(
    const cJSON *obj, const char **dockerfile, const char **context, int *legacy)
{
	const cJSON *build = cJSON_GetObjectItemCaseSensitive(obj, "build");
	int old = cJSON_GetObjectItemCaseSensitive(obj, "dockerFile") != NULL;

	*dockerfile =
	    old ? image_string(obj, "dockerFile") : image_string(build, "dockerfile");
	*context = old ? image_string(obj, "context") : image_string(build, "context");
	if (legacy != NULL)
		*legacy = old;
}

/* A path from devcontainer.json, relative to its folder. New string. */
static char *
image_config_path(const char *config_dir, const char *path)
{
	if (path[0] == '/')
		return xstrdup(path);
	return xasprintf("%s/%s", config_dir, path);
}

/* The folder of path. New string. */
static char *
image_dirname(const char *path)
{
	char *copy = xstrdup(path), *dir = xstrdup(dirname(copy));

	free(copy);
	return dir;
}

/* The --cache-from arguments: cache_from's images, then build.cacheFrom
 * (a string or an array). */
static void
image_cache_from(struct image_argv *a, const cJSON *cache_from, const cJSON *build)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(build, "cacheFrom"), *c;

	cJSON_ArrayForEach(c, cache_from) {
		if (cJSON_IsString(c)) {
			image_argv_add(a, "--cache-from");
			image_argv_add(a, c->valuestring);
		}
	}
	if (cJSON_IsString(e)) {
		image_argv_add(a, "--cache-from");
		image_argv_add(a, e->valuestring);
		return;
	}
	cJSON_ArrayForEach(c, e) {
		if (cJSON_IsString(c)) {
			image_argv_add(a, "--cache-from");
			image_argv_add(a, c->valuestring);
		}
	}
}

/* Is the Dockerfile (want_dir 0: a file) or the context (1: a folder) at
 * path there? If not, the error names the property's place in the
 * configuration file (outer.name, or name at the top: the legacy
 * "dockerFile", "context"), which docker's own error does not. Checked just
 * before the build: initializeCommand may have made them. 0, or -1 with
 * *cause. */
static int
image_check_build_path(const struct config *cfg, const char *outer, const char *name,
    const char *path, int want_dir, char **cause)
{
	const struct jsonc_doc *doc = config_get_doc(cfg);
	const cJSON *node = jsonc_doc_root(doc);
	struct stat sb;
	unsigned line, col;
	char *where;
	int err = 0;

	if (stat(path, &sb) != 0)
		err = errno;
	else if (want_dir && !S_ISDIR(sb.st_mode))
		err = ENOTDIR;
	else if (!want_dir && S_ISDIR(sb.st_mode))
		err = EISDIR;
	if (err == 0)
		return 0;
	if (outer != NULL)
		node = cJSON_GetObjectItemCaseSensitive(node, outer);
	node = cJSON_GetObjectItemCaseSensitive(node, name);
	where = node != NULL && jsonc_doc_locate(doc, node, &line, &col) == 0
	    ? xasprintf("%s:%u:%u", jsonc_doc_name(doc), line, col)
	    : xstrdup(config_get_source_file(cfg));
	error_set(cause, "%s: %s%s%s\"%s\": %s: %s", where, outer != NULL ? "\"" : "",
	    outer != NULL ? outer : "", outer != NULL ? "\"." : "", name, path,
	    strerror(err));
	free(where);
	return -1;
}

int
image_build_dockerfile(const struct config *cfg, const char *tag, int no_cache,
    const cJSON *cache_from, const struct progress *p, char **cause)
{
	const cJSON *obj = config_get_object(cfg), *build, *e;
	const char *dockerfile, *context, *target;
	char *file_copy = xstrdup(config_get_file(cfg)), *config_dir, *path, *kv;
	char *dockerfile_path;
	struct image_argv a = { NULL, 0 };
	int rc, legacy;

	config_dir = dirname(file_copy);
	build = cJSON_GetObjectItemCaseSensitive(obj, "build");
	image_dockerfile_keys(obj, &dockerfile, &context, &legacy);
	image_argv_add(&a, "docker");
	image_argv_add(&a, "build");
	dockerfile_path = image_config_path(config_dir, dockerfile);
	rc = image_check_build_path(cfg, legacy ? NULL : "build",
	    legacy ? "dockerFile" : "dockerfile", dockerfile_path, 0, cause);
	image_argv_add(&a, "-f");
	image_argv_add(&a, dockerfile_path);
	image_argv_add(&a, "-t");
	image_argv_add(&a, tag);
	if ((target = image_string(build, "target")) != NULL) {
		image_argv_add(&a, "--target");
		image_argv_add(&a, target);
	}
	/* As the reference without BuildKit: no cache, or the caches given.
	 * (It adds --pull to --no-cache only when it builds with BuildKit,
	 * which rdev does not drive.) */
	if (no_cache)
		image_argv_add(&a, "--no-cache");
	else
		image_cache_from(&a, cache_from, build);
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(build, "args")) {
		if (!cJSON_IsString(e))
			continue;
		kv = xasprintf("%s=%s", e->string, e->valuestring);
		image_argv_add(&a, "--build-arg");
		image_argv_add(&a, kv);
		free(kv);
	}
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(build, "options"))
		if (cJSON_IsString(e))
			image_argv_add(&a, e->valuestring);
	/* Without a context (or with ""), the Dockerfile's folder, as the
	 * reference's getDockerContextPath(): not the spec's "." (the
	 * devcontainer.json's folder), which is the same folder only when the
	 * Dockerfile is beside the devcontainer.json. */
	if (context != NULL && *context != '\0') {
		path = image_config_path(config_dir, context);
		if (rc == 0)
			rc = image_check_build_path(
			    cfg, legacy ? NULL : "build", "context", path, 1, cause);
	} else
		path = image_dirname(dockerfile_path);
	image_argv_add(&a, path);
	free(path);
	if (rc != 0) {
		image_argv_free(&a);
		free(dockerfile_path);
		free(file_copy);
		return -1;
	}
	progress_line(p, "Building image %s from %s", tag, dockerfile);
	/* A failure names the Dockerfile (its step alone may not say which
	 * file: "Step 3/4 : RUN make"). */
	rc = image_run_docker(
	    (const char *const *)a.v, NULL, p, 0, dockerfile_path, cause);
	image_argv_free(&a);
	free(dockerfile_path);
	free(file_copy);
	return rc;
}

int
image_build_context(const char *dir, const char *dockerfile, const char *tag,
    int no_cache, const struct progress *p, const char *what, char **cause)
{
	const char *argv[] = { "docker", "build", "-t", tag, "-f", "-", dir, NULL, NULL };

	if (no_cache) {
		argv[6] = "--no-cache";
		argv[7] = dir;
	}
	return image_run_docker(argv, dockerfile, p, 0, what, cause);
}

int
image_set_metadata_label(const char *from, const char *const *tags,
    const char *label_value, const struct progress *p, char **cause)
{
	char dir[] = "/tmp/rdev-label.XXXXXX", *dockerfile, *label;
	struct image_argv a = { NULL, 0 };
	int rc;

	if (mkdtemp(dir) == NULL)
		return error_set_errno(cause, errno, "cannot create a build directory");
	dockerfile = xasprintf("FROM %s\n", from);
	label = xasprintf("%s=%s", CONFIG_METADATA_LABEL, label_value);
	image_argv_add(&a, "docker");
	image_argv_add(&a, "build");
	image_argv_add(&a, "-q");
	for (; *tags != NULL; tags++) {
		image_argv_add(&a, "-t");
		image_argv_add(&a, *tags);
	}
	image_argv_add(&a, "--label");
	image_argv_add(&a, label);
	image_argv_add(&a, "-f");
	image_argv_add(&a, "-");
	image_argv_add(&a, dir);
	rc = image_run_docker((const char *const *)a.v, dockerfile, p, 1,
	    "writing the image's " CONFIG_METADATA_LABEL " label", cause);
	image_argv_free(&a);
	rmdir(dir);
	free(dockerfile);
	free(label);
	return rc;
}

const char *
image_label(const cJSON *inspect, const char *name)
{
	const cJSON *config = cJSON_GetObjectItemCaseSensitive(inspect, "Config");
	const cJSON *labels = cJSON_GetObjectItemCaseSensitive(config, "Labels");
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(labels, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

cJSON *
image_metadata_entries(const cJSON *inspect, char **cause)
{
	return config_metadata_parse(image_label(inspect, CONFIG_METADATA_LABEL), cause);
}

/* Add the image under ref (a tag or an id) to ids, unless absent or there. */
static void
image_replaced_add(struct docker *d, const char *ref, cJSON *ids)
{
	cJSON *info = NULL;
	const cJSON *e;
	const char *id;
	char *cause = NULL;

	if (ref == NULL || *ref == '\0')
		return;
	if (docker_image_inspect(d, ref, &info, &cause) != 0) {
		log_debug("image %s: %s", ref, cause);
		free(cause);
		return;
	}
	if ((id = image_string(info, "Id")) != NULL) {
		cJSON_ArrayForEach(e, ids)
			if (strcmp(e->valuestring, id) == 0)
				id = NULL;
		if (id != NULL)
			cJSON_AddItemToArray(ids, cJSON_CreateString(id));
	}
	cJSON_Delete(info);
}

/* Whether tag is one rdev gives the images of a workspace whose Features
 * repository is own_repo (NULL: none): a Features image (OWN_REPO:DIGEST) or
 * a UID-sync image built on one (uid_sync_image_tag(): rdev-uid/OWN_REPO-
 * DIGEST:USER-UID-GID). */
static int
image_tag_owned(const char *tag, const char *own_repo)
{
	size_t n = own_repo != NULL ? strlen(own_repo) : 0;

	if (own_repo == NULL)
		return 0;
	if (strncmp(tag, own_repo, n) == 0 && tag[n] == ':')
		return 1;
	return strncmp(tag, "rdev-uid/", 9) == 0 && strncmp(tag + 9, own_repo, n) == 0 &&
	    tag[9 + n] == '-';
}

/* Whether an inspected image has tags, and all of them are owned. */
static int
image_owned(const cJSON *info, const char *own_repo)
{
	const cJSON *t;
	int any = 0;

	cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(info, "RepoTags")) {
		if (!cJSON_IsString(t) || !image_tag_owned(t->valuestring, own_repo))
			return 0;
		any = 1;
	}
	return any;
}

/* Add the owned images ref was built on (its parents up to the first image
 * tagged by someone else) to ids, children first. */
static void
image_replaced_add_owned(
    struct docker *d, const char *ref, const char *own_repo, cJSON *ids)
{
	cJSON *info = NULL;
	char *cause = NULL, *parent = NULL;

	if (ref == NULL || docker_image_inspect(d, ref, &info, &cause) != 0 ||
	    info == NULL) {
		free(cause);
		return;
	}
	/* A chain of layers is finite; the bound guards against a daemon that
	 * answers in a circle. */
	for (int i = 0; i < 1000; i++) {
		free(parent);
		parent = image_string(info, "Parent") != NULL
		    ? xstrdup(image_string(info, "Parent"))
		    : NULL;
		cJSON_Delete(info);
		info = NULL;
		if (parent == NULL || *parent == '\0' ||
		    docker_image_inspect(d, parent, &info, &cause) != 0 || info == NULL)
			break;
		if (image_owned(info, own_repo))
			image_replaced_add(d, parent, ids);
		else if (cJSON_GetArraySize(
			     cJSON_GetObjectItemCaseSensitive(info, "RepoTags")) > 0)
			break;
	}
	free(cause);
	free(parent);
	cJSON_Delete(info);
}

cJSON *
image_replaced_find(
    struct docker *d, const cJSON *container, const char *build_tag, const char *own_repo)
{
	cJSON *ids = cJSON_CreateArray();

	if (ids == NULL)
		fatal("out of memory");
	image_replaced_add(d, image_string(container, "Image"), ids);
	image_replaced_add(d, build_tag, ids);
	if (own_repo != NULL)
		image_replaced_add_owned(
		    d, image_string(container, "Image"), own_repo, ids);
	return ids;
}

/* Who uses image id: "container NAME" (new string), or NULL for nobody. */
static char *
image_replaced_user(const cJSON *containers, const char *id)
{
	const cJSON *c, *name;

	cJSON_ArrayForEach(c, containers) {
		if (image_string(c, "ImageID") == NULL ||
		    strcmp(image_string(c, "ImageID"), id) != 0)
			continue;
		name =
		    cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(c, "Names"), 0);
		return xasprintf("container %s",
		    cJSON_IsString(name)
			? name->valuestring + (name->valuestring[0] == '/')
			: image_string(c, "Id"));
	}
	return NULL;
}

/* Whether an image builds on image id (any image's parent is id). */
static int
image_has_children(struct docker *d, const char *id)
{
	cJSON *list = NULL;
	const cJSON *e;
	char *cause = NULL;
	int status, found = 0;

	if (docker_request(
		d, "GET", "/images/json?all=1", NULL, &status, &list, &cause) != 0 ||
	    status != 200) {
		log_debug("image %.19s: cannot list images: %s", id,
		    cause != NULL ? cause : "not 200");
		free(cause);
		cJSON_Delete(list);
		return 1; /* not known: as if it had */
	}
	cJSON_ArrayForEach(e, list)
		if (image_string(e, "ParentId") != NULL &&
		    strcmp(image_string(e, "ParentId"), id) == 0)
			found = 1;
	cJSON_Delete(list);
	return found;
}

/* Remove a replaced image that is only under rdev's own tags (a Features
 * image, a UID-sync image on one): when no container uses it and no image
 * builds on it, each of its tags, the last taking the image and its
 * untagged parents, as `docker rmi`. */
static void
image_replaced_remove_owned(struct docker *d, const cJSON *containers, const char *id,
    const cJSON *info, const struct progress *p)
{
	const cJSON *t;
	char *cause = NULL, *user;
	int removed, any = 0;

	/* Used: the new container's, when it was built from the same inputs. */
	if ((user = image_replaced_user(containers, id)) != NULL ||
	    image_has_children(d, id)) {
		free(user);
		return;
	}
	cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(info, "RepoTags")) {
		if (docker_image_remove(d, t->valuestring, &removed, &cause) != 0) {
			log_debug("image %s: %s", t->valuestring, cause);
			free(cause);
			return;
		}
		any |= removed;
	}
	if (any)
		progress_line(p, "Removed image %.19s (replaced, no longer used)", id);
}

/* Remove one replaced image if it is dangling (or only under rdev's own
 * tags, own_repo) and unused. */
static void
image_replaced_remove_one(struct docker *d, const cJSON *containers, const char *id,
    const char *own_repo, const struct progress *p)
{
	cJSON *info = NULL;
	char *cause = NULL, *user;
	int removed;

	if (docker_image_inspect(d, id, &info, &cause) != 0 || info == NULL) {
		free(cause);
		return; /* gone already (with a child removed before it) */
	}
	/* rdev's own tags name what an image was built from (a digest): a
	 * rebuild from a changed base leaves the old one under its tag. */
	if (image_owned(info, own_repo)) {
		image_replaced_remove_owned(d, containers, id, info, p);
		cJSON_Delete(info);
		return;
	}
	/* Still tagged: the rebuild did not take its name (a changed
	 * configuration builds under a new tag), or someone else named it. */
	if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(info, "RepoTags")) > 0) {
		cJSON_Delete(info);
		return;
	}
	cJSON_Delete(info);
	if ((user = image_replaced_user(containers, id)) != NULL) {
		progress_line(p, "Kept image %.19s (replaced): used by %s", id, user);
		free(user);
		return;
	}
	if (docker_image_remove(d, id, &removed, &cause) != 0) {
		/* e.g. an image built on it: a layer of another image */
		log_debug("image %.19s: %s", id, cause);
		free(cause);
	} else if (removed)
		progress_line(p, "Removed image %.19s (replaced, no longer used)", id);
}

void
image_replaced_remove(
    struct docker *d, const cJSON *ids, const char *own_repo, const struct progress *p)
{
	cJSON *containers = NULL;
	const cJSON *id;
	char *cause = NULL;

	if (cJSON_GetArraySize(ids) == 0)
		return;
	if (docker_container_list(d, NULL, 1, &containers, &cause) != 0) {
		progress_line(
		    p, "warning: the images this up replaced are kept: %s", cause);
		free(cause);
		return;
	}
	cJSON_ArrayForEach(id, ids)
		image_replaced_remove_one(d, containers, id->valuestring, own_repo, p);
	cJSON_Delete(containers);
}
