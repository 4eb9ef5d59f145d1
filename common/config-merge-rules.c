/* config-merge-rules.c - how each property of the spec's merge table is
 * merged over a list of metadata entries: any, last wins, collected, union,
 * Object.assign, customizations per tool, mounts by target, forwardPorts and
 * hostRequirements (see config-merge.h for the rules; config-merge.c puts the
 * results together).
 */

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "config-merge-internal.h"
#include "config-merge.h"
#include "xmalloc.h"

/* A property of an object, or NULL (undefined) for anything else. */
static const cJSON *
config_merge_get(const cJSON *obj, const char *key)
{
	if (!cJSON_IsObject(obj))
		return NULL;
	return cJSON_GetObjectItemCaseSensitive(obj, key);
}

double
config_merge_parse_bytes(const cJSON *v)
{
	static const struct {
		char unit;
		double factor;
	} units[] = {
		{ 't', 1099511627776.0 },
		{ 'g', 1073741824.0 },
		{ 'm', 1048576.0 },
		{ 'k', 1024.0 },
	};
	char *s, *cp;
	double n = 0, factor = 1;
	size_t i;

	if (!config_merge_js_truthy(v))
		return 0;
	s = config_merge_js_string(v);
	for (cp = s; isdigit((unsigned char)*cp); cp++)
		n = n * 10 + (*cp - '0');
	if (cp == s)
		goto fail;
	if (*cp != '\0') {
		if (cp[1] != 'b' || cp[2] != '\0')
			goto fail;
		for (i = 0; i < sizeof units / sizeof units[0]; i++)
			if (units[i].unit == *cp)
				break;
		if (i == sizeof units / sizeof units[0])
			goto fail;
		factor = units[i].factor;
	}
	free(s);
	return n * factor;

fail:
	free(s);
	return 0;
}

/* true if any entry's key is truthy. */
cJSON *
config_merge_any(const cJSON *list, const char *key)
{
	const cJSON *entry;

	cJSON_ArrayForEach(entry, list) {
		if (config_merge_js_truthy(config_merge_get(entry, key)))
			return cJSON_CreateTrue();
	}
	return cJSON_CreateFalse();
}

/* The last truthy value of key (or, with want_bool, the last boolean). */
cJSON *
config_merge_last(const cJSON *list, const char *key, int want_bool)
{
	const cJSON *entry, *v;
	int i;

	for (i = cJSON_GetArraySize(list) - 1; i >= 0; i--) {
		entry = cJSON_GetArrayItem(list, i);
		v = config_merge_get(entry, key);
		if (want_bool ? cJSON_IsBool(v) : config_merge_js_truthy(v))
			return config_merge_js_copy(v);
	}
	return NULL;
}

/* Every truthy value of key, in order; NULL if none and !always. */
cJSON *
config_merge_collect(const cJSON *list, const char *key, int always)
{
	const cJSON *entry, *v;
	cJSON *out;

	out = cJSON_CreateArray();
	cJSON_ArrayForEach(entry, list) {
		v = config_merge_get(entry, key);
		if (config_merge_js_truthy(v))
			cJSON_AddItemToArray(out, config_merge_js_copy(v));
	}
	if (!always && out->child == NULL) {
		cJSON_Delete(out);
		return NULL;
	}
	return out;
}

/* Append to out the items [].concat() would take from v: an array's
 * elements, or v itself. */
static void
config_merge_concat(cJSON *out, const cJSON *v)
{
	const cJSON *child;

	if (cJSON_IsArray(v)) {
		cJSON_ArrayForEach(child, v)
			cJSON_AddItemToArray(out, config_merge_js_copy(child));
	} else
		cJSON_AddItemToArray(out, config_merge_js_copy(v));
}

/* Remove later duplicates from an array (a Set keeps first positions). */
static void
config_merge_dedupe(cJSON *array)
{
	cJSON *item, *next, *prev;

	for (item = array->child; item != NULL; item = next) {
		next = item->next;
		for (prev = array->child; prev != item; prev = prev->next) {
			if (config_merge_js_same(prev, item)) {
				cJSON_Delete(cJSON_DetachItemViaPointer(array, item));
				break;
			}
		}
	}
}

/* Union without duplicates of the truthy values of key (capAdd,
 * securityOpt); NULL if empty. */
cJSON *
config_merge_union(const cJSON *list, const char *key)
{
	const cJSON *entry, *v;
	cJSON *out;

	out = cJSON_CreateArray();
	cJSON_ArrayForEach(entry, list) {
		v = config_merge_get(entry, key);
		if (config_merge_js_truthy(v))
			config_merge_concat(out, v);
	}
	config_merge_dedupe(out);
	if (out->child == NULL) {
		cJSON_Delete(out);
		return NULL;
	}
	return out;
}

/* Object.assign({}, ...values of key): per property, last wins. */
cJSON *
config_merge_assign(const cJSON *list, const char *key)
{
	const cJSON *entry;
	cJSON *out, *props, *item;

	out = cJSON_CreateObject();
	cJSON_ArrayForEach(entry, list) {
		props = config_merge_js_props(config_merge_get(entry, key));
		if (props == NULL)
			continue;
		while ((item = props->child) != NULL) {
			cJSON_DetachItemViaPointer(props, item);
			config_merge_js_set(out, item->string, item);
		}
		cJSON_Delete(props);
	}
	return out;
}

/* {tool: [each entry's value for tool...]}; NULL if none. */
cJSON *
config_merge_customizations(const cJSON *list)
{
	const cJSON *entry;
	cJSON *out, *props, *item, *values;

	out = cJSON_CreateObject();
	cJSON_ArrayForEach(entry, list) {
		props = config_merge_js_props(config_merge_get(entry, "customizations"));
		if (props == NULL)
			continue;
		while ((item = props->child) != NULL) {
			cJSON_DetachItemViaPointer(props, item);
			values = cJSON_GetObjectItemCaseSensitive(out, item->string);
			if (values == NULL) {
				values = cJSON_CreateArray();
				config_merge_js_set(out, item->string, values);
			}
			cJSON_AddItemToArray(values, item);
		}
		cJSON_Delete(props);
	}
	if (out->child == NULL) {
		cJSON_Delete(out);
		return NULL;
	}
	return out;
}

/* The target of a mount string, as the reference's parseMount finds it:
 * comma-separated key=value pairs (src/source, dst/destination/target);
 * the last target pair wins. NULL (undefined) if there is none or it has no
 * value. */
static cJSON *
config_merge_mount_target(const char *mount)
{
	const char *seg, *end, *eq, *vend;
	char *key, *target = NULL;
	int have = 0;
	cJSON *out;

	for (seg = mount;; seg = end + 1) {
		end = strchr(seg, ',');
		if (end == NULL)
			end = seg + strlen(seg);
		eq = memchr(seg, '=', (size_t)(end - seg));
		key = xstrndup(seg, (size_t)((eq != NULL ? eq : end) - seg));
		if (strcmp(key, "target") == 0 || strcmp(key, "dst") == 0 ||
		    strcmp(key, "destination") == 0) {
			free(target);
			target = NULL;
			have = eq != NULL;
			if (have) {
				vend = memchr(eq + 1, '=', (size_t)(end - eq - 1));
				if (vend == NULL)
					vend = end;
				target = xstrndup(eq + 1, (size_t)(vend - eq - 1));
			}
		}
		free(key);
		if (*end == '\0')
			break;
	}
	if (!have)
		return NULL;
	out = cJSON_CreateString(target);
	free(target);
	return out;
}

/* All mounts in order; for each target only the last one stays. NULL if
 * none. */
cJSON *
config_merge_mounts(const cJSON *list)
{
	const cJSON *entry, *v, *t;
	cJSON *all, *item, *prev, **targets;
	int n, i, j, dup;

	all = cJSON_CreateArray();
	cJSON_ArrayForEach(entry, list) {
		v = config_merge_get(entry, "mounts");
		if (config_merge_js_truthy(v))
			config_merge_concat(all, v);
	}
	n = cJSON_GetArraySize(all);
	targets = xcalloc((size_t)n + 1, sizeof *targets);
	i = 0;
	for (item = all->child; item != NULL; item = item->next, i++) {
		if (cJSON_IsString(item))
			targets[i] = config_merge_mount_target(item->valuestring);
		else if (cJSON_IsObject(item)) {
			t = cJSON_GetObjectItemCaseSensitive(item, "target");
			if (t != NULL)
				targets[i] = config_merge_js_copy(t);
		}
	}
	/* From the end: drop a mount whose target a later one has. A null
	 * mount (the reference would crash on it) is dropped too. */
	for (i = n - 1; i >= 0; i--) {
		item = cJSON_GetArrayItem(all, i);
		dup = cJSON_IsNull(item);
		j = i + 1;
		for (prev = item->next; prev != NULL && !dup; prev = prev->next, j++) {
			if (!cJSON_IsNull(prev) &&
			    config_merge_js_same(targets[i], targets[j]))
				dup = 1;
		}
		if (dup) {
			/* Keep the indexes of later items valid. */
			cJSON_ReplaceItemInArray(all, i, cJSON_CreateNull());
		}
	}
	for (i = 0; i < n; i++)
		cJSON_Delete(targets[i]);
	free(targets);
	for (item = all->child; item != NULL; item = prev) {
		prev = item->next;
		if (cJSON_IsNull(item))
			cJSON_Delete(cJSON_DetachItemViaPointer(all, item));
	}
	if (all->child == NULL) {
		cJSON_Delete(all);
		return NULL;
	}
	return all;
}

/* Whether s contains /localhost:\d+/; *off gets the byte offset at which
 * JavaScript's s.substring(10) starts (counting UTF-16 units), -1 if that
 * falls inside a character. */
static int
config_merge_localhost_port(const char *s, int *off)
{
	const char *cp;
	const unsigned char *u;
	int units = 0;

	for (cp = s; (cp = strstr(cp, "localhost:")) != NULL; cp++)
		if (isdigit((unsigned char)cp[10]))
			break;
	if (cp == NULL)
		return 0;
	for (u = (const unsigned char *)s; *u != '\0' && units < 10;) {
		if (*u >= 0xf0) {
			units += 2;
			u += 4;
		} else if (*u >= 0xe0)
			units++, u += 3;
		else if (*u >= 0xc0)
			units++, u += 2;
		else
			units++, u++;
	}
	*off = units == 10 ? (int)((const char *)u - s) : -1;
	return 1;
}

/* Union of all ports: N and "localhost:N" are the same; first position
 * stays; "localhost:N" comes out as N. NULL if none. */
cJSON *
config_merge_forward_ports(const cJSON *list)
{
	const cJSON *entry, *v;
	cJSON *all, *item, *port;
	char *s, *num;
	int i, off;

	all = cJSON_CreateArray();
	cJSON_ArrayForEach(entry, list) {
		v = config_merge_get(entry, "forwardPorts");
		if (config_merge_js_truthy(v))
			config_merge_concat(all, v);
	}
	for (i = 0, item = all->child; item != NULL; item = item->next, i++) {
		if (!cJSON_IsNumber(item))
			continue;
		num = config_merge_js_number(item->valuedouble);
		s = xasprintf("localhost:%s", num);
		free(num);
		item = cJSON_CreateString(s);
		free(s);
		cJSON_ReplaceItemInArray(all, i, item);
	}
	config_merge_dedupe(all);
	for (i = 0, item = all->child; item != NULL; item = item->next, i++) {
		if (!cJSON_IsString(item) ||
		    !config_merge_localhost_port(item->valuestring, &off))
			continue;
		port = cJSON_CreateNumber(
		    off < 0 ? NAN : config_merge_js_parse_int(item->valuestring + off));
		cJSON_ReplaceItemInArray(all, i, port);
		item = port;
	}
	if (all->child == NULL) {
		cJSON_Delete(all);
		return NULL;
	}
	return all;
}

/* The reference's mergeGpuRequirements(a, b); consumes a, borrows b. */
static cJSON *
config_merge_gpu(cJSON *a, const cJSON *b)
{
	const cJSON *ao, *bo;
	cJSON *out;
	double cores, memory;
	char *s;

	if (a == NULL || cJSON_IsFalse(a)) {
		cJSON_Delete(a);
		return b != NULL ? config_merge_js_copy(b) : NULL;
	}
	if (b == NULL || cJSON_IsFalse(b))
		return a;
	if (cJSON_IsString(a) && strcmp(a->valuestring, "optional") == 0 &&
	    cJSON_IsString(b) && strcmp(b->valuestring, "optional") == 0)
		return a;
	ao = cJSON_IsObject(a) ? a : NULL;
	bo = cJSON_IsObject(b) ? b : NULL;
	cores = config_merge_js_max(config_merge_js_truthy(config_merge_get(ao, "cores"))
		? config_merge_js_to_number(config_merge_get(ao, "cores"))
		: 0,
	    config_merge_js_truthy(config_merge_get(bo, "cores"))
		? config_merge_js_to_number(config_merge_get(bo, "cores"))
		: 0);
	memory =
	    config_merge_js_max(config_merge_parse_bytes(config_merge_get(ao, "memory")),
		config_merge_parse_bytes(config_merge_get(bo, "memory")));
	out = cJSON_CreateObject();
	if (cores != 0 && !isnan(cores))
		cJSON_AddNumberToObject(out, "cores", cores);
	if (memory != 0 && !isnan(memory)) {
		s = config_merge_js_number(memory);
		cJSON_AddStringToObject(out, "memory", s);
		free(s);
	}
	cJSON_Delete(a);
	return out;
}

/* Max of each requirement; NULL unless one of them is set. */
cJSON *
config_merge_host_requirements(const cJSON *list)
{
	const cJSON *entry, *hr, *cpu;
	cJSON *out, *gpu = NULL;
	double cpus = -INFINITY, memory = -INFINITY, storage = -INFINITY;
	char *s;

	cJSON_ArrayForEach(entry, list) {
		hr = config_merge_get(entry, "hostRequirements");
		cpu = config_merge_get(hr, "cpus");
		cpus = config_merge_js_max(cpus,
		    config_merge_js_truthy(cpu) ? config_merge_js_to_number(cpu) : 0);
		memory = config_merge_js_max(
		    memory, config_merge_parse_bytes(config_merge_get(hr, "memory")));
		storage = config_merge_js_max(
		    storage, config_merge_parse_bytes(config_merge_get(hr, "storage")));
		gpu = config_merge_gpu(gpu, config_merge_get(hr, "gpu"));
	}
	/* With no entries cpus, memory and storage stay -Infinity, which is
	 * truthy: the reference then prints them (see config-merge.h). */
	if (!(cpus != 0 && !isnan(cpus)) && memory == 0 && storage == 0 &&
	    !config_merge_js_truthy(gpu)) {
		cJSON_Delete(gpu);
		return NULL;
	}
	out = cJSON_CreateObject();
	cJSON_AddNumberToObject(out, "cpus", cpus);
	if (memory != 0) {
		s = config_merge_js_number(memory);
		cJSON_AddStringToObject(out, "memory", s);
		free(s);
	}
	if (storage != 0) {
		s = config_merge_js_number(storage);
		cJSON_AddStringToObject(out, "storage", s);
		free(s);
	}
	if (gpu != NULL)
		cJSON_AddItemToObject(out, "gpu", gpu);
	return out;
}
