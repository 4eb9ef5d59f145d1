/* op-read-configuration.c - the "read-configuration" operation: the
 * workspace's configuration as the reference CLI's `devcontainer
 * read-configuration` prints it, {"configuration":{..., "configFilePath":
 * {...}}, "workspace":{...}, "featuresConfiguration":{...} (with
 * "includeFeatures": true, or "includeMerged" and no container, when there
 * are Features), "mergedConfiguration":{...} (with "includeMerged":
 * true)}, plus "warnings": the messages to show the user (a
 * JSON array of strings), and with "includePorts": true "ports", the ports
 * rdev forwards (config_merge_ports(): never printed). "noGitRoot": true mounts the
 * folder itself, not its git work tree; absent, as the workspace's container
 * was made (workspace.h's WORKSPACE_GIT_ROOT_AS_MADE). The image's devcontainer.metadata
 * label is read from this host's Docker when the merged configuration is asked for. */
#include "agent-ops.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config-merge.h"
#include "config.h"
#include "docker.h"
#include "env-probe.h"
#include "error.h"
#include "feature-install.h"
#include "feature-resolve.h"
#include "image.h"
#include "labels.h"
#include "owner.h"
#include "read-configuration.h"
#include "workspace.h"
#include "xmalloc.h"

/* A warning for the user: one more string in warnings. */
static void __attribute__((format(printf, 2, 3)))
op_read_configuration_warn(cJSON *warnings, const char *fmt, ...)
{
	va_list ap;
	char *text;

	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0)
		fatal("out of memory");
	va_end(ap);
	cJSON_AddItemToArray(warnings, cJSON_CreateString(text));
	free(text);
}

cJSON *
read_configuration_object(const cJSON *configuration, const char *file, int discovered)
{
	cJSON *obj = config_merge_js_copy(configuration), *uri;

	if (obj == NULL || (uri = cJSON_CreateObject()) == NULL)
		fatal("out of memory");
	cJSON_AddNumberToObject(uri, "$mid", 1);
	cJSON_AddStringToObject(uri, "fsPath", file);
	cJSON_AddStringToObject(uri, "path", file);
	cJSON_AddStringToObject(uri, "scheme", discovered ? "vscode-fileHost" : "file");
	cJSON_DeleteItemFromObjectCaseSensitive(obj, "configFilePath");
	cJSON_AddItemToObject(obj, "configFilePath", uri);
	return obj;
}

/* The devcontainer.metadata label of an image of this host's Docker.
 * Returns the label (caller frees; NULL if the image has none) or sets
 * *failed and returns NULL with *cause set when it cannot be read. */
static char *
op_read_configuration_image_label(const char *image, int *failed, char **cause)
{
	struct docker *d = docker_new(NULL);
	cJSON *info = NULL;
	const cJSON *label;
	char *value = NULL;

	*failed = 1;
	if (docker_image_inspect(d, image, &info, cause) != 0) {
		docker_free(d);
		return NULL;
	}
	docker_free(d);
	if (info == NULL) {
		error_set(cause, "image %s is not on this host", image);
		return NULL;
	}
	*failed = 0;
	label = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(info, "Config"), "Labels"),
	    CONFIG_METADATA_LABEL);
	if (cJSON_IsString(label))
		value = xstrdup(label->valuestring);
	cJSON_Delete(info);
	return value;
}

/* The Dockerfile's path: build.dockerfile or dockerFile, relative to the
 * folder of devcontainer.json. Caller frees. */
static char *
op_read_configuration_dockerfile_path(const struct config *cfg)
{
	const char *file = config_get_file(cfg), *slash = strrchr(file, '/');
	const char *name, *context;

	image_dockerfile_keys(config_get_object(cfg), &name, &context, NULL);
	if (name == NULL)
		return NULL;
	if (name[0] == '/')
		return xstrdup(name);
	return xasprintf("%.*s/%s", (int)(slash - file), file, name);
}

/* The base image of a Dockerfile configuration, or NULL after a warning. */
static char *
op_read_configuration_dockerfile_base(const struct config *cfg, cJSON *warnings)
{
	const cJSON *build =
			cJSON_GetObjectItemCaseSensitive(config_get_object(cfg), "build"),
		    *target;
	char *path = op_read_configuration_dockerfile_path(cfg), *text, *image = NULL,
	     *cause = NULL;
	if (path == NULL)
		return NULL;
	if ((text = config_read_text(path, &cause)) == NULL) {
		op_read_configuration_warn(
		    warnings, "%s; merged without image metadata", cause);
		free(cause);
		free(path);
		return NULL;
	}
	target = cJSON_GetObjectItemCaseSensitive(build, "target");
	image = config_dockerfile_base_image(text,
	    cJSON_GetObjectItemCaseSensitive(build, "args"),
	    cJSON_IsString(target) ? target->valuestring : NULL);
	if (image == NULL)
		op_read_configuration_warn(warnings,
		    "%s: no FROM instruction; merged without image "
		    "metadata",
		    path);
	free(text);
	free(path);
	return image;
}

/* The image whose metadata applies, or NULL (after a warning) when there is
 * none or rdev does not find it for this kind of configuration yet. Caller
 * frees. */
static char *
op_read_configuration_metadata_image(const struct config *cfg, cJSON *warnings)
{
	const cJSON *image;

	switch (config_get_kind(cfg)) {
	case CONFIG_KIND_IMAGE:
		image = cJSON_GetObjectItemCaseSensitive(config_get_object(cfg), "image");
		return cJSON_IsString(image) ? xstrdup(image->valuestring) : NULL;
	case CONFIG_KIND_DOCKERFILE:
		return op_read_configuration_dockerfile_base(cfg, warnings);
	case CONFIG_KIND_COMPOSE:
		op_read_configuration_warn(warnings,
		    "%s: the image of a Compose service is not inspected "
		    "yet; merged without image metadata",
		    config_get_file(cfg));
		return NULL;
	}
	return NULL;
}

/* The image metadata entries, substituted like the configuration; an empty
 * array (after a warning) when they cannot be read. */
static cJSON *
op_read_configuration_image_metadata(const struct config *cfg, cJSON *warnings)
{
	char *image = op_read_configuration_metadata_image(cfg, warnings), *label,
	     *cause = NULL;
	cJSON *entries, *substituted;
	int failed;

	if (image == NULL)
		return cJSON_CreateArray();
	label = op_read_configuration_image_label(image, &failed, &cause);
	if (failed) {
		op_read_configuration_warn(
		    warnings, "%s; merged without image metadata", cause);
		free(cause);
		free(image);
		return cJSON_CreateArray();
	}
	entries = config_metadata_parse(label, &cause);
	free(label);
	if (entries == NULL) {
		op_read_configuration_warn(warnings,
		    "image %s: %s; merged without image metadata", image, cause);
		free(cause);
		free(image);
		return cJSON_CreateArray();
	}
	free(image);
	substituted = config_subst(entries, config_get_subst_ctx(cfg));
	cJSON_Delete(entries);
	return substituted;
}

/* Append the metadata entries of cfg's Features and the additional ones
 * (--additional-features, or NULL) in install order, substituted like the
 * configuration, to meta; the set as the reference's featuresConfiguration
 * into *features_config (feature_config_json(): NULL when there are none). Features that
 * cannot be had (a value up refuses, a registry that does not answer) fail it, as they
 * fail the reference's read-configuration: a merged configuration without them would say
 * yes to what up refuses. 0, or -1 with *cause. */
static int
op_read_configuration_features(const struct config *cfg, const cJSON *additional,
    cJSON *meta, cJSON **features_config, char **cause)
{
	struct feature_set *fs;
	cJSON *entries, *substituted, *e;

	/* By their tags, not devcontainer-lock.json's pins: the reference's
	 * read-configuration resolves them with noLockfile. */
	if ((fs = feature_resolve(cfg, additional, 1, cause)) == NULL)
		return -1;
	entries = cJSON_CreateArray();
	feature_install_metadata(fs, entries);
	*features_config = feature_config_json(fs, config_get_file(cfg));
	feature_set_free(fs);
	substituted = config_subst(entries, config_get_subst_ctx(cfg));
	cJSON_Delete(entries);
	while ((e = cJSON_DetachItemFromArray(substituted, 0)) != NULL)
		cJSON_AddItemToArray(meta, e);
	cJSON_Delete(substituted);
	return 0;
}

/* The reference's featuresConfiguration of cfg's Features and the
 * additional ones into *features_config (feature_config_json(): NULL when
 * there are none), for --include-features-configuration where no merge is
 * made. 0, or -1 with *cause when the Features cannot be had. */
static int
op_read_configuration_features_only(const struct config *cfg, const cJSON *additional,
    cJSON **features_config, char **cause)
{
	struct feature_set *fs;

	if ((fs = feature_resolve(cfg, additional, 1, cause)) == NULL)
		return -1;
	*features_config = feature_config_json(fs, config_get_file(cfg));
	feature_set_free(fs);
	return 0;
}

/* The workspace's container, as the reference looks for it on every
 * read-configuration; NULL when there is none, or when Docker cannot be
 * asked (then *warning says so: new string, caller frees). */
static cJSON *
op_read_configuration_container(const struct config *cfg, char **warning)
{
	struct docker *d = docker_new(NULL);
	cJSON *container = NULL;
	char *cause = NULL;

	if (workspace_find_container(d, cfg, &container, &cause) != 0) {
		*warning =
		    xasprintf("cannot look for the workspace's container (%s); "
			      "${devcontainerId} and ${containerEnv:...} are left as "
			      "written",
			cause);
		free(cause);
	} else if (owner_check(container, &cause) != 0) {
		/* (its Config.Env may hold another user's secrets: read as
		 * if it were not there) */
		*warning =
		    xasprintf("%s; ${containerEnv:...} are left as written", cause);
		free(cause);
		cJSON_Delete(container);
		container = NULL;
	}
	docker_free(d);
	return container;
}

/* The container's passes over the configuration (the reference's
 * beforeContainerSubstitute() and containerSubstitute() with the container's
 * Config.Env), into *conf; 0 or -1 with *cause. */
static int
op_read_configuration_subst_container(
    const struct config *cfg, char **container_env, cJSON **conf, char **cause)
{
	cJSON *subst;

	subst = config_subst_late(config_get_object(cfg), config_get_devcontainer_id(cfg),
	    env_lookup, container_env, cause);
	if (subst == NULL)
		return error_prefix(cause, "%s", config_get_file(cfg));
	*conf = subst;
	return 0;
}

/* The late pass over subst (taken: freed here). NULL with *cause. */
static cJSON *
op_read_configuration_subst_late(cJSON *subst, char **container_env, char **cause)
{
	cJSON *again = config_subst_late(subst, NULL, env_lookup, container_env, cause);

	cJSON_Delete(subst);
	return again;
}

/* The merged configuration with a container, as the reference's
 * read-configuration makes it: the container's metadata label (frozen at
 * creation) substituted by every pass, plus the properties a configuration
 * may still change (a container without the label: the configuration's own
 * entry); then the container pass once more over all of it (the reference
 * runs it twice). conf is the "configuration" printed. NULL with *cause. */
static cJSON *
op_read_configuration_merged_for_container(const struct config *cfg,
    const cJSON *container, char **container_env, const cJSON *conf, char **cause)
{
	cJSON *entries, *subst, *own, *again, *merged;

	if (image_label(container, CONFIG_METADATA_LABEL) == NULL) {
		subst = cJSON_CreateArray();
		own = config_metadata_from_config(conf);
	} else {
		if ((entries = image_metadata_entries(container, cause)) == NULL ||
		    (subst = labels_subst(cfg, entries, container_env, cause)) == NULL)
			return NULL;
		own = config_metadata_updateable_from_config(conf);
	}
	/* conf has had one container pass; this is its second, as
	 * labels_subst() gives the label's. */
	if ((again = op_read_configuration_subst_late(own, container_env, cause)) ==
	    NULL) {
		cJSON_Delete(subst);
		return NULL;
	}
	cJSON_AddItemToArray(subst, again);
	merged = config_merge_entries(subst, conf);
	cJSON_Delete(subst);
	return merged;
}

/* The ports rdev forwards for container (config_merge_ports()): from what
 * the container's image gave (labels.h: LABELS_IMAGE_PORTS, substituted as
 * its metadata label is; merged's when it has none) and conf's forwardPorts
 * and portsAttributes as they are now. NULL with *cause. */
static cJSON *
op_read_configuration_ports(const struct config *cfg, const cJSON *container,
    char **container_env, const cJSON *merged, const cJSON *conf, char **cause)
{
	cJSON *image, *ports;

	if (labels_image_ports_subst(cfg, container, container_env, &image, cause) != 0)
		return NULL;
	ports = config_merge_ports(merged, conf, image);
	cJSON_Delete(image);
	return ports;
}

/* "configuration" and (with merged) "mergedConfiguration" into out when the
 * workspace has a container: every variable substituted; with features the
 * Features' "featuresConfiguration" (as the reference: with a container
 * only when asked for), with ports also "ports"
 * (op_read_configuration_ports()). */
static int
op_read_configuration_with_container(const struct config *cfg, const cJSON *container,
    const cJSON *additional, int merged, int features, int ports, int discovered,
    cJSON *out, char **cause)
{
	char **env = env_from_json(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(container, "Config"), "Env"));
	cJSON *subst = NULL, *conf = NULL, *m = NULL, *p = NULL, *fconf = NULL;
	int rc = -1;

	if (op_read_configuration_subst_container(cfg, env, &subst, cause) != 0 ||
	    (features &&
		op_read_configuration_features_only(cfg, additional, &fconf, cause) != 0))
		goto out;
	conf = read_configuration_object(subst, config_get_file(cfg), discovered);
	if ((merged || ports) &&
	    ((m = op_read_configuration_merged_for_container(
		  cfg, container, env, conf, cause)) == NULL ||
		(ports &&
		    (p = op_read_configuration_ports(
			 cfg, container, env, m, conf, cause)) == NULL))) {
		error_prefix(cause, "container %.12s",
		    cJSON_GetStringValue(
			cJSON_GetObjectItemCaseSensitive(container, "Id")));
		goto out;
	}
	cJSON_AddItemToObject(out, "configuration", conf);
	conf = NULL;
	cJSON_AddItemToObject(out, "workspace", config_workspace_json(cfg));
	if (fconf != NULL) {
		cJSON_AddItemToObject(out, "featuresConfiguration", fconf);
		fconf = NULL;
	}
	if (merged) {
		cJSON_AddItemToObject(out, "mergedConfiguration", m);
		m = NULL;
	}
	if (p != NULL) {
		cJSON_AddItemToObject(out, "ports", p);
		p = NULL;
	}
	rc = 0;
out:
	cJSON_Delete(fconf);
	cJSON_Delete(m);
	cJSON_Delete(p);
	cJSON_Delete(subst);
	cJSON_Delete(conf);
	env_free(env);
	return rc;
}

/* The same without a container: ${devcontainerId} and ${containerEnv:...}
 * stay as written, and the image's label and the Features' metadata are
 * merged (as the reference: the image's entries, the Features' in install
 * order, then the configuration); "ports" is the merged configuration's;
 * "featuresConfiguration" with merged or features. 0, or -1 with *cause
 * when the Features cannot be had. */
static int
op_read_configuration_without_container(const struct config *cfg, const cJSON *additional,
    int merged, int features, int ports, int discovered, cJSON *warnings, cJSON *out,
    char **cause)
{
	cJSON *conf, *meta, *m, *fconf = NULL;

	conf = read_configuration_object(
	    config_get_object(cfg), config_get_file(cfg), discovered);
	cJSON_AddItemToObject(out, "configuration", conf);
	cJSON_AddItemToObject(out, "workspace", config_workspace_json(cfg));
	if (merged || ports) {
		meta = op_read_configuration_image_metadata(cfg, warnings);
		if (op_read_configuration_features(
			cfg, additional, meta, &fconf, cause) != 0) {
			cJSON_Delete(meta);
			return -1;
		}
		m = config_merge(meta, conf);
		cJSON_Delete(meta);
		/* As the reference's: with the merged configuration when there
		 * is no container (with one, the merge is the label's). */
		if ((merged || features) && fconf != NULL)
			cJSON_AddItemToObject(out, "featuresConfiguration", fconf);
		else
			cJSON_Delete(fconf);
		if (ports)
			cJSON_AddItemToObject(
			    out, "ports", config_merge_ports(m, NULL, NULL));
		if (merged)
			cJSON_AddItemToObject(out, "mergedConfiguration", m);
		else
			cJSON_Delete(m);
	} else if (features) {
		if (op_read_configuration_features_only(cfg, additional, &fconf, cause) !=
		    0)
			return -1;
		if (fconf != NULL)
			cJSON_AddItemToObject(out, "featuresConfiguration", fconf);
	}
	return 0;
}

/* As the reference: variables that need a container (${devcontainerId},
 * ${containerEnv:...}) are substituted only when the workspace has one, in
 * any state; then the merged configuration starts from the container's
 * metadata label rather than the image's. */
static int
op_read_configuration_run(const struct agent_op_req *r, cJSON **result, char **cause)
{
	struct config_load_opts opts;
	const struct config_warnings *w;
	struct config *cfg;
	cJSON *out, *warnings, *container;
	char *container_warning = NULL;
	const cJSON *additional;
	enum workspace_git_root git_root =
	    workspace_git_root_of(cJSON_GetObjectItemCaseSensitive(r->json, "noGitRoot"));
	enum workspace_common_dir common_dir = workspace_common_dir_of(
	    cJSON_GetObjectItemCaseSensitive(r->json, "gitWorktreeCommonDir"));
	int merged = agent_op_req_bool(r, "includeMerged"),
	    features = agent_op_req_bool(r, "includeFeatures"),
	    ports = agent_op_req_bool(r, "includePorts"), rc = 0;

	*result = NULL;
	if (agent_op_req_features(r, &additional, cause) != 0)
		return -1;
	memset(&opts, 0, sizeof opts);
	opts.workspace_folder = r->workspace;
	opts.config_file = r->config;
	opts.override_config = agent_op_req_string(r, "overrideConfig");
	opts.id_labels = r->id_labels;
	opts.no_git_root = git_root == WORKSPACE_GIT_ROOT_NOT_MOUNTED;
	opts.git_worktree_common_dir = common_dir == WORKSPACE_COMMON_DIR_MOUNTED;
	opts.keep_devcontainer_id = 1;
	if ((cfg = config_load(&opts, cause)) == NULL)
		return -1;
	container = op_read_configuration_container(cfg, &container_warning);
	/* Made by up --mount-workspace-git-root false: its workspace folder,
	 * as exec and shell take it (the id labels that found it are the
	 * same either way). */
	if (workspace_mount_as_made(git_root, common_dir, container, &opts)) {
		config_free(cfg);
		if ((cfg = config_load(&opts, cause)) == NULL) {
			cJSON_Delete(container);
			free(container_warning);
			return -1;
		}
	}
	out = cJSON_CreateObject();
	warnings = cJSON_CreateArray();
	if (out == NULL || warnings == NULL)
		fatal("out of memory");
	w = config_get_warnings(cfg);
	for (size_t i = 0; i < w->count; i++)
		cJSON_AddItemToArray(warnings, cJSON_CreateString(w->items[i]));
	if (container_warning != NULL) {
		cJSON_AddItemToArray(warnings, cJSON_CreateString(container_warning));
		free(container_warning);
	}
	if (container != NULL)
		rc = op_read_configuration_with_container(cfg, container, additional,
		    merged, features, ports, r->config == NULL, out, cause);
	else
		rc = op_read_configuration_without_container(cfg, additional, merged,
		    features, ports, r->config == NULL, warnings, out, cause);
	cJSON_Delete(container);
	config_free(cfg);
	if (rc != 0) {
		cJSON_Delete(out);
		cJSON_Delete(warnings);
		return -1;
	}
	cJSON_AddItemToObject(out, "warnings", warnings);
	*result = out;
	return 0;
}

const struct agent_op agent_op_read_configuration = { "read-configuration",
	AGENT_OP_WORKSPACE, op_read_configuration_run,
	"the configuration as JSON (\"includeMerged\": merged with the image's; "
	"\"includeFeatures\": the Features' featuresConfiguration)" };
