/* sync-prune.h - the agent's sync state of workspaces that are gone: each
 * workspace a sync wrote has files under STATE/sync/ (NAME.json, its
 * .journal, .aside, .pull, .piece: sync-index.h, sync-aside.h), which no
 * command removes with the workspace (`rdev down` removes the container,
 * not the folder: its index must stay with it, or the next sync would take
 * every host file for one made there). When the folder itself is gone
 * (removed on the host), its state is of no use: a whole sync's start
 * prunes it.
 *
 * Ownership: everything is borrowed.
 */
#ifndef RDEV_SYNC_PRUNE_H
#define RDEV_SYNC_PRUNE_H

/* Remove the files of sync_dir (STATE/sync) of each workspace NAME whose
 * folder root/NAME no longer exists (lstat: ENOENT), but keep's (the
 * workspace being synced, whose lock the caller holds; may be NULL) and
 * those of a workspace a sync holds now (its lock, under state_dir, is
 * tried, never waited for). A pruned workspace's lock file goes too,
 * removed while held (agent_lock_remove: a sync waiting on it then locks
 * the path's new file).
 * Nothing when root itself is missing or empty (a disk not mounted yet:
 * every workspace would look gone). Returns how many workspaces' state went. Failures are
 * logged, never fatal: the state is only cleaned up. */
int sync_prune(
    const char *state_dir, const char *sync_dir, const char *root, const char *keep);

#endif
