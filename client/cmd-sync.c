/* cmd-sync.c - `rdev sync HOST: SOURCE [--json] [--watch]`: upload a local
 * folder to its workspace on HOST now (what `rdev up HOST: SOURCE` does
 * first), or fetch a git URL's clone there; source-send.h does the work;
 * with --watch, go on sending its changes (sync-live.h). */
#include "client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "remote.h"
#include "sync-live.h"
#include "sync-scan.h"

/* `rdev sync --stop HOST: ./app`: end the sync the broker keeps (up
 * --sync); nothing is sent. */
static int
cmd_sync_stop(int argc, char **argv)
{
	struct client_target ct;
	char *cause = NULL, *other;
	int rc;

	if ((rc = client_target_open("sync", argc, argv,
		 CLIENT_TARGET_QUIET | CLIENT_TARGET_LOCAL_SOURCE, &ct)) != CMD_EXIT_OK)
		goto out;
	switch (sync_kept_stop(&ct, &cause)) {
	case 1:
		fprintf(stderr, "rdev: sync: stopped the sync of %s to %s\n", ct.src.path,
		    remote_host(ct.remote));
		break;
	case 0:
		/* (@POOL SOURCE moved by an up that left its sync going to
		 * the host it was placed on before) */
		if ((other = sync_kept_stop_pool_others(&ct)) != NULL) {
			fprintf(stderr,
			    "rdev: sync: stopped the sync of %s to %s (where @%s %s "
			    "was placed before %s)\n",
			    ct.src.path, other, ct.pool_name, ct.pool_source,
			    remote_host(ct.remote));
			free(other);
			break;
		}
		fprintf(stderr, "rdev: sync: no sync of %s to %s was running\n",
		    ct.src.path, remote_host(ct.remote));
		rc = CMD_EXIT_FAILURE;
		break;
	default:
		fprintf(stderr, "rdev: sync: --stop: %s\n", cause);
		free(cause);
		rc = CMD_EXIT_FAILURE;
	}
out:
	client_target_close(&ct);
	return rc;
}

static int
cmd_sync_exec(int argc, char **argv)
{
	struct client_target ct;
	struct sync_live_opts lo = { 0 };
	int json = client_take_flag(&argc, argv, "--json"), rc;
	int watch = client_take_flag(&argc, argv, "--watch");
	int git = client_take_flag(&argc, argv, "--git");
	int gitignore = client_take_flag(&argc, argv, "--gitignore");
	int stop = client_take_flag(&argc, argv, "--stop");
	int two_way = client_take_flag(&argc, argv, "--two-way");
	unsigned flags = CLIENT_TARGET_SEND | (json ? CLIENT_TARGET_QUIET : 0);
	char *text, *cause = NULL;
	cJSON *o;

	for (int i = 1; i < argc; i++)
		if (argv[i][0] == '-' && strcmp(argv[i], "--accept-new-host-key") != 0) {
			return cmd_usage_error(&client_program, &cmd_sync_entry,
			    "unknown option %s", argv[i]);
		}
	if (stop && watch) {
		return cmd_usage_error(&client_program, &cmd_sync_entry,
		    "--stop and --watch do not go together");
	}
	if (two_way && !watch) {
		return cmd_usage_error(
		    &client_program, &cmd_sync_entry, "--two-way goes with --watch");
	}
	if (stop)
		return cmd_sync_stop(argc, argv);
	flags |= (git ? CLIENT_TARGET_SEND_GIT : 0) |
	    (gitignore ? CLIENT_TARGET_SEND_GITIGNORE : 0) |
	    (watch ? CLIENT_TARGET_KEEP_SCAN : 0) |
	    (two_way ? CLIENT_TARGET_SEND_KEEP_HOST : 0);
	if ((rc = client_target_open("sync", argc, argv, flags, &ct)) != CMD_EXIT_OK)
		goto out;
	if (ct.src.name == NULL) {
		rc = cmd_usage_error(&client_program, &cmd_sync_entry,
		    "expected HOST: SOURCE (a host, then a local folder or a git "
		    "URL)");
		goto out;
	}
	if (json) {
		o = source_send_stats_json(&ct.sent, ct.t.path);
		cJSON_AddStringToObject(
		    o, "kind", ct.src.kind == SOURCE_GIT ? "git" : "folder");
		text = cJSON_PrintUnformatted(o);
		printf("%s\n", text);
		fflush(stdout);
		free(text);
		cJSON_Delete(o);
	}
	if (!watch)
		goto out;
	if (ct.src.kind != SOURCE_LOCAL || ct.sent_scan == NULL) {
		rc = cmd_usage_error(
		    &client_program, &cmd_sync_entry, "--watch is for a local folder");
		goto out;
	}
	lo.scan_flags = (git ? SYNC_SCAN_GIT : 0) |
	    (gitignore ? SYNC_SCAN_GITIGNORE : 0) | (two_way ? SYNC_SCAN_TWO_WAY : 0);
	lo.json = json;
	lo.out = stdout;
	lo.host = ct.t.host;
	lo.first = &ct.sent;
	if (sync_live_run(ct.remote, &ct.src, ct.sent_scan, &lo, &cause) != 0) {
		fprintf(stderr, "rdev: sync: %s\n", cause);
		free(cause);
		rc = CMD_EXIT_FAILURE;
	}
	ct.sent_scan = NULL; /* (taken) */
out:
	client_target_close(&ct);
	return rc;
}

const struct cmd_entry cmd_sync_entry = { "sync",
	"HOST: SOURCE [--watch [--two-way] | --stop] [--gitignore] [--git] [--json]",
	"upload a folder to its workspace on HOST (one way), or fetch a git URL there",
	"SOURCE is a local folder or a git URL (https://, ssh://, git://, file://,\n"
	"user@host:path). A folder goes to the host's workspace root as `rdev up\n"
	"HOST: SOURCE` puts it (~/rdev/workspaces/NAME-HASH): only files whose\n"
	"contents differ are sent, files an earlier sync sent and the folder no\n"
	"longer has are deleted there, and paths matched by the folder's\n"
	".rdevignore (gitignore syntax) and .git are left out. One way: changes\n"
	"made on the host are overwritten or kept, never brought back.\n"
	"  --watch      then keep sending changes as they happen, printing one\n"
	"               line per change (created/modified/deleted/renamed PATH),\n"
	"               until Ctrl-C; SIGHUP rescans the whole folder\n"
	"  --two-way    with --watch: changes made on the host come back too;\n"
	"               a file changed on both sides keeps the local version and\n"
	"               the host's is saved as NAME.rdev-conflict-YYYYMMDDTHHMMSSZ\n"
	"  --stop       end the sync the broker keeps for the folder (`rdev up\n"
	"               HOST: SOURCE --sync`); nothing is sent\n"
	"  --gitignore  leave out what the folder's .gitignore files say too\n"
	"  --git        send .git too\n"
	"  --json       print what was done as JSON ({\"folder\",\"files\",\"sent\",\n"
	"               \"sentBytes\",\"deleted\",\"skipped\",\"seconds\"}); with\n"
	"               --watch, then one object per batch ({\"changes\",\"rescan\",\n"
	"               \"sent\",\"sentBytes\",\"deleted\",\"ms\"})\n",
	cmd_sync_exec };
