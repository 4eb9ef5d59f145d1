/* source-root.h - where a host keeps the workspaces uploaded or cloned for
 * `rdev up HOST: SOURCE` (common/source.h names each one): the one place
 * that decides the workspace root, so that a host policy can set it.
 *
 * The root is $RDEV_WORKSPACE_ROOT when set (tests), else ~/rdev/workspaces.
 * (The host policy's "workspaceRoot" is to be read here too: see
 * docs/CLI.md, "Sources".)
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
