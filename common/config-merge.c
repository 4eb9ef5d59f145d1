/* config-merge.c - image metadata entries and the spec's merge table.
 *
 * The reference implementation is JavaScript, and its merge leans on
 * JavaScript semantics (truthiness, Set equality, Math.max's number
 * conversion, Object.assign, property order). The small config_merge_js_*
 * helpers below reproduce just enough of those semantics on cJSON trees to
 * give the same output for the same input, including ill-typed input.
 */

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config-merge.h"
#include "error.h"
#include "xmalloc.h"

/* Properties a devcontainer.json contributes (pickConfigProperties). */
static const char *const config_merge_pick_config[] = {
	"onCreateCommand", "updateContentCommand", "postCreateCommand",
	"postStartCommand", "postAttachCommand", "waitFor", "customizations",
	"mounts", "containerEnv", "containerUser", "init", "privileged",
	"capAdd", "securityOpt", "remoteUser", "userEnvProbe", "remoteEnv",
	"overrideCommand", "portsAttributes", "otherPortsAttributes",
	"forwardPorts", "shutdownAction", "updateRemoteUserUID",
	"hostRequirements", NULL
};

/* Properties kept up to date on an existing container. */
static const char *const config_merge_pick_updateable[] = {
	"remoteUser", "userEnvProbe", "remoteEnv", NULL
};

/* Properties a feature contributes (pickFeatureProperties). */
static const char *const config_merge_pick_feature[] = {
	"onCreateCommand", "updateContentCommand", "postCreateCommand",
	"postStartCommand", "postAttachCommand", "init", "privileged",
	"capAdd", "securityOpt", "entrypoint", "mounts", "customizations", NULL
};

/* Config properties the merged output replaces (replaceProperties). */
static const char *const config_merge_replaced[] = {
	"customizations", "entrypoint", "onCreateCommand",
	"updateContentCommand", "postCreateCommand", "postStartCommand",
	"postAttachCommand", "shutdownAction", NULL
};

/* The lifecycle hooks and the merged arrays they become. */
static const char *const config_merge_hooks[][2] = {
	{ "onCreateCommand", "onCreateCommands" },
	{ "updateContentCommand", "updateContentCommands" },
	{ "postCreateCommand", "postCreateCommands" },
	{ "postStartCommand", "postStartCommands" },
	{ "postAttachCommand", "postAttachCommands" },
};


/* JavaScript truthiness; NULL stands for undefined. */
static int
config_merge_js_truthy(const cJSON *v)
{
	if (v == NULL || cJSON_IsFalse(v) || cJSON_IsNull(v))
		return 0;
	if (cJSON_IsNumber(v))
		return v->valuedouble != 0 && !isnan(v->valuedouble);
	if (cJSON_IsString(v))
		return v->valuestring != NULL && *v->valuestring != '\0';
	return 1;
}

/* Whether key is an array index ("0", "17", up to 2^32-2), which JavaScript
 * orders before all other keys of an object, ascending. */
static int
config_merge_js_index_key(const char *key, unsigned long long *idx)
{
	const char *cp;
	unsigned long long n = 0;

	if (key == NULL || *key == '\0' || (key[0] == '0' && key[1] != '\0'))
		return 0;
	for (cp = key; *cp != '\0'; cp++) {
		if (*cp < '0' || *cp > '9' || cp - key >= 10)
			return 0;
		n = n * 10 + (unsigned long long)(*cp - '0');
	}
	if (n > 4294967294ULL)
		return 0;
	*idx = n;
	return 1;
}

/* Set obj[key] = val as JavaScript would: an existing key keeps its
 * position, a new index key goes among the index keys in numeric order, any
 * other new key goes last. Takes ownership of val. One pass over obj; the
 * list is linked by hand because cJSON_InsertItemInArray in Debian's
 * libcjson 1.7.15-1+deb12u4 fails to insert anywhere but at the front. */
static void
config_merge_js_set(cJSON *obj, const char *key, cJSON *val)
{
	cJSON *child, *before = NULL;
	unsigned long long idx = 0, other;
	char *k;
	int is_index;

	is_index = config_merge_js_index_key(key, &idx);
	cJSON_ArrayForEach(child, obj) {
		if (child->string != NULL && strcmp(child->string, key) == 0)
			break;
		if (is_index && before == NULL &&
		    (!config_merge_js_index_key(child->string, &other) ||
		    other > idx))
			before = child;
	}
	/* key may be val's own name, so copy it before freeing that. */
	k = xstrdup(key);
	if (!(val->type & cJSON_StringIsConst))
		free(val->string);
	val->string = k;
	val->type &= ~cJSON_StringIsConst;
	if (child != NULL) {
		if (!cJSON_ReplaceItemViaPointer(obj, child, val))
			fatal("%s: cannot replace %s", __func__, k);
		return;
	}
	if (before == NULL) {
		if (!cJSON_AddItemToArray(obj, val))
			fatal("%s: cannot add %s", __func__, k);
		return;
	}
	/* Link val in front of before; the head's prev is the tail. */
	val->next = before;
	val->prev = before->prev;
	if (before == obj->child)
		obj->child = val;
	else
		before->prev->next = val;
	before->prev = val;
}

cJSON *
config_merge_js_copy(const cJSON *v)
{
	const cJSON *child;
	cJSON *out;

	if (cJSON_IsObject(v)) {
		out = cJSON_CreateObject();
		cJSON_ArrayForEach(child, v) {
			if (child->string != NULL)
				config_merge_js_set(out, child->string,
				    config_merge_js_copy(child));
		}
	} else if (cJSON_IsArray(v)) {
		out = cJSON_CreateArray();
		cJSON_ArrayForEach(child, v)
			cJSON_AddItemToArray(out, config_merge_js_copy(child));
	} else
		out = cJSON_Duplicate(v, 1);
	if (out == NULL)
		fatal("%s: out of memory", __func__);
	return out;
}

/* A property of an object, or NULL (undefined) for anything else. */
static const cJSON *
config_merge_get(const cJSON *obj, const char *key)
{
	if (!cJSON_IsObject(obj))
		return NULL;
	return cJSON_GetObjectItemCaseSensitive(obj, key);
}

/* Set obj[key], or delete it when val is NULL (undefined). */
static void
config_merge_put(cJSON *obj, const char *key, cJSON *val)
{
	if (val == NULL)
		cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
	else
		config_merge_js_set(obj, key, val);
}

/* The own enumerable properties of v as a new object (what for-in and
 * Object.assign see): an object's keys, an array's or a string's indices;
 * NULL for values without any. */
static cJSON *
config_merge_js_props(const cJSON *v)
{
	const cJSON *child;
	const unsigned char *cp;
	cJSON *out;
	char key[32], *ch;
	size_t len;
	int i = 0;

	if (cJSON_IsObject(v))
		return config_merge_js_copy(v);
	if (cJSON_IsArray(v)) {
		out = cJSON_CreateObject();
		cJSON_ArrayForEach(child, v) {
			snprintf(key, sizeof key, "%d", i++);
			config_merge_js_set(out, key, config_merge_js_copy(child));
		}
		return out;
	}
	if (cJSON_IsString(v) && v->valuestring != NULL) {
		/* One property per character (code point; JavaScript would
		 * split characters outside the BMP in two). */
		out = cJSON_CreateObject();
		for (cp = (const unsigned char *)v->valuestring; *cp != '\0';
		    cp += len) {
			len = 1;
			while (cp[len] != '\0' && (cp[len] & 0xc0) == 0x80)
				len++;
			ch = xstrndup((const char *)cp, len);
			snprintf(key, sizeof key, "%d", i++);
			config_merge_js_set(out, key, cJSON_CreateString(ch));
			free(ch);
		}
		return out;
	}
	return NULL;
}

/* SameValueZero as Set uses it: primitives by value, objects and arrays
 * only equal to themselves (and two parsed values are never the same). */
static int
config_merge_js_same(const cJSON *a, const cJSON *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	if (cJSON_IsObject(a) || cJSON_IsArray(a) || cJSON_IsObject(b) ||
	    cJSON_IsArray(b))
		return a == b;
	if ((a->type & 0xff) != (b->type & 0xff))
		return 0;
	if (cJSON_IsString(a))
		return strcmp(a->valuestring, b->valuestring) == 0;
	if (cJSON_IsNumber(a))
		return a->valuedouble == b->valuedouble ||
		    (isnan(a->valuedouble) && isnan(b->valuedouble));
	return 1;	/* true, false, null */
}

/* Number.prototype.toString(): the shortest digits that round-trip, in
 * JavaScript's choice of plain or exponent notation. Caller frees. */
static char *
config_merge_js_number(double d)
{
	char tmp[64], digits[32], *e, *cp;
	struct buf *b;
	int p, k, n, i, neg;

	if (isnan(d))
		return xstrdup("NaN");
	if (isinf(d))
		return xstrdup(d < 0 ? "-Infinity" : "Infinity");
	if (d == 0)
		return xstrdup("0");
	/* Integers below 2^53 print exactly, as JavaScript prints them; this
	 * skips the search for the shortest round-trip digits below. */
	if (fabs(d) < 9007199254740992.0 && d == floor(d))
		return xasprintf("%lld", (long long)d);
	neg = d < 0;
	if (neg)
		d = -d;
	for (p = 1; p < 17; p++) {
		snprintf(tmp, sizeof tmp, "%.*e", p - 1, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	snprintf(tmp, sizeof tmp, "%.*e", p - 1, d);
	e = strchr(tmp, 'e');
	k = 0;
	for (cp = tmp; cp < e; cp++)
		if (*cp != '.')
			digits[k++] = *cp;
	while (k > 1 && digits[k - 1] == '0')
		k--;
	digits[k] = '\0';
	n = atoi(e + 1) + 1;

	b = buf_new();
	if (neg)
		buf_append(b, "-", 1);
	if (k <= n && n <= 21) {
		buf_append(b, digits, (size_t)k);
		for (i = k; i < n; i++)
			buf_append(b, "0", 1);
	} else if (0 < n && n <= 21) {
		buf_append(b, digits, (size_t)n);
		buf_append(b, ".", 1);
		buf_append(b, digits + n, (size_t)(k - n));
	} else if (-6 < n && n <= 0) {
		buf_append(b, "0.", 2);
		for (i = n; i < 0; i++)
			buf_append(b, "0", 1);
		buf_append(b, digits, (size_t)k);
	} else {
		buf_append(b, digits, 1);
		if (k > 1) {
			buf_append(b, ".", 1);
			buf_append(b, digits + 1, (size_t)(k - 1));
		}
		buf_appendf(b, "e%c%d", n - 1 < 0 ? '-' : '+', abs(n - 1));
	}
	cp = buf_take_string(b, NULL);
	buf_free(b);
	return cp;
}

/* Append String(v) to b, as JavaScript converts values to strings. */
static void
config_merge_js_string_append(struct buf *b, const cJSON *v)
{
	const cJSON *child;
	char *s;

	if (cJSON_IsString(v))
		buf_appendf(b, "%s", v->valuestring);
	else if (cJSON_IsNumber(v)) {
		s = config_merge_js_number(v->valuedouble);
		buf_appendf(b, "%s", s);
		free(s);
	} else if (cJSON_IsTrue(v))
		buf_appendf(b, "true");
	else if (cJSON_IsFalse(v))
		buf_appendf(b, "false");
	else if (cJSON_IsNull(v))
		buf_appendf(b, "null");
	else if (cJSON_IsArray(v)) {
		cJSON_ArrayForEach(child, v) {
			if (child != v->child)
				buf_append(b, ",", 1);
			if (!cJSON_IsNull(child))
				config_merge_js_string_append(b, child);
		}
	} else
		buf_appendf(b, "[object Object]");
}

/* String(v); caller frees. */
static char *
config_merge_js_string(const cJSON *v)
{
	struct buf *b = buf_new();
	char *s;

	config_merge_js_string_append(b, v);
	s = buf_take_string(b, NULL);
	buf_free(b);
	return s;
}

/* Skip the whitespace JavaScript trims (ASCII, NBSP, BOM). */
static const char *
config_merge_js_skip_space(const char *s)
{
	for (;;) {
		if (*s == ' ' || (*s >= '\t' && *s <= '\r'))
			s++;
		else if (strncmp(s, "\xc2\xa0", 2) == 0)
			s += 2;
		else if (strncmp(s, "\xef\xbb\xbf", 3) == 0)
			s += 3;
		else
			return s;
	}
}

/* Digits of s in radix, all of them; NaN if none or any other character. */
static double
config_merge_js_radix(const char *s, int radix)
{
	double n = 0;
	int d;

	if (*s == '\0')
		return NAN;
	for (; *s != '\0'; s++) {
		if (isdigit((unsigned char)*s))
			d = *s - '0';
		else if (isalpha((unsigned char)*s))
			d = tolower((unsigned char)*s) - 'a' + 10;
		else
			return NAN;
		if (d >= radix)
			return NAN;
		n = n * radix + d;
	}
	return n;
}

/* Number(s) for a string. */
static double
config_merge_js_string_to_number(const char *s)
{
	const char *cp, *next;
	char *t;
	size_t len;
	double d;

	s = config_merge_js_skip_space(s);
	/* Trim the end too: len stops after the last non-space. */
	len = 0;
	for (cp = s; *cp != '\0'; cp = next) {
		next = config_merge_js_skip_space(cp);
		if (next == cp) {
			next = cp + 1;
			len = (size_t)(next - s);
		}
	}
	if (len == 0)
		return 0;
	t = xstrndup(s, len);
	if (t[0] == '0' && (t[1] == 'x' || t[1] == 'X'))
		d = config_merge_js_radix(t + 2, 16);
	else if (t[0] == '0' && (t[1] == 'o' || t[1] == 'O'))
		d = config_merge_js_radix(t + 2, 8);
	else if (t[0] == '0' && (t[1] == 'b' || t[1] == 'B'))
		d = config_merge_js_radix(t + 2, 2);
	else {
		cp = t;
		if (*cp == '+' || *cp == '-')
			cp++;
		if (strcmp(cp, "Infinity") == 0)
			d = t[0] == '-' ? -INFINITY : INFINITY;
		else {
			/* StrDecimalLiteral; strtod alone would also take
			 * "inf", "nan" and hex floats. */
			int digits = 0;

			while (isdigit((unsigned char)*cp))
				cp++, digits++;
			if (*cp == '.')
				for (cp++; isdigit((unsigned char)*cp); cp++)
					digits++;
			if (digits > 0 && (*cp == 'e' || *cp == 'E')) {
				cp++;
				if (*cp == '+' || *cp == '-')
					cp++;
				if (!isdigit((unsigned char)*cp))
					digits = 0;
				while (isdigit((unsigned char)*cp))
					cp++;
			}
			if (digits == 0 || *cp != '\0')
				d = NAN;
			else
				d = strtod(t, NULL);
		}
	}
	free(t);
	return d;
}

/* Number(v), as Math.max converts its arguments. */
static double
config_merge_js_to_number(const cJSON *v)
{
	char *s;
	double d;

	if (v == NULL)
		return NAN;
	if (cJSON_IsNumber(v))
		return v->valuedouble;
	if (cJSON_IsTrue(v))
		return 1;
	if (cJSON_IsFalse(v) || cJSON_IsNull(v))
		return 0;
	s = config_merge_js_string(v);
	d = config_merge_js_string_to_number(s);
	free(s);
	return d;
}

/* Math.max of two numbers (NaN wins). */
static double
config_merge_js_max(double a, double b)
{
	if (isnan(a) || isnan(b))
		return NAN;
	return a > b ? a : b;
}

/* parseInt(s) with no radix: leading whitespace, a sign, "0x" for hex, then
 * as many digits as there are; NaN if none. */
static double
config_merge_js_parse_int(const char *s)
{
	double n = 0, sign = 1;
	int radix = 10, d, any = 0;

	s = config_merge_js_skip_space(s);
	if (*s == '+' || *s == '-')
		sign = *s++ == '-' ? -1 : 1;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		radix = 16;
		s += 2;
	}
	for (;; s++) {
		if (isdigit((unsigned char)*s))
			d = *s - '0';
		else if (isalpha((unsigned char)*s))
			d = tolower((unsigned char)*s) - 'a' + 10;
		else
			break;
		if (d >= radix)
			break;
		n = n * radix + d;
		any = 1;
	}
	return any ? sign * n : NAN;
}

/* The reference's parseBytes(value || '0'): /^(\d+)([tgmk]b)?$/ on
 * String(value), else 0. */
static double
config_merge_parse_bytes(const cJSON *v)
{
	static const struct {
		char unit;
		double factor;
	} units[] = {
		{ 't', 1099511627776.0 }, { 'g', 1073741824.0 },
		{ 'm', 1048576.0 }, { 'k', 1024.0 },
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
			if (child->string != NULL &&
			    strcmp(child->string, *keys) == 0)
				item = child;
		}
		if (item != NULL)
			config_merge_js_set(out, *keys,
			    config_merge_js_copy(item));
	}
	return out;
}

/* true if any entry's key is truthy. */
static cJSON *
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
static cJSON *
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
static cJSON *
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
				cJSON_Delete(cJSON_DetachItemViaPointer(array,
				    item));
				break;
			}
		}
	}
}

/* Union without duplicates of the truthy values of key (capAdd,
 * securityOpt); NULL if empty. */
static cJSON *
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
static cJSON *
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
static cJSON *
config_merge_customizations(const cJSON *list)
{
	const cJSON *entry;
	cJSON *out, *props, *item, *values;

	out = cJSON_CreateObject();
	cJSON_ArrayForEach(entry, list) {
		props = config_merge_js_props(config_merge_get(entry,
		    "customizations"));
		if (props == NULL)
			continue;
		while ((item = props->child) != NULL) {
			cJSON_DetachItemViaPointer(props, item);
			values = cJSON_GetObjectItemCaseSensitive(out,
			    item->string);
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
				vend = memchr(eq + 1, '=',
				    (size_t)(end - eq - 1));
				if (vend == NULL)
					vend = end;
				target = xstrndup(eq + 1,
				    (size_t)(vend - eq - 1));
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
static cJSON *
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
			targets[i] = config_merge_mount_target(
			    item->valuestring);
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
		for (prev = item->next; prev != NULL && !dup;
		    prev = prev->next, j++) {
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
static cJSON *
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
		port = cJSON_CreateNumber(off < 0 ? NAN :
		    config_merge_js_parse_int(item->valuestring + off));
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
	cores = config_merge_js_max(
	    config_merge_js_truthy(config_merge_get(ao, "cores")) ?
	    config_merge_js_to_number(config_merge_get(ao, "cores")) : 0,
	    config_merge_js_truthy(config_merge_get(bo, "cores")) ?
	    config_merge_js_to_number(config_merge_get(bo, "cores")) : 0);
	memory = config_merge_js_max(
	    config_merge_parse_bytes(config_merge_get(ao, "memory")),
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
static cJSON *
config_merge_host_requirements(const cJSON *list)
{
	const cJSON *entry, *hr, *cpu;
	cJSON *out, *gpu = NULL;
	double cpus = -INFINITY, memory = -INFINITY, storage = -INFINITY;
	char *s;

	cJSON_ArrayForEach(entry, list) {
		hr = config_merge_get(entry, "hostRequirements");
		cpu = config_merge_get(hr, "cpus");
		cpus = config_merge_js_max(cpus, config_merge_js_truthy(cpu) ?
		    config_merge_js_to_number(cpu) : 0);
		memory = config_merge_js_max(memory,
		    config_merge_parse_bytes(config_merge_get(hr, "memory")));
		storage = config_merge_js_max(storage,
		    config_merge_parse_bytes(config_merge_get(hr, "storage")));
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
		cJSON_DeleteItemFromObjectCaseSensitive(out,
		    config_merge_replaced[i]);

	config_merge_put(out, "init", config_merge_any(list, "init"));
	config_merge_put(out, "privileged",
	    config_merge_any(list, "privileged"));
	config_merge_put(out, "capAdd", config_merge_union(list, "capAdd"));
	config_merge_put(out, "securityOpt",
	    config_merge_union(list, "securityOpt"));
	config_merge_put(out, "entrypoints",
	    config_merge_collect(list, "entrypoint", 0));
	config_merge_put(out, "mounts", config_merge_mounts(list));
	config_merge_put(out, "customizations",
	    config_merge_customizations(list));
	for (i = 0; i < sizeof config_merge_hooks /
	    sizeof config_merge_hooks[0]; i++) {
		config_merge_put(out, config_merge_hooks[i][1],
		    config_merge_collect(list, config_merge_hooks[i][0], 1));
	}
	config_merge_put(out, "waitFor", config_merge_last(list, "waitFor", 0));
	config_merge_put(out, "remoteUser",
	    config_merge_last(list, "remoteUser", 0));
	config_merge_put(out, "containerUser",
	    config_merge_last(list, "containerUser", 0));
	config_merge_put(out, "userEnvProbe",
	    config_merge_last(list, "userEnvProbe", 0));
	config_merge_put(out, "remoteEnv",
	    config_merge_assign(list, "remoteEnv"));
	config_merge_put(out, "containerEnv",
	    config_merge_assign(list, "containerEnv"));
	config_merge_put(out, "overrideCommand",
	    config_merge_last(list, "overrideCommand", 1));
	config_merge_put(out, "portsAttributes",
	    config_merge_assign(list, "portsAttributes"));
	config_merge_put(out, "otherPortsAttributes",
	    config_merge_last(list, "otherPortsAttributes", 0));
	config_merge_put(out, "forwardPorts",
	    config_merge_forward_ports(list));
	config_merge_put(out, "shutdownAction",
	    config_merge_last(list, "shutdownAction", 0));
	config_merge_put(out, "updateRemoteUserUID",
	    config_merge_last(list, "updateRemoteUserUID", 1));
	config_merge_put(out, "hostRequirements",
	    config_merge_host_requirements(list));
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
	if (label_value == NULL ||
	    *config_merge_js_skip_space(label_value) == '\0')
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
				cJSON_AddItemToArray(out,
				    config_merge_js_copy(entry));
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

	list = config_merge_entry_list(metadata,
	    config_metadata_from_config(config));
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

	list = config_merge_entry_list(metadata,
	    config_metadata_from_config(config));
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
