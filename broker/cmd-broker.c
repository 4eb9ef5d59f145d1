/* cmd-broker.c - `rdev-broker start|status|stop`. */
#include "broker.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker-client.h"
#include "daemon.h"
#include "error.h"
#include "runtime-dir.h"
#include "xmalloc.h"

/* How long `stop` waits for the broker to be gone. */
#define BROKER_STOP_WAIT_MS 30000

#define BROKER_DEFAULT_IDLE_S 600

int
broker_cmd_start(int argc, char **argv)
{
	const struct cmd_entry *e = cmd_lookup(&broker_program, "start");
	struct broker_daemon_opts o = { 0, BROKER_DEFAULT_IDLE_S };
	const char *env = getenv("RDEV_BROKER_IDLE_TIMEOUT");
	char *cause = NULL, *end;
	int already, i;

	if (env != NULL && *env != '\0')
		o.idle_timeout_s = (int)strtol(env, NULL, 10);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--foreground") == 0)
			o.foreground = 1;
		else if (strcmp(argv[i], "--idle-timeout") == 0 && i + 1 < argc) {
			o.idle_timeout_s = (int)strtol(argv[++i], &end, 10);
			if (*end != '\0' || o.idle_timeout_s < 1)
				return cmd_usage_error(&broker_program, e,
				    "--idle-timeout wants seconds (>= 1), not %s",
				    argv[i]);
		} else
			return cmd_usage_error(
			    &broker_program, e, "unknown argument %s", argv[i]);
	}
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
 * NULL). 1 if none runs. */
static int
broker_cmd_request(const char *op, cJSON *fields, cJSON **result, char **cause)
{
	struct proto_conn *c;
	cJSON *req;
	int not_running, rc;

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
	return rc;
}

int
broker_cmd_status(int argc, char **argv)
{
	const struct cmd_entry *e = cmd_lookup(&broker_program, "status");
	cJSON *r = NULL, *s;
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

		printf("  %s -> %s: %s, %.0f sent (%.0f bytes)%s%s\n",
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "path")),
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "host")),
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "state")),
		    cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(s, "sent")),
		    cJSON_GetNumberValue(
			cJSON_GetObjectItemCaseSensitive(s, "sentBytes")),
		    err != NULL ? ": " : "", err != NULL ? err : "");
	}
	cJSON_Delete(r);
	return CMD_EXIT_OK;
}

int
broker_cmd_stop(int argc, char **argv)
{
	const struct cmd_entry *e = cmd_lookup(&broker_program, "stop");
	cJSON *r = NULL, *fields = cJSON_CreateObject();
	char *cause = NULL, *path;
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
	if ((path = runtime_dir_file(BROKER_SOCKET_NAME, &cause)) == NULL) {
		fprintf(stderr, "rdev-broker: stop: %s\n", cause);
		free(cause);
		return CMD_EXIT_FAILURE;
	}
	for (i = 0; i < BROKER_STOP_WAIT_MS / 50 && access(path, F_OK) == 0; i++) {
		if (i == 2000 / 50)
			fprintf(stderr,
			    "rdev-broker: stop: waiting for it to close "
			    "its sessions\n");
		usleep(50 * 1000);
	}
	if (access(path, F_OK) == 0) {
		fprintf(stderr,
		    "rdev-broker: stop: still stopping after %d s (its socket %s is "
		    "still there)\n",
		    BROKER_STOP_WAIT_MS / 1000, path);
		free(path);
		return CMD_EXIT_FAILURE;
	}
	free(path);
	printf("stopped\n");
	return CMD_EXIT_OK;
}
