/* compose-cli-cache.h - which Docker Compose CLI a host has (the v2 plugin or
 * v1's docker-compose) and its version, remembered between ups.
 *
 * Finding out runs the CLIs (`docker compose version --short`, then
 * `docker-compose version --short`, a Python start: 0.7-2 s of a small host's
 * time) on every Compose up. The answer is kept in
 * "<state_dir>/compose-cli.json" (0600, replaced atomically) under a key made
 * of what decides it: PATH and DOCKER_CONFIG, and the identity (device, inode,
 * size, mtime, ctime) of `docker` and `docker-compose` as found on PATH, of
 * Docker's config.json and of docker-compose in each folder the docker CLI
 * takes plugins from (config.json's "cliPluginsExtraDirs", the config
 * folder's cli-plugins, the system folders). Any change to them asks the
 * CLIs again; a change the key cannot see (a shim whose target moved) costs
 * one failed up: a compose command that fails after a remembered answer
 * forgets it (compose.c). One entry: agents of other environments (another
 * PATH) replace it, which costs the asking, never a wrong answer. A cache
 * that cannot be read or written only costs that.
 */
#ifndef RDEV_COMPOSE_CLI_CACHE_H
#define RDEV_COMPOSE_CLI_CACHE_H

/* The key for this process's environment now: a new string, caller frees. */
char *compose_cli_key(void);
/* The remembered answer for key in state_dir: 0 with *v2 and *version (a new
 * string, caller frees), or -1 when there is none for key. */
int compose_cli_cache_get(
    const char *state_dir, const char *key, int *v2, char **version);
/* Remember v2 / version for key in state_dir. 0, or -1 with *cause. */
int compose_cli_cache_put(
    const char *state_dir, const char *key, int v2, const char *version, char **cause);

/* Forget what state_dir remembers (a command of the remembered CLI failed). */
void compose_cli_cache_forget(const char *state_dir);

#endif
