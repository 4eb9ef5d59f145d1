/* agent-state.h - where rdev-agent keeps its per-user state on a host, and the
 * per-workspace lock that serializes `up`.
 *
 * The state directory is $RDEV_STATE_DIR, else $XDG_STATE_HOME/rdev, else
 * ~/.rdev/state; created 0700. It holds caches (env probe), background
 * lifecycle logs and lock files. Nothing in it is needed to find a dev
 * container again: identity lives in Docker labels.
 */
#ifndef RDEV_AGENT_STATE_H
#define RDEV_AGENT_STATE_H

#include <sys/types.h>

/* The state directory, created if missing. New string (caller frees) or
 * NULL with *cause. */
char *agent_state_dir(char **cause);
/* mkdir -p path, each directory made with mode. 0 or -1 with *cause. */
int agent_state_mkdir_parents(const char *path, mode_t mode, char **cause);

/* Take the exclusive lock for key (e.g. a devcontainerId) under state_dir,
 * waiting for another holder to let go; on_wait (may be NULL) is called once
 * if we have to wait. Returns the lock's fd (pass to agent_lock_release) or
 * -1 with *cause. The kernel drops the lock if the process dies, so a killed
 * `up` never leaves a stale lock. What is locked is the file at the lock's
 * path when the lock is had: one removed meanwhile (agent_lock_remove) is
 * let go and the path's new file locked. */
int agent_lock_acquire(const char *state_dir, const char *key, void (*on_wait)(void *),
    void *arg, char **cause);
/* The progress line of an up or run-user-commands whose agent_lock_acquire
 * waits for another rdev command's hold on the workspace's lock (up.c's
 * on_wait): shown with --json too, the CLI's sink picking it out by these
 * words (agent_cmd_progress_warnings()). Here, with the lock, so that the
 * sink needs nothing of up.h. */
#define AGENT_LOCK_WAIT_LINE \
	"Waiting for this workspace's lock (held by another rdev command on " \
	"it: up, run-user-commands, or the background lifecycle steps)"
/* key's lock as agent_lock_acquire takes it, but never waiting: its fd, or
 * -1 with errno EWOULDBLOCK (another holds it) or open's/flock's errno (its
 * file cannot be opened: no lock folder, a directory there, not ours). */
int agent_lock_try(const char *state_dir, const char *key);
/* Remove the file of key's lock, held as fd (agent_lock_acquire or
 * agent_lock_try), and let the lock go (fd is closed either way). Safe
 * while others wait for it: each then finds its file gone once it has it,
 * and locks the path's new one (agent_lock_acquire), so two never hold key
 * at once. 0 (also when the file was gone), or -1 with errno (unlink's). */
int agent_lock_remove(const char *state_dir, const char *key, int fd);
void agent_lock_release(int fd);

#endif
