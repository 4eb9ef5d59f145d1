/* config-merge.h - image metadata (the devcontainer.metadata label) and the
 * spec's "Merge Logic" table.
 *
 * An image carries, in its devcontainer.metadata label, one entry per layer
 * of configuration that went into it (base image, features, devcontainer.json).
 * At run time those entries and the current devcontainer.json are merged into
 * one configuration. The output matches the reference CLI's (@devcontainers/cli
 * 0.89.0, src/spec-node/imageMetadata.ts, mergeConfiguration) mergedConfiguration
 * in `devcontainer read-configuration --include-merged-configuration`, key names
 * and key order included:
 *
 * - It starts from the config (all of its properties, in its order) minus
 *   customizations, entrypoint, the five lifecycle commands and
 *   shutdownAction; then sets, in this order: init, privileged, capAdd,
 *   securityOpt, entrypoints, mounts, customizations, onCreateCommands,
 *   updateContentCommands, postCreateCommands, postStartCommands,
 *   postAttachCommands, waitFor, remoteUser, containerUser, userEnvProbe,
 *   remoteEnv, containerEnv, overrideCommand, portsAttributes,
 *   otherPortsAttributes, forwardPorts, shutdownAction, updateRemoteUserUID,
 *   hostRequirements. A key the config already has keeps its position; a merged
 *   value that is "undefined" in the reference removes the key.
 * - Always present: init, privileged (booleans), the five *Commands arrays
 *   (possibly empty), remoteEnv, containerEnv, portsAttributes (objects,
 *   possibly empty). The others are absent when nothing contributed.
 * - "Collected" properties (entrypoints, *Commands) keep each contributed value
 *   as is, so a lifecycle command's string, array and object forms stay
 *   distinct elements. customizations becomes {tool: [value per entry...]}.
 * - "Last wins" uses JavaScript truthiness as the reference does: an empty
 *   string remoteUser does not override an earlier one; overrideCommand and
 *   updateRemoteUserUID take the last boolean.
 * - mounts: string mounts are parsed ("type=bind,src=a,dst=/b") only to find
 *   their target; for each target the last mount wins, at its own position;
 *   each mount is output in its original (string or object) form.
 * - forwardPorts: a number N and "localhost:N" are the same port; the union
 *   keeps first positions; "localhost:N" is output as the number N.
 * - hostRequirements: cpus is the max; memory and storage are the max in
 *   bytes ("4gb" = 4294967296; units kb/mb/gb/tb, lowercase) output as a
 *   decimal string; gpu: false/absent yield to the other, "optional" twice is
 *   "optional", anything else (true, "optional" + true, objects) becomes
 *   {cores: max, memory: max bytes as string} with zero fields left out (so
 *   true + true is {}). cpus is always present (0 when only memory is given).
 *   Reference quirk kept on purpose: with no entries at all (no base metadata
 *   and a config with none of the metadata properties) the reference prints
 *   {"cpus":null,"memory":"-Infinity","storage":"-Infinity"}; so do we.
 *   Consumers must treat a memory/storage that is not all digits as "none".
 * - Objects are output in JavaScript property order (keys that are array
 *   indices, like ports "3000", first in ascending numeric order, then the
 *   rest in insertion order) and duplicate keys collapse (last value, first
 *   position), as the reference's JSON.stringify prints them. This applies
 *   to the whole output, including copied config values. (Printing is
 *   cJSON's: a number like 123456789012345680000 prints as
 *   1.2345678901234567e+20 where JSON.stringify prints all digits.)
 * - Entries that are not objects, and empty objects, are skipped (the
 *   reference filters out entries without keys). Ill-typed values inside
 *   entries are treated the way the reference's JavaScript treats them
 *   (e.g. a string capAdd is one capability); where the reference would
 *   crash (a null mount), the value is skipped.
 *
 * Pure: no I/O, no globals. Inputs are borrowed and never modified; every
 * returned tree is new and owned by the caller.
 */
#ifndef RDEV_CONFIG_MERGE_H
#define RDEV_CONFIG_MERGE_H

#include <cjson/cJSON.h>

#define CONFIG_METADATA_LABEL "devcontainer.metadata"

/* Parse a devcontainer.metadata label value: a JSON array of objects or a
 * single object (which becomes a one-entry array). Returns a new cJSON array
 * (caller frees with cJSON_Delete) or NULL with *cause set ("image label
 * devcontainer.metadata: ..."). Entries that are not objects are left out,
 * as the reference merges only the object entries (it crashes on a null
 * entry; rdev leaves that out too). NULL, empty or all-whitespace label ->
 * empty array.
 * (The reference logs and ignores a bad label; rdev reports it.) */
cJSON *config_metadata_parse(const char *label_value, char **cause);

/* The metadata entry a devcontainer.json contributes (the reference CLI's
 * pickConfigProperties): a new object with only the properties that belong in
 * image metadata, in the reference's pick order (onCreateCommand,
 * updateContentCommand, postCreateCommand, postStartCommand,
 * postAttachCommand, waitFor, customizations, mounts, containerEnv,
 * containerUser, init, privileged, capAdd, securityOpt, remoteUser,
 * userEnvProbe, remoteEnv, overrideCommand, portsAttributes,
 * otherPortsAttributes, forwardPorts, shutdownAction, updateRemoteUserUID,
 * hostRequirements). Note: not entrypoint. A non-object config gives {}.
 * Caller frees with cJSON_Delete. */
cJSON *config_metadata_from_config(const cJSON *config);

/* The entry for an existing container that already has its id labels (the
 * reference's pickUpdateableConfigProperties: remoteUser, userEnvProbe,
 * remoteEnv only); append it to the container's label metadata and merge
 * with config_merge_entries(). Caller frees with cJSON_Delete. */
cJSON *config_metadata_updateable_from_config(const cJSON *config);

/* The entry a feature contributes (the reference's pickFeatureProperties):
 * {"id": id, then onCreateCommand, updateContentCommand, postCreateCommand,
 * postStartCommand, postAttachCommand, init, privileged, capAdd, securityOpt,
 * entrypoint, mounts, customizations as present in feature (its
 * devcontainer-feature.json)}. id may be NULL (then no "id" key); the
 * reference uses the feature reference as the user wrote it
 * ("ghcr.io/devcontainers/features/node:1"). Caller frees with cJSON_Delete. */
cJSON *config_metadata_from_feature(const cJSON *feature, const char *id);

/* Merge metadata entries (array, base image first, then features; may be
 * NULL) followed by config_metadata_from_config(config) applied LAST, per the
 * spec's table, into a new object in the reference CLI's mergedConfiguration
 * shape (see above). config may be NULL (treated as {}). Caller frees with
 * cJSON_Delete. Never fails. */
cJSON *config_merge(const cJSON *metadata, const cJSON *config);

/* Like config_merge() but merges exactly the given entries, without appending
 * the config's own entry (the reference's mergeConfiguration(config,
 * entries)); config only supplies the other properties of the output. */
cJSON *config_merge_entries(const cJSON *entries, const cJSON *config);

/* {"forwardPorts","portsAttributes","otherPortsAttributes"} of metadata
 * entries (an array, may be NULL) merged by the spec's rules (the union of
 * ports; per port, last wins; the last otherPortsAttributes), each only
 * when the entries give one: what a
 * container's image and Features give, recorded at creation (agent/labels.h)
 * so that a configuration's keys can later be told from the image's. Caller
 * frees with cJSON_Delete. */
cJSON *config_merge_ports_of_entries(const cJSON *entries);

/* A new {"forwardPorts","portsAttributes","otherPortsAttributes"}: the ports
 * rdev forwards. forwardPorts is the union of image's (merged's when image
 * is NULL or has none: a label written before rdev recorded them) and
 * config's, as a new container's merge makes it (so a port
 * added to the configuration counts for a reused container at once; one
 * removed stays only when image is NULL). portsAttributes and
 * otherPortsAttributes are config's own (per port key, over merged's, as
 * Object.assign orders keys: a replaced key keeps its place, a port goes
 * among the ports, before ranges; otherPortsAttributes when it has one):
 * they are how rdev forwards ports, not what the container was made with, so
 * an added or changed key counts at once, also for a container reused with
 * its frozen metadata (up, read-configuration keep the reference's
 * mergedConfiguration: this is for the forwards only). image is
 * config_merge_ports_of_entries() of the container's image entries
 * (substituted), or NULL when not known (a container made before rdev
 * recorded it, or no container). Given, the two start from the image's, so
 * the result is what a new container's merge of the image and config would
 * give: a key the configuration no longer has (removed or renamed) is gone,
 * or the image's when the image has it too; an otherPortsAttributes removed
 * falls back to the image's. NULL: they start from merged's, and a key the
 * configuration no longer has stays as merged has it (which metadata entry
 * was the configuration's is not known: docs/CLI.md). Caller frees with
 * cJSON_Delete. */
cJSON *config_merge_ports(const cJSON *merged, const cJSON *config, const cJSON *image);

/* A size as hostRequirements writes it, the reference's parseBytes(value ||
 * '0'): /^(\d+)([tgmk]b)?$/ on String(value) ("8gb", "512mb", 1024), else 0.
 * Used for host policies' sizes too, so both read sizes alike. */
double config_merge_parse_bytes(const cJSON *v);

/* A deep copy of v with JavaScript object semantics, as JSON.stringify prints
 * a parsed object: keys that are array indices first, in ascending numeric
 * order, then the others in insertion order; duplicate keys collapsed (last
 * value at the first position). v must not be NULL. Caller frees with
 * cJSON_Delete. */
cJSON *config_merge_js_copy(const cJSON *v);

/* Build the label value to write into a built image: the metadata array
 * (existing object entries + this config's entry, empty objects left out) as
 * the reference's Dockerfile LABEL leaves it once its line continuations are
 * joined: "[ {...}, {...} ]", each entry compact JSON (JavaScript key order).
 * Pass the config before variable substitution (the reference labels the raw
 * config). With no entries at all the reference writes no label; this
 * returns "[]", which reads back the same. config may be NULL. Caller frees
 * with free(). */
char *config_metadata_label(const cJSON *metadata, const cJSON *config);

#endif
