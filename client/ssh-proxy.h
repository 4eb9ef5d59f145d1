/* ssh-proxy.h - `rdev ssh-proxy TARGET`: an SSH server on stdin/stdout
 * (libssh's server API, in this process) whose sessions run in TARGET's dev
 * container through its agent, and the key and known_hosts file that
 * `rdev ssh-config` pins ssh to (docs/SSH-PROXY.md).
 *
 * Ownership: ssh_proxy_run() takes the key (libssh's bind frees it) and
 * borrows the agent connection for its whole run; the strings returned by
 * the key functions are new (the caller frees them), the ssh_key too
 * (ssh_key_free).
 */
#ifndef RDEV_SSH_PROXY_H
#define RDEV_SSH_PROXY_H

#include <stddef.h>
#include <stdint.h>

#include <libssh/libssh.h>

struct cJSON;
struct proto_conn;

/* The name ssh knows the proxy's key by (ssh_config HostKeyAlias): one key
 * serves every workspace, so one known_hosts line does too. */
#define SSH_PROXY_HOST_KEY_ALIAS "rdev-ssh-proxy"

/* ssh-proxy-key.c. The user's proxy host key (an Ed25519 key in
 * STATE/ssh-proxy/host_key, mode 0600, folder 0700), made on first use;
 * two proxies starting at once agree on one. NULL with *cause. With note
 * not NULL: *note is a message for the user (new, the caller frees) when
 * the key ssh-config pinned (STATE/ssh-proxy/known_hosts) is another one
 * (the key file was deleted and made anew: ssh refuses it as a changed
 * key), else NULL. */
ssh_key ssh_proxy_key_load(char **note, char **cause);
/* Write STATE/ssh-proxy/known_hosts (the key's line under
 * SSH_PROXY_HOST_KEY_ALIAS), making the key if needed; its path (new), or
 * NULL with *cause. */
char *ssh_proxy_key_known_hosts(char **cause);

/* ssh-proxy-pump.c. Bridge in_fd/out_fd (a ProxyCommand's stdin and stdout,
 * two pipes) to one end of a new socketpair, which libssh can use as its
 * socket: two threads copy bytes, blocking, and never touch libssh. The
 * other end is returned (the caller owns it), or -1 with *cause. When the
 * socket's peer closes, out_fd is closed; at the end of in_fd the socket is
 * shut down for writing. */
struct ssh_proxy_pump;
struct ssh_proxy_pump *ssh_proxy_pump_start(int in_fd, int out_fd, int *fd, char **cause);
/* After the returned socket is closed: stop the stdin thread (through its
 * stop pipe: it may wait for stdin for ever), wait for the stdout thread to pass on the
 * last bytes, and free. NULL: nothing. */
void ssh_proxy_pump_free(struct ssh_proxy_pump *pp);

/* ssh-proxy-fdpass.c. ssh's ProxyUseFdpass: in_fd and out_fd (stdin and
 * stdout) are one unix socket to ssh, which takes a connected socket from
 * it and then waits for this process to end. Makes a socketpair, passes one
 * end to the client and, when the client took it, forks: the parent gets
 * PARENT (it must then end at once with _exit: its connections, the
 * broker's included, are the child's now, and nothing of them may be shut
 * down); the child gets CHILD with the other end in *fd (the caller owns
 * it) and stdin and stdout on /dev/null. INBAND when the client is not one
 * that takes a socket, to be served on stdin and stdout: *fd is then a copy
 * of that socket (the caller owns it) when they are one (a client such as
 * libssh's, which ignores ProxyUseFdpass and speaks on the socket it gave:
 * it spoke before the pass, or after it without taking the socket), or -1
 * on pipes (for the caller to pump). FAILED, *fd -1, with *cause when the
 * pass failed or the client did neither (no child then). */
enum ssh_proxy_fdpass_outcome {
	SSH_PROXY_FDPASS_FAILED = -1,
	SSH_PROXY_FDPASS_CHILD,
	SSH_PROXY_FDPASS_PARENT,
	SSH_PROXY_FDPASS_INBAND,
};
enum ssh_proxy_fdpass_outcome ssh_proxy_fdpass(
    int in_fd, int out_fd, int *fd, char **cause);

/* ssh-proxy-agent.c. The connections to the container's agent socket
 * (`/.rdev-relay --agent-socket` running as an exec on agent channel
 * agent_ch of c, whose stdout goes to ssh_proxy_agent_output()), each an
 * auth-agent@openssh.com channel to the client of s. new/free pair; s and
 * c are borrowed for its life. */
struct ssh_proxy_agent;
struct ssh_proxy_agent *ssh_proxy_agent_new(
    ssh_session s, struct proto_conn *c, uint32_t agent_ch);
void ssh_proxy_agent_output(struct ssh_proxy_agent *a, const void *data, size_t len);
/* The socket's path in the container once the relay said it, else NULL
 * (borrowed: valid until the free). NULL a: NULL. */
const char *ssh_proxy_agent_path(const struct ssh_proxy_agent *a);
/* Once per loop pass: open, write and close the channels as far as they go. */
void ssh_proxy_agent_step(struct ssh_proxy_agent *a);
void ssh_proxy_agent_free(struct ssh_proxy_agent *a);

/* What the sessions' execs need besides the agent. */
struct ssh_proxy_opts {
	const char *folder;	       /* the workspace folder as the agent names it */
	const char *config_file;       /* NULL: discover */
	const char *hint;	       /* "rdev up TARGET" for "no container", or NULL */
	const struct cJSON *id_labels; /* --id-label: ["NAME=VALUE",...], or NULL */
	/* the host as a broker request names it (remote_host_json), or NULL
	 * (a local target): direct-tcpip to the container's ports then goes
	 * through the broker ("connect"), as rdev forward's connections */
	const struct cJSON *host;
	/* the agent connection was lost: make a new one (the broker started
	 * anew if it is gone, a new agent asked for); from the call on the
	 * old connection is the caller's to free. The new connection, after
	 * its handshake (borrowed: the caller owns it), or NULL with *cause,
	 * also once deadline (clock_now_ms) has passed: a stopped broker must
	 * not hold the proxy (remote_connect_by). NULL: no reconnecting
	 * (channels are refused once it is lost). */
	struct proto_conn *(*reconnect)(void *arg, long long deadline, char **cause);
	void *reconnect_arg;
	/* the host as messages name it ("buildbox"), or NULL: the local agent */
	const char *where;
};

/* ssh-proxy.c. Serve one SSH client on fd (a socket: the pump's; libssh
 * closes it) with key (consumed, whatever the outcome),
 * mapping its session channels to execs on the agent connection c (after
 * its handshake; request ids from first_id up). A lost agent connection
 * ends the channels riding it, not the SSH connection: the next new
 * channel asks o->reconnect for another (docs/SSH-PROXY.md, "A lost
 * agent"). Returns when the client disconnects: 0, or -1 with *cause (the
 * key exchange failed, the session broke). */
int ssh_proxy_run(int fd, ssh_key key, struct proto_conn *c, int first_id,
    const struct ssh_proxy_opts *o, char **cause);
/* ssh-proxy-chan.c. Free ch, the callbacks cb (set on it) removed first. */
struct ssh_channel_callbacks_struct;
void ssh_proxy_channel_free(ssh_channel ch, struct ssh_channel_callbacks_struct *cb);

#endif
