/* compose-override.c - the Compose override file, as JSON (see
 * compose-override.h). */
#include "compose-override.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config-merge.h"
#include "container-spec.h"
#include "error.h"
#include "mount-string.h"
#include "owner.h"
#include "xmalloc.h"

char *
compose_override_dollar(const char *s)
{
	struct buf *b = buf_new();
	char *out;

	for (const char *p = s; *p != '\0'; p++)
		buf_append(b, *p == '$' ? "$$" : p, *p == '$' ? 2 : 1);
	out = buf_take_string(b, NULL);
	buf_free(b);
	return out;
}

/* A scalar of a JSON value as JavaScript's String() would print it, or NULL
 * for objects and arrays. New string. */
static char *
compose_override_scalar(const cJSON *v)
{
	if (cJSON_IsString(v))
		return xstrdup(v->valuestring);
	if (cJSON_IsBool(v))
		return xstrdup(cJSON_IsTrue(v) ? "true" : "false");
	if (cJSON_IsNull(v))
		return xstrdup("null");
	if (cJSON_IsNumber(v))
		return cJSON_PrintUnformatted(v);
	return NULL;
}

/* A mount as the reference's parseMount() reads it: the fields it knows,
 * others ignored. */
struct compose_override_mount {
	char *type;
	char *source;
	char *target;
	int readonly;
	int external;
};

static void
compose_override_mount_clear(struct compose_override_mount *m)
{
	free(m->type);
	free(m->source);
	free(m->target);
	memset(m, 0, sizeof *m);
}

static int
compose_override_flag_true(const char *v)
{
	return v == NULL || *v == '\0' || strcmp(v, "true") == 0 || strcmp(v, "1") == 0;
}

/* Apply one key=value field of a mount string (key lowercased, value NULL
 * for a bare key) as the reference's parseMount() would; other keys mean
 * nothing to the override. */
static void
compose_override_mount_field(
    struct compose_override_mount *m, const char *key, const char *val)
{
	char **slot = NULL;

	if (strcmp(key, "type") == 0)
		slot = &m->type;
	else if (strcmp(key, "source") == 0 || strcmp(key, "src") == 0)
		slot = &m->source;
	else if (strcmp(key, "target") == 0 || strcmp(key, "destination") == 0 ||
	    strcmp(key, "dst") == 0)
		slot = &m->target;
	else if (strcmp(key, "readonly") == 0 || strcmp(key, "ro") == 0)
		m->readonly = compose_override_flag_true(val);
	else if (strcmp(key, "external") == 0)
		m->external = val != NULL && strcmp(val, "true") == 0;
	if (slot != NULL && val != NULL) {
		free(*slot);
		*slot = xstrdup(val);
		/* (docker reads "type=Volume" as a volume: so does op-down) */
		if (slot == &m->type)
			for (char *p = *slot; *p != '\0'; p++)
				*p = (char)tolower((unsigned char)*p);
	}
}

/* Read a mount string with the one parser of its syntax (mount-string.h:
 * quoted fields, keys in any case), so the override and docker see the same
 * fields. -1 with *cause when it does not parse. */
static int
compose_override_mount_string(
    const char *s, struct compose_override_mount *m, char **cause)
{
	char **fields, *key;
	const char *val;
	size_t i;
	int rc = 0;

	if ((fields = mount_string_split(s, MOUNT_STRING_LAX, cause)) == NULL)
		return -1;
	for (i = 0; fields[i] != NULL; i++) {
		if ((rc = mount_string_field(
			 fields[i], MOUNT_STRING_LAX, &key, &val, cause)) != 0)
			break;
		compose_override_mount_field(m, key, val);
		free(key);
	}
	mount_string_fields_free(fields);
	return rc;
}

/* A mount (string or object) into m; -1 with *cause (m cleared) when a
 * string does not parse or there is no target. */
static int
compose_override_mount_read(
    const cJSON *mount, struct compose_override_mount *m, char **cause)
{
	const cJSON *v;

	memset(m, 0, sizeof *m);
	if (cJSON_IsObject(mount)) {
		if (cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(mount, "type")))
			m->type = xstrdup(v->valuestring);
		if (cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(mount, "source")))
			m->source = xstrdup(v->valuestring);
		if (cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(mount, "target")))
			m->target = xstrdup(v->valuestring);
		m->readonly =
		    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(mount, "readonly"));
		v = cJSON_GetObjectItemCaseSensitive(mount, "external");
		m->external = cJSON_IsTrue(v) ||
		    (cJSON_IsString(v) && compose_override_flag_true(v->valuestring));
	} else if (cJSON_IsString(mount) &&
	    compose_override_mount_string(mount->valuestring, m, cause) != 0) {
		compose_override_mount_clear(m);
		return -1;
	}
	if (m->target == NULL || *m->target == '\0') {
		compose_override_mount_clear(m);
		return error_set(cause, "no target");
	}
	if (m->source != NULL && *m->source == '\0') {
		free(m->source);
		m->source = NULL;
	}
	return 0;
}

/* The value a service's entrypoint or command has in `compose config`: an
 * array of strings (a string is split into words), or NULL when not set. */
static cJSON *
compose_override_service_words(const cJSON *service, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(service, key), *e;
	cJSON *out;
	char *s;

	if (cJSON_IsString(v))
		return compose_override_split_words(v->valuestring);
	if (!cJSON_IsArray(v))
		return NULL;
	out = cJSON_CreateArray();
	cJSON_ArrayForEach(e, v) {
		if ((s = compose_override_scalar(e)) == NULL)
			continue;
		cJSON_AddItemToArray(out, cJSON_CreateString(s));
		free(s);
	}
	return out;
}

/* Append s to arr as a string, with '$' doubled when dollar. */
static void
compose_override_add_string(cJSON *arr, const char *s, int dollar)
{
	char *v = dollar ? compose_override_dollar(s) : xstrdup(s);

	cJSON_AddItemToArray(arr, cJSON_CreateString(v));
	free(v);
}

/* Append the strings of list to arr (other values are skipped). */
static void
compose_override_add_strings(cJSON *arr, const cJSON *list, int dollar)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, list) {
		if (cJSON_IsString(e))
			compose_override_add_string(arr, e->valuestring, dollar);
	}
}

/* Set key of obj to the string s with '$' doubled. */
static void
compose_override_set_string(cJSON *obj, const char *key, const char *s)
{
	char *v = compose_override_dollar(s);

	cJSON_AddStringToObject(obj, key, v);
	free(v);
}

/* Set key of obj to arr, or drop arr when it is empty. */
static void
compose_override_set_list(cJSON *obj, const char *key, cJSON *arr)
{
	if (cJSON_GetArraySize(arr) > 0)
		cJSON_AddItemToObject(obj, key, arr);
	else
		cJSON_Delete(arr);
}

/* A string list of the merged configuration (a string counts as a
 * one-element list, as JavaScript's spread of a string would not; the
 * reference's values are validated arrays). */
static cJSON *
compose_override_list(const cJSON *list)
{
	cJSON *out = cJSON_CreateArray();

	if (cJSON_IsString(list))
		compose_override_add_string(out, list->valuestring, 1);
	else
		compose_override_add_strings(out, list, 1);
	return out;
}

/* "KEY=VALUE" strings of an object's members (scalars only, as
 * compose_override_scalar() prints them). */
static cJSON *
compose_override_pairs(const cJSON *obj)
{
	cJSON *out = cJSON_CreateArray();
	const cJSON *e;
	char *s, *kv;

	cJSON_ArrayForEach(e, obj) {
		if (e->string == NULL || (s = compose_override_scalar(e)) == NULL)
			continue;
		kv = xasprintf("%s=%s", e->string, s);
		compose_override_add_string(out, kv, 1);
		free(kv);
		free(s);
	}
	return out;
}

/* entrypoint: the wrapper, then the service's or the image's entrypoint;
 * command: unless the service's own is kept. */
static void
compose_override_entrypoint(cJSON *svc, const struct compose_override_input *in)
{
	cJSON *svc_ep = compose_override_service_words(in->service_config, "entrypoint");
	cJSON *svc_cmd = compose_override_service_words(in->service_config, "command");
	const cJSON *img_ep =
	    cJSON_GetObjectItemCaseSensitive(in->image_config, "Entrypoint");
	const cJSON *img_cmd = cJSON_GetObjectItemCaseSensitive(in->image_config, "Cmd");
	cJSON *ep = cJSON_CreateArray(), *cmd;
	char *script;

	script = container_spec_entrypoint_script(
	    cJSON_GetObjectItemCaseSensitive(in->merged, "entrypoints"));
	compose_override_add_string(ep, "/bin/sh", 0);
	compose_override_add_string(ep, "-c", 0);
	compose_override_add_string(ep, script, 1);
	compose_override_add_string(ep, "-", 0);
	free(script);
	/* Values from `compose config` have their '$' escaped already. */
	if (!in->override_command) {
		if (svc_ep != NULL)
			compose_override_add_strings(ep, svc_ep, 0);
		else
			compose_override_add_strings(ep, img_ep, 1);
	}
	cJSON_AddItemToObject(svc, "entrypoint", ep);

	/* The reference writes command unless it keeps the service's own. */
	if (in->override_command || svc_cmd == NULL) {
		cmd = cJSON_CreateArray();
		if (!in->override_command && svc_ep == NULL)
			compose_override_add_strings(cmd, img_cmd, 1);
		cJSON_AddItemToObject(svc, "command", cmd);
	}
	cJSON_Delete(svc_ep);
	cJSON_Delete(svc_cmd);
}

char *
compose_override_volume_name(const cJSON *mount, const char *project)
{
	struct compose_override_mount m;
	char *name = NULL;

	if (compose_override_mount_read(mount, &m, NULL) == 0 && m.type != NULL &&
	    strcmp(m.type, "volume") == 0 && m.source != NULL && *m.source != '\0')
		name = m.external ? xstrdup(m.source)
				  : xasprintf("%s_%s", project, m.source);
	compose_override_mount_clear(&m);
	return name;
}

/* Declare a named volume once in named ({} or {"external": true}). */
static void
compose_override_named_volume(cJSON *named, const char *name, int external)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(named, name);

	if (v == NULL)
		v = cJSON_AddObjectToObject(named, name);
	if (external && cJSON_GetObjectItemCaseSensitive(v, "external") == NULL)
		cJSON_AddTrueToObject(v, "external");
}

/* mount (number i) read into m, or -1 with *cause naming it ("mounts[2]
 * TEXT: no target"; m cleared). */
static int
compose_override_mount_check(
    const cJSON *mount, int i, struct compose_override_mount *m, char **cause)
{
	char *text, *why = NULL;

	if (compose_override_mount_read(mount, m, &why) == 0)
		return 0;
	text = cJSON_IsString(mount) ? xstrdup(mount->valuestring)
				     : cJSON_PrintUnformatted(mount);
	error_set(cause, "mounts[%d] %s: %s", i, text, why);
	free(text);
	free(why);
	return -1;
}

int
compose_override_mounts_check(
    const cJSON *mounts, const cJSON *extra_mounts, char **cause)
{
	const cJSON *lists[2] = { mounts, extra_mounts }, *m;
	struct compose_override_mount cm;
	int i = 0;

	for (size_t l = 0; l < 2; l++) {
		cJSON_ArrayForEach(m, lists[l]) {
			if (compose_override_mount_check(m, i++, &cm, cause) != 0)
				return -1;
			compose_override_mount_clear(&cm);
		}
	}
	return 0;
}

/* volumes: of the service (mounts, then extra mounts) into svc, and the
 * named volumes for the top level into named. */
static int
compose_override_volumes(
    cJSON *svc, const struct compose_override_input *in, cJSON *named, char **cause)
{
	const cJSON *mounts = cJSON_GetObjectItemCaseSensitive(in->merged, "mounts"), *m;
	struct compose_override_mount cm;
	cJSON *all = cJSON_CreateArray(), *out = cJSON_CreateArray();
	char *text;
	int i = 0, rc = -1;

	/* (no workspaceMount: for Compose the reference mounts nothing, the
	 * service's own volumes: do) */
	cJSON_ArrayForEach(m, mounts)
		cJSON_AddItemToArray(all, cJSON_Duplicate(m, 1));
	cJSON_ArrayForEach(m, in->extra_mounts)
		cJSON_AddItemToArray(all, cJSON_Duplicate(m, 1));
	cJSON_ArrayForEach(m, all) {
		if (compose_override_mount_check(m, i, &cm, cause) != 0)
			goto out;
		i++;
		text = cm.source != NULL
		    ? xasprintf("%s:%s%s", cm.source, cm.target, cm.readonly ? ":ro" : "")
		    : xstrdup(cm.target);
		compose_override_add_string(out, text, 1);
		free(text);
		if (cm.type != NULL && strcmp(cm.type, "volume") == 0 &&
		    cm.source != NULL)
			compose_override_named_volume(named, cm.source, cm.external);
		compose_override_mount_clear(&cm);
	}
	compose_override_set_list(svc, "volumes", out);
	out = NULL;
	rc = 0;
out:
	cJSON_Delete(out);
	cJSON_Delete(all);
	return rc;
}

/* cJSON_Print's tabs (indentation, and one after each ':'; a tab in a
 * string is escaped) become spaces, and the code points YAML rejects or
 * reads as line breaks become \u escapes: JSON has them nowhere but in
 * strings. */
char *
compose_override_print(const cJSON *root)
{
	char *json = cJSON_Print(root), *out;
	const unsigned char *p = (const unsigned char *)json;
	struct buf *b = buf_new();
	unsigned cp;
	int n;

	for (; *p != '\0'; p += n) {
		n = 1;
		cp = 0;
		if (*p == '\t') {
			if (p > (const unsigned char *)json && p[-1] == ':')
				buf_append(b, " ", 1);
			else
				buf_append(b, "  ", 2);
			continue;
		}
		if (*p == 0x7f)
			cp = 0x7f;
		else if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			cp = p[1];
			n = 2;
		} else if (p[0] == 0xe2 && p[1] == 0x80 &&
		    (p[2] == 0xa8 || p[2] == 0xa9)) {
			cp = p[2] == 0xa8 ? 0x2028 : 0x2029;
			n = 3;
		} else if (p[0] == 0xef && p[1] == 0xbf &&
		    (p[2] == 0xbe || p[2] == 0xbf)) {
			cp = p[2] == 0xbe ? 0xfffe : 0xffff;
			n = 3;
		}
		if (cp != 0)
			buf_appendf(b, "\\u%04x", cp);
		else
			buf_append(b, p, 1);
	}
	out = buf_take_string(b, NULL);
	buf_free(b);
	free(json);
	return out;
}

/* limitContainers: the service's cpus and mem_limit from the merged
 * hostRequirements (what container_spec_limit gives a plain container). */
static void
compose_override_limit(cJSON *svc, const cJSON *merged)
{
	const cJSON *hr = cJSON_GetObjectItemCaseSensitive(merged, "hostRequirements");
	const cJSON *cpus = cJSON_GetObjectItemCaseSensitive(hr, "cpus");
	double memory =
	    config_merge_parse_bytes(cJSON_GetObjectItemCaseSensitive(hr, "memory"));

	if (cJSON_IsNumber(cpus) && cpus->valuedouble > 0)
		cJSON_AddNumberToObject(svc, "cpus", cpus->valuedouble);
	if (memory > 0)
		cJSON_AddNumberToObject(svc, "mem_limit", memory);
}

/* The owner labels of in->labels on each other service of in->services. */
static void
compose_override_owners(cJSON *services, const struct compose_override_input *in)
{
	/* (not the client's user@machine: a label that changes with the
	 * machine the same user comes from would change the service's Compose
	 * config hash, and Compose would recreate it) */
	static const char *const names[] = { OWNER_UID_LABEL, OWNER_NAME_LABEL, NULL };
	const cJSON *e, *v;
	cJSON *owner = cJSON_CreateObject();

	for (const char *const *n = names; *n != NULL; n++)
		if ((v = cJSON_GetObjectItemCaseSensitive(in->labels, *n)) != NULL &&
		    cJSON_IsString(v))
			cJSON_AddStringToObject(owner, *n, v->valuestring);
	if (cJSON_GetArraySize(owner) > 0)
		cJSON_ArrayForEach(e, in->services) {
			if (e->string == NULL || strcmp(e->string, in->service) == 0 ||
			    cJSON_GetObjectItemCaseSensitive(services, e->string) != NULL)
				continue;
			compose_override_set_list(
			    cJSON_AddObjectToObject(services, e->string), "labels",
			    compose_override_pairs(owner));
		}
	cJSON_Delete(owner);
}

char *
compose_override_generate(const struct compose_override_input *in, char **cause)
{
	const cJSON *merged = in->merged, *v;
	cJSON *root = cJSON_CreateObject(), *named = cJSON_CreateObject(), *svc;
	char *out = NULL;

	if (in->version != NULL)
		cJSON_AddStringToObject(root, "version", in->version);
	/* Keys are not interpolated by Compose: no '$' doubling. */
	svc = cJSON_AddObjectToObject(
	    cJSON_AddObjectToObject(root, "services"), in->service);
	if (in->image != NULL)
		compose_override_set_string(svc, "image", in->image);
	compose_override_entrypoint(svc, in);
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(merged, "init")))
		cJSON_AddTrueToObject(svc, "init");
	v = cJSON_GetObjectItemCaseSensitive(merged, "containerUser");
	if (cJSON_IsString(v) && *v->valuestring != '\0')
		compose_override_set_string(svc, "user", v->valuestring);
	compose_override_set_list(svc, "environment",
	    compose_override_pairs(
		cJSON_GetObjectItemCaseSensitive(merged, "containerEnv")));
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(merged, "privileged")))
		cJSON_AddTrueToObject(svc, "privileged");
	compose_override_set_list(svc, "cap_add",
	    compose_override_list(cJSON_GetObjectItemCaseSensitive(merged, "capAdd")));
	compose_override_set_list(svc, "security_opt",
	    compose_override_list(
		cJSON_GetObjectItemCaseSensitive(merged, "securityOpt")));
	compose_override_set_list(svc, "labels", compose_override_pairs(in->labels));
	if (in->limit)
		compose_override_limit(svc, merged);
	if (compose_override_volumes(svc, in, named, cause) != 0)
		goto out;
	compose_override_owners(cJSON_GetObjectItemCaseSensitive(root, "services"), in);
	if (cJSON_GetArraySize(named) > 0) {
		cJSON_AddItemToObject(root, "volumes", named);
		named = NULL;
	}
	out = compose_override_print(root);
out:
	cJSON_Delete(named);
	cJSON_Delete(root);
	return out;
}

cJSON *
compose_override_split_words(const char *s)
{
	cJSON *out = cJSON_CreateArray();
	struct buf *w = buf_new();
	const char *p = s;
	int in_word = 0;
	char *word;

	for (;;) {
		if (*p == '\0' || *p == ' ' || *p == '\t' || *p == '\n') {
			if (in_word) {
				word = buf_take_string(w, NULL);
				buf_free(w);
				cJSON_AddItemToArray(out, cJSON_CreateString(word));
				free(word);
				w = buf_new();
				in_word = 0;
			}
			if (*p == '\0')
				break;
			p++;
			continue;
		}
		in_word = 1;
		if (*p == '\'') {
			for (p++; *p != '\0' && *p != '\''; p++)
				buf_append(w, p, 1);
			if (*p == '\'')
				p++;
		} else if (*p == '"') {
			for (p++; *p != '\0' && *p != '"'; p++) {
				if (*p == '\\' && p[1] != '\0' &&
				    strchr("$`\"\\\n", p[1]) != NULL)
					p++;
				buf_append(w, p, 1);
			}
			if (*p == '"')
				p++;
		} else if (*p == '\\' && p[1] != '\0') {
			buf_append(w, p + 1, 1);
			p += 2;
		} else
			buf_append(w, p++, 1);
	}
	buf_free(w);
	return out;
}
