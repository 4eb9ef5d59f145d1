/* workspace-target.c - a workspace command's TARGET and the backend that
 * serves it (client.h): a local folder runs the operations in this process
 * (agent_backend_local), a remote one on the host's agent through the broker
 * (remote.h). */
#include "client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config-discover.h"
#include "remote.h"
#include "xmalloc.h"

/* Index of the TARGET: the value of --workspace-folder, else the first
 * argument that is neither an option nor an option's value, before any
 * "--". -1 if none. */
static int
client_target_index(int argc, char **argv)
{
	int first = -1;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--workspace-folder") == 0 && i + 1 < argc)
			return i + 1;
		if (agent_cmd_option_takes_value(argv[i])) {
			i++;
			continue;
		}
		if (argv[i][0] != '-' && first < 0)
			first = i;
	}
	return first;
}

/* argv with "--workspace-folder=PATH" split in two (so that a remote PATH
 * can be replaced by the host's folder). New array of borrowed strings. */
static char **
client_target_split(int argc, char **argv, int *nargc)
{
	static char wf[] = "--workspace-folder";
	char **out = xcalloc((size_t)argc * 2 + 1, sizeof *out);
	int n = 0;

	for (int i = 0; i < argc; i++) {
		if (strncmp(argv[i], "--workspace-folder=", sizeof wf) == 0) {
			out[n++] = wf;
			out[n++] = argv[i] + sizeof wf;
		} else
			out[n++] = argv[i];
	}
	*nargc = n;
	return out;
}

int
client_take_flag(int *argc, char **argv, const char *flag)
{
	int i, found = 0;

	for (i = 1; i < *argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], flag) == 0) {
			memmove(
			    argv + i, argv + i + 1, (size_t)(*argc - i) * sizeof *argv);
			(*argc)--;
			i--;
			found = 1;
		}
	}
	return found;
}

const char *
client_config_arg(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			return argv[i + 1];
		if (strncmp(argv[i], "--config=", 9) == 0)
			return argv[i] + 9;
	}
	return NULL;
}

cJSON *
client_id_labels_arg(int argc, char **argv)
{
	cJSON *labels = NULL;
	const char *v;

	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (agent_cmd_option(argc, argv, &i, "--id-label", &v) > 0)
			agent_cmd_list_add(&labels, cJSON_CreateString(v));
	}
	return labels;
}

int
client_log_json(int argc, char **argv)
{
	const char *v;

	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (agent_cmd_option(argc, argv, &i, "--log-format", &v) > 0)
			return strcmp(v, "json") == 0;
	return 0;
}

int
client_has_flag(int argc, char **argv, const char *flag)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], flag) == 0)
			return 1;
	return 0;
}

/* A remote TARGET at argv[i]: parse it into *t. 0, or an exit code after
 * printing why not. */
static int
client_remote_target(const char *name, const char *arg, struct target *t)
{
	char *cause = NULL;

	if (target_parse(arg, t, &cause) != 0) {
		fprintf(stderr, "rdev: %s: %s\n", name, cause);
		free(cause);
		return CMD_EXIT_USAGE;
	}
	if (t->kind == TARGET_POOL) {
		fprintf(stderr,
		    "rdev: %s: host pools (%s) are not available in this build "
		    "yet\n",
		    name, arg);
		target_clear(t);
		return CMD_EXIT_UNAVAILABLE;
	}
	return 0;
}

int
client_target_open(
    const char *name, int argc, char **argv, unsigned flags, struct client_target *ct)
{
	struct remote_opts ro = { 0 };
	int i, n, rc;

	memset(ct, 0, sizeof *ct);
	ro.accept_new_host_key = client_take_flag(&argc, argv, "--accept-new-host-key");
	ct->argv = client_target_split(argc, argv, &ct->argc);
	argc = ct->argc;
	argv = ct->argv;
	i = client_target_index(argc, argv);
	if (i < 0 || !target_is_remote(argv[i])) {
		char *cause = NULL;

		ct->be = agent_backend_local;
		/* (a folder that cannot be resolved: the command says why) */
		ct->local_folder =
		    config_discover_resolve(NULL, i < 0 ? "." : argv[i], &cause);
		free(cause);
		return CMD_EXIT_OK;
	}
	if ((rc = client_remote_target(name, argv[i], &ct->t)) != 0) {
		client_target_close(ct);
		return rc;
	}
	ro.quiet = (flags & CLIENT_TARGET_QUIET) || client_has_flag(argc, argv, "--json");
	ro.json_log = client_log_json(argc, argv);
	ro.target = argv[i];
	ct->target_arg = argv[i];
	ct->remote = remote_new(&ct->t, &ro);
	remote_backend(ct->remote, &ct->be);
	/* The command on the remote side: the target's entry is the host's
	 * folder, or gone for a command that takes none. */
	for (int k = n = 0; k < argc; k++) {
		if (k != i)
			ct->argv[n++] = argv[k];
		else if (!(flags & CLIENT_TARGET_NO_FOLDER))
			ct->argv[n++] = ct->t.path;
	}
	ct->argv[n] = NULL;
	ct->argc = n;
	return CMD_EXIT_OK;
}

void
client_target_close(struct client_target *ct)
{
	remote_free(ct->remote);
	target_clear(&ct->t);
	free(ct->local_folder);
	free(ct->argv);
	memset(ct, 0, sizeof *ct);
}
