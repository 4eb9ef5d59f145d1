/* cmd-ls.c - `rdev ls [TARGET]`: the dev containers of this machine's
 * Docker or of TARGET's host (the shared command, agent-cmds.h), then the
 * broker's forwards. */
#include "client.h"

static int
cmd_ls_exec(int argc, char **argv)
{
	struct client_target ct;
	int rc, listed = 0;

	if ((rc = client_target_open("ls", argc, argv,
		 CLIENT_TARGET_QUIET | CLIENT_TARGET_NO_FOLDER, &ct)) == CMD_EXIT_OK) {
		rc = agent_cmd_ls(
		    &ct.be, &client_program, &cmd_ls_entry, ct.argc, ct.argv);
		listed = 1;
	}
	/* This machine's Docker could not be listed (none here, or not the
	 * user's): a user of remote hosts is pointed at them, and still sees
	 * the forwards (the exit status says the listing failed). */
	if (listed && rc == CMD_EXIT_FAILURE && ct.remote == NULL)
		fprintf(stderr,
		    "rdev: ls: without TARGET, ls lists this machine's Docker; "
		    "a host's dev containers: `rdev ls HOST:` (or `rdev ls @POOL "
		    "SOURCE`)\n");
	/* (not after a usage error: the command did not run) */
	if (listed &&
	    (rc == CMD_EXIT_OK || (rc == CMD_EXIT_FAILURE && ct.remote == NULL)) &&
	    !client_has_flag(ct.argc, ct.argv, "--json"))
		client_forward_print_all(stdout);
	client_target_close(&ct);
	return rc;
}

const struct cmd_entry cmd_ls_entry = { "ls",
	"[TARGET] [--all] [--json] [--accept-new-host-key] [--host NAME]",
	"list your dev containers and forwards",
	"Without TARGET: your dev containers on this machine's Docker. With a\n"
	"remote TARGET (host:path, the path is ignored; @POOL SOURCE: the pool\n"
	"host placement chose for SOURCE): yours on that host (as\n"
	"the user rdev logs in as there). Yours: those whose owner label names\n"
	"that user, or, made by another tool, whose workspace folder it owns.\n"
	"\n"
	"options:\n"
	"  --all   everyone's dev containers, with their owner\n"
	"  --json  an array of objects, no forwards\n"
	"  --accept-new-host-key\n"
	"          trust and record the key of a host never seen before (a\n"
	"          changed key is always refused)\n"
	"  --host NAME\n"
	"          with @POOL SOURCE: that pool host, not the one placement\n"
	"          chose or remembered\n",
	cmd_ls_exec };
