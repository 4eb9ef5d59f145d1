/* config-validate-internal.h - the pieces of validation shared by its
 * modules: config-validate.c (the kind and the property checkers),
 * config-validate-up.c (what `up` cannot honour yet) and
 * config-validate-report.c (errors and warnings).
 *
 * The v_ prefix is the module's short one, kept from before the split (the
 * functions do not carry their files' names).
 */
#ifndef RDEV_CONFIG_VALIDATE_INTERNAL_H
#define RDEV_CONFIG_VALIDATE_INTERNAL_H

#include "config-validate.h"

/* One validation: the document (borrowed), the kind if known, where warnings
 * go (may be NULL) and where the error goes. */
struct vctx {
	const struct jsonc_doc *doc;
	int have_kind;
	enum config_kind kind;
	struct config_warnings *warnings;
	char **cause;
};

/* config-validate-report.c: each error sets *v->cause to "WHERE: PATH: MSG"
 * (WHERE is "NAME:LINE:COL" of node, or "NAME" if it has no position) and
 * returns -1; warnings go to v->warnings, if any. */
/* An error placed at node's value. */
int v_error(struct vctx *v, const cJSON *node, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* An error placed at node's member name: for a property wrong as a whole. */
int v_error_key(struct vctx *v, const cJSON *node, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A warning "WHERE: MSG", placed at node's member name. */
void v_warn(struct vctx *v, const cJSON *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* "expected WANT, got VALUE" (a string or number shown as it is). */
int v_bad_value(struct vctx *v, const cJSON *node, const char *path, const char *want);
/* "expected WANT, got TYPE". */
int v_bad_type(struct vctx *v, const cJSON *node, const char *path, const char *want);
/* The path of member key under path ("\"key\"" at the top); caller frees. */
char *v_member_path(const char *path, const char *key);

#endif
