/* workspace-target.c - a workspace command's TARGET and the backend that
 * serves it (client.h): a local folder runs the operations in this process
 * (agent_backend_local), a remote one on the host's agent through the broker
 * (remote.h). */
#include "client.h"

#include <sys/stat.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config-discover.h"
#include "pool-probe.h"
#include "progress.h"
#include "pool-target.h"
#include "remote.h"
#include "shell-quote.h"
#include "source-send.h"
#include "sync-scan.h"
#include "xmalloc.h"

/* client_target_gone lists the newest this many uploads (a request each) */
#define CLIENT_TARGET_GONE_MAX 20

/* The option whose value is the workspace folder (argv's strings are
 * char *: a writable copy). */
static char client_target_wf[] = "--workspace-folder";

/* Index of the TARGET: the value of --workspace-folder, else the first
 * argument that is neither an option nor an option's value, before any
 * "--". -1 if none; -2 if both are given (an argument before
 * --workspace-folder, or after it for a command that takes no COMMAND:
 * exec's `--workspace-folder PATH make` runs make, but not a remote
 * TARGET's form, `--workspace-folder PATH HOST: -- make`, which no one
 * means as the command), which the agent would refuse only after the
 * first was taken for a host. *after_wf: that last case's argument when
 * no "--" follows (a command that looks like a TARGET: `--workspace-folder
 * /w git:foo`), else NULL. */
static int
client_target_index(int argc, char **argv, int command, const char **after_wf)
{
	int first = -1, wf = -1;

	*after_wf = NULL;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--workspace-folder") == 0 && i + 1 < argc) {
			if (first >= 0)
				return -2;
			if (wf < 0)
				wf = i + 1;
			i++;
			continue;
		}
		if (agent_cmd_option_skip(argc, argv, i)) {
			i++;
			continue;
		}
		if (argv[i][0] != '-' && first < 0) {
			if (wf >= 0 && (!command || target_is_remote(argv[i]))) {
				if (command)
					*after_wf = argv[i];
				for (int k = i + 1; k < argc; k++) {
					if (strcmp(argv[k], "--") == 0)
						*after_wf = NULL;
				}
				return -2;
			}
			if (wf >= 0)
				break;
			first = i;
		}
	}
	return wf >= 0 ? wf : first;
}

/* argv with "--workspace-folder=PATH" split in two (so that a remote PATH
 * can be replaced by the host's folder). For a command that takes no
 * COMMAND after "--" (all but exec), "--" ends the options: it is dropped
 * and an argument after it that starts with '-' (a local folder: remote
 * targets never do) becomes "./ARG", which every parser after this one
 * reads as a folder; those strings go to ct->dashed. New array of
 * borrowed strings. */
static char **
client_target_split(
    struct client_target *ct, int argc, char **argv, int command, int *nargc)
{
	char **out = xcalloc((size_t)argc * 2 + 1, sizeof *out);
	int n = 0, ended = 0;

	for (int i = 0; i < argc; i++) {
		if (ended && argv[i][0] == '-') {
			ct->dashed = xreallocarray(
			    ct->dashed, (size_t)ct->ndashed + 1, sizeof *ct->dashed);
			out[n] = xasprintf("./%s", argv[i]);
			ct->dashed[ct->ndashed++] = out[n++];
		} else if (ended)
			out[n++] = argv[i];
		else if (!command && strcmp(argv[i], "--") == 0)
			ended = 1;
		else if (strncmp(argv[i],
			     "--workspace-folder=", sizeof client_target_wf) == 0) {
			out[n++] = client_target_wf;
			out[n++] = argv[i] + sizeof client_target_wf;
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

void
client_warning_add(cJSON *warnings, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	cJSON_AddItemToArray(warnings, cJSON_CreateString(s));
	free(s);
}

int
client_has_flag(int argc, char **argv, const char *flag)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], flag) == 0)
			return 1;
	return 0;
}

/* Take "--host VALUE" (or --host=VALUE) out of argv (before "--"): the
 * value (borrowed from argv), or NULL. */
static const char *
client_take_host(int *argc, char **argv)
{
	const char *v = NULL;
	int i, n;

	for (i = 1; i < *argc && strcmp(argv[i], "--") != 0; i++) {
		n = 0;
		if (strcmp(argv[i], "--host") == 0 && i + 1 < *argc) {
			v = argv[i + 1];
			n = 2;
		} else if (strncmp(argv[i], "--host=", 7) == 0) {
			v = argv[i] + 7;
			n = 1;
		}
		if (n > 0) {
			memmove(argv + i, argv + i + n,
			    (size_t)(*argc - i - n + 1) * sizeof *argv);
			*argc -= n;
			i--;
		}
	}
	return v;
}

/* The index of the first argument after i that is neither an option nor
 * an option's value, before any "--"; -1 if none. */
static int
client_next_positional(int argc, char **argv, int i)
{
	for (i++; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (agent_cmd_option_skip(argc, argv, i)) {
			i++;
			continue;
		}
		if (argv[i][0] != '-')
			return i;
	}
	return -1;
}

/* The hook's check of argv's remote TARGET at i (client_target_hook): the
 * arguments with TARGET, and the SOURCE after `HOST:` or `@POOL`, as ".".
 * CMD_EXIT_OK when there is none or it passes. */
static int
client_target_check(const struct client_target_hook *hook, int argc, char **argv, int i)
{
	static char dot[] = ".";
	struct target t;
	char **v;
	int n = 0, source = -1, rc;

	if (hook == NULL || (hook->check == NULL && hook->parse == NULL))
		return CMD_EXIT_OK;
	/* (a TARGET that does not parse: client_remote_target says why, and
	 * connects to nothing either) */
	if (target_parse(argv[i], &t, NULL) == 0) {
		if (t.kind == TARGET_HOST || t.kind == TARGET_POOL)
			source = client_next_positional(argc, argv, i);
		target_clear(&t);
	}
	v = xcalloc((size_t)argc + 1, sizeof *v);
	for (int k = 0; k < argc; k++) {
		if (k == i)
			v[n++] = dot;
		else if (k != source)
			v[n++] = argv[k];
	}
	if (hook->check != NULL)
		rc = hook->check(n, v, hook->arg);
	else
		rc =
		    agent_cmd_check_with(hook->parse, &client_program, hook->entry, n, v);
	free(v);
	return rc;
}

/* A pool's host that cannot be reached: which one it is, and what to do,
 * by the command: `down` cannot remove what is there (it is removed once
 * the host is back; placing the workspace elsewhere leaves it), `status`
 * cannot tell the state; the others can go to another host. */
static void
client_target_pool_unreachable(
    const struct client_target *ct, const char *name, const char *cause)
{
	const char *pool = ct->pool_name, *src = ct->pool_source, *host = ct->pool_host;

	if (strcmp(name, "down") == 0)
		fprintf(stderr,
		    "rdev: down: %s (@%s %s was placed on %s: its container there, if "
		    "any, stays until %s is back, then `rdev down @%s %s` removes "
		    "it; the placement is kept until then; `rdev up @%s %s --host "
		    "NAME` places it on another host meanwhile, leaving that one)\n",
		    cause, pool, src, host, host, pool, src, pool, src);
	else if (strcmp(name, "status") == 0)
		fprintf(stderr,
		    "rdev: status: %s (@%s %s was placed on %s: its state is unknown "
		    "while %s cannot be reached; `rdev hosts ls --pool %s` shows "
		    "which hosts are up)\n",
		    cause, pool, src, host, host, pool);
	else
		fprintf(stderr,
		    "rdev: %s: %s (@%s %s was placed on %s; `rdev up @%s %s --host "
		    "NAME` places it on another host of the pool, `rdev hosts ls "
		    "--pool %s` shows which are up)\n",
		    name, cause, pool, src, host, pool, src, pool);
}

/* Remember host (NULL: forget) for ct's pool SOURCE (pool-target.h); a
 * failure is a warning: the container is there all the same. */
static void
client_target_pool_remember(struct client_target *ct, const char *host)
{
	char *cause = NULL;

	if (pool_target_remember(ct->pool_name, ct->pool_source, host, &cause) != 0) {
		progress_stderr_line(client_log_json(ct->argc, ct->argv),
		    "rdev: up: warning: cannot remember the host: %s", cause);
		free(cause);
	}
}

/* Is a failed up's details the chosen host's admission refusing it (no
 * room, or the user at the host's maxEnvironmentsPerUser: its errorCode,
 * docs/PROTOCOL.md): no container was made or started? */
static int
client_target_pool_is_refusal(const cJSON *details)
{
	const char *code =
	    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(details, "errorCode"));

	return code != NULL && strcmp(code, "admission-refused") == 0;
}

/* up through a pool refused by the chosen host's admission: *cause gains
 * how to choose another host. */
static void
client_target_pool_refused(struct client_target *ct, char **cause)
{
	char *old = *cause;

	*cause = xasprintf("%s (placed on %s of @%s; `--host NAME` places it on "
			   "another host of the pool)",
	    old, ct->pool_host, ct->pool_name);
	free(old);
}

/* The backend wrapped (ct->inner) when a target needs its answers
 * amended: up's answer through a pool gets the pool entry's name as "host".
 * (An error about a HOST: SOURCE whose folder is not on the host says so
 * in the remote's backend: remote_set_error_note.) */
static int
client_target_wrapped_call(
    void *ctx, cJSON *req, const struct progress *p, cJSON **result, char **cause)
{
	struct client_target *ct = ctx;
	const char *op =
	    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(req, "op"));
	int up = op != NULL && strcmp(op, "up") == 0, rc;
	char *before = NULL;

	/* Remembered before up runs (an rdev killed while up runs may have
	 * made the container: the next up finds it), and put back when up
	 * failed with no container there (its answer names none: a refusal, a
	 * build or configuration error, a cancel before the container was
	 * made, or a link lost: the placement that worked stays). */
	if (ct->pool_host != NULL && up) {
		before = pool_target_remembered_typed(ct->pool_name, ct->pool_source);
		if (before == NULL || strcmp(before, ct->pool_host) != 0)
			client_target_pool_remember(ct, ct->pool_host);
	}
	rc = ct->inner.call(ct->inner.ctx, req, p, result, cause);
	if (ct->pool_host == NULL || !up)
		return rc;
	if (rc == 0 && cJSON_IsObject(*result)) {
		cJSON_DeleteItemFromObjectCaseSensitive(*result, "host");
		cJSON_AddStringToObject(*result, "host", ct->pool_host);
	}
	if (rc == 0 && before != NULL && strcmp(before, ct->pool_host) != 0) {
		free(ct->pool_moved_from);
		ct->pool_moved_from = before;
		before = NULL;
	}
	if (rc != 0 &&
	    !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(*result, "containerId"))) {
		if (before == NULL || strcmp(before, ct->pool_host) != 0)
			client_target_pool_remember(ct, before);
		if (cause != NULL && *cause != NULL &&
		    client_target_pool_is_refusal(*result))
			client_target_pool_refused(ct, cause);
	}
	free(before);
	return rc;
}

static int
client_target_wrapped_exec(
    void *ctx, const char *prog_name, const struct agent_exec_req *req)
{
	struct client_target *ct = ctx;

	return ct->inner.exec(ct->inner.ctx, prog_name, req);
}

/* The remote of ct->t with ro into ct->remote, its backend into ct->be,
 * shown as ro->target; through a pool, wrapped (ct->inner) so that up's
 * answer names the pool's host. */
static void
client_target_backend(struct client_target *ct, const struct remote_opts *ro)
{
	ct->remote = remote_new(&ct->t, ro);
	remote_backend(ct->remote, &ct->be);
	if (ct->pool_host != NULL) {
		ct->inner = ct->be;
		ct->be.call = client_target_wrapped_call;
		ct->be.exec = client_target_wrapped_exec;
		ct->be.ctx = ct;
	}
	ct->be.shown = ro->target;
}

/* A pool entry's host as a remote for broker requests (client.h). */
struct remote *
client_pool_remote(const char *name, char **cause)
{
	struct remote_opts ro = { .quiet = 1, .batch = 1 };
	struct remote *r;
	struct target t;

	if (pool_probe_target(name, "~", &t, cause) != 0)
		return NULL;
	/* (as pool_target_resolve's: the host alone, as HOST: SOURCE's) */
	t.kind = TARGET_HOST;
	free(t.path);
	t.path = NULL;
	r = remote_new(&t, &ro);
	target_clear(&t);
	return r;
}

/* A pool workspace moved by this up: stop the broker's sync and forwards
 * on the host it left (client.h); by name, the old host's workspace root
 * being its own. */
void
client_target_pool_leave(struct client_target *ct, int sync, cJSON *warnings, char **note)
{
	const char *old = ct->pool_moved_from, *words[5];
	struct remote *r;
	char *cause = NULL, *what, *hint = NULL, *pool;
	int synced, n;

	*note = NULL;
	if (old == NULL || ct->src.name == NULL)
		return;
	if ((r = client_pool_remote(old, &cause)) == NULL) {
		client_warning_add(warnings, "%s", cause);
		free(cause);
		return;
	}
	synced = ct->src.kind == SOURCE_LOCAL &&
	    sync_kept_stop_name(r, ct->src.name, &cause) == 1;
	if (cause != NULL) /* (the old host's sync may run on: said) */
		client_warning_add(warnings,
		    "%s: the sync kept for %s there could not be stopped: %s", old,
		    ct->pool_source, cause);
	free(cause);
	n = client_unforward_source(r, ct->src.name, warnings);
	remote_free(r);
	if (!synced && n == 0)
		return;
	if (synced && sync)
		hint = xasprintf(" (this up's --sync starts it on %s)", ct->pool_host);
	else if (synced) {
		pool = xasprintf("@%s", ct->pool_name);
		words[0] = "rdev";
		words[1] = "up";
		words[2] = pool;
		words[3] = ct->pool_source;
		words[4] = NULL;
		what = shell_quote_argv(words, SHELL_QUOTE_HINT);
		hint = xasprintf(" (`%s --sync` starts it on %s)", what, ct->pool_host);
		free(what);
		free(pool);
	}
	what = n == 0 ? xstrdup("")
		      : xasprintf("%s%d forward%s", synced ? " and its " : "its ", n,
			    n == 1 ? "" : "s");
	*note = xasprintf("rdev: up: @%s %s moved from %s to %s: stopped %s%s on %s%s",
	    ct->pool_name, ct->pool_source, old, ct->pool_host,
	    synced ? "the broker's sync of its folder" : "", what, old,
	    hint != NULL ? hint : "");
	free(what);
	free(hint);
}

/* HOST:PATH (arg, parsed into t) whose PATH is a folder here too, the
 * user's perhaps, meant to be uploaded: what an error saying the host has
 * no such folder ends with, the command that uploads it. New string, or
 * NULL (none here; ~ and ssh:// name the host's paths only). */
char *
client_target_here_note(const char *arg, const struct target *t)
{
	const char *words[5];
	char *host, *q, *note;
	size_t n, m;
	struct stat st;

	if (t->kind != TARGET_SSH || t->path == NULL || t->path[0] == '~' ||
	    strncmp(arg, "ssh://", 6) == 0 || stat(t->path, &st) != 0 ||
	    !S_ISDIR(st.st_mode))
		return NULL;
	n = strlen(arg);
	m = strlen(t->path);
	if (n <= m || strcmp(arg + n - m, t->path) != 0 || arg[n - m - 1] != ':')
		return NULL;
	host = xstrndup(arg, n - m);
	words[0] = "rdev";
	words[1] = "up";
	words[2] = host;
	words[3] = t->path;
	words[4] = NULL;
	q = shell_quote_argv(words, SHELL_QUOTE_HINT);
	note = xasprintf(" (%s exists here: to upload it use `%s`)", t->path, q);
	free(q);
	free(host);
	return note;
}

/* A remote TARGET at argv[i]: parse it into ct->t; a pool's (@POOL SOURCE,
 * SOURCE at *source_i) resolved to its host. 0, or an exit code after
 * printing why not. */
static int
client_remote_target(const char *name, int argc, char **argv, int i, unsigned flags,
    const char *host, int accept_new, struct client_target *ct, int *source_i)
{
	struct pool_target_req req = { 0 };
	char *cause = NULL;

	*source_i = -1;
	if (target_parse(argv[i], &ct->t, &cause) != 0) {
		fprintf(stderr, "rdev: %s: %s\n", name, cause);
		free(cause);
		return CMD_EXIT_USAGE;
	}
	if (ct->t.kind != TARGET_POOL) {
		if (host == NULL)
			return 0;
		fprintf(stderr, "rdev: %s: --host is for @POOL targets\n", name);
		return CMD_EXIT_USAGE;
	}
	if ((*source_i = client_next_positional(argc, argv, i)) < 0) {
		fprintf(stderr, "rdev: %s: %s needs a SOURCE: %s %s SOURCE\n", name,
		    argv[i], name, argv[i]);
		return CMD_EXIT_USAGE;
	}
	req.cmd = name;
	req.source = argv[*source_i];
	req.config = client_config_arg(argc, argv);
	req.host = host;
	req.place = (flags & CLIENT_TARGET_PLACE) != 0;
	req.accept_new_host_key = accept_new;
	req.pool = argv[i] + 1; /* (ct->t is replaced by the host's target) */
	ct->pool_name = req.pool;
	ct->pool_source = req.source;
	target_clear(&ct->t);
	return pool_target_resolve(&req, &ct->t, &ct->pool_host);
}

/* HOST: SOURCE with a local folder: a --config that names a file in that
 * folder (as this machine resolves it: relative to the working directory)
 * names the host's copy of it in ct->argv, so that `rdev up HOST: ./app
 * --config ./app/.devcontainer/other.json` reads the file it names; any
 * other value (a path on the host) is passed on as given. */
static void
client_target_map_config(struct client_target *ct, const char *folder)
{
	const char *value;
	char *real;
	size_t n;

	if (ct->src.kind != SOURCE_LOCAL || ct->src.path == NULL)
		return;
	for (int k = 1; k < ct->argc && strcmp(ct->argv[k], "--") != 0; k++) {
		int joined = strncmp(ct->argv[k], "--config=", 9) == 0;

		if (!joined &&
		    (strcmp(ct->argv[k], "--config") != 0 || k + 1 >= ct->argc))
			continue;
		value = joined ? ct->argv[k] + 9 : ct->argv[k + 1];
		if ((real = realpath(value, NULL)) == NULL)
			return;
		n = strlen(ct->src.path);
		if (strncmp(real, ct->src.path, n) == 0 && real[n] == '/') {
			ct->config_on_host = xasprintf(
			    "%s%s/%s", joined ? "--config=" : "", folder, real + n + 1);
			ct->argv[joined ? k : k + 1] = ct->config_on_host;
		}
		free(real);
		return;
	}
}

/* HOST: SOURCE (a local folder) that is not on the host: the host's
 * workspaces of folders this machine uploaded and no longer has (moved or
 * renamed: the same folder's new path names another), each with where it
 * came from and the command (as name, with HOST:FOLDER) that reaches it:
 * "; on that host, uploads of folders no longer here: ...". New string, or
 * NULL (none). */
static char *
client_target_gone(const char *name, struct client_target *ct, const char *host_arg)
{
	char *host = remote_host_key(ct->remote);
	struct source s = { .kind = SOURCE_LOCAL };
	char **names, **origins, *folder, *cause, *cmd, *q, *oq;
	const char *words[4];
	struct buf *b = NULL;
	char *out = NULL;
	size_t n;
	int exists, shown = 0;

	if (ct->src.kind != SOURCE_LOCAL) {
		free(host);
		return NULL;
	}
	/* (one request each: the newest few; rdev's records are pruned as
	 * their host folders go) */
	source_gone(host, CLIENT_TARGET_GONE_MAX, &names, &origins, &n);
	for (size_t k = 0; k < n; k++) {
		s.name = names[k];
		folder = cause = NULL;
		exists = 0;
		if (strcmp(names[k], ct->src.name) == 0 ||
		    source_folder(ct->remote, &s, &folder, &exists, &cause) != 0 ||
		    !exists) {
			/* (gone here and there: nothing to list, ever) */
			if (cause == NULL && folder != NULL && !exists)
				source_gone_forget(names[k], host);
			free(folder);
			free(cause);
			continue;
		}
		if (b == NULL) {
			b = buf_new();
			buf_appendf(b,
			    "; on that host, uploads of folders no "
			    "longer here:");
		}
		cmd = xasprintf("%s%s", host_arg, folder);
		words[0] = "rdev";
		words[1] = name;
		words[2] = cmd;
		words[3] = NULL;
		q = shell_quote_argv(words, SHELL_QUOTE_HINT);
		words[0] = origins[k];
		words[1] = NULL;
		oq = shell_quote_argv(words, SHELL_QUOTE_HINT);
		buf_appendf(
		    b, "%s %s from %s (`%s`)", shown++ > 0 ? "," : "", folder, oq, q);
		free(oq);
		free(q);
		free(cmd);
		free(folder);
	}
	source_gone_free(names, origins, n);
	free(host);
	if (b != NULL)
		out = buf_take_string(b, NULL);
	buf_free(b);
	return out;
}

/* remote_set_error_note_fn's for ct (HOST: SOURCE not on the host): its
 * missing note with client_target_gone's listing. New string, or NULL
 * (nothing to list: the note as it is). */
static char *
client_target_missing_note(void *arg)
{
	struct client_target *ct = arg;
	char *gone = client_target_gone(ct->gone_name, ct, ct->gone_host_arg), *note;

	if (gone == NULL)
		return NULL;
	note = xasprintf(" (%s is not on that host yet: `rdev up %s` puts it there%s)",
	    ct->src.text, ct->typed_q, gone);
	free(gone);
	return note;
}

/* HOST: SOURCE at argv[i] and the SOURCE after it: parse the source, send
 * it (CLIENT_TARGET_SEND) or find its folder, which then stands for both
 * in ct->argv. CMD_EXIT_OK, or an exit code after printing why not. */
static int
client_target_source(const char *name, struct client_target *ct, int i,
    struct remote_opts *ro, unsigned flags)
{
	char *cause = NULL, *folder = NULL;
	int j = client_next_positional(ct->argc, ct->argv, i), exists = 1, n, send;
	struct source_send_opts so = { .quiet = ro->quiet, .json_log = ro->json_log };

	if (j < 0) {
		fprintf(stderr,
		    "rdev: %s: '%s' names a host only: a SOURCE (a local folder or "
		    "a git URL) must follow it\n",
		    name, ct->argv[i]);
		return CMD_EXIT_USAGE;
	}
	if (source_parse(ct->argv[j], NULL, &ct->src, &cause) != 0) {
		fprintf(stderr, "rdev: %s: %s\n", name, cause);
		free(cause);
		return CMD_EXIT_USAGE;
	}
	if ((flags & CLIENT_TARGET_LOCAL_SOURCE) && ct->src.kind != SOURCE_LOCAL) {
		fprintf(stderr,
		    "rdev: %s: --sync needs a local folder as SOURCE: '%s' is a git "
		    "URL (its clone lives on the host)\n",
		    name, ct->argv[j]);
		return CMD_EXIT_USAGE;
	}
	ct->typed = xasprintf("%s %s", ct->argv[i], ct->argv[j]);
	ro->target = ct->typed;
	ct->typed_words[0] = ct->argv[i];
	ct->typed_words[1] = ct->argv[j];
	ct->typed_words[2] = NULL;
	ro->target_words = ct->typed_words;
	ct->typed_q = shell_quote_argv(ct->typed_words, SHELL_QUOTE_HINT);
	ct->shown = client_source_shown(ct->argv[i], &ct->src);
	ro->shown = ct->shown;
	client_target_backend(ct, ro);
	so.scan_flags = ((flags & CLIENT_TARGET_SEND_GIT) ? SYNC_SCAN_GIT : 0) |
	    ((flags & CLIENT_TARGET_SEND_GITIGNORE) ? SYNC_SCAN_GITIGNORE : 0);
	if (flags & CLIENT_TARGET_KEEP_SCAN) {
		so.scan = &ct->sent_scan;
		/* (a live sync follows: an entry that cannot land yet is sent
		 * again by it, and does not keep the watch from starting) */
		so.entry_errors = 1;
	}
	so.keep_host_changes = (flags & CLIENT_TARGET_SEND_KEEP_HOST) != 0;
	so.hold = (flags & CLIENT_TARGET_SEND_HOLD) != 0;
	send = (flags & CLIENT_TARGET_SEND) ||
	    ((flags & CLIENT_TARGET_SEND_LOCAL) && ct->src.kind == SOURCE_LOCAL);
	/* (before the upload: an edit made during it is then seen as one) */
	if (send)
		client_lockfile_remember(ct);
	if (send && ct->src.kind == SOURCE_LOCAL && ct->hook != NULL &&
	    ct->hook->before_send != NULL) {
		/* (the arguments as below, the local folder for the host's) */
		char **after = xcalloc((size_t)ct->argc + 1, sizeof *after);
		int m = 0;

		for (int k = 0; k < ct->argc; k++) {
			if (k == i)
				after[m++] = ct->src.path;
			else if (k != j)
				after[m++] = ct->argv[k];
		}
		n = ct->hook->before_send(ct, m, after, ct->hook->arg);
		free(after);
		if (n != CMD_EXIT_OK)
			return n;
	}
	if (send ? source_send(ct->remote, &ct->src, &so, &folder, &ct->sent, &cause)
		 : source_folder(ct->remote, &ct->src, &folder, &exists, &cause)) {
		progress_quiet_show(); /* -q: what explains it (ssh config notes) */
		if (ct->pool_host != NULL && remote_conn(ct->remote) == NULL)
			client_target_pool_unreachable(ct, name, cause);
		else
			fprintf(stderr, "rdev: %s: %s\n", name, cause);
		free(cause);
		return CMD_EXIT_FAILURE;
	}
	ct->t.path = folder;
	if (send && ct->src.kind == SOURCE_LOCAL)
		remote_set_copy(ct->remote, folder, ct->src.path);
	if (!send && !exists) {
		ct->missing = xasprintf(" (%s is not on that host yet: `rdev up "
					"%s` puts it there)",
		    ct->src.text, ct->typed_q);
		/* (the remote's calls and execs end their errors with it; the
		 * listing of moved folders costs requests: made only then) */
		remote_set_error_note(ct->remote, ct->missing);
		ct->gone_name = name;
		ct->gone_host_arg = xstrdup(ct->argv[i]);
		remote_set_error_note_fn(ct->remote, client_target_missing_note, ct);
	}
	client_target_map_config(ct, folder);
	for (int k = n = 0; k < ct->argc; k++) {
		if (k == i)
			ct->argv[n++] = folder;
		else if (k != j)
			ct->argv[n++] = ct->argv[k];
	}
	ct->argv[n] = NULL;
	ct->argc = n;
	return CMD_EXIT_OK;
}

int
client_target_open(
    const char *name, int argc, char **argv, unsigned flags, struct client_target *ct)
{
	return client_target_open_hook(name, argc, argv, flags, NULL, ct);
}

static int
client_target_open_any(const char *name, int argc, char **argv, unsigned flags,
    const struct client_target_hook *hook, struct client_target *ct)
{
	struct remote_opts ro = { 0 };
	const char *host, *after_wf;
	int i, n, rc, source_i;

	memset(ct, 0, sizeof *ct);
	ct->hook = hook;
	ro.accept_new_host_key = client_take_flag(&argc, argv, "--accept-new-host-key");
	ct->argv = client_target_split(
	    ct, argc, argv, (flags & CLIENT_TARGET_COMMAND) != 0, &ct->argc);
	host = client_take_host(&ct->argc, ct->argv);
	argc = ct->argc;
	argv = ct->argv;
	if ((i = client_target_index(
		 argc, argv, (flags & CLIENT_TARGET_COMMAND) != 0, &after_wf)) == -2) {
		/* (worded as the usage errors of cmd_usage_error; exec's
		 * `--workspace-folder /w git:foo` meant git:foo as the command) */
		if (after_wf != NULL)
			fprintf(stderr,
			    "rdev %s: give a TARGET or --workspace-folder, not both: "
			    "'%s' is a remote TARGET's form (a command of that form "
			    "goes after --) (see `rdev %s --help`)\n",
			    name, after_wf, name);
		else
			fprintf(stderr,
			    "rdev %s: give a TARGET or --workspace-folder, not "
			    "both (see `rdev %s --help`)\n",
			    name, name);
		client_target_close(ct);
		return CMD_EXIT_USAGE;
	}
	/* (a local TARGET's --host was ignored: a remote one's is refused
	 * below, for all but @POOL) */
	if (host != NULL && (i < 0 || !target_is_remote(argv[i]))) {
		fprintf(stderr, "rdev: %s: --host is for @POOL targets\n", name);
		client_target_close(ct);
		return CMD_EXIT_USAGE;
	}
	if ((flags & CLIENT_TARGET_LOCAL_SOURCE) &&
	    (i < 0 || !target_is_remote(argv[i]))) {
		fprintf(stderr,
		    "rdev: %s: --sync is for HOST: SOURCE (a host, then a local "
		    "folder): '%s' is on this machine already\n",
		    name, i < 0 ? "." : argv[i]);
		client_target_close(ct);
		return CMD_EXIT_USAGE;
	}
	if ((flags & CLIENT_TARGET_NO_FOLDER) && i >= 0 && !target_is_remote(argv[i])) {
		/* (`rdev ls buildbox`: a host typed without its colon; this
		 * machine's list takes no argument. A path (`rdev ls ./app`)
		 * is no host: no HOST: to suggest for it) */
		if (strchr(argv[i], '/') != NULL || argv[i][0] == '.' ||
		    argv[i][0] == '~')
			fprintf(stderr,
			    "rdev: %s: '%s' is not a remote target, and this "
			    "machine's %s takes no folder: name a host (HOST:), "
			    "or no TARGET (see `rdev %s --help`)\n",
			    name, argv[i], name, name);
		else
			fprintf(stderr,
			    "rdev: %s: '%s' is not a remote target: name a host "
			    "with its colon ('%s:'), or no TARGET for this machine "
			    "(see `rdev %s --help`)\n",
			    name, argv[i], argv[i], name);
		client_target_close(ct);
		return CMD_EXIT_USAGE;
	}
	if (i >= 0 && target_is_remote(argv[i]) &&
	    (rc = client_target_check(hook, argc, argv, i)) != CMD_EXIT_OK) {
		client_target_close(ct);
		return rc;
	}
	if (i < 0 || !target_is_remote(argv[i])) {
		char *cause = NULL;

		ct->be = agent_backend_local;
		/* (a folder that cannot be resolved: the command says why) */
		ct->local_folder =
		    config_discover_resolve(NULL, i < 0 ? "." : argv[i], &cause);
		free(cause);
		return CMD_EXIT_OK;
	}
	if ((rc = client_remote_target(name, argc, argv, i, flags, host,
		 ro.accept_new_host_key, ct, &source_i)) != 0) {
		client_target_close(ct);
		return rc;
	}
	ro.quiet = (flags & CLIENT_TARGET_QUIET) || client_has_flag(argc, argv, "--json");
	ro.json_log = client_log_json(argc, argv);
	if (ct->t.kind == TARGET_HOST && !(flags & CLIENT_TARGET_NO_FOLDER)) {
		ct->target_arg = argv[i];
		if ((rc = client_target_source(name, ct, i, &ro, flags)) != CMD_EXIT_OK)
			client_target_close(ct);
		return rc;
	}
	if (flags & CLIENT_TARGET_LOCAL_SOURCE) {
		fprintf(stderr,
		    "rdev: %s: --sync is for HOST: SOURCE (a host, then a local "
		    "folder): '%s' names no local folder to watch\n",
		    name, argv[i]);
		client_target_close(ct);
		return CMD_EXIT_USAGE;
	}
	ro.target = ct->typed != NULL ? ct->typed : argv[i];
	ct->target_arg = argv[i];
	if (ct->pool_host == NULL)
		ro.missing_note = ct->here_note =
		    client_target_here_note(argv[i], &ct->t);
	client_target_backend(ct, &ro);
	/* The command on the remote side: the target's entry is the host's
	 * folder, or gone for a command that takes none; a pool's SOURCE
	 * goes with it. A folder that starts with '-' (HOST:-dash) goes as
	 * --workspace-folder's value: every parser after this one would take
	 * it for an option. (A new array: it may be one longer.) */
	ct->argv = xcalloc((size_t)argc + 2, sizeof *ct->argv);
	for (int k = n = 0; k < argc; k++) {
		if (k == source_i)
			continue;
		if (k != i)
			ct->argv[n++] = argv[k];
		else if (!(flags & CLIENT_TARGET_NO_FOLDER)) {
			if (ct->t.path != NULL && ct->t.path[0] == '-' &&
			    (k == 0 || strcmp(argv[k - 1], "--workspace-folder") != 0))
				ct->argv[n++] = client_target_wf;
			ct->argv[n++] = ct->t.path;
		}
	}
	free(argv);
	ct->argv[n] = NULL;
	ct->argc = n;
	return CMD_EXIT_OK;
}

int
client_target_open_hook(const char *name, int argc, char **argv, unsigned flags,
    const struct client_target_hook *hook, struct client_target *ct)
{
	int rc = client_target_open_any(name, argc, argv, flags, hook, ct);

	/* (exec's script cannot tell rdev's 1 from its command's) */
	if (rc == CMD_EXIT_FAILURE && (flags & CLIENT_TARGET_EXEC))
		rc = AGENT_EXIT_EXEC_FAILED;
	return rc;
}

char *
client_source_shown(const char *host_arg, const struct source *src)
{
	return xasprintf("%s %s", host_arg,
	    src->kind == SOURCE_LOCAL && src->path != NULL ? src->path : src->text);
}

void
client_target_close(struct client_target *ct)
{
	remote_free(ct->remote);
	free(ct->shown);
	target_clear(&ct->t);
	free(ct->pool_host);
	free(ct->pool_moved_from);
	source_clear(&ct->src);
	free(ct->typed);
	free(ct->typed_q);
	free(ct->missing);
	free(ct->gone_host_arg);
	free(ct->here_note);
	free(ct->local_folder);
	free(ct->argv);
	free(ct->config_on_host);
	for (int k = 0; k < ct->ndashed; k++)
		free(ct->dashed[k]);
	free(ct->dashed);
	sync_scan_free(ct->sent_scan);
	sync_send_failed_free(&ct->sent);
	free(ct->lock_sent.config);
	free(ct->lock_sent.rel);
	free(ct->lock_sent.text);
	memset(ct, 0, sizeof *ct);
}
