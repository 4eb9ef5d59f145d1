/* sync-back-sweep.h - the temporary files a two-way sync left behind when
 * its process was killed mid-write (".rdev-back-PID-..." beside the files
 * it brought back, a big file's up to 4 GiB: docs/SYNC.md, "Two-way"),
 * removed when a sync of the folder starts or resumes.
 *
 * Only regular files whose name is rdev's own temporary name with the PID
 * of a process gone (never one of a running sync, never a symlink, nor
 * anything else) are removed; folders the sync leaves out and symlinked
 * folders are not entered.
 *
 * Ownership: everything is borrowed.
 */
#ifndef RDEV_SYNC_BACK_SWEEP_H
#define RDEV_SYNC_BACK_SWEEP_H

struct sync_ignore;

/* Is leaf exactly a two-way sync's temporary name, ".rdev-back-PID-SEQ"
 * (decimal) or ".rdev-back-PID-pXXXXXXXX" (8 lowercase hex digits), PID a
 * pid_t above 0? Its PID into *pid. */
int sync_back_sweep_name(const char *leaf, long *pid);

/* Remove the stale temporary files under root (ig: what the sync leaves
 * out, may be NULL). The count removed (0 when root cannot be read: the
 * sync's own scan tells). */
long long sync_back_sweep(const char *root, const struct sync_ignore *ig);

#endif
