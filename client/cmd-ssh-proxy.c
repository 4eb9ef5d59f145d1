/* cmd-ssh-proxy.c - `rdev ssh-proxy TARGET`: an SSH server on stdin and
 * stdout for ssh's ProxyCommand (ssh-proxy.h), its sessions run in TARGET's
 * dev container through the agent `rdev exec` uses: the host's over the
 * broker, or for a local TARGET an agent of our own (`rdev-agent serve`'s
 * code in a child of this process). */
#include "client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include "agent-ops.h"
#include "error.h"
#include "proto-conn.h"
#include "remote.h"
#include "serve.h"
#include "spawn.h"
#include "ssh-proxy.h"
#include "xmalloc.h"

/* The first request id of the proxy's own (the remote's handshake used
 * the first few). */
#define CMD_SSH_PROXY_FIRST_ID 1000

/* A local agent: serve_run on a socketpair in a grandchild (nobody's child
 * here, so nothing to reap; it ends once its socket does and its execs are
 * hung up). The connection after the handshake, or NULL with *cause. */
static struct proto_conn *
cmd_ssh_proxy_local_agent(long long deadline, char **cause)
{
	struct proto_conn *c;
	uint32_t version;
	pid_t pid;
	int sv[2], null;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		error_set_errno(cause, errno, "socketpair");
		return NULL;
	}
	if ((pid = fork()) < 0)
		fatal("fork");
	if (pid == 0) {
		close(sv[0]);
		if (fork() != 0)
			_exit(0);
		/* ssh's pipes are the parent's alone: ssh must see them
		 * close when the parent ends. */
		if ((null = open("/dev/null", O_RDWR)) >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			if (null > 2)
				close(null);
		}
		/* Nothing else of the parent's either (no exec closes the
		 * CLOEXEC ones): ssh's socket, its copy kept, an old link's
		 * duplicate. Its socket on 3, then 4 up closed. */
		if (sv[1] != 3) {
			if (dup2(sv[1], 3) != 3)
				_exit(1);
			sv[1] = 3;
		}
		spawn_close_from(4);
		_exit(serve_run(&(struct serve_opts){ sv[1], sv[1], 0 }));
	}
	close(sv[1]);
	waitpid(pid, NULL, 0);
	c = proto_conn_new(sv[0], "the local agent");
	proto_conn_set_deadline(c, deadline);
	if (proto_conn_handshake(c, "rdev " RDEV_VERSION, &version, cause) != 0) {
		proto_conn_free(c);
		return NULL;
	}
	proto_conn_set_deadline(c, 0);
	return c;
}

/* What the proxy's reconnect (ssh_proxy_opts) works on: the remote target's
 * connection, or the local agent's. */
struct cmd_ssh_proxy_link {
	struct remote *remote;
	struct proto_conn *local;
};

/* The agent connection again (ssh_proxy_opts' reconnect): the remote's
 * anew, through the broker (started anew if it is gone), or a new local
 * agent. */
static struct proto_conn *
cmd_ssh_proxy_reconnect(void *arg, long long deadline, char **cause)
{
	struct cmd_ssh_proxy_link *l = arg;

	if (l->remote != NULL) {
		/* (no prompt: the proxy's loop would wait on the terminal for
		 * ever, and ssh reads it too) */
		remote_set_batch(l->remote, 1);
		remote_reset(l->remote);
		if (remote_connect_by(l->remote, deadline, cause) != 0) {
			if (remote_prompt_refused(l->remote)) {
				char *t = xasprintf(
				    "%s (a passphrase or password is needed, and "
				    "ssh-proxy asks for none while it connects "
				    "again: add the key to ssh-agent, or run `rdev "
				    "ls %s:` once in a terminal)",
				    *cause, remote_host(l->remote));

				free(*cause);
				*cause = t;
			}
			return NULL;
		}
		return remote_conn(l->remote);
	}
	proto_conn_free(l->local);
	l->local = cmd_ssh_proxy_local_agent(deadline, cause);
	return l->local;
}

static int
cmd_ssh_proxy_exec(int argc, char **argv)
{
	struct client_target ct;
	struct agent_cmd_args a;
	struct ssh_proxy_opts o = { 0 };
	struct ssh_proxy_pump *pump = NULL;
	struct cmd_ssh_proxy_link link = { NULL, NULL };
	struct proto_conn *c;
	ssh_key key = NULL;
	char *cause = NULL, *hint = NULL, *note = NULL;
	cJSON *host = NULL;
	enum ssh_proxy_fdpass_outcome passed;
	int rc, fd = -1, keep = -1, fdpass;

	fdpass = client_take_flag(&argc, argv, "--fdpass");
	if ((rc = client_target_open(
		 "ssh-proxy", argc, argv, CLIENT_TARGET_QUIET, &ct)) != CMD_EXIT_OK)
		goto out_target;
	if (agent_cmd_args_parse(&client_program, &cmd_ssh_proxy_entry, ct.argc, ct.argv,
		AGENT_ARG_FOLDER | AGENT_ARG_ID_LABEL, &a) != 0) {
		rc = CMD_EXIT_USAGE;
		goto out_target;
	}
	rc = CMD_EXIT_FAILURE;
	o.config_file = a.config_file;
	o.id_labels = a.id_labels;
	if (ct.remote != NULL) {
		if (remote_connect(ct.remote, &cause) != 0)
			goto out;
		c = remote_conn(ct.remote);
		o.folder = a.folder;
		o.host = host = remote_host_json(ct.remote);
		o.where = remote_host(ct.remote);
		link.remote = ct.remote;
		hint = remote_up_hint(ct.remote, a.config_file);
	} else {
		if (ct.local_folder == NULL) {
			cause = xasprintf("%s: cannot resolve the folder", a.folder);
			goto out;
		}
		if ((c = link.local = cmd_ssh_proxy_local_agent(0, &cause)) == NULL)
			goto out;
		o.folder = ct.local_folder;
		hint = agent_up_command("rdev", ct.local_folder, NULL);
	}
	o.hint = hint;
	o.reconnect = cmd_ssh_proxy_reconnect;
	o.reconnect_arg = &link;
	if ((key = ssh_proxy_key_load(&note, &cause)) == NULL)
		goto out;
	/* (before the pass: ssh shows this stderr, then refuses the key) */
	if (note != NULL)
		fprintf(stderr, "rdev: ssh-proxy: %s\n", note);
	passed = fdpass ? ssh_proxy_fdpass(0, 1, &fd, &cause) : SSH_PROXY_FDPASS_INBAND;
	if (passed == SSH_PROXY_FDPASS_PARENT)
		_exit(0);
	rc = CMD_EXIT_FAILURE;
	if (passed == SSH_PROXY_FDPASS_FAILED ||
	    (fd < 0 && (pump = ssh_proxy_pump_start(0, 1, &fd, &cause)) == NULL))
		goto out;
	/* libssh closes fd with its session; shutting down our copy after
	 * makes sure the pump sees the end whatever happened. */
	keep = dup(fd);
	if (ssh_proxy_run(fd, key, c, CMD_SSH_PROXY_FIRST_ID, &o, &cause) == 0)
		rc = CMD_EXIT_OK;
	key = NULL;
out:
	if (keep >= 0) {
		shutdown(keep, SHUT_RDWR);
		close(keep);
	}
	ssh_proxy_pump_free(pump);
	ssh_key_free(key);
	proto_conn_free(link.local);
	cJSON_Delete(host);
	free(hint);
	free(note);
	if (cause != NULL)
		fprintf(stderr, "rdev: ssh-proxy: %s\n", cause);
	free(cause);
	agent_cmd_args_clear(&a);
out_target:
	client_target_close(&ct);
	return rc;
}

const struct cmd_entry cmd_ssh_proxy_entry = { "ssh-proxy",
	"TARGET [SOURCE] [--config FILE] [--id-label NAME=VALUE]... [--fdpass]",
	"speak SSH on stdin/stdout for the dev container (ssh's ProxyCommand)",
	"An SSH server on stdin and stdout, for ssh's ProxyCommand (`rdev\n"
	"ssh-config TARGET` writes the Host block): its sessions (shell, exec,\n"
	"with a PTY, window size, LANG/LC_*/TERM, signals and exit status) run\n"
	"in TARGET's dev container as `rdev exec` runs a command: as the remote\n"
	"user, with the remote environment, in the workspace folder. The client\n"
	"needs no credentials (it is you: only you can run this program as your\n"
	"ProxyCommand); the server's host key is made once per user\n"
	"(STATE/ssh-proxy/host_key, 0600) and pinned by ssh-config.\n\n"
	"options:\n"
	"  --config FILE   use FILE instead of discovering devcontainer.json\n"
	"  --id-label NAME=VALUE\n"
	"                  find the container by these labels (repeatable)\n"
	"  --fdpass        hand ssh a socket to this server instead of copying\n"
	"                  stdin and stdout (ssh's ProxyUseFdpass yes; what\n"
	"                  ssh-config writes); a client that does not take it\n"
	"                  (pipes, or libssh's socket: no ProxyUseFdpass) is\n"
	"                  served on stdin and stdout as without --fdpass\n"
	"\n" CLIENT_TARGET_HELP,
	cmd_ssh_proxy_exec };
