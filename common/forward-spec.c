/* forward-spec.c - forward specs (forward-spec.h). */
#include "forward-spec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error.h"
#include "xmalloc.h"

static int
forward_parse_port(const char *text, int *port)
{
	char *end;
	long v;

	if (*text < '0' || *text > '9')
		return -1;
	v = strtol(text, &end, 10);
	if (*end != '\0' || v < 1 || v > 65535)
		return -1;
	*port = (int)v;
	return 0;
}

static int
forward_service_ok(const char *s)
{
	if (*s == '\0' || *s == '-')
		return 0;
	for (; *s != '\0'; s++) {
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
			(*s >= '0' && *s <= '9') || *s == '-' || *s == '_' || *s == '.'))
			return 0;
	}
	return 1;
}

int
forward_spec_parse(const char *text, struct forward_spec *s, char **cause)
{
	char *copy = xstrdup(text), *parts[4];
	int n = 0, rc = -1;
	char *p = copy, *colon, *slash;

	memset(s, 0, sizeof *s);
	while (n < 4) {
		parts[n++] = p;
		if ((colon = strchr(p, ':')) == NULL)
			break;
		*colon = '\0';
		p = colon + 1;
	}
	if (n > 3 || strchr(p, ':') != NULL) {
		error_set(cause,
		    "forward spec '%s': too many ':' (PORT, LOCAL:PORT, "
		    "SERVICE:PORT or LOCAL:SERVICE:PORT)",
		    text);
		goto out;
	}
	/* PORT/PROTO, as Docker writes ports (3000/tcp): TCP is what is
	 * forwarded; UDP would be a port "not a port" without this */
	if ((slash = strchr(parts[n - 1], '/')) != NULL) {
		/* (a protocol other than tcp: said so; anything else after the
		 * slash, "3000/" or "abc/x/y", is "not a port" below) */
		if (strcasecmp(slash + 1, "tcp") != 0 && slash[1] != '\0' &&
		    strspn(slash + 1,
			"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") ==
			strlen(slash + 1) &&
		    parts[n - 1][strspn(parts[n - 1], "0123456789")] == '/') {
			error_set(cause,
			    "forward spec '%s': only TCP is forwarded ('%s' is not "
			    "PORT or PORT/tcp)",
			    text, parts[n - 1]);
			goto out;
		}
		if (strcasecmp(slash + 1, "tcp") == 0)
			*slash = '\0';
	}
	if (forward_parse_port(parts[n - 1], &s->port) != 0) {
		error_set(cause, "forward spec '%s': '%s' is not a port (1-65535)", text,
		    parts[n - 1]);
		goto out;
	}
	if (n == 2) {
		if (forward_parse_port(parts[0], &s->local_port) == 0)
			s->require_local = 1;
		else if (parts[0][strspn(parts[0], "0123456789")] == '\0') {
			/* all digits: a local port out of range, not a service */
			error_set(cause,
			    "forward spec '%s': '%s' is not a local port (1-65535)", text,
			    parts[0]);
			goto out;
		} else if (forward_service_ok(parts[0]))
			s->service = xstrdup(parts[0]);
		else {
			error_set(cause,
			    "forward spec '%s': '%s' is neither a local port "
			    "nor a service name",
			    text, parts[0]);
			goto out;
		}
	} else if (n == 3) {
		if (forward_parse_port(parts[0], &s->local_port) != 0) {
			error_set(cause, "forward spec '%s': '%s' is not a local port",
			    text, parts[0]);
			goto out;
		}
		if (!forward_service_ok(parts[1])) {
			error_set(cause, "forward spec '%s': '%s' is not a service name",
			    text, parts[1]);
			goto out;
		}
		s->require_local = 1;
		s->service = xstrdup(parts[1]);
	}
	rc = 0;
out:
	free(copy);
	if (rc != 0)
		forward_spec_clear(s);
	return rc;
}

void
forward_spec_clear(struct forward_spec *s)
{
	free(s->service);
	free(s->label);
	memset(s, 0, sizeof *s);
}

char *
forward_spec_string(int local_port, const char *service, int port)
{
	if (service != NULL)
		return xasprintf("%d:%s:%d", local_port, service, port);
	return xasprintf("%d:%d", local_port, port);
}

/* One portsAttributes entry that matches a port, for the order of
 * forward_port_attributes: its port (a range's first), then JavaScript's
 * key order (array-index keys first), then its place in the object. */
struct forward_port_match {
	const cJSON *entry;
	long value;
	int exact;
	int js_rank;
	size_t place;
};

static int
forward_port_match_cmp(const void *a, const void *b)
{
	const struct forward_port_match *x = a, *y = b;

	if (x->value != y->value)
		return x->value < y->value ? -1 : 1;
	if (x->js_rank != y->js_rank)
		return x->js_rank - y->js_rank;
	return x->place < y->place ? -1 : x->place > y->place;
}

/* The digits at *p as a number (65536 for any above 65535), *p moved past
 * them; -1 when there are none. */
static long
forward_port_digits(const char **p)
{
	long v = 0;
	int any = 0;

	for (; **p >= '0' && **p <= '9'; (*p)++, any = 1)
		v = v > 65535 ? 65536 : v * 10 + (**p - '0');
	return any ? (v > 65535 ? 65536 : v) : -1;
}

int
forward_port_key_parse(const char *key, long *from, long *to)
{
	const char *p = key;

	if ((*from = forward_port_digits(&p)) < 0)
		return -1;
	if (*p == '\0') {
		*to = *from;
		return 1;
	}
	if (*p++ != '-' || (*to = forward_port_digits(&p)) < 0 || *p != '\0')
		return -1;
	return 0;
}

/* Does key match port? 1 (*exact: a port number, else a "FROM-TO" range
 * holding it; *value: the number or FROM), or 0 (also for a key that is
 * neither: a process command line, "host:port"). */
static int
forward_port_key_matches(const char *key, int port, int *exact, long *value)
{
	long from, to;
	int kind = forward_port_key_parse(key, &from, &to);

	if (kind < 0)
		return 0;
	*exact = kind;
	*value = from;
	return port >= from && port <= to;
}

/* Is key an array index to JavaScript (its objects list those first)? */
static int
forward_port_key_is_index(const char *key)
{
	return *key != '\0' && strspn(key, "0123456789") == strlen(key) &&
	    (key[0] != '0' || key[1] == '\0') && strlen(key) <= 9;
}

static const char *
forward_port_attr_string(const cJSON *attrs, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(attrs, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int
forward_port_attr_bool(const cJSON *attrs, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(attrs, name);

	return cJSON_IsBool(v) ? cJSON_IsTrue(v) : -1;
}

/* Each attribute set: a from the entry over what is there (exact), or
 * only where nothing is yet (range). */
static void
forward_port_attrs_take(struct forward_port_attrs *a, const cJSON *e, int exact)
{
	const char *label = forward_port_attr_string(e, "label");
	const char *action = forward_port_attr_string(e, "onAutoForward");
	const char *protocol = forward_port_attr_string(e, "protocol");
	int elevate = forward_port_attr_bool(e, "elevateIfNeeded");

	if (exact) {
		a->label = label != NULL ? label : a->label;
		a->on_auto_forward = action != NULL ? action : a->on_auto_forward;
		a->elevate_if_needed = elevate >= 0 ? elevate : a->elevate_if_needed;
		/* (these two as they are, said or not) */
		a->require_local_port = forward_port_attr_bool(e, "requireLocalPort");
		a->protocol = protocol;
	} else {
		a->label = a->label != NULL ? a->label : label;
		a->on_auto_forward =
		    a->on_auto_forward != NULL ? a->on_auto_forward : action;
		a->elevate_if_needed =
		    a->elevate_if_needed >= 0 ? a->elevate_if_needed : elevate;
		/* (a range never says requireLocalPort) */
		a->protocol = a->protocol != NULL ? a->protocol : protocol;
	}
}

static int
forward_port_attrs_said(const struct forward_port_attrs *a)
{
	return a->label != NULL || a->on_auto_forward != NULL || a->protocol != NULL ||
	    a->require_local_port >= 0 || a->elevate_if_needed >= 0;
}

void
forward_port_attributes(const cJSON *ports_attributes,
    const cJSON *other_ports_attributes, int port, struct forward_port_attrs *out)
{
	struct forward_port_match *m = NULL;
	size_t n = 0, cap = 0, place = 0, i;
	const cJSON *e;
	long value;
	int exact;

	memset(out, 0, sizeof *out);
	out->require_local_port = out->elevate_if_needed = -1;
	cJSON_ArrayForEach(e, ports_attributes) {
		place++;
		if (e->string == NULL || !cJSON_IsObject(e) ||
		    !forward_port_key_matches(e->string, port, &exact, &value))
			continue;
		if (n == cap) {
			cap = cap == 0 ? 4 : cap * 2;
			m = xreallocarray(m, cap, sizeof *m);
		}
		m[n++] = (struct forward_port_match){ e, value, exact,
			!forward_port_key_is_index(e->string), place };
	}
	if (n > 1)
		qsort(m, n, sizeof *m, forward_port_match_cmp);
	for (i = 0; i < n; i++)
		forward_port_attrs_take(out, m[i].entry, m[i].exact);
	free(m);
	if (!forward_port_attrs_said(out) && cJSON_IsObject(other_ports_attributes)) {
		out->label = forward_port_attr_string(other_ports_attributes, "label");
		out->on_auto_forward =
		    forward_port_attr_string(other_ports_attributes, "onAutoForward");
		out->protocol =
		    forward_port_attr_string(other_ports_attributes, "protocol");
		out->require_local_port =
		    forward_port_attr_bool(other_ports_attributes, "requireLocalPort");
		out->elevate_if_needed =
		    forward_port_attr_bool(other_ports_attributes, "elevateIfNeeded");
	}
}
