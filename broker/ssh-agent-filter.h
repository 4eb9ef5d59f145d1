/* ssh-agent-filter.h - an ssh-agent for libssh that shows only some of a
 * real agent's keys: OpenSSH's IdentitiesOnly with the agent.
 *
 * With `IdentitiesOnly yes`, OpenSSH still signs with the agent when the
 * agent holds the key of a listed IdentityFile (matched by public key):
 * a key with a passphrase loaded by ssh-add works without a prompt. libssh
 * 0.10's ssh_userauth_agent offers every key the agent holds and has no
 * call to offer one (its legacy ssh_userauth_agent_pubkey knows no
 * ed25519). So libssh is given a socket (ssh_set_agent_socket) served by a
 * thread that passes each request to the real agent and drops, from the
 * list of identities, the keys not allowed; signing requests pass through.
 *
 * Ownership: the filter owns its thread, its connection to the agent and
 * its end of the socket pair; the other end (*fd of start) is libssh's
 * once given (it closes it at ssh_free).
 */
#ifndef RDEV_SSH_AGENT_FILTER_H
#define RDEV_SSH_AGENT_FILTER_H

#include <stddef.h>

struct buf;

struct ssh_agent_filter;

/* Connect to the agent at sock and serve *fd, showing only the keys whose
 * public key blob is one of blobs[0..n) (copied). NULL with *cause when
 * the agent cannot be reached or no thread started. */
struct ssh_agent_filter *ssh_agent_filter_start(const char *sock,
    const unsigned char *const *blobs, const size_t *lens, size_t n, int *fd,
    char **cause);
/* End the thread (libssh's end then reads EOF) and free f, with how many
 * keys the last list of identities kept and had in *kept and *total (-1:
 * none was asked for). */
void ssh_agent_filter_stop(struct ssh_agent_filter *f, int *kept, int *total);

/* The agent's identities answer (body, len: SSH_AGENT_IDENTITIES_ANSWER,
 * a count, then each key blob and comment as strings) with only the keys
 * whose blob is one of blobs[0..n), appended to b; *kept and *total say
 * how many it kept and had. 0, or -1 when it is malformed (a short or
 * overlong string, another message type; b unchanged, *kept and *total 0).
 * Pure: no I/O. */
int ssh_agent_filter_identities(const unsigned char *const *blobs, const size_t *lens,
    size_t n, const unsigned char *body, size_t len, struct buf *b, int *kept,
    int *total);

#endif
