/* config-validate.c - checking a parsed devcontainer.json (see
 * config-validate.h).
 *
 * Each known property has a checker; checkers of compound values call the
 * checkers of their parts with a longer property path ("build"."args"."X",
 * "forwardPorts"[2]). The table follows the devcontainer.json schema of the
 * spec (devContainer.base.schema.json) plus the legacy properties of the
 * VS Code guide.
 */
#include "config-validate.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "xmalloc.h"

#define K_IMAGE (1u << CONFIG_KIND_IMAGE)
#define K_DOCKERFILE (1u << CONFIG_KIND_DOCKERFILE)
#define K_COMPOSE (1u << CONFIG_KIND_COMPOSE)
#define K_NONCOMPOSE (K_IMAGE | K_DOCKERFILE)
#define K_ALL (K_IMAGE | K_DOCKERFILE | K_COMPOSE)

struct vctx {
	const struct jsonc_doc *doc;
	int have_kind;
	enum config_kind kind;
	struct config_warnings *warnings;
	char **cause;
};

typedef int (*v_check)(struct vctx *, const cJSON *, const char *);

struct v_prop {
	const char *name;
	v_check check;
	unsigned kinds; /* the kinds the property applies to */
};

void
config_warnings_add(struct config_warnings *w, const char *fmt, ...)
{
	va_list ap;

	w->items = xreallocarray(w->items, w->count + 1, sizeof *w->items);
	va_start(ap, fmt);
	w->items[w->count++] = xvasprintf(fmt, ap);
	va_end(ap);
}

void
config_warnings_clear(struct config_warnings *w)
{
	size_t i;

	for (i = 0; i < w->count; i++)
		free(w->items[i]);
	free(w->items);
	w->items = NULL;
	w->count = 0;
}

const char *
config_kind_name(enum config_kind kind)
{
	switch (kind) {
	case CONFIG_KIND_IMAGE:
		return "image";
	case CONFIG_KIND_DOCKERFILE:
		return "dockerfile";
	case CONFIG_KIND_COMPOSE:
		return "compose";
	}
	return "unknown";
}

int
config_validate_kind(const cJSON *config, enum config_kind *kind)
{
	const cJSON *build = cJSON_GetObjectItemCaseSensitive(config, "build");

	if (cJSON_HasObjectItem(config, "dockerFile") ||
	    (cJSON_IsObject(build) && cJSON_HasObjectItem(build, "dockerfile")))
		*kind = CONFIG_KIND_DOCKERFILE;
	else if (cJSON_HasObjectItem(config, "image"))
		*kind = CONFIG_KIND_IMAGE;
	else if (cJSON_HasObjectItem(config, "dockerComposeFile"))
		*kind = CONFIG_KIND_COMPOSE;
	else
		return -1;
	return 0;
}

/* "NAME:LINE:COL" for node's value (or, with key set, for its member name
 * when it has one), or "NAME" if it has no location; caller frees. */
static char *
v_where(const struct vctx *v, const cJSON *node, int key)
{
	unsigned line, col;

	if (node != NULL && key &&
	    jsonc_doc_locate_key(v->doc, node, &line, &col) == 0)
		return xasprintf("%s:%u:%u", jsonc_doc_name(v->doc), line, col);
	if (node != NULL && jsonc_doc_locate(v->doc, node, &line, &col) == 0)
		return xasprintf("%s:%u:%u", jsonc_doc_name(v->doc), line, col);
	return xstrdup(jsonc_doc_name(v->doc));
}

/* Set *cause to "WHERE: PATH: MSG", WHERE the value's place or (key set)
 * its member name's; returns -1. */
static int __attribute__((format(printf, 5, 0)))
v_verror(struct vctx *v, const cJSON *node, int key, const char *path,
    const char *fmt, va_list ap)
{
	char *where, *msg;

	msg = xvasprintf(fmt, ap);
	where = v_where(v, node, key);
	error_set(v->cause, "%s: %s: %s", where, path, msg);
	free(where);
	free(msg);
	return -1;
}

static int __attribute__((format(printf, 4, 5)))
v_error(struct vctx *v, const cJSON *node, const char *path, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	v_verror(v, node, 0, path, fmt, ap);
	va_end(ap);
	return -1;
}

/* v_error() at the member name: for a property that is wrong as a whole. */
static int __attribute__((format(printf, 4, 5)))
v_error_key(struct vctx *v, const cJSON *node, const char *path, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	v_verror(v, node, 1, path, fmt, ap);
	va_end(ap);
	return -1;
}

static void __attribute__((format(printf, 3, 4)))
v_warn(struct vctx *v, const cJSON *node, const char *fmt, ...)
{
	va_list ap;
	char *where, *msg;

	if (v->warnings == NULL)
		return;
	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	where = v_where(v, node, 1);
	config_warnings_add(v->warnings, "%s: %s", where, msg);
	free(where);
	free(msg);
}

/* The JSON type of node, as users know it: "object", "string", ... */
static const char *
v_type(const cJSON *node)
{
	if (cJSON_IsObject(node))
		return "object";
	if (cJSON_IsArray(node))
		return "array";
	if (cJSON_IsString(node))
		return "string";
	if (cJSON_IsNumber(node))
		return "number";
	if (cJSON_IsBool(node))
		return "boolean";
	if (cJSON_IsNull(node))
		return "null";
	return "invalid value";
}

/* What a value of the right type but wrong content looked like; caller frees. */
static char *
v_show(const cJSON *node)
{
	if (cJSON_IsString(node))
		return xasprintf("\"%s\"", node->valuestring);
	if (cJSON_IsNumber(node))
		return xasprintf("%.17g", node->valuedouble);
	return xstrdup(v_type(node));
}

static int
v_bad_value(struct vctx *v, const cJSON *node, const char *path, const char *want)
{
	char *shown = v_show(node);

	v_error(v, node, path, "expected %s, got %s", want, shown);
	free(shown);
	return -1;
}

static int
v_bad_type(struct vctx *v, const cJSON *node, const char *path, const char *want)
{
	return v_error(v, node, path, "expected %s, got %s", want, v_type(node));
}

static char *
v_member_path(const char *path, const char *key)
{
	return path[0] == '\0' ? xasprintf("\"%s\"", key) :
	    xasprintf("%s.\"%s\"", path, key);
}

static int
v_is_integer(const cJSON *node)
{
	return cJSON_IsNumber(node) && isfinite(node->valuedouble) &&
	    floor(node->valuedouble) == node->valuedouble;
}

static int
v_string(struct vctx *v, const cJSON *node, const char *path)
{
	return cJSON_IsString(node) ? 0 : v_bad_type(v, node, path, "a string");
}

static int
v_bool(struct vctx *v, const cJSON *node, const char *path)
{
	return cJSON_IsBool(node) ? 0 : v_bad_type(v, node, path, "a boolean");
}

static int
v_object(struct vctx *v, const cJSON *node, const char *path)
{
	return cJSON_IsObject(node) ? 0 : v_bad_type(v, node, path, "an object");
}

static int
v_integer(struct vctx *v, const cJSON *node, const char *path)
{
	if (!cJSON_IsNumber(node))
		return v_bad_type(v, node, path, "an integer");
	if (!v_is_integer(node))
		return v_bad_value(v, node, path, "an integer");
	return 0;
}

/* Check every element of an array (or member of an object) with check. */
static int
v_each(struct vctx *v, const cJSON *node, const char *path, v_check check)
{
	const cJSON *item;
	char *sub;
	int i = 0, rc = 0;

	cJSON_ArrayForEach(item, node) {
		if (cJSON_IsArray(node))
			sub = xasprintf("%s[%d]", path, i++);
		else
			sub = v_member_path(path, item->string);
		rc = check(v, item, sub);
		free(sub);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int
v_string_array(struct vctx *v, const cJSON *node, const char *path)
{
	if (!cJSON_IsArray(node))
		return v_bad_type(v, node, path, "an array of strings");
	return v_each(v, node, path, v_string);
}

static int
v_string_or_array(struct vctx *v, const cJSON *node, const char *path)
{
	if (cJSON_IsString(node))
		return 0;
	if (!cJSON_IsArray(node))
		return v_bad_type(v, node, path,
		    "a string or an array of strings");
	return v_each(v, node, path, v_string);
}

static int
v_string_map(struct vctx *v, const cJSON *node, const char *path)
{
	if (!cJSON_IsObject(node))
		return v_bad_type(v, node, path, "an object of strings");
	return v_each(v, node, path, v_string);
}

static int
v_string_or_null(struct vctx *v, const cJSON *node, const char *path)
{
	if (cJSON_IsString(node) || cJSON_IsNull(node))
		return 0;
	return v_bad_type(v, node, path, "a string or null");
}

static int
v_env_map(struct vctx *v, const cJSON *node, const char *path)
{
	if (!cJSON_IsObject(node))
		return v_bad_type(v, node, path, "an object of strings");
	return v_each(v, node, path, v_string_or_null);
}

/* One entry of a lifecycle command object: a string or an array of strings. */
static int
v_command_part(struct vctx *v, const cJSON *node, const char *path)
{
	if (cJSON_IsString(node))
		return 0;
	if (!cJSON_IsArray(node))
		return v_bad_type(v, node, path,
		    "a string or an array of strings");
	return v_each(v, node, path, v_string);
}

static int
v_command(struct vctx *v, const cJSON *node, const char *path)
{
	if (cJSON_IsObject(node))
		return v_each(v, node, path, v_command_part);
	if (cJSON_IsString(node) || cJSON_IsArray(node))
		return v_command_part(v, node, path);
	return v_bad_type(v, node, path, "a string, an array of strings or "
	    "an object of commands");
}

/* Whether node is a string that refers to a variable ("${..."): its value is
 * only known after substitution, so value checks (enums, sizes, "host:port")
 * accept it, as the reference CLI accepts any value; its type is still
 * checked. */
static int
v_has_variable(const cJSON *node)
{
	return cJSON_IsString(node) && strstr(node->valuestring, "${") != NULL;
}

/* A value that must be one of the strings in values (NULL-terminated). */
static int
v_enum(struct vctx *v, const cJSON *node, const char *path,
    const char *const *values)
{
	struct buf *b;
	char *want;
	size_t i;
	int rc;

	if (v_has_variable(node))
		return 0;
	for (i = 0; values[i] != NULL; i++)
		if (cJSON_IsString(node) && strcmp(node->valuestring, values[i]) == 0)
			return 0;
	b = buf_new();
	for (i = 0; values[i] != NULL; i++)
		buf_appendf(b, "%s\"%s\"", i == 0 ? "" :
		    values[i + 1] == NULL ? " or " : ", ", values[i]);
	want = buf_take_string(b, NULL);
	buf_free(b);
	rc = v_bad_value(v, node, path, want);
	free(want);
	return rc;
}

static int
v_wait_for(struct vctx *v, const cJSON *node, const char *path)
{
	static const char *const values[] = { "initializeCommand",
		"onCreateCommand", "updateContentCommand", "postCreateCommand",
		"postStartCommand", NULL };

	return v_enum(v, node, path, values);
}

static int
v_user_env_probe(struct vctx *v, const cJSON *node, const char *path)
{
	static const char *const values[] = { "none", "loginShell",
		"loginInteractiveShell", "interactiveShell", NULL };

	return v_enum(v, node, path, values);
}

static int
v_shutdown_action(struct vctx *v, const cJSON *node, const char *path)
{
	static const char *const single[] = { "none", "stopContainer", NULL };
	static const char *const compose[] = { "none", "stopCompose", NULL };
	static const char *const any[] = { "none", "stopContainer",
		"stopCompose", NULL };

	if (!v->have_kind)
		return v_enum(v, node, path, any);
	return v_enum(v, node, path,
	    v->kind == CONFIG_KIND_COMPOSE ? compose : single);
}

/* "host:port" with a service or host name and a port of 1-5 digits. */
static int
v_is_host_port(const char *s)
{
	const char *colon = strrchr(s, ':'), *p;

	if (colon == NULL || colon == s || colon[1] == '\0' ||
	    strlen(colon + 1) > 5)
		return 0;
	for (p = s; p < colon; p++)
		if (!isalnum((unsigned char)*p) && strchr("-_.", *p) == NULL)
			return 0;
	for (p = colon + 1; *p != '\0'; p++)
		if (!isdigit((unsigned char)*p))
			return 0;
	return atoi(colon + 1) <= 65535;
}

static int
v_port_number(struct vctx *v, const cJSON *node, const char *path)
{
	if (!v_is_integer(node) || node->valuedouble < 0 ||
	    node->valuedouble > 65535)
		return v_bad_value(v, node, path, "a port number (0-65535)");
	return 0;
}

static int
v_forward_port(struct vctx *v, const cJSON *node, const char *path)
{
	if (cJSON_IsNumber(node))
		return v_port_number(v, node, path);
	if (cJSON_IsString(node)) {
		if (v_is_host_port(node->valuestring) || v_has_variable(node))
			return 0;
		return v_bad_value(v, node, path,
		    "a number or \"host:port\" string");
	}
	return v_bad_type(v, node, path, "a number or \"host:port\" string");
}

static int
v_forward_ports(struct vctx *v, const cJSON *node, const char *path)
{
	if (!cJSON_IsArray(node))
		return v_bad_type(v, node, path, "an array of ports");
	return v_each(v, node, path, v_forward_port);
}

static int
v_app_port_item(struct vctx *v, const cJSON *node, const char *path)
{
	if (cJSON_IsNumber(node))
		return v_port_number(v, node, path);
	if (cJSON_IsString(node))
		return 0;
	return v_bad_type(v, node, path, "a number or a string");
}

static int
v_app_port(struct vctx *v, const cJSON *node, const char *path)
{
	if (cJSON_IsArray(node))
		return v_each(v, node, path, v_app_port_item);
	if (cJSON_IsNumber(node) || cJSON_IsString(node))
		return v_app_port_item(v, node, path);
	return v_bad_type(v, node, path, "a number, a string or an array");
}

/* Check the members of an object against a table; unknown ones are warned
 * about. required lists members that must be present (NULL-terminated). */
static int
v_members(struct vctx *v, const cJSON *node, const char *path,
    const struct v_prop *props, size_t nprops, const char *const *required)
{
	const cJSON *item;
	char *sub;
	size_t i;
	int rc;

	if (!cJSON_IsObject(node))
		return v_bad_type(v, node, path, "an object");
	cJSON_ArrayForEach(item, node) {
		sub = v_member_path(path, item->string);
		for (i = 0; i < nprops; i++)
			if (strcmp(props[i].name, item->string) == 0)
				break;
		if (i == nprops) {
			v_warn(v, item, "unknown property %s", sub);
			rc = 0;
		} else
			rc = props[i].check(v, item, sub);
		free(sub);
		if (rc != 0)
			return rc;
	}
	for (i = 0; required != NULL && required[i] != NULL; i++)
		if (!cJSON_HasObjectItem(node, required[i]))
			return v_error(v, node, path, "\"%s\" is missing",
			    required[i]);
	return 0;
}

static int
v_mount_type(struct vctx *v, const cJSON *node, const char *path)
{
	if (!cJSON_IsString(node))
		return v_bad_type(v, node, path, "\"bind\" or \"volume\"");
	if (strcmp(node->valuestring, "bind") != 0 &&
	    strcmp(node->valuestring, "volume") != 0)
		v_warn(v, node, "%s: mount type \"%s\" is neither \"bind\" nor "
		    "\"volume\"", path, node->valuestring);
	return 0;
}

static int
v_mount(struct vctx *v, const cJSON *node, const char *path)
{
	static const struct v_prop props[] = {
		{ "type", v_mount_type, K_ALL },
		{ "source", v_string, K_ALL },
		{ "target", v_string, K_ALL },
	};
	static const char *const required[] = { "type", "target", NULL };

	if (cJSON_IsString(node))
		return 0;
	if (!cJSON_IsObject(node))
		return v_bad_type(v, node, path, "a mount string or object");
	return v_members(v, node, path, props, sizeof props / sizeof props[0],
	    required);
}

static int
v_mounts(struct vctx *v, const cJSON *node, const char *path)
{
	if (!cJSON_IsArray(node))
		return v_bad_type(v, node, path, "an array of mounts");
	return v_each(v, node, path, v_mount);
}

static int
v_build(struct vctx *v, const cJSON *node, const char *path)
{
	static const struct v_prop props[] = {
		{ "dockerfile", v_string, K_ALL },
		{ "context", v_string, K_ALL },
		{ "target", v_string, K_ALL },
		{ "args", v_string_map, K_ALL },
		{ "cacheFrom", v_string_or_array, K_ALL },
		{ "options", v_string_array, K_ALL },
	};

	return v_members(v, node, path, props, sizeof props / sizeof props[0],
	    NULL);
}

/* "4gb", "512mb", "1073741824": digits and an optional kb/mb/gb/tb unit. */
static int
v_bytes(struct vctx *v, const cJSON *node, const char *path)
{
	const char *s;
	size_t n;

	if (!cJSON_IsString(node))
		return v_bad_type(v, node, path, "a size string such as \"4gb\"");
	if (v_has_variable(node))
		return 0;
	s = node->valuestring;
	n = strspn(s, "0123456789");
	if (n > 0 && (s[n] == '\0' || (strchr("tgmk", s[n]) != NULL &&
	    s[n] != '\0' && s[n + 1] == 'b' && s[n + 2] == '\0')))
		return 0;
	return v_bad_value(v, node, path, "a size such as \"4gb\" "
	    "(digits, then optionally kb, mb, gb or tb)");
}

static int
v_count(struct vctx *v, const cJSON *node, const char *path)
{
	if (!v_is_integer(node) || node->valuedouble < 1)
		return cJSON_IsNumber(node) ?
		    v_bad_value(v, node, path, "an integer of at least 1") :
		    v_bad_type(v, node, path, "an integer of at least 1");
	return 0;
}

static int
v_gpu(struct vctx *v, const cJSON *node, const char *path)
{
	static const struct v_prop props[] = {
		{ "cores", v_count, K_ALL },
		{ "memory", v_bytes, K_ALL },
	};

	if (cJSON_IsBool(node))
		return 0;
	if (cJSON_IsObject(node))
		return v_members(v, node, path, props,
		    sizeof props / sizeof props[0], NULL);
	if (cJSON_IsString(node) && (strcmp(node->valuestring, "optional") == 0 ||
	    v_has_variable(node)))
		return 0;
	return v_bad_value(v, node, path, "true, false, \"optional\" or an object");
}

static int
v_host_requirements(struct vctx *v, const cJSON *node, const char *path)
{
	static const struct v_prop props[] = {
		{ "cpus", v_count, K_ALL },
		{ "memory", v_bytes, K_ALL },
		{ "storage", v_bytes, K_ALL },
		{ "gpu", v_gpu, K_ALL },
	};

	return v_members(v, node, path, props, sizeof props / sizeof props[0],
	    NULL);
}

static int
v_on_auto_forward(struct vctx *v, const cJSON *node, const char *path)
{
	static const char *const values[] = { "notify", "openBrowser",
		"openBrowserOnce", "openPreview", "silent", "ignore", NULL };

	return v_enum(v, node, path, values);
}

static int
v_protocol(struct vctx *v, const cJSON *node, const char *path)
{
	static const char *const values[] = { "http", "https", NULL };

	return v_enum(v, node, path, values);
}

static int
v_port_attributes(struct vctx *v, const cJSON *node, const char *path)
{
	static const struct v_prop props[] = {
		{ "onAutoForward", v_on_auto_forward, K_ALL },
		{ "elevateIfNeeded", v_bool, K_ALL },
		{ "label", v_string, K_ALL },
		{ "requireLocalPort", v_bool, K_ALL },
		{ "protocol", v_protocol, K_ALL },
	};

	return v_members(v, node, path, props, sizeof props / sizeof props[0],
	    NULL);
}

static int
v_ports_attributes(struct vctx *v, const cJSON *node, const char *path)
{
	if (!cJSON_IsObject(node))
		return v_bad_type(v, node, path, "an object of port attributes");
	return v_each(v, node, path, v_port_attributes);
}

static int
v_feature_options(struct vctx *v, const cJSON *node, const char *path)
{
	if (cJSON_IsString(node) || cJSON_IsBool(node) || cJSON_IsObject(node))
		return 0;
	return v_bad_type(v, node, path, "a string, a boolean or an object of "
	    "options");
}

static int
v_features(struct vctx *v, const cJSON *node, const char *path)
{
	if (!cJSON_IsObject(node))
		return v_bad_type(v, node, path, "an object of features");
	return v_each(v, node, path, v_feature_options);
}

static int
v_secret(struct vctx *v, const cJSON *node, const char *path)
{
	static const struct v_prop props[] = {
		{ "description", v_string, K_ALL },
		{ "documentationUrl", v_string, K_ALL },
	};

	return v_members(v, node, path, props, sizeof props / sizeof props[0],
	    NULL);
}

static int
v_secrets(struct vctx *v, const cJSON *node, const char *path)
{
	if (!cJSON_IsObject(node))
		return v_bad_type(v, node, path, "an object of secrets");
	return v_each(v, node, path, v_secret);
}

/* Every top-level property of devcontainer.json and the kinds it applies to. */
static const struct v_prop v_top[] = {
	{ "$schema", v_string, K_ALL },
	{ "name", v_string, K_ALL },
	{ "image", v_string, K_IMAGE },
	{ "build", v_build, K_DOCKERFILE },
	{ "dockerFile", v_string, K_DOCKERFILE },
	{ "context", v_string, K_DOCKERFILE },
	{ "dockerComposeFile", v_string_or_array, K_COMPOSE },
	{ "service", v_string, K_COMPOSE },
	{ "runServices", v_string_array, K_COMPOSE },
	{ "appPort", v_app_port, K_NONCOMPOSE },
	{ "runArgs", v_string_array, K_NONCOMPOSE },
	{ "workspaceMount", v_string, K_NONCOMPOSE },
	{ "workspaceFolder", v_string, K_ALL },
	{ "shutdownAction", v_shutdown_action, K_ALL },
	{ "overrideCommand", v_bool, K_ALL },
	{ "features", v_features, K_ALL },
	{ "overrideFeatureInstallOrder", v_string_array, K_ALL },
	{ "secrets", v_secrets, K_ALL },
	{ "forwardPorts", v_forward_ports, K_ALL },
	{ "portsAttributes", v_ports_attributes, K_ALL },
	{ "otherPortsAttributes", v_port_attributes, K_ALL },
	{ "updateRemoteUserUID", v_bool, K_ALL },
	{ "containerEnv", v_string_map, K_ALL },
	{ "containerUser", v_string, K_ALL },
	{ "mounts", v_mounts, K_ALL },
	{ "init", v_bool, K_ALL },
	{ "privileged", v_bool, K_ALL },
	{ "capAdd", v_string_array, K_ALL },
	{ "securityOpt", v_string_array, K_ALL },
	{ "remoteEnv", v_env_map, K_ALL },
	{ "remoteUser", v_string, K_ALL },
	{ "initializeCommand", v_command, K_ALL },
	{ "onCreateCommand", v_command, K_ALL },
	{ "updateContentCommand", v_command, K_ALL },
	{ "postCreateCommand", v_command, K_ALL },
	{ "postStartCommand", v_command, K_ALL },
	{ "postAttachCommand", v_command, K_ALL },
	{ "waitFor", v_wait_for, K_ALL },
	{ "userEnvProbe", v_user_env_probe, K_ALL },
	{ "hostRequirements", v_host_requirements, K_ALL },
	{ "customizations", v_object, K_ALL },
	{ "extensions", v_string_array, K_ALL },   /* legacy: customizations.vscode */
	{ "settings", v_object, K_ALL },           /* legacy: customizations.vscode */
	{ "devPort", v_integer, K_ALL },           /* legacy: customizations.vscode */
};

static const struct v_prop *
v_top_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof v_top / sizeof v_top[0]; i++)
		if (strcmp(v_top[i].name, name) == 0)
			return &v_top[i];
	return NULL;
}

/* Type-check one top-level property and warn if the kind ignores it. */
static int
v_top_member(struct vctx *v, const cJSON *item)
{
	const struct v_prop *prop = v_top_find(item->string);
	char *path = v_member_path("", item->string);
	int rc = 0;

	if (prop == NULL)
		v_warn(v, item, "unknown property %s", path);
	else if ((rc = prop->check(v, item, path)) == 0 && v->have_kind &&
	    (prop->kinds & (1u << v->kind)) == 0)
		v_warn(v, item, "%s is ignored in a configuration of kind %s",
		    path, config_kind_name(v->kind));
	free(path);
	return rc;
}

/* The orchestration's required companions. */
static int
v_required(struct vctx *v, const cJSON *root)
{
	const cJSON *build = cJSON_GetObjectItemCaseSensitive(root, "build");

	if (!v->have_kind) {
		if (cJSON_IsObject(build))
			return v_error(v, build, "\"build\"", "\"dockerfile\" is "
			    "missing (and there is no \"image\" or "
			    "\"dockerComposeFile\")");
		return v_error(v, root, "configuration", "no container to run: "
		    "set \"image\", \"build\".\"dockerfile\" (or the legacy "
		    "\"dockerFile\") or \"dockerComposeFile\" with \"service\"");
	}
	if (v->kind == CONFIG_KIND_COMPOSE &&
	    !cJSON_HasObjectItem(root, "service"))
		return v_error(v, cJSON_GetObjectItemCaseSensitive(root,
		    "dockerComposeFile"), "\"dockerComposeFile\"", "\"service\" is "
		    "missing (it names the container to work in)");
	return 0;
}

int
config_validate(const struct jsonc_doc *doc, enum config_kind *kind,
    struct config_warnings *warnings, char **cause)
{
	struct vctx v;
	const cJSON *root = jsonc_doc_root(doc), *item;

	memset(&v, 0, sizeof v);
	v.doc = doc;
	v.warnings = warnings;
	v.cause = cause;
	if (!cJSON_IsObject(root))
		return v_bad_type(&v, root, "configuration", "an object");
	v.have_kind = config_validate_kind(root, &v.kind) == 0;
	cJSON_ArrayForEach(item, root) {
		if (v_top_member(&v, item) != 0)
			return -1;
	}
	if (v_required(&v, root) != 0)
		return -1;
	*kind = v.kind;
	return 0;
}

/*
 * What `up` does not honour yet (config_validate_up()). Each check looks at
 * one top-level property of devcontainer.json as written; docs/STATUS.md
 * lists every property and what becomes of it.
 */

/* The member names of an object, ", "-separated, skipping skip (may be
 * NULL); caller frees. */
static char *
v_up_names(const cJSON *obj, const char *skip)
{
	const cJSON *item;
	struct buf *b = buf_new();
	char *s;

	cJSON_ArrayForEach(item, obj) {
		if (skip != NULL && strcmp(item->string, skip) == 0)
			continue;
		buf_appendf(b, "%s%s", buf_len(b) > 0 ? ", " : "", item->string);
	}
	s = buf_take_string(b, NULL);
	buf_free(b);
	return s;
}

/* Features would be installed into the image: a container without them is
 * not the one asked for. (Features already in an image come with its
 * devcontainer.metadata label, not from here, and need nothing.) */
static int
v_up_features(struct vctx *v, const cJSON *node)
{
	char *ids;

	if (!cJSON_IsObject(node) || node->child == NULL)
		return 0;
	ids = v_up_names(node, NULL);
	v_error_key(v, node, "\"features\"", "Dev Container Features are not "
	    "supported yet (%s); remove them or install what they provide in the "
	    "Dockerfile", ids);
	free(ids);
	return -1;
}

/* Requirements are not checked on the one host rdev uses; a GPU that is
 * required would be missing from the container, one that is optional may be. */
static int
v_up_host_requirements(struct vctx *v, const cJSON *node)
{
	const cJSON *gpu = cJSON_GetObjectItemCaseSensitive(node, "gpu");
	int optional;
	char *names;

	if (!cJSON_IsObject(node))
		return 0;
	optional = cJSON_IsString(gpu) && strcmp(gpu->valuestring, "optional") == 0;
	if (gpu != NULL && !cJSON_IsFalse(gpu) && !optional)
		return v_error_key(v, gpu, "\"hostRequirements\".\"gpu\"", "GPU access "
		    "is not supported yet (the container would have no GPU); remove "
		    "it or make it \"optional\"");
	names = v_up_names(node, cJSON_IsFalse(gpu) ? "gpu" : NULL);
	if (*names != '\0')
		v_warn(v, node, "\"hostRequirements\": not checked (%s): rdev uses "
		    "this host as it is%s", names, optional ? ", and the container "
		    "gets no GPU" : "");
	free(names);
	return 0;
}

static void
v_up_secrets(struct vctx *v, const cJSON *node)
{
	char *names;

	if (!cJSON_IsObject(node) || node->child == NULL)
		return;
	names = v_up_names(node, NULL);
	v_warn(v, node, "\"secrets\": not supplied: rdev has no secrets store yet; "
	    "%s %s not set in the container", names, node->child->next == NULL ?
	    "is" : "are");
	free(names);
}

/* Tools stop the container when their last window closes; rdev has no
 * such moment. */
static void
v_up_shutdown_action(struct vctx *v, const cJSON *node)
{
	if (!cJSON_IsString(node) || strcmp(node->valuestring, "none") == 0)
		return;
	v_warn(v, node, "\"shutdownAction\": \"%s\" is not acted on: the container "
	    "keeps running after `up`, exec and shell until `rdev stop` or "
	    "`rdev down`", node->valuestring);
}

static void
v_up_feature_order(struct vctx *v, const cJSON *node)
{
	if (cJSON_GetArraySize(node) > 0)
		v_warn(v, node, "\"overrideFeatureInstallOrder\": not used: Dev "
		    "Container Features are not supported yet");
}

/* The attributes of one port (or of the other ports) that rdev's forwards
 * do not act on; path names them. */
static void
v_up_port_attributes(struct vctx *v, const cJSON *attrs, const char *path)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(attrs, "elevateIfNeeded");
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(attrs, "protocol");

	if (cJSON_IsTrue(e))
		v_warn(v, e, "%s.\"elevateIfNeeded\": rdev does not elevate: a local "
		    "port below 1024 is forwarded only if this user may bind it",
		    path);
	if (cJSON_IsString(p) && strcmp(p->valuestring, "https") == 0)
		v_warn(v, p, "%s.\"protocol\": \"https\" is not used: forwards carry "
		    "the bytes as they are and the URL listed for openBrowser is "
		    "http://", path);
}

static int
v_up_is_port_key(const char *key)
{
	int from, to, n = 0;

	if (strspn(key, "0123456789") == strlen(key) && *key != '\0')
		return 1;
	return sscanf(key, "%d-%d%n", &from, &to, &n) == 2 && key[n] == '\0';
}

static void
v_up_ports_attributes(struct vctx *v, const cJSON *node)
{
	const cJSON *item;
	char *path;

	cJSON_ArrayForEach(item, node) {
		path = v_member_path("\"portsAttributes\"", item->string);
		if (!v_up_is_port_key(item->string))
			v_warn(v, item, "%s: not matched: rdev matches port numbers "
			    "and ranges (\"3000-3010\"), not process command lines",
			    path);
		v_up_port_attributes(v, item, path);
		free(path);
	}
}

int
config_validate_up(const struct jsonc_doc *doc, int forwards,
    struct config_warnings *warnings, char **cause)
{
	struct vctx v;
	const cJSON *root = jsonc_doc_root(doc), *fp;

	memset(&v, 0, sizeof v);
	v.doc = doc;
	v.warnings = warnings;
	v.cause = cause;
	if (v_up_features(&v, cJSON_GetObjectItemCaseSensitive(root, "features")) != 0 ||
	    v_up_host_requirements(&v, cJSON_GetObjectItemCaseSensitive(root,
	    "hostRequirements")) != 0)
		return -1;
	v_up_secrets(&v, cJSON_GetObjectItemCaseSensitive(root, "secrets"));
	v_up_shutdown_action(&v, cJSON_GetObjectItemCaseSensitive(root,
	    "shutdownAction"));
	v_up_feature_order(&v, cJSON_GetObjectItemCaseSensitive(root,
	    "overrideFeatureInstallOrder"));
	fp = cJSON_GetObjectItemCaseSensitive(root, "forwardPorts");
	if (!forwards && cJSON_GetArraySize(fp) > 0)
		v_warn(&v, fp, "\"forwardPorts\": not forwarded: rdev forwards ports "
		    "for remote targets only yet; from this machine, reach them at "
		    "the container's address");
	if (forwards) {
		v_up_ports_attributes(&v, cJSON_GetObjectItemCaseSensitive(root,
		    "portsAttributes"));
		v_up_port_attributes(&v, cJSON_GetObjectItemCaseSensitive(root,
		    "otherPortsAttributes"), "\"otherPortsAttributes\"");
	}
	return 0;
}
