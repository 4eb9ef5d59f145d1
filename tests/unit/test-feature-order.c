/* test-feature-order.c - the install order of Features (the reference's
 * round-based sort), cycles, overrideFeatureInstallOrder. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "feature-order.h"
#include "test.h"

/* The ids in the order feature_order_sort() gives, ", "-separated, or the
 * error. */
static char *
order_text(struct feature_order_node *nodes, size_t n)
{
	size_t order[16];
	char *cause = NULL, *s;
	struct buf *b;

	if (feature_order_sort(nodes, n, order, &cause) != 0)
		return cause;
	b = buf_new();
	for (size_t i = 0; i < n; i++)
		buf_appendf(b, "%s%s", i > 0 ? ", " : "", nodes[order[i]].id);
	s = buf_take_string(b, NULL);
	buf_free(b);
	return s;
}

static struct feature_order_node
node(const char *id, const cJSON *options)
{
	struct feature_order_node n;

	memset(&n, 0, sizeof n);
	n.id = id;
	n.key = id;
	n.options = options;
	return n;
}

TEST(independent_features_sorted_by_key)
{
	cJSON *o = cJSON_CreateObject();
	struct feature_order_node v[] = { node("c", o), node("a", o), node("B", o) };
	char *s = order_text(v, 3);

	ASSERT_STR_EQ(s, "a, B, c");
	free(s);
	cJSON_Delete(o);
}

TEST(depends_on_chain_goes_in_rounds)
{
	cJSON *o = cJSON_CreateObject();
	struct feature_order_node v[] = { node("a", o), node("b", o), node("c", o),
		node("d", o) };
	size_t a_deps[] = { 1 }, b_deps[] = { 2 };
	char *s;

	/* a needs b needs c; d alone goes in the first round with c. */
	v[0].depends = a_deps;
	v[0].ndepends = 1;
	v[1].depends = b_deps;
	v[1].ndepends = 1;
	s = order_text(v, 4);
	ASSERT_STR_EQ(s, "c, d, b, a");
	free(s);
	cJSON_Delete(o);
}

TEST(installs_after_soft_and_absent_ignored)
{
	cJSON *o = cJSON_CreateObject();
	struct feature_order_node v[] = { node("a", o), node("z", o) };
	struct feature_order_soft after[] = { { "z", NULL, 0 },
		{ "not-there", NULL, 0 } };
	char *s;

	v[0].after = after;
	v[0].nafter = 2;
	s = order_text(v, 2);
	ASSERT_STR_EQ(s, "z, a");
	free(s);
	cJSON_Delete(o);
}

TEST(override_priority_wins_within_a_round)
{
	cJSON *o = cJSON_CreateObject();
	struct feature_order_node v[] = { node("a", o), node("b", o), node("c", o) };
	const char *keys[] = { "c", "b" };
	char *s;

	feature_order_override(v, 3, keys, 2);
	ASSERT_INT_EQ(v[2].priority, 2);
	ASSERT_INT_EQ(v[1].priority, 1);
	s = order_text(v, 3);
	ASSERT_STR_EQ(s, "c, b, a");
	free(s);
	cJSON_Delete(o);
}

TEST(cycle_names_the_features_on_it)
{
	cJSON *o = cJSON_CreateObject();
	struct feature_order_node v[] = { node("./a", o), node("./b", o), node("./c", o),
		node("./d", o) };
	size_t a_deps[] = { 1 }, b_deps[] = { 0 }, c_deps[] = { 0 };
	char *s;

	/* a <-> b; c waits on a (not on the cycle); d is free. */
	v[0].depends = a_deps;
	v[0].ndepends = 1;
	v[1].depends = b_deps;
	v[1].ndepends = 1;
	v[2].depends = c_deps;
	v[2].ndepends = 1;
	s = order_text(v, 4);
	ASSERT_STR_EQ(s,
	    "Features ./a, ./b depend on each other (a dependsOn / installsAfter "
	    "cycle): no order installs each after what it needs");
	free(s);
	cJSON_Delete(o);
}

TEST(soft_cycle_is_a_cycle_too)
{
	cJSON *o = cJSON_CreateObject();
	struct feature_order_node v[] = { node("a", o), node("b", o) };
	struct feature_order_soft aa[] = { { "b", NULL, 0 } },
				  ba[] = { { "a", NULL, 0 } };
	char *s;

	v[0].after = aa;
	v[0].nafter = 1;
	v[1].after = ba;
	v[1].nafter = 1;
	s = order_text(v, 2);
	ASSERT_STR_CONTAINS(s, "Features a, b depend on each other");
	free(s);
	cJSON_Delete(o);
}

TEST(same_key_ordered_by_options)
{
	cJSON *o1 = cJSON_Parse("{\"v\":\"2\"}"), *o2 = cJSON_Parse("{\"v\":\"1\"}");
	struct feature_order_node v[] = { node("x", o1), node("x", o2) };
	size_t order[2];
	char *cause = NULL;

	ASSERT_INT_EQ(feature_order_sort(v, 2, order, &cause), 0);
	ASSERT_INT_EQ((int)order[0], 1);
	cJSON_Delete(o1);
	cJSON_Delete(o2);
}

/* Options as written, as the reference's compareFeatureOptions(): a
 * boolean before an object before a string (typeof), {} before any option,
 * string values by localeCompare ("a" before "B"), two strings too. */
TEST(same_key_ordered_by_options_as_written)
{
	cJSON *o[] = { cJSON_Parse("\"2\""), cJSON_Parse("{\"v\":\"B\"}"),
		cJSON_Parse("{\"v\":\"a\"}"), cJSON_Parse("{}"), cJSON_Parse("true"),
		cJSON_Parse("\"10\"") };
	struct feature_order_node v[] = { node("s2", o[0]), node("vB", o[1]),
		node("va", o[2]), node("none", o[3]), node("true", o[4]),
		node("s10", o[5]) };
	char *s;

	for (size_t i = 0; i < 6; i++)
		v[i].key = "x";
	s = order_text(v, 6);
	ASSERT_STR_EQ(s, "true, none, va, vB, s10, s2");
	free(s);
	for (size_t i = 0; i < 6; i++)
		cJSON_Delete(o[i]);
}

TEST(collate_like_locale_compare)
{
	ASSERT_TRUE(feature_order_collate("a", "B") < 0);
	ASSERT_TRUE(feature_order_collate("b", "A") > 0);
	ASSERT_TRUE(feature_order_collate("a", "A") < 0);
	ASSERT_TRUE(feature_order_collate("_x", "1") < 0);
	ASSERT_TRUE(feature_order_collate("9", "a") < 0);
	ASSERT_TRUE(feature_order_collate("ab", "abc") < 0);
	ASSERT_INT_EQ(feature_order_collate("/w/a", "/w/a"), 0);
}

static struct feature_order_node
oci_node(const char *id, const char *ns, const char *name, const char *tag,
    const char *digest, const cJSON *options)
{
	struct feature_order_node n = node(id, options);

	n.kind = FEATURE_ORDER_OCI;
	n.oci_ns = ns;
	n.oci_name = name;
	n.oci_tag = tag;
	n.oci_digest = digest;
	return n;
}

/* The reference's compareTo: OCI ones by registry/namespace, id, tag,
 * options, then digest (not by digest first); different kinds by the ids
 * as written. */
TEST(oci_sorted_by_namespace_id_tag_not_digest)
{
	cJSON *o = cJSON_CreateObject(), *o1 = cJSON_Parse("{\"v\":\"1\"}");
	struct feature_order_node v[] = {
		oci_node("r/n/b:1", "r/n", "b", "1", "sha256:1", o),
		oci_node("r/n/a:2", "r/n", "a", "2", "sha256:2", o),
		oci_node("r/m/z:1", "r/m", "z", "1", "sha256:3", o),
		oci_node("r/n/a:1", "r/n", "a", "1", "sha256:4", o),
		oci_node("r/n/b@sha256:0", "r/n", "b", NULL, "sha256:0", o1),
		node("./local", o),
	};
	char *s = order_text(v, 6);

	ASSERT_STR_EQ(s, "./local, r/m/z:1, r/n/a:1, r/n/a:2, r/n/b:1, r/n/b@sha256:0");
	free(s);
	cJSON_Delete(o);
	cJSON_Delete(o1);
}

/* The same, with keys as feature-resolve gives them ("registry/namespace/id",
 * equal for one Feature's tags) and digests in the other order: by key and
 * options, or by digest, a:2 (no options, sha256:1) would come first. */
TEST(oci_sorted_by_tag_then_options_then_digest)
{
	cJSON *o = cJSON_CreateObject(), *o1 = cJSON_Parse("{\"v\":\"1\"}");
	struct feature_order_node v[] = {
		oci_node("r/n/a:2", "r/n", "a", "2", "sha256:1", o),
		oci_node("r/n/a:1", "r/n", "a", "1", "sha256:2", o1),
		oci_node("r/n/b@sha256:3", "r/n", "b", NULL, "sha256:3", o),
		oci_node("r/n/b@sha256:4", "r/n", "b", NULL, "sha256:4", o1),
	};
	char *s;

	for (size_t i = 0; i < 4; i++)
		v[i].key = i < 2 ? "r/n/a" : "r/n/b";
	s = order_text(v, 4);
	ASSERT_STR_EQ(s, "r/n/a:1, r/n/a:2, r/n/b@sha256:3, r/n/b@sha256:4");
	free(s);
	cJSON_Delete(o);
	cJSON_Delete(o1);
}

/* legacyIds (the reference's featureIdAliases), in installsAfter: an entry
 * naming r/n/new, whose metadata says it was r/n/old, waits for r/n/old;
 * one whose aliases match nothing installed waits for nothing. */
TEST(installs_after_matches_legacy_ids)
{
	cJSON *o = cJSON_CreateObject();
	struct feature_order_node v[] = {
		oci_node("r/n/a:1", "r/n", "a", "1", "sha256:1", o),
		oci_node("r/n/old:1", "r/n", "old", "1", "sha256:2", o),
	};
	const char *aliases[] = { "r/n/new", "r/n/old" }, *none[] = { "r/n/gone" };
	struct feature_order_soft after[] = { { "r/n/new", aliases, 2 },
		{ "r/n/other", none, 1 } };
	char *s;

	v[0].key = "r/n/a";
	v[1].key = "r/n/old";
	v[0].after = after;
	v[0].nafter = 2;
	s = order_text(v, 2);
	ASSERT_STR_EQ(s, "r/n/old:1, r/n/a:1");
	free(s);
	/* Without the aliases the entry names nothing installed. */
	after[0].naliases = 0;
	s = order_text(v, 2);
	ASSERT_STR_EQ(s, "r/n/a:1, r/n/old:1");
	free(s);
	cJSON_Delete(o);
}

/* An entry matching two nodes (by key, or by an alias) waits for the first
 * of them only, as the reference's "some installed satisfies it". */
TEST(installs_after_waits_for_any_match)
{
	cJSON *o = cJSON_CreateObject();
	struct feature_order_node v[] = {
		oci_node("r/n/z:1", "r/n", "z", "1", "sha256:1", o),
		oci_node("r/n/new:1", "r/n", "new", "1", "sha256:2", o),
		oci_node("r/n/old:1", "r/n", "old", "1", "sha256:3", o),
	};
	const char *aliases[] = { "r/n/new", "r/n/old" };
	struct feature_order_soft after[] = { { "r/n/new", aliases, 2 } };
	size_t old_deps[] = { 0 };
	char *s;

	v[0].key = "r/n/z";
	v[1].key = "r/n/new";
	v[2].key = "r/n/old";
	v[2].depends = old_deps; /* old after z: new is installed first */
	v[2].ndepends = 1;
	v[0].after = NULL;
	v[1].after = NULL;
	s = order_text(v, 3);
	ASSERT_STR_EQ(s, "r/n/new:1, r/n/z:1, r/n/old:1");
	free(s);
	/* z installsAfter new-or-old: new (round 1) is enough. */
	v[0].after = after;
	v[0].nafter = 1;
	s = order_text(v, 3);
	ASSERT_STR_EQ(s, "r/n/new:1, r/n/z:1, r/n/old:1");
	free(s);
	cJSON_Delete(o);
}

/* overrideFeatureInstallOrder matches by key alone (the reference gives
 * its override entries no aliases). */
TEST(override_ignores_legacy_ids)
{
	cJSON *o = cJSON_CreateObject();
	struct feature_order_node v[] = {
		oci_node("r/n/a:1", "r/n", "a", "1", "sha256:1", o),
		oci_node("r/n/old:1", "r/n", "old", "1", "sha256:2", o),
	};
	const char *ids[] = { "new", "old" }, *keys[] = { "r/n/new" };
	char *s;

	v[0].key = "r/n/a";
	v[1].key = "r/n/old";
	v[1].oci_ids = ids;
	v[1].noci_ids = 2;
	feature_order_override(v, 2, keys, 1);
	ASSERT_INT_EQ(v[1].priority, 0);
	s = order_text(v, 2);
	ASSERT_STR_EQ(s, "r/n/a:1, r/n/old:1");
	free(s);
	cJSON_Delete(o);
}

/* compareTo: two OCI Features with an id in common (legacyIds) are one
 * resource, sorted by tag then, not by their ids: old:1 (ids old) and
 * new:2 (ids new, old) go by tag; without the common id, by id (new
 * first). */
TEST(oci_common_legacy_id_sorts_by_tag)
{
	cJSON *o = cJSON_CreateObject();
	struct feature_order_node v[] = {
		oci_node("r/n/new:2", "r/n", "new", "2", "sha256:1", o),
		oci_node("r/n/old:1", "r/n", "old", "1", "sha256:2", o),
	};
	const char *new_ids[] = { "new", "old" }, *old_ids[] = { "old" },
		   *new_only[] = { "new" };
	char *s;

	v[0].key = "r/n/new";
	v[1].key = "r/n/old";
	v[0].oci_ids = new_ids;
	v[0].noci_ids = 2;
	v[1].oci_ids = old_ids;
	v[1].noci_ids = 1;
	s = order_text(v, 2);
	ASSERT_STR_EQ(s, "r/n/old:1, r/n/new:2");
	free(s);
	v[0].oci_ids = new_only;
	v[0].noci_ids = 1;
	s = order_text(v, 2);
	ASSERT_STR_EQ(s, "r/n/new:2, r/n/old:1");
	free(s);
	cJSON_Delete(o);
}
