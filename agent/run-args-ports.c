/* run-args-ports.c - the runArgs options that publish and expose ports:
 * -p/--publish and --expose, into ExposedPorts and HostConfig.PortBindings,
 * with an index of the body's ports (run-args-internal.h). */
#include "run-args-internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "xmalloc.h"

/* Which ports ExposedPorts has and where each port's PortBindings list is,
 * so that a range of 65536 ports costs no more than 65536 additions. Built
 * from the body on first use; only -p and --expose change these fields. */
#define RUN_ARGS_PROTOS 3
struct run_args_ports {
	cJSON *exposed;
	cJSON *bindings;
	unsigned char is_exposed[RUN_ARGS_PROTOS][65536 / 8];
	cJSON **lists[RUN_ARGS_PROTOS]; /* port -> PortBindings array */
};

/* go-connections parsePortRange: "N" or "N-M" (0-65535, M >= N). */
static int
run_args_port_range(const char *s, int *start, int *end)
{
	const char *dash = strchr(s, '-');
	char *a;
	int64_t n, m;
	int rc, same;

	if (!isdigit((unsigned char)*s) ||
	    (dash != NULL && !isdigit((unsigned char)dash[1])))
		return -1; /* digits only: no sign */
	a = dash != NULL ? xstrndup(s, (size_t)(dash - s)) : xstrdup(s);
	rc = run_args_parse_int(a, 10, &n);
	same = dash != NULL && strcmp(a, dash + 1) == 0;
	free(a);
	if (rc != 0 || n < 0 || n > 65535)
		return -1;
	*start = *end = (int)n;
	if (dash == NULL || same)
		return 0;
	if (run_args_parse_int(dash + 1, 10, &m) != 0 || m < 0 || m > 65535 || m < n)
		return -1;
	*end = (int)m;
	return 0;
}

static const char *run_args_proto_names[RUN_ARGS_PROTOS] = { "tcp", "udp", "sctp" };

static int
run_args_proto(const char *p)
{
	int i;

	for (i = 0; i < RUN_ARGS_PROTOS; i++)
		if (strcmp(p, run_args_proto_names[i]) == 0)
			return 1;
	return 0;
}

/* "80/tcp" -> port 80, proto index 0, if the key is in canonical form. */
static int
run_args_port_key(const char *key, int *port, int *proto)
{
	char *end, buf[32];
	long n;
	int i;

	if (!isdigit((unsigned char)*key))
		return -1;
	n = strtol(key, &end, 10);
	if (*end != '/' || n < 0 || n > 65535)
		return -1;
	for (i = 0; i < RUN_ARGS_PROTOS; i++) {
		snprintf(buf, sizeof buf, "%ld/%s", n, run_args_proto_names[i]);
		if (strcmp(buf, key) == 0) {
			*port = (int)n;
			*proto = i;
			return 0;
		}
	}
	return -1;
}

static struct run_args_ports *
run_args_ports(struct run_args *st)
{
	struct run_args_ports *p = st->ports;
	cJSON *e, *next;
	int port, proto;

	if (p != NULL)
		return p;
	p = st->ports = xcalloc(1, sizeof *p);
	p->exposed = run_args_child(st->body, "ExposedPorts", cJSON_Object);
	cJSON_ArrayForEach(e, p->exposed)
		if (run_args_port_key(e->string, &port, &proto) == 0)
			p->is_exposed[proto][port / 8] |= 1 << (port % 8);
	/* PortBindings is created when a port is published (not for --expose). */
	e = cJSON_GetObjectItemCaseSensitive(st->body, "HostConfig");
	e = cJSON_IsObject(e) ? cJSON_GetObjectItemCaseSensitive(e, "PortBindings")
			      : NULL;
	if (!cJSON_IsObject(e))
		return p;
	p->bindings = e;
	for (e = p->bindings->child; e != NULL; e = next) {
		next = e->next;
		if (run_args_port_key(e->string, &port, &proto) != 0)
			continue;
		if (!cJSON_IsArray(e)) {
			/* Not a list of bindings: dropped, as run_args_child would. */
			cJSON_Delete(cJSON_DetachItemViaPointer(p->bindings, e));
			continue;
		}
		if (p->lists[proto] == NULL)
			p->lists[proto] = xcalloc(65536, sizeof *p->lists[proto]);
		if (p->lists[proto][port] == NULL)
			p->lists[proto][port] = e;
	}
	return p;
}

void
run_args_ports_free(struct run_args_ports *p)
{
	int i;

	if (p == NULL)
		return;
	for (i = 0; i < RUN_ARGS_PROTOS; i++)
		free(p->lists[i]);
	free(p);
}

static int
run_args_proto_index(const char *proto)
{
	int i;

	for (i = 0; i < RUN_ARGS_PROTOS; i++)
		if (strcmp(proto, run_args_proto_names[i]) == 0)
			return i;
	return 0;
}

/* Add port/proto to ExposedPorts unless it is there. */
static void
run_args_expose_port(struct run_args *st, int port, const char *proto)
{
	struct run_args_ports *p = run_args_ports(st);
	int pi = run_args_proto_index(proto);
	char key[32];

	if (p->is_exposed[pi][port / 8] & (1 << (port % 8)))
		return;
	p->is_exposed[pi][port / 8] |= 1 << (port % 8);
	snprintf(key, sizeof key, "%d/%s", port, proto);
	cJSON_AddItemToObject(p->exposed, key, cJSON_CreateObject());
}

/* Append a binding to PortBindings["port/proto"]. */
static void
run_args_bind_port(struct run_args *st, int port, const char *proto, const char *ip,
    const char *host_port)
{
	struct run_args_ports *p = run_args_ports(st);
	int pi = run_args_proto_index(proto);
	cJSON *b = cJSON_CreateObject(), *list;
	char key[32];

	if (p->bindings == NULL)
		p->bindings =
		    run_args_child(run_args_host(st), "PortBindings", cJSON_Object);
	if (p->lists[pi] == NULL)
		p->lists[pi] = xcalloc(65536, sizeof *p->lists[pi]);
	if ((list = p->lists[pi][port]) == NULL) {
		snprintf(key, sizeof key, "%d/%s", port, proto);
		list = p->lists[pi][port] = cJSON_CreateArray();
		cJSON_AddItemToObject(p->bindings, key, list);
	}
	cJSON_AddStringToObject(b, "HostIp", ip);
	cJSON_AddStringToObject(b, "HostPort", host_port);
	cJSON_AddItemToArray(list, b);
}

/* Split "port[/proto]": *port and *proto are new strings (proto lower-case,
 * "tcp" by default). */
static void
run_args_split_proto(const char *s, char **port, char **proto)
{
	const char *slash = strchr(s, '/');
	char *p;

	*port = slash != NULL ? xstrndup(s, (size_t)(slash - s)) : xstrdup(s);
	*proto = xstrdup(slash != NULL && slash[1] != '\0' ? slash + 1 : "tcp");
	for (p = *proto; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
}

/* -p published=8080,target=80[,protocol=udp] -> "8080:80/udp" (docker's
 * convertToStandardNotation). New string or NULL with *cause. */
static char *
run_args_publish_long(const char *v, char **cause)
{
	char *copy = xstrdup(v), *field, *next, *eq, *out;
	const char *published = "", *target = "", *protocol = "tcp";

	for (field = copy; field != NULL; field = next) {
		if ((next = strchr(field, ',')) != NULL)
			*next++ = '\0';
		if ((eq = strchr(field, '=')) == NULL || eq == field) {
			error_set(cause,
			    "invalid publish opts format (should be name=value "
			    "but got '%s')",
			    field);
			free(copy);
			return NULL;
		}
		*eq++ = '\0';
		if (strcmp(field, "published") == 0)
			published = eq;
		else if (strcmp(field, "target") == 0)
			target = eq;
		else if (strcmp(field, "protocol") == 0)
			protocol = eq;
	}
	out = xasprintf("%s:%s/%s", published, target, protocol);
	free(copy);
	return out;
}

/* -p [ip:][hostPort:]containerPort[/proto] (go-connections ParsePortSpec):
 * ExposedPorts and PortBindings, one binding per port of a range. */
int
run_args_publish(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause)
{
	char *spec, *ip = NULL, *host = NULL, *cport = NULL, *proto = NULL, *c, *hp;
	char *last, *prev, norm[64];
	int start, end, hstart = 0, hend = 0, i, rc = -1;
	size_t iplen;

	if (strchr(v, '=') != NULL) {
		if ((spec = run_args_publish_long(v, cause)) == NULL)
			return -1;
	} else
		spec = xstrdup(v);
	last = strrchr(spec, ':');
	if (last == NULL) {
		c = xstrdup(spec);
	} else {
		c = xstrdup(last + 1);
		*last = '\0';
		prev = strrchr(spec, ':');
		if (prev == NULL)
			host = xstrdup(spec);
		else {
			host = xstrdup(prev + 1);
			*prev = '\0';
			ip = xstrdup(spec);
		}
	}
	run_args_split_proto(c, &cport, &proto);
	free(c);
	if (*cport == '\0') {
		error_set(cause, "no port specified: %s<empty>", v);
		goto out;
	}
	if (!run_args_proto(proto)) {
		error_set(cause, "invalid proto: %s", proto);
		goto out;
	}
	if (ip != NULL && ip[0] == '[') {
		iplen = strlen(ip);
		if (iplen < 2 || ip[iplen - 1] != ']') {
			error_set(cause, "invalid IP address %s", ip);
			goto out;
		}
		memmove(ip, ip + 1, iplen - 2);
		ip[iplen - 2] = '\0';
	}
	if (ip != NULL && *ip != '\0' && run_args_ip(ip, norm, sizeof norm) != 0) {
		error_set(cause, "invalid IP address: %s", ip);
		goto out;
	}
	if (run_args_port_range(cport, &start, &end) != 0) {
		error_set(cause, "invalid containerPort: %s", cport);
		goto out;
	}
	if (host != NULL && *host != '\0') {
		if (run_args_port_range(host, &hstart, &hend) != 0) {
			error_set(cause, "invalid hostPort: %s", host);
			goto out;
		}
		if (end - start != hend - hstart && end != start) {
			error_set(cause,
			    "invalid ranges specified for container and host "
			    "Ports: %s and %s",
			    cport, host);
			goto out;
		}
	}
	for (i = 0; i <= end - start; i++) {
		if (host == NULL || *host == '\0')
			hp = xstrdup("");
		else if (start == end && hstart != hend)
			hp = xasprintf("%d-%d", hstart, hend);
		else
			hp = xasprintf("%d", hstart + i);
		run_args_expose_port(st, start + i, proto);
		run_args_bind_port(st, start + i, proto, ip != NULL ? ip : "", hp);
		free(hp);
	}
	rc = 0;
out:
	free(spec);
	free(ip);
	free(host);
	free(cport);
	free(proto);
	return rc;
}

int
run_args_expose(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause)
{
	char *port, *proto;
	int start, end, i, rc = -1;

	run_args_split_proto(v, &port, &proto);
	if (!run_args_proto(proto) || run_args_port_range(port, &start, &end) != 0) {
		error_set(cause, "invalid range format for --expose: %s", v);
		goto out;
	}
	for (i = start; i <= end; i++)
		run_args_expose_port(st, i, proto);
	rc = 0;
out:
	free(port);
	free(proto);
	return rc;
}
