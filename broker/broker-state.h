/* broker-state.h - the broker's saved forwards and auto-forward watches, so
 * that a broker that was killed (or stopped) re-creates them when it starts
 * again.
 *
 * The file is RUNTIME/state.json (BROKER_STATE_NAME; runtime-dir.h: the
 * folder of the socket, checked to be ours and 0700), mode 0600, replaced
 * atomically (atomic-file.h) on every change and removed when nothing is
 * left to save. It lives as long as the runtime folder: a reboot (or a
 * logout, for $XDG_RUNTIME_DIR) forgets it, as it forgets the broker.
 *
 *   {"version":1,"hosts":[{"host":H,"user":U,"port":P,"sshConfig":F,
 *     "knownHosts":F,"engine":"local",
 *     "forwards":[{"workspace","config","service","port","local",
 *                  "requireLocal","label","onAutoForward"}],
 *     "autos":[{"workspace","config","attributes":{...},"seen":[PORT...]}]}]}
 *
 * A host entry carries what a "forward" request names its session by (not
 * acceptNewHostKey: the key is in known_hosts by then); "engine":"local"
 * marks the entry of this machine's Docker engine (local-host.h: host
 * "local", no SSH; absent for an SSH host). user, port, engine,
 * sshConfig, knownHosts, config, service, label and onAutoForward may be
 * absent; port 0 means "as ssh_config says".
 *
 * broker_state_parse is pure (fuzzed); struct broker_state is the store the
 * host session threads write through (its own lock).
 */
#ifndef RDEV_BROKER_STATE_H
#define RDEV_BROKER_STATE_H

#include <stddef.h>

#include <cjson/cJSON.h>

#define BROKER_STATE_VERSION 1

struct broker_state;

/* The host entries of a state file's text: a new array (cJSON_Delete), or
 * NULL with *cause naming what is wrong ("hosts[0].forwards[1]: ...").
 * Forwards to container port 0 (an older rdev saved them) are left out, and
 * when dropped is not NULL, *dropped names them (a new string, the caller's
 * to free; NULL when there were none, or when NULL is returned). */
cJSON *broker_state_parse(const char *text, size_t len, char **cause, char **dropped);

/* The host entries saved at path: a new array, empty when there is no file.
 * A file that cannot be read or parsed is moved aside to
 * PATH.bad-YYYYmmddTHHMMSS and *warning says so (the caller's to free);
 * forwards to container port 0 left out (broker_state_parse) are in
 * *warning too; otherwise *warning is NULL. Never NULL. */
cJSON *broker_state_load(const char *path, char **warning);

/* Save hosts (an array of host entries) at path, atomically and 0600; an
 * empty array removes the file. 0, or -1 with *cause. */
int broker_state_write(const char *path, const cJSON *hosts, char **cause);

/* Is a the same host session as b (host, user, port, sshConfig,
 * knownHosts, engine)? */
int broker_state_same_host(const cJSON *a, const cJSON *b);

/* The store: what is saved at path, loaded now (broker_state_load; *warning
 * as there). */
struct broker_state *broker_state_open(const char *path, char **warning);
void broker_state_free(struct broker_state *s);
/* A copy of the saved host entries (the caller's to cJSON_Delete). */
cJSON *broker_state_snapshot(struct broker_state *s);
/* Replace the entry of entry's host by entry (taken; one with no forwards
 * and no autos removes it) and save the file before returning. Safe from
 * any thread. 0, or -1 with *cause (the entry is kept in memory and saved
 * with the next change). */
int broker_state_put(struct broker_state *s, cJSON *entry, char **cause);
/* Forget every entry and remove the file. 0, or -1 with *cause. */
int broker_state_clear(struct broker_state *s, char **cause);

#endif
