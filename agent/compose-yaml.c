/* compose-yaml.c - YAML into cJSON: libyaml's events made into a tree, with
 * anchors, merge keys and limits (see compose-yaml.h). */
#include "compose-yaml.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "error.h"
#include "xmalloc.h"

/* A collection being read. */
struct compose_yaml_frame {
	cJSON *node;	   /* array or object */
	char *key;	   /* object: the key waiting for its value, or NULL */
	int merge;	   /* object: that key is a plain "<<" */
	char *anchor;	   /* the collection's anchor, or NULL */
	yaml_mark_t start; /* where it starts */
};

/* An anchor: a copy of its node, which each alias copies again. */
struct compose_yaml_anchor {
	char *name;
	cJSON *node;
	char *text;   /* a scalar's text (for an alias used as a key), or NULL */
	size_t nodes; /* nodes in node */
	int height;   /* levels of collections in node (0 for a scalar) */
};

/* One parse. */
struct compose_yaml {
	const char *name;
	char **cause;
	struct compose_yaml_frame stack[COMPOSE_YAML_MAX_DEPTH];
	int depth;
	struct compose_yaml_anchor *anchors;
	size_t nanchors;
	size_t nodes; /* made so far, anchors' copies included */
	cJSON *root;
	int documents;
};

/* Set *cause to "NAME:LINE:COL: MESSAGE" at libyaml's mark; returns -1. */
static int __attribute__((format(printf, 3, 4)))
compose_yaml_fail(struct compose_yaml *y, yaml_mark_t mark, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	error_set(
	    y->cause, "%s:%zu:%zu: %s", y->name, mark.line + 1, mark.column + 1, msg);
	free(msg);
	return -1;
}

/* The mark of a byte offset of text (libyaml's reader errors give only the
 * offset): columns count characters, as libyaml's marks do. */
static yaml_mark_t
compose_yaml_offset_mark(const char *text, size_t len, size_t offset)
{
	yaml_mark_t mark = { 0 };

	for (size_t i = 0; i < offset && i < len; i++) {
		if (text[i] == '\n') {
			mark.line++;
			mark.column = 0;
		} else if (((unsigned char)text[i] & 0xc0) != 0x80)
			mark.column++;
	}
	mark.index = offset;
	return mark;
}

/* libyaml's own error, with its context when it gives one. */
static int
compose_yaml_parser_error(
    struct compose_yaml *y, const yaml_parser_t *parser, const char *text, size_t len)
{
	const char *problem = parser->problem != NULL ? parser->problem : "invalid YAML";

	switch (parser->error) {
	case YAML_MEMORY_ERROR: fatal("libyaml: out of memory");
	case YAML_READER_ERROR:
		return compose_yaml_fail(y,
		    compose_yaml_offset_mark(text, len, parser->problem_offset), "%s",
		    problem);
	default:
		if (parser->context != NULL)
			return compose_yaml_fail(y, parser->problem_mark,
			    "%s (%s at %zu:%zu)", problem, parser->context,
			    parser->context_mark.line + 1,
			    parser->context_mark.column + 1);
		return compose_yaml_fail(y, parser->problem_mark, "%s", problem);
	}
}

/* Count n more nodes against COMPOSE_YAML_MAX_NODES. */
static int
compose_yaml_count(struct compose_yaml *y, yaml_mark_t mark, size_t n)
{
	if (n > COMPOSE_YAML_MAX_NODES - y->nodes)
		return compose_yaml_fail(y, mark,
		    "more than %d nodes (aliases count as copies)",
		    COMPOSE_YAML_MAX_NODES);
	y->nodes += n;
	return 0;
}

/* Add node's nodes to *nodes and its levels of collections (below level) to
 * *height. Recursion is bounded by COMPOSE_YAML_MAX_DEPTH. */
static void
compose_yaml_measure(const cJSON *node, int level, size_t *nodes, int *height)
{
	const cJSON *c;

	(*nodes)++;
	if (!cJSON_IsArray(node) && !cJSON_IsObject(node))
		return;
	if (++level > *height)
		*height = level;
	for (c = node->child; c != NULL; c = c->next)
		compose_yaml_measure(c, level, nodes, height);
}

/* The anchor named name, the latest one (a name may be used again). */
static const struct compose_yaml_anchor *
compose_yaml_anchor_find(const struct compose_yaml *y, const char *name)
{
	for (size_t i = y->nanchors; i > 0; i--) {
		if (strcmp(y->anchors[i - 1].name, name) == 0)
			return &y->anchors[i - 1];
	}
	return NULL;
}

/* Remember a copy of node (a scalar of text text, or a collection: NULL) as
 * anchor name, replacing an anchor of that name. */
static int
compose_yaml_anchor_set(struct compose_yaml *y, const unsigned char *name,
    const cJSON *node, const char *text, yaml_mark_t mark)
{
	struct compose_yaml_anchor *a = NULL;
	size_t nodes = 0;
	int height = 0;

	if (name == NULL)
		return 0;
	compose_yaml_measure(node, 0, &nodes, &height);
	if (compose_yaml_count(y, mark, nodes) != 0)
		return -1;
	for (size_t i = 0; i < y->nanchors && a == NULL; i++) {
		if (strcmp(y->anchors[i].name, (const char *)name) == 0)
			a = &y->anchors[i];
	}
	if (a == NULL) {
		y->anchors =
		    xreallocarray(y->anchors, y->nanchors + 1, sizeof *y->anchors);
		a = &y->anchors[y->nanchors++];
		a->name = xstrdup((const char *)name);
	} else {
		cJSON_Delete(a->node);
		free(a->text);
	}
	a->node = cJSON_Duplicate(node, 1);
	a->text = text != NULL ? xstrdup(text) : NULL;
	a->nodes = nodes;
	a->height = height;
	return 0;
}

/* Move the members of mapping src that obj lacks into obj. */
static void
compose_yaml_merge_one(cJSON *obj, cJSON *src)
{
	cJSON *item;

	while ((item = src->child) != NULL) {
		cJSON_DetachItemViaPointer(src, item);
		if (cJSON_GetObjectItemCaseSensitive(obj, item->string) != NULL)
			cJSON_Delete(item);
		else
			cJSON_AddItemToObject(obj, item->string, item);
	}
}

/* "<<: value" in obj: value is a mapping or a list of mappings whose keys
 * obj does not have (yet) are merged in; the first mapping of a list wins.
 * Takes value. */
static int
compose_yaml_merge(struct compose_yaml *y, cJSON *obj, cJSON *value, yaml_mark_t mark)
{
	cJSON *src;
	int rc = 0;

	if (cJSON_IsObject(value))
		compose_yaml_merge_one(obj, value);
	else if (cJSON_IsArray(value)) {
		cJSON_ArrayForEach(src, value) {
			if (!cJSON_IsObject(src))
				rc = -1;
		}
		if (rc == 0) {
			cJSON_ArrayForEach(src, value)
				compose_yaml_merge_one(obj, src);
		}
	} else
		rc = -1;
	cJSON_Delete(value);
	if (rc != 0)
		return compose_yaml_fail(y, mark,
		    "the value of \"<<\" must be a mapping or a list of mappings");
	return 0;
}

/* Put a finished node where it belongs: the root, the end of the array
 * being read, the value of the key its object waits with, or that key.
 * text is a scalar's text (NULL for a collection); merge_key: the node is a
 * plain "<<". Takes node. */
static int
compose_yaml_add(struct compose_yaml *y, cJSON *node, const char *text, int merge_key,
    yaml_mark_t mark)
{
	struct compose_yaml_frame *top;
	int rc = 0;

	if (y->depth == 0) {
		y->root = node;
		return 0;
	}
	top = &y->stack[y->depth - 1];
	if (cJSON_IsArray(top->node)) {
		cJSON_AddItemToArray(top->node, node);
		return 0;
	}
	if (top->key == NULL) {
		cJSON_Delete(node);
		if (text == NULL)
			return compose_yaml_fail(
			    y, mark, "a mapping key must be a scalar");
		top->key = xstrdup(text);
		top->merge = merge_key;
		return 0;
	}
	if (top->merge)
		rc = compose_yaml_merge(y, top->node, node, mark);
	else {
		/* As PyYAML, the last value of a key given twice. */
		cJSON_DeleteItemFromObjectCaseSensitive(top->node, top->key);
		cJSON_AddItemToObject(top->node, top->key, node);
	}
	free(top->key);
	top->key = NULL;
	top->merge = 0;
	return rc;
}

/* Is the waiting place a mapping's key? (Only scalars may be keys.) */
static int
compose_yaml_at_key(const struct compose_yaml *y)
{
	return y->depth > 0 && cJSON_IsObject(y->stack[y->depth - 1].node) &&
	    y->stack[y->depth - 1].key == NULL;
}

/* A scalar as compose-yaml.h says: resolve says whether a plain, untagged
 * scalar's text may mean null or a boolean. */
static cJSON *
compose_yaml_scalar_node(const char *s, int resolve)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };
	static const char *const trues[] = { "true", "True", "TRUE" };
	static const char *const falses[] = { "false", "False", "FALSE" };

	if (resolve) {
		for (size_t i = 0; i < sizeof nulls / sizeof nulls[0]; i++)
			if (strcmp(s, nulls[i]) == 0)
				return cJSON_CreateNull();
		for (size_t i = 0; i < sizeof trues / sizeof trues[0]; i++) {
			if (strcmp(s, trues[i]) == 0)
				return cJSON_CreateTrue();
			if (strcmp(s, falses[i]) == 0)
				return cJSON_CreateFalse();
		}
	}
	return cJSON_CreateString(s);
}

static int
compose_yaml_on_scalar(struct compose_yaml *y, const yaml_event_t *ev)
{
	const char *s = (const char *)ev->data.scalar.value;
	const char *tag = (const char *)ev->data.scalar.tag;
	int plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	cJSON *node;

	if (strlen(s) != ev->data.scalar.length)
		return compose_yaml_fail(
		    y, ev->start_mark, "a NUL character in a scalar is not supported");
	if (compose_yaml_count(y, ev->start_mark, 1) != 0)
		return -1;
	node = compose_yaml_scalar_node(
	    s, plain && (tag == NULL || strcmp(tag, YAML_STR_TAG) != 0));
	if (compose_yaml_anchor_set(y, ev->data.scalar.anchor, node, s, ev->start_mark) !=
	    0) {
		cJSON_Delete(node);
		return -1;
	}
	return compose_yaml_add(
	    y, node, s, plain && tag == NULL && strcmp(s, "<<") == 0, ev->start_mark);
}

static int
compose_yaml_on_alias(struct compose_yaml *y, const yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;
	const struct compose_yaml_anchor *a = compose_yaml_anchor_find(y, name);

	if (a == NULL)
		return compose_yaml_fail(
		    y, ev->start_mark, "alias *%s: no anchor &%s before it", name, name);
	if (y->depth + a->height > COMPOSE_YAML_MAX_DEPTH)
		return compose_yaml_fail(y, ev->start_mark,
		    "alias *%s: nested deeper than %d levels", name,
		    COMPOSE_YAML_MAX_DEPTH);
	if (compose_yaml_count(y, ev->start_mark, a->nodes) != 0)
		return -1;
	return compose_yaml_add(
	    y, cJSON_Duplicate(a->node, 1), a->text, 0, ev->start_mark);
}

/* A sequence or mapping starts. */
static int
compose_yaml_open(struct compose_yaml *y, const yaml_event_t *ev)
{
	int is_map = ev->type == YAML_MAPPING_START_EVENT;
	const unsigned char *anchor =
	    is_map ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor;
	struct compose_yaml_frame *f;

	if (compose_yaml_at_key(y))
		return compose_yaml_fail(
		    y, ev->start_mark, "a mapping key must be a scalar");
	if (y->depth >= COMPOSE_YAML_MAX_DEPTH)
		return compose_yaml_fail(y, ev->start_mark,
		    "nested deeper than %d levels", COMPOSE_YAML_MAX_DEPTH);
	if (compose_yaml_count(y, ev->start_mark, 1) != 0)
		return -1;
	f = &y->stack[y->depth++];
	f->node = is_map ? cJSON_CreateObject() : cJSON_CreateArray();
	f->key = NULL;
	f->merge = 0;
	f->anchor = anchor != NULL ? xstrdup((const char *)anchor) : NULL;
	f->start = ev->start_mark;
	return 0;
}

/* A sequence or mapping ends: it goes into its parent. */
static int
compose_yaml_close(struct compose_yaml *y)
{
	struct compose_yaml_frame f = y->stack[--y->depth];
	int rc;

	free(f.key); /* libyaml gives every key a value; this is NULL */
	rc = compose_yaml_anchor_set(
	    y, (const unsigned char *)f.anchor, f.node, NULL, f.start);
	free(f.anchor);
	if (rc != 0) {
		cJSON_Delete(f.node);
		return -1;
	}
	return compose_yaml_add(y, f.node, NULL, 0, f.start);
}

static int
compose_yaml_event(struct compose_yaml *y, const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (y->documents++ > 0)
			return compose_yaml_fail(y, ev->start_mark,
			    "a second YAML document (only one is read)");
		return 0;
	case YAML_SCALAR_EVENT: return compose_yaml_on_scalar(y, ev);
	case YAML_ALIAS_EVENT: return compose_yaml_on_alias(y, ev);
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT: return compose_yaml_open(y, ev);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT: return compose_yaml_close(y);
	default: return 0;
	}
}

static void
compose_yaml_clear(struct compose_yaml *y)
{
	for (int i = 0; i < y->depth; i++) {
		cJSON_Delete(y->stack[i].node);
		free(y->stack[i].key);
		free(y->stack[i].anchor);
	}
	for (size_t i = 0; i < y->nanchors; i++) {
		free(y->anchors[i].name);
		cJSON_Delete(y->anchors[i].node);
		free(y->anchors[i].text);
	}
	free(y->anchors);
}

cJSON *
compose_yaml_parse(const char *name, const char *text, size_t len, char **cause)
{
	struct compose_yaml *y = xcalloc(1, sizeof *y);
	yaml_parser_t parser;
	yaml_event_t ev;
	cJSON *root = NULL;
	int rc = 0, done = 0;

	y->name = name;
	y->cause = cause;
	if (text == NULL)
		text = "";
	if (!yaml_parser_initialize(&parser))
		fatal("libyaml: out of memory");
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	while (rc == 0 && !done) {
		if (!yaml_parser_parse(&parser, &ev)) {
			rc = compose_yaml_parser_error(y, &parser, text, len);
			break;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		rc = compose_yaml_event(y, &ev);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	if (rc == 0)
		root = y->root != NULL ? y->root : cJSON_CreateNull();
	else
		cJSON_Delete(y->root);
	compose_yaml_clear(y);
	free(y);
	return root;
}
