/* feature-order.c - the install order of Features (see feature-order.h). */
#include "feature-order.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "xmalloc.h"

void
feature_order_override(
    struct feature_order_node *nodes, size_t n, const char *const *keys, size_t nkeys)
{
	for (size_t i = 0; i < nkeys; i++)
		for (size_t j = 0; j < n; j++)
			if (strcmp(nodes[j].key, keys[i]) == 0 &&
			    nodes[j].priority < (int)(nkeys - i))
				nodes[j].priority = (int)(nkeys - i);
}

/* The primary weight of an ASCII character: ICU's root collation puts
 * whitespace and punctuation first, then digits, then letters. */
static int
feature_order_weight(unsigned char c)
{
	if (isalpha(c))
		return 0x300 + tolower(c);
	if (isdigit(c))
		return 0x200 + c;
	return 0x100 + c;
}

int
feature_order_collate(const char *a, const char *b)
{
	const unsigned char *p = (const unsigned char *)a, *q = (const unsigned char *)b;
	int tie = 0;

	for (; *p != '\0' && *q != '\0'; p++, q++) {
		if (feature_order_weight(*p) != feature_order_weight(*q))
			return feature_order_weight(*p) - feature_order_weight(*q);
		if (tie == 0 && *p != *q)
			tie = islower(*p) ? -1 : 1;
	}
	if (*p != *q)
		return *p == '\0' ? -1 : 1;
	return tie;
}

/* Have two OCI nodes an id in common (ociResourceCompareTo(): each one's
 * aliases, or its ref's id when it has none)? */
static int
feature_order_common_id(
    const struct feature_order_node *a, const struct feature_order_node *b)
{
	size_t na = a->noci_ids > 0 ? a->noci_ids : 1,
	       nb = b->noci_ids > 0 ? b->noci_ids : 1;

	for (size_t i = 0; i < na; i++)
		for (size_t j = 0; j < nb; j++)
			if (strcmp(a->noci_ids > 0 ? a->oci_ids[i] : a->oci_name,
				b->noci_ids > 0 ? b->oci_ids[j] : b->oci_name) == 0)
				return 1;
	return 0;
}

/* JavaScript's typeof of a JSON value, as the reference's
 * compareFeatureOptions() compares two of different types. */
static const char *
feature_order_typeof(const cJSON *v)
{
	if (cJSON_IsBool(v))
		return "boolean";
	if (cJSON_IsString(v))
		return "string";
	if (cJSON_IsNumber(v))
		return "number";
	return "object";
}

/* The members of an object sorted by name (strcmp: the code unit order of
 * JavaScript's sort() for ASCII); an array, null or NULL has none here. A
 * new array of borrowed items. */
static const cJSON **
feature_order_members(const cJSON *v, size_t *n)
{
	const cJSON **m, *e, *t;

	*n = 0;
	m = xreallocarray(NULL, (size_t)cJSON_GetArraySize(v) + 1, sizeof *m);
	if (!cJSON_IsObject(v))
		return m;
	cJSON_ArrayForEach(e, v)
		m[(*n)++] = e;
	for (size_t i = 1; i < *n; i++)
		for (size_t j = i; j > 0 && strcmp(m[j - 1]->string, m[j]->string) > 0;
		     j--) {
			t = m[j];
			m[j] = m[j - 1];
			m[j - 1] = t;
		}
	return m;
}

/* The reference's compareFeatureOptions(): two Features' values as written
 * in devcontainer.json or dependsOn (not filled in with defaults: {} sorts
 * before any option given). Two strings (each a "version") by
 * localeCompare, two booleans false first, two objects by their number of
 * options, then name by name (sorted) by name and by a string or boolean
 * value (values of different types are passed over); values of different
 * types by their typeof's name ("boolean" < "object" < "string"). */
static int
feature_order_options_compare(const cJSON *a, const cJSON *b)
{
	const cJSON **ma, **mb;
	size_t na, nb;
	int rc = 0;

	if (cJSON_IsString(a) && cJSON_IsString(b))
		return feature_order_collate(a->valuestring, b->valuestring);
	if (cJSON_IsBool(a) && cJSON_IsBool(b))
		return cJSON_IsTrue(a) - cJSON_IsTrue(b);
	if (strcmp(feature_order_typeof(a), "object") != 0 ||
	    strcmp(feature_order_typeof(b), "object") != 0)
		return strcmp(feature_order_typeof(a), feature_order_typeof(b));
	ma = feature_order_members(a, &na);
	mb = feature_order_members(b, &nb);
	if (na != nb)
		rc = na < nb ? -1 : 1;
	for (size_t i = 0; rc == 0 && i < na; i++) {
		if (strcmp(ma[i]->string, mb[i]->string) != 0)
			rc = feature_order_collate(ma[i]->string, mb[i]->string);
		else if (cJSON_IsString(ma[i]) && cJSON_IsString(mb[i]))
			rc =
			    feature_order_collate(ma[i]->valuestring, mb[i]->valuestring);
		else if (cJSON_IsBool(ma[i]) && cJSON_IsBool(mb[i]))
			rc = cJSON_IsTrue(ma[i]) - cJSON_IsTrue(mb[i]);
	}
	free(ma);
	free(mb);
	return rc;
}

/* The reference's compareTo (containerFeaturesOrder.ts). */
static int
feature_order_compare(
    const struct feature_order_node *a, const struct feature_order_node *b)
{
	int rc;

	if (a->kind != b->kind)
		return feature_order_collate(a->id, b->id);
	if (a->kind != FEATURE_ORDER_OCI) {
		rc = feature_order_collate(a->key, b->key);
		return rc != 0 ? rc
			       : feature_order_options_compare(a->options, b->options);
	}
	if (strcmp(a->oci_digest, b->oci_digest) == 0 &&
	    feature_order_options_compare(a->options, b->options) == 0)
		return 0;
	if ((rc = feature_order_collate(a->oci_ns, b->oci_ns)) != 0)
		return rc;
	if (!feature_order_common_id(a, b) &&
	    (rc = feature_order_collate(a->oci_name, b->oci_name)) != 0)
		return rc;
	if (a->oci_tag != NULL && b->oci_tag != NULL &&
	    strcmp(a->oci_tag, b->oci_tag) != 0)
		return feature_order_collate(a->oci_tag, b->oci_tag);
	if ((rc = feature_order_options_compare(a->options, b->options)) != 0)
		return rc;
	return feature_order_collate(a->oci_digest, b->oci_digest);
}

/* Does node satisfy the installsAfter entry soft? */
static int
feature_order_soft_match(
    const struct feature_order_node *node, const struct feature_order_soft *soft)
{
	if (strcmp(node->key, soft->key) == 0)
		return 1;
	for (size_t i = 0; i < soft->naliases; i++)
		if (strcmp(node->key, soft->aliases[i]) == 0)
			return 1;
	return 0;
}

/* Is the installsAfter entry soft installed (a node it matches is done),
 * or not to be installed at all (it matches none)? */
static int
feature_order_after_ok(const struct feature_order_node *nodes, size_t n,
    const struct feature_order_soft *soft, const int *done)
{
	int present = 0;

	for (size_t i = 0; i < n; i++) {
		if (!feature_order_soft_match(&nodes[i], soft))
			continue;
		if (done[i])
			return 1;
		present = 1;
	}
	return !present;
}

static int
feature_order_ready(
    const struct feature_order_node *nodes, size_t n, size_t i, const int *done)
{
	for (size_t d = 0; d < nodes[i].ndepends; d++)
		if (!done[nodes[i].depends[d]])
			return 0;
	for (size_t a = 0; a < nodes[i].nafter; a++)
		if (!feature_order_after_ok(nodes, n, &nodes[i].after[a], done))
			return 0;
	return 1;
}

/* Does node to depend (hard or soft) on node from, among the nodes not
 * done? seen: scratch, n ints. */
static int
feature_order_reaches(const struct feature_order_node *nodes, size_t n, size_t from,
    size_t to, const int *done, int *seen)
{
	if (seen[from])
		return 0;
	seen[from] = 1;
	for (size_t d = 0; d < nodes[from].ndepends; d++) {
		size_t k = nodes[from].depends[d];

		if (!done[k] &&
		    (k == to || feature_order_reaches(nodes, n, k, to, done, seen)))
			return 1;
	}
	for (size_t a = 0; a < nodes[from].nafter; a++)
		for (size_t k = 0; k < n; k++)
			if (!done[k] &&
			    feature_order_soft_match(&nodes[k], &nodes[from].after[a]) &&
			    (k == to ||
				feature_order_reaches(nodes, n, k, to, done, seen)))
				return 1;
	return 0;
}

/* The error for a round that takes nothing: the Features on a cycle. */
static int
feature_order_cycle(
    const struct feature_order_node *nodes, size_t n, const int *done, char **cause)
{
	struct buf *b = buf_new();
	int *seen = xcalloc(n, sizeof *seen);
	char *names;

	for (size_t i = 0; i < n; i++) {
		if (done[i])
			continue;
		memset(seen, 0, n * sizeof *seen);
		if (feature_order_reaches(nodes, n, i, i, done, seen))
			buf_appendf(b, "%s%s", buf_len(b) > 0 ? ", " : "", nodes[i].id);
	}
	names = buf_take_string(b, NULL);
	error_set(cause,
	    "Features %s depend on each other (a dependsOn / installsAfter cycle): "
	    "no order installs each after what it needs",
	    names);
	free(names);
	free(seen);
	buf_free(b);
	return -1;
}

int
feature_order_sort(
    const struct feature_order_node *nodes, size_t n, size_t *order, char **cause)
{
	int *done = xcalloc(n ? n : 1, sizeof *done),
	    *ready = xcalloc(n ? n : 1, sizeof *ready);
	size_t count = 0, first, t;
	int max, rc = 0;

	while (count < n) {
		max = -1;
		for (size_t i = 0; i < n; i++) {
			ready[i] = !done[i] && feature_order_ready(nodes, n, i, done);
			if (ready[i] && nodes[i].priority > max)
				max = nodes[i].priority;
		}
		if (max < 0) {
			rc = feature_order_cycle(nodes, n, done, cause);
			break;
		}
		first = count;
		for (size_t i = 0; i < n; i++)
			if (ready[i] && nodes[i].priority == max)
				order[count++] = i;
		/* The round sorted; marked done only now, as one round. */
		for (size_t i = first + 1; i < count; i++)
			for (size_t j = i; j > first &&
			     feature_order_compare(
				 &nodes[order[j - 1]], &nodes[order[j]]) > 0;
			     j--) {
				t = order[j];
				order[j] = order[j - 1];
				order[j - 1] = t;
			}
		for (size_t i = first; i < count; i++)
			done[order[i]] = 1;
	}
	free(done);
	free(ready);
	return rc;
}
