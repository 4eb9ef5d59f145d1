/* config-merge-js.c - the JavaScript semantics the reference's merge leans
 * on, reproduced on cJSON trees (for config-merge.c and config-merge-rules.c).
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
#include "config-merge-internal.h"
#include "config-merge.h"
#include "xmalloc.h"

/* JavaScript truthiness; NULL stands for undefined. */
int
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
void
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
		    (!config_merge_js_index_key(child->string, &other) || other > idx))
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
				config_merge_js_set(
				    out, child->string, config_merge_js_copy(child));
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

/* The own enumerable properties of v as a new object (what for-in and
 * Object.assign see): an object's keys, an array's or a string's indices;
 * NULL for values without any. */
cJSON *
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
		for (cp = (const unsigned char *)v->valuestring; *cp != '\0'; cp += len) {
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
int
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
	return 1; /* true, false, null */
}

/* Number.prototype.toString(): the shortest digits that round-trip, in
 * JavaScript's choice of plain or exponent notation. Caller frees. */
char *
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
char *
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
const char *
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
double
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
double
config_merge_js_max(double a, double b)
{
	if (isnan(a) || isnan(b))
		return NAN;
	return a > b ? a : b;
}

/* parseInt(s) with no radix: leading whitespace, a sign, "0x" for hex, then
 * as many digits as there are; NaN if none. */
double
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
