/* runtime-dir.h - where the per-user broker keeps its socket and lock.
 *
 * The directory is $RDEV_RUNTIME_DIR if set (tests), else
 * $XDG_RUNTIME_DIR/rdev, else /tmp/rdev-UID. It is created 0700 and must be
 * a real directory (not a symlink) owned by us with no group or other access;
 * anything else is refused, since the socket there accepts commands.
 */
#ifndef RDEV_RUNTIME_DIR_H
#define RDEV_RUNTIME_DIR_H

/* Create dir (0700) if missing and check it as above: 0, or -1 with *cause
 * naming what is wrong. Also used for the agent's socket folder. */
int runtime_dir_check(const char *dir, char **cause);
/* The checked directory as a new string, or NULL with *cause. */
char *runtime_dir_get(char **cause);
/* A new string "DIR/NAME" for a file in it, or NULL with *cause. */
char *runtime_dir_file(const char *name, char **cause);
/* As runtime_dir_file, for a look that only reads: DIR is never created;
 * NULL with *cause when it is missing (no broker has run) or fails the
 * checks above. */
char *runtime_dir_lookup(const char *name, char **cause);
/* Is DIR missing (no broker has made it)? A look that only reads then
 * knows no broker runs. */
int runtime_dir_missing(void);

#endif
