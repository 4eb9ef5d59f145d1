/* cmd-read-configuration.c - `read-configuration`, shared by rdev and
 * rdev-agent (see cmd-read-configuration.h). */
#include "cmd-read-configuration.h"

#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config-merge.h"
#include "error.h"
#include "log.h"
#include "spawn.h"
#include "target.h"
#include "xmalloc.h"

struct rc_args {
	const char *target;
	const char *config_file;
	int merged;
	int no_git_root;
};

static const struct cmd_entry *
rc_entry(const struct cmd_program *prog)
{
	int i;

	for (i = 0; i < prog->nentries; i++)
		if (strcmp(prog->entries[i].name, "read-configuration") == 0)
			return &prog->entries[i];
	fatal("%s has no read-configuration command", prog->name);
}

/* Parse argv; returns 0 or an exit code (after printing a usage error). */
static int
rc_parse_args(const struct cmd_program *prog, int argc, char **argv, struct rc_args *a)
{
	const struct cmd_entry *entry = rc_entry(prog);
	int i;

	memset(a, 0, sizeof *a);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--include-merged-configuration") == 0)
			a->merged = 1;
		else if (strcmp(argv[i], "--no-mount-workspace-git-root") == 0)
			a->no_git_root = 1;
		else if (strcmp(argv[i], "--config") == 0 ||
		    strcmp(argv[i], "--workspace-folder") == 0) {
			if (i + 1 == argc)
				return cmd_usage_error(
				    prog, entry, "%s needs an argument", argv[i]);
			if (argv[i][2] == 'c')
				a->config_file = argv[++i];
			else if (a->target != NULL)
				return cmd_usage_error(
				    prog, entry, "only one workspace folder");
			else
				a->target = argv[++i];
		} else if (strncmp(argv[i], "--config=", 9) == 0)
			a->config_file = argv[i] + 9;
		else if (argv[i][0] == '-' && argv[i][1] != '\0')
			return cmd_usage_error(prog, entry, "unknown option %s", argv[i]);
		else if (a->target != NULL)
			return cmd_usage_error(prog, entry, "only one PATH");
		else
			a->target = argv[i];
	}
	if (a->target == NULL)
		a->target = ".";
	return 0;
}

cJSON *
cmd_read_configuration_object(const struct config *cfg, int discovered)
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

/* The devcontainer.metadata label of a local image, through the docker CLI.
 * Returns the label (caller frees; NULL if the image has none) or sets
 * *failed and returns NULL with *cause set when it cannot be read. */
static char *
rc_image_label(const char *image, int *failed, char **cause)
{
	const char *argv[] = { "docker", "image", "inspect", "--format",
		"{{json .Config.Labels}}", image, NULL };
	struct spawn_result res;
	cJSON *labels, *label;
	char *value = NULL, *desc;

	*failed = 1;
	if (spawn_run(argv, NULL, &res, cause) != 0)
		return NULL;
	if (spawn_result_status(&res) != 0) {
		desc = spawn_result_describe(&res);
		error_set(cause, "docker image inspect %s %s: %s", image, desc,
		    res.err_len > 0 ? strtok(res.err, "\n") : "no output");
		free(desc);
		spawn_result_free(&res);
		return NULL;
	}
	*failed = 0;
	labels = cJSON_Parse(res.out);
	label = cJSON_GetObjectItemCaseSensitive(labels, CONFIG_METADATA_LABEL);
	if (cJSON_IsString(label))
		value = xstrdup(label->valuestring);
	cJSON_Delete(labels);
	spawn_result_free(&res);
	return value;
}

/* The Dockerfile's path: build.dockerfile or dockerFile, relative to the
 * folder of devcontainer.json. Caller frees. */
static char *
rc_dockerfile_path(const struct config *cfg)
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
rc_dockerfile_base(const struct config *cfg)
{
	const cJSON *build =
			cJSON_GetObjectItemCaseSensitive(config_get_object(cfg), "build"),
		    *target;
	char *path = rc_dockerfile_path(cfg), *text, *image = NULL, *cause = NULL;
	if (path == NULL)
		return NULL;
	if ((text = config_read_text(path, &cause)) == NULL) {
		log_warn("%s; merged without image metadata", cause);
		free(cause);
		free(path);
		return NULL;
	}
	target = cJSON_GetObjectItemCaseSensitive(build, "target");
	image = config_dockerfile_base_image(text,
	    cJSON_GetObjectItemCaseSensitive(build, "args"),
	    cJSON_IsString(target) ? target->valuestring : NULL);
	if (image == NULL)
		log_warn("%s: no FROM instruction; merged without image "
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
rc_metadata_image(const struct config *cfg)
{
	const cJSON *image;

	switch (config_get_kind(cfg)) {
	case CONFIG_KIND_IMAGE:
		image = cJSON_GetObjectItemCaseSensitive(config_get_object(cfg), "image");
		return cJSON_IsString(image) ? xstrdup(image->valuestring) : NULL;
	case CONFIG_KIND_DOCKERFILE: return rc_dockerfile_base(cfg);
	case CONFIG_KIND_COMPOSE:
		log_warn("%s: the image of a Compose service is not inspected "
			 "yet; merged without image metadata",
		    config_get_file(cfg));
		return NULL;
	}
	return NULL;
}

/* The image metadata entries, substituted like the configuration; an empty
 * array (after a warning) when they cannot be read. */
static cJSON *
rc_image_metadata(const struct config *cfg)
{
	char *image = rc_metadata_image(cfg), *label, *cause = NULL;
	cJSON *entries, *substituted;
	int failed;

	if (image == NULL)
		return cJSON_CreateArray();
	label = rc_image_label(image, &failed, &cause);
	if (failed) {
		log_warn("%s; merged without image metadata", cause);
		free(cause);
		free(image);
		return cJSON_CreateArray();
	}
	entries = config_metadata_parse(label, &cause);
	free(label);
	if (entries == NULL) {
		log_warn("image %s: %s; merged without image metadata", image, cause);
		free(cause);
		free(image);
		return cJSON_CreateArray();
	}
	free(image);
	substituted = config_subst(entries, config_get_subst_ctx(cfg));
	cJSON_Delete(entries);
	return substituted;
}

static cJSON *
rc_build_output(const struct config *cfg, const struct rc_args *a)
{
	cJSON *out = cJSON_CreateObject(), *conf, *meta;

	if (out == NULL)
		fatal("out of memory");
	conf = cmd_read_configuration_object(cfg, a->config_file == NULL);
	cJSON_AddItemToObject(out, "configuration", conf);
	cJSON_AddItemToObject(out, "workspace", config_workspace_json(cfg));
	if (a->merged) {
		meta = rc_image_metadata(cfg);
		cJSON_AddItemToObject(
		    out, "mergedConfiguration", config_merge(meta, conf));
		cJSON_Delete(meta);
	}
	return out;
}

int
cmd_read_configuration(const struct cmd_program *prog, int argc, char **argv)
{
	struct rc_args a;
	struct config_load_opts opts;
	const struct config_warnings *w;
	struct config *cfg;
	char *cause = NULL, *text;
	cJSON *out;
	size_t i;
	int rc;

	if ((rc = rc_parse_args(prog, argc, argv, &a)) != 0)
		return rc;
	if (target_is_remote(a.target)) {
		fprintf(stderr, "%s: %s: remote targets are not available yet\n",
		    prog->name, a.target);
		return CMD_EXIT_UNAVAILABLE;
	}
	memset(&opts, 0, sizeof opts);
	opts.workspace_folder = a.target;
	opts.config_file = a.config_file;
	opts.no_git_root = a.no_git_root;
	if ((cfg = config_load(&opts, &cause)) == NULL) {
		fprintf(stderr, "%s: %s\n", prog->name, cause);
		free(cause);
		return CMD_EXIT_FAILURE;
	}
	w = config_get_warnings(cfg);
	for (i = 0; i < w->count; i++)
		log_warn("%s", w->items[i]);
	out = rc_build_output(cfg, &a);
	if ((text = cJSON_PrintUnformatted(out)) == NULL)
		fatal("out of memory");
	printf("%s\n", text);
	free(text);
	cJSON_Delete(out);
	config_free(cfg);
	return fflush(stdout) == 0 ? CMD_EXIT_OK : CMD_EXIT_FAILURE;
}
