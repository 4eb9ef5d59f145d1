/* remote.c - a remote target's agent through the broker (remote.h). */
#include "remote.h"

#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "agent-ops.h"
#include "owner.h"
#include "progress.h"
#include "progress-view.h"
#include "source.h"
#include "broker-client.h"
#include "clock.h"
#include "error.h"
#include "tty-prompt.h"
#include "xmalloc.h"

/* How long a cancelled request may take to confirm it has stopped (the
 * agent gives an operation 5 s between SIGINT and SIGKILL). */
#define REMOTE_CANCEL_WAIT_MS 10000

struct remote {
	struct target t;
	struct remote_opts o;
	struct proto_conn *conn;
	int next_id;
	/* remote_set_error_note_fn's, until called; what it made (owned) */
	char *(*note_fn)(void *arg);
	void *note_arg;
	char *note_made;
	/* a prompt of the broker's was cancelled (batch) since the last
	 * remote_connect_by began */
	int prompt_refused;
	/* the last remote_connect_by gave up at its deadline */
	int deadline_met;
};

struct remote *
remote_new(const struct target *t, const struct remote_opts *o)
{
	struct remote *r = xcalloc(1, sizeof *r);

	r->t.kind = t->kind;
	r->t.user = t->user != NULL ? xstrdup(t->user) : NULL;
	r->t.host = t->host != NULL ? xstrdup(t->host) : NULL;
	r->t.port = t->port;
	r->t.path = t->path != NULL ? xstrdup(t->path) : NULL;
	r->o = *o;
	r->next_id = 1;
	return r;
}

void
remote_free(struct remote *r)
{
	if (r == NULL)
		return;
	proto_conn_free(r->conn);
	target_clear(&r->t);
	free(r->note_made);
	free(r);
}

void
remote_reset(struct remote *r)
{
	proto_conn_free(r->conn);
	r->conn = NULL;
}

struct proto_conn *
remote_conn(struct remote *r)
{
	return r->conn;
}

int
remote_next_id(struct remote *r)
{
	return r->next_id++;
}

static void
remote_on_progress(void *arg, const char *text)
{
	const struct progress *p = arg;

	if (p != NULL)
		progress_write(p, text, strlen(text));
}

static void
remote_progress_stderr(void *arg, const char *data, size_t len)
{
	if (progress_quiet()) {
		progress_quiet_keep(data, len);
		return;
	}
	if (fwrite(data, 1, len, stderr) != len) {
		/* best effort */
	}
}

/* What shows a connect's progress: all of it, only its warnings (quiet:
 * an ssh config option not honoured is never ignored silently), or
 * nothing (silent). p is filled in; the answer is p or NULL. */
static const struct progress *
remote_connect_progress(const struct remote *r, struct progress *p)
{
	*p = (struct progress){ .fn = remote_progress_stderr,
		.json = r != NULL && r->o.json_log };
	if (r != NULL && r->o.silent)
		return NULL;
	if (r != NULL && r->o.quiet)
		p->fn = agent_cmd_progress_warnings;
	return p;
}

/* An absolute path from an environment variable (the broker runs in /). */
static void
remote_add_path_env(cJSON *req, const char *field, const char *env)
{
	const char *v = getenv(env);
	char abs[PATH_MAX];

	if (v == NULL || *v == '\0')
		return;
	if (realpath(v, abs) != NULL)
		cJSON_AddStringToObject(req, field, abs);
	else
		cJSON_AddStringToObject(req, field, v);
}

/* Our ssh-agent, as "authSock" (absolute; the broker may have been started
 * from another login, with another agent or none). Not resolved: a symlink
 * kept up to date by the user's login stays valid for later reconnects. */
static void
remote_add_auth_sock(cJSON *req)
{
	const char *v = getenv("SSH_AUTH_SOCK");
	char cwd[PATH_MAX], *abs;

	if (v == NULL || *v == '\0')
		return;
	if (*v == '/') {
		cJSON_AddStringToObject(req, "authSock", v);
		return;
	}
	if (getcwd(cwd, sizeof cwd) == NULL)
		return;
	abs = xasprintf("%s/%s", cwd, v);
	cJSON_AddStringToObject(req, "authSock", abs);
	free(abs);
}

/* The broker asks for an SSH passphrase or password: ask on our terminal. */
static int
remote_prompt(void *arg, const char *text, int echo, char **answer)
{
	char buf[1024];
	int rc;

	rc = tty_prompt_read(text, buf, sizeof buf, echo);
	if (rc == 0)
		*answer = xstrdup(buf);
	sodium_memzero(buf, sizeof buf);
	return rc;
}

/* The broker asks for an SSH passphrase or password of a batch remote:
 * cancelled, and remembered (remote_prompt_refused). */
static int
remote_prompt_refuse(void *arg, const char *text, int echo, char **answer)
{
	struct remote *r = arg;

	r->prompt_refused = 1;
	return -1;
}

/* A broker request about r's host: {"id":1,"op":op,"host",...}; r NULL:
 * about this machine's engine, {"id":1,"op":op,"engine":"local"}. */
static cJSON *
remote_host_request(struct remote *r, const char *op)
{
	cJSON *req = cJSON_CreateObject();

	cJSON_AddNumberToObject(req, "id", 1);
	cJSON_AddStringToObject(req, "op", op);
	if (r == NULL) {
		cJSON_AddStringToObject(req, "engine", "local");
		return req;
	}
	cJSON_AddStringToObject(req, "host", r->t.host);
	if (r->t.user != NULL)
		cJSON_AddStringToObject(req, "user", r->t.user);
	if (r->t.port != 0)
		cJSON_AddNumberToObject(req, "port", r->t.port);
	remote_add_path_env(req, "sshConfig", "RDEV_SSH_CONFIG");
	remote_add_path_env(req, "knownHosts", "RDEV_KNOWN_HOSTS");
	remote_add_auth_sock(req);
	cJSON_AddBoolToObject(req, "acceptNewHostKey", r->o.accept_new_host_key);
	return req;
}

cJSON *
remote_host_json(struct remote *r)
{
	cJSON *o = remote_host_request(r, "agent");

	cJSON_DeleteItemFromObjectCaseSensitive(o, "id");
	cJSON_DeleteItemFromObjectCaseSensitive(o, "op");
	return o;
}

/* A broker that died after our HELLO but before its answer (killed while
 * we talked to it, as after `kill -9` of a broker whose socket still took the
 * connection) is replaced once: `rdev-broker start`, then the caller tries
 * again. Returns 1 to try again (*cause cleared), 0 not. */
static int
remote_retry_broker(struct proto_conn *c, long long deadline, int *attempts, char **cause)
{
	/* (not after deadline, clock_now_ms, 0: none: a start can take ~10 s
	 * while the old broker exits) */
	if (c == NULL || !proto_conn_peer_gone(c) ||
	    (deadline > 0 && clock_now_ms() >= deadline) || (*attempts)++ > 0)
		return 0;
	free(*cause);
	*cause = NULL;
	if (broker_client_start(cause) != 0)
		return 0;
	return 1;
}

int
remote_broker_call(
    struct remote *r, const char *op, cJSON *fields, cJSON **result, char **cause)
{
	struct progress stderr_progress;
	const struct progress *shown = remote_connect_progress(r, &stderr_progress);
	struct proto_conn *c;
	cJSON *req = remote_host_request(r, op), *item;
	int rc, attempts = 0;

	*result = NULL;
	while (fields != NULL && (item = fields->child) != NULL) {
		cJSON_DetachItemViaPointer(fields, item);
		cJSON_DeleteItemFromObjectCaseSensitive(req, item->string);
		cJSON_AddItemToObject(req, item->string, item);
	}
	cJSON_Delete(fields);
	for (;;) {
		if (broker_client_connect(1, "rdev " RDEV_VERSION, &c, NULL, cause) !=
		    0) {
			cJSON_Delete(req);
			return -1;
		}
		proto_conn_set_prompt(c, remote_prompt, NULL);
		rc = proto_conn_request(c, cJSON_Duplicate(req, 1), remote_on_progress,
		    (void *)shown, result, NULL, cause);
		if (rc == 0 || !remote_retry_broker(c, 0, &attempts, cause))
			break;
		cJSON_Delete(*result);
		*result = NULL;
		proto_conn_free(c);
	}
	proto_conn_free(c);
	cJSON_Delete(req);
	return rc;
}

/* remote_connect, one try, giving up at deadline (0: never); on failure *c
 * is the broken connection (the caller frees it) or NULL. */
static int
remote_connect_once(
    struct remote *r, long long deadline, struct proto_conn **c, char **cause)
{
	struct progress stderr_progress;
	const struct progress *shown = remote_connect_progress(r, &stderr_progress);
	cJSON *req, *result = NULL;
	uint32_t version;

	if (broker_client_connect_by(1, "rdev " RDEV_VERSION, deadline, c, NULL, cause) !=
	    0)
		return -1;
	if (r->o.batch)
		proto_conn_set_prompt(*c, remote_prompt_refuse, r);
	else
		proto_conn_set_prompt(*c, remote_prompt, NULL);
	req = remote_host_request(r, "agent");
	if (proto_conn_request(
		*c, req, remote_on_progress, (void *)shown, &result, NULL, cause) != 0) {
		cJSON_Delete(result);
		return -1;
	}
	cJSON_Delete(result);
	/* The connection now reaches the agent. */
	return proto_conn_handshake(*c, "rdev " RDEV_VERSION, &version, cause);
}

int
remote_connect(struct remote *r, char **cause)
{
	return remote_connect_by(r, 0, cause);
}

int
remote_connect_by(struct remote *r, long long deadline, char **cause)
{
	struct proto_conn *c = NULL;
	int attempts = 0;

	if (r->conn != NULL)
		return 0;
	r->prompt_refused = 0;
	r->deadline_met = 0;
	for (;;) {
		if (remote_connect_once(r, deadline, &c, cause) == 0) {
			/* (the bound was the connect's, not the session's) */
			proto_conn_set_deadline(c, 0);
			r->conn = c;
			return 0;
		}
		if (!remote_retry_broker(c, deadline, &attempts, cause))
			break;
		proto_conn_free(c);
		c = NULL;
	}
	r->deadline_met = c != NULL && proto_conn_deadline_met(c);
	proto_conn_free(c);
	return -1;
}

int
remote_deadline_met(const struct remote *r)
{
	return r->deadline_met;
}

/* The signal (SIGINT/SIGTERM) that interrupted the request we wait for. */
static volatile sig_atomic_t remote_interrupted;

static void
remote_on_interrupt(int sig)
{
	if (remote_interrupted != 0)
		_exit(128 + sig); /* the second one: stop waiting for the cancel */
	remote_interrupted = sig;
}

/* Request id (op) was interrupted by ^C or SIGTERM: ask the agent to cancel
 * it, wait (a bounded time, printing its progress) until it has, and exit as
 * a program killed by that signal would. A second signal exits at once; the
 * broker then drops the agent's channel, which cancels the request too. */
static void __attribute__((noreturn))
remote_cancel(struct remote *r, int id, const char *op, const struct progress *p)
{
	int sig = remote_interrupted, status = 0, rc = -1;
	cJSON *req = cJSON_CreateObject(), *result = NULL;
	char *cause = NULL;

	cJSON_AddNumberToObject(req, "id", remote_next_id(r));
	cJSON_AddStringToObject(req, "op", "cancel");
	cJSON_AddNumberToObject(req, "request", id);
	if (proto_conn_send_request(r->conn, req, &cause) == 0)
		rc = proto_conn_response(r->conn, id, remote_on_progress, (void *)p,
		    REMOTE_CANCEL_WAIT_MS, NULL, &result, &status, &cause);
	/* (a terminal's step line, still updating, is finished first) */
	if (p != NULL && p->fn == progress_view_sink)
		progress_view_cancel(p->arg);
	if (rc == 0)
		fprintf(stderr,
		    "rdev: %s: cancelled, but it had finished on %s already\n", op,
		    r->t.host);
	else if (status == 130)
		fprintf(stderr, "rdev: %s: cancelled\n", op);
	else
		fprintf(stderr, "rdev: %s: cancelled (%s: %s)\n", op, r->t.host, cause);
	cJSON_Delete(result);
	free(cause);
	exit(128 + sig);
}

int
remote_request(struct remote *r, cJSON *request, const struct progress *p, cJSON **result,
    int *exit_status, char **cause)
{
	struct sigaction sa, old_int, old_term;
	const cJSON *opj = cJSON_GetObjectItemCaseSensitive(request, "op");
	char *op = xstrdup(cJSON_IsString(opj) ? opj->valuestring : "request");
	int id, rc;

	*result = NULL;
	if (exit_status != NULL)
		*exit_status = 1;
	if (remote_connect(r, cause) != 0) {
		cJSON_Delete(request);
		free(op);
		return -1;
	}
	id = remote_next_id(r);
	cJSON_DeleteItemFromObjectCaseSensitive(request, "id");
	cJSON_AddNumberToObject(request, "id", id);
	/* While the agent works, ^C and SIGTERM cancel the operation there
	 * (unless ignored, as in a background job of a script). */
	remote_interrupted = 0;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = remote_on_interrupt;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, NULL, &old_int);
	sigaction(SIGTERM, NULL, &old_term);
	if (old_int.sa_handler != SIG_IGN)
		sigaction(SIGINT, &sa, NULL);
	if (old_term.sa_handler != SIG_IGN)
		sigaction(SIGTERM, &sa, NULL);
	rc = proto_conn_send_request(r->conn, request, cause);
	if (rc == 0)
		rc = proto_conn_response(r->conn, id, remote_on_progress, (void *)p, -1,
		    &remote_interrupted, result, exit_status, cause);
	if (rc == -2)
		remote_cancel(r, id, op, p);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	if (remote_interrupted != 0)
		raise(remote_interrupted); /* came with the answer: as before */
	free(op);
	if (rc != 0 && !proto_conn_fatal_named(r->conn))
		return error_prefix(cause, "%s", r->t.host);
	return rc != 0 ? -1 : 0;
}

void
remote_set_batch(struct remote *r, int batch)
{
	r->o.batch = batch;
}

int
remote_set_quiet(struct remote *r, int quiet)
{
	int was = r->o.quiet;

	r->o.quiet = quiet;
	return was;
}

int
remote_prompt_refused(const struct remote *r)
{
	return r->prompt_refused;
}

void
remote_set_shown(struct remote *r, const char *shown)
{
	r->o.shown = shown;
}

const char *
remote_shown(const struct remote *r)
{
	return r->o.shown;
}

void
remote_set_error_note(struct remote *r, const char *note)
{
	r->o.error_note = note;
}

void
remote_set_error_note_fn(struct remote *r, char *(*fn)(void *arg), void *arg)
{
	r->note_fn = fn;
	r->note_arg = arg;
}

const char *
remote_error_note(struct remote *r)
{
	char *(*fn)(void *) = r->note_fn;

	/* (once, and not again from a request fn makes) */
	if (fn != NULL) {
		r->note_fn = NULL;
		free(r->note_made);
		r->note_made = fn(r->note_arg);
		if (r->note_made != NULL)
			r->o.error_note = r->note_made;
	}
	return r->o.error_note != NULL ? r->o.error_note : "";
}

void
remote_set_copy(struct remote *r, const char *host_copy, const char *local_copy)
{
	r->o.host_copy = host_copy;
	r->o.local_copy = local_copy;
}

/* cause with its first "HOST_COPY/REL:LINE" naming LOCAL_COPY/REL instead
 * (a file here: the user edits that one, and the next upload replaces the
 * host's), the host's path after the message. New string, or NULL: none. */
static char *
remote_local_names(const struct remote *r, const char *cause)
{
	const char *at, *end;
	char *rel, *local, *out = NULL;
	size_t n;
	struct stat st;

	if (r->o.host_copy == NULL || r->o.local_copy == NULL)
		return NULL;
	n = strlen(r->o.host_copy);
	for (at = strstr(cause, r->o.host_copy); at != NULL && out == NULL;
	     at = strstr(at + 1, r->o.host_copy)) {
		if (at[n] != '/')
			continue;
		end = at + n + strcspn(at + n, ":\n");
		if (*end != ':' || !isdigit((unsigned char)end[1]))
			continue;
		rel = xstrndup(at + n, (size_t)(end - (at + n)));
		local = xasprintf("%s%s", r->o.local_copy, rel);
		if (stat(local, &st) == 0 && S_ISREG(st.st_mode))
			out = xasprintf("%.*s%s%s (the host's copy: %.*s)",
			    (int)(at - cause), cause, local, end, (int)(end - at), at);
		free(local);
		free(rel);
	}
	return out;
}

char *
remote_error_text(struct remote *r, const char *cause)
{
	char *mapped = remote_local_names(r, cause), *out;
	const char *text = mapped != NULL ? mapped : cause;
	/* (config_discover's words for a folder the host does not have, or
	 * a forward's, relay-install's) */
	int missing = r->o.missing_note != NULL &&
	    strstr(text, "workspace folder ") != NULL &&
	    (strstr(text, strerror(ENOENT)) != NULL ||
		strstr(text, " does not exist") != NULL);

	out = xasprintf(
	    "%s%s%s", text, missing ? r->o.missing_note : "", remote_error_note(r));
	free(mapped);
	return out;
}

/* --- the backend -------------------------------------------------------- */

char *
remote_up_hint(const struct remote *r, const char *config_file)
{
	if (r->o.target == NULL)
		return NULL;
	if (r->o.target_words != NULL)
		return agent_up_command_words("rdev", r->o.target_words, config_file);
	return agent_up_command("rdev", r->o.target, config_file);
}

char *
remote_up_hint_kept(const struct remote *r, const char *config_file)
{
	const char *const *w = r->o.target_words;
	const char *words[3];
	struct source src;
	char *hint;

	if (w == NULL || w[0] == NULL || w[1] == NULL || w[2] != NULL ||
	    source_parse(w[1], NULL, &src, NULL) != 0)
		return remote_up_hint(r, config_file);
	if (src.kind != SOURCE_LOCAL || strcmp(src.path, w[1]) == 0) {
		source_clear(&src);
		return remote_up_hint(r, config_file);
	}
	words[0] = w[0];
	words[1] = src.path;
	words[2] = NULL;
	hint = agent_up_command_words("rdev", words, config_file);
	source_clear(&src);
	return hint;
}

/* The backend's call: the request as the commands made it, with the hint
 * naming the target as the user typed it; an error ends with the remote's
 * note (remote_opts' error_note). */
static int
remote_be_call(
    void *ctx, cJSON *req, const struct progress *p, cJSON **result, char **cause)
{
	const cJSON *config = cJSON_GetObjectItemCaseSensitive(req, "config");
	char *hint =
	    remote_up_hint(ctx, cJSON_IsString(config) ? config->valuestring : NULL);

	const char *op =
	    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(req, "op"));
	char *client, *noted;

	if (hint != NULL && cJSON_GetObjectItemCaseSensitive(req, "workspace") != NULL) {
		cJSON_DeleteItemFromObjectCaseSensitive(req, "hint");
		cJSON_AddStringToObject(req, "hint", hint);
	}
	free(hint);
	/* Who asks, for the container's owner labels: us, here. */
	if (op != NULL && strcmp(op, "up") == 0) {
		client = owner_client_default();
		cJSON_DeleteItemFromObjectCaseSensitive(req, "client");
		cJSON_AddStringToObject(req, "client", client);
		free(client);
	}
	if (remote_request(ctx, req, p, result, NULL, cause) == 0)
		return 0;
	if (cause != NULL && *cause != NULL) {
		noted = remote_error_text(ctx, *cause);
		free(*cause);
		*cause = noted;
	}
	return -1;
}

static int
remote_be_exec(void *ctx, const char *prog_name, const struct agent_exec_req *req)
{
	return remote_exec(ctx, prog_name, req);
}

void
remote_backend(struct remote *r, struct agent_backend *be)
{
	be->call = remote_be_call;
	be->exec = remote_be_exec;
	be->ctx = r;
}

const char *
remote_host(const struct remote *r)
{
	return r->t.host;
}

char *
remote_host_key(const struct remote *r)
{
	char port[16] = "";

	if (r->t.port > 0)
		snprintf(port, sizeof port, ":%d", r->t.port);
	return xasprintf("%s%s%s%s", r->t.user != NULL ? r->t.user : "",
	    r->t.user != NULL ? "@" : "", r->t.host != NULL ? r->t.host : "", port);
}
