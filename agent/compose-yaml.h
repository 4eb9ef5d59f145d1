/* compose-yaml.h - YAML into cJSON with libyaml: what `docker-compose config`
 * (v1) prints, and the compose files' top-level keys.
 *
 * libyaml's parser does the YAML (block and flow styles, quoted, block and
 * folded scalars, anchors, tags, comments); this builds the cJSON tree from
 * its events:
 * - Scalars stay strings ("3000", "1.0", "0777" too: Compose's model has
 *   strings where it matters, and callers convert), except plain null, Null,
 *   NULL, ~ and the empty scalar (null) and plain true/True/TRUE,
 *   false/False/FALSE (booleans). A quoted scalar or one tagged !!str is
 *   always a string.
 * - An alias is a copy of its anchor's node (the latest anchor of that name
 *   before it); "<<" keys merge mappings as YAML 1.1 and Compose do (keys the
 *   mapping has, before or after, win; in a list of mappings the first wins).
 * - A duplicate key keeps the last value, as PyYAML does.
 * - Only scalars may be keys; one document at most; an empty stream is null.
 *   Nesting deeper than COMPOSE_YAML_MAX_DEPTH and trees of more than
 *   COMPOSE_YAML_MAX_NODES nodes (aliases counted as copied, so a "billion
 *   laughs" document is refused) are errors, as are NUL characters.
 *
 * Errors read "NAME:LINE:COL: MESSAGE" with libyaml's position and words, e.g.
 *   docker-compose config:3:4: mapping values are not allowed in this context
 * Lines and columns count from 1; columns count characters.
 *
 * Pure: no I/O, no globals.
 */
#ifndef RDEV_COMPOSE_YAML_H
#define RDEV_COMPOSE_YAML_H

#include <stddef.h>

#include <cjson/cJSON.h>

#define COMPOSE_YAML_MAX_DEPTH 256
#define COMPOSE_YAML_MAX_NODES 200000

/* Parse len bytes of text (need not be NUL-terminated). name is used in error
 * messages. Returns a new tree (caller frees with cJSON_Delete), or NULL with
 * *cause set (caller frees). */
cJSON *compose_yaml_parse(const char *name, const char *text, size_t len, char **cause);

#endif
