/* cmd-hosts.c - `rdev hosts add|rm|ls`: the host pools (pool-file.h), and
 * each host's facts as its agent reports them (pool-probe.h). */
#include "client.h"

#include <stdlib.h>
#include <string.h>

#include "placement.h"
#include "pool-file.h"
#include "pool-probe.h"
#include "quote.h"
#include "xmalloc.h"

/* The options of a hosts subcommand. */
struct cmd_hosts_args {
	const char *pool; /* --pool, default "default" (ls: all pools) */
	const char *host; /* the HOST argument, or NULL */
	cJSON *labels;	  /* --label KEY=VALUE (add), or NULL */
	int json;
	int accept_new_host_key;
};

/* Parse argv (argv[1] the subcommand) for sub, which takes what flags
 * say. 0, or CMD_EXIT_USAGE after printing why. */
static int
cmd_hosts_parse(int argc, char **argv, const char *sub, struct cmd_hosts_args *a)
{
	const char *v, *eq;
	char *key;
	int i, rc;

	memset(a, 0, sizeof *a);
	for (i = 2; i < argc; i++) {
		if ((rc = agent_cmd_option(argc, argv, &i, "--pool", &v)) != 0) {
			if (rc < 0 || !pool_name_valid(v))
				return cmd_usage_error(&client_program, &cmd_hosts_entry,
				    "--pool needs a name of letters, digits, '.', '_', "
				    "'-'");
			a->pool = v;
		} else if (strcmp(sub, "add") == 0 &&
		    (rc = agent_cmd_option(argc, argv, &i, "--label", &v)) != 0) {
			if (rc < 0 || (eq = strchr(v, '=')) == NULL || eq == v)
				return cmd_usage_error(&client_program, &cmd_hosts_entry,
				    "--label needs KEY=VALUE");
			if (a->labels == NULL)
				a->labels = cJSON_CreateObject();
			key = xstrndup(v, (size_t)(eq - v));
			cJSON_DeleteItemFromObjectCaseSensitive(a->labels, key);
			cJSON_AddStringToObject(a->labels, key, eq + 1);
			free(key);
		} else if (strcmp(sub, "ls") == 0 && strcmp(argv[i], "--json") == 0)
			a->json = 1;
		else if (strcmp(argv[i], "--accept-new-host-key") == 0)
			a->accept_new_host_key = 1;
		else if (argv[i][0] == '-' || a->host != NULL || strcmp(sub, "ls") == 0)
			/* (`hosts add default buildbox`: a pool is --pool) */
			return cmd_usage_error(&client_program, &cmd_hosts_entry,
			    "%s: unexpected argument '%s'%s", sub, argv[i],
			    argv[i][0] != '-' && strcmp(sub, "ls") != 0
				? " (one HOST; the pool is --pool NAME)"
				: "");
		else
			a->host = argv[i];
	}
	if (strcmp(sub, "ls") != 0 && a->host == NULL)
		return cmd_usage_error(
		    &client_program, &cmd_hosts_entry, "%s needs a HOST", sub);
	if (strcmp(sub, "ls") != 0 && a->pool == NULL)
		a->pool = POOL_DEFAULT;
	return 0;
}

/* The user's pool file: *path and *entries (its own entries only). */
static int
cmd_hosts_user_file(char **path, cJSON **entries)
{
	char *cause = NULL;

	*entries = NULL;
	if ((*path = pool_file_path(&cause)) == NULL ||
	    (*entries = pool_file_read(*path, "user", &cause)) == NULL) {
		fprintf(stderr, "rdev: hosts: %s\n", cause);
		free(cause);
		free(*path);
		*path = NULL;
		return CMD_EXIT_FAILURE;
	}
	return 0;
}

static int
cmd_hosts_add(struct cmd_hosts_args *a)
{
	struct target t;
	char *cause = NULL, *path;
	cJSON *entries, *one, *rows;
	const cJSON *row;
	int replaced;

	if (pool_probe_target(a->host, "~", &t, &cause) != 0) {
		fprintf(stderr, "rdev: hosts: %s\n", cause);
		free(cause);
		return CMD_EXIT_USAGE;
	}
	target_clear(&t);
	if (cmd_hosts_user_file(&path, &entries) != 0)
		return CMD_EXIT_FAILURE;
	replaced = pool_entry_add(entries, a->host, a->pool, a->labels);
	a->labels = NULL;
	if (pool_file_write(path, entries, &cause) != 0) {
		fprintf(stderr, "rdev: hosts: %s\n", cause);
		free(cause);
		free(path);
		cJSON_Delete(entries);
		return CMD_EXIT_FAILURE;
	}
	/* A host that cannot be reached now is still added: it may be down
	 * for a while, or not set up yet. */
	one = pool_members(entries, a->pool);
	while (cJSON_GetArraySize(one) > 1)
		cJSON_DeleteItemFromArray(one, 0);
	rows = pool_probe(one, pool_probe_timeout_ms(), a->accept_new_host_key);
	row = cJSON_GetArrayItem(rows, 0);
	if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(row, "state")),
		"up") != 0)
		fprintf(stderr,
		    "rdev: hosts: warning: %s cannot be reached now (%s); added to "
		    "pool %s anyway\n",
		    a->host,
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(row, "error")),
		    a->pool);
	fprintf(stderr, "rdev: hosts: %s %s pool %s\n", a->host,
	    replaced ? "updated in" : "added to", a->pool);
	cJSON_Delete(rows);
	cJSON_Delete(one);
	cJSON_Delete(entries);
	free(path);
	return CMD_EXIT_OK;
}

static int
cmd_hosts_rm(struct cmd_hosts_args *a)
{
	char *cause = NULL, *path;
	cJSON *entries, *all;
	int rc = CMD_EXIT_FAILURE;

	if (cmd_hosts_user_file(&path, &entries) != 0)
		return CMD_EXIT_FAILURE;
	if (!pool_entry_remove(entries, a->host, a->pool)) {
		all = pool_load(&cause);
		if (all != NULL && pool_entry_find(all, a->host, a->pool) != NULL)
			fprintf(stderr,
			    "rdev: hosts: %s is in pool %s through the team file "
			    "(%s), which rdev does not change\n",
			    a->host, a->pool, getenv(POOL_TEAM_FILE_ENV));
		else
			fprintf(stderr, "rdev: hosts: %s is not in pool %s\n", a->host,
			    a->pool);
		cJSON_Delete(all);
	} else if (pool_file_write(path, entries, &cause) != 0)
		fprintf(stderr, "rdev: hosts: %s\n", cause);
	else {
		fprintf(
		    stderr, "rdev: hosts: %s removed from pool %s\n", a->host, a->pool);
		rc = CMD_EXIT_OK;
	}
	free(cause);
	free(path);
	cJSON_Delete(entries);
	return rc;
}

/* obj[key] as a number, or -1. */
static double
cmd_hosts_num(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

/* One host of `hosts ls` as a table row; its names (the pool file's,
 * anyone's in a team file) quoted when they hold a line break. */
static void
cmd_hosts_print_row(const cJSON *h)
{
	struct quote_kept k = { 0 };
	const cJSON *reserved = cJSON_GetObjectItemCaseSensitive(h, "reserved"), *l;
	const char *state =
	    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(h, "state"));
	char mem[32], disk[32], held[64];
	int first = 1;

	printf("%-24s %-10s ", quote_shown(&k, pool_entry_name(h)),
	    quote_shown(&k, pool_entry_pool(h)));
	if (strcmp(state, "up") != 0) {
		printf("down  %s\n",
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(h, "error")));
		quote_kept_free(&k);
		return;
	}
	placement_size_text(cmd_hosts_num(h, "memory"), mem, sizeof mem);
	placement_size_text(cmd_hosts_num(h, "storage"), disk, sizeof disk);
	snprintf(held, sizeof held, "%g", cmd_hosts_num(reserved, "cpus"));
	printf("up    %4g %9s %9s %4g %5.2f %4g %8s ", cmd_hosts_num(h, "cpus"), mem,
	    disk, cmd_hosts_num(h, "gpus"), cmd_hosts_num(h, "load"),
	    cmd_hosts_num(h, "environments"),
	    cmd_hosts_num(reserved, "cpus") >= 0 ? held : "-");
	cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(h, "labels")) {
		printf("%s%s=%s", first ? "" : ",", quote_shown(&k, l->string),
		    quote_shown(&k, l->valuestring));
		first = 0;
	}
	printf("\n");
	quote_kept_free(&k);
}

static int
cmd_hosts_ls(struct cmd_hosts_args *a)
{
	char *cause = NULL, *text;
	cJSON *all, *members, *rows;
	const cJSON *h;

	if ((all = pool_load(&cause)) == NULL) {
		fprintf(stderr, "rdev: hosts: %s\n", cause);
		free(cause);
		return CMD_EXIT_FAILURE;
	}
	members = pool_members(all, a->pool);
	if (a->pool != NULL && cJSON_GetArraySize(members) == 0) {
		fprintf(stderr,
		    "rdev: hosts: pool %s has no hosts (add one with `rdev hosts add "
		    "--pool %s HOST`)\n",
		    a->pool, a->pool);
		cJSON_Delete(members);
		cJSON_Delete(all);
		return CMD_EXIT_FAILURE;
	}
	rows = pool_probe(members, pool_probe_timeout_ms(), a->accept_new_host_key);
	if (a->json) {
		text = cJSON_PrintUnformatted(rows);
		printf("%s\n", text);
		free(text);
	} else {
		printf("%-24s %-10s %-5s %4s %9s %9s %4s %5s %4s %8s %s\n", "HOST",
		    "POOL", "STATE", "CPUS", "MEMORY", "STORAGE", "GPUS", "LOAD", "ENVS",
		    "RESERVED", "LABELS");
		cJSON_ArrayForEach(h, rows)
			cmd_hosts_print_row(h);
	}
	cJSON_Delete(rows);
	cJSON_Delete(members);
	cJSON_Delete(all);
	return CMD_EXIT_OK;
}

static int
cmd_hosts_exec(int argc, char **argv)
{
	struct cmd_hosts_args a;
	const char *sub = argc > 1 ? argv[1] : "";
	int rc;

	if (strcmp(sub, "add") != 0 && strcmp(sub, "rm") != 0 && strcmp(sub, "ls") != 0)
		return cmd_usage_error(&client_program, &cmd_hosts_entry,
		    "expected add, rm or ls%s%s", *sub != '\0' ? ", not " : "", sub);
	if ((rc = cmd_hosts_parse(argc, argv, sub, &a)) != 0) {
		cJSON_Delete(a.labels);
		return rc;
	}
	if (strcmp(sub, "add") == 0)
		rc = cmd_hosts_add(&a);
	else if (strcmp(sub, "rm") == 0)
		rc = cmd_hosts_rm(&a);
	else
		rc = cmd_hosts_ls(&a);
	cJSON_Delete(a.labels);
	return rc;
}

const struct cmd_entry cmd_hosts_entry = { "hosts",
	"add [--pool NAME] [--label KEY=VALUE]... HOST | rm [--pool NAME] HOST | "
	"ls [--pool NAME] [--json]",
	"manage the host pools",
	"HOST is an ssh_config alias or [user@]host[:port]. The pools live in\n"
	"~/.config/rdev/hosts.json; $RDEV_POOL_FILE may name a team file of the\n"
	"same form, read-only, merged with it. `rdev up @POOL SOURCE` places a\n"
	"workspace on a host of POOL (docs/CLI.md, \"Host pools\").\n"
	"\n"
	"  add   add HOST to a pool (default: \"default\"), with labels; a host\n"
	"        that cannot be reached now is added too, with a warning\n"
	"  rm    remove HOST from a pool\n"
	"  ls    every host (of one pool with --pool) with what its agent reports:\n"
	"        state, cpus, memory, free storage under its workspace root, GPUs,\n"
	"        1-minute load, running environments, the cpus they reserve.\n"
	"        --json: one array of objects (name, pool, labels, state, error,\n"
	"        cpus, memory, storage, gpus, load, environments, reserved, ...)\n"
	"\n"
	"options:\n"
	"  --accept-new-host-key   trust and record the key of a host never seen\n"
	"                          before (a changed key is always refused)\n",
	cmd_hosts_exec };
