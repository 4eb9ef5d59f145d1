/* cmd-broker.c - `rdev-broker start|status|stop|restart`. */
#include "broker.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker-client.h"
#include "broker-stale.h"
#include "daemon.h"
#include "error.h"
#include "quote.h"
#include "runtime-dir.h"
#include "xmalloc.h"

/* How long `stop` waits for the broker to be gone. */
#define BROKER_STOP_WAIT_MS 30000

#define BROKER_DEFAULT_IDLE_S 600
/* (a week: a longer one is taken for a typo) */
#define BROKER_MAX_IDLE_S (7 * 24 * 3600)

/* The options of start (and restart: no --foreground there) into *o; 0,
 * or the usage error's exit code. */
static int
broker_cmd_start_opts(const char *name, int foreground_ok, int argc, char **argv,
    struct broker_daemon_opts *o)
{
	const struct cmd_entry *e = cmd_lookup(&broker_program, name);
	const char *env = getenv("RDEV_BROKER_IDLE_TIMEOUT");
	char *end;
	int i;

	o->foreground = 0;
	o->idle_timeout_s = BROKER_DEFAULT_IDLE_S;
	if (env != NULL && *env != '\0') {
		long n;

		errno = 0;
		n = strtol(env, &end, 10);
		if (errno == 0 && *end == '\0' && n >= 1 && n <= BROKER_MAX_IDLE_S)
			o->idle_timeout_s = (int)n;
		else /* (not 0: a typo must not close every session at once) */
			fprintf(stderr,
			    "rdev-broker: warning: ignoring RDEV_BROKER_IDLE_TIMEOUT=%s "
			    "(it wants seconds, 1 to %d); using %d\n",
			    env, BROKER_MAX_IDLE_S, BROKER_DEFAULT_IDLE_S);
	}
	for (i = 1; i < argc; i++) {
		if (foreground_ok && strcmp(argv[i], "--foreground") == 0)
			o->foreground = 1;
		else if (strcmp(argv[i], "--idle-timeout") == 0 && i + 1 < argc) {
			long n;

			errno = 0;
			n = strtol(argv[++i], &end, 10);
			if (errno != 0 || end == argv[i] || *end != '\0' || n < 1 ||
			    n > BROKER_MAX_IDLE_S)
				return cmd_usage_error(&broker_program, e,
				    "--idle-timeout wants seconds (1 to %d), not %s",
				    BROKER_MAX_IDLE_S, argv[i]);
			o->idle_timeout_s = (int)n;
		} else
			return cmd_usage_error(
			    &broker_program, e, "unknown argument %s", argv[i]);
	}
	return 0;
}

int
broker_cmd_start(int argc, char **argv)
{
	struct broker_daemon_opts o;
	char *cause = NULL;
	int already, rc;

	if ((rc = broker_cmd_start_opts("start", 1, argc, argv, &o)) != 0)
		return rc;
	if (broker_daemon_start(&o, &already, &cause) != 0) {
		fprintf(stderr, "rdev-broker: start: %s\n", cause);
		free(cause);
		return CMD_EXIT_FAILURE;
	}
	if (already && o.foreground) {
		fprintf(stderr,
		    "rdev-broker: start: a broker is already running "
		    "(rdev-broker stop first)\n");
		return CMD_EXIT_FAILURE;
	}
	return CMD_EXIT_OK;
}

/* Send one request to the running broker (fields: more members, taken, or
 * NULL): 0 with its result in *result (the caller frees it); 1 if none
 * runs, -1 with *cause, both with nothing in *result. */
static int
broker_cmd_request(const char *op, cJSON *fields, cJSON **result, char **cause)
{
	struct proto_conn *c;
	cJSON *req;
	int not_running, rc;

	*result = NULL;
	if (broker_client_connect(
		0, "rdev-broker " RDEV_VERSION, &c, &not_running, cause) != 0) {
		cJSON_Delete(fields);
		return not_running ? 1 : -1;
	}
	req = fields != NULL ? fields : cJSON_CreateObject();
	cJSON_AddNumberToObject(req, "id", 1);
	cJSON_AddStringToObject(req, "op", op);
	rc = proto_conn_request(c, req, NULL, NULL, result, NULL, cause);
	proto_conn_free(c);
	if (rc != 0) {
		cJSON_Delete(*result); /* (an error's details: none says them) */
		*result = NULL;
	}
	return rc;
}

/* Under a session's row, what sshd refused of forwarding (a locked-down
 * host), as --json's "forwarding" says it: nothing when it refused
 * nothing. */
static void
broker_cmd_status_denied(const cJSON *s)
{
	const cJSON *fwd = cJSON_GetObjectItemCaseSensitive(s, "forwarding");
	const char *tcp =
	    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(fwd, "tcp"));
	const char *sl =
	    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(fwd, "streamlocal"));
	int tcp_denied = tcp != NULL && strcmp(tcp, "denied") == 0;
	int sl_denied = sl != NULL && strcmp(sl, "denied") == 0;

	if (tcp_denied && sl_denied)
		printf("  sshd refuses TCP and stream-local forwarding: commands and "
		       "forwarded connections go over the agent's session\n");
	else if (tcp_denied)
		printf("  sshd refuses TCP forwarding: forwarded connections go over "
		       "the agent's session\n");
	else if (sl_denied)
		printf("  sshd refuses stream-local forwarding: commands reach the "
		       "agent over its session\n");
}

int
broker_cmd_status(int argc, char **argv)
{
	const struct cmd_entry *e = cmd_lookup(&broker_program, "status");
	cJSON *r = NULL, *s;
	struct quote_kept k = { 0 };
	char *cause = NULL, *text;
	int json = 0, rc, i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else
			return cmd_usage_error(
			    &broker_program, e, "unknown argument %s", argv[i]);
	}
	rc = broker_cmd_request("status", NULL, &r, &cause);
	if (rc == 1) {
		if (json)
			printf("{\"running\":false}\n");
		else
			printf("not running\n");
		free(cause);
		return BROKER_EXIT_NOT_RUNNING;
	}
	if (rc != 0) {
		fprintf(stderr, "rdev-broker: status: %s\n", cause);
		free(cause);
		return CMD_EXIT_FAILURE;
	}
	if (json) {
		cJSON_AddBoolToObject(r, "running", 1);
		text = cJSON_PrintUnformatted(r);
		printf("%s\n", text);
		free(text);
		cJSON_Delete(r);
		return CMD_EXIT_OK;
	}
	printf("running: pid %d, up %ds, socket %s\n",
	    cJSON_GetObjectItemCaseSensitive(r, "pid")->valueint,
	    cJSON_GetObjectItemCaseSensitive(r, "uptimeSeconds")->valueint,
	    cJSON_GetObjectItemCaseSensitive(r, "socket")->valuestring);
	printf("%-32s  %-10s  %7s  %6s  %-20s  %s\n", "SESSION", "STATE", "CLIENTS",
	    "IDLE", "AGENT", "ERROR");
	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(r, "sessions")) {
		const cJSON *err = cJSON_GetObjectItemCaseSensitive(s, "error");
		const cJSON *ag = cJSON_GetObjectItemCaseSensitive(s, "agent");
		const cJSON *pid = cJSON_GetObjectItemCaseSensitive(ag, "pid");
		const cJSON *tr = cJSON_GetObjectItemCaseSensitive(ag, "transport");
		const cJSON *starts = cJSON_GetObjectItemCaseSensitive(ag, "starts");
		char agent[64];

		/* "pid 123 (1 start)", or how requests reach it without one */
		if (cJSON_IsString(tr) && strcmp(tr->valuestring, "exec") == 0)
			snprintf(agent, sizeof agent, "one per request");
		else if (cJSON_IsNumber(pid))
			snprintf(agent, sizeof agent, "pid %.0f (%d start%s)",
			    pid->valuedouble, starts != NULL ? starts->valueint : 0,
			    starts != NULL && starts->valueint == 1 ? "" : "s");
		else
			snprintf(agent, sizeof agent, "-");
		printf("%-32s  %-10s  %7d  %5ds  %-20s  %s\n",
		    cJSON_GetObjectItemCaseSensitive(s, "host")->valuestring,
		    cJSON_GetObjectItemCaseSensitive(s, "state")->valuestring,
		    cJSON_GetObjectItemCaseSensitive(s, "clients")->valueint,
		    cJSON_GetObjectItemCaseSensitive(s, "idleSeconds")->valueint, agent,
		    cJSON_IsString(err) ? err->valuestring : "-");
		if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(s, "destination")))
			printf("  to %s\n",
			    cJSON_GetObjectItemCaseSensitive(s, "destination")
				->valuestring);
		broker_cmd_status_denied(s);
	}
	printf("forwards: %d\n",
	    cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r, "forwards")));
	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(r, "forwards")) {
		const cJSON *err = cJSON_GetObjectItemCaseSensitive(s, "error");

		if (cJSON_IsString(err))
			printf("  %s of %s on %s: %s\n",
			    cJSON_GetObjectItemCaseSensitive(s, "spec")->valuestring,
			    cJSON_GetObjectItemCaseSensitive(s, "workspace")->valuestring,
			    cJSON_GetObjectItemCaseSensitive(s, "host")->valuestring,
			    err->valuestring);
	}
	printf("syncs: %d\n",
	    cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r, "syncs")));
	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(r, "syncs")) {
		const char *err = cJSON_GetStringValue(
		    cJSON_GetObjectItemCaseSensitive(s, "lastError"));

		/* (the folder and a path in the error: quoted when they hold
		 * a line break, quote_shown()) */
		printf("  %s -> %s: %s, %.0f sent (%.0f bytes)%s%s\n",
		    quote_shown(&k,
			cJSON_GetStringValue(
			    cJSON_GetObjectItemCaseSensitive(s, "path"))),
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "host")),
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "state")),
		    cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(s, "sent")),
		    cJSON_GetNumberValue(
			cJSON_GetObjectItemCaseSensitive(s, "sentBytes")),
		    err != NULL ? ": " : "", err != NULL ? quote_shown(&k, err) : "");
	}
	quote_kept_free(&k);
	cJSON_Delete(r);
	return CMD_EXIT_OK;
}

/* broker_client_wait_gone's note when a stop takes a while. */
static void
broker_cmd_stop_slow(void *arg)
{
	fprintf(stderr, "rdev-broker: %s: waiting for it to close its sessions\n",
	    arg != NULL ? (const char *)arg : "stop");
}

int
broker_cmd_stop(int argc, char **argv)
{
	const struct cmd_entry *e = cmd_lookup(&broker_program, "stop");
	cJSON *r = NULL, *fields = cJSON_CreateObject();
	char *cause = NULL;
	int rc, i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--forget") == 0)
			cJSON_AddBoolToObject(fields, "forget", 1);
		else {
			cJSON_Delete(fields);
			return cmd_usage_error(
			    &broker_program, e, "unknown argument %s", argv[i]);
		}
	}
	rc = broker_cmd_request("stop", fields, &r, &cause);
	cJSON_Delete(r);
	if (rc == 1) {
		printf("not running\n");
		free(cause);
		return CMD_EXIT_OK;
	}
	if (rc != 0) {
		fprintf(stderr, "rdev-broker: stop: %s\n", cause);
		free(cause);
		return CMD_EXIT_FAILURE;
	}
	/* Wait until it has closed its sessions and removed the socket (a
	 * session still connecting may take SSH's connect timeout). */
	if (broker_client_wait_gone(
		BROKER_STOP_WAIT_MS, broker_cmd_stop_slow, NULL, &cause) != 0) {
		fprintf(stderr, "rdev-broker: stop: %s\n", cause);
		free(cause);
		return CMD_EXIT_FAILURE;
	}
	printf("stopped\n");
	return CMD_EXIT_OK;
}

/* Stop the running broker (its forwards and syncs saved), then start one
 * from this install: the way to switch to a new build at once. */
int
broker_cmd_restart(int argc, char **argv)
{
	struct broker_daemon_opts o;
	cJSON *r = NULL;
	char *cause = NULL, *path;
	int rc, already, systemd;
	pid_t pid;

	if ((rc = broker_cmd_start_opts("restart", 0, argc, argv, &o)) != 0)
		return rc;
	/* A broker of the systemd user unit: a start from here would run
	 * outside the unit (and the unit would start another). */
	if ((path = runtime_dir_file(BROKER_PID_NAME, &cause)) == NULL) {
		fprintf(stderr, "rdev-broker: restart: %s\n", cause);
		free(cause);
		return CMD_EXIT_FAILURE;
	}
	rc = broker_stale_pid_read(path, &pid, &systemd);
	free(path);
	if (rc == 0 && systemd) {
		fprintf(stderr,
		    "rdev-broker: restart: the broker (pid %ld) runs under systemd: "
		    "`systemctl --user restart rdev-broker`\n",
		    (long)pid);
		return CMD_EXIT_FAILURE;
	}
	rc = broker_cmd_request("stop", NULL, &r, &cause);
	cJSON_Delete(r);
	if (rc < 0) {
		fprintf(stderr, "rdev-broker: restart: %s\n", cause);
		free(cause);
		return CMD_EXIT_FAILURE;
	}
	free(cause);
	cause = NULL;
	if (rc == 0) {
		fprintf(stderr,
		    "rdev-broker: restart: waiting for the running broker "
		    "to close its sessions\n");
		if (broker_client_wait_gone(BROKER_STOP_WAIT_MS, NULL, NULL, &cause) !=
		    0) {
			fprintf(stderr, "rdev-broker: restart: %s\n", cause);
			free(cause);
			return CMD_EXIT_FAILURE;
		}
	}
	if (broker_daemon_start(&o, &already, &cause) != 0) {
		fprintf(stderr, "rdev-broker: restart: %s\n", cause);
		free(cause);
		return CMD_EXIT_FAILURE;
	}
	if (already) {
		/* (an rdev command's autostart came first: the build of its
		 * path, which `rdev-broker status` shows) */
		printf("%s; another command started a broker meanwhile\n",
		    rc == 0 ? "stopped" : "none was running");
		return CMD_EXIT_OK;
	}
	printf("%s\n", rc == 0 ? "restarted" : "started (none was running)");
	return CMD_EXIT_OK;
}
