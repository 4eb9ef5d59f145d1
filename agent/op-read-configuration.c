/* op-read-configuration.c - the "read-configuration" operation: the
 * workspace's configuration as the reference CLI's `devcontainer
 * read-configuration` prints it, {"configuration":{..., "configFilePath":
 * {...}}, "workspace":{...}, "mergedConfiguration":{...} (with
 * "includeMerged": true)}, plus "warnings": the messages to show the user (a
 * JSON array of strings). "noGitRoot": true mounts the folder itself, not its
 * git work tree. The image's devcontainer.metadata label is read from this
 * host's Docker when the merged configuration is asked for. */
#include "agent-ops.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config-merge.h"
#include "config.h"
#include "docker.h"
#include "error.h"
#include "read-configuration.h"
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
read_configuration_object(const struct config *cfg, int discovered)
{
	cJSON *obj = config_merge_js_copy(config_get_object(cfg)), *uri;
	const char *file = config_get_file(cfg);

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
	const cJSON *obj = config_get_object(cfg), *build, *name;
	const char *file = config_get_file(cfg), *slash = strrchr(file, '/');

	build = cJSON_GetObjectItemCaseSensitive(obj, "build");
	name = cJSON_GetObjectItemCaseSensitive(obj, "dockerFile");
	if (!cJSON_IsString(name))
		name = cJSON_GetObjectItemCaseSensitive(build, "dockerfile");
	if (!cJSON_IsString(name))
		return NULL;
	if (name->valuestring[0] == '/')
		return xstrdup(name->valuestring);
	return xasprintf("%.*s/%s", (int)(slash - file), file, name->valuestring);
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

static int
op_read_configuration_run(const struct agent_op_req *r, cJSON **result, char **cause)
{
	struct config_load_opts opts;
	const struct config_warnings *w;
	struct config *cfg;
	cJSON *out, *conf, *meta, *warnings;

	*result = NULL;
	memset(&opts, 0, sizeof opts);
	opts.workspace_folder = r->workspace;
	opts.config_file = r->config;
	opts.no_git_root = agent_op_req_bool(r, "noGitRoot");
	if ((cfg = config_load(&opts, cause)) == NULL)
		return -1;
	out = cJSON_CreateObject();
	warnings = cJSON_CreateArray();
	if (out == NULL || warnings == NULL)
		fatal("out of memory");
	w = config_get_warnings(cfg);
	for (size_t i = 0; i < w->count; i++)
		cJSON_AddItemToArray(warnings, cJSON_CreateString(w->items[i]));
	conf = read_configuration_object(cfg, r->config == NULL);
	cJSON_AddItemToObject(out, "configuration", conf);
	cJSON_AddItemToObject(out, "workspace", config_workspace_json(cfg));
	if (agent_op_req_bool(r, "includeMerged")) {
		meta = op_read_configuration_image_metadata(cfg, warnings);
		cJSON_AddItemToObject(
		    out, "mergedConfiguration", config_merge(meta, conf));
		cJSON_Delete(meta);
	}
	cJSON_AddItemToObject(out, "warnings", warnings);
	config_free(cfg);
	*result = out;
	return 0;
}

const struct agent_op agent_op_read_configuration = { "read-configuration",
	AGENT_OP_WORKSPACE, op_read_configuration_run,
	"the configuration as JSON (\"includeMerged\": merged with the image's)" };
