/* compose.c - dev containers from Docker Compose (see compose.h): the
 * Compose CLI, the build, the override and `up`; the files it reads are
 * compose-files.c's (compose-internal.h). */
#include "compose.h"

#include "compose-internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "admission.h"
#include "agent-state.h"
#include "atomic-file.h"
#include "build-failure.h"
#include "buf.h"
#include "build-run.h"
#include "compose-cli-cache.h"
#include "compose-override.h"
#include "config-merge.h"
#include "config.h"
#include "container-removed.h"
#include "docker.h"
#include "error.h"
#include "feature-install.h"
#include "feature-lock.h"
#include "feature-resolve.h"
#include "image.h"
#include "lifecycle.h"
#include "log.h"
#include "owner.h"
#include "spawn.h"
#include "uid-sync.h"
#include "labels.h"
#include "up-opts.h"
#include "up.h"
#include "xmalloc.h"

#define COMPOSE_LABEL_SERVICE "com.docker.compose.service"
#define COMPOSE_LABEL_ONEOFF "com.docker.compose.oneoff"
#define COMPOSE_OVERRIDE_NAME "docker-compose.rdev.json"
#define COMPOSE_BUILD_OVERRIDE_NAME "docker-compose.rdev-build.json"

void
compose_argv_add(struct compose_argv *a, const char *s)
{
	a->v = xreallocarray(a->v, a->n + 2, sizeof *a->v);
	a->v[a->n++] = xstrdup(s);
	a->v[a->n] = NULL;
}

void
compose_argv_free(struct compose_argv *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	a->v = NULL;
	a->n = 0;
}

static void
compose_on_output(void *arg, int stream, const char *data, size_t len)
{
	progress_write(arg, data, len);
}

/* "docker compose" or "docker-compose", for messages. */
const char *
compose_cmd_name(const struct compose *c)
{
	return c->v2 ? "docker compose" : "docker-compose";
}

/* A compose command failed: if the CLI's kind and version came from what
 * an earlier up remembered, the next up asks the CLIs again (a changed
 * install that the key missed costs one failed up, not every one). */
static void
compose_cli_forget(struct compose *c)
{
	if (c->cli_remembered_in == NULL)
		return;
	compose_cli_cache_forget(c->cli_remembered_in);
	free(c->cli_remembered_in);
	c->cli_remembered_in = NULL;
}

/* compose_run(), and for a build (build: 1) once more when Docker's build
 * cache lost an image during it (build-run.h). */
static int
compose_run_spawn(struct compose *c, const struct compose_argv *a, const char *what,
    int stream, int build, char **out, char **cause)
{
	const char *const *argv = (const char *const *)a->v;
	struct spawn_opts opts = { 0 };
	struct spawn_result res;
	char *tail, *desc;
	int rc, retried = 0;

	if (stream) {
		opts.on_output = compose_on_output;
		opts.on_output_arg = (void *)c->p;
	}
	rc = build ? build_run(argv, &opts, c->p, &res, &retried, cause)
		   : spawn_run(argv, &opts, &res, cause);
	if (rc != 0 || spawn_result_status(&res) != 0)
		compose_cli_forget(c);
	if (rc != 0)
		return error_prefix(cause, "%s %s", compose_cmd_name(c), what);
	if (spawn_result_status(&res) != 0) {
		/* (the failing build step and what it printed, else the
		 * last lines of stderr or stdout: build-failure.h) */
		tail = build_failure_text(res.out, res.err, 10);
		desc = spawn_result_describe(&res);
		rc = error_set(cause, "`%s %s` %s%s:\n%s", compose_cmd_name(c), what,
		    desc, build_run_note(retried), tail);
		free(tail);
		free(desc);
	} else if (out != NULL)
		*out = xstrdup(res.out);
	spawn_result_free(&res);
	return rc;
}

/* Run argv; stream: show its output as progress. *out (may be NULL) gets
 * stdout. A non-zero exit is an error with the output's tail. */
int
compose_run(struct compose *c, const struct compose_argv *a, const char *what, int stream,
    char **out, char **cause)
{
	return compose_run_spawn(c, a, what, stream, 0, out, cause);
}

/* Parse "v2.20.2" / "1.29.2, build x" into ver[3]; 0 or -1. */
static int
compose_parse_version(const char *s, int ver[3])
{
	if (*s == 'v' || *s == 'V')
		s++;
	ver[0] = ver[1] = ver[2] = 0;
	return sscanf(s, "%d.%d.%d", &ver[0], &ver[1], &ver[2]) >= 2 ? 0 : -1;
}

int
compose_version_before(const struct compose *c, int major, int minor, int patch)
{
	if (c->ver[0] != major)
		return c->ver[0] < major;
	if (c->ver[1] != minor)
		return c->ver[1] < minor;
	return c->ver[2] < patch;
}

/* `docker compose version --short`, else `docker-compose version --short`,
 * as the reference (0.89.0) tries them: 0 with *v2 and *version (new
 * string), or -1 with *cause. */
static int
compose_detect_run(int *v2, char **version, char **cause)
{
	const char *v2_argv[] = { "docker", "compose", "version", "--short", NULL };
	const char *v1_argv[] = { "docker-compose", "version", "--short", NULL };
	struct spawn_result res;
	char *ignore = NULL;
	int which;

	for (which = 0; which < 2; which++) {
		if (spawn_run(which == 0 ? v2_argv : v1_argv, NULL, &res, &ignore) != 0) {
			free(ignore);
			ignore = NULL;
			continue;
		}
		if (spawn_result_status(&res) == 0 && res.out != NULL) {
			*version = xstrndup(res.out, strcspn(res.out, "\r\n"));
			spawn_result_free(&res);
			*v2 = which == 0;
			return 0;
		}
		spawn_result_free(&res);
	}
	return error_set(cause,
	    "Docker Compose is not installed on this host: neither "
	    "`docker compose` nor `docker-compose` works");
}

/* The Compose CLI and its version, remembered between ups while the files
 * that decide them stay the same (compose-cli-cache.h). */
static int
compose_detect(struct compose *c, char **cause)
{
	char *state_dir, *key, *wcause = NULL;
	int v2 = 0;

	key = compose_cli_key();
	if ((state_dir = agent_state_dir(&wcause)) == NULL) {
		log_warn("Compose CLI cache: %s", wcause);
		free(wcause);
		wcause = NULL;
	}
	if (state_dir != NULL &&
	    compose_cli_cache_get(state_dir, key, &v2, &c->version) == 0) {
		c->cli_remembered_in = xstrdup(state_dir);
		log_debug("Compose CLI: %s %s (remembered)",
		    v2 ? "docker compose" : "docker-compose", c->version);
	} else {
		if (compose_detect_run(&v2, &c->version, cause) != 0) {
			free(state_dir);
			free(key);
			return -1;
		}
		if (state_dir != NULL &&
		    compose_cli_cache_put(state_dir, key, v2, c->version, &wcause) != 0) {
			log_warn("Compose CLI cache: %s", wcause);
			free(wcause);
		}
	}
	free(state_dir);
	free(key);
	c->v2 = v2;
	if (compose_parse_version(c->version, c->ver) != 0) {
		/* Unknown: assume a current one, as the reference does. */
		c->ver[0] = 2;
		c->ver[1] = 99;
	}
	return 0;
}

/* The start of every compose command line: the CLI, project, files. */
void
compose_argv_base(
    const struct compose *c, struct compose_argv *a, int project, int override)
{
	if (c->v2) {
		compose_argv_add(a, "docker");
		compose_argv_add(a, "compose");
	} else
		compose_argv_add(a, "docker-compose");
	if (project) {
		compose_argv_add(a, "--project-name");
		compose_argv_add(a, c->project);
	}
	for (char **f = c->files; *f != NULL; f++) {
		compose_argv_add(a, "-f");
		compose_argv_add(a, *f);
	}
	if (c->env_file != NULL) {
		compose_argv_add(a, "--env-file");
		compose_argv_add(a, c->env_file);
	}
	if (override && c->override != NULL) {
		compose_argv_add(a, "-f");
		compose_argv_add(a, c->override);
	}
}

/* Every container of the project (any service, one-off or not, running or
 * not) in *list, docker_container_list()'s array, the caller's to
 * cJSON_Delete(). 0, or -1 with *cause. */
static int
compose_list_project(struct compose *c, cJSON **list, char **cause)
{
	char *labels[2];
	int rc;

	*list = NULL;
	labels[0] = xasprintf(COMPOSE_LABEL_PROJECT "=%s", c->project);
	labels[1] = NULL;
	rc = docker_container_list(c->d, (const char *const *)labels, 1, list, cause);
	free(labels[0]);
	return rc;
}

/* The service's container in list (compose_list_project()'s): not being
 * removed, not a one-off `run`; inspected into *found, or NULL when there is
 * none. */
static int
compose_find_container(struct compose *c, const cJSON *list, cJSON **found, char **cause)
{
	const cJSON *e, *labels, *state, *id;
	const char *service, *oneoff;

	*found = NULL;
	cJSON_ArrayForEach(e, list) {
		labels = cJSON_GetObjectItemCaseSensitive(e, "Labels");
		service = cJSON_GetStringValue(
		    cJSON_GetObjectItemCaseSensitive(labels, COMPOSE_LABEL_SERVICE));
		if (service == NULL || strcmp(service, c->service) != 0)
			continue;
		state = cJSON_GetObjectItemCaseSensitive(e, "State");
		if (cJSON_IsString(state) && strcmp(state->valuestring, "removing") == 0)
			continue;
		oneoff = cJSON_GetStringValue(
		    cJSON_GetObjectItemCaseSensitive(labels, COMPOSE_LABEL_ONEOFF));
		if (oneoff != NULL && strcasecmp(oneoff, "true") == 0)
			continue;
		id = cJSON_GetObjectItemCaseSensitive(e, "Id");
		if (!cJSON_IsString(id))
			continue;
		return docker_container_inspect(c->d, id->valuestring, found, cause);
	}
	return 0;
}

/* The project's directory, as Compose labels its containers'
 * (com.docker.compose.project.working_dir): the first compose file's.
 * New string. */
static char *
compose_project_dir(const struct compose *c)
{
	char *dir = xstrdup(c->files[0]), *slash = strrchr(dir, '/');

	if (slash != NULL)
		*(slash == dir ? slash + 1 : slash) = '\0';
	return dir;
}

/* Is every container of the project (list, compose_list_project()'s) this
 * workspace's (owner_list_other_folder())? The project's name is the
 * folder's unless a file or COMPOSE_PROJECT_NAME gives one: another folder
 * of the same name (/x/app, /y/app), or a name given twice, makes the same
 * one, and its dev container is neither taken (the user would work in the
 * other folder's environment) nor recreated. The refusal says what made
 * the name (c->project_from) and names the other workspace as `rdev down`
 * takes it: its folder, else (its dev container gone) the directory of its
 * compose files. Checked before the owners (owner_check_list()): another
 * user's project of another folder is a name that collides, said so with
 * the fix and the user (not "the dev container of THEIR FOLDER belongs to
 * them", a folder this user never named). 0, or -1 with *cause. */
static int
compose_check_workspace(struct compose *c, const cJSON *list, char **cause)
{
	const char *folder = config_get_local_folder(c->cfg), *other;
	char *dir = compose_project_dir(c), *user;
	struct stat st;
	int is_folder = 0, gone, err, unread;

	other = owner_list_other_folder(list, folder, dir, &is_folder);
	free(dir);
	if (other == NULL)
		return 0;
	if ((user = owner_list_other_user(list)) != NULL) {
		/* (theirs: not this user's to `rdev down` or remove) */
		error_set(cause,
		    "Compose project %s is another user's workspace (%s%s, of "
		    "%s); the name comes from %s; give this one another name "
		    "(%s): rdev does not use or change another user's "
		    "environment",
		    c->project,
		    *other == '\0'  ? "a folder its containers do not name"
			: is_folder ? "the workspace folder "
				    : "the workspace whose compose files are in "
				      "project directory ",
		    other, user, c->project_from, c->project_fix);
		free(user);
		return -1;
	}
	/* (a folder that cannot be read, not searchable, is not said to be
	 * gone, nor another user's: owner_list_other_user skipped it) */
	err = *other == '\0' || stat(other, &st) == 0 ? 0 : errno;
	gone = *other == '\0' || err != 0;
	unread = err != 0 && err != ENOENT && err != ENOTDIR;
	if (is_folder && !gone)
		return error_set(cause,
		    "Compose project %s is another workspace's (the workspace "
		    "folder %s); the name comes from %s; give this one another "
		    "name (%s), or `rdev down` the other",
		    c->project, other, c->project_from, c->project_fix);
	/* (a folder gone, moved or deleted, or only the compose files'
	 * directory known: no `rdev down` of a folder rdev can name finds
	 * what is left) */
	return error_set(cause,
	    "Compose project %s is another workspace's (%s%s%s); the name comes "
	    "from %s; give this one another name (%s), or remove what is left of "
	    "the other (`docker compose -p %s down`%s)",
	    c->project,
	    *other == '\0'  ? "a folder its containers do not name"
		: is_folder ? "the workspace folder "
			    : "the workspace whose compose files are in project "
			      "directory ",
	    other,
	    *other == '\0'  ? ""
		: unread    ? ", which cannot be read: whose it is is not known"
		: is_folder ? ", which is gone"
			    : "; its dev container is gone, and no container names "
			      "its folder",
	    c->project_from, c->project_fix, c->project,
	    is_folder || gone ? "" : ", or `rdev down` of that workspace's folder");
}

/* Is the service's container (found, inspected; may be NULL) no other
 * workspace's dev container? Compose files that several workspaces name on
 * purpose are one project (compose_check_workspace() lets them be), but two
 * that name the same service would share its container: the second would
 * work in the first's, and its stop and down would act on it. 0, or -1
 * with *cause naming the other workspace and the way out. */
static int
compose_check_dev_container(struct compose *c, const cJSON *found, char **cause)
{
	const char *other;

	if (found == NULL ||
	    (other = owner_other_dev_folder(
		 cJSON_GetObjectItemCaseSensitive(
		     cJSON_GetObjectItemCaseSensitive(found, "Config"), "Labels"),
		 config_get_local_folder(c->cfg), config_get_file(c->cfg))) == NULL)
		return 0;
	return error_set(cause,
	    "service %s of Compose project %s is the dev container of another "
	    "workspace (the workspace folder %s), whose configuration names the "
	    "same compose files and service; the project's name comes from %s; "
	    "give this one another name (%s), or `rdev down` the other",
	    c->service, c->project, other, c->project_from, c->project_fix);
}

/* Is container e (a listing's entry) one of c->checked? */
static int
compose_was_checked(const struct compose *c, const cJSON *e)
{
	const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "Id"));
	const char *seen;
	const cJSON *o;

	if (id == NULL)
		return 0;
	cJSON_ArrayForEach(o, c->checked) {
		seen = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "Id"));
		if (seen != NULL && strcmp(id, seen) == 0)
			return 1;
	}
	return 0;
}

/* Is every container of the project (any service, one-off or not) not
 * checked before (c->checked) this user's (owner_check_list()) and this
 * workspace's (compose_check_workspace())? 0, or -1 with *cause. */
static int
compose_check_owners(struct compose *c, char **cause)
{
	cJSON *list, *e, *next;
	int rc;

	if ((rc = compose_list_project(c, &list, cause)) != 0)
		return rc;
	for (e = list->child; e != NULL; e = next) {
		next = e->next;
		if (compose_was_checked(c, e))
			cJSON_Delete(cJSON_DetachItemViaPointer(list, e));
	}
	rc = compose_check_workspace(c, list, cause) != 0 ||
		owner_check_list(list, cause) != 0
	    ? -1
	    : 0;
	cJSON_Delete(list);
	return rc;
}

/* Append runServices (+ the service when missing) to a, as the reference. */
static void
compose_argv_services(const struct compose *c, struct compose_argv *a)
{
	const cJSON *rs = cJSON_GetObjectItemCaseSensitive(
			config_get_object(c->cfg), "runServices"),
		    *e;
	int have = 0, any = 0;

	cJSON_ArrayForEach(e, rs) {
		if (!cJSON_IsString(e))
			continue;
		compose_argv_add(a, e->valuestring);
		any = 1;
		have |= strcmp(e->valuestring, c->service) == 0;
	}
	if (any && !have)
		compose_argv_add(a, c->service);
}

/* The image the service runs: its image:, or what Compose names the image
 * it builds ("<project>_<service>" before 2.8.0, "-" since). New string. */
static char *
compose_service_image(const struct compose *c)
{
	const cJSON *img = cJSON_GetObjectItemCaseSensitive(c->service_config, "image");

	if (cJSON_IsString(img) && *img->valuestring != '\0')
		return xstrdup(img->valuestring);
	return xasprintf("%s%s%s", c->project,
	    compose_version_before(c, 2, 8, 0) ? "_" : "-", c->service);
}

/* Write an override file (atomically, 0600) at its stable place:
 * <state dir>/compose/<devcontainerId>/NAME; *where gets its path. */
static int
compose_write_file(
    struct compose *c, const char *name, const char *text, char **where, char **cause)
{
	char *state, *dir, *sub, *path;
	int rc = -1;

	if ((state = agent_state_dir(cause)) == NULL)
		return -1;
	dir = xasprintf("%s/compose", state);
	sub = xasprintf("%s/%s", dir, config_get_devcontainer_id(c->cfg));
	path = xasprintf("%s/%s", sub, name);
	if ((mkdir(dir, 0700) != 0 && errno != EEXIST) ||
	    (mkdir(sub, 0700) != 0 && errno != EEXIST)) {
		error_set_errno(cause, errno, "%s", sub);
		goto out;
	}
	if (atomic_file_write(path, text, strlen(text), 0600, cause) != 0)
		goto out;
	free(*where);
	*where = path;
	path = NULL;
	rc = 0;
out:
	free(path);
	free(sub);
	free(dir);
	free(state);
	return rc;
}

/* The override of the build for --cache-from, as the reference's: the
 * service's build gets the images as cache_from (Compose adds them to its
 * own). Only for a service that is built. 0 (c->build_override set, or left
 * NULL), or -1 with *cause. */
static int
compose_build_override(struct compose *c, char **cause)
{
	const cJSON *e;
	cJSON *root, *svc, *list;
	char *text, *version;
	int rc;

	if (c->opts->cache_from == NULL ||
	    cJSON_GetObjectItemCaseSensitive(c->service_config, "build") == NULL)
		return 0;
	root = cJSON_CreateObject();
	if ((version = compose_files_key(c->files[0], "version")) != NULL)
		cJSON_AddStringToObject(root, "version", version);
	svc = cJSON_AddObjectToObject(
	    cJSON_AddObjectToObject(root, "services"), c->service);
	list =
	    cJSON_AddArrayToObject(cJSON_AddObjectToObject(svc, "build"), "cache_from");
	cJSON_ArrayForEach(e, c->opts->cache_from)
		if (cJSON_IsString(e))
			cJSON_AddItemToArray(list, cJSON_CreateString(e->valuestring));
	text = compose_override_print(root);
	rc = compose_write_file(
	    c, COMPOSE_BUILD_OVERRIDE_NAME, text, &c->build_override, cause);
	free(text);
	free(version);
	cJSON_Delete(root);
	return rc;
}

/* The images the project's containers were made from (with the Features
 * images, repo, they were built on), and the service's image as tagged now:
 * what a --rebuild replaces (image.h removes those left dangling, or only
 * under rdev's tags, and unused once the project is up again). */
static cJSON *
compose_replaced_images(struct compose *c, const char *repo)
{
	char *labels[2], *image = compose_service_image(c), *cause = NULL;
	cJSON *ids = image_replaced_find(c->d, NULL, image, NULL), *list = NULL, *more;
	const cJSON *e, *id;

	labels[0] = xasprintf(COMPOSE_LABEL_PROJECT "=%s", c->project);
	labels[1] = NULL;
	if (docker_container_list(c->d, (const char *const *)labels, 1, &list, &cause) !=
	    0) {
		log_debug("project %s: %s", c->project, cause);
		free(cause);
	}
	cJSON_ArrayForEach(e, list) {
		more = image_replaced_find(c->d, e, NULL, repo);
		cJSON_ArrayForEach(id, more)
			cJSON_AddItemToArray(ids, cJSON_CreateString(id->valuestring));
		cJSON_Delete(more);
	}
	cJSON_Delete(list);
	free(labels[0]);
	free(image);
	return ids;
}

/* `compose build` of the services up starts (runServices and the service),
 * or of the service alone (only_service: as the reference's build); once
 * more when Docker's build cache lost an image during it (build-run.h). */
static int
compose_build(struct compose *c, int only_service, char **cause)
{
	struct compose_argv a = { 0 };
	int rc;

	if (!c->opts->rebuild && !c->opts->build_no_cache &&
	    compose_build_override(c, cause) != 0)
		return -1;
	compose_argv_base(c, &a, 1, 0);
	if (c->build_override != NULL) {
		compose_argv_add(&a, "-f");
		compose_argv_add(&a, c->build_override);
	}
	compose_argv_add(&a, "build");
	if (c->opts->rebuild || c->opts->build_no_cache)
		compose_argv_add(&a, "--no-cache");
	if (only_service)
		compose_argv_add(&a, c->service);
	else
		compose_argv_services(c, &a);
	progress_line(c->p, "Building the images of Compose project %s", c->project);
	rc = compose_run_spawn(c, &a, "build", 1, 1, NULL, cause);
	compose_argv_free(&a);
	return rc;
}

/* Build (unless the container exists), read the image's metadata, install
 * the Features on it and build the UID-sync image (for a new container),
 * write the override, `up -d`: admitted by the host (admission.h), as a new
 * container or a stopped one started again, with the host-wide lock held
 * until Compose has started it. replace_id: the service's container that the
 * new one replaces (`--rebuild`, `--recreate`), removed just before `up -d`;
 * or NULL. 0, or ADMISSION_REFUSED or -1 with *cause. */
static int
compose_start(struct compose *c, const char *config_hash, int have_container,
    const char *replace_id, char **cause)
{
	const cJSON *obj = config_get_object(c->cfg), *svc_user;
	struct compose_override_input in = { 0 };
	struct compose_argv a = { 0 };
	cJSON *inspect = NULL, *entries = NULL, *subst = NULL, *merged = NULL,
	      *labels = NULL;
	char *image = NULL, *label = NULL, *uid_image = NULL, *text = NULL;
	char *version = NULL;
	const char *user, *image_user, *set_image = NULL;
	struct stat st;
	int rc = -1, admitted = -1, removed, arc;

	/* A mount string that does not parse fails here, not after a build. */
	if (compose_override_mounts_check(cJSON_GetObjectItemCaseSensitive(obj, "mounts"),
		c->opts->mounts, cause) != 0) {
		error_prefix(cause, "%s", config_get_file(c->cfg));
		goto out;
	}
	if (!have_container && compose_build(c, 0, cause) != 0)
		goto out;

	image = compose_service_image(c);
	if (image_ensure(c->d, image, c->p, &inspect, cause) != 0)
		goto out;
	if ((entries = image_metadata_entries(inspect, cause)) == NULL) {
		error_prefix(cause, "image %s", image);
		goto out;
	}
	svc_user = cJSON_GetObjectItemCaseSensitive(c->service_config, "user");
	/* The Features go on top of the service's image, and the service is
	 * given that image, as the reference does (it builds them into the
	 * service's own build; see compose.h). An existing container is only
	 * started: its image stays, its metadata is the same. */
	if (c->features->n > 0 && have_container)
		feature_install_metadata(c->features, entries);
	else if (c->features->n > 0) {
		/* devcontainer-lock.json as for the other configurations (up.c's
		 * up_prepare_image()), before the Features are built. */
		if (feature_lock_apply(c->cfg, c->features, c->opts->additional_features,
			c->opts->lockfile, c->p, c->lock_text, cause) < 0)
			goto out;
		if (feature_install_image(c->features, c->cfg,
			cJSON_GetStringValue(svc_user), c->d,
			c->opts->rebuild || c->opts->build_no_cache, c->p, &image,
			&inspect, entries, cause) != 0)
			goto out;
		set_image = image;
	}
	subst = config_subst(entries, config_get_subst_ctx(c->cfg));
	merged = config_merge(subst, obj);
	if (!have_container && labels_ports_check(c->cfg, entries, merged, cause) != 0)
		goto out;
	/* As written: up_merged_for_container() substitutes it again (as the
	 * reference). */
	label = config_metadata_label(entries, config_get_raw(c->cfg));

	image_user = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(inspect, "Config"), "User"));
	/* The reference's updateRemoteUserUID: remoteUser, else the service's
	 * user, else the image's. Not for an existing container (it is only
	 * started, as the reference does). */
	user = lifecycle_user(merged);
	if (user == NULL && cJSON_IsString(svc_user) && *svc_user->valuestring != '\0')
		user = svc_user->valuestring;
	if (user == NULL)
		user = image_user;
	if (!have_container && stat(config_get_local_folder(c->cfg), &st) == 0 &&
	    uid_sync_wanted(user, st.st_uid, config_update_remote_user_uid(merged))) {
		progress_line(c->p, "Updating UID/GID of %s to %u:%u", user,
		    (unsigned)st.st_uid, (unsigned)st.st_gid);
		if (uid_sync_build(image, user, image_user, st.st_uid, st.st_gid, c->p,
			&uid_image, cause) != 0)
			goto out;
		set_image = uid_image;
	}

	labels = labels_make(c->cfg, config_hash, label, entries);
	labels_add_placement(labels, c->opts, merged);
	version = compose_files_key(c->files[0], "version");
	in.service = c->service;
	in.version = version;
	in.image = set_image;
	in.merged = merged;
	in.override_command = config_override_command(CONFIG_KIND_COMPOSE, merged);
	in.service_config = c->service_config;
	in.image_config = cJSON_GetObjectItemCaseSensitive(inspect, "Config");
	in.labels = labels;
	in.services = cJSON_GetObjectItemCaseSensitive(c->config, "services");
	in.extra_mounts = c->opts->mounts;
	in.limit = c->opts->limit_containers &&
	    (c->v2 || version == NULL || strncmp(version, "3", 1) != 0);
	if ((text = compose_override_generate(&in, cause)) == NULL) {
		error_prefix(cause, "%s", config_get_file(c->cfg));
		goto out;
	}
	if (compose_write_file(c, COMPOSE_OVERRIDE_NAME, text, &c->override, cause) != 0)
		goto out;
	/* Everything the new container needs is ready: only now is the one it
	 * replaces removed, so a build that fails keeps it. */
	if (replace_id != NULL) {
		progress_line(c->p, "Removing container %.12s", replace_id);
		/* (a `down` meanwhile may have removed it: no error) */
		if (docker_container_remove_if_there(
			c->d, replace_id, 1, 0, &removed, cause) != 0)
			goto out;
		container_removed(replace_id);
	}

	compose_argv_base(c, &a, 1, 1);
	compose_argv_add(&a, "up");
	compose_argv_add(&a, "-d");
	if (have_container)
		compose_argv_add(&a, "--no-recreate");
	compose_argv_services(c, &a);
	if (c->opts->policy != NULL &&
	    (arc = admission_enter(c->opts->policy, c->d, merged, &admitted, cause)) !=
		0) {
		rc = arc; /* (ADMISSION_REFUSED: compose_up says so) */
		goto out;
	}
	/* Again, the build (minutes, maybe) done: another user's (or
	 * workspace's) up of the same project name may have made its
	 * containers meanwhile, which this `up` would recreate as ours (with a host
	 * policy, under the host-wide lock every agent takes here). */
	if (compose_check_owners(c, cause) != 0)
		goto out;
	progress_line(
	    c->p, "Starting Compose project %s (service %s)", c->project, c->service);
	if (compose_run(c, &a, "up", 1, NULL, cause) != 0)
		goto out;
	rc = 0;
out:
	admission_leave(admitted);
	compose_argv_free(&a);
	cJSON_Delete(inspect);
	cJSON_Delete(entries);
	cJSON_Delete(subst);
	cJSON_Delete(merged);
	cJSON_Delete(labels);
	free(image);
	free(label);
	free(uid_image);
	free(text);
	free(version);
	return rc;
}

static void
compose_clear(struct compose *c)
{
	free(c->version);
	free(c->cli_remembered_in);
	xstrv_free(c->files);
	free(c->env_file);
	cJSON_Delete(c->config);
	free(c->project);
	free(c->project_from);
	free(c->project_fix);
	free(c->override);
	free(c->build_override);
}

/* Set c up for cfg's service: the Compose CLI, the files, their
 * configuration, the project name. 0, or -1 with *cause; c is cleared with
 * compose_clear() either way. */
static int
compose_open(struct compose *c, const struct config *cfg, struct docker *d,
    const struct feature_set *features, const struct up_opts *opts, char **cause)
{
	const cJSON *svc =
	    cJSON_GetObjectItemCaseSensitive(config_get_object(cfg), "service");

	memset(c, 0, sizeof *c);
	c->cfg = cfg;
	c->d = d;
	c->features = features;
	c->opts = opts;
	c->p = &opts->progress;
	if (!cJSON_IsString(svc) || *svc->valuestring == '\0')
		return error_set(cause,
		    "%s: \"service\" is required for a Compose "
		    "configuration",
		    config_get_file(cfg));
	c->service = svc->valuestring;
	if (compose_detect(c, cause) != 0 || compose_files_find(c, cause) != 0 ||
	    compose_files_read_config(c, cause) != 0 ||
	    compose_files_project(c, cause) != 0)
		return -1;
	return 0;
}

int
compose_project_name(const struct config *cfg, struct docker *d, char **project,
    char **project_dir, char **cause)
{
	static const struct up_opts quiet; /* (no progress: `config` only) */
	struct compose c;
	int rc = -1;

	*project = NULL;
	if (project_dir != NULL)
		*project_dir = NULL;
	if (compose_open(&c, cfg, d, NULL, &quiet, cause) == 0) {
		*project = c.project;
		c.project = NULL;
		if (project_dir != NULL)
			*project_dir = compose_project_dir(&c);
		rc = 0;
	}
	compose_clear(&c);
	return rc;
}

char *
compose_project_dir_of(const struct config *cfg)
{
	struct compose c = { 0 };
	char *dir = NULL, *ignore = NULL;

	c.cfg = cfg;
	if (compose_files_find(&c, &ignore) == 0)
		dir = compose_project_dir(&c);
	free(ignore);
	compose_clear(&c);
	return dir;
}

int
compose_build_image(const struct config *cfg, struct docker *d,
    const struct up_opts *opts, char **image, cJSON **inspect, char **service_user,
    char **cause)
{
	struct compose c;
	const char *user;
	int rc = -1;

	*image = NULL;
	*inspect = NULL;
	*service_user = NULL;
	if (compose_open(&c, cfg, d, NULL, opts, cause) != 0 ||
	    compose_build(&c, 1, cause) != 0)
		goto out;
	*image = compose_service_image(&c);
	rc = image_ensure(d, *image, c.p, inspect, cause);
	user = cJSON_GetStringValue(
	    cJSON_GetObjectItemCaseSensitive(c.service_config, "user"));
	if (rc == 0 && user != NULL)
		*service_user = xstrdup(user);
out:
	compose_clear(&c);
	return rc;
}

/* Add to st the Dockerfile of each service that is built (its build's
 * context and dockerfile, as `compose config` gives them: the context
 * absolute), as up.c hashes a Dockerfile configuration's. */
static void
compose_hash_dockerfiles(const struct compose *c, crypto_generichash_state *st)
{
	const cJSON *svc, *build, *ctx, *df;
	char *path, *text;

	cJSON_ArrayForEach(svc, cJSON_GetObjectItemCaseSensitive(c->config, "services")) {
		build = cJSON_GetObjectItemCaseSensitive(svc, "build");
		ctx = cJSON_IsString(build)
		    ? build
		    : cJSON_GetObjectItemCaseSensitive(build, "context");
		if (!cJSON_IsString(ctx))
			continue;
		df = cJSON_GetObjectItemCaseSensitive(build, "dockerfile");
		if (!cJSON_IsString(df))
			path = xasprintf("%s/Dockerfile", ctx->valuestring);
		else if (df->valuestring[0] == '/')
			path = xstrdup(df->valuestring);
		else
			path = xasprintf("%s/%s", ctx->valuestring, df->valuestring);
		if ((text = config_read_text(path, NULL)) != NULL) {
			crypto_generichash_update(
			    st, (unsigned char *)text, strlen(text));
			free(text);
		}
		free(path);
	}
}

/* What the service's container is made from: config_hash (up.c's, of the
 * devcontainer.json), the project as `compose config` has it and the
 * Dockerfiles it builds, so that an edited compose file, .env or Dockerfile
 * is said to change the configuration as an edited devcontainer.json is.
 * Hex, new string. */
static char *
compose_config_hash(const struct compose *c, const char *config_hash)
{
	unsigned char h[16];
	char hex[33], *text;
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, sizeof h);
	crypto_generichash_update(
	    &st, (const unsigned char *)config_hash, strlen(config_hash) + 1);
	if ((text = cJSON_PrintUnformatted(c->config)) == NULL)
		fatal("out of memory");
	crypto_generichash_update(&st, (unsigned char *)text, strlen(text));
	free(text);
	compose_hash_dockerfiles(c, &st);
	crypto_generichash_final(&st, h, sizeof h);
	sodium_bin2hex(hex, sizeof hex, h, sizeof h);
	return xstrdup(hex);
}

/* The error of an up after which the service has no container: one in
 * profiles (`profiles:`) none of which is active is not started, which
 * the message says with the way to start it. -1 with *cause. */
static int
compose_no_container(const struct compose *c, char **cause)
{
	const cJSON *profiles =
			cJSON_GetObjectItemCaseSensitive(c->service_config, "profiles"),
		    *e;
	struct buf *b;
	char *names;
	int rc;

	if (cJSON_GetArraySize(profiles) == 0)
		return error_set(cause,
		    "`%s up` succeeded, but there is no container for service %s "
		    "of project %s",
		    compose_cmd_name(c), c->service, c->project);
	b = buf_new();
	cJSON_ArrayForEach(e, profiles)
		if (cJSON_IsString(e))
			buf_appendf(b, "%s%s", buf_len(b) > 0 ? "," : "", e->valuestring);
	names = buf_take_string(b, NULL);
	buf_free(b);
	rc = error_set(cause,
	    "`%s up` succeeded, but there is no container for service %s of "
	    "project %s: the service has profiles (%s), none of them active; "
	    "activate one with COMPOSE_PROFILES (e.g. COMPOSE_PROFILES=%.*s in "
	    "the environment or the project's .env file)",
	    compose_cmd_name(c), c->service, c->project, names, (int)strcspn(names, ","),
	    names);
	free(names);
	return rc;
}

int
compose_up(const struct config *cfg, struct docker *d, const char *config_hash,
    const struct feature_set *features, const struct up_opts *opts, cJSON **container,
    cJSON **merged, int *created, char **lock_text, char **cause)
{
	const struct progress *p = &opts->progress;
	struct compose c = { 0 };
	cJSON *list = NULL, *found = NULL, *replaced = NULL;
	char *repo = feature_install_repo(cfg), *replace_id = NULL, *hash = NULL;
	int rc = -1;

	*container = NULL;
	*merged = NULL;
	*created = 0;
	if (compose_open(&c, cfg, d, features, opts, cause) != 0)
		goto out;
	c.lock_text = lock_text;
	hash = compose_config_hash(&c, config_hash);
	/* The project's name is the folder's, the same for every user naming
	 * it: another user's containers (the service's or any other of the
	 * project) are neither reused, started again nor replaced, as up_run()
	 * refuses for the other configurations; checked before any change, in
	 * the one listing the service's container is then found in. */
	if (compose_list_project(&c, &list, cause) != 0 ||
	    compose_check_workspace(&c, list, cause) != 0 ||
	    owner_check_list(list, cause) != 0 ||
	    compose_find_container(&c, list, &found, cause) != 0 ||
	    compose_check_dev_container(&c, found, cause) != 0)
		goto out;
	c.checked = list;
	/* Removed by compose_start once the new container's images are built. */
	if (found != NULL && (opts->rebuild || opts->recreate)) {
		replaced = compose_replaced_images(&c, repo);
		replace_id = xstrdup(
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(found, "Id")));
		cJSON_Delete(found);
		found = NULL;
	}
	if (found != NULL)
		labels_note_changed(found, hash, p);
	if (found == NULL || !docker_container_running(found)) {
		if ((rc = compose_start(&c, hash, found != NULL, replace_id, cause)) != 0)
			goto out;
		rc = -1;
		image_replaced_remove(d, replaced, repo, p);
		*created = found == NULL;
		cJSON_Delete(found);
		found = NULL;
		c.checked = NULL;
		cJSON_Delete(list);
		if (compose_list_project(&c, &list, cause) != 0 ||
		    compose_find_container(&c, list, &found, cause) != 0)
			goto out;
		if (found == NULL) {
			compose_no_container(&c, cause);
			goto out;
		}
	}
	if (up_merged_for_container(cfg, found, merged, cause) != 0)
		goto out;
	*container = found;
	found = NULL;
	rc = 0;
out:
	cJSON_Delete(list);
	cJSON_Delete(found);
	cJSON_Delete(replaced);
	free(repo);
	free(replace_id);
	free(hash);
	compose_clear(&c);
	return rc;
}
