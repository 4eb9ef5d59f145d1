/* json-get.h - read a member of a JSON answer (an agent's, the broker's)
 * without trusting its shape: a missing member or one of another type is an
 * error the caller reports, never a NULL dereference. Pure.
 */
#ifndef RDEV_JSON_GET_H
#define RDEV_JSON_GET_H

#include <cjson/cJSON.h>

/* obj.name as an integer in [min, max]: 0 and *v, or -1 (absent, not a
 * number, not whole, out of range; obj may be NULL). */
int json_get_int(const cJSON *obj, const char *name, long min, long max, long *v);
/* obj.name as a string (borrowed from obj), or NULL when it is absent, not
 * a string, or empty (obj may be NULL). */
const char *json_get_string(const cJSON *obj, const char *name);
/* The JSON type of v, as users know it: "object", "array", "string",
 * "number", "boolean", "null" ("invalid value" for anything else). */
const char *json_type_name(const cJSON *v);

#endif
