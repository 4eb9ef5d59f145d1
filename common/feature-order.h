/* feature-order.h - the order Dev Container Features are installed in.
 *
 * The reference CLI's round-based sort (containerFeaturesOrder.ts,
 * computeDependsOnInstallationOrder): each round takes every Feature whose
 * hard dependencies (dependsOn) and soft ones (installsAfter, those that
 * are installed at all) are installed already; of those, only the ones with
 * the highest priority (overrideFeatureInstallOrder); sorted as the
 * reference's compareTo: two of one kind by their key (a local one's
 * resolvedFilePath, a tarball's URL; see feature_order_collate()) then their
 * options as written ({} first), OCI ones by registry/namespace, id (two whose ids,
 * legacyIds included, have one in common count as one Feature), tag, options and digest;
 * two of different kinds by the ids as written. A round that takes nothing is a cycle.
 *
 * Pure: no I/O, no globals.
 */
#ifndef RDEV_FEATURE_ORDER_H
#define RDEV_FEATURE_ORDER_H

#include <stddef.h>

#include <cjson/cJSON.h>

enum feature_order_kind {
	FEATURE_ORDER_LOCAL,
	FEATURE_ORDER_OCI,
	FEATURE_ORDER_TARBALL,
};

/* One installsAfter entry: what it names (a key, below) and, for an OCI
 * one, the other keys that are the same Feature: "registry/namespace/ID"
 * for each id of the entry's own metadata (its id, or currentId, and its
 * legacyIds), as the reference's satisfiesSoftDependency() takes them. The
 * entry waits for the first node installed that has one of them. */
struct feature_order_soft {
	const char *key;
	const char *const *aliases;
	size_t naliases;
};

/* One Feature to install; everything borrowed from the caller. A Feature
 * named twice with equal options (the caller says which are equal) is
 * given once. */
struct feature_order_node {
	const char *id; /* as the user wrote it, for messages */
	enum feature_order_kind kind;
	/* What installsAfter and overrideFeatureInstallOrder entries name: a
	 * local one's resolved folder, an OCI one's "registry/namespace/id"
	 * (no tag or digest: the reference's featureRef.resource), a
	 * tarball's URL. */
	const char *key;
	const char *oci_ns;	/* OCI: "registry/namespace" */
	const char *oci_name;	/* OCI: the id, last part of the key */
	const char *oci_tag;	/* OCI: the tag, or NULL (pinned by digest) */
	const char *oci_digest; /* OCI: the manifest's digest */
	/* OCI: its metadata's id (or currentId) and legacyIds, the reference's
	 * featureIdAliases; none: oci_name alone. */
	const char *const *oci_ids;
	size_t noci_ids;
	/* Its value as written (an object of options, a string or a
	 * boolean; not filled in with defaults), as the reference compares. */
	const cJSON *options;
	const size_t *depends; /* dependsOn: indexes of other nodes */
	size_t ndepends;
	const struct feature_order_soft *after; /* installsAfter; absent ones ignored */
	size_t nafter;
	int priority; /* 0, or set by feature_order_override() */
};

/* overrideFeatureInstallOrder, its entries resolved to keys (in its order):
 * entry i of n gives the nodes with its key priority n - i (the highest
 * wins). By key alone: the reference gives its override entries no
 * legacyIds. */
void feature_order_override(
    struct feature_order_node *nodes, size_t n, const char *const *keys, size_t nkeys);

/* Fill order[0..n) with the node indexes in install order. 0, or -1 with
 * *cause (caller frees): "Features ./a, ./b depend on each other (dependsOn /
 * installsAfter cycle)" naming the Features on a cycle. */
int feature_order_sort(
    const struct feature_order_node *nodes, size_t n, size_t *order, char **cause);

/* Compare two strings roughly as JavaScript's localeCompare() does in the
 * root locale for ASCII: punctuation before digits before letters, letters
 * compared without case first and lower case before upper case on a tie. */
int feature_order_collate(const char *a, const char *b);

#endif
