/* cmd-ls.c - `rdev ls [TARGET]`: the dev containers of this machine's
 * Docker or of TARGET's host (the shared command, agent-cmds.h), then the
 * broker's forwards. */
#include "client.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "clock.h"
#include "pool-file.h"
#include "pool-probe.h"
#include "proto-conn.h"
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

/* The value of --host NAME in argv, or NULL. Borrowed from argv. */
static const char *
cmd_ls_host_opt(int argc, char **argv)
{
	for (int i = 1; i + 1 < argc; i++) {
		if (strcmp(argv[i], "--host") == 0)
			return argv[i + 1];
	}
	return NULL;
}

/* pool has no hosts: say so, or, when it is not one of the user's pools
 * (pools exist only through their hosts; "default" is always one), say
 * which pools there are. */
static void
cmd_ls_pool_none(const cJSON *entries, const char *pool)
{
	const cJSON *e;
	struct buf *names;
	const char *p;
	int n = 0;

	if (strcmp(pool, POOL_DEFAULT) == 0) {
		fprintf(stderr,
		    "rdev: ls: pool %s has no hosts (add one with `rdev hosts add "
		    "--pool %s HOST`)\n",
		    pool, pool);
		return;
	}
	names = buf_new();
	cJSON_ArrayForEach(e, entries) {
		p = pool_entry_pool(e);
		/* each pool once: named by its first entry */
		const cJSON *f;
		int seen = 0;
		cJSON_ArrayForEach(f, entries) {
			if (f == e)
				break;
			if (strcmp(pool_entry_pool(f), p) == 0)
				seen = 1;
		}
		if (!seen)
			buf_appendf(names, "%s@%s", n++ > 0 ? ", " : "", p);
	}
	if (n == 0)
		fprintf(stderr,
		    "rdev: ls: @%s: you have no pools (add a host to one with `rdev "
		    "hosts add --pool %s HOST`)\n",
		    pool, pool);
	else
		fprintf(stderr,
		    "rdev: ls: @%s: not one of your pools (%.*s; `rdev hosts add --pool "
		    "%s HOST` makes it)\n",
		    pool, (int)buf_len(names), (const char *)buf_data(names), pool);
	buf_free(names);
}

/* One host's ls, asked and answered on a thread of its own (cmd_ls_pool_ask),
 * so that a host that hangs costs the deadline in parallel with the others,
 * never the others' turn. */
struct cmd_ls_ask {
	const char *name; /* the pool entry's (borrowed from the probe's rows) */
	struct target t;
	int everyone;
	long long deadline; /* (clock_now_ms) */
	int timeout_ms;	    /* what the deadline is, for the words */
	int down;	    /* the probe found it down: cause is why */
	int asked;	    /* a thread was started for it */
	pthread_t thread;
	cJSON *list; /* its entries, each given its "host"; NULL: none */
	char *cause; /* why it is not listed; NULL: listed */
};

/* a's cause when the deadline came before its answer: "no answer within 5 s
 * (what)". */
static void
cmd_ls_pool_no_answer(struct cmd_ls_ask *a, const char *what)
{
	char wait[32];

	free(a->cause);
	clock_ms_text(a->timeout_ms, wait, sizeof wait);
	a->cause = xasprintf("no answer within %s (%s)", wait, what);
}

/* Connect to a's host (by a->deadline), send it the ls request and wait for
 * the answer (by a->deadline too): a->list, or a->cause. The thread's body
 * (touches nothing but a). */
static void *
cmd_ls_pool_ask(void *arg)
{
	struct cmd_ls_ask *a = arg;
	struct remote_opts ro = { .quiet = 1, .silent = 1, .batch = 1 };
	struct remote *r = remote_new(&a->t, &ro);
	cJSON *req, *list = NULL, *c;
	int id;

	if (remote_connect_by(r, a->deadline, &a->cause) != 0) {
		if (remote_deadline_met(r))
			cmd_ls_pool_no_answer(a, "the connect to its agent");
		remote_free(r);
		return NULL;
	}
	req = cJSON_CreateObject();
	id = remote_next_id(r);
	cJSON_AddNumberToObject(req, "id", id);
	cJSON_AddStringToObject(req, "op", "ls");
	if (a->everyone)
		cJSON_AddBoolToObject(req, "all", 1);
	/* (the wait for the answer ends at the deadline too) */
	proto_conn_set_deadline(remote_conn(r), a->deadline);
	if (proto_conn_send_request(remote_conn(r), req, &a->cause) != 0 ||
	    proto_conn_response(
		remote_conn(r), id, NULL, NULL, -1, NULL, &list, NULL, &a->cause) != 0) {
		if (proto_conn_deadline_met(remote_conn(r)))
			cmd_ls_pool_no_answer(a, "its agent's ls");
		cJSON_Delete(list);
		remote_free(r);
		return NULL;
	}
	a->list = cJSON_CreateArray();
	while ((c = cJSON_DetachItemFromArray(list, 0)) != NULL) {
		cJSON_AddStringToObject(c, "host", a->name);
		cJSON_AddItemToArray(a->list, c);
	}
	cJSON_Delete(list);
	remote_free(r);
	return NULL;
}

/* `rdev ls @POOL`: each host's dev containers of this user (--all:
 * everyone's), with a HOST column ("host" in --json). The hosts are probed
 * at once (pool-probe.h: one bound for them all, the probe timeout), then
 * those up asked at once, bounded the same; a host that is down or does
 * not answer is named on stderr with why, and the exit status is 1 then,
 * the others listed all the same. */
static int
cmd_ls_pool(int argc, char **argv, const char *pool)
{
	int everyone = client_has_flag(argc, argv, "--all");
	cJSON *entries, *members, *rows, *all = cJSON_CreateArray();
	const cJSON *row;
	const char *err, *only;
	struct cmd_ls_ask *asks;
	char *cause = NULL, *text;
	long long deadline;
	int rc = CMD_EXIT_OK, n, i, e;

	if ((entries = pool_load(&cause)) == NULL) {
		fprintf(stderr, "rdev: ls: %s\n", cause);
		free(cause);
		cJSON_Delete(all);
		return CMD_EXIT_FAILURE;
	}
	members = pool_members(entries, pool);
	if (cJSON_GetArraySize(members) == 0) {
		cmd_ls_pool_none(entries, pool);
		rc = CMD_EXIT_FAILURE;
	} else if ((only = cmd_ls_host_opt(argc, argv)) != NULL) {
		/* --host NAME: that host of the pool alone */
		cJSON *one = cJSON_CreateArray(), *m;
		while ((m = cJSON_DetachItemFromArray(members, 0)) != NULL) {
			if (strcmp(pool_entry_name(m), only) == 0)
				cJSON_AddItemToArray(one, m);
			else
				cJSON_Delete(m);
		}
		cJSON_Delete(members);
		members = one;
		if (cJSON_GetArraySize(members) == 0) {
			fprintf(stderr,
			    "rdev: ls: @%s: --host %s is not a host of the pool (`rdev "
			    "hosts ls --pool %s` lists them)\n",
			    pool, only, pool);
			rc = CMD_EXIT_FAILURE;
		}
	}
	rows = pool_probe(members, pool_probe_timeout_ms(),
	    client_has_flag(argc, argv, "--accept-new-host-key"));
	/* The hosts that answered the probe are asked at once, each on a
	 * thread of its own, under one deadline as long again as the probe's: a
	 * host that hangs since (its sshd or dockerd stopped) is named, not
	 * waited for, and the others are asked all the same. */
	n = cJSON_GetArraySize(rows);
	asks = xcalloc(n > 0 ? (size_t)n : 1, sizeof *asks);
	deadline = clock_now_ms() + pool_probe_timeout_ms();
	i = 0;
	cJSON_ArrayForEach(row, rows) {
		struct cmd_ls_ask *a = &asks[i++];

		a->name = pool_entry_name(row);
		a->everyone = everyone;
		a->deadline = deadline;
		a->timeout_ms = pool_probe_timeout_ms();
		err =
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(row, "error"));
		if (err != NULL) {
			a->down = 1;
			a->cause = xstrdup(err);
		} else if (pool_probe_target(a->name, "~", &a->t, &a->cause) != 0)
			continue;
		else if ((e = pthread_create(&a->thread, NULL, cmd_ls_pool_ask, a)) != 0)
			a->cause = xasprintf("cannot start a thread: %s", strerror(e));
		else
			a->asked = 1;
	}
	for (i = 0; i < n; i++) {
		struct cmd_ls_ask *a = &asks[i];
		cJSON *c;

		if (a->asked)
			pthread_join(a->thread, NULL);
		while (a->list != NULL &&
		    (c = cJSON_DetachItemFromArray(a->list, 0)) != NULL)
			cJSON_AddItemToArray(all, c);
		if (a->down)
			fprintf(stderr, "rdev: ls: @%s: %s is down (%s)\n", pool, a->name,
			    a->cause);
		else if (a->cause != NULL)
			fprintf(
			    stderr, "rdev: ls: @%s: %s: %s\n", pool, a->name, a->cause);
		if (a->cause != NULL)
			rc = CMD_EXIT_FAILURE;
		cJSON_Delete(a->list);
		target_clear(&a->t);
		free(a->cause);
	}
	free(asks);
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
	"          chose or remembered; with @POOL alone: only that host's\n",
	cmd_ls_exec };
