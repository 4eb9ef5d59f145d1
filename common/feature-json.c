/* feature-json.c - devcontainer-feature.json and a Feature's options (see
 * feature-json.h). */
#include "feature-json.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config-merge-internal.h"
#include "config-validate-internal.h"
#include "error.h"
#include "json-get.h"
#include "xmalloc.h"

struct feature_json {
	struct jsonc_doc *doc;
};

/* The properties a Feature shares with devcontainer.json, checked there. */
static const char *const feature_json_shared[] = { "containerEnv", "mounts", "init",
	"privileged", "capAdd", "securityOpt", "onCreateCommand", "updateContentCommand",
	"postCreateCommand", "postStartCommand", "postAttachCommand", "customizations" };

/* The Feature's own string properties. */
static const char *const feature_json_strings[] = { "id", "version", "name",
	"description", "documentationURL", "licenseURL", "entrypoint", "currentId" };

static int
feature_json_in(const char *name, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i], name) == 0)
			return 1;
	return 0;
}

static int
feature_json_string_array(
    struct config_validate_ctx *v, const cJSON *node, const char *path)
{
	const cJSON *e;
	int i = 0;

	if (!cJSON_IsArray(node))
		return config_validate_report_bad_type(
		    v, node, path, "an array of strings");
	cJSON_ArrayForEach(e, node) {
		if (!cJSON_IsString(e)) {
			char *p = xasprintf("%s[%d]", path, i);
			int rc = config_validate_report_bad_type(v, e, p, "a string");

			free(p);
			return rc;
		}
		i++;
	}
	return 0;
}

/* One option: {"type": "string"|"boolean", "default", "proposals", "enum"}. */
static int
feature_json_check_option(
    struct config_validate_ctx *v, const cJSON *opt, const char *path)
{
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(opt, "type"), *def, *e;
	char *p;
	int is_bool, rc = 0;

	if (!cJSON_IsObject(opt))
		return config_validate_report_bad_type(v, opt, path, "an object");
	if (type == NULL)
		return config_validate_report_error_key(
		    v, opt, path, "\"type\" is missing (\"string\" or \"boolean\")");
	p = config_validate_report_member_path(path, "type");
	if (!cJSON_IsString(type) ||
	    (strcmp(type->valuestring, "string") != 0 &&
		strcmp(type->valuestring, "boolean") != 0))
		rc = config_validate_report_bad_value(
		    v, type, p, "\"string\" or \"boolean\"");
	free(p);
	if (rc != 0)
		return rc;
	is_bool = strcmp(type->valuestring, "boolean") == 0;
	if ((def = cJSON_GetObjectItemCaseSensitive(opt, "default")) != NULL &&
	    (is_bool ? !cJSON_IsBool(def) : !cJSON_IsString(def))) {
		p = config_validate_report_member_path(path, "default");
		rc = config_validate_report_bad_type(
		    v, def, p, is_bool ? "a boolean" : "a string");
		free(p);
		return rc;
	}
	cJSON_ArrayForEach(e, opt) {
		if (strcmp(e->string, "proposals") != 0 && strcmp(e->string, "enum") != 0)
			continue;
		p = config_validate_report_member_path(path, e->string);
		rc = feature_json_string_array(v, e, p);
		free(p);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int
feature_json_check_member(struct config_validate_ctx *v, const cJSON *item)
{
	char *path = config_validate_report_member_path("", item->string), *p;
	const cJSON *e;
	int rc = 0, known;

	if (feature_json_in(item->string, feature_json_strings,
		sizeof feature_json_strings / sizeof feature_json_strings[0])) {
		if (!cJSON_IsString(item))
			rc = config_validate_report_bad_type(v, item, path, "a string");
	} else if (feature_json_in(item->string, feature_json_shared,
		       sizeof feature_json_shared / sizeof feature_json_shared[0]))
		rc = config_validate_property(v, item, path, &known);
	else if (strcmp(item->string, "installsAfter") == 0 ||
	    strcmp(item->string, "legacyIds") == 0 ||
	    strcmp(item->string, "keywords") == 0)
		rc = feature_json_string_array(v, item, path);
	else if (strcmp(item->string, "options") == 0 ||
	    strcmp(item->string, "dependsOn") == 0) {
		if (!cJSON_IsObject(item))
			rc = config_validate_report_bad_type(v, item, path, "an object");
		cJSON_ArrayForEach(e, item) {
			if (rc != 0)
				break;
			p = config_validate_report_member_path(path, e->string);
			if (strcmp(item->string, "options") == 0)
				rc = feature_json_check_option(v, e, p);
			else if (!cJSON_IsObject(e) && !cJSON_IsString(e) &&
			    !cJSON_IsBool(e))
				rc = config_validate_report_bad_type(v, e, p,
				    "a string, a boolean or an object of options");
			free(p);
		}
	}
	free(path);
	return rc;
}

struct feature_json *
feature_json_parse(const char *name, const char *text, size_t len, char **cause)
{
	struct config_validate_ctx v;
	struct feature_json *fj;
	const cJSON *root, *item;

	fj = xcalloc(1, sizeof *fj);
	if ((fj->doc = jsonc_parse(name, text, len, cause)) == NULL)
		goto fail;
	memset(&v, 0, sizeof v);
	v.doc = fj->doc;
	v.cause = cause;
	root = jsonc_doc_root(fj->doc);
	if (!cJSON_IsObject(root)) {
		config_validate_report_bad_type(&v, root, "Feature", "an object");
		goto fail;
	}
	cJSON_ArrayForEach(item, root) {
		if (feature_json_check_member(&v, item) != 0)
			goto fail;
	}
	if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(root, "id"))) {
		config_validate_report_error(&v, root, "Feature", "\"id\" is missing");
		goto fail;
	}
	return fj;
fail:
	feature_json_free(fj);
	return NULL;
}

void
feature_json_free(struct feature_json *fj)
{
	if (fj == NULL)
		return;
	jsonc_doc_free(fj->doc);
	free(fj);
}

const cJSON *
feature_json_root(const struct feature_json *fj)
{
	return jsonc_doc_root(fj->doc);
}

const char *
feature_json_id(const struct feature_json *fj)
{
	return cJSON_GetObjectItemCaseSensitive(feature_json_root(fj), "id")->valuestring;
}

/* The value an install gets for given value of an option declared with
 * decl: given itself (a copy), or, as the reference passes every value on
 * as ${value}, the string "true"/"false" for a boolean option taken as that
 * boolean and a number for a string option taken as its digits (JavaScript's
 * Number.prototype.toString(): 18 -> "18"), each with a warning. Anything
 * else of the wrong type is an error; so is a string outside the "enum". */
static cJSON *
feature_json_option_value(const cJSON *decl, const cJSON *given, const char *where,
    const char *name, struct config_warnings *warnings, char **cause)
{
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(decl, "type");
	const cJSON *en = cJSON_GetObjectItemCaseSensitive(decl, "enum"), *e;
	int is_bool = strcmp(type->valuestring, "boolean") == 0;
	cJSON *value = NULL;
	struct buf *b;
	char *list, *s;

	if (is_bool ? cJSON_IsBool(given) : cJSON_IsString(given))
		value = cJSON_Duplicate(given, 1);
	else if (is_bool && cJSON_IsString(given) &&
	    (strcmp(given->valuestring, "true") == 0 ||
		strcmp(given->valuestring, "false") == 0)) {
		value = cJSON_CreateBool(strcmp(given->valuestring, "true") == 0);
		if (warnings != NULL)
			config_warnings_add(warnings,
			    "%s: option \"%s\": the string \"%s\" for a "
			    "boolean option, taken as %s (write %s)",
			    where, name, given->valuestring, given->valuestring,
			    given->valuestring);
	} else if (!is_bool && cJSON_IsNumber(given)) {
		s = config_merge_js_number(given->valuedouble);
		value = cJSON_CreateString(s);
		if (warnings != NULL)
			config_warnings_add(warnings,
			    "%s: option \"%s\": the number %s for a string "
			    "option, taken as \"%s\" (write \"%s\")",
			    where, name, s, s, s);
		free(s);
	} else {
		error_set(cause, "%s: option \"%s\": expected %s, got %s", where, name,
		    is_bool ? "a boolean" : "a string", json_type_name(given));
		return NULL;
	}
	if (value == NULL)
		fatal("out of memory");
	if (is_bool || en == NULL)
		return value; /* "proposals" only suggest */
	cJSON_ArrayForEach(e, en)
		if (strcmp(e->valuestring, value->valuestring) == 0)
			return value;
	b = buf_new();
	cJSON_ArrayForEach(e, en)
		buf_appendf(b, "%s\"%s\"", buf_len(b) > 0 ? ", " : "", e->valuestring);
	list = buf_take_string(b, NULL);
	buf_free(b);
	error_set(cause, "%s: option \"%s\": \"%s\" is not one of %s", where, name,
	    value->valuestring, list);
	free(list);
	cJSON_Delete(value);
	return NULL;
}

cJSON *
feature_json_options(const struct feature_json *fj, const cJSON *given, const char *where,
    struct config_warnings *warnings, char **cause)
{
	const cJSON *decls =
	    cJSON_GetObjectItemCaseSensitive(feature_json_root(fj), "options");
	const cJSON *d, *g, *def;
	cJSON *out = cJSON_CreateObject(), *version = NULL, *value;

	if (out == NULL)
		fatal("out of memory");
	cJSON_ArrayForEach(d, decls)
		if ((def = cJSON_GetObjectItemCaseSensitive(d, "default")) != NULL)
			cJSON_AddItemToObject(out, d->string, cJSON_Duplicate(def, 1));
	/* As the reference: a string is the "version" option, when there is
	 * one (otherwise the defaults). true or false asks for the defaults:
	 * the reference gives it to "version" too (VERSION="true" in
	 * devcontainer-features.env), which no install.sh takes for a version;
	 * a deliberate difference (docs/STATUS.md). */
	if (cJSON_IsString(given) && cJSON_HasObjectItem(decls, "version")) {
		version = cJSON_CreateObject();
		cJSON_AddItemToObject(version, "version", cJSON_Duplicate(given, 1));
		given = version;
	}
	if (!cJSON_IsObject(given))
		given = NULL;
	cJSON_ArrayForEach(g, given) {
		if ((d = cJSON_GetObjectItemCaseSensitive(decls, g->string)) == NULL) {
			error_set(cause,
			    "%s: unknown option \"%s\" (the Feature \"%s\" has %s)",
			    where, g->string, feature_json_id(fj),
			    decls != NULL && decls->child != NULL ? "other options"
								  : "no options");
			goto fail;
		}
		if ((value = feature_json_option_value(
			 d, g, where, g->string, warnings, cause)) == NULL)
			goto fail;
		if (cJSON_HasObjectItem(out, g->string))
			cJSON_ReplaceItemInObjectCaseSensitive(out, g->string, value);
		else
			cJSON_AddItemToObject(out, g->string, value);
	}
	cJSON_Delete(version);
	return out;
fail:
	cJSON_Delete(version);
	cJSON_Delete(out);
	return NULL;
}

char *
feature_json_env_name(const char *option)
{
	char *s = xstrdup(option), *p;
	size_t lead;

	for (p = s; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && *p != '_')
			*p = '_';
	lead = strspn(s, "0123456789_");
	if (lead > 0) {
		memmove(s + 1, s + lead, strlen(s + lead) + 1);
		s[0] = '_';
	}
	for (p = s; *p != '\0'; p++)
		*p = (char)toupper((unsigned char)*p);
	return s;
}

char *
feature_json_env_file(const cJSON *options)
{
	struct buf *b = buf_new();
	const cJSON *o;
	const char *v;
	char *name, *s;

	cJSON_ArrayForEach(o, options) {
		name = feature_json_env_name(o->string);
		v = cJSON_IsString(o) ? o->valuestring
		    : cJSON_IsTrue(o) ? "true"
				      : "false";
		buf_appendf(b, "%s=\"", name);
		for (; *v != '\0'; v++) {
			if (strchr("\"\\$`", *v) != NULL)
				buf_append(b, "\\", 1);
			buf_append(b, v, 1);
		}
		buf_append(b, "\"\n", 2);
		free(name);
	}
	s = buf_take_string(b, NULL);
	buf_free(b);
	return s;
}

/* The names of an object, sorted (strcmp); a new array of borrowed
 * items. */
static const cJSON **
feature_json_sorted(const cJSON *obj, int *n)
{
	const cJSON **v, *e, *t;

	*n = cJSON_GetArraySize(obj);
	v = xreallocarray(NULL, (size_t)*n + 1, sizeof *v);
	*n = 0;
	cJSON_ArrayForEach(e, obj)
		v[(*n)++] = e;
	for (int i = 1; i < *n; i++)
		for (int j = i; j > 0 && strcmp(v[j - 1]->string, v[j]->string) > 0;
		     j--) {
			t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	return v;
}

int
feature_json_options_compare(const cJSON *a, const cJSON *b)
{
	const cJSON **ka, **kb;
	int na, nb, rc = 0;

	ka = feature_json_sorted(a, &na);
	kb = feature_json_sorted(b, &nb);
	if (na != nb)
		rc = na - nb;
	for (int i = 0; rc == 0 && i < na; i++) {
		if ((rc = strcmp(ka[i]->string, kb[i]->string)) != 0)
			break;
		if (cJSON_IsString(ka[i]) && cJSON_IsString(kb[i]))
			rc = strcmp(ka[i]->valuestring, kb[i]->valuestring);
		else if (cJSON_IsBool(ka[i]) && cJSON_IsBool(kb[i]))
			rc = cJSON_IsTrue(ka[i]) - cJSON_IsTrue(kb[i]);
	}
	free(ka);
	free(kb);
	return rc;
}
