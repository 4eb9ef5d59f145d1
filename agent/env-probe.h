/* env-probe.h - the remote user's environment (userEnvProbe) and remoteEnv.
 *
 * Tools that run processes in a dev container give them the environment the
 * user's shell would have: the spec's userEnvProbe runs the user's shell as
 * a login and/or interactive shell and reads the environment it ends up with
 * (the reference CLI's probeUserEnv/runUserEnvProbe in
 * src/spec-common/injectHeadless.ts, itself from VS Code's shellEnv.ts):
 *
 * - The shell is the container's SHELL variable (Config.Env), else the
 *   user's login shell from the container's /etc/passwd (read with `cat`,
 *   since busybox images have no getent), else /bin/sh.
 * - "loginInteractiveShell" runs SHELL -lic, "loginShell" -lc,
 *   "interactiveShell" -ic, "none" nothing (the container's Config.Env is
 *   the result). No TTY; stdin is at end-of-file, so a startup file that
 *   reads input does not hang. (No 10 s timeout, unlike the reference: an
 *   exec cannot be abandoned half-way here.)
 * - The command prints a random marker, `cat /proc/self/environ` (NUL
 *   separated), the marker again; output outside the markers (motd, echo in
 *   .bashrc, job-control warnings) is ignored. If nothing came between the
 *   markers, `printenv` (newline separated) is tried instead.
 * - First, once per container, /etc/environment and /etc/profile are
 *   patched as the reference's `up` does (patchEtcEnvironment,
 *   patchEtcProfile, behind its markers in /var/devcontainer): the
 *   container's environment is appended to /etc/environment, and
 *   /etc/profile's "PATH=..." lines become "PATH=${PATH:-...}", so a login
 *   shell keeps the container's PATH (Debian's sets one without the sbin
 *   folders for users other than root, and with the games folders).
 * - PWD is dropped. Only when /etc/profile could not be patched, PATH is
 *   merged with the container's PATH as the reference's mergePaths() does
 *   (container entries missing from the shell's PATH are put back next to
 *   their neighbours; /sbin entries only for root).
 * - A probe that fails (shell missing, nothing printed) is not an error: the
 *   result is then the container's Config.Env, as a fallback.
 *
 * The result is cached per container start: env_probe_get() keeps it in
 * "<state_dir>/env-probe-<container id>.json" (mode 0600, written
 * atomically) with the container's State.StartedAt, the user and the probe
 * kind, and reuses it while all three match.
 *
 * Environments are NULL-terminated arrays of "K=V" strings; env_free()
 * frees one (the array and its strings).
 */
#ifndef RDEV_ENV_PROBE_H
#define RDEV_ENV_PROBE_H

#include <stddef.h>

#include <cjson/cJSON.h>

struct docker;

/* Probe container (id or name) for user (NULL: the container's user) with
 * probe_kind (NULL: "loginInteractiveShell"). *env_out gets the environment
 * (caller frees with env_free()). -1 with *cause only when the container
 * cannot be inspected or probe_kind is not one of the four values. */
int env_probe_run(struct docker *d, const char *container, const char *user,
    const char *probe_kind, char ***env_out, char **cause);
/* env_probe_run() through the cache in state_dir (created if missing). A
 * cache that cannot be written is not an error (the probe result is still
 * returned). */
int env_probe_get(struct docker *d, const char *state_dir, const char *container,
    const char *user, const char *probe_kind, char ***env_out, char **cause);
/* env_probe_get() for a container whose inspect JSON the caller has just
 * taken (it must be current: its State.StartedAt keys the cache); saves the
 * second inspect. */
int env_probe_get_inspected(struct docker *d, const char *state_dir, const cJSON *info,
    const char *user, const char *probe_kind, char ***env_out, char **cause);
/* The cache file of a container (full id); caller frees. */
char *env_probe_cache_path(const char *state_dir, const char *container_id);

/* The environment for processes of the remote user: probed overlaid with
 * remote_env (the merged remoteEnv object; may be NULL). Each remoteEnv
 * value has its ${containerEnv:VAR} resolved against container_env (the
 * container's Config.Env, "K=V" list, may be NULL); a null value removes
 * the variable: it is left out of *env_out and listed in *unset_out (names;
 * NULL-terminated, possibly empty) since docker exec cannot otherwise take a
 * variable of the container's away. Numbers and booleans become their JSON
 * text; other values are ignored. Both outputs are freed with env_free().
 * -1 with *cause for a variable the reference rejects ("${containerEnv}"). */
int env_probe_apply_remote_env(char *const *probed, const cJSON *remote_env,
    char *const *container_env, char ***env_out, char ***unset_out, char **cause);

/* The value of name in env, or NULL; borrowed from env. */
const char *env_get(char *const *env, const char *name);
/* env_get() as a config_env_lookup (config-subst.h), arg the environment
 * (char **; NULL is an empty one): for ${containerEnv:...}. */
const char *env_lookup(void *arg, const char *name);
/* A copy of a cJSON array of strings (Config.Env) as an environment
 * (non-strings skipped; NULL gives an empty one). Caller frees. */
char **env_from_json(const cJSON *array);
/* A deep copy; caller frees with env_free(). */
char **env_dup(char *const *env);
void env_free(char **env);

/* ---- Pure helpers, exposed for the unit tests ---- */

/* The text between the first two occurrences of mark in out (len bytes; may
 * hold NULs) split at sep into "K=V" entries (entries without '=' dropped,
 * a later duplicate replaces an earlier one, PWD dropped). NULL if the
 * marks are missing or nothing is between them. Caller frees. */
char **env_probe_parse(const char *out, size_t len, const char *mark, char sep);
/* The reference's mergePaths(): shell_path with container_path's entries
 * that it lacks inserted after the previous shared entry; /sbin entries only
 * if root. Caller frees. */
char *env_probe_merge_paths(const char *shell_path, const char *container_path, int root);
/* The 7th field (shell) of the /etc/passwd line whose name or uid is user
 * (a "user:group" form uses its user part); NULL if none. Caller frees. */
char *env_probe_passwd_shell(const char *passwd, const char *user);
/* The shell flag for a probe kind: "-lic", "-lc", "-ic", or NULL for
 * "none"; -1 for an unknown kind. */
int env_probe_shell_flag(const char *probe_kind, const char **flag);

#endif
