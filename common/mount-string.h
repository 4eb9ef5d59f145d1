/* mount-string.h - the fields of a `docker run --mount` string.
 *
 * One parser of the string's syntax for the agent (agent/mount-spec.c turns
 * the fields into a Docker API Mount object) and for the config checks
 * (config-validate-up.c reads a workspaceMount's target before anything
 * runs). As docker/cli opts/mount.go reads it: the string, trimmed of white
 * space, is one CSV record (Go's encoding/csv: whole fields may be quoted,
 * "\"source=/a,b\",target=/c", with "" for a quote inside); each field is
 * key[=value], the key in any case. Unlike Go, a line break outside quotes is
 * an error (Go silently reads the first line only).
 *
 * What the keys mean is not known here. Pure: no I/O, no globals.
 *
 * MOUNT_STRING_LAX reads a string as the reference CLI does for a Compose
 * configuration, whose mounts go into the override file and never through
 * docker's --mount parser: the reference's parseMount() splits on commas and
 * '=' and keeps what it finds, so a value may be empty
 * ("source=${localEnv:UNSET},target=/d": no source, an anonymous volume) and
 * a '"' inside an unquoted field is a character of it. Quoted whole fields
 * are still read as quoted.
 */
#ifndef RDEV_MOUNT_STRING_H
#define RDEV_MOUNT_STRING_H

/* flags of mount_string_split and mount_string_field */
#define MOUNT_STRING_LAX 0x1 /* the reference's reading for Compose (above) */

/* The fields of a mount string: a NULL-terminated array (free with
 * mount_string_fields_free), or NULL with *cause ("value is empty",
 * "missing closing \" in quoted field", ...). */
char **mount_string_split(const char *s, int flags, char **cause);
void mount_string_fields_free(char **fields);

/* One field's key (lowercased, a new string the caller frees) and value (a
 * pointer into field, or NULL for a bare key such as "readonly"). -1 with
 * *cause when the key or the value has white space around it or the value is
 * empty ("empty value for \"target\""), as docker refuses them; with
 * MOUNT_STRING_LAX an empty value is "" (not NULL), not an error. */
int mount_string_field(
    const char *field, int flags, char **key, const char **value, char **cause);

/* The target as docker reads it: the value of the last target=, dst= or
 * destination= field. NULL when there is none, or the string or one of its
 * fields does not parse as syntax (CSV, key=value spacing: docker refuses the
 * whole mount); a field docker refuses for its meaning ("target" with no
 * value, an empty field) still leaves the target found. New string, caller
 * frees. */
char *mount_string_target(const char *s);

#endif
