/* op-clone.c - the "clone" operation: a git URL's workspace on this host
 * (rdev up HOST: URL). The first time `git clone URL ROOT/NAME`; later `git
 * fetch` there, then a fast-forward of the checked-out branch when it has
 * no conflicting local work (else a warning: nothing on the host is
 * overwritten). git runs with the host's own credentials (its ssh keys and
 * config, a credential helper); nothing of the user's machine is sent.
 * {"folder":PATH,"cloned":BOOL,"warnings":[...]}. */
#include "agent-ops.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent-state.h"
#include "error.h"
#include "source-root.h"
#include "source.h"
#include "spawn.h"
#include "xmalloc.h"

#define OP_CLONE_TIMEOUT_MS (30 * 60 * 1000)

extern char **environ;

static void
op_clone_output(void *arg, int stream, const char *data, size_t len)
{
	(void)stream;
	progress_write(arg, data, len);
}

/* Our environment plus git's "never ask" settings (no terminal to ask on:
 * a prompt would hang the request). New array of borrowed and static
 * strings; free the array only. */
static const char **
op_clone_env(void)
{
	size_t n = 0, k = 0;
	const char **env;

	while (environ[n] != NULL)
		n++;
	env = xcalloc(n + 4, sizeof *env);
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "GIT_TERMINAL_PROMPT=", 20) != 0 &&
		    strncmp(environ[i], "GIT_SSH_COMMAND=", 16) != 0)
			env[k++] = environ[i];
	env[k++] = "GIT_TERMINAL_PROMPT=0";
	env[k++] = "GIT_SSH_COMMAND=ssh -o BatchMode=yes";
	return env;
}

/* Run git with argv (what: its subcommand, for messages); 0, or -1 with
 * *cause (its last lines). */
static int
op_clone_git(
    const struct agent_op_req *r, const char *what, const char *const *argv, char **cause)
{
	const char **env = op_clone_env();
	struct spawn_opts o = { .env = env,
		.on_output = op_clone_output,
		.on_output_arg = (void *)r->progress,
		.timeout_ms = OP_CLONE_TIMEOUT_MS };
	char *name = xasprintf("git %s", what);
	int rc;

	rc = spawn_run_ok(argv, &o, name, 3, cause);
	free(name);
	free(env);
	return rc;
}

static int
op_clone_run(const struct agent_op_req *r, cJSON **result, char **cause)
{
	const char *url = agent_op_req_string(r, "url");
	char *folder, *git_dir, *root, *fcause = NULL;
	struct stat sb;
	int cloned = 0;
	cJSON *warnings = cJSON_CreateArray();

	if (url == NULL || *url == '-' || !source_is_url(url)) {
		cJSON_Delete(warnings);
		return error_set(cause, "\"url\": expected a git URL");
	}
	if ((folder = source_root_folder(agent_op_req_string(r, "name"), cause)) ==
	    NULL) {
		cJSON_Delete(warnings);
		return -1;
	}
	git_dir = xasprintf("%s/.git", folder);
	if (stat(git_dir, &sb) != 0) {
		/* ext:: and the like run commands: never for a URL we are given. */
		const char *argv[] = { "git", "-c", "protocol.ext.allow=never", "-c",
			"protocol.fd.allow=never", "clone", "--", url, folder, NULL };

		root = xstrdup(folder);
		*strrchr(root, '/') = '\0';
		if (agent_state_mkdir_parents(root, 0755, cause) != 0 ||
		    op_clone_git(r, "clone", argv, cause) != 0) {
			free(root);
			goto fail;
		}
		free(root);
		cloned = 1;
	} else {
		const char *fetch[] = { "git", "-C", folder, "-c",
			"protocol.ext.allow=never", "fetch", "--prune", NULL };
		const char *ff[] = { "git", "-C", folder, "-c",
			"core.hooksPath=/dev/null", "merge", "--ff-only", "@{upstream}",
			NULL };

		if (op_clone_git(r, "fetch", fetch, cause) != 0)
			goto fail;
		if (op_clone_git(r, "merge", ff, &fcause) != 0) {
			cJSON_AddItemToArray(warnings,
			    cJSON_CreateString(
				"the clone on the host was fetched, not updated (local "
				"changes or no upstream branch)"));
			free(fcause);
		}
	}
	*result = cJSON_CreateObject();
	cJSON_AddStringToObject(*result, "folder", folder);
	cJSON_AddBoolToObject(*result, "cloned", cloned);
	cJSON_AddItemToObject(*result, "warnings", warnings);
	free(folder);
	free(git_dir);
	return 0;
fail:
	cJSON_Delete(warnings);
	free(folder);
	free(git_dir);
	return -1;
}

const struct agent_op agent_op_clone = { "clone", 0, op_clone_run,
	"clone (or fetch) git URL \"url\" into the workspace root" };
