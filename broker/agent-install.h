/* agent-install.h - put the rdev-agent bundle on a host (issue 5, item 4;
 * issue 11: keyed by hash, verified before each start, no SFTP needed).
 *
 * A bundle is a directory built by deploy/agent-bundle.sh: rdev-agent, lib/,
 * rdev-agent-check, licenses/, MANIFEST (version, os, arch, then one BLAKE2b-256
 * line per file) and bundle.hash (BLAKE2b-256 of MANIFEST, which names the
 * whole bundle). On a host it lives in ~/.rdev/agent/<version>-<hash16>/
 * (hash16: the first 16 hex digits of bundle.hash), a directory that is never
 * written after it was renamed into place. Two builds of one version each
 * have their own directory, so brokers of both can share a host without
 * replacing each other's agent at every connect; the directories of other
 * builds and versions are left alone (an agent may be running from them).
 *
 * agent_install_ensure() follows the procedure written at the top of
 * deploy/agent-bundle.sh:
 *  - fast path, one exec round trip: `uname -sm`, $HOME, the installed
 *    bundle.hash of our directory and, when it is ours, every installed file
 *    re-hashed against the broker's own hashes (b2sum; the installed
 *    rdev-agent-check on a host without b2sum), so a damaged or tampered
 *    install is found, not only a missing one, and is replaced before it runs
 *    (with a "warning: ... changed or damaged" progress line);
 *  - otherwise: a host of another OS/arch is refused at once; pre-flight
 *    (rdev-agent-check --host-only fed on stdin: glibc; ~/.rdev/agent
 *    writable; free space), upload into ~/.rdev/agent/.<name>.tmp.<hex>/ over
 *    SFTP or, when the host's sshd has no sftp subsystem, over one exec
 *    channel per file (`sh -c 'cat >"$1"' PATH`; a progress line says so),
 *    rdev-agent-check run there (a transit-damaged upload is uploaded once
 *    more), rename into ~/.rdev/agent/<name>. If that name is taken, the
 *    installed copy is checked again: good (another broker won the race) and
 *    ours is dropped, or damaged and it is moved aside to .<name>.old.<hex>
 *    and the rename retried. Leftover .tmp/.old dirs older than an hour are
 *    removed by the next pre-flight.
 *
 * agent_install_verify() re-checks an install just before an agent process
 * is started from it.
 */
#ifndef RDEV_AGENT_INSTALL_H
#define RDEV_AGENT_INSTALL_H

#include <stddef.h>
#include <stdint.h>

struct rdev_ssh;

/* A local agent bundle, checked: MANIFEST matches bundle.hash and every file
 * matches its MANIFEST hash. */
struct agent_bundle;

/* Find the bundle for this machine's arch (NAME = rdev-agent-<RDEV_VERSION>-
 * linux-<uname -m>): $RDEV_AGENT_BUNDLE (a bundle dir, no fallback) if set;
 * else <dir of /proc/self/exe>/agent-bundle/NAME (a build dir); else
 * <exe dir>/../lib/rdev/agent-bundle/NAME (the installed layout). The first
 * that exists is opened. NULL with *cause naming every place looked at, or
 * why the bundle found cannot be used. Free with agent_bundle_free. */
struct agent_bundle *agent_bundle_find(char **cause);
/* Open and check the bundle in dir (reads and hashes every file, a few ms).
 * NULL with *cause ("agent bundle DIR: ...") when it is missing or damaged. */
struct agent_bundle *agent_bundle_open(const char *dir, char **cause);
/* A bundle is reference counted (atomically: host session threads hold
 * theirs): agent_bundle_find and agent_bundle_open return it with one
 * reference, agent_bundle_ref adds one (returns b), agent_bundle_free
 * drops one and frees b with the last. NULL is a no-op. */
struct agent_bundle *agent_bundle_ref(struct agent_bundle *b);
void agent_bundle_free(struct agent_bundle *b);
/* 1 if b's MANIFEST is no longer the file it read (replaced, changed or
 * gone: a package upgrade, a rebuild), else 0: one stat(2). */
int agent_bundle_stale(const struct agent_bundle *b);
/* The bundle's version, directory, arch and BLAKE2b-256 (64 hex digits);
 * valid until agent_bundle_free. */
const char *agent_bundle_version(const struct agent_bundle *b);
const char *agent_bundle_dir(const struct agent_bundle *b);
const char *agent_bundle_arch(const struct agent_bundle *b);
const char *agent_bundle_hash(const struct agent_bundle *b);
/* The name of its directory on a host, "<version>-<first 16 hex digits of the
 * hash>"; valid until agent_bundle_free. */
const char *agent_bundle_install_name(const struct agent_bundle *b);
/* Sum of the sizes of the files uploaded. */
uint64_t agent_bundle_size(const struct agent_bundle *b);

/* The current bundle, in a slot of its own lock: the broker's loop replaces
 * it (a package upgrade), and a host session takes the current one when it
 * installs, not the one current when it was made, whose files on disk may
 * be the new bundle's by then. A bundle replaced is freed when the last
 * session that took it lets it go. */
struct agent_bundle_slot;
/* An empty slot; agent_bundle_slot_free drops the reference it holds. */
struct agent_bundle_slot *agent_bundle_slot_new(void);
void agent_bundle_slot_free(struct agent_bundle_slot *s);
/* Make b (NULL: none) current: the slot takes the caller's reference and
 * drops the one of the bundle it replaces. */
void agent_bundle_slot_set(struct agent_bundle_slot *s, struct agent_bundle *b);
/* The current bundle with a new reference (the caller's: agent_bundle_free),
 * or NULL when there is none. Safe from any thread. */
struct agent_bundle *agent_bundle_slot_take(struct agent_bundle_slot *s);
/* agent_bundle_slot_take, but a current bundle found stale (its MANIFEST
 * changed since it was read: an upgrade in place the broker's loop has not
 * loaded yet, as no command reached it) is read again here, on the caller's
 * thread (a few ms), and the one read made current in the slot, unless
 * another was made current meanwhile (then that one is returned). One that
 * cannot be read whole yet (an upgrade's window) leaves the stale one
 * current, and returned. */
struct agent_bundle *agent_bundle_slot_take_fresh(struct agent_bundle_slot *s);

/* Make sure bundle b is installed on the host behind s (see the top of this
 * file). On success *agent_path is the absolute remote path of rdev-agent
 * (the caller frees it). progress (may be NULL) gets one-line messages such as
 * "installing rdev-agent 0.1.0 on HOST (1.4 MB)"; the fast path sends none.
 * -1 with *cause naming the host and what failed (other OS/arch, glibc too
 * old, no space, permission, damaged in transit twice...). */
int agent_install_ensure(struct rdev_ssh *s, const struct agent_bundle *b,
    char **agent_path, void (*progress)(void *arg, const char *line), void *arg,
    char **cause);

/* Is the install of b whose rdev-agent is agent_path (as agent_install_ensure
 * returned it) still intact? One exec round trip: its bundle.hash must be b's,
 * every file must match b's hashes (b2sum, where the host has it), then the
 * installed rdev-agent-check runs (hashes against MANIFEST, rdev-agent
 * --version). The broker runs the same check in the start's own login shell
 * (agent_install_serve_command with verify); this call does it alone. 0, or -1 with
 * *cause naming the host and the directory: changed or damaged since it was
 * installed (agent_install_ensure replaces it), cannot run, or the session
 * failed. */
int agent_install_verify(struct rdev_ssh *s, const struct agent_bundle *b,
    const char *agent_path, char **cause);

/* The command line (for an exec channel; the caller's to free) that starts
 * the agent installed at agent_path serving with `--listen listen_id`. With
 * verify, the install is first checked as agent_install_verify does, in the
 * same login shell: a start that ends with status 2 (one stderr line says
 * why) found it changed or damaged, and agent_install_ensure replaces it. */
char *agent_install_serve_command(const struct agent_bundle *b, const char *agent_path,
    const char *listen_id, int verify);

/* Can the SSH user reach Docker on the host? Runs `AGENT ls --json` (one exec
 * round trip plus one Docker API call). 0, or -1 with *cause naming the host
 * and the agent's reason, with a hint (group docker, rootless DOCKER_HOST). */
int agent_install_check_docker(struct rdev_ssh *s, const char *agent_path, char **cause);

/* For tests only (process-wide; NULL removes them): upload gets each file's
 * bytes after they were checked against MANIFEST and before they are sent,
 * and may change them to fake damage in transit; before_rename runs just
 * before the upload is renamed into place. */
struct agent_install_test_hooks {
	void (*upload)(void *arg, const char *name, unsigned char *data, size_t len);
	void (*before_rename)(void *arg);
	void *arg;
};
void agent_install_set_test_hooks(const struct agent_install_test_hooks *h);

#endif
