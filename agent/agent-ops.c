/* agent-ops.c - the table of the agent's operations and the in-process way of
 * running a request by it (agent-ops.h). */
#include "agent-ops.h"

#include "agent-cmds.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent-state.h"
#include "config.h"
#include "error.h"
#include "lifecycle.h"
#include "workspace.h"
#include "shell-quote.h"
#include "xmalloc.h"

const struct agent_op *const agent_ops[] = {
	&agent_op_info,
	&agent_op_read_configuration,
	&agent_op_up,
	&agent_op_build,
	&agent_op_run_user_commands,
	&agent_op_upgrade,
	&agent_op_stop,
	&agent_op_down,
	&agent_op_ls,
	&agent_op_logs,
	&agent_op_status,
	&agent_op_exec,
	&agent_op_relay,
	&agent_op_sync,
	&agent_op_sync_pull,
	&agent_op_clone,
	&agent_op_source_folder,
	NULL,
};

/* Is the workspace's container (looked up now) running its lifecycle
 * steps in the background: the holder of the lock is no up at work? */
static int
agent_op_background_holds(struct docker *d, const struct config *cfg, const char *state)
{
	struct lifecycle_bg_status st;
	const char *id;
	cJSON *c = NULL;
	char *why = NULL;
	int bg = 0;

	memset(&st, 0, sizeof st);
	if (workspace_find_container(d, cfg, &c, &why) == 0 && c != NULL &&
	    (id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "Id"))) !=
		NULL &&
	    lifecycle_bg_status_read(state, id, &st, &why) == 0)
		bg = st.state == LIFECYCLE_BG_RUNNING;
	lifecycle_bg_status_clear(&st);
	free(why);
	cJSON_Delete(c);
	return bg;
}

int
agent_op_workspace_lock(const struct agent_op_req *r, struct docker *d,
    struct workspace *ws, char **config_error, int *lock, char **cause)
{
	struct timespec tick = { 0, 200 * 1000 * 1000 };
	char *state = NULL, *dir;
	const char *key;
	int waited = 0, rc = -1;

	*lock = -1;
	if (ws->cfg == NULL)
		return 0;
	key = config_get_devcontainer_id(ws->cfg);
	if ((state = agent_state_dir(cause)) == NULL)
		return -1;
	dir = xasprintf("%s/locks", state);
	rc = agent_state_mkdir_parents(dir, 0700, cause);
	free(dir);
	if (rc != 0)
		goto out;
	/* (polled, not flock's wait: the holder may become the background
	 * run, which is not waited for) */
	while ((*lock = agent_lock_try(state, key)) < 0) {
		if (errno != EWOULDBLOCK) {
			/* (not held but unusable: waiting would never end; up
			 * says the same of it) */
			rc = error_set_errno(cause, errno,
			    "cannot take the lock %s/locks/%s.lock", state, key);
			goto out;
		}
		if (agent_op_background_holds(d, ws->cfg, state))
			break;
		if (!waited)
			progress_line(r->progress, "%s", AGENT_LOCK_WAIT_LINE);
		waited = 1;
		nanosleep(&tick, NULL);
	}
	rc = 0;
	/* What the holder made (or removed) is looked for anew. */
	if (waited) {
		workspace_clear(ws);
		free(*config_error);
		*config_error = NULL;
		if ((rc = workspace_open_tolerant(r->workspace, r->config, r->id_labels,
			 d, ws, config_error, cause)) != 0) {
			agent_lock_release(*lock);
			*lock = -1;
		}
	}
out:
	free(state);
	return rc;
}

const struct agent_op *
agent_op_find(const char *name)
{
	for (const struct agent_op *const *op = agent_ops; *op != NULL; op++)
		if (strcmp((*op)->name, name) == 0)
			return *op;
	return NULL;
}

const char *
agent_op_req_string(const struct agent_op_req *r, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(r->json, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

int
agent_op_req_bool(const struct agent_op_req *r, const char *name)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r->json, name));
}

int
agent_op_req_strings(const struct agent_op_req *r, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(r->json, name), *e;

	if (v == NULL)
		return 1;
	if (!cJSON_IsArray(v))
		return 0;
	cJSON_ArrayForEach(e, v)
		if (!cJSON_IsString(e))
			return 0;
	return 1;
}

int
agent_op_req_log_format(const struct agent_op_req *r, struct progress *p, char **cause)
{
	const char *f = agent_op_req_string(r, "logFormat");

	if (f != NULL && strcmp(f, "json") != 0 && strcmp(f, "text") != 0)
		return error_set(cause, "\"logFormat\": expected \"text\" or \"json\"");
	p->json = f != NULL && strcmp(f, "json") == 0;
	return 0;
}

int
agent_op_req_lockfile(
    const struct agent_op_req *r, enum feature_lock_mode *mode, char **cause)
{
	int none = agent_op_req_bool(r, "noLockfile");
	int frozen = agent_op_req_bool(r, "frozenLockfile");

	if (none && frozen)
		return error_set(cause,
		    "\"noLockfile\" and \"frozenLockfile\" are mutually exclusive");
	*mode = none ? FEATURE_LOCK_NONE
	    : frozen ? FEATURE_LOCK_FROZEN
		     : FEATURE_LOCK_WRITE;
	return 0;
}

int
agent_op_req_features(const struct agent_op_req *r, const cJSON **features, char **cause)
{
	*features = cJSON_GetObjectItemCaseSensitive(r->json, "additionalFeatures");
	if (*features != NULL && !cJSON_IsObject(*features))
		return error_set(cause,
		    "\"additionalFeatures\": expected an object as "
		    "devcontainer.json's \"features\"");
	return 0;
}

char *
agent_op_req_up_cmd(const struct agent_op_req *r, const char *prog)
{
	const char *hint = agent_op_req_string(r, "hint");

	if (hint != NULL && *hint != '\0')
		return xstrdup(hint);
	return agent_up_command(
	    prog, r->workspace != NULL ? r->workspace : ".", r->config);
}

char *
agent_op_workspace(const cJSON *json, char **cause)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(json, "workspace");
	const char *home = getenv("HOME"), *w;

	if (!cJSON_IsString(v) || v->valuestring[0] == '\0') {
		error_set(cause, "\"workspace\" (a folder on this host) is required");
		return NULL;
	}
	w = v->valuestring;
	if (w[0] == '~' && (w[1] == '/' || w[1] == '\0') && home != NULL)
		return xasprintf("%s%s", home, w + 1);
	return xstrdup(w);
}

int
agent_op_id_labels(const cJSON *json, const cJSON **labels, char **cause)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(json, "idLabels"), *e;

	*labels = NULL;
	if (v == NULL)
		return 0;
	if (!cJSON_IsArray(v))
		return error_set(
		    cause, "\"idLabels\": expected an array of \"NAME=VALUE\"");
	cJSON_ArrayForEach(e, v) {
		if (!cJSON_IsString(e) || !agent_cmd_id_label_ok(e->valuestring))
			return error_set(
			    cause, "\"idLabels\": expected an array of \"NAME=VALUE\"");
	}
	*labels = v;
	return 0;
}

static void
agent_op_discard(void *arg, const char *data, size_t len)
{
}

int
agent_op_call(const cJSON *json, const char *prog_name, const struct progress *p,
    cJSON **result, char **cause)
{
	static const struct progress discard = { .fn = agent_op_discard };
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(json, "op");
	const struct agent_op *op;
	struct agent_op_req r = { json, NULL, NULL, prog_name, p != NULL ? p : &discard,
		NULL };
	char *workspace = NULL;
	int rc;

	*result = NULL;
	if (!cJSON_IsString(name))
		return error_set(cause, "request without an \"op\"");
	if ((op = agent_op_find(name->valuestring)) == NULL || op->run == NULL)
		return error_set(cause, "unknown op \"%s\"", name->valuestring);
	if ((op->flags & AGENT_OP_WORKSPACE) &&
	    (workspace = agent_op_workspace(json, cause)) == NULL)
		return -1;
	r.workspace = workspace;
	r.config = agent_op_req_string(&r, "config");
	if ((op->flags & AGENT_OP_WORKSPACE) &&
	    agent_op_id_labels(json, &r.id_labels, cause) != 0) {
		free(workspace);
		return -1;
	}
	rc = op->run(&r, result, cause);
	free(workspace);
	return rc;
}

const char *
agent_op_error_code(int rc)
{
	switch (rc) {
	case AGENT_OP_ERR_NO_WORKSPACE: return "no-workspace";
	case AGENT_OP_ERR_NOT_RUNNING: return "not-running";
	case AGENT_OP_ERR_NOT_OWNER: return "not-owner";
	case AGENT_OP_ERR_ADMISSION_REFUSED: return "admission-refused";
	}
	return NULL;
}

char *
agent_up_command_words(
    const char *prog_name, const char *const *target, const char *config_file)
{
	const char *argv[16];
	size_t n = 0;

	argv[n++] = prog_name;
	argv[n++] = "up";
	while (*target != NULL && n < 12)
		argv[n++] = *target++;
	if (config_file != NULL) {
		argv[n++] = "--config";
		argv[n++] = config_file;
	}
	argv[n] = NULL;
	return shell_quote_argv(argv, SHELL_QUOTE_HINT);
}

char *
agent_up_command(const char *prog_name, const char *folder, const char *config_file)
{
	return agent_up_command_words(
	    prog_name, (const char *const[]){ folder, NULL }, config_file);
}

char *
agent_logs_follow_command(const char *up_cmd)
{
	const char *up = strstr(up_cmd, " up ");

	if (up == NULL)
		return xstrdup("rdev logs -f");
	return xasprintf("%.*s logs -f %s", (int)(up - up_cmd), up_cmd, up + 4);
}

cJSON *
agent_op_outcome(const char *key, int n)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL)
		fatal("out of memory");
	cJSON_AddStringToObject(o, "outcome", "success");
	cJSON_AddNumberToObject(o, key, n);
	return o;
}

/* Add a warning (fmt, ...) to result's "warnings". */
void
agent_op_warning(cJSON *result, const char *fmt, ...)
{
	cJSON *warnings = cJSON_GetObjectItemCaseSensitive(result, "warnings");
	va_list ap;
	char *text;

	va_start(ap, fmt);
	text = xvasprintf(fmt, ap);
	va_end(ap);
	if (warnings == NULL)
		warnings = cJSON_AddArrayToObject(result, "warnings");
	cJSON_AddItemToArray(warnings, cJSON_CreateString(text));
	free(text);
}

void
agent_op_config_warning(cJSON *result, const char *config_error, const char *also)
{
	cJSON *warnings = cJSON_GetObjectItemCaseSensitive(result, "warnings");
	char *text = xasprintf("%s (the configuration does not load: the container "
			       "was found by its labels%s%s)",
	    config_error, also != NULL ? "; " : "", also != NULL ? also : "");

	if (warnings == NULL)
		warnings = cJSON_AddArrayToObject(result, "warnings");
	cJSON_AddItemToArray(warnings, cJSON_CreateString(text));
	free(text);
}
