/* mount-spec.h - devcontainer.json mounts as Docker Engine API Mount objects.
 *
 * A mount (an entry of `mounts`, or `workspaceMount`) is either a `--mount`
 * string, parsed exactly as `docker run --mount` parses it (docker/cli
 * opts/mount.go: one CSV record, whole fields may be quoted as in
 * "\"source=/a,b\",target=/c"; the syntax is common/mount-string.h's), or a
 * spec object {"type", "source", "target"}.
 * The result is what the docker CLI would send in HostConfig.Mounts:
 *   {"Type","Source","Target","ReadOnly","BindOptions":{...},
 *    "VolumeOptions":{...},"TmpfsOptions":{...}}
 * with Go's omitempty rules (no "Source" when empty, no "ReadOnly" when false).
 *
 * Differences from the docker CLI, all because rdev runs on a remote host:
 * a relative source ("./data") is an error (docker makes it absolute against
 * its own working directory); a target, or a bind's source, that is not
 * absolute ("data", "~/cache") is refused here rather than by the daemon at
 * create, after the build; "bind-create-src" and "image-subpath" are
 * rejected; "consistency" is accepted and ignored (Linux ignores it); a line
 * break outside quotes is an error (docker silently reads the first line).
 * Bind sources are not checked or created: the daemon reports a missing one.
 *
 * Pure: no I/O, no globals.
 */
#ifndef RDEV_MOUNT_SPEC_H
#define RDEV_MOUNT_SPEC_H

#include <stdint.h>

#include <cjson/cJSON.h>

/* A Docker API Mount object for one mount given as a --mount string or a
 * spec object. New object (caller frees with cJSON_Delete) or NULL with
 * *cause set, naming the mount: "mount \"type=bind,foo=1\": unknown key
 * \"foo\"", "mount {\"type\":\"bind\"}: target is required". */
cJSON *mount_spec_to_api(const cJSON *mount, char **cause);

/* Like mount_spec_to_api for a --mount string. */
cJSON *mount_spec_parse(const char *mount, char **cause);

/* Just the target of a mount (string or object), for dedup; NULL if it has
 * none or the string does not parse. New string, caller frees. */
char *mount_spec_target(const cJSON *mount);

/* A size as docker's units.RAMInBytes reads it: a decimal number, an optional
 * space, an optional unit b, k, m, g, t or p (powers of 1024, any case,
 * optionally followed by "b" or "ib"): "64m", "1.5g", "512", "2 GiB".
 * Returns 0 and *bytes, or -1 with *cause ("invalid size: '12x'"). Sizes
 * over 2^53 are refused (they would not survive a JSON double). */
int mount_spec_parse_bytes(const char *s, int64_t *bytes, char **cause);

#endif
