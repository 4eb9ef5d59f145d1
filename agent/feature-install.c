/* feature-install.c - build the image with the Features installed (see
 * feature-install.h). */
#include "feature-install.h"

#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "atomic-file.h"
#include "buf.h"
#include "config-merge.h"
#include "config-subst.h"
#include "config.h"
#include "docker.h"
#include "error.h"
#include "feature-json.h"
#include "feature-resolve.h"
#include "image.h"
#include "shell-quote.h"
#include "spawn.h"
#include "tree-hash.h"
#include "xmalloc.h"

/* Where the Features' folders go in the image, as in the reference. */
#define FEATURE_INSTALL_DEST "/tmp/dev-container-features"

/* The folder name of the Feature at install position pos: its folder's
 * name, [A-Za-z0-9_-] only, and the position ("node_1"). New string. */
static char *
feature_install_folder(const struct feature *f, size_t pos)
{
	char *copy = xstrdup(f->dir), *name, *p;

	name = xasprintf("%s_%zu", basename(copy), pos);
	for (p = name; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-')
			*p = '_';
	free(copy);
	return name;
}

/* The reference's getEntPasswdShellCommand: the passwd entry of user. */
static void
feature_install_passwd(struct buf *b, const char *user)
{
	const char *one[2] = { user, NULL };
	char *q = shell_quote_argv(one, SHELL_QUOTE_ALWAYS);
	char *re = xasprintf("^%s|^[^:]*:[^:]*:%s:", user, user), *qre;

	one[0] = re;
	qre = shell_quote_argv(one, SHELL_QUOTE_ALWAYS);
	buf_appendf(b,
	    "(command -v getent >/dev/null 2>&1 && getent passwd %s || grep -E %s "
	    "/etc/passwd || true) | cut -d: -f6",
	    q, qre);
	free(q);
	free(re);
	free(qre);
}

/* containerEnv as ENV lines, '"' and '\\' escaped (the reference's). */
static void
feature_install_env(struct buf *b, const cJSON *env)
{
	const cJSON *e;
	const char *v;

	cJSON_ArrayForEach(e, env) {
		if (!cJSON_IsString(e))
			continue;
		buf_appendf(b, "ENV %s=\"", e->string);
		for (v = e->valuestring; *v != '\0'; v++) {
			if (*v == '"' || *v == '\\')
				buf_append(b, "\\", 1);
			buf_append(b, v, 1);
		}
		buf_append(b, "\"\n", 2);
	}
}

char *
feature_install_dockerfile(const struct feature_set *fs, const char *base_image,
    const struct feature_install_users *users)
{
	struct buf *b = buf_new();
	const struct feature *f;
	char *name, *s;

	buf_appendf(b, "FROM %s\nUSER root\n", base_image);
	buf_appendf(
	    b, "COPY devcontainer-features.builtin.env %s/\n", FEATURE_INSTALL_DEST);
	buf_appendf(b, "RUN echo \"_CONTAINER_USER_HOME=$( ");
	feature_install_passwd(b, users->container_user);
	buf_appendf(b, ")\" >> %s/devcontainer-features.builtin.env && \\\n",
	    FEATURE_INSTALL_DEST);
	buf_appendf(b, "echo \"_REMOTE_USER_HOME=$( ");
	feature_install_passwd(b, users->remote_user);
	buf_appendf(
	    b, ")\" >> %s/devcontainer-features.builtin.env\n", FEATURE_INSTALL_DEST);
	for (size_t i = 0; i < fs->n; i++) {
		f = &fs->v[fs->order[i]];
		name = feature_install_folder(f, i);
		feature_install_env(b,
		    cJSON_GetObjectItemCaseSensitive(
			feature_json_root(f->json), "containerEnv"));
		buf_appendf(b, "COPY --chown=root:root %s %s/%s\n", name,
		    FEATURE_INSTALL_DEST, name);
		buf_appendf(b,
		    "RUN chmod -R 0755 %s/%s && cd %s/%s && chmod +x "
		    "./devcontainer-features-install.sh && "
		    "./devcontainer-features-install.sh\n",
		    FEATURE_INSTALL_DEST, name, FEATURE_INSTALL_DEST, name);
		free(name);
	}
	buf_appendf(b, "USER %s\n",
	    users->image_user != NULL && *users->image_user != '\0' ? users->image_user
								    : "root");
	s = buf_take_string(b, NULL);
	buf_free(b);
	return s;
}

/* "printf '%s\n' 'LINE'\n" for line, quoted for sh, appended to b: not
 * echo, which expands backslashes in dash. */
static void
feature_install_echo(struct buf *b, const char *line)
{
	const char *one[2] = { line, NULL };
	char *q = shell_quote_argv(one, SHELL_QUOTE_ALWAYS);

	buf_appendf(b, "printf '%%s\\n' %s\n", q);
	free(q);
}

/* The wrapper that runs a Feature's install.sh with its environment, after
 * a banner in the build's log, as the reference's: the Feature's name, id
 * as written, version and the options it is given. */
static char *
feature_install_wrapper(const struct feature *f)
{
	static const char rule[] =
	    "===========================================================================";
	const cJSON *root = feature_json_root(f->json);
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(root, "name");
	const cJSON *version = cJSON_GetObjectItemCaseSensitive(root, "version");
	struct buf *b = buf_new();
	char *msg, *line, *s;

	buf_appendf(b,
	    "#!/bin/sh\n"
	    "set -e\n"
	    "on_exit () {\n"
	    "\t[ $? -eq 0 ] && exit\n"
	    "\t");
	msg = xasprintf("ERROR: Feature \"%s\" (%s) failed to install!", f->id,
	    feature_json_id(f->json));
	feature_install_echo(b, msg);
	free(msg);
	buf_appendf(b,
	    "}\n"
	    "trap on_exit EXIT\n");
	feature_install_echo(b, rule);
	line = xasprintf("Feature       : %s",
	    cJSON_IsString(name) ? name->valuestring : feature_json_id(f->json));
	feature_install_echo(b, line);
	free(line);
	line = xasprintf("Id            : %s", f->id);
	feature_install_echo(b, line);
	free(line);
	line = xasprintf("Version       : %s",
	    cJSON_IsString(version) ? version->valuestring : "(none)");
	feature_install_echo(b, line);
	free(line);
	feature_install_echo(b, "Options       :");
	/* the shell's own read, not sed: under set -e an image without sed
	 * would fail every Feature on its banner */
	buf_appendf(b,
	    "while IFS= read -r rdev_opt || [ -n \"$rdev_opt\" ]; do printf '    %%s\\n' "
	    "\"$rdev_opt\"; "
	    "done < ./devcontainer-features.env\n");
	feature_install_echo(b, rule);
	buf_appendf(b,
	    "set -a\n"
	    ". ../devcontainer-features.builtin.env\n"
	    ". ./devcontainer-features.env\n"
	    "set +a\n"
	    "chmod +x ./install.sh\n"
	    "./install.sh\n");
	s = buf_take_string(b, NULL);
	buf_free(b);
	return s;
}

static int
feature_install_write(const char *dir, const char *name, const char *text, char **cause)
{
	char *path = xasprintf("%s/%s", dir, name);
	int rc = atomic_file_write(path, text, strlen(text), 0644, cause);

	free(path);
	return rc;
}

/* Copy the Feature's folder into the context as dest, with its env file
 * and wrapper. */
static int
feature_install_stage(const struct feature *f, const char *dest, char **cause)
{
	char *src = xasprintf("%s/.", f->dir), *env, *wrapper;
	const char *argv[] = { "cp", "-R", src, dest, NULL };
	struct spawn_opts opts = { 0 };
	struct spawn_result res;
	int rc = -1;

	if (mkdir(dest, 0755) != 0) {
		error_set_errno(cause, errno, "%s", dest);
		free(src);
		return -1;
	}
	if (spawn_run(argv, &opts, &res, cause) == 0) {
		if (spawn_result_status(&res) == 0)
			rc = 0;
		else {
			char *tail = spawn_result_tail(&res, 4);

			error_set(cause, "Feature \"%s\": cannot copy %s: %s", f->id,
			    f->dir, tail);
			free(tail);
		}
		spawn_result_free(&res);
	}
	free(src);
	if (rc != 0)
		return -1;
	env = feature_json_env_file(f->options);
	wrapper = feature_install_wrapper(f);
	rc = feature_install_write(dest, "devcontainer-features.env", env, cause);
	if (rc == 0)
		rc = feature_install_write(
		    dest, "devcontainer-features-install.sh", wrapper, cause);
	free(env);
	free(wrapper);
	return rc;
}

/* Remove the build context. */
static void
feature_install_cleanup(const char *dir)
{
	const char *argv[] = { "rm", "-rf", dir, NULL };
	struct spawn_opts opts = { 0 };
	struct spawn_result res;
	char *ignore = NULL;

	if (spawn_run(argv, &opts, &res, &ignore) == 0)
		spawn_result_free(&res);
	free(ignore);
}

/* The tag for the build of dockerfile in dir from base: REPO:<digest>. New
 * string, or NULL with *cause. */
static char *
feature_install_tag(const char *dir, const char *dockerfile,
    const struct feature_install_base *base, char **cause)
{
	unsigned char out[crypto_hash_sha256_BYTES];
	char hex[crypto_hash_sha256_BYTES * 2 + 1];
	crypto_hash_sha256_state st;

	crypto_hash_sha256_init(&st);
	tree_hash_string(&st, dockerfile);
	tree_hash_string(&st, base->id);
	if (tree_hash_update(&st, dir, cause) != 0)
		return NULL;
	crypto_hash_sha256_final(&st, out);
	sodium_bin2hex(hex, sizeof hex, out, sizeof out);
	return xasprintf("%s:%.12s", base->repo, hex);
}

int
feature_install_build(const struct feature_set *fs,
    const struct feature_install_base *base, struct docker *d, const struct progress *p,
    char **tag, char **cause)
{
	char dir[] = "/tmp/rdev-features.XXXXXX", *builtin, *dockerfile = NULL;
	char *name, *dest;
	cJSON *have = NULL;
	int rc = -1;

	*tag = NULL;
	if (mkdtemp(dir) == NULL)
		return error_set_errno(cause, errno, "cannot create a build directory");
	builtin = xasprintf("_CONTAINER_USER=%s\n_REMOTE_USER=%s\n",
	    base->users->container_user, base->users->remote_user);
	if (feature_install_write(
		dir, "devcontainer-features.builtin.env", builtin, cause) != 0)
		goto out;
	for (size_t i = 0; i < fs->n; i++) {
		name = feature_install_folder(&fs->v[fs->order[i]], i);
		dest = xasprintf("%s/%s", dir, name);
		rc = feature_install_stage(&fs->v[fs->order[i]], dest, cause);
		free(dest);
		free(name);
		if (rc != 0)
			goto out;
	}
	dockerfile = feature_install_dockerfile(fs, base->image, base->users);
	rc = -1;
	if ((*tag = feature_install_tag(dir, dockerfile, base, cause)) == NULL)
		goto out;
	if (!base->no_cache) {
		if (docker_image_inspect(d, *tag, &have, cause) != 0)
			goto out;
		if (have != NULL) {
			progress_line(p, "Features unchanged: using %s", *tag);
			rc = 0;
			goto out;
		}
	}
	progress_line(
	    p, "Installing %zu Feature%s into %s", fs->n, fs->n == 1 ? "" : "s", *tag);
	rc = image_build_context(
	    dir, dockerfile, *tag, base->no_cache, p, "installing the Features", cause);
out:
	if (rc != 0) {
		free(*tag);
		*tag = NULL;
	}
	cJSON_Delete(have);
	free(dockerfile);
	free(builtin);
	feature_install_cleanup(dir);
	return rc;
}

/* s, or NULL when it is NULL or empty. */
static const char *
feature_install_nonempty(const char *s)
{
	return s != NULL && *s != '\0' ? s : NULL;
}

char *
feature_install_repo(const struct config *cfg)
{
	char *base = image_build_repo(cfg), *repo;

	repo = xasprintf("%s-features", base);
	free(base);
	return repo;
}

int
feature_install_image(const struct feature_set *fs, const struct config *cfg,
    const char *service_user, struct docker *d, int no_cache, const struct progress *p,
    char **name, cJSON **inspect, cJSON *entries, char **cause)
{
	struct feature_install_users users;
	struct feature_install_base fb;
	cJSON *subst, *merged, *built = NULL;
	const char *image_user = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(*inspect, "Config"), "User"));
	char *tag = NULL, *repo;
	int rc;

	/* The reference's findContainerUsers: the metadata's containerUser,
	 * else the Compose service's user, else the image's; remoteUser, else
	 * the container user. */
	subst = config_subst(entries, config_get_subst_ctx(cfg));
	merged = config_merge(subst, config_get_object(cfg));
	users.image_user = image_user;
	users.container_user = feature_install_nonempty(cJSON_GetStringValue(
	    cJSON_GetObjectItemCaseSensitive(merged, "containerUser")));
	if (users.container_user == NULL)
		users.container_user = feature_install_nonempty(service_user);
	if (users.container_user == NULL)
		users.container_user =
		    feature_install_nonempty(image_user) != NULL ? image_user : "root";
	users.remote_user = feature_install_nonempty(
	    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(merged, "remoteUser")));
	if (users.remote_user == NULL)
		users.remote_user = users.container_user;
	fb.image = *name;
	fb.id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(*inspect, "Id"));
	fb.users = &users;
	repo = feature_install_repo(cfg);
	fb.repo = repo;
	fb.no_cache = no_cache;
	rc = fb.id == NULL ? error_set(cause, "image %s: Docker shows no id", *name)
			   : feature_install_build(fs, &fb, d, p, &tag, cause);
	if (rc == 0 && (rc = docker_image_inspect(d, tag, &built, cause)) == 0 &&
	    built == NULL)
		rc =
		    error_set(cause, "image %s: built, but Docker does not show it", tag);
	if (rc == 0) {
		free(*name);
		*name = tag;
		tag = NULL;
		cJSON_Delete(*inspect);
		*inspect = built;
		feature_install_metadata(fs, entries);
	}
	free(tag);
	free(repo);
	cJSON_Delete(merged);
	cJSON_Delete(subst);
	return rc;
}

void
feature_install_metadata(const struct feature_set *fs, cJSON *entries)
{
	for (size_t i = 0; i < fs->n; i++) {
		const struct feature *f = &fs->v[fs->order[i]];

		cJSON_AddItemToArray(entries,
		    config_metadata_from_feature(feature_json_root(f->json), f->id));
	}
}
