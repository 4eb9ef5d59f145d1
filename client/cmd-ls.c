/* cmd-ls.c - `rdev ls [TARGET]`: the dev containers of this machine's
 * Docker or of TARGET's host (the shared command, agent-cmds.h), then the
 * broker's forwards. */
#include "client.h"

#include <stdlib.h>
#include <string.h>

#include "pool-file.h"
#include "pool-probe.h"
#include "remote.h"
#include "xmalloc.h"

/* The index in argv of `@POOL` when it is the only positional argument
 * (`rdev ls @POOL`, no SOURCE), else -1. */
static int
cmd_ls_pool_arg(int argc, char **argv)
{
	int at = -1, n = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--host") == 0) {
			i++;
			continue;
		}
		if (argv[i][0] == '-')
			continue;
		if (n++ == 0 && argv[i][0] == '@')
			at = i;
	}
	return n == 1 ? at : -1;
}

/* One host's ls over its agent, each entry given its "host", added to all.
 * 0, or -1 with *cause. */
static int
cmd_ls_pool_host(const char *name, int everyone, cJSON *all, char **cause)
{
	struct remote_opts ro = { .quiet = 1, .silent = 1, .batch = 1 };
	cJSON *req = cJSON_CreateObject(), *list = NULL, *c;
	struct remote *r;
	struct target t;
	int rc;

	if (pool_probe_target(name, "~", &t, cause) != 0) {
		cJSON_Delete(req);
		return -1;
	}
	r = remote_new(&t, &ro);
	cJSON_AddStringToObject(req, "op", "ls");
	if (everyone)
		cJSON_AddBoolToObject(req, "all", 1);
	if ((rc = remote_request(r, req, NULL, &list, NULL, cause)) == 0) {
		while ((c = cJSON_DetachItemFromArray(list, 0)) != NULL) {
			cJSON_AddStringToObject(c, "host", name);
			cJSON_AddItemToArray(all, c);
		}
	}
	cJSON_Delete(list);
	remote_free(r);
	target_clear(&t);
	return rc;
}

/* `rdev ls @POOL`: each host's dev containers of this user (--all:
 * everyone's), with a HOST column ("host" in --json). The hosts are probed
 * at once (pool-probe.h: one bound for them all, the probe timeout); a
 * host that is down is named on stderr with why, and the exit status is 1
 * then, the others listed all the same. */
static int
cmd_ls_pool(int argc, char **argv, const char *pool)
{
	int everyone = client_has_flag(argc, argv, "--all");
	cJSON *entries, *members, *rows, *all = cJSON_CreateArray();
	const cJSON *row;
	const char *name, *err;
	char *cause = NULL, *text;
	int rc = CMD_EXIT_OK;

	if ((entries = pool_load(&cause)) == NULL) {
		fprintf(stderr, "rdev: ls: %s\n", cause);
		free(cause);
		cJSON_Delete(all);
		return CMD_EXIT_FAILURE;
	}
	members = pool_members(entries, pool);
	if (cJSON_GetArraySize(members) == 0) {
		fprintf(stderr,
		    "rdev: ls: pool %s has no hosts (add one with `rdev hosts add "
		    "--pool %s HOST`)\n",
		    pool, pool);
		rc = CMD_EXIT_FAILURE;
	}
	rows = pool_probe(members, pool_probe_timeout_ms(),
	    client_has_flag(argc, argv, "--accept-new-host-key"));
	cJSON_ArrayForEach(row, rows) {
		name = pool_entry_name(row);
		err =
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(row, "error"));
		if (err != NULL) {
			fprintf(
			    stderr, "rdev: ls: @%s: %s is down (%s)\n", pool, name, err);
			rc = CMD_EXIT_FAILURE;
		} else if (cmd_ls_pool_host(name, everyone, all, &cause) != 0) {
			fprintf(stderr, "rdev: ls: @%s: %s: %s\n", pool, name, cause);
			free(cause);
			cause = NULL;
			rc = CMD_EXIT_FAILURE;
		}
	}
	if (client_has_flag(argc, argv, "--json")) {
		if ((text = cJSON_PrintUnformatted(all)) == NULL)
			fatal("out of memory");
		printf("%s\n", text);
		free(text);
	} else
		agent_cmd_ls_print(all, everyone, 1);
	cJSON_Delete(rows);
	cJSON_Delete(members);
	cJSON_Delete(entries);
	cJSON_Delete(all);
	return rc;
}

static int
cmd_ls_exec(int argc, char **argv)
{
	struct client_target ct;
	int rc, listed = 0, at;

	if ((at = cmd_ls_pool_arg(argc, argv)) >= 0)
		return cmd_ls_pool(argc, argv, argv[at] + 1);

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
	"[TARGET|@POOL] [--all] [--json] [--accept-new-host-key] [--host NAME]",
	"list your dev containers and forwards",
	"Without TARGET: your dev containers on this machine's Docker. With a\n"
	"remote TARGET (host:path, the path is ignored; @POOL SOURCE: the pool\n"
	"host placement chose for SOURCE): yours on that host (as\n"
	"the user rdev logs in as there). Yours: those whose owner label names\n"
	"that user, or, made by another tool, whose workspace folder it owns.\n"
	"@POOL alone: yours on each host of the pool, with a HOST column (the\n"
	"hosts asked at once; one down is named on stderr with why, exit 1).\n"
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
