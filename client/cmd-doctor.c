/* cmd-doctor.c - `rdev doctor [TARGET|HOST] [--json]`: what works and what
 * does not, with the fix for each (doctor.h). */
#include "client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doctor.h"
#include "pool-file.h"
#include "pool-target.h"

/* `rdev doctor @POOL [SOURCE]`: each host of the pool, or the host SOURCE
 * was placed on; a line "host NAME" before each host's checks. 0, or an
 * exit code after printing why (no such pool, SOURCE not placed). */
static int
cmd_doctor_pool(
    struct doctor_report *r, const char *arg, const char *source, int accept_new)
{
	struct pool_target_req req = { .cmd = "doctor", .pool = arg + 1 };
	struct target t;
	const cJSON *e;
	cJSON *all, *members;
	char *cause = NULL, *host = NULL;
	int rc;

	if (source != NULL) {
		req.source = source;
		req.accept_new_host_key = accept_new;
		if ((rc = pool_target_resolve(&req, &t, &host)) != CMD_EXIT_OK)
			return rc == CMD_EXIT_USAGE ? DOCTOR_EXIT_FAIL : rc;
		target_clear(&t);
		doctor_add(r, "host", DOCTOR_OK, NULL, "%s (@%s %s was placed there)",
		    host, req.pool, source);
		doctor_host(r, host, accept_new);
		free(host);
		return CMD_EXIT_OK;
	}
	if ((all = pool_load(&cause)) == NULL) {
		fprintf(stderr, "rdev: doctor: %s\n", cause);
		free(cause);
		return DOCTOR_EXIT_FAIL;
	}
	members = pool_members(all, req.pool);
	if (cJSON_GetArraySize(members) == 0) {
		fprintf(stderr,
		    "rdev: doctor: pool %s has no hosts (add one with `rdev hosts add "
		    "--pool %s HOST`)\n",
		    req.pool, req.pool);
		rc = DOCTOR_EXIT_FAIL;
	} else {
		cJSON_ArrayForEach(e, members) {
			doctor_add(r, "host", DOCTOR_OK, NULL, "%s (@%s)",
			    pool_entry_name(e), req.pool);
			doctor_host(r, pool_entry_name(e), accept_new);
		}
		rc = CMD_EXIT_OK;
	}
	cJSON_Delete(members);
	cJSON_Delete(all);
	return rc;
}

static int
cmd_doctor_exec(int argc, char **argv)
{
	struct doctor_report r;
	const char *arg = NULL, *source = NULL;
	char *text;
	cJSON *o;
	int json = 0, accept_new = 0, i, rc;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (strcmp(argv[i], "--accept-new-host-key") == 0)
			accept_new = 1;
		else if (argv[i][0] == '-')
			return cmd_usage_error(&client_program, &cmd_doctor_entry,
			    "unknown option %s", argv[i]);
		else if (arg != NULL && arg[0] == '@' && source == NULL)
			source = argv[i];
		else if (arg != NULL)
			return cmd_usage_error(&client_program, &cmd_doctor_entry,
			    "one host at a time (%s, then %s)", arg, argv[i]);
		else
			arg = argv[i];
	}
	doctor_report_init(&r);
	if (arg != NULL && arg[0] == '@') {
		if ((rc = cmd_doctor_pool(&r, arg, source, accept_new)) != CMD_EXIT_OK) {
			doctor_report_clear(&r);
			return rc;
		}
	} else if (arg != NULL)
		doctor_host(&r, arg, accept_new);
	else
		doctor_local(&r);
	if (json) {
		o = doctor_report_json(&r, arg);
		text = cJSON_PrintUnformatted(o);
		printf("%s\n", text);
		free(text);
		cJSON_Delete(o);
	} else
		doctor_report_print(&r, stdout);
	rc = doctor_report_exit(&r);
	doctor_report_clear(&r);
	return rc;
}

const struct cmd_entry cmd_doctor_entry = { "doctor",
	"[TARGET|HOST|@POOL [SOURCE]] [--json] [--accept-new-host-key]",
	"check a host (or this machine) and say how to fix what is wrong",
	"With HOST ([user@]host[:port] or an ssh_config alias; or a TARGET such\n"
	"as host:path, whose host is used), checks through the broker, one line\n"
	"each (ok, warn or FAIL, what was found, and the fix when not ok): SSH\n"
	"(DNS, TCP, banner, time), the host key (known, unknown, CHANGED: which\n"
	"known_hosts file), the authentication method that worked, the time a\n"
	"command takes through the login shell (warn above 1 s: ~/.bashrc),\n"
	"sshd's sftp subsystem and TCP forwarding, Docker access for the SSH\n"
	"user, the agent's version and how it is reached, stream-local\n"
	"forwarding, free disk space under the workspace root and Docker's root\n"
	"(warn under 5 GiB, fail under 1 GiB) and clock skew (warn above 3 s).\n"
	"With @POOL: each host of the pool, in turn (a line \"host NAME\" before\n"
	"its checks); with @POOL SOURCE: the host SOURCE was placed on.\n"
	"With no argument: this machine (the broker and its version, the local\n"
	"Docker engine, the files in ~/.config/rdev, each pool host, all at once\n"
	"within 8 s).\n"
	"\n"
	"options:\n"
	"  --json                  {\"subject\",\"status\",\"checks\":[{\"name\",\n"
	"                          \"status\":\"ok|warn|fail\",\"detail\",\"fix\"}]}\n"
	"  --accept-new-host-key   record the key of a host never seen before\n"
	"\n"
	"Exit status: 0 all ok, 1 a warning (no failure), 2 a failure (also for a\n"
	"wrong command line).\n",
	cmd_doctor_exec };
