/* config-validate.c - checking a parsed devcontainer.json (see
 * config-validate.h): its kind, and the type and value of every property.
 *
 * Each known property has a checker; checkers of compound values call the
 * checkers of their parts with a longer property path ("build"."args"."X",
 * "forwardPorts"[2]). The table follows the devcontainer.json schema of the
 * spec (devContainer.base.schema.json) plus the legacy properties of the
 * VS Code guide. How errors and warnings are worded and placed is in
 * config-validate-report.c; what `up` cannot honour yet, in
 * config-validate-up.c.
 */
#include "config-validate.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config-validate-internal.h"
#include "xmalloc.h"

#define K_IMAGE (1u << CONFIG_KIND_IMAGE)
#define K_DOCKERFILE (1u << CONFIG_KIND_DOCKERFILE)
#define K_COMPOSE (1u << CONFIG_KIND_COMPOSE)
#define K_NONCOMPOSE (K_IMAGE | K_DOCKERFILE)
#define K_ALL (K_IMAGE | K_DOCKERFILE | K_COMPOSE)

typedef int (*config_validate_check)(
    struct config_validate_ctx *, const cJSON *, const char *);

struct config_validate_prop {
	const char *name;
	config_validate_check check;
	unsigned kinds; /* the kinds the property applies to */
};

const char *
config_kind_name(enum config_kind kind)
{
	switch (kind) {
	case CONFIG_KIND_IMAGE: return "image";
	case CONFIG_KIND_DOCKERFILE: return "dockerfile";
	case CONFIG_KIND_COMPOSE: return "compose";
	}
	return "unknown";
}

/* Does object have a member of that exact name? */
static int
config_validate_has(const cJSON *object, const char *name)
{
	return cJSON_GetObjectItemCaseSensitive(object, name) != NULL;
}

int
config_validate_kind(const cJSON *config, enum config_kind *kind)
{
	const cJSON *build = cJSON_GetObjectItemCaseSensitive(config, "build");

	/* (names are case-sensitive: cJSON_HasObjectItem is not, and
	 * "Image" would make an image configuration without an image) */
	if (config_validate_has(config, "dockerFile") ||
	    (cJSON_IsObject(build) && config_validate_has(build, "dockerfile")))
		*kind = CONFIG_KIND_DOCKERFILE;
	else if (config_validate_has(config, "image"))
		*kind = CONFIG_KIND_IMAGE;
	else if (config_validate_has(config, "dockerComposeFile"))
		*kind = CONFIG_KIND_COMPOSE;
	else
		return -1;
	return 0;
}

static int
config_validate_is_integer(const cJSON *node)
{
	return cJSON_IsNumber(node) && isfinite(node->valuedouble) &&
	    floor(node->valuedouble) == node->valuedouble;
}

static int
config_validate_string(struct config_validate_ctx *v, const cJSON *node, const char *path)
{
	return cJSON_IsString(node)
	    ? 0
	    : config_validate_report_bad_type(v, node, path, "a string");
}

static int
config_validate_bool(struct config_validate_ctx *v, const cJSON *node, const char *path)
{
	return cJSON_IsBool(node)
	    ? 0
	    : config_validate_report_bad_type(v, node, path, "a boolean");
}

static int
config_validate_object(struct config_validate_ctx *v, const cJSON *node, const char *path)
{
	return cJSON_IsObject(node)
	    ? 0
	    : config_validate_report_bad_type(v, node, path, "an object");
}

static int
config_validate_integer(
    struct config_validate_ctx *v, const cJSON *node, const char *path)
{
	if (!cJSON_IsNumber(node))
		return config_validate_report_bad_type(v, node, path, "an integer");
	if (!config_validate_is_integer(node))
		return config_validate_report_bad_value(v, node, path, "an integer");
	return 0;
}

/* Check every element of an array (or member of an object) with check. */
static int
config_validate_each(struct config_validate_ctx *v, const cJSON *node, const char *path,
    config_validate_check check)
{
	const cJSON *item;
	char *sub;
	int i = 0, rc = 0;

	cJSON_ArrayForEach(item, node) {
		if (cJSON_IsArray(node))
			sub = xasprintf("%s[%d]", path, i++);
		else
			sub = config_validate_report_member_path(path, item->string);
		rc = check(v, item, sub);
		free(sub);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int
config_validate_string_array(
    struct config_validate_ctx *v, const cJSON *node, const char *path)
{
	if (!cJSON_IsArray(node))
		return config_validate_report_bad_type(
		    v, node, path, "an array of strings");
	return config_validate_each(v, node, path, config_validate_string);
}

static int
config_validate_string_or_array(
    struct config_validate_ctx *v, const cJSON *node, const char *path)
{
	if (cJSON_IsString(node))
		return 0;
	if (!cJSON_IsArray(node))
		return config_validate_report_bad_type(
		    v, node, path, "a string or an array of strings");
	return config_validate_each(v, node, path, config_validate_string);
}

static int
config_validate_string_map(
    struct config_validate_ctx *v, const cJSON *node, const char *path)
{
	if (!cJSON_IsObject(node))
		return config_validate_report_bad_type(
		    v, node, path, "an object of strings");
	return config_validate_each(v, node, path, config_validate_string);
}

static int
config_validate_string_or_null(
    struct config_validate_ctx *v, const cJSON *node, const char *path)
{
	if (cJSON_IsString(node) || cJSON_IsNull(node))
		return 0;
	return config_validate_report_bad_type(v, node, path, "a string or null");
}

char *
config_env_entry_problem(const char *name, size_t value_len)
{
	size_t len = strlen(name) + 1 + value_len;

	if (*name == '\0')
		return xstrdup("an environment variable needs a name");
	if (strchr(name, '=') != NULL)
		return xasprintf("an environment variable's name cannot hold '=' "
				 "(NAME=VALUE would set \"%.*s\" to \"%s=...\")",
		    (int)strcspn(name, "="), name, name + strcspn(name, "=") + 1);
	if (len > CONFIG_ENV_ENTRY_MAX)
		return xasprintf("NAME=VALUE is %zu bytes, over the %d one "
				 "environment string can have (the kernel's "
				 "MAX_ARG_STRLEN, 128 KiB with its NUL): no "
				 "program could start with it (\"argument list "
				 "too long\")",
		    len, CONFIG_ENV_ENTRY_MAX);
	return NULL;
}

/* An environment map (containerEnv; remoteEnv, whose null unsets): each
 * name one that can be set, each value a string (or, with nullable, null).
 * The values' lengths are checked after substitution
 * (config_validate_env()). */
static int
config_validate_env_members(
    struct config_validate_ctx *v, const cJSON *node, const char *path, int nullable)
{
	const cJSON *item;
	char *sub, *why;
	int rc;

	if (!cJSON_IsObject(node))
		return config_validate_report_bad_type(
		    v, node, path, "an object of strings");
	cJSON_ArrayForEach(item, node) {
		sub = config_validate_report_member_path(path, item->string);
		if ((why = config_env_entry_problem(item->string, 0)) != NULL) {
			rc = config_validate_report_error_key(v, item, sub, "%s", why);
			free(why);
		} else
			rc = nullable ? config_validate_string_or_null(v, item, sub)
				      : config_validate_string(v, item, sub);
		free(sub);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int
config_validate_container_env(
    struct config_validate_ctx *v, const cJSON *node, const char *path)
{
	return config_validate_env_members(v, node, path, 0);
}

static int
config_validate_env_map(
    struct config_validate_ctx *v, const cJSON *node, const char *path)
{
	return config_validate_env_members(v, node, path, 1);
}

int
config_validate_env(const struct jsonc_doc *doc, const cJSON *object, char **cause)
{
	static const char *const props[] = { "containerEnv", "remoteEnv", NULL };
	struct config_validate_ctx v;
	const cJSON *map, *e, *raw;
	char *top, *path, *why;
	int rc;

	memset(&v, 0, sizeof v);
	v.doc = doc;
	v.cause = cause;
	for (int i = 0; props[i] != NULL; i++) {
		map = cJSON_GetObjectItemCaseSensitive(object, props[i]);
		cJSON_ArrayForEach(e, map) {
			if (!cJSON_IsString(e) ||
			    (why = config_env_entry_problem(
				 e->string, strlen(e->valuestring))) == NULL)
				continue;
			/* (placed at the value as written: object is a copy) */
			raw = cJSON_GetObjectItemCaseSensitive(
			    cJSON_GetObjectItemCaseSensitive(
				jsonc_doc_root(doc), props[i]),
			    e->string);
			top = config_validate_report_member_path("", props[i]);
			path = config_validate_report_member_path(top, e->string);
			free(top);
			rc = config_validate_report_error(&v, raw, path, "%s%s", why,
			    cJSON_IsString(raw) &&
				    strcmp(raw->valuestring, e->valuestring) != 0
				? " (after its variables were substituted)"
				: "");
			free(path);
			free(why);
			return rc;
		}
	}
	return 0;
}

static int
config_validate_command(
    struct config_validate_ctx *v, const cJSON *node, const char *path)
{
	if (cJSON_IsObject(node))
		return config_validate_each(
		    v, node, path, config_validate_string_or_array);
	if (cJSON_IsString(node) || cJSON_IsArray(node))
		return config_validate_string_or_array(v, node, path);
	return config_validate_report_bad_type(v, node, path,
	    "a string, an array of strings or "
	    "an object of commands");
}

/* Whether node is a string that refers to a variable ("${..."): its value is
 * only known after substitution, so value checks (enums, sizes, "host:port")
 * accept it, as the reference CLI accepts any value; its type is still
 * checked. */
static int
config_validate_has_variable(const cJSON *node)
{
	return cJSON_IsString(node) && strstr(node->valuestring, "${") != NULL;
}

/* A value that must be one of the strings in values (NULL-terminated). */
static int
config_validate_enum(struct config_validate_ctx *v, const cJSON *node, const char *path,
    const char *const *values)
{
	struct buf *b;
	char *want;
	size_t i;
	int rc;

	if (config_validate_has_variable(node))
		return 0;
	for (i = 0; values[i] != NULL; i++)
		if (cJSON_IsString(node) && strcmp(node->valuestring, values[i]) == 0)
			return 0;
	b = buf_new();
	for (i = 0; values[i] != NULL; i++)
		buf_appendf(b, "%s\"%s\"",
		    i == 0			? ""
			: values[i + 1] == NULL ? " or "
						: ", ",
		    values[i]);
	want = buf_take_string(b, NULL);
	buf_free(b);
	rc = config_validate_report_bad_value(v, node, path, want);
	free(want);
	return rc;
}

static int
config_validate_wait_for(
    struct config_validate_ctx *v, const cJSON *node, const char *path)
{
	static const char *const values[] = { "initializeCommand", "onCreateCommand",
		"updateContentCommand", "postCreateCommand", "postStartCommand", NULL };

	return config_validate_enum(v, node, path, values);
}

static int
config_validate_user_env_probe(
    struct config_validate_ctx *v, const cJSON *node, const char *path)
{
	static const char *const values[] = { "none", "loginShell",
		"loginInteractiveShell", "interactiveShell", NULL };

	return config_validate_enum(v, node, path, values);
}

static int
config_validate_shutdown_action(
    struct config_validate_ctx *v, const cJSON *node, const char *path)
{
	static const char *const single[] = { "none", "stopContainer", NULL };
	static const char *const compose[] = { "none", "stopCompose", NULL };
	static const char *const any[] = { "none", "stopContainer", "stopCompose", NULL };

	if (!v->have_kind)
		return config_validate_enum(v, node, path, any);
	return config_validate_enum(
	    v, node, path, v->kind == CONFIG_KIND_COMPOSE ? compose : single);
}

/* "host:port" with a service or host name and a port of 1-5 digits, 1-65535. */
static int
config_validate_is_host_port(const char *s)
{
	const char *colon = strrchr(s, ':'), *p;

	if (colon == NULL || colon == s || colon[1] == '\0' || strlen(colon + 1) > 5)
		return 0;
	for (p = s; p < colon; p++)
		if (!isalnum((unsigned char)*p) && strchr("-_.", *p) == NULL)
			return 0;
	for (p = colon + 1; *p != '\0'; p++)
		if (!isdigit((unsigned char)*p))
			return 0;
	return atoi(colon + 1) >= 1 && atoi(colon + 1) <= 65535;
}

static int
config_validate_port_number(
    struct config_validate_ctx *v, const cJSON *node, const char *path)
{
	if (!config_validate_is_integer(node) || node->valuedouble < 0 ||
	    node->valuedouble > 65535)
		return config_validate_report_bad_value(
		    v, node, path, "a port number (0-65535)");
	return 0;
}

static int
config_validate_forward_port(
    struct config_validate_ctx *v, const cJSON *node, const char *path)
{
	/* (the schema allows 0; the broker has nothing to forward there: it
	 * listened on a random port to container port 0) */
	if (cJSON_IsNumber(node)) {
		if (!config_validate_is_integer(node) || node->valuedouble < 1 ||
		    node->valuedouble > 65535)
			return config_validate_report_bad_value(
			    v, node, path, "a port number (1-65535)");
		return 0;
	}
	if (cJSON_IsString(node)) {
		if (config_validate_is_host_port(node->valuestring) ||
		    config_validate_has_variable(node))
			return 0;
		/* ("3000/udp", "db:53/udp": say why, not only "not a port";
		 * "3000/tcp": TCP is what is forwarded, written without it) */
		const char *slash = strrchr(node->valuestring, '/');

		return config_validate_report_bad_value(v, node, path,
		    slash == NULL || strpbrk(slash + 1, ":/") != NULL || slash[1] == '\0'
			? "a number or \"host:port\" string"
			: strcasecmp(slash + 1, "tcp") == 0
			? "a number or \"host:port\" string (without /tcp: "
			  "ports are forwarded over TCP)"
			: "a number or \"host:port\" string (only TCP is forwarded)");
	}
	return config_validate_report_bad_type(
	    v, node, path, "a number or \"host:port\" string");
}

static int
config_validate_forward_ports(
    struct config_validate_ctx *v, const cJSON *node, const char *path)
{
	if (!cJSON_IsArray(node))
		return config_validate_report_bad_type(
		    v, node, path, "an array of ports");
	return config_validate_each(v, node, path, config_validate_forward_port);
}

static int
config_validate_app_port_item(
    struct config_validate_ctx *v, const cJSON *node, const char *path)
{
	if (cJSON_IsNumber(node))
		return config_validate_port_number(v, node, path);
	if (cJSON_IsString(node))
		return 0;
	return config_validate_report_bad_type(v, node, path, "a number or a string");
}

static int
config_validate_app_port(
    struct config_validate_ctx *v, const cJSON *node, const char *path)
{
	if (cJSON_IsArray(node))
		return config_validate_each(v, node, path, config_validate_app_port_item);
	if (cJSON_IsNumber(node) || cJSON_IsString(node))
		return config_validate_app_port_item(v, node, path);
	return config_validate_report_bad_type(
	    v, node, path, "a number, a string or an array");
}

/* Check the members of an object against a table; unknown ones are warned
 * about. required lists members that must be present (NULL-terminated). */
static int
config_validate_members(struct config_validate_ctx *v, const cJSON *node,
    const char *path, const struct config_validate_prop *props, size_t nprops,
    const char *const *required)
{
	const cJSON *item;
	char *sub;
	size_t i;
	int rc;

	if (!cJSON_IsObject(node))
		return config_validate_report_bad_type(v, node, path, "an object");
	cJSON_ArrayForEach(item, node) {
		sub = config_validate_report_member_path(path, item->string);
		for (i = 0; i < nprops; i++)
			if (strcmp(props[i].name, item->string) == 0)
				break;
		if (i == nprops) {
			config_validate_report_warn(v, item, "unknown property %s", sub);
			rc = 0;
		} else
			rc = props[i].check(v, item, sub);
		free(sub);
		if (rc != 0)
			return rc;
	}
	for (i = 0; required != NULL && required[i] != NULL; i++)
		if (!config_validate_has(node, required[i]))
			return config_validate_report_error(
			    v, node, path, "\"%s\" is missing", required[i]);
	return 0;
}

static int
config_validate_mount_type(
    struct config_validate_ctx *v, const cJSON *node, const char *path)
{
	if (!cJSON_IsString(node))
		return config_validate_report_bad_type(
		    v, node, path, "\"bind\" or \"volume\"");
	if (strcmp(node->valuestring, "bind") != 0 &&
	    strcmp(node->valuestring, "volume") != 0)
		config_validate_report_warn(v, node,
		    "%s: mount type \"%s\" is neither \"bind\" nor "
		    "\"volume\"",
		    path, node->valuestring);
	return 0;
}

static int
config_validate_mount(struct config_validate_ctx *v, const cJSON *node, const char *path)
{
	static const struct config_validate_prop props[] = {
		{ "type", config_validate_mount_type, K_ALL },
		{ "source", config_validate_string, K_ALL },
		{ "target", config_validate_string, K_ALL },
	};
	static const char *const required[] = { "type", "target", NULL };

	if (cJSON_IsString(node))
		return 0;
	if (!cJSON_IsObject(node))
		return config_validate_report_bad_type(
		    v, node, path, "a mount string or object");
	return config_validate_members(
	    v, node, path, props, sizeof props / sizeof props[0], required);
}

static int
config_validate_mounts(struct config_validate_ctx *v, const cJSON *node, const char *path)
{
	if (!cJSON_IsArray(node))
		return config_validate_report_bad_type(
		    v, node, path, "an array of mounts");
	return config_validate_each(v, node, path, config_validate_mount);
}

static int
config_validate_build(struct config_validate_ctx *v, const cJSON *node, const char *path)
{
	static const struct config_validate_prop props[] = {
		{ "dockerfile", config_validate_string, K_ALL },
		{ "context", config_validate_string, K_ALL },
		{ "target", config_validate_string, K_ALL },
		{ "args", config_validate_string_map, K_ALL },
		{ "cacheFrom", config_validate_string_or_array, K_ALL },
		{ "options", config_validate_string_array, K_ALL },
	};

	return config_validate_members(
	    v, node, path, props, sizeof props / sizeof props[0], NULL);
}

/* "4gb", "512mb", "1073741824": digits and an optional kb/mb/gb/tb unit. */
static int
config_validate_bytes(struct config_validate_ctx *v, const cJSON *node, const char *path)
{
	const char *s;
	size_t n;

	if (!cJSON_IsString(node))
		return config_validate_report_bad_type(
		    v, node, path, "a size string such as \"4gb\"");
	if (config_validate_has_variable(node))
		return 0;
	s = node->valuestring;
	n = strspn(s, "0123456789");
	if (n > 0 &&
	    (s[n] == '\0' ||
		(strchr("tgmk", s[n]) != NULL && s[n] != '\0' && s[n + 1] == 'b' &&
		    s[n + 2] == '\0')))
		return 0;
	return config_validate_report_bad_value(v, node, path,
	    "a size such as \"4gb\" "
	    "(digits, then optionally kb, mb, gb or tb)");
}

static int
config_validate_count(struct config_validate_ctx *v, const cJSON *node, const char *path)
{
	if (!config_validate_is_integer(node) || node->valuedouble < 1)
		return cJSON_IsNumber(node) ? config_validate_report_bad_value(v, node,
						  path, "an integer of at least 1")
					    : config_validate_report_bad_type(v, node,
						  path, "an integer of at least 1");
	return 0;
}

static int
config_validate_gpu(struct config_validate_ctx *v, const cJSON *node, const char *path)
{
	static const struct config_validate_prop props[] = {
		{ "cores", config_validate_count, K_ALL },
		{ "memory", config_validate_bytes, K_ALL },
	};

	if (cJSON_IsBool(node))
		return 0;
	if (cJSON_IsObject(node))
		return config_validate_members(
		    v, node, path, props, sizeof props / sizeof props[0], NULL);
	if (cJSON_IsString(node) &&
	    (strcmp(node->valuestring, "optional") == 0 ||
		config_validate_has_variable(node)))
		return 0;
	return config_validate_report_bad_value(
	    v, node, path, "true, false, \"optional\" or an object");
}

static int
config_validate_host_requirements(
    struct config_validate_ctx *v, const cJSON *node, const char *path)
{
	static const struct config_validate_prop props[] = {
		{ "cpus", config_validate_count, K_ALL },
		{ "memory", config_validate_bytes, K_ALL },
		{ "storage", config_validate_bytes, K_ALL },
		{ "gpu", config_validate_gpu, K_ALL },
	};

	return config_validate_members(
	    v, node, path, props, sizeof props / sizeof props[0], NULL);
}

static int
config_validate_on_auto_forward(
    struct config_validate_ctx *v, const cJSON *node, const char *path)
{
	static const char *const values[] = { "notify", "openBrowser", "openBrowserOnce",
		"openPreview", "silent", "ignore", NULL };

	return config_validate_enum(v, node, path, values);
}

static int
config_validate_protocol(
    struct config_validate_ctx *v, const cJSON *node, const char *path)
{
	static const char *const values[] = { "http", "https", NULL };

	return config_validate_enum(v, node, path, values);
}

static int
config_validate_port_attributes(
    struct config_validate_ctx *v, const cJSON *node, const char *path)
{
	static const struct config_validate_prop props[] = {
		{ "onAutoForward", config_validate_on_auto_forward, K_ALL },
		{ "elevateIfNeeded", config_validate_bool, K_ALL },
		{ "label", config_validate_string, K_ALL },
		{ "requireLocalPort", config_validate_bool, K_ALL },
		{ "protocol", config_validate_protocol, K_ALL },
	};

	return config_validate_members(
	    v, node, path, props, sizeof props / sizeof props[0], NULL);
}

static int
config_validate_ports_attributes(
    struct config_validate_ctx *v, const cJSON *node, const char *path)
{
	if (!cJSON_IsObject(node))
		return config_validate_report_bad_type(
		    v, node, path, "an object of port attributes");
	return config_validate_each(v, node, path, config_validate_port_attributes);
}

static int
config_validate_feature_options(
    struct config_validate_ctx *v, const cJSON *node, const char *path)
{
	if (cJSON_IsString(node) || cJSON_IsBool(node) || cJSON_IsObject(node))
		return 0;
	return config_validate_report_bad_type(v, node, path,
	    "a string, a boolean or an object of "
	    "options");
}

static int
config_validate_features(
    struct config_validate_ctx *v, const cJSON *node, const char *path)
{
	if (!cJSON_IsObject(node))
		return config_validate_report_bad_type(
		    v, node, path, "an object of features");
	return config_validate_each(v, node, path, config_validate_feature_options);
}

static int
config_validate_secret(struct config_validate_ctx *v, const cJSON *node, const char *path)
{
	static const struct config_validate_prop props[] = {
		{ "description", config_validate_string, K_ALL },
		{ "documentationUrl", config_validate_string, K_ALL },
	};

	return config_validate_members(
	    v, node, path, props, sizeof props / sizeof props[0], NULL);
}

static int
config_validate_secrets(
    struct config_validate_ctx *v, const cJSON *node, const char *path)
{
	if (!cJSON_IsObject(node))
		return config_validate_report_bad_type(
		    v, node, path, "an object of secrets");
	return config_validate_each(v, node, path, config_validate_secret);
}

/* Every top-level property of devcontainer.json and the kinds it applies to. */
static const struct config_validate_prop config_validate_top[] = {
	{ "$schema", config_validate_string, K_ALL },
	{ "name", config_validate_string, K_ALL },
	{ "image", config_validate_string, K_IMAGE },
	{ "build", config_validate_build, K_DOCKERFILE },
	{ "dockerFile", config_validate_string, K_DOCKERFILE },
	{ "context", config_validate_string, K_DOCKERFILE },
	{ "dockerComposeFile", config_validate_string_or_array, K_COMPOSE },
	{ "service", config_validate_string, K_COMPOSE },
	{ "runServices", config_validate_string_array, K_COMPOSE },
	{ "appPort", config_validate_app_port, K_NONCOMPOSE },
	{ "runArgs", config_validate_string_array, K_NONCOMPOSE },
	{ "workspaceMount", config_validate_string, K_NONCOMPOSE },
	{ "workspaceFolder", config_validate_string, K_ALL },
	{ "shutdownAction", config_validate_shutdown_action, K_ALL },
	{ "overrideCommand", config_validate_bool, K_ALL },
	{ "features", config_validate_features, K_ALL },
	{ "overrideFeatureInstallOrder", config_validate_string_array, K_ALL },
	{ "secrets", config_validate_secrets, K_ALL },
	{ "forwardPorts", config_validate_forward_ports, K_ALL },
	{ "portsAttributes", config_validate_ports_attributes, K_ALL },
	{ "otherPortsAttributes", config_validate_port_attributes, K_ALL },
	{ "updateRemoteUserUID", config_validate_bool, K_ALL },
	{ "containerEnv", config_validate_container_env, K_ALL },
	{ "containerUser", config_validate_string, K_ALL },
	{ "mounts", config_validate_mounts, K_ALL },
	{ "init", config_validate_bool, K_ALL },
	{ "privileged", config_validate_bool, K_ALL },
	{ "capAdd", config_validate_string_array, K_ALL },
	{ "securityOpt", config_validate_string_array, K_ALL },
	{ "remoteEnv", config_validate_env_map, K_ALL },
	{ "remoteUser", config_validate_string, K_ALL },
	{ "initializeCommand", config_validate_command, K_ALL },
	{ "onCreateCommand", config_validate_command, K_ALL },
	{ "updateContentCommand", config_validate_command, K_ALL },
	{ "postCreateCommand", config_validate_command, K_ALL },
	{ "postStartCommand", config_validate_command, K_ALL },
	{ "postAttachCommand", config_validate_command, K_ALL },
	{ "waitFor", config_validate_wait_for, K_ALL },
	{ "userEnvProbe", config_validate_user_env_probe, K_ALL },
	{ "hostRequirements", config_validate_host_requirements, K_ALL },
	{ "customizations", config_validate_object, K_ALL },
	{ "extensions", config_validate_string_array,
	    K_ALL },				       /* legacy: customizations.vscode */
	{ "settings", config_validate_object, K_ALL }, /* legacy: customizations.vscode */
	{ "devPort", config_validate_integer, K_ALL }, /* legacy: customizations.vscode */
};

static const struct config_validate_prop *
config_validate_top_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof config_validate_top / sizeof config_validate_top[0]; i++)
		if (strcmp(config_validate_top[i].name, name) == 0)
			return &config_validate_top[i];
	return NULL;
}

/* The edit distance of a and b (insertions, deletions, substitutions; case
 * not counted), at most 3: a typo's, not a rewrite's. */
static size_t
config_validate_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[64], prev, cur, i, j;

	if (la >= sizeof row || lb >= sizeof row || (la > lb ? la - lb : lb - la) > 3)
		return 3;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			cur = row[j];
			row[j] = prev +
			    (tolower((unsigned char)a[i - 1]) !=
				tolower((unsigned char)b[j - 1]));
			if (cur + 1 < row[j])
				row[j] = cur + 1;
			if (row[j - 1] + 1 < row[j])
				row[j] = row[j - 1] + 1;
			prev = cur;
		}
	}
	return row[lb] < 3 ? row[lb] : 3;
}

/* The known top-level property an unknown name is a typo of ("imagee",
 * "postCreatCommand", "forwardports"), or NULL. */
static const char *
config_validate_top_nearest(const char *name)
{
	const char *best = NULL;
	size_t d, best_d = 3;

	for (size_t i = 0; i < sizeof config_validate_top / sizeof config_validate_top[0];
	     i++) {
		d = config_validate_distance(name, config_validate_top[i].name);
		/* (two edits in a short name make any other short name) */
		if (d < best_d && d * 3 <= strlen(config_validate_top[i].name)) {
			best = config_validate_top[i].name;
			best_d = d;
		}
	}
	return best;
}

int
config_validate_property(
    struct config_validate_ctx *v, const cJSON *item, const char *path, int *known)
{
	const struct config_validate_prop *prop = config_validate_top_find(item->string);

	*known = prop != NULL;
	return prop != NULL ? prop->check(v, item, path) : 0;
}

/* Type-check one top-level property and warn if the kind ignores it. */
static int
config_validate_top_member(struct config_validate_ctx *v, const cJSON *item)
{
	const struct config_validate_prop *prop = config_validate_top_find(item->string);
	char *path = config_validate_report_member_path("", item->string);
	int rc = 0;

	if (prop == NULL && config_validate_top_nearest(item->string) != NULL)
		config_validate_report_warn(v, item,
		    "unknown property %s (did you mean \"%s\"?)", path,
		    config_validate_top_nearest(item->string));
	else if (prop == NULL)
		config_validate_report_warn(v, item, "unknown property %s", path);
	else if ((rc = prop->check(v, item, path)) == 0 && v->have_kind &&
	    (prop->kinds & (1u << v->kind)) == 0)
		config_validate_report_warn(v, item,
		    "%s is ignored in a configuration of kind %s", path,
		    config_kind_name(v->kind));
	free(path);
	return rc;
}

/* The variables substitution knows (config-subst.h); those that take a
 * variable name as their first argument say so. */
static const struct {
	const char *name;
	int wants_arg;
} config_validate_variables[] = {
	{ "env", 1 },
	{ "localEnv", 1 },
	{ "containerEnv", 1 },
	{ "localWorkspaceFolder", 0 },
	{ "localWorkspaceFolderBasename", 0 },
	{ "containerWorkspaceFolder", 0 },
	{ "containerWorkspaceFolderBasename", 0 },
	{ "devcontainerId", 0 },
};

/* How much of config_validate_vars_string() applies to a property. */
enum config_validate_vars_mode {
	/* Only the errors of the local pass, which runs over every
	 * property: customizations, Features' options, lifecycle commands. */
	CONFIG_VALIDATE_VARS_LOCAL,
	/* Those, and warnings about what is left as written. */
	CONFIG_VALIDATE_VARS_ALL,
	/* A property up runs the container pass over (remoteEnv, the ports):
	 * as ALL when the configuration is read (read-configuration, status
	 * and logs read it as the reference does), ... */
	CONFIG_VALIDATE_VARS_CONTAINER,
	/* ... and, for up (config_validate_up), only the error of a
	 * ${containerEnv} without a name, which that pass cannot resolve. */
	CONFIG_VALIDATE_VARS_UP,
};

/* Check each "${...}" in string node (at path). ${env} and ${localEnv}
 * without a name fail the substitution (the reference's "can not be
 * resolved" error, thrown without saying where: here it names the line and
 * the property), as ${containerEnv} does where up substitutes it. Warn
 * (mode ALL and CONTAINER) about what substitution leaves as written
 * because it is no variable it knows (${nope:X}, ${localenv:X}: names are
 * case-sensitive), names none (${containerEnv} elsewhere; ${localEnv:} and
 * ${env::dflt} are substituted: "" and the default) or is not closed
 * (${containerEnv:PATH): the reference CLI leaves them too, silently. A
 * variable is matched as config-subst.c matches it. 0, or -1 with the
 * error in *v->cause. */
static int
config_validate_vars_string(struct config_validate_ctx *v, const cJSON *node,
    const char *path, enum config_validate_vars_mode mode)
{
	const char *p = node->valuestring, *q, *colon;
	int warn =
	    mode == CONFIG_VALIDATE_VARS_ALL || mode == CONFIG_VALIDATE_VARS_CONTAINER;
	int known;
	size_t n, i;

	while ((p = strstr(p, "${")) != NULL) {
		q = p + 2 + strcspn(p + 2, "}\n\r");
		if (*q != '}') {
			if (warn)
				config_validate_report_warn(v, node,
				    "%s: unclosed variable %.*s left as written", path,
				    (int)(q - p > 40 ? 40 : q - p), p);
			p += 2;
			continue;
		}
		colon = memchr(p + 2, ':', (size_t)(q - p - 2));
		n = (size_t)((colon != NULL ? colon : q) - (p + 2));
		known = -1;
		for (i = 0; i < sizeof config_validate_variables /
			 sizeof config_validate_variables[0];
		     i++)
			if (strlen(config_validate_variables[i].name) == n &&
			    memcmp(config_validate_variables[i].name, p + 2, n) == 0)
				known = (int)i;
		if (known >= 0 && config_validate_variables[known].wants_arg &&
		    colon == NULL &&
		    (strcmp(config_validate_variables[known].name, "containerEnv") != 0
			    ? mode != CONFIG_VALIDATE_VARS_UP
			    : mode == CONFIG_VALIDATE_VARS_UP))
			return config_validate_report_error(v, node, path,
			    "'%.*s' can not be resolved because no environment "
			    "variable name is given (write ${%s:NAME})",
			    (int)(q + 1 - p), p, config_validate_variables[known].name);
		if (warn && known < 0)
			config_validate_report_warn(v, node,
			    "%s: unknown variable %.*s left as written", path,
			    (int)(q + 1 - p), p);
		else if (warn && config_validate_variables[known].wants_arg &&
		    colon == NULL)
			config_validate_report_warn(v, node,
			    "%s: variable %.*s names no variable: left as written", path,
			    (int)(q + 1 - p), p);
		p = q + 1;
	}
	return 0;
}

/* config_validate_vars_string over every string in node (at path). */
static int
config_validate_vars(struct config_validate_ctx *v, const cJSON *node, const char *path,
    enum config_validate_vars_mode mode)
{
	const cJSON *item;
	char *sub;
	int i = 0, rc;

	if (cJSON_IsString(node) && node->valuestring != NULL)
		return config_validate_vars_string(v, node, path, mode);
	cJSON_ArrayForEach(item, node) {
		sub = cJSON_IsObject(node)
		    ? config_validate_report_member_path(path, item->string)
		    : xasprintf("%s[%d]", path, i);
		rc = config_validate_vars(v, item, sub, mode);
		free(sub);
		if (rc != 0)
			return -1;
		i++;
	}
	return 0;
}

/* How config_validate_vars() checks the top-level property name. Those
 * whose "${...}" are someone else's are checked only for the local pass's
 * errors: the tools' customizations (VS Code substitutes
 * ${workspaceFolder} in its settings), Features' options (written to
 * devcontainer-features.env, which the shell sources) and the lifecycle
 * commands (the shell expands ${HOME} there). */
static enum config_validate_vars_mode
config_validate_vars_mode_of(const char *name)
{
	static const char *const skipped[] = { "customizations", "settings", "features",
		"initializeCommand", "onCreateCommand", "updateContentCommand",
		"postCreateCommand", "postStartCommand", "postAttachCommand", NULL };
	static const char *const container[] = { "remoteEnv", "forwardPorts",
		"portsAttributes", "otherPortsAttributes", NULL };

	for (int i = 0; skipped[i] != NULL; i++)
		if (strcmp(name, skipped[i]) == 0)
			return CONFIG_VALIDATE_VARS_LOCAL;
	for (int i = 0; container[i] != NULL; i++)
		if (strcmp(name, container[i]) == 0)
			return CONFIG_VALIDATE_VARS_CONTAINER;
	return CONFIG_VALIDATE_VARS_ALL;
}

int
config_validate_vars_up(struct config_validate_ctx *v, const cJSON *root)
{
	static const char *const container[] = { "remoteEnv", "forwardPorts",
		"portsAttributes", "otherPortsAttributes", NULL };
	const cJSON *item;
	char *path;
	int rc;

	for (int i = 0; container[i] != NULL; i++) {
		if ((item = cJSON_GetObjectItemCaseSensitive(root, container[i])) == NULL)
			continue;
		path = config_validate_report_member_path("", container[i]);
		rc = config_validate_vars(v, item, path, CONFIG_VALIDATE_VARS_UP);
		free(path);
		if (rc != 0)
			return -1;
	}
	return 0;
}

/* The orchestration's required companions. */
static int
config_validate_required(struct config_validate_ctx *v, const cJSON *root)
{
	static const char *const kinds[] = { "image", "build", "dockerFile",
		"dockerComposeFile", NULL };
	const cJSON *build = cJSON_GetObjectItemCaseSensitive(root, "build"), *item;
	const char *near;

	if (!v->have_kind) {
		/* ("imagee": its warning would not be seen) */
		cJSON_ArrayForEach(item, root) {
			if (config_validate_top_find(item->string) != NULL ||
			    (near = config_validate_top_nearest(item->string)) == NULL)
				continue;
			for (int i = 0; kinds[i] != NULL; i++)
				if (strcmp(near, kinds[i]) == 0)
					return config_validate_report_error_key(v, item,
					    "configuration",
					    "no container to run: unknown property "
					    "\"%s\" (did you mean \"%s\"?)",
					    item->string, near);
		}
		if (cJSON_IsObject(build))
			return config_validate_report_error(v, build, "\"build\"",
			    "\"dockerfile\" is "
			    "missing (and there is no \"image\" or "
			    "\"dockerComposeFile\")");
		return config_validate_report_error(v, root, "configuration",
		    "no container to run: "
		    "set \"image\", \"build\".\"dockerfile\" (or the legacy "
		    "\"dockerFile\") or \"dockerComposeFile\" with \"service\"");
	}
	if (v->kind == CONFIG_KIND_COMPOSE && !config_validate_has(root, "service"))
		return config_validate_report_error(v,
		    cJSON_GetObjectItemCaseSensitive(root, "dockerComposeFile"),
		    "\"dockerComposeFile\"",
		    "\"service\" is "
		    "missing (it names the container to work in)");
	return 0;
}

/* Warn about each member name given twice in one object: the earlier value
 * is dropped (as JSON.parse does), which is seldom what was meant. */
static void
config_validate_duplicates(struct config_validate_ctx *v)
{
	const struct jsonc_duplicate *d;
	size_t n;

	if (v->warnings == NULL)
		return;
	d = jsonc_doc_duplicates(v->doc, &n);
	for (size_t i = 0; i < n; i++)
		config_warnings_add(v->warnings,
		    "%s:%u:%u: duplicate property \"%s\": dropped for the one at "
		    "%u:%u",
		    jsonc_doc_name(v->doc), d[i].line, d[i].col, d[i].name,
		    d[i].later_line, d[i].later_col);
}

int
config_validate(const struct jsonc_doc *doc, enum config_kind *kind,
    struct config_warnings *warnings, char **cause)
{
	struct config_validate_ctx v;
	const cJSON *root = jsonc_doc_root(doc), *item;
	char *path;
	int rc;

	memset(&v, 0, sizeof v);
	v.doc = doc;
	v.warnings = warnings;
	v.cause = cause;
	if (!cJSON_IsObject(root))
		return config_validate_report_bad_type(
		    &v, root, "configuration", "an object");
	config_validate_duplicates(&v);
	v.have_kind = config_validate_kind(root, &v.kind) == 0;
	cJSON_ArrayForEach(item, root) {
		if (config_validate_top_member(&v, item) != 0)
			return -1;
		path = config_validate_report_member_path("", item->string);
		rc = config_validate_vars(
		    &v, item, path, config_validate_vars_mode_of(item->string));
		free(path);
		if (rc != 0)
			return -1;
	}
	if (config_validate_required(&v, root) != 0)
		return -1;
	*kind = v.kind;
	return 0;
}
