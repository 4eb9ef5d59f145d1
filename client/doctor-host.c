/* doctor-host.c - `rdev doctor HOST`: the facts of one host, from the
 * broker (a probe of its own SSH connection, then its session's status) and
 * the host's agent ("info"), judged by doctor-judge.c (doctor.h). */
#include "doctor.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "pool-probe.h"
#include "remote.h"
#include "xmalloc.h"

/* Is text [user@]host[:port] (no path)? */
static int
doctor_host_is_bare(const char *text)
{
	const char *p = strchr(text, '@') != NULL ? strchr(text, '@') + 1 : text;
	const char *colon = strchr(p, ':');

	if (*p == '\0' || strchr(p, '/') != NULL || strncmp(text, "ssh://", 6) == 0)
		return 0;
	if (colon == NULL)
		return 1;
	for (colon++; *colon != '\0'; colon++)
		if (!isdigit((unsigned char)*colon))
			return 0;
	return 1;
}

/* arg as a remote target: a host alone, or a TARGET (its host is used). */
static int
doctor_host_target(const char *arg, struct target *t, char **cause)
{
	if (doctor_host_is_bare(arg))
		return pool_probe_target(arg, "~", t, cause);
	if (target_parse(arg, t, cause) != 0)
		return -1;
	if (t->kind != TARGET_SSH) {
		target_clear(t);
		return error_set(cause,
		    "%s is not a remote host or target (give [user@]host[:port], an "
		    "ssh_config alias or HOST:PATH; no argument checks this machine)",
		    arg);
	}
	return 0;
}

static double
doctor_host_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec * 1000 + (double)ts.tv_nsec / 1e6;
}

/* The broker's session with the host labelled label (in st, borrowed), or
 * NULL. */
static const cJSON *
doctor_host_session(const cJSON *st, const char *label)
{
	const cJSON *s;

	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(st, "sessions")) {
		const cJSON *h = cJSON_GetObjectItemCaseSensitive(s, "host");

		if (cJSON_IsString(h) && strcmp(h->valuestring, label) == 0)
			return s;
	}
	return NULL;
}

void
doctor_host(struct doctor_report *r, const char *arg, int accept_new)
{
	struct remote_opts ro = {
		.accept_new_host_key = accept_new, .quiet = 1, .silent = 1, .batch = 1
	};
	struct target t;
	struct remote *rm;
	cJSON *probe = NULL, *info = NULL, *st = NULL, *req;
	char *cause = NULL, *label = NULL;
	double t0 = 0;
	int rc = -1;

	if (doctor_host_target(arg, &t, &cause) != 0) {
		doctor_add(r, "target", DOCTOR_FAIL, NULL, "%s", cause);
		free(cause);
		return;
	}
	ro.target = arg;
	rm = remote_new(&t, &ro);
	if (remote_broker_call(rm, "probe", NULL, &probe, &cause) != 0) {
		doctor_add(r, "broker", DOCTOR_FAIL,
		    "an older broker does not know \"probe\": rdev-broker stop (the "
		    "next command starts this version's); else rdev-broker start "
		    "--foreground shows why it does not answer",
		    "cannot ask the broker: %s", cause);
		goto out;
	}
	if (!doctor_judge_probe(r, t.host, probe))
		goto out;
	/* The session's name, as the broker shows it (ssh-session.h). */
	label = xasprintf("%s@%s:%d",
	    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(probe, "user")), t.host,
	    (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(probe, "port")));
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "op", "info");
	/* connected first: the clock is read from one request's round trip */
	if (remote_connect(rm, &cause) == 0) {
		t0 = doctor_host_now_ms();
		rc = remote_request(rm, req, NULL, &info, NULL, &cause);
	} else
		cJSON_Delete(req);
	if (rc != 0) {
		doctor_add(r, "agent", DOCTOR_FAIL,
		    "rdev-broker status, and broker.log next to its socket, say more",
		    "the agent did not answer: %s", cause);
		goto out;
	}
	doctor_judge_info(r, t.host, info, (t0 + doctor_host_now_ms()) / 2, RDEV_VERSION,
	    cJSON_GetObjectItemCaseSensitive(probe, "agentsInstalled"));
	if (remote_broker_call(NULL, "status", NULL, &st, &cause) != 0) {
		doctor_add(r, "agent", DOCTOR_WARN, NULL, "no broker status: %s", cause);
		goto out;
	}
	doctor_judge_session(r, doctor_host_session(st, label));
out:
	free(cause);
	free(label);
	cJSON_Delete(probe);
	cJSON_Delete(info);
	cJSON_Delete(st);
	remote_free(rm);
	target_clear(&t);
}
