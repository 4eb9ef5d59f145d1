/* feature-json.h - a Dev Container Feature's devcontainer-feature.json, and
 * the options a devcontainer.json gives it.
 *
 * feature_json_parse() reads the file (JSONC) and checks it with the errors
 * devcontainer.json gets ("devcontainer-feature.json:7:13: \"options\".
 * \"flavor\".\"type\": expected \"string\" or \"boolean\", got \"number\"").
 * The properties a Feature shares with devcontainer.json (containerEnv,
 * mounts, capAdd, lifecycle commands, ...) are checked as there.
 *
 * feature_json_options() turns what devcontainer.json says for the Feature
 * (an object of options, a string: its "version" option, or true) into the
 * option values it is installed with: each option's default, overridden by
 * the given values, checked against the option's type and "enum".
 *
 * Pure: no I/O, no globals.
 */
#ifndef RDEV_FEATURE_JSON_H
#define RDEV_FEATURE_JSON_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "config-validate.h"
#include "jsonc.h"

struct feature_json;

/* Parse and check len bytes of text; name is the file's name in messages.
 * Returns a new feature_json (free with feature_json_free()) or NULL with
 * *cause set (caller frees). */
struct feature_json *feature_json_parse(
    const char *name, const char *text, size_t len, char **cause);
void feature_json_free(struct feature_json *fj);

/* The checked object; owned by fj, valid until feature_json_free(). */
const cJSON *feature_json_root(const struct feature_json *fj);
/* Its "id" (required, a string); owned by fj. */
const char *feature_json_id(const struct feature_json *fj);

/* The option values for given (the Feature's value in devcontainer.json:
 * an object, a string or a boolean; NULL: none given): a new object, option
 * name -> string or boolean, defaults first in the order the Feature
 * declares them, then given options it has no default for, in their order.
 * where names the given value in messages ("devcontainer.json:4:5:
 * \"features\".\"./a\""). A given option the Feature does not declare, a
 * value of the wrong type or outside its "enum" is an error: NULL with
 * *cause set, naming where and the option. As the reference (which passes
 * any value on as its text), the string "true" or "false" for a boolean
 * option and a number for a string option (18: "18") are taken, each with
 * a warning added to warnings (may be NULL: none kept). Caller frees with
 * cJSON_Delete. */
cJSON *feature_json_options(const struct feature_json *fj, const cJSON *given,
    const char *where, struct config_warnings *warnings, char **cause);

/* The environment variable an option is passed as, sanitised as the spec
 * says: every character but [A-Za-z0-9_] becomes '_', a leading run of
 * digits and '_' becomes one '_', and the rest is upper-cased
 * ("1.nodeGyp-dep" -> "_NODEGYP_DEP"). New string, caller frees. */
char *feature_json_env_name(const char *option);

/* The options as the lines of the Feature's devcontainer-features.env:
 * NAME="VALUE" each (booleans as true/false), with '"', '\\', '$' and '`'
 * in VALUE escaped for sh. New string, caller frees. */
char *feature_json_env_file(const cJSON *options);

/* Compare two option objects (feature_json_options()'s): 0 when they have
 * the same names with the same values, otherwise <0 or >0 (fewer options
 * first, then by sorted names, then values). Says whether a Feature named
 * twice is installed once; the install order compares the values as
 * written instead (feature-order.h). */
int feature_json_options_compare(const cJSON *a, const cJSON *b);

#endif
