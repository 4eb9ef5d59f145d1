/* run-args-net.c - the runArgs options of the container's network: --add-host,
 * --dns, --dns-search, --network and --network-alias (run-args-internal.h;
 * the aliases land in NetworkingConfig in run_args_finish, run-args.c). */
#include "run-args-internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "xmalloc.h"

int
run_args_add_host(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause)
{
	const char *sep = strchr(v, '=');
	char *k, *ip, *entry, norm[64];
	size_t len;

	if (sep == NULL)
		sep = strchr(v, ':');
	if (sep == NULL || sep == v || memchr(v, ':', (size_t)(sep - v)) != NULL)
		return error_set(cause, "bad format for add-host: \"%s\"", v);
	k = xstrndup(v, (size_t)(sep - v));
	ip = xstrdup(sep + 1);
	if (strcmp(ip, "host-gateway") != 0) {
		len = strlen(ip);
		if (len > 2 && ip[0] == '[' && ip[len - 1] == ']') {
			memmove(ip, ip + 1, len - 2);
			ip[len - 2] = '\0';
		}
		if (run_args_ip(ip, norm, sizeof norm) != 0) {
			error_set(cause, "invalid IP address in add-host: \"%s\"", ip);
			free(k);
			free(ip);
			return -1;
		}
	}
	entry = xasprintf("%s:%s", k, ip);
	run_args_append(run_args_host(st), "ExtraHosts", entry);
	free(entry);
	free(k);
	free(ip);
	return 0;
}

int
run_args_dns(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause)
{
	char norm[64], *trimmed;
	size_t len;
	int rc;

	while (*v == ' ' || *v == '\t' || *v == '\n' || *v == '\r')
		v++;
	len = strlen(v);
	while (len > 0 &&
	    (v[len - 1] == ' ' || v[len - 1] == '\t' || v[len - 1] == '\n' ||
		v[len - 1] == '\r'))
		len--;
	trimmed = xstrndup(v, len);
	rc = run_args_ip(trimmed, norm, sizeof norm);
	free(trimmed);
	if (rc != 0)
		return error_set(cause, "IP address is not correctly formatted: %s", v);
	run_args_append(run_args_host(st), "Dns", norm);
	return 0;
}

/* docker's ValidateDNSSearch: "." or a domain name (trailing dot dropped). */
int
run_args_dns_search(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause)
{
	const char *p, *label;
	size_t len;
	char *d;
	int alpha = 0;

	while (*v == ' ')
		v++;
	len = strlen(v);
	while (len > 0 && v[len - 1] == ' ')
		len--;
	d = xstrndup(v, len);
	if (strcmp(d, ".") == 0)
		goto ok;
	for (p = d; *p != '\0'; p++)
		if (isalpha((unsigned char)*p))
			alpha = 1;
	if (len > 0 && d[len - 1] == '.')
		d[--len] = '\0';
	for (p = label = d;; p++) {
		if (*p == '.' || *p == '\0') {
			if (p == label || label[0] == '-' || p[-1] == '-')
				alpha = 0;
			if (*p == '\0')
				break;
			label = p + 1;
		} else if (!isalnum((unsigned char)*p) && *p != '-')
			alpha = 0;
	}
	if (!alpha || len >= 255) {
		error_set(cause, "%s is not a valid domain", v);
		free(d);
		return -1;
	}
ok:
	run_args_append(run_args_host(st), "DnsSearch", d);
	free(d);
	return 0;
}

int
run_args_network(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause)
{
	const char *p, *eq;
	int advanced = 0;

	/* docker's test for the advanced syntax: \w+=\w+ anywhere. */
	for (eq = strchr(v, '='); eq != NULL && !advanced; eq = strchr(eq + 1, '='))
		if (eq > v && (isalnum((unsigned char)eq[-1]) || eq[-1] == '_') &&
		    (isalnum((unsigned char)eq[1]) || eq[1] == '_'))
			advanced = 1;
	if (advanced)
		return error_set(cause,
		    "the advanced syntax (name=...,alias=...) is not "
		    "supported by rdev; use --network NAME and --network-alias");
	for (p = v; *p == ' ' || *p == '\t'; p++)
		;
	if (*p == '\0')
		return error_set(cause, "no name set for network");
	if (st->network != NULL && strcmp(st->network, v) != 0)
		return error_set(cause,
		    "only one network is supported by rdev (already "
		    "\"%s\")",
		    st->network);
	free(st->network);
	st->network = xstrdup(v);
	run_args_set(run_args_host(st), "NetworkMode", cJSON_CreateString(v));
	return 0;
}

int
run_args_alias(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause)
{
	if (st->aliases == NULL)
		st->aliases = cJSON_CreateArray();
	cJSON_AddItemToArray(st->aliases, cJSON_CreateString(v));
	return 0;
}
