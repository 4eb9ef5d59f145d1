/* forward-spec.c - forward specs (forward-spec.h). */
#include "forward-spec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	char *p = copy, *colon;

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

const cJSON *
forward_port_attributes(
    const cJSON *ports_attributes, const cJSON *other_ports_attributes, int port)
{
	const cJSON *a;
	int from, to;

	cJSON_ArrayForEach(a, ports_attributes) {
		if (a->string == NULL)
			continue;
		if (sscanf(a->string, "%d-%d", &from, &to) == 2) {
			if (port >= from && port <= to)
				return a;
		} else if (strspn(a->string, "0123456789") == strlen(a->string) &&
		    sscanf(a->string, "%d", &from) == 1 && from == port)
			return a;
	}
	return other_ports_attributes;
}
