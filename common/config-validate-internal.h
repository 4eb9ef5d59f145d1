/* config-validate-internal.h - the pieces of validation shared by its
 * modules: config-validate.c (the kind and the property checkers),
 * config-validate-up.c (what `up` cannot honour yet) and
 * config-validate-report.c (errors and warnings).
 *
 * Each function carries its file's name: config_validate_report_* are
 * config-validate-report.c's, config_validate_up_* config-validate-up.c's.
 */
#ifndef RDEV_CONFIG_VALIDATE_INTERNAL_H
#define RDEV_CONFIG_VALIDATE_INTERNAL_H

#include "config-validate.h"

/* One validation: the document (borrowed), the kind if known, where warnings
 * go (may be NULL) and where the error goes. */
struct config_validate_ctx {
	const struct jsonc_doc *doc;
	int have_kind;
	enum config_kind kind;
	struct config_warnings *warnings;
	char **cause;
	const char *origin; /* where the values come from when not doc, or NULL */
};

/* config-validate-report.c: each error sets *v->cause to "WHERE: PATH: MSG"
 * (WHERE is "NAME:LINE:COL" of node, or "NAME" if it has no position) and
 * returns -1; warnings go to v->warnings, if any. */
/* An error placed at node's value. */
int config_validate_report_error(struct config_validate_ctx *v, const cJSON *node,
    const char *path, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* An error placed at node's member name: for a property wrong as a whole. */
int config_validate_report_error_key(struct config_validate_ctx *v, const cJSON *node,
    const char *path, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* A warning "WHERE: MSG", placed at node's member name. */
void config_validate_report_warn(struct config_validate_ctx *v, const cJSON *node,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* "expected WANT, got VALUE" (a string or number shown as it is). */
int config_validate_report_bad_value(
    struct config_validate_ctx *v, const cJSON *node, const char *path, const char *want);
/* "expected WANT, got TYPE". */
int config_validate_report_bad_type(
    struct config_validate_ctx *v, const cJSON *node, const char *path, const char *want);
/* The path of member key under path ("\"key\"" at the top); caller frees. */
char *config_validate_report_member_path(const char *path, const char *key);

/* config-validate.c: type-check item as the devcontainer.json property of
 * its name (item->string), errors placed under path; *known says whether
 * the name is one. 0, or -1 with the error in *v->cause. (devcontainer-
 * feature.json shares these properties: feature-json.c.) */
int config_validate_property(
    struct config_validate_ctx *v, const cJSON *item, const char *path, int *known);
/* config-validate.c: the "${...}" of root's properties that up
 * substitutes in the container (remoteEnv, the ports) as up needs them:
 * ${containerEnv} without a name is an error there (read, it is only
 * warned about). 0, or -1 with the error in *v->cause. */
int config_validate_vars_up(struct config_validate_ctx *v, const cJSON *root);

#endif
