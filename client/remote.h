/* remote.h - a remote target's agent, reached through the broker.
 *
 * remote_connect() connects to the user's broker (starting it when none
 * runs), asks it for an agent on the target's host (the broker connects,
 * verifies the host key, installs the agent if needed and opens a channel
 * running `rdev-agent serve`), then does the protocol handshake with that
 * agent. From then on requests go straight to the agent.
 *
 * SSH settings come from the ssh config (as ssh does); $RDEV_SSH_CONFIG
 * names another config file (as ssh -F) and $RDEV_KNOWN_HOSTS another
 * known_hosts file.
 *
 * Ownership: struct remote owns its connection; the target is copied.
 */
#ifndef RDEV_REMOTE_H
#define RDEV_REMOTE_H

#include <cjson/cJSON.h>

#include "agent-cmds.h"
#include "progress.h"
#include "proto-conn.h"
#include "target.h"

struct remote;

struct remote_opts {
	int accept_new_host_key; /* record an unknown host key */
	int quiet;		 /* no "connecting"/"installing" lines (the
				    connect's warnings still: ssh config
				    options not honoured) */
	int silent;		 /* not those warnings either (doctor, which
				    reports them as a check) */
	int json_log;		 /* those lines as --log-format json's */
	int batch;		 /* never ask on the terminal: SSH's prompts
				    (passphrase, password) are cancelled */
	const char *target;	 /* the target as the user typed it (for hints;
				    borrowed, outlives the remote), or NULL */
	/* the target's words as typed when it is several ("buildbox:",
	 * "./app": hints quote each; NULL-terminated, borrowed, outlives the
	 * remote), or NULL: target is one word */
	const char *const *target_words;
	/* HOST: SOURCE: the workspace as forward listings show it ("HOST:
	 * /home/me/app", client_source_shown; borrowed, outlives the
	 * remote), or NULL: the host's folder names it */
	const char *shown;
	/* HOST: SOURCE never sent: what the remote's errors end with, its
	 * backend's calls' and execs' and forward's (" (./app is not on
	 * that host yet: ...)"; borrowed, outlives the remote), or NULL */
	const char *error_note;
	/* HOST:PATH whose PATH names a folder here too: what an error saying
	 * the host has no such workspace folder ends with (" (./app exists
	 * here: to upload it use `rdev up HOST: ./app`)"; borrowed, outlives
	 * the remote), or NULL */
	const char *missing_note;
	/* HOST: SOURCE (a local folder) this command uploaded: the host's
	 * copy and the folder here it copies; an error naming a file of the
	 * host's copy at a line (devcontainer.json:4:19:) names the user's
	 * file instead, the host's after it (borrowed, outlive the remote), or
	 * NULL */
	const char *host_copy, *local_copy;
};

struct remote *remote_new(const struct target *t, const struct remote_opts *o);
void remote_free(struct remote *r);
/* r's remote_opts' batch: set (from now on the broker's SSH prompts are
 * cancelled, not asked on the terminal). */
void remote_set_batch(struct remote *r, int batch);
/* r's remote_opts' quiet: set; returns what it was (a live sync's
 * reconnects after a lost link are quiet until the link is back). */
int remote_set_quiet(struct remote *r, int quiet);
/* Whether the last remote_connect/remote_connect_by of a batch r cancelled
 * a prompt of the broker's (a passphrase or password was needed). */
int remote_prompt_refused(const struct remote *r);
/* r's remote_opts' shown: set (borrowed, outlives r) and read. */
void remote_set_shown(struct remote *r, const char *shown);
const char *remote_shown(const struct remote *r);
/* r's remote_opts' error_note: set (borrowed, outlives r) and read ("" when
 * none). */
void remote_set_error_note(struct remote *r, const char *note);
/* The note made by fn(arg) the first time an error wants it, not before
 * (a listing that costs requests: only a failing command pays): new string
 * (r owns it) or NULL (the error_note set, if any, stays). */
void remote_set_error_note_fn(struct remote *r, char *(*fn)(void *arg), void *arg);
const char *remote_error_note(struct remote *r);
/* r's remote_opts' host_copy and local_copy: set (borrowed, outlive r). */
void remote_set_copy(struct remote *r, const char *host_copy, const char *local_copy);
/* An agent's error cause as the user is shown it: a file of the host's copy
 * named as the local one, the missing_note when it says the workspace
 * folder is missing, then the error_note. New string (caller frees). */
char *remote_error_text(struct remote *r, const char *cause);
/* Connect (once; later calls return 0 at once). -1 with *cause. */
int remote_connect(struct remote *r, char **cause);
/* remote_connect giving up (-1, *cause "the broker did not answer in time")
 * when not connected at deadline (clock_now_ms; 0: never; no broker is
 * started after it): the connect to the broker's socket, its handshake,
 * its answer to the agent request (its SSH connection to the host, the
 * agent's start) and the agent's handshake all count. For a caller that
 * must not hang on a stopped broker (rdev ssh-proxy, which serves other
 * channels); the commands a user runs wait (^C stops them). */
int remote_connect_by(struct remote *r, long long deadline, char **cause);
/* Whether the last remote_connect_by failed because its deadline came
 * while the broker's answer to the agent request or the agent's handshake
 * was awaited (its cause says "... in time"). Not when the broker itself
 * did not answer its own handshake, or its socket did not take the
 * connection, in time: that cause names the broker, and this says 0. */
int remote_deadline_met(const struct remote *r);
/* Drop the connection (broken): the next remote_connect makes a new one. */
void remote_reset(struct remote *r);
/* The agent connection; valid after remote_connect. */
struct proto_conn *remote_conn(struct remote *r);
/* A new request id. */
int remote_next_id(struct remote *r);
/* Connect if needed, send request (consumed; "id" is added) and wait for the
 * response; progress events go to p (may be NULL). See proto_conn_request. */
int remote_request(struct remote *r, cJSON *request, const struct progress *p,
    cJSON **result, int *exit_status, char **cause);
/* A request to the broker about r's host ("forward", "unforward"), on a
 * connection of its own: the fields of fields (consumed; may be NULL) are
 * added to {"op":op,"host":...}. r NULL: about this machine's Docker engine
 * (the broker's local host, {"op":op,"engine":"local"}). See
 * proto_conn_request. */
int remote_broker_call(
    struct remote *r, const char *op, cJSON *fields, cJSON **result, char **cause);
/* r's host as a broker request names it ({"host","user","port","sshConfig",
 * "knownHosts","authSock","acceptNewHostKey"}): a new object, as the
 * "hosts" of a broker "pool-probe" (broker/broker-probe.h). */
cJSON *remote_host_json(struct remote *r);
/* The up command to suggest when the workspace has no container, the target
 * as typed ("rdev up buildbox:~/app [--config F]"), for a request's "hint";
 * NULL when the target is not known. The caller frees. */
char *remote_up_hint(const struct remote *r, const char *config_file);
/* remote_up_hint, with a local SOURCE folder typed relative (`HOST: ./app`)
 * made absolute: for a hint kept past this command (the broker's forwards
 * show it later, from any folder). New string or NULL, as remote_up_hint. */
char *remote_up_hint_kept(const struct remote *r, const char *config_file);
/* The remote target's host as written. */
const char *remote_host(const struct remote *r);
/* The remote target's account as written: "[USER@]HOST[:PORT]", the parts
 * typed only (a key: alice@box and bob@box, box:2222 and box:2223 differ).
 * New string, caller frees. */
char *remote_host_key(const struct remote *r);

/* A backend for the workspace commands that runs them on r's agent
 * (agent-cmds.h); the hint of each request names the target as typed. */
void remote_backend(struct remote *r, struct agent_backend *be);

/* remote-exec.c: run req's command in the workspace's container (its
 * remote_env and secrets go in the request): stdin,
 * stdout and stderr streamed (a PTY when stdin and stdout are terminals, with TERM and
 * window size), SIGINT/SIGTERM/SIGHUP passed on. Returns the command's exit
 * status (128+N when killed by signal N), or 125 with the reason printed on
 * stderr as "PROG: exec: ..." when it could not be run or the connection
 * broke. */
int remote_exec(
    struct remote *r, const char *prog_name, const struct agent_exec_req *req);

#endif
