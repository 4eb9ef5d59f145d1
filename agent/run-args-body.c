/* run-args-body.c - editing the ContainerCreate body for runArgs: its
 * HostConfig, setting, appending to and adding keys to fields, and the
 * warnings of a run (run-args-internal.h). */
#include "run-args-internal.h"

#include <stdarg.h>
#include <stdlib.h>

#include "xmalloc.h"

cJSON *
run_args_host(struct run_args *st)
{
	cJSON *hc = cJSON_GetObjectItemCaseSensitive(st->body, "HostConfig");

	if (cJSON_IsObject(hc))
		return hc;
	if (hc != NULL)
		cJSON_DeleteItemFromObjectCaseSensitive(st->body, "HostConfig");
	return cJSON_AddObjectToObject(st->body, "HostConfig");
}

cJSON *
run_args_parent(struct run_args *st, const struct run_args_flag *f)
{
	return f->host ? run_args_host(st) : st->body;
}

/* Set parent[key] = item, keeping the key's position if it exists. */
void
run_args_set(cJSON *parent, const char *key, cJSON *item)
{
	if (cJSON_GetObjectItemCaseSensitive(parent, key) != NULL)
		cJSON_ReplaceItemInObjectCaseSensitive(parent, key, item);
	else
		cJSON_AddItemToObject(parent, key, item);
}

/* parent[key] as an object or array (type cJSON_Object / cJSON_Array),
 * created (or replacing a value of another type) if needed. */
cJSON *
run_args_child(cJSON *parent, const char *key, int type)
{
	cJSON *c = cJSON_GetObjectItemCaseSensitive(parent, key);

	if (c != NULL && (c->type & 0xff) == type)
		return c;
	c = type == cJSON_Array ? cJSON_CreateArray() : cJSON_CreateObject();
	run_args_set(parent, key, c);
	return c;
}

cJSON *
run_args_number(int64_t n)
{
	cJSON *item;
	char *text;

	/* cJSON prints a double of 15 significant digits or fewer from 1e15 up
	 * with an exponent ("1.08e+15"), which Go's JSON decoder refuses for an
	 * integer field; such a number goes out as its digits. */
	if (n > -1000000000000000LL && n < 1000000000000000LL)
		return cJSON_CreateNumber((double)n);
	text = xasprintf("%lld", (long long)n);
	item = cJSON_CreateRaw(text);
	free(text);
	return item;
}

void
run_args_append(cJSON *parent, const char *key, const char *value)
{
	cJSON_AddItemToArray(
	    run_args_child(parent, key, cJSON_Array), cJSON_CreateString(value));
}

void
run_args_map_set(cJSON *parent, const char *key, const char *k, const char *v)
{
	run_args_set(run_args_child(parent, key, cJSON_Object), k, cJSON_CreateString(v));
}

void
run_args_warn(struct run_args *st, const char *fmt, ...)
{
	va_list ap;

	st->warnings =
	    xreallocarray(st->warnings, st->nwarnings + 2, sizeof *st->warnings);
	va_start(ap, fmt);
	st->warnings[st->nwarnings++] = xvasprintf(fmt, ap);
	va_end(ap);
	st->warnings[st->nwarnings] = NULL;
}
