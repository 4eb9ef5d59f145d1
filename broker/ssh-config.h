/* ssh-config.h - what an OpenSSH client config says for one host.
 *
 * This module is the only reader of the config files: libssh 0.10's own
 * parser (ssh_options_parse_config) picks the wrong Host block when a
 * negated pattern follows a positive one (`Host * !x3` applied to x3), so
 * it never sees ~/.ssh/config. This module reads the files with OpenSSH's
 * rules (first value wins, IdentityFile accumulates, Host patterns with * ?
 * and !, Match all/host/originalhost/user/localuser, Include) and gives:
 * the options rdev applies itself (HostName, User, Port, IdentityFile,
 * IdentitiesOnly, IdentityAgent, BatchMode, ServerAlive*, ConnectTimeout,
 * BindAddress, PreferredAuthentications, RequiredRSASize, HashKnownHosts,
 * ProxyCommand/ProxyJump), the lines of the options libssh applies
 * (Ciphers, MACs, KexAlgorithms, HostKeyAlgorithms,
 * PubkeyAcceptedAlgorithms, Compression, *KnownHostsFile, the
 * *Authentication switches, GSSAPI*, RekeyLimit, ProxyCommand, ProxyJump:
 * libssh_lines, the first of each, handed to libssh as a config of their
 * own without Host or Match), and as notes the options that apply to the
 * host but that neither libssh nor rdev honours, so the caller can warn
 * about them instead of ignoring them silently: not those whose value
 * changes nothing for rdev (ssh_config_harmless in ssh-config.c), nor those
 * IgnoreUnknown lists (keywords OpenSSH itself does not know only).
 *
 * ssh_config_host_parse is pure (no I/O; Include gives a note);
 * ssh_config_host_read reads a file and follows Include.
 */
#ifndef RDEV_SSH_CONFIG_H
#define RDEV_SSH_CONFIG_H

#include <sys/types.h>

#include <stddef.h>
#include <time.h>

/* Who we are and where we go, for Host/Match and %-expansion. */
struct ssh_config_ctx {
	const char *host;	 /* the host as typed (alias); required */
	const char *remote_user; /* user given on the command line, or NULL */
	const char *local_user;	 /* for %u and Match localuser; required */
	const char *home;	 /* for ~ and %d; required */
};

/* The authentication methods rdev does, for auth_order. */
#define SSH_CONFIG_AUTH_PUBLICKEY 1
#define SSH_CONFIG_AUTH_KBDINT 2
#define SSH_CONFIG_AUTH_PASSWORD 3

/* The effective settings; everything is owned by the struct. */
struct ssh_config_host {
	char *hostname;	     /* HostName (unexpanded), or NULL */
	char *user;	     /* User, or NULL */
	int port;	     /* Port; 0 when unset */
	char *proxy;	     /* the first ProxyCommand or ProxyJump line
				("ProxyJump a,b"), or NULL */
	char **libssh_lines; /* "Keyword args" of each option libssh
				applies, the first of each keyword, in
				config order */
	size_t n_libssh_lines;
	char **identity_files; /* expanded paths, in config order */
	size_t n_identity_files;
	int identities_only;		  /* 0 or 1 (default 0) */
	char *identity_agent;		  /* IdentityAgent: an expanded path, "none",
					     or NULL when unset or SSH_AUTH_SOCK (the
					     environment's socket) */
	int batch_mode;			  /* 0 or 1 (default 0) */
	int server_alive_interval;	  /* seconds; 0 when unset or off */
	int server_alive_count_max;	  /* default 3 */
	int connect_timeout;		  /* seconds; 0 when unset */
	char *bind_address;		  /* BindAddress (a name or an address), or
					     NULL */
	int strict_host_key_checking_off; /* "no"/"off"/"accept-new" was set */
	int hash_known_hosts;		  /* HashKnownHosts: a key recorded is
					     written hashed (default 0) */
	int required_rsa_size;		  /* RequiredRSASize in bits; 0 when unset */
	int auth_order[3];		  /* PreferredAuthentications: the
					     SSH_CONFIG_AUTH_* methods it lists,
					     in its order, each once */
	size_t n_auth_order;
	int auth_order_set; /* PreferredAuthentications was set: try only the
			       methods of auth_order (otherwise publickey,
			       keyboard-interactive, password) */
	char **notes;	    /* "FILE:LINE: ..." per unsupported option */
	size_t n_notes;
	char **system_notes; /* the same from the system-wide file: the admin's
				choice, not the user's, so told more quietly */
	size_t n_system_notes;
	/* private: which single-valued options were seen */
	unsigned int seen;
	char *ignore_unknown; /* IgnoreUnknown's pattern list, or NULL */
};

/* Start h with the defaults. */
void ssh_config_host_init(struct ssh_config_host *h);
/* Free what h owns; h may be reused after ssh_config_host_init. */
void ssh_config_host_clear(struct ssh_config_host *h);

/* Apply the config text (from filename, for messages) to h for ctx. Returns 0,
 * or -1 with *cause for a malformed line ("FILE:LINE: ..."). */
int ssh_config_host_parse(struct ssh_config_host *h, const char *text,
    const char *filename, const struct ssh_config_ctx *ctx, char **cause);
/* Same for a file, following Include (glob, relative to ~/.ssh); a missing
 * file is no error (as in OpenSSH). */
int ssh_config_host_read(struct ssh_config_host *h, const char *path,
    const struct ssh_config_ctx *ctx, char **cause);

/* ssh_config_host_read for the system-wide file (/etc/ssh/ssh_config): its
 * notes, and its Includes', go to h->system_notes. */
int ssh_config_host_read_system(struct ssh_config_host *h, const char *path,
    const struct ssh_config_ctx *ctx, char **cause);

/* What a read looked at, so that a cache of its result can tell when reading
 * again could give another: each file opened or looked for (a missing one
 * too: it may appear) with what fstat said of it when it was read, and each
 * Include pattern with the paths it matched. Everything is owned by the
 * struct. */
struct ssh_config_seen_file {
	char *path;
	int exists; /* 0: it was not there (ENOENT) */
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
};
struct ssh_config_seen_glob {
	char *pattern;
	char *matches; /* the paths glob gave, each followed by a NUL */
	size_t matches_len;
};
struct ssh_config_files {
	struct ssh_config_seen_file *files;
	size_t n_files;
	struct ssh_config_seen_glob *globs;
	size_t n_globs;
	/* a file was changed less than SSH_CONFIG_RACY_S before it was read:
	 * a change in the same timestamp tick, of the same size, would not
	 * show in its stat (git's "racily clean" entries), so the read cannot
	 * be trusted to stay current */
	int racy;
};
#define SSH_CONFIG_RACY_S 2

void ssh_config_files_init(struct ssh_config_files *f);
/* Free what f owns; f may be reused after ssh_config_files_init. */
void ssh_config_files_clear(struct ssh_config_files *f);
/* Would reading again see the same files? 1 when every file stats as it
 * did (path, device, inode, size, mtime and ctime to the nanosecond, or
 * still absent) and every Include pattern matches the same paths; else 0.
 * An open and fstat per file (not a stat: on NFS only an open revalidates
 * the attributes) and a glob per pattern: the open blocks on a hung
 * mount as a read would. (A racy f may be unchanged and its read stale all
 * the same: the caller reads it again.) */
int ssh_config_files_unchanged(const struct ssh_config_files *f);

/* ssh_config_host_read (system: ssh_config_host_read_system) that also
 * records in files (initialised; NULL: nothing recorded) what it read. */
int ssh_config_host_read_files(struct ssh_config_host *h, const char *path,
    const struct ssh_config_ctx *ctx, int system, struct ssh_config_files *files,
    char **cause);

/* Expand ~ and the tokens %d %h %r %u %% in s for ctx; %h is hostname, or
 * ctx->host when hostname is NULL; %r is the local user when
 * ctx->remote_user is NULL. Returns a new string (caller frees), or NULL for
 * an unknown %-token. */
char *ssh_config_expand(
    const char *s, const struct ssh_config_ctx *ctx, const char *hostname);

#endif
