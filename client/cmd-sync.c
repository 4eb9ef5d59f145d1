/* cmd-sync.c - `rdev sync HOST: SOURCE [--json]`: upload a local folder to
 * its workspace on HOST now (what `rdev up HOST: SOURCE` does first), or
 * fetch a git URL's clone there; source-send.h does the work. */
#include "client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
cmd_sync_exec(int argc, char **argv)
{
	struct client_target ct;
	int json = client_take_flag(&argc, argv, "--json"), rc;
	char *text;
	cJSON *o;

	for (int i = 1; i < argc; i++)
		if (argv[i][0] == '-' && strcmp(argv[i], "--accept-new-host-key") != 0) {
			fprintf(stderr, "rdev: sync: unknown option %s\n", argv[i]);
			return CMD_EXIT_USAGE;
		}
	if ((rc = client_target_open("sync", argc, argv,
		 CLIENT_TARGET_SEND | (json ? CLIENT_TARGET_QUIET : 0), &ct)) !=
	    CMD_EXIT_OK)
		goto out;
	if (ct.src.name == NULL) {
		fprintf(stderr,
		    "rdev: sync: expected HOST: SOURCE (a host, then a "
		    "local folder or a git URL)\n");
		rc = CMD_EXIT_USAGE;
		goto out;
	}
	if (json) {
		o = source_send_stats_json(&ct.sent, ct.t.path);
		cJSON_AddStringToObject(
		    o, "kind", ct.src.kind == SOURCE_GIT ? "git" : "folder");
		text = cJSON_PrintUnformatted(o);
		printf("%s\n", text);
		free(text);
		cJSON_Delete(o);
	}
out:
	client_target_close(&ct);
	return rc;
}

const struct cmd_entry cmd_sync_entry = { "sync", "HOST: SOURCE [--json]",
	"upload a folder to its workspace on HOST (one way), or fetch a git URL there",
	"SOURCE is a local folder or a git URL (https://, ssh://, git://, file://,\n"
	"user@host:path). A folder goes to the host's workspace root as `rdev up\n"
	"HOST: SOURCE` puts it (~/rdev/workspaces/NAME-HASH): only files whose\n"
	"contents differ are sent, files an earlier sync sent and the folder no\n"
	"longer has are deleted there, and paths matched by the folder's\n"
	".rdevignore (gitignore syntax) are left out. One way: changes made on\n"
	"the host are overwritten or kept, never brought back.\n"
	"  --json   print what was done as JSON ({\"folder\",\"files\",\"sent\",\n"
	"           \"sentBytes\",\"deleted\",\"skipped\",\"seconds\"})\n",
	cmd_sync_exec };
