/* config-discover.h - finding a workspace's devcontainer.json.
 *
 * The spec's order of precedence, as the reference CLI applies it
 * (@devcontainers/cli 0.89.0, getDevContainerConfigPathIn): the first of
 * .devcontainer/devcontainer.json and .devcontainer.json that is a regular
 * file wins, silently. Only when neither exists does rdev go on to the spec's
 * third location, .devcontainer/<folder>/devcontainer.json one level deep
 * (which the reference CLI does not search): exactly one is taken, several
 * are an error that lists them and asks for --config.
 *
 * Paths are resolved lexically (no symlinks followed), like node's
 * path.resolve(), because the reference CLI labels containers with such paths.
 */
#ifndef RDEV_CONFIG_DISCOVER_H
#define RDEV_CONFIG_DISCOVER_H

/* Make path absolute against base (an absolute directory; NULL: the current
 * directory) and normalise it: no "." or ".." components, no repeated or
 * trailing slashes ("/" stays "/"). Returns a new string the caller frees, or
 * NULL with *cause set when the current directory cannot be read. */
char *config_discover_resolve(const char *base, const char *path, char **cause);
/* path in lexical normal form, as config_discover_resolve makes it but not
 * made absolute: no "." components, no repeated or trailing slashes, each
 * ".." taking the component before it away ("/.." is "/"; a relative path's
 * leading ".."s stay: the folder it is relative to is not known). A relative
 * path naming that folder itself is "". New string. */
char *config_discover_normal(const char *path);

/* Find the configuration file in workspace_folder (absolute, normalised).
 * Returns 0 and stores the file's absolute path in *config_file (caller
 * frees), or -1 with *cause set: none found ("no devcontainer.json in
 * /w (looked for ...)") or several found ("several dev container
 * configurations in /w: .devcontainer/a/devcontainer.json, ...; choose one
 * with --config PATH"). */
int config_discover(const char *workspace_folder, char **config_file, char **cause);

/* The enclosing git work tree of folder: the nearest of folder and its
 * ancestors that holds a ".git" entry (directory, or file for worktrees and
 * submodules). Returns a new string the caller frees, or NULL if there is
 * none. folder must be absolute and normalised. */
char *config_discover_git_root(const char *folder);

#endif
