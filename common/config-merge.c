/* config-merge.c - image metadata entries and the spec's merge table.
 *
 * Which properties each source contributes to the image metadata, the list
 * of entries that take part, and the merged configuration with its
 * properties in the reference's order (mergeConfiguration). How each
 * property is merged is in config-merge-rules.c; the JavaScript semantics
 * both lean on are in config-merge-js.c.
 */

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config-merge-internal.h"
#include "config-merge.h"
#include "error.h"
#include "xmalloc.h"

/* Properties a devcontainer.json contributes (pickConfigProperties). */
static const char *const config_merge_pick_config[] = { "onCreateCommand",
	"updateContentCommand", "postCreateCommand", "postStartCommand",
	"postAttachCommand", "waitFor", "customizations", "mounts", "containerEnv",
	"containerUser", "init", "privileged", "capAdd", "securityOpt", "remoteUser",
	"userEnvProbe", "remoteEnv", "overrideCommand", "portsAttributes",
	"otherPortsAttributes", "forwardPorts", "shutdownAction", "updateRemoteUserUID",
	"hostRequirements", NULL };

/* Properties kept up to date on an existing container. */
static const char *const config_merge_pick_updateable[] = { "remoteUser", "userEnvProbe",
	"remoteEnv", NULL };

/* Properties a feature contributes (pickFeatureProperties). */
static const char *const config_merge_pick_feature[] = { "onCreateCommand",
	"updateContentCommand", "postCreateCommand", "postStartCommand",
	"postAttachCommand", "init", "privileged", "capAdd", "securityOpt", "entrypoint",
	"mounts", "customizations", NULL };

/* Config properties the merged output replaces (replaceProperties). */
static const char *const config_merge_replaced[] = { "customizations", "entrypoint",
	"onCreateCommand", "updateContentCommand", "postCreateCommand",
	"postStartCommand", "postAttachCommand", "shutdownAction", NULL };

/* The lifecycle hooks and the merged arrays they become. */
static const char *const config_merge_hooks[][2] = {
	{ "onCreateCommand", "onCreateCommands" },
	{ "updateContentCommand", "updateContentCommands" },
	{ "postCreateCommand", "postCreateCommands" },
	{ "postStartCommand", "postStartCommands" },
	{ "postAttachCommand", "postAttachCommands" },
};

/* Set obj[key], or delete it when val is NULL (undefined). */
static void
config_merge_put(cJSON *obj, const char *key, cJSON *val)
{
	if (val == NULL)
		cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
	else
		config_merge_js_set(obj, key, val);
}

/* The metadata entries that take part: a new array of JS-normalized copies
 * of the object entries of entries (may be NULL) followed by extra (may be
 * NULL, consumed), leaving out empty objects. */
static cJSON *
config_merge_entry_list(const cJSON *entries, cJSON *extra)
{
	const cJSON *entry, *array;
	cJSON *list;

	list = cJSON_CreateArray();
	if (list == NULL)
		fatal("%s: out of memory", __func__);
	array = cJSON_IsArray(entries) ? entries : NULL;
	cJSON_ArrayForEach(entry, array) {
		if (cJSON_IsObject(entry) && entry->child != NULL)
			cJSON_AddItemToArray(list, config_merge_js_copy(entry));
	}
	if (extra != NULL) {
		if (cJSON_IsObject(extra) && extra->child != NULL)
			cJSON_AddItemToArray(list, extra);
		else
			cJSON_Delete(extra);
	}
	return list;
}

/* A new object with the listed properties of obj, in the list's order. */
static cJSON *
config_merge_pick(const cJSON *obj, const char *const *keys)
{
	const cJSON *child, *item;
	cJSON *out;

	out = cJSON_CreateObject();
	if (out == NULL)
		fatal("%s: out of memory", __func__);
	if (!cJSON_IsObject(obj))
		return out;
	/* Copy only what is picked; with duplicate keys the last value is the
	 * one JavaScript sees. */
	for (; *keys != NULL; keys++) {
		item = NULL;
		cJSON_ArrayForEach(child, obj) {
			if (child->string != NULL && strcmp(child->string, *keys) == 0)
				item = child;
		}
		if (item != NULL)
			config_merge_js_set(out, *keys, config_merge_js_copy(item));
	}
	return out;
}

/* mergeConfiguration(config, list) for a normalized entry list. */
static cJSON *
config_merge_list(const cJSON *list, const cJSON *config)
{
	cJSON *out;
	size_t i;

	if (cJSON_IsObject(config))
		out = config_merge_js_copy(config);
	else
		out = cJSON_CreateObject();
	if (out == NULL)
		fatal("%s: out of memory", __func__);
	for (i = 0; config_merge_replaced[i] != NULL; i++)
		cJSON_DeleteItemFromObjectCaseSensitive(out, config_merge_replaced[i]);

	config_merge_put(out, "init", config_merge_any(list, "init"));
	config_merge_put(out, "privileged", config_merge_any(list, "privileged"));
	config_merge_put(out, "capAdd", config_merge_union(list, "capAdd"));
	config_merge_put(out, "securityOpt", config_merge_union(list, "securityOpt"));
	config_merge_put(out, "entrypoints", config_merge_collect(list, "entrypoint", 0));
	config_merge_put(out, "mounts", config_merge_mounts(list));
	config_merge_put(out, "customizations", config_merge_customizations(list));
	for (i = 0; i < sizeof config_merge_hooks / sizeof config_merge_hooks[0]; i++) {
		config_merge_put(out, config_merge_hooks[i][1],
		    config_merge_collect(list, config_merge_hooks[i][0], 1));
	}
	config_merge_put(out, "waitFor", config_merge_last(list, "waitFor", 0));
	config_merge_put(out, "remoteUser", config_merge_last(list, "remoteUser", 0));
	config_merge_put(
	    out, "containerUser", config_merge_last(list, "containerUser", 0));
	config_merge_put(out, "userEnvProbe", config_merge_last(list, "userEnvProbe", 0));
	config_merge_put(out, "remoteEnv", config_merge_assign(list, "remoteEnv"));
	config_merge_put(out, "containerEnv", config_merge_assign(list, "containerEnv"));
	config_merge_put(
	    out, "overrideCommand", config_merge_last(list, "overrideCommand", 1));
	config_merge_put(
	    out, "portsAttributes", config_merge_assign(list, "portsAttributes"));
	config_merge_put(out, "otherPortsAttributes",
	    config_merge_last(list, "otherPortsAttributes", 0));
	config_merge_put(out, "forwardPorts", config_merge_forward_ports(list));
	config_merge_put(
	    out, "shutdownAction", config_merge_last(list, "shutdownAction", 0));
	config_merge_put(out, "updateRemoteUserUID",
	    config_merge_last(list, "updateRemoteUserUID", 1));
	config_merge_put(out, "hostRequirements", config_merge_host_requirements(list));
	return out;
}

cJSON *
config_merge_ports_of_entries(const cJSON *entries)
{
	cJSON *list, *out, *pa, *other, *fp;

	list = config_merge_entry_list(entries, NULL);
	out = cJSON_CreateObject();
	if (out == NULL)
		fatal("%s: out of memory", __func__);
	/* (always, [] for none: a label without it was written before rdev
	 * recorded forwardPorts, and is not known: config_merge_ports) */
	if ((fp = config_merge_forward_ports(list)) == NULL)
		fp = cJSON_CreateArray();
	cJSON_AddItemToObject(out, "forwardPorts", fp);
	pa = config_merge_assign(list, "portsAttributes");
	if (pa->child != NULL)
		cJSON_AddItemToObject(out, "portsAttributes", pa);
	else
		cJSON_Delete(pa);
	if ((other = config_merge_last(list, "otherPortsAttributes", 0)) != NULL)
		cJSON_AddItemToObject(out, "otherPortsAttributes", other);
	cJSON_Delete(list);
	return out;
}

/* config's portsAttributes and otherPortsAttributes into merged (an object)
 * over what it has, or over image's when image is given: config_merge_ports()
 * says how. */
static void
config_merge_ports_attributes(cJSON *merged, const cJSON *config, const cJSON *image)
{
	const cJSON *own = cJSON_GetObjectItemCaseSensitive(config, "portsAttributes");
	const cJSON *other =
	    cJSON_GetObjectItemCaseSensitive(config, "otherPortsAttributes");
	const cJSON *v;
	cJSON *pa, *copy, *e;

	/* What the image gave, as a new container's merge starts from: the
	 * keys the configuration had when the container was made and has no
	 * more go (an image's own stay, with the image's value). */
	if (cJSON_IsObject(image)) {
		cJSON_DeleteItemFromObjectCaseSensitive(merged, "portsAttributes");
		v = cJSON_GetObjectItemCaseSensitive(image, "portsAttributes");
		cJSON_AddItemToObject(merged, "portsAttributes",
		    cJSON_IsObject(v) ? config_merge_js_copy(v) : cJSON_CreateObject());
		cJSON_DeleteItemFromObjectCaseSensitive(merged, "otherPortsAttributes");
		v = cJSON_GetObjectItemCaseSensitive(image, "otherPortsAttributes");
		if (config_merge_js_truthy(v))
			cJSON_AddItemToObject(
			    merged, "otherPortsAttributes", config_merge_js_copy(v));
	}
	if (cJSON_IsObject(own)) {
		pa = cJSON_GetObjectItemCaseSensitive(merged, "portsAttributes");
		if (!cJSON_IsObject(pa)) {
			cJSON_DeleteItemFromObjectCaseSensitive(
			    merged, "portsAttributes");
			pa = cJSON_AddObjectToObject(merged, "portsAttributes");
		}
		/* Object.assign's order, as the merge's: a replaced key keeps
		 * its place, a port goes among the ports (the order breaks ties
		 * between keys of one port: forward_port_attributes) */
		copy = config_merge_js_copy(own);
		while ((e = copy->child) != NULL) {
			cJSON_DetachItemViaPointer(copy, e);
			config_merge_js_set(pa, e->string, e);
		}
		cJSON_Delete(copy);
	}
	if (other != NULL && (image == NULL || config_merge_js_truthy(other))) {
		cJSON_DeleteItemFromObjectCaseSensitive(merged, "otherPortsAttributes");
		cJSON_AddItemToObject(
		    merged, "otherPortsAttributes", cJSON_Duplicate(other, 1));
	}
}

/* {"forwardPorts": a copy of fp} onto list, when fp is given. */
static void
config_merge_ports_entry(cJSON *list, const cJSON *fp)
{
	cJSON *entry;

	if (fp == NULL)
		return;
	if ((entry = cJSON_CreateObject()) == NULL)
		fatal("%s: out of memory", __func__);
	cJSON_AddItemToObject(entry, "forwardPorts", cJSON_Duplicate(fp, 1));
	cJSON_AddItemToArray(list, entry);
}

cJSON *
config_merge_ports(const cJSON *merged, const cJSON *config, const cJSON *image)
{
	static const char *const keys[] = { "portsAttributes", "otherPortsAttributes" };
	const cJSON *v;
	cJSON *out = cJSON_CreateObject(), *list, *fp;

	if (out == NULL)
		fatal("%s: out of memory", __func__);
	/* forwardPorts: the union a new container's merge would make, of the
	 * image's (what it was made with when not known) and config's */
	list = cJSON_CreateArray();
	if (list == NULL)
		fatal("%s: out of memory", __func__);
	v = cJSON_GetObjectItemCaseSensitive(image, "forwardPorts");
	if (v == NULL)
		v = cJSON_GetObjectItemCaseSensitive(merged, "forwardPorts");
	config_merge_ports_entry(list, v);
	config_merge_ports_entry(
	    list, cJSON_GetObjectItemCaseSensitive(config, "forwardPorts"));
	if ((fp = config_merge_forward_ports(list)) != NULL)
		cJSON_AddItemToObject(out, "forwardPorts", fp);
	cJSON_Delete(list);
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		if ((v = cJSON_GetObjectItemCaseSensitive(merged, keys[i])) != NULL)
			cJSON_AddItemToObject(out, keys[i], cJSON_Duplicate(v, 1));
	}
	config_merge_ports_attributes(out, config, image);
	return out;
}

cJSON *
config_metadata_parse(const char *label_value, char **cause)
{
	const char *end = NULL;
	cJSON *root, *out, *entry;

	out = cJSON_CreateArray();
	if (out == NULL)
		fatal("%s: out of memory", __func__);
	if (label_value == NULL || *config_merge_js_skip_space(label_value) == '\0')
		return out;
	root = cJSON_ParseWithOpts(label_value, &end, 1);
	if (root == NULL) {
		error_set(cause, "image label %s: invalid JSON at offset %zu",
		    CONFIG_METADATA_LABEL,
		    end != NULL ? (size_t)(end - label_value) : (size_t)0);
		cJSON_Delete(out);
		return NULL;
	}
	if (cJSON_IsObject(root))
		cJSON_AddItemToArray(out, config_merge_js_copy(root));
	else if (cJSON_IsArray(root)) {
		/* Entries that are not objects contribute nothing: the
		 * reference skips them and merges the others. */
		cJSON_ArrayForEach(entry, root) {
			if (cJSON_IsObject(entry))
				cJSON_AddItemToArray(out, config_merge_js_copy(entry));
		}
	} else {
		error_set(cause, "image label %s: not a JSON array or object",
		    CONFIG_METADATA_LABEL);
		cJSON_Delete(root);
		cJSON_Delete(out);
		return NULL;
	}
	cJSON_Delete(root);
	return out;
}

cJSON *
config_metadata_from_config(const cJSON *config)
{
	return config_merge_pick(config, config_merge_pick_config);
}

cJSON *
config_metadata_updateable_from_config(const cJSON *config)
{
	return config_merge_pick(config, config_merge_pick_updateable);
}

cJSON *
config_metadata_from_feature(const cJSON *feature, const char *id)
{
	cJSON *picked, *out, *item;

	out = cJSON_CreateObject();
	if (out == NULL)
		fatal("%s: out of memory", __func__);
	if (id != NULL)
		cJSON_AddStringToObject(out, "id", id);
	picked = config_merge_pick(feature, config_merge_pick_feature);
	while ((item = picked->child) != NULL) {
		cJSON_DetachItemViaPointer(picked, item);
		config_merge_js_set(out, item->string, item);
	}
	cJSON_Delete(picked);
	return out;
}

cJSON *
config_merge_entries(const cJSON *entries, const cJSON *config)
{
	cJSON *list, *out;

	list = config_merge_entry_list(entries, NULL);
	out = config_merge_list(list, config);
	cJSON_Delete(list);
	return out;
}

cJSON *
config_merge(const cJSON *metadata, const cJSON *config)
{
	cJSON *list, *out;

	list = config_merge_entry_list(metadata, config_metadata_from_config(config));
	out = config_merge_list(list, config);
	cJSON_Delete(list);
	return out;
}

char *
config_metadata_label(const cJSON *metadata, const cJSON *config)
{
	const cJSON *entry;
	struct buf *b;
	cJSON *list;
	char *s;

	list = config_merge_entry_list(metadata, config_metadata_from_config(config));
	if (list->child == NULL) {
		cJSON_Delete(list);
		return xstrdup("[]");
	}
	/* The reference writes one entry per Dockerfile line, joined by
	 * line continuations, which leave "[ {...}, {...} ]". */
	b = buf_new();
	buf_append(b, "[", 1);
	cJSON_ArrayForEach(entry, list) {
		s = cJSON_PrintUnformatted(entry);
		if (s == NULL)
			fatal("%s: out of memory", __func__);
		buf_appendf(b, "%s %s", entry == list->child ? "" : ",", s);
		cJSON_free(s);
	}
	buf_append(b, " ]", 2);
	cJSON_Delete(list);
	s = buf_take_string(b, NULL);
	buf_free(b);
	return s;
}
