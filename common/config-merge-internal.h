/* config-merge-internal.h - the pieces of the metadata merge, shared by its
 * modules: config-merge.c (the picks, the entry list, the merged object and
 * the public API of config-merge.h), config-merge-rules.c (how each property
 * of the merge table is merged) and config-merge-js.c (the JavaScript
 * semantics both lean on).
 *
 * Pure, like config-merge.h. Arguments are borrowed unless said otherwise;
 * returned trees and strings are new and owned by the caller (cJSON_Delete,
 * free). NULL as a value stands for JavaScript's undefined.
 */
#ifndef RDEV_CONFIG_MERGE_INTERNAL_H
#define RDEV_CONFIG_MERGE_INTERNAL_H

#include <cjson/cJSON.h>

/* config-merge-js.c (config_merge_js_copy() is in config-merge.h) */
/* JavaScript truthiness. */
int config_merge_js_truthy(const cJSON *v);
/* Set obj[key] = val in JavaScript property order; takes ownership of val. */
void config_merge_js_set(cJSON *obj, const char *key, cJSON *val);
/* The own enumerable properties of v as a new object (an object's keys, an
 * array's or a string's indices); NULL for values without any. */
cJSON *config_merge_js_props(const cJSON *v);
/* SameValueZero, as a Set compares its elements. */
int config_merge_js_same(const cJSON *a, const cJSON *b);
/* Number.prototype.toString(); caller frees. */
char *config_merge_js_number(double d);
/* String(v); caller frees. */
char *config_merge_js_string(const cJSON *v);
/* s past the whitespace JavaScript trims (ASCII, NBSP, BOM). */
const char *config_merge_js_skip_space(const char *s);
/* Number(v), as Math.max converts its arguments. */
double config_merge_js_to_number(const cJSON *v);
/* Math.max of two numbers (NaN wins). */
double config_merge_js_max(double a, double b);
/* parseInt(s) with no radix. */
double config_merge_js_parse_int(const char *s);

/* config-merge-rules.c: each takes the normalized entry list (an array of
 * objects) and returns the merged value of one property, or NULL where the
 * reference leaves it undefined. */
/* true if any entry's key is truthy, else false. */
cJSON *config_merge_any(const cJSON *list, const char *key);
/* The last truthy value of key (or, with want_bool, the last boolean). */
cJSON *config_merge_last(const cJSON *list, const char *key, int want_bool);
/* Every truthy value of key, in order; NULL if none and !always. */
cJSON *config_merge_collect(const cJSON *list, const char *key, int always);
/* Union without duplicates of the truthy values of key; NULL if empty. */
cJSON *config_merge_union(const cJSON *list, const char *key);
/* Object.assign({}, ...values of key); never NULL. */
cJSON *config_merge_assign(const cJSON *list, const char *key);
/* {tool: [each entry's value for tool...]}; NULL if none. */
cJSON *config_merge_customizations(const cJSON *list);
/* All mounts in order, the last one for each target; NULL if none. */
cJSON *config_merge_mounts(const cJSON *list);
/* Union of all forwardPorts (N and "localhost:N" the same); NULL if none. */
cJSON *config_merge_forward_ports(const cJSON *list);
/* Max of each host requirement; NULL unless one of them is set. */
cJSON *config_merge_host_requirements(const cJSON *list);

#endif
