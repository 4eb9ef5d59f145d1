/* pool-file.h - the host pools: which SSH hosts belong to which pool, with
 * their labels.
 *
 * The user's pools live in ~/.config/rdev/hosts.json ($XDG_CONFIG_HOME/rdev
 * when set), written atomically (0600): {"hosts":[{"name":"buildbox",
 * "pool":"default","labels":{"gpu":"a100"}},...]}. A name is what the user
 * added: an ssh_config alias or [user@]host[:port]. $RDEV_POOL_FILE may name a
 * team file of the same form, read-only, merged after the user's (an entry
 * the user's file has for the same pool and name wins).
 *
 * Entries are cJSON objects {"name","pool","labels","source"} ("source":
 * "user" or "team"). Pure but for pool_file_read/pool_file_write/pool_load.
 */
#ifndef RDEV_POOL_FILE_H
#define RDEV_POOL_FILE_H

#include <cjson/cJSON.h>

#define POOL_DEFAULT "default"
#define POOL_TEAM_FILE_ENV "RDEV_POOL_FILE"

/* The user's hosts.json path. New string, or NULL with *cause (no HOME). */
char *pool_file_path(char **cause);
/* The entries of the file at path (a missing file has none), each given
 * "source": source. New array, or NULL with *cause naming the file (and
 * line:col for bad JSON). */
cJSON *pool_file_read(const char *path, const char *source, char **cause);
/* Write entries (their "source" left out) to path atomically, mode 0600,
 * making its folder (0700) when missing. 0, or -1 with *cause. */
int pool_file_write(const char *path, const cJSON *entries, char **cause);
/* The user's entries then the team file's: new array, or NULL with *cause. */
cJSON *pool_load(char **cause);

/* Add (or replace, in its place: 1) the entry (name, pool) in entries,
 * labels an object of strings (consumed; NULL: none for a new entry, a
 * replaced one's kept). 0 when added. */
int pool_entry_add(cJSON *entries, const char *name, const char *pool, cJSON *labels);
/* Remove entry (name, pool) from entries: 1 removed, 0 none. */
int pool_entry_remove(cJSON *entries, const char *name, const char *pool);
/* The entry (name, pool), or NULL. Borrowed from entries. */
const cJSON *pool_entry_find(const cJSON *entries, const char *name, const char *pool);
/* The entries of pool (pool NULL: all), in order: a new array of copies. */
cJSON *pool_members(const cJSON *entries, const char *pool);
/* An entry's "name"/"pool" (never NULL for an entry pool_file_read made). */
const char *pool_entry_name(const cJSON *e);
const char *pool_entry_pool(const cJSON *e);

/* Is text a valid pool name ([A-Za-z0-9._-]+)? */
int pool_name_valid(const char *text);

#endif
