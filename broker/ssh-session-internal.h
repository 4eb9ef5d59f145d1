/* ssh-session-internal.h - the pieces of an SSH session shared by its files:
 * ssh-session.c (options, connect, run, keepalive; ssh-session.h),
 * ssh-hostkey.c (the known_hosts check) and ssh-auth.c (authentication).
 *
 * Ownership: struct rdev_ssh is rdev_ssh_connect's (rdev_ssh_free); the
 * host key check and authentication run inside rdev_ssh_connect, on its
 * thread.
 */
#ifndef RDEV_SSH_SESSION_INTERNAL_H
#define RDEV_SSH_SESSION_INTERNAL_H

#include <stddef.h>

#include <sys/types.h>

#include <libssh/libssh.h>

#include "ssh-config.h"
#include "ssh-proxy-command.h"
#include "ssh-session.h"

struct rdev_ssh {
	ssh_session ss;
	int (*ask)(void *arg, const char *prompt, int echo, char *buf, size_t len);
	void *ask_arg;
	const char *asking_key; /* the identity file being opened, for prompts */
	int ask_refused;	/* a passphrase prompt found nobody to answer */
	char *label;		/* user@alias:port */
	char *prefix;		/* "host ALIAS (ADDR:PORT)" */
	char *home;
	int keepalive;		  /* seconds */
	ssh_channel ka_ch;	  /* a keepalive sent, not answered yet (or NULL) */
	long long ka_deadline_ms; /* ka_ch's answer is due by then */
	int batch;
	struct ssh_config_host cfg;
	struct ssh_connect_report *report; /* borrowed (the caller's), or NULL */
	/* rdev_ssh_channel_window's destination: as large as the largest
	 * window asked for, kept for the session (grown, never shrunk) and
	 * never written while the data callbacks take stderr whole, so its
	 * pages are never made resident */
	char *window_scratch;
	uint32_t window_scratch_len;
	/* The ProxyCommand we run ourselves (ssh-proxy-command.h; its socket
	 * is given to libssh), or none */
	struct ssh_proxy_command proxy;
	/* The TCP socket we connected and gave libssh (SSH_OPTIONS_FD), or -1,
	 * with its identity: libssh never closes a socket given so (its
	 * ssh_disconnect leaves it, then forgets it), so rdev_ssh_free closes
	 * it after ssh_free, if the number is still that socket. */
	int tcp_fd;
	dev_t tcp_dev;
	ino_t tcp_ino;
	struct rdev_ssh_abort *abort; /* the connect's (borrowed), or NULL */
};

/* ssh-session.c */
/* path with the home folder shown as "~". The caller frees. */
char *rdev_ssh_tilde(const char *home, const char *path);
/* An option string from libssh, copied (the caller frees); NULL if unset. */
char *rdev_ssh_get_option(ssh_session ss, enum ssh_options_e what);

/* ssh-hostkey.c */
/* Check the server's key of the connected s against the known_hosts files;
 * record it when unknown and accept_new. 0, or -1 with *cause. */
int rdev_ssh_verify(
    struct rdev_ssh *s, const char *hostname, int port, int accept_new, char **cause);

/* ssh-auth.c */
/* Authenticate as user: none, the agent (IdentityAgent, else auth_sock,
 * else $SSH_AUTH_SOCK), identity files, then prompts. 0, or -1 with *cause
 * saying what was tried and what the server allows. */
int rdev_ssh_auth(struct rdev_ssh *s, const char *user, const char *hostname,
    const char *auth_sock, char **cause);

#endif
