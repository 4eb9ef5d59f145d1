/* target.h - what a TARGET on the command line names.
 *
 * A TARGET is a local path, [user@]host[:port]:path, ssh://user@host:port/path
 * or @pool. Only the distinction local/remote lives here for now; the remote
 * forms are parsed by the SSH layer.
 */
#ifndef RDEV_TARGET_H
#define RDEV_TARGET_H

/* True if target names a remote workspace. A local path that exists wins
 * over the host:path reading ("a:b" that is a folder here is local). */
int target_is_remote(const char *target);

#endif
