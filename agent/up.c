/* up.c - `up`: turn a workspace into a running, ready dev container. */
#include "up.h"

#include "up-internal.h"
#include "labels.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "admission.h"
#include "atomic-file.h"
#include "buf.h"
#include "agent-state.h"
#include "compose.h"
#include "config-discover.h"
#include "config-merge.h"
#include "config-subst.h"
#include "config.h"
#include "container-removed.h"
#include "container-spec.h"
#include "docker.h"
#include "env-probe.h"
#include "error.h"
#include "feature-install.h"
#include "feature-lock.h"
#include "feature-resolve.h"
#include "image.h"
#include "jsonc.h"
#include "log.h"
#include "lifecycle.h"
#include "mount-stale.h"
#include "owner.h"
#include "path.h"
#include "quote.h"
#include "secrets.h"
#include "source-root.h"
#include "tree-hash.h"
#include "uid-sync.h"
#include "workspace.h"
#include "xmalloc.h"

/* Add to st what the Features are: a local one's folder (its tree, as
 * feature-install.c hashes it for its image's tag), a fetched one's digest.
 * A folder that cannot be read counts as empty: the install says why. */
static void
up_config_hash_features(crypto_generichash_state *st, const struct feature_set *fs)
{
	unsigned char out[crypto_hash_sha256_BYTES];
	crypto_hash_sha256_state tree;
	char *ignore = NULL;

	for (size_t i = 0; fs != NULL && i < fs->n; i++) {
		const struct feature *f = &fs->v[fs->order[i]];

		crypto_hash_sha256_init(&tree);
		tree_hash_string(&tree, f->id);
		if (f->integrity != NULL)
			tree_hash_string(&tree, f->integrity);
		else if (tree_hash_update(&tree, f->dir, &ignore) != 0) {
			free(ignore);
			ignore = NULL;
		}
		crypto_hash_sha256_final(&tree, out);
		crypto_generichash_update(st, out, sizeof out);
	}
}

/* A hash of what the container was made from: the devcontainer.json,
 * for a Dockerfile the Dockerfile, the --additional-features when given
 * and the Features' contents (an edited local Feature is a changed
 * configuration). Hex, new string. */
static char *
up_config_hash(const struct config *cfg, const cJSON *additional_features,
    const struct feature_set *features)
{
	unsigned char h[16];
	char hex[33], *text, *dir;
	crypto_generichash_state st;
	const cJSON *obj = config_get_object(cfg);
	const char *df, *context;

	crypto_generichash_init(&st, NULL, 0, sizeof h);
	if ((text = config_read_text(config_get_source_file(cfg), NULL)) != NULL) {
		crypto_generichash_update(&st, (unsigned char *)text, strlen(text));
		free(text);
	}
	image_dockerfile_keys(obj, &df, &context, NULL);
	if (df != NULL) {
		dir = xstrdup(config_get_file(cfg));
		*strrchr(dir, '/') = '\0';
		char *path = df[0] == '/' ? xstrdup(df) : xasprintf("%s/%s", dir, df);
		if ((text = config_read_text(path, NULL)) != NULL) {
			crypto_generichash_update(
			    &st, (unsigned char *)text, strlen(text));
			free(text);
		}
		free(path);
		free(dir);
	}
	if (additional_features != NULL) {
		text = cJSON_PrintUnformatted(additional_features);
		crypto_generichash_update(&st, (unsigned char *)text, strlen(text));
		free(text);
	}
	up_config_hash_features(&st, features);
	crypto_generichash_final(&st, h, sizeof h);
	sodium_bin2hex(hex, sizeof hex, h, sizeof h);
	return xstrdup(hex);
}

static void
up_on_lock_wait(void *arg)
{
	progress_line(arg, "%s", AGENT_LOCK_WAIT_LINE);
}

/* The workspace's container (not being removed), or NULL. */
static int
up_find_container(struct up_state *s, cJSON **found, char **cause)
{
	cJSON *list = NULL, *c;
	const cJSON *state, *id;
	int rc;

	*found = NULL;
	rc = docker_container_list(s->docker,
	    (const char *const *)config_get_id_labels(s->cfg), 1, &list, cause);
	if (rc != 0)
		return -1;
	cJSON_ArrayForEach(c, list) {
		state = cJSON_GetObjectItemCaseSensitive(c, "State");
		if (cJSON_IsString(state) && strcmp(state->valuestring, "removing") == 0)
			continue;
		id = cJSON_GetObjectItemCaseSensitive(c, "Id");
		if (!cJSON_IsString(id))
			continue;
		rc = docker_container_inspect(s->docker, id->valuestring, found, cause);
		break;
	}
	cJSON_Delete(list);
	return rc;
}

const char *
up_json_string(const cJSON *obj, const char *path1, const char *path2)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, path1);

	if (path2 != NULL)
		v = cJSON_GetObjectItemCaseSensitive(v, path2);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Are a and b the same path in lexical normal form (Docker cleans the paths
 * it reports: "/w/./x//" is "/w/x")? Either NULL: no. */
static int
up_same_path(const char *a, const char *b)
{
	char *na, *nb;
	int same;

	if (a == NULL || b == NULL)
		return 0;
	na = config_discover_normal(a);
	nb = config_discover_normal(b);
	same = strcmp(na, nb) == 0;
	free(na);
	free(nb);
	return same;
}

/* Substitute the first-pass variables in image metadata entries. */
static cJSON *
up_subst_metadata(const struct up_state *s, const cJSON *entries)
{
	return config_subst(entries, config_get_subst_ctx(s->cfg));
}

/* The owner of the workspace folder: whose UID/GID the remote user gets. */
static int
up_workspace_owner(const struct up_state *s, uid_t *uid, gid_t *gid, char **cause)
{
	struct stat st;

	if (stat(config_get_local_folder(s->cfg), &st) < 0)
		return error_set_errno(
		    cause, errno, "%s", config_get_local_folder(s->cfg));
	*uid = st.st_uid;
	*gid = st.st_gid;
	return 0;
}

/* The image of a new container (up_prepare_image()). */
struct up_image {
	char *name;	/* the configuration's image, or the tag rdev built */
	cJSON *inspect; /* its inspect as pulled or built, before the label */
	cJSON *entries; /* its devcontainer.metadata entries */
	char *label;	/* the label the container gets: entries + configuration */
};

static void
up_image_clear(struct up_image *img)
{
	free(img->name);
	cJSON_Delete(img->inspect);
	cJSON_Delete(img->entries);
	free(img->label);
	memset(img, 0, sizeof *img);
}

/* Get the image for a new container into *img (cleared with
 * up_image_clear() either way): pull the configuration's image, or build
 * the Dockerfile as the tag image_build_tag() names and give the built image
 * the metadata label, tagged names too (NULL-terminated, may be NULL: the
 * build's --image-name); for Compose (build only: up starts the project
 * instead) build the service's image. */
static int
up_prepare_image(
    struct up_state *s, const char *const *names, struct up_image *img, char **cause)
{
	const cJSON *obj = config_get_object(s->cfg);
	const char **tags;
	char *service_user = NULL;
	size_t n = 0;
	int rc;

	memset(img, 0, sizeof *img);
	/* As the reference's: the lockfile before anything is built. */
	if ((rc = feature_lock_apply(s->cfg, s->features, s->opts->additional_features,
		 s->opts->lockfile, s->p,
		 s->opts->include_lockfile ? &s->lock_text : NULL, cause)) < 0)
		return -1;
	s->lock_unreported = rc > 0;
	if (config_get_kind(s->cfg) == CONFIG_KIND_COMPOSE) {
		if (compose_build_image(s->cfg, s->docker, s->opts, &img->name,
			&img->inspect, &service_user, cause) != 0)
			return -1;
	} else if (config_get_kind(s->cfg) == CONFIG_KIND_IMAGE) {
		img->name = xstrdup(up_json_string(obj, "image", NULL));
		if (image_ensure(s->docker, img->name, s->p, &img->inspect, cause) != 0)
			return -1;
	} else {
		img->name = image_build_tag(s->cfg, s->config_hash);
		if (image_build_dockerfile(s->cfg, img->name,
			s->opts->rebuild || s->opts->build_no_cache, s->opts->cache_from,
			s->p, cause) != 0 ||
		    docker_image_inspect(s->docker, img->name, &img->inspect, cause) != 0)
			return -1;
		if (img->inspect == NULL)
			return error_set(cause,
			    "image %s: built, but Docker does not show it", img->name);
	}
	if ((img->entries = image_metadata_entries(img->inspect, cause)) == NULL) {
		free(service_user);
		return error_prefix(cause, "image %s", img->name);
	}
	rc = s->features->n > 0
	    ? feature_install_image(s->features, s->cfg, service_user, s->docker,
		  s->opts->rebuild || s->opts->build_no_cache, s->p, &img->name,
		  &img->inspect, img->entries, cause)
	    : 0;
	free(service_user);
	if (rc != 0)
		return -1;
	/* As the reference: the label holds the entries and the configuration as
	 * written; whoever reuses the container substitutes them again. */
	img->label = config_metadata_label(img->entries, config_get_raw(s->cfg));
	if (config_get_kind(s->cfg) != CONFIG_KIND_DOCKERFILE)
		return 0;
	/* The built image carries the merged metadata, as the reference's does. */
	while (names != NULL && names[n] != NULL)
		n++;
	tags = xreallocarray(NULL, n + 2, sizeof *tags);
	tags[0] = img->name;
	for (size_t i = 0; i < n; i++)
		tags[i + 1] = names[i];
	tags[n + 1] = NULL;
	rc = image_set_metadata_label(img->name, tags, img->label, s->p, cause);
	free(tags);
	return rc;
}

/* Where runArgs' --env-file files are read (up_env_file_read). */
struct up_env_files {
	const char *folder; /* the workspace folder: relative paths' base */
	int uploaded;	    /* a copy uploaded or cloned: only files in it */
};

/* Is folder a workspace uploaded or cloned for `rdev up HOST: SOURCE`: in
 * the host's workspace root (source-root.h)? */
static int
up_workspace_uploaded(const char *folder)
{
	char *root = source_root_dir(NULL);
	size_t n = root != NULL ? strlen(root) : 0;
	int in = root != NULL && strncmp(folder, root, n) == 0 && folder[n] == '/';

	free(root);
	return in;
}

/* Read an --env-file (run-args.h's reader), as the docker CLI of the
 * reference run on the Docker host would: a relative path from the
 * workspace folder (the reference's docker runs in its own working folder,
 * the workspace's when VS Code or `devcontainer up` is started there). Of an
 * uploaded workspace only its own files are on the host: one outside it is
 * refused, naming it. */
static int
up_env_file_read(void *arg, const char *path, char **text, size_t *len, char **cause)
{
	const struct up_env_files *ef = arg;
	char *full =
	    path[0] == '/' ? xstrdup(path) : xasprintf("%s/%s", ef->folder, path);
	char *real = NULL, *root = NULL;
	size_t rlen;
	int rc = -1, missing;

	if (ef->uploaded) {
		root = realpath(ef->folder, NULL);
		real = realpath(full, NULL);
		/* A file that is not there: where its folder is says which
		 * error (".." out of the workspace, or one left out). */
		missing = real == NULL && errno == ENOENT;
		if (missing) {
			/* (its nearest folder that is there: a folder left
			 * out of the upload is missing too) */
			char *dir = xstrdup(full), *slash;

			while (real == NULL && (slash = strrchr(dir, '/')) != NULL) {
				*slash = '\0';
				real = realpath(*dir != '\0' ? dir : "/", NULL);
			}
			free(dir);
		}
		rlen = root != NULL ? strlen(root) : 0;
		if (root == NULL || real == NULL || strncmp(real, root, rlen) != 0 ||
		    (real[rlen] != '/' && real[rlen] != '\0')) {
			error_set(cause,
			    "%s is outside the uploaded workspace %s: only the "
			    "workspace's files are uploaded to the host (move it "
			    "into the workspace, or use containerEnv)",
			    full, ef->folder);
			goto out;
		}
		if (missing) {
			error_set(cause,
			    "%s: no such file in the uploaded workspace (left out "
			    "of the upload by .rdevignore?)",
			    full);
			goto out;
		}
	}
	rc = file_read_all(full, 1024 * 1024, text, len, cause);
out:
	free(real);
	free(root);
	free(full);
	return rc;
}

static int up_check_container_spec(
    const struct up_state *s, const struct run_args_files *files, char **cause);

/* Create and start a new container (and its image); s->container and
 * s->merged are set. replace_id: a container to remove once everything the
 * new one needs is ready (its image built, its UID-sync image, its spec), so
 * a build that fails keeps the old one; or NULL. */
static int
up_create(struct up_state *s, const char *replace_id, char **cause)
{
	const cJSON *obj = config_get_object(s->cfg);
	struct container_spec_input in = { 0 };
	struct up_env_files env_files = { 0 };
	struct run_args_files env_reader = { up_env_file_read, &env_files };
	struct up_image img = { 0 };
	cJSON *subst = NULL, *labels = NULL, *body = NULL;
	char *name = NULL, *id = NULL, *uid_image = NULL;
	char **warnings = NULL;
	const char *user;
	uid_t owner_uid = 0;
	gid_t owner_gid = 0;
	int rc = -1, admitted = -1, removed, arc;

	/* The --env-file files read before the image is built: a mistyped
	 * path is found now, not after a long build. (Not earlier: an
	 * initializeCommand may have written them.) */
	env_files.folder = config_get_local_folder(s->cfg);
	env_files.uploaded = up_workspace_uploaded(env_files.folder);
	if (up_check_container_spec(s, &env_reader, cause) != 0)
		goto out;
	if (up_prepare_image(s, NULL, &img, cause) != 0)
		goto out;
	subst = up_subst_metadata(s, img.entries);
	s->merged = config_merge(subst, obj);
	s->metadata = cJSON_Duplicate(subst, 1);
	s->nmetadata = cJSON_GetArraySize(subst);
	/* The ports up_ports() takes once the container runs, checked before
	 * it is made: a bad variable in the image's would otherwise leave a
	 * container whose frozen labels fail every later up. */
	if (labels_ports_check(s->cfg, img.entries, s->merged, cause) != 0)
		goto out;

	user = lifecycle_user(s->merged);
	if (user == NULL)
		user = up_json_string(img.inspect, "Config", "User");
	if (up_workspace_owner(s, &owner_uid, &owner_gid, cause) != 0)
		goto out;
	if (uid_sync_wanted(user, owner_uid, config_update_remote_user_uid(s->merged))) {
		progress_line(s->p, "Updating UID/GID of %s to %u:%u", user,
		    (unsigned)owner_uid, (unsigned)owner_gid);
		if (uid_sync_build(img.name, user,
			up_json_string(img.inspect, "Config", "User"), owner_uid,
			owner_gid, s->p, &uid_image, cause) != 0)
			goto out;
	}

	labels = labels_make(s->cfg, s->config_hash, img.label, img.entries);
	labels_add_placement(labels, s->opts, s->merged);
	labels_add_git_root(labels, s->no_git_root, s->common_dir);
	in.image = uid_image != NULL ? uid_image : img.name;
	in.merged = s->merged;
	in.config = obj;
	in.workspace_mount = config_get_workspace_mount(s->cfg);
	in.worktree_mount = config_get_worktree_mount(s->cfg);
	in.override_command = config_override_command(config_get_kind(s->cfg), s->merged);
	in.image_config = cJSON_GetObjectItemCaseSensitive(img.inspect, "Config");
	in.labels = labels;
	in.extra_mounts = s->opts->mounts;
	in.env_files = &env_reader;
	if ((body = container_spec_create_body(&in, &name, &warnings, cause)) == NULL)
		goto out;
	if (s->opts->limit_containers)
		container_spec_limit(body, s->merged);
	for (char **w = warnings; w != NULL && *w != NULL; w++)
		progress_line(s->p, "warning: %s", *w);
	if (replace_id != NULL) {
		progress_line(s->p, "Removing container %.12s", replace_id);
		/* (a `down` meanwhile may have removed it: no error) */
		if (docker_container_remove_if_there(
			s->docker, replace_id, 1, 0, &removed, cause) != 0)
			goto out;
		container_removed(replace_id);
	}
	/* Admitted with the host-wide lock held until the container runs, so
	 * two `up`s at once are counted one after the other. */
	if (s->opts->policy != NULL &&
	    (arc = admission_enter(
		 s->opts->policy, s->docker, s->merged, &admitted, cause)) != 0) {
		s->refused = arc == ADMISSION_REFUSED;
		goto out;
	}
	progress_line(s->p, "Creating container from %s", in.image);
	if (docker_container_create(s->docker, name, body, &id, cause) != 0)
		goto out;
	if (docker_container_start(s->docker, id, cause) != 0) {
		char *ignore = NULL;
		/* A container that cannot start is of no use to the next `up`. */
		docker_container_remove(s->docker, id, 1, 0, &ignore);
		free(ignore);
		goto out;
	}
	if (docker_container_inspect(s->docker, id, &s->container, cause) != 0)
		goto out;
	if (s->container == NULL) {
		error_set(cause, "container %.12s vanished right after it started", id);
		goto out;
	}
	rc = 0;
out:
	admission_leave(admitted);
	container_spec_warnings_free(warnings);
	up_image_clear(&img);
	cJSON_Delete(subst);
	cJSON_Delete(labels);
	cJSON_Delete(body);
	free(uid_image);
	free(name);
	free(id);
	return rc;
}

/* Does the inspected container have a mount at target (from source: a
 * bind's host path, a volume's name)? */
static int
up_has_mount(
    const cJSON *container, const char *type, const char *source, const char *target)
{
	const cJSON *e;
	const char *have;

	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(container, "Mounts")) {
		if (!up_same_path(up_json_string(e, "Destination", NULL), target))
			continue;
		have = up_json_string(
		    e, strcmp(type, "volume") == 0 ? "Name" : "Source", NULL);
		return source == NULL ||
		    (strcmp(type, "volume") == 0
			    ? have != NULL && strcmp(have, source) == 0
			    : up_same_path(have, source));
	}
	return 0;
}

/* --mount asks for what a reused container was made without: Docker cannot
 * add a mount to a container, so say so, rather than leave it out in
 * silence (as the reference does). */
static void
up_note_mounts_missing(const struct up_state *s)
{
	const cJSON *m;
	const char *type, *source, *target;

	cJSON_ArrayForEach(m, s->opts->mounts) {
		type = up_json_string(m, "type", NULL);
		source = up_json_string(m, "source", NULL);
		target = up_json_string(m, "target", NULL);
		if (type == NULL || target == NULL ||
		    up_has_mount(s->container, type, source, target))
			continue;
		progress_line(s->p,
		    "warning: --mount type=%s,source=%s,target=%s: not mounted: "
		    "container %.12s was made without it (`up --recreate` makes it "
		    "anew with it)",
		    type, source != NULL ? source : "", target,
		    up_json_string(s->container, "Id", NULL));
	}
}

/* --build-no-cache and --cache-from shape a build, and a container reused
 * (running, or stopped and started again) is not built again: say the flag
 * did nothing, as up_note_mounts_missing() does for --mount, rather than
 * drop it in silence (as the reference does). Only a flag that would shape
 * a build of this configuration for a new container: an image: config
 * builds with neither but for its Features (--no-cache; the UID-sync image
 * takes neither), so "use --remove-existing-container" would promise what
 * a new container does not do. */
static void
up_note_build_flags_unused(const struct up_state *s)
{
	const char *flag[2] = { NULL, NULL };
	const char *id = up_json_string(s->container, "Id", NULL);
	int built = config_get_kind(s->cfg) != CONFIG_KIND_IMAGE, i;

	if (s->opts->build_no_cache && (built || s->features->n > 0))
		flag[0] = "--build-no-cache";
	if (cJSON_GetArraySize(s->opts->cache_from) > 0 && built)
		flag[1] = "--cache-from";
	for (i = 0; i < 2; i++)
		if (flag[i] != NULL)
			progress_line(s->p,
			    "warning: %s: nothing is built: the container exists "
			    "(%.12s): use --remove-existing-container to rebuild",
			    flag[i], id != NULL ? id : "");
}

/* An existing container: its merged configuration comes from its own
 * metadata label (frozen at creation), as the reference CLI does. A running
 * one whose workspace mount is of a folder deleted since (mount-stale.h) is
 * stopped and started again: a start binds the folder there now, and keeps
 * the rest of the container (a new one would not), as a resume does. */
static int
up_reuse(struct up_state *s, int *started, char **cause)
{
	char *id = xstrdup(up_json_string(s->container, "Id", NULL));
	const char *stale;
	int rc = -1, admitted = -1, restart = 0, arc;

	labels_note_changed(s->container, s->config_hash, s->p);
	up_note_mounts_missing(s);
	up_note_build_flags_unused(s);
	if (up_merged_for_container_meta(s->cfg, s->container, &s->merged, &s->metadata,
		&s->nmetadata, cause) != 0)
		goto out;
	*started = 0;
	if (docker_container_running(s->container)) {
		stale = mount_stale_workspace(s->container, s->opts->workspace_folder);
		if (stale == NULL) {
			rc = 0;
			goto out;
		}
		progress_line(s->p,
		    "warning: container %.12s mounts %s as it was before it was "
		    "deleted on this host (it was made again since): restarting the "
		    "container, which mounts the folder there now",
		    id, stale);
		if (docker_container_stop(s->docker, id, -1, cause) < 0)
			goto out;
		restart = 1;
	}
	/* A stopped container started again takes a place as a new one does
	 * (its reservation was not counted while it was stopped); one this up
	 * stopped only to restart it held its place while it ran: no admission
	 * (a refusal now would leave a running environment stopped). */
	if (!restart && s->opts->policy != NULL &&
	    (arc = admission_enter(
		 s->opts->policy, s->docker, s->merged, &admitted, cause)) != 0) {
		s->refused = arc == ADMISSION_REFUSED;
		goto out;
	}
	progress_line(s->p, "Starting container %.12s", id);
	if (docker_container_start(s->docker, id, cause) != 0)
		goto out;
	admission_leave(admitted);
	admitted = -1;
	*started = 1;
	cJSON_Delete(s->container);
	s->container = NULL;
	if (docker_container_inspect(s->docker, id, &s->container, cause) != 0)
		goto out;
	if (s->container == NULL) {
		error_set(cause, "container %.12s vanished while starting", id);
		goto out;
	}
	rc = 0;
out:
	admission_leave(admitted);
	free(id);
	return rc;
}

int
up_remote_env(struct docker *d, const char *state_dir, const cJSON *container,
    int current, const cJSON *merged, const cJSON *cli_remote_env,
    const char *remote_user, char ***env, char ***unset, char **cause)
{
	const cJSON *config = cJSON_GetObjectItemCaseSensitive(container, "Config");
	const char *id = up_json_string(container, "Id", NULL);
	const char *probe_kind = up_json_string(merged, "userEnvProbe", NULL);
	struct secrets *cli = NULL;
	char **probed = NULL, **container_env;
	int rc = -1;

	*env = *unset = NULL;
	container_env = env_from_json(cJSON_GetObjectItemCaseSensitive(config, "Env"));
	/* --remote-env is a plain NAME=VALUE overlay, as secrets are: the same
	 * code puts it on the probed env (secrets.h). */
	if (secrets_from_json(cli_remote_env, &cli, cause) != 0) {
		error_prefix(cause, "--remote-env");
		goto out;
	}
	if ((current ? env_probe_get_inspected(d, state_dir, container, remote_user,
			   probe_kind, &probed, cause)
		     : env_probe_get(d, state_dir, id, remote_user, probe_kind, &probed,
			   cause)) != 0)
		goto out;
	secrets_env_apply(cli, &probed, NULL);
	if (env_probe_apply_remote_env(probed,
		cJSON_GetObjectItemCaseSensitive(merged, "remoteEnv"), container_env, env,
		unset, cause) == 0)
		rc = 0;
out:
	secrets_free(cli);
	env_free(probed);
	env_free(container_env);
	return rc;
}

int
up_merged_for_container_meta(const struct config *cfg, const cJSON *container,
    cJSON **merged, cJSON **metadata, int *nmetadata, char **cause)
{
	cJSON *entries, *subst;

	*merged = NULL;
	if ((entries = image_metadata_entries(container, cause)) == NULL)
		return error_prefix(
		    cause, "container %.12s", up_json_string(container, "Id", NULL));
	/* As the reference: the container's frozen metadata (written before
	 * substitution), substituted, plus the properties a configuration may
	 * still change (remoteUser, userEnvProbe, remoteEnv). */
	subst = config_subst(entries, config_get_subst_ctx(cfg));
	cJSON_AddItemToArray(
	    subst, config_metadata_updateable_from_config(config_get_object(cfg)));
	*merged = config_merge_entries(subst, config_get_object(cfg));
	if (metadata != NULL) {
		*nmetadata = labels_image_entry_count(container, entries);
		*metadata = subst;
		subst = NULL;
	}
	cJSON_Delete(entries);
	cJSON_Delete(subst);
	return 0;
}

/* The workspace folder in container for the local folder: where the bind
 * mount holding it (its own, or its git root's: the longest) puts it. New
 * string, or NULL when no bind mount holds it. */
static char *
up_recorded_folder(const cJSON *container, const char *local)
{
	const cJSON *m;
	const char *source, *dest, *best_source = NULL, *best_dest = NULL;

	cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(container, "Mounts")) {
		if (!mount_bind_holding(m, local, &source, &dest))
			continue;
		if (best_source == NULL || strlen(source) > strlen(best_source)) {
			best_source = source;
			best_dest = dest;
		}
	}
	if (best_source == NULL)
		return NULL;
	/* (strlen: "/" holds every path, the rest keeps its '/') */
	local += strcmp(best_source, "/") == 0 ? 0 : strlen(best_source);
	return xasprintf(
	    "%s%s", strcmp(best_dest, "/") == 0 && *local == '/' ? "" : best_dest, local);
}

int
up_merged_recorded(const char *folder, const cJSON *container, cJSON **merged,
    cJSON **metadata, int *nmetadata, char **workdir, char **cause)
{
	struct config_subst_ctx ctx = { 0 };
	const char *local = image_label(container, "devcontainer.local_folder");
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(container, "Id");
	char *real = NULL;
	cJSON *entries, *subst;

	*merged = NULL;
	*workdir = NULL;
	/* (an --id-label container has no folder label: the folder given) */
	if (local == NULL || *local == '\0')
		local = (real = realpath(folder, NULL)) != NULL ? real : folder;
	if ((*workdir = up_recorded_folder(container, local)) == NULL) {
		error_set(cause,
		    "container %.12s mounts no folder holding %s: its workspace "
		    "folder is known only from the configuration",
		    cJSON_IsString(id) ? id->valuestring : "", local);
		free(real);
		return -1;
	}
	if ((entries = image_metadata_entries(container, cause)) == NULL) {
		free(real);
		free(*workdir);
		*workdir = NULL;
		return -1;
	}
	ctx.local_workspace_folder = local;
	ctx.container_workspace_folder = *workdir;
	ctx.devcontainer_id = image_label(container, "dev.rdev.devcontainer_id");
	ctx.local_env = config_env_lookup_process;
	subst = config_subst(entries, &ctx);
	*merged = config_merge_entries(subst, NULL);
	if (metadata != NULL) {
		*nmetadata = labels_image_entry_count(container, entries);
		*metadata = subst;
		subst = NULL;
	}
	cJSON_Delete(subst);
	cJSON_Delete(entries);
	free(real);
	return 0;
}

int
up_merged_for_container(
    const struct config *cfg, const cJSON *container, cJSON **merged, char **cause)
{
	return up_merged_for_container_meta(cfg, container, merged, NULL, NULL, cause);
}

char *
up_remote_user(const cJSON *merged, const cJSON *container)
{
	const char *user = lifecycle_user(merged);

	if (user == NULL)
		user = up_json_string(container, "Config", "User");
	return xstrdup(user != NULL && *user != '\0' ? user : "root");
}

static void
up_state_clear(struct up_state *s)
{
	config_free(s->cfg);
	docker_free(s->docker);
	free(s->state_dir);
	free(s->config_hash);
	agent_lock_release(s->lock_fd);
	cJSON_Delete(s->container);
	cJSON_Delete(s->merged);
	cJSON_Delete(s->metadata);
	free(s->remote_user);
	free(s->lock_text);
	free(s->failed_description);
	free(s->workdir);
	feature_set_free(s->features);
}

/* The configuration's own mounts, appPort and runArgs as the container's
 * creation takes them, refused before an image is built or pulled, at the
 * place in the file of the element at fault ("devcontainer.json:4:17:
 * runArgs[1]: --memory: invalid size: 'lots'"). */
static int
up_check_container_spec(
    const struct up_state *s, const struct run_args_files *files, char **cause)
{
	const struct jsonc_doc *doc = config_get_doc(s->cfg);
	const cJSON *node;
	const char *property;
	unsigned line, col;
	int index;

	if (container_spec_check(
		config_get_object(s->cfg), files, &property, &index, cause) == 0)
		return 0;
	node = cJSON_GetObjectItemCaseSensitive(jsonc_doc_root(doc), property);
	if (index >= 0 && cJSON_IsArray(node) && cJSON_GetArrayItem(node, index) != NULL)
		node = cJSON_GetArrayItem(node, index);
	if (node != NULL && jsonc_doc_locate(doc, node, &line, &col) == 0)
		return error_prefix(cause, "%s:%u:%u", jsonc_doc_name(doc), line, col);
	return error_prefix(cause, "%s", config_get_source_file(s->cfg));
}

/* Refuse, before anything is made, a configuration asking for what up
 * cannot give yet; warn about what it leaves aside. A build looks only at
 * what would change the image. */
static int
up_check_honoured(const struct up_state *s, int build, char **cause)
{
	struct config_warnings w = { 0 };
	int rc;

	if (build)
		return 0;
	rc =
	    config_validate_up(config_get_doc(s->cfg), s->opts->include_ports, &w, cause);
	for (size_t i = 0; i < w.count; i++)
		progress_line(s->p, "warning: %s", w.items[i]);
	config_warnings_clear(&w);
	return rc;
}

/* up_check_container_spec() before initializeCommand, when up is to make
 * the container (none to reuse, or --rebuild, --recreate). A container up
 * reuses was made already (perhaps by the reference CLI, with runArgs rdev
 * does not take): what its creation would refuse is only warned about. */
static int
up_check_new_container(struct up_state *s, char **cause)
{
	cJSON *container = NULL;
	char *problem = NULL;

	if (config_get_kind(s->cfg) == CONFIG_KIND_COMPOSE)
		return 0;
	if (!s->opts->rebuild && !s->opts->recreate &&
	    up_find_container(s, &container, cause) != 0)
		return -1;
	if (container == NULL)
		return up_check_container_spec(s, NULL, cause);
	if (up_check_container_spec(s, NULL, &problem) != 0)
		progress_line(s->p,
		    "warning: %s (container %.12s is reused: `up --recreate` would "
		    "fail)",
		    problem, up_json_string(container, "Id", NULL));
	free(problem);
	cJSON_Delete(container);
	return 0;
}

/* The image's and its Features' metadata entries of the container (its
 * devcontainer.metadata label without the configuration's last entry,
 * labels_image_entry_count()), substituted and merged alone: what they ask
 * for, none of it the configuration's (a reused container's label ends
 * with the configuration as it was made). NULL for a malformed label. */
static cJSON *
up_image_merged(const struct up_state *s)
{
	char *cause = NULL;
	cJSON *entries = image_metadata_entries(s->container, &cause), *subst, *out;
	int n;

	if (entries == NULL) {
		free(cause);
		return NULL;
	}
	n = labels_image_entry_count(s->container, entries);
	while (cJSON_GetArraySize(entries) > n)
		cJSON_DeleteItemFromArray(entries, cJSON_GetArraySize(entries) - 1);
	subst = config_subst(entries, config_get_subst_ctx(s->cfg));
	out = config_merge_entries(subst, NULL);
	cJSON_Delete(subst);
	cJSON_Delete(entries);
	return out;
}

/* The same for what only the image's metadata asks for (warnings: the
 * configuration cannot take it back): up_image_merged()'s. The port
 * attributes are the image's as the container records them
 * (LABELS_IMAGE_PORTS), substituted as the forwards take them. */
static void
up_check_metadata_honoured(const struct up_state *s)
{
	struct config_warnings w = { 0 };
	char **env = env_from_json(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(s->container, "Config"), "Env"));
	cJSON *image = NULL, *merged;
	char *cause = NULL;

	/* (a bad variable there: up_ports() fails on it next, saying so) */
	if ((merged = up_image_merged(s)) == NULL ||
	    (s->opts->include_ports &&
		labels_image_ports_subst(s->cfg, s->container, env, &image, &cause) !=
		    0)) {
		free(cause);
		cJSON_Delete(merged);
		env_free(env);
		return;
	}
	config_validate_up_metadata(
	    config_get_doc(s->cfg), merged, image, s->opts->include_ports, &w);
	for (size_t i = 0; i < w.count; i++)
		progress_line(s->p, "warning: %s", w.items[i]);
	config_warnings_clear(&w);
	cJSON_Delete(image);
	cJSON_Delete(merged);
	env_free(env);
}

/* A plain up (no --mount-workspace-git-root or no
 * --mount-git-worktree-common-dir) that reuses a container made with
 * another choice: load the configuration again as that container was made,
 * so that its workspace folder (postAttachCommand's, the answer's
 * remoteWorkspaceFolder) is the one that container has. Asked of Docker
 * only in a git work tree where the choice changes anything (a folder
 * below its root, or a root whose .git is a file); Compose ignores it. 0,
 * or -1 with *cause. */
static int
up_git_root_as_made(struct up_state *s, struct config_load_opts *lo, char **cause)
{
	const char *folder = config_get_local_folder(s->cfg);
	char *root;
	cJSON *container = NULL;
	int differs;

	if ((s->opts->git_root != WORKSPACE_GIT_ROOT_AS_MADE &&
		s->opts->common_dir != WORKSPACE_COMMON_DIR_AS_MADE) ||
	    s->opts->rebuild || s->opts->recreate ||
	    config_get_kind(s->cfg) == CONFIG_KIND_COMPOSE)
		return 0;
	root = config_discover_git_root(folder);
	differs = root != NULL && strcmp(root, folder) != 0;
	if (root != NULL && !differs) {
		char *dotgit = xasprintf("%s/.git", root);
		struct stat sb;

		differs = stat(dotgit, &sb) == 0 && S_ISREG(sb.st_mode);
		free(dotgit);
	}
	free(root);
	if (!differs)
		return 0;
	if (up_find_container(s, &container, cause) != 0)
		return -1;
	if (container != NULL &&
	    workspace_mount_as_made(
		s->opts->git_root, s->opts->common_dir, container, lo)) {
		config_free(s->cfg);
		s->no_git_root = lo->no_git_root;
		s->common_dir = lo->git_worktree_common_dir;
		if ((s->cfg = config_load(lo, cause)) == NULL) {
			cJSON_Delete(container);
			return -1;
		}
	}
	cJSON_Delete(container);
	return 0;
}

/* What up and build begin with: load the configuration (its warnings to
 * progress), check it, take the workspace's lock, hash it. 0, or -1 with
 * *cause; s is cleared with up_state_clear() either way. */
static int
up_open(struct up_state *s, const struct up_opts *opts, int build, char **cause)
{
	struct config_load_opts lo = { 0 };

	memset(s, 0, sizeof *s);
	s->opts = opts;
	s->p = &opts->progress;
	s->lock_fd = -1;
	lo.workspace_folder = opts->workspace_folder;
	lo.config_file = opts->config_file;
	lo.override_config = opts->override_config;
	lo.id_labels = opts->id_labels;
	lo.no_git_root = s->no_git_root =
	    opts->git_root == WORKSPACE_GIT_ROOT_NOT_MOUNTED;
	lo.git_worktree_common_dir = s->common_dir =
	    opts->common_dir == WORKSPACE_COMMON_DIR_MOUNTED;
	if ((s->cfg = config_load(&lo, cause)) == NULL)
		return -1;
	s->docker = docker_new(NULL);
	if (!build && up_git_root_as_made(s, &lo, cause) != 0)
		return -1;
	for (size_t i = 0; i < config_get_warnings(s->cfg)->count; i++)
		progress_line(s->p, "warning: %s", config_get_warnings(s->cfg)->items[i]);
	if (up_check_honoured(s, build, cause) != 0)
		return -1;
	/* Before anything is made: a Feature that cannot be had fails here. */
	if ((s->features = feature_resolve(s->cfg, opts->additional_features,
		 opts->lockfile == FEATURE_LOCK_NONE, cause)) == NULL)
		return -1;
	if ((s->state_dir = agent_state_dir(cause)) == NULL)
		return -1;
	s->lock_fd = agent_lock_acquire(s->state_dir, config_get_devcontainer_id(s->cfg),
	    up_on_lock_wait, (void *)s->p, cause);
	if (s->lock_fd < 0)
		return -1;
	s->config_hash = up_config_hash(s->cfg, opts->additional_features, s->features);
	return 0;
}

/* The images the container about to be replaced was made from (image.h):
 * for a Dockerfile, the tag it was built as comes from its config hash;
 * the Features images are in the workspace's Features repository. */
static cJSON *
up_replaced_images(const struct up_state *s)
{
	const char *hash = image_label(s->container, LABELS_CONFIG_HASH);
	char *tag = NULL, *repo = feature_install_repo(s->cfg);
	cJSON *ids;

	if (config_get_kind(s->cfg) == CONFIG_KIND_DOCKERFILE && hash != NULL)
		tag = image_build_tag(s->cfg, hash);
	ids = image_replaced_find(s->docker, s->container, tag, repo);
	free(tag);
	free(repo);
	return ids;
}

/* The ports rdev forwards for the container (labels_ports()): what its
 * image gave (its LABELS_IMAGE_PORTS), the merged configuration's and the
 * configuration's as they are now, with ${containerEnv:...} from the
 * container. Into *ports (caller frees); 0, or -1 with *cause. */
static int
up_ports(const struct up_state *s, cJSON **ports, char **cause)
{
	char **env = env_from_json(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(s->container, "Config"), "Env"));
	cJSON *image = labels_image_ports(s->container);
	int rc;

	rc = labels_ports(s->cfg, image, s->merged, env, ports, cause);
	if (rc != 0)
		error_prefix(
		    cause, "container %.12s", up_json_string(s->container, "Id", NULL));
	cJSON_Delete(image);
	env_free(env);
	return rc;
}

/* How much of the output of a container that exited as it started up's
 * error carries: what `docker logs` would show, which a user of a remote
 * host cannot run here ("exec /bin/sh: argument list too long"). */
#define UP_EXIT_LOG_LINES 20
#define UP_EXIT_LOG_MAX 4096

/* The last lines of the stopped container's log (s->container, inspected)
 * as up's error shows them: "; its log ends:\n" and each line indented,
 * escape sequences and other control characters taken out; "; its log is
 * empty" when there is none; "; see `docker logs ID`" when it cannot be
 * read (*why, then, says why: logged). New string, caller frees. */
static char *
up_exit_log(struct up_state *s, const char *id)
{
	const cJSON *config = cJSON_GetObjectItemCaseSensitive(s->container, "Config");
	struct quote_ansi qa = { 0 };
	char *text = NULL, *why = NULL, *line, *next, *out;
	struct buf *b;
	size_t n;

	if (docker_container_log_tail(s->docker, id,
		cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(config, "Tty")),
		UP_EXIT_LOG_LINES, UP_EXIT_LOG_MAX, &text, &why) != 0) {
		log_warn("container %.12s: its log: %s", id, why);
		free(why);
		return xasprintf("; see `docker logs %.12s`", id);
	}
	n = quote_ansi_strip(&qa, text, strlen(text), text);
	text[n] = '\0';
	for (char *p = text; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 && *p != '\n' && *p != '\t')
			*p = *p == '\r' ? '\n' : '?';
	b = buf_new();
	/* (the first line may be cut by the byte bound: still shown) */
	for (line = text; *line != '\0'; line = next) {
		next = line + strcspn(line, "\n");
		if (*next == '\n')
			*next++ = '\0';
		if (*line != '\0')
			buf_appendf(b, "\n  %s", line);
	}
	free(text);
	if (buf_len(b) == 0) {
		buf_free(b);
		return xstrdup("; its log is empty");
	}
	out =
	    xasprintf("; its log ends:%.*s", (int)buf_len(b), (const char *)buf_data(b));
	buf_free(b);
	return out;
}

/* Fail when the dev container is not running once it is created or
 * started: its command ended at once (typically "overrideCommand": false
 * with an image or service whose command does not keep running). Nothing
 * could run in it; the reference fails too, when its first exec is refused.
 * s->container is inspected again (its inspect may predate the start). 0
 * running, 1 not (or gone) and -1 when it cannot be inspected, with *cause. */
static int
up_check_running(struct up_state *s, char **cause)
{
	char *id = xstrdup(up_json_string(s->container, "Id", NULL)), *exit_log;
	const cJSON *st, *code;
	int rc = -1;

	cJSON_Delete(s->container);
	s->container = NULL;
	if (docker_container_inspect(s->docker, id, &s->container, cause) != 0)
		goto out;
	rc = 1;
	if (s->container == NULL) {
		error_set(cause, "container %.12s vanished as it started", id);
		goto out;
	}
	if (docker_container_running(s->container)) {
		rc = 0;
		goto out;
	}
	st = cJSON_GetObjectItemCaseSensitive(s->container, "State");
	code = cJSON_GetObjectItemCaseSensitive(st, "ExitCode");
	exit_log = up_exit_log(s, id);
	error_set(cause,
	    "container %.12s is not running: it exited (status %d) after it "
	    "started%s%s",
	    id, cJSON_IsNumber(code) ? code->valueint : -1,
	    s->cfg == NULL ||
		    config_override_command(
			config_get_kind(s->cfg), config_get_object(s->cfg))
		? ""
		: config_get_kind(s->cfg) == CONFIG_KIND_COMPOSE
		? " (with \"overrideCommand\": false, the default for Compose, the "
		  "service's own command runs and must keep running)"
		: " (with \"overrideCommand\": false the image's own command runs "
		  "and must keep running)",
	    exit_log);
	free(exit_log);
out:
	free(id);
	return rc;
}

/* A step that failed because the container stopped under it: say that
 * instead (*cause replaced) rather than the docker error of its exec.
 * Docker marks the container exited a moment after the exec its end
 * killed has ended (half the time the first inspect still says running):
 * asked again every 50 ms for up to UP_EXITED_TRIES times, on this failure
 * path only. */
#define UP_EXITED_TRIES 10
static void
up_explain_not_running(struct up_state *s, char **cause)
{
	const struct timespec pause = { 0, 50 * 1000 * 1000 };
	char *why = NULL;
	int rc = 0;

	for (int i = 0; rc == 0 && s->container != NULL && i < UP_EXITED_TRIES; i++) {
		if (i > 0)
			nanosleep(&pause, NULL);
		rc = up_check_running(s, &why);
	}
	if (rc != 1) {
		free(why);
		return;
	}
	if (cause != NULL) {
		free(*cause);
		*cause = why;
	} else
		free(why);
}

/* What the reference's up answers on failure besides the message: the
 * container's id once there is one (left as it is, running or stopped:
 * scripts clean up with it), and what failed. */
static void
up_result_failed(const struct up_state *s, struct up_result *res)
{
	const char *id = up_json_string(s->container, "Id", NULL);

	res->outcome = xstrdup("error");
	res->refused = s->refused;
	if (id != NULL)
		res->container_id = xstrdup(id);
	res->description = xstrdup(s->failed_description != NULL
		? s->failed_description
		: "An error occurred setting up the container.");
}

int
up_run(const struct up_opts *opts, struct up_result *res, char **cause)
{
	struct up_state s;
	char *ignore = NULL, *repo, *replace_id = NULL;
	cJSON *replaced = NULL, *ports = NULL;
	const char *project;
	int started = 0, created = 0, rc = -1, crc;

	memset(res, 0, sizeof *res);
	if (up_open(&s, opts, 0, cause) != 0 || up_check_new_container(&s, cause) != 0)
		goto out;
	/* initializeCommand runs on this host on every up, before anything else. */
	if (up_lifecycle_initialize(&s, cause) != 0)
		goto out;

	if (config_get_kind(s.cfg) == CONFIG_KIND_COMPOSE) {
		if ((crc = compose_up(s.cfg, s.docker, s.config_hash, s.features, opts,
			 &s.container, &s.merged, &created,
			 opts->include_lockfile ? &s.lock_text : NULL, cause)) != 0) {
			s.refused = crc == ADMISSION_REFUSED;
			goto out;
		}
		started = created;
		if (!created)
			up_note_build_flags_unused(&s);
	} else {
		if (up_find_container(&s, &s.container, cause) != 0)
			goto out;
		if (owner_check(s.container, cause) != 0) {
			/* Another user's: no containerId in the failed result
			 * (a script cleans up with it). */
			cJSON_Delete(s.container);
			s.container = NULL;
			goto out;
		}
		/* The container to replace is removed only once its successor's
		 * image is ready (up_create). */
		if (s.container != NULL && (opts->rebuild || opts->recreate)) {
			replaced = up_replaced_images(&s);
			replace_id = xstrdup(up_json_string(s.container, "Id", NULL));
			cJSON_Delete(s.container);
			s.container = NULL;
		}
		if (s.container == NULL) {
			if (up_create(&s, replace_id, cause) != 0)
				goto out;
			created = started = 1;
			repo = feature_install_repo(s.cfg);
			image_replaced_remove(s.docker, replaced, repo, s.p);
			free(repo);
		} else if (up_reuse(&s, &started, cause) != 0)
			goto out;
	}

	if (up_check_running(&s, cause) != 0)
		goto out;
	up_check_metadata_honoured(&s);
	/* Before the in-container lifecycle steps (initializeCommand and the
	 * create or start have happened), so that a variable the reference
	 * rejects in the ports stops up before they run; up_create() checked
	 * the image's already (labels_ports_check()). */
	if (up_ports(&s, &ports, cause) != 0)
		goto out;
	s.remote_user = up_remote_user(s.merged, s.container);
	if (up_lifecycle_run(&s, cause) != 0) {
		up_explain_not_running(&s, cause);
		goto out;
	}
	/* Again: a command that ends a moment later ends it during the steps. */
	if (up_check_running(&s, cause) != 0)
		goto out;

	res->outcome = xstrdup("success");
	res->container_id = xstrdup(up_json_string(s.container, "Id", NULL));
	res->remote_user = xstrdup(s.remote_user);
	res->remote_workspace_folder = xstrdup(config_get_workspace_folder(s.cfg));
	/* The reference's answer names a Compose configuration's project. */
	if (config_get_kind(s.cfg) == CONFIG_KIND_COMPOSE &&
	    (project = image_label(s.container, COMPOSE_LABEL_PROJECT)) != NULL)
		res->compose_project = xstrdup(project);
	res->created = created;
	res->started = started;
	res->ports = ports;
	ports = NULL;
	res->lockfile = feature_lock_answer(s.cfg, s.lock_text);
	rc = 0;
out:
	/* (failed after the lockfile was written: no answer says so) */
	if (rc != 0 && s.lock_unreported)
		feature_lock_unreported(s.cfg, s.p);
	if (rc != 0)
		up_result_failed(&s, res);
	cJSON_Delete(ports);
	free(ignore);
	free(replace_id);
	cJSON_Delete(replaced);
	up_state_clear(&s);
	return rc;
}

/* Where the reference's runLifecycleHooks stops for opts, given waitFor:
 * its answer's "result". (Its order: a waitFor step up to
 * updateContentCommand, then --prebuild, then postCreateCommand as waitFor,
 * then --stop-for-personalization, then postStartCommand as waitFor.) */
static const char *
up_user_commands_result(const struct up_opts *opts, const cJSON *merged)
{
	int last =
	    lifecycle_wait_for_last(cJSON_GetObjectItemCaseSensitive(merged, "waitFor"));
	int skip = opts->skip_non_blocking;

	if (skip && last <= LIFECYCLE_UPDATE_CONTENT)
		return "skipNonBlocking";
	if (opts->prebuild)
		return "prebuild";
	if (skip && last == LIFECYCLE_POST_CREATE)
		return "skipNonBlocking";
	if (opts->stop_for_personalization)
		return "stopForPersonalization";
	if (skip && last == LIFECYCLE_POST_START)
		return "skipNonBlocking";
	return "done";
}

int
up_user_commands(const struct up_opts *opts, const char *up_cmd, const char **result,
    char **description, char **cause)
{
	struct up_state s;
	struct workspace ws;
	const char *dcid;
	char *config_error = NULL;
	int rc = -1;

	*result = NULL;
	*description = NULL;
	memset(&s, 0, sizeof s);
	memset(&ws, 0, sizeof ws);
	s.opts = opts;
	s.p = &opts->progress;
	s.lock_fd = -1;
	s.docker = docker_new(NULL);
	if (workspace_open_existing(opts->workspace_folder, opts->config_file,
		opts->id_labels, opts->git_root, opts->common_dir, up_cmd, s.docker, &ws,
		cause) != 0) {
		/* (loaded: no container, or Docker failed; that is the answer) */
		if (ws.cfg != NULL)
			goto out;
		/* Does not load: the running container found by its labels, as
		 * exec finds it, runs its recorded steps. */
		workspace_clear(&ws);
		free(*cause);
		*cause = NULL;
		if (workspace_open_tolerant_pick(opts->workspace_folder,
			opts->config_file, opts->id_labels, 1, s.docker, &ws,
			&config_error, cause) != 0)
			goto out;
	}
	s.cfg = ws.cfg;
	ws.cfg = NULL;
	if (s.cfg == NULL) {
		progress_line(s.p,
		    "warning: %s (the configuration does not load: using the "
		    "running container's recorded configuration)",
		    config_error);
		/* (the reference's container has no such label: its own id,
		 * not "", on which all such workspaces would wait) */
		if ((dcid = image_label(ws.container, "dev.rdev.devcontainer_id")) ==
			NULL ||
		    *dcid == '\0')
			dcid = workspace_container_id(&ws);
	} else {
		for (size_t i = 0; i < config_get_warnings(s.cfg)->count; i++)
			progress_line(
			    s.p, "warning: %s", config_get_warnings(s.cfg)->items[i]);
		dcid = config_get_devcontainer_id(s.cfg);
	}
	/* As up: one workspace's steps run by one process at a time (an up,
	 * its background steps, another run-user-commands). The container is
	 * looked up again once the lock is had: an `up --recreate` holding it
	 * replaces the one found before. */
	if ((s.state_dir = agent_state_dir(cause)) == NULL ||
	    (s.lock_fd = agent_lock_acquire(s.state_dir, dcid != NULL ? dcid : "",
		 up_on_lock_wait, (void *)s.p, cause)) < 0)
		goto out;
	if (s.cfg != NULL
		? workspace_find_container(s.docker, s.cfg, &s.container, cause) != 0
		: docker_container_inspect(
		      s.docker, workspace_container_id(&ws), &s.container, cause) != 0)
		goto out;
	/* (gone while the lock was waited for: an `up --recreate` made
	 * another, found by the folder's labels again) */
	if (s.container == NULL && s.cfg == NULL) {
		workspace_clear(&ws);
		free(config_error);
		config_error = NULL;
		if (workspace_open_tolerant_pick(opts->workspace_folder,
			opts->config_file, opts->id_labels, 1, s.docker, &ws,
			&config_error, cause) != 0)
			goto out;
		s.cfg = ws.cfg;
		ws.cfg = NULL;
		s.container = ws.container;
		ws.container = NULL;
	}
	if (s.container == NULL) {
		error_set(cause, "no dev container for %s (run `%s` first)",
		    opts->workspace_folder, up_cmd);
		goto out;
	}
	if (owner_check(s.container, cause) != 0)
		goto out;
	/* Nothing is started here (the reference's finds no container to run
	 * in either): a stopped one is up's to start. */
	if (!docker_container_running(s.container)) {
		error_set(cause,
		    "the dev container of %s is not running (run `%s`: it starts "
		    "it and runs the steps)",
		    opts->workspace_folder, up_cmd);
		goto out;
	}
	if (s.cfg != NULL
		? up_merged_for_container_meta(s.cfg, s.container, &s.merged, &s.metadata,
		      &s.nmetadata, cause) != 0
		: up_merged_recorded(opts->workspace_folder, s.container, &s.merged,
		      &s.metadata, &s.nmetadata, &s.workdir, cause) != 0)
		goto out;
	s.remote_user = up_remote_user(s.merged, s.container);
	if (up_lifecycle_run(&s, cause) != 0) {
		up_explain_not_running(&s, cause);
		*description = s.failed_description;
		s.failed_description = NULL;
		goto out;
	}
	*result = up_user_commands_result(opts, s.merged);
	rc = 0;
out:
	free(config_error);
	workspace_clear(&ws);
	up_state_clear(&s);
	return rc;
}

void
up_result_free(struct up_result *res)
{
	free(res->outcome);
	free(res->container_id);
	free(res->remote_user);
	free(res->remote_workspace_folder);
	free(res->compose_project);
	free(res->description);
	xstrv_free(res->warnings);
	cJSON_Delete(res->ports);
	cJSON_Delete(res->lockfile);
	memset(res, 0, sizeof *res);
}

/* The remoteUser up answers: the user of "USER[:GROUP]", "0" as "root", as
 * the reference's container properties name it (its `user` property, which
 * its up reports: "1000:1000" is "1000"). Execs keep the whole string. */
static char *
up_reported_user(const char *user)
{
	size_t n = strcspn(user, ":");

	if (n == 0)
		return xstrdup(user);
	if (n == 1 && user[0] == '0')
		return xstrdup("root");
	return xstrndup(user, n);
}

cJSON *
up_result_json(const struct up_result *res)
{
	cJSON *o = cJSON_CreateObject();
	char *user = res->remote_user != NULL ? up_reported_user(res->remote_user) : NULL;

	cJSON_AddStringToObject(o, "outcome", res->outcome);
	cJSON_AddStringToObject(o, "containerId", res->container_id);
	if (res->compose_project != NULL)
		cJSON_AddStringToObject(o, "composeProjectName", res->compose_project);
	cJSON_AddStringToObject(o, "remoteUser", user);
	cJSON_AddStringToObject(o, "remoteWorkspaceFolder", res->remote_workspace_folder);
	free(user);
	return o;
}

cJSON *
up_result_error_json(const struct up_result *res)
{
	cJSON *o = cJSON_CreateObject();

	if (res->description != NULL)
		cJSON_AddStringToObject(o, "description", res->description);
	if (res->container_id != NULL)
		cJSON_AddStringToObject(o, "containerId", res->container_id);
	return o;
}

/* The strings of array v (borrowed), NULL-terminated; NULL for none. The
 * caller frees the array. */
static const char **
up_strv_borrow(const cJSON *v)
{
	const char **strv;
	const cJSON *e;
	size_t n = 0;

	if (cJSON_GetArraySize(v) == 0)
		return NULL;
	strv = xreallocarray(NULL, (size_t)cJSON_GetArraySize(v) + 1, sizeof *strv);
	cJSON_ArrayForEach(e, v)
		if (cJSON_IsString(e))
			strv[n++] = e->valuestring;
	strv[n] = NULL;
	return strv;
}

int
up_build(
    const struct up_opts *opts, const cJSON *image_names, cJSON **result, char **cause)
{
	struct up_state s;
	struct up_image img = { 0 };
	const char **names = up_strv_borrow(image_names), *tag[2] = { NULL, NULL };
	const char *const *out;
	cJSON *list, *lock;
	int rc = -1;

	*result = NULL;
	if (up_open(&s, opts, 1, cause) != 0 ||
	    up_prepare_image(&s, (const char *const *)names, &img, cause) != 0)
		goto out;
	/* The names it is known by: those asked for, else the tag up builds a
	 * Dockerfile as (it finds this image there), for an image or Compose
	 * configuration the same tag for the labelled image. */
	tag[0] = image_build_tag(s.cfg, s.config_hash);
	out = names != NULL ? (const char *const *)names : tag;
	if (config_get_kind(s.cfg) != CONFIG_KIND_DOCKERFILE) {
		/* As the reference's build: the metadata goes into an image
		 * of its own (up puts it on the container instead). */
		progress_line(s.p, "Writing the %s label into an image from %s",
		    CONFIG_METADATA_LABEL, img.name);
		if (image_set_metadata_label(img.name, out, img.label, s.p, cause) != 0)
			goto out;
	}
	*result = cJSON_CreateObject();
	cJSON_AddStringToObject(*result, "outcome", "success");
	list = cJSON_AddArrayToObject(*result, "imageName");
	for (; *out != NULL; out++)
		cJSON_AddItemToArray(list, cJSON_CreateString(*out));
	if ((lock = feature_lock_answer(s.cfg, s.lock_text)) != NULL)
		cJSON_AddItemToObject(*result, "workspaceLockfile", lock);
	rc = 0;
out:
	if (rc != 0 && s.lock_unreported)
		feature_lock_unreported(s.cfg, s.p);
	free((char *)tag[0]);
	free(names);
	up_image_clear(&img);
	up_state_clear(&s);
	return rc;
}
