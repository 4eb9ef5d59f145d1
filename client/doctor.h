/* doctor.h - `rdev doctor`: checks, each ok / warn / FAIL with what was
 * found and, when not ok, the fix.
 *
 * doctor-report.c holds the list and prints it (text, one line a check, or
 * JSON) and gives the exit code; doctor-judge.c turns facts into checks
 * (pure: the broker's probe of a host, its agent's "info", the broker's
 * session, as JSON); doctor-host.c and doctor-local.c gather the facts.
 *
 * Ownership: the report owns its checks and their strings.
 */
#ifndef RDEV_DOCTOR_H
#define RDEV_DOCTOR_H

#include <stdio.h>

#include <cjson/cJSON.h>

/* DOCTOR_INFO: worth saying, nothing to fix (not in the exit status). */
enum doctor_status { DOCTOR_OK, DOCTOR_WARN, DOCTOR_FAIL, DOCTOR_INFO };

/* Exit codes: the worst status found. */
#define DOCTOR_EXIT_OK 0
#define DOCTOR_EXIT_WARN 1
#define DOCTOR_EXIT_FAIL 2

/* Thresholds. */
#define DOCTOR_DISK_WARN_BYTES (5.0 * 1024 * 1024 * 1024) /* free: warn under */
#define DOCTOR_DISK_FAIL_BYTES (1.0 * 1024 * 1024 * 1024) /* free: fail under */
#define DOCTOR_SKEW_WARN_MS 3000			  /* clock skew: warn above */
#define DOCTOR_SHELL_WARN_MS 1000    /* a command through the login shell */
#define DOCTOR_PROBE_TIMEOUT_MS 8000 /* no-argument pool checks: per host */

struct doctor_check {
	char *name;
	enum doctor_status status;
	char *detail;
	char *fix; /* NULL when ok */
};

struct doctor_report {
	struct doctor_check *checks;
	size_t n, cap;
};

/* doctor-report.c */
void doctor_report_init(struct doctor_report *r);
void doctor_report_clear(struct doctor_report *r);
/* Add a check; fix may be NULL (then none is shown); detail is printf-like. */
void doctor_add(struct doctor_report *r, const char *name, enum doctor_status st,
    const char *fix, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* DOCTOR_EXIT_OK, _WARN or _FAIL: the worst check's (info counts as ok). */
int doctor_report_exit(const struct doctor_report *r);
/* One line a check: "ok    NAME  DETAIL", "warn  ...  DETAIL; fix: FIX". */
void doctor_report_print(const struct doctor_report *r, FILE *out);
/* {"subject":S,"status":"ok|warn|fail","checks":[{name,status,detail,fix}]}
 * (fix null when none). New. */
cJSON *doctor_report_json(const struct doctor_report *r, const char *subject);
const char *doctor_status_name(enum doctor_status st);
/* word as a fix's command shows it, quoted for a shell where it needs to be
 * (SHELL_QUOTE_HINT, as `rdev up`'s hints): a fix is pasted as typed. New
 * string (caller frees). */
char *doctor_quote(const char *word);

/* doctor-judge.c: facts into checks (docs/CLI.md, "rdev doctor"). */
/* The broker's "probe" of host (as typed); returns 1 when it got in (the
 * agent's checks can follow), 0 not (or the login shell prints to stdout:
 * no agent can be talked to through it). */
int doctor_judge_probe(struct doctor_report *r, const char *host, const cJSON *probe);
/* The agent's "info" answer, asked at local time mid_ms (ms since the
 * epoch, halfway through the request); client_version is ours; installed:
 * the probe's "agentsInstalled" (what was there before this run; may be
 * NULL). */
void doctor_judge_info(struct doctor_report *r, const char *host, const cJSON *info,
    double mid_ms, const char *client_version, const cJSON *installed);
/* The broker's session with the host ("sessions" entry of its status; NULL
 * when none): the agent and stream-local forwarding. */
void doctor_judge_session(struct doctor_report *r, const cJSON *session);

/* doctor-host.c: every check of host (a TARGET or [user@]host[:port] or an
 * alias). accept_new: record an unknown host key. */
void doctor_host(struct doctor_report *r, const char *arg, int accept_new);

/* doctor-local.c: this machine's checks (broker, local Docker, config
 * files, the pool's hosts). */
void doctor_local(struct doctor_report *r);

#endif
