/* ssh-proxy-chan.c - a channel of `rdev ssh-proxy` (ssh-proxy-internal.h):
 * its life (open -> starting -> running -> exited -> closed, one
 * set_state), the session requests that shape its exec (pty-req, env,
 * window-change, signal) and start it (shell, exec, the sftp subsystem),
 * the agent's answer to the exec, and its end: exit status or signal, EOF,
 * close. The bytes it carries are ssh-proxy-flow.c's.
 */
#include "ssh-proxy-internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "client.h"
#include "log.h"
#include "proto-conn.h"
#include "xmalloc.h"

#define SSH_PROXY_SFTP_SCRIPT \
	"for p in /usr/lib/openssh/sftp-server /usr/libexec/openssh/sftp-server " \
	"/usr/lib/ssh/sftp-server /usr/libexec/sftp-server /usr/lib/sftp-server; do " \
	"[ -x \"$p\" ] && exec \"$p\"; done; " \
	"p=$(command -v sftp-server) && exec \"$p\"; " \
	"echo 'rdev: the dev container has no sftp-server: install it (Debian, " \
	"Ubuntu, Alpine: openssh-sftp-server; Fedora, RHEL: openssh-server)' >&2; " \
	"exit 127"

static const char *ssh_proxy_chan_state_names[] = { "open", "starting", "running",
	"exited", "closed" };

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

void
ssh_proxy_chan_set_state(struct ssh_proxy_chan *pc, enum ssh_proxy_chan_state to)
{
	log_debug("ssh-proxy: channel %u: %s -> %s", pc->agent_ch,
	    ssh_proxy_chan_state_name(pc->state), ssh_proxy_chan_state_name(to));
	if (to < pc->state)
		fatal("ssh-proxy: channel %u: %s -> %s", pc->agent_ch,
		    ssh_proxy_chan_state_name(pc->state), ssh_proxy_chan_state_name(to));
	pc->state = to;
}

int
ssh_proxy_chan_live(const struct ssh_proxy_chan *pc)
{
	return pc->state == SSH_PROXY_CHAN_STARTING ||
	    pc->state == SSH_PROXY_CHAN_RUNNING;
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

/* Run `/bin/sh -c script [sh arg]` in the container, as `rdev exec` runs a
 * command (a direct-tcpip channel: the relay's --connect); the client's
 * words are an argument, never pasted into the script. */
int
ssh_proxy_chan_start(struct ssh_proxy_chan *pc, const char *script, const char *arg)
{
	struct ssh_proxy *p = pc->p;
	cJSON *o, *argv;
	char *cause = NULL;

	if (pc->state != SSH_PROXY_CHAN_OPEN || pc->held)
		return -1;
	/* (the agent connection lost since the channel opened) */
	if (ssh_proxy_link(p, &cause) != 0) {
		ssh_proxy_chan_failed(pc, cause, SSH_PROXY_EXIT_FAILED);
		free(cause);
		return 0;
	}
	if (ssh_proxy_fwd_hold(pc, script, arg))
		return 0;
	o = ssh_proxy_workspace_op(p, "exec", &pc->exec_id);
	argv = cJSON_AddArrayToObject(o, "command");
	if (pc->forward_port > 0)
		ssh_proxy_relay_command(pc, argv);
	else {
		cJSON_AddItemToArray(argv, cJSON_CreateString("/bin/sh"));
		cJSON_AddItemToArray(argv, cJSON_CreateString("-c"));
		cJSON_AddItemToArray(argv, cJSON_CreateString(script));
		if (arg != NULL) {
			cJSON_AddItemToArray(argv, cJSON_CreateString("sh"));
			cJSON_AddItemToArray(argv, cJSON_CreateString(arg));
		}
	}
	ssh_proxy_fwd_env(pc);
	if (pc->env != NULL)
		cJSON_AddItemToObject(o, "remoteEnv", cJSON_Duplicate(pc->env, 1));
	cJSON_AddBoolToObject(o, "tty", pc->tty);
	cJSON_AddNumberToObject(o, "channel", pc->agent_ch);
	cJSON_AddNumberToObject(o, "window", SSH_PROXY_EXEC_WINDOW);
	/* (stdin is paced from the start: it may go before the answer) */
	cJSON_AddNumberToObject(o, "stdinWindow", SSH_PROXY_STDIN_WINDOW);
	pc->in_paced = 1;
	pc->in_credit = SSH_PROXY_STDIN_WINDOW;
	if (pc->tty) {
		cJSON_AddStringToObject(o, "term", pc->term != NULL ? pc->term : "xterm");
		if (pc->rows > 0 && pc->cols > 0) {
			cJSON_AddNumberToObject(o, "rows", pc->rows);
			cJSON_AddNumberToObject(o, "cols", pc->cols);
		}
	}
	ssh_proxy_queue(p, o);
	ssh_proxy_chan_set_state(pc, SSH_PROXY_CHAN_STARTING);
	buf_consume(
	    pc->in, ssh_proxy_flow_send_in(pc, buf_data(pc->in), buf_len(pc->in)));
	if (buf_len(pc->in) > 0)
		pc->in_held = 1; /* (the rest: ssh_proxy_flow_pull) */
	/* (with bytes still in libssh, ssh_proxy_flow_pull sends it after
	 * them) */
	if (pc->in_eof && !pc->tty && !pc->in_held)
		proto_conn_queue(p->c, PROTO_EOF, pc->agent_ch, NULL, 0);
	return 0;
}

static int
ssh_proxy_chan_on_pty(ssh_session s, ssh_channel ch, const char *term, int cols, int rows,
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
ssh_proxy_chan_on_window_change(
    ssh_session s, ssh_channel ch, int cols, int rows, int pxw, int pxh, void *arg)
{
	struct ssh_proxy_chan *pc = arg;
	cJSON *o;

	pc->rows = rows;
	pc->cols = cols;
	if (!pc->tty || !ssh_proxy_chan_live(pc))
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
ssh_proxy_chan_env_accepted(const char *name)
{
	return strcmp(name, "LANG") == 0 || strncmp(name, "LC_", 3) == 0 ||
	    strcmp(name, "TERM") == 0 || strcmp(name, "COLORTERM") == 0;
}

static int
ssh_proxy_chan_on_env(
    ssh_session s, ssh_channel ch, const char *name, const char *value, void *arg)
{
	struct ssh_proxy_chan *pc = arg;

	if (pc->state != SSH_PROXY_CHAN_OPEN || !ssh_proxy_chan_env_accepted(name))
		return 1;
	if (pc->env == NULL)
		pc->env = cJSON_CreateObject();
	cJSON_DeleteItemFromObjectCaseSensitive(pc->env, name);
	cJSON_AddStringToObject(pc->env, name, value);
	return 0;
}

static int
ssh_proxy_chan_on_shell(ssh_session s, ssh_channel ch, void *arg)
{
	return ssh_proxy_chan_start(arg, CLIENT_SHELL_SCRIPT, NULL) == 0 ? 0 : 1;
}

static int
ssh_proxy_chan_on_exec(ssh_session s, ssh_channel ch, const char *command, void *arg)
{
	return ssh_proxy_chan_start(arg, CLIENT_SHELL_COMMAND_SCRIPT, command) == 0 ? 0
										    : 1;
}

/* The sftp subsystem: the container's sftp-server where distributions put
 * it, else a message naming the package (on the channel's stderr, which
 * ssh, sftp and scp show) and status 127. */
static int
ssh_proxy_chan_on_subsystem(ssh_session s, ssh_channel ch, const char *name, void *arg)
{
	struct ssh_proxy_chan *pc = arg;

	if (strcmp(name, "sftp") != 0 || pc->tty)
		return 1;
	return ssh_proxy_chan_start(pc, SSH_PROXY_SFTP_SCRIPT, NULL) == 0 ? 0 : 1;
}

static void
ssh_proxy_chan_on_close(ssh_session s, ssh_channel ch, void *arg)
{
	struct ssh_proxy_chan *pc = arg;

	pc->client_closed = 1;
	/* Give up on the exec: the agent hangs it up and answers with CLOSE. */
	if (ssh_proxy_chan_live(pc) && pc->tcp == NULL)
		proto_conn_queue(pc->p->c, PROTO_CLOSE, pc->agent_ch, NULL, 0);
}

static void
ssh_proxy_chan_on_signal(ssh_session s, ssh_channel ch, const char *signal, void *arg)
{
	struct ssh_proxy_chan *pc = arg;
	cJSON *o;

	if (!ssh_proxy_chan_live(pc))
		return;
	o = ssh_proxy_chan_op(pc, "signal");
	cJSON_AddStringToObject(o, "signal", signal);
	ssh_proxy_queue(pc->p, o);
}

static void
ssh_proxy_chan_on_auth_agent_req(ssh_session s, ssh_channel ch, void *arg)
{
	ssh_proxy_fwd_request(arg);
}

struct ssh_proxy_chan *
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
	pc->cb.channel_pty_request_function = ssh_proxy_chan_on_pty;
	pc->cb.channel_pty_window_change_function = ssh_proxy_chan_on_window_change;
	pc->cb.channel_env_request_function = ssh_proxy_chan_on_env;
	pc->cb.channel_shell_request_function = ssh_proxy_chan_on_shell;
	pc->cb.channel_exec_request_function = ssh_proxy_chan_on_exec;
	pc->cb.channel_subsystem_request_function = ssh_proxy_chan_on_subsystem;
	pc->cb.channel_data_function = ssh_proxy_flow_on_data;
	pc->cb.channel_eof_function = ssh_proxy_flow_on_eof;
	pc->cb.channel_close_function = ssh_proxy_chan_on_close;
	pc->cb.channel_signal_function = ssh_proxy_chan_on_signal;
	pc->cb.channel_auth_agent_req_function = ssh_proxy_chan_on_auth_agent_req;
	ssh_callbacks_init(&pc->cb);
	ssh_set_channel_callbacks(pc->ch, &pc->cb);
	LIST_INSERT_HEAD(&p->chans, pc, entry);
	log_debug("ssh-proxy: channel %u: open", pc->agent_ch);
	return pc;
}

void
ssh_proxy_channel_free(ssh_channel ch, struct ssh_channel_callbacks_struct *cb)
{
	/* libssh keeps a freed channel until the client's close and could
	 * still call back: take the callbacks off first. */
	ssh_remove_channel_callbacks(ch, cb);
	ssh_channel_free(ch);
}

void
ssh_proxy_chan_free(struct ssh_proxy_chan *pc)
{
	LIST_REMOVE(pc, entry);
	ssh_proxy_tcp_free(pc);
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

struct ssh_proxy_chan *
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

void
ssh_proxy_chan_failed(struct ssh_proxy_chan *pc, const char *why, int status)
{
	if (pc->forward_port > 0)
		ssh_proxy_port_failed(pc, why);
	else
		buf_appendf(
		    pc->err, "rdev: ssh-proxy: %s%s", why, pc->tty ? "\r\n" : "\n");
	pc->status = status;
	pc->agent_closed = 1;
	ssh_proxy_chan_set_state(pc, SSH_PROXY_CHAN_EXITED);
}

int
ssh_proxy_chan_answer(struct ssh_proxy *p, int id, const cJSON *msg)
{
	const cJSON *v;
	struct ssh_proxy_chan *pc;

	LIST_FOREACH(pc, &p->chans, entry) {
		if (pc->state == SSH_PROXY_CHAN_STARTING && pc->exec_id == id)
			break;
	}
	if (pc == NULL)
		return 0;
	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(msg, "ok"))) {
		v = cJSON_GetObjectItemCaseSensitive(msg, "exitStatus");
		ssh_proxy_chan_failed(pc, ssh_proxy_answer_error(msg, "exec failed"),
		    cJSON_IsNumber(v) ? v->valueint : SSH_PROXY_EXIT_FAILED);
		return 1;
	}
	ssh_proxy_chan_set_state(pc, SSH_PROXY_CHAN_RUNNING);
	v = cJSON_GetObjectItemCaseSensitive(msg, "window");
	/* (the agent's window: what it will send ahead) */
	if (cJSON_IsNumber(v) && v->valuedouble >= 1 &&
	    v->valuedouble <= SSH_PROXY_EXEC_WINDOW) {
		pc->window = (uint32_t)v->valuedouble;
		pc->granted = pc->window;
	}
	/* (an agent without it takes stdin unpaced) */
	v = cJSON_GetObjectItemCaseSensitive(msg, "stdinWindow");
	if (!cJSON_IsNumber(v) || v->valuedouble != SSH_PROXY_STDIN_WINDOW)
		pc->in_paced = 0;
	cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(msg, "warnings")) {
		if (cJSON_IsString(v))
			buf_appendf(pc->err, "rdev: %s%s", v->valuestring,
			    pc->tty ? "\r\n" : "\n");
	}
	return 1;
}

void
ssh_proxy_chan_exited(struct ssh_proxy_chan *pc, const struct proto_frame *f)
{
	const cJSON *v;
	cJSON *msg;

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
		if (cJSON_IsString(v) && pc->forward_port > 0)
			ssh_proxy_port_failed(pc, v->valuestring);
		else if (cJSON_IsString(v) && !pc->client_closed)
			buf_appendf(pc->err, "rdev: ssh-proxy: %s%s", v->valuestring,
			    pc->tty ? "\r\n" : "\n");
		cJSON_Delete(msg);
	}
	/* (a direct-tcpip channel's relay: its failure, unless said already) */
	if (pc->forward_port > 0 && pc->status != 0 && !pc->client_closed) {
		char *why = xasprintf("the relay in the container failed (exit status "
				      "%d)",
		    pc->status);

		ssh_proxy_port_failed(pc, why);
		free(why);
	}
	if (pc->state < SSH_PROXY_CHAN_EXITED)
		ssh_proxy_chan_set_state(pc, SSH_PROXY_CHAN_EXITED);
}

void
ssh_proxy_chan_end(struct ssh_proxy_chan *pc)
{
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
}
