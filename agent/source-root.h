/* source-root.h - where a host keeps the workspaces uploaded or cloned for
 * `rdev up HOST: SOURCE` (common/source.h names each one): ROOT/NAME, ROOT
 * being the host policy's workspaceRoot (host-policy.h, which decides it:
 * default ~/rdev/workspaces).
 */
#ifndef RDEV_SOURCE_ROOT_H
#define RDEV_SOURCE_ROOT_H

/* The workspace root (absolute; not created). New string, or NULL with
 * *cause. */
char *source_root_dir(char **cause);
/* ROOT/name for a name source_name_ok() accepts. New string, or NULL with
 * *cause (a bad name: "workspace name 'x': ..."). */
char *source_root_folder(const char *name, char **cause);

#endif
