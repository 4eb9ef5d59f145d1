/* labels.c - the labels every dev container carries (labels.h). */
#include "labels.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config-merge.h"
#include "config-subst.h"
#include "config.h"
#include "env-probe.h"
#include "error.h"
#include "host-policy.h"
#include "host-usage.h"
#include "owner.h"
#include "up-opts.h"
#include "image.h"
#include "xmalloc.h"

cJSON *
labels_make(const struct config *cfg, const char *config_hash, const char *metadata_label,
    const cJSON *image_entries)
{
	cJSON *labels = cJSON_CreateObject(), *ports;
	const cJSON *entry;
	struct passwd *pw = getpwuid(getuid());
	char uid[32], count[16], *name, *text;
	const char *eq;
	int n_entries;

	/* As the reference: the id labels (--id-label's replace the default
	 * two), a later NAME winning. */
	for (char *const *l = config_get_id_labels(cfg); *l != NULL; l++) {
		eq = strchr(*l, '=');
		name = xstrndup(*l, eq != NULL ? (size_t)(eq - *l) : strlen(*l));
		cJSON_DeleteItemFromObjectCaseSensitive(labels, name);
		cJSON_AddStringToObject(labels, name, eq != NULL ? eq + 1 : "");
		free(name);
	}
	cJSON_AddStringToObject(labels, CONFIG_METADATA_LABEL, metadata_label);
	ports = config_merge_ports_of_entries(image_entries);
	if ((text = cJSON_PrintUnformatted(ports)) == NULL)
		fatal("%s: out of memory", __func__);
	cJSON_AddStringToObject(labels, LABELS_IMAGE_PORTS, text);
	cJSON_free(text);
	cJSON_Delete(ports);
	/* (the entries the label keeps: an empty object is left out of it,
	 * config_merge_entry_list's rule, so it must not be counted) */
	n_entries = 0;
	if (cJSON_IsArray(image_entries))
		cJSON_ArrayForEach(entry, image_entries)
			if (cJSON_IsObject(entry) && entry->child != NULL)
				n_entries++;
	snprintf(count, sizeof count, "%d", n_entries);
	cJSON_AddStringToObject(labels, LABELS_IMAGE_ENTRIES, count);
	snprintf(uid, sizeof uid, "%u", (unsigned)getuid());
	cJSON_AddStringToObject(labels, OWNER_UID_LABEL, uid);
	cJSON_AddStringToObject(labels, OWNER_NAME_LABEL, pw != NULL ? pw->pw_name : uid);
	cJSON_AddStringToObject(labels, LABELS_CONFIG_HASH, config_hash);
	cJSON_AddStringToObject(labels, "dev.rdev.version", RDEV_VERSION);
	cJSON_AddStringToObject(
	    labels, "dev.rdev.devcontainer_id", config_get_devcontainer_id(cfg));
	return labels;
}

int
labels_image_entry_count(const cJSON *container, const cJSON *entries)
{
	const char *text = image_label(container, LABELS_IMAGE_ENTRIES);
	int n = cJSON_GetArraySize(entries);
	char *end;
	long v;

	if (text != NULL) {
		errno = 0;
		v = strtol(text, &end, 10);
		if (errno == 0 && end != text && *end == '\0' && v >= 0)
			return v < n ? (int)v : n;
	}
	if (n > 0 &&
	    !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(
		cJSON_GetArrayItem(entries, n - 1), "id")))
		n--;
	return n;
}

cJSON *
labels_image_ports(const cJSON *container)
{
	const char *text = image_label(container, LABELS_IMAGE_PORTS);
	cJSON *v;

	if (text == NULL)
		return NULL;
	if ((v = cJSON_Parse(text)) != NULL && !cJSON_IsObject(v)) {
		cJSON_Delete(v);
		v = NULL;
	}
	return v;
}

cJSON *
labels_subst(const struct config *cfg, cJSON *raw, char **container_env, char **cause)
{
	struct config_subst_ctx ctx = *config_get_subst_ctx(cfg);
	cJSON *subst, *again = NULL;

	ctx.devcontainer_id = config_get_devcontainer_id(cfg);
	ctx.container_env = env_lookup;
	ctx.container_env_arg = container_env;
	if ((subst = config_subst_checked(raw, &ctx, cause)) != NULL)
		again = config_subst_late(subst, NULL, env_lookup, container_env, cause);
	cJSON_Delete(raw);
	cJSON_Delete(subst);
	return again;
}

int
labels_image_ports_subst(const struct config *cfg, const cJSON *container,
    char **container_env, cJSON **ports, char **cause)
{
	cJSON *raw = labels_image_ports(container);

	*ports = NULL;
	if (raw == NULL)
		return 0;
	if ((*ports = labels_subst(cfg, raw, container_env, cause)) == NULL)
		return -1;
	return 0;
}

/* The ports properties of obj (a configuration or merged configuration)
 * with ${containerEnv:...} from container_env, into a new object holding
 * only those obj has; the rest of obj is not looked at, so a variable
 * elsewhere (a lifecycle command's) is no error here. NULL with *cause
 * naming where and the property. */
static cJSON *
labels_ports_of(const cJSON *obj, char **container_env, const char *where, char **cause)
{
	static const char *const keys[] = { "forwardPorts", "portsAttributes",
		"otherPortsAttributes" };
	cJSON *out = cJSON_CreateObject(), *v;
	const cJSON *item;

	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		if ((item = cJSON_GetObjectItemCaseSensitive(obj, keys[i])) == NULL)
			continue;
		v = config_subst_late(item, NULL, env_lookup, container_env, cause);
		if (v == NULL) {
			cJSON_Delete(out);
			error_prefix(cause, "%s: %s", where, keys[i]);
			return NULL;
		}
		cJSON_AddItemToObject(out, keys[i], v);
	}
	return out;
}

int
labels_ports(const struct config *cfg, const cJSON *image_raw, const cJSON *merged,
    char **container_env, cJSON **ports, char **cause)
{
	cJSON *image = NULL, *m = NULL, *conf = NULL;
	int rc = -1;

	*ports = NULL;
	/* The configuration first, so that its own mistake names its file
	 * (merged holds its ports too). */
	if ((conf = labels_ports_of(config_get_object(cfg), container_env,
		 config_get_file(cfg), cause)) == NULL)
		goto out;
	if (image_raw != NULL &&
	    (image = labels_subst(
		 cfg, cJSON_Duplicate(image_raw, 1), container_env, cause)) == NULL) {
		error_prefix(cause, "the image's metadata (%s)", LABELS_IMAGE_PORTS);
		goto out;
	}
	if ((m = labels_ports_of(merged, container_env, "the image's metadata", cause)) ==
	    NULL)
		goto out;
	*ports = config_merge_ports(m, conf, image);
	rc = 0;
out:
	cJSON_Delete(image);
	cJSON_Delete(m);
	cJSON_Delete(conf);
	return rc;
}

int
labels_ports_check(
    const struct config *cfg, const cJSON *entries, const cJSON *merged, char **cause)
{
	cJSON *raw = config_merge_ports_of_entries(entries), *ports = NULL;
	int rc = labels_ports(cfg, raw, merged, NULL, &ports, cause);

	cJSON_Delete(raw);
	cJSON_Delete(ports);
	return rc;
}

/* labels[name] = hostRequirements' key when it is a positive amount (cpus
 * a number, memory and storage a decimal string of bytes, as merged). */
static void
labels_add_amount(cJSON *labels, const char *name, const cJSON *hr, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(hr, key);
	double d = cJSON_IsNumber(v) ? v->valuedouble : config_merge_parse_bytes(v);
	char buf[64];

	if (!(d > 0))
		return;
	snprintf(buf, sizeof buf, "%.0f", d);
	if (cJSON_IsNumber(v) && d != (double)(long long)d)
		snprintf(buf, sizeof buf, "%g", d);
	cJSON_DeleteItemFromObjectCaseSensitive(labels, name);
	cJSON_AddStringToObject(labels, name, buf);
}

void
labels_add_placement(cJSON *labels, const struct up_opts *opts, const cJSON *merged)
{
	const cJSON *hr = cJSON_GetObjectItemCaseSensitive(merged, "hostRequirements");
	char *client =
	    opts->client != NULL ? xstrdup(opts->client) : owner_client_default();

	if (opts->host_id != NULL) {
		cJSON_DeleteItemFromObjectCaseSensitive(labels, HOST_POLICY_HOST_LABEL);
		cJSON_AddStringToObject(labels, HOST_POLICY_HOST_LABEL, opts->host_id);
	}
	cJSON_DeleteItemFromObjectCaseSensitive(labels, OWNER_CLIENT_LABEL);
	cJSON_AddStringToObject(labels, OWNER_CLIENT_LABEL, client);
	free(client);
	labels_add_amount(labels, HOST_USAGE_CPUS_LABEL, hr, "cpus");
	labels_add_amount(labels, HOST_USAGE_MEMORY_LABEL, hr, "memory");
	labels_add_amount(labels, HOST_USAGE_STORAGE_LABEL, hr, "storage");
}

void
labels_add_git_root(cJSON *labels, int no_git_root, int common_dir)
{
	/* (always written: the container's own value hides one its image
	 * carries, as a committed dev container's image does) */
	cJSON_DeleteItemFromObjectCaseSensitive(labels, LABELS_NO_GIT_ROOT);
	cJSON_AddStringToObject(
	    labels, LABELS_NO_GIT_ROOT, no_git_root ? "false" : "true");
	cJSON_DeleteItemFromObjectCaseSensitive(labels, LABELS_COMMON_DIR);
	cJSON_AddStringToObject(labels, LABELS_COMMON_DIR, common_dir ? "true" : "false");
}

int
labels_no_git_root(const cJSON *container)
{
	const char *v = image_label(container, LABELS_NO_GIT_ROOT);

	return v != NULL && strcmp(v, "false") == 0;
}

/* The candidate id labels of labels (labels_id_labels_of()), less those
 * image_labels (may be NULL) has with the same value, hashed: that array when
 * its hash is id, else NULL. */
static char **
labels_id_labels_try(const cJSON *labels, const cJSON *image_labels, const char *id)
{
	const cJSON *l, *same;
	char **v = xcalloc((size_t)cJSON_GetArraySize(labels) + 1, sizeof *v), *hash;
	size_t n = 0;

	cJSON_ArrayForEach(l, labels) {
		if (!cJSON_IsString(l) || strncmp(l->string, "dev.rdev.", 9) == 0 ||
		    strcmp(l->string, "devcontainer.metadata") == 0 ||
		    strncmp(l->string, "com.docker.compose.", 19) == 0)
			continue;
		same = cJSON_GetObjectItemCaseSensitive(image_labels, l->string);
		if (cJSON_IsString(same) &&
		    strcmp(same->valuestring, l->valuestring) == 0)
			continue;
		v[n++] = xasprintf("%s=%s", l->string, l->valuestring);
	}
	hash = n > 0 ? config_devcontainer_id_labels(v) : NULL;
	if (hash == NULL || strcmp(hash, id) != 0) {
		config_id_labels_free(v);
		v = NULL;
	}
	free(hash);
	return v;
}

char **
labels_id_labels_of(const cJSON *labels, const cJSON *image_labels)
{
	const cJSON *id =
	    cJSON_GetObjectItemCaseSensitive(labels, "dev.rdev.devcontainer_id");
	char **v;

	if (!cJSON_IsString(id))
		return NULL;
	if (image_labels != NULL &&
	    (v = labels_id_labels_try(labels, image_labels, id->valuestring)) != NULL)
		return v;
	return labels_id_labels_try(labels, NULL, id->valuestring);
}

int
labels_common_dir(const cJSON *container)
{
	const char *v = image_label(container, LABELS_COMMON_DIR);

	return v != NULL && strcmp(v, "true") == 0;
}

void
labels_note_changed(
    const cJSON *container, const char *config_hash, const struct progress *p)
{
	const char *hash = image_label(container, LABELS_CONFIG_HASH);
	int has_ports = image_label(container, LABELS_IMAGE_PORTS) != NULL;

	if (hash != NULL && strcmp(hash, config_hash) != 0)
		progress_line(p,
		    "The configuration changed since container %.12s was "
		    "created; using it as it is (%srun up with --rebuild to "
		    "recreate it%s)",
		    cJSON_GetStringValue(
			cJSON_GetObjectItemCaseSensitive(container, "Id")),
		    has_ports ? "its forwardPorts and portsAttributes are taken as "
				"they are now; "
			      : "",
		    has_ports ? " with the rest" : "");
}
