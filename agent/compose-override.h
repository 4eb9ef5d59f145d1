/* compose-override.h - the Compose override file rdev adds to a project,
 * written as JSON (which Compose reads as YAML) with cJSON.
 *
 * The override follows the reference CLI's (@devcontainers/cli 0.89.0,
 * dockerCompose.ts, generateFeaturesComposeOverrideContent): for the dev
 * container's service it sets the entrypoint wrapper (runs the metadata
 * entrypoints, then exec "$@", then keeps the container alive), the command
 * (overrideCommand), init, user (containerUser), environment (containerEnv),
 * privileged, cap_add, security_opt, labels and volumes, and declares named
 * volumes at the top level. Differences, on purpose: every value is a JSON
 * string with '$' doubled (Compose would interpolate it otherwise), so
 * quotes, colons, '#', newlines and '$' in values reach the container as
 * written (the reference writes most values raw into YAML, and turns a
 * newline in containerEnv into the two characters "\n"); read-only mounts
 * keep ":ro"; named volumes are declared once; no GPU section. As the
 * reference, no workspaceMount: a Compose workspace is mounted by its
 * service's own volumes (config-validate warns that it is ignored).
 *
 * Pure: no I/O, no globals.
 */
#ifndef RDEV_COMPOSE_OVERRIDE_H
#define RDEV_COMPOSE_OVERRIDE_H

#include <cjson/cJSON.h>

struct compose_override_input {
	const char *service; /* the dev container's service */
	/* The first compose file's top-level "version" ("3.8"), written again
	 * (docker-compose v1 refuses files of different versions), or NULL. */
	const char *version;
	const char *image;    /* image: to set (UID-sync image); NULL: keep */
	const cJSON *merged;  /* merged configuration (config-merge.h) */
	int override_command; /* config_override_command() */
	/* The service as `compose config` shows it (for entrypoint and command;
	 * their '$' are already escaped there) and the service image's inspect
	 * "Config" (Entrypoint, Cmd); both may be NULL. */
	const cJSON *service_config;
	const cJSON *image_config;
	const cJSON *labels; /* object of string labels; may be NULL */
	/* The project's services (`compose config`'s "services"; may be NULL):
	 * each other than service gets the owner labels of labels (owner.h),
	 * so that every container of the project says whose it is. */
	const cJSON *services;
	/* The reference's --mount: [{"type","source","target","external"}],
	 * after the merged mounts; may be NULL. */
	const cJSON *extra_mounts;
	/* The host policy's limitContainers: the service gets `cpus` and
	 * `mem_limit` from the merged hostRequirements (Compose v2, or a file
	 * of version 2.x for docker-compose v1, whose version 3 has neither). */
	int limit;
};

/* The override file's text (compose_override_print()). New string (caller
 * frees), or NULL with *cause naming a mount that cannot be read: no
 * target, or a string that does not parse as the reference reads it for
 * Compose (mount-string.h's MOUNT_STRING_LAX: "mounts[2] ...: no target",
 * "mounts[0] ...: missing closing \" in quoted field"). */
char *compose_override_generate(const struct compose_override_input *in, char **cause);

/* Check the mounts of devcontainer.json and the reference's --mount (either
 * may be NULL) as compose_override_generate() reads them, before anything
 * is built: 0, or -1 with *cause as compose_override_generate() says it,
 * numbered in mounts then extra_mounts. (The image's metadata may add
 * mounts: compose_override_generate() checks those.) */
int compose_override_mounts_check(
    const cJSON *mounts, const cJSON *extra_mounts, char **cause);

/* root as JSON that YAML readers (PyYAML, libyaml, go-yaml) read as the same
 * tree: indented with spaces (YAML does not allow tabs there), and the code
 * points YAML rejects (DEL, C1 controls, U+FFFE, U+FFFF) or reads as line
 * breaks (NEL, U+2028, U+2029) written as \u escapes. New string (caller
 * frees). */
char *compose_override_print(const cJSON *root);
/* The volume name Compose gives mount (a devcontainer.json "mounts" entry,
 * string or object) of type volume with a source, once the override declares
 * it: "PROJECT_SOURCE", or SOURCE itself for an external one. New string, or
 * NULL (no named volume, or a string that does not parse). */
char *compose_override_volume_name(const cJSON *mount, const char *project);

/* s with each '$' doubled, for Compose's interpolation. New string. */
char *compose_override_dollar(const char *s);

/* Split a string entrypoint/command into words the way a POSIX shell
 * would without expansions: blanks separate, '...' and "..." quote, a
 * backslash escapes (inside "..." only before $ ` " \ and newline). '$' is
 * kept as is. New array of strings (caller frees with cJSON_Delete). */
cJSON *compose_override_split_words(const char *s);

#endif
