/* config-legacy.c - the legacy top-level extensions, settings and devPort
 * moved into customizations.vscode (config_update_legacy, config.h). Pure. */
#include "config.h"

#include <stdlib.h>

#include "xmalloc.h"

/* An object member, created empty if missing or not an object. */
static cJSON *
config_child_object(cJSON *parent, const char *name)
{
	cJSON *child = cJSON_GetObjectItemCaseSensitive(parent, name);

	if (cJSON_IsObject(child))
		return child;
	child = cJSON_CreateObject();
	if (child == NULL)
		fatal("out of memory");
	if (cJSON_HasObjectItem(parent, name))
		cJSON_ReplaceItemInObjectCaseSensitive(parent, name, child);
	else
		cJSON_AddItemToObject(parent, name, child);
	return child;
}

/* JavaScript truthiness of a JSON value (missing is falsy). */
static int
config_truthy(const cJSON *v)
{
	if (v == NULL || cJSON_IsNull(v) || cJSON_IsFalse(v))
		return 0;
	if (cJSON_IsNumber(v))
		return v->valuedouble != 0 && v->valuedouble == v->valuedouble;
	if (cJSON_IsString(v))
		return v->valuestring[0] != '\0';
	return 1;
}

/* vscode.extensions = (vscode.extensions || []).concat(extensions). */
static void
config_legacy_extensions(cJSON *vscode, cJSON *extensions)
{
	cJSON *list = cJSON_GetObjectItemCaseSensitive(vscode, "extensions");
	cJSON *item;

	if (!config_truthy(list)) {
		cJSON_DeleteItemFromObjectCaseSensitive(vscode, "extensions");
		list = cJSON_AddArrayToObject(vscode, "extensions");
	} else if (!cJSON_IsArray(list)) {
		item = cJSON_DetachItemFromObjectCaseSensitive(vscode, "extensions");
		list = cJSON_AddArrayToObject(vscode, "extensions");
		cJSON_AddItemToArray(list, item);
	}
	if (cJSON_IsArray(extensions)) {
		while ((item = cJSON_DetachItemFromArray(extensions, 0)) != NULL)
			cJSON_AddItemToArray(list, item);
		cJSON_Delete(extensions);
	} else
		cJSON_AddItemToArray(list, extensions);
}

/* vscode.settings = { ...settings, ...(vscode.settings || {}) }. */
static void
config_legacy_settings(cJSON *vscode, cJSON *settings)
{
	cJSON *old = cJSON_GetObjectItemCaseSensitive(vscode, "settings");
	cJSON *item;
	char *key;

	if (!cJSON_IsObject(settings)) {
		cJSON_Delete(settings);
		settings = cJSON_CreateObject();
	}
	if (cJSON_IsObject(old)) {
		/* A key both have keeps its place in settings (JS spread). */
		while ((item = old->child) != NULL) {
			cJSON_DetachItemViaPointer(old, item);
			/* The key is copied: replacing frees item->string. */
			key = xstrdup(item->string);
			if (cJSON_HasObjectItem(settings, key))
				cJSON_ReplaceItemInObjectCaseSensitive(
				    settings, key, item);
			else
				cJSON_AddItemToObject(settings, key, item);
			free(key);
		}
	}
	/* An existing key keeps its place in vscode. */
	if (old != NULL)
		cJSON_ReplaceItemInObjectCaseSensitive(vscode, "settings", settings);
	else
		cJSON_AddItemToObject(vscode, "settings", settings);
}

void
config_update_legacy(cJSON *config)
{
	cJSON *vscode, *devport;

	if (!config_truthy(cJSON_GetObjectItemCaseSensitive(config, "extensions")) &&
	    !config_truthy(cJSON_GetObjectItemCaseSensitive(config, "settings")) &&
	    !cJSON_HasObjectItem(config, "devPort"))
		return;
	vscode =
	    config_child_object(config_child_object(config, "customizations"), "vscode");
	if (config_truthy(cJSON_GetObjectItemCaseSensitive(config, "extensions")))
		config_legacy_extensions(vscode,
		    cJSON_DetachItemFromObjectCaseSensitive(config, "extensions"));
	if (config_truthy(cJSON_GetObjectItemCaseSensitive(config, "settings")))
		config_legacy_settings(
		    vscode, cJSON_DetachItemFromObjectCaseSensitive(config, "settings"));
	devport = cJSON_GetObjectItemCaseSensitive(config, "devPort");
	if (devport != NULL && !cJSON_HasObjectItem(vscode, "devPort"))
		cJSON_AddItemToObject(
		    vscode, "devPort", cJSON_DetachItemViaPointer(config, devport));
}
