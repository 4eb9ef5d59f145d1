/* ssh-proxy.c - the SSH server of `rdev ssh-proxy` (ssh-proxy.h): one
 * client on a socket, authenticated by being the local user (only they can
 * start this program as their ProxyCommand), each session channel's shell or
 * exec request an exec of the agent protocol (docs/PROTOCOL.md, "exec and
 * its channels"), so it runs exactly as `rdev exec` runs a command.
 *
 * One loop, libssh's ssh_event: the session's socket and the agent's fd.
 * Nothing blocks it: channel writes are non-blocking (what the client's
 * window does not take waits in the channel's buffer), agent writes are
 * queued. Each exec's output is paced by credit (its request's "window",
 * WINDOW frames granted as the client's window takes the bytes), so a
 * client that stops reading one channel stalls that channel only; with an
 * agent that does not pace (no "window" in its answer) the agent is not read
 * while those channels' buffers hold SSH_PROXY_OUT_MAX.
 */
#include "ssh-proxy.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <libssh/callbacks.h>
#include <libssh/server.h>

#include "buf.h"
#include "byte-order.h"
#include "client.h"
#include "error.h"
#include "log.h"
#include "proto-conn.h"
#include "relay-chunks.h"
#include "xmalloc.h"

#define SSH_PROXY_OUT_MAX (4u << 20)
/* Output an exec may have in flight or waiting here (its credit). */
#define SSH_PROXY_EXEC_WINDOW (2u << 20)
/* All paced channels' waiting output: past it, the agent is not read. */
#define SSH_PROXY_PACED_MAX (64u << 20)
#define SSH_PROXY_WRITE_CHUNK 32768
#define SSH_PROXY_IN_MAX (4u << 20) /* client bytes queued for the agent */
#define SSH_PROXY_EXIT_FAILED 125
#define SSH_PROXY_SFTP_SCRIPT \
	"for p in /usr/lib/openssh/sftp-server /usr/libexec/openssh/sftp-server " \
	"/usr/lib/ssh/sftp-server /usr/libexec/sftp-server /usr/lib/sftp-server; do " \
	"[ -x \"$p\" ] && exec \"$p\"; done; " \
	"p=$(command -v sftp-server) && exec \"$p\"; " \
	"echo 'rdev: the dev container has no sftp-server: install it (Debian, " \
	"Ubuntu, Alpine: openssh-sftp-server; Fedora, RHEL: openssh-server)' >&2; " \
	"exit 127"
#define SSH_PROXY_RELAY_PATH "/.rdev-relay" /* agent/relay-install.h */

enum ssh_proxy_chan_state {
	SSH_PROXY_CHAN_OPEN,	 /* opened; pty-req and env may come */
	SSH_PROXY_CHAN_STARTING, /* the exec request is sent, not answered */
	SSH_PROXY_CHAN_RUNNING,	 /* the command runs */
	SSH_PROXY_CHAN_EXITED,	 /* it ended; its last output is being sent */
	SSH_PROXY_CHAN_CLOSED,	 /* exit status sent, channel closed: free it */
};

static const char *ssh_proxy_chan_state_names[] = { "open", "starting", "running",
	"exited", "closed" };

/* The container's relay (/.rdev-relay), which direct-tcpip channels run as
 * `/.rdev-relay --connect PORT`: asked for once per proxy (the agent's
 * "relay" op puts the binary in the container). */
enum ssh_proxy_relay_state {
	SSH_PROXY_RELAY_UNKNOWN,
	SSH_PROXY_RELAY_ASKING,
	SSH_PROXY_RELAY_READY,
	SSH_PROXY_RELAY_FAILED,
};

/* Agent forwarding (`ssh -A`): the container's agent socket, one per
 * proxy, made when a session channel first asks for it. */
enum ssh_proxy_fwd_state {
	SSH_PROXY_FWD_NONE,
	SSH_PROXY_FWD_WAITING,	/* for the relay */
	SSH_PROXY_FWD_STARTING, /* its exec is sent; its path has not come */
	SSH_PROXY_FWD_READY,
	SSH_PROXY_FWD_FAILED,
};

struct ssh_proxy;

/* One session or direct-tcpip channel and the exec behind it. */
struct ssh_proxy_chan {
	LIST_ENTRY(ssh_proxy_chan) entry;
	struct ssh_proxy *p;
	ssh_channel ch;
	struct ssh_channel_callbacks_struct cb;
	enum ssh_proxy_chan_state state;
	uint32_t agent_ch; /* C (stdout, stdin) and C+1 (stderr) on the agent */
	int exec_id;	   /* the exec request's id */
	int tty;
	char *term;
	int rows, cols;
	cJSON *env;	       /* {NAME: VALUE} from env requests, or NULL */
	struct buf *out, *err; /* output the channel's window has not taken */
	int status;
	char *signal; /* killed by it ("TERM"): exit-signal, not -status */
	int core_dumped;
	int forward_port;   /* a direct-tcpip channel's port, else 0 */
	char *forward_host; /* ... its host when not the container's loopback */
	struct buf *in;	    /* a direct-tcpip's bytes before its exec starts */
	int in_eof;	    /* ... and the client's EOF */
	int in_held;	    /* client bytes left in libssh (SSH_PROXY_IN_MAX) */
	int out_eof;	    /* the agent's EOF: send ours once out is sent */
	int eof_sent;
	struct relay_chunks chunks; /* a direct-tcpip's relay output */
	int client_closed;	    /* the client closed the channel */
	int agent_req;		    /* auth-agent-req came (ssh -A) */
	int held;		    /* shell/exec waits for the agent socket */
	char *held_script, *held_arg;
	int agent_closed;  /* the agent's CLOSE came (or no exec was sent) */
	uint32_t window;   /* the agent paces the output: its credit, else 0 */
	uint64_t received; /* output bytes (DATA payloads) since the start */
	uint64_t granted;  /* credit given: the window, then WINDOW frames */
};

struct ssh_proxy {
	ssh_session s;
	ssh_event ev;
	struct proto_conn *c;
	const struct ssh_proxy_opts *o;
	int next_id;
	uint32_t next_agent_ch;
	short agent_events; /* what the agent's fd is watched for (0: not) */
	char *error;	    /* why the proxy must end, or NULL */
	enum ssh_proxy_relay_state relay;
	int relay_id;	   /* the relay request's id while SSH_PROXY_RELAY_ASKING */
	char *relay_error; /* why not, when SSH_PROXY_RELAY_FAILED */
	enum ssh_proxy_fwd_state fwd;
	uint32_t fwd_ch; /* the agent socket's exec, its agent channel */
	int fwd_id;	 /* ... its request's id */
	struct ssh_proxy_agent *agent;
	LIST_HEAD(, ssh_proxy_chan) chans;
	struct ssh_server_callbacks_struct scb;
};

/* A state's name; "?" for a value out of the enum (GCC's -O2 array-bounds
 * check cannot tell that one never is). */
static const char *
ssh_proxy_chan_state_name(enum ssh_proxy_chan_state s)
{
	return (size_t)s <
		sizeof ssh_proxy_chan_state_names / sizeof *ssh_proxy_chan_state_names
	    ? ssh_proxy_chan_state_names[s]
	    : "?";
}

static void
ssh_proxy_chan_set_state(struct ssh_proxy_chan *pc, enum ssh_proxy_chan_state to)
{
	log_debug("ssh-proxy: channel %u: %s -> %s", pc->agent_ch,
	    ssh_proxy_chan_state_name(pc->state), ssh_proxy_chan_state_name(to));
	if (to < pc->state)
		fatal("ssh-proxy: channel %u: %s -> %s", pc->agent_ch,
		    ssh_proxy_chan_state_name(pc->state), ssh_proxy_chan_state_name(to));
	pc->state = to;
}

static void
ssh_proxy_queue(struct ssh_proxy *p, cJSON *o)
{
	char *cause = NULL;

	if (proto_conn_queue_json(p->c, PROTO_CONTROL, 0, o, &cause) != 0) {
		log_warn("ssh-proxy: %s", cause);
		free(cause);
	}
	cJSON_Delete(o);
}

/* A request about pc's exec ("resize", "signal"): its answer is not waited
 * for (what it did shows in the exec's output and status). */
static cJSON *
ssh_proxy_chan_op(struct ssh_proxy_chan *pc, const char *op)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "id", pc->p->next_id++);
	cJSON_AddStringToObject(o, "op", op);
	cJSON_AddNumberToObject(o, "channel", pc->agent_ch);
	return o;
}

/* A request for op on the workspace (new), its id in *id. */
static cJSON *
ssh_proxy_workspace_op(struct ssh_proxy *p, const char *op, int *id)
{
	cJSON *o = cJSON_CreateObject();

	*id = p->next_id++;
	cJSON_AddNumberToObject(o, "id", *id);
	cJSON_AddStringToObject(o, "op", op);
	cJSON_AddStringToObject(o, "workspace", p->o->folder);
	if (p->o->config_file != NULL)
		cJSON_AddStringToObject(o, "config", p->o->config_file);
	if (p->o->hint != NULL)
		cJSON_AddStringToObject(o, "hint", p->o->hint);
	if (p->o->id_labels != NULL)
		cJSON_AddItemToObject(o, "idLabels", cJSON_Duplicate(p->o->id_labels, 1));
	return o;
}

/* Run `/bin/sh -c script [sh arg]` in the container, as `rdev exec` runs a
 * command (a direct-tcpip channel: the relay's --connect); the client's
 * words are an argument, never pasted into the script. */
static int
ssh_proxy_chan_start(struct ssh_proxy_chan *pc, const char *script, const char *arg)
{
	struct ssh_proxy *p = pc->p;
	cJSON *o, *argv;
	char port[16];

	if (pc->state != SSH_PROXY_CHAN_OPEN || pc->held)
		return -1;
	if (pc->agent_req &&
	    (p->fwd == SSH_PROXY_FWD_WAITING || p->fwd == SSH_PROXY_FWD_STARTING)) {
		/* (the client's bytes meanwhile wait in pc->in) */
		pc->held = 1;
		pc->held_script = xstrdup(script);
		pc->held_arg = arg != NULL ? xstrdup(arg) : NULL;
		return 0;
	}
	o = ssh_proxy_workspace_op(p, "exec", &pc->exec_id);
	argv = cJSON_AddArrayToObject(o, "command");
	if (pc->forward_port > 0) {
		snprintf(port, sizeof port, "%d", pc->forward_port);
		cJSON_AddItemToArray(argv, cJSON_CreateString(SSH_PROXY_RELAY_PATH));
		cJSON_AddItemToArray(argv, cJSON_CreateString("--connect"));
		cJSON_AddItemToArray(argv, cJSON_CreateString(port));
		if (pc->forward_host != NULL)
			cJSON_AddItemToArray(argv, cJSON_CreateString(pc->forward_host));
	} else {
		cJSON_AddItemToArray(argv, cJSON_CreateString("/bin/sh"));
		cJSON_AddItemToArray(argv, cJSON_CreateString("-c"));
		cJSON_AddItemToArray(argv, cJSON_CreateString(script));
		if (arg != NULL) {
			cJSON_AddItemToArray(argv, cJSON_CreateString("sh"));
			cJSON_AddItemToArray(argv, cJSON_CreateString(arg));
		}
	}
	if (pc->agent_req && p->fwd == SSH_PROXY_FWD_READY) {
		if (pc->env == NULL)
			pc->env = cJSON_CreateObject();
		cJSON_DeleteItemFromObjectCaseSensitive(pc->env, "SSH_AUTH_SOCK");
		cJSON_AddStringToObject(
		    pc->env, "SSH_AUTH_SOCK", ssh_proxy_agent_path(p->agent));
	}
	if (pc->env != NULL)
		cJSON_AddItemToObject(o, "remoteEnv", cJSON_Duplicate(pc->env, 1));
	cJSON_AddBoolToObject(o, "tty", pc->tty);
	cJSON_AddNumberToObject(o, "channel", pc->agent_ch);
	cJSON_AddNumberToObject(o, "window", SSH_PROXY_EXEC_WINDOW);
	if (pc->tty) {
		cJSON_AddStringToObject(o, "term", pc->term != NULL ? pc->term : "xterm");
		if (pc->rows > 0 && pc->cols > 0) {
			cJSON_AddNumberToObject(o, "rows", pc->rows);
			cJSON_AddNumberToObject(o, "cols", pc->cols);
		}
	}
	ssh_proxy_queue(p, o);
	ssh_proxy_chan_set_state(pc, SSH_PROXY_CHAN_STARTING);
	if (buf_len(pc->in) > 0)
		proto_conn_queue(
		    p->c, PROTO_DATA, pc->agent_ch, buf_data(pc->in), buf_len(pc->in));
	buf_reset(pc->in);
	if (pc->in_eof && !pc->tty)
		proto_conn_queue(p->c, PROTO_EOF, pc->agent_ch, NULL, 0);
	return 0;
}

/* The agent socket is there or will not be: start the channels that
 * waited for it (with SSH_AUTH_SOCK, or without). */
static void
ssh_proxy_fwd_settled(struct ssh_proxy *p)
{
	struct ssh_proxy_chan *pc;
	char *script, *arg;

	LIST_FOREACH(pc, &p->chans, entry) {
		if (!pc->held || pc->state != SSH_PROXY_CHAN_OPEN)
			continue;
		pc->held = 0;
		script = pc->held_script;
		arg = pc->held_arg;
		pc->held_script = pc->held_arg = NULL;
		ssh_proxy_chan_start(pc, script, arg);
		free(script);
		free(arg);
	}
}

static void
ssh_proxy_fwd_failed(struct ssh_proxy *p, const char *why)
{
	log_warn("ssh-proxy: agent forwarding: %s", why);
	p->fwd = SSH_PROXY_FWD_FAILED;
	ssh_proxy_fwd_settled(p);
}

/* Start `/.rdev-relay --agent-socket` in the container (the relay is
 * there): its first output is the socket's path. */
static void
ssh_proxy_fwd_exec(struct ssh_proxy *p)
{
	cJSON *o, *argv;

	p->fwd_ch = p->next_agent_ch;
	p->next_agent_ch += 2;
	o = ssh_proxy_workspace_op(p, "exec", &p->fwd_id);
	argv = cJSON_AddArrayToObject(o, "command");
	cJSON_AddItemToArray(argv, cJSON_CreateString(SSH_PROXY_RELAY_PATH));
	cJSON_AddItemToArray(argv, cJSON_CreateString("--agent-socket"));
	cJSON_AddBoolToObject(o, "tty", 0);
	cJSON_AddNumberToObject(o, "channel", p->fwd_ch);
	ssh_proxy_queue(p, o);
	p->agent = ssh_proxy_agent_new(p->s, p->c, p->fwd_ch);
	p->fwd = SSH_PROXY_FWD_STARTING;
}

/* Output, stderr or the end of the agent socket's exec. */
static void
ssh_proxy_fwd_frame(struct ssh_proxy *p, const struct proto_frame *f)
{
	if (f->type == PROTO_DATA && f->channel == p->fwd_ch) {
		ssh_proxy_agent_output(p->agent, f->payload, f->len);
		if (p->fwd == SSH_PROXY_FWD_STARTING &&
		    ssh_proxy_agent_path(p->agent) != NULL) {
			log_debug("ssh-proxy: agent forwarding: %s",
			    ssh_proxy_agent_path(p->agent));
			p->fwd = SSH_PROXY_FWD_READY;
			ssh_proxy_fwd_settled(p);
		}
	} else if (f->type == PROTO_DATA)
		log_warn("ssh-proxy: agent forwarding: %.*s", (int)f->len,
		    (const char *)f->payload);
	else if (f->type == PROTO_CLOSE && f->channel == p->fwd_ch &&
	    p->fwd != SSH_PROXY_FWD_FAILED)
		ssh_proxy_fwd_failed(p, "the container's agent socket ended");
}

static int
ssh_proxy_on_pty(ssh_session s, ssh_channel ch, const char *term, int cols, int rows,
    int pxw, int pxh, void *arg)
{
	struct ssh_proxy_chan *pc = arg;

	if (pc->state != SSH_PROXY_CHAN_OPEN)
		return -1;
	pc->tty = 1;
	free(pc->term);
	pc->term = xstrdup(term);
	pc->rows = rows;
	pc->cols = cols;
	return 0;
}

static int
ssh_proxy_on_window_change(
    ssh_session s, ssh_channel ch, int cols, int rows, int pxw, int pxh, void *arg)
{
	struct ssh_proxy_chan *pc = arg;
	cJSON *o;

	pc->rows = rows;
	pc->cols = cols;
	if (!pc->tty ||
	    (pc->state != SSH_PROXY_CHAN_STARTING && pc->state != SSH_PROXY_CHAN_RUNNING))
		return 0;
	o = ssh_proxy_chan_op(pc, "resize");
	cJSON_AddNumberToObject(o, "rows", rows);
	cJSON_AddNumberToObject(o, "cols", cols);
	ssh_proxy_queue(pc->p, o);
	return 0;
}

/* The environment a client may set, as sshd's usual AcceptEnv: the locale
 * and the terminal. */
static int
ssh_proxy_env_accepted(const char *name)
{
	return strcmp(name, "LANG") == 0 || strncmp(name, "LC_", 3) == 0 ||
	    strcmp(name, "TERM") == 0 || strcmp(name, "COLORTERM") == 0;
}

static int
ssh_proxy_on_env(
    ssh_session s, ssh_channel ch, const char *name, const char *value, void *arg)
{
	struct ssh_proxy_chan *pc = arg;

	if (pc->state != SSH_PROXY_CHAN_OPEN || !ssh_proxy_env_accepted(name))
		return 1;
	if (pc->env == NULL)
		pc->env = cJSON_CreateObject();
	cJSON_DeleteItemFromObjectCaseSensitive(pc->env, name);
	cJSON_AddStringToObject(pc->env, name, value);
	return 0;
}

static int
ssh_proxy_on_shell(ssh_session s, ssh_channel ch, void *arg)
{
	return ssh_proxy_chan_start(arg, CLIENT_SHELL_SCRIPT, NULL) == 0 ? 0 : 1;
}

static int
ssh_proxy_on_exec(ssh_session s, ssh_channel ch, const char *command, void *arg)
{
	return ssh_proxy_chan_start(arg, CLIENT_SHELL_COMMAND_SCRIPT, command) == 0 ? 0
										    : 1;
}

/* The sftp subsystem: the container's sftp-server where distributions put
 * it, else a message naming the package (on the channel's stderr, which
 * ssh, sftp and scp show) and status 127. */
static int
ssh_proxy_on_subsystem(ssh_session s, ssh_channel ch, const char *name, void *arg)
{
	struct ssh_proxy_chan *pc = arg;

	if (strcmp(name, "sftp") != 0 || pc->tty)
		return 1;
	return ssh_proxy_chan_start(pc, SSH_PROXY_SFTP_SCRIPT, NULL) == 0 ? 0 : 1;
}

static int
ssh_proxy_on_data(
    ssh_session s, ssh_channel ch, void *data, uint32_t len, int is_stderr, void *arg)
{
	struct ssh_proxy_chan *pc = arg;

	if (pc->state == SSH_PROXY_CHAN_STARTING || pc->state == SSH_PROXY_CHAN_RUNNING) {
		/* The agent takes stdin no faster than the command reads it:
		 * beyond SSH_PROXY_IN_MAX queued, leave the bytes in libssh,
		 * whose window then stops the client
		 * (ssh_proxy_chan_pull takes them later). */
		if (pc->in_held || proto_conn_pending_out(pc->p->c) >= SSH_PROXY_IN_MAX) {
			pc->in_held = 1;
			return 0;
		}
		proto_conn_queue(pc->p->c, PROTO_DATA, pc->agent_ch, data, len);
	} else if (pc->state == SSH_PROXY_CHAN_OPEN && (pc->forward_port > 0 || pc->held))
		buf_append(pc->in, data, len);
	return (int)len;
}

static void
ssh_proxy_on_eof(ssh_session s, ssh_channel ch, void *arg)
{
	struct ssh_proxy_chan *pc = arg;

	if (pc->state == SSH_PROXY_CHAN_OPEN || pc->in_held) {
		pc->in_eof = 1; /* sent after the bytes before it */
		return;
	}
	/* With a TTY the agent takes no end of stdin (the terminal's ^D is). */
	if (!pc->tty &&
	    (pc->state == SSH_PROXY_CHAN_STARTING || pc->state == SSH_PROXY_CHAN_RUNNING))
		proto_conn_queue(pc->p->c, PROTO_EOF, pc->agent_ch, NULL, 0);
}

static void
ssh_proxy_on_close(ssh_session s, ssh_channel ch, void *arg)
{
	struct ssh_proxy_chan *pc = arg;

	pc->client_closed = 1;
	/* Give up on the exec: the agent hangs it up and answers with CLOSE. */
	if (pc->state == SSH_PROXY_CHAN_STARTING || pc->state == SSH_PROXY_CHAN_RUNNING)
		proto_conn_queue(pc->p->c, PROTO_CLOSE, pc->agent_ch, NULL, 0);
}

static void
ssh_proxy_on_signal(ssh_session s, ssh_channel ch, const char *signal, void *arg)
{
	struct ssh_proxy_chan *pc = arg;
	cJSON *o;

	if (pc->state != SSH_PROXY_CHAN_STARTING && pc->state != SSH_PROXY_CHAN_RUNNING)
		return;
	o = ssh_proxy_chan_op(pc, "signal");
	cJSON_AddStringToObject(o, "signal", signal);
	ssh_proxy_queue(pc->p, o);
}

static void ssh_proxy_relay_ask(struct ssh_proxy *p);

/* auth-agent-req@openssh.com (ssh -A): this channel's command gets
 * SSH_AUTH_SOCK, a socket in the container made for this proxy. */
static void
ssh_proxy_on_auth_agent_req(ssh_session s, ssh_channel ch, void *arg)
{
	struct ssh_proxy_chan *pc = arg;
	struct ssh_proxy *p = pc->p;

	if (pc->state != SSH_PROXY_CHAN_OPEN || pc->forward_port > 0)
		return;
	pc->agent_req = 1;
	if (p->fwd != SSH_PROXY_FWD_NONE)
		return;
	p->fwd = SSH_PROXY_FWD_WAITING;
	if (p->relay == SSH_PROXY_RELAY_UNKNOWN)
		ssh_proxy_relay_ask(p);
	else if (p->relay == SSH_PROXY_RELAY_READY)
		ssh_proxy_fwd_exec(p);
	else if (p->relay == SSH_PROXY_RELAY_FAILED)
		ssh_proxy_fwd_failed(p, p->relay_error);
}

/* Take ch (a session or direct-tcpip channel just opened) on. */
static struct ssh_proxy_chan *
ssh_proxy_chan_new(struct ssh_proxy *p, ssh_channel ch)
{
	struct ssh_proxy_chan *pc = xcalloc(1, sizeof *pc);

	pc->p = p;
	pc->ch = ch;
	pc->agent_ch = p->next_agent_ch;
	p->next_agent_ch += 2;
	pc->in = buf_new();
	pc->out = buf_new();
	pc->err = buf_new();
	pc->cb.userdata = pc;
	pc->cb.channel_pty_request_function = ssh_proxy_on_pty;
	pc->cb.channel_pty_window_change_function = ssh_proxy_on_window_change;
	pc->cb.channel_env_request_function = ssh_proxy_on_env;
	pc->cb.channel_shell_request_function = ssh_proxy_on_shell;
	pc->cb.channel_exec_request_function = ssh_proxy_on_exec;
	pc->cb.channel_subsystem_request_function = ssh_proxy_on_subsystem;
	pc->cb.channel_data_function = ssh_proxy_on_data;
	pc->cb.channel_eof_function = ssh_proxy_on_eof;
	pc->cb.channel_close_function = ssh_proxy_on_close;
	pc->cb.channel_signal_function = ssh_proxy_on_signal;
	pc->cb.channel_auth_agent_req_function = ssh_proxy_on_auth_agent_req;
	ssh_callbacks_init(&pc->cb);
	ssh_set_channel_callbacks(pc->ch, &pc->cb);
	LIST_INSERT_HEAD(&p->chans, pc, entry);
	log_debug("ssh-proxy: channel %u: open", pc->agent_ch);
	return pc;
}

static ssh_channel
ssh_proxy_on_open_session(ssh_session s, void *arg)
{
	ssh_channel ch = ssh_channel_new(s);

	if (ch == NULL)
		return NULL;
	return ssh_proxy_chan_new(arg, ch)->ch;
}

/* Ask the agent for the container's relay, once (its answer starts the
 * direct-tcpip channels that wait for it). */
static void
ssh_proxy_relay_ask(struct ssh_proxy *p)
{
	ssh_proxy_queue(p, ssh_proxy_workspace_op(p, "relay", &p->relay_id));
	p->relay = SSH_PROXY_RELAY_ASKING;
}

/* A direct-tcpip channel waiting for the relay: start it, or say why not
 * (in the proxy's log: the channel has no stderr) and close it. */
static void
ssh_proxy_relay_start(struct ssh_proxy_chan *pc)
{
	struct ssh_proxy *p = pc->p;

	if (p->relay == SSH_PROXY_RELAY_READY)
		ssh_proxy_chan_start(pc, NULL, NULL);
	else if (p->relay == SSH_PROXY_RELAY_FAILED) {
		log_warn("ssh-proxy: port %d: %s", pc->forward_port, p->relay_error);
		pc->status = SSH_PROXY_EXIT_FAILED;
		pc->agent_closed = 1;
		ssh_proxy_chan_set_state(pc, SSH_PROXY_CHAN_EXITED);
	}
}

/* Is host (a direct-tcpip destination) the container itself? */
static int
ssh_proxy_loopback(const char *host)
{
	return strcmp(host, "localhost") == 0 || strcmp(host, "127.0.0.1") == 0 ||
	    strcmp(host, "::1") == 0 || strcmp(host, "0.0.0.0") == 0;
}

/* What libssh's callbacks do not cover: direct-tcpip opens (`ssh -L`, VS
 * Code's connection to its server), to a port of the container's loopback
 * (servers bound to 127.0.0.1 included) or of another host the container
 * reaches, carried by the relay. 0: handled,
 * 1: libssh's default answer (a refusal). */
static int
ssh_proxy_on_message(ssh_session s, ssh_message m, void *arg)
{
	struct ssh_proxy *p = arg;
	struct ssh_proxy_chan *pc;
	const char *host;
	ssh_channel ch;
	int port;

	if (ssh_message_type(m) != SSH_REQUEST_CHANNEL_OPEN ||
	    ssh_message_subtype(m) != SSH_CHANNEL_DIRECT_TCPIP)
		return 1;
	host = ssh_message_channel_request_open_destination(m);
	port = ssh_message_channel_request_open_destination_port(m);
	if (host == NULL || *host == '\0' || strlen(host) > 255 || port <= 0 ||
	    port > 65535) {
		log_warn("ssh-proxy: direct-tcpip to %s:%d refused",
		    host != NULL ? host : "?", port);
		return 1;
	}
	if ((ch = ssh_message_channel_request_open_reply_accept(m)) == NULL)
		return 0;
	pc = ssh_proxy_chan_new(p, ch);
	pc->forward_port = port;
	/* Anything else as the container resolves it (a Compose service, a
	 * host), as sshd connects where ssh -L asks. */
	if (!ssh_proxy_loopback(host))
		pc->forward_host = xstrdup(host);
	if (p->relay == SSH_PROXY_RELAY_UNKNOWN)
		ssh_proxy_relay_ask(p);
	ssh_proxy_relay_start(pc);
	return 0;
}

/* The client is the local user (only they run this program as their
 * ProxyCommand, on pipes only they hold): no credentials to check. */
static int
ssh_proxy_on_auth_none(ssh_session s, const char *user, void *arg)
{
	return SSH_AUTH_SUCCESS;
}

void
ssh_proxy_channel_free(ssh_channel ch, struct ssh_channel_callbacks_struct *cb)
{
	/* libssh keeps a freed channel until the client's close and could
	 * still call back: take the callbacks off first. */
	ssh_remove_channel_callbacks(ch, cb);
	ssh_channel_free(ch);
}

static void
ssh_proxy_chan_free(struct ssh_proxy_chan *pc)
{
	LIST_REMOVE(pc, entry);
	ssh_proxy_channel_free(pc->ch, &pc->cb);
	buf_free(pc->in);
	buf_free(pc->out);
	buf_free(pc->err);
	cJSON_Delete(pc->env);
	free(pc->term);
	free(pc->signal);
	free(pc->forward_host);
	free(pc->held_script);
	free(pc->held_arg);
	free(pc);
}

/* Give the agent credit for the output this channel no longer holds (sent
 * to the client, or dropped when the client closed it), in quarters of the
 * window: what is in flight plus what waits here stays within the window. */
static void
ssh_proxy_chan_grant(struct ssh_proxy_chan *pc)
{
	size_t held = buf_len(pc->out) + buf_len(pc->err);
	uint64_t target;
	unsigned char w[4];

	if (pc->window == 0 || pc->agent_closed)
		return;
	target = (pc->received > held ? pc->received - held : 0) + pc->window;
	if (target < pc->granted + pc->window / 4)
		return;
	be_put_u32(w, (uint32_t)(target - pc->granted));
	proto_conn_queue(pc->p->c, PROTO_WINDOW, pc->agent_ch, w, sizeof w);
	pc->granted = target;
}

/* Write what the channel's window takes; once the exec has ended and all
 * is sent, its exit status, EOF and close. 0, or -1 when the session broke. */
static int
ssh_proxy_chan_flush(struct ssh_proxy_chan *pc)
{
	unsigned char chunk[SSH_PROXY_WRITE_CHUNK];
	struct buf *b;
	size_t len;
	int n, stream;

	for (stream = 1; stream <= 2; stream++) {
		b = stream == 1 ? pc->out : pc->err;
		while ((len = buf_len(b)) > 0 && !pc->client_closed) {
			if (len > SSH_PROXY_WRITE_CHUNK)
				len = SSH_PROXY_WRITE_CHUNK;
			/* A copy: a write that waits for the client's window
			 * polls the event's fds, the agent's too, whose frames
			 * append to b (a realloc under libssh's feet: the
			 * proxy crashed after 160 MB of a 1 GB ssh -L). */
			memcpy(chunk, buf_data(b), len);
			n = stream == 1 ? ssh_channel_write(pc->ch, chunk, len)
					: ssh_channel_write_stderr(pc->ch, chunk, len);
			if (n == SSH_ERROR)
				return -1;
			if (n <= 0)
				break;
			buf_consume(b, (size_t)n);
		}
		if (pc->client_closed)
			buf_reset(b);
	}
	ssh_proxy_chan_grant(pc);
	if (buf_len(pc->out) > 0 || buf_len(pc->err) > 0)
		return 0;
	if (pc->out_eof && !pc->eof_sent && !pc->client_closed) {
		ssh_channel_send_eof(pc->ch);
		pc->eof_sent = 1;
	}
	if (pc->state != SSH_PROXY_CHAN_EXITED)
		return 0;
	if (!pc->client_closed) {
		/* (a forwarded connection has no exit status) As sshd: a
		 * command killed by a signal gets exit-signal instead of
		 * exit-status (ssh then exits 255). */
		if (pc->forward_port == 0 && pc->signal != NULL)
			ssh_channel_request_send_exit_signal(
			    pc->ch, pc->signal, pc->core_dumped, "", "");
		else if (pc->forward_port == 0)
			ssh_channel_request_send_exit_status(pc->ch, pc->status);
		if (!pc->eof_sent)
			ssh_channel_send_eof(pc->ch);
		ssh_channel_close(pc->ch);
	}
	ssh_proxy_chan_set_state(pc, SSH_PROXY_CHAN_CLOSED);
	return 0;
}

static struct ssh_proxy_chan *
ssh_proxy_chan_by_agent(struct ssh_proxy *p, uint32_t channel, int *stream)
{
	struct ssh_proxy_chan *pc;

	LIST_FOREACH(pc, &p->chans, entry) {
		if (pc->state == SSH_PROXY_CHAN_OPEN ||
		    pc->state == SSH_PROXY_CHAN_CLOSED)
			continue;
		if (channel == pc->agent_ch || channel == pc->agent_ch + 1) {
			*stream = channel == pc->agent_ch ? 1 : 2;
			return pc;
		}
	}
	return NULL;
}

/* The exec could not be run or broke: say why on its stderr, as rdev exec
 * says it on its own. */
static void
ssh_proxy_chan_failed(struct ssh_proxy_chan *pc, const char *why, int status)
{
	if (pc->forward_port > 0)
		log_warn("ssh-proxy: port %d: %s", pc->forward_port, why);
	else
		buf_appendf(pc->err, "rdev: exec: %s%s", why, pc->tty ? "\r\n" : "\n");
	pc->status = status;
	pc->agent_closed = 1;
	ssh_proxy_chan_set_state(pc, SSH_PROXY_CHAN_EXITED);
}

/* The answer to an exec request (others are not waited for). */
static void
ssh_proxy_answer(struct ssh_proxy *p, const cJSON *msg)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(msg, "id");
	const cJSON *ok = cJSON_GetObjectItemCaseSensitive(msg, "ok");
	const cJSON *v;
	struct ssh_proxy_chan *pc;

	if (!cJSON_IsNumber(id) || ok == NULL)
		return;
	if (p->relay == SSH_PROXY_RELAY_ASKING && id->valueint == p->relay_id) {
		v = cJSON_GetObjectItemCaseSensitive(msg, "error");
		p->relay =
		    cJSON_IsTrue(ok) ? SSH_PROXY_RELAY_READY : SSH_PROXY_RELAY_FAILED;
		if (!cJSON_IsTrue(ok))
			p->relay_error =
			    xstrdup(cJSON_IsString(v) ? v->valuestring : "no relay");
		LIST_FOREACH(pc, &p->chans, entry) {
			if (pc->forward_port > 0 && pc->state == SSH_PROXY_CHAN_OPEN)
				ssh_proxy_relay_start(pc);
		}
		if (p->fwd == SSH_PROXY_FWD_WAITING && p->relay == SSH_PROXY_RELAY_READY)
			ssh_proxy_fwd_exec(p);
		else if (p->fwd == SSH_PROXY_FWD_WAITING)
			ssh_proxy_fwd_failed(p, p->relay_error);
		return;
	}
	if (p->fwd == SSH_PROXY_FWD_STARTING && id->valueint == p->fwd_id) {
		if (!cJSON_IsTrue(ok)) {
			v = cJSON_GetObjectItemCaseSensitive(msg, "error");
			ssh_proxy_fwd_failed(
			    p, cJSON_IsString(v) ? v->valuestring : "exec failed");
		}
		return;
	}
	LIST_FOREACH(pc, &p->chans, entry) {
		if (pc->state != SSH_PROXY_CHAN_STARTING || pc->exec_id != id->valueint)
			continue;
		if (cJSON_IsTrue(ok)) {
			ssh_proxy_chan_set_state(pc, SSH_PROXY_CHAN_RUNNING);
			v = cJSON_GetObjectItemCaseSensitive(msg, "window");
			/* (the agent's window: what it will send ahead) */
			if (cJSON_IsNumber(v) && v->valuedouble >= 1 &&
			    v->valuedouble <= SSH_PROXY_EXEC_WINDOW) {
				pc->window = (uint32_t)v->valuedouble;
				pc->granted = pc->window;
			}
			cJSON_ArrayForEach(
			    v, cJSON_GetObjectItemCaseSensitive(msg, "warnings")) {
				if (cJSON_IsString(v))
					buf_appendf(pc->err, "rdev: %s%s", v->valuestring,
					    pc->tty ? "\r\n" : "\n");
			}
			return;
		}
		v = cJSON_GetObjectItemCaseSensitive(msg, "error");
		ssh_proxy_chan_failed(pc,
		    cJSON_IsString(v) ? v->valuestring : "exec failed",
		    cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(msg, "exitStatus"))
			? cJSON_GetObjectItemCaseSensitive(msg, "exitStatus")->valueint
			: SSH_PROXY_EXIT_FAILED);
		return;
	}
}

/* Output of a direct-tcpip channel's `rdev-relay --connect`: its status
 * byte, then the server's bytes in chunks (relay-chunks.h). */
static void
ssh_proxy_chan_relay_output(
    struct ssh_proxy_chan *pc, const unsigned char *data, size_t len)
{
	const unsigned char *piece;
	size_t used, plen;

	while (len > 0) {
		switch (relay_chunks_feed(&pc->chunks, data, len, &used, &piece, &plen)) {
		case RELAY_CHUNKS_STATUS:
			if (pc->chunks.status != 0)
				log_info("ssh-proxy: port %d: %s", pc->forward_port,
				    pc->chunks.status == 1 ? "nothing listens there"
							   : "cannot connect");
			break;
		case RELAY_CHUNKS_DATA: buf_append(pc->out, piece, plen); break;
		case RELAY_CHUNKS_END: pc->out_eof = 1; break;
		case RELAY_CHUNKS_MORE: break;
		case RELAY_CHUNKS_BAD:
			log_warn("ssh-proxy: port %d: the relay's output is broken",
			    pc->forward_port);
			return;
		}
		data += used;
		len -= used;
	}
}

/* One frame from the agent. */
static void
ssh_proxy_frame(struct ssh_proxy *p, const struct proto_frame *f)
{
	struct ssh_proxy_chan *pc;
	const cJSON *v;
	cJSON *msg;
	int stream = 1;

	if (p->agent != NULL &&
	    (f->channel == p->fwd_ch || f->channel == p->fwd_ch + 1)) {
		ssh_proxy_fwd_frame(p, f);
		return;
	}
	switch (f->type) {
	case PROTO_DATA:
		if ((pc = ssh_proxy_chan_by_agent(p, f->channel, &stream)) == NULL)
			return;
		pc->received += f->len;
		if (pc->client_closed)
			return;
		if (stream == 1 && pc->forward_port > 0)
			ssh_proxy_chan_relay_output(pc, f->payload, f->len);
		else if (stream == 2 && pc->forward_port > 0)
			/* (a forwarded connection has no stderr) */
			log_info("ssh-proxy: port %d: %.*s", pc->forward_port,
			    (int)f->len, (const char *)f->payload);
		else
			buf_append(stream == 1 ? pc->out : pc->err, f->payload, f->len);
		return;
	case PROTO_EOF:
		if ((pc = ssh_proxy_chan_by_agent(p, f->channel, &stream)) != NULL &&
		    stream == 1)
			pc->out_eof = 1;
		return;
	case PROTO_CLOSE:
		if ((pc = ssh_proxy_chan_by_agent(p, f->channel, &stream)) == NULL ||
		    stream != 1 || pc->agent_closed)
			return;
		pc->agent_closed = 1;
		pc->status = SSH_PROXY_EXIT_FAILED;
		if (f->len > 0 && (msg = proto_frame_json(f, NULL)) != NULL) {
			v = cJSON_GetObjectItemCaseSensitive(msg, "status");
			if (cJSON_IsNumber(v))
				pc->status = v->valueint;
			v = cJSON_GetObjectItemCaseSensitive(msg, "signal");
			if (cJSON_IsString(v) && v->valuestring[0] != '\0') {
				free(pc->signal);
				pc->signal = xstrdup(v->valuestring);
				pc->core_dumped = cJSON_IsTrue(
				    cJSON_GetObjectItemCaseSensitive(msg, "coreDumped"));
			}
			v = cJSON_GetObjectItemCaseSensitive(msg, "error");
			if (cJSON_IsString(v) && !pc->client_closed)
				buf_appendf(pc->err, "rdev: exec: %s%s", v->valuestring,
				    pc->tty ? "\r\n" : "\n");
			cJSON_Delete(msg);
		}
		if (pc->state < SSH_PROXY_CHAN_EXITED)
			ssh_proxy_chan_set_state(pc, SSH_PROXY_CHAN_EXITED);
		return;
	case PROTO_CONTROL:
		if ((msg = proto_frame_json(f, NULL)) != NULL) {
			ssh_proxy_answer(p, msg);
			cJSON_Delete(msg);
		}
		return;
	case PROTO_FATAL:
		msg = proto_frame_json(f, NULL);
		v = cJSON_GetObjectItemCaseSensitive(msg, "error");
		free(p->error);
		p->error = xasprintf("the agent ended the session: %s",
		    cJSON_IsString(v) ? v->valuestring : "(no reason given)");
		cJSON_Delete(msg);
		return;
	default: return;
	}
}

static int
ssh_proxy_on_agent(socket_t fd, int revents, void *arg)
{
	struct ssh_proxy *p = arg;
	struct proto_frame f;
	char *cause = NULL;
	int rc;

	if ((revents & POLLOUT) && proto_conn_write_some(p->c, &cause) != 0)
		goto broken;
	if (revents & (POLLIN | POLLHUP | POLLERR)) {
		rc = proto_conn_read_some(p->c, &cause);
		while (p->error == NULL && proto_conn_next(p->c, &f, NULL) == 1)
			ssh_proxy_frame(p, &f);
		if (rc < 0)
			goto broken;
		if (rc == 0 && p->error == NULL)
			p->error = xstrdup("the agent closed the connection");
	}
	return 0;
broken:
	if (p->error == NULL)
		p->error = cause;
	else
		free(cause);
	return 0;
}

/* Watch the agent's fd for what is needed now: writes while frames are
 * queued, reads unless the unpaced channels hold SSH_PROXY_OUT_MAX unsent
 * (or the paced ones, each within its credit, SSH_PROXY_PACED_MAX). */
static void
ssh_proxy_watch_agent(struct ssh_proxy *p)
{
	struct ssh_proxy_chan *pc;
	size_t held = 0, paced = 0;
	short events = 0;
	int fd = proto_conn_fd(p->c);

	LIST_FOREACH(pc, &p->chans, entry) {
		if (pc->window > 0)
			paced += buf_len(pc->out) + buf_len(pc->err);
		else
			held += buf_len(pc->out) + buf_len(pc->err);
	}
	if (held < SSH_PROXY_OUT_MAX && paced < SSH_PROXY_PACED_MAX)
		events |= POLLIN;
	if (proto_conn_pending_out(p->c) > 0)
		events |= POLLOUT;
	if (events == p->agent_events)
		return;
	if (p->agent_events != 0)
		ssh_event_remove_fd(p->ev, fd);
	if (events != 0 &&
	    ssh_event_add_fd(p->ev, fd, events, ssh_proxy_on_agent, p) != SSH_OK)
		fatal("ssh_event_add_fd");
	p->agent_events = events;
}

/* Take the client's bytes a held channel left in libssh while the agent's
 * queue has room (ssh_channel_read_nonblocking also grows the window), then
 * the EOF that came after them. */
static void
ssh_proxy_chan_pull(struct ssh_proxy_chan *pc)
{
	struct ssh_proxy *p = pc->p;
	char buf[65536];
	int n;

	if (!pc->in_held || proto_conn_pending_out(p->c) >= SSH_PROXY_IN_MAX / 2)
		return;
	pc->in_held = 0;
	while (!pc->in_held && proto_conn_pending_out(p->c) < SSH_PROXY_IN_MAX &&
	    (n = ssh_channel_read_nonblocking(pc->ch, buf, sizeof buf, 0)) > 0)
		proto_conn_queue(p->c, PROTO_DATA, pc->agent_ch, buf, (size_t)n);
	if (proto_conn_pending_out(p->c) >= SSH_PROXY_IN_MAX)
		pc->in_held = 1;
	else if (pc->in_eof && !pc->tty &&
	    (pc->state == SSH_PROXY_CHAN_STARTING ||
		pc->state == SSH_PROXY_CHAN_RUNNING)) {
		pc->in_eof = 0;
		proto_conn_queue(p->c, PROTO_EOF, pc->agent_ch, NULL, 0);
	}
}

/* Accept the client on fd and do the key exchange. 0, or -1 with *cause. */
static int
ssh_proxy_accept(struct ssh_proxy *p, int fd, ssh_key key, char **cause)
{
	ssh_bind b = ssh_bind_new();
	int rc = -1;

	if (b == NULL)
		fatal("ssh_bind_new");
	/* (the bind owns the key from here) */
	if (ssh_bind_options_set(b, SSH_BIND_OPTIONS_IMPORT_KEY, key) != SSH_OK) {
		ssh_key_free(key);
		error_set(cause, "cannot use the host key: %s", ssh_get_error(b));
		goto out;
	}
	if (ssh_bind_accept_fd(b, p->s, fd) != SSH_OK) {
		error_set(cause, "%s", ssh_get_error(b));
		goto out;
	}
	ssh_callbacks_init(&p->scb);
	ssh_set_server_callbacks(p->s, &p->scb);
	ssh_set_message_callback(p->s, ssh_proxy_on_message, p);
	ssh_set_auth_methods(p->s, SSH_AUTH_METHOD_NONE);
	if (ssh_handle_key_exchange(p->s) != SSH_OK) {
		error_set(cause, "key exchange: %s", ssh_get_error(p->s));
		goto out;
	}
	rc = 0;
out:
	ssh_bind_free(b);
	return rc;
}

int
ssh_proxy_run(int fd, ssh_key key, struct proto_conn *c, int first_id,
    const struct ssh_proxy_opts *o, char **cause)
{
	struct ssh_proxy p;
	struct ssh_proxy_chan *pc, *next;
	int rc = -1;

	memset(&p, 0, sizeof p);
	LIST_INIT(&p.chans);
	p.c = c;
	p.o = o;
	p.next_id = first_id;
	p.next_agent_ch = 1;
	p.scb.userdata = &p;
	p.scb.auth_none_function = ssh_proxy_on_auth_none;
	p.scb.channel_open_request_session_function = ssh_proxy_on_open_session;
	if ((p.s = ssh_new()) == NULL)
		fatal("ssh_new");
	if (ssh_proxy_accept(&p, fd, key, cause) != 0)
		goto out;
	ssh_set_blocking(p.s, 0);
	if ((p.ev = ssh_event_new()) == NULL ||
	    ssh_event_add_session(p.ev, p.s) != SSH_OK)
		fatal("ssh_event");
	for (;;) {
		ssh_proxy_watch_agent(&p);
		if (ssh_event_dopoll(p.ev, 1000) == SSH_ERROR &&
		    !(ssh_get_status(p.s) & (SSH_CLOSED | SSH_CLOSED_ERROR))) {
			error_set(cause, "%s", ssh_get_error(p.s));
			goto out;
		}
		ssh_proxy_agent_step(p.agent);
		for (pc = LIST_FIRST(&p.chans); pc != NULL; pc = next) {
			next = LIST_NEXT(pc, entry);
			if (!pc->client_closed)
				ssh_proxy_chan_pull(pc);
			if (ssh_proxy_chan_flush(pc) != 0) {
				error_set(cause, "%s", ssh_get_error(p.s));
				goto out;
			}
			/* Freed once neither side can still send about it. */
			if (pc->state == SSH_PROXY_CHAN_CLOSED ||
			    (pc->client_closed &&
				(pc->agent_closed || pc->state == SSH_PROXY_CHAN_OPEN)))
				ssh_proxy_chan_free(pc);
		}
		if (p.error != NULL) {
			*cause = p.error;
			p.error = NULL;
			goto out;
		}
		if (!ssh_is_connected(p.s) ||
		    (ssh_get_status(p.s) & (SSH_CLOSED | SSH_CLOSED_ERROR)))
			break;
	}
	rc = 0;
out:
	while ((pc = LIST_FIRST(&p.chans)) != NULL)
		ssh_proxy_chan_free(pc);
	ssh_proxy_agent_free(p.agent);
	if (p.ev != NULL) {
		if (p.agent_events != 0)
			ssh_event_remove_fd(p.ev, proto_conn_fd(c));
		ssh_event_remove_session(p.ev, p.s);
		ssh_event_free(p.ev);
	}
	ssh_disconnect(p.s);
	ssh_free(p.s);
	free(p.error);
	free(p.relay_error);
	return rc;
}
