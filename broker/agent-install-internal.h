/* agent-install-internal.h - the pieces of the agent install shared by its
 * files: agent-bundle.c (the local bundle), agent-upload.c (sending its
 * files over SFTP or exec channels) and agent-install.c (the procedure on
 * the host, agent-install.h).
 *
 * Ownership: a struct agent_bundle is its references' (agent_bundle_open
 * makes the first, agent_bundle_ref adds one, agent_bundle_free drops one);
 * the others read it. A struct agent_xfer is its caller's, on the stack,
 * from agent_xfer_open to agent_xfer_close.
 */
#ifndef RDEV_AGENT_INSTALL_INTERNAL_H
#define RDEV_AGENT_INSTALL_INTERNAL_H

#include <sys/stat.h>
#include <sys/types.h>

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <libssh/sftp.h>

#include "agent-install.h"

#define AGENT_HASH_LEN 32
#define AGENT_MANIFEST_MAX (1024 * 1024)

struct agent_bundle_file {
	char *name;			    /* relative to the bundle dir */
	unsigned char hash[AGENT_HASH_LEN]; /* BLAKE2b-256 */
	mode_t mode;			    /* 0755 or 0644 */
	uint64_t size;
};

struct agent_bundle {
	char *dir;
	char *version;
	char *os;
	char *arch;
	char hash_hex[AGENT_HASH_LEN * 2 + 1]; /* of MANIFEST */
	char *install_name;		       /* <version>-<hash prefix> */
	struct agent_bundle_file *files;       /* MANIFEST's, then MANIFEST
						  and bundle.hash */
	size_t nfiles;
	uint64_t size;
	struct stat manifest_st; /* MANIFEST's, taken before it was read */
	atomic_int refs;
};

/* How the files reach the host: SFTP, or, where sshd has no sftp subsystem,
 * exec channels (one per file, the path an argument of `sh -c`). */
struct agent_xfer {
	struct rdev_ssh *s;
	sftp_session sftp; /* NULL: exec channels (or SFTP not needed) */
	void (*progress)(void *, const char *);
	void *arg;
};

/* agent-bundle.c */
/* BLAKE2b-256 of data. */
void agent_hash_mem(const void *data, size_t len, unsigned char out[AGENT_HASH_LEN]);

/* agent-upload.c */
/* Get x ready to send over s. SFTP is started only where it is needed (a
 * host without tar: agent_upload), else every step is an exec channel. */
void agent_xfer_open(struct agent_xfer *x, struct rdev_ssh *s,
    void (*progress)(void *, const char *), void *arg);
void agent_xfer_close(struct agent_xfer *x);
/* Rename remote directory from to to; fails when to exists. 0, or -1 with
 * *cause (may be NULL). */
int agent_xfer_rename(
    struct agent_xfer *x, const char *from, const char *to, char **cause);
/* Make tmp and put the bundle's files in it, each checked against MANIFEST
 * as it is read: one tar stream over one exec channel, or, where the host
 * has no tar, file by file (agent_xfer_open's way). 0, or -1 with *cause. */
int agent_upload(
    struct agent_xfer *x, const struct agent_bundle *b, const char *tmp, char **cause);

/* agent-install.c */
/* The hooks of agent_install_set_test_hooks (process-wide; tests only). */
extern struct agent_install_test_hooks agent_test_hooks;
/* Trim trailing white space in place; returns s. */
char *agent_trim(char *s);
/* One line to progress (NULL: none), formatted. */
void agent_progress(void (*progress)(void *, const char *), void *arg, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));

#endif
