/* run-args-health.c - the runArgs options of the container's healthcheck:
 * --health-cmd, --health-interval, --health-timeout, --health-start-period,
 * --health-retries and --no-healthcheck, made into Config.Healthcheck once
 * all options are seen, as the docker CLI's parse() does
 * (run-args-internal.h). */
#include "run-args-internal.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "xmalloc.h"

struct run_args_health {
	char *cmd;
	int64_t interval; /* nanoseconds, as the API has them */
	int64_t timeout;
	int64_t start_period;
	int64_t retries;
	int none; /* --no-healthcheck */
	/* runArgs index of the option that set interval, timeout, retries,
	 * start_period: a negative value is refused once all are seen (the
	 * last one given counts, as in the CLI). */
	int at[4];
};

static const char *run_args_health_names[] = { "--health-interval", "--health-timeout",
	"--health-retries", "--health-start-period" };

static const char *run_args_health_fields[] = { "Interval", "Timeout", "Retries",
	"StartPeriod" };

/* One unit of a Go duration: its name and its length in nanoseconds. */
static const struct {
	const char *name;
	int64_t ns;
} run_args_units[] = { { "ns", 1 }, { "us", 1000 }, { "\xc2\xb5s", 1000 },
	{ "\xce\xbcs", 1000 }, { "ms", 1000000 }, { "s", 1000000000LL },
	{ "m", 60000000000LL }, { "h", 3600000000000LL }, { NULL, 0 } };

/* Go's time.ParseDuration ("1m30s", "1.5h", "500ms", "0"; a number needs a
 * unit) into nanoseconds, over int64's whole range as Go's (2562047h47m16.
 * 854775807s; run_args_number sends what a double would round as its
 * digits), and refused beyond it as Go refuses it ("time: invalid
 * duration"), with Go's checks in Go's order: the number before the unit
 * may reach 2^63 (a negative duration's), a fraction's digits past what
 * fits are dropped, and the sum is checked after each unit. */
static int
run_args_duration(const char *s, int64_t *out, char **cause)
{
	const uint64_t top = (uint64_t)1 << 63;
	const char *p = s, *u;
	uint64_t d = 0, v, f, unit;
	double scale;
	size_t ulen;
	int neg = 0, digits, overflow, i;

	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	if (strcmp(p, "0") == 0) {
		*out = 0;
		return 0;
	}
	if (*p == '\0')
		goto invalid;
	while (*p != '\0') {
		v = f = 0;
		scale = 1;
		digits = 0;
		if (!(*p >= '0' && *p <= '9') && *p != '.')
			goto invalid;
		for (; *p >= '0' && *p <= '9'; p++, digits++) {
			/* (Go's leadingInt) */
			if (v > top / 10)
				goto invalid;
			v = v * 10 + (uint64_t)(*p - '0');
			if (v > top)
				goto invalid;
		}
		if (*p == '.')
			for (p++, overflow = 0; *p >= '0' && *p <= '9'; p++, digits++) {
				/* (Go's leadingFraction) */
				if (overflow)
					continue;
				if (f > (top - 1) / 10 ||
				    f * 10 + (uint64_t)(*p - '0') > top) {
					overflow = 1;
					continue;
				}
				f = f * 10 + (uint64_t)(*p - '0');
				scale *= 10;
			}
		if (digits == 0)
			goto invalid;
		for (u = p; *p != '\0' && *p != '.' && !(*p >= '0' && *p <= '9'); p++)
			;
		ulen = (size_t)(p - u);
		if (ulen == 0)
			return error_set(
			    cause, "time: missing unit in duration \"%s\"", s);
		unit = 0;
		for (i = 0; run_args_units[i].name != NULL; i++)
			if (strlen(run_args_units[i].name) == ulen &&
			    strncmp(run_args_units[i].name, u, ulen) == 0)
				unit = (uint64_t)run_args_units[i].ns;
		if (unit == 0)
			return error_set(cause,
			    "time: unknown unit \"%.*s\" in duration \"%s\"", (int)ulen,
			    u, s);
		if (v > top / unit)
			goto invalid;
		v *= unit;
		if (f > 0) {
			/* (a double, as Go's, for a fraction of an hour) */
			v += (uint64_t)((double)f * ((double)unit / scale));
			if (v > top)
				goto invalid;
		}
		d += v;
		if (d > top)
			goto invalid;
	}
	if (!neg && d > top - 1)
		goto invalid;
	*out = neg ? (d == top ? INT64_MIN : -(int64_t)d) : (int64_t)d;
	return 0;
invalid:
	return error_set(cause, "time: invalid duration \"%s\"", s);
}

int
run_args_health(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause)
{
	struct run_args_health *h;
	int64_t *d = NULL, n;

	if (st->health == NULL)
		st->health = xcalloc(1, sizeof *st->health);
	h = st->health;
	if (strcmp(f->name, "no-healthcheck") == 0) {
		h->none = strcmp(v, "1") == 0;
		return 0;
	}
	if (strcmp(f->name, "health-cmd") == 0) {
		free(h->cmd);
		h->cmd = xstrdup(v);
		return 0;
	}
	if (strcmp(f->name, "health-retries") == 0) {
		if (run_args_parse_int(v, 0, &n) != 0 || n > INT32_MAX || n < INT32_MIN)
			return error_set(cause, "invalid number \"%s\"", v);
		h->retries = n;
		h->at[2] = st->index;
		return 0;
	}
	if (strcmp(f->name, "health-interval") == 0) {
		d = &h->interval;
		h->at[0] = st->index;
	} else if (strcmp(f->name, "health-timeout") == 0) {
		d = &h->timeout;
		h->at[1] = st->index;
	} else {
		d = &h->start_period;
		h->at[3] = st->index;
	}
	if (run_args_duration(v, &n, cause) != 0)
		return -1;
	*d = n;
	return 0;
}

int
run_args_health_finish(struct run_args *st, char **cause)
{
	struct run_args_health *h = st->health;
	cJSON *hc, *test;
	int64_t values[4];
	int settings, i;

	if (h == NULL)
		return 0;
	/* As the CLI, a setting of zero is no setting. */
	settings = (h->cmd != NULL && *h->cmd != '\0') || h->interval != 0 ||
	    h->timeout != 0 || h->start_period != 0 || h->retries != 0;
	if (h->none && settings)
		return error_set(
		    cause, "runArgs: --no-healthcheck conflicts with --health-* options");
	if (!h->none && !settings)
		return 0;
	/* In the CLI's order of checks. */
	values[0] = h->interval;
	values[1] = h->timeout;
	values[2] = h->retries;
	values[3] = h->start_period;
	for (i = 0; i < 4 && !h->none; i++)
		if (values[i] < 0)
			return error_set(cause, "runArgs[%d]: %s: cannot be negative",
			    h->at[i], run_args_health_names[i]);
	/* The daemon's refusal at create (after the build, were it left to
	 * it): a duration set must be 1ms at least. */
	for (i = 0; i < 4 && !h->none; i++)
		if (i != 2 && values[i] > 0 && values[i] < 1000000)
			return error_set(cause,
			    "runArgs[%d]: %s: %s in Healthcheck cannot be less than 1ms",
			    h->at[i], run_args_health_names[i],
			    run_args_health_fields[i]);
	hc = cJSON_CreateObject();
	if (h->none || (h->cmd != NULL && *h->cmd != '\0')) {
		test = cJSON_AddArrayToObject(hc, "Test");
		cJSON_AddItemToArray(
		    test, cJSON_CreateString(h->none ? "NONE" : "CMD-SHELL"));
		if (!h->none)
			cJSON_AddItemToArray(test, cJSON_CreateString(h->cmd));
	}
	if (h->interval != 0)
		cJSON_AddItemToObject(hc, "Interval", run_args_number(h->interval));
	if (h->timeout != 0)
		cJSON_AddItemToObject(hc, "Timeout", run_args_number(h->timeout));
	if (h->start_period != 0)
		cJSON_AddItemToObject(
		    hc, "StartPeriod", run_args_number(h->start_period));
	if (h->retries != 0)
		cJSON_AddItemToObject(hc, "Retries", run_args_number(h->retries));
	run_args_set(st->body, "Healthcheck", hc);
	return 0;
}

void
run_args_health_free(struct run_args_health *h)
{
	if (h == NULL)
		return;
	free(h->cmd);
	free(h);
}
