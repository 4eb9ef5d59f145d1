/* run-args-net.c - the runArgs options of the container's network: --add-host,
 * --dns, --dns-search, --network, --network-alias, --ip, --ip6,
 * --link-local-ip, --link and --mac-address (run-args-internal.h; the
 * endpoint options land in NetworkingConfig in run_args_net_finish). */
#include "run-args-internal.h"

#include <arpa/inet.h>
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

/* --ip, --ip6: checked as the daemon checks an endpoint's IPAM addresses
 * (moby's EndpointIPAMConfig.Validate: net.ParseIP, the right family, not
 * unspecified; the docker 28 CLI sends them unchecked, and the daemon
 * refuses a bad one only at create, after the build). */
int
run_args_ip_addr(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff,
		0xff };
	static const unsigned char zero[16];
	unsigned char a[16];
	char norm[64];
	int v6 = strcmp(f->name, "ip6") == 0;

	/* Empty is no address (the CLI's string flag), a last one included. */
	if (*v == '\0') {
		free(v6 ? st->ipv6 : st->ipv4);
		if (v6)
			st->ipv6 = NULL;
		else
			st->ipv4 = NULL;
		return 0;
	}
	/* (net.ParseIP's IPv4 forms, "::ffff:10.0.0.1" too; never the
	 * unspecified address, which the daemon refuses at create) */
	if (!v6 &&
	    (run_args_ip(v, norm, sizeof norm) != 0 || strchr(norm, ':') != NULL ||
		strcmp(norm, "0.0.0.0") == 0))
		return error_set(cause, "invalid IPv4 address: %s", v);
	if (v6 &&
	    (inet_pton(AF_INET6, v, a) != 1 || memcmp(a, mapped, 12) == 0 ||
		memcmp(a, zero, sizeof zero) == 0))
		return error_set(cause, "invalid IPv6 address: %s", v);
	free(v6 ? st->ipv6 : st->ipv4);
	if (v6)
		st->ipv6 = xstrdup(v);
	else
		st->ipv4 = xstrdup(v);
	return 0;
}

int
run_args_link_local(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause)
{
	char norm[64];

	if (run_args_ip(v, norm, sizeof norm) != 0 || strcmp(norm, "0.0.0.0") == 0 ||
	    strcmp(norm, "::") == 0)
		return error_set(cause, "invalid link-local IP address: %s", v);
	if (st->link_local == NULL)
		st->link_local = cJSON_CreateArray();
	cJSON_AddItemToArray(st->link_local, cJSON_CreateString(v));
	return 0;
}

/* --link name[:alias] (docker's ParseLink): HostConfig.Links, and the
 * endpoint's Links on a user-defined network (run_args_net_finish). */
int
run_args_link(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause)
{
	const char *c = strchr(v, ':');

	if (*v == '\0')
		return error_set(cause, "empty string specified for links");
	if (c != NULL && strchr(c + 1, ':') != NULL)
		return error_set(cause, "bad format for links: %s", v);
	run_args_append(run_args_host(st), "Links", v);
	if (st->links == NULL)
		st->links = cJSON_CreateArray();
	cJSON_AddItemToArray(st->links, cJSON_CreateString(v));
	return 0;
}

/* n hex digits at s; 0 if one is not. */
static int
run_args_hex(const char *s, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

/* Go's net.ParseMAC: 6, 8 or 20 octets as aa:bb:.., aa-bb-.. or
 * aabb.ccdd.eeff. */
static int
run_args_mac_valid(const char *s, size_t len)
{
	size_t n, i;
	char sep;

	if (len < 14)
		return 0;
	if (s[2] == ':' || s[2] == '-') {
		if ((len + 1) % 3 != 0)
			return 0;
		n = (len + 1) / 3;
		sep = s[2];
		for (i = 0; i < n; i++)
			if (!run_args_hex(s + 3 * i, 2) ||
			    (i + 1 < n && s[3 * i + 2] != sep))
				return 0;
	} else if (s[4] == '.') {
		if ((len + 1) % 5 != 0)
			return 0;
		n = 2 * (len + 1) / 5;
		for (i = 0; i < n / 2; i++)
			if (!run_args_hex(s + 5 * i, 4) ||
			    (i + 1 < n / 2 && s[5 * i + 4] != '.'))
				return 0;
	} else
		return 0;
	return n == 6 || n == 8 || n == 20;
}

/* --mac-address: Config.MacAddress, the field of API 1.41 that rdev speaks.
 * (The docker 28 CLI puts it in the endpoint instead, and so refuses it
 * against a daemon older than API 1.44; docker 24's CLI set this field.)
 * Checked with surrounding blanks trimmed, sent as given, as the CLI does. */
int
run_args_mac(
    struct run_args *st, const struct run_args_flag *f, const char *v, char **cause)
{
	const char *s = v;
	size_t len;

	/* Empty is no address (the CLI's string flag), a last one included. */
	if (*v == '\0') {
		cJSON_DeleteItemFromObjectCaseSensitive(st->body, "MacAddress");
		return 0;
	}
	while (isspace((unsigned char)*s))
		s++;
	len = strlen(s);
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	if (!run_args_mac_valid(s, len))
		return error_set(cause, "%s is not a valid mac address", v);
	run_args_set(st->body, "MacAddress", cJSON_CreateString(v));
	return 0;
}

/* docker's NetworkMode.IsUserDefined(). */
static int
run_args_net_user_defined(const char *net)
{
	return strcmp(net, "default") != 0 && strcmp(net, "bridge") != 0 &&
	    strcmp(net, "host") != 0 && strcmp(net, "none") != 0 &&
	    strncmp(net, "container:", 10) != 0;
}

int
run_args_net_finish(struct run_args *st, char **cause)
{
	const char *net = st->network != NULL ? st->network : "default";
	int user = run_args_net_user_defined(net);
	cJSON *ep, *ipam;
	const cJSON *a;

	if (st->aliases != NULL && !user)
		return error_set(cause,
		    "runArgs: network-scoped aliases are only supported "
		    "for user-defined networks");
	/* The daemon's refusal (at start, where the docker CLI meets it). */
	if ((st->ipv4 != NULL || st->ipv6 != NULL) && !user)
		return error_set(cause,
		    "runArgs: --ip/--ip6: user specified IP address is supported on "
		    "user defined networks only (add --network NAME)");
	if (st->aliases == NULL && st->ipv4 == NULL && st->ipv6 == NULL &&
	    st->link_local == NULL && (st->links == NULL || !user))
		return 0;
	ep = run_args_child(st->body, "NetworkingConfig", cJSON_Object);
	ep = run_args_child(ep, "EndpointsConfig", cJSON_Object);
	ep = run_args_child(ep, net, cJSON_Object);
	if (st->ipv4 != NULL || st->ipv6 != NULL || st->link_local != NULL) {
		ipam = run_args_child(ep, "IPAMConfig", cJSON_Object);
		if (st->ipv4 != NULL)
			run_args_set(ipam, "IPv4Address", cJSON_CreateString(st->ipv4));
		if (st->ipv6 != NULL)
			run_args_set(ipam, "IPv6Address", cJSON_CreateString(st->ipv6));
		cJSON_ArrayForEach(a, st->link_local)
			run_args_append(ipam, "LinkLocalIPs", a->valuestring);
	}
	/* On a user-defined network a link is an endpoint option (an alias);
	 * on the default bridge only the legacy HostConfig.Links. */
	if (user)
		cJSON_ArrayForEach(a, st->links)
			run_args_append(ep, "Links", a->valuestring);
	cJSON_ArrayForEach(a, st->aliases)
		run_args_append(ep, "Aliases", a->valuestring);
	return 0;
}
