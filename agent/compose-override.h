/* compose-override.h - the pure parts of Docker Compose support: the override
 * file rdev adds to a project, the project name, and reading what
 * `docker-compose config` prints.
 *
 * The override follows the reference CLI's (@devcontainers/cli 0.89.0,
 * dockerCompose.ts, generateFeaturesComposeOverrideContent): for the dev
 * container's service it sets the entrypoint wrapper (runs the metadata
 * entrypoints, then exec "$@", then keeps the container alive), the command
 * (overrideCommand), init, user (containerUser), environment (containerEnv),
 * privileged, cap_add, security_opt, labels and volumes, and declares named
 * volumes at the top level. Differences, on purpose: every value is written
 * as a YAML double-quoted string with '$' doubled (Compose would interpolate
 * it otherwise), so quotes, colons, '#', newlines and '$' in values reach the
 * container as written (the reference writes most values raw, and turns a
 * newline in containerEnv into the two characters "\n"); read-only mounts
 * keep ":ro"; workspaceMount, when set, is mounted too (the reference
 * ignores it for Compose); named volumes are declared once; no GPU section.
 *
 * Pure: no I/O, no globals.
 */
#ifndef RDEV_COMPOSE_OVERRIDE_H
#define RDEV_COMPOSE_OVERRIDE_H

#include <cjson/cJSON.h>

struct compose_override_input {
	const char *service;	     /* the dev container's service */
	const char *version_prefix;  /* "version: '3.8'\n\n" or NULL */
	const char *image;	     /* image: to set (UID-sync image); NULL: keep */
	const cJSON *merged;	     /* merged configuration (config-merge.h) */
	int override_command;	     /* config_override_command() */
	const char *workspace_mount; /* --mount string or NULL */
	/* The service as `compose config` shows it (for entrypoint and command;
	 * their '$' are already escaped there) and the service image's inspect
	 * "Config" (Entrypoint, Cmd); both may be NULL. */
	const cJSON *service_config;
	const cJSON *image_config;
	const cJSON *labels; /* object of string labels; may be NULL */
};

/* The override file's text. New string (caller frees), or NULL with *cause
 * naming a mount that cannot be read ("mounts[2] ...: no target"). */
char *compose_override_generate(const struct compose_override_input *in, char **cause);

/* Append s to out as a YAML double-quoted scalar; with dollar, each '$' is
 * doubled for Compose's interpolation. Returns out (for chaining). */
struct buf;
struct buf *compose_override_quote(struct buf *out, const char *s, int dollar);

/* The reference's readVersionPrefix: the first top-level "version: ..." line
 * of a compose file's text plus an empty line ("version: '3.8'\n\n"), or ""
 * when there is none. New string, caller frees. */
char *compose_override_version_prefix(const char *compose_text);

/* A project name as the reference's toProjectName() makes it: lowercased,
 * then only [a-z0-9_-] kept (new_style: docker-compose >= 1.21 and v2) or
 * [a-z0-9] (older). New string, caller frees (may be ""). */
char *compose_override_project_name_normalize(const char *name, int new_style);

/* What the project name is derived from, in the reference's order. */
struct compose_project_input {
	const char *env_name;	  /* $COMPOSE_PROJECT_NAME or NULL */
	const char *dotenv_text;  /* text of the .env file or NULL */
	const char *config_name;  /* "name" of `compose config` (v2) or NULL */
	int name_in_files;	  /* 1 if a compose file sets a top-level name */
	const char *first_file;	  /* absolute path of the first compose file */
	const char *local_folder; /* the workspace folder on this host */
	int new_style;		  /* see compose_override_project_name_normalize */
};

/* The project name (the reference's getProjectName): $COMPOSE_PROJECT_NAME,
 * else COMPOSE_PROJECT_NAME= in .env, else the configuration's name unless
 * it is Compose's default "devcontainer" not set in a file, else
 * "<workspace basename>_devcontainer" when the first compose file is in the
 * workspace's .devcontainer folder, else the basename of the first compose
 * file's folder; each normalized. New string, caller frees; "" when nothing
 * usable is left. */
char *compose_override_project_name(const struct compose_project_input *in);

/* The top-level `name:` a compose file sets (plain or quoted), or NULL. New
 * string, caller frees. Only column-0 "name:" lines are looked at. */
char *compose_override_file_name(const char *compose_text);

/* Split a string entrypoint/command into words the way a POSIX shell
 * would without expansions: blanks separate, '...' and "..." quote, a
 * backslash escapes (inside "..." only before $ ` " \ and newline). '$' is
 * kept as is. New array of strings (caller frees with cJSON_Delete). */
cJSON *compose_override_split_words(const char *s);

/* Parse the YAML that `docker-compose config` (v1) prints: block mappings
 * and sequences (including sequences at their key's indentation), plain,
 * single- and double-quoted scalars over several lines, literal and folded
 * block scalars, and single-line flow collections. Scalars become strings,
 * except null and ~ (null) and true/false (booleans). Anchors, tags and
 * complex keys are not supported. New tree (caller frees with
 * cJSON_Delete), or NULL with *cause ("line 12: ..."). */
cJSON *compose_override_parse_yaml(const char *text, char **cause);

#endif
