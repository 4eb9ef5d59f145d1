/* cmd-up.c - `rdev up TARGET`: create or resume the dev container (the
 * shared command, agent-cmds.h, on TARGET's backend), then forward its
 * forwardPorts through the broker (a remote TARGET's host, or the broker's
 * local host for this machine's engine). */
#include "client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config-discover.h"
#include "progress.h"
#include "remote.h"
#include "sync-scan.h"
#include "xmalloc.h"

/* What up's helpers gathered for it to say (client_target_pool_leave):
 * each warning as "rdev: up: warning: CAUSE", then note (NULL: none), on
 * stderr, a JSON log line each with --log-format json; -q holds them as
 * up's other warnings (progress.h), shown with an error. */
static void
cmd_up_say(const struct client_target *ct, const cJSON *warnings, const char *note)
{
	int json = client_log_json(ct->argc, ct->argv);
	const cJSON *w;

	cJSON_ArrayForEach(w, warnings) {
		if (cJSON_IsString(w))
			progress_stderr_line(
			    json, "rdev: up: warning: %s", w->valuestring);
	}
	if (note != NULL)
		progress_stderr_line(json, "%s", note);
}

/* up's usage errors, before a remote TARGET's upload (client_target_hook). */
static int
cmd_up_check(int argc, char **argv, void *arg)
{
	(void)arg;
	return agent_cmd_up_check(&client_program, &cmd_up_entry, argc, argv) == 0
	    ? CMD_EXIT_OK
	    : CMD_EXIT_USAGE;
}

static int
cmd_up_exec(int argc, char **argv)
{
	static const struct client_target_hook hook = { .check = cmd_up_check };
	struct progress progress = { .fn = agent_cmd_progress_stderr };
	struct client_target ct;
	cJSON *ports = NULL, *id_labels = NULL, *lockfile = NULL, *result = NULL;
	cJSON *warnings;
	const char *config, *workspace;
	char *local_config = NULL, *cause = NULL, *failed = NULL, *text, *note;
	int rc, auto_forward = client_take_flag(&argc, argv, "--auto-forward");
	int sync = client_take_flag(&argc, argv, "--sync");
	int git = sync && client_take_flag(&argc, argv, "--git");
	int gitignore = sync && client_take_flag(&argc, argv, "--gitignore");
	int two_way = sync && client_take_flag(&argc, argv, "--two-way");

	/* (--sync's own options, without it: said so, not "unknown option") */
	for (const char *const *o =
		 (const char *const[]){ "--gitignore", "--git", "--two-way", NULL };
	     !sync && *o != NULL; o++)
		if (client_has_flag(argc, argv, *o))
			return cmd_usage_error(&client_program, &cmd_up_entry,
			    "%s goes with --sync (`rdev up HOST: SOURCE --sync "
			    "%s`)",
			    *o, *o);
	if ((rc = client_target_open_hook("up", argc, argv,
		 CLIENT_TARGET_PLACE | CLIENT_TARGET_SEND | CLIENT_TARGET_SEND_HOLD |
		     (sync ? CLIENT_TARGET_LOCAL_SOURCE : 0) |
		     (git ? CLIENT_TARGET_SEND_GIT : 0) |
		     (gitignore ? CLIENT_TARGET_SEND_GITIGNORE : 0) |
		     (two_way ? CLIENT_TARGET_SEND_KEEP_HOST : 0),
		 &hook, &ct)) != CMD_EXIT_OK)
		goto out;
	rc = agent_cmd_up(&ct.be, &client_program, &cmd_up_entry, ct.argc, ct.argv,
	    &ports, client_lockfile_wanted(&ct) ? &lockfile : NULL, &result);
	if (rc != CMD_EXIT_OK)
		goto out;
	/* (a pool's workspace moved: what the broker kept for the old host) */
	warnings = cJSON_CreateArray();
	client_target_pool_leave(&ct, sync, warnings, &note);
	cmd_up_say(&ct, warnings, note);
	cJSON_Delete(warnings);
	free(note);
	/* Before the live sync starts: it then finds the copy already so.
	 * The line as the agent's would be: none with --json. */
	progress.json = client_log_json(ct.argc, ct.argv);
	if (client_lockfile_copy(&ct, lockfile,
		client_has_flag(ct.argc, ct.argv, "--json") ? NULL : &progress,
		&cause) < 0) {
		client_lockfile_warn("up",
		    client_has_flag(ct.argc, ct.argv, "--json") ? NULL : &progress,
		    cause);
		cause = NULL;
	}
	/* (for the shell's completion: a failure costs only that; a
	 * warning, which -q holds) */
	if (ct.remote != NULL && client_recent_target_add(ct.target_arg, &cause) != 0) {
		progress_stderr_line(
		    client_log_json(ct.argc, ct.argv), "rdev: up: warning: %s", cause);
		free(cause);
		cause = NULL;
	}
	config = client_config_arg(ct.argc, ct.argv);
	workspace = ct.remote != NULL ? ct.t.path : ct.local_folder;
	/* the broker runs elsewhere (in /): a local --config as an absolute path */
	if (ct.remote == NULL && config != NULL &&
	    (config = local_config = config_discover_resolve(NULL, config, &cause)) ==
		NULL) {
		failed = xasprintf("forwardPorts: %s", cause);
		goto result;
	}
	id_labels = client_id_labels_arg(ct.argc, ct.argv);
	if (workspace != NULL &&
	    client_forward_ports("up", &ct.be, ct.remote, workspace, config, id_labels,
		client_has_flag(ct.argc, ct.argv, "--json") ||
		    client_log_json(ct.argc, ct.argv),
		client_log_json(ct.argc, ct.argv), auto_forward, ports) != 0)
		failed = xstrdup("forwardPorts: not every port was forwarded (the "
				 "lines above say which)");
	/* Last: the broker watches the folder from now on (it sends what
	 * changed since the upload first). */
	if (sync &&
	    sync_kept_start(&ct,
		(git ? SYNC_SCAN_GIT : 0) | (gitignore ? SYNC_SCAN_GITIGNORE : 0) |
		    (two_way ? SYNC_SCAN_TWO_WAY : 0),
		&cause) != 0) {
		text = failed;
		failed = xasprintf("%s%s--sync: %s", text != NULL ? text : "",
		    text != NULL ? "; " : "", cause);
		free(text);
	} else if (sync && !client_has_flag(ct.argc, ct.argv, "--json"))
		progress_stderr_line(client_log_json(ct.argc, ct.argv),
		    "rdev: up: the broker keeps %s in step with %s:%s until `rdev "
		    "down` or `rdev sync --stop %s`",
		    ct.src.path, remote_host(ct.remote), ct.t.path, ct.typed_q);
result:
	/* Last, once the forwards and the sync are made: a script reads one
	 * outcome, and it agrees with the exit status. A failure of theirs is
	 * up's, with the id of the container (up and running, as after a
	 * failed lifecycle step). */
	if (failed != NULL)
		rc = agent_cmd_up_failed_after(
		    &client_program, client_log_json(ct.argc, ct.argv), failed, result);
	else {
		text = cJSON_PrintUnformatted(result);
		printf("%s\n", text);
		free(text);
	}
out:
	free(cause);
	free(local_config);
	cJSON_Delete(ports);
	cJSON_Delete(lockfile);
	cJSON_Delete(result);
	cJSON_Delete(id_labels);
	client_target_close(&ct);
	return rc;
}

const struct cmd_entry cmd_up_entry = { "up",
	"TARGET " AGENT_CMD_UP_USAGE
	" [--auto-forward] [--sync [--gitignore] [--git] [--two-way]]",
	"create or resume the dev container for TARGET",
	CLIENT_TARGET_HELP
	"\n" AGENT_CMD_UP_HELP "  --auto-forward  also forward ports the container\n"
	"                  starts listening on later (see `rdev forward --auto`)\n"
	"  --sync          HOST: SOURCE with a local folder: after the upload, the\n"
	"                  broker keeps sending the folder's changes to the host\n"
	"                  until `rdev down` or `rdev sync --stop HOST: SOURCE`\n"
	"                  (--gitignore, --git, --two-way: as `rdev sync`'s)\n",
	cmd_up_exec };
