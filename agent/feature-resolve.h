/* feature-resolve.h - the Dev Container Features a configuration asks for,
 * found, read, checked and put in install order.
 *
 * Each id in "features" (and each "dependsOn" of a Feature, with its
 * options) becomes a folder holding devcontainer-feature.json and
 * install.sh. A local id ("./name", "../name") is a folder relative to the
 * devcontainer.json's folder (as the reference CLI takes it, in dependsOn
 * too). Any other id (an OCI reference, a tarball URL) is fetched into the
 * agent's cache (feature-fetch.h: <state dir>/features), at the digest
 * devcontainer-lock.json pins when it has the id (feature-lock.h), unless
 * told not to read it.
 *
 * Reads files and fetches Features; runs nothing.
 */
#ifndef RDEV_FEATURE_RESOLVE_H
#define RDEV_FEATURE_RESOLVE_H

#include <stddef.h>

#include <cjson/cJSON.h>

struct config;
struct feature_json;
struct feature_ref;

/* An installsAfter entry resolved: its key (struct feature) and, for an
 * OCI one, the keys of its metadata's ids (feature_order_soft); every
 * string owned. */
struct feature_after {
	char *key;
	char **aliases;
	size_t naliases;
};

/* One Feature to install. */
struct feature {
	char *id;		   /* as written: "./a", or a dependsOn key */
	char *dir;		   /* its folder, absolute and resolved */
	struct feature_json *json; /* its devcontainer-feature.json */
	cJSON *options;		   /* the option values it is installed with */
	/* Its value as written (an object, a string or a boolean): what the
	 * install order compares, as the reference's compareTo does. */
	cJSON *given;
	size_t *depends; /* dependsOn: indexes into the set */
	size_t ndepends;
	struct feature_after *after; /* installsAfter, as keys (below) */
	size_t nafter;
	/* OCI: its metadata's id (or currentId) then its legacyIds, the
	 * reference's featureIdAliases; borrowed from json. */
	const char **ids;
	size_t nids;
	/* What installsAfter and overrideFeatureInstallOrder entries match (as
	 * the reference's): a local one's folder, an OCI one's
	 * "registry/namespace/id" (no tag; feature_ref's resource), a
	 * tarball's URL (normalised, feature_ref's url). */
	char *key;
	struct feature_ref *ref; /* the parsed id; NULL for a local one */
	char *oci_ns;		 /* OCI: "registry/namespace" */
	/* Fetched ones (NULL for a local Feature): what devcontainer-lock.json
	 * pins, "registry/path@sha256:..." or the tarball URL, and the digest. */
	char *resolved;
	char *integrity;
	/* OCI: its manifest's JSON text as fetched (feature_fetched's), or
	 * NULL. */
	char *manifest;
	char *where; /* where it is named, for messages */
};

/* The Features of a configuration, in install order. */
struct feature_set {
	struct feature *v; /* as found: the configuration's, then dependencies */
	size_t n;
	size_t *order; /* n indexes into v: the install order */
};

/* Resolve, check and order cfg's Features and those of additional (up's
 * --additional-features: an object as "features", or NULL) that cfg does
 * not name, after cfg's, at the digests its devcontainer-lock.json pins
 * unless no_lock (up's --no-lockfile, and upgrade: the tags afresh).
 * Returns a new set (free with
 * feature_set_free(); n is 0 when there are none) or NULL with *cause set
 * (caller frees), naming the Feature and, where it comes from a file, the
 * file, line and column: "/w/.devcontainer/devcontainer.json:4:5:
 * \"features\".\"./a\": unknown option \"colour\" ...",
 * "/w/.devcontainer/a/devcontainer-feature.json:3:14: ...". */
struct feature_set *feature_resolve(
    const struct config *cfg, const cJSON *additional, int no_lock, char **cause);
void feature_set_free(struct feature_set *fs);

/* feature-config.c */
/* fs (NULL or none: NULL) as the reference's read-configuration prints its
 * "featuresConfiguration": {"featureSets":[{"sourceInformation":{...},
 * "features":[{...devcontainer-feature.json, "id", "value", "included",
 * "consecutiveId"}], "internalVersion":"2", "computedDigest"}]}, one set per
 * Feature in install order, a local one's resolvedFilePath config_file's
 * folder joined with its id (as the reference: no link followed). What rdev has not (the
 * reference's cachePath and dstFolder, its copies of the Features; an OCI manifest not
 * fetched, its digest pinned and cached) is left out (docs/CONFORMANCE.md, D2). New
 * object, the caller frees it. */
cJSON *feature_config_json(const struct feature_set *fs, const char *config_file);

/* config_file's folder joined with a local Feature's id as Node's
 * path.join(path.dirname(config_file), id) writes it (the reference's
 * resolvedFilePath): "/w/.devcontainer/devcontainer.json" and "./a/" give
 * "/w/.devcontainer/a/", "d.json" and "../x" give "../x". Pure. New string,
 * the caller frees it. */
char *feature_config_local_path(const char *config_file, const char *id);

#endif
