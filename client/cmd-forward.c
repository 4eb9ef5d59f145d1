/* cmd-forward.c - `rdev forward` and the forwardPorts step of `rdev up`:
 * forwards live in the broker (forward-spec.h), so they outlast this
 * process. */
#include "client.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent-ops.h"
#include "broker-client.h"
#include "config-discover.h"
#include "forward-spec.h"
#include "json-get.h"
#include "pool-target.h"
#include "progress.h"
#include "quote.h"
#include "remote.h"
#include "runtime-dir.h"
#include "target.h"
#include "xmalloc.h"

/* An error of forward's, "rdev: forward: " and fmt's line on stderr, after
 * what -q held (a table of the forwards made, warnings): an error shows
 * them first (progress.h), as without -q they came before it. */
static void cmd_forward_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void
cmd_forward_fail(const char *fmt, ...)
{
	va_list ap;

	progress_quiet_show();
	fputs("rdev: forward: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* One requested forward as the broker wants it. */
static cJSON *
forward_request_entry(const struct forward_spec *s)
{
	cJSON *e = cJSON_CreateObject();

	if (s->local_port != 0)
		cJSON_AddNumberToObject(e, "local", s->local_port);
	cJSON_AddNumberToObject(e, "port", s->port);
	if (s->service != NULL)
		cJSON_AddStringToObject(e, "service", s->service);
	if (s->require_local)
		cJSON_AddBoolToObject(e, "requireLocal", 1);
	if (s->label != NULL)
		cJSON_AddStringToObject(e, "label", s->label);
	return e;
}

/* Does list (forward_request_entry()s) have s's forward already: the same
 * container (or service) port to the same local port? A spec without one
 * ("3000") asks for the port itself, as "3000:3000" does. (One forward
 * would be made, and listed twice.) */
static int
cmd_forward_listed(const cJSON *list, const struct forward_spec *s)
{
	const cJSON *e, *svc, *port, *local;

	cJSON_ArrayForEach(e, list) {
		svc = cJSON_GetObjectItemCaseSensitive(e, "service");
		port = cJSON_GetObjectItemCaseSensitive(e, "port");
		local = cJSON_GetObjectItemCaseSensitive(e, "local");
		if (cJSON_IsNumber(port) && port->valueint == s->port &&
		    (cJSON_IsNumber(local) ? local->valueint : port->valueint) ==
			(s->local_port != 0 ? s->local_port : s->port) &&
		    ((svc == NULL && s->service == NULL) ||
			(svc != NULL && s->service != NULL &&
			    strcmp(svc->valuestring, s->service) == 0)))
			return 1;
	}
	return 0;
}

void
client_forward_print_table(FILE *out, const cJSON *forwards, int with_host)
{
	const cJSON *f, *svc, *label, *host, *ws, *act, *url, *err, *last, *shown;
	struct quote_kept k = { 0 };
	const char *from;
	char target[300];
	long port, local;

	cJSON_ArrayForEach(f, forwards) {
		if (json_get_int(f, "port", 1, 65535, &port) != 0 ||
		    json_get_int(f, "local", 0, 65535, &local) != 0) {
			fprintf(out,
			    "  (a forward the broker describes without its ports)\n");
			continue;
		}
		err = cJSON_GetObjectItemCaseSensitive(f, "error");
		svc = cJSON_GetObjectItemCaseSensitive(f, "service");
		label = cJSON_GetObjectItemCaseSensitive(f, "label");
		host = cJSON_GetObjectItemCaseSensitive(f, "host");
		/* (two workspaces on one host: which is whose; an uploaded
		 * one as the user named it, which names its host too) */
		shown = with_host ? cJSON_GetObjectItemCaseSensitive(f, "shown") : NULL;
		if (!cJSON_IsString(shown))
			shown = NULL;
		ws = shown != NULL ? shown
		    : with_host	   ? cJSON_GetObjectItemCaseSensitive(f, "workspace")
				   : NULL;
		act = cJSON_GetObjectItemCaseSensitive(f, "onAutoForward");
		url = cJSON_GetObjectItemCaseSensitive(f, "url");
		/* (names from devcontainer.json and the command line: quoted
		 * when they hold a line break, quote_shown()) */
		snprintf(target, sizeof target, "%s%s%d",
		    cJSON_IsString(svc) ? quote_shown(&k, svc->valuestring)
					: "container port ",
		    cJSON_IsString(svc) ? ":" : "", (int)port);
		fprintf(out, "  localhost:%-5ld -> %s%s%s%s%s%s%s%s%s%s\n", local, target,
		    cJSON_IsString(ws) ? " of " : "",
		    cJSON_IsString(ws) ? quote_shown(&k, ws->valuestring) : "",
		    with_host && shown == NULL && cJSON_IsString(host) ? " on " : "",
		    with_host && shown == NULL && cJSON_IsString(host)
			? quote_shown(&k, host->valuestring)
			: "",
		    cJSON_IsString(label) ? " (" : "",
		    cJSON_IsString(label) ? quote_shown(&k, label->valuestring) : "",
		    cJSON_IsString(label) ? ")" : "",
		    cJSON_IsString(act) ? " [auto]" : "", cJSON_IsString(url) ? " " : "");
		if (cJSON_IsString(url))
			fprintf(out, "    open %s\n", quote_shown(&k, url->valuestring));
		if (cJSON_IsString(err))
			fprintf(out, "    %s\n", err->valuestring);
		last = cJSON_GetObjectItemCaseSensitive(f, "lastError");
		from = json_get_string(f, "lastErrorFrom");
		/* (by what met it: a request's check is no connection) */
		if (cJSON_IsString(last))
			fprintf(out, "    %s failed: %s\n",
			    from != NULL && strcmp(from, "check") == 0
				? "the last check of its target (by `rdev up` or "
				  "`rdev forward`)"
				: "its last connection",
			    last->valuestring);
	}
	quote_kept_free(&k);
}

static cJSON *cmd_forward_status(int *failed, char **cause);

/* error says a local port is not free (forward_listen's "127.0.0.1:L is
 * not free"): when one of rdev's own forwards holds it (another
 * workspace's, a moved one), name it and how to free it; the user saw
 * only "Address already in use". */
static void
cmd_forward_holder_hint(const char *error)
{
	const char *p = strstr(error, "127.0.0.1:"), *ws, *host;
	const cJSON *f;
	cJSON *res;
	char *cause = NULL;
	long port, local;
	int failed;

	if (p == NULL || strstr(p, " is not free") == NULL ||
	    sscanf(p, "127.0.0.1:%ld", &port) != 1)
		return;
	res = cmd_forward_status(&failed, &cause);
	free(cause);
	cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(res, "forwards")) {
		/* (a saved forward not restored holds nothing: its "error"
		 * says what took the port) */
		if (json_get_int(f, "local", 1, 65535, &local) != 0 || local != port ||
		    (ws = json_get_string(f, "workspace")) == NULL ||
		    cJSON_HasObjectItem(f, "error"))
			continue;
		host = json_get_string(f, "host");
		fprintf(stderr,
		    "rdev: forward: localhost:%ld is rdev's forward of %s%s%s "
		    "(`rdev forward --stop %ld` frees it)\n",
		    port, ws, host != NULL ? " on " : "", host != NULL ? host : "", port);
		break;
	}
	cJSON_Delete(res);
}

/* "rdev: forward: CAUSE" as a remote's errors are shown (remote_error_text:
 * HOST:./app's hint, a file of the host's copy named as the one here). */
static void
cmd_forward_error(struct remote *r, const char *cause, int quiet)
{
	char *text = r != NULL ? remote_error_text(r, cause) : NULL;

	/* (quiet: up's own check of the workspace's forwards, with none
	 * asked: its failure is told alone, not after up's held lines, up
	 * having worked) */
	if (quiet)
		fprintf(stderr, "rdev: forward: %s\n", text != NULL ? text : cause);
	else
		cmd_forward_fail("%s", text != NULL ? text : cause);
	free(text);
}

/* The forwards that work (broker "forward" entries) under their heading,
 * on stderr: -q holds them as it holds up's other progress (an error
 * shows them first, progress.h), for the table is no result (it is not on
 * stdout). */
static void
cmd_forward_say_table(const cJSON *working)
{
	static const char heading[] =
	    "forwarded ports (until `rdev down` or `rdev forward --stop`):\n";
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	if (!progress_quiet()) {
		fputs(heading, stderr);
		client_forward_print_table(stderr, working, 0);
		return;
	}
	if ((f = open_memstream(&text, &len)) == NULL)
		fatal("open_memstream failed");
	fputs(heading, f);
	client_forward_print_table(f, working, 0);
	if (fclose(f) != 0)
		fatal("open_memstream failed");
	progress_quiet_keep(text, len);
	free(text);
}

/* Under -q, where the table is held: each forward of working (the
 * broker's entries) whose local port is not the one asked for (asked: the
 * request's entries; one with no "local" asks for its port, the next free
 * one being taken when it is not free) on one stderr line, for that port
 * is the command's result: where to connect. */
static void
cmd_forward_say_moved(const cJSON *working, const cJSON *asked)
{
	const cJSON *f, *a;
	const char *svc, *asvc;
	struct quote_kept k = { 0 };
	long port, local, n, want;

	cJSON_ArrayForEach(f, working) {
		if (json_get_int(f, "port", 1, 65535, &port) != 0 ||
		    json_get_int(f, "local", 1, 65535, &local) != 0 || local == port)
			continue;
		svc = json_get_string(f, "service");
		/* (asked for with no LOCAL, and not also as LOCAL:PORT with
		 * this local port: `3000 3001:3000`) */
		want = 0;
		cJSON_ArrayForEach(a, asked) {
			asvc = json_get_string(a, "service");
			if (json_get_int(a, "port", 1, 65535, &n) != 0 || n != port ||
			    (svc == NULL ? asvc != NULL
					 : asvc == NULL || strcmp(svc, asvc) != 0))
				continue;
			if (!cJSON_HasObjectItem(a, "local"))
				want = port;
			else if (json_get_int(a, "local", 1, 65535, &n) == 0 &&
			    n == local) {
				want = 0;
				break;
			}
		}
		if (want != 0)
			fprintf(stderr,
			    "rdev: forward: localhost:%ld -> %s%s%ld (not %ld: it "
			    "could not be bound)\n",
			    local, svc != NULL ? quote_shown(&k, svc) : "container port ",
			    svc != NULL ? ":" : "", port, want);
	}
	quote_kept_free(&k);
}

/* Ask the broker for forwards of workspace on r's host; prints the table
 * (unless quiet; -q holds it) and the errors. attributes: the broker gives the entries
 * the workspace's port attributes (`rdev forward TARGET PORT`; up's have
 * them already). log_json: the warnings as --log-format json lines (up's).
 * 0, or 1 if any forward failed. */
static int
cmd_forward_add(struct remote *r, const char *workspace, const char *config,
    const cJSON *id_labels, cJSON *list, cJSON *auto_attrs, int quiet, int log_json,
    int attributes)
{
	cJSON *fields = cJSON_CreateObject(), *res = NULL;
	const cJSON *errors, *e;
	cJSON *working, *asked;
	char *cause = NULL, *hint;
	int rc = 0;

	cJSON_AddStringToObject(fields, "workspace", workspace);
	if (config != NULL)
		cJSON_AddStringToObject(fields, "config", config);
	/* what the agent's "no dev container" message tells to run: the
	 * target as typed (`buildbox: ./app`, not the host's copy of it), its
	 * folder absolute (the broker shows it later, from any folder) */
	hint = r != NULL ? remote_up_hint_kept(r, config) : NULL;
	if (hint == NULL) {
		char *t = xasprintf("%s%s%s", r != NULL ? remote_host(r) : "",
		    r != NULL ? ":" : "", workspace);

		hint = agent_up_command("rdev", t, config);
		free(t);
	}
	cJSON_AddStringToObject(fields, "hint", hint);
	free(hint);
	/* (`HOST: ./app`: listings name it so, not by the host's copy) */
	if (r != NULL && remote_shown(r) != NULL)
		cJSON_AddStringToObject(fields, "shown", remote_shown(r));
	if (id_labels != NULL)
		cJSON_AddItemToObject(fields, "idLabels", cJSON_Duplicate(id_labels, 1));
	asked = cJSON_Duplicate(list, 1);
	cJSON_AddItemToObject(fields, "forwards", list);
	/* (from the broker's look at the workspace, bounded as it is: a
	 * read-configuration here would wait for a hung agent) */
	if (attributes)
		cJSON_AddBoolToObject(fields, "attributes", 1);
	if (auto_attrs != NULL)
		cJSON_AddItemToObject(fields, "auto", auto_attrs);
	if (remote_broker_call(r, "forward", fields, &res, &cause) != 0) {
		cmd_forward_error(r, cause, quiet);
		free(cause);
		cJSON_Delete(asked);
		return 1;
	}
	if (!quiet && auto_attrs != NULL)
		progress_stderr_line(0,
		    "watching the container for new listening ports (they are "
		    "forwarded as they appear; see `rdev forward --list`)");
	/* (a forward whose target failed is an error below, not a row of
	 * what works) */
	working = cJSON_CreateArray();
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(res, "forwards")) {
		if (!cJSON_HasObjectItem(e, "error"))
			cJSON_AddItemToArray(working, cJSON_Duplicate(e, 1));
	}
	if (!quiet && cJSON_GetArraySize(working) > 0)
		cmd_forward_say_table(working);
	if (!quiet && attributes && progress_quiet())
		cmd_forward_say_moved(working, asked);
	cJSON_Delete(working);
	cJSON_Delete(asked);
	errors = cJSON_GetObjectItemCaseSensitive(res, "errors");
	cJSON_ArrayForEach(e, errors) {
		/* (HOST: SOURCE never sent: " (./app is not on that host
		 * yet: ...)") */
		cmd_forward_error(r, e->valuestring, quiet);
		cmd_forward_holder_hint(e->valuestring);
		rc = 1;
	}
	/* a target not checked (it may be an old container's): the forward
	 * is there, and the container up; told, not a failure (-q: held) */
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(res, "warnings")) {
		if (cJSON_IsString(e))
			progress_stderr_line(
			    log_json, "rdev: forward: warning: %s", e->valuestring);
	}
	cJSON_Delete(res);
	return rc;
}

/* The workspace's forwardPorts, portsAttributes and otherPortsAttributes
 * as read-configuration's "ports" gives them (an existing container's
 * merged configuration is its frozen metadata; which ports and keys were
 * the configuration's when it was made only the agent knows): 0 with the
 * agent's answer in *res (new, its "ports" the ports), or -1 with *cause. */
static int
cmd_forward_read_ports(const struct agent_backend *be, const char *workspace,
    const char *config, const cJSON *id_labels, cJSON **res, char **cause)
{
	cJSON *req = agent_cmd_request(
	    client_program.name, "read-configuration", workspace, config);

	*res = NULL;
	cJSON_AddBoolToObject(req, "includePorts", 1);
	if (id_labels != NULL)
		cJSON_AddItemToObject(req, "idLabels", cJSON_Duplicate(id_labels, 1));
	if (be->call(be->ctx, req, NULL, res, cause) != 0) {
		cJSON_Delete(*res);
		*res = NULL;
		return -1;
	}
	return 0;
}

int
client_forward_ports(const char *cmd, const struct agent_backend *be, struct remote *r,
    const char *workspace, const char *config, const cJSON *id_labels, int quiet,
    int log_json, int auto_forward, const cJSON *ports)
{
	cJSON *res = NULL, *list;
	const cJSON *merged, *fp, *e, *v;
	struct forward_port_attrs attrs;
	cJSON *auto_attrs = NULL;
	struct forward_spec s;
	char *cause = NULL;

	/* up's result brings the ports; else (`forward --auto`)
	 * read-configuration's "ports" are asked for */
	if ((merged = ports) == NULL) {
		if (cmd_forward_read_ports(
			be, workspace, config, id_labels, &res, &cause) != 0) {
			progress_quiet_show(); /* -q: what it held, first */
			fprintf(stderr, "rdev: %s: forwardPorts: %s\n", cmd, cause);
			free(cause);
			return 1;
		}
		merged = cJSON_GetObjectItemCaseSensitive(res, "ports");
	}
	fp = cJSON_GetObjectItemCaseSensitive(merged, "forwardPorts");
	if (cJSON_GetArraySize(fp) == 0 && !auto_forward) {
		cJSON_Delete(res);
		/* No forward to make; the broker still checks the targets it
		 * has for the workspace (forwards made before, ssh-proxy's
		 * connects): `up` may have made a new container, and another
		 * may have the old one's address. (Quiet; a failure is told,
		 * and is not up's.) */
		if (r != NULL)
			(void)cmd_forward_add(r, workspace, config, id_labels,
			    cJSON_CreateArray(), NULL, 1, log_json, 0);
		return 0;
	}
	list = cJSON_CreateArray();
	cJSON_ArrayForEach(e, fp) {
		memset(&s, 0, sizeof s);
		if (cJSON_IsNumber(e))
			s.port = e->valueint;
		else if (cJSON_IsString(e)) {
			const char *colon = strrchr(e->valuestring, ':');

			/* "host:port": localhost means the dev container itself */
			if (colon == NULL ||
			    forward_spec_parse(colon + 1, &s, NULL) != 0) {
				fprintf(stderr,
				    "rdev: %s: forwardPorts: '%s' is not PORT or "
				    "\"service:PORT\"\n",
				    cmd, e->valuestring);
				continue;
			}
			if (strncmp(e->valuestring, "localhost:", 10) != 0 &&
			    strncmp(e->valuestring, "127.0.0.1:", 10) != 0)
				s.service = xstrndup(
				    e->valuestring, (size_t)(colon - e->valuestring));
		} else
			continue;
		forward_port_attributes(
		    cJSON_GetObjectItemCaseSensitive(merged, "portsAttributes"),
		    cJSON_GetObjectItemCaseSensitive(merged, "otherPortsAttributes"),
		    s.port, &attrs);
		if (attrs.label != NULL)
			s.label = xstrdup(attrs.label);
		s.require_local = attrs.require_local_port == 1;
		cJSON_AddItemToArray(list, forward_request_entry(&s));
		forward_spec_clear(&s);
	}
	if (auto_forward) {
		auto_attrs = cJSON_CreateObject();
		for (const char *const *k = (const char *const[]){ "portsAttributes",
			 "otherPortsAttributes", NULL };
		     *k != NULL; k++) {
			v = cJSON_GetObjectItemCaseSensitive(merged, *k);
			if (v != NULL)
				cJSON_AddItemToObject(
				    auto_attrs, *k, cJSON_Duplicate(v, 1));
		}
	}
	cJSON_Delete(res);
	return cmd_forward_add(
	    r, workspace, config, id_labels, list, auto_attrs, quiet, log_json, 0);
}

/* Are forwards saved by a broker (running or not)? */
static int cmd_forward_saved(void);
static int cmd_forward_label_is_host(const char *label, const char *host);

int
client_unforward_source(struct remote *r, const char *name, cJSON *warnings)
{
	cJSON *res, *done = cJSON_CreateArray(), *fields, *ans;
	const cJSON *f, *ws, *host, *d;
	const char *slash;
	char *cause = NULL;
	long stopped;
	int failed, n = 0, seen;

	res = cmd_forward_status(&failed, &cause);
	free(cause);
	cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(res, "forwards")) {
		ws = cJSON_GetObjectItemCaseSensitive(f, "workspace");
		host = cJSON_GetObjectItemCaseSensitive(f, "host");
		if (!cJSON_IsString(ws) || !cJSON_IsString(host) ||
		    (slash = strrchr(ws->valuestring, '/')) == NULL ||
		    strcmp(slash + 1, name) != 0 ||
		    !cmd_forward_label_is_host(host->valuestring, remote_host(r)))
			continue;
		seen = 0;
		cJSON_ArrayForEach(d, done)
			seen |= strcmp(d->valuestring, ws->valuestring) == 0;
		if (seen)
			continue;
		cJSON_AddItemToArray(done, cJSON_CreateString(ws->valuestring));
		fields = cJSON_CreateObject();
		cJSON_AddStringToObject(fields, "workspace", ws->valuestring);
		ans = NULL;
		if (remote_broker_call(r, "unforward", fields, &ans, &cause) == 0 &&
		    json_get_int(ans, "stopped", 0, 1000000, &stopped) == 0)
			n += (int)stopped;
		else if (cause != NULL)
			client_warning_add(warnings,
			    "%s: the forwards of %s there could not be stopped: %s",
			    remote_host(r), ws->valuestring, cause);
		free(cause);
		cause = NULL;
		cJSON_Delete(ans);
	}
	cJSON_Delete(done);
	cJSON_Delete(res);
	return n;
}

int
client_unforward_workspace(struct remote *r, const char *workspace)
{
	cJSON *fields, *res = NULL;
	char *cause = NULL;
	int rc;

	if (r == NULL && !cmd_forward_saved())
		return 0; /* no forwards anywhere: no broker started for nothing */
	fields = cJSON_CreateObject();
	cJSON_AddStringToObject(fields, "workspace", workspace);
	rc = remote_broker_call(r, "unforward", fields, &res, &cause);
	free(cause);
	cJSON_Delete(res);
	return rc;
}

/* Are forwards saved (a broker that does not run now brings them back when
 * one starts)? */
static int
cmd_forward_saved(void)
{
	char *path = runtime_dir_lookup(BROKER_STATE_NAME, NULL);
	int saved = path != NULL && access(path, F_OK) == 0;

	free(path);
	return saved;
}

/* The broker's forwards, or NULL when none runs (one is started when
 * forwards are saved: they are restored, and listed). */
static cJSON *
cmd_forward_status(int *failed, char **cause)
{
	struct proto_conn *c;
	cJSON *req, *res = NULL;
	int not_running;

	*failed = 0;
	if (broker_client_connect(cmd_forward_saved(), "rdev " RDEV_VERSION, &c,
		&not_running, cause) != 0) {
		*failed = !not_running;
		return NULL;
	}
	req = cJSON_CreateObject();
	cJSON_AddNumberToObject(req, "id", 1);
	cJSON_AddStringToObject(req, "op", "status");
	if (proto_conn_request(c, req, NULL, NULL, &res, NULL, cause) != 0) {
		*failed = 1;
		cJSON_Delete(res); /* (an error's details, not a status) */
		res = NULL;
	}
	proto_conn_free(c);
	return res;
}

/* Under each forward of res (the broker's status) whose host's session is
 * away (lost, reconnecting, failed) the reason: its connections are closed
 * at once until the host is back, which the row alone did not say. */
static void
cmd_forward_mark_hosts_away(cJSON *res)
{
	const cJSON *sess;
	cJSON *f;
	const char *state, *host, *error;
	char *text;

	cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(res, "forwards")) {
		host = json_get_string(f, "host");
		if (host == NULL || cJSON_HasObjectItem(f, "error"))
			continue;
		cJSON_ArrayForEach(
		    sess, cJSON_GetObjectItemCaseSensitive(res, "sessions")) {
			state = json_get_string(sess, "state");
			error = json_get_string(sess, "error");
			if (json_get_string(sess, "host") == NULL ||
			    strcmp(json_get_string(sess, "host"), host) != 0 ||
			    state == NULL ||
			    (strcmp(state, "lost") != 0 &&
				strcmp(state, "reconnecting") != 0 &&
				strcmp(state, "failed") != 0))
				continue;
			text = xasprintf("its host is away (%s%s%s): connections are "
					 "closed until it is back",
			    state, error != NULL ? ": " : "", error != NULL ? error : "");
			cJSON_AddStringToObject(f, "error", text);
			free(text);
			break;
		}
	}
}

void
client_forward_print_all(FILE *out)
{
	cJSON *res;
	const cJSON *fw;
	char *cause = NULL;
	int failed;

	res = cmd_forward_status(&failed, &cause);
	free(cause);
	cmd_forward_mark_hosts_away(res);
	fw = cJSON_GetObjectItemCaseSensitive(res, "forwards");
	if (cJSON_GetArraySize(fw) > 0) {
		fprintf(out, "\nFORWARDS\n");
		client_forward_print_table(out, fw, 1);
	}
	cJSON_Delete(res);
}

/* Does the broker's label of a host ("[user@]host" before it connects,
 * "user@host:port" after) name host? ("h1" is not "h10".) */
static int
cmd_forward_label_is_host(const char *label, const char *host)
{
	const char *at = strrchr(label, '@'), *rest;
	size_t n = strlen(host);

	label = at != NULL ? at + 1 : label;
	if (strncmp(label, host, n) != 0)
		return 0;
	rest = label + n;
	return *rest == '\0' ||
	    (*rest == ':' && rest[1] != '\0' &&
		rest[1 + strspn(rest + 1, "0123456789")] == '\0');
}

cJSON *
client_forward_list_workspace(struct remote *r, const char *workspace)
{
	cJSON *res, *out;
	const cJSON *f, *ws, *host;
	char *cause = NULL;
	int failed;

	res = cmd_forward_status(&failed, &cause);
	free(cause);
	if (res == NULL)
		return NULL;
	out = cJSON_CreateArray();
	cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(res, "forwards")) {
		ws = cJSON_GetObjectItemCaseSensitive(f, "workspace");
		host = cJSON_GetObjectItemCaseSensitive(f, "host");
		if (cJSON_IsString(ws) && strcmp(ws->valuestring, workspace) == 0 &&
		    cJSON_IsString(host) &&
		    (r != NULL
			    ? cmd_forward_label_is_host(host->valuestring, remote_host(r))
			    : strcmp(host->valuestring, CLIENT_LOCAL_HOST) == 0))
			cJSON_AddItemToArray(out, cJSON_Duplicate(f, 1));
	}
	cJSON_Delete(res);
	return out;
}

static int
cmd_forward_list(int json)
{
	cJSON *res;
	const cJSON *fw;
	char *cause = NULL, *text;
	int failed;

	res = cmd_forward_status(&failed, &cause);
	if (failed) {
		cmd_forward_fail("%s", cause);
		free(cause);
		cJSON_Delete(res);
		return CMD_EXIT_FAILURE;
	}
	free(cause);
	fw = cJSON_GetObjectItemCaseSensitive(res, "forwards");
	if (json) {
		text = fw != NULL ? cJSON_PrintUnformatted(fw) : xstrdup("[]");
		printf("%s\n", text);
		free(text);
	} else if (cJSON_GetArraySize(fw) == 0)
		fprintf(stderr, "rdev: no forwards\n");
	else {
		cmd_forward_mark_hosts_away(res);
		client_forward_print_table(stdout, fw, 1);
	}
	cJSON_Delete(res);
	return CMD_EXIT_OK;
}

/* `@POOL SOURCE`: *t (a pool target) replaced by the host the workspace
 * was placed on, or host_name (--host; NULL: none) (pool-target.h); *host
 * the pool entry (new). CMD_EXIT_OK, or
 * the exit code after printing why. */
static int
cmd_forward_pool(const char *target, const char *source, const char *config,
    const char *host_name, const struct remote_opts *ro, struct target *t, char **host)
{
	struct pool_target_req req = { 0 };
	int rc;

	if (source == NULL) {
		cmd_forward_fail(
		    "%s needs a SOURCE: forward %s SOURCE SPEC...", target, target);
		return CMD_EXIT_USAGE;
	}
	req.cmd = "forward";
	req.pool = target + 1;
	req.source = source;
	req.config = config;
	req.host = host_name;
	req.accept_new_host_key = ro->accept_new_host_key;
	target_clear(t);
	rc = pool_target_resolve(&req, t, host);
	return rc;
}

/* Does target name a host alone ("HOST:"), so that a SOURCE follows? */
static int
cmd_forward_host_only(const char *target)
{
	struct target t;
	int host_only;

	if (target_parse(target, &t, NULL) != 0)
		return 0;
	host_only = t.kind == TARGET_HOST;
	target_clear(&t);
	return host_only;
}

/* HOST: SOURCE: the host folder of source_text on r's host (source.h) into
 * *folder (new), and how listings show it (client_source_shown) into *shown
 * (new; r's shown from now on); a folder no up has sent puts " (SOURCE is
 * not on that host yet: `rdev up HOST: SOURCE` puts it there)" in *missing
 * (new; what r's errors end with), as client_target_source does. 0, or an
 * exit code after printing why not. */
static int
cmd_forward_source(struct remote *r, const char *host_arg, const char *source_text,
    char **folder, char **shown, char **missing)
{
	char *up;

	struct source src;
	char *cause = NULL;
	int exists, rc = CMD_EXIT_OK;

	if (source_text == NULL) {
		cmd_forward_fail("a host alone: a SOURCE (a local "
				 "folder or a git URL) must follow it");
		return CMD_EXIT_USAGE;
	}
	if (source_parse(source_text, NULL, &src, &cause) != 0) {
		cmd_forward_fail("%s", cause);
		free(cause);
		return CMD_EXIT_USAGE;
	}
	if (source_folder(r, &src, folder, &exists, &cause) != 0) {
		cmd_forward_fail("%s", cause);
		free(cause);
		rc = CMD_EXIT_FAILURE;
	} else {
		*shown = client_source_shown(host_arg, &src);
		remote_set_shown(r, *shown);
		if (!exists) {
			up = remote_up_hint(r, NULL);
			*missing =
			    xasprintf(" (%s is not on that host yet: `%s` puts it there)",
				source_text, up);
			free(up);
			remote_set_error_note(r, *missing);
		}
	}
	source_clear(&src);
	return rc;
}

/* `rdev forward --stop SPEC` with no TARGET: the broker finds the forward
 * at SPEC's local port on whichever target has it ("anyTarget") and stops
 * it, naming that target. */
static int
cmd_forward_stop_port(const char *stop)
{
	const struct cmd_entry *e = &cmd_forward_entry;
	struct forward_spec s;
	cJSON *fields, *res = NULL;
	char *cause = NULL;
	const char *target, *host;
	char *of;
	long local, stopped;
	int rc;

	if (forward_spec_parse(stop, &s, &cause) != 0) {
		rc = cmd_usage_error(&client_program, e, "%s", cause);
		free(cause);
		return rc;
	}
	local = s.local_port != 0 ? s.local_port : s.port;
	forward_spec_clear(&s);
	fields = cJSON_CreateObject();
	cJSON_AddNumberToObject(fields, "local", (double)local);
	cJSON_AddBoolToObject(fields, "anyTarget", 1);
	if (remote_broker_call(NULL, "unforward", fields, &res, &cause) != 0) {
		cmd_forward_fail("%s", cause);
		free(cause);
		return CMD_EXIT_FAILURE;
	}
	if (json_get_int(res, "stopped", 0, 1000000, &stopped) != 0 || stopped == 0) {
		/* (a broker before "anyTarget" looked on the local target only) */
		cmd_forward_fail("no forward at local port %ld", local);
		cJSON_Delete(res);
		return CMD_EXIT_FAILURE;
	}
	target = json_get_string(res, "target");
	host = json_get_string(res, "targetHost");
	/* "WS on HOST": host and workspace apart, as they are not a TARGET */
	of = target == NULL ? xstrdup("")
	    : host != NULL  ? xasprintf("%s on %s", target, host)
			    : xstrdup(target);
	/* (a note of what was done, as down's "removed ...": none under -q;
	 * held as progress, but only success follows it) */
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(res, "notRestored")))
		progress_stderr_line(0,
		    "forgot the saved forward at localhost:%ld%s%s (it was not "
		    "restored)",
		    local, *of != '\0' ? " of " : "", of);
	else
		progress_stderr_line(0, "stopped the forward at localhost:%ld%s%s%s",
		    local, *of != '\0' ? " (of " : "", of, *of != '\0' ? ")" : "");
	free(of);
	cJSON_Delete(res);
	return CMD_EXIT_OK;
}

/* What `rdev forward` was given. list (the SPECs as request entries) and
 * id_labels are new: cmd_forward_args_clear(). */
struct cmd_forward_args {
	const char *target, *config, *stop;
	const char *source; /* @POOL SOURCE's, HOST: SOURCE's */
	const char *host;   /* --host: @POOL SOURCE's pool host */
	cJSON *list, *id_labels;
	int list_mode, json, stop_all, auto_forward;
};

static void
cmd_forward_args_clear(struct cmd_forward_args *a)
{
	cJSON_Delete(a->list);
	cJSON_Delete(a->id_labels);
	memset(a, 0, sizeof *a);
}

/* Read argv into a (and --accept-new-host-key into ro). CMD_EXIT_OK, or the
 * exit code after the usage error is printed. */
static int
cmd_forward_parse(
    int argc, char **argv, struct cmd_forward_args *a, struct remote_opts *ro)
{
	const struct cmd_entry *e = &cmd_forward_entry;
	struct forward_spec s;
	char *cause = NULL;
	int i, rc, host_only = 0;

	memset(a, 0, sizeof *a);
	a->list = cJSON_CreateArray();
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--list") == 0)
			a->list_mode = 1;
		else if (strcmp(argv[i], "--json") == 0)
			a->json = 1;
		else if (strcmp(argv[i], "--accept-new-host-key") == 0)
			ro->accept_new_host_key = 1;
		else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc &&
		    *argv[i + 1] == '\0')
			return cmd_usage_error(
			    &client_program, e, AGENT_CMD_EMPTY("--config", "file"));
		else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			a->config = argv[++i];
		else if (strcmp(argv[i], "--stop") == 0 && i + 1 < argc)
			a->stop = argv[++i];
		else if (strcmp(argv[i], "--stop-all") == 0)
			a->stop_all = 1;
		else if (strcmp(argv[i], "--id-label") == 0 && i + 1 < argc &&
		    agent_cmd_id_label_ok(argv[i + 1]))
			agent_cmd_list_add(&a->id_labels, cJSON_CreateString(argv[++i]));
		else if (strcmp(argv[i], "--auto") == 0)
			a->auto_forward = 1;
		else if (strcmp(argv[i], "--host") == 0 && i + 1 < argc)
			a->host = argv[++i];
		/* (an option of these with no value, or a bad one: said so, as
		 * the other commands say it, not "unknown option") */
		else if (strcmp(argv[i], "--stop") == 0)
			return cmd_usage_error(&client_program, e,
			    "--stop needs a PORT (the local port as `rdev "
			    "forward --list` shows it)");
		else if (strcmp(argv[i], "--config") == 0 ||
		    strcmp(argv[i], "--host") == 0)
			return cmd_usage_error(
			    &client_program, e, "%s needs a value", argv[i]);
		else if (strcmp(argv[i], "--id-label") == 0)
			return cmd_usage_error(
			    &client_program, e, "--id-label must be NAME=VALUE");
		else if (argv[i][0] == '-')
			return cmd_usage_error(
			    &client_program, e, "unknown option %s", argv[i]);
		else if (a->target == NULL) {
			a->target = argv[i];
			host_only = cmd_forward_host_only(a->target);
		} else if ((a->target[0] == '@' || host_only) && a->source == NULL)
			a->source = argv[i];
		else if (forward_spec_parse(argv[i], &s, &cause) != 0) {
			rc = cmd_usage_error(&client_program, e, "%s", cause);
			free(cause);
			return rc;
		} else if (cmd_forward_listed(a->list, &s)) {
			forward_spec_clear(&s);
			return cmd_usage_error(&client_program, e,
			    "forward spec '%s' is given twice", argv[i]);
		} else {
			cJSON_AddItemToArray(a->list, forward_request_entry(&s));
			forward_spec_clear(&s);
		}
	}
	return CMD_EXIT_OK;
}

/* `rdev forward TARGET --stop SPEC` or `--stop-all`: the broker stops the
 * forwards of workspace on r's host (at SPEC's local port); shown names
 * the target in "no such forward". */
static int
cmd_forward_stop(
    struct remote *r, const char *workspace, const char *stop, const char *shown)
{
	const struct cmd_entry *e = &cmd_forward_entry;
	struct forward_spec s;
	cJSON *fields, *res = NULL;
	char *cause = NULL;
	long stopped;
	int rc;

	fields = cJSON_CreateObject();
	cJSON_AddStringToObject(fields, "workspace", workspace);
	if (stop != NULL) {
		if (forward_spec_parse(stop, &s, &cause) != 0) {
			rc = cmd_usage_error(&client_program, e, "%s", cause);
			free(cause);
			cJSON_Delete(fields);
			return rc;
		}
		cJSON_AddNumberToObject(
		    fields, "local", s.local_port != 0 ? s.local_port : s.port);
		forward_spec_clear(&s);
	}
	if (remote_broker_call(r, "unforward", fields, &res, &cause) != 0) {
		cmd_forward_fail("%s", cause);
		free(cause);
		return CMD_EXIT_FAILURE;
	}
	if (json_get_int(res, "stopped", 0, 1000000, &stopped) != 0) {
		cmd_forward_fail("the broker's answer has no \"stopped\" "
				 "count");
		cJSON_Delete(res);
		return CMD_EXIT_FAILURE;
	}
	cJSON_Delete(res);
	if (stopped == 0) {
		cmd_forward_fail("no such forward for %s", shown);
		return CMD_EXIT_FAILURE;
	}
	progress_stderr_line(
	    0, "stopped %d forward%s", (int)stopped, stopped == 1 ? "" : "s");
	return CMD_EXIT_OK;
}

static int
cmd_forward_exec(int argc, char **argv)
{
	const struct cmd_entry *e = &cmd_forward_entry;
	struct cmd_forward_args a;
	struct remote_opts ro = { 0 };
	const char *config, *workspace;
	char *local_ws = NULL, *local_config = NULL, *pool_host = NULL;
	char *source_ws = NULL, *shown = NULL, *missing = NULL, *typed = NULL;
	char *here_note = NULL;
	const char *typed_words[3] = { NULL, NULL, NULL };
	struct agent_backend be;
	struct target t;
	struct remote *r = NULL;
	char *cause = NULL;
	int rc;

	memset(&t, 0, sizeof t);
	if ((rc = cmd_forward_parse(argc, argv, &a, &ro)) != CMD_EXIT_OK)
		goto out;
	config = a.config;
	if (a.list_mode) {
		rc = cmd_forward_list(a.json);
		goto out;
	}
	if (a.target == NULL && a.stop != NULL && !a.stop_all &&
	    cJSON_GetArraySize(a.list) == 0 && !a.auto_forward) {
		if (config != NULL || a.id_labels != NULL || ro.accept_new_host_key)
			/* (they choose a TARGET's container or host: with none
			 * they would be ignored) */
			rc = cmd_usage_error(&client_program, e,
			    "--stop LOCALPORT with no TARGET takes no --config, "
			    "--id-label or --accept-new-host-key");
		else
			rc = cmd_forward_stop_port(a.stop);
		goto out;
	}
	if (a.target == NULL ||
	    (cJSON_GetArraySize(a.list) == 0 && a.stop == NULL && !a.stop_all &&
		!a.auto_forward)) {
		if (a.target == NULL && a.stop_all)
			rc = cmd_usage_error(&client_program, e,
			    "--stop-all needs the TARGET the forwards "
			    "were made for (`rdev forward --list --json` names each "
			    "one's host and workspace; `rdev down TARGET` ends "
			    "them too)");
		else
			rc = cmd_usage_error(&client_program, e,
			    "TARGET and at least one SPEC "
			    "(or TARGET --stop SPEC, TARGET --stop-all, or --list)");
		goto out;
	}
	if (*a.target == '\0') {
		rc = cmd_usage_error(&client_program, e, AGENT_CMD_EMPTY_FOLDER);
		goto out;
	}
	if (a.host != NULL && a.target[0] != '@') {
		cmd_forward_fail("--host is for @POOL targets");
		rc = CMD_EXIT_USAGE;
		goto out;
	}
	if (!target_is_remote(a.target)) {
		/* this machine's engine: the broker's local host, no SSH */
		if ((local_ws = config_discover_resolve(NULL, a.target, &cause)) ==
			NULL ||
		    (config != NULL &&
			(local_config = config_discover_resolve(NULL, config, &cause)) ==
			    NULL)) {
			cmd_forward_fail("%s", cause);
			free(cause);
			rc = CMD_EXIT_FAILURE;
			goto out;
		}
		workspace = local_ws;
		config = local_config;
		be = agent_backend_local;
	} else {
		if (target_parse(a.target, &t, &cause) != 0) {
			cmd_forward_fail("%s", cause);
			free(cause);
			rc = CMD_EXIT_USAGE;
			goto out;
		}
		if (t.kind == TARGET_POOL &&
		    (rc = cmd_forward_pool(a.target, a.source, config, a.host, &ro, &t,
			 &pool_host)) != CMD_EXIT_OK)
			goto out;
		if (t.kind == TARGET_HOST && a.source != NULL) {
			/* (hints name it as typed: `rdev up buildbox: ./app`) */
			typed_words[0] = a.target;
			typed_words[1] = a.source;
			typed = xasprintf("%s %s", a.target, a.source);
			ro.target = typed;
			ro.target_words = typed_words;
		}
		/* (HOST:./app missing there, a folder here: how to upload it) */
		if (pool_host == NULL && a.source == NULL)
			ro.missing_note = here_note =
			    client_target_here_note(a.target, &t);
		r = remote_new(&t, &ro);
		remote_backend(r, &be);
		workspace = t.path;
		if (t.kind == TARGET_HOST &&
		    (rc = cmd_forward_source(r, a.target, a.source, &source_ws, &shown,
			 &missing)) != CMD_EXIT_OK)
			goto out;
		if (source_ws != NULL)
			workspace = source_ws;
	}
	if (a.stop != NULL || a.stop_all)
		rc = cmd_forward_stop(
		    r, workspace, a.stop, pool_host != NULL ? workspace : a.target);
	else if (a.auto_forward)
		/* with the workspace's portsAttributes (onAutoForward, labels) */
		rc = client_forward_ports("forward", &be, r, workspace, config,
			 a.id_labels, 0, 0, 1, NULL) == 0
		    ? CMD_EXIT_OK
		    : CMD_EXIT_FAILURE;
	else {
		rc = cmd_forward_add(
			 r, workspace, config, a.id_labels, a.list, NULL, 0, 0, 1) == 0
		    ? CMD_EXIT_OK
		    : CMD_EXIT_FAILURE;
		a.list = NULL; /* (cmd_forward_add's now) */
	}
out:
	cmd_forward_args_clear(&a);
	remote_free(r);
	target_clear(&t);
	free(pool_host);
	free(local_ws);
	free(local_config);
	free(source_ws);
	free(shown);
	free(missing);
	free(here_note);
	free(typed);
	return rc;
}

const struct cmd_entry cmd_forward_entry = { "forward",
	"TARGET SPEC... | TARGET --auto | [TARGET] --stop SPEC | TARGET --stop-all | "
	"--list [--json]  (with TARGET: [--config FILE] " AGENT_CMD_ID_LABEL_USAGE ")",
	"forward ports (3000, 8080:3000, 5432:db:5432) to localhost",
	"SPEC: PORT (local PORT, or the next free one, -> container PORT),\n"
	"LOCAL:PORT (LOCAL must be free), SERVICE:PORT or LOCAL:SERVICE:PORT (a\n"
	"Compose service). Only TCP is forwarded: PORT/tcp is PORT, PORT/udp is\n"
	"refused. Local listeners are on 127.0.0.1 and ::1. A server bound\n"
	"to 127.0.0.1 inside the container is reached too (through a small relay\n"
	"the agent starts in the container). A local TARGET (this machine's\n"
	"Docker engine) is forwarded by the broker too, with no SSH. Forwards live in "
	"the broker: they\n"
	"outlast this command, survive a dropped connection (the broker\n"
	"reconnects) and a restarted broker (they are saved); they end with\n"
	"`rdev down`, --stop or `rdev-broker stop --forget`.\n"
	"--stop takes the local port as listed; with no TARGET it stops the\n"
	"forward at that local port whatever its target (and names it).\n"
	"--stop-all stops every forward of TARGET's workspace.\n"
	"--auto: watch the container for\n"
	"new listening TCP ports (every second) and forward them as\n"
	"portsAttributes' onAutoForward says (ignore: not; openBrowser: the URL is\n"
	"listed; notify, silent: forwarded and "
	"listed).\n\noptions:\n" AGENT_CMD_ID_LABEL_HELP "\n" CLIENT_TARGET_HELP,
	cmd_forward_exec };
