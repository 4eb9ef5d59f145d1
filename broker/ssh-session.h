/* ssh-session.h - one connected, verified, authenticated SSH session (libssh).
 *
 * rdev_ssh_connect() does, in order:
 *  1. options: the host alias is looked up in the ssh config (libssh applies
 *     HostName, Port, User, ProxyCommand, ProxyJump via `ssh -W`, known-hosts
 *     files, algorithms; rdev applies IdentityFile, IdentitiesOnly, BatchMode,
 *     ServerAliveInterval/CountMax, ConnectTimeout; see ssh-config.h). Options
 *     that apply to the host but are honoured by nobody come back as notes
 *     (rdev_ssh_notes) for the caller to show. user/port in the options win
 *     over the config, as on the ssh command line.
 *  2. TCP connect, with TCP keepalive (and TCP_USER_TIMEOUT) set from the
 *     keepalive interval so that a dead peer is noticed by the kernel even
 *     when nothing is being sent. With o->wait, the TCP connect is rdev's:
 *     the host name (and a BindAddress name) looked up first in a lookup
 *     the wait can abandon (ssh-resolve.h; libssh's own lookup in
 *     ssh_connect cannot be), each address tried in turn, and libssh given
 *     the connected socket (SSH_OPTIONS_FD; its host stays the name).
 *  3. host key check against the user known_hosts file (UserKnownHostsFile,
 *     or ~/.ssh/known_hosts) and the global one (GlobalKnownHostsFile, or
 *     /etc/ssh/ssh_known_hosts), hashed entries included; @revoked keys are
 *     refused. Unknown: refused with the fingerprint and the flag to accept
 *     it, or, with accept_new_host_key, recorded in the user file. Changed
 *     (or only a key of another type known): always refused with OpenSSH's
 *     warning, both fingerprints and the offending file:line; never recorded.
 *     StrictHostKeyChecking=no in a config is not honoured.
 *  4. authentication: "none" (servers that allow it), then ssh-agent
 *     (IdentityAgent when the config sets it, as in OpenSSH, else auth_sock,
 *     else $SSH_AUTH_SOCK; skipped with IdentitiesOnly yes since libssh 0.10
 *     cannot limit the agent to the listed keys), then identity
 *     files (IdentityFile, or ~/.ssh/id_rsa, id_ecdsa, id_ed25519 when none is
 *     given; a key's .pub is offered first so a passphrase is only asked for a
 *     key the server would accept; the passphrase prompt needs someone to ask,
 *     o->ask or a terminal, and not batch), then keyboard-interactive and
 *     password, likewise.
 *
 * The session is blocking; the broker can later drive it through
 * ssh_get_fd(rdev_ssh_session(s)) with libssh's non-blocking calls.
 */
#ifndef RDEV_SSH_SESSION_H
#define RDEV_SSH_SESSION_H

#include <sys/types.h>

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <libssh/libssh.h>

struct buf;

/* How far rdev_ssh_connect got and what it found on the way (for `rdev
 * doctor`; ssh_target_opts.report). Plain data, filled as the steps go, on
 * failure as on success. */
enum ssh_step {
	SSH_STEP_CONFIG,  /* reading the ssh config */
	SSH_STEP_CONNECT, /* DNS, TCP, banner, key exchange */
	SSH_STEP_HOSTKEY, /* the known_hosts check */
	SSH_STEP_AUTH,	  /* authentication */
	SSH_STEP_DONE,	  /* connected */
};
enum ssh_hostkey_state {
	SSH_HOSTKEY_UNCHECKED,
	SSH_HOSTKEY_KNOWN,    /* matches the entry at file */
	SSH_HOSTKEY_UNKNOWN,  /* none: file is where it would be recorded */
	SSH_HOSTKEY_RECORDED, /* was unknown, now recorded in file */
	SSH_HOSTKEY_CHANGED,  /* another key of this type at file (or only one of
				 another type: other_type) */
	SSH_HOSTKEY_REVOKED,  /* marked @revoked at file */
};
/* What kind of failure ended a connect, recorded where it happened (for
 * placement's and `rdev doctor`'s findings, which must not read it back out
 * of a message). */
enum ssh_fail {
	SSH_FAIL_NONE,	      /* connected, or not a connect failure */
	SSH_FAIL_TIMEOUT,     /* no TCP connection within the connect timeout */
	SSH_FAIL_HANDSHAKE,   /* TCP connected (or the ProxyCommand started),
				 but no SSH banner or no end of the key
				 exchange within the connect timeout: a
				 stopped or hung sshd */
	SSH_FAIL_REFUSED,     /* TCP connection refused */
	SSH_FAIL_UNREACHABLE, /* no route to the host or its network */
	SSH_FAIL_DNS,	      /* the name does not resolve */
	SSH_FAIL_HOSTKEY,     /* the host key is unknown, changed or revoked */
	SSH_FAIL_AUTH,	      /* no way to authenticate was accepted */
	SSH_FAIL_PROXY,	      /* the ProxyCommand (ProxyJump's ssh) ended */
	SSH_FAIL_OTHER,	      /* the config, the handshake, a proxy... */
	SSH_FAIL_MOVED,	      /* the ssh config now takes it elsewhere (dest_key) */
};
struct ssh_connect_report {
	enum ssh_step reached; /* the step that failed, or SSH_STEP_DONE */
	enum ssh_fail fail;    /* why it failed; SSH_FAIL_NONE when connected */
	char hostname[256];    /* after the config: HostName */
	unsigned port;
	char user[128];
	int proxied;	      /* through a ProxyCommand or ProxyJump */
	char banner[128];     /* the server's, e.g. "SSH-2.0-OpenSSH_9.2p1"
				 (also with SSH_FAIL_HANDSHAKE when it came:
				 the key exchange did not end) */
	long long connect_ms; /* the connect step's time */
	long long auth_ms;    /* the authentication step's time */
	enum ssh_hostkey_state hostkey;
	int other_type;		/* CHANGED: only a key of another type known */
	char hostkey_file[600]; /* "PATH:LINE", or PATH for UNKNOWN/RECORDED */
	char fingerprint[128];	/* the server's key: "ED25519 SHA256:..." */
	char auth[600];		/* how authentication succeeded: "none",
				   "publickey (ssh-agent SOCK)", "publickey
				   (identity file PATH)", "keyboard-interactive",
				   "password" */
};

/* How to reach a host; plain data, borrowed for the duration of the call. */
struct ssh_target_opts {
	const char *host;	      /* alias or address; required */
	const char *user;	      /* NULL: ssh config, then the local user */
	int port;		      /* 0: ssh config, then 22 */
	const char *ssh_config_file;  /* NULL: ~/.ssh/config then
					 /etc/ssh/ssh_config; else only this
					 file (as ssh -F) */
	const char *known_hosts_file; /* NULL: UserKnownHostsFile from the
					 config, then ~/.ssh/known_hosts */
	int accept_new_host_key;      /* record an unknown host key */
	const char *auth_sock;	      /* the ssh-agent socket (the client's
					 SSH_AUTH_SOCK); NULL: $SSH_AUTH_SOCK */
	int batch;		      /* never prompt (also BatchMode yes) */
	int keepalive_interval_s;     /* 0: ServerAliveInterval, else 3 */
	int connect_timeout_s;	      /* 0: ConnectTimeout, else 20 */
	/* Who answers passphrase, password and keyboard-interactive prompts:
	 * NULL is the terminal (/dev/tty). Returns 0 with the answer in buf
	 * (NUL-terminated), -1 when nobody can answer. Not asked in batch. */
	int (*ask)(void *arg, const char *prompt, int echo, char *buf, size_t len);
	void *ask_arg;
	struct ssh_connect_report *report; /* NULL, or filled (zeroed first) */
	/* Who waits in the TCP connect and the key exchange. NULL: libssh,
	 * blocking, up to the connect timeout. Else those steps do not block:
	 * between them wait(wait_arg, fd, events, ms) waits at most ms for fd
	 * (POLLIN, POLLOUT in events) while its caller serves what it must
	 * (a host session: its stop, its clients), and returns 0 to go on or
	 * -1 to abandon the connect, which then fails at once ("connect
	 * abandoned") instead of in the timeout. (Authentication, after it,
	 * blocks: abort below cuts it short.) */
	int (*wait)(void *arg, int fd, short events, int ms);
	void *wait_arg;
	/* NULL, or how another thread cuts the connect short wherever it
	 * blocks (rdev_ssh_abort: authentication, a ProxyCommand that does not
	 * answer or end) */
	struct rdev_ssh_abort *abort;
	/* NULL, or the destination the connect must still resolve to
	 * (rdev_ssh_destination's key): a session keyed on it fails to
	 * reconnect once an edited ssh config takes its alias elsewhere
	 * (SSH_FAIL_MOVED). An "unresolved" key (the config could not be
	 * read then) is not compared: the connect resolves it again. */
	const char *dest_key;
	/* NULL, or who dest_key was resolved as (rdev_ssh_dest_cache_who):
	 * the connect reads the config as this local user and home (%u, %d,
	 * ~, Match localuser, the default User), not as the password entry
	 * says now, so that a user renamed while the broker runs, or NSS
	 * failing during a connect ("unknown"), does not make the key look
	 * moved (every new session failing SSH_FAIL_MOVED). Both or neither. */
	const char *dest_local_user;
	const char *dest_home;
};

/* Where o goes after the ssh config, read now: a key that two targets
 * share when they reach the same user@hostname:port (its first line) the
 * same way with the same identities (the session's key, host_session_key).
 * An unreadable config gives "unresolved" and o's fields (the connect
 * reports the error). The caller frees it. */
char *rdev_ssh_destination(const struct ssh_target_opts *o);

/* rdev_ssh_destination's keys, kept for the broker's loop, which needs one
 * per request: reading and parsing the config files (and their Includes)
 * and looking the user up (getpwuid_r: NSS, sssd, LDAP) each time cost
 * every request that time. A key is kept with what its read looked at
 * (ssh_config_files: each file's stat, each Include pattern's matches) and
 * who read it ($HOME, the user's name) and is read again only when one of
 * them changed. What a kept key still costs per request: an open and
 * fstat per file and a glob per Include. So the cache removes the reads,
 * the parse and the password look-up, not the file system: a hung NFS
 * mount under a config file still blocks that open, and the broker's loop
 * with it. The user's password entry is looked up once per uid (a rename
 * of the user while the broker runs is not seen, as by a running ssh); a
 * failed look-up ("unknown") is tried again after RDEV_SSH_PW_RETRY_MS.
 * A session's connect reads the config as the same user
 * (rdev_ssh_dest_cache_who, ssh_target_opts.dest_local_user), so its key
 * and its connect agree on who. Not thread-safe: one thread (the
 * broker's loop) uses it. */
struct rdev_ssh_dest_cache;
struct rdev_ssh_dest_cache *rdev_ssh_dest_cache_new(void);
/* Free c and its keys; NULL is a no-op. */
void rdev_ssh_dest_cache_free(struct rdev_ssh_dest_cache *c);
/* rdev_ssh_destination(o), from c while its files are unchanged (at most
 * RDEV_SSH_DEST_CACHE_MAX targets are kept, the least recently used
 * dropped first). An "unresolved" key is never kept. The caller frees. */
char *rdev_ssh_destination_cached(
    struct rdev_ssh_dest_cache *c, const struct ssh_target_opts *o);
/* rdev_ssh_destination_cached at now_ms (that one passes clock_now_ms();
 * tests pass theirs, to cross RDEV_SSH_PW_RETRY_MS without waiting). */
char *rdev_ssh_destination_cached_at(
    struct rdev_ssh_dest_cache *c, const struct ssh_target_opts *o, long long now_ms);
#define RDEV_SSH_DEST_CACHE_MAX 64
/* How many times c read the config files (for tests and the log). */
unsigned long rdev_ssh_dest_cache_reads(const struct rdev_ssh_dest_cache *c);
/* How many times c looked the user's password entry up (for tests). */
unsigned long rdev_ssh_dest_cache_lookups(const struct rdev_ssh_dest_cache *c);
/* Who c's last key was read as (ssh_target_opts.dest_local_user and
 * dest_home for the connect of a session keyed on it): borrowed, valid
 * until c's next call; NULL before the first. */
void rdev_ssh_dest_cache_who(
    const struct rdev_ssh_dest_cache *c, const char **local_user, const char **home);
/* How long a uid without a password entry (or whose look-up failed) is
 * taken for "unknown" before it is looked up again. */
#define RDEV_SSH_PW_RETRY_MS 30000

/* What a connect in progress waits on, for rdev_ssh_abort from another
 * thread: rdev_ssh_connect publishes its socket (a dup: shut down, never
 * closed, by the aborter) and its ProxyCommand's process group while it
 * runs, and takes them back before it returns. Init with
 * rdev_ssh_abort_init; one connect at a time. */
struct rdev_ssh_abort {
	pthread_mutex_t lock;
	int fd;	     /* a dup of the session's socket, or -1 */
	pid_t pgid;  /* the ProxyCommand's process group, or 0 */
	int aborted; /* rdev_ssh_abort ran: a connect starting now fails */
};
void rdev_ssh_abort_init(struct rdev_ssh_abort *a);
void rdev_ssh_abort_destroy(struct rdev_ssh_abort *a);
/* From any thread: the connect in progress fails at once (its socket shut
 * down, its ProxyCommand's process group killed), and so does any later
 * one with a. */
void rdev_ssh_abort(struct rdev_ssh_abort *a);

struct rdev_ssh;

/* Connect, verify and authenticate. Returns the session (free with
 * rdev_ssh_free), or NULL with *cause set; every message starts with
 * "host LABEL (ADDRESS:PORT): ". */
struct rdev_ssh *rdev_ssh_connect(const struct ssh_target_opts *o, char **cause);
/* The kind's name as the protocol gives it ("timeout", "refused",
 * "unreachable", "dns", "hostkey", "auth", "other", "moved"; NULL for
 * SSH_FAIL_NONE); static. */
const char *rdev_ssh_fail_name(enum ssh_fail fail);
/* Disconnect and free; NULL is a no-op. */
void rdev_ssh_free(struct rdev_ssh *s);

/* Run argv (quoted as above) in a new exec channel, feed it stdin_data (then
 * EOF) and collect its output. *out and *err (either may be NULL to discard)
 * are NUL-terminated, owned by the caller; *out_len is the byte count of
 * *out. *exit_status is the remote exit code, 128 + N when killed by signal
 * N, or 255 when the server sent none. Returns 0 when the command ran (any
 * status), -1 with *cause when the session or channel failed. */
/* sshd frees a closed session channel's slot only in the loop pass after
 * the close (OpenSSH's channel garbage collection), so on a host with a low
 * MaxSessions an open right after another channel closed may be refused:
 * it is tried again, every RDEV_SSH_OPEN_RETRY_MS for up to
 * RDEV_SSH_OPEN_RETRIES times, while the refusals are refusals. */
#define RDEV_SSH_OPEN_RETRIES 40
#define RDEV_SSH_OPEN_RETRY_MS 25
/* A new open session channel (blocking; the caller frees it), or NULL with
 * the session's error. */
ssh_channel rdev_ssh_open_session(struct rdev_ssh *s);
int rdev_ssh_run(struct rdev_ssh *s, const char *const *argv, const void *stdin_data,
    size_t stdin_len, char **out, size_t *out_len, char **err, int *exit_status,
    char **cause);
/* Where rdev_ssh_run_input takes the command's stdin from, a piece at a
 * time as the channel's window opens: next() sets *data and *len to the
 * next piece (owned by the producer, valid until its next call; *len 0 at
 * the end) and returns 0, or returns -1 with *cause (the run then fails
 * with that cause, the channel closed before EOF). */
struct rdev_ssh_input {
	int (*next)(void *arg, const unsigned char **data, size_t *len, char **cause);
	void *arg;
};
/* rdev_ssh_run with a streamed stdin (in), so a large input is never held
 * whole in memory. */
int rdev_ssh_run_input(struct rdev_ssh *s, const char *const *argv,
    const struct rdev_ssh_input *in, char **out, size_t *out_len, char **err,
    int *exit_status, char **cause);

/* An SSH-level keepalive without waiting: the first call sends it, later
 * calls (on each round of the caller's loop, at now_ms) take the answer if
 * it came. The answer is due within the keepalive interval times
 * (ServerAliveCountMax - 1), at least one interval: the caller sends it after
 * one interval in which nothing came, so a silent peer is dropped
 * ServerAliveInterval x ServerAliveCountMax seconds after it was last heard
 * (9 s by default; OpenSSH's documented figure). Returns 1 when the peer
 * answered, 0 while the answer is not due yet, -1 with *cause when it did not
 * come in time or cannot (dead or hung peer: the caller drops the session).
 * The session's other channels go on meanwhile. */
int rdev_ssh_keepalive_step(struct rdev_ssh *s, long long now_ms, char **cause);
/* Is a keepalive sent and not answered yet? */
int rdev_ssh_keepalive_pending(const struct rdev_ssh *s);
/* Is the peer taking our data (TCP: bytes in flight, acknowledged within the
 * keepalive interval)? On a link busy sending to the host the host may send
 * nothing for a while (window adjusts come after 1 MiB or more); a keepalive
 * then would queue behind that data and time out on a live host. 0 when not,
 * or not a TCP connection (ProxyCommand). */
int rdev_ssh_peer_acking(struct rdev_ssh *s);
/* Top channel ch (of session s) up to a receive window of size bytes: a
 * WINDOW_ADJUST for what is missing, nothing when it is that large already
 * (chan-window.h says when). For channels whose extended data (stderr) a
 * data callback always takes whole; any that libssh still held is returned
 * in *stderr_data / *stderr_len (borrowed from s: valid until the next call
 * on s; length 0 when none). Allocates nothing per call. Returns 0, or -1
 * when libssh failed (the session's error says why). */
int rdev_ssh_channel_window(struct rdev_ssh *s, ssh_channel ch, uint32_t size,
    const void **stderr_data, size_t *stderr_len);
/* Send what libssh queued for the socket (window adjusts, replies) without
 * waiting: libssh 0.10 writes a packet at once only when a poll saw the
 * socket writable since its last write, else it queues it for the next
 * poll, which an event loop that waits for the socket to be readable may not
 * run for a long time. Packets that arrived meanwhile are handled (channel
 * callbacks may run). Returns 1 while output is still queued (the socket is
 * full: wait for it to be writable), 0 when none is, -1 on error. */
int rdev_ssh_flush(struct rdev_ssh *s);
/* The keepalive interval in seconds this session uses. */
int rdev_ssh_keepalive_interval(const struct rdev_ssh *s);

/* The libssh session, for opening channels; valid until rdev_ssh_free. */
ssh_session rdev_ssh_session(struct rdev_ssh *s);
/* "user@host:port" for messages (host as given, e.g. the alias); valid until
 * rdev_ssh_free. */
const char *rdev_ssh_host_label(const struct rdev_ssh *s);
/* "host NAME (ADDRESS:PORT)", the prefix of this session's error messages;
 * valid until rdev_ssh_free. */
const char *rdev_ssh_prefix(const struct rdev_ssh *s);
/* Warnings about ssh config options that apply to this host but are not
 * honoured ("FILE:LINE: ..."); valid until rdev_ssh_free. */
const char *const *rdev_ssh_notes(const struct rdev_ssh *s, size_t *n);
/* The same from the system-wide file (/etc/ssh/ssh_config and what it
 * includes): for the log and doctor's info, not every command's stderr. */
const char *const *rdev_ssh_system_notes(const struct rdev_ssh *s, size_t *n);

#endif
