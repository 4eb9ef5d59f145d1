/* config-validate.h - checking a parsed devcontainer.json.
 *
 * Decides the orchestration kind and checks that its required properties are
 * there, then type-checks every property the spec and the devcontainer.json
 * schema know (including the legacy dockerFile, context, extensions, settings,
 * appPort, devPort), with errors that name the file, line, column and the
 * property path:
 *
 *   devcontainer.json:7:19: "forwardPorts"[2]: expected a number or
 *   "host:port" string, got object
 *
 * A string that refers to a variable ("${...}") passes the value checks
 * (enums, sizes, "host:port") as written: its value is only known after
 * substitution. Its type is still checked.
 *
 * Unknown properties, and properties that the chosen kind ignores, are
 * warnings, never errors. The first error found is reported.
 *
 * Pure: no I/O.
 */
#ifndef RDEV_CONFIG_VALIDATE_H
#define RDEV_CONFIG_VALIDATE_H

#include <stddef.h>

#include "jsonc.h"

enum config_kind {
	CONFIG_KIND_IMAGE,	/* "image" */
	CONFIG_KIND_DOCKERFILE, /* "build.dockerfile" or legacy "dockerFile" */
	CONFIG_KIND_COMPOSE,	/* "dockerComposeFile" + "service" */
};

/* A list of messages for the user ("devcontainer.json:3:5: unknown property
 * \"foo\""). Zero-initialise; config_warnings_clear() frees the items. */
struct config_warnings {
	char **items;
	size_t count;
};

void config_warnings_add(struct config_warnings *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void config_warnings_clear(struct config_warnings *w);

/* "image", "dockerfile" or "compose"; a static string. */
const char *config_kind_name(enum config_kind kind);

/* Decide the kind of a devcontainer.json object, as the reference CLI does:
 * a Dockerfile (build.dockerfile or dockerFile) first, then image, then
 * dockerComposeFile. Returns 0 and sets *kind, or -1 if none is set. Does not
 * check types or required companions (see config_validate()). */
int config_validate_kind(const cJSON *config, enum config_kind *kind);

/* Validate the document's root object. Returns 0, sets *kind and appends any
 * warnings to *warnings (if not NULL); or -1 with *cause set (caller frees).
 * Errors and warnings start with "NAME:LINE:COL: " where NAME is the
 * document's name. */
int config_validate(const struct jsonc_doc *doc, enum config_kind *kind,
    struct config_warnings *warnings, char **cause);

/* The longest "NAME=VALUE" string a process's environment can hold: the
 * kernel's MAX_ARG_STRLEN (32 pages of 4 KiB) less its NUL. execve() fails
 * with E2BIG on a longer one, so a container whose environment holds one
 * never starts ("exec /bin/sh: argument list too long") and no exec runs
 * with one. */
#define CONFIG_ENV_ENTRY_MAX (128 * 1024 - 1)

/* Why NAME=VALUE (a VALUE of value_len bytes) cannot be one entry of a
 * process's environment: an empty NAME, a NAME holding '=' (the string
 * would set another variable: "B=C" to "v" sets B to "C=v"), or a string
 * longer than CONFIG_ENV_ENTRY_MAX. New string (caller frees), or NULL when
 * it can be. */
char *config_env_entry_problem(const char *name, size_t value_len);

/* The entries of containerEnv and remoteEnv in object (doc's
 * configuration with its variables substituted: config_get_object()) that
 * config_env_entry_problem() refuses: -1 with *cause (caller frees) naming
 * the place in doc and the property, e.g. "NAME:4:12:
 * \"containerEnv\".\"BIG\": NAME=VALUE is 5242885 bytes, over ...";
 * 0 when there is none. */
int config_validate_env(const struct jsonc_doc *doc, const cJSON *object, char **cause);

/* What `up` cannot honour yet in a validated document (docs/STATUS.md,
 * "What up does with each property"). What would make the container differ
 * from the one asked for is an error: -1 with *cause (caller frees), e.g.
 * "NAME:3:3: \"hostRequirements\".\"gpu\": GPU access is not supported
 * yet ..." ("hostRequirements"."gpu" other than false or "optional"); an
 * object-form lifecycle command's entry that is an empty array is one too
 * (nothing to run: the reference fails on it).
 * What is harmless to ignore is a warning appended to *warnings (if not
 * NULL), naming the place and what rdev does instead: hostRequirements,
 * secrets, shutdownAction other than "none", forwardPorts when the caller
 * does not forward them (forwards 0), and with forwards set the port
 * attributes rdev's forwards do not use (elevateIfNeeded, protocol
 * "https", portsAttributes keys that are not ports or ranges). Looks at
 * devcontainer.json only. Features are checked when they are resolved
 * (agent/feature-resolve.h). Returns 0 otherwise. */
int config_validate_up(const struct jsonc_doc *doc, int forwards,
    struct config_warnings *warnings, char **cause);
/* The same checks on what only the image's devcontainer.metadata (or the
 * Features') gave the merged configuration: shutdownAction, an optional
 * GPU in hostRequirements (a required one is the admission's error), and with
 * forwards set the port attributes, where doc's own configuration does not
 * set them. Each warning starts "the image's devcontainer.metadata: ".
 * merged is the image's and Features' entries merged alone, without the
 * configuration's (a reused container's metadata label ends with the
 * configuration's own entry as it was when the container was made, and a
 * key removed from it since would be warned of as the image's: the caller
 * leaves that entry out, agent/labels.h LABELS_IMAGE_ENTRIES). The port
 * attributes are image_ports' when not NULL: what the image and Features
 * gave, as the container records it (LABELS_IMAGE_PORTS:
 * {"portsAttributes","otherPortsAttributes"}); NULL (not recorded):
 * merged's. */
void config_validate_up_metadata(const struct jsonc_doc *doc, const cJSON *merged,
    const cJSON *image_ports, int forwards, struct config_warnings *warnings);

#endif
