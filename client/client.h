/* client.h - the rdev command-line client: one cmd-<name>.c per command,
 * each defining its table entry (cmd_<name>_entry, listed in cmd.c). */
#ifndef RDEV_CLIENT_H
#define RDEV_CLIENT_H

#include <stdio.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "agent-cmds.h"
#include "cmd.h"
#include "source-send.h"
#include "source.h"
#include "target.h"

struct progress;

/* cmd.c */
extern const struct cmd_program client_program;

/* The commands (cmd-<name>.c). */
extern const struct cmd_entry cmd_up_entry;
extern const struct cmd_entry cmd_build_entry;
extern const struct cmd_entry cmd_upgrade_entry;
extern const struct cmd_entry cmd_exec_entry;
extern const struct cmd_entry cmd_shell_entry;
extern const struct cmd_entry cmd_forward_entry;
extern const struct cmd_entry cmd_ls_entry;
extern const struct cmd_entry cmd_status_entry;
extern const struct cmd_entry cmd_logs_entry;
extern const struct cmd_entry cmd_stop_entry;
extern const struct cmd_entry cmd_down_entry;
extern const struct cmd_entry cmd_read_configuration_entry;
extern const struct cmd_entry cmd_run_user_commands_entry;
extern const struct cmd_entry cmd_hosts_entry;
extern const struct cmd_entry cmd_sync_entry;
extern const struct cmd_entry cmd_ssh_config_entry;
extern const struct cmd_entry cmd_ssh_proxy_entry;
extern const struct cmd_entry cmd_doctor_entry;

/* What every workspace command's --help says about TARGET. */
#define CLIENT_TARGET_HELP \
	CLIENT_TARGET_FORMS_HELP \
	"  --accept-new-host-key   trust and record the key of a host never seen\n" \
	"                          before (a changed key is always refused)\n" \
	"  --host NAME             with @POOL SOURCE: that pool host, not the one\n" \
	"                          placement chose or remembered\n"
/* The TARGET forms alone, for a command that reaches no host itself
 * (ssh-config: its proxy command does). */
#define CLIENT_TARGET_FORMS_HELP \
	"TARGET is a workspace folder: a local path, [user@]host[:port]:path or\n" \
	"ssh://[user@]host[:port]/path (~ is the remote user's home; a relative\n" \
	"path is relative to it), or HOST: SOURCE (two arguments: the workspace\n" \
	"that `rdev up HOST: SOURCE` uploaded or cloned; SOURCE is a local folder\n" \
	"or a git URL). host may be an alias from ~/.ssh/config;\n" \
	"$RDEV_SSH_CONFIG names another config file (as ssh -F), $RDEV_KNOWN_HOSTS\n" \
	"another known_hosts file. Remote targets go through the broker\n" \
	"(rdev-broker), started on demand, which keeps one SSH session per host.\n"

/* The remote user's login shell from the container's passwd, else /bin/sh
 * (in $s); run interactively (not as a login shell, which would reset the
 * remote environment rdev set up), or with the command given as $1 (`sh -c
 * SCRIPT sh COMMAND`: the command is an argument, never pasted), as sshd
 * runs a command. */
#define CLIENT_SHELL_FIND \
	"u=$(id -un 2>/dev/null); s=; " \
	"[ -n \"$u\" ] && s=$(grep \"^$u:\" /etc/passwd 2>/dev/null | cut -d: -f7); " \
	"[ -n \"$s\" ] && [ -x \"$s\" ] || s=/bin/sh; "
#define CLIENT_SHELL_SCRIPT CLIENT_SHELL_FIND "exec \"$s\""
#define CLIENT_SHELL_COMMAND_SCRIPT CLIENT_SHELL_FIND "exec \"$s\" -c \"$1\""

/* workspace-target.c: a command's TARGET and the backend that serves it. */
struct remote;
struct client_target {
	struct agent_backend be;       /* local, or the remote host's agent */
	struct remote *remote;	       /* NULL when local */
	struct target t;	       /* remote: the parsed target (HOST: SOURCE:
					  path is the host's folder) */
	const char *target_arg;	       /* remote: the TARGET as given (borrowed;
					  HOST: SOURCE: "HOST:") */
	struct source src;	       /* HOST: SOURCE: the source; else zeroed */
	struct source_send_stats sent; /* CLIENT_TARGET_SEND: what was sent */
	struct sync_scan *sent_scan;   /* CLIENT_TARGET_KEEP_SCAN: the folder as
					  uploaded (a local SOURCE); owned */
	/* local: the workspace folder, absolute (config_discover_resolve), as
	 * the broker names the workspace's forwards; NULL when remote */
	char *local_folder;
	/* The command's arguments for be: a remote TARGET replaced by the
	 * host's folder (or dropped: CLIENT_TARGET_NO_FOLDER); without
	 * --accept-new-host-key. NULL-terminated. */
	char **argv;
	int argc;
	/* `@POOL SOURCE` (pool-target.h): the pool entry chosen (added to up's
	 * result as "host"), the target as typed (for hints; also for
	 * `HOST: SOURCE`), and the host's
	 * backend that be wraps. NULL/unused otherwise. */
	char *pool_host;
	/* `@POOL SOURCE`: the pool (without '@') and the SOURCE as typed
	 * (argv's), for remembering the host once `up` worked there */
	const char *pool_name;
	const char *pool_source;
	/* `@POOL SOURCE`: the host it was placed on before an up that
	 * worked placed it on pool_host (client_target_pool_leave); owned,
	 * else NULL */
	char *pool_moved_from;
	char *typed;
	/* HOST: SOURCE: its two words (ro's target_words), and typed as a
	 * hint to paste shows it (each word shell-quoted when it needs it);
	 * typed_q owned, else NULL */
	const char *typed_words[3];
	char *typed_q;
	struct agent_backend inner;
	/* HOST: SOURCE (a local folder): a --config inside that folder, as
	 * the host's copy names it (argv holds it); owned, else NULL */
	char *config_on_host;
	/* After "--" (not CLIENT_TARGET_COMMAND): "./ARG" for each ARG that
	 * starts with '-', which argv holds; owned */
	char **dashed;
	int ndashed;
	/* A local SOURCE sent: its lockfile as it was just before the upload
	 * (client_lockfile_remember), the one the answer's may replace. rel
	 * NULL: not known (nothing is written back); text NULL: absent. Owned */
	struct {
		char *config; /* devcontainer.json, relative to the folder */
		char *rel;
		char *text;
		size_t len;
	} lock_sent;
	const struct client_target_hook *hook; /* borrowed, or NULL */
	char *shown; /* HOST: SOURCE: client_source_shown's; owned, or NULL */
	/* HOST: SOURCE not sent by this command whose folder is not on the
	 * host (no up put it there): what be's errors (and an exec's) then
	 * end with, " (SOURCE is not on that host yet: `rdev up ...` puts it
	 * there)"; owned, or NULL */
	char *missing;
	/* The same, when it is wanted, with client_target_gone's listing:
	 * the command's name (borrowed) and HOST: as given (owned) */
	const char *gone_name;
	char *gone_host_arg;
	/* HOST:PATH whose PATH is a folder here too: what an error saying
	 * the host has no such folder ends with (remote_opts' missing_note);
	 * owned, or NULL */
	char *here_note;
};
/* HOST:PATH (arg, parsed into t) whose PATH is a folder here too: what an
 * error saying the host has no such folder ends with, the command that
 * uploads it (remote_opts' missing_note). New string, or NULL. */
char *client_target_here_note(const char *arg, const struct target *t);
/* HOST: SOURCE as forward listings show it: host_arg ("buildbox:") and a
 * local SOURCE's absolute folder, or a git SOURCE as typed. New string. */
char *client_source_shown(const char *host_arg, const struct source *src);
/* What a command does at a point of client_target_open_hook(): check
 * runs first for a remote TARGET, before any connection, placement or
 * upload, given the command's arguments with TARGET (and the SOURCE after
 * `HOST:` or `@POOL`) as one folder, "." (argv[argc] NULL): the usage
 * errors the command can find itself are found then, not after an upload
 * (a local TARGET's come from the command's own parse, which is first
 * anyway). before_send runs just before a local SOURCE is uploaded
 * (ct->lock_sent known), given the command's arguments as they will be
 * after it (argv[argc] NULL; the host's folder not known yet: the local
 * one in its place). Each (either may be NULL) returns CMD_EXIT_OK to go
 * on, else the exit code after printing why not. A command whose arguments
 * are a struct agent_cmd_args names its parse and entry instead of check:
 * the check is then agent_cmd_check_with(parse) with client_program. */
struct client_target_hook {
	int (*check)(int argc, char **argv, void *arg);
	agent_cmd_parse_fn *parse;
	const struct cmd_entry *entry;
	int (*before_send)(struct client_target *ct, int argc, char **argv, void *arg);
	void *arg;
};
/* The broker's name of this machine's Docker engine (broker/local-host.h). */
#define CLIENT_LOCAL_HOST "local"
#define CLIENT_TARGET_QUIET 0x01	  /* no "connecting" lines (--json: too) */
#define CLIENT_TARGET_NO_FOLDER 0x02	  /* the command takes no folder (ls) */
#define CLIENT_TARGET_PLACE 0x04	  /* @POOL: choose a host (up) */
#define CLIENT_TARGET_SEND 0x08		  /* HOST: SOURCE: upload or clone it first */
#define CLIENT_TARGET_SEND_GIT 0x10	  /* ... .git too */
#define CLIENT_TARGET_SEND_GITIGNORE 0x20 /* ... not what .gitignore says */
#define CLIENT_TARGET_KEEP_SCAN 0x40	  /* ... and keep the scan (sent_scan) */
#define CLIENT_TARGET_LOCAL_SOURCE \
	0x80 /* HOST: SOURCE with a local folder only \
		(--sync): anything else is refused */
#define CLIENT_TARGET_COMMAND \
	0x100 /* a COMMAND follows "--" (exec); else "--" \
		 ends the options before TARGET */
#define CLIENT_TARGET_SEND_LOCAL \
	0x200 /* HOST: SOURCE: upload a local folder first (as \
		 CLIENT_TARGET_SEND); a git URL's clone is taken as it is */
#define CLIENT_TARGET_SEND_KEEP_HOST \
	0x400 /* ... a two-way sync follows: a host file changed since the \
		 last sync is kept as its conflict file (keepHostChanges) */
#define CLIENT_TARGET_EXEC \
	0x800 /* exec, shell: a target that could not be reached or found \
		 (its host's SSH connection lost, the broker gone, a pool's \
		 host) is AGENT_EXIT_EXEC_FAILED (125), not CMD_EXIT_FAILURE: \
		 docs/CLI.md's exit codes (the command could not be run) */
#define CLIENT_TARGET_SEND_HOLD \
	0x1000 /* HOST: SOURCE: the upload's warnings are the \
		  command's (up, build, upgrade): -q holds them, an \
		  error shows them (source_send_opts) */
/* Find name's TARGET in argv (the value of --workspace-folder, else the
 * first non-option) and open its backend. `@POOL SOURCE [--host NAME]`
 * resolves to a host of the pool (pool-target.h; with CLIENT_TARGET_PLACE
 * one is chosen, else the one chosen before) and then goes as HOST:SOURCE.
 * For `HOST: SOURCE` (two arguments) the SOURCE's host folder (source.h)
 * replaces both, after sending it with CLIENT_TARGET_SEND. CMD_EXIT_OK,
 * or the exit code after printing why not (a bad target, a pool). Close with
 * client_target_close() either way. */
int client_target_open(
    const char *name, int argc, char **argv, unsigned flags, struct client_target *ct);
/* client_target_open() with hook (borrowed until client_target_close()). */
int client_target_open_hook(const char *name, int argc, char **argv, unsigned flags,
    const struct client_target_hook *hook, struct client_target *ct);
void client_target_close(struct client_target *ct);
/* The pool entry name's host as a remote (a broker request's host, as
 * `@POOL SOURCE` reaches it; quiet, never prompting): new (remote_free),
 * or NULL with *cause. */
struct remote *client_pool_remote(const char *name, char **cause);
/* After an up of `@POOL SOURCE` that worked and moved it (up --host
 * another host: ct->pool_moved_from): stop the broker's sync of its folder
 * to the old host and its forwards there. What could not be stopped is
 * added to warnings (the caller's JSON array of strings, each for "rdev:
 * up: warning: CAUSE"); *note is what was stopped, with how to start the
 * sync on the new one (sync: up was given --sync, which starts it), as one
 * line for up to show after them: a new string, or NULL (nothing
 * stopped). Prints nothing. */
void client_target_pool_leave(
    struct client_target *ct, int sync, cJSON *warnings, char **note);
/* Take every flag out of argv (before "--"); 1 if there was one. */
/* complete.c: cmd_program.complete_operand for rdev (TARGET: pools, recent
 * targets, ssh_config host aliases; hosts: its subcommand, then the
 * aliases); remember a remote target that `up` reached (newest first, at
 * most 50; 0 or -1 with *cause). */
void client_complete_operand(const char *command, int nth, const char *prefix, FILE *out);
int client_recent_target_add(const char *target, char **cause);

/* broker-check.c: cmd_program.before_exec for rdev: when the broker named
 * by RUNTIME/broker.pid runs an older build of the rdev-broker next to us
 * (broker-stale.h), one warning line on stderr saying how to restart it.
 * Reads the pid file and /proc only: never connects to the broker. */
void client_broker_check(const char *command);
/* The look client_broker_check makes: 1 when the broker named by
 * RUNTIME/broker.pid runs an older build of ours, with its *pid, *exe (the
 * program it runs) and *fix (the command that restarts it: `systemctl
 * --user restart rdev-broker` under systemd, else `PATH/rdev-broker
 * restart`, quoted for a shell where it needs it), both new (caller
 * frees); else 0 and both NULL. */
int client_broker_stale(pid_t *pid, char **exe, char **fix);
/* What the fix does, after it (the warning's and doctor's words). */
#define CLIENT_BROKER_STALE_FIX \
	"switches to this one (forwards and syncs are kept; open sessions end)"

int client_take_flag(int *argc, char **argv, const char *flag);
/* Is flag in argv (before "--")? */
int client_has_flag(int argc, char **argv, const char *flag);
/* Every --id-label's value in argv (before "--"): a new array, or NULL
 * when none. */
cJSON *client_id_labels_arg(int argc, char **argv);
/* Does argv ask for --log-format json? */
int client_log_json(int argc, char **argv);
/* Add a warning's cause (fmt, printf's) to warnings: a JSON array of
 * strings, the caller's, which a helper fills and the command that owns
 * the output shows (client_target_pool_leave's). */
void client_warning_add(cJSON *warnings, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The --config value in argv, or NULL. */
const char *client_config_arg(int argc, char **argv);

/* sync-kept.c: the broker's sync of a HOST: SOURCE target's folder
 * (broker/broker-sync.h). Start it (scan_flags: SYNC_SCAN_*): 0, or -1
 * with *cause. */
int sync_kept_start(struct client_target *ct, unsigned scan_flags, char **cause);
/* Stop it: 1 stopped, 0 there was none, -1 with *cause (no broker runs:
 * 0). */
int sync_kept_stop(struct client_target *ct, char **cause);
/* sync_kept_stop of the sync of the workspace folder named name (struct
 * source's name) on r's host: the same answers. */
int sync_kept_stop_name(struct remote *r, const char *name, char **cause);
/* `@POOL SOURCE`: stop a sync of ct's folder that still goes to another
 * host of the pool than ct's (one the workspace was placed on before an
 * `up --host` moved it, kept by an rdev that did not stop it then): that
 * host's name (new string), or NULL when none ran (or ct is no pool's). */
char *sync_kept_stop_pool_others(struct client_target *ct);
/* Its status (broker-sync.h's STATUS), or a JSON null when there is none
 * (or no broker runs). New. */
cJSON *sync_kept_status(struct client_target *ct);
/* The status as the lines of `rdev status` (st not an object: nothing). */
void sync_kept_print(FILE *out, const cJSON *st);

/* lockfile-copy.c: devcontainer-lock.json back into the local folder that
 * `rdev up HOST: ./app` uploaded (docs/CLI.md, "devcontainer-lock.json and
 * upgrade"), where the developer commits it. */
/* Does ct's workspace come from a local folder (HOST: SOURCE, @POOL
 * SOURCE), so that up, build and upgrade ask for the lockfile
 * ("includeLockfile", docs/PROTOCOL.md)? */
int client_lockfile_wanted(const struct client_target *ct);
/* Before ct's upload: remember its local lockfile (the one beside the
 * devcontainer.json found in the folder, or given by a --config in it) in
 * ct->lock_sent, so that client_lockfile_copy() replaces only those bytes
 * (or the absence of the file). Not readable: nothing remembered. */
void client_lockfile_remember(struct client_target *ct);
/* Write member (an answer's "workspaceLockfile": {"path","text"}; NULL:
 * nothing) into ct's local folder at path, atomically and only when the
 * file there differs, keeping its mode, with "Wrote ./app/PATH" (the folder
 * as typed) as a progress line to p, as the agent's line would have been (a
 * JSON log line under --log-format json; p NULL: none, up --json). Refused
 * (-1 with *cause, for the caller to show as a warning: the command's work
 * is done all the same): a path that is absolute, has a ".." or "."
 * component or does not name a lockfile, or that runs through a symlink in
 * the folder; a text that is not a JSON object below the size limit; a
 * file that no longer holds what was uploaded (ct->lock_sent); a failed
 * write. 1 written, 0 nothing to do. */
int client_lockfile_copy(const struct client_target *ct, const cJSON *member,
    const struct progress *p, char **cause);
/* Show client_lockfile_copy()'s cause as command name's warning: on
 * stderr, or as a JSON log line when p says --log-format json. Frees
 * cause. */
void client_lockfile_warn(const char *name, const struct progress *p, char *cause);

/* cmd-status.c: a status answer (plus "host", "forwards") as text. */
void client_status_print(const cJSON *st, const char *folder);

/* cmd-forward.c. r is the workspace's remote host, or NULL for this
 * machine's Docker engine (the broker's "local" host; workspace then
 * absolute). */
/* After `up`: forward the workspace's forwardPorts (with portsAttributes)
 * through the broker; prints the table unless quiet (-q holds it, as
 * progress, progress.h). ports: the merged
 * forwardPorts and portsAttributes as up answered them (NULL: asked for
 * through be). id_labels: the workspace's --id-label's (NULL: none). With
 * auto_forward the broker also watches the container for
 * new listening ports and forwards them as portsAttributes' onAutoForward
 * says. log_json: its warnings as --log-format json lines. 0, or 1 if
 * any failed (printed, after "rdev: CMD: "; what -q held first). */
int client_forward_ports(const char *cmd, const struct agent_backend *be,
    struct remote *r, const char *workspace, const char *config, const cJSON *id_labels,
    int quiet, int log_json, int auto_forward, const cJSON *ports);
/* forwards (broker "forward" entries) as a table; with_host: "on HOST". */
void client_forward_print_table(FILE *out, const cJSON *forwards, int with_host);
/* The broker's forwards as a table (nothing when none, or no broker). */
void client_forward_print_all(FILE *out);
/* The broker's forwards of workspace on r's host (NULL: the local host): a
 * JSON array (new), or NULL when no broker runs. */
cJSON *client_forward_list_workspace(struct remote *r, const char *workspace);
/* After `down`: stop the workspace's forwards (for a local workspace only
 * when a broker has forwards saved: none is started for nothing). */
int client_unforward_workspace(struct remote *r, const char *workspace);
/* Stop the broker's forwards on r's host of the workspace folder named name
 * (struct source's name, under whatever workspace root that host has): a
 * pool workspace moved to another host leaves them. How many stopped (0:
 * none, or no broker runs); a workspace's whose stop failed adds its cause
 * to warnings (the caller's JSON array of strings, each for "rdev: CMD:
 * warning: CAUSE"; the command shows them). Prints nothing. */
int client_unforward_source(struct remote *r, const char *name, cJSON *warnings);

#endif
