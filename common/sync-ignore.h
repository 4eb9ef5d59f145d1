/* sync-ignore.h - the patterns of a .rdevignore file (gitignore syntax): which
 * paths of a folder an upload leaves out.
 *
 * Syntax, as gitignore(5): a blank line or one starting with '#' is nothing
 * ("\#" is a '#'); trailing spaces are dropped unless escaped; '!' re-includes
 * what an earlier pattern left out; a trailing '/' matches folders only; a
 * pattern with a '/' elsewhere is relative to the folder (a leading '/' just
 * anchors), one without matches a name at any depth; '*' and '?' match
 * within one path component, "[...]" a class ("[!...]" or "[^...]" negated),
 * "**" any number of components ("**" + "/x", "a/" + "**", "a/" + "**" + "/b");
 * '\' escapes the next character. The last pattern that matches decides. As
 * in git, nothing inside a folder that is left out can be re-included: the
 * scan does not enter it.
 *
 * A .rdevignore is read in every folder (sync-scan.h), as .gitignore files
 * are when asked for: each file's patterns match below its own folder
 * (sync_ignore_add_under), as git reads nested .gitignore files.
 *
 * Pure: no I/O; the caller reads the file.
 */
#ifndef RDEV_SYNC_IGNORE_H
#define RDEV_SYNC_IGNORE_H

#include <stddef.h>

struct sync_ignore;

/* New empty pattern list (matches nothing); sync_ignore_free frees. */
struct sync_ignore *sync_ignore_new(void);
void sync_ignore_free(struct sync_ignore *ig);
/* Add the patterns of a file's text (len bytes, NUL not needed). */
void sync_ignore_add(struct sync_ignore *ig, const char *text, size_t len);
/* The same for a file in folder base (relative, no trailing '/'; "" is the
 * top), as a nested .gitignore: its patterns match only paths under base,
 * anchored at base. */
void sync_ignore_add_under(
    struct sync_ignore *ig, const char *base, const char *text, size_t len);
/* Is path (relative, '/'-separated, no leading or trailing '/') left out?
 * is_dir: it is a folder. */
int sync_ignore_match(const struct sync_ignore *ig, const char *path, int is_dir);
/* The same, saying whether a pattern decided: 1 left out, 0 let in (a
 * "!" pattern), -1 no pattern matched (a list of files' patterns read one
 * after another: the last one that decides wins). */
int sync_ignore_decide(const struct sync_ignore *ig, const char *path, int is_dir);
/* Move more's patterns (after ig's: they win) onto ig's end; frees more. */
void sync_ignore_append(struct sync_ignore *ig, struct sync_ignore *more);
/* The hex digits of a tag (sync_ignore_tag). */
#define SYNC_IGNORE_TAG_HEX 32
/* A fingerprint of ig's patterns (may be NULL: none) into hex
 * (SYNC_IGNORE_TAG_HEX + 1 bytes): the same for the same patterns of the
 * same folders, whatever order the folders were read in; another when any
 * pattern changes. A two-way sync's "ignoreTag" (docs/PROTOCOL.md). */
void sync_ignore_tag(const struct sync_ignore *ig, char *hex);
/* Does the glob pattern match s whole (the rules above; '/' only matched by
 * '/' and "**")? Exposed for tests. */
int sync_ignore_glob(const char *pattern, const char *s);

#endif
