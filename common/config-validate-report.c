/* config-validate-report.c - what validation tells the user: the warnings
 * list, and errors and warnings placed at "NAME:LINE:COL" of the value (or
 * of its member name) with the property path.
 */
#include "config-validate.h"

#include <stdarg.h>
#include <stdlib.h>

#include "config-validate-internal.h"
#include "error.h"
#include "json-get.h"
#include "xmalloc.h"

void
config_warnings_add(struct config_warnings *w, const char *fmt, ...)
{
	va_list ap;

	w->items = xreallocarray(w->items, w->count + 1, sizeof *w->items);
	va_start(ap, fmt);
	w->items[w->count++] = xvasprintf(fmt, ap);
	va_end(ap);
}

void
config_warnings_clear(struct config_warnings *w)
{
	size_t i;

	for (i = 0; i < w->count; i++)
		free(w->items[i]);
	free(w->items);
	w->items = NULL;
	w->count = 0;
}

/* "NAME:LINE:COL" for node's value (or, with key set, for its member name
 * when it has one), or "NAME" if it has no location; caller frees. */
static char *
config_validate_report_where(
    const struct config_validate_ctx *v, const cJSON *node, int key)
{
	unsigned line, col;

	if (v->origin != NULL)
		return xstrdup(v->origin);
	if (node != NULL && key && jsonc_doc_locate_key(v->doc, node, &line, &col) == 0)
		return xasprintf("%s:%u:%u", jsonc_doc_name(v->doc), line, col);
	if (node != NULL && jsonc_doc_locate(v->doc, node, &line, &col) == 0)
		return xasprintf("%s:%u:%u", jsonc_doc_name(v->doc), line, col);
	return xstrdup(jsonc_doc_name(v->doc));
}

/* Set *cause to "WHERE: PATH: MSG", WHERE the value's place or (key set)
 * its member name's; returns -1. */
static int __attribute__((format(printf, 5, 0)))
config_validate_report_verror(struct config_validate_ctx *v, const cJSON *node, int key,
    const char *path, const char *fmt, va_list ap)
{
	char *where, *msg;

	msg = xvasprintf(fmt, ap);
	where = config_validate_report_where(v, node, key);
	error_set(v->cause, "%s: %s: %s", where, path, msg);
	free(where);
	free(msg);
	return -1;
}

int __attribute__((format(printf, 4, 5)))
config_validate_report_error(struct config_validate_ctx *v, const cJSON *node,
    const char *path, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	config_validate_report_verror(v, node, 0, path, fmt, ap);
	va_end(ap);
	return -1;
}

/* config_validate_report_error() at the member name: for a property that is wrong as a
 * whole. */
int __attribute__((format(printf, 4, 5)))
config_validate_report_error_key(struct config_validate_ctx *v, const cJSON *node,
    const char *path, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	config_validate_report_verror(v, node, 1, path, fmt, ap);
	va_end(ap);
	return -1;
}

void __attribute__((format(printf, 3, 4))) config_validate_report_warn(
    struct config_validate_ctx *v, const cJSON *node, const char *fmt, ...)
{
	va_list ap;
	char *where, *msg;

	if (v->warnings == NULL)
		return;
	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	where = config_validate_report_where(v, node, 1);
	config_warnings_add(v->warnings, "%s: %s", where, msg);
	free(where);
	free(msg);
}

/* What a value of the right type but wrong content looked like; caller frees. */
static char *
config_validate_report_show(const cJSON *node)
{
	if (cJSON_IsString(node))
		return xasprintf("\"%s\"", node->valuestring);
	if (cJSON_IsNumber(node))
		return xasprintf("%.17g", node->valuedouble);
	return xstrdup(json_type_name(node));
}

int
config_validate_report_bad_value(
    struct config_validate_ctx *v, const cJSON *node, const char *path, const char *want)
{
	char *shown = config_validate_report_show(node);

	config_validate_report_error(v, node, path, "expected %s, got %s", want, shown);
	free(shown);
	return -1;
}

int
config_validate_report_bad_type(
    struct config_validate_ctx *v, const cJSON *node, const char *path, const char *want)
{
	return config_validate_report_error(
	    v, node, path, "expected %s, got %s", want, json_type_name(node));
}

char *
config_validate_report_member_path(const char *path, const char *key)
{
	return path[0] == '\0' ? xasprintf("\"%s\"", key)
			       : xasprintf("%s.\"%s\"", path, key);
}
