/* doctor-report.c - `rdev doctor`'s list of checks and its output
 * (doctor.h). */
#include "doctor.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "shell-quote.h"
#include "xmalloc.h"

void
doctor_report_init(struct doctor_report *r)
{
	memset(r, 0, sizeof *r);
}

void
doctor_report_clear(struct doctor_report *r)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		free(r->checks[i].name);
		free(r->checks[i].detail);
		free(r->checks[i].fix);
	}
	free(r->checks);
	memset(r, 0, sizeof *r);
}

void
doctor_add(struct doctor_report *r, const char *name, enum doctor_status st,
    const char *fix, const char *fmt, ...)
{
	struct doctor_check *c;
	va_list ap;

	if (r->n == r->cap) {
		r->cap = r->cap != 0 ? r->cap * 2 : 16;
		r->checks = xreallocarray(r->checks, r->cap, sizeof *r->checks);
	}
	c = &r->checks[r->n++];
	c->name = xstrdup(name);
	c->status = st;
	va_start(ap, fmt);
	if (vasprintf(&c->detail, fmt, ap) < 0)
		fatal("out of memory");
	va_end(ap);
	c->fix = fix != NULL && st != DOCTOR_OK ? xstrdup(fix) : NULL;
}

const char *
doctor_status_name(enum doctor_status st)
{
	switch (st) {
	case DOCTOR_OK: return "ok";
	case DOCTOR_WARN: return "warn";
	case DOCTOR_INFO: return "info";
	case DOCTOR_FAIL: break;
	}
	return "fail";
}

static enum doctor_status
doctor_report_worst(const struct doctor_report *r)
{
	enum doctor_status worst = DOCTOR_OK;
	size_t i;

	for (i = 0; i < r->n; i++)
		if (r->checks[i].status != DOCTOR_INFO && r->checks[i].status > worst)
			worst = r->checks[i].status;
	return worst;
}

int
doctor_report_exit(const struct doctor_report *r)
{
	switch (doctor_report_worst(r)) {
	case DOCTOR_OK:
	case DOCTOR_INFO: return DOCTOR_EXIT_OK;
	case DOCTOR_WARN: return DOCTOR_EXIT_WARN;
	case DOCTOR_FAIL: break;
	}
	return DOCTOR_EXIT_FAIL;
}

void
doctor_report_print(const struct doctor_report *r, FILE *out)
{
	static const char *const shown[] = { "ok", "warn", "FAIL", "info" };
	const struct doctor_check *c;
	size_t i, w = 0;

	for (i = 0; i < r->n; i++)
		if (strlen(r->checks[i].name) > w)
			w = strlen(r->checks[i].name);
	for (i = 0; i < r->n; i++) {
		c = &r->checks[i];
		fprintf(out, "%-4s  %-*s  %s%s%s\n", shown[c->status], (int)w, c->name,
		    c->detail, c->fix != NULL ? "; fix: " : "",
		    c->fix != NULL ? c->fix : "");
	}
}

cJSON *
doctor_report_json(const struct doctor_report *r, const char *subject)
{
	cJSON *o = cJSON_CreateObject(), *arr, *e;
	const struct doctor_check *c;
	size_t i;

	if (subject != NULL)
		cJSON_AddStringToObject(o, "subject", subject);
	else
		cJSON_AddNullToObject(o, "subject");
	cJSON_AddStringToObject(o, "status", doctor_status_name(doctor_report_worst(r)));
	arr = cJSON_AddArrayToObject(o, "checks");
	for (i = 0; i < r->n; i++) {
		c = &r->checks[i];
		e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "name", c->name);
		cJSON_AddStringToObject(e, "status", doctor_status_name(c->status));
		cJSON_AddStringToObject(e, "detail", c->detail);
		if (c->fix != NULL)
			cJSON_AddStringToObject(e, "fix", c->fix);
		else
			cJSON_AddNullToObject(e, "fix");
		cJSON_AddItemToArray(arr, e);
	}
	return o;
}

char *
doctor_quote(const char *word)
{
	const char *argv[2] = { word, NULL };

	return shell_quote_argv(argv, SHELL_QUOTE_HINT);
}
