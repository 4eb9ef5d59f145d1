/* json-get.c - read a member of a JSON answer without trusting its shape
 * (json-get.h). */
#include "json-get.h"

#include <math.h>

int
json_get_int(const cJSON *obj, const char *name, long min, long max, long *v)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, name);
	double d;

	if (!cJSON_IsNumber(m))
		return -1;
	d = m->valuedouble;
	if (!isfinite(d) || d != floor(d) || d < (double)min || d > (double)max)
		return -1;
	*v = (long)d;
	return 0;
}

const char *
json_get_string(const cJSON *obj, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	return cJSON_IsString(v) && v->valuestring[0] != '\0' ? v->valuestring : NULL;
}

const char *
json_type_name(const cJSON *v)
{
	if (cJSON_IsObject(v))
		return "object";
	if (cJSON_IsArray(v))
		return "array";
	if (cJSON_IsString(v))
		return "string";
	if (cJSON_IsNumber(v))
		return "number";
	if (cJSON_IsBool(v))
		return "boolean";
	if (cJSON_IsNull(v))
		return "null";
	return "invalid value";
}
